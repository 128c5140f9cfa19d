/* SPDX-License-Identifier: Apache-2.0
 *
 * buf.h - owned, capped byte buffers that every builder writes into.
 *
 * A buffer grows on demand up to `max` and never past it: appending beyond the cap
 * returns REF_E_TOO_LARGE and leaves the buffer as it was. A buffer whose cap equals
 * its max from the start wraps caller storage and is never reallocated or freed.
 */
#ifndef REF_BUF_H
#define REF_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ref/slice.h"
#include "ref/status.h"

struct ref_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
    bool is_fixed; /* wraps caller storage: never grown, never freed */
};

/* An empty heap buffer that may grow to max bytes. Allocates nothing yet. */
void ref_buf_init(struct ref_buf *b, size_t max);
/* A fixed buffer over caller storage of `cap` bytes. */
void ref_buf_init_fixed(struct ref_buf *b, uint8_t *storage, size_t cap);
/* Frees a heap buffer; a fixed one is only emptied. */
void ref_buf_cleanup(struct ref_buf *b);
/* Like cleanup, but wipes the bytes first (secrets, signing material). */
void ref_buf_cleanup_secure(struct ref_buf *b);

bool ref_buf_is_valid(const struct ref_buf *b);
void ref_buf_reset(struct ref_buf *b);

REF_MUST_CHECK enum ref_status ref_buf_reserve(struct ref_buf *b, size_t extra);
REF_MUST_CHECK enum ref_status ref_buf_append(struct ref_buf *b, const void *p, size_t n);
REF_MUST_CHECK enum ref_status ref_buf_append_slice(struct ref_buf *b, struct ref_slice s);
REF_MUST_CHECK enum ref_status ref_buf_append_cstr(struct ref_buf *b, const char *s);
REF_MUST_CHECK enum ref_status ref_buf_append_byte(struct ref_buf *b, uint8_t c);
/* printf into the buffer (never truncates: all or REF_E_TOO_LARGE). */
REF_MUST_CHECK enum ref_status ref_buf_appendf(struct ref_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Lower-case hex of n bytes. */
REF_MUST_CHECK enum ref_status ref_buf_append_hex(struct ref_buf *b, const uint8_t *p, size_t n);

/* A borrowed view of the contents (valid until the next append). */
struct ref_slice ref_buf_slice(const struct ref_buf *b);
/* Makes sure data[len] == 0 without counting it, for handing contents to C-string APIs. */
REF_MUST_CHECK enum ref_status ref_buf_nul_terminate(struct ref_buf *b);

#endif
