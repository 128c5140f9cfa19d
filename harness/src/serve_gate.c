/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_gate.c - the front door of `etch serve` (see serve_gate.h for why it exists).
 *
 * One thread, one epoll set: the listening socket, an eventfd that asks the thread to
 * stop, and every connection still at the gate. A connection moves through three states:
 * PEEKING (edge-triggered: each arrival of bytes is one more look at everything so far),
 * then either handed off, or ANSWERING (the refusal is being written) and LINGERING (the
 * write side is shut, what the client still sends is read and dropped until it closes or
 * the linger time ends). Every state has a deadline, so nothing stays at the gate.
 */
#define _GNU_SOURCE /* accept4 */

#include "serve_gate.h"

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/limits.h"
#include "ref/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* The window must hold the largest head the reference accepts: a request line with the
 * longest method and target, the header section at its limit, and the empty line. */
_Static_assert(SERVE_GATE_WINDOW_BYTES > REF_MAX_METHOD_BYTES + REF_MAX_TARGET_BYTES + 16 +
                                            REF_MAX_HEADER_BYTES + 2,
               "the gate's window cannot hold the largest head the reference accepts");

/* --- The decision ------------------------------------------------------------------ */

static bool expects_continue(const struct ref_http_request *req)
{
    const struct ref_header *h =
        ref_http_find_header(req->headers, req->num_headers, REF_SLICE_LIT("Expect"));
    return h != NULL && ref_slice_eq_nocase(h->value, REF_SLICE_LIT("100-continue"));
}

enum serve_gate_verdict serve_gate_judge(struct ref_slice arrived,
                                         bool is_input_closed,
                                         bool is_body_wait_over,
                                         bool *is_waiting_for_body)
{
    if (is_waiting_for_body != NULL) {
        *is_waiting_for_body = false;
    }
    struct ref_http_request req;
    size_t head_len = 0;
    enum ref_status rc = ref_http_parse_head(arrived, &req, &head_len, NULL);
    if (rc == REF_E_INCOMPLETE) {
        /* A full window with the head still open cannot happen within the reference's
         * limits (the static assertion above); refuse rather than wait for nothing. */
        return is_input_closed || arrived.len >= SERVE_GATE_WINDOW_BYTES ? SERVE_GATE_REFUSE
                                                                         : SERVE_GATE_WAIT;
    }
    if (rc != REF_OK) {
        return SERVE_GATE_REFUSE;
    }
    /* A Content-Length body libmicrohttpd reads as it is; a client waiting for
     * 100 Continue sends no chunk before libmicrohttpd has answered it. */
    if (!req.is_chunked || expects_continue(&req)) {
        return SERVE_GATE_HAND_OFF;
    }
    /* Chunk framing is checked as far as it has arrived. */
    struct ref_buf decoded;
    ref_buf_init(&decoded, REF_MAX_BODY_BYTES);
    size_t consumed = 0;
    rc = ref_http_parse_request_prefix(arrived, &req, &decoded, &consumed, NULL);
    ref_buf_cleanup(&decoded);
    if (rc == REF_OK) {
        return SERVE_GATE_HAND_OFF;
    }
    if (rc != REF_E_INCOMPLETE || is_input_closed) {
        /* REF_E_NOMEM included: the reference, answering, will say what it can. */
        return SERVE_GATE_REFUSE;
    }
    if (arrived.len >= SERVE_GATE_WINDOW_BYTES || is_body_wait_over) {
        return SERVE_GATE_HAND_OFF;
    }
    if (is_waiting_for_body != NULL) {
        *is_waiting_for_body = true;
    }
    return SERVE_GATE_WAIT;
}

/* --- The thread ------------------------------------------------------------------- */

enum conn_state {
    CONN_PEEKING = 0,
    CONN_ANSWERING,
    CONN_LINGERING,
};

struct gate_conn {
    int fd;
    enum conn_state state;
    bool is_input_closed;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int64_t accepted_ms;
    struct timespec accepted_at; /* finer, for the log line's time */
    int64_t deadline_ms;
    int64_t body_wait_until_ms; /* 0 until the head is in and a chunked body awaited */
    struct ref_buf answer;
    size_t answer_sent;
    size_t lingered_bytes;
    struct gate_conn *prev;
    struct gate_conn *next;
};

struct serve_gate {
    struct serve_gate_config cfg;
    int epoll_fd;
    int wake_fd;
    pthread_t thread;
    bool is_listening; /* the listening socket is in the epoll set */
    int64_t listen_paused_until_ms;
    struct gate_conn *conns;
    size_t num_conns;
    uint8_t window[SERVE_GATE_WINDOW_BYTES];
};

/* epoll data for the two descriptors that are not connections. */
static char s_listen_tag;
static char s_wake_tag;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool set_events(struct serve_gate *g, struct gate_conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(g->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

static void set_listening(struct serve_gate *g, bool on)
{
    if (g->is_listening == on) {
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s_listen_tag};
    if (epoll_ctl(g->epoll_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, g->cfg.listen_fd, &ev) == 0) {
        g->is_listening = on;
    }
}

/* Unlinks c; closes its descriptor unless it was handed on. */
static void conn_release(struct serve_gate *g, struct gate_conn *c, bool close_fd)
{
    (void)epoll_ctl(g->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    if (close_fd) {
        close(c->fd);
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        g->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    g->num_conns--;
    ref_buf_cleanup(&c->answer);
    ref_mem_free(c);
}

static void conn_hand_off(struct serve_gate *g, struct gate_conn *c)
{
    int fd = c->fd;
    struct sockaddr_storage addr = c->addr;
    socklen_t addr_len = c->addr_len;
    conn_release(g, c, false);
    g->cfg.hand_off(g->cfg.cls, fd, (const struct sockaddr *)&addr, addr_len);
}

static void conn_drain(struct serve_gate *g, struct gate_conn *c);

static void conn_linger(struct serve_gate *g, struct gate_conn *c, int64_t now)
{
    (void)shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGERING;
    c->deadline_ms = now + SERVE_GATE_LINGER_MS;
    if (c->is_input_closed) {
        /* Nothing more will come, but the peeked request is still unread: closing over
         * unread bytes would send a reset, which can cost the client the answer. */
        conn_drain(g, c);
        return;
    }
    if (!set_events(g, c, EPOLLIN | EPOLLRDHUP | EPOLLET)) {
        conn_release(g, c, true);
    }
}

/* Writes what is left of the answer; on to lingering once it is all out. */
static void conn_write(struct serve_gate *g, struct gate_conn *c, int64_t now)
{
    while (c->answer_sent < c->answer.len) {
        ssize_t n = send(c->fd, c->answer.data + c->answer_sent, c->answer.len - c->answer_sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->answer_sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->state != CONN_ANSWERING) {
                c->state = CONN_ANSWERING;
                c->deadline_ms = now + g->cfg.idle_timeout_ms;
                if (!set_events(g, c, EPOLLOUT | EPOLLET)) {
                    conn_release(g, c, true);
                }
            }
            return;
        }
        conn_release(g, c, true); /* the client is gone */
        return;
    }
    conn_linger(g, c, now);
}

/* The request line's first two words, for the log; empty when there are none. */
static void request_words(struct ref_slice arrived, struct ref_slice *method,
                          struct ref_slice *target)
{
    size_t eol = ref_slice_find(arrived, '\n');
    if (eol > 0 && arrived.ptr[eol - 1] == '\r') {
        eol--; /* the line's CR is no part of a word */
    }
    struct ref_slice line = ref_slice_sub(arrived, 0, eol);
    *method = ref_slice_make(NULL, 0);
    *target = ref_slice_make(NULL, 0);
    size_t sp = ref_slice_find(line, ' ');
    if (sp >= line.len) {
        return;
    }
    *method = ref_slice_sub(line, 0, sp);
    struct ref_slice rest = ref_slice_sub(line, sp + 1, line.len - sp - 1);
    size_t sp2 = ref_slice_find(rest, ' ');
    *target = ref_slice_sub(rest, 0, sp2 < rest.len ? sp2 : rest.len);
}

static void conn_refuse(struct serve_gate *g, struct gate_conn *c, struct ref_slice arrived,
                        int64_t now)
{
    struct ref_response resp;
    ref_response_init(&resp);
    enum ref_status rc = ref_service_handle_raw(g->cfg.svc, arrived, &resp);
    if (rc == REF_OK) {
        /* The reference closes after every refusal it makes here, whether or not its
         * parser would: the gate does not know where a request it refused ends. */
        resp.is_closing = true;
        rc = ref_response_write_http(&resp, &c->answer);
    }
    if (rc != REF_OK) {
        ref_response_cleanup(&resp);
        conn_release(g, c, true);
        return;
    }
    if (g->cfg.on_refused != NULL) {
        struct ref_slice method, target;
        request_words(arrived, &method, &target);
        struct timespec answered_at;
        clock_gettime(CLOCK_MONOTONIC, &answered_at);
        double ms = (double)(answered_at.tv_sec - c->accepted_at.tv_sec) * 1e3 +
                    (double)(answered_at.tv_nsec - c->accepted_at.tv_nsec) / 1e6;
        g->cfg.on_refused(g->cfg.cls, method, target, resp.http_status, resp.status, ms);
    }
    ref_response_cleanup(&resp);
    conn_write(g, c, now);
}

static void conn_peek(struct serve_gate *g, struct gate_conn *c, int64_t now)
{
    ssize_t n;
    do {
        n = recv(c->fd, g->window, sizeof(g->window), MSG_PEEK | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        conn_release(g, c, true);
        return;
    }
    if (n == 0) {
        c->is_input_closed = true;
    }
    size_t len = n > 0 ? (size_t)n : 0;
    if (len == 0 && c->is_input_closed) {
        /* Connected and left without a word: nothing to answer. */
        conn_release(g, c, true);
        return;
    }
    if (len == 0) {
        return; /* a wake-up with nothing to read yet */
    }
    struct ref_slice arrived = ref_slice_make(g->window, len);
    bool is_body_wait_over = c->body_wait_until_ms != 0 && now >= c->body_wait_until_ms;
    bool is_waiting_for_body = false;
    switch (serve_gate_judge(arrived, c->is_input_closed, is_body_wait_over,
                             &is_waiting_for_body)) {
        case SERVE_GATE_HAND_OFF:
            conn_hand_off(g, c);
            return;
        case SERVE_GATE_REFUSE:
            conn_refuse(g, c, arrived, now);
            return;
        case SERVE_GATE_WAIT:
            if (is_waiting_for_body && c->body_wait_until_ms == 0) {
                c->body_wait_until_ms = now + SERVE_GATE_BODY_WAIT_MS;
                if (c->body_wait_until_ms < c->deadline_ms) {
                    c->deadline_ms = c->body_wait_until_ms;
                }
            }
            return;
    }
}

/* Reads and drops what a refused client still sends. */
static void conn_drain(struct serve_gate *g, struct gate_conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, g->window, sizeof(g->window), MSG_DONTWAIT);
        if (n > 0) {
            c->lingered_bytes += (size_t)n;
            if (c->lingered_bytes > SERVE_GATE_LINGER_BYTES) {
                break;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return; /* more may come: keep lingering */
        }
        break; /* closed by the client, or failed */
    }
    conn_release(g, c, true);
}

static void conn_event(struct serve_gate *g, struct gate_conn *c, uint32_t events, int64_t now)
{
    if ((events & (EPOLLRDHUP | EPOLLHUP)) != 0) {
        c->is_input_closed = true;
    }
    switch (c->state) {
        case CONN_PEEKING:
            conn_peek(g, c, now);
            return;
        case CONN_ANSWERING:
            if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
                conn_release(g, c, true);
            } else {
                conn_write(g, c, now);
            }
            return;
        case CONN_LINGERING:
            conn_drain(g, c);
            return;
    }
}

/* A connection at its deadline: a silent one is closed, a chunked body that took too
 * long is handed on as it stands, a refusal that could not be written is dropped. */
static void conn_expire(struct serve_gate *g, struct gate_conn *c, int64_t now)
{
    if (c->state == CONN_PEEKING && c->body_wait_until_ms != 0 &&
        now < c->accepted_ms + (int64_t)g->cfg.idle_timeout_ms) {
        c->deadline_ms = c->accepted_ms + g->cfg.idle_timeout_ms;
        conn_peek(g, c, now);
        return;
    }
    conn_release(g, c, true);
}

static void accept_all(struct serve_gate *g, int64_t now)
{
    while (g->num_conns < g->cfg.max_connections) {
        struct gate_conn *c = ref_mem_calloc(1, sizeof(*c));
        if (c == NULL) {
            /* Out of memory: let the backlog hold the rest for a moment. */
            set_listening(g, false);
            g->listen_paused_until_ms = now + 100;
            return;
        }
        c->addr_len = sizeof(c->addr);
        c->fd = accept4(g->cfg.listen_fd, (struct sockaddr *)&c->addr, &c->addr_len,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c->fd < 0) {
            int err = errno;
            ref_mem_free(c);
            if (err == EINTR || err == ECONNABORTED) {
                continue;
            }
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                /* Out of descriptors: pause rather than spin on a ready listener. */
                set_listening(g, false);
                g->listen_paused_until_ms = now + 100;
            }
            return; /* EAGAIN: all accepted */
        }
        ref_buf_init(&c->answer, REF_MAX_RESPONSE_BYTES);
        c->accepted_ms = now;
        clock_gettime(CLOCK_MONOTONIC, &c->accepted_at);
        c->deadline_ms = now + g->cfg.idle_timeout_ms;
        c->next = g->conns;
        if (g->conns != NULL) {
            g->conns->prev = c;
        }
        g->conns = c;
        g->num_conns++;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(g->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            conn_release(g, c, true);
            continue;
        }
        /* Usually the request is already there (TCP_DEFER_ACCEPT): no wait for an event. */
        conn_peek(g, c, now);
    }
    /* Full: the backlog holds the rest until a connection leaves the gate. */
    set_listening(g, false);
}

static int next_timeout_ms(const struct serve_gate *g, int64_t now)
{
    int64_t next = INT64_MAX;
    for (const struct gate_conn *c = g->conns; c != NULL; c = c->next) {
        if (c->deadline_ms < next) {
            next = c->deadline_ms;
        }
    }
    if (!g->is_listening && g->listen_paused_until_ms != 0 && g->listen_paused_until_ms < next) {
        next = g->listen_paused_until_ms;
    }
    if (next == INT64_MAX) {
        return -1;
    }
    return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

static void *gate_main(void *arg)
{
    struct serve_gate *g = arg;
    bool is_stopping = false;
    while (!is_stopping) {
        struct epoll_event events[64];
        int n = epoll_wait(g->epoll_fd, events, 64, next_timeout_ms(g, mono_ms()));
        if (n < 0 && errno != EINTR) {
            perror("etch serve: epoll_wait");
            break;
        }
        int64_t now = mono_ms();
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &s_wake_tag) {
                is_stopping = true;
            } else if (tag == &s_listen_tag) {
                accept_all(g, now);
            } else {
                conn_event(g, tag, events[i].events, now);
            }
        }
        /* Deadlines: a connection released above is no longer in the list. */
        for (struct gate_conn *c = g->conns, *next; c != NULL; c = next) {
            next = c->next;
            if (c->deadline_ms <= now) {
                conn_expire(g, c, now);
            }
        }
        if (!g->is_listening && g->num_conns < g->cfg.max_connections &&
            now >= g->listen_paused_until_ms) {
            g->listen_paused_until_ms = 0;
            set_listening(g, true);
        }
    }
    return NULL;
}

struct serve_gate *serve_gate_start(const struct serve_gate_config *cfg)
{
    struct serve_gate *g = ref_mem_calloc(1, sizeof(*g));
    if (g == NULL) {
        fprintf(stderr, "etch serve: out of memory\n");
        close(cfg->listen_fd);
        return NULL;
    }
    g->cfg = *cfg;
    g->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    g->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wake = {.events = EPOLLIN, .data.ptr = &s_wake_tag};
    bool ok = g->epoll_fd >= 0 && g->wake_fd >= 0 &&
              epoll_ctl(g->epoll_fd, EPOLL_CTL_ADD, g->wake_fd, &wake) == 0;
    if (ok) {
        set_listening(g, true);
        ok = g->is_listening && pthread_create(&g->thread, NULL, gate_main, g) == 0;
    }
    if (!ok) {
        perror("etch serve: cannot start the connection gate");
        if (g->epoll_fd >= 0) {
            close(g->epoll_fd);
        }
        if (g->wake_fd >= 0) {
            close(g->wake_fd);
        }
        close(cfg->listen_fd);
        ref_mem_free(g);
        return NULL;
    }
    return g;
}

void serve_gate_stop(struct serve_gate *gate)
{
    if (gate == NULL) {
        return;
    }
    uint64_t one = 1;
    ssize_t w;
    do {
        w = write(gate->wake_fd, &one, sizeof(one));
    } while (w < 0 && errno == EINTR);
    pthread_join(gate->thread, NULL);
    /* Closing the listening socket makes the kernel refuse new connections at once. */
    close(gate->cfg.listen_fd);
    while (gate->conns != NULL) {
        conn_release(gate, gate->conns, true);
    }
    close(gate->wake_fd);
    close(gate->epoll_fd);
    ref_mem_free(gate);
}
