// Buffer: the bytes a connection has received and not yet consumed, or has
// been asked to send and the kernel has not yet taken. One growable array in
// three regions:
//
// [layout]
//   +-------------------+------------------+------------------+
//   | prependable bytes |  readable bytes  |  writable bytes  |
//   |                   |    (CONTENT)     |                  |
//   +-------------------+------------------+------------------+
//   0       <=      readerIndex   <=   writerIndex    <=    size
// [layout]
//
// Reading consumes from the front of the readable region (retrieve()),
// writing appends at the back (append()). When the back runs out, the
// content moves to the front before the array grows, so a buffer that is
// drained as fast as it fills never grows. kCheapPrepend bytes stay free at
// the front, so that a length header can be put before a message without
// moving it (prepend()).
//
// Asking for more bytes than are readable (retrieve, peek, read) is a
// programmer's error and aborts through reactor::fatal() in every build type.
// Thread rules: none of its own; a connection's buffers belong to its loop
// thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reactor {

/// A byte buffer with cheap appends at the back and consumption at the front.
class Buffer {
 public:
  /// Bytes kept free before the content for prepend().
  static constexpr std::size_t kCheapPrepend = 8;
  /// The writable room of a new buffer.
  static constexpr std::size_t kInitialSize = 1024;

  /// An empty buffer with `initialSize` bytes of writable room.
  explicit Buffer(std::size_t initialSize = kInitialSize)
      : buffer_(kCheapPrepend + initialSize),
        readerIndex_(kCheapPrepend),
        writerIndex_(kCheapPrepend) {}

  /// Bytes of content, from peek() on.
  std::size_t readableBytes() const { return writerIndex_ - readerIndex_; }
  /// Bytes that can be appended without moving or growing anything.
  std::size_t writableBytes() const { return buffer_.size() - writerIndex_; }
  /// Bytes before the content, free for prepend().
  std::size_t prependableBytes() const { return readerIndex_; }

  /// The first byte of content. Valid until the next non-const call.
  const char* peek() const { return begin() + readerIndex_; }
  /// Where the next appended byte goes.
  char* beginWrite() { return begin() + writerIndex_; }
  /// Where the next appended byte goes.
  const char* beginWrite() const { return begin() + writerIndex_; }
  /// Counts `length` bytes written at beginWrite() as content.
  void hasWritten(std::size_t length);
  /// Makes room for at least `length` bytes at beginWrite().
  void ensureWritableBytes(std::size_t length);

  /// The content, as a view valid until the next non-const call.
  std::string_view toStringView() const { return std::string_view(peek(), readableBytes()); }

  /// Appends `data` at the back.
  void append(std::string_view data) { append(data.data(), data.size()); }
  /// Appends `length` bytes at the back.
  void append(const void* data, std::size_t length);
  /// Puts `length` bytes before the content; at most prependableBytes().
  void prepend(const void* data, std::size_t length);

  /// Consumes `length` bytes from the front; at most readableBytes().
  void retrieve(std::size_t length);
  /// Consumes the content up to `end`, a pointer into it (e.g. findCRLF()).
  void retrieveUntil(const char* end);
  /// Consumes all the content.
  void retrieveAll();
  /// Consumes `length` bytes and returns them.
  std::string retrieveAsString(std::size_t length);
  /// Consumes all the content and returns it.
  std::string retrieveAllAsString() { return retrieveAsString(readableBytes()); }

  /// The first "\r\n" in the content, or nullptr.
  const char* findCRLF() const { return findCRLF(peek()); }
  /// The first "\r\n" at or after `start`, a pointer into the content, or nullptr.
  const char* findCRLF(const char* start) const;
  /// The first '\n' in the content, or nullptr.
  const char* findEOL() const { return findEOL(peek()); }
  /// The first '\n' at or after `start`, a pointer into the content, or nullptr.
  const char* findEOL(const char* start) const;

  // Integers in network byte order (big-endian). Peeking or reading more
  // than readableBytes() aborts, as retrieve() does.

  /// Appends `x`, one byte.
  void appendInt8(int8_t x) { append(&x, sizeof x); }
  /// Appends `x`, two bytes, big-endian.
  void appendInt16(int16_t x);
  /// Appends `x`, four bytes, big-endian.
  void appendInt32(int32_t x);
  /// Appends `x`, eight bytes, big-endian.
  void appendInt64(int64_t x);
  /// The byte at the front.
  int8_t peekInt8() const;
  /// The two bytes at the front, as a big-endian integer.
  int16_t peekInt16() const;
  /// The four bytes at the front, as a big-endian integer.
  int32_t peekInt32() const;
  /// The eight bytes at the front, as a big-endian integer.
  int64_t peekInt64() const;
  /// peekInt8(), then consumes the byte.
  int8_t readInt8();
  /// peekInt16(), then consumes the two bytes.
  int16_t readInt16();
  /// peekInt32(), then consumes the four bytes.
  int32_t readInt32();
  /// peekInt64(), then consumes the eight bytes.
  int64_t readInt64();
  /// Puts `x`, one byte, before the content.
  void prependInt8(int8_t x) { prepend(&x, sizeof x); }
  /// Puts `x`, two bytes, big-endian, before the content.
  void prependInt16(int16_t x);
  /// Puts `x`, four bytes, big-endian, before the content.
  void prependInt32(int32_t x);
  /// Puts `x`, eight bytes, big-endian, before the content.
  void prependInt64(int64_t x);

  /// Gives back memory: keeps the content and `reserve` bytes of room.
  void shrink(std::size_t reserve);
  /// The bytes the array holds, for tests and statistics.
  std::size_t internalCapacity() const { return buffer_.capacity(); }

  /// Reads from `fd` with one readv(2) into the writable room and a 64 KiB
  /// stack array, then appends what landed in the array: one system call
  /// takes a large burst however small the buffer, and an idle connection
  /// needs no large buffer. Returns readv's result; on error, errno is in
  /// `*savedErrno`.
  ssize_t readFd(int fd, int* savedErrno);

 private:
  char* begin() { return buffer_.data(); }
  const char* begin() const { return buffer_.data(); }
  void makeSpace(std::size_t length);
  void checkReadable(const char* function, std::size_t length) const;
  void checkInContent(const char* function, const char* where) const;
  template <typename Int>
  Int peekInt(const char* function) const;
  template <typename UInt>
  void appendBigEndian(UInt x);
  template <typename UInt>
  void prependBigEndian(UInt x);

  std::vector<char> buffer_;
  std::size_t readerIndex_;
  std::size_t writerIndex_;
};

}  // namespace reactor
