/* SPDX-License-Identifier: Apache-2.0
 *
 * report_internal.h - what the report writers (report.c, report_repro.c,
 * report_machine.c) share.
 */
#ifndef HARNESS_REPORT_INTERNAL_H
#define HARNESS_REPORT_INTERNAL_H

#include "harness/expect.h"
#include "harness/scenario.h"

#include <stddef.h>

/* How much of a request or answer a report shows, raw. */
#define RAW_SHOWN_BYTES 4096

/* One sub-step's part of a concurrent group's allowed outcome, as text: "status 202,
 * error ResourceInUseException". */
void report_outcome_part_text(const struct harness_expect *e, char *text, size_t cap);

#endif
