// TcpConnection: one TCP connection, from the moment it is established until
// it is closed: its socket and channel, its input and output buffers, its
// callbacks and its state.
//
// Always held by a std::shared_ptr (TcpConnectionPtr), shared by its owner
// (the TcpServer), by every callback running for it and by the program: a
// connection must outlive the callback that closes it, and a program may
// keep a pointer after the close. The socket, though, is closed as soon as
// the connection is destroyed by its owner (connectDestroyed()), whoever
// still holds a pointer; from then on every call is a harmless no-op.
//
// The states, and what moves a connection from one to the next:
//   kConnecting    -> kConnected      connectEstablished()
//   kConnected     -> kDisconnecting  shutdown(): half-close once the output drains
//   kConnected or
//   kDisconnecting -> kDisconnected   the peer closes, a socket error, forceClose(),
//                                     or the owner's connectDestroyed()
//   kConnecting    -> kDisconnected   connectDestroyed() before it was established
//
// Thread rules:
//   any thread:       send(), shutdown(), forceClose(), setTcpNoDelay(),
//                     startRead(), stopRead(), and the const getters;
//                     a call from another thread is handed to the loop.
//   loop thread only: connectEstablished(), connectDestroyed(), the
//                     context and the buffers; set the callbacks before
//                     connectEstablished().
#pragma once

#include <any>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "reactor/Buffer.h"
#include "reactor/Callbacks.h"
#include "reactor/Channel.h"
#include "reactor/InetAddress.h"
#include "reactor/Timestamp.h"

namespace reactor {

class EventLoop;
class Socket;

/// One TCP connection on one loop.
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  /// Wraps the connected socket `sockfd`, which it owns from now on. Any
  /// thread; the connection starts in kConnecting and hears nothing until
  /// connectEstablished().
  TcpConnection(EventLoop* loop, std::string name, int sockfd, const InetAddress& localAddr,
                const InetAddress& peerAddr);
  /// Closes the socket if connectDestroyed() has not.
  ~TcpConnection();
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  /// The loop the connection lives in.
  EventLoop* getLoop() const { return loop_; }
  /// A name unique in its server, such as "echo-0.0.0.0:2007#3".
  const std::string& name() const { return name_; }
  /// This side's address.
  const InetAddress& localAddress() const { return localAddr_; }
  /// The peer's address.
  const InetAddress& peerAddress() const { return peerAddr_; }
  /// True from connectEstablished() until shutdown() or the close.
  bool connected() const { return state_ == kConnected; }
  /// True once the connection is closed.
  bool disconnected() const { return state_ == kDisconnected; }

  /// Sends `data`: writes what the kernel takes now and queues the rest in
  /// the output buffer, to go when the socket is writable. From another
  /// thread the bytes are copied and handed to the loop, so sends from one
  /// thread arrive in order and each arrives whole. Ignored once the
  /// connection is not connected().
  void send(std::string_view data);
  /// Sends `length` bytes at `data`, as send(std::string_view).
  void send(const void* data, std::size_t length);
  /// Sends all of `buffer`'s content, and empties it.
  void send(Buffer* buffer);

  /// Half-closes once everything queued is sent: the peer reads end of
  /// stream, and this side keeps receiving until the peer closes.
  void shutdown();
  /// Closes now, dropping what is queued. The disconnect callback runs once;
  /// a second call, or one after the close, does nothing.
  void forceClose();

  /// Sets TCP_NODELAY (see Socket::setTcpNoDelay()).
  void setTcpNoDelay(bool on);

  /// Resumes reading (the default after connectEstablished()).
  void startRead();
  /// Stops reading: the message callback does not run, and data waits in
  /// the kernel, which slows the peer down (TCP flow control).
  void stopRead();
  /// True while reading.
  bool isReading() const { return reading_; }

  /// Keeps anything the program wants with the connection, such as the
  /// state of a protocol parser. Loop thread.
  void setContext(std::any context) { context_ = std::move(context); }
  /// What setContext() kept; empty until then.
  const std::any& getContext() const { return context_; }
  /// What setContext() kept, to change in place (std::any_cast<T>(ptr)).
  std::any* getMutableContext() { return &context_; }

  /// What arrived and no message callback has consumed yet.
  Buffer* inputBuffer() { return &inputBuffer_; }
  /// What waits to be sent.
  Buffer* outputBuffer() { return &outputBuffer_; }

  /// Runs once when the connection is up and once when it is down (see
  /// Callbacks.h); the default logs.
  void setConnectionCallback(ConnectionCallback cb) { connectionCallback_ = std::move(cb); }
  /// Runs when bytes arrive; the default discards them.
  void setMessageCallback(MessageCallback cb) { messageCallback_ = std::move(cb); }
  /// Runs when the output buffer has emptied; none by default.
  void setWriteCompleteCallback(WriteCompleteCallback cb) {
    writeCompleteCallback_ = std::move(cb);
  }
  /// `cb` runs when the output buffer grows from below `mark` to `mark` or
  /// more: once per crossing, not once per send.
  void setHighWaterMarkCallback(HighWaterMarkCallback cb, std::size_t mark);
  /// The owner's hook, run after the disconnect callback; the owner must
  /// then queue connectDestroyed() in the connection's loop.
  void setCloseCallback(CloseCallback cb) { closeCallback_ = std::move(cb); }

  /// Loop thread, once: starts reading and runs the connection callback.
  void connectEstablished();
  /// Loop thread, once, last: closes the socket; if the connection was
  /// still up, first stops watching it and runs the disconnect callback.
  void connectDestroyed();

 private:
  enum State { kConnecting, kConnected, kDisconnecting, kDisconnected };

  void handleRead(Timestamp receiveTime);
  void handleEndOfStream();
  void handleWrite();
  void handleClose();
  void handleError();
  void stopWatching();
  void sendInLoop(const void* data, std::size_t length);
  std::size_t writeNow(const void* data, std::size_t length, bool* faultError);
  void queueOutput(const char* data, std::size_t length);
  void shutdownInLoop();
  void forceCloseInLoop();
  void startReadInLoop();
  void stopReadInLoop();

  EventLoop* const loop_;
  const std::string name_;
  // Read in any thread (connected(), forceClose()); written in the loop
  // thread, and by shutdown() through compare-exchange.
  std::atomic<State> state_{kConnecting};
  std::atomic<bool> reading_{false};
  bool peerClosed_ = false;         // it sent end of stream while output was queued
  std::unique_ptr<Socket> socket_;  // reset by connectDestroyed()
  Channel channel_;
  const InetAddress localAddr_;
  const InetAddress peerAddr_;

  ConnectionCallback connectionCallback_ = defaultConnectionCallback;
  MessageCallback messageCallback_ = defaultMessageCallback;
  WriteCompleteCallback writeCompleteCallback_;
  HighWaterMarkCallback highWaterMarkCallback_;
  CloseCallback closeCallback_;
  std::size_t highWaterMark_ = 64 * 1024 * 1024;

  Buffer inputBuffer_;
  Buffer outputBuffer_;
  std::any context_;
};

}  // namespace reactor
