/* SPDX-License-Identifier: Apache-2.0
 *
 * explore_follow.c - without clock control, the reference follows the endpoint's jobs.
 *
 * An endpoint on the real clock starts and finishes its jobs when it will; the reference
 * beside it runs on a clock that never moves, so none of its jobs moves by itself. The two
 * runs go in step (the runner's before_step hook): the reference's step i waits until the
 * endpoint has answered its step i, and every job status the endpoint showed up to then
 * that lies further along the lifecycle (contract section 3: Submitted, Progressing, then
 * Complete or Error) is made the reference's job's too, as test control's set-status would
 * (contract section 9). The reference's answer to step i is then what a faithful endpoint
 * in the state the endpoint showed must answer: a CancelJob of a job the endpoint showed
 * Progressing must be refused. A status the lifecycle does not allow reaching (Canceled to
 * Progressing, Complete to Submitted) is not followed: the answers then differ, a
 * divergence.
 *
 * What counts as seen: a Job or Jobs[] member with its Id and Status in an answer; a
 * CancelJob refused with 409 (the job has left Submitted); and a ListJobsByStatus answer
 * for Submitted or Progressing that leaves out a job the reference still has in that
 * status (it moved on); a DeletePipeline accepted (its jobs had all ended). The jobs of
 * the two sides are paired by the step that created them. A job the endpoint showed
 * Submitted after its pipeline was paused is not followed to Progressing: it cannot have
 * started before the pause unseen.
 */
#define _POSIX_C_SOURCE 200809L

#include "explore_internal.h"

#include "harness/http_response.h"
#include "harness/runner.h"
#include "harness/text.h"

#include "ref/router.h"

#include <jansson.h>

#include <string.h>

enum { LIFE_NONE = 0, LIFE_SUBMITTED, LIFE_PROGRESSING, LIFE_ENDED };

static int life_rank(const char *status)
{
    if (status == NULL) {
        return LIFE_NONE;
    }
    if (strcmp(status, "Submitted") == 0) {
        return LIFE_SUBMITTED;
    }
    if (strcmp(status, "Progressing") == 0) {
        return LIFE_PROGRESSING;
    }
    if (strcmp(status, "Complete") == 0 || strcmp(status, "Error") == 0) {
        return LIFE_ENDED;
    }
    return LIFE_NONE; /* Canceled, or not a status: nothing to follow */
}

enum ref_status explore_follow_init(struct explore_follow *f, struct harness_backend *reference)
{
    memset(f, 0, sizeof(*f));
    f->reference = reference;
    if (pthread_mutex_init(&f->lock, NULL) != 0) {
        return REF_E_INTERNAL;
    }
    if (pthread_cond_init(&f->moved, NULL) != 0) {
        pthread_mutex_destroy(&f->lock);
        return REF_E_INTERNAL;
    }
    return REF_OK;
}

void explore_follow_cleanup(struct explore_follow *f)
{
    pthread_cond_destroy(&f->moved);
    pthread_mutex_destroy(&f->lock);
}

void explore_follow_endpoint_step(void *ctx, size_t i, const struct harness_scenario_result *so_far)
{
    struct explore_follow *f = ctx;
    pthread_mutex_lock(&f->lock);
    f->endpoint = so_far;
    f->endpoint_at = i;
    pthread_cond_broadcast(&f->moved);
    pthread_mutex_unlock(&f->lock);
}

void explore_follow_endpoint_done(struct explore_follow *f,
                                  const struct harness_scenario_result *endpoint)
{
    pthread_mutex_lock(&f->lock);
    f->endpoint = endpoint;
    f->is_endpoint_done = true;
    pthread_cond_broadcast(&f->moved);
    pthread_mutex_unlock(&f->lock);
}

/* The JSON body of an answer as the expectations saw it; NULL when none. */
json_t *explore_exchange_json(const struct harness_exchange *x)
{
    if (x->observed_body != NULL) {
        return json_loads(x->observed_body, JSON_DECODE_ANY, NULL);
    }
    struct harness_http_response http;
    struct ref_buf chunked;
    ref_buf_init(&chunked, HARNESS_MAX_RESPONSE_BODY_BYTES);
    json_t *raw = NULL;
    if (harness_http_parse_response(ref_buf_slice(&x->response), &http, &chunked, NULL, NULL) ==
            REF_OK &&
        http.body.len > 0) {
        raw = json_loadb((const char *)http.body.ptr, http.body.len, JSON_DECODE_ANY, NULL);
    }
    ref_buf_cleanup(&chunked);
    return raw;
}

static const struct harness_exchange *last_exchange(const struct harness_step_result *s)
{
    return s->num_exchanges > 0 ? &s->exchanges[s->num_exchanges - 1] : NULL;
}

static bool is_call(const struct harness_step_result *s, enum ref_op op)
{
    return s->step != NULL && s->step->kind == HARNESS_STEP_CALL && s->step->request.op == op;
}

static bool copy_string(json_t *v, char *out, size_t cap)
{
    const char *s = json_string_value(v);
    if (s == NULL || strlen(s) >= cap) {
        return false;
    }
    memcpy(out, s, strlen(s) + 1);
    return true;
}

/* The Id of the job a CreateJob step made into id, its pipeline's into pipeline (NULL: not
 * wanted); false when it made none. */
static bool created_job(const struct harness_step_result *s, char *id, char *pipeline, size_t cap)
{
    const struct harness_exchange *x = last_exchange(s);
    if (!is_call(s, REF_OP_CREATE_JOB) || x == NULL || x->http_status != 201) {
        return false;
    }
    json_t *v = explore_exchange_json(x);
    json_t *job = json_object_get(v, "Job");
    bool ok = copy_string(json_object_get(job, "Id"), id, cap) &&
              (pipeline == NULL || copy_string(json_object_get(job, "PipelineId"), pipeline, cap));
    json_decref(v);
    return ok;
}

static struct explore_followed_job *job_by_endpoint_id(struct explore_follow *f, const char *id)
{
    for (size_t k = 0; id != NULL && k < f->num_jobs; k++) {
        if (strcmp(f->jobs[k].endpoint_id, id) == 0) {
            return &f->jobs[k];
        }
    }
    return NULL;
}

static struct explore_paused_pipeline *paused(struct explore_follow *f, const char *id)
{
    for (size_t k = 0; k < f->num_paused; k++) {
        if (strcmp(f->paused[k].endpoint_id, id) == 0) {
            return &f->paused[k];
        }
    }
    return NULL;
}

/* An UpdatePipelineStatus the endpoint accepted: from step i its pipeline starts no job
 * (Paused), or does again (Active). */
static void see_pause(struct explore_follow *f, const struct harness_exchange *x, size_t i)
{
    char id[HARNESS_MAX_ID_BYTES];
    const char *at = x->target != NULL ? strstr(x->target, "/pipelines/") : NULL;
    if (at == NULL) {
        return;
    }
    at += strlen("/pipelines/");
    size_t n = strcspn(at, "/?");
    if (n == 0 || n >= sizeof(id)) {
        return;
    }
    memcpy(id, at, n);
    id[n] = '\0';
    json_t *v = explore_exchange_json(x);
    const char *status =
        json_string_value(json_object_get(json_object_get(v, "Pipeline"), "Status"));
    struct explore_paused_pipeline *pp = paused(f, id);
    if (status != NULL && strcmp(status, "Paused") == 0 && pp == NULL &&
        f->num_paused < EXPLORE_FOLLOW_MAX_JOBS) {
        pp = &f->paused[f->num_paused++];
        memcpy(pp->endpoint_id, id, n + 1);
        pp->since_step = i;
    } else if (status != NULL && strcmp(status, "Active") == 0 && pp != NULL) {
        *pp = f->paused[--f->num_paused];
    }
    json_decref(v);
}

/* Moves the reference's job along its lifecycle up to status, one transition at a time,
 * and notes the move for the replay (before step i). */
static void
move_to(struct explore_follow *f, struct explore_followed_job *job, const char *status, size_t i)
{
    int want = life_rank(status);
    const char *now = harness_backend_inproc_job_status(f->reference, job->reference_id);
    int have = life_rank(now);
    if (have == LIFE_NONE || want <= have) {
        return;
    }
    const struct explore_paused_pipeline *pp = paused(f, job->endpoint_pipeline_id);
    if (have == LIFE_SUBMITTED && pp != NULL && job->has_been_seen_submitted &&
        job->seen_submitted_step >= pp->since_step) {
        /* Seen Submitted on a pipeline already paused: it cannot have started since (contract
         * section 3), so this is not a transition to follow but a divergence to show. */
        return;
    }
    if (have == LIFE_SUBMITTED && harness_backend_inproc_set_job_status(
                                      f->reference, job->reference_id, "Progressing") != REF_OK) {
        return;
    }
    const char *reached = "Progressing";
    if (want == LIFE_ENDED &&
        harness_backend_inproc_set_job_status(f->reference, job->reference_id, status) == REF_OK) {
        reached = status;
    }
    f->moves_made++;
    if (f->num_moves < EXPLORE_FOLLOW_MAX_MOVES) {
        struct explore_follow_move *m = &f->moves[f->num_moves++];
        m->before_step = i;
        m->job_step = job->step;
        harness_textf(m->status, sizeof(m->status), "%s", reached);
    }
}

static void see_job(struct explore_follow *f, json_t *job, size_t i)
{
    struct explore_followed_job *fj =
        job_by_endpoint_id(f, json_string_value(json_object_get(job, "Id")));
    const char *status = json_string_value(json_object_get(job, "Status"));
    if (fj != NULL && status != NULL && strcmp(status, "Submitted") == 0) {
        fj->has_been_seen_submitted = true;
        fj->seen_submitted_step = i;
    } else if (fj != NULL && status != NULL) {
        move_to(f, fj, status, i);
    }
}

/* "Submitted" out of ".../jobsByStatus/Submitted?...", into out. */
static bool listed_status(const struct harness_exchange *x, char *out, size_t cap)
{
    const char *at = x->target != NULL ? strstr(x->target, "/jobsByStatus/") : NULL;
    if (at == NULL) {
        return false;
    }
    at += strlen("/jobsByStatus/");
    size_t n = strcspn(at, "?/");
    if (n == 0 || n >= cap) {
        return false;
    }
    memcpy(out, at, n);
    out[n] = '\0';
    return true;
}

/* A whole list of the jobs in one status that leaves out a job the reference has in that
 * status: on the endpoint it moved on. */
static void see_absences(struct explore_follow *f, const char *status, json_t *jobs, size_t i)
{
    int rank = life_rank(status);
    if (rank != LIFE_SUBMITTED && rank != LIFE_PROGRESSING) {
        return;
    }
    for (size_t k = 0; k < f->num_jobs; k++) {
        struct explore_followed_job *fj = &f->jobs[k];
        const char *now = harness_backend_inproc_job_status(f->reference, fj->reference_id);
        if (now == NULL || strcmp(now, status) != 0) {
            continue;
        }
        bool is_listed = false;
        size_t n;
        json_t *j;
        json_array_foreach (jobs, n, j) {
            const char *id = json_string_value(json_object_get(j, "Id"));
            is_listed = is_listed || (id != NULL && strcmp(id, fj->endpoint_id) == 0);
        }
        if (!is_listed) {
            move_to(f, fj, rank == LIFE_SUBMITTED ? "Progressing" : "Complete", i);
        }
    }
}

static void see_step(struct explore_follow *f, const struct harness_step_result *s, size_t i)
{
    const struct harness_exchange *x = last_exchange(s);
    if (x == NULL || x->http_status == 0) {
        return;
    }
    if (is_call(s, REF_OP_DELETE_PIPELINE) && x->http_status / 100 == 2 && x->target != NULL) {
        /* A pipeline is deleted only when none of its jobs is Submitted or Progressing
         * (contract section 2b): on the endpoint its jobs ended. */
        const char *slash = strrchr(x->target, '/');
        for (size_t k = 0; slash != NULL && k < f->num_jobs; k++) {
            if (strcmp(f->jobs[k].endpoint_pipeline_id, slash + 1) == 0) {
                move_to(f, &f->jobs[k], "Complete", i);
            }
        }
        return;
    }
    if (is_call(s, REF_OP_CANCEL_JOB) && x->http_status == 409 && x->target != NULL) {
        const char *slash = strrchr(x->target, '/');
        struct explore_followed_job *fj = slash != NULL ? job_by_endpoint_id(f, slash + 1) : NULL;
        if (fj != NULL) {
            move_to(f, fj, "Progressing", i);
        }
        return;
    }
    if (x->http_status != 200) {
        return;
    }
    if (is_call(s, REF_OP_UPDATE_PIPELINE_STATUS)) {
        see_pause(f, x, i);
        return;
    }
    json_t *v = explore_exchange_json(x);
    json_t *one = json_object_get(v, "Job");
    if (json_is_object(one)) {
        see_job(f, one, i);
    }
    json_t *many = json_object_get(v, "Jobs");
    size_t n;
    json_t *j;
    json_array_foreach (many, n, j) {
        see_job(f, j, i);
    }
    char status[16];
    /* Only a whole list tells what is missing: the runner's answer scoped to the
     * sequence's jobs (all pages), or a single page. */
    if (is_call(s, REF_OP_LIST_JOBS_BY_STATUS) && json_is_array(many) &&
        (x->observed_body != NULL || !json_is_string(json_object_get(v, "NextPageToken"))) &&
        listed_status(x, status, sizeof(status))) {
        see_absences(f, status, many, i);
    }
    json_decref(v);
}

void explore_follow_reference_step(void *ctx,
                                   size_t i,
                                   const struct harness_scenario_result *so_far)
{
    struct explore_follow *f = ctx;
    pthread_mutex_lock(&f->lock);
    while (!f->is_endpoint_done && f->endpoint_at <= i) {
        pthread_cond_wait(&f->moved, &f->lock);
    }
    const struct harness_scenario_result *e = f->endpoint;
    pthread_mutex_unlock(&f->lock);
    if (e == NULL) {
        return;
    }
    /* Both sides' steps before i are final: pair the jobs they created. */
    for (; f->paired < i && f->paired < so_far->num_steps && f->paired < e->num_steps;
         f->paired++) {
        struct explore_followed_job *fj =
            f->num_jobs < EXPLORE_FOLLOW_MAX_JOBS ? &f->jobs[f->num_jobs] : NULL;
        if (fj != NULL &&
            created_job(&e->steps[f->paired], fj->endpoint_id, fj->endpoint_pipeline_id,
                        sizeof(fj->endpoint_id)) &&
            created_job(&so_far->steps[f->paired], fj->reference_id, NULL,
                        sizeof(fj->reference_id))) {
            fj->step = f->paired;
            f->num_jobs++;
        }
    }
    /* Then what the endpoint showed up to its answer to step i. */
    for (; f->seen <= i && f->seen < e->num_steps; f->seen++) {
        const struct harness_step_result *s = &e->steps[f->seen];
        if (s->step != NULL && s->verdict != HARNESS_VERDICT_NONE &&
            s->verdict != HARNESS_VERDICT_SKIP) {
            see_step(f, s, i);
        }
    }
}
