// TimerId: names one timer so that it can be cancelled. A small copyable
// value, safe to pass between threads; a default-constructed TimerId names no
// timer, and cancelling it does nothing.
#pragma once

#include <memory>
#include <utility>

namespace reactor {

struct Timer;

/// A handle for EventLoop::cancel(). Holds no timer alive.
class TimerId {
 public:
  /// Names no timer.
  TimerId() = default;

 private:
  friend class EventLoop;
  explicit TimerId(std::weak_ptr<Timer> timer) : timer_(std::move(timer)) {}

  std::weak_ptr<Timer> timer_;
};

}  // namespace reactor
