/* SPDX-License-Identifier: Apache-2.0
 *
 * test_expect.c - the expectation matcher: error codes as clients derive them, the
 * unknown-operation test, paths, $matchers, subsets and whole expectation groups.
 */
#include "harness/expect.h"

#include "harness/scenario.h"
#include "harness/vars.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A parsed response plus its JSON body, for one test. */
struct fixture {
    struct harness_http_response http;
    json_t *body;
    struct harness_observed obs;
};

static void observe(struct fixture *f, const char *raw)
{
    memset(f, 0, sizeof(*f));
    enum ref_status rc =
        harness_http_parse_response(ref_slice_from_cstr(raw), &f->http, NULL, NULL, NULL);
    assert_int_equal(rc, REF_OK);
    if (f->http.body.len > 0) {
        f->body =
            json_loadb((const char *)f->http.body.ptr, f->http.body.len, JSON_DECODE_ANY, NULL);
    }
    f->obs.http = &f->http;
    f->obs.body = f->body;
}

static void release(struct fixture *f)
{
    json_decref(f->body);
}

static void expect_code(const char *raw, const char *want)
{
    struct fixture f;
    observe(&f, raw);
    char code[64];
    bool has = harness_error_code(&f.obs, code, sizeof(code));
    if (want == NULL) {
        assert_false(has);
        assert_string_equal(code, "");
    } else {
        assert_true(has);
        assert_string_equal(code, want);
    }
    release(&f);
}

static void test_expect_error_code_derivation(void **state)
{
    (void)state;
    /* The header wins, cut at the first ':'. */
    expect_code("HTTP/1.1 400 Bad\r\nx-amzn-ErrorType: ValidationException:http://internal/\r\n"
                "Content-Length: 18\r\n\r\n{\"code\":\"Other\"}  ",
                "ValidationException");
    expect_code("HTTP/1.1 400 Bad\r\nX-Amzn-Errortype:  Spaced \r\nContent-Length: 0\r\n\r\n",
                "Spaced");
    /* Then the body's code. */
    expect_code("HTTP/1.1 409 C\r\nContent-Length: 41\r\n\r\n"
                "{\"code\":\"ResourceInUseException\",\"x\":1}  ",
                "ResourceInUseException");
    /* Then __type after its last '#'. */
    expect_code("HTTP/1.1 404 N\r\nContent-Length: 70\r\n\r\n"
                "{\"__type\":\"com.amazonaws.elastictranscoder#ResourceNotFoundException\"}",
                "ResourceNotFoundException");
    expect_code("HTTP/1.1 404 N\r\nContent-Length: 21\r\n\r\n{\"__type\":\"NoHashEx\"}",
                "NoHashEx");
    /* None: no code at all (botocore would use the status, the JS SDK "Unknown"). */
    expect_code("HTTP/1.1 500 E\r\nContent-Length: 15\r\n\r\n{\"message\":\"x\"}", NULL);
    expect_code("HTTP/1.1 404 N\r\nContent-Length: 6\r\n\r\n<html>", NULL);
    /* An empty header value does not count; the body is consulted next. */
    expect_code("HTTP/1.1 400 B\r\nx-amzn-ErrorType: :x\r\nContent-Length: 12\r\n\r\n"
                "{\"code\":\"C\"}",
                "C");
}

static void test_expect_unknown_operation(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        bool want;
    } cases[] = {
        {"HTTP/1.1 404 N\r\nx-amzn-ErrorType: UnknownOperationException\r\nContent-Length: 2\r\n"
         "\r\n{}",
         true},
        {"HTTP/1.1 404 N\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n<h1>x</h1", true},
        {"HTTP/1.1 404 N\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.1 404 N\r\nx-amzn-ErrorType: ResourceNotFoundException\r\nContent-Length: 2\r\n"
         "\r\n{}",
         false},
        {"HTTP/1.1 400 B\r\nContent-Length: 6\r\n\r\n<html>", false},
        /* Never from a ResourceNotFoundException, even without the error form. */
        {"HTTP/1.1 404 N\r\nx-amzn-ErrorType: ResourceNotFoundException\r\nContent-Length: 0\r\n"
         "\r\n",
         false},
        {"HTTP/1.1 404 N\r\nContent-Length: 40\r\n\r\n{\"__type\":\"a#ResourceNotFoundException\"}",
         false},
        /* A 404 not in the contract's error form: no code, or no string message. */
        {"HTTP/1.1 404 N\r\nContent-Length: 18\r\n\r\n{\"message\":\"nope\"}", true},
        {"HTTP/1.1 404 N\r\nx-amzn-ErrorType: NotFound\r\nContent-Length: 2\r\n\r\n[]", true},
        {"HTTP/1.1 404 N\r\nContent-Length: 16\r\n\r\n{\"code\":\"Other\"}", true},
        /* In the error form with another code: an operation the endpoint knows. */
        {"HTTP/1.1 404 N\r\nx-amzn-ErrorType: NotFound\r\nContent-Length: 15\r\n\r\n"
         "{\"message\":\"x\"}",
         false},
        {"HTTP/1.1 404 N\r\nContent-Length: "
         "40\r\n\r\n{\"code\":\"UnknownOperation\",\"message\":\"\"}",
         true},
        {"HTTP/1.1 405 M\r\nContent-Length: 0\r\n\r\n", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fixture f;
        observe(&f, cases[i].raw);
        if (harness_is_unknown_operation(&f.obs) != cases[i].want) {
            fail_msg("case %zu", i);
        }
        release(&f);
    }
}

static void test_expect_paths(void **state)
{
    (void)state;
    json_t *root = json_loads("{\"Job\":{\"Status\":\"Canceled\",\"Outputs\":[{\"Key\":\"a\"},"
                              "{\"Key\":\"b\"}]},\"N\":null}",
                              0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(harness_json_path(root, "Job.Status")), "Canceled");
    assert_string_equal(json_string_value(harness_json_path(root, "Job.Outputs[1].Key")), "b");
    assert_null(harness_json_path(root, "Job.Outputs[2].Key"));
    assert_null(harness_json_path(root, "Job.Missing"));
    assert_true(json_is_null(harness_json_path(root, "N")));
    assert_null(harness_json_path(root, "Job.Status.Deeper"));
    static const char *const bad[] = {"", ".a", "a.", "a..b", "a[", "a[x]", "a]", "[0]", "a[1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (harness_json_path_is_valid(bad[i])) {
            fail_msg("'%s' should not be a valid path", bad[i]);
        }
    }
    assert_true(harness_json_path_is_valid("Jobs[0].Timing.SubmitTimeMillis"));
    json_decref(root);
}

/* Matches expected JSON text against actual JSON text ("" for absent). */
static bool match_text(const char *expected, const char *actual, const struct harness_vars *vars)
{
    json_t *e = json_loads(expected, JSON_DECODE_ANY, NULL);
    assert_non_null(e);
    json_t *a = actual[0] != '\0' ? json_loads(actual, JSON_DECODE_ANY, NULL) : NULL;
    char why[256] = "";
    bool held = harness_match(e, a, vars, why, sizeof(why));
    if (!held) {
        assert_true(why[0] != '\0'); /* a mismatch always says why */
    }
    json_decref(e);
    json_decref(a);
    return held;
}

static void test_expect_matchers(void **state)
{
    (void)state;
    struct harness_vars vars;
    harness_vars_init(&vars);
    assert_int_equal(harness_vars_set(&vars, "id", "1111111111111-abcdef", 20), REF_OK);
    static const struct {
        const char *expected;
        const char *actual;
        bool want;
    } cases[] = {
        {"\"true\"", "\"true\"", true},
        {"\"true\"", "true", false}, /* {"Success":true} is not the string the model says */
        {"1", "1.0", true},
        {"1", "\"1\"", false},
        {"null", "null", true},
        {"null", "", false},
        {"\"${id}\"", "\"1111111111111-abcdef\"", true},
        {"\"$${id}\"", "\"${id}\"", true},
        {"{\"a\":1}", "{\"a\":1,\"b\":2}", true},
        {"{\"a\":1,\"c\":3}", "{\"a\":1,\"b\":2}", false},
        {"[1,2]", "[1,2]", true},
        {"[1]", "[1,2]", false},
        {"{\"$present\":true}", "null", true},
        {"{\"$present\":true}", "", false},
        {"{\"$absent\":true}", "", true},
        {"{\"$absent\":true}", "0", false},
        {"{\"a\":{\"$absent\":true}}", "{\"b\":1}", true},
        {"{\"$type\":\"integer\"}", "1795869900000", true},
        {"{\"$type\":\"integer\"}", "1.5", false},
        {"{\"$type\":\"number\"}", "1", true},
        {"{\"$type\":\"string\"}", "\"x\"", true},
        {"{\"$one_of\":[\"Progressing\",\"Complete\"]}", "\"Complete\"", true},
        {"{\"$one_of\":[\"Progressing\",\"Complete\"]}", "\"Canceled\"", false},
        {"{\"$match\":\"^Signature expired\"}", "\"Signature expired: 2026\"", true},
        {"{\"$match\":\"^x$\"}", "1", false},
        {"{\"$shape\":\"id\"}", "\"1795869900000-abc_9Z\"", true},
        {"{\"$shape\":\"id\"}", "\"179586990000-abc_9Z\"", false},
        {"{\"$shape\":\"id\"}", "\"1795869900000-abc-9Z\"", false},
        {"{\"$shape\":\"uuid\"}", "\"0d54a87d-909d-4567-87d2-00bc26ec1354\"", true},
        {"{\"$shape\":\"uuid\"}", "\"0d54a87d909d-4567-87d2-00bc26ec1354x\"", false},
        {"{\"$not\":\"Canceled\"}", "\"Submitted\"", true},
        {"{\"$not\":{\"$present\":true}}", "", true},
        {"{\"$contains\":{\"Id\":\"${id}\",\"Status\":\"Canceled\"}}",
         "[{\"Id\":\"x\"},{\"Id\":\"1111111111111-abcdef\",\"Status\":\"Canceled\",\"Arn\":\"a\"}]",
         true},
        {"{\"$contains\":{\"Id\":\"${id}\"}}", "[{\"Id\":\"x\"}]", false},
        {"{\"$contains\":1}", "{\"a\":1}", false},
        {"{\"$len\":2}", "[1,2]", true},
        {"{\"$len\":0}", "{}", true},
        {"{\"$len\":3}", "\"abc\"", true},
        {"{\"$len\":3}", "7", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (match_text(cases[i].expected, cases[i].actual, &vars) != cases[i].want) {
            fail_msg("case %zu: %s vs %s should %s", i, cases[i].expected, cases[i].actual,
                     cases[i].want ? "match" : "not match");
        }
    }
    harness_vars_cleanup(&vars);
}

static void test_expect_matcher_validation(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        bool valid;
        const char *where;
    } cases[] = {
        {"{\"a\":{\"$len\":-1}}", false, ".a.$len"},
        {"{\"$one_of\":[]}", false, ".$one_of"},
        {"{\"$one_of\":[1,{\"$bad\":1}]}", false, ".$one_of[1].$bad"},
        {"[{\"x.y\":{\"$type\":\"thing\"}}]", false, "[0][\"x.y\"].$type"},
        {"{\"$shape\":\"ipv4\"}", false, ".$shape"},
        {"{\"$match\":\"a{\"}", false, ".$match"},
        {"{\"$not\":{\"$contains\":{\"a\":{\"$present\":true}}}}", true, ""},
        {"{\"Job\":{\"Status\":\"Canceled\"}}", true, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        char where[128] = "";
        char why[256] = "";
        bool ok = harness_matcher_validate(v, where, sizeof(where), why, sizeof(why));
        if (ok != cases[i].valid || (!ok && strcmp(where, cases[i].where) != 0)) {
            fail_msg("case %zu: valid=%d where='%s' why='%s'", i, ok, where, why);
        }
        json_decref(v);
    }
}

/* Loads a one-step scenario and evaluates its expectation groups on raw. */
static size_t
eval_groups(const char *expect_json, const char *raw, struct harness_check_list *out, bool *all)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "{\"name\":\"s\",\"description\":\"d\",\"source\":\"model\",\"steps\":["
             "{\"call\":\"ListPipelines\",\"expect\":%s}]}",
             expect_json);
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    if (harness_scenario_load_buffer((const uint8_t *)text, strlen(text), "t/s.json", "t", NULL,
                                     &sc, &err) != REF_OK) {
        fail_msg("%s", err.message);
    }
    struct fixture f;
    observe(&f, raw);
    struct harness_vars vars;
    harness_vars_init(&vars);
    *all = true;
    for (size_t i = 0; i < sc->steps[0].num_expects; i++) {
        bool held = false;
        assert_int_equal(harness_expect_eval(&sc->steps[0].expects[i], &f.obs, &vars, out, &held),
                         REF_OK);
        *all = *all && held;
    }
    harness_vars_cleanup(&vars);
    release(&f);
    harness_scenario_free(sc);
    return out->count;
}

static void test_expect_groups(void **state)
{
    (void)state;
    static const char raw[] = "HTTP/1.1 409 Conflict\r\n"
                              "Content-Type: application/json\r\n"
                              "x-amzn-ErrorType: ResourceInUseException\r\n"
                              "x-amzn-RequestId: 0d54a87d-909d-4567-87d2-00bc26ec1354\r\n"
                              "Content-Length: 20\r\n\r\n{\"message\":\"in use\"}";
    struct harness_check_list l;
    harness_check_list_init(&l);
    bool all = false;
    size_t n = eval_groups("[{\"status\":\"4xx\",\"error_form\":true,\"json\":true},"
                           "{\"level\":\"should\",\"source\":\"inference\",\"status\":[409,429],"
                           "\"error\":\"ResourceInUseException\","
                           "\"headers\":{\"x-amzn-RequestId\":{\"$shape\":\"uuid\"},"
                           "\"content-type\":\"application/json\",\"Location\":false},"
                           "\"body\":{\"message\":\"in use\"},"
                           "\"paths\":{\"message\":{\"$type\":\"string\"}}}]",
                           raw, &l, &all);
    assert_true(all);
    assert_int_equal(n, 10);
    assert_string_equal(l.items[0].what, "status");
    assert_int_equal(l.items[0].level, HARNESS_LEVEL_MUST);
    assert_string_equal(l.items[3].what, "status");
    assert_int_equal(l.items[3].level, HARNESS_LEVEL_SHOULD);
    assert_int_equal(l.items[3].source, HARNESS_SOURCE_INFERENCE);
    assert_string_equal(l.items[3].expected, "409 or 429");
    harness_check_list_cleanup(&l);

    /* The same response against a success expectation: each broken check says why. */
    harness_check_list_init(&l);
    n = eval_groups("{\"status\":202,\"error\":null,\"body\":{\"Success\":\"true\"}}", raw, &l,
                    &all);
    assert_false(all);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_false(l.items[i].held);
    }
    assert_string_equal(l.items[0].actual, "409");
    assert_string_equal(l.items[1].expected, "no error code");
    assert_string_equal(l.items[1].actual, "ResourceInUseException");
    harness_check_list_cleanup(&l);

    /* A Message (capital M) body fails the error wire form and says so. */
    harness_check_list_init(&l);
    n = eval_groups("{\"error_form\":true}",
                    "HTTP/1.1 400 B\r\nx-amzn-ErrorType: V\r\nContent-Length: 15\r\n\r\n"
                    "{\"Message\":\"x\"}",
                    &l, &all);
    assert_false(all);
    assert_non_null(strstr(l.items[0].actual, "\"Message\" instead of \"message\""));
    harness_check_list_cleanup(&l);
}

static void test_expect_vars_expand(void **state)
{
    (void)state;
    struct harness_vars v;
    harness_vars_init(&v);
    assert_int_equal(harness_vars_set(&v, "a", "1", 1), REF_OK);
    assert_int_equal(harness_vars_set(&v, "a", "22", 2), REF_OK); /* replaced, not added */
    assert_int_equal(v.count, 1);
    struct ref_buf out;
    ref_buf_init(&out, 64);
    static const char in[] = "x${a}y$${a}z$";
    assert_int_equal(harness_vars_expand(&v, in, sizeof(in) - 1, &out, NULL, 0), REF_OK);
    assert_true(ref_slice_eq_cstr(ref_buf_slice(&out), "x22y${a}z$"));
    ref_buf_reset(&out);
    char missing[16];
    assert_int_equal(harness_vars_expand(&v, "${b}", 4, &out, missing, sizeof(missing)),
                     REF_E_NOT_FOUND);
    assert_string_equal(missing, "b");
    assert_int_equal(harness_vars_expand(&v, "${a", 3, &out, NULL, 0), REF_E_MALFORMED);
    ref_buf_cleanup(&out);
    /* Limits: HARNESS_MAX_VARS variables, HARNESS_MAX_VAR_BYTES per value. */
    char *big = calloc(1, HARNESS_MAX_VAR_BYTES + 1);
    assert_non_null(big);
    assert_int_equal(harness_vars_set(&v, "big", big, HARNESS_MAX_VAR_BYTES), REF_OK);
    assert_int_equal(harness_vars_set(&v, "big", big, HARNESS_MAX_VAR_BYTES + 1), REF_E_TOO_LARGE);
    free(big);
    for (size_t i = v.count; i < HARNESS_MAX_VARS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "v%zu", i);
        assert_int_equal(harness_vars_set(&v, name, "x", 1), REF_OK);
    }
    assert_int_equal(harness_vars_set(&v, "one_more", "x", 1), REF_E_TOO_LARGE);
    harness_vars_cleanup(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expect_error_code_derivation),
        cmocka_unit_test(test_expect_unknown_operation),
        cmocka_unit_test(test_expect_paths),
        cmocka_unit_test(test_expect_matchers),
        cmocka_unit_test(test_expect_matcher_validation),
        cmocka_unit_test(test_expect_groups),
        cmocka_unit_test(test_expect_vars_expand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
