/* SPDX-License-Identifier: Apache-2.0
 *
 * test_scenario_load.c - the scenario loader: every error kind names the file, the line
 * and column (syntax) or the scenario and the key's JSON path (semantics); every limit is
 * tested at and over; the real suite loads.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/scenario.h"

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

static enum ref_status
load(const char *text, struct harness_scenario **sc, struct harness_load_error *err)
{
    return harness_scenario_load_buffer((const uint8_t *)text, strlen(text), "t/s.json", "t", NULL,
                                        sc, err);
}

/* Loads text expecting a failure whose message contains want (and, when line > 0, that
 * line and column). */
static void
expect_error(const char *text, enum ref_status want_rc, const char *want, int line, int column)
{
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    enum ref_status rc = load(text, &sc, &err);
    if (rc != want_rc || strstr(err.message, want) == NULL) {
        fail_msg("want %s containing \"%s\", got %s: %s", ref_status_name(want_rc), want,
                 ref_status_name(rc), err.message);
    }
    assert_null(sc);
    assert_string_equal(err.file, "t/s.json");
    if (line > 0) {
        assert_int_equal(err.line, line);
        assert_int_equal(err.column, column);
    }
}

#define HEAD "{\"name\":\"s\",\"description\":\"d\",\"source\":\"model\",\"steps\":["
#define TAIL "]}"

static void test_scenario_load_minimal(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    const char *text = HEAD "{\"call\":\"CancelJob\",\"params\":{\"Id\":\"1111111111111-abcdef\"},"
                            "\"expect\":{\"status\":202}}" TAIL;
    assert_int_equal(load(text, &sc, &err), REF_OK);
    assert_string_equal(sc->name, "s");
    assert_string_equal(sc->area, "t");
    assert_int_equal(sc->num_steps, 1);
    assert_int_equal(sc->steps[0].kind, HARNESS_STEP_CALL);
    assert_int_equal(sc->steps[0].request.op, REF_OP_CANCEL_JOB);
    assert_string_equal(sc->steps[0].name, "step-1");
    assert_int_equal(sc->steps[0].sign.principal, HARNESS_PRINCIPAL_MAIN);
    assert_int_equal(sc->steps[0].num_expects, 1);
    assert_int_equal(sc->steps[0].expects[0].level, HARNESS_LEVEL_MUST);
    assert_int_equal(sc->steps[0].expects[0].source, HARNESS_SOURCE_MODEL);
    assert_int_equal(sc->steps[0].expects[0].status[0].code, 202);
    assert_true(harness_scenario_has_tag(sc, "t"));
    harness_scenario_free(sc);
}

static void test_scenario_load_rejects_syntax_error_with_line_column(void **state)
{
    (void)state;
    expect_error("{\n  \"name\": \"s\",\n  \"steps\": [,]\n}", REF_E_MALFORMED, "invalid JSON", 3,
                 13);
}

static void test_scenario_load_rejects_empty_input(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    assert_int_equal(harness_scenario_load_buffer(NULL, 0, "t/s.json", "t", NULL, &sc, &err),
                     REF_E_MALFORMED);
    assert_int_equal(err.line, 0);
    assert_int_equal(err.column, 0);
    assert_non_null(strstr(err.message, "the file is empty"));
    expect_error("   ", REF_E_MALFORMED, "invalid JSON", 0, 0);
}

static void test_scenario_load_rejects_duplicate_key(void **state)
{
    (void)state;
    expect_error("{\"name\":\"s\",\"name\":\"t\"}", REF_E_MALFORMED, "duplicate", 0, 0);
}

static void test_scenario_load_rejects_unknown_key_with_path(void **state)
{
    (void)state;
    const char *text = "{\"name\":\"s\",\"description\":\"d\",\"source\":\"model\",\n"
                       "\"steps\":[\n"
                       "  {\"call\":\"ListPipelines\"},\n"
                       "  {\"call\":\"ListPipelines\",\n"
                       "   \"expect\":{\"stauts\":200}}]}";
    expect_error(text, REF_E_MALFORMED, "scenario 's': steps[1].expect.stauts: unknown key", 5, 14);
}

static void test_scenario_load_rejects_mistyped_key_with_path(void **state)
{
    (void)state;
    const char *text = "{\"name\":\"s\",\"description\":\"d\",\"source\":\"model\",\"steps\":[\n"
                       "  {\"call\":\"ListPipelines\"},\n"
                       "  {\"call\":\"ListPipelines\"},\n"
                       "  {\"call\":\"ListPipelines\", \"expect\": {\"status\": true}}]}";
    expect_error(text, REF_E_MALFORMED, "steps[2].expect.status: expected an integer", 4, 39);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"status\":\"4xy\"}}" TAIL,
                 REF_E_MALFORMED, "steps[0].expect.status", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"status\":[200,\"6xx\"]}}" TAIL,
                 REF_E_MALFORMED, "steps[0].expect.status[1]", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"error\":5}}" TAIL, REF_E_MALFORMED,
                 "steps[0].expect.error: expected an error code", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"level\":\"may\"}}" TAIL,
                 REF_E_MALFORMED, "steps[0].expect.level: unknown level", 0, 0);
}

/* Every provenance the contract names a source for, and nothing else. */
static void test_scenario_load_provenance_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum harness_source source;
    } names[] = {
        {"model", HARNESS_SOURCE_MODEL},
        {"guide", HARNESS_SOURCE_GUIDE},
        {"clients", HARNESS_SOURCE_CLIENTS},
        {"inference", HARNESS_SOURCE_INFERENCE},
        {"cli-examples", HARNESS_SOURCE_CLI_EXAMPLES},
        {"moto", HARNESS_SOURCE_MOTO},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"source\":\"%s\"}}" TAIL,
                 names[i].name);
        struct harness_scenario *sc = NULL;
        struct harness_load_error err;
        assert_int_equal(load(text, &sc, &err), REF_OK);
        assert_int_equal(sc->steps[0].expects[0].source, names[i].source);
        assert_string_equal(harness_source_name(names[i].source), names[i].name);
        harness_scenario_free(sc);
    }
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"source\":\"blog\"}}" TAIL,
                 REF_E_MALFORMED,
                 "steps[0].expect.source: unknown source 'blog' (model, guide, "
                 "clients, inference, cli-examples, moto)",
                 0, 0);
}

static void test_scenario_load_rejects_bad_top_level(void **state)
{
    (void)state;
    expect_error("[]", REF_E_MALFORMED, "one JSON object", 0, 0);
    expect_error("{\"name\":\"s\",\"description\":\"d\"}", REF_E_MALFORMED,
                 "missing required key 'steps'", 0, 0);
    expect_error("{\"name\":\"Bad Name\",\"description\":\"d\",\"steps\":[]}", REF_E_MALFORMED,
                 "not a scenario name", 0, 0);
    expect_error(
        "{\"name\":\"other\",\"description\":\"d\",\"steps\":[{\"call\":\"ListPipelines\"}]}",
        REF_E_MALFORMED, "differs from the file name", 0, 0);
    expect_error("{\"name\":\"s\",\"description\":\"d\",\"steps\":[]}", REF_E_MALFORMED,
                 "steps: expected a non-empty array", 0, 0);
    expect_error("{\"name\":\"s\",\"description\":\"d\",\"tags\":\"x\",\"steps\":[]}",
                 REF_E_MALFORMED, "tags: expected an array", 0, 0);
}

static void test_scenario_load_rejects_unknown_operation_and_params(void **state)
{
    (void)state;
    expect_error(HEAD "{\"call\":\"CancelJobs\"}" TAIL, REF_E_MALFORMED,
                 "steps[0].call: unknown operation 'CancelJobs'", 0, 0);
    expect_error(HEAD "{\"call\":\"CancelJob\"}" TAIL, REF_E_MALFORMED,
                 "CancelJob needs the parameter 'Id'", 0, 0);
    expect_error(HEAD "{\"call\":\"ReadJob\",\"params\":{\"Id\":5}}" TAIL, REF_E_MALFORMED,
                 "steps[0].params.Id: expected a string", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"params\":{\"Id\":\"x\"}}" TAIL,
                 REF_E_MALFORMED, "steps[0].params.Id: unknown parameter 'Id' for ListPipelines", 0,
                 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"params\":{\"Ascending\":1}}" TAIL,
                 REF_E_MALFORMED, "steps[0].params.Ascending", 0, 0);
    expect_error(HEAD "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"x\"},\"headers\":[[\"a\"]]}" TAIL,
                 REF_E_MALFORMED, "steps[0].headers[0]: expected a [name, value] pair", 0, 0);
}

static void test_scenario_load_rejects_bad_sign_modes(void **state)
{
    (void)state;
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"sign\":\"sloppy\"}" TAIL, REF_E_MALFORMED,
                 "steps[0].sign: unknown signing mode 'sloppy'", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"sign\":{\"fault\":\"bad\"}}" TAIL,
                 REF_E_MALFORMED, "steps[0].sign.fault: unknown fault", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"sign\":{\"token\":\"omit\"}}" TAIL,
                 REF_E_MALFORMED, "applies to the temporary principal only", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"sign\":{\"date_offset_s\":\"1\"}}" TAIL,
                 REF_E_MALFORMED, "steps[0].sign.date_offset_s: expected an integer", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"sign\":{\"principal\":\"none\","
                      "\"fault\":\"omit-host\"}}" TAIL,
                 REF_E_MALFORMED, "an unsigned request takes no fault", 0, 0);
    expect_error(HEAD
                 "{\"raw\":{\"bytes\":\"GET / HTTP/1.1\\r\\n\\r\\n\"},\"sign\":\"valid\"}" TAIL,
                 REF_E_MALFORMED, "sign must be \"none\"", 0, 0);
}

static void test_scenario_load_accepts_every_sign_mode(void **state)
{
    (void)state;
    static const char *const modes[] = {
        "\"valid\"",
        "\"none\"",
        "\"wrong-secret\"",
        "\"unknown-key\"",
        "\"scope-date\"",
        "\"scope-region\"",
        "\"scope-service\"",
        "\"scope-terminator\"",
        "\"omit-host\"",
        "\"flip-signature-digit\"",
        "\"restricted\"",
        "\"temporary\"",
        "\"temporary-no-token\"",
        "\"temporary-wrong-token\"",
        "{\"principal\":\"temporary\",\"token\":\"wrong\",\"date_offset_s\":-1200}",
        "{\"signed_headers\":[\"host\",\"x-amz-date\"],\"content_sha256\":true}"};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), HEAD "{\"call\":\"ListPipelines\",\"sign\":%s}" TAIL,
                 modes[i]);
        struct harness_scenario *sc = NULL;
        struct harness_load_error err;
        if (load(text, &sc, &err) != REF_OK) {
            fail_msg("%s: %s", modes[i], err.message);
        }
        harness_scenario_free(sc);
    }
}

static void test_scenario_load_rejects_bad_matchers(void **state)
{
    (void)state;
    expect_error(
        HEAD
        "{\"call\":\"ListPipelines\",\"expect\":{\"paths\":{\"A.B\":{\"$match\":\"(\"}}}}" TAIL,
        REF_E_MALFORMED, "steps[0].expect.paths[\"A.B\"].$match: bad POSIX", 0, 0);
    expect_error(HEAD
                 "{\"call\":\"ListPipelines\",\"expect\":{\"body\":{\"x\":{\"$nope\":1}}}}" TAIL,
                 REF_E_MALFORMED, "steps[0].expect.body.x.$nope: unknown matcher", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"paths\":{\"A..B\":1}}}" TAIL,
                 REF_E_MALFORMED, "is not a path", 0, 0);
    expect_error(HEAD
                 "{\"call\":\"ListPipelines\",\"expect\":{\"body\":{\"$len\":1,\"x\":2}}}" TAIL,
                 REF_E_MALFORMED, "exactly one $key", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"headers\":{\"a\":1}}}" TAIL,
                 REF_E_MALFORMED, "steps[0].expect.headers.a: expected a string, true, false", 0,
                 0);
}

static void test_scenario_load_rejects_undefined_variable(void **state)
{
    (void)state;
    expect_error(HEAD "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${jobId}\"}}" TAIL,
                 REF_E_MALFORMED, "steps[0].params.Id: ${jobId} is not defined", 0, 0);
    /* A capture defines the variable for later steps, not for its own. */
    expect_error(
        HEAD
        "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j}\"},\"capture\":{\"j\":\"Job.Id\"}}" TAIL,
        REF_E_MALFORMED, "${j} is not defined", 0, 0);
    expect_error(HEAD "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${j\"}}" TAIL, REF_E_MALFORMED,
                 "without a closing", 0, 0);
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    const char *ok = HEAD "{\"call\":\"CreatePipeline\",\"params\":{\"Name\":\"$${literal}\"},"
                          "\"capture\":{\"p\":\"Pipeline.Id\"}},"
                          "{\"call\":\"ReadPipeline\",\"params\":{\"Id\":\"${p}\"}}" TAIL;
    assert_int_equal(load(ok, &sc, &err), REF_OK);
    harness_scenario_free(sc);
}

static void test_scenario_load_rejects_bad_steps(void **state)
{
    (void)state;
    expect_error(HEAD "{\"name\":\"x\"}" TAIL, REF_E_MALFORMED, "a step needs one of", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"raw\":{}}" TAIL, REF_E_MALFORMED,
                 "exactly one of", 0, 0);
    expect_error(HEAD "{\"cal\":\"ListPipelines\"}" TAIL, REF_E_MALFORMED,
                 "steps[0].cal: unknown key", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"name\":\"a\"},{\"call\":\"ListPipelines\","
                      "\"name\":\"a\"}" TAIL,
                 REF_E_MALFORMED, "steps[1]: step name 'a' used twice", 0, 0);
    expect_error(HEAD
                 "{\"seed_job\":{\"id\":\"x\",\"pipeline\":\"p\",\"status\":\"Running\"}}" TAIL,
                 REF_E_MALFORMED, "steps[0].seed_job.status", 0, 0);
    expect_error(HEAD "{\"seed_job\":{\"id\":\"x\"}}" TAIL, REF_E_MALFORMED,
                 "missing required key 'pipeline'", 0, 0);
    expect_error(HEAD "{\"clock\":{\"set\":\"2026-13-01T00:00:00Z\"}}" TAIL, REF_E_MALFORMED,
                 "steps[0].clock.set", 0, 0);
    expect_error(HEAD "{\"clock\":{\"advance_s\":1,\"advance_ms\":1}}" TAIL, REF_E_MALFORMED,
                 "exactly one of set", 0, 0);
    expect_error(HEAD "{\"seed_job\":{\"id\":\"x\",\"pipeline\":\"p\"},\"expect\":{}}" TAIL,
                 REF_E_MALFORMED, "steps[0].expect: unknown key 'expect' in a seed_job step", 0, 0);
    expect_error(HEAD "{\"wait\":{\"call\":\"ListPipelines\"}}" TAIL, REF_E_MALFORMED,
                 "a wait needs \"until\"", 0, 0);
    expect_error(HEAD "{\"raw\":{\"method\":\"GET\"}}" TAIL, REF_E_MALFORMED,
                 "missing required key 'target'", 0, 0);
    expect_error(HEAD "{\"raw\":{\"file\":\"x.http\"}}" TAIL, REF_E_MALFORMED,
                 "needs a scenario loaded from a file", 0, 0);
    expect_error("{\"name\":\"s\",\"description\":\"d\",\"steps\":[{\"call\":\"ListPipelines\","
                 "\"expect\":{\"status\":200}}]}",
                 REF_E_MALFORMED, "no provenance", 0, 0);
}

static void test_scenario_load_live_keys(void **state)
{
    (void)state;
    /* "closed" is a status alternative; inproc_only marks a request step. */
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    const char *ok = HEAD "{\"raw\":{\"bytes\":\"X\\r\\n\\r\\n\"},\"inproc_only\":true,"
                          "\"expect\":{\"status\":[\"4xx\",\"closed\"]}}" TAIL;
    assert_int_equal(load(ok, &sc, &err), REF_OK);
    assert_true(sc->steps[0].inproc_only);
    assert_true(sc->steps[0].expects[0].status[1].is_closed);
    assert_false(sc->steps[0].expects[0].status[0].is_closed);
    harness_scenario_free(sc);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"status\":\"shut\"}}" TAIL,
                 REF_E_MALFORMED, "\"closed\", or a list of them", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"inproc_only\":1}" TAIL, REF_E_MALFORMED,
                 "steps[0].inproc_only", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"inproc_only\":true,"
                      "\"capture\":{\"t\":\"NextPageToken\"}}" TAIL,
                 REF_E_MALFORMED, "an inproc_only step captures nothing", 0, 0);
    expect_error(HEAD "{\"clock\":{\"advance_s\":1},\"inproc_only\":true}" TAIL, REF_E_MALFORMED,
                 "unknown key 'inproc_only' in a clock step", 0, 0);
}

static void test_scenario_load_contract_sections(void **state)
{
    (void)state;
    /* "contract" names sections on the scenario, a step or an expectation; the loader checks
     * the form (the suite's own test checks that every must has one). */
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    const char *ok = "{\"name\":\"s\",\"description\":\"d\",\"source\":\"model\","
                     "\"contract\":\"1b, 8\",\"steps\":[{\"call\":\"ListPipelines\","
                     "\"contract\":\"3\",\"expect\":{\"contract\":\"2b\",\"status\":200}}]}";
    assert_int_equal(load(ok, &sc, &err), REF_OK);
    harness_scenario_free(sc);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"contract\":\"3a\"}" TAIL, REF_E_MALFORMED,
                 "steps[0].contract: '3a' is not a list of contract sections", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"expect\":{\"contract\":\"1,2\"}}" TAIL,
                 REF_E_MALFORMED, "steps[0].expect.contract", 0, 0);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"contract\":3}" TAIL, REF_E_MALFORMED,
                 "steps[0].contract: expected a string", 0, 0);
}

static void test_scenario_load_all_pages(void **state)
{
    (void)state;
    /* A call step may ask for every page; a request written out may not (it is sent as is). */
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    const char *ok = HEAD "{\"call\":\"ListPipelines\",\"all_pages\":true}" TAIL;
    assert_int_equal(load(ok, &sc, &err), REF_OK);
    assert_true(sc->steps[0].all_pages);
    harness_scenario_free(sc);
    expect_error(HEAD "{\"call\":\"ListPipelines\",\"all_pages\":\"yes\"}" TAIL, REF_E_MALFORMED,
                 "steps[0].all_pages", 0, 0);
    expect_error(HEAD "{\"raw\":{\"method\":\"GET\",\"target\":\"/\"},\"all_pages\":true}" TAIL,
                 REF_E_MALFORMED, "unknown key 'all_pages' in a raw step", 0, 0);
}

/* "pipelines" (how many a scenario holds at once): 1 to HARNESS_MAX_SCENARIO_PIPELINES,
 * absent meaning none declared; at and over both ends. */
static void test_scenario_load_limit_pipelines(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    char text[256];
    const char *form = "{\"name\":\"s\",\"description\":\"d\",\"source\":\"model\","
                       "\"pipelines\":%s,\"steps\":[{\"call\":\"ListPipelines\"}]}";
    assert_int_equal(load(HEAD "{\"call\":\"ListPipelines\"}" TAIL, &sc, &err), REF_OK);
    assert_int_equal(sc->pipelines, 0);
    harness_scenario_free(sc);
    static const struct {
        const char *value;
        size_t want;
    } accepted[] = {{"1", 1}, {"1000", HARNESS_MAX_SCENARIO_PIPELINES}};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        snprintf(text, sizeof text, form, accepted[i].value);
        sc = NULL;
        assert_int_equal(load(text, &sc, &err), REF_OK);
        assert_int_equal(sc->pipelines, accepted[i].want);
        harness_scenario_free(sc);
    }
    static const char *const refused[] = {"0", "1001", "-1", "2.5", "\"4\""};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        snprintf(text, sizeof text, form, refused[i]);
        expect_error(text, REF_E_MALFORMED, "pipelines", 0, 0);
    }
}

static void test_scenario_load_concurrent_and_outcomes(void **state)
{
    (void)state;
    const char *ok =
        HEAD "{\"name\":\"race\",\"concurrent\":[{\"name\":\"a\",\"call\":\"ListPipelines\"},"
             "{\"name\":\"b\",\"clock\":{\"advance_ms\":5}}],"
             "\"outcomes\":[{\"a\":{\"status\":200},\"set\":{\"v\":\"x\"}}]},"
             "{\"call\":\"ReadJob\",\"params\":{\"Id\":\"${v}\"}}" TAIL;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    assert_int_equal(load(ok, &sc, &err), REF_OK);
    assert_int_equal(sc->steps[0].num_subs, 2);
    assert_true(sc->steps[0].outcomes[0].has_expect[0]);
    assert_false(sc->steps[0].outcomes[0].has_expect[1]);
    assert_true(sc->uses_hooks);
    harness_scenario_free(sc);
    expect_error(HEAD "{\"concurrent\":[{\"name\":\"a\",\"call\":\"ListPipelines\"},"
                      "{\"name\":\"b\",\"call\":\"ListPipelines\"}],"
                      "\"outcomes\":[{\"c\":{\"status\":200}}]}" TAIL,
                 REF_E_MALFORMED, "steps[0].outcomes[0].c: no sub-step is named 'c'", 0, 0);
    expect_error(HEAD
                 "{\"concurrent\":[{\"call\":\"ListPipelines\"},"
                 "{\"wait\":{\"call\":\"ListPipelines\",\"until\":{}}}],\"outcomes\":[{}]}" TAIL,
                 REF_E_MALFORMED, "a concurrent sub-step is a call", 0, 0);
    expect_error(
        HEAD "{\"concurrent\":[{\"call\":\"ListPipelines\"},{\"call\":\"ListPipelines\"}]}" TAIL,
        REF_E_MALFORMED, "needs \"outcomes\"", 0, 0);
}

/* --- Limits -------------------------------------------------------------------------- */

static char *scenario_with_steps(size_t n)
{
    size_t cap = 128 + n * 40;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t used = (size_t)snprintf(text, cap, "%s", HEAD);
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(text + used, cap - used, "%s{\"call\":\"ListPipelines\"}",
                                 i > 0 ? "," : "");
    }
    snprintf(text + used, cap - used, "%s", TAIL);
    return text;
}

static void test_scenario_load_limit_steps(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    char *at = scenario_with_steps(HARNESS_MAX_STEPS);
    assert_int_equal(load(at, &sc, &err), REF_OK);
    assert_int_equal(sc->num_steps, HARNESS_MAX_STEPS);
    harness_scenario_free(sc);
    free(at);
    char *over = scenario_with_steps(HARNESS_MAX_STEPS + 1);
    expect_error(over, REF_E_MALFORMED, "65 steps: at most 64", 0, 0);
    free(over);
}

static char *scenario_with_depth(int depth)
{
    /* The body of a CreateJob call nests objects: the scenario itself takes 5 levels
     * (root, steps, step, params, ...), so depth counts the whole document. */
    size_t cap = 256 + (size_t)depth * 16;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t used = (size_t)snprintf(text, cap, "%s{\"call\":\"CreateJob\",\"params\":", HEAD);
    int inner = depth - 3; /* root, steps array, step object */
    for (int i = 0; i < inner; i++) {
        used += (size_t)snprintf(text + used, cap - used, "{\"a\":");
    }
    used += (size_t)snprintf(text + used, cap - used, "1");
    for (int i = 0; i < inner; i++) {
        used += (size_t)snprintf(text + used, cap - used, "}");
    }
    snprintf(text + used, cap - used, "}%s", TAIL);
    return text;
}

static void test_scenario_load_limit_nesting(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    char *at = scenario_with_depth(HARNESS_MAX_JSON_DEPTH);
    if (load(at, &sc, &err) != REF_OK) {
        fail_msg("at the limit: %s", err.message);
    }
    harness_scenario_free(sc);
    free(at);
    char *over = scenario_with_depth(HARNESS_MAX_JSON_DEPTH + 1);
    expect_error(over, REF_E_TOO_LARGE, "nested deeper than 32", 0, 0);
    free(over);
}

static void test_scenario_load_limit_file_size(void **state)
{
    (void)state;
    const char *base = HEAD "{\"call\":\"ListPipelines\"}" TAIL;
    size_t n = HARNESS_MAX_SCENARIO_FILE_BYTES;
    char *text = malloc(n + 2);
    assert_non_null(text);
    memset(text, ' ', n + 1);
    memcpy(text, base, strlen(base));
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    assert_int_equal(
        harness_scenario_load_buffer((const uint8_t *)text, n, "t/s.json", "t", NULL, &sc, &err),
        REF_OK);
    harness_scenario_free(sc);
    sc = NULL;
    assert_int_equal(harness_scenario_load_buffer((const uint8_t *)text, n + 1, "t/s.json", "t",
                                                  NULL, &sc, &err),
                     REF_E_TOO_LARGE);
    assert_null(sc);
    assert_non_null(strstr(err.message, "at most 1048576"));
    free(text);
}

static void test_scenario_load_limit_concurrent_and_groups(void **state)
{
    (void)state;
    char text[4096];
    for (int n = HARNESS_MAX_CONCURRENT; n <= HARNESS_MAX_CONCURRENT + 1; n++) {
        size_t used = (size_t)snprintf(text, sizeof(text), "%s{\"concurrent\":[", HEAD);
        for (int i = 0; i < n; i++) {
            used += (size_t)snprintf(text + used, sizeof(text) - used,
                                     "%s{\"call\":\"ListPipelines\"}", i > 0 ? "," : "");
        }
        snprintf(text + used, sizeof(text) - used,
                 "],\"outcomes\":[{\"sub-1\":{\"status\":200}}]}%s", TAIL);
        struct harness_scenario *sc = NULL;
        struct harness_load_error err;
        enum ref_status rc = load(text, &sc, &err);
        if (n == HARNESS_MAX_CONCURRENT) {
            assert_int_equal(rc, REF_OK);
            harness_scenario_free(sc);
        } else {
            assert_int_equal(rc, REF_E_MALFORMED);
            assert_non_null(strstr(err.message, "more than 8 sub-steps"));
        }
    }
    for (int n = HARNESS_MAX_EXPECT_GROUPS; n <= HARNESS_MAX_EXPECT_GROUPS + 1; n++) {
        size_t used = (size_t)snprintf(text, sizeof(text),
                                       "%s{\"call\":\"ListPipelines\","
                                       "\"expect\":[",
                                       HEAD);
        for (int i = 0; i < n; i++) {
            used += (size_t)snprintf(text + used, sizeof(text) - used, "%s{\"status\":200}",
                                     i > 0 ? "," : "");
        }
        snprintf(text + used, sizeof(text) - used, "]}%s", TAIL);
        struct harness_scenario *sc = NULL;
        struct harness_load_error err;
        enum ref_status rc = load(text, &sc, &err);
        if (n == HARNESS_MAX_EXPECT_GROUPS) {
            assert_int_equal(rc, REF_OK);
            harness_scenario_free(sc);
        } else {
            assert_int_equal(rc, REF_E_MALFORMED);
        }
    }
}

static void test_scenario_load_file_errors_name_the_file(void **state)
{
    (void)state;
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    assert_int_equal(harness_scenario_load_file("/nonexistent/area/none.json", NULL, &sc, &err),
                     REF_E_NOT_FOUND);
    assert_string_equal(err.file, "/nonexistent/area/none.json");
    char text[1200];
    harness_load_error_format(&err, text, sizeof(text));
    assert_non_null(strstr(text, "/nonexistent/area/none.json: cannot read"));
}

static void test_scenario_load_the_whole_suite(void **state)
{
    (void)state;
    struct harness_suite suite;
    struct harness_load_error err;
    enum ref_status rc =
        harness_suite_load_dir(ETCH_SOURCE_DIR "/fixtures/scenarios", &suite, &err);
    if (rc != REF_OK) {
        char text[1200];
        harness_load_error_format(&err, text, sizeof(text));
        fail_msg("%s", text);
    }
    assert_true(suite.count >= 4);
    for (size_t i = 1; i < suite.count; i++) {
        /* Sorted by area, then by file name. */
        assert_true(strcmp(suite.items[i - 1]->area, suite.items[i]->area) <= 0);
    }
    harness_suite_cleanup(&suite);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_load_minimal),
        cmocka_unit_test(test_scenario_load_rejects_syntax_error_with_line_column),
        cmocka_unit_test(test_scenario_load_rejects_empty_input),
        cmocka_unit_test(test_scenario_load_rejects_duplicate_key),
        cmocka_unit_test(test_scenario_load_rejects_unknown_key_with_path),
        cmocka_unit_test(test_scenario_load_rejects_mistyped_key_with_path),
        cmocka_unit_test(test_scenario_load_provenance_names),
        cmocka_unit_test(test_scenario_load_rejects_bad_top_level),
        cmocka_unit_test(test_scenario_load_rejects_unknown_operation_and_params),
        cmocka_unit_test(test_scenario_load_rejects_bad_sign_modes),
        cmocka_unit_test(test_scenario_load_accepts_every_sign_mode),
        cmocka_unit_test(test_scenario_load_rejects_bad_matchers),
        cmocka_unit_test(test_scenario_load_rejects_undefined_variable),
        cmocka_unit_test(test_scenario_load_rejects_bad_steps),
        cmocka_unit_test(test_scenario_load_live_keys),
        cmocka_unit_test(test_scenario_load_all_pages),
        cmocka_unit_test(test_scenario_load_contract_sections),
        cmocka_unit_test(test_scenario_load_concurrent_and_outcomes),
        cmocka_unit_test(test_scenario_load_limit_steps),
        cmocka_unit_test(test_scenario_load_limit_pipelines),
        cmocka_unit_test(test_scenario_load_limit_nesting),
        cmocka_unit_test(test_scenario_load_limit_file_size),
        cmocka_unit_test(test_scenario_load_limit_concurrent_and_groups),
        cmocka_unit_test(test_scenario_load_file_errors_name_the_file),
        cmocka_unit_test(test_scenario_load_the_whole_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
