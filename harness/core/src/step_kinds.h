/* SPDX-License-Identifier: Apache-2.0
 *
 * step_kinds.h - the kinds of scenario step, once: for each, the member that names it, how
 * messages call it, the keys it allows at the top of a scenario and inside a concurrent
 * step, the loader's parse function, the runner's run function, and whether it needs
 * hooks (in process, or test control on a live endpoint).
 *
 * The loader (scenario_steps.c) and the runner (runner.c) each expand STEP_KIND_LIST into
 * their own table, taking the columns they use; the names in the other columns need not
 * exist where a column is not taken. Messages list the kinds in this order.
 */
#ifndef HARNESS_STEP_KINDS_H
#define HARNESS_STEP_KINDS_H

/* X(kind, key, noun, top_keys, sub_keys or NULL, parse, run, needs_hooks) */
#define STEP_KIND_LIST(X)                                                                          \
    X(HARNESS_STEP_CALL, "call", "a call", s_call_top_keys, s_call_sub_keys, parse_call_step,      \
      run_request_step, false)                                                                     \
    X(HARNESS_STEP_RAW, "raw", "a raw request", s_raw_top_keys, s_raw_sub_keys, parse_raw_step,    \
      run_request_step, false)                                                                     \
    X(HARNESS_STEP_WAIT, "wait", "a wait", s_wait_keys, NULL, parse_wait, run_wait_step, false)    \
    X(HARNESS_STEP_CONCURRENT, "concurrent", "a concurrent step", s_concurrent_keys, NULL,         \
      parse_concurrent, runner_run_concurrent_step, false)                                         \
    X(HARNESS_STEP_SEED_PIPELINE, "seed_pipeline", "a seed_pipeline step", s_seed_pipeline_keys,   \
      NULL, parse_seed_pipeline, run_hook_step, true)                                              \
    X(HARNESS_STEP_SEED_JOB, "seed_job", "a seed_job step", s_seed_job_keys, NULL, parse_seed_job, \
      run_hook_step, true)                                                                         \
    X(HARNESS_STEP_CLOCK, "clock", "a clock step", s_clock_keys, s_clock_keys, parse_clock_step,   \
      run_hook_step, true)                                                                         \
    X(HARNESS_STEP_FAIL_JOB, "fail_job", "a fail_job step", s_fail_job_keys, NULL, parse_fail_job, \
      run_hook_step, true)

#endif
