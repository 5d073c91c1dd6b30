#include "reactor/TcpClient.h"

#include "reactor/EventLoop.h"
#include "reactor/Logging.h"
#include "reactor/Socket.h"

namespace reactor {

TcpClient::TcpClient(EventLoop* loop, const InetAddress& serverAddr, std::string name)
    : loop_(loop),
      connector_(std::make_shared<Connector>(loop, serverAddr)),
      name_(std::move(name)) {
  // A raw `this` is safe here: the Connector is this client's alone, dies
  // with it, and calls back only in the loop thread, where the client dies.
  connector_->setNewConnectionCallback([this](int sockfd) { newConnection(sockfd); });
}

// [destructor]
TcpClient::~TcpClient() {
  loop_->assertInLoopThread("TcpClient::~TcpClient");
  TcpConnectionPtr conn;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    conn.swap(connection_);
  }
  // Closed now, however many other holders it has (muduo issues #94, #194,
  // #488): the peer sees the end of the stream, and every call another
  // thread makes on it from now on does nothing.
  if (conn) conn->connectDestroyed();
  // Then the members go, connector_ with them: its destructor cancels a
  // pending retry and closes a socket still connecting.
}
// [destructor]

// [connect]
void TcpClient::connect() {
  connect_ = true;
  // While connected, the Connector must stay as it is: it would connect
  // anew if a stop() had made it idle. A connection lost meanwhile is the
  // same as one lost just after this call.
  if (!connection()) connector_->start();
}

void TcpClient::disconnect() {
  connect_ = false;
  if (TcpConnectionPtr conn = connection()) conn->shutdown();
}

void TcpClient::stop() {
  connect_ = false;
  connector_->stop();
}
// [connect]

TcpConnectionPtr TcpClient::connection() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connection_;
}

// [newConnection]
void TcpClient::newConnection(int sockfd) {
  loop_->assertInLoopThread("TcpClient::newConnection");
  // The peer of a connected TCP socket is the address it connected to.
  const InetAddress& peerAddr = connector_->serverAddress();
  const std::string connName =
      name_ + ":" + peerAddr.toIpPort() + "#" + std::to_string(nextConnId_++);
  LOG_DEBUG("TcpClient::newConnection [%s] - new connection [%s]", name_.c_str(), connName.c_str());
  auto conn = std::make_shared<TcpConnection>(loop_, connName, sockfd,
                                              Socket::localAddressOf(sockfd), peerAddr);
  conn->setConnectionCallback(connectionCallback_);
  conn->setMessageCallback(messageCallback_);
  conn->setWriteCompleteCallback(writeCompleteCallback_);
  // handleClose() runs this right after the disconnect callback, which may
  // have destroyed the client: hence the check, safe since both run in this
  // loop's thread. Once the client is gone, its destructor has done the rest.
  conn->setCloseCallback(
      [this, alive = std::weak_ptr<bool>(alive_)](const TcpConnectionPtr& closed) {
        if (!alive.expired()) removeConnection(closed);
      });
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connection_ = conn;
  }
  conn->connectEstablished();
}
// [newConnection]

// [removeConnection]
void TcpClient::removeConnection(const TcpConnectionPtr& conn) {
  loop_->assertInLoopThread("TcpClient::removeConnection");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connection_.reset();
  }
  // Queued: the connection's handleClose() is still running, and uses the
  // connection after this callback returns. The functor's copy keeps it
  // alive until connectDestroyed() has closed it.
  loop_->queueInLoop([conn] { conn->connectDestroyed(); });
  // Last, since a failed attempt's error callback may destroy this client.
  if (retry_ && connect_) {
    LOG_INFO("TcpClient [%s]: connection lost: reconnecting to %s", name_.c_str(),
             connector_->serverAddress().toIpPort().c_str());
    connector_->restart();
  } else {
    connector_->stop();  // idle again, so that a later connect() starts anew
  }
}
// [removeConnection]

}  // namespace reactor
