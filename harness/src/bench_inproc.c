/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_inproc.c - `etch bench` in process: the reference's signer, verifier, parser, a
 * whole CancelJob, a whole ReadJob (200 with the job) and a whole CreateJob (201 with the
 * job) against the crypto floor, in the same run.
 *
 * Everything is prepared before a clock starts: the capture is read and parsed, the
 * floor's canonical request and string to sign are built (and the floor's signature is
 * checked against the capture's, so the yardstick does the real work), and at the start
 * of each round, before its timings, a fresh service is seeded with one Submitted job per
 * CancelJob to come, each request re-signed for its job's Id, so that every handled
 * request is a real 202. The clock of every service is pinned at the capture's X-Amz-Date.
 *
 * Then rounds alternate the benchmarks (floor, then each stage, then CancelJob), so that
 * a machine that slows down or speeds up affects them all alike, and each figure is the
 * median over the rounds: ns/op and the ratio to the floor measured in the same round.
 * Finally `etch run` is spawned and timed a few times (the whole in-process suite).
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"
#include "cli_util.h"

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/job_store.h"
#include "ref/mem.h"
#include "ref/service.h"
#include "ref/sigv4.h"

#include <jansson.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CAPTURE_RELATIVE    "/../captures/botocore/CancelJob.http"
#define CAPTURE_MAX_BYTES   (64 * 1024)
#define AUTHZ_MAX_BYTES     4096
#define RESPONSE_MAX_BYTES  (64 * 1024)
#define RAW_MAX_BYTES       (REF_MAX_TARGET_BYTES + REF_MAX_HEADER_BYTES + 1024)
#define BENCH_PIPELINE_ID   "1111111111111-benchp"
#define JOB_ID_PREFIX       "2222222222222-"
#define JOB_ID_SUFFIX_CHARS 6
/* CancelJob requests of the warm-up pass. */
#define WARMUP_OPS 16

enum bench_id {
    BENCH_FLOOR = 0,
    BENCH_FLOOR_CACHED,
    BENCH_SIGN_DERIVED,
    BENCH_SIGN_CACHED,
    BENCH_VERIFY_DERIVED,
    BENCH_VERIFY_CACHED,
    BENCH_PARSE,
    BENCH_CANCEL_CACHED,
    BENCH_CANCEL_DERIVED,
    BENCH_READ_JOB,
    BENCH_CREATE_JOB,
    BENCH_COUNT
};

static const struct {
    const char *name;
    const char *what;
} s_benches[BENCH_COUNT] = {
    [BENCH_FLOOR] = {"floor", "crypto floor, key derived (the yardstick)"},
    [BENCH_FLOOR_CACHED] = {"floor_cached_key", "crypto floor, key derived beforehand"},
    [BENCH_SIGN_DERIVED] = {"sign_derived_key", "ref_sigv4_sign, key derived"},
    [BENCH_SIGN_CACHED] = {"sign_cached_key", "ref_sigv4_sign, key from the cache"},
    [BENCH_VERIFY_DERIVED] = {"verify_derived_key", "ref_sigv4_verify, key derived"},
    [BENCH_VERIFY_CACHED] = {"verify_cached_key", "ref_sigv4_verify, key from the cache"},
    [BENCH_PARSE] = {"parse", "ref_http_parse_request alone"},
    [BENCH_CANCEL_CACHED] = {"cancel_job_cached_key", "whole CancelJob -> 202, cached key"},
    [BENCH_CANCEL_DERIVED] = {"cancel_job_derived_key", "whole CancelJob -> 202, key derived"},
    [BENCH_READ_JOB] = {"read_job", "whole ReadJob -> 200 with the job, cached key"},
    [BENCH_CREATE_JOB] = {"create_job", "whole CreateJob -> 201 with the job, cached key"},
};

/* The CreateJob body: one input, one output, as the SDKs' simplest call sends. */
static const char s_create_job_body[] =
    "{\"PipelineId\":\"" BENCH_PIPELINE_ID "\",\"Input\":{\"Key\":\"in.mp4\"},"
    "\"Output\":{\"Key\":\"out.mp4\",\"PresetId\":\"1351620000001-000010\"}}";

/* One round's CancelJob requests: a service seeded for them and their raw bytes, and a
 * ReadJob of each of the same jobs. */
struct pool {
    struct ref_service *svc;
    struct ref_buf raws;
    size_t *ends; /* raw i is raws.data[ends[i-1] .. ends[i]) */
    struct ref_buf reads;
    size_t *read_ends;
};

struct inproc {
    const struct bench_options *opt;
    int64_t now_ms;

    struct ref_buf capture;
    struct ref_http_request req; /* the parsed capture */
    struct ref_buf chunked_body;
    struct ref_sigv4_request sreq;
    struct ref_sigv4_auth auth;
    struct ref_slice amz_date;
    const struct ref_credential *cred;

    struct ref_sigv4_key_cache *cache;
    struct ref_sigv4_verifier verifier_derived;
    struct ref_sigv4_verifier verifier_cached;
    struct ref_sigv4_sign_params sign_derived;
    struct ref_sigv4_sign_params sign_cached;
    struct ref_buf authz;

    struct ref_buf floor_creq;
    struct ref_buf floor_sts;
    struct bench_floor_input floor;
    char scope_date[9];
    char region[REF_SIGV4_KEY_CACHE_MAX_PART_BYTES + 1];
    char service[REF_SIGV4_KEY_CACHE_MAX_PART_BYTES + 1];
    uint8_t floor_key[REF_SHA256_LEN];

    struct ref_buf parse_body;
    struct ref_buf response;
    struct ref_buf create_raw; /* one CreateJob, sent again and again */
    struct pool *pools[2];     /* this round's: [0] cached key, [1] derived */

    double ns[BENCH_COUNT][BENCH_MAX_RUNS];
    double ratio[BENCH_COUNT][BENCH_MAX_RUNS];
    volatile uint8_t sink;
};

static int64_t pinned_now_ms(void *ctx)
{
    return ((const struct inproc *)ctx)->now_ms;
}

/* --- Preparation ---------------------------------------------------------------------- */

static const char *default_capture_path(char *buf, size_t cap)
{
    struct stat st;
    snprintf(buf, cap, "%s%s", ETCH_SCENARIOS_SOURCE_DIR, CAPTURE_RELATIVE);
    if (stat(buf, &st) == 0) {
        return buf;
    }
    snprintf(buf, cap, "%s%s", ETCH_SCENARIOS_INSTALL_DIR, CAPTURE_RELATIVE);
    return buf;
}

static bool load_capture(struct inproc *b)
{
    char path_buf[4096];
    const char *path =
        b->opt->capture != NULL ? b->opt->capture : default_capture_path(path_buf, sizeof path_buf);
    ref_buf_init(&b->capture, CAPTURE_MAX_BYTES);
    if (!etch_read_input(path, &b->capture, "etch bench")) {
        return false;
    }
    struct ref_parse_error err = {0};
    ref_buf_init(&b->chunked_body, REF_MAX_BODY_BYTES);
    if (ref_http_parse_request(ref_buf_slice(&b->capture), &b->req, &b->chunked_body, &err) !=
        REF_OK) {
        fprintf(stderr, "etch bench: %s is not one whole HTTP request (%s at byte %zu)\n", path,
                err.reason != NULL ? err.reason : "?", err.offset);
        return false;
    }
    b->sreq = (struct ref_sigv4_request){.method = b->req.method,
                                         .path = b->req.path,
                                         .query = b->req.query,
                                         .headers = b->req.headers,
                                         .num_headers = b->req.num_headers,
                                         .body = b->req.body};
    const struct ref_header *authz =
        ref_http_find_header(b->req.headers, b->req.num_headers, REF_SLICE_LIT("Authorization"));
    const struct ref_header *date =
        ref_http_find_header(b->req.headers, b->req.num_headers, REF_SLICE_LIT("X-Amz-Date"));
    int64_t t = 0;
    if (authz == NULL || date == NULL ||
        ref_sigv4_parse_authorization(authz->value, &b->auth, &err) != REF_OK ||
        ref_sigv4_parse_amz_date(date->value, &t, &err) != REF_OK) {
        fprintf(stderr, "etch bench: %s needs a SigV4 Authorization and an X-Amz-Date\n", path);
        return false;
    }
    b->amz_date = date->value;
    b->now_ms = t * 1000;
    for (size_t i = 0; i < 3; i++) {
        if (ref_slice_eq_cstr(b->auth.access_key_id, ref_test_credentials[i].access_key_id)) {
            b->cred = &ref_test_credentials[i];
        }
    }
    if (b->cred == NULL || b->auth.scope_date.len != 8 ||
        b->auth.scope_region.len > REF_SIGV4_KEY_CACHE_MAX_PART_BYTES ||
        b->auth.scope_service.len > REF_SIGV4_KEY_CACHE_MAX_PART_BYTES) {
        fprintf(stderr, "etch bench: %s is not signed by one of the contract's test principals\n",
                path);
        return false;
    }
    snprintf(b->scope_date, sizeof b->scope_date, "%.*s", REF_SLICE_ARG(b->auth.scope_date));
    snprintf(b->region, sizeof b->region, "%.*s", REF_SLICE_ARG(b->auth.scope_region));
    snprintf(b->service, sizeof b->service, "%.*s", REF_SLICE_ARG(b->auth.scope_service));
    return true;
}

/* The verifiers and signers, and the floor's input with a check that it signs right. */
static bool prepare_crypto(struct inproc *b)
{
    b->cache = ref_sigv4_key_cache_new(REF_SIGV4_KEY_CACHE_DEFAULT_ENTRIES);
    if (b->cache == NULL) {
        fprintf(stderr, "etch bench: out of memory\n");
        return false;
    }
    b->verifier_derived = (struct ref_sigv4_verifier){.credentials = ref_test_credentials,
                                                      .num_credentials = 3,
                                                      .region = b->region,
                                                      .service = b->service,
                                                      .skew_s = 300};
    b->verifier_cached = b->verifier_derived;
    b->verifier_cached.key_cache = b->cache;
    b->sign_derived = (struct ref_sigv4_sign_params){
        .access_key_id = b->auth.access_key_id,
        .secret_access_key = ref_slice_from_cstr(b->cred->secret_access_key),
        .region = b->auth.scope_region,
        .service = b->auth.scope_service,
        .amz_date = b->amz_date,
        .signed_headers = b->auth.signed_headers,
        .num_signed_headers = b->auth.num_signed_headers,
    };
    b->sign_cached = b->sign_derived;
    b->sign_cached.key_cache = b->cache;
    ref_buf_init(&b->authz, AUTHZ_MAX_BYTES);

    /* The floor signs what the signer signs: take both stages from a traced signature. */
    ref_buf_init(&b->floor_creq, REF_MAX_CANONICAL_BYTES);
    ref_buf_init(&b->floor_sts, REF_MAX_CANONICAL_BYTES);
    struct ref_sigv4_trace trace = {&b->floor_creq, &b->floor_sts};
    if (ref_sigv4_sign(&b->sign_derived, &b->sreq, &b->authz, &trace) != REF_OK ||
        b->floor_sts.len <= REF_SHA256_HEX_LEN) {
        fprintf(stderr, "etch bench: the capture cannot be signed\n");
        return false;
    }
    b->floor = (struct bench_floor_input){
        .canonical_request = b->floor_creq.data,
        .canonical_request_len = b->floor_creq.len,
        .sts_prefix = b->floor_sts.data,
        .sts_prefix_len = b->floor_sts.len - REF_SHA256_HEX_LEN,
        .secret = (const uint8_t *)b->cred->secret_access_key,
        .secret_len = strlen(b->cred->secret_access_key),
        .date = b->scope_date,
        .region = b->region,
        .service = b->service,
    };
    bench_floor_signing_key(&b->floor, b->floor_key);
    char sig[REF_SHA256_HEX_LEN];
    if (!bench_floor_sign(&b->floor, sig) || b->auth.signature.len != REF_SHA256_HEX_LEN ||
        memcmp(sig, b->auth.signature.ptr, REF_SHA256_HEX_LEN) != 0) {
        fprintf(stderr, "etch bench: the floor does not reproduce the capture's signature\n");
        return false;
    }
    /* The verifier must accept the capture as it is, with and without the cache. */
    struct ref_sigv4_outcome out;
    if (ref_sigv4_verify(&b->verifier_derived, &b->sreq, b->now_ms / 1000, &out, NULL) != REF_OK ||
        ref_sigv4_verify(&b->verifier_cached, &b->sreq, b->now_ms / 1000, &out, NULL) != REF_OK) {
        fprintf(stderr, "etch bench: the capture does not verify: %s\n", out.message);
        return false;
    }
    return true;
}

/* "2222222222222-" and six base-36 digits of n. */
static void job_id(size_t n, char out[REF_ID_LEN + 1])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    memcpy(out, JOB_ID_PREFIX, sizeof JOB_ID_PREFIX - 1);
    for (size_t i = REF_ID_LEN; i > sizeof JOB_ID_PREFIX - 1; i--) {
        out[i - 1] = digits[n % 36];
        n /= 36;
    }
    out[REF_ID_LEN] = '\0';
}

/* The capture with its method, path and body changed (Content-Length following the body)
 * and its Authorization re-signed. */
static enum ref_status signed_request(struct inproc *b,
                                      struct ref_slice method,
                                      const char *path,
                                      struct ref_slice body,
                                      struct ref_buf *out)
{
    struct ref_sigv4_request r = b->sreq;
    r.method = method;
    r.path = ref_slice_from_cstr(path);
    r.query = (struct ref_slice){NULL, 0};
    r.body = body;
    ref_buf_reset(&b->authz);
    REF_TRY(ref_sigv4_sign(&b->sign_cached, &r, &b->authz, NULL));
    REF_TRY(ref_buf_append_slice(out, method));
    REF_TRY(ref_buf_appendf(out, " %s ", path));
    REF_TRY(ref_buf_append_slice(out, b->req.version));
    REF_TRY(ref_buf_append_cstr(out, "\r\n"));
    for (size_t i = 0; i < b->req.num_headers; i++) {
        const struct ref_header *h = &b->req.headers[i];
        REF_TRY(ref_buf_append_slice(out, h->name));
        REF_TRY(ref_buf_append_cstr(out, ": "));
        if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("Authorization"))) {
            REF_TRY(ref_buf_append_slice(out, ref_buf_slice(&b->authz)));
        } else if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("Content-Length"))) {
            REF_TRY(ref_buf_appendf(out, "%zu", body.len));
        } else {
            REF_TRY(ref_buf_append_slice(out, h->value));
        }
        REF_TRY(ref_buf_append_cstr(out, "\r\n"));
    }
    REF_TRY(ref_buf_append_cstr(out, "\r\n"));
    return ref_buf_append_slice(out, body);
}

/* The capture's CancelJob, for the job's Id. */
static enum ref_status cancel_request(struct inproc *b, const char *id, struct ref_buf *out)
{
    char path[64];
    snprintf(path, sizeof path, "/2012-09-25/jobs/%s", id);
    return signed_request(b, b->req.method, path, b->req.body, out);
}

/* A ReadJob of the job, signed as the capture is. */
static enum ref_status read_request(struct inproc *b, const char *id, struct ref_buf *out)
{
    char path[64];
    snprintf(path, sizeof path, "/2012-09-25/jobs/%s", id);
    return signed_request(b, REF_SLICE_LIT("GET"), path, (struct ref_slice){NULL, 0}, out);
}

static void pool_free(struct pool *p);

/* A service seeded with n Submitted jobs, Ids from first_job on, and their requests. */
static struct pool *pool_new(struct inproc *b, bool is_key_cached, size_t first_job, size_t n)
{
    struct pool *p = ref_mem_calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.env.now_ms = pinned_now_ms;
    cfg.env.ctx = b;
    cfg.region = b->region;
    /* Room for the CreateJob benchmark's jobs too: it runs on the pool as many times. */
    cfg.max_queued_jobs = 2 * n + 1;
    cfg.is_key_cache_disabled = !is_key_cached;
    p->svc = ref_service_new(&cfg);
    p->ends = ref_mem_calloc(n, sizeof(p->ends[0]));
    p->read_ends = ref_mem_calloc(n, sizeof(p->read_ends[0]));
    ref_buf_init(&p->raws, (size_t)n * RAW_MAX_BYTES);
    ref_buf_init(&p->reads, (size_t)n * RAW_MAX_BYTES);
    /* A paused pipeline: its jobs stay Submitted whatever the clock says. */
    enum ref_status rc =
        p->svc != NULL && p->ends != NULL && p->read_ends != NULL ? REF_OK : REF_E_NOMEM;
    if (rc == REF_OK) {
        rc = ref_service_seed_pipeline(p->svc, BENCH_PIPELINE_ID, "bench", "Paused");
    }
    for (size_t i = 0; i < n && rc == REF_OK; i++) {
        char id[REF_ID_LEN + 1];
        job_id(first_job + i, id);
        rc = ref_service_seed_job(p->svc, id, BENCH_PIPELINE_ID, "Submitted");
        if (rc == REF_OK) {
            rc = cancel_request(b, id, &p->raws);
        }
        if (rc == REF_OK) {
            rc = read_request(b, id, &p->reads);
        }
        p->ends[i] = p->raws.len;
        p->read_ends[i] = p->reads.len;
    }
    if (rc != REF_OK) {
        fprintf(stderr, "etch bench: cannot prepare the CancelJob pool: %s\n", ref_status_name(rc));
        pool_free(p);
        return NULL;
    }
    return p;
}

static void pool_free(struct pool *p)
{
    if (p != NULL) {
        ref_service_free(p->svc);
        ref_buf_cleanup(&p->raws);
        ref_buf_cleanup(&p->reads);
        ref_mem_free(p->ends);
        ref_mem_free(p->read_ends);
        ref_mem_free(p);
    }
}

/* --- The benchmarks ------------------------------------------------------------------ */

/* One loop per benchmark, each a function of its own (never inlined) so that a profiler
 * such as callgrind can attribute instructions to each: harness/bench/icount.sh divides
 * their inclusive counts by the operations they ran. Each returns false on a wrong
 * result. */
#define BENCH_LOOP __attribute__((noinline)) static bool

BENCH_LOOP bench_loop_floor(struct inproc *b, unsigned ops)
{
    bool ok = true;
    char sig[REF_SHA256_HEX_LEN];
    for (unsigned i = 0; i < ops; i++) {
        ok &= bench_floor_sign(&b->floor, sig);
        b->sink ^= (uint8_t)sig[0];
    }
    return ok;
}

BENCH_LOOP bench_loop_floor_cached_key(struct inproc *b, unsigned ops)
{
    bool ok = true;
    char sig[REF_SHA256_HEX_LEN];
    for (unsigned i = 0; i < ops; i++) {
        ok &= bench_floor_sign_cached(&b->floor, b->floor_key, sig);
        b->sink ^= (uint8_t)sig[0];
    }
    return ok;
}

static bool sign_loop(struct inproc *b, const struct ref_sigv4_sign_params *p, unsigned ops)
{
    bool ok = true;
    for (unsigned i = 0; i < ops; i++) {
        ref_buf_reset(&b->authz);
        ok &= ref_sigv4_sign(p, &b->sreq, &b->authz, NULL) == REF_OK;
        b->sink ^= b->authz.data[b->authz.len - 1];
    }
    return ok;
}

BENCH_LOOP bench_loop_sign_derived_key(struct inproc *b, unsigned ops)
{
    return sign_loop(b, &b->sign_derived, ops);
}

BENCH_LOOP bench_loop_sign_cached_key(struct inproc *b, unsigned ops)
{
    return sign_loop(b, &b->sign_cached, ops);
}

static bool verify_loop(struct inproc *b, const struct ref_sigv4_verifier *v, unsigned ops)
{
    bool ok = true;
    struct ref_sigv4_outcome out;
    int64_t now_s = b->now_ms / 1000;
    for (unsigned i = 0; i < ops; i++) {
        ok &= ref_sigv4_verify(v, &b->sreq, now_s, &out, NULL) == REF_OK;
    }
    return ok;
}

BENCH_LOOP bench_loop_verify_derived_key(struct inproc *b, unsigned ops)
{
    return verify_loop(b, &b->verifier_derived, ops);
}

BENCH_LOOP bench_loop_verify_cached_key(struct inproc *b, unsigned ops)
{
    return verify_loop(b, &b->verifier_cached, ops);
}

BENCH_LOOP bench_loop_parse(struct inproc *b, unsigned ops)
{
    bool ok = true;
    struct ref_http_request req;
    struct ref_parse_error err;
    for (unsigned i = 0; i < ops; i++) {
        ok &= ref_http_parse_request(ref_buf_slice(&b->capture), &req, &b->parse_body, &err) ==
              REF_OK;
        b->sink ^= (uint8_t)req.num_headers;
    }
    return ok;
}

static bool cancel_loop(struct inproc *b, const struct pool *pool, unsigned ops)
{
    bool ok = true;
    for (unsigned i = 0; i < ops; i++) {
        size_t from = i == 0 ? 0 : pool->ends[i - 1];
        struct ref_slice raw = ref_slice_make(pool->raws.data + from, pool->ends[i] - from);
        ref_buf_reset(&b->response);
        ok &= ref_service_handle(pool->svc, raw, &b->response) == REF_OK;
        /* Every one must be a real 202: a cheap check, inside the loop on purpose. */
        ok &= b->response.len > 12 && memcmp(b->response.data, "HTTP/1.1 202", 12) == 0;
    }
    return ok;
}

BENCH_LOOP bench_loop_cancel_job_cached_key(struct inproc *b, unsigned ops)
{
    return cancel_loop(b, b->pools[0], ops);
}

BENCH_LOOP bench_loop_cancel_job_derived_key(struct inproc *b, unsigned ops)
{
    return cancel_loop(b, b->pools[1], ops);
}

/* Sends raw to svc and checks the status line starts as want does. */
static bool
handle_expecting(struct inproc *b, struct ref_service *svc, struct ref_slice raw, const char *want)
{
    ref_buf_reset(&b->response);
    size_t n = strlen(want);
    return ref_service_handle(svc, raw, &b->response) == REF_OK && b->response.len > n &&
           memcmp(b->response.data, want, n) == 0;
}

/* ReadJobs of the cached-key pool's jobs (Canceled by then, still answered with the job). */
BENCH_LOOP bench_loop_read_job(struct inproc *b, unsigned ops)
{
    const struct pool *pool = b->pools[0];
    bool ok = true;
    for (unsigned i = 0; i < ops; i++) {
        size_t from = i == 0 ? 0 : pool->read_ends[i - 1];
        struct ref_slice raw = ref_slice_make(pool->reads.data + from, pool->read_ends[i] - from);
        ok &= handle_expecting(b, pool->svc, raw, "HTTP/1.1 200");
    }
    return ok;
}

/* The same CreateJob again and again on the cached-key pool's paused pipeline. */
BENCH_LOOP bench_loop_create_job(struct inproc *b, unsigned ops)
{
    bool ok = true;
    for (unsigned i = 0; i < ops; i++) {
        ok &= handle_expecting(b, b->pools[0]->svc, ref_buf_slice(&b->create_raw), "HTTP/1.1 201");
    }
    return ok;
}

static bool (*const s_loops[BENCH_COUNT])(struct inproc *b, unsigned ops) = {
    [BENCH_FLOOR] = bench_loop_floor,
    [BENCH_FLOOR_CACHED] = bench_loop_floor_cached_key,
    [BENCH_SIGN_DERIVED] = bench_loop_sign_derived_key,
    [BENCH_SIGN_CACHED] = bench_loop_sign_cached_key,
    [BENCH_VERIFY_DERIVED] = bench_loop_verify_derived_key,
    [BENCH_VERIFY_CACHED] = bench_loop_verify_cached_key,
    [BENCH_PARSE] = bench_loop_parse,
    [BENCH_CANCEL_CACHED] = bench_loop_cancel_job_cached_key,
    [BENCH_CANCEL_DERIVED] = bench_loop_cancel_job_derived_key,
    [BENCH_READ_JOB] = bench_loop_read_job,
    [BENCH_CREATE_JOB] = bench_loop_create_job,
};

/* Runs benchmark id `ops` times (on this round's pools); false on a wrong result. */
static bool run_one(struct inproc *b, enum bench_id id, double *ns_per_op)
{
    unsigned ops = b->opt->ops;
    uint64_t t0 = bench_now_ns();
    bool ok = s_loops[id](b, ops);
    uint64_t t1 = bench_now_ns();
    *ns_per_op = (double)(t1 - t0) / ops;
    if (!ok) {
        fprintf(stderr, "etch bench: %s gave a wrong result", s_benches[id].name);
        if (id >= BENCH_CANCEL_CACHED) {
            fprintf(stderr, ": %.*s", (int)(b->response.len < 200 ? b->response.len : 200),
                    (const char *)b->response.data);
        }
        fputc('\n', stderr);
    }
    return ok;
}

/* --- The suite ------------------------------------------------------------------------- */

/* Spawns this executable as `etch run --no-color` (output discarded) and times it. */
static bool time_suite(double *seconds, int *exit_status)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        return false;
    }
    (void)posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    (void)posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    (void)posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char arg0[] = "etch";
    char arg1[] = "run";
    char arg2[] = "--no-color";
    char *argv[] = {arg0, arg1, arg2, NULL};
    pid_t pid = 0;
    uint64_t t0 = bench_now_ns();
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        return false;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        /* Interrupted: wait again. */
    }
    *seconds = (double)(bench_now_ns() - t0) / 1e9;
    *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
}

/* --- Report ---------------------------------------------------------------------------- */

/* Prints the figures (a table, or one JSON object with --json). Returns the exit status:
 * ETCH_EXIT_PASS, or ETCH_EXIT_FAIL when the JSON object cannot be made or written. */
static int report(struct inproc *b, double suite_s, int suite_status, unsigned suite_runs)
{
    const struct bench_options *opt = b->opt;
    double med_ns[BENCH_COUNT];
    double med_ratio[BENCH_COUNT];
    for (int i = 0; i < BENCH_COUNT; i++) {
        med_ns[i] = bench_median(b->ns[i], opt->runs);
        med_ratio[i] = bench_median(b->ratio[i], opt->runs);
    }
    struct ref_sigv4_key_cache_stats stats;
    ref_sigv4_key_cache_stats(b->cache, &stats);
    const char *request = opt->capture != NULL ? opt->capture : "botocore CancelJob capture";
    if (opt->is_json) {
        json_t *results = json_array();
        for (int i = 0; i < BENCH_COUNT; i++) {
            json_array_append_new(results,
                                  json_pack("{s:s, s:s, s:f, s:f}", "name", s_benches[i].name,
                                            "what", s_benches[i].what, "ns_per_op", med_ns[i],
                                            "ratio_to_floor", med_ratio[i]));
        }
        json_t *doc =
            json_pack("{s:s, s:s, s:I, s:I, s:o, s:{s:I, s:I, s:I}}", "mode", "inproc", "request",
                      request, "runs", (json_int_t)opt->runs, "ops_per_run", (json_int_t)opt->ops,
                      "results", results, "key_cache", "hits", (json_int_t)stats.hits, "misses",
                      (json_int_t)stats.misses, "capacity", (json_int_t)stats.capacity);
        if (doc != NULL && suite_runs > 0) {
            json_object_set_new(doc, "suite",
                                json_pack("{s:f, s:I, s:i}", "seconds", suite_s, "runs",
                                          (json_int_t)suite_runs, "exit_status", suite_status));
        }
        if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2)) != 0) {
            json_decref(doc);
            fprintf(stderr, "etch bench: out of memory\n");
            return ETCH_EXIT_FAIL;
        }
        fputc('\n', stdout);
        json_decref(doc);
        return ETCH_EXIT_PASS;
    }
    printf("etch bench: in process, %s; medians of %u rounds of %u ops\n\n", request, opt->runs,
           opt->ops);
    printf("  %-24s %10s %9s  %s\n", "benchmark", "ns/op", "x floor", "what");
    for (int i = 0; i < BENCH_COUNT; i++) {
        printf("  %-24s %10.0f %9.2f  %s\n", s_benches[i].name, med_ns[i], med_ratio[i],
               s_benches[i].what);
    }
    if (suite_runs > 0) {
        printf("\n  whole in-process suite (etch run): %.3f s (median of %u; exit status %d)\n",
               suite_s, suite_runs, suite_status);
    }
    return ETCH_EXIT_PASS;
}

/* --- Driver -------------------------------------------------------------------------- */

static void cleanup(struct inproc *b)
{
    for (int k = 0; k < 2; k++) {
        pool_free(b->pools[k]);
        b->pools[k] = NULL;
    }
    ref_sigv4_key_cache_free(b->cache);
    ref_buf_cleanup(&b->capture);
    ref_buf_cleanup(&b->chunked_body);
    ref_buf_cleanup(&b->authz);
    ref_buf_cleanup(&b->floor_creq);
    ref_buf_cleanup(&b->floor_sts);
    ref_buf_cleanup(&b->parse_body);
    ref_buf_cleanup(&b->response);
    ref_buf_cleanup(&b->create_raw);
}

int bench_inproc(const struct bench_options *opt)
{
    struct inproc *b = ref_mem_calloc(1, sizeof(*b));
    if (b == NULL) {
        fprintf(stderr, "etch bench: out of memory\n");
        return ETCH_EXIT_FAIL;
    }
    b->opt = opt;
    ref_buf_init(&b->parse_body, REF_MAX_BODY_BYTES);
    ref_buf_init(&b->response, RESPONSE_MAX_BYTES);
    int status = ETCH_EXIT_FAIL;
    ref_buf_init(&b->create_raw, RAW_MAX_BYTES);
    if (!load_capture(b) || !prepare_crypto(b) ||
        signed_request(b, REF_SLICE_LIT("POST"), "/2012-09-25/jobs",
                       ref_slice_from_cstr(s_create_job_body), &b->create_raw) != REF_OK) {
        goto out;
    }
    /* One untimed pass warms caches, the key cache and what a thread sets up once (the
     * random source behind request Ids): the stateless benchmarks as they are, the
     * CancelJob ones on small pools of their own, whose Ids no round uses. */
    double ignored = 0;
    for (int id = 0; id < BENCH_CANCEL_CACHED; id++) {
        if (!run_one(b, (enum bench_id)id, &ignored)) {
            goto out;
        }
    }
    for (int k = 0; k < 2; k++) {
        b->pools[k] =
            pool_new(b, k == 0, (size_t)BENCH_MAX_RUNS * 2 * BENCH_MAX_OPS + 32u * k, WARMUP_OPS);
        if (b->pools[k] == NULL ||
            !s_loops[k == 0 ? BENCH_CANCEL_CACHED : BENCH_CANCEL_DERIVED](b, WARMUP_OPS)) {
            goto out;
        }
    }
    if (!s_loops[BENCH_READ_JOB](b, WARMUP_OPS) || !s_loops[BENCH_CREATE_JOB](b, WARMUP_OPS)) {
        goto out;
    }
    for (unsigned r = 0; r < opt->runs; r++) {
        /* This round's pools, seeded just before it (as a service that has just taken the
         * jobs in would hold them), and dropped after it. */
        for (int k = 0; k < 2; k++) {
            pool_free(b->pools[k]);
            b->pools[k] = pool_new(b, k == 0, ((size_t)r * 2 + (size_t)k) * opt->ops, opt->ops);
            if (b->pools[k] == NULL) {
                goto out;
            }
        }
        for (int id = 0; id < BENCH_COUNT; id++) {
            if (!run_one(b, (enum bench_id)id, &b->ns[id][r])) {
                goto out;
            }
        }
        for (int id = 0; id < BENCH_COUNT; id++) {
            b->ratio[id][r] = b->ns[id][r] / b->ns[BENCH_FLOOR][r];
        }
    }
    double suite_s = 0;
    int suite_status = 0;
    unsigned suite_runs = opt->has_suite ? opt->suite_runs : 0;
    double suite_times[BENCH_MAX_RUNS];
    for (unsigned r = 0; r < suite_runs; r++) {
        if (!time_suite(&suite_times[r], &suite_status)) {
            fprintf(stderr, "etch bench: cannot start `etch run`\n");
            goto out;
        }
    }
    suite_s = bench_median(suite_times, suite_runs);
    status = report(b, suite_s, suite_status, suite_runs);
out:
    cleanup(b);
    ref_mem_free(b);
    return status;
}
