// Chapter 1: cancel(). Harmless before, after, twice and with a default id;
// effective even for a timer already taken out of the heap with its expired
// batch (muduo issue #668); and never reaching a newer timer through an old id
// (muduo issue #548).
#include <chrono>
#include <functional>
#include <memory>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"
#include "support/loop_test_support.h"

namespace {

using reactor::EventLoop;
using reactor::TimerId;
using reactor::Timestamp;
using reactor_test::Clock;
using reactor_test::runLoop;
using namespace std::chrono_literals;

TEST(TimerCancelTest, TimerIdIsASmallCopyableValue) {
  static_assert(std::is_nothrow_default_constructible_v<TimerId>);
  static_assert(std::is_copy_constructible_v<TimerId>);
  static_assert(std::is_copy_assignable_v<TimerId>);
  static_assert(std::is_nothrow_move_constructible_v<TimerId>);
  static_assert(sizeof(TimerId) <= 4 * sizeof(void*));
}

TEST(TimerCancelTest, BeforeItFiresItNeverRuns) {
  EventLoop loop;
  bool ran = false;
  TimerId id = loop.runAfter(5ms, [&] { ran = true; });
  loop.cancel(id);
  loop.runAfter(30ms, [&] { loop.quit(); });
  runLoop(loop);
  EXPECT_FALSE(ran);
}

TEST(TimerCancelTest, FromAnotherTimerBeforeItFiresItNeverRuns) {
  EventLoop loop;
  bool ran = false;
  TimerId id = loop.runAfter(20ms, [&] { ran = true; });
  loop.runAfter(1ms, [&] { loop.cancel(id); });
  loop.runAfter(50ms, [&] { loop.quit(); });
  runLoop(loop);
  EXPECT_FALSE(ran);
}

TEST(TimerCancelTest, TwiceIsHarmless) {
  EventLoop loop;
  bool ran = false;
  TimerId id = loop.runAfter(5ms, [&] { ran = true; });
  loop.cancel(id);
  loop.cancel(id);
  loop.runAfter(1ms, [&] { loop.cancel(id); });  // and once more from a callback
  loop.runAfter(30ms, [&] { loop.quit(); });
  runLoop(loop);
  EXPECT_FALSE(ran);
}

TEST(TimerCancelTest, AfterItFiredIsHarmless) {
  EventLoop loop;
  int runs = 0;
  TimerId id = loop.runAfter(1ms, [&] { ++runs; });
  loop.runAfter(10ms, [&] {
    loop.cancel(id);
    loop.quit();
  });
  runLoop(loop);
  loop.cancel(id);  // and outside the loop
  EXPECT_EQ(runs, 1);
}

TEST(TimerCancelTest, DefaultIdIsHarmless) {
  EventLoop loop;
  loop.cancel(TimerId());  // before loop()
  bool ran = false;
  loop.runAfter(1ms, [&] {
    loop.cancel(TimerId());  // inside it
    ran = true;
    loop.quit();
  });
  runLoop(loop);
  EXPECT_TRUE(ran);
}

TEST(TimerCancelTest, ACopyOfAnIdCancelsTheSameTimer) {
  EventLoop loop;
  bool ran = false;
  const TimerId original = loop.runAfter(5ms, [&] { ran = true; });
  TimerId copy;
  copy = original;
  loop.cancel(copy);
  loop.runAfter(30ms, [&] { loop.quit(); });
  runLoop(loop);
  EXPECT_FALSE(ran);
}

TEST(TimerCancelTest, ByAnEarlierTimerOfTheSameBatchItDoesNotRun) {
  // muduo issue #668: two timers are due at once; the first one's callback
  // cancels the second. Both have already left the heap for the batch that
  // is running, so only a mark on the timer itself can stop the second.
  EventLoop loop;
  const Timestamp when = Clock::now() + 5ms;  // equal deadlines: one batch, in add order
  bool secondRan = false;
  TimerId second;
  loop.runAt(when, [&] { loop.cancel(second); });
  second = loop.runAt(when, [&] { secondRan = true; });
  loop.runAt(when, [&] { loop.quit(); });
  runLoop(loop);
  EXPECT_FALSE(secondRan);
}

TEST(TimerCancelTest, ARepeatingTimerCancelledInTheSameBatchNeverRuns) {
  // The same with a repeating timer, which must not come back either. A
  // blocker holds the loop until both timers are due, so that they expire
  // in one batch, the cancelling one first.
  EventLoop loop;
  const Timestamp start = Clock::now();
  int ticks = 0;
  TimerId ticker = loop.runEvery(100ms, [&] { ++ticks; });
  loop.runAt(start + 50ms, [&] { loop.cancel(ticker); });
  loop.runAt(start, [&] {
    // Blocking here is the scenario, not a way to synchronise.
    while (Clock::now() < start + 150ms) {
    }
  });
  loop.runAt(start + 400ms, [&] { loop.quit(); });
  runLoop(loop);
  EXPECT_EQ(ticks, 0);
}

TEST(TimerCancelTest, AnOldIdNeverCancelsANewerTimer) {
  // muduo issue #548: there a TimerId was a raw pointer plus a sequence
  // number; here it is a weak_ptr, which can never reach another timer.
  EventLoop loop;
  TimerId fired = loop.runAfter(0ms, [] {});
  TimerId cancelled = loop.runAfter(1h, [] {});
  loop.cancel(cancelled);
  loop.runAfter(5ms, [&] { loop.quit(); });
  runLoop(loop);  // `fired` has fired; both ids are now old

  bool newerRan = false;
  loop.runAfter(5ms, [&] {
    newerRan = true;
    loop.quit();
  });
  loop.cancel(fired);
  loop.cancel(cancelled);
  runLoop(loop);
  EXPECT_TRUE(newerRan);
}

TEST(TimerCancelTest, OldIdsInALongChainOfTimersCancelNothing) {
  // Timer k cancels the ids of timer k-1 (fired) and of timer 0, then adds
  // timer k+1. Each new timer may reuse the memory of one that just went
  // away; an id that mistook a newer timer for its own would break the chain.
  EventLoop loop;
  constexpr int kLinks = 1000;
  std::vector<TimerId> ids;
  std::function<void()> link = [&] {
    loop.cancel(ids.front());
    loop.cancel(ids.back());  // this very timer: not repeating, so harmless
    if (ids.size() > 1) loop.cancel(ids[ids.size() - 2]);
    if (ids.size() == kLinks) {
      loop.quit();
    } else {
      ids.push_back(loop.runAfter(0ms, link));
    }
  };
  ids.push_back(loop.runAfter(0ms, link));
  runLoop(loop);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kLinks));
}

}  // namespace
