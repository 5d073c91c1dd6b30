#include "reactor/TcpServer.h"

#include "reactor/Acceptor.h"
#include "reactor/EventLoop.h"
#include "reactor/Logging.h"
#include "reactor/Socket.h"

namespace reactor {

TcpServer::TcpServer(EventLoop* loop, const InetAddress& listenAddr, std::string name,
                     Option option)
    : loop_(loop),
      name_(std::move(name)),
      acceptor_(std::make_unique<Acceptor>(loop, listenAddr, option == kReusePort)),
      ipPort_(acceptor_->listenAddress().toIpPort()),
      threadPool_(std::make_shared<EventLoopThreadPool>(loop, name_)) {
  acceptor_->setNewConnectionCallback(
      [this](int sockfd, const InetAddress& peerAddr) { newConnection(sockfd, peerAddr); });
}

// [destructor]
TcpServer::~TcpServer() {
  loop_->assertInLoopThread("TcpServer::~TcpServer");
  // Moved out first: each connectDestroyed() runs a disconnect callback,
  // which must not find a half-emptied map.
  std::map<std::string, TcpConnectionPtr> connections;
  connections.swap(connections_);
  // Each in its own loop. An I/O loop runs this before it ends, even when
  // the pool goes with the server, right after this body: ~EventLoopThread
  // ends a loop only once it has run the work queued before.
  for (auto& [name, conn] : connections) {
    conn->getLoop()->runInLoop([conn = conn] { conn->connectDestroyed(); });
  }
}
// [destructor]

InetAddress TcpServer::listenAddress() const { return acceptor_->listenAddress(); }

// [start]
void TcpServer::start() {
  if (started_.exchange(true)) return;
  // Handed over before listen() hands over the acceptor's channel, so the
  // pool has its loops before the first connection asks for one.
  loop_->runInLoop([pool = threadPool_, cb = threadInitCallback_] { pool->start(cb); });
  acceptor_->listen();
}
// [start]

// [newConnection]
void TcpServer::newConnection(int sockfd, const InetAddress& peerAddr) {
  loop_->assertInLoopThread("TcpServer::newConnection");
  EventLoop* ioLoop = threadPool_->getNextLoop();
  const std::string connName = name_ + "-" + ipPort_ + "#" + std::to_string(nextConnId_++);
  LOG_DEBUG("TcpServer::newConnection [%s] - new connection [%s] from %s", name_.c_str(),
            connName.c_str(), peerAddr.toIpPort().c_str());
  auto conn = std::make_shared<TcpConnection>(ioLoop, connName, sockfd,
                                              Socket::localAddressOf(sockfd), peerAddr);
  connections_[connName] = conn;
  conn->setConnectionCallback(connectionCallback_);
  conn->setMessageCallback(messageCallback_);
  conn->setWriteCompleteCallback(writeCompleteCallback_);
  conn->setCloseCallback(removeConnectionCallback());
  ioLoop->runInLoop([conn] { conn->connectEstablished(); });
}
// [newConnection]

// [removeConnection]
// Runs in the connection's loop, from its handleClose(), and hops to the base
// loop, which owns the map. It reads nothing of the server on the way: the
// server may be being destroyed in the base loop's thread at this moment.
// The functor it queues there runs removeConnectionInLoop() only if the
// server is still alive; if not, ~TcpServer has queued the teardown already.
CloseCallback TcpServer::removeConnectionCallback() {
  return
      [this, baseLoop = loop_, alive = std::weak_ptr<bool>(alive_)](const TcpConnectionPtr& conn) {
        baseLoop->runInLoop([this, alive, conn] {
          if (!alive.expired()) removeConnectionInLoop(conn);
        });
      };
}

void TcpServer::removeConnectionInLoop(const TcpConnectionPtr& conn) {
  loop_->assertInLoopThread("TcpServer::removeConnectionInLoop");
  LOG_DEBUG("TcpServer::removeConnection [%s] - connection %s", name_.c_str(),
            conn->name().c_str());
  connections_.erase(conn->name());
  // Back to the connection's loop, and queued even when that is this loop:
  // the connection's handleClose() may still be running, and uses the
  // connection after its close callback returns. The functor's copy keeps
  // the connection alive, now that the map has let go, until
  // connectDestroyed() has closed it.
  conn->getLoop()->queueInLoop([conn] { conn->connectDestroyed(); });
}
// [removeConnection]

}  // namespace reactor
