/* SPDX-License-Identifier: Apache-2.0
 *
 * run_baseline.h - `etch run --baseline FILE` and `--write-baseline FILE`: the expected
 * non-PASS verdicts a run is compared with, and a baseline written from a run.
 *
 * Everything that can make the options unusable is checked before anything runs: the
 * baseline is loaded and every entry must name a scenario (and step) of the suite, and the
 * file to write is created (as a temporary file beside it) so that a run never ends
 * unable to write what it was asked to.
 */
#ifndef ETCH_RUN_BASELINE_H
#define ETCH_RUN_BASELINE_H

#include "cli_util.h"

#include "harness/baseline.h"
#include "harness/runner.h"
#include "harness/scenario.h"

#include <stdbool.h>
#include <stdio.h>

struct etch_baseline_args {
    const char *path;       /* --baseline, NULL when not given */
    const char *write_path; /* --write-baseline, NULL when not given */
    struct harness_baseline baseline;
    struct harness_baseline_comparison comparison;
    bool is_compared;
    /* The file --write-baseline writes first, renamed over write_path once complete. */
    FILE *pending;
    char *pending_path;
};

/* Takes --baseline FILE or --write-baseline FILE at argv[*i]: ETCH_OPTION_TAKEN (with *i
 * past the value), ETCH_OPTION_NOT_MINE, or ETCH_OPTION_BAD (message printed). */
enum etch_option_result
etch_baseline_option(int argc, char **argv, int *i, const char *cmd, struct etch_baseline_args *b);

/* Before the run: loads and resolves the baseline against the suite, and creates the file
 * --write-baseline will become. Returns true to go on; false with a message printed, when
 * the command ends with ETCH_EXIT_USAGE (etch_baseline_close still releases b). */
bool etch_baseline_open(const char *cmd,
                        struct etch_baseline_args *b,
                        const struct harness_suite *suite);

/* After the run, before the reports: compares the results with the baseline (when one
 * was given), marking the expected failures in them. Returns false (message printed)
 * when out of memory. */
bool etch_baseline_compare(const char *cmd,
                           struct etch_baseline_args *b,
                           struct harness_scenario_result *results,
                           size_t n,
                           bool strict,
                           bool allow_unimplemented);

/* After the text report: prints the comparison, and says whether the run failed by the
 * baseline (*failed: a new failure or an unexpected pass); leaves *failed alone without
 * a baseline. */
void etch_baseline_report(FILE *out,
                          const struct etch_baseline_args *b,
                          const struct harness_scenario_result *results,
                          size_t n,
                          bool strict,
                          bool allow_unimplemented,
                          bool *failed);

/* Writes the --write-baseline file from the results (temporary file, then rename); not
 * when the run is not complete (interrupted), since a baseline missing the scenarios
 * that did not run would read as if they had passed. Returns true when written or not
 * asked for; false with a message printed. */
bool etch_baseline_write(const char *cmd,
                         struct etch_baseline_args *b,
                         const struct harness_scenario_result *results,
                         size_t n,
                         bool is_complete);

/* Releases b; a baseline file not written by now leaves nothing behind. */
void etch_baseline_close(struct etch_baseline_args *b);

#endif
