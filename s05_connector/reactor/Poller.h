// Poller: waits for events on many descriptors at once, for one EventLoop.
// Two implementations: PollPoller over poll(2) and EPollPoller over epoll(7);
// newDefaultPoller() picks one from the environment variable REACTOR_POLLER.
// The Poller only watches and reports; the EventLoop dispatches.
//
// Thread rules: loop thread only. The EventLoop, which owns its Poller,
// checks the thread before every call, so the Poller need not.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "reactor/Channel.h"
#include "reactor/Timestamp.h"

namespace reactor {

/// The interface of the I/O multiplexers that an EventLoop can wait in.
class Poller {
 public:
  /// The channels that poll() found ready, in no promised order.
  using ChannelList = std::vector<Channel*>;

  virtual ~Poller() = default;

  /// Waits up to `timeoutMs` milliseconds (-1: without limit) for an event
  /// on a registered channel; appends each ready channel, with its returned
  /// events set, to `activeChannels`. Returns when the wait ended.
  virtual Timestamp poll(int timeoutMs, ChannelList* activeChannels) = 0;

  /// Registers `channel`, or changes the events it watches.
  virtual void updateChannel(Channel* channel) = 0;

  /// Unregisters `channel`, which watches no events any more. Harmless for a
  /// channel that was never registered.
  virtual void removeChannel(Channel* channel) = 0;

  /// True when `channel` is registered here.
  bool hasChannel(Channel* channel) const {
    const auto it = channels_.find(channel->fd());
    return it != channels_.end() && it->second == channel;
  }

  /// "poll" or "epoll".
  virtual const char* name() const = 0;

  /// The Poller that REACTOR_POLLER names: "poll", or "epoll" (also when the
  /// variable is unset or empty). Throws std::invalid_argument for any other
  /// value, and std::system_error when the kernel refuses a descriptor.
  static std::unique_ptr<Poller> newDefaultPoller();

 protected:
  /// The registered channels by descriptor: one channel per descriptor.
  std::map<int, Channel*> channels_;
};

}  // namespace reactor
