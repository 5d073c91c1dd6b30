// TcpServer: a TCP server. Its own loop (the base loop) runs the Acceptor,
// which listens, and keeps each accepted connection by name until it closes;
// each connection lives on a loop of the server's EventLoopThreadPool, dealt
// out round robin (with no threads, on the base loop itself). A program
// gives it callbacks, a thread count, and starts it.
//
// Thread rules:
//   any thread:       start(), the getters, and the constructor;
//   before start():   the set...Callback() functions, setThreadNum(),
//                     setThreadInitCallback();
//   base loop thread: the destructor, which closes every connection.
// A connection's callbacks run in its own loop's thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "reactor/Callbacks.h"
#include "reactor/EventLoopThreadPool.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpConnection.h"

namespace reactor {

class Acceptor;
class EventLoop;

/// Accepts TCP connections on one address and serves them on a pool of loops.
class TcpServer {
 public:
  /// Whether several servers (or processes) may listen on the same port,
  /// the kernel spreading connections between them (SO_REUSEPORT).
  enum Option { kNoReusePort, kReusePort };
  /// Runs in each I/O thread, with its loop, before the loop serves anything.
  using ThreadInitCallback = EventLoopThreadPool::ThreadInitCallback;

  /// Creates the listening socket and binds it (SO_REUSEADDR), so that
  /// listenAddress() knows the real port at once. Throws std::system_error
  /// naming the address when binding fails, e.g. "127.0.0.1:2007" in use.
  TcpServer(EventLoop* loop, const InetAddress& listenAddr, std::string name,
            Option option = kNoReusePort);
  /// Base loop thread: closes every connection, each in its own loop. Each
  /// disconnect callback has run when the destructor returns, unless the
  /// program still holds the pool (threadPool()): then it runs soon after.
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  /// The name given to the constructor.
  const std::string& name() const { return name_; }
  /// The address listened on, as "0.0.0.0:2007".
  std::string ipPort() const { return ipPort_; }
  /// The address listened on, with the real port when constructed with 0.
  InetAddress listenAddress() const;
  /// The base loop, which accepts.
  EventLoop* getLoop() const { return loop_; }
  /// The loops that serve the connections.
  std::shared_ptr<EventLoopThreadPool> threadPool() const { return threadPool_; }

  /// How many I/O threads start() starts; 0 (the default) serves every
  /// connection on the base loop. Throws std::invalid_argument when
  /// negative; aborts after start().
  void setThreadNum(int numThreads) { threadPool_->setThreadNum(numThreads); }
  /// Runs once in each I/O thread (with no threads, once with the base loop).
  void setThreadInitCallback(ThreadInitCallback cb) { threadInitCallback_ = std::move(cb); }

  /// Runs for each connection up and down; the default logs.
  void setConnectionCallback(ConnectionCallback cb) { connectionCallback_ = std::move(cb); }
  /// Runs when bytes arrive; the default discards them.
  void setMessageCallback(MessageCallback cb) { messageCallback_ = std::move(cb); }
  /// Runs when a connection's output buffer empties.
  void setWriteCompleteCallback(WriteCompleteCallback cb) {
    writeCompleteCallback_ = std::move(cb);
  }

  /// Starts the thread pool (in the base loop's thread) and listens:
  /// clients may connect once it returns. Any thread; a second call does
  /// nothing. From another thread, the server must live until its loop has
  /// run the work start() handed over.
  void start();

 private:
  void newConnection(int sockfd, const InetAddress& peerAddr);
  CloseCallback removeConnectionCallback();
  void removeConnectionInLoop(const TcpConnectionPtr& conn);

  EventLoop* const loop_;
  const std::string name_;
  const std::unique_ptr<Acceptor> acceptor_;
  const std::string ipPort_;
  const std::shared_ptr<EventLoopThreadPool> threadPool_;
  // [alive]
  // Weak copies tell a removal queued to the base loop whether the server
  // is still there when it runs.
  const std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // [alive]
  ConnectionCallback connectionCallback_ = defaultConnectionCallback;
  MessageCallback messageCallback_ = defaultMessageCallback;
  WriteCompleteCallback writeCompleteCallback_;
  ThreadInitCallback threadInitCallback_;
  std::atomic<bool> started_{false};
  int nextConnId_ = 1;
  std::map<std::string, TcpConnectionPtr> connections_;  // base loop thread only
};

}  // namespace reactor
