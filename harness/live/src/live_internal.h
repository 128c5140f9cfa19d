/* SPDX-License-Identifier: Apache-2.0
 *
 * live_internal.h - what the live backend (backend_live.c) and its test-control client
 * (live_control.c) share: the control state kept per backend, and the hooks the backend
 * offers once the endpoint has shown it has test control (contract section 9).
 */
#ifndef HARNESS_LIVE_INTERNAL_H
#define HARNESS_LIVE_INTERNAL_H

#include "harness/backend.h"
#include "harness/http_response.h"

#include "ref/buf.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdint.h>

/* Per backend. The endpoint's clock is one for all its clients, but a scenario that moves
 * it runs alone, so each backend may track what it last set. */
struct live_control {
    bool is_on;         /* discovery succeeded: the hooks go through control */
    bool is_virtual;    /* a clock call made the endpoint's clock stand still */
    int64_t virtual_ms; /* the endpoint's clock when is_virtual */
};

/* The control state of a live backend. */
struct live_control *live_control_of(struct harness_backend *b);

/* Switches b's operations to the table with hooks (called after discovery). */
void live_enable_hooks(struct harness_backend *b);

/* The hooks of harness_backend_ops, through the control endpoints. */
enum ref_status live_control_seed_pipeline(struct harness_backend *b,
                                           const char *id,
                                           const char *name,
                                           const char *status);
enum ref_status live_control_seed_job(struct harness_backend *b,
                                      const char *id,
                                      const char *pipeline_id,
                                      const char *status);
enum ref_status live_control_fail_job(struct harness_backend *b, const char *id);
void live_control_set_clock_ms(struct harness_backend *b, int64_t now_ms);
bool live_control_next_event_ms(struct harness_backend *b, int64_t *when_ms);
void live_control_tick(struct harness_backend *b);

/* An answer to live_signed_exchange: the raw bytes and what was parsed from them. */
struct live_answer {
    struct harness_http_response http; /* borrows from raw (or body, chunked) */
    json_t *json;                      /* the body as JSON; NULL when it is not JSON */
    char error_code[128];              /* as clients derive it (contract section 4), or "" */
    struct ref_buf raw;
    struct ref_buf body;
};

/* Sends one request built here, signed by the main principal at the backend's clock:
 * method, path (no query) and an optional JSON body. REF_OK when an HTTP answer came
 * (*out has it); REF_E_MALFORMED when what came is not HTTP or nothing came before the
 * close; REF_E_NOT_FOUND when the run has no main principal; another status for a
 * transport failure. why says what happened unless REF_OK. Release *out with
 * live_answer_cleanup whatever the status. */
REF_MUST_CHECK enum ref_status live_signed_exchange(struct harness_backend *b,
                                                    const char *method,
                                                    const char *path,
                                                    const char *body,
                                                    struct live_answer *out,
                                                    char *why,
                                                    size_t why_cap);
void live_answer_cleanup(struct live_answer *a);

#endif
