/* SPDX-License-Identifier: Apache-2.0
 *
 * runner.c - runs one scenario on one backend: builds, signs and sends each request,
 * evaluates expectations, captures variables, polls waits, releases concurrent groups,
 * and turns check results into step and scenario verdicts.
 *
 * Requests are signed only when they are sent, with the backend's clock at that moment,
 * so a wait that moves the virtual clock re-signs every poll. A step that ends in FAIL,
 * ERROR or NOT IMPLEMENTED stops the scenario: later steps depend on earlier ones, and
 * running them would only report the same fault again under other names.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/runner.h"
#include "harness/text.h"

#include "harness/http_response.h"
#include "harness/vars.h"

#include "ref/limits.h"
#include "ref/sigv4.h"
#include "ref/uri.h"

#include <jansson.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REQUEST_HEADERS (REF_MAX_HEADERS + 8)
#define MAX_BUILT_REQUEST   (REF_MAX_REQUEST_BYTES)
#define MAX_RESPONSE_BYTES  (HARNESS_MAX_RESPONSE_BODY_BYTES + HARNESS_MAX_RESPONSE_HEADER_BYTES)
/* Contract section 2: a pipeline Name is 1 to 40 characters. */
#define HARNESS_MAX_PIPELINE_NAME 40

/* Credentials and values for the signing faults: obviously fake, never a real secret. */
#define WRONG_SECRET    "etch/wrong/secret/key/EXAMPLEKEY000000000000"
#define UNKNOWN_KEY_ID  "AKIDUNKNOWNEXAMPLE00"
#define WRONG_TOKEN     "etch/session/token/WRONG"
#define WRONG_SCOPE_SVC "s3"

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

/* --- Exchanges --------------------------------------------------------------------- */

static char *dup_n(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

static void exchange_cleanup(struct harness_exchange *x)
{
    free(x->label);
    free(x->method);
    free(x->target);
    for (size_t i = 0; i < x->num_headers; i++) {
        free(x->headers[i].name);
        free(x->headers[i].value);
    }
    free(x->headers);
    free(x->body);
    free(x->observed_body);
    ref_buf_cleanup(&x->request);
    ref_buf_cleanup(&x->response);
    memset(x, 0, sizeof(*x));
}

static enum ref_status exchange_init(struct harness_exchange *x)
{
    memset(x, 0, sizeof(*x));
    ref_buf_init(&x->request, MAX_BUILT_REQUEST);
    ref_buf_init(&x->response, MAX_RESPONSE_BYTES);
    x->headers = calloc(MAX_REQUEST_HEADERS, sizeof(*x->headers));
    return x->headers != NULL ? REF_OK : REF_E_NOMEM;
}

static enum ref_status add_header(struct harness_header_copy *headers,
                                  size_t *n,
                                  size_t cap,
                                  const char *name,
                                  size_t name_len,
                                  const char *value,
                                  size_t value_len)
{
    if (*n >= cap) {
        return REF_E_TOO_LARGE;
    }
    char *nm = dup_n(name, name_len);
    char *vl = dup_n(value, value_len);
    if (nm == NULL || vl == NULL) {
        free(nm);
        free(vl);
        return REF_E_NOMEM;
    }
    headers[*n].name = nm;
    headers[*n].value = vl;
    (*n)++;
    return REF_OK;
}

static enum ref_status add_header_cstr(
    struct harness_header_copy *headers, size_t *n, size_t cap, const char *name, const char *value)
{
    return add_header(headers, n, cap, name, strlen(name), value, strlen(value));
}

static bool name_is(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
        if (ca != cb) {
            return false;
        }
    }
    return *a == *b;
}

/* --- Signing ----------------------------------------------------------------------- */

static bool is_unsignable(const char *lower)
{
    static const char *const names[] = {
        "authorization", "user-agent", "expect",  "transfer-encoding", "connection",
        "keep-alive",    "te",         "trailer", "upgrade",           "x-amzn-trace-id"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(lower, names[i]) == 0) {
            return true;
        }
    }
    return strncmp(lower, "proxy-", 6) == 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The lower-case names to sign: the scenario's list, or every signable header present,
 * sorted and unique; omit-host then drops host. Names point into `storage`. */
static enum ref_status signed_names(const struct harness_sign *sign,
                                    const struct harness_sign_target *t,
                                    char storage[][64],
                                    const char **names,
                                    size_t *count)
{
    size_t n = 0;
    if (sign->has_signed_headers) {
        for (size_t i = 0; i < sign->num_signed_headers; i++) {
            harness_textf(storage[n], 64, "%s", sign->signed_headers[i]);
            names[n] = storage[n];
            n++;
        }
    } else {
        for (size_t i = 0; i < *t->num_headers; i++) {
            char lower[64];
            size_t k = 0;
            for (const char *p = t->headers[i].name; *p != '\0' && k + 1 < sizeof(lower); p++) {
                lower[k++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
            }
            lower[k] = '\0';
            if (k == 0 || is_unsignable(lower)) {
                continue;
            }
            bool dup = false;
            for (size_t j = 0; j < n; j++) {
                dup = dup || strcmp(storage[j], lower) == 0;
            }
            if (dup) {
                continue;
            }
            if (n >= HARNESS_MAX_SIGNED_HEADERS) {
                return REF_E_TOO_LARGE;
            }
            memcpy(storage[n], lower, k + 1);
            names[n] = storage[n];
            n++;
        }
        qsort(names, n, sizeof(names[0]), cmp_cstr);
    }
    if (sign->fault == HARNESS_FAULT_OMIT_HOST) {
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(names[i], "host") != 0) {
                names[w++] = names[i];
            }
        }
        n = w;
    }
    *count = n;
    return REF_OK;
}

/* The terminator fault needs a scope the signer never writes, so it runs the stages. */
static enum ref_status sign_with_terminator(const struct ref_sigv4_sign_params *p,
                                            const struct ref_sigv4_request *req,
                                            struct ref_buf *auth)
{
    char body_hash[REF_SHA256_HEX_LEN];
    ref_sigv4_sha256_hex(req->body, body_hash);
    struct ref_buf creq, sts, scope;
    ref_buf_init(&creq, REF_MAX_CANONICAL_BYTES);
    ref_buf_init(&sts, 1024);
    ref_buf_init(&scope, 256);
    uint8_t key[REF_SHA256_LEN];
    char sig[REF_SHA256_HEX_LEN];
    enum ref_status rc =
        ref_sigv4_canonical_request(req, p->signed_headers, p->num_signed_headers,
                                    ref_slice_make(body_hash, sizeof(body_hash)), &creq, NULL);
    if (rc == REF_OK) {
        rc = ref_buf_appendf(&scope, "%.*s/%.*s/%.*s/aws4_requests", 8,
                             (const char *)p->amz_date.ptr, REF_SLICE_ARG(p->region),
                             REF_SLICE_ARG(p->service));
    }
    if (rc == REF_OK) {
        rc = ref_sigv4_string_to_sign(p->amz_date, ref_buf_slice(&scope), ref_buf_slice(&creq),
                                      &sts);
    }
    if (rc == REF_OK) {
        rc = ref_sigv4_signing_key(p->secret_access_key, ref_slice_sub(p->amz_date, 0, 8),
                                   p->region, p->service, key);
    }
    if (rc == REF_OK) {
        rc = ref_sigv4_signature(key, ref_buf_slice(&sts), sig);
    }
    if (rc == REF_OK) {
        rc = ref_buf_appendf(auth, "AWS4-HMAC-SHA256 Credential=%.*s/%.*s, SignedHeaders=",
                             REF_SLICE_ARG(p->access_key_id), REF_SLICE_ARG(ref_buf_slice(&scope)));
    }
    for (size_t i = 0; rc == REF_OK && i < p->num_signed_headers; i++) {
        rc = ref_buf_appendf(auth, "%s%.*s", i > 0 ? ";" : "", REF_SLICE_ARG(p->signed_headers[i]));
    }
    if (rc == REF_OK) {
        rc = ref_buf_appendf(auth, ", Signature=%.*s", REF_SHA256_HEX_LEN, sig);
    }
    memset(key, 0, sizeof(key));
    ref_buf_cleanup(&creq);
    ref_buf_cleanup(&sts);
    ref_buf_cleanup(&scope);
    return rc;
}

static void split_target(const char *target, struct ref_slice *path, struct ref_slice *query)
{
    const char *q = strchr(target, '?');
    if (q == NULL) {
        *path = ref_slice_from_cstr(target);
        *query = ref_slice_make(target + strlen(target), 0);
    } else {
        *path = ref_slice_make(target, (size_t)(q - target));
        *query = ref_slice_from_cstr(q + 1);
    }
}

enum ref_status harness_sign_request(const struct harness_backend *b,
                                     const struct harness_sign *sign,
                                     int64_t now_ms,
                                     struct harness_sign_target *t)
{
    if (sign->principal == HARNESS_PRINCIPAL_NONE) {
        return REF_OK;
    }
    const struct ref_credential *cred =
        (unsigned)sign->principal < HARNESS_PRINCIPAL_COUNT ? b->principals[sign->principal] : NULL;
    if (cred == NULL) {
        return REF_E_NOT_FOUND;
    }
    int64_t now_s = now_ms / 1000 + sign->date_offset_s;
    char amz_date[17];
    ref_sigv4_format_amz_date(now_s, amz_date);
    REF_TRY(add_header(t->headers, t->num_headers, t->cap_headers, "X-Amz-Date", 10, amz_date, 16));
    if (sign->principal == HARNESS_PRINCIPAL_TEMPORARY && sign->token != HARNESS_TOKEN_OMIT) {
        const char *token = sign->token == HARNESS_TOKEN_WRONG ? WRONG_TOKEN : cred->session_token;
        if (token != NULL) {
            REF_TRY(add_header_cstr(t->headers, t->num_headers, t->cap_headers,
                                    "X-Amz-Security-Token", token));
        }
    }
    if (sign->content_sha256) {
        char hash[REF_SHA256_HEX_LEN];
        ref_sigv4_sha256_hex(ref_slice_make(t->body, t->body_len), hash);
        REF_TRY(add_header(t->headers, t->num_headers, t->cap_headers, "x-amz-content-sha256", 20,
                           hash, sizeof(hash)));
    }

    char storage[HARNESS_MAX_SIGNED_HEADERS][64];
    const char *names[HARNESS_MAX_SIGNED_HEADERS];
    size_t num_names = 0;
    REF_TRY(signed_names(sign, t, storage, names, &num_names));
    struct ref_slice name_slices[HARNESS_MAX_SIGNED_HEADERS];
    for (size_t i = 0; i < num_names; i++) {
        name_slices[i] = ref_slice_from_cstr(names[i]);
    }
    struct ref_header hdrs[MAX_REQUEST_HEADERS];
    size_t nh = *t->num_headers < MAX_REQUEST_HEADERS ? *t->num_headers : MAX_REQUEST_HEADERS;
    for (size_t i = 0; i < nh; i++) {
        hdrs[i].name = ref_slice_from_cstr(t->headers[i].name);
        hdrs[i].value = ref_slice_trim_ows(ref_slice_from_cstr(t->headers[i].value));
    }
    struct ref_sigv4_request req = {
        .method = ref_slice_from_cstr(t->method),
        .headers = hdrs,
        .num_headers = nh,
        .body = ref_slice_make(t->body, t->body_len),
    };
    split_target(t->target, &req.path, &req.query);

    char scope_date[17];
    ref_sigv4_format_amz_date(now_s - 86400, scope_date);
    const char *region = b->region;
    struct ref_sigv4_sign_params p = {
        .access_key_id = ref_slice_from_cstr(cred->access_key_id),
        .secret_access_key = ref_slice_from_cstr(cred->secret_access_key),
        .region = ref_slice_from_cstr(region),
        .service = ref_slice_from_cstr(b->service),
        .amz_date = ref_slice_make(amz_date, 16),
        .signed_headers = name_slices,
        .num_signed_headers = num_names,
    };
    switch (sign->fault) {
        case HARNESS_FAULT_WRONG_SECRET:
            p.secret_access_key = REF_SLICE_LIT(WRONG_SECRET);
            break;
        case HARNESS_FAULT_UNKNOWN_KEY:
            p.access_key_id = REF_SLICE_LIT(UNKNOWN_KEY_ID);
            p.secret_access_key = REF_SLICE_LIT(WRONG_SECRET);
            break;
        case HARNESS_FAULT_SCOPE_DATE:
            /* The scope (and the key) carry yesterday's date; X-Amz-Date stays today's. */
            p.amz_date = ref_slice_make(scope_date, 16);
            break;
        case HARNESS_FAULT_SCOPE_REGION:
            p.region = strcmp(region, "us-west-2") == 0 ? REF_SLICE_LIT("eu-west-1")
                                                        : REF_SLICE_LIT("us-west-2");
            break;
        case HARNESS_FAULT_SCOPE_SERVICE:
            p.service = REF_SLICE_LIT(WRONG_SCOPE_SVC);
            break;
        default:
            break;
    }
    struct ref_buf auth;
    ref_buf_init(&auth, REF_MAX_AUTHORIZATION_BYTES * 2);
    enum ref_status rc = sign->fault == HARNESS_FAULT_SCOPE_TERMINATOR
                             ? sign_with_terminator(&p, &req, &auth)
                             : ref_sigv4_sign(&p, &req, &auth, NULL);
    if (rc == REF_OK && sign->fault == HARNESS_FAULT_FLIP_SIGNATURE_DIGIT) {
        static const char marker[] = "Signature=";
        for (size_t i = 0; i + sizeof(marker) - 1 < auth.len; i++) {
            if (memcmp(auth.data + i, marker, sizeof(marker) - 1) == 0) {
                uint8_t *c = &auth.data[i + sizeof(marker) - 1];
                *c = (*c == 'f') ? '0' : (*c == '9') ? 'a' : (uint8_t)(*c + 1);
                break;
            }
        }
    }
    if (rc == REF_OK) {
        rc = add_header(t->headers, t->num_headers, t->cap_headers, "Authorization", 13,
                        (const char *)auth.data, auth.len);
    }
    ref_buf_cleanup(&auth);
    return rc;
}

/* --- Building requests ------------------------------------------------------------- */

/* Ids a scenario created on a shared target, in creation order. */
struct created_ids {
    char (*ids)[HARNESS_MAX_ID_BYTES];
    size_t count;
};

struct run {
    const struct harness_scenario *sc;
    struct harness_backend *b;
    struct harness_vars vars;
    bool is_shared;
    char name_suffix[16]; /* "-k3j9x2ab" on a shared target, else "" */
    struct created_ids pipelines;
    struct created_ids jobs;
    bool lacked_principal; /* a step was skipped: the target lacks its principal */
    /* The target would not let the scenario have the pipelines it needs (contract section
     * 2b: such a scenario is skipped, never failed); the reason is kept for later steps. */
    bool lacked_pipelines;
    char pipeline_reason[192];
    size_t reserved;              /* taken from the backend's pipeline budget */
    int64_t pipeline_deadline_ms; /* 0 until the first wait for another's cleanup */
};

/* Expands ${vars} in s into a new NUL-terminated string. REF_E_NOT_FOUND names the
 * missing variable in why. */
static enum ref_status expand(struct run *r,
                              const char *s,
                              size_t len,
                              char **out,
                              size_t *out_len,
                              char *why,
                              size_t why_cap)
{
    struct ref_buf buf;
    ref_buf_init(&buf, MAX_BUILT_REQUEST);
    char missing[HARNESS_MAX_VAR_NAME_BYTES] = "";
    enum ref_status rc = harness_vars_expand(&r->vars, s, len, &buf, missing, sizeof(missing));
    if (rc == REF_OK) {
        rc = ref_buf_nul_terminate(&buf);
    }
    if (rc != REF_OK) {
        if (rc == REF_E_NOT_FOUND) {
            harness_textf(why, why_cap, "variable ${%s} has no value", missing);
        } else {
            harness_textf(why, why_cap, "cannot substitute variables (%s)", ref_status_name(rc));
        }
        ref_buf_cleanup(&buf);
        return rc;
    }
    if (buf.data == NULL) {
        *out = dup_n("", 0);
        *out_len = 0;
        return *out != NULL ? REF_OK : REF_E_NOMEM;
    }
    /* A copy from our own allocator: ref_buf memory belongs to ref_mem's hooks. */
    *out = dup_n((const char *)buf.data, buf.len);
    *out_len = buf.len;
    ref_buf_cleanup(&buf);
    return *out != NULL ? REF_OK : REF_E_NOMEM;
}

struct expand_ctx {
    struct run *r;
    char *why;
    size_t why_cap;
};

static json_t *expand_string(void *cls, json_t *s)
{
    struct expand_ctx *ctx = cls;
    char *text = NULL;
    size_t n = 0;
    if (expand(ctx->r, json_string_value(s), json_string_length(s), &text, &n, ctx->why,
               ctx->why_cap) != REF_OK) {
        return NULL;
    }
    json_t *out = json_stringn_nocheck(text, n);
    free(text);
    return out;
}

/* A copy of a params value with ${vars} expanded in every string. NULL with why set for
 * a variable that has no value, NULL with why empty when memory ran out. */
static json_t *expand_json(struct run *r, json_t *v, char *why, size_t why_cap)
{
    struct expand_ctx ctx = {.r = r, .why = why, .why_cap = why_cap};
    return harness_json_map_strings(v, expand_string, &ctx);
}

/* On a shared target every pipeline a scenario creates gets the run's suffix, so that
 * people sharing the endpoint can tell whose it is and cleanup never touches another's.
 * A name too long to take it (a length-limit test) is sent as written. */
static enum ref_status suffix_pipeline_name(struct run *r, json_t *body)
{
    json_t *name = json_object_get(body, "Name");
    size_t len = json_string_length(name);
    size_t suffix_len = strlen(r->name_suffix);
    if (!json_is_string(name) || len == 0 || len + suffix_len > HARNESS_MAX_PIPELINE_NAME) {
        return REF_OK;
    }
    char text[HARNESS_MAX_PIPELINE_NAME + 1];
    memcpy(text, json_string_value(name), len);
    memcpy(text + len, r->name_suffix, suffix_len);
    text[len + suffix_len] = '\0';
    return json_object_set_new(body, "Name", json_stringn(text, len + suffix_len)) == 0
               ? REF_OK
               : REF_E_NOMEM;
}

static enum ref_status append_encoded(struct ref_buf *out, const char *s, size_t n)
{
    return ref_uri_encode(ref_slice_make(s, n), false, out);
}

static enum ref_status build_call(struct run *r,
                                  const struct harness_request_spec *spec,
                                  struct harness_exchange *x,
                                  char *why,
                                  size_t why_cap)
{
    const struct ref_op_info *info = ref_op_info(spec->op);
    struct ref_buf target;
    ref_buf_init(&target, REF_MAX_TARGET_BYTES * 4);
    enum ref_status rc = ref_buf_appendf(&target, "/%s/%s", REF_API_VERSION, info->collection);
    char *s = NULL;
    size_t n = 0;
    if (rc == REF_OK && info->label_member != NULL) {
        json_t *label = json_object_get(spec->params, info->label_member);
        rc = ref_buf_append_cstr(&target, "/");
        if (rc == REF_OK) {
            rc = expand(r, json_string_value(label), json_string_length(label), &s, &n, why, why_cap);
        }
        if (rc == REF_OK) {
            rc = append_encoded(&target, s, n);
        }
        free(s);
        s = NULL;
    }
    if (rc == REF_OK && info->suffix != NULL) {
        rc = ref_buf_appendf(&target, "/%s", info->suffix);
    }
    if (rc == REF_OK && info->has_query && spec->params != NULL) {
        /* Ascending then PageToken, the order of the model's members. */
        static const char *const qnames[] = {"Ascending", "PageToken"};
        char sep = '?';
        for (size_t i = 0; rc == REF_OK && i < 2; i++) {
            json_t *v = json_object_get(spec->params, qnames[i]);
            if (v == NULL) {
                continue;
            }
            rc = ref_buf_appendf(&target, "%c%s=", sep, qnames[i]);
            sep = '&';
            if (rc != REF_OK) {
                break;
            }
            if (json_is_boolean(v)) {
                rc = ref_buf_append_cstr(&target, json_is_true(v) ? "true" : "false");
            } else {
                rc = expand(r, json_string_value(v), json_string_length(v), &s, &n, why, why_cap);
                if (rc == REF_OK) {
                    rc = append_encoded(&target, s, n);
                }
                free(s);
                s = NULL;
            }
        }
    }
    if (rc == REF_OK) {
        rc = ref_buf_nul_terminate(&target);
    }
    if (rc != REF_OK) {
        ref_buf_cleanup(&target);
        return rc;
    }
    x->target = dup_n((const char *)target.data, target.len);
    ref_buf_cleanup(&target);
    if (x->target == NULL) {
        return REF_E_NOMEM;
    }
    x->method = dup_n(info->method, strlen(info->method));
    if (x->method == NULL) {
        return REF_E_NOMEM;
    }
    rc = add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS, "Host", r->b->host);
    if (rc == REF_OK && info->has_body) {
        json_t *body = json_object();
        if (body == NULL) {
            return REF_E_NOMEM;
        }
        if (spec->params != NULL) {
            const char *key;
            json_t *v;
            json_object_foreach (spec->params, key, v) {
                if (info->label_member != NULL && strcmp(key, info->label_member) == 0) {
                    continue;
                }
                json_t *c = expand_json(r, v, why, why_cap);
                if (c == NULL) {
                    json_decref(body);
                    return why[0] != '\0' ? REF_E_NOT_FOUND : REF_E_NOMEM;
                }
                /* On failure jansson releases c; a body missing a member must not go out. */
                if (json_object_set_new(body, key, c) != 0) {
                    json_decref(body);
                    return REF_E_NOMEM;
                }
            }
        }
        if (spec->op == REF_OP_CREATE_PIPELINE && r->is_shared) {
            rc = suffix_pipeline_name(r, body);
            if (rc != REF_OK) {
                json_decref(body);
                return rc;
            }
        }
        char *text = harness_json_dump(body, JSON_COMPACT);
        json_decref(body);
        if (text == NULL) {
            return REF_E_NOMEM;
        }
        x->body_len = strlen(text);
        x->body = (uint8_t *)text;
        char len_text[24];
        harness_textf(len_text, sizeof(len_text), "%zu", x->body_len);
        rc = add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS, "Content-Type",
                             "application/json");
        if (rc == REF_OK) {
            rc = add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS, "Content-Length",
                                 len_text);
        }
    }
    return rc;
}

static enum ref_status
add_header_list(struct run *r, json_t *list, struct harness_exchange *x, char *why, size_t why_cap)
{
    size_t i;
    json_t *pair;
    json_array_foreach (list, i, pair) {
        json_t *name = json_array_get(pair, 0);
        json_t *value = json_array_get(pair, 1);
        char *nv = NULL;
        char *vv = NULL;
        size_t nn = 0;
        size_t vn = 0;
        enum ref_status rc =
            expand(r, json_string_value(name), json_string_length(name), &nv, &nn, why, why_cap);
        if (rc == REF_OK) {
            rc = expand(r, json_string_value(value), json_string_length(value), &vv, &vn, why,
                        why_cap);
        }
        if (rc == REF_OK) {
            rc = add_header(x->headers, &x->num_headers, MAX_REQUEST_HEADERS, nv, nn, vv, vn);
        }
        free(nv);
        free(vv);
        if (rc != REF_OK) {
            return rc;
        }
    }
    return REF_OK;
}

static enum ref_status build_raw(struct run *r,
                                 const struct harness_request_spec *spec,
                                 struct harness_exchange *x,
                                 char *why,
                                 size_t why_cap)
{
    size_t n = 0;
    REF_TRY(expand(r, spec->method, strlen(spec->method), &x->method, &n, why, why_cap));
    REF_TRY(expand(r, spec->target, strlen(spec->target), &x->target, &n, why, why_cap));
    bool has_host = false;
    bool has_framing = false;
    if (spec->headers != NULL) {
        size_t i;
        json_t *pair;
        json_array_foreach (spec->headers, i, pair) {
            const char *name = json_string_value(json_array_get(pair, 0));
            has_host = has_host || name_is(name, "Host");
            has_framing = has_framing || name_is(name, "Content-Length") ||
                          name_is(name, "Transfer-Encoding");
        }
    }
    if (spec->add_host && !has_host) {
        REF_TRY(
            add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS, "Host", r->b->host));
    }
    if (spec->headers != NULL) {
        REF_TRY(add_header_list(r, spec->headers, x, why, why_cap));
    }
    if (spec->body != NULL) {
        char *body = NULL;
        REF_TRY(expand(r, spec->body, spec->body_len, &body, &x->body_len, why, why_cap));
        x->body = (uint8_t *)body;
    }
    if (spec->auto_length && x->body_len > 0 && !has_framing) {
        char len_text[24];
        harness_textf(len_text, sizeof(len_text), "%zu", x->body_len);
        REF_TRY(add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS, "Content-Length",
                                len_text));
    }
    return REF_OK;
}

static enum ref_status serialize(struct harness_exchange *x, const char *version)
{
    struct ref_buf *out = &x->request;
    REF_TRY(ref_buf_appendf(out, "%s %s %s\r\n", x->method, x->target, version));
    for (size_t i = 0; i < x->num_headers; i++) {
        REF_TRY(ref_buf_appendf(out, "%s: %s\r\n", x->headers[i].name, x->headers[i].value));
    }
    REF_TRY(ref_buf_append_cstr(out, "\r\n"));
    return ref_buf_append(out, x->body, x->body_len);
}

/* Outcome of preparing a request. */
enum prep {
    PREP_OK = 0,
    PREP_SKIP,  /* the backend lacks the principal */
    PREP_ERROR, /* why says what */
};

static enum prep prepare(struct run *r,
                         const struct harness_step *step,
                         struct harness_exchange *x,
                         char *why,
                         size_t why_cap)
{
    enum ref_status rc = exchange_init(x);
    if (rc != REF_OK) {
        harness_textf(why, why_cap, "out of memory");
        return PREP_ERROR;
    }
    x->sign = step->sign;
    why[0] = '\0';
    const struct harness_request_spec *spec = &step->request;
    if (spec->is_verbatim) {
        x->is_verbatim = true;
        rc = ref_buf_append(&x->request, spec->bytes, spec->bytes_len);
        if (rc != REF_OK) {
            harness_textf(why, why_cap, "cannot hold the request (%s)", ref_status_name(rc));
            return PREP_ERROR;
        }
        return PREP_OK;
    }
    rc = step->kind == HARNESS_STEP_RAW ||
                 (step->kind == HARNESS_STEP_WAIT && spec->op == REF_OP_NONE)
             ? build_raw(r, spec, x, why, why_cap)
             : build_call(r, spec, x, why, why_cap);
    if (rc == REF_OK && spec->op != REF_OP_NONE && spec->headers != NULL) {
        rc = add_header_list(r, spec->headers, x, why, why_cap);
    }
    if (rc == REF_OK) {
        struct harness_sign_target t = {
            .method = x->method,
            .target = x->target,
            .headers = x->headers,
            .num_headers = &x->num_headers,
            .cap_headers = MAX_REQUEST_HEADERS,
            .body = x->body,
            .body_len = x->body_len,
        };
        rc = harness_sign_request(r->b, &step->sign, r->b->ops->now_ms(r->b), &t);
        if (rc == REF_E_NOT_FOUND) {
            harness_textf(why, why_cap, "the target has no %s principal",
                          harness_principal_name(step->sign.principal));
            r->lacked_principal = true;
            return PREP_SKIP;
        }
    }
    if (rc == REF_OK) {
        rc = serialize(x, spec->version != NULL ? spec->version : "HTTP/1.1");
    }
    if (rc != REF_OK) {
        if (why[0] == '\0') {
            harness_textf(why, why_cap, "cannot build the request (%s)", ref_status_name(rc));
        }
        return PREP_ERROR;
    }
    return PREP_OK;
}

/* --- Observing responses ----------------------------------------------------------- */

struct observation {
    struct harness_http_response http;
    struct ref_buf body_buf;
    json_t *body;
    struct harness_observed obs;
};

static void observation_cleanup(struct observation *o)
{
    json_decref(o->body);
    ref_buf_cleanup(&o->body_buf);
    memset(o, 0, sizeof(*o));
}

/* Parses x->response. False (why filled) when it is not an HTTP response. Nothing at
 * all means the endpoint closed the connection without answering: for a request written
 * out (allow_closed) that is an answer of its own, status 0, which only "closed" in an
 * expectation accepts; for an operation call it is a transport failure. */
static bool observe(
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
        char detail[256];
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

/* The reasons of steps an interruption stopped; the scenario's verdict looks for them. */
static const char s_interrupted_not_run[] = "not run: the run was interrupted";
static const char s_interrupted_wait[] = "not finished: the run was interrupted";

static bool is_interrupted(const struct harness_backend *b)
{
    return b->interrupted != NULL && atomic_load(b->interrupted);
}

/* One send through whichever entry point the backend has; on a transport failure why
 * says what happened (the backend's reason when it gives one). */
static enum ref_status backend_send(struct harness_backend *b,
                                    struct ref_slice request,
                                    struct ref_buf *response,
                                    char *why,
                                    size_t why_cap)
{
    char reason[384] = "";
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

static enum ref_status
send_one(struct run *r, struct harness_exchange *x, char *why, size_t why_cap)
{
    return backend_send(r->b, ref_buf_slice(&x->request), &x->response, why, why_cap);
}

static bool allows_closed(const struct harness_step *step)
{
    return step->request.op == REF_OP_NONE;
}

/* --- Step results ------------------------------------------------------------------ */

static struct harness_exchange *result_add_exchange(struct harness_step_result *s)
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
        exchange_cleanup(&s->exchanges[i]);
    }
    s->num_exchanges = 0;
}

static void set_reason(struct harness_step_result *s, enum harness_verdict v, const char *why)
{
    s->verdict = v;
    harness_textf(s->reason, sizeof(s->reason), "%s", why);
}

/* The verdict the checks imply (PASS, DEVIATION or FAIL). */
static enum harness_verdict verdict_from_checks(const struct harness_check_list *l, size_t from)
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
static bool creates_pipeline(const struct harness_step *step)
{
    if (step->kind == HARNESS_STEP_CALL) {
        return step->request.op == REF_OP_CREATE_PIPELINE;
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
static size_t pipelines_needed(const struct harness_scenario *sc)
{
    if (sc->pipelines > 0) {
        return sc->pipelines;
    }
    for (size_t i = 0; i < sc->num_steps; i++) {
        const struct harness_step *st = &sc->steps[i];
        if (creates_pipeline(st)) {
            return 1;
        }
        for (size_t k = 0; k < st->num_subs; k++) {
            if (creates_pipeline(&st->subs[k])) {
                return 1;
            }
        }
    }
    return 0;
}

/* Waits until the budget has room for the scenario's need. False, with the reason, when
 * the need is more than the whole budget: the scenario is skipped. */
static bool budget_reserve(struct run *r)
{
    struct harness_pipeline_budget *pb = r->b->pipeline_budget;
    size_t need = pipelines_needed(r->sc);
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

static void budget_add_held(struct run *r, size_t created, size_t deleted, size_t released)
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
static bool pipeline_refused(struct run *r)
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
        while (pb->held >= before &&
               pthread_cond_timedwait(&pb->changed, &pb->lock, &until) == 0) {
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

static enum ref_status ids_add(struct created_ids *l, const char *id, size_t len)
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
static enum ref_status
note_created(struct run *r, const struct harness_exchange *x, const struct observation *o)
{
    if (!r->is_shared || o->http.status / 100 != 2 || !json_is_object(o->body)) {
        return REF_OK;
    }
    struct ref_slice method;
    struct ref_slice path;
    sent_request_line(x, &method, &path);
    if (!ref_slice_eq_cstr(method, "POST")) {
        return REF_OK;
    }
    if (slice_ends_with(path, "/jobs")) {
        json_t *id = harness_json_path(o->body, "Job.Id");
        if (json_is_string(id)) {
            return ids_add(&r->jobs, json_string_value(id), json_string_length(id));
        }
    } else if (slice_ends_with(path, "/pipelines")) {
        json_t *id = harness_json_path(o->body, "Pipeline.Id");
        if (json_is_string(id)) {
            size_t before = r->pipelines.count;
            enum ref_status rc =
                ids_add(&r->pipelines, json_string_value(id), json_string_length(id));
            budget_add_held(r, r->pipelines.count - before, 0, 0);
            return rc;
        }
    }
    return REF_OK;
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

/* A string for a scenario parameter: "${" written as "$${" so that text which came from
 * the endpoint is never read as a variable. */
static json_t *literal_param(const char *text, size_t len)
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
    enum prep p = prepare(r, st, x, why, why_cap);
    if (p != PREP_OK) {
        return p == PREP_SKIP ? REF_E_NOT_FOUND : REF_E_INTERNAL;
    }
    REF_TRY(send_one(r, x, why, why_cap));
    if (!observe(x, o, false, why, why_cap)) {
        return REF_E_MALFORMED;
    }
    return note_created(r, x, o);
}

/* A signed operation call with these params (owned by the caller), by the main principal
 * unless `like` gives the signing. */
static enum ref_status side_call(struct run *r,
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
        json_t *tok = literal_param(json_string_value(token), json_string_length(token));
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
        rc = append_encoded(&target, json_string_value(token), json_string_length(token));
    }
    if (rc == REF_OK) {
        rc = ref_buf_nul_terminate(&target);
    }
    if (rc == REF_OK) {
        *target_out = dup_n((const char *)target.data, target.len);
        rc = *target_out != NULL ? REF_OK : REF_E_NOMEM;
    }
    ref_buf_cleanup(&target);
    st->kind = HARNESS_STEP_RAW;
    st->request.target = *target_out;
    return rc;
}

/* On a shared target a List answer holds what everybody created. The scenario's view is
 * its own items: the runner follows NextPageToken to the last page and keeps the items
 * whose Id the scenario created, in the order received; NextPageToken is then the last
 * page's. Steps that send their own PageToken see the page as it came. A step that asks
 * for all pages on a target of its own gets the same walk with every item kept. */
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
        char detail[384] = "";
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
        observation_cleanup(&po);
        exchange_cleanup(&px);
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
static enum ref_status localise(struct run *r,
                                const struct harness_step *step,
                                struct harness_exchange *x,
                                struct observation *o,
                                char *why,
                                size_t why_cap)
{
    if ((!r->is_shared && !step->all_pages) || x->is_closed) {
        return REF_OK;
    }
    REF_TRY(note_created(r, x, o));
    if (o->body == NULL) {
        return REF_OK;
    }
    /* On a target of its own the scenario asked for every page (all_pages): the same walk
     * as scoping, keeping every item. */
    bool changed = false;
    REF_TRY(scope_list(r, step, x, o, &changed, why, why_cap));
    changed = (r->is_shared && strip_name_suffix(r, o->body)) || changed;
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
        char why[384] = "";
        enum ref_status rc = side_call(r, op, params, NULL, &x, &o, why, sizeof(why));
        json_decref(params);
        if (rc == REF_OK) {
            *known = harness_is_unknown_operation(&o.obs) ? HARNESS_OP_SUPPORT_MISSING
                                                          : HARNESS_OP_SUPPORT_IMPLEMENTED;
            harness_textf(detail, detail_cap, "a well-formed %s request got %d %s",
                          ref_op_name(op), o.http.status,
                          x.error_code[0] != '\0' ? x.error_code : "(no error code)");
        }
        observation_cleanup(&o);
        exchange_cleanup(&x);
        if (rc == REF_E_NOMEM) {
            return rc;
        }
    } else if (*known == HARNESS_OP_SUPPORT_MISSING) {
        harness_textf(detail, detail_cap,
                      "a well-formed %s request got an unknown-operation answer",
                      ref_op_name(op));
    }
    *missing = *known == HARNESS_OP_SUPPORT_MISSING;
    return REF_OK;
}

/* The step FAILed on an unknown-operation answer: NOT IMPLEMENTED when a probe confirms
 * that the endpoint lacks the operation. */
static enum ref_status decide_not_implemented(struct run *r,
                                              const struct harness_step *step,
                                              const struct observation *o,
                                              struct harness_step_result *s)
{
    bool is_call = step->request.op != REF_OP_NONE && !step->request.is_verbatim;
    if (s->verdict != HARNESS_VERDICT_FAIL || !is_call || !harness_is_unknown_operation(&o->obs)) {
        return REF_OK;
    }
    bool missing = false;
    char detail[256];
    REF_TRY(op_is_missing(r, step->request.op, &missing, detail, sizeof(detail)));
    if (missing) {
        char why[400];
        harness_textf(why, sizeof(why), "the endpoint does not know %s (%s)",
                      ref_op_name(step->request.op), detail);
        set_reason(s, HARNESS_VERDICT_NOT_IMPLEMENTED, why);
    }
    return REF_OK;
}

/* Keeps the first problem of a cleanup: the one worth a line in the report. */
static void cleanup_problem(
    struct harness_cleanup *c, const char *what, const char *id, int status, const char *code)
{
    if (c->note[0] == '\0') {
        harness_textf(c->note, sizeof(c->note), "%s %s: %d %s", what, id, status, code);
    }
}

/* One cleanup call on an Id; *status is 0 when no answer came (why says why). */
static enum ref_status cleanup_call(
    struct run *r, enum ref_op op, const char *id, int *status, char *code, size_t code_cap)
{
    *status = 0;
    harness_textf(code, code_cap, "no answer");
    json_t *params = json_object();
    json_t *v = literal_param(id, strlen(id));
    if (params == NULL || v == NULL || json_object_set_new(params, "Id", v) != 0) {
        json_decref(params);
        return REF_E_NOMEM;
    }
    struct harness_exchange x;
    struct observation o;
    char why[384] = "";
    enum ref_status rc = side_call(r, op, params, NULL, &x, &o, why, sizeof(why));
    json_decref(params);
    if (rc == REF_OK) {
        *status = o.http.status;
        harness_textf(code, code_cap, "%s",
                      x.error_code[0] != '\0' ? x.error_code : "(no error code)");
    } else if (why[0] != '\0') {
        harness_textf(code, code_cap, "%s", why);
    }
    observation_cleanup(&o);
    exchange_cleanup(&x);
    return rc == REF_E_NOMEM ? rc : REF_OK;
}

/* Best effort, whatever the verdict: cancel the jobs the scenario created (a Submitted one
 * would otherwise run, or keep its pipeline busy), then delete its pipelines, waiting for
 * running jobs up to the backend's cleanup timeout. What could not be deleted is
 * reported, never hidden. */
static enum ref_status cleanup_shared(struct run *r, struct harness_cleanup *c)
{
    memset(c, 0, sizeof(*c));
    c->is_done = true;
    struct harness_backend *b = r->b;
    if (b->principals[HARNESS_PRINCIPAL_MAIN] == NULL) {
        c->pipelines_left = r->pipelines.count;
        if (r->pipelines.count > 0) {
            harness_textf(c->note, sizeof(c->note), "no main principal to delete with");
        }
        return REF_OK;
    }
    char code[384];
    int st = 0;
    for (size_t i = r->jobs.count; i-- > 0;) {
        REF_TRY(cleanup_call(r, REF_OP_CANCEL_JOB, r->jobs.ids[i], &st, code, sizeof(code)));
        if (st / 100 == 2) {
            c->jobs_canceled++;
        } else if (st != 404 && st != 409) {
            cleanup_problem(c, "cancel job", r->jobs.ids[i], st, code);
        }
    }
    int64_t timeout =
        b->cleanup_timeout_ms > 0 ? b->cleanup_timeout_ms : HARNESS_CLEANUP_TIMEOUT_MS;
    int64_t deadline = b->ops->now_ms(b) + timeout;
    for (size_t i = r->pipelines.count; i-- > 0;) {
        for (;;) {
            REF_TRY(cleanup_call(r, REF_OP_DELETE_PIPELINE, r->pipelines.ids[i], &st, code,
                                 sizeof(code)));
            if (st / 100 == 2 || st == 404) {
                c->pipelines_deleted++;
                budget_add_held(r, 0, 1, 0);
                break;
            }
            /* 409: jobs still running. Wait for them, within the timeout. */
            if (st == 409 && b->ops->sleep_ms != NULL && b->ops->now_ms(b) < deadline) {
                b->ops->sleep_ms(b, HARNESS_CLEANUP_POLL_MS);
                continue;
            }
            c->pipelines_left++;
            cleanup_problem(
                c, st == 409 ? "gave up waiting for its jobs, delete pipeline" : "delete pipeline",
                r->pipelines.ids[i], st, code);
            break;
        }
    }
    return REF_OK;
}

/* A suffix no other run is likely to pick: "-" and 8 of [a-z0-9]. */
static void make_name_suffix(char out[16])
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
    s->verdict = verdict_from_checks(&s->checks, from);
    return decide_not_implemented(r, step, o, s);
}

static enum ref_status
run_request_step(struct run *r, const struct harness_step *step, struct harness_step_result *s)
{
    char why[512];
again:;
    struct harness_exchange *x = result_add_exchange(s);
    if (x == NULL) {
        return REF_E_NOMEM;
    }
    enum prep p = prepare(r, step, x, why, sizeof(why));
    if (p != PREP_OK) {
        set_reason(s, p == PREP_SKIP ? HARNESS_VERDICT_SKIP : HARNESS_VERDICT_ERROR, why);
        return REF_OK;
    }
    if (send_one(r, x, why, sizeof(why)) != REF_OK) {
        set_reason(s, HARNESS_VERDICT_ERROR, why);
        return REF_OK;
    }
    struct observation o;
    if (!observe(x, &o, allows_closed(step), why, sizeof(why))) {
        observation_cleanup(&o);
        set_reason(s, HARNESS_VERDICT_ERROR, why);
        return REF_OK;
    }
    if (r->is_shared && o.http.status == 429 &&
        strcmp(x->error_code, "LimitExceededException") == 0 && creates_pipeline(step)) {
        observation_cleanup(&o);
        if (pipeline_refused(r)) {
            result_drop_exchanges(s);
            goto again;
        }
        r->lacked_pipelines = true;
        set_reason(s, HARNESS_VERDICT_SKIP, r->pipeline_reason);
        return REF_OK;
    }
    enum ref_status rc = localise(r, step, x, &o, why, sizeof(why));
    if (rc == REF_OK) {
        rc = judge(r, step, step->expects, step->num_expects, &o, s);
    } else if (rc != REF_E_NOMEM) {
        set_reason(s, HARNESS_VERDICT_ERROR, why);
        rc = REF_OK;
    }
    observation_cleanup(&o);
    return rc;
}

static enum ref_status
run_wait_step(struct run *r, const struct harness_step *step, struct harness_step_result *s)
{
    char why[512];
    struct harness_backend *b = r->b;
    int64_t start = b->ops->now_ms(b);
    int64_t deadline = start + step->timeout_ms;
    bool virtual_clock = harness_backend_has(b, HARNESS_CAP_VIRTUAL_CLOCK);
    struct harness_expect until = step->until;
    until.level = step->level;
    until.source = step->source;
    for (;;) {
        result_drop_exchanges(s);
        struct harness_exchange *x = result_add_exchange(s);
        if (x == NULL) {
            return REF_E_NOMEM;
        }
        enum prep p = prepare(r, step, x, why, sizeof(why));
        if (p != PREP_OK) {
            set_reason(s, p == PREP_SKIP ? HARNESS_VERDICT_SKIP : HARNESS_VERDICT_ERROR, why);
            return REF_OK;
        }
        if (send_one(r, x, why, sizeof(why)) != REF_OK) {
            set_reason(s, HARNESS_VERDICT_ERROR, why);
            return REF_OK;
        }
        s->polls++;
        struct observation o;
        if (!observe(x, &o, allows_closed(step), why, sizeof(why))) {
            observation_cleanup(&o);
            set_reason(s, HARNESS_VERDICT_ERROR, why);
            return REF_OK;
        }
        enum ref_status lrc = localise(r, step, x, &o, why, sizeof(why));
        if (lrc != REF_OK) {
            observation_cleanup(&o);
            if (lrc == REF_E_NOMEM) {
                return lrc;
            }
            set_reason(s, HARNESS_VERDICT_ERROR, why);
            return REF_OK;
        }
        struct harness_check_list scratch;
        harness_check_list_init(&scratch);
        bool held = false;
        enum ref_status rc = harness_expect_eval(&until, &o.obs, &r->vars, &scratch, &held);
        if (rc != REF_OK) {
            harness_check_list_cleanup(&scratch);
            observation_cleanup(&o);
            return rc;
        }
        const char *stop = NULL;
        int64_t now = b->ops->now_ms(b);
        if (!held) {
            int64_t when = 0;
            if (s->polls >= HARNESS_MAX_WAIT_POLLS) {
                stop = "gave up after the poll limit";
            } else if (virtual_clock) {
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
            } else if (is_interrupted(b)) {
                harness_check_list_cleanup(&scratch);
                observation_cleanup(&o);
                set_reason(s, HARNESS_VERDICT_SKIP, s_interrupted_wait);
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
                    char extra[200];
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
                s->verdict = verdict_from_checks(&s->checks, 0);
                rc = decide_not_implemented(r, step, &o, s);
            }
            observation_cleanup(&o);
            return rc;
        }
        harness_check_list_cleanup(&scratch);
        observation_cleanup(&o);
    }
}

/* --- Hooks ------------------------------------------------------------------------- */

static enum ref_status apply_clock(struct harness_backend *b, const struct harness_step *step)
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

static bool hook_available(const struct harness_backend *b, const struct harness_step *step)
{
    if (step->kind == HARNESS_STEP_CLOCK) {
        return harness_backend_has(b, HARNESS_CAP_VIRTUAL_CLOCK) && b->ops->set_clock_ms != NULL;
    }
    return harness_backend_has(b, HARNESS_CAP_HOOKS);
}

static enum ref_status
run_hook_step(struct run *r, const struct harness_step *step, struct harness_step_result *s)
{
    struct harness_backend *b = r->b;
    if (!hook_available(b, step)) {
        set_reason(s, HARNESS_VERDICT_SKIP, "in-process only: the target has no hooks");
        return REF_OK;
    }
    char why[256] = "";
    char *id = NULL;
    char *pipeline = NULL;
    char *status = NULL;
    size_t n = 0;
    enum ref_status rc = REF_OK;
    if (step->hook_id != NULL) {
        rc = expand(r, step->hook_id, strlen(step->hook_id), &id, &n, why, sizeof(why));
    }
    if (rc == REF_OK && step->hook_pipeline != NULL) {
        rc = expand(r, step->hook_pipeline, strlen(step->hook_pipeline), &pipeline, &n, why,
                    sizeof(why));
    }
    if (rc == REF_OK && step->hook_status != NULL) {
        rc = expand(r, step->hook_status, strlen(step->hook_status), &status, &n, why, sizeof(why));
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
                rc = apply_clock(b, step);
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
        set_reason(s, HARNESS_VERDICT_ERROR, why);
    } else {
        s->verdict = HARNESS_VERDICT_PASS;
    }
    return REF_OK;
}

/* --- Concurrent groups ------------------------------------------------------------- */

/* A start gate: every thread waits on it, the main thread opens it once all exist, so
 * the requests are released together (and a thread that could not be created leaves the
 * others free to go, unlike a barrier that would wait for it forever). */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t open_cv;
    bool is_open;
};

struct racer {
    struct run *run;
    const struct harness_step *sub;
    struct harness_exchange *x;
    struct gate *gate;
    enum ref_status rc;
    char why[384];
};

static void *race(void *arg)
{
    struct racer *t = arg;
    pthread_mutex_lock(&t->gate->lock);
    while (!t->gate->is_open) {
        pthread_cond_wait(&t->gate->open_cv, &t->gate->lock);
    }
    pthread_mutex_unlock(&t->gate->lock);
    if (t->sub->kind == HARNESS_STEP_CLOCK) {
        t->rc = apply_clock(t->run->b, t->sub);
    } else {
        t->rc = backend_send(t->run->b, ref_buf_slice(&t->x->request), &t->x->response, t->why,
                             sizeof(t->why));
    }
    return NULL;
}

static enum ref_status
run_concurrent_step(struct run *r, const struct harness_step *step, struct harness_step_result *s)
{
    char why[512];
    struct harness_backend *b = r->b;
    if (!harness_backend_has(b, HARNESS_CAP_CONCURRENT)) {
        set_reason(s, HARNESS_VERDICT_SKIP, "the target cannot take concurrent requests");
        return REF_OK;
    }
    size_t n = step->num_subs;
    struct racer racers[HARNESS_MAX_CONCURRENT];
    pthread_t threads[HARNESS_MAX_CONCURRENT];
    for (size_t i = 0; i < n; i++) {
        const struct harness_step *sub = &step->subs[i];
        struct harness_exchange *x = result_add_exchange(s);
        if (x == NULL) {
            return REF_E_NOMEM;
        }
        racers[i] = (struct racer){r, sub, NULL, NULL, REF_OK, ""};
        if (sub->kind == HARNESS_STEP_CLOCK) {
            if (!hook_available(b, sub)) {
                set_reason(s, HARNESS_VERDICT_SKIP, "in-process only: the target has no hooks");
                return REF_OK;
            }
            if (exchange_init(x) != REF_OK) {
                return REF_E_NOMEM;
            }
        } else {
            enum prep p = prepare(r, sub, x, why, sizeof(why));
            if (p != PREP_OK) {
                set_reason(s, p == PREP_SKIP ? HARNESS_VERDICT_SKIP : HARNESS_VERDICT_ERROR, why);
                return REF_OK;
            }
        }
        x->label = dup_n(sub->name, strlen(sub->name));
    }
    /* The exchanges array is final now: hand out pointers only after it stopped moving. */
    struct gate gate = {.is_open = false};
    pthread_mutex_init(&gate.lock, NULL);
    pthread_cond_init(&gate.open_cv, NULL);
    size_t started = 0;
    for (size_t i = 0; i < n; i++) {
        racers[i].x = &s->exchanges[i];
        racers[i].gate = &gate;
    }
    for (; started < n; started++) {
        if (pthread_create(&threads[started], NULL, race, &racers[started]) != 0) {
            break;
        }
    }
    for (size_t i = started; i < n; i++) {
        racers[i].rc = REF_E_INTERNAL; /* the system refused a thread: a harness failure */
    }
    pthread_mutex_lock(&gate.lock);
    gate.is_open = true;
    pthread_cond_broadcast(&gate.open_cv);
    pthread_mutex_unlock(&gate.lock);
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_cond_destroy(&gate.open_cv);
    pthread_mutex_destroy(&gate.lock);

    struct observation obs[HARNESS_MAX_CONCURRENT];
    memset(obs, 0, sizeof(obs));
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (racers[i].rc != REF_OK) {
            harness_textf(why, sizeof(why), "sub-step '%s': %s", step->subs[i].name,
                          racers[i].why[0] != '\0' ? racers[i].why : ref_status_name(racers[i].rc));
            ok = false;
        } else if (step->subs[i].kind != HARNESS_STEP_CLOCK) {
            if (!observe(&s->exchanges[i], &obs[i], allows_closed(&step->subs[i]), why,
                         sizeof(why))) {
                ok = false;
            } else {
                enum ref_status nrc = note_created(r, &s->exchanges[i], &obs[i]);
                if (nrc != REF_OK) {
                    for (size_t k = 0; k <= i; k++) {
                        observation_cleanup(&obs[k]);
                    }
                    return nrc;
                }
            }
        }
    }
    enum ref_status rc = REF_OK;
    if (!ok) {
        set_reason(s, HARNESS_VERDICT_ERROR, why);
        goto out;
    }
    size_t matched = step->num_outcomes;
    for (size_t k = 0; k < step->num_outcomes && matched == step->num_outcomes; k++) {
        const struct harness_outcome *oc = &step->outcomes[k];
        struct harness_check_list scratch;
        harness_check_list_init(&scratch);
        bool all = true;
        for (size_t i = 0; i < n && rc == REF_OK; i++) {
            if (!oc->has_expect[i]) {
                continue;
            }
            bool held = false;
            rc = harness_expect_eval(&oc->expect[i], &obs[i].obs, &r->vars, &scratch, &held);
            all = all && held;
        }
        harness_check_list_cleanup(&scratch);
        if (all && rc == REF_OK) {
            matched = k;
        }
    }
    if (rc != REF_OK) {
        goto out;
    }
    struct harness_check_result *c = harness_check_list_add(&s->checks);
    if (c == NULL) {
        rc = REF_E_NOMEM;
        goto out;
    }
    c->level = step->level;
    c->source = step->source != HARNESS_SOURCE_NONE ? step->source : HARNESS_SOURCE_INFERENCE;
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
    for (size_t i = 0; i < n && used < sizeof(c->actual); i++) {
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
    if (c->held) {
        size_t len = strlen(c->actual);
        harness_textf(c->actual + len, sizeof(c->actual) - len, " (outcome %zu)", matched + 1);
        json_t *set = step->outcomes[matched].set;
        const char *var;
        json_t *val;
        json_object_foreach (set, var, val) {
            rc = harness_vars_set(&r->vars, var, json_string_value(val), json_string_length(val));
            if (rc != REF_OK) {
                goto out;
            }
        }
    }
    s->verdict = verdict_from_checks(&s->checks, 0);
out:
    for (size_t i = 0; i < n; i++) {
        observation_cleanup(&obs[i]);
    }
    return rc;
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
        make_name_suffix(r.name_suffix);
    }
    enum ref_status rc = REF_OK;
    if (sc->vars != NULL) {
        const char *name;
        json_t *v;
        json_object_foreach (sc->vars, name, v) {
            rc = harness_vars_set(&r.vars, name, json_string_value(v), json_string_length(v));
            if (rc != REF_OK) {
                break;
            }
        }
    }
    bool lacks_hooks = !harness_backend_has(b, HARNESS_CAP_HOOKS | HARNESS_CAP_VIRTUAL_CLOCK);
    bool was_interrupted = false;
    const char *stop_reason = NULL;
    char stop_buf[256];
    if (sc->inproc_only && lacks_hooks) {
        stop_reason = "in-process only: the target has no hooks";
    } else if (r.is_shared && !budget_reserve(&r)) {
        r.lacked_pipelines = true;
        stop_reason = r.pipeline_reason;
    }
    for (size_t i = 0; i < sc->num_steps && rc == REF_OK; i++) {
        const struct harness_step *step = &sc->steps[i];
        struct harness_step_result *s = &out->steps[i];
        s->step = step;
        harness_check_list_init(&s->checks);
        if (stop_reason == NULL && is_interrupted(b)) {
            stop_reason = s_interrupted_not_run;
            was_interrupted = true;
        }
        if (stop_reason != NULL) {
            set_reason(s, HARNESS_VERDICT_SKIP, stop_reason);
            continue;
        }
        if (step->inproc_only && lacks_hooks) {
            /* Later steps do not depend on it (it captures nothing): go on. */
            set_reason(s, HARNESS_VERDICT_SKIP,
                       "in-process only: only the reference's own parser can see this request "
                       "whole");
            continue;
        }
        double ts = now_monotonic_ms();
        switch (step->kind) {
            case HARNESS_STEP_CALL:
            case HARNESS_STEP_RAW:
                rc = run_request_step(&r, step, s);
                break;
            case HARNESS_STEP_WAIT:
                rc = run_wait_step(&r, step, s);
                break;
            case HARNESS_STEP_CONCURRENT:
                rc = run_concurrent_step(&r, step, s);
                break;
            default:
                rc = run_hook_step(&r, step, s);
                if (rc == REF_OK && s->verdict == HARNESS_VERDICT_SKIP) {
                    /* Later steps rely on what the hook would have set up. */
                    stop_reason = "not run: an earlier in-process-only step was skipped";
                }
                break;
        }
        s->duration_ms = now_monotonic_ms() - ts;
        if (r.lacked_pipelines) {
            stop_reason = r.pipeline_reason;
        }
        if (s->verdict == HARNESS_VERDICT_FAIL || s->verdict == HARNESS_VERDICT_ERROR ||
            s->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED) {
            harness_textf(stop_buf, sizeof(stop_buf), "not run: step '%s' ended in %s", step->name,
                          harness_verdict_name(s->verdict));
            stop_reason = stop_buf;
        }
    }
    if (r.is_shared) {
        /* Even after a FAIL or an ERROR: the endpoint is shared. */
        enum ref_status crc = cleanup_shared(&r, &out->cleanup);
        rc = rc != REF_OK ? rc : crc;
        budget_add_held(&r, 0, 0, r.reserved);
    }
    free(r.pipelines.ids);
    free(r.jobs.ids);
    out->vars = r.vars; /* moved: the result owns the values now */
    harness_textf(out->name_suffix, sizeof(out->name_suffix), "%s", r.name_suffix);
    if (rc != REF_OK) {
        harness_scenario_result_cleanup(out);
        return rc;
    }
    enum harness_verdict v = HARNESS_VERDICT_SKIP;
    for (size_t i = 0; i < out->num_steps; i++) {
        v = harness_verdict_worse(v, out->steps[i].verdict);
        was_interrupted = was_interrupted || strcmp(out->steps[i].reason, s_interrupted_wait) == 0;
    }
    /* Half a scenario passed is not a pass: one that was interrupted, or that needs a
     * principal the target lacks, is a SKIP, unless what did run already failed. */
    if ((was_interrupted || r.lacked_principal || r.lacked_pipelines) &&
        (v == HARNESS_VERDICT_PASS || v == HARNESS_VERDICT_DEVIATION)) {
        v = HARNESS_VERDICT_SKIP;
    }
    out->verdict = v;
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
