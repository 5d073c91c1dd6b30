#include "reactor/EventLoopThread.h"

#include <pthread.h>

#include <exception>
#include <optional>
#include <utility>

#include "reactor/CurrentThread.h"
#include "reactor/EventLoop.h"
#include "reactor/Fatal.h"

namespace reactor {

EventLoopThread::EventLoopThread(ThreadInitCallback cb, std::string name)
    : callback_(std::move(cb)), name_(std::move(name)) {}

// [destructor]
EventLoopThread::~EventLoopThread() {
  if (loop_ == nullptr) return;  // never started, or its start failed
  if (loop_->isInLoopThread()) {
    fatal(
        "EventLoopThread::~EventLoopThread: called from thread %d, which is its own loop's thread "
        "and cannot join itself",
        currentThreadId());
  }
  {
    // Held until queueInLoop() has returned: the loop's thread takes the
    // lock before it destroys the loop, so that the wakeup never writes to
    // a closed eventfd (or to a descriptor that reused its number).
    std::lock_guard<std::mutex> lock(mutex_);
    exiting_ = true;
    // Queued, not quit() now: the loop first runs the work handed to it
    // before, such as the teardown that ~TcpServer queues for each of the
    // loop's connections; a loop that ends drops its queue unrun.
    loop_->queueInLoop([loop = loop_] { loop->quit(); });
  }
  thread_.join();
}
// [destructor]

// [startLoop]
EventLoop* EventLoopThread::startLoop() {
  if (loop_ != nullptr) {
    fatal("EventLoopThread::startLoop: called twice; the thread already runs EventLoop %p",
          static_cast<void*>(loop_));
  }
  std::promise<EventLoop*> started;
  std::future<EventLoop*> loop = started.get_future();
  // The promise moves into the thread, so that it lives as long as the
  // thread may still touch it.
  thread_ = std::thread(&EventLoopThread::threadFunc, this, std::move(started));
  try {
    loop_ = loop.get();  // waits for the new thread's set_value()
  } catch (...) {
    thread_.join();
    throw;
  }
  return loop_;
}
// [startLoop]

// [threadFunc]
void EventLoopThread::threadFunc(std::promise<EventLoop*> started) {
  nameThisThread();
  std::optional<EventLoop> loop;  // constructed here: this thread owns it
  try {
    loop.emplace();
    if (callback_) callback_(&*loop);
  } catch (...) {
    started.set_exception(std::current_exception());
    return;
  }
  started.set_value(&*loop);  // startLoop() returns from here on
  loop->loop();
  std::lock_guard<std::mutex> lock(mutex_);  // see ~EventLoopThread()
  if (!exiting_) {
    fatal(
        "EventLoopThread::threadFunc: EventLoop %p of thread %d was quit by someone other than "
        "~EventLoopThread, which alone may end it",
        static_cast<void*>(&*loop), currentThreadId());
  }
}
// [threadFunc]

void EventLoopThread::nameThisThread() const {
  if (name_.empty()) return;
  ::pthread_setname_np(::pthread_self(), name_.substr(0, kMaxNameLength).c_str());
}

}  // namespace reactor
