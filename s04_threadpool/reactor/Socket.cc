#include "reactor/Socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "reactor/Logging.h"

namespace reactor {

namespace {

// What accept(2) and getsockname(2) return, as an InetAddress.
InetAddress toInetAddress(const sockaddr_in6& storage) {
  if (storage.sin6_family == AF_INET6) return InetAddress(storage);
  sockaddr_in addr;
  std::memcpy(&addr, &storage, sizeof addr);
  return InetAddress(addr);
}

}  // namespace

int Socket::createNonblocking(sa_family_t family) {
  const int sockfd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (sockfd < 0) throw std::system_error(errno, std::generic_category(), "Socket: socket");
  return sockfd;
}

InetAddress Socket::localAddressOf(int sockfd) {
  sockaddr_in6 storage{};  // room for either family
  socklen_t length = sizeof storage;
  if (::getsockname(sockfd, reinterpret_cast<sockaddr*>(&storage), &length) < 0) {
    throw std::system_error(errno, std::generic_category(), "Socket: getsockname");
  }
  return toInetAddress(storage);
}

Socket::~Socket() { ::close(sockfd_); }

void Socket::bindAddress(const InetAddress& localAddr) {
  if (::bind(sockfd_, localAddr.getSockAddr(), localAddr.getSockAddrLength()) < 0) {
    throw std::system_error(errno, std::generic_category(), "bind " + localAddr.toIpPort());
  }
}

void Socket::listen() {
  if (::listen(sockfd_, SOMAXCONN) < 0) {
    throw std::system_error(errno, std::generic_category(), "listen");
  }
}

// [accept]
int Socket::accept(InetAddress* peerAddr) {
  sockaddr_in6 storage{};
  socklen_t length = sizeof storage;
  // accept4(2) sets both flags in the same call, so there is no moment at
  // which another thread's fork and exec could inherit the descriptor.
  const int connfd = ::accept4(sockfd_, reinterpret_cast<sockaddr*>(&storage), &length,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (connfd >= 0) *peerAddr = toInetAddress(storage);
  return connfd;
}
// [accept]

// [send]
ssize_t Socket::send(const void* data, std::size_t length) {
  return ::send(sockfd_, data, length, MSG_NOSIGNAL);
}
// [send]

void Socket::shutdownWrite() {
  if (::shutdown(sockfd_, SHUT_WR) < 0) {
    LOG_WARN("Socket::shutdownWrite: fd %d: %s", sockfd_, std::strerror(errno));
  }
}

int Socket::pendingError() const {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(sockfd_, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return errno;
  return error;
}

void Socket::setTcpNoDelay(bool on) { setOption(IPPROTO_TCP, TCP_NODELAY, on, "TCP_NODELAY"); }

void Socket::setReuseAddr(bool on) { setOption(SOL_SOCKET, SO_REUSEADDR, on, "SO_REUSEADDR"); }

void Socket::setReusePort(bool on) { setOption(SOL_SOCKET, SO_REUSEPORT, on, "SO_REUSEPORT"); }

void Socket::setKeepAlive(bool on) { setOption(SOL_SOCKET, SO_KEEPALIVE, on, "SO_KEEPALIVE"); }

void Socket::setOption(int level, int option, bool on, const char* optionName) {
  const int value = on ? 1 : 0;
  if (::setsockopt(sockfd_, level, option, &value, sizeof value) < 0) {
    LOG_ERROR("Socket: setsockopt(fd %d, %s): %s", sockfd_, optionName, std::strerror(errno));
  }
}

}  // namespace reactor
