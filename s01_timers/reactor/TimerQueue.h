// TimerQueue: the loop's timers, in a binary min-heap ordered by deadline and,
// for equal deadlines, by the order they were added. Add, cancel and expire
// are O(log n).
// Loop thread only: EventLoop hops to its thread before it calls anything here.
#pragma once

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
  /// the batch that runExpired() is running.
  void cancel(Timer& timer);

  /// Runs every timer due at `now`, in deadline order; reschedules the
  /// repeating ones from `now`.
  void runExpired(Timestamp now);

  /// Milliseconds from `now` until the earliest deadline, rounded up so that
  /// poll(2) never wakes before it; -1 when no deadline will ever come.
  int pollTimeoutMs(Timestamp now) const;

  /// How many timers wait in the heap.
  std::size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    Timestamp when;
    std::uint64_t sequence;  // breaks ties between equal deadlines
    std::shared_ptr<Timer> timer;
  };

  static bool earlier(const Entry& a, const Entry& b);
  void place(std::size_t index, Entry entry);
  void siftUp(std::size_t index);
  void siftDown(std::size_t index);
  Entry removeAt(std::size_t index);

  std::vector<Entry> heap_;
  std::uint64_t nextSequence_ = 0;
};

}  // namespace reactor
