/* SPDX-License-Identifier: Apache-2.0
 *
 * job_store.c - pipelines, jobs, the lifecycle table and the lazy scheduler.
 *
 * Pipelines and jobs live in arrays in creation order (the order lists use); an
 * open-addressing hash per kind (job_index.c) finds them by Id, and job_id.c makes the
 * Ids the store generates; job_list.c takes snapshots and pages through both arrays.
 * Deleted pipelines stay in their array as tombstones so that Ids remain unique and page
 * tokens keep their position. Jobs that can still change
 * (Submitted, Progressing) are also listed in `live`.
 *
 * The scheduler keeps every job's next START or FINISH in a min-heap (`schedule`,
 * job_schedule.c), one entry per job, in the order it applies them, so an advance costs
 * O(log n) per event it applies and the next event time is the heap's top. apply_locked
 * re-schedules the job it changes; a pipeline's pause or resume re-schedules its Submitted
 * jobs, which each pipeline keeps linked (the only jobs whose next event a pipeline's
 * status moves). One mutex guards everything; every status change goes through
 * apply_locked and the table s_next.
 */
#include "ref/job_store.h"

#include "ref/limits.h"
#include "ref/mem.h"

#include "job_store_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

/* Snapshots and copied stores share the specs (job_store.h): sound only when jansson's
 * reference counts are atomic. */
#if !defined(JANSSON_THREAD_SAFE_REFCOUNT)
#error "the job store shares JSON between threads: it needs jansson's atomic reference counts"
#endif

/* The job lifecycle of contract section 3, and nothing else. Zero means "not allowed",
 * so anything left out fails closed. Only Submitted -CANCEL-> Canceled is documented AWS
 * behaviour; the other rows are the simulation's. */
static const enum ref_job_status s_next[REF_JOB_STATUS_COUNT][REF_JOB_EVENT_COUNT] = {
    [REF_JOB_SUBMITTED] =
        {[REF_JOB_EV_CANCEL] = REF_JOB_CANCELED, [REF_JOB_EV_START] = REF_JOB_PROGRESSING},
    [REF_JOB_PROGRESSING] =
        {[REF_JOB_EV_FINISH] = REF_JOB_COMPLETE, [REF_JOB_EV_FAIL] = REF_JOB_ERROR},
};

/* The events that lead from Submitted to each status through s_next: how a job made in
 * another status (the seeding hooks, a seed) gets there. */
static const enum ref_job_event s_path[REF_JOB_STATUS_COUNT][2] = {
    [REF_JOB_PROGRESSING] = {REF_JOB_EV_START},
    [REF_JOB_COMPLETE] = {REF_JOB_EV_START, REF_JOB_EV_FINISH},
    [REF_JOB_CANCELED] = {REF_JOB_EV_CANCEL},
    [REF_JOB_ERROR] = {REF_JOB_EV_START, REF_JOB_EV_FAIL},
};

static const char *const s_job_status_names[REF_JOB_STATUS_COUNT] = {
    [REF_JOB_SUBMITTED] = "Submitted", [REF_JOB_PROGRESSING] = "Progressing",
    [REF_JOB_COMPLETE] = "Complete",   [REF_JOB_CANCELED] = "Canceled",
    [REF_JOB_ERROR] = "Error",
};

static const char *const s_job_event_names[REF_JOB_EVENT_COUNT] = {
    [REF_JOB_EV_CANCEL] = "CANCEL",
    [REF_JOB_EV_START] = "START",
    [REF_JOB_EV_FINISH] = "FINISH",
    [REF_JOB_EV_FAIL] = "FAIL",
};

static const char *const s_pipeline_status_names[REF_PIPELINE_STATUS_COUNT] = {
    [REF_PIPELINE_ACTIVE] = "Active",
    [REF_PIPELINE_PAUSED] = "Paused",
};

/* --- Names and the table ----------------------------------------------------------- */

/* The name a table indexed by an enum gives `value`, or "" when the value is out of range
 * or has no name (the zero "none" member). Shared by every status and event table so that
 * all of them treat bad values the same way. */
static const char *name_in(const char *const *names, size_t count, unsigned value)
{
    if (value >= count || names[value] == NULL) {
        return "";
    }
    return names[value];
}

/* The index whose name equals s exactly (case-sensitive, as the API's enums are), or 0,
 * the "none" member, when no name does. Index 0 is never a name. */
static int index_of_name(const char *const *names, size_t count, struct ref_slice s)
{
    for (size_t i = 1; i < count; i++) {
        if (names[i] != NULL && ref_slice_eq_cstr(s, names[i])) {
            return (int)i;
        }
    }
    return 0;
}

const char *ref_job_status_name(enum ref_job_status status)
{
    return name_in(s_job_status_names, REF_JOB_STATUS_COUNT, (unsigned)status);
}

enum ref_job_status ref_job_status_from_name(struct ref_slice s)
{
    return (enum ref_job_status)index_of_name(s_job_status_names, REF_JOB_STATUS_COUNT, s);
}

const char *ref_job_event_name(enum ref_job_event event)
{
    return name_in(s_job_event_names, REF_JOB_EVENT_COUNT, (unsigned)event);
}

const char *ref_pipeline_status_name(enum ref_pipeline_status status)
{
    return name_in(s_pipeline_status_names, REF_PIPELINE_STATUS_COUNT, (unsigned)status);
}

enum ref_pipeline_status ref_pipeline_status_from_name(struct ref_slice s)
{
    return (enum ref_pipeline_status)index_of_name(s_pipeline_status_names,
                                                   REF_PIPELINE_STATUS_COUNT, s);
}

enum ref_job_status ref_job_next_status(enum ref_job_status from, enum ref_job_event event)
{
    if ((unsigned)from >= REF_JOB_STATUS_COUNT || (unsigned)event >= REF_JOB_EVENT_COUNT) {
        return REF_JOB_STATUS_NONE;
    }
    return s_next[from][event];
}

/* --- Growth and lookups ----------------------------------------------------------- */

/* Makes room for `need` elements of `size` bytes in *arr (capacity *cap). */
static enum ref_status grow_array(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return REF_OK;
    }
    size_t new_cap = *cap < 16 ? 16 : *cap;
    while (new_cap < need) {
        if (new_cap > SIZE_MAX / 2) {
            return REF_E_NOMEM;
        }
        new_cap *= 2;
    }
    if (new_cap > SIZE_MAX / size) {
        return REF_E_NOMEM;
    }
    void *p = ref_mem_realloc(*arr, new_cap * size);
    if (p == NULL) {
        return REF_E_NOMEM;
    }
    *arr = p;
    *cap = new_cap;
    return REF_OK;
}

static const char *pipeline_id_at(const struct ref_job_store *store, size_t i)
{
    return store->pipelines[i].id;
}

static const char *job_id_at(const struct ref_job_store *store, size_t i)
{
    return store->jobs[i].id;
}

size_t ref_store_find_pipeline(const struct ref_job_store *store, struct ref_slice id)
{
    return ref_id_index_find(store, &store->pipeline_index, pipeline_id_at, id);
}

size_t ref_store_find_job(const struct ref_job_store *store, struct ref_slice id)
{
    return ref_id_index_find(store, &store->job_index, job_id_at, id);
}

/* Ids are unique across pipelines and jobs, deleted pipelines included. ctx is the store
 * (ref_id_taken_fn, for ref_job_id_generate). */
static bool id_taken(const void *ctx, struct ref_slice id)
{
    const struct ref_job_store *store = ctx;
    return ref_store_find_pipeline(store, id) != SIZE_MAX ||
           ref_store_find_job(store, id) != SIZE_MAX;
}

/* --- Lifecycle ------------------------------------------------------------------------ */

static bool is_live(enum ref_job_status s)
{
    return s == REF_JOB_SUBMITTED || s == REF_JOB_PROGRESSING;
}

static void live_remove(struct ref_job_store *store, size_t job)
{
    size_t pos = store->jobs[job].live_pos;
    size_t last = store->live[store->num_live - 1];
    store->pipelines[store->jobs[job].pipeline].num_live_jobs--;
    store->live[pos] = last;
    store->jobs[last].live_pos = pos;
    store->num_live--;
    store->jobs[job].live_pos = SIZE_MAX;
}

/* Puts a job at the front of its pipeline's list of Submitted jobs. */
static void submitted_push(struct ref_job_store *store, size_t job_ix)
{
    struct ref_store_job *job = &store->jobs[job_ix];
    struct ref_store_pipeline *p = &store->pipelines[job->pipeline];
    job->prev_submitted = SIZE_MAX;
    job->next_submitted = p->first_submitted;
    if (p->first_submitted != SIZE_MAX) {
        store->jobs[p->first_submitted].prev_submitted = job_ix;
    }
    p->first_submitted = job_ix;
}

static void submitted_remove(struct ref_job_store *store, size_t job_ix)
{
    struct ref_store_job *job = &store->jobs[job_ix];
    if (job->prev_submitted != SIZE_MAX) {
        store->jobs[job->prev_submitted].next_submitted = job->next_submitted;
    } else {
        store->pipelines[job->pipeline].first_submitted = job->next_submitted;
    }
    if (job->next_submitted != SIZE_MAX) {
        store->jobs[job->next_submitted].prev_submitted = job->prev_submitted;
    }
    job->prev_submitted = SIZE_MAX;
    job->next_submitted = SIZE_MAX;
}

/* --- Transitions and the scheduler ------------------------------------------------------ */

/* The one place a job's status changes. */
static enum ref_status apply_locked(struct ref_job_store *store,
                                    size_t job_ix,
                                    enum ref_job_event event,
                                    int64_t at_ms,
                                    struct ref_job_change *change_out)
{
    struct ref_store_job *job = &store->jobs[job_ix];
    enum ref_job_status from = job->status;
    enum ref_job_status to = ref_job_next_status(from, event);
    if (to == REF_JOB_STATUS_NONE) {
        return REF_E_IN_USE;
    }
    job->status = to;
    store->by_status[from]--;
    store->by_status[to]++;
    if (to == REF_JOB_PROGRESSING) {
        job->has_start = true;
        job->start_ms = at_ms;
    } else if (to == REF_JOB_COMPLETE || to == REF_JOB_ERROR) {
        job->has_finish = true;
        job->finish_ms = at_ms;
    }
    if (from == REF_JOB_SUBMITTED) {
        submitted_remove(store, job_ix);
    }
    if (is_live(from) && !is_live(to)) {
        live_remove(store, job_ix);
    }
    /* Every change moves the job's next event: a start schedules its finish, an end
     * leaves none. */
    ref_schedule_job(store, job_ix);
    if (change_out != NULL) {
        *change_out = (struct ref_job_change){.from = from, .to = to};
    }
    return REF_OK;
}

/* Applies the schedule's top while it is due. What one advance applies is what was due
 * when it began, plus the FINISH of a job it starts when that is due too and comes after
 * the START in ref_schedule_cmp order; all in ref_schedule_cmp order. A FINISH that would come
 * before its own START (a negative run time) is held back to the next advance: taken in order it
 * would have been tried first, while the job was still Submitted. */
static size_t advance_locked(struct ref_job_store *store, int64_t now_ms)
{
    size_t applied = 0;
    size_t held = 0;
    while (store->schedule_len > 0 && store->schedule[0].at_ms <= now_ms) {
        struct ref_scheduled_event e = store->schedule[0];
        if (apply_locked(store, e.job, e.event, e.at_ms, NULL) != REF_OK) {
            /* Unreachable while every entry is its job's next event; dropping the entry
             * keeps a broken schedule from spinning here with the store locked. */
            ref_schedule_remove(store, e.job);
            continue;
        }
        applied++;
        size_t pos = store->jobs[e.job].schedule_pos;
        if (pos != SIZE_MAX && ref_schedule_cmp(&store->schedule[pos], &e) < 0) {
            ref_schedule_remove(store, e.job);
            store->held_finishes[held++] = e.job;
        }
    }
    for (size_t i = 0; i < held; i++) {
        ref_schedule_job(store, store->held_finishes[i]);
    }
    return applied;
}

/* --- Lifetime -------------------------------------------------------------------------- */

struct ref_job_store *ref_job_store_new(const struct ref_job_store_config *cfg)
{
    if (cfg == NULL || cfg->random == NULL) {
        return NULL;
    }
    struct ref_job_store *store = ref_mem_calloc(1, sizeof(*store));
    if (store == NULL) {
        return NULL;
    }
    if (pthread_mutex_init(&store->lock, NULL) != 0) {
        ref_mem_free(store);
        return NULL;
    }
    store->cfg = *cfg;
    if (store->cfg.page_size == 0) {
        store->cfg.page_size = REF_DEFAULT_PAGE_SIZE;
    }
    if (store->cfg.max_pipelines == 0) {
        store->cfg.max_pipelines = REF_MAX_PIPELINES;
    }
    if (store->cfg.max_queued_jobs == 0) {
        store->cfg.max_queued_jobs = REF_MAX_QUEUED_JOBS;
    }
    return store;
}

void ref_job_store_free(struct ref_job_store *store)
{
    if (store == NULL) {
        return;
    }
    for (size_t i = 0; i < store->num_pipelines; i++) {
        json_decref(store->pipelines[i].spec);
    }
    for (size_t i = 0; i < store->num_jobs; i++) {
        json_decref(store->jobs[i].spec);
    }
    ref_mem_free(store->pipelines);
    ref_mem_free(store->jobs);
    ref_mem_free(store->live);
    ref_mem_free(store->schedule);
    ref_mem_free(store->held_finishes);
    ref_mem_free(store->pipeline_index.slots);
    ref_mem_free(store->job_index.slots);
    pthread_mutex_destroy(&store->lock);
    ref_mem_free(store);
}

/* memcpy of n elements, for arrays that are NULL while empty. */
static void copy_elements(void *dst, const void *src, size_t n, size_t size)
{
    if (n > 0) {
        memcpy(dst, src, n * size);
    }
}

static enum ref_status copy_locked(struct ref_job_store *dst, const struct ref_job_store *src)
{
    /* Room first, so that a failure leaves dst's contents as they were. The schedule and the
     * held finishes get room for every live job, as create_job_locked keeps it. */
    REF_TRY(grow_array((void **)&dst->pipelines, &dst->cap_pipelines, src->num_pipelines,
                       sizeof(dst->pipelines[0])));
    REF_TRY(grow_array((void **)&dst->jobs, &dst->cap_jobs, src->num_jobs, sizeof(dst->jobs[0])));
    REF_TRY(grow_array((void **)&dst->live, &dst->cap_live, src->num_live, sizeof(dst->live[0])));
    REF_TRY(grow_array((void **)&dst->schedule, &dst->cap_schedule, src->num_live,
                       sizeof(dst->schedule[0])));
    REF_TRY(grow_array((void **)&dst->held_finishes, &dst->cap_held_finishes, src->num_live,
                       sizeof(dst->held_finishes[0])));
    size_t *pipeline_slots = NULL;
    size_t *job_slots = NULL;
    REF_TRY(ref_id_index_copy_prepare(&dst->pipeline_index, &src->pipeline_index, &pipeline_slots));
    enum ref_status rc = ref_id_index_copy_prepare(&dst->job_index, &src->job_index, &job_slots);
    if (rc != REF_OK) {
        ref_mem_free(pipeline_slots);
        return rc;
    }

    for (size_t i = 0; i < dst->num_pipelines; i++) {
        json_decref(dst->pipelines[i].spec);
    }
    for (size_t i = 0; i < dst->num_jobs; i++) {
        json_decref(dst->jobs[i].spec);
    }
    copy_elements(dst->pipelines, src->pipelines, src->num_pipelines, sizeof(src->pipelines[0]));
    copy_elements(dst->jobs, src->jobs, src->num_jobs, sizeof(src->jobs[0]));
    copy_elements(dst->live, src->live, src->num_live, sizeof(src->live[0]));
    copy_elements(dst->schedule, src->schedule, src->schedule_len, sizeof(src->schedule[0]));
    for (size_t i = 0; i < src->num_pipelines; i++) {
        (void)json_incref(dst->pipelines[i].spec);
    }
    for (size_t i = 0; i < src->num_jobs; i++) {
        (void)json_incref(dst->jobs[i].spec);
    }
    ref_id_index_copy(&dst->pipeline_index, &src->pipeline_index, pipeline_slots);
    ref_id_index_copy(&dst->job_index, &src->job_index, job_slots);
    dst->num_pipelines = src->num_pipelines;
    dst->live_pipelines = src->live_pipelines;
    dst->num_jobs = src->num_jobs;
    dst->num_live = src->num_live;
    dst->schedule_len = src->schedule_len;
    for (int s = 0; s < REF_JOB_STATUS_COUNT; s++) {
        dst->by_status[s] = src->by_status[s];
    }
    return REF_OK;
}

enum ref_status ref_job_store_copy(struct ref_job_store *dst, struct ref_job_store *src)
{
    if (dst == src) {
        return REF_OK;
    }
    /* Both locks, always in address order, so that two copies between the same two stores
     * in opposite directions cannot deadlock. */
    bool dst_first = (uintptr_t)dst < (uintptr_t)src;
    pthread_mutex_lock(dst_first ? &dst->lock : &src->lock);
    pthread_mutex_lock(dst_first ? &src->lock : &dst->lock);
    enum ref_status rc = copy_locked(dst, src);
    pthread_mutex_unlock(&src->lock);
    pthread_mutex_unlock(&dst->lock);
    return rc;
}

/* --- Putting pipelines and jobs in place ----------------------------------------- */

/* The Id and spec a new pipeline or job starts with: the caller's Id (already checked to be
 * valid and free) or a freshly generated one, and the store's own copy of spec ({} when
 * there is none). Pipelines and jobs share one Id space, so they share this rule too. On
 * failure nothing is left to free. */
static enum ref_status take_id_and_spec(struct ref_job_store *store,
                                        int64_t now_ms,
                                        struct ref_slice id,
                                        const json_t *spec,
                                        char id_out[REF_ID_LEN + 1],
                                        json_t **spec_out)
{
    if (id.len != 0) {
        ref_job_id_copy(id_out, id);
    } else {
        REF_TRY(ref_job_id_generate(now_ms, store->cfg.random, store->cfg.random_ctx, id_taken,
                                    store, id_out));
    }
    *spec_out = spec != NULL ? json_deep_copy(spec) : json_object();
    return *spec_out != NULL ? REF_OK : REF_E_NOMEM;
}

/* Room for `pipelines` more pipelines and `jobs` more jobs, each of them live: the arrays,
 * the Id indexes, the live list and the schedule. Once it succeeded, inserting them cannot
 * fail, so a seed of many entries puts all of them in place or none. */
static enum ref_status reserve_locked(struct ref_job_store *store, size_t pipelines, size_t jobs)
{
    if (pipelines > SIZE_MAX / 2 - store->num_pipelines || jobs > SIZE_MAX / 2 - store->num_jobs) {
        return REF_E_NOMEM;
    }
    REF_TRY(grow_array((void **)&store->pipelines, &store->cap_pipelines,
                       store->num_pipelines + pipelines, sizeof(store->pipelines[0])));
    REF_TRY(ref_id_index_reserve(store, &store->pipeline_index, pipeline_id_at,
                                 store->num_pipelines, pipelines));
    if (jobs == 0) {
        return REF_OK;
    }
    REF_TRY(grow_array((void **)&store->jobs, &store->cap_jobs, store->num_jobs + jobs,
                       sizeof(store->jobs[0])));
    REF_TRY(grow_array((void **)&store->live, &store->cap_live, store->num_live + jobs,
                       sizeof(store->live[0])));
    REF_TRY(grow_array((void **)&store->schedule, &store->cap_schedule, store->num_live + jobs,
                       sizeof(store->schedule[0])));
    REF_TRY(grow_array((void **)&store->held_finishes, &store->cap_held_finishes,
                       store->num_live + jobs, sizeof(store->held_finishes[0])));
    return ref_id_index_reserve(store, &store->job_index, job_id_at, store->num_jobs, jobs);
}

/* Puts a pipeline in place: the Id valid and free, spec the store's own, room reserved. */
static void insert_pipeline_locked(struct ref_job_store *store,
                                   const char id[REF_ID_LEN + 1],
                                   enum ref_pipeline_status status,
                                   int64_t now_ms,
                                   json_t *spec)
{
    struct ref_store_pipeline p = {.status = status,
                                   .created_ms = now_ms,
                                   .active_since_ms = now_ms,
                                   .first_submitted = SIZE_MAX,
                                   .spec = spec};
    ref_job_id_copy(p.id, ref_job_id_slice(id));
    size_t at = store->num_pipelines++;
    store->pipelines[at] = p;
    ref_id_index_put(&store->pipeline_index, ref_job_id_slice(p.id), at);
    store->live_pipelines++;
}

/* When a new job's events happen: now for the API and the seeding hooks, the given Timing
 * for a seed. */
struct job_times {
    int64_t submit_ms;
    int64_t start_ms;
    int64_t finish_ms;
};

/* Puts a job in place on pipeline `pipe`: Submitted at t->submit_ms, then through s_next to
 * `status` (s_path), each event at its time. The Id valid and free, spec the store's own,
 * room reserved. REF_E_INTERNAL only when s_next and s_path disagree (a programming
 * error). */
static enum ref_status insert_job_locked(struct ref_job_store *store,
                                         const char id[REF_ID_LEN + 1],
                                         size_t pipe,
                                         enum ref_job_status status,
                                         const struct job_times *t,
                                         json_t *spec)
{
    struct ref_store_job j = {.pipeline = pipe,
                              .status = REF_JOB_SUBMITTED,
                              .submit_ms = t->submit_ms,
                              .schedule_pos = SIZE_MAX,
                              .spec = spec};
    ref_job_id_copy(j.id, ref_job_id_slice(id));
    size_t at = store->num_jobs++;
    j.live_pos = store->num_live;
    store->jobs[at] = j;
    store->live[store->num_live++] = at;
    store->pipelines[pipe].num_live_jobs++;
    store->by_status[REF_JOB_SUBMITTED]++;
    ref_id_index_put(&store->job_index, ref_job_id_slice(j.id), at);
    submitted_push(store, at);
    ref_schedule_job(store, at);
    for (size_t i = 0; i < 2 && s_path[status][i] != REF_JOB_EV_NONE; i++) {
        enum ref_job_event event = s_path[status][i];
        int64_t at_ms = event == REF_JOB_EV_START    ? t->start_ms
                        : event == REF_JOB_EV_CANCEL ? t->submit_ms
                                                     : t->finish_ms;
        if (apply_locked(store, at, event, at_ms, NULL) != REF_OK) {
            return REF_E_INTERNAL;
        }
    }
    return REF_OK;
}

/* --- Pipelines ------------------------------------------------------------------------- */

static enum ref_status create_pipeline_locked(struct ref_job_store *store,
                                              int64_t now_ms,
                                              struct ref_slice id,
                                              enum ref_pipeline_status status,
                                              const json_t *spec,
                                              struct ref_pipeline_info *out)
{
    if (status != REF_PIPELINE_ACTIVE && status != REF_PIPELINE_PAUSED) {
        return REF_E_VALIDATION;
    }
    if (id.len != 0 && !ref_job_id_is_valid(id)) {
        return REF_E_VALIDATION;
    }
    if (id.len != 0 && id_taken(store, id)) {
        return REF_E_IN_USE;
    }
    if (store->live_pipelines >= store->cfg.max_pipelines) {
        return REF_E_LIMIT_EXCEEDED;
    }
    /* Everything that can fail happens before the store changes. */
    REF_TRY(reserve_locked(store, 1, 0));
    char new_id[REF_ID_LEN + 1];
    json_t *own_spec = NULL;
    REF_TRY(take_id_and_spec(store, now_ms, id, spec, new_id, &own_spec));
    insert_pipeline_locked(store, new_id, status, now_ms, own_spec);
    if (out != NULL) {
        ref_store_snapshot_pipeline(&store->pipelines[store->num_pipelines - 1], out);
    }
    return REF_OK;
}

enum ref_status ref_job_store_create_pipeline(struct ref_job_store *store,
                                              int64_t now_ms,
                                              struct ref_slice id,
                                              enum ref_pipeline_status status,
                                              const json_t *spec,
                                              struct ref_pipeline_info *out)
{
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = create_pipeline_locked(store, now_ms, id, status, spec, out);
    pthread_mutex_unlock(&store->lock);
    return rc;
}

/* The index of an existing (not deleted) pipeline, or SIZE_MAX. */
size_t ref_store_find_existing_pipeline(const struct ref_job_store *store, struct ref_slice id)
{
    size_t at = ref_store_find_pipeline(store, id);
    if (at == SIZE_MAX || store->pipelines[at].is_deleted) {
        return SIZE_MAX;
    }
    return at;
}

enum ref_status ref_job_store_read_pipeline(struct ref_job_store *store,
                                            struct ref_slice id,
                                            struct ref_pipeline_info *out)
{
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = REF_E_NOT_FOUND;
    size_t at = ref_store_find_existing_pipeline(store, id);
    if (at != SIZE_MAX) {
        ref_store_snapshot_pipeline(&store->pipelines[at], out);
        rc = REF_OK;
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

enum ref_status ref_job_store_set_pipeline_status(struct ref_job_store *store,
                                                  struct ref_slice id,
                                                  enum ref_pipeline_status status,
                                                  int64_t now_ms,
                                                  struct ref_pipeline_info *out)
{
    if (status != REF_PIPELINE_ACTIVE && status != REF_PIPELINE_PAUSED) {
        return REF_E_VALIDATION;
    }
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = REF_E_NOT_FOUND;
    size_t at = ref_store_find_existing_pipeline(store, id);
    if (at != SIZE_MAX) {
        struct ref_store_pipeline *p = &store->pipelines[at];
        /* Whatever was due before the switch happened under the old status: a pause must
         * not hold back a start that was due a moment earlier. */
        (void)advance_locked(store, now_ms);
        bool is_switch = p->status != status;
        if (status == REF_PIPELINE_ACTIVE && is_switch) {
            p->active_since_ms = now_ms;
        }
        p->status = status;
        if (is_switch) {
            /* A pause takes the starts away, a resume schedules them from now on. */
            ref_schedule_submitted_of(store, at);
        }
        if (out != NULL) {
            ref_store_snapshot_pipeline(p, out);
        }
        rc = REF_OK;
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

enum ref_status ref_job_store_delete_pipeline(struct ref_job_store *store, struct ref_slice id)
{
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = REF_E_NOT_FOUND;
    size_t at = ref_store_find_existing_pipeline(store, id);
    if (at != SIZE_MAX) {
        /* A count kept as jobs come and go, rather than a look through every queued job. */
        rc = store->pipelines[at].num_live_jobs > 0 ? REF_E_IN_USE : REF_OK;
        if (rc == REF_OK) {
            store->pipelines[at].is_deleted = true;
            store->live_pipelines--;
        }
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

/* --- Jobs ------------------------------------------------------------------------------ */

static enum ref_status create_job_locked(struct ref_job_store *store,
                                         int64_t now_ms,
                                         struct ref_slice id,
                                         struct ref_slice pipeline_id,
                                         enum ref_job_status status,
                                         const json_t *spec,
                                         struct ref_job_info *out)
{
    if ((unsigned)status >= REF_JOB_STATUS_COUNT || status == REF_JOB_STATUS_NONE) {
        return REF_E_VALIDATION;
    }
    if (id.len != 0 && !ref_job_id_is_valid(id)) {
        return REF_E_VALIDATION;
    }
    size_t pipe = ref_store_find_existing_pipeline(store, pipeline_id);
    if (pipe == SIZE_MAX) {
        return REF_E_NOT_FOUND;
    }
    if (id.len != 0 && id_taken(store, id)) {
        return REF_E_IN_USE;
    }
    /* The quota is per pipeline (contract section 2b), so a full pipeline leaves the others'
     * queues open. */
    if (store->pipelines[pipe].num_live_jobs >= store->cfg.max_queued_jobs) {
        return REF_E_LIMIT_EXCEEDED;
    }
    /* Reserve everything first, so a failure leaves the store as it was. */
    REF_TRY(reserve_locked(store, 0, 1));
    char new_id[REF_ID_LEN + 1];
    json_t *own_spec = NULL;
    REF_TRY(take_id_and_spec(store, now_ms, id, spec, new_id, &own_spec));
    struct job_times t = {.submit_ms = now_ms, .start_ms = now_ms, .finish_ms = now_ms};
    REF_TRY(insert_job_locked(store, new_id, pipe, status, &t, own_spec));
    if (out != NULL) {
        ref_store_snapshot_job(store, &store->jobs[store->num_jobs - 1], out);
    }
    return REF_OK;
}

enum ref_status ref_job_store_create_job(struct ref_job_store *store,
                                         int64_t now_ms,
                                         struct ref_slice id,
                                         struct ref_slice pipeline_id,
                                         enum ref_job_status status,
                                         const json_t *spec,
                                         struct ref_job_info *out)
{
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = create_job_locked(store, now_ms, id, pipeline_id, status, spec, out);
    pthread_mutex_unlock(&store->lock);
    return rc;
}

enum ref_status
ref_job_store_read_job(struct ref_job_store *store, struct ref_slice id, struct ref_job_info *out)
{
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = REF_E_NOT_FOUND;
    size_t at = ref_store_find_job(store, id);
    if (at != SIZE_MAX) {
        ref_store_snapshot_job(store, &store->jobs[at], out);
        rc = REF_OK;
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

enum ref_status
ref_job_store_job_status(struct ref_job_store *store, struct ref_slice id, enum ref_job_status *out)
{
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = REF_E_NOT_FOUND;
    size_t at = ref_store_find_job(store, id);
    if (at != SIZE_MAX) {
        *out = store->jobs[at].status;
        rc = REF_OK;
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

enum ref_status ref_job_store_apply(struct ref_job_store *store,
                                    struct ref_slice job_id,
                                    enum ref_job_event event,
                                    int64_t at_ms,
                                    struct ref_job_change *change_out)
{
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = REF_E_NOT_FOUND;
    size_t at = ref_store_find_job(store, job_id);
    if (at != SIZE_MAX) {
        rc = apply_locked(store, at, event, at_ms, change_out);
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

/* --- Seeding -------------------------------------------------------------------------- */

/* Whether one of the first num_pipelines pipelines or num_jobs jobs of a seed has this Id. */
static bool seed_has_id(const struct ref_pipeline_seed *pipelines,
                        size_t num_pipelines,
                        const struct ref_job_seed *jobs,
                        size_t num_jobs,
                        struct ref_slice id)
{
    for (size_t i = 0; i < num_pipelines; i++) {
        if (ref_slice_eq(pipelines[i].id, id)) {
            return true;
        }
    }
    for (size_t i = 0; i < num_jobs; i++) {
        if (ref_slice_eq(jobs[i].id, id)) {
            return true;
        }
    }
    return false;
}

/* Judges every entry against the store and the entries before it, changing nothing. A
 * seed is a test's set-up, a few entries: comparing each Id with the earlier ones costs
 * less than an index of its own. */
static enum ref_status seed_check_locked(const struct ref_job_store *store,
                                         const struct ref_pipeline_seed *pipelines,
                                         size_t num_pipelines,
                                         const struct ref_job_seed *jobs,
                                         size_t num_jobs,
                                         struct ref_seed_failure *failed)
{
    for (size_t i = 0; i < num_pipelines; i++) {
        *failed = (struct ref_seed_failure){.is_job = false, .index = i};
        const struct ref_pipeline_seed *p = &pipelines[i];
        if (!ref_job_id_is_valid(p->id) ||
            (p->status != REF_PIPELINE_ACTIVE && p->status != REF_PIPELINE_PAUSED)) {
            return REF_E_VALIDATION;
        }
        if (id_taken(store, p->id) || seed_has_id(pipelines, i, NULL, 0, p->id)) {
            return REF_E_IN_USE;
        }
    }
    for (size_t i = 0; i < num_jobs; i++) {
        *failed = (struct ref_seed_failure){.is_job = true, .index = i};
        const struct ref_job_seed *j = &jobs[i];
        if (!ref_job_id_is_valid(j->id) || (unsigned)j->status >= REF_JOB_STATUS_COUNT ||
            j->status == REF_JOB_STATUS_NONE) {
            return REF_E_VALIDATION;
        }
        if (id_taken(store, j->id) || seed_has_id(pipelines, num_pipelines, jobs, i, j->id)) {
            return REF_E_IN_USE;
        }
        if (ref_store_find_existing_pipeline(store, j->pipeline_id) == SIZE_MAX &&
            !seed_has_id(pipelines, num_pipelines, NULL, 0, j->pipeline_id)) {
            return REF_E_NOT_FOUND;
        }
    }
    return REF_OK;
}

static enum ref_status seed_locked(struct ref_job_store *store,
                                   int64_t now_ms,
                                   const struct ref_pipeline_seed *pipelines,
                                   size_t num_pipelines,
                                   const struct ref_job_seed *jobs,
                                   size_t num_jobs,
                                   struct ref_seed_failure *failed)
{
    REF_TRY(seed_check_locked(store, pipelines, num_pipelines, jobs, num_jobs, failed));
    *failed = (struct ref_seed_failure){0};
    REF_TRY(reserve_locked(store, num_pipelines, num_jobs));
    /* The store's own copies, all made before the first entry goes in. */
    size_t n = num_pipelines + num_jobs;
    json_t **specs = n > 0 ? ref_mem_calloc(n, sizeof(specs[0])) : NULL;
    if (n > 0 && specs == NULL) {
        return REF_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *spec = i < num_pipelines ? pipelines[i].spec : jobs[i - num_pipelines].spec;
        specs[i] = spec != NULL ? json_deep_copy(spec) : json_object();
        if (specs[i] == NULL) {
            for (size_t k = 0; k < i; k++) {
                json_decref(specs[k]);
            }
            ref_mem_free(specs);
            return REF_E_NOMEM;
        }
    }
    char id[REF_ID_LEN + 1];
    for (size_t i = 0; i < num_pipelines; i++) {
        ref_job_id_copy(id, pipelines[i].id);
        insert_pipeline_locked(store, id, pipelines[i].status, now_ms, specs[i]);
    }
    enum ref_status rc = REF_OK;
    for (size_t i = 0; i < num_jobs && rc == REF_OK; i++) {
        const struct ref_job_seed *j = &jobs[i];
        struct job_times t = {
            .submit_ms = j->submit_ms, .start_ms = j->start_ms, .finish_ms = j->finish_ms};
        ref_job_id_copy(id, j->id);
        rc = insert_job_locked(store, id, ref_store_find_existing_pipeline(store, j->pipeline_id),
                               j->status, &t, specs[num_pipelines + i]);
    }
    ref_mem_free(specs);
    return rc;
}

enum ref_status ref_job_store_seed(struct ref_job_store *store,
                                   int64_t now_ms,
                                   const struct ref_pipeline_seed *pipelines,
                                   size_t num_pipelines,
                                   const struct ref_job_seed *jobs,
                                   size_t num_jobs,
                                   struct ref_seed_failure *failed)
{
    struct ref_seed_failure ignored;
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = seed_locked(store, now_ms, pipelines, num_pipelines, jobs, num_jobs,
                                     failed != NULL ? failed : &ignored);
    pthread_mutex_unlock(&store->lock);
    return rc;
}

/* --- Scheduler and stats ------------------------------------------------------------- */

size_t ref_job_store_advance(struct ref_job_store *store, int64_t now_ms)
{
    pthread_mutex_lock(&store->lock);
    size_t applied = advance_locked(store, now_ms);
    pthread_mutex_unlock(&store->lock);
    return applied;
}

bool ref_job_store_next_event_ms(struct ref_job_store *store, int64_t *when_ms)
{
    pthread_mutex_lock(&store->lock);
    bool has_event = store->schedule_len > 0;
    if (has_event) {
        *when_ms = store->schedule[0].at_ms;
    }
    pthread_mutex_unlock(&store->lock);
    return has_event;
}

void ref_job_store_stats(struct ref_job_store *store, struct ref_job_store_stats *out)
{
    pthread_mutex_lock(&store->lock);
    *out = (struct ref_job_store_stats){.pipelines = store->live_pipelines,
                                        .jobs = store->num_jobs,
                                        .queued_jobs = store->num_live};
    for (int i = 0; i < REF_JOB_STATUS_COUNT; i++) {
        out->by_status[i] = store->by_status[i];
    }
    pthread_mutex_unlock(&store->lock);
}
