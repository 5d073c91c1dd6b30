// currentThreadId(): the kernel's id of the calling thread, the number that
// top -H, ps -L and gdb show. The loop uses it to know its owner thread, the
// log to say which thread wrote a line. Any thread.
#pragma once

#include <sys/types.h>
#include <unistd.h>

namespace reactor {

/// The calling thread's id. gettid() is a system call, so each thread asks
/// the kernel once and remembers.
inline pid_t currentThreadId() {
  thread_local const pid_t tid = ::gettid();
  return tid;
}

}  // namespace reactor
