// Chapter 5: a self-connection. When nobody listens on a local port P and
// the kernel happens to give the connecting socket P itself as its own port,
// the SYN it sends arrives at itself, and TCP's simultaneous open connects
// the socket to itself. connect(2) then succeeds, with nobody at the other
// end. The check compares the local and the peer address; a Connector that
// finds one closes it and retries, and never hands it over.
//
// The kernel's choice of port cannot be steered, so this file forces the
// race: its own connect(2), which the library's calls reach first (a
// definition in the program comes before the C library's), binds the
// socket to the very address it connects to, once, when a test asks.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>

#include "connector_test_support.h"
#include "gtest/gtest.h"
#include "reactor/Connector.h"
#include "reactor/InetAddress.h"
#include "reactor/Socket.h"
#include "reactor/TcpServer.h"

namespace {

// Nonzero: the next connect to 127.0.0.1 at this port is turned into a
// self-connection.
std::atomic<uint16_t> selfConnectPort{0};
// Set once a connect was turned into one, and the kernel connected it.
std::atomic<bool> madeSelfConnection{false};

bool isLoopbackAt(const sockaddr* addr, uint16_t port) {
  if (addr->sa_family != AF_INET) return false;
  const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
  return in->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(in->sin_port) == port;
}

// Waits (briefly: loopback) for the attempt on the nonblocking `sockfd` to
// end, and tells whether it connected the socket to itself. Reads neither
// data nor SO_ERROR, so the library finds the socket as it would have.
bool becameSelfConnected(int sockfd) {
  pollfd pfd{sockfd, POLLOUT, 0};
  return ::poll(&pfd, 1, 5000) == 1 && reactor_test::connectedToItself(sockfd);
}

}  // namespace

extern "C" int connect(int sockfd, const sockaddr* addr, socklen_t length) {
  using ConnectFunction = int (*)(int, const sockaddr*, socklen_t);
  static const auto realConnect = reinterpret_cast<ConnectFunction>(::dlsym(RTLD_NEXT, "connect"));
  uint16_t port = selfConnectPort.load();
  const bool force =
      port != 0 && isLoopbackAt(addr, port) && selfConnectPort.compare_exchange_strong(port, 0);
  if (!force) return realConnect(sockfd, addr, length);
  // The socket's own address is the one it connects to. SO_REUSEADDR lets
  // a server bind the port while the closed self-connection waits in
  // TIME_WAIT.
  const int on = 1;
  ::setsockopt(sockfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(sockfd, addr, length) != 0) return realConnect(sockfd, addr, length);
  const int result = realConnect(sockfd, addr, length);
  const int savedErrno = errno;
  if (becameSelfConnected(sockfd)) madeSelfConnection = true;
  errno = savedErrno;
  return result;
}

namespace {

using reactor::InetAddress;
using reactor::Socket;
using reactor::TcpServer;
using namespace reactor_test;

/// A socket of `family` bound to the loopback address at a port the kernel
/// picks, then connected to that same address: simultaneous open connects
/// it to itself.
Client selfConnected(sa_family_t family) {
  Client client(family);
  const InetAddress any(0, true, family == AF_INET6);
  EXPECT_EQ(::bind(client.fd(), any.getSockAddr(), any.getSockAddrLength()), 0)
      << std::strerror(errno);
  const InetAddress own = family == AF_INET6 ? InetAddress("::1", client.localPort())
                                             : InetAddress("127.0.0.1", client.localPort());
  EXPECT_TRUE(client.connect(own)) << std::strerror(errno);
  return client;
}

TEST(SelfConnectTest, TheCheckFindsAnIpv4SocketConnectedToItself) {
  const Client client = selfConnected(AF_INET);
  ASSERT_TRUE(connectedToItself(client.fd())) << "the kernel made no self-connection";
  EXPECT_TRUE(Socket::isSelfConnect(client.fd()));
}

TEST(SelfConnectTest, TheCheckFindsAnIpv6SocketConnectedToItself) {
  const Client client = selfConnected(AF_INET6);
  ASSERT_TRUE(connectedToItself(client.fd())) << "the kernel made no self-connection";
  EXPECT_TRUE(Socket::isSelfConnect(client.fd()));
}

TEST(SelfConnectTest, TheCheckPassesASocketConnectedToAServer) {
  Listener listener(16);
  const Client client = Client::connectedTo(listener.address());
  const int accepted = listener.accept();
  ASSERT_GE(accepted, 0);
  EXPECT_FALSE(Socket::isSelfConnect(client.fd()));
  EXPECT_FALSE(Socket::isSelfConnect(accepted));
  ::close(accepted);
}

TEST(SelfConnectTest, AConnectorRetriesASelfConnectionAndNeverHandsItOver) {
  constexpr auto kDelay = 50ms;
  AttemptLog log;
  ConnectionLog serverLog;
  LoopThread serverThread;
  LoopThread thread;
  RefusingPort port;
  const InetAddress address = port.address();
  port.release();  // free for the self-connection, then for the server
  TestConnector connector(thread, address, log, kDelay, kDelay);
  madeSelfConnection = false;
  selfConnectPort = address.port();
  connector->start();
  ASSERT_TRUE(log.waitForErrors(1));
  selfConnectPort = 0;
  ASSERT_TRUE(madeSelfConnection) << "the forced self-connection did not happen";
  EXPECT_TRUE(log.errors().front().willRetry);
  EXPECT_EQ(log.get().connections, 0) << "the self-connection was handed over";

  // A server comes; a retry finds it.
  TestServer server(
      serverThread, [&](TcpServer& s) { s.setConnectionCallback(serverLog.callback()); }, address);
  ASSERT_TRUE(log.waitForConnections(1));
  connector.destroy();
  const Attempts attempts = log.get();
  EXPECT_EQ(attempts.connections, 1);
  EXPECT_EQ(attempts.selfConnections, 0) << "a self-connection was handed over";
  EXPECT_TRUE(serverLog.waitForUps(1));
}

}  // namespace
