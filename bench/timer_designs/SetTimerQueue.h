// SetTimerQueue: a design compared in bench_timers, not the lesson's. A model
// of muduo's TimerQueue without its timerfd: the timers ordered in a std::set
// of (deadline, Timer*) pairs, and a second std::set of (Timer*, sequence)
// pairs that cancel() searches. Each timer costs a `new` and two tree nodes,
// and every step down a tree is a pointer to follow. One thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "reactor/Timestamp.h"

namespace timer_designs {

class SetTimerQueue {
 public:
  struct Timer {
    std::function<void()> callback;
    reactor::Timestamp expiration;
    std::int64_t sequence;
  };
  /// What cancel() takes: muduo's TimerId is this pair.
  using Id = std::pair<Timer*, std::int64_t>;

  SetTimerQueue() = default;
  SetTimerQueue(const SetTimerQueue&) = delete;
  SetTimerQueue& operator=(const SetTimerQueue&) = delete;
  ~SetTimerQueue() {
    for (const auto& entry : timers_) delete entry.second;
  }

  // [set]
  Id add(reactor::Timestamp when, std::function<void()> callback) {
    auto* timer = new Timer{std::move(callback), when, nextSequence_++};
    timers_.insert({when, timer});
    active_.insert({timer, timer->sequence});
    return {timer, timer->sequence};
  }

  void cancel(Id id) {
    auto it = active_.find(id);
    if (it == active_.end()) return;
    timers_.erase({it->first->expiration, it->first});
    delete it->first;
    active_.erase(it);
  }
  // [set]

  void runExpired(reactor::Timestamp now) {
    // Every entry up to `now`: the sentinel pointer sorts after any other.
    const auto end = timers_.lower_bound(
        {now, reinterpret_cast<Timer*>(std::numeric_limits<std::uintptr_t>::max())});
    std::vector<std::pair<reactor::Timestamp, Timer*>> expired(timers_.begin(), end);
    timers_.erase(timers_.begin(), end);
    for (const auto& entry : expired) active_.erase({entry.second, entry.second->sequence});
    for (const auto& entry : expired) {
      entry.second->callback();
      delete entry.second;
    }
  }

  std::size_t size() const { return timers_.size(); }

 private:
  std::set<std::pair<reactor::Timestamp, Timer*>> timers_;
  std::set<Id> active_;
  std::int64_t nextSequence_ = 0;
};

}  // namespace timer_designs
