// Chapter 4: EventLoopThread, a thread that owns one loop. startLoop() hands
// back a loop that already runs its init callback's setup; the destructor ends
// the loop promptly whatever it still has to do.
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/CurrentThread.h"
#include "reactor/EventLoop.h"
#include "reactor/EventLoopThread.h"
#include "support/loop_test_support.h"
#include "thread_test_support.h"

namespace {

using reactor::EventLoop;
using reactor::EventLoopThread;
using reactor_test::callInLoop;
using reactor_test::Clock;
using reactor_test::kPromptly;
using reactor_test::Place;

TEST(EventLoopThreadTest, StartLoopReturnsALoopRunningInTheNewThread) {
  EventLoopThread thread;
  EventLoop* loop = thread.startLoop();
  ASSERT_NE(loop, nullptr);
  EXPECT_FALSE(loop->isInLoopThread());
  const Place place = callInLoop(loop, [] { return Place::here(); });
  EXPECT_NE(place.threadId, reactor::currentThreadId());
  EXPECT_EQ(place.loop, loop);
  EXPECT_EQ(EventLoop::getEventLoopOfCurrentThread(), nullptr);
}

TEST(EventLoopThreadTest, InitCallbackRunsInTheNewThreadBeforeQueuedWork) {
  // Written by the loop's thread only, read after the future says it is done.
  std::vector<std::string> steps;
  Place initPlace;
  EventLoop* initLoop = nullptr;
  EventLoopThread thread([&](EventLoop* loop) {
    initPlace = Place::here();
    initLoop = loop;
    steps.push_back("init");
  });
  EventLoop* loop = thread.startLoop();
  const Place queuedPlace = callInLoop(loop, [&] {
    steps.push_back("queued");
    return Place::here();
  });
  EXPECT_EQ(steps, (std::vector<std::string>{"init", "queued"}));
  EXPECT_EQ(initLoop, loop);
  EXPECT_EQ(initPlace.loop, loop);
  EXPECT_EQ(initPlace.threadId, queuedPlace.threadId);
  EXPECT_NE(initPlace.threadId, reactor::currentThreadId());
}

TEST(EventLoopThreadTest, ThreadIsNamed) {
  EventLoopThread thread({}, "io-worker");
  const Place place = callInLoop(thread.startLoop(), [] { return Place::here(); });
  EXPECT_EQ(place.threadName, "io-worker");
}

TEST(EventLoopThreadTest, LongNameIsCutToFifteenCharacters) {
  EventLoopThread thread({}, "a-name-much-longer-than-fifteen");
  const Place place = callInLoop(thread.startLoop(), [] { return Place::here(); });
  EXPECT_EQ(place.threadName, "a-name-much-lon");
}

TEST(EventLoopThreadTest, InitCallbackExceptionReachesStartLoop) {
  EventLoopThread thread([](EventLoop*) { throw std::runtime_error("init failed"); });
  EXPECT_THROW(thread.startLoop(), std::runtime_error);
  // The destructor has no thread left to join: it must return at once.
}

TEST(EventLoopThreadTest, DestructorReturnsPromptlyWithARepeatingTimerPending) {
  auto thread = std::make_unique<EventLoopThread>();
  EventLoop* loop = thread->startLoop();
  const reactor::Duration kHour = std::chrono::hours(1);
  // Both timers are in the loop's heap once the call returns: a busy one
  // that keeps the loop waking, and one an hour away for it to sleep on.
  callInLoop(loop, [&] {
    loop->runEvery(0.001, [] {});
    loop->runEvery(kHour, [] {});
    return 0;
  });
  const Clock::time_point start = Clock::now();
  thread.reset();
  EXPECT_LT(Clock::now() - start, kPromptly);
}

TEST(EventLoopThreadTest, DestructorWakesALoopAsleepOnADistantTimer) {
  auto thread = std::make_unique<EventLoopThread>();
  EventLoop* loop = thread->startLoop();
  const pid_t loopThread = callInLoop(loop, [&] {
    loop->runEvery(std::chrono::hours(1), [] {});
    return reactor::currentThreadId();
  });
  ASSERT_TRUE(reactor_test::waitUntilAsleepInPoll(loopThread));
  const Clock::time_point start = Clock::now();
  thread.reset();
  EXPECT_LT(Clock::now() - start, kPromptly);
}

TEST(EventLoopThreadTest, DestructorRunsTheWorkQueuedBeforeIt) {
  auto thread = std::make_unique<EventLoopThread>();
  EventLoop* loop = thread->startLoop();
  const pid_t owner = reactor::currentThreadId();
  // Written in the loop's thread, read once it is joined.
  bool ownerBlocked = false;
  int ran = 0;
  // The loop is held in this functor until the owner thread blocks in the
  // destructor, so that the destructor ends the loop while the work below
  // waits in the queue for the next batch.
  std::promise<void> holding;
  std::promise<void> destroying;
  loop->queueInLoop([&] {
    holding.set_value();
    destroying.get_future().wait();
    ownerBlocked = reactor_test::waitUntilBlocked(owner);
  });
  holding.get_future().wait();
  for (int i = 0; i < 100; ++i) loop->queueInLoop([&] { ++ran; });
  destroying.set_value();
  thread.reset();
  EXPECT_TRUE(ownerBlocked);
  EXPECT_EQ(ran, 100);
}

TEST(EventLoopThreadTest, NeverStartedIsFine) {
  bool initRan = false;
  {
    EventLoopThread thread([&](EventLoop*) { initRan = true; }, "never");
  }
  EXPECT_FALSE(initRan);
}

TEST(EventLoopThreadDeathTest, SecondStartLoopAborts) {
  EXPECT_DEATH(
      {
        EventLoopThread thread;
        thread.startLoop();
        thread.startLoop();
      },
      "reactor: EventLoopThread::startLoop: called twice");
}

TEST(EventLoopThreadDeathTest, QuitBySomeoneElseAborts) {
  EXPECT_DEATH(
      {
        EventLoopThread thread;
        thread.startLoop()->quit();
        // The loop's thread aborts the process; until then, this thread
        // must not reach the destructor, whose own quit() is allowed.
        std::promise<void>().get_future().wait_for(reactor_test::kHangLimit);
      },
      "reactor: EventLoopThread::threadFunc: EventLoop 0x[0-9a-f]+ of thread [0-9]+ was quit by "
      "someone other than ~EventLoopThread");
}

}  // namespace
