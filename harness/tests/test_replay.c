/* SPDX-License-Identifier: Apache-2.0
 *
 * test_replay.c - replaying failing steps: saved request names are safe file names, a
 * saved request is signed again keeping every other byte, and the reproducer says plainly
 * when curl cannot reproduce a step (offering the byte-for-byte replays instead) and keeps
 * a hand-written Authorization when it can.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/replay.h"
#include "harness/report.h"

#include "harness/backend.h"

#include "ref/service.h"
#include "ref/sigv4.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>

static const struct harness_report_meta s_meta = {
    .endpoint = "http://127.0.0.1:8080",
    .region = "us-east-1",
    .service = "elastictranscoder",
};

/* --- File names ---------------------------------------------------------------------- */

static void test_safe_file_names(void **state)
{
    (void)state;
    char out[HARNESS_SAVED_NAME_BYTES];
    harness_safe_file_name("cancel-submitted", out, sizeof(out));
    assert_string_equal(out, "cancel-submitted");
    harness_safe_file_name("a/b\\c:d*e?f\"g<h>i|j k", out, sizeof(out));
    assert_string_equal(out, "a_b_c_d_e_f_g_h_i_j_k");
    harness_safe_file_name("..", out, sizeof(out));
    assert_string_equal(out, "_.");
    harness_safe_file_name("", out, sizeof(out));
    assert_string_equal(out, "_");
    harness_safe_file_name("nul", out, sizeof(out));
    assert_string_equal(out, "_nul");
    harness_safe_file_name("COM1.x", out, sizeof(out));
    assert_string_equal(out, "_COM1.x");
    harness_safe_file_name("console", out, sizeof(out));
    assert_string_equal(out, "console");
    harness_safe_file_name("caf\xc3\xa9", out, sizeof(out));
    assert_string_equal(out, "caf__");
    char small[8];
    harness_safe_file_name("abcdefghijkl", small, sizeof(small));
    assert_string_equal(small, "abcdefg");
    harness_safe_file_name("aux", small, sizeof(small));
    assert_string_equal(small, "_aux");
}

static void test_saved_request_paths(void **state)
{
    (void)state;
    struct harness_scenario sc = {.name = "race/cancel"};
    struct harness_step step = {.name = "both at once"};
    struct harness_exchange xs[2] = {{0}};
    struct harness_step_result s = {
        .step = &step, .verdict = HARNESS_VERDICT_FAIL, .exchanges = xs, .num_exchanges = 1};
    char path[256];
    assert_true(harness_saved_request_path("out", &sc, &s, 0, path, sizeof(path)));
    assert_string_equal(path, "out/race_cancel/both_at_once.http");
    s.num_exchanges = 2;
    assert_true(harness_saved_request_path("out", &sc, &s, 1, path, sizeof(path)));
    assert_string_equal(path, "out/race_cancel/both_at_once-2.http");
    assert_false(harness_saved_request_path("out", &sc, &s, 1, path, 10));
    assert_true(harness_step_needs_replay(&s));
    s.verdict = HARNESS_VERDICT_PASS;
    assert_false(harness_step_needs_replay(&s));
    s.verdict = HARNESS_VERDICT_SKIP;
    assert_false(harness_step_needs_replay(&s));
}

/* --- Signing again ------------------------------------------------------------------- */

/* The status the reference answers the request with, its clock at now_s. */
static int status_at(const struct ref_buf *request, int64_t now_s)
{
    struct harness_inproc_options opts = {.start_ms = now_s * 1000};
    struct harness_backend *b = harness_backend_inproc_new(&opts);
    assert_non_null(b);
    struct ref_buf resp;
    ref_buf_init(&resp, 1 << 20);
    assert_int_equal(b->ops->send(b, ref_buf_slice(request), &resp), REF_OK);
    assert_true(resp.len > 12);
    int status = atoi((const char *)resp.data + 9);
    ref_buf_cleanup(&resp);
    harness_backend_free(b);
    return status;
}

static void test_resign_moves_only_the_signature(void **state)
{
    (void)state;
    /* Signed at 2026-11-28 12:45:00 by a key nobody has, with an odd header kept. */
    static const char written[] =
        "GET /2012-09-25/jobs/1111111111111-abcdef HTTP/1.1\r\n"
        "Host: elastictranscoder.us-east-1.amazonaws.com\r\n"
        "X-Odd:  kept as is \r\n"
        "X-Amz-Date: 20261128T124500Z\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDNOBODY/20261128/us-east-1/"
        "elastictranscoder/aws4_request, SignedHeaders=host;x-amz-date;x-odd, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n"
        "\r\n";
    struct ref_buf req;
    ref_buf_init(&req, 1 << 16);
    assert_int_equal(ref_buf_append_cstr(&req, written), REF_OK);
    const struct ref_credential *creds[] = {NULL, REF_TEST_CRED_MAIN};
    char why[256];
    int64_t later_s = INT64_C(1796000000); /* 2026-11-30T00:53:20Z */
    assert_int_equal(harness_resign_at(&req, creds, 2, later_s, why, sizeof(why)), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&req), REF_OK);
    const char *text = (const char *)req.data;
    assert_non_null(strstr(text, "X-Odd:  kept as is \r\n"));
    assert_non_null(strstr(text, "X-Amz-Date: 20261130T005320Z\r\n"));
    assert_non_null(strstr(text, "Credential=AKIDEXAMPLE/20261130/us-east-1/"));
    assert_null(strstr(text, "Signature=0000"));
    assert_int_equal(strncmp(text, written, 100), 0);
    /* The reference takes it at that time: a read of an unknown job. */
    assert_int_equal(status_at(&req, later_s), 404);
    ref_buf_cleanup(&req);
}

static void test_resign_puts_the_token_back(void **state)
{
    (void)state;
    /* Saved with its token redacted: signed again, it gets the credential's token. */
    static const char saved[] =
        "GET /2012-09-25/jobs/1111111111111-abcdef HTTP/1.1\r\n"
        "Host: elastictranscoder.us-east-1.amazonaws.com\r\n"
        "X-Amz-Date: 20261128T124500Z\r\n"
        "X-Amz-Security-Token: " HARNESS_REDACTED_TOKEN "\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDSOMEONE/20261128/us-east-1/"
        "elastictranscoder/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n"
        "\r\n";
    struct ref_buf req;
    ref_buf_init(&req, 1 << 16);
    assert_int_equal(ref_buf_append_cstr(&req, saved), REF_OK);
    const struct ref_credential *creds[] = {REF_TEST_CRED_TEMPORARY};
    char why[256];
    assert_int_equal(harness_resign_at(&req, creds, 1, 1796000000, why, sizeof(why)), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&req), REF_OK);
    assert_null(strstr((const char *)req.data, HARNESS_REDACTED_TOKEN));
    assert_non_null(strstr((const char *)req.data, REF_TEST_CRED_TEMPORARY->session_token));
    assert_int_equal(status_at(&req, 1796000000), 404);
    ref_buf_cleanup(&req);
}

static void test_resign_refuses_what_it_cannot_sign(void **state)
{
    (void)state;
    const struct ref_credential *creds[] = {REF_TEST_CRED_MAIN};
    static const char *const inputs[] = {
        "GET / HTTP/1.1\nHost: h\r\n\r\n",                             /* bare LF */
        "GET / HTTP/1.1\r\nHost: h\r\n\r\n",                           /* no Authorization */
        "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic x\r\n\r\n", /* not SigV4 */
        "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-HMAC-SHA256 "
        "Credential=AKIDEXAMPLE/20261128/us-east-1/elastictranscoder/aws4_request, "
        "SignedHeaders=host, Signature=00\r\n\r\n", /* no X-Amz-Date */
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct ref_buf req;
        ref_buf_init(&req, 1 << 16);
        assert_int_equal(ref_buf_append_cstr(&req, inputs[i]), REF_OK);
        char why[256] = "";
        assert_int_equal(harness_resign_at(&req, creds, 1, 1796000000, why, sizeof(why)),
                         REF_E_MALFORMED);
        assert_true(why[0] != '\0');
        /* Left as it was. */
        assert_int_equal(req.len, strlen(inputs[i]));
        assert_memory_equal(req.data, inputs[i], req.len);
        ref_buf_cleanup(&req);
    }
}

static void test_session_tokens_of_real_credentials_are_not_saved(void **state)
{
    (void)state;
    static const char request[] = "GET / HTTP/1.1\r\nHost: h\r\n"
                                  "X-Amz-Security-Token:  real-secret-token \r\n"
                                  "x-amz-security-token: test-token\r\n"
                                  "\r\n"
                                  "X-Amz-Security-Token: in-the-body\r\n";
    struct ref_buf out;
    ref_buf_init(&out, 4096);
    bool redacted = false;
    assert_int_equal(harness_redact_session_tokens(ref_slice_make(request, sizeof(request) - 1),
                                                   "test-token", &out, &redacted),
                     REF_OK);
    assert_true(redacted);
    assert_int_equal(ref_buf_nul_terminate(&out), REF_OK);
    assert_string_equal((const char *)out.data,
                        "GET / HTTP/1.1\r\nHost: h\r\n"
                        "X-Amz-Security-Token:  " HARNESS_REDACTED_TOKEN " \r\n"
                        "x-amz-security-token: test-token\r\n"
                        "\r\n"
                        "X-Amz-Security-Token: in-the-body\r\n");
    /* Nothing to redact: the bytes as they are. */
    ref_buf_reset(&out);
    assert_int_equal(
        harness_redact_session_tokens(ref_slice_make(request, 26), "test-token", &out, &redacted),
        REF_OK);
    assert_false(redacted);
    assert_int_equal(out.len, 26);
    assert_memory_equal(out.data, request, 26);
    ref_buf_cleanup(&out);
}

/* --- Reproducers --------------------------------------------------------------------- */

/* The reproducer of an exchange built from raw bytes and its parts, NUL-terminated
 * (free it). */
static char *reproducer(struct harness_exchange *x, const char *raw, const char *saved)
{
    ref_buf_init(&x->request, 1 << 16);
    assert_int_equal(ref_buf_append_cstr(&x->request, raw), REF_OK);
    struct ref_buf out;
    ref_buf_init(&out, 1 << 16);
    assert_int_equal(harness_step_reproducer(x, &s_meta, saved, &out), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&out), REF_OK);
    char *text = strdup((const char *)out.data);
    ref_buf_cleanup(&out);
    ref_buf_cleanup(&x->request);
    return text;
}

static void test_hand_written_authorization_is_kept(void **state)
{
    (void)state;
    struct harness_header_copy headers[] = {
        {"Host", "127.0.0.1:8080"},
        {"X-Amz-Date", "20261128T124500Z"},
        {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDNOBODY/x, Signature=ab"},
        {"Content-Length", "2"},
    };
    struct harness_exchange x = {
        .method = "POST",
        .target = "/2012-09-25/jobs",
        .headers = headers,
        .num_headers = 4,
        .body = (uint8_t *)"{}",
        .body_len = 2,
    };
    char *text = reproducer(&x,
                            "POST /2012-09-25/jobs HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                            "X-Amz-Date: 20261128T124500Z\r\nAuthorization: AWS4-HMAC-SHA256 "
                            "Credential=AKIDNOBODY/x, Signature=ab\r\nContent-Length: 2\r\n\r\n{}",
                            NULL);
    assert_non_null(strstr(text, "curl -sS -i -X 'POST'"));
    assert_non_null(
        strstr(text, "-H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDNOBODY/x, Signature=ab'"));
    assert_non_null(strstr(text, "-H 'X-Amz-Date: 20261128T124500Z'"));
    assert_non_null(strstr(text, "-H 'Host: 127.0.0.1:8080'"));
    assert_null(strstr(text, "--aws-sigv4"));
    assert_null(strstr(text, "Content-Length")); /* curl counts the body */
    assert_non_null(strstr(text, "-H 'Content-Type:'"));
    assert_non_null(strstr(text, "--data-raw '{}'"));
    assert_non_null(strstr(text, "signed by hand at X-Amz-Date 20261128T124500Z"));
    assert_non_null(strstr(text, "etch send --resign"));
    free(text);
}

static void test_curl_says_when_it_cannot(void **state)
{
    (void)state;
    struct harness_header_copy headers[] = {{"Host", "h"}};
    static const char good[] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    struct {
        const char *raw;
        struct harness_sign sign;
        const char *why;
    } cases[] = {
        {good, {.principal = HARNESS_PRINCIPAL_MAIN, .has_signed_headers = true}, "signed_headers"},
        {good,
         {.principal = HARNESS_PRINCIPAL_MAIN, .fault = HARNESS_FAULT_SCOPE_DATE},
         "a fault on purpose (scope-date)"},
        {good, {.principal = HARNESS_PRINCIPAL_MAIN, .date_offset_s = -900}, "-900s off the clock"},
        {good,
         {.principal = HARNESS_PRINCIPAL_TEMPORARY, .token = HARNESS_TOKEN_OMIT},
         "leaves out the temporary principal's session token"},
        {"GET /x HTTP/1.1\nHost: h\r\n\r\n", {0}, "bare LF"},
        {"GET /x HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", {0}, "folded"},
        {"GET /x HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", {0}, "the head does not end"},
        {"GET /x HTTP/1.1\r\nHost: h\r\nX: a\001b\r\n\r\n", {0}, "control byte \\x01"},
        {"GET /x HTTP/1.0\r\nHost: h\r\n\r\n", {0}, "request line"},
        {"GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n", {0}, "request line"},
        {"GET /x HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", {0}, "more than one Host"},
        {"GET /x HTTP/1.1\r\n\r\n", {0}, "no Host"},
        {"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         {0},
         "Transfer-Encoding"},
        {"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n{}", {0}, "Content-Length"},
        {"GET /x HTTP/1.1\r\nHost: h\r\nNo colon\r\n\r\n", {0}, "not NAME: value"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct harness_exchange x = {
            .method = "GET",
            .target = "/x",
            .headers = headers,
            .num_headers = 1,
            .sign = cases[i].sign,
        };
        char *text = reproducer(&x, cases[i].raw, "saved/s/step.http");
        if (strstr(text, "# curl cannot reproduce this step:") == NULL ||
            strstr(text, cases[i].why) == NULL) {
            fail_msg("case %zu: no '%s' in:\n%s", i, cases[i].why, text);
        }
        assert_null(strstr(text, "curl -sS"));
        assert_non_null(
            strstr(text, "etch send --endpoint \"http://127.0.0.1:8080\" 'saved/s/step.http'"));
        assert_non_null(strstr(text, "nc 127.0.0.1 8080 < 'saved/s/step.http'"));
        free(text);
    }
    /* A verbatim request, with no saved file: how to get one. */
    struct harness_exchange v = {.is_verbatim = true};
    char *text = reproducer(&v, good, NULL);
    assert_non_null(strstr(text, "bytes written out as they are"));
    assert_non_null(strstr(text, "--save-requests DIR"));
    free(text);
    /* The same request well formed and plainly signed is a curl line. */
    struct harness_exchange ok = {
        .method = "GET",
        .target = "/x",
        .headers = headers,
        .num_headers = 1,
        .sign = {.principal = HARNESS_PRINCIPAL_MAIN},
    };
    text = reproducer(&ok, good, "saved/s/step.http");
    assert_non_null(strstr(text, "--aws-sigv4"));
    assert_null(strstr(text, "cannot reproduce"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safe_file_names),
        cmocka_unit_test(test_saved_request_paths),
        cmocka_unit_test(test_resign_moves_only_the_signature),
        cmocka_unit_test(test_resign_puts_the_token_back),
        cmocka_unit_test(test_resign_refuses_what_it_cannot_sign),
        cmocka_unit_test(test_session_tokens_of_real_credentials_are_not_saved),
        cmocka_unit_test(test_hand_written_authorization_is_kept),
        cmocka_unit_test(test_curl_says_when_it_cannot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
