/* SPDX-License-Identifier: Apache-2.0
 *
 * service_control.c - test control (contract section 9): discovery, the virtual clock,
 * seeding pipelines and jobs, and setting a job's status, as signed JSON requests under
 * /_etch/control/v1.
 *
 * Only a service made with has_test_control answers these paths; without it they are
 * routed like any other unknown path. A control request has been authenticated like every
 * request before it gets here (service.c); this file decides who may call it (the main
 * principal only), routes it within the prefix with one table, s_routes, and answers in
 * the error form of contract section 4 through the same status table as the operations.
 *
 * The virtual clock is one atomic (struct ref_service): every reader of time goes through
 * ref_svc_now_ms, which returns it once it has been moved, so the scheduler, Timing, Id
 * creation, the signature window and the Date header all follow it. A move is a
 * compare-and-swap on that atomic, so two moves at once compose without a lock (an
 * AdvanceMillis adds to the time it read, or reads again); the move is then applied to the
 * store by the scheduler, which stamps every start and finish that falls inside the move
 * at its own scheduled time (ref_job_store_advance).
 *
 * Seeding validates every pipeline and job first, with CreatePipeline's and CreateJob's
 * own checks (ref_pipeline_check, ref_job_check) and stored forms (ref_pipeline_spec,
 * ref_job_spec), and then hands them to the store in one call that puts all of them in
 * place or none (ref_job_store_seed). Set-status goes through the store's lifecycle table
 * like every other status change (ref_job_store_apply).
 */
#include "service_internal.h"

#include "ref/job_store.h"
#include "ref/mem.h"
#include "ref/uri.h"

#include <jansson.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CONTROL_PREFIX  "/_etch/control/v1"
#define CONTROL_VERSION 1
/* The latest time the clock may show: Ids carry it as 13 digits (contract sections 2, 9). */
#define CLOCK_MAX_MS INT64_C(9999999999999)
/* A message prefix naming one entry of a seed, e.g. "Jobs[12]: ". */
#define ENTRY_NAME_BYTES 48

typedef enum ref_status control_fn(struct ref_op_ctx *c);

/* --- The clock ------------------------------------------------------------------------ */

int64_t ref_service_now_ms(struct ref_service *svc)
{
    return ref_svc_now_ms(svc);
}

enum clock_move {
    CLOCK_MOVE_NONE = 0,
    CLOCK_MOVE_ADVANCE,    /* AdvanceMillis */
    CLOCK_MOVE_NEXT_EVENT, /* ToNextEvent */
    CLOCK_MOVE_SET,        /* SetMillis */
    CLOCK_MOVE_REAL,       /* Real */
};

/* Moves the clock and returns the time it shows afterwards. REF_E_VALIDATION when an
 * AdvanceMillis would take it past CLOCK_MAX_MS (measured from the time it was at). */
static enum ref_status
clock_move(struct ref_service *svc, enum clock_move move, int64_t arg, int64_t *now_out)
{
    /* The next event is read before the swap: the store has its own lock, and an event
     * added meanwhile is the scheduler's to apply when its time comes. */
    int64_t next_event_ms = 0;
    bool has_event =
        move == CLOCK_MOVE_NEXT_EVENT && ref_job_store_next_event_ms(svc->store, &next_event_ms);
    int64_t old = atomic_load_explicit(&svc->virtual_now_ms, memory_order_acquire);
    int64_t next;
    do {
        int64_t base = old != REF_CLOCK_REAL ? old : ref_svc_env_now_ms(svc);
        switch (move) {
            case CLOCK_MOVE_ADVANCE:
                if (base > CLOCK_MAX_MS - arg) {
                    return REF_E_VALIDATION;
                }
                next = base + arg;
                break;
            case CLOCK_MOVE_NEXT_EVENT:
                /* Never backwards: what was due has been applied before this request. */
                next = has_event && next_event_ms > base ? next_event_ms : base;
                break;
            case CLOCK_MOVE_SET:
                next = arg;
                break;
            default:
                next = REF_CLOCK_REAL;
                break;
        }
    } while (!atomic_compare_exchange_weak_explicit(&svc->virtual_now_ms, &old, next,
                                                    memory_order_acq_rel, memory_order_acquire));
    /* The time this move set, even if another has moved the clock since. */
    *now_out = next != REF_CLOCK_REAL ? next : ref_svc_env_now_ms(svc);
    return REF_OK;
}

/* --- Reading control bodies ------------------------------------------------------------ */

/* A member that is an integer in [0, CLOCK_MAX_MS], or a failure recorded under path. */
static enum ref_status
check_millis(struct ref_verr *v, const json_t *value, const char *path, int64_t *out)
{
    if (!json_is_integer(value)) {
        return ref_verr_type(v, value, path, "integer");
    }
    json_int_t n = json_integer_value(value);
    if (n < 0 || n > CLOCK_MAX_MS) {
        char text[32];
        int len = snprintf(text, sizeof(text), "%lld", (long long)n);
        return ref_verr_add(v, ref_slice_make(text, len > 0 ? (size_t)len : 0), path,
                            "Member must be between 0 and 9999999999999");
    }
    *out = (int64_t)n;
    return REF_OK;
}

/* Records every member of obj that is not one of `known` (a NULL-terminated list): control
 * bodies are strict, so that a misspelt member fails instead of being ignored. */
static enum ref_status check_known(struct ref_verr *v, json_t *obj, const char *const *known)
{
    const char *key;
    json_t *value;
    json_object_foreach (obj, key, value) {
        bool is_known = false;
        for (size_t i = 0; known[i] != NULL && !is_known; i++) {
            is_known = strcmp(key, known[i]) == 0;
        }
        if (!is_known) {
            REF_TRY(ref_verr_add(v, ref_slice_from_cstr(key), key, "Member is not known"));
        }
    }
    return REF_OK;
}

/* A string member with the Id shape, recorded under path when it is not one. */
static enum ref_status
check_id(struct ref_verr *v, const json_t *value, const char *path, struct ref_slice *out)
{
    if (value == NULL) {
        return ref_verr_null(v, path);
    }
    if (!json_is_string(value)) {
        return ref_verr_type(v, value, path, "string");
    }
    *out = ref_slice_make(json_string_value(value), json_string_length(value));
    if (!ref_job_id_is_valid(*out)) {
        return ref_verr_pattern(v, *out, path, REF_PATTERN_ID);
    }
    return REF_OK;
}

/* --- Discovery -------------------------------------------------------------------------- */

static enum ref_status control_discovery(struct ref_op_ctx *c)
{
    return ref_svc_answer(c, 200,
                          json_pack("{s:i, s:[sss], s:I}", "Version", CONTROL_VERSION, "Features",
                                    "clock", "seed", "set-status", "NowMillis",
                                    (json_int_t)c->now_ms));
}

/* --- Clock --------------------------------------------------------------------------- */

static enum ref_status control_clock(struct ref_op_ctx *c)
{
    static const struct {
        const char *key;
        enum clock_move move;
    } s_forms[] = {
        {"AdvanceMillis", CLOCK_MOVE_ADVANCE},
        {"ToNextEvent", CLOCK_MOVE_NEXT_EVENT},
        {"SetMillis", CLOCK_MOVE_SET},
        {"Real", CLOCK_MOVE_REAL},
    };
    json_t *body = NULL;
    REF_TRY(ref_svc_parse_body(c, &body));
    struct ref_verr v;
    ref_verr_init(&v);
    enum ref_status rc = REF_OK;
    enum clock_move move = CLOCK_MOVE_NONE;
    const json_t *value = NULL;
    const char *key = NULL;
    size_t given = 0;
    for (size_t i = 0; i < sizeof(s_forms) / sizeof(s_forms[0]); i++) {
        const json_t *m = json_object_get(body, s_forms[i].key);
        if (m != NULL) {
            given++;
            move = s_forms[i].move;
            value = m;
            key = s_forms[i].key;
        }
    }
    if (given != 1 || json_object_size(body) != 1) {
        rc = ref_verr_text(&v, "Exactly one of AdvanceMillis, ToNextEvent, SetMillis and Real "
                               "is required, and nothing else");
        move = CLOCK_MOVE_NONE;
    }
    int64_t arg = 0;
    if (rc == REF_OK && (move == CLOCK_MOVE_ADVANCE || move == CLOCK_MOVE_SET)) {
        rc = check_millis(&v, value, key, &arg);
    } else if (rc == REF_OK && move != CLOCK_MOVE_NONE && !json_is_true(value)) {
        rc = ref_verr_add(&v, ref_slice_from_cstr(json_is_false(value) ? "false" : "not true"), key,
                          "Member must be true");
    }
    if (rc == REF_OK) {
        rc = ref_svc_verr_finish(c, &v);
    }
    int64_t now_ms = 0;
    if (rc == REF_OK) {
        rc = clock_move(c->svc, move, arg, &now_ms);
        if (rc == REF_E_VALIDATION) {
            rc = ref_svc_fail(c, rc,
                              "AdvanceMillis would take the clock past 9999999999999 "
                              "(13-digit epoch milliseconds).");
        }
    }
    if (rc == REF_OK) {
        /* Whatever falls inside the move happens now, each at its own scheduled time; the
         * answer is dated by the clock it set. */
        ref_svc_advance(c->svc, now_ms);
        c->resp->date_ms = now_ms;
        rc = ref_svc_answer(c, 200, json_pack("{s:I}", "NowMillis", (json_int_t)now_ms));
    }
    ref_verr_cleanup(&v);
    json_decref(body);
    return rc;
}

/* --- Set-status -------------------------------------------------------------------------- */

/* The event that makes a job reach each status through test control: the lifecycle table
 * (job_store.c) then decides whether the job's current status allows it. Submitted and
 * Canceled have none, so they are refused like any transition the table refuses. */
static const enum ref_job_event s_set_status_event[REF_JOB_STATUS_COUNT] = {
    [REF_JOB_PROGRESSING] = REF_JOB_EV_START,
    [REF_JOB_COMPLETE] = REF_JOB_EV_FINISH,
    [REF_JOB_ERROR] = REF_JOB_EV_FAIL,
};

static enum ref_status control_set_status(struct ref_op_ctx *c)
{
    static const char *const s_known[] = {"Status", NULL};
    struct ref_verr v;
    ref_verr_init(&v);
    json_t *body = NULL;
    enum ref_status rc = ref_svc_check_id_label(c, &v, "id");
    if (rc == REF_OK && v.count == 0) {
        rc = ref_svc_parse_body(c, &body);
    }
    enum ref_job_status to = REF_JOB_STATUS_NONE;
    if (rc == REF_OK && body != NULL) {
        rc = check_known(&v, body, s_known);
        const json_t *status = ref_svc_member(body, "Status");
        if (rc == REF_OK && status == NULL) {
            rc = ref_verr_null(&v, "status");
        } else if (rc == REF_OK && !json_is_string(status)) {
            rc = ref_verr_type(&v, status, "status", "string");
        } else if (rc == REF_OK) {
            struct ref_slice s =
                ref_slice_make(json_string_value(status), json_string_length(status));
            to = ref_job_status_from_name(s);
            if (to == REF_JOB_STATUS_NONE) {
                rc = ref_verr_pattern(&v, s, "status", REF_PATTERN_JOB_STATUS);
            }
        }
    }
    if (rc == REF_OK) {
        rc = ref_svc_verr_finish(c, &v);
    }
    if (rc == REF_OK) {
        struct ref_job_change change = {0};
        rc = ref_job_store_apply(c->svc->store, c->label, s_set_status_event[to], c->now_ms,
                                 &change);
        enum ref_job_status from = REF_JOB_STATUS_NONE;
        if (rc == REF_E_IN_USE &&
            ref_job_store_job_status(c->svc->store, c->label, &from) == REF_OK) {
            rc = ref_svc_fail(c, rc, "A job in %s status cannot be made %s.",
                              ref_job_status_name(from), ref_job_status_name(to));
        } else if (rc != REF_OK) {
            rc = ref_svc_store_failure(c, rc, "job");
        }
    }
    if (rc == REF_OK) {
        /* A start schedules the job's finish, which may come before the scheduler's quiet
         * window ends: the next request looks again. */
        ref_svc_schedule_changed(c->svc);
        struct ref_job_info info;
        rc = ref_job_store_read_job(c->svc->store, c->label, &info);
        if (rc == REF_OK) {
            json_t *job = ref_out_job(&info, c->svc->region, c->svc->account_id);
            ref_job_info_cleanup(&info);
            rc = ref_svc_answer(c, 200, job != NULL ? json_pack("{s:o}", "Job", job) : NULL);
        } else {
            rc = ref_svc_store_failure(c, rc, "job");
        }
    }
    ref_verr_cleanup(&v);
    json_decref(body);
    return rc;
}

/* --- Seed ------------------------------------------------------------------------------ */

/* Which Timing members each status implies (contract sections 1b and 8): a Canceled job has
 * only its submission time. */
static const struct {
    bool has_start;
    bool has_finish;
} s_timing_of[REF_JOB_STATUS_COUNT] = {
    [REF_JOB_PROGRESSING] = {.has_start = true},
    [REF_JOB_COMPLETE] = {.has_start = true, .has_finish = true},
    [REF_JOB_ERROR] = {.has_start = true, .has_finish = true},
};

/* Everything the seed has read and made, released by seed_cleanup. */
struct seed {
    struct ref_pipeline_seed *pipelines;
    size_t num_pipelines;
    struct ref_job_seed *jobs;
    size_t num_jobs;
    json_t **specs; /* the entries' stored forms, owned: one per entry read */
    size_t num_specs;
    struct ref_seed_failure failed;
};

static void seed_cleanup(struct seed *s)
{
    for (size_t i = 0; i < s->num_specs; i++) {
        json_decref(s->specs[i]);
    }
    ref_mem_free(s->specs);
    ref_mem_free(s->pipelines);
    ref_mem_free(s->jobs);
}

/* Keeps spec (NULL: out of memory) until seed_cleanup. */
static const json_t *seed_keep(struct seed *s, json_t *spec)
{
    if (spec != NULL) {
        s->specs[s->num_specs++] = spec;
    }
    return spec;
}

/* Starts c->msg with the name of a seed's entry, e.g. "Jobs[3]: ", for the message that
 * follows about it. */
static enum ref_status name_entry(struct ref_op_ctx *c, const char *list, size_t index)
{
    ref_buf_reset(c->msg);
    return ref_buf_appendf(c->msg, "%s[%zu]: ", list, index);
}

/* Ends the checks of one entry: REF_OK when none failed, else REF_E_VALIDATION with the
 * entry's name and the message. */
static enum ref_status
entry_verr_finish(struct ref_op_ctx *c, struct ref_verr *v, const char *list, size_t index)
{
    if (v->count == 0) {
        return REF_OK;
    }
    REF_TRY(name_entry(c, list, index));
    REF_TRY(ref_verr_message(v, c->msg));
    return REF_E_VALIDATION;
}

/* What every seed entry has: an object with an Id of the Id shape and a Status string.
 * *status gets the Status text (ptr NULL when a violation was noted in v instead). */
static enum ref_status read_id_and_status(struct ref_verr *v,
                                          const json_t *item,
                                          const char *member_path,
                                          struct ref_slice *id,
                                          struct ref_slice *status_text)
{
    if (!json_is_object(item)) {
        return ref_verr_type(v, item, member_path, "structure");
    }
    REF_TRY(check_id(v, ref_svc_member(item, "Id"), "id", id));
    const json_t *status = ref_svc_member(item, "Status");
    if (status == NULL) {
        return ref_verr_null(v, "status");
    }
    if (!json_is_string(status)) {
        return ref_verr_type(v, status, "status", "string");
    }
    *status_text = ref_slice_make(json_string_value(status), json_string_length(status));
    return REF_OK;
}

static enum ref_status
read_pipeline(struct ref_op_ctx *c, const json_t *item, size_t index, struct seed *s)
{
    struct ref_pipeline_seed *out = &s->pipelines[index];
    struct ref_verr v;
    ref_verr_init(&v);
    enum ref_status rc = REF_OK;
    struct ref_slice name = {NULL, 0};
    rc = read_id_and_status(&v, item, "pipelines.member", &out->id, &name);
    if (rc == REF_OK && name.ptr != NULL) {
        out->status = ref_pipeline_status_from_name(name);
        if (out->status == REF_PIPELINE_STATUS_NONE) {
            rc = ref_verr_pattern(&v, name, "status", REF_PATTERN_PIPELINE_STATUS);
        }
    }
    if (rc == REF_OK) {
        rc = entry_verr_finish(c, &v, "Pipelines", index);
    }
    if (rc == REF_OK) {
        /* CreatePipeline's own judgement, in its own words after the entry's name. */
        REF_TRY(name_entry(c, "Pipelines", index));
        rc = ref_pipeline_check(item, c->msg);
    }
    if (rc == REF_OK) {
        out->spec = seed_keep(s, ref_pipeline_spec(item));
        rc = out->spec != NULL ? REF_OK : REF_E_NOMEM;
    }
    ref_verr_cleanup(&v);
    return rc;
}

/* Timing of a seeded job: the members its status implies, each defaulting to now, in
 * order (submitted, then started, then finished). */
static enum ref_status
read_timing(struct ref_verr *v, json_t *timing, int64_t now_ms, struct ref_job_seed *out)
{
    out->submit_ms = now_ms;
    out->start_ms = now_ms;
    out->finish_ms = now_ms;
    if (timing == NULL) {
        return REF_OK;
    }
    if (!json_is_object(timing)) {
        return ref_verr_type(v, timing, "timing", "structure");
    }
    bool has_start = s_timing_of[out->status].has_start;
    bool has_finish = s_timing_of[out->status].has_finish;
    const char *known[] = {"SubmitTimeMillis", has_start ? "StartTimeMillis" : NULL,
                           has_finish ? "FinishTimeMillis" : NULL, NULL};
    REF_TRY(check_known(v, timing, known));
    const json_t *submit = ref_svc_member(timing, "SubmitTimeMillis");
    const json_t *start = ref_svc_member(timing, "StartTimeMillis");
    const json_t *finish = ref_svc_member(timing, "FinishTimeMillis");
    if (submit != NULL) {
        REF_TRY(check_millis(v, submit, "timing.submitTimeMillis", &out->submit_ms));
    }
    if (has_start && start != NULL) {
        REF_TRY(check_millis(v, start, "timing.startTimeMillis", &out->start_ms));
    }
    if (has_finish && finish != NULL) {
        REF_TRY(check_millis(v, finish, "timing.finishTimeMillis", &out->finish_ms));
    }
    if (v->count > 0) {
        return REF_OK;
    }
    if (has_start && out->start_ms < out->submit_ms) {
        REF_TRY(ref_verr_text(v, "Timing: StartTimeMillis is earlier than SubmitTimeMillis"));
    }
    if (has_finish && out->finish_ms < out->start_ms) {
        REF_TRY(ref_verr_text(v, "Timing: FinishTimeMillis is earlier than StartTimeMillis"));
    }
    return REF_OK;
}

static enum ref_status
read_job(struct ref_op_ctx *c, const json_t *item, size_t index, struct seed *s)
{
    struct ref_job_seed *out = &s->jobs[index];
    struct ref_verr v;
    ref_verr_init(&v);
    enum ref_status rc = REF_OK;
    struct ref_slice name = {NULL, 0};
    rc = read_id_and_status(&v, item, "jobs.member", &out->id, &name);
    if (rc == REF_OK && name.ptr != NULL) {
        out->status = ref_job_status_from_name(name);
        if (out->status == REF_JOB_STATUS_NONE) {
            rc = ref_verr_pattern(&v, name, "status", REF_PATTERN_JOB_STATUS);
        }
    }
    if (rc == REF_OK) {
        rc = entry_verr_finish(c, &v, "Jobs", index);
    }
    if (rc == REF_OK) {
        /* CreateJob's own judgement, PipelineId's shape included. */
        REF_TRY(name_entry(c, "Jobs", index));
        rc = ref_job_check(item, c->msg);
    }
    if (rc == REF_OK) {
        rc = read_timing(&v, ref_svc_member(item, "Timing"), c->now_ms, out);
    }
    if (rc == REF_OK) {
        rc = entry_verr_finish(c, &v, "Jobs", index);
    }
    if (rc == REF_OK) {
        const json_t *pid = ref_svc_member(item, "PipelineId");
        out->pipeline_id = ref_slice_make(json_string_value(pid), json_string_length(pid));
        out->spec = seed_keep(s, ref_job_spec(item));
        rc = out->spec != NULL ? REF_OK : REF_E_NOMEM;
    }
    ref_verr_cleanup(&v);
    return rc;
}

/* A list member of the seed body: an array, or absent (no entries). */
static enum ref_status seed_list(
    struct ref_verr *v, const json_t *body, const char *key, const char *path, const json_t **out)
{
    *out = ref_svc_member(body, key);
    if (*out != NULL && !json_is_array(*out)) {
        return ref_verr_type(v, *out, path, "list");
    }
    return REF_OK;
}

/* Reads and judges every entry; the first failure answers. */
static enum ref_status
read_seed(struct ref_op_ctx *c, const json_t *pipelines, const json_t *jobs, struct seed *s)
{
    size_t np = json_array_size(pipelines);
    size_t nj = json_array_size(jobs);
    if (np + nj > 0) {
        s->specs = ref_mem_calloc(np + nj, sizeof(s->specs[0]));
        if (s->specs == NULL) {
            return REF_E_NOMEM;
        }
    }
    if (np > 0) {
        s->pipelines = ref_mem_calloc(np, sizeof(s->pipelines[0]));
        if (s->pipelines == NULL) {
            return REF_E_NOMEM;
        }
    }
    if (nj > 0) {
        s->jobs = ref_mem_calloc(nj, sizeof(s->jobs[0]));
        if (s->jobs == NULL) {
            return REF_E_NOMEM;
        }
    }
    for (size_t i = 0; i < np; i++) {
        REF_TRY(read_pipeline(c, json_array_get(pipelines, i), i, s));
        s->num_pipelines = i + 1;
    }
    for (size_t i = 0; i < nj; i++) {
        REF_TRY(read_job(c, json_array_get(jobs, i), i, s));
        s->num_jobs = i + 1;
    }
    return REF_OK;
}

/* The answer to a store that refused the seed: the entry it names, and why. */
static enum ref_status seed_refused(struct ref_op_ctx *c, const struct seed *s, enum ref_status rc)
{
    const char *list = s->failed.is_job ? "Jobs" : "Pipelines";
    size_t i = s->failed.index;
    bool is_known = s->failed.is_job ? i < s->num_jobs : i < s->num_pipelines;
    if (!is_known) {
        return rc;
    }
    struct ref_slice id = s->failed.is_job ? s->jobs[i].id : s->pipelines[i].id;
    switch (rc) {
        case REF_E_IN_USE:
            return ref_svc_fail(c, rc, "%s[%zu]: the Id " REF_SLICE_FMT " is already in use.", list,
                                i, REF_SLICE_ARG(id));
        case REF_E_NOT_FOUND:
            return ref_svc_pipeline_not_found(c, s->jobs[i].pipeline_id);
        default:
            return rc;
    }
}

static enum ref_status seed_answer(struct ref_op_ctx *c, const struct seed *s)
{
    json_t *pipelines = json_array();
    json_t *jobs = json_array();
    int bad = pipelines == NULL || jobs == NULL;
    for (size_t i = 0; !bad && i < s->num_pipelines; i++) {
        bad = json_array_append_new(
            pipelines, json_stringn((const char *)s->pipelines[i].id.ptr, s->pipelines[i].id.len));
    }
    for (size_t i = 0; !bad && i < s->num_jobs; i++) {
        bad = json_array_append_new(
            jobs, json_stringn((const char *)s->jobs[i].id.ptr, s->jobs[i].id.len));
    }
    if (bad) {
        json_decref(pipelines);
        json_decref(jobs);
        return REF_E_NOMEM;
    }
    return ref_svc_answer(c, 200, json_pack("{s:o, s:o}", "Pipelines", pipelines, "Jobs", jobs));
}

static enum ref_status control_seed(struct ref_op_ctx *c)
{
    static const char *const s_known[] = {"Pipelines", "Jobs", NULL};
    json_t *body = NULL;
    REF_TRY(ref_svc_parse_body(c, &body));
    struct ref_verr v;
    ref_verr_init(&v);
    const json_t *pipelines = NULL;
    const json_t *jobs = NULL;
    enum ref_status rc = check_known(&v, body, s_known);
    if (rc == REF_OK) {
        rc = seed_list(&v, body, "Pipelines", "pipelines", &pipelines);
    }
    if (rc == REF_OK) {
        rc = seed_list(&v, body, "Jobs", "jobs", &jobs);
    }
    if (rc == REF_OK) {
        rc = ref_svc_verr_finish(c, &v);
    }
    struct seed s = {0};
    if (rc == REF_OK) {
        rc = read_seed(c, pipelines, jobs, &s);
    }
    if (rc == REF_OK) {
        rc = ref_job_store_seed(c->svc->store, c->now_ms, s.pipelines, s.num_pipelines, s.jobs,
                                s.num_jobs, &s.failed);
        if (rc != REF_OK) {
            rc = seed_refused(c, &s, rc);
        }
    }
    if (rc == REF_OK) {
        /* Seeded jobs bring their own starts and finishes: the next request looks again. */
        ref_svc_schedule_changed(c->svc);
        rc = seed_answer(c, &s);
    }
    seed_cleanup(&s);
    ref_verr_cleanup(&v);
    json_decref(body);
    return rc;
}

/* --- Routing ------------------------------------------------------------------------------ */

enum control_path {
    CONTROL_PATH_NONE = 0,
    CONTROL_PATH_ROOT,       /* /_etch/control/v1 */
    CONTROL_PATH_CLOCK,      /* .../clock */
    CONTROL_PATH_SEED,       /* .../seed */
    CONTROL_PATH_JOB_STATUS, /* .../jobs/{Id}/status */
};

/* The control requests of contract section 9: one row each. */
static const struct {
    enum control_path path;
    const char *method;
    control_fn *fn;
} s_routes[] = {
    {CONTROL_PATH_ROOT, "GET", control_discovery},
    {CONTROL_PATH_CLOCK, "POST", control_clock},
    {CONTROL_PATH_SEED, "POST", control_seed},
    {CONTROL_PATH_JOB_STATUS, "POST", control_set_status},
};

bool ref_svc_is_control_path(struct ref_slice path)
{
    struct ref_slice prefix = REF_SLICE_LIT(CONTROL_PREFIX);
    return ref_slice_starts_with(path, prefix) &&
           (path.len == prefix.len || path.ptr[prefix.len] == '/');
}

/* Which control path `path` (under the prefix) is; the Id segment, still encoded, in *label. */
static enum control_path match_path(struct ref_slice path, struct ref_slice *label)
{
    struct ref_slice rest = ref_slice_sub(path, sizeof(CONTROL_PREFIX) - 1, path.len);
    if (rest.len == 0) {
        return CONTROL_PATH_ROOT;
    }
    if (ref_slice_eq_cstr(rest, "/clock")) {
        return CONTROL_PATH_CLOCK;
    }
    if (ref_slice_eq_cstr(rest, "/seed")) {
        return CONTROL_PATH_SEED;
    }
    /* "/jobs/{Id}/status": split after the leading '/'. */
    struct ref_slice segs[4];
    size_t n = 0;
    rest = ref_slice_sub(rest, 1, rest.len);
    bool more = true;
    while (more && n < 4) {
        more = ref_slice_split(&rest, '/', &segs[n]);
        n++;
    }
    if (!more && n == 3 && ref_slice_eq_cstr(segs[0], "jobs") && segs[1].len > 0 &&
        ref_slice_eq_cstr(segs[2], "status")) {
        *label = segs[1];
        return CONTROL_PATH_JOB_STATUS;
    }
    return CONTROL_PATH_NONE;
}

/* Only the main principal: a key of full role without a session token (contract section 7;
 * the temporary principal's key carries one). */
static bool is_main_principal(const struct ref_credential *cred)
{
    return cred != NULL && cred->role == REF_ROLE_FULL && cred->session_token == NULL;
}

enum ref_status ref_svc_control(struct ref_op_ctx *c,
                                struct ref_slice path,
                                const struct ref_credential *caller,
                                struct ref_buf *label)
{
    /* Everything under the prefix is the main principal's, known path or not: the others
     * learn nothing about control from it. */
    if (!is_main_principal(caller)) {
        return REF_E_ACCESS_DENIED;
    }
    struct ref_slice raw_label = {NULL, 0};
    enum control_path which = match_path(path, &raw_label);
    control_fn *fn = NULL;
    for (size_t i = 0; i < sizeof(s_routes) / sizeof(s_routes[0]) && fn == NULL; i++) {
        if (s_routes[i].path == which && ref_slice_eq_cstr(c->req->method, s_routes[i].method)) {
            fn = s_routes[i].fn;
        }
    }
    if (fn == NULL) {
        /* An unknown control path, or a known one with another method: the unknown
         * operation's answer, as for any other method and path (contract section 8). */
        return ref_svc_fail(c, REF_E_UNKNOWN_OPERATION,
                            "Unknown test control request: " REF_SLICE_FMT " " REF_SLICE_FMT,
                            REF_SLICE_ARG(c->req->method), REF_SLICE_ARG(path));
    }
    /* The Id label is percent-decoded once, as the operations' labels are. */
    c->label = raw_label;
    if (raw_label.len > 0 && ref_slice_find(raw_label, '%') < raw_label.len &&
        ref_uri_decode(raw_label, label, NULL) == REF_OK) {
        c->label = ref_buf_slice(label);
    }
    return fn(c);
}
