// Chapter 3: a full descriptor table. accept(2) fails with EMFILE and leaves
// the pending connection in the backlog, so the listening socket stays
// readable: without the reserve-descriptor trick the loop spins and the
// client waits forever. With it, the server frees its reserve descriptor,
// accepts the connection, closes it at once and takes the reserve back.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/TcpServer.h"
#include "tcp_test_support.h"

namespace {

using reactor::TcpServer;
using namespace reactor_test;

/// Fills the descriptor table: lowers the soft RLIMIT_NOFILE to a little
/// above the highest descriptor open, then opens /dev/null until EMFILE.
/// Puts the descriptors it took in `taken`; false if the table did not fill.
bool fillTheFdTable(std::vector<int>* taken) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = static_cast<rlim_t>(*openFds().rbegin() + 16);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  for (;;) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == EMFILE && !taken->empty();
    taken->push_back(fd);
  }
}

/// True when every one of `fds` is still an open descriptor.
bool allOpen(const std::vector<int>& fds) {
  for (int fd : fds) {
    if (::fcntl(fd, F_GETFD) == -1) return false;
  }
  return true;
}

void release(std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

/// The whole story, run in a child process (a death test) because it lowers
/// the process's descriptor limit. Writes what went wrong to stderr and
/// exits with 0 when nothing did.
void serveThroughAFullFdTable() {
  std::string failures;
  auto check = [&failures](bool ok, const std::string& what) {
    if (!ok) failures += what + "\n";
    return ok;
  };
  {
    LoopThread thread;
    ConnectionLog log;
    TestServer server(thread, [&](TcpServer& s) {
      s.setConnectionCallback(log.callback());
      s.setMessageCallback(echo);
    });
    // Twice: the second time shows that the reserve descriptor came back.
    for (int round = 1; round <= 2; ++round) {
      const std::string in = " (round " + std::to_string(round) + ")";
      Client rejected;  // its socket exists before the table fills: connect needs no new one
      std::vector<int> fillers;
      check(fillTheFdTable(&fillers), "the descriptor table did not fill" + in);
      check(rejected.connect(server.address()), "connect failed" + in);
      // A connection the server cannot keep is closed at once, not left
      // waiting in the backlog.
      const Client::Received received = rejected.readToEnd();
      check(received.endOfStream, "the pending connection was not accepted and closed" + in);
      const auto cpu = processCpuTimeOver(kCpuWindow);
      check(cpu < kCpuBudget, "the loop spins while the table is full: " + std::to_string(ms(cpu)) +
                                  " ms of CPU in " + std::to_string(ms(kCpuWindow)) + " ms" + in);
      check(log.ups() == round - 1, "a connection came up while the table was full" + in);
      // A server that does not take its reserve back closes whatever has
      // the old reserve's number the next time the table is full.
      fillers.push_back(rejected.fd());
      check(allOpen(fillers), "the server closed a descriptor it did not own" + in);
      fillers.pop_back();
      release(fillers);

      // With descriptors free again, the server accepts and serves.
      Client served = Client::connectedTo(server.address());
      check(served.writeAll("hello") && served.readExactly(5) == "hello",
            "no echo after the table emptied" + in);
      check(log.waitForUps(round), "no connection after the table emptied" + in);
    }
  }
  std::fputs(failures.c_str(), stderr);
  std::exit(failures.empty() ? 0 : 1);
}

TEST(EmfileDeathTest, WhenTheFdTableIsFullAPendingConnectionIsClosedAndServingResumes) {
  EXPECT_EXIT(serveThroughAFullFdTable(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
