/* SPDX-License-Identifier: Apache-2.0
 *
 * diff.h - differential runs: where two targets answered one scenario differently.
 *
 * Both runs of a scenario are compared step by step, on what a client can tell apart:
 * whether an answer came, its status, its error code as clients derive it, its wire form
 * (the contract's headers, JSON or not, Content-Length) and the fields of its JSON body,
 * present or missing, with their types and, for strings, booleans and null, their values.
 * What legitimately differs is normalised first: request ids, dates and times, the Ids
 * each target generated (matched through the scenario's captures: both sides' ${jobId}
 * compare equal), the run's pipeline name suffix, and the wording of error messages.
 * Pure functions over runner results: no I/O except the text report.
 */
#ifndef HARNESS_DIFF_H
#define HARNESS_DIFF_H

#include "harness/runner.h"

#include <jansson.h>

#include <stdio.h>

#define HARNESS_DIFF_TEXT_BYTES 200
#define HARNESS_DIFF_MAX_ITEMS  32 /* per step; more are counted, not listed */

struct harness_diff_item {
    char what[HARNESS_MAX_JSON_PATH_BYTES + 32]; /* "status", "body Job.Timing" */
    char a[HARNESS_DIFF_TEXT_BYTES];
    char b[HARNESS_DIFF_TEXT_BYTES];
};

struct harness_step_diff {
    const struct harness_step *step;
    bool is_compared;
    char note[HARNESS_DIFF_TEXT_BYTES]; /* why it was not compared */
    struct harness_diff_item items[HARNESS_DIFF_MAX_ITEMS];
    size_t num_items;   /* listed */
    size_t differences; /* all, listed or not */
};

struct harness_scenario_diff {
    const struct harness_scenario *scenario;
    struct harness_step_diff *steps; /* one per step; heap */
    size_t num_steps;
    size_t compared;    /* steps compared on both sides */
    size_t differences; /* over all steps */
};

/* Compares the two runs of one scenario (both results of the same scenario).
 * REF_OK; REF_E_NOMEM. Release with harness_scenario_diff_cleanup. */
REF_MUST_CHECK enum ref_status harness_diff_scenario(const struct harness_scenario_result *a,
                                                     const struct harness_scenario_result *b,
                                                     struct harness_scenario_diff *out);
void harness_scenario_diff_cleanup(struct harness_scenario_diff *d);

/* A copy of a body with what legitimately differs replaced by placeholders: every
 * variable value of Id shape by "${name}", other Ids by "<id>", UUIDs by "<uuid>",
 * SigV4 and HTTP dates by "<date>", the name suffix removed. NULL when out of memory.
 * vars and name_suffix may be NULL. Exposed for tests. */
json_t *
harness_diff_normalise(json_t *body, const struct harness_vars *vars, const char *name_suffix);

/* Lists the differences between two normalised bodies under path ("" for the root),
 * appending to d. Exposed for tests. */
void harness_diff_bodies(json_t *a, json_t *b, const char *path, struct harness_step_diff *d);

/* One line per scenario ("same" or "DIFF"), the differences under it, the steps that
 * could not be compared (verbose only). */
void harness_diff_report_text(FILE *out,
                              const struct harness_scenario_diff *d,
                              bool verbose,
                              bool color);

#endif
