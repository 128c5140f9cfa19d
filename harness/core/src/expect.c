/* SPDX-License-Identifier: Apache-2.0
 *
 * expect.c - expectation evaluation: statuses, client-derived error codes, the error wire
 * form, headers, JSON subsets, simple paths and $matchers.
 *
 * The error code is derived exactly as botocore and the JS SDK do (contract section 4),
 * because a must-level expectation is about what a real client observes.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/expect.h"
#include "harness/text.h"

#include <jansson.h>

#include <regex.h>
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

/* --- Paths ------------------------------------------------------------------------- */

/* Reads the next path element: a member name or [index]. */
static bool next_elem(const char **pp, char *key, size_t cap, long *index)
{
    const char *p = *pp;
    *index = -1;
    if (*p == '.') {
        p++;
        if (*p == '\0' || *p == '.' || *p == '[') {
            return false;
        }
    }
    if (*p == '[') {
        p++;
        if (*p < '0' || *p > '9') {
            return false;
        }
        long v = 0;
        while (*p >= '0' && *p <= '9') {
            if (v > 100000000L) {
                return false;
            }
            v = v * 10 + (*p - '0');
            p++;
        }
        if (*p != ']') {
            return false;
        }
        *index = v;
        *pp = p + 1;
        return true;
    }
    size_t n = 0;
    while (*p != '\0' && *p != '.' && *p != '[') {
        if (*p == ']' || n + 1 >= cap) {
            return false;
        }
        key[n++] = *p++;
    }
    if (n == 0) {
        return false;
    }
    key[n] = '\0';
    *pp = p;
    return true;
}

bool harness_json_path_is_valid(const char *path)
{
    if (path == NULL || *path == '\0' || *path == '.' || *path == '[') {
        return false;
    }
    const char *p = path;
    char key[256];
    long index;
    while (*p != '\0') {
        if (!next_elem(&p, key, sizeof(key), &index)) {
            return false;
        }
    }
    return true;
}

json_t *harness_json_path(json_t *root, const char *path)
{
    if (!harness_json_path_is_valid(path)) {
        return NULL;
    }
    json_t *cur = root;
    const char *p = path;
    char key[256];
    long index;
    while (*p != '\0' && cur != NULL) {
        if (!next_elem(&p, key, sizeof(key), &index)) {
            return NULL;
        }
        if (index >= 0) {
            cur = json_is_array(cur) ? json_array_get(cur, (size_t)index) : NULL;
        } else {
            cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        }
    }
    return cur;
}

/* --- Matchers ---------------------------------------------------------------------- */

static bool is_matcher(json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) != 1) {
        return false;
    }
    const char *key = json_object_iter_key(json_object_iter(v));
    return key != NULL && key[0] == '$';
}

static bool is_word_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The contract's shapes, checked by hand (POSIX ERE has no \d or \w). */
static bool shape_holds(const char *shape, const char *s, size_t n)
{
    if (strcmp(shape, "id") == 0) {
        if (n != 20 || s[13] != '-') {
            return false;
        }
        for (size_t i = 0; i < 13; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return false;
            }
        }
        for (size_t i = 14; i < 20; i++) {
            if (!is_word_char(s[i])) {
                return false;
            }
        }
        return true;
    }
    if (strcmp(shape, "uuid") == 0) {
        if (n != 36) {
            return false;
        }
        for (size_t i = 0; i < 36; i++) {
            bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? s[i] != '-' : !is_hex(s[i])) {
                return false;
            }
        }
        return true;
    }
    return false;
}

static bool numbers_equal(json_t *a, json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        return json_integer_value(a) == json_integer_value(b);
    }
    return json_number_value(a) == json_number_value(b);
}

static bool fail_why(char *why, size_t cap, const char *fmt, const char *a, const char *b)
{
    if (why != NULL && cap > 0) {
        harness_textf(why, cap, fmt, a, b);
    }
    return false;
}

static bool match_string(
    json_t *expected, json_t *actual, const struct harness_vars *vars, char *why, size_t why_cap)
{
    char want_text[HARNESS_CHECK_TEXT_BYTES];
    char got[HARNESS_CHECK_TEXT_BYTES];
    harness_json_text(actual, got, sizeof(got));
    if (!json_is_string(actual)) {
        harness_json_text(expected, want_text, sizeof(want_text));
        return fail_why(why, why_cap, "expected %s, found %s", want_text, got);
    }
    struct ref_buf want;
    ref_buf_init(&want, HARNESS_MAX_VAR_BYTES * 4);
    bool held = false;
    if (vars != NULL) {
        enum ref_status rc = harness_vars_expand(vars, json_string_value(expected),
                                                 json_string_length(expected), &want, NULL, 0);
        held = rc == REF_OK && want.len == json_string_length(actual) &&
               (want.len == 0 || memcmp(want.data, json_string_value(actual), want.len) == 0);
    } else {
        held = json_equal(expected, actual);
    }
    if (!held) {
        json_t *w = vars != NULL && want.data != NULL
                        ? json_stringn((const char *)want.data, want.len)
                        : json_incref(expected);
        if (vars != NULL && want.data == NULL) {
            json_decref(w);
            w = json_string("");
        }
        harness_json_text(w, want_text, sizeof(want_text));
        json_decref(w);
        fail_why(why, why_cap, "expected %s, found %s", want_text, got);
    }
    ref_buf_cleanup(&want);
    return held;
}

static bool run_matcher(const char *op,
                        json_t *arg,
                        json_t *actual,
                        const struct harness_vars *vars,
                        char *why,
                        size_t why_cap)
{
    char got[HARNESS_CHECK_TEXT_BYTES];
    harness_json_text(actual, got, sizeof(got));
    if (strcmp(op, "$present") == 0) {
        bool want = json_is_true(arg);
        if ((actual != NULL) == want) {
            return true;
        }
        return fail_why(why, why_cap, "expected %s, found %s", want ? "present" : "absent", got);
    }
    if (strcmp(op, "$absent") == 0) {
        bool want = json_is_true(arg);
        if ((actual == NULL) == want) {
            return true;
        }
        return fail_why(why, why_cap, "expected %s, found %s", want ? "absent" : "present", got);
    }
    if (strcmp(op, "$type") == 0) {
        const char *t = json_string_value(arg);
        const char *have = harness_json_type_name(actual, HARNESS_JSON_TYPE_WORD);
        bool held = strcmp(t, have) == 0 ||
                    (strcmp(t, "number") == 0 && (json_is_integer(actual) || json_is_real(actual)));
        if (held) {
            return true;
        }
        return fail_why(why, why_cap, "expected type %s, found %s", t, got);
    }
    if (strcmp(op, "$one_of") == 0) {
        size_t i;
        json_t *alt;
        json_array_foreach (arg, i, alt) {
            if (harness_match(alt, actual, vars, NULL, 0)) {
                return true;
            }
        }
        char want[HARNESS_CHECK_TEXT_BYTES];
        harness_json_text(arg, want, sizeof(want));
        return fail_why(why, why_cap, "expected one of %s, found %s", want, got);
    }
    if (strcmp(op, "$match") == 0) {
        if (!json_is_string(actual)) {
            return fail_why(why, why_cap, "expected a string matching /%s/, found %s",
                            json_string_value(arg), got);
        }
        regex_t re;
        if (regcomp(&re, json_string_value(arg), REG_EXTENDED | REG_NOSUB) != 0) {
            return fail_why(why, why_cap, "bad regular expression /%s/%s", json_string_value(arg),
                            "");
        }
        bool held = regexec(&re, json_string_value(actual), 0, NULL, 0) == 0;
        regfree(&re);
        if (held) {
            return true;
        }
        return fail_why(why, why_cap, "expected a string matching /%s/, found %s",
                        json_string_value(arg), got);
    }
    if (strcmp(op, "$shape") == 0) {
        if (json_is_string(actual) && shape_holds(json_string_value(arg), json_string_value(actual),
                                                  json_string_length(actual))) {
            return true;
        }
        return fail_why(why, why_cap, "expected the %s shape, found %s", json_string_value(arg),
                        got);
    }
    if (strcmp(op, "$not") == 0) {
        if (!harness_match(arg, actual, vars, NULL, 0)) {
            return true;
        }
        char want[HARNESS_CHECK_TEXT_BYTES];
        harness_json_text(arg, want, sizeof(want));
        return fail_why(why, why_cap, "expected anything but %s, found %s", want, got);
    }
    if (strcmp(op, "$contains") == 0) {
        if (json_is_array(actual)) {
            size_t i;
            json_t *e;
            json_array_foreach (actual, i, e) {
                if (harness_match(arg, e, vars, NULL, 0)) {
                    return true;
                }
            }
        }
        char want[HARNESS_CHECK_TEXT_BYTES];
        harness_json_text(arg, want, sizeof(want));
        return fail_why(why, why_cap, "expected an array with an element matching %s, found %s",
                        want, got);
    }
    if (strcmp(op, "$len") == 0) {
        json_int_t want = json_integer_value(arg);
        long long have = -1;
        if (json_is_array(actual)) {
            have = (long long)json_array_size(actual);
        } else if (json_is_object(actual)) {
            have = (long long)json_object_size(actual);
        } else if (json_is_string(actual)) {
            have = (long long)json_string_length(actual);
        }
        if (have == (long long)want) {
            return true;
        }
        char w[32];
        harness_textf(w, sizeof(w), "%lld", (long long)want);
        return fail_why(why, why_cap, "expected length %s, found %s", w, got);
    }
    return fail_why(why, why_cap, "unknown matcher %s%s", op, "");
}

bool harness_match(
    json_t *expected, json_t *actual, const struct harness_vars *vars, char *why, size_t why_cap)
{
    char want[HARNESS_CHECK_TEXT_BYTES];
    char got[HARNESS_CHECK_TEXT_BYTES];
    if (is_matcher(expected)) {
        void *it = json_object_iter(expected);
        return run_matcher(json_object_iter_key(it), json_object_iter_value(it), actual, vars, why,
                           why_cap);
    }
    if (json_is_string(expected)) {
        return match_string(expected, actual, vars, why, why_cap);
    }
    if (json_is_object(expected)) {
        if (!json_is_object(actual)) {
            harness_json_text(actual, got, sizeof(got));
            return fail_why(why, why_cap, "expected an object, found %s%s", got, "");
        }
        const char *key;
        json_t *sub;
        json_object_foreach (expected, key, sub) {
            char inner[HARNESS_CHECK_TEXT_BYTES];
            if (!harness_match(sub, json_object_get(actual, key), vars, inner, sizeof(inner))) {
                return fail_why(why, why_cap, "%s: %s", key, inner);
            }
        }
        return true;
    }
    if (json_is_array(expected)) {
        if (!json_is_array(actual) || json_array_size(actual) != json_array_size(expected)) {
            harness_json_text(expected, want, sizeof(want));
            harness_json_text(actual, got, sizeof(got));
            return fail_why(why, why_cap, "expected %s, found %s", want, got);
        }
        for (size_t i = 0; i < json_array_size(expected); i++) {
            char inner[HARNESS_CHECK_TEXT_BYTES];
            if (!harness_match(json_array_get(expected, i), json_array_get(actual, i), vars, inner,
                               sizeof(inner))) {
                char idx[24];
                harness_textf(idx, sizeof(idx), "[%zu]", i);
                return fail_why(why, why_cap, "%s: %s", idx, inner);
            }
        }
        return true;
    }
    bool held;
    if (json_is_number(expected)) {
        held = json_is_number(actual) && numbers_equal(expected, actual);
    } else {
        held = actual != NULL && json_equal(expected, actual);
    }
    if (!held) {
        harness_json_text(expected, want, sizeof(want));
        harness_json_text(actual, got, sizeof(got));
        return fail_why(why, why_cap, "expected %s, found %s", want, got);
    }
    return true;
}

static bool validate_fail(
    char *where, size_t where_cap, const char *w, char *why, size_t why_cap, const char *msg)
{
    harness_textf(where, where_cap, "%s", w);
    harness_textf(why, why_cap, "%s", msg);
    return false;
}

bool harness_matcher_validate(json_t *v, char *where, size_t where_cap, char *why, size_t why_cap)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *sub;
        bool has_dollar = false;
        json_object_foreach (v, key, sub) {
            has_dollar = has_dollar || key[0] == '$';
        }
        if (!has_dollar) {
            json_object_foreach (v, key, sub) {
                char inner_where[128] = "";
                if (!harness_matcher_validate(sub, inner_where, sizeof(inner_where), why,
                                              why_cap)) {
                    if (strchr(key, '.') != NULL || strchr(key, '[') != NULL) {
                        harness_textf(where, where_cap, "[\"%s\"]%s", key, inner_where);
                    } else {
                        harness_textf(where, where_cap, ".%s%s", key, inner_where);
                    }
                    return false;
                }
            }
            return true;
        }
        if (json_object_size(v) != 1) {
            return validate_fail(where, where_cap, "", why, why_cap,
                                 "a matcher object has exactly one $key");
        }
        void *it = json_object_iter(v);
        const char *op = json_object_iter_key(it);
        json_t *arg = json_object_iter_value(it);
        char w[64];
        harness_textf(w, sizeof(w), ".%s", op);
        if (strcmp(op, "$present") == 0 || strcmp(op, "$absent") == 0) {
            if (!json_is_boolean(arg)) {
                return validate_fail(where, where_cap, w, why, why_cap, "expected a boolean");
            }
            return true;
        }
        if (strcmp(op, "$type") == 0) {
            static const char *const types[] = {"string", "number", "integer", "boolean",
                                                "null",   "object", "array"};
            for (size_t i = 0; json_is_string(arg) && i < 7; i++) {
                if (strcmp(json_string_value(arg), types[i]) == 0) {
                    return true;
                }
            }
            return validate_fail(where, where_cap, w, why, why_cap,
                                 "expected string, number, integer, boolean, null, object or "
                                 "array");
        }
        if (strcmp(op, "$one_of") == 0) {
            if (!json_is_array(arg) || json_array_size(arg) == 0) {
                return validate_fail(where, where_cap, w, why, why_cap,
                                     "expected a non-empty array");
            }
            size_t i;
            json_t *alt;
            json_array_foreach (arg, i, alt) {
                char inner[128] = "";
                if (!harness_matcher_validate(alt, inner, sizeof(inner), why, why_cap)) {
                    harness_textf(where, where_cap, "%s[%zu]%s", w, i, inner);
                    return false;
                }
            }
            return true;
        }
        if (strcmp(op, "$match") == 0) {
            regex_t re;
            if (!json_is_string(arg)) {
                return validate_fail(where, where_cap, w, why, why_cap,
                                     "expected a regular expression string");
            }
            int rc = regcomp(&re, json_string_value(arg), REG_EXTENDED | REG_NOSUB);
            if (rc != 0) {
                char msg[128];
                regerror(rc, &re, msg, sizeof(msg));
                char full[200];
                harness_textf(full, sizeof(full), "bad POSIX extended regular expression: %s", msg);
                return validate_fail(where, where_cap, w, why, why_cap, full);
            }
            regfree(&re);
            return true;
        }
        if (strcmp(op, "$shape") == 0) {
            if (!json_is_string(arg) || (strcmp(json_string_value(arg), "id") != 0 &&
                                         strcmp(json_string_value(arg), "uuid") != 0)) {
                return validate_fail(where, where_cap, w, why, why_cap,
                                     "expected \"id\" or \"uuid\"");
            }
            return true;
        }
        if (strcmp(op, "$not") == 0 || strcmp(op, "$contains") == 0) {
            char inner[128] = "";
            if (!harness_matcher_validate(arg, inner, sizeof(inner), why, why_cap)) {
                harness_textf(where, where_cap, "%s%s", w, inner);
                return false;
            }
            return true;
        }
        if (strcmp(op, "$len") == 0) {
            if (!json_is_integer(arg) || json_integer_value(arg) < 0) {
                return validate_fail(where, where_cap, w, why, why_cap,
                                     "expected a non-negative integer");
            }
            return true;
        }
        return validate_fail(where, where_cap, w, why, why_cap,
                             "unknown matcher (known: $present, $absent, $type, $one_of, $match, "
                             "$shape, $not, $contains, $len)");
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
            char inner[128] = "";
            if (!harness_matcher_validate(e, inner, sizeof(inner), why, why_cap)) {
                harness_textf(where, where_cap, "[%zu]%s", i, inner);
                return false;
            }
        }
    }
    return true;
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
    harness_textf(r->what, sizeof(r->what), "%s", what);
    return r;
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
                r->held = harness_match(want, actual, vars, why, sizeof(why));
                harness_json_text(want, r->expected, sizeof(r->expected));
                harness_textf(r->actual, sizeof(r->actual), "%s", r->held ? have : why);
                json_decref(actual);
            }
            all = all && r->held;
        }
    }
    if (e->body != NULL) {
        if ((r = add_check(out, e, "body")) == NULL) {
            return REF_E_NOMEM;
        }
        char why[HARNESS_CHECK_TEXT_BYTES] = "";
        r->held = harness_match(e->body, obs->body, vars, why, sizeof(why));
        harness_json_text(e->body, r->expected, sizeof(r->expected));
        if (r->held) {
            harness_json_text(obs->body, r->actual, sizeof(r->actual));
        } else {
            harness_textf(r->actual, sizeof(r->actual), "%s", why);
        }
        all = all && r->held;
    }
    if (e->paths != NULL) {
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
            r->held = harness_match(want, actual, vars, why, sizeof(why));
            harness_json_text(want, r->expected, sizeof(r->expected));
            if (r->held) {
                harness_json_text(actual, r->actual, sizeof(r->actual));
            } else {
                harness_textf(r->actual, sizeof(r->actual), "%s", why);
            }
            all = all && r->held;
        }
    }
    *all_held = all;
    return REF_OK;
}
