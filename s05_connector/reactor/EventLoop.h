// EventLoop: one loop per thread. The thread that constructs an EventLoop owns
// it; the loop sleeps in its Poller until a descriptor is ready, a timer is
// due or another thread hands it work.
//
// Thread rules:
//   any thread:        quit(), runInLoop(), queueInLoop(), isInLoopThread(),
//                      assertInLoopThread(), getEventLoopOfCurrentThread(),
//                      runAt(), runAfter(), runEvery(), cancel(), pollerName()
//   owner thread only: loop(), ~EventLoop(), updateChannel(), removeChannel(),
//                      hasChannel()
// A second EventLoop in a thread that has one, and a loop-owned call from
// another thread, abort with a message naming the function and both threads.
// A call from another thread needs the loop to outlive it: destroy a loop only
// once no other thread may still call quit(), queueInLoop() or the like.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "reactor/Channel.h"
#include "reactor/TimerId.h"
#include "reactor/TimerQueue.h"
#include "reactor/Timestamp.h"

namespace reactor {

class Poller;

/// An event loop, owned by the thread that constructs it: loop() and the
/// destructor run only there, and any thread may hand it work.
class EventLoop {
 public:
  /// A piece of work handed to the loop, run in the loop's thread.
  using Functor = std::function<void()>;

  /// Makes the calling thread the owner. Aborts if it already owns a loop;
  /// throws std::system_error when the wakeup eventfd cannot be had (a full
  /// fd table).
  /// Throws std::invalid_argument when REACTOR_POLLER names no poller (see
  /// Poller::newDefaultPoller()) or REACTOR_LOG_LEVEL no level (see
  /// logLevelFromEnvironment()); the thread then still owns no loop.
  EventLoop();
  /// Owner thread only, and not from inside loop(). Functors still queued
  /// are destroyed, never run.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Runs until quit(). Owner thread only. A quit() that came before loop()
  /// makes it return at once; after it returns, loop() may be called again.
  void loop();

  /// Asks loop() to return after the current iteration. Any thread.
  void quit();

  /// True when called from the thread that constructed this loop.
  bool isInLoopThread() const;

  /// Aborts unless called from the owner thread.
  void assertInLoopThread() const;

  /// Aborts unless called from the owner thread; the message names
  /// `function` as the misused one.
  void assertInLoopThread(const char* function) const;

  /// Runs `cb` now when called from the owner thread, otherwise queues it.
  void runInLoop(Functor cb);

  /// Queues `cb` to run in the owner thread, after the functors queued before
  /// it. Never runs `cb` before returning.
  void queueInLoop(Functor cb);

  /// The loop owned by the calling thread, or nullptr when it has none.
  static EventLoop* getEventLoopOfCurrentThread();

  /// Runs `cb` once in the loop thread, at `when` or soon after, never
  /// before. Timers with equal deadlines run in the order they were added.
  TimerId runAt(Timestamp when, Functor cb);

  /// Runs `cb` once after `seconds`. Zero, negative and NaN delays run on the
  /// next iteration (never inside this call); huge ones never run.
  TimerId runAfter(double seconds, Functor cb);

  /// Runs `cb` once after `delay`, with the same rules as runAfter(double).
  TimerId runAfter(Duration delay, Functor cb);

  /// Runs `cb` every `seconds` until cancelled. A timer that fell behind
  /// runs once and is rescheduled from then: no burst to catch up.
  TimerId runEvery(double seconds, Functor cb);

  /// Runs `cb` every `interval`, with the same rules as runEvery(double).
  TimerId runEvery(Duration interval, Functor cb);

  /// Stops the timer from running again. Harmless for a timer that has
  /// fired, was cancelled, or a default TimerId. A timer may cancel itself.
  void cancel(TimerId timerId);

  /// Registers `channel`, or changes the events it watches. Owner thread
  /// only; Channel's enable and disable functions call it.
  void updateChannel(Channel* channel);

  /// Unregisters `channel`, which must watch no events (Channel::disableAll()).
  /// Owner thread only; Channel::remove() calls it. Safe inside a callback:
  /// the channel gets no further callback, even in the current iteration.
  void removeChannel(Channel* channel);

  /// True when `channel` is registered in this loop. Owner thread only.
  bool hasChannel(Channel* channel);

  /// "poll" or "epoll": the Poller this loop waits in.
  const char* pollerName() const;

 private:
  TimerId addTimer(Timestamp when, Duration interval, bool repeats, Functor cb);
  void wakeup();
  void handleWakeup();
  void runExpiredTimers();
  void doPendingFunctors();

  // First, so that nothing else exists yet when choosing the poller throws.
  const std::unique_ptr<Poller> poller_;
  const pid_t threadId_;
  std::atomic<bool> quit_{false};
  bool looping_ = false;
  bool eventHandling_ = false;  // dispatching activeChannels_
  const int wakeupFd_;
  Channel wakeupChannel_;  // drains wakeupFd_
  TimerQueue timerQueue_;  // loop thread only
  // What the current iteration dispatches; loop thread only.
  std::vector<Channel*> activeChannels_;

  std::mutex mutex_;
  std::vector<Functor> pendingFunctors_;  // guarded by mutex_
};

}  // namespace reactor
