/* SPDX-License-Identifier: Apache-2.0
 *
 * expect.c - expectation evaluation: statuses, client-derived error codes, the error wire
 * form, headers, bodies and paths (the matchers themselves are in matcher.c, paths in
 * json_path.c).
 *
 * The error code is derived exactly as botocore and the JS SDK do (contract section 4),
 * because a must-level expectation is about what a real client observes.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/expect.h"
#include "harness/text.h"

#include "matcher.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Check lists ------------------------------------------------------------------- */

void harness_check_list_init(struct harness_check_list *l)
{
    memset(l, 0, sizeof(*l));
}

void harness_check_list_cleanup(struct harness_check_list *l)
{
    free(l->items);
    memset(l, 0, sizeof(*l));
}

struct harness_check_result *harness_check_list_add(struct harness_check_list *l)
{
    if (l->count == l->cap) {
        size_t cap = l->cap == 0 ? 8 : l->cap * 2;
        struct harness_check_result *more = realloc(l->items, cap * sizeof(*more));
        if (more == NULL) {
            return NULL;
        }
        l->items = more;
        l->cap = cap;
    }
    struct harness_check_result *r = &l->items[l->count++];
    memset(r, 0, sizeof(*r));
    return r;
}

/* --- Small text helpers ------------------------------------------------------------ */

void harness_json_text(json_t *v, char *out, size_t cap)
{
    if (cap == 0) {
        return;
    }
    if (v == NULL) {
        harness_textf(out, cap, "(absent)");
        return;
    }
    char *s = harness_json_dump(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL) {
        harness_textf(out, cap, "(unprintable)");
        return;
    }
    size_t n = strlen(s);
    if (n >= cap && cap > 4) {
        memcpy(out, s, cap - 4);
        memcpy(out + cap - 4, "...", 4);
    } else {
        harness_textf(out, cap, "%s", s);
    }
    free(s);
}

static void slice_text(struct ref_slice s, char *out, size_t cap)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(out, s.ptr, n);
    out[n] = '\0';
}

/* --- Error codes ------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool put_trimmed(const char *p, size_t n, char *out, size_t cap)
{
    while (n > 0 && is_space(*p)) {
        p++;
        n--;
    }
    while (n > 0 && is_space(p[n - 1])) {
        n--;
    }
    if (n == 0) {
        return false;
    }
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(out, p, k);
    out[k] = '\0';
    return true;
}

bool harness_error_code(const struct harness_observed *obs, char *out, size_t cap)
{
    if (cap == 0) {
        return false;
    }
    out[0] = '\0';
    const struct ref_header *h = harness_http_response_header(obs->http, "x-amzn-ErrorType");
    if (h != NULL) {
        size_t n = ref_slice_find(h->value, ':');
        if (put_trimmed((const char *)h->value.ptr, n, out, cap)) {
            return true;
        }
    }
    if (json_is_object(obs->body)) {
        json_t *code = json_object_get(obs->body, "code");
        if (json_is_string(code) &&
            put_trimmed(json_string_value(code), json_string_length(code), out, cap)) {
            return true;
        }
        json_t *type = json_object_get(obs->body, "__type");
        if (json_is_string(type)) {
            const char *t = json_string_value(type);
            const char *hash = strrchr(t, '#');
            const char *start = hash != NULL ? hash + 1 : t;
            if (put_trimmed(start, strlen(start), out, cap)) {
                return true;
            }
        }
    }
    out[0] = '\0';
    return false;
}

/* The contract's error form (section 4): an error code clients can derive and a JSON
 * object body with a string message. */
static bool is_contract_error_form(const struct harness_observed *obs, const char *code)
{
    json_t *msg = json_is_object(obs->body) ? json_object_get(obs->body, "message") : NULL;
    return code[0] != '\0' && json_is_string(msg);
}

bool harness_is_unknown_operation(const struct harness_observed *obs)
{
    int st = obs->http->status;
    if (st == 501) {
        return true;
    }
    if (st != 404) {
        return false;
    }
    char code[128];
    harness_error_code(obs, code, sizeof(code));
    /* A ResourceNotFoundException names a missing job or pipeline of an operation the
     * endpoint knows, whatever the rest of the answer looks like. */
    if (strcmp(code, "ResourceNotFoundException") == 0) {
        return false;
    }
    if (strstr(code, "UnknownOperation") != NULL) {
        return true;
    }
    /* An HTML, plain-text or empty 404: the path is not routed at all. */
    return !is_contract_error_form(obs, code);
}

/* --- Expectation groups ------------------------------------------------------------ */

static struct harness_check_result *
add_check(struct harness_check_list *out, const struct harness_expect *e, const char *what)
{
    struct harness_check_result *r = harness_check_list_add(out);
    if (r == NULL) {
        return NULL;
    }
    r->level = e->level;
    r->source = e->source;
    r->note = e->note;
    r->contract = e->contract;
    harness_textf(r->what, sizeof(r->what), "%s", what);
    return r;
}

/* An expected value that names variables says what they stood for too
 * ("${jobId}" = "1234567890123-abcdef"), so a failure shows what was compared. Nothing is
 * added when no variable is named, or one is not set. */
static void show_substituted(char *expected, size_t cap, const struct harness_vars *vars)
{
    size_t len = strlen(expected);
    if (vars == NULL || strstr(expected, "${") == NULL) {
        return;
    }
    struct ref_buf value;
    ref_buf_init(&value, cap);
    if (harness_vars_expand(vars, expected, len, &value, NULL, 0) == REF_OK &&
        (value.len != len || memcmp(value.data, expected, len) != 0)) {
        harness_textf(expected + len, cap - len, " = %.*s", (int)value.len,
                      (const char *)value.data);
    }
    ref_buf_cleanup(&value);
}

static void status_text(const struct harness_expect *e, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < e->num_status && used < cap; i++) {
        int w;
        if (e->status[i].status_class != 0) {
            w = snprintf(out + used, cap - used, "%s%dxx", i > 0 ? " or " : "",
                         e->status[i].status_class);
        } else if (e->status[i].is_closed) {
            w = snprintf(out + used, cap - used, "%sclosed", i > 0 ? " or " : "");
        } else {
            w = snprintf(out + used, cap - used, "%s%d", i > 0 ? " or " : "", e->status[i].code);
        }
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

/* One check per header of e->headers; *all turns false when one fails. */
static enum ref_status eval_headers(const struct harness_expect *e,
                                    const struct harness_observed *obs,
                                    const struct harness_vars *vars,
                                    struct harness_check_list *out,
                                    bool *all)
{
    const struct harness_http_response *http = obs->http;
    struct harness_check_result *r;
    const char *name;
    json_t *want;
    json_object_foreach (e->headers, name, want) {
        char what[HARNESS_MAX_JSON_PATH_BYTES];
        harness_textf(what, sizeof(what), "headers.%s", name);
        if ((r = add_check(out, e, what)) == NULL) {
            return REF_E_NOMEM;
        }
        const struct ref_header *h = harness_http_response_header(http, name);
        char have[HARNESS_CHECK_TEXT_BYTES] = "(absent)";
        if (h != NULL) {
            slice_text(h->value, have, sizeof(have));
        }
        if (json_is_boolean(want)) {
            r->held = (h != NULL) == json_is_true(want);
            harness_textf(r->expected, sizeof(r->expected), "%s",
                          json_is_true(want) ? "present" : "absent");
            harness_textf(r->actual, sizeof(r->actual), "%s", have);
        } else {
            json_t *actual =
                h != NULL ? json_stringn((const char *)h->value.ptr, h->value.len) : NULL;
            char why[HARNESS_CHECK_TEXT_BYTES];
            r->held = harness_match_compiled(want, actual, vars, e->regexes, why, sizeof(why));
            harness_json_text(want, r->expected, sizeof(r->expected));
            show_substituted(r->expected, sizeof(r->expected), vars);
            harness_textf(r->actual, sizeof(r->actual), "%s", r->held ? have : why);
            json_decref(actual);
        }
        *all = *all && r->held;
    }
    return REF_OK;
}

/* One check per path of e->paths; *all turns false when one fails. */
static enum ref_status eval_paths(const struct harness_expect *e,
                                  const struct harness_observed *obs,
                                  const struct harness_vars *vars,
                                  struct harness_check_list *out,
                                  bool *all)
{
    struct harness_check_result *r;
    const char *path;
    json_t *want;
    json_object_foreach (e->paths, path, want) {
        char what[HARNESS_MAX_JSON_PATH_BYTES];
        harness_textf(what, sizeof(what), "paths.%s", path);
        if ((r = add_check(out, e, what)) == NULL) {
            return REF_E_NOMEM;
        }
        json_t *actual = obs->body != NULL ? harness_json_path(obs->body, path) : NULL;
        char why[HARNESS_CHECK_TEXT_BYTES] = "";
        r->held = harness_match_compiled(want, actual, vars, e->regexes, why, sizeof(why));
        harness_json_text(want, r->expected, sizeof(r->expected));
        show_substituted(r->expected, sizeof(r->expected), vars);
        if (r->held) {
            harness_json_text(actual, r->actual, sizeof(r->actual));
        } else {
            harness_textf(r->actual, sizeof(r->actual), "%s", why);
        }
        *all = *all && r->held;
    }
    return REF_OK;
}

enum ref_status harness_expect_eval(const struct harness_expect *e,
                                    const struct harness_observed *obs,
                                    const struct harness_vars *vars,
                                    struct harness_check_list *out,
                                    bool *all_held)
{
    bool all = true;
    struct harness_check_result *r;
    const struct harness_http_response *http = obs->http;
    if (e->num_status > 0) {
        if ((r = add_check(out, e, "status")) == NULL) {
            return REF_E_NOMEM;
        }
        for (size_t i = 0; i < e->num_status; i++) {
            const struct harness_status_alt *alt = &e->status[i];
            /* Status 0 is no answer at all: the connection closed first. */
            if ((alt->status_class != 0 && http->status / 100 == alt->status_class) ||
                (alt->is_closed && http->status == 0) ||
                (alt->status_class == 0 && !alt->is_closed && http->status == alt->code)) {
                r->held = true;
            }
        }
        status_text(e, r->expected, sizeof(r->expected));
        if (http->status == 0) {
            harness_textf(r->actual, sizeof(r->actual), "closed without an answer");
        } else {
            harness_textf(r->actual, sizeof(r->actual), "%d", http->status);
        }
        all = all && r->held;
    }
    if (e->has_error) {
        if ((r = add_check(out, e, "error")) == NULL) {
            return REF_E_NOMEM;
        }
        char code[128];
        bool has = harness_error_code(obs, code, sizeof(code));
        if (e->error == NULL) {
            r->held = !has;
            harness_textf(r->expected, sizeof(r->expected), "no error code");
        } else {
            r->held = has && strcmp(code, e->error) == 0;
            harness_textf(r->expected, sizeof(r->expected), "%s", e->error);
        }
        harness_textf(r->actual, sizeof(r->actual), "%s", has ? code : "no error code");
        all = all && r->held;
    }
    if (e->error_form) {
        if ((r = add_check(out, e, "error_form")) == NULL) {
            return REF_E_NOMEM;
        }
        harness_textf(r->expected, sizeof(r->expected),
                      "x-amzn-ErrorType header and a JSON object body with a string \"message\"");
        const char *missing = NULL;
        if (harness_http_response_header(http, "x-amzn-ErrorType") == NULL) {
            missing = "no x-amzn-ErrorType header";
        } else if (!json_is_object(obs->body)) {
            missing = "the body is not a JSON object";
        } else if (!json_is_string(json_object_get(obs->body, "message"))) {
            missing = json_object_get(obs->body, "Message") != NULL
                          ? "\"Message\" instead of \"message\""
                          : "no string \"message\" in the body";
        }
        r->held = missing == NULL;
        harness_textf(r->actual, sizeof(r->actual), "%s",
                      missing != NULL ? missing : "as expected");
        all = all && r->held;
    }
    if (e->json) {
        if ((r = add_check(out, e, "json")) == NULL) {
            return REF_E_NOMEM;
        }
        r->held = obs->body != NULL;
        harness_textf(r->expected, sizeof(r->expected), "a JSON body");
        harness_textf(r->actual, sizeof(r->actual), "%s", r->held ? "JSON" : "not JSON");
        all = all && r->held;
    }
    if (e->headers != NULL) {
        REF_TRY(eval_headers(e, obs, vars, out, &all));
    }
    if (e->body != NULL) {
        if ((r = add_check(out, e, "body")) == NULL) {
            return REF_E_NOMEM;
        }
        char why[HARNESS_CHECK_TEXT_BYTES] = "";
        r->held = harness_match_compiled(e->body, obs->body, vars, e->regexes, why, sizeof(why));
        harness_json_text(e->body, r->expected, sizeof(r->expected));
        show_substituted(r->expected, sizeof(r->expected), vars);
        if (r->held) {
            harness_json_text(obs->body, r->actual, sizeof(r->actual));
        } else {
            harness_textf(r->actual, sizeof(r->actual), "%s", why);
        }
        all = all && r->held;
    }
    if (e->paths != NULL) {
        REF_TRY(eval_paths(e, obs, vars, out, &all));
    }
    *all_held = all;
    return REF_OK;
}
