/* SPDX-License-Identifier: Apache-2.0
 *
 * service_sched.c - the scheduler's quiet window, and the in-process hooks that seed,
 * advance and inspect the service without a request.
 *
 * The scheduler has no thread: the store applies due starts and finishes when asked
 * (ref_job_store_advance), and the service asks at the start of every request. The quiet
 * window (struct ref_service) spares that call its scan of the queued jobs while nothing
 * can be due. The hooks are for tests and scenario steps run in process; none of them is
 * reachable over HTTP.
 */
#include "service_internal.h"

#include "ref/job_store.h"

#include <jansson.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* --- Scheduler ----------------------------------------------------------------------- */

/* Applies the starts and finishes due at now_ms, unless the quiet window says none is. */
void ref_svc_advance(struct ref_service *svc, int64_t now_ms)
{
    if (now_ms < atomic_load_explicit(&svc->quiet_until_ms, memory_order_acquire)) {
        return;
    }
    pthread_mutex_lock(&svc->sched_lock);
    uint64_t generation = svc->sched_generation;
    pthread_mutex_unlock(&svc->sched_lock);
    (void)ref_job_store_advance(svc->store, now_ms);
    int64_t next_ms = 0;
    int64_t quiet_ms = ref_job_store_next_event_ms(svc->store, &next_ms) ? next_ms : INT64_MAX;
    pthread_mutex_lock(&svc->sched_lock);
    if (svc->sched_generation == generation) {
        atomic_store_explicit(&svc->quiet_until_ms, quiet_ms, memory_order_release);
    }
    pthread_mutex_unlock(&svc->sched_lock);
}

/* Called after a pipeline was activated: the starts of all its Submitted jobs may now be
 * earlier than the window's end, so the next request scans again. */
void ref_svc_schedule_changed(struct ref_service *svc)
{
    pthread_mutex_lock(&svc->sched_lock);
    svc->sched_generation++;
    atomic_store_explicit(&svc->quiet_until_ms, INT64_MIN, memory_order_release);
    pthread_mutex_unlock(&svc->sched_lock);
}

/* Called after a job was created. No other job's events move, so lowering the window to
 * the new job's own event keeps it right without a scan: a scan after every new job would
 * make creating n jobs cost n squared. The generation moves even when the window stays,
 * because an advance that scanned before the job existed must not store a window that
 * leaves the job out. */
void ref_svc_schedule_job_added(struct ref_service *svc, const struct ref_job_info *job)
{
    pthread_mutex_lock(&svc->sched_lock);
    svc->sched_generation++;
    if (job->has_next_event &&
        job->next_event_ms < atomic_load_explicit(&svc->quiet_until_ms, memory_order_relaxed)) {
        atomic_store_explicit(&svc->quiet_until_ms, job->next_event_ms, memory_order_release);
    }
    pthread_mutex_unlock(&svc->sched_lock);
}

/* --- Scheduler and in-process hooks ---------------------------------------------- */

void ref_service_tick(struct ref_service *svc)
{
    ref_svc_advance(svc, ref_svc_now_ms(svc));
}

bool ref_service_next_event_ms(struct ref_service *svc, int64_t *when_ms)
{
    return ref_job_store_next_event_ms(svc->store, when_ms);
}

enum ref_status ref_service_seed_pipeline(struct ref_service *svc,
                                          const char *id,
                                          const char *name,
                                          const char *status)
{
    if (id == NULL || status == NULL) {
        return REF_E_VALIDATION;
    }
    enum ref_pipeline_status st = ref_pipeline_status_from_name(ref_slice_from_cstr(status));
    if (st == REF_PIPELINE_STATUS_NONE) {
        return REF_E_VALIDATION;
    }
    struct ref_buf role;
    ref_buf_init(&role, 256);
    enum ref_status rc = ref_buf_appendf(
        &role, "arn:aws:iam::%s:role/Elastic_Transcoder_Default_Role", svc->account_id);
    json_t *spec = NULL;
    if (rc == REF_OK) {
        /* Stored as CreatePipeline would store this body, so its answers are the same. */
        json_t *body = json_pack("{s:s, s:s, s:s, s:s%}", "Name", name != NULL ? name : "seeded",
                                 "InputBucket", "etch-input", "OutputBucket", "etch-output", "Role",
                                 (const char *)role.data, role.len);
        spec = body != NULL ? ref_pipeline_spec(body) : NULL;
        json_decref(body);
        rc = spec != NULL ? REF_OK : REF_E_NOMEM;
    }
    if (rc == REF_OK) {
        int64_t now_ms = ref_svc_now_ms(svc);
        ref_svc_advance(svc, now_ms);
        /* A new pipeline has no jobs yet: the schedule is as it was. */
        rc = ref_job_store_create_pipeline(svc->store, now_ms, ref_slice_from_cstr(id), st, spec,
                                           NULL);
    }
    json_decref(spec);
    ref_buf_cleanup(&role);
    return rc;
}

enum ref_status ref_service_seed_job(struct ref_service *svc,
                                     const char *id,
                                     const char *pipeline_id,
                                     const char *status)
{
    if (id == NULL || pipeline_id == NULL || status == NULL) {
        return REF_E_VALIDATION;
    }
    enum ref_job_status st = ref_job_status_from_name(ref_slice_from_cstr(status));
    if (st == REF_JOB_STATUS_NONE) {
        return REF_E_VALIDATION;
    }
    /* Stored as CreateJob would store this body, so its answers are the same. */
    json_t *body =
        json_pack("{s:{s:s}, s:[{s:s, s:s}]}", "Input", "Key", "seed/input.mp4", "Outputs", "Key",
                  "seed/output.mp4", "PresetId", "1351620000001-000010");
    json_t *spec = body != NULL ? ref_job_spec(body) : NULL;
    json_decref(body);
    if (spec == NULL) {
        return REF_E_NOMEM;
    }
    int64_t now_ms = ref_svc_now_ms(svc);
    ref_svc_advance(svc, now_ms);
    struct ref_job_info info;
    enum ref_status rc =
        ref_job_store_create_job(svc->store, now_ms, ref_slice_from_cstr(id),
                                 ref_slice_from_cstr(pipeline_id), st, spec, &info);
    if (rc == REF_OK) {
        ref_svc_schedule_job_added(svc, &info);
        ref_job_info_cleanup(&info);
    }
    json_decref(spec);
    return rc;
}

enum ref_status ref_service_fail_job(struct ref_service *svc, const char *id)
{
    if (id == NULL) {
        return REF_E_VALIDATION;
    }
    int64_t now_ms = ref_svc_now_ms(svc);
    ref_svc_advance(svc, now_ms);
    /* Ending a job only takes its finish away: the window stays as it is. */
    return ref_job_store_apply(svc->store, ref_slice_from_cstr(id), REF_JOB_EV_FAIL, now_ms, NULL);
}

enum ref_status
ref_service_set_job_status(struct ref_service *svc, const char *id, const char *status)
{
    if (id == NULL || status == NULL) {
        return REF_E_VALIDATION;
    }
    enum ref_job_event event;
    if (strcmp(status, "Progressing") == 0) {
        event = REF_JOB_EV_START;
    } else if (strcmp(status, "Complete") == 0) {
        event = REF_JOB_EV_FINISH;
    } else if (strcmp(status, "Error") == 0) {
        event = REF_JOB_EV_FAIL;
    } else {
        return REF_E_VALIDATION;
    }
    int64_t now_ms = ref_svc_now_ms(svc);
    ref_svc_advance(svc, now_ms);
    enum ref_status rc =
        ref_job_store_apply(svc->store, ref_slice_from_cstr(id), event, now_ms, NULL);
    if (rc == REF_OK) {
        /* A start schedules the job's finish: the scheduler looks again. */
        ref_svc_schedule_changed(svc);
    }
    return rc;
}

const char *ref_service_job_status(struct ref_service *svc, const char *id)
{
    if (id == NULL) {
        return NULL;
    }
    /* What a ReadJob at the env's current time would show. */
    ref_svc_advance(svc, ref_svc_now_ms(svc));
    enum ref_job_status st;
    if (ref_job_store_job_status(svc->store, ref_slice_from_cstr(id), &st) != REF_OK) {
        return NULL;
    }
    return ref_job_status_name(st);
}
