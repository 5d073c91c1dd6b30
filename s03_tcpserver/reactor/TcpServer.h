// TcpServer: a TCP server on one loop. It owns the Acceptor, which listens,
// and a TcpConnection for each accepted connection, which it keeps by name
// until the connection closes. A program gives it callbacks and starts it.
//
// Thread rules:
//   any thread:       start(), the getters, and the constructor;
//   before start():   the set...Callback() functions;
//   loop thread only: the destructor, which closes every connection.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "reactor/Callbacks.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpConnection.h"

namespace reactor {

class Acceptor;
class EventLoop;

/// Accepts TCP connections on one address and serves them on one loop.
class TcpServer {
 public:
  /// Whether several servers (or processes) may listen on the same port,
  /// the kernel spreading connections between them (SO_REUSEPORT).
  enum Option { kNoReusePort, kReusePort };

  /// Creates the listening socket and binds it (SO_REUSEADDR), so that
  /// listenAddress() knows the real port at once. Throws std::system_error
  /// naming the address when binding fails, e.g. "127.0.0.1:2007" in use.
  TcpServer(EventLoop* loop, const InetAddress& listenAddr, std::string name,
            Option option = kNoReusePort);
  /// Loop thread: closes every connection; each runs its disconnect
  /// callback before the destructor returns.
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  /// The name given to the constructor.
  const std::string& name() const { return name_; }
  /// The address listened on, as "0.0.0.0:2007".
  std::string ipPort() const { return ipPort_; }
  /// The address listened on, with the real port when constructed with 0.
  InetAddress listenAddress() const;
  /// The loop accepting and serving.
  EventLoop* getLoop() const { return loop_; }

  /// Runs for each connection up and down; the default logs.
  void setConnectionCallback(ConnectionCallback cb) { connectionCallback_ = std::move(cb); }
  /// Runs when bytes arrive; the default discards them.
  void setMessageCallback(MessageCallback cb) { messageCallback_ = std::move(cb); }
  /// Runs when a connection's output buffer empties.
  void setWriteCompleteCallback(WriteCompleteCallback cb) {
    writeCompleteCallback_ = std::move(cb);
  }

  /// Starts listening: clients may connect once it returns. Any thread; a
  /// second call does nothing. From another thread, the server must live
  /// until its loop has run the work start() handed over.
  void start();

 private:
  void newConnection(int sockfd, const InetAddress& peerAddr);
  void removeConnection(const TcpConnectionPtr& conn);

  EventLoop* const loop_;
  const std::string name_;
  const std::unique_ptr<Acceptor> acceptor_;
  const std::string ipPort_;
  ConnectionCallback connectionCallback_ = defaultConnectionCallback;
  MessageCallback messageCallback_ = defaultMessageCallback;
  WriteCompleteCallback writeCompleteCallback_;
  std::atomic<bool> started_{false};
  int nextConnId_ = 1;
  std::map<std::string, TcpConnectionPtr> connections_;  // loop thread only
};

}  // namespace reactor
