// Helpers shared by the chapter-4 tests: run a function in a loop's thread
// and wait for its result, read the calling thread's name, and tell when a
// thread is blocked. They use only
// the API of chapters 0 and 4, so the tests run unchanged against every later
// stage.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <thread>
#include <utility>

#include "reactor/CurrentThread.h"
#include "reactor/EventLoop.h"
#include "support/loop_test_support.h"

namespace reactor_test {

/// Runs `function` in `loop`'s thread and returns what it returned. Waits
/// on a future: the loop must be running (or be the caller's own).
template <typename Function>
auto callInLoop(reactor::EventLoop* loop, Function function) -> decltype(function()) {
  std::promise<decltype(function())> result;
  std::future<decltype(function())> future = result.get_future();
  loop->runInLoop([&] { result.set_value(function()); });
  return future.get();
}

/// The calling thread's name, as top -H shows it (at most 15 characters).
inline std::string currentThreadName() {
  char name[16] = {};
  ::pthread_getname_np(::pthread_self(), name, sizeof name);
  return name;
}

/// True once the thread `tid` of this process is asleep in the kernel (state
/// 'S' in /proc), such as blocked in a join; false if not within `limit`.
/// Lets a test know that a thread has got to a blocking call without
/// guessing how long that takes.
inline bool waitUntilBlocked(pid_t tid, Clock::duration limit = kPromptly) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
  const Clock::time_point deadline = Clock::now() + limit;
  do {
    std::ifstream statFile(path);
    std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
    // "tid (comm) S ...": the state is the first field after the last ')'.
    const std::string::size_type paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S') {
      return true;
    }
    std::this_thread::yield();
  } while (Clock::now() < deadline);
  return false;
}

/// Where a functor ran: the thread, and the loop that thread owns.
struct Place {
  pid_t threadId = 0;
  reactor::EventLoop* loop = nullptr;
  std::string threadName;

  static Place here() {
    return {reactor::currentThreadId(), reactor::EventLoop::getEventLoopOfCurrentThread(),
            currentThreadName()};
  }
};

}  // namespace reactor_test
