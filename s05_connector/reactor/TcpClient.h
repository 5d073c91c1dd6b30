// TcpClient: a TCP client with at most one connection at a time. Its
// Connector connects (retrying with backoff); each connected socket becomes
// a TcpConnection on the client's loop, with the program's callbacks, just
// as a TcpServer's connections do. With enableRetry(), a lost connection is
// followed by a new attempt at once.
//
// Thread rules:
//   any thread:       connect(), disconnect(), stop(), enableRetry(),
//                     connection(), the getters, and the constructor;
//   before connect(): the set...() functions;
//   loop thread only: the destructor. Every callback runs there.
// The destructor closes the live connection, even when another thread
// still holds its TcpConnectionPtr (which then stays a harmless,
// disconnected object), and cancels any attempt; nothing of the client runs
// after it. A callback of the client may destroy it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "reactor/Callbacks.h"
#include "reactor/Connector.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpConnection.h"

namespace reactor {

class EventLoop;

/// Connects to one server, and serves the connection on one loop.
class TcpClient {
 public:
  /// Nothing happens until connect(). Connections are named
  /// "<name>:<server ip:port>#<n>".
  TcpClient(EventLoop* loop, const InetAddress& serverAddr, std::string name);
  /// Loop thread: closes the live connection (its disconnect callback runs
  /// here) and cancels a pending attempt or retry.
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  /// Starts connecting; does nothing while connected. Any thread.
  void connect();
  /// Half-closes the live connection once its output has gone (see
  /// TcpConnection::shutdown()); the client will not reconnect after it.
  /// Any thread.
  void disconnect();
  /// Stops connecting: a pending attempt or retry is cancelled; a live
  /// connection stays, but is not replaced when lost. Any thread.
  void stop();

  /// When a connection that was established is lost, connect again: at
  /// once, then backing off from the initial delay.
  void enableRetry() { retry_ = true; }
  /// True after enableRetry().
  bool retry() const { return retry_; }

  /// The live connection; empty when there is none. Any thread.
  TcpConnectionPtr connection() const;
  /// The loop every connection lives on.
  EventLoop* getLoop() const { return loop_; }
  /// The name given to the constructor.
  const std::string& name() const { return name_; }

  /// Runs for each connection up and down; the default logs.
  void setConnectionCallback(ConnectionCallback cb) { connectionCallback_ = std::move(cb); }
  /// Runs when bytes arrive; the default discards them.
  void setMessageCallback(MessageCallback cb) { messageCallback_ = std::move(cb); }
  /// Runs when a connection's output buffer empties.
  void setWriteCompleteCallback(WriteCompleteCallback cb) {
    writeCompleteCallback_ = std::move(cb);
  }
  /// See Connector::setRetryDelay(); 500 ms to 30 s by default.
  void setRetryDelay(Duration initial, Duration max) { connector_->setRetryDelay(initial, max); }
  /// See Connector::setConnectErrorCallback().
  void setConnectErrorCallback(Connector::ConnectErrorCallback cb) {
    connector_->setConnectErrorCallback(std::move(cb));
  }

 private:
  void newConnection(int sockfd);
  void removeConnection(const TcpConnectionPtr& conn);

  EventLoop* const loop_;
  const std::shared_ptr<Connector> connector_;
  const std::string name_;
  ConnectionCallback connectionCallback_ = defaultConnectionCallback;
  MessageCallback messageCallback_ = defaultMessageCallback;
  WriteCompleteCallback writeCompleteCallback_;
  std::atomic<bool> retry_{false};
  std::atomic<bool> connect_{false};  // wanted: connect() and no disconnect() or stop() since
  int nextConnId_ = 1;                // loop thread only
  // A weak copy tells a connection's close callback whether the client is
  // still there: the program may destroy it in the disconnect callback.
  const std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  mutable std::mutex mutex_;
  TcpConnectionPtr connection_;  // guarded by mutex_; written in the loop thread
};

}  // namespace reactor
