// Chapter 5: destroying a Connector or a TcpClient, in every state. Neither
// may run a callback after it is gone (the notes give the retry timer a raw
// `this`: under AddressSanitizer that is a use after free), leave a
// descriptor open, or leave a connection open: the server must see it end,
// even while another thread still holds the TcpConnectionPtr (muduo issues
// #94, #194, #488).
#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "connector_test_support.h"
#include "gtest/gtest.h"
#include "reactor/Connector.h"
#include "reactor/TcpClient.h"
#include "reactor/TcpServer.h"

namespace {

using reactor::Connector;
using reactor::Duration;
using reactor::TcpClient;
using reactor::TcpConnectionPtr;
using reactor::TcpServer;
using namespace reactor_test;

constexpr auto kDelay = 50ms;

/// Destroys `connector` in its loop's thread and checks that nothing else
/// kept it alive; returns how many reports it had made by then.
size_t destroyConnector(LoopThread& thread, TestConnector& connector, const AttemptLog& log) {
  EXPECT_TRUE(connector.destroy()) << "something still holds the Connector";
  return thread.call([&] { return log.reports(); });
}

TEST(ConnectorLifetimeTest, DestroyedWhileARetryIsPendingItRunsNothingAfterwards) {
  AttemptLog log;
  LoopThread thread;
  RefusingPort port;
  TestConnector connector(thread, port.address(), log, kDelay, kDelay);
  const size_t fdsBefore = countOpenFds();
  connector->start();
  ASSERT_TRUE(log.waitForErrors(1));
  const size_t reports = destroyConnector(thread, connector, log);
  EXPECT_EQ(countOpenFds(), fdsBefore);
  EXPECT_FALSE(attemptArrivesWithin(thread, port, 3 * kDelay)) << "an attempt after destruction";
  EXPECT_EQ(log.reports(), reports) << "a report after the Connector was destroyed";
}

TEST(ConnectorLifetimeTest, DestroyedWhileConnectingItClosesTheSocketAndRunsNothingAfterwards) {
  AttemptLog log;
  FullListener listener;
  LoopThread thread;
  TestConnector connector(thread, listener.address(), log, kDelay, kDelay);
  const size_t fdsBefore = countOpenFds();
  connector->start();
  thread.settle();
  ASSERT_EQ(countOpenFds(), fdsBefore + 1) << "no socket connecting: the test cannot tell";
  EXPECT_EQ(destroyConnector(thread, connector, log), 0u);
  EXPECT_EQ(countOpenFds(), fdsBefore) << "the connecting socket was left open";
  letLoopRun(thread, 3 * kDelay);
  EXPECT_EQ(log.reports(), 0u);
}

// start() from another thread hands the work to the loop. If the program
// lets go of the Connector before the loop gets to it, the queued work must
// find nobody, not freed memory.
TEST(ConnectorLifetimeTest, ReleasedWithItsStartStillQueuedItRunsNothing) {
  AttemptLog log;
  Listener listener(16);
  LoopThread thread;
  TestConnector connector(thread, listener.address(), log, kDelay, kDelay);
  Connector* const raw = connector.get();
  const std::weak_ptr<Connector> weak = connector.weak();
  const size_t fdsBefore = countOpenFds();
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  thread.loop()->runInLoop([opened] { opened.wait(); });  // the loop waits for the test
  // Queued in this order: the release, then the start. The Connector lives
  // until the loop runs the release, so start() may still be called.
  thread.loop()->runInLoop([doomed = connector.release()]() mutable { doomed.reset(); });
  raw->start();
  gate.set_value();
  thread.settle();
  EXPECT_TRUE(weak.expired()) << "something still holds the Connector";
  letLoopRun(thread, 3 * kDelay);
  EXPECT_EQ(log.reports(), 0u);
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

// A callback may destroy its own Connector: each is the last thing its
// path does. Under AddressSanitizer, anything after it is a use after free.
TEST(ConnectorLifetimeTest, DestroyedByItsOwnErrorCallbackItRunsNothingAfterwards) {
  AttemptLog log;
  LoopThread thread;
  RefusingPort port;
  TestConnector connector(thread, port.address(), log, kDelay, kDelay);
  const Connector::ConnectErrorCallback record = log.errorCallback();
  thread.call([&] {
    connector->setConnectErrorCallback([&, record](int savedErrno, bool willRetry, Duration delay) {
      record(savedErrno, willRetry, delay);
      connector.destroyInLoopThread();
    });
  });
  const std::weak_ptr<Connector> weak = connector.weak();
  connector->start();
  ASSERT_TRUE(log.waitForErrors(1));
  EXPECT_FALSE(attemptArrivesWithin(thread, port, 3 * kDelay)) << "an attempt after destruction";
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(log.reports(), 1u);
}

TEST(ConnectorLifetimeTest, DestroyedByItsOwnNewConnectionCallbackItRunsNothingAfterwards) {
  AttemptLog log;
  Listener listener(16);
  LoopThread thread;
  TestConnector connector(thread, listener.address(), log, kDelay, kDelay);
  const Connector::NewConnectionCallback record = log.newConnectionCallback();
  thread.call([&] {
    connector->setNewConnectionCallback([&, record](int sockfd) {
      record(sockfd);
      connector.destroyInLoopThread();
    });
  });
  const std::weak_ptr<Connector> weak = connector.weak();
  connector->start();
  ASSERT_TRUE(log.waitForConnections(1));
  letLoopRun(thread, 3 * kDelay);
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(log.reports(), 1u);
}

/// What a TcpClient reported, and how many reports it had made when it was
/// destroyed.
struct ClientRecord {
  ConnectionLog connections;
  AttemptLog attempts;
  std::atomic<int> messages{0};

  int reports() const {
    return connections.ups() + connections.downs() + static_cast<int>(attempts.reports()) +
           messages;
  }
  void install(TcpClient& client) {
    client.setRetryDelay(kDelay, kDelay);
    client.setConnectionCallback(connections.callback());
    client.setConnectErrorCallback(attempts.errorCallback());
    client.setMessageCallback(
        [this](const TcpConnectionPtr&, reactor::Buffer* buffer, reactor::Timestamp) {
          buffer->retrieveAll();
          ++messages;
        });
  }
};

/// Destroys `client` in its loop's thread; returns how many reports had come
/// by then.
int destroyClient(LoopThread& thread, TestClient& client, const ClientRecord& record) {
  client.destroy();
  return thread.call([&] { return record.reports(); });
}

TEST(TcpClientLifetimeTest, DestroyedWhileARetryIsPendingItRunsNothingAfterwards) {
  ClientRecord record;
  LoopThread thread;
  RefusingPort port;
  const size_t fdsBefore = countOpenFds();
  TestClient client(thread, port.address(), [&](TcpClient& c) { record.install(c); });
  client->connect();
  ASSERT_TRUE(record.attempts.waitForErrors(1));
  const int reports = destroyClient(thread, client, record);
  EXPECT_EQ(countOpenFds(), fdsBefore);
  EXPECT_FALSE(attemptArrivesWithin(thread, port, 3 * kDelay)) << "an attempt after destruction";
  EXPECT_EQ(record.reports(), reports) << "a callback after the client was destroyed";
}

TEST(TcpClientLifetimeTest, DestroyedWhileConnectingItClosesTheSocketAndRunsNothingAfterwards) {
  ClientRecord record;
  FullListener listener;
  LoopThread thread;
  const size_t fdsBefore = countOpenFds();
  TestClient client(thread, listener.address(), [&](TcpClient& c) { record.install(c); });
  client->connect();
  thread.settle();
  ASSERT_EQ(countOpenFds(), fdsBefore + 1) << "no socket connecting: the test cannot tell";
  EXPECT_EQ(destroyClient(thread, client, record), 0);
  EXPECT_EQ(countOpenFds(), fdsBefore) << "the connecting socket was left open";
  letLoopRun(thread, 3 * kDelay);
  EXPECT_EQ(record.reports(), 0);
}

TEST(TcpClientLifetimeTest, DestroyedRightAfterConnectFromAnotherThreadItRunsNothing) {
  ClientRecord record;
  Listener listener(16);
  LoopThread thread;
  const size_t fdsBefore = countOpenFds();
  TestClient client(thread, listener.address(), [&](TcpClient& c) { record.install(c); });
  client->connect();  // handed to the loop, which may or may not get far
  client.destroy();
  const int ups = record.connections.ups();
  letLoopRun(thread, 3 * kDelay);
  EXPECT_EQ(record.connections.ups(), ups) << "a connection came up after the client was destroyed";
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

TEST(TcpClientLifetimeTest, DestroyedWhileConnectedItClosesTheConnection) {
  ClientRecord record;
  ConnectionLog serverLog;
  LoopThread serverThread;
  LoopThread thread;
  TestServer server(serverThread,
                    [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); });
  const size_t fdsBefore = countOpenFds();
  TestClient client(thread, server.address(), [&](TcpClient& c) { record.install(c); });
  client->connect();
  ASSERT_TRUE(serverLog.waitForUps(1));
  ASSERT_TRUE(record.connections.waitForUps(1));
  client.destroy();
  EXPECT_TRUE(serverLog.waitForDowns(1)) << "the server never saw the end of the stream";
  thread.settle();
  serverThread.settle();  // the server closes its side after its disconnect callback
  EXPECT_EQ(countOpenFds(), fdsBefore);
  EXPECT_TRUE(record.connections.allGone()) << "the destroyed client's connection lives on";
}

// The connection must close even though the program still holds it, and
// the holder's calls, before, during and after, must be harmless.
TEST(TcpClientLifetimeTest, DestroyedWhileAnotherThreadHoldsTheConnectionItStillClosesIt) {
  ClientRecord record;
  ConnectionLog serverLog;
  LoopThread serverThread;
  LoopThread thread;
  TestServer server(serverThread, [&](TcpServer& s) {
    s.setConnectionCallback(serverLog.callback());
    s.setMessageCallback(echo);
  });
  const size_t fdsBefore = countOpenFds();
  TestClient client(thread, server.address(), [&](TcpClient& c) { record.install(c); });
  client->connect();
  ASSERT_TRUE(record.connections.waitForUps(1));
  TcpConnectionPtr held = client->connection();
  ASSERT_NE(held, nullptr);

  std::atomic<bool> done{false};
  std::promise<void> sending;
  std::thread holder([&] {
    bool first = true;
    while (!done) {
      held->send("from the holder");
      if (first) sending.set_value();
      first = false;
      std::this_thread::yield();
    }
  });
  sending.get_future().wait();
  client.destroy();
  EXPECT_TRUE(serverLog.waitForDowns(1)) << "the server never saw the end of the stream";
  done = true;
  holder.join();
  EXPECT_FALSE(held->connected());
  held->send("after the close");  // harmless
  held->shutdown();
  held->forceClose();
  held.reset();  // the last holder lets go, in this thread
  thread.settle();
  serverThread.settle();  // the server closes its side after its disconnect callback
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

TEST(TcpClientLifetimeTest, DestroyedAfterDisconnectItRunsNothingOnFreedMemory) {
  ClientRecord record;
  ConnectionLog serverLog;
  LoopThread serverThread;
  LoopThread thread;
  TestServer server(serverThread,
                    [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); });
  const size_t fdsBefore = countOpenFds();
  TestClient client(thread, server.address(), [&](TcpClient& c) { record.install(c); });
  client->connect();
  ASSERT_TRUE(record.connections.waitForUps(1));
  client->disconnect();  // the server sees the end, and closes its side
  ASSERT_TRUE(serverLog.waitForDowns(1));
  client.destroy();
  letLoopRun(thread, 3 * kDelay);
  serverThread.settle();  // the server closes its side after its disconnect callback
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

TEST(TcpClientLifetimeTest, DestroyedAfterItsRetryingConnectionWasLostItRunsNothingAfterwards) {
  ClientRecord record;
  ConnectionLog serverLog;
  LoopThread serverThread;
  LoopThread thread;
  const size_t fdsBefore = countOpenFds();
  std::optional<TestServer> server;
  server.emplace(serverThread,
                 [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); });
  TestClient client(thread, server->address(), [&](TcpClient& c) {
    record.install(c);
    c.enableRetry();
  });
  client->connect();
  ASSERT_TRUE(record.connections.waitForUps(1));
  server.reset();  // the connection is lost; the client retries
  ASSERT_TRUE(record.attempts.waitForErrors(1));
  const int reports = destroyClient(thread, client, record);
  letLoopRun(thread, 3 * kDelay);
  EXPECT_EQ(record.reports(), reports) << "a callback after the client was destroyed";
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

TEST(TcpClientLifetimeTest, DestroyedWithoutEverConnectingItDoesNothing) {
  ClientRecord record;
  LoopThread thread;
  RefusingPort port;
  const size_t fdsBefore = countOpenFds();
  TestClient client(thread, port.address(), [&](TcpClient& c) { record.install(c); });
  client.destroy();
  letLoopRun(thread, 3 * kDelay);
  EXPECT_EQ(record.reports(), 0);
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

// A program may let a client go from the client's own callbacks, in the
// loop's thread: when connecting fails, when the connection comes up, or
// when it goes down. Nothing of the client may run afterwards.
TEST(TcpClientLifetimeTest, DestroyedByItsOwnConnectErrorCallbackItRunsNothingAfterwards) {
  ClientRecord record;
  LoopThread thread;
  RefusingPort port;
  TestClient client(thread, port.address(), [&](TcpClient& c) {
    record.install(c);
    const Connector::ConnectErrorCallback report = record.attempts.errorCallback();
    c.setConnectErrorCallback([&, report](int savedErrno, bool willRetry, Duration delay) {
      report(savedErrno, willRetry, delay);
      client.destroyInLoopThread();
    });
  });
  client->connect();
  ASSERT_TRUE(record.attempts.waitForErrors(1));
  EXPECT_FALSE(attemptArrivesWithin(thread, port, 3 * kDelay)) << "an attempt after destruction";
  EXPECT_EQ(record.reports(), 1);
}

TEST(TcpClientLifetimeTest, DestroyedByItsOwnConnectionCallbackWhenUpItClosesTheConnection) {
  ClientRecord record;
  ConnectionLog serverLog;
  LoopThread serverThread;
  LoopThread thread;
  TestServer server(serverThread,
                    [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); });
  TestClient client(thread, server.address(), [&](TcpClient& c) {
    record.install(c);
    c.setConnectionCallback(record.connections.callback([&](const TcpConnectionPtr& conn) {
      if (conn->connected()) client.destroyInLoopThread();
    }));
  });
  client->connect();
  ASSERT_TRUE(record.connections.waitForUps(1));
  EXPECT_TRUE(serverLog.waitForDowns(1)) << "the server never saw the end of the stream";
  thread.settle();
  EXPECT_TRUE(record.connections.allGone());
}

TEST(TcpClientLifetimeTest, DestroyedByItsOwnConnectionCallbackWhenDownItRunsNothingAfterwards) {
  ClientRecord record;
  ConnectionLog serverLog;
  LoopThread serverThread;
  LoopThread thread;
  TestServer server(serverThread,
                    [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); });
  const size_t fdsBefore = countOpenFds();
  TestClient client(thread, server.address(), [&](TcpClient& c) {
    record.install(c);
    c.enableRetry();  // so that a client still there would connect again
    c.setConnectionCallback(record.connections.callback([&](const TcpConnectionPtr& conn) {
      if (!conn->connected()) client.destroyInLoopThread();
    }));
  });
  client->connect();
  ASSERT_TRUE(serverLog.waitForUps(1));
  serverLog.connection(0)->forceClose();
  ASSERT_TRUE(record.connections.waitForDowns(1));
  letLoopRun(thread, 3 * kDelay);
  serverThread.settle();
  EXPECT_EQ(serverLog.ups(), 1) << "the destroyed client connected again";
  EXPECT_TRUE(record.connections.allGone());
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

}  // namespace
