/* libuv_echo: the pingpong echo server written the way libuv's guide writes
 * one, for docs/performance.md to compare with ours.
 *
 * Each connection is a uv_tcp_t reading with uv_read_start(): libuv asks the
 * alloc callback for a buffer before every read (64 KiB suggested), the read
 * callback hands that buffer to uv_write() as it is, and the write callback
 * frees it. uv_write() tries the write at once and only queues what the
 * socket does not take. There is no limit on what waits to be written, so a
 * peer that never reads makes the server buffer without bound; the pingpong
 * client always reads.
 *
 * With N threads, each thread runs its own uv_loop_t with its own listener
 * bound to the port with SO_REUSEPORT, as bench/epoll_echo.c does. libuv
 * 1.44 (Debian 12) has no flag for SO_REUSEPORT (UV_TCP_REUSEPORT came in
 * 1.49), so the listening socket is made here and handed to libuv with
 * uv_tcp_open().
 *
 * Usage: libuv_echo PORT [THREADS]   (THREADS defaults to 1)
 * It listens on every local address and runs until killed.
 */
#define _DEFAULT_SOURCE /* SO_REUSEPORT, and the POSIX types that uv.h uses */

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

enum { kMaxThreads = 64 };

/* A uv_write() request and the buffer it writes, freed together. */
struct write_request {
  uv_write_t req;
  uv_buf_t buf;
};

static void die(const char* what, int err) {
  fprintf(stderr, "libuv_echo: %s: %s\n", what, err < 0 ? uv_strerror(err) : strerror(errno));
  exit(1);
}

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)handle;
  buf->base = malloc(suggested);
  if (buf->base == NULL) die("malloc", 0);
  buf->len = suggested;
}

static void on_closed(uv_handle_t* handle) { free(handle); }

static void on_written(uv_write_t* req, int status) {
  (void)status; /* a failed write also fails the next read, which closes */
  struct write_request* w = (struct write_request*)req;
  free(w->buf.base);
  free(w);
}

static void on_read(uv_stream_t* client, ssize_t nread, const uv_buf_t* buf) {
  if (nread > 0) {
    struct write_request* w = malloc(sizeof *w);
    if (w == NULL) die("malloc", 0);
    w->buf = uv_buf_init(buf->base, (unsigned)nread);
    int err = uv_write(&w->req, client, &w->buf, 1, on_written);
    if (err < 0) {
      on_written(&w->req, err);
      uv_close((uv_handle_t*)client, on_closed);
    }
    return;
  }
  if (nread < 0) uv_close((uv_handle_t*)client, on_closed); /* UV_EOF or an error */
  free(buf->base); /* nread == 0: nothing to read after all (EAGAIN) */
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return; /* such as EMFILE: libuv retries on the next event */
  uv_tcp_t* client = malloc(sizeof *client);
  if (client == NULL) die("malloc", 0);
  uv_tcp_init(server->loop, client);
  int err = uv_accept(server, (uv_stream_t*)client);
  if (err < 0) die("uv_accept", err);
  uv_tcp_nodelay(client, 1);
  uv_read_start((uv_stream_t*)client, on_alloc, on_read);
}

/* A socket bound to the port with SO_REUSEPORT, for uv_tcp_open(). */
static int bind_reuseport(unsigned short port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket", 0);
  const int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0)
    die("setsockopt", 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(port);
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) < 0) die("bind", 0);
  return fd;
}

static void* serve(void* arg) {
  const unsigned short port = *(const unsigned short*)arg;
  uv_loop_t loop;
  uv_tcp_t server;
  int err;
  if ((err = uv_loop_init(&loop)) < 0) die("uv_loop_init", err);
  if ((err = uv_tcp_init(&loop, &server)) < 0) die("uv_tcp_init", err);
  if ((err = uv_tcp_open(&server, bind_reuseport(port))) < 0) die("uv_tcp_open", err);
  if ((err = uv_listen((uv_stream_t*)&server, SOMAXCONN, on_connection)) < 0) die("uv_listen", err);
  uv_run(&loop, UV_RUN_DEFAULT);
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
  /* libuv writes with write(2), which raises SIGPIPE on a connection
   * the peer has reset: the write should fail with EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);
  /* main() never returns, so the threads may point at its local. */
  unsigned short listen_port = (unsigned short)port;
  for (long i = 1; i < threads; ++i) {
    pthread_t thread;
    int err = pthread_create(&thread, NULL, serve, &listen_port);
    if (err != 0) {
      errno = err;
      die("pthread_create", 0);
    }
  }
  serve(&listen_port); /* the main thread is the first server thread */
  return 0;
}
