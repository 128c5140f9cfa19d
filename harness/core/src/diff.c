/* SPDX-License-Identifier: Apache-2.0
 *
 * diff.c - comparing two runs of a scenario, step by step, after normalising what two
 * correct targets may answer differently (diff.h says what that is).
 *
 * Only steps that ran on both sides are compared; a step skipped or not run on either
 * side is listed with the reason and never counted as a difference: the difference that
 * stopped a scenario is reported at the step where it happened.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/diff.h"
#include "harness/text.h"
#include "harness/value_shapes.h"

#include "harness/http_response.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

/* --- Items ------------------------------------------------------------------------- */

static void add_item(struct harness_step_diff *d, const char *what, const char *a, const char *b)
{
    d->differences++;
    if (d->num_items == HARNESS_DIFF_MAX_ITEMS) {
        return;
    }
    struct harness_diff_item *it = &d->items[d->num_items++];
    harness_textf(it->what, sizeof(it->what), "%s", what);
    harness_textf(it->a, sizeof(it->a), "%s", a);
    harness_textf(it->b, sizeof(it->b), "%s", b);
}

/* --- Normalisation ----------------------------------------------------------------- */

/* A variable whose value stands for something a target generated: long enough and with
 * a digit in it (Ids, tokens, UUIDs). Short words such as "Canceled" stay as they are. */
static bool is_generated_value(const char *v)
{
    size_t n = strlen(v);
    if (n < 8) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (harness_is_digit_char(v[i])) {
            return true;
        }
    }
    return false;
}

/* The variable whose (generated) value starts at s, longest first; -1 when none. */
static int var_at(const struct harness_vars *vars, const char *s, size_t n, size_t *len)
{
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; vars != NULL && i < vars->count; i++) {
        const char *v = vars->values[i];
        size_t vl = v != NULL ? strlen(v) : 0;
        if (vl > best_len && vl <= n && is_generated_value(v) && memcmp(s, v, vl) == 0) {
            best = (int)i;
            best_len = vl;
        }
    }
    *len = best_len;
    return best;
}

static char *normalise_text(
    const char *s, size_t n, const struct harness_vars *vars, const char *suffix, size_t *out_len)
{
    size_t suffix_len = suffix != NULL ? strlen(suffix) : 0;
    struct ref_buf b;
    ref_buf_init(&b, n * 2 + 64 + HARNESS_MAX_VARS * HARNESS_MAX_VAR_NAME_BYTES);
    enum ref_status rc = REF_OK;
    size_t i = 0;
    while (i < n && rc == REF_OK) {
        size_t len = 0;
        int v = var_at(vars, s + i, n - i, &len);
        bool starts_token = i == 0 || !harness_is_word_char(s[i - 1]);
        if (v >= 0) {
            rc = ref_buf_appendf(&b, "${%s}", vars->names[v]);
        } else if (starts_token && (len = harness_id_at(s + i, n - i)) > 0) {
            rc = ref_buf_append_cstr(&b, "<id>");
        } else if (starts_token && (len = harness_uuid_at(s + i, n - i)) > 0) {
            rc = ref_buf_append_cstr(&b, "<uuid>");
        } else if (starts_token && (len = harness_amz_date_at(s + i, n - i)) > 0) {
            rc = ref_buf_append_cstr(&b, "<date>");
        } else if (suffix_len > 0 && n - i >= suffix_len &&
                   memcmp(s + i, suffix, suffix_len) == 0) {
            len = suffix_len;
        } else {
            rc = ref_buf_append_byte(&b, (uint8_t)s[i]);
            len = 1;
        }
        i += len;
    }
    char *out = NULL;
    if (rc == REF_OK) {
        out = malloc(b.len + 1);
        if (out != NULL) {
            if (b.len > 0) {
                memcpy(out, b.data, b.len);
            }
            out[b.len] = '\0';
            *out_len = b.len;
        }
    }
    ref_buf_cleanup(&b);
    return out;
}

struct normalise_ctx {
    const struct harness_vars *vars;
    const char *name_suffix;
};

static json_t *normalise_string(void *cls, json_t *s)
{
    const struct normalise_ctx *ctx = cls;
    size_t n = 0;
    char *t = normalise_text(json_string_value(s), json_string_length(s), ctx->vars,
                             ctx->name_suffix, &n);
    json_t *out = t != NULL ? json_stringn_nocheck(t, n) : NULL;
    free(t);
    return out;
}

json_t *
harness_diff_normalise(json_t *body, const struct harness_vars *vars, const char *name_suffix)
{
    struct normalise_ctx ctx = {.vars = vars, .name_suffix = name_suffix};
    return harness_json_map_strings(body, normalise_string, &ctx);
}

/* --- Bodies ------------------------------------------------------------------------ */

static void child_path(char *out, size_t cap, const char *path, const char *key)
{
    harness_textf(out, cap, "%s%s%s", path, path[0] != '\0' ? "." : "", key);
}

/* Error messages are free text (contract 4: the wording is the target's), so only their
 * presence and type are compared. */
static bool is_free_text(const char *key)
{
    return strcmp(key, "message") == 0 || strcmp(key, "Message") == 0;
}

static void
compare_values(json_t *a, json_t *b, const char *path, bool free_text, struct harness_step_diff *d)
{
    char what[HARNESS_MAX_JSON_PATH_BYTES + 32];
    harness_textf(what, sizeof(what), "body %s", path[0] != '\0' ? path : "(root)");
    bool same_type = json_typeof(a) == json_typeof(b) || (json_is_boolean(a) && json_is_boolean(b));
    if (!same_type) {
        add_item(d, what, harness_json_type_name(a, HARNESS_JSON_TYPE_EXACT),
                 harness_json_type_name(b, HARNESS_JSON_TYPE_EXACT));
        return;
    }
    char ta[HARNESS_DIFF_TEXT_BYTES];
    char tb[HARNESS_DIFF_TEXT_BYTES];
    if (json_is_object(a) || json_is_array(a)) {
        harness_diff_bodies(a, b, path, d);
    } else if (json_is_string(a) || json_is_boolean(a)) {
        /* Numbers are times and sizes of each run: their type is what a client checks. */
        if (!free_text && !json_equal(a, b)) {
            harness_json_text(a, ta, sizeof(ta));
            harness_json_text(b, tb, sizeof(tb));
            add_item(d, what, ta, tb);
        }
    }
}

/* A copy that keeps only what compare_values compares: numbers become 0, free text "". */
static json_t *comparable(json_t *v, bool free_text)
{
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *key;
        json_t *child;
        json_object_foreach (v, key, child) {
            json_t *c = comparable(child, is_free_text(key));
            /* jansson releases c itself when this fails, a NULL out included. */
            if (c == NULL || json_object_set_new(out, key, c) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            json_t *c = comparable(child, false);
            /* jansson releases c itself when this fails, a NULL out included. */
            if (c == NULL || json_array_append_new(out, c) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_integer(v)) {
        return json_integer(0);
    }
    if (json_is_real(v)) {
        return json_real(0.0);
    }
    if (free_text && json_is_string(v)) {
        return json_string("");
    }
    return json_incref(v);
}

static int cmp_text(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Sorted canonical texts of an array's items; NULL when out of memory. */
static char **item_texts(json_t *arr, size_t n)
{
    char **t = calloc(n, sizeof(*t));
    for (size_t i = 0; t != NULL && i < n; i++) {
        json_t *c = comparable(json_array_get(arr, i), false);
        t[i] = c != NULL ? harness_json_dump(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
                         : NULL;
        json_decref(c);
        if (t[i] == NULL) {
            for (size_t k = 0; k < i; k++) {
                free(t[k]);
            }
            free(t);
            return NULL;
        }
    }
    if (t != NULL) {
        qsort(t, n, sizeof(*t), cmp_text);
    }
    return t;
}

/* True when two arrays hold the same items, in whatever order. */
static bool same_items(json_t *a, json_t *b)
{
    size_t n = json_array_size(a);
    if (n != json_array_size(b) || n < 2) {
        return false;
    }
    char **ta = item_texts(a, n);
    char **tb = item_texts(b, n);
    bool same = ta != NULL && tb != NULL;
    for (size_t i = 0; i < n; i++) {
        same = same && strcmp(ta[i], tb[i]) == 0;
        free(ta != NULL ? ta[i] : NULL);
        free(tb != NULL ? tb[i] : NULL);
    }
    free(ta);
    free(tb);
    return same;
}

void harness_diff_bodies(json_t *a, json_t *b, const char *path, struct harness_step_diff *d)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES];
    char what[HARNESS_MAX_JSON_PATH_BYTES + 32];
    if (json_is_object(a) && json_is_object(b)) {
        const char *key;
        json_t *va;
        json_object_foreach (a, key, va) {
            child_path(p, sizeof(p), path, key);
            json_t *vb = json_object_get(b, key);
            if (vb == NULL) {
                harness_textf(what, sizeof(what), "body %s", p);
                add_item(d, what, "present", "missing");
            } else {
                compare_values(va, vb, p, is_free_text(key), d);
            }
        }
        json_t *vb;
        json_object_foreach (b, key, vb) {
            if (json_object_get(a, key) == NULL) {
                child_path(p, sizeof(p), path, key);
                harness_textf(what, sizeof(what), "body %s", p);
                add_item(d, what, "missing", "present");
            }
        }
        return;
    }
    if (json_is_array(a) && json_is_array(b)) {
        size_t na = json_array_size(a);
        size_t nb = json_array_size(b);
        if (same_items(a, b)) {
            /* The same items in another order: jobs created at once (a concurrent group)
             * list in the order each target happened to create them. Where the order is
             * the point, the scenario's own expectations check it, and a verdict that
             * differs is reported. */
            return;
        }
        if (na != nb) {
            char ta[32];
            char tb[32];
            harness_textf(what, sizeof(what), "body %s", path[0] != '\0' ? path : "(root)");
            harness_textf(ta, sizeof(ta), "%zu items", na);
            harness_textf(tb, sizeof(tb), "%zu items", nb);
            add_item(d, what, ta, tb);
        }
        for (size_t i = 0; i < na && i < nb; i++) {
            harness_textf(p, sizeof(p), "%s[%zu]", path, i);
            compare_values(json_array_get(a, i), json_array_get(b, i), p, false, d);
        }
        return;
    }
    compare_values(a, b, path, false, d);
}

/* --- Exchanges --------------------------------------------------------------------- */

struct side {
    const struct harness_scenario_result *run;
    const struct harness_exchange *x;
    struct harness_http_response http;
    struct ref_buf chunked;
    bool is_http;
    json_t *body; /* normalised, owned */
    bool is_json;
};

static enum ref_status side_init(struct side *s,
                                 const struct harness_scenario_result *run,
                                 const struct harness_exchange *x)
{
    memset(s, 0, sizeof(*s));
    s->run = run;
    s->x = x;
    ref_buf_init(&s->chunked, HARNESS_MAX_RESPONSE_BODY_BYTES);
    if (x->is_closed) {
        return REF_OK;
    }
    s->is_http = harness_http_parse_response(ref_buf_slice(&x->response), &s->http, &s->chunked,
                                             NULL, NULL) == REF_OK;
    if (!s->is_http) {
        return REF_OK;
    }
    json_t *raw = NULL;
    if (x->observed_body != NULL) {
        raw = json_loads(x->observed_body, JSON_DECODE_ANY, NULL);
    } else if (s->http.body.len > 0) {
        raw = json_loadb((const char *)s->http.body.ptr, s->http.body.len,
                         JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    }
    if (raw != NULL) {
        s->is_json = true;
        s->body = harness_diff_normalise(raw, &run->vars, run->name_suffix);
        json_decref(raw);
        if (s->body == NULL) {
            return REF_E_NOMEM;
        }
    }
    return REF_OK;
}

static void side_cleanup(struct side *s)
{
    json_decref(s->body);
    ref_buf_cleanup(&s->chunked);
}

static void header_value(const struct side *s, const char *name, char *out, size_t cap)
{
    const struct ref_header *h = harness_http_response_header(&s->http, name);
    if (h == NULL) {
        harness_textf(out, cap, "missing");
        return;
    }
    harness_textf(out, cap, "%.*s", REF_SLICE_ARG(h->value));
}

/* The media type alone, lower case: "application/json; charset=utf-8" is application/json. */
static void media_type(const struct side *s, char *out, size_t cap)
{
    header_value(s, "Content-Type", out, cap);
    size_t i = 0;
    for (; out[i] != '\0' && out[i] != ';' && out[i] != ' '; i++) {
        if (out[i] >= 'A' && out[i] <= 'Z') {
            out[i] = (char)(out[i] + 32);
        }
    }
    out[i] = '\0';
}

static void compare_headers(const struct side *a, const struct side *b, struct harness_step_diff *d)
{
    char va[HARNESS_DIFF_TEXT_BYTES];
    char vb[HARNESS_DIFF_TEXT_BYTES];
    media_type(a, va, sizeof(va));
    media_type(b, vb, sizeof(vb));
    if (strcmp(va, vb) != 0) {
        add_item(d, "header Content-Type", va, vb);
    }
    /* Present or missing is what matters for these; their values are per answer. */
    static const char *const presence[] = {"x-amzn-RequestId", "x-amzn-ErrorType",
                                           "Content-Length"};
    for (size_t i = 0; i < sizeof(presence) / sizeof(presence[0]); i++) {
        bool ha = harness_http_response_header(&a->http, presence[i]) != NULL;
        bool hb = harness_http_response_header(&b->http, presence[i]) != NULL;
        if (ha != hb) {
            char what[64];
            harness_textf(what, sizeof(what), "header %s", presence[i]);
            add_item(d, what, ha ? "present" : "missing", hb ? "present" : "missing");
        }
    }
    const struct ref_header *ra = harness_http_response_header(&a->http, "x-amzn-RequestId");
    const struct ref_header *rb = harness_http_response_header(&b->http, "x-amzn-RequestId");
    if (ra != NULL && rb != NULL) {
        bool ua = harness_uuid_at((const char *)ra->value.ptr, ra->value.len) == ra->value.len;
        bool ub = harness_uuid_at((const char *)rb->value.ptr, rb->value.len) == rb->value.len;
        if (ua != ub) {
            add_item(d, "header x-amzn-RequestId", ua ? "a UUID" : "not a UUID",
                     ub ? "a UUID" : "not a UUID");
        }
    }
}

static const char *answer_word(const struct side *s, char *buf, size_t cap)
{
    if (s->x->is_closed) {
        return "closed without an answer";
    }
    if (!s->is_http) {
        return "not valid HTTP";
    }
    harness_textf(buf, cap, "%d", s->http.status);
    return buf;
}

static enum ref_status compare_exchanges(const struct harness_scenario_result *ra,
                                         const struct harness_exchange *xa,
                                         const struct harness_scenario_result *rb,
                                         const struct harness_exchange *xb,
                                         struct harness_step_diff *d)
{
    struct side a;
    struct side b;
    enum ref_status rc = side_init(&a, ra, xa);
    enum ref_status rc2 = side_init(&b, rb, xb);
    if (rc != REF_OK || rc2 != REF_OK) {
        side_cleanup(&a);
        side_cleanup(&b);
        return REF_E_NOMEM;
    }
    char ta[32];
    char tb[32];
    if (!a.is_http || !b.is_http) {
        const char *wa = answer_word(&a, ta, sizeof(ta));
        const char *wb = answer_word(&b, tb, sizeof(tb));
        if (strcmp(wa, wb) != 0) {
            add_item(d, "status", wa, wb);
        }
        goto out;
    }
    if (a.http.status != b.http.status) {
        add_item(d, "status", answer_word(&a, ta, sizeof(ta)), answer_word(&b, tb, sizeof(tb)));
    }
    if (strcmp(xa->error_code, xb->error_code) != 0) {
        add_item(d, "error code", xa->error_code[0] != '\0' ? xa->error_code : "none",
                 xb->error_code[0] != '\0' ? xb->error_code : "none");
    }
    compare_headers(&a, &b, d);
    if (a.is_json != b.is_json) {
        const char *wa = a.is_json ? "JSON" : a.http.body.len == 0 ? "empty" : "not JSON";
        const char *wb = b.is_json ? "JSON" : b.http.body.len == 0 ? "empty" : "not JSON";
        add_item(d, "body", wa, wb);
    } else if (a.is_json) {
        harness_diff_bodies(a.body, b.body, "", d);
    }
out:
    side_cleanup(&a);
    side_cleanup(&b);
    return REF_OK;
}

/* --- Steps and scenarios ----------------------------------------------------------- */

static bool has_run(const struct harness_step_result *s)
{
    return s->verdict != HARNESS_VERDICT_NONE && s->verdict != HARNESS_VERDICT_SKIP;
}

static void why_not(const struct harness_step_result *s, char *out, size_t cap)
{
    if (s->verdict == HARNESS_VERDICT_NONE) {
        harness_textf(out, cap, "not run");
    } else {
        harness_textf(out, cap, "%s",
                      s->reason[0] != '\0' ? s->reason : harness_verdict_name(s->verdict));
    }
}

static enum ref_status compare_step(const struct harness_scenario_result *ra,
                                    const struct harness_step_result *sa,
                                    const struct harness_scenario_result *rb,
                                    const struct harness_step_result *sb,
                                    struct harness_step_diff *d)
{
    d->step = sa->step;
    if (!has_run(sa) || !has_run(sb)) {
        char wa[HARNESS_DIFF_TEXT_BYTES];
        char wb[HARNESS_DIFF_TEXT_BYTES];
        why_not(sa, wa, sizeof(wa));
        why_not(sb, wb, sizeof(wb));
        if (!has_run(sa) && !has_run(sb)) {
            harness_textf(d->note, sizeof(d->note), "A: %s; B: %s", wa, wb);
        } else {
            harness_textf(d->note, sizeof(d->note), "%s: %s", has_run(sa) ? "B" : "A",
                          has_run(sa) ? wb : wa);
        }
        return REF_OK;
    }
    const struct harness_step *step = sa->step;
    bool is_request = step->kind == HARNESS_STEP_CALL || step->kind == HARNESS_STEP_RAW ||
                      step->kind == HARNESS_STEP_WAIT;
    if (step->kind != HARNESS_STEP_CONCURRENT && !is_request) {
        harness_textf(d->note, sizeof(d->note), "a hook step: nothing was sent");
        return REF_OK;
    }
    d->is_compared = true;
    bool a_error = sa->verdict == HARNESS_VERDICT_ERROR;
    bool b_error = sb->verdict == HARNESS_VERDICT_ERROR;
    if (a_error || b_error) {
        if (a_error != b_error) {
            char wa[HARNESS_DIFF_TEXT_BYTES];
            char wb[HARNESS_DIFF_TEXT_BYTES];
            harness_textf(wa, sizeof(wa), "%s",
                          a_error ? sa->reason : harness_verdict_name(sa->verdict));
            harness_textf(wb, sizeof(wb), "%s",
                          b_error ? sb->reason : harness_verdict_name(sb->verdict));
            add_item(d, "answer", wa, wb);
        }
        return REF_OK;
    }
    /* A race's outcome may legitimately differ; whether it was an allowed one may not. */
    if (is_request && sa->num_exchanges > 0 && sb->num_exchanges > 0) {
        REF_TRY(compare_exchanges(ra, &sa->exchanges[sa->num_exchanges - 1], rb,
                                  &sb->exchanges[sb->num_exchanges - 1], d));
    }
    if (d->differences == 0 && sa->verdict != sb->verdict) {
        add_item(d, "verdict", harness_verdict_name(sa->verdict),
                 harness_verdict_name(sb->verdict));
    }
    return REF_OK;
}

enum ref_status harness_diff_scenario(const struct harness_scenario_result *a,
                                      const struct harness_scenario_result *b,
                                      struct harness_scenario_diff *out)
{
    memset(out, 0, sizeof(*out));
    out->scenario = a->scenario;
    size_t n = a->num_steps < b->num_steps ? a->num_steps : b->num_steps;
    if (n == 0) {
        return REF_OK;
    }
    out->steps = calloc(n, sizeof(*out->steps));
    if (out->steps == NULL) {
        return REF_E_NOMEM;
    }
    out->num_steps = n;
    for (size_t i = 0; i < n; i++) {
        enum ref_status rc = compare_step(a, &a->steps[i], b, &b->steps[i], &out->steps[i]);
        if (rc != REF_OK) {
            harness_scenario_diff_cleanup(out);
            return rc;
        }
        out->compared += out->steps[i].is_compared ? 1 : 0;
        out->differences += out->steps[i].differences;
    }
    return REF_OK;
}

void harness_scenario_diff_cleanup(struct harness_scenario_diff *d)
{
    free(d->steps);
    memset(d, 0, sizeof(*d));
}

/* --- Report ------------------------------------------------------------------------ */

void harness_diff_report_text(FILE *out,
                              const struct harness_scenario_diff *d,
                              bool verbose,
                              bool color)
{
    const char *on = "";
    const char *off = "";
    if (color) {
        on = d->differences > 0 ? "\033[31m" : d->compared > 0 ? "\033[32m" : "\033[33m";
        off = "\033[0m";
    }
    const char *word = d->differences > 0 ? "DIFF" : d->compared > 0 ? "same" : "n/a ";
    fprintf(out, "%s%s%s  %s/%s", on, word, off, d->scenario->area, d->scenario->name);
    if (d->differences > 0) {
        fprintf(out, "  (%zu difference%s in %zu step%s compared)\n", d->differences,
                d->differences == 1 ? "" : "s", d->compared, d->compared == 1 ? "" : "s");
    } else if (d->compared > 0) {
        fprintf(out, "  (%zu step%s compared)\n", d->compared, d->compared == 1 ? "" : "s");
    } else {
        fprintf(out, "  (nothing compared: %s)\n",
                d->num_steps > 0 && d->steps[0].note[0] != '\0' ? d->steps[0].note
                                                                : "no step ran on both");
    }
    for (size_t i = 0; i < d->num_steps; i++) {
        const struct harness_step_diff *s = &d->steps[i];
        for (size_t k = 0; k < s->num_items; k++) {
            const struct harness_diff_item *it = &s->items[k];
            fprintf(out, "    %s: %s: A %s | B %s\n", s->step->name, it->what, it->a, it->b);
        }
        if (s->differences > s->num_items) {
            fprintf(out, "    %s: ... and %zu more\n", s->step->name,
                    s->differences - s->num_items);
        }
        if (verbose && !s->is_compared && s->note[0] != '\0' && d->compared > 0) {
            fprintf(out, "    %s: not compared (%s)\n", s->step->name, s->note);
        }
    }
}
