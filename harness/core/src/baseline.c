/* SPDX-License-Identifier: Apache-2.0
 *
 * baseline.c - loading a baseline (the expected non-PASS verdicts of a run), checking it
 * names what the suite has, comparing a run with it, and writing one from a run.
 *
 * The file is user-edited and may come from anywhere, so the loader treats it as
 * untrusted: the size is checked before it is read, every string and the number of
 * entries have a limit, unknown keys are errors (a misspelt "step" must not silently
 * widen an entry to the whole scenario), and every message carries the line and column
 * (jansson keeps positions only for syntax errors; json_locate finds the rest).
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/baseline.h"

#include "scenario_internal.h"

#include <stdlib.h>
#include <string.h>

/* --- Loading ----------------------------------------------------------------------- */

/* The verdicts an entry may expect, for messages. */
#define VERDICT_CHOICES "FAIL, ERROR, NOT IMPLEMENTED, DEVIATION or SKIP"

struct baseline_parser {
    const uint8_t *text;
    size_t len;
    struct harness_load_error *err;
};

/* Fills the error with the position of path in the text and "path: message"; returns rc. */
__attribute__((format(printf, 4, 5))) static enum ref_status
parse_fail(struct baseline_parser *p, enum ref_status rc, const char *path, const char *fmt, ...)
{
    size_t off = json_locate(p->text, p->len, path);
    json_offset_to_line_col(p->text, p->len, off, &p->err->line, &p->err->column);
    char message[sizeof(p->err->message)];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (n < 0) {
        message[0] = '\0';
    }
    harness_textf(p->err->message, sizeof(p->err->message), "%s: %s", path, message);
    return rc;
}

static char *copy_text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL) {
        memcpy(copy, s, n);
    }
    return copy;
}

/* Every key of obj is one of the allowed (NULL-terminated) list. */
static enum ref_status only_keys(struct baseline_parser *p,
                                 json_t *obj,
                                 const char *path,
                                 const char *const *allowed,
                                 const char *choices)
{
    const char *key;
    json_t *value;
    json_object_foreach (obj, key, value) {
        (void)value;
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL && !known; i++) {
            known = strcmp(key, allowed[i]) == 0;
        }
        if (!known) {
            char kp[HARNESS_MAX_JSON_PATH_BYTES];
            loader_path_key(kp, sizeof(kp), path, key);
            return parse_fail(p, REF_E_MALFORMED, kp, "unknown key (the keys are %s)", choices);
        }
    }
    return REF_OK;
}

/* A string member: *out borrowed from obj, NULL when absent and not required. Checks the
 * length limit and that it is one line of text, not empty. */
static enum ref_status get_text(struct baseline_parser *p,
                                json_t *obj,
                                const char *path,
                                const char *key,
                                bool required,
                                size_t max_bytes,
                                const char **out)
{
    char kp[HARNESS_MAX_JSON_PATH_BYTES];
    loader_path_key(kp, sizeof(kp), path, key);
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (!required) {
            return REF_OK;
        }
        /* Points at the entry itself, the member being absent. */
        return parse_fail(p, REF_E_MALFORMED, path, "'%s' is missing", key);
    }
    if (!json_is_string(v)) {
        return parse_fail(p, REF_E_MALFORMED, kp, "expected a string, got %s", type_name(v));
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0) {
        return parse_fail(p, REF_E_MALFORMED, kp, "is empty");
    }
    if (n > max_bytes) {
        return parse_fail(p, REF_E_TOO_LARGE, kp, "%zu bytes, over the limit of %zu", n, max_bytes);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return parse_fail(p, REF_E_MALFORMED, kp,
                              "holds a control character (0x%02x at byte %zu): one line of text "
                              "is expected",
                              c, i);
        }
    }
    *out = s;
    return REF_OK;
}

static bool verdict_from_name(const char *name, enum harness_verdict *out)
{
    for (int v = HARNESS_VERDICT_NONE + 1; v < HARNESS_VERDICT_COUNT; v++) {
        if (v != HARNESS_VERDICT_PASS && strcmp(name, harness_verdict_name(v)) == 0) {
            *out = (enum harness_verdict)v;
            return true;
        }
    }
    return false;
}

static enum ref_status parse_entry(struct baseline_parser *p,
                                   json_t *v,
                                   const char *path,
                                   struct harness_baseline_entry *e)
{
    static const char *const keys[] = {"scenario", "step", "verdict", "reason", NULL};
    if (!json_is_object(v)) {
        return parse_fail(p, REF_E_MALFORMED, path, "expected an object, got %s", type_name(v));
    }
    enum ref_status rc = only_keys(p, v, path, keys, "scenario, step, verdict and reason");
    const char *scenario = NULL;
    const char *step = NULL;
    const char *verdict = NULL;
    const char *reason = NULL;
    if (rc == REF_OK) {
        rc = get_text(p, v, path, "scenario", true, HARNESS_BASELINE_MAX_NAME_BYTES, &scenario);
    }
    if (rc == REF_OK) {
        rc = get_text(p, v, path, "step", false, HARNESS_BASELINE_MAX_NAME_BYTES, &step);
    }
    if (rc == REF_OK) {
        rc = get_text(p, v, path, "verdict", true, HARNESS_BASELINE_MAX_NAME_BYTES, &verdict);
    }
    if (rc == REF_OK && !verdict_from_name(verdict, &e->verdict)) {
        char kp[HARNESS_MAX_JSON_PATH_BYTES];
        loader_path_key(kp, sizeof(kp), path, "verdict");
        rc = parse_fail(p, REF_E_MALFORMED, kp,
                        "'%s' is not a verdict a baseline can expect (" VERDICT_CHOICES ")",
                        verdict);
    }
    if (rc == REF_OK) {
        rc = get_text(p, v, path, "reason", true, HARNESS_BASELINE_MAX_REASON_BYTES, &reason);
    }
    if (rc != REF_OK) {
        return rc;
    }
    e->scenario = copy_text(scenario);
    e->step = step != NULL ? copy_text(step) : NULL;
    e->reason = copy_text(reason);
    if (e->scenario == NULL || (step != NULL && e->step == NULL) || e->reason == NULL) {
        harness_textf(p->err->message, sizeof(p->err->message), "out of memory");
        return REF_E_NOMEM;
    }
    return REF_OK;
}

static enum ref_status
parse_root(struct baseline_parser *p, json_t *root, struct harness_baseline *out)
{
    static const char *const keys[] = {"etch_baseline", "expected", NULL};
    if (!json_is_object(root)) {
        return parse_fail(p, REF_E_MALFORMED, "",
                          "a baseline is a JSON object with etch_baseline and expected, not %s",
                          type_name(root));
    }
    REF_TRY(only_keys(p, root, "", keys, "etch_baseline and expected"));
    json_t *version = json_object_get(root, "etch_baseline");
    if (version == NULL) {
        return parse_fail(p, REF_E_MALFORMED, "",
                          "'etch_baseline' is missing (the format version, %d)",
                          HARNESS_BASELINE_VERSION);
    }
    if (!json_is_integer(version) || json_integer_value(version) != HARNESS_BASELINE_VERSION) {
        return parse_fail(p, REF_E_MALFORMED, "etch_baseline",
                          "this etch reads version %d of the format only",
                          HARNESS_BASELINE_VERSION);
    }
    json_t *list = json_object_get(root, "expected");
    if (list == NULL) {
        return parse_fail(p, REF_E_MALFORMED, "", "'expected' is missing (a list, maybe empty)");
    }
    if (!json_is_array(list)) {
        return parse_fail(p, REF_E_MALFORMED, "expected", "expected a list, got %s",
                          type_name(list));
    }
    size_t n = json_array_size(list);
    if (n > HARNESS_BASELINE_MAX_ENTRIES) {
        return parse_fail(p, REF_E_TOO_LARGE, "expected", "%zu entries, over the limit of %d", n,
                          HARNESS_BASELINE_MAX_ENTRIES);
    }
    if (n == 0) {
        return REF_OK;
    }
    out->entries = calloc(n, sizeof(*out->entries));
    /* Where each entry starts, found in one pass: locating each one from the start of the
     * text made a full file of entries take seconds. */
    size_t *starts = calloc(n, sizeof(*starts));
    if (out->entries == NULL || starts == NULL) {
        free(starts);
        harness_textf(p->err->message, sizeof(p->err->message), "out of memory");
        return REF_E_NOMEM;
    }
    size_t num_starts = json_locate_elements(p->text, p->len, "expected", starts, n);
    /* The position, line by line, as the entries come. */
    size_t at = 0;
    int line = 1;
    size_t line_start = 0;
    enum ref_status rc = REF_OK;
    for (size_t i = 0; i < n && rc == REF_OK; i++) {
        char path[HARNESS_MAX_JSON_PATH_BYTES];
        loader_path_index(path, sizeof(path), "expected", i);
        /* Counted first: cleanup frees what a half-parsed entry holds. */
        out->count = i + 1;
        struct harness_baseline_entry *e = &out->entries[i];
        rc = parse_entry(p, json_array_get(list, i), path, e);
        if (rc == REF_OK && i < num_starts) {
            for (; at < starts[i]; at++) {
                if (p->text[at] == '\n') {
                    line++;
                    line_start = at + 1;
                }
            }
            e->line = line;
            e->column = (int)(starts[i] - line_start) + 1;
        }
    }
    free(starts);
    return rc;
}

enum ref_status harness_baseline_parse(const uint8_t *text,
                                       size_t len,
                                       const char *display_path,
                                       struct harness_baseline *out,
                                       struct harness_load_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    loader_set_file(err, display_path != NULL ? display_path : "(baseline)");
    if (len > HARNESS_BASELINE_MAX_FILE_BYTES) {
        harness_textf(err->message, sizeof(err->message),
                      "the file is %zu bytes, over the limit of %d", len,
                      HARNESS_BASELINE_MAX_FILE_BYTES);
        return REF_E_TOO_LARGE;
    }
    if (len == 0) {
        harness_textf(err->message, sizeof(err->message), "invalid JSON: the file is empty");
        return REF_E_MALFORMED;
    }
    /* Zeroed: out of memory before it starts reading, jansson leaves jerr unfilled. */
    json_error_t jerr = {0};
    json_t *root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory || jerr.text[0] == '\0') {
            harness_textf(err->message, sizeof(err->message), "out of memory reading the JSON");
            return REF_E_NOMEM;
        }
        err->line = jerr.line > 0 ? jerr.line : 0;
        err->column = jerr.line > 0 && jerr.column > 0 ? jerr.column : 0;
        harness_textf(err->message, sizeof(err->message), "invalid JSON: %s", jerr.text);
        return REF_E_MALFORMED;
    }
    struct baseline_parser p = {.text = text, .len = len, .err = err};
    enum ref_status rc = parse_root(&p, root, out);
    json_decref(root);
    if (rc != REF_OK) {
        harness_baseline_cleanup(out);
    }
    return rc;
}

enum ref_status harness_baseline_load_file(const char *path,
                                           struct harness_baseline *out,
                                           struct harness_load_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    loader_set_file(err, path);
    uint8_t *data = NULL;
    size_t len = 0;
    bool too_large = false;
    enum ref_status rc =
        loader_read_file(path, HARNESS_BASELINE_MAX_FILE_BYTES, &data, &len, &too_large);
    if (too_large) {
        harness_textf(err->message, sizeof(err->message), "the file is over the limit of %d bytes",
                      HARNESS_BASELINE_MAX_FILE_BYTES);
        return rc;
    }
    if (rc != REF_OK) {
        harness_textf(err->message, sizeof(err->message), "%s",
                      rc == REF_E_NOMEM ? "out of memory" : "cannot read the baseline file");
        return rc;
    }
    rc = harness_baseline_parse(data, len, path, out, err);
    free(data);
    return rc;
}

void harness_baseline_cleanup(struct harness_baseline *bl)
{
    for (size_t i = 0; i < bl->count; i++) {
        free(bl->entries[i].scenario);
        free(bl->entries[i].step);
        free(bl->entries[i].reason);
    }
    free(bl->entries);
    memset(bl, 0, sizeof(*bl));
}

/* --- Resolving --------------------------------------------------------------------- */

static bool names_scenario(const struct harness_scenario *sc, const char *want)
{
    if (strcmp(sc->name, want) == 0) {
        return true;
    }
    size_t al = strlen(sc->area);
    return strncmp(want, sc->area, al) == 0 && want[al] == '/' &&
           strcmp(want + al + 1, sc->name) == 0;
}

/* Fills err for entry e (its position, and the message) and returns rc. */
__attribute__((format(printf, 5, 6))) static enum ref_status
entry_fail(struct harness_load_error *err,
           enum ref_status rc,
           const struct harness_baseline_entry *e,
           size_t index,
           const char *fmt,
           ...)
{
    err->line = e->line;
    err->column = e->column;
    int n = snprintf(err->message, sizeof(err->message), "expected[%zu]: ", index);
    size_t used = n > 0 && (size_t)n < sizeof(err->message) ? (size_t)n : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + used, sizeof(err->message) - used, fmt, ap);
    va_end(ap);
    return rc;
}

enum ref_status harness_baseline_resolve(struct harness_baseline *bl,
                                         const struct harness_suite *suite,
                                         const char *display_path,
                                         struct harness_load_error *err)
{
    memset(err, 0, sizeof(*err));
    loader_set_file(err, display_path != NULL ? display_path : "(baseline)");
    for (size_t i = 0; i < bl->count; i++) {
        struct harness_baseline_entry *e = &bl->entries[i];
        e->resolved = NULL;
        for (size_t k = 0; k < suite->count && e->resolved == NULL; k++) {
            if (names_scenario(suite->items[k], e->scenario)) {
                e->resolved = suite->items[k];
            }
        }
        if (e->resolved == NULL) {
            return entry_fail(err, REF_E_NOT_FOUND, e, i,
                              "no scenario of the suite is named '%s' (see etch list)",
                              e->scenario);
        }
        e->step_index = 0;
        if (e->step != NULL) {
            const struct harness_scenario *sc = e->resolved;
            size_t k = 0;
            while (k < sc->num_steps && strcmp(sc->steps[k].name, e->step) != 0) {
                k++;
            }
            if (k == sc->num_steps) {
                return entry_fail(err, REF_E_NOT_FOUND, e, i,
                                  "scenario '%s' (%s) has no step named '%s'", sc->name,
                                  sc->display_path, e->step);
            }
            e->step_index = k;
        }
        /* Two entries for one verdict would make the second one's reason dead text. */
        for (size_t j = 0; j < i; j++) {
            const struct harness_baseline_entry *o = &bl->entries[j];
            if (o->resolved == e->resolved && (o->step == NULL) == (e->step == NULL) &&
                o->step_index == e->step_index) {
                return entry_fail(err, REF_E_MALFORMED, e, i,
                                  "names the same %s as expected[%zu] (line %d)",
                                  e->step != NULL ? "step" : "scenario", j, o->line);
            }
        }
    }
    return REF_OK;
}

/* --- Comparing --------------------------------------------------------------------- */

bool harness_verdict_fails(enum harness_verdict v, const struct harness_failing_verdicts *how)
{
    switch (v) {
        case HARNESS_VERDICT_FAIL:
        case HARNESS_VERDICT_ERROR:
            return true;
        case HARNESS_VERDICT_NOT_IMPLEMENTED:
            return !how->allow_unimplemented;
        case HARNESS_VERDICT_DEVIATION:
            return how->strict;
        default:
            return false;
    }
}

/* A step verdict that says something broke (a SKIP says something did not run). */
static bool is_problem(enum harness_verdict v)
{
    return v == HARNESS_VERDICT_FAIL || v == HARNESS_VERDICT_ERROR ||
           v == HARNESS_VERDICT_NOT_IMPLEMENTED || v == HARNESS_VERDICT_DEVIATION;
}

enum entry_outcome {
    ENTRY_NOT_CHECKED = 0, /* its scenario did not run */
    ENTRY_MATCHED,
    ENTRY_PASSED,
    ENTRY_CHANGED,
};

/* The entry for result r's whole scenario (whole) or its step k, or SIZE_MAX. */
static size_t find_entry(const struct harness_baseline *bl,
                         const struct harness_scenario_result *r,
                         bool whole,
                         size_t k)
{
    for (size_t i = 0; i < bl->count; i++) {
        const struct harness_baseline_entry *e = &bl->entries[i];
        if (e->resolved == r->scenario && (e->step == NULL) == whole &&
            (whole || e->step_index == k)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Whether step verdict v of a scenario with verdict scenario_verdict needs an entry of
 * its own for the scenario to be expected: it broke, and it fails the run or is what the
 * scenario's verdict comes from. */
static bool step_needs_entry(enum harness_verdict v,
                             enum harness_verdict scenario_verdict,
                             const struct harness_failing_verdicts *how)
{
    return is_problem(v) && (harness_verdict_fails(v, how) || v == scenario_verdict);
}

/* Decides one result: records what became of its entries and returns the reason its
 * non-PASS verdict is expected with, or NULL. *is_new says it is a failure no entry
 * expects. */
static const char *compare_result(const struct harness_baseline *bl,
                                  const struct harness_scenario_result *r,
                                  const struct harness_failing_verdicts *how,
                                  struct harness_baseline_comparison *c,
                                  bool *is_new)
{
    *is_new = false;
    for (size_t i = 0; i < bl->count; i++) {
        const struct harness_baseline_entry *e = &bl->entries[i];
        if (e->resolved != r->scenario) {
            continue;
        }
        enum harness_verdict actual = HARNESS_VERDICT_NONE;
        if (e->step == NULL) {
            actual = r->verdict;
        } else if (e->step_index < r->num_steps) {
            actual = r->steps[e->step_index].verdict;
        }
        c->entry_actuals[i] = actual;
        c->entry_outcomes[i] = actual == e->verdict             ? ENTRY_MATCHED
                               : actual == HARNESS_VERDICT_PASS ? ENTRY_PASSED
                                                                : ENTRY_CHANGED;
    }
    if (r->verdict == HARNESS_VERDICT_PASS) {
        return NULL;
    }
    size_t whole = find_entry(bl, r, true, 0);
    if (whole != SIZE_MAX && c->entry_outcomes[whole] == ENTRY_MATCHED) {
        return bl->entries[whole].reason;
    }
    const char *reason = NULL;
    bool covered = true;
    for (size_t k = 0; k < r->num_steps; k++) {
        if (!step_needs_entry(r->steps[k].verdict, r->verdict, how)) {
            continue;
        }
        size_t i = find_entry(bl, r, false, k);
        if (i != SIZE_MAX && c->entry_outcomes[i] == ENTRY_MATCHED) {
            reason = reason != NULL ? reason : bl->entries[i].reason;
        } else {
            covered = false;
        }
    }
    if (covered && reason != NULL) {
        return reason;
    }
    *is_new = harness_verdict_fails(r->verdict, how);
    return NULL;
}

enum ref_status harness_baseline_compare(const struct harness_baseline *bl,
                                         struct harness_scenario_result *results,
                                         size_t n,
                                         const struct harness_failing_verdicts *how,
                                         struct harness_baseline_comparison *out)
{
    memset(out, 0, sizeof(*out));
    out->is_new = calloc(n > 0 ? n : 1, sizeof(*out->is_new));
    out->entry_outcomes = calloc(bl->count > 0 ? bl->count : 1, sizeof(*out->entry_outcomes));
    out->entry_actuals = calloc(bl->count > 0 ? bl->count : 1, sizeof(*out->entry_actuals));
    if (out->is_new == NULL || out->entry_outcomes == NULL || out->entry_actuals == NULL) {
        harness_baseline_comparison_cleanup(out);
        return REF_E_NOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        results[k].expected_reason = compare_result(bl, &results[k], how, out, &out->is_new[k]);
        out->expected += results[k].expected_reason != NULL;
        out->new_failures += out->is_new[k];
    }
    for (size_t i = 0; i < bl->count; i++) {
        out->unexpected_passes += out->entry_outcomes[i] == ENTRY_PASSED;
        out->changed += out->entry_outcomes[i] == ENTRY_CHANGED;
        out->not_checked += out->entry_outcomes[i] == ENTRY_NOT_CHECKED;
    }
    return REF_OK;
}

static void print_new_failure(FILE *out,
                              const struct harness_baseline *bl,
                              const struct harness_scenario_result *r,
                              const struct harness_failing_verdicts *how,
                              const struct harness_baseline_comparison *c)
{
    fprintf(out, "  new failure      %s/%s: %s", r->scenario->area, r->scenario->name,
            harness_verdict_name(r->verdict));
    const char *sep = " at ";
    for (size_t k = 0; k < r->num_steps; k++) {
        if (!step_needs_entry(r->steps[k].verdict, r->verdict, how)) {
            continue;
        }
        size_t i = find_entry(bl, r, false, k);
        if (i == SIZE_MAX || c->entry_outcomes[i] != ENTRY_MATCHED) {
            fprintf(out, "%sstep '%s' (%s)", sep, r->steps[k].step->name,
                    harness_verdict_name(r->steps[k].verdict));
            sep = ", ";
        }
    }
    fprintf(out, ", not in the baseline\n");
}

void harness_baseline_print(FILE *out,
                            const struct harness_baseline *bl,
                            const struct harness_scenario_result *results,
                            size_t n,
                            const struct harness_failing_verdicts *how,
                            const struct harness_baseline_comparison *c)
{
    fprintf(out,
            "\nbaseline: %zu expected, %zu new failure%s, %zu unexpected pass%s, %zu changed, "
            "%zu not run\n",
            c->expected, c->new_failures, c->new_failures == 1 ? "" : "s", c->unexpected_passes,
            c->unexpected_passes == 1 ? "" : "es", c->changed, c->not_checked);
    for (size_t k = 0; k < n; k++) {
        const struct harness_scenario_result *r = &results[k];
        if (r->expected_reason != NULL) {
            fprintf(out, "  expected         %s/%s: %s (%s)\n", r->scenario->area,
                    r->scenario->name, harness_verdict_name(r->verdict), r->expected_reason);
        } else if (c->is_new[k]) {
            print_new_failure(out, bl, r, how, c);
        }
    }
    for (size_t i = 0; i < bl->count; i++) {
        const struct harness_baseline_entry *e = &bl->entries[i];
        bool passed = c->entry_outcomes[i] == ENTRY_PASSED;
        if (!passed && c->entry_outcomes[i] != ENTRY_CHANGED) {
            continue;
        }
        fprintf(out, "  %s  %s/%s%s%s%s: expected %s, now %s (baseline line %d): %s\n",
                passed ? "unexpected pass" : "changed        ", e->resolved->area,
                e->resolved->name, e->step != NULL ? " step '" : "", e->step != NULL ? e->step : "",
                e->step != NULL ? "'" : "", harness_verdict_name(e->verdict),
                harness_verdict_name(c->entry_actuals[i]), e->line,
                passed ? "remove the entry from the baseline" : "update the entry or remove it");
    }
}

void harness_baseline_comparison_cleanup(struct harness_baseline_comparison *c)
{
    free(c->is_new);
    free(c->entry_outcomes);
    free(c->entry_actuals);
    memset(c, 0, sizeof(*c));
}

/* --- Writing ----------------------------------------------------------------------- */

/* A JSON string of text that may hold bytes a target sent: when it is not valid UTF-8,
 * every byte from 0x80 up becomes '?'; control characters become spaces, since the
 * loader wants one line of text; cut to the loader's limit. */
static json_t *reason_string(const char *text)
{
    char copy[HARNESS_BASELINE_MAX_REASON_BYTES + 1];
    size_t n = strnlen(text, HARNESS_BASELINE_MAX_REASON_BYTES);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        copy[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    copy[n] = '\0';
    json_t *v = json_string(copy);
    if (v != NULL) {
        return v;
    }
    for (size_t i = 0; i < n; i++) {
        copy[i] = (unsigned char)copy[i] >= 0x80 ? '?' : copy[i];
    }
    return json_string(copy);
}

/* The first broken check of a step, else its reason: what the user starts editing. */
static void first_problem(const struct harness_step_result *s, char *out, size_t cap)
{
    for (size_t c = 0; c < s->checks.count; c++) {
        const struct harness_check_result *ck = &s->checks.items[c];
        if (!ck->held && ck->level != HARNESS_LEVEL_INFO) {
            harness_textf(out, cap, "%s: expected %s, got %s", ck->what, ck->expected, ck->actual);
            return;
        }
    }
    harness_textf(out, cap, "%s", s->reason[0] != '\0' ? s->reason : "no reason given");
}

static enum ref_status write_entry(FILE *out,
                                   bool *is_first,
                                   const struct harness_scenario *sc,
                                   const char *step,
                                   enum harness_verdict verdict,
                                   const char *reason)
{
    json_t *e = json_object();
    if (e == NULL) {
        return REF_E_NOMEM;
    }
    int bad = json_object_set_new(e, "scenario", json_string(sc->name));
    if (step != NULL) {
        bad |= json_object_set_new(e, "step", json_string(step));
    }
    bad |= json_object_set_new(e, "verdict", json_string(harness_verdict_name(verdict)));
    bad |= json_object_set_new(e, "reason", reason_string(reason));
    char *text = bad == 0 ? harness_json_dump(e, JSON_ENSURE_ASCII) : NULL;
    json_decref(e);
    if (text == NULL) {
        return REF_E_NOMEM;
    }
    fprintf(out, "%s    %s", *is_first ? "" : ",\n", text);
    *is_first = false;
    free(text);
    return REF_OK;
}

enum ref_status
harness_baseline_write(FILE *out, const struct harness_scenario_result *results, size_t n)
{
    /* One entry a line: a baseline is reviewed as a diff, entry by entry. */
    fprintf(out, "{\n  \"etch_baseline\": %d,\n  \"expected\": [\n", HARNESS_BASELINE_VERSION);
    bool is_first = true;
    for (size_t k = 0; k < n; k++) {
        const struct harness_scenario_result *r = &results[k];
        char reason[HARNESS_BASELINE_MAX_REASON_BYTES];
        if (r->verdict == HARNESS_VERDICT_SKIP) {
            const struct harness_step_result *first = NULL;
            for (size_t s = 0; s < r->num_steps && first == NULL; s++) {
                first = r->steps[s].verdict == HARNESS_VERDICT_SKIP ? &r->steps[s] : NULL;
            }
            harness_textf(reason, sizeof(reason), "%s",
                          first != NULL && first->reason[0] != '\0' ? first->reason : "skipped");
            REF_TRY(write_entry(out, &is_first, r->scenario, NULL, r->verdict, reason));
            continue;
        }
        for (size_t s = 0; s < r->num_steps; s++) {
            const struct harness_step_result *st = &r->steps[s];
            if (!is_problem(st->verdict)) {
                continue;
            }
            first_problem(st, reason, sizeof(reason));
            REF_TRY(write_entry(out, &is_first, r->scenario, st->step->name, st->verdict, reason));
        }
    }
    fprintf(out, "%s  ]\n}\n", is_first ? "" : "\n");
    return ferror(out) ? REF_E_INTERNAL : REF_OK;
}
