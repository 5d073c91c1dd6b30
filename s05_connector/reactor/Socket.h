// Socket: owns one socket descriptor and closes it when destroyed (RAII), and
// wraps the socket calls a server and a client make on it, each with its
// error handling in one place. Every descriptor made here is nonblocking, so no call can
// stall the loop, and close-on-exec, so no child program inherits it.
//
// Thread rules: like a descriptor: any thread, one call at a time; the
// library calls a connection's Socket only in the loop's thread.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>

#include "reactor/InetAddress.h"

namespace reactor {

/// One socket descriptor, closed on destruction.
class Socket {
 public:
  /// A new TCP socket of `family` (AF_INET or AF_INET6), nonblocking and
  /// close-on-exec. Throws std::system_error, e.g. when the fd table is full.
  static int createNonblocking(sa_family_t family);
  /// As createNonblocking(), but returns -1 with errno set instead of
  /// throwing: for a client, to which a full fd table is one more reason
  /// to retry later.
  static int tryCreateNonblocking(sa_family_t family);

  /// The local address `sockfd` is bound to (getsockname(2)). Throws
  /// std::system_error.
  static InetAddress localAddressOf(int sockfd);
  /// The address of the peer `sockfd` is connected to (getpeername(2)).
  /// Throws std::system_error, e.g. ENOTCONN once a reset has ended the
  /// connection.
  static InetAddress peerAddressOf(int sockfd);

  /// Starts connecting `sockfd` to `serverAddr` (connect(2)) and returns 0
  /// or the errno value: a nonblocking socket usually gives EINPROGRESS,
  /// and becomes writable once the attempt is over (see pendingErrorOf()).
  static int connect(int sockfd, const InetAddress& serverAddr);
  /// The pending error of `sockfd` (SO_ERROR), which reading clears; 0 if
  /// none. After a nonblocking connect, it says how the attempt ended.
  static int pendingErrorOf(int sockfd);
  // [isSelfConnect]
  /// True when `sockfd` is connected to itself: its local and peer addresses
  /// are the same. A client connecting to a port on its own host, where
  /// nobody listens, can be given that very port as its ephemeral port, and
  /// TCP's simultaneous open then connects the socket to itself. False when
  /// an address cannot be read (a socket that is not connected).
  static bool isSelfConnect(int sockfd);
  // [isSelfConnect]

  /// Takes ownership of `sockfd`.
  explicit Socket(int sockfd) : sockfd_(sockfd) {}
  /// Closes the descriptor.
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  /// The descriptor, still owned by this Socket.
  int fd() const { return sockfd_; }

  /// bind(2). Throws std::system_error naming the address, e.g.
  /// "bind 127.0.0.1:2007: Address already in use".
  void bindAddress(const InetAddress& localAddr);
  /// listen(2) with the largest backlog the kernel allows. Throws
  /// std::system_error.
  void listen();
  /// Takes one pending connection: its descriptor, nonblocking and
  /// close-on-exec, with its address in `*peerAddr`; -1 with errno set when
  /// there is none or accept4(2) failed.
  int accept(InetAddress* peerAddr);

  /// Writes what the kernel takes now, never raising SIGPIPE (MSG_NOSIGNAL):
  /// a peer that has gone away is an error code, not a signal that kills
  /// the process. Returns send(2)'s result.
  ssize_t send(const void* data, std::size_t length);
  /// Half-closes: the peer reads end of stream, and this side can still read.
  void shutdownWrite();
  /// The socket's pending error (SO_ERROR), which reading clears; 0 if none.
  int pendingError() const { return pendingErrorOf(sockfd_); }

  /// TCP_NODELAY: send small writes at once instead of batching them
  /// (Nagle's algorithm).
  void setTcpNoDelay(bool on);
  /// SO_REUSEADDR: bind a listening port again at once after a restart.
  void setReuseAddr(bool on);
  /// SO_REUSEPORT: let several sockets listen on one port.
  void setReusePort(bool on);
  /// SO_KEEPALIVE: probe an idle connection to notice a dead peer.
  void setKeepAlive(bool on);

 private:
  void setOption(int level, int option, bool on, const char* optionName);

  const int sockfd_;
};

}  // namespace reactor
