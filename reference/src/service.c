/* SPDX-License-Identifier: Apache-2.0
 *
 * service.c - the reference service: one request in, one answer out.
 *
 * Every request goes through the same steps, in the order the real front end uses
 * (contract sections 5 and 8): advance the scheduler, verify the SigV4 signature, normalise
 * the path and route it (the path that is signed is the path that is routed), decide
 * whether the caller may call the operation, then decode the labels, validate the
 * parameters and run the operation. The first step that fails answers, in the error form
 * of contract section 4. The ten operations are one table, s_ops; they live with their
 * resources (service_job.c, service_pipeline.c), the helpers they share in service_op.c,
 * and the scheduler and the in-process hooks in service_sched.c.
 *
 * The service owns the store and copies its configuration; the credentials stay borrowed.
 */
#define _POSIX_C_SOURCE 200809L

#include "ref/service.h"

#include "ref/job_store.h"
#include "ref/limits.h"
#include "ref/mem.h"
#include "ref/uri.h"
#include "service_internal.h"
#include "uri_internal.h"

#include <jansson.h>
#include <openssl/rand.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define SIGNING_SERVICE        "elastictranscoder"
#define DEFAULT_SKEW_S         300
#define DEFAULT_START_DELAY_MS 2000
#define DEFAULT_RUN_TIME_MS    5000
/* Error messages: validation lists echo values, so leave them room. */
#define MESSAGE_MAX_BYTES (REF_MAX_RESPONSE_BYTES / 2)
/* Request Ids come from a per-thread block of this many random bytes (begin_request). */
#define RANDOM_BLOCK_BYTES 4096
/* Stack space for the normalised path and the decoded label of ordinary requests. */
#define PATH_STACK_BYTES 1024

const struct ref_credential ref_test_credentials[3] = {
    {.access_key_id = "AKIDEXAMPLE",
     .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
     .session_token = NULL,
     .role = REF_ROLE_FULL},
    {.access_key_id = "AKIDREADONLY",
     .secret_access_key = "readonly/secret/key/EXAMPLEKEY0000000000000",
     .session_token = NULL,
     .role = REF_ROLE_READ_ONLY},
    {.access_key_id = "AKIDSESSION",
     .secret_access_key = "session/secret/key/EXAMPLEKEY00000000000000",
     .session_token = "etch/session/token/EXAMPLE",
     .role = REF_ROLE_FULL},
};

typedef enum ref_status op_fn(struct ref_op_ctx *c);

/* --- Environment -------------------------------------------------------------------- */

void ref_service_config_defaults(struct ref_service_config *cfg)
{
    *cfg = (struct ref_service_config){.region = REF_TEST_REGION,
                                       .account_id = REF_TEST_ACCOUNT_ID,
                                       .credentials = ref_test_credentials,
                                       .num_credentials = 3,
                                       .skew_s = DEFAULT_SKEW_S,
                                       .start_delay_ms = DEFAULT_START_DELAY_MS,
                                       .run_time_ms = DEFAULT_RUN_TIME_MS,
                                       .page_size = REF_DEFAULT_PAGE_SIZE,
                                       .max_pipelines = REF_MAX_PIPELINES,
                                       .max_queued_jobs = REF_MAX_QUEUED_JOBS,
                                       .key_cache_entries = REF_SIGV4_KEY_CACHE_DEFAULT_ENTRIES};
}

int64_t ref_svc_now_ms(struct ref_service *svc)
{
    /* Once test control has moved the clock, it stands in for the env's everywhere. */
    int64_t virtual_ms = atomic_load_explicit(&svc->virtual_now_ms, memory_order_acquire);
    return virtual_ms != REF_CLOCK_REAL ? virtual_ms : ref_svc_env_now_ms(svc);
}

int64_t ref_svc_env_now_ms(struct ref_service *svc)
{
    if (svc->cfg.env.now_ms != NULL) {
        return svc->cfg.env.now_ms(svc->cfg.env.ctx);
    }
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return 0;
    }
    return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

static enum ref_status svc_random(void *ctx, uint8_t *out, size_t n)
{
    struct ref_service *svc = ctx;
    if (svc->cfg.env.random_bytes == NULL) {
        if (n > INT_MAX || RAND_bytes(out, (int)n) != 1) {
            return REF_E_INTERNAL;
        }
        return REF_OK;
    }
    pthread_mutex_lock(&svc->env_lock);
    svc->cfg.env.random_bytes(svc->cfg.env.ctx, out, n);
    pthread_mutex_unlock(&svc->env_lock);
    return REF_OK;
}

/* Request Ids need to be unique, not secret, and one RAND_bytes call costs microseconds in
 * OpenSSL 3 whatever its size: with the default random source they are cut from a
 * per-thread block of RAND_bytes output, refilled every RANDOM_BLOCK_BYTES / 16 requests.
 * An injected random source (tests, fuzz targets) is called for every Id, as before. */
static _Thread_local struct {
    uint8_t bytes[RANDOM_BLOCK_BYTES];
    size_t used;
} s_id_random = {.used = RANDOM_BLOCK_BYTES};

static enum ref_status request_id_random(struct ref_service *svc, uint8_t out[16])
{
    if (svc->cfg.env.random_bytes != NULL) {
        return svc_random(svc, out, 16);
    }
    if (s_id_random.used + 16 > sizeof s_id_random.bytes) {
        if (RAND_bytes(s_id_random.bytes, (int)sizeof s_id_random.bytes) != 1) {
            return REF_E_INTERNAL;
        }
        s_id_random.used = 0;
    }
    for (size_t i = 0; i < 16; i++) {
        out[i] = s_id_random.bytes[s_id_random.used + i];
    }
    s_id_random.used += 16;
    return REF_OK;
}

static char *dup_cstr(const char *s)
{
    struct ref_slice in = ref_slice_from_cstr(s);
    struct ref_buf b;
    ref_buf_init(&b, in.len + 1);
    if (ref_buf_append_slice(&b, in) != REF_OK || ref_buf_nul_terminate(&b) != REF_OK) {
        ref_buf_cleanup(&b);
        return NULL;
    }
    return (char *)b.data;
}

struct ref_service *ref_service_new(const struct ref_service_config *cfg)
{
    struct ref_service *svc = ref_mem_calloc(1, sizeof(*svc));
    if (svc == NULL) {
        return NULL;
    }
    struct ref_service_config d;
    ref_service_config_defaults(&d);
    svc->cfg = cfg != NULL ? *cfg : d;
    /* Zero or NULL settings take the defaults, so a partly filled config works; the two
     * durations only when negative, since zero (start or finish at once) is a real choice. */
    struct ref_service_config *c = &svc->cfg;
    c->region = c->region != NULL ? c->region : d.region;
    c->account_id = c->account_id != NULL ? c->account_id : d.account_id;
    if (c->credentials == NULL) {
        c->credentials = d.credentials;
        c->num_credentials = d.num_credentials;
    }
    c->skew_s = c->skew_s > 0 ? c->skew_s : d.skew_s;
    c->start_delay_ms = c->start_delay_ms >= 0 ? c->start_delay_ms : d.start_delay_ms;
    c->run_time_ms = c->run_time_ms >= 0 ? c->run_time_ms : d.run_time_ms;
    c->page_size = c->page_size > 0 ? c->page_size : d.page_size;
    c->max_pipelines = c->max_pipelines > 0 ? c->max_pipelines : d.max_pipelines;
    c->max_queued_jobs = c->max_queued_jobs > 0 ? c->max_queued_jobs : d.max_queued_jobs;

    c->key_cache_entries =
        c->key_cache_entries > 0 ? c->key_cache_entries : REF_SIGV4_KEY_CACHE_DEFAULT_ENTRIES;

    atomic_init(&svc->quiet_until_ms, INT64_MIN);
    atomic_init(&svc->virtual_now_ms, REF_CLOCK_REAL);
    svc->region = dup_cstr(c->region);
    svc->account_id = dup_cstr(c->account_id);
    if (svc->region == NULL || svc->account_id == NULL ||
        pthread_mutex_init(&svc->env_lock, NULL) != 0) {
        ref_mem_free(svc->region);
        ref_mem_free(svc->account_id);
        ref_mem_free(svc);
        return NULL;
    }
    if (pthread_mutex_init(&svc->sched_lock, NULL) != 0) {
        pthread_mutex_destroy(&svc->env_lock);
        ref_mem_free(svc->region);
        ref_mem_free(svc->account_id);
        ref_mem_free(svc);
        return NULL;
    }
    c->region = svc->region;
    c->account_id = svc->account_id;
    svc->verifier = (struct ref_sigv4_verifier){.credentials = c->credentials,
                                                .num_credentials = c->num_credentials,
                                                .region = svc->region,
                                                .service = SIGNING_SERVICE,
                                                .skew_s = c->skew_s};
    /* Created before the store so that a failure of either frees through one path. */
    if (!c->is_key_cache_disabled) {
        svc->key_cache = ref_sigv4_key_cache_new(c->key_cache_entries);
        if (svc->key_cache == NULL) {
            ref_service_free(svc);
            return NULL;
        }
        svc->verifier.key_cache = svc->key_cache;
    }
    struct ref_job_store_config store_cfg = {.start_delay_ms = c->start_delay_ms,
                                             .run_time_ms = c->run_time_ms,
                                             .page_size = c->page_size,
                                             .max_pipelines = c->max_pipelines,
                                             .max_queued_jobs = c->max_queued_jobs,
                                             .random = svc_random,
                                             .random_ctx = svc};
    svc->store = ref_job_store_new(&store_cfg);
    if (svc->store == NULL) {
        ref_service_free(svc);
        return NULL;
    }
    return svc;
}

void ref_service_free(struct ref_service *svc)
{
    if (svc == NULL) {
        return;
    }
    ref_job_store_free(svc->store);
    ref_sigv4_key_cache_free(svc->key_cache);
    pthread_mutex_destroy(&svc->env_lock);
    pthread_mutex_destroy(&svc->sched_lock);
    ref_mem_free(svc->region);
    ref_mem_free(svc->account_id);
    ref_mem_free(svc);
}

enum ref_status ref_service_copy_state(struct ref_service *svc, struct ref_service *from)
{
    if (svc == from) {
        return REF_OK;
    }
    REF_TRY(ref_job_store_copy(svc->store, from->store));
    ref_sigv4_key_cache_clear(svc->key_cache);
    /* The clock is part of the state: a virtual one is copied, a real one stays real. */
    atomic_store_explicit(&svc->virtual_now_ms,
                          atomic_load_explicit(&from->virtual_now_ms, memory_order_acquire),
                          memory_order_release);
    /* The quiet window was the old store's. Moving the generation also stops an advance
     * that scanned the old store from storing its window afterwards. */
    ref_svc_schedule_changed(svc);
    return REF_OK;
}

/* --- Answers ------------------------------------------------------------------------- */

/* Starts an answer: the time, the scheduler, a fresh request Id. */
static enum ref_status begin_request(struct ref_service *svc, struct ref_response *resp)
{
    int64_t now_ms = ref_svc_now_ms(svc);
    resp->date_ms = now_ms;
    resp->status = REF_OK;
    resp->http_status = 0;
    resp->op = REF_OP_NONE;
    ref_buf_reset(&resp->body);
    ref_svc_advance(svc, now_ms);
    uint8_t rnd[16];
    enum ref_status rc = request_id_random(svc, rnd);
    if (rc != REF_OK) {
        /* Still answer with a well-formed Id; the request fails as internal. */
        for (size_t i = 0; i < sizeof(rnd); i++) {
            rnd[i] = 0;
        }
    }
    ref_out_uuid_v4(rnd, resp->request_id);
    return rc;
}

/* The error form of contract section 4; message empty means the status's default. */
static enum ref_status
answer_error(struct ref_response *resp, enum ref_status status, struct ref_slice message)
{
    if (status == REF_OK || (unsigned)status >= REF_STATUS_COUNT) {
        status = REF_E_INTERNAL;
        message = (struct ref_slice){NULL, 0};
    }
    resp->status = status;
    resp->http_status = ref_status_http(status);
    ref_buf_reset(&resp->body);
    if (message.len == 0) {
        message = ref_slice_from_cstr(ref_status_message(status));
    }
    enum ref_status rc = ref_out_error_body(message, &resp->body);
    if (rc != REF_OK) {
        /* A body that cannot be built is itself an internal failure: try the short one. */
        resp->status = REF_E_NOMEM;
        resp->http_status = ref_status_http(REF_E_NOMEM);
        ref_buf_reset(&resp->body);
        rc = ref_out_error_body(ref_slice_from_cstr(ref_status_message(REF_E_NOMEM)), &resp->body);
    }
    return rc;
}

/* The ten operations (contract section 1). The two that can bring a start or finish
 * forward, CreateJob and UpdatePipelineStatus to Active, tell the scheduler themselves:
 * a new pipeline has no jobs, and the others only read or end jobs. */
static op_fn *const s_ops[REF_OP_COUNT] = {
    [REF_OP_CANCEL_JOB] = ref_svc_cancel_job,
    [REF_OP_CREATE_JOB] = ref_svc_create_job,
    [REF_OP_READ_JOB] = ref_svc_read_job,
    [REF_OP_LIST_JOBS_BY_PIPELINE] = ref_svc_list_jobs_by_pipeline,
    [REF_OP_LIST_JOBS_BY_STATUS] = ref_svc_list_jobs_by_status,
    [REF_OP_CREATE_PIPELINE] = ref_svc_create_pipeline,
    [REF_OP_READ_PIPELINE] = ref_svc_read_pipeline,
    [REF_OP_LIST_PIPELINES] = ref_svc_list_pipelines,
    [REF_OP_UPDATE_PIPELINE_STATUS] = ref_svc_update_pipeline_status,
    [REF_OP_DELETE_PIPELINE] = ref_svc_delete_pipeline,
};

/* --- The request pipeline --------------------------------------------------------- */

static bool may_call(const struct ref_credential *cred, enum ref_op op)
{
    if (cred == NULL) {
        return false;
    }
    switch (cred->role) {
        case REF_ROLE_FULL:
            return true;
        case REF_ROLE_READ_ONLY:
            return ref_op_is_read(op);
        default:
            return false; /* an unknown role may call nothing */
    }
}

static int64_t floor_div_1000(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-(ms + 1)) / 1000) - 1;
}

/* Everything after begin_request. Returns REF_OK with an answer in resp, or the status to
 * answer (with msg set when it has a specific message). */
static enum ref_status handle_steps(struct ref_service *svc,
                                    const struct ref_http_request *req,
                                    struct ref_response *resp,
                                    struct ref_buf *msg,
                                    struct ref_buf *path,
                                    struct ref_buf *label)
{
    /* 1. Authentication (contract section 5): nothing else is looked at before it. */
    struct ref_sigv4_request sreq = {.method = req->method,
                                     .path = req->path,
                                     .query = req->query,
                                     .headers = req->headers,
                                     .num_headers = req->num_headers,
                                     .body = req->body};
    struct ref_sigv4_outcome outcome; /* ref_sigv4_verify sets it up first thing */
    enum ref_status rc =
        ref_sigv4_verify(&svc->verifier, &sreq, floor_div_1000(resp->date_ms), &outcome, NULL);
    if (rc != REF_OK) {
        outcome.message[sizeof(outcome.message) - 1] = '\0';
        REF_TRY(ref_buf_append_cstr(msg, outcome.message));
        return rc;
    }

    /* 2. Routing, on the same normalised path the signature covers. */
    struct ref_slice normal = req->path;
    if (!ref_uri_path_is_normal(normal)) {
        REF_TRY(ref_uri_normalize_path(req->path, path));
        normal = ref_buf_slice(path);
    }
    /* Test control (contract section 9) has its own paths, routed by service_control.c; a
     * service without it routes them like any other path, to an unknown operation. */
    if (svc->cfg.has_test_control && ref_svc_is_control_path(normal)) {
        struct ref_op_ctx control = {
            .svc = svc, .req = req, .resp = resp, .now_ms = resp->date_ms, .msg = msg};
        ref_buf_reset(msg);
        return ref_svc_control(&control, normal, outcome.credential, label);
    }
    struct ref_route route = {0};
    rc = ref_route_match(req->method, normal, &route);
    resp->op = route.op;
    if (rc != REF_OK) {
        return rc;
    }
    if ((unsigned)route.op >= REF_OP_COUNT || s_ops[route.op] == NULL) {
        return REF_E_UNKNOWN_OPERATION;
    }

    /* 3. Authorization: after routing, before any parameter is looked at (section 8). */
    if (!may_call(outcome.credential, route.op)) {
        return REF_E_ACCESS_DENIED;
    }

    /* 4. Labels are percent-decoded exactly once; a label that cannot be decoded stays as
     * sent and then fails its pattern. */
    struct ref_slice decoded = route.label;
    if (route.label.len > 0 && ref_slice_find(route.label, '%') < route.label.len &&
        ref_uri_decode(route.label, label, NULL) == REF_OK) {
        /* Only a label with an escape needs a decoded copy; any other decodes to itself. */
        decoded = ref_buf_slice(label);
    }
    struct ref_op_ctx c = {.svc = svc,
                           .req = req,
                           .resp = resp,
                           .now_ms = resp->date_ms,
                           .label = decoded,
                           .msg = msg};
    ref_buf_reset(msg);
    return s_ops[route.op](&c);
}

enum ref_status ref_service_handle_parsed(struct ref_service *svc,
                                          const struct ref_http_request *req,
                                          struct ref_response *resp)
{
    struct ref_buf msg;
    struct ref_buf path;
    struct ref_buf label;
    ref_buf_init(&msg, MESSAGE_MAX_BYTES);
    /* Normalising never lengthens a path by more than its final '/', and a label is part
     * of it: ordinary requests keep both on the stack. */
    uint8_t path_stack[PATH_STACK_BYTES];
    uint8_t label_stack[PATH_STACK_BYTES];
    if (req->path.len + 2 <= PATH_STACK_BYTES) {
        ref_buf_init_fixed(&path, path_stack, sizeof(path_stack));
        ref_buf_init_fixed(&label, label_stack, sizeof(label_stack));
    } else {
        ref_buf_init(&path, REF_MAX_TARGET_BYTES);
        ref_buf_init(&label, REF_MAX_TARGET_BYTES);
    }
    enum ref_status rc = begin_request(svc, resp);
    if (rc == REF_OK) {
        rc = handle_steps(svc, req, resp, &msg, &path, &label);
    }
    if (rc != REF_OK) {
        rc = answer_error(resp, rc, ref_buf_slice(&msg));
    }
    ref_buf_cleanup(&msg);
    ref_buf_cleanup(&path);
    ref_buf_cleanup(&label);
    return rc;
}

enum ref_status
ref_service_handle_raw(struct ref_service *svc, struct ref_slice raw, struct ref_response *resp)
{
    struct ref_http_request req;
    struct ref_buf body;
    struct ref_parse_error perr = {0};
    ref_buf_init(&body, REF_MAX_BODY_BYTES);
    enum ref_status rc = ref_http_parse_request(raw, &req, &body, &perr);
    if (rc == REF_OK) {
        rc = ref_service_handle_parsed(svc, &req, resp);
    } else {
        /* Unparseable or oversized input: the status's code, in the error form. */
        enum ref_status parse_rc = rc;
        (void)begin_request(svc, resp);
        resp->is_closing = true;
        struct ref_buf msg;
        ref_buf_init(&msg, 1024);
        if (perr.reason != NULL &&
            ref_buf_appendf(&msg, "%s (%s)", ref_status_message(parse_rc), perr.reason) != REF_OK) {
            ref_buf_reset(&msg);
        }
        rc = answer_error(resp, parse_rc, ref_buf_slice(&msg));
        ref_buf_cleanup(&msg);
    }
    ref_buf_cleanup(&body);
    return rc;
}

enum ref_status
ref_service_handle(struct ref_service *svc, struct ref_slice raw, struct ref_buf *out)
{
    struct ref_response resp;
    ref_response_init(&resp);
    enum ref_status rc = ref_service_handle_raw(svc, raw, &resp);
    if (rc == REF_OK) {
        rc = ref_response_write_http(&resp, out);
    }
    ref_response_cleanup(&resp);
    return rc;
}
