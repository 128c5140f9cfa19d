/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_baseline.c - the baseline loader of `etch run --baseline` and what runs on what it
 * accepts.
 *
 * Target functions: harness_baseline_parse, harness_baseline_resolve,
 * harness_baseline_compare, harness_baseline_print and harness_load_error_format.
 *
 * Input: the bytes of a baseline file. Accepted files are resolved against a fixed suite of
 * two scenarios ("breaks" with steps "one" and "two", in area "a"; "passes" with step
 * "one"), which the seeds name so that resolving and comparing are reached, and compared
 * with a fixed run (breaks FAILs at step one, step two not run; passes PASSes).
 *
 * Invariants (abort() on violation):
 * - a failure is REF_E_MALFORMED, REF_E_TOO_LARGE or REF_E_NOMEM with an empty baseline and
 *   an error whose file and message are NUL-terminated, the message not empty, line and
 *   column not negative; the formatter always terminates;
 * - a success holds at most HARNESS_BASELINE_MAX_ENTRIES entries, each with a scenario
 *   name and a reason of 1 to their limit of bytes and no control character, a step name
 *   that is NULL or within its limit, a verdict other than NONE and PASS, and a line from 1;
 * - parsing is deterministic;
 * - resolving gives REF_OK, REF_E_NOT_FOUND or REF_E_MALFORMED (a duplicate), the latter
 *   two with a message; after REF_OK every entry names a scenario of the suite and a step
 *   inside it, and the comparison accounts for every entry exactly once;
 * - everything is released (LeakSanitizer checks).
 */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include "harness/baseline.h"
#include "harness/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_SCENARIOS 2

static struct harness_scenario *s_items[NUM_SCENARIOS];
static struct harness_suite s_suite = {.items = s_items, .count = NUM_SCENARIOS};
static struct harness_step_result s_steps[NUM_SCENARIOS][2];
static struct harness_scenario_result s_results[NUM_SCENARIOS];

static struct harness_scenario *load(const char *name, const char *steps)
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"name\":\"%s\",\"description\":\"d\",\"source\":\"model\",\"steps\":[%s]}", name,
             steps);
    char path[64];
    snprintf(path, sizeof(path), "a/%s.json", name);
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    FUZZ_CHECK(harness_scenario_load_buffer((const uint8_t *)text, strlen(text), path, "a", NULL,
                                            &sc, &err) == REF_OK);
    return sc;
}

/* Loads the suite and builds the run once, on the first input. */
static void init_once(void)
{
    static bool is_ready = false;
    if (is_ready) {
        return;
    }
    is_ready = true;
    const char *step = "{\"name\":\"%s\",\"call\":\"ListPipelines\",\"expect\":{\"status\":200}}";
    char one[128];
    char two[128];
    char both[300];
    snprintf(one, sizeof(one), step, "one");
    snprintf(two, sizeof(two), step, "two");
    snprintf(both, sizeof(both), "%s,%s", one, two);
    s_items[0] = load("breaks", both);
    s_items[1] = load("passes", one);
    static const enum harness_verdict verdicts[NUM_SCENARIOS][3] = {
        {HARNESS_VERDICT_FAIL, HARNESS_VERDICT_FAIL, HARNESS_VERDICT_SKIP},
        {HARNESS_VERDICT_PASS, HARNESS_VERDICT_PASS, HARNESS_VERDICT_NONE},
    };
    for (size_t i = 0; i < NUM_SCENARIOS; i++) {
        s_results[i].scenario = s_items[i];
        s_results[i].verdict = verdicts[i][0];
        s_results[i].steps = s_steps[i];
        s_results[i].num_steps = s_items[i]->num_steps;
        for (size_t k = 0; k < s_items[i]->num_steps; k++) {
            s_steps[i][k].step = &s_items[i]->steps[k];
            s_steps[i][k].verdict = verdicts[i][k + 1];
        }
    }
}

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void check_error(const struct harness_load_error *err)
{
    FUZZ_CHECK(terminated(err->file, sizeof(err->file)));
    FUZZ_CHECK(terminated(err->message, sizeof(err->message)));
    FUZZ_CHECK(err->message[0] != '\0');
    FUZZ_CHECK(err->line >= 0 && err->column >= 0);
    char small[8];
    char big[2048];
    harness_load_error_format(err, small, sizeof(small));
    harness_load_error_format(err, big, sizeof(big));
    FUZZ_CHECK(terminated(small, sizeof(small)) && terminated(big, sizeof(big)));
}

static bool is_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

static void check_entries(const struct harness_baseline *bl)
{
    FUZZ_CHECK(bl->count <= HARNESS_BASELINE_MAX_ENTRIES);
    FUZZ_CHECK(bl->count == 0 || bl->entries != NULL);
    for (size_t i = 0; i < bl->count; i++) {
        const struct harness_baseline_entry *e = &bl->entries[i];
        FUZZ_CHECK(is_text(e->scenario, HARNESS_BASELINE_MAX_NAME_BYTES));
        FUZZ_CHECK(e->step == NULL || is_text(e->step, HARNESS_BASELINE_MAX_NAME_BYTES));
        FUZZ_CHECK(is_text(e->reason, HARNESS_BASELINE_MAX_REASON_BYTES));
        FUZZ_CHECK(e->verdict > HARNESS_VERDICT_NONE && e->verdict < HARNESS_VERDICT_COUNT &&
                   e->verdict != HARNESS_VERDICT_PASS);
        FUZZ_CHECK(e->line >= 1 && e->column >= 1);
    }
}

static void check_resolved(struct harness_baseline *bl)
{
    struct harness_load_error err;
    enum ref_status rc = harness_baseline_resolve(bl, &s_suite, "fuzz.json", &err);
    if (rc != REF_OK) {
        FUZZ_CHECK(rc == REF_E_NOT_FOUND || rc == REF_E_MALFORMED);
        check_error(&err);
        return;
    }
    for (size_t i = 0; i < bl->count; i++) {
        const struct harness_baseline_entry *e = &bl->entries[i];
        FUZZ_CHECK(e->resolved == s_items[0] || e->resolved == s_items[1]);
        FUZZ_CHECK(e->step == NULL || e->step_index < e->resolved->num_steps);
    }
    for (int strict = 0; strict < 2; strict++) {
        struct harness_failing_verdicts how = {.strict = strict != 0};
        struct harness_baseline_comparison c;
        enum ref_status crc = harness_baseline_compare(bl, s_results, NUM_SCENARIOS, &how, &c);
        if (crc == REF_E_NOMEM) {
            continue;
        }
        FUZZ_CHECK(crc == REF_OK);
        FUZZ_CHECK(c.unexpected_passes + c.changed + c.not_checked <= bl->count);
        FUZZ_CHECK(c.expected + c.new_failures <= NUM_SCENARIOS);
        /* The failing scenario is either expected or new, never both or neither. */
        FUZZ_CHECK((s_results[0].expected_reason != NULL) != c.is_new[0]);
        FUZZ_CHECK(s_results[1].expected_reason == NULL && !c.is_new[1]);
        FILE *sink = fopen("/dev/null", "w");
        if (sink != NULL) {
            harness_baseline_print(sink, bl, s_results, NUM_SCENARIOS, &how, &c);
            fclose(sink);
        }
        harness_baseline_comparison_cleanup(&c);
        s_results[0].expected_reason = NULL;
        s_results[1].expected_reason = NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    struct harness_baseline bl;
    struct harness_load_error err;
    enum ref_status rc = harness_baseline_parse(data, size, "fuzz.json", &bl, &err);
    if (rc != REF_OK) {
        FUZZ_CHECK(rc == REF_E_MALFORMED || rc == REF_E_TOO_LARGE || rc == REF_E_NOMEM);
        FUZZ_CHECK(bl.count == 0 && bl.entries == NULL);
        check_error(&err);
        struct harness_baseline again;
        struct harness_load_error err2;
        FUZZ_CHECK(harness_baseline_parse(data, size, "fuzz.json", &again, &err2) == rc);
        FUZZ_CHECK(strcmp(err.message, err2.message) == 0 && err.line == err2.line);
        return 0;
    }
    check_entries(&bl);
    struct harness_baseline again;
    struct harness_load_error err2;
    FUZZ_CHECK(harness_baseline_parse(data, size, "fuzz.json", &again, &err2) == REF_OK);
    FUZZ_CHECK(again.count == bl.count);
    for (size_t i = 0; i < bl.count; i++) {
        FUZZ_CHECK(strcmp(again.entries[i].scenario, bl.entries[i].scenario) == 0);
        FUZZ_CHECK(strcmp(again.entries[i].reason, bl.entries[i].reason) == 0);
        FUZZ_CHECK(again.entries[i].verdict == bl.entries[i].verdict);
    }
    harness_baseline_cleanup(&again);
    check_resolved(&bl);
    harness_baseline_cleanup(&bl);
    return 0;
}
