/* SPDX-License-Identifier: Apache-2.0
 *
 * service_request_support.h - requests through the whole service for the tests of its
 * rules (test_service_job.c, test_service_pipeline.c): a service on a pinned clock, a
 * request signed as the main principal and handed to ref_service_handle_parsed (the HTTP
 * bytes have tests of their own), and its answer read as JSON. Request bodies are written
 * with ' for " so that they read as JSON in C strings; q() turns them into JSON text.
 *
 * Test-only and header-only (static functions), so each test executable stays one .c file.
 */
#ifndef ETCH_SERVICE_REQUEST_SUPPORT_H
#define ETCH_SERVICE_REQUEST_SUPPORT_H

#include "test_util.h"

#include "ref/http.h"
#include "ref/service.h"
#include "ref/sigv4.h"
#include "ref/status.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

#define HOST "elastictranscoder.amazonaws.com"

struct fx {
    struct test_clock clock;
    struct ref_service *svc;
    const char *region;
    int64_t date_offset_s; /* X-Amz-Date is this far from the service's clock */
};

/* A service with the settings of cfg (its region, or the default one), on the pinned clock
 * and the deterministic random source. */
static inline void fx_open_config(struct fx *fx, const struct ref_service_config *cfg)
{
    fx->clock = (struct test_clock){.now_ms = TEST_FIXED_NOW_MS, .rng_state = 0x9e3779b97f4a7c15u};
    fx->region = cfg->region != NULL ? cfg->region : REF_TEST_REGION;
    fx->date_offset_s = 0;
    struct ref_service_config c = *cfg;
    c.region = fx->region;
    c.env = (struct ref_env){
        .now_ms = test_clock_now_ms, .random_bytes = test_clock_random_bytes, .ctx = &fx->clock};
    fx->svc = ref_service_new(&c);
    assert_non_null(fx->svc);
}

/* A service in region; max_pipelines 0 keeps the default limit. */
static inline void fx_open_with(struct fx *fx, const char *region, size_t max_pipelines)
{
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.region = region;
    if (max_pipelines > 0) {
        cfg.max_pipelines = max_pipelines;
    }
    fx_open_config(fx, &cfg);
}

static void fx_close(struct fx *fx)
{
    ref_service_free(fx->svc);
}

/* JSON text from a body written with ' for ". Owned by the caller (free()). */
static char *q(const char *text)
{
    char *s = strdup(text);
    assert_non_null(s);
    for (char *p = s; *p != '\0'; p++) {
        *p = *p == '\'' ? '"' : *p;
    }
    return s;
}

struct answer {
    int http_status;
    const char *error_type; /* "" for a success */
    json_t *body;
};

/* Sends one request signed by cred (NULL: unsigned, with no Authorization header) with
 * X-Amz-Date at sign_s (seconds since the epoch), and X-Amz-Security-Token when cred has
 * a session token; body (JSON text) may be NULL. */
static inline void call_as(struct fx *fx,
                           const struct ref_credential *cred,
                           int64_t sign_s,
                           const char *method,
                           const char *target,
                           const char *body,
                           struct answer *a)
{
    char amz_date[17];
    ref_sigv4_format_amz_date(sign_s, amz_date);
    struct ref_http_request req = {.method = ref_slice_from_cstr(method),
                                   .target = ref_slice_from_cstr(target),
                                   .version = REF_SLICE_LIT("HTTP/1.1")};
    req.path = req.target;
    req.path.len = ref_slice_find(req.target, '?');
    if (req.path.len < req.target.len) {
        req.has_query = true;
        req.query = ref_slice_sub(req.target, req.path.len + 1, req.target.len);
    }
    size_t n = 0;
    req.headers[n++] = (struct ref_header){REF_SLICE_LIT("Host"), REF_SLICE_LIT(HOST)};
    req.headers[n++] =
        (struct ref_header){REF_SLICE_LIT("X-Amz-Date"), ref_slice_make(amz_date, 16)};
    if (body != NULL) {
        req.headers[n++] =
            (struct ref_header){REF_SLICE_LIT("Content-Type"), REF_SLICE_LIT("application/json")};
        req.body = ref_slice_from_cstr(body);
    }
    if (cred != NULL && cred->session_token != NULL) {
        req.headers[n++] = (struct ref_header){REF_SLICE_LIT("X-Amz-Security-Token"),
                                               ref_slice_from_cstr(cred->session_token)};
    }
    struct ref_sigv4_request sreq = {.method = req.method,
                                     .path = req.path,
                                     .query = req.query,
                                     .headers = req.headers,
                                     .num_headers = n,
                                     .body = req.body};
    struct ref_buf auth;
    ref_buf_init(&auth, 4096);
    if (cred != NULL) {
        struct ref_sigv4_sign_params p = {.access_key_id = ref_slice_from_cstr(cred->access_key_id),
                                          .secret_access_key =
                                              ref_slice_from_cstr(cred->secret_access_key),
                                          .region = ref_slice_from_cstr(fx->region),
                                          .service = REF_SLICE_LIT("elastictranscoder"),
                                          .amz_date = ref_slice_make(amz_date, 16)};
        assert_int_equal(ref_sigv4_sign(&p, &sreq, &auth, NULL), REF_OK);
        req.headers[n++] =
            (struct ref_header){REF_SLICE_LIT("Authorization"), ref_buf_slice(&auth)};
    }
    req.num_headers = n;

    struct ref_response resp;
    ref_response_init(&resp);
    assert_int_equal(ref_service_handle_parsed(fx->svc, &req, &resp), REF_OK);
    a->http_status = resp.http_status;
    a->error_type = ref_status_error_type(resp.status);
    json_error_t jerr;
    a->body = json_loadb((const char *)resp.body.data, resp.body.len, 0, &jerr);
    if (a->body == NULL) {
        fail_msg("answer body is not JSON: %s", jerr.text);
    }
    ref_response_cleanup(&resp);
    ref_buf_cleanup(&auth);
}

/* Sends one request as the main principal, dated by the pinned clock (date_offset_s off);
 * body (JSON text) may be NULL. */
static void
call(struct fx *fx, const char *method, const char *target, const char *body, struct answer *a)
{
    call_as(fx, REF_TEST_CRED_MAIN, fx->clock.now_ms / 1000 + fx->date_offset_s, method, target,
            body, a);
}

static void answer_cleanup(struct answer *a)
{
    json_decref(a->body);
    a->body = NULL;
}

static const char *message_of(const struct answer *a)
{
    const char *m = json_string_value(json_object_get(a->body, "message"));
    return m != NULL ? m : "";
}

/* A request with body (written with ') to target must answer 400 ValidationException with
 * this exact message (NULL: any message). */
static inline void
expect_refused_at(struct fx *fx, const char *target, const char *body, const char *message)
{
    char *text = q(body);
    struct answer a;
    call(fx, "POST", target, text, &a);
    if (a.http_status != 400 || strcmp(a.error_type, "ValidationException") != 0) {
        fail_msg("%s: want 400 ValidationException, got %d %s %s", text, a.http_status,
                 a.error_type, message_of(&a));
    }
    if (message != NULL && strcmp(message_of(&a), message) != 0) {
        fail_msg("%s:\n want message %s\n got          %s", text, message, message_of(&a));
    }
    answer_cleanup(&a);
    free(text);
}

#endif
