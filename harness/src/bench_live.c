/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_live.c - `etch bench --endpoint URL`: signed traffic against a live endpoint, next
 * to a bare libcurl loop against the same endpoint in the same run.
 *
 * N threads each own one libcurl easy handle, reused for every request, so each keeps one
 * keep-alive connection. The signed phase sends ReadJob (GET) or CancelJob (DELETE) of
 * one job Id, signed with SigV4 (host;x-amz-date); the bare phase sends an unsigned GET of
 * the same URL with nothing added. The phases alternate twice (signed, bare, signed,
 * bare), half the duration each time, so that a drifting machine affects both alike.
 *
 * A SigV4 signature depends on the request and its X-Amz-Date, whose resolution is one
 * second: a thread signs again only when the second changes, which yields exactly the
 * headers signing every request would. The endpoint verifies every one of them.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#ifdef ETCH_HAVE_LIBCURL

#include "ref/buf.h"
#include "ref/mem.h"
#include "ref/service.h"
#include "ref/sigv4.h"

#include <curl/curl.h>
#include <jansson.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_JOB_ID   "9999999999999-benchx"
#define SERVICE_NAME     "elastictranscoder"
#define URL_MAX_BYTES    2048
#define HEADER_MAX_BYTES 4096
#define PHASES           4 /* signed, bare, signed, bare */
/* Latency samples are kept per thread, grown on demand up to this many. */
#define MAX_SAMPLES_PER_THREAD (16u * 1024 * 1024)

struct live {
    const struct bench_options *opt;
    char url[URL_MAX_BYTES];
    char host[URL_MAX_BYTES]; /* the Host header libcurl would send, signed as sent */
    char path[URL_MAX_BYTES];
    const char *method;
    struct ref_sigv4_key_cache *cache;
    struct ref_sigv4_sign_params sign;
    struct ref_slice signed_names[2];
};

/* What one phase measured, summed over its threads. */
struct phase_result {
    uint64_t requests;
    uint64_t failures;      /* transport errors: no HTTP answer */
    uint64_t by_class[6];   /* answers by status class: [2] is 2xx, ... */
    uint64_t *latencies_ns; /* every request's, unsorted until summarised */
    size_t num_latencies;
    double seconds;
};

struct worker {
    struct live *live;
    CURL *easy;
    bool is_signed;
    uint64_t deadline_ns;
    /* Per phase. */
    uint64_t requests;
    uint64_t failures;
    uint64_t by_class[6];
    uint64_t *lat_ns;
    size_t num_lat;
    size_t cap_lat;
    /* The signed headers and the second they are for. */
    struct curl_slist *headers;
    int64_t signed_second;
    char date_line[64];
    char authz_line[HEADER_MAX_BYTES + 32];
    char host_line[URL_MAX_BYTES + 8];
};

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* Base URL (scheme://authority, any path ignored) -> the request URL and the Host value. */
static bool parse_endpoint(struct live *l)
{
    const char *url = l->opt->endpoint;
    const char *scheme_end = strstr(url, "://");
    if (scheme_end == NULL ||
        (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        fprintf(stderr, "etch bench: --endpoint needs an http:// or https:// URL, not '%s'\n", url);
        return false;
    }
    const char *authority = scheme_end + 3;
    size_t authority_len = strcspn(authority, "/?#");
    const char *at = memchr(authority, '@', authority_len);
    const char *host = at != NULL ? at + 1 : authority;
    size_t host_len = authority_len - (size_t)(host - authority);
    if (host_len == 0 || host_len >= sizeof l->host) {
        fprintf(stderr, "etch bench: --endpoint '%s' has no host\n", url);
        return false;
    }
    const char *id = DEFAULT_JOB_ID;
    snprintf(l->path, sizeof l->path, "/2012-09-25/jobs/%s", id);
    snprintf(l->host, sizeof l->host, "%.*s", (int)host_len, host);
    int n = snprintf(l->url, sizeof l->url, "%.*s%s", (int)(authority + authority_len - url), url,
                     l->path);
    return n > 0 && (size_t)n < sizeof l->url;
}

/* Re-signs when the second has changed since the last signature. */
static bool refresh_signature(struct worker *w)
{
    struct live *l = w->live;
    time_t now = time(NULL);
    if (w->headers != NULL && (int64_t)now == w->signed_second) {
        return true;
    }
    struct tm tm;
    gmtime_r(&now, &tm);
    char amz_date[17];
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
    struct ref_header headers[1] = {{REF_SLICE_LIT("host"), ref_slice_from_cstr(l->host)}};
    struct ref_sigv4_request req = {.method = ref_slice_from_cstr(l->method),
                                    .path = ref_slice_from_cstr(l->path),
                                    .headers = headers,
                                    .num_headers = 1};
    struct ref_sigv4_sign_params p = l->sign;
    p.amz_date = ref_slice_from_cstr(amz_date);
    /* What the signer adds: X-Amz-Date, then Authorization. */
    struct ref_sigv4_signing_result signing;
    if (ref_sigv4_sign_request(&p, &req, &signing, NULL) != REF_OK) {
        return false;
    }
    const struct ref_header *date = &signing.headers[0];
    const struct ref_header *authz = &signing.headers[1];
    snprintf(w->date_line, sizeof w->date_line, REF_SLICE_FMT ": " REF_SLICE_FMT,
             REF_SLICE_ARG(date->name), REF_SLICE_ARG(date->value));
    snprintf(w->authz_line, sizeof w->authz_line, REF_SLICE_FMT ": " REF_SLICE_FMT,
             REF_SLICE_ARG(authz->name), REF_SLICE_ARG(authz->value));
    ref_sigv4_signing_result_cleanup(&signing);
    curl_slist_free_all(w->headers);
    w->headers = NULL;
    struct curl_slist *list = curl_slist_append(NULL, w->host_line);
    list = list != NULL ? curl_slist_append(list, w->date_line) : NULL;
    list = list != NULL ? curl_slist_append(list, w->authz_line) : NULL;
    if (list == NULL) {
        return false;
    }
    w->headers = list;
    w->signed_second = (int64_t)now;
    return curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers) == CURLE_OK;
}

static bool record(struct worker *w, uint64_t ns)
{
    if (w->num_lat == w->cap_lat) {
        size_t cap = w->cap_lat == 0 ? 4096 : w->cap_lat * 2;
        if (cap > MAX_SAMPLES_PER_THREAD) {
            return false;
        }
        uint64_t *p = ref_mem_realloc(w->lat_ns, cap * sizeof(*p));
        if (p == NULL) {
            return false;
        }
        w->lat_ns = p;
        w->cap_lat = cap;
    }
    w->lat_ns[w->num_lat++] = ns;
    return true;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct live *l = w->live;
    CURL *e = w->easy;
    (void)curl_easy_setopt(e, CURLOPT_URL, l->url);
    if (w->is_signed) {
        (void)curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, l->method);
        w->signed_second = -1;
    } else {
        (void)curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
        (void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    }
    while (bench_now_ns() < w->deadline_ns) {
        if (w->is_signed && !refresh_signature(w)) {
            w->failures++;
            break;
        }
        uint64_t t0 = bench_now_ns();
        CURLcode rc = curl_easy_perform(e);
        uint64_t t1 = bench_now_ns();
        w->requests++;
        if (rc != CURLE_OK) {
            w->failures++;
            continue;
        }
        long code = 0;
        (void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        w->by_class[code >= 100 && code < 600 ? code / 100 : 0]++;
        if (!record(w, t1 - t0)) {
            break;
        }
    }
    return NULL;
}

static bool run_phase(struct live *l,
                      struct worker *workers,
                      bool is_signed,
                      double seconds,
                      struct phase_result *res)
{
    unsigned n = l->opt->connections;
    pthread_t threads[BENCH_MAX_CONNECTIONS];
    uint64_t start = bench_now_ns();
    uint64_t deadline = start + (uint64_t)(seconds * 1e9);
    unsigned started = 0;
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = &workers[i];
        w->is_signed = is_signed;
        w->deadline_ns = deadline;
        w->requests = 0;
        w->failures = 0;
        memset(w->by_class, 0, sizeof w->by_class);
        w->num_lat = 0;
        if (pthread_create(&threads[i], NULL, worker_main, w) != 0) {
            break;
        }
        started++;
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    res->seconds += (double)(bench_now_ns() - start) / 1e9;
    for (unsigned i = 0; i < started; i++) {
        struct worker *w = &workers[i];
        res->requests += w->requests;
        res->failures += w->failures;
        for (int k = 0; k < 6; k++) {
            res->by_class[k] += w->by_class[k];
        }
        uint64_t *p = ref_mem_realloc(res->latencies_ns,
                                      (res->num_latencies + w->num_lat) * sizeof(uint64_t) + 1);
        if (p == NULL) {
            return false;
        }
        res->latencies_ns = p;
        memcpy(res->latencies_ns + res->num_latencies, w->lat_ns, w->num_lat * sizeof(uint64_t));
        res->num_latencies += w->num_lat;
    }
    return started == n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

struct summary {
    double rps;
    double p50_us;
    double p99_us;
};

static struct summary summarise(struct phase_result *r)
{
    struct summary s = {0};
    if (r->seconds > 0) {
        s.rps = (double)(r->requests - r->failures) / r->seconds;
    }
    if (r->num_latencies > 0) {
        qsort(r->latencies_ns, r->num_latencies, sizeof(uint64_t), cmp_u64);
        s.p50_us = (double)r->latencies_ns[(r->num_latencies - 1) / 2] / 1e3;
        s.p99_us = (double)r->latencies_ns[(r->num_latencies - 1) * 99 / 100] / 1e3;
    }
    return s;
}

static json_t *phase_json(const struct phase_result *r, const struct summary *s)
{
    return json_pack("{s:I, s:I, s:f, s:f, s:f, s:f, s:{s:I, s:I, s:I, s:I}}", "requests",
                     (json_int_t)r->requests, "failures", (json_int_t)r->failures, "seconds",
                     r->seconds, "requests_per_s", s->rps, "p50_us", s->p50_us, "p99_us", s->p99_us,
                     "status_classes", "2xx", (json_int_t)r->by_class[2], "3xx",
                     (json_int_t)r->by_class[3], "4xx", (json_int_t)r->by_class[4], "5xx",
                     (json_int_t)r->by_class[5]);
}

static int report(const struct live *l,
                  const struct phase_result *sig,
                  const struct summary *ss,
                  const struct phase_result *bare,
                  const struct summary *bs)
{
    const struct bench_options *opt = l->opt;
    double ratio = bs->rps > 0 ? ss->rps / bs->rps : 0;
    const char *op = opt->is_cancel_job ? "CancelJob" : "ReadJob";
    if (opt->is_json) {
        json_t *doc =
            json_pack("{s:s, s:s, s:s, s:I, s:f, s:o, s:o, s:f}", "mode", "live", "endpoint",
                      opt->endpoint, "op", op, "connections", (json_int_t)opt->connections,
                      "duration_s", opt->duration_s, "signed", phase_json(sig, ss), "bare_libcurl",
                      phase_json(bare, bs), "ratio_signed_to_bare", ratio);
        if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2)) != 0) {
            json_decref(doc);
            fprintf(stderr, "etch bench: out of memory\n");
            return 1;
        }
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        printf("etch bench: %s, %u keep-alive connection(s), %.1f s per kind\n\n", opt->endpoint,
               opt->connections, opt->duration_s);
        printf("  %-26s %10s %10s %10s %9s %s\n", "traffic", "requests", "req/s", "p50 us",
               "p99 us", "answers (2xx/4xx/5xx), failures");
        printf("  %-26s %10llu %10.0f %10.1f %9.1f %llu/%llu/%llu, %llu\n", op,
               (unsigned long long)sig->requests, ss->rps, ss->p50_us, ss->p99_us,
               (unsigned long long)sig->by_class[2], (unsigned long long)sig->by_class[4],
               (unsigned long long)sig->by_class[5], (unsigned long long)sig->failures);
        printf("  %-26s %10llu %10.0f %10.1f %9.1f %llu/%llu/%llu, %llu\n", "bare libcurl GET",
               (unsigned long long)bare->requests, bs->rps, bs->p50_us, bs->p99_us,
               (unsigned long long)bare->by_class[2], (unsigned long long)bare->by_class[4],
               (unsigned long long)bare->by_class[5], (unsigned long long)bare->failures);
        printf("\n  signed / bare requests per second: %.2f\n", ratio);
    }
    bool has_answers = sig->requests > sig->failures && bare->requests > bare->failures;
    if (!has_answers) {
        fprintf(stderr, "etch bench: no answers from %s\n", opt->endpoint);
    }
    return has_answers ? 0 : 1;
}

int bench_live(const struct bench_options *opt)
{
    struct live l = {.opt = opt, .method = opt->is_cancel_job ? "DELETE" : "GET"};
    if (!parse_endpoint(&l)) {
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "etch bench: libcurl cannot start\n");
        return 1;
    }
    const struct ref_credential *main_cred = REF_TEST_CRED_MAIN;
    l.cache = ref_sigv4_key_cache_new(REF_SIGV4_KEY_CACHE_DEFAULT_ENTRIES);
    l.signed_names[0] = REF_SLICE_LIT("host");
    l.signed_names[1] = REF_SLICE_LIT("x-amz-date");
    l.sign = (struct ref_sigv4_sign_params){
        .access_key_id = ref_slice_from_cstr(opt->access_key_id != NULL ? opt->access_key_id
                                                                        : main_cred->access_key_id),
        .secret_access_key = ref_slice_from_cstr(
            opt->secret_access_key != NULL ? opt->secret_access_key : main_cred->secret_access_key),
        .region = ref_slice_from_cstr(opt->region != NULL ? opt->region : REF_TEST_REGION),
        .service = REF_SLICE_LIT(SERVICE_NAME),
        .signed_headers = l.signed_names,
        .num_signed_headers = 2,
        .key_cache = l.cache,
    };
    int status = 1;
    unsigned n = opt->connections;
    struct worker *workers = ref_mem_calloc(n, sizeof(*workers));
    struct phase_result sig = {0};
    struct phase_result bare = {0};
    if (workers == NULL || l.cache == NULL) {
        fprintf(stderr, "etch bench: out of memory\n");
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = &workers[i];
        w->live = &l;
        w->easy = curl_easy_init();
        if (w->easy == NULL) {
            fprintf(stderr, "etch bench: libcurl cannot make a handle\n");
            goto out;
        }
        snprintf(w->host_line, sizeof w->host_line, "Host: %s", l.host);
        (void)curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, discard_body);
        (void)curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
        (void)curl_easy_setopt(w->easy, CURLOPT_TCP_NODELAY, 1L);
        (void)curl_easy_setopt(w->easy, CURLOPT_TIMEOUT_MS, 10000L);
    }
    for (int phase = 0; phase < PHASES; phase++) {
        bool is_signed = phase % 2 == 0;
        if (!run_phase(&l, workers, is_signed, opt->duration_s / 2, is_signed ? &sig : &bare)) {
            fprintf(stderr, "etch bench: cannot run %u threads\n", n);
            goto out;
        }
    }
    struct summary ss = summarise(&sig);
    struct summary bs = summarise(&bare);
    status = report(&l, &sig, &ss, &bare, &bs);
out:
    if (workers != NULL) {
        for (unsigned i = 0; i < n; i++) {
            curl_slist_free_all(workers[i].headers);
            if (workers[i].easy != NULL) {
                curl_easy_cleanup(workers[i].easy);
            }
            ref_mem_free(workers[i].lat_ns);
        }
    }
    ref_mem_free(workers);
    ref_mem_free(sig.latencies_ns);
    ref_mem_free(bare.latencies_ns);
    ref_sigv4_key_cache_free(l.cache);
    curl_global_cleanup();
    return status;
}

#else /* !ETCH_HAVE_LIBCURL */

#include <stdio.h>

int bench_live(const struct bench_options *opt)
{
    (void)opt;
    fprintf(stderr, "etch bench: this etch was built without libcurl (Debian package "
                    "libcurl4-openssl-dev); install it and rebuild for --endpoint\n");
    return 2;
}

#endif /* ETCH_HAVE_LIBCURL */
