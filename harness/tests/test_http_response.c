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

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

/* What the chunked decoder does with each kind of chunk-size line, chunk data and
 * trailer section: status, offset, where and reason, or the decoded body. A whole chunk
 * line is found (CRLF) before its size is judged; what follows the size after ';', SP or
 * HTAB is skipped unchecked; the size has at most 8 hex digits; trailers are read as
 * header lines. */
static void test_http_response_chunked_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *text;
        size_t len; /* 0: strlen(text) */
        enum ref_status want;
        size_t offset; /* from the start of the chunked body; SIZE_MAX: the input length */
        const char *where;
        const char *reason;
        const char *body;
    } cases[] = {
        {"extension after ';' with any bytes", "5;\x01 \"x\r\nhello\r\n0\r\n\r\n", 0, REF_OK, 0,
         NULL, NULL, "hello"},
        {"extension after SP", "5 x y\r\nhello\r\n0\r\n\r\n", 0, REF_OK, 0, NULL, NULL, "hello"},
        {"extension after HTAB", "5\tx\r\nhello\r\n0\r\n\r\n", 0, REF_OK, 0, NULL, NULL, "hello"},
        {"SP after the size", "5 \r\nhello\r\n0\r\n\r\n", 0, REF_OK, 0, NULL, NULL, "hello"},
        {"extension on the last chunk", "0;a=b\r\n\r\n", 0, REF_OK, 0, NULL, NULL, ""},
        {"upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", 0, REF_OK, 0, NULL, NULL, "0123456789"},
        {"eight hex digits", "00000005\r\nhello\r\n0\r\n\r\n", 0, REF_OK, 0, NULL, NULL, "hello"},
        {"nine hex digits", "000000005\r\nhello\r\n0\r\n\r\n", 0, REF_E_BODY_TOO_LARGE, 8,
         "body.chunk_size", "chunk size too large", NULL},
        {"nine hex digits, line not ended", "000000005", 0, REF_E_INCOMPLETE, SIZE_MAX,
         "body.chunk_size", "the input ends before the line does", NULL},
        {"byte after the size", "5x\r\nhello\r\n0\r\n\r\n", 0, REF_E_MALFORMED, 1,
         "body.chunk_size", "expected a hexadecimal chunk size", NULL},
        {"no size", "\r\n0\r\n\r\n", 0, REF_E_MALFORMED, 0, "body.chunk_size",
         "expected a hexadecimal chunk size", NULL},
        {"extension without a size", ";x\r\n0\r\n\r\n", 0, REF_E_MALFORMED, 0, "body.chunk_size",
         "expected a hexadecimal chunk size", NULL},
        {"bad size, line not ended", "zz", 0, REF_E_INCOMPLETE, SIZE_MAX, "body.chunk_size",
         "the input ends before the line does", NULL},
        {"bare LF in an extension", "z;a\nb\r\n", 0, REF_E_MALFORMED, 3, "body.chunk_size",
         "bare LF: lines end in CRLF", NULL},
        {"CR without LF after the size", "5\rX", 0, REF_E_MALFORMED, 1, "body.chunk_size",
         "CR not followed by LF", NULL},
        {"input ends after the size line's CR", "5\r", 0, REF_E_INCOMPLETE, SIZE_MAX,
         "body.chunk_size", "the input ends inside a line end", NULL},
        {"input ends in the data", "5\r\nhello", 0, REF_E_INCOMPLETE, SIZE_MAX, "body.chunk",
         "the input ends inside a chunk", NULL},
        {"input ends one byte after the data", "5\r\nhelloX", 0, REF_E_INCOMPLETE, SIZE_MAX,
         "body.chunk", "the input ends inside a chunk", NULL},
        {"data not followed by CRLF", "5\r\nhelloXY", 0, REF_E_MALFORMED, 8, "body.chunk",
         "chunk data not followed by CRLF", NULL},
        {"data followed by CR and no LF", "5\r\nhello\rX", 0, REF_E_MALFORMED, 8, "body.chunk",
         "chunk data not followed by CRLF", NULL},
        {"data followed by a bare LF", "5\r\nhello\n0", 0, REF_E_MALFORMED, 8, "body.chunk",
         "chunk data not followed by CRLF", NULL},
        {"a size over the body limit, before its data", "400001\r\n", 0, REF_E_BODY_TOO_LARGE, 8,
         "body.chunk", "decoded body larger than the limit", NULL},
        {"largest eight-digit size", "ffffffff\r\n", 0, REF_E_BODY_TOO_LARGE, 10, "body.chunk",
         "decoded body larger than the limit", NULL},
        {"last chunk without the trailer section", "0\r\n", 0, REF_E_INCOMPLETE, SIZE_MAX, "header",
         "the input ends before the line does", NULL},
        {"framing fields are allowed as trailers",
         "1\r\nx\r\n0\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\nHost: h\r\n\r\n", 0,
         REF_OK, 0, NULL, NULL, "x"},
        {"trailer name with a space", "0\r\nA b: c\r\n\r\n", 0, REF_E_MALFORMED, 4, "header.name",
         "invalid byte in a header name", NULL},
        {"trailer without colon", "0\r\nAb\r\n\r\n", 0, REF_E_MALFORMED, 5, "header",
         "header line without ':'", NULL},
        {"trailer with empty name", "0\r\n: b\r\n\r\n", 0, REF_E_MALFORMED, 3, "header",
         "empty header name", NULL},
        {"trailer value with a control byte", "0\r\nA: \x01\r\n\r\n", 0, REF_E_MALFORMED, 6,
         "header.value", "control byte in a header value", NULL},
        {"folded trailer", "0\r\nA: b\r\n c\r\n\r\n", 0, REF_E_MALFORMED, 9, "header",
         "obsolete line folding is refused", NULL},
        {"bare LF in a trailer", "0\r\nA: b\nc\r\n\r\n", 0, REF_E_MALFORMED, 7, "header",
         "bare LF: lines end in CRLF", NULL},
        {"two chunks", "2\r\nab\r\n3;x\r\ncde\r\n0\r\n\r\n", 0, REF_OK, 0, NULL, NULL, "abcde"},
        {"chunk data of NUL bytes", "2\r\n\0\0\r\n0\r\n\r\n", 12, REF_OK, 0, NULL, NULL, NULL},
    };
    size_t hl = strlen(CHUNKED_HEAD);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bl = cases[i].len != 0 ? cases[i].len : strlen(cases[i].text);
        char *text = malloc(hl + bl);
        assert_non_null(text);
        memcpy(text, CHUNKED_HEAD, hl);
        memcpy(text + hl, cases[i].text, bl);
        struct harness_http_response r;
        struct ref_buf body;
        ref_buf_init(&body, 1024);
        struct ref_parse_error err = {0};
        size_t used = 0;
        enum ref_status rc = parse(text, hl + bl, &r, &body, &used, &err);
        size_t want_offset = cases[i].offset == SIZE_MAX ? hl + bl : hl + cases[i].offset;
        if (rc != cases[i].want) {
            fail_msg("%s: want %s, got %s at %zu (%s: %s)", cases[i].name,
                     ref_status_name(cases[i].want), ref_status_name(rc), err.offset,
                     err.where != NULL ? err.where : "", err.reason != NULL ? err.reason : "");
        }
        if (rc == REF_OK) {
            assert_int_equal(used, hl + bl);
            assert_true(r.is_chunked);
            if (cases[i].body != NULL && !ref_slice_eq_cstr(r.body, cases[i].body)) {
                fail_msg("%s: body \"%.*s\"", cases[i].name, REF_SLICE_ARG(r.body));
            }
        } else if (err.offset != want_offset || strcmp(err.where, cases[i].where) != 0 ||
                   strcmp(err.reason, cases[i].reason) != 0) {
            fail_msg("%s: want %zu %s \"%s\", got %zu %s \"%s\"", cases[i].name, want_offset,
                     cases[i].where, cases[i].reason, err.offset, err.where, err.reason);
        }
        ref_buf_cleanup(&body);
        free(text);
    }
}

/* Without a buffer; with a buffer that holds something already (the decoded body is
 * appended to it, not put in its place); with a buffer too small for the body. */
static void test_http_response_chunked_buffer(void **state)
{
    (void)state;
    static const char text[] = CHUNKED_HEAD "5\r\nhello\r\n0\r\n\r\n";
    size_t hl = strlen(CHUNKED_HEAD);
    struct harness_http_response r;
    struct ref_parse_error err = {0};
    assert_int_equal(parse(text, sizeof(text) - 1, &r, NULL, NULL, &err), REF_E_MALFORMED);
    assert_int_equal(err.offset, hl);
    assert_string_equal(err.where, "body.chunked");
    assert_string_equal(err.reason, "chunked body without a buffer to decode it into");

    struct ref_buf body;
    ref_buf_init(&body, 1024);
    assert_int_equal(ref_buf_append(&body, "ab", 2), REF_OK);
    assert_int_equal(parse(text, sizeof(text) - 1, &r, &body, NULL, &err), REF_OK);
    assert_true(ref_slice_eq_cstr(r.body, "abhello"));
    ref_buf_cleanup(&body);

    /* Too small: refused at the chunk's data, once its CRLF has been checked. */
    ref_buf_init(&body, 3);
    assert_int_equal(parse(text, sizeof(text) - 1, &r, &body, NULL, &err), REF_E_BODY_TOO_LARGE);
    assert_int_equal(err.offset, hl + 3);
    assert_string_equal(err.where, "body.chunk");
    assert_string_equal(err.reason, "cannot hold the decoded body");
    static const char bad_crlf[] = CHUNKED_HEAD "5\r\nhelloXY";
    assert_int_equal(parse(bad_crlf, sizeof(bad_crlf) - 1, &r, &body, NULL, &err), REF_E_MALFORMED);
    assert_int_equal(err.offset, hl + 8);
    ref_buf_cleanup(&body);
}

/* The chunk-size line may be HARNESS_MAX_RESPONSE_CHUNK_LINE bytes with its CRLF; one
 * more is refused at the line's start (a CR as the last byte of the input, one byte past
 * the limit, still waits for its LF). The trailer section has the header limits: at most
 * 16 lines and HARNESS_MAX_RESPONSE_HEADER_BYTES bytes. */
static void test_http_response_chunked_line_and_trailer_limits(void **state)
{
    (void)state;
    size_t hl = strlen(CHUNKED_HEAD);
    size_t max = HARNESS_MAX_RESPONSE_CHUNK_LINE;
    char text[sizeof(CHUNKED_HEAD) + HARNESS_MAX_RESPONSE_CHUNK_LINE + 64];
    struct harness_http_response r;
    struct ref_buf body;
    ref_buf_init(&body, 64);
    struct ref_parse_error err = {0};
    for (size_t line = max - 3; line <= max - 1; line++) {
        /* line bytes before the CRLF: "1;" and e's. */
        memcpy(text, CHUNKED_HEAD "1;", hl + 2);
        memset(text + hl + 2, 'e', line - 2);
        size_t n = hl + line;
        memcpy(text + n, "\r\nz\r\n0\r\n\r\n", 10);
        ref_buf_reset(&body);
        enum ref_status rc = parse(text, n + 10, &r, &body, NULL, &err);
        if (line <= max - 2) {
            assert_int_equal(rc, REF_OK);
            assert_true(ref_slice_eq_cstr(r.body, "z"));
        } else {
            assert_int_equal(rc, REF_E_MALFORMED);
            assert_int_equal(err.offset, hl);
            assert_string_equal(err.where, "body.chunk_size");
            assert_string_equal(err.reason, "chunk-size line longer than the limit");
            /* Cut right after the CR (its LF one past the limit): incomplete. */
            assert_int_equal(parse(text, n + 1, &r, &body, NULL, &err), REF_E_INCOMPLETE);
            assert_int_equal(err.offset, n + 1);
            /* Cut before the CR: incomplete too; with the LF: refused. */
            assert_int_equal(parse(text, n, &r, &body, NULL, &err), REF_E_INCOMPLETE);
            assert_int_equal(parse(text, n + 2, &r, &body, NULL, &err), REF_E_MALFORMED);
        }
    }
    ref_buf_cleanup(&body);

    /* Trailer lines: 16 fit, the 17th is refused at its start. */
    char *big = malloc(hl + 8 + 17 * 6 + 2);
    assert_non_null(big);
    for (size_t count = 16; count <= 17; count++) {
        size_t n = hl;
        memcpy(big, CHUNKED_HEAD "0\r\n", hl + 3);
        n += 3;
        size_t last = 0;
        for (size_t k = 0; k < count; k++) {
            last = n;
            memcpy(big + n, "T: v\r\n", 6);
            n += 6;
        }
        memcpy(big + n, "\r\n", 2);
        n += 2;
        ref_buf_init(&body, 64);
        enum ref_status rc = parse(big, n, &r, &body, NULL, &err);
        if (count == 16) {
            assert_int_equal(rc, REF_OK);
        } else {
            assert_int_equal(rc, REF_E_HEADERS_TOO_LARGE);
            assert_int_equal(err.offset, last);
            assert_string_equal(err.where, "header");
            assert_string_equal(err.reason, "more header lines than the limit");
        }
        ref_buf_cleanup(&body);
    }
    free(big);

    /* Trailer bytes: counted from the trailer section's start. */
    size_t tmax = HARNESS_MAX_RESPONSE_HEADER_BYTES;
    big = malloc(hl + 3 + tmax + 16);
    assert_non_null(big);
    for (size_t value = tmax - 7; value <= tmax - 6; value++) {
        /* "T: " value CRLF CRLF: value + 7 bytes of section. */
        size_t n = hl;
        memcpy(big, CHUNKED_HEAD "0\r\nT: ", hl + 6);
        n += 6;
        memset(big + n, 'v', value);
        n += value;
        memcpy(big + n, "\r\n\r\n", 4);
        n += 4;
        ref_buf_init(&body, 64);
        enum ref_status rc = parse(big, n, &r, &body, NULL, &err);
        if (value == tmax - 7) {
            assert_int_equal(rc, REF_OK);
        } else {
            assert_int_equal(rc, REF_E_HEADERS_TOO_LARGE);
            assert_int_equal(err.offset, hl + 3 + tmax);
            assert_string_equal(err.where, "header");
            assert_string_equal(err.reason, "the response head is longer than the limit");
        }
        ref_buf_cleanup(&body);
    }
    free(big);
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
        cmocka_unit_test(test_http_response_chunked_table),
        cmocka_unit_test(test_http_response_chunked_buffer),
        cmocka_unit_test(test_http_response_chunked_line_and_trailer_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
