/* SPDX-License-Identifier: Apache-2.0
 *
 * test_report_html.c - the HTML report and the grouping of failures by likely root cause:
 * what changes from run to run is taken out before failures are compared, failures that
 * broke the same way are one group (and only those), the text report names the groups of
 * two or more, and the page escapes every byte a target sends: an answer carrying markup
 * comes out as text, never as an element.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/report_groups.h"
#include "harness/report_html.h"

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

/* The markup a hostile endpoint puts in its answers. */
#define HOSTILE         "</script><img src=x onerror=alert(1)>"
#define HOSTILE_ESCAPED "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"

/* A fake target answering whatever answer holds, whatever the request. */
struct fake {
    struct harness_backend base;
    char answer[2048];
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

/* Makes the fake answer 202 with a job whose Id is job_id and whose Status is markup. */
static void answer_job(struct fake *fk, const char *job_id)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"Job\":{\"Id\":\"%s\",\"Arn\":\"arn:aws:elastictranscoder:us-east-1:"
             "111122223333:job/%s\",\"Status\":\"" HOSTILE "\",\"Note\":\"\\u0001\"}}",
             job_id, job_id);
    snprintf(fk->answer, sizeof(fk->answer),
             "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
             "x-amzn-RequestId: 0d54a87d-909d-4567-87d2-00bc26ec1354\r\n"
             "X-Not-Text: \xff\xfe\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
}

#define NUM_RESULTS 6

struct fixture {
    struct fake fk;
    struct harness_scenario *scenarios[NUM_RESULTS];
    struct harness_scenario_result results[NUM_RESULTS];
};

static struct harness_scenario *load(const char *area, const char *name, const char *steps)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "{\"name\":\"%s\",\"description\":\"described <here> & " HOSTILE "\","
             "\"tags\":[\"x\"],\"source\":\"model\",\"contract\":\"1b\",\"steps\":[%s]}",
             name, steps);
    char path[128];
    snprintf(path, sizeof(path), "%s/%s.json", area, name);
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    if (harness_scenario_load_buffer((const uint8_t *)text, strlen(text), path, area, NULL, &sc,
                                     &err) != REF_OK) {
        fail_msg("%s", err.message);
    }
    return sc;
}

/* Results 0 and 1 break the same way (the Arn differs only by the job's Id), and so does 5,
 * written as a body subset instead of a path; 2 breaks on the status; 3 the same way as 0
 * and 1 but at should level (a DEVIATION); 4 passes. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->fk.base.ops = &s_fake_ops;
    f->fk.base.impl = &f->fk;
    f->fk.base.host = "example.test";
    f->fk.base.region = "us-east-1";
    f->fk.base.service = "elastictranscoder";
    f->fk.base.principals[HARNESS_PRINCIPAL_MAIN] = REF_TEST_CRED_MAIN;
    static const char arn_step[] =
        "{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":{\"Id\":\"1111111111111-abcdef\"},"
        "\"expect\":{%s\"status\":202,\"contract\":\"3\",\"paths\":{\"Job.Arn\":\"arn:none\"}}}";
    char step[512];
    snprintf(step, sizeof(step), arn_step, "");
    f->scenarios[0] = load("cancel", "arn-a", step);
    f->scenarios[1] = load("cancel", "arn-b", step);
    f->scenarios[2] = load("cancel", "status",
                           "{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":{\"Id\":"
                           "\"1111111111111-abcdef\"},\"expect\":{\"status\":409}}");
    snprintf(step, sizeof(step), arn_step, "\"level\":\"should\",");
    f->scenarios[3] = load("jobs", "arn-should", step);
    f->scenarios[4] = load("jobs", "passes",
                           "{\"call\":\"CancelJob\",\"params\":{\"Id\":\"1111111111111-abcdef\"},"
                           "\"expect\":{\"status\":202}}");
    f->scenarios[5] = load("jobs", "arn-body",
                           "{\"name\":\"cancel\",\"call\":\"CancelJob\",\"params\":{\"Id\":"
                           "\"1111111111111-abcdef\"},\"expect\":{\"status\":202,\"body\":{\"Job\":"
                           "{\"Arn\":\"arn:none\"}}}}");
    static const char *const job_ids[NUM_RESULTS] = {
        "1795869900000-aaaaa1", "1795869900001-bbbbb2", "1795869900002-ccccc3",
        "1795869900003-ddddd4", "1795869900004-eeeee5", "1795869900005-fffff6"};
    for (size_t i = 0; i < NUM_RESULTS; i++) {
        answer_job(&f->fk, job_ids[i]);
        assert_int_equal(harness_run_scenario(f->scenarios[i], &f->fk.base, &f->results[i]),
                         REF_OK);
    }
    static const enum harness_verdict want[NUM_RESULTS] = {
        HARNESS_VERDICT_FAIL,      HARNESS_VERDICT_FAIL, HARNESS_VERDICT_FAIL,
        HARNESS_VERDICT_DEVIATION, HARNESS_VERDICT_PASS, HARNESS_VERDICT_FAIL};
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

/* --- Normalising and grouping ------------------------------------------------------ */

static void test_report_groups_normalize_takes_out_run_values(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *suffix;
        const char *out;
    } cases[] = {
        {"job/1795869900000-aB_9z1 done", NULL, "job/<Id> done"},
        {"\"1795869900000-abcdef\"", "", "\"<Id>\""},
        /* Not an Id: too long a tail, too few digits, inside a word. */
        {"1795869900000-abcdefg", NULL, "<n>-abcdefg"},
        {"179586990000-abcdef", NULL, "<n>-abcdef"},
        {"x1795869900000-abcdef", NULL, "x1795869900000-abcdef"},
        {"id 0d54a87d-909d-4567-87d2-00bc26ec1354.", NULL, "id <uuid>."},
        {"at 2026-11-28T12:45:00Z and 2026-11-28T12:45:00.123+01:00", NULL, "at <time> and <time>"},
        {"X-Amz-Date 20261128T124500Z", NULL, "X-Amz-Date <time>"},
        {"epoch 1795869900 vs 409 and 12345678", NULL, "epoch <n> vs 409 and 12345678"},
        {"pipeline p-k3j9x2ab gone", "-k3j9x2ab", "pipeline p gone"},
        {"", NULL, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[128];
        harness_failure_normalize(cases[i].in, cases[i].suffix, out, sizeof(out));
        if (strcmp(out, cases[i].out) != 0) {
            fail_msg("'%s' normalised to '%s', expected '%s'", cases[i].in, out, cases[i].out);
        }
    }
    /* Truncated, always terminated. */
    char small[6];
    harness_failure_normalize("abcdefghij", NULL, small, sizeof(small));
    assert_string_equal(small, "abcde");
    harness_failure_normalize("ab 1795869900000-abcdef", NULL, small, sizeof(small));
    assert_string_equal(small, "ab ");
}

static void test_report_groups_same_difference_is_one_group(void **state)
{
    struct fixture *f = *state;
    struct harness_failure_groups g;
    assert_int_equal(harness_failure_groups_build(f->results, NUM_RESULTS, &g), REF_OK);
    assert_int_equal(g.count, 3);
    /* The largest first: the three FAILs on the Arn, whose answers differ only by an Id,
     * one of them expecting it through a body subset rather than a path. */
    assert_int_equal(g.items[0].num_members, 3);
    assert_int_equal(g.items[0].members[0], 0);
    assert_int_equal(g.items[0].members[1], 1);
    assert_int_equal(g.items[0].members[2], 5);
    assert_int_equal(g.items[0].verdict, HARNESS_VERDICT_FAIL);
    assert_non_null(g.items[0].check);
    assert_string_equal(g.items[0].check->what, "paths.Job.Arn");
    assert_non_null(strstr(g.items[0].title, "CancelJob: Job.Arn: expected \"arn:none\""));
    assert_non_null(strstr(g.items[0].title, "job/<Id>"));
    /* A different difference, and the same difference at another verdict. */
    assert_int_equal(g.items[1].num_members, 1);
    assert_int_equal(g.items[1].members[0], 2);
    assert_string_equal(g.items[1].title, "CancelJob answered 202, expected 409");
    assert_int_equal(g.items[2].num_members, 1);
    assert_int_equal(g.items[2].members[0], 3);
    assert_int_equal(g.items[2].verdict, HARNESS_VERDICT_DEVIATION);
    harness_failure_groups_cleanup(&g);
    assert_int_equal(g.count, 0);
    /* Nothing to group. */
    assert_int_equal(harness_failure_groups_build(f->results + 4, 1, &g), REF_OK);
    assert_int_equal(g.count, 0);
    harness_failure_groups_cleanup(&g);
    assert_int_equal(harness_failure_groups_build(f->results, 0, &g), REF_OK);
    assert_int_equal(g.count, 0);
}

static void test_report_groups_check_member(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *actual;
        bool is_member;
        const char *path;
        const char *detail;
    } cases[] = {
        {"paths.Job", "Status: expected \"Canceled\", found \"Progressing\"", true, "Job.Status",
         "expected \"Canceled\", found \"Progressing\""},
        {"paths.Job.Status", "expected \"a: b\", found 1", true, "Job.Status",
         "expected \"a: b\", found 1"},
        {"body", "Job: Outputs: [0]: Key: expected 1, found 2", true, "Job.Outputs[0].Key",
         "expected 1, found 2"},
        {"body", "expected an object, found null", true, "", "expected an object, found null"},
        {"status", "202", false, "", NULL},
        {"headers.x-amzn-ErrorType", "Job: x", false, "", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct harness_check_result c = {.held = false};
        snprintf(c.what, sizeof(c.what), "%s", cases[i].what);
        snprintf(c.actual, sizeof(c.actual), "%s", cases[i].actual);
        char path[64];
        const char *detail = NULL;
        assert_int_equal(harness_check_member(&c, path, sizeof(path), &detail), cases[i].is_member);
        assert_string_equal(path, cases[i].path);
        if (cases[i].detail != NULL) {
            assert_non_null(detail);
            assert_string_equal(detail, cases[i].detail);
        }
    }
}

static char *root_causes_text(const struct harness_scenario_result *results, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    harness_report_root_causes(mem, results, n);
    fclose(mem);
    return text;
}

static void test_report_groups_text_names_groups_of_two_or_more(void **state)
{
    struct fixture *f = *state;
    char *text = root_causes_text(f->results, NUM_RESULTS);
    assert_non_null(strstr(text, "likely root causes"));
    assert_non_null(strstr(text, "  3 scenarios FAIL: CancelJob: Job.Arn: expected"));
    assert_non_null(strstr(text, "(cancel/arn-a, cancel/arn-b, jobs/arn-body)\n"));
    /* One line: the single-member groups are not root causes worth a line. */
    assert_null(strstr(text, "cancel/status"));
    assert_null(strstr(text, "jobs/arn-should"));
    free(text);
    /* Without a group of two, no section at all. */
    text = root_causes_text(f->results + 1, 3);
    assert_string_equal(text, "");
    free(text);
}

/* --- Escaping ---------------------------------------------------------------------- */

static void test_report_html_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {HOSTILE, sizeof(HOSTILE) - 1, HOSTILE_ESCAPED},
        {"a&b \"q\" 'a'", 11, "a&amp;b &quot;q&quot; &#39;a&#39;"},
        {"tab\tline\ncr\rnul\0esc\x1b"
         "del\x7f",
         24, "tab\tline\ncr\\x0dnul\\x00esc\\x1bdel\\x7f"},
        /* Valid UTF-8 stays; invalid bytes, overlong forms and surrogates do not. */
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
         "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"\xff\xfe", 2, "\\xff\\xfe"},
        {"\xc0\xaf", 2, "\\xc0\\xaf"},
        {"\xed\xa0\x80", 3, "\\xed\\xa0\\x80"},
        {"\xe2\x82", 2, "\\xe2\\x82"},
        {"\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ref_buf b;
        ref_buf_init(&b, 4096);
        assert_int_equal(harness_html_escape(&b, cases[i].in, cases[i].len), REF_OK);
        assert_int_equal(ref_buf_nul_terminate(&b), REF_OK);
        if (strcmp((const char *)b.data, cases[i].out) != 0) {
            fail_msg("case %zu: '%s', expected '%s'", i, (const char *)b.data, cases[i].out);
        }
        ref_buf_cleanup(&b);
    }
    /* A capped buffer: a status, never a write past it. */
    uint8_t storage[8];
    struct ref_buf fixed;
    ref_buf_init_fixed(&fixed, storage, sizeof(storage));
    assert_int_not_equal(harness_html_escape(&fixed, HOSTILE, sizeof(HOSTILE) - 1), REF_OK);
}

/* --- The page ---------------------------------------------------------------------- */

static char *page(const struct fixture *f, size_t n, const struct harness_html_run *run)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    assert_int_equal(harness_report_html(mem, f->results, n, &s_meta, run), REF_OK);
    fclose(mem);
    assert_int_equal(strlen(text), len);
    return text;
}

/* Every element of the page is one of the page's own, none has an event handler, and
 * there is no script: whatever the target sent is text. */
static void assert_only_own_elements(const char *html)
{
    static const char *const allowed[] = {
        "!DOCTYPE", "html", "head", "meta",    "title",   "style", "body",    "header", "h1", "h2",
        "h3",       "h4",   "dl",   "dt",      "dd",      "span",  "section", "p",      "ol", "ul",
        "li",       "br",   "b",    "i",       "a",       "table", "thead",   "tbody",  "tr", "th",
        "td",       "div",  "pre",  "details", "summary", "mark",  "article", "code"};
    for (const char *p = strchr(html, '<'); p != NULL; p = strchr(p + 1, '<')) {
        const char *name = p[1] == '/' ? p + 2 : p + 1;
        size_t k = strcspn(name, " >");
        bool ok = false;
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !ok; i++) {
            ok = strlen(allowed[i]) == k && strncmp(name, allowed[i], k) == 0;
        }
        if (!ok) {
            fail_msg("element '%.*s' at byte %zu", (int)k, name, (size_t)(p - html));
        }
        const char *end = strchr(p, '>');
        assert_non_null(end);
        for (const char *a = p; a < end; a++) {
            if (a[0] == ' ' && (a[1] == 'o' || a[1] == 'O') && (a[2] == 'n' || a[2] == 'N')) {
                fail_msg("an event handler in '%.*s'", (int)(end - p + 1), p);
            }
        }
    }
}

static void test_report_html_page_is_inert_and_complete(void **state)
{
    struct fixture *f = *state;
    struct harness_html_run run = {.date = "2026-12-08 01:02:03 UTC", .wall_ms = 1234.0};
    char *html = page(f, NUM_RESULTS, &run);
    assert_only_own_elements(html);
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "</script"));
    assert_non_null(strstr(html, HOSTILE_ESCAPED));
    /* Nothing from elsewhere: a policy, no address to fetch. */
    assert_non_null(strstr(html, "Content-Security-Policy"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "src="
                             "\""));
    /* The header. */
    assert_non_null(strstr(html, "etch test"));
    assert_non_null(strstr(html, "fake &lt;target&gt; &amp; co"));
    assert_non_null(strstr(html, "2026-12-08 01:02:03 UTC"));
    assert_non_null(strstr(html, "<dt>wall time</dt><dd>1.2 s</dd>"));
    /* The groups first, then the matrix, then the scenarios. */
    const char *causes = strstr(html, "id=\"causes\"");
    const char *matrix = strstr(html, "class=\"matrix\"");
    const char *failures = strstr(html, "id=\"failures\"");
    assert_non_null(causes);
    assert_non_null(matrix);
    assert_non_null(failures);
    assert_true(causes < matrix && matrix < failures);
    assert_non_null(strstr(html, "<b>3 scenarios</b>: CancelJob: Job.Arn: expected"));
    /* The matrix: a row per area with its conformance, a cell per scenario. */
    assert_non_null(strstr(html, "<tr><th>cancel</th><td class=\"num\">2/5 (40.0%)"));
    assert_non_null(strstr(html, "<tr><th>jobs</th><td class=\"num\">2/3 (66.7%)"));
    assert_non_null(strstr(html, "<a class=\"cell v-fail\" href=\"#s0\""));
    assert_non_null(strstr(html, "<a class=\"cell v-dev\" href=\"#s3\""));
    assert_non_null(strstr(html, "<span class=\"cell v-pass\" title=\"passes: PASS\">"));
    /* A failure: its description, its check with the contract section of the expectation
     * (the expectation's own, not the scenario's), expected against actual, the member
     * that differs marked in the answer, and reproducers. */
    assert_non_null(strstr(html, "<article id=\"s0\""));
    assert_null(strstr(html, "<article id=\"s4\""));
    assert_non_null(strstr(html, "described &lt;here&gt; &amp; " HOSTILE_ESCAPED));
    assert_non_null(strstr(html, "<td>section 3</td>"));
    assert_non_null(strstr(html, "<div class=\"del\">- expected &quot;arn:none&quot;</div>"));
    assert_non_null(strstr(html, "<mark>&quot;Arn&quot;: &quot;arn:aws:elastictranscoder:"));
    /* The matcher's words give what it found, on the actual line. */
    assert_non_null(strstr(html, "<div class=\"ins\">+ actual&nbsp;&nbsp; &quot;arn:aws:"));
    assert_null(strstr(html, "<mark>&quot;Id&quot;"));
    assert_non_null(strstr(html, "(reproducer)</h4><pre class=\"curl\">curl -sS -i "));
    assert_non_null(strstr(html, "-X &#39;DELETE&#39; &quot;$ETCH_ENDPOINT&quot;"));
    assert_non_null(strstr(html, "(raw HTTP)</summary><pre>DELETE /2012-09-25/jobs/"));
    /* Bytes that are not UTF-8 are shown as such. */
    assert_non_null(strstr(html, "\\xff"));
    /* The status check of the third has no contract of its own: the scenario's. */
    assert_non_null(strstr(html, "<td>section 1b</td>"));
    free(html);

    /* Without a run: the time is the scenarios' added up, and no date. */
    html = page(f, NUM_RESULTS, NULL);
    assert_null(strstr(html, "<dt>date</dt>"));
    assert_non_null(strstr(html, "(the scenarios' times added up)"));
    assert_null(strstr(html, "saved as"));
    free(html);

    /* With --save-requests: where each failing step's request is, and the reproducer
     * names that file when curl cannot send the request as it was. */
    struct harness_report_meta saving = s_meta;
    saving.saved_requests_dir = "saved <dir>";
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    assert_int_equal(harness_report_html(mem, f->results, NUM_RESULTS, &saving, NULL), REF_OK);
    fclose(mem);
    assert_only_own_elements(text);
    assert_non_null(strstr(text, "request saved as <code>saved &lt;dir&gt;/"));
    free(text);
}

static void test_report_html_skips_by_reason(void **state)
{
    (void)state;
    struct harness_scenario *sc[2] = {
        load("auth", "skip-a", "{\"seed_pipeline\":{\"id\":\"1111111111111-abcde1\"}}"),
        load("auth", "skip-b", "{\"seed_pipeline\":{\"id\":\"1111111111111-abcde2\"}}")};
    struct fake fk = {.base = {.ops = &s_fake_ops, .host = "example.test"}};
    fk.base.impl = &fk;
    struct harness_scenario_result results[2];
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(harness_run_scenario(sc[i], &fk.base, &results[i]), REF_OK);
        assert_int_equal(results[i].verdict, HARNESS_VERDICT_SKIP);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    assert_int_equal(harness_report_html(mem, results, 2, &s_meta, NULL), REF_OK);
    fclose(mem);
    assert_non_null(strstr(text, "id=\"skips\""));
    assert_non_null(
        strstr(text, ": 2 scenarios<br><span class=\"muted\">auth/skip-a, auth/skip-b"));
    assert_null(strstr(text, "id=\"causes\""));
    assert_null(strstr(text, "id=\"failures\""));
    free(text);
    for (size_t i = 0; i < 2; i++) {
        harness_scenario_result_cleanup(&results[i]);
        harness_scenario_free(sc[i]);
    }
}

/* A stream that cannot be written is a status, not a report said to be written. */
static void test_report_html_write_error_is_reported(void **state)
{
    struct fixture *f = *state;
    FILE *full = fopen("/dev/full", "w");
    if (full == NULL) {
        skip();
    }
    assert_int_equal(harness_report_html(full, f->results, NUM_RESULTS, &s_meta, NULL),
                     REF_E_INTERNAL);
    fclose(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_groups_normalize_takes_out_run_values),
        cmocka_unit_test(test_report_groups_same_difference_is_one_group),
        cmocka_unit_test(test_report_groups_check_member),
        cmocka_unit_test(test_report_groups_text_names_groups_of_two_or_more),
        cmocka_unit_test(test_report_html_escape),
        cmocka_unit_test(test_report_html_page_is_inert_and_complete),
        cmocka_unit_test(test_report_html_skips_by_reason),
        cmocka_unit_test(test_report_html_write_error_is_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
