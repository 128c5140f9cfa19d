/* SPDX-License-Identifier: Apache-2.0
 *
 * test_serve_conn.c - one connection of `etch serve` (serve_conn.c), without sockets: bytes
 * in, answers out.
 *
 * The service has a fixed clock and unsigned requests, so the answers are 403s from the
 * reference (MissingAuthenticationTokenException) wherever a request parses, and the
 * reference's 4xx refusals where it does not. Each test reads the status lines of what the
 * connection wrote.
 */
#include "serve_conn.h"

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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GET_REQ "GET /2012-09-25/jobs/2222222222222-abcdef HTTP/1.1\r\nHost: a\r\n\r\n"
#define POST_CL "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}"
#define CHUNKED                                                                                    \
    "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"              \
    "1\r\n{\r\n1;x=y\r\n}\r\n0\r\nX-T: v\r\n\r\n"
#define FOLDED   "GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n"
#define CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

static int64_t fixed_now_ms(void *ctx)
{
    (void)ctx;
    return 1764333900000; /* 2025-11-28T12:45:00Z */
}

struct fixture {
    struct ref_service *svc;
    struct serve_conn_config cfg;
    struct serve_conn conn;
    struct ref_buf out;
    int answered; /* on_answered calls */
};

static void count_answer(
    void *cls, struct ref_slice method, struct ref_slice target, int http, enum ref_status status)
{
    (void)method;
    (void)target;
    (void)http;
    (void)status;
    struct fixture *f = cls;
    f->answered++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.env.now_ms = fixed_now_ms;
    f->svc = ref_service_new(&cfg);
    assert_non_null(f->svc);
    f->cfg = (struct serve_conn_config){
        .svc = f->svc, .max_body_bytes = 64, .on_answered = count_answer};
    serve_conn_init(&f->conn, &f->cfg, f);
    ref_buf_init(&f->out, SIZE_MAX);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    serve_conn_cleanup(&f->conn);
    ref_buf_cleanup(&f->out);
    ref_service_free(f->svc);
    free(f);
    return 0;
}

static void feed(struct fixture *f, const char *bytes, size_t len)
{
    assert_int_equal(serve_conn_receive(&f->conn, ref_slice_make(bytes, len), &f->out), REF_OK);
}

#define FEED(f, lit) feed((f), (lit), sizeof(lit) - 1)

/* The status codes of the answers written so far, as "403 403 100 ..." */
static void statuses(const struct fixture *f, char *text, size_t cap)
{
    size_t o = 0;
    text[0] = '\0';
    const char *p = (const char *)f->out.data;
    const char *end = p + f->out.len;
    while (p != NULL && p + 12 <= end) {
        if (memcmp(p, "HTTP/1.1 ", 9) == 0) {
            o += (size_t)snprintf(text + o, cap - o, "%s%.3s", o > 0 ? " " : "", p + 9);
        }
        /* The next answer starts after this one's head and body. */
        const char *head_end = NULL;
        for (const char *q = p; q + 4 <= end; q++) {
            if (memcmp(q, "\r\n\r\n", 4) == 0) {
                head_end = q + 4;
                break;
            }
        }
        if (head_end == NULL) {
            break;
        }
        size_t body = 0;
        for (const char *q = p; q + 16 < head_end; q++) {
            if (memcmp(q, "Content-Length: ", 16) == 0) {
                body = strtoul(q + 16, NULL, 10);
                break;
            }
        }
        p = head_end + body;
    }
}

static void assert_statuses(const struct fixture *f, const char *want)
{
    char got[256];
    statuses(f, got, sizeof(got));
    assert_string_equal(got, want);
}

static bool out_contains(const struct fixture *f, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= f->out.len; i++) {
        if (memcmp(f->out.data + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

static void test_pipelined_requests_are_answered_in_order(void **state)
{
    struct fixture *f = *state;
    FEED(f, GET_REQ POST_CL CHUNKED GET_REQ);
    assert_statuses(f, "403 403 403 403");
    assert_int_equal(f->answered, 4);
    assert_false(serve_conn_is_closing(&f->conn));
    assert_true(serve_conn_is_idle(&f->conn));
}

static void test_bytes_one_at_a_time_give_the_same_answers(void **state)
{
    struct fixture *f = *state;
    static const char stream[] = GET_REQ CHUNKED POST_CL FOLDED GET_REQ;
    FEED(f, stream);
    struct ref_buf whole = f->out;
    ref_buf_init(&f->out, SIZE_MAX);
    serve_conn_cleanup(&f->conn);
    serve_conn_init(&f->conn, &f->cfg, f);
    for (size_t i = 0; i < sizeof(stream) - 1; i++) {
        feed(f, stream + i, 1);
    }
    /* The same statuses; the request Ids differ, the rest is the same length. */
    assert_statuses(f, "403 403 403 400");
    assert_int_equal(f->out.len, whole.len);
    assert_true(serve_conn_is_closing(&f->conn));
    ref_buf_cleanup(&whole);
}

static void test_a_refusal_closes_and_what_follows_is_dropped(void **state)
{
    struct fixture *f = *state;
    FEED(f, GET_REQ FOLDED GET_REQ);
    assert_statuses(f, "403 400");
    assert_true(out_contains(f, "Connection: close"));
    assert_true(serve_conn_is_closing(&f->conn));
    size_t before = f->out.len;
    FEED(f, GET_REQ);
    assert_int_equal(f->out.len, before);
}

static void test_http_2_is_refused_as_the_reference_refuses_it(void **state)
{
    struct fixture *f = *state;
    FEED(f, GET_REQ "GET /2012-09-25/pipelines HTTP/2.0\r\nHost: a\r\n\r\n");
    assert_statuses(f, "403 400");
    assert_true(out_contains(f, "HTTP version"));
}

static void test_expect_continue_gets_an_interim_answer(void **state)
{
    struct fixture *f = *state;
    FEED(f, "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
            "Expect: 100-continue\r\n\r\n");
    assert_int_equal(f->out.len, sizeof(CONTINUE) - 1);
    assert_memory_equal(f->out.data, CONTINUE, sizeof(CONTINUE) - 1);
    assert_false(serve_conn_is_idle(&f->conn));
    FEED(f, "{}");
    assert_statuses(f, "100 403");
}

static void test_a_whole_request_with_expect_gets_no_interim_answer(void **state)
{
    struct fixture *f = *state;
    FEED(f, "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
            "Expect: 100-continue\r\n\r\n{}");
    assert_statuses(f, "403");
}

static void test_a_body_over_the_limit_is_dropped_and_the_connection_kept(void **state)
{
    struct fixture *f = *state;
    /* 100 bytes: over this fixture's 64. */
    FEED(f, "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n");
    assert_statuses(f, "413");
    assert_true(out_contains(f, "RequestEntityTooLargeException"));
    char body[100];
    memset(body, 'x', sizeof(body));
    feed(f, body, 60);
    feed(f, body, 40);
    FEED(f, GET_REQ);
    assert_statuses(f, "413 403");
    assert_false(serve_conn_is_closing(&f->conn));
}

static void test_a_body_over_the_limit_with_expect_closes_at_once(void **state)
{
    struct fixture *f = *state;
    FEED(f, "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n"
            "Expect: 100-continue\r\n\r\n");
    assert_statuses(f, "413");
    assert_true(serve_conn_is_closing(&f->conn));
}

static void test_a_chunked_body_over_the_limit_gets_413(void **state)
{
    struct fixture *f = *state;
    FEED(f, "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "50\r\n"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "\r\n0\r\n\r\n" GET_REQ);
    assert_statuses(f, "413 403");
}

static void test_one_byte_chunks_of_a_large_body_are_framed(void **state)
{
    struct fixture *f = *state;
    f->cfg.max_body_bytes = REF_MAX_BODY_BYTES;
    FEED(f, "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 100000; i++) {
        FEED(f, "1\r\nx\r\n");
    }
    assert_int_equal(f->out.len, 0);
    FEED(f, "0\r\n\r\n");
    assert_statuses(f, "403");
}

/* A chunk-size line of leading zeros, and a trailer section of many short lines, are
 * refused by the strict parser once over its limits: the answer comes then, not when the
 * connection's buffer is full or its time is up. */
static void test_a_chunk_line_over_the_limit_is_answered_at_once(void **state)
{
    struct fixture *f = *state;
    f->cfg.max_body_bytes = REF_MAX_BODY_BYTES;
    FEED(f, "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t i = 0; i < REF_MAX_CHUNK_LINE_BYTES + 8; i++) {
        FEED(f, "0");
    }
    assert_true(f->out.len > 0);
    assert_true(serve_conn_is_closing(&f->conn));
}

static void test_a_trailer_section_over_the_limit_is_answered_at_once(void **state)
{
    struct fixture *f = *state;
    f->cfg.max_body_bytes = REF_MAX_BODY_BYTES;
    FEED(f, "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "0\r\n");
    for (size_t i = 0; i < REF_MAX_HEADER_BYTES / 4 + 8; i++) {
        FEED(f, "a:b\r\n");
    }
    assert_true(f->out.len > 0);
    assert_true(serve_conn_is_closing(&f->conn));
}

static void test_input_that_ends_mid_request_gets_400(void **state)
{
    struct fixture *f = *state;
    FEED(f, GET_REQ "GET /2012-09-25/pipel");
    assert_statuses(f, "403");
    assert_false(serve_conn_is_idle(&f->conn));
    assert_int_equal(serve_conn_end_of_input(&f->conn, &f->out), REF_OK);
    assert_statuses(f, "403 400");
    assert_true(out_contains(f, "The request ended before it was complete."));
    assert_true(serve_conn_is_closing(&f->conn));
}

static void test_input_that_ends_between_requests_gets_nothing(void **state)
{
    struct fixture *f = *state;
    FEED(f, GET_REQ);
    size_t before = f->out.len;
    assert_int_equal(serve_conn_end_of_input(&f->conn, &f->out), REF_OK);
    assert_int_equal(f->out.len, before);
    assert_true(serve_conn_is_closing(&f->conn));
}

static void test_connection_close_and_http_1_0_close(void **state)
{
    struct fixture *f = *state;
    FEED(f, "GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close"
            "\r\n\r\n" GET_REQ);
    assert_statuses(f, "403");
    assert_true(out_contains(f, "Connection: close"));
    assert_true(serve_conn_is_closing(&f->conn));

    serve_conn_cleanup(&f->conn);
    ref_buf_reset(&f->out);
    serve_conn_init(&f->conn, &f->cfg, f);
    FEED(f, "GET /2012-09-25/pipelines HTTP/1.0\r\nHost: a\r\n\r\n");
    assert_statuses(f, "403");
    assert_true(serve_conn_is_closing(&f->conn));
}

static void test_a_stopping_server_closes_after_the_next_answer(void **state)
{
    struct fixture *f = *state;
    FEED(f, GET_REQ);
    assert_false(out_contains(f, "Connection: close"));
    serve_conn_stop(&f->conn);
    FEED(f, GET_REQ GET_REQ);
    assert_statuses(f, "403 403");
    assert_true(out_contains(f, "Connection: close"));
    assert_true(serve_conn_is_closing(&f->conn));
}

static void test_answers_are_dated_by_the_service_clock(void **state)
{
    struct fixture *f = *state;
    FEED(f, GET_REQ FOLDED);
    /* Both the answer and the refusal carry the service's (fixed) time. */
    const char *date = "Date: Fri, 28 Nov 2025 12:45:00 GMT";
    size_t n = 0;
    for (size_t i = 0; i + strlen(date) <= f->out.len; i++) {
        n += memcmp(f->out.data + i, date, strlen(date)) == 0;
    }
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_pipelined_requests_are_answered_in_order),
        T(test_bytes_one_at_a_time_give_the_same_answers),
        T(test_a_refusal_closes_and_what_follows_is_dropped),
        T(test_http_2_is_refused_as_the_reference_refuses_it),
        T(test_expect_continue_gets_an_interim_answer),
        T(test_a_whole_request_with_expect_gets_no_interim_answer),
        T(test_a_body_over_the_limit_is_dropped_and_the_connection_kept),
        T(test_a_body_over_the_limit_with_expect_closes_at_once),
        T(test_a_chunked_body_over_the_limit_gets_413),
        T(test_one_byte_chunks_of_a_large_body_are_framed),
        T(test_a_chunk_line_over_the_limit_is_answered_at_once),
        T(test_a_trailer_section_over_the_limit_is_answered_at_once),
        T(test_input_that_ends_mid_request_gets_400),
        T(test_input_that_ends_between_requests_gets_nothing),
        T(test_connection_close_and_http_1_0_close),
        T(test_a_stopping_server_closes_after_the_next_answer),
        T(test_answers_are_dated_by_the_service_clock),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
