#include "reactor/TcpConnection.h"

#include <cerrno>
#include <cstring>

#include "reactor/EventLoop.h"
#include "reactor/Fatal.h"
#include "reactor/Logging.h"
#include "reactor/Socket.h"

namespace reactor {

namespace {

// A peer that resets or goes away is everyday life for a server: worth a
// line when debugging, not a warning.
void logSocketError(const char* function, const std::string& name, int error) {
  const bool peerGone = error == ECONNRESET || error == EPIPE;
  REACTOR_LOG(peerGone ? LogLevel::kDebug : LogLevel::kWarn, "%s: %s: %s", function, name.c_str(),
              std::strerror(error));
}

}  // namespace

void defaultConnectionCallback(const TcpConnectionPtr& conn) {
  LOG_INFO("%s -> %s is %s", conn->peerAddress().toIpPort().c_str(),
           conn->localAddress().toIpPort().c_str(), conn->connected() ? "UP" : "DOWN");
}

void defaultMessageCallback(const TcpConnectionPtr&, Buffer* buffer, Timestamp) {
  buffer->retrieveAll();
}

TcpConnection::TcpConnection(EventLoop* loop, std::string name, int sockfd,
                             const InetAddress& localAddr, const InetAddress& peerAddr)
    : loop_(loop),
      name_(std::move(name)),
      socket_(std::make_unique<Socket>(sockfd)),
      channel_(loop, sockfd),
      localAddr_(localAddr),
      peerAddr_(peerAddr) {
  // The channel calls back into `this` only while it is tied to it, in
  // connectEstablished(): the Channel's guard keeps `this` alive meanwhile.
  channel_.setReadCallback([this](Timestamp receiveTime) { handleRead(receiveTime); });
  channel_.setWriteCallback([this] { handleWrite(); });
  channel_.setCloseCallback([this] { handleClose(); });
  channel_.setErrorCallback([this] { handleError(); });
  socket_->setKeepAlive(true);
}

TcpConnection::~TcpConnection() = default;

// [send]
void TcpConnection::send(std::string_view data) {
  if (state_ != kConnected) return;
  if (loop_->isInLoopThread()) {
    sendInLoop(data.data(), data.size());
  } else {
    // The caller's bytes may be gone before the loop gets to them: copy.
    loop_->queueInLoop([self = shared_from_this(), copy = std::string(data)] {
      self->sendInLoop(copy.data(), copy.size());
    });
  }
}

void TcpConnection::send(const void* data, std::size_t length) {
  send(std::string_view(static_cast<const char*>(data), length));
}

void TcpConnection::send(Buffer* buffer) {
  send(buffer->toStringView());
  buffer->retrieveAll();
}
// [send]

// [sendInLoop]
void TcpConnection::sendInLoop(const void* data, std::size_t length) {
  loop_->assertInLoopThread("TcpConnection::sendInLoop");
  // A send handed over from another thread may arrive after the close.
  if (state_ == kDisconnected) {
    LOG_DEBUG("TcpConnection::send: %s is closed: %zu bytes dropped", name_.c_str(), length);
    return;
  }
  std::size_t written = 0;
  bool faultError = false;
  // Write directly only when nothing waits: queued bytes must go first.
  if (!channel_.isWriting() && outputBuffer_.readableBytes() == 0) {
    written = writeNow(data, length, &faultError);
    if (written == length && writeCompleteCallback_) {
      loop_->queueInLoop([self = shared_from_this()] { self->writeCompleteCallback_(self); });
    }
  }
  if (!faultError && written < length) {
    queueOutput(static_cast<const char*>(data) + written, length - written);
  }
}

// What the kernel takes of `data` now, without blocking; a peer that is gone
// sets `*faultError`: nothing more can be sent.
std::size_t TcpConnection::writeNow(const void* data, std::size_t length, bool* faultError) {
  const ssize_t n = socket_->send(data, length);
  if (n >= 0) return static_cast<std::size_t>(n);
  const int savedErrno = errno;
  if (savedErrno != EAGAIN && savedErrno != EWOULDBLOCK) {
    logSocketError("TcpConnection::send", name_, savedErrno);
    *faultError = savedErrno == EPIPE || savedErrno == ECONNRESET;
  }
  return 0;
}

void TcpConnection::queueOutput(const char* data, std::size_t length) {
  const std::size_t before = outputBuffer_.readableBytes();
  const std::size_t after = before + length;
  if (before < highWaterMark_ && after >= highWaterMark_ && highWaterMarkCallback_) {
    loop_->queueInLoop(
        [self = shared_from_this(), after] { self->highWaterMarkCallback_(self, after); });
  }
  outputBuffer_.append(data, length);
  if (!channel_.isWriting()) channel_.enableWriting();
}
// [sendInLoop]

// [shutdown]
void TcpConnection::shutdown() {
  State expected = kConnected;
  if (state_.compare_exchange_strong(expected, kDisconnecting)) {
    loop_->runInLoop([self = shared_from_this()] { self->shutdownInLoop(); });
  }
}

void TcpConnection::shutdownInLoop() {
  loop_->assertInLoopThread("TcpConnection::shutdownInLoop");
  // While output waits, handleWrite() calls again once it has all gone.
  if (state_ == kDisconnecting && !channel_.isWriting()) socket_->shutdownWrite();
}
// [shutdown]

// [forceClose]
void TcpConnection::forceClose() {
  State state = state_;
  if (state == kConnected || state == kDisconnecting) {
    // Queued even in the loop thread: the caller may be a callback of this
    // very connection, which must not see it closed under its feet.
    loop_->queueInLoop([self = shared_from_this()] { self->forceCloseInLoop(); });
  }
}

void TcpConnection::forceCloseInLoop() {
  loop_->assertInLoopThread("TcpConnection::forceCloseInLoop");
  if (state_ == kConnected || state_ == kDisconnecting) handleClose();
}
// [forceClose]

void TcpConnection::setTcpNoDelay(bool on) {
  loop_->runInLoop([self = shared_from_this(), on] {
    if (self->socket_) self->socket_->setTcpNoDelay(on);
  });
}

void TcpConnection::startRead() {
  loop_->runInLoop([self = shared_from_this()] { self->startReadInLoop(); });
}

void TcpConnection::stopRead() {
  loop_->runInLoop([self = shared_from_this()] { self->stopReadInLoop(); });
}

void TcpConnection::startReadInLoop() {
  if (state_ == kDisconnected || channel_.isReading()) return;
  channel_.enableReading();
  reading_ = true;
}

void TcpConnection::stopReadInLoop() {
  if (state_ == kDisconnected || !channel_.isReading()) return;
  channel_.disableReading();
  reading_ = false;
}

void TcpConnection::setHighWaterMarkCallback(HighWaterMarkCallback cb, std::size_t mark) {
  highWaterMarkCallback_ = std::move(cb);
  highWaterMark_ = mark;
}

// [connectEstablished]
void TcpConnection::connectEstablished() {
  loop_->assertInLoopThread("TcpConnection::connectEstablished");
  if (state_ != kConnecting) {
    fatal("TcpConnection::connectEstablished: %s: called twice, or after connectDestroyed()",
          name_.c_str());
  }
  state_ = kConnected;
  channel_.tie(shared_from_this());
  channel_.enableReading();
  reading_ = true;
  connectionCallback_(shared_from_this());
}
// [connectEstablished]

// [connectDestroyed]
void TcpConnection::connectDestroyed() {
  loop_->assertInLoopThread("TcpConnection::connectDestroyed");
  // Still up: its owner closes it (~TcpServer), so it has not heard of the
  // close yet. Otherwise handleClose() has done all this already.
  if (state_ == kConnected || state_ == kDisconnecting) {
    state_ = kDisconnected;
    stopWatching();
    connectionCallback_(shared_from_this());
  }
  state_ = kDisconnected;  // also when connectEstablished() never ran
  // Close now, not when the last TcpConnectionPtr goes: the program may keep
  // one for long, and the peer should see the end of the stream. The state
  // is kDisconnected for good, so nothing touches the descriptor again,
  // even when a new connection gets the same number.
  socket_.reset();
}
// [connectDestroyed]

// [handleRead]
void TcpConnection::handleRead(Timestamp receiveTime) {
  // stopRead() or a close earlier in this same event: not for reading now.
  if (!channel_.isReading()) return;
  int savedErrno = 0;
  const ssize_t n = inputBuffer_.readFd(channel_.fd(), &savedErrno);
  if (n > 0) {
    messageCallback_(shared_from_this(), &inputBuffer_, receiveTime);
  } else if (n == 0) {
    handleEndOfStream();  // the peer closed, or half-closed, its side
  } else if (savedErrno != EAGAIN && savedErrno != EINTR) {
    logSocketError("TcpConnection::handleRead", name_, savedErrno);
    handleClose();  // such as ECONNRESET: the connection is gone
  }
}
// [handleRead]

// [handleEndOfStream]
// The peer will send nothing more, but it may still read (a half-close), and
// the bytes queued for it were accepted for sending: they are owed to it. So
// close at once only when nothing waits. Otherwise stop reading (the end of
// stream would be reported on every iteration) and let handleWrite() close
// once the output has gone, or a write error close it sooner.
void TcpConnection::handleEndOfStream() {
  if (outputBuffer_.readableBytes() == 0) {
    handleClose();
    return;
  }
  peerClosed_ = true;
  stopReadInLoop();
}
// [handleEndOfStream]

// [handleWrite]
void TcpConnection::handleWrite() {
  if (!channel_.isWriting()) return;  // closed earlier in this same event
  bool faultError = false;
  const std::size_t n = writeNow(outputBuffer_.peek(), outputBuffer_.readableBytes(), &faultError);
  if (faultError) {
    handleClose();
    return;
  }
  outputBuffer_.retrieve(n);
  if (outputBuffer_.readableBytes() > 0) return;  // the rest goes next time
  // Stop watching at once: an empty buffer and a writable socket would wake
  // the loop on every iteration (level-triggered).
  channel_.disableWriting();
  if (writeCompleteCallback_) {
    loop_->queueInLoop([self = shared_from_this()] { self->writeCompleteCallback_(self); });
  }
  if (peerClosed_) {
    handleClose();  // all that was owed to the peer has gone
  } else if (state_ == kDisconnecting) {
    shutdownInLoop();
  }
}
// [handleWrite]

// [handleClose]
void TcpConnection::handleClose() {
  loop_->assertInLoopThread("TcpConnection::handleClose");
  if (state_ == kDisconnected) return;  // e.g. a read error, then a hang-up
  state_ = kDisconnected;
  stopWatching();
  outputBuffer_.retrieveAll();  // nobody will receive it now
  // The owner's close callback drops its pointer; this one keeps the
  // connection alive until both callbacks have returned.
  const TcpConnectionPtr self = shared_from_this();
  connectionCallback_(self);
  if (closeCallback_) closeCallback_(self);
}

// Out of the Poller at once, even inside the channel's own handleEvent(),
// which then runs no further callback. The descriptor stays open until
// connectDestroyed(), so its number cannot go to a new connection meanwhile.
void TcpConnection::stopWatching() {
  channel_.disableAll();
  channel_.remove();
  reading_ = false;
}
// [handleClose]

void TcpConnection::handleError() {
  logSocketError("TcpConnection::handleError", name_, socket_->pendingError());
}

}  // namespace reactor
