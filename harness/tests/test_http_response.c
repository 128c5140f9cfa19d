/* SPDX-License-Identifier: Apache-2.0
 *
 * test_http_response.c - the strict response parser: framings, every limit at and over,
 * every truncated prefix, and the malformed shapes it must refuse.
 */
#include "harness/http_response.h"

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

static enum ref_status parse(const char *text,
                             size_t len,
                             struct harness_http_response *out,
                             struct ref_buf *body,
                             size_t *used,
                             struct ref_parse_error *err)
{
    return harness_http_parse_response(ref_slice_make(text, len), out, body, used, err);
}

static void test_http_response_content_length(void **state)
{
    (void)state;
    static const char text[] = "HTTP/1.1 202 Accepted\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 18\r\n"
                               "x-amzn-RequestId:  abc \r\n"
                               "\r\n"
                               "{\"Success\":\"true\"}";
    struct harness_http_response r;
    size_t used = 0;
    assert_int_equal(parse(text, sizeof(text) - 1, &r, NULL, &used, NULL), REF_OK);
    assert_int_equal(r.status, 202);
    assert_true(ref_slice_eq_cstr(r.reason, "Accepted"));
    assert_true(ref_slice_eq_cstr(r.version, "HTTP/1.1"));
    assert_int_equal(r.num_headers, 3);
    assert_true(ref_slice_eq_cstr(r.body, "{\"Success\":\"true\"}"));
    assert_int_equal(used, sizeof(text) - 1);
    const struct ref_header *h = harness_http_response_header(&r, "X-AMZN-REQUESTID");
    assert_non_null(h);
    assert_true(ref_slice_eq_cstr(h->value, "abc"));
    assert_null(harness_http_response_header(&r, "x-amzn-ErrorType"));
}

static void test_http_response_every_prefix_is_incomplete(void **state)
{
    (void)state;
    static const char text[] = "HTTP/1.1 404 Not Found\r\n"
                               "x-amzn-ErrorType: ResourceNotFoundException\r\n"
                               "Content-Length: 13\r\n"
                               "\r\n"
                               "{\"message\":1}";
    /* Every truncation ends early: never OK, never a crash, never malformed. */
    for (size_t n = 0; n < sizeof(text) - 1; n++) {
        char *copy = malloc(n + 1);
        assert_non_null(copy);
        memcpy(copy, text, n);
        struct harness_http_response r;
        struct ref_parse_error err = {0};
        enum ref_status rc = parse(copy, n, &r, NULL, NULL, &err);
        if (rc != REF_E_INCOMPLETE) {
            fail_msg("prefix of %zu bytes: %s", n, ref_status_name(rc));
        }
        free(copy);
    }
}

static void test_http_response_chunked(void **state)
{
    (void)state;
    static const char text[] = "HTTP/1.1 200 OK\r\n"
                               "Transfer-Encoding: chunked\r\n"
                               "\r\n"
                               "4;ext=1\r\n{\"a\"\r\n"
                               "3\r\n:1}\r\n"
                               "0\r\n"
                               "Trailer: x\r\n"
                               "\r\n";
    struct harness_http_response r;
    struct ref_buf body;
    ref_buf_init(&body, 1024);
    size_t used = 0;
    assert_int_equal(parse(text, sizeof(text) - 1, &r, &body, &used, NULL), REF_OK);
    assert_true(r.is_chunked);
    assert_true(ref_slice_eq_cstr(r.body, "{\"a\":1}"));
    assert_int_equal(used, sizeof(text) - 1);
    /* Every truncated prefix of the chunked form is incomplete too. */
    for (size_t n = 0; n < sizeof(text) - 1; n++) {
        ref_buf_reset(&body);
        char *copy = malloc(n + 1);
        assert_non_null(copy);
        memcpy(copy, text, n);
        enum ref_status rc = parse(copy, n, &r, &body, NULL, NULL);
        if (rc != REF_E_INCOMPLETE) {
            fail_msg("chunked prefix of %zu bytes: %s", n, ref_status_name(rc));
        }
        free(copy);
    }
    /* Without a buffer a chunked body cannot be decoded. */
    assert_int_equal(parse(text, sizeof(text) - 1, &r, NULL, NULL, NULL), REF_E_MALFORMED);
    ref_buf_cleanup(&body);
}

static void test_http_response_unframed_and_bodiless(void **state)
{
    (void)state;
    static const char closes[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\n<html>";
    struct harness_http_response r;
    size_t used = 0;
    assert_int_equal(parse(closes, sizeof(closes) - 1, &r, NULL, &used, NULL), REF_OK);
    assert_true(ref_slice_eq_cstr(r.body, "<html>"));
    assert_int_equal(used, sizeof(closes) - 1);
    static const char no_content[] = "HTTP/1.1 204 No Content\r\n\r\nextra";
    assert_int_equal(parse(no_content, sizeof(no_content) - 1, &r, NULL, &used, NULL), REF_OK);
    assert_int_equal(r.body.len, 0);
    assert_int_equal(used, sizeof(no_content) - 1 - 5);
    static const char no_reason[] = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(parse(no_reason, sizeof(no_reason) - 1, &r, NULL, NULL, NULL), REF_OK);
    assert_int_equal(r.reason.len, 0);
}

static void test_http_response_rejects_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *text;
        enum ref_status want;
        size_t offset;
    } cases[] = {
        {"bad version", "HTTP/2.0 200 OK\r\n\r\n", REF_E_MALFORMED, 0},
        {"status not digits", "HTTP/1.1 2x0 OK\r\n\r\n", REF_E_MALFORMED, 10},
        {"status too small", "HTTP/1.1 099 OK\r\n\r\n", REF_E_MALFORMED, 9},
        {"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", REF_E_MALFORMED, 15},
        {"CR without LF", "HTTP/1.1 200 OK\r\rX", REF_E_MALFORMED, 15},
        {"obs-fold", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", REF_E_MALFORMED, 23},
        {"no colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", REF_E_MALFORMED, 24},
        {"space in name", "HTTP/1.1 200 OK\r\nA b: c\r\n\r\n", REF_E_MALFORMED, 18},
        {"control in value", "HTTP/1.1 200 OK\r\nA: b\001\r\n\r\n", REF_E_MALFORMED, 21},
        {"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
         REF_E_MALFORMED, 36},
        {"length and chunked",
         "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         REF_E_MALFORMED, 36},
        {"gzip coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", REF_E_MALFORMED, 36},
        {"length not a number", "HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", REF_E_MALFORMED,
         33},
        {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
         REF_E_MALFORMED, 47},
        {"chunk without CRLF",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
         REF_E_MALFORMED, 51},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct harness_http_response r;
        struct ref_buf body;
        ref_buf_init(&body, 1024);
        struct ref_parse_error err = {0};
        enum ref_status rc = parse(cases[i].text, strlen(cases[i].text), &r, &body, NULL, &err);
        if (rc != cases[i].want || err.offset != cases[i].offset) {
            fail_msg("%s: want %s at %zu, got %s at %zu (%s)", cases[i].name,
                     ref_status_name(cases[i].want), cases[i].offset, ref_status_name(rc),
                     err.offset, err.reason != NULL ? err.reason : "");
        }
        assert_non_null(err.where);
        ref_buf_cleanup(&body);
    }
}

/* A response with n header lines "H: v". */
static enum ref_status head_of(const char *text, struct harness_http_head *h)
{
    struct harness_http_response resp;
    return harness_http_parse_head(ref_slice_from_cstr(text), &resp, h, NULL);
}

static void test_http_response_head_framing(void **state)
{
    (void)state;
    struct harness_http_head h;
    assert_int_equal(head_of("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{", &h), REF_OK);
    assert_int_equal(h.framing, HARNESS_FRAMING_LENGTH);
    assert_int_equal(h.content_length, 7);
    assert_int_equal(h.head_len, 38);
    assert_true(h.is_keep_alive);
    assert_int_equal(head_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &h), REF_OK);
    assert_int_equal(h.framing, HARNESS_FRAMING_CHUNKED);
    assert_int_equal(head_of("HTTP/1.1 200 OK\r\n\r\nbody", &h), REF_OK);
    assert_int_equal(h.framing, HARNESS_FRAMING_CLOSE);
    assert_false(h.is_keep_alive);
    assert_int_equal(head_of("HTTP/1.1 204 No Content\r\n\r\n", &h), REF_OK);
    assert_int_equal(h.framing, HARNESS_FRAMING_EMPTY);
    /* Until the blank line: incomplete. */
    assert_int_equal(head_of("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n", &h), REF_E_INCOMPLETE);
    assert_int_equal(
        head_of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", &h),
        REF_E_MALFORMED);
}

static void test_http_response_head_keep_alive(void **state)
{
    (void)state;
    struct harness_http_head h;
    const struct {
        const char *text;
        bool keep;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.1 200 OK\r\nConnection: upgrade\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(head_of(cases[i].text, &h), REF_OK);
        if (h.is_keep_alive != cases[i].keep) {
            fail_msg("case %zu: keep-alive %d", i, h.is_keep_alive);
        }
    }
}

static void test_http_response_head_limit_content_length(void **state)
{
    (void)state;
    char text[128];
    struct harness_http_head h;
    snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
             HARNESS_MAX_RESPONSE_BODY_BYTES);
    assert_int_equal(head_of(text, &h), REF_OK);
    assert_int_equal(h.content_length, HARNESS_MAX_RESPONSE_BODY_BYTES);
    snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
             HARNESS_MAX_RESPONSE_BODY_BYTES + 1);
    assert_int_equal(head_of(text, &h), REF_E_BODY_TOO_LARGE);
}

static char *with_headers(size_t n, size_t *len)
{
    size_t cap = 64 + n * 8;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t used = (size_t)snprintf(text, cap, "HTTP/1.1 200 OK\r\n");
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(text + used, cap - used, "H: v\r\n");
    }
    used += (size_t)snprintf(text + used, cap - used, "\r\n");
    *len = used;
    return text;
}

static void test_http_response_limit_header_count(void **state)
{
    (void)state;
    struct harness_http_response r;
    size_t len = 0;
    char *at = with_headers(HARNESS_MAX_RESPONSE_HEADERS, &len);
    assert_int_equal(parse(at, len, &r, NULL, NULL, NULL), REF_OK);
    assert_int_equal(r.num_headers, HARNESS_MAX_RESPONSE_HEADERS);
    free(at);
    char *over = with_headers(HARNESS_MAX_RESPONSE_HEADERS + 1, &len);
    assert_int_equal(parse(over, len, &r, NULL, NULL, NULL), REF_E_HEADERS_TOO_LARGE);
    free(over);
}

/* A head of exactly `size` bytes: status line, one long header, empty line. */
static char *head_of_size(size_t size, size_t *len)
{
    static const char status[] = "HTTP/1.1 200 OK\r\n";
    char *text = malloc(size + 1);
    assert_non_null(text);
    size_t fixed = sizeof(status) - 1 + 3 + 2 + 2; /* "X: " CRLF CRLF */
    memcpy(text, status, sizeof(status) - 1);
    size_t at = sizeof(status) - 1;
    memcpy(text + at, "X: ", 3);
    at += 3;
    memset(text + at, 'v', size - fixed);
    at += size - fixed;
    memcpy(text + at, "\r\n\r\n", 4);
    *len = at + 4;
    return text;
}

static void test_http_response_limit_header_bytes(void **state)
{
    (void)state;
    struct harness_http_response r;
    size_t len = 0;
    char *at = head_of_size(HARNESS_MAX_RESPONSE_HEADER_BYTES, &len);
    assert_int_equal(len, HARNESS_MAX_RESPONSE_HEADER_BYTES);
    assert_int_equal(parse(at, len, &r, NULL, NULL, NULL), REF_OK);
    free(at);
    char *over = head_of_size(HARNESS_MAX_RESPONSE_HEADER_BYTES + 1, &len);
    assert_int_equal(parse(over, len, &r, NULL, NULL, NULL), REF_E_HEADERS_TOO_LARGE);
    free(over);
}

static void test_http_response_limit_body(void **state)
{
    (void)state;
    size_t max = HARNESS_MAX_RESPONSE_BODY_BYTES;
    char head[128];
    int hl = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", max);
    char *text = malloc((size_t)hl + max + 1);
    assert_non_null(text);
    memcpy(text, head, (size_t)hl);
    memset(text + hl, 'x', max + 1);
    struct harness_http_response r;
    assert_int_equal(parse(text, (size_t)hl + max, &r, NULL, NULL, NULL), REF_OK);
    assert_int_equal(r.body.len, max);
    /* One more declared byte is over the limit, whatever follows. */
    hl = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", max + 1);
    memcpy(text, head, (size_t)hl);
    assert_int_equal(parse(text, (size_t)hl, &r, NULL, NULL, NULL), REF_E_BODY_TOO_LARGE);
    /* An unframed body runs to the end: at the limit fine, one byte over refused. */
    static const char unframed[] = "HTTP/1.1 200 OK\r\n\r\n";
    size_t ul = sizeof(unframed) - 1;
    char *big = malloc(ul + max + 1);
    assert_non_null(big);
    memcpy(big, unframed, ul);
    memset(big + ul, 'x', max + 1);
    assert_int_equal(parse(big, ul + max, &r, NULL, NULL, NULL), REF_OK);
    assert_int_equal(parse(big, ul + max + 1, &r, NULL, NULL, NULL), REF_E_BODY_TOO_LARGE);
    free(big);
    free(text);
}

static void test_http_response_limit_chunked_body(void **state)
{
    (void)state;
    size_t max = HARNESS_MAX_RESPONSE_BODY_BYTES;
    for (size_t size = max; size <= max + 1; size++) {
        char head[128];
        int hl = snprintf(head, sizeof(head),
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n", size);
        size_t total = (size_t)hl + size + 7;
        char *text = malloc(total);
        assert_non_null(text);
        memcpy(text, head, (size_t)hl);
        memset(text + hl, 'x', size);
        memcpy(text + hl + size, "\r\n0\r\n\r\n", 7);
        struct harness_http_response r;
        struct ref_buf body;
        ref_buf_init(&body, max);
        enum ref_status rc = parse(text, total, &r, &body, NULL, NULL);
        assert_int_equal(rc, size == max ? REF_OK : REF_E_BODY_TOO_LARGE);
        ref_buf_cleanup(&body);
        free(text);
    }
    /* A chunk-size line longer than its limit is refused, not waited for. */
    char line[HARNESS_MAX_RESPONSE_CHUNK_LINE + 128];
    int n = snprintf(line, sizeof(line), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
    memset(line + n, 'e', HARNESS_MAX_RESPONSE_CHUNK_LINE);
    struct harness_http_response r;
    struct ref_buf body;
    ref_buf_init(&body, 64);
    assert_int_equal(
        parse(line, (size_t)n + HARNESS_MAX_RESPONSE_CHUNK_LINE, &r, &body, NULL, NULL),
        REF_E_MALFORMED);
    ref_buf_cleanup(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_response_content_length),
        cmocka_unit_test(test_http_response_every_prefix_is_incomplete),
        cmocka_unit_test(test_http_response_chunked),
        cmocka_unit_test(test_http_response_unframed_and_bodiless),
        cmocka_unit_test(test_http_response_rejects_malformed),
        cmocka_unit_test(test_http_response_head_framing),
        cmocka_unit_test(test_http_response_head_keep_alive),
        cmocka_unit_test(test_http_response_head_limit_content_length),
        cmocka_unit_test(test_http_response_limit_header_count),
        cmocka_unit_test(test_http_response_limit_header_bytes),
        cmocka_unit_test(test_http_response_limit_body),
        cmocka_unit_test(test_http_response_limit_chunked_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
