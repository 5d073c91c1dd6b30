// daytime (RFC 867): sends the date and time as one line of text, then
// closes.   ./daytime [port [threads]]    then: nc localhost 2013
#include <ctime>
#include <string>

#include "reactor/TcpConnection.h"
#include "serve.h"

namespace {

// RFC 867 leaves the format open and suggests this one:
// "Friday, November 27, 2026 13:45:01-UTC".
std::string daytime() {
  const std::time_t now = std::time(nullptr);
  std::tm local;
  ::localtime_r(&now, &local);
  char text[64];
  std::strftime(text, sizeof text, "%A, %B %d, %Y %H:%M:%S-%Z\r\n", &local);
  return text;
}

}  // namespace

int main(int argc, char* argv[]) {
  return example::serve(argc, argv, "daytime", 2013, [](reactor::TcpServer& server) {
    // [onConnection]
    server.setConnectionCallback([](const reactor::TcpConnectionPtr& conn) {
      reactor::defaultConnectionCallback(conn);  // logs it up and down
      if (conn->connected()) {
        conn->send(daytime());
        conn->shutdown();  // after the line has gone: the client reads end of stream
      }
    });
    // [onConnection]
  });
}
