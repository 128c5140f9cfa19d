/* SPDX-License-Identifier: Apache-2.0
 *
 * report_groups.h - non-passing scenarios grouped by likely root cause.
 *
 * One fault in an endpoint often fans out: a CancelJob that answers 202 where the contract
 * says 409 breaks every scenario that cancels a job it may not. Two scenarios are in the
 * same group when they have the same verdict, their first failing step is the same call
 * (or step kind) and it broke the same way: the same check with the same expected and
 * actual text once Ids, timestamps, request Ids and the run's name suffix are taken out
 * (or, when no check broke, the same reason). Reports show the groups before the
 * scenarios so that one cause reads as one line.
 */
#ifndef HARNESS_REPORT_GROUPS_H
#define HARNESS_REPORT_GROUPS_H

#include "harness/runner.h"

#include <stdio.h>

#define HARNESS_GROUP_TITLE_BYTES 512
#define HARNESS_GROUP_KEY_BYTES   1024

struct harness_failure_group {
    enum harness_verdict verdict;
    size_t *members; /* indexes into the results, in the order of the results */
    size_t num_members;
    size_t members_cap;
    /* The first member's failing step and its first broken check (NULL: no check broke,
     * the step's reason says what went wrong). */
    const struct harness_step_result *step;
    const struct harness_check_result *check;
    char key[HARNESS_GROUP_KEY_BYTES];
    /* "CancelJob answered 202, expected 409" */
    char title[HARNESS_GROUP_TITLE_BYTES];
};

struct harness_failure_groups {
    struct harness_failure_group *items; /* the largest group first; ties in result order */
    size_t count;
};

/* Groups the results whose verdict is FAIL, ERROR, NOT IMPLEMENTED or DEVIATION.
 * REF_OK, or REF_E_NOMEM (out is then empty). Release with harness_failure_groups_cleanup. */
REF_MUST_CHECK enum ref_status harness_failure_groups_build(
    const struct harness_scenario_result *results, size_t n, struct harness_failure_groups *out);
void harness_failure_groups_cleanup(struct harness_failure_groups *g);

/* The step that gave a non-passing result its verdict (the first step with that verdict)
 * and its first broken check that counts (NULL when none broke). False when the result
 * has no such step. */
bool harness_failure_locate(const struct harness_scenario_result *r,
                            const struct harness_step_result **step,
                            const struct harness_check_result **check);

/* The member of the answer's JSON body a broken body or paths check is about, and the
 * matcher's words on it: "paths.Job" with "Status: expected \"Canceled\", found
 * \"Progressing\"" and "body" with "Job: Status: expected ..." are both about Job.Status,
 * saying "expected \"Canceled\", found \"Progressing\"". Writes the member's path into
 * out ("" for the whole body) and points *detail (may be NULL) into c->actual. False, out
 * "", for a check of anything else (status, error, headers). */
bool harness_check_member(const struct harness_check_result *c,
                          char *out,
                          size_t cap,
                          const char **detail);

/* What a step is, for people: the operation of a call ("CancelJob"), else the kind
 * ("wait", "raw", "concurrent", "hook"). */
const char *harness_step_what(const struct harness_step *step);

/* text with what changes from run to run taken out, into out (always terminated):
 * Ids (13 digits, a dash, 6 word characters) become <Id>, UUIDs <uuid>, ISO 8601 times
 * <time>, runs of 9 or more digits (epoch times) <n>, and name_suffix (may be NULL or
 * "") is removed. */
void harness_failure_normalize(const char *text, const char *name_suffix, char *out, size_t cap);

/* The text report's "likely root causes" section: one line per group of two scenarios or
 * more, nothing when there is none. */
void harness_report_root_causes(FILE *out, const struct harness_scenario_result *results, size_t n);

#endif
