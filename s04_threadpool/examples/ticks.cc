// One loop, two kinds of event: a timer writes a line into one end of a
// socketpair every 100 ms, and a Channel on the other end reads each line
// when the Poller reports it readable. After three lines the timer closes
// its end; the reader sees the end of the stream and removes its channel.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>

#include "reactor/Channel.h"
#include "reactor/EventLoop.h"

namespace {

int run() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
    std::perror("socketpair");
    return 1;
  }
  const int readEnd = fds[0];
  int writeEnd = fds[1];

  reactor::EventLoop loop;
  std::printf("waiting in %s\n", loop.pollerName());

  // [reader]
  reactor::Channel reader(&loop, readEnd);
  reader.setReadCallback([&](reactor::Timestamp) {
    char buf[64];
    const ssize_t n = ::read(readEnd, buf, sizeof buf);
    if (n > 0) {
      std::printf("read %zd bytes: %.*s", n, static_cast<int>(n), buf);
    } else if (n == 0) {  // the writer closed its end
      std::printf("end of stream: removing the channel\n");
      reader.disableAll();
      reader.remove();
      loop.quit();
    }
  });
  reader.enableReading();
  // [reader]

  // [writer]
  int ticks = 0;
  reactor::TimerId writer;
  writer = loop.runEvery(0.1, [&] {
    if (++ticks <= 3) {
      const std::string line = "tick " + std::to_string(ticks) + "\n";
      if (::write(writeEnd, line.data(), line.size()) < 0) std::perror("write");
      std::printf("wrote tick %d\n", ticks);
    } else {
      std::printf("closing the write end\n");
      ::close(writeEnd);
      writeEnd = -1;
      loop.cancel(writer);
    }
  });
  // [writer]

  loop.loop();
  ::close(readEnd);
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& error) {  // such as a REACTOR_POLLER that names no poller
    std::fprintf(stderr, "ticks: %s\n", error.what());
    return 1;
  }
}
