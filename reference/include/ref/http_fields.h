/* SPDX-License-Identifier: Apache-2.0
 *
 * http_fields.h - the HTTP/1.1 character classes every HTTP reader in etch judges bytes by.
 *
 * A token character (RFC 9110 section 5.6.2: method and field names), a field-value byte
 * (section 5.5: VCHAR, obs-text, SP and HTAB) and a hex digit (chunk sizes, %XX escapes)
 * are defined once, in http_fields.c, and the strict request parser, the harness's response
 * parser and etch serve's checks of what its server library hands it all use them, so that
 * no two readers can disagree about a byte. The reference's own parsers use the inline
 * eight-bytes-at-a-time scans of http_fields_internal.h; everyone else uses the functions
 * below, which run the same scans.
 */
#ifndef REF_HTTP_FIELDS_H
#define REF_HTTP_FIELDS_H

#include "ref/slice.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 1 for each token character, 0 for every other byte value. */
extern const uint8_t ref_http_tchar_table[256];
/* The value of each byte as a hex digit (either case), or -1. */
extern const int8_t ref_http_hex_digits[256];

static inline bool ref_http_is_tchar(uint8_t c)
{
    return ref_http_tchar_table[c] != 0;
}

/* The optional whitespace around a field value: SP and HTAB. */
static inline bool ref_http_is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* field-vchar (VCHAR and obs-text), SP and HTAB: everything a field value may hold. */
static inline bool ref_http_is_field_byte(uint8_t c)
{
    return ref_http_is_ows(c) || (c >= 0x21 && c != 0x7f);
}

/* The value of one hex digit (either case), or -1. */
static inline int ref_http_hex_value(uint8_t c)
{
    return ref_http_hex_digits[c];
}

/* The offset of the first byte of s at or after `from` that is not a token character;
 * s.len when there is none. */
size_t ref_http_token_end(struct ref_slice s, size_t from);

/* The offset of the first byte of s at or after `from` that a field value may not hold (a
 * control byte other than HTAB, or DEL; CR and LF among them); s.len when there is none. */
size_t ref_http_field_value_end(struct ref_slice s, size_t from);

/* A token: at least one byte, every one a token character. */
bool ref_http_is_token(struct ref_slice s);

/* Every byte of s may stand in a field value (an empty s may). */
bool ref_http_is_field_value(struct ref_slice s);

#endif
