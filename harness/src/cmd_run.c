/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_run.c - `etch run` (the conformance suite, by default against the embedded
 * reference, in process) and `etch list` (the scenarios of the suite).
 *
 * The whole suite is loaded and checked before anything runs, so a broken scenario file
 * is exit status 2 and never a half-run. Each scenario gets a fresh target.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/commands.h"

#include "harness/backend.h"
#include "harness/report.h"
#include "harness/runner.h"
#include "harness/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SELECTORS 64

struct run_options {
    const char *junit;
    const char *tap;
    const char *jsonl;
    const char *scenarios_dir;
    const char *tags[MAX_SELECTORS];
    size_t num_tags;
    const char *names[MAX_SELECTORS];
    size_t num_names;
    bool strict;
    bool allow_unimplemented;
    bool no_color;
};

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: etch run [options]\n"
            "\n"
            "Runs the conformance suite against the embedded reference implementation, in\n"
            "process (each scenario on a fresh reference with a virtual clock).\n"
            "\n"
            "options:\n"
            "  --scenario NAME     run this scenario (name or area/name); repeatable\n"
            "  --tag TAG           run the scenarios with this tag (or area); repeatable\n"
            "                      (selectors add up; with none, every scenario runs)\n"
            "  --scenarios DIR     the suite folder (default: $ETCH_SCENARIOS, else the\n"
            "                      built-in suite)\n"
            "  --junit FILE        also write JUnit XML (one test case per scenario)\n"
            "  --tap FILE          also write TAP version 13\n"
            "  --jsonl FILE        also write JSON Lines (one object per scenario)\n"
            "  --strict            a DEVIATION (a should-level expectation broke) fails the run\n"
            "  --allow-unimplemented  NOT IMPLEMENTED does not fail the run\n"
            "  --no-color          no colour even on a terminal (NO_COLOR is honoured too)\n"
            "  --endpoint URL      a live endpoint (not supported yet)\n"
            "  --help              this text\n"
            "\n"
            "exit status:\n"
            "  0  every must-level expectation held\n"
            "  1  a FAIL, ERROR or NOT IMPLEMENTED (unless --allow-unimplemented), or a\n"
            "     DEVIATION with --strict\n"
            "  2  bad usage or a broken scenario file\n");
}

static void list_usage(FILE *out)
{
    fprintf(out, "usage: etch list [--scenarios DIR] [--tag TAG]...\n"
                 "\n"
                 "Lists the scenarios of the suite: area/name, tags and description.\n");
}

static const char *default_scenarios_dir(void)
{
    const char *env = getenv("ETCH_SCENARIOS");
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    struct stat st;
    if (stat(ETCH_SCENARIOS_SOURCE_DIR, &st) == 0 && S_ISDIR(st.st_mode)) {
        return ETCH_SCENARIOS_SOURCE_DIR;
    }
    return ETCH_SCENARIOS_INSTALL_DIR;
}

static bool need_value(int argc, char **argv, int i, const char *cmd)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "etch %s: %s needs a value\n", cmd, argv[i]);
        return false;
    }
    return true;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, const char *cmd, bool is_run, struct run_options *o)
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
            return 0;
        }
        if (strcmp(a, "--scenarios") == 0) {
            if (!need_value(argc, argv, i, cmd)) {
                return 2;
            }
            o->scenarios_dir = argv[++i];
        } else if (strcmp(a, "--tag") == 0) {
            if (!need_value(argc, argv, i, cmd)) {
                return 2;
            }
            if (o->num_tags == MAX_SELECTORS) {
                fprintf(stderr, "etch %s: more than %d --tag options\n", cmd, MAX_SELECTORS);
                return 2;
            }
            o->tags[o->num_tags++] = argv[++i];
        } else if (is_run && strcmp(a, "--scenario") == 0) {
            if (!need_value(argc, argv, i, cmd)) {
                return 2;
            }
            if (o->num_names == MAX_SELECTORS) {
                fprintf(stderr, "etch %s: more than %d --scenario options\n", cmd, MAX_SELECTORS);
                return 2;
            }
            o->names[o->num_names++] = argv[++i];
        } else if (is_run && (strcmp(a, "--junit") == 0 || strcmp(a, "--tap") == 0 ||
                              strcmp(a, "--jsonl") == 0)) {
            if (!need_value(argc, argv, i, cmd)) {
                return 2;
            }
            const char **slot = a[2] == 'j' && a[3] == 'u' ? &o->junit
                                : a[2] == 't'              ? &o->tap
                                                           : &o->jsonl;
            *slot = argv[++i];
        } else if (is_run && strcmp(a, "--strict") == 0) {
            o->strict = true;
        } else if (is_run && strcmp(a, "--allow-unimplemented") == 0) {
            o->allow_unimplemented = true;
        } else if (is_run && strcmp(a, "--no-color") == 0) {
            o->no_color = true;
        } else if (is_run && strcmp(a, "--endpoint") == 0) {
            fprintf(stderr, "etch run: --endpoint (live runs) is not supported yet; without it "
                            "the suite runs against the embedded reference\n");
            return 2;
        } else {
            fprintf(stderr, "etch %s: unknown option '%s' (see etch %s --help)\n", cmd, a, cmd);
            return 2;
        }
    }
    if (o->scenarios_dir == NULL) {
        o->scenarios_dir = default_scenarios_dir();
    }
    return -1;
}

static int load_suite(const char *cmd, const struct run_options *o, struct harness_suite *suite)
{
    struct harness_load_error err;
    enum ref_status rc = harness_suite_load_dir(o->scenarios_dir, suite, &err);
    if (rc != REF_OK) {
        char text[1400];
        harness_load_error_format(&err, text, sizeof(text));
        fprintf(stderr, "etch %s: %s\n", cmd, text);
        return 2;
    }
    if (suite->count == 0) {
        fprintf(stderr, "etch %s: no scenario files under %s\n", cmd, o->scenarios_dir);
        return 2;
    }
    return -1;
}

static bool name_matches(const struct harness_scenario *sc, const char *want)
{
    if (strcmp(sc->name, want) == 0) {
        return true;
    }
    size_t al = strlen(sc->area);
    return strncmp(want, sc->area, al) == 0 && want[al] == '/' &&
           strcmp(want + al + 1, sc->name) == 0;
}

/* Marks the selected scenarios; every selector must select something. */
static int select_scenarios(const char *cmd,
                            const struct run_options *o,
                            const struct harness_suite *suite,
                            bool *selected,
                            size_t *count)
{
    *count = 0;
    bool all = o->num_names == 0 && o->num_tags == 0;
    for (size_t i = 0; i < suite->count; i++) {
        selected[i] = all;
    }
    for (size_t k = 0; k < o->num_names; k++) {
        bool found = false;
        for (size_t i = 0; i < suite->count; i++) {
            if (name_matches(suite->items[i], o->names[k])) {
                selected[i] = true;
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "etch %s: no scenario is named '%s' (see etch list)\n", cmd,
                    o->names[k]);
            return 2;
        }
    }
    for (size_t k = 0; k < o->num_tags; k++) {
        bool found = false;
        for (size_t i = 0; i < suite->count; i++) {
            if (harness_scenario_has_tag(suite->items[i], o->tags[k])) {
                selected[i] = true;
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "etch %s: no scenario has the tag '%s' (see etch list)\n", cmd,
                    o->tags[k]);
            return 2;
        }
    }
    for (size_t i = 0; i < suite->count; i++) {
        *count += selected[i] ? 1 : 0;
    }
    return -1;
}

typedef int (*writer_fn)(FILE *out,
                         const struct harness_scenario_result *results,
                         size_t n,
                         const struct harness_report_meta *meta);

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
    int rc = fn(f, results, n, meta);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "etch run: writing the %s report to %s failed\n", what, path);
        return false;
    }
    return true;
}

int etch_cmd_run(int argc, char **argv)
{
    struct run_options o;
    int status = parse_options(argc, argv, "run", true, &o);
    if (status >= 0) {
        return status;
    }
    struct harness_suite suite;
    status = load_suite("run", &o, &suite);
    if (status >= 0) {
        return status;
    }
    bool *selected = calloc(suite.count, sizeof(*selected));
    struct harness_scenario_result *results = calloc(suite.count, sizeof(*results));
    size_t n = 0;
    if (selected == NULL || results == NULL) {
        fprintf(stderr, "etch run: out of memory\n");
        status = 2;
        goto out;
    }
    size_t count = 0;
    status = select_scenarios("run", &o, &suite, selected, &count);
    if (status >= 0) {
        goto out;
    }
    bool color = !o.no_color && getenv("NO_COLOR") == NULL && isatty(fileno(stdout));
    char tool[64];
    snprintf(tool, sizeof(tool), "etch %s", ETCH_VERSION);
    struct harness_report_meta meta = {
        .tool = tool,
        .target = "embedded reference (in process)",
        .endpoint = "$ETCH_ENDPOINT",
        .region = "us-east-1",
        .service = "elastictranscoder",
        .strict = o.strict,
        .allow_unimplemented = o.allow_unimplemented,
    };
    printf("%s: target %s\n", tool, meta.target);
    printf("scenarios: %s (%zu of %zu selected)\n\n", o.scenarios_dir, count, suite.count);
    fflush(stdout);
    for (size_t i = 0; i < suite.count; i++) {
        if (!selected[i]) {
            continue;
        }
        struct harness_backend *b = harness_backend_inproc_new(NULL);
        if (b == NULL) {
            fprintf(stderr, "etch run: cannot start the embedded reference\n");
            status = 1;
            goto out;
        }
        enum ref_status rc = harness_run_scenario(suite.items[i], b, &results[n]);
        harness_backend_free(b);
        if (rc != REF_OK) {
            fprintf(stderr, "etch run: %s: %s\n", suite.items[i]->display_path,
                    ref_status_name(rc));
            status = 1;
            goto out;
        }
        n++;
    }
    harness_report_text(stdout, results, n, &meta, color);
    bool written = write_report(o.junit, harness_report_junit, "JUnit", results, n, &meta) &&
                   write_report(o.tap, harness_report_tap, "TAP", results, n, &meta) &&
                   write_report(o.jsonl, harness_report_jsonl, "JSON Lines", results, n, &meta);
    struct harness_summary sum;
    harness_summary_compute(results, n, &sum);
    bool failed = sum.by_verdict[HARNESS_VERDICT_FAIL] > 0 ||
                  sum.by_verdict[HARNESS_VERDICT_ERROR] > 0 ||
                  (!o.allow_unimplemented && sum.by_verdict[HARNESS_VERDICT_NOT_IMPLEMENTED] > 0) ||
                  (o.strict && sum.by_verdict[HARNESS_VERDICT_DEVIATION] > 0);
    status = failed || !written ? 1 : 0;
out:
    for (size_t i = 0; i < n; i++) {
        harness_scenario_result_cleanup(&results[i]);
    }
    free(results);
    free(selected);
    harness_suite_cleanup(&suite);
    return status;
}

int etch_cmd_list(int argc, char **argv)
{
    struct run_options o;
    int status = parse_options(argc, argv, "list", false, &o);
    if (status >= 0) {
        return status;
    }
    struct harness_suite suite;
    status = load_suite("list", &o, &suite);
    if (status >= 0) {
        return status;
    }
    bool *selected = calloc(suite.count, sizeof(*selected));
    size_t count = 0;
    if (selected == NULL) {
        harness_suite_cleanup(&suite);
        return 2;
    }
    status = select_scenarios("list", &o, &suite, selected, &count);
    if (status < 0) {
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
            char full[256];
            snprintf(full, sizeof(full), "%s/%s", sc->area, sc->name);
            printf("%-*s  [", (int)width, full);
            for (size_t t = 1; t < sc->num_tags; t++) {
                printf("%s%s", t > 1 ? " " : "", sc->tags[t]);
            }
            printf("]%s  %s\n", sc->inproc_only ? " (in-process only)" : "", sc->description);
        }
        printf("%zu scenarios\n", count);
        status = 0;
    }
    free(selected);
    harness_suite_cleanup(&suite);
    return status;
}
