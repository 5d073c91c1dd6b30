// Chapter 2: removing channels while the loop dispatches (muduo issue #368,
// libuv's test-tcp-close-accept). Two channels are ready in the same
// iteration; whichever the loop dispatches first removes the other. Which
// one comes first is the Poller's business, so each side is ready to be the
// one that acts. Every test runs twice, with REACTOR_POLLER=poll and =epoll.
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <string>

#include "channel_test_support.h"
#include "gtest/gtest.h"
#include "reactor/Channel.h"
#include "reactor/EventLoop.h"

namespace {

using reactor::Channel;
using reactor::EventLoop;
using reactor::Timestamp;
using namespace reactor_test;

/// One side: a socketpair with data waiting, and a channel watching it.
struct Side {
  std::unique_ptr<SocketPair> pair = std::make_unique<SocketPair>();
  std::unique_ptr<Channel> channel;
  int calls = 0;
};

TEST(RemovalDuringDispatchTest, ChannelRemovedByAnotherCallbackGetsNoCallback) {
  EventLoop loop;
  std::array<Side, 2> sides;
  for (int i = 0; i < 2; ++i) {
    Side& self = sides[i];
    Side& other = sides[1 - i];
    self.channel = std::make_unique<Channel>(&loop, self.pair->ours());
    self.channel->setReadCallback([&](Timestamp) {
      ++self.calls;
      drain(self.pair->ours());
      if (loop.hasChannel(other.channel.get())) unregister(*other.channel);
    });
    self.channel->enableReading();
  }
  for (Side& side : sides) writeString(side.pair->peer(), "ready");

  cpuTimeWhileLooping(loop, 100ms);
  EXPECT_EQ(sides[0].calls + sides[1].calls, 1)
      << "the removed channel was still dispatched: " << sides[0].calls << " and " << sides[1].calls
      << " calls";
  for (Side& side : sides) {
    if (loop.hasChannel(side.channel.get())) unregister(*side.channel);
  }
}

// The removed channel is destroyed at once, its descriptor closed, and the
// number handed to a new socket with a new channel, all inside the first
// callback. The loop still holds the iteration's list of ready channels: the
// old entry must neither reach freed memory (ASan watches) nor the new channel,
// which may even live at the old one's address.
TEST(RemovalDuringDispatchTest, ChannelRemovedAndDestroyedByAnotherCallbackGetsNoCallback) {
  EventLoop loop;
  std::array<Side, 2> sides;
  std::unique_ptr<Channel> newChannel;
  int reusedFd = -1;
  int newPeer = -1;
  int newChannelCalls = 0;
  std::string newChannelData;

  for (int i = 0; i < 2; ++i) {
    Side& self = sides[i];
    Side& other = sides[1 - i];
    self.channel = std::make_unique<Channel>(&loop, self.pair->ours());
    self.channel->setReadCallback([&](Timestamp) {
      ++self.calls;
      drain(self.pair->ours());
      if (!other.channel) return;
      reusedFd = other.pair->ours();
      unregister(*other.channel);
      other.channel.reset();
      other.pair.reset();  // closes both ends

      // A new socket on the old number, watched by a new channel.
      int fresh[2];
      ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fresh), 0);
      if (fresh[0] != reusedFd) {
        ASSERT_EQ(::dup2(fresh[0], reusedFd), reusedFd);
        ::close(fresh[0]);
      }
      newPeer = fresh[1];
      newChannel = std::make_unique<Channel>(&loop, reusedFd);
      newChannel->setReadCallback([&](Timestamp) {
        ++newChannelCalls;
        newChannelData += drain(reusedFd).data;
        loop.quit();
      });
      newChannel->enableReading();
    });
    self.channel->enableReading();
  }
  for (Side& side : sides) writeString(side.pair->peer(), "ready");

  cpuTimeWhileLooping(loop, 100ms);
  ASSERT_TRUE(newChannel) << "no callback ran";
  EXPECT_EQ(sides[0].calls + sides[1].calls, 1);
  EXPECT_EQ(newChannelCalls, 0) << "the new channel got the old descriptor's stale event";

  // The new channel is live: data for it does arrive.
  writeString(newPeer, "fresh");
  loopUntilQuit(loop);
  EXPECT_EQ(newChannelCalls, 1);
  EXPECT_EQ(newChannelData, "fresh");

  unregister(*newChannel);
  ::close(reusedFd);
  ::close(newPeer);
  for (Side& side : sides) {
    if (side.channel) unregister(*side.channel);
  }
}

}  // namespace
