// Connector: the active side of TCP. It connects a nonblocking socket to a
// server, waits in its loop until the attempt is over, and hands the
// connected descriptor to its new-connection callback; it makes no
// TcpConnection (TcpClient does). An attempt that fails for a reason that
// may pass (nobody listening yet, a full backlog) is retried after a delay
// that doubles from attempt to attempt up to a cap (exponential backoff); an
// attempt that cannot succeed by waiting (a bad address) is given up.
//
// What connect(2) says decides (see connect()):
//   continue: 0, EINPROGRESS, EINTR, EISCONN -- wait until writable, then
//             SO_ERROR says how the attempt ended (any error there: retry);
//   retry:    EAGAIN, EADDRINUSE, EADDRNOTAVAIL, ECONNREFUSED, ENETUNREACH,
//             and a full fd table (EMFILE, ENFILE) when creating the socket;
//   give up:  everything else (EACCES, EPERM, EAFNOSUPPORT, EINVAL, ...).
// A socket connected to itself (see Socket::isSelfConnect()) is closed and
// retried like a refused attempt, never handed over.
//
// The states: kDisconnected (idle, or waiting for a retry), kConnecting (a
// socket in progress), kConnected (a descriptor handed over: start() does
// nothing until stop() or restart()).
//
// Always held by a std::shared_ptr: the retry timer and the functors that
// start() and stop() hand to the loop hold only a weak_ptr, so a Connector
// destroyed meanwhile runs nothing.
//
// Thread rules:
//   any thread:       start(), stop(), serverAddress(), the constructor;
//   before start():   setNewConnectionCallback(), setConnectErrorCallback(),
//                     setRetryDelay();
//   loop thread only: restart(), the destructor; both callbacks run there.
// Each callback is the last thing its path does, so a callback may destroy
// the Connector (or the TcpClient that owns it).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include "reactor/InetAddress.h"
#include "reactor/TimerId.h"
#include "reactor/Timestamp.h"

namespace reactor {

class Channel;
class EventLoop;

/// Connects to one server address, retrying with exponential backoff.
class Connector : public std::enable_shared_from_this<Connector> {
 public:
  /// Receives the connected descriptor, which it then owns.
  using NewConnectionCallback = std::function<void(int sockfd)>;
  /// Runs after each failed attempt: the errno value, whether a retry is
  /// scheduled, and after how long (Duration::zero() when not).
  using ConnectErrorCallback =
      std::function<void(int savedErrno, bool willRetry, Duration retryDelay)>;

  /// The delay before the first retry.
  static constexpr Duration kDefaultInitialRetryDelay = std::chrono::milliseconds(500);
  /// The longest delay between two attempts.
  static constexpr Duration kDefaultMaxRetryDelay = std::chrono::seconds(30);

  /// Nothing happens until start(). Construct it with std::make_shared.
  Connector(EventLoop* loop, const InetAddress& serverAddr);
  /// Loop thread: cancels a pending retry and closes a socket still
  /// connecting; no callback runs afterwards.
  ~Connector();
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  /// What receives each connected descriptor. Without one, it is closed.
  void setNewConnectionCallback(NewConnectionCallback cb) {
    newConnectionCallback_ = std::move(cb);
  }
  /// What hears of each failed attempt, a self-connection included. A line
  /// is logged either way.
  void setConnectErrorCallback(ConnectErrorCallback cb) { connectErrorCallback_ = std::move(cb); }
  /// The first retry waits `initial`, each next one twice as long as the
  /// one before, never more than `max`. Aborts unless 0 < initial <= max.
  void setRetryDelay(Duration initial, Duration max);

  /// The address connected to.
  const InetAddress& serverAddress() const { return serverAddr_; }

  /// Starts connecting, in the loop's thread. Any thread. During the
  /// backoff it tries at once; while connecting, or once connected, it
  /// does nothing.
  void start();
  /// Loop thread: forgets the past (as stop()) and connects again at once,
  /// the backoff starting again from the initial delay. For an owner whose
  /// connection was lost.
  void restart();
  /// Stops connecting: cancels a pending retry and closes a socket still
  /// connecting, and reports nothing. Called in the loop thread, no
  /// callback runs after it; from another thread, one already under way
  /// may still run. The Connector is idle again, even after it handed over a descriptor,
  /// so start() connects anew. Any thread.
  void stop();

 private:
  enum State { kDisconnected, kConnecting, kConnected };

  std::weak_ptr<Connector> weakSelf(const char* function);
  void startInLoop();
  void stopInLoop();
  void connect();
  void connecting(int sockfd);
  void handleWrite();
  int removeAndResetChannel();
  void retry(int savedErrno);
  void giveUp(int savedErrno);

  EventLoop* const loop_;
  const InetAddress serverAddr_;
  // Written by start() and stop() in any thread; read in the loop thread
  // before each attempt and each callback.
  std::atomic<bool> connect_{false};
  State state_ = kDisconnected;       // loop thread only
  std::unique_ptr<Channel> channel_;  // the socket in progress, while kConnecting
  Duration initialRetryDelay_ = kDefaultInitialRetryDelay;
  Duration maxRetryDelay_ = kDefaultMaxRetryDelay;
  Duration retryDelay_ = kDefaultInitialRetryDelay;  // before the next retry
  TimerId retryTimer_;
  NewConnectionCallback newConnectionCallback_;
  ConnectErrorCallback connectErrorCallback_;
};

}  // namespace reactor
