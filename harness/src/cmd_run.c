/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_run.c - `etch run` (the conformance suite, by default against the embedded
 * reference in process, or against a live endpoint with --endpoint) and `etch list`
 * (the scenarios of the suite).
 *
 * The whole suite is loaded and checked before anything runs, so a broken scenario file
 * is exit status 2 and never a half-run. In process each scenario gets a fresh target; on
 * a live endpoint each worker keeps one backend (and its connections) for the whole run,
 * and the runner isolates and cleans up every scenario. The endpoint's clock is read and
 * reported before the first scenario, so before the clock-skew ones.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/commands.h"
#include "live_cli.h"
#include "run_baseline.h"
#include "run_saved_requests.h"
#include "run_unusable.h"
#include "suite_cli.h"

#include "harness/backend.h"
#include "harness/report.h"
#include "harness/report_html.h"
#include "harness/runner.h"
#include "harness/scenario.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct run_options {
    const char *junit;
    const char *tap;
    const char *jsonl;
    const char *save_requests; /* --save-requests DIR */
    const char *html;
    struct etch_selection sel;
    struct etch_live_args live;
    struct etch_baseline_args baseline; /* --baseline, --write-baseline */
    bool strict;
    bool allow_unimplemented;
    bool no_color;
    bool no_test_control;
    bool no_progress;
};

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: etch run [options]\n"
            "       etch run --endpoint URL [live endpoint options] [options]\n"
            "\n"
            "Runs the conformance suite: by default against the embedded reference\n"
            "implementation, in process (each scenario on a fresh reference with a virtual\n"
            "clock); with --endpoint against a live endpoint over HTTP or HTTPS, every request\n"
            "sent byte for byte. On a live endpoint each scenario creates its own pipelines\n"
            "(names with a unique suffix), looks only at what it created in List answers, and\n"
            "deletes what it created afterwards. When the endpoint offers test control\n"
            "(contract section 9) the scenarios that seed objects or move the clock run\n"
            "through it (those that move the clock one at a time); otherwise they are skipped.\n"
            "\n"
            "options:\n"
            "  --scenario NAME     run this scenario (name or area/name); repeatable\n"
            "  --tag TAG           run the scenarios with this tag (or area); repeatable\n"
            "                      (selectors add up; with none, every scenario runs)\n"
            "  --exclude NAME|TAG  leave out the scenarios with this name, area/name or tag\n"
            "  --scenarios DIR     a suite folder; repeatable, the folders add up (a name in\n"
            "                      two is a usage error) (default: $ETCH_SCENARIOS, else\n"
            "                      the built-in suite)\n"
            "  --junit FILE        also write JUnit XML (one test case per scenario)\n"
            "  --tap FILE          also write TAP version 13\n"
            "  --jsonl FILE        also write JSON Lines (one object per scenario)\n"
            "  --save-requests DIR write the raw bytes of every request of every step that\n"
            "                      did not pass to DIR/<scenario>/<step>[-<n>].http (the\n"
            "                      folder is made and checked before anything is sent), for\n"
            "                      `etch send --endpoint URL FILE` to replay byte for byte and\n"
            "                      `etch handle FILE` to answer as the reference\n"
            "  --baseline FILE     the expected non-PASS verdicts (a JSON file, see\n"
            "                      harness/README.md): a failure it lists, with its reason,\n"
            "                      does not fail the run; a failure it does not list does, and\n"
            "                      so does an entry whose scenario or step now passes\n"
            "  --write-baseline FILE  write a baseline of this run's non-PASS verdicts\n"
            "                      (reasons to edit), replacing FILE whole at the end\n"
            "  --html FILE         also write one self-contained HTML page: the failures\n"
            "                      grouped by likely root cause, a matrix of areas by\n"
            "                      verdict, each failure with its expectations, the answer\n"
            "                      and its reproducers\n"
            "  --strict            a DEVIATION (a should-level expectation broke) fails the run\n"
            "  --allow-unimplemented  NOT IMPLEMENTED does not fail the run\n"
            "  --no-color          no colour even on a terminal (NO_COLOR is honoured too)\n"
            "  --no-test-control   do not use the endpoint's test control (contract section 9)\n"
            "                      even when it offers it\n"
            "  --no-progress       no line on stderr per finished scenario of a live run\n"
            "  --help              this text\n"
            "\n"
            "%s"
            "\n"
            "exit status:\n"
            "  0  every must-level expectation held; with --baseline, the run matched it (no\n"
            "     new failure, no unexpected pass)\n"
            "  1  a FAIL, ERROR or NOT IMPLEMENTED (unless --allow-unimplemented), or a\n"
            "     DEVIATION with --strict\n"
            "  2  bad usage, a broken scenario file, or a report file that cannot be written\n"
            "     (checked before anything is sent)\n"
            "  3  the target is unusable: unreachable, not HTTP, not an Elastic Transcoder\n"
            "     endpoint, or it refused the credentials or the signature's date\n"
            "     (nothing ran; the report files say why)\n",
            etch_live_usage);
}

static void list_usage(FILE *out)
{
    fprintf(out, "usage: etch list [--scenarios DIR] [--tag TAG]...\n"
                 "\n"
                 "Lists the scenarios of the suite: area/name, tags and description.\n");
}

/* Live options without --endpoint are a mistake worth saying (no surprise live run, and
 * no silently ignored credentials either). */
static bool has_live_settings(const struct etch_live_args *a)
{
    return a->region != NULL || a->access_key != NULL || a->secret_key != NULL ||
           a->secret_key_file != NULL || a->session_token != NULL ||
           a->restricted_access_key != NULL || a->restricted_secret_key != NULL ||
           a->restricted_secret_key_file != NULL || a->temporary_access_key != NULL ||
           a->temporary_secret_key != NULL || a->temporary_secret_key_file != NULL ||
           a->temporary_session_token != NULL || a->cacert != NULL || a->is_insecure ||
           a->connect_timeout_ms != 0 || a->timeout_ms != 0 || a->cleanup_timeout_ms != 0 ||
           a->has_cleanup_budget || a->has_clock_offset || a->workers != 0;
}

/* Reads the options of `etch run` (is_run) or `etch list` into *o. Returns true to go on;
 * false when the command ends here, with *exit_status ETCH_EXIT_PASS after --help, or
 * ETCH_EXIT_USAGE for a usage error (message printed). */
static bool parse_options(
    int argc, char **argv, const char *cmd, bool is_run, struct run_options *o, int *exit_status)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            if (is_run) {
                run_usage(stdout);
            } else {
                list_usage(stdout);
            }
            *exit_status = ETCH_EXIT_PASS;
            return false;
        }
        enum etch_option_result taken = etch_selection_option(argc, argv, &i, cmd, is_run, &o->sel);
        if (taken == ETCH_OPTION_NOT_MINE && is_run) {
            taken = etch_live_option(argc, argv, &i, cmd, 1, &o->live);
        }
        if (taken == ETCH_OPTION_NOT_MINE && is_run) {
            taken = etch_baseline_option(argc, argv, &i, cmd, &o->baseline);
        }
        if (taken == ETCH_OPTION_BAD) {
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
        if (taken == ETCH_OPTION_TAKEN) {
            continue;
        }
        if (is_run &&
            (strcmp(a, "--junit") == 0 || strcmp(a, "--tap") == 0 || strcmp(a, "--jsonl") == 0)) {
            if (etch_missing_value(argc, argv, i, cmd)) {
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
            const char **slot = a[2] == 'j' && a[3] == 'u' ? &o->junit
                                : a[2] == 't'              ? &o->tap
                                                           : &o->jsonl;
            *slot = argv[++i];
        } else if (is_run && strcmp(a, "--html") == 0) {
            if (etch_missing_value(argc, argv, i, cmd)) {
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
            o->html = argv[++i];
        } else if (is_run && strcmp(a, "--strict") == 0) {
            o->strict = true;
        } else if (is_run && strcmp(a, "--allow-unimplemented") == 0) {
            o->allow_unimplemented = true;
        } else if (is_run && strcmp(a, "--no-color") == 0) {
            o->no_color = true;
        } else if (is_run && strcmp(a, "--save-requests") == 0) {
            if (etch_missing_value(argc, argv, i, cmd)) {
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
            o->save_requests = argv[++i];
        } else if (is_run && strcmp(a, "--no-test-control") == 0) {
            o->no_test_control = true;
        } else if (is_run && strcmp(a, "--no-progress") == 0) {
            o->no_progress = true;
        } else {
            fprintf(stderr, "etch %s: unknown option '%s' (see etch %s --help)\n", cmd, a, cmd);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
    }
    if (o->live.num_endpoints == 0 && has_live_settings(&o->live)) {
        fprintf(stderr, "etch %s: live endpoint options need --endpoint URL\n", cmd);
        *exit_status = ETCH_EXIT_USAGE;
        return false;
    }
    etch_selection_finish(&o->sel);
    return true;
}

typedef enum ref_status (*writer_fn)(FILE *out,
                                     const struct harness_scenario_result *results,
                                     size_t n,
                                     const struct harness_report_meta *meta);

/* Writes one machine report to path (nothing when path is NULL). Returns true when it is
 * written (or not asked for); false with a message printed when it cannot be. */
static bool write_report(const char *path,
                         writer_fn fn,
                         const char *what,
                         const struct harness_scenario_result *results,
                         size_t n,
                         const struct harness_report_meta *meta)
{
    if (path == NULL) {
        return true;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "etch run: cannot write the %s report to %s\n", what, path);
        return false;
    }
    enum ref_status rc = fn(f, results, n, meta);
    if (fclose(f) != 0 || rc != REF_OK) {
        fprintf(stderr, "etch run: writing the %s report to %s failed\n", what, path);
        return false;
    }
    return true;
}

/* What the workers share: the suite, where results go, and a lock for progress lines. */
struct run_job {
    const struct harness_suite *suite;
    size_t *order; /* suite index of each selected scenario */
    struct harness_scenario_result *results;
    enum ref_status *statuses;
    bool *ran;                  /* false: not started, the run was interrupted */
    struct etch_live_run *live; /* NULL: in process */
    size_t total;
    size_t done;
    bool show_progress;
    pthread_mutex_t lock;
    /* With test control: a scenario that needs the endpoint alone (needs_endpoint_alone)
     * holds this lock for writing; every other holds it for reading. */
    bool has_control;
    pthread_rwlock_t clock_lock;
};

/* Whether a scenario needs the endpoint to itself under test control: it uses control at
 * all (a clock, seed or fail_job step: seeded pipelines count against everybody's limit
 * once in place, and its cleanup may move the clock to let seeded jobs finish), or waits
 * (which on a virtual clock jump to the next event), at any depth. */
static bool needs_endpoint_alone(const struct harness_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        enum harness_step_kind k = steps[i].kind;
        if (k == HARNESS_STEP_CLOCK || k == HARNESS_STEP_WAIT || k == HARNESS_STEP_SEED_PIPELINE ||
            k == HARNESS_STEP_SEED_JOB || k == HARNESS_STEP_FAIL_JOB ||
            needs_endpoint_alone(steps[i].subs, steps[i].num_subs)) {
            return true;
        }
    }
    return false;
}

/* Runs one scenario on a live backend under the clock lock, and gives the endpoint its
 * real clock back after a scenario that moved it. */
static enum ref_status run_live_scenario(struct run_job *job,
                                         const struct harness_scenario *sc,
                                         struct harness_backend *b,
                                         struct harness_scenario_result *result)
{
    if (!job->has_control) {
        return harness_run_scenario(sc, b, result);
    }
    bool is_exclusive = needs_endpoint_alone(sc->steps, sc->num_steps);
    if (is_exclusive) {
        pthread_rwlock_wrlock(&job->clock_lock);
    } else {
        pthread_rwlock_rdlock(&job->clock_lock);
    }
    enum ref_status rc = harness_run_scenario(sc, b, result);
    char why[ETCH_MESSAGE_BYTES];
    if (!etch_live_release_clock(b, why, sizeof(why))) {
        pthread_mutex_lock(&job->lock);
        fprintf(stderr, "etch run: %s/%s: could not give the endpoint its real clock back: %s\n",
                sc->area, sc->name, why);
        pthread_mutex_unlock(&job->lock);
    }
    pthread_rwlock_unlock(&job->clock_lock);
    return rc;
}

static void run_one(void *ctx, size_t worker, size_t item)
{
    struct run_job *job = ctx;
    const struct harness_scenario *sc = job->suite->items[job->order[item]];
    if (job->live != NULL && etch_live_interrupted()) {
        return;
    }
    job->ran[item] = true;
    /* A fresh reference that allows the pipelines the scenario says it needs. */
    struct harness_inproc_options inproc = {.max_pipelines = sc->pipelines};
    struct harness_backend *b = job->live != NULL ? etch_live_backend(job->live, 0, worker)
                                                  : harness_backend_inproc_new(&inproc);
    if (b == NULL) {
        job->statuses[item] = REF_E_NOMEM;
        return;
    }
    job->statuses[item] = job->live != NULL ? run_live_scenario(job, sc, b, &job->results[item])
                                            : harness_run_scenario(sc, b, &job->results[item]);
    if (job->live == NULL) {
        harness_backend_free(b);
    }
    if (job->show_progress) {
        pthread_mutex_lock(&job->lock);
        job->done++;
        fprintf(stderr, "[%zu/%zu] %s/%s: %s (%.1f s)\n", job->done, job->total, sc->area, sc->name,
                job->statuses[item] == REF_OK ? harness_verdict_name(job->results[item].verdict)
                                              : ref_status_name(job->statuses[item]),
                job->results[item].duration_ms / 1000.0);
        pthread_mutex_unlock(&job->lock);
    }
}

/* One `etch run`, from its plan to its reports. */
struct run {
    const struct run_options *o;
    struct etch_plan plan;
    struct harness_scenario_result *results; /* room for every scenario of the suite */
    size_t num_results;                      /* the results kept: the scenarios that ran */
    struct etch_live_run *live;              /* NULL: in process */
    struct harness_backend *first;           /* the live backend the reports name */
    char tool[ETCH_LABEL_BYTES];
    struct harness_report_meta meta;
    /* When the run started: the date for the HTML report, the monotonic ms for the wall
     * time every report gives. */
    char started_at[32];
    int64_t started_ms;
};

/* Makes room for the results and, with --endpoint, the live backends, and describes the
 * target for the reports. Returns true to go on; false with a message printed and
 * *exit_status set (ETCH_EXIT_USAGE when out of memory, else etch_live_open's). */
static bool open_run(struct run *r, int *exit_status)
{
    r->results = calloc(r->plan.suite.count, sizeof(*r->results));
    if (r->results == NULL) {
        fprintf(stderr, "etch run: out of memory\n");
        *exit_status = ETCH_EXIT_USAGE;
        return false;
    }
    bool is_live = r->o->live.num_endpoints > 0;
    if (is_live && (r->live = etch_live_open("run", &r->o->live, exit_status)) == NULL) {
        return false;
    }
    snprintf(r->tool, sizeof(r->tool), "etch %s", ETCH_VERSION);
    time_t now = time(NULL);
    struct tm utc;
    if (gmtime_r(&now, &utc) == NULL ||
        strftime(r->started_at, sizeof(r->started_at), "%Y-%m-%d %H:%M:%S UTC", &utc) == 0) {
        r->started_at[0] = '\0';
    }
    r->started_ms = etch_monotonic_ms();
    r->first = is_live ? etch_live_backend(r->live, 0, 0) : NULL;
    r->meta = (struct harness_report_meta){
        .tool = r->tool,
        .target = is_live ? r->first->description : "embedded reference (in process)",
        .endpoint = is_live ? r->first->endpoint : "$ETCH_ENDPOINT",
        .region = is_live ? etch_live_region(r->live) : "us-east-1",
        .service = "elastictranscoder",
        .strict = r->o->strict,
        .allow_unimplemented = r->o->allow_unimplemented,
    };
    return true;
}

/* The lines before the first scenario: the target, the principals of a live run, the
 * selection and the workers. */
static void print_header(const struct run *r)
{
    /* The first line names the target, whatever follows. */
    printf("%s: target %s\n", r->tool, r->meta.target);
    if (r->live != NULL) {
        etch_live_print_principals(stdout, r->live);
    }
    printf("scenarios: %s (%zu of %zu selected)", r->o->sel.scenarios_dir, r->plan.count,
           r->plan.suite.count);
    if (r->live != NULL) {
        printf(", %zu worker%s", etch_live_workers(r->live),
               etch_live_workers(r->live) == 1 ? "" : "s");
    }
    printf("\n");
    fflush(stdout);
}

/* Runs the selected scenarios on the workers and keeps the results of those that ran
 * (an interruption can keep some from starting: *not_run counts them). Returns true when
 * the runner could run every scenario that started; false, with a message printed for
 * each one it could not, when the command ends with ETCH_EXIT_FAIL. */
static bool run_scenarios(struct run *r, size_t *not_run)
{
    size_t n = r->plan.count;
    bool *ran = r->plan.ran;
    enum ref_status *statuses = r->plan.statuses;
    struct run_job job = {
        .suite = &r->plan.suite,
        .order = r->plan.order,
        .results = r->results,
        .statuses = statuses,
        .ran = ran,
        .live = r->live,
        .total = n,
        /* Live runs take minutes: a CI log shows them moving (stderr, so that the report
         * on stdout stays whole). */
        .show_progress = r->live != NULL && !r->o->no_progress,
        .has_control = r->live != NULL && etch_live_has_control(r->live),
    };
    if (r->live != NULL) {
        etch_live_watch_signals(r->live);
    }
    pthread_mutex_init(&job.lock, NULL);
    pthread_rwlock_init(&job.clock_lock, NULL);
    etch_run_workers(n, r->live != NULL ? etch_live_workers(r->live) : 1, run_one, &job);
    pthread_rwlock_destroy(&job.clock_lock);
    pthread_mutex_destroy(&job.lock);
    /* Scenarios an interruption kept from starting are left out of every report. */
    bool is_complete = true;
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        if (!ran[k]) {
            continue;
        }
        if (statuses[k] != REF_OK) {
            fprintf(stderr, "etch run: %s: %s\n",
                    r->plan.suite.items[r->plan.order[k]]->display_path,
                    ref_status_name(statuses[k]));
            is_complete = false;
        }
        r->results[kept] = r->results[k];
        statuses[kept] = statuses[k];
        kept++;
    }
    *not_run = n - kept;
    r->num_results = kept;
    return is_complete;
}

/* Writes the HTML report of results when --html asked for it, with the run's date and
 * wall time. Returns true when it is written (or not asked for); false with a message
 * printed. */
static bool write_html(const struct run *r, const struct harness_scenario_result *results, size_t n)
{
    if (r->o->html == NULL) {
        return true;
    }
    struct harness_html_run run = {
        .date = r->started_at[0] != '\0' ? r->started_at : NULL,
        .wall_ms = (double)(etch_monotonic_ms() - r->started_ms),
    };
    FILE *f = fopen(r->o->html, "w");
    if (f == NULL) {
        fprintf(stderr, "etch run: cannot write the HTML report to %s\n", r->o->html);
        return false;
    }
    enum ref_status rc = harness_report_html(f, results, n, &r->meta, &run);
    if (fclose(f) != 0 || rc != REF_OK) {
        fprintf(stderr, "etch run: writing the HTML report to %s failed (%s)\n", r->o->html,
                ref_status_name(rc));
        return false;
    }
    return true;
}

/* Prints the table and writes the machine reports asked for. Returns the exit status:
 * ETCH_EXIT_FAIL for a failing verdict (as --strict and --allow-unimplemented count
 * them), a report that could not be written, or scenarios an interruption kept from
 * running; else ETCH_EXIT_PASS. */
static int report_run(const struct run *r, size_t not_run)
{
    const struct run_options *o = r->o;
    const struct harness_scenario_result *results = r->results;
    size_t n = r->num_results;
    bool color = !o->no_color && getenv("NO_COLOR") == NULL && isatty(fileno(stdout));
    harness_report_text(stdout, results, n, &r->meta, color);
    bool written = write_report(o->junit, harness_report_junit, "JUnit", results, n, &r->meta) &&
                   write_report(o->tap, harness_report_tap, "TAP", results, n, &r->meta) &&
                   write_report(o->jsonl, harness_report_jsonl, "JSON Lines", results, n, &r->meta);
    written = write_html(r, results, n) && written;
    struct harness_summary sum;
    harness_summary_compute(results, n, &sum);
    bool failed =
        sum.by_verdict[HARNESS_VERDICT_FAIL] > 0 || sum.by_verdict[HARNESS_VERDICT_ERROR] > 0 ||
        (!o->allow_unimplemented && sum.by_verdict[HARNESS_VERDICT_NOT_IMPLEMENTED] > 0) ||
        (o->strict && sum.by_verdict[HARNESS_VERDICT_DEVIATION] > 0);
    etch_baseline_report(stdout, &o->baseline, results, n, o->strict, o->allow_unimplemented,
                         &failed);
    if (not_run > 0) {
        fprintf(stderr, "etch run: interrupted: %zu of %zu scenarios were not run\n", not_run,
                not_run + n);
    }
    return failed || !written || not_run > 0 ? ETCH_EXIT_FAIL : ETCH_EXIT_PASS;
}

/* Every report file asked for can be written: checked before anything is sent. */
static bool check_report_files(const struct run_options *o)
{
    return etch_check_writable("run", "JUnit report", o->junit) &&
           etch_check_writable("run", "TAP report", o->tap) &&
           etch_check_writable("run", "JSON Lines report", o->jsonl) &&
           etch_check_writable("run", "HTML report", o->html);
}

/* The target is unusable (reason says how): says so, and writes the machine reports with
 * one ERROR standing for the run, so that CI shows the reason. */
static int report_unusable(const struct run *r, const char *reason)
{
    fprintf(stderr, "etch run: the target is unusable: %s; nothing was run\n", reason);
    struct etch_unusable u;
    etch_unusable_init(&u, reason);
    const struct run_options *o = r->o;
    (void)(write_report(o->junit, harness_report_junit, "JUnit", &u.result, 1, &r->meta) &&
           write_report(o->tap, harness_report_tap, "TAP", &u.result, 1, &r->meta) &&
           write_report(o->jsonl, harness_report_jsonl, "JSON Lines", &u.result, 1, &r->meta) &&
           write_html(r, &u.result, 1));
    return ETCH_EXIT_TARGET_UNUSABLE;
}

/* Releases what open_run and run_scenarios made, and the plan. */
static void close_run(struct run *r)
{
    for (size_t i = 0; i < r->num_results; i++) {
        if (r->plan.statuses[i] == REF_OK) {
            harness_scenario_result_cleanup(&r->results[i]);
        }
    }
    etch_live_close(r->live);
    free(r->results);
    etch_plan_cleanup(&r->plan);
}

int etch_cmd_run(int argc, char **argv)
{
    struct run_options o;
    int exit_status = ETCH_EXIT_USAGE;
    if (!parse_options(argc, argv, "run", true, &o, &exit_status)) {
        return exit_status;
    }
    struct run r = {.o = &o};
    if (o.save_requests != NULL && !etch_saved_requests_prepare("run", o.save_requests)) {
        return ETCH_EXIT_USAGE;
    }
    if (!check_report_files(&o) || !etch_plan_open("run", &o.sel, &r.plan)) {
        return ETCH_EXIT_USAGE;
    }
    if (!etch_baseline_open("run", &o.baseline, &r.plan.suite)) {
        etch_baseline_close(&o.baseline);
        etch_plan_cleanup(&r.plan);
        return ETCH_EXIT_USAGE;
    }
    size_t not_run = 0;
    if (!open_run(&r, &exit_status)) {
        goto out;
    }
    r.meta.saved_requests_dir = o.save_requests;
    print_header(&r);
    /* Before anything else, and so before the clock-skew scenarios. */
    char unusable[ETCH_MESSAGE_BYTES * 2];
    if (r.live != NULL &&
        (!etch_live_check_clock(stdout, &o.live, r.first, unusable, sizeof(unusable)) ||
         !etch_live_preflight(stdout, r.live, unusable, sizeof(unusable)))) {
        exit_status = report_unusable(&r, unusable);
        goto out;
    }
    if (r.live != NULL) {
        etch_live_discover_control(stdout, r.live, !o.no_test_control);
    }
    printf("\n");
    fflush(stdout);
    if (!run_scenarios(&r, &not_run)) {
        exit_status = ETCH_EXIT_FAIL;
        goto out;
    }
    r.meta.wall_ms = (double)(etch_monotonic_ms() - r.started_ms);
    if (!etch_baseline_compare("run", &o.baseline, r.results, r.num_results, o.strict,
                               o.allow_unimplemented)) {
        exit_status = ETCH_EXIT_FAIL;
        goto out;
    }
    size_t saved = 0;
    bool is_saved =
        o.save_requests == NULL ||
        etch_saved_requests_write("run", o.save_requests, r.results, r.num_results, &saved);
    exit_status = report_run(&r, not_run);
    if (!is_saved && exit_status == ETCH_EXIT_PASS) {
        exit_status = ETCH_EXIT_FAIL;
    }
    if (is_saved && saved > 0) {
        printf("requests of the steps that did not pass: %zu saved under %s\n", saved,
               o.save_requests);
    }
    if (!etch_baseline_write("run", &o.baseline, r.results, r.num_results, not_run == 0) &&
        exit_status == ETCH_EXIT_PASS) {
        exit_status = ETCH_EXIT_FAIL;
    }
out:
    close_run(&r);
    etch_baseline_close(&o.baseline);
    return exit_status;
}

int etch_cmd_list(int argc, char **argv)
{
    struct run_options o;
    int exit_status = ETCH_EXIT_USAGE;
    if (!parse_options(argc, argv, "list", false, &o, &exit_status)) {
        return exit_status;
    }
    struct harness_suite suite;
    if (!etch_load_suite("list", &o.sel, &suite)) {
        return ETCH_EXIT_USAGE;
    }
    bool *selected = calloc(suite.count, sizeof(*selected));
    size_t count = 0;
    if (selected == NULL) {
        harness_suite_cleanup(&suite);
        return ETCH_EXIT_USAGE;
    }
    if (etch_select("list", &o.sel, &suite, selected, &count)) {
        size_t width = 0;
        for (size_t i = 0; i < suite.count; i++) {
            size_t w = strlen(suite.items[i]->area) + 1 + strlen(suite.items[i]->name);
            width = w > width ? w : width;
        }
        for (size_t i = 0; i < suite.count; i++) {
            const struct harness_scenario *sc = suite.items[i];
            if (!selected[i]) {
                continue;
            }
            char full[ETCH_NAME_BYTES];
            snprintf(full, sizeof(full), "%s/%s", sc->area, sc->name);
            printf("%-*s  [", (int)width, full);
            for (size_t t = 1; t < sc->num_tags; t++) {
                printf("%s%s", t > 1 ? " " : "", sc->tags[t]);
            }
            printf("]%s  %s\n", sc->inproc_only ? " (in-process only)" : "", sc->description);
        }
        printf("%zu scenarios\n", count);
        exit_status = ETCH_EXIT_PASS;
    }
    free(selected);
    harness_suite_cleanup(&suite);
    return exit_status;
}
