#include "reactor/EventLoopThreadPool.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "reactor/EventLoop.h"
#include "reactor/Fatal.h"

namespace reactor {

EventLoopThreadPool::EventLoopThreadPool(EventLoop* baseLoop, std::string name)
    : baseLoop_(baseLoop), name_(std::move(name)) {}

// [setThreadNum]
void EventLoopThreadPool::setThreadNum(int numThreads) {
  if (numThreads < 0) {
    throw std::invalid_argument("EventLoopThreadPool::setThreadNum: negative thread count " +
                                std::to_string(numThreads));
  }
  if (started_) {
    fatal(
        "EventLoopThreadPool::setThreadNum: pool '%s' has started already; set the number "
        "before start()",
        name_.c_str());
  }
  numThreads_ = numThreads;
}
// [setThreadNum]

// [start]
void EventLoopThreadPool::start(const ThreadInitCallback& cb) {
  baseLoop_->assertInLoopThread("EventLoopThreadPool::start");
  if (started_) fatal("EventLoopThreadPool::start: pool '%s' started twice", name_.c_str());
  try {
    for (int i = 0; i < numThreads_; ++i) {
      threads_.push_back(std::make_unique<EventLoopThread>(cb, threadName(i)));
      loops_.push_back(threads_.back()->startLoop());
    }
  } catch (...) {
    loops_.clear();
    threads_.clear();  // quits and joins the threads that did start
    throw;
  }
  if (numThreads_ == 0 && cb) cb(baseLoop_);
  started_ = true;
}
// [start]

// [getNextLoop]
EventLoop* EventLoopThreadPool::getNextLoop() {
  assertStartedInBaseLoop("EventLoopThreadPool::getNextLoop");
  if (loops_.empty()) return baseLoop_;
  EventLoop* loop = loops_[next_];
  next_ = (next_ + 1) % loops_.size();
  return loop;
}
// [getNextLoop]

// [getLoopForHash]
EventLoop* EventLoopThreadPool::getLoopForHash(std::size_t hashCode) {
  assertStartedInBaseLoop("EventLoopThreadPool::getLoopForHash");
  if (loops_.empty()) return baseLoop_;
  return loops_[hashCode % loops_.size()];
}
// [getLoopForHash]

std::vector<EventLoop*> EventLoopThreadPool::getAllLoops() {
  assertStartedInBaseLoop("EventLoopThreadPool::getAllLoops");
  if (loops_.empty()) return {baseLoop_};
  return loops_;
}

// [threadName]
// "pool0", or "averylongpooln12": the index is what tells threads apart, so
// it is the name that gets cut.
std::string EventLoopThreadPool::threadName(int index) const {
  const std::string number = std::to_string(index);
  return name_.substr(0, EventLoopThread::kMaxNameLength - number.size()) + number;
}
// [threadName]

void EventLoopThreadPool::assertStartedInBaseLoop(const char* function) const {
  baseLoop_->assertInLoopThread(function);
  if (!started_)
    fatal("%s: pool '%s' has not started; call start() first", function, name_.c_str());
}

}  // namespace reactor
