/* SPDX-License-Identifier: Apache-2.0
 *
 * test_runner_shared.c - the runner on shared targets and against endpoints that lack an
 * operation: unique pipeline names (sent with the suffix, seen without it), List answers
 * scoped to the scenario's Ids across pages (calls and requests written out), cleanup
 * after PASS and FAIL and when it has to give up; NOT IMPLEMENTED decided by a probe per
 * operation (an HTML 404, a malformed request routed nowhere, a ResourceNotFoundException
 * with no body); answers that are a close; in-process-only request steps; transport
 * reasons from the backend; an interrupted run.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/backend.h"
#include "harness/http_response.h"
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

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROLE "arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role"

static struct harness_backend *live_like(void)
{
    /* Other users' pipelines fill several pages here: more than the default limit. */
    struct harness_inproc_options o = {.is_live_like = true, .max_pipelines = 1000};
    struct harness_backend *b = harness_backend_inproc_new(&o);
    assert_non_null(b);
    assert_true(harness_backend_has(b, HARNESS_CAP_SHARED));
    assert_false(harness_backend_has(b, HARNESS_CAP_HOOKS));
    return b;
}

/* Sends one signed request straight to a backend, as another user of the endpoint would,
 * and returns the JSON body of the answer (owned by the caller). */
static json_t *direct(struct harness_backend *b,
                      const char *method,
                      const char *target,
                      const char *body,
                      int *status)
{
    struct harness_header_copy headers[8] = {{0}};
    size_t n = 0;
    headers[n].name = strdup("Host");
    headers[n++].value = strdup(b->host);
    if (body != NULL) {
        headers[n].name = strdup("Content-Type");
        headers[n++].value = strdup("application/json");
    }
    struct harness_sign sign = {.principal = HARNESS_PRINCIPAL_MAIN};
    struct harness_sign_target t = {.method = method,
                                    .target = target,
                                    .headers = headers,
                                    .num_headers = &n,
                                    .cap_headers = 8,
                                    .body = (const uint8_t *)body,
                                    .body_len = body != NULL ? strlen(body) : 0};
    assert_int_equal(harness_sign_request(b, &sign, b->ops->now_ms(b), &t), REF_OK);
    struct ref_buf req;
    struct ref_buf resp;
    ref_buf_init(&req, 1 << 20);
    ref_buf_init(&resp, 8 << 20);
    assert_int_equal(ref_buf_appendf(&req, "%s %s HTTP/1.1\r\n", method, target), REF_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ref_buf_appendf(&req, "%s: %s\r\n", headers[i].name, headers[i].value),
                         REF_OK);
        free(headers[i].name);
        free(headers[i].value);
    }
    assert_int_equal(ref_buf_appendf(&req, "Content-Length: %zu\r\n\r\n%s", t.body_len,
                                     body != NULL ? body : ""),
                     REF_OK);
    assert_int_equal(b->ops->send(b, ref_buf_slice(&req), &resp), REF_OK);
    struct harness_http_response http;
    struct ref_buf chunked;
    ref_buf_init(&chunked, 8 << 20);
    assert_int_equal(harness_http_parse_response(ref_buf_slice(&resp), &http, &chunked, NULL, NULL),
                     REF_OK);
    *status = http.status;
    json_t *out = json_loadb((const char *)http.body.ptr, http.body.len, 0, NULL);
    ref_buf_cleanup(&chunked);
    ref_buf_cleanup(&req);
    ref_buf_cleanup(&resp);
    return out;
}

static size_t count_pipelines(struct harness_backend *b)
{
    size_t total = 0;
    char target[128] = "/2012-09-25/pipelines";
    for (;;) {
        int status = 0;
        json_t *body = direct(b, "GET", target, NULL, &status);
        assert_int_equal(status, 200);
        total += json_array_size(json_object_get(body, "Pipelines"));
        json_t *tok = json_object_get(body, "NextPageToken");
        if (!json_is_string(tok)) {
            json_decref(body);
            return total;
        }
        snprintf(target, sizeof(target), "/2012-09-25/pipelines?PageToken=%s",
                 json_string_value(tok));
        json_decref(body);
    }
}

static void foreign_pipelines(struct harness_backend *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int status = 0;
        json_t *body = direct(
            b, "POST", "/2012-09-25/pipelines",
            "{\"Name\":\"foreign\",\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":\"" ROLE
            "\"}",
            &status);
        assert_int_equal(status, 201);
        json_decref(body);
    }
}

static bool sent_contains(const struct harness_step_result *s, const char *text)
{
    const struct ref_buf *r = &s->exchanges[0].request;
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= r->len; i++) {
        if (memcmp(r->data + i, text, n) == 0) {
            return true;
        }
    }
    return false;
}

static void
run(const struct harness_scenario *sc, struct harness_backend *b, struct harness_scenario_result *r)
{
    assert_int_equal(harness_run_scenario(sc, b, r), REF_OK);
}

static void dump_failures(const struct harness_scenario_result *r)
{
    for (size_t i = 0; i < r->num_steps; i++) {
        const struct harness_step_result *s = &r->steps[i];
        if (s->reason[0] != '\0') {
            print_message("step %s: %s: %s\n", s->step->name, harness_verdict_name(s->verdict),
                          s->reason);
        }
        for (size_t k = 0; k < s->checks.count; k++) {
            if (!s->checks.items[k].held) {
                print_message("step %s: %s: expected %s, got %s\n", s->step->name,
                              s->checks.items[k].what, s->checks.items[k].expected,
                              s->checks.items[k].actual);
            }
        }
    }
}

/* --- Isolation --------------------------------------------------------------------- */

#define CREATE(name, var)                                                                          \
    "{\"name\":\"create-" name "\",\"call\":\"CreatePipeline\",\"params\":{\"Name\":\"" name       \
    "\",\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":\"" ROLE                          \
    "\"},\"capture\":{\"" var "\":\"Pipeline.Id\"},"                                               \
    "\"expect\":{\"status\":201,\"paths\":{\"Pipeline.Name\":\"" name "\"}}}"

static void test_runner_shared_isolates_and_cleans_up(void **state)
{
    (void)state;
    struct harness_backend *b = live_like();
    /* 60 pipelines of somebody else: more than a page (50) before the scenario's own. */
    foreign_pipelines(b, 60);
    struct harness_scenario *sc = load(CREATE("first", "p1") "," CREATE(
        "second",
        "p2") ","
              "{\"name\":\"list\",\"call\":\"ListPipelines\",\"params\":{\"Ascending\":\"true\"},"
              "\"expect\":{\"status\":200,\"paths\":{\"Pipelines\":{\"$len\":2},"
              "\"Pipelines[0].Id\":\"${p1}\",\"Pipelines[0].Name\":\"first\","
              "\"Pipelines[1].Id\":\"${p2}\",\"NextPageToken\":null}}},"
              "{\"name\":\"raw-list\",\"raw\":{\"method\":\"GET\",\"target\":"
              "\"/2012-09-25/pipelines?Ascending=false\"},"
              "\"expect\":{\"status\":200,\"paths\":{\"Pipelines\":{\"$len\":2},"
              "\"Pipelines[0].Id\":\"${p2}\"}}},"
              "{\"name\":\"own-page\",\"call\":\"ListPipelines\",\"params\":{\"PageToken\":\"${p1}"
              "\"},"
              "\"expect\":{\"status\":[\"2xx\",\"4xx\"]}}");
    struct harness_scenario_result r;
    run(sc, b, &r);
    dump_failures(&r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    /* Sent with the run's suffix, seen without it. */
    assert_int_equal(strlen(r.name_suffix), 9);
    char sent[64];
    snprintf(sent, sizeof(sent), "\"Name\":\"first%s\"", r.name_suffix);
    assert_true(sent_contains(&r.steps[0], sent));
    assert_non_null(r.steps[0].exchanges[0].observed_body);
    assert_null(strstr(r.steps[0].exchanges[0].observed_body, r.name_suffix));
    /* The scoped answers are kept for reports and diffs; a step with its own PageToken
     * sees its page as it came. */
    assert_non_null(r.steps[2].exchanges[0].observed_body);
    assert_non_null(r.steps[3].exchanges[0].observed_body);
    assert_null(r.steps[4].exchanges[0].observed_body);
    /* Cleanup: the scenario's two pipelines are gone, the others are not. */
    assert_true(r.cleanup.is_done);
    assert_int_equal(r.cleanup.pipelines_deleted, 2);
    assert_int_equal(r.cleanup.pipelines_left, 0);
    assert_int_equal(count_pipelines(b), 60);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    harness_backend_free(b);
}

static void test_runner_shared_cleans_up_after_a_failure(void **state)
{
    (void)state;
    struct harness_backend *b = live_like();
    struct harness_scenario *sc = load(CREATE(
        "p",
        "p") ","
             "{\"name\":\"pause\",\"call\":\"UpdatePipelineStatus\",\"params\":{\"Id\":\"${p}\","
             "\"Status\":\"Paused\"}},"
             "{\"name\":\"job\",\"call\":\"CreateJob\",\"params\":{\"PipelineId\":\"${p}\","
             "\"Input\":{\"Key\":\"i\"},\"Output\":{\"Key\":\"o\",\"PresetId\":\"1351620000001-"
             "000010\"}},"
             "\"capture\":{\"j\":\"Job.Id\"}},"
             "{\"name\":\"breaks\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"},"
             "\"expect\":{\"status\":418}}");
    struct harness_scenario_result r;
    run(sc, b, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_FAIL);
    /* The Submitted job is canceled first, so its pipeline can go. */
    assert_int_equal(r.cleanup.jobs_canceled, 1);
    assert_int_equal(r.cleanup.pipelines_deleted, 1);
    assert_string_equal(r.cleanup.note, "");
    assert_int_equal(count_pipelines(b), 0);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    harness_backend_free(b);
}

static void test_runner_shared_cleanup_gives_up_and_says_so(void **state)
{
    (void)state;
    struct harness_backend *b = live_like();
    b->cleanup_timeout_ms = 1; /* no waiting for the running job */
    struct harness_scenario *sc = load(CREATE(
        "busy",
        "p") ","
             "{\"name\":\"job\",\"call\":\"CreateJob\",\"params\":{\"PipelineId\":\"${p}\","
             "\"Input\":{\"Key\":\"i\"},\"Output\":{\"Key\":\"o\",\"PresetId\":\"1351620000001-"
             "000010\"}},"
             "\"capture\":{\"j\":\"Job.Id\"}},"
             "{\"name\":\"runs\",\"wait\":{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"},"
             "\"until\":{\"paths\":{\"Job.Status\":\"Progressing\"}},\"timeout_s\":10,"
             "\"interval_ms\":100}}");
    struct harness_scenario_result r;
    run(sc, b, &r);
    dump_failures(&r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.cleanup.jobs_canceled, 0);
    assert_int_equal(r.cleanup.pipelines_left, 1);
    assert_non_null(strstr(r.cleanup.note, "gave up waiting for its jobs"));
    assert_non_null(strstr(r.cleanup.note, "409 ResourceInUseException"));
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    harness_backend_free(b);
}

/* The reference behind a wrapper of its send, with a real sleep between cleanup polls;
 * with ignores_cancel, an endpoint that answers every CancelJob 202 {"Success":"true"}
 * and cancels nothing. */
static const struct harness_backend_ops *ignoring_cancel_inner;
static struct harness_backend_ops ignoring_cancel_ops;
static bool ignores_cancel;

static enum ref_status
ignoring_cancel_send(struct harness_backend *b, struct ref_slice request, struct ref_buf *response)
{
    static const char cancel[] = "DELETE /2012-09-25/jobs/";
    if (ignores_cancel && request.len > sizeof(cancel) - 1 &&
        memcmp(request.ptr, cancel, sizeof(cancel) - 1) == 0) {
        return ref_buf_append_cstr(response, "HTTP/1.1 202 Accepted\r\n"
                                             "Content-Type: application/json\r\n"
                                             "x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n"
                                             "Content-Length: 18\r\n\r\n"
                                             "{\"Success\":\"true\"}");
    }
    return ignoring_cancel_inner->send(b, request, response);
}

static enum ref_status ignoring_cancel_send_explained(
    struct harness_backend *b, struct ref_slice request, struct ref_buf *response, char *why,
    size_t why_cap)
{
    (void)why;
    (void)why_cap;
    return ignoring_cancel_send(b, request, response);
}

static void ignoring_cancel_sleep(struct harness_backend *b, int64_t ms)
{
    (void)b;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct harness_backend *sleeping_live_like(bool is_ignoring_cancel)
{
    ignores_cancel = is_ignoring_cancel;
    struct harness_backend *b = live_like();
    ignoring_cancel_inner = b->ops;
    ignoring_cancel_ops = *b->ops;
    ignoring_cancel_ops.send = ignoring_cancel_send;
    ignoring_cancel_ops.send_explained = ignoring_cancel_send_explained;
    ignoring_cancel_ops.sleep_ms = ignoring_cancel_sleep;
    b->ops = &ignoring_cancel_ops;
    return b;
}

/* A cancel answered 202 that canceled nothing is not counted as a cancel, and the
 * pipeline its Submitted job keeps busy is not waited for: no answer will change. */
static void test_runner_shared_cleanup_reads_back_and_does_not_wait_in_vain(void **state)
{
    (void)state;
    struct harness_backend *b = sleeping_live_like(true);
    struct harness_scenario *sc = load(CREATE(
        "stuck",
        "p") ","
             "{\"name\":\"pause\",\"call\":\"UpdatePipelineStatus\",\"params\":{\"Id\":\"${p}\","
             "\"Status\":\"Paused\"}},"
             "{\"name\":\"job\",\"call\":\"CreateJob\",\"params\":{\"PipelineId\":\"${p}\","
             "\"Input\":{\"Key\":\"i\"},\"Output\":{\"Key\":\"o\",\"PresetId\":\"1351620000001-"
             "000010\"}},"
             "\"capture\":{\"j\":\"Job.Id\"}}");
    struct harness_scenario_result r;
    run(sc, b, &r);
    dump_failures(&r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.cleanup.jobs_canceled, 0);
    assert_int_equal(r.cleanup.jobs_cancel_ignored, 1);
    assert_int_equal(r.cleanup.pipelines_deleted, 0);
    assert_int_equal(r.cleanup.pipelines_left, 1);
    assert_non_null(strstr(r.cleanup.note, "answered 202 but the job then read Submitted"));
    harness_scenario_result_cleanup(&r);
    /* The pipeline is left busy; nothing was waited for (a wait would have been the
     * default cleanup timeout, 120 s, and said "gave up waiting"). */
    assert_int_equal(count_pipelines(b), 1);
    harness_scenario_free(sc);
    harness_backend_free(b);
}

/* A job that is Progressing is waited for only while the run's cleanup budget lasts. */
static void test_runner_shared_cleanup_budget_bounds_the_wait(void **state)
{
    (void)state;
    struct harness_backend *b = sleeping_live_like(false);
    atomic_llong budget_ms = 0;
    b->cleanup_budget_ms = &budget_ms;
    struct harness_scenario *sc = load(CREATE(
        "busy",
        "p") ","
             "{\"name\":\"job\",\"call\":\"CreateJob\",\"params\":{\"PipelineId\":\"${p}\","
             "\"Input\":{\"Key\":\"i\"},\"Output\":{\"Key\":\"o\",\"PresetId\":\"1351620000001-"
             "000010\"}},"
             "\"capture\":{\"j\":\"Job.Id\"}},"
             "{\"name\":\"runs\",\"wait\":{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"},"
             "\"until\":{\"paths\":{\"Job.Status\":\"Progressing\"}},\"timeout_s\":10,"
             "\"interval_ms\":100}}");
    struct harness_scenario_result r;
    run(sc, b, &r);
    dump_failures(&r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.cleanup.pipelines_left, 1);
    assert_non_null(strstr(r.cleanup.note, "the run's cleanup budget is spent"));
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    harness_backend_free(b);
}

static void test_runner_in_process_is_not_isolated(void **state)
{
    (void)state;
    struct harness_backend *b = harness_backend_inproc_new(NULL);
    struct harness_scenario *sc = load(CREATE("plain", "p"));
    struct harness_scenario_result r;
    run(sc, b, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_string_equal(r.name_suffix, "");
    assert_false(r.cleanup.is_done);
    assert_true(sent_contains(&r.steps[0], "\"Name\":\"plain\""));
    assert_null(r.steps[0].exchanges[0].observed_body);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    harness_backend_free(b);
}

static void test_runner_shared_long_names_are_sent_as_written(void **state)
{
    (void)state;
    /* 32 characters: with a 9-byte suffix over the 40 allowed, so left alone. */
    struct harness_backend *b = live_like();
    struct harness_scenario *sc = load(CREATE("abcdefghijklmnopqrstuvwxyz012345", "p"));
    struct harness_scenario_result r;
    run(sc, b, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_true(sent_contains(&r.steps[0], "\"Name\":\"abcdefghijklmnopqrstuvwxyz012345\""));
    assert_int_equal(r.cleanup.pipelines_deleted, 1);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    /* 31: the longest that takes it. */
    sc = load(CREATE("abcdefghijklmnopqrstuvwxyz01234", "p"));
    run(sc, b, &r);
    char sent[64];
    snprintf(sent, sizeof(sent), "\"Name\":\"abcdefghijklmnopqrstuvwxyz01234%s\"", r.name_suffix);
    assert_true(sent_contains(&r.steps[0], sent));
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    harness_backend_free(b);
}

/* --- Fake endpoints ---------------------------------------------------------------- */

/* Answers by the request line: requests whose line contains `match` get `answer`, the
 * others get `otherwise`. NULL answers are transport failures with a reason. */
struct fake {
    struct harness_backend base;
    const char *match;
    const char *answer;
    const char *otherwise;
    unsigned sends;
    atomic_bool *interrupt_on_send; /* set by the first send, when given */
};

static enum ref_status fake_send_explained(struct harness_backend *b,
                                           struct ref_slice req,
                                           struct ref_buf *resp,
                                           char *why,
                                           size_t why_cap)
{
    struct fake *f = b->impl;
    f->sends++;
    if (f->interrupt_on_send != NULL) {
        atomic_store(f->interrupt_on_send, true);
    }
    size_t line = ref_slice_find(req, '\r');
    bool hit = false;
    size_t n = f->match != NULL ? strlen(f->match) : 0;
    for (size_t i = 0; n > 0 && i + n <= line; i++) {
        hit = hit || memcmp(req.ptr + i, f->match, n) == 0;
    }
    const char *a = hit ? f->answer : f->otherwise;
    if (a == NULL) {
        snprintf(why, why_cap, "the fake's cable is cut");
        return REF_E_INTERNAL;
    }
    return ref_buf_append_cstr(resp, a);
}

static enum ref_status
fake_send(struct harness_backend *b, struct ref_slice req, struct ref_buf *resp)
{
    char why[64];
    return fake_send_explained(b, req, resp, why, sizeof(why));
}

static int64_t fake_now(struct harness_backend *b)
{
    (void)b;
    return HARNESS_DEFAULT_START_MS;
}

static const struct harness_backend_ops s_fake_ops = {
    .send = fake_send, .send_explained = fake_send_explained, .now_ms = fake_now};

static void fake_init(struct fake *f, const char *match, const char *answer, const char *otherwise)
{
    memset(f, 0, sizeof(*f));
    f->match = match;
    f->answer = answer;
    f->otherwise = otherwise;
    f->base.ops = &s_fake_ops;
    f->base.impl = f;
    f->base.host = "example.test";
    f->base.region = "us-east-1";
    f->base.service = "elastictranscoder";
    f->base.principals[HARNESS_PRINCIPAL_MAIN] = REF_TEST_CRED_MAIN;
}

#define HTML_404                                                                                   \
    "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n<h1>?</h1"
#define RNF_JSON                                                                                   \
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"                                 \
    "x-amzn-ErrorType: ResourceNotFoundException\r\nContent-Length: 15\r\n\r\n{\"message\":\"n\"}"
#define RNF_EMPTY                                                                                  \
    "HTTP/1.1 404 Not Found\r\nx-amzn-ErrorType: ResourceNotFoundException\r\n"                    \
    "Content-Length: 0\r\n\r\n"
#define UNKNOWN_OP                                                                                 \
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"                                 \
    "x-amzn-ErrorType: UnknownOperationException\r\nContent-Length: 15\r\n\r\n{\"message\":\"u\"}"

#define CANCEL(id)                                                                                 \
    "{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":{\"Id\":\"" id "\"},"                  \
    "\"expect\":{\"status\":404,\"error\":\"ResourceNotFoundException\"}}"

#define PAUSED_PIPELINE                                                                            \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n"              \
    "{\"Pipeline\":{\"Id\":\"1111111111111-pipe01\",\"Status\":\"Paused\"}}"
#define HELD_JOB                                                                                   \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 94\r\n\r\n"              \
    "{\"Job\":{\"Id\":\"2222222222222-job001\",\"PipelineId\":\"1111111111111-pipe01\","           \
    "\"Status\":\"Submitted\"}}"
#define PAUSE_THEN_WAIT_FOR(status)                                                                \
    "{\"name\":\"pause\",\"call\":\"UpdatePipelineStatus\",\"params\":{\"Id\":"                    \
    "\"1111111111111-pipe01\",\"Status\":\"Paused\"},\"expect\":{\"status\":200}},"                \
    "{\"name\":\"wait\",\"wait\":{\"call\":\"ReadJob\",\"params\":{\"Id\":"                        \
    "\"2222222222222-job001\"},\"until\":{\"paths\":{\"Job.Status\":\"" status "\"}},"             \
    "\"timeout_s\":600}}"

/* A wait that nothing can end on a live endpoint fails at once, not at its timeout: a job
 * Submitted on a pipeline the scenario paused (as a CancelJob that answered 202 but left
 * the job alone would show), or a job in a final status. */
static void test_runner_shared_hopeless_wait_fails_at_once(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "/status", PAUSED_PIPELINE, HELD_JOB);
    f.base.caps = HARNESS_CAP_SHARED;
    struct harness_scenario *sc = load(PAUSE_THEN_WAIT_FOR("Canceled"));
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_FAIL);
    assert_int_equal(r.steps[1].polls, 1);
    assert_non_null(strstr(r.steps[1].checks.items[0].actual, "nothing starts it"));
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    /* Without the pause the job may still start: the wait goes on polling. */
    fake_init(&f, "/status", HELD_JOB, HELD_JOB);
    f.base.caps = HARNESS_CAP_SHARED;
    sc = load("{\"name\":\"wait\",\"wait\":{\"call\":\"ReadJob\",\"params\":{\"Id\":"
              "\"2222222222222-job001\"},\"until\":{\"paths\":{\"Job.Status\":\"Canceled\"}},"
              "\"timeout_s\":600}}");
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_FAIL);
    assert_true(r.steps[0].polls > 1);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_not_implemented_from_a_probe(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "DELETE", HTML_404, RNF_JSON);
    struct harness_scenario *sc = load(CANCEL("1111111111111-nojob0"));
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_NOT_IMPLEMENTED);
    assert_non_null(strstr(r.steps[0].reason, "does not know CancelJob"));
    assert_non_null(strstr(r.steps[0].reason, "a well-formed CancelJob request got 404"));
    assert_int_equal(f.sends, 2); /* the step and one probe */
    assert_int_equal(f.base.op_support[REF_OP_CANCEL_JOB], HARNESS_OP_SUPPORT_MISSING);
    harness_scenario_result_cleanup(&r);
    /* Decided once per operation and target: no second probe. */
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_NOT_IMPLEMENTED);
    assert_int_equal(f.sends, 3);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);

    /* An UnknownOperationException in the error form says the same. */
    fake_init(&f, "DELETE", UNKNOWN_OP, RNF_JSON);
    sc = load(CANCEL("1111111111111-nojob0"));
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_NOT_IMPLEMENTED);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_malformed_request_routed_nowhere_is_a_fail(void **state)
{
    (void)state;
    /* The endpoint routes a malformed Id nowhere (HTML 404), but knows CancelJob: its probe,
     * with a well-formed Id, gets a ResourceNotFoundException. */
    struct fake f;
    fake_init(&f, "bad%20id", HTML_404, RNF_JSON);
    struct harness_scenario *sc = load("{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":"
                                       "{\"Id\":\"bad id\"},\"expect\":{\"status\":400}}");
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_FAIL);
    assert_int_equal(f.base.op_support[REF_OP_CANCEL_JOB], HARNESS_OP_SUPPORT_IMPLEMENTED);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_resource_not_found_is_never_not_implemented(void **state)
{
    (void)state;
    /* Not in the error form (no body), but a ResourceNotFoundException: FAIL, no probe. */
    struct fake f;
    fake_init(&f, "DELETE", RNF_EMPTY, RNF_EMPTY);
    struct harness_scenario *sc = load(
        "{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":{\"Id\":\"1111111111111-nojob0\"},"
        "\"expect\":{\"status\":404,\"error_form\":true}}");
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_FAIL);
    assert_int_equal(f.sends, 1);
    assert_int_equal(f.base.op_support[REF_OP_CANCEL_JOB], HARNESS_OP_SUPPORT_UNKNOWN);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_closed_answers(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "GARBAGE", "", RNF_JSON);
    struct harness_scenario *sc =
        load("{\"name\":\"garbage\",\"raw\":{\"bytes\":\"GARBAGE\\r\\n\\r\\n\"},"
             "\"expect\":{\"status\":[\"4xx\",\"closed\"]}},"
             "{\"name\":\"garbage-again\",\"raw\":{\"bytes\":\"GARBAGE\\r\\n\\r\\n\"},"
             "\"expect\":{\"status\":\"4xx\"}}");
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    assert_int_equal(r.steps[0].verdict, HARNESS_VERDICT_PASS);
    assert_true(r.steps[0].exchanges[0].is_closed);
    assert_int_equal(r.steps[1].verdict, HARNESS_VERDICT_FAIL);
    assert_string_equal(r.steps[1].checks.items[0].actual, "closed without an answer");
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);

    /* An operation call that gets no answer: a transport failure. */
    fake_init(&f, "GET", "", RNF_JSON);
    sc = load(
        "{\"name\":\"read\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-nojob0\"}}");
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_ERROR);
    assert_string_equal(r.steps[0].reason, "the endpoint closed the connection without answering");
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_transport_reason_from_the_backend(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "GET", NULL, RNF_JSON);
    struct harness_scenario *sc = load(
        "{\"name\":\"read\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-nojob0\"}}");
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_ERROR);
    assert_string_equal(r.steps[0].reason, "transport failure: the fake's cable is cut");
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_inproc_only_request_step(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "never", "", RNF_JSON);
    struct harness_scenario *sc = load(
        "{\"name\":\"truncated\",\"inproc_only\":true,\"raw\":{\"bytes\":\"POST / HTTP/1.1\\r\\n"
        "Content-Length: 9\\r\\n\\r\\n{\"}},"
        "{\"name\":\"after\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-nojob0\"},"
        "\"expect\":{\"status\":404}}");
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    /* Skipped, and the scenario goes on. */
    assert_int_equal(r.steps[0].verdict, HARNESS_VERDICT_SKIP);
    assert_non_null(strstr(r.steps[0].reason, "in-process only"));
    assert_int_equal(r.steps[1].verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(f.sends, 1);
    harness_scenario_result_cleanup(&r);
    /* In process it runs. */
    struct harness_backend *b = harness_backend_inproc_new(NULL);
    run(sc, b, &r);
    assert_int_equal(r.steps[0].verdict, HARNESS_VERDICT_PASS);
    harness_scenario_result_cleanup(&r);
    harness_backend_free(b);
    harness_scenario_free(sc);
}

static void test_runner_lacking_principal_skips_the_scenario(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, "GET", RNF_JSON, RNF_JSON);
    struct harness_scenario *sc = load(
        "{\"name\":\"main\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-nojob0\"},"
        "\"expect\":{\"status\":404}},"
        "{\"name\":\"restricted\",\"call\":\"ReadJob\",\"sign\":\"restricted\","
        "\"params\":{\"Id\":\"1111111111111-nojob0\"}},"
        "{\"name\":\"after\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-nojob0\"},"
        "\"expect\":{\"status\":404}}");
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    /* The steps that could run did, and count; the scenario as a whole is not a pass. */
    assert_int_equal(r.steps[0].verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.steps[1].verdict, HARNESS_VERDICT_SKIP);
    assert_string_equal(r.steps[1].reason, "the target has no restricted principal");
    assert_int_equal(r.steps[2].verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(r.must_held, 2);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    /* What failed before stays a FAIL. */
    sc =
        load("{\"name\":\"main\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-nojob0\"},"
             "\"expect\":{\"status\":200}},"
             "{\"name\":\"restricted\",\"call\":\"ReadJob\",\"sign\":\"restricted\","
             "\"params\":{\"Id\":\"1111111111111-nojob0\"}}");
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_FAIL);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

/* --- Limits of the isolation --------------------------------------------------------- */

/* An endpoint that creates pipelines with Ids of a given length, deletes anything (so
 * reads find nothing), and lists `pages` pages of nothing, each but the last with a
 * token. Thread-safe. */
struct factory {
    struct harness_backend base;
    size_t id_len;
    unsigned pages;
    atomic_uint created;
    atomic_uint deleted;
};

static bool line_has(struct ref_slice req, const char *text)
{
    size_t line = ref_slice_find(req, '\r');
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= line; i++) {
        if (memcmp(req.ptr + i, text, n) == 0) {
            return true;
        }
    }
    return false;
}

static enum ref_status
factory_send(struct harness_backend *b, struct ref_slice req, struct ref_buf *resp)
{
    struct factory *f = b->impl;
    char body[512];
    int status = 200;
    if (line_has(req, "POST /2012-09-25/pipelines ")) {
        unsigned k = atomic_fetch_add(&f->created, 1);
        char id[256];
        snprintf(id, sizeof(id), "%0*u", (int)f->id_len, k);
        snprintf(body, sizeof(body), "{\"Pipeline\":{\"Id\":\"%s\",\"Name\":\"n\"}}", id);
        status = 201;
    } else if (line_has(req, "DELETE ")) {
        atomic_fetch_add(&f->deleted, 1);
        snprintf(body, sizeof(body), "{\"Success\":\"true\"}");
        status = 202;
    } else if (line_has(req, "GET /2012-09-25/pipelines/")) {
        snprintf(body, sizeof(body), "{\"message\":\"not found\"}");
        status = 404;
    } else {
        /* Page n is asked for with PageToken=n; the first page has none. */
        unsigned page = 1;
        size_t at = 0;
        static const char key[] = "PageToken=";
        size_t line = ref_slice_find(req, '\r');
        for (size_t i = 0; i + sizeof(key) - 1 <= line; i++) {
            if (memcmp(req.ptr + i, key, sizeof(key) - 1) == 0) {
                at = i + sizeof(key) - 1;
            }
        }
        for (page = at > 0 ? 0 : 1; at > 0 && at < line && req.ptr[at] >= '0' && req.ptr[at] <= '9';
             at++) {
            page = page * 10 + (unsigned)(req.ptr[at] - '0');
        }
        if (page < f->pages) {
            snprintf(body, sizeof(body), "{\"Pipelines\":[],\"NextPageToken\":\"%u\"}", page + 1);
        } else {
            snprintf(body, sizeof(body), "{\"Pipelines\":[],\"NextPageToken\":null}");
        }
    }
    return ref_buf_appendf(resp,
                           "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                           "Content-Length: %zu\r\n\r\n%s",
                           status, strlen(body), body);
}

static const struct harness_backend_ops s_factory_ops = {.send = factory_send, .now_ms = fake_now};

static void factory_init(struct factory *f, size_t id_len, unsigned pages)
{
    memset(f, 0, sizeof(*f));
    f->id_len = id_len;
    f->pages = pages;
    atomic_init(&f->created, 0);
    atomic_init(&f->deleted, 0);
    f->base.ops = &s_factory_ops;
    f->base.impl = f;
    f->base.caps = HARNESS_CAP_SHARED | HARNESS_CAP_CONCURRENT;
    f->base.host = "example.test";
    f->base.region = "us-east-1";
    f->base.service = "elastictranscoder";
    f->base.principals[HARNESS_PRINCIPAL_MAIN] = REF_TEST_CRED_MAIN;
}

#define LIST_PIPELINES "{\"name\":\"list\",\"call\":\"ListPipelines\",\"expect\":{\"status\":200}}"

static void test_runner_shared_limit_list_pages(void **state)
{
    (void)state;
    struct harness_scenario *sc = load(LIST_PIPELINES);
    struct factory f;
    struct harness_scenario_result r;
    /* At the limit: every page followed. */
    factory_init(&f, 20, HARNESS_MAX_LIST_PAGES);
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    harness_scenario_result_cleanup(&r);
    /* Over it: an ERROR that says so. */
    factory_init(&f, 20, HARNESS_MAX_LIST_PAGES + 1);
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_ERROR);
    assert_non_null(strstr(r.steps[0].reason, "more than 100 pages"));
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_shared_limit_id_bytes(void **state)
{
    (void)state;
    struct harness_scenario *sc = load(CREATE("p", "p"));
    struct factory f;
    struct harness_scenario_result r;
    factory_init(&f, HARNESS_MAX_ID_BYTES - 1, 1);
    run(sc, &f.base, &r);
    assert_int_equal(r.cleanup.pipelines_deleted, 1);
    assert_int_equal(atomic_load(&f.deleted), 1);
    harness_scenario_result_cleanup(&r);
    /* Too long to remember: neither scoped nor cleaned up. */
    factory_init(&f, HARNESS_MAX_ID_BYTES, 1);
    run(sc, &f.base, &r);
    assert_int_equal(r.cleanup.pipelines_deleted, 0);
    assert_int_equal(atomic_load(&f.deleted), 0);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_shared_limit_created_ids(void **state)
{
    (void)state;
    /* 33 groups of 8 creates: 264 pipelines, of which the first 256 are remembered. */
    char *steps = malloc(64 * 1024);
    assert_non_null(steps);
    size_t used = 0;
    for (int g = 0; g < 33; g++) {
        used += (size_t)snprintf(steps + used, 64 * 1024 - used, "%s{\"concurrent\":[",
                                 g > 0 ? "," : "");
        for (int k = 0; k < 8; k++) {
            used += (size_t)snprintf(
                steps + used, 64 * 1024 - used,
                "%s{\"call\":\"CreatePipeline\",\"params\":{\"Name\":\"n\","
                "\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":\"" ROLE "\"}}",
                k > 0 ? "," : "");
        }
        used += (size_t)snprintf(steps + used, 64 * 1024 - used,
                                 "],\"outcomes\":[{\"sub-1\":{\"status\":201}}]}");
    }
    struct harness_scenario *sc = load(steps);
    free(steps);
    struct factory f;
    factory_init(&f, 20, 1);
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    assert_int_equal(r.verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(atomic_load(&f.created), 264);
    assert_int_equal(r.cleanup.pipelines_deleted, HARNESS_MAX_CREATED_IDS);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

static void test_runner_interrupted(void **state)
{
    (void)state;
    atomic_bool flag;
    atomic_init(&flag, false);
    struct fake f;
    fake_init(&f, "GET", RNF_JSON, RNF_JSON);
    f.interrupt_on_send = &flag;
    f.base.interrupted = &flag;
    struct harness_scenario *sc = load(
        "{\"name\":\"first\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-nojob0\"},"
        "\"expect\":{\"status\":404}},"
        "{\"name\":\"second\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"1111111111111-nojob0\"}}");
    struct harness_scenario_result r;
    run(sc, &f.base, &r);
    /* The first step ran and passed, the second never started: not a PASS. */
    assert_int_equal(r.steps[0].verdict, HARNESS_VERDICT_PASS);
    assert_int_equal(r.steps[1].verdict, HARNESS_VERDICT_SKIP);
    assert_string_equal(r.steps[1].reason, "not run: the run was interrupted");
    assert_int_equal(r.verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(f.sends, 1);
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runner_shared_isolates_and_cleans_up),
        cmocka_unit_test(test_runner_shared_cleans_up_after_a_failure),
        cmocka_unit_test(test_runner_shared_cleanup_gives_up_and_says_so),
        cmocka_unit_test(test_runner_in_process_is_not_isolated),
        cmocka_unit_test(test_runner_shared_long_names_are_sent_as_written),
        cmocka_unit_test(test_runner_not_implemented_from_a_probe),
        cmocka_unit_test(test_runner_shared_hopeless_wait_fails_at_once),
        cmocka_unit_test(test_runner_malformed_request_routed_nowhere_is_a_fail),
        cmocka_unit_test(test_runner_resource_not_found_is_never_not_implemented),
        cmocka_unit_test(test_runner_closed_answers),
        cmocka_unit_test(test_runner_transport_reason_from_the_backend),
        cmocka_unit_test(test_runner_inproc_only_request_step),
        cmocka_unit_test(test_runner_shared_cleanup_reads_back_and_does_not_wait_in_vain),
        cmocka_unit_test(test_runner_shared_cleanup_budget_bounds_the_wait),
        cmocka_unit_test(test_runner_interrupted),
        cmocka_unit_test(test_runner_lacking_principal_skips_the_scenario),
        cmocka_unit_test(test_runner_shared_limit_list_pages),
        cmocka_unit_test(test_runner_shared_limit_id_bytes),
        cmocka_unit_test(test_runner_shared_limit_created_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
