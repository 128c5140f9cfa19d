/* SPDX-License-Identifier: Apache-2.0
 *
 * test_job_store.c - the job/pipeline store on its own: the transition table, the
 * scheduler's timings, pagination, Ids and limits.
 *
 * The store's and jansson's heap go through cmocka's allocator, so every test also
 * checks that nothing leaks.
 */
#include "test_alloc_hooks.h"
#include "test_util.h"

#include "ref/job_store.h"
#include "ref/limits.h"
#include "ref/mem.h"

#include "../src/job_store_internal.h"

#include <jansson.h>

#include <stdio.h>
#include <unistd.h>

#define T0_MS    TEST_FIXED_NOW_MS
#define DELAY_MS 2000
#define RUN_MS   5000
#define PIPE_A   "1111111111111-abcde1"
#define PIPE_B   "1111111111112-abcde2"
#define JOB_A    "2222222222222-abcdef"
#define S(lit)   REF_SLICE_LIT(lit)
#define NO_ID    ((struct ref_slice){NULL, 0})

/* --- Fixtures ---------------------------------------------------------------------- */

static struct test_clock s_rng = {.now_ms = T0_MS, .rng_state = 0x9e3779b97f4a7c15u};

static enum ref_status rng(void *ctx, uint8_t *out, size_t n)
{
    test_clock_random_bytes(ctx, out, n);
    return REF_OK;
}

static struct ref_job_store *new_store_with(size_t page_size, size_t max_pipes, size_t max_jobs)
{
    struct ref_job_store_config cfg = {.start_delay_ms = DELAY_MS,
                                       .run_time_ms = RUN_MS,
                                       .page_size = page_size,
                                       .max_pipelines = max_pipes,
                                       .max_queued_jobs = max_jobs,
                                       .random = rng,
                                       .random_ctx = &s_rng};
    struct ref_job_store *store = ref_job_store_new(&cfg);
    assert_non_null(store);
    return store;
}

static struct ref_job_store *new_store(void)
{
    return new_store_with(0, 0, 0);
}

static json_t *job_spec(void)
{
    return json_pack("{s:{s:s}, s:[{s:s, s:s}]}", "Input", "Key", "in.mp4", "Outputs", "Key",
                     "out.mp4", "PresetId", "1351620000001-000010");
}

static void seed_pipeline(struct ref_job_store *store,
                          const char *id,
                          enum ref_pipeline_status status,
                          int64_t now_ms)
{
    json_t *spec = json_pack("{s:s}", "Name", "p");
    assert_int_equal(
        ref_job_store_create_pipeline(store, now_ms, ref_slice_from_cstr(id), status, spec, NULL),
        REF_OK);
    json_decref(spec);
}

/* Creates a job (generated Id) and returns its Id in id_out. */
static void new_job(struct ref_job_store *store,
                    const char *pipeline,
                    int64_t now_ms,
                    char id_out[REF_ID_LEN + 1])
{
    json_t *spec = job_spec();
    struct ref_job_info info;
    assert_int_equal(ref_job_store_create_job(store, now_ms, NO_ID, ref_slice_from_cstr(pipeline),
                                              REF_JOB_SUBMITTED, spec, &info),
                     REF_OK);
    json_decref(spec);
    for (size_t i = 0; i <= REF_ID_LEN; i++) {
        id_out[i] = info.id[i];
    }
    ref_job_info_cleanup(&info);
}

static enum ref_job_status status_of(struct ref_job_store *store, const char *id)
{
    enum ref_job_status st = REF_JOB_STATUS_NONE;
    assert_int_equal(ref_job_store_job_status(store, ref_slice_from_cstr(id), &st), REF_OK);
    return st;
}

static void read_job(struct ref_job_store *store, const char *id, struct ref_job_info *info)
{
    assert_int_equal(ref_job_store_read_job(store, ref_slice_from_cstr(id), info), REF_OK);
}

/* --- The transition table ---------------------------------------------------------- */

static void test_job_store_table_every_status_and_event(void **state)
{
    (void)state;
    /* What contract section 3 allows; everything else must be refused. */
    static const enum ref_job_status want[REF_JOB_STATUS_COUNT][REF_JOB_EVENT_COUNT] = {
        [REF_JOB_SUBMITTED] =
            {[REF_JOB_EV_CANCEL] = REF_JOB_CANCELED, [REF_JOB_EV_START] = REF_JOB_PROGRESSING},
        [REF_JOB_PROGRESSING] =
            {[REF_JOB_EV_FINISH] = REF_JOB_COMPLETE, [REF_JOB_EV_FAIL] = REF_JOB_ERROR},
    };
    for (int s = 0; s < REF_JOB_STATUS_COUNT; s++) {
        for (int e = 0; e < REF_JOB_EVENT_COUNT; e++) {
            assert_int_equal(ref_job_next_status((enum ref_job_status)s, (enum ref_job_event)e),
                             want[s][e]);
        }
    }
    /* Out of range fails closed. */
    assert_int_equal(ref_job_next_status(REF_JOB_STATUS_COUNT, REF_JOB_EV_CANCEL),
                     REF_JOB_STATUS_NONE);
    assert_int_equal(ref_job_next_status(REF_JOB_SUBMITTED, REF_JOB_EVENT_COUNT),
                     REF_JOB_STATUS_NONE);

    /* The same through the store: a job seeded in each status, every event applied. */
    for (int s = REF_JOB_SUBMITTED; s < REF_JOB_STATUS_COUNT; s++) {
        for (int e = REF_JOB_EV_NONE; e < REF_JOB_EVENT_COUNT; e++) {
            struct ref_job_store *store = new_store();
            seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
            json_t *spec = job_spec();
            assert_int_equal(ref_job_store_create_job(store, T0_MS, S(JOB_A), S(PIPE_A),
                                                      (enum ref_job_status)s, spec, NULL),
                             REF_OK);
            json_decref(spec);
            assert_int_equal(status_of(store, JOB_A), s);
            struct ref_job_change ch = {0};
            enum ref_status rc =
                ref_job_store_apply(store, S(JOB_A), (enum ref_job_event)e, T0_MS + 1, &ch);
            if (want[s][e] != REF_JOB_STATUS_NONE) {
                assert_int_equal(rc, REF_OK);
                assert_int_equal(ch.from, s);
                assert_int_equal(ch.to, want[s][e]);
                assert_int_equal(status_of(store, JOB_A), want[s][e]);
            } else {
                assert_int_equal(rc, REF_E_IN_USE);
                assert_int_equal(status_of(store, JOB_A), s);
            }
            ref_job_store_free(store);
        }
    }
}

static void test_job_store_apply_unknown_job_is_not_found(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    assert_int_equal(ref_job_store_apply(store, S(JOB_A), REF_JOB_EV_CANCEL, T0_MS, NULL),
                     REF_E_NOT_FOUND);
    enum ref_job_status st;
    assert_int_equal(ref_job_store_job_status(store, S(JOB_A), &st), REF_E_NOT_FOUND);
    ref_job_store_free(store);
}

static void test_job_store_names_round_trip(void **state)
{
    (void)state;
    for (int s = REF_JOB_SUBMITTED; s < REF_JOB_STATUS_COUNT; s++) {
        const char *name = ref_job_status_name((enum ref_job_status)s);
        assert_true(name[0] != '\0');
        assert_int_equal(ref_job_status_from_name(ref_slice_from_cstr(name)), s);
    }
    assert_string_equal(ref_job_status_name(REF_JOB_CANCELED), "Canceled");
    assert_int_equal(ref_job_status_from_name(S("Cancelled")), REF_JOB_STATUS_NONE);
    assert_int_equal(ref_job_status_from_name(S("submitted")), REF_JOB_STATUS_NONE);
    assert_string_equal(ref_job_status_name(REF_JOB_STATUS_NONE), "");
    assert_int_equal(ref_pipeline_status_from_name(S("Active")), REF_PIPELINE_ACTIVE);
    assert_int_equal(ref_pipeline_status_from_name(S("Paused")), REF_PIPELINE_PAUSED);
    assert_int_equal(ref_pipeline_status_from_name(S("active")), REF_PIPELINE_STATUS_NONE);
    assert_string_equal(ref_job_event_name(REF_JOB_EV_CANCEL), "CANCEL");
}

/* --- Scheduler --------------------------------------------------------------------- */

static void test_job_store_scheduler_start_and_finish_times(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS - 60000);
    char id[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, id);

    int64_t when = 0;
    assert_true(ref_job_store_next_event_ms(store, &when));
    assert_int_equal(when, T0_MS + DELAY_MS);

    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS - 1), 0);
    assert_int_equal(status_of(store, id), REF_JOB_SUBMITTED);

    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS), 1);
    struct ref_job_info info;
    read_job(store, id, &info);
    assert_int_equal(info.status, REF_JOB_PROGRESSING);
    assert_true(info.has_start);
    assert_int_equal(info.start_ms, T0_MS + DELAY_MS);
    assert_false(info.has_finish);
    assert_int_equal(info.submit_ms, T0_MS);
    ref_job_info_cleanup(&info);

    assert_true(ref_job_store_next_event_ms(store, &when));
    assert_int_equal(when, T0_MS + DELAY_MS + RUN_MS);
    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS + RUN_MS - 1), 0);
    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS + RUN_MS), 1);
    read_job(store, id, &info);
    assert_int_equal(info.status, REF_JOB_COMPLETE);
    assert_true(info.has_finish);
    assert_int_equal(info.finish_ms, T0_MS + DELAY_MS + RUN_MS);
    ref_job_info_cleanup(&info);
    assert_false(ref_job_store_next_event_ms(store, &when));
    ref_job_store_free(store);
}

static void test_job_store_scheduler_one_big_step_applies_both(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    char a[REF_ID_LEN + 1], b[REF_ID_LEN + 1], c[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, a);
    new_job(store, PIPE_A, T0_MS + 4000, b);
    new_job(store, PIPE_A, T0_MS + 10000, c);
    /* a starts and finishes, b starts, c stays Submitted. */
    assert_int_equal(ref_job_store_advance(store, T0_MS + 7000), 3);
    struct ref_job_info info;
    read_job(store, a, &info);
    assert_int_equal(info.status, REF_JOB_COMPLETE);
    assert_int_equal(info.start_ms, T0_MS + DELAY_MS);
    assert_int_equal(info.finish_ms, T0_MS + DELAY_MS + RUN_MS);
    ref_job_info_cleanup(&info);
    read_job(store, b, &info);
    assert_int_equal(info.status, REF_JOB_PROGRESSING);
    assert_int_equal(info.start_ms, T0_MS + 4000 + DELAY_MS);
    ref_job_info_cleanup(&info);
    assert_int_equal(status_of(store, c), REF_JOB_SUBMITTED);
    int64_t when;
    assert_true(ref_job_store_next_event_ms(store, &when));
    assert_int_equal(when, T0_MS + 4000 + DELAY_MS + RUN_MS);
    ref_job_store_free(store);
}

static void test_job_store_start_counts_from_last_activation(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    /* The pipeline became Active after the job was submitted: the later time counts. */
    seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS - 1000);
    char id[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, id);
    assert_int_equal(ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_ACTIVE,
                                                       T0_MS + 3000, NULL),
                     REF_OK);
    int64_t when;
    assert_true(ref_job_store_next_event_ms(store, &when));
    assert_int_equal(when, T0_MS + 3000 + DELAY_MS);
    /* Setting Active again is no switch and does not move the start. */
    assert_int_equal(ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_ACTIVE,
                                                       T0_MS + 4000, NULL),
                     REF_OK);
    assert_true(ref_job_store_next_event_ms(store, &when));
    assert_int_equal(when, T0_MS + 3000 + DELAY_MS);
    ref_job_store_free(store);
}

static void test_job_store_paused_pipeline_starts_nothing(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
    char id[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, id);
    int64_t when;
    assert_false(ref_job_store_next_event_ms(store, &when));
    assert_int_equal(ref_job_store_advance(store, T0_MS + 24 * 3600 * 1000LL), 0);
    assert_int_equal(status_of(store, id), REF_JOB_SUBMITTED);

    /* Resume: the delay counts from the switch, not from the submission. */
    int64_t resume_ms = T0_MS + 24 * 3600 * 1000LL;
    struct ref_pipeline_info pinfo;
    assert_int_equal(
        ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_ACTIVE, resume_ms, &pinfo),
        REF_OK);
    assert_int_equal(pinfo.status, REF_PIPELINE_ACTIVE);
    assert_int_equal(pinfo.active_since_ms, resume_ms);
    ref_pipeline_info_cleanup(&pinfo);
    assert_int_equal(ref_job_store_advance(store, resume_ms + DELAY_MS - 1), 0);
    assert_int_equal(ref_job_store_advance(store, resume_ms + DELAY_MS), 1);
    assert_int_equal(status_of(store, id), REF_JOB_PROGRESSING);
    ref_job_store_free(store);
}

/* Active while already Active is no switch (the header's rule; contract 8: the start delay
 * counts from the pipeline's last switch to Active): the pipeline keeps its active-since
 * time, and a job submitted before the redundant Active starts when it would have. The
 * schedule alone would not show a reset, since nothing is rescheduled; the pipeline's and
 * the job's own views do. */
static void test_job_store_redundant_active_keeps_active_since(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    char id[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, id);
    struct ref_pipeline_info pinfo;
    assert_int_equal(ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_ACTIVE,
                                                       T0_MS + 1000, &pinfo),
                     REF_OK);
    assert_int_equal(pinfo.active_since_ms, T0_MS);
    ref_pipeline_info_cleanup(&pinfo);
    assert_int_equal(ref_job_store_read_pipeline(store, S(PIPE_A), &pinfo), REF_OK);
    assert_int_equal(pinfo.active_since_ms, T0_MS);
    ref_pipeline_info_cleanup(&pinfo);
    struct ref_job_info info;
    read_job(store, id, &info);
    assert_true(info.has_next_event);
    assert_int_equal(info.next_event_ms, T0_MS + DELAY_MS);
    ref_job_info_cleanup(&info);
    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS - 1), 0);
    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS), 1);
    read_job(store, id, &info);
    assert_int_equal(info.status, REF_JOB_PROGRESSING);
    assert_int_equal(info.start_ms, T0_MS + DELAY_MS);
    ref_job_info_cleanup(&info);
    ref_job_store_free(store);
}

static void test_job_store_pause_holds_submitted_not_progressing(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    char early[REF_ID_LEN + 1], late[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, early);
    new_job(store, PIPE_A, T0_MS + 1500, late);
    /* The pause comes after `early` was due (lazily, nobody advanced): it still started. */
    assert_int_equal(ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_PAUSED,
                                                       T0_MS + DELAY_MS + 100, NULL),
                     REF_OK);
    assert_int_equal(status_of(store, early), REF_JOB_PROGRESSING);
    assert_int_equal(status_of(store, late), REF_JOB_SUBMITTED);
    /* Progressing jobs continue on a paused pipeline; Submitted ones wait. */
    assert_int_equal(ref_job_store_advance(store, T0_MS + 60000), 1);
    assert_int_equal(status_of(store, early), REF_JOB_COMPLETE);
    assert_int_equal(status_of(store, late), REF_JOB_SUBMITTED);
    int64_t when;
    assert_false(ref_job_store_next_event_ms(store, &when));
    ref_job_store_free(store);
}

/* A snapshot says when the scheduler next moves the job, exactly as next_event_ms would
 * with that job alone: the service lowers its quiet window to a new job's from it. */
static void test_job_store_snapshot_reports_next_event(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        const char *pipeline;
        enum ref_job_status status;
        bool has_next_event;
        int64_t next_event_ms;
    } cases[] = {
        {"3000000000001-aaaaaa", PIPE_A, REF_JOB_SUBMITTED, true, T0_MS + 1000 + DELAY_MS},
        {"3000000000002-aaaaaa", PIPE_A, REF_JOB_PROGRESSING, true, T0_MS + 1000 + RUN_MS},
        {"3000000000003-aaaaaa", PIPE_A, REF_JOB_COMPLETE, false, 0},
        {"3000000000004-aaaaaa", PIPE_A, REF_JOB_CANCELED, false, 0},
        {"3000000000005-aaaaaa", PIPE_B, REF_JOB_SUBMITTED, false, 0},
        {"3000000000006-aaaaaa", PIPE_B, REF_JOB_PROGRESSING, true, T0_MS + 1000 + RUN_MS},
    };
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    seed_pipeline(store, PIPE_B, REF_PIPELINE_PAUSED, T0_MS);
    json_t *spec = job_spec();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ref_job_info info;
        assert_int_equal(ref_job_store_create_job(
                             store, T0_MS + 1000, ref_slice_from_cstr(cases[i].id),
                             ref_slice_from_cstr(cases[i].pipeline), cases[i].status, spec, &info),
                         REF_OK);
        assert_int_equal(info.has_next_event, cases[i].has_next_event);
        if (cases[i].has_next_event) {
            assert_int_equal(info.next_event_ms, cases[i].next_event_ms);
        }
        ref_job_info_cleanup(&info);
    }
    json_decref(spec);
    /* Reads report it too, and it follows the pipeline: activated at T0 + 3000, the held
     * job starts DELAY_MS later. */
    assert_int_equal(ref_job_store_set_pipeline_status(store, S(PIPE_B), REF_PIPELINE_ACTIVE,
                                                       T0_MS + 3000, NULL),
                     REF_OK);
    struct ref_job_info info;
    read_job(store, "3000000000005-aaaaaa", &info);
    assert_true(info.has_next_event);
    assert_int_equal(info.next_event_ms, T0_MS + 3000 + DELAY_MS);
    ref_job_info_cleanup(&info);
    ref_job_store_free(store);
}

static void test_job_store_canceled_job_never_starts(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    char id[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, id);
    struct ref_job_change ch;
    assert_int_equal(
        ref_job_store_apply(store, ref_slice_from_cstr(id), REF_JOB_EV_CANCEL, T0_MS + 1, &ch),
        REF_OK);
    assert_int_equal(ch.from, REF_JOB_SUBMITTED);
    assert_int_equal(ch.to, REF_JOB_CANCELED);
    assert_int_equal(ref_job_store_advance(store, T0_MS + 3600000), 0);
    struct ref_job_info info;
    read_job(store, id, &info);
    assert_int_equal(info.status, REF_JOB_CANCELED);
    assert_false(info.has_start);
    assert_false(info.has_finish);
    ref_job_info_cleanup(&info);
    /* A second cancel is refused and changes nothing. */
    assert_int_equal(
        ref_job_store_apply(store, ref_slice_from_cstr(id), REF_JOB_EV_CANCEL, T0_MS + 2, NULL),
        REF_E_IN_USE);
    ref_job_store_free(store);
}

/* --- The schedule's bookkeeping ----------------------------------------------------- */

/* next_event_ms in one value, NO_EVENT when nothing is scheduled. */
#define NO_EVENT INT64_MIN

static int64_t next_event(struct ref_job_store *store)
{
    int64_t when = 0;
    return ref_job_store_next_event_ms(store, &when) ? when : NO_EVENT;
}

static struct ref_job_store *new_store_timed(int64_t start_delay_ms, int64_t run_time_ms)
{
    struct ref_job_store_config cfg = {.start_delay_ms = start_delay_ms,
                                       .run_time_ms = run_time_ms,
                                       .random = rng,
                                       .random_ctx = &s_rng};
    struct ref_job_store *store = ref_job_store_new(&cfg);
    assert_non_null(store);
    return store;
}

/* The job's status, and its start and finish times where the status has them. */
static void assert_timing(struct ref_job_store *store,
                          const char *id,
                          enum ref_job_status status,
                          int64_t start_ms,
                          int64_t finish_ms)
{
    struct ref_job_info info;
    read_job(store, id, &info);
    assert_int_equal(info.status, status);
    if (info.has_start) {
        assert_int_equal(info.start_ms, start_ms);
    }
    if (info.has_finish) {
        assert_int_equal(info.finish_ms, finish_ms);
    }
    ref_job_info_cleanup(&info);
}

/* A pause drops the pipeline's pending starts from the schedule and a resume puts them
 * back, counted from the resume; another pipeline's events are left alone, and so are the
 * paused pipeline's finishes. */
static void test_job_store_pause_and_resume_move_only_that_pipelines_starts(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS - DELAY_MS);
    seed_pipeline(store, PIPE_B, REF_PIPELINE_ACTIVE, T0_MS - DELAY_MS);
    char a_running[REF_ID_LEN + 1], a1[REF_ID_LEN + 1], a2[REF_ID_LEN + 1], b[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS - DELAY_MS, a_running);
    new_job(store, PIPE_A, T0_MS, a1);
    new_job(store, PIPE_A, T0_MS + 500, a2);
    new_job(store, PIPE_B, T0_MS + 1000, b);
    assert_int_equal(ref_job_store_advance(store, T0_MS), 1);
    assert_int_equal(next_event(store), T0_MS + DELAY_MS);

    assert_int_equal(
        ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_PAUSED, T0_MS + 100, NULL),
        REF_OK);
    /* a1 and a2 wait now; b's start is next. */
    assert_int_equal(next_event(store), T0_MS + 1000 + DELAY_MS);
    assert_int_equal(ref_job_store_advance(store, T0_MS + 1000 + DELAY_MS), 1);
    assert_int_equal(status_of(store, b), REF_JOB_PROGRESSING);
    /* The running job of the paused pipeline still finishes on time. */
    assert_int_equal(next_event(store), T0_MS + RUN_MS);
    assert_int_equal(ref_job_store_advance(store, T0_MS + RUN_MS), 1);
    assert_timing(store, a_running, REF_JOB_COMPLETE, T0_MS, T0_MS + RUN_MS);
    assert_int_equal(next_event(store), T0_MS + 1000 + DELAY_MS + RUN_MS);

    /* Resumed, paused and resumed again within one millisecond: each start is scheduled
     * once, from that millisecond, and applied once. */
    int64_t resume_ms = T0_MS + RUN_MS + 1;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_ACTIVE,
                                                           resume_ms, NULL),
                         REF_OK);
        assert_int_equal(next_event(store), resume_ms + DELAY_MS);
        if (i == 0) {
            assert_int_equal(ref_job_store_set_pipeline_status(
                                 store, S(PIPE_A), REF_PIPELINE_PAUSED, resume_ms, NULL),
                             REF_OK);
            assert_int_equal(next_event(store), T0_MS + 1000 + DELAY_MS + RUN_MS);
        }
    }
    /* Active again while Active is no switch: nothing moves. */
    assert_int_equal(ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_ACTIVE,
                                                       resume_ms + 50, NULL),
                     REF_OK);
    assert_int_equal(next_event(store), resume_ms + DELAY_MS);
    assert_int_equal(ref_job_store_advance(store, resume_ms + DELAY_MS - 1), 0);
    assert_int_equal(ref_job_store_advance(store, resume_ms + DELAY_MS), 2);
    assert_timing(store, a1, REF_JOB_PROGRESSING, resume_ms + DELAY_MS, 0);
    assert_timing(store, a2, REF_JOB_PROGRESSING, resume_ms + DELAY_MS, 0);
    assert_int_equal(next_event(store), T0_MS + 1000 + DELAY_MS + RUN_MS);
    assert_int_equal(ref_job_store_advance(store, resume_ms + DELAY_MS + RUN_MS), 3);
    assert_timing(store, b, REF_JOB_COMPLETE, T0_MS + 1000 + DELAY_MS,
                  T0_MS + 1000 + DELAY_MS + RUN_MS);
    assert_timing(store, a2, REF_JOB_COMPLETE, resume_ms + DELAY_MS, resume_ms + DELAY_MS + RUN_MS);
    assert_int_equal(next_event(store), NO_EVENT);
    ref_job_store_free(store);
}

/* Many jobs due at the same millisecond, created so that their schedule entries arrive
 * out of job order: every one is applied once, at its own time, and no later event is
 * pulled forward. (Within one advance the order of ties, by job, is not observable from
 * outside; the fuzz target checks the counts and times against its model.) */
static void test_job_store_many_jobs_due_at_once(void **state)
{
    (void)state;
    enum { JOBS = 60, GROUPS = 3 };
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
    char ids[JOBS][REF_ID_LEN + 1];
    for (int i = 0; i < JOBS; i++) {
        new_job(store, PIPE_A, T0_MS + 1000 * ((i * 7) % GROUPS), ids[i]);
    }
    assert_int_equal(next_event(store), NO_EVENT);
    /* Activated after every submission: all starts fall on the same millisecond. */
    int64_t active_ms = T0_MS + 5000;
    assert_int_equal(
        ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_ACTIVE, active_ms, NULL),
        REF_OK);
    assert_int_equal(next_event(store), active_ms + DELAY_MS);
    assert_int_equal(ref_job_store_advance(store, active_ms + DELAY_MS), JOBS);
    assert_int_equal(next_event(store), active_ms + DELAY_MS + RUN_MS);
    assert_int_equal(ref_job_store_advance(store, active_ms + DELAY_MS + RUN_MS - 1), 0);
    assert_int_equal(ref_job_store_advance(store, active_ms + DELAY_MS + RUN_MS), JOBS);
    for (int i = 0; i < JOBS; i++) {
        assert_timing(store, ids[i], REF_JOB_COMPLETE, active_ms + DELAY_MS,
                      active_ms + DELAY_MS + RUN_MS);
    }
    assert_int_equal(next_event(store), NO_EVENT);

    /* Three submission times on an Active pipeline, interleaved by job: one group per
     * advance. */
    seed_pipeline(store, PIPE_B, REF_PIPELINE_ACTIVE, T0_MS);
    int64_t base_ms = T0_MS + 100000;
    for (int i = 0; i < JOBS; i++) {
        new_job(store, PIPE_B, base_ms + 1000 * ((i * 7) % GROUPS), ids[i]);
    }
    for (int g = 0; g < GROUPS; g++) {
        assert_int_equal(next_event(store), base_ms + 1000 * g + DELAY_MS);
        assert_int_equal(ref_job_store_advance(store, base_ms + 1000 * g + DELAY_MS),
                         JOBS / GROUPS);
        for (int i = 0; i < JOBS; i++) {
            int group = (i * 7) % GROUPS;
            assert_int_equal(status_of(store, ids[i]),
                             group <= g ? REF_JOB_PROGRESSING : REF_JOB_SUBMITTED);
        }
    }
    assert_int_equal(next_event(store), base_ms + DELAY_MS + RUN_MS);
    assert_int_equal(ref_job_store_advance(store, base_ms + 3 * 1000 + DELAY_MS + RUN_MS), JOBS);
    for (int i = 0; i < JOBS; i++) {
        int64_t start_ms = base_ms + 1000 * ((i * 7) % GROUPS) + DELAY_MS;
        assert_timing(store, ids[i], REF_JOB_COMPLETE, start_ms, start_ms + RUN_MS);
    }
    assert_int_equal(next_event(store), NO_EVENT);
    ref_job_store_free(store);
}

/* Ending a job takes its event off the schedule at once, whether the event was a start
 * or a finish; the next event is then the next job's. */
static void test_job_store_ended_job_leaves_no_event(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    char early[REF_ID_LEN + 1], late[REF_ID_LEN + 1], manual[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, early);
    new_job(store, PIPE_A, T0_MS + 1000, late);
    new_job(store, PIPE_A, T0_MS + 2000, manual);
    assert_int_equal(next_event(store), T0_MS + DELAY_MS);

    assert_int_equal(
        ref_job_store_apply(store, ref_slice_from_cstr(early), REF_JOB_EV_CANCEL, T0_MS + 10, NULL),
        REF_OK);
    assert_int_equal(next_event(store), T0_MS + 1000 + DELAY_MS);

    /* A start applied by hand schedules the finish from the time it was given. */
    assert_int_equal(
        ref_job_store_apply(store, ref_slice_from_cstr(manual), REF_JOB_EV_START, T0_MS + 20, NULL),
        REF_OK);
    assert_int_equal(next_event(store), T0_MS + 1000 + DELAY_MS);
    assert_int_equal(
        ref_job_store_apply(store, ref_slice_from_cstr(late), REF_JOB_EV_CANCEL, T0_MS + 30, NULL),
        REF_OK);
    assert_int_equal(next_event(store), T0_MS + 20 + RUN_MS);
    assert_int_equal(
        ref_job_store_apply(store, ref_slice_from_cstr(manual), REF_JOB_EV_FAIL, T0_MS + 40, NULL),
        REF_OK);
    assert_int_equal(next_event(store), NO_EVENT);

    assert_int_equal(ref_job_store_advance(store, T0_MS + 3600000), 0);
    assert_int_equal(status_of(store, early), REF_JOB_CANCELED);
    assert_int_equal(status_of(store, late), REF_JOB_CANCELED);
    assert_timing(store, manual, REF_JOB_ERROR, T0_MS + 20, T0_MS + 40);
    ref_job_store_free(store);
}

/* What one advance applies: what was due when it began, and the finish of a job it starts
 * when that is due too and not before the start. A zero run time completes the job in
 * the same advance; a negative one (which the store accepts) leaves the finish to the
 * next advance, since in time order it would come before its own start. */
static void test_job_store_start_and_finish_in_one_advance(void **state)
{
    (void)state;
    struct ref_job_store *zero = new_store_timed(DELAY_MS, 0);
    seed_pipeline(zero, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    char a[REF_ID_LEN + 1], b[REF_ID_LEN + 1];
    new_job(zero, PIPE_A, T0_MS, a);
    new_job(zero, PIPE_A, T0_MS, b);
    assert_int_equal(ref_job_store_advance(zero, T0_MS + DELAY_MS), 4);
    assert_timing(zero, a, REF_JOB_COMPLETE, T0_MS + DELAY_MS, T0_MS + DELAY_MS);
    assert_timing(zero, b, REF_JOB_COMPLETE, T0_MS + DELAY_MS, T0_MS + DELAY_MS);
    assert_int_equal(next_event(zero), NO_EVENT);
    ref_job_store_free(zero);

    struct ref_job_store *negative = new_store_timed(DELAY_MS, -500);
    seed_pipeline(negative, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    new_job(negative, PIPE_A, T0_MS, a);
    new_job(negative, PIPE_A, T0_MS + 100, b);
    assert_int_equal(ref_job_store_advance(negative, T0_MS + DELAY_MS + 100), 2);
    assert_timing(negative, a, REF_JOB_PROGRESSING, T0_MS + DELAY_MS, 0);
    assert_timing(negative, b, REF_JOB_PROGRESSING, T0_MS + 100 + DELAY_MS, 0);
    assert_int_equal(next_event(negative), T0_MS + DELAY_MS - 500);
    assert_int_equal(ref_job_store_advance(negative, T0_MS + DELAY_MS + 100), 2);
    assert_timing(negative, a, REF_JOB_COMPLETE, T0_MS + DELAY_MS, T0_MS + DELAY_MS - 500);
    assert_timing(negative, b, REF_JOB_COMPLETE, T0_MS + 100 + DELAY_MS,
                  T0_MS + 100 + DELAY_MS - 500);
    assert_int_equal(next_event(negative), NO_EVENT);
    ref_job_store_free(negative);
}

static void test_job_store_seeded_statuses_are_consistent(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        enum ref_job_status status;
        bool has_start, has_finish;
    } cases[] = {
        {"3000000000001-aaaaaa", REF_JOB_SUBMITTED, false, false},
        {"3000000000002-aaaaaa", REF_JOB_PROGRESSING, true, false},
        {"3000000000003-aaaaaa", REF_JOB_COMPLETE, true, true},
        {"3000000000004-aaaaaa", REF_JOB_CANCELED, false, false},
        {"3000000000005-aaaaaa", REF_JOB_ERROR, true, true},
    };
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
    json_t *spec = job_spec();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ref_job_info info;
        assert_int_equal(ref_job_store_create_job(store, T0_MS, ref_slice_from_cstr(cases[i].id),
                                                  S(PIPE_A), cases[i].status, spec, &info),
                         REF_OK);
        assert_string_equal(info.id, cases[i].id);
        assert_string_equal(info.pipeline_id, PIPE_A);
        assert_int_equal(info.status, cases[i].status);
        assert_int_equal(info.has_start, cases[i].has_start);
        assert_int_equal(info.has_finish, cases[i].has_finish);
        assert_int_equal(info.submit_ms, T0_MS);
        ref_job_info_cleanup(&info);
    }
    struct ref_job_store_stats st;
    ref_job_store_stats(store, &st);
    assert_int_equal(st.jobs, 5);
    assert_int_equal(st.queued_jobs, 2);
    for (int s = REF_JOB_SUBMITTED; s < REF_JOB_STATUS_COUNT; s++) {
        assert_int_equal(st.by_status[s], 1);
    }
    /* Seeding errors. */
    assert_int_equal(ref_job_store_create_job(store, T0_MS, S("3000000000001-aaaaaa"), S(PIPE_A),
                                              REF_JOB_SUBMITTED, spec, NULL),
                     REF_E_IN_USE);
    assert_int_equal(ref_job_store_create_job(store, T0_MS, S("30000-aaaaaa"), S(PIPE_A),
                                              REF_JOB_SUBMITTED, spec, NULL),
                     REF_E_VALIDATION);
    assert_int_equal(ref_job_store_create_job(store, T0_MS, S("3000000000009-aaaaaa"), S(PIPE_B),
                                              REF_JOB_SUBMITTED, spec, NULL),
                     REF_E_NOT_FOUND);
    assert_int_equal(ref_job_store_create_job(store, T0_MS, S("3000000000009-aaaaaa"), S(PIPE_A),
                                              REF_JOB_STATUS_NONE, spec, NULL),
                     REF_E_VALIDATION);
    /* A job Id may not reuse a pipeline Id either. */
    assert_int_equal(
        ref_job_store_create_job(store, T0_MS, S(PIPE_A), S(PIPE_A), REF_JOB_SUBMITTED, spec, NULL),
        REF_E_IN_USE);
    json_decref(spec);
    ref_job_store_free(store);
}

/* --- Pipelines ---------------------------------------------------------------------- */

static void test_job_store_pipeline_lifecycle(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    json_t *spec = json_pack("{s:s, s:s}", "Name", "probe", "InputBucket", "in");
    struct ref_pipeline_info info;
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, spec, &info),
        REF_OK);
    json_decref(spec);
    assert_true(ref_job_id_is_valid(ref_slice_from_cstr(info.id)));
    assert_int_equal(info.status, REF_PIPELINE_ACTIVE);
    assert_int_equal(info.created_ms, T0_MS);
    assert_string_equal(json_string_value(json_object_get(info.spec, "Name")), "probe");
    char id[REF_ID_LEN + 1];
    for (size_t i = 0; i <= REF_ID_LEN; i++) {
        id[i] = info.id[i];
    }
    ref_pipeline_info_cleanup(&info);

    assert_int_equal(ref_job_store_read_pipeline(store, ref_slice_from_cstr(id), &info), REF_OK);
    assert_string_equal(info.id, id);
    ref_pipeline_info_cleanup(&info);
    assert_int_equal(ref_job_store_read_pipeline(store, S(PIPE_B), &info), REF_E_NOT_FOUND);

    /* Delete with a Submitted job: in use. Cancel it: deletable. */
    char job[REF_ID_LEN + 1];
    new_job(store, id, T0_MS, job);
    assert_int_equal(ref_job_store_delete_pipeline(store, ref_slice_from_cstr(id)), REF_E_IN_USE);
    assert_int_equal(
        ref_job_store_apply(store, ref_slice_from_cstr(job), REF_JOB_EV_CANCEL, T0_MS, NULL),
        REF_OK);
    assert_int_equal(ref_job_store_delete_pipeline(store, ref_slice_from_cstr(id)), REF_OK);
    assert_int_equal(ref_job_store_read_pipeline(store, ref_slice_from_cstr(id), &info),
                     REF_E_NOT_FOUND);
    assert_int_equal(ref_job_store_delete_pipeline(store, ref_slice_from_cstr(id)),
                     REF_E_NOT_FOUND);
    assert_int_equal(ref_job_store_set_pipeline_status(store, ref_slice_from_cstr(id),
                                                       REF_PIPELINE_PAUSED, T0_MS, NULL),
                     REF_E_NOT_FOUND);
    /* The job of a deleted pipeline stays readable; no new job can go there. */
    assert_int_equal(status_of(store, job), REF_JOB_CANCELED);
    json_t *js = job_spec();
    assert_int_equal(ref_job_store_create_job(store, T0_MS, NO_ID, ref_slice_from_cstr(id),
                                              REF_JOB_SUBMITTED, js, NULL),
                     REF_E_NOT_FOUND);
    json_decref(js);
    /* Its Id is not free again. */
    assert_int_equal(ref_job_store_create_pipeline(store, T0_MS, ref_slice_from_cstr(id),
                                                   REF_PIPELINE_ACTIVE, NULL, NULL),
                     REF_E_IN_USE);
    ref_job_store_free(store);
}

static void test_job_store_delete_pipeline_with_progressing_job(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    char job[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, job);
    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS), 1);
    assert_int_equal(ref_job_store_delete_pipeline(store, S(PIPE_A)), REF_E_IN_USE);
    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS + RUN_MS), 1);
    assert_int_equal(ref_job_store_delete_pipeline(store, S(PIPE_A)), REF_OK);
    ref_job_store_free(store);
}

static void test_job_store_rejects_bad_pipeline_arguments(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    assert_int_equal(ref_job_store_create_pipeline(store, T0_MS, S(PIPE_A),
                                                   REF_PIPELINE_STATUS_NONE, NULL, NULL),
                     REF_E_VALIDATION);
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, S("111-abc"), REF_PIPELINE_ACTIVE, NULL, NULL),
        REF_E_VALIDATION);
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, S(PIPE_A), REF_PIPELINE_ACTIVE, NULL, NULL),
        REF_E_IN_USE);
    assert_int_equal(
        ref_job_store_set_pipeline_status(store, S(PIPE_A), REF_PIPELINE_STATUS_NONE, T0_MS, NULL),
        REF_E_VALIDATION);
    ref_job_store_free(store);
}

/* --- Ids ------------------------------------------------------------------------------ */

static void test_job_store_id_shape(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"1795869900000-abc123", true},
        {"1795869900000-ABC_12", true},
        {"0000000000000-______", true},
        {"179586990000-abc1234", false},
        {"1795869900000-abc12", false},
        {"1795869900000-abc1234", false},
        {"1795869900000_abc123", false},
        {"17958699000x0-abc123", false},
        {"1795869900000-abc-23", false},
        {"1795869900000-abc 23", false},
        {"1795869900000-abc/23", false},
        {"", false},
        {"a b/c+d%e", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(ref_job_id_is_valid(ref_slice_from_cstr(cases[i].s)), cases[i].ok);
    }
    /* Non-ASCII word characters are not \w. */
    static const uint8_t utf8[] = "1795869900000-abc\xc3\xa9";
    assert_false(ref_job_id_is_valid(ref_slice_make(utf8, 19)));
}

static void test_job_store_generated_ids_shape_and_unique(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(0, 0, 5000);
    seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
    json_t *spec = job_spec();
    /* All at the same millisecond: only the random part can keep them apart. */
    for (int i = 0; i < 3000; i++) {
        struct ref_job_info info;
        assert_int_equal(ref_job_store_create_job(store, T0_MS, NO_ID, S(PIPE_A), REF_JOB_SUBMITTED,
                                                  spec, &info),
                         REF_OK);
        assert_true(ref_job_id_is_valid(ref_slice_from_cstr(info.id)));
        assert_memory_equal(info.id, "1795869900000-", 14);
        for (int k = 14; k < REF_ID_LEN; k++) {
            char c = info.id[k];
            assert_true((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
        }
        ref_job_info_cleanup(&info);
    }
    json_decref(spec);
    struct ref_job_store_stats st;
    ref_job_store_stats(store, &st);
    assert_int_equal(st.jobs, 3000);
    ref_job_store_free(store);
}

/* A scripted random source: hands out `script` bytes in order, then repeats the last. */
struct scripted_rng {
    const uint8_t *script;
    size_t len;
    size_t at;
};

static enum ref_status scripted(void *ctx, uint8_t *out, size_t n)
{
    struct scripted_rng *r = ctx;
    for (size_t i = 0; i < n; i++) {
        out[i] = r->script[r->at < r->len ? r->at : r->len - 1];
        if (r->at < r->len) {
            r->at++;
        }
    }
    return REF_OK;
}

static enum ref_status broken_rng(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    (void)out;
    (void)n;
    return REF_E_INTERNAL;
}

static void test_job_store_id_rejection_sampling_and_collision_retry(void **state)
{
    (void)state;
    /* 16 bytes per draw. First Id: 252..255 are rejected, then 0,1,2,3,4,35 ->
     * "abcde9". Second draw (16 bytes) gives the same "abcde9" again (collision), the third
     * gives "bbbbbb". */
    uint8_t script[48];
    for (size_t i = 0; i < 16; i++) {
        script[i] = 255;
    }
    const uint8_t first[] = {252, 253, 254, 255, 0, 1, 2, 3, 4, 35};
    for (size_t i = 0; i < sizeof(first); i++) {
        script[i] = first[i];
    }
    for (size_t i = 0; i < 16; i++) {
        script[16 + i] = i < sizeof(first) ? first[i] : 0;
        script[32 + i] = (uint8_t)(1 + 36 * (i % 7)); /* all 'b', 1 + 36k stays < 252 */
    }
    struct scripted_rng r = {.script = script, .len = sizeof(script)};
    struct ref_job_store_config cfg = {
        .start_delay_ms = DELAY_MS, .run_time_ms = RUN_MS, .random = scripted, .random_ctx = &r};
    struct ref_job_store *store = ref_job_store_new(&cfg);
    assert_non_null(store);
    struct ref_pipeline_info a, b;
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, &a), REF_OK);
    assert_string_equal(a.id, "1795869900000-abcde9");
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, &b), REF_OK);
    assert_string_equal(b.id, "1795869900000-bbbbbb");
    ref_pipeline_info_cleanup(&a);
    ref_pipeline_info_cleanup(&b);
    /* A source that only ever repeats a taken Id gives up instead of looping forever. */
    r = (struct scripted_rng){.script = first + 4, .len = 1}; /* all 'a' */
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, NULL),
        REF_OK);
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, NULL),
        REF_E_INTERNAL);
    ref_job_store_free(store);

    cfg.random = broken_rng;
    store = ref_job_store_new(&cfg);
    assert_non_null(store);
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, NULL),
        REF_E_INTERNAL);
    struct ref_job_store_stats st;
    ref_job_store_stats(store, &st);
    assert_int_equal(st.pipelines, 0);
    ref_job_store_free(store);
    /* No random source: no store. */
    cfg.random = NULL;
    assert_null(ref_job_store_new(&cfg));
}

static void test_job_store_id_time_part_is_creation_ms(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    struct ref_pipeline_info info;
    assert_int_equal(ref_job_store_create_pipeline(store, INT64_C(1000000000123), NO_ID,
                                                   REF_PIPELINE_ACTIVE, NULL, &info),
                     REF_OK);
    assert_memory_equal(info.id, "1000000000123-", 14);
    ref_pipeline_info_cleanup(&info);
    /* Before 2001 the time is zero-padded to 13 digits. */
    assert_int_equal(
        ref_job_store_create_pipeline(store, 42, NO_ID, REF_PIPELINE_ACTIVE, NULL, &info), REF_OK);
    assert_memory_equal(info.id, "0000000000042-", 14);
    ref_pipeline_info_cleanup(&info);
    ref_job_store_free(store);
}

/* --- Pagination --------------------------------------------------------------------- */

static void test_job_store_list_pipelines_both_orders(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(3, 7, 0); /* 7 pipelines: three pages */
    static const char *const ids[] = {"1000000000001-aaaaaa", "1000000000002-aaaaaa",
                                      "1000000000003-aaaaaa", "1000000000004-aaaaaa",
                                      "1000000000005-aaaaaa", "1000000000006-aaaaaa",
                                      "1000000000007-aaaaaa"};
    for (size_t i = 0; i < 7; i++) {
        seed_pipeline(store, ids[i], REF_PIPELINE_ACTIVE, T0_MS);
    }
    for (int desc = 0; desc < 2; desc++) {
        struct ref_slice token = NO_ID;
        char token_buf[REF_ID_LEN + 1];
        size_t seen = 0;
        for (int page_no = 0; page_no < 3; page_no++) {
            struct ref_pipeline_page page;
            assert_int_equal(ref_job_store_list_pipelines(store, desc != 0, token, &page), REF_OK);
            assert_int_equal(page.count, page_no < 2 ? 3 : 1);
            for (size_t i = 0; i < page.count; i++, seen++) {
                const char *want = ids[desc ? 6 - seen : seen];
                assert_string_equal(page.items[i].id, want);
            }
            assert_int_equal(page.has_next, page_no < 2);
            if (page.has_next) {
                const char *next = ids[desc ? 6 - seen : seen];
                assert_string_equal(page.next_token, next);
                for (size_t k = 0; k <= REF_ID_LEN; k++) {
                    token_buf[k] = page.next_token[k];
                }
                token = ref_slice_from_cstr(token_buf);
            }
            ref_pipeline_page_cleanup(&page);
        }
        assert_int_equal(seen, 7);
    }
    /* Deleted pipelines drop out; a token naming one still positions the listing. */
    assert_int_equal(ref_job_store_delete_pipeline(store, ref_slice_from_cstr(ids[3])), REF_OK);
    struct ref_pipeline_page page;
    assert_int_equal(ref_job_store_list_pipelines(store, false, ref_slice_from_cstr(ids[3]), &page),
                     REF_OK);
    assert_int_equal(page.count, 3);
    assert_string_equal(page.items[0].id, ids[4]);
    assert_false(page.has_next);
    ref_pipeline_page_cleanup(&page);
    ref_job_store_free(store);
}

static void test_job_store_page_token_must_have_been_issued(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(2, 0, 0);
    seed_pipeline(store, "1000000000001-aaaaaa", REF_PIPELINE_ACTIVE, T0_MS);
    seed_pipeline(store, "1000000000002-aaaaaa", REF_PIPELINE_ACTIVE, T0_MS);
    seed_pipeline(store, "1000000000003-aaaaaa", REF_PIPELINE_ACTIVE, T0_MS);
    struct ref_pipeline_page page;
    /* Well-formed, never issued, no such item. */
    assert_int_equal(ref_job_store_list_pipelines(store, false, S("9999999999999-zzzzzz"), &page),
                     REF_E_VALIDATION);
    assert_null(page.items);
    /* An existing item that was never handed out as a token. */
    assert_int_equal(ref_job_store_list_pipelines(store, false, S("1000000000002-aaaaaa"), &page),
                     REF_E_VALIDATION);
    /* Once issued, it works, in either direction. */
    assert_int_equal(ref_job_store_list_pipelines(store, false, NO_ID, &page), REF_OK);
    assert_string_equal(page.next_token, "1000000000003-aaaaaa");
    ref_pipeline_page_cleanup(&page);
    assert_int_equal(ref_job_store_list_pipelines(store, true, S("1000000000003-aaaaaa"), &page),
                     REF_OK);
    assert_int_equal(page.count, 2);
    assert_string_equal(page.items[0].id, "1000000000003-aaaaaa");
    assert_string_equal(page.items[1].id, "1000000000002-aaaaaa");
    assert_true(page.has_next);
    ref_pipeline_page_cleanup(&page);
    ref_job_store_free(store);
}

static void test_job_store_list_jobs_filters_and_orders(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(2, 0, 0);
    seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
    seed_pipeline(store, PIPE_B, REF_PIPELINE_PAUSED, T0_MS);
    /* A, B, A, A, B (creation order); the third one is canceled. */
    char ids[5][REF_ID_LEN + 1];
    const char *pipes[5] = {PIPE_A, PIPE_B, PIPE_A, PIPE_A, PIPE_B};
    for (int i = 0; i < 5; i++) {
        new_job(store, pipes[i], T0_MS + i, ids[i]);
    }
    assert_int_equal(
        ref_job_store_apply(store, ref_slice_from_cstr(ids[2]), REF_JOB_EV_CANCEL, T0_MS, NULL),
        REF_OK);

    /* By pipeline A, ascending: 0, 2 | 3. */
    struct ref_job_query q = {.pipeline_id = S(PIPE_A)};
    struct ref_job_page page;
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 2);
    assert_string_equal(page.items[0].id, ids[0]);
    assert_string_equal(page.items[1].id, ids[2]);
    assert_string_equal(page.items[1].pipeline_id, PIPE_A);
    assert_int_equal(page.items[1].status, REF_JOB_CANCELED);
    assert_true(page.has_next);
    assert_string_equal(page.next_token, ids[3]);
    ref_job_page_cleanup(&page);
    q.page_token = ref_slice_from_cstr(ids[3]);
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.items[0].id, ids[3]);
    assert_false(page.has_next);
    ref_job_page_cleanup(&page);

    /* By pipeline A, descending: 3, 2 | 0. */
    q = (struct ref_job_query){.pipeline_id = S(PIPE_A), .is_descending = true};
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 2);
    assert_string_equal(page.items[0].id, ids[3]);
    assert_string_equal(page.items[1].id, ids[2]);
    assert_string_equal(page.next_token, ids[0]);
    ref_job_page_cleanup(&page);
    q.page_token = ref_slice_from_cstr(ids[0]);
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.items[0].id, ids[0]);
    assert_false(page.has_next);
    ref_job_page_cleanup(&page);

    /* The token belongs to pipeline A's listing: pipeline B refuses it. */
    q = (struct ref_job_query){.pipeline_id = S(PIPE_B), .page_token = ref_slice_from_cstr(ids[0])};
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_E_VALIDATION);

    /* By status Submitted (either pipeline): 0, 1 | 3, 4 ... */
    q = (struct ref_job_query){.status = REF_JOB_SUBMITTED};
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 2);
    assert_string_equal(page.items[0].id, ids[0]);
    assert_string_equal(page.items[1].id, ids[1]);
    assert_string_equal(page.next_token, ids[3]);
    ref_job_page_cleanup(&page);
    q.page_token = ref_slice_from_cstr(ids[3]);
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 2);
    assert_string_equal(page.items[0].id, ids[3]);
    assert_string_equal(page.items[1].id, ids[4]);
    assert_false(page.has_next);
    ref_job_page_cleanup(&page);

    /* Canceled: just the one. Complete: none. */
    q = (struct ref_job_query){.status = REF_JOB_CANCELED, .is_descending = true};
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.items[0].id, ids[2]);
    ref_job_page_cleanup(&page);
    q = (struct ref_job_query){.status = REF_JOB_COMPLETE};
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 0);
    assert_false(page.has_next);
    ref_job_page_cleanup(&page);

    /* Unknown pipeline: not found (before any token check). */
    q = (struct ref_job_query){.pipeline_id = S("9999999999999-zzzzzz"),
                               .page_token = S("9999999999999-zzzzzz")};
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_E_NOT_FOUND);
    /* Never issued. */
    q = (struct ref_job_query){.status = REF_JOB_SUBMITTED,
                               .page_token = ref_slice_from_cstr(ids[1])};
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_E_VALIDATION);
    ref_job_store_free(store);
}

static void test_job_store_token_survives_status_change(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(1, 0, 0);
    seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
    char a[REF_ID_LEN + 1], b[REF_ID_LEN + 1], c[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, a);
    new_job(store, PIPE_A, T0_MS + 1, b);
    new_job(store, PIPE_A, T0_MS + 2, c);
    struct ref_job_query q = {.status = REF_JOB_SUBMITTED};
    struct ref_job_page page;
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_string_equal(page.next_token, b);
    ref_job_page_cleanup(&page);
    /* b is canceled between the pages: the token still positions, b is skipped. */
    assert_int_equal(
        ref_job_store_apply(store, ref_slice_from_cstr(b), REF_JOB_EV_CANCEL, T0_MS, NULL), REF_OK);
    q.page_token = ref_slice_from_cstr(b);
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.items[0].id, c);
    assert_false(page.has_next);
    ref_job_page_cleanup(&page);
    ref_job_store_free(store);
}

static void test_job_store_default_page_size(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store();
    seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
    char id[REF_ID_LEN + 1];
    for (int i = 0; i < REF_DEFAULT_PAGE_SIZE + 1; i++) {
        new_job(store, PIPE_A, T0_MS + i, id);
    }
    struct ref_job_query q = {.pipeline_id = S(PIPE_A)};
    struct ref_job_page page;
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, REF_DEFAULT_PAGE_SIZE);
    assert_true(page.has_next);
    assert_string_equal(page.next_token, id);
    ref_job_page_cleanup(&page);
    ref_job_store_free(store);
}

/* --- Limits ------------------------------------------------------------------------- */

static void test_job_store_pipeline_limit_at_and_over(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(0, 3, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, NULL),
            REF_OK);
    }
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, NULL),
        REF_E_LIMIT_EXCEEDED);
    /* Deleting one makes room again. */
    struct ref_pipeline_page page;
    assert_int_equal(ref_job_store_list_pipelines(store, false, NO_ID, &page), REF_OK);
    assert_int_equal(page.count, 3);
    assert_int_equal(ref_job_store_delete_pipeline(store, ref_slice_from_cstr(page.items[1].id)),
                     REF_OK);
    ref_pipeline_page_cleanup(&page);
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, NULL),
        REF_OK);
    struct ref_job_store_stats st;
    ref_job_store_stats(store, &st);
    assert_int_equal(st.pipelines, 3);
    ref_job_store_free(store);
}

static void test_job_store_queued_job_limit_at_and_over(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(0, 0, 2);
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    char a[REF_ID_LEN + 1], b[REF_ID_LEN + 1], c[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, a);
    new_job(store, PIPE_A, T0_MS, b);
    json_t *spec = job_spec();
    assert_int_equal(
        ref_job_store_create_job(store, T0_MS, NO_ID, S(PIPE_A), REF_JOB_SUBMITTED, spec, NULL),
        REF_E_LIMIT_EXCEEDED);
    /* Progressing still counts as queued. */
    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS), 2);
    assert_int_equal(
        ref_job_store_create_job(store, T0_MS, NO_ID, S(PIPE_A), REF_JOB_SUBMITTED, spec, NULL),
        REF_E_LIMIT_EXCEEDED);
    json_decref(spec);
    /* Finished jobs make room. */
    assert_int_equal(ref_job_store_advance(store, T0_MS + DELAY_MS + RUN_MS), 2);
    new_job(store, PIPE_A, T0_MS + 10000, c);
    struct ref_job_store_stats st;
    ref_job_store_stats(store, &st);
    assert_int_equal(st.queued_jobs, 1);
    assert_int_equal(st.jobs, 3);
    assert_int_equal(st.by_status[REF_JOB_COMPLETE], 2);
    ref_job_store_free(store);
}

/* The default is the service's quota of 4 pipelines (contract section 2b). */
static void test_job_store_default_pipeline_limit_is_four(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(0, 0, 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(
            ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, NULL),
            REF_OK);
    }
    assert_int_equal(
        ref_job_store_create_pipeline(store, T0_MS, NO_ID, REF_PIPELINE_ACTIVE, NULL, NULL),
        REF_E_LIMIT_EXCEEDED);
    ref_job_store_free(store);
}

/* The queued-jobs quota is per pipeline (contract section 2b): a full pipeline refuses, the
 * next one still takes jobs up to its own limit. */
static void test_job_store_queued_job_limit_is_per_pipeline(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(0, 0, 2);
    seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
    seed_pipeline(store, PIPE_B, REF_PIPELINE_PAUSED, T0_MS);
    char id[REF_ID_LEN + 1];
    new_job(store, PIPE_A, T0_MS, id);
    new_job(store, PIPE_A, T0_MS, id);
    json_t *spec = job_spec();
    assert_int_equal(
        ref_job_store_create_job(store, T0_MS, NO_ID, S(PIPE_A), REF_JOB_SUBMITTED, spec, NULL),
        REF_E_LIMIT_EXCEEDED);
    new_job(store, PIPE_B, T0_MS, id);
    new_job(store, PIPE_B, T0_MS, id);
    assert_int_equal(
        ref_job_store_create_job(store, T0_MS, NO_ID, S(PIPE_B), REF_JOB_SUBMITTED, spec, NULL),
        REF_E_LIMIT_EXCEEDED);
    json_decref(spec);
    struct ref_job_store_stats st;
    ref_job_store_stats(store, &st);
    assert_int_equal(st.queued_jobs, 4);
    ref_job_store_free(store);
}

/* --- Allocation failures ------------------------------------------------------------ */

static void test_job_store_allocation_failures_leave_store_unchanged(void **state)
{
    (void)state;
    for (int fail_at = 0;; fail_at++) {
        s_fail_after = -1;
        failing_hooks_install();
        struct ref_job_store *store = new_store_with(2, 0, 0);
        seed_pipeline(store, PIPE_A, REF_PIPELINE_PAUSED, T0_MS);
        json_t *spec = job_spec();
        s_fail_after = fail_at;
        enum ref_status rc = REF_OK;
        for (int i = 0; i < 20 && rc == REF_OK; i++) {
            rc = ref_job_store_create_job(store, T0_MS, NO_ID, S(PIPE_A), REF_JOB_SUBMITTED, spec,
                                          NULL);
        }
        struct ref_job_page page = {0};
        if (rc == REF_OK) {
            struct ref_job_query q = {.pipeline_id = S(PIPE_A)};
            rc = ref_job_store_list_jobs(store, &q, &page);
        }
        s_fail_after = -1;
        struct ref_job_store_stats st;
        ref_job_store_stats(store, &st);
        assert_int_equal(st.jobs, st.by_status[REF_JOB_SUBMITTED]);
        assert_int_equal(st.queued_jobs, st.jobs);
        if (rc == REF_OK) {
            assert_int_equal(st.jobs, 20);
            assert_int_equal(page.count, 2);
        } else {
            assert_int_equal(rc, REF_E_NOMEM);
            assert_null(page.items);
        }
        ref_job_page_cleanup(&page);
        json_decref(spec);
        ref_job_store_free(store);
        if (rc == REF_OK) {
            break;
        }
        assert_true(fail_at < 1000);
    }
    (void)setup_hooks(NULL);
}

/* --- Shared specs and copies -------------------------------------------------------- */

/* Allocations the calls between count_start and count_end made (through both allocators). */
#define COUNT_BUDGET 1000000

static void count_start(void)
{
    failing_hooks_install();
    s_fail_after = COUNT_BUDGET;
}

static int count_end(void)
{
    int used = COUNT_BUDGET - s_fail_after;
    s_fail_after = -1;
    (void)setup_hooks(NULL);
    return used;
}

static void test_job_store_snapshots_share_the_stored_spec(void **state)
{
    (void)state;
    struct ref_job_store *store = new_store_with(2, 0, 0);
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    json_t *spec = job_spec();
    struct ref_job_info created;
    assert_int_equal(ref_job_store_create_job(store, T0_MS, S(JOB_A), S(PIPE_A), REF_JOB_SUBMITTED,
                                              spec, &created),
                     REF_OK);
    /* The store took a copy of its own: the caller's spec stays the caller's. */
    assert_ptr_not_equal(created.spec, spec);
    assert_true(json_equal(created.spec, spec));
    json_decref(spec);

    /* Every snapshot refers to that copy, and taking one allocates nothing. */
    struct ref_job_info a;
    struct ref_job_info b;
    struct ref_pipeline_info p;
    count_start();
    read_job(store, JOB_A, &a);
    read_job(store, JOB_A, &b);
    assert_int_equal(ref_job_store_read_pipeline(store, S(PIPE_A), &p), REF_OK);
    assert_int_equal(count_end(), 0);
    assert_ptr_equal(a.spec, created.spec);
    assert_ptr_equal(b.spec, created.spec);
    struct ref_job_page page;
    struct ref_job_query q = {.pipeline_id = S(PIPE_A)};
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_int_equal(page.count, 1);
    assert_ptr_equal(page.items[0].spec, created.spec);

    /* Each holds a reference of its own: the spec outlives the store while one is held. */
    ref_job_info_cleanup(&created);
    ref_job_info_cleanup(&a);
    ref_job_page_cleanup(&page);
    ref_job_store_free(store);
    assert_string_equal(json_string_value(json_object_get(json_object_get(b.spec, "Input"), "Key")),
                        "in.mp4");
    assert_string_equal(json_string_value(json_object_get(p.spec, "Name")), "p");
    ref_job_info_cleanup(&b);
    ref_pipeline_info_cleanup(&p);
}

#define JOB_SUBMITTED_A "3000000000001-submit"
#define JOB_PAUSED_B    "3000000000002-paused"
#define JOB_PROGRESSING "3000000000003-progrs"
#define JOB_COMPLETE    "3000000000004-complt"
#define JOB_CANCELED    "3000000000005-cancld"
#define JOB_ERROR       "3000000000006-errorj"
#define PIPE_DELETED    "1111111111113-delete"

static const char *const s_copy_jobs[] = {JOB_SUBMITTED_A, JOB_PAUSED_B, JOB_PROGRESSING,
                                          JOB_COMPLETE,    JOB_CANCELED, JOB_ERROR};
#define NUM_COPY_JOBS (sizeof(s_copy_jobs) / sizeof(s_copy_jobs[0]))

static void seed_job(struct ref_job_store *store,
                     const char *id,
                     const char *pipeline,
                     enum ref_job_status status)
{
    json_t *spec = job_spec();
    assert_int_equal(ref_job_store_create_job(store, T0_MS, ref_slice_from_cstr(id),
                                              ref_slice_from_cstr(pipeline), status, spec, NULL),
                     REF_OK);
    json_decref(spec);
}

/* Pipelines Active and Paused and one deleted; a job in every status; a page token issued
 * (pages of 2). */
static struct ref_job_store *seeded_store(void)
{
    struct ref_job_store *store = new_store_with(2, 0, 0);
    seed_pipeline(store, PIPE_A, REF_PIPELINE_ACTIVE, T0_MS);
    seed_pipeline(store, PIPE_B, REF_PIPELINE_PAUSED, T0_MS);
    seed_pipeline(store, PIPE_DELETED, REF_PIPELINE_ACTIVE, T0_MS);
    assert_int_equal(ref_job_store_delete_pipeline(store, S(PIPE_DELETED)), REF_OK);
    seed_job(store, JOB_SUBMITTED_A, PIPE_A, REF_JOB_SUBMITTED);
    seed_job(store, JOB_PAUSED_B, PIPE_B, REF_JOB_SUBMITTED);
    seed_job(store, JOB_PROGRESSING, PIPE_A, REF_JOB_PROGRESSING);
    seed_job(store, JOB_COMPLETE, PIPE_A, REF_JOB_COMPLETE);
    seed_job(store, JOB_CANCELED, PIPE_A, REF_JOB_CANCELED);
    seed_job(store, JOB_ERROR, PIPE_B, REF_JOB_ERROR);
    struct ref_job_page page;
    struct ref_job_query q = {.pipeline_id = S(PIPE_A)};
    assert_int_equal(ref_job_store_list_jobs(store, &q, &page), REF_OK);
    assert_string_equal(page.next_token, JOB_COMPLETE);
    ref_job_page_cleanup(&page);
    return store;
}

static void assert_same_stats(struct ref_job_store *a, struct ref_job_store *b)
{
    struct ref_job_store_stats sa;
    struct ref_job_store_stats sb;
    ref_job_store_stats(a, &sa);
    ref_job_store_stats(b, &sb);
    assert_memory_equal(&sa, &sb, sizeof sa);
}

static void assert_same_jobs(struct ref_job_store *a, struct ref_job_store *b)
{
    assert_same_stats(a, b);
    for (size_t i = 0; i < NUM_COPY_JOBS; i++) {
        struct ref_job_info x;
        struct ref_job_info y;
        read_job(a, s_copy_jobs[i], &x);
        read_job(b, s_copy_jobs[i], &y);
        assert_string_equal(x.pipeline_id, y.pipeline_id);
        assert_int_equal(x.status, y.status);
        assert_true(x.submit_ms == y.submit_ms && x.has_start == y.has_start &&
                    x.start_ms == y.start_ms && x.has_finish == y.has_finish &&
                    x.finish_ms == y.finish_ms && x.has_next_event == y.has_next_event &&
                    x.next_event_ms == y.next_event_ms);
        assert_true(json_equal(x.spec, y.spec));
        ref_job_info_cleanup(&x);
        ref_job_info_cleanup(&y);
    }
    int64_t next_a = 0;
    int64_t next_b = 0;
    assert_int_equal(ref_job_store_next_event_ms(a, &next_a),
                     ref_job_store_next_event_ms(b, &next_b));
    assert_true(next_a == next_b);
}

static void test_job_store_copy_answers_as_the_original(void **state)
{
    (void)state;
    struct ref_job_store *src = seeded_store();
    /* dst holds something else first, which the copy releases (cmocka sees any leak). */
    struct ref_job_store *dst = new_store_with(2, 0, 0);
    seed_pipeline(dst, "1999999999999-other1", REF_PIPELINE_ACTIVE, T0_MS);
    char other[REF_ID_LEN + 1];
    new_job(dst, "1999999999999-other1", T0_MS, other);

    assert_int_equal(ref_job_store_copy(dst, src), REF_OK);
    assert_same_jobs(src, dst);
    struct ref_pipeline_info info;
    assert_int_equal(ref_job_store_read_pipeline(dst, S("1999999999999-other1"), &info),
                     REF_E_NOT_FOUND);
    assert_int_equal(ref_job_store_read_pipeline(dst, S(PIPE_DELETED), &info), REF_E_NOT_FOUND);
    assert_int_equal(ref_job_store_read_pipeline(dst, S(PIPE_B), &info), REF_OK);
    assert_int_equal(info.status, REF_PIPELINE_PAUSED);
    ref_pipeline_info_cleanup(&info);
    /* The deleted pipeline's Id stays taken, and the token src issued is honoured. */
    json_t *spec = job_spec();
    assert_int_equal(ref_job_store_create_job(dst, T0_MS, S(PIPE_DELETED), S(PIPE_A),
                                              REF_JOB_SUBMITTED, spec, NULL),
                     REF_E_IN_USE);
    json_decref(spec);
    struct ref_job_page page;
    struct ref_job_query q = {.pipeline_id = S(PIPE_A), .page_token = S(JOB_COMPLETE)};
    assert_int_equal(ref_job_store_list_jobs(dst, &q, &page), REF_OK);
    assert_int_equal(page.count, 2);
    assert_string_equal(page.items[0].id, JOB_COMPLETE);
    ref_job_page_cleanup(&page);
    q.page_token = S(JOB_CANCELED);
    assert_int_equal(ref_job_store_list_jobs(dst, &q, &page), REF_E_VALIDATION);

    /* The schedule came along: both move the same jobs at the same times. */
    int64_t t = T0_MS + DELAY_MS + RUN_MS;
    assert_int_equal(ref_job_store_advance(dst, t), ref_job_store_advance(src, t));
    assert_same_jobs(src, dst);
    assert_int_equal(status_of(dst, JOB_SUBMITTED_A), REF_JOB_COMPLETE);
    /* A resume of the copied paused pipeline schedules its job on dst alone. */
    assert_int_equal(
        ref_job_store_set_pipeline_status(dst, S(PIPE_B), REF_PIPELINE_ACTIVE, t, NULL), REF_OK);
    assert_int_equal(ref_job_store_advance(dst, t + DELAY_MS), 1);
    assert_int_equal(ref_job_store_advance(src, t + DELAY_MS), 0);
    assert_int_equal(status_of(dst, JOB_PAUSED_B), REF_JOB_PROGRESSING);
    assert_int_equal(status_of(src, JOB_PAUSED_B), REF_JOB_SUBMITTED);

    /* Copied again, it is src once more; a store copied onto itself is unchanged. */
    assert_int_equal(ref_job_store_copy(dst, src), REF_OK);
    assert_same_jobs(src, dst);
    assert_int_equal(ref_job_store_copy(dst, dst), REF_OK);
    assert_same_jobs(src, dst);
    /* A copy that has reached src's size allocates nothing. */
    count_start();
    assert_int_equal(ref_job_store_copy(dst, src), REF_OK);
    assert_int_equal(count_end(), 0);

    /* The shared specs outlive src. */
    ref_job_store_free(src);
    struct ref_job_info job;
    read_job(dst, JOB_ERROR, &job);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(job.spec, "Input"), "Key")), "in.mp4");
    ref_job_info_cleanup(&job);

    /* An empty store copied onto it leaves it empty. */
    struct ref_job_store *empty = new_store_with(2, 0, 0);
    assert_int_equal(ref_job_store_copy(dst, empty), REF_OK);
    assert_same_stats(dst, empty);
    assert_int_equal(ref_job_store_job_status(dst, S(JOB_ERROR), &(enum ref_job_status){0}),
                     REF_E_NOT_FOUND);
    assert_false(ref_job_store_next_event_ms(dst, &t));
    ref_job_store_free(empty);
    ref_job_store_free(dst);
}

static void test_job_store_copy_allocation_failures_leave_dst_unchanged(void **state)
{
    (void)state;
    struct ref_job_store *src = seeded_store();
    for (int fail_at = 0;; fail_at++) {
        struct ref_job_store *dst = new_store_with(2, 0, 0);
        seed_pipeline(dst, "1999999999999-other1", REF_PIPELINE_ACTIVE, T0_MS);
        failing_hooks_install();
        s_fail_after = fail_at;
        enum ref_status rc = ref_job_store_copy(dst, src);
        s_fail_after = -1;
        (void)setup_hooks(NULL);
        struct ref_pipeline_info info;
        if (rc == REF_OK) {
            assert_same_jobs(src, dst);
            assert_true(fail_at > 0); /* a fresh store had to grow */
            ref_job_store_free(dst);
            break;
        }
        assert_int_equal(rc, REF_E_NOMEM);
        struct ref_job_store_stats st;
        ref_job_store_stats(dst, &st);
        assert_int_equal(st.pipelines, 1);
        assert_int_equal(st.jobs, 0);
        assert_int_equal(ref_job_store_read_pipeline(dst, S("1999999999999-other1"), &info),
                         REF_OK);
        ref_pipeline_info_cleanup(&info);
        assert_int_equal(ref_job_store_read_pipeline(dst, S(PIPE_A), &info), REF_E_NOT_FOUND);
        ref_job_store_free(dst);
        assert_true(fail_at < 100);
    }
    ref_job_store_free(src);
}

/* Every character of an Id reaches the low bits of its hash, which pick the slot: Ids that
 * differ in one character only (a counter in the last ones, as the bench's and many seeded
 * Ids do) must spread over the slots. The hash once ignored the last two characters there,
 * so 36 such Ids shared one probe chain and CancelJob took three times as long. */
static void test_job_store_id_hash_uses_every_character(void **state)
{
    (void)state;
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    enum { SLOT_BITS = 10 };
    for (size_t pos = 0; pos < REF_ID_LEN; pos++) {
        if (pos == 13) {
            continue; /* the dash */
        }
        bool seen[1u << SLOT_BITS] = {false};
        size_t distinct = 0;
        for (size_t d = 0; d < 36; d++) {
            char id[REF_ID_LEN + 1] = "1795869900000-abc123";
            id[pos] = pos < 13 ? digits[d % 10] : digits[d];
            size_t slot = (size_t)(ref_job_store_id_hash(ref_slice_make(id, REF_ID_LEN)) &
                                   ((1u << SLOT_BITS) - 1));
            distinct += seen[slot] ? 0 : 1;
            seen[slot] = true;
        }
        /* 36 Ids (10 for a digit) in 1,024 slots: a good hash gives almost as many slots. */
        size_t want = pos < 13 ? 8 : 30;
        if (distinct < want) {
            fail_msg("Ids differing at position %zu fill %zu slots, want at least %zu", pos,
                     distinct, want);
        }
    }
}

/* The Id indexes grow before they are half full, so the probe for an Id that is not there
 * always reaches an empty slot. An unknown Id is looked up after every insertion, through
 * several growths of both indexes: an index let to fill up before growing would send that
 * probe round forever with the store locked. The alarm turns such a hang into a failure. */
static void test_job_store_unknown_id_at_every_index_size(void **state)
{
    (void)state;
    enum { PIPES = 300, JOBS = 1100 };
    unsigned left = alarm(30);
    struct ref_job_store *store = new_store_with(0, PIPES, JOBS);
    struct ref_pipeline_info pinfo;
    for (int i = 0; i < PIPES; i++) {
        char pid[REF_ID_LEN + 1];
        snprintf(pid, sizeof(pid), "%013d-pipe00", 5000 + i);
        seed_pipeline(store, pid, REF_PIPELINE_PAUSED, T0_MS);
        assert_int_equal(ref_job_store_read_pipeline(store, S("9999999999999-nopipe"), &pinfo),
                         REF_E_NOT_FOUND);
    }
    char pid0[REF_ID_LEN + 1];
    snprintf(pid0, sizeof(pid0), "%013d-pipe00", 5000);
    for (int i = 0; i < JOBS; i++) {
        char id[REF_ID_LEN + 1];
        new_job(store, pid0, T0_MS, id);
        enum ref_job_status st;
        assert_int_equal(ref_job_store_job_status(store, S("9999999999999-nojob0"), &st),
                         REF_E_NOT_FOUND);
    }
    ref_job_store_free(store);
    alarm(left);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_store_table_every_status_and_event),
        cmocka_unit_test(test_job_store_apply_unknown_job_is_not_found),
        cmocka_unit_test(test_job_store_names_round_trip),
        cmocka_unit_test(test_job_store_scheduler_start_and_finish_times),
        cmocka_unit_test(test_job_store_scheduler_one_big_step_applies_both),
        cmocka_unit_test(test_job_store_start_counts_from_last_activation),
        cmocka_unit_test(test_job_store_paused_pipeline_starts_nothing),
        cmocka_unit_test(test_job_store_redundant_active_keeps_active_since),
        cmocka_unit_test(test_job_store_pause_holds_submitted_not_progressing),
        cmocka_unit_test(test_job_store_canceled_job_never_starts),
        cmocka_unit_test(test_job_store_snapshot_reports_next_event),
        cmocka_unit_test(test_job_store_pause_and_resume_move_only_that_pipelines_starts),
        cmocka_unit_test(test_job_store_many_jobs_due_at_once),
        cmocka_unit_test(test_job_store_ended_job_leaves_no_event),
        cmocka_unit_test(test_job_store_start_and_finish_in_one_advance),
        cmocka_unit_test(test_job_store_seeded_statuses_are_consistent),
        cmocka_unit_test(test_job_store_pipeline_lifecycle),
        cmocka_unit_test(test_job_store_delete_pipeline_with_progressing_job),
        cmocka_unit_test(test_job_store_rejects_bad_pipeline_arguments),
        cmocka_unit_test(test_job_store_id_shape),
        cmocka_unit_test(test_job_store_generated_ids_shape_and_unique),
        cmocka_unit_test(test_job_store_id_rejection_sampling_and_collision_retry),
        cmocka_unit_test(test_job_store_id_time_part_is_creation_ms),
        cmocka_unit_test(test_job_store_list_pipelines_both_orders),
        cmocka_unit_test(test_job_store_page_token_must_have_been_issued),
        cmocka_unit_test(test_job_store_list_jobs_filters_and_orders),
        cmocka_unit_test(test_job_store_token_survives_status_change),
        cmocka_unit_test(test_job_store_default_page_size),
        cmocka_unit_test(test_job_store_pipeline_limit_at_and_over),
        cmocka_unit_test(test_job_store_queued_job_limit_at_and_over),
        cmocka_unit_test(test_job_store_default_pipeline_limit_is_four),
        cmocka_unit_test(test_job_store_queued_job_limit_is_per_pipeline),
        cmocka_unit_test(test_job_store_unknown_id_at_every_index_size),
        cmocka_unit_test(test_job_store_id_hash_uses_every_character),
        cmocka_unit_test(test_job_store_allocation_failures_leave_store_unchanged),
        cmocka_unit_test(test_job_store_snapshots_share_the_stored_spec),
        cmocka_unit_test(test_job_store_copy_answers_as_the_original),
        cmocka_unit_test(test_job_store_copy_allocation_failures_leave_dst_unchanged),
    };
    return cmocka_run_group_tests(tests, setup_hooks, teardown_hooks);
}
