/* SPDX-License-Identifier: Apache-2.0
 *
 * test_baseline.c - the baseline loader (every limit at and over it, every error with its
 * position and reason, any prefix of a valid file refused cleanly), resolving entries
 * against a suite, comparing a run with a baseline, and writing one that loads back.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/baseline.h"

#include "harness/runner.h"
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum ref_status
parse_text(const char *text, struct harness_baseline *bl, struct harness_load_error *err)
{
    return harness_baseline_parse((const uint8_t *)text, strlen(text), "b.json", bl, err);
}

/* A valid baseline of n entries whose scenario names are name_bytes long and reasons
 * reason_bytes long, padded with spaces to total_bytes when that is larger. */
static char *make_baseline(size_t n, size_t name_bytes, size_t reason_bytes, size_t total_bytes)
{
    size_t entry_cap = name_bytes + reason_bytes + 128;
    size_t cap = 64 + n * entry_cap + total_bytes;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t used = (size_t)snprintf(text, cap, "{\"etch_baseline\": 1, \"expected\": [");
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(text + used, cap - used, "%s{\"scenario\": \"", i > 0 ? "," : "");
        memset(text + used, 'a', name_bytes);
        used += name_bytes;
        used += (size_t)snprintf(text + used, cap - used,
                                 "\", \"step\": \"s%zu\", "
                                 "\"verdict\": \"FAIL\", \"reason\": \"",
                                 i);
        memset(text + used, 'r', reason_bytes);
        used += reason_bytes;
        used += (size_t)snprintf(text + used, cap - used, "\"}");
    }
    used += (size_t)snprintf(text + used, cap - used, "]}");
    while (used < total_bytes) {
        text[used++] = ' ';
    }
    text[used] = '\0';
    return text;
}

static void test_baseline_parses_entries(void **state)
{
    (void)state;
    const char *text =
        "{\n"
        "  \"etch_baseline\": 1,\n"
        "  \"expected\": [\n"
        "    {\"scenario\": \"cancel-twice\", \"verdict\": \"SKIP\", \"reason\": \"no "
        "control\"},\n"
        "    {\"scenario\": \"cancel/x\", \"step\": \"read\", \"verdict\": \"NOT "
        "IMPLEMENTED\",\n"
        "     \"reason\": \"ReadJob is not there yet\"}\n"
        "  ]\n"
        "}\n";
    struct harness_baseline bl;
    struct harness_load_error err;
    assert_int_equal(parse_text(text, &bl, &err), REF_OK);
    assert_int_equal(bl.count, 2);
    assert_string_equal(bl.entries[0].scenario, "cancel-twice");
    assert_null(bl.entries[0].step);
    assert_int_equal(bl.entries[0].verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(bl.entries[0].line, 4);
    assert_int_equal(bl.entries[0].column, 5);
    assert_string_equal(bl.entries[1].step, "read");
    assert_int_equal(bl.entries[1].verdict, HARNESS_VERDICT_NOT_IMPLEMENTED);
    assert_string_equal(bl.entries[1].reason, "ReadJob is not there yet");
    assert_int_equal(bl.entries[1].line, 5);
    harness_baseline_cleanup(&bl);

    assert_int_equal(parse_text("{\"etch_baseline\": 1, \"expected\": []}", &bl, &err), REF_OK);
    assert_int_equal(bl.count, 0);
    harness_baseline_cleanup(&bl);
}

static void test_baseline_file_size_limit(void **state)
{
    (void)state;
    struct harness_baseline bl;
    struct harness_load_error err;
    char *at = make_baseline(1, 8, 8, HARNESS_BASELINE_MAX_FILE_BYTES);
    assert_int_equal(strlen(at), HARNESS_BASELINE_MAX_FILE_BYTES);
    assert_int_equal(parse_text(at, &bl, &err), REF_OK);
    harness_baseline_cleanup(&bl);
    free(at);

    char *over = make_baseline(1, 8, 8, HARNESS_BASELINE_MAX_FILE_BYTES + 1);
    assert_int_equal(parse_text(over, &bl, &err), REF_E_TOO_LARGE);
    assert_non_null(strstr(err.message, "over the limit of 1048576"));
    assert_int_equal(bl.count, 0);

    /* The file reader stops at the limit too, before reading it all. (The file goes in the
     * working directory, the build tree under ctest.) */
    char path[] = "etch-baseline-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(over, f);
    fclose(f);
    assert_int_equal(harness_baseline_load_file(path, &bl, &err), REF_E_TOO_LARGE);
    assert_non_null(strstr(err.message, "over the limit"));
    unlink(path);
    free(over);

    assert_int_equal(harness_baseline_load_file("/nonexistent/b.json", &bl, &err), REF_E_NOT_FOUND);
    assert_non_null(strstr(err.message, "cannot read"));
}

static void test_baseline_entry_count_limit(void **state)
{
    (void)state;
    struct harness_baseline bl;
    struct harness_load_error err;
    char *at = make_baseline(HARNESS_BASELINE_MAX_ENTRIES, 4, 4, 0);
    assert_int_equal(parse_text(at, &bl, &err), REF_OK);
    assert_int_equal(bl.count, HARNESS_BASELINE_MAX_ENTRIES);
    harness_baseline_cleanup(&bl);
    free(at);

    char *over = make_baseline(HARNESS_BASELINE_MAX_ENTRIES + 1, 4, 4, 0);
    assert_int_equal(parse_text(over, &bl, &err), REF_E_TOO_LARGE);
    assert_string_equal(err.message, "expected: 4097 entries, over the limit of 4096");
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 22); /* the "expected" key */
    free(over);
}

static void test_baseline_string_limits(void **state)
{
    (void)state;
    struct harness_baseline bl;
    struct harness_load_error err;
    char *at =
        make_baseline(1, HARNESS_BASELINE_MAX_NAME_BYTES, HARNESS_BASELINE_MAX_REASON_BYTES, 0);
    assert_int_equal(parse_text(at, &bl, &err), REF_OK);
    assert_int_equal(strlen(bl.entries[0].scenario), HARNESS_BASELINE_MAX_NAME_BYTES);
    assert_int_equal(strlen(bl.entries[0].reason), HARNESS_BASELINE_MAX_REASON_BYTES);
    harness_baseline_cleanup(&bl);
    free(at);

    char *long_name = make_baseline(1, HARNESS_BASELINE_MAX_NAME_BYTES + 1, 4, 0);
    assert_int_equal(parse_text(long_name, &bl, &err), REF_E_TOO_LARGE);
    assert_string_equal(err.message, "expected[0].scenario: 129 bytes, over the limit of 128");
    assert_int_equal(err.line, 1);
    free(long_name);

    char *long_reason = make_baseline(1, 4, HARNESS_BASELINE_MAX_REASON_BYTES + 1, 0);
    assert_int_equal(parse_text(long_reason, &bl, &err), REF_E_TOO_LARGE);
    assert_string_equal(err.message, "expected[0].reason: 1025 bytes, over the limit of 1024");
    free(long_reason);
}

struct bad_case {
    const char *text;
    enum ref_status rc;
    const char *message; /* a part of it */
    int line, column;
};

static void test_baseline_errors_say_where_and_why(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"", REF_E_MALFORMED, "the file is empty", 0, 0},
        {"{\"etch_baseline\": 1,\n \"expected\": [}", REF_E_MALFORMED, "invalid JSON", 2, 15},
        {"[]", REF_E_MALFORMED, "a baseline is a JSON object", 1, 1},
        {"{\"expected\": []}", REF_E_MALFORMED, "'etch_baseline' is missing", 1, 1},
        {"{\"etch_baseline\": 2, \"expected\": []}", REF_E_MALFORMED,
         "etch_baseline: this etch reads version 1", 1, 2},
        {"{\"etch_baseline\": \"1\", \"expected\": []}", REF_E_MALFORMED, "version 1", 1, 2},
        {"{\"etch_baseline\": 1}", REF_E_MALFORMED, "'expected' is missing", 1, 1},
        {"{\"etch_baseline\": 1, \"expected\": {}}", REF_E_MALFORMED,
         "expected: expected a list, got an object", 1, 22},
        {"{\"etch_baseline\": 1, \"expected\": [], \"extra\": 0}", REF_E_MALFORMED,
         "extra: unknown key", 1, 38},
        {"{\"etch_baseline\": 1, \"etch_baseline\": 1, \"expected\": []}", REF_E_MALFORMED,
         "duplicate object key", 1, 0},
        {"{\"etch_baseline\": 1, \"expected\": [3]}", REF_E_MALFORMED,
         "expected[0]: expected an object, got an integer", 1, 35},
        {"{\"etch_baseline\": 1, \"expected\": [\n {\"verdict\": \"FAIL\", \"reason\": \"r\"}]}",
         REF_E_MALFORMED, "expected[0]: 'scenario' is missing", 2, 2},
        {"{\"etch_baseline\": 1, \"expected\": [\n {\"scenario\": \"a\", \"verdict\": \"FAIL\"}]}",
         REF_E_MALFORMED, "expected[0]: 'reason' is missing", 2, 2},
        {"{\"etch_baseline\": 1, \"expected\": [\n {\"scenario\": \"a\", \"reason\": \"r\"}]}",
         REF_E_MALFORMED, "expected[0]: 'verdict' is missing", 2, 2},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"a\", \"verdict\": \"FAIL\", \"reason\": \"\"}]}",
         REF_E_MALFORMED, "expected[0].reason: is empty", 2, 39},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"a\", \"verdict\": \"PASS\", \"reason\": \"r\"}]}",
         REF_E_MALFORMED, "'PASS' is not a verdict a baseline can expect", 2, 20},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"a\", \"verdict\": \"fail\", \"reason\": \"r\"}]}",
         REF_E_MALFORMED, "'fail' is not a verdict", 2, 20},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"a\", \"step\": 2, \"verdict\": \"FAIL\", \"reason\": \"r\"}]}",
         REF_E_MALFORMED, "expected[0].step: expected a string, got an integer", 2, 20},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"a\", \"steps\": \"x\", \"verdict\": \"FAIL\", \"reason\": \"r\"}]}",
         REF_E_MALFORMED, "expected[0].steps: unknown key", 2, 20},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"a\", \"verdict\": \"FAIL\", \"reason\": \"two\\nlines\"}]}",
         REF_E_MALFORMED, "holds a control character (0x0a at byte 3)", 2, 39},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"a\\u0000b\", \"verdict\": \"FAIL\", \"reason\": \"r\"}]}",
         REF_E_MALFORMED, "invalid JSON", 2, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        struct harness_baseline bl;
        struct harness_load_error err;
        enum ref_status rc = parse_text(c->text, &bl, &err);
        if (rc != c->rc || strstr(err.message, c->message) == NULL || err.line != c->line ||
            (c->column != 0 && err.column != c->column)) {
            fail_msg("case %zu: %s -> %s at %d:%d: %s", i, c->text, ref_status_name(rc), err.line,
                     err.column, err.message);
        }
        assert_int_equal(bl.count, 0);
        assert_null(bl.entries);
        assert_string_equal(err.file, "b.json");
    }
}

/* Every proper prefix of a valid baseline is refused with a message, never accepted and
 * never a crash (what a small fuzz run would try first). */
static void test_baseline_prefixes_are_refused(void **state)
{
    (void)state;
    const char *text = "{\"etch_baseline\": 1, \"expected\": [{\"scenario\": \"a\", \"step\": "
                       "\"b\", \"verdict\": \"NOT IMPLEMENTED\", \"reason\": \"r \\u00e9\"}]}";
    size_t n = strlen(text);
    for (size_t len = 0; len < n; len++) {
        struct harness_baseline bl;
        struct harness_load_error err;
        enum ref_status rc =
            harness_baseline_parse((const uint8_t *)text, len, "b.json", &bl, &err);
        assert_int_not_equal(rc, REF_OK);
        assert_true(err.message[0] != '\0');
    }
    struct harness_baseline bl;
    struct harness_load_error err;
    assert_int_equal(harness_baseline_parse((const uint8_t *)text, n, "b.json", &bl, &err), REF_OK);
    harness_baseline_cleanup(&bl);
}

/* --- Resolving and comparing ------------------------------------------------------- */

static struct harness_scenario *load(const char *name)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"name\":\"%s\",\"description\":\"d\",\"source\":\"model\",\"steps\":["
             "{\"name\":\"one\",\"call\":\"ListPipelines\",\"expect\":{\"status\":200}},"
             "{\"name\":\"two\",\"call\":\"ListPipelines\",\"expect\":{\"status\":200}}]}",
             name);
    char path[64];
    snprintf(path, sizeof(path), "area/%s.json", name);
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    if (harness_scenario_load_buffer((const uint8_t *)text, strlen(text), path, "area", NULL, &sc,
                                     &err) != REF_OK) {
        fail_msg("%s", err.message);
    }
    return sc;
}

#define NUM_SCENARIOS 3

struct fixture {
    struct harness_scenario *items[NUM_SCENARIOS];
    struct harness_suite suite;
    struct harness_scenario_result results[NUM_SCENARIOS];
};

/* A result of sc with the scenario verdict and the two steps' verdicts. */
static void set_result(struct harness_scenario_result *r,
                       const struct harness_scenario *sc,
                       enum harness_verdict verdict,
                       enum harness_verdict one,
                       enum harness_verdict two)
{
    free(r->steps);
    memset(r, 0, sizeof(*r));
    r->scenario = sc;
    r->verdict = verdict;
    r->num_steps = 2;
    r->steps = calloc(2, sizeof(*r->steps));
    assert_non_null(r->steps);
    r->steps[0] = (struct harness_step_result){.step = &sc->steps[0], .verdict = one};
    r->steps[1] = (struct harness_step_result){.step = &sc->steps[1], .verdict = two};
    if (one == HARNESS_VERDICT_FAIL) {
        /* As the runner leaves them: a broken check, and the later step not run. */
        harness_check_list_init(&r->steps[0].checks);
        struct harness_check_result *c = harness_check_list_add(&r->steps[0].checks);
        assert_non_null(c);
        c->level = HARNESS_LEVEL_MUST;
        c->held = false;
        snprintf(c->what, sizeof(c->what), "status");
        snprintf(c->expected, sizeof(c->expected), "200");
        snprintf(c->actual, sizeof(c->actual), "404 \"\x01\xff\"");
    }
    if (two == HARNESS_VERDICT_SKIP) {
        snprintf(r->steps[1].reason, sizeof(r->steps[1].reason), "not run: step 'one' ended");
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->items[0] = load("breaks");
    f->items[1] = load("passes");
    f->items[2] = load("skips");
    f->suite.items = f->items;
    f->suite.count = NUM_SCENARIOS;
    set_result(&f->results[0], f->items[0], HARNESS_VERDICT_FAIL, HARNESS_VERDICT_FAIL,
               HARNESS_VERDICT_SKIP);
    set_result(&f->results[1], f->items[1], HARNESS_VERDICT_PASS, HARNESS_VERDICT_PASS,
               HARNESS_VERDICT_PASS);
    set_result(&f->results[2], f->items[2], HARNESS_VERDICT_SKIP, HARNESS_VERDICT_SKIP,
               HARNESS_VERDICT_SKIP);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < NUM_SCENARIOS; i++) {
        for (size_t k = 0; k < f->results[i].num_steps; k++) {
            harness_check_list_cleanup(&f->results[i].steps[k].checks);
        }
        free(f->results[i].steps);
        harness_scenario_free(f->items[i]);
    }
    free(f);
    return 0;
}

static void test_baseline_resolve(void **state)
{
    struct fixture *f = *state;
    static const struct bad_case cases[] = {
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"nope\", \"verdict\": \"FAIL\", \"reason\": \"r\"}]}",
         REF_E_NOT_FOUND, "expected[0]: no scenario of the suite is named 'nope'", 2, 2},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"other/breaks\", \"verdict\": \"FAIL\", \"reason\": \"r\"}]}",
         REF_E_NOT_FOUND, "no scenario of the suite is named 'other/breaks'", 2, 2},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"breaks\", \"step\": \"three\", \"verdict\": \"FAIL\", \"reason\": "
         "\"r\"}]}",
         REF_E_NOT_FOUND, "scenario 'breaks' (area/breaks.json) has no step named 'three'", 2, 2},
        {"{\"etch_baseline\": 1, \"expected\": [\n"
         " {\"scenario\": \"breaks\", \"verdict\": \"FAIL\", \"reason\": \"r\"},\n"
         " {\"scenario\": \"area/breaks\", \"verdict\": \"ERROR\", \"reason\": \"r\"}]}",
         REF_E_MALFORMED, "expected[1]: names the same scenario as expected[0] (line 2)", 3, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct harness_baseline bl;
        struct harness_load_error err;
        assert_int_equal(parse_text(cases[i].text, &bl, &err), REF_OK);
        enum ref_status rc = harness_baseline_resolve(&bl, &f->suite, "b.json", &err);
        if (rc != cases[i].rc || strstr(err.message, cases[i].message) == NULL ||
            err.line != cases[i].line || err.column != cases[i].column) {
            fail_msg("case %zu: %s at %d:%d: %s", i, ref_status_name(rc), err.line, err.column,
                     err.message);
        }
        harness_baseline_cleanup(&bl);
    }
}

/* Parses, resolves and compares; returns the comparison (cleaned by the caller). */
static struct harness_baseline_comparison
compare(struct fixture *f, const char *text, struct harness_baseline *bl, bool strict)
{
    struct harness_load_error err;
    if (parse_text(text, bl, &err) != REF_OK ||
        harness_baseline_resolve(bl, &f->suite, "b.json", &err) != REF_OK) {
        fail_msg("%s", err.message);
    }
    struct harness_failing_verdicts how = {.strict = strict};
    struct harness_baseline_comparison c;
    assert_int_equal(harness_baseline_compare(bl, f->results, NUM_SCENARIOS, &how, &c), REF_OK);
    return c;
}

static void test_baseline_compare(void **state)
{
    struct fixture *f = *state;
    struct harness_baseline bl;

    /* The failing step listed: expected, with its reason. */
    struct harness_baseline_comparison c =
        compare(f,
                "{\"etch_baseline\": 1, \"expected\": [{\"scenario\": \"breaks\", \"step\": "
                "\"one\", \"verdict\": \"FAIL\", \"reason\": \"known\"}]}",
                &bl, false);
    assert_int_equal(c.expected, 1);
    assert_int_equal(c.new_failures, 0);
    assert_int_equal(c.unexpected_passes, 0);
    assert_string_equal(f->results[0].expected_reason, "known");
    assert_null(f->results[1].expected_reason);
    harness_baseline_comparison_cleanup(&c);
    harness_baseline_cleanup(&bl);

    /* Nothing listed: a new failure; the SKIP is not one. */
    c = compare(f, "{\"etch_baseline\": 1, \"expected\": []}", &bl, false);
    assert_int_equal(c.new_failures, 1);
    assert_true(c.is_new[0]);
    assert_false(c.is_new[2]);
    assert_null(f->results[0].expected_reason);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    struct harness_failing_verdicts how = {0};
    harness_baseline_print(mem, &bl, f->results, NUM_SCENARIOS, &how, &c);
    fclose(mem);
    assert_non_null(strstr(text, "new failure      area/breaks: FAIL at step 'one' (FAIL)"));
    free(text);
    harness_baseline_comparison_cleanup(&c);
    harness_baseline_cleanup(&bl);

    /* A passing scenario and a passing step listed: unexpected passes; the whole-scenario
     * entry of the failing one expects it; another verdict than the one seen is changed
     * (the SKIP) or new (a FAIL expected as ERROR is a new failure). */
    c = compare(f,
                "{\"etch_baseline\": 1, \"expected\": ["
                "{\"scenario\": \"passes\", \"verdict\": \"FAIL\", \"reason\": \"a\"},"
                "{\"scenario\": \"passes\", \"step\": \"two\", \"verdict\": \"ERROR\", "
                "\"reason\": \"b\"},"
                "{\"scenario\": \"area/breaks\", \"verdict\": \"FAIL\", \"reason\": \"c\"},"
                "{\"scenario\": \"skips\", \"verdict\": \"DEVIATION\", \"reason\": \"d\"}]}",
                &bl, false);
    assert_int_equal(c.unexpected_passes, 2);
    assert_int_equal(c.expected, 1);
    assert_string_equal(f->results[0].expected_reason, "c");
    assert_int_equal(c.changed, 1);
    assert_int_equal(c.new_failures, 0);
    text = NULL;
    mem = open_memstream(&text, &len);
    assert_non_null(mem);
    harness_baseline_print(mem, &bl, f->results, NUM_SCENARIOS, &how, &c);
    fclose(mem);
    assert_non_null(strstr(text, "unexpected pass  area/passes: expected FAIL, now PASS "
                                 "(baseline line 1): remove the entry from the baseline"));
    assert_non_null(strstr(text, "unexpected pass  area/passes step 'two': expected ERROR"));
    assert_non_null(strstr(text, "changed          area/skips: expected DEVIATION, now SKIP"));
    free(text);
    harness_baseline_comparison_cleanup(&c);
    harness_baseline_cleanup(&bl);

    c = compare(f,
                "{\"etch_baseline\": 1, \"expected\": [{\"scenario\": \"breaks\", \"step\": "
                "\"one\", \"verdict\": \"ERROR\", \"reason\": \"other\"}]}",
                &bl, false);
    assert_int_equal(c.new_failures, 1);
    assert_int_equal(c.changed, 1);
    harness_baseline_comparison_cleanup(&c);
    harness_baseline_cleanup(&bl);

    /* A DEVIATION without --strict is no failure, listed or not; with it, it needs an
     * entry. */
    set_result(&f->results[1], f->items[1], HARNESS_VERDICT_DEVIATION, HARNESS_VERDICT_PASS,
               HARNESS_VERDICT_DEVIATION);
    c = compare(f,
                "{\"etch_baseline\": 1, \"expected\": [{\"scenario\": \"breaks\", \"step\": "
                "\"one\", \"verdict\": \"FAIL\", \"reason\": \"known\"}]}",
                &bl, false);
    assert_int_equal(c.new_failures, 0);
    harness_baseline_comparison_cleanup(&c);
    harness_baseline_cleanup(&bl);
    c = compare(f,
                "{\"etch_baseline\": 1, \"expected\": [{\"scenario\": \"breaks\", \"step\": "
                "\"one\", \"verdict\": \"FAIL\", \"reason\": \"known\"}]}",
                &bl, true);
    assert_int_equal(c.new_failures, 1);
    assert_true(c.is_new[1]);
    harness_baseline_comparison_cleanup(&c);
    harness_baseline_cleanup(&bl);
}

/* What harness_baseline_write writes loads back, and the run it came from matches it. */
static void test_baseline_write_round_trip(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    assert_int_equal(harness_baseline_write(mem, f->results, NUM_SCENARIOS), REF_OK);
    fclose(mem);
    struct harness_baseline bl;
    struct harness_load_error err;
    if (harness_baseline_parse((const uint8_t *)text, len, "w.json", &bl, &err) != REF_OK) {
        fail_msg("%s\n%s", err.message, text);
    }
    assert_int_equal(bl.count, 2);
    assert_string_equal(bl.entries[0].scenario, "breaks");
    assert_string_equal(bl.entries[0].step, "one");
    /* The control byte became a space, the invalid UTF-8 a '?'. */
    assert_string_equal(bl.entries[0].reason, "status: expected 200, got 404 \" ?\"");
    assert_string_equal(bl.entries[1].scenario, "skips");
    assert_null(bl.entries[1].step);
    assert_int_equal(bl.entries[1].verdict, HARNESS_VERDICT_SKIP);
    assert_int_equal(harness_baseline_resolve(&bl, &f->suite, "w.json", &err), REF_OK);
    struct harness_failing_verdicts how = {0};
    struct harness_baseline_comparison c;
    assert_int_equal(harness_baseline_compare(&bl, f->results, NUM_SCENARIOS, &how, &c), REF_OK);
    assert_int_equal(c.new_failures + c.unexpected_passes + c.changed + c.not_checked, 0);
    assert_int_equal(c.expected, 2);
    harness_baseline_comparison_cleanup(&c);
    harness_baseline_cleanup(&bl);
    free(text);

    /* A stream that cannot be written is an error, not a silent short file. */
    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    assert_int_equal(harness_baseline_write(ro, f->results, NUM_SCENARIOS), REF_E_INTERNAL);
    fclose(ro);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_parses_entries),
        cmocka_unit_test(test_baseline_file_size_limit),
        cmocka_unit_test(test_baseline_entry_count_limit),
        cmocka_unit_test(test_baseline_string_limits),
        cmocka_unit_test(test_baseline_errors_say_where_and_why),
        cmocka_unit_test(test_baseline_prefixes_are_refused),
        cmocka_unit_test_setup_teardown(test_baseline_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baseline_compare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baseline_write_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
