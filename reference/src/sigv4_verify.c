/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_verify.c - the SigV4 verifier, in the check order of contract section 5.
 *
 * The first failing check decides the status and the message the service sends. Inputs
 * are borrowed; the canonical request and the string to sign are built on the stack (on
 * the heap only for unusually large requests), and the signing key comes from the
 * verifier's key cache when it has one, so an ordinary request is verified without any
 * allocation and, on a cache hit, with one HMAC. The key is wiped, and signatures are
 * compared in constant time.
 */
#include "ref/sigv4.h"

#include "ref/mem.h"

#include "sigv4_internal.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* Longest piece of request data quoted in a message; the message buffer is 512 bytes. */
#define QUOTE_MAX_BYTES 48
/* Stack space for the canonical request (the captures' are 300-600 bytes) and the string
 * to sign; a larger request falls back to the heap. */
#define CANONICAL_STACK_BYTES      2048
#define STRING_TO_SIGN_STACK_BYTES 512

struct msg {
    char *p;
    size_t cap;
    size_t len;
};

static void msg_init(struct msg *m, struct ref_sigv4_outcome *out)
{
    m->p = out->message;
    m->cap = sizeof out->message;
    m->len = 0;
    m->p[0] = '\0';
}

static void msg_cstr(struct msg *m, const char *s)
{
    for (size_t i = 0; s[i] != '\0' && m->len + 1 < m->cap; i++) {
        m->p[m->len++] = s[i];
    }
    m->p[m->len] = '\0';
}

/* Request bytes quoted in a message: printable ASCII only (the message goes into a JSON
 * string, which must be valid UTF-8), and at most QUOTE_MAX_BYTES of them. */
static void msg_quote(struct msg *m, struct ref_slice s)
{
    size_t n = s.len > QUOTE_MAX_BYTES ? QUOTE_MAX_BYTES : s.len;
    for (size_t i = 0; i < n && m->len + 1 < m->cap; i++) {
        uint8_t c = s.ptr[i];
        m->p[m->len++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    m->p[m->len] = '\0';
    if (n < s.len) {
        msg_cstr(m, "...");
    }
}

static void msg_i64(struct msg *m, int64_t v)
{
    char tmp[24];
    (void)snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    msg_cstr(m, tmp);
}

static enum ref_status finish(struct ref_sigv4_outcome *out, enum ref_status rc)
{
    out->status = rc;
    if (rc != REF_OK) {
        out->credential = NULL;
    }
    return rc;
}

/* Fails with rc and the status table's default message. */
static enum ref_status fail_default(struct ref_sigv4_outcome *out, enum ref_status rc)
{
    struct msg m;
    msg_init(&m, out);
    msg_cstr(&m, ref_status_message(rc));
    return finish(out, rc);
}

static bool signed_nocase(const struct ref_sigv4_auth *auth, struct ref_slice name)
{
    for (size_t i = 0; i < auth->num_signed_headers; i++) {
        if (ref_slice_eq_nocase(auth->signed_headers[i], name)) {
            return true;
        }
    }
    return false;
}

/* The headers the checks look at, found in one pass over the request instead of one pass
 * per question: the first of each name, and how many carry it. */
enum known_header {
    KNOWN_AUTHORIZATION = 0,
    KNOWN_AMZ_DATE,
    KNOWN_DATE,
    KNOWN_SECURITY_TOKEN,
    KNOWN_CONTENT_SHA256,
    KNOWN_COUNT
};

struct known_headers {
    const struct ref_header *first[KNOWN_COUNT];
    size_t count[KNOWN_COUNT];
};

static void
note_header(struct known_headers *k, enum known_header which, const struct ref_header *h)
{
    if (k->count[which]++ == 0) {
        k->first[which] = h;
    }
}

static void scan_headers(const struct ref_sigv4_request *req, struct known_headers *k)
{
    *k = (struct known_headers){{NULL}, {0}};
    for (size_t i = 0; i < req->num_headers; i++) {
        const struct ref_header *h = &req->headers[i];
        /* The length picks the candidates; most headers match none. */
        switch (h->name.len) {
            case 4:
                if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("date"))) {
                    note_header(k, KNOWN_DATE, h);
                }
                break;
            case 10:
                if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("x-amz-date"))) {
                    note_header(k, KNOWN_AMZ_DATE, h);
                }
                break;
            case 13:
                if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("authorization"))) {
                    note_header(k, KNOWN_AUTHORIZATION, h);
                }
                break;
            case 20:
                if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("x-amz-security-token"))) {
                    note_header(k, KNOWN_SECURITY_TOKEN, h);
                } else if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("x-amz-content-sha256"))) {
                    note_header(k, KNOWN_CONTENT_SHA256, h);
                }
                break;
            default:
                break;
        }
    }
}

/* Query-string (presigned) authentication is not supported (contract section 8), but a
 * request that tries it is told its signature is incomplete rather than missing. */
static bool has_presign_params(struct ref_slice query)
{
    struct ref_slice rest = query;
    struct ref_slice part;
    bool more = query.len > 0;
    while (more) {
        more = ref_slice_split(&rest, '&', &part);
        struct ref_slice name;
        (void)ref_slice_split(&part, '=', &name);
        if (ref_slice_eq_nocase(name, REF_SLICE_LIT("X-Amz-Signature")) ||
            ref_slice_eq_nocase(name, REF_SLICE_LIT("X-Amz-Credential")) ||
            ref_slice_eq_nocase(name, REF_SLICE_LIT("X-Amz-Algorithm"))) {
            return true;
        }
    }
    return false;
}

/* SignedHeaders as a correct client writes it: lower case, sorted, unique, non-empty
 * names. Anything else must not verify even if the bytes happen to hash right
 * (contract section 5: such a list "makes the signature mismatch"). */
static bool signed_headers_well_formed(const struct ref_sigv4_auth *auth,
                                       const struct ref_sigv4_request *req)
{
    for (size_t i = 0; i < auth->num_signed_headers; i++) {
        struct ref_slice name = auth->signed_headers[i];
        if (name.len == 0) {
            return false;
        }
        for (size_t j = 0; j < name.len; j++) {
            if (name.ptr[j] >= 'A' && name.ptr[j] <= 'Z') {
                return false;
            }
        }
        if (i > 0 && ref_sigv4_slice_cmp(auth->signed_headers[i - 1], name) >= 0) {
            return false;
        }
        /* A signed name the request lacks cannot be a header the client really sent. */
        if (ref_http_find_header(req->headers, req->num_headers, name) == NULL) {
            return false;
        }
    }
    return true;
}

static const struct ref_credential *find_credential(const struct ref_sigv4_verifier *v,
                                                    struct ref_slice access_key_id)
{
    for (size_t i = 0; i < v->num_credentials; i++) {
        const struct ref_credential *c = &v->credentials[i];
        if (c->access_key_id != NULL && ref_slice_eq_cstr(access_key_id, c->access_key_id)) {
            return c;
        }
    }
    return NULL;
}

static bool slices_equal_ct(struct ref_slice a, struct ref_slice b)
{
    return a.len == b.len && (a.len == 0 || ref_ct_equal(a.ptr, b.ptr, a.len));
}

/* Every wrong scope element named in one message, modelled on the service's wording. */
static bool check_scope(const struct ref_sigv4_verifier *v,
                        const struct ref_sigv4_auth *auth,
                        struct ref_slice date,
                        struct ref_sigv4_outcome *out)
{
    struct msg m;
    msg_init(&m, out);
    bool ok = true;
    struct ref_slice day = ref_slice_sub(date, 0, 8);
    if (!ref_slice_eq(auth->scope_date, day)) {
        ok = false;
        msg_cstr(&m, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                     "date from HTTP: '");
        msg_quote(&m, auth->scope_date);
        msg_cstr(&m, "' != '");
        msg_quote(&m, day);
        msg_cstr(&m, "', from '");
        msg_quote(&m, date);
        msg_cstr(&m, "'. ");
    }
    if (!ref_slice_eq_cstr(auth->scope_region, v->region != NULL ? v->region : "")) {
        ok = false;
        msg_cstr(&m, "Credential should be scoped to a valid region, not '");
        msg_quote(&m, auth->scope_region);
        msg_cstr(&m, "'. ");
    }
    if (!ref_slice_eq_cstr(auth->scope_service, v->service != NULL ? v->service : "")) {
        ok = false;
        msg_cstr(&m, "Credential should be scoped to correct service: '");
        msg_cstr(&m, v->service != NULL ? v->service : "");
        msg_cstr(&m, "'. ");
    }
    if (!ref_slice_eq_cstr(auth->scope_terminator, "aws4_request")) {
        ok = false;
        msg_cstr(&m, "Credential should be scoped with a valid terminator: 'aws4_request', not '");
        msg_quote(&m, auth->scope_terminator);
        msg_cstr(&m, "'. ");
    }
    return ok;
}

/* "Signature expired: <t> is now earlier than <now-W> (<now> - W min.)" and the
 * not-yet-current twin, exactly as the service words them. */
static enum ref_status fail_skew(
    struct ref_sigv4_outcome *out, enum ref_status rc, int64_t t, int64_t now_s, int64_t window_s)
{
    char t_text[17], bound_text[17], now_text[17];
    bool expired = rc == REF_E_SIGNATURE_EXPIRED;
    ref_sigv4_format_amz_date(t, t_text);
    ref_sigv4_format_amz_date(expired ? now_s - window_s : now_s + window_s, bound_text);
    ref_sigv4_format_amz_date(now_s, now_text);
    struct msg m;
    msg_init(&m, out);
    msg_cstr(&m, expired ? "Signature expired: " : "Signature not yet current: ");
    msg_cstr(&m, t_text);
    msg_cstr(&m, expired ? " is now earlier than " : " is still later than ");
    msg_cstr(&m, bound_text);
    msg_cstr(&m, " (");
    msg_cstr(&m, now_text);
    msg_cstr(&m, expired ? " - " : " + ");
    /* The service words the window in minutes; a window that is not whole minutes (only
     * possible through configuration) is given in seconds instead. */
    if (window_s % 60 == 0) {
        msg_i64(&m, window_s / 60);
        msg_cstr(&m, " min.)");
    } else {
        msg_i64(&m, window_s);
        msg_cstr(&m, " sec.)");
    }
    return finish(out, rc);
}

static enum ref_status fail_incomplete(struct ref_sigv4_outcome *out, const char *text)
{
    struct msg m;
    msg_init(&m, out);
    msg_cstr(&m, text);
    return finish(out, REF_E_INCOMPLETE_SIGNATURE);
}

static enum ref_status
fail_auth_parse(struct ref_sigv4_outcome *out, enum ref_status rc, struct ref_slice value)
{
    if (rc == REF_E_TOO_LARGE) {
        struct msg m;
        msg_init(&m, out);
        msg_cstr(&m, ref_status_message(rc));
        msg_cstr(&m, " The Authorization header passes a size limit.");
        return finish(out, rc);
    }
    if (rc != REF_E_INCOMPLETE_SIGNATURE) {
        return fail_default(out, rc);
    }
    const char *where = out->err.where != NULL ? out->err.where : "";
    const char *reason = out->err.reason != NULL ? out->err.reason : "";
    struct msg m;
    msg_init(&m, out);
    if (strcmp(where, "authorization.algorithm") == 0) {
        msg_cstr(&m, "Authorization header requires 'AWS4-HMAC-SHA256' as its algorithm, "
                     "followed by 'Credential', 'SignedHeaders' and 'Signature' parameters.");
    } else if (strcmp(where, "authorization.credential") == 0 &&
               strstr(reason, "'/'-separated") != NULL) {
        /* "credential has more/fewer than 5 parts": quote what was sent. */
        size_t from = 0;
        struct ref_slice key = REF_SLICE_LIT("Credential=");
        for (size_t i = 0; i + key.len <= value.len; i++) {
            if (ref_slice_eq(ref_slice_sub(value, i, key.len), key)) {
                from = i + key.len;
                break;
            }
        }
        size_t to = from;
        while (to < value.len && value.ptr[to] != ',') {
            to++;
        }
        msg_cstr(&m, "Credential must have exactly 5 slash-delimited elements, e.g. "
                     "keyid/date/region/service/term, got '");
        msg_quote(&m, ref_slice_sub(value, from, to - from));
        msg_cstr(&m, "'");
    } else {
        msg_cstr(&m, ref_status_message(REF_E_INCOMPLETE_SIGNATURE));
    }
    return finish(out, REF_E_INCOMPLETE_SIGNATURE);
}

/* Copies a stage into an optional trace buffer. A trace that cannot hold it is left empty:
 * tracing never changes the verdict. */
static void trace_copy(struct ref_buf *dst, const struct ref_buf *src)
{
    if (dst != NULL) {
        ref_buf_reset(dst);
        if (ref_buf_append(dst, src->data, src->len) != REF_OK) {
            ref_buf_reset(dst);
        }
    }
}

/* Builds the canonical request into creq: first into the caller's stack buffer, which
 * holds every ordinary request, and only when that is too small again into a heap buffer
 * that may grow to the limit. */
static enum ref_status build_canonical(const struct ref_sigv4_request *req,
                                       const struct ref_sigv4_auth *auth,
                                       struct ref_slice body_hash,
                                       uint8_t *stack,
                                       size_t stack_bytes,
                                       struct ref_buf *creq,
                                       struct ref_parse_error *err)
{
    ref_buf_init_fixed(creq, stack, stack_bytes);
    enum ref_status rc = ref_sigv4_canonical_request(
        req, auth->signed_headers, auth->num_signed_headers, body_hash, creq, err);
    if (rc != REF_E_TOO_LARGE) {
        return rc;
    }
    ref_buf_init(creq, REF_MAX_CANONICAL_BYTES);
    *err = (struct ref_parse_error){0};
    return ref_sigv4_canonical_request(req, auth->signed_headers, auth->num_signed_headers,
                                       body_hash, creq, err);
}

/* The last two checks: payload hash, then the signature itself. */
static enum ref_status check_signature(const struct ref_sigv4_verifier *v,
                                       const struct ref_sigv4_request *req,
                                       const struct known_headers *known,
                                       const struct ref_sigv4_auth *auth,
                                       const struct ref_credential *cred,
                                       struct ref_slice date,
                                       struct ref_sigv4_outcome *out,
                                       struct ref_sigv4_trace *trace)
{
    char body_hash[REF_SHA256_HEX_LEN];
    ref_sigv4_sha256_hex(req->body, body_hash);
    struct ref_slice body_hash_slice = ref_slice_make(body_hash, sizeof body_hash);

    /* A signed x-amz-content-sha256 must be the hash of the body actually received, so a
     * changed body never passes on the strength of the header (contract section 5). */
    const struct ref_slice content_sha = REF_SLICE_LIT("x-amz-content-sha256");
    if (signed_nocase(auth, content_sha)) {
        size_t count = known->count[KNOWN_CONTENT_SHA256];
        const struct ref_header *h = known->first[KNOWN_CONTENT_SHA256];
        if (count > 1 ||
            (h != NULL && !ref_slice_eq(ref_slice_trim_ows(h->value), body_hash_slice))) {
            return fail_default(out, REF_E_PAYLOAD_HASH_MISMATCH);
        }
    }

    /* Both stages live on the stack for every ordinary request: no allocation. */
    uint8_t creq_stack[CANONICAL_STACK_BYTES];
    uint8_t sts_stack[STRING_TO_SIGN_STACK_BYTES];
    struct ref_buf creq, sts;
    ref_buf_init_fixed(&sts, sts_stack, sizeof sts_stack);
    if (128 + auth->scope.len > sizeof sts_stack) {
        /* Algorithm, date, scope and hash lines: the scope is the only part of unbounded
         * size. */
        ref_buf_init(&sts, 128 + auth->scope.len);
    }
    struct ref_hmac_sha256_key hmac;
    uint8_t mac[REF_SHA256_LEN];
    char expected[REF_SHA256_HEX_LEN];
    bool has_key = false;
    enum ref_status rc = build_canonical(req, auth, body_hash_slice, creq_stack, sizeof creq_stack,
                                         &creq, &out->err);
    if (rc == REF_E_MALFORMED) {
        /* A query escape that cannot be decoded: no client could have signed what we would
         * canonicalise, so it cannot match. */
        rc = fail_default(out, REF_E_SIGNATURE_MISMATCH);
        goto out;
    }
    if (rc == REF_E_TOO_LARGE) {
        struct msg m;
        msg_init(&m, out);
        msg_cstr(&m, ref_status_message(rc));
        msg_cstr(&m, " The canonical request passes a size limit.");
        rc = finish(out, rc);
        goto out;
    }
    if (rc != REF_OK) {
        rc = fail_default(out, rc);
        goto out;
    }
    rc = ref_sigv4_string_to_sign(date, auth->scope, ref_buf_slice(&creq), &sts);
    if (rc != REF_OK) {
        rc = fail_default(out, rc);
        goto out;
    }
    if (trace != NULL) {
        trace_copy(trace->canonical_request, &creq);
        trace_copy(trace->string_to_sign, &sts);
    }
    /* From the verifier's cache when it has one: then only the final HMAC is computed. */
    ref_sigv4_key_cache_get_hmac(v->key_cache, ref_slice_from_cstr(cred->secret_access_key),
                                 auth->scope_date, auth->scope_region, auth->scope_service, &hmac);
    has_key = true;
    ref_hmac_sha256_with_key(&hmac, sts.data, sts.len, mac);
    ref_sha256_to_hex(mac, expected);
    /* The HMAC is always computed, so a malformed list or signature costs the same time as
     * a wrong one. Only exactly 64 lower-case hex digits can match: `expected` is always
     * that, so a signature equal to it is too, and no separate shape check is needed. */
    bool well_formed = signed_headers_well_formed(auth, req);
    bool sig_equal = auth->signature.len == REF_SHA256_HEX_LEN &&
                     ref_ct_equal(expected, auth->signature.ptr, REF_SHA256_HEX_LEN);
    if (!well_formed || !sig_equal) {
        rc = fail_default(out, REF_E_SIGNATURE_MISMATCH);
        goto out;
    }
    out->credential = cred;
    rc = finish(out, REF_OK);
out:
    if (has_key) {
        ref_hmac_sha256_key_wipe(&hmac);
        ref_mem_wipe(mac, sizeof mac);
        ref_mem_wipe(expected, sizeof expected);
    }
    ref_buf_cleanup(&creq);
    ref_buf_cleanup(&sts);
    return rc;
}

enum ref_status ref_sigv4_verify(const struct ref_sigv4_verifier *v,
                                 const struct ref_sigv4_request *req,
                                 int64_t now_s,
                                 struct ref_sigv4_outcome *out,
                                 struct ref_sigv4_trace *trace)
{
    assert(v != NULL && req != NULL && out != NULL);
    /* Member by member: the 512-byte message only needs its terminator. */
    out->status = REF_OK;
    out->credential = NULL;
    out->message[0] = '\0';
    out->err = (struct ref_parse_error){0};
    if (trace != NULL) {
        if (trace->canonical_request != NULL) {
            ref_buf_reset(trace->canonical_request);
        }
        if (trace->string_to_sign != NULL) {
            ref_buf_reset(trace->string_to_sign);
        }
    }

    /* 1. An Authorization header at all (presign-only requests are incomplete). */
    struct known_headers known;
    scan_headers(req, &known);
    const struct ref_header *authz = known.first[KNOWN_AUTHORIZATION];
    if (authz == NULL) {
        if (has_presign_params(req->query)) {
            return fail_incomplete(out, "Query-string authentication is not supported by this "
                                        "endpoint; sign the request with an Authorization "
                                        "header.");
        }
        return fail_default(out, REF_E_MISSING_AUTH);
    }

    /* 2. Syntax: one header, the three components, a date in ISO-8601 basic form. */
    if (known.count[KNOWN_AUTHORIZATION] > 1) {
        return fail_incomplete(out, "Only one Authorization header is allowed.");
    }
    struct ref_sigv4_auth auth;
    enum ref_status rc = ref_sigv4_parse_authorization(authz->value, &auth, &out->err);
    if (rc != REF_OK) {
        return fail_auth_parse(out, rc, authz->value);
    }
    /* X-Amz-Date wins over Date; a repeated one is ambiguous and counts as malformed. */
    enum known_header date_header = KNOWN_AMZ_DATE;
    const struct ref_header *date_h = known.first[KNOWN_AMZ_DATE];
    if (date_h == NULL) {
        date_header = KNOWN_DATE;
        date_h = known.first[KNOWN_DATE];
    }
    if (date_h == NULL) {
        return fail_incomplete(out, "Authorization header requires existence of either a "
                                    "'X-Amz-Date' or a 'Date' header.");
    }
    int64_t t = 0;
    if (known.count[date_header] > 1 ||
        ref_sigv4_parse_amz_date(date_h->value, &t, &out->err) != REF_OK) {
        struct msg m;
        msg_init(&m, out);
        msg_cstr(&m, "Date must be in ISO-8601 'basic format'. Got '");
        msg_quote(&m, date_h->value);
        msg_cstr(&m, "'. See http://en.wikipedia.org/wiki/ISO_8601");
        return finish(out, REF_E_INCOMPLETE_SIGNATURE);
    }
    struct ref_slice date = date_h->value;

    /* 3. Clock skew, a window either way. */
    int64_t window_s = v->skew_s > 0 ? v->skew_s : 0;
    if (t < now_s - window_s) {
        return fail_skew(out, REF_E_SIGNATURE_EXPIRED, t, now_s, window_s);
    }
    if (t > now_s + window_s) {
        return fail_skew(out, REF_E_SIGNATURE_NOT_YET_CURRENT, t, now_s, window_s);
    }

    /* 4. Host signed. Case is ignored here so that an upper-case list ends as a signature
     * mismatch (contract section 5), not as "host not signed". */
    if (!signed_nocase(&auth, REF_SLICE_LIT("host"))) {
        return fail_default(out, REF_E_HOST_NOT_SIGNED);
    }

    /* 5. Credential scope. */
    if (!check_scope(v, &auth, date, out)) {
        return finish(out, REF_E_BAD_SCOPE);
    }

    /* 6. The key, then its session token: present, signed and equal when the key has one,
     * absent when it has none. */
    const struct ref_credential *cred = find_credential(v, auth.access_key_id);
    if (cred == NULL) {
        return fail_default(out, REF_E_UNKNOWN_KEY);
    }
    const struct ref_slice token_name = REF_SLICE_LIT("x-amz-security-token");
    const struct ref_header *token_h = known.first[KNOWN_SECURITY_TOKEN];
    if (cred->session_token != NULL) {
        if (token_h == NULL || known.count[KNOWN_SECURITY_TOKEN] != 1 ||
            !signed_nocase(&auth, token_name) ||
            !slices_equal_ct(token_h->value, ref_slice_from_cstr(cred->session_token))) {
            return fail_default(out, REF_E_BAD_TOKEN);
        }
    } else if (token_h != NULL) {
        return fail_default(out, REF_E_BAD_TOKEN);
    }

    /* 7. and 8. Payload hash and signature. */
    return check_signature(v, req, &known, &auth, cred, date, out, trace);
}
