/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_canon.c - SigV4 canonical request and string to sign (non-S3 rules).
 *
 * Rebuilds what a client signed from the request as received and the client's own
 * SignedHeaders list, taken as given. Inputs are borrowed slices; the output goes only to
 * the caller's capped buffer, which is left as it was when anything fails. The rules and
 * the bugs they avoid are in docs/sigv4-notes.md section 2.
 */
#include "ref/sigv4.h"

#include "ref/uri.h"

#include "ascii_internal.h"
#include "sigv4_internal.h"
#include "uri_internal.h"

#include <assert.h>
#include <string.h>

/* Scratch space: on the stack for ordinary requests, on the heap past that. */
#define SCRATCH_STACK_BYTES 1024

static void scratch_init(struct ref_buf *b, uint8_t *stack, size_t need)
{
    if (need <= SCRATCH_STACK_BYTES) {
        ref_buf_init_fixed(b, stack, SCRATCH_STACK_BYTES);
    } else {
        ref_buf_init(b, need);
    }
}

/* Decodes one query name or value and encodes it again in a single pass: '%XX' becomes
 * its byte, '+' stays a literal '+' (SigV4 is not form decoding, smithy-rs issue 4227),
 * and every byte outside the unreserved set is written as upper-case %XX. */
static enum ref_status append_reencoded(struct ref_slice raw,
                                        size_t raw_off,
                                        struct ref_buf *out,
                                        struct ref_parse_error *err)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < raw.len; i++) {
        uint8_t c = raw.ptr[i];
        if (c == '%') {
            if (raw.len - i < 3 || ref_http_hex_value(raw.ptr[i + 1]) < 0 ||
                ref_http_hex_value(raw.ptr[i + 2]) < 0) {
                return ref_parse_fail(err, REF_E_MALFORMED, raw_off + i, "query.escape",
                                      "'%' needs two hex digits");
            }
            c = (uint8_t)(ref_http_hex_value(raw.ptr[i + 1]) * 16 +
                          ref_http_hex_value(raw.ptr[i + 2]));
            i += 2;
        }
        if (ref_uri_is_unreserved(c)) {
            REF_TRY(ref_buf_append_byte(out, c));
        } else {
            uint8_t esc[3] = {'%', (uint8_t)digits[c >> 4], (uint8_t)digits[c & 0x0f]};
            REF_TRY(ref_buf_append(out, esc, sizeof esc));
        }
    }
    return REF_OK;
}

struct encoded_param {
    size_t name_off, name_len, value_off, value_len;
    struct ref_slice name, value;
};

static int param_cmp(const struct encoded_param *a, const struct encoded_param *b)
{
    int c = ref_sigv4_slice_cmp(a->name, b->name);
    return c != 0 ? c : ref_sigv4_slice_cmp(a->value, b->value);
}

static enum ref_status
append_canonical_query(struct ref_slice query, struct ref_buf *out, struct ref_parse_error *err)
{
    struct ref_query_param params[REF_MAX_QUERY_PARAMS];
    size_t n = 0;
    if (ref_uri_split_query(query, params, REF_MAX_QUERY_PARAMS, &n) != REF_OK) {
        return ref_parse_fail(err, REF_E_TOO_LARGE,
                              (size_t)(params[REF_MAX_QUERY_PARAMS - 1].value.ptr +
                                       params[REF_MAX_QUERY_PARAMS - 1].value.len - query.ptr),
                              "query", "more than REF_MAX_QUERY_PARAMS parameters");
    }
    if (n == 0) {
        return REF_OK;
    }
    /* Every byte can grow to three; that bounds the scratch space exactly. */
    uint8_t stack[SCRATCH_STACK_BYTES];
    struct ref_buf scratch;
    scratch_init(&scratch, stack, 3 * query.len);
    struct encoded_param enc[REF_MAX_QUERY_PARAMS];
    enum ref_status rc = REF_OK;
    for (size_t i = 0; i < n && rc == REF_OK; i++) {
        enc[i].name_off = scratch.len;
        rc = append_reencoded(params[i].name, (size_t)(params[i].name.ptr - query.ptr), &scratch,
                              err);
        enc[i].name_len = scratch.len - enc[i].name_off;
        enc[i].value_off = scratch.len;
        if (rc == REF_OK) {
            rc = append_reencoded(params[i].value, (size_t)(params[i].value.ptr - query.ptr),
                                  &scratch, err);
        }
        enc[i].value_len = scratch.len - enc[i].value_off;
    }
    if (rc != REF_OK) {
        goto out;
    }
    /* Slices only now: the scratch buffer no longer moves. Insertion sort (n <= 64) by
     * encoded name, then encoded value, in byte order (sigv4-notes, canonical query). */
    for (size_t i = 0; i < n; i++) {
        enc[i].name = ref_slice_make(scratch.data + enc[i].name_off, enc[i].name_len);
        enc[i].value = ref_slice_make(scratch.data + enc[i].value_off, enc[i].value_len);
        struct encoded_param cur = enc[i];
        size_t j = i;
        while (j > 0 && param_cmp(&enc[j - 1], &cur) > 0) {
            enc[j] = enc[j - 1];
            j--;
        }
        enc[j] = cur;
    }
    for (size_t i = 0; i < n && rc == REF_OK; i++) {
        /* A valueless key still gets its '=' ("?uploads" -> "uploads="). */
        if (i > 0) {
            rc = ref_buf_append_byte(out, '&');
        }
        if (rc == REF_OK) {
            rc = ref_buf_append_slice(out, enc[i].name);
        }
        if (rc == REF_OK) {
            rc = ref_buf_append_byte(out, '=');
        }
        if (rc == REF_OK) {
            rc = ref_buf_append_slice(out, enc[i].value);
        }
    }
out:
    ref_buf_cleanup(&scratch);
    return rc;
}

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Appends that skip the call into buf.c while the buffer has room, which is always the
 * case for the verifier's and signer's stack buffers; otherwise the checked append runs,
 * with its all-or-nothing result. */
static enum ref_status put_byte(struct ref_buf *out, uint8_t c)
{
    if (out->len < out->cap) {
        out->data[out->len++] = c;
        return REF_OK;
    }
    return ref_buf_append_byte(out, c);
}

static enum ref_status put_bytes(struct ref_buf *out, const uint8_t *p, size_t n)
{
    if (n <= out->cap - out->len) {
        if (n > 0) {
            memcpy(out->data + out->len, p, n);
            out->len += n;
        }
        return REF_OK;
    }
    return ref_buf_append(out, p, n);
}

static enum ref_status put_slice(struct ref_buf *out, struct ref_slice s)
{
    return put_bytes(out, s.ptr, s.len);
}

/* Trims the value and collapses each inner run of spaces and tabs to one space, quoted
 * strings included (sigv4-notes, trimming and collapsing). */
/* The index of the first space or tab at or after i, or v.len: found by memchr rather than
 * by a test per byte, since most values are one long run without either. */
static size_t next_ws(struct ref_slice v, size_t i)
{
    const uint8_t *space = memchr(v.ptr + i, ' ', v.len - i);
    size_t end = space != NULL ? (size_t)(space - v.ptr) : v.len;
    const uint8_t *tab = end > i ? memchr(v.ptr + i, '\t', end - i) : NULL;
    return tab != NULL ? (size_t)(tab - v.ptr) : end;
}

static enum ref_status append_collapsed(struct ref_slice value, struct ref_buf *out)
{
    value = ref_slice_trim_ows(value);
    size_t i = 0;
    while (i < value.len) {
        size_t start = i;
        i = next_ws(value, i);
        REF_TRY(put_bytes(out, value.ptr + start, i - start));
        if (i < value.len) {
            REF_TRY(put_byte(out, ' '));
            while (i < value.len && is_ws(value.ptr[i])) {
                i++;
            }
        }
    }
    return REF_OK;
}

static enum ref_status append_lower(struct ref_slice s, struct ref_buf *out)
{
    REF_TRY(ref_buf_reserve(out, s.len));
    if (s.len > 0) {
        ref_ascii_lower_copy(out->data + out->len, s.ptr, s.len);
        out->len += s.len;
    }
    return REF_OK;
}

/* "name:v1,v2\n" for one signed name: every line with that name, in arrival order, each
 * trimmed and collapsed, joined by ',' with no space. A name the request lacks gives
 * "name:" (the verifier refuses such a request separately). */
static enum ref_status append_canonical_header(const struct ref_sigv4_request *req,
                                               struct ref_slice name,
                                               struct ref_buf *out)
{
    REF_TRY(append_lower(name, out));
    REF_TRY(put_byte(out, ':'));
    bool first = true;
    for (size_t i = 0; i < req->num_headers; i++) {
        /* The length first: it rules out most headers without a call. */
        if (req->headers[i].name.len != name.len ||
            !ref_slice_eq_nocase(req->headers[i].name, name)) {
            continue;
        }
        if (!first) {
            REF_TRY(put_byte(out, ','));
        }
        first = false;
        REF_TRY(append_collapsed(req->headers[i].value, out));
    }
    return put_byte(out, '\n');
}

/* The path as sent, normalised, then encoded once more: "a%2Fb" becomes "a%252Fb". It is
 * never decoded first, or an encoded '/' would turn into a separator. */
static enum ref_status append_canonical_path(struct ref_slice path, struct ref_buf *out)
{
    /* Already normal and encoded is how every SDK sends an ordinary label: one scan and
     * one copy. */
    if (ref_uri_path_is_canonical(path)) {
        return put_slice(out, path);
    }
    uint8_t stack[SCRATCH_STACK_BYTES];
    struct ref_buf normal;
    scratch_init(&normal, stack, path.len + 2);
    enum ref_status rc = ref_uri_normalize_path(path, &normal);
    if (rc == REF_OK) {
        rc = ref_uri_encode(ref_buf_slice(&normal), true, out);
    }
    ref_buf_cleanup(&normal);
    return rc;
}

static enum ref_status build_canonical_request(const struct ref_sigv4_request *req,
                                               const struct ref_slice *signed_headers,
                                               size_t num_signed_headers,
                                               struct ref_slice payload_hash_hex,
                                               struct ref_buf *out,
                                               struct ref_parse_error *err)
{
    /* HTTPMethod: exactly as sent (aws-sdk-js-v3 issue 3612). */
    REF_TRY(put_slice(out, req->method));
    REF_TRY(put_byte(out, '\n'));
    /* CanonicalURI */
    REF_TRY(append_canonical_path(req->path, out));
    REF_TRY(put_byte(out, '\n'));
    /* CanonicalQueryString */
    REF_TRY(append_canonical_query(req->query, out, err));
    REF_TRY(put_byte(out, '\n'));
    /* CanonicalHeaders: the block ends in its own '\n', then the separator follows. */
    for (size_t i = 0; i < num_signed_headers; i++) {
        REF_TRY(append_canonical_header(req, signed_headers[i], out));
    }
    REF_TRY(put_byte(out, '\n'));
    /* SignedHeaders: as given, joined by ';'. */
    for (size_t i = 0; i < num_signed_headers; i++) {
        if (i > 0) {
            REF_TRY(put_byte(out, ';'));
        }
        REF_TRY(put_slice(out, signed_headers[i]));
    }
    REF_TRY(put_byte(out, '\n'));
    /* HashedPayload */
    return put_slice(out, payload_hash_hex);
}

enum ref_status ref_sigv4_canonical_request(const struct ref_sigv4_request *req,
                                            const struct ref_slice *signed_headers,
                                            size_t num_signed_headers,
                                            struct ref_slice payload_hash_hex,
                                            struct ref_buf *out,
                                            struct ref_parse_error *err)
{
    assert(req != NULL && ref_buf_is_valid(out));
    size_t base = out->len;
    struct ref_parse_error local = {0};
    enum ref_status rc = build_canonical_request(req, signed_headers, num_signed_headers,
                                                 payload_hash_hex, out, &local);
    if (rc != REF_OK) {
        if (local.where == NULL) {
            /* Only the query parser says where it stopped; anything else is the cap. */
            (void)ref_parse_fail(&local, rc, out->len - base, "canonical_request",
                                 rc == REF_E_TOO_LARGE ? "canonical request passes the buffer cap"
                                                       : "canonical request could not be built");
        }
        if (err != NULL) {
            *err = local;
        }
        out->len = base;
    }
    return rc;
}

enum ref_status ref_sigv4_string_to_sign(struct ref_slice amz_date,
                                         struct ref_slice scope,
                                         struct ref_slice canonical_request,
                                         struct ref_buf *out)
{
    char hash[REF_SHA256_HEX_LEN];
    ref_sigv4_sha256_hex(canonical_request, hash);
    size_t base = out->len;
    enum ref_status rc = ref_buf_append_cstr(out, REF_SIGV4_ALGORITHM "\n");
    if (rc == REF_OK) {
        rc = ref_buf_append_slice(out, amz_date);
    }
    if (rc == REF_OK) {
        rc = ref_buf_append_byte(out, '\n');
    }
    if (rc == REF_OK) {
        rc = ref_buf_append_slice(out, scope);
    }
    if (rc == REF_OK) {
        rc = ref_buf_append_byte(out, '\n');
    }
    if (rc == REF_OK) {
        rc = ref_buf_append(out, hash, sizeof hash);
    }
    if (rc != REF_OK) {
        out->len = base;
    }
    return rc;
}
