/* SPDX-License-Identifier: Apache-2.0
 *
 * replay.c - saved requests of failing steps and signing one again later.
 *
 * A saved request is the exact bytes the runner sent, so that `etch send` and `etch handle`
 * can replay what the run saw. Signing again changes only what a signature's age is made
 * of (the date, the scope's day, the signature) and the principal it names, so a request
 * written to be malformed stays malformed in every other byte.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/replay.h"
#include "harness/text.h"

#include "ref/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Saved request files ------------------------------------------------------------ */

static bool is_name_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

/* Device names Windows keeps whatever the extension ("nul.http" is the device too). */
static bool is_reserved_device(const char *name)
{
    static const char *const devices[] = {"con", "prn", "aux", "nul"};
    char base[8];
    size_t n = 0;
    while (name[n] != '\0' && name[n] != '.' && n < sizeof(base) - 1) {
        char c = name[n];
        base[n] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        n++;
    }
    base[n] = '\0';
    if (name[n] != '\0' && name[n] != '.') {
        return false; /* longer than any device name */
    }
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
        if (strcmp(base, devices[i]) == 0) {
            return true;
        }
    }
    return n == 4 && (memcmp(base, "com", 3) == 0 || memcmp(base, "lpt", 3) == 0) &&
           base[3] >= '1' && base[3] <= '9';
}

void harness_safe_file_name(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; in[i] != '\0' && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        bool keep = is_name_byte(c) && !(n == 0 && c == '.');
        out[n++] = keep ? (char)c : '_';
    }
    if (n == 0) {
        out[n++] = '_';
    }
    out[n] = '\0';
    if (is_reserved_device(out)) {
        size_t len = n + 1 < cap ? n : cap - 2;
        memmove(out + 1, out, len);
        out[0] = '_';
        out[len + 1] = '\0';
    }
}

bool harness_step_needs_replay(const struct harness_step_result *s)
{
    return s->verdict == HARNESS_VERDICT_FAIL || s->verdict == HARNESS_VERDICT_ERROR ||
           s->verdict == HARNESS_VERDICT_DEVIATION || s->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED;
}

bool harness_saved_request_path(const char *dir,
                                const struct harness_scenario *sc,
                                const struct harness_step_result *s,
                                size_t exchange_index,
                                char *out,
                                size_t cap)
{
    char scenario[HARNESS_SAVED_NAME_BYTES];
    char step[HARNESS_SAVED_NAME_BYTES];
    harness_safe_file_name(sc->name, scenario, sizeof(scenario));
    harness_safe_file_name(s->step->name, step, sizeof(step));
    int w = s->num_exchanges > 1
                ? snprintf(out, cap, "%s/%s/%s-%zu.http", dir, scenario, step, exchange_index + 1)
                : snprintf(out, cap, "%s/%s/%s.http", dir, scenario, step);
    return w > 0 && (size_t)w < cap;
}

enum ref_status harness_redact_session_tokens(struct ref_slice request,
                                              const char *keep,
                                              struct ref_buf *out,
                                              bool *redacted)
{
    static const char name[] = "x-amz-security-token:";
    size_t name_len = sizeof(name) - 1;
    *redacted = false;
    size_t i = 0;
    size_t copied = 0;
    /* Line by line through the head, up to the first empty line (bare LF ends lines too,
     * so that a malformed head is looked at as a lenient server would read it). */
    while (i < request.len) {
        size_t end = i;
        while (end < request.len && request.ptr[end] != '\n') {
            end++;
        }
        struct ref_slice line = ref_slice_make(request.ptr + i, end - i);
        if (line.len > 0 && line.ptr[line.len - 1] == '\r') {
            line.len--;
        }
        if (line.len == 0) {
            break;
        }
        if (line.len >= name_len && ref_slice_eq_nocase(ref_slice_make(line.ptr, name_len),
                                                        ref_slice_make(name, name_len))) {
            size_t v = name_len;
            while (v < line.len && (line.ptr[v] == ' ' || line.ptr[v] == '\t')) {
                v++;
            }
            size_t v_end = line.len;
            while (v_end > v && (line.ptr[v_end - 1] == ' ' || line.ptr[v_end - 1] == '\t')) {
                v_end--;
            }
            struct ref_slice value = ref_slice_make(line.ptr + v, v_end - v);
            if (keep == NULL || !ref_slice_eq_cstr(value, keep)) {
                size_t at = (size_t)(value.ptr - request.ptr);
                REF_TRY(ref_buf_append(out, request.ptr + copied, at - copied));
                REF_TRY(ref_buf_append_cstr(out, HARNESS_REDACTED_TOKEN));
                copied = at + value.len;
                *redacted = true;
            }
        }
        i = end + 1;
    }
    return ref_buf_append(out, request.ptr + copied, request.len - copied);
}

/* --- Signing again ------------------------------------------------------------------ */

/* One replacement of the request's bytes [at, at + len) by text. */
struct splice {
    size_t at;
    size_t len;
    struct ref_slice text;
};

static int splice_order(const void *a, const void *b)
{
    const struct splice *x = a;
    const struct splice *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* out = src with the replacements made (they never overlap: distinct header values). */
static enum ref_status
apply_splices(struct ref_slice src, struct splice *splices, size_t n, struct ref_buf *out)
{
    qsort(splices, n, sizeof(*splices), splice_order);
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        REF_TRY(ref_buf_append(out, src.ptr + from, splices[i].at - from));
        REF_TRY(ref_buf_append_slice(out, splices[i].text));
        from = splices[i].at + splices[i].len;
    }
    return ref_buf_append(out, src.ptr + from, src.len - from);
}

/* The parts of a request its signature depends on, borrowed from the parsed request. */
struct signed_parts {
    struct ref_http_request req;
    const struct ref_header *auth_h;
    const struct ref_header *date_h;
    const struct ref_header *token_h;
    struct ref_sigv4_auth auth;
};

static enum ref_status read_signed_parts(struct ref_slice raw,
                                         struct ref_buf *body_buf,
                                         struct signed_parts *p,
                                         char *why,
                                         size_t why_cap)
{
    struct ref_parse_error err;
    if (ref_http_parse_request(raw, &p->req, body_buf, &err) != REF_OK) {
        harness_textf(why, why_cap,
                      "not a well-formed HTTP request (%s at byte %zu): it has no signature "
                      "to make again",
                      err.reason != NULL ? err.reason : "malformed", err.offset);
        return REF_E_MALFORMED;
    }
    const struct ref_header *h = p->req.headers;
    size_t n = p->req.num_headers;
    p->auth_h = ref_http_find_header(h, n, REF_SLICE_LIT("authorization"));
    p->date_h = ref_http_find_header(h, n, REF_SLICE_LIT("x-amz-date"));
    p->token_h = ref_http_find_header(h, n, REF_SLICE_LIT("x-amz-security-token"));
    if (p->auth_h == NULL ||
        ref_sigv4_parse_authorization(p->auth_h->value, &p->auth, &err) != REF_OK ||
        p->auth.scope_date.len != 8) {
        harness_textf(why, why_cap, "no SigV4 Authorization header to sign again");
        return REF_E_MALFORMED;
    }
    if (p->date_h == NULL || p->date_h->value.len != REF_SIGV4_AMZ_DATE_LEN) {
        harness_textf(why, why_cap, "no X-Amz-Date (YYYYMMDDTHHMMSSZ) to move to the current time");
        return REF_E_MALFORMED;
    }
    return REF_OK;
}

static size_t offset_in(struct ref_slice raw, struct ref_slice part)
{
    return (size_t)(part.ptr - raw.ptr);
}

static const struct ref_credential *
credential_for(struct ref_slice key, const struct ref_credential *const *creds, size_t n)
{
    const struct ref_credential *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (creds[i] == NULL) {
            continue;
        }
        if (ref_slice_eq_cstr(key, creds[i]->access_key_id)) {
            return creds[i];
        }
        first = first != NULL ? first : creds[i];
    }
    return first;
}

/* The signature for the request as it stands (every header but Authorization), into
 * digits. */
static enum ref_status signature_of(const struct signed_parts *p,
                                    const struct ref_credential *cred,
                                    char *digits,
                                    size_t digits_cap,
                                    size_t *digits_len)
{
    struct ref_header headers[REF_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < p->req.num_headers; i++) {
        if (&p->req.headers[i] != p->auth_h) {
            headers[n++] = p->req.headers[i];
        }
    }
    struct ref_sigv4_request sreq = {
        .method = p->req.method,
        .path = p->req.path,
        .query = p->req.query,
        .headers = headers,
        .num_headers = n,
        .body = p->req.body,
    };
    struct ref_sigv4_sign_params sp = {
        .access_key_id = ref_slice_from_cstr(cred->access_key_id),
        .secret_access_key = ref_slice_from_cstr(cred->secret_access_key),
        .region = p->auth.scope_region,
        .service = p->auth.scope_service,
        .amz_date = p->date_h->value,
        .signed_headers = p->auth.signed_headers,
        .num_signed_headers = p->auth.num_signed_headers,
        .is_date_in_request = true,
    };
    struct ref_buf value;
    ref_buf_init(&value, REF_MAX_AUTHORIZATION_BYTES);
    enum ref_status rc = ref_sigv4_sign(&sp, &sreq, &value, NULL);
    static const char marker[] = "Signature=";
    const uint8_t *at = NULL;
    for (size_t i = 0; rc == REF_OK && i + sizeof(marker) - 1 <= value.len; i++) {
        if (memcmp(value.data + i, marker, sizeof(marker) - 1) == 0) {
            at = value.data + i + sizeof(marker) - 1;
        }
    }
    if (rc == REF_OK && at != NULL) {
        *digits_len = (size_t)(value.data + value.len - at);
        if (*digits_len > digits_cap) {
            rc = REF_E_TOO_LARGE;
        } else {
            memcpy(digits, at, *digits_len);
        }
    } else if (rc == REF_OK) {
        rc = REF_E_INTERNAL;
    }
    ref_buf_cleanup_secure(&value);
    return rc;
}

enum ref_status harness_resign_at(struct ref_buf *request,
                                  const struct ref_credential *const *creds,
                                  size_t num_creds,
                                  int64_t now_s,
                                  char *why,
                                  size_t why_cap)
{
    why[0] = '\0';
    struct ref_buf body_buf;
    struct ref_buf dated;
    ref_buf_init(&body_buf, REF_MAX_BODY_BYTES);
    ref_buf_init(&dated, request->max);
    struct signed_parts p;
    struct ref_slice raw = ref_buf_slice(request);
    enum ref_status rc = read_signed_parts(raw, &body_buf, &p, why, why_cap);
    const struct ref_credential *cred =
        rc == REF_OK ? credential_for(p.auth.access_key_id, creds, num_creds) : NULL;
    if (rc == REF_OK && cred == NULL) {
        harness_textf(why, why_cap, "no credentials to sign with");
        rc = REF_E_MALFORMED;
    }
    /* First the date, the scope's day, the key and the token; then the signature of that. */
    char now[REF_SIGV4_AMZ_DATE_LEN + 1];
    ref_sigv4_format_amz_date(now_s, now);
    struct splice edits[4];
    size_t n = 0;
    if (rc == REF_OK) {
        edits[n++] = (struct splice){offset_in(raw, p.date_h->value), p.date_h->value.len,
                                     ref_slice_make(now, REF_SIGV4_AMZ_DATE_LEN)};
        edits[n++] = (struct splice){offset_in(raw, p.auth.scope_date), 8, ref_slice_make(now, 8)};
        edits[n++] = (struct splice){offset_in(raw, p.auth.access_key_id), p.auth.access_key_id.len,
                                     ref_slice_from_cstr(cred->access_key_id)};
        if (p.token_h != NULL && cred->session_token != NULL) {
            edits[n++] = (struct splice){offset_in(raw, p.token_h->value), p.token_h->value.len,
                                         ref_slice_from_cstr(cred->session_token)};
        }
        rc = apply_splices(raw, edits, n, &dated);
    }
    struct signed_parts q;
    if (rc == REF_OK) {
        ref_buf_reset(&body_buf);
        rc = read_signed_parts(ref_buf_slice(&dated), &body_buf, &q, why, why_cap);
    }
    char digits[2 * REF_SHA256_HEX_LEN];
    size_t digits_len = 0;
    if (rc == REF_OK) {
        rc = signature_of(&q, cred, digits, sizeof(digits), &digits_len);
        if (rc != REF_OK && why[0] == '\0') {
            harness_textf(why, why_cap, "the request cannot be signed (%s)", ref_status_name(rc));
        }
    }
    if (rc == REF_OK) {
        struct splice sig = {offset_in(ref_buf_slice(&dated), q.auth.signature),
                             q.auth.signature.len, ref_slice_make(digits, digits_len)};
        struct ref_slice signed_src = ref_buf_slice(&dated);
        ref_buf_reset(request);
        rc = apply_splices(signed_src, &sig, 1, request);
    }
    ref_buf_cleanup(&dated);
    ref_buf_cleanup(&body_buf);
    return rc;
}
