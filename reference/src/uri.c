/* SPDX-License-Identifier: Apache-2.0
 *
 * uri.c - path normalisation, percent-encoding and query splitting for routing and SigV4.
 *
 * Everything here works on the raw, still percent-encoded bytes of the request target,
 * because the router and the canonicaliser must see the same path (contract section 5).
 * Outputs are appended to caller-owned buffers; nothing else is allocated.
 */
#include "ref/uri.h"

#include "uri_internal.h"

#include <assert.h>

static bool is_dot_segment(struct ref_slice seg)
{
    return seg.len == 1 && seg.ptr[0] == '.';
}

static bool is_dot_dot_segment(struct ref_slice seg)
{
    return seg.len == 2 && seg.ptr[0] == '.' && seg.ptr[1] == '.';
}

static enum ref_status normalize_into(struct ref_slice path, struct ref_buf *out, size_t base)
{
    size_t kept = 0;
    struct ref_slice rest = path;
    struct ref_slice seg;
    bool more = true;
    while (more) {
        more = ref_slice_split(&rest, '/', &seg);
        /* Empty segments are repeated (or leading/trailing) slashes: merged away. Only a
         * whole "." or ".." segment is a dot segment; ".x" or "..." are ordinary names
         * (botocore issue 838 stripped those by mistake). */
        if (seg.len == 0 || is_dot_segment(seg)) {
            continue;
        }
        if (is_dot_dot_segment(seg)) {
            /* Drop the last kept segment; above the root there is nothing to drop. */
            if (kept > 0) {
                size_t at = out->len;
                while (at > base && out->data[at - 1] != '/') {
                    at--;
                }
                out->len = at - 1;
                kept--;
            }
            continue;
        }
        /* "/" and the segment. Past the path's first byte a segment follows the '/' that
         * ended the one before, so both go in one append (half the checked appends). */
        if (seg.ptr > path.ptr) {
            REF_TRY(ref_buf_append(out, seg.ptr - 1, seg.len + 1));
        } else {
            REF_TRY(ref_buf_append_byte(out, '/'));
            REF_TRY(ref_buf_append_slice(out, seg));
        }
        kept++;
    }
    /* The SDKs (botocore, the JS SDK v3, smithy-rs) keep a trailing slash only when the
     * path as sent ends in one, and turn an empty result into "/". Following them rather
     * than RFC 3986's "/a/b/.." -> "/a/" keeps our canonical path equal to theirs. */
    if (kept == 0) {
        REF_TRY(ref_buf_append_byte(out, '/'));
    } else if (path.len > 0 && path.ptr[path.len - 1] == '/') {
        REF_TRY(ref_buf_append_byte(out, '/'));
    }
    return REF_OK;
}

enum ref_status ref_uri_normalize_path(struct ref_slice path, struct ref_buf *out)
{
    assert(ref_slice_is_valid(path) && ref_buf_is_valid(out));
    size_t base = out->len;
    enum ref_status rc = normalize_into(path, out, base);
    if (rc != REF_OK) {
        /* All or nothing: a buffer that ran out keeps what it held before. */
        out->len = base;
    }
    return rc;
}

enum ref_status ref_uri_encode(struct ref_slice in, bool keep_slash, struct ref_buf *out)
{
    static const char digits[] = "0123456789ABCDEF";
    assert(ref_slice_is_valid(in) && ref_buf_is_valid(out));
    size_t need = 0;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        need += (ref_uri_is_unreserved(c) || (keep_slash && c == '/')) ? 1 : 3;
    }
    /* One reservation for the whole result: all or nothing is appended. Written through a
     * local pointer: a store through out->data may alias out->len, so writing
     * out->data[out->len++] reloaded and stored the length for every byte. */
    REF_TRY(ref_buf_reserve(out, need));
    if (need == 0) {
        return REF_OK; /* nothing to write, and an empty buffer may have no data yet */
    }
    uint8_t *dst = out->data + out->len;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        if (ref_uri_is_unreserved(c) || (keep_slash && c == '/')) {
            *dst++ = c;
        } else {
            *dst++ = '%';
            *dst++ = (uint8_t)digits[c >> 4];
            *dst++ = (uint8_t)digits[c & 0x0f];
        }
    }
    out->len += need;
    return REF_OK;
}

/* The offset of the first '%' of in at or after from, or in.len. */
static size_t next_escape(struct ref_slice in, size_t from)
{
    if (from >= in.len) {
        return in.len;
    }
    return from + ref_slice_find(ref_slice_make(in.ptr + from, in.len - from), '%');
}

enum ref_status
ref_uri_decode(struct ref_slice in, struct ref_buf *out, struct ref_parse_error *err)
{
    assert(ref_slice_is_valid(in) && ref_buf_is_valid(out));
    /* Validate first so a bad escape leaves out untouched, and count the decoded bytes so
     * that a buffer with room for exactly the result is enough. Both passes go from one
     * '%' to the next (memchr) and copy the runs between them whole, rather than looking
     * at every byte: most labels hold no escape at all. */
    size_t escapes = 0;
    for (size_t i = next_escape(in, 0); i < in.len; i = next_escape(in, i + 3)) {
        if (in.len - i < 3 || ref_uri_hex_value(in.ptr[i + 1]) < 0 ||
            ref_uri_hex_value(in.ptr[i + 2]) < 0) {
            return ref_parse_fail(err, REF_E_MALFORMED, i, "uri.escape",
                                  "'%' needs two hex digits");
        }
        escapes++;
    }
    REF_TRY(ref_buf_reserve(out, in.len - 2 * escapes));
    /* Within the reservation: the appends below cannot fail. */
    size_t from = 0;
    for (size_t i = next_escape(in, 0); i < in.len; i = next_escape(in, from)) {
        REF_TRY(ref_buf_append(out, in.ptr + from, i - from));
        out->data[out->len++] =
            (uint8_t)(ref_uri_hex_value(in.ptr[i + 1]) * 16 + ref_uri_hex_value(in.ptr[i + 2]));
        from = i + 3;
    }
    if (from < in.len) {
        REF_TRY(ref_buf_append(out, in.ptr + from, in.len - from));
    }
    return REF_OK;
}

enum ref_status ref_uri_split_query(struct ref_slice query,
                                    struct ref_query_param *params,
                                    size_t cap,
                                    size_t *count)
{
    assert(ref_slice_is_valid(query));
    size_t n = 0;
    struct ref_slice rest = query;
    struct ref_slice part;
    bool more = query.len > 0;
    while (more) {
        more = ref_slice_split(&rest, '&', &part);
        if (part.len == 0) {
            continue;
        }
        if (n == cap) {
            *count = n;
            return REF_E_TOO_LARGE;
        }
        struct ref_query_param *p = &params[n++];
        p->has_equals = ref_slice_split(&part, '=', &p->name);
        p->value = part;
    }
    *count = n;
    return REF_OK;
}
