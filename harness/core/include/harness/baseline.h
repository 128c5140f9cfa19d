/* SPDX-License-Identifier: Apache-2.0
 *
 * baseline.h - a baseline: the non-PASS verdicts a run is known to have, each with the
 * reason it is accepted, so that a target can adopt the suite gradually.
 *
 * The file is JSON (harness/README.md documents it):
 *
 *   { "etch_baseline": 1,
 *     "expected": [ { "scenario": "cancel-twice", "step": "cancel-again",
 *                     "verdict": "FAIL", "reason": "the emulator answers 202 twice" } ] }
 *
 * A run compared with a baseline fails on a new failure (a failing verdict no entry
 * expects) and on an unexpected pass (an entry whose scenario or step now passes), so a
 * baseline only ever shrinks. The loader is a parser of untrusted input: every limit is
 * explicit, every error says where (line and column) and why, and nothing crashes it.
 * A baseline owns its strings; results and suites are only borrowed.
 */
#ifndef HARNESS_BASELINE_H
#define HARNESS_BASELINE_H

#include "harness/runner.h"
#include "harness/scenario.h"

#include "ref/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The format version a file declares ("etch_baseline": 1). */
#define HARNESS_BASELINE_VERSION 1
/* Limits of the loader; each is the largest accepted. */
#define HARNESS_BASELINE_MAX_FILE_BYTES   (1024 * 1024)
#define HARNESS_BASELINE_MAX_ENTRIES      4096
#define HARNESS_BASELINE_MAX_NAME_BYTES   128 /* a scenario or step name */
#define HARNESS_BASELINE_MAX_REASON_BYTES 1024

struct harness_baseline_entry {
    char *scenario; /* owned: a name, or area/name */
    char *step;     /* owned: a top-level step's name; NULL for the whole scenario */
    enum harness_verdict verdict;
    char *reason; /* owned, never empty */
    int line;     /* where the entry starts in the file (1-based; 0 when unknown) */
    int column;
    /* Set by harness_baseline_resolve: what the entry names in the suite. */
    const struct harness_scenario *resolved;
    size_t step_index;
};

struct harness_baseline {
    struct harness_baseline_entry *entries;
    size_t count;
};

/* Parses a baseline from bytes; display_path names it in errors.
 * REF_OK: *out is filled (release it with harness_baseline_cleanup).
 * REF_E_MALFORMED: not a valid baseline; REF_E_TOO_LARGE: over a limit (err says where
 * and why). REF_E_NOMEM. On any error *out is empty. */
REF_MUST_CHECK enum ref_status harness_baseline_parse(const uint8_t *text,
                                                      size_t len,
                                                      const char *display_path,
                                                      struct harness_baseline *out,
                                                      struct harness_load_error *err);

/* Reads and parses the file: as harness_baseline_parse, and REF_E_NOT_FOUND when the
 * file cannot be read, REF_E_TOO_LARGE (before reading it) when it is over the limit. */
REF_MUST_CHECK enum ref_status harness_baseline_load_file(const char *path,
                                                          struct harness_baseline *out,
                                                          struct harness_load_error *err);

void harness_baseline_cleanup(struct harness_baseline *bl);

/* Checks that every entry names a scenario of the suite (by name or area/name) and, when
 * it names a step, a top-level step of that scenario, and records them in the entries.
 * REF_OK, or REF_E_NOT_FOUND with err naming the first entry that names nothing (its
 * line and column in display_path). The suite must outlive the baseline's use. */
REF_MUST_CHECK enum ref_status harness_baseline_resolve(struct harness_baseline *bl,
                                                        const struct harness_suite *suite,
                                                        const char *display_path,
                                                        struct harness_load_error *err);

/* Which verdicts fail a run, as --strict and --allow-unimplemented say. */
struct harness_failing_verdicts {
    bool strict;              /* a DEVIATION fails */
    bool allow_unimplemented; /* a NOT IMPLEMENTED does not */
};

bool harness_verdict_fails(enum harness_verdict v, const struct harness_failing_verdicts *how);

/* A run set against a resolved baseline. */
struct harness_baseline_comparison {
    size_t expected;          /* results whose non-PASS verdict entries expect */
    size_t new_failures;      /* results with a failing verdict no entry expects */
    size_t unexpected_passes; /* entries whose scenario or step passed */
    size_t changed;           /* entries whose scenario or step ended otherwise, not failing */
    size_t not_checked;       /* entries whose scenario was not in the run */
    /* Owned, for harness_baseline_print: one per result, whether it is a new failure;
     * one per entry, what became of it. */
    bool *is_new;
    unsigned char *entry_outcomes;
    enum harness_verdict *entry_actuals;
};

/* Compares the results with the baseline and sets each result's expected_reason (the
 * baseline's reason for its non-PASS verdict, borrowed; NULL when no entry expects it)
 * for the reports. REF_OK or REF_E_NOMEM; release out with
 * harness_baseline_comparison_cleanup. The run fails when new_failures or
 * unexpected_passes is non-zero. */
REF_MUST_CHECK enum ref_status harness_baseline_compare(const struct harness_baseline *bl,
                                                        struct harness_scenario_result *results,
                                                        size_t n,
                                                        const struct harness_failing_verdicts *how,
                                                        struct harness_baseline_comparison *out);

/* Writes what the comparison found: the expected failures with their reasons, the new
 * failures, and the entries that no longer hold (remove or update them). */
void harness_baseline_print(FILE *out,
                            const struct harness_baseline *bl,
                            const struct harness_scenario_result *results,
                            size_t n,
                            const struct harness_failing_verdicts *how,
                            const struct harness_baseline_comparison *c);

void harness_baseline_comparison_cleanup(struct harness_baseline_comparison *c);

/* Writes a baseline listing the run's non-PASS verdicts: a SKIP scenario as one entry,
 * any other as one entry per step with a FAIL, ERROR, NOT IMPLEMENTED or DEVIATION, the
 * reason taken from the step's first broken check (for the user to edit).
 * REF_OK, REF_E_NOMEM, or REF_E_INTERNAL when the stream reports a write error. */
REF_MUST_CHECK enum ref_status
harness_baseline_write(FILE *out, const struct harness_scenario_result *results, size_t n);

#endif
