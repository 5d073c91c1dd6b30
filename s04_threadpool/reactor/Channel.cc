#include "reactor/Channel.h"

#include <poll.h>

#include <cstdio>
#include <string>

#include "reactor/EventLoop.h"
#include "reactor/Fatal.h"

namespace reactor {

const int Channel::kNoneEvent = 0;
const int Channel::kReadEvent = POLLIN | POLLPRI;
const int Channel::kWriteEvent = POLLOUT;

Channel::Channel(EventLoop* loop, int fd) : loop_(loop), fd_(fd) {}

// [destructor]
Channel::~Channel() {
  // The Poller keeps a pointer to every registered channel, and handleEvent()
  // still reads members after each callback: either would touch freed memory.
  if (eventHandling_) {
    fatal(
        "Channel::~Channel: the channel of fd %d is destroyed inside its own "
        "handleEvent(); destroy it later, from a functor given to queueInLoop()",
        fd_);
  }
  if (addedToLoop_) {
    fatal(
        "Channel::~Channel: the channel of fd %d is still registered in "
        "EventLoop %p; call disableAll() and remove() first",
        fd_, static_cast<void*>(loop_));
  }
}
// [destructor]

void Channel::update() {
  loop_->updateChannel(this);
  addedToLoop_ = true;
}

void Channel::remove() {
  loop_->removeChannel(this);
  addedToLoop_ = false;
}

std::string Channel::reventsToString() const {
  static constexpr struct {
    int flag;
    const char* name;
  } kFlags[] = {{POLLIN, " IN"},       {POLLPRI, " PRI"}, {POLLOUT, " OUT"},  {POLLHUP, " HUP"},
                {POLLRDHUP, " RDHUP"}, {POLLERR, " ERR"}, {POLLNVAL, " NVAL"}};
  std::string text = "fd " + std::to_string(fd_) + ":";
  for (const auto& [flag, name] : kFlags) {
    if (revents_ & flag) text += name;
  }
  return text;
}

// [handleEvent]
void Channel::handleEvent(Timestamp receiveTime) {
  // [tie]
  // Declared first, so that it is destroyed last: if it holds the last
  // pointer to the owner, the owner and this channel die after the final
  // callback has returned, and nothing here touches them afterwards.
  std::shared_ptr<void> guard;
  if (tied_) {
    guard = tie_.lock();
    if (!guard) return;  // the owner is gone; so is the reason for the event
  }
  // [tie]
  eventHandling_ = true;
  // Any callback may remove this channel, which then hears nothing more, not
  // even the rest of this event: its owner may have closed the descriptor.
  if (addedToLoop_ && (revents_ & POLLHUP) && !(revents_ & POLLIN)) {
    if (closeCallback_) closeCallback_();
  }
  if (addedToLoop_ && (revents_ & POLLNVAL)) {
    std::fprintf(stderr,
                 "reactor: Channel::handleEvent: fd %d is not open (POLLNVAL): remove a channel "
                 "before closing its descriptor\n",
                 fd_);
  }
  if (addedToLoop_ && (revents_ & (POLLERR | POLLNVAL))) {
    if (errorCallback_) errorCallback_();
  }
  if (addedToLoop_ && (revents_ & (POLLIN | POLLPRI | POLLRDHUP))) {
    if (readCallback_) readCallback_(receiveTime);
  }
  if (addedToLoop_ && (revents_ & POLLOUT)) {
    if (writeCallback_) writeCallback_();
  }
  eventHandling_ = false;
}
// [handleEvent]

}  // namespace reactor
