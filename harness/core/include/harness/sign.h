/* SPDX-License-Identifier: Apache-2.0
 *
 * sign.h - signs a request the harness built, as a scenario step's "sign" says.
 *
 * The runner signs every request it sends through harness_sign_request, with the backend's
 * clock at that moment; tests use it to send signed requests of their own. The headers it
 * adds are the reference's signing result (ref_sigv4_sign_request), changed only by the
 * signature faults a step asks for.
 */
#ifndef HARNESS_SIGN_H
#define HARNESS_SIGN_H

#include "harness/backend.h"
#include "harness/scenario.h"

#include "ref/status.h"

#include <stddef.h>
#include <stdint.h>

/* One header of a built request (owned strings). */
struct harness_header_copy {
    char *name;
    char *value;
};

/* A request built by the caller, to be signed in place. */
struct harness_sign_target {
    const char *method;
    const char *target;
    struct harness_header_copy *headers; /* in/out: the caller's array */
    size_t *num_headers;
    size_t cap_headers;
    const uint8_t *body;
    size_t body_len;
};

/* Appends the headers that sign this request (X-Amz-Date, X-Amz-Security-Token,
 * x-amz-content-sha256 as the mode says) and then Authorization, with the fault the mode
 * names. Nothing for HARNESS_PRINCIPAL_NONE. REF_OK; REF_E_NOT_FOUND when the backend lacks
 * the principal; REF_E_TOO_LARGE when the header array is full; REF_E_NOMEM; anything the
 * signer returns. */
REF_MUST_CHECK enum ref_status harness_sign_request(const struct harness_backend *b,
                                                    const struct harness_sign *sign,
                                                    int64_t now_ms,
                                                    struct harness_sign_target *t);

#endif
