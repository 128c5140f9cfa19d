/* SPDX-License-Identifier: Apache-2.0
 *
 * test_lost_answer.c - a call step with "lost_answer": the loader's checks of the key, and
 * the runner's two attempts. The first attempt reaches the target and its answer is never
 * read; the retry carries the SDK's headers (one invocation Id, the attempt numbers, signed
 * by the JS SDK and not by botocore), is signed again at the target's clock, and is what
 * the expectations judge. On a shared target the lost attempt's job is found and cleaned up.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/backend.h"
#include "harness/runner.h"
#include "harness/scenario.h"

#include "ref/service.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "scenario_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE_PARAMS                                                                            \
    "{\"Name\":\"p\",\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":"                    \
    "\"arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role\"}"
#define JOB_PARAMS                                                                                 \
    "{\"PipelineId\":\"${p}\",\"Input\":{\"Key\":\"in.mp4\"},\"Output\":{\"Key\":\"o.mp4\","       \
    "\"PresetId\":\"1351620000001-000010\"}}"
/* A pipeline, paused so that nothing starts, and a Submitted job on it. */
#define PAUSED_JOB                                                                                 \
    "{\"call\":\"CreatePipeline\",\"params\":" PIPELINE_PARAMS                                     \
    ",\"capture\":{\"p\":\"Pipeline.Id\"}},"                                                       \
    "{\"call\":\"UpdatePipelineStatus\",\"params\":{\"Id\":\"${p}\",\"Status\":\"Paused\"}},"      \
    "{\"call\":\"CreateJob\",\"params\":" JOB_PARAMS ",\"capture\":{\"j\":\"Job.Id\"}}"

/* The raw request of an exchange as a C string (request buffers are not terminated). */
static char *request_text(const struct harness_exchange *x)
{
    char *text = malloc(x->request.len + 1);
    assert_non_null(text);
    memcpy(text, x->request.data, x->request.len);
    text[x->request.len] = '\0';
    return text;
}

/* The value of a header in a raw request ("" when absent), into out. */
static void header_value(const char *request, const char *name, char *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof(key), "\r\n%s: ", name);
    const char *at = strstr(request, key);
    out[0] = '\0';
    if (at != NULL) {
        at += strlen(key);
        size_t n = strcspn(at, "\r");
        n = n < cap - 1 ? n : cap - 1;
        memcpy(out, at, n);
        out[n] = '\0';
    }
}

static void run_inproc(const struct harness_scenario *sc, struct harness_scenario_result *r)
{
    struct harness_backend *b = harness_backend_inproc_new(NULL);
    assert_non_null(b);
    assert_int_equal(harness_run_scenario(sc, b, r), REF_OK);
    harness_backend_free(b);
}

/* --- The loader ---------------------------------------------------------------------- */

static void expect_load_error(const char *steps, const char *want)
{
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    enum ref_status rc = load_steps(steps, &sc, &err);
    if (rc != REF_E_MALFORMED || strstr(err.message, want) == NULL) {
        fail_msg("want a load error containing \"%s\", got %s: %s", want, ref_status_name(rc),
                 err.message);
    }
    assert_null(sc);
}

static void test_lost_answer_loader_takes_each_sdk(void **state)
{
    (void)state;
    struct harness_scenario *sc =
        load("{\"call\":\"CancelJob\",\"params\":{\"Id\":\"1111111111111-abcdef\"},"
             "\"lost_answer\":\"botocore\"},"
             "{\"call\":\"CreateJob\",\"params\":{\"PipelineId\":\"1111111111111-abcde1\"},"
             "\"lost_answer\":\"js-sdk-v3\"},"
             "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-abcdef\"}}");
    assert_int_equal(sc->steps[0].lost_answer, HARNESS_RETRYING_SDK_BOTOCORE);
    assert_int_equal(sc->steps[1].lost_answer, HARNESS_RETRYING_SDK_JS_V3);
    assert_int_equal(sc->steps[2].lost_answer, HARNESS_RETRYING_SDK_NONE);
    assert_string_equal(harness_retrying_sdk_name(HARNESS_RETRYING_SDK_JS_V3), "js-sdk-v3");
    assert_string_equal(harness_retrying_sdk_name(HARNESS_RETRYING_SDK_COUNT), "none");
    harness_scenario_free(sc);
}

static void test_lost_answer_loader_rejects_bad_values(void **state)
{
    (void)state;
    expect_load_error("{\"call\":\"CancelJob\",\"params\":{\"Id\":\"x\"},\"lost_answer\":\"boto\"}",
                      "steps[0].lost_answer: expected the SDK whose retry to imitate, "
                      "\"botocore\" or \"js-sdk-v3\", got boto");
    expect_load_error("{\"call\":\"CancelJob\",\"params\":{\"Id\":\"x\"},\"lost_answer\":true}",
                      "steps[0].lost_answer: expected the SDK whose retry to imitate");
    expect_load_error("{\"call\":\"CancelJob\",\"params\":{\"Id\":\"x\"},\"lost_answer\":\"none\"}",
                      "got none");
    expect_load_error("{\"call\":\"CancelJob\",\"params\":{\"Id\":\"x\"},\"lost_answer\":\"\"}",
                      "steps[0].lost_answer");
}

static void test_lost_answer_loader_rejects_it_where_it_makes_no_sense(void **state)
{
    (void)state;
    /* In a concurrent group: the retry would come after the race. */
    expect_load_error("{\"concurrent\":[{\"call\":\"CancelJob\",\"params\":{\"Id\":\"x\"},"
                      "\"lost_answer\":\"botocore\"},{\"call\":\"ReadJob\",\"params\":{\"Id\":"
                      "\"x\"}}],\"outcomes\":[{}]}",
                      "steps[0].concurrent[0].lost_answer: a concurrent sub-step cannot lose its "
                      "answer");
    /* A request written out, a wait, a hook: no SDK retries them. */
    expect_load_error(
        "{\"raw\":{\"method\":\"GET\",\"target\":\"/\"},\"lost_answer\":\"botocore\"}",
        "unknown key 'lost_answer' in a raw step");
    expect_load_error("{\"wait\":{\"call\":\"ReadJob\",\"params\":{\"Id\":\"x\"},\"until\":{"
                      "\"status\":200}},\"lost_answer\":\"botocore\"}",
                      "unknown key 'lost_answer' in a wait step");
    expect_load_error("{\"clock\":{\"advance_ms\":1},\"lost_answer\":\"botocore\"}",
                      "unknown key 'lost_answer' in a clock step");
    /* A pipeline nobody could find again and delete. */
    expect_load_error("{\"call\":\"CreatePipeline\",\"params\":" PIPELINE_PARAMS
                      ",\"lost_answer\":\"botocore\"}",
                      "steps[0].lost_answer: CreatePipeline cannot lose its answer");
    /* all_pages would walk the retry's pages. */
    expect_load_error(
        "{\"call\":\"ListPipelines\",\"all_pages\":true,\"lost_answer\":\"js-sdk-v3\"}",
        "all_pages and lost_answer do not go together");
}

/* --- The runner, in process ---------------------------------------------------------- */

/* The cancel whose 202 was lost: the retry is refused and the job is Canceled, by the first
 * attempt; the retry carries botocore's headers after the signature, the same invocation
 * Id as the first, the next attempt number. */
static void test_lost_answer_cancel_retried_as_botocore(void **state)
{
    (void)state;
    struct harness_scenario *sc =
        load(PAUSED_JOB ",{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":{\"Id\":\"${j}\"},"
                        "\"lost_answer\":\"botocore\",\"expect\":{\"status\":409,\"error\":"
                        "\"ResourceInUseException\"}},"
                        "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"},\"expect\":{"
                        "\"paths\":{\"Job.Status\":\"Canceled\"}}}");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    const struct harness_step_result *s = &r.steps[3];
    assert_int_equal(s->num_exchanges, 2);
    const struct harness_exchange *lost = &s->exchanges[0];
    const struct harness_exchange *retry = &s->exchanges[1];
    assert_string_equal(lost->label, "attempt-1-answer-lost");
    assert_null(retry->label);
    assert_int_equal(lost->response.len, 0);
    assert_int_equal(lost->http_status, 0);
    assert_int_equal(retry->http_status, 409);
    char *first = request_text(lost);
    char *second = request_text(retry);
    char id1[64];
    char id2[64];
    char attempt[64];
    header_value(first, "amz-sdk-invocation-id", id1, sizeof(id1));
    header_value(second, "amz-sdk-invocation-id", id2, sizeof(id2));
    assert_int_equal(strlen(id1), 36);
    assert_int_equal(id1[14], '4'); /* a version 4 UUID */
    assert_string_equal(id1, id2);
    header_value(first, "amz-sdk-request", attempt, sizeof(attempt));
    assert_string_equal(attempt, "attempt=1");
    header_value(second, "amz-sdk-request", attempt, sizeof(attempt));
    assert_string_equal(attempt, "attempt=2");
    /* botocore signs host;x-amz-date and adds its retry headers after Authorization. */
    assert_non_null(strstr(second, "SignedHeaders=host;x-amz-date, "));
    assert_true(strstr(second, "Authorization: ") < strstr(second, "amz-sdk-invocation-id: "));
    free(first);
    free(second);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* The same cancel sent once is accepted: the 409 above is the first attempt's doing. */
static void test_lost_answer_without_it_the_cancel_is_accepted(void **state)
{
    (void)state;
    struct harness_scenario *sc =
        load(PAUSED_JOB ",{\"call\":\"CancelJob\",\"params\":{\"Id\":\"${j}\"},\"expect\":{"
                        "\"status\":202}}");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.steps[3].num_exchanges, 1);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* The JS SDK signs its retry headers, and the reference verifies the retry. */
static void test_lost_answer_js_sdk_signs_its_retry_headers(void **state)
{
    (void)state;
    struct harness_scenario *sc =
        load(PAUSED_JOB ",{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"},"
                        "\"lost_answer\":\"js-sdk-v3\",\"expect\":{\"status\":200}}");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    const struct harness_step_result *s = &r.steps[3];
    assert_int_equal(s->num_exchanges, 2);
    char *second = request_text(&s->exchanges[1]);
    char attempt[64];
    header_value(second, "amz-sdk-request", attempt, sizeof(attempt));
    assert_string_equal(attempt, "attempt=2; max=3");
    assert_non_null(strstr(second, "SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;host;"
                                   "x-amz-date, "));
    assert_true(strstr(second, "amz-sdk-request: ") < strstr(second, "Authorization: "));
    free(second);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* --- The runner on fake backends ----------------------------------------------------- */

/* Records what it is sent; its clock moves 2 s at every reading, as real time would
 * between an SDK's attempts. */
struct fake {
    struct harness_backend base;
    char lost[4096];
    char sent[4096];
    unsigned losses;
    unsigned sends;
    int64_t now_ms;
    bool refuses_to_answer; /* the lost attempt gets no answer at all */
};

static void copy_request(char *out, size_t cap, struct ref_slice request)
{
    size_t n = request.len < cap - 1 ? request.len : cap - 1;
    memcpy(out, request.ptr, n);
    out[n] = '\0';
}

static enum ref_status
fake_send(struct harness_backend *b, struct ref_slice request, struct ref_buf *response)
{
    struct fake *f = b->impl;
    copy_request(f->sent, sizeof(f->sent), request);
    f->sends++;
    return ref_buf_append_cstr(response, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                         "Content-Length: 2\r\n\r\n{}");
}

static enum ref_status
fake_send_losing_answer(struct harness_backend *b, struct ref_slice request, char *why, size_t cap)
{
    struct fake *f = b->impl;
    copy_request(f->lost, sizeof(f->lost), request);
    f->losses++;
    if (f->refuses_to_answer) {
        snprintf(why, cap, "closed without answering");
        return REF_E_INCOMPLETE;
    }
    return REF_OK;
}

static int64_t fake_now_ms(struct harness_backend *b)
{
    struct fake *f = b->impl;
    f->now_ms += 2000;
    return f->now_ms;
}

static const struct harness_backend_ops s_fake_ops = {
    .send = fake_send, .send_losing_answer = fake_send_losing_answer, .now_ms = fake_now_ms};
static const struct harness_backend_ops s_fake_ops_without_losing = {.send = fake_send,
                                                                     .now_ms = fake_now_ms};

static void fake_init(struct fake *f, const struct harness_backend_ops *ops)
{
    memset(f, 0, sizeof(*f));
    f->now_ms = HARNESS_DEFAULT_START_MS;
    f->base.ops = ops;
    f->base.impl = f;
    f->base.description = "fake";
    f->base.host = "example.test";
    f->base.region = "us-east-1";
    f->base.service = "elastictranscoder";
    f->base.principals[HARNESS_PRINCIPAL_MAIN] = REF_TEST_CRED_MAIN;
}

#define LOST_READ                                                                                  \
    "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-abcdef\"},"                          \
    "\"lost_answer\":\"botocore\",\"expect\":{\"status\":200}}"

/* The retry is signed again at the target's clock when it is sent: a later X-Amz-Date and
 * another signature than the lost attempt's, which went through send_losing_answer. */
static void test_lost_answer_retry_is_signed_again(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, &s_fake_ops);
    struct harness_scenario *sc = load(LOST_READ);
    struct harness_scenario_result r;
    assert_int_equal(harness_run_scenario(sc, &f.base, &r), REF_OK);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(f.losses, 1);
    assert_int_equal(f.sends, 1);
    char date1[64];
    char date2[64];
    char auth1[256];
    char auth2[256];
    header_value(f.lost, "X-Amz-Date", date1, sizeof(date1));
    header_value(f.sent, "X-Amz-Date", date2, sizeof(date2));
    header_value(f.lost, "Authorization", auth1, sizeof(auth1));
    header_value(f.sent, "Authorization", auth2, sizeof(auth2));
    /* Both dated from the fake clock, the retry later (same format: text order is time). */
    assert_int_equal(strlen(date1), 16);
    assert_int_equal(strncmp(date1, "20261128T1245", 13), 0);
    assert_true(strcmp(date2, date1) > 0);
    assert_string_not_equal(auth1, auth2);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* No proof that the first attempt was handled, or no way to drop a connection: an ERROR,
 * never a retry that would judge the target on a state nobody knows. */
static void test_lost_answer_errors_when_the_first_attempt_is_not_handled(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, &s_fake_ops);
    f.refuses_to_answer = true;
    struct harness_scenario *sc = load(LOST_READ);
    struct harness_scenario_result r;
    assert_int_equal(harness_run_scenario(sc, &f.base, &r), REF_OK);
    assert_int_equal(r.verdict, HARNESS_VERDICT_ERROR);
    assert_non_null(strstr(r.steps[0].reason, "transport failure on the attempt whose answer was "
                                              "to be lost: closed without answering"));
    assert_int_equal(f.sends, 0);
    harness_scenario_result_cleanup(&r);

    fake_init(&f, &s_fake_ops_without_losing);
    assert_int_equal(harness_run_scenario(sc, &f.base, &r), REF_OK);
    assert_int_equal(r.verdict, HARNESS_VERDICT_ERROR);
    assert_non_null(strstr(r.steps[0].reason, "cannot drop a connection"));
    assert_int_equal(f.sends, 0);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* --- A shared target ----------------------------------------------------------------- */

/* The lost CreateJob's job is the scenario's: the pipeline lists it beside the retry's
 * (List answers are scoped to the scenario's own jobs there), and cleanup cancels both,
 * so the pipeline can be deleted. */
static void test_lost_answer_shared_target_finds_the_lost_job(void **state)
{
    (void)state;
    struct harness_inproc_options o = {.is_live_like = true};
    struct harness_backend *b = harness_backend_inproc_new(&o);
    assert_non_null(b);
    struct harness_scenario *sc = load(
        "{\"call\":\"CreatePipeline\",\"params\":" PIPELINE_PARAMS
        ",\"capture\":{\"p\":\"Pipeline.Id\"}},"
        "{\"call\":\"UpdatePipelineStatus\",\"params\":{\"Id\":\"${p}\",\"Status\":\"Paused\"}},"
        "{\"call\":\"CreateJob\",\"params\":" JOB_PARAMS ",\"lost_answer\":\"botocore\"},"
        "{\"call\":\"ListJobsByPipeline\",\"params\":{\"PipelineId\":\"${p}\"},\"expect\":{"
        "\"paths\":{\"Jobs\":{\"$len\":2}}}}");
    struct harness_scenario_result r;
    assert_int_equal(harness_run_scenario(sc, b, &r), REF_OK);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_true(r.cleanup.is_done);
    assert_int_equal(r.cleanup.jobs_canceled, 2);
    assert_int_equal(r.cleanup.pipelines_deleted, 1);
    assert_int_equal(r.cleanup.pipelines_left, 0);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    harness_backend_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_answer_loader_takes_each_sdk),
        cmocka_unit_test(test_lost_answer_loader_rejects_bad_values),
        cmocka_unit_test(test_lost_answer_loader_rejects_it_where_it_makes_no_sense),
        cmocka_unit_test(test_lost_answer_cancel_retried_as_botocore),
        cmocka_unit_test(test_lost_answer_without_it_the_cancel_is_accepted),
        cmocka_unit_test(test_lost_answer_js_sdk_signs_its_retry_headers),
        cmocka_unit_test(test_lost_answer_retry_is_signed_again),
        cmocka_unit_test(test_lost_answer_errors_when_the_first_attempt_is_not_handled),
        cmocka_unit_test(test_lost_answer_shared_target_finds_the_lost_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
