/* SPDX-License-Identifier: Apache-2.0
 *
 * test_http_chunked.c - the shared chunked decoder.
 *
 * The request and response parsers' own tests pin what each does with its rules; these
 * check the rules themselves where neither parser's settings reach (a digit count in the
 * strict style, none in the line style), and that both styles agree on well-formed bodies.
 */
#include "test_util.h"

#include "ref/buf.h"
#include "ref/http_chunked.h"

#include <stdint.h>
#include <stdlib.h>

static const struct ref_http_chunk_labels s_labels = {
    .where_body = "body",
    .where_size = "size",
    .where_ext = "ext",
    .where_data = "data",
    .no_buffer = "no buffer",
    .cut = "cut",
    .cut_after_cr = "cut after CR",
    .cut_in_data = "cut in data",
    .bare_lf = "bare LF",
    .bare_cr = "bare CR",
    .not_hex = "not hex",
    .too_many_digits = "too many digits",
    .line_too_long = "line too long",
    .body_too_large = "body too large",
    .buffer_full = "buffer full",
    .buffer_failed = "buffer failed",
    .data_without_crlf = "no CRLF after data",
};

static struct ref_http_chunked_rules rules(enum ref_http_chunk_style style, size_t digits)
{
    return (struct ref_http_chunked_rules){
        .style = style,
        .max_line_bytes = 64,
        .max_size_digits = digits,
        .max_body_bytes = 1024,
        .labels = &s_labels,
    };
}

static enum ref_status decode(const struct ref_http_chunked_rules *r,
                              const char *text,
                              struct ref_buf *body,
                              size_t *trailer_at,
                              struct ref_parse_error *err)
{
    return ref_http_chunked_decode(r, ref_slice_from_cstr(text), 0, body, trailer_at, err);
}

static void test_http_chunked_styles_agree_on_well_formed_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *body;
        size_t trailer_at; /* just after the last-chunk line */
    } cases[] = {
        {"0\r\n", "", 3},
        {"5\r\nhello\r\n0\r\n", "hello", 13},
        {"3;a=b\r\nabc\r\n2;q=\"x y\"\r\nde\r\n0;z\r\nT: 1\r\n\r\n", "abcde", 32},
        {"A\r\n0123456789\r\n00\r\n", "0123456789", 19},
    };
    enum ref_http_chunk_style styles[] = {REF_HTTP_CHUNK_STRICT, REF_HTTP_CHUNK_LINES};
    for (size_t s = 0; s < 2; s++) {
        struct ref_http_chunked_rules r = rules(styles[s], 8);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            const char *text = cases[i].text;
            struct ref_buf body;
            ref_buf_init(&body, 1024);
            struct ref_parse_error err = {0};
            size_t at = 0;
            assert_int_equal(decode(&r, text, &body, &at, &err), REF_OK);
            assert_true(ref_slice_eq_cstr(ref_buf_slice(&body), cases[i].body));
            /* The decoder stops after the last-chunk line: the trailer section is left. */
            size_t want_at = cases[i].trailer_at;
            assert_int_equal(at, want_at);
            /* Every prefix that stops before the last-chunk line's end is incomplete. */
            for (size_t n = 0; n < want_at; n++) {
                ref_buf_reset(&body);
                enum ref_status rc =
                    ref_http_chunked_decode(&r, ref_slice_make(text, n), 0, &body, &at, &err);
                if (rc != REF_E_INCOMPLETE || err.offset != n) {
                    fail_msg("style %zu, \"%s\" cut at %zu: %s at %zu", s, text, n,
                             ref_status_name(rc), err.offset);
                }
            }
            ref_buf_cleanup(&body);
        }
    }
}

static void test_http_chunked_appends_to_the_buffer(void **state)
{
    (void)state;
    struct ref_http_chunked_rules r = rules(REF_HTTP_CHUNK_STRICT, 0);
    struct ref_buf body;
    ref_buf_init(&body, 1024);
    assert_int_equal(ref_buf_append(&body, "ab", 2), REF_OK);
    size_t at = 0;
    assert_int_equal(decode(&r, "1\r\nc\r\n0\r\n", &body, &at, NULL), REF_OK);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&body), "abc"));
    ref_buf_cleanup(&body);

    struct ref_parse_error err = {0};
    assert_int_equal(decode(&r, "0\r\n", NULL, &at, &err), REF_E_MALFORMED);
    assert_string_equal(err.where, "body");
    assert_string_equal(err.reason, "no buffer");
}

/* A digit count applies in either style, leading zeros included. */
static void test_http_chunked_limits_size_digits(void **state)
{
    (void)state;
    enum ref_http_chunk_style styles[] = {REF_HTTP_CHUNK_STRICT, REF_HTTP_CHUNK_LINES};
    for (size_t s = 0; s < 2; s++) {
        struct ref_http_chunked_rules r = rules(styles[s], 3);
        struct ref_buf body;
        ref_buf_init(&body, 1024);
        struct ref_parse_error err = {0};
        size_t at = 0;
        assert_int_equal(decode(&r, "001\r\nx\r\n0\r\n", &body, &at, &err), REF_OK);
        assert_int_equal(decode(&r, "0001\r\nx\r\n0\r\n", &body, &at, &err), REF_E_BODY_TOO_LARGE);
        assert_int_equal(err.offset, 3);
        assert_string_equal(err.where, "size");
        assert_string_equal(err.reason, "too many digits");
        ref_buf_cleanup(&body);
    }
}

/* Without a digit count, the line style bounds a size by the body limit alone, however
 * many digits it has: no size wraps around to a small one. */
static void test_http_chunked_lines_without_digit_count(void **state)
{
    (void)state;
    struct ref_http_chunked_rules r = rules(REF_HTTP_CHUNK_LINES, 0);
    struct ref_buf body;
    ref_buf_init(&body, 1024);
    struct ref_parse_error err = {0};
    size_t at = 0;
    assert_int_equal(decode(&r, "000000000000000000001\r\nx\r\n0\r\n", &body, &at, &err), REF_OK);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&body), "x"));
    static const char *huge[] = {"10000000000000001\r\nx\r\n0\r\n",
                                 "ffffffffffffffffffffffffffffffff\r\n"};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(decode(&r, huge[i], &body, &at, &err), REF_E_BODY_TOO_LARGE);
        assert_int_equal(err.offset, (size_t)(strchr(huge[i], '\n') - huge[i]) + 1);
        assert_string_equal(err.where, "data");
        assert_string_equal(err.reason, "body too large");
    }
    ref_buf_cleanup(&body);
}

/* The strict style's line limit counts the CRLF: max_line_bytes - 2 bytes before it. */
static void test_http_chunked_strict_line_limit(void **state)
{
    (void)state;
    struct ref_http_chunked_rules r = rules(REF_HTTP_CHUNK_STRICT, 0);
    char text[128];
    struct ref_buf body;
    ref_buf_init(&body, 1024);
    struct ref_parse_error err = {0};
    size_t at = 0;
    for (size_t line = 62; line <= 63; line++) {
        memcpy(text, "1;", 2);
        memset(text + 2, 'e', line - 2);
        memcpy(text + line, "\r\nx\r\n0\r\n", 9);
        ref_buf_reset(&body);
        enum ref_status rc = decode(&r, text, &body, &at, &err);
        if (line == 62) {
            assert_int_equal(rc, REF_OK);
        } else {
            assert_int_equal(rc, REF_E_BODY_TOO_LARGE);
            assert_int_equal(err.offset, 62);
            assert_string_equal(err.reason, "line too long");
        }
    }
    ref_buf_cleanup(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_chunked_styles_agree_on_well_formed_bodies),
        cmocka_unit_test(test_http_chunked_appends_to_the_buffer),
        cmocka_unit_test(test_http_chunked_limits_size_digits),
        cmocka_unit_test(test_http_chunked_lines_without_digit_count),
        cmocka_unit_test(test_http_chunked_strict_line_limit),
    };
    return cmocka_run_group_tests_name("http_chunked", tests, NULL, NULL);
}
