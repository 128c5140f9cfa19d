/* SPDX-License-Identifier: Apache-2.0
 *
 * http_fields_internal.h - the eight-bytes-at-a-time scans over request lines and field
 * lines, and the byte-at-a-time checks of the strict readers, for the reference's own HTTP
 * readers (http_parse.c, http_chunked.c, http_fields.c) only.
 *
 * Most of a request's bytes are field names and values, so these scans are where parsing
 * spends its time: each looks at a word of eight bytes per step instead of testing every
 * byte, and under the fuzz targets' comparison hooks, where each test is a call, that is
 * most of the difference. They are static inline so that the parser's loops keep them
 * inlined, as they were before they had a header of their own. Each returns the offset of
 * the first byte of [i, end) outside its class, or end; the caller reports that byte.
 *
 * The strict readers (the request parser and the strict style of the chunked decoder) judge
 * every byte as they reach it, so that the first offending byte is the one reported; the
 * checks they share for that (a line end, a byte under a line's limit) are at the end.
 */
#ifndef REF_HTTP_FIELDS_INTERNAL_H
#define REF_HTTP_FIELDS_INTERNAL_H

#include "ref/http_fields.h"
#include "ref/status.h"

#include <stdbool.h>
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

/* A field line's name run and, when a ':' ends it, its value run, over [ls, end): the one
 * field-line scan (ref_http_field_line_scan is the same over a slice). The caller judges
 * the byte each run stops at. */
static inline void
ref_http_scan_field_line(const uint8_t *b, size_t ls, size_t end, struct ref_http_field_line *out)
{
    size_t i = ref_http_scan_token(b, ls, end);
    out->name_end = i;
    out->value_end = i;
    if (i < end && b[i] == ':') {
        out->value_end = ref_http_scan_field_value(b, i + 1, end);
    }
}

/* What a strict reader judges bytes against: the whole input, where an error goes, and the
 * reason given when the input stops where more was needed. */
struct ref_http_lexer {
    struct ref_slice raw;
    struct ref_parse_error *err;
    const char *incomplete_reason;
};

/* A bound on the bytes of one line: any byte at or past `pos` other than the CR that ends
 * the line answers `code`. */
struct ref_http_line_limit {
    size_t pos;
    enum ref_status code;
    const char *where;
    const char *reason;
};

/* base + n without wrapping; offsets near SIZE_MAX cannot be real input anyway. */
static inline size_t ref_http_add_sat(size_t base, size_t n)
{
    return base > SIZE_MAX - n ? SIZE_MAX : base + n;
}

static inline enum ref_status ref_http_lex_fail(const struct ref_http_lexer *lx,
                                                enum ref_status code,
                                                size_t offset,
                                                const char *where,
                                                const char *reason)
{
    return ref_parse_fail(lx->err, code, offset, where, reason);
}

/* The input stopped where more was needed: offset is the input length. */
static inline enum ref_status ref_http_lex_incomplete(const struct ref_http_lexer *lx,
                                                      const char *where)
{
    return ref_http_lex_fail(lx, REF_E_INCOMPLETE, lx->raw.len, where, lx->incomplete_reason);
}

/* A byte the grammar does not allow here. A LF gets its own reason: lines end in CRLF
 * only, and a bare LF is how line-ending confusion (and request smuggling through
 * lenient front ends) shows up. */
static inline enum ref_status ref_http_lex_bad_byte(const struct ref_http_lexer *lx,
                                                    size_t at,
                                                    const char *where,
                                                    const char *reason)
{
    if (lx->raw.ptr[at] == '\n') {
        reason = "line ends in a bare LF instead of CRLF";
    }
    return ref_http_lex_fail(lx, REF_E_MALFORMED, at, where, reason);
}

/* Requires CR LF at `at`. */
static inline enum ref_status ref_http_lex_expect_crlf(const struct ref_http_lexer *lx,
                                                       size_t at,
                                                       const char *where,
                                                       const char *reason)
{
    const uint8_t *b = lx->raw.ptr;
    size_t len = lx->raw.len;
    /* Both bytes at once when both are there: the usual case, in two tests, not four. */
    if (at + 2 <= len && (b[at] | (unsigned)b[at + 1] << 8) == ('\r' | (unsigned)'\n' << 8)) {
        return REF_OK;
    }
    if (at >= len) {
        return ref_http_lex_incomplete(lx, where);
    }
    if (b[at] != '\r') {
        return ref_http_lex_bad_byte(lx, at, where, reason);
    }
    if (at + 1 >= len) {
        return ref_http_lex_incomplete(lx, where);
    }
    if (b[at + 1] != '\n') {
        return ref_http_lex_fail(lx, REF_E_MALFORMED, at + 1, where, "CR is not followed by LF");
    }
    return REF_OK;
}

/* Reads the byte at `at` of a bounded line. Running out of input is checked before the
 * limit: a line that stops exactly at its limit may still end with the CR that comes
 * next. */
static inline enum ref_status ref_http_lex_line_byte(const struct ref_http_lexer *lx,
                                                     size_t at,
                                                     const struct ref_http_line_limit *lim,
                                                     const char *where,
                                                     uint8_t *c)
{
    if (at >= lx->raw.len) {
        return ref_http_lex_incomplete(lx, where);
    }
    *c = lx->raw.ptr[at];
    if (at >= lim->pos && *c != '\r') {
        return ref_http_lex_fail(lx, lim->code, at, lim->where, lim->reason);
    }
    return REF_OK;
}

#endif
