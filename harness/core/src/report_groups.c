/* SPDX-License-Identifier: Apache-2.0
 *
 * report_groups.c - non-passing scenarios grouped by likely root cause: the same verdict,
 * the same failing call (or step kind), the same broken check with the same expected and
 * actual text once what changes from run to run is taken out.
 *
 * The key is text, built from the normalised parts, so two scenarios group exactly when
 * a reader would see the same line for both. Quadratic in the number of groups, which is
 * at most the number of scenarios of a suite (a few hundred).
 */
#include "harness/report_groups.h"

#include "harness/text.h"
#include "harness/value_shapes.h"

#include <stdlib.h>
#include <string.h>

/* How many member names a root-cause line shows before "and N more". */
#define ROOT_CAUSE_NAMES_SHOWN 3

/* --- Normalising ------------------------------------------------------------------- */

/* Length of a run of at most max characters of a class at p. */
static size_t run_of(const char *p, bool (*in_class)(char), size_t max)
{
    size_t k = 0;
    while (k < max && p[k] != '\0' && in_class(p[k])) {
        k++;
    }
    return k;
}

/* Matches a pattern where '9' is any digit and every other character itself. */
static bool shape_at(const char *p, const char *shape)
{
    for (size_t i = 0; shape[i] != '\0'; i++) {
        if (shape[i] == '9' ? !harness_is_digit_char(p[i]) : p[i] != shape[i]) {
            return false;
        }
    }
    return true;
}

/* An ISO 8601 time (2026-11-28T12:45:00, fraction and zone included) or the SigV4 form
 * (20261128T124500Z). */
static size_t time_at(const char *p, size_t n)
{
    if (harness_amz_date_at(p, n) > 0) {
        return 16;
    }
    if (!shape_at(p, "9999-99-99T99:99:99")) {
        return 0;
    }
    size_t k = 19;
    if (p[k] == '.') {
        k++;
        k += run_of(p + k, harness_is_digit_char, 9);
    }
    if (p[k] == 'Z') {
        k++;
    } else if ((p[k] == '+' || p[k] == '-') && shape_at(p + k + 1, "99:99")) {
        k += 6;
    }
    return k;
}

void harness_failure_normalize(const char *text, const char *name_suffix, char *out, size_t cap)
{
    if (cap == 0) {
        return;
    }
    size_t suffix_len = name_suffix != NULL ? strlen(name_suffix) : 0;
    size_t used = 0;
    const char *p = text;
    const char *end = text + strlen(text);
    while (*p != '\0' && used + 1 < cap) {
        const char *put = NULL;
        size_t skip = 0;
        bool starts_word = p == text || !harness_is_word_char(p[-1]);
        if (suffix_len > 0 && strncmp(p, name_suffix, suffix_len) == 0) {
            put = "";
            skip = suffix_len;
        } else if (starts_word && (skip = harness_id_at(p, (size_t)(end - p))) > 0) {
            put = "<Id>";
        } else if (starts_word && (skip = harness_uuid_at(p, (size_t)(end - p))) > 0) {
            put = "<uuid>";
        } else if (starts_word && (skip = time_at(p, (size_t)(end - p))) > 0) {
            put = "<time>";
        } else if (starts_word && harness_is_digit_char(*p)) {
            size_t digits = run_of(p, harness_is_digit_char, SIZE_MAX);
            if (digits >= 9) {
                put = "<n>";
            }
            skip = digits;
        }
        if (put == NULL) {
            /* Copy one character, or the digits of a short number whole (so that its tail
             * is not taken for the start of something else). */
            size_t k = skip > 0 ? skip : 1;
            for (size_t i = 0; i < k && used + 1 < cap; i++) {
                out[used++] = p[i];
            }
            p += k;
            continue;
        }
        size_t len = strlen(put);
        if (used + len >= cap) {
            break;
        }
        memcpy(out + used, put, len);
        used += len;
        p += skip;
    }
    out[used] = '\0';
}

/* --- Locating the failure ---------------------------------------------------------- */

const char *harness_step_what(const struct harness_step *step)
{
    switch (step->kind) {
        case HARNESS_STEP_CALL:
            return ref_op_name(step->request.op);
        case HARNESS_STEP_WAIT:
            return "wait";
        case HARNESS_STEP_CONCURRENT:
            return "concurrent";
        case HARNESS_STEP_RAW:
            return "raw";
        default:
            return "hook";
    }
}

static bool is_grouped(enum harness_verdict v)
{
    return v == HARNESS_VERDICT_FAIL || v == HARNESS_VERDICT_ERROR ||
           v == HARNESS_VERDICT_NOT_IMPLEMENTED || v == HARNESS_VERDICT_DEVIATION;
}

bool harness_failure_locate(const struct harness_scenario_result *r,
                            const struct harness_step_result **step,
                            const struct harness_check_result **check)
{
    *step = NULL;
    *check = NULL;
    for (size_t k = 0; k < r->num_steps; k++) {
        const struct harness_step_result *s = &r->steps[k];
        if (s->verdict != r->verdict) {
            continue;
        }
        *step = s;
        /* A DEVIATION is a should that broke; anything worse, a must first. */
        for (int pass = 0; pass < 2 && *check == NULL; pass++) {
            enum harness_level want = pass == 0 && r->verdict != HARNESS_VERDICT_DEVIATION
                                          ? HARNESS_LEVEL_MUST
                                          : HARNESS_LEVEL_SHOULD;
            for (size_t c = 0; c < s->checks.count; c++) {
                if (!s->checks.items[c].held && s->checks.items[c].level == want) {
                    *check = &s->checks.items[c];
                    break;
                }
            }
        }
        return true;
    }
    return false;
}

bool harness_check_member(const struct harness_check_result *c,
                          char *out,
                          size_t cap,
                          const char **detail)
{
    size_t used = 0;
    out[0] = '\0';
    if (strncmp(c->what, "paths.", 6) == 0) {
        harness_textf(out, cap, "%s", c->what + 6);
        used = strlen(out);
    } else if (strcmp(c->what, "body") != 0) {
        return false;
    }
    /* The matcher names the members it went into as "key: " before what it expected. */
    const char *p = c->actual;
    for (;;) {
        const char *colon = strstr(p, ": ");
        if (colon == NULL || colon == p || strncmp(p, "expected", 8) == 0) {
            break;
        }
        size_t k = (size_t)(colon - p);
        if (used + k + 2 >= cap) {
            break;
        }
        if (used > 0 && p[0] != '[') {
            out[used++] = '.';
        }
        memcpy(out + used, p, k);
        used += k;
        out[used] = '\0';
        p = colon + 2;
    }
    if (detail != NULL) {
        *detail = p;
    }
    return true;
}

/* --- Grouping ---------------------------------------------------------------------- */

static void group_title(const struct harness_scenario_result *r,
                        const struct harness_step_result *s,
                        const struct harness_check_result *c,
                        char *out,
                        size_t cap)
{
    const char *what = harness_step_what(s->step);
    char expected[HARNESS_CHECK_TEXT_BYTES];
    char actual[HARNESS_CHECK_TEXT_BYTES];
    char member[HARNESS_CHECK_TEXT_BYTES];
    const char *detail = NULL;
    if (c == NULL) {
        char reason[HARNESS_REASON_BYTES];
        harness_failure_normalize(s->reason, r->name_suffix, reason, sizeof(reason));
        harness_textf(out, cap, "%s: %s", what, reason[0] != '\0' ? reason : "no reason given");
        return;
    }
    harness_failure_normalize(c->expected, r->name_suffix, expected, sizeof(expected));
    harness_failure_normalize(c->actual, r->name_suffix, actual, sizeof(actual));
    if (strcmp(c->what, "status") == 0) {
        if (strncmp(actual, "closed", 6) == 0) {
            harness_textf(out, cap, "%s: the connection %s, expected %s", what, actual, expected);
        } else {
            harness_textf(out, cap, "%s answered %s, expected %s", what, actual, expected);
        }
    } else if (strcmp(c->what, "error") == 0) {
        harness_textf(out, cap, "%s answered error %s, expected %s", what, actual, expected);
    } else if (harness_check_member(c, member, sizeof(member), &detail)) {
        /* The matcher's words already say what it expected and what it found. */
        harness_failure_normalize(detail, r->name_suffix, actual, sizeof(actual));
        harness_textf(out, cap, "%s: %s: %s", what, member[0] != '\0' ? member : "body", actual);
    } else {
        harness_textf(out, cap, "%s: %s expected %s, got %s", what, c->what, expected, actual);
    }
}

static void group_key(const struct harness_scenario_result *r,
                      const struct harness_step_result *s,
                      const struct harness_check_result *c,
                      char *out,
                      size_t cap)
{
    char a[HARNESS_CHECK_TEXT_BYTES];
    char b[HARNESS_CHECK_TEXT_BYTES];
    if (c == NULL) {
        char reason[HARNESS_REASON_BYTES];
        harness_failure_normalize(s->reason, r->name_suffix, reason, sizeof(reason));
        harness_textf(out, cap, "%s\x1f%s\x1freason\x1f%s", harness_verdict_name(r->verdict),
                      harness_step_what(s->step), reason);
        return;
    }
    char member[HARNESS_CHECK_TEXT_BYTES];
    const char *detail = NULL;
    if (harness_check_member(c, member, sizeof(member), &detail)) {
        /* A member of the body: the same member and the matcher's words on it, whether the
         * scenario wrote it as a path or as a body subset, and whatever its expected value
         * looked like before substitution (the words quote it substituted). */
        harness_failure_normalize(detail, r->name_suffix, b, sizeof(b));
        harness_textf(out, cap, "%s\x1f%s\x1fmember %s\x1f%s", harness_verdict_name(r->verdict),
                      harness_step_what(s->step), member, b);
        return;
    }
    harness_failure_normalize(c->expected, r->name_suffix, a, sizeof(a));
    harness_failure_normalize(c->actual, r->name_suffix, b, sizeof(b));
    harness_textf(out, cap, "%s\x1f%s\x1f%s\x1f%s\x1f%s", harness_verdict_name(r->verdict),
                  harness_step_what(s->step), c->what, a, b);
}

static enum ref_status add_member(struct harness_failure_group *g, size_t index)
{
    if (g->num_members == g->members_cap) {
        size_t cap = g->members_cap == 0 ? 4 : g->members_cap * 2;
        size_t *m = realloc(g->members, cap * sizeof(*m));
        if (m == NULL) {
            return REF_E_NOMEM;
        }
        g->members = m;
        g->members_cap = cap;
    }
    g->members[g->num_members++] = index;
    return REF_OK;
}

void harness_failure_groups_cleanup(struct harness_failure_groups *g)
{
    for (size_t i = 0; i < g->count; i++) {
        free(g->items[i].members);
    }
    free(g->items);
    g->items = NULL;
    g->count = 0;
}

enum ref_status harness_failure_groups_build(const struct harness_scenario_result *results,
                                             size_t n,
                                             struct harness_failure_groups *out)
{
    out->items = NULL;
    out->count = 0;
    if (n == 0) {
        return REF_OK;
    }
    /* At most one group per result. */
    out->items = calloc(n, sizeof(*out->items));
    if (out->items == NULL) {
        return REF_E_NOMEM;
    }
    char key[HARNESS_GROUP_KEY_BYTES];
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        const struct harness_step_result *s;
        const struct harness_check_result *c;
        if (!is_grouped(r->verdict) || !harness_failure_locate(r, &s, &c)) {
            continue;
        }
        group_key(r, s, c, key, sizeof(key));
        struct harness_failure_group *g = NULL;
        for (size_t k = 0; k < out->count && g == NULL; k++) {
            if (strcmp(out->items[k].key, key) == 0) {
                g = &out->items[k];
            }
        }
        if (g == NULL) {
            g = &out->items[out->count++];
            g->verdict = r->verdict;
            g->step = s;
            g->check = c;
            harness_textf(g->key, sizeof(g->key), "%s", key);
            group_title(r, s, c, g->title, sizeof(g->title));
        }
        if (add_member(g, i) != REF_OK) {
            harness_failure_groups_cleanup(out);
            return REF_E_NOMEM;
        }
    }
    /* The largest first; insertion sort keeps equal sizes in the order of the results. */
    for (size_t i = 1; i < out->count; i++) {
        struct harness_failure_group moving = out->items[i];
        size_t j = i;
        while (j > 0 && out->items[j - 1].num_members < moving.num_members) {
            out->items[j] = out->items[j - 1];
            j--;
        }
        out->items[j] = moving;
    }
    return REF_OK;
}

void harness_report_root_causes(FILE *out, const struct harness_scenario_result *results, size_t n)
{
    struct harness_failure_groups groups;
    if (harness_failure_groups_build(results, n, &groups) != REF_OK) {
        fprintf(out, "\nlikely root causes: out of memory grouping the failures\n");
        return;
    }
    bool header = false;
    for (size_t i = 0; i < groups.count; i++) {
        const struct harness_failure_group *g = &groups.items[i];
        if (g->num_members < 2) {
            continue;
        }
        if (!header) {
            fprintf(out, "\nlikely root causes (the same step broke the same way):\n");
            header = true;
        }
        fprintf(out, "  %zu scenarios %s: %s (", g->num_members, harness_verdict_name(g->verdict),
                g->title);
        size_t shown =
            g->num_members < ROOT_CAUSE_NAMES_SHOWN ? g->num_members : ROOT_CAUSE_NAMES_SHOWN;
        for (size_t k = 0; k < shown; k++) {
            const struct harness_scenario *sc = results[g->members[k]].scenario;
            fprintf(out, "%s%s/%s", k > 0 ? ", " : "", sc->area, sc->name);
        }
        if (g->num_members > shown) {
            fprintf(out, " and %zu more", g->num_members - shown);
        }
        fprintf(out, ")\n");
    }
    harness_failure_groups_cleanup(&groups);
}
