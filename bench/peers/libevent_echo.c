/* libevent_echo: the pingpong echo server written the way libevent's own
 * samples write one, for docs/performance.md to compare with ours.
 *
 * Each connection is a bufferevent: libevent reads into its input evbuffer,
 * the read callback moves everything read to the output evbuffer (the bytes
 * change hands as whole chunks, without a copy), and libevent writes it out
 * when the socket takes it. There is no high-water mark, so a peer that
 * never reads makes the server buffer without bound; the pingpong client
 * always reads, and our TcpServer without a high-water mark callback is no
 * different.
 *
 * With N threads, each thread runs its own event_base with its own
 * evconnlistener bound to the port with SO_REUSEPORT, as bench/epoll_echo.c
 * does: the kernel spreads the connections, the threads share nothing, and
 * libevent needs no locks (evthread_use_pthreads() is never called).
 *
 * Usage: libevent_echo PORT [THREADS]   (THREADS defaults to 1)
 * It listens on every local address and runs until killed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

enum { kMaxThreads = 64 };

static void die(const char* what) {
  fprintf(stderr, "libevent_echo: %s failed\n", what);
  exit(1);
}

static void on_read(struct bufferevent* bev, void* arg) {
  (void)arg;
  bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

static void on_event(struct bufferevent* bev, short events, void* arg) {
  (void)arg;
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev); /* closes the socket */
}

static void on_accept(struct evconnlistener* listener, evutil_socket_t fd, struct sockaddr* peer,
                      int peer_length, void* arg) {
  (void)peer, (void)peer_length, (void)arg;
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  struct bufferevent* bev =
      bufferevent_socket_new(evconnlistener_get_base(listener), fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == NULL) die("bufferevent_socket_new");
  bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void* serve(void* arg) {
  const unsigned short port = *(const unsigned short*)arg;
  struct event_base* base = event_base_new();
  if (base == NULL) die("event_base_new");
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(port);
  /* The listener sets the socket nonblocking and accepts every pending
   * connection on each readable event. */
  struct evconnlistener* listener = evconnlistener_new_bind(
      base, on_accept, NULL,
      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT,
      SOMAXCONN, (struct sockaddr*)&addr, sizeof addr);
  if (listener == NULL) die("evconnlistener_new_bind");
  event_base_dispatch(base);
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
  /* libevent writes with writev(2), which raises SIGPIPE on a connection
   * the peer has reset: the write should fail with EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);
  /* main() never returns, so the threads may point at its local. */
  unsigned short listen_port = (unsigned short)port;
  for (long i = 1; i < threads; ++i) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, serve, &listen_port) != 0) die("pthread_create");
  }
  serve(&listen_port); /* the main thread is the first server thread */
  return 0;
}
