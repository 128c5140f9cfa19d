/* SPDX-License-Identifier: Apache-2.0
 *
 * test_diff.c - differential runs: what normalisation replaces (captured Ids, other Ids,
 * UUIDs, SigV4 dates, the run's name suffix) and what it keeps; which body differences
 * are reported (present or missing, types, strings and booleans) and which are not
 * (numbers, message wording, the order of the same items); whole scenarios run twice on
 * the embedded reference (no difference) and against a target that answers otherwise.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/diff.h"

#include "harness/backend.h"
#include "harness/runner.h"
#include "harness/scenario.h"

#include "ref/service.h"

#include "json_alloc_hooks.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "scenario_steps.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    if (v == NULL) {
        fail_msg("bad test JSON: %s", err.text);
    }
    return v;
}

static void
assert_normalised(json_t *in, const struct harness_vars *vars, const char *suffix, const char *want)
{
    json_t *out = harness_diff_normalise(in, vars, suffix);
    assert_non_null(out);
    char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_non_null(text);
    if (strcmp(text, want) != 0) {
        fail_msg("normalised to %s, want %s", text, want);
    }
    free(text);
    json_decref(out);
}

/* --- Normalisation ----------------------------------------------------------------- */

static void test_diff_normalise_replaces_what_differs(void **state)
{
    (void)state;
    struct harness_vars vars;
    harness_vars_init(&vars);
    assert_int_equal(harness_vars_set(&vars, "jobId", "1795869900000-abc123", 20), REF_OK);
    assert_int_equal(harness_vars_set(&vars, "status", "Canceled", 8), REF_OK);
    json_t *in = parse("{\"Job\":{\"Id\":\"1795869900000-abc123\","
                       "\"Arn\":\"arn:aws:elastictranscoder:us-east-1:111122223333:job/"
                       "1795869900000-abc123\","
                       "\"PipelineId\":\"1795869900001-zzz999\",\"Status\":\"Canceled\","
                       "\"Name\":\"first-k3j9x2ab\"},"
                       "\"rid\":\"0f8fad5b-d9cb-469f-a165-70867728950e\","
                       "\"message\":\"Signature expired: 20261128T124500Z is now earlier\","
                       "\"n\":17958699000001}");
    assert_normalised(in, &vars, "-k3j9x2ab",
                      "{\"Job\":{\"Arn\":\"arn:aws:elastictranscoder:us-east-1:111122223333:job/"
                      "${jobId}\",\"Id\":\"${jobId}\",\"Name\":\"first\",\"PipelineId\":\"<id>\","
                      "\"Status\":\"Canceled\"},\"message\":\"Signature expired: <date> is now "
                      "earlier\",\"n\":17958699000001,\"rid\":\"<uuid>\"}");
    json_decref(in);
    harness_vars_cleanup(&vars);
}

static void test_diff_normalise_keeps_what_is_not_generated(void **state)
{
    (void)state;
    /* Not an Id: too short, too long, part of a longer word; not a UUID: one digit short. */
    json_t *in =
        parse("[\"179586990000-abc123\",\"1795869900000-abc1234\",\"x1795869900000-abc123\","
              "\"0f8fad5b-d9cb-469f-a165-70867728950\",\"2026-11-28T12:45:00Z\",\"\"]");
    assert_normalised(in, NULL, NULL,
                      "[\"179586990000-abc123\",\"1795869900000-abc1234\",\"x1795869900000-"
                      "abc123\",\"0f8fad5b-d9cb-469f-a165-70867728950\",\"2026-11-28T12:45:00Z\","
                      "\"\"]");
    json_decref(in);
}

static void test_diff_normalise_prefers_the_longest_variable(void **state)
{
    (void)state;
    struct harness_vars vars;
    harness_vars_init(&vars);
    assert_int_equal(harness_vars_set(&vars, "short", "token123", 8), REF_OK);
    assert_int_equal(harness_vars_set(&vars, "long", "token1234567", 12), REF_OK);
    json_t *in = parse("\"a token1234567 b token123\"");
    assert_normalised(in, &vars, NULL, "\"a ${long} b ${short}\"");
    json_decref(in);
    harness_vars_cleanup(&vars);
}

/* --- Bodies ------------------------------------------------------------------------ */

static bool
has_item(const struct harness_step_diff *d, const char *what, const char *a, const char *b)
{
    for (size_t i = 0; i < d->num_items; i++) {
        if (strcmp(d->items[i].what, what) == 0 && strcmp(d->items[i].a, a) == 0 &&
            strcmp(d->items[i].b, b) == 0) {
            return true;
        }
    }
    return false;
}

static void diff_texts(const char *a, const char *b, struct harness_step_diff *d)
{
    memset(d, 0, sizeof(*d));
    json_t *ja = parse(a);
    json_t *jb = parse(b);
    harness_diff_bodies(ja, jb, "", d);
    json_decref(ja);
    json_decref(jb);
}

static void test_diff_normalise_survives_every_allocation_failure(void **state)
{
    (void)state;
    json_t *in = json_loads("{\"Job\":{\"Id\":\"1795869900000-abc123\",\"Status\":\"Submitted\","
                            "\"Outputs\":[{\"Key\":\"a\"},{\"Key\":\"b\",\"Id\":\"2\"}]},"
                            "\"NextPageToken\":null,\"Count\":3}",
                            0, NULL);
    assert_non_null(in);
    for (long fail_at = 0;; fail_at++) {
        json_allocs_left = fail_at;
        json_live = 0;
        json_set_alloc_funcs(counting_json_malloc, counting_json_free);
        json_t *out = harness_diff_normalise(in, NULL, NULL);
        bool is_done = out != NULL;
        json_decref(out);
        json_set_alloc_funcs(malloc, free);
        assert_int_equal(json_live, 0);
        if (is_done) {
            break;
        }
        assert_true(fail_at < 10000);
    }
    json_decref(in);
}

static void test_diff_bodies_reports_fields(void **state)
{
    (void)state;
    struct harness_step_diff d;
    diff_texts("{\"Job\":{\"Status\":\"Canceled\",\"Timing\":{\"StartTimeMillis\":1}},"
               "\"Success\":\"true\",\"on\":true}",
               "{\"Job\":{\"Status\":\"Submitted\",\"Timing\":{}},\"Success\":true,"
               "\"on\":false,\"extra\":null}",
               &d);
    assert_true(has_item(&d, "body Job.Status", "\"Canceled\"", "\"Submitted\""));
    assert_true(has_item(&d, "body Job.Timing.StartTimeMillis", "present", "missing"));
    assert_true(has_item(&d, "body Success", "a string", "a boolean"));
    assert_true(has_item(&d, "body on", "true", "false"));
    assert_true(has_item(&d, "body extra", "missing", "present"));
    assert_int_equal(d.differences, 5);
}

static void test_diff_bodies_ignores_what_legitimately_differs(void **state)
{
    (void)state;
    struct harness_step_diff d;
    /* Times, message wording, the order of the same items: no difference. */
    diff_texts("{\"Timing\":{\"SubmitTimeMillis\":1},\"message\":\"one wording\","
               "\"Jobs\":[{\"Id\":\"<id>\",\"Key\":\"a\",\"T\":1},{\"Id\":\"<id>\",\"Key\":\"b\","
               "\"T\":2}]}",
               "{\"Timing\":{\"SubmitTimeMillis\":99},\"message\":\"another\","
               "\"Jobs\":[{\"Id\":\"<id>\",\"Key\":\"b\",\"T\":7},{\"Id\":\"<id>\",\"Key\":\"a\","
               "\"T\":8}]}",
               &d);
    assert_int_equal(d.differences, 0);
    /* But a number against a string is, and so is a message that is missing. */
    diff_texts("{\"Timing\":{\"SubmitTimeMillis\":1},\"message\":\"x\"}",
               "{\"Timing\":{\"SubmitTimeMillis\":\"1\"}}", &d);
    assert_true(has_item(&d, "body Timing.SubmitTimeMillis", "an integer", "a string"));
    assert_true(has_item(&d, "body message", "present", "missing"));
}

static void test_diff_bodies_arrays(void **state)
{
    (void)state;
    struct harness_step_diff d;
    diff_texts("{\"Jobs\":[{\"Key\":\"a\"},{\"Key\":\"b\"}]}", "{\"Jobs\":[{\"Key\":\"a\"}]}", &d);
    assert_true(has_item(&d, "body Jobs", "2 items", "1 items"));
    diff_texts("{\"Jobs\":[{\"Key\":\"a\"},{\"Key\":\"b\"}]}",
               "{\"Jobs\":[{\"Key\":\"a\"},{\"Key\":\"c\"}]}", &d);
    assert_true(has_item(&d, "body Jobs[1].Key", "\"b\"", "\"c\""));
    assert_int_equal(d.differences, 1);
}

static void test_diff_bodies_item_limit(void **state)
{
    (void)state;
    /* More differences than listed: all counted. */
    char a[4096];
    char b[4096];
    size_t na = (size_t)snprintf(a, sizeof(a), "{");
    size_t nb = (size_t)snprintf(b, sizeof(b), "{");
    for (int i = 0; i < HARNESS_DIFF_MAX_ITEMS + 5; i++) {
        na += (size_t)snprintf(a + na, sizeof(a) - na, "%s\"k%d\":\"x\"", i > 0 ? "," : "", i);
        nb += (size_t)snprintf(b + nb, sizeof(b) - nb, "%s\"k%d\":\"y\"", i > 0 ? "," : "", i);
    }
    snprintf(a + na, sizeof(a) - na, "}");
    snprintf(b + nb, sizeof(b) - nb, "}");
    struct harness_step_diff d;
    diff_texts(a, b, &d);
    assert_int_equal(d.num_items, HARNESS_DIFF_MAX_ITEMS);
    assert_int_equal(d.differences, HARNESS_DIFF_MAX_ITEMS + 5);
}

/* --- Scenarios --------------------------------------------------------------------- */

#define FLOW                                                                                       \
    "{\"name\":\"create\",\"call\":\"CreatePipeline\",\"params\":{\"Name\":\"p\","                 \
    "\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":\"arn:aws:iam::111122223333:role/"   \
    "R\"},"                                                                                        \
    "\"capture\":{\"p\":\"Pipeline.Id\"}},"                                                        \
    "{\"name\":\"pause\",\"call\":\"UpdatePipelineStatus\",\"params\":{\"Id\":\"${p}\","           \
    "\"Status\":\"Paused\"}},"                                                                     \
    "{\"name\":\"job\",\"call\":\"CreateJob\",\"params\":{\"PipelineId\":\"${p}\","                \
    "\"Input\":{\"Key\":\"i\"},\"Output\":{\"Key\":\"o\",\"PresetId\":\"1351620000001-000010\"}}," \
    "\"capture\":{\"j\":\"Job.Id\"}},"                                                             \
    "{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":{\"Id\":\"${j}\"}},"                   \
    "{\"name\":\"list\",\"call\":\"ListJobsByStatus\",\"params\":{\"Status\":\"Canceled\"}},"      \
    "{\"name\":\"read\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"}},"                       \
    "{\"name\":\"restricted\",\"call\":\"ListPipelines\",\"sign\":\"restricted\"}"

static void
run(const struct harness_scenario *sc, struct harness_backend *b, struct harness_scenario_result *r)
{
    assert_int_equal(harness_run_scenario(sc, b, r), REF_OK);
}

static void test_diff_scenario_reference_against_itself(void **state)
{
    (void)state;
    struct harness_scenario *sc = load(FLOW);
    struct harness_inproc_options live_like = {.is_live_like = true};
    struct harness_backend *a = harness_backend_inproc_new(&live_like);
    struct harness_backend *b = harness_backend_inproc_new(&live_like);
    assert_non_null(a);
    assert_non_null(b);
    struct harness_scenario_result ra;
    struct harness_scenario_result rb;
    run(sc, a, &ra);
    run(sc, b, &rb);
    assert_int_equal(ra.verdict, HARNESS_VERDICT_PASS);
    /* Different Ids, request ids, times and name suffixes on each side, and yet: */
    assert_string_not_equal(ra.name_suffix, rb.name_suffix);
    struct harness_scenario_diff d;
    assert_int_equal(harness_diff_scenario(&ra, &rb, &d), REF_OK);
    for (size_t i = 0; i < d.num_steps; i++) {
        for (size_t k = 0; k < d.steps[i].num_items; k++) {
            print_message("%s: %s: %s | %s\n", d.steps[i].step->name, d.steps[i].items[k].what,
                          d.steps[i].items[k].a, d.steps[i].items[k].b);
        }
    }
    assert_int_equal(d.differences, 0);
    assert_int_equal(d.compared, 7);
    harness_scenario_diff_cleanup(&d);
    harness_scenario_result_cleanup(&ra);
    harness_scenario_result_cleanup(&rb);
    harness_backend_free(a);
    harness_backend_free(b);
    harness_scenario_free(sc);
}

/* A target that answers every request the same way. */
struct canned {
    struct harness_backend base;
    const char *answer;
};

static enum ref_status
canned_send(struct harness_backend *b, struct ref_slice req, struct ref_buf *resp)
{
    (void)req;
    struct canned *c = b->impl;
    return ref_buf_append_cstr(resp, c->answer);
}

static int64_t canned_now(struct harness_backend *b)
{
    (void)b;
    return HARNESS_DEFAULT_START_MS;
}

static const struct harness_backend_ops s_canned_ops = {.send = canned_send, .now_ms = canned_now};

static void test_diff_scenario_reports_differences(void **state)
{
    (void)state;
    struct harness_scenario *sc =
        load("{\"name\":\"read\",\"call\":\"ReadJob\",\"params\":{\"Id\":\"" HARNESS_PROBE_ID "\"},"
             "\"expect\":{\"status\":\"4xx\"}},"
             "{\"name\":\"as-restricted\",\"call\":\"ListPipelines\",\"sign\":\"restricted\"}");
    struct canned c = {.answer = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 3\r\n\r\nno!"};
    c.base.ops = &s_canned_ops;
    c.base.impl = &c;
    c.base.host = "example.test";
    c.base.region = "us-east-1";
    c.base.service = "elastictranscoder";
    c.base.principals[HARNESS_PRINCIPAL_MAIN] = REF_TEST_CRED_MAIN;
    struct harness_inproc_options live_like = {.is_live_like = true};
    struct harness_backend *b = harness_backend_inproc_new(&live_like);
    struct harness_scenario_result ra;
    struct harness_scenario_result rb;
    run(sc, &c.base, &ra);
    run(sc, b, &rb);
    struct harness_scenario_diff d;
    assert_int_equal(harness_diff_scenario(&ra, &rb, &d), REF_OK);
    const struct harness_step_diff *s = &d.steps[0];
    assert_true(s->is_compared);
    assert_true(has_item(s, "status", "400", "404"));
    assert_true(has_item(s, "error code", "none", "ResourceNotFoundException"));
    assert_true(has_item(s, "header Content-Type", "text/plain", "application/json"));
    assert_true(has_item(s, "header x-amzn-RequestId", "missing", "present"));
    assert_true(has_item(s, "header x-amzn-ErrorType", "missing", "present"));
    assert_true(has_item(s, "body", "not JSON", "JSON"));
    /* The canned target has no restricted principal: not compared, and why. */
    assert_false(d.steps[1].is_compared);
    assert_non_null(strstr(d.steps[1].note, "A: the target has no restricted principal"));
    assert_int_equal(d.compared, 1);
    assert_int_equal(d.differences, s->differences);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    harness_diff_report_text(f, &d, true, false);
    fclose(f);
    assert_non_null(strstr(text, "DIFF  t/s  (6 differences in 1 step compared)"));
    assert_non_null(strstr(text, "    read: status: A 400 | B 404\n"));
    assert_non_null(strstr(text, "as-restricted: not compared (A: the target has no restricted"));
    free(text);

    harness_scenario_diff_cleanup(&d);
    harness_scenario_result_cleanup(&ra);
    harness_scenario_result_cleanup(&rb);
    harness_backend_free(b);
    harness_scenario_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_normalise_replaces_what_differs),
        cmocka_unit_test(test_diff_normalise_keeps_what_is_not_generated),
        cmocka_unit_test(test_diff_normalise_prefers_the_longest_variable),
        cmocka_unit_test(test_diff_normalise_survives_every_allocation_failure),
        cmocka_unit_test(test_diff_bodies_reports_fields),
        cmocka_unit_test(test_diff_bodies_ignores_what_legitimately_differs),
        cmocka_unit_test(test_diff_bodies_arrays),
        cmocka_unit_test(test_diff_bodies_item_limit),
        cmocka_unit_test(test_diff_scenario_reference_against_itself),
        cmocka_unit_test(test_diff_scenario_reports_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
