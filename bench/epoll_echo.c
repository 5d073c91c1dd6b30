/* epoll_echo: the yardstick for bench/pingpong. An echo server written
 * straight against epoll(7), level-triggered, in plain C with no library:
 * what a careful programmer writes by hand when only speed matters.
 * Our TcpServer is measured against it.
 *
 * Per connection, each readable event does one read(2) into the connection's
 * buffer and one send(2) of what was read (MSG_NOSIGNAL: a peer that is gone
 * gives EPIPE, not SIGPIPE). Only a short write makes the
 * connection wait for EPOLLOUT, with reading paused until the rest is sent,
 * so a peer that does not read cannot make the server buffer without bound.
 *
 * With N threads, each thread has its own epoll instance and its own
 * listening socket bound to the same port with SO_REUSEPORT: the kernel
 * spreads new connections over the listeners, and the threads share nothing.
 *
 * Usage: epoll_echo PORT [THREADS]   (THREADS defaults to 1)
 * It listens on every local address and runs until killed.
 */
#define _GNU_SOURCE /* accept4(2) */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kBufferSize = 64 * 1024, kMaxEvents = 256, kMaxThreads = 64 };

struct connection {
  int fd;
  size_t length; /* bytes in buf */
  size_t sent;   /* of those, bytes already written back */
  char buf[kBufferSize];
};

static void die(const char* what) {
  perror(what);
  exit(1);
}

static int listen_on(unsigned short port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int on = 1;
  /* SO_REUSEPORT lets every thread bind its own listener to the port. */
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0)
    die("setsockopt");
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(port);
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) < 0) die("bind");
  if (listen(fd, SOMAXCONN) < 0) die("listen");
  return fd;
}

static void watch(int epfd, int op, struct connection* conn, unsigned events) {
  struct epoll_event ev = {.events = events, .data.ptr = conn};
  if (epoll_ctl(epfd, op, conn->fd, &ev) < 0) die("epoll_ctl");
}

static void close_connection(struct connection* conn) {
  close(conn->fd); /* also removes it from the epoll set */
  free(conn);
}

static void accept_all(int epfd, int listenfd) {
  for (;;) {
    int fd = accept4(listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept4"); /* EMFILE and the like: a benchmark does not recover */
    }
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    struct connection* conn = malloc(sizeof *conn);
    if (conn == NULL) die("malloc");
    conn->fd = fd;
    conn->length = conn->sent = 0;
    watch(epfd, EPOLL_CTL_ADD, conn, EPOLLIN);
  }
}

/* Writes what is left in the buffer. Returns 0 when all of it went out, 1
 * when the socket is full, -1 when the connection failed. */
static int flush(struct connection* conn) {
  while (conn->sent < conn->length) {
    ssize_t n = send(conn->fd, conn->buf + conn->sent, conn->length - conn->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
    }
    conn->sent += (size_t)n;
  }
  conn->length = conn->sent = 0;
  return 0;
}

static void on_readable(int epfd, struct connection* conn) {
  ssize_t n = read(conn->fd, conn->buf, sizeof conn->buf);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    close_connection(conn);
    return;
  }
  if (n < 0) return;
  conn->length = (size_t)n;
  int left = flush(conn);
  if (left < 0)
    close_connection(conn);
  else if (left > 0)
    watch(epfd, EPOLL_CTL_MOD, conn, EPOLLOUT); /* short write: pause reading */
}

static void on_writable(int epfd, struct connection* conn) {
  int left = flush(conn);
  if (left < 0)
    close_connection(conn);
  else if (left == 0)
    watch(epfd, EPOLL_CTL_MOD, conn, EPOLLIN); /* all sent: read again */
}

static void* serve(void* arg) {
  const unsigned short port = *(const unsigned short*)arg;
  const int listenfd = listen_on(port);
  const int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  /* The listener is the one entry whose data.ptr is NULL. */
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, listenfd, &ev) < 0) die("epoll_ctl");

  struct epoll_event events[kMaxEvents];
  for (;;) {
    int ready = epoll_wait(epfd, events, kMaxEvents, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      struct connection* conn = events[i].data.ptr;
      if (conn == NULL)
        accept_all(epfd, listenfd);
      else if (events[i].events & EPOLLOUT)
        on_writable(epfd, conn);
      else /* EPOLLIN, or EPOLLHUP/EPOLLERR, which the read then reports */
        on_readable(epfd, conn);
    }
  }
  return NULL;
}

static long parse(const char* text, long max) {
  char* end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1 || value > max) return -1;
  return value;
}

int main(int argc, char* argv[]) {
  long port = argc >= 2 ? parse(argv[1], 65535) : -1;
  long threads = argc >= 3 ? parse(argv[2], kMaxThreads) : 1;
  if (argc < 2 || argc > 3 || port < 0 || threads < 0) {
    fprintf(stderr, "usage: %s PORT [THREADS]   (THREADS 1..%d, default 1)\n", argv[0],
            kMaxThreads);
    return 2;
  }
  /* main() never returns, so the threads may point at its local. */
  unsigned short listen_port = (unsigned short)port;
  for (long i = 1; i < threads; ++i) {
    pthread_t thread;
    int err = pthread_create(&thread, NULL, serve, &listen_port);
    if (err != 0) {
      errno = err;
      die("pthread_create");
    }
  }
  serve(&listen_port); /* the main thread is the first server thread */
  return 0;
}
