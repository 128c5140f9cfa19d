/* SPDX-License-Identifier: Apache-2.0
 *
 * service.c - the reference service: one request in, one answer out.
 *
 * Every request goes through the same steps, in the order the real front end uses
 * (contract sections 5 and 8): advance the scheduler, verify the SigV4 signature, normalise
 * the path and route it (the path that is signed is the path that is routed), decide
 * whether the caller may call the operation, then decode the labels, validate the
 * parameters and run the operation. The first step that fails answers, in the error form
 * of contract section 4. The ten operations are one table, s_ops.
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
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
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

struct ref_service {
    struct ref_service_config cfg;
    char *region; /* owned copies of the config's strings */
    char *account_id;
    struct ref_sigv4_verifier verifier;
    struct ref_sigv4_key_cache *key_cache; /* NULL when the config turns it off */
    struct ref_job_store *store;
    /* The env's random source need not be thread-safe; every call goes through this lock.
     * Lock order: store lock, then env_lock (the store draws Id bytes while locked). */
    pthread_mutex_t env_lock;
    /* The scheduler's quiet window: no start or finish is due before quiet_until_ms, so a
     * request before then need not have the store scan its queued jobs (a scan costs time
     * in proportion to them). INT64_MIN means "not known": scan. Only two things bring an
     * event forward: a new job, which lowers the window to its own event, and a pipeline
     * activated, which resets it. Both bump sched_generation under sched_lock, so a window
     * computed before the change is never stored after it (advance). Ending a job only
     * takes an event away: the window then ends early, which costs a scan, never a miss. */
    _Atomic int64_t quiet_until_ms;
    pthread_mutex_t sched_lock;
    uint64_t sched_generation;
};

/* What an operation sees. Operations return REF_OK after writing a success answer into
 * resp, or the status to answer with (and, optionally, its message in msg). */
struct op_ctx {
    struct ref_service *svc;
    const struct ref_http_request *req;
    struct ref_response *resp;
    int64_t now_ms;
    struct ref_slice label; /* percent-decoded once */
    struct ref_buf *msg;
};

typedef enum ref_status op_fn(struct op_ctx *c);

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

static int64_t svc_now_ms(struct ref_service *svc)
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

/* --- Scheduler ----------------------------------------------------------------------- */

/* Applies the starts and finishes due at now_ms, unless the quiet window says none is. */
static void advance(struct ref_service *svc, int64_t now_ms)
{
    if (now_ms < atomic_load_explicit(&svc->quiet_until_ms, memory_order_acquire)) {
        return;
    }
    pthread_mutex_lock(&svc->sched_lock);
    uint64_t generation = svc->sched_generation;
    pthread_mutex_unlock(&svc->sched_lock);
    (void)ref_job_store_advance(svc->store, now_ms);
    int64_t next_ms = 0;
    int64_t quiet_ms = ref_job_store_next_event_ms(svc->store, &next_ms) ? next_ms : INT64_MAX;
    pthread_mutex_lock(&svc->sched_lock);
    if (svc->sched_generation == generation) {
        atomic_store_explicit(&svc->quiet_until_ms, quiet_ms, memory_order_release);
    }
    pthread_mutex_unlock(&svc->sched_lock);
}

/* Called after a pipeline was activated: the starts of all its Submitted jobs may now be
 * earlier than the window's end, so the next request scans again. */
static void schedule_changed(struct ref_service *svc)
{
    pthread_mutex_lock(&svc->sched_lock);
    svc->sched_generation++;
    atomic_store_explicit(&svc->quiet_until_ms, INT64_MIN, memory_order_release);
    pthread_mutex_unlock(&svc->sched_lock);
}

/* Called after a job was created. No other job's events move, so lowering the window to
 * the new job's own event keeps it right without a scan: a scan after every new job would
 * make creating n jobs cost n squared. The generation moves even when the window stays,
 * because an advance that scanned before the job existed must not store a window that
 * leaves the job out. */
static void schedule_job_added(struct ref_service *svc, const struct ref_job_info *job)
{
    pthread_mutex_lock(&svc->sched_lock);
    svc->sched_generation++;
    if (job->has_next_event &&
        job->next_event_ms < atomic_load_explicit(&svc->quiet_until_ms, memory_order_relaxed)) {
        atomic_store_explicit(&svc->quiet_until_ms, job->next_event_ms, memory_order_release);
    }
    pthread_mutex_unlock(&svc->sched_lock);
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
    /* The quiet window was the old store's. Moving the generation also stops an advance
     * that scanned the old store from storing its window afterwards. */
    schedule_changed(svc);
    return REF_OK;
}

/* --- Answers ------------------------------------------------------------------------- */

/* Starts an answer: the time, the scheduler, a fresh request Id. */
static enum ref_status begin_request(struct ref_service *svc, struct ref_response *resp)
{
    int64_t now_ms = svc_now_ms(svc);
    resp->date_ms = now_ms;
    resp->status = REF_OK;
    resp->http_status = 0;
    resp->op = REF_OP_NONE;
    ref_buf_reset(&resp->body);
    advance(svc, now_ms);
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

/* A success answer; takes the reference to body. */
static enum ref_status answer(struct op_ctx *c, int http_status, json_t *body)
{
    if (body == NULL) {
        return REF_E_NOMEM;
    }
    ref_buf_reset(&c->resp->body);
    enum ref_status rc = ref_out_dump(body, &c->resp->body);
    json_decref(body);
    if (rc == REF_E_TOO_LARGE) {
        /* Our own answer outgrew REF_MAX_RESPONSE_BYTES: no fault of the request's size. */
        return REF_E_INTERNAL;
    }
    if (rc != REF_OK) {
        return rc;
    }
    c->resp->status = REF_OK;
    c->resp->http_status = http_status;
    return REF_OK;
}

static enum ref_status answer_success_true(struct op_ctx *c)
{
    /* The bytes jansson writes for {"Success": "true"} in compact form, without building
     * and serialising a tree for a body that never changes (CancelJob's hot path). */
    static const char body[] = "{\"Success\":\"true\"}";
    ref_buf_reset(&c->resp->body);
    REF_TRY(ref_buf_append(&c->resp->body, body, sizeof(body) - 1));
    c->resp->status = REF_OK;
    c->resp->http_status = 202;
    return REF_OK;
}

/* Sets the message for an error return and passes the status through. */
static enum ref_status fail(struct op_ctx *c, enum ref_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum ref_status fail(struct op_ctx *c, enum ref_status status, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ref_buf_reset(c->msg);
    if (n > 0 && (size_t)n < sizeof(text) && ref_buf_append(c->msg, text, (size_t)n) != REF_OK) {
        ref_buf_reset(c->msg);
    }
    return status;
}

/* Ends validation: REF_OK when nothing failed, else REF_E_VALIDATION with the message. */
static enum ref_status verr_finish(struct op_ctx *c, struct ref_verr *v)
{
    if (v->count == 0) {
        return REF_OK;
    }
    ref_buf_reset(c->msg);
    REF_TRY(ref_verr_message(v, c->msg));
    return REF_E_VALIDATION;
}

/* --- Parameters -------------------------------------------------------------------- */

/* The label as an Id, recorded under member `member` when it is not one. */
static enum ref_status check_id_label(struct op_ctx *c, struct ref_verr *v, const char *member)
{
    if (ref_job_id_is_valid(c->label)) {
        return REF_OK;
    }
    return ref_verr_pattern(v, c->label, member, REF_PATTERN_ID);
}

struct list_params {
    bool is_descending;
    struct ref_buf token; /* decoded PageToken; empty when absent */
};

/* Ascending and PageToken from the query string (decoded once; the first of a repeated
 * parameter counts; other parameters are ignored, as the service ignores them). */
static enum ref_status parse_list_query(struct op_ctx *c, struct ref_verr *v, struct list_params *p)
{
    struct ref_query_param params[REF_MAX_QUERY_PARAMS];
    size_t count = 0;
    REF_TRY(ref_uri_split_query(c->req->query, params, REF_MAX_QUERY_PARAMS, &count));
    bool has_ascending = false;
    bool has_token = false;
    struct ref_buf name;
    struct ref_buf value;
    ref_buf_init(&name, REF_MAX_TARGET_BYTES);
    ref_buf_init(&value, REF_MAX_TARGET_BYTES);
    enum ref_status rc = REF_OK;
    for (size_t i = 0; i < count && rc == REF_OK; i++) {
        ref_buf_reset(&name);
        ref_buf_reset(&value);
        struct ref_slice n = params[i].name;
        struct ref_slice val = params[i].value;
        if (ref_uri_decode(params[i].name, &name, NULL) == REF_OK) {
            n = ref_buf_slice(&name);
        }
        if (ref_uri_decode(params[i].value, &value, NULL) == REF_OK) {
            val = ref_buf_slice(&value);
        }
        if (ref_slice_eq_cstr(n, "Ascending") && !has_ascending) {
            has_ascending = true;
            if (ref_slice_eq_cstr(val, "false")) {
                p->is_descending = true;
            } else if (!ref_slice_eq_cstr(val, "true")) {
                rc = ref_verr_pattern(v, val, "ascending", REF_PATTERN_ASCENDING);
            }
        } else if (ref_slice_eq_cstr(n, "PageToken") && !has_token) {
            has_token = true;
            if (!ref_job_id_is_valid(val)) {
                rc = ref_verr_pattern(v, val, "pageToken", REF_PATTERN_ID);
            } else {
                rc = ref_buf_append_slice(&p->token, val);
            }
        }
    }
    ref_buf_cleanup(&name);
    ref_buf_cleanup(&value);
    return rc;
}

/* Parses the body as one JSON object. REF_E_VALIDATION (with the message) otherwise. */
static enum ref_status parse_body(struct op_ctx *c, json_t **out)
{
    *out = NULL;
    /* Zeroed: when jansson runs out of memory before it starts reading it returns NULL
     * without filling jerr in, and an empty message can only mean that. */
    json_error_t jerr = {0};
    struct ref_slice body = c->req->body;
    const char *text = body.ptr != NULL ? (const char *)body.ptr : "";
    json_t *doc = json_loadb(text, body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory || jerr.text[0] == '\0') {
            return REF_E_NOMEM;
        }
        return fail(c, REF_E_VALIDATION,
                    "The request body is not valid JSON: %s (line %d, column %d)", jerr.text,
                    jerr.line, jerr.column);
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return fail(c, REF_E_VALIDATION, "The request body must be a JSON object.");
    }
    *out = doc;
    return REF_OK;
}

/* A member that is present and not null. */
static json_t *member(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* --- Job operations ----------------------------------------------------------------- */

/* The pipeline `id` (an Id by now) does not exist: moto's wording, which it verified
 * against the live service (contract section 4). Every operation that names a pipeline
 * answers it, CreateJob and ListJobsByPipeline included. */
static enum ref_status pipeline_not_found(struct op_ctx *c, struct ref_slice id)
{
    return fail(c, REF_E_NOT_FOUND,
                "The specified pipeline was not found: account=%s, pipelineId=" REF_SLICE_FMT ".",
                c->svc->account_id, REF_SLICE_ARG(id));
}

static enum ref_status store_failure(struct op_ctx *c, enum ref_status rc, const char *what)
{
    switch (rc) {
        case REF_E_NOT_FOUND:
            return fail(c, rc, "The specified %s was not found.", what);
        default:
            return rc;
    }
}

/* The check of the operations whose only input is an Id label (CancelJob, ReadJob,
 * ReadPipeline, DeletePipeline): REF_OK, or the validation answer's status. */
static enum ref_status validate_id_label_only(struct op_ctx *c)
{
    struct ref_verr v;
    ref_verr_init(&v);
    enum ref_status rc = check_id_label(c, &v, "id");
    if (rc == REF_OK) {
        rc = verr_finish(c, &v);
    }
    ref_verr_cleanup(&v);
    return rc;
}

static enum ref_status op_cancel_job(struct op_ctx *c)
{
    REF_TRY(validate_id_label_only(c));
    struct ref_job_change change;
    enum ref_status rc =
        ref_job_store_apply(c->svc->store, c->label, REF_JOB_EV_CANCEL, c->now_ms, &change);
    if (rc == REF_E_IN_USE) {
        return fail(c, rc, "Only a job in Submitted status can be canceled.");
    }
    if (rc != REF_OK) {
        return store_failure(c, rc, "job");
    }
    return answer_success_true(c);
}

static enum ref_status op_read_job(struct op_ctx *c)
{
    REF_TRY(validate_id_label_only(c));
    struct ref_job_info info;
    enum ref_status rc = ref_job_store_read_job(c->svc->store, c->label, &info);
    if (rc != REF_OK) {
        return store_failure(c, rc, "job");
    }
    json_t *job = ref_out_job(&info, c->svc->region, c->svc->account_id);
    ref_job_info_cleanup(&info);
    return answer(c, 200, job != NULL ? json_pack("{s:o}", "Job", job) : NULL);
}

static json_t *jobs_body(struct op_ctx *c, const struct ref_job_page *page)
{
    json_t *jobs = json_array();
    json_t *token = page->has_next ? json_stringn(page->next_token, REF_ID_LEN) : json_null();
    int bad = (jobs == NULL || token == NULL);
    for (size_t i = 0; i < page->count && !bad; i++) {
        bad |= json_array_append_new(
            jobs, ref_out_job(&page->items[i], c->svc->region, c->svc->account_id));
    }
    if (bad) {
        json_decref(jobs);
        json_decref(token);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "Jobs", jobs, "NextPageToken", token);
}

/* ListJobsByPipeline and ListJobsByStatus: the label is the filter. */
static enum ref_status list_jobs(struct op_ctx *c, bool is_by_pipeline)
{
    struct ref_verr v;
    ref_verr_init(&v);
    struct list_params p = {0};
    ref_buf_init(&p.token, REF_ID_LEN);
    struct ref_job_query q = {0};
    enum ref_status rc;
    if (is_by_pipeline) {
        rc = check_id_label(c, &v, "pipelineId");
        q.pipeline_id = c->label;
    } else {
        q.status = ref_job_status_from_name(c->label);
        rc = q.status != REF_JOB_STATUS_NONE
                 ? REF_OK
                 : ref_verr_pattern(&v, c->label, "status", REF_PATTERN_JOB_STATUS);
    }
    if (rc == REF_OK) {
        rc = parse_list_query(c, &v, &p);
    }
    if (rc == REF_OK) {
        rc = verr_finish(c, &v);
    }
    struct ref_job_page page = {0};
    if (rc == REF_OK) {
        q.is_descending = p.is_descending;
        q.page_token = ref_buf_slice(&p.token);
        rc = ref_job_store_list_jobs(c->svc->store, &q, &page);
        if (rc == REF_E_VALIDATION) {
            rc = fail(c, rc, "The page token was not issued by this service.");
        } else if (rc == REF_E_NOT_FOUND) {
            rc = pipeline_not_found(c, c->label);
        } else if (rc != REF_OK) {
            rc = store_failure(c, rc, "pipeline");
        } else {
            rc = answer(c, 200, jobs_body(c, &page));
        }
    }
    ref_job_page_cleanup(&page);
    ref_buf_cleanup(&p.token);
    ref_verr_cleanup(&v);
    return rc;
}

static enum ref_status op_list_jobs_by_pipeline(struct op_ctx *c)
{
    return list_jobs(c, true);
}

static enum ref_status op_list_jobs_by_status(struct op_ctx *c)
{
    return list_jobs(c, false);
}

static enum ref_status op_create_job(struct op_ctx *c)
{
    json_t *body = NULL;
    REF_TRY(parse_body(c, &body));
    ref_buf_reset(c->msg);
    enum ref_status rc = ref_job_check(body, c->msg);
    json_t *spec = NULL;
    if (rc == REF_OK) {
        spec = ref_job_spec(body);
        rc = spec != NULL ? REF_OK : REF_E_NOMEM;
    }
    if (rc == REF_OK) {
        const json_t *pid = member(body, "PipelineId");
        struct ref_slice pipeline_id =
            ref_slice_make(json_string_value(pid), json_string_length(pid));
        struct ref_job_info info;
        rc = ref_job_store_create_job(c->svc->store, c->now_ms, (struct ref_slice){NULL, 0},
                                      pipeline_id, REF_JOB_SUBMITTED, spec, &info);
        if (rc == REF_E_LIMIT_EXCEEDED) {
            rc = fail(c, rc, "Too many queued jobs.");
        } else if (rc == REF_E_NOT_FOUND) {
            rc = pipeline_not_found(c, pipeline_id);
        } else if (rc == REF_OK) {
            schedule_job_added(c->svc, &info);
            json_t *job = ref_out_job(&info, c->svc->region, c->svc->account_id);
            ref_job_info_cleanup(&info);
            rc = answer(c, 201, job != NULL ? json_pack("{s:o}", "Job", job) : NULL);
        }
    }
    json_decref(spec);
    json_decref(body);
    return rc;
}

/* --- Pipeline operations ---------------------------------------------------------- */

/* {"Pipeline": ...}, with the pipeline's Warnings for CreatePipeline and ReadPipeline. */
static json_t *
pipeline_body(struct op_ctx *c, const struct ref_pipeline_info *info, bool with_warnings)
{
    json_t *p = ref_out_pipeline(info, c->svc->region, c->svc->account_id);
    if (p == NULL) {
        return NULL;
    }
    if (with_warnings) {
        return json_pack("{s:o, s:o}", "Pipeline", p, "Warnings",
                         ref_pipeline_warnings(info->spec, c->svc->region));
    }
    return json_pack("{s:o}", "Pipeline", p);
}

static enum ref_status op_create_pipeline(struct op_ctx *c)
{
    json_t *body = NULL;
    REF_TRY(parse_body(c, &body));
    ref_buf_reset(c->msg);
    enum ref_status rc = ref_pipeline_check(body, c->msg);
    json_t *spec = NULL;
    if (rc == REF_OK) {
        spec = ref_pipeline_spec(body);
        rc = spec != NULL ? REF_OK : REF_E_NOMEM;
    }
    if (rc == REF_OK) {
        struct ref_pipeline_info info;
        rc = ref_job_store_create_pipeline(c->svc->store, c->now_ms, (struct ref_slice){NULL, 0},
                                           REF_PIPELINE_ACTIVE, spec, &info);
        if (rc == REF_E_LIMIT_EXCEEDED) {
            rc = fail(c, rc, "Too many pipelines.");
        } else if (rc == REF_OK) {
            rc = answer(c, 201, pipeline_body(c, &info, true));
            ref_pipeline_info_cleanup(&info);
        }
    }
    json_decref(spec);
    json_decref(body);
    return rc;
}

static enum ref_status op_read_pipeline(struct op_ctx *c)
{
    REF_TRY(validate_id_label_only(c));
    struct ref_pipeline_info info;
    enum ref_status rc = ref_job_store_read_pipeline(c->svc->store, c->label, &info);
    if (rc != REF_OK) {
        return rc == REF_E_NOT_FOUND ? pipeline_not_found(c, c->label) : rc;
    }
    rc = answer(c, 200, pipeline_body(c, &info, true));
    ref_pipeline_info_cleanup(&info);
    return rc;
}

static enum ref_status op_list_pipelines(struct op_ctx *c)
{
    struct ref_verr v;
    ref_verr_init(&v);
    struct list_params p = {0};
    ref_buf_init(&p.token, REF_ID_LEN);
    enum ref_status rc = parse_list_query(c, &v, &p);
    if (rc == REF_OK) {
        rc = verr_finish(c, &v);
    }
    struct ref_pipeline_page page = {0};
    if (rc == REF_OK) {
        rc = ref_job_store_list_pipelines(c->svc->store, p.is_descending, ref_buf_slice(&p.token),
                                          &page);
        if (rc == REF_E_VALIDATION) {
            rc = fail(c, rc, "The page token was not issued by this service.");
        }
    }
    if (rc == REF_OK) {
        json_t *list = json_array();
        json_t *token = page.has_next ? json_stringn(page.next_token, REF_ID_LEN) : json_null();
        int bad = (list == NULL || token == NULL);
        for (size_t i = 0; i < page.count && !bad; i++) {
            bad |= json_array_append_new(
                list, ref_out_pipeline(&page.items[i], c->svc->region, c->svc->account_id));
        }
        json_t *body = NULL;
        if (!bad) {
            body = json_pack("{s:o, s:o}", "Pipelines", list, "NextPageToken", token);
        } else {
            json_decref(list);
            json_decref(token);
        }
        rc = answer(c, 200, body);
    }
    ref_pipeline_page_cleanup(&page);
    ref_buf_cleanup(&p.token);
    ref_verr_cleanup(&v);
    return rc;
}

static enum ref_status op_update_pipeline_status(struct op_ctx *c)
{
    static const struct ref_string_rule s_status = {
        .member_path = "status", .required = true, .pattern = REF_PATTERN_PIPELINE_STATUS};
    json_t *body = NULL;
    REF_TRY(parse_body(c, &body));
    struct ref_verr v;
    ref_verr_init(&v);
    enum ref_status rc = check_id_label(c, &v, "id");
    const json_t *st = member(body, "Status");
    enum ref_pipeline_status status = REF_PIPELINE_STATUS_NONE;
    if (json_is_string(st)) {
        status = ref_pipeline_status_from_name(
            ref_slice_make(json_string_value(st), json_string_length(st)));
    }
    if (rc == REF_OK && status == REF_PIPELINE_STATUS_NONE && json_is_string(st)) {
        rc = ref_verr_pattern(&v, ref_slice_make(json_string_value(st), json_string_length(st)),
                              "status", REF_PATTERN_PIPELINE_STATUS);
    } else if (rc == REF_OK && status == REF_PIPELINE_STATUS_NONE) {
        rc = ref_verr_check_string(&v, st, &s_status); /* missing or not a string */
    }
    if (rc == REF_OK) {
        rc = verr_finish(c, &v);
    }
    ref_verr_cleanup(&v);
    json_decref(body);
    if (rc != REF_OK) {
        return rc;
    }
    struct ref_pipeline_info info;
    rc = ref_job_store_set_pipeline_status(c->svc->store, c->label, status, c->now_ms, &info);
    if (rc != REF_OK) {
        return rc == REF_E_NOT_FOUND ? pipeline_not_found(c, c->label) : rc;
    }
    if (status == REF_PIPELINE_ACTIVE) {
        schedule_changed(c->svc);
    }
    rc = answer(c, 200, pipeline_body(c, &info, false));
    ref_pipeline_info_cleanup(&info);
    return rc;
}

static enum ref_status op_delete_pipeline(struct op_ctx *c)
{
    REF_TRY(validate_id_label_only(c));
    enum ref_status rc = ref_job_store_delete_pipeline(c->svc->store, c->label);
    if (rc == REF_E_IN_USE) {
        return fail(c, rc, "The pipeline has jobs that are Submitted or Progressing.");
    }
    if (rc != REF_OK) {
        return rc == REF_E_NOT_FOUND ? pipeline_not_found(c, c->label) : rc;
    }
    return answer_success_true(c);
}

/* The ten operations (contract section 1). The two that can bring a start or finish
 * forward, CreateJob and UpdatePipelineStatus to Active, tell the scheduler themselves:
 * a new pipeline has no jobs, and the others only read or end jobs. */
static op_fn *const s_ops[REF_OP_COUNT] = {
    [REF_OP_CANCEL_JOB] = op_cancel_job,
    [REF_OP_CREATE_JOB] = op_create_job,
    [REF_OP_READ_JOB] = op_read_job,
    [REF_OP_LIST_JOBS_BY_PIPELINE] = op_list_jobs_by_pipeline,
    [REF_OP_LIST_JOBS_BY_STATUS] = op_list_jobs_by_status,
    [REF_OP_CREATE_PIPELINE] = op_create_pipeline,
    [REF_OP_READ_PIPELINE] = op_read_pipeline,
    [REF_OP_LIST_PIPELINES] = op_list_pipelines,
    [REF_OP_UPDATE_PIPELINE_STATUS] = op_update_pipeline_status,
    [REF_OP_DELETE_PIPELINE] = op_delete_pipeline,
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
    struct op_ctx c = {.svc = svc,
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

/* --- Scheduler and in-process hooks ---------------------------------------------- */

void ref_service_tick(struct ref_service *svc)
{
    advance(svc, svc_now_ms(svc));
}

bool ref_service_next_event_ms(struct ref_service *svc, int64_t *when_ms)
{
    return ref_job_store_next_event_ms(svc->store, when_ms);
}

enum ref_status ref_service_seed_pipeline(struct ref_service *svc,
                                          const char *id,
                                          const char *name,
                                          const char *status)
{
    if (id == NULL || status == NULL) {
        return REF_E_VALIDATION;
    }
    enum ref_pipeline_status st = ref_pipeline_status_from_name(ref_slice_from_cstr(status));
    if (st == REF_PIPELINE_STATUS_NONE) {
        return REF_E_VALIDATION;
    }
    struct ref_buf role;
    ref_buf_init(&role, 256);
    enum ref_status rc = ref_buf_appendf(
        &role, "arn:aws:iam::%s:role/Elastic_Transcoder_Default_Role", svc->account_id);
    json_t *spec = NULL;
    if (rc == REF_OK) {
        /* Stored as CreatePipeline would store this body, so its answers are the same. */
        json_t *body = json_pack("{s:s, s:s, s:s, s:s%}", "Name", name != NULL ? name : "seeded",
                                 "InputBucket", "etch-input", "OutputBucket", "etch-output", "Role",
                                 (const char *)role.data, role.len);
        spec = body != NULL ? ref_pipeline_spec(body) : NULL;
        json_decref(body);
        rc = spec != NULL ? REF_OK : REF_E_NOMEM;
    }
    if (rc == REF_OK) {
        int64_t now_ms = svc_now_ms(svc);
        advance(svc, now_ms);
        /* A new pipeline has no jobs yet: the schedule is as it was. */
        rc = ref_job_store_create_pipeline(svc->store, now_ms, ref_slice_from_cstr(id), st, spec,
                                           NULL);
    }
    json_decref(spec);
    ref_buf_cleanup(&role);
    return rc;
}

enum ref_status ref_service_seed_job(struct ref_service *svc,
                                     const char *id,
                                     const char *pipeline_id,
                                     const char *status)
{
    if (id == NULL || pipeline_id == NULL || status == NULL) {
        return REF_E_VALIDATION;
    }
    enum ref_job_status st = ref_job_status_from_name(ref_slice_from_cstr(status));
    if (st == REF_JOB_STATUS_NONE) {
        return REF_E_VALIDATION;
    }
    /* Stored as CreateJob would store this body, so its answers are the same. */
    json_t *body =
        json_pack("{s:{s:s}, s:[{s:s, s:s}]}", "Input", "Key", "seed/input.mp4", "Outputs", "Key",
                  "seed/output.mp4", "PresetId", "1351620000001-000010");
    json_t *spec = body != NULL ? ref_job_spec(body) : NULL;
    json_decref(body);
    if (spec == NULL) {
        return REF_E_NOMEM;
    }
    int64_t now_ms = svc_now_ms(svc);
    advance(svc, now_ms);
    struct ref_job_info info;
    enum ref_status rc =
        ref_job_store_create_job(svc->store, now_ms, ref_slice_from_cstr(id),
                                 ref_slice_from_cstr(pipeline_id), st, spec, &info);
    if (rc == REF_OK) {
        schedule_job_added(svc, &info);
        ref_job_info_cleanup(&info);
    }
    json_decref(spec);
    return rc;
}

enum ref_status ref_service_fail_job(struct ref_service *svc, const char *id)
{
    if (id == NULL) {
        return REF_E_VALIDATION;
    }
    int64_t now_ms = svc_now_ms(svc);
    advance(svc, now_ms);
    /* Ending a job only takes its finish away: the window stays as it is. */
    return ref_job_store_apply(svc->store, ref_slice_from_cstr(id), REF_JOB_EV_FAIL, now_ms, NULL);
}

const char *ref_service_job_status(struct ref_service *svc, const char *id)
{
    if (id == NULL) {
        return NULL;
    }
    /* What a ReadJob at the env's current time would show. */
    advance(svc, svc_now_ms(svc));
    enum ref_job_status st;
    if (ref_job_store_job_status(svc->store, ref_slice_from_cstr(id), &st) != REF_OK) {
        return NULL;
    }
    return ref_job_status_name(st);
}
