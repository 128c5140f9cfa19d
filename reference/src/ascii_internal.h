/* SPDX-License-Identifier: Apache-2.0
 *
 * ascii_internal.h - ASCII lower-casing eight bytes at a time, shared by the .c files that
 * compare or canonicalise header names (slice.c, sigv4_canon.c, sigv4_sign.c).
 *
 * Names are lower-cased or compared on every request: a loop with a test per byte cost
 * several compares per byte under the fuzz targets' coverage instrumentation, where a
 * word costs a few arithmetic steps. test_hot_paths checks both against byte-by-byte
 * lower-casing.
 */
#ifndef REF_ASCII_INTERNAL_H
#define REF_ASCII_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Eight bytes lower-cased at once: 0x20 is added to each byte from 'A' to 'Z', every other
 * byte (0x80 and up included) is left as it is. Of a byte's low seven bits, adding 0x3f
 * reaches bit 7 from 'A' (0x41) up and adding 0x25 from '[' (0x5b) up, and neither sum can
 * carry into the next byte; bit 7 of an upper-case letter, shifted down by two, is 0x20. */
static inline uint64_t ref_ascii_lower8(uint64_t w)
{
    const uint64_t low7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
    const uint64_t high = UINT64_C(0x8080808080808080);
    uint64_t b = w & low7;
    uint64_t upper =
        (b + UINT64_C(0x3f3f3f3f3f3f3f3f)) & ~(b + UINT64_C(0x2525252525252525)) & ~w & high;
    return w | (upper >> 2);
}

/* dst[0..n) = src[0..n) lower-cased. dst and src may be the same, not otherwise overlap. */
static inline void ref_ascii_lower_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w = ref_ascii_lower8(w);
        memcpy(dst + i, &w, 8);
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, src + i, n - i);
        w = ref_ascii_lower8(w);
        memcpy(dst + i, &w, n - i);
    }
}

#endif
