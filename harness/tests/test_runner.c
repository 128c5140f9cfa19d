/* SPDX-License-Identifier: Apache-2.0
 *
 * test_runner.c - the runner: request serialisation, signing at replay time, waits that
 * jump the virtual clock without skipping a state, concurrent groups on real threads,
 * hooks, captures, and every verdict (PASS, FAIL, DEVIATION, NOT IMPLEMENTED, SKIP,
 * ERROR), against the in-process reference and against fake backends.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/backend.h"
#include "harness/runner.h"
#include "harness/scenario.h"

#include "ref/service.h"

#include "json_alloc_hooks.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "scenario_steps.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIPELINE_PARAMS                                                                            \
    "{\"Name\":\"p\",\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":"                    \
    "\"arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role\"}"
#define JOB_PARAMS                                                                                 \
    "{\"PipelineId\":\"${p}\",\"Input\":{\"Key\":\"in.mp4\"},\"Output\":{\"Key\":\"o.mp4\","       \
    "\"PresetId\":\"1351620000001-000010\"}}"
#define CREATE_BOTH                                                                                \
    "{\"name\":\"create-pipeline\",\"call\":\"CreatePipeline\",\"params\":" PIPELINE_PARAMS        \
    ",\"capture\":{\"p\":\"Pipeline.Id\"}},"                                                       \
    "{\"name\":\"create-job\",\"call\":\"CreateJob\",\"params\":" JOB_PARAMS                       \
    ",\"capture\":{\"j\":\"Job.Id\"}}"

static void run_on(struct harness_backend *b,
                   const struct harness_scenario *sc,
                   struct harness_scenario_result *r)
{
    assert_int_equal(harness_run_scenario(sc, b, r), REF_OK);
}

static void run_inproc(const struct harness_scenario *sc, struct harness_scenario_result *r)
{
    struct harness_backend *b = harness_backend_inproc_new(NULL);
    assert_non_null(b);
    run_on(b, sc, r);
    harness_backend_free(b);
}

/* --- A fake backend: one canned answer, records what it was sent --------------------- */

struct fake {
    struct harness_backend base;
    const char *answer;
    char last[4096];
    unsigned sends;
};

static enum ref_status
fake_send(struct harness_backend *b, struct ref_slice request, struct ref_buf *response)
{
    struct fake *f = b->impl;
    size_t n = request.len < sizeof(f->last) - 1 ? request.len : sizeof(f->last) - 1;
    memcpy(f->last, request.ptr, n);
    f->last[n] = '\0';
    f->sends++;
    if (f->answer == NULL) {
        return REF_E_INTERNAL; /* the transport broke */
    }
    return ref_buf_append_cstr(response, f->answer);
}

static int64_t fake_now_ms(struct harness_backend *b)
{
    (void)b;
    return HARNESS_DEFAULT_START_MS;
}

static const struct harness_backend_ops s_fake_ops = {.send = fake_send, .now_ms = fake_now_ms};

static void fake_init(struct fake *f, const char *answer)
{
    memset(f, 0, sizeof(*f));
    f->answer = answer;
    f->base.ops = &s_fake_ops;
    f->base.impl = f;
    f->base.description = "fake";
    f->base.host = "example.test";
    f->base.region = "us-east-1";
    f->base.service = "elastictranscoder";
    f->base.principals[HARNESS_PRINCIPAL_MAIN] = REF_TEST_CRED_MAIN;
}

#define OK_JSON "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

/* The raw request of an exchange as a C string (request buffers are not terminated). */
static const char *req_text(const struct harness_exchange *x)
{
    static char text[8192];
    size_t n = x->request.len < sizeof(text) - 1 ? x->request.len : sizeof(text) - 1;
    memcpy(text, x->request.data, n);
    text[n] = '\0';
    return text;
}

/* --- Serialisation and signing ------------------------------------------------------- */

static void test_runner_serialises_calls_like_the_sdks(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, OK_JSON);
    struct harness_scenario *sc = load(
        "{\"call\":\"CancelJob\",\"params\":{\"Id\":\"a b/c+d%e\"}},"
        "{\"call\":\"ListJobsByStatus\",\"params\":{\"PageToken\":\"tok/+= x\",\"Ascending\":true,"
        "\"Status\":\"Submitted\"}},"
        "{\"call\":\"UpdatePipelineStatus\",\"params\":{\"Id\":\"1111111111111-abcde1\","
        "\"Status\":\"Paused\"},\"sign\":\"none\"}");
    struct harness_scenario_result r;
    run_on(&f.base, sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    const struct harness_exchange *x0 = &r.steps[0].exchanges[0];
    assert_string_equal(x0->target, "/2012-09-25/jobs/a%20b%2Fc%2Bd%25e");
    assert_string_equal(x0->method, "DELETE");
    assert_non_null(strstr(req_text(x0),
                           "DELETE /2012-09-25/jobs/a%20b%2Fc%2Bd%25e HTTP/1.1\r\n"
                           "Host: example.test\r\nX-Amz-Date: 20261128T124500Z\r\n"
                           "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/"
                           "us-east-1/elastictranscoder/aws4_request, "
                           "SignedHeaders=host;x-amz-date, Signature="));
    assert_string_equal(
        r.steps[1].exchanges[0].target,
        "/2012-09-25/jobsByStatus/Submitted?Ascending=true&PageToken=tok%2F%2B%3D%20x");
    assert_string_equal(f.last,
                        "POST /2012-09-25/pipelines/1111111111111-abcde1/status HTTP/1.1\r\n"
                        "Host: example.test\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: 19\r\n\r\n"
                        "{\"Status\":\"Paused\"}");
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_raw_requests_are_sent_as_written(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, OK_JSON);
    struct harness_scenario *sc = load(
        "{\"raw\":{\"method\":\"DELETE\",\"target\":\"/2012-09-25/jobs/x\","
        "\"headers\":[[\"X-Dup\",\"a\"],[\"x-dup\",\"b\"]],\"body\":\"{}\"},\"sign\":\"none\"},"
        "{\"raw\":{\"method\":\"GET\",\"target\":\"/\",\"host\":false,\"body\":\"zz\","
        "\"content_length\":\"none\",\"version\":\"HTTP/1.0\"},\"sign\":\"none\"},"
        "{\"raw\":{\"bytes\":\"GET /v HTTP/1.1\\r\\n\\r\\n\"}}");
    struct harness_scenario_result r;
    run_on(&f.base, sc, &r);
    assert_string_equal(req_text(&r.steps[0].exchanges[0]),
                        "DELETE /2012-09-25/jobs/x HTTP/1.1\r\nHost: example.test\r\nX-Dup: a\r\n"
                        "x-dup: b\r\nContent-Length: 2\r\n\r\n{}");
    assert_string_equal(req_text(&r.steps[1].exchanges[0]), "GET / HTTP/1.0\r\n\r\nzz");
    assert_string_equal(f.last, "GET /v HTTP/1.1\r\n\r\n");
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_every_sign_mode_against_the_reference(void **state)
{
    (void)state;
    struct harness_scenario *sc = load(
        "{\"call\":\"ListPipelines\",\"sign\":\"none\",\"expect\":{\"error\":"
        "\"MissingAuthenticationTokenException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"wrong-secret\",\"expect\":{\"status\":403,"
        "\"error\":\"InvalidSignatureException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"unknown-key\",\"expect\":{\"error\":"
        "\"UnrecognizedClientException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"scope-date\",\"expect\":{\"error\":"
        "\"InvalidSignatureException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"scope-region\",\"expect\":{\"error\":"
        "\"InvalidSignatureException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"scope-service\",\"expect\":{\"error\":"
        "\"InvalidSignatureException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"scope-terminator\",\"expect\":{\"error\":"
        "\"InvalidSignatureException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"omit-host\",\"expect\":{\"body\":{\"message\":"
        "\"'Host' must be a 'SignedHeader' in the AWS Authorization.\"}}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"flip-signature-digit\",\"expect\":{\"error\":"
        "\"InvalidSignatureException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"restricted\",\"expect\":{\"status\":200}},"
        "{\"call\":\"DeletePipeline\",\"params\":{\"Id\":\"x\"},\"sign\":\"restricted\","
        "\"expect\":{\"error\":\"AccessDeniedException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"temporary\",\"expect\":{\"status\":200}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"temporary-no-token\",\"expect\":{\"error\":"
        "\"UnrecognizedClientException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":\"temporary-wrong-token\",\"expect\":{\"error\":"
        "\"UnrecognizedClientException\"}},"
        "{\"call\":\"ListPipelines\",\"sign\":{\"date_offset_s\":-60},\"expect\":{\"status\":200}},"
        "{\"call\":\"ListPipelines\",\"sign\":{\"date_offset_s\":60},\"expect\":{\"status\":200}},"
        "{\"call\":\"ListPipelines\",\"sign\":{\"date_offset_s\":-1200},\"expect\":{\"body\":"
        "{\"message\":{\"$match\":\"^Signature expired\"}}}},"
        "{\"call\":\"ListPipelines\",\"sign\":{\"date_offset_s\":1200},\"expect\":{\"body\":"
        "{\"message\":{\"$match\":\"^Signature not yet current\"}}}},"
        "{\"call\":\"CreatePipeline\",\"params\":" PIPELINE_PARAMS ",\"sign\":{\"content_sha256\":"
        "true,\"signed_headers\":[\"content-length\",\"content-type\",\"host\","
        "\"x-amz-content-sha256\",\"x-amz-date\"]},\"expect\":{\"status\":201}}");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    for (size_t i = 0; i < r.num_steps; i++) {
        if (r.steps[i].verdict != HARNESS_VERDICT_PASS) {
            const struct harness_check_list *l = &r.steps[i].checks;
            fail_msg("step %zu: %s: %s %s", i + 1, harness_verdict_name(r.steps[i].verdict),
                     l->count > 0 ? l->items[0].actual : "", r.steps[i].reason);
        }
    }
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    /* The restricted and temporary principals' keys were used. */
    assert_non_null(strstr(req_text(&r.steps[9].exchanges[0]), "Credential=AKIDREADONLY/"));
    assert_non_null(strstr(req_text(&r.steps[11].exchanges[0]),
                           "X-Amz-Security-Token: etch/session/token/EXAMPLE\r\n"));
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* --- Waits, clocks, hooks ------------------------------------------------------------ */

static void test_runner_wait_sees_every_state(void **state)
{
    (void)state;
    /* Poll until Complete: the clock jumps to each scheduled event, so the polls see
     * Submitted, then Progressing, then Complete: three polls, no state skipped. */
    struct harness_scenario *sc =
        load(CREATE_BOTH ",{\"name\":\"wait\",\"wait\":{\"call\":\"ReadJob\",\"params\":"
                         "{\"Id\":\"${j}\"},\"until\":{\"paths\":{\"Job.Status\":\"Complete\"}}},"
                         "\"capture\":{\"finished\":\"Job.Timing.FinishTimeMillis\"}},"
                         "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"},\"expect\":{\"paths\":"
                         "{\"Job.Timing.FinishTimeMillis\":{\"$type\":\"integer\"}}}}");
    struct harness_backend *b = harness_backend_inproc_new(NULL);
    assert_non_null(b);
    struct harness_scenario_result r;
    run_on(b, sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.steps[2].polls, 3);
    /* Default start delay 2 s and run time 5 s: the clock moved exactly 7 s. */
    assert_int_equal(b->ops->now_ms(b), HARNESS_DEFAULT_START_MS + 7000);
    harness_backend_free(b);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_wait_fails_when_nothing_can_change(void **state)
{
    (void)state;
    struct harness_scenario *sc =
        load(CREATE_BOTH ",{\"name\":\"wait\",\"wait\":{\"call\":\"ReadJob\",\"params\":"
                         "{\"Id\":\"${j}\"},\"until\":{\"paths\":{\"Job.Status\":\"Canceled\"}}}},"
                         "{\"name\":\"after\",\"call\":\"ListPipelines\"}");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_FAIL);
    assert_int_equal(r.steps[2].verdict, HARNESS_VERDICT_FAIL);
    assert_int_equal(r.steps[2].polls, 3);
    assert_non_null(strstr(r.steps[2].checks.items[0].actual, "nothing is scheduled"));
    /* A failed step stops the scenario. */
    assert_int_equal(r.steps[3].verdict, HARNESS_VERDICT_SKIP);
    assert_non_null(strstr(r.steps[3].reason, "not run: step 'wait' ended in FAIL"));
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_wait_timeout_on_the_target_clock(void **state)
{
    (void)state;
    /* The job starts 2 s after submission: a 1 s timeout passes first. */
    struct harness_scenario *sc = load(
        CREATE_BOTH ",{\"wait\":{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"},"
                    "\"until\":{\"paths\":{\"Job.Status\":\"Progressing\"}},\"timeout_s\":1}}");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    assert_int_equal(r.steps[2].verdict, HARNESS_VERDICT_FAIL);
    assert_int_equal(r.steps[2].polls, 1);
    assert_non_null(strstr(r.steps[2].checks.items[0].actual, "after the timeout"));
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_hooks(void **state)
{
    (void)state;
    struct harness_scenario *sc = load(
        "{\"clock\":{\"set\":\"2026-11-28T12:45:33Z\"}},"
        "{\"seed_pipeline\":{\"id\":\"1111111111111-abcde1\"}},"
        "{\"seed_job\":{\"id\":\"2222222222222-abcdef\",\"pipeline\":\"1111111111111-abcde1\","
        "\"status\":\"Progressing\"}},"
        "{\"fail_job\":\"2222222222222-abcdef\"},"
        "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"2222222222222-abcdef\"},\"expect\":{\"paths\":"
        "{\"Job.Status\":\"Error\"}}},"
        "{\"clock\":{\"advance_s\":60}},"
        "{\"clock\":{\"to_next_event\":true}},"
        "{\"name\":\"refused\",\"seed_pipeline\":{\"id\":\"1111111111111-abcde1\"}},"
        "{\"name\":\"after\",\"call\":\"ListPipelines\"}");
    struct harness_backend *b = harness_backend_inproc_new(NULL);
    assert_non_null(b);
    struct harness_scenario_result r;
    run_on(b, sc, &r);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(r.steps[i].verdict, HARNESS_VERDICT_PASS);
    }
    assert_int_equal(b->ops->now_ms(b), INT64_C(1795869933000) + 60000);
    /* A hook the target refuses is the harness's problem: ERROR, and the rest is not run. */
    assert_int_equal(r.steps[7].verdict, HARNESS_VERDICT_ERROR);
    assert_non_null(strstr(r.steps[7].reason, "refused the hook"));
    assert_int_equal(r.steps[8].verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(r.verdict, HARNESS_VERDICT_ERROR);
    harness_backend_free(b);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* --- Concurrency --------------------------------------------------------------------- */

static void test_runner_concurrent_cancel_races_start(void **state)
{
    (void)state;
    struct harness_scenario *sc = load(
        CREATE_BOTH ",{\"name\":\"race\",\"concurrent\":["
                    "{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":{\"Id\":\"${j}\"}},"
                    "{\"name\":\"start\",\"clock\":{\"advance_ms\":2000}}],"
                    "\"outcomes\":["
                    "{\"cancel\":{\"status\":202},\"set\":{\"final\":\"Canceled\"}},"
                    "{\"cancel\":{\"status\":409,\"error\":\"ResourceInUseException\"},"
                    "\"set\":{\"final\":\"Progressing\"}}]},"
                    "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"},\"expect\":{\"paths\":"
                    "{\"Job.Status\":\"${final}\"}}}");
    unsigned seen_cancel = 0;
    for (int i = 0; i < 20; i++) {
        struct harness_scenario_result r;
        run_inproc(sc, &r);
        if (r.verdict != HARNESS_VERDICT_PASS) {
            fail_msg("run %d: %s (%s)", i, harness_verdict_name(r.verdict),
                     r.steps[2].checks.count > 0 ? r.steps[2].checks.items[0].actual : "");
        }
        seen_cancel += r.steps[2].exchanges[0].http_status == 202 ? 1 : 0;
        harness_scenario_result_cleanup(&r);
    }
    (void)seen_cancel; /* either outcome is allowed; the point is they never disagree */
    harness_scenario_free(sc);
}

static void test_runner_concurrent_no_outcome_matches(void **state)
{
    (void)state;
    struct harness_scenario *sc =
        load("{\"name\":\"pair\",\"concurrent\":[{\"name\":\"a\",\"call\":\"ListPipelines\"},"
             "{\"name\":\"b\",\"call\":\"ListPipelines\",\"sign\":\"none\"}],"
             "\"outcomes\":[{\"a\":{\"status\":200},\"b\":{\"status\":200}}]}");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_FAIL);
    const struct harness_check_result *c = &r.steps[0].checks.items[0];
    assert_string_equal(c->what, "outcomes");
    assert_non_null(strstr(c->actual, "a: 200 (no error); b: 403 MissingAuthenticationToken"));
    assert_int_equal(r.steps[0].num_exchanges, 2);
    assert_string_equal(r.steps[0].exchanges[1].label, "b");
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* --- Verdicts ------------------------------------------------------------------------ */

static void test_runner_deviation_does_not_stop(void **state)
{
    (void)state;
    struct harness_scenario *sc =
        load("{\"call\":\"ListPipelines\",\"expect\":[{\"status\":\"2xx\"},{\"level\":\"should\","
             "\"status\":204},{\"level\":\"info\",\"status\":500}]},"
             "{\"call\":\"ListPipelines\",\"expect\":{\"status\":200}}");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    assert_int_equal(r.steps[0].verdict, HARNESS_VERDICT_DEVIATION);
    assert_int_equal(r.steps[1].verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.verdict, HARNESS_VERDICT_DEVIATION);
    assert_int_equal(r.must_held, 2);
    assert_int_equal(r.must_total, 2);
    assert_int_equal(r.should_held, 0);
    assert_int_equal(r.should_total, 1);
    assert_int_equal(r.info_total, 1);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_capture_missing_fails(void **state)
{
    (void)state;
    struct harness_scenario *sc =
        load("{\"call\":\"ListPipelines\",\"capture\":{\"x\":\"Pipelines[0].Id\",\"s\":\"@status\","
             "\"rid\":\"@header:x-amzn-RequestId\"}},"
             "{\"call\":\"ReadPipeline\",\"params\":{\"Id\":\"${x}\"}}");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    assert_int_equal(r.steps[0].verdict, HARNESS_VERDICT_FAIL);
    assert_int_equal(r.steps[0].checks.count, 1);
    assert_string_equal(r.steps[0].checks.items[0].what, "capture.x");
    assert_int_equal(r.steps[1].verdict, HARNESS_VERDICT_SKIP);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_not_implemented(void **state)
{
    (void)state;
    static const char unknown[] = "HTTP/1.1 404 Not Found\r\n"
                                  "x-amzn-ErrorType: UnknownOperationException\r\n"
                                  "Content-Length: 24\r\n\r\n{\"message\":\"no such op\"}";
    struct fake f;
    fake_init(&f, unknown);
    struct harness_scenario *sc =
        load("{\"call\":\"CancelJob\",\"params\":{\"Id\":\"1111111111111-abcdef\"},\"expect\":"
             "{\"status\":202}}");
    struct harness_scenario_result r;
    run_on(&f.base, sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_NOT_IMPLEMENTED);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    /* An HTML 404 says the same; a raw request is the scenario's own business: FAIL. */
    fake_init(&f, "HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\n<html>");
    sc = load("{\"call\":\"ReadJob\",\"params\":{\"Id\":\"x\"},\"expect\":{\"status\":400}}");
    run_on(&f.base, sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_NOT_IMPLEMENTED);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    sc = load("{\"raw\":{\"method\":\"GET\",\"target\":\"/x\"},\"expect\":{\"status\":400}}");
    run_on(&f.base, sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_FAIL);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_skips_what_the_target_lacks(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, OK_JSON);
    /* No hooks: the seed is skipped, and so is everything after it. */
    struct harness_scenario *sc = load("{\"call\":\"ListPipelines\",\"expect\":{\"status\":200}},"
                                       "{\"seed_pipeline\":{\"id\":\"1111111111111-abcde1\"}},"
                                       "{\"call\":\"ListPipelines\"}");
    struct harness_scenario_result r;
    run_on(&f.base, sc, &r);
    assert_int_equal(r.steps[0].verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.steps[1].verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(r.steps[2].verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(f.sends, 1);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    /* No restricted principal: that step is skipped, the scenario goes on. */
    sc = load("{\"call\":\"ListPipelines\",\"sign\":\"restricted\"},{\"call\":\"ListPipelines\"}");
    run_on(&f.base, sc, &r);
    assert_int_equal(r.steps[0].verdict, HARNESS_VERDICT_SKIP);
    assert_non_null(strstr(r.steps[0].reason, "no restricted principal"));
    assert_int_equal(r.steps[1].verdict, HARNESS_VERDICT_PASS);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    /* An in-process-only scenario on a target without hooks: nothing runs. */
    const char *text = "{\"name\":\"s\",\"description\":\"d\",\"inproc_only\":true,\"steps\":["
                       "{\"call\":\"ListPipelines\"}]}";
    struct harness_load_error err;
    assert_int_equal(harness_scenario_load_buffer((const uint8_t *)text, strlen(text), "t/s.json",
                                                  "t", NULL, &sc, &err),
                     REF_OK);
    f.sends = 0;
    run_on(&f.base, sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(f.sends, 0);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* What depends on a skipped step is skipped too: a use of a variable it would have
 * captured (until a step that ran captures it again), and every step after a skipped step
 * that would have changed state. A skipped read stops nothing else. */
static void test_runner_skips_what_depends_on_a_skipped_step(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, OK_JSON);
    struct harness_scenario *sc =
        load("{\"name\":\"read-restricted\",\"call\":\"ReadPipeline\",\"params\":{\"Id\":\"x\"},"
             "\"sign\":\"restricted\",\"capture\":{\"v\":\"@status\"}},"
             "{\"call\":\"ListPipelines\"},"
             "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${v}\"}},"
             "{\"call\":\"ListPipelines\",\"capture\":{\"v\":\"@status\"}},"
             "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${v}\"}},"
             "{\"name\":\"cancel-restricted\",\"call\":\"CancelJob\",\"params\":{\"Id\":\"x\"},"
             "\"sign\":\"restricted\"},"
             "{\"call\":\"ListPipelines\"}");
    struct harness_scenario_result r;
    run_on(&f.base, sc, &r);
    enum harness_verdict want[] = {HARNESS_VERDICT_SKIP, HARNESS_VERDICT_PASS, HARNESS_VERDICT_SKIP,
                                   HARNESS_VERDICT_PASS, HARNESS_VERDICT_PASS, HARNESS_VERDICT_SKIP,
                                   HARNESS_VERDICT_SKIP};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (r.steps[i].verdict != want[i]) {
            fail_msg("step %zu: %s (%s)", i + 1, harness_verdict_name(r.steps[i].verdict),
                     r.steps[i].reason);
        }
    }
    assert_string_equal(r.steps[2].reason,
                        "not run: step 'read-restricted' that it depends on was skipped");
    assert_string_equal(r.steps[6].reason,
                        "not run: step 'cancel-restricted' that it depends on was skipped");
    assert_int_equal(r.verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(f.sends, 3);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    /* A raw GET is a read; a raw DELETE changes state. */
    sc = load("{\"raw\":{\"method\":\"GET\",\"target\":\"/v\"},\"sign\":\"restricted\"},"
              "{\"call\":\"ListPipelines\"},"
              "{\"raw\":{\"method\":\"DELETE\",\"target\":\"/v\"},\"sign\":\"restricted\"},"
              "{\"call\":\"ListPipelines\"}");
    run_on(&f.base, sc, &r);
    assert_int_equal(r.steps[1].verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.steps[2].verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(r.steps[3].verdict, HARNESS_VERDICT_SKIP);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_errors_on_transport_and_garbage(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, NULL);
    struct harness_scenario *sc = load("{\"call\":\"ListPipelines\"}");
    struct harness_scenario_result r;
    run_on(&f.base, sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_ERROR);
    assert_non_null(strstr(r.steps[0].reason, "transport failure"));
    harness_scenario_result_cleanup(&r);
    fake_init(&f, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    run_on(&f.base, sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_ERROR);
    assert_non_null(strstr(r.steps[0].reason, "not valid HTTP"));
    harness_scenario_result_cleanup(&r);
    fake_init(&f, OK_JSON "trailing");
    run_on(&f.base, sc, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_ERROR);
    assert_non_null(strstr(r.steps[0].reason, "bytes after the end"));
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* --- Running out of JSON memory ----------------------------------------------------- */

/* Every jansson allocation fails in turn: the runner's own (loading, request bodies with
 * ${vars} expanded through nested objects and arrays, captures, answers) and the
 * in-process reference's. Nothing may crash or be left allocated. */
static void test_runner_survives_every_json_allocation_failure(void **state)
{
    (void)state;
    /* Expanded variables at every depth of a request body. */
    static const char steps[] = CREATE_BOTH
        ",{\"name\":\"again\",\"call\":\"CreateJob\",\"params\":{\"PipelineId\":\"${p}\","
        "\"Input\":{\"Key\":\"${j}.mp4\"},\"Outputs\":[{\"Key\":\"${j}-a.mp4\","
        "\"PresetId\":\"1351620000001-000010\"},{\"Key\":\"${p}-b.mp4\","
        "\"PresetId\":\"1351620000001-000010\"}]},\"expect\":{\"status\":201}}";
    bool has_passed = false;
    for (long fail_at = 0; !has_passed; fail_at++) {
        assert_true(fail_at < 100000);
        json_allocs_left = fail_at;
        json_live = 0;
        json_set_alloc_funcs(counting_json_malloc, counting_json_free);
        /* Loaded under the same allocator, so that every JSON value is counted. */
        struct harness_scenario *sc = NULL;
        struct harness_load_error err;
        enum ref_status rc = load_steps(steps, &sc, &err);
        if (rc == REF_OK) {
            struct harness_backend *b = harness_backend_inproc_new(NULL);
            if (b != NULL) {
                struct harness_scenario_result r;
                if (harness_run_scenario(sc, b, &r) == REF_OK) {
                    has_passed = r.verdict == HARNESS_VERDICT_PASS;
                    harness_scenario_result_cleanup(&r);
                }
                harness_backend_free(b);
            }
            harness_scenario_free(sc);
        }
        json_set_alloc_funcs(malloc, free);
        if (json_live != 0) {
            fail_msg("%ld JSON allocations leaked when allocation %ld failed", json_live, fail_at);
        }
    }
}

static void test_runner_replays_a_capture_file(void **state)
{
    (void)state;
    /* A scenario in a scratch folder that refers to a real client's capture. */
    char dir[] = "/tmp/etch-runner-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char area[64];
    snprintf(area, sizeof(area), "%s/replay", dir);
    assert_int_equal(mkdir(area, 0700), 0);
    char file[128];
    snprintf(file, sizeof(file), "%s/botocore-cancel.json", area);
    FILE *out = fopen(file, "w");
    assert_non_null(out);
    fprintf(
        out,
        "{\"name\":\"botocore-cancel\",\"description\":\"d\",\"source\":\"clients\","
        "\"inproc_only\":true,\"steps\":["
        "{\"clock\":{\"set\":\"20261128T124516Z\"}},"
        "{\"seed_pipeline\":{\"id\":\"1111111111111-abcde1\",\"status\":\"Paused\"}},"
        "{\"seed_job\":{\"id\":\"2222222222222-abcdef\",\"pipeline\":\"1111111111111-abcde1\"}},"
        "{\"raw\":{\"file\":\"%s/fixtures/captures/botocore/CancelJob.http\"},"
        "\"expect\":[{\"status\":202,\"error\":null},{\"level\":\"should\",\"body\":"
        "{\"Success\":\"true\"}}]}]}",
        "../../../../.." ETCH_SOURCE_DIR);
    fclose(out);
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    enum ref_status rc = harness_scenario_load_file(file, NULL, &sc, &err);
    if (rc != REF_OK) {
        fail_msg("%s", err.message);
    }
    assert_string_equal(sc->area, "replay");
    assert_string_equal(sc->display_path, "replay/botocore-cancel.json");
    struct harness_scenario_result r;
    run_inproc(sc, &r);
    if (r.verdict != HARNESS_VERDICT_PASS) {
        fail_msg("%s: %s %s", harness_verdict_name(r.verdict), r.steps[3].reason,
                 r.steps[3].checks.count > 0 ? r.steps[3].checks.items[0].actual : "");
    }
    assert_true(r.steps[3].exchanges[0].is_verbatim);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    unlink(file);
    rmdir(area);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runner_serialises_calls_like_the_sdks),
        cmocka_unit_test(test_runner_raw_requests_are_sent_as_written),
        cmocka_unit_test(test_runner_every_sign_mode_against_the_reference),
        cmocka_unit_test(test_runner_wait_sees_every_state),
        cmocka_unit_test(test_runner_wait_fails_when_nothing_can_change),
        cmocka_unit_test(test_runner_wait_timeout_on_the_target_clock),
        cmocka_unit_test(test_runner_hooks),
        cmocka_unit_test(test_runner_concurrent_cancel_races_start),
        cmocka_unit_test(test_runner_concurrent_no_outcome_matches),
        cmocka_unit_test(test_runner_deviation_does_not_stop),
        cmocka_unit_test(test_runner_capture_missing_fails),
        cmocka_unit_test(test_runner_not_implemented),
        cmocka_unit_test(test_runner_skips_what_the_target_lacks),
        cmocka_unit_test(test_runner_skips_what_depends_on_a_skipped_step),
        cmocka_unit_test(test_runner_errors_on_transport_and_garbage),
        cmocka_unit_test(test_runner_replays_a_capture_file),
        cmocka_unit_test(test_runner_survives_every_json_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
