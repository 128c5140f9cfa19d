/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_sign.c - the SigV4 signer the harness and `etch sigv4 sign` use.
 *
 * It builds exactly the canonical request the verifier rebuilds (same function), so a
 * request it signs verifies unless something changes on the way. Inputs are borrowed; the
 * Authorization value is appended to the caller's buffer, all or nothing. The signing key
 * comes from the caller's key cache when the parameters name one, and is wiped before
 * returning; ordinary requests are signed without allocating.
 *
 * ref_sigv4_sign_request is the call for a request about to be sent: it returns what the
 * signer adds (X-Amz-Date, the token, x-amz-content-sha256, then Authorization) as a signing
 * result with storage of its own, signed over the request as it will be with them, so no
 * caller writes those headers by hand.
 */
#include "ref/sigv4.h"

#include "ref/mem.h"

#include "ascii_internal.h"
#include "sigv4_internal.h"

#include <assert.h>

/* Stack space for the canonical request, the string to sign and the scope of ordinary
 * requests. */
#define SIGN_CANONICAL_STACK_BYTES 2048
#define SIGN_SMALL_STACK_BYTES     512

/* Headers a proxy may add, drop or rewrite, so signing them breaks requests in transit
 * (botocore SIGNED_HEADERS_BLACKLIST, aws-c-auth's skip list; sigv4-notes). */
static bool is_unsignable(struct ref_slice lower_name)
{
    static const char *const names[] = {
        "authorization", "user-agent", "expect",  "transfer-encoding", "connection",
        "keep-alive",    "te",         "trailer", "upgrade",           "x-amzn-trace-id",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (ref_slice_eq_cstr(lower_name, names[i])) {
            return true;
        }
    }
    return ref_slice_starts_with(lower_name, REF_SLICE_LIT("proxy-"));
}

struct name_list {
    struct ref_slice names[REF_MAX_SIGNED_HEADERS];
    size_t count;
    struct ref_buf storage; /* the lower-cased names the slices point into */
};

/* Every header present, lower-cased, minus the unsignable ones, sorted, each once. */
static enum ref_status collect_names(const struct ref_sigv4_request *req, struct name_list *list)
{
    size_t total = 0;
    for (size_t i = 0; i < req->num_headers; i++) {
        total += req->headers[i].name.len;
    }
    ref_buf_init(&list->storage, total + 1);
    list->count = 0;
    /* Lower-case every name into one buffer first, then point slices into it: the buffer
     * does not move once it has been written. */
    size_t offsets[REF_MAX_HEADERS + 1];
    size_t num = req->num_headers;
    if (num > REF_MAX_HEADERS) {
        return REF_E_TOO_LARGE;
    }
    /* Room for every name at once, so the bytes go straight in (a checked append per byte
     * was a good part of the signer's time under the fuzz targets' instrumentation). */
    REF_TRY(ref_buf_reserve(&list->storage, total + 1));
    for (size_t i = 0; i < num; i++) {
        offsets[i] = list->storage.len;
        struct ref_slice n = req->headers[i].name;
        if (n.len > 0) {
            ref_ascii_lower_copy(list->storage.data + list->storage.len, n.ptr, n.len);
            list->storage.len += n.len;
        }
    }
    offsets[num] = list->storage.len;
    for (size_t i = 0; i < num; i++) {
        struct ref_slice name =
            ref_slice_make(list->storage.data + offsets[i], offsets[i + 1] - offsets[i]);
        if (name.len == 0 || is_unsignable(name)) {
            continue;
        }
        /* Insert in order, skipping a name already present. */
        size_t at = list->count;
        bool duplicate = false;
        while (at > 0) {
            int c = ref_sigv4_slice_cmp(list->names[at - 1], name);
            if (c == 0) {
                duplicate = true;
                break;
            }
            if (c < 0) {
                break;
            }
            at--;
        }
        if (duplicate) {
            continue;
        }
        if (list->count == REF_MAX_SIGNED_HEADERS) {
            return REF_E_TOO_LARGE;
        }
        for (size_t k = list->count; k > at; k--) {
            list->names[k] = list->names[k - 1];
        }
        list->names[at] = name;
        list->count++;
    }
    return REF_OK;
}

static enum ref_status append_authorization(const struct ref_sigv4_sign_params *p,
                                            struct ref_slice scope,
                                            const struct ref_slice *names,
                                            size_t num_names,
                                            const char signature[REF_SHA256_HEX_LEN],
                                            struct ref_buf *out)
{
    REF_TRY(ref_buf_append_cstr(out, REF_SIGV4_ALGORITHM " Credential="));
    REF_TRY(ref_buf_append_slice(out, p->access_key_id));
    REF_TRY(ref_buf_append_byte(out, '/'));
    REF_TRY(ref_buf_append_slice(out, scope));
    REF_TRY(ref_buf_append_cstr(out, ", SignedHeaders="));
    for (size_t i = 0; i < num_names; i++) {
        if (i > 0) {
            REF_TRY(ref_buf_append_byte(out, ';'));
        }
        REF_TRY(ref_buf_append_slice(out, names[i]));
    }
    REF_TRY(ref_buf_append_cstr(out, ", Signature="));
    return ref_buf_append(out, signature, REF_SHA256_HEX_LEN);
}

/* Scope: <date>/<region>/<service>/aws4_request, the date taken from the timestamp. */
static enum ref_status append_scope(const struct ref_sigv4_sign_params *p, struct ref_buf *out)
{
    REF_TRY(ref_buf_append_slice(out, ref_slice_sub(p->amz_date, 0, 8)));
    REF_TRY(ref_buf_append_byte(out, '/'));
    REF_TRY(ref_buf_append_slice(out, p->region));
    REF_TRY(ref_buf_append_byte(out, '/'));
    REF_TRY(ref_buf_append_slice(out, p->service));
    return ref_buf_append_cstr(out, "/aws4_request");
}

/* A buffer over stack storage when `need` fits it, else on the heap up to max. */
static void
scratch_init(struct ref_buf *b, uint8_t *stack, size_t stack_bytes, size_t need, size_t max)
{
    if (need <= stack_bytes) {
        ref_buf_init_fixed(b, stack, stack_bytes);
    } else {
        ref_buf_init(b, max);
    }
}

enum ref_status ref_sigv4_sign(const struct ref_sigv4_sign_params *p,
                               const struct ref_sigv4_request *req,
                               struct ref_buf *authorization_out,
                               struct ref_sigv4_trace *trace)
{
    assert(p != NULL && req != NULL && ref_buf_is_valid(authorization_out));
    int64_t t = 0;
    REF_TRY(ref_sigv4_parse_amz_date(p->amz_date, &t, NULL));

    struct name_list list;
    ref_buf_init(&list.storage, 0);
    /* The stages go on the stack for ordinary requests; the canonical request moves to the
     * heap only when the stack copy runs out of room. */
    uint8_t creq_stack[SIGN_CANONICAL_STACK_BYTES];
    uint8_t sts_stack[SIGN_SMALL_STACK_BYTES];
    uint8_t scope_stack[SIGN_SMALL_STACK_BYTES];
    struct ref_buf creq, sts, scope;
    ref_buf_init_fixed(&creq, creq_stack, sizeof creq_stack);
    scratch_init(&sts, sts_stack, sizeof sts_stack, 256 + p->region.len + p->service.len,
                 256 + p->region.len + p->service.len);
    scratch_init(&scope, scope_stack, sizeof scope_stack, 64 + p->region.len + p->service.len,
                 64 + p->region.len + p->service.len);
    struct ref_hmac_sha256_key hmac;
    uint8_t mac[REF_SHA256_LEN];
    char signature[REF_SHA256_HEX_LEN] = {0};
    char body_hash[REF_SHA256_HEX_LEN];
    size_t base = authorization_out->len;
    bool has_key = false;

    const struct ref_slice *names = p->signed_headers;
    size_t num_names = p->num_signed_headers;
    enum ref_status rc = REF_OK;
    if (names == NULL) {
        rc = collect_names(req, &list);
        names = list.names;
        num_names = list.count;
    } else if (num_names > REF_MAX_SIGNED_HEADERS) {
        rc = REF_E_TOO_LARGE;
    }
    if (rc != REF_OK) {
        goto out;
    }

    ref_sigv4_sha256_hex(req->body, body_hash);
    struct ref_slice body_hash_slice = ref_slice_make(body_hash, sizeof body_hash);
    rc = ref_sigv4_canonical_request(req, names, num_names, body_hash_slice, &creq, NULL);
    if (rc == REF_E_TOO_LARGE) {
        ref_buf_init(&creq, REF_MAX_CANONICAL_BYTES);
        rc = ref_sigv4_canonical_request(req, names, num_names, body_hash_slice, &creq, NULL);
    }
    if (rc == REF_OK) {
        rc = append_scope(p, &scope);
    }
    if (rc == REF_OK) {
        rc = ref_sigv4_string_to_sign(p->amz_date, ref_buf_slice(&scope), ref_buf_slice(&creq),
                                      &sts);
    }
    if (rc == REF_OK) {
        /* From the caller's key cache when there is one, else derived. */
        ref_sigv4_key_cache_get_hmac(p->key_cache, p->secret_access_key,
                                     ref_slice_sub(p->amz_date, 0, 8), p->region, p->service,
                                     &hmac);
        has_key = true;
        ref_hmac_sha256_with_key(&hmac, sts.data, sts.len, mac);
        ref_sha256_to_hex(mac, signature);
        rc = append_authorization(p, ref_buf_slice(&scope), names, num_names, signature,
                                  authorization_out);
    }
    if (rc == REF_OK && authorization_out->len - base > REF_MAX_AUTHORIZATION_BYTES) {
        /* The verifier refuses a longer value before reading it, so a request signed with
         * it could never pass: refuse here instead (long header names do this). */
        rc = REF_E_TOO_LARGE;
    }
    if (rc == REF_OK && trace != NULL) {
        /* Tracing is best effort: a trace buffer too small for a stage is left empty. */
        if (trace->canonical_request != NULL) {
            ref_buf_reset(trace->canonical_request);
            if (ref_buf_append(trace->canonical_request, creq.data, creq.len) != REF_OK) {
                ref_buf_reset(trace->canonical_request);
            }
        }
        if (trace->string_to_sign != NULL) {
            ref_buf_reset(trace->string_to_sign);
            if (ref_buf_append(trace->string_to_sign, sts.data, sts.len) != REF_OK) {
                ref_buf_reset(trace->string_to_sign);
            }
        }
    }
out:
    if (rc != REF_OK) {
        authorization_out->len = base;
    }
    if (has_key) {
        ref_hmac_sha256_key_wipe(&hmac);
        ref_mem_wipe(mac, sizeof mac);
    }
    ref_buf_cleanup(&list.storage);
    ref_buf_cleanup(&creq);
    ref_buf_cleanup(&sts);
    ref_buf_cleanup(&scope);
    return rc;
}

/* --- The signing result ------------------------------------------------------------ */

static void
result_add(struct ref_sigv4_signing_result *out, const char *name, const void *value, size_t len)
{
    out->headers[out->num_headers].name = ref_slice_from_cstr(name);
    out->headers[out->num_headers].value = ref_slice_make(value, len);
    out->num_headers++;
}

/* Copies a value into fixed storage of the result, through a fixed buffer so the bound is
 * checked where the bytes go in. */
static enum ref_status copy_into(uint8_t *storage, size_t cap, struct ref_slice value)
{
    struct ref_buf b;
    ref_buf_init_fixed(&b, storage, cap);
    return ref_buf_append_slice(&b, value);
}

enum ref_status ref_sigv4_sign_request(const struct ref_sigv4_sign_params *p,
                                       const struct ref_sigv4_request *req,
                                       struct ref_sigv4_signing_result *out,
                                       struct ref_sigv4_trace *trace)
{
    assert(p != NULL && req != NULL && out != NULL);
    out->num_headers = 0;
    out->session_token_len = 0;
    out->authorization_len = 0;
    if (req->num_headers > REF_SIGV4_SIGN_MAX_HEADERS - REF_SIGV4_MAX_ADDED_HEADERS ||
        (p->session_token.ptr != NULL && p->session_token.len > sizeof out->session_token)) {
        return REF_E_TOO_LARGE;
    }
    /* ref_sigv4_sign parses the date; only its length matters before it is copied. */
    if (!p->is_date_in_request && p->amz_date.len != REF_SIGV4_AMZ_DATE_LEN) {
        return REF_E_MALFORMED;
    }

    /* The headers before Authorization, in the order a signer adds them. */
    if (!p->is_date_in_request) {
        REF_TRY(copy_into((uint8_t *)out->amz_date, sizeof out->amz_date, p->amz_date));
        result_add(out, REF_SIGV4_DATE_HEADER, out->amz_date, sizeof out->amz_date);
    }
    if (p->session_token.ptr != NULL) {
        REF_TRY(copy_into(out->session_token, sizeof out->session_token, p->session_token));
        out->session_token_len = p->session_token.len;
        result_add(out, REF_SIGV4_TOKEN_HEADER, out->session_token, out->session_token_len);
    }
    if (p->has_content_sha256) {
        ref_sigv4_sha256_hex(req->body, out->content_sha256);
        result_add(out, REF_SIGV4_CONTENT_SHA256_HEADER, out->content_sha256,
                   sizeof out->content_sha256);
    }

    /* The request as it will be sent: its own headers, then the additions. */
    struct ref_header all[REF_SIGV4_SIGN_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < req->num_headers; i++) {
        all[n++] = req->headers[i];
    }
    for (size_t i = 0; i < out->num_headers; i++) {
        all[n++] = out->headers[i];
    }
    struct ref_sigv4_request signed_req = *req;
    signed_req.headers = all;
    signed_req.num_headers = n;

    struct ref_buf auth;
    ref_buf_init_fixed(&auth, out->authorization, sizeof out->authorization);
    enum ref_status rc = ref_sigv4_sign(p, &signed_req, &auth, trace);
    if (rc != REF_OK) {
        ref_sigv4_signing_result_cleanup(out);
        return rc;
    }
    out->authorization_len = auth.len;
    result_add(out, REF_SIGV4_AUTHORIZATION_HEADER, out->authorization, auth.len);
    return REF_OK;
}

enum ref_status ref_sigv4_signing_result_apply(const struct ref_sigv4_signing_result *r,
                                               struct ref_header *headers,
                                               size_t *num,
                                               size_t cap)
{
    assert(r != NULL && num != NULL && *num <= cap);
    if (r->num_headers > cap - *num) {
        return REF_E_TOO_LARGE;
    }
    for (size_t i = 0; i < r->num_headers; i++) {
        headers[(*num)++] = r->headers[i];
    }
    return REF_OK;
}

struct ref_slice ref_sigv4_signing_result_authorization(const struct ref_sigv4_signing_result *r)
{
    return ref_slice_make(r->authorization, r->num_headers > 0 ? r->authorization_len : 0);
}

void ref_sigv4_signing_result_cleanup(struct ref_sigv4_signing_result *r)
{
    ref_mem_wipe(r->session_token, r->session_token_len);
    ref_mem_wipe(r->authorization, r->authorization_len);
    r->session_token_len = 0;
    r->authorization_len = 0;
    r->num_headers = 0;
}
