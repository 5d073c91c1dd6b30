// EventLoop: one loop per thread. The thread that constructs an EventLoop owns
// it; the loop sleeps in poll(2) until another thread hands it work.
//
// Thread rules:
//   any thread:        quit(), runInLoop(), queueInLoop(), isInLoopThread(),
//                      assertInLoopThread(), getEventLoopOfCurrentThread()
//   owner thread only: loop(), ~EventLoop()
// A second EventLoop in a thread that has one, and a loop-owned call from
// another thread, abort with a message naming the function and both threads.
// A call from another thread needs the loop to outlive it: destroy a loop only
// once no other thread may still call quit(), queueInLoop() or the like.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

namespace reactor {

/// An event loop, owned by the thread that constructs it: loop() and the
/// destructor run only there, and any thread may hand it work.
class EventLoop {
 public:
  /// A piece of work handed to the loop, run in the loop's thread.
  using Functor = std::function<void()>;

  /// Makes the calling thread the owner. Aborts if it already owns a loop;
  /// throws std::system_error when the wakeup eventfd cannot be had (a full
  /// fd table).
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

 private:
  void wakeup();
  void waitForWakeup();
  void doPendingFunctors();

  const pid_t threadId_;
  std::atomic<bool> quit_{false};
  bool looping_ = false;
  const int wakeupFd_;

  std::mutex mutex_;
  std::vector<Functor> pendingFunctors_;  // guarded by mutex_
};

}  // namespace reactor
