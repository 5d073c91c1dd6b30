// Chapter 1: when timers fire. Never before the deadline, soon after it, in
// deadline order, equal deadlines in the order they were added, and with the
// loop asleep in between rather than spinning.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <numeric>
#include <random>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"
#include "support/loop_test_support.h"

namespace {

using reactor::Duration;
using reactor::EventLoop;
using reactor::Timestamp;
using reactor_test::Clock;
using reactor_test::kPromptly;
using reactor_test::runLoop;
using reactor_test::threadCpuTime;
using namespace std::chrono_literals;

TEST(TimerDeadlineTest, DeadlinesAreOnTheMonotonicClock) {
  // A wall-clock deadline stalls when someone sets the clock back (muduo
  // issue #168); the steady clock is never set.
  static_assert(std::is_same_v<Timestamp, std::chrono::steady_clock::time_point>);
  static_assert(std::is_same_v<Duration, std::chrono::steady_clock::duration>);
  static_assert(Clock::is_steady);
}

TEST(TimerDeadlineTest, NeverFiresBeforeItsDeadline) {
  // Delays that are not whole milliseconds, where a timeout rounded down
  // would wake the loop before the deadline.
  const std::vector<Duration> delays = {0ns, 300us,  1ms,  1500us,  2700us,
                                        5ms, 9999us, 10ms, 12345us, 25ms};
  EventLoop loop;
  std::size_t fired = 0;
  const std::size_t expected = 3 * delays.size();
  auto check = [&](Timestamp deadline) {
    EXPECT_GE(Clock::now(), deadline) << "fired early";
    if (++fired == expected) loop.quit();
  };
  for (Duration delay : delays) {
    const Timestamp when = Clock::now() + delay;
    loop.runAt(when, [=] { check(when); });
    // runAfter measures from its own call, which is no earlier than `before`.
    const Timestamp before = Clock::now();
    loop.runAfter(delay, [=] { check(before + delay); });
    const double seconds = std::chrono::duration<double>(delay).count();
    const Timestamp beforeSeconds = Clock::now();
    loop.runAfter(seconds, [=] { check(beforeSeconds + delay - 1ns); });  // the double may round
  }
  runLoop(loop);
  EXPECT_EQ(fired, expected);
}

TEST(TimerDeadlineTest, FiresSoonAfterItsDeadline) {
  EventLoop loop;
  const Timestamp start = Clock::now();
  Timestamp firedAt;
  loop.runAfter(20ms, [&] {
    firedAt = Clock::now();
    loop.quit();
  });
  runLoop(loop);
  EXPECT_GE(firedAt - start, 20ms);
  EXPECT_LT(firedAt - start, 20ms + kPromptly);
}

TEST(TimerDeadlineTest, PollTimeoutIsRoundedUpSoTheLoopSleepsUntilTheDeadline) {
  // A chain of timers 0.9 ms apart. poll(2) counts in whole milliseconds: a
  // timeout rounded down to 0 would make the loop spin through every 0.9 ms,
  // burning the CPU; rounded up to 1 it sleeps.
  EventLoop loop;
  constexpr int kHops = 100;
  int hops = 0;
  std::function<void()> hop = [&] {
    if (++hops == kHops) {
      loop.quit();
    } else {
      loop.runAfter(900us, hop);
    }
  };
  loop.runAfter(900us, hop);
  const Clock::duration cpuBefore = threadCpuTime();
  const Clock::duration wall = runLoop(loop);
  const Clock::duration cpu = threadCpuTime() - cpuBefore;
  EXPECT_EQ(hops, kHops);
  EXPECT_GE(wall, kHops * 900us);
  EXPECT_LT(cpu, wall / 2) << "the loop spun instead of sleeping until each deadline: "
                           << std::chrono::duration<double, std::milli>(cpu).count()
                           << " ms of CPU in "
                           << std::chrono::duration<double, std::milli>(wall).count() << " ms";
}

TEST(TimerDeadlineTest, FiresInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> order(20);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  const Timestamp base = Clock::now();
  std::vector<int> fired;
  for (int k : order) {  // added in shuffled order, timer k due after k ms
    loop.runAt(base + k * 1ms, [&, k] {
      fired.push_back(k);
      if (fired.size() == order.size()) loop.quit();
    });
  }
  runLoop(loop);
  std::vector<int> expected(order.size());
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(fired, expected);
}

TEST(TimerDeadlineTest, EqualDeadlinesFireInTheOrderTheyWereAdded) {
  EventLoop loop;
  const Timestamp early = Clock::now() + 5ms;
  const Timestamp late = early + 5ms;
  std::vector<int> fired;
  for (int k = 0; k < 40; ++k) {
    // Even k due late, odd k due early, interleaved as they are added.
    loop.runAt(k % 2 == 0 ? late : early, [&, k] { fired.push_back(k); });
  }
  loop.runAt(late, [&] { loop.quit(); });  // added last, so it runs last
  runLoop(loop);
  std::vector<int> expected;
  for (int k = 1; k < 40; k += 2) expected.push_back(k);
  for (int k = 0; k < 40; k += 2) expected.push_back(k);
  EXPECT_EQ(fired, expected);
}

TEST(TimerDeadlineTest, HundredThousandRandomTimersFireOnceInDeadlineOrder) {
  constexpr int kTimers = 100'000;
  EventLoop loop;
  // Deadlines on a 0.1 ms grid within 200 ms: about fifty timers share each
  // deadline, so the tie rule is tested as much as the order.
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> tenthsOfMs(0, 2000);
  // Far enough ahead that most deadlines are still to come once all the
  // timers are added, even in a slow sanitizer build.
  const Timestamp base = Clock::now() + 300ms;
  std::vector<Timestamp> deadlines(kTimers);
  std::vector<int> fired;
  fired.reserve(kTimers);
  int early = 0;
  for (int i = 0; i < kTimers; ++i) {
    deadlines[i] = base + tenthsOfMs(rng) * 100us;
    loop.runAt(deadlines[i], [&, i] {
      if (Clock::now() < deadlines[i]) ++early;
      fired.push_back(i);
      if (fired.size() == static_cast<std::size_t>(kTimers)) loop.quit();
    });
  }
  runLoop(loop);

  EXPECT_EQ(early, 0);
  std::vector<int> timesFired(kTimers, 0);
  for (int i : fired) ++timesFired[i];
  EXPECT_EQ(std::count(timesFired.begin(), timesFired.end(), 1), kTimers)
      << "every timer fires exactly once";
  // The order to expect: by deadline, and in the order added for equal ones.
  std::vector<int> expected(kTimers);
  std::iota(expected.begin(), expected.end(), 0);
  std::stable_sort(expected.begin(), expected.end(),
                   [&](int a, int b) { return deadlines[a] < deadlines[b]; });
  ASSERT_EQ(fired.size(), expected.size());
  const auto mismatch = std::mismatch(fired.begin(), fired.end(), expected.begin());
  EXPECT_TRUE(mismatch.first == fired.end())
      << "position " << (mismatch.first - fired.begin()) << ": timer " << *mismatch.first
      << " fired where timer " << *mismatch.second << " was due";
}

TEST(TimerDeadlineTest, PendingTimersWaitForTheNextRunOfTheLoop) {
  EventLoop loop;
  bool fired = false;
  loop.runAfter(30ms, [&] {
    fired = true;
    loop.quit();
  });
  loop.runAfter(1ms, [&] { loop.quit(); });
  runLoop(loop);
  EXPECT_FALSE(fired);
  runLoop(loop);  // the loop runs again, and the timer is still there
  EXPECT_TRUE(fired);
}

}  // namespace
