// Chapter 3: a TcpServer on one loop echoes what its clients send, byte for
// byte, however the bytes are cut into reads and writes.
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/TcpServer.h"
#include "tcp_test_support.h"

namespace {

using reactor::TcpServer;
using namespace reactor_test;

TEST(EchoTest, OneMebibyteInRandomChunksComesBackByteForByte) {
  LoopThread thread;
  TestServer server(thread, [](TcpServer& s) { s.setMessageCallback(echo); });
  const std::string data = randomBytes(1 << 20, 1);

  Client client = Client::connectedTo(server.address());
  std::mt19937 gen(2);
  std::uniform_int_distribution<size_t> chunk(1, 64 * 1024);
  // The server reads and echoes while this thread writes, so the reply is
  // read meanwhile by a second thread: neither side's kernel buffers fill.
  std::string echoed;
  std::thread reader([&] { echoed = client.readExactly(data.size()); });
  bool wrote = true;
  for (size_t sent = 0; sent < data.size() && wrote;) {
    const size_t n = std::min(chunk(gen), data.size() - sent);
    wrote = client.writeAll(std::string_view(data).substr(sent, n));
    sent += n;
  }
  reader.join();
  ASSERT_TRUE(wrote);
  ASSERT_EQ(echoed.size(), data.size());
  EXPECT_TRUE(echoed == data) << "the echo differs from what was sent";
}

// A client that reads only after it has written everything makes the echo
// pile up in the server's output buffer, which then drains in many partial
// writes: each must send exactly the bytes the last one left.
TEST(EchoTest, AnEchoThatPilesUpInTheOutputBufferStillComesBackByteForByte) {
  constexpr size_t kBytes = 16 << 20;  // more than the kernel's buffers hold
  LoopThread thread;
  TestServer server(thread, [](TcpServer& s) { s.setMessageCallback(echo); });
  const std::string data = randomBytes(kBytes, 8);
  Client client(AF_INET, 4096);
  ASSERT_TRUE(client.connect(server.address()));
  ASSERT_TRUE(client.writeAll(data));
  const std::string echoed = client.readExactly(kBytes);
  ASSERT_EQ(echoed.size(), kBytes);
  EXPECT_TRUE(echoed == data) << "the echo differs from what was sent";
}

TEST(EchoTest, HundredConcurrentClientsOfSixtyFourKibibytesAllComeBackExact) {
  constexpr int kClients = 100;
  constexpr size_t kBytes = 64 * 1024;
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) {
    s.setConnectionCallback(log.callback());
    s.setMessageCallback(echo);
  });

  // Every client connects before any sends, so that all 100 connections are
  // served at once by the one loop.
  Monitor<int> connected;
  std::vector<std::string> echoed(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      Client client = Client::connectedTo(server.address());
      connected.update([](int& n) { ++n; });
      if (!connected.waitUntil([](int n) { return n == kClients; })) return;
      if (!client.writeAll(randomBytes(kBytes, 100 + i))) return;
      echoed[i] = client.readExactly(kBytes);
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(log.get().ups, kClients);
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(echoed[i] == randomBytes(kBytes, 100 + i))
        << "client " << i << " got " << echoed[i].size() << " bytes, not its own echo";
  }
  ASSERT_TRUE(log.waitForDowns(kClients));
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(log.get()));
}

// Each connection reports up once with connected() true and down once with
// connected() false, whichever side closes it.
TEST(EchoTest, ConnectionCallbackRunsOnceUpAndOnceDownForEveryConnection) {
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) { s.setConnectionCallback(log.callback()); });

  {
    Client byPeerClose = Client::connectedTo(server.address());
    Client byPeerReset = Client::connectedTo(server.address());
    Client byShutdown = Client::connectedTo(server.address());
    Client byForceClose = Client::connectedTo(server.address());
    ASSERT_TRUE(log.waitForUps(4));
    const ConnectionEvents up = log.get();
    EXPECT_EQ(up.downs, 0);
    EXPECT_EQ(up.byName.size(), 4u) << "connection names must differ";

    byPeerClose.close();
    byPeerReset.reset();
    log.connection(2)->shutdown();
    EXPECT_TRUE(byShutdown.readToEnd().endOfStream);
    byShutdown.close();
    log.connection(3)->forceClose();
    ASSERT_TRUE(log.waitForDowns(4));
  }
  // The last ones close with the server.
  Client first = Client::connectedTo(server.address());
  Client second = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(6));
  server.destroy();
  thread.settle();
  const ConnectionEvents all = log.get();
  EXPECT_EQ(all.ups, 6);
  EXPECT_EQ(all.downs, 6);
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(all));
}

// The addresses a connection reports are those of its two ends.
TEST(EchoTest, AConnectionKnowsBothEndsAddresses) {
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) { s.setConnectionCallback(log.callback()); });
  Client client = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(1));
  const TcpConnectionPtr conn = log.connection(0);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->localAddress(), server.address());
  EXPECT_EQ(conn->peerAddress(), InetAddress("127.0.0.1", client.localPort()));
  EXPECT_EQ(conn->getLoop(), thread.loop());
  EXPECT_TRUE(conn->connected());
}

}  // namespace
