/* SPDX-License-Identifier: Apache-2.0
 *
 * replay.h - a failing step's requests replayed later, byte for byte: where a run saves
 * them (`etch run --save-requests DIR`), and a saved request signed again at another time
 * (`etch send --resign`), since a signature carries its X-Amz-Date and a faithful endpoint
 * refuses it once the clock is past the skew window.
 */
#ifndef HARNESS_REPLAY_H
#define HARNESS_REPLAY_H

#include "harness/runner.h"

#include "ref/buf.h"
#include "ref/sigv4.h"
#include "ref/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest file name (before ".http") a saved request gets from a scenario or step. */
#define HARNESS_SAVED_NAME_BYTES 100

/* A file name from any text, usable on every common filesystem: letters, digits, '.', '-'
 * and '_' are kept, any other byte becomes '_', a leading '.' becomes '_', a name Windows
 * reserves (CON, NUL, COM1, ...) gets a leading '_', and it is cut to cap - 1 bytes. Never
 * empty ("_"). cap is at least 8. */
void harness_safe_file_name(const char *in, char *out, size_t cap);

/* Whether a run saves a step's requests: its verdict is not a pass (FAIL, ERROR,
 * DEVIATION, NOT IMPLEMENTED), as the failure blocks show them. */
bool harness_step_needs_replay(const struct harness_step_result *s);

/* "<dir>/<scenario>/<step>.http", or "<step>-<n>.http" (n from 1) for the n-th of a step
 * that sent several requests (a concurrent group). False when it does not fit in cap. */
bool harness_saved_request_path(const char *dir,
                                const struct harness_scenario *sc,
                                const struct harness_step_result *s,
                                size_t exchange_index,
                                char *out,
                                size_t cap);

/* The value a saved request's X-Amz-Security-Token gets in place of a token that is not
 * the contract's test token. */
#define HARNESS_REDACTED_TOKEN "REDACTED-SESSION-TOKEN"

/* Appends request to out with the value of every X-Amz-Security-Token header that is not
 * keep (the contract's temporary test principal's token) replaced by
 * HARNESS_REDACTED_TOKEN, so a saved request never holds a session token of real
 * credentials; `etch send --resign` puts the environment's token back and signs again.
 * *redacted says whether one was replaced. Only the head is looked at. REF_OK, or the
 * buffer's status. */
REF_MUST_CHECK enum ref_status harness_redact_session_tokens(struct ref_slice request,
                                                             const char *keep,
                                                             struct ref_buf *out,
                                                             bool *redacted);

/* Signs a request written with its own SigV4 Authorization again, as at now_s: X-Amz-Date
 * and the scope's day become now_s's, the access key id the credential's (the one of
 * creds with the request's access key id, else the first), an X-Amz-Security-Token the
 * credential's token when it has one, and the signature is computed for the request so
 * changed (with the Authorization's own SignedHeaders, region and service). Every other
 * byte stays. REF_OK; REF_E_MALFORMED with why filled when the request cannot be signed
 * again (not a well-formed request, no Authorization or X-Amz-Date of the SigV4 form, no
 * credential); REF_E_NOMEM, REF_E_TOO_LARGE from the buffer. */
REF_MUST_CHECK enum ref_status harness_resign_at(struct ref_buf *request,
                                                 const struct ref_credential *const *creds,
                                                 size_t num_creds,
                                                 int64_t now_s,
                                                 char *why,
                                                 size_t why_cap);

#endif
