/* SPDX-License-Identifier: Apache-2.0
 *
 * backend.h - where scenarios send their requests: raw bytes in, raw bytes out.
 *
 * A backend has one mandatory operation (send) and a clock; in-process backends add
 * hooks (seeding, the virtual clock, failing a job, the scheduler's next event), which
 * the capability flags announce. Steps that need a missing hook are skipped.
 * Backends are created per scenario and freed with harness_backend_free.
 */
#ifndef HARNESS_BACKEND_H
#define HARNESS_BACKEND_H

#include "harness/scenario.h"

#include "ref/buf.h"
#include "ref/sigv4.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum harness_backend_cap {
    HARNESS_CAP_HOOKS = 1u << 0,         /* seed_pipeline, seed_job, fail_job */
    HARNESS_CAP_VIRTUAL_CLOCK = 1u << 1, /* set_clock_ms, next_event_ms, tick */
    HARNESS_CAP_CONCURRENT = 1u << 2,    /* send may be called from several threads */
    /* Others may share the target and it outlives the scenario: the runner isolates each
     * scenario (unique pipeline names, list answers scoped to what it created) and deletes
     * what it created afterwards. */
    HARNESS_CAP_SHARED = 1u << 3,
};

/* What the runner learnt about an operation on this target (NOT IMPLEMENTED detection). */
enum harness_op_support {
    HARNESS_OP_SUPPORT_UNKNOWN = 0,
    HARNESS_OP_SUPPORT_IMPLEMENTED,
    HARNESS_OP_SUPPORT_MISSING,
};

/* The pipelines a live run may hold at once on its endpoint, shared by the workers: a
 * faithful endpoint allows 4 per account (contract section 2b), so scenarios running side
 * by side must not together ask for more. A scenario reserves what it needs before its
 * first step (waiting for others to finish when the budget is taken) and gives it back
 * after its cleanup; `held` counts the pipelines the run's scenarios created and have not
 * deleted yet, so one whose CreatePipeline is refused for the limit can tell whether
 * waiting for another's cleanup could help. */
struct harness_pipeline_budget {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t max;      /* --max-pipelines */
    size_t reserved; /* the needs of the scenarios running now */
    size_t held;     /* created by the run, not yet deleted */
};

/* REF_OK, or REF_E_INTERNAL when the lock cannot be made. max is at least 1. */
REF_MUST_CHECK enum ref_status harness_pipeline_budget_init(struct harness_pipeline_budget *pb,
                                                            size_t max);
void harness_pipeline_budget_cleanup(struct harness_pipeline_budget *pb);

struct harness_backend;
struct harness_scenario_result;

struct harness_backend_ops {
    /* Sends one whole request and appends the whole raw response to response.
     * REF_OK when a response arrived (whatever its status); anything else is a
     * transport failure (the step is an ERROR). Thread-safe with HARNESS_CAP_CONCURRENT. */
    enum ref_status (*send)(struct harness_backend *b,
                            struct ref_slice request,
                            struct ref_buf *response);
    /* Optional: send, and on a transport failure the reason in why ("connection refused",
     * "no answer within 5000 ms"). A clean close before the first byte of an answer is
     * REF_OK with nothing appended: the runner reports it as "closed without an answer". */
    enum ref_status (*send_explained)(struct harness_backend *b,
                                      struct ref_slice request,
                                      struct ref_buf *response,
                                      char *why,
                                      size_t why_cap);
    /* Optional: sends one whole request on a connection of its own and closes it as soon
     * as the target has begun to answer, without reading the answer: the target handled
     * the request and the client never learns what it said (an SDK's lost answer). REF_OK
     * once the first byte of an answer arrived; otherwise a transport failure, why saying
     * what happened (nothing arrived: nothing shows that the target handled it). */
    enum ref_status (*send_losing_answer)(struct harness_backend *b,
                                          struct ref_slice request,
                                          char *why,
                                          size_t why_cap);
    /* The target's current time in ms since the epoch (virtual in process). */
    int64_t (*now_ms)(struct harness_backend *b);
    /* Optional hooks: NULL when the backend lacks them. */
    enum ref_status (*seed_pipeline)(struct harness_backend *b,
                                     const char *id,
                                     const char *name,
                                     const char *status);
    enum ref_status (*seed_job)(struct harness_backend *b,
                                const char *id,
                                const char *pipeline_id,
                                const char *status);
    enum ref_status (*fail_job)(struct harness_backend *b, const char *id);
    void (*set_clock_ms)(struct harness_backend *b, int64_t now_ms);
    bool (*next_event_ms)(struct harness_backend *b, int64_t *when_ms);
    void (*tick)(struct harness_backend *b);
    /* Waits between polls on a real clock; NULL in process. */
    void (*sleep_ms)(struct harness_backend *b, int64_t ms);
    void (*destroy)(struct harness_backend *b);
};

struct harness_backend {
    const struct harness_backend_ops *ops;
    void *impl;
    unsigned caps;
    const char *description; /* "embedded reference (in process)" */
    const char *host;        /* the Host header value */
    const char *endpoint;    /* base URL for reproducers, e.g. "$ETCH_ENDPOINT" */
    const char *region;
    const char *service;
    /* The principals the run has, indexed by enum harness_principal; NULL when lacking. */
    const struct ref_credential *principals[HARNESS_PRINCIPAL_COUNT];
    /* The runner's memo, per operation: whether the target knows it (NOT IMPLEMENTED
     * probes). It lives here rather than in the runner because the backend is what lasts
     * as long as the target does: a live worker runs scenario after scenario on its one
     * backend, so an operation is probed once per worker and endpoint, while the runner's
     * own state lasts one scenario. A backend is used by one runner at a time, so this
     * needs no lock. */
    enum harness_op_support op_support[REF_OP_COUNT];
    /* Shared targets: how long cleanup waits for a pipeline whose jobs are still running
     * (0: HARNESS_CLEANUP_TIMEOUT_MS of runner.h). */
    int64_t cleanup_timeout_ms;
    /* Optional, borrowed, shared by the backends of one run: the ms left of the run's
     * cleanup budget, which every wait of every scenario's cleanup draws from. NULL: no
     * bound beyond cleanup_timeout_ms per scenario. */
    atomic_llong *cleanup_budget_ms;
    /* Optional, borrowed: once true (a signal handler sets it), the runner starts no
     * further step and ends a wait early, both reported as not run; cleanup still runs. */
    const atomic_bool *interrupted;
    /* Optional, borrowed: the live run's pipeline budget, one for all its workers. */
    struct harness_pipeline_budget *pipeline_budget;
    /* Optional: called by the runner before each step (index i, whether it runs or not)
     * and once after the last (i == the number of steps, before any cleanup), with the
     * result so far: steps before i are final. `etch explore` runs two targets in step
     * with it. */
    void (*before_step)(void *ctx, size_t i, const struct harness_scenario_result *so_far);
    void *before_step_ctx;
};

static inline bool harness_backend_has(const struct harness_backend *b, unsigned caps)
{
    return (b->caps & caps) == caps;
}

void harness_backend_free(struct harness_backend *b);

/* The in-process backend over a fresh ref_service with a virtual clock. */
struct harness_inproc_options {
    int64_t start_ms; /* 0: HARNESS_DEFAULT_START_MS */
    uint64_t seed;    /* random source seed; 0: a fixed default */
    /* The reference as a live endpoint would be (`etch diff`): the real clock, real
     * sleeps between polls, random Ids, no hooks, and HARNESS_CAP_SHARED, so a scenario
     * runs on it exactly as it runs on `etch serve`. start_ms and seed are ignored. */
    bool is_live_like;
    /* The reference's pipeline limit: 0 is its default (4, contract section 2b); a scenario
     * that declares it needs more gets a reference that allows them. */
    size_t max_pipelines;
};

/* Owned by the caller (harness_backend_free); NULL when out of memory. opts may be NULL. */
struct harness_backend *harness_backend_inproc_new(const struct harness_inproc_options *opts);

/* A job's status in an in-process backend's reference, as a ReadJob would show it now
 * (ref_service_job_status); NULL when b is not in process or has no such job. For wrappers
 * that change the reference's answers from the outside (the explorer's broken targets). */
const char *harness_backend_inproc_job_status(struct harness_backend *b, const char *id);

/* Moves a job of an in-process backend's reference as test control's set-status would
 * (ref_service_set_job_status); REF_E_NOT_FOUND when b is not in process. */
REF_MUST_CHECK enum ref_status harness_backend_inproc_set_job_status(struct harness_backend *b,
                                                                     const char *id,
                                                                     const char *status);

#endif
