// bench_timers: what one timer operation costs, and the longest single call,
// with a thousand and with a million timers waiting, for our three designs
// and three libraries side by side in one run. Build it optimised and run it:
//
//   cmake --preset release && cmake --build --preset release --target bench_timers
//   ./build/release/bench/bench_timers [runs [design...]]
//
// runs defaults to 5; the designs are indexed, lazy, std::set, libevent,
// libuv and asio, all by default.
//
// The designs, each driven through the same calls (see the adapters below):
//   indexed   the lesson's reactor::TimerQueue (s01_timers): a binary heap in
//             which each timer knows its position; cancel takes it out at once;
//   lazy      timer_designs/LazyTimerQueue: a 4-ary heap whose cancel marks the
//             timer and drops every cancelled entry in one pass once they may
//             be half the heap;
//   std::set  timer_designs/SetTimerQueue: a model of muduo's two std::sets;
//   libevent  its min-heap of events, when libevent was found at build time
//             (REACTOR_BENCH_LIBEVENT);
//   libuv     its min-heap of timer handles, linked by pointers, when libuv
//             was found (REACTOR_BENCH_LIBUV, from bench/peers/);
//   asio      standalone Asio's timer queue, a binary heap in a vector whose
//             timers know their position, when asio.hpp was found
//             (REACTOR_BENCH_ASIO, from bench/peers/).
// For our three designs a timer is added as EventLoop::runAfter() adds one in
// the loop thread (make_shared, a weak handle, the deadline from Clock::now())
// and cancelled as EventLoop::cancel() does (lock the handle, cancel); one loop
// iteration is pollTimeoutMs() and runExpired(), the loop's timer work. For
// libevent: event_new() + event_add(), event_del() + event_free(), and one
// event_base_loop(EVLOOP_NONBLOCK), which also calls epoll_wait(2) once.
// For libuv: a uv_timer_t allocated, uv_timer_init() and uv_timer_start();
// uv_timer_stop() and uv_close(), whose callback frees the handle; one
// uv_run(UV_RUN_NOWAIT). For Asio: a steady_timer allocated, its async_wait();
// cancel() and delete; one io_context::poll(). Both libraries finish a cancel
// only in the loop (libuv runs the close callback, Asio the handler, with
// operation_aborted), so each batch of cancels below is timed together with
// one loop iteration that finishes them (finishCancels(); nothing to do for
// the others).
//
// With N timers waiting (random deadlines one to two hours away):
//   insert, cancel  the mean over batches of K = batchSize(N) calls, each batch
//                   timed as a whole, the cancels on random live timers;
//                   enough batches to cancel more than N timers, so that the
//                   lazy design's drop passes are in its mean;
//   expire          K timers whose deadlines passed are added, then one loop
//                   iteration that runs them all is timed; the median
//                   iteration with none due is subtracted; divided by K;
//   worst add       the longest single add while the N timers were added one
//                   by one, when a heap's vector grows;
//   worst cancel,   N + 1 loop iterations, each running one due timer whose
//   worst iteration callback cancels a random live timer and adds one (an idle
//                   timeout being refreshed): the longest single cancel, and
//                   the longest iteration. N + 1 cancels are sure to include
//                   one of the lazy design's drop passes.
// Every figure is CPU time of this thread (see threadCpuNanos()).
// The designs take turns, in a different order in each run, and every figure
// printed is the median over the runs, so that a burst of load from the rest
// of the machine moves one run, not the result.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "reactor/TimerQueue.h"
#include "timer_designs/LazyTimerQueue.h"
#include "timer_designs/SetTimerQueue.h"

#ifdef REACTOR_BENCH_LIBEVENT
#include <event2/event.h>
#endif
#ifdef REACTOR_BENCH_LIBUV
#include <uv.h>
#endif
#ifdef REACTOR_BENCH_ASIO
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/version.hpp>
#endif

namespace {

using reactor::Clock;
using reactor::Duration;
using reactor::Timestamp;

constexpr std::size_t kSizes[] = {1'000, 1'000'000};
constexpr int kDefaultRuns = 5;

std::size_t batchSize(std::size_t n) { return std::clamp<std::size_t>(n / 10, 100, 10'000); }
// Batches enough to cancel more than max(N, 300,000) timers.
int batchRounds(std::size_t n) {
  return static_cast<int>(std::max<std::size_t>(n, 300'000) / batchSize(n) + 1);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (double value : values) sum += value;
  return sum / static_cast<double>(values.size());
}

// Every figure is in CPU time of this thread, which leaves out the time it
// spent preempted: on a busy machine, wall-clock time would measure the other
// processes as much as the timers. Reading this clock is a system call; its
// own cost, measured once, is taken off each figure.
double threadCpuNanos() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double clockCost() {
  static const double cost = [] {
    std::vector<double> pairs;
    for (int i = 0; i < 1001; ++i) {
      const double start = threadCpuNanos();
      pairs.push_back(threadCpuNanos() - start);
    }
    return median(pairs);
  }();
  return cost;
}

// The CPU time `call` takes, in nanoseconds.
template <typename Call>
double cpuTimeOf(Call&& call) {
  const double start = threadCpuNanos();
  call();
  return threadCpuNanos() - start - clockCost();
}

// Runs `call` and keeps in `worst` the longest it ever took.
template <typename Call>
void timeWorst(double& worst, Call&& call) {
  worst = std::max(worst, cpuTimeOf(call));
}

// A delay of one to two hours, at a random microsecond.
Duration farDelay(std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> us(3'600'000'000, 7'200'000'000);
  return std::chrono::microseconds(us(rng));
}

// How long ago a due timer's deadline passed: up to a millisecond.
Duration pastDelay(std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> ns(1'000, 1'000'000);
  return std::chrono::nanoseconds(ns(rng));
}

// Takes a random element out of `live` (order not kept).
template <typename T>
T takeRandom(std::vector<T>& live, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> pick(0, live.size() - 1);
  const std::size_t j = pick(rng);
  T taken = std::move(live[j]);
  live[j] = std::move(live.back());
  live.pop_back();
  return taken;
}

// ------------------------------------------------------------------ designs
// Each adapter offers: Handle addWaiting(delay), a timer that would count when
// it fires; cancel(handle); addDue(rng), a timer already due that counts;
// addDueStep(step), one already due that calls step(); finishCancels(), what
// the cancels since the last iteration leave for the loop to do; iterate(),
// one loop iteration's timer work; fired(), how many counting timers ran.

using Step = std::function<void()>;

// The two heaps of this course, which share Timer-like state and interface.
template <typename Queue, typename TimerState>
class HeapDesign {
 public:
  using Handle = std::weak_ptr<TimerState>;

  Handle addWaiting(Duration delay) { return add(Clock::now() + delay, counting()); }
  void addDue(std::mt19937_64& rng) { add(Clock::now() - pastDelay(rng), counting()); }
  void addDueStep(Step& step) {
    add(Clock::now(), [&step] { step(); });
  }
  void cancel(const Handle& handle) {
    if (std::shared_ptr<TimerState> timer = handle.lock()) queue_.cancel(*timer);
  }
  void finishCancels() {}
  void iterate() {
    const Timestamp now = Clock::now();
    queue_.pollTimeoutMs(now);
    queue_.runExpired(now);
  }
  std::uint64_t fired() const { return fired_; }

 private:
  std::function<void()> counting() {
    return [counter = &fired_] { ++*counter; };
  }
  Handle add(Timestamp when, std::function<void()> callback) {
    auto timer = std::make_shared<TimerState>();
    timer->callback = std::move(callback);
    Handle handle = timer;
    queue_.add(std::move(timer), when);
    return handle;
  }

  Queue queue_;
  std::uint64_t fired_ = 0;
};

using IndexedDesign = HeapDesign<reactor::TimerQueue, reactor::Timer>;
using LazyDesign = HeapDesign<timer_designs::LazyTimerQueue, timer_designs::LazyTimer>;

class SetDesign {
 public:
  using Handle = timer_designs::SetTimerQueue::Id;

  Handle addWaiting(Duration delay) { return queue_.add(Clock::now() + delay, counting()); }
  void addDue(std::mt19937_64& rng) { queue_.add(Clock::now() - pastDelay(rng), counting()); }
  void addDueStep(Step& step) {
    queue_.add(Clock::now(), [&step] { step(); });
  }
  void cancel(Handle handle) { queue_.cancel(handle); }
  void finishCancels() {}
  void iterate() { queue_.runExpired(Clock::now()); }
  std::uint64_t fired() const { return fired_; }

 private:
  std::function<void()> counting() {
    return [counter = &fired_] { ++*counter; };
  }

  timer_designs::SetTimerQueue queue_;
  std::uint64_t fired_ = 0;
};

#ifdef REACTOR_BENCH_LIBEVENT

// event_add() takes a delay, not a deadline, and no negative one: a due event
// gets a delay of zero, so its deadline is libevent's clock at event_add(),
// which the next loop's reading of that clock can only equal or pass.
class LibeventDesign {
 public:
  using Handle = event*;

  LibeventDesign() : base_(event_base_new()) {}
  LibeventDesign(const LibeventDesign&) = delete;
  LibeventDesign& operator=(const LibeventDesign&) = delete;
  // Waiting events are freed by the caller's cancel() of its handles; due
  // ones free themselves when they run.
  ~LibeventDesign() { event_base_free(base_); }

  Handle addWaiting(Duration delay) {
    event* ev = event_new(base_, -1, 0, countAndKeep, &fired_);
    const timeval tv = toTimeval(delay);
    event_add(ev, &tv);
    return ev;
  }
  void addDue(std::mt19937_64&) { addZeroDelay(countAndFree); }
  void addDueStep(Step& step) {
    step_ = &step;
    addZeroDelay(runStepAndFree);
  }
  void cancel(Handle ev) {
    event_del(ev);
    event_free(ev);
  }
  void finishCancels() {}
  void iterate() { event_base_loop(base_, EVLOOP_NONBLOCK); }
  std::uint64_t fired() const { return fired_ + dueFired_; }

 private:
  static timeval toTimeval(Duration delay) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(delay).count();
    return timeval{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
  }
  // A due event frees itself when it runs, as the heaps free their Timer; its
  // argument is then the event itself, so what it needs is kept in statics.
  void addZeroDelay(event_callback_fn callback) {
    const timeval zero{0, 0};
    event_add(event_new(base_, -1, 0, callback, event_self_cbarg()), &zero);
  }
  static void countAndKeep(evutil_socket_t, short, void* counter) {
    ++*static_cast<std::uint64_t*>(counter);
  }
  static void countAndFree(evutil_socket_t, short, void* self) {
    ++dueFired_;
    event_free(static_cast<event*>(self));
  }
  static void runStepAndFree(evutil_socket_t, short, void* self) {
    (*step_)();
    event_free(static_cast<event*>(self));
  }

  static inline std::uint64_t dueFired_ = 0;
  static inline Step* step_ = nullptr;
  event_base* base_;
  std::uint64_t fired_ = 0;
};

#endif  // REACTOR_BENCH_LIBEVENT

#ifdef REACTOR_BENCH_LIBUV

// uv_timer_start() takes a delay in milliseconds from the loop's cached
// clock, and no negative one: a due timer gets 0, like libevent's. A handle
// is freed only by the close callback, which uv_run() calls.
class LibuvDesign {
 public:
  using Handle = uv_timer_t*;

  LibuvDesign() { uv_loop_init(&loop_); }
  LibuvDesign(const LibuvDesign&) = delete;
  LibuvDesign& operator=(const LibuvDesign&) = delete;
  // Every waiting timer has been cancelled by now: this runs the last close
  // callbacks and returns.
  ~LibuvDesign() {
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  Handle addWaiting(Duration delay) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
    return start(countAndKeep, static_cast<std::uint64_t>(ms));
  }
  void addDue(std::mt19937_64&) { start(countAndClose, 0); }
  void addDueStep(Step& step) {
    step_ = &step;
    start(runStepAndClose, 0);
  }
  void cancel(Handle timer) {
    uv_timer_stop(timer);
    uv_close(reinterpret_cast<uv_handle_t*>(timer), freeTimer);
  }
  void finishCancels() { iterate(); }
  void iterate() { uv_run(&loop_, UV_RUN_NOWAIT); }
  std::uint64_t fired() const { return fired_; }

 private:
  Handle start(uv_timer_cb callback, std::uint64_t ms) {
    auto* timer = new uv_timer_t;
    uv_timer_init(&loop_, timer);
    timer->data = this;
    uv_timer_start(timer, callback, ms, 0);
    return timer;
  }
  static LibuvDesign& self(uv_timer_t* timer) { return *static_cast<LibuvDesign*>(timer->data); }
  static void freeTimer(uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); }
  static void countAndKeep(uv_timer_t* timer) { ++self(timer).fired_; }
  static void countAndClose(uv_timer_t* timer) {
    ++self(timer).fired_;
    uv_close(reinterpret_cast<uv_handle_t*>(timer), freeTimer);
  }
  static void runStepAndClose(uv_timer_t* timer) {
    (*self(timer).step_)();
    uv_close(reinterpret_cast<uv_handle_t*>(timer), freeTimer);
  }

  uv_loop_t loop_;
  Step* step_ = nullptr;
  std::uint64_t fired_ = 0;
};

#endif  // REACTOR_BENCH_LIBUV

#ifdef REACTOR_BENCH_ASIO

// A timer's handler runs once whatever happens to the timer: when it expires,
// or with operation_aborted when it is cancelled, in the next poll(). The
// work guard keeps poll() working while no timer waits.
class AsioDesign {
 public:
  using Handle = asio::steady_timer*;  // owns its timer, as libevent's event* does

  Handle addWaiting(Duration delay) {
    auto* timer = new asio::steady_timer(io_, delay);
    timer->async_wait([this](std::error_code ec) {
      if (!ec) ++fired_;
    });
    return timer;
  }
  void addDue(std::mt19937_64& rng) {
    addDueAt(Clock::now() - pastDelay(rng), [this] { ++fired_; });
  }
  void addDueStep(Step& step) {
    addDueAt(Clock::now(), [&step] { step(); });
  }
  void cancel(Handle timer) {
    timer->cancel();
    delete timer;
  }
  void finishCancels() { iterate(); }
  void iterate() { io_.poll(); }
  std::uint64_t fired() const { return fired_; }

 private:
  // The handler owns a due timer and frees it when it runs.
  template <typename Callback>
  void addDueAt(Timestamp when, Callback callback) {
    auto timer = std::make_unique<asio::steady_timer>(io_, when);
    asio::steady_timer& waiting = *timer;
    waiting.async_wait([timer = std::move(timer), callback](std::error_code ec) {
      if (!ec) callback();
    });
  }

  std::uint64_t fired_ = 0;
  asio::io_context io_{1};  // the hint: one thread runs it
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
};

#endif  // REACTOR_BENCH_ASIO

// ------------------------------------------------------------------ driver

struct Result {
  double insert = 0, cancel = 0, expire = 0;                 // ns per call, mean
  double worstAdd = 0, worstCancel = 0, worstIteration = 0;  // ns, one call
};

template <typename Design>
Result measure(std::size_t n, std::mt19937_64& rng) {
  Result result;
  Design design;
  const std::size_t k = batchSize(n);
  std::vector<typename Design::Handle> live;
  live.reserve(n + k);

  // The N waiting timers, added one by one, each timed.
  for (std::size_t i = 0; i < n; ++i) {
    const Duration delay = farDelay(rng);
    timeWorst(result.worstAdd, [&] { live.push_back(design.addWaiting(delay)); });
  }

  // Insert and cancel, in batches timed as a whole.
  std::vector<double> inserts, cancels;
  std::vector<Duration> delays(k);
  std::vector<typename Design::Handle> victims(k);
  for (int round = 0; round < batchRounds(n); ++round) {
    for (Duration& delay : delays) delay = farDelay(rng);
    const double inserting = cpuTimeOf([&] {
      for (Duration delay : delays) live.push_back(design.addWaiting(delay));
    });
    inserts.push_back(inserting / static_cast<double>(k));

    for (auto& victim : victims) victim = takeRandom(live, rng);
    const double cancelling = cpuTimeOf([&] {
      for (const auto& victim : victims) design.cancel(victim);
      design.finishCancels();
    });
    cancels.push_back(cancelling / static_cast<double>(k));
  }
  result.insert = mean(inserts);
  result.cancel = mean(cancels);

  // [churn]
  // N + 1 iterations, each running one timer that cancels one and adds one.
  Step step = [&] {
    auto victim = takeRandom(live, rng);
    const Duration delay = farDelay(rng);
    timeWorst(result.worstCancel, [&] { design.cancel(victim); });
    live.push_back(design.addWaiting(delay));
  };
  for (std::size_t i = 0; i <= n; ++i) {
    design.addDueStep(step);
    timeWorst(result.worstIteration, [&] { design.iterate(); });
  }
  // [churn]

  // Expire: K due timers run by one iteration, less an iteration with none.
  std::vector<double> runs, emptyRuns;
  const std::uint64_t firedBefore = design.fired();
  for (int round = 0; round < batchRounds(n); ++round) {
    emptyRuns.push_back(cpuTimeOf([&] { design.iterate(); }));
    for (std::size_t i = 0; i < k; ++i) design.addDue(rng);
    runs.push_back(cpuTimeOf([&] { design.iterate(); }));
  }
  result.expire = (mean(runs) - median(emptyRuns)) / static_cast<double>(k);
  const std::uint64_t expected = static_cast<std::uint64_t>(batchRounds(n)) * k;
  if (design.fired() - firedBefore != expected) {
    std::fprintf(stderr, "bench_timers: %zu timers: %llu of %llu due timers ran; expire is wrong\n",
                 n, static_cast<unsigned long long>(design.fired() - firedBefore),
                 static_cast<unsigned long long>(expected));
  }

  for (const auto& handle : live) design.cancel(handle);
  design.finishCancels();
  return result;
}

struct DesignRow {
  const char* name;
  Result (*measure)(std::size_t, std::mt19937_64&);
  std::vector<std::vector<Result>> runs;  // [size][run]
};

// The median over the runs of one field of the result.
double medianOf(const std::vector<Result>& runs, double Result::*field) {
  std::vector<double> values;
  for (const Result& run : runs) values.push_back(run.*field);
  return median(values);
}

// (max - min) / median over the runs, in percent: how noisy the field was.
double spreadOf(const std::vector<Result>& runs, double Result::*field) {
  std::vector<double> values;
  for (const Result& run : runs) values.push_back(run.*field);
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return 100 * (*hi - *lo) / median(values);
}

const char* sizeLabel(std::size_t n) { return n == 1'000 ? "1e3" : "1e6"; }

void printTable(const std::vector<DesignRow>& designs) {
  std::printf("\n%-9s %-4s %8s %8s %8s | %11s %11s %11s\n", "design", "N", "insert", "cancel",
              "expire", "worst add", "worst cancel", "worst iter");
  std::printf("%-9s %-4s %8s %8s %8s | %11s %11s %11s\n", "", "", "ns", "ns", "ns", "us", "us",
              "us");
  for (std::size_t s = 0; s < std::size(kSizes); ++s) {
    for (const DesignRow& d : designs) {
      const std::vector<Result>& runs = d.runs[s];
      std::printf("%-9s %-4s %8.0f %8.0f %8.0f | %11.1f %11.1f %11.1f\n", d.name,
                  sizeLabel(kSizes[s]), medianOf(runs, &Result::insert),
                  medianOf(runs, &Result::cancel), medianOf(runs, &Result::expire),
                  medianOf(runs, &Result::worstAdd) / 1000,
                  medianOf(runs, &Result::worstCancel) / 1000,
                  medianOf(runs, &Result::worstIteration) / 1000);
    }
  }
}

void printNoise(const std::vector<DesignRow>& designs) {
  std::printf("\nnoise: (max - min) / median over the runs, in percent\n");
  std::printf("%-9s %-4s %8s %8s %8s | %11s %11s %11s\n", "design", "N", "insert", "cancel",
              "expire", "worst add", "worst cancel", "worst iter");
  for (std::size_t s = 0; s < std::size(kSizes); ++s) {
    for (const DesignRow& d : designs) {
      const std::vector<Result>& runs = d.runs[s];
      std::printf("%-9s %-4s %7.0f%% %7.0f%% %7.0f%% | %10.0f%% %10.0f%% %10.0f%%\n", d.name,
                  sizeLabel(kSizes[s]), spreadOf(runs, &Result::insert),
                  spreadOf(runs, &Result::cancel), spreadOf(runs, &Result::expire),
                  spreadOf(runs, &Result::worstAdd), spreadOf(runs, &Result::worstCancel),
                  spreadOf(runs, &Result::worstIteration));
    }
  }
}

const DesignRow* find(const std::vector<DesignRow>& designs, const std::string& name) {
  for (const DesignRow& d : designs)
    if (name == d.name) return &d;
  return nullptr;
}

// The lesson's heap against each library at a million timers, and its
// targets against libevent: no dearer, and no cancel over a millisecond.
void printRatios(const std::vector<DesignRow>& designs) {
  const DesignRow* ours = find(designs, "indexed");
  if (ours == nullptr) return;
  const std::vector<Result>& a = ours->runs.back();
  auto verdict = [](bool met) { return met ? "met" : "MISSED"; };
  for (const char* library : {"libevent", "libuv", "asio"}) {
    const DesignRow* peer = find(designs, library);
    if (peer == nullptr) continue;
    const std::vector<Result>& b = peer->runs.back();
    auto ratio = [&](double Result::*field) { return medianOf(a, field) / medianOf(b, field); };
    const double insert = ratio(&Result::insert);
    const double cancel = ratio(&Result::cancel);
    const double expire = ratio(&Result::expire);
    if (std::string(library) == "libevent") {
      std::printf(
          "\nindexed/libevent at 1e6: insert %.2fx (%s), cancel %.2fx (%s), expire %.2fx (%s)",
          insert, verdict(insert <= 1.0), cancel, verdict(cancel <= 1.0), expire,
          verdict(expire <= 1.0));
    } else {
      std::printf("\nindexed/%s at 1e6: insert %.2fx, cancel %.2fx, expire %.2fx", library, insert,
                  cancel, expire);
    }
  }
  const double worstCancelMs = medianOf(a, &Result::worstCancel) / 1e6;
  std::printf("\nindexed worst cancel at 1e6: %.3f ms (<= 1 ms: %s)\n", worstCancelMs,
              verdict(worstCancelMs <= 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : kDefaultRuns;
  std::vector<DesignRow> designs = {
      {"indexed", measure<IndexedDesign>, {}},   {"lazy", measure<LazyDesign>, {}},
      {"std::set", measure<SetDesign>, {}},
#ifdef REACTOR_BENCH_LIBEVENT
      {"libevent", measure<LibeventDesign>, {}},
#endif
#ifdef REACTOR_BENCH_LIBUV
      {"libuv", measure<LibuvDesign>, {}},
#endif
#ifdef REACTOR_BENCH_ASIO
      {"asio", measure<AsioDesign>, {}},
#endif
  };
  // Further arguments name the designs to run, all by default.
  if (argc > 2) {
    const std::vector<std::string> wanted(argv + 2, argv + argc);
    designs.erase(std::remove_if(designs.begin(), designs.end(),
                                 [&](const DesignRow& d) {
                                   return std::find(wanted.begin(), wanted.end(), d.name) ==
                                          wanted.end();
                                 }),
                  designs.end());
  }
  for (DesignRow& d : designs) d.runs.resize(std::size(kSizes));

  std::printf("bench_timers: %d runs, designs interleaved; %u hardware threads\n", runs,
              std::thread::hardware_concurrency());
#ifdef REACTOR_BENCH_LIBEVENT
  event_base* base = event_base_new();
  std::printf("libevent %s, backend %s\n", event_get_version(), event_base_get_method(base));
  event_base_free(base);
#else
  std::printf(
      "libevent: skipped, not found when this was built (Debian/Ubuntu: sudo apt-get install "
      "libevent-dev, then reconfigure)\n");
#endif
#ifdef REACTOR_BENCH_LIBUV
  std::printf("libuv %s\n", uv_version_string());
#else
  std::printf(
      "libuv: skipped, not found when this was built (Debian/Ubuntu: sudo apt-get install "
      "libuv1-dev, then reconfigure)\n");
#endif
#ifdef REACTOR_BENCH_ASIO
  std::printf("asio %d.%d.%d (standalone)\n", ASIO_VERSION / 100000, ASIO_VERSION / 100 % 1000,
              ASIO_VERSION % 100);
#else
  std::printf(
      "asio: skipped, not found when this was built (Debian/Ubuntu: sudo apt-get install "
      "libasio-dev, then reconfigure)\n");
#endif

  // The first measurement of a process tends to be slow (the core, its
  // caches and the allocator warm up): one of each design first, thrown away.
  std::mt19937_64 warmUp(1);
  for (DesignRow& d : designs) d.measure(1'000, warmUp);

  std::mt19937_64 rng(20240601);
  for (int run = 0; run < runs; ++run) {
    for (std::size_t s = 0; s < std::size(kSizes); ++s) {
      for (std::size_t i = 0; i < designs.size(); ++i) {
        DesignRow& d = designs[(i + static_cast<std::size_t>(run)) % designs.size()];
        d.runs[s].push_back(d.measure(kSizes[s], rng));
      }
    }
    std::fprintf(stderr, "run %d of %d done\n", run + 1, runs);
  }

  printTable(designs);
  std::printf(
      "\nworst add: the longest single add while the N timers were added. In every heap it is\n"
      "the growth of the heap's array: a growing vector's reallocation moves the whole heap\n"
      "into a buffer twice the size (indexed, lazy); libevent realloc()s an array of 8-byte\n"
      "pointers. libuv links its heap's nodes by pointers, with nothing to grow. std::set\n"
      "allocates one node per timer instead.\n"
      "worst iter: one loop iteration running one timer that cancels one and adds one;\n"
      "libevent's, libuv's and Asio's include their loop's epoll_wait(2) call, and Asio's\n"
      "the timerfd_settime(2) calls that re-arm the timerfd its epoll waits on.\n"
      "cancel: libuv's and Asio's include one loop iteration per batch, which frees the\n"
      "cancelled handles (libuv) or runs their handlers with operation_aborted (Asio).\n");
  printNoise(designs);
  printRatios(designs);
}
