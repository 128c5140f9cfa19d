/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_service.c - whole raw requests through the reference service, end to end.
 *
 * Target functions: ref_service_handle (and through it the HTTP parser, the SigV4
 * verifier, the router, validation, the ten operations, the job store and the response
 * writer); ref_sigv4_sign_request to re-sign requests.
 *
 * Input: one raw HTTP request (the 30 captures in fixtures/captures seed the corpus). The
 * top bit of its first byte, which no request line has set, is the control bit: set, the
 * request (that bit cleared) goes to services with test control on (contract section 9),
 * so the control paths are fuzzed too; clear, to services without it, as before.
 *
 * Each input runs against a service in the same starting state: the clock pinned at
 * 2026-11-28T12:45:00Z, a random source reseeded to a fixed seed, an empty signing-key
 * cache, pipelines 1111111111111-abcde1 (Active) and 1111111111111-paused (Paused) and one
 * job in every status. That state is seeded once, into a template service that never
 * answers anything, and every input starts from a copy of it (ref_service_copy_state),
 * which allocates nothing: a new service per input cost its key cache and its seeding,
 * most of the target's time. The input is answered as is, then, when it parses, a second
 * time re-signed by ref_sigv4_sign_request as the main principal (X-Amz-Date at the clock),
 * which carries mutated requests past the signature check into routing, validation and
 * the store.
 *
 * Invariants (abort() on violation):
 * - ref_service_handle returns REF_OK and writes a well-formed HTTP/1.1 response: status
 *   line, token header names, exact Content-Length, one Date, one x-amzn-RequestId that
 *   is a UUID (a fresh one per request);
 * - the status is 200, 201 or 202, or the HTTP status of some entry of the table in
 *   status.h; never 500 (no internal failure is expected for any input);
 * - an error has exactly one x-amzn-ErrorType, the error type that status.h pairs with that
 *   status, Content-Type application/json and a JSON object body with a string "message";
 *   a success has no x-amzn-ErrorType and a JSON object body; 202 is {"Success":"true"};
 * - the same input on a second service, started from the same state as the first (a copy
 *   of the template too, with its own random source reseeded the same way), gives the
 *   same bytes (determinism);
 * - the store's state machine holds: a Complete, Canceled, Error or Progressing job never
 *   changes (the clock is pinned, so nothing starts or finishes); a Submitted job only
 *   becomes Canceled, and only with a 202 answer; one request changes at most one job
 *   (each answer's statuses are compared with the ones before it: the template's for an
 *   input's first answer on either service, so a copy that kept an earlier input's change
 *   fails here too). With test control, a 200 answer (a clock move or a set-status; no
 *   operation that answers 200 changes a job) may also move any number of jobs forward
 *   along the lifecycle (Submitted to Progressing, Complete or Error; Progressing to
 *   Complete or Error), and nothing else;
 * - a request re-signed by etch's own signer, dated by the service's clock (virtual once
 *   a control request moved it), is never refused by authentication or HTTP parsing (no
 *   MissingAuthenticationToken, IncompleteSignature, InvalidSignature, UnrecognizedClient,
 *   BadRequest or size-limit answer).
 */
#include "common.h"

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/limits.h"
#include "ref/service.h"
#include "ref/sigv4.h"
#include "ref/status.h"

#include <jansson.h>

#include <stdio.h>
#include <string.h>

#define ACTIVE_PIPELINE "1111111111111-abcde1"
#define PAUSED_PIPELINE "1111111111111-paused"

struct seeded_job {
    const char *id;
    const char *pipeline;
    const char *status;
};

static const struct seeded_job s_jobs[] = {
    {"2222222222222-abcdef", ACTIVE_PIPELINE, "Submitted"},
    {"2222222222222-progrs", ACTIVE_PIPELINE, "Progressing"},
    {"2222222222222-complt", ACTIVE_PIPELINE, "Complete"},
    {"2222222222222-cancld", ACTIVE_PIPELINE, "Canceled"},
    {"2222222222222-errorj", ACTIVE_PIPELINE, "Progressing"}, /* failed below, to Error */
    {"3333333333333-paused", PAUSED_PIPELINE, "Submitted"},
};

#define NUM_JOBS (sizeof(s_jobs) / sizeof(s_jobs[0]))

/* A service and the random source its env draws from. The services live as long as the
 * process; world_start puts one back into the starting state before every input. */
struct world {
    struct fuzz_rng rng;
    struct ref_service *svc;
    bool has_test_control;
};

static void world_new(struct world *w)
{
    fuzz_rng_seed(&w->rng, FUZZ_RNG_SEED);
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.has_test_control = w->has_test_control;
    cfg.env.now_ms = fuzz_fixed_now_ms;
    cfg.env.random_bytes = fuzz_random_bytes;
    cfg.env.ctx = &w->rng;
    w->svc = ref_service_new(&cfg);
    FUZZ_CHECK(w->svc != NULL);
}

static void snapshot(struct world *w, const char *statuses[NUM_JOBS]);

/* The seeded jobs' statuses in the starting state, taken from the template when it is made:
 * what every input's first answer on a service must be checked against. A copy that left a
 * job as an earlier input had moved it shows as a transition the answer did not make. */
static const char *s_start_statuses[NUM_JOBS];

/* The template: the seeded state, made once. */
static struct ref_service *template_service(void)
{
    static struct world s_template;
    if (s_template.svc != NULL) {
        return s_template.svc;
    }
    world_new(&s_template);
    struct ref_service *svc = s_template.svc;
    FUZZ_CHECK(ref_service_seed_pipeline(svc, ACTIVE_PIPELINE, "fuzz-active", "Active") == REF_OK);
    FUZZ_CHECK(ref_service_seed_pipeline(svc, PAUSED_PIPELINE, "fuzz-paused", "Paused") == REF_OK);
    for (size_t i = 0; i < NUM_JOBS; i++) {
        FUZZ_CHECK(ref_service_seed_job(svc, s_jobs[i].id, s_jobs[i].pipeline, s_jobs[i].status) ==
                   REF_OK);
    }
    FUZZ_CHECK(ref_service_fail_job(svc, "2222222222222-errorj") == REF_OK);
    snapshot(&s_template, s_start_statuses);
    return svc;
}

/* Puts w into the starting state: the template's pipelines and jobs, an empty key cache,
 * the random source at its seed. */
static void world_start(struct world *w)
{
    if (w->svc == NULL) {
        world_new(w);
    }
    FUZZ_CHECK(ref_service_copy_state(w->svc, template_service()) == REF_OK);
    fuzz_rng_seed(&w->rng, FUZZ_RNG_SEED);
}

static void snapshot(struct world *w, const char *statuses[NUM_JOBS])
{
    for (size_t i = 0; i < NUM_JOBS; i++) {
        statuses[i] = ref_service_job_status(w->svc, s_jobs[i].id);
        FUZZ_CHECK(statuses[i] != NULL);
    }
}

/* A move test control may make: forward along the lifecycle, never to Submitted or
 * Canceled, never from an end (contract sections 3 and 9). */
static bool is_control_move(const char *from, const char *to)
{
    if (strcmp(from, "Submitted") == 0) {
        return strcmp(to, "Progressing") == 0 || strcmp(to, "Complete") == 0 ||
               strcmp(to, "Error") == 0;
    }
    if (strcmp(from, "Progressing") == 0) {
        return strcmp(to, "Complete") == 0 || strcmp(to, "Error") == 0;
    }
    return false;
}

/* The store's state machine, checked across one request. */
static void check_transitions(const char *before[NUM_JOBS],
                              const char *after[NUM_JOBS],
                              int http,
                              bool has_test_control)
{
    size_t changed = 0;
    for (size_t i = 0; i < NUM_JOBS; i++) {
        if (strcmp(before[i], after[i]) == 0) {
            continue;
        }
        if (has_test_control && http == 200) {
            FUZZ_CHECK(is_control_move(before[i], after[i]));
            continue;
        }
        changed++;
        FUZZ_CHECK(strcmp(before[i], "Submitted") == 0);
        FUZZ_CHECK(strcmp(after[i], "Canceled") == 0);
        FUZZ_CHECK(http == 202);
    }
    FUZZ_CHECK(changed <= 1);
}

static bool status_in_table(int http)
{
    if (http == 200 || http == 201 || http == 202) {
        return true;
    }
    for (int s = 0; s < REF_STATUS_COUNT; s++) {
        if (s != REF_OK && ref_status_http((enum ref_status)s) == http) {
            return true;
        }
    }
    return false;
}

static bool error_type_matches(int http, struct ref_slice type)
{
    for (int s = 0; s < REF_STATUS_COUNT; s++) {
        if (s != REF_OK && ref_status_http((enum ref_status)s) == http &&
            fuzz_slice_eq_cstr(type, ref_status_error_type((enum ref_status)s))) {
            return true;
        }
    }
    return false;
}

struct answer {
    int http;
    struct ref_slice error_type; /* empty on success */
    char request_id[37];
};

static json_t *load_json(struct ref_slice body)
{
    json_error_t jerr;
    /* JSON_ALLOW_NUL: a message may quote a value with a NUL in it, written as \u0000, which
     * is valid JSON that jansson refuses by default. */
    return json_loadb((const char *)body.ptr, body.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
}

/* Checks one raw response and summarises it. */
static void check_response(struct ref_slice raw, struct answer *a)
{
    static struct fuzz_response r;
    const char *why = NULL;
    if (!fuzz_parse_response(raw, &r, &why)) {
        fprintf(stderr, "malformed response (%s):\n%.*s\n", why, REF_SLICE_ARG(raw));
        FUZZ_CHECK(!"the response is well-formed HTTP/1.1");
    }
    a->http = r.status;
    FUZZ_CHECK(status_in_table(r.status));
    FUZZ_CHECK(r.status != 500);

    struct ref_slice v;
    FUZZ_CHECK(fuzz_response_header(&r, "x-amzn-RequestId", &v));
    FUZZ_CHECK(fuzz_is_uuid(v));
    memcpy(a->request_id, v.ptr, 36);
    a->request_id[36] = '\0';
    FUZZ_CHECK(fuzz_response_count(&r, "date") == 1);

    json_t *body = load_json(r.body);
    FUZZ_CHECK(body != NULL);
    FUZZ_CHECK(json_is_object(body));
    FUZZ_CHECK(fuzz_response_header(&r, "content-type", &v));
    FUZZ_CHECK(fuzz_slice_eq_cstr(v, "application/json"));
    if (r.status >= 400) {
        FUZZ_CHECK(fuzz_response_count(&r, "x-amzn-ErrorType") == 1);
        FUZZ_CHECK(fuzz_response_header(&r, "x-amzn-ErrorType", &a->error_type));
        FUZZ_CHECK(error_type_matches(r.status, a->error_type));
        FUZZ_CHECK(json_is_string(json_object_get(body, "message")));
    } else {
        a->error_type = (struct ref_slice){NULL, 0};
        FUZZ_CHECK(fuzz_response_count(&r, "x-amzn-ErrorType") == 0);
        if (r.status == 202) {
            FUZZ_CHECK(json_object_size(body) == 1);
            json_t *success = json_object_get(body, "Success");
            FUZZ_CHECK(json_is_string(success) && strcmp(json_string_value(success), "true") == 0);
        }
    }
    json_decref(body);
}

/* Answers raw on w and checks the answer, summarised into *a, and the store's change from
 * `before` (the jobs' statuses as w's previous answer left them, or the starting state) to
 * `after`, taken here. With `same_as`, the answer must instead be byte for byte that one,
 * which has been checked and summarised into *a already (the determinism check): identical
 * bytes pass the same checks, so they are not parsed a second time. */
static void handle(struct world *w,
                   struct ref_slice raw,
                   struct ref_buf *out,
                   struct answer *a,
                   const struct ref_buf *same_as,
                   const char *before[NUM_JOBS],
                   const char *after[NUM_JOBS])
{
    ref_buf_reset(out);
    FUZZ_CHECK(ref_service_handle(w->svc, raw, out) == REF_OK);
    if (same_as == NULL) {
        check_response(ref_buf_slice(out), a);
    } else {
        FUZZ_CHECK(fuzz_slice_eq(ref_buf_slice(out), ref_buf_slice(same_as)));
    }
    snapshot(w, after);
    check_transitions(before, after, a->http, w->has_test_control);
}

static bool is_auth_or_parse_failure(struct ref_slice type)
{
    static const char *const types[] = {
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "InvalidSignatureException",
        "UnrecognizedClientException",
        "BadRequestException",
        "RequestEntityTooLargeException",
        "RequestURITooLongException",
        "RequestHeaderFieldsTooLargeException",
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (fuzz_slice_eq_cstr(type, types[i])) {
            return true;
        }
    }
    return false;
}

static bool is_dropped_when_resigning(struct ref_slice name)
{
    static const char *const names[] = {"authorization",        "x-amz-date",
                                        "x-amz-security-token", "x-amz-content-sha256",
                                        "content-length",       "transfer-encoding"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (fuzz_slice_eq_nocase(name, ref_slice_from_cstr(names[i]))) {
            return true;
        }
    }
    return false;
}

/* Rebuilds req as a request signed by the main principal at the service's clock (the
 * pinned one, unless a control request moved it), with the decoded body and an exact
 * Content-Length. False when the signer refuses it. */
static bool resign(struct ref_service *svc, const struct ref_http_request *req, struct ref_buf *out)
{
    char amz_date[17];
    ref_sigv4_format_amz_date(ref_service_now_ms(svc) / 1000, amz_date);
    static struct ref_header headers[REF_MAX_HEADERS + 3];
    size_t n = 0;
    for (size_t i = 0; i < req->num_headers; i++) {
        if (!is_dropped_when_resigning(req->headers[i].name)) {
            headers[n++] = req->headers[i];
        }
    }
    char length[24];
    snprintf(length, sizeof(length), "%zu", req->body.len);
    headers[n++] =
        (struct ref_header){REF_SLICE_LIT("Content-Length"), ref_slice_from_cstr(length)};

    struct ref_sigv4_request sreq = {.method = req->method,
                                     .path = req->path,
                                     .query = req->query,
                                     .headers = headers,
                                     .num_headers = n,
                                     .body = req->body};
    struct ref_sigv4_sign_params p = {
        .access_key_id = ref_slice_from_cstr(REF_TEST_CRED_MAIN->access_key_id),
        .secret_access_key = ref_slice_from_cstr(REF_TEST_CRED_MAIN->secret_access_key),
        .region = REF_SLICE_LIT(REF_TEST_REGION),
        .service = REF_SLICE_LIT("elastictranscoder"),
        .amz_date = ref_slice_make(amz_date, 16),
        .signed_headers = NULL,
        .num_signed_headers = 0,
    };
    /* Kept from input to input (filled first): its bytes never outlive this call. */
    static struct ref_sigv4_signing_result signing;
    enum ref_status rc = ref_sigv4_sign_request(&p, &sreq, &signing, NULL);
    if (rc != REF_OK) {
        FUZZ_CHECK(rc == REF_E_MALFORMED || rc == REF_E_TOO_LARGE);
        FUZZ_CHECK(signing.num_headers == 0);
        return false;
    }
    /* X-Amz-Date, then Authorization, after the request's own headers. */
    FUZZ_CHECK(ref_sigv4_signing_result_apply(&signing, headers, &n, REF_MAX_HEADERS + 3) ==
               REF_OK);
    /* Slice by slice rather than printf, which would stop at a NUL byte. */
    struct ref_slice parts[6 + 4 * (REF_MAX_HEADERS + 3) + 1];
    size_t np = 0;
    parts[np++] = req->method;
    parts[np++] = REF_SLICE_LIT(" ");
    parts[np++] = req->target;
    parts[np++] = REF_SLICE_LIT(" ");
    parts[np++] = req->version;
    parts[np++] = REF_SLICE_LIT("\r\n");
    for (size_t i = 0; i < n; i++) {
        parts[np++] = headers[i].name;
        parts[np++] = REF_SLICE_LIT(": ");
        parts[np++] = headers[i].value;
        parts[np++] = REF_SLICE_LIT("\r\n");
    }
    parts[np++] = REF_SLICE_LIT("\r\n");
    bool ok = true;
    for (size_t i = 0; ok && i < np; i++) {
        ok = ref_buf_append_slice(out, parts[i]) == REF_OK;
    }
    ok = ok && ref_buf_append_slice(out, req->body) == REF_OK;
    ref_sigv4_signing_result_cleanup(&signing);
    return ok;
}

/* The buffers every input writes into. They stay allocated from input to input (a request
 * or a response grows them once; allocating and freeing them per input was a good part of
 * the time under ASan) and are emptied before each use, so no bytes carry over. */
static struct ref_buf s_out = {.max = REF_MAX_RESPONSE_BYTES + 4096};
static struct ref_buf s_out_twin = {.max = REF_MAX_RESPONSE_BYTES + 4096};
static struct ref_buf s_body = {.max = REF_MAX_BODY_BYTES};
static struct ref_buf s_signed = {.max = REF_MAX_REQUEST_BYTES};
static struct ref_buf s_check_body = {.max = REF_MAX_BODY_BYTES};

static bool parses(struct ref_slice raw)
{
    static struct ref_http_request req;
    struct ref_parse_error err;
    ref_buf_reset(&s_check_body);
    return ref_http_parse_request(raw, &req, &s_check_body, &err) == REF_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > REF_MAX_REQUEST_BYTES) {
        return 0;
    }
    struct ref_slice raw = {data, size};
    /* The control bit: test control on, for the request with that bit cleared. */
    static uint8_t s_request[REF_MAX_REQUEST_BYTES];
    bool has_test_control = size > 0 && (data[0] & 0x80) != 0;
    if (has_test_control) {
        memcpy(s_request, data, size);
        s_request[0] = (uint8_t)(data[0] & 0x7f);
        raw = (struct ref_slice){s_request, size};
    }

    /* Two services, both put into the starting state: the twin answers the input once, for
     * the determinism check; w answers it and then its re-signed form. One pair has test
     * control, the other not. */
    static struct world s_worlds[2][2] = {
        [true] = {{.has_test_control = true}, {.has_test_control = true}}};
    struct world *w = &s_worlds[has_test_control][0];
    struct world *twin = &s_worlds[has_test_control][1];
    world_start(w);
    world_start(twin);
    struct answer first;
    const char *after_first[NUM_JOBS];
    const char *after_twin[NUM_JOBS];
    handle(w, raw, &s_out, &first, NULL, s_start_statuses, after_first);
    handle(twin, raw, &s_out_twin, &first, &s_out, s_start_statuses, after_twin);

    /* Re-signed, on the same service (so state carries over). */
    static struct ref_http_request req;
    struct ref_parse_error err;
    ref_buf_reset(&s_body);
    if (ref_http_parse_request(raw, &req, &s_body, &err) != REF_OK) {
        return 0;
    }
    ref_buf_reset(&s_signed);
    if (!resign(w->svc, &req, &s_signed)) {
        return 0;
    }
    struct answer resigned;
    const char *after_resigned[NUM_JOBS];
    handle(w, ref_buf_slice(&s_signed), &s_out, &resigned, NULL, after_first, after_resigned);
    FUZZ_CHECK(strcmp(resigned.request_id, first.request_id) != 0);
    /* Refused for its signature or its framing: a failure unless the re-signed request does
     * not parse either (the signer is only promised requests a strict parser produces), which
     * is only worth finding out then. */
    if (is_auth_or_parse_failure(resigned.error_type) && parses(ref_buf_slice(&s_signed))) {
        fprintf(stderr, "re-signed request refused:\n%.*s\n--- answer:\n%.*s\n",
                REF_SLICE_ARG(ref_buf_slice(&s_signed)), REF_SLICE_ARG(ref_buf_slice(&s_out)));
        FUZZ_CHECK(!"a request signed by etch passes authentication");
    }
    return 0;
}
