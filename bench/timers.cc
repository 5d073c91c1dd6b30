// bench_timers: what one timer operation costs as the number of live timers
// grows from a thousand to a million. Build it optimised and run it:
//
//   cmake --preset release && cmake --build --preset release --target bench_timers
//   ./build/release/bench/bench_timers
//
// Everything runs in the thread that constructed the loop, so runAfter() and
// cancel() go straight to the heap, as they do inside a callback.
//   insert  loop.runAfter() of a timer due in one to two hours, with N timers
//           already waiting (random deadlines in the same range);
//   cancel  loop.cancel() of a random one of those live timers;
//   expire  one loop.loop() that runs N timers whose random deadlines have
//           passed (a last timer quits), divided by N.
// Each callback captures one pointer. Insert and cancel are timed in batches,
// enough of them to cancel at least N timers, and the table shows their mean:
// a cancel that only marks its timer leaves work for later (the reactor drops
// cancelled entries in one pass when they could be half the heap), and the
// mean includes that work. Expire is timed in whole runs, median of several.
// The same is measured for a model of muduo's TimerQueue (two std::sets),
// to show what the data structure is worth.
// When libevent is found at build time (REACTOR_BENCH_LIBEVENT), its timers
// are measured the same way in the same run: insert is event_new() plus
// event_add(), cancel is event_del() plus event_free(), and expire is one
// event_base_loop(EVLOOP_NONBLOCK) over N timers whose deadlines have passed,
// each of which frees its event as the reactor frees its Timer.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "reactor/EventLoop.h"

#ifdef REACTOR_BENCH_LIBEVENT
#include <event2/event.h>
#endif

namespace {

using reactor::Clock;
using reactor::Duration;
using reactor::EventLoop;
using reactor::TimerId;
using reactor::Timestamp;
using Nanos = std::chrono::duration<double, std::nano>;

constexpr std::size_t kSizes[] = {1'000, 10'000, 100'000, 1'000'000};

// Operations per timed batch, and rounds per size: enough rounds to cancel
// at least N timers, so that deferred work is paid inside the measurement.
std::size_t batchSize(std::size_t n) { return std::clamp<std::size_t>(n / 10, 100, 10'000); }
int batchRounds(std::size_t n) { return static_cast<int>(std::max<std::size_t>(31, n / batchSize(n))); }
int expireRounds(std::size_t n) { return n >= 1'000'000 ? 3 : n >= 100'000 ? 5 : 15; }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (double value : values) sum += value;
  return sum / static_cast<double>(values.size());
}

double nsPerOp(Timestamp start, Timestamp end, std::size_t ops) {
  return Nanos(end - start).count() / static_cast<double>(ops);
}

struct Costs {
  double insert = 0;
  double cancel = 0;
  double expire = 0;
};

// A delay of one to two hours, at a random microsecond.
std::chrono::microseconds farDelay(std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> us(3'600'000'000, 7'200'000'000);
  return std::chrono::microseconds(us(rng));
}

// Takes `count` random elements out of `live` (order not kept).
template <typename T>
std::vector<T> takeRandom(std::vector<T>& live, std::size_t count, std::mt19937_64& rng) {
  std::vector<T> taken;
  taken.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<std::size_t> pick(0, live.size() - 1);
    std::size_t j = pick(rng);
    taken.push_back(std::move(live[j]));
    live[j] = std::move(live.back());
    live.pop_back();
  }
  return taken;
}

// ---------------------------------------------------------------- reactor

Costs benchReactor(std::size_t n, std::mt19937_64& rng) {
  Costs costs;
  std::uint64_t fired = 0;
  std::uint64_t* counter = &fired;
  const std::size_t batch = batchSize(n);
  {
    EventLoop loop;
    std::vector<TimerId> live;
    live.reserve(n + batch);
    for (std::size_t i = 0; i < n; ++i) {
      live.push_back(loop.runAfter(farDelay(rng), [counter] { ++*counter; }));
    }
    std::vector<double> inserts, cancels;
    std::vector<Duration> delays(batch);
    for (int round = 0; round < batchRounds(n); ++round) {
      for (Duration& delay : delays) delay = farDelay(rng);
      Timestamp start = Clock::now();
      for (Duration delay : delays) {
        live.push_back(loop.runAfter(delay, [counter] { ++*counter; }));
      }
      inserts.push_back(nsPerOp(start, Clock::now(), batch));

      std::vector<TimerId> victims = takeRandom(live, batch, rng);
      start = Clock::now();
      for (const TimerId& id : victims) loop.cancel(id);
      cancels.push_back(nsPerOp(start, Clock::now(), batch));
    }
    costs.insert = mean(inserts);
    costs.cancel = mean(cancels);
  }

  std::vector<double> expires;
  for (int round = 0; round < expireRounds(n); ++round) {
    EventLoop loop;
    const Timestamp now = Clock::now();
    std::uniform_int_distribution<std::int64_t> ago(1'000, 1'000'000);  // ns
    for (std::size_t i = 0; i < n; ++i) {
      loop.runAt(now - std::chrono::nanoseconds(ago(rng)), [counter] { ++*counter; });
    }
    // Due after all the others, so it runs last in the same batch.
    loop.runAt(now, [&loop] { loop.quit(); });
    const Timestamp start = Clock::now();
    loop.loop();
    expires.push_back(nsPerOp(start, Clock::now(), n));
  }
  costs.expire = median(expires);
  if (fired != static_cast<std::uint64_t>(expireRounds(n)) * n) {
    std::fprintf(stderr, "bench_timers: %zu timers: expected %llu to fire, saw %llu\n", n,
                 static_cast<unsigned long long>(expireRounds(n)) * n,
                 static_cast<unsigned long long>(fired));
  }
  return costs;
}

// ------------------------------------------------ std::set, as muduo does it

// A model of muduo's TimerQueue without its timerfd: the timers ordered in a
// std::set of (deadline, Timer*) pairs, and a second std::set of (Timer*,
// sequence) pairs that cancel() searches. Each timer costs a `new` and two
// tree nodes, and every step down a tree is a pointer to follow.
class SetTimerQueue {
 public:
  struct Timer {
    std::function<void()> callback;
    Timestamp expiration;
    std::int64_t sequence;
  };
  using Id = std::pair<Timer*, std::int64_t>;

  SetTimerQueue() = default;
  SetTimerQueue(const SetTimerQueue&) = delete;
  SetTimerQueue& operator=(const SetTimerQueue&) = delete;
  ~SetTimerQueue() {
    for (const auto& entry : timers_) delete entry.second;
  }

  Id add(Timestamp when, std::function<void()> callback) {
    auto* timer = new Timer{std::move(callback), when, nextSequence_++};
    timers_.insert({when, timer});
    active_.insert({timer, timer->sequence});
    return {timer, timer->sequence};
  }

  void cancel(Id id) {
    auto it = active_.find(id);
    if (it == active_.end()) return;
    timers_.erase({it->first->expiration, it->first});
    delete it->first;
    active_.erase(it);
  }

  void runExpired(Timestamp now) {
    // Every entry up to `now`: the sentinel pointer sorts after any other.
    const auto end = timers_.lower_bound(
        {now, reinterpret_cast<Timer*>(std::numeric_limits<std::uintptr_t>::max())});
    std::vector<std::pair<Timestamp, Timer*>> expired(timers_.begin(), end);
    timers_.erase(timers_.begin(), end);
    for (const auto& entry : expired) active_.erase({entry.second, entry.second->sequence});
    for (const auto& entry : expired) {
      entry.second->callback();
      delete entry.second;
    }
  }

 private:
  std::set<std::pair<Timestamp, Timer*>> timers_;
  std::set<Id> active_;
  std::int64_t nextSequence_ = 0;
};

Costs benchSet(std::size_t n, std::mt19937_64& rng) {
  Costs costs;
  std::uint64_t fired = 0;
  std::uint64_t* counter = &fired;
  const std::size_t batch = batchSize(n);
  {
    SetTimerQueue queue;
    std::vector<SetTimerQueue::Id> live;
    live.reserve(n + batch);
    for (std::size_t i = 0; i < n; ++i) {
      live.push_back(queue.add(Clock::now() + farDelay(rng), [counter] { ++*counter; }));
    }
    std::vector<double> inserts, cancels;
    std::vector<Duration> delays(batch);
    for (int round = 0; round < batchRounds(n); ++round) {
      for (Duration& delay : delays) delay = farDelay(rng);
      Timestamp start = Clock::now();
      for (Duration delay : delays) {
        live.push_back(queue.add(Clock::now() + delay, [counter] { ++*counter; }));
      }
      inserts.push_back(nsPerOp(start, Clock::now(), batch));

      std::vector<SetTimerQueue::Id> victims = takeRandom(live, batch, rng);
      start = Clock::now();
      for (const SetTimerQueue::Id& id : victims) queue.cancel(id);
      cancels.push_back(nsPerOp(start, Clock::now(), batch));
    }
    costs.insert = mean(inserts);
    costs.cancel = mean(cancels);
  }

  // Fewer rounds than the others: filling a million nodes takes seconds.
  std::vector<double> expires;
  for (int round = 0; round < std::max(1, expireRounds(n) / 3); ++round) {
    SetTimerQueue queue;
    const Timestamp now = Clock::now();
    std::uniform_int_distribution<std::int64_t> ago(1'000, 1'000'000);  // ns
    for (std::size_t i = 0; i < n; ++i) {
      queue.add(now - std::chrono::nanoseconds(ago(rng)), [counter] { ++*counter; });
    }
    const Timestamp start = Clock::now();
    queue.runExpired(Clock::now());
    expires.push_back(nsPerOp(start, Clock::now(), n));
  }
  costs.expire = median(expires);
  return costs;
}

// ---------------------------------------------------------------- libevent

#ifdef REACTOR_BENCH_LIBEVENT

std::uint64_t g_libeventFired = 0;

void countAndKeep(evutil_socket_t, short, void* counter) {
  ++*static_cast<std::uint64_t*>(counter);
}

// The expired timers free their event, as the reactor frees its Timer.
void countAndFree(evutil_socket_t, short, void* self) {
  ++g_libeventFired;
  event_free(static_cast<event*>(self));
}

timeval toTimeval(std::chrono::microseconds us) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us.count() / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(us.count() % 1'000'000);
  return tv;
}

struct ExpireFill {
  event_base* base;
  std::size_t n;
  std::mt19937_64* rng;
  Timestamp filled;
};

// Runs inside the loop, where libevent reads its cached clock: all the
// deadlines are random within the millisecond after the same instant.
void fillDueSoon(evutil_socket_t, short, void* arg) {
  auto* fill = static_cast<ExpireFill*>(arg);
  std::uniform_int_distribution<std::int64_t> us(0, 999);
  for (std::size_t i = 0; i < fill->n; ++i) {
    event* ev = event_new(fill->base, -1, 0, countAndFree, event_self_cbarg());
    timeval tv = toTimeval(std::chrono::microseconds(us(*fill->rng)));
    event_add(ev, &tv);
  }
  fill->filled = Clock::now();
}

Costs benchLibevent(std::size_t n, std::mt19937_64& rng) {
  Costs costs;
  std::uint64_t fired = 0;
  const std::size_t batch = batchSize(n);
  {
    event_base* base = event_base_new();
    std::vector<event*> live;
    live.reserve(n + batch);
    for (std::size_t i = 0; i < n; ++i) {
      event* ev = event_new(base, -1, 0, countAndKeep, &fired);
      timeval tv = toTimeval(farDelay(rng));
      event_add(ev, &tv);
      live.push_back(ev);
    }
    std::vector<double> inserts, cancels;
    std::vector<timeval> delays(batch);
    for (int round = 0; round < batchRounds(n); ++round) {
      for (timeval& tv : delays) tv = toTimeval(farDelay(rng));
      Timestamp start = Clock::now();
      for (const timeval& tv : delays) {
        event* ev = event_new(base, -1, 0, countAndKeep, &fired);
        event_add(ev, &tv);
        live.push_back(ev);
      }
      inserts.push_back(nsPerOp(start, Clock::now(), batch));

      std::vector<event*> victims = takeRandom(live, batch, rng);
      start = Clock::now();
      for (event* ev : victims) {
        event_del(ev);
        event_free(ev);
      }
      cancels.push_back(nsPerOp(start, Clock::now(), batch));
    }
    costs.insert = mean(inserts);
    costs.cancel = mean(cancels);
    for (event* ev : live) event_free(ev);
    event_base_free(base);
  }

  std::vector<double> expires;
  for (int round = 0; round < expireRounds(n); ++round) {
    event_base* base = event_base_new();
    ExpireFill fill{base, n, &rng, {}};
    const timeval now{0, 0};
    event_base_once(base, -1, EV_TIMEOUT, fillDueSoon, &fill, &now);
    event_base_loop(base, EVLOOP_ONCE);
    // Every deadline was within a millisecond of the fill's start, on
    // libevent's clock, which may be the coarse one (a tick of 4 ms or so).
    std::this_thread::sleep_until(fill.filled + std::chrono::milliseconds(20));
    const Timestamp start = Clock::now();
    event_base_loop(base, EVLOOP_NONBLOCK);
    expires.push_back(nsPerOp(start, Clock::now(), n));
    event_base_free(base);
  }
  costs.expire = median(expires);
  if (g_libeventFired != static_cast<std::uint64_t>(expireRounds(n)) * n) {
    std::fprintf(stderr, "bench_timers: libevent, %zu timers: expected %llu to fire, saw %llu\n", n,
                 static_cast<unsigned long long>(expireRounds(n)) * n,
                 static_cast<unsigned long long>(g_libeventFired));
  }
  g_libeventFired = 0;
  return costs;
}

#endif  // REACTOR_BENCH_LIBEVENT

void printRow(const char* label, const Costs& c) {
  std::printf("  %-10s %9.0f %9.0f %9.0f\n", label, c.insert, c.cancel, c.expire);
}

void printRatio(const char* label, const Costs& a, const Costs& b) {
  std::printf("  %-10s %8.2fx %8.2fx %8.2fx\n", label, a.insert / b.insert, a.cancel / b.cancel,
              a.expire / b.expire);
}

const char* sizeLabel(std::size_t n) {
  switch (n) {
    case 1'000:
      return "1e3";
    case 10'000:
      return "1e4";
    case 100'000:
      return "1e5";
    default:
      return "1e6";
  }
}

}  // namespace

int main() {
  std::mt19937_64 rng(20240601);
  std::printf("bench_timers: ns per operation (insert, cancel: mean; expire: median); %u hardware threads\n",
              std::thread::hardware_concurrency());
  std::printf("  %-10s %9s %9s %9s\n", "timers", "insert", "cancel", "expire");

  std::vector<Costs> ours;
  std::printf("reactor (min-heap with index)\n");
  for (std::size_t n : kSizes) {
    ours.push_back(benchReactor(n, rng));
    printRow(sizeLabel(n), ours.back());
  }
  printRatio("1e6/1e3", ours.back(), ours.front());
  const Costs& million = ours.back();
  const Costs& thousand = ours.front();
  std::printf(
      "  targets at 1e6: insert <= 150 ns (%s), cancel <= 200 ns (%s), "
      "1e6/1e3 <= 3x (insert %s, cancel %s, expire %s)\n",
      million.insert <= 150 ? "met" : "missed", million.cancel <= 200 ? "met" : "missed",
      million.insert <= 3 * thousand.insert ? "met" : "missed",
      million.cancel <= 3 * thousand.cancel ? "met" : "missed",
      million.expire <= 3 * thousand.expire ? "met" : "missed");

  std::vector<Costs> sets;
  std::printf("std::set of (deadline, Timer*) pairs, muduo's design, modelled\n");
  for (std::size_t n : kSizes) {
    sets.push_back(benchSet(n, rng));
    printRow(sizeLabel(n), sets.back());
  }
  printRatio("1e6/1e3", sets.back(), sets.front());
  std::printf("reactor/std::set\n");
  for (std::size_t i = 0; i < ours.size(); ++i) {
    printRatio(sizeLabel(kSizes[i]), ours[i], sets[i]);
  }

#ifdef REACTOR_BENCH_LIBEVENT
  std::vector<Costs> theirs;
  std::printf("libevent %s (min-heap)\n", event_get_version());
  for (std::size_t n : kSizes) {
    theirs.push_back(benchLibevent(n, rng));
    printRow(sizeLabel(n), theirs.back());
  }
  printRatio("1e6/1e3", theirs.back(), theirs.front());
  std::printf("reactor/libevent\n");
  for (std::size_t i = 0; i < ours.size(); ++i) {
    printRatio(sizeLabel(kSizes[i]), ours[i], theirs[i]);
  }
#else
  std::printf(
      "libevent: comparison skipped, libevent was not found when this was built "
      "(Debian/Ubuntu: sudo apt-get install libevent-dev, then reconfigure)\n");
#endif
}
