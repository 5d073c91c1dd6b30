// bench_timers: what one timer operation costs as the number of live timers
// grows from a thousand to a million. Build it optimised and run it:
//
//   cmake --preset release && cmake --build --preset release --target bench_timers
//   ./build/release/bench/bench_timers
//
// Every operation is timed while N timers wait, N = 1e3, 1e4, 1e5 and 1e6:
// timers with random deadlines one to two hours away, added untimed before the
// first measurement. Everything runs in the thread that constructed the loop,
// so runAfter() and cancel() go straight to the heap, as they do inside a
// callback. Each callback captures one pointer.
//   insert  loop.runAfter() of one more timer due in one to two hours;
//   cancel  loop.cancel() of a random one of the live timers;
//   expire  running one due timer: K timers whose random deadlines passed up
//           to a millisecond ago, and a last one due after them that quits
//           the loop, are added untimed; then one loop.loop(), which runs the
//           K + 1 of them, is timed. The fixed cost of that iteration (poll(2),
//           the eventfd, the quit timer) is timed apart, as the same run with
//           the quit timer alone; the median of those runs is subtracted from
//           each, and the rest divided by K. The due timers were just added,
//           so their Timers are in the cache: in a program, a timer that
//           waited long may cost a cache miss more, with many timers.
// Each is timed in batches of K = batchSize(N) operations (100 at 1e3, 1,000
// at 1e4, 10,000 from 1e5); the table shows the mean over the batches. There
// are enough batches to cancel more than N timers (3001, 301, 31 and 101 of
// them; the std::set model expires only 30 batches at 1e6, where it is slow):
// a cancel that only marks its timer leaves work for later (the reactor drops
// cancelled entries in one pass when they are more than half the heap), and
// the mean includes that work. A first run at 1e3 is thrown away.
// Insert and cancel share one heap; expire has a heap of its own, holding the
// N waiting timers and nothing else.
//
// The same is measured for a model of muduo's TimerQueue (two std::sets), to
// show what the data structure is worth; its expire is one runExpired() over
// K due timers, less one that finds none due.
// When libevent is found at build time (REACTOR_BENCH_LIBEVENT), its timers
// are measured the same way in the same run: insert is event_new() plus
// event_add(), cancel is event_del() plus event_free(), and expire is one
// event_base_loop(EVLOOP_NONBLOCK) that runs K due events, each of which frees
// itself as the reactor frees its Timer, less one loop with none due.
// event_add() takes a delay, not a deadline, and no negative one: the K due
// events get a delay of zero, so their deadline is libevent's clock at
// event_add() (a coarse clock, cached inside its loop), which the timed
// loop's reading of that clock can only equal or pass. No waiting needed.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
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

// Operations per timed batch, and batches per size. With one insert per
// cancel, the reactor's heap holds the N live timers and c cancelled ones, and
// it drops the cancelled ones when c > (N + c) / 2: a cycle of N + 1 cancels
// carries one drop. The batches cover a whole number of cycles (the last
// batch for the +1s), at least kMinOps operations in all, so that the mean
// carries its share of drops, and one hiccup of the machine (a context switch
// costs microseconds) moves the mean at 1e3 little. Stopping at exactly N
// cancels would leave every drop out at 1e6.
constexpr std::size_t kMinOps = 300'000;
std::size_t batchSize(std::size_t n) { return std::clamp<std::size_t>(n / 10, 100, 10'000); }
int batchRounds(std::size_t n) {
  const std::size_t cycles = std::max<std::size_t>(1, kMinOps / n);
  return static_cast<int>(cycles * (n / batchSize(n)) + 1);  // 3001, 301, 31, 101
}
// The std::set model is slow: fewer expire batches at a million.
int setExpireRounds(std::size_t n) { return n >= 1'000'000 ? 30 : batchRounds(n); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (double value : values) sum += value;
  return sum / static_cast<double>(values.size());
}

double nanos(Timestamp start, Timestamp end) { return Nanos(end - start).count(); }

double nsPerOp(Timestamp start, Timestamp end, std::size_t ops) {
  return nanos(start, end) / static_cast<double>(ops);
}

// The expire figure: the mean of the timed runs over K due timers, less the
// median run with none due, per timer.
double expireCost(const std::vector<double>& runs, const std::vector<double>& emptyRuns,
                  std::size_t k) {
  return (mean(runs) - median(emptyRuns)) / static_cast<double>(k);
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

// How long ago a due timer's deadline passed: up to a millisecond.
std::chrono::nanoseconds pastDelay(std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> ns(1'000, 1'000'000);
  return std::chrono::nanoseconds(ns(rng));
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

void checkFired(const char* what, std::size_t n, std::uint64_t expected, std::uint64_t fired) {
  if (fired == expected) return;
  std::fprintf(stderr, "bench_timers: %s, %zu timers: expected %llu to fire, saw %llu\n", what, n,
               static_cast<unsigned long long>(expected), static_cast<unsigned long long>(fired));
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

  {
    // A new loop, so that the heap holds the N live timers and nothing else.
    EventLoop loop;
    for (std::size_t i = 0; i < n; ++i) loop.runAfter(farDelay(rng), [counter] { ++*counter; });
    // Adds `due` timers whose deadlines have passed, and one due after them
    // that quits, then times the loop run that expires them all.
    auto timedRun = [&](std::size_t due) {
      const Timestamp now = Clock::now();
      for (std::size_t i = 0; i < due; ++i) {
        loop.runAt(now - pastDelay(rng), [counter] { ++*counter; });
      }
      loop.runAt(now, [&loop] { loop.quit(); });
      const Timestamp start = Clock::now();
      loop.loop();
      return nanos(start, Clock::now());
    };
    std::vector<double> runs, emptyRuns;
    for (int round = 0; round < batchRounds(n); ++round) {
      emptyRuns.push_back(timedRun(0));
      runs.push_back(timedRun(batch));
    }
    costs.expire = expireCost(runs, emptyRuns, batch);
  }
  checkFired("reactor", n, static_cast<std::uint64_t>(batchRounds(n)) * batch, fired);
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

  {
    SetTimerQueue queue;
    for (std::size_t i = 0; i < n; ++i) {
      queue.add(Clock::now() + farDelay(rng), [counter] { ++*counter; });
    }
    std::vector<double> runs, emptyRuns;
    for (int round = 0; round < setExpireRounds(n); ++round) {
      Timestamp start = Clock::now();
      queue.runExpired(Clock::now());
      emptyRuns.push_back(nanos(start, Clock::now()));

      const Timestamp now = Clock::now();
      for (std::size_t i = 0; i < batch; ++i) {
        queue.add(now - pastDelay(rng), [counter] { ++*counter; });
      }
      start = Clock::now();
      queue.runExpired(Clock::now());
      runs.push_back(nanos(start, Clock::now()));
    }
    costs.expire = expireCost(runs, emptyRuns, batch);
  }
  checkFired("std::set", n, static_cast<std::uint64_t>(setExpireRounds(n)) * batch, fired);
  return costs;
}

// ---------------------------------------------------------------- libevent

#ifdef REACTOR_BENCH_LIBEVENT

void countAndKeep(evutil_socket_t, short, void* counter) {
  ++*static_cast<std::uint64_t*>(counter);
}

std::uint64_t g_libeventFired = 0;

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

  {
    event_base* base = event_base_new();
    std::vector<event*> live;
    live.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      event* ev = event_new(base, -1, 0, countAndKeep, &fired);
      timeval tv = toTimeval(farDelay(rng));
      event_add(ev, &tv);
      live.push_back(ev);
    }
    std::vector<double> runs, emptyRuns;
    int lateRounds = 0;
    g_libeventFired = 0;
    for (int round = 0; round < batchRounds(n); ++round) {
      Timestamp start = Clock::now();
      event_base_loop(base, EVLOOP_NONBLOCK);
      emptyRuns.push_back(nanos(start, Clock::now()));

      // A delay of zero: the deadline is libevent's clock at event_add(),
      // which the loop's clock can only equal or pass.
      const timeval zero{0, 0};
      for (std::size_t i = 0; i < batch; ++i) {
        event* ev = event_new(base, -1, 0, countAndFree, event_self_cbarg());
        event_add(ev, &zero);
      }
      const std::uint64_t before = g_libeventFired;
      start = Clock::now();
      event_base_loop(base, EVLOOP_NONBLOCK);
      runs.push_back(nanos(start, Clock::now()));
      // Any left behind (there should be none) runs now, untimed.
      for (int i = 0; i < 10 && g_libeventFired - before < batch; ++i) {
        ++lateRounds;
        event_base_loop(base, EVLOOP_NONBLOCK);
      }
    }
    costs.expire = expireCost(runs, emptyRuns, batch);
    if (lateRounds > 0) {
      std::fprintf(stderr,
                   "bench_timers: libevent, %zu timers: some due events did not run in "
                   "the timed loop; expire is not valid\n",
                   n);
    }
    checkFired("libevent", n, static_cast<std::uint64_t>(batchRounds(n)) * batch,
               g_libeventFired + fired);
    for (event* ev : live) event_free(ev);
    event_base_free(base);
  }
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

// Runs `bench` at every size and prints its table and its growth.
std::vector<Costs> measure(const char* title, Costs (*bench)(std::size_t, std::mt19937_64&),
                           std::mt19937_64& rng) {
  std::vector<Costs> costs;
  std::printf("%s\n", title);
  for (std::size_t n : kSizes) {
    costs.push_back(bench(n, rng));
    printRow(sizeLabel(n), costs.back());
  }
  printRatio("1e6/1e3", costs.back(), costs.front());
  return costs;
}

// Prints, size by size, how many times `theirs` costs what `ours` costs.
void printAgainst(const char* title, const std::vector<Costs>& ours,
                  const std::vector<Costs>& theirs) {
  std::printf("%s\n", title);
  for (std::size_t i = 0; i < ours.size(); ++i) {
    printRatio(sizeLabel(kSizes[i]), ours[i], theirs[i]);
  }
}

}  // namespace

int main() {
  std::mt19937_64 rng(20240601);
  std::printf(
      "bench_timers: ns per operation with N timers waiting, mean of batches; %u hardware "
      "threads\n",
      std::thread::hardware_concurrency());
  std::printf("  %-10s %9s %9s %9s\n", "timers", "insert", "cancel", "expire");

  // The first measurement of a process tends to be slow (the core, its
  // caches and the allocator warm up), and 1e3 is the base of every ratio:
  // one run at 1e3 first, thrown away.
  std::mt19937_64 warmUp(1);
  benchReactor(1'000, warmUp);

  const std::vector<Costs> ours =
      measure("reactor (4-ary min-heap, lazy cancel)", benchReactor, rng);
  const Costs& million = ours.back();
  const Costs& thousand = ours.front();
  std::printf(
      "  targets at 1e6: insert <= 150 ns (%s), cancel <= 200 ns (%s), "
      "1e6/1e3 <= 3x (insert %s, cancel %s, expire %s)\n",
      million.insert <= 150 ? "met" : "missed", million.cancel <= 200 ? "met" : "missed",
      million.insert <= 3 * thousand.insert ? "met" : "missed",
      million.cancel <= 3 * thousand.cancel ? "met" : "missed",
      million.expire <= 3 * thousand.expire ? "met" : "missed");

  const std::vector<Costs> sets =
      measure("std::set of (deadline, Timer*) pairs, muduo's design, modelled", benchSet, rng);
  printAgainst("reactor/std::set", ours, sets);

#ifdef REACTOR_BENCH_LIBEVENT
  const std::string libevent = std::string("libevent ") + event_get_version() + " (min-heap)";
  const std::vector<Costs> theirs = measure(libevent.c_str(), benchLibevent, rng);
  printAgainst("reactor/libevent", ours, theirs);
#else
  std::printf(
      "libevent: comparison skipped, libevent was not found when this was built "
      "(Debian/Ubuntu: sudo apt-get install libevent-dev, then reconfigure)\n");
#endif
}
