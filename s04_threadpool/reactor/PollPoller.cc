#include "reactor/PollPoller.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "reactor/Fatal.h"

namespace reactor {

namespace {

// index() of a channel that is not in the array.
constexpr int kNew = -1;

// poll(2) skips entries with a negative fd; this one keeps the fd recoverable.
// Without it a channel watching nothing would still be told of POLLHUP and
// POLLERR, which poll(2) reports whatever was asked.
int ignored(int fd) { return -fd - 1; }

}  // namespace

// [poll]
Timestamp PollPoller::poll(int timeoutMs, ChannelList* activeChannels) {
  const int numEvents = ::poll(pollfds_.data(), pollfds_.size(), timeoutMs);
  const int savedErrno = errno;
  const Timestamp now = Clock::now();
  if (numEvents > 0) {
    fillActiveChannels(numEvents, activeChannels);
  } else if (numEvents < 0 && savedErrno != EINTR) {
    std::fprintf(stderr, "reactor: PollPoller::poll: %s\n", std::strerror(savedErrno));
  }
  return now;
}

void PollPoller::fillActiveChannels(int numEvents, ChannelList* activeChannels) const {
  // The kernel said how many entries it marked; stop scanning at the last.
  for (auto pfd = pollfds_.begin(); pfd != pollfds_.end() && numEvents > 0; ++pfd) {
    if (pfd->revents == 0) continue;
    --numEvents;
    Channel* channel = channels_.at(pfd->fd);
    channel->set_revents(pfd->revents);
    activeChannels->push_back(channel);
  }
}
// [poll]

// [updateChannel]
void PollPoller::updateChannel(Channel* channel) {
  if (channel->index() == kNew) {
    if (!channels_.emplace(channel->fd(), channel).second) {
      fatal(
          "PollPoller::updateChannel: fd %d already has another channel in this loop; "
          "remove that one first",
          channel->fd());
    }
    pollfds_.push_back(pollfd{channel->fd(), static_cast<short>(channel->events()), 0});
    channel->set_index(static_cast<int>(pollfds_.size()) - 1);
  } else {
    pollfd& pfd = pollfds_[channel->index()];
    pfd.fd = channel->isNoneEvent() ? ignored(channel->fd()) : channel->fd();
    pfd.events = static_cast<short>(channel->events());
  }
}
// [updateChannel]

// [removeChannel]
void PollPoller::removeChannel(Channel* channel) {
  if (channel->index() == kNew) return;
  channels_.erase(channel->fd());
  // Fill the hole with the last entry: O(1), and the array stays dense.
  const auto index = static_cast<std::size_t>(channel->index());
  if (index != pollfds_.size() - 1) {
    pollfds_[index] = pollfds_.back();
    int movedFd = pollfds_[index].fd;
    if (movedFd < 0) movedFd = ignored(movedFd);  // ignored() is its own inverse
    channels_.at(movedFd)->set_index(static_cast<int>(index));
  }
  pollfds_.pop_back();
  channel->set_index(kNew);
}
// [removeChannel]

}  // namespace reactor
