// Chapter 1: what a timer keeps alive. Its callback, and what the callback
// captured, lives until the timer has fired for the last time, is cancelled,
// or its loop is destroyed; a TimerId keeps nothing alive and may outlive
// the loop.
#include <chrono>
#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"
#include "support/loop_test_support.h"

namespace {

using reactor::EventLoop;
using reactor::TimerId;
using reactor::Timestamp;
using reactor_test::runLoop;
using namespace std::chrono_literals;

TEST(TimerLifetimeTest, TimersThatNeverFiredAreReleasedWithTheLoop) {
  auto token = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = token;
  {
    EventLoop loop;
    loop.runAfter(1h, [token] {});
    loop.runEvery(1h, [token] {});
    loop.runAfter(1e300, [token] {});
    loop.runAt(Timestamp::max(), [token] {});
    loop.runEvery(1ms, [token] {});  // one that has fired and would fire again
    loop.runAfter(20ms, [&loop] { loop.quit(); });
    runLoop(loop);
    // Added from another thread: its addition waits in the loop's queue.
    std::thread([&loop, token] { loop.runAfter(0ms, [token] {}); }).join();
    token.reset();
    EXPECT_FALSE(watch.expired()) << "the pending timers hold the callbacks";
  }
  EXPECT_TRUE(watch.expired()) << "the loop is gone, and its timers with it";
}

TEST(TimerLifetimeTest, AFiredOrCancelledTimerReleasesItsCallback) {
  EventLoop loop;
  auto firedToken = std::make_shared<int>(0);
  auto cancelledToken = std::make_shared<int>(0);
  const std::weak_ptr<int> fired = firedToken;
  const std::weak_ptr<int> cancelled = cancelledToken;
  loop.runAfter(1ms, [firedToken] {});
  TimerId id = loop.runAfter(1h, [cancelledToken] {});
  firedToken.reset();
  cancelledToken.reset();
  loop.cancel(id);
  loop.runAfter(20ms, [&] { loop.quit(); });
  runLoop(loop);
  EXPECT_TRUE(fired.expired());
  EXPECT_TRUE(cancelled.expired());
}

TEST(TimerLifetimeTest, ATimerIdKeepsNothingAliveAndMayOutliveItsLoop) {
  auto token = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = token;
  TimerId id;
  {
    EventLoop loop;
    id = loop.runAfter(1h, [token] {});
    token.reset();
  }
  EXPECT_TRUE(watch.expired());
  TimerId copy = id;  // copying and destroying an id of a dead loop is fine
  (void)copy;
}

}  // namespace
