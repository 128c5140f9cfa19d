/* SPDX-License-Identifier: Apache-2.0
 *
 * uri_internal.h - what uri.c, sigv4_canon.c and service.c must agree on, not public.
 *
 * The canonicaliser re-encodes query parts in its own single pass (sigv4_canon.c says
 * why), so it cannot simply call ref_uri_encode; but the set of bytes it leaves alone must
 * be exactly the one ref_uri_encode leaves alone, or the same path and query would be
 * signed two ways. Likewise the canonicaliser and the router skip normalisation for a path
 * that is already normal, and both must mean by that what ref_uri_normalize_path does, or
 * the path that is signed and the path that is routed could differ (contract section 5).
 * One definition here keeps them equal. Everything is static inline because the callers
 * run it on every byte of every request.
 */
#ifndef REF_URI_INTERNAL_H
#define REF_URI_INTERNAL_H

#include "ref/http_fields.h"
#include "ref/slice.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 3986 unreserved characters: the only bytes SigV4 leaves unencoded. A table of the
 * 256 byte values, filled at compile time by the macro below, rather than that chain of up
 * to ten comparisons on every byte of a path: under a fuzzer's comparison hooks each
 * comparison is a call, and they were most of fuzz_path's time. */
#define REF_URI_UNRESERVED(c)                                                                      \
    (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') ||     \
     (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~')
#define REF_URI_UNRESERVED4(c)                                                                     \
    REF_URI_UNRESERVED(c), REF_URI_UNRESERVED((c) + 1), REF_URI_UNRESERVED((c) + 2),               \
        REF_URI_UNRESERVED((c) + 3)
#define REF_URI_UNRESERVED16(c)                                                                    \
    REF_URI_UNRESERVED4(c), REF_URI_UNRESERVED4((c) + 4), REF_URI_UNRESERVED4((c) + 8),            \
        REF_URI_UNRESERVED4((c) + 12)
#define REF_URI_UNRESERVED64(c)                                                                    \
    REF_URI_UNRESERVED16(c), REF_URI_UNRESERVED16((c) + 16), REF_URI_UNRESERVED16((c) + 32),       \
        REF_URI_UNRESERVED16((c) + 48)
static const bool ref_uri_unreserved[256] = {REF_URI_UNRESERVED64(0), REF_URI_UNRESERVED64(64),
                                             REF_URI_UNRESERVED64(128), REF_URI_UNRESERVED64(192)};

static inline bool ref_uri_is_unreserved(uint8_t c)
{
    return ref_uri_unreserved[c];
}

/* A %XX escape's hex digits are read with ref_http_hex_value (ref/http_fields.h), the one
 * hex-digit table of the reference, which chunk sizes use too. */

/* The scan behind the two checks below; only_unreserved is always a constant there, so
 * each inlined copy keeps only its own branch. */
static inline bool ref_uri_path_scan(struct ref_slice path, bool only_unreserved)
{
    if (path.len == 0 || path.ptr[0] != '/') {
        return false;
    }
    size_t seg_start = 1;
    for (size_t i = 1; i <= path.len; i++) {
        if (i < path.len && path.ptr[i] != '/') {
            if (only_unreserved && !ref_uri_is_unreserved(path.ptr[i])) {
                return false;
            }
            continue;
        }
        size_t seg_len = i - seg_start;
        /* An empty segment is a repeated '/', unless it is the last one: after a final
         * '/' (kept) or the root path "/" itself. */
        if (seg_len == 0 && i != path.len) {
            return false;
        }
        if ((seg_len == 1 && path.ptr[seg_start] == '.') ||
            (seg_len == 2 && path.ptr[seg_start] == '.' && path.ptr[seg_start + 1] == '.')) {
            return false;
        }
        seg_start = i + 1;
    }
    return true;
}

/* True when ref_uri_normalize_path would give the path back unchanged: it starts with '/',
 * no '/' follows another and no segment is "." or "..". Every SDK sends paths like that,
 * so the router can borrow the path instead of copying it. */
static inline bool ref_uri_path_is_normal(struct ref_slice path)
{
    return ref_uri_path_scan(path, false);
}

/* True when normalising and then ref_uri_encode (keeping '/') would both give the path
 * back unchanged: it is normal and every other byte is unreserved. Then the canonical
 * path is the path as sent. */
static inline bool ref_uri_path_is_canonical(struct ref_slice path)
{
    return ref_uri_path_scan(path, true);
}

#endif
