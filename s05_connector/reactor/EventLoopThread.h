// EventLoopThread: a thread that owns one EventLoop and runs it until the
// EventLoopThread is destroyed. This is "one loop per thread" made into an
// object: startLoop() starts the thread and hands back its loop, which any
// thread may then give work (runInLoop(), queueInLoop(), the timers).
//
// Thread rules:
//   the owner thread (the one that constructs it): startLoop() and the
//       destructor, never from inside the new loop's thread;
//   the new thread: the init callback, and everything the loop runs.
// Only the destructor ends the loop: a quit() from anyone else would leave
// every holder of the loop's pointer with a destroyed loop, so it aborts.
#pragma once

#include <cstddef>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

namespace reactor {

class EventLoop;

/// A thread running one EventLoop, from startLoop() until destruction.
class EventLoopThread {
 public:
  /// Runs in the new thread, with its loop, before the loop starts.
  using ThreadInitCallback = std::function<void(EventLoop*)>;

  /// Linux keeps 15 characters of a thread's name; the rest is cut.
  static constexpr std::size_t kMaxNameLength = 15;

  /// Nothing starts yet. `name`, cut to kMaxNameLength, names the thread
  /// (pthread_setname_np(3)) for top -H, ps -L and gdb; empty keeps the
  /// name the thread inherits.
  explicit EventLoopThread(ThreadInitCallback cb = {}, std::string name = {});
  /// Quits the loop and joins the thread, promptly: the loop runs the
  /// functors queued before this call, then ends; timers still pending and
  /// what those functors queue in turn are destroyed unrun. Fine if never
  /// started.
  ~EventLoopThread();
  EventLoopThread(const EventLoopThread&) = delete;
  EventLoopThread& operator=(const EventLoopThread&) = delete;

  /// Starts the thread; returns its loop once the loop exists and the init
  /// callback has run, so whatever the caller queues runs after it. A second
  /// call aborts. Rethrows, with no thread left running, what the loop's
  /// constructor or the init callback threw (e.g. a full fd table).
  EventLoop* startLoop();

 private:
  void threadFunc(std::promise<EventLoop*> started);
  void nameThisThread() const;

  const ThreadInitCallback callback_;
  const std::string name_;
  std::thread thread_;
  EventLoop* loop_ = nullptr;  // owner thread only; valid until thread_ is joined
  std::mutex mutex_;
  bool exiting_ = false;  // guarded by mutex_; set by the destructor as it queues the quit
};

}  // namespace reactor
