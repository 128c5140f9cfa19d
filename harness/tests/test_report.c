/* SPDX-License-Identifier: Apache-2.0
 *
 * test_report.c - the report writers: JUnit XML and TAP are well formed and JSON Lines
 * parse, whatever bytes a target answers with; the text report and summary count right;
 * curl reproducers run without secrets and never leak one.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/report.h"

#include "harness/backend.h"
#include "harness/runner.h"
#include "harness/scenario.h"

#include "ref/service.h"

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

#define NUM_RESULTS 6

/* A fake target whose every answer is the same hostile response. */
struct fake {
    struct harness_backend base;
    const char *answer;
};

static enum ref_status
fake_send(struct harness_backend *b, struct ref_slice request, struct ref_buf *response)
{
    (void)request;
    struct fake *f = b->impl;
    return ref_buf_append_cstr(response, f->answer);
}

static int64_t fake_now_ms(struct harness_backend *b)
{
    (void)b;
    return HARNESS_DEFAULT_START_MS;
}

static const struct harness_backend_ops s_fake_ops = {.send = fake_send, .now_ms = fake_now_ms};

struct fixture {
    struct harness_scenario *scenarios[NUM_RESULTS];
    struct harness_scenario_result results[NUM_RESULTS];
};

static struct harness_scenario *load(const char *name, const char *steps)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "{\"name\":\"%s\",\"description\":\"d\",\"tags\":[\"x\"],\"source\":\"model\","
             "\"steps\":[%s]}",
             name, steps);
    char path[64];
    snprintf(path, sizeof(path), "area/%s.json", name);
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    if (harness_scenario_load_buffer((const uint8_t *)text, strlen(text), path, "area", NULL, &sc,
                                     &err) != REF_OK) {
        fail_msg("%s", err.message);
    }
    return sc;
}

/* One result of each verdict, the failing ones answered with markup, control bytes,
 * invalid UTF-8 and a CDATA terminator. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    static const char hostile[] = "HTTP/1.1 409 Conflict <&>\r\n"
                                  "x-amzn-ErrorType: Bad<Thing>&\"#\xff\r\n"
                                  "X-Amz-Security-Token: leaked-token-value\r\n"
                                  "Content-Length: 32\r\n\r\n"
                                  "{\"message\":\"]]> \\u0001 <x>&#\xff\xfe\"}";
    struct fake fk = {.answer = hostile};
    fk.base.ops = &s_fake_ops;
    fk.base.impl = &fk;
    fk.base.host = "example.test";
    fk.base.region = "us-east-1";
    fk.base.service = "elastictranscoder";
    fk.base.principals[HARNESS_PRINCIPAL_MAIN] = REF_TEST_CRED_MAIN;
    fk.base.principals[HARNESS_PRINCIPAL_TEMPORARY] = REF_TEST_CRED_TEMPORARY;
    f->scenarios[0] = load("passes", "{\"call\":\"ListPipelines\",\"expect\":{\"status\":200}}");
    f->scenarios[1] =
        load("fails", "{\"call\":\"CancelJob\",\"params\":{\"Id\":\"it's <me>\"},"
                      "\"sign\":\"temporary\",\"expect\":{\"status\":202,\"error\":null,"
                      "\"note\":\"a note with <markup> & #hash\"}}");
    f->scenarios[2] = load("deviates", "{\"call\":\"ListPipelines\",\"expect\":{\"level\":"
                                       "\"should\",\"status\":202}}");
    f->scenarios[3] = load("skips", "{\"seed_pipeline\":{\"id\":\"1111111111111-abcde1\"}}");
    f->scenarios[4] = load("errors", "{\"call\":\"ListPipelines\"}");
    f->scenarios[5] = load("unimplemented", "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"x\"},"
                                            "\"expect\":{\"status\":200}}");
    struct harness_backend *inproc = harness_backend_inproc_new(NULL);
    assert_non_null(inproc);
    assert_int_equal(harness_run_scenario(f->scenarios[0], inproc, &f->results[0]), REF_OK);
    harness_backend_free(inproc);
    inproc = harness_backend_inproc_new(NULL);
    assert_int_equal(harness_run_scenario(f->scenarios[2], inproc, &f->results[2]), REF_OK);
    harness_backend_free(inproc);
    assert_int_equal(harness_run_scenario(f->scenarios[1], &fk.base, &f->results[1]), REF_OK);
    assert_int_equal(harness_run_scenario(f->scenarios[3], &fk.base, &f->results[3]), REF_OK);
    fk.answer = "garbage\r\n";
    assert_int_equal(harness_run_scenario(f->scenarios[4], &fk.base, &f->results[4]), REF_OK);
    fk.answer = "HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\n<html>";
    assert_int_equal(harness_run_scenario(f->scenarios[5], &fk.base, &f->results[5]), REF_OK);
    static const enum harness_verdict want[NUM_RESULTS] = {
        HARNESS_VERDICT_PASS, HARNESS_VERDICT_FAIL,  HARNESS_VERDICT_DEVIATION,
        HARNESS_VERDICT_SKIP, HARNESS_VERDICT_ERROR, HARNESS_VERDICT_NOT_IMPLEMENTED};
    for (size_t i = 0; i < NUM_RESULTS; i++) {
        if (f->results[i].verdict != want[i]) {
            fail_msg("scenario %zu: %s", i, harness_verdict_name(f->results[i].verdict));
        }
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < NUM_RESULTS; i++) {
        harness_scenario_result_cleanup(&f->results[i]);
        harness_scenario_free(f->scenarios[i]);
    }
    free(f);
    return 0;
}

static const struct harness_report_meta s_meta = {
    .tool = "etch test",
    .target = "fake <target> & co",
    .endpoint = "$ETCH_ENDPOINT",
    .region = "us-east-1",
    .service = "elastictranscoder",
};

typedef enum ref_status (*writer_fn)(FILE *out,
                                     const struct harness_scenario_result *results,
                                     size_t n,
                                     const struct harness_report_meta *meta);

static char *write_to_string(writer_fn fn, const struct fixture *f, size_t *len)
{
    char *text = NULL;
    FILE *mem = open_memstream(&text, len);
    assert_non_null(mem);
    assert_int_equal(fn(mem, f->results, NUM_RESULTS, &s_meta), REF_OK);
    fclose(mem);
    return text;
}

/* No report may carry a secret: not the secret keys, not the session token. */
static void assert_no_secrets(const char *text)
{
    for (size_t i = 0; i < 3; i++) {
        assert_null(strstr(text, ref_test_credentials[i].secret_access_key));
    }
    assert_null(strstr(text, REF_TEST_CRED_TEMPORARY->session_token));
    assert_null(strstr(text, "leaked-token-value"));
}

/* A small well-formedness check: one root, balanced and properly nested tags, quoted
 * attributes, entities only from the predefined set, and no byte XML 1.0 forbids. */
static void assert_well_formed_xml(const char *x, size_t len)
{
    const char *stack[64];
    size_t depth = 0;
    size_t roots = 0;
    size_t i = 0;
    if (strncmp(x, "<?xml ", 6) == 0) {
        const char *end = strstr(x, "?>");
        assert_non_null(end);
        i = (size_t)(end - x) + 2;
    }
    while (i < len) {
        unsigned char c = (unsigned char)x[i];
        if (c >= 0x80 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) {
            fail_msg("byte 0x%02x at %zu", c, i);
        }
        if (c == '&') {
            static const char *const ents[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&apos;"};
            bool ok = false;
            for (size_t k = 0; k < 5; k++) {
                ok = ok || strncmp(x + i, ents[k], strlen(ents[k])) == 0;
            }
            if (!ok) {
                fail_msg("bare '&' at %zu", i);
            }
            i++;
            continue;
        }
        if (c == '>') {
            fail_msg("bare '>' in text at %zu", i);
        }
        if (c != '<') {
            i++;
            continue;
        }
        bool closing = x[i + 1] == '/';
        size_t name_start = i + (closing ? 2 : 1);
        size_t k = name_start;
        while (k < len && (x[k] == '-' || x[k] == '_' || (x[k] >= 'a' && x[k] <= 'z'))) {
            k++;
        }
        assert_true(k > name_start);
        /* Attributes: name="value" with no '<' inside values. */
        bool in_value = false;
        size_t j = k;
        while (j < len && (in_value || x[j] != '>')) {
            if (x[j] == '"') {
                in_value = !in_value;
            } else if (x[j] == '<') {
                fail_msg("'<' inside a tag at %zu", j);
            }
            j++;
        }
        assert_true(j < len);
        bool self_closing = x[j - 1] == '/';
        if (closing) {
            assert_true(depth > 0);
            depth--;
            if (strncmp(stack[depth], x + name_start, k - name_start) != 0) {
                fail_msg("mismatched closing tag at %zu", i);
            }
        } else if (!self_closing) {
            if (depth == 0) {
                roots++;
            }
            assert_true(depth < 64);
            stack[depth++] = x + name_start;
        } else if (depth == 0) {
            roots++;
        }
        i = j + 1;
    }
    assert_int_equal(depth, 0);
    assert_int_equal(roots, 1);
}

static void test_report_junit_is_well_formed(void **state)
{
    struct fixture *f = *state;
    size_t len = 0;
    char *xml = write_to_string(harness_report_junit, f, &len);
    assert_well_formed_xml(xml, len);
    assert_non_null(strstr(xml, "tests=\"6\" failures=\"2\" errors=\"1\" skipped=\"1\""));
    assert_non_null(strstr(xml, "<testcase classname=\"etch.area\" name=\"fails\""));
    assert_non_null(strstr(xml, "<failure type=\"FAIL\""));
    assert_non_null(strstr(xml, "<failure type=\"NOT IMPLEMENTED\""));
    assert_non_null(strstr(xml, "<error type=\"ERROR\""));
    assert_non_null(strstr(xml, "<skipped message="));
    assert_non_null(strstr(xml, "<system-out>DEVIATION"));
    assert_no_secrets(xml);
    free(xml);
}

static void test_report_flags_follow_the_exit_status(void **state)
{
    /* With --strict and --allow-unimplemented the machine reports agree with the exit
     * status: the deviation fails, the unimplemented operation is skipped. */
    struct fixture *f = *state;
    struct harness_report_meta meta = s_meta;
    meta.strict = true;
    meta.allow_unimplemented = true;
    char *xml = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&xml, &len);
    assert_non_null(mem);
    assert_int_equal(harness_report_junit(mem, f->results, NUM_RESULTS, &meta), REF_OK);
    fclose(mem);
    assert_well_formed_xml(xml, len);
    assert_non_null(strstr(xml, "tests=\"6\" failures=\"2\" errors=\"1\" skipped=\"2\""));
    assert_non_null(strstr(xml, "<failure type=\"DEVIATION\""));
    assert_non_null(strstr(xml, "<skipped message=\"NOT IMPLEMENTED: "));
    free(xml);
    char *tap = NULL;
    mem = open_memstream(&tap, &len);
    assert_non_null(mem);
    assert_int_equal(harness_report_tap(mem, f->results, NUM_RESULTS, &meta), REF_OK);
    fclose(mem);
    assert_non_null(strstr(tap, "not ok 3 - area/deviates"));
    assert_non_null(strstr(tap, "ok 6 - area/unimplemented # SKIP not implemented: "));
    free(tap);
}

static void test_report_tap_is_well_formed(void **state)
{
    struct fixture *f = *state;
    size_t len = 0;
    char *tap = write_to_string(harness_report_tap, f, &len);
    assert_no_secrets(tap);
    char *save = NULL;
    char *line = strtok_r(tap, "\n", &save);
    assert_string_equal(line, "TAP version 13");
    line = strtok_r(NULL, "\n", &save);
    assert_string_equal(line, "1..6");
    size_t next = 1;
    bool in_yaml = false;
    static const char *const want[NUM_RESULTS] = {"ok", "not ok", "ok", "ok", "not ok", "not ok"};
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        if (in_yaml) {
            assert_true(strncmp(line, "  ", 2) == 0);
            in_yaml = strcmp(line, "  ...") != 0;
            continue;
        }
        if (strcmp(line, "  ---") == 0) {
            in_yaml = true;
            continue;
        }
        if (line[0] == '#') {
            continue;
        }
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "%s %zu - area/", want[next - 1], next);
        if (strncmp(line, prefix, strlen(prefix)) != 0) {
            fail_msg("line '%s' does not start with '%s'", line, prefix);
        }
        /* Only a SKIP may carry a directive. */
        const char *hash = strstr(line, " # ");
        assert_true(hash == NULL || strncmp(hash, " # SKIP", 7) == 0);
        next++;
    }
    assert_false(in_yaml);
    assert_int_equal(next, NUM_RESULTS + 1);
    free(tap);
}

static void test_report_jsonl_parses(void **state)
{
    struct fixture *f = *state;
    size_t len = 0;
    char *text = write_to_string(harness_report_jsonl, f, &len);
    assert_no_secrets(text);
    size_t lines = 0;
    char *save = NULL;
    static const char *const want[NUM_RESULTS] = {"PASS", "FAIL",  "DEVIATION",
                                                  "SKIP", "ERROR", "NOT IMPLEMENTED"};
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t err;
        json_t *v = json_loads(line, 0, &err);
        if (v == NULL) {
            fail_msg("line %zu: %s", lines + 1, err.text);
        }
        assert_string_equal(json_string_value(json_object_get(v, "verdict")), want[lines]);
        assert_true(json_is_array(json_object_get(v, "steps")));
        assert_true(json_is_array(json_object_get(v, "tags")));
        if (lines == 1) {
            /* The failing step's checks survive an error code that is not UTF-8. */
            json_t *step = json_array_get(json_object_get(v, "steps"), 0);
            json_t *checks = json_object_get(step, "checks");
            assert_int_equal(json_array_size(checks), 2);
            assert_non_null(strstr(json_string_value(json_object_get(step, "error")), "?"));
        }
        json_decref(v);
        lines++;
    }
    assert_int_equal(lines, NUM_RESULTS);
    free(text);
}

/* A stream that takes no writes: every machine report says it was not written. */
static void test_report_writers_fail_on_a_stream_error(void **state)
{
    struct fixture *f = *state;
    static const writer_fn writers[] = {harness_report_junit, harness_report_tap,
                                        harness_report_jsonl};
    for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
        char input[] = "read only";
        FILE *read_only = fmemopen(input, sizeof(input) - 1, "r");
        assert_non_null(read_only);
        assert_int_equal(writers[i](read_only, f->results, NUM_RESULTS, &s_meta), REF_E_INTERNAL);
        fclose(read_only);
    }
}

static void test_report_text_and_summary(void **state)
{
    struct fixture *f = *state;
    struct harness_summary sum;
    harness_summary_compute(f->results, NUM_RESULTS, &sum);
    assert_int_equal(sum.scenarios, 6);
    for (int v = HARNESS_VERDICT_PASS; v < HARNESS_VERDICT_COUNT; v++) {
        assert_int_equal(sum.by_verdict[v], 1);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    harness_report_text(mem, f->results, NUM_RESULTS, &s_meta, false);
    fclose(mem);
    assert_no_secrets(text);
    assert_null(strchr(text, '\033')); /* no colour when asked for none */
    assert_non_null(strstr(text, "summary: 6 scenarios, 1 passed, 1 failed, 1 deviations, 1 not "
                                 "implemented, 1 skipped, 1 errors"));
    assert_non_null(strstr(text, "conformance: must "));
    assert_non_null(strstr(text, "FAIL area/fails.json, step 1 'step-1' (CancelJob)"));
    assert_non_null(strstr(text, "must [model] status: expected 202"));
    assert_non_null(strstr(text, "note: a note with <markup> & #hash"));
    assert_non_null(strstr(text, "X-Amz-Security-Token: <redacted>"));
    assert_non_null(strstr(text, "--aws-sigv4 \"aws:amz:us-east-1:elastictranscoder\" --user "
                                 "\"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\""));
    assert_non_null(strstr(text, "-H \"X-Amz-Security-Token: $AWS_SESSION_TOKEN\""));
    assert_non_null(strstr(text, "\"$ETCH_ENDPOINT\"'/2012-09-25/jobs/it%27s%20%3Cme%3E'"));
    free(text);
    /* Colour on request. */
    mem = open_memstream(&text, &len);
    assert_non_null(mem);
    harness_report_text(mem, f->results, NUM_RESULTS, &s_meta, true);
    fclose(mem);
    assert_non_null(strstr(text, "\033[32mPASS"));
    free(text);
}

static void test_report_curl_quotes_for_the_shell(void **state)
{
    (void)state;
    struct harness_header_copy headers[] = {
        {"Host", "h"},
        {"Content-Type", "application/json"},
        {"X-Odd", "it's"},
        {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x"},
    };
    char body[] = "{\"Name\":\"o'brien\"}";
    struct harness_exchange x = {
        .method = "POST",
        .target = "/2012-09-25/pipelines",
        .headers = headers,
        .num_headers = 4,
        .body = (uint8_t *)body,
        .body_len = sizeof(body) - 1,
        .sign = {.principal = HARNESS_PRINCIPAL_MAIN},
    };
    struct ref_buf out;
    ref_buf_init(&out, 4096);
    assert_int_equal(harness_curl_reproducer(&x, &s_meta, &out), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&out), REF_OK);
    const char *text = (const char *)out.data;
    assert_non_null(
        strstr(text, "curl -sS -i -X 'POST' \"$ETCH_ENDPOINT\"'/2012-09-25/pipelines'"));
    assert_non_null(strstr(text, "-H 'Content-Type: application/json'"));
    assert_non_null(strstr(text, "-H 'X-Odd: it'\\''s'"));
    assert_non_null(strstr(text, "--data-raw '{\"Name\":\"o'\\''brien\"}'"));
    assert_null(strstr(text, "Authorization")); /* curl signs it itself */
    assert_null(strstr(text, "Host:"));
    ref_buf_cleanup(&out);
}

static void test_report_raw_printable(void **state)
{
    (void)state;
    static const char raw[] =
        "GET / HTTP/1.1\r\nx-amz-security-token: s3cr3t\r\nA: \001\xff\r\n\r\n"
        "body";
    struct ref_buf out;
    ref_buf_init(&out, 4096);
    assert_int_equal(harness_raw_printable(ref_slice_make(raw, sizeof(raw) - 1), 4096, "> ", &out),
                     REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&out), REF_OK);
    assert_string_equal((const char *)out.data, "> GET / HTTP/1.1\n"
                                                "> x-amz-security-token: <redacted>\n"
                                                "> A: \\x01\\xff\n"
                                                "> \n"
                                                "> body\n");
    ref_buf_reset(&out);
    assert_int_equal(harness_raw_printable(ref_slice_make(raw, sizeof(raw) - 1), 5, "", &out),
                     REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&out), REF_OK);
    assert_non_null(strstr((const char *)out.data, "GET /... ("));
    ref_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_junit_is_well_formed),
        cmocka_unit_test(test_report_flags_follow_the_exit_status),
        cmocka_unit_test(test_report_tap_is_well_formed),
        cmocka_unit_test(test_report_jsonl_parses),
        cmocka_unit_test(test_report_writers_fail_on_a_stream_error),
        cmocka_unit_test(test_report_text_and_summary),
        cmocka_unit_test(test_report_curl_quotes_for_the_shell),
        cmocka_unit_test(test_report_raw_printable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
