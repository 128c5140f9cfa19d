/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_bench.c - `etch bench`: options, then the in-process or the live benchmarks.
 *
 * No figure printed here is ever a pass/fail verdict: the machine this runs on is shared
 * and noisy, so only ratios taken in the same run mean anything, and tests only check
 * that the command runs and prints well-formed output.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/commands.h"

#include "bench.h"
#include "cli_util.h"

#include "ref/slice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_RUNS        11
#define DEFAULT_OPS         2000
#define DEFAULT_SUITE_RUNS  3
#define DEFAULT_CONNECTIONS 4
#define DEFAULT_DURATION_S  5.0

static const char s_usage[] =
    "usage: etch bench [--json] [--runs N] [--ops N] [--no-suite] [--suite-runs N]\n"
    "                  [--capture FILE]\n"
    "       etch bench --endpoint URL [--connections N] [--duration S] [--op ReadJob|CancelJob]\n"
    "                  [--access-key ID --secret-key KEY] [--region R] [--json]\n"
    "\n"
    "In process (the default): times the crypto floor of one SigV4 signature (low-level\n"
    "SHA-256, the yardstick), etch's signer and verifier with a derived and with a cached\n"
    "signing key, the HTTP parser alone, a whole CancelJob handled end to end (parse,\n"
    "route, verify, cancel, 202), a whole ReadJob (200 with the job) and a whole CreateJob\n"
    "(201 with the job), on the botocore CancelJob capture with the clock at its\n"
    "X-Amz-Date. Rounds alternate the benchmarks; each figure is the median ns/op over the\n"
    "rounds and its ratio to the floor of the same round. Then the whole in-process suite\n"
    "(`etch run`) is timed.\n"
    "\n"
    "Live (--endpoint): signed ReadJob or CancelJob requests over N concurrent keep-alive\n"
    "connections (one libcurl handle per thread), then a bare libcurl loop (unsigned GET of\n"
    "the same URL) at the same concurrency against the same endpoint: requests per second,\n"
    "latency p50 and p99, and the ratio of the two rates.\n"
    "\n"
    "  --json               one JSON object on stdout instead of the table\n"
    "  --runs N             rounds (default 11, at most 101)\n"
    "  --ops N              operations per benchmark and round (default 2000, at most 200000)\n"
    "  --no-suite           do not time `etch run`\n"
    "  --suite-runs N       times `etch run` is timed (default 3)\n"
    "  --capture FILE       the CancelJob request to use (default: the botocore capture)\n"
    "  --endpoint URL       live mode: the endpoint's base URL, e.g. http://127.0.0.1:8080\n"
    "  --connections N      live: concurrent connections (default 4, at most 256)\n"
    "  --duration S         live: seconds for each of the two phases (default 5)\n"
    "  --op NAME            live: ReadJob (default) or CancelJob, of a job that need not exist\n"
    "  --access-key ID      live: the signing principal (default: the contract's main one)\n"
    "  --secret-key KEY     live: its secret access key\n"
    "  --region R           live: the endpoint's region (default us-east-1)\n"
    "\n"
    "Exit status: 0 measured, 1 a benchmark failed or gave a wrong answer, 2 bad usage.\n";

static bool
parse_uint(const char *option, const char *text, unsigned min, unsigned max, unsigned *out)
{
    uint64_t v = 0;
    if (ref_slice_to_u64(ref_slice_from_cstr(text), max, &v) != REF_OK || v < min) {
        fprintf(stderr, "etch bench: %s needs a whole number from %u to %u, not '%s'\n", option,
                min, max, text);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool parse_seconds(const char *text, double *out)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !(v > 0) || v > BENCH_MAX_DURATION_S) {
        fprintf(stderr, "etch bench: --duration needs seconds above 0 and at most %d, not '%s'\n",
                BENCH_MAX_DURATION_S, text);
        return false;
    }
    *out = v;
    return true;
}

/* Reads the options of `etch bench` into *opt. Returns true to go on; false when the
 * command ends here, with *exit_status ETCH_EXIT_PASS after --help, or ETCH_EXIT_USAGE for
 * a usage error (message printed). */
static bool parse_options(int argc, char **argv, struct bench_options *opt, int *exit_status)
{
    *opt = (struct bench_options){.has_suite = true,
                                  .runs = DEFAULT_RUNS,
                                  .ops = DEFAULT_OPS,
                                  .suite_runs = DEFAULT_SUITE_RUNS,
                                  .connections = DEFAULT_CONNECTIONS,
                                  .duration_s = DEFAULT_DURATION_S};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(s_usage, stdout);
            *exit_status = ETCH_EXIT_PASS;
            return false;
        } else if (strcmp(arg, "--json") == 0) {
            opt->is_json = true;
            continue;
        } else if (strcmp(arg, "--no-suite") == 0) {
            opt->has_suite = false;
            continue;
        } else if (value == NULL) {
            fprintf(stderr, "etch bench: unknown or incomplete option '%s'\n\n%s", arg, s_usage);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        } else if (strcmp(arg, "--runs") == 0) {
            ok = parse_uint(arg, value, 1, BENCH_MAX_RUNS, &opt->runs);
        } else if (strcmp(arg, "--ops") == 0) {
            ok = parse_uint(arg, value, 1, BENCH_MAX_OPS, &opt->ops);
        } else if (strcmp(arg, "--suite-runs") == 0) {
            ok = parse_uint(arg, value, 1, BENCH_MAX_RUNS, &opt->suite_runs);
        } else if (strcmp(arg, "--capture") == 0) {
            opt->capture = value;
        } else if (strcmp(arg, "--endpoint") == 0) {
            opt->endpoint = value;
        } else if (strcmp(arg, "--connections") == 0) {
            ok = parse_uint(arg, value, 1, BENCH_MAX_CONNECTIONS, &opt->connections);
        } else if (strcmp(arg, "--duration") == 0) {
            ok = parse_seconds(value, &opt->duration_s);
        } else if (strcmp(arg, "--op") == 0) {
            if (strcmp(value, "ReadJob") == 0 || strcmp(value, "CancelJob") == 0) {
                opt->is_cancel_job = strcmp(value, "CancelJob") == 0;
            } else {
                fprintf(stderr, "etch bench: --op is ReadJob or CancelJob, not '%s'\n", value);
                ok = false;
            }
        } else if (strcmp(arg, "--access-key") == 0) {
            opt->access_key_id = value;
        } else if (strcmp(arg, "--secret-key") == 0) {
            opt->secret_access_key = value;
        } else if (strcmp(arg, "--region") == 0) {
            opt->region = value;
        } else {
            fprintf(stderr, "etch bench: unknown option '%s'\n\n%s", arg, s_usage);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
        if (!ok) {
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
        i++;
    }
    if ((opt->access_key_id == NULL) != (opt->secret_access_key == NULL)) {
        fprintf(stderr, "etch bench: --access-key and --secret-key go together\n");
        *exit_status = ETCH_EXIT_USAGE;
        return false;
    }
    return true;
}

int etch_cmd_bench(int argc, char **argv)
{
    struct bench_options opt;
    int exit_status = ETCH_EXIT_USAGE;
    if (!parse_options(argc, argv, &opt, &exit_status)) {
        return exit_status;
    }
    return opt.endpoint != NULL ? bench_live(&opt) : bench_inproc(&opt);
}

/* --- Timing (bench.h) ------------------------------------------------------------- */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof v[0], cmp_double);
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
