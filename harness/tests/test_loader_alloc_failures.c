/* SPDX-License-Identifier: Apache-2.0
 *
 * test_loader_alloc_failures.c - the scenario loader when the C library's allocator
 * fails: every allocation of a load is failed in turn, and the load must end with
 * REF_E_NOMEM (or succeed) and release what it had built, never crash.
 *
 * The harness's own malloc, calloc and realloc calls are wrapped at link time
 * (-Wl,--wrap, set in harness/CMakeLists.txt for this test only), so the failures reach
 * the loader's code paths that jansson's allocator hooks cannot: the step, sub-step and
 * expectation arrays. A leak shows under valgrind and ASan.
 */
#include "harness/scenario.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* -1: never fail; otherwise the number of allocations still allowed. */
static long s_allocs_left = -1;

void *__real_malloc(size_t n);
void *__real_calloc(size_t count, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t count, size_t n);
void *__wrap_realloc(void *p, size_t n);

static bool may_allocate(void)
{
    if (s_allocs_left < 0) {
        return true;
    }
    if (s_allocs_left == 0) {
        return false;
    }
    s_allocs_left--;
    return true;
}

void *__wrap_malloc(size_t n)
{
    return may_allocate() ? __real_malloc(n) : NULL;
}

void *__wrap_calloc(size_t count, size_t n)
{
    return may_allocate() ? __real_calloc(count, n) : NULL;
}

void *__wrap_realloc(void *p, size_t n)
{
    return may_allocate() ? __real_realloc(p, n) : NULL;
}

/* Every kind of step that allocates: a call with expectations and a capture, a
 * concurrent group with outcomes, a wait with a $match. */
static const char s_scenario[] =
    "{\"name\":\"alloc\",\"description\":\"d\",\"tags\":[\"t\"],\"source\":\"model\","
    "\"contract\":\"3\",\"steps\":["
    "{\"name\":\"create\",\"call\":\"CreatePipeline\",\"params\":{\"Name\":\"p\","
    "\"InputBucket\":\"in\",\"OutputBucket\":\"out\","
    "\"Role\":\"arn:aws:iam::111122223333:role/r\"},"
    "\"expect\":{\"status\":201},\"capture\":{\"pipelineId\":\"Pipeline.Id\"}},"
    "{\"name\":\"race\",\"concurrent\":["
    "{\"name\":\"a\",\"call\":\"ReadPipeline\",\"params\":{\"Id\":\"${pipelineId}\"}},"
    "{\"name\":\"b\",\"call\":\"ReadPipeline\",\"params\":{\"Id\":\"${pipelineId}\"}}],"
    "\"outcomes\":[{\"a\":{\"status\":200},\"b\":{\"status\":200}}]},"
    "{\"name\":\"wait\",\"wait\":{\"call\":\"ReadPipeline\",\"params\":{\"Id\":\"${pipelineId}\"},"
    "\"until\":{\"paths\":{\"Pipeline.Status\":{\"$match\":\"^Act\"}}}}}"
    "]}";

static enum ref_status load_with(long allocs, struct harness_scenario **sc)
{
    struct harness_load_error err;
    s_allocs_left = allocs;
    enum ref_status rc = harness_scenario_load_buffer(
        (const uint8_t *)s_scenario, sizeof(s_scenario) - 1, "alloc.json", "alloc", ".", sc, &err);
    s_allocs_left = -1;
    return rc;
}

static void test_loader_alloc_failures_each_allocation(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    enum ref_status whole = harness_scenario_load_buffer(
        (const uint8_t *)s_scenario, sizeof(s_scenario) - 1, "alloc.json", "alloc", ".", &sc, &err);
    if (whole != REF_OK) {
        fail_msg("the scenario does not load: %s", err.message);
    }
    harness_scenario_free(sc);
    long succeeded_at = -1;
    for (long allowed = 0; allowed < 10000 && succeeded_at < 0; allowed++) {
        sc = NULL;
        enum ref_status rc = load_with(allowed, &sc);
        if (rc == REF_OK) {
            succeeded_at = allowed;
            harness_scenario_free(sc);
        } else {
            assert_int_equal(rc, REF_E_NOMEM);
            assert_null(sc);
        }
    }
    assert_true(succeeded_at > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader_alloc_failures_each_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
