// Chapter 1: repeating timers. runEvery() repeats until cancelled, never runs
// before each interval is up, may cancel itself, and after the loop fell
// behind it fires once instead of catching up in a burst.
#include <chrono>
#include <cstddef>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"
#include "support/loop_test_support.h"

namespace {

using reactor::Duration;
using reactor::EventLoop;
using reactor::TimerId;
using reactor::Timestamp;
using reactor_test::Clock;
using reactor_test::runLoop;
using namespace std::chrono_literals;

TEST(TimerRepeatTest, RepeatsUntilCancelled) {
  EventLoop loop;
  int ticks = 0;
  TimerId ticker;
  ticker = loop.runEvery(2ms, [&] {
    if (++ticks == 5) {
      // Another timer cancels it, due before the ticker's next run.
      loop.runAfter(0ms, [&] { loop.cancel(ticker); });
      loop.runAfter(50ms, [&] { loop.quit(); });
    }
  });
  runLoop(loop);
  EXPECT_EQ(ticks, 5);
}

TEST(TimerRepeatTest, EachRunComesAFullIntervalAfterThePrevious) {
  EventLoop loop;
  constexpr Duration kInterval = 3ms;
  const Timestamp start = Clock::now();
  std::vector<Timestamp> ticks;
  TimerId ticker;
  ticker = loop.runEvery(kInterval, [&] {
    ticks.push_back(Clock::now());
    if (ticks.size() == 10) {
      loop.cancel(ticker);
      loop.quit();
    }
  });
  runLoop(loop);
  ASSERT_EQ(ticks.size(), 10u);
  EXPECT_GE(ticks[0] - start, kInterval);
  for (std::size_t i = 1; i < ticks.size(); ++i) {
    // Rescheduled from the time its batch started, which is before the
    // previous tick recorded the clock: allow that sliver.
    EXPECT_GE(ticks[i] - ticks[i - 1], kInterval - 1ms) << "tick " << i;
  }
}

TEST(TimerRepeatTest, TakesSecondsOrADuration) {
  EventLoop loop;
  int bySeconds = 0;
  int byDuration = 0;
  TimerId seconds;
  TimerId duration;
  auto maybeQuit = [&] {
    if (bySeconds >= 3 && byDuration >= 3) loop.quit();
  };
  seconds = loop.runEvery(0.002, [&] {
    if (++bySeconds == 3) loop.cancel(seconds);
    maybeQuit();
  });
  duration = loop.runEvery(2ms, [&] {
    if (++byDuration == 3) loop.cancel(duration);
    maybeQuit();
  });
  runLoop(loop);
  EXPECT_EQ(bySeconds, 3);
  EXPECT_EQ(byDuration, 3);
}

TEST(TimerRepeatTest, CancelsItselfFromItsOwnCallback) {
  EventLoop loop;
  int ticks = 0;
  TimerId ticker;
  ticker = loop.runEvery(1ms, [&] {
    if (++ticks == 3) {
      loop.cancel(ticker);
      loop.runAfter(30ms, [&] { loop.quit(); });  // time for runs that must not come
    }
  });
  runLoop(loop);
  EXPECT_EQ(ticks, 3);
}

TEST(TimerRepeatTest, AfterFallingBehindFiresOnceNotInABurst) {
  // A repeating timer whose loop was blocked for ten of its intervals. A
  // timer that kept its missed deadlines (deadline += interval) would now run
  // ten times back to back to catch up; this one runs once and is then
  // rescheduled an interval after that run.
  EventLoop loop;
  constexpr Duration kInterval = 10ms;
  std::vector<Timestamp> ticks;
  TimerId ticker;
  ticker = loop.runEvery(kInterval, [&] {
    ticks.push_back(Clock::now());
    if (ticks.size() == 6) {
      loop.cancel(ticker);
      loop.quit();
    }
  });
  loop.runAfter(15ms, [kInterval] {
    // Block the loop thread, as a slow callback would. (Waiting here is the
    // scenario, not a way to synchronise with anything.)
    const Timestamp until = Clock::now() + 10 * kInterval;
    while (Clock::now() < until) {
    }
  });
  runLoop(loop);
  ASSERT_EQ(ticks.size(), 6u);
  EXPECT_GE(ticks[1] - ticks[0], 9 * kInterval) << "the blocker did not delay the second tick";
  for (std::size_t i = 2; i < ticks.size(); ++i) {
    EXPECT_GE(ticks[i] - ticks[i - 1], kInterval / 2) << "tick " << i << " came in a burst";
  }
}

}  // namespace
