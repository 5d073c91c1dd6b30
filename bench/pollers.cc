// bench_pollers: what one loop iteration costs when N socketpairs are watched
// and only a few of them are active, poll(2) against epoll(7). In the spirit
// of libevent's test/bench.c.
//
// One round: a functor writes one byte into K randomly chosen pairs; the loop
// wakes, each of the K read callbacks drains its byte, and the K-th queues
// the next round. So a round is exactly one wait in the Poller, and the
// time per round is the cost of one iteration with K active descriptors out
// of N watched ones.
//
// Usage: bench_pollers [--svg FILE] [--rounds R] [--active K] [--repeats M] [--same-pairs]
//   --svg FILE    also draw the two curves as an SVG line chart into FILE
//   --rounds R    timed rounds per measurement (default 2000)
//   --active K    active pairs per round (default 10)
//   --repeats M   measurements per (poller, N); the fastest is reported, since
//                 other work on the machine can only add time (default 5)
//   --same-pairs  the same K pairs every round, instead of K drawn at random:
//                 the sockets touched then stay in the CPU caches
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "reactor/Channel.h"
#include "reactor/EventLoop.h"

namespace {

using Clock = std::chrono::steady_clock;

const int kSizes[] = {10, 50, 100, 500, 1000, 2000, 5000};
const char* const kPollers[] = {"poll", "epoll"};
constexpr int kWarmupRounds = 200;

struct Options {
  const char* svgPath = nullptr;
  int rounds = 2000;
  int active = 10;
  int repeats = 5;
  bool samePairs = false;
};

[[noreturn]] void usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--svg FILE] [--rounds R] [--active K] [--repeats M] [--same-pairs]\n",
               program);
  std::exit(2);
}

int positive(const char* program, const char* text) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1 || value > 1000000) usage(program);
  return static_cast<int>(value);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--same-pairs") {
      options.samePairs = true;
      continue;
    }
    if (i + 1 == argc) usage(argv[0]);
    const char* value = argv[++i];
    if (arg == "--svg") {
      options.svgPath = value;
    } else if (arg == "--rounds") {
      options.rounds = positive(argv[0], value);
    } else if (arg == "--active") {
      options.active = positive(argv[0], value);
    } else if (arg == "--repeats") {
      options.repeats = positive(argv[0], value);
    } else {
      usage(argv[0]);
    }
  }
  return options;
}

// Each socketpair is two descriptors: make room for the largest N.
int raiseDescriptorLimit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur > 1000000 ? 1000000 : static_cast<int>(limit.rlim_cur);
}

/// N watched socketpairs in one loop; measures rounds of K active ones.
class Bench {
 public:
  Bench(int pairs, int active, bool samePairs)
      : active_(std::min(active, pairs)),
        samePairs_(samePairs),
        order_(static_cast<std::size_t>(pairs)) {
    std::iota(order_.begin(), order_.end(), 0);
    for (int i = 0; i < pairs; ++i) {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        std::perror("socketpair");
        std::exit(1);
      }
      readEnds_.push_back(fds[0]);
      writeEnds_.push_back(fds[1]);
      channels_.push_back(std::make_unique<reactor::Channel>(&loop_, fds[0]));
      reactor::Channel& channel = *channels_.back();
      const int fd = fds[0];
      channel.setReadCallback([this, fd](reactor::Timestamp) { onRead(fd); });
      channel.enableReading();
    }
  }

  ~Bench() {
    for (auto& channel : channels_) {
      channel->disableAll();
      channel->remove();
    }
    for (int fd : readEnds_) ::close(fd);
    for (int fd : writeEnds_) ::close(fd);
  }

  const char* pollerName() const { return loop_.pollerName(); }

  /// Microseconds per round, over `rounds` rounds after a warm-up.
  double measure(int rounds) {
    roundsLeft_ = kWarmupRounds;
    loop_.queueInLoop([this] { startRound(); });
    loop_.loop();

    roundsLeft_ = rounds;
    const Clock::time_point start = Clock::now();
    loop_.queueInLoop([this] { startRound(); });
    loop_.loop();
    const std::chrono::duration<double, std::micro> elapsed = Clock::now() - start;
    return elapsed.count() / rounds;
  }

 private:
  // [round]
  void startRound() {
    // K distinct pairs: the first K places of a partial Fisher-Yates shuffle.
    for (int i = 0; i < active_; ++i) {
      if (!samePairs_) {
        std::uniform_int_distribution<std::size_t> pick(i, order_.size() - 1);
        std::swap(order_[i], order_[pick(random_)]);
      }
      const char byte = 'x';
      if (::write(writeEnds_[order_[i]], &byte, 1) != 1) std::perror("write");
    }
    pending_ = active_;
  }

  void onRead(int fd) {
    char byte;
    if (::read(fd, &byte, 1) != 1) std::perror("read");
    if (--pending_ > 0) return;
    // The round's last callback: the next round starts after this iteration,
    // so that every round costs exactly one wait in the Poller.
    if (--roundsLeft_ > 0) {
      loop_.queueInLoop([this] { startRound(); });
    } else {
      loop_.quit();
    }
  }
  // [round]

  reactor::EventLoop loop_;
  const int active_;
  const bool samePairs_;
  std::vector<int> order_;
  std::vector<int> readEnds_;
  std::vector<int> writeEnds_;
  std::vector<std::unique_ptr<reactor::Channel>> channels_;
  std::mt19937 random_{42};
  int pending_ = 0;
  int roundsLeft_ = 0;
};

/// The smallest "round" number (1, 2 or 5 times a power of ten) >= value.
double niceCeiling(double value) {
  const double power = std::pow(10.0, std::floor(std::log10(value)));
  for (double step : {1.0, 2.0, 5.0, 10.0}) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

struct Series {
  const char* name;
  const char* color;
  std::vector<double> micros;  // one per kSizes entry measured
};

// [svg]
void writeSvg(const char* path, const std::vector<int>& sizes, const std::vector<Series>& series,
              int active) {
  const double width = 640, height = 400;
  const double left = 70, right = 20, top = 40, bottom = 60;
  const double plotW = width - left - right, plotH = height - top - bottom;
  double yMax = 0;
  for (const Series& s : series) {
    for (double v : s.micros) yMax = std::max(yMax, v);
  }
  yMax = niceCeiling(yMax);
  const double xMax = niceCeiling(sizes.back());
  auto x = [&](double n) { return left + plotW * n / xMax; };
  auto y = [&](double us) { return top + plotH * (1 - us / yMax); };

  std::ofstream out(path);
  char buf[512];
  auto emit = [&](const char* format, auto... args) {
    std::snprintf(buf, sizeof buf, format, args...);
    out << buf;
  };
  emit(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      width, height);
  emit("<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", width, height);
  emit(
      "<text x=\"%.0f\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">One loop iteration, "
      "%d active socketpairs out of N</text>\n",
      width / 2, active);
  for (int i = 0; i <= 5; ++i) {  // grid and tick labels
    const double us = yMax * i / 5, n = xMax * i / 5;
    emit("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, y(us),
         left + plotW, y(us));
    emit("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", left - 6, y(us) + 4, us);
    emit("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x(n), top,
         x(n), top + plotH);
    emit("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x(n), top + plotH + 18,
         n);
  }
  emit(
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
      "stroke=\"black\"/>\n",
      left, top, plotW, plotH);
  emit("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">N, watched socketpairs</text>\n",
       left + plotW / 2, height - 18);
  emit(
      "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">"
      "microseconds per iteration</text>\n",
      top + plotH / 2);
  for (std::size_t s = 0; s < series.size(); ++s) {
    const Series& line = series[s];
    out << "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" << line.color << "\" points=\"";
    for (std::size_t i = 0; i < line.micros.size(); ++i) {
      emit("%.1f,%.1f ", x(sizes[i]), y(line.micros[i]));
    }
    out << "\"/>\n";
    for (std::size_t i = 0; i < line.micros.size(); ++i) {
      emit("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x(sizes[i]),
           y(line.micros[i]), line.color);
    }
    const double legendY = top + 20 + 20 * static_cast<double>(s);
    emit(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
        "stroke-width=\"2\"/>\n",
        left + 20, legendY, left + 45, legendY, line.color);
    emit("<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", left + 52, legendY + 4, line.name);
  }
  out << "</svg>\n";
  if (!out) std::fprintf(stderr, "bench_pollers: could not write %s\n", path);
}
// [svg]

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const int fdLimit = raiseDescriptorLimit();

  utsname machine{};
  ::uname(&machine);
  std::printf("bench_pollers: one loop iteration, %d active socketpairs out of N (%s)\n",
              options.active, options.samePairs ? "the same every round" : "drawn at random");
  std::printf("%d rounds per measurement, fastest of %d; %u CPUs, %s %s\n\n", options.rounds,
              options.repeats, std::thread::hardware_concurrency(), machine.sysname,
              machine.release);
  std::printf("%8s %12s %12s\n", "N", "poll us", "epoll us");

  std::vector<int> sizes;
  std::vector<Series> series = {{"poll(2)", "#d62728", {}}, {"epoll(7)", "#1f77b4", {}}};
  for (int pairs : kSizes) {
    if (2 * pairs + 16 > fdLimit) {
      std::printf("%8d  skipped: needs %d descriptors, the limit is %d\n", pairs, 2 * pairs + 16,
                  fdLimit);
      continue;
    }
    sizes.push_back(pairs);
    for (std::size_t p = 0; p < 2; ++p) {
      ::setenv("REACTOR_POLLER", kPollers[p], 1);  // read by the EventLoop constructor
      Bench bench(pairs, options.active, options.samePairs);
      if (std::strcmp(bench.pollerName(), kPollers[p]) != 0) {
        std::fprintf(stderr, "bench_pollers: asked for %s, got %s\n", kPollers[p],
                     bench.pollerName());
        return 1;
      }
      std::vector<double> runs;
      for (int r = 0; r < options.repeats; ++r) runs.push_back(bench.measure(options.rounds));
      series[p].micros.push_back(*std::min_element(runs.begin(), runs.end()));
    }
    std::printf("%8d %12.2f %12.2f\n", pairs, series[0].micros.back(), series[1].micros.back());
    std::fflush(stdout);
  }
  if (options.svgPath != nullptr && !sizes.empty()) {
    writeSvg(options.svgPath, sizes, series, options.active);
    std::printf("\nplot: %s\n", options.svgPath);
  }
}
