/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario_cmocka.c - runs one scenario file in process as a cmocka group.
 *
 * Usage: scenario_cmocka <fixtures/scenarios/area/name.json>. The group setup loads the
 * file and runs the whole scenario on a fresh in-process reference (steps depend on each
 * other, so they run in order, once); then one cmocka test per step reports that step's
 * verdict, so CI shows which step broke. The tests are built at run time, which is why
 * this calls _cmocka_run_group_tests directly: the cmocka_run_group_tests macro needs an
 * array whose size is known at compile time. A DEVIATION passes (only should-level
 * expectations broke) and prints its details; FAIL, ERROR and NOT IMPLEMENTED fail.
 */
#include "harness/backend.h"
#include "harness/report.h"
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

struct run_state {
    struct harness_scenario *scenario;
    struct harness_scenario_result result;
    bool has_result;
};

static struct run_state s_run;
static const struct harness_report_meta s_meta = {
    .tool = "etch scenario_cmocka",
    .target = "embedded reference (in process)",
    .endpoint = "$ETCH_ENDPOINT",
    .region = "us-east-1",
    .service = "elastictranscoder",
};

static int group_setup(void **state)
{
    (void)state;
    struct harness_inproc_options inproc = {.max_pipelines = s_run.scenario->pipelines};
    struct harness_backend *b = harness_backend_inproc_new(&inproc);
    if (b == NULL) {
        fprintf(stderr, "cannot create the in-process backend\n");
        return -1;
    }
    enum ref_status rc = harness_run_scenario(s_run.scenario, b, &s_run.result);
    harness_backend_free(b);
    if (rc != REF_OK) {
        fprintf(stderr, "cannot run the scenario: %s\n", ref_status_name(rc));
        return -1;
    }
    s_run.has_result = true;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (s_run.has_result) {
        struct harness_summary sum;
        harness_summary_compute(&s_run.result, 1, &sum);
        printf("%s: %s\n", s_run.scenario->display_path,
               harness_verdict_name(s_run.result.verdict));
        harness_report_summary(stdout, &sum);
    }
    return 0;
}

static void test_step(void **state)
{
    const struct harness_step *step = *state;
    const struct harness_step_result *s = &s_run.result.steps[step->index];
    switch (s->verdict) {
        case HARNESS_VERDICT_PASS:
            return;
        case HARNESS_VERDICT_DEVIATION:
            harness_report_step_details(stdout, &s_run.result, s, &s_meta, false);
            return;
        case HARNESS_VERDICT_SKIP:
            print_message("skipped: %s\n", s->reason);
            skip();
            return;
        default:
            fflush(stdout);
            harness_report_step_details(stderr, &s_run.result, s, &s_meta, false);
            fail_msg("step '%s' ended in %s", step->name, harness_verdict_name(s->verdict));
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: scenario_cmocka <scenario.json>\n");
        return 2;
    }
    struct harness_load_error err;
    enum ref_status rc = harness_scenario_load_file(argv[1], NULL, &s_run.scenario, &err);
    if (rc != REF_OK) {
        char text[1200];
        harness_load_error_format(&err, text, sizeof(text));
        fprintf(stderr, "%s\n", text);
        return 2;
    }
    size_t n = s_run.scenario->num_steps;
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    char(*names)[160] = calloc(n, sizeof(*names));
    if (tests == NULL || names == NULL) {
        fprintf(stderr, "out of memory\n");
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        const struct harness_step *step = &s_run.scenario->steps[i];
        snprintf(names[i], sizeof(names[i]), "%02zu-%s", i + 1, step->name);
        tests[i].name = names[i];
        tests[i].test_func = test_step;
        tests[i].initial_state = (void *)(uintptr_t)step;
    }
    char group[256];
    snprintf(group, sizeof(group), "scenario.inproc.%s.%s", s_run.scenario->area,
             s_run.scenario->name);
    int failed = _cmocka_run_group_tests(group, tests, n, group_setup, group_teardown);
    if (s_run.has_result) {
        harness_scenario_result_cleanup(&s_run.result);
    }
    harness_scenario_free(s_run.scenario);
    free(tests);
    free(names);
    return failed == 0 ? 0 : 1;
}
