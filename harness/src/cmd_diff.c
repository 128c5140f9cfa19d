/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_diff.c - `etch diff`: the suite on two targets, and where their answers part ways.
 *
 * Target A is always a live endpoint; B is a second one, or by default the embedded
 * reference run the way a live endpoint is (real clock, no hooks, the same isolation),
 * so that A is compared with the reference on equal terms. Each scenario runs on A, then
 * on B, and the two results are compared step by step (diff.h says how and what is
 * normalised). The verdicts of each side are not the point here: a step that fails the
 * same way on both shows no difference.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/commands.h"
#include "live_cli.h"
#include "suite_cli.h"

#include "harness/backend.h"
#include "harness/diff.h"
#include "harness/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct diff_options {
    struct etch_selection sel;
    struct etch_live_args live;
    bool no_color;
    bool verbose;
};

static void diff_usage(FILE *out)
{
    fprintf(out,
            "usage: etch diff --endpoint A [--endpoint B] [live endpoint options] [options]\n"
            "\n"
            "Runs every selected scenario on target A and on target B (by default the embedded\n"
            "reference, run as a live endpoint would be: real clock, no in-process hooks) and\n"
            "prints, per step, the differences a client could see: whether an answer came, its\n"
            "status, its error code, its wire form (Content-Type, x-amzn-RequestId,\n"
            "x-amzn-ErrorType, Content-Length, JSON or not) and its body fields (present or\n"
            "missing, their types, and the values of strings and booleans). Request ids, dates,\n"
            "the Ids each target generated (matched through the scenario's captures), pipeline\n"
            "name suffixes and error message wording are normalised away first.\n"
            "\n"
            "options:\n"
            "  --scenario NAME     compare this scenario (name or area/name); repeatable\n"
            "  --tag TAG           compare the scenarios with this tag (or area); repeatable\n"
            "  --exclude NAME|TAG  leave out the scenarios with this name, area/name or tag\n"
            "  --scenarios DIR     the suite folder (default: $ETCH_SCENARIOS, else the\n"
            "                      built-in suite)\n"
            "  --verbose           also list the steps that could not be compared, and why\n"
            "  --no-color          no colour even on a terminal (NO_COLOR is honoured too)\n"
            "  --help              this text\n"
            "\n"
            "%s"
            "                            (credentials and region apply to both endpoints; the\n"
            "                            embedded reference knows the contract's principals)\n"
            "\n"
            "exit status:\n"
            "  0  no difference\n"
            "  1  a difference\n"
            "  2  bad usage or a broken scenario file\n"
            "  3  a target could not be reached (nothing ran)\n",
            etch_live_usage);
}

/* Reads the options of `etch diff` into *o. Returns true to go on; false when the command
 * ends here, with *exit_status ETCH_EXIT_PASS after --help, or ETCH_EXIT_USAGE for a usage
 * error (message printed). */
static bool parse_options(int argc, char **argv, struct diff_options *o, int *exit_status)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            diff_usage(stdout);
            *exit_status = ETCH_EXIT_PASS;
            return false;
        }
        enum etch_option_result taken =
            etch_selection_option(argc, argv, &i, "diff", true, &o->sel);
        if (taken == ETCH_OPTION_NOT_MINE) {
            taken = etch_live_option(argc, argv, &i, "diff", ETCH_MAX_ENDPOINTS, &o->live);
        }
        if (taken == ETCH_OPTION_BAD) {
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
        if (taken == ETCH_OPTION_TAKEN) {
            continue;
        }
        if (strcmp(a, "--no-color") == 0) {
            o->no_color = true;
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else {
            fprintf(stderr, "etch diff: unknown option '%s' (see etch diff --help)\n", a);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
    }
    if (o->live.num_endpoints == 0) {
        fprintf(stderr, "etch diff: --endpoint URL is required (see etch diff --help)\n");
        *exit_status = ETCH_EXIT_USAGE;
        return false;
    }
    etch_selection_finish(&o->sel);
    return true;
}

struct diff_job {
    const struct harness_suite *suite;
    size_t *order;
    struct harness_scenario_diff *diffs;
    enum ref_status *statuses;
    bool *ran; /* false: not started, the run was interrupted */
    struct etch_live_run *live;
    bool has_b_endpoint;
};

static void diff_one(void *ctx, size_t worker, size_t item)
{
    struct diff_job *job = ctx;
    if (etch_live_interrupted()) {
        return;
    }
    job->ran[item] = true;
    const struct harness_scenario *sc = job->suite->items[job->order[item]];
    struct harness_backend *a = etch_live_backend(job->live, 0, worker);
    struct harness_inproc_options live_like = {.is_live_like = true};
    struct harness_backend *b = job->has_b_endpoint ? etch_live_backend(job->live, 1, worker)
                                                    : harness_backend_inproc_new(&live_like);
    if (b != NULL && !job->has_b_endpoint) {
        b->interrupted = etch_live_interrupt_flag();
        /* A fresh reference per scenario, dropped afterwards: cleanup need not wait for
         * its running jobs. */
        b->cleanup_timeout_ms = 1;
    }
    struct harness_scenario_result ra;
    struct harness_scenario_result rb;
    enum ref_status rc = b != NULL ? REF_OK : REF_E_NOMEM;
    bool has_a = false;
    bool has_b = false;
    if (rc == REF_OK) {
        rc = harness_run_scenario(sc, a, &ra);
        has_a = rc == REF_OK;
    }
    if (rc == REF_OK) {
        rc = harness_run_scenario(sc, b, &rb);
        has_b = rc == REF_OK;
    }
    if (rc == REF_OK) {
        rc = harness_diff_scenario(&ra, &rb, &job->diffs[item]);
    }
    if (has_a) {
        harness_scenario_result_cleanup(&ra);
    }
    if (has_b) {
        harness_scenario_result_cleanup(&rb);
    }
    if (!job->has_b_endpoint) {
        harness_backend_free(b);
    }
    job->statuses[item] = rc;
}

/* Prints the differences of every scenario that ran and the summary. Returns the exit
 * status: ETCH_EXIT_FAIL for a difference, a scenario the runner could not run or
 * compare, or scenarios an interruption kept from running; else ETCH_EXIT_PASS. */
static int report_diffs(const struct diff_options *o,
                        const struct etch_plan *plan,
                        const struct harness_scenario_diff *diffs)
{
    bool color = !o->no_color && getenv("NO_COLOR") == NULL && isatty(fileno(stdout));
    size_t n = plan->count;
    size_t same = 0;
    size_t different = 0;
    size_t not_compared = 0;
    size_t differences = 0;
    size_t not_run = 0;
    int exit_status = ETCH_EXIT_PASS;
    for (size_t k = 0; k < n; k++) {
        if (!plan->ran[k]) {
            not_run++;
            continue;
        }
        if (plan->statuses[k] != REF_OK) {
            fprintf(stderr, "etch diff: %s: %s\n", plan->suite.items[plan->order[k]]->display_path,
                    ref_status_name(plan->statuses[k]));
            exit_status = ETCH_EXIT_FAIL;
            continue;
        }
        harness_diff_report_text(stdout, &diffs[k], o->verbose, color);
        differences += diffs[k].differences;
        if (diffs[k].differences > 0) {
            different++;
        } else if (diffs[k].compared > 0) {
            same++;
        } else {
            not_compared++;
        }
    }
    printf("\nsummary: %zu scenarios: %zu same, %zu different (%zu difference%s), %zu not "
           "compared (nothing ran on both targets)\n",
           n - not_run, same, different, differences, differences == 1 ? "" : "s", not_compared);
    if (different > 0) {
        exit_status = ETCH_EXIT_FAIL;
    }
    if (not_run > 0) {
        fprintf(stderr, "etch diff: interrupted: %zu of %zu scenarios were not compared\n", not_run,
                n);
        exit_status = ETCH_EXIT_FAIL;
    }
    return exit_status;
}

int etch_cmd_diff(int argc, char **argv)
{
    struct diff_options o;
    int exit_status = ETCH_EXIT_USAGE;
    if (!parse_options(argc, argv, &o, &exit_status)) {
        return exit_status;
    }
    struct etch_plan plan;
    if (!etch_plan_open("diff", &o.sel, &plan)) {
        return ETCH_EXIT_USAGE;
    }
    const struct harness_suite *suite = &plan.suite;
    struct harness_scenario_diff *diffs = calloc(suite->count, sizeof(*diffs));
    struct etch_live_run *live = NULL;
    size_t n = 0; /* scenarios handed to the workers: none until the clocks are checked */
    if (diffs == NULL) {
        fprintf(stderr, "etch diff: out of memory\n");
        exit_status = ETCH_EXIT_USAGE;
        goto out;
    }
    if ((live = etch_live_open("diff", &o.live, &exit_status)) == NULL) {
        goto out;
    }
    bool has_b_endpoint = o.live.num_endpoints > 1;
    struct harness_backend *a = etch_live_backend(live, 0, 0);
    const char *b_text = has_b_endpoint ? etch_live_backend(live, 1, 0)->description
                                        : "embedded reference (in process, real time, no hooks)";
    printf("etch %s diff: A %s | B %s\n", ETCH_VERSION, a->description, b_text);
    etch_live_print_principals(stdout, live);
    printf("scenarios: %s (%zu of %zu selected), %zu worker%s\n", o.sel.scenarios_dir, plan.count,
           suite->count, etch_live_workers(live), etch_live_workers(live) == 1 ? "" : "s");
    fflush(stdout);
    for (size_t e = 0; e < o.live.num_endpoints; e++) {
        printf("%s ", e == 0 ? "A" : "B");
        char why[ETCH_MESSAGE_BYTES];
        if (!etch_live_check_clock(stdout, &o.live, etch_live_backend(live, e, 0), why,
                                   sizeof(why))) {
            fprintf(stderr, "etch diff: %s; nothing was run\n", why);
            exit_status = ETCH_EXIT_TARGET_UNUSABLE;
            goto out;
        }
    }
    printf("\n");
    fflush(stdout);
    n = plan.count;
    struct diff_job job = {
        .suite = suite,
        .order = plan.order,
        .diffs = diffs,
        .statuses = plan.statuses,
        .ran = plan.ran,
        .live = live,
        .has_b_endpoint = has_b_endpoint,
    };
    etch_live_watch_signals(live);
    etch_run_workers(n, etch_live_workers(live), diff_one, &job);
    exit_status = report_diffs(&o, &plan, diffs);
out:
    for (size_t k = 0; k < n; k++) {
        harness_scenario_diff_cleanup(&diffs[k]);
    }
    etch_live_close(live);
    free(diffs);
    etch_plan_cleanup(&plan);
    return exit_status;
}
