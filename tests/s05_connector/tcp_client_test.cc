// Chapter 5: a TcpClient's connection -- made to a server that listens, or
// to one that starts listening later; the bytes it carries both ways; the
// half-close of disconnect(); and what connection() says meanwhile.
#include <cerrno>
#include <cstring>
#include <future>
#include <string>

#include "connector_test_support.h"
#include "gtest/gtest.h"
#include "reactor/Buffer.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpClient.h"
#include "reactor/TcpServer.h"

namespace {

using reactor::InetAddress;
using reactor::TcpClient;
using reactor::TcpConnectionPtr;
using reactor::TcpServer;
using namespace reactor_test;

TEST(TcpClientTest, ConnectsToAListeningServerAndCarriesBytesBothWaysExactly) {
  ConnectionLog serverLog;
  ConnectionLog clientLog;
  Monitor<std::string> received;
  LoopThread serverThread;
  LoopThread clientThread;
  TestServer server(serverThread, [&](TcpServer& s) {
    s.setConnectionCallback(serverLog.callback());
    s.setMessageCallback(echo);
  });
  TestClient client(clientThread, server.address(), [&](TcpClient& c) {
    c.setConnectionCallback(clientLog.callback());
    c.setMessageCallback(appendTo(received));
  });
  EXPECT_EQ(client->connection(), nullptr);
  EXPECT_EQ(client->name(), "client");
  EXPECT_EQ(client->getLoop(), clientThread.loop());
  client->connect();
  ASSERT_TRUE(clientLog.waitForUps(1));
  ASSERT_TRUE(serverLog.waitForUps(1));

  TcpConnectionPtr conn = client->connection();
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn, clientLog.connection(0)) << "connection() is not the live connection";
  EXPECT_TRUE(conn->connected());
  EXPECT_EQ(conn->getLoop(), clientThread.loop());
  EXPECT_EQ(conn->peerAddress(), server.address());
  EXPECT_EQ(conn->localAddress(), serverLog.connection(0)->peerAddress());
  const std::string namePrefix = "client:" + server.address().toIpPort() + "#";
  EXPECT_EQ(conn->name().rfind(namePrefix, 0), 0u) << conn->name();

  // Out through the client, back through the server's echo.
  const std::string message = randomBytes(1 << 20, 5);
  conn->send(message);
  ASSERT_TRUE(received.waitUntil([&](const std::string& r) { return r.size() >= message.size(); }));
  EXPECT_TRUE(received.get() == message) << "the echo came back changed";

  conn.reset();
  serverLog.connection(0)->forceClose();  // the server ends it
  ASSERT_TRUE(clientLog.waitForDowns(1));
  clientThread.settle();
  EXPECT_EQ(client->connection(), nullptr) << "connection() still names the closed connection";
  EXPECT_TRUE(clientLog.allGone()) << "the client still holds its closed connection";
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(clientLog.get()));
}

TEST(TcpClientTest, AClientStartedBeforeItsServerConnectsWithinOneRetryDelayOfIt) {
  constexpr auto kMaxDelay = 200ms;
  ConnectionLog serverLog;
  ConnectionLog clientLog;
  AttemptLog attempts;
  std::promise<Clock::time_point> connectedAt;
  LoopThread serverThread;
  LoopThread clientThread;
  RefusingPort port;
  TestClient client(clientThread, port.address(), [&](TcpClient& c) {
    c.setRetryDelay(25ms, kMaxDelay);
    c.setConnectErrorCallback(attempts.errorCallback());
    c.setConnectionCallback(clientLog.callback([&](const TcpConnectionPtr& conn) {
      if (conn->connected()) connectedAt.set_value(Clock::now());
    }));
  });
  client->connect();
  // Fail until the backoff has reached its cap: 25, 50, 100, 200 ms.
  ASSERT_TRUE(attempts.waitForErrors(4));
  ASSERT_EQ(ms(attempts.errors()[3].retryDelay), ms(kMaxDelay));

  port.release();
  TestServer server(
      serverThread, [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); },
      port.address());
  const Clock::time_point listening = Clock::now();
  const size_t failuresBefore = attempts.errors().size();
  std::future<Clock::time_point> connected = connectedAt.get_future();
  ASSERT_EQ(connected.wait_for(kHangLimit), std::future_status::ready);
  EXPECT_LT(connected.get() - listening, kMaxDelay + kPromptly);
  // An attempt already under way when the server started may still fail;
  // the next one must not.
  EXPECT_LE(attempts.errors().size(), failuresBefore + 1);
  EXPECT_TRUE(serverLog.waitForUps(1));
  EXPECT_NE(client->connection(), nullptr);
}

// disconnect() is shutdown(2) of the writing side: the server reads every
// byte sent before it, then the end of the stream, and may still answer.
TEST(TcpClientTest, DisconnectHalfClosesSoTheServerSeesTheEndAndCanStillAnswer) {
  Listener listener(16);
  ConnectionLog clientLog;
  Monitor<std::string> received;
  LoopThread clientThread;
  TestClient client(clientThread, listener.address(), [&](TcpClient& c) {
    c.setConnectionCallback(clientLog.callback());
    c.setMessageCallback(appendTo(received));
  });
  client->connect();
  const int peer = listener.accept();
  ASSERT_GE(peer, 0);
  ASSERT_TRUE(clientLog.waitForUps(1));

  const std::string request = randomBytes(256 * 1024, 7);
  client->connection()->send(request);
  client->disconnect();  // after the send: the end of stream follows the bytes
  const Client::Received got = readToEnd(peer);
  EXPECT_TRUE(got.endOfStream) << "the server never saw the end of the stream";
  EXPECT_TRUE(got.data == request) << got.data.size() << " of " << request.size() << " bytes";

  const std::string answer = randomBytes(1 << 20, 8);
  EXPECT_TRUE(writeAll(peer, answer));
  ::close(peer);
  ASSERT_TRUE(received.waitUntil([&](const std::string& r) { return r.size() >= answer.size(); }));
  EXPECT_TRUE(received.get() == answer) << "the answer after the half-close came back changed";
  ASSERT_TRUE(clientLog.waitForDowns(1)) << "the server's close did not end the connection";
}

TEST(TcpClientTest, DisconnectWithoutAConnectionDoesNothing) {
  ConnectionLog clientLog;
  LoopThread clientThread;
  RefusingPort port;
  TestClient client(clientThread, port.address(),
                    [&](TcpClient& c) { c.setConnectionCallback(clientLog.callback()); });
  client->disconnect();
  clientThread.settle();
  EXPECT_EQ(clientLog.ups() + clientLog.downs(), 0);
  EXPECT_EQ(client->connection(), nullptr);
}

// The client hands its retry settings and its error reports through to its
// Connector: here an error that no retry can cure.
TEST(TcpClientTest, ReportsAConnectErrorAndGivesUpOnOneThatNoRetryCanCure) {
  AttemptLog attempts;
  ConnectionLog clientLog;
  LoopThread clientThread;
  TestClient client(clientThread, InetAddress("fe80::1", 9), [&](TcpClient& c) {
    c.setRetryDelay(20ms, 20ms);
    c.setConnectErrorCallback(attempts.errorCallback());
    c.setConnectionCallback(clientLog.callback());
  });
  const size_t fdsBefore = countOpenFds();
  client->connect();
  ASSERT_TRUE(attempts.waitForErrors(1));
  letLoopRun(clientThread, 60ms);
  const std::vector<ConnectError> errors = attempts.errors();
  ASSERT_EQ(errors.size(), 1u) << "retried";
  EXPECT_EQ(errors[0].savedErrno, EINVAL) << std::strerror(errors[0].savedErrno);
  EXPECT_FALSE(errors[0].willRetry);
  EXPECT_EQ(clientLog.ups(), 0);
  EXPECT_EQ(client->connection(), nullptr);
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

}  // namespace
