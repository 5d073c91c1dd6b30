// Chapter 3: the ways a connection ends -- the peer closes or resets, the
// server shuts down its side (a half-close) or forces the close -- and what
// each must leave behind: one disconnect callback, no connection, no
// descriptor.
#include <signal.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "reactor/Buffer.h"
#include "reactor/TcpServer.h"
#include "tcp_test_support.h"

namespace {

using reactor::Buffer;
using reactor::TcpServer;
using reactor::Timestamp;
using namespace reactor_test;

/// Small enough that a peer which does not read stops the server's writes
/// after a few kilobytes, so that the rest waits in the output buffer.
constexpr int kSmallReceiveBuffer = 4096;

/// Puts SIGPIPE back to its default disposition, killing the process, for
/// the life of this object. (The tests' main() ignores it.)
class DefaultSigpipe {
 public:
  DefaultSigpipe() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, &old_);
  }
  ~DefaultSigpipe() { ::sigaction(SIGPIPE, &old_, nullptr); }
  DefaultSigpipe(const DefaultSigpipe&) = delete;
  DefaultSigpipe& operator=(const DefaultSigpipe&) = delete;

  /// True when SIGPIPE would kill the process if raised in the loop thread.
  static bool isDeadly(LoopThread& thread) {
    struct sigaction now {};
    ::sigaction(SIGPIPE, nullptr, &now);
    const bool blocked = thread.call([] {
      sigset_t mask;
      ::pthread_sigmask(SIG_BLOCK, nullptr, &mask);
      return ::sigismember(&mask, SIGPIPE) == 1;
    });
    return now.sa_handler == SIG_DFL && !blocked;
  }

 private:
  struct sigaction old_ {};
};

TEST(CloseTest, PeerCloseRunsTheDisconnectCallbackOnceAndReleasesTheConnection) {
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) { s.setConnectionCallback(log.callback()); });
  const size_t fdsBefore = countOpenFds();

  Client client = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(1));
  EXPECT_EQ(countOpenFds(), fdsBefore + 2) << "the client's socket and the server's";
  client.close();
  ASSERT_TRUE(log.waitForDowns(1));
  thread.settle();  // a second report would come in the same iteration or the queued ones
  EXPECT_EQ(log.downs(), 1);
  EXPECT_TRUE(log.allGone()) << "the server (or a callback) still holds the connection";
  EXPECT_EQ(countOpenFds(), fdsBefore) << "the connection's descriptor was not closed";
}

// The library must write with MSG_NOSIGNAL: a program need not ignore
// SIGPIPE. Without it, the write after the reset kills this test process.
TEST(CloseTest, PeerResetWithMegabytesQueuedRunsTheDisconnectCallbackOnceWithoutSigpipe) {
  DefaultSigpipe sigpipe;
  constexpr size_t kQueued = 4 << 20;
  LoopThread thread;
  ASSERT_TRUE(DefaultSigpipe::isDeadly(thread));
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) {
    s.setConnectionCallback(log.callback([&](const TcpConnectionPtr& conn) {
      if (conn->connected()) conn->send(randomBytes(kQueued, 3));
    }));
  });
  const size_t fdsBefore = countOpenFds();

  Client client(AF_INET, kSmallReceiveBuffer);
  ASSERT_TRUE(client.connect(server.address()));
  ASSERT_TRUE(log.waitForUps(1));
  const size_t queued =
      thread.call([&] { return log.connection(0)->outputBuffer()->readableBytes(); });
  ASSERT_GT(queued, size_t{1} << 20) << "premise: megabytes wait for the peer";

  client.reset();
  ASSERT_TRUE(log.waitForDowns(1));
  thread.settle();
  EXPECT_EQ(log.downs(), 1);
  EXPECT_TRUE(log.allGone());
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

// The peer closes after its request; the reply's first write makes the
// peer's kernel answer with a reset, and a write after that fails with
// EPIPE, which raises SIGPIPE unless the write said MSG_NOSIGNAL.
TEST(CloseTest, WritingToAPeerThatHasGoneDoesNotRaiseSigpipe) {
  DefaultSigpipe sigpipe;
  LoopThread thread;
  ASSERT_TRUE(DefaultSigpipe::isDeadly(thread));
  ConnectionLog log;
  Monitor<int> replies;
  TestServer server(thread, [&](TcpServer& s) {
    s.setConnectionCallback(log.callback());
    s.setMessageCallback([&](const TcpConnectionPtr& conn, Buffer* buf, Timestamp) {
      buf->retrieveAll();
      for (int i = 0; i < 10; ++i) conn->send("reply to a peer that has gone\n");
      replies.update([](int& n) { ++n; });
    });
  });

  Client client = Client::connectedTo(server.address());
  ASSERT_TRUE(client.writeAll("request"));
  client.close();
  ASSERT_TRUE(replies.waitUntil([](int n) { return n >= 1; }));
  ASSERT_TRUE(log.waitForDowns(1));
  thread.settle();
  EXPECT_EQ(log.downs(), 1);
}

// A peer that half-closes (shutdown(SHUT_WR)) right after its request still
// reads the reply: the bytes the server accepted for sending must go out
// before the server closes, not be dropped at the read of end of stream.
TEST(CloseTest, APeerThatHalfClosesStillReceivesEveryByteQueuedForIt) {
  constexpr size_t kBytes = 4 << 20;
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) {
    s.setConnectionCallback(log.callback());
    s.setMessageCallback(echo);
  });
  const std::string data = randomBytes(kBytes, 9);
  // It reads nothing until it has written all: the echo piles up in the
  // server's output buffer, and is still there when the end of stream comes.
  Client client(AF_INET, kSmallReceiveBuffer);
  ASSERT_TRUE(client.connect(server.address()));
  ASSERT_TRUE(client.writeAll(data));
  client.shutdownWrite();

  const Client::Received received = client.readToEnd();
  EXPECT_TRUE(received.endOfStream)
      << "no end of stream after " << received.data.size() << " bytes";
  ASSERT_EQ(received.data.size(), data.size())
      << "the server dropped output at the peer's half-close";
  EXPECT_TRUE(received.data == data);
  ASSERT_TRUE(log.waitForDowns(1));
  thread.settle();
  EXPECT_EQ(log.downs(), 1);
  EXPECT_TRUE(log.allGone());
}

/// The server sends `kBytes` and then shuts down its side, both from the
/// loop thread (in the connection callback) or both from the test thread;
/// the peer must receive every byte, then end of stream.
void expectEveryByteThenEndOfStream(bool fromLoopThread) {
  constexpr size_t kBytes = 8 << 20;
  const std::string data = randomBytes(kBytes, 4);
  // Declared before the loop thread, so that it outlives the functor that
  // waits on it in that thread.
  Monitor<bool> go;
  LoopThread thread;
  ConnectionLog log;
  Monitor<size_t> queuedAtShutdown;
  TestServer server(thread, [&](TcpServer& s) {
    s.setConnectionCallback(log.callback([&](const TcpConnectionPtr& conn) {
      if (!conn->connected() || !fromLoopThread) return;
      conn->send(data);
      const size_t queued = conn->outputBuffer()->readableBytes();
      conn->shutdown();
      queuedAtShutdown.update([&](size_t& q) { q = queued; });
    }));
  });

  Client client(AF_INET, 64 * 1024);
  ASSERT_TRUE(client.connect(server.address()));
  ASSERT_TRUE(log.waitForUps(1));
  if (fromLoopThread) {
    ASSERT_TRUE(queuedAtShutdown.waitUntil([](size_t q) { return q > 0; }))
        << "premise: bytes still wait in the output buffer when shutdown() is called";
  } else {
    // The loop waits for this thread's go, so both calls are made while
    // the send is still queued.
    thread.loop()->queueInLoop([&go] { go.waitUntil([](bool g) { return g; }); });
    const TcpConnectionPtr conn = log.connection(0);
    conn->send(data);
    conn->shutdown();
    go.update([](bool& g) { g = true; });
  }
  const Client::Received received = client.readToEnd();
  EXPECT_TRUE(received.endOfStream)
      << "no end of stream after " << received.data.size() << " bytes";
  ASSERT_EQ(received.data.size(), data.size()) << "shutdown() must wait for the output to drain";
  EXPECT_TRUE(received.data == data);
}

TEST(ShutdownTest, AfterALargeSendInTheLoopThreadThePeerGetsEveryByteThenEndOfStream) {
  expectEveryByteThenEndOfStream(true);
}

// A shutdown() from another thread must not overtake the send() before it.
TEST(ShutdownTest, AfterALargeSendFromAnotherThreadThePeerGetsEveryByteThenEndOfStream) {
  expectEveryByteThenEndOfStream(false);
}

TEST(ShutdownTest, IsAHalfCloseTheServerStillReceivesUntilThePeerCloses) {
  LoopThread thread;
  ConnectionLog log;
  Monitor<std::string> received;
  TestServer server(thread, [&](TcpServer& s) {
    s.setConnectionCallback(log.callback([](const TcpConnectionPtr& conn) {
      if (!conn->connected()) return;
      conn->send("bye");
      conn->shutdown();
    }));
    s.setMessageCallback([&](const TcpConnectionPtr&, Buffer* buf, Timestamp) {
      const std::string bytes = buf->retrieveAllAsString();
      received.update([&](std::string& r) { r += bytes; });
    });
  });

  Client client = Client::connectedTo(server.address());
  const Client::Received bye = client.readToEnd();
  EXPECT_EQ(bye.data, "bye");
  ASSERT_TRUE(bye.endOfStream);

  const std::string after = "sent after the server's shutdown";
  ASSERT_TRUE(client.writeAll(after));
  EXPECT_TRUE(received.waitUntil([&](const std::string& r) { return r == after; }))
      << "the server got: \"" << received.get() << "\"";
  EXPECT_EQ(log.downs(), 0) << "a half-closed connection is still up";

  client.close();
  ASSERT_TRUE(log.waitForDowns(1));
  thread.settle();
  EXPECT_EQ(log.downs(), 1);
  EXPECT_TRUE(log.allGone());
}

TEST(ForceCloseTest, ClosesAtOnceFromAnotherThreadAndDropsTheQueuedOutput) {
  constexpr size_t kBytes = 4 << 20;
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) {
    s.setConnectionCallback(log.callback([&](const TcpConnectionPtr& conn) {
      if (conn->connected()) conn->send(randomBytes(kBytes, 5));
    }));
  });
  const size_t fdsBefore = countOpenFds();

  Client client(AF_INET, kSmallReceiveBuffer);
  ASSERT_TRUE(client.connect(server.address()));
  ASSERT_TRUE(log.waitForUps(1));
  TcpConnectionPtr conn = log.connection(0);
  // The peer does not read, so nothing moves between this look and the close.
  const size_t queued = thread.call([&] { return conn->outputBuffer()->readableBytes(); });
  ASSERT_GT(queued, 0u) << "premise: output waits in the buffer";

  conn->forceClose();  // from the test thread, not the loop's
  // "At once": the peer reads nothing, so a close that waits for the output
  // to drain would never come.
  EXPECT_TRUE(log.waitForDowns(1, kPromptly)) << "forceClose() did not close at once";
  EXPECT_FALSE(conn->connected());

  const Client::Received received = client.readToEnd();
  EXPECT_TRUE(received.endOfStream);
  EXPECT_LE(received.data.size() + queued, kBytes)
      << "the queued output went out after forceClose()";
  thread.settle();
  EXPECT_EQ(log.downs(), 1);
  EXPECT_TRUE(conn->disconnected());
  conn.reset();
  client.close();
  EXPECT_EQ(countOpenFds(), fdsBefore);
}

TEST(ForceCloseTest, ASecondCallOrOneAfterThePeerClosedIsHarmless) {
  LoopThread thread;
  ConnectionLog log;
  TestServer server(thread, [&](TcpServer& s) { s.setConnectionCallback(log.callback()); });

  Client forced = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(1));
  const TcpConnectionPtr first = log.connection(0);
  first->forceClose();
  first->forceClose();
  thread.call([&] { first->forceClose(); });
  ASSERT_TRUE(log.waitForDowns(1));
  EXPECT_TRUE(forced.readToEnd().endOfStream);

  Client closing = Client::connectedTo(server.address());
  ASSERT_TRUE(log.waitForUps(2));
  const TcpConnectionPtr second = log.connection(1);
  closing.close();
  ASSERT_TRUE(log.waitForDowns(2));
  second->forceClose();
  thread.call([&] { second->forceClose(); });
  first->forceClose();

  thread.settle();
  EXPECT_EQ(log.ups(), 2);
  EXPECT_EQ(log.downs(), 2);
  EXPECT_TRUE(eachConnectionUpOnceAndDownOnce(log.get()));
  EXPECT_TRUE(first->disconnected());
  EXPECT_TRUE(second->disconnected());
}

}  // namespace
