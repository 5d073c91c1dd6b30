#include "reactor/TimerQueue.h"

#include <climits>
#include <utility>

namespace reactor {

// [add]
void TimerQueue::add(std::shared_ptr<Timer> timer, Timestamp when) {
  if (timer->cancelled) return;
  heap_.push_back(Entry{when, nextSequence_++, std::move(timer)});
  siftUp(heap_.size() - 1);
}
// [add]

// [cancel]
void TimerQueue::cancel(Timer& timer) {
  // The flag stops a timer that is not in the heap: one already taken out
  // with the batch being run (muduo issue #668), or one still on its way to
  // add() from another thread.
  timer.cancelled = true;
  timer.callback = nullptr;  // what it captured is released now
  if (timer.heapIndex != Timer::kNotInHeap) take(timer.heapIndex);
}
// [cancel]

// [runExpired]
void TimerQueue::runExpired(Timestamp now) {
  // Take the whole batch out before running any of it, so that a timer added
  // by a callback, even with a zero delay, waits for the next iteration.
  std::vector<std::shared_ptr<Timer>> expired;
  while (!heap_.empty() && heap_.front().when <= now) expired.push_back(take(0).timer);

  for (std::shared_ptr<Timer>& slot : expired) {
    // Moved out of the batch, so that a timer that is done is released at the
    // end of its own turn, while its memory is still in the cache.
    std::shared_ptr<Timer> owner = std::move(slot);
    Timer& timer = *owner;
    if (timer.cancelled) continue;  // by an earlier callback of this batch
    // The callback is taken out while it runs, so that it may cancel its own
    // timer, which releases timer.callback, without destroying itself.
    std::function<void()> callback = std::move(timer.callback);
    callback();
    // Rescheduled from the clock as the callback returns, not from the missed
    // deadline nor from the batch's `now`, which a slow callback earlier in the
    // batch may have left far behind: a timer that fell behind fires once, not
    // in a burst.
    if (timer.repeats && !timer.cancelled) {
      timer.callback = std::move(callback);
      add(std::move(owner), addSaturating(Clock::now(), timer.interval));
    }
  }
}
// [runExpired]

// [pollTimeoutMs]
int TimerQueue::pollTimeoutMs(Timestamp now) const {
  if (heap_.empty() || heap_.front().when == Timestamp::max()) return -1;
  const Timestamp when = heap_.front().when;
  // Compared before subtracting: for a deadline long past, such as
  // runAt(Timestamp::min()), `when - now` would overflow.
  if (when <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(when - now).count();
  return ms < INT_MAX ? static_cast<int>(ms) : INT_MAX;
}
// [pollTimeoutMs]

bool TimerQueue::earlier(const Entry& a, const Entry& b) {
  return a.when < b.when || (a.when == b.when && a.sequence < b.sequence);
}

// [sift]
// Writes `entry` at `index` and tells its timer, so that cancel() finds it.
void TimerQueue::place(Entry entry, std::size_t index) {
  entry.timer->heapIndex = index;
  heap_[index] = std::move(entry);
}

// The children of entry i are entries 2i+1 and 2i+2; its parent is entry
// (i-1)/2. Both loops move a hole instead of swapping: each entry that moves
// is written once, and so is the one that sifts, where it stops.
std::size_t TimerQueue::parentOf(std::size_t index) { return (index - 1) / 2; }

void TimerQueue::siftUp(std::size_t index) {
  Entry moving = std::move(heap_[index]);
  while (index > 0) {
    const std::size_t parent = parentOf(index);
    if (!earlier(moving, heap_[parent])) break;
    place(std::move(heap_[parent]), index);
    index = parent;
  }
  place(std::move(moving), index);
}

void TimerQueue::siftDown(std::size_t index) {
  Entry moving = std::move(heap_[index]);
  const std::size_t size = heap_.size();
  for (std::size_t child = 2 * index + 1; child < size; child = 2 * index + 1) {
    if (child + 1 < size && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], moving)) break;
    place(std::move(heap_[child]), index);
    index = child;
  }
  place(std::move(moving), index);
}
// [sift]

// [take]
// Takes the entry at `index` out of the heap: the last entry fills the hole
// and sifts up or down, whichever restores the order there.
TimerQueue::Entry TimerQueue::take(std::size_t index) {
  Entry taken = std::move(heap_[index]);
  taken.timer->heapIndex = Timer::kNotInHeap;
  Entry last = std::move(heap_.back());
  heap_.pop_back();
  if (index < heap_.size()) {  // the hole was not the last entry itself
    heap_[index] = std::move(last);
    if (index > 0 && earlier(heap_[index], heap_[parentOf(index)])) {
      siftUp(index);
    } else {
      siftDown(index);
    }
  }
  return taken;
}
// [take]

}  // namespace reactor
