// Chapter 3: a TcpServer's end closes its connections, and a connection a
// program still holds outlives its close, harmlessly.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"
#include "reactor/TcpServer.h"
#include "tcp_test_support.h"

namespace {

using reactor::EventLoop;
using reactor::TcpServer;
using namespace reactor_test;

TEST(ServerLifetimeTest, DestroyingAServerClosesEveryLiveConnection) {
  constexpr int kClients = 5;
  LoopThread thread;
  ConnectionLog log;
  const size_t fdsBefore = countOpenFds();
  TestServer server(thread, [&](TcpServer& s) { s.setConnectionCallback(log.callback()); });
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Client::connectedTo(server.address()));
  ASSERT_TRUE(log.waitForUps(kClients));
  TcpConnectionPtr kept = log.connection(0);

  const int downsOnReturn = thread.call([&] {
    server.destroyInLoopThread();
    return log.downs();
  });
  EXPECT_EQ(downsOnReturn, kClients) << "every disconnect callback runs before ~TcpServer returns";
  for (Client& client : clients) {
    EXPECT_TRUE(client.readToEnd().endOfStream) << "the peer must see end of stream";
  }
  thread.settle();
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(log.get()));

  // The pointer the program kept is still a connection, a closed one.
  EXPECT_FALSE(kept->connected());
  EXPECT_TRUE(kept->disconnected());
  EXPECT_FALSE(kept->name().empty());
  kept->send("ignored");
  kept.reset();
  thread.settle();
  EXPECT_TRUE(log.allGone());

  clients.clear();
  EXPECT_EQ(countOpenFds(), fdsBefore) << "the server left a descriptor open";
}

TEST(ServerLifetimeTest, DestroyingAServerThatNeverStartedIsFine) {
  const size_t fdsBefore = countOpenFds();
  {
    EventLoop loop;  // never runs
    { TcpServer idle(&loop, InetAddress(0, true), "never started"); }
    {
      TcpServer listening(&loop, InetAddress(0, true), "started, never looped");
      listening.start();
      listening.start();  // a second call does nothing
    }
  }
  {
    LoopThread thread;
    thread.call([&] { TcpServer idle(thread.loop(), InetAddress(0, true), "in a running loop"); });
  }
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

// A program may keep a TcpConnectionPtr as long as it likes: after the close
// every call on it is harmless, even once its server is gone.
TEST(ServerLifetimeTest, AConnectionKeptAfterCloseStaysValidAndDisconnected) {
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) { s.setConnectionCallback(log.callback()); });
  Client client = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(1));
  TcpConnectionPtr kept = log.connection(0);
  const std::string name = kept->name();
  client.close();
  ASSERT_TRUE(log.waitForDowns(1));
  thread.settle();

  EXPECT_FALSE(kept->connected());
  EXPECT_TRUE(kept->disconnected());
  EXPECT_EQ(kept->name(), name);
  EXPECT_EQ(kept->localAddress(), server.address());
  // Every call is a no-op now, from any thread.
  kept->send("ignored");
  kept->shutdown();
  kept->forceClose();
  kept->stopRead();
  kept->startRead();
  kept->setTcpNoDelay(true);
  thread.call([&] {
    kept->send("ignored");
    kept->stopRead();
    kept->startRead();
    kept->forceClose();
  });
  thread.settle();
  EXPECT_EQ(log.downs(), 1);
  EXPECT_TRUE(kept->disconnected());

  server.destroy();
  EXPECT_EQ(log.downs(), 1) << "a closed connection is not closed again by ~TcpServer";
  EXPECT_EQ(kept->name(), name);
  EXPECT_FALSE(kept->connected());
  kept.reset();  // the last owner lets go here
}

}  // namespace
