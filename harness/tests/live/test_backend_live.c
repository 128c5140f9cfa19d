/* SPDX-License-Identifier: Apache-2.0
 *
 * test_backend_live.c - the live backend against a scripted loopback server: answers in
 * one piece or a byte at a time, framed by Content-Length, chunked or by the close;
 * keep-alive reuse and when a connection is not reused; a request the reference refuses
 * on a connection of its own, never pooled; bytes after an answer; the raw size limit at
 * and over; a connection the server closed while idle; the request sent byte for byte;
 * the clock offset from a Date header; a lost answer (the connection closed once the answer
 * began, never pooled) and one the server never began.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/live.h"

#include "harness/http_response.h"

#include "ref/service.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* --- A scripted server ------------------------------------------------------------- */

enum after {
    AFTER_KEEP = 0, /* wait for the next request on the same connection */
    AFTER_CLOSE,    /* close the connection */
};

struct script_answer {
    const uint8_t *bytes;
    size_t len;
    size_t piece; /* bytes per write; 0: all at once */
    enum after after;
};

#define MAX_SERVER_CONNECTIONS 8
#define MAX_SCRIPT_ANSWERS     16

/* Several connections may be open at once (a pooled idle one beside a fresh one): the
 * server answers whichever one a request arrives on, in script order. */
struct server {
    int listen_fd;
    uint16_t port;
    pthread_t thread;
    const struct script_answer *answers;
    size_t num_answers;
    unsigned accepts;
    /* For each answered request, the connection it came on (1 for the first accepted). */
    unsigned connection_of_request[MAX_SCRIPT_ANSWERS];
    char last_request[8192];
    size_t last_request_len;
};

/* Reads one request head; false when the client closed (or sent more than fits). */
static bool read_request(int fd, struct server *s)
{
    char request[sizeof(s->last_request)];
    size_t len = 0;
    while (len < sizeof(request)) {
        ssize_t n = read(fd, request + len, sizeof(request) - len);
        if (n <= 0) {
            return false;
        }
        len += (size_t)n;
        for (size_t i = 3; i < len; i++) {
            if (memcmp(request + i - 3, "\r\n\r\n", 4) == 0) {
                memcpy(s->last_request, request, len);
                s->last_request_len = len;
                return true;
            }
        }
    }
    return false;
}

static void write_answer(int fd, const struct script_answer *a)
{
    size_t piece = a->piece == 0 ? a->len : a->piece;
    for (size_t off = 0; off < a->len; off += piece) {
        size_t n = a->len - off < piece ? a->len - off : piece;
        if (write(fd, a->bytes + off, n) != (ssize_t)n) {
            return;
        }
    }
}

static void *serve(void *arg)
{
    struct server *s = arg;
    int fds[MAX_SERVER_CONNECTIONS];
    unsigned connection_ids[MAX_SERVER_CONNECTIONS];
    size_t num_fds = 0;
    size_t next = 0;
    while (next < s->num_answers) {
        struct pollfd p[1 + MAX_SERVER_CONNECTIONS];
        /* Full: no more accepts until one closes (and no busy wake-ups meanwhile). */
        short accept_events = num_fds < MAX_SERVER_CONNECTIONS ? POLLIN : 0;
        p[0] = (struct pollfd){.fd = s->listen_fd, .events = accept_events};
        for (size_t i = 0; i < num_fds; i++) {
            p[1 + i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        }
        if (poll(p, 1 + num_fds, -1) < 0) {
            break;
        }
        /* One event per round: the set changes as connections come and go. */
        size_t ready = 0;
        while (ready < num_fds && p[1 + ready].revents == 0) {
            ready++;
        }
        if (ready < num_fds) {
            int fd = fds[ready];
            bool is_open = read_request(fd, s);
            if (is_open) {
                const struct script_answer *a = &s->answers[next];
                s->connection_of_request[next++] = connection_ids[ready];
                write_answer(fd, a);
                is_open = a->after == AFTER_KEEP;
            }
            if (!is_open) {
                close(fd);
                fds[ready] = fds[num_fds - 1];
                connection_ids[ready] = connection_ids[num_fds - 1];
                num_fds--;
            }
        } else if ((p[0].revents & POLLIN) != 0) {
            int fd = accept(s->listen_fd, NULL, NULL);
            if (fd < 0) {
                break;
            }
            fds[num_fds] = fd;
            connection_ids[num_fds++] = ++s->accepts;
        }
    }
    for (size_t i = 0; i < num_fds; i++) {
        close(fds[i]);
    }
    return NULL;
}

static void server_start(struct server *s, const struct script_answer *answers, size_t n)
{
    assert_true(n <= MAX_SCRIPT_ANSWERS);
    memset(s, 0, sizeof(*s));
    s->answers = answers;
    s->num_answers = n;
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->listen_fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(s->listen_fd, 8), 0);
    socklen_t len = sizeof(addr);
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&addr, &len), 0);
    s->port = ntohs(addr.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
}

static struct harness_backend *backend_for(const struct server *s, int64_t timeout_ms)
{
    struct harness_live_options o = {.region = "us-east-1", .timeout_ms = timeout_ms};
    char url[64];
    char why[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)s->port);
    assert_int_equal(harness_live_endpoint_parse(url, &o.endpoint, why, sizeof(why)), REF_OK);
    o.principals[HARNESS_PRINCIPAL_MAIN] = REF_TEST_CRED_MAIN;
    struct harness_backend *b = harness_backend_live_new(&o, why, sizeof(why));
    assert_non_null(b);
    assert_true(harness_backend_has(b, HARNESS_CAP_SHARED | HARNESS_CAP_CONCURRENT));
    return b;
}

#define REQUEST   "GET /2012-09-25/pipelines HTTP/1.1\r\nHost: t\r\n\r\n"
#define ANSWER_CL "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
#define ANSWER_CHUNKED                                                                             \
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n"
#define ANSWER_CLOSE_FRAMED "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}"

static struct script_answer lit(const char *s, size_t piece, enum after after)
{
    return (struct script_answer){(const uint8_t *)s, strlen(s), piece, after};
}

/* One exchange: REF_OK and the raw answer in out (initialised here). */
static enum ref_status exchange(struct harness_backend *b, const char *req, struct ref_buf *out)
{
    ref_buf_init(out, 8 * 1024 * 1024);
    char why[256] = "";
    enum ref_status rc = b->ops->send_explained(b, ref_slice_from_cstr(req), out, why, sizeof(why));
    if (rc != REF_OK) {
        print_message("transport failure: %s\n", why);
    }
    return rc;
}

static void assert_answer(struct ref_buf *got, const char *want)
{
    assert_int_equal(got->len, strlen(want));
    assert_memory_equal(got->data, want, got->len);
    ref_buf_cleanup(got);
}

/* One exchange that must succeed with exactly the answer want. */
static void expect_answer(struct harness_backend *b, const char *req, const char *want)
{
    struct ref_buf out;
    assert_int_equal(exchange(b, req, &out), REF_OK);
    assert_answer(&out, want);
}

/* --- Tests ------------------------------------------------------------------------- */

static void test_backend_live_keeps_the_connection(void **state)
{
    (void)state;
    struct script_answer a[] = {lit(ANSWER_CL, 0, AFTER_KEEP), lit(ANSWER_CL, 1, AFTER_KEEP),
                                lit(ANSWER_CHUNKED, 3, AFTER_KEEP)};
    struct server s;
    server_start(&s, a, 3);
    struct harness_backend *b = backend_for(&s, 5000);
    expect_answer(b, REQUEST, ANSWER_CL);
    /* A byte at a time, then chunked: still one connection. */
    expect_answer(b, REQUEST, ANSWER_CL);
    expect_answer(b, REQUEST, ANSWER_CHUNKED);
    harness_backend_free(b);
    server_stop(&s);
    assert_int_equal(s.accepts, 1);
}

static void test_backend_live_sends_the_bytes_as_they_are(void **state)
{
    (void)state;
    /* Nothing a normal transfer would send: odd case, a repeated header, no Host. */
    static const char odd[] = "dElEtE /2012-09-25/jobs/x%2Fy HTTP/1.1\r\nX-A: 1\r\nX-A: 2\r\n\r\n";
    struct script_answer a[] = {lit(ANSWER_CL, 0, AFTER_KEEP)};
    struct server s;
    server_start(&s, a, 1);
    struct harness_backend *b = backend_for(&s, 5000);
    struct ref_buf out;
    assert_int_equal(exchange(b, odd, &out), REF_OK);
    ref_buf_cleanup(&out);
    harness_backend_free(b);
    server_stop(&s);
    assert_int_equal(s.last_request_len, strlen(odd));
    assert_memory_equal(s.last_request, odd, strlen(odd));
}

/* Refused by the reference's strict parser: obsolete line folding, and no HTTP at all. */
#define REQUEST_FOLDED  "GET /2012-09-25/pipelines HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n 2\r\n\r\n"
#define REQUEST_GARBAGE "garbage\r\n\r\n"
/* Well-formed with a chunked body, which the check decodes rather than refuses. */
#define REQUEST_CHUNKED                                                                            \
    "POST /2012-09-25/pipelines HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"         \
    "2\r\n{}\r\n0\r\n\r\n"

static void test_backend_live_malformed_requests_get_a_connection_of_their_own(void **state)
{
    (void)state;
    /* The script keeps every connection alive: only the client decides what is reused. */
    struct script_answer a[] = {
        lit(ANSWER_CL, 0, AFTER_KEEP), lit(ANSWER_CHUNKED, 0, AFTER_KEEP),
        lit(ANSWER_CL, 0, AFTER_KEEP), lit(ANSWER_CL, 0, AFTER_KEEP),
        lit(ANSWER_CL, 0, AFTER_KEEP),
    };
    struct server s;
    server_start(&s, a, 5);
    struct harness_backend *b = backend_for(&s, 5000);
    expect_answer(b, REQUEST, ANSWER_CL);
    /* A good connection sits idle in the pool: the malformed request does not take it,
     * and its answer still comes back whole. */
    expect_answer(b, REQUEST_FOLDED, ANSWER_CHUNKED);
    /* The next request reuses the good connection, not the malformed one's. */
    expect_answer(b, REQUEST_CHUNKED, ANSWER_CL);
    expect_answer(b, REQUEST_GARBAGE, ANSWER_CL);
    expect_answer(b, REQUEST, ANSWER_CL);
    harness_backend_free(b);
    server_stop(&s);
    assert_int_equal(s.accepts, 3);
    static const unsigned want[] = {1, 2, 1, 3, 1};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(s.connection_of_request[i], want[i]);
    }
}

static void test_backend_live_malformed_request_connection_is_not_pooled(void **state)
{
    (void)state;
    struct script_answer a[] = {lit(ANSWER_CL, 0, AFTER_KEEP), lit(ANSWER_CL, 0, AFTER_KEEP)};
    struct server s;
    server_start(&s, a, 2);
    struct harness_backend *b = backend_for(&s, 5000);
    /* The pool is empty and the answer says keep-alive, yet the connection is closed. */
    expect_answer(b, REQUEST_FOLDED, ANSWER_CL);
    expect_answer(b, REQUEST, ANSWER_CL);
    harness_backend_free(b);
    server_stop(&s);
    assert_int_equal(s.accepts, 2);
    assert_int_equal(s.connection_of_request[0], 1);
    assert_int_equal(s.connection_of_request[1], 2);
}

static void test_backend_live_does_not_reuse_closed_connections(void **state)
{
    (void)state;
    struct script_answer a[] = {
        lit(ANSWER_CLOSE_FRAMED, 4, AFTER_CLOSE),
        lit("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 0, AFTER_KEEP),
        lit(ANSWER_CL, 0, AFTER_CLOSE), /* the server then closes while the client idles */
        lit(ANSWER_CL, 0, AFTER_KEEP),
    };
    struct server s;
    server_start(&s, a, 4);
    struct harness_backend *b = backend_for(&s, 5000);
    struct ref_buf out;
    /* Framed by the close: complete at the end of the stream. */
    expect_answer(b, REQUEST, ANSWER_CLOSE_FRAMED);
    assert_int_equal(exchange(b, REQUEST, &out), REF_OK);
    ref_buf_cleanup(&out);
    assert_int_equal(exchange(b, REQUEST, &out), REF_OK);
    ref_buf_cleanup(&out);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    /* The idle connection was closed by the server: a new one, no failure. */
    expect_answer(b, REQUEST, ANSWER_CL);
    harness_backend_free(b);
    server_stop(&s);
    assert_int_equal(s.accepts, 4);
}

static void test_backend_live_stops_at_the_end_of_an_answer(void **state)
{
    (void)state;
    struct script_answer a[] = {lit(ANSWER_CL "HTTP/1.1 200 OK\r\n", 0, AFTER_CLOSE),
                                lit(ANSWER_CL, 0, AFTER_KEEP)};
    struct server s;
    server_start(&s, a, 2);
    struct harness_backend *b = backend_for(&s, 5000);
    expect_answer(b, REQUEST, ANSWER_CL);
    /* The connection with stray bytes on it is not used again. */
    expect_answer(b, REQUEST, ANSWER_CL);
    harness_backend_free(b);
    server_stop(&s);
    assert_int_equal(s.accepts, 2);
}

static void test_backend_live_closed_without_an_answer(void **state)
{
    (void)state;
    struct script_answer a[] = {lit("", 0, AFTER_CLOSE), lit("HTTP/1.1 200", 0, AFTER_CLOSE)};
    struct server s;
    server_start(&s, a, 2);
    struct harness_backend *b = backend_for(&s, 5000);
    struct ref_buf out;
    /* Nothing at all: REF_OK and an empty answer ("closed without an answer"). */
    assert_int_equal(exchange(b, REQUEST, &out), REF_OK);
    assert_int_equal(out.len, 0);
    ref_buf_cleanup(&out);
    /* Part of an answer: a transport failure that says so. */
    ref_buf_init(&out, 1024);
    char why[256] = "";
    assert_int_not_equal(b->ops->send_explained(b, REF_SLICE_LIT(REQUEST), &out, why, sizeof(why)),
                         REF_OK);
    assert_non_null(strstr(why, "closed in the middle of the answer"));
    ref_buf_cleanup(&out);
    harness_backend_free(b);
    server_stop(&s);
}

/* A lost answer: sent on the kept-alive connection, as an SDK sends it; the server gets
 * the whole request and answers; the backend closes that connection once the answer has
 * begun, and the retry goes on a new one. */
static void test_backend_live_loses_an_answer_the_server_gave(void **state)
{
    (void)state;
    struct script_answer a[] = {lit(ANSWER_CL, 0, AFTER_KEEP), lit(ANSWER_CL, 0, AFTER_KEEP),
                                lit(ANSWER_CL, 0, AFTER_KEEP)};
    struct server s;
    server_start(&s, a, 3);
    struct harness_backend *b = backend_for(&s, 5000);
    expect_answer(b, REQUEST, ANSWER_CL);
    char why[256] = "";
    static const char cancel[] = "DELETE /2012-09-25/jobs/1111111111111-abcdef HTTP/1.1\r\n"
                                 "Host: t\r\n\r\n";
    assert_int_equal(b->ops->send_losing_answer(b, REF_SLICE_LIT(cancel), why, sizeof(why)),
                     REF_OK);
    expect_answer(b, REQUEST, ANSWER_CL);
    harness_backend_free(b);
    server_stop(&s);
    assert_int_equal(s.accepts, 2);
    assert_int_equal(s.connection_of_request[0], 1);
    assert_int_equal(s.connection_of_request[1], 1); /* the lost attempt: kept-alive */
    assert_int_equal(s.connection_of_request[2], 2); /* the retry: a new connection */
    assert_int_equal(s.last_request_len, strlen(REQUEST));
}

/* No answer at all, or none in time: nothing shows the server handled the request, which
 * is a transport failure that says so, never a lost answer. */
static void test_backend_live_lost_answer_needs_an_answer(void **state)
{
    (void)state;
    struct script_answer a[] = {lit("", 0, AFTER_CLOSE)};
    struct server s;
    server_start(&s, a, 1);
    struct harness_backend *b = backend_for(&s, 5000);
    char why[256] = "";
    assert_int_not_equal(b->ops->send_losing_answer(b, REF_SLICE_LIT(REQUEST), why, sizeof(why)),
                         REF_OK);
    assert_non_null(strstr(why, "closed the connection without answering"));
    server_stop(&s);
    harness_backend_free(b);

    /* A server that reads and never answers. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t len = sizeof(addr);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    struct server silent = {.port = ntohs(addr.sin_port)};
    b = backend_for(&silent, 300);
    why[0] = '\0';
    assert_int_not_equal(b->ops->send_losing_answer(b, REF_SLICE_LIT(REQUEST), why, sizeof(why)),
                         REF_OK);
    assert_non_null(strstr(why, "no answer began within 300 ms"));
    harness_backend_free(b);
    close(fd);
}

static void test_backend_live_body_limit(void **state)
{
    (void)state;
    /* Content-Length at the body limit: read whole. Over it: not read, the head shows it. */
    size_t n = HARNESS_MAX_RESPONSE_BODY_BYTES;
    char head[128];
    int hl = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
    uint8_t *at = malloc((size_t)hl + n);
    assert_non_null(at);
    memcpy(at, head, (size_t)hl);
    memset(at + hl, 'x', n);
    char over[128];
    snprintf(over, sizeof(over), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\nxxxx", n + 1);
    struct script_answer a[] = {{at, (size_t)hl + n, 65536, AFTER_KEEP}, lit(over, 0, AFTER_KEEP)};
    struct server s;
    server_start(&s, a, 2);
    struct harness_backend *b = backend_for(&s, 10000);
    struct ref_buf out;
    assert_int_equal(exchange(b, REQUEST, &out), REF_OK);
    assert_int_equal(out.len, (size_t)hl + n);
    ref_buf_cleanup(&out);
    assert_int_equal(exchange(b, REQUEST, &out), REF_OK);
    struct harness_http_response resp;
    struct harness_http_head h;
    assert_int_equal(harness_http_parse_head(ref_buf_slice(&out), &resp, &h, NULL),
                     REF_E_BODY_TOO_LARGE);
    ref_buf_cleanup(&out);
    harness_backend_free(b);
    server_stop(&s);
    free(at);
}

static void test_backend_live_raw_size_limit(void **state)
{
    (void)state;
    /* Framed by the close and longer than any answer may be: stopped, with a reason. */
    size_t n = HARNESS_MAX_RESPONSE_HEADER_BYTES + HARNESS_MAX_RESPONSE_BODY_BYTES + 65536 + 1;
    uint8_t *big = malloc(n);
    assert_non_null(big);
    static const char head[] = "HTTP/1.1 200 OK\r\n\r\n";
    memcpy(big, head, sizeof(head) - 1);
    memset(big + sizeof(head) - 1, 'y', n - (sizeof(head) - 1));
    /* At the limit (one byte less): the whole stream is the answer. */
    struct script_answer a[] = {{big, n - 1, 65536, AFTER_CLOSE}, {big, n, 65536, AFTER_CLOSE}};
    struct server s;
    server_start(&s, a, 2);
    struct harness_backend *b = backend_for(&s, 10000);
    struct ref_buf out;
    assert_int_equal(exchange(b, REQUEST, &out), REF_OK);
    assert_int_equal(out.len, n - 1);
    ref_buf_cleanup(&out);
    ref_buf_init(&out, 16 * 1024 * 1024);
    char why[256] = "";
    assert_int_equal(b->ops->send_explained(b, REF_SLICE_LIT(REQUEST), &out, why, sizeof(why)),
                     REF_E_TOO_LARGE);
    assert_non_null(strstr(why, "larger than"));
    ref_buf_cleanup(&out);
    harness_backend_free(b);
    server_stop(&s);
    free(big);
}

static void test_backend_live_times_out(void **state)
{
    (void)state;
    /* Half an answer, then silence: the total timeout ends it. */
    struct script_answer a[] = {
        lit("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{", 0, AFTER_KEEP),
        lit(ANSWER_CL, 0, AFTER_KEEP)};
    struct server s;
    server_start(&s, a, 2);
    struct harness_backend *b = backend_for(&s, 300);
    struct ref_buf out;
    ref_buf_init(&out, 1024);
    char why[256] = "";
    assert_int_equal(b->ops->send_explained(b, REF_SLICE_LIT(REQUEST), &out, why, sizeof(why)),
                     REF_E_INCOMPLETE);
    assert_non_null(strstr(why, "no complete answer within 300 ms"));
    ref_buf_cleanup(&out);
    /* Not reused: the next exchange gets a connection of its own. */
    expect_answer(b, REQUEST, ANSWER_CL);
    harness_backend_free(b);
    server_stop(&s);
    assert_int_equal(s.accepts, 2);
}

static void test_backend_live_clock_offset(void **state)
{
    (void)state;
    /* An endpoint 100 s ahead. */
    time_t ahead = time(NULL) + 100;
    struct tm tm;
    gmtime_r(&ahead, &tm);
    char date[64];
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    char answer[256];
    snprintf(answer, sizeof(answer),
             "HTTP/1.1 403 Forbidden\r\nDate: %s\r\nContent-Length: 2\r\n\r\n{}", date);
    struct script_answer a[] = {
        lit(answer, 0, AFTER_KEEP),
        lit("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 0, AFTER_KEEP)};
    struct server s;
    server_start(&s, a, 2);
    struct harness_backend *b = backend_for(&s, 5000);
    int64_t offset = 0;
    char text[128] = "";
    char why[256] = "";
    assert_int_equal(harness_live_clock_offset(b, &offset, text, sizeof(text), why, sizeof(why)),
                     REF_OK);
    assert_string_equal(text, date);
    assert_true(offset > 98500 && offset < 101500);
    /* No Date: said so, not a transport failure. */
    assert_int_equal(harness_live_clock_offset(b, &offset, text, sizeof(text), why, sizeof(why)),
                     REF_E_NOT_FOUND);
    assert_non_null(strstr(why, "no Date header"));
    harness_backend_free(b);
    server_stop(&s);
}

static void test_backend_live_connect_failure_says_why(void **state)
{
    (void)state;
    /* A port nobody listens on: the listening socket is closed before anything connects. */
    struct server s;
    server_start(&s, NULL, 0);
    server_stop(&s);
    struct harness_backend *b = backend_for(&s, 2000);
    struct ref_buf out;
    ref_buf_init(&out, 1024);
    char why[256] = "";
    assert_int_not_equal(b->ops->send_explained(b, REF_SLICE_LIT(REQUEST), &out, why, sizeof(why)),
                         REF_OK);
    assert_non_null(strstr(why, "cannot connect to http://127.0.0.1:"));
    ref_buf_cleanup(&out);
    harness_backend_free(b);
}

int main(void)
{
    /* The scripted server writes to clients that stopped reading: EPIPE, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    /* The loopback server is reached directly, whatever proxy the machine has. */
    static const char *const proxies[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                          "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++) {
        unsetenv(proxies[i]);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_live_keeps_the_connection),
        cmocka_unit_test(test_backend_live_sends_the_bytes_as_they_are),
        cmocka_unit_test(test_backend_live_malformed_requests_get_a_connection_of_their_own),
        cmocka_unit_test(test_backend_live_malformed_request_connection_is_not_pooled),
        cmocka_unit_test(test_backend_live_does_not_reuse_closed_connections),
        cmocka_unit_test(test_backend_live_stops_at_the_end_of_an_answer),
        cmocka_unit_test(test_backend_live_closed_without_an_answer),
        cmocka_unit_test(test_backend_live_loses_an_answer_the_server_gave),
        cmocka_unit_test(test_backend_live_lost_answer_needs_an_answer),
        cmocka_unit_test(test_backend_live_body_limit),
        cmocka_unit_test(test_backend_live_raw_size_limit),
        cmocka_unit_test(test_backend_live_times_out),
        cmocka_unit_test(test_backend_live_clock_offset),
        cmocka_unit_test(test_backend_live_connect_failure_says_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
