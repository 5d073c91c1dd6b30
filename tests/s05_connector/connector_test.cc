// Chapter 5: the Connector's attempts -- which failures it retries, how long
// it waits before each retry, and how stop() ends the waiting and the
// connecting.
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "connector_test_support.h"
#include "gtest/gtest.h"
#include "reactor/Connector.h"
#include "reactor/InetAddress.h"

namespace {

using reactor::Connector;
using reactor::InetAddress;
using namespace reactor_test;

TEST(ConnectorTest, RefusedAttemptsAreRetriedWithDelaysThatDoubleUpToTheCap) {
  const std::vector<long long> expectedMs{20, 40, 80, 160, 160, 160};
  AttemptLog log;
  LoopThread thread;
  RefusingPort port;
  TestConnector connector(thread, port.address(), log, 20ms, 160ms);
  connector->start();
  ASSERT_TRUE(log.waitForErrors(expectedMs.size()));
  connector.destroy();

  const std::vector<ConnectError> errors = log.errors();
  for (size_t i = 0; i < expectedMs.size(); ++i) {
    SCOPED_TRACE("attempt " + std::to_string(i + 1));
    EXPECT_EQ(errors[i].savedErrno, ECONNREFUSED) << std::strerror(errors[i].savedErrno);
    EXPECT_TRUE(errors[i].willRetry);
    EXPECT_EQ(ms(errors[i].retryDelay), expectedMs[i]);
  }
  // Each attempt comes no earlier than the delay announced before it. The
  // small allowance covers the time between the library reading the clock
  // for its timer and the callback reading it here.
  long long announcedMs = 0;
  for (size_t i = 1; i < expectedMs.size(); ++i) {
    const long long spacingMs = ms(errors[i].when - errors[i - 1].when);
    EXPECT_GE(spacingMs, expectedMs[i - 1] * 3 / 4) << "between attempts " << i << " and " << i + 1;
    announcedMs += expectedMs[i - 1];
  }
  EXPECT_GE(ms(errors.back().when - errors.front().when), announcedMs - 5);
  EXPECT_EQ(log.get().connections, 0);
}

TEST(ConnectorTest, ConnectsToAListeningServerAndHandsOverTheSocket) {
  AttemptLog log;
  Listener listener(16);
  LoopThread thread;
  TestConnector connector(thread, listener.address(), log, 20ms, 20ms);
  EXPECT_EQ(connector->serverAddress(), listener.address());
  connector->start();
  const int accepted = listener.accept();
  ASSERT_GE(accepted, 0);
  ::close(accepted);
  ASSERT_TRUE(log.waitForConnections(1));
  connector.destroy();
  const Attempts attempts = log.get();
  EXPECT_EQ(attempts.connections, 1);
  EXPECT_EQ(attempts.selfConnections, 0);
  EXPECT_TRUE(attempts.errors.empty());
}

TEST(ConnectorTest, StopDuringTheBackoffCancelsThePendingRetry) {
  constexpr auto kDelay = 200ms;
  AttemptLog log;
  LoopThread thread;
  RefusingPort port;
  TestConnector connector(thread, port.address(), log, kDelay, kDelay);
  connector->start();
  ASSERT_TRUE(log.waitForErrors(1));
  ASSERT_TRUE(log.errors().front().willRetry);
  connector->stop();  // from another thread, during the backoff
  EXPECT_FALSE(attemptArrivesWithin(thread, port, 3 * kDelay)) << "an attempt after stop()";
  EXPECT_EQ(log.reports(), 1u) << "a report after stop()";
}

// A retry timer that stop() leaves behind fires into the next start(): an
// extra attempt, too early. The notes leave the cancel commented out.
TEST(ConnectorTest, AStartAfterStopIsNotJoinedByTheRetryThatStopCancelled) {
  constexpr auto kDelay = 200ms;
  AttemptLog log;
  LoopThread thread;
  RefusingPort port;
  TestConnector connector(thread, port.address(), log, kDelay, kDelay);
  connector->start();
  ASSERT_TRUE(log.waitForErrors(1));
  connector->stop();
  letLoopRun(thread, kDelay / 2);  // the cancelled retry would still be ahead
  connector->start();
  ASSERT_TRUE(log.waitForErrors(3));
  connector.destroy();

  const std::vector<ConnectError> errors = log.errors();
  EXPECT_GE(ms(errors[2].when - errors[1].when), ms(kDelay) * 3 / 4)
      << "the third attempt came too early: the first retry timer was still armed";
}

// A program may give up from inside the report, e.g. after a number of
// attempts; the retry the Connector was about to schedule must not happen.
TEST(ConnectorTest, StopFromTheErrorCallbackEndsTheRetries) {
  constexpr auto kDelay = 20ms;
  constexpr size_t kAttempts = 3;
  AttemptLog log;
  LoopThread thread;
  RefusingPort port;
  TestConnector connector(thread, port.address(), log, kDelay, kDelay);
  Connector* const raw = connector.get();
  const Connector::ConnectErrorCallback record = log.errorCallback();
  thread.call([&] {
    raw->setConnectErrorCallback([&, record](int savedErrno, bool willRetry, Duration delay) {
      record(savedErrno, willRetry, delay);
      if (log.errors().size() == kAttempts) raw->stop();
    });
  });
  connector->start();
  ASSERT_TRUE(log.waitForErrors(kAttempts));
  EXPECT_FALSE(attemptArrivesWithin(thread, port, 5 * kDelay)) << "an attempt after stop()";
  EXPECT_EQ(log.reports(), kAttempts);
}

TEST(ConnectorTest, StopWhileAConnectIsInProgressClosesItsSocket) {
  AttemptLog log;
  FullListener listener;
  LoopThread thread;
  TestConnector connector(thread, listener.address(), log, 20ms, 20ms);
  const size_t fdsBefore = countOpenFds();
  connector->start();
  thread.settle();
  ASSERT_EQ(countOpenFds(), fdsBefore + 1) << "no socket connecting: the test cannot tell";
  connector->stop();
  thread.settle();
  EXPECT_EQ(countOpenFds(), fdsBefore) << "stop() left the connecting socket open";
  letLoopRun(thread, 60ms);
  EXPECT_EQ(log.reports(), 0u);
}

// connect(2) to an IPv6 link-local address needs the interface (the scope
// id); without one Linux says EINVAL at once, and no retry can change that.
TEST(ConnectorTest, AnErrorThatNoRetryCanCureIsReportedOnceAndItsSocketClosed) {
  AttemptLog log;
  LoopThread thread;
  TestConnector connector(thread, InetAddress("fe80::1", 9), log, 20ms, 20ms);
  const size_t fdsBefore = countOpenFds();
  connector->start();
  ASSERT_TRUE(log.waitForErrors(1));
  letLoopRun(thread, 60ms);
  const Attempts attempts = log.get();
  ASSERT_EQ(attempts.errors.size(), 1u) << "retried";
  EXPECT_EQ(attempts.errors[0].savedErrno, EINVAL) << std::strerror(attempts.errors[0].savedErrno);
  EXPECT_FALSE(attempts.errors[0].willRetry);
  EXPECT_EQ(attempts.errors[0].retryDelay, Duration::zero());
  EXPECT_EQ(attempts.connections, 0);
  EXPECT_EQ(countOpenFds(), fdsBefore) << "the failed socket was not closed";
}

// restart() is for a connection that was lost: the next wait is the initial
// delay again, however long the backoff had grown.
TEST(ConnectorTest, RestartBeginsTheBackoffAgainFromTheInitialDelay) {
  AttemptLog log;
  LoopThread thread;
  RefusingPort port;
  TestConnector connector(thread, port.address(), log, 50ms, 400ms);
  connector->start();
  ASSERT_TRUE(log.waitForErrors(3));  // the backoff grows: 50, 100, 200 ms
  // During the backoff, in the loop's thread.
  thread.call([&] { connector->restart(); });
  ASSERT_TRUE(log.waitForErrors(4));
  connector.destroy();
  const std::vector<ConnectError> errors = log.errors();
  EXPECT_EQ(ms(errors[2].retryDelay), 200);
  EXPECT_EQ(ms(errors[3].retryDelay), 50) << "restart() kept the grown delay";
}

}  // namespace
