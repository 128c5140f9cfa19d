/* SPDX-License-Identifier: Apache-2.0
 *
 * explore_broken.c - deliberately broken targets for `etch explore`'s own tests.
 *
 * Each is the in-process reference behind a wrapper that changes what it answers, or what
 * it is asked, from the outside: the reference has no fault switch of its own, so nothing
 * a request says can break it. The three faults are the ones emulators are known to have:
 * a Progressing job that can be canceled, a paused pipeline that still starts its jobs,
 * and a list page that loses an item.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/explore.h"

#include "harness/http_response.h"
#include "harness/sign.h"
#include "harness/text.h"

#include "ref/router.h"

#include <jansson.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BROKEN_MAX_PAUSED 16
#define BROKEN_ID_BYTES   64

struct broken {
    struct harness_backend base;
    struct harness_backend *inner;
    enum harness_broken_kind kind;
    int64_t clock_ms_per_request; /* 0: the clock moves only when moved */
    pthread_mutex_t lock;
    /* paused-starts: the pipelines a client paused, which the reference keeps Active. */
    char paused[BROKEN_MAX_PAUSED][BROKEN_ID_BYTES];
    size_t num_paused;
};

static const char *const s_kind_names[HARNESS_BROKEN_COUNT] = {
    [HARNESS_BROKEN_NONE] = "",
    [HARNESS_BROKEN_CANCEL_PROGRESSING] = "cancel-progressing",
    [HARNESS_BROKEN_PAUSED_STARTS] = "paused-starts",
    [HARNESS_BROKEN_LIST_DROPS_JOB] = "list-drops-job",
};

enum harness_broken_kind harness_broken_kind_from_name(const char *name)
{
    for (int k = HARNESS_BROKEN_NONE + 1; k < HARNESS_BROKEN_COUNT; k++) {
        if (strcmp(name, s_kind_names[k]) == 0) {
            return (enum harness_broken_kind)k;
        }
    }
    return HARNESS_BROKEN_NONE;
}

const char *harness_broken_kind_name(enum harness_broken_kind kind)
{
    return kind > HARNESS_BROKEN_NONE && kind < HARNESS_BROKEN_COUNT ? s_kind_names[kind] : "";
}

static struct broken *impl(struct harness_backend *b)
{
    return (struct broken *)b->impl;
}

/* --- The request line ----------------------------------------------------------------- */

struct request_line {
    struct ref_slice method;
    struct ref_slice target;
    struct ref_slice body;
};

static void split_request(struct ref_slice req, struct request_line *out)
{
    memset(out, 0, sizeof(*out));
    const char *p = (const char *)req.ptr;
    const char *end = p + req.len;
    const char *sp = memchr(p, ' ', req.len);
    if (sp == NULL) {
        return;
    }
    out->method = (struct ref_slice){.ptr = (const uint8_t *)p, .len = (size_t)(sp - p)};
    const char *t = sp + 1;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (sp2 == NULL) {
        return;
    }
    out->target = (struct ref_slice){.ptr = (const uint8_t *)t, .len = (size_t)(sp2 - t)};
    for (const char *q = sp2; q + 4 <= end; q++) {
        if (memcmp(q, "\r\n\r\n", 4) == 0) {
            out->body =
                (struct ref_slice){.ptr = (const uint8_t *)q + 4, .len = (size_t)(end - q - 4)};
            break;
        }
    }
}

static bool slice_is(struct ref_slice s, const char *text)
{
    return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

/* The label after prefix in target, up to the next '/', '?' or the end, into out. */
static bool label_after(struct ref_slice target, const char *prefix, char *out, size_t cap)
{
    size_t n = strlen(prefix);
    if (target.len <= n || memcmp(target.ptr, prefix, n) != 0) {
        return false;
    }
    size_t i = n;
    while (i < target.len && target.ptr[i] != '/' && target.ptr[i] != '?') {
        i++;
    }
    if (i - n + 1 > cap) {
        return false;
    }
    memcpy(out, target.ptr + n, i - n);
    out[i - n] = '\0';
    return true;
}

/* --- Answers rewritten ----------------------------------------------------------------- */

/* Appends to out the response in raw with status (0: unchanged), without x-amzn-ErrorType
 * when drop_error_type, and body as its new body. */
static enum ref_status rewrite_response(struct ref_slice raw,
                                        int status,
                                        const char *reason,
                                        bool drop_error_type,
                                        const char *body,
                                        struct ref_buf *out)
{
    struct harness_http_response http;
    struct ref_buf chunked;
    ref_buf_init(&chunked, HARNESS_MAX_RESPONSE_BODY_BYTES);
    enum ref_status rc = harness_http_parse_response(raw, &http, &chunked, NULL, NULL);
    if (rc == REF_OK) {
        if (status != 0) {
            rc =
                ref_buf_appendf(out, "%.*s %d %s\r\n", REF_SLICE_ARG(http.version), status, reason);
        } else {
            rc = ref_buf_appendf(out, "%.*s %d %.*s\r\n", REF_SLICE_ARG(http.version), http.status,
                                 REF_SLICE_ARG(http.reason));
        }
    }
    for (size_t i = 0; rc == REF_OK && i < http.num_headers; i++) {
        struct ref_slice name = http.headers[i].name;
        if (ref_slice_eq_nocase(name, REF_SLICE_LIT("Content-Length")) ||
            ref_slice_eq_nocase(name, REF_SLICE_LIT("Transfer-Encoding")) ||
            (drop_error_type && ref_slice_eq_nocase(name, REF_SLICE_LIT("x-amzn-ErrorType")))) {
            continue;
        }
        rc = ref_buf_appendf(out, "%.*s: %.*s\r\n", REF_SLICE_ARG(name),
                             REF_SLICE_ARG(http.headers[i].value));
    }
    if (rc == REF_OK) {
        rc = ref_buf_appendf(out, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    }
    ref_buf_cleanup(&chunked);
    return rc;
}

static json_t *response_json(struct ref_slice raw, int *status)
{
    struct harness_http_response http;
    struct ref_buf chunked;
    ref_buf_init(&chunked, HARNESS_MAX_RESPONSE_BODY_BYTES);
    json_t *v = NULL;
    if (harness_http_parse_response(raw, &http, &chunked, NULL, NULL) == REF_OK) {
        *status = http.status;
        v = json_loadb((const char *)http.body.ptr, http.body.len, 0, NULL);
    }
    ref_buf_cleanup(&chunked);
    return v;
}

/* Appends raw to out with v as its body. */
static enum ref_status append_with_json(struct ref_slice raw, json_t *v, struct ref_buf *out)
{
    char *text = harness_json_dump(v, JSON_COMPACT);
    if (text == NULL) {
        return REF_E_NOMEM;
    }
    enum ref_status rc = rewrite_response(raw, 0, NULL, false, text, out);
    free(text);
    return rc;
}

/* --- cancel-progressing ------------------------------------------------------------- */

static enum ref_status cancel_progressing(struct broken *br,
                                          const struct request_line *rl,
                                          struct ref_slice answer,
                                          struct ref_buf *out)
{
    char id[BROKEN_ID_BYTES];
    int status = 0;
    json_t *v = NULL;
    if (slice_is(rl->method, "DELETE") &&
        label_after(rl->target, "/" REF_API_VERSION "/jobs/", id, sizeof(id)) &&
        (v = response_json(answer, &status), json_decref(v), status == 409)) {
        const char *now = harness_backend_inproc_job_status(br->inner, id);
        if (now != NULL && strcmp(now, "Progressing") == 0) {
            return rewrite_response(answer, 202, "Accepted", true, "{\"Success\":\"true\"}", out);
        }
    }
    return ref_buf_append_slice(out, answer);
}

/* --- paused-starts ------------------------------------------------------------------ */

static bool is_paused_locked(const struct broken *br, const char *id)
{
    for (size_t i = 0; i < br->num_paused; i++) {
        if (strcmp(br->paused[i], id) == 0) {
            return true;
        }
    }
    return false;
}

static void set_paused_locked(struct broken *br, const char *id, bool paused)
{
    for (size_t i = 0; i < br->num_paused; i++) {
        if (strcmp(br->paused[i], id) == 0) {
            if (!paused) {
                memmove(br->paused[i], br->paused[br->num_paused - 1], BROKEN_ID_BYTES);
                br->num_paused--;
            }
            return;
        }
    }
    if (paused && br->num_paused < BROKEN_MAX_PAUSED) {
        harness_textf(br->paused[br->num_paused++], BROKEN_ID_BYTES, "%s", id);
    }
}

/* Makes the pipeline Active again behind the client's back, with a request of its own. */
static enum ref_status resume_quietly(struct broken *br, const char *id)
{
    char target[128];
    harness_textf(target, sizeof(target), "/%s/pipelines/%s/status", REF_API_VERSION, id);
    static const char body[] = "{\"Status\":\"Active\"}";
    char length[16];
    harness_textf(length, sizeof(length), "%zu", sizeof(body) - 1);
    char host_name[] = "Host";
    char type_name[] = "Content-Type";
    char type[] = "application/json";
    char length_name[] = "Content-Length";
    char host[256];
    harness_textf(host, sizeof(host), "%s", br->inner->host);
    struct harness_header_copy headers[8] = {
        {.name = host_name, .value = host},
        {.name = type_name, .value = type},
        {.name = length_name, .value = length},
    };
    size_t num_headers = 3;
    struct harness_sign sign = {.principal = HARNESS_PRINCIPAL_MAIN};
    struct harness_sign_target t = {
        .method = "POST",
        .target = target,
        .headers = headers,
        .num_headers = &num_headers,
        .cap_headers = 8,
        .body = (const uint8_t *)body,
        .body_len = sizeof(body) - 1,
    };
    enum ref_status rc =
        harness_sign_request(br->inner, &sign, br->inner->ops->now_ms(br->inner), &t);
    struct ref_buf req;
    struct ref_buf answer;
    ref_buf_init(&req, 65536);
    ref_buf_init(&answer, HARNESS_MAX_RESPONSE_BODY_BYTES);
    if (rc == REF_OK) {
        rc = ref_buf_appendf(&req, "POST %s HTTP/1.1\r\n", target);
    }
    for (size_t i = 0; rc == REF_OK && i < num_headers; i++) {
        rc = ref_buf_appendf(&req, "%s: %s\r\n", headers[i].name, headers[i].value);
    }
    if (rc == REF_OK) {
        rc = ref_buf_appendf(&req, "\r\n%s", body);
    }
    if (rc == REF_OK) {
        rc = br->inner->ops->send(br->inner, ref_buf_slice(&req), &answer);
    }
    /* The signer allocated the values of the headers it added. */
    for (size_t i = 3; i < num_headers; i++) {
        free(headers[i].name);
        free(headers[i].value);
    }
    ref_buf_cleanup(&req);
    ref_buf_cleanup(&answer);
    return rc;
}

static void show_paused_locked(const struct broken *br, json_t *pipeline)
{
    json_t *id = json_object_get(pipeline, "Id");
    if (json_is_string(id) && is_paused_locked(br, json_string_value(id))) {
        json_object_set_new(pipeline, "Status", json_string("Paused"));
    }
}

static enum ref_status paused_starts(struct broken *br,
                                     const struct request_line *rl,
                                     struct ref_slice answer,
                                     struct ref_buf *out)
{
    char id[BROKEN_ID_BYTES];
    int status = 0;
    json_t *v = response_json(answer, &status);
    enum ref_status rc = REF_OK;
    pthread_mutex_lock(&br->lock);
    if (status / 100 == 2 && slice_is(rl->method, "POST") &&
        label_after(rl->target, "/" REF_API_VERSION "/pipelines/", id, sizeof(id))) {
        json_t *asked = json_loadb((const char *)rl->body.ptr, rl->body.len, 0, NULL);
        const char *wanted = json_string_value(json_object_get(asked, "Status"));
        if (wanted != NULL && strcmp(wanted, "Paused") == 0) {
            set_paused_locked(br, id, true);
            rc = resume_quietly(br, id);
        } else if (wanted != NULL) {
            set_paused_locked(br, id, false);
        }
        json_decref(asked);
    }
    bool is_changed = false;
    if (v != NULL && br->num_paused > 0) {
        json_t *one = json_object_get(v, "Pipeline");
        json_t *many = json_object_get(v, "Pipelines");
        if (json_is_object(one)) {
            show_paused_locked(br, one);
            is_changed = true;
        }
        size_t i;
        json_t *p;
        json_array_foreach (many, i, p) {
            show_paused_locked(br, p);
            is_changed = true;
        }
    }
    pthread_mutex_unlock(&br->lock);
    if (rc == REF_OK) {
        rc = is_changed ? append_with_json(answer, v, out) : ref_buf_append_slice(out, answer);
    }
    json_decref(v);
    return rc;
}

/* --- list-drops-job ----------------------------------------------------------------- */

static enum ref_status
list_drops_job(const struct request_line *rl, struct ref_slice answer, struct ref_buf *out)
{
    static const char by_pipeline[] = "/" REF_API_VERSION "/jobsByPipeline/";
    static const char by_status[] = "/" REF_API_VERSION "/jobsByStatus/";
    bool is_list = slice_is(rl->method, "GET") &&
                   ((rl->target.len > sizeof(by_pipeline) - 1 &&
                     memcmp(rl->target.ptr, by_pipeline, sizeof(by_pipeline) - 1) == 0) ||
                    (rl->target.len > sizeof(by_status) - 1 &&
                     memcmp(rl->target.ptr, by_status, sizeof(by_status) - 1) == 0));
    int status = 0;
    json_t *v = is_list ? response_json(answer, &status) : NULL;
    json_t *jobs = json_object_get(v, "Jobs");
    enum ref_status rc;
    if (status == 200 && json_array_size(jobs) >= 2) {
        json_array_remove(jobs, 1);
        rc = append_with_json(answer, v, out);
    } else {
        rc = ref_buf_append_slice(out, answer);
    }
    json_decref(v);
    return rc;
}

/* --- The backend ------------------------------------------------------------------- */

static enum ref_status
broken_send(struct harness_backend *b, struct ref_slice request, struct ref_buf *response)
{
    struct broken *br = impl(b);
    if (br->clock_ms_per_request > 0) {
        /* Time passes between a client's requests, as on an endpoint's real clock. */
        br->inner->ops->set_clock_ms(br->inner,
                                     br->inner->ops->now_ms(br->inner) + br->clock_ms_per_request);
    }
    struct ref_buf answer;
    ref_buf_init(&answer, HARNESS_MAX_RESPONSE_HEADER_BYTES + HARNESS_MAX_RESPONSE_BODY_BYTES);
    enum ref_status rc = br->inner->ops->send(br->inner, request, &answer);
    struct request_line rl;
    split_request(request, &rl);
    if (rc == REF_OK) {
        switch (br->kind) {
            case HARNESS_BROKEN_CANCEL_PROGRESSING:
                rc = cancel_progressing(br, &rl, ref_buf_slice(&answer), response);
                break;
            case HARNESS_BROKEN_PAUSED_STARTS:
                rc = paused_starts(br, &rl, ref_buf_slice(&answer), response);
                break;
            case HARNESS_BROKEN_LIST_DROPS_JOB:
                rc = list_drops_job(&rl, ref_buf_slice(&answer), response);
                break;
            default:
                rc = ref_buf_append_slice(response, ref_buf_slice(&answer));
                break;
        }
    }
    ref_buf_cleanup(&answer);
    return rc;
}

static int64_t broken_now_ms(struct harness_backend *b)
{
    struct harness_backend *in = impl(b)->inner;
    return in->ops->now_ms(in);
}

static enum ref_status broken_seed_pipeline(struct harness_backend *b,
                                            const char *id,
                                            const char *name,
                                            const char *status)
{
    struct harness_backend *in = impl(b)->inner;
    return in->ops->seed_pipeline(in, id, name, status);
}

static enum ref_status broken_seed_job(struct harness_backend *b,
                                       const char *id,
                                       const char *pipeline_id,
                                       const char *status)
{
    struct harness_backend *in = impl(b)->inner;
    return in->ops->seed_job(in, id, pipeline_id, status);
}

static enum ref_status broken_fail_job(struct harness_backend *b, const char *id)
{
    struct harness_backend *in = impl(b)->inner;
    return in->ops->fail_job(in, id);
}

static void broken_set_clock_ms(struct harness_backend *b, int64_t now_ms)
{
    struct harness_backend *in = impl(b)->inner;
    in->ops->set_clock_ms(in, now_ms);
}

static bool broken_next_event_ms(struct harness_backend *b, int64_t *when_ms)
{
    struct harness_backend *in = impl(b)->inner;
    return in->ops->next_event_ms(in, when_ms);
}

static void broken_tick(struct harness_backend *b)
{
    struct harness_backend *in = impl(b)->inner;
    in->ops->tick(in);
}

static void broken_destroy(struct harness_backend *b)
{
    struct broken *br = impl(b);
    harness_backend_free(br->inner);
    pthread_mutex_destroy(&br->lock);
    free(br);
}

static const struct harness_backend_ops s_broken_ops = {
    .send = broken_send,
    .now_ms = broken_now_ms,
    .seed_pipeline = broken_seed_pipeline,
    .seed_job = broken_seed_job,
    .fail_job = broken_fail_job,
    .set_clock_ms = broken_set_clock_ms,
    .next_event_ms = broken_next_event_ms,
    .tick = broken_tick,
    .destroy = broken_destroy,
};

struct harness_backend *harness_backend_broken_new(enum harness_broken_kind kind)
{
    if (kind <= HARNESS_BROKEN_NONE || kind >= HARNESS_BROKEN_COUNT) {
        return NULL;
    }
    return harness_backend_uncontrolled_new(kind, 0);
}

struct harness_backend *harness_backend_uncontrolled_new(enum harness_broken_kind kind,
                                                         int64_t clock_ms_per_request)
{
    if (kind < HARNESS_BROKEN_NONE || kind >= HARNESS_BROKEN_COUNT || clock_ms_per_request < 0) {
        return NULL;
    }
    struct broken *br = calloc(1, sizeof(*br));
    if (br == NULL) {
        return NULL;
    }
    br->inner = harness_backend_inproc_new(NULL);
    if (br->inner == NULL || pthread_mutex_init(&br->lock, NULL) != 0) {
        harness_backend_free(br->inner);
        free(br);
        return NULL;
    }
    br->kind = kind;
    br->clock_ms_per_request = clock_ms_per_request;
    struct harness_backend *b = &br->base;
    *b = *br->inner;
    b->ops = &s_broken_ops;
    b->impl = br;
    b->description = kind != HARNESS_BROKEN_NONE
                         ? "embedded reference, deliberately broken (in process)"
                         : "embedded reference (in process)";
    if (clock_ms_per_request > 0) {
        /* Its clock is its own: nothing may move it, nor fail a job, as without control. */
        b->caps &= ~(unsigned)(HARNESS_CAP_HOOKS | HARNESS_CAP_VIRTUAL_CLOCK);
    }
    return b;
}
