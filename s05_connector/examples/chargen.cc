// chargen (RFC 864): sends lines of characters, as fast as the client takes
// them, until the client closes; throws away what the client sends.
//   ./chargen [port [threads]]    then: nc localhost 2019 | head
#include <string>

#include "reactor/TcpConnection.h"
#include "serve.h"

namespace {

// [pattern]
// The RFC's pattern: the 95 printable characters, '!' to '~' and then the
// space, as a ring; line N holds the 72 characters from number N on, and
// ends with CRLF. After 95 lines the ring has turned once and line 95 is
// line 0 again, so these 95 lines, sent over and over, are the whole stream.
std::string oneTurnOfTheRing() {
  std::string ring;
  for (char c = '!'; c <= '~'; ++c) ring += c;
  ring += ' ';
  std::string lines;
  for (std::size_t first = 0; first < ring.size(); ++first) {
    for (std::size_t i = 0; i < 72; ++i) lines += ring[(first + i) % ring.size()];
    lines += "\r\n";
  }
  return lines;
}
// [pattern]

const std::string kLines = oneTurnOfTheRing();

}  // namespace

int main(int argc, char* argv[]) {
  return example::serve(argc, argv, "chargen", 2019, [](reactor::TcpServer& server) {
    // [callbacks]
    server.setConnectionCallback([](const reactor::TcpConnectionPtr& conn) {
      reactor::defaultConnectionCallback(conn);  // logs it up and down
      if (conn->connected()) conn->send(kLines);
    });
    // More only once the last lines have all gone to the kernel: a client
    // that reads slowly slows the server down instead of filling its memory.
    server.setWriteCompleteCallback(
        [](const reactor::TcpConnectionPtr& conn) { conn->send(kLines); });
    // [callbacks]
  });
}
