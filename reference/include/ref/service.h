/* SPDX-License-Identifier: Apache-2.0
 *
 * service.h - the reference implementation as one object: raw request bytes in, raw
 * response bytes out.
 *
 * A service owns the job/pipeline store, the credentials and the settings. Time and
 * randomness come in through struct ref_env, so tests and fuzz targets pin them. The
 * scheduler has no thread of its own: due starts and finishes are applied lazily at the
 * start of every request and by ref_service_tick. All entry points are thread-safe.
 */
#ifndef REF_SERVICE_H
#define REF_SERVICE_H

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/router.h"
#include "ref/sigv4.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <stdint.h>

/* The injected clock and random source. A zeroed env means the real clock and
 * OpenSSL's RAND_bytes. */
struct ref_env {
    int64_t (*now_ms)(void *ctx);                            /* ms since the epoch, UTC */
    void (*random_bytes)(void *ctx, uint8_t *out, size_t n); /* must fill all n bytes */
    void *ctx;
};

/* The contract's test principals (section 7): main, restricted, temporary. */
#define REF_TEST_REGION     "us-east-1"
#define REF_TEST_ACCOUNT_ID "111122223333"
extern const struct ref_credential ref_test_credentials[3];
#define REF_TEST_CRED_MAIN       (&ref_test_credentials[0])
#define REF_TEST_CRED_RESTRICTED (&ref_test_credentials[1])
#define REF_TEST_CRED_TEMPORARY  (&ref_test_credentials[2])

struct ref_service_config {
    const char *region;                       /* default REF_TEST_REGION */
    const char *account_id;                   /* default REF_TEST_ACCOUNT_ID */
    const struct ref_credential *credentials; /* borrowed; default ref_test_credentials */
    size_t num_credentials;
    int64_t skew_s;         /* default 300 */
    int64_t start_delay_ms; /* Submitted -> Progressing on an Active pipeline; default 2000 */
    int64_t run_time_ms;    /* Progressing -> Complete; default 5000 */
    size_t page_size;       /* default REF_DEFAULT_PAGE_SIZE */
    size_t max_pipelines;   /* pipelines at once; default REF_MAX_PIPELINES (4) */
    size_t max_queued_jobs; /* per pipeline; default REF_MAX_QUEUED_JOBS (1,000,000) */
    struct ref_env env;
    /* The verifier's signing-key cache (sigv4.h): how many keys it keeps, default
     * REF_SIGV4_KEY_CACHE_DEFAULT_ENTRIES; is_key_cache_disabled derives every key instead
     * (same answers, more work: for measuring). */
    size_t key_cache_entries;
    bool is_key_cache_disabled;
    /* Test control (contract section 9), off by default: requests under /_etch/control/v1,
     * signed like any other and allowed to the main principal only (a full-role key without
     * a session token; others get 403 AccessDeniedException), read the endpoint's clock
     * (GET /_etch/control/v1), move a virtual clock (POST .../clock), seed pipelines and
     * jobs in any status (POST .../seed, all or nothing) and make a job Progressing,
     * Complete or Error (POST .../jobs/{Id}/status). An unknown control path or method
     * answers 404 UnknownOperationException. Off, those paths are unknown operations like
     * any other. */
    bool has_test_control;
};

/* Fills cfg with the defaults above. */
void ref_service_config_defaults(struct ref_service_config *cfg);

struct ref_service;

/* Owned by the caller, free with ref_service_free. NULL only when out of memory.
 * The config is copied; the credentials it points to are borrowed and must outlive
 * the service. */
struct ref_service *ref_service_new(const struct ref_service_config *cfg);
void ref_service_free(struct ref_service *svc);

/* Makes svc's pipelines and jobs a copy of from's (ref_job_store_copy), and empties its
 * signing-key cache, so that svc starts over from from's state and answers every request
 * as from would (request and generated Ids come from svc's own env). svc keeps its own
 * configuration; both should have been made with the same one. For runs that must each
 * start from one seeded state: seed a template once, copy it before every run, which
 * allocates nothing once svc has grown to the template's size (a new service costs its
 * key cache and the seeding). REF_OK, or REF_E_NOMEM with svc unchanged. Requests on svc
 * meanwhile are answered from the state before the copy or the one after. */
REF_MUST_CHECK enum ref_status ref_service_copy_state(struct ref_service *svc,
                                                      struct ref_service *from);

struct ref_response {
    int http_status;
    enum ref_status status; /* REF_OK, or the error answered */
    enum ref_op op;         /* the routed operation, REF_OP_NONE before routing */
    char request_id[37];    /* UUID sent as x-amzn-RequestId */
    struct ref_buf body;    /* application/json; always present */
    int64_t date_ms;        /* the service's time when it answered, for the Date header */
    /* The request could not be framed (it did not parse), so nothing after it on the
     * connection can be trusted: the answer says "Connection: close" and the server
     * closes once it is sent. */
    bool is_closing;
};

void ref_response_init(struct ref_response *resp);
void ref_response_cleanup(struct ref_response *resp);

/* Appends the response as HTTP/1.1 bytes: status line, Content-Type, Content-Length,
 * x-amzn-RequestId, x-amzn-ErrorType on errors, Date, Connection: close when is_closing,
 * then the body. */
REF_MUST_CHECK enum ref_status ref_response_write_http(const struct ref_response *resp,
                                                       struct ref_buf *out);

/* Handles one already-parsed request (for HTTP server libraries). The target must be
 * exactly as received. REF_OK whenever *resp holds an answer, error answers included;
 * REF_E_NOMEM only when no answer could be built. */
REF_MUST_CHECK enum ref_status ref_service_handle_parsed(struct ref_service *svc,
                                                         const struct ref_http_request *req,
                                                         struct ref_response *resp);

/* Parses raw (one whole request) strictly and handles it: *resp (initialised by the
 * caller) holds the answer. Unparseable input gets a 4xx in the contract's error form,
 * with is_closing set. REF_OK whenever *resp holds an answer. */
REF_MUST_CHECK enum ref_status
ref_service_handle_raw(struct ref_service *svc, struct ref_slice raw, struct ref_response *resp);

/* ref_service_handle_raw, then the answer appended to out as raw HTTP bytes. REF_OK
 * whenever a response was written. */
REF_MUST_CHECK enum ref_status
ref_service_handle(struct ref_service *svc, struct ref_slice raw, struct ref_buf *out);

/* The service's clock in ms since the epoch: the env's, or, once a test-control clock call
 * (other than Real) has moved it, the virtual clock, which stands still until moved again.
 * The scheduler, Timing, generated Ids, the signature window and the Date header all read
 * this one clock; a client signs its requests at this time. Thread-safe (an atomic). */
int64_t ref_service_now_ms(struct ref_service *svc);

/* --- Scheduler and in-process hooks (never reachable over HTTP) ------------------- */

/* Applies every start and finish due at the env's current time. */
void ref_service_tick(struct ref_service *svc);
/* The time of the next scheduled start or finish; false when nothing is scheduled. */
bool ref_service_next_event_ms(struct ref_service *svc, int64_t *when_ms);

/* Seeds a pipeline (status "Active" or "Paused") or a job with a given Id, as the
 * capture replays need. The job gets one output. REF_E_VALIDATION for a bad Id or
 * status, REF_E_IN_USE for an Id already present, REF_E_NOT_FOUND for a job whose
 * pipeline does not exist. */
REF_MUST_CHECK enum ref_status ref_service_seed_pipeline(struct ref_service *svc,
                                                         const char *id,
                                                         const char *name,
                                                         const char *status);
REF_MUST_CHECK enum ref_status ref_service_seed_job(struct ref_service *svc,
                                                    const char *id,
                                                    const char *pipeline_id,
                                                    const char *status);
/* Moves a Progressing job to Error at the env's current time (the only way a job reaches
 * Error). REF_E_NOT_FOUND, or REF_E_IN_USE when the job is not Progressing. */
REF_MUST_CHECK enum ref_status ref_service_fail_job(struct ref_service *svc, const char *id);
/* Makes a transition the lifecycle allows (Submitted to Progressing, Progressing to Complete
 * or Error) now, as test control's set-status does (contract section 9): status is
 * "Progressing", "Complete" or "Error". REF_E_VALIDATION for another status, REF_E_NOT_FOUND,
 * or REF_E_IN_USE when the job's status does not allow it. */
REF_MUST_CHECK enum ref_status
ref_service_set_job_status(struct ref_service *svc, const char *id, const char *status);
/* The current status of a job, e.g. "Canceled", as a ReadJob at the env's current time
 * would show it (due starts and finishes are applied first); NULL when there is no such
 * job. The string is static. */
const char *ref_service_job_status(struct ref_service *svc, const char *id);

#endif
