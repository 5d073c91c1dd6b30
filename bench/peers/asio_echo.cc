// asio_echo: the pingpong echo server written the way Asio's own examples
// write one (async_tcp_echo_server), for docs/performance.md to compare with
// ours. Standalone Asio (Debian's libasio-dev), header-only.
//
// Each connection is a Session that reads some bytes with async_read_some(),
// writes them all back with async_write(), and only then reads again: one
// operation outstanding at a time, and one buffer per connection that is
// never copied.
//
// With N threads, each thread runs its own io_context with its own acceptor
// bound to the port with SO_REUSEPORT. The other way Asio offers, one
// acceptor handing each new socket to the next io_context round robin, is
// what our TcpServer does; SO_REUSEPORT is what bench/epoll_echo.c and the
// libevent and libuv peers do, so that every peer but ours spreads
// connections the same way and its threads share nothing.
//
// Usage: asio_echo PORT [THREADS]   (THREADS defaults to 1)
// It listens on every local address and runs until killed.
#include <sys/socket.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <asio.hpp>

namespace {

using asio::ip::tcp;

constexpr long kMaxThreads = 64;

// Asio names no option for SO_REUSEPORT; any type with these members is a
// socket option to it (the SettableSocketOption requirements).
class ReusePort {
 public:
  template <typename Protocol>
  int level(const Protocol&) const {
    return SOL_SOCKET;
  }
  template <typename Protocol>
  int name(const Protocol&) const {
    return SO_REUSEPORT;
  }
  template <typename Protocol>
  const void* data(const Protocol&) const {
    return &on_;
  }
  template <typename Protocol>
  std::size_t size(const Protocol&) const {
    return sizeof on_;
  }

 private:
  int on_ = 1;
};

// One connection; its pending operation's handler keeps it alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void start() {
    socket_.set_option(tcp::no_delay(true));
    read();
  }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](std::error_code ec, std::size_t n) {
                              if (!ec) self->write(n);
                            });
  }

  void write(std::size_t n) {
    asio::async_write(socket_, asio::buffer(buffer_, n),
                      [self = shared_from_this()](std::error_code ec, std::size_t) {
                        if (!ec) self->read();
                      });
  }

  tcp::socket socket_;
  std::array<char, 64 * 1024> buffer_;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](std::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<Session>(std::move(socket))->start();
    accept(acceptor);
  });
}

void serve(unsigned short port) {
  asio::io_context io(1);  // the hint: only this thread runs it
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(tcp::v4(), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.set_option(ReusePort());
  acceptor.bind(endpoint);
  acceptor.listen(tcp::acceptor::max_listen_connections);
  accept(acceptor);
  io.run();
}

// Serves until killed; a failure, such as the port being in use, ends the
// process: a benchmark server does not recover.
void serveOrExit(unsigned short port) {
  try {
    serve(port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_echo: %s\n", e.what());
    std::exit(1);
  }
}

long parse(const char* text, long max) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && value >= 1 && value <= max ? value : -1;
}

}  // namespace

int main(int argc, char* argv[]) {
  const long port = argc >= 2 ? parse(argv[1], 65535) : -1;
  const long threads = argc == 3 ? parse(argv[2], kMaxThreads) : 1;
  if (argc < 2 || argc > 3 || port < 0 || threads < 0) {
    std::fprintf(stderr, "usage: %s PORT [THREADS]   (THREADS 1..%ld, default 1)\n", argv[0],
                 kMaxThreads);
    return 2;
  }
  std::vector<std::thread> others;
  for (long i = 1; i < threads; ++i)
    others.emplace_back(serveOrExit, static_cast<unsigned short>(port));
  serveOrExit(static_cast<unsigned short>(port));  // the main thread is the first
  for (std::thread& thread : others) thread.join();
}
