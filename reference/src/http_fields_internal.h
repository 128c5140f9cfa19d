/* SPDX-License-Identifier: Apache-2.0
 *
 * http_fields_internal.h - the eight-bytes-at-a-time scans over request lines and field
 * lines, for the reference's own parsers (http_parse.c, http_fields.c) only.
 *
 * Most of a request's bytes are field names and values, so these scans are where parsing
 * spends its time: each looks at a word of eight bytes per step instead of testing every
 * byte, and under the fuzz targets' comparison hooks, where each test is a call, that is
 * most of the difference. They are static inline so that the parser's loops keep them
 * inlined, as they were before they had a header of their own. Each returns the offset of
 * the first byte of [i, end) outside its class, or end; the caller reports that byte.
 */
#ifndef REF_HTTP_FIELDS_INTERNAL_H
#define REF_HTTP_FIELDS_INTERNAL_H

#include "ref/http_fields.h"

#include <stddef.h>
#include <stdint.h>

/* The eight bytes at p as a word whose lowest byte is p[0], whatever the host's byte
 * order, so that the lowest flagged byte of a mask below is the first one in the input. */
static inline uint64_t ref_http_load_le64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* The offset in w (loaded by ref_http_load_le64) of the lowest byte flagged in mask (0x80
 * bits). */
static inline size_t ref_http_first_flagged(uint64_t mask)
{
    return (size_t)__builtin_ctzll(mask) / 8;
}

#define REF_HTTP_ONES  UINT64_C(0x0101010101010101)
#define REF_HTTP_HIGHS UINT64_C(0x8080808080808080)

/* The bytes of w that are control bytes (below 0x20, or DEL), flagged with their 0x80 bit:
 * the bytes a field value may not hold, and HTAB, which it may. The usual "has a byte less
 * than n" and "has a zero byte" word tests: a flag above a true one may be false, but the
 * lowest flag is always a true one, which is all the callers use. */
static inline uint64_t ref_http_control_bytes(uint64_t w)
{
    uint64_t del = w ^ (REF_HTTP_ONES * 0x7f);
    return (((w - REF_HTTP_ONES * 0x20) & ~w) | ((del - REF_HTTP_ONES) & ~del)) & REF_HTTP_HIGHS;
}

/* The bytes of w outside visible ASCII (0x21 to 0x7e), flagged as above. */
static inline uint64_t ref_http_non_vchar_bytes(uint64_t w)
{
    return ref_http_control_bytes(w) | ((w - REF_HTTP_ONES * 0x21) & ~w & REF_HTTP_HIGHS) |
           (w & REF_HTTP_HIGHS);
}

/* Token characters (field names, methods): eight table entries gathered into one word,
 * whose first zero entry is the first byte that is not a tchar. One test per eight bytes
 * rather than two per byte. */
static inline size_t ref_http_scan_token(const uint8_t *b, size_t i, size_t end)
{
    const uint8_t *t = ref_http_tchar_table;
    while (i < end && end - i >= 8) {
        const uint8_t *q = b + i;
        uint64_t is_t = (uint64_t)t[q[0]] | (uint64_t)t[q[1]] << 8 | (uint64_t)t[q[2]] << 16 |
                        (uint64_t)t[q[3]] << 24 | (uint64_t)t[q[4]] << 32 |
                        (uint64_t)t[q[5]] << 40 | (uint64_t)t[q[6]] << 48 | (uint64_t)t[q[7]] << 56;
        uint64_t stop = (~is_t & REF_HTTP_ONES) << 7;
        if (stop != 0) {
            return i + ref_http_first_flagged(stop);
        }
        i += 8;
    }
    while (i < end && ref_http_is_tchar(b[i])) {
        i++;
    }
    return i;
}

/* Field-value bytes: eight at a time up to the first control byte, stepping over an HTAB
 * (the one control byte a value may hold), then byte by byte for the last few. A field
 * line's CR is not a field byte, so the scan stops at the end of the line at the latest. */
static inline size_t ref_http_scan_field_value(const uint8_t *b, size_t i, size_t end)
{
    while (end > i && end - i >= 8) {
        uint64_t stop = ref_http_control_bytes(ref_http_load_le64(b + i));
        if (stop == 0) {
            i += 8;
            continue;
        }
        i += ref_http_first_flagged(stop);
        if (b[i] != '\t') {
            return i;
        }
        i++;
    }
    while (i < end && ref_http_is_field_byte(b[i])) {
        i++;
    }
    return i;
}

/* Visible ASCII (0x21 to 0x7e): the bytes of a request-target. */
static inline size_t ref_http_scan_vchar(const uint8_t *b, size_t i, size_t end)
{
    while (end - i >= 8) {
        uint64_t stop = ref_http_non_vchar_bytes(ref_http_load_le64(b + i));
        if (stop != 0) {
            return i + ref_http_first_flagged(stop);
        }
        i += 8;
    }
    while (i < end && (uint8_t)(b[i] - 0x21) <= 0x7e - 0x21) {
        i++;
    }
    return i;
}

#endif
