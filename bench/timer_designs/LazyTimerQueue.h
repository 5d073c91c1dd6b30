// LazyTimerQueue: a design compared in bench_timers, not the lesson's. The
// loop's timers in a min-heap ordered by deadline and, for equal deadlines, by
// the order they were added. The heap is 4-ary: each entry has up to four
// children. Add and expire are O(log n); cancel is O(1) amortised, because it
// only marks the timer, and drops every cancelled entry in one O(n) pass once
// they may be half the heap: that pass is the stall that docs/deep-dive-timers.md
// measures. One thread only, like the lesson's TimerQueue.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "reactor/Timestamp.h"

namespace timer_designs {

using reactor::Timestamp;

/// The state of one timer, as the lazy design needs it: no position.
struct LazyTimer {
  std::function<void()> callback;
  reactor::Duration interval{};
  bool repeats = false;
  bool cancelled = false;  // set by cancel(); the entry stays in the heap
};

/// The timers of one loop, cancelled lazily.
class LazyTimerQueue {
 public:
  /// Schedules `timer` at `when`, unless it was cancelled on its way here.
  void add(std::shared_ptr<LazyTimer> timer, Timestamp when);

  /// Stops `timer` from running again, whether it waits in the heap or in
  /// the batch that runExpired() is running, and releases its callback.
  void cancel(LazyTimer& timer);

  /// Runs every timer due at `now`, in deadline order; reschedules the
  /// repeating ones from `now`.
  void runExpired(Timestamp now);

  /// Milliseconds from `now` until the earliest deadline of a timer that can
  /// still run, rounded up so that poll(2) never wakes before it; -1 when no
  /// deadline will ever come.
  int pollTimeoutMs(Timestamp now);

  /// How many entries the heap holds, cancelled ones not yet dropped included.
  std::size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    Timestamp when;
    std::uint64_t sequence;  // breaks ties between equal deadlines
    std::shared_ptr<LazyTimer> timer;
  };

  // Children per entry: a 4-ary heap has half the levels of a binary one, so
  // a sift touches fewer cache lines.
  static constexpr std::size_t kArity = 4;

  static bool earlier(const Entry& a, const Entry& b);
  void siftUp(std::size_t index);
  void siftDown(std::size_t index);
  Entry popFront();
  void dropCancelledFront();
  void dropAllCancelled();

  std::vector<Entry> heap_;
  std::uint64_t nextSequence_ = 0;
  std::size_t cancelsSinceDrop_ = 0;  // an upper bound of the cancelled entries
};

}  // namespace timer_designs
