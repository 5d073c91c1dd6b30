#include "reactor/EPollPoller.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "reactor/Fatal.h"

namespace reactor {

// Channel speaks poll(2) flags; on Linux epoll's have the same values, so
// events pass between the two without translation.
static_assert(EPOLLIN == POLLIN, "epoll and poll flags differ");
static_assert(EPOLLPRI == POLLPRI, "epoll and poll flags differ");
static_assert(EPOLLOUT == POLLOUT, "epoll and poll flags differ");
static_assert(EPOLLRDHUP == POLLRDHUP, "epoll and poll flags differ");
static_assert(EPOLLERR == POLLERR, "epoll and poll flags differ");
static_assert(EPOLLHUP == POLLHUP, "epoll and poll flags differ");

namespace {

// index() of a channel: never registered, in the kernel's interest list, or
// registered here but taken out of the kernel's list (it watches nothing).
constexpr int kNew = -1;
constexpr int kAdded = 1;
constexpr int kDeleted = 2;

int createEpollfd() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return fd;
}

const char* operationName(int operation) {
  switch (operation) {
    case EPOLL_CTL_ADD:
      return "EPOLL_CTL_ADD";
    case EPOLL_CTL_MOD:
      return "EPOLL_CTL_MOD";
    default:
      return "EPOLL_CTL_DEL";
  }
}

}  // namespace

EPollPoller::EPollPoller() : epollfd_(createEpollfd()), events_(kInitialEventListSize) {}

EPollPoller::~EPollPoller() { ::close(epollfd_); }

// [poll]
Timestamp EPollPoller::poll(int timeoutMs, ChannelList* activeChannels) {
  const int numEvents =
      ::epoll_wait(epollfd_, events_.data(), static_cast<int>(events_.size()), timeoutMs);
  const int savedErrno = errno;
  const Timestamp now = Clock::now();
  if (numEvents > 0) {
    fillActiveChannels(numEvents, activeChannels);
    // A full array may have left ready descriptors out; level-triggered,
    // they are reported again next time, into an array twice as big.
    if (static_cast<std::size_t>(numEvents) == events_.size()) events_.resize(events_.size() * 2);
  } else if (numEvents < 0 && savedErrno != EINTR) {
    std::fprintf(stderr, "reactor: EPollPoller::poll: %s\n", std::strerror(savedErrno));
  }
  return now;
}

void EPollPoller::fillActiveChannels(int numEvents, ChannelList* activeChannels) const {
  for (int i = 0; i < numEvents; ++i) {
    Channel* channel = static_cast<Channel*>(events_[i].data.ptr);
    channel->set_revents(static_cast<int>(events_[i].events));
    activeChannels->push_back(channel);
  }
}
// [poll]

// [updateChannel]
void EPollPoller::updateChannel(Channel* channel) {
  const int index = channel->index();
  if (index == kNew || index == kDeleted) {
    if (index == kNew && !channels_.emplace(channel->fd(), channel).second) {
      fatal(
          "EPollPoller::updateChannel: fd %d already has another channel in this loop; "
          "remove that one first",
          channel->fd());
    }
    // epoll(7) reports hang-ups and errors even when nothing is asked, so a
    // channel that watches nothing stays out of the kernel's list.
    if (channel->isNoneEvent()) {
      channel->set_index(kDeleted);
      return;
    }
    channel->set_index(kAdded);
    update(EPOLL_CTL_ADD, channel);
  } else if (channel->isNoneEvent()) {
    channel->set_index(kDeleted);
    update(EPOLL_CTL_DEL, channel);
  } else {
    update(EPOLL_CTL_MOD, channel);
  }
}
// [updateChannel]

// [removeChannel]
void EPollPoller::removeChannel(Channel* channel) {
  if (channel->index() == kNew) return;
  channels_.erase(channel->fd());
  if (channel->index() == kAdded) update(EPOLL_CTL_DEL, channel);
  channel->set_index(kNew);
}
// [removeChannel]

// [update]
void EPollPoller::update(int operation, Channel* channel) {
  epoll_event event{};
  event.events = static_cast<std::uint32_t>(channel->events());
  event.data.ptr = channel;
  if (::epoll_ctl(epollfd_, operation, channel->fd(), &event) == 0) return;
  const int savedErrno = errno;
  // The kernel dropped the descriptor when its owner closed it (EBADF), and
  // may have handed the number to a new file since (ENOENT). Nothing is left
  // to take out, so this is worth a line in the log but no more.
  if (operation == EPOLL_CTL_DEL && (savedErrno == EBADF || savedErrno == ENOENT)) {
    std::fprintf(stderr,
                 "reactor: EPollPoller: epoll_ctl(EPOLL_CTL_DEL, fd %d): %s "
                 "(closed before its channel was removed?)\n",
                 channel->fd(), std::strerror(savedErrno));
    return;
  }
  // Anything else means the channel was handed a descriptor that epoll(7)
  // cannot watch, e.g. one that is closed or a regular file.
  fatal("EPollPoller: epoll_ctl(%s, fd %d): %s", operationName(operation), channel->fd(),
        std::strerror(savedErrno));
}
// [update]

}  // namespace reactor
