// Chapter 0: a loop sleeps while it has nothing to do, and quit() ends it
// promptly from any thread, even when it comes before loop().
#include <unistd.h>

#include <thread>

#include "gtest/gtest.h"
#include "support/loop_test_support.h"
#include "reactor/EventLoop.h"

namespace {

using reactor::EventLoop;
using reactor_test::Clock;
using reactor_test::kPromptly;
using reactor_test::runLoop;
using reactor_test::waitUntilAsleepInPoll;

TEST(QuitTest, IdleLoopSleepsInPoll) {
  EventLoop loop;
  const pid_t loopThread = ::gettid();
  bool asleep = false;
  std::thread other([&] {
    asleep = waitUntilAsleepInPoll(loopThread);
    loop.quit();
  });
  runLoop(loop);
  other.join();
  EXPECT_TRUE(asleep) << "an idle loop should sleep in poll(2), not spin";
}

TEST(QuitTest, QuitFromAnotherThreadWakesTheSleepingLoop) {
  EventLoop loop;
  const pid_t loopThread = ::gettid();
  bool asleep = false;
  Clock::time_point quitAt;
  std::thread other([&] {
    asleep = waitUntilAsleepInPoll(loopThread);
    quitAt = Clock::now();
    loop.quit();
  });
  runLoop(loop);
  const Clock::time_point returnedAt = Clock::now();
  other.join();
  EXPECT_TRUE(asleep);
  EXPECT_LT(returnedAt - quitAt, kPromptly);
}

TEST(QuitTest, QuitInAFunctorEndsTheLoop) {
  EventLoop loop;
  bool ran = false;
  loop.queueInLoop([&] {
    loop.quit();
    ran = true;  // quit() asks; the functor still runs to its end
  });
  EXPECT_LT(runLoop(loop), kPromptly);
  EXPECT_TRUE(ran);
}

TEST(QuitTest, QuitBeforeLoopIsNotLost) {
  EventLoop loop;
  loop.quit();
  EXPECT_LT(runLoop(loop), kPromptly);
}

TEST(QuitTest, QuitFromAnotherThreadBeforeLoopIsNotLost) {
  EventLoop loop;
  std::thread other([&loop] { loop.quit(); });
  other.join();
  EXPECT_LT(runLoop(loop), kPromptly);
}

TEST(QuitTest, LoopRunsAgainAfterItReturned) {
  EventLoop loop;
  int runs = 0;
  for (int i = 0; i < 3; ++i) {
    loop.queueInLoop([&] {
      ++runs;
      loop.quit();
    });
    EXPECT_LT(runLoop(loop), kPromptly);
    EXPECT_EQ(runs, i + 1);
  }
}

TEST(QuitTest, EarlyQuitEndsOnlyTheNextLoop) {
  EventLoop loop;
  loop.quit();
  EXPECT_LT(runLoop(loop), kPromptly);
  // The quit is used up: this run lasts until its own quit, so the functor
  // runs first.
  bool ran = false;
  loop.queueInLoop([&] {
    ran = true;
    loop.quit();
  });
  EXPECT_LT(runLoop(loop), kPromptly);
  EXPECT_TRUE(ran);
}

}  // namespace
