// Chapter 3: many short connections. Whichever way each one ends, none may
// leave a descriptor or a connection object behind.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/TcpServer.h"
#include "tcp_test_support.h"

namespace {

using reactor::TcpServer;
using namespace reactor_test;

TEST(ChurnTest, TenThousandConnectionsInWavesOfFiveHundredLeaveNothingBehind) {
  constexpr int kWaves = 20;
  constexpr int kPerWave = 500;
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) { s.setConnectionCallback(log.callback()); });
  const size_t fdsBefore = countOpenFds();

  for (int wave = 0; wave < kWaves; ++wave) {
    const int first = wave * kPerWave;
    std::vector<Client> clients;
    for (int i = 0; i < kPerWave; ++i) clients.push_back(Client::connectedTo(server.address()));
    ASSERT_TRUE(log.waitForUps(first + kPerWave)) << "wave " << wave;
    // Every third ends each way: the peer closes, the peer resets, the
    // server forces the close.
    for (int i = 0; i < kPerWave; ++i) {
      switch (i % 3) {
        case 0:
          clients[i].close();
          break;
        case 1:
          clients[i].reset();
          break;
        default:
          if (const TcpConnectionPtr conn = log.connection(first + i)) conn->forceClose();
          break;
      }
    }
    clients.clear();
    ASSERT_TRUE(log.waitForDowns(first + kPerWave)) << "wave " << wave;
  }
  thread.settle();
  const ConnectionEvents events = log.get();
  EXPECT_EQ(events.ups, kWaves * kPerWave);
  EXPECT_EQ(events.downs, kWaves * kPerWave);
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(events));
  EXPECT_TRUE(log.allGone()) << "a connection object outlived its close";
  EXPECT_EQ(countOpenFds(), fdsBefore) << "a descriptor outlived its connection";
}

}  // namespace
