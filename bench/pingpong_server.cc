// pingpong_server: the server half of muduo's pingpong benchmark, on our
// TcpServer: it echoes every byte back, at once, with Nagle's algorithm off.
// bench/run-pingpong serves the same client from it and from epoll_echo.c.
//
// Usage: pingpong_server PORT [THREADS]
//        pingpong_server --sizes
// It listens on every local address and runs until killed. THREADS (default
// 0) is the TcpServer's thread count: with 0 one loop accepts and serves
// every connection; with N the base loop only accepts and N I/O loops, one
// per thread, serve the connections, dealt out round robin.
// --sizes prints what one connection's objects take, for bench/run-pingpong
// --idle to explain the memory it measures.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>

#include "reactor/Buffer.h"
#include "reactor/Channel.h"
#include "reactor/EventLoop.h"
#include "reactor/InetAddress.h"
#include "reactor/Socket.h"
#include "reactor/TcpConnection.h"
#include "reactor/TcpServer.h"

namespace {

constexpr long kMaxThreads = 64;

// Echoes every connection to `port` until the process is killed.
void serve(uint16_t port, int threads) {
  reactor::EventLoop loop;
  reactor::TcpServer server(&loop, reactor::InetAddress(port), "pingpong");
  server.setThreadNum(threads);
  server.setConnectionCallback([](const reactor::TcpConnectionPtr& conn) {
    if (conn->connected()) conn->setTcpNoDelay(true);
  });
  server.setMessageCallback([](const reactor::TcpConnectionPtr& conn, reactor::Buffer* buf,
                               reactor::Timestamp) { conn->send(buf); });
  server.start();
  loop.loop();
}

// One line of key=value pairs, sizes in bytes, as this build lays them out.
// The heap blocks each connection allocates are these plus malloc's own
// overhead; the shared_ptr control block shares TcpConnection's block
// (make_shared) and adds two counters and a vtable pointer.
void printSizes() {
  using ConnectionsEntry = std::map<std::string, reactor::TcpConnectionPtr>::value_type;
  std::printf(
      "pingpong_server TcpConnection=%zu Channel=%zu Buffer=%zu Buffer.storage=%zu Socket=%zu "
      "connections_.value_type=%zu std::string=%zu\n",
      sizeof(reactor::TcpConnection), sizeof(reactor::Channel), sizeof(reactor::Buffer),
      reactor::Buffer::kCheapPrepend + reactor::Buffer::kInitialSize, sizeof(reactor::Socket),
      sizeof(ConnectionsEntry), sizeof(std::string));
}

// A whole decimal number in [min, max], or -1.
long parse(const char* text, long min, long max) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && value >= min && value <= max ? value : -1;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc == 2 && std::strcmp(argv[1], "--sizes") == 0) {
    printSizes();
    return 0;
  }
  const long port = argc >= 2 ? parse(argv[1], 1, 65535) : -1;
  const long threads = argc == 3 ? parse(argv[2], 0, kMaxThreads) : 0;
  if (argc < 2 || argc > 3 || port < 0 || threads < 0) {
    std::fprintf(stderr,
                 "usage: %s PORT [THREADS]   (I/O threads 0..%ld, default 0: one loop)\n"
                 "       %s --sizes          (the sizes of one connection's objects)\n",
                 argv[0], kMaxThreads, argv[0]);
    return 2;
  }
  try {
    serve(static_cast<uint16_t>(port), static_cast<int>(threads));
  } catch (const std::exception& e) {  // such as the port being in use
    std::fprintf(stderr, "pingpong_server: %s\n", e.what());
    return 1;
  }
}
