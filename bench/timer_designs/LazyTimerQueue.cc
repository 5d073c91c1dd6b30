#include "timer_designs/LazyTimerQueue.h"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <utility>

namespace timer_designs {

using reactor::addSaturating;

void LazyTimerQueue::add(std::shared_ptr<LazyTimer> timer, Timestamp when) {
  if (timer->cancelled) return;
  heap_.push_back(Entry{when, nextSequence_++, std::move(timer)});
  siftUp(heap_.size() - 1);
}

// [lazyCancel]
void LazyTimerQueue::cancel(LazyTimer& timer) {
  if (timer.cancelled) return;
  // The flag is all it takes to stop the timer, in the heap or in the batch
  // being run (muduo issue #668). Its entry stays where it is, to be dropped
  // when it reaches the front: finding it now would cost a walk through
  // memory that no cache holds, once there are a million timers.
  timer.cancelled = true;
  timer.callback = nullptr;  // what it captured is released now
  // Once cancelled entries may be half the heap, drop them all in one O(n)
  // pass: that costs O(1) per cancel, and the heap never grows past twice
  // the timers that can still run.
  if (++cancelsSinceDrop_ > heap_.size() / 2) dropAllCancelled();
}
// [lazyCancel]

void LazyTimerQueue::runExpired(Timestamp now) {
  // Take the whole batch out before running any of it, so that a timer added
  // by a callback, even with a zero delay, waits for the next iteration.
  std::vector<Entry> expired;
  while (!heap_.empty() && heap_.front().when <= now) expired.push_back(popFront());

  for (Entry& entry : expired) {
    LazyTimer& timer = *entry.timer;
    if (timer.cancelled) continue;  // before, or by an earlier callback of this batch
    // The callback is taken out while it runs, so that it may cancel its own
    // timer, which releases timer.callback, without destroying itself.
    std::function<void()> callback = std::move(timer.callback);
    callback();
    // Rescheduled from now, not from the missed deadline: a timer that fell
    // behind fires once, not in a burst.
    if (timer.repeats && !timer.cancelled) {
      timer.callback = std::move(callback);
      add(std::move(entry.timer), addSaturating(now, timer.interval));
    }
  }
}

int LazyTimerQueue::pollTimeoutMs(Timestamp now) {
  dropCancelledFront();  // a cancelled timer must not wake the loop
  if (heap_.empty() || heap_.front().when == Timestamp::max()) return -1;
  const Timestamp when = heap_.front().when;
  // Compared before subtracting: for a deadline long past, such as
  // runAt(Timestamp::min()), `when - now` would overflow.
  if (when <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(when - now).count();
  return ms < INT_MAX ? static_cast<int>(ms) : INT_MAX;
}

bool LazyTimerQueue::earlier(const Entry& a, const Entry& b) {
  return a.when < b.when || (a.when == b.when && a.sequence < b.sequence);
}

// The children of entry i are entries kArity*i+1 to kArity*i+kArity; its
// parent is entry (i-1)/kArity. Both loops move a hole instead of swapping:
// the moving entry is written once, where it stops.
void LazyTimerQueue::siftUp(std::size_t index) {
  Entry moving = std::move(heap_[index]);
  while (index > 0) {
    const std::size_t parent = (index - 1) / kArity;
    if (!earlier(moving, heap_[parent])) break;
    heap_[index] = std::move(heap_[parent]);
    index = parent;
  }
  heap_[index] = std::move(moving);
}

void LazyTimerQueue::siftDown(std::size_t index) {
  Entry moving = std::move(heap_[index]);
  const std::size_t size = heap_.size();
  for (std::size_t first = kArity * index + 1; first < size; first = kArity * index + 1) {
    std::size_t earliest = first;  // the earliest of the children
    const std::size_t end = std::min(first + kArity, size);
    for (std::size_t child = first + 1; child < end; ++child) {
      if (earlier(heap_[child], heap_[earliest])) earliest = child;
    }
    if (!earlier(heap_[earliest], moving)) break;
    heap_[index] = std::move(heap_[earliest]);
    index = earliest;
  }
  heap_[index] = std::move(moving);
}

LazyTimerQueue::Entry LazyTimerQueue::popFront() {
  Entry front = std::move(heap_.front());
  Entry last = std::move(heap_.back());
  heap_.pop_back();
  if (!heap_.empty()) {
    heap_.front() = std::move(last);
    siftDown(0);
  }
  return front;
}

void LazyTimerQueue::dropCancelledFront() {
  while (!heap_.empty() && heap_.front().timer->cancelled) popFront();
}

// [lazyDrop]
void LazyTimerQueue::dropAllCancelled() {
  cancelsSinceDrop_ = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < heap_.size(); ++i) {
    if (heap_[i].timer->cancelled) {
      heap_[i].timer.reset();  // freed now, while its memory is in the cache
    } else {
      if (kept != i) heap_[kept] = std::move(heap_[i]);
      ++kept;
    }
  }
  heap_.erase(heap_.begin() + static_cast<std::ptrdiff_t>(kept), heap_.end());
  if (heap_.empty()) return;
  // Rebuild bottom-up, which is O(n): sift down every entry that may have
  // children, from the last such one to the root.
  for (std::size_t i = heap_.size() / kArity + 1; i > 0; --i) siftDown(i - 1);
}
// [lazyDrop]

}  // namespace timer_designs
