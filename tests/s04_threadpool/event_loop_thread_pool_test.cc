// Chapter 4: EventLoopThreadPool, the base loop and its I/O loops. With no
// threads the base loop does everything; with N, getNextLoop() deals the N
// loops out in turn, each running in its own, named thread.
#include <sys/types.h>

#include <cstddef>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/CurrentThread.h"
#include "reactor/EventLoop.h"
#include "reactor/EventLoopThreadPool.h"
#include "support/loop_test_support.h"
#include "thread_test_support.h"

namespace {

using reactor::EventLoop;
using reactor::EventLoopThreadPool;
using reactor_test::callInLoop;
using reactor_test::Place;

/// What the init callback saw, once per call, from whichever thread.
class InitRecord {
 public:
  EventLoopThreadPool::ThreadInitCallback callback() {
    return [this](EventLoop* loop) {
      std::lock_guard<std::mutex> lock(mutex_);
      loops_.push_back(loop);
      places_.push_back(Place::here());
    };
  }
  std::vector<EventLoop*> loops() {
    std::lock_guard<std::mutex> lock(mutex_);
    return loops_;
  }
  std::vector<Place> places() {
    std::lock_guard<std::mutex> lock(mutex_);
    return places_;
  }

 private:
  std::mutex mutex_;
  std::vector<EventLoop*> loops_;  // guarded by mutex_
  std::vector<Place> places_;      // guarded by mutex_
};

TEST(EventLoopThreadPoolTest, WithoutThreadsTheBaseLoopDoesEverything) {
  EventLoop base;
  EventLoopThreadPool pool(&base, "pool");
  InitRecord init;
  EXPECT_FALSE(pool.started());
  pool.start(init.callback());
  EXPECT_TRUE(pool.started());
  EXPECT_EQ(init.loops(), std::vector<EventLoop*>{&base});
  ASSERT_EQ(init.places().size(), 1u);
  EXPECT_EQ(init.places()[0].threadId, reactor::currentThreadId());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(pool.getNextLoop(), &base);
  EXPECT_EQ(pool.getLoopForHash(0), &base);
  EXPECT_EQ(pool.getLoopForHash(12345), &base);
  EXPECT_EQ(pool.getAllLoops(), std::vector<EventLoop*>{&base});
  EXPECT_EQ(pool.name(), "pool");
}

TEST(EventLoopThreadPoolTest, ThreeThreadsAreDealtOutRoundRobin) {
  EventLoop base;
  EventLoopThreadPool pool(&base, "pool");
  pool.setThreadNum(3);
  pool.start();
  std::vector<EventLoop*> firstRound;
  for (int i = 0; i < 3; ++i) firstRound.push_back(pool.getNextLoop());
  EXPECT_EQ(std::set<EventLoop*>(firstRound.begin(), firstRound.end()).size(), 3u);
  EXPECT_EQ(std::set<EventLoop*>(firstRound.begin(), firstRound.end()).count(&base), 0u);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pool.getNextLoop(), firstRound[i]) << "round " << round;
  }
  EXPECT_EQ(pool.getAllLoops(), firstRound);
}

TEST(EventLoopThreadPoolTest, EachLoopRunsInItsOwnNamedThread) {
  EventLoop base;
  EventLoopThreadPool pool(&base, "pool");
  pool.setThreadNum(3);
  pool.start();
  std::set<pid_t> threadIds;
  std::set<std::string> threadNames;
  for (EventLoop* loop : pool.getAllLoops()) {
    const Place place = callInLoop(loop, [] { return Place::here(); });
    EXPECT_EQ(place.loop, loop);
    EXPECT_NE(place.threadId, reactor::currentThreadId());
    threadIds.insert(place.threadId);
    threadNames.insert(place.threadName);
  }
  EXPECT_EQ(threadIds.size(), 3u);
  EXPECT_EQ(threadNames, (std::set<std::string>{"pool0", "pool1", "pool2"}));
}

TEST(EventLoopThreadPoolTest, LongNameIsCutBeforeTheIndex) {
  EventLoop base;
  EventLoopThreadPool pool(&base, "a-pool-with-a-long-name");
  pool.setThreadNum(2);
  pool.start();
  std::set<std::string> threadNames;
  for (EventLoop* loop : pool.getAllLoops()) {
    threadNames.insert(callInLoop(loop, [] { return Place::here().threadName; }));
  }
  EXPECT_EQ(threadNames, (std::set<std::string>{"a-pool-with-a-0", "a-pool-with-a-1"}));
}

TEST(EventLoopThreadPoolTest, InitCallbackHasRunInEachThreadWhenStartReturns) {
  EventLoop base;
  EventLoopThreadPool pool(&base, "pool");
  InitRecord init;
  pool.setThreadNum(3);
  pool.start(init.callback());
  // Read at once: start() must not return before every callback has run.
  const std::vector<Place> places = init.places();
  ASSERT_EQ(places.size(), 3u);
  std::set<EventLoop*> loops;
  for (const Place& place : places) {
    EXPECT_NE(place.threadId, reactor::currentThreadId());
    loops.insert(place.loop);
  }
  const std::vector<EventLoop*> all = pool.getAllLoops();
  EXPECT_EQ(loops, std::set<EventLoop*>(all.begin(), all.end()));
  EXPECT_EQ(init.loops(), all);  // in index order: each loop's callback ran before the next started
}

TEST(EventLoopThreadPoolTest, LoopForHashIsStable) {
  EventLoop base;
  EventLoopThreadPool pool(&base, "pool");
  pool.setThreadNum(3);
  pool.start();
  std::set<EventLoop*> used;
  for (std::size_t hash = 0; hash < 30; ++hash) {
    EventLoop* loop = pool.getLoopForHash(hash);
    EXPECT_EQ(pool.getLoopForHash(hash), loop) << "hash " << hash;
    EXPECT_NE(loop, &base);
    used.insert(loop);
  }
  pool.getNextLoop();  // round robin moves on; the hash mapping must not
  for (std::size_t hash = 0; hash < 30; ++hash) {
    EXPECT_EQ(pool.getLoopForHash(hash), pool.getLoopForHash(hash));
  }
  EXPECT_EQ(used.size(), 3u);
}

TEST(EventLoopThreadPoolTest, NegativeThreadNumThrows) {
  EventLoop base;
  EventLoopThreadPool pool(&base, "pool");
  EXPECT_THROW(pool.setThreadNum(-1), std::invalid_argument);
  pool.start();
  EXPECT_EQ(pool.getAllLoops(), std::vector<EventLoop*>{&base});
}

TEST(EventLoopThreadPoolTest, FailedStartLeavesThePoolUnstarted) {
  EventLoop base;
  EventLoopThreadPool pool(&base, "pool");
  pool.setThreadNum(3);
  int calls = 0;  // the callbacks run one after another, never at once
  EXPECT_THROW(pool.start([&](EventLoop*) {
    if (++calls == 2) throw std::runtime_error("second thread fails");
  }),
               std::runtime_error);
  EXPECT_FALSE(pool.started());
  InitRecord init;
  pool.start(init.callback());  // as if the first start() never happened
  EXPECT_EQ(init.places().size(), 3u);
  EXPECT_EQ(pool.getAllLoops().size(), 3u);
}

TEST(EventLoopThreadPoolDeathTest, SetThreadNumAfterStartAborts) {
  EXPECT_DEATH(
      {
        EventLoop base;
        EventLoopThreadPool pool(&base, "late");
        pool.setThreadNum(1);
        pool.start();
        pool.setThreadNum(2);
      },
      "reactor: EventLoopThreadPool::setThreadNum: pool 'late' has started already");
}

TEST(EventLoopThreadPoolDeathTest, SecondStartAborts) {
  EXPECT_DEATH(
      {
        EventLoop base;
        EventLoopThreadPool pool(&base, "twice");
        pool.start();
        pool.start();
      },
      "reactor: EventLoopThreadPool::start: pool 'twice' started twice");
}

TEST(EventLoopThreadPoolDeathTest, GetNextLoopBeforeStartAborts) {
  EXPECT_DEATH(
      {
        EventLoop base;
        EventLoopThreadPool pool(&base, "early");
        pool.getNextLoop();
      },
      "reactor: EventLoopThreadPool::getNextLoop: pool 'early' has not started");
}

TEST(EventLoopThreadPoolDeathTest, GetNextLoopFromAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop base;
        EventLoopThreadPool pool(&base, "pool");
        pool.setThreadNum(2);
        pool.start();
        std::thread([&] { pool.getNextLoop(); }).join();
      },
      "reactor: EventLoopThreadPool::getNextLoop: called from thread [0-9]+, but EventLoop "
      "0x[0-9a-f]+ belongs to thread [0-9]+");
}

TEST(EventLoopThreadPoolDeathTest, StartFromAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop base;
        EventLoopThreadPool pool(&base, "pool");
        std::thread([&] { pool.start(); }).join();
      },
      "reactor: EventLoopThreadPool::start: called from thread [0-9]+, but EventLoop");
}

}  // namespace
