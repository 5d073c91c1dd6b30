// Chapter 3: Buffer, the bytes a connection has received and not consumed,
// or has been asked to send and the kernel has not yet taken.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "reactor/Buffer.h"
#include "tcp_test_support.h"

namespace {

using reactor::Buffer;
using reactor_test::randomBytes;

/// `x` in network byte order, the most significant byte first.
template <typename Int>
std::string bigEndian(Int x) {
  auto u = static_cast<std::make_unsigned_t<Int>>(x);
  std::string bytes(sizeof(Int), '\0');
  for (size_t i = sizeof(Int); i-- > 0;) {
    bytes[i] = static_cast<char>(u & 0xff);
    u = static_cast<decltype(u)>(u >> 8);
  }
  return bytes;
}

/// The integer whose network byte order is the first sizeof(Int) bytes of `s`.
template <typename Int>
Int fromBigEndian(std::string_view s) {
  std::make_unsigned_t<Int> u = 0;
  for (size_t i = 0; i < sizeof(Int); ++i) {
    u = static_cast<decltype(u)>((u << 8) | static_cast<unsigned char>(s[i]));
  }
  return static_cast<Int>(u);
}

TEST(BufferTest, StartsEmptyWithRoomBeforeAndAfter) {
  Buffer buf;
  EXPECT_EQ(buf.readableBytes(), 0u);
  EXPECT_EQ(buf.writableBytes(), Buffer::kInitialSize);
  EXPECT_EQ(buf.prependableBytes(), Buffer::kCheapPrepend);
  EXPECT_EQ(buf.findCRLF(), nullptr);
  EXPECT_EQ(buf.findEOL(), nullptr);
}

TEST(BufferTest, IntegersAreBigEndian) {
  Buffer buf;
  buf.appendInt8(-1);
  buf.appendInt16(0x0102);
  buf.appendInt32(0x03040506);
  buf.appendInt64(0x0708090a0b0c0d0e);
  EXPECT_EQ(buf.toStringView(),
            std::string_view("\xff\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e", 15));
  EXPECT_EQ(buf.peekInt8(), -1);
  EXPECT_EQ(buf.readInt8(), -1);
  EXPECT_EQ(buf.peekInt16(), 0x0102);
  EXPECT_EQ(buf.readInt16(), 0x0102);
  EXPECT_EQ(buf.readInt32(), 0x03040506);
  EXPECT_EQ(buf.readInt64(), 0x0708090a0b0c0d0e);
  EXPECT_EQ(buf.readableBytes(), 0u);

  buf.append("body");
  buf.prependInt32(0x11223344);
  EXPECT_EQ(buf.toStringView(), std::string_view("\x11\x22\x33\x44"
                                                 "body",
                                                 8));
  buf.prependInt16(-2);
  EXPECT_EQ(buf.toStringView().substr(0, 2), "\xff\xfe");
  EXPECT_EQ(buf.readInt16(), -2);
  EXPECT_EQ(buf.readInt32(), 0x11223344);

  buf.retrieveAll();
  buf.appendInt64(INT64_MIN);
  EXPECT_EQ(buf.toStringView(), std::string_view("\x80\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(buf.readInt64(), INT64_MIN);
}

// Every operation, chosen at random with a fixed seed, done to a Buffer and
// to a std::string that models its readable bytes; after each they agree.
TEST(BufferTest, RandomOperationsMatchAStringModel) {
  constexpr uint32_t kSeed = 20261127;
  constexpr int kOperations = 100000;
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  std::mt19937 gen(kSeed);
  auto pick = [&gen](size_t low, size_t high) {
    return std::uniform_int_distribution<size_t>(low, high)(gen);
  };
  // Bytes cut from one of two pools: random bytes, or a small alphabet in
  // which "\r\n" and '\n' occur often enough for the find functions.
  constexpr size_t kPool = 8192;
  const std::string randomPool = randomBytes(kPool, kSeed);
  std::string linesPool(kPool, '\0');
  for (char& c : linesPool) c = "ab\r\n"[pick(0, 3)];
  auto someBytes = [&](size_t n) {
    const std::string& pool = pick(0, 1) == 0 ? randomPool : linesPool;
    return pool.substr(pick(0, kPool - n), n);
  };
  // Mostly small, sometimes larger than the whole initial buffer.
  auto someLength = [&] { return pick(0, 9) == 0 ? pick(0, 5000) : pick(0, 200); };

  Buffer buf;
  std::string model;
  std::string op;  // the operation just done, for the failure message
  // An operation that does not apply now (`continue`) is not counted.
  for (int i = 0; i < kOperations;) {
    switch (pick(0, 17)) {
      case 0:
      case 1: {
        const std::string data = someBytes(someLength());
        op = "append(string_view) of " + std::to_string(data.size());
        buf.append(data);
        model += data;
        break;
      }
      case 2: {
        const std::string data = someBytes(someLength());
        op = "append(void*, size_t) of " + std::to_string(data.size());
        buf.append(data.data(), data.size());
        model += data;
        break;
      }
      case 3: {
        const std::string data = someBytes(someLength());
        op = "ensureWritableBytes, write at beginWrite, hasWritten of " +
             std::to_string(data.size());
        buf.ensureWritableBytes(data.size());
        ASSERT_GE(buf.writableBytes(), data.size()) << op;
        std::copy(data.begin(), data.end(), buf.beginWrite());
        buf.hasWritten(data.size());
        model += data;
        break;
      }
      case 4: {
        const std::string data = someBytes(pick(0, std::min(buf.prependableBytes(), kPool)));
        op = "prepend of " + std::to_string(data.size());
        buf.prepend(data.data(), data.size());
        model.insert(0, data);
        break;
      }
      case 5:
      case 6: {
        const size_t n = pick(0, model.size());
        op = "retrieve(" + std::to_string(n) + ")";
        buf.retrieve(n);
        model.erase(0, n);
        break;
      }
      case 7: {
        const size_t n = pick(0, model.size());
        op = "retrieveAsString(" + std::to_string(n) + ")";
        ASSERT_EQ(buf.retrieveAsString(n), model.substr(0, n)) << op;
        model.erase(0, n);
        break;
      }
      case 8: {
        const size_t n = pick(0, model.size());
        op = "retrieveUntil(peek() + " + std::to_string(n) + ")";
        buf.retrieveUntil(buf.peek() + n);
        model.erase(0, n);
        break;
      }
      case 9: {
        if (pick(0, 19) != 0) continue;  // rarely: it empties the model
        if (pick(0, 1) == 0) {
          op = "retrieveAll";
          buf.retrieveAll();
        } else {
          op = "retrieveAllAsString";
          ASSERT_EQ(buf.retrieveAllAsString(), model) << op;
        }
        model.clear();
        break;
      }
      case 10: {
        const size_t n = pick(0, 5000);
        op = "ensureWritableBytes(" + std::to_string(n) + ")";
        buf.ensureWritableBytes(n);
        ASSERT_GE(buf.writableBytes(), n) << op;
        break;
      }
      case 11: {
        const size_t reserve = pick(0, 100);
        op = "shrink(" + std::to_string(reserve) + ")";
        buf.shrink(reserve);
        ASSERT_GE(buf.writableBytes(), reserve) << op;
        break;
      }
      case 12: {
        const size_t width = size_t{1} << pick(0, 3);
        const uint64_t x = gen() * uint64_t{0x9e3779b97f4a7c15};
        op = "appendInt" + std::to_string(width * 8);
        switch (width) {
          case 1:
            buf.appendInt8(static_cast<int8_t>(x));
            model += bigEndian(static_cast<int8_t>(x));
            break;
          case 2:
            buf.appendInt16(static_cast<int16_t>(x));
            model += bigEndian(static_cast<int16_t>(x));
            break;
          case 4:
            buf.appendInt32(static_cast<int32_t>(x));
            model += bigEndian(static_cast<int32_t>(x));
            break;
          default:
            buf.appendInt64(static_cast<int64_t>(x));
            model += bigEndian(static_cast<int64_t>(x));
            break;
        }
        break;
      }
      case 13:
      case 14: {
        const size_t width = size_t{1} << pick(0, 3);
        if (model.size() < width) continue;
        const bool consume = pick(0, 1) == 0;
        op = std::string(consume ? "readInt" : "peekInt") + std::to_string(width * 8);
        switch (width) {
          case 1:
            ASSERT_EQ(consume ? buf.readInt8() : buf.peekInt8(), fromBigEndian<int8_t>(model))
                << op;
            break;
          case 2:
            ASSERT_EQ(consume ? buf.readInt16() : buf.peekInt16(), fromBigEndian<int16_t>(model))
                << op;
            break;
          case 4:
            ASSERT_EQ(consume ? buf.readInt32() : buf.peekInt32(), fromBigEndian<int32_t>(model))
                << op;
            break;
          default:
            ASSERT_EQ(consume ? buf.readInt64() : buf.peekInt64(), fromBigEndian<int64_t>(model))
                << op;
            break;
        }
        if (consume) model.erase(0, width);
        break;
      }
      case 15: {
        const size_t width = size_t{1} << pick(0, 3);
        if (buf.prependableBytes() < width) continue;
        const uint64_t x = gen();
        op = "prependInt" + std::to_string(width * 8);
        switch (width) {
          case 1:
            buf.prependInt8(static_cast<int8_t>(x));
            model.insert(0, bigEndian(static_cast<int8_t>(x)));
            break;
          case 2:
            buf.prependInt16(static_cast<int16_t>(x));
            model.insert(0, bigEndian(static_cast<int16_t>(x)));
            break;
          case 4:
            buf.prependInt32(static_cast<int32_t>(x));
            model.insert(0, bigEndian(static_cast<int32_t>(x)));
            break;
          default:
            buf.prependInt64(static_cast<int64_t>(x));
            model.insert(0, bigEndian(static_cast<int64_t>(x)));
            break;
        }
        break;
      }
      case 16:
      case 17: {
        const size_t from = pick(0, model.size());
        const bool crlf = pick(0, 1) == 0;
        op = std::string(crlf ? "findCRLF" : "findEOL") + "(peek() + " + std::to_string(from) + ")";
        const size_t expected = crlf ? model.find("\r\n", from) : model.find('\n', from);
        const char* found = crlf ? buf.findCRLF(buf.peek() + from) : buf.findEOL(buf.peek() + from);
        ASSERT_EQ(found == nullptr ? std::string::npos : static_cast<size_t>(found - buf.peek()),
                  expected)
            << op;
        if (from == 0) {
          const char* fromStart = crlf ? buf.findCRLF() : buf.findEOL();
          ASSERT_EQ(fromStart, found) << op << " without a start";
        }
        break;
      }
    }
    ++i;
    ASSERT_EQ(buf.readableBytes(), model.size()) << "operation " << i << ": " << op;
    ASSERT_TRUE(buf.toStringView() == model) << "operation " << i << ": " << op;
    ASSERT_EQ(std::string_view(buf.peek(), buf.readableBytes()), buf.toStringView());
  }
}

TEST(BufferTest, RetrieveAllMakesTheWholeBufferFreeAgain) {
  Buffer buf;
  buf.append(std::string(1000, 'x'));
  buf.retrieve(600);
  buf.retrieveAll();
  EXPECT_EQ(buf.readableBytes(), 0u);
  EXPECT_EQ(buf.prependableBytes(), Buffer::kCheapPrepend);
  EXPECT_EQ(buf.writableBytes(), Buffer::kInitialSize);
}

// A buffer drained from the front as it fills at the back moves its content
// forward instead of growing.
TEST(BufferTest, SpaceFreedAtTheFrontIsReusedBeforeGrowing) {
  Buffer buf;
  const size_t capacity = buf.internalCapacity();
  buf.append("y");  // one byte always stays, so that nothing resets the indices
  for (int i = 0; i < 1000; ++i) {
    buf.append(std::string(700, 'x'));
    buf.retrieve(700);
  }
  EXPECT_EQ(buf.readableBytes(), 1u);
  EXPECT_EQ(buf.internalCapacity(), capacity);
}

TEST(BufferTest, ShrinkGivesBackMemoryAndKeepsTheContent) {
  Buffer buf;
  buf.append(std::string(100000, 'x'));
  buf.retrieve(99990);
  const size_t before = buf.internalCapacity();
  buf.shrink(0);
  EXPECT_LT(buf.internalCapacity(), before);
  EXPECT_EQ(buf.toStringView(), std::string(10, 'x'));
}

// The stack buffer lets one readv(2) take more than the buffer has room for:
// a readFd() that reads only into writableBytes() takes at most 1024 here.
TEST(BufferTest, ReadFdTakesMoreThanWritableBytesInOneCall) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  const int sendBuffer = 1 << 20;
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof sendBuffer);
  const std::string data = randomBytes(100 * 1024, 42);
  ASSERT_EQ(::write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));

  Buffer buf;
  const size_t writable = buf.writableBytes();
  int savedErrno = 0;
  const ssize_t n = buf.readFd(fds[0], &savedErrno);
  EXPECT_GT(n, static_cast<ssize_t>(writable));
  EXPECT_LE(n, static_cast<ssize_t>(writable + 64 * 1024));
  EXPECT_EQ(buf.readableBytes(), static_cast<size_t>(n));

  while (buf.readableBytes() < data.size()) {
    const ssize_t more = buf.readFd(fds[0], &savedErrno);
    ASSERT_GT(more, 0) << "the rest of the data went missing";
  }
  EXPECT_TRUE(buf.toStringView() == data);

  // Nothing left: readv fails with EAGAIN and says so through savedErrno.
  EXPECT_EQ(buf.readFd(fds[0], &savedErrno), -1);
  EXPECT_EQ(savedErrno, EAGAIN);
  EXPECT_EQ(buf.readableBytes(), data.size());

  ::close(fds[1]);
  EXPECT_EQ(buf.readFd(fds[0], &savedErrno), 0) << "end of stream";
  ::close(fds[0]);
}

// The messages name the misused function, as reactor::fatal() prints them.
TEST(BufferDeathTest, RetrievingMoreThanIsReadableAborts) {
  EXPECT_DEATH(
      {
        Buffer buf;
        buf.append("abcd");
        buf.retrieve(5);
      },
      "reactor: .*retrieve");
  EXPECT_DEATH(
      {
        Buffer buf;
        buf.append("abcd");
        buf.retrieveAsString(5);
      },
      "reactor: .*retrieveAsString");
  EXPECT_DEATH(
      {
        Buffer buf;
        buf.append("abcd");
        buf.retrieveUntil(buf.peek() + 5);
      },
      "reactor: .*retrieveUntil");
}

TEST(BufferDeathTest, PeekingOrReadingPastTheReadableBytesAborts) {
  EXPECT_DEATH(
      {
        Buffer buf;
        buf.appendInt16(1);
        buf.peekInt32();
      },
      "reactor: .*peekInt32");
  EXPECT_DEATH(
      {
        Buffer buf;
        buf.appendInt32(1);
        buf.readInt64();
      },
      "reactor: .*Int64");
  EXPECT_DEATH(
      {
        Buffer buf;
        buf.readInt8();
      },
      "reactor: .*Int8");
}

TEST(BufferDeathTest, PrependingMoreThanThePrependableRoomAborts) {
  EXPECT_DEATH(
      {
        Buffer buf;
        const std::string header(Buffer::kCheapPrepend + 1, 'h');
        buf.prepend(header.data(), header.size());
      },
      "reactor: .*prepend");
}

}  // namespace
