// echoclient: an interactive line client. What you type goes to the server,
// and what comes back is printed; Ctrl-D closes the sending side (a
// half-close), and the program ends when the server closes its side. One
// loop watches both descriptors: standard input, through a Channel, and the
// connection. It connects once: a refused connection is reported, not retried.
//   ./echoclient HOST PORT    e.g. ./echoclient localhost 2007
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string_view>

#include "reactor/Buffer.h"
#include "reactor/Channel.h"
#include "reactor/EventLoop.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpClient.h"
#include "reactor/TcpConnection.h"
#include "serve.h"  // example::parsePort()

namespace {

/// True when stdin is something a Poller can watch. epoll refuses regular
/// files and devices such as /dev/null, which are always "ready" anyway.
bool stdinCanBeWatched() {
  struct stat status {};
  if (::fstat(STDIN_FILENO, &status) != 0) return false;
  return ::isatty(STDIN_FILENO) || S_ISFIFO(status.st_mode) || S_ISSOCK(status.st_mode);
}

int run(const reactor::InetAddress& serverAddr) {
  reactor::EventLoop loop;
  reactor::TcpClient client(&loop, serverAddr, "echoclient");
  reactor::Channel input(&loop, STDIN_FILENO);
  int status = 0;

  // [callbacks]
  client.setConnectErrorCallback([&](int savedErrno, bool, reactor::Duration) {
    std::fprintf(stderr, "echoclient: cannot connect to %s: %s\n", serverAddr.toIpPort().c_str(),
                 std::strerror(savedErrno));
    client.stop();  // one attempt: no retry
    status = 1;
    loop.quit();
  });
  client.setConnectionCallback([&](const reactor::TcpConnectionPtr& conn) {
    if (conn->connected()) {
      std::fprintf(stderr, "echoclient: connected to %s; Ctrl-D ends\n",
                   serverAddr.toIpPort().c_str());
      input.enableReading();  // only now is there somewhere to send lines to
    } else {
      std::fprintf(stderr, "echoclient: the server closed the connection\n");
      loop.quit();
    }
  });
  client.setMessageCallback(
      [](const reactor::TcpConnectionPtr&, reactor::Buffer* buffer, reactor::Timestamp) {
        const std::string_view received = buffer->toStringView();
        std::fwrite(received.data(), 1, received.size(), stdout);
        std::fflush(stdout);
        buffer->retrieveAll();
      });
  // A terminal hands over one line per read; a pipe, whatever is there.
  // End of input (or an error) closes the sending side; the server's reply
  // to that, its own close, ends the loop.
  const auto readInput = [&] {
    char text[4096];
    const ssize_t n = ::read(STDIN_FILENO, text, sizeof text);
    if (n > 0) {
      if (const reactor::TcpConnectionPtr conn = client.connection())
        conn->send(text, static_cast<std::size_t>(n));
      return;
    }
    input.disableAll();
    input.remove();
    client.disconnect();
  };
  input.setReadCallback([&](reactor::Timestamp) { readInput(); });
  input.setCloseCallback(readInput);  // a pipe whose writer has gone: read() returns 0
  // [callbacks]

  client.connect();
  loop.loop();
  if (!input.isNoneEvent()) {  // the server closed first
    input.disableAll();
    input.remove();
  }
  return status;
}

}  // namespace

int main(int argc, char* argv[]) {
  const std::optional<uint16_t> port = argc == 3 ? example::parsePort(argv[2]) : std::nullopt;
  if (!port || *port == 0) {
    std::fprintf(stderr,
                 "usage: echoclient HOST PORT   (HOST: a name or an address; PORT: 1 to 65535)\n"
                 "Sends what you type, prints what comes back; Ctrl-D closes the sending side.\n"
                 "Connects once, without retrying; exits 1 when that fails.\n");
    return 2;
  }
  if (!stdinCanBeWatched()) {
    std::fprintf(stderr,
                 "echoclient: standard input must be a terminal or a pipe "
                 "(for a file: cat FILE | echoclient HOST PORT)\n");
    return 2;
  }
  // The Connector logs at info that it will retry; this program does not,
  // and says so itself. Every EventLoop reads the level from here, unless
  // the user chose one (overwrite 0 keeps it).
  ::setenv("REACTOR_LOG_LEVEL", "warn", 0);
  // Before any loop exists: resolving may block for seconds.
  const std::optional<reactor::InetAddress> serverAddr =
      reactor::InetAddress::resolve(argv[1], *port);
  if (!serverAddr) {
    std::fprintf(stderr, "echoclient: cannot resolve %s\n", argv[1]);
    return 1;
  }
  try {
    return run(*serverAddr);
  } catch (const std::exception& error) {  // a bad REACTOR_POLLER, a full fd table, ...
    std::fprintf(stderr, "echoclient: %s\n", error.what());
    return 1;
  }
}
