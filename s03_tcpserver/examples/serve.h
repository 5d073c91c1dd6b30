// What the four servers of this stage share: the command line (an optional
// port), the loop, the server, and the report of a bad argument or of an
// error such as a port in use. Each example only says what its server does.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>

#include "reactor/EventLoop.h"
#include "reactor/InetAddress.h"
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

/// The port the command line asks for: its one argument, or `defaultPort`
/// without one; nullopt for a bad port or too many arguments.
inline std::optional<uint16_t> portFromArguments(int argc, char* argv[], uint16_t defaultPort) {
  if (argc == 1) return defaultPort;
  if (argc == 2) return parsePort(argv[1]);
  return std::nullopt;
}

/// Runs a server named `name` on every local address, at the port the
/// command line asks for. `setUp` gives it its callbacks. Exits with status
/// 2 and the usage on a bad command line, returns 1 when the server cannot
/// start (e.g. the port is in use); serves until killed.
inline int serve(int argc, char* argv[], const char* name, uint16_t defaultPort,
                 const std::function<void(reactor::TcpServer&)>& setUp) {
  const std::optional<uint16_t> port = portFromArguments(argc, argv, defaultPort);
  if (!port) {
    std::fprintf(stderr, "usage: %s [port]   (port: 0 to 65535, default %u)\n", name, defaultPort);
    std::exit(2);
  }
  try {
    reactor::EventLoop loop;
    reactor::TcpServer server(&loop, reactor::InetAddress(*port), name);
    setUp(server);
    server.start();
    std::printf("%s: listening on %s\n", name, server.ipPort().c_str());
    std::fflush(stdout);
    loop.loop();
  } catch (const std::exception& error) {  // a port in use, a bad REACTOR_POLLER, ...
    std::fprintf(stderr, "%s: %s\n", name, error.what());
    return 1;
  }
  return 0;
}

}  // namespace example
