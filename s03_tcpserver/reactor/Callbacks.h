// The callbacks a program gives a TcpServer or a TcpConnection, and the
// shared pointer that holds every connection. All of them run in the
// connection's loop thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "reactor/Timestamp.h"

namespace reactor {

class Buffer;
class TcpConnection;

/// A connection's owner handle. A callback that keeps a copy keeps the
/// object (never the socket) alive after the connection closes.
using TcpConnectionPtr = std::shared_ptr<TcpConnection>;

/// Runs once when the connection is up (connected() true) and once when it
/// is down (connected() false).
using ConnectionCallback = std::function<void(const TcpConnectionPtr&)>;
/// Runs when bytes arrived; they wait in `buffer` until the callback
/// consumes them (retrieve()), so a partial message may stay for later.
using MessageCallback =
    std::function<void(const TcpConnectionPtr&, Buffer* buffer, Timestamp receiveTime)>;
/// Runs when the output buffer has emptied: everything sent was handed to
/// the kernel.
using WriteCompleteCallback = std::function<void(const TcpConnectionPtr&)>;
/// Runs when the output buffer grows past the mark, once per crossing.
using HighWaterMarkCallback = std::function<void(const TcpConnectionPtr&, std::size_t queuedBytes)>;
/// The owner's hook to let go of a closed connection (the TcpServer sets
/// it); not for programs.
using CloseCallback = std::function<void(const TcpConnectionPtr&)>;

/// Logs each connection up and down: the default of TcpServer.
void defaultConnectionCallback(const TcpConnectionPtr& conn);
/// Discards what arrived: the default of TcpServer.
void defaultMessageCallback(const TcpConnectionPtr& conn, Buffer* buffer, Timestamp receiveTime);

}  // namespace reactor
