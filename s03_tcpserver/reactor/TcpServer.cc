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
      ipPort_(acceptor_->listenAddress().toIpPort()) {
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
  for (auto& [name, conn] : connections) conn->connectDestroyed();
}
// [destructor]

InetAddress TcpServer::listenAddress() const { return acceptor_->listenAddress(); }

void TcpServer::start() {
  if (started_.exchange(true)) return;
  acceptor_->listen();
}

// [newConnection]
void TcpServer::newConnection(int sockfd, const InetAddress& peerAddr) {
  loop_->assertInLoopThread("TcpServer::newConnection");
  const std::string connName = name_ + "-" + ipPort_ + "#" + std::to_string(nextConnId_++);
  LOG_DEBUG("TcpServer::newConnection [%s] - new connection [%s] from %s", name_.c_str(),
            connName.c_str(), peerAddr.toIpPort().c_str());
  auto conn = std::make_shared<TcpConnection>(loop_, connName, sockfd,
                                              Socket::localAddressOf(sockfd), peerAddr);
  connections_[connName] = conn;
  conn->setConnectionCallback(connectionCallback_);
  conn->setMessageCallback(messageCallback_);
  conn->setWriteCompleteCallback(writeCompleteCallback_);
  conn->setCloseCallback([this](const TcpConnectionPtr& closed) { removeConnection(closed); });
  conn->connectEstablished();
}
// [newConnection]

// [removeConnection]
void TcpServer::removeConnection(const TcpConnectionPtr& conn) {
  loop_->assertInLoopThread("TcpServer::removeConnection");
  LOG_DEBUG("TcpServer::removeConnection [%s] - connection %s", name_.c_str(),
            conn->name().c_str());
  connections_.erase(conn->name());
  // Not now: this runs inside the connection's handleClose(), usually inside
  // its channel's handleEvent() too, and both still use the connection
  // after this returns. The functor's copy keeps the connection alive, now
  // that the map has let go, until connectDestroyed() has closed it.
  loop_->queueInLoop([conn] { conn->connectDestroyed(); });
}
// [removeConnection]

}  // namespace reactor
