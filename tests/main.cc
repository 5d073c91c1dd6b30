// The main() of every test binary.
#include <gtest/gtest.h>

#include <csignal>

int main(int argc, char** argv) {
  // A test that writes to a peer that has gone must see EPIPE, not die.
  std::signal(SIGPIPE, SIG_IGN);
  // Death tests in a process that has threads: re-run the binary for the
  // child instead of forking a copy of a multithreaded process.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
