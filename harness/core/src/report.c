/* SPDX-License-Identifier: Apache-2.0
 *
 * report.c - run reports for people: the text table, failure details, skips, cleanup and
 * the summary. Reproducers are report_repro.c's; JUnit, TAP and JSON Lines are
 * report_machine.c's.
 *
 * Writers take finished results and never fail half-way silently: they return a status
 * other than REF_OK when the stream reports an error. XML and TAP text is escaped so any
 * byte a target sends back still yields a well-formed document. Session tokens are
 * redacted everywhere.
 */
#define _POSIX_C_SOURCE 200809L

#include "report_internal.h"

#include "harness/replay.h"
#include "harness/report.h"
#include "harness/report_groups.h"
#include "harness/text.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

/* --- Summary ----------------------------------------------------------------------- */

void harness_summary_compute(const struct harness_scenario_result *results,
                             size_t n,
                             struct harness_summary *out)
{
    memset(out, 0, sizeof(*out));
    out->scenarios = n;
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        if ((unsigned)r->verdict < HARNESS_VERDICT_COUNT) {
            out->by_verdict[r->verdict]++;
        }
        out->must_held += r->must_held;
        out->must_total += r->must_total;
        out->should_held += r->should_held;
        out->should_total += r->should_total;
        out->duration_ms += r->duration_ms;
    }
}

static double pct(size_t held, size_t total)
{
    return total == 0 ? 100.0 : 100.0 * (double)held / (double)total;
}

void harness_report_summary(FILE *out, const struct harness_summary *sum)
{
    fprintf(out,
            "summary: %zu scenarios, %zu passed, %zu failed, %zu deviations, %zu not "
            "implemented, %zu skipped, %zu errors ",
            sum->scenarios, sum->by_verdict[HARNESS_VERDICT_PASS],
            sum->by_verdict[HARNESS_VERDICT_FAIL], sum->by_verdict[HARNESS_VERDICT_DEVIATION],
            sum->by_verdict[HARNESS_VERDICT_NOT_IMPLEMENTED], sum->by_verdict[HARNESS_VERDICT_SKIP],
            sum->by_verdict[HARNESS_VERDICT_ERROR]);
    /* Workers run scenarios side by side, so their times add up to more than the run
     * took: the wall time is what a CI job waits. */
    if (sum->wall_ms > 0) {
        fprintf(out, "in %.1f s wall (scenario time %.1f s)\n", sum->wall_ms / 1000.0,
                sum->duration_ms / 1000.0);
    } else {
        fprintf(out, "(%.1f ms)\n", sum->duration_ms);
    }
    fprintf(out, "conformance: must %zu/%zu (%.1f%%), should %zu/%zu (%.1f%%)\n", sum->must_held,
            sum->must_total, pct(sum->must_held, sum->must_total), sum->should_held,
            sum->should_total, pct(sum->should_held, sum->should_total));
}

/* --- Text -------------------------------------------------------------------------- */

static const char *verdict_color(enum harness_verdict v)
{
    switch (v) {
        case HARNESS_VERDICT_PASS:
            return "\033[32m";
        case HARNESS_VERDICT_DEVIATION:
            return "\033[33m";
        case HARNESS_VERDICT_SKIP:
            return "\033[36m";
        case HARNESS_VERDICT_NOT_IMPLEMENTED:
            return "\033[35m";
        default:
            return "\033[31m";
    }
}

static void print_buf(FILE *out, struct ref_buf *b)
{
    if (b->len > 0) {
        fwrite(b->data, 1, b->len, out);
    }
    ref_buf_reset(b);
}

/* "section 3" or "sections 1b, 8". */
static void print_sections(FILE *out, const char *contract)
{
    fprintf(out, "contract section%s %s", strchr(contract, ',') != NULL ? "s" : "", contract);
}

/* What one sub-step of an allowed outcome must get: "202", "409 ResourceInUseException",
 * "4xx or 5xx", with "and more checks" when the outcome looks at more than status and
 * error code. */
void report_outcome_part_text(const struct harness_expect *e, char *text, size_t cap)
{
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < e->num_status && used < cap; i++) {
        const struct harness_status_alt *alt = &e->status[i];
        const char *sep = i > 0 ? " or " : "";
        int w = alt->status_class != 0
                    ? snprintf(text + used, cap - used, "%s%dxx", sep, alt->status_class)
                : alt->is_closed ? snprintf(text + used, cap - used, "%sclosed", sep)
                                 : snprintf(text + used, cap - used, "%s%d", sep, alt->code);
        used += w > 0 ? (size_t)w : 0;
    }
    if (e->has_error && used < cap) {
        int w = snprintf(text + used, cap - used, "%s%s", used > 0 ? " " : "",
                         e->error != NULL ? e->error : "(no error code)");
        used += w > 0 ? (size_t)w : 0;
    }
    if ((e->headers != NULL || e->body != NULL || e->paths != NULL || e->json || e->error_form) &&
        used < cap) {
        snprintf(text + used, cap - used, "%s", used > 0 ? " and more checks" : "checks");
    } else if (used == 0) {
        snprintf(text, cap, "anything");
    }
}

/* The outcomes a concurrent group allows, one line each, next to what it got. */
static void print_outcomes(FILE *out, const struct harness_step *step)
{
    fprintf(out, "      allowed outcomes (%s.outcomes):\n", step->json_path);
    for (size_t k = 0; k < step->num_outcomes; k++) {
        const struct harness_outcome *oc = &step->outcomes[k];
        fprintf(out, "        %zu.", k + 1);
        const char *sep = " ";
        for (size_t i = 0; i < step->num_subs; i++) {
            if (!oc->has_expect[i]) {
                continue;
            }
            char text[HARNESS_CHECK_TEXT_BYTES];
            report_outcome_part_text(&oc->expect[i], text, sizeof(text));
            fprintf(out, "%s%s: %s", sep, step->subs[i].name, text);
            sep = "; ";
        }
        fprintf(out, "\n");
    }
}

void harness_report_step_details(FILE *out,
                                 const struct harness_scenario_result *r,
                                 const struct harness_step_result *s,
                                 const struct harness_report_meta *meta,
                                 bool color)
{
    const struct harness_step *step = s->step;
    const char *on = color ? verdict_color(s->verdict) : "";
    const char *off = color ? "\033[0m" : "";
    const char *what = step->kind == HARNESS_STEP_CALL         ? ref_op_name(step->request.op)
                       : step->kind == HARNESS_STEP_WAIT       ? "wait"
                       : step->kind == HARNESS_STEP_CONCURRENT ? "concurrent"
                       : step->kind == HARNESS_STEP_RAW        ? "raw"
                                                               : "hook";
    fprintf(out, "\n%s%s%s %s, step %zu '%s' (%s) at %s\n", on, harness_verdict_name(s->verdict),
            off, r->scenario->display_path, step->index + 1, step->name, what, step->json_path);
    if (r->scenario->description != NULL && r->scenario->description[0] != '\0') {
        fprintf(out, "  scenario: %s\n", r->scenario->description);
    }
    if (step->note != NULL) {
        fprintf(out, "  note: %s\n", step->note);
    }
    if (s->reason[0] != '\0') {
        fprintf(out, "  %s\n", s->reason);
    }
    if (s->polls > 0) {
        fprintf(out, "  polls: %u\n", s->polls);
    }
    bool has_contract = false;
    for (size_t i = 0; i < s->checks.count; i++) {
        const struct harness_check_result *c = &s->checks.items[i];
        if (c->held) {
            continue;
        }
        fprintf(out, "  %s [%s] %s: expected %s\n      got %s\n", harness_level_name(c->level),
                harness_source_name(c->source), c->what, c->expected, c->actual);
        if (c->note != NULL) {
            fprintf(out, "      note: %s\n", c->note);
        }
        if (c->contract != NULL) {
            fputs("      rests on ", out);
            print_sections(out, c->contract);
            fputs("\n", out);
            has_contract = true;
        }
        if (step->kind == HARNESS_STEP_CONCURRENT && strcmp(c->what, "outcomes") == 0) {
            print_outcomes(out, step);
        }
    }
    if (has_contract) {
        /* The sources name no machine's paths: the contract's sections are mapped to the
         * reference's files in the README next to them. */
        fputs("  where the reference implements each contract section: reference/README.md\n", out);
    }
    struct ref_buf b;
    ref_buf_init(&b, 1024 * 1024);
    for (size_t i = 0; i < s->num_exchanges; i++) {
        const struct harness_exchange *x = &s->exchanges[i];
        if (x->request.len == 0) {
            continue;
        }
        const char *label = x->label != NULL ? x->label : "";
        char saved[4096];
        const char *saved_path = NULL;
        if (meta != NULL && meta->saved_requests_dir != NULL &&
            harness_saved_request_path(meta->saved_requests_dir, r->scenario, s, i, saved,
                                       sizeof(saved))) {
            saved_path = saved;
            fprintf(out,
                    "  request%s%s saved as %s (`etch send --endpoint URL FILE` sends it byte "
                    "for byte, `etch handle FILE` answers it as the reference)\n",
                    label[0] != '\0' ? " " : "", label, saved);
        }
        fprintf(out, "  request%s%s (reproducer):\n", label[0] != '\0' ? " " : "", label);
        if (harness_step_reproducer(x, meta, saved_path, &b) == REF_OK) {
            /* Indent the command as a block. */
            fputs("    ", out);
            for (size_t k = 0; k < b.len; k++) {
                fputc(b.data[k], out);
                if (b.data[k] == '\n' && k + 1 < b.len) {
                    fputs("    ", out);
                }
            }
        }
        ref_buf_reset(&b);
        fprintf(out, "  request%s%s (raw HTTP):\n", label[0] != '\0' ? " " : "", label);
        if (harness_raw_printable(ref_buf_slice(&x->request), RAW_SHOWN_BYTES, "    ", &b) ==
            REF_OK) {
            print_buf(out, &b);
        }
        ref_buf_reset(&b);
        if (x->response.len > 0) {
            fprintf(out, "  response%s%s (raw HTTP):\n", label[0] != '\0' ? " " : "", label);
            if (harness_raw_printable(ref_buf_slice(&x->response), RAW_SHOWN_BYTES, "    ", &b) ==
                REF_OK) {
                print_buf(out, &b);
            }
        }
    }
    ref_buf_cleanup(&b);
}

/* On a shared endpoint: what the runner deleted after the scenarios, and, one line each,
 * what it could not (so that it can be found and removed by hand). */
static void report_cleanup(FILE *out, const struct harness_scenario_result *results, size_t n)
{
    size_t jobs = 0;
    size_t ignored = 0;
    size_t deleted = 0;
    size_t left = 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const struct harness_cleanup *c = &results[i].cleanup;
        any = any || c->is_done;
        jobs += c->jobs_canceled;
        ignored += c->jobs_cancel_ignored;
        deleted += c->pipelines_deleted;
        left += c->pipelines_left;
    }
    if (!any) {
        return;
    }
    /* Counted as read back, not as answered: an endpoint may say 202 and do nothing. */
    fprintf(out, "\ncleanup: %zu job%s canceled, %zu pipeline%s deleted, %zu left behind\n", jobs,
            jobs == 1 ? "" : "s", deleted, deleted == 1 ? "" : "s", left);
    if (ignored > 0) {
        fprintf(out, "  %zu cancel%s answered 2xx but the job did not then read Canceled\n",
                ignored, ignored == 1 ? "" : "s");
    }
    for (size_t i = 0; i < n; i++) {
        const struct harness_cleanup *c = &results[i].cleanup;
        if (c->note[0] != '\0') {
            fprintf(out, "  %s/%s: %s (pipeline names end in %s)\n", results[i].scenario->area,
                    results[i].scenario->name, c->note, results[i].name_suffix);
        }
    }
}

/* How many skipped scenarios a reason's line names before "and N more". */
#define SKIP_NAMES_SHOWN 3

/* The reason a scenario was skipped: its first skipped step's. */
static const char *skip_reason(const struct harness_scenario_result *r)
{
    for (size_t k = 0; k < r->num_steps; k++) {
        if (r->steps[k].verdict == HARNESS_VERDICT_SKIP && r->steps[k].reason[0] != '\0') {
            return r->steps[k].reason;
        }
    }
    return "no reason given";
}

bool report_is_skipped_for(const struct harness_scenario_result *r, const char *reason)
{
    return r->verdict == HARNESS_VERDICT_SKIP && strcmp(skip_reason(r), reason) == 0;
}

const char *
report_skip_group(const struct harness_scenario_result *results, size_t n, size_t i, size_t *count)
{
    *count = 0;
    if (results[i].verdict != HARNESS_VERDICT_SKIP) {
        return NULL;
    }
    const char *reason = skip_reason(&results[i]);
    for (size_t j = 0; j < i; j++) {
        if (report_is_skipped_for(&results[j], reason)) {
            return NULL; /* its group was given with the first scenario of that reason */
        }
    }
    for (size_t j = i; j < n; j++) {
        *count += report_is_skipped_for(&results[j], reason);
    }
    return reason;
}

/* Skipped scenarios grouped by reason, one line per reason: a live run may skip dozens
 * for the same cause (no test control, a missing principal), and one line says it. */
static void report_skips(FILE *out, const struct harness_scenario_result *results, size_t n)
{
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        size_t count = 0;
        const char *reason = report_skip_group(results, n, i, &count);
        if (reason == NULL) {
            continue;
        }
        if (!header) {
            fprintf(out, "\nskipped, by reason:\n");
            header = true;
        }
        fprintf(out, "  %s: %zu scenario%s (", reason, count, count == 1 ? "" : "s");
        size_t shown = 0;
        for (size_t j = i; j < n && shown < SKIP_NAMES_SHOWN; j++) {
            if (report_is_skipped_for(&results[j], reason)) {
                fprintf(out, "%s%s/%s", shown > 0 ? ", " : "", results[j].scenario->area,
                        results[j].scenario->name);
                shown++;
            }
        }
        if (count > shown) {
            fprintf(out, " and %zu more", count - shown);
        }
        fprintf(out, ")\n");
    }
}

void harness_report_text(FILE *out,
                         const struct harness_scenario_result *results,
                         size_t n,
                         const struct harness_report_meta *meta,
                         bool color)
{
    size_t width = 10;
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(results[i].scenario->area) + 1 + strlen(results[i].scenario->name);
        width = w > width ? w : width;
    }
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        char full[256];
        harness_textf(full, sizeof(full), "%s/%s", r->scenario->area, r->scenario->name);
        size_t checks = r->must_total + r->should_total + r->info_total;
        fprintf(out, "  %s%-15s%s %-*s %3zu steps %4zu checks %8.2f ms\n",
                color ? verdict_color(r->verdict) : "", harness_verdict_name(r->verdict),
                color ? "\033[0m" : "", (int)width, full, r->num_steps, checks, r->duration_ms);
    }
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        for (size_t k = 0; k < r->num_steps; k++) {
            const struct harness_step_result *s = &r->steps[k];
            bool interesting = s->verdict == HARNESS_VERDICT_FAIL ||
                               s->verdict == HARNESS_VERDICT_ERROR ||
                               s->verdict == HARNESS_VERDICT_DEVIATION ||
                               s->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED;
            if (interesting) {
                harness_report_step_details(out, r, s, meta, color);
            }
        }
    }
    /* Informational checks (which skew window, ...) are reported, never judged: one line
     * per step, whether they held, and if not the first that did not. */
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        for (size_t k = 0; k < r->num_steps; k++) {
            const struct harness_check_list *l = &r->steps[k].checks;
            const struct harness_check_result *broken = NULL;
            const struct harness_check_result *first = NULL;
            for (size_t c = 0; c < l->count; c++) {
                if (l->items[c].level != HARNESS_LEVEL_INFO) {
                    continue;
                }
                first = first != NULL ? first : &l->items[c];
                if (!l->items[c].held && broken == NULL) {
                    broken = &l->items[c];
                }
            }
            if (first == NULL) {
                continue;
            }
            if (!header) {
                fprintf(out, "\ninformational (never part of a verdict):\n");
                header = true;
            }
            const struct harness_check_result *shown = broken != NULL ? broken : first;
            fprintf(out, "  %s/%s step '%s': %s (%s: expected %s, got %s)%s%s\n", r->scenario->area,
                    r->scenario->name, r->steps[k].step->name,
                    broken != NULL ? "does not hold" : "holds", shown->what, shown->expected,
                    shown->actual, shown->note != NULL ? "; " : "",
                    shown->note != NULL ? shown->note : "");
        }
    }
    report_skips(out, results, n);
    report_cleanup(out, results, n);
    harness_report_root_causes(out, results, n);
    struct harness_summary sum;
    harness_summary_compute(results, n, &sum);
    sum.wall_ms = meta->wall_ms;
    fputc('\n', out);
    harness_report_summary(out, &sum);
}
