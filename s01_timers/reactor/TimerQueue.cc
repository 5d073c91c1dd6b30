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
  // The flag is what stops a timer that has left the heap for the batch
  // being run (muduo issue #668); removal keeps the heap small.
  timer.cancelled = true;
  if (timer.heapIndex != Timer::kNotInHeap) removeAt(timer.heapIndex);
}
// [cancel]

// [runExpired]
void TimerQueue::runExpired(Timestamp now) {
  // Take the whole batch out before running any of it, so that a timer added
  // by a callback, even with a zero delay, waits for the next iteration.
  std::vector<Entry> expired;
  while (!heap_.empty() && heap_.front().when <= now) expired.push_back(removeAt(0));

  for (Entry& entry : expired) {
    Timer& timer = *entry.timer;
    if (timer.cancelled) continue;  // by an earlier callback of this batch
    timer.callback();
    // Rescheduled from now, not from the missed deadline: a timer that fell
    // behind fires once, not in a burst.
    if (timer.repeats) add(std::move(entry.timer), addSaturating(now, timer.interval));
  }
}
// [runExpired]

// [pollTimeoutMs]
int TimerQueue::pollTimeoutMs(Timestamp now) const {
  if (heap_.empty() || heap_.front().when == Timestamp::max()) return -1;
  const Duration wait = heap_.front().when - now;
  if (wait <= Duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return ms < INT_MAX ? static_cast<int>(ms) : INT_MAX;
}
// [pollTimeoutMs]

bool TimerQueue::earlier(const Entry& a, const Entry& b) {
  return a.when < b.when || (a.when == b.when && a.sequence < b.sequence);
}

void TimerQueue::place(std::size_t index, Entry entry) {
  entry.timer->heapIndex = index;
  heap_[index] = std::move(entry);
}

// [sift]
void TimerQueue::siftUp(std::size_t index) {
  Entry moving = std::move(heap_[index]);
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (!earlier(moving, heap_[parent])) break;
    place(index, std::move(heap_[parent]));
    index = parent;
  }
  place(index, std::move(moving));
}

void TimerQueue::siftDown(std::size_t index) {
  Entry moving = std::move(heap_[index]);
  const std::size_t size = heap_.size();
  for (std::size_t child = 2 * index + 1; child < size; child = 2 * index + 1) {
    if (child + 1 < size && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], moving)) break;
    place(index, std::move(heap_[child]));
    index = child;
  }
  place(index, std::move(moving));
}
// [sift]

// Takes the entry at `index` out of the heap and closes the gap with the last
// entry, which then moves up or down to where it belongs.
TimerQueue::Entry TimerQueue::removeAt(std::size_t index) {
  Entry removed = std::move(heap_[index]);
  removed.timer->heapIndex = Timer::kNotInHeap;
  Entry last = std::move(heap_.back());
  heap_.pop_back();
  if (index == heap_.size()) return removed;  // it was the last entry

  place(index, std::move(last));
  if (index > 0 && earlier(heap_[index], heap_[(index - 1) / 2])) {
    siftUp(index);
  } else {
    siftDown(index);
  }
  return removed;
}

}  // namespace reactor
