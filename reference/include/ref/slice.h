/* SPDX-License-Identifier: Apache-2.0
 *
 * slice.h - borrowed byte views, the currency of every etch parser.
 *
 * A slice never owns its bytes and is never NUL-terminated by contract. Parsers hand
 * out slices into the caller's input, so nothing is copied or allocated while parsing.
 */
#ifndef REF_SLICE_H
#define REF_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ref/status.h"

struct ref_slice {
    const uint8_t *ptr;
    size_t len;
};

#define REF_SLICE_LIT(s) ((struct ref_slice){(const uint8_t *)(s), sizeof(s) - 1})
#define REF_SLICE_FMT    "%.*s"
#define REF_SLICE_ARG(s) (int)(s).len, (const char *)(s).ptr

/* A slice over a NUL-terminated string; only for strings that did not come off the wire. */
struct ref_slice ref_slice_from_cstr(const char *s);
struct ref_slice ref_slice_make(const void *ptr, size_t len);

bool ref_slice_is_valid(struct ref_slice s);
bool ref_slice_eq(struct ref_slice a, struct ref_slice b);
/* ASCII case-insensitive equality (header names). */
bool ref_slice_eq_nocase(struct ref_slice a, struct ref_slice b);
bool ref_slice_eq_cstr(struct ref_slice a, const char *s);
bool ref_slice_starts_with(struct ref_slice s, struct ref_slice prefix);

/* Moves the first n bytes of *s into *out. REF_E_INCOMPLETE (and *s untouched) when
 * fewer than n bytes remain. */
REF_MUST_CHECK enum ref_status ref_slice_take(struct ref_slice *s, size_t n, struct ref_slice *out);

/* Splits at the first `ch`: *tok gets the bytes before it, *s what follows it. Without
 * `ch`, *tok gets all of *s, *s becomes empty and the result is false. */
bool ref_slice_split(struct ref_slice *s, uint8_t ch, struct ref_slice *tok);

/* Index of the first `ch` in s, or s.len. */
size_t ref_slice_find(struct ref_slice s, uint8_t ch);

/* Strips optional whitespace (SP and HTAB) from both ends. */
struct ref_slice ref_slice_trim_ows(struct ref_slice s);

/* The bytes from `from` to the end (from is clamped to len). */
struct ref_slice ref_slice_sub(struct ref_slice s, size_t from, size_t len);

/* Parses a non-empty run of decimal digits into *v, failing with REF_E_MALFORMED on any
 * other byte and REF_E_TOO_LARGE above max. */
REF_MUST_CHECK enum ref_status ref_slice_to_u64(struct ref_slice s, uint64_t max, uint64_t *v);

#endif
