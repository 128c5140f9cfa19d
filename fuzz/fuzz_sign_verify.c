/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_sign_verify.c - property: what etch signs verifies; what changes never does.
 *
 * Target functions: ref_sigv4_sign_request (and through it ref_sigv4_sign),
 * ref_sigv4_verify, ref_sigv4_canonical_request, ref_sigv4_parse_authorization,
 * ref_sigv4_sha256_hex (trusted here; the vector tests check it), and the signing-key
 * cache (a signer's and a verifier's own, emptied before every input, so each derives its
 * key once per input, independently of the other).
 *
 * Input: three control bytes, then a request written as text:
 *   byte 0  bits 0-1 principal (main, temporary with its session token, restricted, main),
 *           bit 2 add x-amz-content-sha256, bit 3 sign an explicit sorted list of every
 *           header present instead of the signer's default choice;
 *   byte 1  which mutation to apply after signing (0: none; see s_mutations);
 *   byte 2  the mutation's parameter (which header, which method, ...);
 *   then "METHOD target" '\n', "name:value" lines, an empty line, and the body.
 * The text is first made into a request a strict HTTP parser could have produced (token
 * method and names, visible target starting with '/', values without control bytes,
 * trimmed), since the signer is only promised such requests. X-Amz-Date is pinned to
 * the fixed clock, host is added when missing, and the verifier runs at that clock.
 *
 * Invariants (abort() on violation):
 * - signing succeeds (or refuses an undecodable query, or a request too large to sign),
 *   is deterministic, and its canonical request and string to sign are the ones the
 *   verifier rebuilds;
 * - differential: that canonical request is byte for byte the one a
 *   slow, plain oracle here builds from contract section 5 (the SDKs' path normalisation
 *   encoded once more; query decoded, encoded again and sorted; signed header values
 *   trimmed with runs of spaces and tabs collapsed, repeats joined with ','; the SHA-256
 *   of the body);
 * - the signed request verifies, as the principal that signed it;
 * - a mutation that alters the canonical request by the SigV4 rules (method, path, query,
 *   a signed header's value, a signed header removed, the body, the date, the SignedHeaders
 *   list) makes ref_sigv4_canonical_request differ, and verification fail; so do
 *   mutations of the signature, the scope and the session token;
 * - a mutation the rules say is invisible (header-name case, an unsigned header added, a
 *   unique header moved, a space doubled inside a value, a "." segment in the
 *   path, an empty query part, an unreserved query byte percent-encoded) leaves the
 *   canonical request byte for byte the same, and the request still verifies.
 */
#include "common.h"

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/limits.h"
#include "ref/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT_BYTES   16384
#define MAX_USER_HEADERS  24
#define MAX_MODEL_HEADERS (MAX_USER_HEADERS + 6)
#define DEFAULT_HOST      "elastictranscoder.us-east-1.amazonaws.com"

/* All request bytes live in one arena, reset per input, so mutations can build new
 * slices freely and nothing leaks. */
static uint8_t s_arena[32 * MAX_INPUT_BYTES];
static size_t s_arena_used;

static struct ref_slice arena_put(const void *p, size_t n)
{
    FUZZ_CHECK(n <= sizeof(s_arena) - s_arena_used);
    uint8_t *dst = s_arena + s_arena_used;
    if (n > 0) {
        memcpy(dst, p, n);
    }
    s_arena_used += n;
    return (struct ref_slice){dst, n};
}

static struct ref_slice arena_cat(struct ref_slice a, struct ref_slice b)
{
    struct ref_slice out = arena_put(a.ptr, a.len);
    struct ref_slice tail = arena_put(b.ptr, b.len);
    out.len += tail.len;
    if (out.len == tail.len) {
        out.ptr = tail.ptr;
    }
    return out;
}

static struct ref_slice cstr(const char *s)
{
    return (struct ref_slice){(const uint8_t *)s, strlen(s)};
}

struct model {
    struct ref_slice method;
    struct ref_slice path;
    struct ref_slice query;
    struct ref_header headers[MAX_MODEL_HEADERS];
    size_t num_headers;
    struct ref_slice body;
};

static struct ref_sigv4_request as_request(const struct model *m)
{
    return (struct ref_sigv4_request){.method = m->method,
                                      .path = m->path,
                                      .query = m->query,
                                      .headers = m->headers,
                                      .num_headers = m->num_headers,
                                      .body = m->body};
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool name_is(struct ref_slice name, const char *lower_name)
{
    return fuzz_slice_eq_nocase(name, cstr(lower_name));
}

static int find_header(const struct model *m, const char *lower_name)
{
    for (size_t i = 0; i < m->num_headers; i++) {
        if (name_is(m->headers[i].name, lower_name)) {
            return (int)i;
        }
    }
    return -1;
}

static size_t count_named(const struct model *m, struct ref_slice name)
{
    size_t n = 0;
    for (size_t i = 0; i < m->num_headers; i++) {
        n += fuzz_slice_eq_nocase(m->headers[i].name, name) ? 1 : 0;
    }
    return n;
}

static void add_header(struct model *m, const char *name, struct ref_slice value)
{
    FUZZ_CHECK(m->num_headers < MAX_MODEL_HEADERS);
    m->headers[m->num_headers++] = (struct ref_header){arena_put(name, strlen(name)), value};
}

/* Keeps the bytes for which keep() holds. */
static struct ref_slice filtered(struct ref_slice s, bool (*keep)(uint8_t))
{
    uint8_t *dst = s_arena + s_arena_used;
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (keep(s.ptr[i])) {
            FUZZ_CHECK(s_arena_used + n < sizeof(s_arena));
            dst[n++] = s.ptr[i];
        }
    }
    s_arena_used += n;
    return (struct ref_slice){dst, n};
}

static bool keep_target(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '#';
}

static bool keep_value(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static struct ref_slice trim_ows(struct ref_slice s)
{
    while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t')) {
        s.len--;
    }
    return s;
}

static bool next_line(struct ref_slice *rest, struct ref_slice *line)
{
    if (rest->len == 0) {
        return false;
    }
    const uint8_t *nl = memchr(rest->ptr, '\n', rest->len);
    size_t n = nl == NULL ? rest->len : (size_t)(nl - rest->ptr);
    *line = (struct ref_slice){rest->ptr, n};
    size_t skip = nl == NULL ? n : n + 1;
    rest->ptr += skip;
    rest->len -= skip;
    return true;
}

/* Headers the target manages itself; the fuzzer's copies are dropped. */
static bool is_managed(struct ref_slice name)
{
    return name_is(name, "authorization") || name_is(name, "x-amz-date") ||
           name_is(name, "x-amz-security-token") || name_is(name, "x-amz-content-sha256");
}

static void build_model(struct ref_slice text, struct model *m)
{
    memset(m, 0, sizeof(*m));
    struct ref_slice rest = text;
    struct ref_slice line = {NULL, 0};
    (void)next_line(&rest, &line);

    const uint8_t *sp = line.len == 0 ? NULL : memchr(line.ptr, ' ', line.len);
    size_t mlen = sp == NULL ? 0 : (size_t)(sp - line.ptr);
    m->method = filtered((struct ref_slice){line.ptr, mlen}, fuzz_is_tchar);
    if (m->method.len == 0 || m->method.len > REF_MAX_METHOD_BYTES) {
        m->method = cstr("GET");
    }
    struct ref_slice target = sp == NULL ? line : (struct ref_slice){sp + 1, line.len - mlen - 1};
    target = filtered(target, keep_target);
    if (target.len == 0 || target.ptr[0] != '/') {
        target = arena_cat(cstr("/"), target);
    }
    const uint8_t *q = memchr(target.ptr, '?', target.len);
    size_t plen = q == NULL ? target.len : (size_t)(q - target.ptr);
    m->path = (struct ref_slice){target.ptr, plen};
    m->query =
        q == NULL ? (struct ref_slice){NULL, 0} : (struct ref_slice){q + 1, target.len - plen - 1};

    size_t user = 0;
    while (next_line(&rest, &line) && line.len > 0) {
        const uint8_t *colon = memchr(line.ptr, ':', line.len);
        if (colon == NULL || user == MAX_USER_HEADERS) {
            continue;
        }
        size_t nlen = (size_t)(colon - line.ptr);
        struct ref_slice name = filtered((struct ref_slice){line.ptr, nlen}, fuzz_is_tchar);
        struct ref_slice value =
            trim_ows(filtered((struct ref_slice){colon + 1, line.len - nlen - 1}, keep_value));
        if (name.len == 0 || is_managed(name)) {
            continue;
        }
        m->headers[m->num_headers++] = (struct ref_header){name, value};
        user++;
    }
    m->body = rest;
}

struct signed_request {
    struct model m;
    const struct ref_credential *cred;
    struct ref_slice authorization;
    int auth_index;
};

/* The contract's test principals (section 7), written out here so the property does not
 * depend on the service module. */
static const struct ref_credential s_creds[3] = {
    {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, REF_ROLE_FULL},
    {"AKIDREADONLY", "readonly/secret/key/EXAMPLEKEY0000000000000", NULL, REF_ROLE_READ_ONLY},
    {"AKIDSESSION", "session/secret/key/EXAMPLEKEY00000000000000", "etch/session/token/EXAMPLE",
     REF_ROLE_FULL},
};

/* The signer and the verifier each have a signing-key cache of their own, emptied before
 * every input (so nothing of one input reaches the next): the first signature and the first
 * verification derive their keys, each independently of the other, and the determinism
 * re-sign and the verification after a mutation take them from the cache. Deriving all four
 * was some 6% of the target's time, and this way the determinism check also holds a cached
 * key against a derived one. */
static struct ref_sigv4_key_cache *s_sign_keys;
static struct ref_sigv4_key_cache *s_verify_keys;
static struct ref_sigv4_verifier s_verifier = {.credentials = s_creds,
                                               .num_credentials = 3,
                                               .region = "us-east-1",
                                               .service = "elastictranscoder",
                                               .skew_s = 300};

static void key_caches_start(void)
{
    if (s_sign_keys == NULL) {
        s_sign_keys = ref_sigv4_key_cache_new(8);
        s_verify_keys = ref_sigv4_key_cache_new(8);
        FUZZ_CHECK(s_sign_keys != NULL && s_verify_keys != NULL);
        s_verifier.key_cache = s_verify_keys;
    }
    ref_sigv4_key_cache_clear(s_sign_keys);
    ref_sigv4_key_cache_clear(s_verify_keys);
}

static int compare_slices(const void *a, const void *b)
{
    const struct ref_slice *x = a;
    const struct ref_slice *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n == 0 ? 0 : memcmp(x->ptr, y->ptr, n);
    if (c != 0) {
        return c;
    }
    return x->len < y->len ? -1 : (x->len > y->len ? 1 : 0);
}

/* Lower-case, sorted, unique names of every header present. */
static size_t explicit_names(const struct model *m, struct ref_slice *names)
{
    size_t n = 0;
    for (size_t i = 0; i < m->num_headers; i++) {
        struct ref_slice name = arena_put(m->headers[i].name.ptr, m->headers[i].name.len);
        for (size_t k = 0; k < name.len; k++) {
            ((uint8_t *)(uintptr_t)name.ptr)[k] = lower(name.ptr[k]);
        }
        bool seen = false;
        for (size_t k = 0; k < n; k++) {
            seen = seen || fuzz_slice_eq(names[k], name);
        }
        if (!seen) {
            names[n++] = name;
        }
    }
    qsort(names, n, sizeof(names[0]), compare_slices);
    return n;
}

struct traces {
    struct ref_buf canonical;
    struct ref_buf sts;
};

/* The buffers of this file stay allocated from input to input and are emptied before each
 * use, so no bytes carry over: growing and freeing them per input was a good part of the
 * time under ASan. */
static struct traces s_sign_trace = {.canonical = {.max = REF_MAX_CANONICAL_BYTES},
                                     .sts = {.max = REF_MAX_CANONICAL_BYTES}};
static struct traces s_verify_trace = {.canonical = {.max = REF_MAX_CANONICAL_BYTES},
                                       .sts = {.max = REF_MAX_CANONICAL_BYTES}};

static void traces_reset(struct traces *t)
{
    ref_buf_reset(&t->canonical);
    ref_buf_reset(&t->sts);
}

/* Signs m in place (adding the managed headers); false when the signer refused. */
static bool sign_model(struct signed_request *sr, uint8_t flags, struct traces *trace)
{
    struct model *m = &sr->m;
    static const struct ref_credential *const creds[4] = {&s_creds[0], &s_creds[2], &s_creds[1],
                                                          &s_creds[0]};
    sr->cred = creds[flags & 3];

    if (find_header(m, "host") < 0) {
        add_header(m, "host", cstr(DEFAULT_HOST));
    }

    struct ref_slice names[MAX_MODEL_HEADERS];
    size_t num_names = 0;
    if (flags & 8) {
        /* Every header present, and the ones the signing result adds. */
        num_names = explicit_names(m, names);
        names[num_names++] = cstr("x-amz-date");
        if (sr->cred->session_token != NULL) {
            names[num_names++] = cstr("x-amz-security-token");
        }
        if (flags & 4) {
            names[num_names++] = cstr("x-amz-content-sha256");
        }
        qsort(names, num_names, sizeof(names[0]), compare_slices);
    }
    struct ref_sigv4_sign_params p = {
        .access_key_id = cstr(sr->cred->access_key_id),
        .secret_access_key = cstr(sr->cred->secret_access_key),
        .region = cstr("us-east-1"),
        .service = cstr("elastictranscoder"),
        .amz_date = cstr(FUZZ_AMZ_DATE),
        .signed_headers = (flags & 8) ? names : NULL,
        .num_signed_headers = num_names,
        .key_cache = s_sign_keys,
        .session_token = sr->cred->session_token != NULL ? cstr(sr->cred->session_token)
                                                         : (struct ref_slice){NULL, 0},
        .has_content_sha256 = (flags & 4) != 0,
    };
    struct ref_sigv4_request req = as_request(m);
    static struct ref_sigv4_signing_result signing;
    static struct ref_sigv4_signing_result again;
    struct ref_sigv4_trace t = {&trace->canonical, &trace->sts};
    enum ref_status rc = ref_sigv4_sign_request(&p, &req, &signing, &t);
    bool ok = rc == REF_OK;
    if (!ok) {
        FUZZ_CHECK(rc == REF_E_MALFORMED || rc == REF_E_TOO_LARGE);
        FUZZ_CHECK(signing.num_headers == 0);
    } else {
        /* Deterministic: the same request signs to the same bytes. */
        FUZZ_CHECK(ref_sigv4_sign_request(&p, &req, &again, NULL) == REF_OK);
        FUZZ_CHECK(fuzz_slice_eq(ref_sigv4_signing_result_authorization(&signing),
                                 ref_sigv4_signing_result_authorization(&again)));
        /* The managed headers, in the result's order, Authorization last; the model's
         * bytes live in the arena, where mutations may change them. */
        for (size_t i = 0; i < signing.num_headers; i++) {
            FUZZ_CHECK(m->num_headers < MAX_MODEL_HEADERS);
            struct ref_header h = signing.headers[i];
            m->headers[m->num_headers++] = (struct ref_header){arena_put(h.name.ptr, h.name.len),
                                                               arena_put(h.value.ptr, h.value.len)};
        }
        sr->auth_index = (int)m->num_headers - 1;
        sr->authorization = m->headers[sr->auth_index].value;
        ref_sigv4_signing_result_cleanup(&again);
    }
    ref_sigv4_signing_result_cleanup(&signing);
    return ok;
}

static enum ref_status
verify(const struct model *m, struct ref_sigv4_outcome *out, struct traces *trace)
{
    struct ref_sigv4_request req = as_request(m);
    struct ref_sigv4_trace t = {trace ? &trace->canonical : NULL, trace ? &trace->sts : NULL};
    memset(out, 0, sizeof(*out));
    enum ref_status rc = ref_sigv4_verify(&s_verifier, &req, FUZZ_NOW_S, out, trace ? &t : NULL);
    FUZZ_CHECK(rc == out->status);
    return rc;
}

/* The canonical request for m under the SignedHeaders of its Authorization value. The
 * result lives in the arena; ok is false when either step refuses. */
static bool canonical_of(const struct model *m, struct ref_slice *out)
{
    int ai = find_header(m, "authorization");
    if (ai < 0) {
        return false;
    }
    struct ref_sigv4_auth auth;
    struct ref_parse_error err;
    if (ref_sigv4_parse_authorization(m->headers[ai].value, &auth, &err) != REF_OK) {
        return false;
    }
    char hex[REF_SHA256_HEX_LEN];
    ref_sigv4_sha256_hex(m->body, hex);
    static struct ref_buf b = {.max = REF_MAX_CANONICAL_BYTES};
    ref_buf_reset(&b);
    struct ref_sigv4_request req = as_request(m);
    enum ref_status rc =
        ref_sigv4_canonical_request(&req, auth.signed_headers, auth.num_signed_headers,
                                    ref_slice_make(hex, sizeof(hex)), &b, &err);
    if (rc == REF_OK) {
        *out = arena_put(b.data, b.len);
    }
    return rc == REF_OK;
}

/* The signer's canonical request (from its trace) against the oracle's. */
static void check_against_oracle(const struct signed_request *sr, struct ref_slice canonical)
{
    struct ref_sigv4_auth auth;
    struct ref_parse_error err;
    FUZZ_CHECK(ref_sigv4_parse_authorization(sr->authorization, &auth, &err) == REF_OK);
    static struct ref_buf want = {.max = REF_MAX_CANONICAL_BYTES};
    ref_buf_reset(&want);
    /* The model without the Authorization header, as it was signed. */
    struct model signed_model = sr->m;
    signed_model.num_headers = (size_t)sr->auth_index;
    struct ref_sigv4_request signed_request = as_request(&signed_model);
    FUZZ_CHECK(fuzz_sigv4_oracle_canonical(&signed_request, &auth, &want));
    if (!fuzz_slice_eq(ref_buf_slice(&want), canonical)) {
        fprintf(stderr,
                "canonical request differs from the oracle\n--- signer:\n%.*s\n--- oracle:\n%.*s\n",
                REF_SLICE_ARG(canonical), REF_SLICE_ARG(ref_buf_slice(&want)));
        FUZZ_CHECK(!"the signer's canonical request is the contract's");
    }
}

/* --- Mutations ------------------------------------------------------------------ */

enum effect {
    EFFECT_SKIP = 0,  /* not applicable to this request */
    EFFECT_ALTERS,    /* changes the canonical request: must differ and must not verify */
    EFFECT_BREAKS,    /* leaves the canonical request alone but must not verify */
    EFFECT_INVISIBLE, /* canonical request identical: must still verify */
};

typedef enum effect mutation_fn(struct signed_request *sr, uint8_t param);

/* Indexes of headers named in the SignedHeaders list of the Authorization value. */
static size_t signed_indexes(const struct signed_request *sr, size_t *idx)
{
    struct ref_sigv4_auth auth;
    struct ref_parse_error err;
    FUZZ_CHECK(ref_sigv4_parse_authorization(sr->authorization, &auth, &err) == REF_OK);
    size_t n = 0;
    for (size_t i = 0; i < sr->m.num_headers; i++) {
        for (size_t k = 0; k < auth.num_signed_headers; k++) {
            if (fuzz_slice_eq_nocase(sr->m.headers[i].name, auth.signed_headers[k])) {
                idx[n++] = i;
                break;
            }
        }
    }
    return n;
}

static enum effect mutate_method(struct signed_request *sr, uint8_t param)
{
    static const char *const methods[] = {"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD"};
    const char *pick = methods[param % 6];
    if (fuzz_slice_eq_cstr(sr->m.method, pick)) {
        pick = "OPTIONS";
    }
    sr->m.method = cstr(pick);
    return EFFECT_ALTERS;
}

static enum effect mutate_path_append(struct signed_request *sr, uint8_t param)
{
    (void)param;
    sr->m.path = arena_cat(sr->m.path, cstr("Z"));
    return EFFECT_ALTERS;
}

static enum effect mutate_query_add(struct signed_request *sr, uint8_t param)
{
    (void)param;
    sr->m.query = arena_cat(sr->m.query, cstr(sr->m.query.len == 0 ? "zz=1" : "&zz=1"));
    return EFFECT_ALTERS;
}

static enum effect mutate_signed_value(struct signed_request *sr, uint8_t param)
{
    size_t idx[MAX_MODEL_HEADERS];
    size_t n = signed_indexes(sr, idx);
    if (n == 0) {
        return EFFECT_SKIP;
    }
    struct ref_header *h = &sr->m.headers[idx[param % n]];
    h->value = arena_cat(h->value, cstr("x"));
    return EFFECT_ALTERS;
}

static enum effect mutate_signed_remove(struct signed_request *sr, uint8_t param)
{
    size_t idx[MAX_MODEL_HEADERS];
    size_t n = signed_indexes(sr, idx);
    if (n == 0) {
        return EFFECT_SKIP;
    }
    size_t i = idx[param % n];
    struct ref_header h = sr->m.headers[i];
    /* A lone empty header canonicalises as "name:" whether present or not. */
    if (h.value.len == 0 && count_named(&sr->m, h.name) == 1) {
        return EFFECT_SKIP;
    }
    memmove(&sr->m.headers[i], &sr->m.headers[i + 1],
            (sr->m.num_headers - i - 1) * sizeof(sr->m.headers[0]));
    sr->m.num_headers--;
    if (sr->auth_index > (int)i) {
        sr->auth_index--;
    }
    return EFFECT_ALTERS;
}

static enum effect mutate_body(struct signed_request *sr, uint8_t param)
{
    sr->m.body = arena_cat(sr->m.body, ref_slice_make(&param, 1));
    return EFFECT_ALTERS;
}

static enum effect mutate_date(struct signed_request *sr, uint8_t param)
{
    (void)param;
    int i = find_header(&sr->m, "x-amz-date");
    FUZZ_CHECK(i >= 0);
    sr->m.headers[i].value = cstr("20261128T124501Z");
    return EFFECT_ALTERS;
}

/* Replaces the first occurrence of from in the Authorization value. */
static enum effect edit_authorization(struct signed_request *sr, const char *from, const char *to)
{
    struct ref_slice v = sr->authorization;
    size_t fl = strlen(from);
    for (size_t i = 0; i + fl <= v.len; i++) {
        if (memcmp(v.ptr + i, from, fl) == 0) {
            struct ref_slice head = arena_cat(ref_slice_make(v.ptr, i), cstr(to));
            struct ref_slice edited =
                arena_cat(head, ref_slice_make(v.ptr + i + fl, v.len - i - fl));
            sr->m.headers[sr->auth_index].value = edited;
            return EFFECT_BREAKS;
        }
    }
    return EFFECT_SKIP;
}

static enum effect mutate_signed_list(struct signed_request *sr, uint8_t param)
{
    struct ref_sigv4_auth auth;
    struct ref_parse_error err;
    FUZZ_CHECK(ref_sigv4_parse_authorization(sr->authorization, &auth, &err) == REF_OK);
    if (auth.num_signed_headers < 2) {
        return EFFECT_SKIP;
    }
    /* Drop one name from the list (and its ';'). */
    size_t k = param % auth.num_signed_headers;
    struct ref_slice list = auth.signed_headers_list;
    struct ref_slice name = auth.signed_headers[k];
    size_t start = (size_t)(name.ptr - list.ptr);
    size_t end = start + name.len;
    if (k + 1 < auth.num_signed_headers) {
        end++; /* the ';' after it */
    } else {
        start--; /* the ';' before it */
    }
    struct ref_slice v = sr->authorization;
    size_t at = (size_t)(list.ptr - v.ptr);
    struct ref_slice edited = arena_cat(ref_slice_make(v.ptr, at + start),
                                        ref_slice_make(v.ptr + at + end, v.len - at - end));
    sr->m.headers[sr->auth_index].value = edited;
    return EFFECT_ALTERS;
}

static enum effect mutate_signature(struct signed_request *sr, uint8_t param)
{
    struct ref_slice v = sr->authorization;
    FUZZ_CHECK(v.len >= REF_SHA256_HEX_LEN);
    size_t i = v.len - REF_SHA256_HEX_LEN + param % REF_SHA256_HEX_LEN;
    struct ref_slice copy = arena_put(v.ptr, v.len);
    uint8_t *p = (uint8_t *)(uintptr_t)copy.ptr + i;
    *p = *p == '0' ? '1' : '0';
    sr->m.headers[sr->auth_index].value = copy;
    return EFFECT_BREAKS;
}

static enum effect mutate_scope(struct signed_request *sr, uint8_t param)
{
    static const char *const edits[4][2] = {{"/us-east-1/", "/us-west-2/"},
                                            {"/elastictranscoder/", "/s3/"},
                                            {"/aws4_request", "/aws4_reques"},
                                            {"/20261128/", "/20261129/"}};
    return edit_authorization(sr, edits[param % 4][0], edits[param % 4][1]);
}

static enum effect mutate_token(struct signed_request *sr, uint8_t param)
{
    (void)param;
    int i = find_header(&sr->m, "x-amz-security-token");
    if (i >= 0) {
        sr->m.headers[i].value = cstr("etch/session/token/WRONG");
    } else {
        add_header(&sr->m, "X-Amz-Security-Token", cstr("etch/session/token/EXAMPLE"));
    }
    return EFFECT_BREAKS;
}

static enum effect mutate_name_case(struct signed_request *sr, uint8_t param)
{
    struct ref_header *h = &sr->m.headers[param % sr->m.num_headers];
    struct ref_slice copy = arena_put(h->name.ptr, h->name.len);
    uint8_t *p = (uint8_t *)(uintptr_t)copy.ptr;
    bool changed = false;
    for (size_t k = 0; k < copy.len; k++) {
        if ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z')) {
            p[k] ^= 0x20;
            changed = true;
        }
    }
    h->name = copy;
    return changed ? EFFECT_INVISIBLE : EFFECT_SKIP;
}

static enum effect mutate_add_unsigned(struct signed_request *sr, uint8_t param)
{
    (void)param;
    if (find_header(&sr->m, "x-etch-unsigned") >= 0) {
        return EFFECT_SKIP;
    }
    add_header(&sr->m, "X-Etch-Unsigned", cstr("1"));
    return EFFECT_INVISIBLE;
}

static enum effect mutate_move_header(struct signed_request *sr, uint8_t param)
{
    size_t i = param % sr->m.num_headers;
    struct ref_header h = sr->m.headers[i];
    /* Repeated headers join in arrival order, so only a unique name may move. */
    if (count_named(&sr->m, h.name) != 1) {
        return EFFECT_SKIP;
    }
    memmove(&sr->m.headers[i], &sr->m.headers[i + 1],
            (sr->m.num_headers - i - 1) * sizeof(sr->m.headers[0]));
    sr->m.headers[sr->m.num_headers - 1] = h;
    if (sr->auth_index > (int)i) {
        sr->auth_index--;
    } else if (sr->auth_index == (int)i) {
        sr->auth_index = (int)sr->m.num_headers - 1;
    }
    return EFFECT_INVISIBLE;
}

static enum effect mutate_value_spaces(struct signed_request *sr, uint8_t param)
{
    size_t i = param % sr->m.num_headers;
    if ((int)i == sr->auth_index) {
        return EFFECT_SKIP;
    }
    struct ref_header *h = &sr->m.headers[i];
    /* Double the first inner space: SigV4 collapses runs of spaces, so the canonical
     * request cannot see it. (Values arrive trimmed from the HTTP parser, so padding the
     * ends would be a request no parser produces.) */
    struct ref_slice v = h->value;
    const uint8_t *space = v.len == 0 ? NULL : memchr(v.ptr, ' ', v.len);
    if (space == NULL) {
        return EFFECT_SKIP;
    }
    size_t at = (size_t)(space - v.ptr);
    h->value = arena_cat(ref_slice_make(v.ptr, at + 1), ref_slice_make(v.ptr + at, v.len - at));
    return EFFECT_INVISIBLE;
}

static enum effect mutate_path_dot(struct signed_request *sr, uint8_t param)
{
    (void)param;
    sr->m.path = arena_cat(cstr("/."), sr->m.path);
    return EFFECT_INVISIBLE;
}

static enum effect mutate_query_empty_part(struct signed_request *sr, uint8_t param)
{
    (void)param;
    if (sr->m.query.len == 0) {
        return EFFECT_SKIP;
    }
    sr->m.query = arena_cat(cstr("&"), sr->m.query);
    return EFFECT_INVISIBLE;
}

static enum effect mutate_query_escape(struct signed_request *sr, uint8_t param)
{
    struct ref_slice q = sr->m.query;
    size_t n = 0;
    for (size_t i = 0; i < q.len; i++) {
        uint8_t c = q.ptr[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        /* Only bytes outside an escape: a '%' swallows the two after it. */
        if (c == '%') {
            i += 2;
            continue;
        }
        if (alnum && n++ == param % 4) {
            char esc[4];
            static const char hex[] = "0123456789ABCDEF";
            esc[0] = '%';
            esc[1] = hex[c >> 4];
            esc[2] = hex[c & 15];
            esc[3] = '\0';
            struct ref_slice head = arena_cat(ref_slice_make(q.ptr, i), cstr(esc));
            sr->m.query = arena_cat(head, ref_slice_make(q.ptr + i + 1, q.len - i - 1));
            return EFFECT_INVISIBLE;
        }
    }
    return EFFECT_SKIP;
}

static mutation_fn *const s_mutations[] = {
    NULL,
    mutate_method,
    mutate_path_append,
    mutate_query_add,
    mutate_signed_value,
    mutate_signed_remove,
    mutate_body,
    mutate_date,
    mutate_signed_list,
    mutate_signature,
    mutate_scope,
    mutate_token,
    mutate_name_case,
    mutate_add_unsigned,
    mutate_move_header,
    mutate_value_spaces,
    mutate_path_dot,
    mutate_query_empty_part,
    mutate_query_escape,
};

#define NUM_MUTATIONS (sizeof(s_mutations) / sizeof(s_mutations[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || size > MAX_INPUT_BYTES) {
        return 0;
    }
    s_arena_used = 0;
    uint8_t flags = data[0];
    size_t which = data[1] % NUM_MUTATIONS;
    uint8_t param = data[2];

    static struct signed_request sr;
    memset(&sr, 0, sizeof(sr));
    build_model(ref_slice_make(data + 3, size - 3), &sr.m);

    key_caches_start();
    traces_reset(&s_sign_trace);
    traces_reset(&s_verify_trace);
    if (!sign_model(&sr, flags, &s_sign_trace)) {
        return 0;
    }

    struct ref_sigv4_outcome out;
    if (verify(&sr.m, &out, &s_verify_trace) != REF_OK) {
        fprintf(stderr, "signed request refused: %s: %s\n", ref_status_name(out.status),
                out.message);
        FUZZ_CHECK(!"a request signed by ref_sigv4_sign verifies");
    }
    FUZZ_CHECK(out.credential == sr.cred);
    FUZZ_CHECK(fuzz_slice_eq(ref_buf_slice(&s_sign_trace.canonical),
                             ref_buf_slice(&s_verify_trace.canonical)));
    FUZZ_CHECK(fuzz_slice_eq(ref_buf_slice(&s_sign_trace.sts), ref_buf_slice(&s_verify_trace.sts)));
    check_against_oracle(&sr, ref_buf_slice(&s_sign_trace.canonical));

    if (s_mutations[which] == NULL) {
        return 0;
    }
    /* The canonical request before the mutation is the one the verifier has just rebuilt
     * from this very request under the SignedHeaders of its Authorization value, which is
     * what canonical_of would build again (and the signer's, as checked above). */
    struct ref_slice before =
        arena_put(s_verify_trace.canonical.data, s_verify_trace.canonical.len);
    enum effect effect = s_mutations[which](&sr, param);
    if (effect == EFFECT_SKIP) {
        return 0;
    }
    struct ref_slice after = {NULL, 0};
    bool has_after = canonical_of(&sr.m, &after);
    enum ref_status rc = verify(&sr.m, &out, NULL);
    switch (effect) {
        case EFFECT_ALTERS:
            FUZZ_CHECK(!has_after || !fuzz_slice_eq(before, after));
            FUZZ_CHECK(rc != REF_OK);
            break;
        case EFFECT_BREAKS:
            FUZZ_CHECK(rc != REF_OK);
            break;
        case EFFECT_INVISIBLE:
            FUZZ_CHECK(has_after && fuzz_slice_eq(before, after));
            if (rc != REF_OK) {
                fprintf(stderr, "invisible mutation %zu refused: %s: %s\n", which,
                        ref_status_name(out.status), out.message);
            }
            FUZZ_CHECK(rc == REF_OK);
            break;
        default:
            FUZZ_CHECK(!"unknown effect");
    }
    return 0;
}
