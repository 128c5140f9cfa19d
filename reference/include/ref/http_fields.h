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
 *
 * The same goes for the shape of a line: where a field line's name and value end
 * (ref_http_field_line_scan) and where a line ends (ref_http_find_line_end) are found by
 * one piece of code for every reader; what a reader makes of a wrong byte (its status,
 * offset and words) stays its own.
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

/* The offset of the first byte of s at or after `from` outside visible ASCII (0x21 to 0x7e,
 * the bytes a request-target may hold); s.len when there is none. */
size_t ref_http_vchar_end(struct ref_slice s, size_t from);

/* A token: at least one byte, every one a token character. */
bool ref_http_is_token(struct ref_slice s);

/* Every byte of s may stand in a field value (an empty s may). */
bool ref_http_is_field_value(struct ref_slice s);

/* Where the parts of a field line (field-name ":" OWS field-value OWS, RFC 9110 section
 * 5.5) end, as offsets into the slice scanned. */
struct ref_http_field_line {
    /* The first byte at or after the line's start that is not a token character: the ':'
     * of a well-formed line. */
    size_t name_end;
    /* When name_end holds a ':', the first byte after it that a field value may not hold:
     * the CR that ends a well-formed line. name_end otherwise. */
    size_t value_end;
};

/* Scans the field line starting at `from` in s (s.len bounds both runs; a run that reaches
 * it stops there). Judges nothing: the caller reports the byte a run stopped at. */
void ref_http_field_line_scan(struct ref_slice s, size_t from, struct ref_http_field_line *out);

/* How the line starting at a given offset ends (ref_http_find_line_end). Lines end in CRLF
 * only: a bare LF or a CR followed by anything else is an end no line may have. */
enum ref_http_line_end {
    REF_HTTP_LINE_NONE = 0,
    REF_HTTP_LINE_CRLF,         /* *at: the CR of the CRLF that ends the line */
    REF_HTTP_LINE_BARE_LF,      /* *at: a LF with no CR before it */
    REF_HTTP_LINE_BARE_CR,      /* *at: a CR followed by a byte other than LF */
    REF_HTTP_LINE_CUT_AFTER_CR, /* the input ends right after a CR: *at is s.len */
    REF_HTTP_LINE_CUT,          /* the input ends before a CR or LF does: *at is s.len */
    REF_HTTP_LINE_TOO_LONG,     /* no CRLF before `limit`: *at is limit */
};

/* Finds the first CR or LF of s at or after `from`, looking at bytes before `limit` only,
 * and says what it is. A line may end no later than limit: a CR at limit - 1 whose LF would
 * be at limit is TOO_LONG when s goes on past limit, and CUT_AFTER_CR when s ends there
 * (the input could still be cut short of a longer line). Every other byte is stepped
 * over: judging the line's bytes is the caller's. */
enum ref_http_line_end
ref_http_find_line_end(struct ref_slice s, size_t from, size_t limit, size_t *at);

#endif
