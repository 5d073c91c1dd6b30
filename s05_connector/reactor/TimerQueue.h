// TimerQueue: the loop's timers, in a binary min-heap ordered by deadline and,
// for equal deadlines, by the order they were added. Each timer knows where
// its entry is, so add, cancel and expire are all O(log n): cancel() takes the
// entry out at once, with no pass over the heap and no pause.
// Loop thread only: EventLoop hops to its thread before it calls anything here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "reactor/Timer.h"
#include "reactor/Timestamp.h"

namespace reactor {

/// The timers of one EventLoop.
class TimerQueue {
 public:
  /// Schedules `timer` at `when`, unless it was cancelled on its way here.
  void add(std::shared_ptr<Timer> timer, Timestamp when);

  /// Stops `timer` from running again, whether it waits in the heap or in
  /// the batch that runExpired() is running, and releases its callback.
  void cancel(Timer& timer);

  /// Runs every timer due at `now`, in deadline order; reschedules each
  /// repeating one an interval after its callback returns.
  void runExpired(Timestamp now);

  /// Milliseconds from `now` until the earliest deadline, rounded up so that
  /// poll(2) never wakes before it; -1 when no deadline will ever come.
  int pollTimeoutMs(Timestamp now) const;

  /// How many timers wait in the heap: a cancelled one leaves it at once.
  std::size_t size() const { return heap_.size(); }

 private:
  // [Entry]
  struct Entry {
    Timestamp when;
    std::uint64_t sequence;  // breaks ties between equal deadlines
    std::shared_ptr<Timer> timer;
  };
  // [Entry]

  static bool earlier(const Entry& a, const Entry& b);
  static std::size_t parentOf(std::size_t index);
  void place(Entry entry, std::size_t index);
  void siftUp(std::size_t index);
  void siftDown(std::size_t index);
  Entry take(std::size_t index);

  std::vector<Entry> heap_;
  std::uint64_t nextSequence_ = 0;
};

}  // namespace reactor
