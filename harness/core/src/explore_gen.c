/* SPDX-License-Identifier: Apache-2.0
 *
 * explore_gen.c - the generator of `etch explore`: one sequence of steps from a seed.
 *
 * Mostly valid requests, some invalid (bad Ids, the restricted and temporary principals,
 * bad signatures), with CancelJob weighted toward the moments where endpoints go wrong:
 * around pauses and resumes, near a job's start, twice, and beside DeletePipeline. The
 * generator keeps a small model of what it made (pipelines, their pause, jobs) only to make
 * most requests valid; what is right is the reference's answer, never the model's.
 */
#define _POSIX_C_SOURCE 200809L

#include "explore_internal.h"

#include "harness/text.h"

#include "ref/router.h"

#include <jansson.h>

#include <stdio.h>
#include <string.h>

#define GEN_MAX_JOBS 8

/* --- Random numbers ------------------------------------------------------------------ */

uint64_t explore_splitmix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return r->state * UINT64_C(2685821657736338717);
}

/* Uniform enough in [0, n) for the small n used here. */
static size_t rng_below(struct rng *r, size_t n)
{
    return n == 0 ? 0 : (size_t)((rng_next(r) >> 11) % n);
}

static bool rng_chance(struct rng *r, unsigned percent)
{
    return rng_below(r, 100) < percent;
}

/* --- The generator ------------------------------------------------------------------- */

struct gen_pipeline {
    bool is_paused;
    bool is_doomed; /* a DeletePipeline was sent: no more jobs go to it */
};

struct gen_job {
    size_t pipeline;
};

struct gen {
    struct rng rng;
    bool has_clock;
    bool is_long_lived; /* the endpoint outlives the run: harness_explore_options */
    json_t *steps;      /* owned array */
    size_t target_steps;
    struct gen_pipeline pipelines[EXPLORE_MAX_PIPELINES];
    size_t num_pipelines;
    struct gen_job jobs[GEN_MAX_JOBS];
    size_t num_jobs;
};

static const char s_role[] = "arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role";
static const char s_preset[] = "1351620000001-000010";

/* Appends a step named after its position and what it does; step is consumed. */
static void add_step(struct gen *g, const char *what, json_t *step)
{
    char name[48];
    harness_textf(name, sizeof(name), "s%zu-%s", json_array_size(g->steps) + 1, what);
    json_object_set_new(step, "name", json_string(name));
    json_array_append_new(g->steps, step);
}

static json_t *call(const char *op, json_t *params)
{
    json_t *step = json_object();
    json_object_set_new(step, "call", json_string(op));
    if (params != NULL) {
        json_object_set_new(step, "params", params);
    }
    return step;
}

static void var_ref(char *out, size_t cap, char kind, size_t index)
{
    harness_textf(out, cap, "${%c%zu}", kind, index + 1);
}

/* An Id that names nothing, or one that is not an Id at all. */
static const char *bad_id(struct gen *g)
{
    static const char *const ids[] = {
        "1111111111111-nojob0", "9999999999999-zzzzzz", "not-an-id", "1234", "0000000000000-etch00",
    };
    return ids[rng_below(&g->rng, sizeof(ids) / sizeof(ids[0]))];
}

static void gen_create_pipeline(struct gen *g)
{
    size_t k = g->num_pipelines++;
    char name[32];
    harness_textf(name, sizeof(name), "explore-%zu", k + 1);
    json_t *step = call("CreatePipeline",
                        json_pack("{s:s, s:s, s:s, s:s}", "Name", name, "InputBucket", "in-bucket",
                                  "OutputBucket", "out-bucket", "Role", s_role));
    char var[8];
    harness_textf(var, sizeof(var), "p%zu", k + 1);
    json_object_set_new(step, "capture", json_pack("{s:s}", var, "Pipeline.Id"));
    add_step(g, "CreatePipeline", step);
}

/* A pipeline that takes jobs, or SIZE_MAX. */
static size_t usable_pipeline(struct gen *g)
{
    size_t open[EXPLORE_MAX_PIPELINES];
    size_t n = 0;
    for (size_t i = 0; i < g->num_pipelines; i++) {
        if (!g->pipelines[i].is_doomed) {
            open[n++] = i;
        }
    }
    return n == 0 ? SIZE_MAX : open[rng_below(&g->rng, n)];
}

static void gen_create_job(struct gen *g, size_t p)
{
    size_t k = g->num_jobs++;
    g->jobs[k].pipeline = p;
    char pid[16];
    char in[32];
    char outk[32];
    var_ref(pid, sizeof(pid), 'p', p);
    harness_textf(in, sizeof(in), "in/%zu.mp4", k + 1);
    harness_textf(outk, sizeof(outk), "out/%zu.mp4", k + 1);
    json_t *step =
        call("CreateJob", json_pack("{s:s, s:{s:s}, s:{s:s, s:s}}", "PipelineId", pid, "Input",
                                    "Key", in, "Output", "Key", outk, "PresetId", s_preset));
    char var[8];
    harness_textf(var, sizeof(var), "j%zu", k + 1);
    json_object_set_new(step, "capture", json_pack("{s:s}", var, "Job.Id"));
    add_step(g, "CreateJob", step);
}

static void gen_job_op(struct gen *g, const char *op, size_t j)
{
    char id[16];
    var_ref(id, sizeof(id), 'j', j);
    add_step(g, op, call(op, json_pack("{s:s}", "Id", id)));
}

static void gen_cancel_some_job(struct gen *g)
{
    if (g->num_jobs > 0) {
        gen_job_op(g, "CancelJob", rng_below(&g->rng, g->num_jobs));
    }
}

/* A job of pipeline p, else any job, to cancel right after p changed. */
static void gen_cancel_near(struct gen *g, size_t p)
{
    for (size_t j = g->num_jobs; j-- > 0;) {
        if (g->jobs[j].pipeline == p) {
            gen_job_op(g, "CancelJob", j);
            return;
        }
    }
    gen_cancel_some_job(g);
}

static void gen_update_status(struct gen *g, size_t p)
{
    char id[16];
    var_ref(id, sizeof(id), 'p', p);
    bool pause = !g->pipelines[p].is_paused;
    g->pipelines[p].is_paused = pause;
    add_step(g, "UpdatePipelineStatus",
             call("UpdatePipelineStatus",
                  json_pack("{s:s, s:s}", "Id", id, "Status", pause ? "Paused" : "Active")));
}

static void gen_clock(struct gen *g)
{
    /* Around the reference's start delay (2 s) and run time (5 s), where cancels race. */
    static const int advances[] = {500, 1000, 1999, 2000, 2001, 3000, 5000, 7000};
    json_t *clock;
    if (rng_chance(&g->rng, 20)) {
        clock = json_pack("{s:b}", "to_next_event", 1);
    } else {
        clock = json_pack("{s:i}", "advance_ms",
                          advances[rng_below(&g->rng, sizeof(advances) / sizeof(advances[0]))]);
    }
    json_t *step = json_object();
    json_object_set_new(step, "clock", clock);
    add_step(g, "clock", step);
}

static void gen_list(struct gen *g)
{
    static const char *const statuses[] = {"Submitted", "Progressing", "Complete", "Canceled",
                                           "Error"};
    size_t pick = rng_below(&g->rng, 4);
    if (pick < 2 && g->num_pipelines > 0) {
        char id[16];
        var_ref(id, sizeof(id), 'p', rng_below(&g->rng, g->num_pipelines));
        add_step(g, "ListJobsByPipeline",
                 call("ListJobsByPipeline",
                      json_pack("{s:s, s:s}", "PipelineId", id, "Ascending", "true")));
    } else if (pick == 2) {
        size_t status = rng_below(&g->rng, 5);
        /* An endpoint that outlives the run keeps every job that ever ended (it never
         * forgets an Id), so after some minutes the runner would walk more pages than it
         * may to find the sequence's own jobs among them. What is Submitted or Progressing
         * stays few: the runner's cleanup cancels or finishes it after every sequence. */
        if (g->is_long_lived) {
            status %= 2;
        }
        add_step(g, "ListJobsByStatus",
                 call("ListJobsByStatus",
                      json_pack("{s:s, s:s}", "Status", statuses[status], "Ascending", "true")));
    } else {
        add_step(g, "ListPipelines",
                 call("ListPipelines", json_pack("{s:s}", "Ascending", "true")));
    }
}

/* A request that a faithful endpoint refuses: an Id that names nothing or is malformed,
 * a principal that may not do this (the contract's restricted and temporary test
 * principals), or a bad signature. */
static void gen_invalid(struct gen *g)
{
    static const char *const faults[] = {"wrong-secret", "flip-signature-digit", "unknown-key",
                                         "none", "temporary-wrong-token"};
    size_t kind = rng_below(&g->rng, 3);
    if (kind == 0 || g->num_jobs == 0) {
        static const char *const ops[] = {"CancelJob", "ReadJob", "ReadPipeline", "DeletePipeline"};
        const char *op = ops[rng_below(&g->rng, 4)];
        add_step(g, op, call(op, json_pack("{s:s}", "Id", bad_id(g))));
        return;
    }
    char id[16];
    var_ref(id, sizeof(id), 'j', rng_below(&g->rng, g->num_jobs));
    json_t *step = call("CancelJob", json_pack("{s:s}", "Id", id));
    if (kind == 1) {
        /* restricted may only read; temporary is a full principal, so its cancel counts. */
        json_object_set_new(step, "sign",
                            json_string(rng_chance(&g->rng, 70) ? "restricted" : "temporary"));
    } else {
        json_object_set_new(step, "sign", json_string(faults[rng_below(&g->rng, 5)]));
    }
    add_step(g, "CancelJob", step);
}

static void gen_delete(struct gen *g)
{
    size_t p = rng_below(&g->rng, g->num_pipelines);
    char id[16];
    var_ref(id, sizeof(id), 'p', p);
    g->pipelines[p].is_doomed = true;
    add_step(g, "DeletePipeline", call("DeletePipeline", json_pack("{s:s}", "Id", id)));
    if (rng_chance(&g->rng, 50)) {
        gen_cancel_near(g, p);
    }
}

/* One or a few steps, weighted toward CancelJob around state changes. */
static void gen_next(struct gen *g)
{
    if (g->num_pipelines == 0) {
        gen_create_pipeline(g);
        return;
    }
    size_t p = usable_pipeline(g);
    enum {
        W_PIPELINE,
        W_JOB,
        W_CANCEL,
        W_CANCEL_TWICE,
        W_STATUS,
        W_CLOCK,
        W_READ,
        W_LIST,
        W_DELETE,
        W_INVALID,
        W_COUNT
    };
    unsigned w[W_COUNT] = {
        [W_PIPELINE] = g->num_pipelines < EXPLORE_MAX_PIPELINES ? 4 : 0,
        [W_JOB] = p != SIZE_MAX && g->num_jobs < GEN_MAX_JOBS ? 16 : 0,
        [W_CANCEL] = g->num_jobs > 0 ? 16 : 0,
        [W_CANCEL_TWICE] = g->num_jobs > 0 ? 4 : 0,
        [W_STATUS] = p != SIZE_MAX ? 10 : 0,
        [W_CLOCK] = g->has_clock ? 12 : 0,
        [W_READ] = 8,
        [W_LIST] = 8,
        [W_DELETE] = 2,
        [W_INVALID] = 7,
    };
    unsigned total = 0;
    for (size_t i = 0; i < W_COUNT; i++) {
        total += w[i];
    }
    unsigned pick = (unsigned)rng_below(&g->rng, total);
    size_t choice = 0;
    while (pick >= w[choice]) {
        pick -= w[choice++];
    }
    switch (choice) {
        case W_PIPELINE:
            gen_create_pipeline(g);
            break;
        case W_JOB:
            gen_create_job(g, p);
            break;
        case W_CANCEL:
            gen_cancel_some_job(g);
            break;
        case W_CANCEL_TWICE: {
            size_t j = rng_below(&g->rng, g->num_jobs);
            gen_job_op(g, "CancelJob", j);
            gen_job_op(g, "CancelJob", j);
            break;
        }
        case W_STATUS:
            gen_update_status(g, p);
            if (rng_chance(&g->rng, 50)) {
                gen_cancel_near(g, p);
            }
            break;
        case W_CLOCK:
            gen_clock(g);
            if (rng_chance(&g->rng, 40)) {
                gen_cancel_some_job(g);
            }
            break;
        case W_READ:
            if (g->num_jobs > 0 && rng_chance(&g->rng, 75)) {
                gen_job_op(g, "ReadJob", rng_below(&g->rng, g->num_jobs));
            } else {
                char id[16];
                var_ref(id, sizeof(id), 'p', rng_below(&g->rng, g->num_pipelines));
                add_step(g, "ReadPipeline", call("ReadPipeline", json_pack("{s:s}", "Id", id)));
            }
            break;
        case W_LIST:
            gen_list(g);
            break;
        case W_DELETE:
            gen_delete(g);
            break;
        default:
            gen_invalid(g);
            break;
    }
}

json_t *
explore_generate(const struct harness_explore_options *o, uint64_t seed, size_t target_steps)
{
    struct gen g = {.has_clock = o->has_clock_control,
                    .is_long_lived = o->is_endpoint_long_lived,
                    .target_steps = target_steps};
    g.rng.state = explore_splitmix64(seed) | 1;
    g.steps = json_array();
    while (g.steps != NULL && json_array_size(g.steps) < target_steps) {
        gen_next(&g);
    }
    /* A last pair of steps may overshoot; the runner's limit is 64. */
    return g.steps;
}
