/* SPDX-License-Identifier: Apache-2.0
 *
 * job_store.h - pipelines and jobs, the job lifecycle as one transition table, and the
 * lazy scheduler that moves jobs through it.
 *
 * The store owns every pipeline and job. Callers get snapshots (struct ref_job_info,
 * struct ref_pipeline_info) that they own and release with the matching _cleanup. The
 * JSON members kept from the request are deep-copied once, when the store takes them, and
 * never change after: a snapshot holds a reference to the store's own copy rather than a
 * copy of its own, so reading a job costs no allocation. That copy is read-only for
 * everyone; a caller that wants a changed version makes one with json_deep_copy. (This
 * needs jansson's atomic reference counts, JANSSON_THREAD_SAFE_REFCOUNT, under which its
 * read-only functions are thread-safe too.) One mutex guards the whole store, so every
 * entry point is thread-safe and every status change is atomic: of a cancel and a start
 * racing for the same job, exactly one finds it Submitted (contract section 3).
 *
 * Time never comes from a clock in here: callers pass now_ms. The scheduler has no thread;
 * ref_job_store_advance applies whatever is due at the time it is given.
 */
#ifndef REF_JOB_STORE_H
#define REF_JOB_STORE_H

#include "ref/slice.h"
#include "ref/status.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "1795869900000-ab12cd": 13 digits, '-', 6 word characters (contract section 2). */
#define REF_ID_LEN 20

enum ref_job_status {
    REF_JOB_STATUS_NONE = 0, /* "no transition" in tables; never stored */
    REF_JOB_SUBMITTED,
    REF_JOB_PROGRESSING,
    REF_JOB_COMPLETE,
    REF_JOB_CANCELED,
    REF_JOB_ERROR,
    REF_JOB_STATUS_COUNT
};

enum ref_job_event {
    REF_JOB_EV_NONE = 0,
    REF_JOB_EV_CANCEL, /* the CancelJob API */
    REF_JOB_EV_START,  /* the simulated pipeline picks the job up */
    REF_JOB_EV_FINISH, /* the simulated transcode ends well */
    REF_JOB_EV_FAIL,   /* the test hook ref_service_fail_job */
    REF_JOB_EVENT_COUNT
};

enum ref_pipeline_status {
    REF_PIPELINE_STATUS_NONE = 0,
    REF_PIPELINE_ACTIVE,
    REF_PIPELINE_PAUSED,
    REF_PIPELINE_STATUS_COUNT
};

struct ref_job_change {
    enum ref_job_status from;
    enum ref_job_status to;
};

/* "Submitted" ... "Error" (exact case); "" for NONE or out of range. */
const char *ref_job_status_name(enum ref_job_status status);
/* Exact, case-sensitive match; REF_JOB_STATUS_NONE when s names no status. */
enum ref_job_status ref_job_status_from_name(struct ref_slice s);
const char *ref_job_event_name(enum ref_job_event event);
/* "Active" or "Paused"; "" otherwise. */
const char *ref_pipeline_status_name(enum ref_pipeline_status status);
enum ref_pipeline_status ref_pipeline_status_from_name(struct ref_slice s);

/* The transition table itself: the status `event` leads to from `from`, or
 * REF_JOB_STATUS_NONE when the event is not allowed there (or either is out of range). */
enum ref_job_status ref_job_next_status(enum ref_job_status from, enum ref_job_event event);

/* True when s has the Id shape ^\d{13}-\w{6}$ (\w = [A-Za-z0-9_]). */
bool ref_job_id_is_valid(struct ref_slice s);

/* Fills out with n random bytes. REF_OK, or a failure status when no randomness is
 * available (the caller then fails the operation). */
typedef enum ref_status ref_random_fn(void *ctx, uint8_t *out, size_t n);

struct ref_job_store_config {
    int64_t start_delay_ms; /* Submitted -> Progressing, counted from the later of the
                               submission and the pipeline's last switch to Active */
    int64_t run_time_ms;    /* Progressing -> Complete */
    size_t page_size;       /* items per list page; 0 means REF_DEFAULT_PAGE_SIZE */
    size_t max_pipelines;   /* pipelines that exist at once; 0 means REF_MAX_PIPELINES */
    size_t max_queued_jobs; /* jobs Submitted or Progressing at once in one pipeline;
                               0 means REF_MAX_QUEUED_JOBS */
    ref_random_fn *random;  /* Id characters; called with the store locked */
    void *random_ctx;
};

struct ref_job_store;

/* Owned by the caller, free with ref_job_store_free. NULL only when out of memory or when
 * cfg->random is NULL. The config is copied. */
struct ref_job_store *ref_job_store_new(const struct ref_job_store_config *cfg);
void ref_job_store_free(struct ref_job_store *store);

/* Makes dst hold what src holds: the same pipelines and jobs in the same states, the same
 * page tokens issued and the same schedule, so that dst answers every call as src would
 * (Ids it generates from then on come from its own random source). What dst held before
 * is released; dst keeps its own configuration, so both should have been made with the
 * same one. The specs are shared between the two, read-only like every stored spec. For
 * runs that each start from one seeded state (fuzz targets, tests), without seeding it
 * anew every time: once dst has grown to src's size, a copy allocates nothing.
 * REF_OK, or REF_E_NOMEM with dst unchanged. Copying a store onto itself changes nothing. */
REF_MUST_CHECK enum ref_status ref_job_store_copy(struct ref_job_store *dst,
                                                  struct ref_job_store *src);

/* --- Snapshots ------------------------------------------------------------------- */

struct ref_pipeline_info {
    char id[REF_ID_LEN + 1];
    enum ref_pipeline_status status;
    int64_t created_ms;
    int64_t active_since_ms; /* last switch to Active (creation time when created Active) */
    /* One reference, released by _cleanup, to the store's read-only copy of the members
     * given at creation, as given: Name, InputBucket, Role and whichever optional members
     * were present. */
    json_t *spec;
};

struct ref_job_info {
    char id[REF_ID_LEN + 1];
    char pipeline_id[REF_ID_LEN + 1];
    enum ref_job_status status;
    int64_t submit_ms;
    bool has_start;
    int64_t start_ms;
    bool has_finish;
    int64_t finish_ms;
    /* When the scheduler next moves the job (its START, or its FINISH), as of the
     * snapshot; false when nothing is scheduled: the job has ended, or it is Submitted on
     * a paused pipeline. A caller that keeps the earliest event of all jobs can fold a new
     * job's in from here, without a scan of the others. */
    bool has_next_event;
    int64_t next_event_ms;
    /* One reference, released by _cleanup, to the store's read-only copy of Input, Outputs
     * (always an array, also when the request gave a single Output) and whichever of
     * OutputKeyPrefix, Playlists, UserMetadata were given. */
    json_t *spec;
};

void ref_pipeline_info_cleanup(struct ref_pipeline_info *info);
void ref_job_info_cleanup(struct ref_job_info *info);

/* One page of a list. items is owned: release the whole page with _cleanup. */
struct ref_pipeline_page {
    struct ref_pipeline_info *items;
    size_t count;
    bool has_next;
    char next_token[REF_ID_LEN + 1]; /* the Id of the next page's first item */
};

struct ref_job_page {
    struct ref_job_info *items;
    size_t count;
    bool has_next;
    char next_token[REF_ID_LEN + 1];
};

void ref_pipeline_page_cleanup(struct ref_pipeline_page *page);
void ref_job_page_cleanup(struct ref_job_page *page);

/* --- Pipelines ------------------------------------------------------------------- */

/* Creates a pipeline. `id` empty means "generate one" (13-digit now_ms, '-', 6 random
 * [a-z0-9]); a given id is used as is (the seeding hooks). spec is deep-copied.
 * REF_OK: *out (when not NULL) holds a snapshot. REF_E_VALIDATION: a given id has not the
 * Id shape, or status is not Active/Paused. REF_E_IN_USE: the given id exists already.
 * REF_E_LIMIT_EXCEEDED: max_pipelines exist. REF_E_NOMEM, or the random source's status. */
REF_MUST_CHECK enum ref_status ref_job_store_create_pipeline(struct ref_job_store *store,
                                                             int64_t now_ms,
                                                             struct ref_slice id,
                                                             enum ref_pipeline_status status,
                                                             const json_t *spec,
                                                             struct ref_pipeline_info *out);

/* REF_OK with a snapshot in *out, or REF_E_NOT_FOUND. */
REF_MUST_CHECK enum ref_status ref_job_store_read_pipeline(struct ref_job_store *store,
                                                           struct ref_slice id,
                                                           struct ref_pipeline_info *out);

/* Sets Active or Paused. A switch from Paused to Active restarts the start-delay count
 * of the pipeline's Submitted jobs; setting the status it already has changes nothing.
 * REF_E_NOT_FOUND or REF_E_VALIDATION (status). */
REF_MUST_CHECK enum ref_status ref_job_store_set_pipeline_status(struct ref_job_store *store,
                                                                 struct ref_slice id,
                                                                 enum ref_pipeline_status status,
                                                                 int64_t now_ms,
                                                                 struct ref_pipeline_info *out);

/* REF_OK, REF_E_NOT_FOUND, or REF_E_IN_USE while the pipeline has Submitted or
 * Progressing jobs. The pipeline's finished jobs stay readable. */
REF_MUST_CHECK enum ref_status ref_job_store_delete_pipeline(struct ref_job_store *store,
                                                             struct ref_slice id);

/* Lists pipelines in creation order (reversed when is_descending), one page from
 * page_token on (empty: from the first). REF_E_VALIDATION when page_token was never
 * issued as a NextPageToken by this store. REF_E_NOMEM. */
REF_MUST_CHECK enum ref_status ref_job_store_list_pipelines(struct ref_job_store *store,
                                                            bool is_descending,
                                                            struct ref_slice page_token,
                                                            struct ref_pipeline_page *out);

/* --- Jobs ------------------------------------------------------------------------ */

/* Creates a job on an existing pipeline. `id` empty means "generate one". spec (the
 * caller has validated it; Outputs must be an array) is deep-copied. `status` is the
 * status the job ends up in: REF_JOB_SUBMITTED for CreateJob; the seeding hook may ask
 * for any other, reached from Submitted through the transition table at now_ms.
 * REF_E_NOT_FOUND: no such pipeline. REF_E_LIMIT_EXCEEDED: max_queued_jobs jobs of that
 * pipeline are Submitted or Progressing. REF_E_IN_USE: the given id exists.
 * REF_E_VALIDATION: bad id or status. REF_E_NOMEM, or the random source's status. */
REF_MUST_CHECK enum ref_status ref_job_store_create_job(struct ref_job_store *store,
                                                        int64_t now_ms,
                                                        struct ref_slice id,
                                                        struct ref_slice pipeline_id,
                                                        enum ref_job_status status,
                                                        const json_t *spec,
                                                        struct ref_job_info *out);

/* REF_OK with a snapshot in *out, or REF_E_NOT_FOUND. */
REF_MUST_CHECK enum ref_status
ref_job_store_read_job(struct ref_job_store *store, struct ref_slice id, struct ref_job_info *out);

/* The current status alone (no allocation). REF_OK or REF_E_NOT_FOUND. */
REF_MUST_CHECK enum ref_status ref_job_store_job_status(struct ref_job_store *store,
                                                        struct ref_slice id,
                                                        enum ref_job_status *out);

/* Applies one event to one job: the only way a job's status changes. at_ms is when the
 * event happens (it becomes StartTimeMillis or FinishTimeMillis).
 * REF_OK: *change_out (when not NULL) says from/to. REF_E_NOT_FOUND: no such job.
 * REF_E_IN_USE: the table does not allow the event from the current status (for
 * REF_JOB_EV_CANCEL: the job is no longer Submitted). Never allocates; the store is
 * unchanged on any non-OK return. */
REF_MUST_CHECK enum ref_status ref_job_store_apply(struct ref_job_store *store,
                                                   struct ref_slice job_id,
                                                   enum ref_job_event event,
                                                   int64_t at_ms,
                                                   struct ref_job_change *change_out);

struct ref_job_query {
    struct ref_slice pipeline_id; /* non-empty: only this pipeline's jobs (which must exist) */
    enum ref_job_status status;   /* not NONE: only jobs in this status */
    bool is_descending;
    struct ref_slice page_token; /* empty: from the first */
};

/* Lists jobs in creation order (reversed when is_descending), filtered by q.
 * REF_E_NOT_FOUND: q->pipeline_id names no pipeline. REF_E_VALIDATION: the page token was
 * never issued for a job (of that pipeline). REF_E_NOMEM. */
REF_MUST_CHECK enum ref_status ref_job_store_list_jobs(struct ref_job_store *store,
                                                       const struct ref_job_query *q,
                                                       struct ref_job_page *out);

/* --- Seeding (test control, contract section 9) --------------------------------------- */

/* One pipeline of a seed: put in place as given, with a given Id. */
struct ref_pipeline_seed {
    struct ref_slice id;
    enum ref_pipeline_status status;
    const json_t *spec; /* as ref_job_store_create_pipeline's; deep-copied */
};

/* One job of a seed, in any status, with its Timing: submit_ms always, start_ms when the
 * status implies a start (Progressing, Complete, Error), finish_ms when it implies a finish
 * (Complete, Error); the others are ignored. */
struct ref_job_seed {
    struct ref_slice id;
    struct ref_slice pipeline_id; /* an existing pipeline, or one of the same seed */
    enum ref_job_status status;
    int64_t submit_ms;
    int64_t start_ms;
    int64_t finish_ms;
    const json_t *spec; /* as ref_job_store_create_job's; deep-copied */
};

/* The entry a refused seed failed on. */
struct ref_seed_failure {
    bool is_job; /* else a pipeline */
    size_t index;
};

/* Puts every pipeline, then every job, in place, or none of them: all-or-nothing, atomic
 * under the store's lock. Pipelines are created at now_ms (their active-since time too).
 * A job reaches its status from Submitted through the transition table, each event at the
 * time its Timing gives, so the store holds exactly what a job that lived through those
 * events would; a Submitted or Progressing job is scheduled from there as any other. The
 * limits (max_pipelines, max_queued_jobs) do not apply to a seed; what it puts in place
 * counts toward them afterwards like anything else.
 * REF_OK. REF_E_VALIDATION: an Id without the Id shape or a status out of range.
 * REF_E_IN_USE: an Id already in use, by the store or by an earlier entry of the seed.
 * REF_E_NOT_FOUND: a job names a pipeline that neither exists nor is in the seed.
 * REF_E_NOMEM. On any failure *failed names the entry (NOMEM: index 0 of pipelines) and the
 * store is unchanged. */
REF_MUST_CHECK enum ref_status ref_job_store_seed(struct ref_job_store *store,
                                                  int64_t now_ms,
                                                  const struct ref_pipeline_seed *pipelines,
                                                  size_t num_pipelines,
                                                  const struct ref_job_seed *jobs,
                                                  size_t num_jobs,
                                                  struct ref_seed_failure *failed);

/* --- Scheduler ------------------------------------------------------------------- */

/* Applies every START and FINISH due at or before now_ms, in time order (ties: older job
 * first, a job's START before its FINISH). Starts happen only on Active pipelines; times
 * recorded are the scheduled times, not now_ms. Never allocates. Returns how many events
 * it applied. */
size_t ref_job_store_advance(struct ref_job_store *store, int64_t now_ms);

/* The time of the earliest scheduled START or FINISH (due or not); false when none is
 * scheduled (no Submitted job on an Active pipeline, no Progressing job). */
bool ref_job_store_next_event_ms(struct ref_job_store *store, int64_t *when_ms);

struct ref_job_store_stats {
    size_t pipelines;   /* existing (not deleted) */
    size_t jobs;        /* every job ever created */
    size_t queued_jobs; /* Submitted or Progressing */
    size_t by_status[REF_JOB_STATUS_COUNT];
};

/* A consistent snapshot of the counts (for tests and fuzz invariants). */
void ref_job_store_stats(struct ref_job_store *store, struct ref_job_store_stats *out);

#endif
