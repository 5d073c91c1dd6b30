// Helpers shared by the chapter-3 tests: a thread that owns a loop and a
// server on it, a record of the connection callback's calls, a blocking
// loopback client whose every call gives up after a timeout, and ways to
// count descriptors and CPU time. They use only the API of chapter 3 and
// POSIX sockets, so the tests run unchanged against every later stage.
#pragma once

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/Callbacks.h"
#include "reactor/EventLoop.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpConnection.h"
#include "reactor/TcpServer.h"
#include "support/loop_test_support.h"

namespace reactor_test {

using reactor::InetAddress;
using reactor::TcpConnection;
using reactor::TcpConnectionPtr;
using reactor::TcpServer;

/// How long one blocking call of a Client may wait before it gives up.
constexpr auto kIoTimeout = 10s;

/// A value guarded by a mutex that threads update and wait on: the loop
/// thread records what its callbacks saw, the test thread waits until the
/// record says what it expects.
template <typename T>
class Monitor {
 public:
  /// Runs `change(value)` under the lock and wakes the waiters.
  template <typename F>
  void update(F change) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      change(value_);
    }
    changed_.notify_all();
  }

  /// Waits until `done(value)` holds; false if it still does not after `limit`.
  template <typename P>
  bool waitUntil(P done, Clock::duration limit = kHangLimit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return done(value_); });
  }

  /// What `look(value)` returns, computed under the lock.
  template <typename F>
  auto read(F look) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return look(value_);
  }

  /// A copy of the value.
  T get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return value_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  T value_{};
};

/// A thread that owns an EventLoop and runs it until the LoopThread goes.
/// (Not EventLoopThread: a later stage brings a class of that name.)
class LoopThread {
 public:
  LoopThread() : thread_([this] { run(); }) { loop_ = started_.get_future().get(); }
  ~LoopThread() {
    loop_->quit();
    released_.set_value();  // only now, after quit() has returned, may the loop go
    thread_.join();
  }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  reactor::EventLoop* loop() const { return loop_; }
  /// The loop thread's id, for /proc (see waitUntilAsleepInPoll()).
  pid_t tid() const { return tid_; }

  /// Runs `f` in the loop's thread, waits for it and returns its result. A
  /// loop that does not run it within kHangLimit is stuck: the test process
  /// aborts with a message rather than wait for the CTest timeout.
  template <typename F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    loop_->runInLoop([&task] { task(); });
    if (result.wait_for(kHangLimit) != std::future_status::ready) {
      std::fprintf(stderr, "LoopThread::call: the loop did not run the call within %lld s\n",
                   static_cast<long long>(
                       std::chrono::duration_cast<std::chrono::seconds>(kHangLimit).count()));
      std::abort();
    }
    return result.get();
  }

  /// Lets the loop run everything queued so far, and what that queued in turn.
  void settle() {
    call([] {});
    call([] {});
  }

 private:
  void run() {
    reactor::EventLoop loop;
    tid_ = ::gettid();
    started_.set_value(&loop);
    loop.loop();
    released_.get_future().wait();
  }

  std::promise<reactor::EventLoop*> started_;
  std::promise<void> released_;
  reactor::EventLoop* loop_ = nullptr;
  pid_t tid_ = 0;  // written before started_ is set, read after
  std::thread thread_;
};

/// A TcpServer on a LoopThread's loop, by default on 127.0.0.1 at a port the
/// kernel picks. It is built, set up by `setup`, started and destroyed in the
/// loop's thread. Declare the LoopThread first, so that it outlives this.
class TestServer {
 public:
  TestServer(LoopThread& thread, std::function<void(TcpServer&)> setup,
             const InetAddress& listenAddr = InetAddress(0, true))
      : thread_(thread) {
    server_ = thread_.call([&] {
      auto server = std::make_unique<TcpServer>(thread_.loop(), listenAddr, "test");
      setup(*server);
      server->start();
      return server;
    });
    address_ = server_->listenAddress();
  }
  ~TestServer() { destroy(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  /// Where the server listens, with the real port.
  const InetAddress& address() const { return address_; }

  /// Destroys the server in the loop's thread; harmless when already done.
  void destroy() {
    thread_.call([this] { destroyInLoopThread(); });
  }
  /// destroy(), called in the loop's thread.
  void destroyInLoopThread() { server_.reset(); }

 private:
  LoopThread& thread_;
  std::unique_ptr<TcpServer> server_;
  InetAddress address_;
};

/// What the connection callback saw: how often it ran with connected() true
/// ("up") and false ("down"), in all and per connection name, and each
/// connection, held weakly so that a test can tell when it is gone.
struct ConnectionEvents {
  struct PerConnection {
    int ups = 0;
    int downs = 0;
    bool stateMatched = true;  // connected()/disconnected() agreed with the call
  };
  int ups = 0;
  int downs = 0;
  std::map<std::string, PerConnection> byName;
  std::vector<std::weak_ptr<TcpConnection>> connections;  // in the order they came up
};

/// Records every call of the connection callback. Install record() as (or
/// call it from) the server's connection callback.
class ConnectionLog {
 public:
  void record(const TcpConnectionPtr& conn) {
    const bool up = conn->connected();
    const bool stateMatched = up != conn->disconnected();
    events_.update([&](ConnectionEvents& e) {
      ConnectionEvents::PerConnection& mine = e.byName[conn->name()];
      mine.stateMatched = mine.stateMatched && stateMatched;
      if (up) {
        ++e.ups;
        ++mine.ups;
        e.connections.push_back(conn);
      } else {
        ++e.downs;
        ++mine.downs;
      }
    });
  }
  /// The callback to install: it records, then runs `then` (if any).
  reactor::ConnectionCallback callback(reactor::ConnectionCallback then = nullptr) {
    return [this, then](const TcpConnectionPtr& conn) {
      record(conn);
      if (then) then(conn);
    };
  }

  /// Waits until `n` connections have come up; false if not within `limit`.
  bool waitForUps(int n, Clock::duration limit = kHangLimit) {
    return events_.waitUntil([n](const ConnectionEvents& e) { return e.ups >= n; }, limit);
  }
  /// Waits until `n` connections have gone down; false if not within `limit`.
  bool waitForDowns(int n, Clock::duration limit = kHangLimit) {
    return events_.waitUntil([n](const ConnectionEvents& e) { return e.downs >= n; }, limit);
  }
  int ups() const {
    return events_.read([](const ConnectionEvents& e) { return e.ups; });
  }
  int downs() const {
    return events_.read([](const ConnectionEvents& e) { return e.downs; });
  }
  ConnectionEvents get() const { return events_.get(); }

  /// The `i`th connection to come up, or nullptr once it is gone.
  TcpConnectionPtr connection(size_t i) const {
    return events_.read([i](const ConnectionEvents& e) {
      return i < e.connections.size() ? e.connections[i].lock() : nullptr;
    });
  }

  /// True when no connection that came up is still alive anywhere.
  bool allGone() const {
    return events_.read([](const ConnectionEvents& e) {
      for (const auto& weak : e.connections) {
        if (!weak.expired()) return false;
      }
      return true;
    });
  }

 private:
  Monitor<ConnectionEvents> events_;
};

/// Every connection came up once and went down once, and connected() said so.
inline ::testing::AssertionResult eachConnectionUpOnceAndDownOnce(const ConnectionEvents& e) {
  for (const auto& [name, per] : e.byName) {
    if (per.ups != 1 || per.downs != 1 || !per.stateMatched) {
      return ::testing::AssertionFailure()
             << name << ": " << per.ups << " up, " << per.downs << " down, "
             << (per.stateMatched ? "" : "connected() and disconnected() disagreed with the call");
    }
  }
  return ::testing::AssertionSuccess();
}

/// An echo server's message callback.
inline void echo(const TcpConnectionPtr& conn, reactor::Buffer* buf, reactor::Timestamp) {
  conn->send(buf);
}

/// `n` pseudo-random bytes, the same for the same seed.
inline std::string randomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 4) {
    const uint32_t r = gen();  // four bytes a draw: cheap even in a TSan build
    std::memcpy(&s[i], &r, std::min<size_t>(4, n - i));
  }
  return s;
}

/// A blocking TCP client for the tests. Each blocking call gives up after
/// kIoTimeout, so a server that never answers fails the test instead of
/// hanging it. Moveable, closes its socket when destroyed.
class Client {
 public:
  /// A socket, not yet connected. `receiveBuffer` > 0 sets SO_RCVBUF, which
  /// must happen before connecting to keep the window small.
  explicit Client(sa_family_t family = AF_INET, int receiveBuffer = 0)
      : fd_(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) {
      ADD_FAILURE() << "socket: " << std::strerror(errno);
      return;
    }
    const timeval timeout{std::chrono::duration_cast<std::chrono::seconds>(kIoTimeout).count(), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (receiveBuffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  }
  /// A client connected to `server` (the test fails if it cannot connect).
  static Client connectedTo(const InetAddress& server, int receiveBuffer = 0) {
    Client client(server.family(), receiveBuffer);
    EXPECT_TRUE(client.connect(server))
        << "connect to " << server.toIpPort() << ": " << std::strerror(errno);
    return client;
  }
  Client(Client&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Client& operator=(Client&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Client() { close(); }

  int fd() const { return fd_; }

  bool connect(const InetAddress& server) {
    const socklen_t len = server.family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    return ::connect(fd_, server.getSockAddr(), len) == 0;
  }

  /// The port this end is bound to.
  uint16_t localPort() const {
    sockaddr_in6 addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin6_port);  // sin_port and sin6_port share their offset
  }

  /// Writes all of `data`; false on an error or a timeout.
  bool writeAll(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  /// Reads until `n` bytes came; fewer at end of stream, an error or a timeout.
  std::string readExactly(size_t n) {
    std::string data;
    char buf[65536];
    while (data.size() < n) {
      const ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - data.size()), 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      data.append(buf, static_cast<size_t>(got));
    }
    return data;
  }

  /// What a read to the end found: the bytes, and whether the stream ended
  /// (false: an error or a timeout cut it short).
  struct Received {
    std::string data;
    bool endOfStream = false;
  };

  /// Reads until end of stream, an error or a timeout.
  Received readToEnd() {
    Received received;
    char buf[65536];
    for (;;) {
      const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        received.endOfStream = got == 0;
        return received;
      }
      received.data.append(buf, static_cast<size_t>(got));
    }
  }

  /// Sends FIN: the server reads end of stream, this end can still read.
  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  /// Closes with SO_LINGER 0, so that the peer gets a reset (RST), not FIN.
  void reset() {
    const linger abort{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    close();
  }

 private:
  int fd_;
};

/// The descriptors this process has open now (from /proc/self/fd).
inline std::set<int> openFds() {
  std::set<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    ADD_FAILURE() << "opendir /proc/self/fd: " << std::strerror(errno);
    return fds;
  }
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') fds.insert(std::atoi(entry->d_name));
  }
  fds.erase(::dirfd(dir));
  ::closedir(dir);
  return fds;
}

inline size_t countOpenFds() { return openFds().size(); }

/// How long a test watches a loop that should sleep, and how much CPU time
/// the process may use meanwhile: a spinning loop uses nearly all of the
/// window, a sleeping one next to nothing.
constexpr auto kCpuWindow = 300ms;
constexpr auto kCpuBudget = 100ms;

/// `d` in whole milliseconds, for comparisons that print readably.
inline long long ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

/// CPU time the whole process has used so far, user and system.
inline Clock::duration processCpuTime() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                     std::chrono::nanoseconds(ts.tv_nsec));
}

/// The CPU time the process uses in the next `window` of wall time, while
/// the calling thread sleeps: an observation window, not a synchronisation.
/// A loop that sleeps uses next to nothing, a spinning one nearly all of it.
/// (No timer and no future here: it must work with the descriptor table
/// full, where UBSan's first check of a type fails for want of a pipe.)
inline Clock::duration processCpuTimeOver(Clock::duration window) {
  const Clock::duration before = processCpuTime();
  std::this_thread::sleep_for(window);
  return processCpuTime() - before;
}

/// Sets an environment variable (or unsets it, with nullopt) and puts back
/// the old value when it goes. No other thread may read the environment
/// meanwhile.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    set(value);
  }
  ~ScopedEnv() { set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void set(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name_, value->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace reactor_test
