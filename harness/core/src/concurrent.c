/* SPDX-License-Identifier: Apache-2.0
 *
 * concurrent.c - concurrent groups: every sub-step's request is built and signed first,
 * then each is sent from a thread of its own, all released at once, and the group passes
 * when the answers match one of the outcomes the scenario allows.
 *
 * Races are what the group is for, so nothing here orders the sends; the outcomes list
 * every order the contract allows.
 */
#define _POSIX_C_SOURCE 200809L

#include "runner_internal.h"

#include "harness/text.h"

#include <jansson.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Concurrent groups ------------------------------------------------------------- */

/* The start line of a group: every thread waits at it, the main thread releases them once
 * all exist, so the requests go out together (and a thread that could not be created
 * leaves the others free to go, unlike a barrier that would wait for it forever). Not to
 * be confused with `etch serve`'s gate, which is about connections. */
struct start_line {
    pthread_mutex_t lock;
    pthread_cond_t released_cv;
    bool is_released;
};

struct racer {
    struct run *run;
    const struct harness_step *sub;
    struct harness_exchange *x;
    struct start_line *start;
    enum ref_status rc;
    char why[RUNNER_DETAIL_BYTES];
};

static void *race(void *arg)
{
    struct racer *t = arg;
    pthread_mutex_lock(&t->start->lock);
    while (!t->start->is_released) {
        pthread_cond_wait(&t->start->released_cv, &t->start->lock);
    }
    pthread_mutex_unlock(&t->start->lock);
    if (t->sub->kind == HARNESS_STEP_CLOCK) {
        t->rc = runner_apply_clock(t->run->b, t->sub);
    } else {
        t->rc = runner_backend_send(t->run->b, ref_buf_slice(&t->x->request), &t->x->response,
                                    t->why, sizeof(t->why));
    }
    return NULL;
}

/* Builds and signs every sub-step's request before any is sent. *is_ready is false when
 * the step ended here (SKIP or ERROR, with its reason). */
static enum ref_status prepare_racers(struct run *r,
                                      const struct harness_step *step,
                                      struct harness_step_result *s,
                                      struct racer *racers,
                                      bool *is_ready)
{
    char why[RUNNER_WHY_BYTES];
    struct harness_backend *b = r->b;
    *is_ready = false;
    for (size_t i = 0; i < step->num_subs; i++) {
        const struct harness_step *sub = &step->subs[i];
        struct harness_exchange *x = runner_result_add_exchange(s);
        if (x == NULL) {
            return REF_E_NOMEM;
        }
        racers[i] = (struct racer){r, sub, NULL, NULL, REF_OK, ""};
        if (sub->kind == HARNESS_STEP_CLOCK) {
            if (!runner_hook_available(b, sub)) {
                runner_set_reason(s, HARNESS_VERDICT_SKIP, RUNNER_NEEDS_CONTROL);
                r->lacked_control = true;
                return REF_OK;
            }
            r->may_move_clock = true; /* cleanup moves it on too */
            if (runner_exchange_init(x) != REF_OK) {
                return REF_E_NOMEM;
            }
        } else {
            enum prep p = runner_prepare(r, sub, x, why, sizeof(why));
            if (p != PREP_OK) {
                runner_set_reason(s, p == PREP_SKIP ? HARNESS_VERDICT_SKIP : HARNESS_VERDICT_ERROR,
                                  why);
                return REF_OK;
            }
        }
        x->label = runner_dup_n(sub->name, strlen(sub->name));
        if (x->label == NULL) {
            return REF_E_NOMEM;
        }
    }
    *is_ready = true;
    return REF_OK;
}

/* One thread per racer, all released together; returns when every one is done. The
 * exchanges array is final by now: pointers into it are handed out only after it stopped
 * moving. */
static void release_racers(struct racer *racers, size_t n, struct harness_exchange *exchanges)
{
    pthread_t threads[HARNESS_MAX_CONCURRENT];
    struct start_line start = {.is_released = false};
    pthread_mutex_init(&start.lock, NULL);
    pthread_cond_init(&start.released_cv, NULL);
    size_t started = 0;
    for (size_t i = 0; i < n; i++) {
        racers[i].x = &exchanges[i];
        racers[i].start = &start;
    }
    for (; started < n; started++) {
        if (pthread_create(&threads[started], NULL, race, &racers[started]) != 0) {
            break;
        }
    }
    for (size_t i = started; i < n; i++) {
        racers[i].rc = REF_E_INTERNAL; /* the system refused a thread: a harness failure */
    }
    pthread_mutex_lock(&start.lock);
    start.is_released = true;
    pthread_cond_broadcast(&start.released_cv);
    pthread_mutex_unlock(&start.lock);
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_cond_destroy(&start.released_cv);
    pthread_mutex_destroy(&start.lock);
}

/* Parses every answer into obs (which the caller releases). *is_ok is false, with why,
 * when a sub-step failed to send or its answer is not HTTP. */
static enum ref_status observe_racers(struct run *r,
                                      const struct harness_step *step,
                                      struct harness_step_result *s,
                                      const struct racer *racers,
                                      struct observation *obs,
                                      bool *is_ok,
                                      char *why,
                                      size_t why_cap)
{
    *is_ok = true;
    for (size_t i = 0; i < step->num_subs && *is_ok; i++) {
        if (racers[i].rc != REF_OK) {
            harness_textf(why, why_cap, "sub-step '%s': %s", step->subs[i].name,
                          racers[i].why[0] != '\0' ? racers[i].why : ref_status_name(racers[i].rc));
            *is_ok = false;
        } else if (step->subs[i].kind != HARNESS_STEP_CLOCK) {
            if (!runner_observe(&s->exchanges[i], &obs[i], runner_allows_closed(&step->subs[i]),
                                why, why_cap)) {
                *is_ok = false;
            } else {
                REF_TRY(runner_note_created(r, &s->exchanges[i], &obs[i]));
            }
        }
    }
    return REF_OK;
}

/* The first allowed outcome the answers match: its index, or num_outcomes when none. */
static enum ref_status match_outcome(struct run *r,
                                     const struct harness_step *step,
                                     const struct observation *obs,
                                     size_t *matched)
{
    enum ref_status rc = REF_OK;
    *matched = step->num_outcomes;
    for (size_t k = 0; k < step->num_outcomes && *matched == step->num_outcomes; k++) {
        const struct harness_outcome *oc = &step->outcomes[k];
        struct harness_check_list scratch;
        harness_check_list_init(&scratch);
        bool all = true;
        for (size_t i = 0; i < step->num_subs && rc == REF_OK; i++) {
            if (!oc->has_expect[i]) {
                continue;
            }
            bool held = false;
            rc = harness_expect_eval(&oc->expect[i], &obs[i].obs, &r->vars, &scratch, &held);
            all = all && held;
        }
        harness_check_list_cleanup(&scratch);
        if (all && rc == REF_OK) {
            *matched = k;
        }
    }
    return rc;
}

/* The group's one check (which outcome, and what each sub-step got), and the variables
 * the matched outcome sets. */
static enum ref_status record_outcome(struct run *r,
                                      const struct harness_step *step,
                                      struct harness_step_result *s,
                                      size_t matched)
{
    struct harness_check_result *c = harness_check_list_add(&s->checks);
    if (c == NULL) {
        return REF_E_NOMEM;
    }
    c->level = step->level;
    c->source = step->source != HARNESS_SOURCE_NONE ? step->source : HARNESS_SOURCE_INFERENCE;
    c->contract = step->contract;
    c->held = matched < step->num_outcomes;
    harness_textf(c->what, sizeof(c->what), "outcomes");
    if (c->held) {
        harness_textf(c->expected, sizeof(c->expected), "one of %zu allowed outcomes",
                      step->num_outcomes);
    } else {
        harness_textf(c->expected, sizeof(c->expected), "one of %zu allowed outcomes (%s)",
                      step->num_outcomes, step->json_path);
    }
    size_t used = 0;
    for (size_t i = 0; i < step->num_subs && used < sizeof(c->actual); i++) {
        int w;
        if (step->subs[i].kind == HARNESS_STEP_CLOCK) {
            w = snprintf(c->actual + used, sizeof(c->actual) - used, "%s%s: clock moved",
                         i > 0 ? "; " : "", step->subs[i].name);
        } else {
            w = snprintf(c->actual + used, sizeof(c->actual) - used, "%s%s: %d %s",
                         i > 0 ? "; " : "", step->subs[i].name, s->exchanges[i].http_status,
                         s->exchanges[i].error_code[0] != '\0' ? s->exchanges[i].error_code
                                                               : "(no error)");
        }
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
    if (!c->held) {
        return REF_OK;
    }
    size_t len = strlen(c->actual);
    harness_textf(c->actual + len, sizeof(c->actual) - len, " (outcome %zu)", matched + 1);
    json_t *set = step->outcomes[matched].set;
    const char *var;
    json_t *val;
    json_object_foreach (set, var, val) {
        REF_TRY(harness_vars_set(&r->vars, var, json_string_value(val), json_string_length(val)));
    }
    return REF_OK;
}

enum ref_status runner_run_concurrent_step(struct run *r,
                                           const struct harness_step *step,
                                           struct harness_step_result *s)
{
    if (!harness_backend_has(r->b, HARNESS_CAP_CONCURRENT)) {
        runner_set_reason(s, HARNESS_VERDICT_SKIP, "the target cannot take concurrent requests");
        return REF_OK;
    }
    size_t n = step->num_subs;
    struct racer racers[HARNESS_MAX_CONCURRENT];
    bool is_ready = false;
    REF_TRY(prepare_racers(r, step, s, racers, &is_ready));
    if (!is_ready) {
        return REF_OK;
    }
    release_racers(racers, n, s->exchanges);

    char why[RUNNER_WHY_BYTES];
    struct observation obs[HARNESS_MAX_CONCURRENT];
    memset(obs, 0, sizeof(obs));
    bool is_ok = true;
    size_t matched = 0;
    enum ref_status rc = observe_racers(r, step, s, racers, obs, &is_ok, why, sizeof(why));
    if (rc == REF_OK && !is_ok) {
        runner_set_reason(s, HARNESS_VERDICT_ERROR, why);
    } else if (rc == REF_OK) {
        rc = match_outcome(r, step, obs, &matched);
        if (rc == REF_OK) {
            rc = record_outcome(r, step, s, matched);
        }
        if (rc == REF_OK) {
            s->verdict = runner_verdict_from_checks(&s->checks, 0);
        }
    }
    for (size_t i = 0; i < n; i++) {
        runner_observation_cleanup(&obs[i]);
    }
    return rc;
}
