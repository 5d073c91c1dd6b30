// Chapter 4: a TcpServer with a pool of I/O loops. The base loop only
// accepts; each connection is dealt to one I/O loop and lives there: every
// callback, the close and the teardown run in that loop's thread.
#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/CurrentThread.h"
#include "reactor/EventLoop.h"
#include "reactor/EventLoopThreadPool.h"
#include "reactor/TcpServer.h"
#include "s03_tcpserver/tcp_test_support.h"
#include "thread_test_support.h"

namespace {

using reactor::EventLoop;
using reactor::EventLoopThreadPool;
using reactor::TcpConnectionPtr;
using reactor::TcpServer;
using namespace reactor_test;

/// Counts callbacks that ran outside their connection's loop thread, or in
/// the base loop's thread.
class ThreadCheck {
 public:
  explicit ThreadCheck(pid_t baseThread) : baseThread_(baseThread) {}
  void check(const TcpConnectionPtr& conn) {
    if (!conn->getLoop()->isInLoopThread() || reactor::currentThreadId() == baseThread_) ++wrong_;
  }
  int wrong() const { return wrong_; }

 private:
  const pid_t baseThread_;
  std::atomic<int> wrong_{0};
};

/// The I/O loops of a started server, asked in its base loop's thread.
std::vector<EventLoop*> ioLoops(LoopThread& base, EventLoopThreadPool* pool) {
  return base.call([pool] { return pool->getAllLoops(); });
}

/// Lets each I/O loop run what is queued, and what that queued in turn.
void settle(const std::vector<EventLoop*>& loops) {
  for (EventLoop* loop : loops) {
    callInLoop(loop, [] { return 0; });
    callInLoop(loop, [] { return 0; });  // once the batch holding the first has gone
  }
}

/// Lets a close run its course: each I/O loop finishes its handleClose()
/// (which queues the removal), the base loop removes (which queues the
/// teardown), each I/O loop tears down.
void settleClose(LoopThread& base, const std::vector<EventLoop*>& loops) {
  settle(loops);
  base.settle();
  settle(loops);
}

TEST(ServerThreadsTest, FortyConnectionsAreDealtOutTenPerLoopAndServedThere) {
  constexpr int kThreads = 4;
  constexpr int kClients = 40;
  constexpr size_t kBig = 8 * 1024 * 1024;  // past what the kernel takes, for the high-water mark
  LoopThread base;
  ThreadCheck threads(base.tid());
  ConnectionLog log;
  std::atomic<int> messages{0}, writeCompletes{0}, highWaterMarks{0};
  Monitor<std::map<EventLoop*, int>> perLoop;
  TestServer server(base, [&](TcpServer& s) {
    s.setThreadNum(kThreads);
    s.setConnectionCallback([&](const TcpConnectionPtr& conn) {
      threads.check(conn);
      if (conn->connected()) {
        perLoop.update([&](std::map<EventLoop*, int>& m) { ++m[conn->getLoop()]; });
        conn->setHighWaterMarkCallback(
            [&](const TcpConnectionPtr& c, size_t) {
              threads.check(c);
              ++highWaterMarks;
            },
            64 * 1024);
      }
      log.record(conn);  // last, so that waitForUps() finds the rest done
    });
    s.setMessageCallback(
        [&](const TcpConnectionPtr& conn, reactor::Buffer* buf, reactor::Timestamp) {
          threads.check(conn);
          ++messages;
          // "big" asks for a reply that piles up; anything else is echoed.
          if (buf->retrieveAllAsString() == "big") {
            conn->send(std::string(kBig, 'b'));
          } else {
            conn->send("echo");
          }
        });
    s.setWriteCompleteCallback([&](const TcpConnectionPtr& conn) {
      threads.check(conn);
      ++writeCompletes;
    });
  });
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Client::connectedTo(server.address(), 4096));
  ASSERT_TRUE(log.waitForUps(kClients));
  const std::map<EventLoop*, int> counts = perLoop.get();
  ASSERT_EQ(counts.size(), static_cast<size_t>(kThreads));
  for (const auto& [loop, n] : counts) {
    EXPECT_EQ(n, kClients / kThreads);
    EXPECT_NE(loop, base.loop());
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    // The first client of each loop (connections are dealt in turn) gets a
    // reply that piles up in the server; the others an echo.
    const bool big = i < static_cast<size_t>(kThreads);
    ASSERT_TRUE(clients[i].writeAll(big ? "big" : "ping"));
    EXPECT_EQ(clients[i].readExactly(big ? kBig : 4).size(), big ? kBig : 4);
  }
  for (Client& client : clients) client.close();
  ASSERT_TRUE(log.waitForDowns(kClients));
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(log.get()));
  EXPECT_EQ(messages, kClients);
  EXPECT_GE(writeCompletes, kClients);
  EXPECT_EQ(highWaterMarks, kThreads);
  EXPECT_EQ(threads.wrong(), 0);
}

TEST(ServerThreadsTest, InitCallbackRunsInEachIoThread) {
  LoopThread base;
  Monitor<std::set<pid_t>> initThreads;
  TestServer server(base, [&](TcpServer& s) {
    s.setThreadNum(3);
    s.setThreadInitCallback([&](EventLoop* loop) {
      const bool own = loop->isInLoopThread();
      initThreads.update(
          [&](std::set<pid_t>& t) { t.insert(own ? reactor::currentThreadId() : 0); });
    });
  });
  EXPECT_TRUE(initThreads.waitUntil([](const std::set<pid_t>& t) { return t.size() == 3; }));
  const std::set<pid_t> seen = initThreads.get();
  EXPECT_EQ(seen.count(0), 0u) << "an init callback ran outside its loop's thread";
  EXPECT_EQ(seen.count(base.tid()), 0u);
}

TEST(ServerThreadsTest, NegativeThreadNumThrows) {
  LoopThread base;
  EXPECT_THROW(base.call([&] {
    TcpServer s(base.loop(), InetAddress(0, true), "negative");
    s.setThreadNum(-1);
    return 0;
  }),
               std::invalid_argument);
}

// The close path crosses threads: the connection's loop hears the close,
// the base loop takes it out of the map, the connection's loop tears it
// down. Each step must happen, and in its own thread.
class ClosePathTest : public ::testing::Test {
 protected:
  static constexpr int kThreads = 4;

  ClosePathTest()
      : threads(base.tid()), server(base, [this](TcpServer& s) {
          s.setThreadNum(kThreads);
          pool = s.threadPool().get();  // not a copy: the pool goes with the server
          s.setConnectionCallback(log.callback([this](const TcpConnectionPtr& conn) {
            threads.check(conn);
            downThreads.update([&](std::map<std::string, pid_t>& m) {
              if (!conn->connected()) m[conn->name()] = reactor::currentThreadId();
            });
            upThreads.update([&](std::map<std::string, pid_t>& m) {
              if (conn->connected()) m[conn->name()] = reactor::currentThreadId();
            });
          }));
        }) {}

  void expectEachDownInItsUpThread() {
    const auto ups = upThreads.get();
    const auto downs = downThreads.get();
    EXPECT_EQ(ups.size(), downs.size());
    for (const auto& [name, tid] : downs) {
      EXPECT_EQ(ups.count(name) ? ups.at(name) : 0, tid) << name;
    }
  }

  LoopThread base;
  ThreadCheck threads;
  ConnectionLog log;
  Monitor<std::map<std::string, pid_t>> upThreads;
  Monitor<std::map<std::string, pid_t>> downThreads;
  EventLoopThreadPool* pool = nullptr;
  TestServer server;
};

TEST_F(ClosePathTest, PeerCloseLeavesTheServerAndIsTornDownInItsLoop) {
  constexpr int kClients = 8;
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Client::connectedTo(server.address()));
  ASSERT_TRUE(log.waitForUps(kClients));
  for (Client& client : clients) client.close();
  ASSERT_TRUE(log.waitForDowns(kClients));
  settleClose(base, ioLoops(base, pool));
  EXPECT_TRUE(log.allGone()) << "a closed connection is still held: the map, or no teardown";
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(log.get()));
  expectEachDownInItsUpThread();
  EXPECT_EQ(threads.wrong(), 0);
}

TEST_F(ClosePathTest, ForceCloseFromAThirdThreadLeavesTheServerAndIsTornDownInItsLoop) {
  constexpr int kClients = 8;
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Client::connectedTo(server.address()));
  ASSERT_TRUE(log.waitForUps(kClients));
  std::thread third([&] {
    for (int i = 0; i < kClients; ++i) log.connection(i)->forceClose();
  });
  third.join();
  for (Client& client : clients) EXPECT_TRUE(client.readToEnd().endOfStream);
  ASSERT_TRUE(log.waitForDowns(kClients));
  settleClose(base, ioLoops(base, pool));
  EXPECT_TRUE(log.allGone());
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(log.get()));
  expectEachDownInItsUpThread();
  EXPECT_EQ(threads.wrong(), 0);
}

/// A functor that queues itself again each time it runs, as long as its
/// loop runs.
struct Spinner {
  EventLoop* loop;
  void operator()() const { loop->queueInLoop(*this); }
};

// ~TcpServer with a busy pool: every I/O loop pushes data to its peers
// while some peers are closing. The teardown ~TcpServer queues on each I/O
// loop must run before the pool's threads end, and the removals that the
// closing peers queued to the base loop must not run on the freed server.
TEST(ServerLifetimeThreadsTest, DestroyingAServerWithABusyPoolClosesEverything) {
  constexpr int kThreads = 4;
  constexpr int kClients = 40;
  constexpr int kClosing = 10;
  LoopThread base;
  ThreadCheck threads(base.tid());
  ConnectionLog log;
  auto server = std::make_unique<TestServer>(base, [&](TcpServer& s) {
    s.setThreadNum(kThreads);
    // Busiest of all: each I/O loop is always inside a batch of functors,
    // so whatever another thread queues waits for the next batch.
    s.setThreadInitCallback([](EventLoop* loop) { loop->queueInLoop(Spinner{loop}); });
    s.setConnectionCallback(log.callback([&](const TcpConnectionPtr& conn) {
      threads.check(conn);
      if (!conn->connected()) return;
      // Busy: a stream of small sends for as long as the loop runs.
      std::weak_ptr<reactor::TcpConnection> weak = conn;
      conn->getLoop()->runEvery(0.001, [weak] {
        if (TcpConnectionPtr c = weak.lock()) c->send("tick");
      });
    }));
  });
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Client::connectedTo(server->address()));
  ASSERT_TRUE(log.waitForUps(kClients));
  for (int i = 0; i < kClosing; ++i) clients[i].close();  // closing right now
  server.reset();
  // The pool has gone with the server: every loop has torn down its
  // connections, and every disconnect callback has run.
  EXPECT_EQ(log.downs(), kClients);
  for (int i = kClosing; i < kClients; ++i) {
    EXPECT_TRUE(clients[i].readToEnd().endOfStream) << "client " << i;
  }
  base.settle();  // removals queued by the closing peers find the server gone
  EXPECT_TRUE(log.allGone());
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(log.get()));
  EXPECT_EQ(threads.wrong(), 0);
}

}  // namespace
