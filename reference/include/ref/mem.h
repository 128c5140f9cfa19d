/* SPDX-License-Identifier: Apache-2.0
 *
 * mem.h - the one allocator seam of the reference.
 *
 * All heap memory of the reference goes through these calls. Tests may install hooks
 * (cmocka's test_malloc, or a fail-after-N counter for allocation-failure loops).
 */
#ifndef REF_MEM_H
#define REF_MEM_H

#include <stddef.h>

struct ref_mem_hooks {
    void *(*alloc)(size_t n);
    void *(*realloc)(void *p, size_t n);
    void (*free)(void *p);
};

void *ref_mem_alloc(size_t n);
void *ref_mem_calloc(size_t count, size_t size);
void *ref_mem_realloc(void *p, size_t n);
void ref_mem_free(void *p);
/* Installs hooks process-wide (NULL restores malloc). Not thread-safe: call it before
 * any other thread uses the reference. */
void ref_mem_set_hooks(const struct ref_mem_hooks *hooks);

/* Wipes n bytes in a way the compiler cannot elide (OPENSSL_cleanse). */
void ref_mem_wipe(void *p, size_t n);

#endif
