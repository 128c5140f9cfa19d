/* SPDX-License-Identifier: Apache-2.0
 *
 * job_schedule.c - when each job's next START or FINISH is due, and the min-heap that
 * keeps those events in the order the store applies them.
 *
 * Only live jobs (Submitted, Progressing) have an event, one each: a Submitted job starts
 * start_delay_ms after it was submitted or its pipeline last became Active, whichever is
 * later, and only while that pipeline is Active; a Progressing job finishes run_time_ms
 * after it started. job_store.c calls ref_schedule_job after every change that can move
 * a job's event, and pops the heap's top in advance_locked.
 */
#include "job_store_internal.h"

#include <stdint.h>

static int64_t add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b) {
        return INT64_MAX;
    }
    if (b < 0 && a < INT64_MIN - b) {
        return INT64_MIN;
    }
    return a + b;
}

/* When the job's next scheduled event happens; false when none is scheduled. */
bool ref_job_next_event(const struct ref_job_store *store,
                        const struct ref_store_job *job,
                        int64_t *at_ms,
                        enum ref_job_event *event)
{
    if (job->status == REF_JOB_SUBMITTED) {
        const struct ref_store_pipeline *p = &store->pipelines[job->pipeline];
        if (p->is_deleted || p->status != REF_PIPELINE_ACTIVE) {
            return false;
        }
        int64_t from_ms = job->submit_ms > p->active_since_ms ? job->submit_ms : p->active_since_ms;
        *at_ms = add_sat(from_ms, store->cfg.start_delay_ms);
        *event = REF_JOB_EV_START;
        return true;
    }
    if (job->status == REF_JOB_PROGRESSING) {
        *at_ms = add_sat(job->start_ms, store->cfg.run_time_ms);
        *event = REF_JOB_EV_FINISH;
        return true;
    }
    return false;
}

/* The order events are applied in: by time, then the older job first, then START before
 * FINISH (enum order). The schedule holds one event per job, so the last rule is kept by
 * construction there (a FINISH enters only once its START is applied); it stays here so
 * that the order is total. */
int ref_schedule_cmp(const struct ref_scheduled_event *x, const struct ref_scheduled_event *y)
{
    if (x->at_ms != y->at_ms) {
        return x->at_ms < y->at_ms ? -1 : 1;
    }
    if (x->job != y->job) {
        return x->job < y->job ? -1 : 1;
    }
    return (x->event > y->event) - (x->event < y->event);
}

/* --- Schedule ------------------------------------------------------------------------- */

/* A binary min-heap in ref_schedule_cmp order. Each entry names its job and each job knows its
 * entry's position, so a job's event can be moved or dropped in place, without a search
 * and without stale entries piling up behind paused pipelines or canceled jobs. */

static void schedule_place(struct ref_job_store *store, size_t pos, struct ref_scheduled_event e)
{
    store->schedule[pos] = e;
    store->jobs[e.job].schedule_pos = pos;
}

/* Restores the heap order around `pos`, whose entry may have moved either way. */
static void schedule_fix(struct ref_job_store *store, size_t pos)
{
    struct ref_scheduled_event e = store->schedule[pos];
    while (pos > 0 && ref_schedule_cmp(&e, &store->schedule[(pos - 1) / 2]) < 0) {
        schedule_place(store, pos, store->schedule[(pos - 1) / 2]);
        pos = (pos - 1) / 2;
    }
    for (;;) {
        size_t child = 2 * pos + 1;
        if (child >= store->schedule_len) {
            break;
        }
        if (child + 1 < store->schedule_len &&
            ref_schedule_cmp(&store->schedule[child + 1], &store->schedule[child]) < 0) {
            child++;
        }
        if (ref_schedule_cmp(&store->schedule[child], &e) >= 0) {
            break;
        }
        schedule_place(store, pos, store->schedule[child]);
        pos = child;
    }
    schedule_place(store, pos, e);
}

void ref_schedule_remove(struct ref_job_store *store, size_t job_ix)
{
    size_t pos = store->jobs[job_ix].schedule_pos;
    store->jobs[job_ix].schedule_pos = SIZE_MAX;
    size_t last = --store->schedule_len;
    if (pos != last) {
        schedule_place(store, pos, store->schedule[last]);
        schedule_fix(store, pos);
    }
}

/* Makes the job's entry in the schedule agree with ref_job_next_event: added, moved or removed.
 * Never allocates: a job has at most one entry and only live jobs have one. */
void ref_schedule_job(struct ref_job_store *store, size_t job_ix)
{
    struct ref_store_job *job = &store->jobs[job_ix];
    struct ref_scheduled_event e = {.job = job_ix};
    if (!ref_job_next_event(store, job, &e.at_ms, &e.event)) {
        if (job->schedule_pos != SIZE_MAX) {
            ref_schedule_remove(store, job_ix);
        }
        return;
    }
    size_t pos = job->schedule_pos;
    if (pos == SIZE_MAX) {
        pos = store->schedule_len++;
    }
    schedule_place(store, pos, e);
    schedule_fix(store, pos);
}

/* After a pipeline's status or active-since time changed: only its Submitted jobs' starts
 * depend on either, so only they move. */
void ref_schedule_submitted_of(struct ref_job_store *store, size_t pipe)
{
    for (size_t j = store->pipelines[pipe].first_submitted; j != SIZE_MAX;
         j = store->jobs[j].next_submitted) {
        ref_schedule_job(store, j);
    }
}
