/* SPDX-License-Identifier: Apache-2.0
 *
 * json_alloc_hooks.h - jansson allocations that fail after a given number, for the
 * harness's allocation-failure loops. Counted, so that a leak, a double release or a
 * release through another allocator shows as a non-zero balance once everything is freed.
 *
 * Use: set json_allocs_left and json_live, json_set_alloc_funcs(counting_json_malloc,
 * counting_json_free), run, put malloc/free back, expect json_live == 0. One test file
 * each (the state is static).
 */
#ifndef HARNESS_TESTS_JSON_ALLOC_HOOKS_H
#define HARNESS_TESTS_JSON_ALLOC_HOOKS_H

#include <stdlib.h>

static long json_allocs_left;
static long json_live;

static void *counting_json_malloc(size_t n)
{
    if (json_allocs_left == 0) {
        return NULL;
    }
    json_allocs_left--;
    void *p = malloc(n);
    if (p != NULL) {
        json_live++;
    }
    return p;
}

static void counting_json_free(void *p)
{
    if (p != NULL) {
        json_live--;
        free(p);
    }
}

#endif
