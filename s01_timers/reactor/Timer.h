// Timer: one callback waiting for its deadline, shared between the TimerQueue
// that schedules it and the TimerIds that name it (as weak pointers, so an
// old TimerId can never reach a newer timer, muduo issue #548).
// Created in any thread; read and written only in the loop thread after that.
#pragma once

#include <functional>

#include "reactor/Timestamp.h"

namespace reactor {

/// The state of one timer. The deadline lives in the TimerQueue's heap entry.
struct Timer {
  /// What runs when the deadline comes.
  std::function<void()> callback;
  /// Time between two runs of a repeating timer.
  Duration interval{};
  /// True for runEvery() timers.
  bool repeats = false;
  /// Set by cancel(); a cancelled timer never runs again.
  bool cancelled = false;
};

}  // namespace reactor
