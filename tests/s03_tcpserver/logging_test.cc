// Chapter 3: REACTOR_LOG_LEVEL chooses how much the library logs; a value it
// does not know is refused as loudly as a bad REACTOR_POLLER.
#include <stdexcept>
#include <string>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"
#include "tcp_test_support.h"

namespace {

using reactor::EventLoop;
using reactor_test::ScopedEnv;

TEST(LogLevelTest, ABadValueMakesTheEventLoopConstructorThrow) {
  const ScopedEnv level("REACTOR_LOG_LEVEL", "loud");
  try {
    EventLoop loop;
    ADD_FAILURE() << "REACTOR_LOG_LEVEL=loud was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    for (const char* accepted : {"trace", "debug", "info", "warn", "error"}) {
      EXPECT_NE(what.find(accepted), std::string::npos)
          << "the message does not name \"" << accepted << "\": " << what;
    }
  }
  // The thread owns no loop after the failed constructor: a new one works.
  const ScopedEnv fixed("REACTOR_LOG_LEVEL", "warn");
  EventLoop loop;
  EXPECT_TRUE(loop.isInLoopThread());
}

TEST(LogLevelTest, EveryNamedLevelAndUnsetAreAccepted) {
  for (const char* value : {"trace", "debug", "info", "warn", "error", ""}) {
    const ScopedEnv level("REACTOR_LOG_LEVEL", std::string(value));
    EXPECT_NO_THROW(EventLoop loop) << "REACTOR_LOG_LEVEL=\"" << value << "\"";
  }
  const ScopedEnv unset("REACTOR_LOG_LEVEL", std::nullopt);
  EXPECT_NO_THROW(EventLoop loop);
}

}  // namespace
