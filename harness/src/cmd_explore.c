/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_explore.c - `etch explore`: random sequences on an endpoint and on the reference in
 * lockstep, and every divergence shrunk to a scenario file (harness/explore.h).
 *
 * The endpoint is a live one (the options of `etch run --endpoint`), or in process:
 * `inproc` is the reference itself (a run that must find nothing) and `inproc:broken-NAME`
 * a deliberately broken one, for the explorer's own tests.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_util.h"
#include "harness/commands.h"
#include "live_cli.h"
#include "suite_cli.h"

#include "harness/backend.h"
#include "harness/explore.h"
#ifdef ETCH_HAVE_LIBCURL
#include "harness/live.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPROC_PREFIX "inproc"

struct explore_cli {
    struct etch_live_args live;
    const char *endpoint; /* as given */
    long long seed;
    long long steps;
    long long seconds;
    long long sequence_steps;
    long long divergences;
    const char *out_dir;
    bool no_test_control;
    bool is_inproc;
    enum harness_broken_kind broken;
};

static void explore_usage(FILE *out)
{
    fprintf(out,
            "usage: etch explore --endpoint URL [--seed N] [--steps N] [--time S] [--out DIR]\n"
            "                    [live endpoint options]\n"
            "\n"
            "Generates random sequences of the ten operations (mostly valid; some with Ids that\n"
            "name nothing or are malformed, the restricted or temporary test principal, or a bad\n"
            "signature; CancelJob weighted toward pauses, resumes, clock moves around a job's\n"
            "start, twice in a row and DeletePipeline), runs each on the endpoint and on a fresh\n"
            "in-process reference, and compares the two answers to every step as `etch diff`\n"
            "does.\n"
            "With test control (contract section 9) both clocks move together and answers are\n"
            "compared exactly. Without it no clock is moved: the two run step by step, and\n"
            "before each step the reference's jobs are moved to the status the endpoint has\n"
            "shown them in (Submitted, Progressing, then Complete or Error), so that a\n"
            "CancelJob is judged against the state the endpoint says the job is in; a status\n"
            "the lifecycle cannot reach (Canceled to Progressing) is a divergence. Only the\n"
            "times of the transitions may differ.\n"
            "A divergence at must level is shrunk (delta debugging over the steps, then simpler\n"
            "values) and, with --out, written as DIR/explore/<name>.json: a scenario whose\n"
            "expectations are the reference's answers, which `etch run --scenarios DIR` replays,\n"
            "checked to FAIL on the endpoint and PASS in process before it is written.\n"
            "Differences in the headers of the wire form are counted as should-level only.\n"
            "\n"
            "options:\n"
            "  --endpoint URL       the endpoint; \"inproc\" is the reference itself, and\n"
            "                       \"inproc:broken-cancel-progressing\", "
            "\"inproc:broken-paused-starts\"\n"
            "                       or \"inproc:broken-list-drops-job\" a deliberately broken one\n"
            "  --seed N             the run's seed (default 1): the same seed, the same run\n"
            "  --steps N            stop after about N steps (default 2000; 0: no limit)\n"
            "  --time S             stop after S seconds (default 60; 0: no limit)\n"
            "  --sequence-steps N   steps per generated sequence (default %d, at most 60)\n"
            "  --divergences N      stop after N divergences (default 1)\n"
            "  --out DIR            write each shrunk divergence under DIR\n"
            "  --no-test-control    do not use the endpoint's test control; in process, a\n"
            "                       target whose clock moves 400 ms before every request\n"
            "  --workers N          in process: sequences run N side by side (default 2; the\n"
            "                       results do not depend on it); live: always one at a time\n"
            "  --help               this text\n"
            "\n"
            "%s"
            "\n"
            "A progress line goes to stderr, the summary (steps, sequences, divergences) and each\n"
            "divergence to stdout.\n"
            "\n"
            "exit status:\n"
            "  0  no divergence\n"
            "  1  a divergence was found\n"
            "  2  bad usage\n"
            "  3  the endpoint could not be used (no answer, or a transport failure where the\n"
            "     reference answered)\n",
            HARNESS_EXPLORE_DEFAULT_SEQUENCE_STEPS, etch_live_usage);
}

static bool take_inproc(struct explore_cli *c, const char *value)
{
    if (strcmp(value, INPROC_PREFIX) == 0) {
        c->is_inproc = true;
        return true;
    }
    static const char broken[] = INPROC_PREFIX ":broken-";
    if (strncmp(value, broken, sizeof(broken) - 1) == 0) {
        c->broken = harness_broken_kind_from_name(value + sizeof(broken) - 1);
        if (c->broken == HARNESS_BROKEN_NONE) {
            fprintf(stderr,
                    "etch explore: unknown broken target '%s' (cancel-progressing, "
                    "paused-starts, list-drops-job)\n",
                    value + sizeof(broken) - 1);
            return false;
        }
        c->is_inproc = true;
        return true;
    }
    fprintf(stderr, "etch explore: unknown in-process target '%s'\n", value);
    return false;
}

static bool parse_options(int argc, char **argv, struct explore_cli *c, int *exit_status)
{
    memset(c, 0, sizeof(*c));
    c->seed = 1;
    c->steps = 2000;
    c->seconds = 60;
    c->sequence_steps = HARNESS_EXPLORE_DEFAULT_SEQUENCE_STEPS;
    c->divergences = 1;
    *exit_status = ETCH_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            explore_usage(stdout);
            *exit_status = ETCH_EXIT_PASS;
            return false;
        }
        if (strcmp(a, "--endpoint") == 0 && value != NULL &&
            strncmp(value, INPROC_PREFIX, strlen(INPROC_PREFIX)) == 0 &&
            strncmp(value, INPROC_PREFIX "://", strlen(INPROC_PREFIX) + 3) != 0) {
            if (c->endpoint != NULL || !take_inproc(c, value)) {
                if (c->endpoint != NULL) {
                    fprintf(stderr, "etch explore: one --endpoint only\n");
                }
                return false;
            }
            c->endpoint = value;
            i++;
            continue;
        }
        struct {
            const char *name;
            long long *out;
            long long min, max;
        } counts[] = {
            {"--seed", &c->seed, 0, 9007199254740991LL},
            {"--steps", &c->steps, 0, 1000000000000LL},
            {"--time", &c->seconds, 0, 31536000},
            {"--sequence-steps", &c->sequence_steps, 1, 60},
            {"--divergences", &c->divergences, 1, HARNESS_EXPLORE_MAX_FOUND},
        };
        bool is_count = false;
        for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
            if (strcmp(a, counts[k].name) == 0) {
                if (value == NULL) {
                    fprintf(stderr, "etch explore: %s needs a value\n", a);
                    return false;
                }
                if (!etch_parse_count("explore", a, value, counts[k].min, counts[k].max,
                                      counts[k].out)) {
                    return false;
                }
                i++;
                is_count = true;
            }
        }
        if (is_count) {
            continue;
        }
        if (strcmp(a, "--out") == 0) {
            if (value == NULL) {
                fprintf(stderr, "etch explore: --out needs a folder\n");
                return false;
            }
            c->out_dir = value;
            i++;
            continue;
        }
        if (strcmp(a, "--no-test-control") == 0) {
            c->no_test_control = true;
            continue;
        }
        enum etch_option_result taken = etch_live_option(argc, argv, &i, "explore", 1, &c->live);
        if (taken == ETCH_OPTION_BAD) {
            return false;
        }
        if (taken == ETCH_OPTION_TAKEN) {
            if (c->endpoint != NULL && c->live.num_endpoints > 0) {
                fprintf(stderr, "etch explore: one --endpoint only\n");
                return false;
            }
            continue;
        }
        fprintf(stderr, "etch explore: unknown option '%s' (see etch explore --help)\n", a);
        return false;
    }
    if (!c->is_inproc && c->live.num_endpoints == 0) {
        fprintf(stderr, "etch explore: --endpoint URL is required (see etch explore --help)\n");
        return false;
    }
    return true;
}

/* --- Endpoints ----------------------------------------------------------------------- */

struct explore_target {
    const struct explore_cli *cli;
    struct etch_live_run *live;
    bool has_control;
};

/* In process with --no-test-control, how far the target's own clock moves before each
 * request: jobs start (2 s) and finish (5 s more) a few requests after they were made. */
#define INPROC_UNCONTROLLED_MS_PER_REQUEST 400

/* In process every sequence gets a fresh target; live, the one endpoint serves them all. */
static struct harness_backend *acquire(void *ctx)
{
    struct explore_target *t = ctx;
    if (t->live != NULL) {
        return etch_live_backend(t->live, 0, 0);
    }
    if (!t->has_control) {
        return harness_backend_uncontrolled_new(t->cli->broken, INPROC_UNCONTROLLED_MS_PER_REQUEST);
    }
    if (t->cli->broken != HARNESS_BROKEN_NONE) {
        return harness_backend_broken_new(t->cli->broken);
    }
    return harness_backend_inproc_new(NULL);
}

static void release(void *ctx, struct harness_backend *b)
{
    struct explore_target *t = ctx;
    if (t->live == NULL) {
        harness_backend_free(b);
        return;
    }
    char why[256];
    if (t->has_control && !etch_live_release_clock(b, why, sizeof(why))) {
        fprintf(stderr, "etch explore: could not give the endpoint its real clock back: %s\n", why);
    }
}

/* One unsigned request, as `etch run` makes before anything else: an endpoint that does
 * not answer at all is unusable (exit 3), not a divergence. */
static bool is_reachable(struct harness_backend *b)
{
#ifdef ETCH_HAVE_LIBCURL
    int64_t offset_ms = 0;
    char date[64];
    char why[256] = "";
    enum ref_status rc =
        harness_live_clock_offset(b, &offset_ms, date, sizeof(date), why, sizeof(why));
    if (rc != REF_OK && rc != REF_E_NOT_FOUND) {
        fprintf(stderr, "etch explore: %s does not answer: %s; nothing was run\n", b->endpoint,
                why);
        return false;
    }
#else
    (void)b;
#endif
    return true;
}

static void print_summary(const struct harness_explore_options *o,
                          const struct harness_explore_summary *s)
{
    for (size_t i = 0; i < s->num_found; i++) {
        const struct harness_explore_found *f = &s->found[i];
        printf("DIVERGENCE %s\n", f->what);
        printf("    shrunk from %zu to %zu steps", f->original_steps, f->shrunk_steps);
        if (f->path[0] != '\0') {
            printf("; written to %s (FAILs on the endpoint, PASSes in process)\n", f->path);
        } else if (o->out_dir != NULL) {
            printf("; not written: the shrunk scenario did not replay to FAIL on the endpoint "
                   "and PASS in process\n");
        } else {
            printf(" (--out DIR writes it as a scenario)\n");
        }
    }
    printf("summary: %llu steps, %llu sequences, %llu divergence%s (must level), %llu "
           "should-level difference%s, %llu timing difference%s allowed, %llu job transition%s "
           "followed, %llu shrinking run%s, %.1f s (%.0f steps/s), seed %llu\n",
           (unsigned long long)s->steps, (unsigned long long)s->sequences,
           (unsigned long long)s->divergences, s->divergences == 1 ? "" : "s",
           (unsigned long long)s->should_differences, s->should_differences == 1 ? "" : "s",
           (unsigned long long)s->tolerated, s->tolerated == 1 ? "" : "s",
           (unsigned long long)s->followed, s->followed == 1 ? "" : "s",
           (unsigned long long)s->shrink_runs, s->shrink_runs == 1 ? "" : "s", s->seconds,
           s->seconds > 0 ? (double)s->steps / s->seconds : 0.0, (unsigned long long)o->seed);
    if (o->workers <= 1 && s->sequence_seconds > 0) {
        printf("rate: the endpoint's own runs took %.1f s of the %.1f s the sequences took "
               "(exploring runs at %.2fx the rate of the same requests sent alone)\n",
               s->endpoint_seconds, s->sequence_seconds, s->endpoint_seconds / s->sequence_seconds);
    }
}

int etch_cmd_explore(int argc, char **argv)
{
    struct explore_cli c;
    int exit_status = ETCH_EXIT_USAGE;
    if (!parse_options(argc, argv, &c, &exit_status)) {
        return exit_status;
    }
    struct explore_target t = {.cli = &c};
    if (!c.is_inproc) {
        if ((t.live = etch_live_open("explore", &c.live, &exit_status)) == NULL) {
            return exit_status;
        }
        struct harness_backend *b = etch_live_backend(t.live, 0, 0);
        printf("etch %s explore: %s\n", ETCH_VERSION, b->description);
        if (!is_reachable(b)) {
            etch_live_close(t.live);
            return ETCH_EXIT_TARGET_UNUSABLE;
        }
        etch_live_discover_control(stdout, t.live, !c.no_test_control);
        t.has_control = etch_live_has_control(t.live);
        etch_live_watch_signals(t.live);
    } else {
        printf("etch %s explore: %s\n", ETCH_VERSION,
               c.broken != HARNESS_BROKEN_NONE
                   ? "embedded reference, deliberately broken (in process)"
                   : "embedded reference (in process)");
        t.has_control = !c.no_test_control;
    }
    fflush(stdout);
    struct harness_explore_options o = {
        .seed = (uint64_t)c.seed,
        .max_steps = (uint64_t)c.steps,
        .max_seconds = (double)c.seconds,
        .sequence_steps = (size_t)c.sequence_steps,
        .max_divergences = (size_t)c.divergences,
        .has_clock_control = t.has_control,
        .is_endpoint_long_lived = !c.is_inproc,
        .out_dir = c.out_dir,
        /* In process each sequence has a fresh target, so sequences run side by side (two
         * by default: --workers); a live endpoint takes one sequence at a time. */
        .workers = c.is_inproc ? (c.live.workers > 0 ? (size_t)c.live.workers : 2) : 1,
        .progress = stderr,
        .interrupted = t.live != NULL ? etch_live_interrupt_flag() : NULL,
        .acquire = acquire,
        .release = release,
        .ctx = &t,
    };
    struct harness_explore_summary s;
    enum ref_status rc = harness_explore_run(&o, &s);
    print_summary(&o, &s);
    if (rc == REF_E_NOT_FOUND) {
        fprintf(stderr, "etch explore: %s\n", s.error);
        exit_status = ETCH_EXIT_TARGET_UNUSABLE;
    } else if (rc != REF_OK) {
        fprintf(stderr, "etch explore: stopped: %s\n",
                s.error[0] != '\0' ? s.error : ref_status_name(rc));
        exit_status = ETCH_EXIT_FAIL;
    } else {
        exit_status = s.divergences > 0 ? ETCH_EXIT_FAIL : ETCH_EXIT_PASS;
    }
    etch_live_close(t.live);
    return exit_status;
}
