// echo (RFC 862): sends back every byte it receives, until the client closes.
//   ./echo [port [threads]]    then: nc localhost 2007
#include "reactor/Buffer.h"
#include "reactor/TcpConnection.h"
#include "serve.h"

int main(int argc, char* argv[]) {
  return example::serve(argc, argv, "echo", 2007, [](reactor::TcpServer& server) {
    // [onMessage]
    server.setMessageCallback(
        [](const reactor::TcpConnectionPtr& conn, reactor::Buffer* buffer, reactor::Timestamp) {
          conn->send(buffer);  // sends all of it and empties the buffer
        });
    // [onMessage]
  });
}
