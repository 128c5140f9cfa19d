/* SPDX-License-Identifier: Apache-2.0
 *
 * test_sigv4_canon.c - each SigV4 stage on its own: SHA-256 hex, canonical request, string
 * to sign, signing key and signature, plus the signer's choice of headers.
 *
 * Expected values are written out by hand from docs/sigv4-notes.md or computed with
 * Python's hmac/hashlib; the suites' full cases run in test_sigv4_vectors.c.
 */
#include "sigv4_test_support.h"
#include "test_util.h"

#include "ref/limits.h"
#include "ref/mem.h"
#include "ref/sigv4.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SECRET    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static void test_sigv4_canon_sha256_hex(void **state)
{
    (void)state;
    char out[REF_SHA256_HEX_LEN];
    ref_sigv4_sha256_hex(ref_slice_make(NULL, 0), out);
    assert_memory_equal(out, EMPTY_SHA, REF_SHA256_HEX_LEN);
    ref_sigv4_sha256_hex(ref_slice_from_cstr("abc"), out);
    assert_memory_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                        REF_SHA256_HEX_LEN);
    ref_sigv4_sha256_hex(ref_slice_from_cstr("Param1=value1"), out);
    assert_memory_equal(out, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                        REF_SHA256_HEX_LEN);
}

static void expect_key(const char *secret,
                       const char *date,
                       const char *region,
                       const char *service,
                       const char *want_hex)
{
    uint8_t key[REF_SHA256_LEN];
    assert_int_equal(ref_sigv4_signing_key(ref_slice_from_cstr(secret), ref_slice_from_cstr(date),
                                           ref_slice_from_cstr(region),
                                           ref_slice_from_cstr(service), key),
                     REF_OK);
    char hex[2 * REF_SHA256_LEN + 1];
    for (size_t i = 0; i < REF_SHA256_LEN; i++) {
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    }
    assert_string_equal(hex, want_hex);
    ref_mem_wipe(key, sizeof key);
}

static void test_sigv4_canon_signing_key(void **state)
{
    (void)state;
    /* The AWS General Reference's worked example (iam, 2015-08-30). */
    expect_key(SECRET, "20150830", "us-east-1", "iam",
               "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    /* "AWS4"+secret just fits the stack buffer (128 bytes), then needs the heap. */
    char secret[201];
    memset(secret, 'x', sizeof secret - 1);
    secret[124] = '\0';
    expect_key(secret, "20261128", "us-east-1", "elastictranscoder",
               "648a257fb9f67840ad8b7583dd6c63914cc9f719adecd99cd35e457439017d7e");
    memset(secret, 'x', sizeof secret - 1);
    secret[200] = '\0';
    expect_key(secret, "20261128", "us-east-1", "elastictranscoder",
               "fd8fe321531f066c7c1b66b10671a8769f6a0367e0fc0060719fe822fe46e278");
    expect_key("", "", "", "", "471a91efb8475a228e6138550ebe59345acf6343bc1c1dc75b5d5a867218ccf1");
}

static void test_sigv4_canon_signature(void **state)
{
    (void)state;
    /* The classic suite's get-vanilla string to sign and signature. */
    const char *sts =
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63";
    uint8_t key[REF_SHA256_LEN];
    assert_int_equal(ref_sigv4_signing_key(
                         ref_slice_from_cstr(SECRET), ref_slice_from_cstr("20150830"),
                         ref_slice_from_cstr("us-east-1"), ref_slice_from_cstr("service"), key),
                     REF_OK);
    char sig[REF_SHA256_HEX_LEN];
    assert_int_equal(ref_sigv4_signature(key, ref_slice_from_cstr(sts), sig), REF_OK);
    assert_memory_equal(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                        REF_SHA256_HEX_LEN);
    ref_mem_wipe(key, sizeof key);
}

static void test_sigv4_canon_string_to_sign(void **state)
{
    (void)state;
    struct ref_buf out;
    ref_buf_init(&out, 1024);
    assert_int_equal(ref_buf_append_cstr(&out, "prefix|"), REF_OK);
    const char *creq = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                       "host;x-amz-date\n" EMPTY_SHA;
    assert_int_equal(
        ref_sigv4_string_to_sign(ref_slice_from_cstr("20150830T123600Z"),
                                 ref_slice_from_cstr("20150830/us-east-1/service/aws4_request"),
                                 ref_slice_from_cstr(creq), &out),
        REF_OK);
    assert_true(ref_slice_eq_cstr(
        ref_buf_slice(&out),
        "prefix|AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"));
    ref_buf_cleanup(&out);

    /* At the cap (17 + 17 + 40 + 64 = 138 bytes) and one byte under it. */
    uint8_t storage[138];
    ref_buf_init_fixed(&out, storage, sizeof storage);
    assert_int_equal(
        ref_sigv4_string_to_sign(ref_slice_from_cstr("20150830T123600Z"),
                                 ref_slice_from_cstr("20150830/us-east-1/service/aws4_request"),
                                 ref_slice_from_cstr(creq), &out),
        REF_OK);
    ref_buf_init_fixed(&out, storage, sizeof storage - 1);
    assert_int_equal(
        ref_sigv4_string_to_sign(ref_slice_from_cstr("20150830T123600Z"),
                                 ref_slice_from_cstr("20150830/us-east-1/service/aws4_request"),
                                 ref_slice_from_cstr(creq), &out),
        REF_E_TOO_LARGE);
    assert_int_equal(out.len, 0);
}

/* Builds the canonical request for t with the signed list "a;b" and compares it. */
static void expect_canonical(struct treq *t, const char *list, const char *want)
{
    struct ref_slice names[REF_MAX_SIGNED_HEADERS + 8];
    size_t n = split_names(list, names, sizeof names / sizeof names[0]);
    char hash[REF_SHA256_HEX_LEN];
    ref_sigv4_sha256_hex(t->req.body, hash);
    struct ref_buf out;
    ref_buf_init(&out, REF_MAX_CANONICAL_BYTES);
    struct ref_parse_error err = {0};
    enum ref_status rc = ref_sigv4_canonical_request(&t->req, names, n,
                                                     ref_slice_make(hash, sizeof hash), &out, &err);
    if (rc != REF_OK) {
        fail_msg("canonical request: %s at %zu (%s)", ref_status_name(rc), err.offset, err.reason);
    }
    if (!ref_slice_eq_cstr(ref_buf_slice(&out), want)) {
        fail_msg("canonical request\n--- got\n" REF_SLICE_FMT "\n--- want\n%s\n---",
                 REF_SLICE_ARG(ref_buf_slice(&out)), want);
    }
    ref_buf_cleanup(&out);
}

#define HOST_LINES "host:example.com\nx-amz-date:20261128T124500Z\n"

static void base_request(struct treq *t, const char *method, const char *path, const char *query)
{
    treq_init(t, method, path, query, "");
    treq_add(t, "Host", "example.com");
    treq_add(t, "X-Amz-Date", "20261128T124500Z");
}

static void test_sigv4_canon_path_is_encoded_twice(void **state)
{
    (void)state;
    struct treq t;
    const char *cases[][2] = {
        {"/2012-09-25/jobs/a%20b", "/2012-09-25/jobs/a%2520b"},
        {"/2012-09-25/jobs/a%2Fb", "/2012-09-25/jobs/a%252Fb"},
        {"/2012-09-25/jobs/a%2fb", "/2012-09-25/jobs/a%252fb"},
        {"/2012-09-25/jobs/a%25b", "/2012-09-25/jobs/a%2525b"},
        {"/2012-09-25/jobs/a%3Ab", "/2012-09-25/jobs/a%253Ab"},
        {"/2012-09-25/jobs/a:b@c=d", "/2012-09-25/jobs/a%3Ab%40c%3Dd"},
        {"/\xe1\x88\xb4", "/%E1%88%B4"},
        {"//2012-09-25//jobs/./x/../y/", "/2012-09-25/jobs/y/"},
        {"", "/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        base_request(&t, "GET", cases[i][0], "");
        char want[512];
        snprintf(want, sizeof want, "GET\n%s\n\n" HOST_LINES "\nhost;x-amz-date\n" EMPTY_SHA,
                 cases[i][1]);
        expect_canonical(&t, "host;x-amz-date", want);
        treq_cleanup(&t);
    }
}

static void expect_query(const char *query, const char *want_canonical_query)
{
    struct treq t;
    base_request(&t, "GET", "/", query);
    char want[2048];
    snprintf(want, sizeof want, "GET\n/\n%s\n" HOST_LINES "\nhost;x-amz-date\n" EMPTY_SHA,
             want_canonical_query);
    expect_canonical(&t, "host;x-amz-date", want);
    treq_cleanup(&t);
}

static void test_sigv4_canon_query(void **state)
{
    (void)state;
    expect_query("", "");
    expect_query("Ascending=true&PageToken=1111111111111-abcdef",
                 "Ascending=true&PageToken=1111111111111-abcdef");
    /* Sorted by name, then value, in byte order after encoding. */
    expect_query("Param2=value2&Param1=value1", "Param1=value1&Param2=value2");
    expect_query("Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2");
    expect_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
                 "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
    expect_query("id=1&id-type=2", "id=1&id-type=2");
    expect_query("b=2&a=2&a=1&A=0", "A=0&a=1&a=2&b=2");
    /* Valueless keys, empty values and names. */
    expect_query("a", "a=");
    expect_query("a=", "a=");
    expect_query("=b", "=b");
    expect_query("a&&b", "a=&b=");
    /* '+' is a literal plus; spaces are %20; '=' and '/' in values are encoded. */
    expect_query("p=a+b", "p=a%2Bb");
    expect_query("p=a%2Bb", "p=a%2Bb");
    expect_query("p=a%20b", "p=a%20b");
    expect_query("p=a%3Db=c", "p=a%3Db%3Dc");
    expect_query("p=tok%2F%2B%3D%20x", "p=tok%2F%2B%3D%20x");
    /* Lower-case escapes come out upper case; unreserved escapes come out plain. */
    expect_query("p=a%2fb", "p=a%2Fb");
    expect_query("p=%41%7E", "p=A~");
    /* Raw bytes outside the unreserved set are encoded. */
    expect_query("\xe1\x88\xb4=bar", "%E1%88%B4=bar");
    expect_query("p=a:b@c", "p=a%3Ab%40c");
}

static void test_sigv4_canon_query_rejects_bad_escape(void **state)
{
    (void)state;
    struct treq t;
    base_request(&t, "GET", "/", "a=1&b=%zz");
    struct ref_slice names[2] = {REF_SLICE_LIT("host"), REF_SLICE_LIT("x-amz-date")};
    struct ref_buf out;
    ref_buf_init(&out, 4096);
    assert_int_equal(ref_buf_append_cstr(&out, "keep"), REF_OK);
    struct ref_parse_error err = {0};
    assert_int_equal(
        ref_sigv4_canonical_request(&t.req, names, 2, REF_SLICE_LIT(EMPTY_SHA), &out, &err),
        REF_E_MALFORMED);
    assert_int_equal(err.offset, 6);
    assert_string_equal(err.where, "query.escape");
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&out), "keep"));
    ref_buf_cleanup(&out);
    treq_cleanup(&t);
}

static void test_sigv4_canon_query_param_limit(void **state)
{
    (void)state;
    char query[REF_MAX_QUERY_PARAMS * 8];
    size_t used = 0;
    for (size_t i = 0; i < REF_MAX_QUERY_PARAMS; i++) {
        used += (size_t)snprintf(query + used, sizeof query - used, "%sp%02zu", i ? "&" : "", i);
    }
    struct treq t;
    base_request(&t, "GET", "/", query);
    struct ref_slice names[2] = {REF_SLICE_LIT("host"), REF_SLICE_LIT("x-amz-date")};
    struct ref_buf out;
    ref_buf_init(&out, REF_MAX_CANONICAL_BYTES);
    struct ref_parse_error err = {0};
    assert_int_equal(
        ref_sigv4_canonical_request(&t.req, names, 2, REF_SLICE_LIT(EMPTY_SHA), &out, &err),
        REF_OK);
    ref_buf_reset(&out);
    used += (size_t)snprintf(query + used, sizeof query - used, "&extra");
    t.req.query = ref_slice_make(query, used);
    assert_int_equal(
        ref_sigv4_canonical_request(&t.req, names, 2, REF_SLICE_LIT(EMPTY_SHA), &out, &err),
        REF_E_TOO_LARGE);
    assert_string_equal(err.where, "query");
    assert_int_equal(err.offset, used - strlen("&extra"));
    assert_int_equal(out.len, 0);
    ref_buf_cleanup(&out);
    treq_cleanup(&t);
}

static void test_sigv4_canon_headers(void **state)
{
    (void)state;
    struct treq t;
    base_request(&t, "POST", "/", "");
    treq_add(&t, "My-Header1", "value4");
    treq_add(&t, "X-Trim", "  a   b\t\tc  ");
    treq_add(&t, "my-header1", "value1");
    treq_add(&t, "X-Quoted", "\"a   b   c\"");
    treq_add(&t, "MY-HEADER1", " value3 ");
    treq_add(&t, "X-Empty", "");
    treq_add(&t, "X-Comma", "a, b");
    treq_add(&t, "X-Tab", "\tx\ty\t");
    expect_canonical(
        &t, "host;my-header1;x-amz-date;x-comma;x-empty;x-quoted;x-tab;x-trim",
        "POST\n/\n\nhost:example.com\nmy-header1:value4,value1,value3\n"
        "x-amz-date:20261128T124500Z\nx-comma:a, b\nx-empty:\nx-quoted:\"a b c\"\n"
        "x-tab:x y\nx-trim:a b c\n\n"
        "host;my-header1;x-amz-date;x-comma;x-empty;x-quoted;x-tab;x-trim\n" EMPTY_SHA);
    treq_cleanup(&t);
}

static void test_sigv4_canon_signed_list_taken_as_given(void **state)
{
    (void)state;
    struct treq t;
    base_request(&t, "GET", "/", "");
    /* Unsorted, upper case, repeated and absent names are not repaired: lines follow the
     * list (names lower-cased), and the SignedHeaders line is the list as given. */
    expect_canonical(&t, "x-amz-date;Host;host;x-absent",
                     "GET\n/\n\nx-amz-date:20261128T124500Z\nhost:example.com\nhost:example.com\n"
                     "x-absent:\n\nx-amz-date;Host;host;x-absent\n" EMPTY_SHA);
    /* No signed headers at all. */
    struct ref_buf out;
    ref_buf_init(&out, 1024);
    assert_int_equal(
        ref_sigv4_canonical_request(&t.req, NULL, 0, REF_SLICE_LIT(EMPTY_SHA), &out, NULL), REF_OK);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&out), "GET\n/\n\n\n\n" EMPTY_SHA));
    ref_buf_cleanup(&out);
    treq_cleanup(&t);
}

static void test_sigv4_canon_method_and_payload_as_given(void **state)
{
    (void)state;
    struct treq t;
    base_request(&t, "get", "/", "");
    t.req.body = ref_slice_from_cstr("Param1=value1");
    expect_canonical(&t, "host;x-amz-date",
                     "get\n/\n\n" HOST_LINES "\nhost;x-amz-date\n"
                     "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    treq_cleanup(&t);
}

static void test_sigv4_canon_buffer_cap(void **state)
{
    (void)state;
    struct treq t;
    base_request(&t, "DELETE", "/2012-09-25/jobs/a%2Fb", "b=2&a=1");
    struct ref_slice names[2] = {REF_SLICE_LIT("host"), REF_SLICE_LIT("x-amz-date")};
    struct ref_buf big;
    ref_buf_init(&big, 4096);
    assert_int_equal(
        ref_sigv4_canonical_request(&t.req, names, 2, REF_SLICE_LIT(EMPTY_SHA), &big, NULL),
        REF_OK);
    size_t exact = big.len;
    /* Every cap below the exact size fails cleanly; the exact size fits. */
    uint8_t *storage = malloc(exact);
    assert_non_null(storage);
    for (size_t cap = 0; cap <= exact; cap++) {
        struct ref_buf out;
        ref_buf_init_fixed(&out, storage, cap);
        struct ref_parse_error err = {0};
        enum ref_status rc =
            ref_sigv4_canonical_request(&t.req, names, 2, REF_SLICE_LIT(EMPTY_SHA), &out, &err);
        if (cap < exact) {
            assert_int_equal(rc, REF_E_TOO_LARGE);
            assert_int_equal(out.len, 0);
            assert_int_equal(err.code, REF_E_TOO_LARGE);
            assert_non_null(err.where);
        } else {
            assert_int_equal(rc, REF_OK);
            assert_memory_equal(storage, big.data, exact);
        }
    }
    free(storage);
    ref_buf_cleanup(&big);
    treq_cleanup(&t);
}

static void test_sigv4_canon_appends(void **state)
{
    (void)state;
    struct treq t;
    base_request(&t, "GET", "/", "");
    struct ref_slice names[1] = {REF_SLICE_LIT("host")};
    struct ref_buf out;
    ref_buf_init(&out, 1024);
    assert_int_equal(ref_buf_append_cstr(&out, ">>"), REF_OK);
    assert_int_equal(
        ref_sigv4_canonical_request(&t.req, names, 1, REF_SLICE_LIT(EMPTY_SHA), &out, NULL),
        REF_OK);
    assert_true(
        ref_slice_eq_cstr(ref_buf_slice(&out), ">>GET\n/\n\nhost:example.com\n\nhost\n" EMPTY_SHA));
    ref_buf_cleanup(&out);
    treq_cleanup(&t);
}

/* The signer: which headers it signs when left to choose, and its failures. */

static void test_sigv4_canon_signer_picks_headers(void **state)
{
    (void)state;
    struct treq t;
    treq_init(&t, "GET", "/", "", "");
    const char *skipped[] = {"Authorization",
                             "User-Agent",
                             "Expect",
                             "Transfer-Encoding",
                             "Connection",
                             "Keep-Alive",
                             "Proxy-Authorization",
                             "proxy-foo",
                             "TE",
                             "Trailer",
                             "Upgrade",
                             "X-Amzn-Trace-Id"};
    for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++) {
        treq_add(&t, skipped[i], "x");
    }
    treq_add(&t, "X-Amz-Date", T_NOW_DATE);
    treq_add(&t, "Host", "example.com");
    treq_add(&t, "host", "again");
    treq_add(&t, "Content-Type", "application/json");
    treq_add(&t, "amz-sdk-request", "attempt=1");
    treq_add(&t, "X-Amz-Date", T_NOW_DATE);
    struct ref_buf creq;
    ref_buf_init(&creq, REF_MAX_CANONICAL_BYTES);
    struct ref_sigv4_trace trace = {&creq, NULL};
    struct ref_sigv4_sign_params p = {
        .access_key_id = REF_SLICE_LIT(T_AK_MAIN),
        .secret_access_key = REF_SLICE_LIT(T_SK_MAIN),
        .region = REF_SLICE_LIT(T_REGION),
        .service = REF_SLICE_LIT(T_SERVICE),
        .amz_date = REF_SLICE_LIT(T_NOW_DATE),
    };
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, &trace), REF_OK);
    const char *want_prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/"
                              "elastictranscoder/aws4_request, SignedHeaders=amz-sdk-request;"
                              "content-type;host;x-amz-date, Signature=";
    assert_true(ref_slice_starts_with(ref_buf_slice(&t.authz), ref_slice_from_cstr(want_prefix)));
    assert_int_equal(t.authz.len, strlen(want_prefix) + REF_SHA256_HEX_LEN);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&creq),
                                  "GET\n/\n\namz-sdk-request:attempt=1\n"
                                  "content-type:application/json\nhost:example.com,again\n"
                                  "x-amz-date:" T_NOW_DATE "," T_NOW_DATE "\n\n"
                                  "amz-sdk-request;content-type;host;x-amz-date\n" EMPTY_SHA));
    ref_buf_cleanup(&creq);
    treq_cleanup(&t);
}

static void test_sigv4_canon_signer_failures(void **state)
{
    (void)state;
    struct treq t;
    base_request(&t, "GET", "/", "");
    struct ref_sigv4_sign_params p = {
        .access_key_id = REF_SLICE_LIT(T_AK_MAIN),
        .secret_access_key = REF_SLICE_LIT(T_SK_MAIN),
        .region = REF_SLICE_LIT(T_REGION),
        .service = REF_SLICE_LIT(T_SERVICE),
        .amz_date = REF_SLICE_LIT("2026-11-28T12:45:00Z"),
    };
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_E_MALFORMED);
    assert_int_equal(t.authz.len, 0);
    p.amz_date = REF_SLICE_LIT(T_NOW_DATE);

    /* The Authorization value does not fit: nothing is appended. */
    uint8_t small[64];
    struct ref_buf out;
    ref_buf_init_fixed(&out, small, sizeof small);
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &out, NULL), REF_E_TOO_LARGE);
    assert_int_equal(out.len, 0);

    /* More than REF_MAX_SIGNED_HEADERS names, given or chosen. */
    struct ref_slice names[REF_MAX_SIGNED_HEADERS + 1];
    for (size_t i = 0; i < REF_MAX_SIGNED_HEADERS + 1; i++) {
        names[i] = REF_SLICE_LIT("host");
    }
    p.signed_headers = names;
    p.num_signed_headers = REF_MAX_SIGNED_HEADERS + 1;
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_E_TOO_LARGE);
    p.num_signed_headers = REF_MAX_SIGNED_HEADERS;
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_OK);
    treq_cleanup(&t);

    static char header_names[REF_MAX_SIGNED_HEADERS + 1][16];
    treq_init(&t, "GET", "/", "", "");
    for (size_t i = 0; i < REF_MAX_SIGNED_HEADERS; i++) {
        snprintf(header_names[i], sizeof header_names[i], "x-h%02zu", i);
        treq_add(&t, header_names[i], "v");
    }
    p.signed_headers = NULL;
    p.num_signed_headers = 0;
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_OK);
    snprintf(header_names[REF_MAX_SIGNED_HEADERS], 16, "x-h%02d", REF_MAX_SIGNED_HEADERS);
    treq_add(&t, header_names[REF_MAX_SIGNED_HEADERS], "v");
    ref_buf_reset(&t.authz);
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_E_TOO_LARGE);
    assert_int_equal(t.authz.len, 0);
    /* An unsignable header does not count against the limit. */
    t.headers[REF_MAX_SIGNED_HEADERS].name = REF_SLICE_LIT("User-Agent");
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_OK);
    treq_cleanup(&t);

    /* The signer never writes an Authorization value the verifier would refuse as too
     * long (fuzz_service found one from long mutated header names): at exactly
     * REF_MAX_AUTHORIZATION_BYTES it signs, and the request verifies; one byte more and it
     * refuses with nothing appended. */
    {
        static char long_name[REF_MAX_AUTHORIZATION_BYTES];
        struct ref_buf probe;
        ref_buf_init(&probe, 4 * REF_MAX_AUTHORIZATION_BYTES);
        treq_init(&t, "GET", "/", "", "");
        treq_add(&t, "Host", "example.com");
        treq_add(&t, "X-Amz-Date", T_NOW_DATE);
        memset(long_name, 'n', sizeof long_name);
        long_name[0] = 'x';
        treq_add_slice(&t, ref_slice_make(long_name, 1), REF_SLICE_LIT("v"));
        assert_int_equal(ref_sigv4_sign(&p, &t.req, &probe, NULL), REF_OK);
        size_t short_len = probe.len;
        assert_true(short_len < REF_MAX_AUTHORIZATION_BYTES);
        size_t at_limit = 1 + REF_MAX_AUTHORIZATION_BYTES - short_len;
        t.headers[2].name = ref_slice_make(long_name, at_limit);
        ref_buf_reset(&t.authz);
        assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_OK);
        assert_int_equal(t.authz.len, REF_MAX_AUTHORIZATION_BYTES);
        struct ref_sigv4_verifier v = test_verifier();
        struct ref_sigv4_outcome outcome;
        treq_add_slice(&t, REF_SLICE_LIT("Authorization"), ref_buf_slice(&t.authz));
        assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S, &outcome, NULL), REF_OK);
        t.req.num_headers--;
        t.headers[2].name = ref_slice_make(long_name, at_limit + 1);
        ref_buf_reset(&t.authz);
        assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_E_TOO_LARGE);
        assert_int_equal(t.authz.len, 0);
        ref_buf_cleanup(&probe);
        treq_cleanup(&t);
    }

    /* Choosing from REF_MAX_HEADERS header lines works; from one more, it does not. */
    treq_init(&t, "GET", "/", "", "");
    treq_add(&t, "Host", "example.com");
    treq_add(&t, "X-Amz-Date", T_NOW_DATE);
    while (t.req.num_headers < REF_MAX_HEADERS) {
        treq_add(&t, "User-Agent", "unsigned");
    }
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&t.authz), REF_OK);
    assert_non_null(strstr((const char *)t.authz.data, ", SignedHeaders=host;x-amz-date, "));
    ref_buf_reset(&t.authz);
    treq_add(&t, "User-Agent", "unsigned");
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, NULL), REF_E_TOO_LARGE);
    assert_int_equal(t.authz.len, 0);
    treq_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_canon_sha256_hex),
        cmocka_unit_test(test_sigv4_canon_signing_key),
        cmocka_unit_test(test_sigv4_canon_signature),
        cmocka_unit_test(test_sigv4_canon_string_to_sign),
        cmocka_unit_test(test_sigv4_canon_path_is_encoded_twice),
        cmocka_unit_test(test_sigv4_canon_query),
        cmocka_unit_test(test_sigv4_canon_query_rejects_bad_escape),
        cmocka_unit_test(test_sigv4_canon_query_param_limit),
        cmocka_unit_test(test_sigv4_canon_headers),
        cmocka_unit_test(test_sigv4_canon_signed_list_taken_as_given),
        cmocka_unit_test(test_sigv4_canon_method_and_payload_as_given),
        cmocka_unit_test(test_sigv4_canon_buffer_cap),
        cmocka_unit_test(test_sigv4_canon_appends),
        cmocka_unit_test(test_sigv4_canon_signer_picks_headers),
        cmocka_unit_test(test_sigv4_canon_signer_failures),
    };
    return cmocka_run_group_tests_name("sigv4_canon", tests, NULL, NULL);
}
