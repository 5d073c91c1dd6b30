// Chapter 5: a full descriptor table. socket(2) fails with EMFILE before the
// Connector can even try; that is the world's state, not the program's
// error, and it may pass: the attempt is reported and retried, and once
// descriptors are free again the Connector connects.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "connector_test_support.h"
#include "gtest/gtest.h"

namespace {

using reactor::Connector;
using reactor::Duration;
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

/// Takes the Connector's path of a failed attempt once, with descriptors to
/// spare: a refused attempt and its retry, and the std::system_error that a
/// failing socket(2) throws. UndefinedBehaviorSanitizer checks an object's
/// dynamic type through a pipe the first time it meets the type; with the
/// table full it cannot, and reports a false "invalid vptr". Met once
/// beforehand, each type is in its cache.
void rehearse(LoopThread& thread) {
  try {
    throw std::system_error(EMFILE, std::generic_category());
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EMFILE);
  }
  AttemptLog log;
  RefusingPort port;
  TestConnector connector(thread, port.address(), log, 1ms, 1ms);
  connector->start();
  EXPECT_TRUE(log.waitForErrors(2));
}

/// The whole story, run in a child process (a death test) because it lowers
/// the process's descriptor limit. Writes what went wrong to stderr and
/// exits with 0 when nothing did.
void connectThroughAFullFdTable() {
  std::string failures;
  auto check = [&failures](bool ok, const std::string& what) {
    if (!ok) failures += what + "\n";
    return ok;
  };
  {
    AttemptLog log;
    Listener listener(16);
    LoopThread thread;
    rehearse(thread);
    TestConnector connector(thread, listener.address(), log, 20ms, 20ms);
    // The table is full only for the first attempt: its report frees it,
    // before the retry.
    std::vector<int> fillers;
    const Connector::ConnectErrorCallback record = log.errorCallback();
    thread.call([&] {
      connector->setConnectErrorCallback(
          [&, record](int savedErrno, bool willRetry, Duration delay) {
            record(savedErrno, willRetry, delay);
            for (int fd : fillers) ::close(fd);
            fillers.clear();
          });
    });
    const bool filled = thread.call([&] {
      if (!fillTheFdTable(&fillers)) return false;
      connector->start();  // in the loop's thread: the attempt is made now
      return true;
    });
    if (check(filled, "the descriptor table did not fill") &&
        check(log.waitForErrors(1), "no report of the failed attempt")) {
      const ConnectError first = log.errors().front();
      check(first.savedErrno == EMFILE,
            std::string("reported ") + std::strerror(first.savedErrno) + ", not EMFILE");
      check(first.willRetry, "a full descriptor table was not retried");
      check(log.waitForConnections(1), "no connection once descriptors were free");
    }
    thread.call([&] {
      for (int fd : fillers) ::close(fd);
    });
  }
  std::fputs(failures.c_str(), stderr);
  std::exit(failures.empty() ? 0 : 1);
}

TEST(ConnectorEmfileDeathTest, AFullDescriptorTableIsRetriedUntilDescriptorsAreFree) {
  EXPECT_EXIT(connectThroughAFullFdTable(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
