// InetAddress: an IPv4 or IPv6 socket address (address and port), the value
// that bind(2), connect(2) and accept(2) speak. A plain copyable value: any
// thread, as long as each object is used by one thread at a time.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reactor {

/// An IPv4 or IPv6 address with a port.
class InetAddress {
 public:
  /// Every local address (INADDR_ANY, in6addr_any), or only the loopback
  /// one, at `port`; port 0 lets the kernel choose when binding.
  explicit InetAddress(uint16_t port = 0, bool loopbackOnly = false, bool ipv6 = false);

  /// Parses an IPv4 ("127.0.0.1") or IPv6 ("::1") literal. Throws
  /// std::invalid_argument naming the text when it is neither: "1.2.3",
  /// "256.1.1.1", "::g", "" and host names such as "localhost" (see resolve()).
  InetAddress(std::string_view ip, uint16_t port);

  /// Wraps an address the kernel returned.
  explicit InetAddress(const sockaddr_in& addr) : addr_(addr) {}
  /// Wraps an address the kernel returned.
  explicit InetAddress(const sockaddr_in6& addr) : addr6_(addr) {}

  /// The first address that getaddrinfo(3) finds for `host` (a name or a
  /// literal), with `port`; nullopt when there is none. Blocks the calling
  /// thread while DNS answers, for seconds at worst: never call it inside a
  /// loop's callback.
  static std::optional<InetAddress> resolve(std::string_view host, uint16_t port);

  /// "127.0.0.1" or "::1".
  std::string toIp() const;
  /// "127.0.0.1:80" or "[::1]:80".
  std::string toIpPort() const;
  /// The port, in host byte order.
  uint16_t port() const;
  /// AF_INET or AF_INET6.
  sa_family_t family() const { return addr_.sin_family; }
  /// For the socket calls; its length follows from family().
  const sockaddr* getSockAddr() const { return reinterpret_cast<const sockaddr*>(&addr6_); }
  /// sizeof the sockaddr_in or sockaddr_in6 that getSockAddr() points to.
  socklen_t getSockAddrLength() const {
    return family() == AF_INET6 ? sizeof addr6_ : sizeof addr_;
  }

  /// Same family, address and port.
  bool operator==(const InetAddress& other) const;
  /// Not operator==.
  bool operator!=(const InetAddress& other) const { return !(*this == other); }

 private:
  // Both start with the family field, which says which one is in use.
  union {
    sockaddr_in addr_;
    sockaddr_in6 addr6_;
  };
};

}  // namespace reactor
