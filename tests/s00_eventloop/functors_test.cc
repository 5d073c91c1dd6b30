// Chapter 0: handing work to a loop. runInLoop() and queueInLoop() from any
// thread, the order functors run in, and the wakeup that keeps none waiting.
#include <unistd.h>

#include <array>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"
#include "support/loop_test_support.h"

namespace {

using reactor::EventLoop;
using reactor_test::Clock;
using reactor_test::kPromptly;
using reactor_test::runLoop;
using reactor_test::waitUntilAsleepInPoll;
using namespace std::chrono_literals;

TEST(FunctorsTest, RunInLoopInTheOwnerThreadRunsAtOnce) {
  EventLoop loop;
  bool ran = false;
  loop.runInLoop([&] { ran = true; });  // loop() has not started: still the loop thread
  EXPECT_TRUE(ran);
}

TEST(FunctorsTest, RunInLoopInsideTheLoopRunsBeforeItReturns) {
  EventLoop loop;
  bool ranBeforeReturn = false;
  loop.queueInLoop([&] {
    bool ran = false;
    loop.runInLoop([&] { ran = true; });
    ranBeforeReturn = ran;
    loop.quit();
  });
  runLoop(loop);
  EXPECT_TRUE(ranBeforeReturn);
}

TEST(FunctorsTest, QueueInLoopInTheOwnerThreadDefers) {
  EventLoop loop;
  bool ran = false;
  loop.queueInLoop([&] { ran = true; });
  EXPECT_FALSE(ran);
  loop.queueInLoop([&] { loop.quit(); });
  runLoop(loop);
  EXPECT_TRUE(ran);
}

TEST(FunctorsTest, QueueInLoopInsideTheLoopDefers) {
  EventLoop loop;
  std::vector<int> order;
  loop.queueInLoop([&] {
    loop.queueInLoop([&] {
      order.push_back(2);
      loop.quit();
    });
    order.push_back(1);  // the queued functor has not run yet
  });
  runLoop(loop);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(FunctorsTest, FunctorsQueuedByTheOwnerBeforeLoopRunAsItStarts) {
  // muduo issue #260: there a functor queued by the owner thread outside the
  // loop's functor batch wrote no wakeup, and waited for poll's timeout.
  EventLoop loop;
  bool ran = false;
  loop.queueInLoop([&] { ran = true; });
  loop.queueInLoop([&] { loop.quit(); });
  EXPECT_LT(runLoop(loop), kPromptly);
  EXPECT_TRUE(ran);
}

TEST(FunctorsTest, FunctorsQueuedByAnotherThreadBeforeLoopRunAsItStarts) {
  EventLoop loop;
  bool ran = false;
  std::thread other([&] {
    loop.runInLoop([&] { ran = true; });  // not the loop thread: queued
    loop.queueInLoop([&] { loop.quit(); });
  });
  other.join();
  EXPECT_LT(runLoop(loop), kPromptly);
  EXPECT_TRUE(ran);
}

TEST(FunctorsTest, FunctorsQueuedBeforeLoopRunInTheOrderQueued) {
  EventLoop loop;
  std::vector<int> order;
  loop.queueInLoop([&] { order.push_back(1); });
  std::thread other([&] {
    loop.runInLoop([&] { order.push_back(2); });
    loop.queueInLoop([&] { order.push_back(3); });
  });
  other.join();
  loop.queueInLoop([&] { order.push_back(4); });
  loop.queueInLoop([&] { loop.quit(); });
  runLoop(loop);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST(FunctorsTest, QueueInLoopFromAnotherThreadWakesTheSleepingLoop) {
  EventLoop loop;
  const pid_t loopThread = ::gettid();
  bool asleep = false;
  Clock::time_point queuedAt;
  bool ranInLoopThread = false;
  std::thread other([&] {
    asleep = waitUntilAsleepInPoll(loopThread);
    queuedAt = Clock::now();
    loop.queueInLoop([&] {
      ranInLoopThread = ::gettid() == loopThread;
      loop.quit();
    });
  });
  runLoop(loop);
  const Clock::time_point returnedAt = Clock::now();
  other.join();
  EXPECT_TRUE(asleep);
  EXPECT_TRUE(ranInLoopThread);
  EXPECT_LT(returnedAt - queuedAt, kPromptly);
}

// A loop that never drains its eventfd after a wakeup finds it readable again
// at once, every iteration: it runs the functor, then spins instead of
// sleeping. Only a second look at its state after the wakeup tells.
TEST(FunctorsTest, AfterAWakeupTheLoopSleepsAgain) {
  EventLoop loop;
  const pid_t loopThread = ::gettid();
  bool asleepBefore = false;
  bool asleepAfter = false;
  std::promise<void> ran;
  std::thread other([&] {
    asleepBefore = waitUntilAsleepInPoll(loopThread);
    loop.queueInLoop([&] { ran.set_value(); });
    ran.get_future().wait();
    asleepAfter = waitUntilAsleepInPoll(loopThread);
    loop.quit();
  });
  runLoop(loop);
  other.join();
  EXPECT_TRUE(asleepBefore);
  EXPECT_TRUE(asleepAfter) << "after a wakeup the loop should sleep again, not spin on the eventfd";
}

TEST(FunctorsTest, ManyProducersEachFunctorRunsOnceInOrderInTheLoopThread) {
  constexpr int kProducers = 4;
  constexpr int kFunctorsEach = 25'000;
  EventLoop loop;
  const std::thread::id loopThread = std::this_thread::get_id();
  // Touched only in the loop thread, so no lock.
  std::array<int, kProducers> next{};  // the number each producer's next functor must carry
  int ran = 0;
  int outOfOrder = 0;
  int inWrongThread = 0;

  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kFunctorsEach; ++i) {
        auto functor = [&, p, i] {
          if (std::this_thread::get_id() != loopThread || !loop.isInLoopThread()) ++inWrongThread;
          if (next[p] != i) ++outOfOrder;
          next[p] = i + 1;
          if (++ran == kProducers * kFunctorsEach) loop.quit();
        };
        // Both ways in, mixed: from a producer thread they queue alike.
        if (i % 2 == 0) {
          loop.runInLoop(functor);
        } else {
          loop.queueInLoop(functor);
        }
      }
    });
  }
  runLoop(loop, 60s);
  for (std::thread& producer : producers) producer.join();
  // Anything still queued (a functor handed over twice) would run now.
  loop.queueInLoop([&] { loop.quit(); });
  runLoop(loop);

  EXPECT_EQ(ran, kProducers * kFunctorsEach);
  EXPECT_EQ(outOfOrder, 0);
  EXPECT_EQ(inWrongThread, 0);
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kFunctorsEach) << "producer " << p;
}

TEST(FunctorsTest, FunctorThatQueuesAFunctorNeverLeavesTheLoopAsleep) {
  // A functor queued while the loop runs its batch is not in that batch (the
  // batch was swapped out); without a wakeup of its own the loop would sleep
  // with work queued.
  constexpr int kChain = 1000;
  EventLoop loop;
  int links = 0;
  std::function<void()> link = [&] {
    if (++links == kChain) {
      loop.quit();
    } else {
      loop.queueInLoop(link);
    }
  };
  // Queued from another thread, whose wakeup is not in question here.
  std::thread other([&] { loop.queueInLoop(link); });
  other.join();
  EXPECT_LT(runLoop(loop, 10s), 5s);
  EXPECT_EQ(links, kChain);
}

TEST(FunctorsTest, FunctorsNeverRunAreDestroyedWithTheLoop) {
  auto captured = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = captured;
  auto ran = std::make_shared<int>(0);  // outlives the loop
  {
    EventLoop loop;
    loop.queueInLoop([captured, ran] { ++*ran; });
    std::thread other([&loop, captured, ran] { loop.queueInLoop([captured, ran] { ++*ran; }); });
    other.join();
    captured.reset();
    EXPECT_EQ(watch.use_count(), 2) << "each queued functor holds its copy";
  }
  EXPECT_TRUE(watch.expired()) << "the loop's destructor released what its functors captured";
  EXPECT_EQ(*ran, 0);
}

TEST(FunctorsTest, FunctorsQueuedAfterTheLoopReturnedAreDestroyedWithIt) {
  auto captured = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = captured;
  auto ran = std::make_shared<int>(0);
  {
    EventLoop loop;
    loop.queueInLoop([&loop] { loop.quit(); });
    runLoop(loop);
    std::thread other([&loop, captured, ran] { loop.runInLoop([captured, ran] { ++*ran; }); });
    other.join();
    captured.reset();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(*ran, 0);
}

}  // namespace
