// Chapter 5: enableRetry(). A client whose established connection is lost
// connects again at once, and backs off from the initial delay if that
// fails; without it, a lost connection stays lost.
#include <memory>
#include <optional>

#include "connector_test_support.h"
#include "gtest/gtest.h"
#include "reactor/TcpClient.h"
#include "reactor/TcpServer.h"

namespace {

using reactor::TcpClient;
using reactor::TcpConnectionPtr;
using reactor::TcpServer;
using namespace reactor_test;

TEST(TcpClientRetryTest, WithRetryALostConnectionIsMadeAgainAtOnce) {
  // Far longer than the test may take: a reconnection that waited for the
  // retry delay fails it.
  constexpr auto kDelay = 60s;
  ConnectionLog serverLog;
  ConnectionLog clientLog;
  LoopThread serverThread;
  LoopThread clientThread;
  TestServer server(serverThread,
                    [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); });
  TestClient client(clientThread, server.address(), [&](TcpClient& c) {
    c.setRetryDelay(kDelay, kDelay);
    c.setConnectionCallback(clientLog.callback());
    c.enableRetry();
  });
  EXPECT_TRUE(client->retry());
  client->connect();
  ASSERT_TRUE(serverLog.waitForUps(1));
  serverLog.connection(0)->forceClose();
  ASSERT_TRUE(clientLog.waitForDowns(1));
  EXPECT_TRUE(serverLog.waitForUps(2, kPromptly)) << "no new connection";
  EXPECT_TRUE(clientLog.waitForUps(2, kPromptly));
  const TcpConnectionPtr conn = client->connection();
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn, clientLog.connection(1)) << "connection() is not the new connection";
}

TEST(TcpClientRetryTest, AfterALostConnectionTheBackoffStartsAgainFromTheInitialDelay) {
  constexpr auto kInitial = 20ms;
  ConnectionLog clientLog;
  AttemptLog attempts;
  LoopThread serverThread;
  LoopThread clientThread;
  RefusingPort port;
  TestClient client(clientThread, port.address(), [&](TcpClient& c) {
    c.setRetryDelay(kInitial, 320ms);
    c.setConnectErrorCallback(attempts.errorCallback());
    c.setConnectionCallback(clientLog.callback());
    c.enableRetry();
  });
  client->connect();
  ASSERT_TRUE(attempts.waitForErrors(4));  // the backoff grows: 20, 40, 80, 160 ms
  port.release();
  std::optional<TestServer> server;
  server.emplace(
      serverThread, [](TcpServer&) {}, port.address());
  ASSERT_TRUE(clientLog.waitForUps(1));

  const size_t failuresBefore = attempts.errors().size();
  server->destroy();  // the connection is lost, and nobody listens
  ASSERT_TRUE(clientLog.waitForDowns(1));
  ASSERT_TRUE(attempts.waitForErrors(failuresBefore + 1)) << "no attempt after the loss";
  const ConnectError first = attempts.errors()[failuresBefore];
  EXPECT_TRUE(first.willRetry);
  EXPECT_EQ(ms(first.retryDelay), ms(kInitial)) << "the backoff went on from where it was";

  server.reset();
  server.emplace(
      serverThread, [](TcpServer&) {}, port.address());
  EXPECT_TRUE(clientLog.waitForUps(2)) << "the retries stopped";
}

TEST(TcpClientRetryTest, WithoutRetryALostConnectionStaysLost) {
  constexpr auto kDelay = 20ms;
  ConnectionLog serverLog;
  ConnectionLog clientLog;
  AttemptLog attempts;
  LoopThread serverThread;
  LoopThread clientThread;
  TestServer server(serverThread,
                    [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); });
  TestClient client(clientThread, server.address(), [&](TcpClient& c) {
    c.setRetryDelay(kDelay, kDelay);
    c.setConnectErrorCallback(attempts.errorCallback());
    c.setConnectionCallback(clientLog.callback());
  });
  EXPECT_FALSE(client->retry());
  client->connect();
  ASSERT_TRUE(serverLog.waitForUps(1));
  serverLog.connection(0)->forceClose();
  ASSERT_TRUE(clientLog.waitForDowns(1));
  letLoopRun(clientThread, 5 * kDelay);
  serverThread.settle();
  EXPECT_EQ(serverLog.ups(), 1) << "the client connected again";
  EXPECT_EQ(clientLog.ups(), 1);
  EXPECT_TRUE(attempts.errors().empty());
  EXPECT_EQ(client->connection(), nullptr);
}

// stop() ends the connecting, not a connection already made: that one is
// disconnect()'s business.
TEST(TcpClientRetryTest, StopDuringTheBackoffEndsTheRetries) {
  constexpr auto kDelay = 100ms;
  ConnectionLog clientLog;
  AttemptLog attempts;
  LoopThread clientThread;
  RefusingPort port;
  TestClient client(clientThread, port.address(), [&](TcpClient& c) {
    c.setRetryDelay(kDelay, kDelay);
    c.setConnectErrorCallback(attempts.errorCallback());
    c.setConnectionCallback(clientLog.callback());
  });
  client->connect();
  ASSERT_TRUE(attempts.waitForErrors(1));
  client->stop();
  EXPECT_FALSE(attemptArrivesWithin(clientThread, port, 3 * kDelay)) << "an attempt after stop()";
  EXPECT_EQ(attempts.errors().size(), 1u) << "a report after stop()";
  EXPECT_EQ(clientLog.ups(), 0);
}

TEST(TcpClientRetryTest, AfterDisconnectALostConnectionIsNotMadeAgain) {
  constexpr auto kDelay = 20ms;
  ConnectionLog serverLog;
  ConnectionLog clientLog;
  LoopThread serverThread;
  LoopThread clientThread;
  TestServer server(serverThread,
                    [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); });
  TestClient client(clientThread, server.address(), [&](TcpClient& c) {
    c.setRetryDelay(kDelay, kDelay);
    c.setConnectionCallback(clientLog.callback());
    c.enableRetry();
  });
  client->connect();
  ASSERT_TRUE(clientLog.waitForUps(1));
  client->disconnect();  // the server reads the end, and closes its side too
  ASSERT_TRUE(clientLog.waitForDowns(1));
  letLoopRun(clientThread, 5 * kDelay);
  serverThread.settle();
  EXPECT_EQ(serverLog.ups(), 1) << "the client connected again after disconnect()";
  EXPECT_EQ(client->connection(), nullptr);
}

TEST(TcpClientRetryTest, StopWhileConnectingClosesTheSocketAndConnectStartsAnew) {
  ConnectionLog clientLog;
  AttemptLog attempts;
  FullListener full;
  LoopThread clientThread;
  TestClient client(clientThread, full.address(), [&](TcpClient& c) {
    c.setRetryDelay(20ms, 20ms);
    c.setConnectErrorCallback(attempts.errorCallback());
    c.setConnectionCallback(clientLog.callback());
  });
  const size_t fdsBefore = countOpenFds();
  client->connect();
  clientThread.settle();
  ASSERT_EQ(countOpenFds(), fdsBefore + 1) << "no socket connecting: the test cannot tell";
  client->stop();
  clientThread.settle();
  EXPECT_EQ(countOpenFds(), fdsBefore) << "stop() left the connecting socket open";
  client->connect();
  clientThread.settle();
  EXPECT_EQ(countOpenFds(), fdsBefore + 1) << "connect() after stop() did not start again";
  EXPECT_TRUE(attempts.errors().empty());
  EXPECT_EQ(clientLog.ups(), 0);
}

}  // namespace
