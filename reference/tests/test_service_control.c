/* SPDX-License-Identifier: Apache-2.0
 *
 * test_service_control.c - test control (contract section 9) through the whole service:
 * off by default, discovery, the virtual clock and everything that reads it, seeding,
 * set-status, who may call control, and the answers to paths control does not have.
 *
 * Requests go through ref_service_handle_parsed as in the other service tests
 * (service_request_support.h); control requests are signed at the service's own clock
 * (ref_service_now_ms), as a live run signs at the endpoint's NowMillis.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include "service_request_support.h"
#include "test_alloc_hooks.h"

#include "ref/job_store.h"

#include <pthread.h>

#define DELAY_MS  2000
#define RUN_MS    5000
#define T0        TEST_FIXED_NOW_MS
#define ROLE      "arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role"
#define PIPE_A    "1111111111111-pipeaa"
#define PIPE_B    "1111111111111-pipebb"
#define PRESET_ID "1351620000001-000010"
#define SKEW_S    300

/* A service with test control (or without), the start delay and run time above. */
static void open_control(struct fx *fx, bool has_test_control, size_t max_pipelines)
{
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.has_test_control = has_test_control;
    cfg.start_delay_ms = DELAY_MS;
    cfg.run_time_ms = RUN_MS;
    cfg.skew_s = SKEW_S;
    if (max_pipelines > 0) {
        cfg.max_pipelines = max_pipelines;
    }
    fx_open_config(fx, &cfg);
}

/* Sends a request as cred, signed at the service's clock; body written with ' for ". */
static void send_as(struct fx *fx,
                    const struct ref_credential *cred,
                    const char *method,
                    const char *target,
                    const char *body,
                    struct answer *a)
{
    char *text = body != NULL ? q(body) : NULL;
    call_as(fx, cred, ref_service_now_ms(fx->svc) / 1000, method, target, text, a);
    free(text);
}

static void
ctl(struct fx *fx, const char *method, const char *target, const char *body, struct answer *a)
{
    send_as(fx, REF_TEST_CRED_MAIN, method, target, body, a);
}

static void expect_answer(const struct answer *a, int status, const char *error_type)
{
    if (a->http_status != status || strcmp(a->error_type, error_type) != 0) {
        fail_msg("want %d %s, got %d %s: %s", status, error_type, a->http_status, a->error_type,
                 message_of(a));
    }
}

/* One request whose answer only its status and error type matter for. */
static void expect_call(struct fx *fx,
                        const char *method,
                        const char *target,
                        const char *body,
                        int status,
                        const char *error_type)
{
    struct answer a;
    ctl(fx, method, target, body, &a);
    expect_answer(&a, status, error_type);
    answer_cleanup(&a);
}

/* POST .../clock with body; the NowMillis answered (the call must succeed). */
static int64_t clock_call(struct fx *fx, const char *body)
{
    struct answer a;
    ctl(fx, "POST", "/_etch/control/v1/clock", body, &a);
    expect_answer(&a, 200, "");
    json_t *now = json_object_get(a.body, "NowMillis");
    assert_true(json_is_integer(now));
    assert_int_equal(json_object_size(a.body), 1);
    int64_t v = (int64_t)json_integer_value(now);
    answer_cleanup(&a);
    assert_int_equal(v, ref_service_now_ms(fx->svc));
    return v;
}

static void advance(struct fx *fx, int64_t ms)
{
    char body[64];
    snprintf(body, sizeof(body), "{'AdvanceMillis':%lld}", (long long)ms);
    (void)clock_call(fx, body);
}

/* The job as ReadJob answers it (new reference). */
static json_t *read_job(struct fx *fx, const char *id)
{
    char target[64];
    snprintf(target, sizeof(target), "/2012-09-25/jobs/%s", id);
    struct answer a;
    ctl(fx, "GET", target, NULL, &a);
    expect_answer(&a, 200, "");
    json_t *job = json_incref(json_object_get(a.body, "Job"));
    answer_cleanup(&a);
    assert_non_null(job);
    return job;
}

static const char *status_of(const json_t *job)
{
    return json_string_value(json_object_get(job, "Status"));
}

/* A Timing member, or -1 when the job has none. */
static int64_t timing_of(const json_t *job, const char *member)
{
    json_t *v = json_object_get(json_object_get(job, "Timing"), member);
    return v != NULL ? (int64_t)json_integer_value(v) : -1;
}

static void expect_job(struct fx *fx,
                       const char *id,
                       const char *status,
                       int64_t submit_ms,
                       int64_t start_ms,
                       int64_t finish_ms)
{
    json_t *job = read_job(fx, id);
    if (strcmp(status_of(job), status) != 0) {
        fail_msg("job %s: want %s, got %s", id, status, status_of(job));
    }
    assert_int_equal(timing_of(job, "SubmitTimeMillis"), submit_ms);
    assert_int_equal(timing_of(job, "StartTimeMillis"), start_ms);
    assert_int_equal(timing_of(job, "FinishTimeMillis"), finish_ms);
    json_decref(job);
}

/* CreateJob on pipeline; the new job's Id into id_out. */
static void create_job(struct fx *fx, const char *pipeline, char id_out[REF_ID_LEN + 1])
{
    char body[256];
    snprintf(body, sizeof(body),
             "{'PipelineId':'%s','Input':{'Key':'in.mp4'},'Output':{'Key':'out.mp4',"
             "'PresetId':'" PRESET_ID "'}}",
             pipeline);
    struct answer a;
    ctl(fx, "POST", "/2012-09-25/jobs", body, &a);
    expect_answer(&a, 201, "");
    const char *id = json_string_value(json_object_get(json_object_get(a.body, "Job"), "Id"));
    assert_non_null(id);
    assert_int_equal(strlen(id), REF_ID_LEN);
    memcpy(id_out, id, REF_ID_LEN + 1);
    answer_cleanup(&a);
}

/* A seed entry of a pipeline with the Id and status, in CreatePipeline's members. */
#define SEED_PIPELINE(id, status)                                                                  \
    "{'Id':'" id "','Status':'" status "','Name':'seeded','InputBucket':'in','OutputBucket':"      \
    "'out','Role':'" ROLE "'}"
/* A seed entry of a job, with extra members (start with a comma) after CreateJob's. */
#define SEED_JOB(id, pipeline, status, extra)                                                      \
    "{'Id':'" id "','PipelineId':'" pipeline "','Status':'" status "','Input':{'Key':'in.mp4'},"   \
    "'Output':{'Key':'out.mp4','PresetId':'" PRESET_ID "'}" extra "}"

static void seed_ok(struct fx *fx, const char *body)
{
    expect_call(fx, "POST", "/_etch/control/v1/seed", body, 200, "");
}

/* --- Off by default --------------------------------------------------------------------- */

static void test_service_control_off_by_default(void **state)
{
    (void)state;
    struct fx fx;
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    assert_false(cfg.has_test_control);
    open_control(&fx, false, 0);
    /* Every control path is an unknown operation, as any other unknown path. */
    expect_call(&fx, "GET", "/_etch/control/v1", NULL, 404, "UnknownOperationException");
    expect_call(&fx, "POST", "/_etch/control/v1/clock", "{'AdvanceMillis':1000}", 404,
                "UnknownOperationException");
    expect_call(&fx, "POST", "/_etch/control/v1/seed", "{'Pipelines':[]}", 404,
                "UnknownOperationException");
    expect_call(&fx, "POST", "/_etch/control/v1/jobs/2222222222222-abcdef/status",
                "{'Status':'Error'}", 404, "UnknownOperationException");
    /* And nothing moved the clock. */
    assert_int_equal(ref_service_now_ms(fx.svc), T0);
    fx.clock.now_ms += 1234;
    assert_int_equal(ref_service_now_ms(fx.svc), T0 + 1234);
    fx_close(&fx);
}

/* --- Discovery ---------------------------------------------------------------------------- */

static void test_service_control_discovery(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    struct answer a;
    ctl(&fx, "GET", "/_etch/control/v1", NULL, &a);
    expect_answer(&a, 200, "");
    json_t *want = json_pack("{s:i, s:[sss], s:I}", "Version", 1, "Features", "clock", "seed",
                             "set-status", "NowMillis", (json_int_t)T0);
    assert_true(json_equal(a.body, want));
    json_decref(want);
    answer_cleanup(&a);
    /* The endpoint's clock, real until moved. */
    fx.clock.now_ms += 60000;
    ctl(&fx, "GET", "/_etch/control/v1", NULL, &a);
    assert_int_equal(json_integer_value(json_object_get(a.body, "NowMillis")), T0 + 60000);
    answer_cleanup(&a);
    fx_close(&fx);
}

/* --- The clock ------------------------------------------------------------------------------ */

static void test_service_control_clock_forms(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    assert_int_equal(clock_call(&fx, "{'AdvanceMillis':1000}"), T0 + 1000);
    /* Virtual from now on: the env's clock moves, the service's stands still. */
    fx.clock.now_ms += 50000;
    assert_int_equal(ref_service_now_ms(fx.svc), T0 + 1000);
    assert_int_equal(clock_call(&fx, "{'AdvanceMillis':0}"), T0 + 1000);
    /* Nothing is scheduled: ToNextEvent changes nothing. */
    assert_int_equal(clock_call(&fx, "{'ToNextEvent':true}"), T0 + 1000);
    /* SetMillis, earlier than now too, and its bounds. */
    assert_int_equal(clock_call(&fx, "{'SetMillis':5000}"), 5000);
    assert_int_equal(clock_call(&fx, "{'SetMillis':0}"), 0);
    assert_int_equal(clock_call(&fx, "{'SetMillis':9999999999999}"), INT64_C(9999999999999));
    const char *const refused[] = {
        "{'SetMillis':10000000000000}",
        "{'SetMillis':-1}",
        "{'SetMillis':1.5}",
        "{'SetMillis':'5000'}",
        "{'AdvanceMillis':-1}",
        "{'AdvanceMillis':1}", /* past 9999999999999 from where the clock is */
        "{'AdvanceMillis':null}",
        "{'ToNextEvent':false}",
        "{'ToNextEvent':1}",
        "{'Real':false}",
        "{'Real':'true'}",
        "{}",
        "{'AdvanceMillis':1,'SetMillis':2}",
        "{'Real':true,'Extra':1}",
        "{'advanceMillis':1}",
        "[1]",
        "not json",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        struct answer a;
        ctl(&fx, "POST", "/_etch/control/v1/clock", refused[i], &a);
        if (a.http_status != 400 || strcmp(a.error_type, "ValidationException") != 0) {
            fail_msg("%s: want 400 ValidationException, got %d %s", refused[i], a.http_status,
                     a.error_type);
        }
        answer_cleanup(&a);
        assert_int_equal(ref_service_now_ms(fx.svc), INT64_C(9999999999999));
    }
    /* Real: the env's clock again, which keeps moving. */
    assert_int_equal(clock_call(&fx, "{'Real':true}"), T0 + 50000);
    fx.clock.now_ms += 10;
    assert_int_equal(ref_service_now_ms(fx.svc), T0 + 50010);
    /* ToNextEvent from the real clock makes the clock virtual where it is. */
    assert_int_equal(clock_call(&fx, "{'ToNextEvent':true}"), T0 + 50010);
    fx.clock.now_ms += 10;
    assert_int_equal(ref_service_now_ms(fx.svc), T0 + 50010);
    fx_close(&fx);
}

static void test_service_control_clock_moves_the_scheduler(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    seed_ok(&fx, "{'Pipelines':[" SEED_PIPELINE(PIPE_A, "Active") "]}");
    /* Ids and SubmitTimeMillis come from the virtual clock. */
    assert_int_equal(clock_call(&fx, "{'SetMillis':1800000000000}"), INT64_C(1800000000000));
    const int64_t t = INT64_C(1800000000000);
    char j1[REF_ID_LEN + 1];
    create_job(&fx, PIPE_A, j1);
    assert_memory_equal(j1, "1800000000000-", 14);
    expect_job(&fx, j1, "Submitted", t, -1, -1);

    /* One millisecond short of the start, then the start exactly. */
    advance(&fx, DELAY_MS - 1);
    expect_job(&fx, j1, "Submitted", t, -1, -1);
    advance(&fx, 1);
    expect_job(&fx, j1, "Progressing", t, t + DELAY_MS, -1);

    /* Two more jobs, created 1 s and 2 s later. */
    char j2[REF_ID_LEN + 1];
    char j3[REF_ID_LEN + 1];
    advance(&fx, 1000);
    create_job(&fx, PIPE_A, j2);
    advance(&fx, 1000);
    create_job(&fx, PIPE_A, j3);
    assert_int_equal(ref_service_now_ms(fx.svc), t + DELAY_MS + 2000);

    /* ToNextEvent lands on the next start exactly: j2's, DELAY_MS after its submission. */
    int64_t next = clock_call(&fx, "{'ToNextEvent':true}");
    assert_int_equal(next, t + DELAY_MS + 1000 + DELAY_MS);
    expect_job(&fx, j2, "Progressing", t + DELAY_MS + 1000, next, -1);
    expect_job(&fx, j3, "Submitted", t + DELAY_MS + 2000, -1, -1);

    /* One big move over every remaining event (j3's start, then three finishes): each is
     * stamped at its own scheduled time, not at the time the clock moved to. */
    advance(&fx, 3600 * 1000);
    expect_job(&fx, j1, "Complete", t, t + DELAY_MS, t + DELAY_MS + RUN_MS);
    expect_job(&fx, j2, "Complete", t + DELAY_MS + 1000, t + 2 * DELAY_MS + 1000,
               t + 2 * DELAY_MS + 1000 + RUN_MS);
    expect_job(&fx, j3, "Complete", t + DELAY_MS + 2000, t + 2 * DELAY_MS + 2000,
               t + 2 * DELAY_MS + 2000 + RUN_MS);
    /* Nothing left: ToNextEvent stays. */
    int64_t now = ref_service_now_ms(fx.svc);
    assert_int_equal(clock_call(&fx, "{'ToNextEvent':true}"), now);

    /* The in-process hooks read the same clock: the env's moving changes nothing. */
    char j4[REF_ID_LEN + 1];
    create_job(&fx, PIPE_A, j4);
    fx.clock.now_ms = now + 3600 * 1000;
    ref_service_tick(fx.svc);
    assert_string_equal(ref_service_job_status(fx.svc, j4), "Submitted");
    int64_t when = 0;
    assert_true(ref_service_next_event_ms(fx.svc, &when));
    assert_int_equal(when, now + DELAY_MS);
    fx_close(&fx);
}

static void test_service_control_signature_window_follows_the_clock(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    /* An hour ahead of the env's clock: twelve times the skew window. */
    int64_t virtual_ms = clock_call(&fx, "{'AdvanceMillis':3600000}");
    struct answer a;
    /* Signed at the env's (real) time: outside the window around the virtual clock. */
    call_as(&fx, REF_TEST_CRED_MAIN, T0 / 1000, "GET", "/2012-09-25/pipelines", NULL, &a);
    expect_answer(&a, 403, "InvalidSignatureException");
    assert_non_null(strstr(message_of(&a), "Signature expired"));
    answer_cleanup(&a);
    /* Signed at the virtual time, and within the skew of it: accepted. */
    call_as(&fx, REF_TEST_CRED_MAIN, virtual_ms / 1000, "GET", "/2012-09-25/pipelines", NULL, &a);
    expect_answer(&a, 200, "");
    answer_cleanup(&a);
    call_as(&fx, REF_TEST_CRED_MAIN, virtual_ms / 1000 - (SKEW_S - 1), "GET",
            "/2012-09-25/pipelines", NULL, &a);
    expect_answer(&a, 200, "");
    answer_cleanup(&a);
    /* Back in time as far: now the virtual time is the future. */
    (void)clock_call(&fx, "{'SetMillis':1795866300000}"); /* T0 - 1 h */
    call_as(&fx, REF_TEST_CRED_MAIN, T0 / 1000, "GET", "/2012-09-25/pipelines", NULL, &a);
    expect_answer(&a, 403, "InvalidSignatureException");
    assert_non_null(strstr(message_of(&a), "Signature not yet current"));
    answer_cleanup(&a);
    /* Real: the env's time is accepted again (signed at the virtual time to get there). */
    (void)clock_call(&fx, "{'Real':true}");
    call_as(&fx, REF_TEST_CRED_MAIN, T0 / 1000, "GET", "/2012-09-25/pipelines", NULL, &a);
    expect_answer(&a, 200, "");
    answer_cleanup(&a);
    fx_close(&fx);
}

/* The answer's Date follows the clock too: it is the time the service answered at. */
static void test_service_control_answers_are_dated_by_the_clock(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    (void)clock_call(&fx, "{'SetMillis':1000000000000}");
    struct ref_buf raw;
    ref_buf_init(&raw, 4096);
    char amz_date[17];
    ref_sigv4_format_amz_date(1000000000, amz_date);
    /* Unsigned: the error answer is dated all the same. */
    assert_int_equal(ref_buf_appendf(&raw,
                                     "GET /_etch/control/v1 HTTP/1.1\r\nHost: " HOST
                                     "\r\nX-Amz-Date: %s\r\n\r\n",
                                     amz_date),
                     REF_OK);
    struct ref_response resp;
    ref_response_init(&resp);
    assert_int_equal(ref_service_handle_raw(fx.svc, ref_buf_slice(&raw), &resp), REF_OK);
    assert_int_equal(resp.date_ms, INT64_C(1000000000000));
    struct ref_buf out;
    ref_buf_init(&out, 65536);
    assert_int_equal(ref_response_write_http(&resp, &out), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&out), REF_OK);
    assert_non_null(strstr((const char *)out.data, "Date: Sun, 09 Sep 2001 01:46:40 GMT\r\n"));
    ref_buf_cleanup(&out);
    ref_response_cleanup(&resp);
    ref_buf_cleanup(&raw);
    fx_close(&fx);
}

/* --- Seed -------------------------------------------------------------------------------- */

static void test_service_control_seed_every_status(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    struct answer a;
    /* One entry a line. */
    /* clang-format off */
    ctl(&fx, "POST", "/_etch/control/v1/seed",
        "{'Pipelines':[" SEED_PIPELINE(PIPE_A, "Paused") "," SEED_PIPELINE(PIPE_B, "Active") "],"
        "'Jobs':["
        SEED_JOB("3000000000000-submit", PIPE_A, "Submitted", ",'Timing':{'SubmitTimeMillis':1000}") ","
        SEED_JOB("3000000000000-progrs", PIPE_A, "Progressing",
                 ",'Timing':{'SubmitTimeMillis':1000,'StartTimeMillis':2000}") ","
        SEED_JOB("3000000000000-complt", PIPE_A, "Complete",
                 ",'Timing':{'SubmitTimeMillis':1000,'StartTimeMillis':2000,"
                 "'FinishTimeMillis':3000}") ","
        SEED_JOB("3000000000000-cancld", PIPE_A, "Canceled", ",'Timing':{'SubmitTimeMillis':1000}") ","
        SEED_JOB("3000000000000-errorj", PIPE_A, "Error",
                 ",'Timing':{'SubmitTimeMillis':1000,'StartTimeMillis':1500,"
                 "'FinishTimeMillis':1500}") ","
        /* Timing left out: now, for every time the status implies. */
        SEED_JOB("3000000000000-dfcmpl", PIPE_B, "Complete", "") ","
        SEED_JOB("3000000000000-dfcncl", PIPE_B, "Canceled", "") ","
        SEED_JOB("3000000000000-dfprog", PIPE_A, "Progressing",
                 ",'Timing':{'SubmitTimeMillis':1795869800000}") "]}",
        &a);
    /* clang-format on */
    expect_answer(&a, 200, "");
    json_t *want = json_pack("{s:[ss], s:[ssssssss]}", "Pipelines", PIPE_A, PIPE_B, "Jobs",
                             "3000000000000-submit", "3000000000000-progrs", "3000000000000-complt",
                             "3000000000000-cancld", "3000000000000-errorj", "3000000000000-dfcmpl",
                             "3000000000000-dfcncl", "3000000000000-dfprog");
    assert_true(json_equal(a.body, want));
    json_decref(want);
    answer_cleanup(&a);

    expect_job(&fx, "3000000000000-submit", "Submitted", 1000, -1, -1);
    /* Started long ago: its finish, at its start plus the run time, is past, and applied at
     * that time by the next request. */
    expect_job(&fx, "3000000000000-progrs", "Complete", 1000, 2000, 2000 + RUN_MS);
    expect_job(&fx, "3000000000000-complt", "Complete", 1000, 2000, 3000);
    expect_job(&fx, "3000000000000-cancld", "Canceled", 1000, -1, -1);
    expect_job(&fx, "3000000000000-errorj", "Error", 1000, 1500, 1500);
    expect_job(&fx, "3000000000000-dfcmpl", "Complete", T0, T0, T0);
    expect_job(&fx, "3000000000000-dfcncl", "Canceled", T0, -1, -1);
    expect_job(&fx, "3000000000000-dfprog", "Progressing", T0 - 100000, T0, -1);
    /* Seeded as given: the pipelines in their status, in CreatePipeline's stored form. */
    ctl(&fx, "GET", "/2012-09-25/pipelines/" PIPE_A, NULL, &a);
    expect_answer(&a, 200, "");
    json_t *p = json_object_get(a.body, "Pipeline");
    assert_string_equal(json_string_value(json_object_get(p, "Status")), "Paused");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "ContentConfig"), "Bucket")), "out");
    answer_cleanup(&a);
    /* A job in the form CreateJob stores: Inputs and Outputs filled in. */
    json_t *job = read_job(&fx, "3000000000000-submit");
    assert_int_equal(json_array_size(json_object_get(job, "Inputs")), 1);
    assert_int_equal(json_array_size(json_object_get(job, "Outputs")), 1);
    assert_string_equal(json_string_value(json_object_get(job, "PipelineId")), PIPE_A);
    json_decref(job);
    /* The seeded Submitted job on the Active pipeline runs like any other. */
    seed_ok(&fx, "{'Jobs':[" SEED_JOB("3000000000000-runner", PIPE_B, "Submitted", "") "]}");
    advance(&fx, DELAY_MS + RUN_MS);
    expect_job(&fx, "3000000000000-runner", "Complete", T0, T0 + DELAY_MS, T0 + DELAY_MS + RUN_MS);
    /* An empty seed is a seed of nothing. */
    ctl(&fx, "POST", "/_etch/control/v1/seed", "{}", &a);
    expect_answer(&a, 200, "");
    want = json_pack("{s:[], s:[]}", "Pipelines", "Jobs");
    assert_true(json_equal(a.body, want));
    json_decref(want);
    answer_cleanup(&a);
    fx_close(&fx);
}

static void test_service_control_seed_ignores_limits(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 1);
    seed_ok(&fx, "{'Pipelines':[" SEED_PIPELINE(PIPE_A, "Active") "," SEED_PIPELINE(PIPE_B,
                                                                                    "Active") "]}");
    /* What was seeded counts afterwards. */
    expect_call(&fx, "POST", "/2012-09-25/pipelines",
                "{'Name':'n','InputBucket':'in','OutputBucket':'out','Role':'" ROLE "'}", 429,
                "LimitExceededException");
    fx_close(&fx);
}

/* The store holds one pipeline and no job: what a refused seed must leave. */
static void expect_one_pipeline_no_jobs(struct fx *fx)
{
    struct answer a;
    ctl(fx, "GET", "/2012-09-25/pipelines", NULL, &a);
    expect_answer(&a, 200, "");
    assert_int_equal(json_array_size(json_object_get(a.body, "Pipelines")), 1);
    answer_cleanup(&a);
    ctl(fx, "GET", "/2012-09-25/jobsByPipeline/" PIPE_A, NULL, &a);
    expect_answer(&a, 200, "");
    assert_int_equal(json_array_size(json_object_get(a.body, "Jobs")), 0);
    answer_cleanup(&a);
    ctl(fx, "GET", "/2012-09-25/jobsByStatus/Submitted", NULL, &a);
    expect_answer(&a, 200, "");
    assert_int_equal(json_array_size(json_object_get(a.body, "Jobs")), 0);
    answer_cleanup(&a);
}

static void test_service_control_seed_is_all_or_nothing(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    seed_ok(&fx, "{'Pipelines':[" SEED_PIPELINE(PIPE_A, "Active") "]}");
    /* Each of these fails on its last entry; none of the entries before it stays. */
    const struct {
        const char *body;
        int status;
        const char *error_type;
    } cases[] = {
        {"{'Pipelines':[" SEED_PIPELINE(PIPE_B, "Active") "],'Jobs':[" SEED_JOB(
             "3000000000000-first1", PIPE_B, "Submitted", "") "," SEED_JOB(PIPE_A, PIPE_B,
                                                                           "Submitted", "") "]}",
         409, "ResourceInUseException"},
        {"{'Pipelines':[" SEED_PIPELINE(PIPE_B, "Active") "],'Jobs':[" SEED_JOB(
             "3000000000000-first1", PIPE_B, "Submitted",
             "") "," SEED_JOB("3000000000000-nopipe", "1111111111111-absent", "Submitted", "") "]}",
         404, "ResourceNotFoundException"},
        {"{'Pipelines':[" SEED_PIPELINE(PIPE_B, "Active") "],'Jobs':[" SEED_JOB(
             "3000000000000-first1", PIPE_B, "Submitted",
             "") "," SEED_JOB("3000000000000-badsts", PIPE_B, "Finished", "") "]}",
         400, "ValidationException"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_call(&fx, "POST", "/_etch/control/v1/seed", cases[i].body, cases[i].status,
                    cases[i].error_type);
        expect_call(&fx, "GET", "/2012-09-25/pipelines/" PIPE_B, NULL, 404,
                    "ResourceNotFoundException");
        expect_call(&fx, "GET", "/2012-09-25/jobs/3000000000000-first1", NULL, 404,
                    "ResourceNotFoundException");
    }
    expect_one_pipeline_no_jobs(&fx);
    /* The same seed without its bad entry goes in whole. */
    seed_ok(&fx, "{'Pipelines':[" SEED_PIPELINE(PIPE_B, "Active") "],'Jobs':[" SEED_JOB(
                     "3000000000000-first1", PIPE_B, "Submitted", "") "]}");
    expect_job(&fx, "3000000000000-first1", "Submitted", T0, -1, -1);
    fx_close(&fx);
}

static void test_service_control_seed_refusals(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    seed_ok(&fx, "{'Pipelines':[" SEED_PIPELINE(PIPE_A, "Active") "],'Jobs':[" SEED_JOB(
                     "3000000000000-exists", PIPE_A, "Complete", "") "]}");
    const struct {
        const char *body;
        int status;
    } cases[] = {
        /* Ids in use: a pipeline's, a job's, twice in one seed, a job's equal to a pipeline's. */
        {"{'Pipelines':[" SEED_PIPELINE(PIPE_A, "Active") "]}", 409},
        {"{'Pipelines':[" SEED_PIPELINE("3000000000000-exists", "Active") "]}", 409},
        {"{'Jobs':[" SEED_JOB("3000000000000-exists", PIPE_A, "Submitted", "") "]}", 409},
        {"{'Jobs':[" SEED_JOB(PIPE_A, PIPE_A, "Submitted", "") "]}", 409},
        {"{'Pipelines':[" SEED_PIPELINE(PIPE_B, "Active") "," SEED_PIPELINE(PIPE_B, "Paused") "]}",
         409},
        {"{'Pipelines':[" SEED_PIPELINE(PIPE_B, "Active") "],'Jobs':[" SEED_JOB(
             PIPE_B, PIPE_B, "Submitted", "") "]}",
         409},
        {"{'Jobs':[" SEED_JOB("3000000000000-twice1", PIPE_A, "Submitted", "") "," SEED_JOB(
             "3000000000000-twice1", PIPE_A, "Submitted", "") "]}",
         409},
        /* A pipeline that does not exist. */
        {"{'Jobs':[" SEED_JOB("3000000000000-nopipe", "1111111111111-absent", "Submitted", "") "]}",
         404},
        /* Shapes. */
        {"{'Pipelines':[" SEED_PIPELINE("1-short", "Active") "]}", 400},
        {"{'Pipelines':[" SEED_PIPELINE(PIPE_B, "Running") "]}", 400},
        {"{'Pipelines':[{'Id':'" PIPE_B "','Name':'n','InputBucket':'in','OutputBucket':'out',"
         "'Role':'" ROLE "'}]}",
         400},
        {"{'Pipelines':[{'Id':'" PIPE_B "','Status':'Active','Name':'n','InputBucket':'in',"
         "'Role':'" ROLE "'}]}",
         400},
        {"{'Pipelines':[{'Id':'" PIPE_B "','Status':'Active','Name':'n','InputBucket':'in',"
         "'OutputBucket':'out','Role':'not-a-role'}]}",
         400},
        {"{'Pipelines':[" SEED_PIPELINE(PIPE_B, "Active") ",'x']}", 400},
        {"{'Pipelines':{}}", 400},
        {"{'Jobs':'none'}", 400},
        {"{'Pipelines':[],'Other':[]}", 400},
        {"{'Jobs':[{'Id':'3000000000000-noinpt','PipelineId':'" PIPE_A "','Status':'Submitted',"
         "'Output':{'Key':'o','PresetId':'" PRESET_ID "'}}]}",
         400},
        {"{'Jobs':[" SEED_JOB("3000000000000-badpid", "not-an-id", "Submitted", "") "]}", 400},
        {"{'Jobs':[" SEED_JOB("3000000000000-nostat", PIPE_A, "", "") "]}", 400},
        {"{'Jobs':[" SEED_JOB("3000000000000-tmtype", PIPE_A, "Submitted", ",'Timing':5") "]}",
         400},
        {"{'Jobs':[" SEED_JOB("3000000000000-tmnotm", PIPE_A, "Submitted",
                              ",'Timing':{'StartTimeMillis':5}") "]}",
         400},
        {"{'Jobs':[" SEED_JOB("3000000000000-tmcncl", PIPE_A, "Canceled",
                              ",'Timing':{'FinishTimeMillis':5}") "]}",
         400},
        {"{'Jobs':[" SEED_JOB("3000000000000-tmordr", PIPE_A, "Complete",
                              ",'Timing':{'SubmitTimeMillis':5,'StartTimeMillis':4,"
                              "'FinishTimeMillis':6}") "]}",
         400},
        {"{'Jobs':[" SEED_JOB("3000000000000-tmfins", PIPE_A, "Error",
                              ",'Timing':{'SubmitTimeMillis':5,'StartTimeMillis':6,"
                              "'FinishTimeMillis':5}") "]}",
         400},
        {"{'Jobs':[" SEED_JOB("3000000000000-tmneg1", PIPE_A, "Submitted",
                              ",'Timing':{'SubmitTimeMillis':-1}") "]}",
         400},
        {"{'Jobs':[" SEED_JOB("3000000000000-tmbig1", PIPE_A, "Submitted",
                              ",'Timing':{'SubmitTimeMillis':10000000000000}") "]}",
         400},
        {"{'Jobs':[" SEED_JOB("3000000000000-tmstr1", PIPE_A, "Submitted",
                              ",'Timing':{'SubmitTimeMillis':'1'}") "]}",
         400},
        /* The 2b rules of CreateJob: both Input and Inputs. */
        {"{'Jobs':[{'Id':'3000000000000-twoinp','PipelineId':'" PIPE_A "','Status':'Submitted',"
         "'Input':{'Key':'i'},'Inputs':[{'Key':'i'}],'Output':{'Key':'o','PresetId':'" PRESET_ID
         "'}}]}",
         400},
    };
    static const char *const types[] = {[400] = "ValidationException",
                                        [404] = "ResourceNotFoundException",
                                        [409] = "ResourceInUseException"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct answer a;
        ctl(&fx, "POST", "/_etch/control/v1/seed", cases[i].body, &a);
        if (a.http_status != cases[i].status || strcmp(a.error_type, types[cases[i].status]) != 0) {
            fail_msg("case %zu: want %d %s, got %d %s: %s", i, cases[i].status,
                     types[cases[i].status], a.http_status, a.error_type, message_of(&a));
        }
        assert_true(strlen(message_of(&a)) > 0);
        answer_cleanup(&a);
    }
    /* The messages name the entry, and the 404 is the pipeline's own (contract section 4). */
    struct answer a;
    ctl(&fx, "POST", "/_etch/control/v1/seed",
        "{'Jobs':[" SEED_JOB("3000000000000-okjob1", PIPE_A, "Submitted",
                             "") "," SEED_JOB("3000000000000-exists", PIPE_A, "Submitted", "") "]}",
        &a);
    assert_string_equal(message_of(&a), "Jobs[1]: the Id 3000000000000-exists is already in use.");
    answer_cleanup(&a);
    ctl(&fx, "POST", "/_etch/control/v1/seed",
        "{'Jobs':[" SEED_JOB("3000000000000-nopipe", "1111111111111-absent", "Submitted", "") "]}",
        &a);
    assert_string_equal(message_of(&a), "The specified pipeline was not found: "
                                        "account=111122223333, pipelineId=1111111111111-absent.");
    answer_cleanup(&a);
    ctl(&fx, "POST", "/_etch/control/v1/seed",
        "{'Pipelines':[{'Id':'" PIPE_B "','Status':'Active','Name':'n','InputBucket':'in',"
        "'Role':'" ROLE "'}]}",
        &a);
    assert_string_equal(message_of(&a), "Pipelines[0]: [OutputBucket and ContentConfig:Bucket "
                                        "are not allowed to both be null.]");
    answer_cleanup(&a);
    /* Nothing of all that was stored. */
    expect_call(&fx, "GET", "/2012-09-25/pipelines/" PIPE_B, NULL, 404,
                "ResourceNotFoundException");
    expect_call(&fx, "GET", "/2012-09-25/jobs/3000000000000-okjob1", NULL, 404,
                "ResourceNotFoundException");
    fx_close(&fx);
}

/* --- Set-status ----------------------------------------------------------------------------- */

static void set_status(struct fx *fx, const char *id, const char *status, struct answer *a)
{
    char target[96];
    char body[64];
    snprintf(target, sizeof(target), "/_etch/control/v1/jobs/%s/status", id);
    snprintf(body, sizeof(body), "{'Status':'%s'}", status);
    ctl(fx, "POST", target, body, a);
}

static void expect_set_status(
    struct fx *fx, const char *id, const char *status, int want, const char *error_type)
{
    struct answer a;
    set_status(fx, id, status, &a);
    if (a.http_status != want || strcmp(a.error_type, error_type) != 0) {
        fail_msg("%s to %s: want %d %s, got %d %s: %s", id, status, want, error_type, a.http_status,
                 a.error_type, message_of(&a));
    }
    if (want == 200) {
        /* The job as ReadJob answers it, in its new status. */
        json_t *job = read_job(fx, id);
        assert_true(json_equal(json_object_get(a.body, "Job"), job));
        assert_int_equal(json_object_size(a.body), 1);
        assert_string_equal(status_of(job), status);
        json_decref(job);
    }
    answer_cleanup(&a);
}

static void test_service_control_set_status(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    /* clang-format off */
    seed_ok(&fx, "{'Pipelines':[" SEED_PIPELINE(PIPE_A, "Paused") "],'Jobs':["
            SEED_JOB("3000000000000-jobaaa", PIPE_A, "Submitted", "") ","
            SEED_JOB("3000000000000-jobbbb", PIPE_A, "Submitted", "") ","
            SEED_JOB("3000000000000-cancld", PIPE_A, "Canceled", "") "]}");
    /* clang-format on */
    (void)clock_call(&fx, "{'AdvanceMillis':100}");
    /* The allowed transitions, each at the clock's time. */
    expect_set_status(&fx, "3000000000000-jobaaa", "Progressing", 200, "");
    expect_job(&fx, "3000000000000-jobaaa", "Progressing", T0, T0 + 100, -1);
    advance(&fx, 50);
    expect_set_status(&fx, "3000000000000-jobaaa", "Complete", 200, "");
    expect_job(&fx, "3000000000000-jobaaa", "Complete", T0, T0 + 100, T0 + 150);
    expect_set_status(&fx, "3000000000000-jobbbb", "Progressing", 200, "");
    expect_set_status(&fx, "3000000000000-jobbbb", "Error", 200, "");
    expect_job(&fx, "3000000000000-jobbbb", "Error", T0, T0 + 150, T0 + 150);

    /* Everything else the lifecycle does not allow. */
    expect_set_status(&fx, "3000000000000-jobaaa", "Progressing", 409, "ResourceInUseException");
    expect_set_status(&fx, "3000000000000-jobaaa", "Error", 409, "ResourceInUseException");
    expect_set_status(&fx, "3000000000000-jobaaa", "Submitted", 409, "ResourceInUseException");
    expect_set_status(&fx, "3000000000000-jobaaa", "Canceled", 409, "ResourceInUseException");
    expect_set_status(&fx, "3000000000000-cancld", "Progressing", 409, "ResourceInUseException");
    seed_ok(&fx, "{'Jobs':[" SEED_JOB("3000000000000-jobccc", PIPE_A, "Submitted", "") "]}");
    expect_set_status(&fx, "3000000000000-jobccc", "Complete", 409, "ResourceInUseException");
    expect_set_status(&fx, "3000000000000-jobccc", "Error", 409, "ResourceInUseException");
    expect_set_status(&fx, "3000000000000-jobccc", "Canceled", 409, "ResourceInUseException");
    expect_set_status(&fx, "3000000000000-jobccc", "Submitted", 409, "ResourceInUseException");
    expect_job(&fx, "3000000000000-jobccc", "Submitted", T0 + 150, -1, -1);
    /* Not a status, not a job, not an Id. */
    expect_set_status(&fx, "3000000000000-jobccc", "Done", 400, "ValidationException");
    expect_set_status(&fx, "3000000000000-jobccc", "error", 400, "ValidationException");
    expect_set_status(&fx, "3000000000000-nojobb", "Progressing", 404, "ResourceNotFoundException");
    expect_set_status(&fx, "not-an-id", "Progressing", 400, "ValidationException");
    const char *const bodies[] = {"{}", "{'Status':1}", "{'Status':'Error','More':1}", "[]", "x"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        expect_call(&fx, "POST", "/_etch/control/v1/jobs/3000000000000-jobccc/status", bodies[i],
                    400, "ValidationException");
    }
    /* The label is percent-decoded once, as the operations' are. */
    expect_call(&fx, "POST", "/_etch/control/v1/jobs/3000000000000%2Djobccc/status",
                "{'Status':'Progressing'}", 200, "");

    /* A job started by set-status on a paused pipeline finishes on schedule. */
    int64_t started = ref_service_now_ms(fx.svc);
    advance(&fx, RUN_MS);
    expect_job(&fx, "3000000000000-jobccc", "Complete", T0 + 150, started, started + RUN_MS);
    fx_close(&fx);
}

/* --- Who may call control, and paths it does not have --------------------------------------- */

static void test_service_control_main_principal_only(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    const struct {
        const char *method;
        const char *target;
        const char *body;
    } calls[] = {
        {"GET", "/_etch/control/v1", NULL},
        {"POST", "/_etch/control/v1/clock", "{'AdvanceMillis':1000}"},
        {"POST", "/_etch/control/v1/seed", "{'Pipelines':[" SEED_PIPELINE(PIPE_A, "Active") "]}"},
        {"POST", "/_etch/control/v1/jobs/3000000000000-jobaaa/status", "{'Status':'Error'}"},
        {"GET", "/_etch/control/v1/unknown", NULL},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        struct answer a;
        send_as(&fx, REF_TEST_CRED_RESTRICTED, calls[i].method, calls[i].target, calls[i].body, &a);
        expect_answer(&a, 403, "AccessDeniedException");
        answer_cleanup(&a);
        send_as(&fx, REF_TEST_CRED_TEMPORARY, calls[i].method, calls[i].target, calls[i].body, &a);
        expect_answer(&a, 403, "AccessDeniedException");
        answer_cleanup(&a);
        send_as(&fx, NULL, calls[i].method, calls[i].target, calls[i].body, &a);
        expect_answer(&a, 403, "MissingAuthenticationTokenException");
        answer_cleanup(&a);
    }
    /* None of them did anything. */
    assert_int_equal(ref_service_now_ms(fx.svc), T0);
    fx.clock.now_ms += 5;
    assert_int_equal(ref_service_now_ms(fx.svc), T0 + 5);
    expect_call(&fx, "GET", "/2012-09-25/pipelines/" PIPE_A, NULL, 404,
                "ResourceNotFoundException");
    /* The temporary principal still calls the operations. */
    struct answer a;
    send_as(&fx, REF_TEST_CRED_TEMPORARY, "GET", "/2012-09-25/pipelines", NULL, &a);
    expect_answer(&a, 200, "");
    answer_cleanup(&a);
    fx_close(&fx);
}

static void test_service_control_unknown_paths(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    const struct {
        const char *method;
        const char *target;
    } unknown[] = {
        {"POST", "/_etch/control/v1"},
        {"DELETE", "/_etch/control/v1"},
        {"GET", "/_etch/control/v1/clock"},
        {"PUT", "/_etch/control/v1/seed"},
        {"GET", "/_etch/control/v1/jobs/3000000000000-jobaaa/status"},
        {"POST", "/_etch/control/v1/jobs/3000000000000-jobaaa"},
        {"POST", "/_etch/control/v1/jobs/3000000000000-jobaaa/status/more"},
        {"POST", "/_etch/control/v1/jobs//status"},
        {"POST", "/_etch/control/v1/reset"},
        {"GET", "/_etch/control/v1/"},
        {"GET", "/_etch/control/v2"},
        {"GET", "/_etch/control"},
    };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct answer a;
        ctl(&fx, unknown[i].method, unknown[i].target, "{}", &a);
        if (a.http_status != 404 || strcmp(a.error_type, "UnknownOperationException") != 0) {
            fail_msg("%s %s: want 404 UnknownOperationException, got %d %s", unknown[i].method,
                     unknown[i].target, a.http_status, a.error_type);
        }
        assert_true(strlen(message_of(&a)) > 0);
        answer_cleanup(&a);
    }
    /* Dot segments are removed before routing, as the signature covers them. */
    expect_call(&fx, "GET", "/_etch/control/v1/clock/..", NULL, 200, "");
    fx_close(&fx);
}

/* --- Moves from many threads ---------------------------------------------------------------- */

#define MOVERS          4
#define MOVES_PER_MOVER 250

struct mover {
    struct ref_service *svc;
    struct ref_slice request; /* one signed AdvanceMillis of 1 ms */
    int failures;
};

static void *mover_run(void *arg)
{
    struct mover *m = arg;
    for (int i = 0; i < MOVES_PER_MOVER; i++) {
        struct ref_response resp;
        ref_response_init(&resp);
        if (ref_service_handle_raw(m->svc, m->request, &resp) != REF_OK ||
            resp.http_status != 200) {
            m->failures++;
        }
        ref_response_cleanup(&resp);
    }
    return NULL;
}

/* Moves at once from several threads compose: each AdvanceMillis adds to the time the one
 * before it left (the clock is one compare-and-swap), none is lost. */
static void test_service_control_concurrent_moves_compose(void **state)
{
    (void)state;
    /* cmocka's allocator is not for threads: the C library's for this test. */
    (void)teardown_hooks(NULL);
    struct fx fx;
    open_control(&fx, true, 0);
    (void)clock_call(&fx, "{'AdvanceMillis':0}");
    char *body = q("{'AdvanceMillis':1}");
    char amz_date[17];
    ref_sigv4_format_amz_date(T0 / 1000, amz_date);
    char length[24];
    snprintf(length, sizeof(length), "%zu", strlen(body));
    struct ref_header h[4] = {
        {REF_SLICE_LIT("Host"), REF_SLICE_LIT(HOST)},
        {REF_SLICE_LIT("X-Amz-Date"), ref_slice_make(amz_date, 16)},
        {REF_SLICE_LIT("Content-Type"), REF_SLICE_LIT("application/json")},
        {REF_SLICE_LIT("Content-Length"), ref_slice_from_cstr(length)},
    };
    struct ref_sigv4_request sreq = {.method = REF_SLICE_LIT("POST"),
                                     .path = REF_SLICE_LIT("/_etch/control/v1/clock"),
                                     .headers = h,
                                     .num_headers = 4,
                                     .body = ref_slice_from_cstr(body)};
    struct ref_sigv4_sign_params p = {
        .access_key_id = ref_slice_from_cstr(REF_TEST_CRED_MAIN->access_key_id),
        .secret_access_key = ref_slice_from_cstr(REF_TEST_CRED_MAIN->secret_access_key),
        .region = REF_SLICE_LIT(REF_TEST_REGION),
        .service = REF_SLICE_LIT("elastictranscoder"),
        .amz_date = ref_slice_make(amz_date, 16)};
    struct ref_buf auth;
    ref_buf_init(&auth, 4096);
    assert_int_equal(ref_sigv4_sign(&p, &sreq, &auth, NULL), REF_OK);
    struct ref_buf raw;
    ref_buf_init(&raw, 4096);
    assert_int_equal(ref_buf_appendf(&raw,
                                     "POST /_etch/control/v1/clock HTTP/1.1\r\nHost: " HOST
                                     "\r\nX-Amz-Date: %s\r\nContent-Type: application/json\r\n"
                                     "Content-Length: %s\r\nAuthorization: " REF_SLICE_FMT
                                     "\r\n\r\n%s",
                                     amz_date, length, REF_SLICE_ARG(ref_buf_slice(&auth)), body),
                     REF_OK);
    struct mover movers[MOVERS];
    pthread_t threads[MOVERS];
    for (int i = 0; i < MOVERS; i++) {
        movers[i] = (struct mover){.svc = fx.svc, .request = ref_buf_slice(&raw)};
        assert_int_equal(pthread_create(&threads[i], NULL, mover_run, &movers[i]), 0);
    }
    for (int i = 0; i < MOVERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(movers[i].failures, 0);
    }
    assert_int_equal(ref_service_now_ms(fx.svc), T0 + MOVERS * MOVES_PER_MOVER);
    ref_buf_cleanup(&raw);
    ref_buf_cleanup(&auth);
    free(body);
    fx_close(&fx);
    (void)setup_hooks(NULL);
}

/* --- Allocation failures ------------------------------------------------------------------- */

/* Whether the store holds pipeline PIPE_B and both jobs of the seed below. */
static size_t seeded_entries(struct fx *fx)
{
    static const char *const targets[] = {("/2012-09-25/pipelines/" PIPE_B),
                                          "/2012-09-25/jobs/3000000000000-allocb",
                                          "/2012-09-25/jobs/3000000000000-alloca"};
    size_t found = 0;
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        struct answer a;
        ctl(fx, "GET", targets[i], NULL, &a);
        found += a.http_status == 200 ? 1 : 0;
        answer_cleanup(&a);
    }
    return found;
}

/* A seed whose every allocation fails in turn: the answer is the seed's or a 500, and the
 * store holds all of the seed or none of it, and nothing leaks. */
static void test_service_control_seed_allocation_failures(void **state)
{
    (void)state;
    char *body = q("{'Pipelines':[" SEED_PIPELINE(PIPE_B, "Active") "],'Jobs':[" SEED_JOB(
        "3000000000000-allocb", PIPE_B, "Complete", "") "," SEED_JOB("3000000000000-alloca", PIPE_A,
                                                                     "Progressing", "") "]}");
    for (int fail_at = 0;; fail_at++) {
        struct fx fx;
        open_control(&fx, true, 0);
        seed_ok(&fx, "{'Pipelines':[" SEED_PIPELINE(PIPE_A, "Active") "]}");
        /* The request, signed, built before allocations start failing. */
        char amz_date[17];
        ref_sigv4_format_amz_date(T0 / 1000, amz_date);
        char length[24];
        snprintf(length, sizeof(length), "%zu", strlen(body));
        struct ref_header h[5] = {
            {REF_SLICE_LIT("Host"), REF_SLICE_LIT(HOST)},
            {REF_SLICE_LIT("X-Amz-Date"), ref_slice_make(amz_date, 16)},
            {REF_SLICE_LIT("Content-Type"), REF_SLICE_LIT("application/json")},
            {REF_SLICE_LIT("Content-Length"), ref_slice_from_cstr(length)},
        };
        struct ref_sigv4_request sreq = {.method = REF_SLICE_LIT("POST"),
                                         .path = REF_SLICE_LIT("/_etch/control/v1/seed"),
                                         .headers = h,
                                         .num_headers = 4,
                                         .body = ref_slice_from_cstr(body)};
        struct ref_sigv4_sign_params p = {
            .access_key_id = ref_slice_from_cstr(REF_TEST_CRED_MAIN->access_key_id),
            .secret_access_key = ref_slice_from_cstr(REF_TEST_CRED_MAIN->secret_access_key),
            .region = REF_SLICE_LIT(REF_TEST_REGION),
            .service = REF_SLICE_LIT("elastictranscoder"),
            .amz_date = ref_slice_make(amz_date, 16)};
        struct ref_buf auth;
        ref_buf_init(&auth, 4096);
        assert_int_equal(ref_sigv4_sign(&p, &sreq, &auth, NULL), REF_OK);
        struct ref_buf raw;
        ref_buf_init(&raw, 65536);
        assert_int_equal(ref_buf_append_cstr(&raw, "POST /_etch/control/v1/seed HTTP/1.1\r\n"),
                         REF_OK);
        for (size_t i = 0; i < 4; i++) {
            assert_int_equal(ref_buf_appendf(&raw, REF_SLICE_FMT ": " REF_SLICE_FMT "\r\n",
                                             REF_SLICE_ARG(h[i].name), REF_SLICE_ARG(h[i].value)),
                             REF_OK);
        }
        assert_int_equal(ref_buf_appendf(&raw, "Authorization: " REF_SLICE_FMT "\r\n\r\n%s",
                                         REF_SLICE_ARG(ref_buf_slice(&auth)), body),
                         REF_OK);
        struct ref_response resp;
        ref_response_init(&resp);

        failing_hooks_install();
        s_fail_after = fail_at;
        enum ref_status rc = ref_service_handle_raw(fx.svc, ref_buf_slice(&raw), &resp);
        s_fail_after = -1;
        (void)setup_hooks(NULL);

        int status = rc == REF_OK ? resp.http_status : 0;
        assert_true(rc == REF_OK || rc == REF_E_NOMEM);
        assert_true(status == 0 || status == 200 || status == 500);
        ref_response_cleanup(&resp);
        ref_buf_cleanup(&raw);
        ref_buf_cleanup(&auth);
        size_t found = seeded_entries(&fx);
        assert_true(found == 0 || found == 3);
        assert_true(status != 200 || found == 3);
        fx_close(&fx);
        if (status == 200) {
            assert_true(fail_at > 3); /* the loop did go through failures */
            break;
        }
        assert_true(fail_at < 2000);
    }
    free(body);
}

/* --- The in-process hooks and copies -------------------------------------------------------- */

static void test_service_control_hooks_and_copies(void **state)
{
    (void)state;
    struct fx fx;
    open_control(&fx, true, 0);
    /* The hooks work as without control. */
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_A, "p", "Active"), REF_OK);
    assert_int_equal(ref_service_seed_job(fx.svc, "3000000000000-hookjb", PIPE_A, "Progressing"),
                     REF_OK);
    assert_int_equal(ref_service_fail_job(fx.svc, "3000000000000-hookjb"), REF_OK);
    assert_string_equal(ref_service_job_status(fx.svc, "3000000000000-hookjb"), "Error");
    /* A copy takes the clock with the store: a virtual one stays where it was. */
    (void)clock_call(&fx, "{'SetMillis':1234567}");
    struct fx other;
    open_control(&other, true, 0);
    assert_int_equal(ref_service_copy_state(other.svc, fx.svc), REF_OK);
    assert_int_equal(ref_service_now_ms(other.svc), 1234567);
    (void)clock_call(&fx, "{'Real':true}");
    assert_int_equal(ref_service_now_ms(other.svc), 1234567);
    assert_int_equal(ref_service_copy_state(other.svc, fx.svc), REF_OK);
    assert_int_equal(ref_service_now_ms(other.svc), T0);
    fx_close(&other);
    fx_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_control_off_by_default),
        cmocka_unit_test(test_service_control_discovery),
        cmocka_unit_test(test_service_control_clock_forms),
        cmocka_unit_test(test_service_control_clock_moves_the_scheduler),
        cmocka_unit_test(test_service_control_signature_window_follows_the_clock),
        cmocka_unit_test(test_service_control_answers_are_dated_by_the_clock),
        cmocka_unit_test(test_service_control_seed_every_status),
        cmocka_unit_test(test_service_control_seed_ignores_limits),
        cmocka_unit_test(test_service_control_seed_is_all_or_nothing),
        cmocka_unit_test(test_service_control_seed_refusals),
        cmocka_unit_test(test_service_control_set_status),
        cmocka_unit_test(test_service_control_main_principal_only),
        cmocka_unit_test(test_service_control_unknown_paths),
        cmocka_unit_test(test_service_control_hooks_and_copies),
        cmocka_unit_test(test_service_control_seed_allocation_failures),
        cmocka_unit_test(test_service_control_concurrent_moves_compose),
    };
    /* Every allocation goes through cmocka, which reports leaks and overruns per test. */
    return cmocka_run_group_tests(tests, setup_hooks, teardown_hooks);
}
