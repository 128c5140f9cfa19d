/* SPDX-License-Identifier: Apache-2.0
 *
 * test_serve_gate.c - the gate of `etch serve`.
 *
 * First serve_gate_judge alone: what it makes of each kind of first request, whole, cut
 * short, at the reference's limits and one past them. Then the running gate over loopback
 * TCP with a real reference service behind it: a connection it hands on still holds every
 * byte the client sent; one it refuses gets the reference's own error answer and a clean
 * close, even when the client goes on sending; silent and stalled connections leave at
 * their deadlines; and serve_gate_stop is prompt and leaves the port closed. Every test
 * of the running gate checks that no descriptor is left open afterwards.
 */
#define _POSIX_C_SOURCE 200809L

#include "serve_gate.h"

#include "ref/buf.h"
#include "ref/limits.h"
#include "ref/service.h"
#include "ref/slice.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define JOB_TARGET "/2012-09-25/jobs/2222222222222-abcdef"
#define GET_HEAD   "GET " JOB_TARGET " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#define CHUNKED_HEAD                                                                               \
    "POST /2012-09-25/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
#define CHUNKED_BODY "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* --- The verdict ------------------------------------------------------------------ */

static const char *verdict_name(enum serve_gate_verdict v)
{
    switch (v) {
        case SERVE_GATE_WAIT:
            return "WAIT";
        case SERVE_GATE_HAND_OFF:
            return "HAND_OFF";
        case SERVE_GATE_REFUSE:
            return "REFUSE";
    }
    return "?";
}

/* Judges an exact-size heap copy of the bytes, so that under ASan a look past what has
 * arrived fails, and checks the verdict and whether it says it waits for a chunked body.
 * The flag starts out wrong, to see that the gate sets it either way. */
static void check_verdict(const char *what,
                          const void *arrived,
                          size_t len,
                          bool is_input_closed,
                          bool is_body_wait_over,
                          enum serve_gate_verdict want,
                          bool want_waiting_for_body)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0) {
        memcpy(copy, arrived, len);
    }
    bool is_waiting_for_body = !want_waiting_for_body;
    enum serve_gate_verdict got = serve_gate_judge(ref_slice_make(copy, len), is_input_closed,
                                                   is_body_wait_over, &is_waiting_for_body);
    free(copy);
    if (got != want || is_waiting_for_body != want_waiting_for_body) {
        fail_msg("%s (%zu bytes): %s%s, want %s%s", what, len, verdict_name(got),
                 is_waiting_for_body ? " for the body" : "", verdict_name(want),
                 want_waiting_for_body ? " for the body" : "");
    }
}

static void check_text_verdict(const char *what,
                               const char *arrived,
                               bool is_input_closed,
                               enum serve_gate_verdict want)
{
    check_verdict(what, arrived, strlen(arrived), is_input_closed, false, want, false);
}

static void test_judge_waits_for_a_head_cut_short(void **state)
{
    (void)state;
    static const char head[] = GET_HEAD;
    /* Every cut, mid-word and mid-CRLF included: the head is open until its empty line. */
    for (size_t len = 1; len < sizeof(head) - 1; len++) {
        check_verdict("cut head", head, len, false, false, SERVE_GATE_WAIT, false);
        /* Nothing more will come: the reference answers a request that ended early. */
        check_verdict("cut head, input closed", head, len, true, false, SERVE_GATE_REFUSE, false);
    }
}

static void test_judge_refuses_what_the_strict_parser_refuses(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *text;
        size_t len;
    } cases[] = {
#define REFUSED(what, literal) {what, literal, sizeof(literal) - 1}
        REFUSED("garbage", "garbage\r\n\r\n"),
        REFUSED("TLS hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        REFUSED("obsolete line folding",
                "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Folded: a\r\n b\r\n\r\n"),
        REFUSED("bare LF after the request line", "GET / HTTP/1.1\nHost: 127.0.0.1\n\n"),
        REFUSED("bare LF after a field", "GET / HTTP/1.1\r\nHost: 127.0.0.1\n\r\n"),
        REFUSED("no Host", "GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n"),
        REFUSED("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        REFUSED("two Content-Lengths",
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n"),
        REFUSED("non-numeric Content-Length",
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"),
        REFUSED("Content-Length over the body limit",
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 262145\r\n\r\n"),
        REFUSED("Content-Length and Transfer-Encoding",
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"),
        REFUSED("a coding other than chunked",
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
        REFUSED("NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"),
        REFUSED("space in the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
        REFUSED("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
#undef REFUSED
    };
    _Static_assert(REF_MAX_BODY_BYTES == 262144, "the Content-Length case above is one over");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_verdict(cases[i].what, cases[i].text, cases[i].len, false, false, SERVE_GATE_REFUSE,
                      false);
    }
}

/* A target one byte over the limit is refused as soon as that byte is in: there is no
 * need to wait for the rest of the head. */
static void test_judge_refuses_a_target_over_the_limit_at_once(void **state)
{
    (void)state;
    struct ref_buf req;
    ref_buf_init(&req, REF_MAX_TARGET_BYTES + 256);
    assert_int_equal(ref_buf_append_cstr(&req, "GET /"), REF_OK);
    for (size_t i = 1; i < REF_MAX_TARGET_BYTES; i++) {
        assert_int_equal(ref_buf_append_byte(&req, 'a'), REF_OK);
    }
    size_t at_limit = req.len;
    assert_int_equal(ref_buf_append_cstr(&req, " HTTP/1.1\r\nHost: a\r\n\r\n"), REF_OK);
    check_verdict("target at the limit", req.data, req.len, false, false, SERVE_GATE_HAND_OFF,
                  false);

    req.len = at_limit;
    assert_int_equal(ref_buf_append_byte(&req, 'a'), REF_OK);
    check_verdict("target one over, head open", req.data, req.len, false, false, SERVE_GATE_REFUSE,
                  false);
    ref_buf_cleanup(&req);
}

static void test_judge_hands_off_a_complete_head(void **state)
{
    (void)state;
    check_text_verdict("GET head", GET_HEAD, false, SERVE_GATE_HAND_OFF);
    check_text_verdict("GET head, input closed", GET_HEAD, true, SERVE_GATE_HAND_OFF);
    /* What follows the first request is libmicrohttpd's business. */
    check_text_verdict("GET head, then more", GET_HEAD "garbage", false, SERVE_GATE_HAND_OFF);
    check_text_verdict("HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\n\r\n", false, SERVE_GATE_HAND_OFF);
}

/* libmicrohttpd reads a Content-Length body as it is: the gate does not wait for it. */
static void test_judge_does_not_wait_for_a_content_length_body(void **state)
{
    (void)state;
#define HEAD_OF_13 "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n"
    check_text_verdict("no body yet", HEAD_OF_13, false, SERVE_GATE_HAND_OFF);
    check_text_verdict("part of the body", HEAD_OF_13 "{\"a\":", false, SERVE_GATE_HAND_OFF);
    check_text_verdict("whole body", HEAD_OF_13 "{\"a\":\"hello\"}", false, SERVE_GATE_HAND_OFF);
#undef HEAD_OF_13
    check_text_verdict("Content-Length at the body limit",
                       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 262144\r\n\r\n", false,
                       SERVE_GATE_HAND_OFF);
}

static void test_judge_follows_a_chunked_body(void **state)
{
    (void)state;
    static const char whole[] = CHUNKED_HEAD CHUNKED_BODY;
    size_t head_len = sizeof(CHUNKED_HEAD) - 1;
    /* From the empty line of the head to the last byte of the body, every cut waits for
     * the body (a bad chunk size is something libmicrohttpd would answer itself). */
    for (size_t len = head_len; len < sizeof(whole) - 1; len++) {
        check_verdict("chunked body cut short", whole, len, false, false, SERVE_GATE_WAIT, true);
        /* The client gave up waiting: libmicrohttpd takes it as it stands. */
        check_verdict("chunked body cut short, wait over", whole, len, false, true,
                      SERVE_GATE_HAND_OFF, false);
        check_verdict("chunked body cut short, input closed", whole, len, true, false,
                      SERVE_GATE_REFUSE, false);
    }
    check_verdict("whole chunked body", whole, sizeof(whole) - 1, false, false, SERVE_GATE_HAND_OFF,
                  false);
    check_text_verdict("bad chunk size", CHUNKED_HEAD "zz\r\n", false, SERVE_GATE_REFUSE);
    check_text_verdict("chunk size over the body limit", CHUNKED_HEAD "40001\r\n", false,
                       SERVE_GATE_REFUSE);
    check_text_verdict("chunk data without its CRLF", CHUNKED_HEAD "5\r\nhelloXX", false,
                       SERVE_GATE_REFUSE);
    /* A client waiting for 100 Continue sends no chunk until libmicrohttpd answers it. */
    check_text_verdict("chunked with Expect: 100-continue",
                       "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\n"
                       "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
                       false, SERVE_GATE_HAND_OFF);
}

/* A chunked body larger than the window: once the window is full of valid framing the
 * gate has seen all it can, and hands on; one byte less and it still waits. */
static void test_judge_hands_off_a_chunked_body_that_fills_the_window(void **state)
{
    (void)state;
    struct ref_buf req;
    ref_buf_init(&req, SERVE_GATE_WINDOW_BYTES);
    /* One chunk of 0x20000 bytes: more than the window, within the body limit. */
    assert_int_equal(ref_buf_append_cstr(&req, CHUNKED_HEAD "20000\r\n"), REF_OK);
    while (req.len < SERVE_GATE_WINDOW_BYTES) {
        assert_int_equal(ref_buf_append_byte(&req, 'x'), REF_OK);
    }
    check_verdict("window full of chunk data", req.data, req.len, false, false, SERVE_GATE_HAND_OFF,
                  false);
    check_verdict("window all but full", req.data, req.len - 1, false, false, SERVE_GATE_WAIT,
                  true);
    ref_buf_cleanup(&req);
}

/* The largest head the reference accepts: the longest method and target, a header
 * section of exactly REF_MAX_HEADER_BYTES (Host and one filler field, each with its
 * CRLF) and the empty line. Each extra lengthens one part past its limit. */
static void build_largest_head(struct ref_buf *out,
                               size_t method_extra,
                               size_t target_extra,
                               size_t header_extra)
{
    ref_buf_init(out, 2 * SERVE_GATE_WINDOW_BYTES);
    for (size_t i = 0; i < REF_MAX_METHOD_BYTES + method_extra; i++) {
        assert_int_equal(ref_buf_append_byte(out, 'M'), REF_OK);
    }
    assert_int_equal(ref_buf_append_cstr(out, " /"), REF_OK);
    for (size_t i = 1; i < REF_MAX_TARGET_BYTES + target_extra; i++) {
        assert_int_equal(ref_buf_append_byte(out, 't'), REF_OK);
    }
    assert_int_equal(ref_buf_append_cstr(out, " HTTP/1.1\r\n"), REF_OK);
    size_t section_start = out->len;
    assert_int_equal(ref_buf_append_cstr(out, "Host: a\r\nX-Filler: "), REF_OK);
    while (out->len - section_start < REF_MAX_HEADER_BYTES - 2 + header_extra) {
        assert_int_equal(ref_buf_append_byte(out, 'f'), REF_OK);
    }
    assert_int_equal(ref_buf_append_cstr(out, "\r\n"), REF_OK);
    assert_int_equal(out->len - section_start, REF_MAX_HEADER_BYTES + header_extra);
    assert_int_equal(ref_buf_append_cstr(out, "\r\n"), REF_OK);
}

static void test_judge_window_holds_the_largest_head(void **state)
{
    (void)state;
    struct ref_buf head;
    build_largest_head(&head, 0, 0, 0);
    /* method SP target SP "HTTP/1.1" CRLF, the section, the empty line. */
    assert_int_equal(head.len, REF_MAX_METHOD_BYTES + 1 + REF_MAX_TARGET_BYTES + 1 + 8 + 2 +
                                   REF_MAX_HEADER_BYTES + 2);
    assert_true(head.len <= SERVE_GATE_WINDOW_BYTES);
    check_verdict("largest head", head.data, head.len, false, false, SERVE_GATE_HAND_OFF, false);
    ref_buf_cleanup(&head);

    build_largest_head(&head, 1, 0, 0);
    check_verdict("method one over", head.data, head.len, false, false, SERVE_GATE_REFUSE, false);
    ref_buf_cleanup(&head);
    build_largest_head(&head, 0, 1, 0);
    check_verdict("target one over", head.data, head.len, false, false, SERVE_GATE_REFUSE, false);
    ref_buf_cleanup(&head);
    build_largest_head(&head, 0, 0, 1);
    check_verdict("header section one over", head.data, head.len, false, false, SERVE_GATE_REFUSE,
                  false);
    ref_buf_cleanup(&head);
}

/* A NULL flag is allowed. */
static void test_judge_takes_no_flag(void **state)
{
    (void)state;
    assert_int_equal(serve_gate_judge(ref_slice_from_cstr(CHUNKED_HEAD), false, false, NULL),
                     SERVE_GATE_WAIT);
    assert_int_equal(serve_gate_judge(ref_slice_from_cstr(GET_HEAD), false, false, NULL),
                     SERVE_GATE_HAND_OFF);
}

/* --- The running gate ------------------------------------------------------------- */

/* How long a test waits for something the gate should do at once: generous, for loaded
 * machines and sanitizers; it only runs out when the gate is wrong. */
#define PROMPT_MS 3000
/* How long a test watches for something the gate must not do. */
#define QUIET_MS      100
#define IDLE_MS       5000 /* the gate's idle timeout, unless a test says otherwise */
#define SHORT_IDLE_MS 200
#define MAX_RECORDED  8
#define MAX_CLIENTS   8

struct hand_off {
    int fd;
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

struct refusal {
    char method[32];
    char target[64];
    int http_status;
    enum ref_status status;
    double ms; /* from accept to answer */
};

struct gate_fixture {
    pthread_mutex_t mutex;
    pthread_cond_t changed; /* a callback ran */
    struct hand_off handed[MAX_RECORDED];
    size_t num_handed;
    struct refusal refused[MAX_RECORDED];
    size_t num_refused;
    struct ref_service *svc;
    struct serve_gate *gate; /* NULL once a test has stopped it */
    uint16_t port;
    /* The test's own sockets, -1 once closed: teardown closes the rest, so that a test
     * that fails halfway leaves nothing open for the next. */
    int client_fds[MAX_CLIENTS];
    size_t num_clients;
    size_t open_fds_before;
};

static size_t count_open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    assert_non_null(dir);
    size_t n = 0;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(dir);
    return n;
}

static void copy_words(char *out, size_t cap, struct ref_slice s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n > 0) {
        memcpy(out, s.ptr, n);
    }
    out[n] = '\0';
}

/* The callbacks run on the gate's thread. */
static void record_hand_off(void *cls, int fd, const struct sockaddr *addr, socklen_t addr_len)
{
    struct gate_fixture *fx = cls;
    pthread_mutex_lock(&fx->mutex);
    if (fx->num_handed < MAX_RECORDED) {
        struct hand_off *h = &fx->handed[fx->num_handed++];
        h->fd = fd;
        h->addr_len = addr_len;
        memcpy(&h->addr, addr, addr_len < sizeof(h->addr) ? (size_t)addr_len : sizeof(h->addr));
    } else {
        close(fd); /* no room to keep it: the counts a test checks show it */
        fx->num_handed++;
    }
    pthread_cond_broadcast(&fx->changed);
    pthread_mutex_unlock(&fx->mutex);
}

static void record_refusal(void *cls,
                           struct ref_slice method,
                           struct ref_slice target,
                           int http_status,
                           enum ref_status status,
                           double ms)
{
    struct gate_fixture *fx = cls;
    pthread_mutex_lock(&fx->mutex);
    if (fx->num_refused < MAX_RECORDED) {
        struct refusal *r = &fx->refused[fx->num_refused];
        copy_words(r->method, sizeof(r->method), method);
        copy_words(r->target, sizeof(r->target), target);
        r->http_status = http_status;
        r->status = status;
        r->ms = ms;
    }
    fx->num_refused++;
    pthread_cond_broadcast(&fx->changed);
    pthread_mutex_unlock(&fx->mutex);
}

/* Waits until at least this many hand-offs and refusals are recorded; false when
 * timeout_ms passes first. */
static bool wait_for(struct gate_fixture *fx, size_t handed, size_t refused, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&fx->mutex);
    int rc = 0;
    while ((fx->num_handed < handed || fx->num_refused < refused) && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&fx->changed, &fx->mutex, &deadline);
    }
    bool is_reached = fx->num_handed >= handed && fx->num_refused >= refused;
    pthread_mutex_unlock(&fx->mutex);
    return is_reached;
}

static void assert_counts(struct gate_fixture *fx, size_t handed, size_t refused)
{
    pthread_mutex_lock(&fx->mutex);
    size_t num_handed = fx->num_handed;
    size_t num_refused = fx->num_refused;
    pthread_mutex_unlock(&fx->mutex);
    assert_int_equal(num_handed, handed);
    assert_int_equal(num_refused, refused);
}

static struct hand_off handed_at(struct gate_fixture *fx, size_t i)
{
    pthread_mutex_lock(&fx->mutex);
    assert_true(i < fx->num_handed && i < MAX_RECORDED);
    struct hand_off h = fx->handed[i];
    pthread_mutex_unlock(&fx->mutex);
    return h;
}

static struct refusal refused_at(struct gate_fixture *fx, size_t i)
{
    pthread_mutex_lock(&fx->mutex);
    assert_true(i < fx->num_refused && i < MAX_RECORDED);
    struct refusal r = fx->refused[i];
    pthread_mutex_unlock(&fx->mutex);
    return r;
}

static int setup_gate_with(void **state, unsigned idle_timeout_ms, size_t max_connections)
{
    struct gate_fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    *state = fx;
    fx->open_fds_before = count_open_fds();
    assert_int_equal(pthread_mutex_init(&fx->mutex, NULL), 0);
    pthread_condattr_t attr;
    assert_int_equal(pthread_condattr_init(&attr), 0);
    assert_int_equal(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC), 0);
    assert_int_equal(pthread_cond_init(&fx->changed, &attr), 0);
    pthread_condattr_destroy(&attr);

    struct ref_service_config svc_cfg;
    ref_service_config_defaults(&svc_cfg);
    fx->svc = ref_service_new(&svc_cfg);
    assert_non_null(fx->svc);

    int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(listen_fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(listen_fd, 16), 0);
    socklen_t addr_len = sizeof(addr);
    assert_int_equal(getsockname(listen_fd, (struct sockaddr *)&addr, &addr_len), 0);
    fx->port = ntohs(addr.sin_port);

    struct serve_gate_config cfg = {
        .listen_fd = listen_fd,
        .svc = fx->svc,
        .idle_timeout_ms = idle_timeout_ms,
        .max_connections = max_connections,
        .hand_off = record_hand_off,
        .on_refused = record_refusal,
        .cls = fx,
    };
    fx->gate = serve_gate_start(&cfg);
    assert_non_null(fx->gate);
    return 0;
}

static int setup_gate(void **state)
{
    return setup_gate_with(state, IDLE_MS, 16);
}

static int setup_gate_short_idle(void **state)
{
    return setup_gate_with(state, SHORT_IDLE_MS, 16);
}

static int setup_gate_one_at_a_time(void **state)
{
    return setup_gate_with(state, IDLE_MS, 1);
}

static int teardown_gate(void **state)
{
    struct gate_fixture *fx = *state;
    serve_gate_stop(fx->gate);
    for (size_t i = 0; i < fx->num_handed && i < MAX_RECORDED; i++) {
        close(fx->handed[i].fd);
    }
    for (size_t i = 0; i < fx->num_clients; i++) {
        if (fx->client_fds[i] >= 0) {
            close(fx->client_fds[i]);
        }
    }
    ref_service_free(fx->svc);
    pthread_cond_destroy(&fx->changed);
    pthread_mutex_destroy(&fx->mutex);
    /* Every connection the gate dropped or refused was closed, and so was its own. */
    size_t open_fds_after = count_open_fds();
    size_t open_fds_before = fx->open_fds_before;
    free(fx);
    if (open_fds_after != open_fds_before) {
        fail_msg("%zu descriptors open after the test, %zu before", open_fds_after,
                 open_fds_before);
    }
    return 0;
}

/* --- A client ---------------------------------------------------------------------- */

static int new_client_socket(struct gate_fixture *fx)
{
    assert_true(fx->num_clients < MAX_CLIENTS);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    fx->client_fds[fx->num_clients++] = fd;
    return fd;
}

static void close_client(struct gate_fixture *fx, int fd)
{
    for (size_t i = 0; i < fx->num_clients; i++) {
        if (fx->client_fds[i] == fd) {
            fx->client_fds[i] = -1;
        }
    }
    close(fd);
}

static int connect_to_gate(struct gate_fixture *fx)
{
    int fd = new_client_socket(fx);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(fx->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    /* Each piece a test sends leaves at once, as its own segment. */
    int one = 1;
    assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    return fd;
}

static uint16_t local_port(int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    return ntohs(addr.sin_port);
}

static void send_bytes(int fd, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fail_msg("send: %s", strerror(errno));
        }
        p += n;
        len -= (size_t)n;
    }
}

static void send_text(int fd, const char *text)
{
    send_bytes(fd, text, strlen(text));
}

/* Waits for the fd to become readable; false when timeout_ms passes first. */
static bool wait_readable(int fd, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            return false;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n > 0) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            fail_msg("poll: %s", strerror(errno));
        }
    }
}

enum stream_end {
    STREAM_EOF,
    STREAM_RESET,
    STREAM_TIMED_OUT,
};

/* Reads until the peer closes; the bytes go to out. */
static enum stream_end read_to_end(int fd, struct ref_buf *out, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0 || !wait_readable(fd, (int)left)) {
            return STREAM_TIMED_OUT;
        }
        uint8_t chunk[4096];
        ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (n > 0) {
            assert_int_equal(ref_buf_append(out, chunk, (size_t)n), REF_OK);
            continue;
        }
        if (n == 0) {
            return STREAM_EOF;
        }
        if (errno == ECONNRESET) {
            return STREAM_RESET;
        }
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            fail_msg("recv: %s", strerror(errno));
        }
    }
}

/* Reads exactly len bytes from a handed-off connection (the gate makes it non-blocking)
 * and checks that nothing more is there. */
static void assert_holds_exactly(int fd, const void *want, size_t len)
{
    struct ref_buf got;
    ref_buf_init(&got, len + 1);
    int64_t deadline = mono_ms() + PROMPT_MS;
    while (got.len < len) {
        int64_t left = deadline - mono_ms();
        if (left <= 0 || !wait_readable(fd, (int)left)) {
            fail_msg("only %zu of %zu bytes arrived", got.len, len);
        }
        uint8_t chunk[4096];
        size_t room = len - got.len < sizeof(chunk) ? len - got.len : sizeof(chunk);
        ssize_t n = recv(fd, chunk, room, MSG_DONTWAIT);
        if (n > 0) {
            assert_int_equal(ref_buf_append(&got, chunk, (size_t)n), REF_OK);
        } else if (n == 0) {
            fail_msg("the connection closed after %zu of %zu bytes", got.len, len);
        } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            fail_msg("recv: %s", strerror(errno));
        }
    }
    assert_memory_equal(got.data, want, len);
    uint8_t extra;
    assert_int_equal(recv(fd, &extra, 1, MSG_DONTWAIT | MSG_PEEK), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    ref_buf_cleanup(&got);
}

/* The reference's error answer: the status, the error type, Connection: close, a
 * Content-Length that matches, and a JSON body with a message. */
static void assert_error_answer(struct ref_buf *answer, int http_status, const char *error_type)
{
    assert_int_equal(ref_buf_nul_terminate(answer), REF_OK);
    const char *text = (const char *)answer->data;
    char want[128];
    snprintf(want, sizeof(want), "HTTP/1.1 %d ", http_status);
    if (strncmp(text, want, strlen(want)) != 0) {
        fail_msg("answer starts %.40s, want %s", text, want);
    }
    const char *body = strstr(text, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    size_t head_len = (size_t)(body - text);
    size_t body_len = answer->len - head_len;
    char *head = strndup(text, head_len);
    assert_non_null(head);
    snprintf(want, sizeof(want), "\r\nx-amzn-ErrorType: %s\r\n", error_type);
    assert_non_null(strstr(head, want));
    assert_non_null(strstr(head, "\r\nConnection: close\r\n"));
    snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", body_len);
    assert_non_null(strstr(head, want));
    assert_non_null(strstr(head, "\r\nContent-Type: application/json\r\n"));
    free(head);
    json_error_t err;
    json_t *root = json_loadb(body, body_len, 0, &err);
    if (root == NULL) {
        fail_msg("body is not JSON: %s", err.text);
    }
    const char *message = json_string_value(json_object_get(root, "message"));
    assert_non_null(message);
    assert_true(strlen(message) > 0);
    json_decref(root);
}

/* --- What the gate hands on -------------------------------------------------------- */

static void test_gate_hands_off_a_request_untouched(void **state)
{
    struct gate_fixture *fx = *state;
    int client = connect_to_gate(fx);
    send_text(client, GET_HEAD);
    assert_true(wait_for(fx, 1, 0, PROMPT_MS));
    struct hand_off h = handed_at(fx, 0);
    /* The gate only peeked: libmicrohttpd reads the request as the client sent it. */
    assert_holds_exactly(h.fd, GET_HEAD, strlen(GET_HEAD));
    /* The address is the client's, for libmicrohttpd's logs. */
    assert_int_equal(h.addr_len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *peer = (const struct sockaddr_in *)&h.addr;
    assert_int_equal(peer->sin_family, AF_INET);
    assert_int_equal(ntohs(peer->sin_port), local_port(client));
    assert_int_equal(ntohl(peer->sin_addr.s_addr), INADDR_LOOPBACK);
    /* And the connection is whole both ways. */
    static const char reply[] = "HTTP/1.1 204 No Content\r\n\r\n";
    send_bytes(h.fd, reply, sizeof(reply) - 1);
    assert_holds_exactly(client, reply, sizeof(reply) - 1);
    assert_counts(fx, 1, 0);
}

/* A Content-Length body is not waited for: the connection goes on at the end of the
 * head, and the body, sent afterwards, arrives on the handed-off connection. */
static void test_gate_hands_off_before_a_content_length_body(void **state)
{
    struct gate_fixture *fx = *state;
#define CONTENT_LENGTH_HEAD                                                                        \
    "POST /2012-09-25/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 15\r\n\r\n"
#define CONTENT_LENGTH_BODY "{\"Id\":\"hello\"}\n"
    int client = connect_to_gate(fx);
    send_text(client, CONTENT_LENGTH_HEAD);
    assert_true(wait_for(fx, 1, 0, PROMPT_MS));
    send_text(client, CONTENT_LENGTH_BODY);
    static const char whole[] = CONTENT_LENGTH_HEAD CONTENT_LENGTH_BODY;
    assert_holds_exactly(handed_at(fx, 0).fd, whole, sizeof(whole) - 1);
#undef CONTENT_LENGTH_HEAD
#undef CONTENT_LENGTH_BODY
}

/* Pieces with pauses, the head split mid-line: each arrival is another look at all that
 * has arrived, and nothing is decided before the head ends. */
static void test_gate_judges_a_request_sent_in_pieces(void **state)
{
    struct gate_fixture *fx = *state;
    static const char *const pieces[] = {"GET /2012-09-25/jo", "bs/2222222222222-abcdef HTTP/1.1\r",
                                         "\nHo", "st: 127.0.0.1\r\n", "\r\n"};
    size_t num_pieces = sizeof(pieces) / sizeof(pieces[0]);
    int client = connect_to_gate(fx);
    for (size_t i = 0; i < num_pieces; i++) {
        send_text(client, pieces[i]);
        if (i + 1 < num_pieces) {
            assert_false(wait_for(fx, 1, 0, QUIET_MS / 2));
        }
    }
    assert_true(wait_for(fx, 1, 0, PROMPT_MS));
    assert_holds_exactly(handed_at(fx, 0).fd, GET_HEAD, strlen(GET_HEAD));

    /* Folding shows only in the second piece. */
    int folded = connect_to_gate(fx);
    send_text(folded, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Folded: a\r\n");
    assert_false(wait_for(fx, 1, 1, QUIET_MS / 2));
    send_text(folded, " b\r\n\r\n");
    struct ref_buf answer;
    ref_buf_init(&answer, REF_MAX_RESPONSE_BYTES);
    assert_int_equal(read_to_end(folded, &answer, PROMPT_MS), STREAM_EOF);
    assert_error_answer(&answer, 400, "BadRequestException");
    ref_buf_cleanup(&answer);

    /* A chunked body: handed on as soon as its last chunk is in, not at the body wait. */
    int chunked = connect_to_gate(fx);
    send_text(chunked, CHUNKED_HEAD "5\r\nhel");
    assert_false(wait_for(fx, 2, 1, QUIET_MS / 2));
    int64_t last_piece_at = mono_ms();
    send_text(chunked, "lo\r\n0\r\n\r\n");
    assert_true(wait_for(fx, 2, 1, PROMPT_MS));
    assert_true(mono_ms() - last_piece_at < SERVE_GATE_BODY_WAIT_MS);
    static const char whole[] = CHUNKED_HEAD "5\r\nhello\r\n0\r\n\r\n";
    assert_holds_exactly(handed_at(fx, 1).fd, whole, sizeof(whole) - 1);
    assert_counts(fx, 2, 1);
}

/* A chunked upload that stalls is handed on once it has had SERVE_GATE_BODY_WAIT_MS,
 * long before the idle timeout. */
static void test_gate_hands_off_a_stalled_chunked_body(void **state)
{
    struct gate_fixture *fx = *state;
    static const char partial[] = CHUNKED_HEAD "5\r\nhel";
    int client = connect_to_gate(fx);
    int64_t sent_at = mono_ms();
    send_text(client, partial);
    assert_true(wait_for(fx, 1, 0, SERVE_GATE_BODY_WAIT_MS + PROMPT_MS));
    int64_t waited = mono_ms() - sent_at;
    assert_true(waited >= SERVE_GATE_BODY_WAIT_MS - 5);
    assert_true(waited < IDLE_MS);
    assert_holds_exactly(handed_at(fx, 0).fd, partial, sizeof(partial) - 1);
    assert_counts(fx, 1, 0);
}

/* With room for one connection, a second waits in the listen backlog (not judged, not
 * lost) until the first leaves the gate. */
static void test_gate_leaves_connections_over_the_limit_in_the_backlog(void **state)
{
    struct gate_fixture *fx = *state;
    int first = connect_to_gate(fx);
    send_text(first, "GET " JOB_TARGET " HTTP/1.1\r\n");
    int second = connect_to_gate(fx);
    send_text(second, GET_HEAD);
    assert_false(wait_for(fx, 1, 0, QUIET_MS));
    send_text(first, "Host: 127.0.0.1\r\n\r\n");
    assert_true(wait_for(fx, 2, 0, PROMPT_MS));
    struct hand_off h = handed_at(fx, 0);
    assert_int_equal(ntohs(((const struct sockaddr_in *)&h.addr)->sin_port), local_port(first));
    h = handed_at(fx, 1);
    assert_int_equal(ntohs(((const struct sockaddr_in *)&h.addr)->sin_port), local_port(second));
    assert_holds_exactly(h.fd, GET_HEAD, strlen(GET_HEAD));
}

/* --- What the gate refuses --------------------------------------------------------- */

static void test_gate_refuses_garbage_with_the_reference_answer(void **state)
{
    struct gate_fixture *fx = *state;
    int client = connect_to_gate(fx);
    send_text(client, "garbage\r\n\r\n");
    struct ref_buf answer;
    ref_buf_init(&answer, REF_MAX_RESPONSE_BYTES);
    /* The answer, then EOF: the gate closes after a refusal. */
    assert_int_equal(read_to_end(client, &answer, PROMPT_MS), STREAM_EOF);
    assert_error_answer(&answer, 400, "BadRequestException");
    ref_buf_cleanup(&answer);
    assert_true(wait_for(fx, 0, 1, PROMPT_MS));
    struct refusal r = refused_at(fx, 0);
    assert_int_equal(r.http_status, 400);
    assert_int_equal(r.status, REF_E_MALFORMED);
    assert_true(r.ms >= 0.0 && r.ms < PROMPT_MS);
    /* No request line to speak of. */
    assert_string_equal(r.method, "");
    assert_string_equal(r.target, "");
    assert_counts(fx, 0, 1);
}

/* Each refusal is the reference's own answer, with its own status, and the log hears of
 * the request line as sent. */
static void test_gate_answers_each_refusal_as_the_reference_does(void **state)
{
    struct gate_fixture *fx = *state;
    static const struct {
        const char *what;
        const char *request;
        bool is_write_shut; /* the client sends nothing more */
        int http_status;
        const char *error_type;
        enum ref_status status;
        const char *method;
        const char *target;
    } cases[] = {
        {"no Host", "GET " JOB_TARGET " HTTP/1.1\r\nUser-Agent: t\r\n\r\n", false, 400,
         "BadRequestException", REF_E_MALFORMED, "GET", JOB_TARGET},
        {"bare LF", "DELETE " JOB_TARGET " HTTP/1.1\nHost: a\n\n", false, 400,
         "BadRequestException", REF_E_MALFORMED, "DELETE", JOB_TARGET},
        {"Content-Length over the limit",
         "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 999999\r\n\r\n", false, 413,
         "RequestEntityTooLargeException", REF_E_BODY_TOO_LARGE, "POST", "/2012-09-25/jobs"},
        /* The log shows the target without the line's CR. */
        {"no HTTP version", "GET " JOB_TARGET "\r\nHost: a\r\n\r\n", false, 400,
         "BadRequestException", REF_E_MALFORMED, "GET", JOB_TARGET},
        {"bad chunk size", CHUNKED_HEAD "zz\r\n", false, 400, "BadRequestException",
         REF_E_MALFORMED, "POST", "/2012-09-25/jobs"},
        {"head cut short", "GET " JOB_TARGET " HTTP/1.1\r\nHo", true, 400, "BadRequestException",
         REF_E_INCOMPLETE, "GET", JOB_TARGET},
        {"chunked body cut short", CHUNKED_HEAD "5\r\nhel", true, 400, "BadRequestException",
         REF_E_INCOMPLETE, "POST", "/2012-09-25/jobs"},
    };
    size_t num_cases = sizeof(cases) / sizeof(cases[0]);
    _Static_assert(sizeof(cases) / sizeof(cases[0]) <= MAX_RECORDED, "one record a case");
    for (size_t i = 0; i < num_cases; i++) {
        int client = connect_to_gate(fx);
        send_text(client, cases[i].request);
        if (cases[i].is_write_shut) {
            assert_int_equal(shutdown(client, SHUT_WR), 0);
        }
        struct ref_buf answer;
        ref_buf_init(&answer, REF_MAX_RESPONSE_BYTES);
        enum stream_end end = read_to_end(client, &answer, PROMPT_MS);
        if (end != STREAM_EOF) {
            fail_msg("%s: the answer ends in %s", cases[i].what,
                     end == STREAM_RESET ? "a reset" : "a timeout");
        }
        assert_error_answer(&answer, cases[i].http_status, cases[i].error_type);
        ref_buf_cleanup(&answer);
        assert_true(wait_for(fx, 0, i + 1, PROMPT_MS));
        struct refusal r = refused_at(fx, i);
        assert_int_equal(r.http_status, cases[i].http_status);
        assert_int_equal(r.status, cases[i].status);
        assert_string_equal(r.method, cases[i].method);
        assert_string_equal(r.target, cases[i].target);
        close_client(fx, client);
    }
    assert_counts(fx, 0, num_cases);
}

/* A client that goes on sending after it is refused (the rest of a body, say) still reads
 * the whole answer: the gate reads and drops what comes instead of resetting. */
static void test_gate_lets_a_refused_client_finish_sending(void **state)
{
    struct gate_fixture *fx = *state;
    int client = connect_to_gate(fx);
    send_text(client, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
                      "Content-Length: 2\r\n\r\n");
    /* The answer is there before the client sends more. */
    assert_true(wait_readable(client, PROMPT_MS));
    for (int i = 0; i < 5; i++) {
        pause_ms(QUIET_MS / 5);
        /* A reset would fail a send after the first one. */
        send_text(client, "more of a body the client still sends\r\n");
    }
    struct ref_buf answer;
    ref_buf_init(&answer, REF_MAX_RESPONSE_BYTES);
    assert_int_equal(read_to_end(client, &answer, PROMPT_MS), STREAM_EOF);
    assert_error_answer(&answer, 400, "BadRequestException");
    ref_buf_cleanup(&answer);
    assert_counts(fx, 0, 1);
}

/* --- What the gate drops ----------------------------------------------------------- */

static void test_gate_drops_a_client_that_sends_nothing(void **state)
{
    struct gate_fixture *fx = *state;
    int gone = connect_to_gate(fx);
    close_client(fx, gone);
    /* One that says it will send nothing sees the gate close its side. */
    int silent = connect_to_gate(fx);
    assert_int_equal(shutdown(silent, SHUT_WR), 0);
    struct ref_buf answer;
    ref_buf_init(&answer, 256);
    assert_int_equal(read_to_end(silent, &answer, PROMPT_MS), STREAM_EOF);
    assert_int_equal(answer.len, 0);
    ref_buf_cleanup(&answer);
    close_client(fx, silent);
    assert_counts(fx, 0, 0);

    /* The gate goes on: the next request is the first it hands on. */
    int client = connect_to_gate(fx);
    send_text(client, GET_HEAD);
    assert_true(wait_for(fx, 1, 0, PROMPT_MS));
    struct hand_off h = handed_at(fx, 0);
    assert_int_equal(ntohs(((const struct sockaddr_in *)&h.addr)->sin_port), local_port(client));
    assert_counts(fx, 1, 0);
}

/* A connection silent for the idle timeout is closed without an answer, whether it sent
 * nothing or part of a head. */
static void test_gate_closes_a_silent_connection_at_the_idle_timeout(void **state)
{
    struct gate_fixture *fx = *state;
    int silent = connect_to_gate(fx);
    int stalled = connect_to_gate(fx);
    int64_t connected_at = mono_ms();
    send_text(stalled, "GET " JOB_TARGET " HTTP/1.1\r\n");
    struct ref_buf answer;
    ref_buf_init(&answer, 256);
    assert_int_equal(read_to_end(silent, &answer, PROMPT_MS), STREAM_EOF);
    assert_true(mono_ms() - connected_at >= SHORT_IDLE_MS - 5);
    /* Closed with its request unread: a reset is as good as EOF here. */
    assert_int_not_equal(read_to_end(stalled, &answer, PROMPT_MS), STREAM_TIMED_OUT);
    assert_int_equal(answer.len, 0);
    ref_buf_cleanup(&answer);
    assert_counts(fx, 0, 0);
}

/* Stopping does not wait for the connections at the gate, and closes the port. */
static void test_gate_stop_is_prompt_and_closes_the_port(void **state)
{
    struct gate_fixture *fx = *state;
    int waiting = connect_to_gate(fx);
    send_text(waiting, "GET " JOB_TARGET " HTTP/1.1\r\n");
    assert_false(wait_for(fx, 1, 0, QUIET_MS / 2)); /* it is at the gate by now */
    int64_t stop_started_at = mono_ms();
    serve_gate_stop(fx->gate);
    fx->gate = NULL;
    /* Far below the idle timeout, which a stop that waited for the connection would take. */
    assert_true(mono_ms() - stop_started_at < IDLE_MS / 2);

    struct ref_buf answer;
    ref_buf_init(&answer, 256);
    assert_int_not_equal(read_to_end(waiting, &answer, PROMPT_MS), STREAM_TIMED_OUT);
    assert_int_equal(answer.len, 0);
    ref_buf_cleanup(&answer);
    close_client(fx, waiting);

    int late = new_client_socket(fx);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(fx->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(late, (struct sockaddr *)&addr, sizeof(addr)), -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_counts(fx, 0, 0);
    serve_gate_stop(NULL); /* allowed, and nothing to do */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_judge_waits_for_a_head_cut_short),
        cmocka_unit_test(test_judge_refuses_what_the_strict_parser_refuses),
        cmocka_unit_test(test_judge_refuses_a_target_over_the_limit_at_once),
        cmocka_unit_test(test_judge_hands_off_a_complete_head),
        cmocka_unit_test(test_judge_does_not_wait_for_a_content_length_body),
        cmocka_unit_test(test_judge_follows_a_chunked_body),
        cmocka_unit_test(test_judge_hands_off_a_chunked_body_that_fills_the_window),
        cmocka_unit_test(test_judge_window_holds_the_largest_head),
        cmocka_unit_test(test_judge_takes_no_flag),
        cmocka_unit_test_setup_teardown(test_gate_hands_off_a_request_untouched, setup_gate,
                                        teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_hands_off_before_a_content_length_body,
                                        setup_gate, teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_judges_a_request_sent_in_pieces, setup_gate,
                                        teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_hands_off_a_stalled_chunked_body, setup_gate,
                                        teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_leaves_connections_over_the_limit_in_the_backlog,
                                        setup_gate_one_at_a_time, teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_refuses_garbage_with_the_reference_answer,
                                        setup_gate, teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_answers_each_refusal_as_the_reference_does,
                                        setup_gate, teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_lets_a_refused_client_finish_sending, setup_gate,
                                        teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_drops_a_client_that_sends_nothing, setup_gate,
                                        teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_closes_a_silent_connection_at_the_idle_timeout,
                                        setup_gate_short_idle, teardown_gate),
        cmocka_unit_test_setup_teardown(test_gate_stop_is_prompt_and_closes_the_port, setup_gate,
                                        teardown_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
