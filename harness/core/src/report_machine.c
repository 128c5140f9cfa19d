/* SPDX-License-Identifier: Apache-2.0
 *
 * report_machine.c - the machine reports: JUnit XML, TAP version 13 and JSON Lines, one
 * test case, test point or line per scenario.
 *
 * XML and TAP text is escaped so any byte a target sends back still yields a well-formed
 * document; a writer returns a status other than REF_OK when the stream reports an error.
 */
#define _POSIX_C_SOURCE 200809L

#include "report_internal.h"

#include "harness/replay.h"
#include "harness/report.h"
#include "harness/text.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

/* --- Machine formats --------------------------------------------------------------- */

/* XML 1.0 text: escapes markup, and replaces bytes XML cannot carry at all. */
static void xml_text(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
            case '<':
                fputs("&lt;", out);
                break;
            case '>':
                fputs("&gt;", out);
                break;
            case '&':
                fputs("&amp;", out);
                break;
            case '"':
                fputs("&quot;", out);
                break;
            case '\'':
                fputs("&apos;", out);
                break;
            default:
                if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x80) {
                    fprintf(out, "\\x%02x", c);
                } else {
                    fputc(c, out);
                }
                break;
        }
    }
}

static void xml_cstr(FILE *out, const char *s)
{
    xml_text(out, s, strlen(s));
}

/* The first broken check or the step reason: one line for JUnit messages and TAP. */
static void first_problem(const struct harness_scenario_result *r, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t k = 0; k < r->num_steps; k++) {
        const struct harness_step_result *s = &r->steps[k];
        if (s->verdict != r->verdict) {
            continue;
        }
        for (size_t c = 0; c < s->checks.count; c++) {
            const struct harness_check_result *ck = &s->checks.items[c];
            if (!ck->held && ck->level != HARNESS_LEVEL_INFO) {
                /* The sections too: a CI summary shows only this line. */
                char sections[HARNESS_MAX_JSON_PATH_BYTES] = "";
                if (ck->contract != NULL) {
                    harness_textf(sections, sizeof(sections), " (contract section%s %s)",
                                  strchr(ck->contract, ',') != NULL ? "s" : "", ck->contract);
                }
                harness_textf(out, cap, "step '%s': %s [%s] %s: expected %s, got %s%s",
                              s->step->name, harness_level_name(ck->level),
                              harness_source_name(ck->source), ck->what, ck->expected, ck->actual,
                              sections);
                return;
            }
        }
        if (s->reason[0] != '\0') {
            harness_textf(out, cap, "step '%s': %s", s->step->name, s->reason);
            return;
        }
    }
}

static char *details_text(const struct harness_scenario_result *r,
                          const struct harness_report_meta *meta,
                          size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&text, &n);
    if (mem == NULL) {
        return NULL;
    }
    for (size_t k = 0; k < r->num_steps; k++) {
        const struct harness_step_result *s = &r->steps[k];
        if (s->verdict == HARNESS_VERDICT_FAIL || s->verdict == HARNESS_VERDICT_ERROR ||
            s->verdict == HARNESS_VERDICT_DEVIATION ||
            s->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED) {
            harness_report_step_details(mem, r, s, meta, false);
        }
    }
    fclose(mem);
    *len = n;
    return text;
}

enum ref_status harness_report_junit(FILE *out,
                                     const struct harness_scenario_result *results,
                                     size_t n,
                                     const struct harness_report_meta *meta)
{
    struct harness_summary sum;
    harness_summary_compute(results, n, &sum);
    bool strict = meta != NULL && meta->strict;
    bool allow_ni = meta != NULL && meta->allow_unimplemented;
    size_t ni = sum.by_verdict[HARNESS_VERDICT_NOT_IMPLEMENTED];
    size_t failures = sum.by_verdict[HARNESS_VERDICT_FAIL] + (allow_ni ? 0 : ni) +
                      (strict ? sum.by_verdict[HARNESS_VERDICT_DEVIATION] : 0);
    size_t skipped = sum.by_verdict[HARNESS_VERDICT_SKIP] + (allow_ni ? ni : 0);
    size_t errors = sum.by_verdict[HARNESS_VERDICT_ERROR];
    /* A failure a baseline expects is written as skipped, which CI dashboards show as
     * neither red nor silently green. */
    for (size_t i = 0; i < n; i++) {
        enum harness_verdict v = results[i].verdict;
        if (results[i].expected_reason == NULL) {
            continue;
        }
        if (v == HARNESS_VERDICT_ERROR) {
            errors--;
            skipped++;
        } else if (v == HARNESS_VERDICT_FAIL ||
                   (v == HARNESS_VERDICT_NOT_IMPLEMENTED && !allow_ni) ||
                   (v == HARNESS_VERDICT_DEVIATION && strict)) {
            failures--;
            skipped++;
        }
    }
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out,
            "<testsuites name=\"etch\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"%zu\" time=\"%.3f\">\n",
            n, failures, errors, skipped, sum.duration_ms / 1000.0);
    fprintf(out,
            "  <testsuite name=\"etch.conformance\" tests=\"%zu\" failures=\"%zu\" "
            "errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
            n, failures, errors, skipped, sum.duration_ms / 1000.0);
    fprintf(out, "    <properties>\n");
    fprintf(out, "      <property name=\"target\" value=\"");
    xml_cstr(out, meta != NULL && meta->target != NULL ? meta->target : "");
    fprintf(out, "\"/>\n      <property name=\"tool\" value=\"");
    xml_cstr(out, meta != NULL && meta->tool != NULL ? meta->tool : "etch");
    fprintf(out, "\"/>\n      <property name=\"must\" value=\"%zu/%zu\"/>\n", sum.must_held,
            sum.must_total);
    fprintf(out, "      <property name=\"should\" value=\"%zu/%zu\"/>\n", sum.should_held,
            sum.should_total);
    fprintf(out, "    </properties>\n");
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        fprintf(out, "    <testcase classname=\"etch.");
        xml_cstr(out, r->scenario->area);
        fprintf(out, "\" name=\"");
        xml_cstr(out, r->scenario->name);
        fprintf(out, "\" time=\"%.6f\">\n", r->duration_ms / 1000.0);
        char problem[1024];
        first_problem(r, problem, sizeof(problem));
        size_t dlen = 0;
        char *details = NULL;
        const char *tag = NULL;
        switch (r->verdict) {
            case HARNESS_VERDICT_FAIL:
                tag = "failure";
                break;
            case HARNESS_VERDICT_NOT_IMPLEMENTED:
                tag = allow_ni ? NULL : "failure";
                break;
            case HARNESS_VERDICT_DEVIATION:
                tag = strict ? "failure" : NULL;
                break;
            case HARNESS_VERDICT_ERROR:
                tag = "error";
                break;
            default:
                break;
        }
        if (r->verdict == HARNESS_VERDICT_SKIP ||
            (r->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED && allow_ni)) {
            fprintf(out, "      <skipped message=\"%s",
                    r->verdict == HARNESS_VERDICT_SKIP ? "" : "NOT IMPLEMENTED: ");
            xml_cstr(out, problem);
            fprintf(out, "\"/>\n");
        }
        if (tag != NULL || r->verdict == HARNESS_VERDICT_DEVIATION) {
            details = details_text(r, meta, &dlen);
        }
        if (tag != NULL && r->expected_reason != NULL) {
            fprintf(out, "      <skipped message=\"expected failure: ");
            xml_cstr(out, r->expected_reason);
            fprintf(out, "\"/>\n      <system-out>%s (expected by the baseline): ",
                    harness_verdict_name(r->verdict));
            xml_cstr(out, problem);
            if (details != NULL) {
                xml_text(out, details, dlen);
            }
            fprintf(out, "</system-out>\n");
        } else if (tag != NULL) {
            fprintf(out, "      <%s type=\"%s\" message=\"", tag, harness_verdict_name(r->verdict));
            xml_cstr(out, problem);
            fprintf(out, "\">");
            if (details != NULL) {
                xml_text(out, details, dlen);
            }
            fprintf(out, "</%s>\n", tag);
        } else if (r->verdict == HARNESS_VERDICT_DEVIATION) {
            /* Without --strict only should-level expectations broke: a pass, with the details
             * attached. */
            fprintf(out, "      <system-out>DEVIATION: ");
            xml_cstr(out, problem);
            if (details != NULL) {
                xml_text(out, details, dlen);
            }
            fprintf(out, "</system-out>\n");
        }
        free(details);
        fprintf(out, "    </testcase>\n");
    }
    fprintf(out, "  </testsuite>\n</testsuites>\n");
    return ferror(out) ? REF_E_INTERNAL : REF_OK;
}

/* TAP descriptions and YAML scalars: one line, no '#' (which starts a directive). */
static void tap_line(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '#') {
            fputs("\\#", out);
        } else if (c < 0x20 || c == 0x7f) {
            fputc(' ', out);
        } else {
            fputc(c, out);
        }
    }
}

static void yaml_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\x%02x", c);
        } else {
            fputc(c, out);
        }
    }
    fputc('"', out);
}

enum ref_status harness_report_tap(FILE *out,
                                   const struct harness_scenario_result *results,
                                   size_t n,
                                   const struct harness_report_meta *meta)
{
    fprintf(out, "TAP version 13\n1..%zu\n", n);
    if (meta != NULL && meta->target != NULL) {
        fprintf(out, "# target: ");
        tap_line(out, meta->target);
        fputc('\n', out);
    }
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        bool strict = meta != NULL && meta->strict;
        bool allow_ni = meta != NULL && meta->allow_unimplemented;
        bool ni_skipped = r->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED && allow_ni;
        bool ok = r->verdict == HARNESS_VERDICT_PASS || r->verdict == HARNESS_VERDICT_SKIP ||
                  (r->verdict == HARNESS_VERDICT_DEVIATION && !strict) || ni_skipped;
        char problem[1024];
        first_problem(r, problem, sizeof(problem));
        fprintf(out, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
        tap_line(out, r->scenario->area);
        fputc('/', out);
        tap_line(out, r->scenario->name);
        if (r->verdict == HARNESS_VERDICT_SKIP || ni_skipped) {
            fprintf(out, " # SKIP %s", ni_skipped ? "not implemented: " : "");
            tap_line(out, problem);
        } else if (!ok && r->expected_reason != NULL) {
            /* A TODO test point that fails is not a failure of the run (TAP 13). */
            fprintf(out, " # TODO ");
            tap_line(out, r->expected_reason);
        }
        fputc('\n', out);
        if (r->verdict != HARNESS_VERDICT_PASS && r->verdict != HARNESS_VERDICT_SKIP) {
            fprintf(out, "  ---\n  verdict: ");
            yaml_quoted(out, harness_verdict_name(r->verdict));
            fprintf(out, "\n  message: ");
            yaml_quoted(out, problem);
            if (r->scenario->description != NULL) {
                fprintf(out, "\n  description: ");
                yaml_quoted(out, r->scenario->description);
            }
            fprintf(out, "\n  must: \"%zu/%zu\"\n  should: \"%zu/%zu\"\n  ...\n", r->must_held,
                    r->must_total, r->should_held, r->should_total);
        }
    }
    return ferror(out) ? REF_E_INTERNAL : REF_OK;
}

/* A JSON string of text that may hold bytes a target sent: when it is not valid UTF-8,
 * every byte from 0x80 up becomes '?', so the line still encodes. */
static json_t *text_string(const char *text)
{
    json_t *v = json_string(text);
    if (v != NULL) {
        return v;
    }
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        return NULL;
    }
    for (size_t i = 0; i <= n; i++) {
        copy[i] = (unsigned char)text[i] >= 0x80 ? '?' : text[i];
    }
    v = json_string(copy);
    free(copy);
    return v;
}

/* The outcomes a concurrent group allows, as the text report lists them. */
static json_t *outcomes_json(const struct harness_step *step)
{
    json_t *list = json_array();
    for (size_t k = 0; list != NULL && k < step->num_outcomes; k++) {
        json_t *parts = json_object();
        for (size_t i = 0; parts != NULL && i < step->num_subs; i++) {
            if (step->outcomes[k].has_expect[i]) {
                char text[HARNESS_CHECK_TEXT_BYTES];
                report_outcome_part_text(&step->outcomes[k].expect[i], text, sizeof(text));
                json_object_set_new(parts, step->subs[i].name, text_string(text));
            }
        }
        json_array_append_new(list, parts);
    }
    return list;
}

static json_t *check_json(const struct harness_check_result *c)
{
    json_t *v = json_object();
    if (v != NULL) {
        json_object_set_new(v, "what", text_string(c->what));
        json_object_set_new(v, "level", json_string(harness_level_name(c->level)));
        json_object_set_new(v, "source", json_string(harness_source_name(c->source)));
        json_object_set_new(v, "held", json_boolean(c->held));
        json_object_set_new(v, "expected", text_string(c->expected));
        json_object_set_new(v, "actual", text_string(c->actual));
        if (c->contract != NULL) {
            json_object_set_new(v, "contract", json_string(c->contract));
        }
    }
    return v;
}

enum ref_status harness_report_jsonl(FILE *out,
                                     const struct harness_scenario_result *results,
                                     size_t n,
                                     const struct harness_report_meta *meta)
{
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        json_t *tags = json_array();
        json_t *steps = json_array();
        json_t *line = json_object();
        if (tags == NULL || steps == NULL || line == NULL) {
            json_decref(tags);
            json_decref(steps);
            json_decref(line);
            return REF_E_NOMEM;
        }
        for (size_t t = 0; t < r->scenario->num_tags; t++) {
            json_array_append_new(tags, json_string(r->scenario->tags[t]));
        }
        for (size_t k = 0; k < r->num_steps; k++) {
            const struct harness_step_result *s = &r->steps[k];
            json_t *checks = json_array();
            for (size_t c = 0; checks != NULL && c < s->checks.count; c++) {
                json_array_append_new(checks, check_json(&s->checks.items[c]));
            }
            json_t *st = json_object();
            if (st != NULL) {
                json_object_set_new(st, "name", json_string(s->step->name));
                json_object_set_new(st, "verdict", json_string(harness_verdict_name(s->verdict)));
                json_object_set_new(st, "reason", text_string(s->reason));
                json_object_set_new(st, "checks", checks);
                json_object_set_new(st, "duration_ms", json_real(s->duration_ms));
                if (s->step->kind == HARNESS_STEP_CONCURRENT && harness_step_needs_replay(s)) {
                    json_object_set_new(st, "allowed_outcomes", outcomes_json(s->step));
                }
            } else {
                json_decref(checks);
            }
            /* A step whose first answer was lost is judged on its retry, the last exchange. */
            const struct harness_exchange *judged =
                s->num_exchanges == 0 ? NULL
                : s->step->lost_answer != HARNESS_RETRYING_SDK_NONE
                    ? &s->exchanges[s->num_exchanges - 1]
                    : &s->exchanges[0];
            if (st != NULL && judged != NULL && judged->http_status != 0) {
                json_object_set_new(st, "status", json_integer(judged->http_status));
                if (judged->error_code[0] != '\0') {
                    json_object_set_new(st, "error", text_string(judged->error_code));
                }
            }
            json_array_append_new(steps, st);
        }
        json_object_set_new(line, "scenario", json_string(r->scenario->name));
        json_object_set_new(line, "area", json_string(r->scenario->area));
        json_object_set_new(line, "file", json_string(r->scenario->display_path));
        if (r->scenario->description != NULL) {
            json_object_set_new(line, "description", text_string(r->scenario->description));
        }
        json_object_set_new(line, "verdict", json_string(harness_verdict_name(r->verdict)));
        if (r->expected_reason != NULL) {
            json_object_set_new(line, "expected_by_baseline", text_string(r->expected_reason));
        }
        if (meta != NULL && meta->target != NULL) {
            json_object_set_new(line, "target", json_string(meta->target));
        }
        json_object_set_new(line, "tags", tags);
        json_object_set_new(line, "must",
                            json_pack("{s:I, s:I}", "held", (json_int_t)r->must_held, "total",
                                      (json_int_t)r->must_total));
        json_object_set_new(line, "should",
                            json_pack("{s:I, s:I}", "held", (json_int_t)r->should_held, "total",
                                      (json_int_t)r->should_total));
        json_object_set_new(line, "duration_ms", json_real(r->duration_ms));
        if (r->cleanup.is_done) {
            json_t *c = json_pack("{s:I, s:I, s:I, s:I}", "jobs_canceled",
                                  (json_int_t)r->cleanup.jobs_canceled, "jobs_cancel_ignored",
                                  (json_int_t)r->cleanup.jobs_cancel_ignored, "pipelines_deleted",
                                  (json_int_t)r->cleanup.pipelines_deleted, "pipelines_left",
                                  (json_int_t)r->cleanup.pipelines_left);
            if (c != NULL && r->cleanup.note[0] != '\0') {
                json_object_set_new(c, "note", text_string(r->cleanup.note));
            }
            json_object_set_new(line, "cleanup", c);
        }
        json_object_set_new(line, "steps", steps);
        /* JSON_ENSURE_ASCII: whatever bytes a target sent, every line stays valid UTF-8. */
        char *text = harness_json_dump(line, JSON_COMPACT | JSON_ENSURE_ASCII);
        json_decref(line);
        if (text == NULL) {
            return REF_E_NOMEM;
        }
        fprintf(out, "%s\n", text);
        free(text);
    }
    return ferror(out) ? REF_E_INTERNAL : REF_OK;
}
