/* SPDX-License-Identifier: Apache-2.0
 *
 * run_unusable.h - the result a run reports when its target turned out unusable before
 * the first scenario (unreachable, not HTTP, not an Elastic Transcoder endpoint,
 * credentials refused): one scenario, "preflight/target", whose one step is an ERROR with
 * the reason. Every report format then says why in its own way (a JUnit test case with an
 * error, a TAP "not ok", a JSON line), and a CI page shows the reason instead of an empty
 * or missing file.
 */
#ifndef ETCH_RUN_UNUSABLE_H
#define ETCH_RUN_UNUSABLE_H

#include "harness/runner.h"
#include "harness/scenario.h"

struct etch_unusable {
    struct harness_scenario scenario;
    struct harness_step step;
    struct harness_step_result step_result;
    struct harness_scenario_result result;
};

/* Fills *u; reason is copied (truncated to a step reason's size). */
void etch_unusable_init(struct etch_unusable *u, const char *reason);

#endif
