#include "reactor/Connector.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "reactor/Channel.h"
#include "reactor/EventLoop.h"
#include "reactor/Fatal.h"
#include "reactor/Logging.h"
#include "reactor/Socket.h"

namespace reactor {

namespace {

double toMilliseconds(Duration delay) {
  return std::chrono::duration<double, std::milli>(delay).count();
}

// A failed attempt's socket; there is none when socket(2) itself failed.
void closeIfOpen(int sockfd) {
  if (sockfd >= 0) ::close(sockfd);
}

}  // namespace

Connector::Connector(EventLoop* loop, const InetAddress& serverAddr)
    : loop_(loop), serverAddr_(serverAddr) {}

// [destructor]
Connector::~Connector() {
  loop_->assertInLoopThread("Connector::~Connector");
  // The timer holds only a weak_ptr, and would find nobody; cancelled, it
  // leaves the timer heap now instead of up to 30 s from now.
  loop_->cancel(retryTimer_);
  if (channel_) ::close(removeAndResetChannel());
}
// [destructor]

void Connector::setRetryDelay(Duration initial, Duration max) {
  if (initial <= Duration::zero() || max < initial) {
    fatal("Connector::setRetryDelay: needs 0 < initial <= max, got initial %g ms, max %g ms",
          toMilliseconds(initial), toMilliseconds(max));
  }
  initialRetryDelay_ = initial;
  maxRetryDelay_ = max;
  retryDelay_ = initial;
}

// What the functors handed to the loop hold: a Connector destroyed before
// they run is then simply not found, where a raw `this` would be freed memory.
std::weak_ptr<Connector> Connector::weakSelf(const char* function) {
  std::weak_ptr<Connector> self = weak_from_this();
  if (self.expired()) {
    fatal("%s: the Connector must be held by a std::shared_ptr (std::make_shared)", function);
  }
  return self;
}

// [start]
void Connector::start() {
  connect_ = true;
  loop_->runInLoop([self = weakSelf("Connector::start")] {
    if (auto connector = self.lock()) connector->startInLoop();
  });
}

void Connector::startInLoop() {
  loop_->assertInLoopThread("Connector::startInLoop");
  if (!connect_ || state_ != kDisconnected) return;  // stopped meanwhile, or busy
  loop_->cancel(retryTimer_);  // a start() during the backoff tries now, and only now
  connect();
}
// [start]

void Connector::restart() {
  loop_->assertInLoopThread("Connector::restart");
  stopInLoop();
  retryDelay_ = initialRetryDelay_;
  connect_ = true;
  startInLoop();
}

// [stop]
void Connector::stop() {
  connect_ = false;
  loop_->runInLoop([self = weakSelf("Connector::stop")] {
    if (auto connector = self.lock()) connector->stopInLoop();
  });
}

void Connector::stopInLoop() {
  loop_->assertInLoopThread("Connector::stopInLoop");
  // Cancelled, not just left to find connect_ false when it fires: after a
  // start() soon after this stop(), it would still fire, and try early.
  loop_->cancel(retryTimer_);
  if (state_ == kConnecting) ::close(removeAndResetChannel());
  state_ = kDisconnected;
}
// [stop]

// [connect]
void Connector::connect() {
  const int sockfd = Socket::tryCreateNonblocking(serverAddr_.family());
  // When socket(2) itself fails (such as EMFILE), its errno is classified too.
  const int savedErrno = sockfd < 0 ? errno : Socket::connect(sockfd, serverAddr_);
  switch (savedErrno) {
    case 0:            // connected at once
    case EINPROGRESS:  // the usual answer for a nonblocking socket
    case EINTR:        // a signal interrupted the call; the attempt goes on
    case EISCONN:      // connected already
      connecting(sockfd);
      break;
    case EAGAIN:         // the kernel's routing cache is full
    case EADDRINUSE:     // the local address is in use
    case EADDRNOTAVAIL:  // every ephemeral port is in use
    case ECONNREFUSED:   // nobody listens (yet)
    case ENETUNREACH:    // no route (yet)
    case EMFILE:         // the fd table is full, but may not stay so
    case ENFILE:
      closeIfOpen(sockfd);
      retry(savedErrno);
      break;
    default:  // EACCES, EPERM, EAFNOSUPPORT, EINVAL...: waiting will not help
      closeIfOpen(sockfd);
      giveUp(savedErrno);
      break;
  }
}
// [connect]

void Connector::connecting(int sockfd) {
  state_ = kConnecting;
  channel_ = std::make_unique<Channel>(loop_, sockfd);
  // Writable, hung up or in error: whichever the Poller reports, the attempt
  // is over, and SO_ERROR says how it ended.
  channel_->setWriteCallback([this] { handleWrite(); });
  channel_->setCloseCallback([this] { handleWrite(); });
  channel_->setErrorCallback([this] { handleWrite(); });
  channel_->enableWriting();
}

// [handleWrite]
void Connector::handleWrite() {
  const int sockfd = removeAndResetChannel();
  const int error = Socket::pendingErrorOf(sockfd);
  if (error != 0) {
    ::close(sockfd);
    retry(error);  // refused, unreachable, timed out: all may pass
    // [self-connect]
  } else if (Socket::isSelfConnect(sockfd)) {
    LOG_WARN("Connector: connected to itself at %s: closing it", serverAddr_.toIpPort().c_str());
    ::close(sockfd);
    // The kernel could give the socket this port only because nobody
    // listens on it: as good as refused.
    retry(ECONNREFUSED);
    // [self-connect]
  } else if (connect_ && newConnectionCallback_) {
    state_ = kConnected;
    newConnectionCallback_(sockfd);
  } else {
    ::close(sockfd);  // stop() came first, or nobody takes connections
    state_ = kDisconnected;
  }
}

// Stops watching the attempt's socket and returns it. The Channel is
// destroyed by a queued functor, not here: this may run inside that
// channel's own handleEvent(), which must not see it destroyed.
int Connector::removeAndResetChannel() {
  channel_->disableAll();
  channel_->remove();
  const int sockfd = channel_->fd();
  loop_->queueInLoop([doomed = std::shared_ptr<Channel>(std::move(channel_))] {});
  return sockfd;
}
// [handleWrite]

// [retry]
void Connector::retry(int savedErrno) {
  state_ = kDisconnected;
  if (!connect_) return;  // stop() came first: no retry, and no report
  const Duration delay = retryDelay_;
  retryTimer_ = loop_->runAfter(delay, [self = weakSelf("Connector::retry")] {
    if (auto connector = self.lock()) connector->startInLoop();
  });
  // Doubled up to the cap, compared first so that doubling never overflows.
  retryDelay_ = retryDelay_ > maxRetryDelay_ / 2 ? maxRetryDelay_ : retryDelay_ * 2;
  LOG_INFO("Connector: connecting to %s failed (%s); retrying in %g ms",
           serverAddr_.toIpPort().c_str(), std::strerror(savedErrno), toMilliseconds(delay));
  if (connectErrorCallback_) connectErrorCallback_(savedErrno, true, delay);
}

void Connector::giveUp(int savedErrno) {
  state_ = kDisconnected;
  if (!connect_) return;
  LOG_ERROR("Connector: connecting to %s failed (%s); giving up", serverAddr_.toIpPort().c_str(),
            std::strerror(savedErrno));
  if (connectErrorCallback_) connectErrorCallback_(savedErrno, false, Duration::zero());
}
// [retry]

}  // namespace reactor
