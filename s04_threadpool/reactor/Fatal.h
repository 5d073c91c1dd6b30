// fatal(): how the library stops on a programmer's error.
//
// Calling a loop-owned function from the wrong thread, a second loop in one
// thread, destroying a channel that is still registered: these are bugs in the
// program, and going on would only move the damage somewhere harder to see. So
// every such check in the library ends here, which prints one line on stderr,
// "reactor: " and the message, and aborts (a core dump, and a death test can
// match the message). Errors from the outside world (a full fd table, a peer
// that resets) are not bugs and never come here: they are thrown or reported.
// Any thread may call it.
#pragma once

namespace reactor {

/// Prints "reactor: " and the printf-style message on stderr, then aborts.
[[noreturn]] void fatal(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace reactor
