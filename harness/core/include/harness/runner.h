/* SPDX-License-Identifier: Apache-2.0
 *
 * runner.h - executes a scenario on a backend and computes verdicts.
 *
 * For every request step the runner builds the request (calls serialised as the SDKs do),
 * substitutes variables, signs it with the backend's clock at that moment, sends it,
 * parses the answer, evaluates the expectations and captures variables. Waits poll (in
 * process: jumping the virtual clock to the next scheduled event), concurrent groups
 * run on real threads. Results own copies of everything reports need.
 *
 * On a shared target (HARNESS_CAP_SHARED: a live endpoint) the runner also isolates the
 * scenario: pipelines it creates get a unique name suffix, answers of the List operations
 * are scoped to the Ids it created (following NextPageToken), and afterwards it cancels
 * the jobs and deletes the pipelines it created, whatever the verdict.
 */
#ifndef HARNESS_RUNNER_H
#define HARNESS_RUNNER_H

#include "harness/backend.h"
#include "harness/expect.h"
#include "harness/scenario.h"
#include "harness/sign.h"
#include "harness/vars.h"

#include "ref/buf.h"

enum harness_verdict {
    HARNESS_VERDICT_NONE = 0,
    HARNESS_VERDICT_PASS,
    HARNESS_VERDICT_SKIP,
    HARNESS_VERDICT_DEVIATION,
    HARNESS_VERDICT_NOT_IMPLEMENTED,
    HARNESS_VERDICT_FAIL,
    HARNESS_VERDICT_ERROR,
    HARNESS_VERDICT_COUNT
};

/* "PASS", "NOT IMPLEMENTED", ... */
const char *harness_verdict_name(enum harness_verdict v);
/* The worse of two verdicts (ERROR > FAIL > NOT IMPLEMENTED > DEVIATION > PASS > SKIP). */
enum harness_verdict harness_verdict_worse(enum harness_verdict a, enum harness_verdict b);

/* A request as sent: the parts (for curl reproducers) and the raw bytes. */
struct harness_exchange {
    char *label;  /* sub-step name in a concurrent group, else NULL */
    char *method; /* NULL for verbatim requests */
    char *target;
    struct harness_header_copy *headers; /* without Authorization, in order */
    size_t num_headers;
    uint8_t *body;
    size_t body_len;
    struct harness_sign sign; /* how it was signed */
    bool is_verbatim;
    struct ref_buf request;  /* raw bytes sent */
    struct ref_buf response; /* raw bytes received */
    int http_status;         /* 0 when no response was parsed (or the endpoint closed) */
    char error_code[128];    /* as clients derive it, "" when none */
    bool is_closed;          /* the endpoint closed the connection without answering */
    /* The JSON body the expectations saw, when the runner changed it (a List answer
     * scoped to the scenario's Ids, pipeline names without the run's suffix); NULL when
     * they saw the body as received. NUL-terminated. */
    char *observed_body;
};

/* A step's reason, and the messages the runner composes into one. */
#define HARNESS_REASON_BYTES 512

struct harness_step_result {
    const struct harness_step *step;
    enum harness_verdict verdict;
    char reason[HARNESS_REASON_BYTES]; /* why SKIP / ERROR / NOT IMPLEMENTED, or "" */
    /* The run was interrupted: the step did not run, or its wait ended early. */
    bool is_interrupted;
    struct harness_check_list checks;
    struct harness_exchange *exchanges; /* the last request(s) of the step */
    size_t num_exchanges;
    unsigned polls; /* wait steps */
    double duration_ms;
};

/* What the runner deleted after a scenario on a shared target. */
struct harness_cleanup {
    bool is_done;               /* cleanup ran (shared targets only) */
    size_t jobs_canceled;       /* CancelJob answered 2xx and the job then read Canceled */
    size_t jobs_cancel_ignored; /* CancelJob answered 2xx but the job did not read Canceled */
    size_t pipelines_deleted;   /* gone: DeletePipeline answered 404, or 2xx and a read 404 */
    size_t pipelines_left;      /* could not be deleted: left behind on the endpoint */
    char note[256];             /* what went wrong, "" when nothing did */
};

struct harness_scenario_result {
    const struct harness_scenario *scenario;
    enum harness_verdict verdict;
    struct harness_step_result *steps; /* one per step, in order */
    size_t num_steps;
    size_t must_held, must_total;
    size_t should_held, should_total;
    size_t info_held, info_total;
    double duration_ms;
    /* The variables at the end of the run (captures included), for `etch diff`. */
    struct harness_vars vars;
    /* The suffix given to pipeline names on a shared target ("-k3j9x2ab"), else "". */
    char name_suffix[16];
    struct harness_cleanup cleanup;
    /* The reason a baseline gives for this non-PASS verdict (borrowed from the baseline),
     * NULL when none expects it; set after the run (harness_baseline_compare), for the
     * reports to show an expected failure as such. */
    const char *expected_reason;
};

/* Limits of the isolation on shared targets. */
#define HARNESS_MAX_CREATED_IDS    256    /* pipelines, and jobs, remembered per scenario */
#define HARNESS_MAX_ID_BYTES       128    /* longer Ids are not remembered (nor cleaned) */
#define HARNESS_MAX_LIST_PAGES     100    /* pages followed to scope one List answer */
#define HARNESS_CLEANUP_TIMEOUT_MS 120000 /* how long a busy pipeline is waited for */
#define HARNESS_CLEANUP_POLL_MS    1000
#define HARNESS_PIPELINE_WAIT_MS                                                                   \
    60000 /* how long a scenario refused a pipeline waits for                                      \
           * the others' cleanup (a shared budget) */

/* Runs sc on b. REF_OK when a result was produced (whatever its verdict); REF_E_NOMEM
 * when not. The result borrows sc (keep it loaded) and owns the rest; release it with
 * harness_scenario_result_cleanup. */
REF_MUST_CHECK enum ref_status harness_run_scenario(const struct harness_scenario *sc,
                                                    struct harness_backend *b,
                                                    struct harness_scenario_result *out);
void harness_scenario_result_cleanup(struct harness_scenario_result *r);

/* The Id used by NOT IMPLEMENTED probes and tests: well formed, never generated. */
#define HARNESS_PROBE_ID "0000000000000-etch00"

#endif
