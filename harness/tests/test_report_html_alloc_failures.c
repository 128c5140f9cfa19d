/* SPDX-License-Identifier: Apache-2.0
 *
 * test_report_html_alloc_failures.c - the HTML report and the failure groups when the
 * allocators fail: every allocation of a page is failed in turn (the harness's own through
 * malloc, calloc and realloc wrapped at link time, set in harness/CMakeLists.txt for this
 * test only; jansson's through its allocator hooks), and the writer must answer
 * REF_E_NOMEM having written nothing, or the whole page, never crash; a leak shows under
 * valgrind (memcheck.report_html_alloc_failures) and ASan, and in jansson's balance here.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/report_groups.h"
#include "harness/report_html.h"

#include "harness/backend.h"
#include "harness/runner.h"
#include "harness/scenario.h"

#include "json_alloc_hooks.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define NUM_RESULTS 4

/* Two scenarios that fail the same way (a group), one whose JSON answer is marked, one
 * that passes: every part of the page that allocates. */
static const char *const s_names[NUM_RESULTS] = {"cancel-a", "cancel-b", "marked", "passes"};
static const char *const s_scenarios[NUM_RESULTS] = {
    /* Each element is one literal split over lines: the parentheses say so. */
    ("{\"name\":\"cancel-a\",\"description\":\"d <a>\",\"tags\":[\"t\"],\"source\":\"model\","
     "\"contract\":\"3\",\"steps\":[{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":"
     "{\"Id\":\"1111111111111-nojob1\"},\"expect\":{\"status\":202}}]}"),
    ("{\"name\":\"cancel-b\",\"description\":\"d\",\"tags\":[\"t\"],\"source\":\"model\","
     "\"contract\":\"3\",\"steps\":[{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":"
     "{\"Id\":\"1111111111112-nojob2\"},\"expect\":{\"status\":202}}]}"),
    ("{\"name\":\"marked\",\"description\":\"d\",\"tags\":[\"t\"],\"source\":\"model\","
     "\"steps\":[{\"name\":\"create\",\"call\":\"CreatePipeline\",\"params\":{\"Name\":\"<p>\","
     "\"InputBucket\":\"in\",\"OutputBucket\":\"out\","
     "\"Role\":\"arn:aws:iam::111122223333:role/r\"},\"expect\":{\"status\":201,"
     "\"contract\":\"1b\",\"paths\":{\"Pipeline.Status\":\"Paused\"},"
     "\"body\":{\"Pipeline\":{\"Name\":\"q\"}}}}]}"),
    ("{\"name\":\"passes\",\"description\":\"d\",\"tags\":[\"t\"],\"source\":\"model\","
     "\"steps\":[{\"name\":\"list\",\"call\":\"ListPipelines\",\"expect\":{\"status\":200}}]}"),
};

struct fixture {
    struct harness_scenario *scenarios[NUM_RESULTS];
    struct harness_scenario_result results[NUM_RESULTS];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    for (size_t i = 0; i < NUM_RESULTS; i++) {
        struct harness_load_error err;
        char path[32];
        snprintf(path, sizeof(path), "area/%s.json", s_names[i]);
        if (harness_scenario_load_buffer((const uint8_t *)s_scenarios[i], strlen(s_scenarios[i]),
                                         path, "area", NULL, &f->scenarios[i], &err) != REF_OK) {
            fail_msg("%s", err.message);
        }
        struct harness_backend *b = harness_backend_inproc_new(NULL);
        assert_non_null(b);
        assert_int_equal(harness_run_scenario(f->scenarios[i], b, &f->results[i]), REF_OK);
        harness_backend_free(b);
    }
    assert_int_equal(f->results[0].verdict, HARNESS_VERDICT_FAIL);
    assert_int_equal(f->results[2].verdict, HARNESS_VERDICT_FAIL);
    assert_int_equal(f->results[3].verdict, HARNESS_VERDICT_PASS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f == NULL) {
        return 0; /* the setup failed and said why */
    }
    for (size_t i = 0; i < NUM_RESULTS; i++) {
        harness_scenario_result_cleanup(&f->results[i]);
        harness_scenario_free(f->scenarios[i]);
    }
    free(f);
    return 0;
}

/* Writes the page with allowed allocations of each allocator (-1: no limit). The page
 * text goes to *text (NULL when nothing was written). */
static enum ref_status page_with(const struct fixture *f, long allowed, char **text, size_t *len)
{
    static const struct harness_report_meta meta = {.tool = "etch test", .target = "t"};
    /* open_memstream's buffer is the C library's own, allocated before the limit. */
    FILE *mem = open_memstream(text, len);
    assert_non_null(mem);
    json_live = 0;
    json_allocs_left = allowed;
    json_set_alloc_funcs(counting_json_malloc, counting_json_free);
    s_allocs_left = allowed;
    enum ref_status rc = harness_report_html(mem, f->results, NUM_RESULTS, &meta, NULL);
    s_allocs_left = -1;
    json_set_alloc_funcs(malloc, free);
    assert_int_equal(json_live, 0);
    fclose(mem);
    return rc;
}

static void test_report_html_alloc_failures_each_allocation(void **state)
{
    struct fixture *f = *state;
    char *whole = NULL;
    size_t whole_len = 0;
    assert_int_equal(page_with(f, -1, &whole, &whole_len), REF_OK);
    assert_non_null(strstr(whole, "<mark>"));
    assert_non_null(strstr(whole, "<b>2 scenarios</b>"));
    long succeeded_at = -1;
    for (long allowed = 0; allowed < 100000 && succeeded_at < 0; allowed++) {
        char *text = NULL;
        size_t len = 0;
        enum ref_status rc = page_with(f, allowed, &text, &len);
        if (rc == REF_OK) {
            succeeded_at = allowed;
            /* With enough memory, the same page. */
            assert_int_equal(len, whole_len);
            assert_memory_equal(text, whole, len);
        } else {
            assert_int_equal(rc, REF_E_NOMEM);
            /* Nothing half-written: the page is built first, then written at once. */
            assert_int_equal(len, 0);
        }
        free(text);
    }
    assert_true(succeeded_at > 0);
    free(whole);
}

static void test_report_html_alloc_failures_groups(void **state)
{
    struct fixture *f = *state;
    long succeeded_at = -1;
    for (long allowed = 0; allowed < 1000 && succeeded_at < 0; allowed++) {
        struct harness_failure_groups g;
        s_allocs_left = allowed;
        enum ref_status rc = harness_failure_groups_build(f->results, NUM_RESULTS, &g);
        s_allocs_left = -1;
        if (rc == REF_OK) {
            succeeded_at = allowed;
            assert_int_equal(g.count, 2);
            assert_int_equal(g.items[0].num_members, 2);
        } else {
            assert_int_equal(rc, REF_E_NOMEM);
            assert_int_equal(g.count, 0);
            assert_null(g.items);
        }
        harness_failure_groups_cleanup(&g);
    }
    assert_true(succeeded_at > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_html_alloc_failures_each_allocation),
        cmocka_unit_test(test_report_html_alloc_failures_groups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
