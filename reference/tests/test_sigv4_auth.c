/* SPDX-License-Identifier: Apache-2.0
 *
 * test_sigv4_auth.c - the Authorization header parser and the ISO-8601 basic date.
 *
 * Every rejection is checked for its status, offset and `where`, and each limit
 * (REF_MAX_AUTHORIZATION_BYTES, REF_MAX_SIGNED_HEADERS) at and over its value.
 */
#include "test_util.h"

#include "ref/limits.h"
#include "ref/sigv4.h"

#include <string.h>

#define SIG  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
#define CRED "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

static void test_sigv4_auth_parses_comma_space(void **state)
{
    (void)state;
    struct ref_sigv4_auth a;
    struct ref_parse_error err = {0};
    const char *v = "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host;x-amz-date, "
                    "Signature=" SIG;
    assert_int_equal(ref_sigv4_parse_authorization(ref_slice_from_cstr(v), &a, &err), REF_OK);
    assert_true(ref_slice_eq_cstr(a.algorithm, "AWS4-HMAC-SHA256"));
    assert_true(ref_slice_eq_cstr(a.credential, CRED));
    assert_true(ref_slice_eq_cstr(a.access_key_id, "AKIDEXAMPLE"));
    assert_true(ref_slice_eq_cstr(a.scope, "20150830/us-east-1/service/aws4_request"));
    assert_true(ref_slice_eq_cstr(a.scope_date, "20150830"));
    assert_true(ref_slice_eq_cstr(a.scope_region, "us-east-1"));
    assert_true(ref_slice_eq_cstr(a.scope_service, "service"));
    assert_true(ref_slice_eq_cstr(a.scope_terminator, "aws4_request"));
    assert_true(ref_slice_eq_cstr(a.signed_headers_list, "host;x-amz-date"));
    assert_int_equal(a.num_signed_headers, 2);
    assert_true(ref_slice_eq_cstr(a.signed_headers[0], "host"));
    assert_true(ref_slice_eq_cstr(a.signed_headers[1], "x-amz-date"));
    assert_true(ref_slice_eq_cstr(a.signature, SIG));
    /* Every slice borrows from the value. */
    assert_ptr_equal(a.algorithm.ptr, (const uint8_t *)v);
}

static void test_sigv4_auth_parses_separator_variants(void **state)
{
    (void)state;
    const char *variants[] = {
        "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host,Signature=" SIG,
        "AWS4-HMAC-SHA256   Credential=" CRED " ,  SignedHeaders=host\t, Signature=" SIG "  ",
        /* Any order of the three components. */
        "AWS4-HMAC-SHA256 Signature=" SIG ", SignedHeaders=host, Credential=" CRED,
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        struct ref_sigv4_auth a;
        assert_int_equal(ref_sigv4_parse_authorization(ref_slice_from_cstr(variants[i]), &a, NULL),
                         REF_OK);
        assert_true(ref_slice_eq_cstr(a.credential, CRED));
        assert_true(ref_slice_eq_cstr(a.signed_headers_list, "host"));
        assert_true(ref_slice_eq_cstr(a.signature, SIG));
    }
}

static void test_sigv4_auth_keeps_signed_headers_as_sent(void **state)
{
    (void)state;
    struct ref_sigv4_auth a;
    const char *v = "AWS4-HMAC-SHA256 Credential=" CRED
                    ", SignedHeaders=X-Amz-Date;host;host;;Host, Signature=NOT-HEX";
    assert_int_equal(ref_sigv4_parse_authorization(ref_slice_from_cstr(v), &a, NULL), REF_OK);
    assert_int_equal(a.num_signed_headers, 5);
    assert_true(ref_slice_eq_cstr(a.signed_headers[0], "X-Amz-Date"));
    assert_true(ref_slice_eq_cstr(a.signed_headers[2], "host"));
    assert_int_equal(a.signed_headers[3].len, 0);
    assert_true(ref_slice_eq_cstr(a.signed_headers[4], "Host"));
    /* The signature's shape is the verifier's business. */
    assert_true(ref_slice_eq_cstr(a.signature, "NOT-HEX"));
}

static void test_sigv4_auth_allows_empty_credential_parts(void **state)
{
    (void)state;
    /* Five parts, some empty: syntactically fine, the scope checks refuse it later. */
    struct ref_sigv4_auth a;
    const char *v = "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=host, Signature=" SIG;
    assert_int_equal(ref_sigv4_parse_authorization(ref_slice_from_cstr(v), &a, NULL), REF_OK);
    assert_int_equal(a.access_key_id.len, 0);
    assert_int_equal(a.scope_region.len, 0);
    assert_true(ref_slice_eq_cstr(a.scope, "///"));
}

static void expect_rejected(const char *v, enum ref_status code, size_t offset, const char *where)
{
    struct ref_sigv4_auth a;
    struct ref_parse_error err = {0};
    enum ref_status rc = ref_sigv4_parse_authorization(ref_slice_from_cstr(v), &a, &err);
    if (rc != code || err.offset != offset || err.where == NULL || strcmp(err.where, where) != 0) {
        fail_msg("\"%s\": got %s at %zu (%s: %s), want %s at %zu (%s)", v, ref_status_name(rc),
                 err.offset, err.where ? err.where : "-", err.reason ? err.reason : "-",
                 ref_status_name(code), offset, where);
    }
    assert_int_equal(err.code, code);
    assert_non_null(err.reason);
}

static void test_sigv4_auth_rejects_bad_algorithm(void **state)
{
    (void)state;
    expect_rejected("", REF_E_INCOMPLETE_SIGNATURE, 0, "authorization.algorithm");
    expect_rejected("AWS4-HMAC-SHA256", REF_E_INCOMPLETE_SIGNATURE, 0, "authorization.algorithm");
    expect_rejected("AWS4-HMAC-SHA1 Credential=" CRED ", SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 0, "authorization.algorithm");
    expect_rejected("aws4-hmac-sha256 Credential=" CRED ", SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 0, "authorization.algorithm");
    expect_rejected("AWS4-HMAC-SHA256Credential=" CRED ", SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 0, "authorization.algorithm");
    expect_rejected(" AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 0, "authorization.algorithm");
    expect_rejected("Bearer abc", REF_E_INCOMPLETE_SIGNATURE, 0, "authorization.algorithm");
    /* The algorithm and nothing else. */
    expect_rejected("AWS4-HMAC-SHA256   ", REF_E_INCOMPLETE_SIGNATURE, 19, "authorization");
}

static void test_sigv4_auth_rejects_missing_components(void **state)
{
    (void)state;
    const char *no_cred = "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" SIG;
    expect_rejected(no_cred, REF_E_INCOMPLETE_SIGNATURE, strlen(no_cred),
                    "authorization.credential");
    const char *no_sh = "AWS4-HMAC-SHA256 Credential=" CRED ", Signature=" SIG;
    expect_rejected(no_sh, REF_E_INCOMPLETE_SIGNATURE, strlen(no_sh),
                    "authorization.signed_headers");
    const char *no_sig = "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host";
    expect_rejected(no_sig, REF_E_INCOMPLETE_SIGNATURE, strlen(no_sig), "authorization.signature");
}

static void test_sigv4_auth_rejects_empty_components(void **state)
{
    (void)state;
    /* An empty SignedHeaders is incomplete (contract section 5). */
    expect_rejected("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 95, "authorization.signed_headers");
    expect_rejected("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders= , Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 95, "authorization.signed_headers");
    expect_rejected("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 28, "authorization.credential");
    expect_rejected("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, Signature=",
                    REF_E_INCOMPLETE_SIGNATURE, 111, "authorization.signature");
}

static void test_sigv4_auth_rejects_malformed_components(void **state)
{
    (void)state;
    /* A component without '='. */
    expect_rejected("AWS4-HMAC-SHA256 Credential", REF_E_INCOMPLETE_SIGNATURE, 27,
                    "authorization.component");
    expect_rejected("AWS4-HMAC-SHA256 Credential, SignedHeaders=host", REF_E_INCOMPLETE_SIGNATURE,
                    27, "authorization.component");
    /* Unknown names, names in another case, or with a space before '='. */
    expect_rejected("AWS4-HMAC-SHA256 Credentials=" CRED ", SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 17, "authorization.component");
    expect_rejected("AWS4-HMAC-SHA256 credential=" CRED ", SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 17, "authorization.component");
    expect_rejected("AWS4-HMAC-SHA256 Credential =" CRED ", SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 17, "authorization.component");
    /* A repeated component. */
    expect_rejected("AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, Signature=" SIG
                    ", Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 177, "authorization.signature");
    /* A trailing comma leaves an empty component. */
    const char *trailing =
        "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, Signature=" SIG ", ";
    expect_rejected(trailing, REF_E_INCOMPLETE_SIGNATURE, strlen(trailing),
                    "authorization.component");
    /* Two commas in a row: an empty component name. */
    expect_rejected("AWS4-HMAC-SHA256 Credential=" CRED ",, SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 80, "authorization.component");
}

static void test_sigv4_auth_rejects_bad_credential(void **state)
{
    (void)state;
    /* Four parts: the error is at the end of the credential. */
    expect_rejected("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service, "
                    "SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 59, "authorization.credential");
    /* Six parts: the error is at the fifth '/', which starts a sixth part. */
    expect_rejected("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request/x, "
                    "SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 72, "authorization.credential");
    expect_rejected("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE, SignedHeaders=host, Signature=" SIG,
                    REF_E_INCOMPLETE_SIGNATURE, 39, "authorization.credential");
}

/* Builds "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=h0;h1;...;h<n-1>, Signature=SIG". */
static size_t make_with_signed_headers(char *out, size_t cap, size_t n)
{
    size_t used =
        (size_t)snprintf(out, cap, "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=");
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(out + used, cap - used, "%sh%zu", i > 0 ? ";" : "", i);
    }
    used += (size_t)snprintf(out + used, cap - used, ", Signature=" SIG);
    assert_true(used < cap);
    return used;
}

static void test_sigv4_auth_signed_headers_limit(void **state)
{
    (void)state;
    char v[2048];
    struct ref_sigv4_auth a;
    struct ref_parse_error err = {0};
    size_t len = make_with_signed_headers(v, sizeof v, REF_MAX_SIGNED_HEADERS);
    assert_int_equal(ref_sigv4_parse_authorization(ref_slice_make(v, len), &a, &err), REF_OK);
    assert_int_equal(a.num_signed_headers, REF_MAX_SIGNED_HEADERS);

    len = make_with_signed_headers(v, sizeof v, REF_MAX_SIGNED_HEADERS + 1);
    assert_int_equal(ref_sigv4_parse_authorization(ref_slice_make(v, len), &a, &err),
                     REF_E_TOO_LARGE);
    assert_int_equal(err.code, REF_E_TOO_LARGE);
    assert_string_equal(err.where, "authorization.signed_headers");
    /* The offset is the first name past the limit, "h32". */
    const char *extra = strstr(v, ";h32,");
    assert_non_null(extra);
    assert_int_equal(err.offset, (size_t)(extra - v) + 1);
}

static void test_sigv4_auth_length_limit(void **state)
{
    (void)state;
    /* A valid header padded through the signature to exactly the limit parses... */
    char v[REF_MAX_AUTHORIZATION_BYTES + 2];
    int head = snprintf(v, sizeof v,
                        "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, Signature=");
    assert_true(head > 0);
    memset(v + head, 'a', sizeof v - (size_t)head);
    struct ref_sigv4_auth a;
    struct ref_parse_error err = {0};
    assert_int_equal(
        ref_sigv4_parse_authorization(ref_slice_make(v, REF_MAX_AUTHORIZATION_BYTES), &a, &err),
        REF_OK);
    assert_int_equal(a.signature.len, REF_MAX_AUTHORIZATION_BYTES - (size_t)head);
    /* ...and one byte more does not. */
    assert_int_equal(
        ref_sigv4_parse_authorization(ref_slice_make(v, REF_MAX_AUTHORIZATION_BYTES + 1), &a, &err),
        REF_E_TOO_LARGE);
    assert_int_equal(err.offset, REF_MAX_AUTHORIZATION_BYTES);
    assert_string_equal(err.where, "authorization");
}

/* Dates. */

static void expect_date(const char *s, int64_t want)
{
    int64_t t = -12345;
    struct ref_parse_error err = {0};
    enum ref_status rc = ref_sigv4_parse_amz_date(ref_slice_from_cstr(s), &t, &err);
    if (rc != REF_OK) {
        fail_msg("\"%s\": %s at %zu: %s", s, ref_status_name(rc), err.offset, err.reason);
    }
    assert_int_equal(t, want);
}

static void expect_bad_date(const char *s, size_t offset)
{
    int64_t t = -12345;
    struct ref_parse_error err = {0};
    enum ref_status rc = ref_sigv4_parse_amz_date(ref_slice_from_cstr(s), &t, &err);
    if (rc != REF_E_MALFORMED || err.offset != offset) {
        fail_msg("\"%s\": got %s at %zu, want REF_E_MALFORMED at %zu", s, ref_status_name(rc),
                 err.offset, offset);
    }
    assert_string_equal(err.where, "amz_date");
    assert_non_null(err.reason);
    assert_int_equal(t, -12345);
}

static void test_sigv4_auth_parses_dates(void **state)
{
    (void)state;
    expect_date("19700101T000000Z", 0);
    expect_date("20150830T123600Z", INT64_C(1440938160));
    expect_date("20261128T124500Z", TEST_FIXED_NOW_MS / 1000);
    expect_date("19691231T235959Z", -1);
    expect_date("20000229T000000Z", INT64_C(951782400));
    expect_date("20240229T235959Z", INT64_C(1709251199));
    expect_date("99991231T235959Z", INT64_C(253402300799));
    expect_date("00000101T000000Z", INT64_C(-62167219200));
    /* Every month's last day. */
    expect_date("20230131T000000Z", INT64_C(1675123200));
    expect_date("20230430T000000Z", INT64_C(1682812800));
    expect_date("20231231T235959Z", INT64_C(1704067199));
}

static void test_sigv4_auth_rejects_bad_dates(void **state)
{
    (void)state;
    /* Shape. */
    expect_bad_date("", 0);
    expect_bad_date("2015083", 7);
    expect_bad_date("20150830T123600", 15);
    expect_bad_date("20150830T123600z", 15);
    expect_bad_date("20150830t123600Z", 8);
    expect_bad_date("20150830T123600ZZ", 16);
    expect_bad_date("2015-08-30T12:36:00Z", 4);
    expect_bad_date("2015083OT123600Z", 7);
    expect_bad_date(" 20150830T123600Z", 0);
    expect_bad_date("Sun, 30 Aug 2015 12:36:00 GMT", 0);
    /* Ranges. */
    expect_bad_date("20150030T123600Z", 4);
    expect_bad_date("20151330T123600Z", 4);
    expect_bad_date("20150800T123600Z", 6);
    expect_bad_date("20150832T123600Z", 6);
    expect_bad_date("20150431T123600Z", 6);
    expect_bad_date("20230229T000000Z", 6);
    expect_bad_date("21000229T000000Z", 6);
    expect_bad_date("20150830T243600Z", 9);
    expect_bad_date("20150830T126000Z", 11);
    expect_bad_date("20150830T123660Z", 13);
}

static void test_sigv4_auth_formats_dates(void **state)
{
    (void)state;
    char out[17];
    ref_sigv4_format_amz_date(0, out);
    assert_string_equal(out, "19700101T000000Z");
    ref_sigv4_format_amz_date(INT64_C(1440938160), out);
    assert_string_equal(out, "20150830T123600Z");
    ref_sigv4_format_amz_date(-1, out);
    assert_string_equal(out, "19691231T235959Z");
    ref_sigv4_format_amz_date(INT64_C(951782400), out);
    assert_string_equal(out, "20000229T000000Z");
    /* Out of the four-digit range: clamped. */
    ref_sigv4_format_amz_date(INT64_MAX, out);
    assert_string_equal(out, "99991231T235959Z");
    ref_sigv4_format_amz_date(INT64_MIN, out);
    assert_string_equal(out, "00000101T000000Z");
}

static void test_sigv4_auth_date_round_trip(void **state)
{
    (void)state;
    /* Every day from 1899 to 2101 at a time that moves through the day, both ways. */
    for (int64_t t = INT64_C(-2240611200); t < INT64_C(4133980800); t += 86400 + 3607) {
        char text[17];
        ref_sigv4_format_amz_date(t, text);
        int64_t back = 0;
        assert_int_equal(ref_sigv4_parse_amz_date(ref_slice_make(text, 16), &back, NULL), REF_OK);
        assert_int_equal(back, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_auth_parses_comma_space),
        cmocka_unit_test(test_sigv4_auth_parses_separator_variants),
        cmocka_unit_test(test_sigv4_auth_keeps_signed_headers_as_sent),
        cmocka_unit_test(test_sigv4_auth_allows_empty_credential_parts),
        cmocka_unit_test(test_sigv4_auth_rejects_bad_algorithm),
        cmocka_unit_test(test_sigv4_auth_rejects_missing_components),
        cmocka_unit_test(test_sigv4_auth_rejects_empty_components),
        cmocka_unit_test(test_sigv4_auth_rejects_malformed_components),
        cmocka_unit_test(test_sigv4_auth_rejects_bad_credential),
        cmocka_unit_test(test_sigv4_auth_signed_headers_limit),
        cmocka_unit_test(test_sigv4_auth_length_limit),
        cmocka_unit_test(test_sigv4_auth_parses_dates),
        cmocka_unit_test(test_sigv4_auth_rejects_bad_dates),
        cmocka_unit_test(test_sigv4_auth_formats_dates),
        cmocka_unit_test(test_sigv4_auth_date_round_trip),
    };
    return cmocka_run_group_tests_name("sigv4_auth", tests, NULL, NULL);
}
