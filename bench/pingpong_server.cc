// pingpong_server: the server half of muduo's pingpong benchmark, on our
// TcpServer: it echoes every byte back, at once, with Nagle's algorithm off.
// bench/run-pingpong serves the same client from it and from epoll_echo.c.
//
// Usage: pingpong_server PORT
// It listens on every local address, on one loop, and runs until killed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpConnection.h"
#include "reactor/TcpServer.h"

namespace {

// Echoes every connection to `port` until the process is killed.
void serve(uint16_t port) {
  reactor::EventLoop loop;
  reactor::TcpServer server(&loop, reactor::InetAddress(port), "pingpong");
  server.setConnectionCallback([](const reactor::TcpConnectionPtr& conn) {
    if (conn->connected()) conn->setTcpNoDelay(true);
  });
  server.setMessageCallback([](const reactor::TcpConnectionPtr& conn, reactor::Buffer* buf,
                               reactor::Timestamp) { conn->send(buf); });
  server.start();
  loop.loop();
}

}  // namespace

int main(int argc, char* argv[]) {
  char* end = nullptr;
  const long port = argc == 2 ? std::strtol(argv[1], &end, 10) : -1;
  if (argc != 2 || *end != '\0' || port < 1 || port > 65535) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  try {
    serve(static_cast<uint16_t>(port));
  } catch (const std::exception& e) {  // such as the port being in use
    std::fprintf(stderr, "pingpong_server: %s\n", e.what());
    return 1;
  }
}
