/* SPDX-License-Identifier: Apache-2.0
 *
 * runner_cleanup.c - after a scenario on a shared target, whatever its verdict: cancel
 * the jobs it created, delete its pipelines, and say what really happened.
 *
 * An endpoint under test may answer 202 to a CancelJob and leave the job Submitted, or
 * 200 to a DeletePipeline and keep the pipeline, so nothing is counted on the strength of
 * an answer: each cancel and delete is read back. Waiting for a busy pipeline is bounded
 * three ways: per scenario (the backend's cleanup timeout), per run (a budget the run's
 * backends share), and by sense: only a Progressing job can free a pipeline by itself; a
 * job still Submitted after the cancels will not move, and nobody waits for it.
 */
#define _POSIX_C_SOURCE 200809L

#include "runner_internal.h"

#include "harness/text.h"

#include "ref/router.h"

#include <jansson.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keeps the first problem of a cleanup: the one worth a line in the report. */
__attribute__((format(printf, 2, 3))) static void
cleanup_problem(struct harness_cleanup *c, const char *fmt, ...)
{
    if (c->note[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->note, sizeof(c->note), fmt, ap);
        va_end(ap);
    }
}

/* One call on an Id by the main principal. *status is 0 when no answer came (code then
 * says why); *body (may be NULL) gets the answer's JSON body, owned by the caller. */
static enum ref_status cleanup_call(struct run *r,
                                    enum ref_op op,
                                    const char *id,
                                    int *status,
                                    char *code,
                                    size_t code_cap,
                                    json_t **body)
{
    *status = 0;
    if (body != NULL) {
        *body = NULL;
    }
    harness_textf(code, code_cap, "no answer");
    json_t *params = json_object();
    json_t *v = runner_literal_param(id, strlen(id));
    if (params == NULL || v == NULL || json_object_set_new(params, "Id", v) != 0) {
        json_decref(params);
        return REF_E_NOMEM;
    }
    struct harness_exchange x;
    struct observation o;
    char why[RUNNER_DETAIL_BYTES] = "";
    enum ref_status rc = runner_side_call(r, op, params, NULL, &x, &o, why, sizeof(why));
    json_decref(params);
    if (rc == REF_OK) {
        *status = o.http.status;
        harness_textf(code, code_cap, "%s",
                      x.error_code[0] != '\0' ? x.error_code : "(no error code)");
        if (body != NULL) {
            *body = json_incref(o.body);
        }
    } else if (why[0] != '\0') {
        harness_textf(code, code_cap, "%s", why);
    }
    runner_observation_cleanup(&o);
    runner_exchange_cleanup(&x);
    return rc == REF_E_NOMEM ? rc : REF_OK;
}

/* A job's Status as ReadJob gives it, "" when the read gave none. */
static enum ref_status read_job_status(struct run *r, const char *id, char *status, size_t cap)
{
    int st = 0;
    char code[RUNNER_DETAIL_BYTES];
    json_t *body = NULL;
    REF_TRY(cleanup_call(r, REF_OP_READ_JOB, id, &st, code, sizeof(code), &body));
    json_t *v = st == 200 ? harness_json_path(body, "Job.Status") : NULL;
    harness_textf(status, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
    json_decref(body);
    return REF_OK;
}

/* Cancels every job the scenario created, newest first, and counts a cancel only when
 * the job then reads Canceled. */
static enum ref_status cancel_jobs(struct run *r, struct harness_cleanup *c)
{
    char code[RUNNER_DETAIL_BYTES];
    int st = 0;
    for (size_t i = r->jobs.count; i-- > 0;) {
        const char *id = r->jobs.ids[i];
        REF_TRY(cleanup_call(r, REF_OP_CANCEL_JOB, id, &st, code, sizeof(code), NULL));
        if (st / 100 != 2) {
            /* 404: gone; 409: past Submitted, so no cancel is owed. */
            if (st != 404 && st != 409) {
                cleanup_problem(c, "cancel job %s: %d %s", id, st, code);
            }
            continue;
        }
        char status[32];
        REF_TRY(read_job_status(r, id, status, sizeof(status)));
        if (strcmp(status, "Canceled") == 0) {
            c->jobs_canceled++;
        } else {
            c->jobs_cancel_ignored++;
            cleanup_problem(c, "cancel job %s answered %d but the job then read %s", id, st,
                            status[0] != '\0' ? status : "no Status");
        }
    }
    return REF_OK;
}

/* Whether a job of the scenario can still free a pipeline by itself: one that reads
 * Progressing (it will finish). Submitted ones were canceled already: one that is still
 * Submitted was refused or ignored, and waiting will not change it. */
static enum ref_status any_job_moving(struct run *r, bool *moving)
{
    *moving = false;
    for (size_t i = 0; i < r->jobs.count && !*moving; i++) {
        char status[32];
        REF_TRY(read_job_status(r, r->jobs.ids[i], status, sizeof(status)));
        *moving = strcmp(status, "Progressing") == 0;
    }
    return REF_OK;
}

/* Takes ms from the run's shared cleanup budget; false when it is spent. */
static bool take_budget(struct harness_backend *b, int64_t ms)
{
    if (b->cleanup_budget_ms == NULL) {
        return true;
    }
    long long left = atomic_fetch_sub(b->cleanup_budget_ms, (long long)ms);
    return left >= ms;
}

/* What one delete of a pipeline came to. */
enum delete_outcome { DELETE_DONE, DELETE_BUSY, DELETE_FAILED };

/* DeletePipeline, read back: done when the pipeline then reads 404 (or was gone). */
static enum ref_status
delete_pipeline(struct run *r, const char *id, struct harness_cleanup *c, enum delete_outcome *out)
{
    char code[RUNNER_DETAIL_BYTES];
    int st = 0;
    REF_TRY(cleanup_call(r, REF_OP_DELETE_PIPELINE, id, &st, code, sizeof(code), NULL));
    if (st == 409) {
        *out = DELETE_BUSY;
        return REF_OK;
    }
    if (st == 404) {
        *out = DELETE_DONE;
        return REF_OK;
    }
    if (st / 100 != 2) {
        cleanup_problem(c, "delete pipeline %s: %d %s", id, st, code);
        *out = DELETE_FAILED;
        return REF_OK;
    }
    int read = 0;
    REF_TRY(cleanup_call(r, REF_OP_READ_PIPELINE, id, &read, code, sizeof(code), NULL));
    if (read == 404) {
        *out = DELETE_DONE;
    } else {
        cleanup_problem(c, "delete pipeline %s answered %d but ReadPipeline then answered %d", id,
                        st, read);
        *out = DELETE_FAILED;
    }
    return REF_OK;
}

enum ref_status runner_cleanup_shared(struct run *r, struct harness_cleanup *c)
{
    memset(c, 0, sizeof(*c));
    c->is_done = true;
    struct harness_backend *b = r->b;
    if (b->principals[HARNESS_PRINCIPAL_MAIN] == NULL) {
        c->pipelines_left = r->pipelines.count;
        if (r->pipelines.count > 0) {
            harness_textf(c->note, sizeof(c->note), "no main principal to delete with");
        }
        return REF_OK;
    }
    REF_TRY(cancel_jobs(r, c));
    int64_t timeout =
        b->cleanup_timeout_ms > 0 ? b->cleanup_timeout_ms : HARNESS_CLEANUP_TIMEOUT_MS;
    int64_t deadline = b->ops->now_ms(b) + timeout;
    /* Sleeping waits are bounded on this machine's clock: the target's may stand still. */
    int64_t real_deadline = monotonic_ms() + timeout;
    for (size_t i = r->pipelines.count; i-- > 0;) {
        const char *id = r->pipelines.ids[i];
        for (;;) {
            enum delete_outcome done;
            REF_TRY(delete_pipeline(r, id, c, &done));
            if (done == DELETE_DONE) {
                c->pipelines_deleted++;
                runner_budget_add_held(r, 0, 1, 0);
                break;
            }
            if (done == DELETE_FAILED) {
                c->pipelines_left++;
                break;
            }
            /* Busy: jobs still running. On the clock the scenario moved, move it to their
             * finish (it stands still otherwise). */
            int64_t when = 0;
            if (r->may_move_clock && harness_backend_has(b, HARNESS_CAP_VIRTUAL_CLOCK) &&
                b->ops->next_event_ms(b, &when) && when <= deadline) {
                b->ops->set_clock_ms(b, when);
                b->ops->tick(b);
                continue;
            }
            /* On the real clock: wait while a job can still free the pipeline. */
            bool moving = false;
            if (!r->may_move_clock) {
                REF_TRY(any_job_moving(r, &moving));
            }
            const char *why = NULL;
            if (r->may_move_clock) {
                why = "nothing scheduled on the scenario's clock before the cleanup deadline";
            } else if (!moving) {
                why = "no job of the scenario is Progressing: nothing to wait for";
            } else if (b->ops->sleep_ms == NULL || monotonic_ms() >= real_deadline) {
                why = "gave up waiting for its jobs";
            } else if (!take_budget(b, HARNESS_CLEANUP_POLL_MS)) {
                why = "the run's cleanup budget is spent";
            }
            if (why != NULL) {
                c->pipelines_left++;
                cleanup_problem(c, "delete pipeline %s: 409 ResourceInUseException (%s)", id, why);
                break;
            }
            b->ops->sleep_ms(b, HARNESS_CLEANUP_POLL_MS);
        }
    }
    return REF_OK;
}
