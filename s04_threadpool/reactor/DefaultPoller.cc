// The one place that knows every Poller implementation.
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "reactor/EPollPoller.h"
#include "reactor/PollPoller.h"
#include "reactor/Poller.h"

namespace reactor {

// [newDefaultPoller]
std::unique_ptr<Poller> Poller::newDefaultPoller() {
  const char* choice = std::getenv("REACTOR_POLLER");
  if (choice == nullptr || *choice == '\0' || std::strcmp(choice, "epoll") == 0) {
    return std::make_unique<EPollPoller>();
  }
  if (std::strcmp(choice, "poll") == 0) return std::make_unique<PollPoller>();
  // A typo must not quietly measure or test the other poller.
  throw std::invalid_argument("REACTOR_POLLER=\"" + std::string(choice) +
                              "\" names no poller: use \"poll\" or \"epoll\" (unset or empty "
                              "means epoll)");
}
// [newDefaultPoller]

}  // namespace reactor
