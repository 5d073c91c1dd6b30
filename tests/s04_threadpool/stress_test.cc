// Chapter 4, stress: many clients echoing on a pool of I/O loops while other
// threads send, shut down and force-close some connections at random. Meant
// to run repeatedly under ThreadSanitizer (--gtest_repeat): every race
// between the base loop, the I/O loops and the meddling threads shows there.
#include <atomic>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/TcpServer.h"
#include "s03_tcpserver/tcp_test_support.h"

namespace {

using reactor::TcpConnectionPtr;
using reactor::TcpServer;
using namespace reactor_test;

TEST(ServerStressTest, EchoIsByteExactOnConnectionsLeftAloneWhileOthersAreMeddledWith) {
  constexpr int kThreads = 4;
  constexpr int kClients = 200;
  constexpr int kVictims = 20;  // the last ones: meddled with, not checked
  constexpr int kClientThreads = 4;
  constexpr int kRounds = 2;
  constexpr size_t kMaxMessage = 256 * 1024;
  constexpr int kMeddlers = 2;
  constexpr int kMeddles = 200;  // per meddling thread
  LoopThread base;
  ConnectionLog log;
  TestServer server(base, [&](TcpServer& s) {
    s.setThreadNum(kThreads);
    s.setConnectionCallback(log.callback());
    s.setMessageCallback(echo);
  });
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Client::connectedTo(server.address()));
  ASSERT_TRUE(log.waitForUps(kClients));

  // The server's end of each victim, found by the client's port.
  std::map<uint16_t, TcpConnectionPtr> byPeerPort;
  for (int i = 0; i < kClients; ++i) {
    const TcpConnectionPtr conn = log.connection(i);
    ASSERT_NE(conn, nullptr);
    byPeerPort[conn->peerAddress().port()] = conn;
  }
  std::vector<TcpConnectionPtr> victims;
  for (int i = kClients - kVictims; i < kClients; ++i) {
    victims.push_back(byPeerPort.at(clients[i].localPort()));
  }

  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  constexpr int kAlone = kClients - kVictims;
  for (int t = 0; t < kClientThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(t);
      std::uniform_int_distribution<size_t> size(1, kMaxMessage);
      for (int round = 0; round < kRounds; ++round) {
        for (int i = t; i < kAlone; i += kClientThreads) {
          const std::string message = randomBytes(size(random), random());
          if (!clients[i].writeAll(message) || clients[i].readExactly(message.size()) != message) {
            ++mismatches;
          }
        }
      }
    });
  }
  // The victims' clients write a little and read until the end, whatever
  // arrives meanwhile.
  threads.emplace_back([&] {
    for (int i = kAlone; i < kClients; ++i) {
      clients[i].writeAll(randomBytes(1000, i));
      clients[i].readToEnd();
    }
  });
  std::vector<std::thread> meddlers;
  for (int m = 0; m < kMeddlers; ++m) {
    meddlers.emplace_back([&, m] {
      std::mt19937 random(100 + m);
      std::uniform_int_distribution<size_t> pick(0, victims.size() - 1);
      std::uniform_int_distribution<int> action(0, 2);
      for (int n = 0; n < kMeddles; ++n) {
        const TcpConnectionPtr& conn = victims[pick(random)];
        switch (action(random)) {
          case 0:
            conn->send(randomBytes(4096, n));
            break;
          case 1:
            conn->shutdown();
            break;
          default:
            conn->forceClose();
        }
      }
    });
  }
  for (std::thread& meddler : meddlers) meddler.join();
  for (const TcpConnectionPtr& conn : victims) conn->forceClose();  // every victim ends
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, 0);

  for (Client& client : clients) client.close();
  ASSERT_TRUE(log.waitForDowns(kClients));
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(log.get()));
}

}  // namespace
