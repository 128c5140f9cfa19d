/* SPDX-License-Identifier: Apache-2.0
 *
 * test_sigv4_verify.c - the verifier: every status of contract section 5 in its order,
 * the exact messages, the limits, allocation failures, and the 30 real-client captures
 * (each must verify, and no single-byte change to a signed part may).
 *
 * Requests are built by hand and signed with the reference's signer (test_sigv4_vectors.c
 * proves the signer against the public suites); the captures are parsed with the strict
 * HTTP parser exactly as the service will receive them.
 */
#include "sigv4_test_support.h"
#include "test_util.h"

#include "ref/http.h"
#include "ref/limits.h"
#include "ref/mem.h"
#include "ref/sigv4.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

static enum ref_status verify_at(const struct treq *t, int64_t now_s, struct ref_sigv4_outcome *out)
{
    struct ref_sigv4_verifier v = test_verifier();
    enum ref_status rc = ref_sigv4_verify(&v, &t->req, now_s, out, NULL);
    assert_int_equal(rc, out->status);
    return rc;
}

static enum ref_status verify(const struct treq *t, struct ref_sigv4_outcome *out)
{
    return verify_at(t, T_NOW_S, out);
}

/* A botocore-style CancelJob, unsigned. */
static void cancel_job(struct treq *t)
{
    treq_init(t, "DELETE", "/2012-09-25/jobs/1111111111111-abcdef", "", "");
    treq_add(t, "Host", "elastictranscoder.us-east-1.amazonaws.com");
    treq_add(t, "X-Amz-Date", T_NOW_DATE);
    treq_add(t, "User-Agent", "test");
}

/* A request to example.com at the pinned time, unsigned; with an x-amz-content-sha256
 * header when content_sha256 is not NULL. The payload-hash checks and their place in the
 * check order are tested on it. */
static void example_request(struct treq *t,
                            const char *method,
                            const char *path,
                            const char *body,
                            const char *content_sha256)
{
    treq_init(t, method, path, "", body);
    treq_add(t, "host", "example.com");
    treq_add(t, "x-amz-date", T_NOW_DATE);
    if (content_sha256 != NULL) {
        treq_add(t, "x-amz-content-sha256", content_sha256);
    }
}

static void expect_status(const struct treq *t, enum ref_status want, const char *message)
{
    struct ref_sigv4_outcome out;
    enum ref_status rc = verify(t, &out);
    if (rc != want) {
        fail_msg("verify: got %s (%s), want %s", ref_status_name(rc), out.message,
                 ref_status_name(want));
    }
    if (message != NULL) {
        assert_string_equal(out.message, message);
    }
    if (want != REF_OK) {
        assert_null(out.credential);
        assert_true(out.message[0] != '\0');
    }
}

/* OK. */

static void test_sigv4_verify_accepts_signed_request(void **state)
{
    (void)state;
    struct treq t;
    cancel_job(&t);
    treq_sign(&t, "host;x-amz-date");
    struct ref_sigv4_outcome out;
    assert_int_equal(verify(&t, &out), REF_OK);
    assert_ptr_equal(out.credential, &s_test_creds[0]);
    treq_cleanup(&t);

    /* The signer choosing the headers, a POST with a body, a query. */
    treq_init(&t, "POST", "/2012-09-25/pipelines/1111111111111-abcde1/status", "a=1&b",
              "{\"Status\":\"Paused\"}");
    treq_add(&t, "host", "localhost:8080");
    treq_add(&t, "x-amz-date", T_NOW_DATE);
    treq_add(&t, "Content-Type", "application/json");
    treq_sign(&t, NULL);
    expect_status(&t, REF_OK, "");
    treq_cleanup(&t);
}

static void test_sigv4_verify_accepts_session_token(void **state)
{
    (void)state;
    struct treq t;
    cancel_job(&t);
    treq_add(&t, "X-Amz-Security-Token", T_TOKEN);
    treq_sign_with(&t, T_AK_SESSION, T_SK_SESSION, T_REGION, T_SERVICE, T_NOW_DATE,
                   "host;x-amz-date;x-amz-security-token");
    struct ref_sigv4_outcome out;
    assert_int_equal(verify(&t, &out), REF_OK);
    assert_ptr_equal(out.credential, &s_test_creds[2]);
    treq_cleanup(&t);
}

static void test_sigv4_verify_accepts_content_sha256(void **state)
{
    (void)state;
    struct treq t;
    example_request(&t, "POST", "/2012-09-25/jobs", "{}",
                    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    treq_sign(&t, "host;x-amz-content-sha256;x-amz-date");
    expect_status(&t, REF_OK, "");
    treq_cleanup(&t);
}

/* 1. Missing authentication. */

static void test_sigv4_verify_rejects_missing_auth(void **state)
{
    (void)state;
    struct treq t;
    cancel_job(&t);
    expect_status(&t, REF_E_MISSING_AUTH, "Missing Authentication Token");
    treq_cleanup(&t);

    /* Query parameters that merely look like SigV4's are not presigning. */
    treq_init(&t, "GET", "/", "X-Amz-Date=x&Signature=y", "");
    expect_status(&t, REF_E_MISSING_AUTH, NULL);
    treq_cleanup(&t);
}

static void test_sigv4_verify_rejects_presigned_query(void **state)
{
    (void)state;
    const char *queries[] = {
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "a=1&X-Amz-Credential=AKIDEXAMPLE%2F20261128%2Fus-east-1%2Felastictranscoder",
        "X-Amz-Signature=abc&b",
        "x-amz-signature",
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        struct treq t;
        cancel_job(&t);
        t.req.query = ref_slice_from_cstr(queries[i]);
        expect_status(&t, REF_E_INCOMPLETE_SIGNATURE, NULL);
        treq_cleanup(&t);
    }
    /* With an Authorization header as well, the header decides. */
    struct treq t;
    cancel_job(&t);
    t.req.query = ref_slice_from_cstr("X-Amz-Signature=abc");
    treq_sign(&t, "host;x-amz-date");
    expect_status(&t, REF_OK, NULL);
    treq_cleanup(&t);
}

/* 2. Incomplete signature. */

static void with_authorization(struct treq *t, const char *value)
{
    cancel_job(t);
    treq_add(t, "Authorization", value);
}

#define CRED_OK "Credential=AKIDEXAMPLE/20261128/us-east-1/elastictranscoder/aws4_request"
#define SIG_OK  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

static void test_sigv4_verify_rejects_unparseable_authorization(void **state)
{
    (void)state;
    struct {
        const char *value;
        const char *where;
    } cases[] = {
        {"Bearer abc", "authorization.algorithm"},
        {"AWS4-HMAC-SHA256", "authorization.algorithm"},
        {"AWS4-HMAC-SHA256 SignedHeaders=host, " SIG_OK, "authorization.credential"},
        {"AWS4-HMAC-SHA256 " CRED_OK ", " SIG_OK, "authorization.signed_headers"},
        {"AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=host", "authorization.signature"},
        {"AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=, " SIG_OK, "authorization.signed_headers"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1, SignedHeaders=host, " SIG_OK,
         "authorization.credential"},
        {"AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=host, " SIG_OK ", Extra=1",
         "authorization.component"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct treq t;
        with_authorization(&t, cases[i].value);
        struct ref_sigv4_outcome out;
        assert_int_equal(verify(&t, &out), REF_E_INCOMPLETE_SIGNATURE);
        assert_non_null(out.err.where);
        assert_string_equal(out.err.where, cases[i].where);
        assert_true(strlen(out.message) > 0);
        treq_cleanup(&t);
    }
    struct treq t;
    with_authorization(&t, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128, SignedHeaders=host, "
                           "Signature=abc");
    expect_status(&t, REF_E_INCOMPLETE_SIGNATURE,
                  "Credential must have exactly 5 slash-delimited elements, e.g. "
                  "keyid/date/region/service/term, got 'AKIDEXAMPLE/20261128'");
    treq_cleanup(&t);
}

static void test_sigv4_verify_rejects_repeated_authorization(void **state)
{
    (void)state;
    struct treq t;
    cancel_job(&t);
    treq_sign(&t, "host;x-amz-date");
    treq_add_slice(&t, REF_SLICE_LIT("authorization"), ref_buf_slice(&t.authz));
    expect_status(&t, REF_E_INCOMPLETE_SIGNATURE, "Only one Authorization header is allowed.");
    treq_cleanup(&t);
}

static void test_sigv4_verify_dates(void **state)
{
    (void)state;
    struct treq t;
    /* No date at all. */
    cancel_job(&t);
    treq_remove(&t, "X-Amz-Date");
    treq_add(&t, "Authorization", "AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=host, " SIG_OK);
    expect_status(&t, REF_E_INCOMPLETE_SIGNATURE,
                  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                  "header.");
    treq_cleanup(&t);

    /* X-Amz-Date not ISO-8601 basic. */
    cancel_job(&t);
    t.headers[1].value = REF_SLICE_LIT("2026-11-28T12:45:00Z");
    treq_add(&t, "Authorization", "AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=host, " SIG_OK);
    expect_status(&t, REF_E_INCOMPLETE_SIGNATURE,
                  "Date must be in ISO-8601 'basic format'. Got '2026-11-28T12:45:00Z'. See "
                  "http://en.wikipedia.org/wiki/ISO_8601");
    treq_cleanup(&t);

    /* A Date header alone must be ISO-8601 basic too; then it works. */
    cancel_job(&t);
    treq_remove(&t, "X-Amz-Date");
    treq_add(&t, "Date", "Sat, 28 Nov 2026 12:45:00 GMT");
    treq_add(&t, "Authorization", "AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=host, " SIG_OK);
    expect_status(&t, REF_E_INCOMPLETE_SIGNATURE, NULL);
    treq_cleanup(&t);

    cancel_job(&t);
    treq_remove(&t, "X-Amz-Date");
    treq_add(&t, "Date", T_NOW_DATE);
    treq_sign(&t, "date;host");
    expect_status(&t, REF_OK, NULL);
    treq_cleanup(&t);

    /* X-Amz-Date wins over Date, whichever is malformed. */
    cancel_job(&t);
    treq_add(&t, "Date", "Sat, 28 Nov 2026 12:45:00 GMT");
    treq_sign(&t, "host;x-amz-date");
    expect_status(&t, REF_OK, NULL);
    treq_cleanup(&t);

    cancel_job(&t);
    t.headers[1].value = REF_SLICE_LIT("yesterday");
    treq_add(&t, "Date", T_NOW_DATE);
    treq_sign(&t, "date;host");
    expect_status(&t, REF_E_INCOMPLETE_SIGNATURE, NULL);
    treq_cleanup(&t);

    /* A repeated X-Amz-Date is ambiguous. */
    cancel_job(&t);
    treq_add(&t, "x-amz-date", T_NOW_DATE);
    treq_sign(&t, "host;x-amz-date");
    expect_status(&t, REF_E_INCOMPLETE_SIGNATURE, NULL);
    treq_cleanup(&t);
}

/* 3. Clock skew. */

static void signed_at(struct treq *t, int64_t at_s)
{
    static char date[17];
    ref_sigv4_format_amz_date(at_s, date);
    cancel_job(t);
    t->headers[1].value = ref_slice_from_cstr(date);
    treq_sign_with(t, T_AK_MAIN, T_SK_MAIN, T_REGION, T_SERVICE, date, "host;x-amz-date");
}

static void test_sigv4_verify_skew_window(void **state)
{
    (void)state;
    static const struct {
        int64_t offset_s;
        enum ref_status want;
    } cases[] = {
        /* One minute either way: accepted (must). The window's edges: accepted. */
        {-60, REF_OK},
        {60, REF_OK},
        {-300, REF_OK},
        {300, REF_OK},
        {0, REF_OK},
        /* A second past the edge, and twenty minutes off: refused (must). */
        {-301, REF_E_SIGNATURE_EXPIRED},
        {301, REF_E_SIGNATURE_NOT_YET_CURRENT},
        {-1200, REF_E_SIGNATURE_EXPIRED},
        {1200, REF_E_SIGNATURE_NOT_YET_CURRENT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct treq t;
        signed_at(&t, T_NOW_S + cases[i].offset_s);
        expect_status(&t, cases[i].want, NULL);
        treq_cleanup(&t);
    }
}

static void test_sigv4_verify_skew_messages(void **state)
{
    (void)state;
    struct treq t;
    signed_at(&t, T_NOW_S - 45 * 60);
    expect_status(&t, REF_E_SIGNATURE_EXPIRED,
                  "Signature expired: 20261128T120000Z is now earlier than 20261128T124000Z "
                  "(20261128T124500Z - 5 min.)");
    treq_cleanup(&t);
    signed_at(&t, T_NOW_S + 15 * 60);
    expect_status(&t, REF_E_SIGNATURE_NOT_YET_CURRENT,
                  "Signature not yet current: 20261128T130000Z is still later than "
                  "20261128T125000Z (20261128T124500Z + 5 min.)");
    treq_cleanup(&t);

    /* The window is a setting: 15 minutes, 90 seconds, none. */
    struct ref_sigv4_verifier v = test_verifier();
    struct ref_sigv4_outcome out;
    signed_at(&t, T_NOW_S - 16 * 60);
    v.skew_s = 900;
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S, &out, NULL), REF_E_SIGNATURE_EXPIRED);
    assert_string_equal(out.message, "Signature expired: 20261128T122900Z is now earlier than "
                                     "20261128T123000Z (20261128T124500Z - 15 min.)");
    v.skew_s = 90;
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S, &out, NULL), REF_E_SIGNATURE_EXPIRED);
    assert_string_equal(out.message, "Signature expired: 20261128T122900Z is now earlier than "
                                     "20261128T124330Z (20261128T124500Z - 90 sec.)");
    treq_cleanup(&t);

    signed_at(&t, T_NOW_S);
    v.skew_s = 0;
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S, &out, NULL), REF_OK);
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S + 1, &out, NULL),
                     REF_E_SIGNATURE_EXPIRED);
    v.skew_s = -5; /* a negative window is no window */
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S - 1, &out, NULL),
                     REF_E_SIGNATURE_NOT_YET_CURRENT);
    treq_cleanup(&t);
}

/* 4. Host signed. */

static void test_sigv4_verify_rejects_unsigned_host(void **state)
{
    (void)state;
    struct treq t;
    cancel_job(&t);
    treq_sign(&t, "x-amz-date");
    expect_status(&t, REF_E_HOST_NOT_SIGNED,
                  "'Host' must be a 'SignedHeader' in the AWS Authorization.");
    treq_cleanup(&t);
    /* "Host" in upper case counts as signed, and then cannot match. */
    cancel_job(&t);
    treq_sign(&t, "Host;x-amz-date");
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, NULL);
    treq_cleanup(&t);
}

/* 5. Credential scope. */

static void test_sigv4_verify_rejects_bad_scope(void **state)
{
    (void)state;
    struct treq t;
    cancel_job(&t);
    treq_sign_with(&t, T_AK_MAIN, T_SK_MAIN, "eu-west-1", T_SERVICE, T_NOW_DATE, "host;x-amz-date");
    expect_status(&t, REF_E_BAD_SCOPE,
                  "Credential should be scoped to a valid region, not 'eu-west-1'. ");
    treq_cleanup(&t);

    cancel_job(&t);
    treq_sign_with(&t, T_AK_MAIN, T_SK_MAIN, "eu-west-1", "s3", T_NOW_DATE, "host;x-amz-date");
    expect_status(&t, REF_E_BAD_SCOPE,
                  "Credential should be scoped to a valid region, not 'eu-west-1'. Credential "
                  "should be scoped to correct service: 'elastictranscoder'. ");
    treq_cleanup(&t);

    /* The scope date must be the request date's first 8 characters. */
    cancel_job(&t);
    treq_add(&t, "Authorization",
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/us-east-1/elastictranscoder/"
             "aws4_request, SignedHeaders=host;x-amz-date, " SIG_OK);
    expect_status(&t, REF_E_BAD_SCOPE,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP: '20261127' != '20261128', from '20261128T124500Z'. ");
    treq_cleanup(&t);

    /* Every element wrong: all four named in one message, in scope order. */
    cancel_job(&t);
    treq_add(&t, "Authorization",
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2026/mars-1/Elastictranscoder/aws4, "
             "SignedHeaders=host;x-amz-date, " SIG_OK);
    expect_status(&t, REF_E_BAD_SCOPE,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP: '2026' != '20261128', from '20261128T124500Z'. Credential should be "
                  "scoped to a valid region, not 'mars-1'. Credential should be scoped to correct "
                  "service: 'elastictranscoder'. Credential should be scoped with a valid "
                  "terminator: 'aws4_request', not 'aws4'. ");
    treq_cleanup(&t);

    /* Request bytes in the message are printable ASCII and bounded. */
    cancel_job(&t);
    treq_add(&t, "Authorization",
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/\x01\xff"
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/"
             "elastictranscoder/aws4_request, SignedHeaders=host;x-amz-date, " SIG_OK);
    expect_status(&t, REF_E_BAD_SCOPE,
                  "Credential should be scoped to a valid region, not "
                  "'??xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'. ");
    treq_cleanup(&t);
}

/* 6. Key and session token. */

static void test_sigv4_verify_rejects_unknown_key(void **state)
{
    (void)state;
    struct treq t;
    cancel_job(&t);
    treq_sign_with(&t, "AKIDUNKNOWN", T_SK_MAIN, T_REGION, T_SERVICE, T_NOW_DATE,
                   "host;x-amz-date");
    expect_status(&t, REF_E_UNKNOWN_KEY, "The security token included in the request is invalid.");
    treq_cleanup(&t);
    /* Access key ids compare exactly. */
    cancel_job(&t);
    treq_sign_with(&t, "akidexample", T_SK_MAIN, T_REGION, T_SERVICE, T_NOW_DATE,
                   "host;x-amz-date");
    expect_status(&t, REF_E_UNKNOWN_KEY, NULL);
    treq_cleanup(&t);
}

static void session_request(struct treq *t, const char *token, const char *signed_list)
{
    cancel_job(t);
    if (token != NULL) {
        treq_add(t, "X-Amz-Security-Token", token);
    }
    treq_sign_with(t, T_AK_SESSION, T_SK_SESSION, T_REGION, T_SERVICE, T_NOW_DATE, signed_list);
}

static void test_sigv4_verify_rejects_bad_token(void **state)
{
    (void)state;
    const char *msg = "The security token included in the request is invalid.";
    static const struct {
        const char *token;
        const char *signed_list;
    } sessions[] = {
        /* Missing. */
        {NULL, "host;x-amz-date"},
        /* Present but unsigned. */
        {T_TOKEN, "host;x-amz-date"},
        /* Signed but different, or a prefix of the right one. */
        {"etch/session/token/EXAMPLF", "host;x-amz-date;x-amz-security-token"},
        {"etch/session/token", "host;x-amz-date;x-amz-security-token"},
    };
    struct treq t;
    for (size_t i = 0; i < sizeof sessions / sizeof sessions[0]; i++) {
        session_request(&t, sessions[i].token, sessions[i].signed_list);
        expect_status(&t, REF_E_BAD_TOKEN, msg);
        treq_cleanup(&t);
    }
    /* Repeated. */
    cancel_job(&t);
    treq_add(&t, "X-Amz-Security-Token", T_TOKEN);
    treq_add(&t, "X-Amz-Security-Token", T_TOKEN);
    treq_sign_with(&t, T_AK_SESSION, T_SK_SESSION, T_REGION, T_SERVICE, T_NOW_DATE,
                   "host;x-amz-date;x-amz-security-token");
    expect_status(&t, REF_E_BAD_TOKEN, msg);
    treq_cleanup(&t);
    /* A token sent for a key that has none, signed or not, even empty. */
    cancel_job(&t);
    treq_add(&t, "X-Amz-Security-Token", T_TOKEN);
    treq_sign(&t, "host;x-amz-date;x-amz-security-token");
    expect_status(&t, REF_E_BAD_TOKEN, msg);
    treq_cleanup(&t);
    cancel_job(&t);
    treq_add(&t, "x-amz-security-token", "");
    treq_sign(&t, "host;x-amz-date");
    expect_status(&t, REF_E_BAD_TOKEN, msg);
    treq_cleanup(&t);
}

/* 7. Payload hash. */

static void test_sigv4_verify_rejects_payload_hash_mismatch(void **state)
{
    (void)state;
    struct treq t;
    /* The header is signed and matches the signature, but not the body received. */
    example_request(&t, "POST", "/2012-09-25/jobs", "{\"tampered\":1}",
                    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    treq_sign(&t, "host;x-amz-content-sha256;x-amz-date");
    expect_status(&t, REF_E_PAYLOAD_HASH_MISMATCH,
                  "The provided 'x-amz-content-sha256' header does not match what was computed.");
    treq_cleanup(&t);

    /* Upper-case hex is not the hash either. */
    example_request(&t, "POST", "/2012-09-25/jobs", "{}",
                    "44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A");
    treq_sign(&t, "host;x-amz-content-sha256;x-amz-date");
    expect_status(&t, REF_E_PAYLOAD_HASH_MISMATCH, NULL);
    treq_cleanup(&t);

    /* UNSIGNED-PAYLOAD is an S3 feature. */
    example_request(&t, "DELETE", "/2012-09-25/jobs/x", "", "UNSIGNED-PAYLOAD");
    treq_sign(&t, "host;x-amz-content-sha256;x-amz-date");
    expect_status(&t, REF_E_PAYLOAD_HASH_MISMATCH, NULL);
    treq_cleanup(&t);

    /* Repeated lines, even if one is right. */
    example_request(&t, "DELETE", "/2012-09-25/jobs/x", "",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    treq_add(&t, "x-amz-content-sha256",
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    treq_sign(&t, "host;x-amz-content-sha256;x-amz-date");
    expect_status(&t, REF_E_PAYLOAD_HASH_MISMATCH, NULL);
    treq_cleanup(&t);

    /* An unsigned x-amz-content-sha256 does not matter: the signature covers the body. */
    example_request(&t, "DELETE", "/2012-09-25/jobs/x", "", "nonsense");
    treq_sign(&t, "host;x-amz-date");
    expect_status(&t, REF_OK, NULL);
    treq_cleanup(&t);
}

/* 8. Signature. */

static void test_sigv4_verify_rejects_changed_request(void **state)
{
    (void)state;
    const char *msg = ref_status_message(REF_E_SIGNATURE_MISMATCH);
    struct treq t;
    /* The body changed after signing (no content hash header to catch it earlier). */
    example_request(&t, "POST", "/2012-09-25/jobs", "{}", NULL);
    treq_sign(&t, "host;x-amz-date");
    t.req.body = REF_SLICE_LIT("{ }");
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, msg);
    treq_cleanup(&t);
    /* The path, the query, the method, a signed header. */
    cancel_job(&t);
    treq_sign(&t, "host;x-amz-date");
    t.req.path = REF_SLICE_LIT("/2012-09-25/jobs/1111111111111-abcdeg");
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, msg);
    treq_cleanup(&t);
    cancel_job(&t);
    treq_sign(&t, "host;x-amz-date");
    t.req.query = REF_SLICE_LIT("a");
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, msg);
    treq_cleanup(&t);
    cancel_job(&t);
    treq_sign(&t, "host;x-amz-date");
    t.req.method = REF_SLICE_LIT("GET");
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, msg);
    treq_cleanup(&t);
    cancel_job(&t);
    treq_sign(&t, "host;x-amz-date");
    t.headers[0].value = REF_SLICE_LIT("elastictranscoder.us-east-2.amazonaws.com");
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, msg);
    treq_cleanup(&t);
    /* An unsigned header may change. */
    cancel_job(&t);
    treq_sign(&t, "host;x-amz-date");
    t.headers[2].value = REF_SLICE_LIT("another agent");
    expect_status(&t, REF_OK, NULL);
    treq_cleanup(&t);
    /* The wrong secret. */
    cancel_job(&t);
    treq_sign_with(&t, T_AK_MAIN, "not the secret", T_REGION, T_SERVICE, T_NOW_DATE,
                   "host;x-amz-date");
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, msg);
    treq_cleanup(&t);
    /* A query escape that cannot be decoded can never have been signed. */
    cancel_job(&t);
    t.req.query = REF_SLICE_LIT("a=%zz");
    treq_add(&t, "Authorization",
             "AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=host;x-amz-date, " SIG_OK);
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, msg);
    treq_cleanup(&t);
}

/* Replaces the Authorization header (the last one) with the signed value whose signature
 * is swapped for `sig`. t->authz must be NUL-terminated. */
static void set_signature(struct treq *t, const char *sig, char *storage, size_t cap)
{
    const char *authz = (const char *)t->authz.data;
    const char *at = strstr(authz, "Signature=");
    assert_non_null(at);
    size_t head = (size_t)(at - authz) + strlen("Signature=");
    int n = snprintf(storage, cap, "%.*s%s", (int)head, authz, sig);
    assert_true(n > 0 && (size_t)n < cap);
    t->headers[t->req.num_headers - 1].value = ref_slice_from_cstr(storage);
}

static void test_sigv4_verify_signature_shape(void **state)
{
    (void)state;
    struct treq t;
    char storage[1024];
    cancel_job(&t);
    treq_sign(&t, "host;x-amz-date");
    /* ref_buf's data is not NUL-terminated; make a copy that is. */
    assert_int_equal(ref_buf_nul_terminate(&t.authz), REF_OK);
    const char *sig = strstr((const char *)t.authz.data, "Signature=") + strlen("Signature=");
    char good[REF_SHA256_HEX_LEN + 1];
    snprintf(good, sizeof good, "%s", sig);
    expect_status(&t, REF_OK, NULL);

    /* The right signature in upper case does not match (strict lower-case hex). */
    char upper[REF_SHA256_HEX_LEN + 1];
    for (size_t i = 0; i <= REF_SHA256_HEX_LEN; i++) {
        upper[i] = (good[i] >= 'a' && good[i] <= 'f') ? (char)(good[i] - 32) : good[i];
    }
    set_signature(&t, upper, storage, sizeof storage);
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, NULL);
    /* Too short, too long, not hex. */
    char shorter[REF_SHA256_HEX_LEN + 1];
    snprintf(shorter, sizeof shorter, "%.63s", good);
    set_signature(&t, shorter, storage, sizeof storage);
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, NULL);
    char longer[REF_SHA256_HEX_LEN + 2];
    snprintf(longer, sizeof longer, "%s0", good);
    set_signature(&t, longer, storage, sizeof storage);
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, NULL);
    char bad[REF_SHA256_HEX_LEN + 1];
    snprintf(bad, sizeof bad, "%s", good);
    bad[10] = 'g';
    set_signature(&t, bad, storage, sizeof storage);
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, NULL);
    /* Back to the right one. */
    set_signature(&t, good, storage, sizeof storage);
    expect_status(&t, REF_OK, NULL);
    treq_cleanup(&t);
}

static void test_sigv4_verify_signed_headers_taken_as_sent(void **state)
{
    (void)state;
    /* Each list is signed consistently (the HMAC matches what the verifier rebuilds), and
     * still must not verify (contract section 5). */
    const char *lists[] = {
        "x-amz-date;host",          /* unsorted */
        "host;X-Amz-Date",          /* upper case */
        "host;host;x-amz-date",     /* duplicate */
        "host;x-absent;x-amz-date", /* names a header the request lacks */
        "host;;x-amz-date",         /* an empty name */
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct treq t;
        cancel_job(&t);
        treq_sign(&t, lists[i]);
        struct ref_sigv4_outcome out;
        enum ref_status rc = verify(&t, &out);
        if (rc != REF_E_SIGNATURE_MISMATCH) {
            fail_msg("SignedHeaders=%s: got %s", lists[i], ref_status_name(rc));
        }
        treq_cleanup(&t);
    }
}

/* The order of the checks: the first failure decides. */

static void test_sigv4_verify_check_order(void **state)
{
    (void)state;
    struct treq t;
    /* Expired beats host not signed, bad scope, unknown key. */
    cancel_job(&t);
    t.headers[1].value = REF_SLICE_LIT("20261128T120000Z");
    treq_sign_with(&t, "AKIDUNKNOWN", "x", "eu-west-1", T_SERVICE, "20261128T120000Z",
                   "x-amz-date");
    expect_status(&t, REF_E_SIGNATURE_EXPIRED, NULL);
    treq_cleanup(&t);
    /* Host not signed beats bad scope. */
    cancel_job(&t);
    treq_sign_with(&t, "AKIDUNKNOWN", "x", "eu-west-1", T_SERVICE, T_NOW_DATE, "x-amz-date");
    expect_status(&t, REF_E_HOST_NOT_SIGNED, NULL);
    treq_cleanup(&t);
    /* Bad scope beats unknown key. */
    cancel_job(&t);
    treq_sign_with(&t, "AKIDUNKNOWN", "x", "eu-west-1", T_SERVICE, T_NOW_DATE, "host;x-amz-date");
    expect_status(&t, REF_E_BAD_SCOPE, NULL);
    treq_cleanup(&t);
    /* Unknown key beats a token problem. */
    cancel_job(&t);
    treq_add(&t, "X-Amz-Security-Token", "whatever");
    treq_sign_with(&t, "AKIDUNKNOWN", "x", T_REGION, T_SERVICE, T_NOW_DATE, "host;x-amz-date");
    expect_status(&t, REF_E_UNKNOWN_KEY, NULL);
    treq_cleanup(&t);
    /* A token problem beats a payload hash mismatch. */
    example_request(&t, "POST", "/2012-09-25/jobs", "{}", "0000");
    treq_sign_with(&t, T_AK_SESSION, T_SK_SESSION, T_REGION, T_SERVICE, T_NOW_DATE,
                   "host;x-amz-content-sha256;x-amz-date");
    expect_status(&t, REF_E_BAD_TOKEN, NULL);
    treq_cleanup(&t);
    /* A payload hash mismatch beats a signature mismatch. */
    example_request(&t, "POST", "/2012-09-25/jobs", "{}", "0000");
    treq_sign_with(&t, T_AK_MAIN, "wrong secret", T_REGION, T_SERVICE, T_NOW_DATE,
                   "host;x-amz-content-sha256;x-amz-date");
    expect_status(&t, REF_E_PAYLOAD_HASH_MISMATCH, NULL);
    treq_cleanup(&t);
    /* Incomplete beats expired. */
    cancel_job(&t);
    t.headers[1].value = REF_SLICE_LIT("20201128T120000Z");
    treq_add(&t, "Authorization", "AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=host");
    expect_status(&t, REF_E_INCOMPLETE_SIGNATURE, NULL);
    treq_cleanup(&t);
}

/* Traces. */

static void test_sigv4_verify_trace(void **state)
{
    (void)state;
    struct treq t;
    cancel_job(&t);
    struct ref_buf sign_creq, sign_sts, creq, sts;
    ref_buf_init(&sign_creq, REF_MAX_CANONICAL_BYTES);
    ref_buf_init(&sign_sts, 4096);
    ref_buf_init(&creq, REF_MAX_CANONICAL_BYTES);
    ref_buf_init(&sts, 4096);
    struct ref_slice names[2] = {REF_SLICE_LIT("host"), REF_SLICE_LIT("x-amz-date")};
    struct ref_sigv4_sign_params p = {
        .access_key_id = REF_SLICE_LIT(T_AK_MAIN),
        .secret_access_key = REF_SLICE_LIT(T_SK_MAIN),
        .region = REF_SLICE_LIT(T_REGION),
        .service = REF_SLICE_LIT(T_SERVICE),
        .amz_date = REF_SLICE_LIT(T_NOW_DATE),
        .signed_headers = names,
        .num_signed_headers = 2,
    };
    struct ref_sigv4_trace sign_trace = {&sign_creq, &sign_sts};
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &t.authz, &sign_trace), REF_OK);
    treq_add_slice(&t, REF_SLICE_LIT("Authorization"), ref_buf_slice(&t.authz));

    struct ref_sigv4_verifier v = test_verifier();
    struct ref_sigv4_outcome out;
    struct ref_sigv4_trace trace = {&creq, &sts};
    assert_int_equal(ref_buf_append_cstr(&creq, "stale"), REF_OK);
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S, &out, &trace), REF_OK);
    assert_true(ref_slice_eq(ref_buf_slice(&creq), ref_buf_slice(&sign_creq)));
    assert_true(ref_slice_eq(ref_buf_slice(&sts), ref_buf_slice(&sign_sts)));
    assert_true(ref_slice_eq_cstr(
        ref_buf_slice(&creq), "DELETE\n/2012-09-25/jobs/1111111111111-abcdef\n\n"
                              "host:elastictranscoder.us-east-1.amazonaws.com\n"
                              "x-amz-date:20261128T124500Z\n\nhost;x-amz-date\n"
                              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));

    /* A mismatch still shows what was computed; an early failure leaves the trace empty. */
    t.req.path = REF_SLICE_LIT("/2012-09-25/jobs/other");
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S, &out, &trace), REF_E_SIGNATURE_MISMATCH);
    assert_true(ref_slice_starts_with(ref_buf_slice(&creq),
                                      REF_SLICE_LIT("DELETE\n/2012-09-25/jobs/other\n")));
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S + 3600, &out, &trace),
                     REF_E_SIGNATURE_EXPIRED);
    assert_int_equal(creq.len, 0);
    assert_int_equal(sts.len, 0);

    /* A trace buffer too small is left empty; the verdict does not change. */
    uint8_t tiny[8];
    struct ref_buf small;
    ref_buf_init_fixed(&small, tiny, sizeof tiny);
    struct ref_sigv4_trace small_trace = {&small, NULL};
    t.req.path = REF_SLICE_LIT("/2012-09-25/jobs/1111111111111-abcdef");
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S, &out, &small_trace), REF_OK);
    assert_int_equal(small.len, 0);

    ref_buf_cleanup(&sign_creq);
    ref_buf_cleanup(&sign_sts);
    ref_buf_cleanup(&creq);
    ref_buf_cleanup(&sts);
    treq_cleanup(&t);
}

/* Limits, at and over. */

static void test_sigv4_verify_authorization_length_limit(void **state)
{
    (void)state;
    static char value[REF_MAX_AUTHORIZATION_BYTES + 2];
    int head = snprintf(value, sizeof value,
                        "AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=host;x-amz-date, Signature=");
    assert_true(head > 0);
    memset(value + head, 'a', sizeof value - 1 - (size_t)head);
    struct treq t;
    cancel_job(&t);
    treq_add_slice(&t, REF_SLICE_LIT("Authorization"),
                   ref_slice_make(value, REF_MAX_AUTHORIZATION_BYTES));
    /* At the limit it parses; the long signature then cannot match. */
    expect_status(&t, REF_E_SIGNATURE_MISMATCH, NULL);
    t.headers[t.req.num_headers - 1].value = ref_slice_make(value, REF_MAX_AUTHORIZATION_BYTES + 1);
    expect_status(&t, REF_E_TOO_LARGE, NULL);
    treq_cleanup(&t);
}

static void test_sigv4_verify_signed_headers_limit(void **state)
{
    (void)state;
    static char names[REF_MAX_SIGNED_HEADERS + 1][16];
    static char list[REF_MAX_SIGNED_HEADERS * 16 + 32];
    struct treq t;
    cancel_job(&t);
    /* host, x-amz-date and 30 more: exactly REF_MAX_SIGNED_HEADERS, sorted. */
    size_t used = (size_t)snprintf(list, sizeof list, "host;x-amz-date");
    for (size_t i = 0; i < REF_MAX_SIGNED_HEADERS - 2; i++) {
        snprintf(names[i], sizeof names[i], "x-h%02zu", i);
        treq_add(&t, names[i], "v");
        used += (size_t)snprintf(list + used, sizeof list - used, ";%s", names[i]);
    }
    treq_sign(&t, list);
    expect_status(&t, REF_OK, NULL);
    treq_cleanup(&t);

    /* One more is over the limit; the signer refuses it too, so write the header. */
    cancel_job(&t);
    static char authz[4096];
    used = (size_t)snprintf(authz, sizeof authz,
                            "AWS4-HMAC-SHA256 " CRED_OK ", SignedHeaders=host;x-amz-date");
    for (size_t i = 0; i < REF_MAX_SIGNED_HEADERS - 1; i++) {
        snprintf(names[i], sizeof names[i], "x-h%02zu", i);
        treq_add(&t, names[i], "v");
        used += (size_t)snprintf(authz + used, sizeof authz - used, ";%s", names[i]);
    }
    snprintf(authz + used, sizeof authz - used, ", " SIG_OK);
    treq_add(&t, "Authorization", authz);
    struct ref_sigv4_outcome out;
    assert_int_equal(verify(&t, &out), REF_E_TOO_LARGE);
    assert_string_equal(out.err.where, "authorization.signed_headers");
    treq_cleanup(&t);
}

static void test_sigv4_verify_query_param_limit(void **state)
{
    (void)state;
    static char query[REF_MAX_QUERY_PARAMS * 8 + 16];
    size_t used = 0;
    for (size_t i = 0; i < REF_MAX_QUERY_PARAMS; i++) {
        used += (size_t)snprintf(query + used, sizeof query - used, "%sp%02zu=v", i ? "&" : "", i);
    }
    struct treq t;
    cancel_job(&t);
    t.req.query = ref_slice_make(query, used);
    treq_sign(&t, "host;x-amz-date");
    expect_status(&t, REF_OK, NULL);
    used += (size_t)snprintf(query + used, sizeof query - used, "&z=1");
    t.req.query = ref_slice_make(query, used);
    expect_status(&t, REF_E_TOO_LARGE, NULL);
    treq_cleanup(&t);
}

static void test_sigv4_verify_canonical_cap(void **state)
{
    (void)state;
    /* A signed header padded so that the canonical request is exactly the cap. */
    char *pad = malloc(REF_MAX_CANONICAL_BYTES + 2);
    assert_non_null(pad);
    memset(pad, 'p', REF_MAX_CANONICAL_BYTES + 1);
    struct treq t;
    cancel_job(&t);
    treq_add_slice(&t, REF_SLICE_LIT("x-pad"), ref_slice_make(pad, 0));
    struct ref_slice names[3] = {REF_SLICE_LIT("host"), REF_SLICE_LIT("x-amz-date"),
                                 REF_SLICE_LIT("x-pad")};
    struct ref_buf creq;
    ref_buf_init(&creq, REF_MAX_CANONICAL_BYTES);
    assert_int_equal(ref_sigv4_canonical_request(&t.req, names, 3,
                                                 REF_SLICE_LIT("e3b0c44298fc1c149afbf4c8996fb924"
                                                               "27ae41e4649b934ca495991b7852b855"),
                                                 &creq, NULL),
                     REF_OK);
    size_t room = REF_MAX_CANONICAL_BYTES - creq.len;
    ref_buf_cleanup(&creq);
    t.headers[t.req.num_headers - 1].value = ref_slice_make(pad, room);
    treq_sign(&t, "host;x-amz-date;x-pad");
    struct ref_sigv4_verifier v = test_verifier();
    struct ref_sigv4_outcome out;
    ref_buf_init(&creq, REF_MAX_CANONICAL_BYTES);
    struct ref_sigv4_trace trace = {&creq, NULL};
    assert_int_equal(ref_sigv4_verify(&v, &t.req, T_NOW_S, &out, &trace), REF_OK);
    assert_int_equal(creq.len, REF_MAX_CANONICAL_BYTES);
    ref_buf_cleanup(&creq);
    /* One byte more. */
    t.headers[t.req.num_headers - 2].value = ref_slice_make(pad, room + 1);
    expect_status(&t, REF_E_TOO_LARGE, NULL);
    treq_cleanup(&t);
    free(pad);
}

/* Allocation failures: every allocation the verifier and the signer make, failed in turn. */

static int s_allocs_left;

static void *failing_alloc(size_t n)
{
    if (s_allocs_left-- <= 0) {
        return NULL;
    }
    return malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
    if (s_allocs_left-- <= 0) {
        return NULL;
    }
    return realloc(p, n);
}

static void test_sigv4_verify_allocation_failures(void **state)
{
    (void)state;
    const struct ref_mem_hooks hooks = {failing_alloc, failing_realloc, free};
    struct treq t;
    cancel_job(&t);
    /* Ordinary requests are verified on the stack; a signed header this large moves the
     * canonical request to the heap, whose allocation failures are what this tests. */
    static char big[3000];
    memset(big, '7', sizeof big - 1);
    treq_add(&t, "x-big", big);
    treq_sign(&t, NULL);
    struct ref_sigv4_verifier v = test_verifier();
    struct ref_sigv4_outcome out;
    int fail_at = 0;
    for (;; fail_at++) {
        s_allocs_left = fail_at;
        ref_mem_set_hooks(&hooks);
        enum ref_status rc = ref_sigv4_verify(&v, &t.req, T_NOW_S, &out, NULL);
        ref_mem_set_hooks(NULL);
        if (rc == REF_OK) {
            break;
        }
        assert_int_equal(rc, REF_E_NOMEM);
        assert_int_equal(out.status, REF_E_NOMEM);
        assert_true(fail_at < 100);
    }
    assert_true(fail_at > 0);

    /* The signer: nothing appended on failure. */
    treq_remove(&t, "Authorization");
    struct ref_sigv4_sign_params p = {
        .access_key_id = REF_SLICE_LIT(T_AK_MAIN),
        .secret_access_key = REF_SLICE_LIT(T_SK_MAIN),
        .region = REF_SLICE_LIT(T_REGION),
        .service = REF_SLICE_LIT(T_SERVICE),
        .amz_date = REF_SLICE_LIT(T_NOW_DATE),
    };
    struct ref_buf out_buf;
    for (fail_at = 0;; fail_at++) {
        ref_buf_init(&out_buf, 4096);
        s_allocs_left = fail_at;
        ref_mem_set_hooks(&hooks);
        enum ref_status rc = ref_sigv4_sign(&p, &t.req, &out_buf, NULL);
        ref_mem_set_hooks(NULL);
        if (rc == REF_OK) {
            ref_buf_cleanup(&out_buf);
            break;
        }
        assert_int_equal(rc, REF_E_NOMEM);
        assert_int_equal(out_buf.len, 0);
        ref_buf_cleanup(&out_buf);
        assert_true(fail_at < 100);
    }
    assert_true(fail_at > 0);
    treq_cleanup(&t);
}

/* The captures of fixtures/captures: real clients' bytes. */

struct capture {
    char file[128];
    char amz_date[17];
    char *raw;
    size_t len;
};

static size_t load_captures(struct capture *caps, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/captures/index.json", ETCH_SOURCE_DIR);
    json_error_t jerr;
    json_t *index = json_load_file(path, 0, &jerr);
    if (index == NULL) {
        fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
    }
    size_t n = 0;
    size_t i;
    json_t *entry;
    json_array_foreach (index, i, entry) {
        assert_true(n < cap);
        const char *file = json_string_value(json_object_get(entry, "file"));
        const char *date = json_string_value(json_object_get(entry, "x_amz_date"));
        assert_non_null(file);
        assert_non_null(date);
        snprintf(caps[n].file, sizeof caps[n].file, "%s", file);
        snprintf(caps[n].amz_date, sizeof caps[n].amz_date, "%s", date);
        snprintf(path, sizeof path, "%s/fixtures/captures/%s", ETCH_SOURCE_DIR, file);
        caps[n].raw = test_read_file(path, &caps[n].len);
        if (caps[n].raw == NULL) {
            fail_msg("cannot read %s", path);
        }
        n++;
    }
    json_decref(index);
    return n;
}

static void free_captures(struct capture *caps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(caps[i].raw);
    }
}

/* Parses raw strictly and verifies it at `now_s`; a request that does not parse is
 * REF_E_MALFORMED (the service would never reach the verifier). */
static enum ref_status parse_and_verify(const char *raw,
                                        size_t len,
                                        int64_t now_s,
                                        struct ref_http_request *http,
                                        struct ref_sigv4_outcome *out)
{
    struct ref_buf body_buf;
    ref_buf_init(&body_buf, REF_MAX_BODY_BYTES);
    struct ref_parse_error perr = {0};
    enum ref_status rc = ref_http_parse_request(ref_slice_make(raw, len), http, &body_buf, &perr);
    if (rc != REF_OK) {
        ref_buf_cleanup(&body_buf);
        return REF_E_MALFORMED;
    }
    struct ref_sigv4_request req = {
        .method = http->method,
        .path = http->path,
        .query = http->query,
        .headers = http->headers,
        .num_headers = http->num_headers,
        .body = http->body,
    };
    struct ref_sigv4_verifier v = test_verifier();
    rc = ref_sigv4_verify(&v, &req, now_s, out, NULL);
    ref_buf_cleanup(&body_buf);
    return rc;
}

#define MAX_CAPTURES 64

static void test_sigv4_verify_captures(void **state)
{
    (void)state;
    static struct capture caps[MAX_CAPTURES];
    size_t n = load_captures(caps, MAX_CAPTURES);
    assert_int_equal(n, 30);
    struct ref_http_request *http = calloc(1, sizeof *http);
    assert_non_null(http);
    size_t failures = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t now_s = 0;
        assert_int_equal(
            ref_sigv4_parse_amz_date(ref_slice_from_cstr(caps[i].amz_date), &now_s, NULL), REF_OK);
        struct ref_sigv4_outcome out;
        enum ref_status rc = parse_and_verify(caps[i].raw, caps[i].len, now_s, http, &out);
        if (rc != REF_OK || out.credential != &s_test_creds[0]) {
            print_error("%s: %s (%s)\n", caps[i].file, ref_status_name(rc), out.message);
            failures++;
        }
        /* Twenty minutes later the same bytes are refused. */
        rc = parse_and_verify(caps[i].raw, caps[i].len, now_s + 1200, http, &out);
        assert_int_equal(rc, REF_E_SIGNATURE_EXPIRED);
    }
    free(http);
    free_captures(caps, n);
    assert_int_equal(failures, 0);
}

/* One change to one byte that is certain to change the canonical request. */
static uint8_t tamper_byte(const char *raw, size_t at, size_t query_start, size_t query_end)
{
    uint8_t c = (uint8_t)raw[at];
    bool in_escape = at >= query_start && at < query_end &&
                     ((at >= 1 && raw[at - 1] == '%') || (at >= 2 && raw[at - 2] == '%'));
    bool is_hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (in_escape && is_hex) {
        /* A query escape is decoded, so its hex digits must change value, not case. */
        return c == '0' ? (uint8_t)'1' : (uint8_t)'0';
    }
    if (c >= 'a' && c <= 'z') {
        return (uint8_t)(c - 32);
    }
    if (c >= 'A' && c <= 'Z') {
        return (uint8_t)(c + 32);
    }
    if (c >= '0' && c <= '9') {
        return c == '9' ? (uint8_t)'0' : (uint8_t)(c + 1);
    }
    return 'x';
}

struct range {
    const char *part;
    size_t from, to;
};

static size_t offset_of(const char *raw, struct ref_slice s)
{
    return (size_t)((const char *)s.ptr - raw);
}

static void test_sigv4_verify_captures_tampered(void **state)
{
    (void)state;
    static struct capture caps[MAX_CAPTURES];
    size_t n = load_captures(caps, MAX_CAPTURES);
    struct ref_http_request *http = calloc(1, sizeof *http);
    assert_non_null(http);
    size_t tried = 0;
    size_t accepted = 0;
    for (size_t i = 0; i < n; i++) {
        const char *raw = caps[i].raw;
        int64_t now_s = 0;
        assert_int_equal(
            ref_sigv4_parse_amz_date(ref_slice_from_cstr(caps[i].amz_date), &now_s, NULL), REF_OK);
        struct ref_sigv4_outcome out;
        assert_int_equal(parse_and_verify(raw, caps[i].len, now_s, http, &out), REF_OK);
        const struct ref_header *authz =
            ref_http_find_header(http->headers, http->num_headers, REF_SLICE_LIT("authorization"));
        assert_non_null(authz);
        struct ref_sigv4_auth auth;
        assert_int_equal(ref_sigv4_parse_authorization(authz->value, &auth, NULL), REF_OK);

        /* Every signed part, as byte ranges of the raw capture. */
        struct range ranges[REF_MAX_HEADERS + 8];
        size_t num = 0;
        ranges[num++] = (struct range){"method", offset_of(raw, http->method),
                                       offset_of(raw, http->method) + http->method.len};
        ranges[num++] = (struct range){"path", offset_of(raw, http->path),
                                       offset_of(raw, http->path) + http->path.len};
        size_t q_from = http->query.len > 0 ? offset_of(raw, http->query) : 0;
        size_t q_to = q_from + http->query.len;
        ranges[num++] = (struct range){"query", q_from, q_to};
        ranges[num++] = (struct range){"body", offset_of(raw, http->body),
                                       offset_of(raw, http->body) + http->body.len};
        ranges[num++] = (struct range){"credential", offset_of(raw, auth.credential),
                                       offset_of(raw, auth.credential) + auth.credential.len};
        ranges[num++] =
            (struct range){"signed-headers", offset_of(raw, auth.signed_headers_list),
                           offset_of(raw, auth.signed_headers_list) + auth.signed_headers_list.len};
        ranges[num++] = (struct range){"signature", offset_of(raw, auth.signature),
                                       offset_of(raw, auth.signature) + auth.signature.len};
        for (size_t h = 0; h < http->num_headers; h++) {
            for (size_t s = 0; s < auth.num_signed_headers; s++) {
                if (ref_slice_eq_nocase(http->headers[h].name, auth.signed_headers[s])) {
                    struct ref_slice val = http->headers[h].value;
                    ranges[num++] = (struct range){"signed header value", offset_of(raw, val),
                                                   offset_of(raw, val) + val.len};
                    break;
                }
            }
        }
        char *copy = malloc(caps[i].len + 1);
        assert_non_null(copy);
        for (size_t r = 0; r < num; r++) {
            for (size_t at = ranges[r].from; at < ranges[r].to; at++) {
                for (size_t k = 0; k < caps[i].len; k++) {
                    copy[k] = raw[k];
                }
                copy[at] = (char)tamper_byte(raw, at, q_from, q_to);
                enum ref_status rc = parse_and_verify(copy, caps[i].len, now_s, http, &out);
                tried++;
                if (rc == REF_OK) {
                    accepted++;
                    print_error("%s: %s byte %zu ('%c' -> '%c') still verifies\n", caps[i].file,
                                ranges[r].part, at, raw[at], copy[at]);
                }
            }
        }
        free(copy);
    }
    print_message("tampered %zu single bytes of signed parts in %zu captures\n", tried, n);
    free(http);
    free_captures(caps, n);
    assert_true(tried > 5000);
    assert_int_equal(accepted, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_verify_accepts_signed_request),
        cmocka_unit_test(test_sigv4_verify_accepts_session_token),
        cmocka_unit_test(test_sigv4_verify_accepts_content_sha256),
        cmocka_unit_test(test_sigv4_verify_rejects_missing_auth),
        cmocka_unit_test(test_sigv4_verify_rejects_presigned_query),
        cmocka_unit_test(test_sigv4_verify_rejects_unparseable_authorization),
        cmocka_unit_test(test_sigv4_verify_rejects_repeated_authorization),
        cmocka_unit_test(test_sigv4_verify_dates),
        cmocka_unit_test(test_sigv4_verify_skew_window),
        cmocka_unit_test(test_sigv4_verify_skew_messages),
        cmocka_unit_test(test_sigv4_verify_rejects_unsigned_host),
        cmocka_unit_test(test_sigv4_verify_rejects_bad_scope),
        cmocka_unit_test(test_sigv4_verify_rejects_unknown_key),
        cmocka_unit_test(test_sigv4_verify_rejects_bad_token),
        cmocka_unit_test(test_sigv4_verify_rejects_payload_hash_mismatch),
        cmocka_unit_test(test_sigv4_verify_rejects_changed_request),
        cmocka_unit_test(test_sigv4_verify_signature_shape),
        cmocka_unit_test(test_sigv4_verify_signed_headers_taken_as_sent),
        cmocka_unit_test(test_sigv4_verify_check_order),
        cmocka_unit_test(test_sigv4_verify_trace),
        cmocka_unit_test(test_sigv4_verify_authorization_length_limit),
        cmocka_unit_test(test_sigv4_verify_signed_headers_limit),
        cmocka_unit_test(test_sigv4_verify_query_param_limit),
        cmocka_unit_test(test_sigv4_verify_canonical_cap),
        cmocka_unit_test(test_sigv4_verify_allocation_failures),
        cmocka_unit_test(test_sigv4_verify_captures),
        cmocka_unit_test(test_sigv4_verify_captures_tampered),
    };
    return cmocka_run_group_tests_name("sigv4_verify", tests, NULL, NULL);
}
