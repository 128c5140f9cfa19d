/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_http.c - libuv in front of the reference, for `etch serve` (serve_http.h).
 *
 * A thin shell: bytes read go to the connection's serve_conn (serve_conn.h), whatever
 * answers it appends are written back, and the connection closes when serve_conn says so.
 * Writes are tried at once (uv_try_write) and only what the socket does not take waits
 * for a uv_write; answers made meanwhile gather behind it. A client that sends more than
 * it reads is not read from while a megabyte of answers waits for it.
 *
 * Every loop keeps its connections in a list that a timer walks four times a second for
 * the deadlines: idle, slow client, and the linger after a closing answer.
 */
#define _GNU_SOURCE

#include "serve_http.h"

#include "serve_conn.h"

#include "ref/buf.h"
#include "ref/limits.h"
#include "ref/mem.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How much of a request-target a log line shows. */
#define LOG_TARGET_BYTES 256
/* One read's worth; the loop's buffer is shared by its connections, since serve_conn
 * copies what it keeps. */
#define READ_BUF_BYTES (64 * 1024)
/* Answers waiting for a client that does not read: past this, reading stops. */
#define MAX_UNSENT_BYTES  (1024 * 1024)
#define SWEEP_INTERVAL_MS 250

struct serve_loop;

enum client_state {
    CLIENT_SERVING = 0,
    CLIENT_LINGERING, /* the closing answer is out, our side shut: dropping what comes */
    CLIENT_CLOSING,   /* uv_close called */
};

struct serve_client {
    uv_tcp_t tcp;
    struct serve_loop *loop;
    struct serve_conn conn;
    enum client_state state;
    struct ref_buf unsent;    /* answers not yet handed to the socket */
    struct ref_buf in_flight; /* handed to uv_write, until its callback */
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    bool is_writing;
    bool is_reading;
    bool is_busy; /* counted in the server's in_flight */
    uint64_t deadline_ms;
    uint64_t request_started_ms; /* the log's time: from the request's first byte */
    struct timespec request_started_at;
    struct serve_client *prev, *next;
};

struct etch_server;

struct serve_loop {
    struct etch_server *srv;
    uv_loop_t uv;
    uv_tcp_t listener;
    uv_async_t wake;
    uv_timer_t sweep;
    pthread_t thread;
    bool is_listener_open;
    bool has_waiting_accept; /* a connection waits in the backlog for room */
    size_t num_clients;
    size_t max_clients;
    struct serve_client *clients;
    struct serve_conn_config conn_cfg;
    uint8_t read_buf[READ_BUF_BYTES];
    bool is_read_buf_lent;
};

struct etch_server {
    struct serve_loop *loops;
    unsigned num_loops;
    struct ref_service *svc;
    size_t max_body_bytes;
    bool is_quiet;
    unsigned idle_timeout_ms;
    unsigned slow_client_timeout_ms;
    uint16_t port;
    atomic_size_t in_flight;
    atomic_bool is_quiesced;
    atomic_bool is_stopping;
};

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    /* One write per line, so lines from the loop threads never interleave. */
    flockfile(stderr);
    fputs(line, stderr);
    fputc('\n', stderr);
    funlockfile(stderr);
}

/* A printable, bounded copy of bytes that came off the wire, for the log. */
static void sanitize(struct ref_slice s, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < s.len && i < LOG_TARGET_BYTES; i++) {
        uint8_t c = s.ptr[i];
        if (o + 5 >= cap) {
            break;
        }
        if (c > 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0x0f];
        }
    }
    if (s.len > LOG_TARGET_BYTES && o + 4 < cap) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
}

static uint64_t now_ms(const struct serve_client *c)
{
    return uv_now(&c->loop->uv);
}

/* The per-request log line, in the form the tests and users read. */
static void on_answered(void *cls,
                        struct ref_slice method,
                        struct ref_slice target,
                        int http_status,
                        enum ref_status status)
{
    struct serve_client *c = cls;
    /* A request that follows (pipelined, or still arriving) is timed from here. */
    c->request_started_ms = now_ms(c);
    if (c->loop->srv->is_quiet) {
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms = (double)(now.tv_sec - c->request_started_at.tv_sec) * 1e3 +
                (double)(now.tv_nsec - c->request_started_at.tv_nsec) / 1e6;
    /* A pipelined request that follows starts when this one is answered. */
    c->request_started_at = now;
    char method_text[LOG_TARGET_BYTES * 4 + 8];
    char target_text[LOG_TARGET_BYTES * 4 + 8];
    sanitize(method, method_text, sizeof(method_text));
    sanitize(target, target_text, sizeof(target_text));
    const char *error_type = status == REF_OK ? "" : ref_status_error_type(status);
    log_line("etch serve: %s %s %d %s %.3f ms", method_text[0] != '\0' ? method_text : "-",
             target_text[0] != '\0' ? target_text : "-", http_status,
             error_type[0] != '\0' ? error_type : "-", ms);
}

/* --- Connections ------------------------------------------------------------------ */

static void client_flush(struct serve_client *c);
static void client_close(struct serve_client *c);
static void accept_one(struct serve_loop *lp);
static void client_read_start(struct serve_client *c);

/* Keeps the server's count of connections with work under way. */
static void client_update_busy(struct serve_client *c)
{
    bool is_busy = c->state == CLIENT_SERVING &&
                   (!serve_conn_is_idle(&c->conn) || c->is_writing || c->unsent.len > 0);
    if (is_busy != c->is_busy) {
        c->is_busy = is_busy;
        if (is_busy) {
            atomic_fetch_add(&c->loop->srv->in_flight, 1);
        } else {
            atomic_fetch_sub(&c->loop->srv->in_flight, 1);
        }
    }
}

static void on_client_closed(uv_handle_t *h)
{
    struct serve_client *c = h->data;
    struct serve_loop *lp = c->loop;
    serve_conn_cleanup(&c->conn);
    ref_buf_cleanup(&c->unsent);
    ref_buf_cleanup(&c->in_flight);
    ref_mem_free(c);
    /* Room again for a connection the backlog holds. */
    if (lp->has_waiting_accept && lp->is_listener_open) {
        lp->has_waiting_accept = false;
        accept_one(lp);
    }
}

static void client_close(struct serve_client *c)
{
    if (c->state == CLIENT_CLOSING) {
        return;
    }
    c->state = CLIENT_CLOSING;
    client_update_busy(c);
    struct serve_loop *lp = c->loop;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        lp->clients = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    lp->num_clients--;
    uv_close((uv_handle_t *)&c->tcp, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct serve_client *c = req->data;
    if (status != 0) {
        client_close(c);
    }
}

/* The closing answer is out: shut our side and drop what the client still sends for a
 * moment, so that its unread bytes do not turn the close into a reset. */
static void client_linger(struct serve_client *c)
{
    c->state = CLIENT_LINGERING;
    client_update_busy(c);
    c->deadline_ms = now_ms(c) + ETCH_SERVE_LINGER_MS;
    c->shutdown_req.data = c;
    client_read_start(c);
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        client_close(c);
    }
}

static void client_set_deadline(struct serve_client *c)
{
    const struct etch_server *srv = c->loop->srv;
    bool is_idle = serve_conn_is_idle(&c->conn) && !c->is_writing && c->unsent.len == 0;
    /* Idle: from the last activity. Busy: from the start of the request (or the last
     * answer), however the bytes trickle in, so a slow client cannot keep it for ever. */
    c->deadline_ms = is_idle ? now_ms(c) + srv->idle_timeout_ms
                             : c->request_started_ms + srv->slow_client_timeout_ms;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct serve_client *c = h->data;
    struct serve_loop *lp = c->loop;
    /* libuv reads into one buffer at a time per loop, and each read is consumed before
     * the next allocation. */
    buf->base = (char *)lp->read_buf;
    buf->len = sizeof(lp->read_buf);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void client_read_start(struct serve_client *c)
{
    if (!c->is_reading && c->state != CLIENT_CLOSING) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) {
            c->is_reading = true;
        }
    }
}

static void client_read_stop(struct serve_client *c)
{
    if (c->is_reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->is_reading = false;
    }
}

/* What serve_conn decided after the last bytes: write, then go on, linger or close. */
static void client_after_input(struct serve_client *c, enum ref_status rc)
{
    if (rc != REF_OK) {
        /* No answer could be made (out of memory): nothing better than a close. */
        client_close(c);
        return;
    }
    client_flush(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct serve_client *c = stream->data;
    if (nread == 0) {
        return; /* EAGAIN */
    }
    if (c->state == CLIENT_LINGERING) {
        if (nread < 0) {
            client_close(c);
        }
        return; /* dropped */
    }
    if (c->state != CLIENT_SERVING) {
        return;
    }
    if (nread < 0) {
        if (nread != UV_EOF) {
            client_close(c);
            return;
        }
        client_read_stop(c);
        enum ref_status rc = serve_conn_end_of_input(&c->conn, &c->unsent);
        client_after_input(c, rc);
        return;
    }
    if (serve_conn_is_idle(&c->conn)) {
        c->request_started_ms = now_ms(c);
        /* The finer clock serves only the log line. */
        if (!c->loop->srv->is_quiet) {
            clock_gettime(CLOCK_MONOTONIC, &c->request_started_at);
        }
    }
    enum ref_status rc =
        serve_conn_receive(&c->conn, ref_slice_make(buf->base, (size_t)nread), &c->unsent);
    client_after_input(c, rc);
}

static void on_write(uv_write_t *req, int status)
{
    struct serve_client *c = req->data;
    c->is_writing = false;
    ref_buf_reset(&c->in_flight);
    if (c->state == CLIENT_CLOSING) {
        return;
    }
    if (status != 0) {
        client_close(c);
        return;
    }
    client_flush(c);
}

/* Sends what has gathered; once all is out, closes if the last answer said so. */
static void client_flush(struct serve_client *c)
{
    if (c->state != CLIENT_SERVING) {
        return;
    }
    if (!c->is_writing && c->unsent.len > 0) {
        uv_buf_t b = uv_buf_init((char *)c->unsent.data, (unsigned)c->unsent.len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            client_close(c);
            return;
        }
        size_t sent = n > 0 ? (size_t)n : 0;
        if (sent == c->unsent.len) {
            ref_buf_reset(&c->unsent);
        } else {
            /* The rest waits for the socket: it moves to in_flight, whose storage stays
             * put until the write's callback. */
            struct ref_buf tmp = c->in_flight;
            c->in_flight = c->unsent;
            c->unsent = tmp;
            ref_buf_reset(&c->unsent);
            uv_buf_t rest =
                uv_buf_init((char *)c->in_flight.data + sent, (unsigned)(c->in_flight.len - sent));
            c->write_req.data = c;
            if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &rest, 1, on_write) != 0) {
                client_close(c);
                return;
            }
            c->is_writing = true;
        }
    }
    bool is_all_out = !c->is_writing && c->unsent.len == 0;
    if (is_all_out && serve_conn_is_closing(&c->conn)) {
        client_linger(c);
        return;
    }
    if (is_all_out && atomic_load(&c->loop->srv->is_quiesced) && serve_conn_is_idle(&c->conn)) {
        /* Stopping: an idle connection is done. */
        client_close(c);
        return;
    }
    /* A client that does not read its answers is not read from either. */
    if (c->unsent.len + c->in_flight.len > MAX_UNSENT_BYTES) {
        client_read_stop(c);
    } else {
        client_read_start(c);
    }
    client_update_busy(c);
    client_set_deadline(c);
}

static void client_start(struct serve_loop *lp)
{
    struct serve_client *c = ref_mem_calloc(1, sizeof(*c));
    if (c == NULL) {
        return; /* the connection stays in the backlog, or is refused by the kernel */
    }
    c->loop = lp;
    c->tcp.data = c;
    if (uv_tcp_init(&lp->uv, &c->tcp) != 0) {
        ref_mem_free(c);
        return;
    }
    serve_conn_init(&c->conn, &lp->conn_cfg, c);
    ref_buf_init(&c->unsent, SIZE_MAX);
    ref_buf_init(&c->in_flight, SIZE_MAX);
    c->next = lp->clients;
    if (lp->clients != NULL) {
        lp->clients->prev = c;
    }
    lp->clients = c;
    lp->num_clients++;
    if (uv_accept((uv_stream_t *)&lp->listener, (uv_stream_t *)&c->tcp) != 0) {
        client_close(c);
        return;
    }
    (void)uv_tcp_nodelay(&c->tcp, 1);
    clock_gettime(CLOCK_MONOTONIC, &c->request_started_at);
    client_read_start(c);
    client_set_deadline(c);
}

static void accept_one(struct serve_loop *lp)
{
    if (lp->num_clients >= lp->max_clients) {
        /* Not accepted: libuv stops watching the listener until this one is, so the
         * backlog holds it and those behind it. */
        lp->has_waiting_accept = true;
        return;
    }
    client_start(lp);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct serve_loop *lp = server->data;
    if (status != 0 || !lp->is_listener_open) {
        return;
    }
    accept_one(lp);
}

/* --- The loops -------------------------------------------------------------------- */

static void on_sweep(uv_timer_t *t)
{
    struct serve_loop *lp = t->data;
    uint64_t now = uv_now(&lp->uv);
    for (struct serve_client *c = lp->clients, *next; c != NULL; c = next) {
        next = c->next;
        if (c->deadline_ms <= now) {
            client_close(c);
        }
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    (void)h;
}

static void close_listener(struct serve_loop *lp)
{
    if (lp->is_listener_open) {
        lp->is_listener_open = false;
        uv_close((uv_handle_t *)&lp->listener, on_listener_closed);
    }
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h)) {
        return;
    }
    if (h->type == UV_TCP && h->data != NULL && h->data != h->loop->data) {
        client_close(h->data);
    } else {
        uv_close(h, NULL);
    }
}

/* Runs on the loop's thread when another thread asks: quiesce, or stop. */
static void on_wake(uv_async_t *a)
{
    struct serve_loop *lp = a->data;
    if (atomic_load(&lp->srv->is_stopping)) {
        close_listener(lp);
        uv_walk(&lp->uv, close_any, NULL);
        return;
    }
    if (atomic_load(&lp->srv->is_quiesced)) {
        close_listener(lp);
        for (struct serve_client *c = lp->clients, *next; c != NULL; c = next) {
            next = c->next;
            serve_conn_stop(&c->conn);
            if (c->state == CLIENT_SERVING && serve_conn_is_idle(&c->conn) && !c->is_writing &&
                c->unsent.len == 0) {
                client_close(c);
            }
        }
    }
}

static void *loop_main(void *arg)
{
    struct serve_loop *lp = arg;
    (void)uv_run(&lp->uv, UV_RUN_DEFAULT);
    return NULL;
}

/* Fills a socket address from a numeric host and a port. */
static bool
make_address(const char *host, uint16_t port, struct sockaddr_storage *addr, bool *is_ipv6)
{
    *addr = (struct sockaddr_storage){0};
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *is_ipv6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *is_ipv6 = true;
        return true;
    }
    return false;
}

/* One listening socket: non-blocking, SO_REUSEPORT so that every loop has its own on the
 * same port, and TCP_DEFER_ACCEPT so that a connection is usually accepted with its
 * request already there. With is_probe, a socket that is only bound, without SO_REUSEPORT:
 * it fails where the port is taken, also by another server of this user that set
 * SO_REUSEPORT (which the kernel would otherwise let share the port and its connections).
 * -1 after printing why. */
static int open_listener(const char *host, uint16_t port, bool is_probe, uint16_t *bound_port)
{
    struct sockaddr_storage addr;
    bool is_ipv6 = false;
    if (!make_address(host, port, &addr, &is_ipv6)) {
        fprintf(stderr, "etch serve: '%s' is not a numeric IPv4 or IPv6 address\n", host);
        return -1;
    }
    int fd = socket(is_ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("etch serve: socket");
        return -1;
    }
    int one = 1;
    int defer_s = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (!is_probe) {
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        (void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof(defer_s));
    }
    if (is_ipv6) {
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    socklen_t len = is_ipv6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&addr, len) != 0 || (!is_probe && listen(fd, SOMAXCONN) != 0)) {
        fprintf(stderr,
                "etch serve: cannot listen on %s port %u: %s (in use, or not an address of "
                "this machine?)\n",
                host, (unsigned int)port, strerror(errno));
        close(fd);
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0) {
        perror("etch serve: getsockname");
        close(fd);
        return -1;
    }
    *bound_port = ntohs(is_ipv6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                : ((struct sockaddr_in *)&bound)->sin_port);
    return fd;
}

/* Sets a loop up on its listening socket (which it then owns). */
static bool loop_init(struct etch_server *srv, struct serve_loop *lp, int fd, size_t max_clients)
{
    lp->srv = srv;
    lp->max_clients = max_clients;
    lp->conn_cfg = (struct serve_conn_config){
        .svc = srv->svc,
        .max_body_bytes = srv->max_body_bytes,
        .on_answered = on_answered,
    };
    if (uv_loop_init(&lp->uv) != 0) {
        close(fd);
        return false;
    }
    lp->uv.data = lp;
    lp->listener.data = lp;
    lp->wake.data = lp;
    lp->sweep.data = lp;
    bool ok = uv_tcp_init(&lp->uv, &lp->listener) == 0;
    if (ok && uv_tcp_open(&lp->listener, fd) != 0) {
        close(fd);
        ok = false;
    } else if (!ok) {
        close(fd);
    }
    lp->is_listener_open = ok;
    ok = ok && uv_listen((uv_stream_t *)&lp->listener, SOMAXCONN, on_connection) == 0;
    ok = ok && uv_async_init(&lp->uv, &lp->wake, on_wake) == 0;
    ok = ok && uv_timer_init(&lp->uv, &lp->sweep) == 0 &&
         uv_timer_start(&lp->sweep, on_sweep, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS) == 0;
    return ok;
}

/* Closes what loop_init opened and the loop itself (the loop's thread has ended). */
static void loop_cleanup(struct serve_loop *lp)
{
    uv_walk(&lp->uv, close_any, NULL);
    (void)uv_run(&lp->uv, UV_RUN_DEFAULT);
    (void)uv_loop_close(&lp->uv);
}

struct etch_server *etch_server_start(const struct etch_server_config *cfg)
{
    if (cfg->threads < 1 || cfg->threads > ETCH_SERVE_MAX_THREADS) {
        fprintf(stderr, "etch serve: threads must be 1..%d\n", ETCH_SERVE_MAX_THREADS);
        return NULL;
    }
    struct etch_server *srv = ref_mem_calloc(1, sizeof(*srv));
    struct serve_loop *loops = ref_mem_calloc(cfg->threads, sizeof(*loops));
    if (srv == NULL || loops == NULL) {
        fprintf(stderr, "etch serve: out of memory\n");
        ref_mem_free(srv);
        ref_mem_free(loops);
        return NULL;
    }
    srv->loops = loops;
    srv->svc = cfg->svc;
    srv->max_body_bytes = cfg->max_body_bytes;
    srv->is_quiet = cfg->is_quiet;
    srv->idle_timeout_ms =
        cfg->idle_timeout_ms != 0 ? cfg->idle_timeout_ms : ETCH_SERVE_IDLE_TIMEOUT_MS;
    srv->slow_client_timeout_ms = cfg->slow_client_timeout_ms != 0
                                      ? cfg->slow_client_timeout_ms
                                      : ETCH_SERVE_SLOW_CLIENT_TIMEOUT_MS;
    atomic_init(&srv->in_flight, 0);
    atomic_init(&srv->is_quiesced, false);
    atomic_init(&srv->is_stopping, false);
    size_t max_connections =
        cfg->max_connections != 0 ? cfg->max_connections : ETCH_SERVE_MAX_CONNECTIONS;
    size_t per_loop = (max_connections + cfg->threads - 1) / cfg->threads;

    /* The probe picks the port when asked for 0 and finds it taken otherwise; then every
     * loop's socket binds it. */
    uint16_t port = 0;
    int probe = open_listener(cfg->host, cfg->port, true, &port);
    bool ok = probe >= 0;
    if (ok) {
        close(probe);
    }
    for (unsigned i = 0; i < cfg->threads && ok; i++) {
        uint16_t bound = 0;
        int fd = open_listener(cfg->host, port, false, &bound);
        if (fd < 0) {
            ok = false;
            break;
        }
        port = bound;
        ok = loop_init(srv, &loops[i], fd, per_loop);
        srv->num_loops = i + 1;
    }
    srv->port = port;
    for (unsigned i = 0; i < srv->num_loops && ok; i++) {
        if (pthread_create(&loops[i].thread, NULL, loop_main, &loops[i]) != 0) {
            fprintf(stderr, "etch serve: cannot start worker thread %u of %u\n", i + 1,
                    cfg->threads);
            /* The threads started so far are told to stop below. */
            atomic_store(&srv->is_stopping, true);
            for (unsigned j = 0; j < i; j++) {
                uv_async_send(&loops[j].wake);
                pthread_join(loops[j].thread, NULL);
            }
            for (unsigned j = i; j < srv->num_loops; j++) {
                loop_cleanup(&loops[j]);
            }
            ref_mem_free(loops);
            ref_mem_free(srv);
            return NULL;
        }
    }
    if (!ok) {
        if (srv->num_loops > 0 && srv->port != 0) {
            fprintf(stderr, "etch serve: cannot set up worker %u of %u\n", srv->num_loops,
                    cfg->threads);
        }
        for (unsigned i = 0; i < srv->num_loops; i++) {
            loop_cleanup(&loops[i]);
        }
        ref_mem_free(loops);
        ref_mem_free(srv);
        return NULL;
    }
    return srv;
}

uint16_t etch_server_port(const struct etch_server *srv)
{
    return srv->port;
}

void etch_server_quiesce(struct etch_server *srv)
{
    atomic_store(&srv->is_quiesced, true);
    for (unsigned i = 0; i < srv->num_loops; i++) {
        uv_async_send(&srv->loops[i].wake);
    }
}

size_t etch_server_in_flight(const struct etch_server *srv)
{
    return atomic_load(&srv->in_flight);
}

void etch_server_stop(struct etch_server *srv)
{
    if (srv == NULL) {
        return;
    }
    atomic_store(&srv->is_stopping, true);
    for (unsigned i = 0; i < srv->num_loops; i++) {
        uv_async_send(&srv->loops[i].wake);
    }
    for (unsigned i = 0; i < srv->num_loops; i++) {
        pthread_join(srv->loops[i].thread, NULL);
        loop_cleanup(&srv->loops[i]);
    }
    ref_mem_free(srv->loops);
    ref_mem_free(srv);
}
