/* SPDX-License-Identifier: Apache-2.0
 *
 * test_uri.c - path normalisation, percent-encoding and decoding, query splitting.
 *
 * Normalisation cases come from the suites' normalize-path folder and docs/sigv4-notes.md;
 * every function is also checked at and over a buffer cap, where it must append all or
 * nothing.
 */
#include "test_util.h"

#include "ref/buf.h"
#include "ref/limits.h"
#include "ref/uri.h"

static void expect_normalized(const char *in, const char *want)
{
    struct ref_buf out;
    ref_buf_init(&out, 4096);
    assert_int_equal(ref_uri_normalize_path(ref_slice_from_cstr(in), &out), REF_OK);
    if (!ref_slice_eq_cstr(ref_buf_slice(&out), want)) {
        fail_msg("normalize(\"%s\") = \"" REF_SLICE_FMT "\", want \"%s\"", in,
                 REF_SLICE_ARG(ref_buf_slice(&out)), want);
    }
    ref_buf_cleanup(&out);
}

static void test_uri_normalize_suite_cases(void **state)
{
    (void)state;
    /* The classic suite's normalize-path cases. */
    expect_normalized("/example/..", "/");
    expect_normalized("/example1/example2/../..", "/");
    expect_normalized("//", "/");
    expect_normalized("/./", "/");
    expect_normalized("/./example", "/example");
    expect_normalized("//example//", "/example/");
    expect_normalized("/example space/", "/example space/");
    expect_normalized("/example/$delete", "/example/$delete");
}

static void test_uri_normalize_edges(void **state)
{
    (void)state;
    expect_normalized("", "/");
    expect_normalized("/", "/");
    expect_normalized("///", "/");
    expect_normalized("/a", "/a");
    expect_normalized("/a/", "/a/");
    expect_normalized("a/b", "/a/b");
    /* The SDKs keep a trailing slash only when the path ends in one. */
    expect_normalized("/a/b/..", "/a");
    expect_normalized("/a/b/../", "/a/");
    expect_normalized("/a/b/.", "/a/b");
    expect_normalized("/a/./b/../c", "/a/c");
    expect_normalized("/../a", "/a");
    expect_normalized("/../../..", "/");
    expect_normalized("/a/../../b", "/b");
    /* Only whole "." and ".." segments are dot segments (botocore issue 838). */
    expect_normalized("/.x/..y/.../x./", "/.x/..y/.../x./");
    /* Encoded dots are not dot segments: the path stays raw. */
    expect_normalized("/a/%2E/%2e%2E/b", "/a/%2E/%2e%2E/b");
    /* An encoded slash is not a separator. */
    expect_normalized("/2012-09-25/jobs/a%2Fb", "/2012-09-25/jobs/a%2Fb");
    expect_normalized("/2012-09-25//jobs/../jobs/./x", "/2012-09-25/jobs/x");
}

static void test_uri_normalize_appends(void **state)
{
    (void)state;
    struct ref_buf out;
    ref_buf_init(&out, 64);
    assert_int_equal(ref_buf_append_cstr(&out, "p/q"), REF_OK);
    /* ".." never removes what the buffer held before. */
    assert_int_equal(ref_uri_normalize_path(ref_slice_from_cstr("/../a/.."), &out), REF_OK);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&out), "p/q/"));
    assert_int_equal(ref_uri_normalize_path(ref_slice_from_cstr("/x/y/.."), &out), REF_OK);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&out), "p/q//x"));
    ref_buf_cleanup(&out);
}

static void test_uri_normalize_rejects_over_cap(void **state)
{
    (void)state;
    uint8_t storage[8];
    struct ref_buf out;
    /* At the cap: "/abcdef/" is exactly 8 bytes. */
    ref_buf_init_fixed(&out, storage, sizeof storage);
    assert_int_equal(ref_uri_normalize_path(ref_slice_from_cstr("//abcdef//"), &out), REF_OK);
    assert_int_equal(out.len, 8);
    /* Over it: all or nothing. */
    ref_buf_init_fixed(&out, storage, sizeof storage);
    assert_int_equal(ref_buf_append_cstr(&out, "ab"), REF_OK);
    assert_int_equal(ref_uri_normalize_path(ref_slice_from_cstr("/abcdef/"), &out),
                     REF_E_TOO_LARGE);
    assert_int_equal(out.len, 2);
    /* The empty path's "/" also needs room. */
    ref_buf_init_fixed(&out, storage, 0);
    assert_int_equal(ref_uri_normalize_path(ref_slice_from_cstr(""), &out), REF_E_TOO_LARGE);
}

static void expect_encoded(const char *in, bool keep_slash, const char *want)
{
    struct ref_buf out;
    ref_buf_init(&out, 4096);
    assert_int_equal(ref_uri_encode(ref_slice_from_cstr(in), keep_slash, &out), REF_OK);
    if (!ref_slice_eq_cstr(ref_buf_slice(&out), want)) {
        fail_msg("encode(\"%s\") = \"" REF_SLICE_FMT "\", want \"%s\"", in,
                 REF_SLICE_ARG(ref_buf_slice(&out)), want);
    }
    ref_buf_cleanup(&out);
}

static void test_uri_encode_cases(void **state)
{
    (void)state;
    expect_encoded("-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", true,
                   "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    expect_encoded("/example space/", true, "/example%20space/");
    expect_encoded("/example space/", false, "%2Fexample%20space%2F");
    expect_encoded("/\xe1\x88\xb4", true, "/%E1%88%B4");
    expect_encoded("$", true, "%24");
    expect_encoded("a+b=c&d", false, "a%2Bb%3Dc%26d");
    /* The second encoding of a wire path (sigv4-notes, double encoding). */
    expect_encoded("/jobs/a%2Fb", true, "/jobs/a%252Fb");
    expect_encoded("/jobs/a%2fb", true, "/jobs/a%252fb");
    expect_encoded("@=:", true, "%40%3D%3A");
    expect_encoded("", true, "");
}

static void test_uri_encode_every_byte(void **state)
{
    (void)state;
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned c = 0; c < 256; c++) {
        uint8_t in = (uint8_t)c;
        struct ref_buf out;
        ref_buf_init(&out, 8);
        assert_int_equal(ref_uri_encode(ref_slice_make(&in, 1), false, &out), REF_OK);
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            assert_int_equal(out.len, 1);
            assert_int_equal(out.data[0], c);
        } else {
            assert_int_equal(out.len, 3);
            assert_int_equal(out.data[0], '%');
            assert_int_equal(out.data[1], hex[c >> 4]);
            assert_int_equal(out.data[2], hex[c & 15]);
        }
        ref_buf_cleanup(&out);
    }
}

static void test_uri_encode_rejects_over_cap(void **state)
{
    (void)state;
    uint8_t storage[6];
    struct ref_buf out;
    ref_buf_init_fixed(&out, storage, sizeof storage);
    assert_int_equal(ref_uri_encode(ref_slice_from_cstr("a b c"), true, &out), REF_E_TOO_LARGE);
    assert_int_equal(out.len, 0);
    /* "a%20b" is 5 bytes, and one more fits exactly. */
    assert_int_equal(ref_uri_encode(ref_slice_from_cstr("a b"), true, &out), REF_OK);
    assert_int_equal(ref_uri_encode(ref_slice_from_cstr("c"), true, &out), REF_OK);
    assert_int_equal(out.len, 6);
    assert_int_equal(ref_uri_encode(ref_slice_from_cstr("d"), true, &out), REF_E_TOO_LARGE);
    assert_int_equal(out.len, 6);
}

static void test_uri_decode_cases(void **state)
{
    (void)state;
    struct ref_buf out;
    ref_buf_init(&out, 64);
    struct ref_parse_error err = {0};
    assert_int_equal(ref_uri_decode(ref_slice_from_cstr("%41%62c%2f%2F+%20"), &out, &err), REF_OK);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&out), "Abc//+ "));
    ref_buf_reset(&out);
    assert_int_equal(ref_uri_decode(ref_slice_from_cstr("%E1%88%b4"), &out, &err), REF_OK);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&out), "\xe1\x88\xb4"));
    ref_buf_reset(&out);
    assert_int_equal(ref_uri_decode(ref_slice_from_cstr("%00"), &out, &err), REF_OK);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.data[0], 0);
    ref_buf_cleanup(&out);
}

static void expect_bad_escape(const char *in, size_t offset)
{
    struct ref_buf out;
    ref_buf_init(&out, 64);
    assert_int_equal(ref_buf_append_cstr(&out, "keep"), REF_OK);
    struct ref_parse_error err = {0};
    assert_int_equal(ref_uri_decode(ref_slice_from_cstr(in), &out, &err), REF_E_MALFORMED);
    assert_int_equal(err.code, REF_E_MALFORMED);
    assert_int_equal(err.offset, offset);
    assert_string_equal(err.where, "uri.escape");
    assert_non_null(err.reason);
    /* Nothing was appended. */
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&out), "keep"));
    ref_buf_cleanup(&out);
}

static void test_uri_decode_rejects_bad_escapes(void **state)
{
    (void)state;
    expect_bad_escape("%", 0);
    expect_bad_escape("ab%", 2);
    expect_bad_escape("ab%4", 2);
    expect_bad_escape("a%G1", 1);
    expect_bad_escape("a%1G", 1);
    expect_bad_escape("%41%zz", 3);
    expect_bad_escape("% 41", 0);
}

static void test_uri_decode_rejects_over_cap(void **state)
{
    (void)state;
    uint8_t storage[3];
    struct ref_buf out;
    /* Room for exactly the decoded bytes is enough, however long the input. */
    ref_buf_init_fixed(&out, storage, sizeof storage);
    assert_int_equal(ref_uri_decode(ref_slice_from_cstr("%41%42%43"), &out, NULL), REF_OK);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&out), "ABC"));
    ref_buf_init_fixed(&out, storage, sizeof storage);
    assert_int_equal(ref_uri_decode(ref_slice_from_cstr("ab"), &out, NULL), REF_OK);
    assert_int_equal(ref_uri_decode(ref_slice_from_cstr("%00"), &out, NULL), REF_OK);
    /* One byte more: nothing is appended. */
    assert_int_equal(ref_uri_decode(ref_slice_from_cstr("d"), &out, NULL), REF_E_TOO_LARGE);
    assert_int_equal(out.len, 3);
    ref_buf_init_fixed(&out, storage, 2);
    assert_int_equal(ref_uri_decode(ref_slice_from_cstr("%41%42%43"), &out, NULL), REF_E_TOO_LARGE);
    assert_int_equal(out.len, 0);
}

static void test_uri_split_query_cases(void **state)
{
    (void)state;
    struct ref_query_param p[8];
    size_t n = 99;
    assert_int_equal(ref_uri_split_query(ref_slice_from_cstr(""), p, 8, &n), REF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ref_uri_split_query(ref_slice_from_cstr("&&&"), p, 8, &n), REF_OK);
    assert_int_equal(n, 0);

    assert_int_equal(ref_uri_split_query(ref_slice_from_cstr("a=1&&b&c=&=d&e=f=g"), p, 8, &n),
                     REF_OK);
    assert_int_equal(n, 5);
    assert_true(ref_slice_eq_cstr(p[0].name, "a") && ref_slice_eq_cstr(p[0].value, "1"));
    assert_true(p[0].has_equals);
    assert_true(ref_slice_eq_cstr(p[1].name, "b") && p[1].value.len == 0 && !p[1].has_equals);
    assert_true(ref_slice_eq_cstr(p[2].name, "c") && p[2].value.len == 0 && p[2].has_equals);
    assert_true(p[3].name.len == 0 && ref_slice_eq_cstr(p[3].value, "d") && p[3].has_equals);
    /* Split on the first '=' only. */
    assert_true(ref_slice_eq_cstr(p[4].name, "e") && ref_slice_eq_cstr(p[4].value, "f=g"));

    /* Raw bytes are kept: nothing is decoded here. */
    assert_int_equal(ref_uri_split_query(ref_slice_from_cstr("a%3D=b+c"), p, 8, &n), REF_OK);
    assert_int_equal(n, 1);
    assert_true(ref_slice_eq_cstr(p[0].name, "a%3D") && ref_slice_eq_cstr(p[0].value, "b+c"));
}

static void test_uri_split_query_limit(void **state)
{
    (void)state;
    /* REF_MAX_QUERY_PARAMS parameters fit; one more does not. */
    char query[REF_MAX_QUERY_PARAMS * 4 + 8];
    size_t used = 0;
    for (size_t i = 0; i < REF_MAX_QUERY_PARAMS; i++) {
        used += (size_t)snprintf(query + used, sizeof query - used, "%sa", i > 0 ? "&" : "");
    }
    struct ref_query_param p[REF_MAX_QUERY_PARAMS];
    size_t n = 0;
    assert_int_equal(ref_uri_split_query(ref_slice_make(query, used), p, REF_MAX_QUERY_PARAMS, &n),
                     REF_OK);
    assert_int_equal(n, REF_MAX_QUERY_PARAMS);
    used += (size_t)snprintf(query + used, sizeof query - used, "&b");
    assert_int_equal(ref_uri_split_query(ref_slice_make(query, used), p, REF_MAX_QUERY_PARAMS, &n),
                     REF_E_TOO_LARGE);
    assert_int_equal(n, REF_MAX_QUERY_PARAMS);
    /* A trailing empty part does not count. */
    used -= 1;
    assert_int_equal(ref_uri_split_query(ref_slice_make(query, used), p, REF_MAX_QUERY_PARAMS, &n),
                     REF_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_normalize_suite_cases),
        cmocka_unit_test(test_uri_normalize_edges),
        cmocka_unit_test(test_uri_normalize_appends),
        cmocka_unit_test(test_uri_normalize_rejects_over_cap),
        cmocka_unit_test(test_uri_encode_cases),
        cmocka_unit_test(test_uri_encode_every_byte),
        cmocka_unit_test(test_uri_encode_rejects_over_cap),
        cmocka_unit_test(test_uri_decode_cases),
        cmocka_unit_test(test_uri_decode_rejects_bad_escapes),
        cmocka_unit_test(test_uri_decode_rejects_over_cap),
        cmocka_unit_test(test_uri_split_query_cases),
        cmocka_unit_test(test_uri_split_query_limit),
    };
    return cmocka_run_group_tests_name("uri", tests, NULL, NULL);
}
