/* SPDX-License-Identifier: Apache-2.0
 *
 * runner_internal.h - what the runner's files share, and nothing else includes.
 *
 * runner.c runs the step loop and decides verdicts; request_build.c builds, signs and
 * serialises requests; sign.c signs them; runner_shared.c isolates a scenario on a shared
 * target; concurrent.c runs concurrent groups. They share the state of one scenario run
 * (struct run), a parsed answer (struct observation) and the helpers below. Functions
 * here are named runner_* so they cannot meet another module's at link time.
 */
#ifndef HARNESS_RUNNER_INTERNAL_H
#define HARNESS_RUNNER_INTERNAL_H

#include "harness/backend.h"
#include "harness/expect.h"
#include "harness/http_response.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/vars.h"

#include "ref/buf.h"
#include "ref/limits.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Headers one built request may carry: the scenario's (at most REF_MAX_HEADERS), the ones
 * the runner adds (Host, Content-Type, Content-Length) and the signer's. */
#define MAX_REQUEST_HEADERS (REF_MAX_HEADERS + 8)

/* Message buffers: a step's reason (as big as the result's), and the reasons of the
 * runner's own requests and of a transport failure, which a step's reason quotes. */
#define RUNNER_WHY_BYTES    HARNESS_REASON_BYTES
#define RUNNER_DETAIL_BYTES 384
#define RUNNER_NOTE_BYTES   256 /* a parse error's detail, a hook's refusal */

/* Ids a scenario created on a shared target, in creation order. */
struct created_ids {
    char (*ids)[HARNESS_MAX_ID_BYTES];
    size_t count;
};

/* Ids seeded on a shared target: the scenario's literal Id and the fresh one the endpoint
 * gets instead. An endpoint never forgets a job Id, so the same literal seeded by two
 * scenarios, or by two runs, would collide; requests carry the fresh Id and answers are
 * shown to the expectations with the literal one back. Both have the Id shape (contract
 * section 2), so the two have one length and a request keeps its Content-Length. */
#define RUNNER_SEED_ID_LEN      20 /* 13 digits, '-', 6 word characters */
#define RUNNER_MAX_SEED_ALIASES 64
struct seed_alias {
    char literal[RUNNER_SEED_ID_LEN + 1];
    char fresh[RUNNER_SEED_ID_LEN + 1];
    size_t len; /* of both */
    /* A date a clock step moved (redate_ms): answers quoting the moved date show the
     * written one; requests are dated by runner_resign_raw, not by this entry. */
    bool is_answer_only;
};

/* One scenario being run. */
struct run {
    const struct harness_scenario *sc;
    struct harness_backend *b;
    struct harness_vars vars;
    bool is_shared;
    char name_suffix[16]; /* "-k3j9x2ab" on a shared target, else "" */
    struct created_ids pipelines;
    struct created_ids jobs;
    /* Pipelines the scenario paused (UpdatePipelineStatus answered Paused) and has not
     * resumed: a Submitted job there cannot start until it does (contract section 3). */
    struct created_ids paused;
    bool lacked_principal; /* a step was skipped: the target lacks its principal */
    /* The target would not let the scenario have the pipelines it needs (contract section
     * 2b: such a scenario is skipped, never failed); the reason is kept for later steps. */
    bool lacked_pipelines;
    char pipeline_reason[192];
    size_t reserved;              /* taken from the backend's pipeline budget */
    int64_t pipeline_deadline_ms; /* 0 until the first wait for another's cleanup */
    struct seed_alias aliases[RUNNER_MAX_SEED_ALIASES];
    size_t num_aliases;
    bool has_aliased; /* runner_expand put a fresh Id in place of a literal since reset */
    /* A hook step ran or a wait moved the target's clock: cleanup may move the clock too
     * (a stopped clock never lets a running job finish). On a shared target such a
     * scenario has the endpoint to itself (etch run runs it alone), so nobody else's time
     * moves with it. */
    bool may_move_clock;
    /* Without a virtual clock, a clock step that sets a time: requests written with their
     * own date are dated this much later (re-signed), as if the clock were at that time. */
    int64_t redate_ms;
    /* A step needed test control the target lacks: the steps after it are not run (they
     * rely on it), and the scenario is a SKIP unless what ran before failed. */
    bool lacked_control;
    /* Variables a skipped step would have captured, and that step's name: a later step
     * using one is skipped too (runner_depends.c). */
    struct {
        char var[HARNESS_MAX_VAR_NAME_BYTES];
        const char *step;
    } missing[HARNESS_MAX_VARS];
    size_t num_missing;
};

/* An answer, parsed. */
struct observation {
    struct harness_http_response http;
    struct ref_buf body_buf;
    json_t *body;
    struct harness_observed obs;
};

/* The reason of a step or scenario that needs hooks the target lacks: the in-process
 * reference has them, a live endpoint through test control. */
#define RUNNER_NEEDS_CONTROL                                                                       \
    "needs test control (contract section 9), which this target does not offer"

/* Outcome of preparing a request. */
enum prep {
    PREP_OK = 0,
    PREP_SKIP,  /* the backend lacks the principal */
    PREP_ERROR, /* why says what */
};

/* --- request_build.c: exchanges and requests ----------------------------------------- */

/* A NUL-terminated copy of n bytes (malloc); NULL when out of memory. */
char *runner_dup_n(const char *s, size_t n);
enum ref_status runner_exchange_init(struct harness_exchange *x);
void runner_exchange_cleanup(struct harness_exchange *x);
enum ref_status runner_add_header(struct harness_header_copy *headers,
                                  size_t *n,
                                  size_t cap,
                                  const char *name,
                                  size_t name_len,
                                  const char *value,
                                  size_t value_len);
enum ref_status runner_add_header_cstr(struct harness_header_copy *headers,
                                       size_t *n,
                                       size_t cap,
                                       const char *name,
                                       const char *value);
/* Expands ${vars} in s into a new NUL-terminated string (malloc). REF_E_NOT_FOUND names
 * the missing variable in why. */
enum ref_status runner_expand(struct run *r,
                              const char *s,
                              size_t len,
                              char **out,
                              size_t *out_len,
                              char *why,
                              size_t why_cap);
enum ref_status runner_append_encoded(struct ref_buf *out, const char *s, size_t n);
/* Builds, signs and serialises the step's request into x (which the caller releases with
 * runner_exchange_cleanup, whatever the outcome). */
/* A raw request written with its own signature (a capture) whose Ids the run changed, or
 * whose date a clock step moved (redate_ms): signed again as its Authorization says
 * (access key, scope, SignedHeaders, X-Amz-Date), so it differs from what was written
 * only in those and its signature. Its signature is left as written when its key is not
 * one of the run's principals, or when it did not hold for what was written (changed
 * after signing on purpose); its date is moved all the same. REF_E_NOT_FOUND: it was
 * validly signed by a contract test principal the run lacks (the step is a SKIP). */
enum ref_status runner_resign_raw(struct run *r, struct harness_exchange *x);
enum prep runner_prepare(struct run *r,
                         const struct harness_step *step,
                         struct harness_exchange *x,
                         char *why,
                         size_t why_cap);

/* One attempt of a call an SDK retries (a step with "lost_answer"): every attempt of the
 * call carries the same invocation Id and its own number, as that SDK sends them. */
#define RUNNER_INVOCATION_ID_BYTES 37 /* a UUID and its NUL */
struct sdk_attempt {
    enum harness_retrying_sdk sdk;
    unsigned number; /* 1 for the first */
    char invocation_id[RUNNER_INVOCATION_ID_BYTES];
};
/* runner_prepare for one attempt of such a call: the SDK's retry headers added, signed
 * (JS SDK v3) or after the signature (botocore), as the captures show them. */
enum prep runner_prepare_attempt(struct run *r,
                                 const struct harness_step *step,
                                 const struct sdk_attempt *attempt,
                                 struct harness_exchange *x,
                                 char *why,
                                 size_t why_cap);

/* --- runner_retry.c: a lost answer and the SDK's retry ----------------------------- */

/* The first attempt of a "lost_answer" step: prepared as the SDK sends it, sent through
 * the backend's send_losing_answer (the target handles it, its answer is never read) and
 * kept in the step's exchanges; *attempt is then the retry to prepare. PREP_SKIP when
 * the target lacks the principal, PREP_ERROR with why when it could not be sent. */
enum prep runner_lose_first_answer(struct run *r,
                                   const struct harness_step *step,
                                   struct harness_step_result *s,
                                   struct sdk_attempt *attempt,
                                   char *why,
                                   size_t why_cap);
/* On a shared target, once a CreateJob's answer was lost on a pipeline the scenario
 * created, before the retry: the lost attempt's job is the scenario's too (nobody else
 * uses that pipeline), so its Id is found by listing the pipeline and remembered for
 * scoped List answers and cleanup, whatever becomes of the retry. */
enum ref_status runner_adopt_lost_jobs(struct run *r, const struct harness_exchange *lost);

/* --- runner.c: sending, observing, step results, hooks ------------------------------- */

void runner_observation_cleanup(struct observation *o);
bool runner_observe(struct harness_exchange *x,
                    struct observation *o,
                    bool allow_closed,
                    char *why,
                    size_t why_cap);
enum ref_status runner_backend_send(struct harness_backend *b,
                                    struct ref_slice request,
                                    struct ref_buf *response,
                                    char *why,
                                    size_t why_cap);
enum ref_status
runner_send_one(struct run *r, struct harness_exchange *x, char *why, size_t why_cap);
bool runner_allows_closed(const struct harness_step *step);
struct harness_exchange *runner_result_add_exchange(struct harness_step_result *s);
void runner_set_reason(struct harness_step_result *s, enum harness_verdict v, const char *why);
enum harness_verdict runner_verdict_from_checks(const struct harness_check_list *l, size_t from);
enum ref_status runner_apply_clock(struct harness_backend *b, const struct harness_step *step);
bool runner_hook_available(const struct harness_backend *b, const struct harness_step *step);

/* --- runner_shared.c: shared targets ------------------------------------------------- */

/* For a wait on a live endpoint that is not met: a reason when the answer shows the wait
 * can never end (a job in a final status, or Submitted on a pipeline the scenario paused),
 * so it fails at once instead of at its timeout; NULL when time may still change it. */
const char *runner_wait_is_hopeless(const struct run *r, const struct observation *o);

/* Remembers an Id the scenario owns on a shared target (List scoping, cleanup). */
enum ref_status runner_ids_add(struct created_ids *l, const char *id, size_t len);
/* A signed operation call with these params (borrowed), by the main principal unless
 * `like` gives the signing: *o parsed and x the exchange on REF_OK (release both,
 * whatever the status). */
enum ref_status runner_side_call(struct run *r,
                                 enum ref_op op,
                                 json_t *params,
                                 const struct harness_step *like,
                                 struct harness_exchange *x,
                                 struct observation *o,
                                 char *why,
                                 size_t why_cap);

bool runner_creates_pipeline(const struct harness_step *step);
bool runner_budget_reserve(struct run *r);
void runner_budget_add_held(struct run *r, size_t created, size_t deleted, size_t released);
bool runner_pipeline_refused(struct run *r);
enum ref_status
runner_note_created(struct run *r, const struct harness_exchange *x, const struct observation *o);
enum ref_status runner_localise(struct run *r,
                                const struct harness_step *step,
                                struct harness_exchange *x,
                                struct observation *o,
                                char *why,
                                size_t why_cap);
enum ref_status runner_decide_not_implemented(struct run *r,
                                              const struct harness_step *step,
                                              const struct observation *o,
                                              struct harness_step_result *s);
enum ref_status runner_cleanup_shared(struct run *r, struct harness_cleanup *c);
/* A string for a scenario parameter: "${" written as "$${" so that text which came from
 * the endpoint is never read as a variable. NULL when out of memory. */
json_t *runner_literal_param(const char *text, size_t len);

/* --- runner_seeds.c: seeded objects on shared targets --------------------------------- */

/* A seed hook's Id on a shared target: the fresh Id to send in its place (*id is replaced,
 * malloc), remembered for the rest of the scenario with the Id tracked as the scenario's
 * own (List scoping, cleanup). Ids without the Id shape are sent as written. */
enum ref_status runner_alias_seed(struct run *r, enum harness_step_kind kind, char **id);
/* Without test control: puts a seed in place the way a client can (CreatePipeline and a
 * pause; CreateJob and a cancel), for the statuses that need no time or failure, and
 * remembers the Id it got for the literal. *is_done false (why may say why) when it
 * could not: the step is skipped. REF_E_NOMEM only when out of memory. */
enum ref_status runner_emulate_seed(struct run *r,
                                    const struct harness_step *step,
                                    const char *literal,
                                    const char *pipeline,
                                    const char *status,
                                    bool *is_done,
                                    char *why,
                                    size_t why_cap);
/* Remembers that answers may quote `moved` (len bytes, at most RUNNER_SEED_ID_LEN) where
 * the scenario wrote `written`. */
enum ref_status
runner_alias_answer(struct run *r, const char *written, const char *moved, size_t len);
/* Replaces every literal of an alias by its fresh Id in buf (in place: same length). */
void runner_apply_aliases(struct run *r, uint8_t *buf, size_t len);
/* The other way, in place. */
void runner_unalias_bytes(const struct run *r, uint8_t *buf, size_t len);
/* The other way, in every string of an answer's JSON body. True when one changed. */
bool runner_unalias_json(const struct run *r, json_t *v);
void runner_make_name_suffix(char out[16]);

/* --- concurrent.c -------------------------------------------------------------------- */

enum ref_status runner_run_concurrent_step(struct run *r,
                                           const struct harness_step *step,
                                           struct harness_step_result *s);

/* --- runner_depends.c: steps that depend on a skipped step --------------------------- */

/* Whether a step may change the target's state: anything but a Read or List call, a GET
 * or HEAD raw request, or a wait. */
bool runner_step_changes_state(const struct harness_step *step);
/* Records the step's captures: missing when it was skipped, available again when it ran. */
void runner_note_captures(struct run *r, const struct harness_step *step, bool was_skipped);
/* The name of the skipped step whose captured variable this step uses, or NULL. */
const char *runner_skipped_dependency(const struct run *r, const struct harness_step *step);

#endif
