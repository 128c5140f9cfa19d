/* SPDX-License-Identifier: Apache-2.0
 *
 * run_unusable.c - the stand-in result of a run whose target is unusable (run_unusable.h).
 */
#include "run_unusable.h"

#include "harness/text.h"

#include <string.h>

void etch_unusable_init(struct etch_unusable *u, const char *reason)
{
    memset(u, 0, sizeof(*u));
    static char area[] = "preflight";
    static char display_path[] = "preflight/target";
    u->scenario.area = area;
    u->scenario.display_path = display_path;
    u->scenario.path = display_path;
    u->scenario.name = "target";
    u->scenario.description =
        "Before the first scenario, signed calls that change nothing check that the target "
        "is an Elastic Transcoder endpoint that accepts the run's credentials.";
    u->scenario.tags[0] = area;
    u->scenario.num_tags = 1;
    u->scenario.steps = &u->step;
    u->scenario.num_steps = 1;
    u->step.kind = HARNESS_STEP_CALL;
    u->step.name = "preflight";
    u->step.request.op = REF_OP_LIST_PIPELINES;
    u->step_result.step = &u->step;
    u->step_result.verdict = HARNESS_VERDICT_ERROR;
    harness_textf(u->step_result.reason, sizeof(u->step_result.reason), "%s", reason);
    u->result.scenario = &u->scenario;
    u->result.verdict = HARNESS_VERDICT_ERROR;
    u->result.steps = &u->step_result;
    u->result.num_steps = 1;
}
