#include "reactor/Logging.h"

#include <sys/time.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>

#include "reactor/CurrentThread.h"

namespace reactor {

namespace {

constexpr const char* kLevelNames[] = {"trace", "debug", "info", "warn", "error"};
constexpr const char* kLevelTags[] = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR"};

// Read on every log line in every thread, so an atomic; nothing else
// depends on its value, so relaxed order is enough.
std::atomic<LogLevel> g_logLevel{LogLevel::kInfo};

// "20261127 13:45:01.123456", in UTC.
void formatTime(char* out, std::size_t size) {
  timeval now;
  ::gettimeofday(&now, nullptr);
  tm utc;
  ::gmtime_r(&now.tv_sec, &utc);
  char seconds[32];
  std::strftime(seconds, sizeof seconds, "%Y%m%d %H:%M:%S", &utc);
  std::snprintf(out, size, "%s.%06ld", seconds, static_cast<long>(now.tv_usec));
}

}  // namespace

LogLevel logLevel() { return g_logLevel.load(std::memory_order_relaxed); }

void setLogLevel(LogLevel level) { g_logLevel.store(level, std::memory_order_relaxed); }

// [logLevelFromEnvironment]
LogLevel logLevelFromEnvironment() {
  const char* choice = std::getenv("REACTOR_LOG_LEVEL");
  if (choice == nullptr || *choice == '\0') return LogLevel::kInfo;
  for (int level = 0; level <= static_cast<int>(LogLevel::kError); ++level) {
    if (std::strcmp(choice, kLevelNames[level]) == 0) return static_cast<LogLevel>(level);
  }
  throw std::invalid_argument("REACTOR_LOG_LEVEL=\"" + std::string(choice) +
                              "\" names no level: use \"trace\", \"debug\", \"info\", \"warn\" "
                              "or \"error\" (unset or empty means info)");
}
// [logLevelFromEnvironment]

// [logLine]
void logLine(LogLevel level, const char* format, ...) {
  char time[48];
  formatTime(time, sizeof time);
  char message[1024];
  std::va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  // One fprintf per line: stdio locks the stream for the call, so lines of
  // different threads never interleave.
  std::fprintf(stderr, "%s %d %s %s\n", time, currentThreadId(),
               kLevelTags[static_cast<int>(level)], message);
}
// [logLine]

}  // namespace reactor
