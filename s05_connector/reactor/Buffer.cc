#include "reactor/Buffer.h"

#include <endian.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "reactor/Fatal.h"

namespace reactor {

namespace {

// Network byte order is big-endian; these convert both ways.
uint16_t toBigEndian(uint16_t x) { return htobe16(x); }
uint32_t toBigEndian(uint32_t x) { return htobe32(x); }
uint64_t toBigEndian(uint64_t x) { return htobe64(x); }
uint16_t fromBigEndian(uint16_t x) { return be16toh(x); }
uint32_t fromBigEndian(uint32_t x) { return be32toh(x); }
uint64_t fromBigEndian(uint64_t x) { return be64toh(x); }

}  // namespace

void Buffer::checkReadable(const char* function, std::size_t length) const {
  if (length > readableBytes()) {
    fatal("%s: %zu bytes asked for, but only %zu are readable", function, length, readableBytes());
  }
}

void Buffer::checkInContent(const char* function, const char* where) const {
  if (where < peek() || where > beginWrite()) {
    fatal("%s: the pointer is not inside the readable bytes", function);
  }
}

void Buffer::hasWritten(std::size_t length) {
  if (length > writableBytes()) {
    fatal("Buffer::hasWritten: %zu bytes written, but only %zu are writable", length,
          writableBytes());
  }
  writerIndex_ += length;
}

void Buffer::ensureWritableBytes(std::size_t length) {
  if (writableBytes() < length) makeSpace(length);
}

// [makeSpace]
void Buffer::makeSpace(std::size_t length) {
  if (writableBytes() + prependableBytes() < length + kCheapPrepend) {
    buffer_.resize(writerIndex_ + length);
  } else {
    // Enough room in total: move the content to the front instead of growing.
    const std::size_t readable = readableBytes();
    std::copy(begin() + readerIndex_, begin() + writerIndex_, begin() + kCheapPrepend);
    readerIndex_ = kCheapPrepend;
    writerIndex_ = readerIndex_ + readable;
  }
}
// [makeSpace]

void Buffer::append(const void* data, std::size_t length) {
  ensureWritableBytes(length);
  std::memcpy(beginWrite(), data, length);
  writerIndex_ += length;
}

void Buffer::prepend(const void* data, std::size_t length) {
  if (length > prependableBytes()) {
    fatal("Buffer::prepend: %zu bytes to prepend, but only %zu are prependable", length,
          prependableBytes());
  }
  readerIndex_ -= length;
  std::memcpy(begin() + readerIndex_, data, length);
}

void Buffer::retrieve(std::size_t length) {
  checkReadable("Buffer::retrieve", length);
  if (length < readableBytes()) {
    readerIndex_ += length;
  } else {
    retrieveAll();
  }
}

void Buffer::retrieveUntil(const char* end) {
  checkInContent("Buffer::retrieveUntil", end);
  retrieve(static_cast<std::size_t>(end - peek()));
}

void Buffer::retrieveAll() {
  // An empty buffer starts over at the front: no move is ever needed.
  readerIndex_ = kCheapPrepend;
  writerIndex_ = kCheapPrepend;
}

std::string Buffer::retrieveAsString(std::size_t length) {
  checkReadable("Buffer::retrieveAsString", length);
  std::string result(peek(), length);
  retrieve(length);
  return result;
}

const char* Buffer::findCRLF(const char* start) const {
  checkInContent("Buffer::findCRLF", start);
  static constexpr char kCRLF[] = "\r\n";
  const char* crlf = std::search(start, beginWrite(), kCRLF, kCRLF + 2);
  return crlf == beginWrite() ? nullptr : crlf;
}

const char* Buffer::findEOL(const char* start) const {
  checkInContent("Buffer::findEOL", start);
  const void* eol = std::memchr(start, '\n', static_cast<std::size_t>(beginWrite() - start));
  return static_cast<const char*>(eol);
}

template <typename UInt>
void Buffer::appendBigEndian(UInt x) {
  const UInt be = toBigEndian(x);
  append(&be, sizeof be);
}

template <typename UInt>
void Buffer::prependBigEndian(UInt x) {
  const UInt be = toBigEndian(x);
  prepend(&be, sizeof be);
}

void Buffer::appendInt16(int16_t x) { appendBigEndian(static_cast<uint16_t>(x)); }
void Buffer::appendInt32(int32_t x) { appendBigEndian(static_cast<uint32_t>(x)); }
void Buffer::appendInt64(int64_t x) { appendBigEndian(static_cast<uint64_t>(x)); }
void Buffer::prependInt16(int16_t x) { prependBigEndian(static_cast<uint16_t>(x)); }
void Buffer::prependInt32(int32_t x) { prependBigEndian(static_cast<uint32_t>(x)); }
void Buffer::prependInt64(int64_t x) { prependBigEndian(static_cast<uint64_t>(x)); }

template <typename Int>
Int Buffer::peekInt(const char* function) const {
  checkReadable(function, sizeof(Int));
  Int x;
  std::memcpy(&x, peek(), sizeof x);  // peek() may be unaligned
  return x;
}

int8_t Buffer::peekInt8() const { return peekInt<int8_t>("Buffer::peekInt8"); }

int16_t Buffer::peekInt16() const {
  return static_cast<int16_t>(fromBigEndian(peekInt<uint16_t>("Buffer::peekInt16")));
}

int32_t Buffer::peekInt32() const {
  return static_cast<int32_t>(fromBigEndian(peekInt<uint32_t>("Buffer::peekInt32")));
}

int64_t Buffer::peekInt64() const {
  return static_cast<int64_t>(fromBigEndian(peekInt<uint64_t>("Buffer::peekInt64")));
}

int8_t Buffer::readInt8() {
  const int8_t x = peekInt8();
  retrieve(sizeof x);
  return x;
}

int16_t Buffer::readInt16() {
  const int16_t x = peekInt16();
  retrieve(sizeof x);
  return x;
}

int32_t Buffer::readInt32() {
  const int32_t x = peekInt32();
  retrieve(sizeof x);
  return x;
}

int64_t Buffer::readInt64() {
  const int64_t x = peekInt64();
  retrieve(sizeof x);
  return x;
}

void Buffer::shrink(std::size_t reserve) {
  Buffer smaller(readableBytes() + reserve);
  smaller.append(toStringView());
  std::swap(buffer_, smaller.buffer_);
  std::swap(readerIndex_, smaller.readerIndex_);
  std::swap(writerIndex_, smaller.writerIndex_);
}

// [readFd]
ssize_t Buffer::readFd(int fd, int* savedErrno) {
  // On the stack: 64 KiB per read costs nothing while the connection idles,
  // whereas 64 KiB in each of 10,000 idle buffers would be 640 MiB.
  char extra[65536];
  const std::size_t writable = writableBytes();
  iovec vec[2];
  vec[0].iov_base = beginWrite();
  vec[0].iov_len = writable;
  vec[1].iov_base = extra;
  vec[1].iov_len = sizeof extra;
  // With 64 KiB of room already, the buffer alone is as big as the extra.
  const int iovcnt = writable < sizeof extra ? 2 : 1;
  const ssize_t n = ::readv(fd, vec, iovcnt);
  if (n < 0) {
    *savedErrno = errno;
  } else if (static_cast<std::size_t>(n) <= writable) {
    writerIndex_ += static_cast<std::size_t>(n);
  } else {
    writerIndex_ = buffer_.size();
    append(extra, static_cast<std::size_t>(n) - writable);
  }
  return n;
}
// [readFd]

}  // namespace reactor
