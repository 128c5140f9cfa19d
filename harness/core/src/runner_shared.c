/* SPDX-License-Identifier: Apache-2.0
 *
 * runner_shared.c - a scenario on a shared target (a live endpoint others use too): the
 * run's pipeline budget, the Ids it created, List answers scoped to them across pages,
 * pipeline names with the run's suffix, and NOT IMPLEMENTED decided by a probe. The
 * cleanup after the scenario is runner_cleanup.c's.
 *
 * The step loop calls in here at fixed points (before the first step, after each answer,
 * after the last step); on a target of the scenario's own most of it does nothing.
 */
#define _POSIX_C_SOURCE 200809L

#include "runner_internal.h"

#include "harness/text.h"

#include "ref/limits.h"
#include "ref/router.h"

#include <jansson.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A NOT IMPLEMENTED reason: the operation and what its probe got. */
#define NOT_IMPLEMENTED_WHY_BYTES 400

/* --- Shared targets: the pipeline budget ------------------------------------------- */

enum ref_status harness_pipeline_budget_init(struct harness_pipeline_budget *pb, size_t max)
{
    memset(pb, 0, sizeof(*pb));
    pb->max = max > 0 ? max : 1;
    if (pthread_mutex_init(&pb->lock, NULL) != 0) {
        return REF_E_INTERNAL;
    }
    if (pthread_cond_init(&pb->changed, NULL) != 0) {
        pthread_mutex_destroy(&pb->lock);
        return REF_E_INTERNAL;
    }
    return REF_OK;
}

void harness_pipeline_budget_cleanup(struct harness_pipeline_budget *pb)
{
    pthread_cond_destroy(&pb->changed);
    pthread_mutex_destroy(&pb->lock);
}

/* Whether a request step creates a pipeline when it succeeds: CreatePipeline, or a POST to
 * /pipelines written out. */
bool runner_creates_pipeline(const struct harness_step *step)
{
    if (step->kind == HARNESS_STEP_CALL) {
        return step->request.op == REF_OP_CREATE_PIPELINE;
    }
    if (step->kind == HARNESS_STEP_RAW && step->request.is_verbatim) {
        /* A request written out byte for byte (a capture): its request line says. */
        static const char post[] = "POST ";
        const uint8_t *b = step->request.bytes;
        size_t n = step->request.bytes_len;
        if (n < sizeof(post) - 1 || memcmp(b, post, sizeof(post) - 1) != 0) {
            return false;
        }
        size_t end = sizeof(post) - 1;
        while (end < n && b[end] != ' ' && b[end] != '?') {
            end++;
        }
        return end >= 10 + sizeof(post) - 1 && memcmp(b + end - 10, "/pipelines", 10) == 0;
    }
    const char *m = step->request.method;
    const char *t = step->request.target;
    size_t n = t != NULL ? strlen(t) : 0;
    return step->kind == HARNESS_STEP_RAW && m != NULL && strcmp(m, "POST") == 0 && n >= 10 &&
           strcmp(t + n - 10, "/pipelines") == 0;
}

/* What a scenario takes from the budget: what it declares, else one when it creates any
 * pipeline at all (most create one; a scenario that creates more without saying so is
 * still covered by the wait in pipeline_refused). */
static size_t pipelines_needed(const struct harness_scenario *sc, const struct harness_backend *b)
{
    /* Seeded pipelines do not count against the target's limit when they are put in place
     * (contract section 9), and a scenario that seeds runs alone: what it declares is what
     * the in-process reference must allow, not what it takes from a live budget. */
    bool seeds = false;
    for (size_t i = 0; i < sc->num_steps; i++) {
        seeds = seeds || sc->steps[i].kind == HARNESS_STEP_SEED_PIPELINE;
    }
    if (sc->pipelines > 0 && !(seeds && harness_backend_has(b, HARNESS_CAP_HOOKS))) {
        return sc->pipelines;
    }
    for (size_t i = 0; i < sc->num_steps; i++) {
        const struct harness_step *st = &sc->steps[i];
        if (runner_creates_pipeline(st) || (st->kind == HARNESS_STEP_SEED_PIPELINE &&
                                            !harness_backend_has(b, HARNESS_CAP_HOOKS))) {
            return 1; /* without hooks a seeded pipeline is created (runner_emulate_seed) */
        }
        for (size_t k = 0; k < st->num_subs; k++) {
            if (runner_creates_pipeline(&st->subs[k])) {
                return 1;
            }
        }
    }
    return 0;
}

/* Waits until the budget has room for the scenario's need. False, with the reason, when
 * the need is more than the whole budget: the scenario is skipped. */
bool runner_budget_reserve(struct run *r)
{
    struct harness_pipeline_budget *pb = r->b->pipeline_budget;
    size_t need = pipelines_needed(r->sc, r->b);
    if (pb == NULL || need == 0) {
        return true;
    }
    if (need > pb->max) {
        harness_textf(r->pipeline_reason, sizeof(r->pipeline_reason),
                      "needs %zu pipelines at once, more than the run allows "
                      "(--max-pipelines %zu)",
                      need, pb->max);
        return false;
    }
    pthread_mutex_lock(&pb->lock);
    while (pb->reserved + need > pb->max) {
        pthread_cond_wait(&pb->changed, &pb->lock);
    }
    pb->reserved += need;
    pthread_mutex_unlock(&pb->lock);
    r->reserved = need;
    return true;
}

void runner_budget_add_held(struct run *r, size_t created, size_t deleted, size_t released)
{
    struct harness_pipeline_budget *pb = r->b->pipeline_budget;
    if (pb == NULL) {
        return;
    }
    pthread_mutex_lock(&pb->lock);
    pb->held += created;
    pb->held -= deleted <= pb->held ? deleted : pb->held;
    pb->reserved -= released <= pb->reserved ? released : pb->reserved;
    pthread_cond_broadcast(&pb->changed);
    pthread_mutex_unlock(&pb->lock);
}

/* A CreatePipeline answered 429 LimitExceededException (contract section 4) on a shared
 * target. While other scenarios of this run hold pipelines, their cleanup may make room:
 * wait for one to be deleted (at most HARNESS_PIPELINE_WAIT_MS in all for the scenario)
 * and return true to send the request again. Otherwise the target allows no more
 * pipelines than the scenario already has: false, with the reason for the SKIP. */
bool runner_pipeline_refused(struct run *r)
{
    struct harness_pipeline_budget *pb = r->b->pipeline_budget;
    harness_textf(r->pipeline_reason, sizeof(r->pipeline_reason),
                  "needs more pipelines than the target allows: CreatePipeline answered 429 "
                  "LimitExceededException");
    if (pb == NULL) {
        return false;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (r->pipeline_deadline_ms == 0) {
        r->pipeline_deadline_ms = now_ms + HARNESS_PIPELINE_WAIT_MS;
    }
    bool freed = false;
    pthread_mutex_lock(&pb->lock);
    size_t mine = r->pipelines.count;
    size_t others = pb->held > mine ? pb->held - mine : 0;
    size_t before = pb->held;
    if (others > 0) {
        struct timespec until = {.tv_sec = (time_t)(r->pipeline_deadline_ms / 1000),
                                 .tv_nsec = (long)(r->pipeline_deadline_ms % 1000) * 1000000L};
        while (pb->held >= before && pthread_cond_timedwait(&pb->changed, &pb->lock, &until) == 0) {
        }
        freed = pb->held < before;
    }
    pthread_mutex_unlock(&pb->lock);
    if (others > 0 && !freed) {
        harness_textf(r->pipeline_reason, sizeof(r->pipeline_reason),
                      "needs more pipelines than the target allows: CreatePipeline answered 429 "
                      "LimitExceededException, and no other scenario's cleanup made room "
                      "within %d s",
                      HARNESS_PIPELINE_WAIT_MS / 1000);
    }
    return freed;
}

/* --- Shared targets: isolation, NOT IMPLEMENTED probes, cleanup ------------------- */

static bool ids_has(const struct created_ids *l, const char *id, size_t len)
{
    for (size_t i = 0; i < l->count; i++) {
        if (strlen(l->ids[i]) == len && memcmp(l->ids[i], id, len) == 0) {
            return true;
        }
    }
    return false;
}

enum ref_status runner_ids_add(struct created_ids *l, const char *id, size_t len)
{
    /* Ids too long or too many are not remembered: they then stay out of scoped lists and
     * cleanup, which the limits in runner.h document. */
    if (len == 0 || len >= HARNESS_MAX_ID_BYTES || l->count >= HARNESS_MAX_CREATED_IDS ||
        ids_has(l, id, len)) {
        return REF_OK;
    }
    if (l->ids == NULL) {
        l->ids = calloc(HARNESS_MAX_CREATED_IDS, sizeof(*l->ids));
        if (l->ids == NULL) {
            return REF_E_NOMEM;
        }
    }
    memcpy(l->ids[l->count], id, len);
    l->ids[l->count][len] = '\0';
    l->count++;
    return REF_OK;
}

/* The method and the path (no query) of the request line actually sent. */
static void sent_request_line(const struct harness_exchange *x,
                              struct ref_slice *method,
                              struct ref_slice *path)
{
    struct ref_slice rest = ref_buf_slice(&x->request);
    struct ref_slice line;
    (void)ref_slice_split(&rest, '\n', &line);
    (void)ref_slice_split(&line, ' ', method);
    struct ref_slice target;
    (void)ref_slice_split(&line, ' ', &target);
    *path = ref_slice_sub(target, 0, ref_slice_find(target, '?'));
}

static bool slice_ends_with(struct ref_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && memcmp(s.ptr + s.len - n, lit, n) == 0;
}

/* Remembers the job or pipeline a successful create made, whatever kind of step sent it
 * (calls, raw requests, concurrent groups, probes). */
static enum ref_status note_pipeline_status(struct run *r, const struct observation *o);

enum ref_status
runner_note_created(struct run *r, const struct harness_exchange *x, const struct observation *o)
{
    if (o->http.status / 100 != 2 || !json_is_object(o->body)) {
        return REF_OK;
    }
    struct ref_slice method;
    struct ref_slice path;
    sent_request_line(x, &method, &path);
    if (!ref_slice_eq_cstr(method, "POST")) {
        return REF_OK;
    }
    if (slice_ends_with(path, "/status")) {
        return note_pipeline_status(r, o);
    }
    if (!r->is_shared) {
        return REF_OK;
    }
    if (slice_ends_with(path, "/jobs")) {
        json_t *id = harness_json_path(o->body, "Job.Id");
        if (json_is_string(id)) {
            return runner_ids_add(&r->jobs, json_string_value(id), json_string_length(id));
        }
    } else if (slice_ends_with(path, "/pipelines")) {
        json_t *id = harness_json_path(o->body, "Pipeline.Id");
        if (json_is_string(id)) {
            size_t before = r->pipelines.count;
            enum ref_status rc =
                runner_ids_add(&r->pipelines, json_string_value(id), json_string_length(id));
            runner_budget_add_held(r, r->pipelines.count - before, 0, 0);
            return rc;
        }
    }
    return REF_OK;
}

/* Removes one Id from a list (order kept). */
static void ids_remove(struct created_ids *l, const char *id, size_t len)
{
    for (size_t i = 0; i < l->count; i++) {
        if (strlen(l->ids[i]) == len && memcmp(l->ids[i], id, len) == 0) {
            memmove(&l->ids[i], &l->ids[i + 1], (l->count - i - 1) * sizeof(l->ids[0]));
            l->count--;
            return;
        }
    }
}

/* An UpdatePipelineStatus answer: which pipelines the scenario holds paused. */
static enum ref_status note_pipeline_status(struct run *r, const struct observation *o)
{
    json_t *id = harness_json_path(o->body, "Pipeline.Id");
    json_t *status = harness_json_path(o->body, "Pipeline.Status");
    if (!json_is_string(id) || !json_is_string(status)) {
        return REF_OK;
    }
    const char *text = json_string_value(id);
    size_t len = json_string_length(id);
    if (strcmp(json_string_value(status), "Paused") == 0) {
        return ids_has(&r->paused, text, len) ? REF_OK : runner_ids_add(&r->paused, text, len);
    }
    ids_remove(&r->paused, text, len);
    return REF_OK;
}

const char *runner_wait_is_hopeless(const struct run *r, const struct observation *o)
{
    json_t *status = harness_json_path(o->body, "Job.Status");
    if (o->http.status / 100 != 2 || !json_is_string(status)) {
        return NULL;
    }
    const char *s = json_string_value(status);
    if (strcmp(s, "Complete") == 0 || strcmp(s, "Canceled") == 0 || strcmp(s, "Error") == 0) {
        return "the job is in a final status, which nothing changes (contract section 3)";
    }
    json_t *pipeline = harness_json_path(o->body, "Job.PipelineId");
    if (strcmp(s, "Submitted") == 0 && json_is_string(pipeline) &&
        ids_has(&r->paused, json_string_value(pipeline), json_string_length(pipeline))) {
        return "the job is Submitted on a pipeline this scenario paused, where nothing starts "
               "it (contract section 3)";
    }
    return NULL;
}

/* Takes the run's suffix off every pipeline "Name" in an answer, so that expectations
 * see the names the scenario wrote. True when something changed. */
static bool strip_name_suffix(struct run *r, json_t *v)
{
    bool changed = false;
    size_t suffix_len = strlen(r->name_suffix);
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach (v, key, child) {
            if (strcmp(key, "Name") == 0 && json_is_string(child)) {
                size_t len = json_string_length(child);
                const char *text = json_string_value(child);
                if (suffix_len > 0 && len > suffix_len &&
                    memcmp(text + len - suffix_len, r->name_suffix, suffix_len) == 0) {
                    changed =
                        json_string_setn_nocheck(child, text, len - suffix_len) == 0 || changed;
                }
            } else {
                changed = strip_name_suffix(r, child) || changed;
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            changed = strip_name_suffix(r, child) || changed;
        }
    }
    return changed;
}

json_t *runner_literal_param(const char *text, size_t len)
{
    struct ref_buf b;
    ref_buf_init(&b, HARNESS_MAX_VAR_BYTES * 2);
    enum ref_status rc = REF_OK;
    for (size_t i = 0; i < len && rc == REF_OK; i++) {
        if (text[i] == '$' && i + 1 < len && text[i + 1] == '{') {
            rc = ref_buf_append_byte(&b, '$');
        }
        if (rc == REF_OK) {
            rc = ref_buf_append_byte(&b, (uint8_t)text[i]);
        }
    }
    json_t *out = rc == REF_OK
                      ? json_stringn_nocheck(b.data != NULL ? (const char *)b.data : "", b.len)
                      : NULL;
    ref_buf_cleanup(&b);
    return out;
}

/* Sends a request step the runner made itself (a page of a List answer, a probe,
 * cleanup). REF_OK with *o parsed and x holding the exchange (release both, whatever the
 * status); otherwise why says what went wrong. */
static enum ref_status side_send(struct run *r,
                                 const struct harness_step *st,
                                 struct harness_exchange *x,
                                 struct observation *o,
                                 char *why,
                                 size_t why_cap)
{
    memset(o, 0, sizeof(*o));
    enum prep p = runner_prepare(r, st, x, why, why_cap);
    if (p != PREP_OK) {
        return p == PREP_SKIP ? REF_E_NOT_FOUND : REF_E_INTERNAL;
    }
    REF_TRY(runner_send_one(r, x, why, why_cap));
    if (!runner_observe(x, o, false, why, why_cap)) {
        return REF_E_MALFORMED;
    }
    return runner_note_created(r, x, o);
}

/* A signed operation call with these params (owned by the caller), by the main principal
 * unless `like` gives the signing. */
enum ref_status runner_side_call(struct run *r,
                                 enum ref_op op,
                                 json_t *params,
                                 const struct harness_step *like,
                                 struct harness_exchange *x,
                                 struct observation *o,
                                 char *why,
                                 size_t why_cap)
{
    struct harness_step st;
    if (like != NULL) {
        st = *like;
    } else {
        memset(&st, 0, sizeof(st));
        st.sign.principal = HARNESS_PRINCIPAL_MAIN;
        st.name = "etch";
    }
    st.kind = HARNESS_STEP_CALL;
    st.request.op = op;
    st.request.params = params;
    st.request.is_verbatim = false;
    return side_send(r, &st, x, o, why, why_cap);
}

static const char *list_member(enum ref_op op)
{
    switch (op) {
        case REF_OP_LIST_JOBS_BY_PIPELINE:
        case REF_OP_LIST_JOBS_BY_STATUS:
            return "Jobs";
        case REF_OP_LIST_PIPELINES:
            return "Pipelines";
        default:
            return NULL;
    }
}

/* Appends the items of one page whose Id the scenario created. */
static enum ref_status keep_own_items(const struct created_ids *own, json_t *items, json_t *kept)
{
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        json_t *id = json_object_get(item, "Id");
        /* No set of Ids (a target of the scenario's own, all pages asked for): keep all. */
        if (own == NULL ||
            (json_is_string(id) && ids_has(own, json_string_value(id), json_string_length(id)))) {
            if (json_array_append(kept, item) != 0) {
                return REF_E_NOMEM;
            }
        }
    }
    return REF_OK;
}

/* Whether every item of a page is one the scenario created. */
static bool only_own_items(const struct created_ids *own, json_t *items)
{
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        json_t *id = json_object_get(item, "Id");
        if (!json_is_string(id) || !ids_has(own, json_string_value(id), json_string_length(id))) {
            return false;
        }
    }
    return true;
}

/* Which List operation a step sends, and whether it pages by itself (a PageToken of its
 * own): calls say so in their params; a request written out is routed like the
 * reference routes it. */
static enum ref_op
list_op_of(const struct harness_step *step, const struct harness_exchange *x, bool *has_token)
{
    *has_token = false;
    if (step->request.is_verbatim) {
        return REF_OP_NONE; /* sent byte for byte: seen as received */
    }
    if (step->request.op != REF_OP_NONE) {
        *has_token = json_object_get(step->request.params, "PageToken") != NULL;
        return step->request.op;
    }
    struct ref_slice method;
    struct ref_slice path;
    sent_request_line(x, &method, &path);
    struct ref_route route;
    if (ref_route_match(method, path, &route) != REF_OK) {
        return REF_OP_NONE;
    }
    *has_token = x->target != NULL && strstr(x->target, "PageToken=") != NULL;
    return route.op;
}

/* The request for the page after `token`: the step's own request with the token added,
 * as a PageToken param (calls) or at the end of the query (requests written out). The
 * step copy borrows *params_out and *target_out, which the caller frees. */
static enum ref_status next_page_step(const struct harness_step *step,
                                      json_t *token,
                                      struct harness_step *st,
                                      json_t **params_out,
                                      char **target_out)
{
    *st = *step;
    *params_out = NULL;
    *target_out = NULL;
    if (step->request.op != REF_OP_NONE) {
        json_t *params =
            step->request.params != NULL ? json_deep_copy(step->request.params) : json_object();
        json_t *tok = runner_literal_param(json_string_value(token), json_string_length(token));
        if (params == NULL || tok == NULL || json_object_set_new(params, "PageToken", tok) != 0) {
            json_decref(params);
            return REF_E_NOMEM;
        }
        st->kind = step->kind == HARNESS_STEP_WAIT ? HARNESS_STEP_CALL : step->kind;
        st->request.params = params;
        *params_out = params;
        return REF_OK;
    }
    /* Percent-encoded, so no "${" can appear in what the endpoint sent. */
    struct ref_buf target;
    ref_buf_init(&target, REF_MAX_TARGET_BYTES * 4);
    enum ref_status rc = ref_buf_append_cstr(&target, step->request.target);
    if (rc == REF_OK) {
        rc = ref_buf_append_cstr(
            &target, strchr(step->request.target, '?') != NULL ? "&PageToken=" : "?PageToken=");
    }
    if (rc == REF_OK) {
        rc = runner_append_encoded(&target, json_string_value(token), json_string_length(token));
    }
    if (rc == REF_OK) {
        rc = ref_buf_nul_terminate(&target);
    }
    if (rc == REF_OK) {
        *target_out = runner_dup_n((const char *)target.data, target.len);
        rc = *target_out != NULL ? REF_OK : REF_E_NOMEM;
    }
    ref_buf_cleanup(&target);
    st->kind = HARNESS_STEP_RAW;
    st->request.target = *target_out;
    return rc;
}

/* On a shared target a List answer holds what everybody created. The scenario's view is
 * its own items: when the first page holds anything else, the runner follows
 * NextPageToken to the last page and keeps the items whose Id the scenario created, in
 * the order received; NextPageToken is then the last page's. A first page of the
 * scenario's own items only (and at least one) is seen as it came, pages and all. Steps that send
 * their own PageToken see the page as it came. A step that asks for all pages on a target of its
 * own gets the same walk with every item kept. */
static enum ref_status scope_list(struct run *r,
                                  const struct harness_step *step,
                                  const struct harness_exchange *x,
                                  struct observation *o,
                                  bool *changed,
                                  char *why,
                                  size_t why_cap)
{
    bool has_token = false;
    enum ref_op op = list_op_of(step, x, &has_token);
    const char *member = list_member(op);
    if (member == NULL || has_token || o->http.status / 100 != 2 ||
        !json_is_array(json_object_get(o->body, member))) {
        return REF_OK;
    }
    const struct created_ids *own = !r->is_shared                 ? NULL
                                    : op == REF_OP_LIST_PIPELINES ? &r->pipelines
                                                                  : &r->jobs;
    json_t *first = json_object_get(o->body, member);
    if (own != NULL && !step->all_pages && json_array_size(first) > 0 &&
        only_own_items(own, first)) {
        return REF_OK; /* nothing of anybody else's: the page is the scenario's view as is */
    }
    json_t *kept = json_array();
    if (kept == NULL) {
        return REF_E_NOMEM;
    }
    enum ref_status rc = keep_own_items(own, json_object_get(o->body, member), kept);
    json_t *token = json_incref(json_object_get(o->body, "NextPageToken"));
    for (unsigned page = 2; rc == REF_OK && json_is_string(token) && json_string_length(token) > 0;
         page++) {
        if (page > HARNESS_MAX_LIST_PAGES) {
            harness_textf(why, why_cap, "scoping the list: more than %d pages",
                          HARNESS_MAX_LIST_PAGES);
            rc = REF_E_TOO_LARGE;
            break;
        }
        struct harness_step st;
        json_t *params = NULL;
        char *target = NULL;
        rc = next_page_step(step, token, &st, &params, &target);
        struct harness_exchange px;
        struct observation po;
        memset(&px, 0, sizeof(px));
        memset(&po, 0, sizeof(po));
        char detail[RUNNER_DETAIL_BYTES] = "";
        if (rc == REF_OK) {
            rc = side_send(r, &st, &px, &po, detail, sizeof(detail));
        }
        json_decref(params);
        free(target);
        if (rc == REF_OK && (po.http.status / 100 != 2 || !json_is_object(po.body) ||
                             !json_is_array(json_object_get(po.body, member)))) {
            harness_textf(detail, sizeof(detail), "answered %d %s", po.http.status,
                          px.error_code[0] != '\0' ? px.error_code : "without a list");
            rc = REF_E_MALFORMED;
        }
        if (rc == REF_OK) {
            rc = keep_own_items(own, json_object_get(po.body, member), kept);
            json_decref(token);
            token = json_incref(json_object_get(po.body, "NextPageToken"));
        } else if (rc != REF_E_NOMEM) {
            harness_textf(why, why_cap, "scoping the list to this scenario's Ids: page %u: %s",
                          page, detail);
        }
        runner_observation_cleanup(&po);
        runner_exchange_cleanup(&px);
    }
    if (rc == REF_OK) {
        /* The first page's members, with the scenario's items and the last page's token. */
        if (json_object_set(o->body, member, kept) != 0 ||
            (token != NULL && json_object_set(o->body, "NextPageToken", token) != 0)) {
            rc = REF_E_NOMEM;
        }
        *changed = true;
    }
    json_decref(token);
    json_decref(kept);
    return rc;
}

/* What a shared target's answer looks like from inside the scenario: its creations
 * remembered, its List answers scoped, its pipeline names as written. REF_OK; REF_E_NOMEM;
 * anything else with why filled (the step is an ERROR). */
enum ref_status runner_localise(struct run *r,
                                const struct harness_step *step,
                                struct harness_exchange *x,
                                struct observation *o,
                                char *why,
                                size_t why_cap)
{
    if ((!r->is_shared && !step->all_pages) || x->is_closed) {
        return REF_OK;
    }
    REF_TRY(runner_note_created(r, x, o));
    if (o->body == NULL) {
        return REF_OK;
    }
    /* On a target of its own the scenario asked for every page (all_pages): the same walk
     * as scoping, keeping every item. */
    bool changed = false;
    REF_TRY(scope_list(r, step, x, o, &changed, why, why_cap));
    changed = (r->is_shared && strip_name_suffix(r, o->body)) || changed;
    changed = (r->num_aliases > 0 && runner_unalias_json(r, o->body)) || changed;
    if (changed) {
        free(x->observed_body);
        x->observed_body = harness_json_dump(o->body, JSON_COMPACT | JSON_ENCODE_ANY);
        if (x->observed_body == NULL) {
            return REF_E_NOMEM;
        }
    }
    return REF_OK;
}

/* Well-formed, side-effect-free requests, one per operation: they tell whether the
 * endpoint knows the operation at all. CreatePipeline lacks Role (a ValidationException
 * where it is known); should an endpoint create it anyway, cleanup deletes it. */
static const char *probe_params(enum ref_op op)
{
    switch (op) {
        case REF_OP_CANCEL_JOB:
        case REF_OP_READ_JOB:
        case REF_OP_READ_PIPELINE:
        case REF_OP_DELETE_PIPELINE:
            return "{\"Id\":\"" HARNESS_PROBE_ID "\"}";
        case REF_OP_UPDATE_PIPELINE_STATUS:
            return "{\"Id\":\"" HARNESS_PROBE_ID "\",\"Status\":\"Paused\"}";
        case REF_OP_LIST_JOBS_BY_PIPELINE:
            return "{\"PipelineId\":\"" HARNESS_PROBE_ID "\"}";
        case REF_OP_LIST_JOBS_BY_STATUS:
            return "{\"Status\":\"Submitted\"}";
        case REF_OP_LIST_PIPELINES:
            return "{}";
        case REF_OP_CREATE_JOB:
            return "{\"PipelineId\":\"" HARNESS_PROBE_ID "\",\"Input\":{\"Key\":\"etch-probe\"},"
                   "\"Outputs\":[{\"Key\":\"etch-probe\",\"PresetId\":\"1351620000001-000010\"}]}";
        case REF_OP_CREATE_PIPELINE:
            return "{\"Name\":\"etch-probe\",\"InputBucket\":\"etch-probe\"}";
        default:
            return NULL;
    }
}

/* Whether the endpoint lacks the operation, decided once per operation and target from a
 * well-formed request of its own, never from the step's answer alone (a malformed Id may
 * well be routed nowhere by an endpoint that knows the operation). detail gets what the
 * probe saw. Unknown (a transport failure) counts as present: the FAIL then stands. */
static enum ref_status
op_is_missing(struct run *r, enum ref_op op, bool *missing, char *detail, size_t detail_cap)
{
    *missing = false;
    detail[0] = '\0';
    if (op <= REF_OP_NONE || op >= REF_OP_COUNT || probe_params(op) == NULL) {
        return REF_OK;
    }
    enum harness_op_support *known = &r->b->op_support[op];
    if (*known == HARNESS_OP_SUPPORT_UNKNOWN) {
        json_t *params = json_loads(probe_params(op), 0, NULL);
        if (params == NULL) {
            return REF_E_NOMEM;
        }
        struct harness_exchange x;
        struct observation o;
        char why[RUNNER_DETAIL_BYTES] = "";
        enum ref_status rc = runner_side_call(r, op, params, NULL, &x, &o, why, sizeof(why));
        json_decref(params);
        if (rc == REF_OK) {
            *known = harness_is_unknown_operation(&o.obs) ? HARNESS_OP_SUPPORT_MISSING
                                                          : HARNESS_OP_SUPPORT_IMPLEMENTED;
            harness_textf(detail, detail_cap, "a well-formed %s request got %d %s", ref_op_name(op),
                          o.http.status,
                          x.error_code[0] != '\0' ? x.error_code : "(no error code)");
        }
        runner_observation_cleanup(&o);
        runner_exchange_cleanup(&x);
        if (rc == REF_E_NOMEM) {
            return rc;
        }
    } else if (*known == HARNESS_OP_SUPPORT_MISSING) {
        harness_textf(detail, detail_cap,
                      "a well-formed %s request got an unknown-operation answer", ref_op_name(op));
    }
    *missing = *known == HARNESS_OP_SUPPORT_MISSING;
    return REF_OK;
}

/* The step FAILed on an unknown-operation answer: NOT IMPLEMENTED when a probe confirms
 * that the endpoint lacks the operation. */
enum ref_status runner_decide_not_implemented(struct run *r,
                                              const struct harness_step *step,
                                              const struct observation *o,
                                              struct harness_step_result *s)
{
    bool is_call = step->request.op != REF_OP_NONE && !step->request.is_verbatim;
    if (s->verdict != HARNESS_VERDICT_FAIL || !is_call || !harness_is_unknown_operation(&o->obs)) {
        return REF_OK;
    }
    bool missing = false;
    char detail[RUNNER_NOTE_BYTES];
    REF_TRY(op_is_missing(r, step->request.op, &missing, detail, sizeof(detail)));
    if (missing) {
        char why[NOT_IMPLEMENTED_WHY_BYTES];
        harness_textf(why, sizeof(why), "the endpoint does not know %s (%s)",
                      ref_op_name(step->request.op), detail);
        runner_set_reason(s, HARNESS_VERDICT_NOT_IMPLEMENTED, why);
    }
    return REF_OK;
}

/* A suffix no other run is likely to pick: "-" and 8 of [a-z0-9]. */
void runner_make_name_suffix(char out[16])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t bytes[8];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        /* No randomness: fall back on the clock, still unique enough across runs. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t v = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec;
        for (size_t i = 0; i < sizeof(bytes); i++) {
            bytes[i] = (uint8_t)(v >> (i * 8));
        }
    }
    out[0] = '-';
    for (size_t i = 0; i < sizeof(bytes); i++) {
        out[1 + i] = alphabet[bytes[i] % (sizeof(alphabet) - 1)];
    }
    out[1 + sizeof(bytes)] = '\0';
}
