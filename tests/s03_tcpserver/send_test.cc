// Chapter 3: send() from any thread -- what it sends arrives whole and in
// order -- and send() on a connection that has closed does nothing.
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/Buffer.h"
#include "reactor/TcpServer.h"
#include "tcp_test_support.h"

namespace {

using reactor::Buffer;
using reactor::TcpServer;
using namespace reactor_test;

TEST(SendTest, EveryFormOfSendDeliversInOrder) {
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) { s.setConnectionCallback(log.callback()); });
  Client client = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(1));
  const TcpConnectionPtr conn = log.connection(0);

  const size_t leftInBuffer = thread.call([&] {
    Buffer buf;
    buf.append("three ");
    conn->send("one ");
    conn->send("two ", 4);
    conn->send(&buf);
    return buf.readableBytes();
  });
  EXPECT_EQ(leftInBuffer, 0u) << "send(Buffer*) takes all of the buffer";
  Buffer buf;  // from the test thread, the same forms
  buf.append("six");
  conn->send("four ");
  conn->send("five ", 5);
  conn->send(&buf);
  EXPECT_EQ(buf.readableBytes(), 0u) << "send(Buffer*) takes all of the buffer";
  EXPECT_EQ(client.readExactly(27), "one two three four five six");
}

/// The record that thread `t` sends as its `seq`th: a header with both
/// numbers and the body's length, then a body of the thread's own letter.
std::string record(int t, int seq, size_t bodyLength) {
  char header[32];
  std::snprintf(header, sizeof header, "%d %04d %04zu:", t, seq, bodyLength);
  return header + std::string(bodyLength, static_cast<char>('a' + t)) + "\n";
}

// A send() from another thread must hand a copy of the record to the loop
// as one piece; writing it to the socket, or to the output buffer, from the
// calling thread mixes the records of concurrent senders.
TEST(SendTest, FourThreadsSendingAtOnceNeverInterleaveInsideARecord) {
  constexpr int kThreads = 4;
  constexpr int kRecords = 1000;
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) { s.setConnectionCallback(log.callback()); });
  Client client = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(1));
  const TcpConnectionPtr conn = log.connection(0);

  std::vector<std::vector<std::string>> records(kThreads);
  size_t totalBytes = 0;
  for (int t = 0; t < kThreads; ++t) {
    std::mt19937 gen(10 + t);
    std::uniform_int_distribution<size_t> bodyLength(0, 3000);
    for (int seq = 0; seq < kRecords; ++seq) {
      records[t].push_back(record(t, seq, bodyLength(gen)));
      totalBytes += records[t].back().size();
    }
  }

  Monitor<bool> go;  // the senders start together
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      go.waitUntil([](bool g) { return g; });
      for (const std::string& r : records[t]) conn->send(r);
    });
  }
  go.update([](bool& g) { g = true; });
  const std::string received = client.readExactly(totalBytes);
  for (std::thread& s : senders) s.join();
  ASSERT_EQ(received.size(), totalBytes);

  // Each record starts with its thread's number; it must be that thread's
  // next record, whole.
  int nextSeq[kThreads] = {};
  size_t pos = 0;
  while (pos < received.size()) {
    const int t = received[pos] - '0';
    ASSERT_TRUE(t >= 0 && t < kThreads && nextSeq[t] < kRecords)
        << "no record starts at byte " << pos << ": \"" << received.substr(pos, 40) << "\"";
    const std::string& expected = records[t][nextSeq[t]];
    ASSERT_EQ(received.compare(pos, expected.size(), expected), 0)
        << "at byte " << pos << " thread " << t << "'s record " << nextSeq[t]
        << " should start, whole: \"" << received.substr(pos, 40) << "\"";
    ++nextSeq[t];
    pos += expected.size();
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(nextSeq[t], kRecords) << "thread " << t;
}

// The stale connection's socket is closed; a library that kept writing to
// its descriptor number would write into the new connection, which the
// kernel gives the lowest free number -- quite likely the same one.
TEST(SendTest, SendOnAClosedConnectionIsIgnoredAndNeverReachesALaterOne) {
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) {
    s.setConnectionCallback(log.callback([](const TcpConnectionPtr& conn) {
      if (conn->connected()) conn->send("hello ");
    }));
  });

  TcpConnectionPtr stale;
  {
    Client first = Client::connectedTo(server.address());
    EXPECT_EQ(first.readExactly(6), "hello ");
    ASSERT_TRUE(log.waitForUps(1));
    stale = log.connection(0);
  }
  ASSERT_TRUE(log.waitForDowns(1));
  thread.settle();
  stale->send("stale, from the test thread");
  thread.call([&] { stale->send("stale, from the loop thread"); });

  Client second = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(2));
  const TcpConnectionPtr fresh = log.connection(1);
  stale->send("stale, while a new connection is up");
  thread.call([&] { stale->send(std::string(100000, 's')); });
  fresh->send("end");
  fresh->shutdown();

  const Client::Received received = second.readToEnd();
  EXPECT_TRUE(received.endOfStream);
  EXPECT_EQ(received.data, "hello end");
  EXPECT_FALSE(stale->connected());
  EXPECT_TRUE(stale->disconnected());
}

}  // namespace
