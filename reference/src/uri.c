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
#include <string.h>

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

/* What ref_uri_encode writes for each byte value: the bytes in the low three bytes of an
 * entry and their count in the top one, either the byte itself (1) or '%' and two
 * upper-case hex digits (3); one table without and one with '/' kept. Built from
 * REF_URI_UNRESERVED at compile time, so it leaves alone exactly what the canonicaliser
 * does. A lookup rather than tests on the byte: under a fuzzer's comparison hooks each
 * test on a byte of a path is a call, and encoding was a fifth of fuzz_path's time. */
#define URI_HEX_DIGIT(d) ((uint32_t)((d) < 10 ? '0' + (d) : 'A' + (d)-10))
#define URI_ENTRY(c, slash)                                                                        \
    ((REF_URI_UNRESERVED(c) || ((slash) && (c) == '/'))                                            \
         ? UINT32_C(0x01000000) | (uint32_t)(c)                                                    \
         : UINT32_C(0x03000000) | (uint32_t)'%' | URI_HEX_DIGIT((c) >> 4) << 8 |                   \
               URI_HEX_DIGIT((c)&15) << 16)
#define URI_ENTRY4(c, s)                                                                           \
    URI_ENTRY(c, s), URI_ENTRY((c) + 1, s), URI_ENTRY((c) + 2, s), URI_ENTRY((c) + 3, s)
#define URI_ENTRY16(c, s)                                                                          \
    URI_ENTRY4(c, s), URI_ENTRY4((c) + 4, s), URI_ENTRY4((c) + 8, s), URI_ENTRY4((c) + 12, s)
#define URI_ENTRY64(c, s)                                                                          \
    URI_ENTRY16(c, s), URI_ENTRY16((c) + 16, s), URI_ENTRY16((c) + 32, s),                         \
        URI_ENTRY16((c) + 48, s)
#define URI_TABLE(s) {URI_ENTRY64(0, s), URI_ENTRY64(64, s), URI_ENTRY64(128, s), URI_ENTRY64(192, s)}
static const uint32_t s_encoding[2][256] = {URI_TABLE(0), URI_TABLE(1)};

enum ref_status ref_uri_encode(struct ref_slice in, bool keep_slash, struct ref_buf *out)
{
    assert(ref_slice_is_valid(in) && ref_buf_is_valid(out));
    const uint32_t *enc = s_encoding[keep_slash ? 1 : 0];
    size_t need = 0;
    for (size_t i = 0; i < in.len; i++) {
        need += enc[in.ptr[i]] >> 24;
    }
    /* One reservation for the whole result: all or nothing is appended. Written through a
     * local pointer: a store through out->data may alias out->len, so writing
     * out->data[out->len++] reloaded and stored the length for every byte. */
    REF_TRY(ref_buf_reserve(out, need));
    if (need == 0) {
        return REF_OK; /* nothing to write, and an empty buffer may have no data yet */
    }
    uint8_t *dst = out->data + out->len;
    /* Every entry's three bytes are stored and the next write starts after the ones that
     * count: no test on the byte. That stays inside the result while two more input
     * bytes follow (each writes at least one); the last two are written exactly. */
    size_t i = 0;
    for (; i + 2 < in.len; i++) {
        uint32_t e = enc[in.ptr[i]];
        dst[0] = (uint8_t)e;
        dst[1] = (uint8_t)(e >> 8);
        dst[2] = (uint8_t)(e >> 16);
        dst += e >> 24;
    }
    for (; i < in.len; i++) {
        uint32_t e = enc[in.ptr[i]];
        for (uint32_t k = 0; k < e >> 24; k++) {
            *dst++ = (uint8_t)(e >> (8 * k));
        }
    }
    out->len += need;
    return REF_OK;
}

/* The offset of the first '%' of in at or after from (at most in.len), or in.len. The
 * first sixteen bytes eight at a time, with the usual has-zero-byte test on each word xor
 * '%' (whose lowest flagged byte is exactly the first '%'), then memchr: encoded paths
 * have a '%' every few bytes, and a memchr call for each (which ASan intercepts and
 * checks) cost more than the search, while a long run is still one call. */
static size_t next_escape(struct ref_slice in, size_t from)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t highs = UINT64_C(0x8080808080808080);
    size_t i = from;
    if (in.len - i >= 16) {
        const uint8_t *p = in.ptr + i;
        /* Little-endian whatever the host, so that the lowest bit is the first byte. */
        uint64_t w0 = 0;
        uint64_t w1 = 0;
        for (int k = 7; k >= 0; k--) {
            w0 = w0 << 8 | p[k];
            w1 = w1 << 8 | p[8 + k];
        }
        uint64_t x0 = w0 ^ (ones * '%');
        uint64_t x1 = w1 ^ (ones * '%');
        uint64_t hit0 = (x0 - ones) & ~x0 & highs;
        uint64_t hit1 = (x1 - ones) & ~x1 & highs;
        if ((hit0 | hit1) != 0) {
            return i + (hit0 != 0 ? (size_t)__builtin_ctzll(hit0) / 8
                                  : 8 + (size_t)__builtin_ctzll(hit1) / 8);
        }
        i += 16;
    }
    if (i < in.len) {
        const uint8_t *hit = memchr(in.ptr + i, '%', in.len - i);
        return hit != NULL ? (size_t)(hit - in.ptr) : in.len;
    }
    return in.len;
}

enum ref_status
ref_uri_decode(struct ref_slice in, struct ref_buf *out, struct ref_parse_error *err)
{
    assert(ref_slice_is_valid(in) && ref_buf_is_valid(out));
    /* Validate first so a bad escape leaves out untouched, and count the decoded bytes so
     * that a buffer with room for exactly the result is enough. Both passes go from one
     * '%' to the next and copy the runs between them whole, rather than looking at every
     * byte: most labels hold no escape at all. A digit pair is checked with one test (the
     * values or'ed: negative when either is no hex digit). */
    size_t escapes = 0;
    for (size_t i = next_escape(in, 0); i < in.len; i = next_escape(in, i + 3)) {
        if (in.len - i < 3 ||
            (ref_http_hex_digits[in.ptr[i + 1]] | ref_http_hex_digits[in.ptr[i + 2]]) < 0) {
            return ref_parse_fail(err, REF_E_MALFORMED, i, "uri.escape",
                                  "'%' needs two hex digits");
        }
        escapes++;
    }
    size_t need = in.len - 2 * escapes;
    REF_TRY(ref_buf_reserve(out, need));
    if (need == 0) {
        return REF_OK; /* in is empty, and an empty buffer may have no data yet */
    }
    /* Within the reservation: plain copies through a local pointer. */
    uint8_t *dst = out->data + out->len;
    size_t from = 0;
    for (size_t i = next_escape(in, 0); i < in.len; i = next_escape(in, from)) {
        memcpy(dst, in.ptr + from, i - from);
        dst += i - from;
        *dst++ = (uint8_t)(ref_http_hex_digits[in.ptr[i + 1]] * 16 +
                           ref_http_hex_digits[in.ptr[i + 2]]);
        from = i + 3;
    }
    memcpy(dst, in.ptr + from, in.len - from);
    out->len += need;
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
