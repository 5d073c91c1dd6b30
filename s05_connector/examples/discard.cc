// discard (RFC 863): throws away every byte it receives, until the client
// closes.   ./discard [port [threads]]    then: nc localhost 2009
#include "reactor/Buffer.h"
#include "reactor/TcpConnection.h"
#include "serve.h"

int main(int argc, char* argv[]) {
  return example::serve(argc, argv, "discard", 2009, [](reactor::TcpServer& server) {
    server.setMessageCallback([](const reactor::TcpConnectionPtr&, reactor::Buffer* buffer,
                                 reactor::Timestamp) { buffer->retrieveAll(); });
  });
}
