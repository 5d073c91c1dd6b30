// Worker threads hand tasks to one event loop. Every task runs in the loop's
// thread, whichever thread handed it over; the last one quits the loop.
#include <unistd.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "reactor/EventLoop.h"

int main() {
  constexpr int kWorkers = 3;
  constexpr int kTasksPerWorker = 2;
  reactor::EventLoop loop;
  std::printf("loop thread %d\n", ::gettid());

  int tasksDone = 0;  // touched only in the loop thread, so no lock
  // [handoff]
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&loop, &tasksDone, w] {
      const pid_t worker = ::gettid();
      for (int t = 0; t < kTasksPerWorker; ++t) {
        loop.queueInLoop([&loop, &tasksDone, w, t, worker] {
          std::printf("task %d.%d from thread %d ran in thread %d\n", w, t, worker, ::gettid());
          if (++tasksDone == kWorkers * kTasksPerWorker) loop.quit();
        });
      }
    });
  }
  loop.loop();
  // [handoff]
  for (std::thread& worker : workers) worker.join();
  std::printf("all %d tasks done\n", tasksDone);
}
