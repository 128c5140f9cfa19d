/* SPDX-License-Identifier: Apache-2.0
 *
 * test_explore.c - `etch explore` in process: against each deliberately broken reference
 * (a Progressing job that can be canceled, a paused pipeline that starts its jobs, a list
 * page that loses a job) the divergence is found from a fixed seed, shrunk to at most 8
 * steps, and written as a scenario that FAILs on the broken target and PASSes on the
 * reference when loaded back from its file; against the reference itself nothing is
 * found, with the clocks moved together and on the real clock without control; the same
 * seed gives the same run, with sequences one at a time or side by side.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/explore.h"

#include "harness/backend.h"
#include "harness/runner.h"
#include "harness/scenario.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct target {
    enum harness_broken_kind broken;
    bool is_live_like;
    /* > 0: a target without control whose clock moves on by itself before every request. */
    int64_t clock_ms_per_request;
};

static struct harness_backend *acquire(void *ctx)
{
    const struct target *t = ctx;
    if (t->clock_ms_per_request > 0) {
        return harness_backend_uncontrolled_new(t->broken, t->clock_ms_per_request);
    }
    if (t->broken != HARNESS_BROKEN_NONE) {
        return harness_backend_broken_new(t->broken);
    }
    struct harness_inproc_options opts = {.is_live_like = t->is_live_like};
    struct harness_backend *b = harness_backend_inproc_new(&opts);
    if (b != NULL && t->is_live_like) {
        b->cleanup_timeout_ms = 1;
    }
    return b;
}

static void release(void *ctx, struct harness_backend *b)
{
    (void)ctx;
    harness_backend_free(b);
}

static struct harness_explore_options options(struct target *t, uint64_t seed, const char *out)
{
    struct harness_explore_options o = {
        .seed = seed,
        .max_steps = 20000,
        .max_seconds = 60,
        .has_clock_control = !t->is_live_like,
        .out_dir = out,
        .acquire = acquire,
        .release = release,
        .ctx = t,
    };
    return o;
}

static enum harness_verdict replay(const char *path, struct harness_backend *b)
{
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    enum ref_status rc = harness_scenario_load_file(path, NULL, &sc, &err);
    if (rc != REF_OK) {
        char text[1200];
        harness_load_error_format(&err, text, sizeof(text));
        fail_msg("%s does not load: %s", path, text);
    }
    struct harness_scenario_result r;
    assert_int_equal(harness_run_scenario(sc, b, &r), REF_OK);
    enum harness_verdict v = r.verdict;
    harness_scenario_result_cleanup(&r);
    harness_scenario_free(sc);
    harness_backend_free(b);
    return v;
}

static void remove_tree(const char *dir)
{
    char sub[1100];
    snprintf(sub, sizeof(sub), "%s/explore", dir);
    DIR *d = opendir(sub);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            char path[1400];
            snprintf(path, sizeof(path), "%s/%s", sub, e->d_name);
            unlink(path);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    rmdir(sub);
    rmdir(dir);
}

static void finds_and_shrinks(enum harness_broken_kind kind, const char *signature)
{
    char dir[] = "explore-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct target t = {.broken = kind};
    struct harness_explore_options o = options(&t, 1, dir);
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_OK);
    assert_int_equal(s.divergences, 1);
    assert_int_equal(s.num_found, 1);
    const struct harness_explore_found *f = &s.found[0];
    printf("%s: %s, %zu -> %zu steps, after %llu steps in %.3f s\n", harness_broken_kind_name(kind),
           f->what, f->original_steps, f->shrunk_steps, (unsigned long long)s.steps, s.seconds);
    assert_non_null(strstr(f->what, signature));
    assert_true(f->shrunk_steps >= 1 && f->shrunk_steps <= 8);
    assert_true(f->shrunk_steps <= f->original_steps);
    assert_true(s.seconds < 60);
    assert_true(f->is_confirmed);
    assert_true(f->path[0] != '\0');
    /* Loaded back from its file, as `etch run --scenarios DIR` would. */
    assert_int_equal(replay(f->path, harness_backend_broken_new(kind)), HARNESS_VERDICT_FAIL);
    assert_int_equal(replay(f->path, harness_backend_inproc_new(NULL)), HARNESS_VERDICT_PASS);
    remove_tree(dir);
}

static void test_finds_cancel_of_progressing_job(void **state)
{
    (void)state;
    finds_and_shrinks(HARNESS_BROKEN_CANCEL_PROGRESSING, "CancelJob: status: endpoint 202");
}

static void test_finds_paused_pipeline_starting_jobs(void **state)
{
    (void)state;
    finds_and_shrinks(HARNESS_BROKEN_PAUSED_STARTS, "Status");
}

static void test_finds_job_lost_from_list_page(void **state)
{
    (void)state;
    finds_and_shrinks(HARNESS_BROKEN_LIST_DROPS_JOB, "body Jobs");
}

static void test_reference_against_itself_finds_nothing(void **state)
{
    (void)state;
    struct target t = {0};
    struct harness_explore_options o = options(&t, 7, NULL);
    o.max_steps = 5000;
    o.max_seconds = 0; /* bounded by the steps alone, however slow the build (valgrind) */
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_OK);
    assert_int_equal(s.divergences, 0);
    assert_int_equal(s.should_differences, 0);
    assert_true(s.steps >= 5000);
    assert_true(s.sequences > 100);
}

static void test_without_clock_control_finds_nothing(void **state)
{
    (void)state;
    struct target t = {.is_live_like = true};
    struct harness_explore_options o = options(&t, 3, NULL);
    o.max_steps = 1500;
    o.max_seconds = 0;
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_OK);
    assert_int_equal(s.divergences, 0);
    assert_true(s.steps >= 1500);
}

/* Without clock control only what timing decides is allowed to differ: a job lost from a
 * list page is still found. */
static void test_without_clock_control_finds_lost_job(void **state)
{
    (void)state;
    struct target t = {.broken = HARNESS_BROKEN_LIST_DROPS_JOB};
    struct harness_explore_options o = options(&t, 1, NULL);
    o.has_clock_control = false;
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_OK);
    assert_int_equal(s.divergences, 1);
    assert_non_null(strstr(s.found[0].what, "body Jobs"));
    assert_true(s.found[0].shrunk_steps <= 8);
}

static bool file_has(const char *path, const char *text)
{
    char buf[65536];
    FILE *fp = fopen(path, "r");
    size_t n = fp != NULL ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
    if (fp != NULL) {
        fclose(fp);
    }
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

/* Without clock control the reference follows the jobs of an endpoint whose clock moves by
 * itself: a CancelJob that a job the endpoint showed Progressing should have refused is
 * found (before, a 202 against a 409 was allowed as the real clock's doing), shrunk, and
 * written so that it replays: FAIL on the broken target, PASS in process, where the wait
 * for the status the reference followed (seed 2: the job read Progressing before the
 * cancel) moves the reference's clock. */
static void test_without_clock_control_finds_cancel_of_progressing_job(void **state)
{
    (void)state;
    char dir[] = "explore-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct target t = {.broken = HARNESS_BROKEN_CANCEL_PROGRESSING, .clock_ms_per_request = 400};
    struct harness_explore_options o = options(&t, 2, dir);
    o.has_clock_control = false;
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_OK);
    assert_int_equal(s.divergences, 1);
    const struct harness_explore_found *f = &s.found[0];
    printf("without control: %s, %zu -> %zu steps, after %llu steps in %.3f s\n", f->what,
           f->original_steps, f->shrunk_steps, (unsigned long long)s.steps, s.seconds);
    assert_non_null(strstr(f->what, "CancelJob: status: endpoint 202 | reference 409"));
    assert_true(f->shrunk_steps >= 1 && f->shrunk_steps <= 8);
    assert_true(s.seconds < 60);
    assert_true(f->is_confirmed);
    assert_true(file_has(f->path, "\"wait\""));
    assert_int_equal(replay(f->path, harness_backend_uncontrolled_new(t.broken, 400)),
                     HARNESS_VERDICT_FAIL);
    assert_int_equal(replay(f->path, harness_backend_inproc_new(NULL)), HARNESS_VERDICT_PASS);
    remove_tree(dir);
}

/* The same target unbroken: its jobs start and finish while the sequences run, the
 * reference follows them, and nothing differs. */
static void test_without_clock_control_follows_and_finds_nothing(void **state)
{
    (void)state;
    struct target t = {.clock_ms_per_request = 400};
    struct harness_explore_options o = options(&t, 11, NULL);
    o.has_clock_control = false;
    o.max_steps = 3000;
    o.max_seconds = 0;
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_OK);
    assert_int_equal(s.divergences, 0);
    assert_true(s.steps >= 3000);
    assert_true(s.followed > 20);
}

/* A job the endpoint showed Submitted on a pipeline it had paused, then Progressing, is
 * not followed: the paused pipeline that starts its jobs is found without control too. */
static void test_without_clock_control_finds_paused_pipeline_starting_jobs(void **state)
{
    (void)state;
    struct target t = {.broken = HARNESS_BROKEN_PAUSED_STARTS, .clock_ms_per_request = 400};
    struct harness_explore_options o = options(&t, 1, NULL);
    o.has_clock_control = false;
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_OK);
    assert_int_equal(s.divergences, 1);
    assert_true(s.seconds < 60);
}

static void test_same_seed_same_run(void **state)
{
    (void)state;
    struct target t = {.broken = HARNESS_BROKEN_PAUSED_STARTS};
    struct harness_explore_options o = options(&t, 11, NULL);
    struct harness_explore_summary a;
    struct harness_explore_summary b;
    assert_int_equal(harness_explore_run(&o, &a), REF_OK);
    assert_int_equal(harness_explore_run(&o, &b), REF_OK);
    assert_int_equal(a.steps, b.steps);
    assert_int_equal(a.sequences, b.sequences);
    assert_int_equal(a.num_found, b.num_found);
    assert_string_equal(a.found[0].what, b.found[0].what);
    assert_int_equal(a.found[0].shrunk_steps, b.found[0].shrunk_steps);
    /* Sequences side by side are judged in order: the same run. */
    o.workers = 3;
    assert_int_equal(harness_explore_run(&o, &b), REF_OK);
    assert_int_equal(a.steps, b.steps);
    assert_int_equal(a.sequences, b.sequences);
    assert_string_equal(a.found[0].what, b.found[0].what);
    o.workers = 1;
    /* Another seed, another run. */
    o.seed = 12;
    o.max_steps = 200;
    o.max_divergences = 8;
    assert_int_equal(harness_explore_run(&o, &b), REF_OK);
    assert_true(b.steps != a.steps || b.num_found != a.num_found ||
                strcmp(a.found[0].what, b.found[0].what) != 0);
}

static void test_endpoint_that_cannot_be_had(void **state)
{
    (void)state;
    struct target t = {.broken = HARNESS_BROKEN_COUNT}; /* harness_backend_broken_new: NULL */
    struct harness_explore_options o = options(&t, 1, NULL);
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_E_NOT_FOUND);
    assert_int_equal(s.sequences, 0);
    assert_true(s.error[0] != '\0');
}

/* An endpoint that stops answering after a number of requests (a transport failure). */
struct flaky {
    struct harness_backend base;
    struct harness_backend *inner;
    int answers_left;
};

static enum ref_status
flaky_send(struct harness_backend *b, struct ref_slice request, struct ref_buf *response)
{
    struct flaky *f = b->impl;
    if (f->answers_left-- <= 0) {
        return REF_E_INTERNAL;
    }
    return f->inner->ops->send(f->inner, request, response);
}

/* An endpoint whose CancelJob answers 404 where it canceled the job (202). */
static enum ref_status
lost_cancel_send(struct harness_backend *b, struct ref_slice request, struct ref_buf *response)
{
    struct flaky *f = b->impl;
    size_t from = response->len;
    enum ref_status rc = f->inner->ops->send(f->inner, request, response);
    static const char cancel[] = "DELETE /2012-09-25/jobs/";
    if (rc == REF_OK && request.len > sizeof(cancel) &&
        memcmp(request.ptr, cancel, sizeof(cancel) - 1) == 0 && response->len >= from + 12 &&
        memcmp(response->data + from + 9, "202", 3) == 0) {
        memcpy(response->data + from + 9, "404", 3);
    }
    return rc;
}

static int64_t flaky_now_ms(struct harness_backend *b)
{
    struct flaky *f = b->impl;
    return f->inner->ops->now_ms(f->inner);
}

static void flaky_destroy(struct harness_backend *b)
{
    struct flaky *f = b->impl;
    harness_backend_free(f->inner);
    free(f);
}

static const struct harness_backend_ops s_flaky_ops = {
    .send = flaky_send,
    .now_ms = flaky_now_ms,
    .destroy = flaky_destroy,
};

static const struct harness_backend_ops s_lost_cancel_ops = {
    .send = lost_cancel_send,
    .now_ms = flaky_now_ms,
    .destroy = flaky_destroy,
};

static struct harness_backend *acquire_flaky(void *ctx)
{
    struct flaky *f = calloc(1, sizeof(*f));
    struct harness_inproc_options opts = {.is_live_like = true};
    assert_non_null(f);
    f->inner = harness_backend_inproc_new(&opts);
    assert_non_null(f->inner);
    f->answers_left = 5;
    f->base = *f->inner;
    /* ctx, when given, points to the operations to use instead of the flaky ones. */
    f->base.ops = ctx != NULL ? *(const struct harness_backend_ops *const *)ctx : &s_flaky_ops;
    f->base.impl = f;
    f->base.cleanup_timeout_ms = 1;
    return &f->base;
}

static void test_endpoint_that_stops_answering(void **state)
{
    (void)state;
    struct target t = {.is_live_like = true};
    struct harness_explore_options o = options(&t, 1, NULL);
    o.acquire = acquire_flaky;
    o.ctx = NULL;
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_E_NOT_FOUND);
    assert_int_equal(s.divergences, 0);
    assert_int_equal(s.shrink_runs, 0);
    assert_non_null(strstr(s.error, "the endpoint failed at step"));
}

/* Without clock control a CancelJob may be answered 202 on one side and 409 on the other
 * (the job started in between), but not 404 against 202. */
static void test_without_clock_control_cancel_outcomes(void **state)
{
    (void)state;
    struct target t = {.is_live_like = true};
    struct harness_explore_options o = options(&t, 1, NULL);
    o.acquire = acquire_flaky;
    static const struct harness_backend_ops *lost_cancel = &s_lost_cancel_ops;
    o.ctx = &lost_cancel;
    o.max_steps = 2000;
    struct harness_explore_summary s;
    assert_int_equal(harness_explore_run(&o, &s), REF_OK);
    assert_int_equal(s.divergences, 1);
    assert_non_null(strstr(s.found[0].what, "CancelJob: status: endpoint 404 | reference 202"));
}

static void test_broken_kind_names(void **state)
{
    (void)state;
    for (int k = HARNESS_BROKEN_NONE + 1; k < HARNESS_BROKEN_COUNT; k++) {
        const char *name = harness_broken_kind_name((enum harness_broken_kind)k);
        assert_int_equal(harness_broken_kind_from_name(name), k);
    }
    assert_int_equal(harness_broken_kind_from_name("nothing-like-it"), HARNESS_BROKEN_NONE);
    assert_null(harness_backend_broken_new(HARNESS_BROKEN_NONE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_cancel_of_progressing_job),
        cmocka_unit_test(test_finds_paused_pipeline_starting_jobs),
        cmocka_unit_test(test_finds_job_lost_from_list_page),
        cmocka_unit_test(test_reference_against_itself_finds_nothing),
        cmocka_unit_test(test_without_clock_control_finds_nothing),
        cmocka_unit_test(test_without_clock_control_finds_lost_job),
        cmocka_unit_test(test_without_clock_control_finds_cancel_of_progressing_job),
        cmocka_unit_test(test_without_clock_control_follows_and_finds_nothing),
        cmocka_unit_test(test_without_clock_control_finds_paused_pipeline_starting_jobs),
        cmocka_unit_test(test_same_seed_same_run),
        cmocka_unit_test(test_endpoint_that_cannot_be_had),
        cmocka_unit_test(test_endpoint_that_stops_answering),
        cmocka_unit_test(test_without_clock_control_cancel_outcomes),
        cmocka_unit_test(test_broken_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
