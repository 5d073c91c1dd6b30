// Timestamp and Duration: points and spans of the monotonic clock, which a
// change of the wall-clock time never moves (muduo issue #168). Plain values,
// safe in any thread.
#pragma once

#include <chrono>

namespace reactor {

/// The clock of every deadline: monotonic, nanosecond ticks.
using Clock = std::chrono::steady_clock;
/// A point in time on Clock.
using Timestamp = Clock::time_point;
/// A span of time on Clock.
using Duration = Clock::duration;

// [saturate]
/// Converts a delay in seconds to a Duration. NaN and delays of zero or less
/// give zero; delays too long to represent give Duration::max().
inline Duration secondsToDuration(double seconds) {
  if (!(seconds > 0)) return Duration::zero();  // also catches NaN
  const double ticks = seconds * Duration::period::den / Duration::period::num;
  // Compared as a double before the cast: casting a double that does not fit
  // is undefined behaviour.
  if (ticks >= static_cast<double>(Duration::max().count())) return Duration::max();
  return Duration(static_cast<Duration::rep>(ticks));
}

/// `when + delay`, where a negative delay counts as zero and a sum past the
/// end of time stays at Timestamp::max(), a deadline that never comes.
inline Timestamp addSaturating(Timestamp when, Duration delay) {
  if (delay <= Duration::zero()) return when;
  if (delay > Timestamp::max() - when) return Timestamp::max();
  return when + delay;
}
// [saturate]

}  // namespace reactor
