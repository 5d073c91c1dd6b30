// Helpers shared by the chapter-2 tests: socketpairs to watch, a bounded look
// at how much CPU a loop burns (to tell sleeping from spinning), a loop run
// that cannot hang, and a scoped REACTOR_POLLER.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "reactor/Channel.h"
#include "reactor/EventLoop.h"
#include "support/loop_test_support.h"

namespace reactor_test {

using namespace std::chrono_literals;

/// Long enough to tell a loop that sleeps from one that spins.
constexpr auto kWindow = 200ms;
/// CPU time a loop may use in kWindow and still count as asleep: a spinning
/// loop uses nearly all of the window, a sleeping one next to nothing.
constexpr auto kSpinBudget = 50ms;
/// Ends a test that waits for an event that never comes.
constexpr double kHangLimitSeconds = 20;

/// A connected pair of nonblocking UNIX stream sockets: a channel watches
/// ours(); the test plays the peer.
class SocketPair {
 public:
  SocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds_) != 0) {
      ADD_FAILURE() << "socketpair failed";
    }
  }
  ~SocketPair() {
    closeOurs();
    closePeer();
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  int ours() const { return fds_[0]; }
  int peer() const { return fds_[1]; }
  void closeOurs() { closeEnd(0); }
  void closePeer() { closeEnd(1); }

 private:
  void closeEnd(int i) {
    if (fds_[i] >= 0) ::close(fds_[i]);
    fds_[i] = -1;
  }

  int fds_[2] = {-1, -1};
};

inline void writeString(int fd, const std::string& data) {
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
}

/// What a nonblocking read found: the bytes, and whether the peer has closed.
struct Drained {
  std::string data;
  bool endOfStream = false;
};

/// Reads until the socket has nothing more, without blocking.
inline Drained drain(int fd) {
  Drained drained;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      drained.endOfStream = n == 0;
      return drained;
    }
    drained.data.append(buf, static_cast<std::size_t>(n));
  }
}

/// Runs the loop, in its owner thread, for `window` of wall time, and returns
/// the CPU time the thread used meanwhile. A bounded observation, not a wait
/// for something to happen.
inline std::chrono::nanoseconds cpuTimeWhileLooping(reactor::EventLoop& loop,
                                                    std::chrono::milliseconds window = kWindow) {
  loop.runAfter(window, [&loop] { loop.quit(); });
  const std::chrono::nanoseconds before = threadCpuTime();
  loop.loop();
  return threadCpuTime() - before;
}

/// Runs the loop until a callback quits it; a test that waits in vain fails
/// after kHangLimitSeconds instead of hanging.
inline void loopUntilQuit(reactor::EventLoop& loop) {
  bool timedOut = false;
  const reactor::TimerId guard = loop.runAfter(kHangLimitSeconds, [&] {
    timedOut = true;
    loop.quit();
  });
  loop.loop();
  loop.cancel(guard);
  EXPECT_FALSE(timedOut) << "the awaited event never came";
}

/// What an owner does before it closes the descriptor or drops the channel.
inline void unregister(reactor::Channel& channel) {
  channel.disableAll();
  channel.remove();
}

/// Sets (or, with nullopt, unsets) REACTOR_POLLER, and puts back the old
/// value when it goes. The tests run one at a time in their process, and no
/// other thread reads the environment meanwhile.
class ScopedPollerChoice {
 public:
  explicit ScopedPollerChoice(std::optional<std::string> value) {
    if (const char* old = std::getenv(kName)) old_ = old;
    set(value);
  }
  ~ScopedPollerChoice() { set(old_); }
  ScopedPollerChoice(const ScopedPollerChoice&) = delete;
  ScopedPollerChoice& operator=(const ScopedPollerChoice&) = delete;

 private:
  static constexpr const char* kName = "REACTOR_POLLER";

  static void set(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(kName, value->c_str(), 1);
    } else {
      ::unsetenv(kName);
    }
  }

  std::optional<std::string> old_;
};

}  // namespace reactor_test
