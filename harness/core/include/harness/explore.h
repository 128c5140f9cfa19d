/* SPDX-License-Identifier: Apache-2.0
 *
 * explore.h - model-based differential exploration (`etch explore`): random sequences of
 * the ten operations run on an endpoint and on the in-process reference, their answers
 * compared as `etch diff` compares them, and a divergence shrunk to a scenario file.
 *
 * A sequence is generated as a scenario (steps with captures, so each side's generated
 * Ids are matched through the same variables) and run by the runner on both targets: the
 * endpoint's signing, isolation, test control and clock hooks are the runner's, and the
 * comparison is diff.h's. Everything follows from the seed, so a run is reproducible.
 */
#ifndef HARNESS_EXPLORE_H
#define HARNESS_EXPLORE_H

#include "harness/backend.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The endpoint for one run of a sequence: a fresh one in process, or the same live one
 * (its isolation is the runner's). NULL when it cannot be had. release may be NULL. */
typedef struct harness_backend *harness_explore_acquire_fn(void *ctx);
typedef void harness_explore_release_fn(void *ctx, struct harness_backend *b);

#define HARNESS_EXPLORE_DEFAULT_SEQUENCE_STEPS 24
#define HARNESS_EXPLORE_MAX_FOUND              8
#define HARNESS_EXPLORE_MAX_WORKERS            8

struct harness_explore_options {
    uint64_t seed;
    uint64_t max_steps;     /* stop after about this many steps; 0: no limit */
    double max_seconds;     /* stop after this long; 0: no limit */
    size_t sequence_steps;  /* steps generated per sequence; 0: the default */
    size_t max_divergences; /* stop after finding this many; 0: 1 */
    /* The endpoint's clock can be moved with the reference's (in process, or test control
     * found): clock steps are generated and every answer is compared exactly. Without it
     * no clock step is generated, the endpoint and the reference run a step apart, and
     * before each step the reference's jobs are moved to the statuses the endpoint has
     * shown (explore_follow.c): answers are compared exactly but for the times of the
     * transitions. */
    bool has_clock_control;
    /* The endpoint outlives the run and remembers every job (a live one): the lists that
     * only grow (jobs that ended, by status) are not asked for. */
    bool is_endpoint_long_lived;
    const char *out_dir; /* where shrunk divergences are written; NULL: nowhere */
    /* Sequences run side by side (each with its own fresh endpoint): only for endpoints
     * that acquire gives afresh every time (in process). 0 or 1: one at a time, the
     * endpoint's run and the reference's side by side. Results do not depend on it. */
    size_t workers;
    FILE *progress;                 /* a progress line now and then; NULL: none */
    const atomic_bool *interrupted; /* optional: stop at the next sequence once true */
    harness_explore_acquire_fn *acquire;
    harness_explore_release_fn *release;
    void *ctx;
};

struct harness_explore_found {
    char what[512];        /* "step s3-CancelJob: status: endpoint 202 | reference 409" */
    size_t original_steps; /* of the sequence that diverged */
    size_t shrunk_steps;
    bool is_confirmed; /* the scenario FAILs on the endpoint and PASSes in process */
    char path[1024];   /* the scenario file written, "" when none */
};

struct harness_explore_summary {
    uint64_t steps;     /* steps that ran on both sides */
    uint64_t sequences; /* sequences run (shrinking's runs not counted) */
    uint64_t divergences;
    uint64_t should_differences; /* should-level differences seen (reported, not failing) */
    uint64_t tolerated;          /* time-dependent differences within the allowed outcomes */
    /* Without clock control: jobs the reference moved along their lifecycle because the
     * endpoint showed them further along. */
    uint64_t followed;
    uint64_t shrink_runs;
    double seconds;
    /* Of the sequences counted: the time their runs on the endpoint took alone, and the
     * time they took in all (generation, both runs, the comparison; with one worker their
     * wall time, each comparison overlapped with the next sequence's runs). With one worker
     * the first over the second is the rate of exploring over that of sending the same
     * requests without the reference and the comparisons. Shrinking is in neither. */
    double endpoint_seconds;
    double sequence_seconds;
    struct harness_explore_found found[HARNESS_EXPLORE_MAX_FOUND];
    size_t num_found;
    char error[256]; /* why the run stopped early, "" when it did not */
};

/* Explores until max_steps, max_seconds or max_divergences. REF_OK when it ran (whatever
 * it found). REF_E_NOT_FOUND when the endpoint could not be used: acquire gave nothing, or
 * a request to it failed in transport where the reference answered (out->error says why;
 * what ran before is in out). REF_E_INTERNAL when a generated sequence did not load (a
 * bug of the generator, out->error says where); REF_E_NOMEM. */
REF_MUST_CHECK enum ref_status harness_explore_run(const struct harness_explore_options *o,
                                                   struct harness_explore_summary *out);

/* Deliberately broken targets for the explorer's own tests: the in-process reference
 * behind a wrapper that changes its answers from the outside (the reference itself has no
 * switch a request could turn on). */
enum harness_broken_kind {
    HARNESS_BROKEN_NONE = 0,
    HARNESS_BROKEN_CANCEL_PROGRESSING, /* a CancelJob of a Progressing job answers 202 */
    HARNESS_BROKEN_PAUSED_STARTS,      /* a paused pipeline reads Paused but starts jobs */
    HARNESS_BROKEN_LIST_DROPS_JOB,     /* a list page of two jobs or more loses its second */
    HARNESS_BROKEN_COUNT
};

/* "cancel-progressing", "paused-starts", "list-drops-job"; HARNESS_BROKEN_NONE when
 * unknown. */
enum harness_broken_kind harness_broken_kind_from_name(const char *name);
const char *harness_broken_kind_name(enum harness_broken_kind kind);

/* A fresh in-process reference (hooks and virtual clock) broken as kind says; NULL when
 * out of memory. harness_backend_free releases it. */
struct harness_backend *harness_backend_broken_new(enum harness_broken_kind kind);

/* The same (kind may be HARNESS_BROKEN_NONE: not broken), an endpoint without test control
 * in process: with clock_ms_per_request > 0 its clock moves on by that much before every
 * request, as real time passes between a client's requests, and it offers no hooks. NULL
 * when out of memory or the arguments are out of range. */
struct harness_backend *harness_backend_uncontrolled_new(enum harness_broken_kind kind,
                                                         int64_t clock_ms_per_request);

#endif
