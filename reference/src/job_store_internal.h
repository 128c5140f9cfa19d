/* SPDX-License-Identifier: Apache-2.0
 *
 * job_store_internal.h - the job store's data and the parts of it that live in their own
 * files: Ids (job_id.c), the Id index (job_index.c), the schedule (job_schedule.c), and
 * snapshots and paged listings (job_list.c).
 *
 * Only the store's own .c files and its tests include this. Nothing here locks: every
 * function that takes a store expects the caller (job_store.c) to hold store->lock.
 */
#ifndef REF_JOB_STORE_INTERNAL_H
#define REF_JOB_STORE_INTERNAL_H

#include "ref/job_store.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <jansson.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* --- The store ------------------------------------------------------------------------ */

struct ref_store_pipeline {
    char id[REF_ID_LEN + 1];
    enum ref_pipeline_status status;
    int64_t created_ms;
    int64_t active_since_ms;
    bool is_deleted;
    bool is_token_issued;   /* handed out as a NextPageToken, so it may come back */
    size_t first_submitted; /* its Submitted jobs, linked through the jobs; SIZE_MAX: none */
    size_t num_live_jobs;   /* its Submitted and Progressing jobs: in use while not zero */
    json_t *spec;
};

struct ref_store_job {
    char id[REF_ID_LEN + 1];
    size_t pipeline;
    enum ref_job_status status;
    int64_t submit_ms;
    bool has_start;
    int64_t start_ms;
    bool has_finish;
    int64_t finish_ms;
    bool is_token_issued;
    size_t live_pos; /* index in store->live while Submitted or Progressing */
    /* Neighbours in its pipeline's list of Submitted jobs while Submitted; SIZE_MAX ends it. */
    size_t prev_submitted;
    size_t next_submitted;
    size_t schedule_pos; /* index in store->schedule while an event is scheduled, else SIZE_MAX */
    json_t *spec;
};

/* Open addressing, linear probing; a slot holds array index + 1 (0 = empty). Entries
 * are never removed, so no tombstones are needed. */
struct ref_id_index {
    size_t *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

/* A job's next START or FINISH, as ref_job_next_event gives it. */
struct ref_scheduled_event {
    int64_t at_ms;
    size_t job;
    enum ref_job_event event;
};

struct ref_job_store {
    pthread_mutex_t lock;
    struct ref_job_store_config cfg;

    struct ref_store_pipeline *pipelines;
    size_t num_pipelines; /* tombstones included */
    size_t cap_pipelines;
    size_t live_pipelines; /* not deleted */
    struct ref_id_index pipeline_index;

    struct ref_store_job *jobs;
    size_t num_jobs;
    size_t cap_jobs;
    struct ref_id_index job_index;

    size_t *live; /* jobs that are Submitted or Progressing */
    size_t num_live;
    size_t cap_live;
    /* Min-heap (ref_schedule_cmp) of the next event of every job that has one. Only live jobs have
     * one, so num_live entries always fit: capacity is reserved when a job is created and
     * the scheduler never allocates. */
    struct ref_scheduled_event *schedule;
    size_t schedule_len;
    size_t cap_schedule;
    /* Jobs whose FINISH an advance holds back until it ends (see advance_locked); at most
     * one per live job, reserved like the schedule. */
    size_t *held_finishes;
    size_t cap_held_finishes;

    size_t by_status[REF_JOB_STATUS_COUNT];
};

/* --- Ids (job_id.c) ------------------------------------------------------------------- */

/* Copies a valid Id (exactly REF_ID_LEN bytes) into a NUL-terminated array. */
static inline void ref_job_id_copy(char dst[REF_ID_LEN + 1], struct ref_slice id)
{
    memcpy(dst, id.ptr, REF_ID_LEN);
    dst[REF_ID_LEN] = '\0';
}

static inline struct ref_slice ref_job_id_slice(const char id[REF_ID_LEN + 1])
{
    return ref_slice_make(id, REF_ID_LEN);
}

/* Whether id is already in use; ctx is what the caller passed to ref_job_id_generate. */
typedef bool ref_id_taken_fn(const void *ctx, struct ref_slice id);

/* A new Id into out: the 13-digit creation time, '-', 6 unbiased random [a-z0-9] drawn from
 * random, drawn again while is_taken says the Id is in use. REF_OK; the random source's
 * status; REF_E_INTERNAL when every attempt collided (only a broken source does that). */
REF_MUST_CHECK enum ref_status ref_job_id_generate(int64_t now_ms,
                                                   ref_random_fn *random,
                                                   void *random_ctx,
                                                   ref_id_taken_fn *is_taken,
                                                   const void *taken_ctx,
                                                   char out[REF_ID_LEN + 1]);

/* --- The Id index (job_index.c) --------------------------------------------------------- */

/* The hash of the Id indexes; id is REF_ID_LEN bytes. Its low bits pick a slot, so every
 * byte of the Id must reach them. */
uint64_t ref_job_store_id_hash(struct ref_slice id);

/* The Id of the store's entry at array index i (a pipeline's or a job's). */
typedef const char *ref_id_at_fn(const struct ref_job_store *store, size_t i);

/* The array index holding id, or SIZE_MAX. */
size_t ref_id_index_find(const struct ref_job_store *store,
                         const struct ref_id_index *ix,
                         ref_id_at_fn *id_at,
                         struct ref_slice id);
/* Records that id is at array index `at`; room must have been reserved. */
void ref_id_index_put(struct ref_id_index *ix, struct ref_slice id, size_t at);
/* Makes sure `more` entries fit at a load of at most one half (a seed reserves for all of
 * its entries at once), rehashing the `n` entries id_at gives. REF_OK or REF_E_NOMEM (the
 * index unchanged). */
REF_MUST_CHECK enum ref_status ref_id_index_reserve(const struct ref_job_store *store,
                                                    struct ref_id_index *ix,
                                                    ref_id_at_fn *id_at,
                                                    size_t n,
                                                    size_t more);
/* The slots dst needs to become a copy of src, allocated before anything changes (*fresh
 * NULL when dst's own do). REF_OK or REF_E_NOMEM. */
REF_MUST_CHECK enum ref_status ref_id_index_copy_prepare(const struct ref_id_index *dst,
                                                         const struct ref_id_index *src,
                                                         size_t **fresh);
/* dst becomes a copy of src, using what ref_id_index_copy_prepare gave; never fails. */
void ref_id_index_copy(struct ref_id_index *dst, const struct ref_id_index *src, size_t *fresh);

/* --- The schedule (job_schedule.c) ------------------------------------------------------ */

/* When the job's next scheduled event happens; false when none is scheduled. */
bool ref_job_next_event(const struct ref_job_store *store,
                        const struct ref_store_job *job,
                        int64_t *at_ms,
                        enum ref_job_event *event);
/* The order events are applied in (<0, 0, >0 as x comes before, with or after y). */
int ref_schedule_cmp(const struct ref_scheduled_event *x, const struct ref_scheduled_event *y);
/* Drops the job's entry, which must be in the schedule. */
void ref_schedule_remove(struct ref_job_store *store, size_t job_ix);
/* Makes the job's entry agree with ref_job_next_event: added, moved or removed. Never
 * allocates. */
void ref_schedule_job(struct ref_job_store *store, size_t job_ix);
/* Re-schedules the Submitted jobs of pipeline `pipe`, after its status or active-since
 * time changed. */
void ref_schedule_submitted_of(struct ref_job_store *store, size_t pipe);

/* --- Lookups and snapshots (job_store.c, job_list.c) ----------------------------------- */

/* The array index of the pipeline (deleted ones included) or job with this Id, or SIZE_MAX. */
size_t ref_store_find_pipeline(const struct ref_job_store *store, struct ref_slice id);
size_t ref_store_find_job(const struct ref_job_store *store, struct ref_slice id);
/* The index of an existing (not deleted) pipeline, or SIZE_MAX. */
size_t ref_store_find_existing_pipeline(const struct ref_job_store *store, struct ref_slice id);

/* A pipeline's or job's public form, sharing the stored spec (job_store.h). */
void ref_store_snapshot_pipeline(const struct ref_store_pipeline *p, struct ref_pipeline_info *out);
void ref_store_snapshot_job(const struct ref_job_store *store,
                            const struct ref_store_job *j,
                            struct ref_job_info *out);

#endif
