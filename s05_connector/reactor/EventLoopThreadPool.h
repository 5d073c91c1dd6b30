// EventLoopThreadPool: the I/O loops of a multithreaded server. A base loop
// (the server's own, which accepts) and N EventLoopThreads; each new
// connection asks getNextLoop() for the loop it will live on. With no
// threads, the base loop does everything, as in a one-loop server.
//
// Thread rules:
//   any thread:       started(), name();
//   before start():   setThreadNum(), from the thread that then calls or
//                     hands over start();
//   base loop thread: start(), getNextLoop(), getLoopForHash(),
//                     getAllLoops(); calling them elsewhere aborts;
//   the destructor:   any thread but the pool's own; it quits and joins
//                     every thread, so the loops must be given no more work.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "reactor/EventLoopThread.h"

namespace reactor {

class EventLoop;

/// A base loop and a fixed number of I/O loops, each in its own thread.
class EventLoopThreadPool {
 public:
  /// Runs in each new loop's thread, or with the base loop when there are none.
  using ThreadInitCallback = EventLoopThread::ThreadInitCallback;

  /// No threads yet; `name` names them `<name>0`, `<name>1`... (see start()).
  EventLoopThreadPool(EventLoop* baseLoop, std::string name);
  EventLoopThreadPool(const EventLoopThreadPool&) = delete;
  EventLoopThreadPool& operator=(const EventLoopThreadPool&) = delete;

  /// How many threads start() starts; 0 (the default) keeps all work on
  /// the base loop. Throws std::invalid_argument when negative; aborts when
  /// called after start().
  void setThreadNum(int numThreads);

  /// Starts the threads, named `<name><index>` with the name cut so that
  /// the index always fits in Linux's 15 characters. Runs `cb` once in each
  /// new loop's thread, all before start() returns, or once with the base
  /// loop when there are no threads. Base loop thread only; a second call
  /// aborts. If a thread cannot start (a full fd table), stops the ones that
  /// did and rethrows: the pool is then as it was before start().
  void start(const ThreadInitCallback& cb = {});

  /// The next I/O loop, round robin; the base loop when there are no threads.
  /// Base loop thread only, after start().
  EventLoop* getNextLoop();

  /// The same loop for the same `hashCode`, so that related work (say, all
  /// of one user's connections) shares a thread; the base loop when there
  /// are no threads. Base loop thread only, after start().
  EventLoop* getLoopForHash(std::size_t hashCode);

  /// The I/O loops, or just the base loop when there are no threads. Base
  /// loop thread only, after start().
  std::vector<EventLoop*> getAllLoops();

  /// True once start() has returned. Any thread.
  bool started() const { return started_; }
  /// The name given to the constructor. Any thread.
  const std::string& name() const { return name_; }

 private:
  std::string threadName(int index) const;
  void assertStartedInBaseLoop(const char* function) const;

  EventLoop* const baseLoop_;
  const std::string name_;
  int numThreads_ = 0;
  std::atomic<bool> started_{false};
  std::vector<std::unique_ptr<EventLoopThread>> threads_;  // base loop thread only
  std::vector<EventLoop*> loops_;                          // base loop thread only
  std::size_t next_ = 0;  // index in loops_ of the next getNextLoop()
};

}  // namespace reactor
