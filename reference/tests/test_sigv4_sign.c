/* SPDX-License-Identifier: Apache-2.0
 *
 * test_sigv4_sign.c - ref_sigv4_sign_request, the signing call that returns what the
 * signer adds: its result verifies, the token and x-amz-content-sha256 come only when
 * asked, the headers come in the order X-Amz-Date, token, content hash, Authorization, the
 * added headers are signed, and a refusal (a limit passed) adds nothing.
 *
 * The vectors (test_sigv4_vectors.c) prove the lower layer, ref_sigv4_sign, against the
 * public suites; these tests check that the result is that signature over the request as
 * it goes out, and that nothing else changes it.
 */
#include "sigv4_test_support.h"
#include "test_util.h"

#include "ref/http.h"
#include "ref/limits.h"
#include "ref/sigv4.h"

#include <string.h>

#define T_HOST "elastictranscoder.us-east-1.amazonaws.com"

/* A CancelJob without any of the headers the signer adds. */
static void unsigned_cancel(struct treq *t, const char *body)
{
    treq_init(t, "DELETE", "/2012-09-25/jobs/1111111111111-abcdef", "", body);
    treq_add(t, "Host", T_HOST);
    treq_add(t, "User-Agent", "test");
}

static struct ref_sigv4_sign_params params(const char *ak, const char *sk)
{
    return (struct ref_sigv4_sign_params){
        .access_key_id = ref_slice_from_cstr(ak),
        .secret_access_key = ref_slice_from_cstr(sk),
        .region = REF_SLICE_LIT(T_REGION),
        .service = REF_SLICE_LIT(T_SERVICE),
        .amz_date = REF_SLICE_LIT(T_NOW_DATE),
    };
}

/* Adds the result's headers to the request and checks it verifies as the principal ak. */
static void
apply_and_verify(struct treq *t, const struct ref_sigv4_signing_result *r, const char *ak)
{
    assert_int_equal(
        ref_sigv4_signing_result_apply(r, t->headers, &t->req.num_headers, TREQ_MAX_HEADERS),
        REF_OK);
    struct ref_sigv4_verifier v = test_verifier();
    struct ref_sigv4_outcome out;
    assert_int_equal(ref_sigv4_verify(&v, &t->req, T_NOW_S, &out, NULL), REF_OK);
    assert_string_equal(out.credential->access_key_id, ak);
}

static void
assert_names(const struct ref_sigv4_signing_result *r, const char *const *want, size_t n)
{
    assert_int_equal(r->num_headers, n);
    for (size_t i = 0; i < n; i++) {
        assert_true(ref_slice_eq_cstr(r->headers[i].name, want[i]));
    }
}

static struct ref_sigv4_auth parse_auth(const struct ref_sigv4_signing_result *r)
{
    struct ref_sigv4_auth auth;
    assert_int_equal(
        ref_sigv4_parse_authorization(ref_sigv4_signing_result_authorization(r), &auth, NULL),
        REF_OK);
    return auth;
}

static void test_sigv4_sign_request_result_verifies(void **state)
{
    (void)state;
    struct treq t;
    unsigned_cancel(&t, "");
    struct ref_sigv4_sign_params p = params(T_AK_MAIN, T_SK_MAIN);
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    static const char *const want[] = {"X-Amz-Date", "Authorization"};
    assert_names(&r, want, 2);
    assert_true(ref_slice_eq_cstr(r.headers[0].value, T_NOW_DATE));
    /* The date it added is signed; User-Agent, which proxies may change, is not. */
    struct ref_sigv4_auth auth = parse_auth(&r);
    assert_true(ref_slice_eq_cstr(auth.signed_headers_list, "host;x-amz-date"));
    apply_and_verify(&t, &r, T_AK_MAIN);
    ref_sigv4_signing_result_cleanup(&r);
    treq_cleanup(&t);
}

/* The result's Authorization is the lower layer's signature over the request as sent. */
static void test_sigv4_sign_request_matches_lower_layer(void **state)
{
    (void)state;
    struct treq t;
    unsigned_cancel(&t, "{}");
    struct ref_sigv4_sign_params p = params(T_AK_SESSION, T_SK_SESSION);
    p.session_token = REF_SLICE_LIT(T_TOKEN);
    p.has_content_sha256 = true;
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);

    struct treq by_hand;
    unsigned_cancel(&by_hand, "{}");
    treq_add(&by_hand, "X-Amz-Date", T_NOW_DATE);
    treq_add(&by_hand, "X-Amz-Security-Token", T_TOKEN);
    char hash[REF_SHA256_HEX_LEN];
    ref_sigv4_sha256_hex(REF_SLICE_LIT("{}"), hash);
    treq_add_slice(&by_hand, REF_SLICE_LIT("x-amz-content-sha256"),
                   ref_slice_make(hash, sizeof hash));
    assert_int_equal(ref_sigv4_sign(&p, &by_hand.req, &by_hand.authz, NULL), REF_OK);
    assert_true(
        ref_slice_eq(ref_sigv4_signing_result_authorization(&r), ref_buf_slice(&by_hand.authz)));
    assert_true(ref_slice_eq(r.headers[2].value, ref_slice_make(hash, sizeof hash)));
    ref_sigv4_signing_result_cleanup(&r);
    treq_cleanup(&by_hand);
    treq_cleanup(&t);
}

static void test_sigv4_sign_request_token_only_when_asked(void **state)
{
    (void)state;
    struct treq t;
    unsigned_cancel(&t, "");
    struct ref_sigv4_sign_params p = params(T_AK_SESSION, T_SK_SESSION);
    p.session_token = REF_SLICE_LIT(T_TOKEN);
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    static const char *const want[] = {"X-Amz-Date", "X-Amz-Security-Token", "Authorization"};
    assert_names(&r, want, 3);
    assert_true(ref_slice_eq_cstr(r.headers[1].value, T_TOKEN));
    struct ref_sigv4_auth auth = parse_auth(&r);
    assert_true(
        ref_slice_eq_cstr(auth.signed_headers_list, "host;x-amz-date;x-amz-security-token"));
    apply_and_verify(&t, &r, T_AK_SESSION);
    ref_sigv4_signing_result_cleanup(&r);
    treq_cleanup(&t);

    /* Without a token (ptr NULL) there is no token header. */
    unsigned_cancel(&t, "");
    p = params(T_AK_MAIN, T_SK_MAIN);
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    assert_int_equal(treq_count(&t, "x-amz-security-token"), 0);
    for (size_t i = 0; i < r.num_headers; i++) {
        assert_false(ref_slice_eq_cstr(r.headers[i].name, "X-Amz-Security-Token"));
        assert_false(ref_slice_eq_cstr(r.headers[i].name, "x-amz-content-sha256"));
    }
    ref_sigv4_signing_result_cleanup(&r);
    treq_cleanup(&t);
}

static void test_sigv4_sign_request_content_sha256_only_when_asked(void **state)
{
    (void)state;
    struct treq t;
    unsigned_cancel(&t, "");
    struct ref_sigv4_sign_params p = params(T_AK_MAIN, T_SK_MAIN);
    p.has_content_sha256 = true;
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    static const char *const want[] = {"X-Amz-Date", "x-amz-content-sha256", "Authorization"};
    assert_names(&r, want, 3);
    /* The empty body's hash (sigv4-notes: Cancel Job's case). */
    assert_true(ref_slice_eq_cstr(
        r.headers[1].value, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    struct ref_sigv4_auth auth = parse_auth(&r);
    assert_true(
        ref_slice_eq_cstr(auth.signed_headers_list, "host;x-amz-content-sha256;x-amz-date"));
    apply_and_verify(&t, &r, T_AK_MAIN);
    ref_sigv4_signing_result_cleanup(&r);
    treq_cleanup(&t);
}

static void test_sigv4_sign_request_order_with_everything(void **state)
{
    (void)state;
    struct treq t;
    unsigned_cancel(&t, "");
    struct ref_sigv4_sign_params p = params(T_AK_SESSION, T_SK_SESSION);
    p.session_token = REF_SLICE_LIT(T_TOKEN);
    p.has_content_sha256 = true;
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    static const char *const want[] = {"X-Amz-Date", "X-Amz-Security-Token", "x-amz-content-sha256",
                                       "Authorization"};
    assert_names(&r, want, REF_SIGV4_MAX_ADDED_HEADERS);
    apply_and_verify(&t, &r, T_AK_SESSION);
    /* Applied after the request's own headers, in the result's order. */
    assert_true(ref_slice_eq_cstr(t.headers[1].name, "User-Agent"));
    assert_true(ref_slice_eq_cstr(t.headers[2].name, "X-Amz-Date"));
    assert_true(ref_slice_eq_cstr(t.headers[5].name, "Authorization"));
    ref_sigv4_signing_result_cleanup(&r);
    treq_cleanup(&t);
}

/* An explicit SignedHeaders list is taken as given, even when it leaves an addition out. */
static void test_sigv4_sign_request_explicit_list(void **state)
{
    (void)state;
    struct treq t;
    unsigned_cancel(&t, "");
    const struct ref_slice names[] = {REF_SLICE_LIT("host"), REF_SLICE_LIT("x-amz-date")};
    struct ref_sigv4_sign_params p = params(T_AK_MAIN, T_SK_MAIN);
    p.has_content_sha256 = true;
    p.signed_headers = names;
    p.num_signed_headers = 2;
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    struct ref_sigv4_auth auth = parse_auth(&r);
    assert_true(ref_slice_eq_cstr(auth.signed_headers_list, "host;x-amz-date"));
    apply_and_verify(&t, &r, T_AK_MAIN);
    ref_sigv4_signing_result_cleanup(&r);
    treq_cleanup(&t);
}

/* A request written with its own date keeps it: no second X-Amz-Date. */
static void test_sigv4_sign_request_date_in_request(void **state)
{
    (void)state;
    struct treq t;
    unsigned_cancel(&t, "");
    treq_add(&t, "X-Amz-Date", T_NOW_DATE);
    struct ref_sigv4_sign_params p = params(T_AK_MAIN, T_SK_MAIN);
    p.is_date_in_request = true;
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    static const char *const want[] = {"Authorization"};
    assert_names(&r, want, 1);
    apply_and_verify(&t, &r, T_AK_MAIN);
    assert_int_equal(treq_count(&t, "x-amz-date"), 1);
    ref_sigv4_signing_result_cleanup(&r);
    treq_cleanup(&t);
}

static void
assert_refused(const struct ref_sigv4_sign_params *p, const struct treq *t, enum ref_status want)
{
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(p, &t->req, &r, NULL), want);
    assert_int_equal(r.num_headers, 0);
    assert_int_equal(ref_sigv4_signing_result_authorization(&r).len, 0);
    struct ref_header headers[2];
    size_t n = 0;
    assert_int_equal(ref_sigv4_signing_result_apply(&r, headers, &n, 2), REF_OK);
    assert_int_equal(n, 0);
    ref_sigv4_signing_result_cleanup(&r);
}

static void test_sigv4_sign_request_refusal_adds_nothing(void **state)
{
    (void)state;
    struct treq t;
    unsigned_cancel(&t, "");
    struct ref_sigv4_sign_params p = params(T_AK_MAIN, T_SK_MAIN);

    /* A token at the limit is taken; one byte over is refused. */
    static char token[REF_SIGV4_MAX_SESSION_TOKEN_BYTES + 1];
    memset(token, 't', sizeof token);
    p.session_token = ref_slice_make(token, REF_SIGV4_MAX_SESSION_TOKEN_BYTES);
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    assert_int_equal(r.headers[1].value.len, REF_SIGV4_MAX_SESSION_TOKEN_BYTES);
    ref_sigv4_signing_result_cleanup(&r);
    p.session_token = ref_slice_make(token, sizeof token);
    assert_refused(&p, &t, REF_E_TOO_LARGE);
    p.session_token = (struct ref_slice){NULL, 0};

    /* More SignedHeaders names than the verifier takes. */
    char names[REF_MAX_SIGNED_HEADERS][16];
    for (size_t i = 0; i < REF_MAX_SIGNED_HEADERS; i++) {
        snprintf(names[i], sizeof names[i], "x-etch-%02zu", i);
        treq_add(&t, names[i], "v");
    }
    assert_refused(&p, &t, REF_E_TOO_LARGE);
    treq_cleanup(&t);

    /* A request with every header the call can take (more than the parser accepts, all
     * unsignable but Host so the names stay few), and one more. */
    unsigned_cancel(&t, "");
    static struct ref_header many[REF_SIGV4_SIGN_MAX_HEADERS];
    size_t most = REF_SIGV4_SIGN_MAX_HEADERS - REF_SIGV4_MAX_ADDED_HEADERS;
    many[0] = (struct ref_header){REF_SLICE_LIT("Host"), REF_SLICE_LIT(T_HOST)};
    for (size_t i = 1; i <= most; i++) {
        many[i] = (struct ref_header){REF_SLICE_LIT("User-Agent"), REF_SLICE_LIT("test")};
    }
    t.req.headers = many;
    t.req.num_headers = most;
    /* The default choice looks at REF_MAX_HEADERS headers at most: sign an explicit list. */
    const struct ref_slice host_date[] = {REF_SLICE_LIT("host"), REF_SLICE_LIT("x-amz-date")};
    p.signed_headers = host_date;
    p.num_signed_headers = 2;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    ref_sigv4_signing_result_cleanup(&r);
    t.req.num_headers = most + 1;
    assert_refused(&p, &t, REF_E_TOO_LARGE);

    /* A date that is not YYYYMMDDTHHMMSSZ. */
    t.req.num_headers = 1;
    p.amz_date = REF_SLICE_LIT("2026-11-28");
    assert_refused(&p, &t, REF_E_MALFORMED);
    treq_cleanup(&t);
}

static void test_sigv4_sign_request_apply_all_or_nothing(void **state)
{
    (void)state;
    struct treq t;
    unsigned_cancel(&t, "");
    struct ref_sigv4_sign_params p = params(T_AK_MAIN, T_SK_MAIN);
    struct ref_sigv4_signing_result r;
    assert_int_equal(ref_sigv4_sign_request(&p, &t.req, &r, NULL), REF_OK);
    struct ref_header headers[3] = {{REF_SLICE_LIT("Host"), REF_SLICE_LIT(T_HOST)}};
    size_t n = 1;
    /* Room for one of the two: nothing goes in. */
    assert_int_equal(ref_sigv4_signing_result_apply(&r, headers, &n, 2), REF_E_TOO_LARGE);
    assert_int_equal(n, 1);
    assert_int_equal(ref_sigv4_signing_result_apply(&r, headers, &n, 3), REF_OK);
    assert_int_equal(n, 3);
    /* Cleanup wipes the signature and leaves nothing to add. */
    size_t len = r.authorization_len;
    ref_sigv4_signing_result_cleanup(&r);
    assert_int_equal(r.num_headers, 0);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(r.authorization[i], 0);
    }
    treq_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_sign_request_result_verifies),
        cmocka_unit_test(test_sigv4_sign_request_matches_lower_layer),
        cmocka_unit_test(test_sigv4_sign_request_token_only_when_asked),
        cmocka_unit_test(test_sigv4_sign_request_content_sha256_only_when_asked),
        cmocka_unit_test(test_sigv4_sign_request_order_with_everything),
        cmocka_unit_test(test_sigv4_sign_request_explicit_list),
        cmocka_unit_test(test_sigv4_sign_request_date_in_request),
        cmocka_unit_test(test_sigv4_sign_request_refusal_adds_nothing),
        cmocka_unit_test(test_sigv4_sign_request_apply_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
