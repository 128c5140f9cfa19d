/* SPDX-License-Identifier: Apache-2.0
 *
 * mem.c - the allocator seam and secure wiping.
 */
#include "ref/mem.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

static struct ref_mem_hooks s_hooks = {malloc, realloc, free};

void ref_mem_set_hooks(const struct ref_mem_hooks *hooks)
{
    if (hooks == NULL) {
        s_hooks = (struct ref_mem_hooks){malloc, realloc, free};
    } else {
        s_hooks = *hooks;
    }
}

void *ref_mem_alloc(size_t n)
{
    return s_hooks.alloc(n == 0 ? 1 : n);
}

void *ref_mem_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        return NULL;
    }
    void *p = ref_mem_alloc(count * size);
    if (p != NULL) {
        memset(p, 0, count * size);
    }
    return p;
}

void *ref_mem_realloc(void *p, size_t n)
{
    return s_hooks.realloc(p, n == 0 ? 1 : n);
}

void ref_mem_free(void *p)
{
    if (p != NULL) {
        s_hooks.free(p);
    }
}

void ref_mem_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0) {
        OPENSSL_cleanse(p, n);
    }
}
