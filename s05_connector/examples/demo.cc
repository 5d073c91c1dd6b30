// demo: the course's main demo. Echo clients start before their server
// exists: every connect is refused, and each client's Connector backs off,
// printing each retry and its delay. After two seconds a multithreaded echo
// server starts listening; each client connects, sends its pseudo-random
// bytes, checks every byte that comes back, and closes. The summary says
// whether every byte of every client came back intact (exit status 0).
//   ./demo [--port P] [--clients N] [--threads T] [--bytes B]
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/EventLoopThread.h"
#include "reactor/EventLoopThreadPool.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpClient.h"
#include "reactor/TcpConnection.h"
#include "reactor/TcpServer.h"

namespace {

using namespace std::chrono_literals;
using reactor::Duration;
using reactor::EventLoop;
using reactor::TcpConnectionPtr;

// Small delays, so that the demo takes seconds: a client tries at 0, 0.1,
// 0.3, 0.7, 1.5 and 2.5 s; the server listens from 2 s on, so the sixth
// attempt connects.
constexpr Duration kInitialRetryDelay = 100ms;
constexpr Duration kMaxRetryDelay = 1s;
constexpr std::chrono::seconds kServerDelay = 2s;
constexpr std::chrono::seconds kTimeLimit = 30s;
// Only the first clients print each event; the others are counted. The
// summary lists the first failures.
constexpr int kShownClients = 3;
constexpr std::size_t kListedFailures = 10;
// A client sends its next chunk only when the last one has gone to the
// kernel, so it never holds more than this unsent, however much it sends.
constexpr std::size_t kChunk = 64 * 1024;

struct Options {
  unsigned long port = 2077;
  unsigned long clients = 10;
  unsigned long threads = 2;
  unsigned long bytes = 256 * 1024;
};

void printUsage(std::FILE* out) {
  std::fprintf(
      out,
      "usage: demo [--port P] [--clients N] [--threads T] [--bytes B]\n"
      "  --port P     the echo server's port on 127.0.0.1, 1 to 65535 (default 2077)\n"
      "  --clients N  how many echo clients, 1 to 10000 (default 10)\n"
      "  --threads T  loop threads for the clients, and as many for the server,\n"
      "               1 to 64 (default 2)\n"
      "  --bytes B    bytes each client sends and checks, 1 to 1073741824 (default 262144)\n"
      "Exit status 0 when every byte came back; 1 when something failed (the demo\n"
      "gives up after %lld s); 2 for a bad argument.\n",
      static_cast<long long>(kTimeLimit.count()));
}

/// `text` as a whole number from `min` to `max`; nullopt for anything else.
std::optional<unsigned long> parseNumber(std::string_view text, unsigned long min,
                                         unsigned long max) {
  unsigned long number = 0;
  const auto [last, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || last != text.data() + text.size() || number < min || number > max) {
    return std::nullopt;
  }
  return number;
}

/// The options the command line asks for; nullopt when it asks for
/// something unknown or out of range.
std::optional<Options> parseOptions(int argc, char* argv[]) {
  Options options;
  const struct {
    std::string_view name;
    unsigned long min, max;
    unsigned long* value;
  } known[] = {{"--port", 1, 65535, &options.port},
               {"--clients", 1, 10000, &options.clients},
               {"--threads", 1, 64, &options.threads},
               {"--bytes", 1, 1UL << 30, &options.bytes}};
  for (int i = 1; i < argc; i += 2) {
    const auto option = std::find_if(std::begin(known), std::end(known),
                                     [&](const auto& o) { return o.name == argv[i]; });
    if (option == std::end(known) || i + 1 == argc) return std::nullopt;
    const std::optional<unsigned long> value = parseNumber(argv[i + 1], option->min, option->max);
    if (!value) return std::nullopt;
    *option->value = *value;
  }
  return options;
}

/// Empty when the process may open enough descriptors for the demo: each
/// connection costs one on each side, each loop a few (its poller, its
/// wakeup, its timers). Otherwise, what to do about it.
std::string checkDescriptorLimit(const Options& options) {
  const rlim_t needed = 2 * options.clients + 8 * options.threads + 32;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < needed) {
    return std::to_string(options.clients) + " clients need about " + std::to_string(needed) +
           " descriptors, but this process may open " + std::to_string(limit.rlim_cur) +
           ": use fewer clients, or raise the limit (ulimit -n " + std::to_string(needed) + ")";
  }
  return {};
}

long long toMilliseconds(Duration duration) {
  return static_cast<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}

// [Progress]
/// What the clients report, and the demo's verdict. Any thread may call the
/// report functions (connectFailed() to finished()): each hands its news to
/// the main loop, so the counts are touched in that thread only and need no
/// lock. The rest runs in the main loop's thread.
class Progress {
 public:
  Progress(EventLoop* mainLoop, const Options& options) : loop_(mainLoop), options_(options) {
    for (int client = 1; client <= static_cast<int>(options.clients); ++client) {
      running_.insert(client);
    }
  }

  void connectFailed(int client, int savedErrno, bool willRetry, Duration retryDelay) {
    loop_->queueInLoop([this, client, savedErrno, willRetry, retryDelay] {
      if (!willRetry) {
        finish(client, std::string("connect: ") + std::strerror(savedErrno));
        return;
      }
      ++retries_;
      if (isShown(client)) {
        say("client %d: %s; retry in %lld ms", client, std::strerror(savedErrno),
            toMilliseconds(retryDelay));
      } else {
        ++hiddenRetries_;
      }
    });
  }

  void connected(int client, const std::string& localAddress) {
    loop_->queueInLoop([this, client, localAddress] {
      if (isShown(client)) say("client %d: connected from %s", client, localAddress.c_str());
    });
  }

  void connectionLost(int client, std::size_t received) {
    loop_->queueInLoop([this, client, received] {
      say("client %d: connection lost after %zu of %lu bytes; connecting again", client, received,
          options_.bytes);
    });
  }

  /// `failure` is empty when every byte came back.
  void finished(int client, const std::string& failure) {
    loop_->queueInLoop([this, client, failure] { finish(client, failure); });
  }

  void serverListening(const std::string& ipPort) {
    say("server: listening on %s, %lu I/O threads", ipPort.c_str(), options_.threads);
    if (hiddenRetries_ > 0) {
      const std::string others = static_cast<int>(options_.clients) == kShownClients + 1
                                     ? "client " + std::to_string(options_.clients)
                                     : "clients " + std::to_string(kShownClients + 1) + " to " +
                                           std::to_string(options_.clients);
      say("(meanwhile %s: %d retries, not shown)", others.c_str(), hiddenRetries_);
    }
  }

  /// The time limit is up: every client still running has failed.
  void timeOut() {
    for (int client : std::set<int>(running_)) {
      finish(client, "not done after " + std::to_string(kTimeLimit.count()) + " s");
    }
  }

  /// After the main loop: prints the summary and returns the exit status.
  int summarize() const {
    const double seconds = std::chrono::duration<double>(end_ - start_).count();
    if (failures_.empty()) {
      std::printf("demo: %lu clients x %lu bytes echoed (%lu in all), every byte checked\n",
                  options_.clients, options_.bytes, options_.clients * options_.bytes);
      std::printf("demo: %d failed connects retried; done in %.2f s\n", retries_, seconds);
      return 0;
    }
    std::printf("demo: FAILED: %zu of %lu clients, after %.2f s:\n", failures_.size(),
                options_.clients, seconds);
    const std::size_t listed = std::min(failures_.size(), kListedFailures);
    for (std::size_t i = 0; i < listed; ++i) std::printf("  %s\n", failures_[i].c_str());
    if (listed < failures_.size()) std::printf("  and %zu more\n", failures_.size() - listed);
    return 1;
  }

 private:
  static bool isShown(int client) { return client <= kShownClients; }

  /// Prints one line, after the time since the start, so that the backoff
  /// shows: " 0.30 s  client 1: ...".
  void say(const char* format, ...) const __attribute__((format(printf, 2, 3))) {
    std::printf("%5.2f s  ", std::chrono::duration<double>(reactor::Clock::now() - start_).count());
    va_list arguments;
    va_start(arguments, format);
    std::vprintf(format, arguments);
    va_end(arguments);
    std::printf("\n");
  }

  void finish(int client, const std::string& failure) {
    if (running_.erase(client) == 0) return;  // already failed (the time limit)
    if (!failure.empty()) failures_.push_back("client " + std::to_string(client) + ": " + failure);
    if (isShown(client)) {
      if (failure.empty()) {
        say("client %d: %lu bytes came back intact", client, options_.bytes);
      } else {
        say("client %d: FAILED: %s", client, failure.c_str());
      }
    }
    if (running_.empty()) {
      end_ = reactor::Clock::now();
      loop_->quit();
    }
  }

  EventLoop* const loop_;
  const Options options_;
  const reactor::Timestamp start_ = reactor::Clock::now();
  reactor::Timestamp end_ = start_;
  std::set<int> running_;  // the clients not finished yet
  std::vector<std::string> failures_;
  int retries_ = 0;
  int hiddenRetries_ = 0;  // by the clients not shown
};
// [Progress]

/// The bytes one client sends: pseudo-random, and the same sequence for the
/// same seed, so that the checker makes what should come back instead of
/// keeping a copy of all that was sent.
class RandomBytes {
 public:
  explicit RandomBytes(int seed) : engine_(static_cast<std::mt19937::result_type>(seed)) {}

  char next() { return static_cast<char>(engine_() & 0xff); }

  std::string take(std::size_t count) {
    std::string bytes(count, '\0');
    for (char& byte : bytes) byte = next();
    return bytes;
  }

 private:
  std::mt19937 engine_;
};

// [EchoClient]
/// One echo client on one loop: connects (again and again, backing off,
/// until the server listens), sends its bytes, checks each one that comes
/// back, then closes its sending side; finished when the server has closed
/// in turn. Any thread may call connect(); the callbacks run in the client's
/// loop thread, where it must also be destroyed.
class EchoClient {
 public:
  EchoClient(EventLoop* loop, const reactor::InetAddress& serverAddr, int id, std::size_t bytes,
             Progress* progress)
      : id_(id),
        bytes_(bytes),
        progress_(progress),
        client_(loop, serverAddr, "client" + std::to_string(id)) {
    client_.setRetryDelay(kInitialRetryDelay, kMaxRetryDelay);
    client_.enableRetry();  // a connection lost half way through starts again
    client_.setConnectErrorCallback([this](int savedErrno, bool willRetry, Duration retryDelay) {
      progress_->connectFailed(id_, savedErrno, willRetry, retryDelay);
    });
    client_.setConnectionCallback([this](const TcpConnectionPtr& conn) { onConnection(conn); });
    client_.setMessageCallback([this](const TcpConnectionPtr&, reactor::Buffer* buffer,
                                      reactor::Timestamp) { onMessage(buffer); });
    client_.setWriteCompleteCallback([this](const TcpConnectionPtr& conn) { sendMore(conn); });
  }

  void connect() { client_.connect(); }
  EventLoop* getLoop() const { return client_.getLoop(); }

 private:
  void onConnection(const TcpConnectionPtr& conn) {
    if (conn->connected()) {
      toSend_ = RandomBytes(id_);  // a new connection starts from the first byte
      expected_ = RandomBytes(id_);
      sent_ = received_ = 0;
      progress_->connected(id_, conn->localAddress().toIpPort());
      sendMore(conn);
    } else if (received_ == bytes_ || !failure_.empty()) {
      progress_->finished(id_, failure_);
    } else {
      progress_->connectionLost(id_, received_);  // enableRetry() connects again
    }
  }

  void sendMore(const TcpConnectionPtr& conn) {
    if (!conn->connected() || sent_ == bytes_) return;
    const std::size_t count = std::min(kChunk, bytes_ - sent_);
    conn->send(toSend_.take(count));
    sent_ += count;
  }

  void onMessage(reactor::Buffer* buffer) {
    if (failure_.empty()) check(buffer->toStringView());
    buffer->retrieveAll();
  }

  /// Compares what came back with what was sent, byte by byte. Closes the
  /// sending side once all has come back, or at the first difference.
  void check(std::string_view echoed) {
    for (const char byte : echoed) {
      if (received_ == bytes_) {
        fail("more bytes came back than were sent");
        return;
      }
      if (byte != expected_.next()) {
        fail("byte " + std::to_string(received_) + " came back changed");
        return;
      }
      ++received_;
    }
    if (received_ == bytes_) client_.disconnect();
  }

  void fail(std::string failure) {
    failure_ = std::move(failure);
    client_.disconnect();
  }

  const int id_;
  const std::size_t bytes_;
  Progress* const progress_;
  // The current connection's transfer.
  RandomBytes toSend_{0};
  RandomBytes expected_{0};
  std::size_t sent_ = 0;
  std::size_t received_ = 0;
  std::string failure_;
  // Last, so that it is destroyed first: no callback of its runs once the
  // members above are gone.
  reactor::TcpClient client_;
};
// [EchoClient]

/// The echo clients and the loop threads they run on, dealt out round robin.
class EchoClients {
 public:
  EchoClients(EventLoop* mainLoop, const Options& options, const reactor::InetAddress& serverAddr,
              Progress* progress)
      : loops_(mainLoop, "client") {
    loops_.setThreadNum(static_cast<int>(options.threads));
    loops_.start();
    for (int id = 1; id <= static_cast<int>(options.clients); ++id) {
      clients_.push_back(std::make_unique<EchoClient>(loops_.getNextLoop(), serverAddr, id,
                                                      options.bytes, progress));
    }
  }
  /// A TcpClient is destroyed in its loop's thread: each client is handed to
  /// its loop, and loops_, destroyed next, lets the loops run that before
  /// their threads end.
  ~EchoClients() {
    for (std::unique_ptr<EchoClient>& client : clients_) {
      client->getLoop()->runInLoop([&client] { client.reset(); });
    }
  }
  EchoClients(const EchoClients&) = delete;
  EchoClients& operator=(const EchoClients&) = delete;

  void connect() {
    for (const std::unique_ptr<EchoClient>& client : clients_) client->connect();
  }

 private:
  // Declared first, so destroyed after loops_: see the destructor.
  std::vector<std::unique_ptr<EchoClient>> clients_;
  reactor::EventLoopThreadPool loops_;
};

// [EchoServer]
/// The echo server, on a loop thread of its own, with its own I/O threads.
/// It binds at once, so that a port in use stops the demo before anything
/// starts; it listens only when listen() is called, and until then the
/// kernel refuses every connect.
class EchoServer {
 public:
  EchoServer(const reactor::InetAddress& listenAddr, int threads)
      : thread_({}, "server"), loop_(thread_.startLoop()) {
    server_ = std::make_unique<reactor::TcpServer>(loop_, listenAddr, "echo");
    server_->setThreadNum(threads);
    // An echo reply is often full segments and a small tail, which Nagle's
    // algorithm may hold back until the client's delayed ACK comes, up to
    // 40 ms later. Connections are not logged: the clients tell.
    server_->setConnectionCallback([](const TcpConnectionPtr& conn) {
      if (conn->connected()) conn->setTcpNoDelay(true);
    });
    server_->setMessageCallback([](const TcpConnectionPtr& conn, reactor::Buffer* buffer,
                                   reactor::Timestamp) { conn->send(buffer); });
  }
  /// A TcpServer is destroyed in its loop's thread: thread_, destroyed
  /// next, lets its loop run this before the thread ends.
  ~EchoServer() {
    loop_->runInLoop([this] { server_.reset(); });
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  void listen() { server_->start(); }
  std::string ipPort() const { return server_->ipPort(); }

 private:
  // Declared first, so destroyed after thread_: see the destructor.
  std::unique_ptr<reactor::TcpServer> server_;
  reactor::EventLoopThread thread_;
  EventLoop* const loop_;
};
// [EchoServer]

int run(const Options& options) {
  EventLoop loop;  // the main loop: the two timers, and what the clients report
  const reactor::InetAddress serverAddr("127.0.0.1", static_cast<uint16_t>(options.port));
  EchoServer server(serverAddr, static_cast<int>(options.threads));
  Progress progress(&loop, options);
  EchoClients clients(&loop, options, serverAddr, &progress);

  std::printf("demo: %lu clients on %lu threads will each echo %lu bytes through %s\n",
              options.clients, options.threads, options.bytes, serverAddr.toIpPort().c_str());
  std::printf("demo: the clients start now, the server in %lld s\n",
              static_cast<long long>(kServerDelay.count()));
  clients.connect();
  loop.runAfter(kServerDelay, [&] {
    server.listen();
    progress.serverListening(server.ipPort());
  });
  loop.runAfter(kTimeLimit, [&] { progress.timeOut(); });
  loop.loop();
  return progress.summarize();
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    printUsage(stdout);
    return 0;
  }
  const std::optional<Options> options = parseOptions(argc, argv);
  if (!options) {
    printUsage(stderr);
    return 2;
  }
  const std::string limitProblem = checkDescriptorLimit(*options);
  if (!limitProblem.empty()) {
    std::fprintf(stderr, "demo: %s\n", limitProblem.c_str());
    return 1;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it happens, also into a pipe
  // The Connector logs each retry at info; the demo prints its own lines
  // instead. Every EventLoop reads the level from here, unless the user
  // chose one (overwrite 0 keeps it).
  ::setenv("REACTOR_LOG_LEVEL", "warn", 0);
  try {
    return run(*options);
  } catch (const std::system_error& error) {  // a port in use, a full fd table, ...
    std::fprintf(stderr, "demo: %s%s\n", error.what(),
                 error.code() == std::errc::address_in_use ? " (choose another with --port)" : "");
    return 1;
  } catch (const std::exception& error) {  // a bad REACTOR_POLLER, ...
    std::fprintf(stderr, "demo: %s\n", error.what());
    return 1;
  }
}
