/* SPDX-License-Identifier: Apache-2.0
 *
 * test_http_lenient.c - the forgiving request-file reader used for vector files and
 * `etch sigv4`: what it tolerates, how it joins folded lines, and what it still refuses.
 */
#include "test_util.h"

#include "ref/http_lenient.h"
#include "ref/limits.h"

#include <string.h>

struct parsed {
    struct ref_http_request req;
    struct ref_buf scratch;
    struct ref_parse_error err;
};

static enum ref_status parse(struct parsed *p, const char *text)
{
    memset(p, 0, sizeof *p);
    ref_buf_init(&p->scratch, 4096);
    return ref_http_parse_lenient(ref_slice_from_cstr(text), &p->req, &p->scratch, &p->err);
}

static void expect_header(const struct parsed *p, size_t i, const char *name, const char *value)
{
    assert_true(i < p->req.num_headers);
    if (!ref_slice_eq_cstr(p->req.headers[i].name, name) ||
        !ref_slice_eq_cstr(p->req.headers[i].value, value)) {
        fail_msg("header %zu is '" REF_SLICE_FMT "' = '" REF_SLICE_FMT "', want '%s' = '%s'", i,
                 REF_SLICE_ARG(p->req.headers[i].name), REF_SLICE_ARG(p->req.headers[i].value),
                 name, value);
    }
}

static void test_http_lenient_classic_file(void **state)
{
    (void)state;
    /* The classic suite's shape: LF, "Name:value", no blank line, no trailing newline. */
    struct parsed p;
    assert_int_equal(parse(&p, "GET /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n"
                               "X-Amz-Date:20150830T123600Z"),
                     REF_OK);
    assert_true(ref_slice_eq_cstr(p.req.method, "GET"));
    assert_true(ref_slice_eq_cstr(p.req.target, "/?Param1=value1"));
    assert_true(ref_slice_eq_cstr(p.req.path, "/"));
    assert_true(ref_slice_eq_cstr(p.req.query, "Param1=value1"));
    assert_true(p.req.has_query);
    assert_true(ref_slice_eq_cstr(p.req.version, "HTTP/1.1"));
    assert_int_equal(p.req.num_headers, 2);
    expect_header(&p, 0, "Host", "example.amazonaws.com");
    expect_header(&p, 1, "X-Amz-Date", "20150830T123600Z");
    assert_int_equal(p.req.body.len, 0);
    assert_false(p.req.is_chunked);
    ref_buf_cleanup(&p.scratch);
}

static void test_http_lenient_crlf_and_body(void **state)
{
    (void)state;
    struct parsed p;
    assert_int_equal(parse(&p, "POST /jobs HTTP/1.1\r\nHost: h\r\nContent-Length: 99\r\n\r\n"
                               "line1\r\nline2\n"),
                     REF_OK);
    assert_true(ref_slice_eq_cstr(p.req.path, "/jobs"));
    assert_false(p.req.has_query);
    assert_int_equal(p.req.query.len, 0);
    expect_header(&p, 0, "Host", "h");
    /* The body is everything after the blank line, whatever Content-Length says. */
    assert_true(ref_slice_eq_cstr(p.req.body, "line1\r\nline2\n"));
    ref_buf_cleanup(&p.scratch);

    /* LF files with a body, and an empty body after the blank line. */
    assert_int_equal(parse(&p, "POST / HTTP/1.1\nA:b\n\nParam1=value1"), REF_OK);
    assert_true(ref_slice_eq_cstr(p.req.body, "Param1=value1"));
    ref_buf_cleanup(&p.scratch);
    assert_int_equal(parse(&p, "GET / HTTP/1.1\nA:b\n\n"), REF_OK);
    assert_int_equal(p.req.body.len, 0);
    ref_buf_cleanup(&p.scratch);
    /* No headers at all. */
    assert_int_equal(parse(&p, "GET / HTTP/1.1\n\nbody"), REF_OK);
    assert_int_equal(p.req.num_headers, 0);
    assert_true(ref_slice_eq_cstr(p.req.body, "body"));
    ref_buf_cleanup(&p.scratch);
}

static void test_http_lenient_odd_targets(void **state)
{
    (void)state;
    struct parsed p;
    /* A space inside the target: the target runs to the last " HTTP/". */
    assert_int_equal(parse(&p, "GET /example space/ HTTP/1.1\nHost:h"), REF_OK);
    assert_true(ref_slice_eq_cstr(p.req.target, "/example space/"));
    assert_true(ref_slice_eq_cstr(p.req.path, "/example space/"));
    ref_buf_cleanup(&p.scratch);
    assert_int_equal(parse(&p, "GET /a HTTP/1.1 HTTP/1.1\n"), REF_OK);
    assert_true(ref_slice_eq_cstr(p.req.target, "/a HTTP/1.1"));
    ref_buf_cleanup(&p.scratch);
    /* Raw UTF-8. */
    assert_int_equal(parse(&p, "GET /\xe1\x88\xb4?\xe1\x88\xb4=bar HTTP/1.1\n"), REF_OK);
    assert_true(ref_slice_eq_cstr(p.req.path, "/\xe1\x88\xb4"));
    assert_true(ref_slice_eq_cstr(p.req.query, "\xe1\x88\xb4=bar"));
    ref_buf_cleanup(&p.scratch);
    /* A '?' with nothing after it. */
    assert_int_equal(parse(&p, "GET /x? HTTP/1.1\n"), REF_OK);
    assert_true(p.req.has_query);
    assert_int_equal(p.req.query.len, 0);
    ref_buf_cleanup(&p.scratch);
}

static void test_http_lenient_header_spacing(void **state)
{
    (void)state;
    struct parsed p;
    assert_int_equal(parse(&p, "GET / HTTP/1.1\r\nA:1\r\nB: 2\r\nC:\t 3 \t\r\nD:\r\nE: \r\n"
                               "F:a:b\r\n\r\n"),
                     REF_OK);
    assert_int_equal(p.req.num_headers, 6);
    expect_header(&p, 0, "A", "1");
    expect_header(&p, 1, "B", "2");
    expect_header(&p, 2, "C", "3");
    expect_header(&p, 3, "D", "");
    expect_header(&p, 4, "E", "");
    expect_header(&p, 5, "F", "a:b");
    ref_buf_cleanup(&p.scratch);
}

static void test_http_lenient_folded_lines(void **state)
{
    (void)state;
    struct parsed p;
    /* get-header-value-multiline: joined by one space, each piece trimmed. */
    assert_int_equal(parse(&p, "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\n"
                               "  value2\n     value3\nX-Amz-Date:20150830T123600Z"),
                     REF_OK);
    assert_int_equal(p.req.num_headers, 3);
    expect_header(&p, 0, "Host", "example.amazonaws.com");
    expect_header(&p, 1, "My-Header1", "value1 value2 value3");
    expect_header(&p, 2, "X-Amz-Date", "20150830T123600Z");
    ref_buf_cleanup(&p.scratch);

    /* Several folded headers: each value stays right after the scratch buffer grows. */
    struct parsed q;
    memset(&q, 0, sizeof q);
    ref_buf_init(&q.scratch, 65536);
    static char text[8192];
    size_t used = (size_t)snprintf(text, sizeof text, "GET / HTTP/1.1\r\n");
    for (int h = 0; h < 20; h++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "H%d: start%d\r\n", h, h);
        for (int k = 0; k < 5; k++) {
            used += (size_t)snprintf(text + used, sizeof text - used,
                                     "\t more-%d-%d-xxxxxxxxxxxxxxxxxxxxxxxx\r\n", h, k);
        }
    }
    used += (size_t)snprintf(text + used, sizeof text - used, "\r\n");
    assert_int_equal(ref_http_parse_lenient(ref_slice_make(text, used), &q.req, &q.scratch, &q.err),
                     REF_OK);
    assert_int_equal(q.req.num_headers, 20);
    for (int h = 0; h < 20; h++) {
        char want[512];
        int n = snprintf(want, sizeof want, "start%d", h);
        for (int k = 0; k < 5; k++) {
            n += snprintf(want + n, sizeof want - (size_t)n, " more-%d-%d-xxxxxxxxxxxxxxxxxxxxxxxx",
                          h, k);
        }
        assert_true(ref_slice_eq_cstr(q.req.headers[h].value, want));
    }
    ref_buf_cleanup(&q.scratch);
}

static void
expect_rejected(const char *text, enum ref_status code, size_t offset, const char *where)
{
    struct parsed p;
    enum ref_status rc = parse(&p, text);
    if (rc != code || p.err.offset != offset || strcmp(p.err.where, where) != 0) {
        fail_msg("got %s at %zu (%s), want %s at %zu (%s)", ref_status_name(rc), p.err.offset,
                 p.err.where ? p.err.where : "-", ref_status_name(code), offset, where);
    }
    assert_non_null(p.err.reason);
    ref_buf_cleanup(&p.scratch);
}

static void test_http_lenient_rejects(void **state)
{
    (void)state;
    expect_rejected("", REF_E_MALFORMED, 0, "request_line");
    expect_rejected("\r\nGET / HTTP/1.1", REF_E_MALFORMED, 0, "request_line");
    expect_rejected("GET", REF_E_MALFORMED, 3, "request_line.method");
    expect_rejected(" / HTTP/1.1", REF_E_MALFORMED, 0, "request_line.method");
    expect_rejected("GET / HTTP1.1\n", REF_E_MALFORMED, 13, "request_line.version");
    expect_rejected("GET  HTTP/1.1\n", REF_E_MALFORMED, 4, "request_line.target");
    expect_rejected("GET HTTP/1.1\n", REF_E_MALFORMED, 4, "request_line.target");
    expect_rejected("GET / HTTP/1.1\nNoColon\n", REF_E_MALFORMED, 22, "header");
    expect_rejected("GET / HTTP/1.1\n:value\n", REF_E_MALFORMED, 15, "header.name");
    expect_rejected("GET / HTTP/1.1\n  folded first\n", REF_E_MALFORMED, 15, "header");

    /* Folding needs a scratch buffer, and one that is large enough. */
    struct ref_http_request req;
    struct ref_parse_error err = {0};
    const char *folded = "GET / HTTP/1.1\nA:b\n c\n";
    assert_int_equal(ref_http_parse_lenient(ref_slice_from_cstr(folded), &req, NULL, &err),
                     REF_E_MALFORMED);
    assert_int_equal(err.offset, 19);
    uint8_t tiny[2];
    struct ref_buf scratch;
    ref_buf_init_fixed(&scratch, tiny, sizeof tiny);
    assert_int_equal(ref_http_parse_lenient(ref_slice_from_cstr(folded), &req, &scratch, &err),
                     REF_E_TOO_LARGE);
    /* Without folded lines no scratch buffer is needed. */
    assert_int_equal(
        ref_http_parse_lenient(ref_slice_from_cstr("GET / HTTP/1.1\nA:b\n"), &req, NULL, &err),
        REF_OK);
}

static void test_http_lenient_header_limit(void **state)
{
    (void)state;
    static char text[REF_MAX_HEADERS * 16 + 64];
    size_t used = (size_t)snprintf(text, sizeof text, "GET / HTTP/1.1\n");
    for (int i = 0; i < REF_MAX_HEADERS; i++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "H%d:v\n", i);
    }
    struct parsed p;
    memset(&p, 0, sizeof p);
    assert_int_equal(ref_http_parse_lenient(ref_slice_make(text, used), &p.req, NULL, &p.err),
                     REF_OK);
    assert_int_equal(p.req.num_headers, REF_MAX_HEADERS);
    size_t extra_at = used;
    used += (size_t)snprintf(text + used, sizeof text - used, "Extra:v\n");
    assert_int_equal(ref_http_parse_lenient(ref_slice_make(text, used), &p.req, NULL, &p.err),
                     REF_E_HEADERS_TOO_LARGE);
    assert_int_equal(p.err.offset, extra_at);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_lenient_classic_file),
        cmocka_unit_test(test_http_lenient_crlf_and_body),
        cmocka_unit_test(test_http_lenient_odd_targets),
        cmocka_unit_test(test_http_lenient_header_spacing),
        cmocka_unit_test(test_http_lenient_folded_lines),
        cmocka_unit_test(test_http_lenient_rejects),
        cmocka_unit_test(test_http_lenient_header_limit),
    };
    return cmocka_run_group_tests_name("http_lenient", tests, NULL, NULL);
}
