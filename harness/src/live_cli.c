/* SPDX-License-Identifier: Apache-2.0
 *
 * live_cli.c - the live-run options of `etch run --endpoint` and `etch diff`, turned into
 * settings and backends (one per worker and endpoint), and the clock check before a run.
 *
 * A live run never starts by surprise: only --endpoint names a target (no environment
 * variable does). Settings follow harness_live_settings_resolve; this file only reads the
 * flags and the process environment, prints what is in use, and keeps secrets off the
 * output (an access key id other than the contract's is shown by its last four characters).
 */
#define _POSIX_C_SOURCE 200809L

#include "live_cli.h"

#ifdef ETCH_HAVE_LIBCURL
#include "harness/live.h"
#endif
#include "harness/text.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds of the numeric options: generous, explicit, tested at and over. */
#define MAX_CLOCK_OFFSET_S  (7 * 86400)
#define MAX_OPTION_MS       (3600LL * 1000)
#define MAX_PIPELINE_BUDGET 1000000
/* Beyond this the skew scenarios' 1-minute checks are unreliable: say so. */
#define CLOCK_WARN_MS 5000

const char etch_live_usage[] =
    "live endpoint options:\n"
    "  --endpoint URL            http://HOST[:PORT] or https://HOST[:PORT], no path; the\n"
    "                            only way to name a live target\n"
    "  --region R                the endpoint's region (default $AWS_REGION, else\n"
    "                            $AWS_DEFAULT_REGION, else us-east-1)\n"
    "  --access-key K            the main principal (default $AWS_ACCESS_KEY_ID, else the\n"
    "                            contract's test principal AKIDEXAMPLE)\n"
    "  --secret-key-file F       its secret, first line of F (or $AWS_SECRET_ACCESS_KEY, or\n"
    "                            --secret-key S, which shows in the process list)\n"
    "  --session-token T         its session token (default $AWS_SESSION_TOKEN with the\n"
    "                            environment's key)\n"
    "  --restricted-access-key K --restricted-secret-key-file F | --restricted-secret-key S\n"
    "                            the read-only principal of contract section 7\n"
    "  --temporary-access-key K --temporary-secret-key-file F | --temporary-secret-key S\n"
    "  --temporary-session-token T\n"
    "                            the principal with a session token\n"
    "                            (without credentials at all, or with the main test\n"
    "                            principal's own key and secret, the three test principals\n"
    "                            are used; steps that need a principal the run lacks are\n"
    "                            skipped, and so are the later steps that depend on them)\n"
    "  --cacert F                trust the CA certificates in F (HTTPS)\n"
    "  --insecure                no certificate checks at all (HTTPS; only when asked)\n"
    "  --connect-timeout-ms N    connecting, TLS included (default 10000)\n"
    "  --timeout-ms N            one whole exchange, connect included (default 30000)\n"
    "  --cleanup-timeout-ms N    how long cleanup waits for a pipeline's running jobs\n"
    "                            (default 120000)\n"
    "  --cleanup-budget-s S      how long the cleanups of the whole run may wait for\n"
    "                            running jobs, all scenarios together (default 300)\n"
    "  --clock-offset S          the endpoint's clock is S seconds ahead of this machine's\n"
    "                            (negative: behind); signing dates follow it\n"
    "  --workers N               scenarios run N at a time, one connection each (default 1)\n"
    "  --max-pipelines N         pipelines the run's scenarios hold at once on an endpoint\n"
    "                            (default 4, a faithful endpoint's limit); a scenario waits\n"
    "                            for room, and one needing more than N is skipped\n";

/* Takes the value of the option at argv[*i] into *slot: ETCH_OPTION_TAKEN, or
 * ETCH_OPTION_BAD when it has none (message printed). */
static enum etch_option_result
take_string(int argc, char **argv, int *i, const char *cmd, const char **slot)
{
    if (etch_missing_value(argc, argv, *i, cmd)) {
        return ETCH_OPTION_BAD;
    }
    *slot = argv[++*i];
    return ETCH_OPTION_TAKEN;
}

/* Takes the whole number from min to max after the option at argv[*i] into *slot:
 * ETCH_OPTION_TAKEN, or ETCH_OPTION_BAD when it is missing or out of range (message
 * printed). */
static enum etch_option_result take_number(
    int argc, char **argv, int *i, const char *cmd, long long min, long long max, long long *slot)
{
    if (etch_missing_value(argc, argv, *i, cmd)) {
        return ETCH_OPTION_BAD;
    }
    const char *opt = argv[*i];
    return etch_parse_count(cmd, opt, argv[++*i], min, max, slot) ? ETCH_OPTION_TAKEN
                                                                  : ETCH_OPTION_BAD;
}

enum etch_option_result etch_live_option(
    int argc, char **argv, int *i, const char *cmd, size_t max_endpoints, struct etch_live_args *a)
{
    const char *o = argv[*i];
    struct {
        const char *name;
        const char **slot;
    } strings[] = {
        {"--region", &a->region},
        {"--access-key", &a->access_key},
        {"--secret-key", &a->secret_key},
        {"--secret-key-file", &a->secret_key_file},
        {"--session-token", &a->session_token},
        {"--restricted-access-key", &a->restricted_access_key},
        {"--restricted-secret-key", &a->restricted_secret_key},
        {"--restricted-secret-key-file", &a->restricted_secret_key_file},
        {"--temporary-access-key", &a->temporary_access_key},
        {"--temporary-secret-key", &a->temporary_secret_key},
        {"--temporary-secret-key-file", &a->temporary_secret_key_file},
        {"--temporary-session-token", &a->temporary_session_token},
        {"--cacert", &a->cacert},
    };
    for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
        if (strcmp(o, strings[k].name) == 0) {
            return take_string(argc, argv, i, cmd, strings[k].slot);
        }
    }
    if (strcmp(o, "--endpoint") == 0) {
        if (a->num_endpoints == max_endpoints) {
            fprintf(stderr, "etch %s: at most %zu --endpoint option%s\n", cmd, max_endpoints,
                    max_endpoints == 1 ? "" : "s");
            return ETCH_OPTION_BAD;
        }
        return take_string(argc, argv, i, cmd, &a->endpoints[a->num_endpoints++]);
    }
    if (strcmp(o, "--insecure") == 0) {
        a->is_insecure = true;
        return ETCH_OPTION_TAKEN;
    }
    if (strcmp(o, "--connect-timeout-ms") == 0) {
        return take_number(argc, argv, i, cmd, 1, MAX_OPTION_MS, &a->connect_timeout_ms);
    }
    if (strcmp(o, "--timeout-ms") == 0) {
        return take_number(argc, argv, i, cmd, 1, MAX_OPTION_MS, &a->timeout_ms);
    }
    if (strcmp(o, "--cleanup-budget-s") == 0) {
        a->has_cleanup_budget = true;
        return take_number(argc, argv, i, cmd, 0, MAX_OPTION_MS / 1000, &a->cleanup_budget_s);
    }
    if (strcmp(o, "--cleanup-timeout-ms") == 0) {
        return take_number(argc, argv, i, cmd, 0, MAX_OPTION_MS, &a->cleanup_timeout_ms);
    }
    if (strcmp(o, "--clock-offset") == 0) {
        a->has_clock_offset = true;
        return take_number(argc, argv, i, cmd, -MAX_CLOCK_OFFSET_S, MAX_CLOCK_OFFSET_S,
                           &a->clock_offset_s);
    }
    if (strcmp(o, "--workers") == 0) {
        return take_number(argc, argv, i, cmd, 1, ETCH_MAX_WORKERS, &a->workers);
    }
    if (strcmp(o, "--max-pipelines") == 0) {
        return take_number(argc, argv, i, cmd, 1, MAX_PIPELINE_BUDGET, &a->max_pipelines);
    }
    return ETCH_OPTION_NOT_MINE;
}

static atomic_bool s_interrupted;

static void on_stop_signal(int sig)
{
    (void)sig;
    atomic_store(&s_interrupted, true);
}

bool etch_live_interrupted(void)
{
    return atomic_load(&s_interrupted);
}

const atomic_bool *etch_live_interrupt_flag(void)
{
    return &s_interrupted;
}

static void watch(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    /* One-shot: the second signal finds the default action and ends etch. */
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

#ifdef ETCH_HAVE_LIBCURL

struct etch_live_run {
    struct harness_live_settings settings;
    struct harness_live_endpoint endpoints[ETCH_MAX_ENDPOINTS];
    size_t num_endpoints;
    size_t workers;
    struct harness_backend *backends[ETCH_MAX_ENDPOINTS][ETCH_MAX_WORKERS];
    /* One per endpoint: the limit is the endpoint's, whichever worker asks. */
    struct harness_pipeline_budget budgets[ETCH_MAX_ENDPOINTS];
    bool has_budget[ETCH_MAX_ENDPOINTS];
    bool has_control; /* the first endpoint offers test control and the run uses it */
    /* What is left of the time every scenario's cleanup may spend waiting, together. */
    atomic_llong cleanup_budget_ms;
};

static const char *process_getenv(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

struct etch_live_run *
etch_live_open(const char *cmd, const struct etch_live_args *a, int *exit_status)
{
    /* A peer that resets a connection while a request is being written must be an error
     * for that step, never a signal that ends the whole run. */
    signal(SIGPIPE, SIG_IGN);
    struct etch_live_run *run = calloc(1, sizeof(*run));
    if (run == NULL) {
        fprintf(stderr, "etch %s: out of memory\n", cmd);
        *exit_status = ETCH_EXIT_FAIL;
        return NULL;
    }
    char why[ETCH_MESSAGE_BYTES] = "";
    struct harness_live_cred_args args = {
        .access_key = a->access_key,
        .secret_key = a->secret_key,
        .secret_key_file = a->secret_key_file,
        .session_token = a->session_token,
        .restricted_access_key = a->restricted_access_key,
        .restricted_secret_key = a->restricted_secret_key,
        .restricted_secret_key_file = a->restricted_secret_key_file,
        .temporary_access_key = a->temporary_access_key,
        .temporary_secret_key = a->temporary_secret_key,
        .temporary_secret_key_file = a->temporary_secret_key_file,
        .temporary_session_token = a->temporary_session_token,
        .region = a->region,
    };
    if (harness_live_settings_resolve(&args, process_getenv, NULL, &run->settings, why,
                                      sizeof(why)) != REF_OK) {
        fprintf(stderr, "etch %s: %s\n", cmd, why);
        *exit_status = ETCH_EXIT_USAGE;
        etch_live_close(run);
        return NULL;
    }
    if (a->cacert != NULL && a->is_insecure) {
        fprintf(stderr, "etch %s: --cacert and --insecure contradict each other\n", cmd);
        *exit_status = ETCH_EXIT_USAGE;
        etch_live_close(run);
        return NULL;
    }
    run->num_endpoints = a->num_endpoints;
    for (size_t e = 0; e < a->num_endpoints; e++) {
        if (harness_live_endpoint_parse(a->endpoints[e], &run->endpoints[e], why, sizeof(why)) !=
            REF_OK) {
            fprintf(stderr, "etch %s: --endpoint %s\n", cmd, why);
            *exit_status = ETCH_EXIT_USAGE;
            etch_live_close(run);
            return NULL;
        }
    }
    run->workers = a->workers > 0 ? (size_t)a->workers : 1;
    atomic_init(&run->cleanup_budget_ms,
                (a->has_cleanup_budget ? a->cleanup_budget_s : ETCH_DEFAULT_CLEANUP_BUDGET_S) *
                    1000);
    for (size_t e = 0; e < run->num_endpoints; e++) {
        size_t max_pipelines =
            a->max_pipelines > 0 ? (size_t)a->max_pipelines : ETCH_DEFAULT_MAX_PIPELINES;
        if (harness_pipeline_budget_init(&run->budgets[e], max_pipelines) != REF_OK) {
            fprintf(stderr, "etch %s: cannot make the pipeline budget's lock\n", cmd);
            *exit_status = ETCH_EXIT_FAIL;
            etch_live_close(run);
            return NULL;
        }
        run->has_budget[e] = true;
        struct harness_live_options opts = {
            .endpoint = run->endpoints[e],
            .region = run->settings.region,
            .cacert = a->cacert,
            .is_insecure = a->is_insecure,
            .connect_timeout_ms = a->connect_timeout_ms,
            .timeout_ms = a->timeout_ms,
            .clock_offset_ms = a->clock_offset_s * 1000,
            .cleanup_timeout_ms = a->cleanup_timeout_ms,
        };
        for (size_t p = 0; p < HARNESS_PRINCIPAL_COUNT; p++) {
            opts.principals[p] = run->settings.has[p] ? &run->settings.creds[p] : NULL;
        }
        for (size_t w = 0; w < run->workers; w++) {
            run->backends[e][w] = harness_backend_live_new(&opts, why, sizeof(why));
            if (run->backends[e][w] == NULL) {
                fprintf(stderr, "etch %s: %s\n", cmd, why);
                *exit_status = ETCH_EXIT_FAIL;
                etch_live_close(run);
                return NULL;
            }
            run->backends[e][w]->pipeline_budget = &run->budgets[e];
            run->backends[e][w]->cleanup_budget_ms = &run->cleanup_budget_ms;
        }
    }
    return run;
}

void etch_live_close(struct etch_live_run *run)
{
    if (run == NULL) {
        return;
    }
    for (size_t e = 0; e < ETCH_MAX_ENDPOINTS; e++) {
        for (size_t w = 0; w < ETCH_MAX_WORKERS; w++) {
            harness_backend_free(run->backends[e][w]);
        }
        if (run->has_budget[e]) {
            harness_pipeline_budget_cleanup(&run->budgets[e]);
        }
    }
    harness_live_settings_cleanup(&run->settings);
    free(run);
}

size_t etch_live_workers(const struct etch_live_run *run)
{
    return run->workers;
}

void etch_live_watch_signals(struct etch_live_run *run)
{
    for (size_t e = 0; e < ETCH_MAX_ENDPOINTS; e++) {
        for (size_t w = 0; w < ETCH_MAX_WORKERS; w++) {
            if (run->backends[e][w] != NULL) {
                run->backends[e][w]->interrupted = &s_interrupted;
            }
        }
    }
    watch();
}

struct harness_backend *etch_live_backend(struct etch_live_run *run, size_t endpoint, size_t worker)
{
    return run->backends[endpoint][worker];
}

const char *etch_live_region(const struct etch_live_run *run)
{
    return run->settings.region;
}

/* The contract's key ids are public; anybody else's is shown by its last four. */
static void shown_key(const struct harness_live_settings *s, size_t p, char *out, size_t cap)
{
    const char *k = s->creds[p].access_key_id;
    size_t n = strlen(k);
    if (s->source[p] == HARNESS_SETTING_DEFAULT || n <= 4) {
        snprintf(out, cap, "%s", s->source[p] == HARNESS_SETTING_DEFAULT ? k : "****");
    } else {
        snprintf(out, cap, "****%s", k + n - 4);
    }
}

void etch_live_print_principals(FILE *out, const struct etch_live_run *run)
{
    static const char *const names[HARNESS_PRINCIPAL_COUNT] = {
        [HARNESS_PRINCIPAL_MAIN] = "main",
        [HARNESS_PRINCIPAL_RESTRICTED] = "restricted",
        [HARNESS_PRINCIPAL_TEMPORARY] = "temporary",
    };
    const struct harness_live_settings *s = &run->settings;
    fprintf(out, "region: %s (%s)\n", s->region,
            s->region_source == HARNESS_SETTING_DEFAULT
                ? "default"
                : harness_setting_source_name(s->region_source));
    fprintf(out, "principals:");
    for (size_t p = HARNESS_PRINCIPAL_MAIN; p < HARNESS_PRINCIPAL_COUNT; p++) {
        if (s->has[p]) {
            char key[ETCH_LABEL_BYTES];
            shown_key(s, p, key, sizeof(key));
            fprintf(out, " %s %s (%s%s)%s", names[p], key,
                    harness_setting_source_name(s->source[p]),
                    s->creds[p].session_token != NULL ? ", session token" : "",
                    p + 1 < HARNESS_PRINCIPAL_COUNT ? ";" : "");
        } else {
            fprintf(out, " %s none (its scenarios are skipped)%s", names[p],
                    p + 1 < HARNESS_PRINCIPAL_COUNT ? ";" : "");
        }
    }
    fprintf(out, "\n");
}

bool etch_live_check_clock(FILE *out,
                           const struct etch_live_args *a,
                           struct harness_backend *b,
                           char *unreachable_why,
                           size_t unreachable_why_cap)
{
    int64_t offset_ms = 0;
    char date[ETCH_DATE_BYTES] = "";
    char why[ETCH_MESSAGE_BYTES] = "";
    enum ref_status rc =
        harness_live_clock_offset(b, &offset_ms, date, sizeof(date), why, sizeof(why));
    if (rc != REF_OK && rc != REF_E_NOT_FOUND) {
        fprintf(out, "\n");
        fflush(out);
        harness_textf(unreachable_why, unreachable_why_cap, "unreachable: %s does not answer: %s",
                      b->endpoint, why);
        return false;
    }
    /* The offset measured is against this machine's own clock, not the backend's. */
    long long applied_s = a->has_clock_offset ? a->clock_offset_s : 0;
    if (rc == REF_E_NOT_FOUND) {
        fprintf(out,
                "clock: cannot read the endpoint's clock (%s); signing uses this machine's "
                "clock%s\n",
                why, a->has_clock_offset ? " with --clock-offset" : "");
        return true;
    }
    long long measured_s = (long long)((offset_ms >= 0 ? offset_ms + 500 : offset_ms - 500) / 1000);
    long long left_s = measured_s - applied_s;
    fprintf(out, "clock: the endpoint's Date (%s) is %lld s %s this machine's clock", date,
            measured_s < 0 ? -measured_s : measured_s, measured_s < 0 ? "behind" : "ahead of");
    if (a->has_clock_offset) {
        fprintf(out, "; --clock-offset %lld in use (%lld s left over)\n", applied_s, left_s);
    } else {
        fprintf(out, "; no --clock-offset in use\n");
    }
    if (left_s * 1000 > CLOCK_WARN_MS || left_s * 1000 < -CLOCK_WARN_MS) {
        fprintf(out,
                "clock: the clock-skew scenarios will sign %lld s off the endpoint's time: pass "
                "--clock-offset %lld to compensate\n",
                left_s, measured_s);
    }
    return true;
}

void etch_live_discover_control(FILE *out, struct etch_live_run *run, bool is_wanted)
{
    if (!is_wanted) {
        fprintf(out, "test control: not used (--no-test-control)\n");
        return;
    }
    int64_t now_ms = 0;
    char why[ETCH_MESSAGE_BYTES] = "";
    /* Every worker's backend asks: each gets its hooks from its own answer. */
    bool found = true;
    for (size_t w = 0; w < run->workers && found; w++) {
        found =
            harness_live_control_discover(run->backends[0][w], &now_ms, why, sizeof(why)) == REF_OK;
    }
    run->has_control = found;
    if (found) {
        char date[ETCH_DATE_BYTES];
        ref_sigv4_format_amz_date(now_ms / 1000, date);
        fprintf(out,
                "test control: found (contract section 9; the endpoint's clock reads %s): "
                "every scenario runs, those that move the clock one at a time\n",
                date);
    } else {
        fprintf(out, "test control: not offered (%s); the scenarios that need it are skipped\n",
                why);
    }
}

bool etch_live_has_control(const struct etch_live_run *run)
{
    return run->has_control;
}

bool etch_live_preflight(FILE *out, struct etch_live_run *run, char *why, size_t why_cap)
{
    struct harness_preflight p;
    enum harness_preflight_verdict v = harness_live_preflight(run->backends[0][0], &p);
    if (v == HARNESS_PREFLIGHT_USABLE) {
        fprintf(out, "preflight: an Elastic Transcoder endpoint (%s)\n", p.what);
        return true;
    }
    harness_textf(why, why_cap, "%s: %s", harness_preflight_verdict_name(v), p.what);
    fprintf(out, "preflight: %s\n", why);
    return false;
}

bool etch_live_release_clock(struct harness_backend *b, char *why, size_t why_cap)
{
    return harness_live_control_release_clock(b, why, why_cap) == REF_OK;
}

#else /* ETCH_HAVE_LIBCURL */

struct etch_live_run {
    int unused;
};

struct etch_live_run *
etch_live_open(const char *cmd, const struct etch_live_args *a, int *exit_status)
{
    (void)a;
    fprintf(stderr, "etch %s: this etch was built without libcurl: no live endpoints\n", cmd);
    *exit_status = ETCH_EXIT_USAGE;
    return NULL;
}

void etch_live_close(struct etch_live_run *run)
{
    (void)run;
}

size_t etch_live_workers(const struct etch_live_run *run)
{
    (void)run;
    return 0;
}

void etch_live_watch_signals(struct etch_live_run *run)
{
    (void)run;
    watch();
}

struct harness_backend *etch_live_backend(struct etch_live_run *run, size_t endpoint, size_t worker)
{
    (void)run;
    (void)endpoint;
    (void)worker;
    return NULL;
}

const char *etch_live_region(const struct etch_live_run *run)
{
    (void)run;
    return "";
}

void etch_live_print_principals(FILE *out, const struct etch_live_run *run)
{
    (void)out;
    (void)run;
}

bool etch_live_check_clock(FILE *out,
                           const struct etch_live_args *a,
                           struct harness_backend *b,
                           char *why,
                           size_t why_cap)
{
    (void)out;
    (void)a;
    (void)b;
    harness_textf(why, why_cap, "etch was built without libcurl");
    return false;
}

bool etch_live_preflight(FILE *out, struct etch_live_run *run, char *why, size_t why_cap)
{
    (void)out;
    (void)run;
    harness_textf(why, why_cap, "etch was built without libcurl");
    return false;
}

void etch_live_discover_control(FILE *out, struct etch_live_run *run, bool is_wanted)
{
    (void)out;
    (void)run;
    (void)is_wanted;
}

bool etch_live_has_control(const struct etch_live_run *run)
{
    (void)run;
    return false;
}

bool etch_live_release_clock(struct harness_backend *b, char *why, size_t why_cap)
{
    (void)b;
    (void)why;
    (void)why_cap;
    return true;
}

#endif /* ETCH_HAVE_LIBCURL */
