// Chapter 3: flow control. The high-water mark tells a program that output
// piles up, write-complete that it has gone, and stopRead() leaves input in
// the kernel so that TCP slows the peer down.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "reactor/Buffer.h"
#include "reactor/TcpServer.h"
#include "tcp_test_support.h"

namespace {

using reactor::Buffer;
using reactor::TcpServer;
using reactor::Timestamp;
using namespace reactor_test;

/// A server that records its connections, each high-water-mark call (the
/// queued bytes it reported) and each write-complete call.
struct FlowServer {
  static constexpr size_t kMark = 1 << 20;

  explicit FlowServer(LoopThread& thread)
      : server(thread, [this](TcpServer& s) {
          s.setConnectionCallback(log.callback([this](const TcpConnectionPtr& conn) {
            if (!conn->connected()) return;
            conn->setHighWaterMarkCallback(
                [this](const TcpConnectionPtr&, size_t queued) {
                  highWater.update(
                      [queued](std::vector<size_t>& calls) { calls.push_back(queued); });
                },
                kMark);
          }));
          s.setWriteCompleteCallback(
              [this](const TcpConnectionPtr&) { writeCompletes.update([](int& n) { ++n; }); });
        }) {}

  ConnectionLog log;
  Monitor<std::vector<size_t>> highWater;
  Monitor<int> writeCompletes;
  TestServer server;
};

// A library that checks "queued >= mark" instead of "crossed the mark with
// this send" calls back on every send once the mark is passed.
TEST(HighWaterMarkTest, RunsOnceWhenQueuedOutputCrossesTheMarkNotOnEverySend) {
  constexpr size_t kChunk = 64 * 1024;
  constexpr int kChunks = 128;  // 8 MiB: the kernel takes a few MiB, the rest piles up
  LoopThread thread;
  FlowServer flow(thread);
  Client client(AF_INET, 4096);  // a peer that does not read: the output piles up
  ASSERT_TRUE(client.connect(flow.server.address()));
  ASSERT_TRUE(flow.log.waitForUps(1));
  const TcpConnectionPtr conn = flow.log.connection(0);

  const std::string chunk = randomBytes(kChunk, 7);
  const size_t queued = thread.call([&] {
    for (int i = 0; i < kChunks; ++i) conn->send(chunk);
    return conn->outputBuffer()->readableBytes();
  });
  ASSERT_GT(queued, 2 * FlowServer::kMark) << "premise: the output piles up far past the mark";
  thread.settle();  // the callback may be queued

  const std::vector<size_t> calls = flow.highWater.get();
  ASSERT_EQ(calls.size(), 1u) << "the high-water-mark callback must run once per crossing";
  EXPECT_GE(calls[0], FlowServer::kMark);
  EXPECT_LT(calls[0], FlowServer::kMark + kChunk)
      << "it must run at the send that crossed the mark";
  // Only sends the kernel took whole may have completed so far.
  const int completesBeforeDrain = flow.writeCompletes.get();

  // The peer drains it all: write-complete runs once more, not per write.
  EXPECT_EQ(client.readExactly(kChunk * kChunks).size(), kChunk * kChunks);
  EXPECT_TRUE(flow.writeCompletes.waitUntil([&](int n) { return n > completesBeforeDrain; }))
      << "no write-complete after the output drained";
  thread.settle();
  EXPECT_EQ(flow.writeCompletes.get(), completesBeforeDrain + 1);
  EXPECT_EQ(flow.highWater.get().size(), 1u);
}

TEST(WriteCompleteTest, RunsOnceAfterASendTheKernelTakesAtOnce) {
  LoopThread thread;
  FlowServer flow(thread);
  Client client = Client::connectedTo(flow.server.address());
  ASSERT_TRUE(flow.log.waitForUps(1));
  const TcpConnectionPtr conn = flow.log.connection(0);

  const size_t queued = thread.call([&] {
    conn->send("small");
    return conn->outputBuffer()->readableBytes();
  });
  ASSERT_EQ(queued, 0u) << "premise: the kernel took it all at once";
  EXPECT_TRUE(flow.writeCompletes.waitUntil([](int n) { return n >= 1; }));
  thread.settle();
  EXPECT_EQ(flow.writeCompletes.get(), 1);
  EXPECT_EQ(client.readExactly(5), "small");
  EXPECT_TRUE(flow.highWater.get().empty());
}

// A library that "stops reading" by ignoring readable events, instead of
// no longer watching them, keeps the loop waking up for the waiting data.
TEST(StopReadTest, StopsTheMessageCallbackWithoutSpinningAndStartReadDeliversWhatWaited) {
  LoopThread thread;
  ConnectionLog log;
  Monitor<std::string> received;
  TestServer server(thread, [&](TcpServer& s) {
    s.setConnectionCallback(log.callback());
    s.setMessageCallback([&](const TcpConnectionPtr&, Buffer* buf, Timestamp) {
      const std::string bytes = buf->retrieveAllAsString();
      received.update([&](std::string& r) { r += bytes; });
    });
  });
  Client client = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(1));
  const TcpConnectionPtr conn = log.connection(0);
  EXPECT_TRUE(conn->isReading());

  conn->stopRead();  // from the test thread
  thread.settle();
  EXPECT_FALSE(conn->isReading());
  const std::string waiting = "waited in the kernel";
  ASSERT_TRUE(client.writeAll(waiting));  // on loopback, in the server's socket when this returns

  // Asleep in the poller, not just short of CPU: on a busy machine a
  // spinning loop may get too little CPU to exceed the budget.
  EXPECT_TRUE(waitUntilAsleepInPoll(thread.tid())) << "the loop never sleeps while data waits";
  const auto cpu = processCpuTimeOver(kCpuWindow);
  EXPECT_LT(ms(cpu), ms(kCpuBudget)) << "the loop spins while data waits and reading is stopped";
  EXPECT_EQ(received.get(), "") << "the message callback ran while reading was stopped";

  conn->startRead();
  EXPECT_TRUE(received.waitUntil([&](const std::string& r) { return r == waiting; }))
      << "got \"" << received.get() << "\"";
  EXPECT_TRUE(conn->isReading());
}

}  // namespace
