/* SPDX-License-Identifier: Apache-2.0
 *
 * suite_cli.h - the suite options shared by `etch run`, `etch list` and `etch diff`:
 * where the scenarios are, which ones are selected, and a worker pool to run them.
 */
#ifndef ETCH_SUITE_CLI_H
#define ETCH_SUITE_CLI_H

#include "cli_util.h"

#include "harness/scenario.h"

#include <stdbool.h>
#include <stddef.h>

#define ETCH_MAX_SELECTORS 64
#define ETCH_MAX_WORKERS   32
/* --scenarios folders of one run; they add up. */
#define ETCH_MAX_SCENARIO_DIRS 16

struct etch_selection {
    /* The suite folders as a header shows them ("a" or "a, b"), set by
     * etch_selection_finish. */
    const char *scenarios_dir;
    const char *scenarios_dirs[ETCH_MAX_SCENARIO_DIRS];
    size_t num_scenarios_dirs;
    char scenarios_label[1024];
    const char *tags[ETCH_MAX_SELECTORS];
    size_t num_tags;
    const char *names[ETCH_MAX_SELECTORS];
    size_t num_names;
    const char *excludes[ETCH_MAX_SELECTORS];
    size_t num_excludes;
};

/* True when argv[i] needs a value and has none (the message is printed). */
bool etch_missing_value(int argc, char **argv, int i, const char *cmd);

/* Takes one selection option at argv[*i] (--scenarios, which add up, --tag, and with allow_names
 * --scenario and --exclude), moving *i past its value. Returns ETCH_OPTION_TAKEN,
 * ETCH_OPTION_NOT_MINE for any other option, or ETCH_OPTION_BAD (message printed) for a
 * missing value or too many of one selector. */
enum etch_option_result etch_selection_option(
    int argc, char **argv, int *i, const char *cmd, bool allow_names, struct etch_selection *sel);

/* Fills in the default folder when no --scenarios named one: $ETCH_SCENARIOS, else the
 * source tree's, else the installed copy; and the folders' label (scenarios_dir). The
 * selection must stay where it is afterwards (the label may point into it). */
void etch_selection_finish(struct etch_selection *sel);

/* Loads the suite: the scenarios of every folder, in the order the folders were given.
 * Returns true on success (harness_suite_cleanup releases it); false when a file is
 * broken, a folder has none, or two folders have a scenario of the same name, with a
 * message printed: the command then ends with ETCH_EXIT_USAGE. */
bool etch_load_suite(const char *cmd,
                     const struct etch_selection *sel,
                     struct harness_suite *suite);

/* Marks the selected scenarios (all when there is no selector; --exclude removes by name,
 * area/name or tag) and counts them in *count. Every --scenario, --tag and --exclude must
 * match something. Returns true on success; false with a message printed when one matches
 * nothing: the command then ends with ETCH_EXIT_USAGE. */
bool etch_select(const char *cmd,
                 const struct etch_selection *sel,
                 const struct harness_suite *suite,
                 bool *selected,
                 size_t *count);

/* The scenarios one `etch run` or `etch diff` works through: the loaded suite and, for
 * each of the count selected scenarios in suite order, its suite index, whether a worker
 * started it (false: the run was interrupted first) and its status. */
struct etch_plan {
    struct harness_suite suite;
    size_t count;
    size_t *order;
    bool *ran;
    enum ref_status *statuses;
};

/* Loads the suite and applies the selection (etch_load_suite, etch_select). Returns true
 * on success, when etch_plan_cleanup releases the plan; false with a message printed (a
 * broken suite, a selector that matches nothing, or no memory), when there is nothing to
 * release and the command ends with ETCH_EXIT_USAGE. */
bool etch_plan_open(const char *cmd, const struct etch_selection *sel, struct etch_plan *plan);

void etch_plan_cleanup(struct etch_plan *plan);

/* Calls fn(ctx, worker, item) for item 0..n-1 on `workers` threads (worker 0..workers-1),
 * each item once; returns when all are done. With one worker everything runs on the
 * calling thread. */
void etch_run_workers(size_t n,
                      size_t workers,
                      void (*fn)(void *ctx, size_t worker, size_t item),
                      void *ctx);

/* Parses a whole number from min to max for an option; false (message printed) otherwise. */
bool etch_parse_count(const char *cmd,
                      const char *option,
                      const char *text,
                      long long min,
                      long long max,
                      long long *out);

#endif
