#include "reactor/Acceptor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "reactor/EventLoop.h"
#include "reactor/Logging.h"

namespace reactor {

namespace {

int openReserveFd() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "Acceptor: open /dev/null");
  return fd;
}

}  // namespace

Acceptor::Acceptor(EventLoop* loop, const InetAddress& listenAddr, bool reusePort)
    : loop_(loop),
      acceptSocket_(Socket::createNonblocking(listenAddr.family())),
      acceptChannel_(loop, acceptSocket_.fd()) {
  acceptSocket_.setReuseAddr(true);
  acceptSocket_.setReusePort(reusePort);
  acceptSocket_.bindAddress(listenAddr);
  reserveFd_ = openReserveFd();  // last: when a step throws, no descriptor is left open
  acceptChannel_.setReadCallback([this](Timestamp) { handleRead(); });
}

Acceptor::~Acceptor() {
  loop_->assertInLoopThread("Acceptor::~Acceptor");
  acceptChannel_.disableAll();
  acceptChannel_.remove();
  ::close(reserveFd_);
}

void Acceptor::listen() {
  acceptSocket_.listen();
  loop_->runInLoop([this] { acceptChannel_.enableReading(); });
}

// [handleRead]
void Acceptor::handleRead() {
  InetAddress peerAddr;
  const int connfd = acceptSocket_.accept(&peerAddr);
  if (connfd >= 0) {
    if (newConnectionCallback_) {
      newConnectionCallback_(connfd, peerAddr);
    } else {
      ::close(connfd);
    }
  } else if (errno == EMFILE || errno == ENFILE) {
    dropWithReserveDescriptor();
  } else if (errno != EAGAIN && errno != EINTR) {
    // Such as ECONNABORTED: the client gave up before we took its
    // connection. The listening socket is fine; keep serving.
    LOG_WARN("Acceptor::handleRead: accept: %s", std::strerror(errno));
  }
}

// The fd table is full, so accept(2) fails, and the pending connection
// stays in the backlog: level-triggered, the socket is reported readable
// again at once, and the loop would spin. So give back the one descriptor
// kept for this moment, take the connection with it, close it (the client
// sees its connection end rather than hang), and keep the reserve again.
void Acceptor::dropWithReserveDescriptor() {
  LOG_ERROR("Acceptor: the fd table is full: closing a new connection at once");
  ::close(reserveFd_);
  const int connfd = ::accept4(acceptSocket_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
  if (connfd >= 0) ::close(connfd);
  reserveFd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}
// [handleRead]

}  // namespace reactor
