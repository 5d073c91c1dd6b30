// Channel: binds one file descriptor to the callbacks for its events, in one
// EventLoop. It says which events to watch (enableReading(), ...) and, when the
// Poller reports some, runs the matching callbacks (handleEvent()).
// A Channel never owns its descriptor and never closes it: whoever opened the
// descriptor closes it, after disableAll() and remove().
//
// Thread rules: a Channel may be constructed and given its callbacks in any
// thread, before it is first enabled. From then on every member runs in the
// owner loop's thread (hand the calls over with EventLoop::runInLoop()); the
// loop aborts, naming the function, when its updateChannel() or
// removeChannel() is reached from another thread. Destroying a Channel that
// is still registered, or inside its own handleEvent(), aborts too.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "reactor/Timestamp.h"

namespace reactor {

class EventLoop;

/// The events of one file descriptor, and what to do about them.
class Channel {
 public:
  /// Runs on a write, close or error event.
  using EventCallback = std::function<void()>;
  /// Runs on a read event; `receiveTime` is when the Poller returned.
  using ReadEventCallback = std::function<void(Timestamp receiveTime)>;

  /// A channel for `fd` in `loop`, watching no events yet.
  Channel(EventLoop* loop, int fd);
  /// Aborts if the channel is still registered: call disableAll() and
  /// remove() first. Never closes the descriptor.
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// Runs the callbacks for the events the Poller returned (set_revents()):
  /// hang-up without data to read runs the close callback; an error or a
  /// descriptor that is not open runs the error callback; data, urgent data
  /// or a peer's half-close runs the read callback; room to write runs the
  /// write callback. A channel that is not registered, or that one of these
  /// callbacks removes, hears nothing (more).
  void handleEvent(Timestamp receiveTime);

  /// What runs when the descriptor is readable.
  void setReadCallback(ReadEventCallback cb) { readCallback_ = std::move(cb); }
  /// What runs when the descriptor is writable.
  void setWriteCallback(EventCallback cb) { writeCallback_ = std::move(cb); }
  /// What runs when the peer hung up and there is nothing left to read.
  void setCloseCallback(EventCallback cb) { closeCallback_ = std::move(cb); }
  /// What runs on an error, or when the descriptor was closed while watched
  /// (poll(2) only: epoll(7) forgets a closed descriptor by itself).
  void setErrorCallback(EventCallback cb) { errorCallback_ = std::move(cb); }

  /// Keeps `owner` alive while handleEvent() runs the callbacks, and drops
  /// the event when `owner` is gone. A TcpConnection ties itself to its
  /// channel: a callback may let go of the last other pointer to it, and
  /// the callbacks after that one still run on its members.
  void tie(const std::shared_ptr<void>& owner) {
    tie_ = owner;
    tied_ = true;
  }

  /// The descriptor, which this channel does not own.
  int fd() const { return fd_; }
  /// The events watched, as poll(2) flags.
  int events() const { return events_; }
  /// The loop this channel belongs to.
  EventLoop* ownerLoop() const { return loop_; }

  /// True when no event is watched.
  bool isNoneEvent() const { return events_ == kNoneEvent; }
  /// True when readability is watched.
  bool isReading() const { return (events_ & kReadEvent) != 0; }
  /// True when writability is watched.
  bool isWriting() const { return (events_ & kWriteEvent) != 0; }

  /// Starts watching readability; the first enable registers the channel.
  void enableReading() {
    events_ |= kReadEvent;
    update();
  }
  /// Stops watching readability.
  void disableReading() {
    events_ &= ~kReadEvent;
    update();
  }
  /// Starts watching writability. Enable it only while there is something to
  /// write: a socket is writable nearly all the time, and level-triggered
  /// polling reports it on every iteration.
  void enableWriting() {
    events_ |= kWriteEvent;
    update();
  }
  /// Stops watching writability.
  void disableWriting() {
    events_ &= ~kWriteEvent;
    update();
  }
  /// Stops watching everything; the channel stays registered until remove().
  void disableAll() {
    events_ = kNoneEvent;
    update();
  }

  /// Unregisters the channel from its loop, after disableAll(). Safe inside
  /// any callback of the same loop: the channel gets no further callback.
  void remove();

  /// The events the Poller returned; set by the Poller before handleEvent().
  void set_revents(int revents) { revents_ = revents; }
  /// "fd 7: IN HUP": the events the Poller returned, for the trace log.
  std::string reventsToString() const;
  /// The Poller's own bookkeeping (where the channel stands in its tables);
  /// no meaning to anyone else.
  int index() const { return index_; }
  /// Sets the Poller's bookkeeping value; see index().
  void set_index(int index) { index_ = index; }

 private:
  void update();

  static const int kNoneEvent;
  static const int kReadEvent;
  static const int kWriteEvent;

  EventLoop* const loop_;
  const int fd_;
  int events_ = 0;
  int revents_ = 0;
  int index_ = -1;  // a Poller's "never seen"
  bool addedToLoop_ = false;
  bool eventHandling_ = false;
  std::weak_ptr<void> tie_;
  bool tied_ = false;

  ReadEventCallback readCallback_;
  EventCallback writeCallback_;
  EventCallback closeCallback_;
  EventCallback errorCallback_;
};

}  // namespace reactor
