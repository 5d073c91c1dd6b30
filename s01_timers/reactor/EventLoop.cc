#include "reactor/EventLoop.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "reactor/Fatal.h"

namespace reactor {

namespace {

thread_local EventLoop* t_loopInThisThread = nullptr;

// gettid() is a system call; a thread asks the kernel once and remembers.
pid_t currentThreadId() {
  thread_local const pid_t tid = ::gettid();
  return tid;
}

int createEventfd() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  // A full fd table is the world's doing, not the programmer's: throw, don't abort.
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "EventLoop: eventfd");
  return fd;
}

}  // namespace

EventLoop::EventLoop() : threadId_(currentThreadId()), wakeupFd_(createEventfd()) {
  if (t_loopInThisThread != nullptr) {
    fatal("EventLoop::EventLoop: thread %d already owns EventLoop %p (one loop per thread)",
          threadId_, static_cast<void*>(t_loopInThisThread));
  }
  t_loopInThisThread = this;
}

EventLoop::~EventLoop() {
  assertInLoopThread("EventLoop::~EventLoop");
  if (looping_)
    fatal("EventLoop::~EventLoop: EventLoop %p is destroyed inside its own loop()", this);
  ::close(wakeupFd_);
  t_loopInThisThread = nullptr;
}

// [loop]
void EventLoop::loop() {
  assertInLoopThread("EventLoop::loop");
  if (looping_) fatal("EventLoop::loop: called from inside loop()");
  looping_ = true;
  while (!quit_) {
    waitForWakeup(timerQueue_.pollTimeoutMs(Clock::now()));
    timerQueue_.runExpired(Clock::now());
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

void EventLoop::waitForWakeup(int timeoutMs) {
  pollfd wakeupPoll{wakeupFd_, POLLIN, 0};
  const int ready = ::poll(&wakeupPoll, 1, timeoutMs);
  if (ready < 0 && errno != EINTR) {
    std::fprintf(stderr, "reactor: poll: %s\n", std::strerror(errno));
  }
  if (ready <= 0) return;  // a timer is due, or a signal came
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

// [doPendingFunctors]
void EventLoop::doPendingFunctors() {
  std::vector<Functor> functors;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    functors.swap(pendingFunctors_);
  }
  // Run outside the lock: a functor may queue more functors, and other
  // threads need not wait for this batch to finish.
  for (const Functor& functor : functors) functor();
}
// [doPendingFunctors]

}  // namespace reactor
