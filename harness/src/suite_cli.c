/* SPDX-License-Identifier: Apache-2.0
 *
 * suite_cli.c - loading and selecting the suite for the etch commands, and the worker
 * pool that runs the selected scenarios.
 *
 * Selection is checked before anything runs: a --scenario or --tag that selects nothing
 * is a usage error, not an empty green run.
 */
#define _POSIX_C_SOURCE 200809L

#include "suite_cli.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool etch_missing_value(int argc, char **argv, int i, const char *cmd)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "etch %s: %s needs a value\n", cmd, argv[i]);
        return true;
    }
    return false;
}

/* Adds a selector to a list: ETCH_OPTION_TAKEN, or ETCH_OPTION_BAD (message printed)
 * when the list is full. */
static enum etch_option_result
push(const char **list, size_t *n, const char *value, const char *cmd, const char *opt)
{
    if (*n == ETCH_MAX_SELECTORS) {
        fprintf(stderr, "etch %s: more than %d %s options\n", cmd, ETCH_MAX_SELECTORS, opt);
        return ETCH_OPTION_BAD;
    }
    list[(*n)++] = value;
    return ETCH_OPTION_TAKEN;
}

enum etch_option_result etch_selection_option(
    int argc, char **argv, int *i, const char *cmd, bool allow_names, struct etch_selection *sel)
{
    const char *a = argv[*i];
    bool is_known = strcmp(a, "--scenarios") == 0 || strcmp(a, "--tag") == 0 ||
                    (allow_names && (strcmp(a, "--scenario") == 0 || strcmp(a, "--exclude") == 0));
    if (!is_known) {
        return ETCH_OPTION_NOT_MINE;
    }
    if (etch_missing_value(argc, argv, *i, cmd)) {
        return ETCH_OPTION_BAD;
    }
    const char *v = argv[++*i];
    if (strcmp(a, "--scenarios") == 0) {
        if (sel->num_scenarios_dirs == ETCH_MAX_SCENARIO_DIRS) {
            fprintf(stderr, "etch %s: more than %d --scenarios options\n", cmd,
                    ETCH_MAX_SCENARIO_DIRS);
            return ETCH_OPTION_BAD;
        }
        sel->scenarios_dirs[sel->num_scenarios_dirs++] = v;
        return ETCH_OPTION_TAKEN;
    }
    if (strcmp(a, "--tag") == 0) {
        return push(sel->tags, &sel->num_tags, v, cmd, "--tag");
    }
    if (strcmp(a, "--scenario") == 0) {
        return push(sel->names, &sel->num_names, v, cmd, "--scenario");
    }
    return push(sel->excludes, &sel->num_excludes, v, cmd, "--exclude");
}

void etch_selection_finish(struct etch_selection *sel)
{
    if (sel->num_scenarios_dirs == 0) {
        const char *env = getenv("ETCH_SCENARIOS");
        struct stat st;
        if (env != NULL && env[0] != '\0') {
            sel->scenarios_dirs[0] = env;
        } else if (stat(ETCH_SCENARIOS_SOURCE_DIR, &st) == 0 && S_ISDIR(st.st_mode)) {
            sel->scenarios_dirs[0] = ETCH_SCENARIOS_SOURCE_DIR;
        } else {
            sel->scenarios_dirs[0] = ETCH_SCENARIOS_INSTALL_DIR;
        }
        sel->num_scenarios_dirs = 1;
    }
    if (sel->num_scenarios_dirs == 1) {
        sel->scenarios_dir = sel->scenarios_dirs[0];
        return;
    }
    size_t used = 0;
    sel->scenarios_label[0] = '\0';
    for (size_t d = 0; d < sel->num_scenarios_dirs && used < sizeof(sel->scenarios_label); d++) {
        int n = snprintf(sel->scenarios_label + used, sizeof(sel->scenarios_label) - used, "%s%s",
                         d > 0 ? ", " : "", sel->scenarios_dirs[d]);
        used += n > 0 ? (size_t)n : 0;
    }
    sel->scenarios_dir = sel->scenarios_label;
}

/* Loads one folder. Returns true on success; false with a message printed. */
static bool load_one_dir(const char *cmd, const char *dir, struct harness_suite *suite)
{
    struct harness_load_error err;
    enum ref_status rc = harness_suite_load_dir(dir, suite, &err);
    if (rc != REF_OK) {
        char text[ETCH_LOAD_MESSAGE_BYTES];
        harness_load_error_format(&err, text, sizeof(text));
        fprintf(stderr, "etch %s: %s\n", cmd, text);
        return false;
    }
    if (suite->count == 0) {
        fprintf(stderr, "etch %s: no scenario files under %s\n", cmd, dir);
        harness_suite_cleanup(suite);
        return false;
    }
    return true;
}

/* Moves the scenarios of more to the end of suite (more is left empty). A name both have
 * is a usage error naming both files: reports, selections and baselines name a scenario
 * by its name alone, so one of the two would silently stand for the other. */
static bool add_scenarios(const char *cmd, struct harness_suite *suite, struct harness_suite *more)
{
    for (size_t k = 0; k < more->count; k++) {
        for (size_t i = 0; i < suite->count; i++) {
            if (strcmp(suite->items[i]->name, more->items[k]->name) == 0) {
                fprintf(stderr,
                        "etch %s: two scenarios are named '%s': %s and %s (a name must be "
                        "unique across the --scenarios folders)\n",
                        cmd, more->items[k]->name, suite->items[i]->path, more->items[k]->path);
                return false;
            }
        }
    }
    struct harness_scenario **items =
        realloc(suite->items, (suite->count + more->count) * sizeof(*items));
    if (items == NULL) {
        fprintf(stderr, "etch %s: out of memory\n", cmd);
        return false;
    }
    memcpy(items + suite->count, more->items, more->count * sizeof(*items));
    suite->items = items;
    suite->count += more->count;
    free(more->items);
    more->items = NULL;
    more->count = 0;
    return true;
}

bool etch_load_suite(const char *cmd, const struct etch_selection *sel, struct harness_suite *suite)
{
    memset(suite, 0, sizeof(*suite));
    for (size_t d = 0; d < sel->num_scenarios_dirs; d++) {
        struct harness_suite more;
        if (!load_one_dir(cmd, sel->scenarios_dirs[d], d == 0 ? suite : &more)) {
            harness_suite_cleanup(suite);
            return false;
        }
        if (d > 0 && !add_scenarios(cmd, suite, &more)) {
            harness_suite_cleanup(&more);
            harness_suite_cleanup(suite);
            return false;
        }
    }
    return true;
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

bool etch_select(const char *cmd,
                 const struct etch_selection *sel,
                 const struct harness_suite *suite,
                 bool *selected,
                 size_t *count)
{
    *count = 0;
    bool all = sel->num_names == 0 && sel->num_tags == 0;
    for (size_t i = 0; i < suite->count; i++) {
        selected[i] = all;
    }
    for (size_t k = 0; k < sel->num_names; k++) {
        bool found = false;
        for (size_t i = 0; i < suite->count; i++) {
            if (name_matches(suite->items[i], sel->names[k])) {
                selected[i] = true;
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "etch %s: no scenario is named '%s' (see etch list)\n", cmd,
                    sel->names[k]);
            return false;
        }
    }
    for (size_t k = 0; k < sel->num_tags; k++) {
        bool found = false;
        for (size_t i = 0; i < suite->count; i++) {
            if (harness_scenario_has_tag(suite->items[i], sel->tags[k])) {
                selected[i] = true;
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "etch %s: no scenario has the tag '%s' (see etch list)\n", cmd,
                    sel->tags[k]);
            return false;
        }
    }
    for (size_t k = 0; k < sel->num_excludes; k++) {
        bool found = false;
        for (size_t i = 0; i < suite->count; i++) {
            const struct harness_scenario *sc = suite->items[i];
            if (name_matches(sc, sel->excludes[k]) ||
                harness_scenario_has_tag(sc, sel->excludes[k])) {
                selected[i] = false;
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "etch %s: --exclude '%s' names no scenario, area or tag\n", cmd,
                    sel->excludes[k]);
            return false;
        }
    }
    for (size_t i = 0; i < suite->count; i++) {
        *count += selected[i] ? 1 : 0;
    }
    return true;
}

bool etch_plan_open(const char *cmd, const struct etch_selection *sel, struct etch_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    if (!etch_load_suite(cmd, sel, &plan->suite)) {
        return false;
    }
    size_t n = plan->suite.count;
    bool *selected = calloc(n, sizeof(*selected));
    plan->order = calloc(n, sizeof(*plan->order));
    plan->ran = calloc(n, sizeof(*plan->ran));
    plan->statuses = calloc(n, sizeof(*plan->statuses));
    bool ok = false;
    if (selected == NULL || plan->order == NULL || plan->ran == NULL || plan->statuses == NULL) {
        fprintf(stderr, "etch %s: out of memory\n", cmd);
    } else {
        ok = etch_select(cmd, sel, &plan->suite, selected, &plan->count);
    }
    if (ok) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (selected[i]) {
                plan->order[k++] = i;
            }
        }
    }
    free(selected);
    if (!ok) {
        etch_plan_cleanup(plan);
    }
    return ok;
}

void etch_plan_cleanup(struct etch_plan *plan)
{
    free(plan->statuses);
    free(plan->ran);
    free(plan->order);
    harness_suite_cleanup(&plan->suite);
    memset(plan, 0, sizeof(*plan));
}

/* --- Workers ----------------------------------------------------------------------- */

struct pool {
    size_t n;
    atomic_size_t next;
    void (*fn)(void *ctx, size_t worker, size_t item);
    void *ctx;
};

struct worker_arg {
    struct pool *pool;
    size_t worker;
};

static void *worker_main(void *p)
{
    struct worker_arg *w = p;
    for (;;) {
        size_t item = atomic_fetch_add(&w->pool->next, 1);
        if (item >= w->pool->n) {
            break;
        }
        w->pool->fn(w->pool->ctx, w->worker, item);
    }
    return NULL;
}

void etch_run_workers(size_t n,
                      size_t workers,
                      void (*fn)(void *ctx, size_t worker, size_t item),
                      void *ctx)
{
    struct pool pool = {.n = n, .fn = fn, .ctx = ctx};
    atomic_init(&pool.next, 0);
    if (workers > ETCH_MAX_WORKERS) {
        workers = ETCH_MAX_WORKERS;
    }
    pthread_t threads[ETCH_MAX_WORKERS];
    struct worker_arg args[ETCH_MAX_WORKERS];
    size_t started = 0;
    for (size_t w = 1; w < workers; w++) {
        args[started] = (struct worker_arg){&pool, w};
        if (pthread_create(&threads[started], NULL, worker_main, &args[started]) != 0) {
            break; /* fewer threads: the others, and this one, take up the work */
        }
        started++;
    }
    struct worker_arg self = {&pool, 0};
    worker_main(&self);
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
}

bool etch_parse_count(const char *cmd,
                      const char *option,
                      const char *text,
                      long long min,
                      long long max,
                      long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "etch %s: %s needs a whole number from %lld to %lld, not '%s'\n", cmd,
                option, min, max, text);
        return false;
    }
    *out = v;
    return true;
}
