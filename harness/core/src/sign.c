/* SPDX-License-Identifier: Apache-2.0
 *
 * sign.c - signs a request the runner built, as a scenario step says: which principal,
 * which SignedHeaders, a session token right, wrong or left out, x-amz-content-sha256, a
 * date offset, and the signature faults (a wrong secret, an unknown key, a scope with
 * another date, region, service or terminator, one hex digit of the signature changed,
 * host left unsigned).
 *
 * The headers a signer adds come from the reference's signing result
 * (ref_sigv4_sign_request), so they are written in one place; the faults change its
 * parameters, or the Authorization value it returns, never the rest of the request.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/sign.h"

#include "runner_internal.h"

#include "harness/text.h"

#include "ref/http.h"
#include "ref/limits.h"
#include "ref/service.h"
#include "ref/sigv4.h"

#include <stdlib.h>
#include <string.h>

/* Signed header names are compared and sorted in a buffer this big; longer ones are cut. */
#define SIGNED_NAME_BYTES 64

/* Credentials and values for the signing faults: obviously fake, never a real secret. */
#define WRONG_SECRET    "etch/wrong/secret/key/EXAMPLEKEY000000000000"
#define UNKNOWN_KEY_ID  "AKIDUNKNOWNEXAMPLE00"
#define WRONG_TOKEN     "etch/session/token/WRONG"
#define WRONG_SCOPE_SVC "s3"

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

/* The lower-case names to sign: the scenario's list, or every signable header of the
 * request as it will be sent (its own, then the `added` ones the signing result brings),
 * sorted and unique; omit-host then drops host. Names point into `storage`. */
static enum ref_status signed_names(const struct harness_sign *sign,
                                    const struct harness_sign_target *t,
                                    const char *const *added,
                                    size_t num_added,
                                    char storage[][SIGNED_NAME_BYTES],
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
        for (size_t i = 0; i < *t->num_headers + num_added; i++) {
            const char *name =
                i < *t->num_headers ? t->headers[i].name : added[i - *t->num_headers];
            char lower[SIGNED_NAME_BYTES];
            size_t k = 0;
            for (const char *p = name; *p != '\0' && k + 1 < sizeof(lower); p++) {
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

/* The faults that sign with other credentials or another scope go in the parameters; the
 * scope-date and terminator faults need a signature ref_sigv4_sign_request never makes
 * (authorization_for). */
static void fault_params(const struct harness_backend *b,
                         enum harness_fault fault,
                         struct ref_sigv4_sign_params *p)
{
    switch (fault) {
        case HARNESS_FAULT_WRONG_SECRET:
            p->secret_access_key = REF_SLICE_LIT(WRONG_SECRET);
            break;
        case HARNESS_FAULT_UNKNOWN_KEY:
            p->access_key_id = REF_SLICE_LIT(UNKNOWN_KEY_ID);
            p->secret_access_key = REF_SLICE_LIT(WRONG_SECRET);
            break;
        case HARNESS_FAULT_SCOPE_REGION:
            p->region = strcmp(b->region, "us-west-2") == 0 ? REF_SLICE_LIT("eu-west-1")
                                                            : REF_SLICE_LIT("us-west-2");
            break;
        case HARNESS_FAULT_SCOPE_SERVICE:
            p->service = REF_SLICE_LIT(WRONG_SCOPE_SVC);
            break;
        default:
            break;
    }
}

/* The Authorization value to send: the signing result's, or for the scope-date and
 * terminator faults one signed again over the same request (the caller's headers and the
 * result's additions before Authorization) with the fault's scope. */
static enum ref_status authorization_for(enum harness_fault fault,
                                         const struct ref_sigv4_sign_params *p,
                                         const struct ref_sigv4_request *req,
                                         const struct ref_sigv4_signing_result *res,
                                         struct ref_slice scope_date,
                                         struct ref_buf *auth)
{
    if (fault != HARNESS_FAULT_SCOPE_DATE && fault != HARNESS_FAULT_SCOPE_TERMINATOR) {
        return ref_buf_append_slice(auth, ref_sigv4_signing_result_authorization(res));
    }
    struct ref_header all[MAX_REQUEST_HEADERS + REF_SIGV4_MAX_ADDED_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < req->num_headers; i++) {
        all[n++] = req->headers[i];
    }
    REF_TRY(ref_sigv4_signing_result_apply(res, all, &n, sizeof(all) / sizeof(all[0])));
    struct ref_sigv4_request sent = *req;
    sent.headers = all;
    sent.num_headers = n - 1; /* without the result's Authorization */
    if (fault == HARNESS_FAULT_SCOPE_TERMINATOR) {
        return sign_with_terminator(p, &sent, auth);
    }
    /* The scope (and the key) carry yesterday's date; X-Amz-Date stays today's. */
    struct ref_sigv4_sign_params yesterday = *p;
    yesterday.amz_date = scope_date;
    return ref_sigv4_sign(&yesterday, &sent, auth, NULL);
}

/* Changes the first hex digit of the signature, so it no longer matches. */
static void flip_signature_digit(struct ref_buf *auth)
{
    static const char marker[] = "Signature=";
    for (size_t i = 0; i + sizeof(marker) - 1 < auth->len; i++) {
        if (memcmp(auth->data + i, marker, sizeof(marker) - 1) == 0) {
            uint8_t *c = &auth->data[i + sizeof(marker) - 1];
            *c = (*c == 'f') ? '0' : (*c == '9') ? 'a' : (uint8_t)(*c + 1);
            break;
        }
    }
}

/* Adds the result's headers to the caller's request, Authorization last with the value
 * given (the result's own, or a fault's). */
static enum ref_status add_signing_headers(struct harness_sign_target *t,
                                           const struct ref_sigv4_signing_result *res,
                                           struct ref_slice authorization)
{
    for (size_t i = 0; i + 1 < res->num_headers; i++) {
        struct ref_slice name = res->headers[i].name;
        struct ref_slice value = res->headers[i].value;
        REF_TRY(runner_add_header(t->headers, t->num_headers, t->cap_headers,
                                  (const char *)name.ptr, name.len, (const char *)value.ptr,
                                  value.len));
    }
    return runner_add_header(t->headers, t->num_headers, t->cap_headers,
                             REF_SIGV4_AUTHORIZATION_HEADER,
                             sizeof(REF_SIGV4_AUTHORIZATION_HEADER) - 1,
                             (const char *)authorization.ptr, authorization.len);
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
    char amz_date[REF_SIGV4_AMZ_DATE_LEN + 1];
    ref_sigv4_format_amz_date(now_s, amz_date);
    const char *token = NULL;
    if (sign->principal == HARNESS_PRINCIPAL_TEMPORARY && sign->token != HARNESS_TOKEN_OMIT) {
        token = sign->token == HARNESS_TOKEN_WRONG ? WRONG_TOKEN : cred->session_token;
    }
    /* What the signing result will add before Authorization, so that the names to sign
     * are chosen from the request as it will be sent. */
    const char *added[REF_SIGV4_MAX_ADDED_HEADERS];
    size_t num_added = 0;
    added[num_added++] = REF_SIGV4_DATE_HEADER;
    if (token != NULL) {
        added[num_added++] = REF_SIGV4_TOKEN_HEADER;
    }
    if (sign->content_sha256) {
        added[num_added++] = REF_SIGV4_CONTENT_SHA256_HEADER;
    }

    char storage[HARNESS_MAX_SIGNED_HEADERS][SIGNED_NAME_BYTES];
    const char *names[HARNESS_MAX_SIGNED_HEADERS];
    size_t num_names = 0;
    REF_TRY(signed_names(sign, t, added, num_added, storage, names, &num_names));
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

    struct ref_sigv4_sign_params p = {
        .access_key_id = ref_slice_from_cstr(cred->access_key_id),
        .secret_access_key = ref_slice_from_cstr(cred->secret_access_key),
        .region = ref_slice_from_cstr(b->region),
        .service = ref_slice_from_cstr(b->service),
        .amz_date = ref_slice_make(amz_date, REF_SIGV4_AMZ_DATE_LEN),
        .signed_headers = name_slices,
        .num_signed_headers = num_names,
        .session_token = token != NULL ? ref_slice_from_cstr(token) : (struct ref_slice){0},
        .has_content_sha256 = sign->content_sha256,
    };
    fault_params(b, sign->fault, &p);
    char scope_date[REF_SIGV4_AMZ_DATE_LEN + 1];
    ref_sigv4_format_amz_date(now_s - 86400, scope_date);

    struct ref_sigv4_signing_result res;
    struct ref_buf auth;
    ref_buf_init(&auth, REF_MAX_AUTHORIZATION_BYTES * 2);
    enum ref_status rc = ref_sigv4_sign_request(&p, &req, &res, NULL);
    if (rc == REF_OK) {
        rc = authorization_for(sign->fault, &p, &req, &res,
                               ref_slice_make(scope_date, REF_SIGV4_AMZ_DATE_LEN), &auth);
    }
    if (rc == REF_OK && sign->fault == HARNESS_FAULT_FLIP_SIGNATURE_DIGIT) {
        flip_signature_digit(&auth);
    }
    if (rc == REF_OK) {
        rc = add_signing_headers(t, &res, ref_buf_slice(&auth));
    }
    ref_sigv4_signing_result_cleanup(&res);
    ref_buf_cleanup(&auth);
    return rc;
}

/* --- Signing again a request written with its own signature ------------------------ */

/* The 64 hex digits after "Signature=" in an Authorization value, or an empty slice. */
static struct ref_slice signature_digits(struct ref_slice auth)
{
    static const char marker[] = "Signature=";
    size_t m = sizeof(marker) - 1;
    for (size_t i = 0; i + m + REF_SHA256_HEX_LEN <= auth.len; i++) {
        if (memcmp(auth.ptr + i, marker, m) == 0) {
            return ref_slice_make(auth.ptr + i + m, REF_SHA256_HEX_LEN);
        }
    }
    return ref_slice_make(auth.ptr, 0);
}

static bool is_lower_hex(struct ref_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return s.len == REF_SHA256_HEX_LEN;
}

/* The run's credential with this access key id, or NULL. */
static const struct ref_credential *principal_with_key(const struct harness_backend *b,
                                                       struct ref_slice key)
{
    for (size_t p = 0; p < HARNESS_PRINCIPAL_COUNT; p++) {
        const struct ref_credential *c = b->principals[p];
        if (c != NULL && ref_slice_eq_cstr(key, c->access_key_id)) {
            return c;
        }
    }
    return NULL;
}

/* The contract's test principal with this access key id, or NULL: a request written with
 * its own signature is signed by one of them (contract section 7). */
static const struct ref_credential *test_principal_with_key(struct ref_slice key)
{
    size_t n = sizeof(ref_test_credentials) / sizeof(ref_test_credentials[0]);
    for (size_t i = 0; i < n; i++) {
        if (ref_slice_eq_cstr(key, ref_test_credentials[i].access_key_id)) {
            return &ref_test_credentials[i];
        }
    }
    return NULL;
}

/* The signature a serialised request written with its own Authorization should carry:
 * computed as that Authorization says (access key, scope, SignedHeaders) at its
 * X-Amz-Date, with the secret of the run's principal of that key. With fix_hash, a signed
 * x-amz-content-sha256 is first made the body's again, in place. *digits gets where the
 * written signature's 64 hex digits are in the request; *is_signable is false (and
 * nothing computed) for a request the run cannot sign. With by_test_key, the secret is
 * instead the contract's test principal's of that key (whether the run has it or not). */
static enum ref_status expected_signature(struct run *r,
                                          struct ref_buf *request,
                                          bool fix_hash,
                                          bool by_test_key,
                                          char out[REF_SHA256_HEX_LEN],
                                          size_t *digits_at,
                                          bool *is_signable)
{
    *is_signable = false;
    struct ref_http_request req;
    struct ref_parse_error err;
    struct ref_buf body_buf;
    ref_buf_init(&body_buf, REF_MAX_BODY_BYTES);
    enum ref_status rc = ref_http_parse_request(ref_buf_slice(request), &req, &body_buf, &err);
    const struct ref_header *auth_h =
        rc == REF_OK
            ? ref_http_find_header(req.headers, req.num_headers, REF_SLICE_LIT("authorization"))
            : NULL;
    const struct ref_header *date_h =
        rc == REF_OK
            ? ref_http_find_header(req.headers, req.num_headers, REF_SLICE_LIT("x-amz-date"))
            : NULL;
    struct ref_sigv4_auth auth;
    const struct ref_credential *cred = NULL;
    if (auth_h != NULL && date_h != NULL &&
        ref_sigv4_parse_authorization(auth_h->value, &auth, &err) == REF_OK) {
        cred = by_test_key ? test_principal_with_key(auth.access_key_id)
                           : principal_with_key(r->b, auth.access_key_id);
    }
    struct ref_slice digits =
        cred != NULL ? signature_digits(auth_h->value) : (struct ref_slice){0};
    if (cred == NULL || digits.len == 0) {
        ref_buf_cleanup(&body_buf);
        return REF_OK;
    }
    *is_signable = true;
    *digits_at = (size_t)(digits.ptr - request->data);
    const struct ref_header *hash_h = ref_http_find_header(
        req.headers, req.num_headers, REF_SLICE_LIT(REF_SIGV4_CONTENT_SHA256_HEADER));
    if (fix_hash && hash_h != NULL && is_lower_hex(hash_h->value)) {
        char hash[REF_SHA256_HEX_LEN];
        ref_sigv4_sha256_hex(req.body, hash);
        memcpy(request->data + (hash_h->value.ptr - request->data), hash, sizeof(hash));
    }
    /* Every header but Authorization, as the verifier sees them. */
    struct ref_header headers[REF_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < req.num_headers; i++) {
        if (&req.headers[i] != auth_h) {
            headers[n++] = req.headers[i];
        }
    }
    struct ref_sigv4_request sreq = {
        .method = req.method,
        .path = req.path,
        .query = req.query,
        .headers = headers,
        .num_headers = n,
        .body = req.body,
    };
    struct ref_sigv4_sign_params p = {
        .access_key_id = auth.access_key_id,
        .secret_access_key = ref_slice_from_cstr(cred->secret_access_key),
        .region = auth.scope_region,
        .service = auth.scope_service,
        .amz_date = date_h->value,
        .signed_headers = auth.signed_headers,
        .num_signed_headers = auth.num_signed_headers,
        .is_date_in_request = true,
    };
    struct ref_sigv4_signing_result res;
    rc = ref_sigv4_sign_request(&p, &sreq, &res, NULL);
    if (rc == REF_OK) {
        struct ref_slice fresh = signature_digits(ref_sigv4_signing_result_authorization(&res));
        if (fresh.len == REF_SHA256_HEX_LEN) {
            memcpy(out, fresh.ptr, REF_SHA256_HEX_LEN);
        } else {
            rc = REF_E_INTERNAL;
        }
    }
    ref_sigv4_signing_result_cleanup(&res);
    ref_buf_cleanup(&body_buf);
    return rc;
}

/* Moves the request's X-Amz-Date, and the date of its credential scope, ms later, in
 * place (both keep their length). */
static enum ref_status redate(struct run *r, struct harness_exchange *x, int64_t ms)
{
    struct ref_http_request req;
    struct ref_parse_error err;
    REF_TRY(ref_http_parse_head(ref_buf_slice(&x->request), &req, &(size_t){0}, &err));
    const struct ref_header *date_h =
        ref_http_find_header(req.headers, req.num_headers, REF_SLICE_LIT("x-amz-date"));
    if (date_h == NULL) {
        /* A Date header in ISO-8601 basic form serves as the date (contract section 8). */
        date_h = ref_http_find_header(req.headers, req.num_headers, REF_SLICE_LIT("date"));
    }
    const struct ref_header *auth_h =
        ref_http_find_header(req.headers, req.num_headers, REF_SLICE_LIT("authorization"));
    struct ref_sigv4_auth auth;
    int64_t written_s = 0;
    if (date_h == NULL || auth_h == NULL || date_h->value.len != REF_SIGV4_AMZ_DATE_LEN ||
        ref_sigv4_parse_amz_date(date_h->value, &written_s, &err) != REF_OK ||
        ref_sigv4_parse_authorization(auth_h->value, &auth, &err) != REF_OK ||
        auth.scope_date.len != 8) {
        return REF_OK; /* nothing dated to move */
    }
    /* The scope's day moves by as many days as X-Amz-Date's did, so that a scope written
     * with another day than the date (a scenario about exactly that) keeps its fault. */
    char scope_text[REF_SIGV4_AMZ_DATE_LEN + 1];
    memcpy(scope_text, auth.scope_date.ptr, 8);
    memcpy(scope_text + 8, "T000000Z", 9);
    int64_t scope_s = 0;
    if (ref_sigv4_parse_amz_date(ref_slice_make(scope_text, REF_SIGV4_AMZ_DATE_LEN), &scope_s,
                                 &err) != REF_OK) {
        return REF_OK; /* not a day: left as written */
    }
    int64_t moved_s = written_s + ms / 1000;
    int64_t day_shift_s = (moved_s / 86400 - written_s / 86400) * 86400;
    char moved[REF_SIGV4_AMZ_DATE_LEN + 1];
    char moved_scope[REF_SIGV4_AMZ_DATE_LEN + 1];
    ref_sigv4_format_amz_date(moved_s, moved);
    ref_sigv4_format_amz_date(scope_s + day_shift_s, moved_scope);
    /* Answers that quote the dates (a scope mismatch, an expiry) show the written ones. */
    REF_TRY(runner_alias_answer(r, (const char *)date_h->value.ptr, moved, REF_SIGV4_AMZ_DATE_LEN));
    REF_TRY(runner_alias_answer(r, (const char *)date_h->value.ptr, moved, 8));
    REF_TRY(runner_alias_answer(r, (const char *)auth.scope_date.ptr, moved_scope, 8));
    memcpy(x->request.data + (date_h->value.ptr - x->request.data), moved, REF_SIGV4_AMZ_DATE_LEN);
    memcpy(x->request.data + (auth.scope_date.ptr - x->request.data), moved_scope, 8);
    return REF_OK;
}

/* Only a request whose written signature held for what was written is signed again: one
 * changed after signing on purpose (a scenario about exactly that) keeps its signature,
 * which covers the new Ids or date no better than the change. Both the payload hash and the
 * signature keep their length, so the rest of the request does not move. */
enum ref_status runner_resign_raw(struct run *r, struct harness_exchange *x)
{
    struct ref_buf written;
    ref_buf_init(&written, x->request.max);
    enum ref_status rc = ref_buf_append(&written, x->request.data, x->request.len);
    char sig[REF_SHA256_HEX_LEN];
    size_t at = 0;
    bool is_signable = false;
    if (rc == REF_OK) {
        runner_unalias_bytes(r, written.data, written.len);
        rc = expected_signature(r, &written, false, false, sig, &at, &is_signable);
    }
    bool held =
        rc == REF_OK && is_signable && memcmp(written.data + at, sig, REF_SHA256_HEX_LEN) == 0;
    /* Written and validly signed by a test principal the run lacks: it cannot be signed
     * again for the run's Ids or date, and sent as written it would be refused for a key
     * the target does not know, which is not what the step is about. */
    bool held_for_absent = false;
    if (rc == REF_OK && !is_signable) {
        rc = expected_signature(r, &written, false, true, sig, &at, &is_signable);
        held_for_absent =
            rc == REF_OK && is_signable && memcmp(written.data + at, sig, REF_SHA256_HEX_LEN) == 0;
    }
    ref_buf_cleanup(&written);
    if (rc != REF_OK) {
        return rc;
    }
    if (held_for_absent) {
        return REF_E_NOT_FOUND;
    }
    /* Moved to the time the scenario set, signed or not: a signature that did not hold (an
     * unknown key, a change after signing) is refused for what it was written to show,
     * not for its age. */
    if (r->redate_ms != 0) {
        REF_TRY(redate(r, x, r->redate_ms));
    }
    if (!held) {
        return REF_OK;
    }
    rc = expected_signature(r, &x->request, true, false, sig, &at, &is_signable);
    if (rc == REF_OK && is_signable) {
        memcpy(x->request.data + at, sig, REF_SHA256_HEX_LEN);
    }
    return rc;
}
