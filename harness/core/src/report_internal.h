/* SPDX-License-Identifier: Apache-2.0
 *
 * report_internal.h - what the report writers (report.c, report_repro.c,
 * report_machine.c) share.
 */
#ifndef HARNESS_REPORT_INTERNAL_H
#define HARNESS_REPORT_INTERNAL_H

#include "harness/expect.h"
#include "harness/runner.h"
#include "harness/scenario.h"

#include <stdbool.h>
#include <stddef.h>

/* How much of a request or answer a report shows, raw. */
#define RAW_SHOWN_BYTES 4096

/* One sub-step's part of a concurrent group's allowed outcome, as text: "status 202,
 * error ResourceInUseException". */
void report_outcome_part_text(const struct harness_expect *e, char *text, size_t cap);

/* Skipped scenarios grouped by reason, for the text and HTML reports. The reason of
 * results[i] when it is the first SKIP with that reason, *count getting how many share
 * it; NULL (and 0) for any other scenario. */
const char *
report_skip_group(const struct harness_scenario_result *results, size_t n, size_t i, size_t *count);
/* Whether r is a SKIP for that reason. */
bool report_is_skipped_for(const struct harness_scenario_result *r, const char *reason);

#endif
