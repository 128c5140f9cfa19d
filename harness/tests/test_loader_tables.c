/* SPDX-License-Identifier: Apache-2.0
 *
 * test_loader_tables.c - the tables the scenario format is read from agree with what the
 * loader accepts: every step kind in the step table loads from a minimal step of that
 * kind and is named in the messages that list kinds and keys.
 *
 * The minimal steps are written out here, one per kind key, so that a kind added to the
 * table without a test step here, or a row whose key or parser is wrong, fails.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/scenario.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#define HEAD "{\"name\":\"s\",\"description\":\"d\",\"source\":\"model\",\"steps\":["
#define TAIL "]}"

#define TEST_ID "1111111111111-abcdef"

struct minimal_step {
    const char *key;
    const char *json;
    bool needs_hooks;
};

static const struct minimal_step s_minimal_steps[] = {
    {"call", "{\"call\":\"ListPipelines\"}", false},
    {"raw", "{\"raw\":{\"method\":\"GET\",\"target\":\"/2012-09-25/pipelines\"}}", false},
    {"wait", "{\"wait\":{\"call\":\"ListPipelines\",\"until\":{\"status\":200}}}", false},
    {"concurrent",
     "{\"concurrent\":[{\"call\":\"ListPipelines\"},{\"call\":\"ListPipelines\"}],"
     "\"outcomes\":[{\"sub-1\":{\"status\":200}}]}",
     false},
    {"seed_pipeline", "{\"seed_pipeline\":{\"id\":\"" TEST_ID "\"}}", true},
    {"seed_job", "{\"seed_job\":{\"id\":\"" TEST_ID "\",\"pipeline\":\"" TEST_ID "\"}}", true},
    {"clock", "{\"clock\":{\"advance_s\":1}}", true},
    {"fail_job", "{\"fail_job\":\"" TEST_ID "\"}", true},
};

#define MINIMAL_STEP_COUNT (sizeof(s_minimal_steps) / sizeof(s_minimal_steps[0]))

static const struct minimal_step *minimal_step(const char *key)
{
    for (size_t i = 0; i < MINIMAL_STEP_COUNT; i++) {
        if (strcmp(s_minimal_steps[i].key, key) == 0) {
            return &s_minimal_steps[i];
        }
    }
    return NULL;
}

static enum ref_status
load_step(const char *step, struct harness_scenario **sc, struct harness_load_error *err)
{
    char text[1024];
    snprintf(text, sizeof(text), "%s%s%s", HEAD, step, TAIL);
    return harness_scenario_load_buffer((const uint8_t *)text, strlen(text), "t/s.json", "t", NULL,
                                        sc, err);
}

static void test_loader_tables_every_step_kind_loads(void **state)
{
    (void)state;
    assert_null(harness_step_kind_key(HARNESS_STEP_NONE));
    assert_null(harness_step_kind_key(HARNESS_STEP_KIND_COUNT));
    size_t kinds = 0;
    for (int k = HARNESS_STEP_NONE + 1; k < HARNESS_STEP_KIND_COUNT; k++) {
        const char *key = harness_step_kind_key((enum harness_step_kind)k);
        if (key == NULL) {
            fail_msg("step kind %d has no row in the step table", k);
        }
        const struct minimal_step *m = minimal_step(key);
        if (m == NULL) {
            fail_msg("step kind '%s' has no minimal step in this test", key);
        }
        struct harness_scenario *sc = NULL;
        struct harness_load_error err;
        enum ref_status rc = load_step(m->json, &sc, &err);
        if (rc != REF_OK) {
            fail_msg("a minimal %s step does not load: %s", key, err.message);
        }
        assert_int_equal(sc->steps[0].kind, k);
        if (sc->uses_hooks != m->needs_hooks) {
            fail_msg("a %s step %s in-process hooks", key,
                     sc->uses_hooks ? "wrongly needs" : "should need");
        }
        harness_scenario_free(sc);
        kinds++;
    }
    assert_int_equal(kinds, MINIMAL_STEP_COUNT);
}

/* A step without a kind: the message lists every kind; with an unknown key besides, the
 * allowed keys listed include every kind key. */
static void test_loader_tables_messages_list_every_kind(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error no_kind;
    assert_int_equal(load_step("{\"name\":\"x\"}", &sc, &no_kind), REF_E_MALFORMED);
    struct harness_load_error unknown_key;
    assert_int_equal(load_step("{\"bogus\":1}", &sc, &unknown_key), REF_E_MALFORMED);
    assert_null(sc);
    assert_non_null(strstr(no_kind.message, "a step needs one of call, raw, "));
    assert_non_null(strstr(unknown_key.message, "unknown key 'bogus' in a step (allowed: "));
    for (int k = HARNESS_STEP_NONE + 1; k < HARNESS_STEP_KIND_COUNT; k++) {
        const char *key = harness_step_kind_key((enum harness_step_kind)k);
        if (strstr(no_kind.message, key) == NULL || strstr(unknown_key.message, key) == NULL) {
            fail_msg("'%s' is missing from: %s / %s", key, no_kind.message, unknown_key.message);
        }
    }
}

/* Two kind keys in one step: refused for having two kinds, not for an unknown key. */
static void test_loader_tables_two_kinds_are_refused_as_such(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    assert_int_equal(
        load_step("{\"call\":\"ListPipelines\",\"fail_job\":\"" TEST_ID "\"}", &sc, &err),
        REF_E_MALFORMED);
    assert_non_null(strstr(err.message, "a step has exactly one of call, raw, wait"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader_tables_every_step_kind_loads),
        cmocka_unit_test(test_loader_tables_messages_list_every_kind),
        cmocka_unit_test(test_loader_tables_two_kinds_are_refused_as_such),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
