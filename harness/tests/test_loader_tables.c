/* SPDX-License-Identifier: Apache-2.0
 *
 * test_loader_tables.c - the tables the scenario format is read from agree with what the
 * loader accepts: every step kind in the step table loads from a minimal step of that
 * kind and is named in the messages that list kinds and keys; every matcher in the
 * matcher table accepts its documented example, evaluates, and is named in the help and
 * in the message for an unknown matcher; $match patterns are compiled at load time.
 *
 * The minimal steps are written out here, one per kind key, so that a kind added to the
 * table without a test step here, or a row whose key or parser is wrong, fails.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/expect.h"
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

static size_t matcher_count(void)
{
    size_t n = 0;
    while (harness_matcher_doc(n) != NULL) {
        n++;
    }
    return n;
}

static json_t *matcher_from_doc(const struct harness_matcher_doc *d)
{
    char text[256];
    snprintf(text, sizeof(text), "{\"%s\": %s}", d->name, d->example);
    json_t *m = json_loads(text, 0, NULL);
    if (m == NULL) {
        fail_msg("the example of %s is not JSON: %s", d->name, text);
    }
    return m;
}

/* Each matcher's example passes the load-time check and evaluates (held or not, but never
 * as an unknown matcher); the help has a line for each. */
static void test_loader_tables_every_matcher_validates_and_runs(void **state)
{
    (void)state;
    size_t n = matcher_count();
    assert_true(n >= 9);
    char help[4096];
    harness_matcher_help(help, sizeof(help));
    for (size_t i = 0; i < n; i++) {
        const struct harness_matcher_doc *d = harness_matcher_doc(i);
        assert_non_null(d->help);
        json_t *m = matcher_from_doc(d);
        char where[128] = "";
        char why[256] = "";
        if (!harness_matcher_validate(m, where, sizeof(where), why, sizeof(why))) {
            fail_msg("%s refuses its own example: %s: %s", d->name, where, why);
        }
        json_t *actual = json_string("1111111111111-abcdef");
        char reason[HARNESS_CHECK_TEXT_BYTES] = "";
        (void)harness_match(m, actual, NULL, reason, sizeof(reason));
        if (strstr(reason, "unknown matcher") != NULL) {
            fail_msg("%s does not evaluate: %s", d->name, reason);
        }
        json_decref(actual);
        json_decref(m);
        char line[64];
        snprintf(line, sizeof(line), "{\"%s\": %s}", d->name, d->operand);
        if (strstr(help, line) == NULL) {
            fail_msg("the help has no line for %s:\n%s", d->name, help);
        }
    }
}

/* An unknown matcher is refused with the list of every known one. */
static void test_loader_tables_unknown_matcher_lists_every_matcher(void **state)
{
    (void)state;
    json_t *m = json_loads("{\"$nope\": 1}", 0, NULL);
    char where[128] = "";
    char why[256] = "";
    assert_false(harness_matcher_validate(m, where, sizeof(where), why, sizeof(why)));
    json_decref(m);
    assert_string_equal(where, ".$nope");
    assert_non_null(strstr(why, "unknown matcher (known: $present, "));
    for (size_t i = 0; i < matcher_count(); i++) {
        const char *name = harness_matcher_doc(i)->name;
        if (strstr(why, name) == NULL) {
            fail_msg("'%s' is missing from: %s", name, why);
        }
    }
}

/* A loaded expectation holds its $match patterns compiled, nested ones included, and
 * evaluates with them as a one-off match does. */
static void test_loader_tables_match_is_compiled_at_load(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    enum ref_status rc =
        load_step("{\"call\":\"ListPipelines\",\"expect\":{\"paths\":{\"A\":{\"$not\":"
                  "{\"$match\":\"^x\"}}},\"body\":{\"B\":{\"$match\":\"^[0-9]+$\"}}}}",
                  &sc, &err);
    if (rc != REF_OK) {
        fail_msg("%s", err.message);
    }
    const struct harness_expect *e = &sc->steps[0].expects[0];
    assert_non_null(e->regexes);
    json_t *good = json_loads("{\"A\":\"y\",\"B\":\"42\"}", 0, NULL);
    json_t *bad = json_loads("{\"A\":\"xy\",\"B\":\"4a\"}", 0, NULL);
    char why_loaded[HARNESS_CHECK_TEXT_BYTES] = "";
    char why_once[HARNESS_CHECK_TEXT_BYTES] = "";
    assert_true(harness_match(e->body, good, NULL, NULL, 0));
    assert_false(harness_match(e->body, bad, NULL, why_once, sizeof(why_once)));

    struct harness_http_response http = {.status = 200};
    struct harness_observed obs = {.http = &http, .body = bad};
    struct harness_check_list checks;
    harness_check_list_init(&checks);
    bool all_held = true;
    assert_int_equal(harness_expect_eval(e, &obs, NULL, &checks, &all_held), REF_OK);
    assert_false(all_held);
    assert_int_equal(checks.count, 2); /* body, paths.A */
    snprintf(why_loaded, sizeof(why_loaded), "%s", checks.items[0].actual);
    assert_string_equal(why_loaded, why_once);
    assert_false(checks.items[1].held);
    harness_check_list_cleanup(&checks);
    obs.body = good;
    assert_int_equal(harness_expect_eval(e, &obs, NULL, &checks, &all_held), REF_OK);
    assert_true(all_held);
    harness_check_list_cleanup(&checks);
    json_decref(good);
    json_decref(bad);
    harness_scenario_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader_tables_every_step_kind_loads),
        cmocka_unit_test(test_loader_tables_messages_list_every_kind),
        cmocka_unit_test(test_loader_tables_two_kinds_are_refused_as_such),
        cmocka_unit_test(test_loader_tables_every_matcher_validates_and_runs),
        cmocka_unit_test(test_loader_tables_unknown_matcher_lists_every_matcher),
        cmocka_unit_test(test_loader_tables_match_is_compiled_at_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
