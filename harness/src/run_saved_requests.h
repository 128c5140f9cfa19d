/* SPDX-License-Identifier: Apache-2.0
 *
 * run_saved_requests.h - `etch run --save-requests DIR`: the raw bytes of every request
 * of every step that did not pass, one file each (harness_saved_request_path), for
 * `etch send` and `etch handle` to replay.
 */
#ifndef ETCH_RUN_SAVED_REQUESTS_H
#define ETCH_RUN_SAVED_REQUESTS_H

#include "harness/runner.h"

#include <stdbool.h>
#include <stddef.h>

/* Creates dir (and the folders above it) and checks that a file can be written in it,
 * before a run sends anything. false with a message on stderr naming the folder. */
bool etch_saved_requests_prepare(const char *cmd, const char *dir);

/* Writes the requests of the non-passing steps of the results under dir, exactly the
 * bytes that were sent but for a session token other than the contract's test token
 * (harness_redact_session_tokens). *written counts the files. false with a message on stderr at the
 * first file that cannot be written (the ones before it are written). */
bool etch_saved_requests_write(const char *cmd,
                               const char *dir,
                               const struct harness_scenario_result *results,
                               size_t n,
                               size_t *written);

#endif
