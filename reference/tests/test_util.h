/* SPDX-License-Identifier: Apache-2.0
 *
 * test_util.h - helpers shared by the reference's cmocka tests: reading fixture files,
 * a pinned clock and a deterministic random source.
 */
#ifndef ETCH_TEST_UTIL_H
#define ETCH_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-28T12:45:00Z, the time tests and fuzz targets pin the clock at. */
#define TEST_FIXED_NOW_MS INT64_C(1795869900000)

struct test_clock {
    int64_t now_ms;
    uint64_t rng_state;
};

static inline int64_t test_clock_now_ms(void *ctx)
{
    return ((struct test_clock *)ctx)->now_ms;
}

/* xorshift64*: deterministic, good enough for Ids in tests. */
static inline void test_clock_random_bytes(void *ctx, uint8_t *out, size_t n)
{
    struct test_clock *c = ctx;
    for (size_t i = 0; i < n; i++) {
        c->rng_state ^= c->rng_state >> 12;
        c->rng_state ^= c->rng_state << 25;
        c->rng_state ^= c->rng_state >> 27;
        out[i] = (uint8_t)((c->rng_state * UINT64_C(2685821657736338717)) >> 56);
    }
}

/* Reads a whole file into a malloc'd buffer (NUL-terminated, not counted in *len).
 * Returns NULL when the file cannot be read. Plain malloc: free with free(). */
static inline char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, used = 0;
    char *data = malloc(cap);
    size_t n;
    while (data != NULL && (n = fread(data + used, 1, cap - used - 1, f)) > 0) {
        used += n;
        if (cap - used - 1 == 0) {
            char *bigger = realloc(data, cap * 2);
            if (bigger == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (data != NULL) {
        data[used] = '\0';
        if (len != NULL) {
            *len = used;
        }
    }
    return data;
}

#endif
