// Timers on one loop: one-shot timers added out of order run in deadline
// order, a zero delay waits for the loop, a repeating timer ticks three times
// and cancels itself, a cancelled timer never runs, and a last timer quits.
// The output is the same on every run.
#include <chrono>
#include <cstdio>

#include "reactor/EventLoop.h"

int main() {
  using namespace std::chrono_literals;
  reactor::EventLoop loop;

  // [timers]
  loop.runAfter(0.03, [] { std::puts("30 ms: third, though added first"); });
  loop.runAfter(10ms, [] { std::puts("10 ms: first"); });
  loop.runAfter(20ms, [] { std::puts("20 ms: second"); });

  loop.runAfter(0, [] { std::puts("0 ms: on the loop's first iteration"); });
  std::puts("runAfter(0, ...) has returned; its callback waits for the loop");

  reactor::TimerId doomed = loop.runAfter(15ms, [] { std::puts("never printed"); });
  loop.cancel(doomed);

  int ticks = 0;
  reactor::TimerId ticker;
  ticker = loop.runEvery(50ms, [&] {
    ++ticks;
    std::printf("tick %d\n", ticks);
    if (ticks == 3) loop.cancel(ticker);  // a repeating timer may cancel itself
  });

  loop.runAfter(300ms, [&] {
    std::puts("300 ms: quit");
    loop.quit();
  });
  loop.loop();
  // [timers]
  std::printf("%d ticks; the cancelled timer never ran\n", ticks);
}
