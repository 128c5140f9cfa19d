/* SPDX-License-Identifier: Apache-2.0
 *
 * test_alloc_hooks.h - routes the reference's and jansson's heap through cmocka's
 * allocator, and a fail-after-N variant for allocation-failure loops.
 *
 * For tests whose code under test allocates through ref_mem_* and jansson alike (the
 * store, the service): cmocka then reports any leak or overrun at the end of each test.
 * Include it once per test executable; its state is per translation unit.
 */
#ifndef ETCH_TEST_ALLOC_HOOKS_H
#define ETCH_TEST_ALLOC_HOOKS_H

#include "test_util.h"

#include "ref/mem.h"

#include <jansson.h>

static inline void *t_alloc(size_t n)
{
    return test_malloc(n);
}

static inline void *t_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}

static inline void t_free(void *p)
{
    test_free(p);
}

/* Group setup: both allocators go through cmocka. Also called directly to undo
 * failing_hooks_install. */
static inline int setup_hooks(void **state)
{
    (void)state;
    static const struct ref_mem_hooks hooks = {t_alloc, t_realloc, t_free};
    ref_mem_set_hooks(&hooks);
    json_set_alloc_funcs(t_alloc, t_free);
    return 0;
}

/* Group teardown: back to the C library's allocator. */
static inline int teardown_hooks(void **state)
{
    (void)state;
    ref_mem_set_hooks(NULL);
    json_set_alloc_funcs(malloc, free);
    return 0;
}

static int s_fail_after = -1; /* allocations left before one fails; -1: never */

static inline void *failing_alloc(size_t n)
{
    if (s_fail_after == 0) {
        return NULL;
    }
    if (s_fail_after > 0) {
        s_fail_after--;
    }
    return test_malloc(n);
}

static inline void *failing_realloc(void *p, size_t n)
{
    if (s_fail_after == 0) {
        return NULL;
    }
    if (s_fail_after > 0) {
        s_fail_after--;
    }
    return test_realloc(p, n);
}

/* Both allocators through failing_alloc/failing_realloc, which fail once s_fail_after
 * reaches zero (and keep failing); setup_hooks(NULL) undoes it. Frees are never failed, so
 * cleanup after a failure still balances cmocka's books. */
static inline void failing_hooks_install(void)
{
    static const struct ref_mem_hooks hooks = {failing_alloc, failing_realloc, t_free};
    ref_mem_set_hooks(&hooks);
    json_set_alloc_funcs(failing_alloc, t_free);
}

#endif
