/* SPDX-License-Identifier: Apache-2.0
 *
 * live_cli.h - the options of a live run, shared by `etch run --endpoint` and
 * `etch diff`: endpoints, credentials, region, TLS, timeouts, the clock, workers.
 */
#ifndef ETCH_LIVE_CLI_H
#define ETCH_LIVE_CLI_H

#include "suite_cli.h"

#include "harness/backend.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#define ETCH_MAX_ENDPOINTS 2

/* The options, as given (NULL or 0 when not). */
struct etch_live_args {
    const char *endpoints[ETCH_MAX_ENDPOINTS];
    size_t num_endpoints;
    const char *access_key, *secret_key, *secret_key_file, *session_token;
    const char *restricted_access_key, *restricted_secret_key, *restricted_secret_key_file;
    const char *temporary_access_key, *temporary_secret_key, *temporary_secret_key_file;
    const char *temporary_session_token;
    const char *region;
    const char *cacert;
    bool is_insecure;
    long long connect_timeout_ms;
    long long timeout_ms;
    long long cleanup_timeout_ms;
    long long cleanup_budget_s;
    bool has_cleanup_budget;
    long long clock_offset_s;
    bool has_clock_offset;
    long long workers;       /* 0: one */
    long long max_pipelines; /* 0: ETCH_DEFAULT_MAX_PIPELINES */
};

/* How long the cleanups of a run may wait for running jobs, all together. */
#define ETCH_DEFAULT_CLEANUP_BUDGET_S 300

/* A faithful endpoint allows 4 pipelines (contract section 2b). */
#define ETCH_DEFAULT_MAX_PIPELINES 4

/* The option lines of the usage text. */
extern const char etch_live_usage[];

/* Takes one live option at argv[*i], moving *i past its value. max_endpoints is how many
 * --endpoint options the command takes. Returns ETCH_OPTION_TAKEN, ETCH_OPTION_NOT_MINE for
 * any other option, or ETCH_OPTION_BAD (message printed) for a missing or bad value or one
 * --endpoint too many. */
enum etch_option_result etch_live_option(
    int argc, char **argv, int *i, const char *cmd, size_t max_endpoints, struct etch_live_args *a);

/* The live side of a run: settings, and one backend per worker and endpoint. */
struct etch_live_run;

/* Resolves the settings and makes the backends. Returns the run (etch_live_close releases
 * it), or NULL with a message printed and *exit_status set (it is set only then):
 * ETCH_EXIT_USAGE for bad settings (or an etch built without libcurl), ETCH_EXIT_FAIL when
 * memory, a lock or a backend cannot be had. */
struct etch_live_run *
etch_live_open(const char *cmd, const struct etch_live_args *a, int *exit_status);
void etch_live_close(struct etch_live_run *run);

size_t etch_live_workers(const struct etch_live_run *run);
/* The backend of an endpoint (0 or 1) for a worker. */
struct harness_backend *
etch_live_backend(struct etch_live_run *run, size_t endpoint, size_t worker);
const char *etch_live_region(const struct etch_live_run *run);

/* Installs SIGINT and SIGTERM handlers for a live run and makes every backend of the run
 * watch them: the first signal lets the scenarios in progress stop at their next step and
 * clean up, and starts no other; the second ends etch at once. */
void etch_live_watch_signals(struct etch_live_run *run);
/* True once a first signal came. */
bool etch_live_interrupted(void);
/* The flag itself, for backends made later (the embedded reference of `etch diff`). */
const atomic_bool *etch_live_interrupt_flag(void);

/* Prints the principals the run has, and where they came from ("principals: ..."). */
void etch_live_print_principals(FILE *out, const struct etch_live_run *run);

/* Asks the first endpoint whether it offers test control (contract section 9) and prints
 * the answer as a header line; with is_wanted false (--no-test-control) only says it is
 * not used. When found, every worker's backend has the hooks from then on. */
void etch_live_discover_control(FILE *out, struct etch_live_run *run, bool is_wanted);
/* Whether the run uses the first endpoint's test control. */
bool etch_live_has_control(const struct etch_live_run *run);
/* Gives the endpoint its real clock back when b's scenario moved it; false with why
 * filled when the endpoint refused. */
bool etch_live_release_clock(struct harness_backend *b, char *why, size_t why_cap);

/* Reads the endpoint's clock and prints it against this machine's and the offset in use.
 * Returns true to go on (also when the endpoint answers without a usable Date); false
 * with why filled when the endpoint cannot be reached at all: nothing is run then, and
 * the command ends with ETCH_EXIT_TARGET_UNUSABLE. */
bool etch_live_check_clock(FILE *out,
                           const struct etch_live_args *a,
                           struct harness_backend *b,
                           char *why,
                           size_t why_cap);

/* The preflight (harness_live_preflight) on the first endpoint's first backend, with one
 * line on out saying what the target is. Returns true when it is usable; false with why
 * filled ("credentials refused: ListPipelines answered 403 ...") when it is not. */
bool etch_live_preflight(FILE *out, struct etch_live_run *run, char *why, size_t why_cap);

#endif
