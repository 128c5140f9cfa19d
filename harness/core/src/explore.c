/* SPDX-License-Identifier: Apache-2.0
 *
 * explore.c - `etch explore`: random sequences on an endpoint and on the reference in
 * lockstep, divergences shrunk to scenario files (explore.h says how it is built).
 *
 * A sequence is a scenario generated from its own seed: every step is sent to the
 * endpoint and to the reference by the runner, and the two results are compared step by
 * step with diff.c's normalisation. The generator keeps a small model of what it made
 * (pipelines, their pause, jobs) only to make most requests valid; what is right is the
 * reference's answer, never the model's.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/explore.h"

#include "harness/diff.h"
#include "harness/http_response.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/text.h"

#include "ref/router.h"

#include <jansson.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GEN_MAX_PIPELINES 3 /* under the 4 a faithful endpoint allows (contract 2b) */
#define GEN_MAX_JOBS      8
#define SHRINK_MAX_RUNS   400

/* --- Random numbers ------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t x)
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
    struct gen_pipeline pipelines[GEN_MAX_PIPELINES];
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
    size_t open[GEN_MAX_PIPELINES];
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
        [W_PIPELINE] = g->num_pipelines < GEN_MAX_PIPELINES ? 4 : 0,
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

/* The steps of one sequence (owned by the caller), NULL when out of memory. */
static json_t *generate(const struct harness_explore_options *o, uint64_t seed, size_t target_steps)
{
    struct gen g = {.has_clock = o->has_clock_control,
                    .is_long_lived = o->is_endpoint_long_lived,
                    .target_steps = target_steps};
    g.rng.state = splitmix64(seed) | 1;
    g.steps = json_array();
    while (g.steps != NULL && json_array_size(g.steps) < target_steps) {
        gen_next(&g);
    }
    /* A last pair of steps may overshoot; the runner's limit is 64. */
    return g.steps;
}

/* --- Scenarios ----------------------------------------------------------------------- */

/* With clock control the scenario starts by stopping the endpoint's clock (a move of
 * 0 ms makes it virtual, contract section 9): from then on it moves only with the
 * reference's, so a job's start falls on the same step on both sides. Before it, the
 * endpoint's real clock would run on between the first requests and the first move. */
/* The description of the scenarios that only the explorer reads. */
static const char s_generated[] = "generated by etch explore";

static char *scenario_text(const struct harness_explore_options *o,
                           const char *name,
                           const char *description,
                           json_t *steps)
{
    json_t *all = json_array();
    if (all != NULL && o->has_clock_control) {
        json_array_append_new(
            all, json_pack("{s:s, s:{s:i}}", "name", "clock-stopped", "clock", "advance_ms", 0));
    }
    json_array_extend(all, steps);
    json_t *sc = json_pack("{s:s, s:s, s:s, s:i, s:o}", "name", name, "description", description,
                           "source", "model", "pipelines", GEN_MAX_PIPELINES, "steps", all);
    /* Only a scenario written for people is indented: the others are read by the loader
     * alone, once per run. */
    bool is_written = description != s_generated;
    char *text = sc != NULL ? harness_json_dump(sc, (is_written ? JSON_INDENT(2) : JSON_COMPACT) |
                                                        JSON_PRESERVE_ORDER)
                            : NULL;
    json_decref(sc);
    return text;
}

/* The last load error, for the message when a generated sequence does not load. */
static _Thread_local char s_load_error[1100];

static struct harness_scenario *load(const char *name, const char *text)
{
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    char path[96];
    harness_textf(path, sizeof(path), "%s.json", name);
    if (harness_scenario_load_buffer((const uint8_t *)text, strlen(text), path, "explore", NULL,
                                     &sc, &err) != REF_OK) {
        harness_load_error_format(&err, s_load_error, sizeof(s_load_error));
        return NULL;
    }
    return sc;
}

static double now_s(void);

/* --- Runs on both sides -------------------------------------------------------------- */

struct pair {
    struct harness_scenario *sc;
    struct harness_scenario_result endpoint;
    struct harness_scenario_result reference;
    struct harness_scenario_diff diff;
    bool has_endpoint, has_reference, has_diff;
    double endpoint_seconds; /* the endpoint's run alone */
};

static void pair_cleanup(struct pair *p)
{
    if (p->has_diff) {
        harness_scenario_diff_cleanup(&p->diff);
    }
    if (p->has_endpoint) {
        harness_scenario_result_cleanup(&p->endpoint);
    }
    if (p->has_reference) {
        harness_scenario_result_cleanup(&p->reference);
    }
    harness_scenario_free(p->sc);
    memset(p, 0, sizeof(*p));
}

static struct harness_backend *new_reference(const struct harness_explore_options *o,
                                             bool is_for_replay)
{
    struct harness_inproc_options opts = {.is_live_like = !o->has_clock_control && !is_for_replay};
    struct harness_backend *b = harness_backend_inproc_new(&opts);
    if (b != NULL && opts.is_live_like) {
        /* A reference of its own per sequence, dropped afterwards: its cleanup need not
         * wait for jobs still running. */
        b->cleanup_timeout_ms = 1;
    }
    return b;
}

/* The reference's run of a sequence, on a thread of its own: it needs nothing from the
 * endpoint's run, so the two take the time of the slower one (the scenario is only read). */
struct reference_run {
    const struct harness_explore_options *o;
    const struct harness_scenario *sc;
    bool is_for_replay;
    struct harness_scenario_result *out;
    enum ref_status rc;
};

static void *run_reference(void *arg)
{
    struct reference_run *rr = arg;
    struct harness_backend *r = new_reference(rr->o, rr->is_for_replay);
    rr->rc = r != NULL ? harness_run_scenario(rr->sc, r, rr->out) : REF_E_NOMEM;
    harness_backend_free(r);
    return NULL;
}

static bool same_exchange(const struct harness_exchange *a, const struct harness_exchange *b)
{
    if (a->response.len != b->response.len ||
        (a->response.len > 0 && memcmp(a->response.data, b->response.data, a->response.len) != 0)) {
        return false;
    }
    if (a->observed_body == NULL || b->observed_body == NULL) {
        return a->observed_body == b->observed_body;
    }
    return strcmp(a->observed_body, b->observed_body) == 0;
}

/* Whether the two runs got the same bytes for every step. Two in-process targets made
 * alike answer byte for byte the same (same clock, same random source) wherever neither
 * is broken: such runs need no comparison, which is most of the explorer's time. */
static bool is_identical(const struct harness_scenario_result *a,
                         const struct harness_scenario_result *b)
{
    if (a->num_steps != b->num_steps) {
        return false;
    }
    for (size_t i = 0; i < a->num_steps; i++) {
        const struct harness_step_result *sa = &a->steps[i];
        const struct harness_step_result *sb = &b->steps[i];
        if (sa->verdict != sb->verdict || sa->num_exchanges != sb->num_exchanges) {
            return false;
        }
        for (size_t k = 0; k < sa->num_exchanges; k++) {
            if (!same_exchange(&sa->exchanges[k], &sb->exchanges[k])) {
                return false;
            }
        }
    }
    return true;
}

/* Runs the scenario in text on both sides and compares. REF_E_NOT_FOUND when the endpoint
 * could not be had, REF_E_MALFORMED when the text does not load (a shrunk candidate that
 * uses a variable no step defines any more). */
static enum ref_status run_pair(const struct harness_explore_options *o,
                                const char *name,
                                const char *text,
                                bool is_for_replay,
                                struct pair *p)
{
    memset(p, 0, sizeof(*p));
    p->sc = load(name, text);
    if (p->sc == NULL) {
        return REF_E_MALFORMED;
    }
    struct harness_backend *e = o->acquire(o->ctx);
    if (e == NULL) {
        return REF_E_NOT_FOUND;
    }
    struct reference_run rr = {
        .o = o, .sc = p->sc, .is_for_replay = is_for_replay, .out = &p->reference};
    pthread_t thread;
    /* With several workers the cores are taken already. */
    bool is_threaded = o->workers <= 1 && pthread_create(&thread, NULL, run_reference, &rr) == 0;
    double started = now_s();
    enum ref_status rc = harness_run_scenario(p->sc, e, &p->endpoint);
    p->endpoint_seconds = now_s() - started;
    p->has_endpoint = rc == REF_OK;
    if (o->release != NULL) {
        o->release(o->ctx, e);
    }
    if (is_threaded) {
        pthread_join(thread, NULL);
    } else {
        run_reference(&rr);
    }
    p->has_reference = rr.rc == REF_OK;
    if (rc == REF_OK) {
        rc = rr.rc;
    }
    if (rc == REF_OK && !is_identical(&p->endpoint, &p->reference)) {
        rc = harness_diff_scenario(&p->endpoint, &p->reference, &p->diff);
        p->has_diff = rc == REF_OK;
    }
    return rc;
}

static bool has_run(const struct harness_step_result *s)
{
    return s->verdict != HARNESS_VERDICT_NONE && s->verdict != HARNESS_VERDICT_SKIP;
}

static size_t steps_before(const struct harness_explore_options *o);

/* The generated steps that ran on both sides. */
static size_t steps_run(const struct harness_explore_options *o, const struct pair *p)
{
    size_t n = 0;
    for (size_t i = steps_before(o); i < p->endpoint.num_steps && i < p->reference.num_steps; i++) {
        n += has_run(&p->endpoint.steps[i]) && has_run(&p->reference.steps[i]) ? 1 : 0;
    }
    return n;
}

/* How many steps scenario_text puts before the generated ones. */
static size_t steps_before(const struct harness_explore_options *o)
{
    return o->has_clock_control ? 1 : 0;
}

/* --- Judging differences ------------------------------------------------------------- */

enum weight { WEIGHT_MUST, WEIGHT_SHOULD, WEIGHT_TOLERATED };

static bool is_job_timing_or_status(const char *what)
{
    /* "body Job.Status", "body Jobs[3].Timing.StartTimeMillis" */
    if (strncmp(what, "body Job", 8) != 0) {
        return false;
    }
    return strstr(what, ".Status") != NULL || strstr(what, ".Timing") != NULL;
}

static bool status_pair_is(const struct harness_diff_item *it, const char *x, const char *y)
{
    return (strcmp(it->a, x) == 0 && strcmp(it->b, y) == 0) ||
           (strcmp(it->a, y) == 0 && strcmp(it->b, x) == 0);
}

/* Whether a step's differences are only those a race with the real clock allows: a job
 * seen one status later on one side, or a CancelJob that one side answered before the
 * job started (202) and the other after (409). */
static bool is_race_step(const struct harness_step_diff *d)
{
    bool is_cancel = d->step->kind == HARNESS_STEP_CALL && d->step->request.op == REF_OP_CANCEL_JOB;
    bool is_cancel_race = false;
    for (size_t i = 0; i < d->num_items; i++) {
        const struct harness_diff_item *it = &d->items[i];
        if (strcmp(it->what, "status") == 0) {
            is_cancel_race = is_cancel && status_pair_is(it, "202", "409");
            if (!is_cancel_race) {
                return false;
            }
        }
    }
    for (size_t i = 0; i < d->num_items; i++) {
        /* Beside a 202 against a 409, the rest of the two answers differs too: the error
         * code, its header, the bodies. */
        if (!is_cancel_race && !is_job_timing_or_status(d->items[i].what)) {
            return false;
        }
    }
    return d->differences == d->num_items;
}

static enum weight item_weight(const struct harness_explore_options *o,
                               const struct harness_step_diff *d,
                               const struct harness_diff_item *it)
{
    if (!o->has_clock_control && is_race_step(d)) {
        return WEIGHT_TOLERATED;
    }
    /* The wire form's headers are what the contract asks at should level (section 4). */
    if (strncmp(it->what, "header ", 7) == 0) {
        return WEIGHT_SHOULD;
    }
    return WEIGHT_MUST;
}

/* The first must-level difference: its step's index, and a signature that names the kind
 * of difference (its what without array indexes) for shrinking to keep. */
struct divergence {
    bool is_found;
    size_t step;
    enum ref_op op;
    char signature[HARNESS_MAX_JSON_PATH_BYTES + 32];
    char text[512];
};

static void strip_indexes(const char *in, char *out, size_t cap)
{
    size_t k = 0;
    bool in_index = false;
    for (size_t i = 0; in[i] != '\0' && k + 1 < cap; i++) {
        if (in[i] == '[') {
            in_index = true;
        } else if (in[i] == ']') {
            in_index = false;
        } else if (!in_index) {
            out[k++] = in[i];
        }
    }
    out[k] = '\0';
}

static void judge(const struct harness_explore_options *o,
                  const struct pair *p,
                  struct divergence *first,
                  uint64_t *should,
                  uint64_t *tolerated)
{
    memset(first, 0, sizeof(*first));
    for (size_t s = 0; s < p->diff.num_steps; s++) {
        const struct harness_step_diff *d = &p->diff.steps[s];
        for (size_t i = 0; i < d->num_items; i++) {
            const struct harness_diff_item *it = &d->items[i];
            enum weight w = item_weight(o, d, it);
            if (w == WEIGHT_SHOULD && should != NULL) {
                (*should)++;
            } else if (w == WEIGHT_TOLERATED && tolerated != NULL) {
                (*tolerated)++;
            } else if (w == WEIGHT_MUST && !first->is_found) {
                first->is_found = true;
                first->step = s - steps_before(o);
                first->op = d->step->kind == HARNESS_STEP_CALL ? d->step->request.op : REF_OP_NONE;
                strip_indexes(it->what, first->signature, sizeof(first->signature));
                harness_textf(first->text, sizeof(first->text),
                              "step %s: %s: endpoint %s | reference %s", d->step->name, it->what,
                              it->a, it->b);
            }
        }
    }
}

/* --- Shrinking ----------------------------------------------------------------------- */

struct shrink {
    const struct harness_explore_options *o;
    const char *name;
    struct divergence target;
    size_t runs;
    uint64_t *counter;
};

/* Whether these steps still diverge the same way. */
static bool still_diverges(struct shrink *s, json_t *steps)
{
    if (s->runs >= SHRINK_MAX_RUNS || json_array_size(steps) == 0) {
        return false;
    }
    s->runs++;
    (*s->counter)++;
    char *text = scenario_text(s->o, s->name, s_generated, steps);
    if (text == NULL) {
        return false;
    }
    struct pair p;
    enum ref_status rc = run_pair(s->o, s->name, text, false, &p);
    free(text);
    bool same = false;
    if (rc == REF_OK) {
        struct divergence d;
        judge(s->o, &p, &d, NULL, NULL);
        same = d.is_found && d.op == s->target.op && strcmp(d.signature, s->target.signature) == 0;
    }
    pair_cleanup(&p);
    return same;
}

/* steps without the items [from, from + n). */
static json_t *without(json_t *steps, size_t from, size_t n)
{
    json_t *out = json_array();
    for (size_t i = 0; out != NULL && i < json_array_size(steps); i++) {
        if (i < from || i >= from + n) {
            json_array_append(out, json_array_get(steps, i));
        }
    }
    return out;
}

/* Delta debugging over the steps (ddmin, complements only): the fewest steps found that
 * still diverge. Takes steps over, returns the result. */
static json_t *shrink_steps(struct shrink *s, json_t *steps)
{
    size_t parts = 2;
    while (json_array_size(steps) >= 2) {
        size_t len = json_array_size(steps);
        size_t chunk = (len + parts - 1) / parts;
        bool is_reduced = false;
        for (size_t from = 0; from < len; from += chunk) {
            json_t *candidate = without(steps, from, chunk);
            if (candidate != NULL && still_diverges(s, candidate)) {
                json_decref(steps);
                steps = candidate;
                parts = parts > 2 ? parts - 1 : 2;
                is_reduced = true;
                break;
            }
            json_decref(candidate);
        }
        if (!is_reduced) {
            if (parts >= len || s->runs >= SHRINK_MAX_RUNS) {
                break;
            }
            parts = parts * 2 < len ? parts * 2 : len;
        }
    }
    return steps;
}

/* Then simpler values, one at a time: the valid signature, the server's own order, a clock
 * that moves to the next event instead of by an odd amount. */
static void shrink_values(struct shrink *s, json_t *steps)
{
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *step = json_array_get(steps, i);
        static const char *const drops[] = {"sign"};
        for (size_t k = 0; k < sizeof(drops) / sizeof(drops[0]); k++) {
            json_t *old = json_object_get(step, drops[k]);
            if (old == NULL) {
                continue;
            }
            json_incref(old);
            json_object_del(step, drops[k]);
            if (!still_diverges(s, steps)) {
                json_object_set(step, drops[k], old);
            }
            json_decref(old);
        }
        json_t *params = json_object_get(step, "params");
        json_t *asc = json_object_get(params, "Ascending");
        if (asc != NULL) {
            json_incref(asc);
            json_object_del(params, "Ascending");
            if (!still_diverges(s, steps)) {
                json_object_set(params, "Ascending", asc);
            }
            json_decref(asc);
        }
        json_t *clock = json_object_get(step, "clock");
        if (json_object_get(clock, "advance_ms") != NULL) {
            json_t *old = json_deep_copy(clock);
            json_object_set_new(step, "clock", json_pack("{s:b}", "to_next_event", 1));
            if (!still_diverges(s, steps)) {
                json_object_set_new(step, "clock", old);
            } else {
                json_decref(old);
            }
        }
    }
}

/* --- Writing the scenario ------------------------------------------------------------ */

static bool has_placeholder(const char *s)
{
    return strstr(s, "<id>") != NULL || strstr(s, "<uuid>") != NULL || strstr(s, "<date>") != NULL;
}

/* The reference's normalised body as an expectation: numbers (times of each run), free
 * text and what differs legitimately between targets (placeholders) checked by type only. */
static json_t *expected_body(json_t *v, bool is_free_text)
{
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *key;
        json_t *child;
        json_object_foreach (v, key, child) {
            bool free_text = strcmp(key, "message") == 0 || strcmp(key, "Message") == 0;
            json_object_set_new(out, key, expected_body(child, free_text));
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            json_array_append_new(out, expected_body(child, false));
        }
        return out;
    }
    if (json_is_number(v)) {
        return json_pack("{s:s}", "$type", "number");
    }
    if (json_is_string(v) && (is_free_text || has_placeholder(json_string_value(v)))) {
        return json_pack("{s:s}", "$type", "string");
    }
    return json_incref(v);
}

static json_t *reference_body(const struct harness_scenario_result *r,
                              const struct harness_exchange *x)
{
    json_t *raw = NULL;
    if (x->observed_body != NULL) {
        raw = json_loads(x->observed_body, JSON_DECODE_ANY, NULL);
    } else {
        struct harness_http_response http;
        struct ref_buf chunked;
        ref_buf_init(&chunked, HARNESS_MAX_RESPONSE_BODY_BYTES);
        if (harness_http_parse_response(ref_buf_slice(&x->response), &http, &chunked, NULL, NULL) ==
                REF_OK &&
            http.body.len > 0) {
            raw = json_loadb((const char *)http.body.ptr, http.body.len, JSON_DECODE_ANY, NULL);
        }
        ref_buf_cleanup(&chunked);
    }
    if (raw == NULL) {
        return NULL;
    }
    json_t *norm = harness_diff_normalise(raw, &r->vars, r->name_suffix);
    json_decref(raw);
    json_t *out = norm != NULL ? expected_body(norm, false) : NULL;
    json_decref(norm);
    return out;
}

/* The steps with the reference's answers as their expectations: every request's status and
 * error code, and where the endpoint diverged, the body as well. */
static json_t *
with_expectations(const struct harness_explore_options *o, json_t *steps, const struct pair *p)
{
    json_t *out = json_deep_copy(steps);
    size_t before = steps_before(o);
    for (size_t i = 0;
         out != NULL && i < json_array_size(out) && i + before < p->reference.num_steps; i++) {
        const struct harness_step_result *rs = &p->reference.steps[i + before];
        json_t *step = json_array_get(out, i);
        if (json_object_get(step, "call") == NULL || !has_run(rs) || rs->num_exchanges == 0) {
            continue;
        }
        const struct harness_exchange *x = &rs->exchanges[rs->num_exchanges - 1];
        json_t *expect = json_pack("{s:i}", "status", x->http_status);
        json_object_set_new(expect, "error",
                            x->error_code[0] != '\0' ? json_string(x->error_code) : json_null());
        if (i + before < p->diff.num_steps && p->diff.steps[i + before].differences > 0) {
            json_t *body = reference_body(&p->reference, x);
            if (body != NULL) {
                json_object_set_new(expect, "body", body);
            }
        }
        json_object_set_new(step, "expect", expect);
    }
    return out;
}

static enum ref_status make_dirs(const char *dir)
{
    char path[1024];
    harness_textf(path, sizeof(path), "%s", dir);
    for (char *q = path + 1; *q != '\0'; q++) {
        if (*q == '/') {
            *q = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                return REF_E_NOT_FOUND;
            }
            *q = '/';
        }
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        return REF_E_NOT_FOUND;
    }
    return REF_OK;
}

/* Replays the scenario text: FAIL on the endpoint, PASS in process. */
static bool confirm(const struct harness_explore_options *o, const char *name, const char *text)
{
    struct harness_scenario *sc = load(name, text);
    if (sc == NULL) {
        return false;
    }
    bool is_confirmed = false;
    struct harness_backend *e = o->acquire(o->ctx);
    struct harness_scenario_result re;
    if (e != NULL && harness_run_scenario(sc, e, &re) == REF_OK) {
        is_confirmed = re.verdict == HARNESS_VERDICT_FAIL;
        harness_scenario_result_cleanup(&re);
    }
    if (e != NULL && o->release != NULL) {
        o->release(o->ctx, e);
    }
    struct harness_backend *r = harness_backend_inproc_new(NULL);
    struct harness_scenario_result rr;
    if (is_confirmed && r != NULL && harness_run_scenario(sc, r, &rr) == REF_OK) {
        is_confirmed = rr.verdict == HARNESS_VERDICT_PASS;
        harness_scenario_result_cleanup(&rr);
    } else {
        is_confirmed = false;
    }
    harness_backend_free(r);
    harness_scenario_free(sc);
    return is_confirmed;
}

static void write_found(const struct harness_explore_options *o,
                        const char *name,
                        json_t *steps,
                        struct harness_explore_found *f)
{
    struct pair p;
    char *probe = scenario_text(o, name, s_generated, steps);
    enum ref_status rc = probe != NULL ? run_pair(o, name, probe, true, &p) : REF_E_NOMEM;
    free(probe);
    if (rc != REF_OK) {
        pair_cleanup(&p);
        return;
    }
    json_t *expected = with_expectations(o, steps, &p);
    pair_cleanup(&p);
    char description[700];
    harness_textf(description, sizeof(description),
                  "Found by etch explore: the endpoint diverged from the reference (%s); the "
                  "expectations are the reference's answers.",
                  f->what);
    char *text = expected != NULL ? scenario_text(o, name, description, expected) : NULL;
    json_decref(expected);
    if (text == NULL) {
        return;
    }
    f->is_confirmed = confirm(o, name, text);
    char dir[1024];
    harness_textf(dir, sizeof(dir), "%s/explore", o->out_dir);
    if (f->is_confirmed && make_dirs(dir) == REF_OK) {
        harness_textf(f->path, sizeof(f->path), "%s/%s.json", dir, name);
        FILE *fp = fopen(f->path, "w");
        if (fp == NULL || fputs(text, fp) < 0 || fputc('\n', fp) == EOF) {
            f->path[0] = '\0';
        }
        if (fp != NULL && fclose(fp) != 0) {
            f->path[0] = '\0';
        }
    }
    free(text);
}

/* --- The run ------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const struct harness_explore_options *o,
                     const struct harness_explore_summary *s,
                     double elapsed,
                     bool is_last)
{
    if (o->progress == NULL) {
        return;
    }
    bool is_tty = isatty(fileno(o->progress));
    fprintf(o->progress, "%sexplore: %llu steps, %llu sequences, %llu divergences, %.0f steps/s%s",
            is_tty ? "\r" : "", (unsigned long long)s->steps, (unsigned long long)s->sequences,
            (unsigned long long)s->divergences, elapsed > 0 ? (double)s->steps / elapsed : 0.0,
            is_tty && !is_last ? "" : "\n");
    fflush(o->progress);
}

static void on_divergence(const struct harness_explore_options *o,
                          struct harness_explore_summary *out,
                          uint64_t seq_seed,
                          json_t *steps,
                          const struct divergence *d)
{
    out->divergences++;
    if (out->num_found == HARNESS_EXPLORE_MAX_FOUND) {
        return;
    }
    struct harness_explore_found *f = &out->found[out->num_found++];
    harness_textf(f->what, sizeof(f->what), "%s", d->text);
    /* Steps after the divergent one cannot matter to it. */
    json_t *kept = without(steps, d->step + 1, json_array_size(steps));
    f->original_steps = d->step + 1;
    char name[64];
    harness_textf(name, sizeof(name), "explore-%llx", (unsigned long long)seq_seed);
    struct shrink s = {.o = o, .name = name, .target = *d, .counter = &out->shrink_runs};
    kept = shrink_steps(&s, kept);
    shrink_values(&s, kept);
    f->shrunk_steps = json_array_size(kept);
    if (o->out_dir != NULL) {
        write_found(o, name, kept, f);
    }
    json_decref(kept);
}

/* One sequence of a batch: generated and run on a worker, judged in order afterwards. */
struct slot {
    const struct harness_explore_options *o;
    size_t per_sequence;
    uint64_t seq_seed;
    char name[64];
    json_t *steps;
    struct pair p;
    enum ref_status rc;
    char load_error[sizeof(s_load_error)];
    double seconds; /* the sequence, both runs and the comparison */
};

static void *run_slot(void *arg)
{
    struct slot *sl = arg;
    sl->steps = generate(sl->o, sl->seq_seed, sl->per_sequence);
    harness_textf(sl->name, sizeof(sl->name), "explore-%llx", (unsigned long long)sl->seq_seed);
    char *text = sl->steps != NULL ? scenario_text(sl->o, sl->name, s_generated, sl->steps) : NULL;
    if (text == NULL) {
        memset(&sl->p, 0, sizeof(sl->p));
        sl->rc = REF_E_NOMEM;
        return NULL;
    }
    double started = now_s();
    sl->rc = run_pair(sl->o, sl->name, text, false, &sl->p);
    sl->seconds = now_s() - started;
    if (sl->rc == REF_E_MALFORMED) {
        harness_textf(sl->load_error, sizeof(sl->load_error), "%s", s_load_error);
    }
    free(text);
    return NULL;
}

static void slot_cleanup(struct slot *sl)
{
    pair_cleanup(&sl->p);
    json_decref(sl->steps);
    sl->steps = NULL;
}

/* Judges one sequence's runs into out. False when the run must stop (an error). */
static bool take_slot(const struct harness_explore_options *o,
                      struct slot *sl,
                      struct harness_explore_summary *out,
                      enum ref_status *rc)
{
    *rc = sl->rc;
    if (sl->rc == REF_E_MALFORMED) {
        /* The generator wrote something the loader refuses: its own bug, said so. */
        harness_textf(out->error, sizeof(out->error), "sequence %s does not load: %s", sl->name,
                      sl->load_error);
        return false;
    }
    if (sl->rc != REF_OK) {
        harness_textf(out->error, sizeof(out->error), "%s",
                      sl->rc == REF_E_NOT_FOUND ? "the endpoint could not be had"
                                                : ref_status_name(sl->rc));
        return false;
    }
    out->sequences++;
    out->steps += steps_run(o, &sl->p);
    out->endpoint_seconds += sl->p.endpoint_seconds;
    out->sequence_seconds += sl->seconds;
    struct divergence d;
    judge(o, &sl->p, &d, &out->should_differences, &out->tolerated);
    size_t at = d.step + steps_before(o);
    if (d.is_found && strcmp(d.signature, "answer") == 0 && at < sl->p.endpoint.num_steps &&
        sl->p.endpoint.steps[at].verdict == HARNESS_VERDICT_ERROR) {
        /* A transport failure on the endpoint's side: not an answer that differs, an
         * endpoint that cannot be used (exit status 3), and nothing to shrink. */
        harness_textf(out->error, sizeof(out->error), "the endpoint failed at step %s: %s",
                      sl->p.endpoint.steps[at].step->name, sl->p.endpoint.steps[at].reason);
        *rc = REF_E_NOT_FOUND;
        return false;
    }
    pair_cleanup(&sl->p);
    if (d.is_found) {
        on_divergence(o, out, sl->seq_seed, sl->steps, &d);
    }
    return true;
}

enum ref_status harness_explore_run(const struct harness_explore_options *o,
                                    struct harness_explore_summary *out)
{
    memset(out, 0, sizeof(*out));
    size_t per_sequence =
        o->sequence_steps != 0 ? o->sequence_steps : HARNESS_EXPLORE_DEFAULT_SEQUENCE_STEPS;
    if (per_sequence > 60) {
        per_sequence = 60;
    }
    size_t workers =
        o->workers > 1
            ? (o->workers > HARNESS_EXPLORE_MAX_WORKERS ? HARNESS_EXPLORE_MAX_WORKERS : o->workers)
            : 1;
    size_t max_found = o->max_divergences != 0 ? o->max_divergences : 1;
    double start = now_s();
    double last_progress = start;
    enum ref_status rc = REF_OK;
    bool is_stopped = false;
    for (uint64_t seq = 0; !is_stopped; seq += workers) {
        double t = now_s();
        if ((o->max_steps != 0 && out->steps >= o->max_steps) ||
            (o->max_seconds > 0 && t - start >= o->max_seconds) || out->divergences >= max_found ||
            (o->interrupted != NULL && atomic_load(o->interrupted))) {
            break;
        }
        if (t - last_progress >= 1.0) {
            progress(o, out, t - start, false);
            last_progress = t;
        }
        /* A batch of sequences side by side, judged in the order of their numbers, so that
         * what is found and counted does not depend on which worker was quicker. */
        struct slot slots[HARNESS_EXPLORE_MAX_WORKERS];
        pthread_t threads[HARNESS_EXPLORE_MAX_WORKERS];
        bool is_threaded[HARNESS_EXPLORE_MAX_WORKERS] = {false};
        for (size_t w = 0; w < workers; w++) {
            memset(&slots[w], 0, sizeof(slots[w]));
            slots[w].o = o;
            slots[w].per_sequence = per_sequence;
            slots[w].seq_seed = splitmix64(o->seed ^ splitmix64(seq + w));
            if (w > 0) {
                is_threaded[w] = pthread_create(&threads[w], NULL, run_slot, &slots[w]) == 0;
            }
        }
        run_slot(&slots[0]);
        for (size_t w = 1; w < workers; w++) {
            if (is_threaded[w]) {
                pthread_join(threads[w], NULL);
            } else {
                run_slot(&slots[w]);
            }
        }
        for (size_t w = 0; w < workers; w++) {
            bool is_counted =
                !is_stopped && (w == 0 || ((o->max_steps == 0 || out->steps < o->max_steps) &&
                                           out->divergences < max_found));
            if (is_counted && !take_slot(o, &slots[w], out, &rc)) {
                is_stopped = true;
            }
            slot_cleanup(&slots[w]);
        }
    }
    out->seconds = now_s() - start;
    progress(o, out, out->seconds, true);
    return rc == REF_E_MALFORMED ? REF_E_INTERNAL : rc;
}
