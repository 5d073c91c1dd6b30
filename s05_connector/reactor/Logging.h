// Logging: one line on stderr per event worth telling, with the time, the
// thread and the level: "20261127 13:45:01.123456 4242 INFO  message".
// The level below which lines are dropped comes from the environment variable
// REACTOR_LOG_LEVEL (trace, debug, info, warn, error; info when unset), read
// by every EventLoop constructor, which throws on any other value. At trace
// the loop tells each step of each iteration, so a learner can watch the
// reactor work.
//
// There is no fatal level: a programmer's error goes to reactor::fatal().
//
// Thread rules: any thread. A line is written with one call, so lines of
// different threads never mix.
#pragma once

namespace reactor {

/// How much a line matters; lines below the chosen level are dropped.
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

/// The lowest level printed; info until setLogLevel() changes it.
LogLevel logLevel();

/// Chooses the lowest level printed. Any thread.
void setLogLevel(LogLevel level);

/// The level that REACTOR_LOG_LEVEL names, info when it is unset or empty.
/// Throws std::invalid_argument naming the accepted values for anything else.
LogLevel logLevelFromEnvironment();

/// Writes one line: time, thread id, level and the printf-style message.
/// Use the LOG_ macros, which skip the formatting of a dropped line.
void logLine(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace reactor

// The level test comes first, so the arguments of a dropped line are never
// even evaluated: a trace line in the loop costs one comparison.
#define REACTOR_LOG(level, ...)                                                   \
  do {                                                                            \
    if (::reactor::logLevel() <= (level)) ::reactor::logLine(level, __VA_ARGS__); \
  } while (false)

#define LOG_TRACE(...) REACTOR_LOG(::reactor::LogLevel::kTrace, __VA_ARGS__)
#define LOG_DEBUG(...) REACTOR_LOG(::reactor::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) REACTOR_LOG(::reactor::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARN(...) REACTOR_LOG(::reactor::LogLevel::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) REACTOR_LOG(::reactor::LogLevel::kError, __VA_ARGS__)
