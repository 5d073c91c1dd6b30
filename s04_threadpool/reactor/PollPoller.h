// PollPoller: the Poller over poll(2). It hands the kernel the whole array of
// watched descriptors on every call, so one wait costs O(all descriptors),
// however few are ready; simple, and portable to every POSIX system.
//
// Thread rules: loop thread only, as every Poller.
#pragma once

#include <poll.h>

#include <vector>

#include "reactor/Poller.h"

namespace reactor {

/// Poller over poll(2). A channel's index() is its place in the pollfd array.
class PollPoller : public Poller {
 public:
  Timestamp poll(int timeoutMs, ChannelList* activeChannels) override;
  void updateChannel(Channel* channel) override;
  void removeChannel(Channel* channel) override;
  const char* name() const override { return "poll"; }

 private:
  void fillActiveChannels(int numEvents, ChannelList* activeChannels) const;

  std::vector<pollfd> pollfds_;
};

}  // namespace reactor
