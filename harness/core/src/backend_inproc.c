/* SPDX-License-Identifier: Apache-2.0
 *
 * backend_inproc.c - the in-process backend: a fresh ref_service per scenario, driven
 * through ref_service_handle with a virtual clock.
 *
 * The clock only moves when a scenario moves it (a clock step, or a wait jumping to the
 * next scheduled event), so runs are deterministic and never sleep. The clock value is
 * atomic and the random source is locked, because concurrent steps call the service from
 * several threads at once.
 *
 * The live-like variant (`etch diff`'s default second target) is the same service on the
 * real clock with the real random source and without hooks: a scenario then meets it
 * exactly as it meets `etch serve`, only without the HTTP in between.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/backend.h"

#include "ref/limits.h"
#include "ref/service.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct inproc {
    struct harness_backend base;
    struct ref_service *svc;
    _Atomic int64_t now_ms;
    pthread_mutex_t rng_lock;
    uint64_t rng_state;
};

static int64_t env_now_ms(void *ctx)
{
    struct inproc *ip = ctx;
    return atomic_load(&ip->now_ms);
}

/* xorshift64*: deterministic Ids and request ids for reproducible runs. */
static void env_random_bytes(void *ctx, uint8_t *out, size_t n)
{
    struct inproc *ip = ctx;
    pthread_mutex_lock(&ip->rng_lock);
    for (size_t i = 0; i < n; i++) {
        ip->rng_state ^= ip->rng_state >> 12;
        ip->rng_state ^= ip->rng_state << 25;
        ip->rng_state ^= ip->rng_state >> 27;
        out[i] = (uint8_t)((ip->rng_state * UINT64_C(2685821657736338717)) >> 56);
    }
    pthread_mutex_unlock(&ip->rng_lock);
}

static struct inproc *impl(struct harness_backend *b)
{
    return (struct inproc *)b->impl;
}

static enum ref_status
ip_send(struct harness_backend *b, struct ref_slice request, struct ref_buf *response)
{
    return ref_service_handle(impl(b)->svc, request, response);
}

/* The reference handles the request whole before it answers, so the answer, made and
 * dropped, is all a lost answer needs in process. */
static enum ref_status ip_send_losing_answer(struct harness_backend *b,
                                             struct ref_slice request,
                                             char *why,
                                             size_t why_cap)
{
    struct ref_buf dropped;
    ref_buf_init(&dropped, REF_MAX_RESPONSE_BYTES);
    enum ref_status rc = ip_send(b, request, &dropped);
    bool has_answered = rc == REF_OK && dropped.len > 0;
    ref_buf_cleanup(&dropped);
    if (!has_answered && why_cap > 0) {
        snprintf(why, why_cap, "the reference gave no answer (%s)", ref_status_name(rc));
    }
    return has_answered ? REF_OK : (rc != REF_OK ? rc : REF_E_INTERNAL);
}

static int64_t ip_now_ms(struct harness_backend *b)
{
    return atomic_load(&impl(b)->now_ms);
}

static enum ref_status
ip_seed_pipeline(struct harness_backend *b, const char *id, const char *name, const char *status)
{
    return ref_service_seed_pipeline(impl(b)->svc, id, name, status);
}

static enum ref_status
ip_seed_job(struct harness_backend *b, const char *id, const char *pipeline_id, const char *status)
{
    return ref_service_seed_job(impl(b)->svc, id, pipeline_id, status);
}

static enum ref_status ip_fail_job(struct harness_backend *b, const char *id)
{
    return ref_service_fail_job(impl(b)->svc, id);
}

static void ip_set_clock_ms(struct harness_backend *b, int64_t now_ms)
{
    atomic_store(&impl(b)->now_ms, now_ms);
}

static bool ip_next_event_ms(struct harness_backend *b, int64_t *when_ms)
{
    return ref_service_next_event_ms(impl(b)->svc, when_ms);
}

static void ip_tick(struct harness_backend *b)
{
    ref_service_tick(impl(b)->svc);
}

static void ip_destroy(struct harness_backend *b)
{
    struct inproc *ip = impl(b);
    ref_service_free(ip->svc);
    pthread_mutex_destroy(&ip->rng_lock);
    free(ip);
}

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t live_like_now_ms(struct harness_backend *b)
{
    (void)b;
    return real_now_ms();
}

static void live_like_sleep_ms(struct harness_backend *b, int64_t ms)
{
    (void)b;
    if (ms <= 0) {
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {
        /* Interrupted by a signal: sleep the rest. */
    }
}

static const struct harness_backend_ops s_live_like_ops = {
    .send = ip_send,
    .send_losing_answer = ip_send_losing_answer,
    .now_ms = live_like_now_ms,
    .sleep_ms = live_like_sleep_ms,
    .destroy = ip_destroy,
};

static const struct harness_backend_ops s_inproc_ops = {
    .send = ip_send,
    .send_losing_answer = ip_send_losing_answer,
    .now_ms = ip_now_ms,
    .seed_pipeline = ip_seed_pipeline,
    .seed_job = ip_seed_job,
    .fail_job = ip_fail_job,
    .set_clock_ms = ip_set_clock_ms,
    .next_event_ms = ip_next_event_ms,
    .tick = ip_tick,
    .sleep_ms = NULL,
    .destroy = ip_destroy,
};

struct harness_backend *harness_backend_inproc_new(const struct harness_inproc_options *opts)
{
    struct inproc *ip = calloc(1, sizeof(*ip));
    if (ip == NULL) {
        return NULL;
    }
    if (pthread_mutex_init(&ip->rng_lock, NULL) != 0) {
        free(ip);
        return NULL;
    }
    bool is_live_like = opts != NULL && opts->is_live_like;
    int64_t start = opts != NULL && opts->start_ms != 0 ? opts->start_ms : HARNESS_DEFAULT_START_MS;
    atomic_init(&ip->now_ms, start);
    ip->rng_state = opts != NULL && opts->seed != 0 ? opts->seed : UINT64_C(0x9e3779b97f4a7c15);

    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    if (opts != NULL && opts->max_pipelines > cfg.max_pipelines) {
        cfg.max_pipelines = opts->max_pipelines;
    }
    if (!is_live_like) {
        /* A zeroed env is the real clock and OpenSSL's random source. */
        cfg.env.now_ms = env_now_ms;
        cfg.env.random_bytes = env_random_bytes;
        cfg.env.ctx = ip;
    }
    ip->svc = ref_service_new(&cfg);
    if (ip->svc == NULL) {
        pthread_mutex_destroy(&ip->rng_lock);
        free(ip);
        return NULL;
    }
    struct harness_backend *b = &ip->base;
    b->ops = is_live_like ? &s_live_like_ops : &s_inproc_ops;
    b->impl = ip;
    b->caps = is_live_like ? HARNESS_CAP_CONCURRENT | HARNESS_CAP_SHARED
                           : HARNESS_CAP_HOOKS | HARNESS_CAP_VIRTUAL_CLOCK | HARNESS_CAP_CONCURRENT;
    b->description = is_live_like ? "embedded reference (in process, real time, no hooks)"
                                  : "embedded reference (in process)";
    b->host = "elastictranscoder.us-east-1.amazonaws.com";
    b->endpoint = "$ETCH_ENDPOINT";
    b->region = REF_TEST_REGION;
    b->service = "elastictranscoder";
    b->principals[HARNESS_PRINCIPAL_MAIN] = REF_TEST_CRED_MAIN;
    b->principals[HARNESS_PRINCIPAL_RESTRICTED] = REF_TEST_CRED_RESTRICTED;
    b->principals[HARNESS_PRINCIPAL_TEMPORARY] = REF_TEST_CRED_TEMPORARY;
    return b;
}

const char *harness_backend_inproc_job_status(struct harness_backend *b, const char *id)
{
    if (b == NULL || (b->ops != &s_inproc_ops && b->ops != &s_live_like_ops)) {
        return NULL;
    }
    return ref_service_job_status(impl(b)->svc, id);
}

enum ref_status
harness_backend_inproc_set_job_status(struct harness_backend *b, const char *id, const char *status)
{
    if (b == NULL || (b->ops != &s_inproc_ops && b->ops != &s_live_like_ops)) {
        return REF_E_NOT_FOUND;
    }
    return ref_service_set_job_status(impl(b)->svc, id, status);
}

void harness_backend_free(struct harness_backend *b)
{
    if (b != NULL && b->ops != NULL && b->ops->destroy != NULL) {
        b->ops->destroy(b);
    }
}
