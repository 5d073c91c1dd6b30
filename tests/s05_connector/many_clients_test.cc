// Chapter 5: a thousand TcpClients on a pool of two loops, all connecting at
// once to a TcpServer with two I/O threads; every one connects and gets its
// own bytes back exactly. A burst like this can fill the server's accept
// queue: the kernel then drops SYNs and the clients' kernels resend them,
// or an attempt is refused and retried; neither may end a client.
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "connector_test_support.h"
#include "gtest/gtest.h"
#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/EventLoopThreadPool.h"
#include "reactor/TcpClient.h"
#include "reactor/TcpServer.h"
#include "s04_threadpool/thread_test_support.h"

namespace {

using reactor::EventLoop;
using reactor::EventLoopThreadPool;
using reactor::TcpClient;
using reactor::TcpConnectionPtr;
using reactor::TcpServer;
using namespace reactor_test;

constexpr int kClients = 1000;
constexpr size_t kMessageBytes = 4096;
constexpr auto kLimit = 120s;  // a thousand connections under ThreadSanitizer

/// Raises the soft limit on descriptors to the hard one: each client needs
/// one, and the server's end another. True when there are enough.
bool raiseFdLimit(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  return limit.rlim_cur >= needed;
}

/// How the clients are doing, all together.
struct Progress {
  int echoed = 0;      // clients that got all their bytes back
  int mismatched = 0;  // of those, the ones whose bytes came back changed
  int gaveUp = 0;      // attempts not retried
};

/// One client and what it expects back; the strings are touched only in
/// the client's loop thread.
struct EchoClient {
  std::unique_ptr<TcpClient> client;
  EventLoop* loop = nullptr;
  std::string message;
  std::string received;
};

TEST(ManyClientsTest, AThousandClientsOnTwoLoopsConnectAtOnceAndAllEchoExactly) {
  ASSERT_TRUE(raiseFdLimit(2 * kClients + 200)) << "too few descriptors allowed";
  Monitor<Progress> progress;
  LoopThread serverThread;
  LoopThread clientBase;
  TestServer server(serverThread, [](TcpServer& s) {
    s.setThreadNum(2);
    s.setMessageCallback(echo);
  });

  auto pool = clientBase.call([&] {
    auto p = std::make_unique<EventLoopThreadPool>(clientBase.loop(), "clients");
    p->setThreadNum(2);
    p->start();
    return p;
  });
  std::vector<EchoClient> clients(kClients);
  for (int i = 0; i < kClients; ++i) {
    EchoClient& mine = clients[i];
    mine.loop = clientBase.call([&] { return pool->getNextLoop(); });
    mine.message = randomBytes(kMessageBytes, static_cast<uint32_t>(i));
    mine.client = callInLoop(mine.loop, [&] {
      auto client =
          std::make_unique<TcpClient>(mine.loop, server.address(), "client" + std::to_string(i));
      client->setRetryDelay(20ms, 200ms);
      client->setConnectErrorCallback([&](int, bool willRetry, Duration) {
        if (!willRetry) progress.update([](Progress& p) { ++p.gaveUp; });
      });
      client->setConnectionCallback([&](const TcpConnectionPtr& conn) {
        if (conn->connected()) conn->send(mine.message);
      });
      client->setMessageCallback(
          [&](const TcpConnectionPtr&, reactor::Buffer* buffer, reactor::Timestamp) {
            mine.received += buffer->retrieveAllAsString();
            if (mine.received.size() < mine.message.size()) return;
            const bool exact = mine.received == mine.message;
            progress.update([exact](Progress& p) {
              ++p.echoed;
              if (!exact) ++p.mismatched;
            });
          });
      return client;
    });
  }

  for (EchoClient& mine : clients) mine.client->connect();  // all at once
  const bool allEchoed = progress.waitUntil(
      [](const Progress& p) { return p.echoed == kClients || p.gaveUp > 0; }, kLimit);
  const Progress result = progress.get();
  EXPECT_TRUE(allEchoed) << result.echoed << " of " << kClients << " clients echoed";
  EXPECT_EQ(result.echoed, kClients);
  EXPECT_EQ(result.mismatched, 0);
  EXPECT_EQ(result.gaveUp, 0) << "a client gave up connecting";

  for (EchoClient& mine : clients) {
    callInLoop(mine.loop, [&] {
      mine.client.reset();
      return 0;
    });
  }
  pool.reset();
}

}  // namespace
