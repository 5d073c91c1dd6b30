// Acceptor: the listening socket of a TcpServer and the Channel that watches
// it. When the socket is readable, a connection is waiting: the Acceptor
// takes it and hands its descriptor to the new-connection callback. It keeps
// serving when the fd table is full, thanks to a reserve descriptor (see
// handleRead()).
//
// Thread rules: construct in any thread; listen() from any thread; the
// callback runs and the destructor runs in the loop's thread.
#pragma once

#include <functional>

#include "reactor/Channel.h"
#include "reactor/InetAddress.h"
#include "reactor/Socket.h"

namespace reactor {

class EventLoop;

/// Accepts the connections of one listening socket.
class Acceptor {
 public:
  /// Receives each accepted descriptor, which it then owns.
  using NewConnectionCallback = std::function<void(int sockfd, const InetAddress& peerAddr)>;

  /// Creates the socket and binds it to `listenAddr` (SO_REUSEADDR, and
  /// SO_REUSEPORT when `reusePort`). Throws std::system_error naming the
  /// address when binding fails, e.g. when the port is in use.
  Acceptor(EventLoop* loop, const InetAddress& listenAddr, bool reusePort);
  /// Loop thread: stops watching and closes the socket.
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  /// What receives each new connection. Without one, connections are closed.
  void setNewConnectionCallback(NewConnectionCallback cb) {
    newConnectionCallback_ = std::move(cb);
  }

  /// Starts listening at once, so that clients queue in the kernel's
  /// backlog; the loop starts accepting them in its thread. Any thread;
  /// from another thread the Acceptor must live until the loop has run the
  /// handed-over work.
  void listen();

  /// The address the socket is bound to, with the real port when bound to 0.
  InetAddress listenAddress() const { return Socket::localAddressOf(acceptSocket_.fd()); }

 private:
  void handleRead();
  void dropWithReserveDescriptor();

  EventLoop* const loop_;
  Socket acceptSocket_;
  Channel acceptChannel_;
  NewConnectionCallback newConnectionCallback_;
  int reserveFd_ = -1;  // /dev/null, closed to make room when the fd table is full
};

}  // namespace reactor
