/* SPDX-License-Identifier: Apache-2.0
 *
 * runner.c - runs one scenario on one backend: the step loop, sending each request and
 * observing its answer, evaluating expectations, capturing variables, polling waits,
 * hooks, and turning check results into step and scenario verdicts.
 *
 * Requests are built in request_build.c and signed in sign.c; concurrent groups run in
 * concurrent.c; what a shared target needs (isolation, probes, cleanup) is in
 * runner_shared.c. runner_internal.h is what they share.
 *
 * Requests are signed only when they are sent, with the backend's clock at that moment,
 * so a wait that moves the virtual clock re-signs every poll. A step that ends in FAIL,
 * ERROR or NOT IMPLEMENTED stops the scenario: later steps depend on earlier ones, and
 * running them would only report the same fault again under other names.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/runner.h"

#include "runner_internal.h"
#include "step_kinds.h"

#include "harness/http_response.h"
#include "harness/text.h"
#include "harness/vars.h"

#include "ref/limits.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The reason given to the steps after one that stopped the scenario. */
#define STOP_REASON_BYTES 256
/* What a wait that gave up adds to its last check: why, and how long it polled. */
#define WAIT_NOTE_BYTES 200

/* --- Verdicts ---------------------------------------------------------------------- */

static const char *const s_verdict_names[HARNESS_VERDICT_COUNT] = {
    [HARNESS_VERDICT_NONE] = "NONE",
    [HARNESS_VERDICT_PASS] = "PASS",
    [HARNESS_VERDICT_SKIP] = "SKIP",
    [HARNESS_VERDICT_DEVIATION] = "DEVIATION",
    [HARNESS_VERDICT_NOT_IMPLEMENTED] = "NOT IMPLEMENTED",
    [HARNESS_VERDICT_FAIL] = "FAIL",
    [HARNESS_VERDICT_ERROR] = "ERROR",
};

const char *harness_verdict_name(enum harness_verdict v)
{
    return (unsigned)v < HARNESS_VERDICT_COUNT ? s_verdict_names[v] : "NONE";
}

static int severity(enum harness_verdict v)
{
    switch (v) {
        case HARNESS_VERDICT_SKIP:
            return 1;
        case HARNESS_VERDICT_PASS:
            return 2;
        case HARNESS_VERDICT_DEVIATION:
            return 3;
        case HARNESS_VERDICT_NOT_IMPLEMENTED:
            return 4;
        case HARNESS_VERDICT_FAIL:
            return 5;
        case HARNESS_VERDICT_ERROR:
            return 6;
        default:
            return 0;
    }
}

enum harness_verdict harness_verdict_worse(enum harness_verdict a, enum harness_verdict b)
{
    return severity(a) >= severity(b) ? a : b;
}

static double now_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* --- Observing responses ----------------------------------------------------------- */

void runner_observation_cleanup(struct observation *o)
{
    json_decref(o->body);
    ref_buf_cleanup(&o->body_buf);
    memset(o, 0, sizeof(*o));
}

/* Parses x->response. False (why filled) when it is not an HTTP response. Nothing at
 * all means the endpoint closed the connection without answering: for a request written
 * out (allow_closed) that is an answer of its own, status 0, which only "closed" in an
 * expectation accepts; for an operation call it is a transport failure. */
bool runner_observe(
    struct harness_exchange *x, struct observation *o, bool allow_closed, char *why, size_t why_cap)
{
    memset(o, 0, sizeof(*o));
    ref_buf_init(&o->body_buf, HARNESS_MAX_RESPONSE_BODY_BYTES);
    if (x->response.len == 0) {
        if (!allow_closed) {
            harness_textf(why, why_cap, "the endpoint closed the connection without answering");
            return false;
        }
        x->is_closed = true;
        x->http_status = 0;
        o->obs.http = &o->http;
        return true;
    }
    struct ref_parse_error err = {0};
    size_t used = 0;
    enum ref_status rc = harness_http_parse_response(ref_buf_slice(&x->response), &o->http,
                                                     &o->body_buf, &used, &err);
    if (rc != REF_OK) {
        char detail[RUNNER_NOTE_BYTES];
        ref_parse_error_format(&err, NULL, 0, detail, sizeof(detail));
        harness_textf(why, why_cap, "the response is not valid HTTP: %s (%s)", detail,
                      ref_status_name(rc));
        return false;
    }
    if (used != x->response.len) {
        harness_textf(why, why_cap, "%zu bytes after the end of the response",
                      x->response.len - used);
        return false;
    }
    if (o->http.body.len > 0) {
        o->body = json_loadb((const char *)o->http.body.ptr, o->http.body.len,
                             JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    }
    o->obs.http = &o->http;
    o->obs.body = o->body;
    x->http_status = o->http.status;
    harness_error_code(&o->obs, x->error_code, sizeof(x->error_code));
    return true;
}

/* The reasons of steps an interruption stopped (their results also say so in
 * is_interrupted, which the scenario's verdict reads). */
static const char s_interrupted_not_run[] = "not run: the run was interrupted";

static const char s_interrupted_wait[] = "not finished: the run was interrupted";

static bool is_interrupted(const struct harness_backend *b)
{
    return b->interrupted != NULL && atomic_load(b->interrupted);
}

/* One send through whichever entry point the backend has; on a transport failure why
 * says what happened (the backend's reason when it gives one). */
enum ref_status runner_backend_send(struct harness_backend *b,
                                    struct ref_slice request,
                                    struct ref_buf *response,
                                    char *why,
                                    size_t why_cap)
{
    char reason[RUNNER_DETAIL_BYTES] = "";
    enum ref_status rc = b->ops->send_explained != NULL
                             ? b->ops->send_explained(b, request, response, reason, sizeof(reason))
                             : b->ops->send(b, request, response);
    if (rc != REF_OK) {
        if (reason[0] != '\0') {
            harness_textf(why, why_cap, "transport failure: %s", reason);
        } else {
            harness_textf(why, why_cap, "transport failure: %s", ref_status_name(rc));
        }
    }
    return rc;
}

enum ref_status
runner_send_one(struct run *r, struct harness_exchange *x, char *why, size_t why_cap)
{
    return runner_backend_send(r->b, ref_buf_slice(&x->request), &x->response, why, why_cap);
}

bool runner_allows_closed(const struct harness_step *step)
{
    return step->request.op == REF_OP_NONE;
}

/* --- Step results ------------------------------------------------------------------ */

struct harness_exchange *runner_result_add_exchange(struct harness_step_result *s)
{
    struct harness_exchange *more = realloc(s->exchanges, (s->num_exchanges + 1) * sizeof(*more));
    if (more == NULL) {
        return NULL;
    }
    s->exchanges = more;
    struct harness_exchange *x = &s->exchanges[s->num_exchanges++];
    memset(x, 0, sizeof(*x));
    return x;
}

static void result_drop_exchanges(struct harness_step_result *s)
{
    for (size_t i = 0; i < s->num_exchanges; i++) {
        runner_exchange_cleanup(&s->exchanges[i]);
    }
    s->num_exchanges = 0;
}

void runner_set_reason(struct harness_step_result *s, enum harness_verdict v, const char *why)
{
    s->verdict = v;
    harness_textf(s->reason, sizeof(s->reason), "%s", why);
}

/* The verdict the checks imply (PASS, DEVIATION or FAIL). */
enum harness_verdict runner_verdict_from_checks(const struct harness_check_list *l, size_t from)
{
    enum harness_verdict v = HARNESS_VERDICT_PASS;
    for (size_t i = from; i < l->count; i++) {
        const struct harness_check_result *c = &l->items[i];
        if (c->held) {
            continue;
        }
        if (c->level == HARNESS_LEVEL_MUST) {
            v = HARNESS_VERDICT_FAIL;
        } else if (c->level == HARNESS_LEVEL_SHOULD && v == HARNESS_VERDICT_PASS) {
            v = HARNESS_VERDICT_DEVIATION;
        }
    }
    return v;
}

static enum ref_status run_captures(struct run *r,
                                    const struct harness_step *step,
                                    const struct observation *o,
                                    struct harness_step_result *s)
{
    if (step->capture == NULL) {
        return REF_OK;
    }
    const char *var;
    json_t *src;
    json_object_foreach (step->capture, var, src) {
        const char *spec = json_string_value(src);
        char text[HARNESS_MAX_VAR_BYTES + 1];
        bool found = false;
        if (strcmp(spec, "@status") == 0) {
            harness_textf(text, sizeof(text), "%d", o->http.status);
            found = true;
        } else if (strncmp(spec, "@header:", 8) == 0) {
            const struct ref_header *h = harness_http_response_header(&o->http, spec + 8);
            if (h != NULL && h->value.len <= HARNESS_MAX_VAR_BYTES) {
                memcpy(text, h->value.ptr, h->value.len);
                text[h->value.len] = '\0';
                found = true;
            }
        } else {
            json_t *v = o->body != NULL ? harness_json_path(o->body, spec) : NULL;
            if (json_is_string(v) && json_string_length(v) <= HARNESS_MAX_VAR_BYTES) {
                harness_textf(text, sizeof(text), "%s", json_string_value(v));
                found = true;
            } else if (v != NULL && !json_is_string(v)) {
                harness_json_text(v, text, sizeof(text));
                found = true;
            }
        }
        if (found) {
            enum ref_status rc = harness_vars_set(&r->vars, var, text, strlen(text));
            found = rc == REF_OK;
            if (rc == REF_E_NOMEM) {
                return rc;
            }
        }
        if (!found) {
            struct harness_check_result *c = harness_check_list_add(&s->checks);
            if (c == NULL) {
                return REF_E_NOMEM;
            }
            c->level = HARNESS_LEVEL_MUST;
            c->source =
                step->source != HARNESS_SOURCE_NONE ? step->source : HARNESS_SOURCE_INFERENCE;
            c->held = false;
            harness_textf(c->what, sizeof(c->what), "capture.%s", var);
            harness_textf(c->expected, sizeof(c->expected), "a value at %s", spec);
            harness_textf(c->actual, sizeof(c->actual), "nothing there");
        }
    }
    return REF_OK;
}

/* Evaluates expectation groups on one observation and sets the step verdict. */
static enum ref_status judge(struct run *r,
                             const struct harness_step *step,
                             const struct harness_expect *expects,
                             size_t num_expects,
                             struct observation *o,
                             struct harness_step_result *s)
{
    size_t from = s->checks.count;
    for (size_t i = 0; i < num_expects; i++) {
        bool held = false;
        REF_TRY(harness_expect_eval(&expects[i], &o->obs, &r->vars, &s->checks, &held));
    }
    REF_TRY(run_captures(r, step, o, s));
    s->verdict = runner_verdict_from_checks(&s->checks, from);
    return runner_decide_not_implemented(r, step, o, s);
}

static enum ref_status
run_request_step(struct run *r, const struct harness_step *step, struct harness_step_result *s)
{
    char why[RUNNER_WHY_BYTES];
again:;
    /* A lost answer: the first attempt is sent and dropped here, and what follows is the
     * SDK's retry (runner_retry.c). */
    struct sdk_attempt attempt = {0};
    if (step->lost_answer != HARNESS_RETRYING_SDK_NONE) {
        enum prep p = runner_lose_first_answer(r, step, s, &attempt, why, sizeof(why));
        if (p != PREP_OK) {
            runner_set_reason(s, p == PREP_SKIP ? HARNESS_VERDICT_SKIP : HARNESS_VERDICT_ERROR,
                              why);
            return REF_OK;
        }
        /* The lost attempt's job is the scenario's whatever becomes of the retry. */
        if (step->request.op == REF_OP_CREATE_JOB) {
            REF_TRY(runner_adopt_lost_jobs(r, &s->exchanges[s->num_exchanges - 1]));
        }
    }
    struct harness_exchange *x = runner_result_add_exchange(s);
    if (x == NULL) {
        return REF_E_NOMEM;
    }
    enum prep p = runner_prepare_attempt(
        r, step, step->lost_answer != HARNESS_RETRYING_SDK_NONE ? &attempt : NULL, x, why,
        sizeof(why));
    if (p != PREP_OK) {
        runner_set_reason(s, p == PREP_SKIP ? HARNESS_VERDICT_SKIP : HARNESS_VERDICT_ERROR, why);
        return REF_OK;
    }
    if (runner_send_one(r, x, why, sizeof(why)) != REF_OK) {
        runner_set_reason(s, HARNESS_VERDICT_ERROR, why);
        return REF_OK;
    }
    struct observation o;
    if (!runner_observe(x, &o, runner_allows_closed(step), why, sizeof(why))) {
        runner_observation_cleanup(&o);
        runner_set_reason(s, HARNESS_VERDICT_ERROR, why);
        return REF_OK;
    }
    if (r->is_shared && o.http.status == 429 &&
        strcmp(x->error_code, "LimitExceededException") == 0 && runner_creates_pipeline(step)) {
        runner_observation_cleanup(&o);
        if (runner_pipeline_refused(r)) {
            result_drop_exchanges(s);
            goto again;
        }
        r->lacked_pipelines = true;
        runner_set_reason(s, HARNESS_VERDICT_SKIP, r->pipeline_reason);
        return REF_OK;
    }
    enum ref_status rc = runner_localise(r, step, x, &o, why, sizeof(why));
    if (rc == REF_OK) {
        rc = judge(r, step, step->expects, step->num_expects, &o, s);
    } else if (rc != REF_E_NOMEM) {
        runner_set_reason(s, HARNESS_VERDICT_ERROR, why);
        rc = REF_OK;
    }
    runner_observation_cleanup(&o);
    return rc;
}

static enum ref_status
run_wait_step(struct run *r, const struct harness_step *step, struct harness_step_result *s)
{
    char why[RUNNER_WHY_BYTES];
    struct harness_backend *b = r->b;
    int64_t start = b->ops->now_ms(b);
    int64_t deadline = start + step->timeout_ms;
    bool virtual_clock = harness_backend_has(b, HARNESS_CAP_VIRTUAL_CLOCK);
    struct harness_expect until = step->until;
    until.level = step->level;
    until.source = step->source;
    for (;;) {
        result_drop_exchanges(s);
        struct harness_exchange *x = runner_result_add_exchange(s);
        if (x == NULL) {
            return REF_E_NOMEM;
        }
        enum prep p = runner_prepare(r, step, x, why, sizeof(why));
        if (p != PREP_OK) {
            runner_set_reason(s, p == PREP_SKIP ? HARNESS_VERDICT_SKIP : HARNESS_VERDICT_ERROR,
                              why);
            return REF_OK;
        }
        if (runner_send_one(r, x, why, sizeof(why)) != REF_OK) {
            runner_set_reason(s, HARNESS_VERDICT_ERROR, why);
            return REF_OK;
        }
        s->polls++;
        struct observation o;
        if (!runner_observe(x, &o, runner_allows_closed(step), why, sizeof(why))) {
            runner_observation_cleanup(&o);
            runner_set_reason(s, HARNESS_VERDICT_ERROR, why);
            return REF_OK;
        }
        enum ref_status lrc = runner_localise(r, step, x, &o, why, sizeof(why));
        if (lrc != REF_OK) {
            runner_observation_cleanup(&o);
            if (lrc == REF_E_NOMEM) {
                return lrc;
            }
            runner_set_reason(s, HARNESS_VERDICT_ERROR, why);
            return REF_OK;
        }
        struct harness_check_list scratch;
        harness_check_list_init(&scratch);
        bool held = false;
        enum ref_status rc = harness_expect_eval(&until, &o.obs, &r->vars, &scratch, &held);
        if (rc != REF_OK) {
            harness_check_list_cleanup(&scratch);
            runner_observation_cleanup(&o);
            return rc;
        }
        const char *stop = NULL;
        int64_t now = b->ops->now_ms(b);
        if (!held) {
            int64_t when = 0;
            if (s->polls >= HARNESS_MAX_WAIT_POLLS) {
                stop = "gave up after the poll limit";
            } else if (virtual_clock) {
                r->may_move_clock = true; /* a live next_event_ms moves it already */
                if (!b->ops->next_event_ms(b, &when)) {
                    stop = "nothing is scheduled that could change the answer";
                } else if (when > deadline) {
                    stop = "the next scheduled event is after the timeout";
                } else {
                    b->ops->set_clock_ms(b, when > now ? when : now);
                    b->ops->tick(b);
                }
            } else if (now >= deadline) {
                stop = "timed out";
            } else if ((stop = runner_wait_is_hopeless(r, &o)) != NULL) {
                /* stops now: waiting longer cannot change the answer */
            } else if (is_interrupted(b)) {
                harness_check_list_cleanup(&scratch);
                runner_observation_cleanup(&o);
                runner_set_reason(s, HARNESS_VERDICT_SKIP, s_interrupted_wait);
                s->is_interrupted = true;
                return REF_OK;
            } else if (b->ops->sleep_ms != NULL) {
                b->ops->sleep_ms(b, step->interval_ms);
            }
        }
        if (held || stop != NULL) {
            /* The predicate's checks from the last poll are the step's checks, so a timeout
             * shows what was wanted and what was last seen. */
            for (size_t i = 0; i < scratch.count; i++) {
                struct harness_check_result *c = harness_check_list_add(&s->checks);
                if (c == NULL) {
                    rc = REF_E_NOMEM;
                    break;
                }
                *c = scratch.items[i];
                if (stop != NULL && !scratch.items[i].held) {
                    char extra[WAIT_NOTE_BYTES];
                    harness_textf(extra, sizeof(extra),
                                  " (%s; %u polls, %.1f s on the target's "
                                  "clock)",
                                  stop, s->polls, (double)(now - start) / 1000.0);
                    size_t len = strlen(c->actual);
                    harness_textf(c->actual + len, sizeof(c->actual) - len, "%s", extra);
                }
            }
            harness_check_list_cleanup(&scratch);
            if (rc == REF_OK) {
                if (held) {
                    rc = run_captures(r, step, &o, s);
                }
                s->verdict = runner_verdict_from_checks(&s->checks, 0);
                rc = runner_decide_not_implemented(r, step, &o, s);
            }
            runner_observation_cleanup(&o);
            return rc;
        }
        harness_check_list_cleanup(&scratch);
        runner_observation_cleanup(&o);
    }
}

/* --- Hooks ------------------------------------------------------------------------- */

enum ref_status runner_apply_clock(struct harness_backend *b, const struct harness_step *step)
{
    int64_t now = b->ops->now_ms(b);
    switch (step->clock) {
        case HARNESS_CLOCK_SET:
            b->ops->set_clock_ms(b, step->clock_ms);
            break;
        case HARNESS_CLOCK_ADVANCE:
            b->ops->set_clock_ms(b, now + step->clock_ms);
            break;
        case HARNESS_CLOCK_TO_NEXT_EVENT: {
            int64_t when = 0;
            if (b->ops->next_event_ms(b, &when) && when > now) {
                b->ops->set_clock_ms(b, when);
            }
            break;
        }
        default:
            return REF_E_INTERNAL;
    }
    b->ops->tick(b);
    return REF_OK;
}

bool runner_hook_available(const struct harness_backend *b, const struct harness_step *step)
{
    if (step->kind == HARNESS_STEP_CLOCK) {
        return harness_backend_has(b, HARNESS_CAP_VIRTUAL_CLOCK) && b->ops->set_clock_ms != NULL;
    }
    return harness_backend_has(b, HARNESS_CAP_HOOKS);
}

/* Expands a hook's Id, pipeline and status (NULL when the step has none). */
static enum ref_status hook_values(struct run *r,
                                   const struct harness_step *step,
                                   char **id,
                                   char **pipeline,
                                   char **status,
                                   char *why,
                                   size_t why_cap)
{
    size_t n = 0;
    enum ref_status rc = REF_OK;
    if (step->hook_id != NULL) {
        rc = runner_expand(r, step->hook_id, strlen(step->hook_id), id, &n, why, why_cap);
    }
    if (rc == REF_OK && step->hook_pipeline != NULL) {
        rc = runner_expand(r, step->hook_pipeline, strlen(step->hook_pipeline), pipeline, &n, why,
                           why_cap);
    }
    if (rc == REF_OK && step->hook_status != NULL) {
        rc = runner_expand(r, step->hook_status, strlen(step->hook_status), status, &n, why,
                           why_cap);
    }
    return rc;
}

/* A hook on a shared target without test control: what a client can do the same way is
 * done (a seed made by creating, a clock set to a time by dating written requests as if
 * it were that time); the rest is skipped, and so is the scenario. */
static enum ref_status
emulate_hook_step(struct run *r, const struct harness_step *step, struct harness_step_result *s)
{
    char why[RUNNER_NOTE_BYTES] = "";
    bool is_done = false;
    enum ref_status rc = REF_OK;
    if (r->is_shared && step->kind == HARNESS_STEP_CLOCK && step->clock == HARNESS_CLOCK_SET) {
        r->redate_ms = r->b->ops->now_ms(r->b) - step->clock_ms;
        is_done = true;
    } else if (r->is_shared &&
               (step->kind == HARNESS_STEP_SEED_PIPELINE || step->kind == HARNESS_STEP_SEED_JOB)) {
        char *id = NULL;
        char *pipeline = NULL;
        char *status = NULL;
        rc = hook_values(r, step, &id, &pipeline, &status, why, sizeof(why));
        if (rc == REF_OK) {
            rc = runner_emulate_seed(r, step, id, pipeline, status, &is_done, why, sizeof(why));
        }
        free(id);
        free(pipeline);
        free(status);
    }
    if (rc == REF_E_NOMEM) {
        return rc;
    }
    if (is_done) {
        s->verdict = HARNESS_VERDICT_PASS;
        return REF_OK;
    }
    char reason[RUNNER_WHY_BYTES];
    harness_textf(reason, sizeof(reason), "%s%s%s", RUNNER_NEEDS_CONTROL,
                  why[0] != '\0' ? "; without it: " : "", why);
    runner_set_reason(s, HARNESS_VERDICT_SKIP, reason);
    r->lacked_control = true;
    return REF_OK;
}

static enum ref_status
run_hook_step(struct run *r, const struct harness_step *step, struct harness_step_result *s)
{
    struct harness_backend *b = r->b;
    if (!runner_hook_available(b, step)) {
        return emulate_hook_step(r, step, s);
    }
    char why[RUNNER_NOTE_BYTES] = "";
    char *id = NULL;
    char *pipeline = NULL;
    char *status = NULL;
    enum ref_status rc = hook_values(r, step, &id, &pipeline, &status, why, sizeof(why));
    /* Any hook: on a shared target such a scenario has the endpoint to itself. */
    r->may_move_clock = true;
    if (rc == REF_OK &&
        (step->kind == HARNESS_STEP_SEED_PIPELINE || step->kind == HARNESS_STEP_SEED_JOB)) {
        rc = runner_alias_seed(r, step->kind, &id);
    }
    if (rc == REF_OK) {
        switch (step->kind) {
            case HARNESS_STEP_SEED_PIPELINE:
                rc = b->ops->seed_pipeline(b, id, step->hook_name, status);
                break;
            case HARNESS_STEP_SEED_JOB:
                rc = b->ops->seed_job(b, id, pipeline, status);
                break;
            case HARNESS_STEP_FAIL_JOB:
                rc = b->ops->fail_job(b, id);
                break;
            case HARNESS_STEP_CLOCK:
                rc = runner_apply_clock(b, step);
                break;
            default:
                rc = REF_E_INTERNAL;
                break;
        }
        if (rc != REF_OK) {
            harness_textf(why, sizeof(why), "the target refused the hook: %s", ref_status_name(rc));
        }
    }
    free(id);
    free(pipeline);
    free(status);
    if (rc == REF_E_NOMEM) {
        return rc;
    }
    if (rc != REF_OK) {
        runner_set_reason(s, HARNESS_VERDICT_ERROR, why);
    } else {
        s->verdict = HARNESS_VERDICT_PASS;
    }
    return REF_OK;
}

/* --- Scenarios --------------------------------------------------------------------- */

static void count_checks(struct harness_scenario_result *out)
{
    for (size_t i = 0; i < out->num_steps; i++) {
        const struct harness_check_list *l = &out->steps[i].checks;
        for (size_t k = 0; k < l->count; k++) {
            const struct harness_check_result *c = &l->items[k];
            switch (c->level) {
                case HARNESS_LEVEL_MUST:
                    out->must_total++;
                    out->must_held += c->held ? 1 : 0;
                    break;
                case HARNESS_LEVEL_SHOULD:
                    out->should_total++;
                    out->should_held += c->held ? 1 : 0;
                    break;
                case HARNESS_LEVEL_INFO:
                    out->info_total++;
                    out->info_held += c->held ? 1 : 0;
                    break;
                default:
                    break;
            }
        }
    }
}

/* The scenario's own variables ("vars"), before its first step. */
static enum ref_status set_scenario_vars(struct run *r)
{
    if (r->sc->vars == NULL) {
        return REF_OK;
    }
    const char *name;
    json_t *v;
    json_object_foreach (r->sc->vars, name, v) {
        REF_TRY(harness_vars_set(&r->vars, name, json_string_value(v), json_string_length(v)));
    }
    return REF_OK;
}

static const char s_after_control_skip[] =
    "not run: an earlier step that needs test control was skipped";

typedef enum ref_status
step_run_fn(struct run *r, const struct harness_step *step, struct harness_step_result *s);

/* Indexed by kind, from STEP_KIND_LIST (step_kinds.h): the runner's column. */
static step_run_fn *const s_step_runners[HARNESS_STEP_KIND_COUNT] = {
#define STEP_KIND_RUN(kind_, key_, noun_, top_, sub_, parse_, run_, hooks_) [kind_] = run_,
    STEP_KIND_LIST(STEP_KIND_RUN)
#undef STEP_KIND_RUN
};

/* Runs one step by its kind. A step that needed test control the target lacks stops the
 * scenario: later steps rely on what it would have set up (*stop_reason says so). */
static enum ref_status run_step(struct run *r,
                                const struct harness_step *step,
                                struct harness_step_result *s,
                                const char **stop_reason)
{
    if (step->kind <= HARNESS_STEP_NONE || step->kind >= HARNESS_STEP_KIND_COUNT) {
        return REF_E_INTERNAL;
    }
    enum ref_status rc = s_step_runners[step->kind](r, step, s);
    if (rc == REF_OK && s->verdict == HARNESS_VERDICT_SKIP && r->lacked_control) {
        *stop_reason = s_after_control_skip;
    }
    return rc;
}

/* After a step was skipped: its captures are missing, and when it would have changed the
 * target's state the rest of the scenario is not run (runner_depends.c has the rule). */
static void after_skipped_step(struct run *r,
                               const struct harness_step *step,
                               char *stop_buf,
                               size_t stop_cap,
                               const char **stop_reason)
{
    runner_note_captures(r, step, true);
    if (*stop_reason == NULL && runner_step_changes_state(step)) {
        harness_textf(stop_buf, stop_cap, "not run: step '%s' that it depends on was skipped",
                      step->name);
        *stop_reason = stop_buf;
    }
}

/* The worst step verdict, except that half a scenario passed is not a pass: one that was
 * interrupted, or that needs a principal, pipelines or test control the target lacks, is
 * a SKIP, unless what did run already failed. */
static enum harness_verdict scenario_verdict(const struct run *r,
                                             const struct harness_scenario_result *out)
{
    enum harness_verdict v = HARNESS_VERDICT_SKIP;
    bool was_interrupted = false;
    for (size_t i = 0; i < out->num_steps; i++) {
        v = harness_verdict_worse(v, out->steps[i].verdict);
        was_interrupted = was_interrupted || out->steps[i].is_interrupted;
    }
    if ((was_interrupted || r->lacked_principal || r->lacked_pipelines || r->lacked_control) &&
        (v == HARNESS_VERDICT_PASS || v == HARNESS_VERDICT_DEVIATION)) {
        v = HARNESS_VERDICT_SKIP;
    }
    return v;
}

enum ref_status harness_run_scenario(const struct harness_scenario *sc,
                                     struct harness_backend *b,
                                     struct harness_scenario_result *out)
{
    memset(out, 0, sizeof(*out));
    out->scenario = sc;
    out->steps = calloc(sc->num_steps, sizeof(*out->steps));
    if (out->steps == NULL) {
        return REF_E_NOMEM;
    }
    out->num_steps = sc->num_steps;
    double t0 = now_monotonic_ms();
    struct run r = {.sc = sc, .b = b, .is_shared = harness_backend_has(b, HARNESS_CAP_SHARED)};
    harness_vars_init(&r.vars);
    if (r.is_shared) {
        runner_make_name_suffix(r.name_suffix);
    }
    enum ref_status rc = set_scenario_vars(&r);
    bool lacks_hooks = !harness_backend_has(b, HARNESS_CAP_HOOKS | HARNESS_CAP_VIRTUAL_CLOCK);
    const char *stop_reason = NULL;
    char stop_buf[STOP_REASON_BYTES];
    /* On a shared target the hooks are met step by step (emulate_hook_step). */
    if (sc->inproc_only && lacks_hooks && !r.is_shared) {
        stop_reason = RUNNER_NEEDS_CONTROL;
    } else if (r.is_shared && !runner_budget_reserve(&r)) {
        r.lacked_pipelines = true;
        stop_reason = r.pipeline_reason;
    }
    for (size_t i = 0; i < sc->num_steps && rc == REF_OK; i++) {
        const struct harness_step *step = &sc->steps[i];
        struct harness_step_result *s = &out->steps[i];
        if (b->before_step != NULL) {
            b->before_step(b->before_step_ctx, i, out);
        }
        s->step = step;
        harness_check_list_init(&s->checks);
        if (stop_reason == NULL && is_interrupted(b)) {
            stop_reason = s_interrupted_not_run;
        }
        if (stop_reason != NULL) {
            runner_set_reason(s, HARNESS_VERDICT_SKIP, stop_reason);
            s->is_interrupted = stop_reason == s_interrupted_not_run;
            continue;
        }
        const char *needed = runner_skipped_dependency(&r, step);
        if (needed != NULL) {
            harness_textf(s->reason, sizeof(s->reason),
                          "not run: step '%s' that it depends on was skipped", needed);
            s->verdict = HARNESS_VERDICT_SKIP;
            after_skipped_step(&r, step, stop_buf, sizeof(stop_buf), &stop_reason);
            continue;
        }
        if (step->inproc_only && (lacks_hooks || r.is_shared)) {
            /* Later steps do not depend on it (it captures nothing): go on. */
            runner_set_reason(
                s, HARNESS_VERDICT_SKIP,
                "in-process only: only the reference's own parser can see this request "
                "whole");
            continue;
        }
        double ts = now_monotonic_ms();
        rc = run_step(&r, step, s, &stop_reason);
        s->duration_ms = now_monotonic_ms() - ts;
        if (r.lacked_pipelines) {
            stop_reason = r.pipeline_reason;
        }
        if (rc == REF_OK && s->verdict == HARNESS_VERDICT_SKIP) {
            after_skipped_step(&r, step, stop_buf, sizeof(stop_buf), &stop_reason);
        } else if (rc == REF_OK) {
            runner_note_captures(&r, step, false);
        }
        if (s->verdict == HARNESS_VERDICT_FAIL || s->verdict == HARNESS_VERDICT_ERROR ||
            s->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED) {
            harness_textf(stop_buf, sizeof(stop_buf), "not run: step '%s' ended in %s", step->name,
                          harness_verdict_name(s->verdict));
            stop_reason = stop_buf;
        }
    }
    if (b->before_step != NULL) {
        b->before_step(b->before_step_ctx, sc->num_steps, out);
    }
    if (r.is_shared) {
        /* Even after a FAIL or an ERROR: the endpoint is shared. */
        enum ref_status crc = runner_cleanup_shared(&r, &out->cleanup);
        rc = rc != REF_OK ? rc : crc;
        runner_budget_add_held(&r, 0, 0, r.reserved);
    }
    free(r.pipelines.ids);
    free(r.jobs.ids);
    free(r.paused.ids);
    out->vars = r.vars; /* moved: the result owns the values now */
    harness_textf(out->name_suffix, sizeof(out->name_suffix), "%s", r.name_suffix);
    if (rc != REF_OK) {
        harness_scenario_result_cleanup(out);
        return rc;
    }
    out->verdict = scenario_verdict(&r, out);
    count_checks(out);
    out->duration_ms = now_monotonic_ms() - t0;
    return REF_OK;
}

void harness_scenario_result_cleanup(struct harness_scenario_result *r)
{
    for (size_t i = 0; i < r->num_steps; i++) {
        struct harness_step_result *s = &r->steps[i];
        result_drop_exchanges(s);
        free(s->exchanges);
        harness_check_list_cleanup(&s->checks);
    }
    free(r->steps);
    harness_vars_cleanup(&r->vars);
    memset(r, 0, sizeof(*r));
}
