/* SPDX-License-Identifier: Apache-2.0
 *
 * matcher.c - the matcher language of expectations: plain values, subset objects, arrays,
 * strings with ${vars}, and the $matchers ($present, $match, $contains, ...).
 *
 * Every $matcher is one row of s_matchers: its name, its help, how its operand is checked
 * at load time and how it is evaluated. Loading, evaluation, the list of known matchers
 * in messages and the help text all read that table, so no matcher can be known to one
 * and missing from another. $match patterns are compiled once, at load time
 * (harness_matcher_compile), and found again by their operand when evaluated.
 */
#define _POSIX_C_SOURCE 200809L

#include "matcher.h"

#include "harness/expect.h"
#include "harness/text.h"

#include <jansson.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One compiled $match pattern, in a list: a regex_t is compiled in place and never
 * moved, which an array that grows would do. */
struct harness_compiled_regex {
    struct harness_compiled_regex *next;
    const json_t *operand; /* borrowed: the $match operand in the scenario, the lookup key */
    regex_t re;
};

/* What an evaluation carries down the expected tree. */
struct match_ctx {
    const struct harness_vars *vars;              /* NULL: strings compare as written */
    const struct harness_compiled_regex *regexes; /* NULL: patterns compile when evaluated */
};

/* What a load-time check carries down the matcher tree. */
struct validation {
    struct harness_compiled_regex **keep; /* NULL: patterns are compiled to check them only */
    bool is_out_of_memory;
};

/* Evaluates one $matcher: arg is its operand, actual the value found (NULL: absent), got
 * the text of actual for messages. On a mismatch, why says what was expected. */
typedef bool matcher_eval_fn(const struct match_ctx *ctx,
                             json_t *arg,
                             json_t *actual,
                             const char *got,
                             char *why,
                             size_t why_cap);

/* Checks one $matcher's operand at load time; w is the matcher's own path suffix
 * (".$match"). On failure, fills where (a suffix of the JSON path) and why. */
typedef bool matcher_validate_fn(struct validation *va,
                                 json_t *arg,
                                 const char *w,
                                 char *where,
                                 size_t where_cap,
                                 char *why,
                                 size_t why_cap);

struct matcher_info {
    struct harness_matcher_doc doc;
    matcher_validate_fn *validate;
    matcher_eval_fn *evaluate;
};

static bool
match(const struct match_ctx *ctx, json_t *expected, json_t *actual, char *why, size_t why_cap);
static bool validate(
    struct validation *va, json_t *v, char *where, size_t where_cap, char *why, size_t why_cap);

/* --- Helpers ----------------------------------------------------------------------- */

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

/* --- Evaluation, one function per matcher ------------------------------------------- */

static bool eval_present(const struct match_ctx *ctx,
                         json_t *arg,
                         json_t *actual,
                         const char *got,
                         char *why,
                         size_t why_cap)
{
    (void)ctx;
    bool want = json_is_true(arg);
    if ((actual != NULL) == want) {
        return true;
    }
    return fail_why(why, why_cap, "expected %s, found %s", want ? "present" : "absent", got);
}

static bool eval_absent(const struct match_ctx *ctx,
                        json_t *arg,
                        json_t *actual,
                        const char *got,
                        char *why,
                        size_t why_cap)
{
    (void)ctx;
    bool want = json_is_true(arg);
    if ((actual == NULL) == want) {
        return true;
    }
    return fail_why(why, why_cap, "expected %s, found %s", want ? "absent" : "present", got);
}

static bool eval_type(const struct match_ctx *ctx,
                      json_t *arg,
                      json_t *actual,
                      const char *got,
                      char *why,
                      size_t why_cap)
{
    (void)ctx;
    const char *t = json_string_value(arg);
    const char *have = harness_json_type_name(actual, HARNESS_JSON_TYPE_WORD);
    bool held = strcmp(t, have) == 0 ||
                (strcmp(t, "number") == 0 && (json_is_integer(actual) || json_is_real(actual)));
    if (held) {
        return true;
    }
    return fail_why(why, why_cap, "expected type %s, found %s", t, got);
}

static bool eval_one_of(const struct match_ctx *ctx,
                        json_t *arg,
                        json_t *actual,
                        const char *got,
                        char *why,
                        size_t why_cap)
{
    size_t i;
    json_t *alt;
    json_array_foreach (arg, i, alt) {
        if (match(ctx, alt, actual, NULL, 0)) {
            return true;
        }
    }
    char want[HARNESS_CHECK_TEXT_BYTES];
    harness_json_text(arg, want, sizeof(want));
    return fail_why(why, why_cap, "expected one of %s, found %s", want, got);
}

static const struct harness_compiled_regex *find_regex(const struct harness_compiled_regex *regexes,
                                                       const json_t *operand)
{
    for (const struct harness_compiled_regex *r = regexes; r != NULL; r = r->next) {
        if (r->operand == operand) {
            return r;
        }
    }
    return NULL;
}

static bool eval_match(const struct match_ctx *ctx,
                       json_t *arg,
                       json_t *actual,
                       const char *got,
                       char *why,
                       size_t why_cap)
{
    if (!json_is_string(actual)) {
        return fail_why(why, why_cap, "expected a string matching /%s/, found %s",
                        json_string_value(arg), got);
    }
    bool held;
    const struct harness_compiled_regex *compiled = find_regex(ctx->regexes, arg);
    if (compiled != NULL) {
        held = regexec(&compiled->re, json_string_value(actual), 0, NULL, 0) == 0;
    } else {
        /* Not loaded from a scenario (a test, a one-off match): compile it now. */
        regex_t re;
        if (regcomp(&re, json_string_value(arg), REG_EXTENDED | REG_NOSUB) != 0) {
            return fail_why(why, why_cap, "bad regular expression /%s/%s", json_string_value(arg),
                            "");
        }
        held = regexec(&re, json_string_value(actual), 0, NULL, 0) == 0;
        regfree(&re);
    }
    if (held) {
        return true;
    }
    return fail_why(why, why_cap, "expected a string matching /%s/, found %s",
                    json_string_value(arg), got);
}

static bool eval_shape(const struct match_ctx *ctx,
                       json_t *arg,
                       json_t *actual,
                       const char *got,
                       char *why,
                       size_t why_cap)
{
    (void)ctx;
    if (json_is_string(actual) && shape_holds(json_string_value(arg), json_string_value(actual),
                                              json_string_length(actual))) {
        return true;
    }
    return fail_why(why, why_cap, "expected the %s shape, found %s", json_string_value(arg), got);
}

static bool eval_not(const struct match_ctx *ctx,
                     json_t *arg,
                     json_t *actual,
                     const char *got,
                     char *why,
                     size_t why_cap)
{
    if (!match(ctx, arg, actual, NULL, 0)) {
        return true;
    }
    char want[HARNESS_CHECK_TEXT_BYTES];
    harness_json_text(arg, want, sizeof(want));
    return fail_why(why, why_cap, "expected anything but %s, found %s", want, got);
}

static bool eval_contains(const struct match_ctx *ctx,
                          json_t *arg,
                          json_t *actual,
                          const char *got,
                          char *why,
                          size_t why_cap)
{
    if (json_is_array(actual)) {
        size_t i;
        json_t *e;
        json_array_foreach (actual, i, e) {
            if (match(ctx, arg, e, NULL, 0)) {
                return true;
            }
        }
    }
    char want[HARNESS_CHECK_TEXT_BYTES];
    harness_json_text(arg, want, sizeof(want));
    return fail_why(why, why_cap, "expected an array with an element matching %s, found %s", want,
                    got);
}

static bool eval_len(const struct match_ctx *ctx,
                     json_t *arg,
                     json_t *actual,
                     const char *got,
                     char *why,
                     size_t why_cap)
{
    (void)ctx;
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

/* --- Load-time checks, one function per kind of operand ------------------------------- */

static bool validate_fail(
    char *where, size_t where_cap, const char *w, char *why, size_t why_cap, const char *msg)
{
    harness_textf(where, where_cap, "%s", w);
    harness_textf(why, why_cap, "%s", msg);
    return false;
}

static bool validate_boolean(struct validation *va,
                             json_t *arg,
                             const char *w,
                             char *where,
                             size_t where_cap,
                             char *why,
                             size_t why_cap)
{
    (void)va;
    if (!json_is_boolean(arg)) {
        return validate_fail(where, where_cap, w, why, why_cap, "expected a boolean");
    }
    return true;
}

static bool validate_type(struct validation *va,
                          json_t *arg,
                          const char *w,
                          char *where,
                          size_t where_cap,
                          char *why,
                          size_t why_cap)
{
    (void)va;
    static const char *const types[] = {"string", "number", "integer", "boolean",
                                        "null",   "object", "array"};
    for (size_t i = 0; json_is_string(arg) && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(json_string_value(arg), types[i]) == 0) {
            return true;
        }
    }
    return validate_fail(where, where_cap, w, why, why_cap,
                         "expected string, number, integer, boolean, null, object or "
                         "array");
}

static bool validate_one_of(struct validation *va,
                            json_t *arg,
                            const char *w,
                            char *where,
                            size_t where_cap,
                            char *why,
                            size_t why_cap)
{
    if (!json_is_array(arg) || json_array_size(arg) == 0) {
        return validate_fail(where, where_cap, w, why, why_cap, "expected a non-empty array");
    }
    size_t i;
    json_t *alt;
    json_array_foreach (arg, i, alt) {
        char inner[128] = "";
        if (!validate(va, alt, inner, sizeof(inner), why, why_cap)) {
            harness_textf(where, where_cap, "%s[%zu]%s", w, i, inner);
            return false;
        }
    }
    return true;
}

/* Compiles the pattern in place; keeps it in *va->keep when there is a list to keep it
 * in, else frees it. */
static bool validate_match(struct validation *va,
                           json_t *arg,
                           const char *w,
                           char *where,
                           size_t where_cap,
                           char *why,
                           size_t why_cap)
{
    if (!json_is_string(arg)) {
        return validate_fail(where, where_cap, w, why, why_cap,
                             "expected a regular expression string");
    }
    struct harness_compiled_regex *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        va->is_out_of_memory = true;
        return validate_fail(where, where_cap, w, why, why_cap, "out of memory");
    }
    int rc = regcomp(&r->re, json_string_value(arg), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &r->re, msg, sizeof(msg));
        free(r);
        char full[200];
        harness_textf(full, sizeof(full), "bad POSIX extended regular expression: %s", msg);
        return validate_fail(where, where_cap, w, why, why_cap, full);
    }
    if (va->keep == NULL) {
        regfree(&r->re);
        free(r);
        return true;
    }
    r->operand = arg;
    r->next = *va->keep;
    *va->keep = r;
    return true;
}

static bool validate_shape(struct validation *va,
                           json_t *arg,
                           const char *w,
                           char *where,
                           size_t where_cap,
                           char *why,
                           size_t why_cap)
{
    (void)va;
    if (!json_is_string(arg) || (strcmp(json_string_value(arg), "id") != 0 &&
                                 strcmp(json_string_value(arg), "uuid") != 0)) {
        return validate_fail(where, where_cap, w, why, why_cap, "expected \"id\" or \"uuid\"");
    }
    return true;
}

/* $not and $contains: the operand is itself an expected value. */
static bool validate_nested(struct validation *va,
                            json_t *arg,
                            const char *w,
                            char *where,
                            size_t where_cap,
                            char *why,
                            size_t why_cap)
{
    char inner[128] = "";
    if (!validate(va, arg, inner, sizeof(inner), why, why_cap)) {
        harness_textf(where, where_cap, "%s%s", w, inner);
        return false;
    }
    return true;
}

static bool validate_len(struct validation *va,
                         json_t *arg,
                         const char *w,
                         char *where,
                         size_t where_cap,
                         char *why,
                         size_t why_cap)
{
    (void)va;
    if (!json_is_integer(arg) || json_integer_value(arg) < 0) {
        return validate_fail(where, where_cap, w, why, why_cap, "expected a non-negative integer");
    }
    return true;
}

/* --- The table --------------------------------------------------------------------- */

/* In the order messages and the help list them. */
static const struct matcher_info s_matchers[] = {
    {
        .doc = {"$present", "true|false", "exists (null counts as present), or not", "true"},
        .validate = validate_boolean,
        .evaluate = eval_present,
    },
    {
        .doc = {"$absent", "true|false", "does not exist, or does", "true"},
        .validate = validate_boolean,
        .evaluate = eval_absent,
    },
    {
        .doc = {"$type", "TYPE",
                "has that JSON type: string, number, integer, boolean, null, object, array",
                "\"integer\""},
        .validate = validate_type,
        .evaluate = eval_type,
    },
    {
        .doc = {"$one_of", "[V, ...]", "matches one of the list", "[\"Complete\", \"Canceled\"]"},
        .validate = validate_one_of,
        .evaluate = eval_one_of,
    },
    {
        .doc = {"$match", "RE", "is a string matching the POSIX extended regular expression",
                "\"^[0-9]{13}-\""},
        .validate = validate_match,
        .evaluate = eval_match,
    },
    {
        .doc = {"$shape", "id|uuid",
                "is a string of that shape (id: 13 digits, '-', 6 letters, digits or '_')",
                "\"id\""},
        .validate = validate_shape,
        .evaluate = eval_shape,
    },
    {
        .doc = {"$not", "V", "does not match V", "{\"$absent\": true}"},
        .validate = validate_nested,
        .evaluate = eval_not,
    },
    {
        .doc = {"$contains", "V", "is an array with at least one element matching V",
                "{\"Status\": \"Canceled\"}"},
        .validate = validate_nested,
        .evaluate = eval_contains,
    },
    {
        .doc = {"$len", "N", "is an array, object or string of length N", "2"},
        .validate = validate_len,
        .evaluate = eval_len,
    },
};

#define MATCHER_COUNT (sizeof(s_matchers) / sizeof(s_matchers[0]))

static const struct matcher_info *find_matcher(const char *name)
{
    for (size_t i = 0; i < MATCHER_COUNT; i++) {
        if (strcmp(name, s_matchers[i].doc.name) == 0) {
            return &s_matchers[i];
        }
    }
    return NULL;
}

const struct harness_matcher_doc *harness_matcher_doc(size_t i)
{
    return i < MATCHER_COUNT ? &s_matchers[i].doc : NULL;
}

/* "$present, $absent, ..." */
static void matcher_names(char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < MATCHER_COUNT && used + 1 < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i > 0 ? ", " : "", s_matchers[i].doc.name);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

void harness_matcher_help(char *out, size_t cap)
{
    if (out == NULL || cap == 0) {
        return;
    }
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < MATCHER_COUNT && used + 1 < cap; i++) {
        const struct harness_matcher_doc *d = &s_matchers[i].doc;
        char use[64];
        harness_textf(use, sizeof(use), "{\"%s\": %s}", d->name, d->operand);
        int w = snprintf(out + used, cap - used, "  %-26s %s\n", use, d->help);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

/* --- Evaluation -------------------------------------------------------------------- */

static bool run_matcher(const struct match_ctx *ctx,
                        const char *op,
                        json_t *arg,
                        json_t *actual,
                        char *why,
                        size_t why_cap)
{
    char got[HARNESS_CHECK_TEXT_BYTES];
    harness_json_text(actual, got, sizeof(got));
    const struct matcher_info *m = find_matcher(op);
    if (m == NULL) {
        return fail_why(why, why_cap, "unknown matcher %s%s", op, "");
    }
    return m->evaluate(ctx, arg, actual, got, why, why_cap);
}

/* Matches one expected value (see harness_match). */
static bool
match(const struct match_ctx *ctx, json_t *expected, json_t *actual, char *why, size_t why_cap)
{
    char want[HARNESS_CHECK_TEXT_BYTES];
    char got[HARNESS_CHECK_TEXT_BYTES];
    if (is_matcher(expected)) {
        void *it = json_object_iter(expected);
        return run_matcher(ctx, json_object_iter_key(it), json_object_iter_value(it), actual, why,
                           why_cap);
    }
    if (json_is_string(expected)) {
        return match_string(expected, actual, ctx->vars, why, why_cap);
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
            if (!match(ctx, sub, json_object_get(actual, key), inner, sizeof(inner))) {
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
            if (!match(ctx, json_array_get(expected, i), json_array_get(actual, i), inner,
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

bool harness_match_compiled(json_t *expected,
                            json_t *actual,
                            const struct harness_vars *vars,
                            const struct harness_compiled_regex *regexes,
                            char *why,
                            size_t why_cap)
{
    struct match_ctx ctx = {.vars = vars, .regexes = regexes};
    return match(&ctx, expected, actual, why, why_cap);
}

bool harness_match(
    json_t *expected, json_t *actual, const struct harness_vars *vars, char *why, size_t why_cap)
{
    return harness_match_compiled(expected, actual, vars, NULL, why, why_cap);
}

/* --- Load-time checks -------------------------------------------------------------- */

/* An object with one $key: the matcher's row checks its operand. */
static bool validate_matcher_object(
    struct validation *va, json_t *v, char *where, size_t where_cap, char *why, size_t why_cap)
{
    if (json_object_size(v) != 1) {
        return validate_fail(where, where_cap, "", why, why_cap,
                             "a matcher object has exactly one $key");
    }
    void *it = json_object_iter(v);
    const char *op = json_object_iter_key(it);
    json_t *arg = json_object_iter_value(it);
    char w[64];
    harness_textf(w, sizeof(w), ".%s", op);
    const struct matcher_info *m = find_matcher(op);
    if (m != NULL) {
        return m->validate(va, arg, w, where, where_cap, why, why_cap);
    }
    char names[256];
    matcher_names(names, sizeof(names));
    char msg[320];
    harness_textf(msg, sizeof(msg), "unknown matcher (known: %s)", names);
    return validate_fail(where, where_cap, w, why, why_cap, msg);
}

static bool
validate(struct validation *va, json_t *v, char *where, size_t where_cap, char *why, size_t why_cap)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *sub;
        bool has_dollar = false;
        json_object_foreach (v, key, sub) {
            has_dollar = has_dollar || key[0] == '$';
        }
        if (has_dollar) {
            return validate_matcher_object(va, v, where, where_cap, why, why_cap);
        }
        json_object_foreach (v, key, sub) {
            char inner_where[128] = "";
            if (!validate(va, sub, inner_where, sizeof(inner_where), why, why_cap)) {
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
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
            char inner[128] = "";
            if (!validate(va, e, inner, sizeof(inner), why, why_cap)) {
                harness_textf(where, where_cap, "[%zu]%s", i, inner);
                return false;
            }
        }
    }
    return true;
}

bool harness_matcher_validate(json_t *v, char *where, size_t where_cap, char *why, size_t why_cap)
{
    struct validation va = {.keep = NULL};
    return validate(&va, v, where, where_cap, why, why_cap);
}

enum ref_status harness_matcher_compile(json_t *v,
                                        struct harness_compiled_regex **regexes,
                                        char *where,
                                        size_t where_cap,
                                        char *why,
                                        size_t why_cap)
{
    struct validation va = {.keep = regexes};
    if (validate(&va, v, where, where_cap, why, why_cap)) {
        return REF_OK;
    }
    return va.is_out_of_memory ? REF_E_NOMEM : REF_E_MALFORMED;
}

void harness_compiled_regex_free(struct harness_compiled_regex *regexes)
{
    while (regexes != NULL) {
        struct harness_compiled_regex *next = regexes->next;
        regfree(&regexes->re);
        free(regexes);
        regexes = next;
    }
}
