// EPollPoller: the Poller over epoll(7), level-triggered. The kernel keeps the
// interest list between calls and hands back only the ready descriptors, so
// one wait costs O(ready descriptors), however many are watched.
//
// Thread rules: loop thread only, as every Poller.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <vector>

#include "reactor/Poller.h"

namespace reactor {

/// Poller over epoll(7). A channel's index() says whether the kernel's
/// interest list holds its descriptor.
class EPollPoller : public Poller {
 public:
  /// Throws std::system_error when epoll_create1() fails (a full fd table).
  EPollPoller();
  /// Closes the epoll descriptor.
  ~EPollPoller() override;
  EPollPoller(const EPollPoller&) = delete;
  EPollPoller& operator=(const EPollPoller&) = delete;

  Timestamp poll(int timeoutMs, ChannelList* activeChannels) override;
  void updateChannel(Channel* channel) override;
  void removeChannel(Channel* channel) override;
  const char* name() const override { return "epoll"; }

 private:
  static constexpr std::size_t kInitialEventListSize = 16;

  void fillActiveChannels(int numEvents, ChannelList* activeChannels) const;
  void update(int operation, Channel* channel);

  const int epollfd_;
  std::vector<epoll_event> events_;  // filled by epoll_wait(); grows when full
};

}  // namespace reactor
