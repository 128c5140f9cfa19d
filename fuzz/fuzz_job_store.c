/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_job_store.c - the job store as a stream of operations, against a shadow model.
 *
 * Target functions: ref_job_store_new/free, _create_pipeline, _read_pipeline,
 * _set_pipeline_status, _delete_pipeline, _list_pipelines, _create_job, _read_job,
 * _job_status, _apply, _list_jobs, _advance, _next_event_ms, _stats, ref_job_next_status,
 * ref_job_id_is_valid and the status-name functions.
 *
 * Input: a sequence of operations, one opcode byte each followed by its argument bytes
 * (missing bytes read as zero): create pipeline, create job (any seeded status, given or
 * generated Id), apply an event, advance the clock, pause/resume, delete a pipeline, list
 * jobs or pipelines through every page, use a page token never issued, read, and make the
 * random source fail once. The store runs with a start delay of 1 s, a run time of 3 s,
 * pages of 3, at most 4 pipelines and 8 queued jobs, so every limit is reachable.
 *
 * The shadow model follows job_store.h and contract section 3 written out independently:
 * the lifecycle table (Submitted -CANCEL-> Canceled, Submitted -START-> Progressing,
 * Progressing -FINISH-> Complete, Progressing -FAIL-> Error, nothing else), starts due at
 * start delay after the later of submission and the pipeline's last switch to Active (only
 * on Active pipelines), finishes due at run time after the start.
 *
 * Invariants, after every operation (abort() on violation):
 * - every status code is one the header allows for that call, for the reason it gives
 *   (an Id in use, a missing pipeline, a full store, a bad Id or status, a failed random
 *   source); an operation that fails changes nothing;
 * - ref_job_next_status is the table above; ref_job_store_apply succeeds exactly when the
 *   table allows the event from the current status and reports that change; so a job
 *   leaves a terminal status never, and a cancel succeeds only from Submitted;
 * - the scheduler applies exactly the starts and finishes the model says are due, with
 *   the scheduled times, and returns their number; next_event_ms is the model's earliest;
 * - every job has the model's status, pipeline, submit time and Timing members (start once
 *   started, finish once Complete or Error, a canceled job only its submit time);
 * - counts add up: stats equal the model's pipelines, jobs, queued jobs and per-status
 *   counts, the per-status counts sum to the jobs, and the queue never passes its cap;
 * - generated Ids have the contract's shape, start with the creation time and are unique;
 * - listing walks every page (at most the page size each) and returns exactly the model's
 *   items for that filter, in creation order or reversed; a token never issued (or an Id
 *   never handed out as one) is REF_E_VALIDATION; a deleted pipeline cannot be listed by.
 */
#include "common.h"

#include "ref/job_store.h"

#include <jansson.h>

#include <stdio.h>
#include <string.h>

#define START_DELAY_MS  INT64_C(1000)
#define RUN_TIME_MS     INT64_C(3000)
#define PAGE_SIZE       3
#define MAX_PIPELINES   4
#define MAX_QUEUED      8
#define MAX_SHADOW      64 /* objects of each kind the model tracks; creates stop there */
#define MAX_OPS         256
#define NEVER_ISSUED_ID "9999999999999-zzzzzz"

struct reader {
    const uint8_t *p;
    size_t left;
};

static uint8_t next_byte(struct reader *r)
{
    if (r->left == 0) {
        return 0;
    }
    r->left--;
    return *r->p++;
}

struct shadow_pipeline {
    char id[REF_ID_LEN + 1];
    bool is_deleted;
    enum ref_pipeline_status status;
    int64_t active_since_ms;
};

struct shadow_job {
    char id[REF_ID_LEN + 1];
    size_t pipeline;
    enum ref_job_status status;
    int64_t submit_ms;
    bool has_start;
    int64_t start_ms;
    bool has_finish;
    int64_t finish_ms;
};

struct model {
    struct ref_job_store *store;
    struct fuzz_rng rng;
    bool fail_random_once;
    int64_t now_ms;
    struct shadow_pipeline pipelines[MAX_SHADOW];
    size_t num_pipelines;
    struct shadow_job jobs[MAX_SHADOW];
    size_t num_jobs;
    /* Ids handed out as NextPageToken: pipelines, then jobs. */
    bool pipeline_token_issued[MAX_SHADOW];
    bool job_token_issued[MAX_SHADOW];
    json_t *job_spec;
    json_t *pipeline_spec;
};

static struct model s_m;

static enum ref_status store_random(void *ctx, uint8_t *out, size_t n)
{
    struct model *m = ctx;
    if (m->fail_random_once) {
        m->fail_random_once = false;
        return REF_E_INTERNAL;
    }
    fuzz_random_bytes(&m->rng, out, n);
    return REF_OK;
}

static struct ref_slice cstr(const char *s)
{
    return ref_slice_from_cstr(s);
}

/* --- The model's rules -------------------------------------------------------------- */

static enum ref_job_status table(enum ref_job_status from, enum ref_job_event ev)
{
    if (from == REF_JOB_SUBMITTED && ev == REF_JOB_EV_CANCEL) {
        return REF_JOB_CANCELED;
    }
    if (from == REF_JOB_SUBMITTED && ev == REF_JOB_EV_START) {
        return REF_JOB_PROGRESSING;
    }
    if (from == REF_JOB_PROGRESSING && ev == REF_JOB_EV_FINISH) {
        return REF_JOB_COMPLETE;
    }
    if (from == REF_JOB_PROGRESSING && ev == REF_JOB_EV_FAIL) {
        return REF_JOB_ERROR;
    }
    return REF_JOB_STATUS_NONE;
}

static bool is_queued(enum ref_job_status s)
{
    return s == REF_JOB_SUBMITTED || s == REF_JOB_PROGRESSING;
}

static void model_apply(struct shadow_job *j, enum ref_job_event ev, int64_t at_ms)
{
    enum ref_job_status to = table(j->status, ev);
    FUZZ_CHECK(to != REF_JOB_STATUS_NONE);
    if (ev == REF_JOB_EV_START) {
        j->has_start = true;
        j->start_ms = at_ms;
    } else if (ev == REF_JOB_EV_FINISH || ev == REF_JOB_EV_FAIL) {
        j->has_finish = true;
        j->finish_ms = at_ms;
    }
    j->status = to;
}

/* When the scheduler starts or finishes j next; false when it never will on its own. */
static bool due_at(const struct model *m, const struct shadow_job *j, int64_t *at_ms)
{
    if (j->status == REF_JOB_SUBMITTED) {
        const struct shadow_pipeline *p = &m->pipelines[j->pipeline];
        if (p->status != REF_PIPELINE_ACTIVE) {
            return false;
        }
        int64_t from = j->submit_ms > p->active_since_ms ? j->submit_ms : p->active_since_ms;
        *at_ms = from + START_DELAY_MS;
        return true;
    }
    if (j->status == REF_JOB_PROGRESSING) {
        *at_ms = j->start_ms + RUN_TIME_MS;
        return true;
    }
    return false;
}

/* Applies everything due at or before now; returns how many events. */
static size_t model_advance(struct model *m, int64_t now)
{
    size_t events = 0;
    for (size_t i = 0; i < m->num_jobs; i++) {
        struct shadow_job *j = &m->jobs[i];
        int64_t at;
        while (due_at(m, j, &at) && at <= now) {
            model_apply(j, j->status == REF_JOB_SUBMITTED ? REF_JOB_EV_START : REF_JOB_EV_FINISH,
                        at);
            events++;
        }
    }
    return events;
}

static size_t live_pipelines(const struct model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->num_pipelines; i++) {
        n += m->pipelines[i].is_deleted ? 0 : 1;
    }
    return n;
}

static size_t queued_jobs(const struct model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->num_jobs; i++) {
        n += is_queued(m->jobs[i].status) ? 1 : 0;
    }
    return n;
}

/* The queued-jobs limit is per pipeline (contract section 2b). */
static size_t queued_jobs_of(const struct model *m, size_t pipeline)
{
    size_t n = 0;
    for (size_t i = 0; i < m->num_jobs; i++) {
        n += m->jobs[i].pipeline == pipeline && is_queued(m->jobs[i].status) ? 1 : 0;
    }
    return n;
}

static int find_pipeline(const struct model *m, const char *id)
{
    for (size_t i = 0; i < m->num_pipelines; i++) {
        if (strcmp(m->pipelines[i].id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int find_job(const struct model *m, const char *id)
{
    for (size_t i = 0; i < m->num_jobs; i++) {
        if (strcmp(m->jobs[i].id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* --- Whole-store checks --------------------------------------------------------------- */

static void check_job_info(const struct ref_job_info *info, const struct shadow_job *j)
{
    FUZZ_CHECK(strcmp(info->id, j->id) == 0);
    FUZZ_CHECK(strcmp(info->pipeline_id, s_m.pipelines[j->pipeline].id) == 0);
    FUZZ_CHECK(info->status == j->status);
    FUZZ_CHECK(info->submit_ms == j->submit_ms);
    FUZZ_CHECK(info->has_start == j->has_start);
    FUZZ_CHECK(info->has_finish == j->has_finish);
    if (j->has_start) {
        FUZZ_CHECK(info->start_ms == j->start_ms);
        FUZZ_CHECK(info->start_ms >= info->submit_ms);
    }
    if (j->has_finish) {
        FUZZ_CHECK(info->finish_ms == j->finish_ms);
        FUZZ_CHECK(info->has_start && info->finish_ms >= info->start_ms);
    }
    /* Timing follows the status (contract section 8). */
    FUZZ_CHECK(info->has_start == (j->status == REF_JOB_PROGRESSING ||
                                   j->status == REF_JOB_COMPLETE || j->status == REF_JOB_ERROR));
    FUZZ_CHECK(info->has_finish == (j->status == REF_JOB_COMPLETE || j->status == REF_JOB_ERROR));
    FUZZ_CHECK(json_is_object(info->spec));
    FUZZ_CHECK(json_is_array(json_object_get(info->spec, "Outputs")));
}

static void check_store(struct model *m)
{
    struct ref_job_store_stats st;
    ref_job_store_stats(m->store, &st);
    FUZZ_CHECK(st.pipelines == live_pipelines(m));
    FUZZ_CHECK(st.jobs == m->num_jobs);
    FUZZ_CHECK(st.queued_jobs == queued_jobs(m));
    /* A pipeline is deleted only once its queue is empty. */
    FUZZ_CHECK(st.queued_jobs <= MAX_QUEUED * MAX_PIPELINES);
    FUZZ_CHECK(st.pipelines <= MAX_PIPELINES);
    FUZZ_CHECK(st.by_status[REF_JOB_STATUS_NONE] == 0);
    size_t sum = 0;
    for (int s = 0; s < REF_JOB_STATUS_COUNT; s++) {
        size_t want = 0;
        for (size_t i = 0; i < m->num_jobs; i++) {
            want += m->jobs[i].status == (enum ref_job_status)s ? 1 : 0;
        }
        FUZZ_CHECK(st.by_status[s] == want);
        sum += st.by_status[s];
    }
    FUZZ_CHECK(sum == st.jobs);
    FUZZ_CHECK(st.queued_jobs ==
               st.by_status[REF_JOB_SUBMITTED] + st.by_status[REF_JOB_PROGRESSING]);

    for (size_t i = 0; i < m->num_jobs; i++) {
        enum ref_job_status s = REF_JOB_STATUS_NONE;
        FUZZ_CHECK(ref_job_store_job_status(m->store, cstr(m->jobs[i].id), &s) == REF_OK);
        FUZZ_CHECK(s == m->jobs[i].status);
    }
    for (size_t i = 0; i < m->num_pipelines; i++) {
        struct ref_pipeline_info info;
        enum ref_status rc = ref_job_store_read_pipeline(m->store, cstr(m->pipelines[i].id), &info);
        if (m->pipelines[i].is_deleted) {
            FUZZ_CHECK(rc == REF_E_NOT_FOUND);
            continue;
        }
        FUZZ_CHECK(rc == REF_OK);
        FUZZ_CHECK(info.status == m->pipelines[i].status);
        FUZZ_CHECK(info.active_since_ms == m->pipelines[i].active_since_ms);
        ref_pipeline_info_cleanup(&info);
    }

    int64_t want_next = 0;
    bool has_want = false;
    for (size_t i = 0; i < m->num_jobs; i++) {
        int64_t at;
        if (due_at(m, &m->jobs[i], &at) && (!has_want || at < want_next)) {
            want_next = at;
            has_want = true;
        }
    }
    int64_t next = 0;
    bool has_next = ref_job_store_next_event_ms(m->store, &next);
    FUZZ_CHECK(has_next == has_want);
    if (has_next) {
        FUZZ_CHECK(next == want_next);
    }
}

/* --- Operations --------------------------------------------------------------------- */

static void pool_id(char out[REF_ID_LEN + 1], char kind, uint8_t n)
{
    snprintf(out, REF_ID_LEN + 1, "%c000000000000-pool%02u", kind, (unsigned)(n % 8));
}

static void check_generated_id(const char *id, int64_t now)
{
    char prefix[16];
    snprintf(prefix, sizeof(prefix), "%013lld-", (long long)now);
    FUZZ_CHECK(ref_job_id_is_valid(cstr(id)));
    FUZZ_CHECK(fuzz_is_contract_id(cstr(id)));
    FUZZ_CHECK(strncmp(id, prefix, 14) == 0);
    for (size_t i = 14; i < REF_ID_LEN; i++) {
        FUZZ_CHECK((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9'));
    }
}

static void op_create_pipeline(struct model *m, struct reader *r)
{
    uint8_t a = next_byte(r);
    enum ref_pipeline_status status = (a & 1) ? REF_PIPELINE_PAUSED : REF_PIPELINE_ACTIVE;
    if ((a & 0x30) == 0x30) {
        status = REF_PIPELINE_STATUS_NONE;
    }
    char given[REF_ID_LEN + 1] = "";
    bool is_bad_id = false;
    if (a & 2) {
        pool_id(given, '1', (uint8_t)(a >> 2));
    } else if (a & 4) {
        snprintf(given, sizeof(given), "not-an-id");
        is_bad_id = true;
    }
    if (m->num_pipelines == MAX_SHADOW) {
        return;
    }
    bool random_fails = m->fail_random_once && given[0] == '\0';
    struct ref_pipeline_info info;
    enum ref_status rc = ref_job_store_create_pipeline(m->store, m->now_ms, cstr(given), status,
                                                       m->pipeline_spec, &info);
    int existing = given[0] != '\0' ? find_pipeline(m, given) : -1;
    bool in_use = existing >= 0;
    bool full = live_pipelines(m) >= MAX_PIPELINES;
    bool bad = is_bad_id || status == REF_PIPELINE_STATUS_NONE;
    if (rc != REF_OK) {
        FUZZ_CHECK((rc == REF_E_IN_USE && in_use) || (rc == REF_E_LIMIT_EXCEEDED && full) ||
                   (rc == REF_E_VALIDATION && bad) || (rc == REF_E_INTERNAL && random_fails));
        if (rc == REF_E_INTERNAL) {
            m->fail_random_once = false;
        }
        return;
    }
    FUZZ_CHECK(!in_use && !full && !bad && !random_fails);
    if (given[0] != '\0') {
        FUZZ_CHECK(strcmp(info.id, given) == 0);
    } else {
        check_generated_id(info.id, m->now_ms);
        FUZZ_CHECK(find_pipeline(m, info.id) < 0);
    }
    FUZZ_CHECK(info.status == status);
    FUZZ_CHECK(info.created_ms == m->now_ms && info.active_since_ms == m->now_ms);
    struct shadow_pipeline *p = &m->pipelines[m->num_pipelines++];
    memcpy(p->id, info.id, sizeof(p->id));
    p->status = status;
    p->active_since_ms = m->now_ms;
    p->is_deleted = false;
    ref_pipeline_info_cleanup(&info);
}

static const enum ref_job_status s_seed_statuses[8] = {
    REF_JOB_SUBMITTED, REF_JOB_SUBMITTED, REF_JOB_SUBMITTED, REF_JOB_PROGRESSING,
    REF_JOB_COMPLETE,  REF_JOB_CANCELED,  REF_JOB_ERROR,     REF_JOB_STATUS_NONE,
};

/* The path the seeding hook takes from Submitted to each status. */
static void seed_path(struct shadow_job *j, int64_t now)
{
    enum ref_job_status want = j->status;
    j->status = REF_JOB_SUBMITTED;
    switch (want) {
        case REF_JOB_PROGRESSING:
            model_apply(j, REF_JOB_EV_START, now);
            break;
        case REF_JOB_COMPLETE:
            model_apply(j, REF_JOB_EV_START, now);
            model_apply(j, REF_JOB_EV_FINISH, now);
            break;
        case REF_JOB_ERROR:
            model_apply(j, REF_JOB_EV_START, now);
            model_apply(j, REF_JOB_EV_FAIL, now);
            break;
        case REF_JOB_CANCELED:
            model_apply(j, REF_JOB_EV_CANCEL, now);
            break;
        default:
            break;
    }
}

static void op_create_job(struct model *m, struct reader *r)
{
    uint8_t a = next_byte(r);
    uint8_t b = next_byte(r);
    enum ref_job_status status = s_seed_statuses[b & 7];
    char given[REF_ID_LEN + 1] = "";
    bool is_bad_id = false;
    if (b & 8) {
        pool_id(given, '3', (uint8_t)(b >> 4));
    } else if ((b & 0xf0) == 0xf0) {
        snprintf(given, sizeof(given), "12345");
        is_bad_id = true;
    }
    /* a picks a known pipeline (deleted ones included) or one that never existed. */
    const char *pipeline_id = NEVER_ISSUED_ID;
    int pi = -1;
    if (m->num_pipelines > 0 && a < 240) {
        pi = (int)(a % m->num_pipelines);
        pipeline_id = m->pipelines[pi].id;
    }
    if (m->num_jobs == MAX_SHADOW) {
        return;
    }
    bool random_fails = m->fail_random_once && given[0] == '\0';
    struct ref_job_info info;
    enum ref_status rc = ref_job_store_create_job(m->store, m->now_ms, cstr(given),
                                                  cstr(pipeline_id), status, m->job_spec, &info);
    bool no_pipeline = pi < 0 || m->pipelines[pi].is_deleted;
    bool in_use = given[0] != '\0' && find_job(m, given) >= 0;
    bool full = pi >= 0 && queued_jobs_of(m, (size_t)pi) >= MAX_QUEUED;
    bool bad = is_bad_id || status == REF_JOB_STATUS_NONE;
    if (rc != REF_OK) {
        FUZZ_CHECK((rc == REF_E_NOT_FOUND && no_pipeline) || (rc == REF_E_IN_USE && in_use) ||
                   (rc == REF_E_LIMIT_EXCEEDED && full) || (rc == REF_E_VALIDATION && bad) ||
                   (rc == REF_E_INTERNAL && random_fails));
        if (rc == REF_E_INTERNAL) {
            m->fail_random_once = false;
        }
        return;
    }
    FUZZ_CHECK(!no_pipeline && !in_use && !bad && !random_fails);
    /* A job that is queued once created must have had room in the queue. */
    FUZZ_CHECK(!(is_queued(status) && full));
    if (given[0] != '\0') {
        FUZZ_CHECK(strcmp(info.id, given) == 0);
    } else {
        check_generated_id(info.id, m->now_ms);
        FUZZ_CHECK(find_job(m, info.id) < 0);
    }
    struct shadow_job *j = &m->jobs[m->num_jobs++];
    memset(j, 0, sizeof(*j));
    memcpy(j->id, info.id, sizeof(j->id));
    j->pipeline = (size_t)pi;
    j->status = status;
    j->submit_ms = m->now_ms;
    seed_path(j, m->now_ms);
    check_job_info(&info, j);
    ref_job_info_cleanup(&info);
}

static void op_apply(struct model *m, struct reader *r)
{
    uint8_t a = next_byte(r);
    uint8_t b = next_byte(r);
    enum ref_job_event ev = (enum ref_job_event)(b % (REF_JOB_EVENT_COUNT + 1));
    const char *id = NEVER_ISSUED_ID;
    struct shadow_job *j = NULL;
    if (m->num_jobs > 0 && a < 240) {
        j = &m->jobs[a % m->num_jobs];
        id = j->id;
    }
    enum ref_job_status next = ref_job_next_status(j != NULL ? j->status : REF_JOB_SUBMITTED, ev);
    FUZZ_CHECK(next == table(j != NULL ? j->status : REF_JOB_SUBMITTED, ev));
    struct ref_job_change change = {REF_JOB_STATUS_NONE, REF_JOB_STATUS_NONE};
    enum ref_status rc = ref_job_store_apply(m->store, cstr(id), ev, m->now_ms, &change);
    if (j == NULL) {
        FUZZ_CHECK(rc == REF_E_NOT_FOUND);
        return;
    }
    if (next == REF_JOB_STATUS_NONE) {
        FUZZ_CHECK(rc == REF_E_IN_USE);
        return;
    }
    FUZZ_CHECK(rc == REF_OK);
    FUZZ_CHECK(change.from == j->status && change.to == next);
    /* A cancel succeeds only from Submitted. */
    FUZZ_CHECK(ev != REF_JOB_EV_CANCEL || change.from == REF_JOB_SUBMITTED);
    model_apply(j, ev, m->now_ms);
}

static void op_advance(struct model *m, struct reader *r)
{
    uint8_t a = next_byte(r);
    m->now_ms += (int64_t)a * 250;
    size_t want = model_advance(m, m->now_ms);
    size_t got = ref_job_store_advance(m->store, m->now_ms);
    FUZZ_CHECK(got == want);
}

static void op_set_status(struct model *m, struct reader *r)
{
    uint8_t a = next_byte(r);
    uint8_t b = next_byte(r);
    enum ref_pipeline_status status = (enum ref_pipeline_status)(b % REF_PIPELINE_STATUS_COUNT);
    const char *id = NEVER_ISSUED_ID;
    struct shadow_pipeline *p = NULL;
    if (m->num_pipelines > 0 && a < 240) {
        p = &m->pipelines[a % m->num_pipelines];
        id = p->id;
    }
    struct ref_pipeline_info info;
    enum ref_status rc =
        ref_job_store_set_pipeline_status(m->store, cstr(id), status, m->now_ms, &info);
    if (status == REF_PIPELINE_STATUS_NONE) {
        FUZZ_CHECK(rc == REF_E_VALIDATION);
        return;
    }
    if (p == NULL || p->is_deleted) {
        FUZZ_CHECK(rc == REF_E_NOT_FOUND);
        return;
    }
    FUZZ_CHECK(rc == REF_OK);
    if (status == REF_PIPELINE_ACTIVE && p->status != REF_PIPELINE_ACTIVE) {
        p->active_since_ms = m->now_ms;
    }
    p->status = status;
    FUZZ_CHECK(info.status == status && info.active_since_ms == p->active_since_ms);
    ref_pipeline_info_cleanup(&info);
}

static void op_delete_pipeline(struct model *m, struct reader *r)
{
    uint8_t a = next_byte(r);
    const char *id = NEVER_ISSUED_ID;
    int pi = -1;
    if (m->num_pipelines > 0 && a < 240) {
        pi = (int)(a % m->num_pipelines);
        id = m->pipelines[pi].id;
    }
    enum ref_status rc = ref_job_store_delete_pipeline(m->store, cstr(id));
    if (pi < 0 || m->pipelines[pi].is_deleted) {
        FUZZ_CHECK(rc == REF_E_NOT_FOUND);
        return;
    }
    bool busy = false;
    for (size_t i = 0; i < m->num_jobs; i++) {
        busy = busy || (m->jobs[i].pipeline == (size_t)pi && is_queued(m->jobs[i].status));
    }
    FUZZ_CHECK(rc == (busy ? REF_E_IN_USE : REF_OK));
    if (rc == REF_OK) {
        m->pipelines[pi].is_deleted = true;
    }
}

static void op_list_jobs(struct model *m, struct reader *r)
{
    uint8_t a = next_byte(r);
    uint8_t b = next_byte(r);
    struct ref_job_query q = {.pipeline_id = {NULL, 0},
                              .status = (enum ref_job_status)(b % REF_JOB_STATUS_COUNT),
                              .is_descending = (b & 0x80) != 0,
                              .page_token = {NULL, 0}};
    int pi = -1;
    if ((a & 1) && m->num_pipelines > 0) {
        pi = (int)((a >> 1) % m->num_pipelines);
        q.pipeline_id = cstr(m->pipelines[pi].id);
    } else if (a & 1) {
        q.pipeline_id = cstr(NEVER_ISSUED_ID);
    }
    bool gone = (a & 1) && (pi < 0 || m->pipelines[pi].is_deleted);

    /* The model's answer, in creation order. */
    size_t want[MAX_SHADOW];
    size_t num_want = 0;
    for (size_t i = 0; i < m->num_jobs; i++) {
        const struct shadow_job *j = &m->jobs[i];
        if ((pi < 0 || j->pipeline == (size_t)pi) &&
            (q.status == REF_JOB_STATUS_NONE || j->status == q.status)) {
            want[num_want++] = i;
        }
    }

    size_t seen = 0;
    char token[REF_ID_LEN + 1] = "";
    for (size_t pages = 0; pages <= MAX_SHADOW; pages++) {
        struct ref_job_page page;
        q.page_token = cstr(token);
        enum ref_status rc = ref_job_store_list_jobs(m->store, &q, &page);
        if (gone) {
            FUZZ_CHECK(rc == REF_E_NOT_FOUND);
            return;
        }
        FUZZ_CHECK(rc == REF_OK);
        FUZZ_CHECK(page.count <= PAGE_SIZE);
        for (size_t k = 0; k < page.count; k++) {
            FUZZ_CHECK(seen < num_want);
            size_t idx = q.is_descending ? want[num_want - 1 - seen] : want[seen];
            check_job_info(&page.items[k], &m->jobs[idx]);
            seen++;
        }
        bool more = page.has_next;
        if (more) {
            int ji = find_job(m, page.next_token);
            FUZZ_CHECK(ji >= 0);
            /* The token is the next page's first item. */
            FUZZ_CHECK(seen < num_want);
            FUZZ_CHECK((size_t)ji == (q.is_descending ? want[num_want - 1 - seen] : want[seen]));
            m->job_token_issued[ji] = true;
            memcpy(token, page.next_token, sizeof(token));
        }
        ref_job_page_cleanup(&page);
        if (!more) {
            FUZZ_CHECK(seen == num_want);
            return;
        }
    }
    FUZZ_CHECK(!"list_jobs pages never end");
}

static void op_list_pipelines(struct model *m, struct reader *r)
{
    bool desc = (next_byte(r) & 1) != 0;
    size_t want[MAX_SHADOW];
    size_t num_want = 0;
    for (size_t i = 0; i < m->num_pipelines; i++) {
        if (!m->pipelines[i].is_deleted) {
            want[num_want++] = i;
        }
    }
    size_t seen = 0;
    char token[REF_ID_LEN + 1] = "";
    for (size_t pages = 0; pages <= MAX_SHADOW; pages++) {
        struct ref_pipeline_page page;
        FUZZ_CHECK(ref_job_store_list_pipelines(m->store, desc, cstr(token), &page) == REF_OK);
        FUZZ_CHECK(page.count <= PAGE_SIZE);
        for (size_t k = 0; k < page.count; k++) {
            FUZZ_CHECK(seen < num_want);
            size_t idx = desc ? want[num_want - 1 - seen] : want[seen];
            FUZZ_CHECK(strcmp(page.items[k].id, m->pipelines[idx].id) == 0);
            FUZZ_CHECK(page.items[k].status == m->pipelines[idx].status);
            seen++;
        }
        bool more = page.has_next;
        if (more) {
            int pi = find_pipeline(m, page.next_token);
            FUZZ_CHECK(pi >= 0 && seen < num_want);
            FUZZ_CHECK((size_t)pi == (desc ? want[num_want - 1 - seen] : want[seen]));
            m->pipeline_token_issued[pi] = true;
            memcpy(token, page.next_token, sizeof(token));
        }
        ref_pipeline_page_cleanup(&page);
        if (!more) {
            FUZZ_CHECK(seen == num_want);
            return;
        }
    }
    FUZZ_CHECK(!"list_pipelines pages never end");
}

/* Page tokens the store never issued are refused, whether or not they name an object. */
static void op_bad_token(struct model *m, struct reader *r)
{
    uint8_t a = next_byte(r);
    const char *token = NEVER_ISSUED_ID;
    bool never = true;
    if ((a & 1) && m->num_jobs > 0) {
        size_t ji = (a >> 1) % m->num_jobs;
        token = m->jobs[ji].id;
        never = !m->job_token_issued[ji];
    }
    struct ref_job_query q = {.page_token = cstr(token)};
    struct ref_job_page page;
    enum ref_status rc = ref_job_store_list_jobs(m->store, &q, &page);
    if (never) {
        FUZZ_CHECK(rc == REF_E_VALIDATION);
    } else {
        FUZZ_CHECK(rc == REF_OK);
        if (page.has_next) {
            int ji = find_job(m, page.next_token);
            FUZZ_CHECK(ji >= 0);
            m->job_token_issued[ji] = true;
        }
        ref_job_page_cleanup(&page);
    }
    const char *ptoken = NEVER_ISSUED_ID;
    never = true;
    if ((a & 1) && m->num_pipelines > 0) {
        size_t pi = (a >> 1) % m->num_pipelines;
        ptoken = m->pipelines[pi].id;
        never = !m->pipeline_token_issued[pi];
    }
    struct ref_pipeline_page ppage;
    rc = ref_job_store_list_pipelines(m->store, false, cstr(ptoken), &ppage);
    if (never) {
        FUZZ_CHECK(rc == REF_E_VALIDATION);
    } else {
        /* An issued token of a pipeline deleted since may be refused or honoured. */
        FUZZ_CHECK(rc == REF_OK || rc == REF_E_VALIDATION);
        if (rc == REF_OK && ppage.has_next) {
            /* This page hands out a token too. */
            int pi = find_pipeline(m, ppage.next_token);
            FUZZ_CHECK(pi >= 0);
            m->pipeline_token_issued[pi] = true;
        }
        if (rc == REF_OK) {
            ref_pipeline_page_cleanup(&ppage);
        }
    }
}

static void op_read(struct model *m, struct reader *r)
{
    uint8_t a = next_byte(r);
    if (m->num_jobs == 0 || a >= 240) {
        struct ref_job_info info;
        FUZZ_CHECK(ref_job_store_read_job(m->store, cstr(NEVER_ISSUED_ID), &info) ==
                   REF_E_NOT_FOUND);
        enum ref_job_status s;
        FUZZ_CHECK(ref_job_store_job_status(m->store, cstr(""), &s) == REF_E_NOT_FOUND);
        return;
    }
    const struct shadow_job *j = &m->jobs[a % m->num_jobs];
    struct ref_job_info info;
    FUZZ_CHECK(ref_job_store_read_job(m->store, cstr(j->id), &info) == REF_OK);
    check_job_info(&info, j);
    ref_job_info_cleanup(&info);
}

static void check_names(void)
{
    for (int s = 1; s < REF_JOB_STATUS_COUNT; s++) {
        const char *name = ref_job_status_name((enum ref_job_status)s);
        FUZZ_CHECK(name != NULL && name[0] != '\0');
        FUZZ_CHECK(ref_job_status_from_name(cstr(name)) == (enum ref_job_status)s);
    }
    FUZZ_CHECK(strcmp(ref_job_status_name(REF_JOB_STATUS_NONE), "") == 0);
    FUZZ_CHECK(strcmp(ref_job_status_name(REF_JOB_STATUS_COUNT), "") == 0);
    FUZZ_CHECK(ref_job_status_from_name(cstr("submitted")) == REF_JOB_STATUS_NONE);
    FUZZ_CHECK(ref_job_status_from_name(cstr("Cancelled")) == REF_JOB_STATUS_NONE);
    for (int p = 1; p < REF_PIPELINE_STATUS_COUNT; p++) {
        const char *name = ref_pipeline_status_name((enum ref_pipeline_status)p);
        FUZZ_CHECK(ref_pipeline_status_from_name(cstr(name)) == (enum ref_pipeline_status)p);
    }
    for (int from = 0; from <= REF_JOB_STATUS_COUNT; from++) {
        for (int ev = 0; ev <= REF_JOB_EVENT_COUNT; ev++) {
            FUZZ_CHECK(ref_job_next_status((enum ref_job_status)from, (enum ref_job_event)ev) ==
                       table((enum ref_job_status)from, (enum ref_job_event)ev));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool names_checked;
    if (!names_checked) {
        check_names();
        names_checked = true;
    }

    struct model *m = &s_m;
    memset(m, 0, sizeof(*m));
    fuzz_rng_seed(&m->rng, FUZZ_RNG_SEED);
    m->now_ms = FUZZ_NOW_MS;
    struct ref_job_store_config cfg = {.start_delay_ms = START_DELAY_MS,
                                       .run_time_ms = RUN_TIME_MS,
                                       .page_size = PAGE_SIZE,
                                       .max_pipelines = MAX_PIPELINES,
                                       .max_queued_jobs = MAX_QUEUED,
                                       .random = store_random,
                                       .random_ctx = m};
    m->store = ref_job_store_new(&cfg);
    FUZZ_CHECK(m->store != NULL);
    /* The specs the store is given: made once, never changed (the store copies what it is
     * given), so nothing of one input reaches the next through them. The store keeps a spec
     * as opaque JSON and asks of a job's only that Outputs be an array: these are the
     * smallest such, since the store's copy of each, an allocation per JSON value, was a
     * third of the target's time for nothing the invariants look at. */
    static json_t *s_job_spec;
    static json_t *s_pipeline_spec;
    if (s_job_spec == NULL) {
        s_job_spec = json_pack("{s:[]}", "Outputs");
        s_pipeline_spec = json_pack("{s:s}", "Name", "fuzz");
        FUZZ_CHECK(s_job_spec != NULL && s_pipeline_spec != NULL);
    }
    m->job_spec = s_job_spec;
    m->pipeline_spec = s_pipeline_spec;

    struct reader r = {data, size};
    for (size_t ops = 0; r.left > 0 && ops < MAX_OPS; ops++) {
        uint8_t op = next_byte(&r);
        switch (op % 11) {
            case 0:
                op_create_pipeline(m, &r);
                break;
            case 1:
            case 2:
                op_create_job(m, &r);
                break;
            case 3:
                op_apply(m, &r);
                break;
            case 4:
                op_advance(m, &r);
                break;
            case 5:
                op_set_status(m, &r);
                break;
            case 6:
                op_delete_pipeline(m, &r);
                break;
            case 7:
                op_list_jobs(m, &r);
                break;
            case 8:
                op_list_pipelines(m, &r);
                break;
            case 9:
                op_bad_token(m, &r);
                break;
            default:
                if (op & 0x80) {
                    m->fail_random_once = true;
                } else {
                    op_read(m, &r);
                }
                break;
        }
        check_store(m);
    }
    ref_job_store_free(m->store);
    return 0;
}
