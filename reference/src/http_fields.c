/* SPDX-License-Identifier: Apache-2.0
 *
 * http_fields.c - the one definition of the HTTP/1.1 character classes (http_fields.h).
 *
 * The token-character and hex-digit tables are spelled out at compile time from the
 * grammar's own terms, so there is nothing to initialise and nothing to get out of step.
 * Tables rather than chains of comparisons because every byte of a request line and every
 * byte of a field name goes through one, and a fuzzer's comparison hooks make each
 * comparison a call. The scans behind the functions below are those of
 * http_fields_internal.h, which the request parser inlines. The line-end finder is here too:
 * the response parser and the chunked decoder's line style find their lines with it.
 */
#include "ref/http_fields.h"

#include "http_fields_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 9110 section 5.6.2 tchar (DIGIT, ALPHA and !#$%&'*+-.^_`|~) as a table of all 256
 * byte values. The table is spelled out by the macros below from two 64-bit masks of the
 * ASCII codes. */
#define TCHAR_BIT(c)        (UINT64_C(1) << ((c)&63))
#define TCHAR_RANGE(lo, hi) (((UINT64_C(1) << ((hi) - (lo) + 1)) - 1) << ((lo)&63))
#define TCHAR_MASK_LOW                                                                             \
    (TCHAR_BIT('!') | TCHAR_BIT('#') | TCHAR_BIT('$') | TCHAR_BIT('%') | TCHAR_BIT('&') |          \
     TCHAR_BIT('\'') | TCHAR_BIT('*') | TCHAR_BIT('+') | TCHAR_BIT('-') | TCHAR_BIT('.') |         \
     TCHAR_RANGE('0', '9'))
#define TCHAR_MASK_HIGH                                                                            \
    (TCHAR_RANGE('A', 'Z') | TCHAR_BIT('^') | TCHAR_BIT('_') | TCHAR_BIT('`') |                    \
     TCHAR_RANGE('a', 'z') | TCHAR_BIT('|') | TCHAR_BIT('~'))
#define TCHAR_ENTRY(c)                                                                             \
    (uint8_t)((c) < 64    ? (TCHAR_MASK_LOW >> ((c)&63)) & 1                                       \
              : (c) < 128 ? (TCHAR_MASK_HIGH >> (((c)-64) & 63)) & 1                               \
                          : 0)
#define TCHAR_ROW4(c)                                                                              \
    TCHAR_ENTRY(c), TCHAR_ENTRY((c) + 1), TCHAR_ENTRY((c) + 2), TCHAR_ENTRY((c) + 3)
#define TCHAR_ROW16(c) TCHAR_ROW4(c), TCHAR_ROW4((c) + 4), TCHAR_ROW4((c) + 8), TCHAR_ROW4((c) + 12)
#define TCHAR_ROW64(c)                                                                             \
    TCHAR_ROW16(c), TCHAR_ROW16((c) + 16), TCHAR_ROW16((c) + 32), TCHAR_ROW16((c) + 48)
const uint8_t ref_http_tchar_table[256] = {TCHAR_ROW64(0), TCHAR_ROW64(64), TCHAR_ROW64(128),
                                           TCHAR_ROW64(192)};

/* HEXDIG of RFC 5234 (either case): a chunk size, a %XX escape. */
#define HEX(c)                                                                                     \
    (int8_t)(((c) >= '0' && (c) <= '9')   ? (c) - '0'                                              \
             : ((c) >= 'A' && (c) <= 'F') ? (c) - 'A' + 10                                         \
             : ((c) >= 'a' && (c) <= 'f') ? (c) - 'a' + 10                                         \
                                          : -1)
#define HEX4(c)  HEX(c), HEX((c) + 1), HEX((c) + 2), HEX((c) + 3)
#define HEX16(c) HEX4(c), HEX4((c) + 4), HEX4((c) + 8), HEX4((c) + 12)
#define HEX64(c) HEX16(c), HEX16((c) + 16), HEX16((c) + 32), HEX16((c) + 48)
const int8_t ref_http_hex_digits[256] = {HEX64(0), HEX64(64), HEX64(128), HEX64(192)};

size_t ref_http_token_end(struct ref_slice s, size_t from)
{
    if (from >= s.len) {
        return s.len;
    }
    return ref_http_scan_token(s.ptr, from, s.len);
}

size_t ref_http_field_value_end(struct ref_slice s, size_t from)
{
    if (from >= s.len) {
        return s.len;
    }
    return ref_http_scan_field_value(s.ptr, from, s.len);
}

size_t ref_http_vchar_end(struct ref_slice s, size_t from)
{
    if (from >= s.len) {
        return s.len;
    }
    return ref_http_scan_vchar(s.ptr, from, s.len);
}

bool ref_http_is_token(struct ref_slice s)
{
    return s.len > 0 && ref_http_token_end(s, 0) == s.len;
}

bool ref_http_is_field_value(struct ref_slice s)
{
    return ref_http_field_value_end(s, 0) == s.len;
}

void ref_http_field_line_scan(struct ref_slice s, size_t from, struct ref_http_field_line *out)
{
    if (from >= s.len) {
        out->name_end = s.len;
        out->value_end = s.len;
        return;
    }
    ref_http_scan_field_line(s.ptr, from, s.len, out);
}

enum ref_http_line_end
ref_http_find_line_end(struct ref_slice s, size_t from, size_t limit, size_t *at)
{
    size_t end = s.len < limit ? s.len : limit;
    for (size_t i = from; i < end; i++) {
        uint8_t c = s.ptr[i];
        if (c != '\r' && c != '\n') {
            continue;
        }
        if (c == '\n') {
            *at = i;
            return REF_HTTP_LINE_BARE_LF;
        }
        if (i + 1 >= end && end < s.len) {
            /* The LF would be the first byte past the limit. */
            *at = end;
            return REF_HTTP_LINE_TOO_LONG;
        }
        if (i + 1 >= s.len) {
            *at = s.len;
            return REF_HTTP_LINE_CUT_AFTER_CR;
        }
        *at = i;
        return s.ptr[i + 1] == '\n' ? REF_HTTP_LINE_CRLF : REF_HTTP_LINE_BARE_CR;
    }
    if (end < s.len) {
        *at = end;
        return REF_HTTP_LINE_TOO_LONG;
    }
    *at = s.len;
    return REF_HTTP_LINE_CUT;
}
