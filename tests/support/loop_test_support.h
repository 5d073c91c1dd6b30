// Helpers shared by every chapter's tests: run a loop without ever hanging the
// test, measure how much CPU a thread burns (to tell a loop that sleeps from
// one that spins), and tell when a thread is asleep in the kernel. They use
// only what every stage offers, so any chapter may include them.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"

namespace reactor_test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// What "promptly" means in these tests. A missed wakeup leaves a loop asleep
/// forever, so a bound this generous still tells a working loop from a broken
/// one, even on a loaded machine under a sanitizer.
constexpr Clock::duration kPromptly = 2s;

/// How long a loop may run before the watchdog of runLoop() ends it.
constexpr Clock::duration kHangLimit = 20s;

/// Runs `loop.loop()` in the calling thread (its owner) and returns how long
/// loop() ran. If loop() still runs after `limit`, a watchdog thread records a
/// test failure and ends it with quit() and a queued quit(), so that a broken
/// wakeup is reported as a failed test instead of a hang until the CTest
/// timeout. The rescue needs a working cross-thread wakeup; if even that is
/// broken, the CTest timeout remains.
inline Clock::duration runLoop(reactor::EventLoop& loop, Clock::duration limit = kHangLimit) {
  std::mutex mutex;
  std::condition_variable returned;
  bool done = false;  // guarded by mutex
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mutex);
    if (returned.wait_for(lock, limit, [&] { return done; })) return;
    lock.unlock();
    ADD_FAILURE() << "loop() still running after "
                  << std::chrono::duration_cast<std::chrono::seconds>(limit).count()
                  << " s: the watchdog ends it";
    loop.quit();
    loop.queueInLoop([&loop] { loop.quit(); });
  });
  const Clock::time_point start = Clock::now();
  loop.loop();
  const Clock::duration ran = Clock::now() - start;
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
  }
  returned.notify_one();
  watchdog.join();
  return ran;
}

/// CPU time the calling thread has used so far, user and system.
inline Clock::duration threadCpuTime() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                     std::chrono::nanoseconds(ts.tv_nsec));
}

/// True once the thread `tid` of this process is asleep in poll(2) or
/// epoll_wait(2); false if it is not within `limit`. Reads the thread's state
/// ('S', interruptible sleep) and, where the kernel shows it, its wait channel
/// (do_sys_poll, poll_schedule_timeout, ep_poll...) from /proc. This is how a
/// test makes sure that a loop is really asleep before it checks that the
/// loop can be woken: no sleep() guesses how long the loop takes to get there.
inline bool waitUntilAsleepInPoll(pid_t tid, Clock::duration limit = kPromptly) {
  const std::string task = "/proc/self/task/" + std::to_string(tid);
  const Clock::time_point deadline = Clock::now() + limit;
  do {
    std::ifstream statFile(task + "/stat");
    std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
    // "tid (comm) S ...": the name may hold spaces and parentheses, so the
    // state is the first field after the last ')'.
    const std::string::size_type paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S') {
      std::ifstream wchanFile(task + "/wchan");
      std::string wchan;
      wchanFile >> wchan;
      const bool wchanHidden = wchan.empty() || wchan == "0";
      if (wchanHidden || wchan.find("poll") != std::string::npos) return true;
    }
    std::this_thread::yield();
  } while (Clock::now() < deadline);
  return false;
}

}  // namespace reactor_test
