/* SPDX-License-Identifier: Apache-2.0
 *
 * slice.c - borrowed byte views: comparison, splitting, trimming, numbers.
 */
#include "ref/slice.h"

#include "ascii_internal.h"

#include <assert.h>
#include <string.h>

struct ref_slice ref_slice_from_cstr(const char *s)
{
    return (struct ref_slice){(const uint8_t *)s, s ? strlen(s) : 0};
}

struct ref_slice ref_slice_make(const void *ptr, size_t len)
{
    return (struct ref_slice){(const uint8_t *)ptr, len};
}

bool ref_slice_is_valid(struct ref_slice s)
{
    return s.ptr != NULL || s.len == 0;
}

bool ref_slice_eq(struct ref_slice a, struct ref_slice b)
{
    assert(ref_slice_is_valid(a) && ref_slice_is_valid(b));
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Eight bytes at a time (the tail zero-padded in both): header names are compared on every
 * request, and a loop over the bytes cost several compares per byte under the fuzz
 * targets' coverage instrumentation. test_hot_paths checks it against byte-by-byte
 * lower-casing for every pair of byte values at every position. */
bool ref_slice_eq_nocase(struct ref_slice a, struct ref_slice b)
{
    assert(ref_slice_is_valid(a) && ref_slice_is_valid(b));
    if (a.len != b.len) {
        return false;
    }
    size_t i = 0;
    for (; i + 8 <= a.len; i += 8) {
        uint64_t x;
        uint64_t y;
        memcpy(&x, a.ptr + i, 8);
        memcpy(&y, b.ptr + i, 8);
        if (ref_ascii_lower8(x) != ref_ascii_lower8(y)) {
            return false;
        }
    }
    if (i == a.len) {
        return true;
    }
    uint64_t x = 0;
    uint64_t y = 0;
    memcpy(&x, a.ptr + i, a.len - i);
    memcpy(&y, b.ptr + i, a.len - i);
    return ref_ascii_lower8(x) == ref_ascii_lower8(y);
}

bool ref_slice_eq_cstr(struct ref_slice a, const char *s)
{
    return ref_slice_eq(a, ref_slice_from_cstr(s));
}

bool ref_slice_starts_with(struct ref_slice s, struct ref_slice prefix)
{
    return s.len >= prefix.len && (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

enum ref_status ref_slice_take(struct ref_slice *s, size_t n, struct ref_slice *out)
{
    assert(ref_slice_is_valid(*s));
    if (n > s->len) {
        return REF_E_INCOMPLETE;
    }
    *out = (struct ref_slice){s->ptr, n};
    s->ptr += n;
    s->len -= n;
    return REF_OK;
}

size_t ref_slice_find(struct ref_slice s, uint8_t ch)
{
    if (s.len == 0) {
        return 0;
    }
    const uint8_t *hit = memchr(s.ptr, ch, s.len);
    return hit ? (size_t)(hit - s.ptr) : s.len;
}

bool ref_slice_split(struct ref_slice *s, uint8_t ch, struct ref_slice *tok)
{
    size_t at = ref_slice_find(*s, ch);
    *tok = (struct ref_slice){s->ptr, at};
    if (at == s->len) {
        s->ptr += s->len;
        s->len = 0;
        return false;
    }
    s->ptr += at + 1;
    s->len -= at + 1;
    return true;
}

struct ref_slice ref_slice_trim_ows(struct ref_slice s)
{
    while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t')) {
        s.len--;
    }
    return s;
}

struct ref_slice ref_slice_sub(struct ref_slice s, size_t from, size_t len)
{
    if (from > s.len) {
        from = s.len;
    }
    if (len > s.len - from) {
        len = s.len - from;
    }
    return (struct ref_slice){s.ptr + from, len};
}

enum ref_status ref_slice_to_u64(struct ref_slice s, uint64_t max, uint64_t *v)
{
    if (s.len == 0) {
        return REF_E_MALFORMED;
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c < '0' || c > '9') {
            return REF_E_MALFORMED;
        }
        uint64_t digit = (uint64_t)(c - '0');
        if (acc > (max - digit) / 10) {
            return REF_E_TOO_LARGE;
        }
        acc = acc * 10 + digit;
    }
    *v = acc;
    return REF_OK;
}
