// Chapter 1: timers and threads. Every timer function may be called from any
// thread; a timer added or cancelled while the loop sleeps takes effect at
// once; callbacks run on the loop thread and may themselves add and cancel.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"
#include "support/loop_test_support.h"

namespace {

using reactor::EventLoop;
using reactor::TimerId;
using reactor::Timestamp;
using reactor_test::Clock;
using reactor_test::kPromptly;
using reactor_test::runLoop;
using reactor_test::waitUntilAsleepInPoll;
using namespace std::chrono_literals;

TEST(TimerThreadsTest, CallbacksRunOnTheLoopThread) {
  EventLoop loop;
  const std::thread::id loopThread = std::this_thread::get_id();
  std::vector<std::thread::id> ranOn;
  auto record = [&] {
    ranOn.push_back(std::this_thread::get_id());
    EXPECT_TRUE(loop.isInLoopThread());
    if (ranOn.size() == 4) loop.quit();
  };
  loop.runAfter(1ms, record);
  std::thread other([&] {
    loop.runAfter(1ms, record);
    loop.runAfter(0.001, record);
    loop.runAt(Clock::now() + 1ms, record);
  });
  other.join();
  runLoop(loop);
  ASSERT_EQ(ranOn.size(), 4u);
  for (const std::thread::id& id : ranOn) EXPECT_EQ(id, loopThread);
}

TEST(TimerThreadsTest, AddedFromAnotherThreadWhileTheLoopSleepsItFiresPromptly) {
  EventLoop loop;
  const pid_t loopThread = ::gettid();
  // Without it the loop would sleep in poll(2) for an hour.
  loop.runAfter(1h, [] {});
  bool asleep = false;
  Timestamp addedAt;
  Timestamp firedAt;
  std::thread other([&] {
    asleep = waitUntilAsleepInPoll(loopThread);
    addedAt = Clock::now();
    loop.runAfter(10ms, [&] {
      firedAt = Clock::now();
      loop.quit();
    });
  });
  runLoop(loop);
  other.join();
  EXPECT_TRUE(asleep);
  EXPECT_GE(firedAt - addedAt, 10ms);
  EXPECT_LT(firedAt - addedAt, 10ms + kPromptly);
}

TEST(TimerThreadsTest, AnEarlierDeadlineFromAnotherThreadShortensTheSleep) {
  // The loop sleeps towards a deadline 30 s away; a timer due sooner, added
  // from elsewhere, must wake it and become the new timeout.
  EventLoop loop;
  const pid_t loopThread = ::gettid();
  bool lateRan = false;
  loop.runAfter(30s, [&] {
    lateRan = true;
    loop.quit();
  });
  bool asleep = false;
  std::thread other([&] {
    asleep = waitUntilAsleepInPoll(loopThread);
    loop.runAfter(20ms, [&] { loop.quit(); });
  });
  const Clock::duration ran = runLoop(loop);
  other.join();
  EXPECT_TRUE(asleep);
  EXPECT_FALSE(lateRan);
  EXPECT_LT(ran, kPromptly);
}

TEST(TimerThreadsTest, CancelledFromAnotherThreadWhileTheLoopSleepsItNeverRuns) {
  EventLoop loop;
  const pid_t loopThread = ::gettid();
  bool ran = false;
  TimerId doomed = loop.runAfter(300ms, [&] { ran = true; });
  loop.runAfter(600ms, [&] { loop.quit(); });
  bool asleep = false;
  std::thread other([&] {
    asleep = waitUntilAsleepInPoll(loopThread);
    loop.cancel(doomed);
  });
  runLoop(loop);
  other.join();
  EXPECT_TRUE(asleep);
  EXPECT_FALSE(ran);
}

TEST(TimerThreadsTest, AddedAndCancelledFromAnotherThreadBeforeTheLoopSawItNeverRuns) {
  EventLoop loop;
  bool ran = false;
  std::thread other([&] {
    TimerId id = loop.runAfter(0ms, [&] { ran = true; });
    loop.cancel(id);  // the loop has not even added it to its heap yet
    loop.runAfter(30ms, [&] { loop.quit(); });
  });
  other.join();
  runLoop(loop);
  EXPECT_FALSE(ran);
}

TEST(TimerThreadsTest, ManyThreadsAddTimersAtOnce) {
  constexpr int kThreads = 4;
  constexpr int kTimersPerThread = 250;
  EventLoop loop;
  std::vector<int> fired(kThreads * kTimersPerThread, 0);  // loop thread only
  int total = 0;
  std::promise<void> running;
  std::shared_future<void> started = running.get_future().share();
  loop.queueInLoop([&] { running.set_value(); });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t, started] {
      started.wait();  // add while the loop runs
      std::mt19937 rng(t);
      std::uniform_int_distribution<int> us(0, 10'000);
      for (int k = 0; k < kTimersPerThread; ++k) {
        const int index = t * kTimersPerThread + k;
        loop.runAfter(std::chrono::microseconds(us(rng)), [&, index] {
          ++fired[index];
          if (++total == kThreads * kTimersPerThread) loop.quit();
        });
      }
    });
  }
  runLoop(loop);
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(total, kThreads * kTimersPerThread);
  for (std::size_t i = 0; i < fired.size(); ++i) EXPECT_EQ(fired[i], 1) << "timer " << i;
}

TEST(TimerThreadsTest, CancelRacingWithExpiryRunsEachTimerAtMostOnce) {
  // Another thread cancels timers while they expire: each one runs once or
  // not at all, and those it leaves alone all run.
  constexpr int kTimers = 1000;
  EventLoop loop;
  std::vector<int> fired(kTimers, 0);  // loop thread only
  std::vector<TimerId> ids;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> us(0, 20'000);
  for (int i = 0; i < kTimers; ++i) {
    ids.push_back(loop.runAfter(std::chrono::microseconds(us(rng)), [&, i] { ++fired[i]; }));
  }
  loop.runAfter(200ms, [&] { loop.quit(); });
  std::promise<void> running;
  std::future<void> started = running.get_future();
  loop.queueInLoop([&] { running.set_value(); });
  std::thread canceller([&] {
    started.wait();
    for (int i = 0; i < kTimers; i += 2) loop.cancel(ids[i]);
  });
  runLoop(loop);
  canceller.join();
  for (int i = 0; i < kTimers; ++i) {
    if (i % 2 == 0) {
      EXPECT_LE(fired[i], 1) << "timer " << i;
    } else {
      EXPECT_EQ(fired[i], 1) << "timer " << i;
    }
  }
}

TEST(TimerThreadsTest, CallbacksMayAddAndCancelTimers) {
  EventLoop loop;
  bool doomedRan = false;
  bool addedRan = false;
  TimerId doomed = loop.runAfter(50ms, [&] { doomedRan = true; });
  loop.runAfter(1ms, [&] {
    loop.cancel(doomed);
    loop.runAfter(100ms, [&] {
      addedRan = true;
      loop.quit();
    });
  });
  runLoop(loop);
  EXPECT_FALSE(doomedRan);
  EXPECT_TRUE(addedRan);
}

}  // namespace
