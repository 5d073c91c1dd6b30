// Chapter 2: the Poller behind the loop, poll(2) or epoll(7), chosen by
// REACTOR_POLLER. Every test runs twice, with REACTOR_POLLER=poll and =epoll.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "channel_test_support.h"
#include "gtest/gtest.h"
#include "reactor/Channel.h"
#include "reactor/EventLoop.h"

namespace {

using reactor::Channel;
using reactor::EventLoop;
using reactor::Timestamp;
using namespace reactor_test;

TEST(PollerTest, PollerNameMatchesTheEnvironment) {
  EventLoop loop;
  const std::string name = loop.pollerName();
  const char* chosen = std::getenv("REACTOR_POLLER");
  if (chosen != nullptr && *chosen != '\0') {
    EXPECT_EQ(name, chosen);
  } else {
    EXPECT_EQ(name, "epoll");
  }
}

TEST(PollerTest, ExplicitChoiceIsHonoured) {
  for (const char* name : {"poll", "epoll"}) {
    ScopedPollerChoice choice(std::string{name});
    EventLoop loop;
    EXPECT_STREQ(loop.pollerName(), name);
  }
}

TEST(PollerTest, UnsetOrEmptyMeansEpoll) {
  {
    ScopedPollerChoice unset(std::nullopt);
    EventLoop loop;
    EXPECT_STREQ(loop.pollerName(), "epoll");
  }
  {
    ScopedPollerChoice empty(std::string{});
    EventLoop loop;
    EXPECT_STREQ(loop.pollerName(), "epoll");
  }
}

TEST(PollerTest, UnknownPollerThrowsAClearError) {
  {
    ScopedPollerChoice typo(std::string{"kqueue"});
    try {
      EventLoop loop;
      ADD_FAILURE() << "REACTOR_POLLER=kqueue was accepted, with " << loop.pollerName();
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("REACTOR_POLLER"), std::string::npos) << message;
      EXPECT_NE(message.find("kqueue"), std::string::npos) << message;
      EXPECT_NE(message.find("\"poll\""), std::string::npos) << message;
      EXPECT_NE(message.find("\"epoll\""), std::string::npos) << message;
    }
    // The failed constructor left nothing behind in this thread.
    EXPECT_EQ(EventLoop::getEventLoopOfCurrentThread(), nullptr);
  }
  EventLoop loop;  // so a new loop may be made here
  EXPECT_EQ(EventLoop::getEventLoopOfCurrentThread(), &loop);
}

TEST(PollerTest, ServesTwoHundredDescriptorsReadyAtOnce) {
  constexpr int kCount = 200;
  EventLoop loop;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  std::vector<std::unique_ptr<Channel>> channels;
  std::vector<int> reads(kCount, 0);
  int served = 0;
  for (int i = 0; i < kCount; ++i) {
    pairs.push_back(std::make_unique<SocketPair>());
    const int fd = pairs.back()->ours();
    channels.push_back(std::make_unique<Channel>(&loop, fd));
    Channel& channel = *channels.back();
    channel.setReadCallback([&, i, fd](Timestamp) {
      ++reads[i];
      EXPECT_EQ(drain(fd).data, std::to_string(i));
      unregister(channel);
      if (++served == kCount) loop.quit();
    });
    channel.enableReading();
  }
  // All of them are ready before the loop first waits.
  for (int i = 0; i < kCount; ++i) writeString(pairs[i]->peer(), std::to_string(i));

  loopUntilQuit(loop);
  EXPECT_EQ(served, kCount);
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(reads[i], 1) << "channel " << i;
}

// Removal reshuffles a Poller's tables (poll(2) fills the hole in its array
// with the last entry); every channel left must still hear its own events.
TEST(PollerTest, RemovingChannelsKeepsTheOthersServed) {
  constexpr int kCount = 40;
  EventLoop loop;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  std::vector<std::unique_ptr<Channel>> channels;
  std::vector<int> reads(kCount, 0);
  for (int i = 0; i < kCount; ++i) {
    pairs.push_back(std::make_unique<SocketPair>());
    const int fd = pairs.back()->ours();
    channels.push_back(std::make_unique<Channel>(&loop, fd));
    channels.back()->setReadCallback([&, i, fd](Timestamp) {
      ++reads[i];
      EXPECT_EQ(drain(fd).data, std::to_string(i));
    });
    channels.back()->enableReading();
  }
  // The first, the last, and every third one between.
  auto removed = [](int i) { return i == 0 || i == kCount - 1 || i % 3 == 1; };
  for (int i = 0; i < kCount; ++i) {
    if (removed(i)) unregister(*channels[i]);
  }
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(loop.hasChannel(channels[i].get()), !removed(i)) << "channel " << i;
    writeString(pairs[i]->peer(), std::to_string(i));
  }

  cpuTimeWhileLooping(loop, 100ms);
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(reads[i], removed(i) ? 0 : 1) << "channel " << i;
    if (!removed(i)) unregister(*channels[i]);
  }
}

// The owner closed the descriptor but forgot to remove its channel first.
// poll(2) says so on every iteration (POLLNVAL, the error callback) until the
// owner removes the channel; epoll(7) dropped the descriptor when it was
// closed and says nothing. Neither crashes, and the loop sleeps again.
TEST(PollerTest, DescriptorClosedWhileRegisteredNeitherCrashesNorSpins) {
  EventLoop loop;
  SocketPair pair;
  int errors = 0;
  int others = 0;
  Channel channel(&loop, pair.ours());
  channel.setErrorCallback([&] {
    ++errors;
    unregister(channel);  // the owner's fix
  });
  channel.setReadCallback([&](Timestamp) { ++others; });
  channel.setCloseCallback([&] { ++others; });
  channel.enableReading();
  pair.closeOurs();

  const auto cpu = cpuTimeWhileLooping(loop);
  EXPECT_LT(cpu, kSpinBudget);
  EXPECT_EQ(others, 0);
  if (std::string(loop.pollerName()) == "poll") {
    EXPECT_EQ(errors, 1);
    EXPECT_FALSE(loop.hasChannel(&channel));
  } else {
    EXPECT_EQ(errors, 0);
    EXPECT_TRUE(loop.hasChannel(&channel));
    unregister(channel);  // logs that the kernel had dropped it already
    EXPECT_LT(cpuTimeWhileLooping(loop), kSpinBudget);
  }
  EXPECT_FALSE(loop.hasChannel(&channel));
}

TEST(PollerTest, TimersStillBoundTheWaitWhileChannelsAreIdle) {
  EventLoop loop;
  SocketPair pair;
  Channel channel(&loop, pair.ours());
  channel.setReadCallback([](Timestamp) { ADD_FAILURE() << "nothing was written"; });
  channel.enableReading();

  const Timestamp start = reactor::Clock::now();
  Timestamp fired{};
  loop.runAfter(50ms, [&] {
    fired = reactor::Clock::now();
    loop.quit();
  });
  loopUntilQuit(loop);
  EXPECT_GE(fired - start, 50ms);
  unregister(channel);
}

}  // namespace
