// Chapter 1: delays at the edges. Zero, negative and NaN delays run on the
// next iteration of the loop, never inside the call that adds them; huge and
// infinite delays saturate to a deadline that never comes, with no overflow
// (UBSan, float-cast-overflow included, stays quiet) and no busy loop; and a
// short timer beside all of them still fires.
#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <thread>
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
using reactor_test::kPromptly;
using reactor_test::runLoop;
using reactor_test::threadCpuTime;
using namespace std::chrono_literals;

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Adds one timer for every delay that must run on the next iteration, each
// calling `fired` with its label, and returns how many it added.
// (Lambdas capture copies of `label`: C++17 cannot capture a structured
// binding.)
int addDueAtOnce(EventLoop& loop, const std::function<void(std::string)>& fired) {
  const std::vector<std::pair<std::string, double>> seconds = {
      {"0.0", 0.0},         {"-0.0", -0.0}, {"-1.0", -1.0},   {"-1e300", -1e300},
      {"-inf", -kInfinity}, {"nan", kNaN},  {"1e-12", 1e-12},  // less than a tick
  };
  const std::vector<std::pair<std::string, Duration>> durations = {
      {"0ms", 0ms}, {"-5ms", -5ms}, {"Duration::min()", Duration::min()}};
  const std::vector<std::pair<std::string, Timestamp>> times = {
      {"now", Clock::now()},
      {"a day ago", Clock::now() - 24h},
      {"Timestamp()", Timestamp()},
      {"Timestamp::min()", Timestamp::min()}};
  for (const auto& [name, delay] : seconds) {
    loop.runAfter(delay, [fired, label = name] { fired(label); });
  }
  for (const auto& [name, delay] : durations) {
    loop.runAfter(delay, [fired, label = name] { fired(label); });
  }
  for (const auto& [name, when] : times) loop.runAt(when, [fired, label = name] { fired(label); });
  return static_cast<int>(seconds.size() + durations.size() + times.size());
}

// Adds one timer for every delay too long for a Duration or a Timestamp,
// which must saturate to Timestamp::max() and never run; returns how many.
int addSaturated(EventLoop& loop, const std::function<void(std::string)>& fired) {
  const std::vector<std::pair<std::string, double>> seconds = {
      {"1e300", 1e300},   {"inf", kInfinity}, {"DBL_MAX", std::numeric_limits<double>::max()},
      {"1e10 s", 1e10},    // 317 years: more than a Duration holds
      {"9.3e9 s", 9.3e9},  // just past Duration::max(), 292 years
  };
  const std::vector<std::pair<std::string, Duration>> durations = {
      {"Duration::max()", Duration::max()}, {"Duration::max() - 1ns", Duration::max() - 1ns}};
  for (const auto& [name, delay] : seconds) {
    loop.runAfter(delay, [fired, label = name] { fired("runAfter " + label); });
    loop.runEvery(delay, [fired, label = name] { fired("runEvery " + label); });
  }
  for (const auto& [name, delay] : durations) {
    loop.runAfter(delay, [fired, label = name] { fired("runAfter " + label); });
    loop.runEvery(delay, [fired, label = name] { fired("runEvery " + label); });
  }
  loop.runAt(Timestamp::max(), [=] { fired("runAt Timestamp::max()"); });
  return static_cast<int>(2 * (seconds.size() + durations.size()) + 1);
}

// Adds timers due in decades: they fit, but poll's timeout in milliseconds
// does not; returns how many.
int addDecadesAway(EventLoop& loop, const std::function<void(std::string)>& fired) {
  loop.runAfter(1e9, [=] { fired("runAfter 1e9 s"); });  // 31 years
  loop.runEvery(1e9, [=] { fired("runEvery 1e9 s"); });
  loop.runAfter(200 * 8766h, [=] { fired("runAfter 200 years"); });
  loop.runEvery(200 * 8766h, [=] { fired("runEvery 200 years"); });
  return 4;
}

// Runs `loop` for a while with only the timers that `add` adds, and checks
// that none of them fires and that the loop sleeps in poll(2) instead of
// spinning on a timeout that overflowed to zero.
void expectNeverDueAndAsleep(
    EventLoop& loop,
    const std::function<int(EventLoop&, const std::function<void(std::string)>&)>& add) {
  int fired = 0;
  add(loop, [&](const std::string&) { ++fired; });
  // Another loop, in another thread, ends this one after a while.
  std::thread window([&] {
    EventLoop windowLoop;
    windowLoop.runAfter(200ms, [&] {
      loop.quit();
      windowLoop.quit();
    });
    windowLoop.loop();
  });
  const Clock::duration cpuBefore = threadCpuTime();
  const Clock::duration wall = runLoop(loop);
  const Clock::duration cpu = threadCpuTime() - cpuBefore;
  window.join();
  EXPECT_EQ(fired, 0);
  EXPECT_GE(wall, 150ms);
  EXPECT_LT(cpu, 50ms) << "the loop spun: "
                       << std::chrono::duration<double, std::milli>(cpu).count() << " ms of CPU in "
                       << std::chrono::duration<double, std::milli>(wall).count() << " ms";
}

TEST(TimerLimitsTest, ZeroNegativeAndNanDelaysNeverRunInsideTheCallThatAddsThem) {
  EventLoop loop;
  int fired = 0;
  const int outside = addDueAtOnce(loop, [&](const std::string&) { ++fired; });
  EXPECT_EQ(fired, 0) << "ran inside runAfter() or runAt(), before loop()";
  int inside = 0;
  loop.runAfter(1ms, [&] {
    const int before = fired;
    inside = addDueAtOnce(loop, [&](const std::string&) {
      if (++fired == outside + inside) loop.quit();
    });
    EXPECT_EQ(fired, before) << "ran inside runAfter() or runAt(), in a callback";
  });
  runLoop(loop);
  EXPECT_EQ(fired, outside + inside);
}

TEST(TimerLimitsTest, ZeroNegativeAndNanDelaysFireOnTheNextIteration) {
  // A functor queued by a callback runs at the end of the loop's current
  // iteration; timers added by the same callback with nothing to wait for
  // come after it: in the next iteration, not in the batch that is running.
  EventLoop loop;
  bool functorRan = false;
  std::vector<std::string> early;  // timers that ran before the functor
  int expected = 0;
  int fired = 0;
  loop.runAfter(1ms, [&] {
    loop.queueInLoop([&] { functorRan = true; });
    expected = addDueAtOnce(loop, [&](const std::string& label) {
      if (!functorRan) early.push_back(label);
      if (++fired == expected) loop.quit();
    });
  });
  const Clock::duration ran = runLoop(loop);
  EXPECT_EQ(fired, expected);
  EXPECT_TRUE(early.empty()) << "first to run in the same iteration: " << early.front();
  EXPECT_LT(ran, kPromptly);
}

TEST(TimerLimitsTest, DeadlinesLongPastFireAtOnceInDeadlineOrder) {
  // The earliest deadline becomes poll's timeout; a deadline as far in the
  // past as Timestamp::min() must give 0, not an overflow.
  EventLoop loop;
  std::vector<std::string> order;
  // The steady clock counts from boot: Timestamp() may be less than a day ago.
  const Timestamp momentAgo = Clock::now() - 1ms;
  loop.runAt(momentAgo, [&] { order.push_back("a moment ago"); });
  loop.runAt(Timestamp(), [&] { order.push_back("Timestamp()"); });
  loop.runAt(Timestamp::min(), [&] { order.push_back("Timestamp::min()"); });
  loop.runAt(momentAgo, [&] { loop.quit(); });
  EXPECT_LT(runLoop(loop), kPromptly);
  EXPECT_EQ(order, (std::vector<std::string>{"Timestamp::min()", "Timestamp()", "a moment ago"}));
}

TEST(TimerLimitsTest, HugeAndInfiniteDelaysNeverFireAndAShortTimerBesideThemDoes) {
  EventLoop loop;
  std::vector<std::string> fired;
  auto record = [&](const std::string& label) { fired.push_back(label); };
  addSaturated(loop, record);
  addDecadesAway(loop, record);
  bool shortRan = false;
  loop.runAfter(20ms, [&] {
    shortRan = true;
    loop.runAfter(50ms, [&] { loop.quit(); });  // time for anything that wrapped around
  });
  addSaturated(loop, record);
  addDecadesAway(loop, record);
  const Clock::duration ran = runLoop(loop);
  EXPECT_TRUE(shortRan);
  EXPECT_TRUE(fired.empty()) << "fired: " << fired.front();
  EXPECT_LT(ran, kPromptly);
}

TEST(TimerLimitsTest, SaturatedDelaysLetTheLoopSleep) {
  EventLoop loop;
  expectNeverDueAndAsleep(loop, addSaturated);
}

TEST(TimerLimitsTest, DelaysOfDecadesLetTheLoopSleep) {
  EventLoop loop;
  expectNeverDueAndAsleep(loop, addDecadesAway);
}

TEST(TimerLimitsTest, ZeroNegativeAndNanIntervalsRepeatOncePerIteration) {
  EventLoop loop;
  // A functor that queues itself again runs once per iteration: it counts them.
  int iteration = 0;
  std::function<void()> countIterations = [&] {
    ++iteration;
    loop.queueInLoop(countIterations);
  };
  loop.queueInLoop(countIterations);

  constexpr std::size_t kTicks = 4;
  std::vector<std::vector<int>> ticks;  // per timer, the iterations it ran in
  std::vector<TimerId> ids;
  std::size_t done = 0;
  auto tick = [&](std::size_t timer) {
    ticks[timer].push_back(iteration);
    if (ticks[timer].size() == kTicks) {
      loop.cancel(ids[timer]);
      if (++done == ids.size()) loop.runAfter(20ms, [&] { loop.quit(); });
    }
  };
  const std::vector<double> seconds = {0.0, -1.0, kNaN, -kInfinity};
  const std::vector<Duration> durations = {0ms, -5ms, Duration::min()};
  ticks.resize(seconds.size() + durations.size());
  for (double interval : seconds) {
    const std::size_t timer = ids.size();
    ids.push_back(loop.runEvery(interval, [&, timer] { tick(timer); }));
  }
  for (Duration interval : durations) {
    const std::size_t timer = ids.size();
    ids.push_back(loop.runEvery(interval, [&, timer] { tick(timer); }));
  }
  runLoop(loop);
  for (std::size_t timer = 0; timer < ticks.size(); ++timer) {
    ASSERT_EQ(ticks[timer].size(), kTicks) << "timer " << timer << " stopped or went on";
    for (std::size_t k = 1; k < kTicks; ++k) {
      EXPECT_LT(ticks[timer][k - 1], ticks[timer][k])
          << "timer " << timer << " ran twice in one iteration";
    }
  }
}

}  // namespace
