#include "reactor/EventLoop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include "reactor/CurrentThread.h"
#include "reactor/Fatal.h"
#include "reactor/Logging.h"
#include "reactor/Poller.h"

namespace reactor {

namespace {

thread_local EventLoop* t_loopInThisThread = nullptr;

// Both environment variables are read before anything is acquired, so that
// a bad value of either leaves nothing behind when the constructor throws.
std::unique_ptr<Poller> newPollerAfterSettingLogLevel() {
  setLogLevel(logLevelFromEnvironment());
  return Poller::newDefaultPoller();
}

// "fd 5: IN, fd 7: IN HUP": the ready channels and what each is ready for.
std::string describeReady(const std::vector<Channel*>& channels) {
  std::string text;
  for (const Channel* channel : channels) {
    if (!text.empty()) text += ", ";
    text += channel->reventsToString();
  }
  return text;
}

int createEventfd() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  // A full fd table is the world's doing, not the programmer's: throw, don't abort.
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "EventLoop: eventfd");
  return fd;
}

}  // namespace

// [constructor]
EventLoop::EventLoop()
    : poller_(newPollerAfterSettingLogLevel()),
      threadId_(currentThreadId()),
      wakeupFd_(createEventfd()),
      wakeupChannel_(this, wakeupFd_) {
  if (t_loopInThisThread != nullptr) {
    fatal("EventLoop::EventLoop: thread %d already owns EventLoop %p (one loop per thread)",
          threadId_, static_cast<void*>(t_loopInThisThread));
  }
  wakeupChannel_.setReadCallback([this](Timestamp) { handleWakeup(); });
  wakeupChannel_.enableReading();
  t_loopInThisThread = this;
}

EventLoop::~EventLoop() {
  assertInLoopThread("EventLoop::~EventLoop");
  if (looping_)
    fatal("EventLoop::~EventLoop: EventLoop %p is destroyed inside its own loop()", this);
  wakeupChannel_.disableAll();
  wakeupChannel_.remove();
  ::close(wakeupFd_);
  t_loopInThisThread = nullptr;
}
// [constructor]

// [loop]
void EventLoop::loop() {
  assertInLoopThread("EventLoop::loop");
  if (looping_) fatal("EventLoop::loop: called from inside loop()");
  looping_ = true;
  while (!quit_) {
    const int timeoutMs = timerQueue_.pollTimeoutMs(Clock::now());
    LOG_TRACE("waiting in %s, timeout %d ms", poller_->name(), timeoutMs);
    const Timestamp receiveTime = poller_->poll(timeoutMs, &activeChannels_);
    LOG_TRACE("woke: %zu ready [%s]", activeChannels_.size(),
              describeReady(activeChannels_).c_str());
    eventHandling_ = true;
    // Read each entry only when its turn comes: an earlier callback may have
    // removed that channel and nulled its entry (see removeChannel()).
    for (Channel* channel : activeChannels_) {
      if (channel != nullptr) channel->handleEvent(receiveTime);
    }
    eventHandling_ = false;
    activeChannels_.clear();
    runExpiredTimers();
    doPendingFunctors();
  }
  quit_ = false;  // so that the loop can run again
  looping_ = false;
}
// [loop]

void EventLoop::quit() {
  quit_ = true;
  wakeup();  // the loop may be asleep in poll(2)
}

bool EventLoop::isInLoopThread() const { return threadId_ == currentThreadId(); }

void EventLoop::assertInLoopThread() const { assertInLoopThread("EventLoop::assertInLoopThread"); }

void EventLoop::assertInLoopThread(const char* function) const {
  if (isInLoopThread()) return;
  fatal("%s: called from thread %d, but EventLoop %p belongs to thread %d", function,
        currentThreadId(), static_cast<const void*>(this), threadId_);
}

void EventLoop::runInLoop(Functor cb) {
  if (isInLoopThread()) {
    cb();
  } else {
    queueInLoop(std::move(cb));
  }
}

// [queueInLoop]
void EventLoop::queueInLoop(Functor cb) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pendingFunctors_.push_back(std::move(cb));
  }
  // Always wake, whichever thread calls: the loop's own thread may be inside
  // doPendingFunctors(), whose swapped-out batch no longer sees this functor,
  // or not yet in loop() (muduo issue #260).
  wakeup();
}
// [queueInLoop]

EventLoop* EventLoop::getEventLoopOfCurrentThread() { return t_loopInThisThread; }

// [wakeup]
void EventLoop::wakeup() {
  const std::uint64_t one = 1;
  ssize_t n = ::write(wakeupFd_, &one, sizeof one);
  // EAGAIN means the counter is full: the loop is woken already.
  if (n != sizeof one && errno != EAGAIN) {
    std::fprintf(stderr, "reactor: EventLoop::wakeup: %s\n", std::strerror(errno));
  }
}

void EventLoop::handleWakeup() {
  // One read resets the counter, however many wakeups were written.
  std::uint64_t count;
  if (::read(wakeupFd_, &count, sizeof count) < 0 && errno != EAGAIN) {
    std::fprintf(stderr, "reactor: EventLoop: read eventfd: %s\n", std::strerror(errno));
  }
}
// [wakeup]

// [addTimer]
TimerId EventLoop::runAt(Timestamp when, Functor cb) {
  return addTimer(when, Duration::zero(), false, std::move(cb));
}

TimerId EventLoop::runAfter(double seconds, Functor cb) {
  return runAfter(secondsToDuration(seconds), std::move(cb));
}

TimerId EventLoop::runAfter(Duration delay, Functor cb) {
  return addTimer(addSaturating(Clock::now(), delay), Duration::zero(), false, std::move(cb));
}

TimerId EventLoop::runEvery(double seconds, Functor cb) {
  return runEvery(secondsToDuration(seconds), std::move(cb));
}

TimerId EventLoop::runEvery(Duration interval, Functor cb) {
  return addTimer(addSaturating(Clock::now(), interval), interval, true, std::move(cb));
}

TimerId EventLoop::addTimer(Timestamp when, Duration interval, bool repeats, Functor cb) {
  auto timer = std::make_shared<Timer>();
  timer->callback = std::move(cb);
  timer->interval = interval;
  timer->repeats = repeats;
  TimerId id(timer);
  // The TimerId is ready at once, in any thread; the heap is the loop's.
  if (isInLoopThread()) {
    timerQueue_.add(std::move(timer), when);
  } else {
    queueInLoop([this, timer = std::move(timer), when]() mutable {
      timerQueue_.add(std::move(timer), when);
    });
  }
  return id;
}

void EventLoop::cancel(TimerId timerId) {
  std::shared_ptr<Timer> timer = timerId.timer_.lock();
  if (!timer) return;  // it fired, was cancelled, or never was
  if (isInLoopThread()) {
    timerQueue_.cancel(*timer);
  } else {
    queueInLoop([this, timer = std::move(timer)] { timerQueue_.cancel(*timer); });
  }
}
// [addTimer]

// [updateChannel]
void EventLoop::updateChannel(Channel* channel) {
  assertInLoopThread("EventLoop::updateChannel");
  if (channel->ownerLoop() != this) {
    fatal("EventLoop::updateChannel: the channel of fd %d belongs to EventLoop %p, not %p",
          channel->fd(), static_cast<void*>(channel->ownerLoop()), static_cast<void*>(this));
  }
  poller_->updateChannel(channel);
}
// [updateChannel]

// [removeChannel]
void EventLoop::removeChannel(Channel* channel) {
  assertInLoopThread("EventLoop::removeChannel");
  if (channel->ownerLoop() != this) {
    fatal("EventLoop::removeChannel: the channel of fd %d belongs to EventLoop %p, not %p",
          channel->fd(), static_cast<void*>(channel->ownerLoop()), static_cast<void*>(this));
  }
  if (!channel->isNoneEvent()) {
    fatal(
        "EventLoop::removeChannel: the channel of fd %d still watches events %#x; call "
        "disableAll() before remove()",
        channel->fd(), static_cast<unsigned>(channel->events()));
  }
  // A callback of this iteration removed the channel, and may destroy it
  // next; its entry further down the list would then point to freed memory,
  // or to a new channel built at the same address (muduo issue #368).
  if (eventHandling_) {
    std::replace(activeChannels_.begin(), activeChannels_.end(), channel,
                 static_cast<Channel*>(nullptr));
  }
  poller_->removeChannel(channel);
}
// [removeChannel]

bool EventLoop::hasChannel(Channel* channel) {
  assertInLoopThread("EventLoop::hasChannel");
  return poller_->hasChannel(channel);
}

const char* EventLoop::pollerName() const { return poller_->name(); }

void EventLoop::runExpiredTimers() {
  const Timestamp now = Clock::now();
  if (logLevel() == LogLevel::kTrace && timerQueue_.pollTimeoutMs(now) == 0) {
    LOG_TRACE("running the timers due");
  }
  timerQueue_.runExpired(now);
}

// [doPendingFunctors]
void EventLoop::doPendingFunctors() {
  std::vector<Functor> functors;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    functors.swap(pendingFunctors_);
  }
  if (!functors.empty()) LOG_TRACE("running %zu queued functors", functors.size());
  // Run outside the lock: a functor may queue more functors, and other
  // threads need not wait for this batch to finish.
  for (const Functor& functor : functors) functor();
}
// [doPendingFunctors]

}  // namespace reactor
