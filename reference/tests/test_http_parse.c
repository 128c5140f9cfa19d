/* SPDX-License-Identifier: Apache-2.0
 *
 * test_http_parse.c - unit tests for the strict HTTP/1.1 request parser.
 *
 * Every input is parsed from a private copy that ends exactly where the input ends: an
 * exact-size heap block under AddressSanitizer, otherwise a block whose end touches a
 * PROT_NONE guard page. A read past the input therefore fails in either build. Negative
 * cases are one table with the expected status, offset (named by a substring of the
 * input, so it is not copied from the parser's output) and `where`. Every limit is
 * tested at the limit and one over, and valid requests (the real-client captures
 * included) are cut at every length to check REF_E_INCOMPLETE.
 */
#define _DEFAULT_SOURCE /* mmap, MAP_ANONYMOUS, sysconf */

#include "ref/http.h"

#include "ref/buf.h"
#include "ref/limits.h"
#include "ref/mem.h"

#include "test_util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_HAVE_ASAN 1
#endif
#endif

/* ------------------------------------------------------------------------------------ */
/* Inputs that end exactly where the bytes end.                                         */

struct input {
    void *block;
    size_t block_len; /* mmap length; 0 for a heap block */
    struct ref_slice s;
};

static struct input input_copy(const void *bytes, size_t len)
{
    struct input in = {0};
#ifdef TEST_HAVE_ASAN
    /* Exactly len bytes: ASan flags any access outside them. */
    in.block = malloc(len);
    assert_true(in.block != NULL || len == 0);
    if (len > 0) {
        memcpy(in.block, bytes, len);
    }
    in.s = ref_slice_make(in.block, len);
#else
    /* The data ends at a page boundary followed by an inaccessible page. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (len + page - 1) / page;
    in.block_len = (data_pages + 1) * page;
    uint8_t *base =
        mmap(NULL, in.block_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(base != MAP_FAILED);
    assert_int_equal(mprotect(base + data_pages * page, page, PROT_NONE), 0);
    uint8_t *start = base + data_pages * page - len;
    if (len > 0) {
        memcpy(start, bytes, len);
    }
    in.block = base;
    in.s = ref_slice_make(start, len);
#endif
    return in;
}

static void input_free(struct input *in)
{
    if (in->block_len > 0) {
        munmap(in->block, in->block_len);
    } else {
        free(in->block);
    }
    *in = (struct input){0};
}

/* ------------------------------------------------------------------------------------ */
/* Parsing helpers.                                                                     */

struct result {
    struct input in;
    struct ref_http_request req;
    struct ref_buf body;
    struct ref_parse_error err;
    enum ref_status rc;
};

/* Checks what must hold after any call: a failure fills err consistently, a success
 * returns slices inside the input (or the body buffer). */
static void check_invariants(const struct result *r)
{
    const uint8_t *lo = r->in.s.ptr;
    const uint8_t *hi = r->in.s.ptr + r->in.s.len;
    if (r->rc != REF_OK) {
        assert_int_equal(r->err.code, r->rc);
        assert_true(r->err.offset <= r->in.s.len);
        assert_non_null(r->err.where);
        assert_non_null(r->err.reason);
        assert_true(r->err.where[0] != '\0');
        assert_true(r->err.reason[0] != '\0');
        if (r->rc == REF_E_INCOMPLETE) {
            assert_int_equal(r->err.offset, r->in.s.len);
        }
        char text[512];
        ref_parse_error_format(&r->err, r->in.s.ptr, r->in.s.len, text, sizeof(text));
        return;
    }
    const struct ref_http_request *q = &r->req;
    assert_true(q->num_headers <= REF_MAX_HEADERS);
    const struct ref_slice inside[] = {q->method, q->target, q->path, q->query, q->version};
    for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
        assert_true(inside[i].ptr >= lo && inside[i].ptr + inside[i].len <= hi);
    }
    for (size_t i = 0; i < q->num_headers; i++) {
        assert_true(q->headers[i].name.len > 0);
        assert_true(q->headers[i].name.ptr >= lo && q->headers[i].name.ptr < hi);
        assert_true(q->headers[i].value.ptr >= lo &&
                    q->headers[i].value.ptr + q->headers[i].value.len <= hi);
    }
    if (q->is_chunked) {
        assert_int_equal(q->body.len, r->body.len);
        assert_true(q->body.len == 0 || q->body.ptr == r->body.data);
    } else if (q->body.len > 0) {
        assert_true(q->body.ptr >= lo && q->body.ptr + q->body.len <= hi);
    }
    assert_true(ref_slice_eq(q->version, REF_SLICE_LIT("HTTP/1.1")) ||
                ref_slice_eq(q->version, REF_SLICE_LIT("HTTP/1.0")));
}

static void parse_bytes(struct result *r, const void *bytes, size_t len)
{
    r->in = input_copy(bytes, len);
    ref_buf_init(&r->body, REF_MAX_BODY_BYTES);
    r->err = (struct ref_parse_error){.code = REF_OK, .offset = SIZE_MAX};
    r->rc = ref_http_parse_request(r->in.s, &r->req, &r->body, &r->err);
    check_invariants(r);
}

static void parse_cstr(struct result *r, const char *s)
{
    parse_bytes(r, s, strlen(s));
}

static void result_free(struct result *r)
{
    ref_buf_cleanup(&r->body);
    input_free(&r->in);
}

static void print_failure(const struct result *r)
{
    char text[1024];
    ref_parse_error_format(&r->err, r->in.s.ptr, r->in.s.len, text, sizeof(text));
    print_error("%s: %s\n", ref_status_name(r->rc), text);
}

static void expect_ok(const struct result *r)
{
    if (r->rc != REF_OK) {
        print_failure(r);
    }
    assert_int_equal(r->rc, REF_OK);
}

static void
expect_error(const struct result *r, enum ref_status code, size_t offset, const char *where)
{
    if (r->rc != code || r->err.offset != offset || strcmp(r->err.where, where) != 0) {
        print_error("want %s at %zu in %s\n", ref_status_name(code), offset, where);
        print_failure(r);
    }
    assert_int_equal(r->rc, code);
    assert_int_equal(r->err.offset, offset);
    assert_string_equal(r->err.where, where);
}

static bool slice_is(struct ref_slice s, const char *want)
{
    return ref_slice_eq(s, ref_slice_from_cstr(want));
}

static void expect_slice(struct ref_slice s, const char *want)
{
    if (!slice_is(s, want)) {
        print_error("got \"" REF_SLICE_FMT "\", want \"%s\"\n", REF_SLICE_ARG(s), want);
    }
    assert_true(slice_is(s, want));
}

/* Where a substring first occurs (the tests name error offsets this way). */
static size_t offset_of(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= hay_len && i <= hay_len - n; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return i;
        }
    }
    fail_msg("\"%s\" is not in the input", needle);
    return 0;
}

/* Builders for long inputs. */
static void put(struct ref_buf *b, const char *s)
{
    assert_int_equal(ref_buf_append_cstr(b, s), REF_OK);
}

static void put_n(struct ref_buf *b, char c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ref_buf_append_byte(b, (uint8_t)c), REF_OK);
    }
}

static void build_init(struct ref_buf *b)
{
    ref_buf_init(b, 4 * REF_MAX_REQUEST_BYTES);
}

/* Every strict prefix of a valid request is REF_E_INCOMPLETE at its end, through both
 * entry points, and never reads past the prefix. */
static void check_all_prefixes_incomplete(const uint8_t *bytes, size_t len)
{
    for (size_t n = 0; n < len; n++) {
        struct result r;
        parse_bytes(&r, bytes, n);
        if (r.rc != REF_E_INCOMPLETE) {
            print_error("prefix of %zu of %zu bytes:\n", n, len);
            print_failure(&r);
        }
        assert_int_equal(r.rc, REF_E_INCOMPLETE);
        assert_int_equal(r.err.offset, n);

        size_t consumed = 12345;
        struct ref_parse_error err;
        enum ref_status rc =
            ref_http_parse_request_prefix(r.in.s, &r.req, &r.body, &consumed, &err);
        assert_int_equal(rc, REF_E_INCOMPLETE);
        assert_int_equal(err.offset, n);
        result_free(&r);
    }
}

#define RL    "GET / HTTP/1.1\r\n"
#define HOST  "Host: a\r\n"
#define CHUNK "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

/* ------------------------------------------------------------------------------------ */
/* Valid requests.                                                                      */

static void test_http_parse_accepts_each_method(void **state)
{
    (void)state;
    static const char *const methods[] = {
        "GET",   "POST",    "DELETE",   "PUT", "HEAD", "OPTIONS",          "PATCH",
        "TRACE", "CONNECT", "M-SEARCH", "get", "X",    "!#$%&'*+-.^_`|~0", "AAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        char raw[256];
        int n = snprintf(raw, sizeof(raw), "%s /2012-09-25/jobs HTTP/1.1\r\nHost: h\r\n\r\n",
                         methods[i]);
        assert_true(n > 0 && (size_t)n < sizeof(raw));
        struct result r;
        parse_cstr(&r, raw);
        expect_ok(&r);
        expect_slice(r.req.method, methods[i]);
        expect_slice(r.req.target, "/2012-09-25/jobs");
        expect_slice(r.req.path, "/2012-09-25/jobs");
        assert_false(r.req.has_query);
        assert_int_equal(r.req.query.len, 0);
        expect_slice(r.req.version, "HTTP/1.1");
        assert_int_equal(r.req.num_headers, 1);
        assert_int_equal(r.req.body.len, 0);
        assert_false(r.req.is_chunked);
        result_free(&r);
    }
}

static void test_http_parse_accepts_api_requests(void **state)
{
    (void)state;
    struct result r;

    parse_cstr(&r, "DELETE /2012-09-25/jobs/1111111111111-abcdef HTTP/1.1\r\n"
                   "Host: example.com\r\nContent-Length: 0\r\n\r\n");
    expect_ok(&r);
    expect_slice(r.req.method, "DELETE");
    expect_slice(r.req.path, "/2012-09-25/jobs/1111111111111-abcdef");
    assert_int_equal(r.req.body.len, 0);
    result_free(&r);

    parse_cstr(&r, "POST /2012-09-25/pipelines/p/status HTTP/1.1\r\nHost: h\r\n"
                   "Content-Type: application/json\r\nContent-Length: 19\r\n\r\n"
                   "{\"Status\":\"Paused\"}");
    expect_ok(&r);
    expect_slice(r.req.method, "POST");
    expect_slice(r.req.body, "{\"Status\":\"Paused\"}");
    assert_false(r.req.is_chunked);
    result_free(&r);

    parse_cstr(&r, "GET /2012-09-25/jobsByStatus/Submitted?Ascending=true&PageToken=x HTTP/1.1\r\n"
                   "Host: h\r\n\r\n");
    expect_ok(&r);
    expect_slice(r.req.path, "/2012-09-25/jobsByStatus/Submitted");
    expect_slice(r.req.query, "Ascending=true&PageToken=x");
    assert_true(r.req.has_query);
    result_free(&r);
}

static void test_http_parse_splits_path_and_query(void **state)
{
    (void)state;
    static const struct {
        const char *target, *path, *query;
        bool has_query;
    } cases[] = {
        {"/", "/", "", false},
        {"/a/b", "/a/b", "", false},
        {"/a?", "/a", "", true},
        {"/a?b=c", "/a", "b=c", true},
        {"/a?b?c=d", "/a", "b?c=d", true},
        {"/?x", "/", "x", true},
        {"/a%3Fb?c", "/a%3Fb", "c", true},
        {"//a/./../b", "//a/./../b", "", false},
        {"/a#frag", "/a#frag", "", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char raw[256];
        int n = snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", cases[i].target);
        assert_true(n > 0 && (size_t)n < sizeof(raw));
        struct result r;
        parse_cstr(&r, raw);
        expect_ok(&r);
        expect_slice(r.req.target, cases[i].target);
        expect_slice(r.req.path, cases[i].path);
        expect_slice(r.req.query, cases[i].query);
        assert_int_equal(r.req.has_query, cases[i].has_query);
        result_free(&r);
    }
}

/* HTTP/1.0 is spoken, with the same Host rule as 1.1 (see http_parse.c). */
static void test_http_parse_accepts_http10(void **state)
{
    (void)state;
    struct result r;
    parse_cstr(&r, "GET /x HTTP/1.0\r\nHost: h\r\n\r\n");
    expect_ok(&r);
    expect_slice(r.req.version, "HTTP/1.0");
    assert_int_equal(r.req.num_headers, 1);
    result_free(&r);

    parse_cstr(&r, "POST /x HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
    expect_ok(&r);
    expect_slice(r.req.body, "abc");
    result_free(&r);
}

/* Names keep their case, values lose only leading and trailing SP/HTAB, and repeated
 * headers stay in arrival order. */
static void test_http_parse_keeps_header_bytes(void **state)
{
    (void)state;
    static const char raw[] = "GET / HTTP/1.1\r\n"
                              "hOsT:h\r\n"
                              "X-Trim: \t  inner  \t spaces \t \r\n"
                              "X-Empty:\r\n"
                              "X-Blank:   \t \r\n"
                              "X-Obs: caf\xc3\xa9 \x80\xff\r\n"
                              "X-Rep: one\r\n"
                              "x-amz-date: 20261128T124533Z\r\n"
                              "X-REP: two\r\n"
                              "X-Punct: a:b;c=\"d\",e\\f\r\n"
                              "x-rep:three\r\n"
                              "\r\n";
    struct result r;
    parse_bytes(&r, raw, sizeof(raw) - 1);
    expect_ok(&r);
    static const char *const want[][2] = {
        {"hOsT", "h"},
        {"X-Trim", "inner  \t spaces"},
        {"X-Empty", ""},
        {"X-Blank", ""},
        {"X-Obs", "caf\xc3\xa9 \x80\xff"},
        {"X-Rep", "one"},
        {"x-amz-date", "20261128T124533Z"},
        {"X-REP", "two"},
        {"X-Punct", "a:b;c=\"d\",e\\f"},
        {"x-rep", "three"},
    };
    assert_int_equal(r.req.num_headers, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < r.req.num_headers; i++) {
        expect_slice(r.req.headers[i].name, want[i][0]);
        expect_slice(r.req.headers[i].value, want[i][1]);
    }
    result_free(&r);
}

static void test_http_parse_finds_headers_case_insensitively(void **state)
{
    (void)state;
    struct result r;
    parse_cstr(&r, "GET / HTTP/1.1\r\nHost: h\r\nX-Rep: 1\r\nx-rep: 2\r\nX-Other: 3\r\n"
                   "X-REP: 4\r\n\r\n");
    expect_ok(&r);
    const struct ref_header *h =
        ref_http_find_header(r.req.headers, r.req.num_headers, REF_SLICE_LIT("X-REP"));
    assert_non_null(h);
    expect_slice(h->value, "1");
    assert_ptr_equal(h, &r.req.headers[1]);
    assert_int_equal(
        ref_http_count_header(r.req.headers, r.req.num_headers, REF_SLICE_LIT("x-rep")), 3);
    assert_int_equal(ref_http_count_header(r.req.headers, r.req.num_headers, REF_SLICE_LIT("HOST")),
                     1);
    assert_null(ref_http_find_header(r.req.headers, r.req.num_headers, REF_SLICE_LIT("X-Re")));
    assert_null(ref_http_find_header(r.req.headers, r.req.num_headers, REF_SLICE_LIT("X-Reps")));
    assert_int_equal(ref_http_count_header(r.req.headers, r.req.num_headers, REF_SLICE_LIT("nope")),
                     0);
    assert_null(ref_http_find_header(NULL, 0, REF_SLICE_LIT("Host")));
    assert_int_equal(ref_http_count_header(NULL, 0, REF_SLICE_LIT("Host")), 0);
    result_free(&r);
}

static void test_http_parse_reads_content_length_body(void **state)
{
    (void)state;
    struct result r;
    parse_cstr(&r, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n\r\n\0abcd");
    /* parse_cstr stops at the NUL, so only 4 body bytes are present: incomplete. */
    assert_int_equal(r.rc, REF_E_INCOMPLETE);
    result_free(&r);

    static const char raw[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  7 \r\n\r\n\r\n\0abcd";
    parse_bytes(&r, raw, sizeof(raw) - 1);
    expect_ok(&r);
    assert_int_equal(r.req.body.len, 7);
    assert_memory_equal(r.req.body.ptr, "\r\n\0abcd", 7);
    result_free(&r);

    parse_cstr(&r, "PUT / HTTP/1.1\r\nHost: h\r\ncontent-length: 0\r\n\r\n");
    expect_ok(&r);
    assert_int_equal(r.req.body.len, 0);
    result_free(&r);
}

/* Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 6.3). */
static void test_http_parse_has_empty_body_without_framing(void **state)
{
    (void)state;
    struct result r;
    parse_cstr(&r, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    expect_ok(&r);
    assert_int_equal(r.req.body.len, 0);
    assert_false(r.req.is_chunked);
    result_free(&r);
}

static void test_http_parse_decodes_chunked_body(void **state)
{
    (void)state;
    static const char raw[] = "POST /2012-09-25/jobs HTTP/1.1\r\n"
                              "Host: h\r\n"
                              "Transfer-Encoding:  ChUnKeD \r\n"
                              "X-After: 1\r\n"
                              "\r\n"
                              "5;name=val;flag\r\n"
                              "hello\r\n"
                              "00A ; q = \"quoted \\\" \\\\ ;x\" ;t=v\r\n"
                              " \r\nworld\r\n\r\n"
                              "b\r\n"
                              "\x01\x02\r\n\0\xff\x80"
                              "abcd\r\n"
                              "000;last\r\n"
                              "X-Trailer: t\r\n"
                              "Other-Trailer:  u \r\n"
                              "\r\n";
    struct result r;
    parse_bytes(&r, raw, sizeof(raw) - 1);
    expect_ok(&r);
    assert_true(r.req.is_chunked);
    static const char want[] = "hello \r\nworld\r\n\x01\x02\r\n\0\xff\x80"
                               "abcd";
    assert_int_equal(r.req.body.len, sizeof(want) - 1);
    assert_memory_equal(r.req.body.ptr, want, sizeof(want) - 1);
    /* Trailer fields are not headers. */
    assert_int_equal(r.req.num_headers, 3);
    expect_slice(r.req.headers[1].value, "ChUnKeD");
    expect_slice(r.req.headers[2].name, "X-After");
    assert_null(ref_http_find_header(r.req.headers, r.req.num_headers, REF_SLICE_LIT("X-Trailer")));
    result_free(&r);

    /* Only the last chunk: an empty body. */
    parse_cstr(&r, CHUNK "0\r\n\r\n");
    expect_ok(&r);
    assert_true(r.req.is_chunked);
    assert_int_equal(r.req.body.len, 0);
    result_free(&r);

    /* Hex digits of both cases, BWS around ';' and '=', quoted-pair with obs-text. */
    parse_cstr(&r, CHUNK "a\t;\tx\t=\ty ;z\r\n0123456789\r\nF\r\nABCDEFGHIJKLMNO\r\n"
                         "1;e=\"\\\xc3\xa9\"\r\n!\r\n0\r\n\r\n");
    expect_ok(&r);
    expect_slice(r.req.body, "0123456789ABCDEFGHIJKLMNO!");
    result_free(&r);
}

/* The decode buffer is the caller's: it is emptied first, may be fixed storage, and its
 * own cap turns into REF_E_BODY_TOO_LARGE. */
static void test_http_parse_uses_caller_body_buffer(void **state)
{
    (void)state;
    static const char raw[] = CHUNK "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    struct input in = input_copy(raw, sizeof(raw) - 1);
    struct ref_http_request req;
    struct ref_parse_error err;

    uint8_t storage[5];
    struct ref_buf fixed;
    ref_buf_init_fixed(&fixed, storage, sizeof(storage));
    assert_int_equal(ref_buf_append_cstr(&fixed, "junk"), REF_OK);
    assert_int_equal(ref_http_parse_request(in.s, &req, &fixed, &err), REF_OK);
    expect_slice(req.body, "abcde");
    assert_ptr_equal(req.body.ptr, storage);

    uint8_t small[4];
    ref_buf_init_fixed(&fixed, small, sizeof(small));
    assert_int_equal(ref_http_parse_request(in.s, &req, &fixed, &err), REF_E_BODY_TOO_LARGE);
    assert_int_equal(err.offset, offset_of(raw, sizeof(raw) - 1, "de\r\n"));
    assert_string_equal(err.where, "body.chunk-data");

    struct ref_buf capped;
    ref_buf_init(&capped, 4);
    assert_int_equal(ref_http_parse_request(in.s, &req, &capped, &err), REF_E_BODY_TOO_LARGE);
    ref_buf_cleanup(&capped);

    /* No buffer at all: a chunked body cannot be taken. */
    assert_int_equal(ref_http_parse_request(in.s, &req, NULL, &err), REF_E_MALFORMED);
    assert_int_equal(err.offset, sizeof(CHUNK) - 1);
    assert_string_equal(err.where, "body");
    input_free(&in);

    /* ...but a request without a chunked body does not need one. */
    in = input_copy(RL HOST "\r\n", sizeof(RL HOST "\r\n") - 1);
    assert_int_equal(ref_http_parse_request(in.s, &req, NULL, &err), REF_OK);
    input_free(&in);
}

static void *failing_realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    return NULL;
}

static void test_http_parse_reports_nomem(void **state)
{
    (void)state;
    static const char raw[] = CHUNK "3\r\nabc\r\n0\r\n\r\n";
    struct input in = input_copy(raw, sizeof(raw) - 1);
    struct ref_http_request req;
    struct ref_parse_error err;
    struct ref_buf body;
    ref_buf_init(&body, REF_MAX_BODY_BYTES);
    const struct ref_mem_hooks hooks = {malloc, failing_realloc, free};
    ref_mem_set_hooks(&hooks);
    enum ref_status rc = ref_http_parse_request(in.s, &req, &body, &err);
    ref_mem_set_hooks(NULL);
    assert_int_equal(rc, REF_E_NOMEM);
    assert_int_equal(err.code, REF_E_NOMEM);
    assert_string_equal(err.where, "body.chunk-data");
    ref_buf_cleanup(&body);
    input_free(&in);
}

/* err may be NULL: the status alone is returned. */
static void test_http_parse_accepts_null_err(void **state)
{
    (void)state;
    struct input in = input_copy(RL "\r\n", sizeof(RL "\r\n") - 1);
    struct ref_http_request req;
    assert_int_equal(ref_http_parse_request(in.s, &req, NULL, NULL), REF_E_MALFORMED);
    size_t consumed = 0;
    assert_int_equal(ref_http_parse_request_prefix(in.s, &req, NULL, &consumed, NULL),
                     REF_E_MALFORMED);
    input_free(&in);
    assert_int_equal(ref_http_parse_request(ref_slice_make(NULL, 0), &req, NULL, NULL),
                     REF_E_INCOMPLETE);
}

/* ------------------------------------------------------------------------------------ */
/* Real clients.                                                                        */

static const char *const s_capture_clients[] = {"awscli-v2", "botocore", "js-sdk-v3"};
static const char *const s_capture_ops[] = {
    "CancelJob",
    "CreateJob",
    "CreatePipeline",
    "ListJobsByPipeline",
    "ListJobsByStatus-query",
    "ListJobsByStatus",
    "ReadJob-odd-id",
    "ReadJob",
    "UpdatePipelineStatus-Active",
    "UpdatePipelineStatus-Paused",
};

static char *read_capture(const char *client, const char *op, size_t *len)
{
    char path[1024];
    int n = snprintf(path, sizeof(path), "%s/fixtures/captures/%s/%s.http", ETCH_SOURCE_DIR, client,
                     op);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    char *data = test_read_file(path, len);
    if (data == NULL) {
        fail_msg("cannot read %s", path);
    }
    return data;
}

/* Compares the parse with an independent, naive reading of the file: split at CRLF up
 * to the empty line, each line at its first ':', values trimmed of SP. */
static void check_capture(const char *name, const char *data, size_t len, const struct result *r)
{
    const char *end_of_head = strstr(data, "\r\n\r\n");
    assert_non_null(end_of_head);
    const char *line = data;
    const char *eol = strstr(line, "\r\n");
    /* Request line. */
    const char *sp1 = memchr(line, ' ', (size_t)(eol - line));
    assert_non_null(sp1);
    assert_int_equal(r->req.method.len, (size_t)(sp1 - line));
    assert_memory_equal(r->req.method.ptr, line, r->req.method.len);
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    assert_non_null(sp2);
    assert_int_equal(r->req.target.len, (size_t)(sp2 - sp1 - 1));
    assert_memory_equal(r->req.target.ptr, sp1 + 1, r->req.target.len);
    expect_slice(r->req.version, "HTTP/1.1");

    size_t i = 0;
    for (line = eol + 2; line < end_of_head + 2; line = eol + 2, i++) {
        eol = strstr(line, "\r\n");
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        assert_non_null(colon);
        const char *v = colon + 1;
        const char *ve = eol;
        while (v < ve && *v == ' ') {
            v++;
        }
        while (ve > v && ve[-1] == ' ') {
            ve--;
        }
        assert_true(i < r->req.num_headers);
        const struct ref_header *h = &r->req.headers[i];
        if (h->name.len != (size_t)(colon - line) || h->value.len != (size_t)(ve - v) ||
            memcmp(h->name.ptr, line, h->name.len) != 0 ||
            memcmp(h->value.ptr, v, h->value.len) != 0) {
            print_error("%s: header %zu differs\n", name, i);
            fail();
        }
    }
    assert_int_equal(r->req.num_headers, i);

    const char *body = end_of_head + 4;
    size_t body_len = len - (size_t)(body - data);
    assert_int_equal(r->req.body.len, body_len);
    assert_true(body_len == 0 || memcmp(r->req.body.ptr, body, body_len) == 0);
    assert_false(r->req.is_chunked);
    assert_int_equal(
        ref_http_count_header(r->req.headers, r->req.num_headers, REF_SLICE_LIT("host")), 1);
}

static void test_http_parse_accepts_real_client_captures(void **state)
{
    (void)state;
    size_t count = 0;
    for (size_t c = 0; c < sizeof(s_capture_clients) / sizeof(s_capture_clients[0]); c++) {
        for (size_t o = 0; o < sizeof(s_capture_ops) / sizeof(s_capture_ops[0]); o++) {
            size_t len = 0;
            char *data = read_capture(s_capture_clients[c], s_capture_ops[o], &len);
            struct result r;
            parse_bytes(&r, data, len);
            if (r.rc != REF_OK) {
                print_error("%s/%s\n", s_capture_clients[c], s_capture_ops[o]);
            }
            expect_ok(&r);
            check_capture(s_capture_ops[o], data, len, &r);
            result_free(&r);
            free(data);
            count++;
        }
    }
    assert_int_equal(count, 30);
}

static void test_http_parse_reports_incomplete_for_capture_prefixes(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(s_capture_clients) / sizeof(s_capture_clients[0]); c++) {
        for (size_t o = 0; o < sizeof(s_capture_ops) / sizeof(s_capture_ops[0]); o++) {
            size_t len = 0;
            char *data = read_capture(s_capture_clients[c], s_capture_ops[o], &len);
            check_all_prefixes_incomplete((const uint8_t *)data, len);
            free(data);
        }
    }
}

/* ------------------------------------------------------------------------------------ */
/* Truncation and pipelining.                                                           */

static void test_http_parse_reports_incomplete_for_every_prefix(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "GET /2012-09-25/jobs/1?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n{\"a\":\"bcd\"}\n",
        "DELETE /x HTTP/1.0\r\nhost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-E:\r\nX-W: \t v \t \r\n\r\n",
        CHUNK "5;a=b;c=\"d\\\"e\"\r\nhello\r\n1\r\n!\r\n0;z\r\nX-T: 1\r\nY: 2\r\n\r\n",
        CHUNK "0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        struct result r;
        parse_cstr(&r, valid[i]);
        expect_ok(&r);
        result_free(&r);
        check_all_prefixes_incomplete((const uint8_t *)valid[i], strlen(valid[i]));
    }
}

/* The prefix entry point stops at the end of the request; the whole-request one refuses
 * whatever follows. */
static void test_http_parse_prefix_consumes_one_request(void **state)
{
    (void)state;
    static const char first[] = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
    static const char second[] = CHUNK "2\r\nxy\r\n0\r\n\r\n";
    static const char third[] = "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    static const char stream[] =
        "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" CHUNK "2\r\nxy\r\n0\r\n\r\n"
        "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    struct input in = input_copy(stream, sizeof(stream) - 1);
    struct ref_http_request req;
    struct ref_parse_error err;
    struct ref_buf body;
    ref_buf_init(&body, REF_MAX_BODY_BYTES);
    size_t consumed = 0;

    assert_int_equal(ref_http_parse_request(in.s, &req, &body, &err), REF_E_MALFORMED);
    assert_int_equal(err.offset, sizeof(first) - 1);
    assert_string_equal(err.where, "request");
    assert_string_equal(err.reason, "bytes follow the end of the request");

    struct ref_slice rest = in.s;
    assert_int_equal(ref_http_parse_request_prefix(rest, &req, &body, &consumed, &err), REF_OK);
    assert_int_equal(consumed, sizeof(first) - 1);
    expect_slice(req.body, "abc");

    rest = ref_slice_sub(rest, consumed, rest.len - consumed);
    assert_int_equal(ref_http_parse_request_prefix(rest, &req, &body, &consumed, &err), REF_OK);
    assert_int_equal(consumed, sizeof(second) - 1);
    assert_true(req.is_chunked);
    expect_slice(req.body, "xy");

    rest = ref_slice_sub(rest, consumed, rest.len - consumed);
    assert_int_equal(ref_http_parse_request_prefix(rest, &req, &body, &consumed, &err), REF_OK);
    assert_int_equal(consumed, sizeof(third) - 1);
    expect_slice(req.path, "/c");
    assert_int_equal(consumed, rest.len);

    /* Whatever follows is not looked at, even if it is garbage. */
    static const char junk[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n\x01\x02 not http";
    input_free(&in);
    in = input_copy(junk, sizeof(junk) - 1);
    assert_int_equal(ref_http_parse_request_prefix(in.s, &req, &body, &consumed, &err), REF_OK);
    assert_int_equal(consumed, offset_of(junk, sizeof(junk) - 1, "\x01"));

    ref_buf_cleanup(&body);
    input_free(&in);
}

/* ------------------------------------------------------------------------------------ */
/* Malformed input, one table.                                                          */

struct reject_case {
    const char *name;
    const char *input;
    size_t len;
    enum ref_status code;
    const char *at; /* the offset is where this first occurs (+ delta); NULL: the end */
    size_t delta;
    const char *where;
};

#define IN(s) s, sizeof(s) - 1
#define MAL   REF_E_MALFORMED

static const struct reject_case s_rejects[] = {
    /* Request line. */
    {"empty input", IN(""), REF_E_INCOMPLETE, NULL, 0, "request-line.method"},
    {"method only", IN("GET"), REF_E_INCOMPLETE, NULL, 0, "request-line.method"},
    {"empty method", IN(" / HTTP/1.1\r\n" HOST "\r\n"), MAL, " / ", 0, "request-line.method"},
    {"leading CRLF", IN("\r\n" RL HOST "\r\n"), MAL, "\r\nGET", 0, "request-line.method"},
    {"method with '('", IN("GE(T / HTTP/1.1\r\n" HOST "\r\n"), MAL, "(", 0, "request-line.method"},
    {"method with high byte", IN("G\xc3\xa9T / HTTP/1.1\r\n" HOST "\r\n"), MAL, "\xc3", 0,
     "request-line.method"},
    {"method with tab", IN("GET\t/ HTTP/1.1\r\n" HOST "\r\n"), MAL, "\t", 0, "request-line.method"},
    {"method over limit", IN("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n" HOST "\r\n"), MAL, "Q", 0,
     "request-line.method"},
    {"method over limit, cut short", IN("ABCDEFGHIJKLMNOPQRS"), MAL, "Q", 0, "request-line.method"},
    {"double space", IN("GET  / HTTP/1.1\r\n" HOST "\r\n"), MAL, " /", 0, "request-line.target"},
    {"absolute form", IN("GET http://a/ HTTP/1.1\r\n" HOST "\r\n"), MAL, "http:", 0,
     "request-line.target"},
    {"asterisk form", IN("OPTIONS * HTTP/1.1\r\n" HOST "\r\n"), MAL, "*", 0, "request-line.target"},
    {"space inside target", IN("GET /a b HTTP/1.1\r\n" HOST "\r\n"), MAL, "b HTTP", 0,
     "request-line.version"},
    {"control byte in target",
     IN("GET /a\x01"
        "b HTTP/1.1\r\n" HOST "\r\n"),
     MAL, "\x01", 0, "request-line.target"},
    {"DEL in target", IN("GET /a\x7f HTTP/1.1\r\n" HOST "\r\n"), MAL, "\x7f", 0,
     "request-line.target"},
    {"raw UTF-8 in target", IN("GET /\xc3\xa9 HTTP/1.1\r\n" HOST "\r\n"), MAL, "\xc3", 0,
     "request-line.target"},
    {"tab in target", IN("GET /a\tb HTTP/1.1\r\n" HOST "\r\n"), MAL, "\t", 0,
     "request-line.target"},
    {"NUL in target", IN("GET /a\0b HTTP/1.1\r\n" HOST "\r\n"), MAL, "/a", 2,
     "request-line.target"},
    {"no HTTP version", IN("GET /\r\n" HOST "\r\n"), MAL, "\r\n", 0, "request-line.target"},
    {"bare LF after target", IN("GET /\n" HOST "\r\n"), MAL, "\n", 0, "request-line.target"},
    {"empty version", IN("GET / \r\n" HOST "\r\n"), MAL, "\r\n", 0, "request-line.version"},
    {"HTTP/2.0", IN("GET / HTTP/2.0\r\n" HOST "\r\n"), MAL, "2.0", 0, "request-line.version"},
    {"HTTP/1.2", IN("GET / HTTP/1.2\r\n" HOST "\r\n"), MAL, "1.2", 2, "request-line.version"},
    {"lower-case version", IN("GET / http/1.1\r\n" HOST "\r\n"), MAL, "http", 0,
     "request-line.version"},
    {"HTTP/1.10", IN("GET / HTTP/1.10\r\n" HOST "\r\n"), MAL, "0\r\n", 0, "request-line"},
    {"space after version", IN("GET / HTTP/1.1 \r\n" HOST "\r\n"), MAL, " \r\n", 0, "request-line"},
    {"bare LF after version", IN("GET / HTTP/1.1\n" HOST "\r\n"), MAL, "\n", 0, "request-line"},
    {"CR without LF after version", IN("GET / HTTP/1.1\r" HOST "\r\n"), MAL, "\rHost", 1,
     "request-line"},

    /* Header lines. */
    {"obsolete folding (SP)", IN(RL HOST "X-A: b\r\n c\r\n\r\n"), MAL, " c", 0, "header.line"},
    {"obsolete folding (HTAB)", IN(RL HOST "X-A: b\r\n\tc\r\n\r\n"), MAL, "\tc", 0, "header.line"},
    {"whitespace before the first field", IN(RL " Host: a\r\n\r\n"), MAL, " Host", 0,
     "header.line"},
    {"space before colon", IN(RL "Host : a\r\n\r\n"), MAL, " :", 0, "header.name"},
    {"tab before colon", IN(RL HOST "X-A\t: b\r\n\r\n"), MAL, "\t:", 0, "header.name"},
    {"empty field name", IN(RL HOST ": b\r\n\r\n"), MAL, ": b", 0, "header.name"},
    {"'@' in field name", IN(RL HOST "X@Y: b\r\n\r\n"), MAL, "@", 0, "header.name"},
    {"high byte in field name", IN(RL HOST "X\xc3\xa9: b\r\n\r\n"), MAL, "\xc3", 0, "header.name"},
    {"field line without colon", IN(RL HOST "NoColon\r\n\r\n"), MAL, "\r\n\r\n", 0, "header.name"},
    {"NUL in field value", IN(RL HOST "X-A: a\0b\r\n\r\n"), MAL, "X-A: a", 6, "header.value"},
    {"SOH in field value",
     IN(RL HOST "X-A: a\x01"
                "b\r\n\r\n"),
     MAL, "\x01", 0, "header.value"},
    {"ESC in field value", IN(RL HOST "X-A: \x1b[0m\r\n\r\n"), MAL, "\x1b", 0, "header.value"},
    {"DEL in field value", IN(RL HOST "X-A: a\x7f\r\n\r\n"), MAL, "\x7f", 0, "header.value"},
    {"bare CR in field value", IN(RL HOST "X-A: a\rb\r\n\r\n"), MAL, "\rb", 1, "header.value"},
    {"bare LF ends a field line", IN(RL "Host: a\nX-A: b\r\n\r\n"), MAL, "\nX", 0, "header.value"},
    {"bare LF ends the header section", IN(RL HOST "\n"), MAL, "\r\n\n", 2, "header.line"},
    {"CR without LF ends the header section", IN(RL HOST "\rX"), MAL, "\rX", 1, "header.line"},

    /* Host (RFC 9112 section 3.2). */
    {"missing Host", IN(RL "X-A: b\r\n\r\n"), MAL, "\r\n\r\n", 2, "header.host"},
    {"missing Host, no headers", IN(RL "\r\n"), MAL, "\r\n\r\n", 2, "header.host"},
    {"missing Host in HTTP/1.0", IN("GET / HTTP/1.0\r\nX-A: b\r\n\r\n"), MAL, "\r\n\r\n", 2,
     "header.host"},
    {"repeated Host", IN(RL HOST "host: b\r\n\r\n"), MAL, "host", 0, "header.host"},
    {"repeated Host, same value", IN(RL HOST "Host: a\r\n\r\n"), MAL, "Host: a\r\n\r\n", 0,
     "header.host"},
    {"repeated Host in HTTP/1.0", IN("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n"), MAL, "HOST",
     0, "header.host"},

    /* Framing (RFC 9112 section 6). */
    {"Content-Length then Transfer-Encoding",
     IN("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), MAL,
     "Transfer-Encoding", 0, "header.transfer-encoding"},
    {"Transfer-Encoding then Content-Length",
     IN("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), MAL,
     "Content-Length", 0, "header.content-length"},
    {"repeated Content-Length, same value",
     IN(RL HOST "Content-Length: 0\r\ncontent-length: 0\r\n\r\n"), MAL, "content-length", 0,
     "header.content-length"},
    {"repeated Content-Length, other value",
     IN(RL HOST "Content-Length: 1\r\nCONTENT-LENGTH: 2\r\n\r\nab"), MAL, "CONTENT-LENGTH", 0,
     "header.content-length"},
    {"Content-Length letters", IN(RL HOST "Content-Length: abc\r\n\r\n"), MAL, "abc", 0,
     "header.content-length"},
    {"Content-Length negative", IN(RL HOST "Content-Length: -1\r\n\r\n"), MAL, "-1", 0,
     "header.content-length"},
    {"Content-Length with sign", IN(RL HOST "Content-Length: +5\r\n\r\nabcde"), MAL, "+5", 0,
     "header.content-length"},
    {"Content-Length hex", IN(RL HOST "Content-Length: 0x10\r\n\r\n"), MAL, "x10", 0,
     "header.content-length"},
    {"Content-Length decimal point", IN(RL HOST "Content-Length: 1.0\r\n\r\n"), MAL, ".0", 0,
     "header.content-length"},
    {"Content-Length list", IN(RL HOST "Content-Length: 1,1\r\n\r\na"), MAL, ",1", 0,
     "header.content-length"},
    {"Content-Length inner space", IN(RL HOST "Content-Length: 5 5\r\n\r\n"), MAL, "5 5", 1,
     "header.content-length"},
    {"Content-Length empty", IN(RL HOST "Content-Length:\r\n\r\n"), MAL, "Content-Length:", 15,
     "header.content-length"},
    {"Content-Length blank", IN(RL HOST "Content-Length:  \r\n\r\n"), MAL, "Content-Length:", 17,
     "header.content-length"},
    {"Transfer-Encoding gzip", IN(RL HOST "Transfer-Encoding: gzip\r\n\r\n"), MAL, "gzip", 0,
     "header.transfer-encoding"},
    {"Transfer-Encoding gzip, chunked", IN(RL HOST "Transfer-Encoding: gzip, chunked\r\n\r\n"), MAL,
     "gzip", 0, "header.transfer-encoding"},
    {"Transfer-Encoding chunked twice in one value",
     IN(RL HOST "Transfer-Encoding: chunked, chunked\r\n\r\n"), MAL, "chunked,", 0,
     "header.transfer-encoding"},
    {"Transfer-Encoding identity", IN(RL HOST "Transfer-Encoding: identity\r\n\r\n"), MAL,
     "identity", 0, "header.transfer-encoding"},
    {"Transfer-Encoding empty", IN(RL HOST "Transfer-Encoding: \r\n\r\n"), MAL,
     "Transfer-Encoding:", 19, "header.transfer-encoding"},
    {"repeated Transfer-Encoding",
     IN(RL HOST "Transfer-Encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"), MAL,
     "transfer-encoding", 0, "header.transfer-encoding"},
    {"Transfer-Encoding in HTTP/1.0",
     IN("POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), MAL,
     "Transfer-Encoding", 0, "header.transfer-encoding"},
    {"short Content-Length body", IN(RL HOST "Content-Length: 5\r\n\r\nabc"), REF_E_INCOMPLETE,
     NULL, 0, "body"},

    /* Chunked bodies (RFC 9112 section 7.1). */
    {"chunk size not hex", IN(CHUNK "zz\r\n\r\n"), MAL, "zz", 0, "body.chunk-size"},
    {"chunk size empty", IN(CHUNK "\r\n0\r\n\r\n"), MAL, "\r\n0\r\n", 0, "body.chunk-size"},
    {"chunk size with 0x", IN(CHUNK "0x5\r\nhello\r\n0\r\n\r\n"), MAL, "x5", 0, "body.chunk-ext"},
    {"chunk size negative", IN(CHUNK "-5\r\nhello\r\n0\r\n\r\n"), MAL, "-5", 0, "body.chunk-size"},
    {"space before chunk size", IN(CHUNK " 5\r\nhello\r\n0\r\n\r\n"), MAL, " 5", 0,
     "body.chunk-size"},
    {"space after chunk size", IN(CHUNK "5 \r\nhello\r\n0\r\n\r\n"), MAL, " \r\nhello", 1,
     "body.chunk-ext"},
    {"chunk extension without name", IN(CHUNK "5;\r\nhello\r\n0\r\n\r\n"), MAL, ";\r\n", 1,
     "body.chunk-ext"},
    {"chunk extension '=' without name", IN(CHUNK "5;=x\r\nhello\r\n0\r\n\r\n"), MAL, "=x", 0,
     "body.chunk-ext"},
    {"chunk extension without value", IN(CHUNK "5;a=\r\nhello\r\n0\r\n\r\n"), MAL, "=\r\n", 1,
     "body.chunk-ext"},
    {"chunk extension unterminated quote", IN(CHUNK "5;a=\"abc\r\nhello\r\n0\r\n\r\n"), MAL,
     "\"abc", 4, "body.chunk-ext"},
    {"chunk extension control byte in quote", IN(CHUNK "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"), MAL,
     "\x01", 0, "body.chunk-ext"},
    {"chunk extension escaped control byte", IN(CHUNK "5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n"), MAL,
     "\x01", 0, "body.chunk-ext"},
    {"chunk extension two values", IN(CHUNK "5;a=b c\r\nhello\r\n0\r\n\r\n"), MAL, "b c", 2,
     "body.chunk-ext"},
    {"chunk extension trailing space", IN(CHUNK "5;a \r\nhello\r\n0\r\n\r\n"), MAL, "a \r\n", 2,
     "body.chunk-ext"},
    {"bare LF after chunk size", IN(CHUNK "5\nhello\r\n0\r\n\r\n"), MAL, "5\n", 1,
     "body.chunk-ext"},
    {"CR without LF after chunk size", IN(CHUNK "5\rhello\r\n0\r\n\r\n"), MAL, "\rhello", 1,
     "body.chunk-size"},
    {"chunk data longer than its size", IN(CHUNK "3\r\nhello\r\n0\r\n\r\n"), MAL, "lo\r\n", 0,
     "body.chunk-data"},
    {"chunk data without CRLF", IN(CHUNK "5\r\nhello0\r\n\r\n"), MAL, "o0", 1, "body.chunk-data"},
    {"bare LF after chunk data", IN(CHUNK "5\r\nhello\n0\r\n\r\n"), MAL, "o\n0", 1,
     "body.chunk-data"},
    {"missing last chunk", IN(CHUNK "5\r\nhello\r\n"), REF_E_INCOMPLETE, NULL, 0,
     "body.chunk-size"},
    {"short chunk data", IN(CHUNK "5\r\nhel"), REF_E_INCOMPLETE, NULL, 0, "body.chunk-data"},
    {"trailer folding", IN(CHUNK "0\r\nX-T: a\r\n b\r\n\r\n"), MAL, " b", 0, "trailer.line"},
    {"Content-Length trailer", IN(CHUNK "0\r\nContent-Length: 5\r\n\r\n"), MAL, "Content-Length", 0,
     "trailer.name"},
    {"Transfer-Encoding trailer", IN(CHUNK "0\r\ntransfer-encoding: chunked\r\n\r\n"), MAL,
     "transfer-encoding", 0, "trailer.name"},
    {"Host trailer", IN(CHUNK "0\r\nhost: b\r\n\r\n"), MAL, "host", 0, "trailer.name"},
    {"trailer name with space", IN(CHUNK "0\r\nX Y: 1\r\n\r\n"), MAL, " Y", 0, "trailer.name"},
    {"trailer value with control byte", IN(CHUNK "0\r\nX: a\x01\r\n\r\n"), MAL, "\x01", 0,
     "trailer.value"},
    {"CR without LF ends the trailers", IN(CHUNK "0\r\n\rX"), MAL, "\rX", 1, "trailer.line"},
    {"bare LF ends the trailers", IN(CHUNK "0\r\n\n"), MAL, "0\r\n\n", 3, "trailer.line"},
    {"missing final CRLF", IN(CHUNK "0\r\nX: 1\r\n"), REF_E_INCOMPLETE, NULL, 0, "trailer.line"},

    /* Bytes after the request. */
    {"bytes after a request without body", IN(RL HOST "\r\nX"), MAL, "a\r\n\r\n", 5, "request"},
    {"CRLF after a request without body", IN(RL HOST "\r\n\r\n"), MAL, "a\r\n\r\n", 5, "request"},
    {"body longer than Content-Length", IN(RL HOST "Content-Length: 2\r\n\r\nabc"), MAL, "abc", 2,
     "request"},
    {"CRLF after a Content-Length body", IN(RL HOST "Content-Length: 2\r\n\r\nab\r\n"), MAL,
     "ab\r\n", 2, "request"},
    {"bytes after a chunked body", IN(CHUNK "0\r\n\r\nXYZ"), MAL, "XYZ", 0, "request"},
    {"second request", IN(RL HOST "\r\n" RL HOST "\r\n"), MAL, "\r\n\r\nGET", 4, "request"},
};

static void test_http_parse_rejects_malformed_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_rejects) / sizeof(s_rejects[0]); i++) {
        const struct reject_case *c = &s_rejects[i];
        size_t want_offset = c->at == NULL ? c->len : offset_of(c->input, c->len, c->at) + c->delta;
        struct result r;
        parse_bytes(&r, c->input, c->len);
        if (r.rc != c->code || r.err.offset != want_offset || strcmp(r.err.where, c->where) != 0) {
            print_error("case \"%s\"\n", c->name);
        }
        expect_error(&r, c->code, want_offset, c->where);

        /* The prefix entry point agrees, except that it accepts what follows a request. */
        size_t consumed = 0;
        struct ref_parse_error err;
        enum ref_status rc =
            ref_http_parse_request_prefix(r.in.s, &r.req, &r.body, &consumed, &err);
        if (strcmp(c->where, "request") == 0) {
            assert_int_equal(rc, REF_OK);
            assert_int_equal(consumed, want_offset);
        } else {
            assert_int_equal(rc, c->code);
            assert_int_equal(err.offset, want_offset);
            assert_string_equal(err.where, c->where);
        }
        result_free(&r);
    }
}

/* The reason sentences of a few errors, as a harness report would show them. */
static void test_http_parse_rejects_with_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *input;
        const char *reason;
    } cases[] = {
        {RL HOST "X-A: b\r\n c\r\n\r\n",
         "a field line starts with whitespace (obsolete line folding)"},
        {"GET / HTTP/1.1\nHost: a\n\n", "line ends in a bare LF instead of CRLF"},
        {RL HOST "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         "both Content-Length and Transfer-Encoding are present"},
        {RL "\r\n", "the request has no Host header"},
        {RL HOST "Host: b\r\n\r\n", "Host is repeated"},
        {RL HOST "\r\nX", "bytes follow the end of the request"},
        {"GET / HTTP/1.1\r\nHost", "the input ends before the request does"},
        {RL HOST "Transfer-Encoding: gzip\r\n\r\n", "the only transfer coding accepted is chunked"},
        {CHUNK "5 \r\nhello\r\n0\r\n\r\n", "whitespace before the end of the chunk-size line"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct result r;
        parse_cstr(&r, cases[i].input);
        assert_int_not_equal(r.rc, REF_OK);
        assert_string_equal(r.err.reason, cases[i].reason);
        result_free(&r);
    }
}

/* The reason sentence and where of each way a chunked body can be refused, as a harness
 * report would show them. */
static void test_http_parse_rejects_chunked_with_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *input;
        const char *where;
        const char *reason;
    } cases[] = {
        {CHUNK "zz\r\n", "body.chunk-size", "chunk size is not a hexadecimal number"},
        {CHUNK "\n", "body.chunk-size", "line ends in a bare LF instead of CRLF"},
        {CHUNK "5\n", "body.chunk-ext", "line ends in a bare LF instead of CRLF"},
        {CHUNK "5\rX", "body.chunk-size", "CR is not followed by LF"},
        {CHUNK "5", "body.chunk-size", "the input ends before the request does"},
        {CHUNK "5;", "body.chunk-ext", "the input ends before the request does"},
        {CHUNK "5\r", "body.chunk-size", "the input ends before the request does"},
        {CHUNK "5x\r\n", "body.chunk-ext", "expected ';' or CRLF in the chunk-size line"},
        {CHUNK "5;\r\n", "body.chunk-ext", "chunk extension name is missing"},
        {CHUNK "5;a=\r\n", "body.chunk-ext", "chunk extension value is missing"},
        {CHUNK "5;a=\"\x01\"\r\n", "body.chunk-ext",
         "quoted string is not closed or contains a control byte"},
        {CHUNK "5;a=\"\\\x01\"\r\n", "body.chunk-ext", "quoted-pair escapes a control byte"},
        {CHUNK "5;a\n", "body.chunk-ext", "line ends in a bare LF instead of CRLF"},
        {CHUNK "40001\r\n", "body.chunk-size", "chunked body is over 262144 bytes"},
        {CHUNK "5\r\nhel", "body.chunk-data", "the input ends before the request does"},
        {CHUNK "5\r\nhello", "body.chunk-data", "the input ends before the request does"},
        {CHUNK "5\r\nhello\r", "body.chunk-data", "the input ends before the request does"},
        {CHUNK "5\r\nhelloX", "body.chunk-data", "chunk data is not followed by CRLF"},
        {CHUNK "5\r\nhello\n", "body.chunk-data", "line ends in a bare LF instead of CRLF"},
        {CHUNK "5\r\nhello\rX", "body.chunk-data", "CR is not followed by LF"},
        {CHUNK "0\r\n", "trailer.line", "the input ends before the request does"},
        {CHUNK "0\r\nX: 1\r\n\n", "trailer.line", "line ends in a bare LF instead of CRLF"},
        {CHUNK "0\r\n\rX", "trailer.line", "CR is not followed by LF"},
        {CHUNK "0\r\n X: 1\r\n\r\n", "trailer.line",
         "a field line starts with whitespace (obsolete line folding)"},
        {CHUNK "0\r\nX : 1\r\n\r\n", "trailer.name", "whitespace between the field name and ':'"},
        {CHUNK "0\r\n: 1\r\n\r\n", "trailer.name", "field name is empty"},
        {CHUNK "0\r\nX\r\n\r\n", "trailer.name",
         "field name contains a byte that is not a token character"},
        {CHUNK "0\r\nX: \x01\r\n\r\n", "trailer.value", "field value contains a control byte"},
        {CHUNK "0\r\nX: 1\n", "trailer.value", "line ends in a bare LF instead of CRLF"},
        {CHUNK "0\r\nX: 1\rY", "trailer.value", "CR is not followed by LF"},
        {CHUNK "0\r\nHost: a\r\n\r\n", "trailer.name",
         "framing fields and Host are not allowed in the trailer section"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct result r;
        parse_cstr(&r, cases[i].input);
        if (r.rc == REF_OK || strcmp(r.err.where, cases[i].where) != 0 ||
            strcmp(r.err.reason, cases[i].reason) != 0) {
            print_error("case %zu\n", i);
            print_failure(&r);
        }
        assert_int_not_equal(r.rc, REF_OK);
        assert_string_equal(r.err.where, cases[i].where);
        assert_string_equal(r.err.reason, cases[i].reason);
        result_free(&r);
    }
}

/* The decoded data is appended before the CRLF after it is checked: a chunk that does not
 * fit the buffer is refused as such even when its CRLF is missing or wrong. */
static void test_http_parse_chunk_buffer_before_crlf(void **state)
{
    (void)state;
    static const char *inputs[] = {CHUNK "5\r\nhello", CHUNK "5\r\nhelloXY"};
    for (size_t i = 0; i < 2; i++) {
        struct input in = input_copy(inputs[i], strlen(inputs[i]));
        struct ref_http_request req;
        struct ref_parse_error err;
        uint8_t small[3];
        struct ref_buf fixed;
        ref_buf_init_fixed(&fixed, small, sizeof(small));
        assert_int_equal(ref_http_parse_request(in.s, &req, &fixed, &err), REF_E_BODY_TOO_LARGE);
        assert_int_equal(err.offset, sizeof(CHUNK) - 1 + 3);
        assert_string_equal(err.where, "body.chunk-data");
        assert_string_equal(err.reason, "the decoded body does not fit the body buffer");
        input_free(&in);
    }
}

/* Every single byte value in a target, a field name and a field value: accepted exactly
 * where the grammar allows it. */
static void test_http_parse_rejects_control_bytes(void **state)
{
    (void)state;
    for (unsigned b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        char raw[64];
        struct result r;

        int n =
            snprintf(raw, sizeof(raw), "GET /a%cb HTTP/1.1\r\nHost: h\r\n\r\n", c == 0 ? '?' : c);
        assert_true(n > 0);
        raw[6] = (char)c;
        parse_bytes(&r, raw, (size_t)n);
        bool target_ok = c >= 0x21 && c <= 0x7e;
        if (target_ok) {
            expect_ok(&r);
        } else if (c != ' ') {
            assert_int_equal(r.rc, REF_E_MALFORMED);
            assert_int_equal(r.err.offset, 6);
            assert_string_equal(r.err.where, "request-line.target");
        } else {
            assert_int_equal(r.rc, REF_E_MALFORMED); /* "b HTTP/1.1" is no version */
        }
        result_free(&r);

        n = snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: h\r\nX%cY: v\r\n\r\n", 'Z');
        raw[26] = (char)c;
        parse_bytes(&r, raw, (size_t)n);
        bool is_tchar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
        if (is_tchar) {
            expect_ok(&r);
        } else if (c == ':') {
            expect_ok(&r); /* "X" with value "Y: v" */
            expect_slice(r.req.headers[1].value, "Y: v");
        } else {
            assert_int_equal(r.rc, REF_E_MALFORMED);
            assert_int_equal(r.err.offset, 26);
            assert_string_equal(r.err.where, "header.name");
        }
        result_free(&r);

        n = snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: h\r\nX: a%cb\r\n\r\n", 'Z');
        raw[29] = (char)c;
        parse_bytes(&r, raw, (size_t)n);
        bool value_ok = c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
        if (value_ok) {
            expect_ok(&r);
            assert_int_equal(r.req.headers[1].value.len, 3);
            assert_int_equal(r.req.headers[1].value.ptr[1], c);
        } else {
            assert_int_equal(r.rc, REF_E_MALFORMED);
            assert_int_equal(r.err.offset, c == '\r' ? 30 : 29);
            assert_string_equal(r.err.where, "header.value");
        }
        result_free(&r);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Limits: each at the limit (accepted) and one over.                                   */

static void test_http_parse_limits_method_bytes(void **state)
{
    (void)state;
    struct ref_buf b;
    build_init(&b);
    put_n(&b, 'M', REF_MAX_METHOD_BYTES);
    put(&b, " / HTTP/1.1\r\nHost: h\r\n\r\n");
    struct result r;
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    assert_int_equal(r.req.method.len, REF_MAX_METHOD_BYTES);
    result_free(&r);

    ref_buf_reset(&b);
    put_n(&b, 'M', REF_MAX_METHOD_BYTES + 1);
    put(&b, " / HTTP/1.1\r\nHost: h\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_MALFORMED, REF_MAX_METHOD_BYTES, "request-line.method");
    result_free(&r);
    ref_buf_cleanup(&b);
}

static void test_http_parse_limits_target_bytes(void **state)
{
    (void)state;
    struct ref_buf b;
    build_init(&b);
    struct result r;

    /* At the limit. */
    put(&b, "GET /");
    put_n(&b, 'a', REF_MAX_TARGET_BYTES - 1);
    size_t cut = b.len;
    put(&b, " HTTP/1.1\r\nHost: h\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    assert_int_equal(r.req.target.len, REF_MAX_TARGET_BYTES);
    result_free(&r);
    /* ...and cut right after the target: it may still end there. */
    parse_bytes(&r, b.data, cut);
    expect_error(&r, REF_E_INCOMPLETE, cut, "request-line.target");
    result_free(&r);

    /* One over, with a query (the limit covers path and query). */
    ref_buf_reset(&b);
    put(&b, "GET /?");
    put_n(&b, 'q', REF_MAX_TARGET_BYTES - 1);
    cut = b.len;
    put(&b, " HTTP/1.1\r\nHost: h\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_TARGET_TOO_LONG, 4 + REF_MAX_TARGET_BYTES, "request-line.target");
    result_free(&r);
    /* ...reported as soon as the prefix passes the limit, not as incomplete. */
    parse_bytes(&r, b.data, cut);
    expect_error(&r, REF_E_TARGET_TOO_LONG, 4 + REF_MAX_TARGET_BYTES, "request-line.target");
    result_free(&r);
    ref_buf_cleanup(&b);
}

static void test_http_parse_limits_header_count(void **state)
{
    (void)state;
    struct ref_buf b;
    build_init(&b);
    struct result r;

    put(&b, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (size_t i = 1; i < REF_MAX_HEADERS; i++) {
        assert_int_equal(ref_buf_appendf(&b, "X-%zu: %zu\r\n", i, i), REF_OK);
    }
    size_t last_line = b.len;
    put(&b, "\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    assert_int_equal(r.req.num_headers, REF_MAX_HEADERS);
    expect_slice(r.req.headers[REF_MAX_HEADERS - 1].name, "X-63");
    result_free(&r);

    b.len = last_line;
    put(&b, "X-Over: 1\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_HEADERS_TOO_LARGE, last_line, "header");
    assert_string_equal(r.err.reason, "more than 64 header fields");
    result_free(&r);
    /* Also when the extra line has only begun. */
    parse_bytes(&r, b.data, last_line + 1);
    expect_error(&r, REF_E_HEADERS_TOO_LARGE, last_line, "header");
    result_free(&r);
    ref_buf_cleanup(&b);
}

/* The header section is counted from its first byte through the CRLF of its last field
 * line (the empty line that ends it is not counted). */
static void test_http_parse_limits_header_bytes(void **state)
{
    (void)state;
    struct ref_buf b;
    build_init(&b);
    struct result r;
    static const char rl[] = "GET / HTTP/1.1\r\n";
    size_t hs = sizeof(rl) - 1;
    /* "Host: h\r\n" (9) + "X-Pad: " (7) + pad + "\r\n" (2) */
    size_t pad = REF_MAX_HEADER_BYTES - 18;

    put(&b, rl);
    put(&b, "Host: h\r\nX-Pad: ");
    put_n(&b, 'p', pad);
    size_t value_end = b.len;
    put(&b, "\r\n\r\n");
    assert_int_equal(b.len - 2 - hs, REF_MAX_HEADER_BYTES);
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    assert_int_equal(r.req.headers[1].value.len, pad);
    result_free(&r);
    parse_bytes(&r, b.data, value_end);
    expect_error(&r, REF_E_INCOMPLETE, value_end, "header.value");
    result_free(&r);

    ref_buf_reset(&b);
    put(&b, rl);
    put(&b, "Host: h\r\nX-Pad: ");
    put_n(&b, 'p', pad + 1);
    value_end = b.len;
    put(&b, "\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_HEADERS_TOO_LARGE, hs + REF_MAX_HEADER_BYTES - 2, "header");
    result_free(&r);
    /* Cut short but already over: the limit, not incomplete. */
    parse_bytes(&r, b.data, value_end);
    expect_error(&r, REF_E_HEADERS_TOO_LARGE, hs + REF_MAX_HEADER_BYTES - 2, "header");
    result_free(&r);

    /* Many lines adding up: the line that crosses the limit is refused where it does.
     * (Long values keep the line count under REF_MAX_HEADERS.) */
    ref_buf_reset(&b);
    put(&b, rl);
    put(&b, "Host: h\r\n");
    while (b.len - hs < REF_MAX_HEADER_BYTES) {
        put(&b, "X-Long-Header-Name: ");
        put_n(&b, 'v', 400);
        put(&b, "\r\n");
    }
    put(&b, "\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_HEADERS_TOO_LARGE, hs + REF_MAX_HEADER_BYTES - 2, "header");
    result_free(&r);
    ref_buf_cleanup(&b);
}

static void test_http_parse_limits_content_length(void **state)
{
    (void)state;
    struct ref_buf b;
    build_init(&b);
    struct result r;

    assert_int_equal(ref_buf_appendf(&b, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n",
                                     REF_MAX_BODY_BYTES),
                     REF_OK);
    put_n(&b, 'b', REF_MAX_BODY_BYTES);
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    assert_int_equal(r.req.body.len, REF_MAX_BODY_BYTES);
    result_free(&r);

    /* One over: refused from the header alone, body or no body. */
    static const char over[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 262145\r\n\r\n";
    assert_int_equal(REF_MAX_BODY_BYTES, 262144);
    size_t at = offset_of(over, sizeof(over) - 1, "262145") + 5;
    parse_bytes(&r, over, sizeof(over) - 1);
    expect_error(&r, REF_E_BODY_TOO_LARGE, at, "header.content-length");
    result_free(&r);
    /* (A field line is judged once it is complete: cut after its CRLF.) */
    parse_bytes(&r, over, at + 3);
    expect_error(&r, REF_E_BODY_TOO_LARGE, at, "header.content-length");
    result_free(&r);

    /* Far over: no overflow, same answer. */
    static const char huge[] =
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n";
    parse_bytes(&r, huge, sizeof(huge) - 1);
    expect_error(&r, REF_E_BODY_TOO_LARGE, offset_of(huge, sizeof(huge) - 1, "999999") + 5,
                 "header.content-length");
    result_free(&r);

    /* Leading zeros do not count against the limit. */
    ref_buf_reset(&b);
    assert_int_equal(
        ref_buf_appendf(&b, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0000000%d\r\n\r\n",
                        REF_MAX_BODY_BYTES),
        REF_OK);
    put_n(&b, 'b', REF_MAX_BODY_BYTES);
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    result_free(&r);
    ref_buf_cleanup(&b);
}

static void test_http_parse_limits_chunked_body(void **state)
{
    (void)state;
    struct ref_buf b;
    build_init(&b);
    struct result r;

    /* Exactly the limit in two chunks. */
    put(&b, CHUNK "20000\r\n");
    put_n(&b, 'x', 0x20000);
    put(&b, "\r\n20000;e=1\r\n");
    put_n(&b, 'y', 0x20000);
    put(&b, "\r\n0\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    assert_int_equal(r.req.body.len, REF_MAX_BODY_BYTES);
    assert_int_equal(r.req.body.ptr[0x1ffff], 'x');
    assert_int_equal(r.req.body.ptr[0x20000], 'y');
    result_free(&r);

    /* One over: the size line that passes the limit is refused at its last digit,
     * before any of its data. */
    ref_buf_reset(&b);
    put(&b, CHUNK "20000\r\n");
    put_n(&b, 'x', 0x20000);
    put(&b, "\r\n");
    size_t second = b.len;
    put(&b, "20001\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_BODY_TOO_LARGE, second + 4, "body.chunk-size");
    result_free(&r);

    /* One chunk over the limit on its own. */
    static const char one[] = CHUNK "40001\r\n";
    parse_bytes(&r, one, sizeof(one) - 1);
    expect_error(&r, REF_E_BODY_TOO_LARGE, sizeof(CHUNK) - 1 + 4, "body.chunk-size");
    result_free(&r);

    /* A size that would overflow 64 bits is refused at the digit that passes the limit. */
    static const char wide[] = CHUNK "ffffffffffffffffffffffff\r\n";
    parse_bytes(&r, wide, sizeof(wide) - 1);
    expect_error(&r, REF_E_BODY_TOO_LARGE, sizeof(CHUNK) - 1 + 4, "body.chunk-size");
    result_free(&r);
    ref_buf_cleanup(&b);
}

/* The chunk-size line is counted without its CRLF, extensions included. */
static void test_http_parse_limits_chunk_line(void **state)
{
    (void)state;
    struct ref_buf b;
    build_init(&b);
    struct result r;
    size_t ls = sizeof(CHUNK) - 1;

    put(&b, CHUNK "1;");
    put_n(&b, 'e', REF_MAX_CHUNK_LINE_BYTES - 2);
    put(&b, "\r\nz\r\n0\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    expect_slice(r.req.body, "z");
    result_free(&r);

    ref_buf_reset(&b);
    put(&b, CHUNK "1;");
    put_n(&b, 'e', REF_MAX_CHUNK_LINE_BYTES - 1);
    size_t cut = b.len;
    put(&b, "\r\nz\r\n0\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_BODY_TOO_LARGE, ls + REF_MAX_CHUNK_LINE_BYTES, "body.chunk-size");
    assert_string_equal(r.err.reason, "chunk-size line is longer than 256 bytes");
    result_free(&r);
    parse_bytes(&r, b.data, cut);
    expect_error(&r, REF_E_BODY_TOO_LARGE, ls + REF_MAX_CHUNK_LINE_BYTES, "body.chunk-size");
    result_free(&r);

    /* Leading zeros count too: at the limit they are fine, one more is not. */
    ref_buf_reset(&b);
    put(&b, CHUNK);
    put_n(&b, '0', REF_MAX_CHUNK_LINE_BYTES - 1);
    put(&b, "1\r\nz\r\n");
    put_n(&b, '0', REF_MAX_CHUNK_LINE_BYTES);
    put(&b, "\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    expect_slice(r.req.body, "z");
    result_free(&r);

    ref_buf_reset(&b);
    put(&b, CHUNK);
    put_n(&b, '0', REF_MAX_CHUNK_LINE_BYTES + 1);
    put(&b, "\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_BODY_TOO_LARGE, ls + REF_MAX_CHUNK_LINE_BYTES, "body.chunk-size");
    result_free(&r);

    /* A quoted extension value does not hide the limit. */
    ref_buf_reset(&b);
    put(&b, CHUNK "1;e=\"");
    put_n(&b, 'q', REF_MAX_CHUNK_LINE_BYTES);
    put(&b, "\"\r\nz\r\n0\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_BODY_TOO_LARGE, ls + REF_MAX_CHUNK_LINE_BYTES, "body.chunk-size");
    result_free(&r);
    ref_buf_cleanup(&b);
}

/* The trailer section has the header section's limits, counted on its own. */
static void test_http_parse_limits_trailers(void **state)
{
    (void)state;
    struct ref_buf b;
    build_init(&b);
    struct result r;

    put(&b, CHUNK "0\r\n");
    for (size_t i = 0; i < REF_MAX_HEADERS; i++) {
        assert_int_equal(ref_buf_appendf(&b, "T-%zu: %zu\r\n", i, i), REF_OK);
    }
    size_t last_line = b.len;
    put(&b, "\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    assert_int_equal(r.req.num_headers, 2);
    result_free(&r);

    b.len = last_line;
    put(&b, "T-Over: 1\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_HEADERS_TOO_LARGE, last_line, "trailer");
    result_free(&r);

    ref_buf_reset(&b);
    put(&b, CHUNK "0\r\n");
    size_t ts = b.len;
    put(&b, "T: ");
    put_n(&b, 't', REF_MAX_HEADER_BYTES - 5);
    put(&b, "\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_ok(&r);
    result_free(&r);

    ref_buf_reset(&b);
    put(&b, CHUNK "0\r\n");
    put(&b, "T: ");
    put_n(&b, 't', REF_MAX_HEADER_BYTES - 4);
    put(&b, "\r\n\r\n");
    parse_bytes(&r, b.data, b.len);
    expect_error(&r, REF_E_HEADERS_TOO_LARGE, ts + REF_MAX_HEADER_BYTES - 2, "trailer");
    result_free(&r);
    ref_buf_cleanup(&b);
}

/* ------------------------------------------------------------------------------------ */
/* The head alone: ref_http_parse_head.                                                 */

struct head_result {
    struct input in;
    struct ref_http_request req;
    struct ref_parse_error err;
    size_t head_len;
    enum ref_status rc;
};

static void print_head_failure(const struct head_result *h)
{
    char text[1024];
    ref_parse_error_format(&h->err, h->in.s.ptr, h->in.s.len, text, sizeof(text));
    print_error("%s: %s\n", ref_status_name(h->rc), text);
}

/* Parses a private copy of the bytes with ref_http_parse_head and checks what must hold
 * after any call: a failure fills err (REF_E_INCOMPLETE at the end of the input); a
 * success ends the head with the empty line, keeps every slice inside the head and leaves
 * the body empty. */
static void parse_head_bytes(struct head_result *h, const void *bytes, size_t len)
{
    h->in = input_copy(bytes, len);
    /* Values a call that fills err and head_len cannot leave behind. */
    h->err = (struct ref_parse_error){.code = REF_OK, .offset = SIZE_MAX};
    h->head_len = SIZE_MAX;
    h->rc = ref_http_parse_head(h->in.s, &h->req, &h->head_len, &h->err);
    if (h->rc != REF_OK) {
        assert_int_equal(h->err.code, h->rc);
        assert_true(h->err.offset <= len);
        assert_non_null(h->err.where);
        assert_non_null(h->err.reason);
        assert_true(h->err.where[0] != '\0');
        assert_true(h->err.reason[0] != '\0');
        if (h->rc == REF_E_INCOMPLETE) {
            assert_int_equal(h->err.offset, len);
        }
        return;
    }
    assert_true(h->head_len >= 4 && h->head_len <= len);
    assert_memory_equal(h->in.s.ptr + h->head_len - 4, "\r\n\r\n", 4);
    const uint8_t *lo = h->in.s.ptr;
    const uint8_t *hi = h->in.s.ptr + h->head_len;
    const struct ref_http_request *q = &h->req;
    const struct ref_slice inside[] = {q->method, q->target, q->path, q->query, q->version};
    for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
        assert_true(inside[i].ptr >= lo && inside[i].ptr + inside[i].len <= hi);
    }
    assert_true(q->num_headers >= 1 && q->num_headers <= REF_MAX_HEADERS);
    for (size_t i = 0; i < q->num_headers; i++) {
        assert_true(q->headers[i].name.len > 0);
        assert_true(q->headers[i].name.ptr >= lo &&
                    q->headers[i].name.ptr + q->headers[i].name.len <= hi);
        assert_true(q->headers[i].value.ptr >= lo &&
                    q->headers[i].value.ptr + q->headers[i].value.len <= hi);
    }
    assert_int_equal(q->body.len, 0);
}

static void expect_head_ok(const struct head_result *h)
{
    if (h->rc != REF_OK) {
        print_head_failure(h);
    }
    assert_int_equal(h->rc, REF_OK);
}

/* Both parses borrow from the same input, so the request line and the headers must be
 * the very same slices, not just equal bytes. */
static void expect_same_head(const struct ref_http_request *a, const struct ref_http_request *b)
{
    const struct ref_slice left[] = {a->method, a->target, a->path, a->query, a->version};
    const struct ref_slice right[] = {b->method, b->target, b->path, b->query, b->version};
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
        assert_ptr_equal(left[i].ptr, right[i].ptr);
        assert_int_equal(left[i].len, right[i].len);
    }
    assert_int_equal(a->has_query, b->has_query);
    assert_int_equal(a->num_headers, b->num_headers);
    for (size_t i = 0; i < a->num_headers; i++) {
        assert_ptr_equal(a->headers[i].name.ptr, b->headers[i].name.ptr);
        assert_int_equal(a->headers[i].name.len, b->headers[i].name.len);
        assert_ptr_equal(a->headers[i].value.ptr, b->headers[i].value.ptr);
        assert_int_equal(a->headers[i].value.len, b->headers[i].value.len);
    }
}

/* Runs ref_http_parse_request on the same bytes and returns its status. Where the head
 * fails, the request fails the same way (status, offset, where and reason); where the head
 * passes, the request agrees on the head, or refuses something at or past its end. */
static enum ref_status check_head_against_request(const struct head_result *h)
{
    struct ref_http_request req;
    struct ref_buf body;
    ref_buf_init(&body, REF_MAX_BODY_BYTES);
    struct ref_parse_error err = {.code = REF_OK, .offset = SIZE_MAX};
    enum ref_status rc = ref_http_parse_request(h->in.s, &req, &body, &err);
    if (h->rc != REF_OK) {
        if (rc != h->rc || err.offset != h->err.offset) {
            print_error("the head and the request disagree\n");
            print_head_failure(h);
        }
        assert_int_equal(rc, h->rc);
        assert_int_equal(err.offset, h->err.offset);
        assert_string_equal(err.where, h->err.where);
        assert_string_equal(err.reason, h->err.reason);
    } else if (rc == REF_OK) {
        expect_same_head(&h->req, &req);
        assert_int_equal(h->req.is_chunked, req.is_chunked);
    } else {
        assert_true(err.offset >= h->head_len);
    }
    ref_buf_cleanup(&body);
    return rc;
}

/* Every strict prefix of the bytes gets from the head parser what the request parser says
 * of that prefix, and never REF_OK (no prefix holds a whole head). When `is_valid_head`
 * the bytes are exactly an accepted head, so every prefix is REF_E_INCOMPLETE. */
static void check_head_cuts(const void *bytes, size_t len, bool is_valid_head)
{
    for (size_t n = 0; n < len; n++) {
        struct head_result h;
        parse_head_bytes(&h, bytes, n);
        if (h.rc == REF_OK || (is_valid_head && h.rc != REF_E_INCOMPLETE)) {
            print_error("head cut to %zu of %zu bytes:\n", n, len);
            print_head_failure(&h);
        }
        assert_int_not_equal(h.rc, REF_OK);
        if (is_valid_head) {
            assert_int_equal(h.rc, REF_E_INCOMPLETE);
            assert_int_equal(h.err.offset, n);
        }
        (void)check_head_against_request(&h);
        input_free(&h.in);
    }
}

static void test_http_parse_head_reads_complete_head(void **state)
{
    (void)state;
    static const char raw[] = "DELETE /2012-09-25/jobs/1111111111111-abcdef?x=1 HTTP/1.1\r\n"
                              "Host: example.com\r\n"
                              "X-Amz-Date: \t20261128T124533Z \r\n"
                              "x-rep:1\r\n"
                              "\r\n";
    struct head_result h;
    parse_head_bytes(&h, raw, sizeof(raw) - 1);
    expect_head_ok(&h);
    assert_int_equal(h.head_len, sizeof(raw) - 1);
    expect_slice(h.req.method, "DELETE");
    expect_slice(h.req.target, "/2012-09-25/jobs/1111111111111-abcdef?x=1");
    expect_slice(h.req.path, "/2012-09-25/jobs/1111111111111-abcdef");
    expect_slice(h.req.query, "x=1");
    assert_true(h.req.has_query);
    expect_slice(h.req.version, "HTTP/1.1");
    assert_int_equal(h.req.num_headers, 3);
    expect_slice(h.req.headers[0].name, "Host");
    expect_slice(h.req.headers[0].value, "example.com");
    expect_slice(h.req.headers[1].name, "X-Amz-Date");
    expect_slice(h.req.headers[1].value, "20261128T124533Z");
    expect_slice(h.req.headers[2].name, "x-rep");
    expect_slice(h.req.headers[2].value, "1");
    assert_false(h.req.is_chunked);
    assert_int_equal(h.req.body.len, 0);
    assert_int_equal(check_head_against_request(&h), REF_OK);
    input_free(&h.in);

    static const char http10[] = "GET /x HTTP/1.0\r\nhost: h\r\n\r\n";
    parse_head_bytes(&h, http10, sizeof(http10) - 1);
    expect_head_ok(&h);
    assert_int_equal(h.head_len, sizeof(http10) - 1);
    expect_slice(h.req.version, "HTTP/1.0");
    expect_slice(h.req.path, "/x");
    assert_false(h.req.has_query);
    assert_int_equal(h.req.num_headers, 1);
    assert_int_equal(check_head_against_request(&h), REF_OK);
    input_free(&h.in);

    /* err may be NULL, as for the other entry points. */
    struct input in = input_copy(RL "\r\n", sizeof(RL "\r\n") - 1);
    struct ref_http_request req;
    size_t head_len = 0;
    assert_int_equal(ref_http_parse_head(in.s, &req, &head_len, NULL), REF_E_MALFORMED);
    input_free(&in);
}

#define CL_HEAD "POST /2012-09-25/jobs HTTP/1.1\r\nHost: h\r\nContent-Length: 19\r\n\r\n"

/* The head ends at the empty line whatever follows it: the answer is the same for no
 * body, part of one, bytes no parser would take, the whole body and more than it, while
 * ref_http_parse_request answers each differently. */
static void test_http_parse_head_stops_before_content_length_body(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *input;
        size_t len;
        enum ref_status whole; /* ref_http_parse_request on the same bytes */
    } cases[] = {
        {"no body yet", IN(CL_HEAD), REF_E_INCOMPLETE},
        {"part of the body", IN(CL_HEAD "{\"Status\":"), REF_E_INCOMPLETE},
        {"bytes that are no request", IN(CL_HEAD "\n\0 \r\n\r\n\x01\xff"), REF_E_INCOMPLETE},
        {"the whole body", IN(CL_HEAD "{\"Status\":\"Paused\"}"), REF_OK},
        {"more than the body", IN(CL_HEAD "{\"Status\":\"Paused\"}GET / HTTP/1.1\r\n"),
         REF_E_MALFORMED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct head_result h;
        parse_head_bytes(&h, cases[i].input, cases[i].len);
        if (h.rc != REF_OK) {
            print_error("case \"%s\"\n", cases[i].name);
        }
        expect_head_ok(&h);
        assert_int_equal(h.head_len, sizeof(CL_HEAD) - 1);
        expect_slice(h.req.method, "POST");
        expect_slice(h.req.target, "/2012-09-25/jobs");
        assert_int_equal(h.req.num_headers, 2);
        expect_slice(h.req.headers[1].name, "Content-Length");
        expect_slice(h.req.headers[1].value, "19");
        assert_false(h.req.is_chunked);
        assert_int_equal(h.req.body.len, 0);
        assert_int_equal(check_head_against_request(&h), cases[i].whole);
        input_free(&h.in);
    }

    /* A request struct that held a chunked body before comes back with none. */
    static const char chunked[] = CHUNK "3\r\nabc\r\n0\r\n\r\n";
    struct input in = input_copy(chunked, sizeof(chunked) - 1);
    struct ref_http_request req;
    struct ref_buf body;
    ref_buf_init(&body, REF_MAX_BODY_BYTES);
    struct ref_parse_error err;
    assert_int_equal(ref_http_parse_request(in.s, &req, &body, &err), REF_OK);
    assert_true(req.is_chunked);
    assert_int_equal(req.body.len, 3);
    input_free(&in);
    in = input_copy(CL_HEAD "{", sizeof(CL_HEAD "{") - 1);
    size_t head_len = 0;
    assert_int_equal(ref_http_parse_head(in.s, &req, &head_len, &err), REF_OK);
    assert_int_equal(head_len, sizeof(CL_HEAD) - 1);
    assert_false(req.is_chunked);
    assert_int_equal(req.body.len, 0);
    assert_int_equal(req.num_headers, 2);
    ref_buf_cleanup(&body);
    input_free(&in);
}

/* A chunked head says so and stops there: the chunks, good, bad or missing, are the
 * request parser's business. */
static void test_http_parse_head_does_not_decode_chunked_body(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *input;
        size_t len;
        enum ref_status whole;
        const char *whole_where;
    } cases[] = {
        {"no chunk yet", IN(CHUNK), REF_E_INCOMPLETE, "body.chunk-size"},
        {"garbage for a chunk size", IN(CHUNK "zz not a chunk\r\n\x01\xff"), REF_E_MALFORMED,
         "body.chunk-size"},
        {"a chunk over the body limit", IN(CHUNK "ffffffffff\r\n"), REF_E_BODY_TOO_LARGE,
         "body.chunk-size"},
        {"chunk data cut short", IN(CHUNK "5\r\nhel"), REF_E_INCOMPLETE, "body.chunk-data"},
        {"chunk data without CRLF", IN(CHUNK "2\r\nxyz\r\n0\r\n\r\n"), REF_E_MALFORMED,
         "body.chunk-data"},
        {"Host in the trailers", IN(CHUNK "0\r\nHost: b\r\n\r\n"), REF_E_MALFORMED, "trailer.name"},
        {"a whole chunked body", IN(CHUNK "1\r\nx\r\n0\r\n\r\n"), REF_OK, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct head_result h;
        parse_head_bytes(&h, cases[i].input, cases[i].len);
        if (h.rc != REF_OK) {
            print_error("case \"%s\"\n", cases[i].name);
        }
        expect_head_ok(&h);
        assert_int_equal(h.head_len, sizeof(CHUNK) - 1);
        assert_true(h.req.is_chunked);
        assert_int_equal(h.req.body.len, 0);
        assert_int_equal(h.req.num_headers, 2);
        expect_slice(h.req.headers[1].value, "chunked");
        assert_int_equal(check_head_against_request(&h), cases[i].whole);

        /* The request parser does look at the body, and finds what the head did not. */
        struct result r;
        parse_bytes(&r, cases[i].input, cases[i].len);
        assert_int_equal(r.rc, cases[i].whole);
        if (cases[i].whole != REF_OK) {
            assert_string_equal(r.err.where, cases[i].whole_where);
            assert_true(r.err.offset >= h.head_len);
        }
        result_free(&r);
        input_free(&h.in);
    }

    /* The coding is matched without regard to case, as the request parser matches it. */
    static const char mixed[] =
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  ChUnKeD \r\n\r\n";
    struct head_result h;
    parse_head_bytes(&h, mixed, sizeof(mixed) - 1);
    expect_head_ok(&h);
    assert_true(h.req.is_chunked);
    assert_int_equal(check_head_against_request(&h), REF_E_INCOMPLETE);
    input_free(&h.in);
}

struct head_fault {
    const char *name;
    const char *input;
    size_t len;
    enum ref_status code;
    const char *at; /* the offset is where this first occurs, plus delta */
    size_t delta;
    const char *where;
};

#define POST "POST / HTTP/1.1\r\n"

static const struct head_fault s_head_faults[] = {
    {"obsolete folding", IN(RL HOST "X-A: b\r\n c\r\n\r\n"), MAL, " c", 0, "header.line"},
    {"obsolete folding before a body", IN(POST HOST "Content-Length: 3\r\n\tx\r\n\r\nabc"), MAL,
     "\tx", 0, "header.line"},
    {"bare LF after the request line", IN("GET / HTTP/1.1\nHost: a\n\n"), MAL, "\n", 0,
     "request-line"},
    {"bare LF ends a field line", IN(RL "Host: a\nX-A: b\r\n\r\n"), MAL, "\nX", 0, "header.value"},
    {"bare LF ends the head", IN(RL HOST "\nbody"), MAL, "\r\n\nbody", 2, "header.line"},
    {"missing Host", IN(RL "X-A: b\r\n\r\n"), MAL, "\r\n\r\n", 2, "header.host"},
    {"missing Host before a body", IN(POST "Content-Length: 3\r\n\r\nabc"), MAL, "\r\n\r\n", 2,
     "header.host"},
    {"repeated Host", IN(RL HOST "host: b\r\n\r\n"), MAL, "host", 0, "header.host"},
    {"two Content-Lengths", IN(POST HOST "Content-Length: 1\r\ncontent-length: 1\r\n\r\nx"), MAL,
     "content-length", 0, "header.content-length"},
    {"Content-Length then Transfer-Encoding",
     IN(POST HOST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), MAL,
     "Transfer-Encoding", 0, "header.transfer-encoding"},
    {"Transfer-Encoding then Content-Length",
     IN(POST HOST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"), MAL,
     "Content-Length", 0, "header.content-length"},
    {"non-numeric Content-Length", IN(POST HOST "Content-Length: 1x2\r\n\r\nx"), MAL, "x2", 0,
     "header.content-length"},
    {"Content-Length with a sign", IN(POST HOST "Content-Length: +1\r\n\r\nx"), MAL, "+1", 0,
     "header.content-length"},
    {"empty Content-Length", IN(POST HOST "Content-Length:\r\n\r\n"), MAL, "Content-Length:", 15,
     "header.content-length"},
    {"Transfer-Encoding gzip", IN(POST HOST "Transfer-Encoding: gzip\r\n\r\n"), MAL, "gzip", 0,
     "header.transfer-encoding"},
    {"Transfer-Encoding in HTTP/1.0",
     IN("POST / HTTP/1.0\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), MAL,
     "Transfer-Encoding", 0, "header.transfer-encoding"},
    {"NUL in a field value", IN(RL HOST "X-A: a\0b\r\n\r\n"), MAL, "X-A: a", 6, "header.value"},
    {"ESC in a field value", IN(RL HOST "X-A: \x1b[0m\r\n\r\n"), MAL, "\x1b", 0, "header.value"},
    {"space before the colon", IN(RL "Host : a\r\n\r\n"), MAL, " :", 0, "header.name"},
    {"absolute-form target", IN("GET http://a/ HTTP/1.1\r\n" HOST "\r\n"), MAL, "http:", 0,
     "request-line.target"},
    {"HTTP/2.0", IN("GET / HTTP/2.0\r\n" HOST "\r\n"), MAL, "2.0", 0, "request-line.version"},
    {"method over its limit", IN("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n" HOST "\r\n"), MAL, "Q", 0,
     "request-line.method"},
};

/* One faulty head: the expected status, offset and where, the request parser's answer on
 * the same bytes, and its every prefix against the request parser's. */
static void check_head_fault(const char *name,
                             const void *bytes,
                             size_t len,
                             enum ref_status code,
                             size_t offset,
                             const char *where)
{
    struct head_result h;
    parse_head_bytes(&h, bytes, len);
    if (h.rc != code || h.err.offset != offset || strcmp(h.err.where, where) != 0) {
        print_error("case \"%s\": want %s at %zu in %s\n", name, ref_status_name(code), offset,
                    where);
        print_head_failure(&h);
    }
    assert_int_equal(h.rc, code);
    assert_int_equal(h.err.offset, offset);
    assert_string_equal(h.err.where, where);
    assert_int_equal(check_head_against_request(&h), code);
    input_free(&h.in);
    check_head_cuts(bytes, len, false);
}

static void test_http_parse_head_reports_head_faults(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_head_faults) / sizeof(s_head_faults[0]); i++) {
        const struct head_fault *c = &s_head_faults[i];
        check_head_fault(c->name, c->input, c->len, c->code,
                         offset_of(c->input, c->len, c->at) + c->delta, c->where);
    }

    struct ref_buf b;
    build_init(&b);

    put(&b, "GET /");
    put_n(&b, 'a', REF_MAX_TARGET_BYTES);
    put(&b, " HTTP/1.1\r\nHost: h\r\n\r\n");
    check_head_fault("target over its limit", b.data, b.len, REF_E_TARGET_TOO_LONG,
                     4 + REF_MAX_TARGET_BYTES, "request-line.target");

    ref_buf_reset(&b);
    put(&b, RL "Host: h\r\n");
    for (size_t i = 1; i < REF_MAX_HEADERS; i++) {
        assert_int_equal(ref_buf_appendf(&b, "X-%zu: %zu\r\n", i, i), REF_OK);
    }
    size_t extra_line = b.len;
    put(&b, "X-Over: 1\r\n\r\n");
    check_head_fault("too many headers", b.data, b.len, REF_E_HEADERS_TOO_LARGE, extra_line,
                     "header");

    /* "Host: h\r\n" (9) + "X-Pad: " (7) + pad + "\r\n" (2) is one byte over. */
    ref_buf_reset(&b);
    put(&b, RL "Host: h\r\nX-Pad: ");
    put_n(&b, 'p', REF_MAX_HEADER_BYTES - 18 + 1);
    put(&b, "\r\n\r\n");
    check_head_fault("header section over its limit", b.data, b.len, REF_E_HEADERS_TOO_LARGE,
                     sizeof(RL) - 1 + REF_MAX_HEADER_BYTES - 2, "header");

    /* Refused at the digit that passes the limit, from the head alone. */
    char digits[32];
    int nd = snprintf(digits, sizeof(digits), "%d", REF_MAX_BODY_BYTES + 1);
    assert_true(nd > 0 && (size_t)nd < sizeof(digits));
    ref_buf_reset(&b);
    put(&b, POST HOST "Content-Length: ");
    size_t value_at = b.len;
    put(&b, digits);
    put(&b, "\r\n\r\n");
    check_head_fault("Content-Length one over the body limit", b.data, b.len, REF_E_BODY_TOO_LARGE,
                     value_at + (size_t)nd - 1, "header.content-length");

    /* All nines: the first prefix over the limit is as long as the limit written out
     * (the limit is not itself all nines). */
    nd = snprintf(digits, sizeof(digits), "%d", REF_MAX_BODY_BYTES);
    assert_true(nd > 0 && (size_t)nd < sizeof(digits) && strspn(digits, "9") != (size_t)nd);
    ref_buf_reset(&b);
    put(&b, POST HOST "Content-Length: ");
    value_at = b.len;
    put_n(&b, '9', 40);
    put(&b, "\r\n\r\n");
    check_head_fault("Content-Length far over the body limit", b.data, b.len, REF_E_BODY_TOO_LARGE,
                     value_at + (size_t)nd - 1, "header.content-length");
    ref_buf_cleanup(&b);
}

/* The whole malformed table through the head parser: a fault in the request line or the
 * headers is its answer too, at the same place; a fault in the body or after the request
 * lies past a head it accepts. */
static void test_http_parse_head_agrees_on_malformed_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_rejects) / sizeof(s_rejects[0]); i++) {
        const struct reject_case *c = &s_rejects[i];
        size_t want_offset = c->at == NULL ? c->len : offset_of(c->input, c->len, c->at) + c->delta;
        bool is_head_fault =
            strncmp(c->where, "request-line", 12) == 0 || strncmp(c->where, "header", 6) == 0;
        struct head_result h;
        parse_head_bytes(&h, c->input, c->len);
        if (is_head_fault ? h.rc != c->code : h.rc != REF_OK) {
            print_error("case \"%s\"\n", c->name);
            print_head_failure(&h);
        }
        if (is_head_fault) {
            assert_int_equal(h.rc, c->code);
            assert_int_equal(h.err.offset, want_offset);
            assert_string_equal(h.err.where, c->where);
        } else {
            assert_int_equal(h.rc, REF_OK);
            assert_true(want_offset >= h.head_len);
        }
        assert_int_equal(check_head_against_request(&h), c->code);
        input_free(&h.in);
    }
}

static void test_http_parse_head_reports_incomplete_for_every_cut(void **state)
{
    (void)state;
    static const char *const heads[] = {
        "GET /2012-09-25/jobs/1?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        CL_HEAD,
        CHUNK,
        "DELETE /x HTTP/1.0\r\nhost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-E:\r\nX-W: \t v \t \r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        struct head_result h;
        parse_head_bytes(&h, heads[i], strlen(heads[i]));
        expect_head_ok(&h);
        assert_int_equal(h.head_len, strlen(heads[i]));
        input_free(&h.in);
        check_head_cuts(heads[i], strlen(heads[i]), true);
    }

    /* Real clients: the head ends at the first empty line, agrees with the whole
     * request's, and every cut of it is incomplete. */
    for (size_t c = 0; c < sizeof(s_capture_clients) / sizeof(s_capture_clients[0]); c++) {
        for (size_t o = 0; o < sizeof(s_capture_ops) / sizeof(s_capture_ops[0]); o++) {
            size_t len = 0;
            char *data = read_capture(s_capture_clients[c], s_capture_ops[o], &len);
            size_t head_end = offset_of(data, len, "\r\n\r\n") + 4;
            struct head_result h;
            parse_head_bytes(&h, data, len);
            if (h.rc != REF_OK) {
                print_error("%s/%s\n", s_capture_clients[c], s_capture_ops[o]);
            }
            expect_head_ok(&h);
            assert_int_equal(h.head_len, head_end);
            assert_false(h.req.is_chunked);
            assert_int_equal(check_head_against_request(&h), REF_OK);
            input_free(&h.in);
            check_head_cuts(data, head_end, true);
            free(data);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_parse_accepts_each_method),
        cmocka_unit_test(test_http_parse_accepts_api_requests),
        cmocka_unit_test(test_http_parse_splits_path_and_query),
        cmocka_unit_test(test_http_parse_accepts_http10),
        cmocka_unit_test(test_http_parse_keeps_header_bytes),
        cmocka_unit_test(test_http_parse_finds_headers_case_insensitively),
        cmocka_unit_test(test_http_parse_reads_content_length_body),
        cmocka_unit_test(test_http_parse_has_empty_body_without_framing),
        cmocka_unit_test(test_http_parse_decodes_chunked_body),
        cmocka_unit_test(test_http_parse_uses_caller_body_buffer),
        cmocka_unit_test(test_http_parse_reports_nomem),
        cmocka_unit_test(test_http_parse_accepts_null_err),
        cmocka_unit_test(test_http_parse_accepts_real_client_captures),
        cmocka_unit_test(test_http_parse_reports_incomplete_for_capture_prefixes),
        cmocka_unit_test(test_http_parse_reports_incomplete_for_every_prefix),
        cmocka_unit_test(test_http_parse_prefix_consumes_one_request),
        cmocka_unit_test(test_http_parse_rejects_malformed_table),
        cmocka_unit_test(test_http_parse_rejects_with_reasons),
        cmocka_unit_test(test_http_parse_rejects_chunked_with_reasons),
        cmocka_unit_test(test_http_parse_chunk_buffer_before_crlf),
        cmocka_unit_test(test_http_parse_rejects_control_bytes),
        cmocka_unit_test(test_http_parse_limits_method_bytes),
        cmocka_unit_test(test_http_parse_limits_target_bytes),
        cmocka_unit_test(test_http_parse_limits_header_count),
        cmocka_unit_test(test_http_parse_limits_header_bytes),
        cmocka_unit_test(test_http_parse_limits_content_length),
        cmocka_unit_test(test_http_parse_limits_chunked_body),
        cmocka_unit_test(test_http_parse_limits_chunk_line),
        cmocka_unit_test(test_http_parse_limits_trailers),
        cmocka_unit_test(test_http_parse_head_reads_complete_head),
        cmocka_unit_test(test_http_parse_head_stops_before_content_length_body),
        cmocka_unit_test(test_http_parse_head_does_not_decode_chunked_body),
        cmocka_unit_test(test_http_parse_head_reports_head_faults),
        cmocka_unit_test(test_http_parse_head_agrees_on_malformed_table),
        cmocka_unit_test(test_http_parse_head_reports_incomplete_for_every_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
