#include "reactor/InetAddress.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>
#include <stdexcept>

namespace reactor {

// [constructors]
InetAddress::InetAddress(uint16_t port, bool loopbackOnly, bool ipv6) {
  if (ipv6) {
    addr6_ = sockaddr_in6{};
    addr6_.sin6_family = AF_INET6;
    addr6_.sin6_addr = loopbackOnly ? in6addr_loopback : in6addr_any;
    addr6_.sin6_port = htons(port);
  } else {
    addr_ = sockaddr_in{};
    addr_.sin_family = AF_INET;
    addr_.sin_addr.s_addr = htonl(loopbackOnly ? INADDR_LOOPBACK : INADDR_ANY);
    addr_.sin_port = htons(port);
  }
}

InetAddress::InetAddress(std::string_view ip, uint16_t port) {
  const std::string text(ip);  // inet_pton wants a terminating '\0'
  // inet_pton(3) takes only complete literals: no "1.2.3", which the older
  // inet_aton(3) would read as 1.2.0.3, and no host names.
  if (text.find(':') == std::string::npos) {
    addr_ = sockaddr_in{};
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(port);
    if (::inet_pton(AF_INET, text.c_str(), &addr_.sin_addr) == 1) return;
  } else {
    addr6_ = sockaddr_in6{};
    addr6_.sin6_family = AF_INET6;
    addr6_.sin6_port = htons(port);
    if (::inet_pton(AF_INET6, text.c_str(), &addr6_.sin6_addr) == 1) return;
  }
  throw std::invalid_argument("InetAddress: \"" + text +
                              "\" is not an IPv4 or IPv6 address (use resolve() for host names)");
}
// [constructors]

// [resolve]
std::optional<InetAddress> InetAddress::resolve(std::string_view host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  if (::getaddrinfo(std::string(host).c_str(), nullptr, &hints, &results) != 0) {
    return std::nullopt;
  }
  std::optional<InetAddress> found;
  for (const addrinfo* ai = results; ai != nullptr && !found; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      found = InetAddress(*reinterpret_cast<const sockaddr_in*>(ai->ai_addr));
      found->addr_.sin_port = htons(port);
    } else if (ai->ai_family == AF_INET6) {
      found = InetAddress(*reinterpret_cast<const sockaddr_in6*>(ai->ai_addr));
      found->addr6_.sin6_port = htons(port);
    }
  }
  ::freeaddrinfo(results);
  return found;
}
// [resolve]

std::string InetAddress::toIp() const {
  char text[INET6_ADDRSTRLEN] = "";
  if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &addr6_.sin6_addr, text, sizeof text);
  } else {
    ::inet_ntop(AF_INET, &addr_.sin_addr, text, sizeof text);
  }
  return text;
}

std::string InetAddress::toIpPort() const {
  const std::string port = std::to_string(this->port());
  // The brackets keep the port apart from the colons of an IPv6 address.
  if (family() == AF_INET6) return "[" + toIp() + "]:" + port;
  return toIp() + ":" + port;
}

uint16_t InetAddress::port() const {
  return ntohs(family() == AF_INET6 ? addr6_.sin6_port : addr_.sin_port);
}

bool InetAddress::operator==(const InetAddress& other) const {
  if (family() != other.family() || port() != other.port()) return false;
  if (family() == AF_INET6) {
    return std::memcmp(&addr6_.sin6_addr, &other.addr6_.sin6_addr, sizeof addr6_.sin6_addr) == 0 &&
           addr6_.sin6_scope_id == other.addr6_.sin6_scope_id;
  }
  return addr_.sin_addr.s_addr == other.addr_.sin_addr.s_addr;
}

}  // namespace reactor
