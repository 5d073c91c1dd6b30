// Chapter 2: a Channel binds one descriptor to the callbacks for its events.
// Every test runs twice, with REACTOR_POLLER=poll and =epoll.
#include <poll.h>
#include <unistd.h>

#include <future>
#include <memory>
#include <string>
#include <thread>

#include "channel_test_support.h"
#include "gtest/gtest.h"
#include "reactor/Channel.h"
#include "reactor/EventLoop.h"

namespace {

using reactor::Channel;
using reactor::EventLoop;
using reactor::Timestamp;
using namespace reactor_test;

TEST(ChannelTest, StartsWatchingNothing) {
  EventLoop loop;
  SocketPair pair;
  Channel channel(&loop, pair.ours());
  EXPECT_EQ(channel.fd(), pair.ours());
  EXPECT_EQ(channel.ownerLoop(), &loop);
  EXPECT_EQ(channel.events(), 0);
  EXPECT_TRUE(channel.isNoneEvent());
  EXPECT_FALSE(channel.isReading());
  EXPECT_FALSE(channel.isWriting());
  EXPECT_FALSE(loop.hasChannel(&channel));
}

TEST(ChannelTest, EnableAndDisableChangeTheWatchedEvents) {
  EventLoop loop;
  SocketPair pair;
  Channel channel(&loop, pair.ours());

  channel.enableReading();
  EXPECT_TRUE(channel.isReading());
  EXPECT_FALSE(channel.isWriting());
  EXPECT_TRUE(channel.events() & POLLIN);
  EXPECT_FALSE(channel.events() & POLLOUT);

  channel.enableWriting();
  EXPECT_TRUE(channel.isReading());
  EXPECT_TRUE(channel.isWriting());
  EXPECT_TRUE(channel.events() & POLLOUT);

  channel.disableReading();
  EXPECT_FALSE(channel.isReading());
  EXPECT_TRUE(channel.isWriting());
  EXPECT_FALSE(channel.events() & POLLIN);

  channel.disableWriting();
  EXPECT_TRUE(channel.isNoneEvent());

  channel.enableReading();
  channel.enableWriting();
  channel.disableAll();
  EXPECT_TRUE(channel.isNoneEvent());
  EXPECT_EQ(channel.events(), 0);
  channel.remove();
}

TEST(ChannelTest, HasChannelTracksAddAndRemove) {
  EventLoop loop;
  SocketPair pair;
  Channel channel(&loop, pair.ours());
  EXPECT_FALSE(loop.hasChannel(&channel));
  channel.enableReading();
  EXPECT_TRUE(loop.hasChannel(&channel));
  channel.disableAll();
  EXPECT_TRUE(loop.hasChannel(&channel)) << "watching nothing is not the same as removed";
  channel.remove();
  EXPECT_FALSE(loop.hasChannel(&channel));
  channel.enableWriting();
  EXPECT_TRUE(loop.hasChannel(&channel)) << "a removed channel may come back";
  unregister(channel);
  EXPECT_FALSE(loop.hasChannel(&channel));

  // Another channel of the same descriptor is not the registered one.
  channel.enableReading();
  Channel stranger(&loop, pair.ours());
  EXPECT_FALSE(loop.hasChannel(&stranger));
  unregister(channel);
}

TEST(ChannelTest, RemovingAChannelThatWasNeverAddedIsHarmless) {
  EventLoop loop;
  SocketPair pair;
  Channel channel(&loop, pair.ours());
  channel.remove();
  EXPECT_FALSE(loop.hasChannel(&channel));
}

TEST(ChannelTest, DataRunsTheReadCallbackInTheLoopThreadWithTheReceiveTime) {
  EventLoop loop;
  SocketPair pair;
  const pid_t loopThread = ::gettid();
  std::promise<Timestamp> written;
  std::shared_future<Timestamp> writtenAt = written.get_future().share();

  int calls = 0;
  Channel channel(&loop, pair.ours());
  channel.setReadCallback([&](Timestamp receiveTime) {
    ++calls;
    EXPECT_EQ(::gettid(), loopThread);
    EXPECT_TRUE(loop.isInLoopThread());
    // The writer sets the promise before it writes, so it is ready here.
    EXPECT_GE(receiveTime, writtenAt.get());
    EXPECT_LE(receiveTime, reactor::Clock::now());
    EXPECT_EQ(drain(pair.ours()).data, "hello");
    loop.quit();
  });
  channel.enableReading();

  std::thread writer([&] {
    written.set_value(reactor::Clock::now());
    writeString(pair.peer(), "hello");
  });
  loopUntilQuit(loop);
  writer.join();
  EXPECT_EQ(calls, 1);
  unregister(channel);
}

TEST(ChannelTest, WritabilityRunsTheWriteCallbackUntilWritingIsDisabled) {
  EventLoop loop;
  SocketPair pair;
  int calls = 0;
  Channel channel(&loop, pair.ours());
  channel.setWriteCallback([&] {
    ++calls;
    EXPECT_TRUE(loop.isInLoopThread());
    channel.disableWriting();
  });
  channel.enableWriting();
  cpuTimeWhileLooping(loop);
  EXPECT_EQ(calls, 1) << "disableWriting() must stop the write callback";
  EXPECT_FALSE(channel.isWriting());
  unregister(channel);
}

// Level-triggered: a descriptor that stays writable is reported on every
// iteration for as long as writing is enabled.
TEST(ChannelTest, WriteCallbackRepeatsWhileWritingStaysEnabled) {
  EventLoop loop;
  SocketPair pair;
  int calls = 0;
  Channel channel(&loop, pair.ours());
  channel.setWriteCallback([&] {
    if (++calls == 3) {
      channel.disableWriting();
      loop.quit();
    }
  });
  channel.enableWriting();
  loopUntilQuit(loop);
  EXPECT_EQ(calls, 3);
  unregister(channel);
}

TEST(ChannelTest, PeerCloseIsReportedOnceAndTheLoopDoesNotSpin) {
  EventLoop loop;
  SocketPair pair;
  int reports = 0;
  Channel channel(&loop, pair.ours());
  auto report = [&] {
    ++reports;
    unregister(channel);  // what an owner does on end of stream
  };
  channel.setReadCallback([&](Timestamp) {
    if (drain(pair.ours()).endOfStream) report();
  });
  channel.setCloseCallback(report);
  channel.enableReading();
  pair.closePeer();

  const auto cpu = cpuTimeWhileLooping(loop);
  EXPECT_EQ(reports, 1);
  EXPECT_LT(cpu, kSpinBudget);
  EXPECT_FALSE(loop.hasChannel(&channel));
}

// poll(2) and epoll(7) report POLLHUP whatever was asked; with no POLLIN
// beside it, there is nothing left to read and the close callback runs.
TEST(ChannelTest, HangUpWithNothingToReadRunsTheCloseCallback) {
  EventLoop loop;
  SocketPair pair;
  int closes = 0;
  Channel channel(&loop, pair.ours());
  channel.setCloseCallback([&] {
    ++closes;
    unregister(channel);
  });
  channel.setReadCallback([&](Timestamp) { ADD_FAILURE() << "reading is not enabled"; });
  channel.enableWriting();
  pair.closePeer();

  const auto cpu = cpuTimeWhileLooping(loop);
  EXPECT_EQ(closes, 1);
  EXPECT_LT(cpu, kSpinBudget);
}

TEST(ChannelTest, DataWhileReadingIsDisabledDoesNotMakeTheLoopSpin) {
  EventLoop loop;
  SocketPair pair;
  int reads = 0;
  Channel channel(&loop, pair.ours());
  channel.setReadCallback([&](Timestamp) {
    ++reads;
    EXPECT_EQ(drain(pair.ours()).data, "waiting");
    loop.quit();
  });
  channel.enableReading();
  channel.disableReading();
  writeString(pair.peer(), "waiting");

  const auto cpu = cpuTimeWhileLooping(loop);
  EXPECT_EQ(reads, 0);
  EXPECT_LT(cpu, kSpinBudget);

  // The data waited in the socket all along.
  channel.enableReading();
  loopUntilQuit(loop);
  EXPECT_EQ(reads, 1);
  unregister(channel);
}

// poll(2) and epoll(7) report a hang-up even for a descriptor that asks for
// nothing; a channel that watches nothing must not hear it, again and again.
TEST(ChannelTest, HangUpWhileWatchingNothingDoesNotMakeTheLoopSpin) {
  EventLoop loop;
  SocketPair pair;
  int calls = 0;
  Channel channel(&loop, pair.ours());
  channel.setReadCallback([&](Timestamp) { ++calls; });
  channel.setCloseCallback([&] { ++calls; });
  channel.setErrorCallback([&] { ++calls; });
  channel.enableReading();
  channel.disableAll();  // still registered
  pair.closePeer();

  const auto cpu = cpuTimeWhileLooping(loop);
  EXPECT_EQ(calls, 0);
  EXPECT_LT(cpu, kSpinBudget);
  EXPECT_TRUE(loop.hasChannel(&channel));
  channel.remove();
}

TEST(ChannelTest, ACallbackThatRemovesItsChannelEndsTheDispatch) {
  EventLoop loop;
  SocketPair pair;
  int reads = 0;
  int writes = 0;
  Channel channel(&loop, pair.ours());
  channel.setReadCallback([&](Timestamp) {
    ++reads;
    unregister(channel);
  });
  channel.setWriteCallback([&] { ++writes; });
  // Readable and writable in the same iteration; the read callback runs first.
  writeString(pair.peer(), "x");
  channel.enableReading();
  channel.enableWriting();

  cpuTimeWhileLooping(loop);
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(writes, 0) << "a removed channel got the rest of its event";
}

// The dispatch rules of handleEvent(), fed the returned events directly.
TEST(ChannelTest, HandleEventRunsTheCallbacksForTheReturnedEvents) {
  EventLoop loop;
  SocketPair pair;
  std::string ran;
  Channel channel(&loop, pair.ours());
  channel.setReadCallback([&](Timestamp) { ran += "read "; });
  channel.setWriteCallback([&] { ran += "write "; });
  channel.setCloseCallback([&] { ran += "close "; });
  channel.setErrorCallback([&] { ran += "error "; });
  channel.enableReading();

  const struct {
    int revents;
    const char* expected;
  } cases[] = {
      {0, ""},
      {POLLIN, "read "},
      {POLLPRI, "read "},
      {POLLRDHUP, "read "},
      {POLLOUT, "write "},
      {POLLHUP, "close "},
      {POLLHUP | POLLIN, "read "},
      {POLLERR, "error "},
      {POLLNVAL, "error "},
      {POLLIN | POLLOUT, "read write "},
      {POLLERR | POLLIN | POLLOUT, "error read write "},
  };
  for (const auto& c : cases) {
    ran.clear();
    channel.set_revents(c.revents);
    channel.handleEvent(reactor::Clock::now());
    EXPECT_EQ(ran, c.expected) << "revents " << std::hex << c.revents;
  }
  unregister(channel);
}

TEST(ChannelTest, ChannelsEnabledFromAnotherThreadThroughRunInLoopWork) {
  std::promise<EventLoop*> started;
  std::promise<void> release;  // the loop must outlive this thread's calls
  std::thread loopThread([&] {
    EventLoop loop;
    loop.runInLoop([&] { started.set_value(&loop); });
    loop.loop();
    release.get_future().wait();
  });
  EventLoop* loop = started.get_future().get();
  ASSERT_FALSE(loop->isInLoopThread());

  SocketPair pair;
  std::promise<std::string> received;
  Channel channel(loop, pair.ours());  // built here, handed over below
  channel.setReadCallback([&](Timestamp) {
    EXPECT_TRUE(loop->isInLoopThread());
    received.set_value(drain(pair.ours()).data);
  });

  std::promise<bool> enabled;
  loop->runInLoop([&] {
    channel.enableReading();
    enabled.set_value(loop->hasChannel(&channel));
  });
  EXPECT_TRUE(enabled.get_future().get());

  writeString(pair.peer(), "across threads");
  EXPECT_EQ(received.get_future().get(), "across threads");

  std::promise<bool> removed;
  loop->runInLoop([&] {
    unregister(channel);
    removed.set_value(!loop->hasChannel(&channel));
  });
  EXPECT_TRUE(removed.get_future().get());

  loop->quit();
  release.set_value();
  loopThread.join();
}

TEST(ChannelDeathTest, UpdateChannelFromAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        SocketPair pair;
        Channel channel(&loop, pair.ours());
        std::thread([&] { channel.enableReading(); }).join();
      },
      "EventLoop::updateChannel");
}

TEST(ChannelDeathTest, RemoveChannelFromAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        SocketPair pair;
        Channel channel(&loop, pair.ours());
        std::thread([&] { channel.remove(); }).join();
      },
      "EventLoop::removeChannel");
}

TEST(ChannelDeathTest, HasChannelFromAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        SocketPair pair;
        Channel channel(&loop, pair.ours());
        std::thread([&] { loop.hasChannel(&channel); }).join();
      },
      "EventLoop::hasChannel");
}

TEST(ChannelDeathTest, RemoveBeforeDisableAllAborts) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        SocketPair pair;
        Channel channel(&loop, pair.ours());
        channel.enableReading();
        channel.remove();
      },
      "disableAll");
}

TEST(ChannelDeathTest, DestroyingARegisteredChannelAborts) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        SocketPair pair;
        auto channel = std::make_unique<Channel>(&loop, pair.ours());
        channel->enableReading();
        channel.reset();
      },
      "Channel::~Channel");
}

TEST(ChannelDeathTest, DestroyingAChannelInItsOwnCallbackAborts) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        SocketPair pair;
        auto channel = std::make_unique<Channel>(&loop, pair.ours());
        channel->setReadCallback([&](Timestamp) {
          unregister(*channel);
          channel.reset();
        });
        channel->enableReading();
        writeString(pair.peer(), "x");
        loop.loop();
      },
      "Channel::~Channel");
}

}  // namespace
