// Chapter 3: InetAddress, the socket address a server binds and a client
// connects to, and the addresses a TcpServer reports and refuses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <system_error>

#include "gtest/gtest.h"
#include "reactor/InetAddress.h"
#include "reactor/TcpServer.h"
#include "tcp_test_support.h"

namespace {

using reactor::InetAddress;
using reactor::TcpServer;
using namespace reactor_test;

TEST(InetAddressTest, BadLiteralsThrowInvalidArgumentNamingTheText) {
  for (const char* text : {"256.1.1.1", "1.2.3", "::g", "", "localhost", "1.2.3.4.5"}) {
    SCOPED_TRACE(std::string("\"") + text + "\"");
    try {
      InetAddress address(text, 80);
      ADD_FAILURE() << "parsed as " << address.toIpPort();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("\"") + text + "\""), std::string::npos)
          << "what() does not quote the text: " << e.what();
    }
  }
}

TEST(InetAddressTest, ToIpPortFormatsIpv4AndIpv6) {
  const InetAddress v4("127.0.0.1", 80);
  EXPECT_EQ(v4.family(), AF_INET);
  EXPECT_EQ(v4.toIp(), "127.0.0.1");
  EXPECT_EQ(v4.toIpPort(), "127.0.0.1:80");
  EXPECT_EQ(v4.port(), 80);
  EXPECT_EQ(v4.getSockAddr()->sa_family, AF_INET);

  const InetAddress v6("::1", 8080);
  EXPECT_EQ(v6.family(), AF_INET6);
  EXPECT_EQ(v6.toIp(), "::1");
  EXPECT_EQ(v6.toIpPort(), "[::1]:8080");
  EXPECT_EQ(v6.port(), 8080);
  EXPECT_EQ(v6.getSockAddr()->sa_family, AF_INET6);

  EXPECT_EQ(InetAddress("2001:db8::ff00:42:8329", 65535).toIpPort(),
            "[2001:db8::ff00:42:8329]:65535");
  EXPECT_EQ(InetAddress("10.0.0.255", 0).toIpPort(), "10.0.0.255:0");
}

TEST(InetAddressTest, PortConstructorGivesAnyOrLoopback) {
  EXPECT_EQ(InetAddress(2007).toIpPort(), "0.0.0.0:2007");
  EXPECT_EQ(InetAddress(2007, true).toIpPort(), "127.0.0.1:2007");
  EXPECT_EQ(InetAddress(2007, false, true).toIpPort(), "[::]:2007");
  EXPECT_EQ(InetAddress(2007, true, true).toIpPort(), "[::1]:2007");
  EXPECT_EQ(InetAddress().port(), 0);
}

TEST(InetAddressTest, WrapsTheKernelsSockaddrsAndCompares) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(443);
  ASSERT_EQ(::inet_pton(AF_INET, "192.168.1.2", &in.sin_addr), 1);
  EXPECT_EQ(InetAddress(in).toIpPort(), "192.168.1.2:443");
  EXPECT_EQ(InetAddress(in), InetAddress("192.168.1.2", 443));

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(443);
  in6.sin6_addr = in6addr_loopback;
  EXPECT_EQ(InetAddress(in6).toIpPort(), "[::1]:443");
  EXPECT_EQ(InetAddress(in6), InetAddress("::1", 443));

  EXPECT_NE(InetAddress("127.0.0.1", 1), InetAddress("127.0.0.1", 2));
  EXPECT_NE(InetAddress("127.0.0.1", 1), InetAddress("127.0.0.2", 1));
  EXPECT_NE(InetAddress("::1", 1), InetAddress("127.0.0.1", 1));
}

// resolve() blocks in getaddrinfo(3); "localhost" comes from /etc/hosts.
TEST(InetAddressTest, ResolveFindsLocalhostAndLiterals) {
  const std::optional<InetAddress> localhost = InetAddress::resolve("localhost", 7);
  ASSERT_TRUE(localhost.has_value());
  EXPECT_EQ(localhost->port(), 7);
  EXPECT_TRUE(localhost->toIp() == "127.0.0.1" || localhost->toIp() == "::1") << localhost->toIp();

  const std::optional<InetAddress> literal = InetAddress::resolve("10.1.2.3", 9);
  ASSERT_TRUE(literal.has_value());
  EXPECT_EQ(*literal, InetAddress("10.1.2.3", 9));
}

TEST(TcpServerAddressTest, PortZeroReportsTheRealPort) {
  LoopThread thread;
  TestServer server(thread, [](TcpServer&) {});
  const uint16_t port = server.address().port();
  EXPECT_NE(port, 0);
  EXPECT_EQ(server.address().toIpPort(), "127.0.0.1:" + std::to_string(port));
  // The port is real: a client gets through to it.
  Client client = Client::connectedTo(server.address());
  EXPECT_GE(client.fd(), 0);
}

TEST(TcpServerAddressTest, APortInUseThrowsSystemErrorNamingTheAddress) {
  // A listener of our own holds the port.
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t port = ntohs(addr.sin_port);

  reactor::EventLoop loop;
  const size_t fdsBefore = countOpenFds();
  try {
    TcpServer server(&loop, InetAddress("127.0.0.1", port), "taken");
    ADD_FAILURE() << "bound a port that is in use";
  } catch (const std::system_error& e) {
    EXPECT_TRUE(e.code() == std::errc::address_in_use) << e.code() << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos)
        << "what() does not name the address: " << e.what();
  }
  EXPECT_EQ(countOpenFds(), fdsBefore) << "the failed constructor left a descriptor open";
  ::close(holder);
}

TEST(TcpServerAddressTest, AnIpv6ServerOnLoopbackServesAClient) {
  {
    // Without an IPv6 loopback there is nothing to test.
    const int probe = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    const bool hasIpv6 =
        probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (probe >= 0) ::close(probe);
    if (!hasIpv6) GTEST_SKIP() << "this machine has no IPv6 loopback";
  }
  LoopThread thread;
  ConnectionLog log;
  TestServer server(
      thread,
      [&](TcpServer& s) {
        s.setConnectionCallback(log.callback());
        s.setMessageCallback(echo);
      },
      InetAddress(0, true, true));
  EXPECT_EQ(server.address().family(), AF_INET6);
  EXPECT_EQ(server.address().toIp(), "::1");

  Client client = Client::connectedTo(server.address());
  ASSERT_TRUE(client.writeAll("hello over IPv6"));
  EXPECT_EQ(client.readExactly(15), "hello over IPv6");
  ASSERT_TRUE(log.waitForUps(1));
  const auto conn = log.connection(0);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->peerAddress().family(), AF_INET6);
  EXPECT_EQ(conn->peerAddress().toIp(), "::1");
  EXPECT_EQ(conn->peerAddress().port(), client.localPort());
  EXPECT_EQ(conn->localAddress().port(), server.address().port());
}

}  // namespace
