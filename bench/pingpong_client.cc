// pingpong_client: the client half of muduo's pingpong benchmark. Each session
// sends one block when it starts and from then on echoes back whatever it
// receives, so the blocks bounce between client and server as fast as both
// can move them. The bytes the client reads per second measure the pair; with
// the same client, they compare servers.
//
// Usage: pingpong_client HOST PORT THREADS BLOCKSIZE SESSIONS SECONDS [--messages N]
//   The sessions are spread over THREADS threads, each with its own EventLoop.
//   They run for SECONDS, or with --messages until each session has received
//   its share of N blocks (N / SESSIONS, rounded up) and sent no more: a fixed
//   amount of work to count system calls over.
// Prints one line of key=value pairs, for bench/run-pingpong to read:
//   pingpong_client block=16384 sessions=10 threads=1 seconds=3.0001
//                   bytes=... messages=... MiB/s=... msgs/s=...
//   (messages = bytes / BLOCKSIZE; one line, wrapped here)
//
// This stage has no TcpClient yet: the sessions connect with a blocking
// connect(2) before the loops start, and each socket is then handed to a
// TcpConnection of its thread's loop.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpConnection.h"

namespace {

using reactor::Buffer;
using reactor::EventLoop;
using reactor::InetAddress;
using reactor::TcpConnection;
using reactor::TcpConnectionPtr;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string host;
  uint16_t port = 0;
  int threads = 1;
  int blockSize = 0;
  int sessions = 0;
  double seconds = 0;
  int64_t messages = 0;  // 0: no limit, run for `seconds`
};

[[noreturn]] void usage(const char* program) {
  std::fprintf(stderr, "usage: %s HOST PORT THREADS BLOCKSIZE SESSIONS SECONDS [--messages N]\n",
               program);
  std::exit(2);
}

long long number(const char* program, const char* text, long long max) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1 || value > max) usage(program);
  return value;
}

Options parse(int argc, char* argv[]) {
  if (argc != 7 && !(argc == 9 && std::strcmp(argv[7], "--messages") == 0)) usage(argv[0]);
  Options options;
  options.host = argv[1];
  options.port = static_cast<uint16_t>(number(argv[0], argv[2], 65535));
  options.threads = static_cast<int>(number(argv[0], argv[3], 1024));
  options.blockSize = static_cast<int>(number(argv[0], argv[4], 64 << 20));
  options.sessions = static_cast<int>(number(argv[0], argv[5], 100000));
  char* end = nullptr;
  options.seconds = std::strtod(argv[6], &end);
  if (end == argv[6] || *end != '\0' || !(options.seconds > 0)) usage(argv[0]);
  if (argc == 9) options.messages = number(argv[0], argv[8], std::numeric_limits<int64_t>::max());
  return options;
}

// What each session may send, and so receive: its share of --messages,
// rounded up to whole blocks; without --messages, no limit.
int64_t byteQuotaPerSession(const Options& options) {
  if (options.messages == 0) return std::numeric_limits<int64_t>::max();
  const int64_t blocks = (options.messages + options.sessions - 1) / options.sessions;
  return blocks * options.blockSize;
}

// A blocking connect(2), then nonblocking for the loop, which must never wait.
int connectTo(const InetAddress& server) {
  const int fd = ::socket(server.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  if (::connect(fd, server.getSockAddr(), server.getSockAddrLength()) < 0 ||
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
    const int savedErrno = errno;
    ::close(fd);
    throw std::system_error(savedErrno, std::generic_category(), "connect " + server.toIpPort());
  }
  return fd;
}

InetAddress localAddressOf(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) < 0)
    throw std::system_error(errno, std::generic_category(), "getsockname");
  if (address.ss_family == AF_INET6)
    return InetAddress(*reinterpret_cast<const sockaddr_in6*>(&address));
  return InetAddress(*reinterpret_cast<const sockaddr_in*>(&address));
}

// One client thread: its own EventLoop and its share of the sessions.
class Worker {
 public:
  Worker(const Options& options, const InetAddress& server, const std::string& block)
      : options_(options),
        server_(server),
        block_(block),
        byteQuota_(byteQuotaPerSession(options)) {}

  // Before run(): a connected socket that this worker's session will own.
  void addSocket(int fd) { fds_.push_back(fd); }

  // The thread's body: serves the sessions until they are all closed.
  void run();

  int64_t bytesRead() const { return bytesRead_; }
  double seconds() const { return seconds_; }

 private:
  struct Session {
    TcpConnectionPtr conn;
    int64_t bytesRead = 0;
    int64_t bytesWritten = 0;
  };

  void start(Session* session, const TcpConnectionPtr& conn);
  void onMessage(Session* session, const TcpConnectionPtr& conn, Buffer* buf);
  void onClosed(const TcpConnectionPtr& conn);
  void stop();

  const Options& options_;
  const InetAddress server_;
  const std::string& block_;
  std::vector<int> fds_;
  EventLoop* loop_ = nullptr;
  std::vector<Session> sessions_;
  const int64_t byteQuota_;
  size_t sessionsDone_ = 0;  // sessions that received their quota
  size_t sessionsOpen_ = 0;
  SteadyClock::time_point startTime_;
  bool stopped_ = false;
  int64_t bytesRead_ = 0;  // in all sessions, when stopped
  double seconds_ = 0;     // from start to stop
};

void Worker::run() {
  EventLoop loop;
  loop_ = &loop;
  sessions_.resize(fds_.size());  // never resized again: the callbacks keep Session*
  for (size_t i = 0; i < fds_.size(); ++i) {
    Session* session = &sessions_[i];
    session->conn = std::make_shared<TcpConnection>(&loop, "pingpong-" + std::to_string(i), fds_[i],
                                                    localAddressOf(fds_[i]), server_);
    session->conn->setConnectionCallback([this, session](const TcpConnectionPtr& conn) {
      if (conn->connected()) start(session, conn);
    });
    session->conn->setMessageCallback(
        [this, session](const TcpConnectionPtr& conn, Buffer* buf, reactor::Timestamp) {
          onMessage(session, conn, buf);
        });
    session->conn->setCloseCallback([this](const TcpConnectionPtr& conn) { onClosed(conn); });
  }
  sessionsOpen_ = sessions_.size();
  startTime_ = SteadyClock::now();
  for (Session& session : sessions_) session.conn->connectEstablished();
  loop.runAfter(options_.seconds, [this] { stop(); });
  loop.loop();
  sessions_.clear();  // the connections go before the loop they live in
}

void Worker::start(Session* session, const TcpConnectionPtr& conn) {
  conn->setTcpNoDelay(true);
  const int64_t first = std::min<int64_t>(block_.size(), byteQuota_);
  conn->send(block_.data(), static_cast<size_t>(first));
  session->bytesWritten = first;
}

// [onMessage]
void Worker::onMessage(Session* session, const TcpConnectionPtr& conn, Buffer* buf) {
  const int64_t received = static_cast<int64_t>(buf->readableBytes());
  session->bytesRead += received;
  // Echo it all back, but never send more than the quota in all.
  const int64_t echo = std::min(received, byteQuota_ - session->bytesWritten);
  if (echo > 0) conn->send(buf->peek(), static_cast<size_t>(echo));
  session->bytesWritten += echo;
  buf->retrieveAll();
  if (session->bytesRead == byteQuota_ && ++sessionsDone_ == sessions_.size()) stop();
}
// [onMessage]

// Closed by stop() or by the server: the connection leaves its loop, and the
// loop ends with the last one.
void Worker::onClosed(const TcpConnectionPtr& conn) {
  loop_->queueInLoop([this, conn] {
    conn->connectDestroyed();
    if (--sessionsOpen_ == 0) {
      stop();  // records the result, if the server closed them all first
      loop_->quit();
    }
  });
}

void Worker::stop() {
  if (stopped_) return;
  stopped_ = true;
  seconds_ = std::chrono::duration<double>(SteadyClock::now() - startTime_).count();
  for (Session& session : sessions_) {
    bytesRead_ += session.bytesRead;
    session.conn->forceClose();
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  const Options options = parse(argc, argv);
  const std::optional<InetAddress> server = InetAddress::resolve(options.host, options.port);
  if (!server) {
    std::fprintf(stderr, "pingpong_client: cannot resolve %s\n", options.host.c_str());
    return 1;
  }
  const std::string block(static_cast<size_t>(options.blockSize), 'p');

  // Connect every session before any loop starts, so that all start together.
  std::vector<std::unique_ptr<Worker>> workers;
  const int threads = std::min(options.threads, options.sessions);
  for (int i = 0; i < threads; ++i)
    workers.push_back(std::make_unique<Worker>(options, *server, block));
  try {
    for (int i = 0; i < options.sessions; ++i) workers[i % threads]->addSocket(connectTo(*server));
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "pingpong_client: %s\n", e.what());
    return 1;
  }

  std::vector<std::thread> running;
  for (auto& worker : workers) running.emplace_back([&worker] { worker->run(); });
  int64_t bytes = 0;
  double seconds = 0;  // the slowest thread's: the wall-clock time of the whole run
  for (size_t i = 0; i < workers.size(); ++i) {
    running[i].join();
    bytes += workers[i]->bytesRead();
    seconds = std::max(seconds, workers[i]->seconds());
  }
  const double messages = static_cast<double>(bytes) / options.blockSize;
  std::printf(
      "pingpong_client block=%d sessions=%d threads=%d seconds=%.4f bytes=%lld messages=%.0f "
      "MiB/s=%.2f msgs/s=%.0f\n",
      options.blockSize, options.sessions, threads, seconds, static_cast<long long>(bytes),
      messages, static_cast<double>(bytes) / seconds / (1024 * 1024), messages / seconds);
}
