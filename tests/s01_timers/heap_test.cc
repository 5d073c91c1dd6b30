// Chapter 1: the heap stays in order through any mix of adds and cancels. A
// cancel takes its timer's entry out of the middle of the heap, or from its
// end, or from its front; random adds and cancels are checked against a plain
// model: the timers not cancelled fire once each, by deadline, equal
// deadlines in the order they were added.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <random>
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

struct ModelTimer {
  TimerId id;
  Timestamp when;
  bool due;  // in the past: fires on the loop's next run
  bool cancelled = false;
};

TEST(TimerHeapTest, RandomAddsAndCancelsKeepDeadlineOrder) {
  EventLoop loop;
  std::mt19937 rng(20240607);
  // Deadlines on a coarse grid, so that many are equal and the tie rule is
  // tested too; the due ones an hour in the past, the others an hour ahead.
  std::uniform_int_distribution<int> grid(0, 300);
  std::bernoulli_distribution addNotCancel(0.6), dueNotLater(0.5);
  std::vector<ModelTimer> timers;
  std::vector<std::size_t> waiting;  // timers neither fired nor cancelled
  std::vector<std::size_t> fired;

  for (int round = 0; round < 5; ++round) {
    const Timestamp now = Clock::now();
    for (int op = 0; op < 2000; ++op) {
      if (waiting.empty() || addNotCancel(rng)) {
        const bool due = dueNotLater(rng);
        const Timestamp when = now + (due ? -1h : 1h) + grid(rng) * 1us;
        const std::size_t k = timers.size();
        timers.push_back({loop.runAt(when, [&fired, k] { fired.push_back(k); }), when, due});
        waiting.push_back(k);
        continue;
      }
      // Every fourth cancel takes the timer added last, often the heap's
      // last entry; the others take one at random.
      std::uniform_int_distribution<std::size_t> pick(0, waiting.size() - 1);
      const std::size_t slot = op % 4 == 0 ? waiting.size() - 1 : pick(rng);
      ModelTimer& victim = timers[waiting[slot]];
      loop.cancel(victim.id);
      victim.cancelled = true;
      waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(slot));
    }

    // What the model expects: the due timers not cancelled, by deadline,
    // equal deadlines by the order of their adds (which is k's order).
    std::vector<std::size_t> expected;
    for (std::size_t k : waiting) {
      if (timers[k].due) expected.push_back(k);
    }
    std::stable_sort(expected.begin(), expected.end(),
                     [&](std::size_t a, std::size_t b) { return timers[a].when < timers[b].when; });
    waiting.erase(std::remove_if(waiting.begin(), waiting.end(),
                                 [&](std::size_t k) { return timers[k].due; }),
                  waiting.end());

    fired.clear();
    loop.runAt(now, [&] { loop.quit(); });  // after every due deadline
    runLoop(loop);
    ASSERT_EQ(fired, expected) << "round " << round;
  }
}

}  // namespace
