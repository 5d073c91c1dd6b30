// Timer: one callback waiting for its deadline, shared between the TimerQueue
// that schedules it and the TimerIds that name it (as weak pointers, so an
// old TimerId can never reach a newer timer, muduo issue #548).
// Created in any thread; read and written only in the loop thread after that.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>

#include "reactor/Timestamp.h"

namespace reactor {

/// The state of one timer. The deadline lives in the TimerQueue's heap entry.
struct Timer {
  /// The heapIndex of a timer that has no entry in the heap.
  static constexpr std::size_t kNotInHeap = std::numeric_limits<std::size_t>::max();

  /// What runs when the deadline comes.
  std::function<void()> callback;
  /// Time between two runs of a repeating timer.
  Duration interval{};
  /// True for runEvery() timers.
  bool repeats = false;
  /// Set by cancel(); a cancelled timer never runs again.
  bool cancelled = false;
  /// Where the timer's entry is in the heap, so that cancel() finds it at
  /// once; kNotInHeap on its way to the loop, while it runs, and when done.
  std::size_t heapIndex = kNotInHeap;
};

}  // namespace reactor
