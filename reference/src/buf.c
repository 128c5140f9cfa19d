/* SPDX-License-Identifier: Apache-2.0
 *
 * buf.c - capped growable buffers. The only place besides slice.c that copies bytes.
 */
#include "ref/buf.h"

#include "ref/mem.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ref_buf_init(struct ref_buf *b, size_t max)
{
    *b = (struct ref_buf){.data = NULL, .len = 0, .cap = 0, .max = max, .is_fixed = false};
}

void ref_buf_init_fixed(struct ref_buf *b, uint8_t *storage, size_t cap)
{
    *b = (struct ref_buf){.data = storage, .len = 0, .cap = cap, .max = cap, .is_fixed = true};
}

void ref_buf_cleanup(struct ref_buf *b)
{
    if (!b->is_fixed) {
        ref_mem_free(b->data);
        b->data = NULL;
        b->cap = 0;
    }
    b->len = 0;
}

void ref_buf_cleanup_secure(struct ref_buf *b)
{
    if (b->data != NULL && b->cap > 0) {
        ref_mem_wipe(b->data, b->cap);
    }
    ref_buf_cleanup(b);
}

bool ref_buf_is_valid(const struct ref_buf *b)
{
    return b != NULL && b->len <= b->cap && b->cap <= b->max && (b->data != NULL || b->cap == 0);
}

void ref_buf_reset(struct ref_buf *b)
{
    b->len = 0;
}

enum ref_status ref_buf_reserve(struct ref_buf *b, size_t extra)
{
    assert(ref_buf_is_valid(b));
    if (extra > b->max - b->len) {
        return REF_E_TOO_LARGE;
    }
    size_t need = b->len + extra;
    if (need <= b->cap) {
        return REF_OK;
    }
    if (b->is_fixed) {
        return REF_E_TOO_LARGE;
    }
    size_t new_cap = b->cap < 64 ? 64 : b->cap;
    while (new_cap < need) {
        new_cap = new_cap > b->max / 2 ? b->max : new_cap * 2;
    }
    if (new_cap > b->max) {
        new_cap = b->max;
    }
    uint8_t *p = ref_mem_realloc(b->data, new_cap);
    if (p == NULL) {
        return REF_E_NOMEM;
    }
    b->data = p;
    b->cap = new_cap;
    return REF_OK;
}

enum ref_status ref_buf_append(struct ref_buf *b, const void *p, size_t n)
{
    if (n == 0) {
        return REF_OK;
    }
    /* Room already there is the usual case: the bound alone is checked before the copy.
     * Otherwise ref_buf_reserve checks the whole buffer and grows it. Appends are on every
     * path that builds text, and the full check was a good part of their cost under the fuzz
     * targets' instrumentation. */
    if (b->len <= b->cap && n <= b->cap - b->len) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return REF_OK;
    }
    REF_TRY(ref_buf_reserve(b, n));
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return REF_OK;
}

enum ref_status ref_buf_append_slice(struct ref_buf *b, struct ref_slice s)
{
    return ref_buf_append(b, s.ptr, s.len);
}

enum ref_status ref_buf_append_cstr(struct ref_buf *b, const char *s)
{
    return ref_buf_append(b, s, strlen(s));
}

enum ref_status ref_buf_append_byte(struct ref_buf *b, uint8_t c)
{
    return ref_buf_append(b, &c, 1);
}

enum ref_status ref_buf_appendf(struct ref_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return REF_E_INTERNAL;
    }
    /* One more byte for vsnprintf's NUL, which is not counted in len. */
    REF_TRY(ref_buf_reserve(b, (size_t)n + 1));
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return REF_OK;
}

enum ref_status ref_buf_append_hex(struct ref_buf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (n > (SIZE_MAX / 2)) {
        return REF_E_TOO_LARGE;
    }
    REF_TRY(ref_buf_reserve(b, 2 * n));
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = (uint8_t)digits[p[i] >> 4];
        b->data[b->len++] = (uint8_t)digits[p[i] & 0x0f];
    }
    return REF_OK;
}

struct ref_slice ref_buf_slice(const struct ref_buf *b)
{
    return (struct ref_slice){b->data, b->len};
}

enum ref_status ref_buf_nul_terminate(struct ref_buf *b)
{
    REF_TRY(ref_buf_reserve(b, 1));
    b->data[b->len] = 0;
    return REF_OK;
}
