// What the four servers of this stage share: the command line (an optional
// port and an optional number of I/O threads), the loop, the server, and the
// report of a bad argument or of an error such as a port in use. Each
// example only says what its server does.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>

#include <pthread.h>

#include "reactor/EventLoop.h"
#include "reactor/InetAddress.h"
#include "reactor/Logging.h"
#include "reactor/TcpServer.h"

namespace example {

/// `text` as a port number, 0 to 65535; nullopt for anything else.
inline std::optional<uint16_t> parsePort(const char* text) {
  unsigned long port = 0;
  const char* end = text + std::strlen(text);
  const auto [last, error] = std::from_chars(text, end, port);
  if (error != std::errc() || last != end || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

/// What the command line asks for: `[port [threads]]`.
struct Arguments {
  uint16_t port;
  int threads;
};

/// `text` as a number of I/O threads, 0 to 64; nullopt for anything else.
inline std::optional<int> parseThreads(const char* text) {
  int threads = 0;
  const char* end = text + std::strlen(text);
  const auto [last, error] = std::from_chars(text, end, threads);
  if (error != std::errc() || last != end || threads < 0 || threads > 64) return std::nullopt;
  return threads;
}

/// The port and thread count of the command line, `defaultPort` and 0
/// threads when left out; nullopt for a bad value or too many arguments.
inline std::optional<Arguments> parseArguments(int argc, char* argv[], uint16_t defaultPort) {
  if (argc > 3) return std::nullopt;
  const std::optional<uint16_t> port = argc >= 2 ? parsePort(argv[1]) : defaultPort;
  const std::optional<int> threads = argc >= 3 ? parseThreads(argv[2]) : 0;
  if (!port || !threads) return std::nullopt;
  return Arguments{*port, *threads};
}

/// Logs each I/O thread as it starts, so that the thread id in each
/// connection's log line can be matched to a thread name (as in top -H).
inline void logIoThread(reactor::EventLoop*) {
  char name[16] = "";
  ::pthread_getname_np(::pthread_self(), name, sizeof name);
  LOG_INFO("I/O thread %s is ready", name);
}

/// Runs a server named `name` on every local address, at the port and with
/// the I/O threads the command line asks for. `setUp` gives it its callbacks. Exits with status
/// 2 and the usage on a bad command line, returns 1 when the server cannot
/// start (e.g. the port is in use); serves until killed.
inline int serve(int argc, char* argv[], const char* name, uint16_t defaultPort,
                 const std::function<void(reactor::TcpServer&)>& setUp) {
  const std::optional<Arguments> arguments = parseArguments(argc, argv, defaultPort);
  if (!arguments) {
    std::fprintf(stderr,
                 "usage: %s [port [threads]]   (port: 0 to 65535, default %u; "
                 "threads: I/O threads, 0 to 64, default 0)\n",
                 name, defaultPort);
    std::exit(2);
  }
  try {
    reactor::EventLoop loop;
    reactor::TcpServer server(&loop, reactor::InetAddress(arguments->port), name);
    server.setThreadNum(arguments->threads);
    server.setThreadInitCallback(logIoThread);
    setUp(server);
    server.start();
    std::printf("%s: listening on %s with %d I/O threads\n", name, server.ipPort().c_str(),
                arguments->threads);
    std::fflush(stdout);
    loop.loop();
  } catch (const std::exception& error) {  // a port in use, a bad REACTOR_POLLER, ...
    std::fprintf(stderr, "%s: %s\n", name, error.what());
    return 1;
  }
  return 0;
}

}  // namespace example
