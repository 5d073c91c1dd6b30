// Helpers shared by the chapter-5 tests: a record of what a Connector or a
// TcpClient reports, addresses where a connect is refused or stays in
// progress, a listener the test drives by hand, and a TcpClient that lives
// on a LoopThread. They use only the API of chapters 0 to 5 and POSIX
// sockets, so the tests run unchanged against every later stage.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/Connector.h"
#include "reactor/EventLoop.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpClient.h"
#include "s03_tcpserver/tcp_test_support.h"

namespace reactor_test {

using reactor::Connector;
using reactor::Duration;
using reactor::TcpClient;

/// One failed attempt, as the connect error callback reported it.
struct ConnectError {
  int savedErrno = 0;
  bool willRetry = false;
  Duration retryDelay{};
  Clock::time_point when;  // when the callback ran
};

/// What a Connector handed over and reported, in order.
struct Attempts {
  std::vector<ConnectError> errors;
  int connections = 0;      // connected sockets handed to the new connection callback
  int selfConnections = 0;  // of those, sockets connected to themselves
};

/// True when `sockfd` is connected to itself: its local and peer addresses
/// are the same. Computed here, not by the library, to check the library.
inline bool connectedToItself(int sockfd) {
  sockaddr_in6 local{};
  sockaddr_in6 peer{};
  socklen_t localLength = sizeof local;
  socklen_t peerLength = sizeof peer;
  if (::getsockname(sockfd, reinterpret_cast<sockaddr*>(&local), &localLength) != 0 ||
      ::getpeername(sockfd, reinterpret_cast<sockaddr*>(&peer), &peerLength) != 0) {
    return false;
  }
  return localLength == peerLength && std::memcmp(&local, &peer, localLength) == 0;
}

/// Records every report of a Connector (or of a TcpClient's connector):
/// install errorCallback() and newConnectionCallback(). The sockets handed
/// over are counted and closed.
class AttemptLog {
 public:
  Connector::ConnectErrorCallback errorCallback() {
    return [this](int savedErrno, bool willRetry, Duration retryDelay) {
      const Clock::time_point now = Clock::now();
      attempts_.update([&](Attempts& a) {
        a.errors.push_back({savedErrno, willRetry, retryDelay, now});
      });
    };
  }
  Connector::NewConnectionCallback newConnectionCallback() {
    return [this](int sockfd) {
      const bool self = connectedToItself(sockfd);
      ::close(sockfd);  // ours now: the Connector handed it over
      attempts_.update([&](Attempts& a) {
        ++a.connections;
        if (self) ++a.selfConnections;
      });
    };
  }

  /// Waits until `n` attempts have failed; false if not within `limit`.
  bool waitForErrors(size_t n, Clock::duration limit = kHangLimit) {
    return attempts_.waitUntil([n](const Attempts& a) { return a.errors.size() >= n; }, limit);
  }
  /// Waits until `n` sockets were handed over; false if not within `limit`.
  bool waitForConnections(int n, Clock::duration limit = kHangLimit) {
    return attempts_.waitUntil([n](const Attempts& a) { return a.connections >= n; }, limit);
  }
  std::vector<ConnectError> errors() const {
    return attempts_.read([](const Attempts& a) { return a.errors; });
  }
  /// How many reports of any kind have come so far.
  size_t reports() const {
    return attempts_.read(
        [](const Attempts& a) { return a.errors.size() + static_cast<size_t>(a.connections); });
  }
  Attempts get() const { return attempts_.get(); }

 private:
  Monitor<Attempts> attempts_;
};

/// A Connector to `server` on a LoopThread's loop, reporting to `log`:
/// made, set up and destroyed in the loop's thread, as Connector requires,
/// also when a failed assertion ends the test early. Declare the LoopThread
/// and the log first, so that they outlive this.
class TestConnector {
 public:
  TestConnector(LoopThread& thread, const InetAddress& server, AttemptLog& log,
                Duration initialDelay, Duration maxDelay)
      : thread_(thread) {
    connector_ = thread_.call([&] {
      auto connector = std::make_shared<Connector>(thread_.loop(), server);
      connector->setNewConnectionCallback(log.newConnectionCallback());
      connector->setConnectErrorCallback(log.errorCallback());
      connector->setRetryDelay(initialDelay, maxDelay);
      return connector;
    });
  }
  ~TestConnector() { destroy(); }
  TestConnector(const TestConnector&) = delete;
  TestConnector& operator=(const TestConnector&) = delete;

  /// The Connector, for the calls any thread may make; null once destroyed.
  Connector* get() const { return connector_.get(); }
  Connector* operator->() const { return get(); }
  /// Watches the Connector without keeping it alive.
  std::weak_ptr<Connector> weak() const { return connector_; }
  /// Gives up this holder's share: the caller must let it go in the loop's
  /// thread.
  std::shared_ptr<Connector> release() { return std::move(connector_); }

  /// Destroys the Connector in the loop's thread (harmless when already
  /// done); returns true when nothing else kept it alive.
  bool destroy() {
    const std::weak_ptr<Connector> watch = connector_;
    thread_.call([this] { destroyInLoopThread(); });
    return watch.expired();
  }
  /// destroy(), called in the loop's thread, e.g. by the Connector's own
  /// callback.
  void destroyInLoopThread() { connector_.reset(); }

 private:
  LoopThread& thread_;
  std::shared_ptr<Connector> connector_;
};

/// Lets `thread`'s loop run for `window` by its own clock: returns once a
/// timer of that delay has run there, and the loop has then handled what was
/// ready. A timer the loop was given earlier with a shorter delay has run by
/// then. This is how a test watches for something that must NOT happen.
inline void letLoopRun(LoopThread& thread, Clock::duration window) {
  std::promise<void> fired;
  thread.loop()->runAfter(window, [&fired] { fired.set_value(); });
  if (fired.get_future().wait_for(window + kHangLimit) != std::future_status::ready) {
    std::fprintf(stderr, "letLoopRun: the loop's timer did not run\n");
    std::abort();  // the timer still refers to `fired`
  }
  thread.settle();
}

/// Sets O_NONBLOCK on `fd`.
inline void setNonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

/// True once the connect in progress on the nonblocking `fd` has completed
/// (or failed) within `limit`.
inline bool connectCompletes(int fd, Clock::duration limit) {
  pollfd pfd{fd, POLLOUT, 0};
  return ::poll(&pfd, 1, static_cast<int>(ms(limit))) == 1;
}

/// A port on 127.0.0.1 that a socket holds, bound but not listening: the
/// kernel gives it to nobody else, and a connect to it is refused
/// (ECONNREFUSED). release() lets it go, so that a server can listen there.
class RefusingPort {
 public:
  RefusingPort() : socket_(AF_INET) {
    const InetAddress loopback(0, true);
    if (::bind(socket_.fd(), loopback.getSockAddr(), loopback.getSockAddrLength()) != 0) {
      ADD_FAILURE() << "bind: " << std::strerror(errno);
    }
    address_ = InetAddress("127.0.0.1", socket_.localPort());
  }
  const InetAddress& address() const { return address_; }
  void release() { socket_.close(); }

 private:
  Client socket_;  // only ever bound
  InetAddress address_;
};

/// A listening socket that the test drives by hand, with blocking calls
/// that give up after kIoTimeout: a server that does what a TcpServer would
/// not, such as answer only after the end of the stream, or tell whether
/// anybody tried to connect at all.
class Listener {
 public:
  /// Listens on `at`, by default on 127.0.0.1 at a port the kernel picks.
  explicit Listener(int backlog, const InetAddress& at = InetAddress(0, true))
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (::bind(fd_, at.getSockAddr(), at.getSockAddrLength()) != 0 || ::listen(fd_, backlog) != 0) {
      ADD_FAILURE() << "bind or listen: " << std::strerror(errno);
    }
    sockaddr_in addr{};
    socklen_t length = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length);
    address_ = InetAddress(addr);
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  const InetAddress& address() const { return address_; }

  /// True when a connection waits to be accepted: somebody connected.
  bool hasPendingConnection() const {
    pollfd pfd{fd_, POLLIN, 0};
    return ::poll(&pfd, 1, 0) == 1;
  }

  /// The next connection's descriptor, which the caller must close, with
  /// kIoTimeout on its reads and writes; -1 if none came within kIoTimeout.
  int accept() {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(ms(kIoTimeout))) != 1) return -1;
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return -1;
    const timeval timeout{std::chrono::duration_cast<std::chrono::seconds>(kIoTimeout).count(), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    return fd;
  }

 private:
  const int fd_;
  InetAddress address_;
};

/// Whether anybody still tries to connect to `port`: opens it (a server
/// listens there from now on), lets `thread`'s loop run for `window`, and
/// says whether a connection arrived. This sees attempts that report
/// nothing, as well as those that do.
inline bool attemptArrivesWithin(LoopThread& thread, RefusingPort& port, Clock::duration window) {
  port.release();
  Listener listener(16, port.address());
  letLoopRun(thread, window);
  return listener.hasPendingConnection();
}

/// A listener whose accept queue is full and which never accepts: the
/// kernel drops every further SYN, so a connect to it stays in progress
/// (EINPROGRESS) while the connecting side resends its SYN, for minutes.
/// With backlog 0 the queue holds one connection; filling goes on until a
/// connect stays pending, whatever the kernel's rounding.
class FullListener {
 public:
  FullListener() : listener_(0) {
    constexpr int kMaxFillers = 8;
    for (int i = 0; i < kMaxFillers; ++i) {
      Client probe(AF_INET);
      setNonblocking(probe.fd());
      probe.connect(listener_.address());
      // Completing takes microseconds on loopback; a dropped SYN is resent
      // only after a second.
      if (!connectCompletes(probe.fd(), 200ms)) return;  // full: the probe stays pending
      fillers_.push_back(std::move(probe));
    }
    ADD_FAILURE() << "the accept queue of a listener with backlog 0 never filled";
  }
  const InetAddress& address() const { return listener_.address(); }

 private:
  Listener listener_;
  std::vector<Client> fillers_;  // the connections that fill the queue
};

/// A TcpClient on a LoopThread's loop: built, set up by `setup` and
/// destroyed in the loop's thread, as TcpClient requires. Declare the
/// LoopThread first, so that it outlives this.
class TestClient {
 public:
  TestClient(LoopThread& thread, const InetAddress& server, std::function<void(TcpClient&)> setup,
             std::string name = "client")
      : thread_(thread) {
    client_ = thread_.call([&] {
      auto client = std::make_unique<TcpClient>(thread_.loop(), server, name);
      setup(*client);
      return client;
    });
  }
  ~TestClient() { destroy(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  /// The client, for the calls any thread may make; null once destroyed.
  TcpClient* operator->() const { return client_.get(); }

  /// Destroys the client in the loop's thread; harmless when already done.
  void destroy() {
    thread_.call([this] { destroyInLoopThread(); });
  }
  /// destroy(), called in the loop's thread, e.g. by the client's own
  /// callback.
  void destroyInLoopThread() { client_.reset(); }

 private:
  LoopThread& thread_;
  std::unique_ptr<TcpClient> client_;
};

/// Appends every byte a connection receives to a Monitor the test waits on.
inline reactor::MessageCallback appendTo(Monitor<std::string>& received) {
  return [&received](const TcpConnectionPtr&, reactor::Buffer* buffer, reactor::Timestamp) {
    const std::string bytes = buffer->retrieveAllAsString();
    received.update([&](std::string& all) { all += bytes; });
  };
}

/// Writes all of `data` to the blocking `fd`; false on an error or a timeout.
inline bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// Reads the blocking `fd` until end of stream, an error or a timeout.
inline Client::Received readToEnd(int fd) {
  Client::Received received;
  char buf[65536];
  for (;;) {
    const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      received.endOfStream = got == 0;
      return received;
    }
    received.data.append(buf, static_cast<size_t>(got));
  }
}

}  // namespace reactor_test
