/* SPDX-License-Identifier: Apache-2.0
 *
 * explore_internal.h - what explore.c (runs, judging, shrinking) and explore_gen.c (the
 * generator) share.
 */
#ifndef HARNESS_EXPLORE_INTERNAL_H
#define HARNESS_EXPLORE_INTERNAL_H

#include "harness/explore.h"

#include "harness/runner.h"

#include <jansson.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Under the 4 pipelines a faithful endpoint allows (contract section 2b). */
#define EXPLORE_MAX_PIPELINES 3

/* A 64-bit mix: seeds of sequences from the run's seed, and the generator's state. */
uint64_t explore_splitmix64(uint64_t x);

/* The steps of one sequence (a JSON array, owned by the caller) from its seed; NULL when
 * out of memory. */
json_t *
explore_generate(const struct harness_explore_options *o, uint64_t seed, size_t target_steps);

/* The JSON body of an answer as the expectations saw it (a new reference); NULL when none. */
json_t *explore_exchange_json(const struct harness_exchange *x);

/* --- The reference following the endpoint (explore_follow.c) -------------------------- */

#define EXPLORE_FOLLOW_MAX_JOBS  16
#define EXPLORE_FOLLOW_MAX_MOVES 32

struct explore_followed_job {
    size_t step; /* the CreateJob step that made it on both sides */
    char endpoint_id[HARNESS_MAX_ID_BYTES];
    char endpoint_pipeline_id[HARNESS_MAX_ID_BYTES];
    bool has_been_seen_submitted; /* the endpoint showed it Submitted, last at that step */
    size_t seen_submitted_step;
    char reference_id[HARNESS_MAX_ID_BYTES];
};

/* A pipeline the endpoint paused, from that step on. */
struct explore_paused_pipeline {
    char endpoint_id[HARNESS_MAX_ID_BYTES];
    size_t since_step;
};

/* A status the reference's job was moved to before a step, for a replay's wait. */
struct explore_follow_move {
    size_t before_step;
    size_t job_step;
    char status[16];
};

struct explore_follow {
    pthread_mutex_t lock;
    pthread_cond_t moved;
    /* Under lock: the endpoint's result, whose steps before endpoint_at are final (all of
     * them once is_endpoint_done). */
    const struct harness_scenario_result *endpoint;
    size_t endpoint_at;
    bool is_endpoint_done;
    /* The reference's thread alone: */
    struct harness_backend *reference; /* in process, its clock never moved */
    size_t paired;                     /* steps whose created jobs are paired */
    size_t seen;                       /* endpoint steps whose answers were followed */
    struct explore_followed_job jobs[EXPLORE_FOLLOW_MAX_JOBS];
    size_t num_jobs;
    struct explore_paused_pipeline paused[EXPLORE_FOLLOW_MAX_JOBS];
    size_t num_paused;
    struct explore_follow_move moves[EXPLORE_FOLLOW_MAX_MOVES];
    size_t num_moves;
    uint64_t moves_made;
};

REF_MUST_CHECK enum ref_status explore_follow_init(struct explore_follow *f,
                                                   struct harness_backend *reference);
void explore_follow_cleanup(struct explore_follow *f);
/* The endpoint's before_step hook (ctx: the explore_follow). */
void explore_follow_endpoint_step(void *ctx,
                                  size_t i,
                                  const struct harness_scenario_result *so_far);
/* The endpoint's run ended, however it ended: the reference waits no more. */
void explore_follow_endpoint_done(struct explore_follow *f,
                                  const struct harness_scenario_result *endpoint);
/* The reference's before_step hook: waits for the endpoint's answer to step i, then moves
 * the reference's jobs to what the endpoint showed. */
void explore_follow_reference_step(void *ctx,
                                   size_t i,
                                   const struct harness_scenario_result *so_far);

#endif
