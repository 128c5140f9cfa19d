/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario.c - the strict scenario loader (format: fixtures/scenarios/README.md).
 *
 * jansson parses the file (a syntax error names its line and column); then every object
 * is checked key by key against what its position allows, so a typo is an error with the
 * key's JSON path, never a silently ignored expectation. jansson keeps no positions for
 * values, so a small scanner walks the (already valid) text along that path to put a line
 * and column on semantic errors too.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/scenario.h"
#include "harness/text.h"

#include "harness/expect.h"
#include "harness/vars.h"

#include "ref/limits.h"

#include <jansson.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- Names ------------------------------------------------------------------------- */

static const char *const s_level_names[] = {"", "must", "should", "info"};
static const char *const s_source_names[HARNESS_SOURCE_COUNT] = {
    "", "model", "guide", "clients", "inference", "cli-examples", "moto"};
#define SOURCE_CHOICES "model, guide, clients, inference, cli-examples, moto"
static const char *const s_fault_names[] = {
    "none",          "wrong-secret",     "unknown-key", "scope-date",          "scope-region",
    "scope-service", "scope-terminator", "omit-host",   "flip-signature-digit"};
static const char *const s_principal_names[] = {"none", "main", "restricted", "temporary"};

const char *harness_level_name(enum harness_level level)
{
    return (unsigned)level < 4 ? s_level_names[level] : "";
}

const char *harness_source_name(enum harness_source source)
{
    return (unsigned)source < HARNESS_SOURCE_COUNT ? s_source_names[source] : "";
}

const char *harness_fault_name(enum harness_fault fault)
{
    return (unsigned)fault < 9 ? s_fault_names[fault] : "";
}

const char *harness_principal_name(enum harness_principal principal)
{
    return (unsigned)principal < 4 ? s_principal_names[principal] : "";
}

/* --- Errors and the position scanner ------------------------------------------------ */

struct loader {
    const uint8_t *text;
    size_t len;
    struct harness_scenario *sc;
    struct harness_load_error *err;
    /* Variables defined so far, for the ${var} check. */
    char defined[HARNESS_MAX_VARS * 2][HARNESS_MAX_VAR_NAME_BYTES];
    size_t num_defined;
    const char *bad_var; /* set by the reference check */
    char bad_var_buf[HARNESS_MAX_VAR_NAME_BYTES];
};

static size_t skip_ws(const uint8_t *t, size_t n, size_t i)
{
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) {
        i++;
    }
    return i;
}

/* i at the opening quote; returns the index after the closing one. */
static size_t skip_string(const uint8_t *t, size_t n, size_t i)
{
    i++;
    while (i < n && t[i] != '"') {
        i += (t[i] == '\\') ? 2 : 1;
    }
    return i < n ? i + 1 : n;
}

static size_t skip_value(const uint8_t *t, size_t n, size_t i)
{
    i = skip_ws(t, n, i);
    if (i >= n) {
        return n;
    }
    if (t[i] == '"') {
        return skip_string(t, n, i);
    }
    if (t[i] == '{' || t[i] == '[') {
        /* Depth counting is enough: strings are skipped whole, so brackets inside them do
         * not count, and the text is known to be valid JSON. */
        size_t depth = 0;
        while (i < n) {
            if (t[i] == '"') {
                i = skip_string(t, n, i);
                continue;
            }
            if (t[i] == '{' || t[i] == '[') {
                depth++;
            } else if (t[i] == '}' || t[i] == ']') {
                depth--;
                if (depth == 0) {
                    return i + 1;
                }
            }
            i++;
        }
        return n;
    }
    while (i < n && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\n' &&
           t[i] != '\r' && t[i] != '\t') {
        i++;
    }
    return i;
}

/* The byte offset of the deepest element of path found in the text: the key of the last
 * member reached, or the start of the last array element reached. */
static size_t locate(const uint8_t *t, size_t n, const char *path)
{
    size_t cur = skip_ws(t, n, 0);
    size_t best = cur;
    const char *p = path;
    while (*p != '\0') {
        char key[128];
        size_t key_len = 0;
        long index = -1;
        if (*p == '.') {
            p++;
        }
        if (*p == '[' && p[1] == '"') {
            p += 2;
            while (*p != '\0' && *p != '"' && key_len + 1 < sizeof(key)) {
                key[key_len++] = *p++;
            }
            p += (*p == '"') ? 1 : 0;
            p += (*p == ']') ? 1 : 0;
        } else if (*p == '[') {
            p++;
            index = 0;
            while (*p >= '0' && *p <= '9') {
                index = index * 10 + (*p - '0');
                p++;
            }
            p += (*p == ']') ? 1 : 0;
        } else {
            while (*p != '\0' && *p != '.' && *p != '[' && key_len + 1 < sizeof(key)) {
                key[key_len++] = *p++;
            }
        }
        key[key_len] = '\0';
        cur = skip_ws(t, n, cur);
        if (index >= 0) {
            if (cur >= n || t[cur] != '[') {
                return best;
            }
            cur = skip_ws(t, n, cur + 1);
            for (long k = 0; k < index; k++) {
                cur = skip_ws(t, n, skip_value(t, n, cur));
                if (cur >= n || t[cur] != ',') {
                    return best;
                }
                cur = skip_ws(t, n, cur + 1);
            }
            best = cur;
            continue;
        }
        if (cur >= n || t[cur] != '{') {
            return best;
        }
        cur = skip_ws(t, n, cur + 1);
        bool found = false;
        while (cur < n && t[cur] == '"') {
            size_t key_start = cur;
            size_t key_end = skip_string(t, n, cur);
            cur = skip_ws(t, n, key_end);
            cur = skip_ws(t, n, cur + 1); /* ':' */
            if (key_end - key_start - 2 == key_len &&
                memcmp(t + key_start + 1, key, key_len) == 0) {
                best = key_start;
                found = true;
                break;
            }
            cur = skip_ws(t, n, skip_value(t, n, cur));
            if (cur < n && t[cur] == ',') {
                cur = skip_ws(t, n, cur + 1);
            }
        }
        if (!found) {
            return best;
        }
    }
    return best;
}

static void offset_to_line_col(const uint8_t *t, size_t n, size_t off, int *line, int *col)
{
    int l = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < off && i < n; i++) {
        if (t[i] == '\n') {
            l++;
            line_start = i + 1;
        }
    }
    *line = l;
    *col = (int)(off - line_start) + 1;
}

static void set_file(struct harness_load_error *err, const char *file)
{
    harness_textf(err->file, sizeof(err->file), "%s", file != NULL ? file : "(scenario)");
}

__attribute__((format(printf, 3, 4))) static enum ref_status
fail(struct loader *ld, const char *path, const char *fmt, ...)
{
    struct harness_load_error *err = ld->err;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t off = locate(ld->text, ld->len, path);
    offset_to_line_col(ld->text, ld->len, off, &err->line, &err->column);
    const char *name = (ld->sc != NULL && ld->sc->name != NULL) ? ld->sc->name : "?";
    harness_textf(err->message, sizeof(err->message), "scenario '%s': %s: %s", name,
                  path[0] != '\0' ? path : "(top level)", msg);
    return REF_E_MALFORMED;
}

void harness_load_error_format(const struct harness_load_error *err, char *out, size_t cap)
{
    if (cap == 0) {
        return;
    }
    if (err->line > 0) {
        harness_textf(out, cap, "%s:%d:%d: %s", err->file, err->line, err->column, err->message);
    } else {
        harness_textf(out, cap, "%s: %s", err->file, err->message);
    }
}

/* --- Path helpers ------------------------------------------------------------------ */

static bool is_plain_key(const char *key)
{
    if (*key == '\0') {
        return false;
    }
    for (const char *p = key; *p != '\0'; p++) {
        if (*p == '.' || *p == '[' || *p == ']' || *p == '"') {
            return false;
        }
    }
    return true;
}

/* Appends s to the path in out (at bytes so far), truncated where snprintf into cap bytes
 * would truncate it: at most cap - 1 bytes, always NUL-terminated. The loader gives every
 * member and element it visits a path, in case an error names it, and formatting each one
 * with vsnprintf was a good part of its time; they are put together by hand instead. */
static void path_put(char *out, size_t cap, size_t *at, const char *s)
{
    size_t n = strlen(s);
    size_t room = cap - 1 - *at;
    if (n > room) {
        n = room;
    }
    memcpy(out + *at, s, n);
    *at += n;
    out[*at] = '\0';
}

/* base.key, or base["key"] when the key holds a character of path syntax. cap > 0. */
static void path_key(char *out, size_t cap, const char *base, const char *key)
{
    size_t at = 0;
    out[0] = '\0';
    path_put(out, cap, &at, base);
    if (is_plain_key(key)) {
        path_put(out, cap, &at, base[0] != '\0' ? "." : "");
        path_put(out, cap, &at, key);
    } else {
        path_put(out, cap, &at, "[\"");
        path_put(out, cap, &at, key);
        path_put(out, cap, &at, "\"]");
    }
}

/* base[i]. cap > 0. */
static void path_index(char *out, size_t cap, const char *base, size_t i)
{
    char digits[24];
    size_t n = sizeof(digits);
    digits[--n] = '\0';
    do {
        digits[--n] = (char)('0' + i % 10);
        i /= 10;
    } while (i > 0);
    size_t at = 0;
    out[0] = '\0';
    path_put(out, cap, &at, base);
    path_put(out, cap, &at, "[");
    path_put(out, cap, &at, digits + n);
    path_put(out, cap, &at, "]");
}

/* --- Generic checks ---------------------------------------------------------------- */

static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
        case JSON_OBJECT:
            return "an object";
        case JSON_ARRAY:
            return "an array";
        case JSON_STRING:
            return "a string";
        case JSON_INTEGER:
            return "an integer";
        case JSON_REAL:
            return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
            return "a boolean";
        case JSON_NULL:
            return "null";
        default:
            return "a value";
    }
}

static bool in_list(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (strcmp(key, allowed[i]) == 0) {
            return true;
        }
    }
    return false;
}

static enum ref_status check_keys(
    struct loader *ld, json_t *obj, const char *path, const char *const *allowed, const char *what)
{
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v) {
        if (!in_list(key, allowed)) {
            char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(p, sizeof(p), path, key);
            char hint[256] = "";
            size_t used = 0;
            for (size_t i = 0; allowed[i] != NULL && used + 1 < sizeof(hint); i++) {
                int w = snprintf(hint + used, sizeof(hint) - used, "%s%s", i > 0 ? ", " : "",
                                 allowed[i]);
                if (w < 0) {
                    break;
                }
                used += (size_t)w;
            }
            return fail(ld, p, "unknown key '%s' in %s (allowed: %s)", key, what, hint);
        }
    }
    return REF_OK;
}

static enum ref_status get_string(struct loader *ld,
                                  json_t *obj,
                                  const char *key,
                                  const char *path,
                                  bool required,
                                  const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required) {
            return fail(ld, path[0] != '\0' ? path : "", "missing required key '%s'", key);
        }
        return REF_OK;
    }
    if (!json_is_string(v)) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(p, sizeof(p), path, key);
        return fail(ld, p, "expected a string, got %s", type_name(v));
    }
    *out = json_string_value(v);
    return REF_OK;
}

static enum ref_status
get_bool(struct loader *ld, json_t *obj, const char *key, const char *path, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        return REF_OK;
    }
    if (!json_is_boolean(v)) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(p, sizeof(p), path, key);
        return fail(ld, p, "expected a boolean, got %s", type_name(v));
    }
    *out = json_is_true(v);
    return REF_OK;
}

static enum ref_status get_int(struct loader *ld,
                               json_t *obj,
                               const char *key,
                               const char *path,
                               int64_t min,
                               int64_t max,
                               bool *present,
                               int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        return REF_OK;
    }
    /* The path only for an error: most values pass. */
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    if (!json_is_integer(v)) {
        path_key(p, sizeof(p), path, key);
        return fail(ld, p, "expected an integer, got %s", type_name(v));
    }
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) {
        path_key(p, sizeof(p), path, key);
        return fail(ld, p, "%lld is out of range (%lld..%lld)", (long long)i, (long long)min,
                    (long long)max);
    }
    *out = (int64_t)i;
    if (present != NULL) {
        *present = true;
    }
    return REF_OK;
}

static int json_depth(json_t *v)
{
    int deepest = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach (v, key, child) {
            int d = json_depth(child);
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            int d = json_depth(child);
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    return 0;
}

static bool is_var_name(const char *s, size_t len)
{
    if (len == 0 || len >= HARNESS_MAX_VAR_NAME_BYTES) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool is_step_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 48) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* --- Variables: definitions and references ----------------------------------------- */

static enum ref_status define_var(struct loader *ld, const char *name, const char *path)
{
    for (size_t i = 0; i < ld->num_defined; i++) {
        if (strcmp(ld->defined[i], name) == 0) {
            return REF_OK;
        }
    }
    if (ld->num_defined >= HARNESS_MAX_VARS) {
        return fail(ld, path, "more than %d variables", HARNESS_MAX_VARS);
    }
    harness_textf(ld->defined[ld->num_defined++], HARNESS_MAX_VAR_NAME_BYTES, "%s", name);
    return REF_OK;
}

static bool ref_is_defined(void *ctx, const char *name, size_t name_len)
{
    struct loader *ld = ctx;
    for (size_t i = 0; i < ld->num_defined; i++) {
        if (strlen(ld->defined[i]) == name_len && memcmp(ld->defined[i], name, name_len) == 0) {
            return true;
        }
    }
    size_t n = name_len < sizeof(ld->bad_var_buf) - 1 ? name_len : sizeof(ld->bad_var_buf) - 1;
    memcpy(ld->bad_var_buf, name, n);
    ld->bad_var_buf[n] = '\0';
    ld->bad_var = ld->bad_var_buf;
    return false;
}

/* Every string (keys of `paths` and `headers` included) must only use defined vars. */
static enum ref_status check_refs(struct loader *ld, json_t *v, const char *path)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    if (json_is_string(v)) {
        ld->bad_var = NULL;
        if (!harness_vars_each_ref(json_string_value(v), json_string_length(v), ref_is_defined,
                                   ld)) {
            if (ld->bad_var != NULL) {
                return fail(ld, path,
                            "${%s} is not defined by vars, a capture or an outcome's set before "
                            "this step",
                            ld->bad_var);
            }
            return fail(ld, path, "'${' without a closing '}' (write $${ for a literal ${)");
        }
        return REF_OK;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach (v, key, child) {
            if (strcmp(key, "capture") == 0 || strcmp(key, "$match") == 0) {
                continue; /* capture paths and regular expressions hold no variables */
            }
            path_key(p, sizeof(p), path, key);
            enum ref_status rc = check_refs(ld, child, p);
            if (rc != REF_OK) {
                return rc;
            }
        }
        return REF_OK;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            path_index(p, sizeof(p), path, i);
            enum ref_status rc = check_refs(ld, child, p);
            if (rc != REF_OK) {
                return rc;
            }
        }
    }
    return REF_OK;
}

/* --- Level, source, sign ----------------------------------------------------------- */

/* The index of s among names[first..count-1], or -1. The tables above start with a
 * placeholder ("" or "none") that some keys may not name, hence first. */
static int name_index(const char *s, const char *const *names, int first, int count)
{
    for (int i = first; i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* An optional string member `key` naming one of names[first..count-1]; *out keeps its
 * value when the member is absent. choices lists the accepted names for the message. */
static enum ref_status parse_named(struct loader *ld,
                                   json_t *obj,
                                   const char *path,
                                   const char *key,
                                   const char *const *names,
                                   int first,
                                   int count,
                                   const char *choices,
                                   int *out)
{
    const char *s = NULL;
    REF_TRY(get_string(ld, obj, key, path, false, &s));
    if (s == NULL) {
        return REF_OK;
    }
    int i = name_index(s, names, first, count);
    if (i >= 0) {
        *out = i;
        return REF_OK;
    }
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(p, sizeof(p), path, key);
    return fail(ld, p, "unknown %s '%s' (%s)", key, s, choices);
}

static enum ref_status
parse_level(struct loader *ld, json_t *obj, const char *path, enum harness_level *out)
{
    int i = (int)*out;
    REF_TRY(parse_named(ld, obj, path, "level", s_level_names, 1, 4, "must, should, info", &i));
    *out = (enum harness_level)i;
    return REF_OK;
}

static enum ref_status
parse_source(struct loader *ld, json_t *obj, const char *path, enum harness_source *out)
{
    int i = (int)*out;
    REF_TRY(parse_named(ld, obj, path, "source", s_source_names, 1, HARNESS_SOURCE_COUNT,
                        SOURCE_CHOICES, &i));
    *out = (enum harness_source)i;
    return REF_OK;
}

/* "contract": the contract sections an expectation rests on, as "3" or "1b, 8" (sections
 * 1, 1b, 2, 2b, 3 to 9, joined by ", "). The loader checks the form only; the suite's own
 * test (check_contract_sections.py) holds every must to having one. */
static enum ref_status parse_contract(struct loader *ld, json_t *obj, const char *path)
{
    const char *c = NULL;
    REF_TRY(get_string(ld, obj, "contract", path, false, &c));
    if (c == NULL) {
        return REF_OK;
    }
    const char *p = c;
    for (;;) {
        if (*p < '1' || *p > '9') {
            break;
        }
        p += (p[0] == '1' || p[0] == '2') && p[1] == 'b' ? 2 : 1;
        if (*p == '\0') {
            return REF_OK;
        }
        if (p[0] != ',' || p[1] != ' ') {
            break;
        }
        p += 2;
    }
    char pc[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(pc, sizeof(pc), path, "contract");
    return fail(ld, pc, "'%s' is not a list of contract sections (such as \"3\" or \"1b, 8\")", c);
}

static bool fault_from_name(const char *s, enum harness_fault *out)
{
    int i = name_index(s, s_fault_names, 0, 9);
    if (i < 0) {
        return false;
    }
    *out = (enum harness_fault)i;
    return true;
}

static enum ref_status
parse_sign(struct loader *ld, json_t *v, const char *path, struct harness_sign *out)
{
    memset(out, 0, sizeof(*out));
    out->principal = HARNESS_PRINCIPAL_MAIN;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "valid") == 0) {
            return REF_OK;
        }
        if (strcmp(s, "none") == 0) {
            out->principal = HARNESS_PRINCIPAL_NONE;
            return REF_OK;
        }
        if (strcmp(s, "restricted") == 0) {
            out->principal = HARNESS_PRINCIPAL_RESTRICTED;
            return REF_OK;
        }
        if (strcmp(s, "temporary") == 0) {
            out->principal = HARNESS_PRINCIPAL_TEMPORARY;
            return REF_OK;
        }
        if (strcmp(s, "temporary-no-token") == 0) {
            out->principal = HARNESS_PRINCIPAL_TEMPORARY;
            out->token = HARNESS_TOKEN_OMIT;
            return REF_OK;
        }
        if (strcmp(s, "temporary-wrong-token") == 0) {
            out->principal = HARNESS_PRINCIPAL_TEMPORARY;
            out->token = HARNESS_TOKEN_WRONG;
            return REF_OK;
        }
        if (strcmp(s, "none") != 0 && fault_from_name(s, &out->fault) &&
            out->fault != HARNESS_FAULT_NONE) {
            return REF_OK;
        }
        return fail(ld, path,
                    "unknown signing mode '%s' (valid, none, wrong-secret, unknown-key, "
                    "scope-date, scope-region, scope-service, scope-terminator, omit-host, "
                    "flip-signature-digit, restricted, temporary, temporary-no-token, "
                    "temporary-wrong-token, or an object)",
                    s);
    }
    if (!json_is_object(v)) {
        return fail(ld, path, "expected a signing mode string or object, got %s", type_name(v));
    }
    static const char *const keys[] = {"principal",      "token",          "fault", "date_offset_s",
                                       "signed_headers", "content_sha256", NULL};
    REF_TRY(check_keys(ld, v, path, keys, "a sign object"));
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    int principal = (int)out->principal;
    REF_TRY(parse_named(ld, v, path, "principal", s_principal_names, 0, 4,
                        "main, restricted, temporary, none", &principal));
    out->principal = (enum harness_principal)principal;
    const char *s = NULL;
    REF_TRY(get_string(ld, v, "token", path, false, &s));
    if (s != NULL) {
        path_key(p, sizeof(p), path, "token");
        if (out->principal != HARNESS_PRINCIPAL_TEMPORARY) {
            return fail(ld, p, "'token' applies to the temporary principal only");
        }
        if (strcmp(s, "send") == 0) {
            out->token = HARNESS_TOKEN_SEND;
        } else if (strcmp(s, "omit") == 0) {
            out->token = HARNESS_TOKEN_OMIT;
        } else if (strcmp(s, "wrong") == 0) {
            out->token = HARNESS_TOKEN_WRONG;
        } else {
            return fail(ld, p, "unknown token mode '%s' (send, omit, wrong)", s);
        }
    }
    s = NULL;
    REF_TRY(get_string(ld, v, "fault", path, false, &s));
    if (s != NULL && !fault_from_name(s, &out->fault)) {
        path_key(p, sizeof(p), path, "fault");
        return fail(ld, p,
                    "unknown fault '%s' (none, wrong-secret, unknown-key, scope-date, "
                    "scope-region, scope-service, scope-terminator, omit-host, "
                    "flip-signature-digit)",
                    s);
    }
    REF_TRY(get_int(ld, v, "date_offset_s", path, -366 * 86400, 366 * 86400, NULL,
                    &out->date_offset_s));
    REF_TRY(get_bool(ld, v, "content_sha256", path, &out->content_sha256));
    json_t *sh = json_object_get(v, "signed_headers");
    if (sh != NULL) {
        path_key(p, sizeof(p), path, "signed_headers");
        if (!json_is_array(sh) || json_array_size(sh) == 0) {
            return fail(ld, p, "expected a non-empty array of lower-case header names");
        }
        if (json_array_size(sh) > HARNESS_MAX_SIGNED_HEADERS) {
            return fail(ld, p, "more than %d signed headers", HARNESS_MAX_SIGNED_HEADERS);
        }
        size_t i;
        json_t *h;
        json_array_foreach (sh, i, h) {
            if (!json_is_string(h) || json_string_length(h) == 0) {
                char pi[HARNESS_MAX_JSON_PATH_BYTES * 2];
                path_index(pi, sizeof(pi), p, i);
                return fail(ld, pi, "expected a header name");
            }
            out->signed_headers[i] = json_string_value(h);
        }
        out->num_signed_headers = json_array_size(sh);
        out->has_signed_headers = true;
    }
    if (out->principal == HARNESS_PRINCIPAL_NONE &&
        (out->fault != HARNESS_FAULT_NONE || out->date_offset_s != 0 || out->has_signed_headers ||
         out->content_sha256)) {
        return fail(ld, path, "an unsigned request takes no fault, date offset or headers");
    }
    return REF_OK;
}

/* --- Expectations ------------------------------------------------------------------ */

struct defaults {
    enum harness_level level;
    enum harness_source source;
};

static enum ref_status
parse_status_alt(struct loader *ld, json_t *v, const char *path, struct harness_status_alt *out)
{
    if (json_is_integer(v)) {
        json_int_t code = json_integer_value(v);
        if (code < 100 || code > 599) {
            return fail(ld, path, "status %lld is not between 100 and 599", (long long)code);
        }
        out->code = (int)code;
        return REF_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1] == 'x' && s[2] == 'x') {
            out->status_class = s[0] - '0';
            return REF_OK;
        }
        if (strcmp(s, "closed") == 0) {
            out->is_closed = true;
            return REF_OK;
        }
    }
    return fail(ld, path,
                "expected an integer, a class such as \"4xx\", \"closed\", or a list of them");
}

static enum ref_status validate_matcher(struct loader *ld, json_t *v, const char *path)
{
    char where[128] = "";
    char why[256] = "";
    if (!harness_matcher_validate(v, where, sizeof(where), why, sizeof(why))) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 3];
        harness_textf(p, sizeof(p), "%s%s", path, where);
        return fail(ld, p, "%s", why);
    }
    return REF_OK;
}

static enum ref_status parse_expect(struct loader *ld,
                                    json_t *v,
                                    const char *path,
                                    const struct defaults *def,
                                    bool is_predicate,
                                    struct harness_expect *out)
{
    memset(out, 0, sizeof(*out));
    harness_textf(out->json_path, sizeof(out->json_path), "%s", path);
    if (!json_is_object(v)) {
        return fail(ld, path, "expected an expectation object, got %s", type_name(v));
    }
    static const char *const keys[] = {"level", "source",     "note",     "status",
                                       "error", "error_form", "headers",  "body",
                                       "paths", "json",       "contract", NULL};
    static const char *const pred_keys[] = {"note", "status", "error", "error_form", "headers",
                                            "body", "paths",  "json",  NULL};
    REF_TRY(check_keys(ld, v, path, is_predicate ? pred_keys : keys,
                       is_predicate ? "a wait predicate" : "an expectation"));
    out->level = def->level;
    out->source = def->source;
    REF_TRY(parse_level(ld, v, path, &out->level));
    REF_TRY(parse_source(ld, v, path, &out->source));
    REF_TRY(parse_contract(ld, v, path));
    REF_TRY(get_string(ld, v, "note", path, false, &out->note));
    if (out->level == HARNESS_LEVEL_NONE) {
        out->level = HARNESS_LEVEL_MUST;
    }
    if (out->source == HARNESS_SOURCE_NONE && !is_predicate) {
        return fail(ld, path,
                    "no provenance: give \"source\" (" SOURCE_CHOICES ") here, on the step or "
                    "on the scenario");
    }
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    json_t *st = json_object_get(v, "status");
    if (st != NULL) {
        path_key(p, sizeof(p), path, "status");
        if (json_is_array(st)) {
            if (json_array_size(st) == 0 || json_array_size(st) > HARNESS_MAX_STATUS_ALTERNATIVES) {
                return fail(ld, p, "expected 1 to %d statuses", HARNESS_MAX_STATUS_ALTERNATIVES);
            }
            size_t i;
            json_t *e;
            json_array_foreach (st, i, e) {
                char pi[HARNESS_MAX_JSON_PATH_BYTES * 2];
                path_index(pi, sizeof(pi), p, i);
                REF_TRY(parse_status_alt(ld, e, pi, &out->status[i]));
            }
            out->num_status = json_array_size(st);
        } else {
            REF_TRY(parse_status_alt(ld, st, p, &out->status[0]));
            out->num_status = 1;
        }
    }
    json_t *er = json_object_get(v, "error");
    if (er != NULL) {
        path_key(p, sizeof(p), path, "error");
        if (json_is_null(er)) {
            out->has_error = true;
        } else if (json_is_string(er) && json_string_length(er) > 0) {
            out->has_error = true;
            out->error = json_string_value(er);
        } else {
            return fail(ld, p, "expected an error code string or null, got %s", type_name(er));
        }
    }
    REF_TRY(get_bool(ld, v, "error_form", path, &out->error_form));
    REF_TRY(get_bool(ld, v, "json", path, &out->json));
    json_t *h = json_object_get(v, "headers");
    if (h != NULL) {
        path_key(p, sizeof(p), path, "headers");
        if (!json_is_object(h)) {
            return fail(ld, p, "expected an object of header name to value, got %s", type_name(h));
        }
        const char *name;
        json_t *hv;
        json_object_foreach (h, name, hv) {
            char ph[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(ph, sizeof(ph), p, name);
            if (!json_is_string(hv) && !json_is_boolean(hv) && !json_is_object(hv)) {
                return fail(ld, ph, "expected a string, true, false or a matcher, got %s",
                            type_name(hv));
            }
            if (json_is_object(hv)) {
                REF_TRY(validate_matcher(ld, hv, ph));
            }
        }
        out->headers = h;
    }
    json_t *body = json_object_get(v, "body");
    if (body != NULL) {
        path_key(p, sizeof(p), path, "body");
        REF_TRY(validate_matcher(ld, body, p));
        out->body = body;
    }
    json_t *paths = json_object_get(v, "paths");
    if (paths != NULL) {
        path_key(p, sizeof(p), path, "paths");
        if (!json_is_object(paths)) {
            return fail(ld, p, "expected an object of path to matcher, got %s", type_name(paths));
        }
        const char *jp;
        json_t *m;
        json_object_foreach (paths, jp, m) {
            char pp[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(pp, sizeof(pp), p, jp);
            if (!harness_json_path_is_valid(jp)) {
                return fail(ld, pp, "'%s' is not a path (Member.Member[0].Member)", jp);
            }
            REF_TRY(validate_matcher(ld, m, pp));
        }
        out->paths = paths;
    }
    return REF_OK;
}

static enum ref_status parse_expects(struct loader *ld,
                                     json_t *v,
                                     const char *path,
                                     const struct defaults *def,
                                     struct harness_step *step)
{
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (json_is_array(v) && n == 0) {
        return fail(ld, path, "an empty list of expectations");
    }
    if (n > HARNESS_MAX_EXPECT_GROUPS) {
        return fail(ld, path, "more than %d expectation groups", HARNESS_MAX_EXPECT_GROUPS);
    }
    step->expects = calloc(n, sizeof(*step->expects));
    if (step->expects == NULL) {
        return REF_E_NOMEM;
    }
    step->num_expects = n;
    if (!json_is_array(v)) {
        return parse_expect(ld, v, path, def, false, &step->expects[0]);
    }
    for (size_t i = 0; i < n; i++) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_index(p, sizeof(p), path, i);
        REF_TRY(parse_expect(ld, json_array_get(v, i), p, def, false, &step->expects[i]));
    }
    return REF_OK;
}

static enum ref_status parse_capture(struct loader *ld, json_t *v, const char *path)
{
    if (!json_is_object(v)) {
        return fail(ld, path, "expected an object of variable name to path, got %s", type_name(v));
    }
    const char *name;
    json_t *src;
    json_object_foreach (v, name, src) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(p, sizeof(p), path, name);
        if (!is_var_name(name, strlen(name))) {
            return fail(ld, p, "'%s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", name);
        }
        if (!json_is_string(src)) {
            return fail(ld, p, "expected a path, \"@header:<name>\" or \"@status\", got %s",
                        type_name(src));
        }
        const char *s = json_string_value(src);
        bool ok = strcmp(s, "@status") == 0 || (strncmp(s, "@header:", 8) == 0 && s[8] != '\0') ||
                  (s[0] != '@' && harness_json_path_is_valid(s));
        if (!ok) {
            return fail(ld, p, "'%s' is not a path, \"@header:<name>\" or \"@status\"", s);
        }
    }
    return REF_OK;
}

/* --- Requests ---------------------------------------------------------------------- */

static enum ref_status parse_header_list(struct loader *ld, json_t *v, const char *path)
{
    if (!json_is_array(v)) {
        return fail(ld, path, "expected an array of [name, value] pairs, got %s", type_name(v));
    }
    if (json_array_size(v) > REF_MAX_HEADERS) {
        return fail(ld, path, "more than %d headers", REF_MAX_HEADERS);
    }
    size_t i;
    json_t *pair;
    json_array_foreach (v, i, pair) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_index(p, sizeof(p), path, i);
        if (!json_is_array(pair) || json_array_size(pair) != 2 ||
            !json_is_string(json_array_get(pair, 0)) || !json_is_string(json_array_get(pair, 1))) {
            return fail(ld, p, "expected a [name, value] pair of strings");
        }
    }
    return REF_OK;
}

static enum ref_status parse_call(struct loader *ld,
                                  json_t *step_obj,
                                  const char *path,
                                  const char *op_name,
                                  struct harness_request_spec *out)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    const struct ref_op_info *info = ref_op_info(ref_op_from_name(ref_slice_from_cstr(op_name)));
    path_key(p, sizeof(p), path, "call");
    if (info == NULL) {
        return fail(ld, p,
                    "unknown operation '%s' (CancelJob, CreateJob, ReadJob, "
                    "ListJobsByPipeline, ListJobsByStatus, CreatePipeline, ReadPipeline, "
                    "ListPipelines, UpdatePipelineStatus, DeletePipeline)",
                    op_name);
    }
    out->op = info->op;
    json_t *params = json_object_get(step_obj, "params");
    path_key(p, sizeof(p), path, "params");
    if (params != NULL && !json_is_object(params)) {
        return fail(ld, p, "expected an object, got %s", type_name(params));
    }
    out->params = params;
    if (info->label_member != NULL) {
        json_t *label = params != NULL ? json_object_get(params, info->label_member) : NULL;
        if (label == NULL) {
            return fail(ld, params != NULL ? p : path, "%s needs the parameter '%s'", info->name,
                        info->label_member);
        }
        if (!json_is_string(label)) {
            char pl[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(pl, sizeof(pl), p, info->label_member);
            return fail(ld, pl, "expected a string, got %s", type_name(label));
        }
    }
    if (params != NULL) {
        const char *key;
        json_t *val;
        json_object_foreach (params, key, val) {
            char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(pk, sizeof(pk), p, key);
            if (info->label_member != NULL && strcmp(key, info->label_member) == 0) {
                continue;
            }
            if (info->has_query && strcmp(key, "Ascending") == 0) {
                if (!json_is_string(val) && !json_is_boolean(val)) {
                    return fail(ld, pk, "expected \"true\", \"false\" or a boolean, got %s",
                                type_name(val));
                }
                continue;
            }
            if (info->has_query && strcmp(key, "PageToken") == 0) {
                if (!json_is_string(val)) {
                    return fail(ld, pk, "expected a string, got %s", type_name(val));
                }
                continue;
            }
            if (info->has_body) {
                continue; /* body members: any JSON, as an SDK user could pass */
            }
            return fail(ld, pk, "unknown parameter '%s' for %s (takes %s%s%s)", key, info->name,
                        info->label_member != NULL ? info->label_member : "",
                        info->label_member != NULL && info->has_query ? ", " : "",
                        info->has_query ? "Ascending, PageToken" : "");
        }
    }
    json_t *headers = json_object_get(step_obj, "headers");
    if (headers != NULL) {
        path_key(p, sizeof(p), path, "headers");
        REF_TRY(parse_header_list(ld, headers, p));
        out->headers = headers;
    }
    return REF_OK;
}

static char *join_path(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + 1 + strlen(rel) + 1;
    char *out = malloc(n);
    if (out != NULL) {
        harness_textf(out, n, "%s/%s", dir, rel);
    }
    return out;
}

static enum ref_status
read_file(const char *path, size_t max, uint8_t **data, size_t *len, bool *too_large)
{
    *too_large = false;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return REF_E_NOT_FOUND;
    }
    size_t cap = 4096;
    size_t used = 0;
    uint8_t *buf = malloc(cap + 1);
    enum ref_status rc = REF_OK;
    while (buf != NULL) {
        if (used == cap) {
            if (cap > max) {
                *too_large = true;
                rc = REF_E_TOO_LARGE;
                break;
            }
            uint8_t *bigger = realloc(buf, cap * 2 + 1);
            if (bigger == NULL) {
                rc = REF_E_NOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        if (n == 0) {
            break;
        }
        used += n;
    }
    if (buf == NULL) {
        rc = REF_E_NOMEM;
    } else if (rc == REF_OK && ferror(f)) {
        rc = REF_E_NOT_FOUND;
    } else if (rc == REF_OK && used > max) {
        *too_large = true;
        rc = REF_E_TOO_LARGE;
    }
    fclose(f);
    if (rc != REF_OK) {
        free(buf);
        return rc;
    }
    buf[used] = 0;
    *data = buf;
    *len = used;
    return REF_OK;
}

static enum ref_status keep_verbatim(struct loader *ld, uint8_t *data)
{
    struct harness_scenario *sc = ld->sc;
    uint8_t **more = realloc(sc->verbatim, (sc->num_verbatim + 1) * sizeof(*more));
    if (more == NULL) {
        free(data);
        return REF_E_NOMEM;
    }
    sc->verbatim = more;
    sc->verbatim[sc->num_verbatim++] = data;
    return REF_OK;
}

static enum ref_status
parse_raw(struct loader *ld, json_t *v, const char *path, struct harness_request_spec *out)
{
    if (!json_is_object(v)) {
        return fail(ld, path, "expected a raw request object, got %s", type_name(v));
    }
    static const char *const keys[] = {"method", "target",         "version", "headers", "body",
                                       "host",   "content_length", "file",    "bytes",   NULL};
    REF_TRY(check_keys(ld, v, path, keys, "a raw request"));
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    json_t *file = json_object_get(v, "file");
    json_t *bytes = json_object_get(v, "bytes");
    if (file != NULL || bytes != NULL) {
        if (json_object_size(v) != 1) {
            return fail(ld, path, "'%s' stands alone: no other raw keys with it",
                        file != NULL ? "file" : "bytes");
        }
        out->is_verbatim = true;
        if (bytes != NULL) {
            path_key(p, sizeof(p), path, "bytes");
            if (!json_is_string(bytes) || json_string_length(bytes) == 0) {
                return fail(ld, p, "expected a non-empty string");
            }
            out->bytes = (const uint8_t *)json_string_value(bytes);
            out->bytes_len = json_string_length(bytes);
            return REF_OK;
        }
        path_key(p, sizeof(p), path, "file");
        if (!json_is_string(file) || json_string_length(file) == 0) {
            return fail(ld, p, "expected a path relative to the scenario file");
        }
        const char *rel = json_string_value(file);
        if (rel[0] == '/') {
            return fail(ld, p, "'%s': give a path relative to the scenario file", rel);
        }
        if (ld->sc->base_dir == NULL) {
            return fail(ld, p, "raw.file needs a scenario loaded from a file");
        }
        char *full = join_path(ld->sc->base_dir, rel);
        if (full == NULL) {
            return REF_E_NOMEM;
        }
        uint8_t *data = NULL;
        size_t len = 0;
        bool too_large = false;
        enum ref_status rc = read_file(full, REF_MAX_REQUEST_BYTES, &data, &len, &too_large);
        free(full);
        if (rc == REF_E_NOMEM) {
            return rc;
        }
        if (rc != REF_OK) {
            return fail(ld, p,
                        too_large ? "'%s' is larger than a request may be" : "cannot read '%s'",
                        rel);
        }
        REF_TRY(keep_verbatim(ld, data));
        out->bytes = data;
        out->bytes_len = len;
        return REF_OK;
    }
    REF_TRY(get_string(ld, v, "method", path, true, &out->method));
    REF_TRY(get_string(ld, v, "target", path, true, &out->target));
    out->version = "HTTP/1.1";
    REF_TRY(get_string(ld, v, "version", path, false, &out->version));
    json_t *headers = json_object_get(v, "headers");
    if (headers != NULL) {
        path_key(p, sizeof(p), path, "headers");
        REF_TRY(parse_header_list(ld, headers, p));
        out->headers = headers;
    }
    json_t *body = json_object_get(v, "body");
    if (body != NULL) {
        path_key(p, sizeof(p), path, "body");
        if (!json_is_string(body)) {
            return fail(ld, p, "expected the body written out as a string, got %s",
                        type_name(body));
        }
        out->body = json_string_value(body);
        out->body_len = json_string_length(body);
    }
    out->add_host = true;
    REF_TRY(get_bool(ld, v, "host", path, &out->add_host));
    out->auto_length = true;
    const char *cl = NULL;
    REF_TRY(get_string(ld, v, "content_length", path, false, &cl));
    if (cl != NULL) {
        if (strcmp(cl, "none") == 0) {
            out->auto_length = false;
        } else if (strcmp(cl, "auto") != 0) {
            path_key(p, sizeof(p), path, "content_length");
            return fail(ld, p, "expected \"auto\" or \"none\", got '%s'", cl);
        }
    }
    return REF_OK;
}

/* --- Steps ------------------------------------------------------------------------- */

enum step_context {
    CTX_TOP = 0,
    CTX_CONCURRENT,
};

static const char *const s_kind_keys[] = {
    "call", "raw", "wait", "concurrent", "seed_pipeline", "seed_job", "clock", "fail_job", NULL};

static enum ref_status
parse_clock(struct loader *ld, json_t *v, const char *path, struct harness_step *step)
{
    if (!json_is_object(v)) {
        return fail(ld, path, "expected an object, got %s", type_name(v));
    }
    static const char *const keys[] = {"set", "advance_ms", "advance_s", "to_next_event", NULL};
    REF_TRY(check_keys(ld, v, path, keys, "a clock step"));
    if (json_object_size(v) != 1) {
        return fail(ld, path, "give exactly one of set, advance_ms, advance_s, to_next_event");
    }
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    const char *set = NULL;
    REF_TRY(get_string(ld, v, "set", path, false, &set));
    if (set != NULL) {
        int64_t ms = 0;
        path_key(p, sizeof(p), path, "set");
        /* Either YYYYMMDDTHHMMSSZ or YYYY-MM-DDTHH:MM:SSZ, converted by days-from-civil. */
        int f[6] = {0};
        static const int basic_pos[6][2] = {{0, 4}, {4, 2}, {6, 2}, {9, 2}, {11, 2}, {13, 2}};
        static const int ext_pos[6][2] = {{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}};
        size_t len = strlen(set);
        const int(*pos)[2] = NULL;
        if (len == 16 && set[8] == 'T' && set[15] == 'Z') {
            pos = basic_pos;
        } else if (len == 20 && set[4] == '-' && set[7] == '-' && set[10] == 'T' &&
                   set[13] == ':' && set[16] == ':' && set[19] == 'Z') {
            pos = ext_pos;
        }
        bool ok = pos != NULL;
        for (int i = 0; ok && i < 6; i++) {
            for (int k = 0; k < pos[i][1]; k++) {
                char c = set[pos[i][0] + k];
                if (c < '0' || c > '9') {
                    ok = false;
                    break;
                }
                f[i] = f[i] * 10 + (c - '0');
            }
        }
        ok = ok && f[1] >= 1 && f[1] <= 12 && f[2] >= 1 && f[2] <= 31 && f[3] < 24 && f[4] < 60 &&
             f[5] < 61;
        if (!ok) {
            return fail(ld, p, "'%s' is not YYYYMMDDTHHMMSSZ or YYYY-MM-DDTHH:MM:SSZ", set);
        }
        int64_t y = f[0] - (f[1] <= 2 ? 1 : 0);
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t mp = (f[1] + 9) % 12;
        int64_t doy = (153 * mp + 2) / 5 + f[2] - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        int64_t days = era * 146097 + doe - 719468;
        ms = ((days * 86400) + f[3] * 3600 + f[4] * 60 + f[5]) * 1000;
        step->clock = HARNESS_CLOCK_SET;
        step->clock_ms = ms;
        return REF_OK;
    }
    bool present = false;
    int64_t amount = 0;
    REF_TRY(get_int(ld, v, "advance_ms", path, 0, INT64_C(366) * 86400 * 1000, &present, &amount));
    if (present) {
        step->clock = HARNESS_CLOCK_ADVANCE;
        step->clock_ms = amount;
        return REF_OK;
    }
    REF_TRY(get_int(ld, v, "advance_s", path, 0, INT64_C(366) * 86400, &present, &amount));
    if (present) {
        step->clock = HARNESS_CLOCK_ADVANCE;
        step->clock_ms = amount * 1000;
        return REF_OK;
    }
    bool next = false;
    REF_TRY(get_bool(ld, v, "to_next_event", path, &next));
    if (!next) {
        path_key(p, sizeof(p), path, "to_next_event");
        return fail(ld, p, "expected true");
    }
    step->clock = HARNESS_CLOCK_TO_NEXT_EVENT;
    return REF_OK;
}

static bool has_var(const char *s)
{
    return strstr(s, "${") != NULL;
}

static enum ref_status parse_hook(
    struct loader *ld, json_t *obj, const char *kind, const char *path, struct harness_step *step)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(p, sizeof(p), path, kind);
    json_t *v = json_object_get(obj, kind);
    ld->sc->uses_hooks = true;
    if (strcmp(kind, "fail_job") == 0) {
        step->kind = HARNESS_STEP_FAIL_JOB;
        if (!json_is_string(v) || json_string_length(v) == 0) {
            return fail(ld, p, "expected the job Id as a string");
        }
        step->hook_id = json_string_value(v);
        return REF_OK;
    }
    if (strcmp(kind, "clock") == 0) {
        step->kind = HARNESS_STEP_CLOCK;
        return parse_clock(ld, v, p, step);
    }
    if (!json_is_object(v)) {
        return fail(ld, p, "expected an object, got %s", type_name(v));
    }
    if (strcmp(kind, "seed_pipeline") == 0) {
        static const char *const keys[] = {"id", "name", "status", NULL};
        step->kind = HARNESS_STEP_SEED_PIPELINE;
        REF_TRY(check_keys(ld, v, p, keys, "seed_pipeline"));
        REF_TRY(get_string(ld, v, "id", p, true, &step->hook_id));
        step->hook_name = "seeded";
        REF_TRY(get_string(ld, v, "name", p, false, &step->hook_name));
        step->hook_status = "Active";
        REF_TRY(get_string(ld, v, "status", p, false, &step->hook_status));
        if (!has_var(step->hook_status) && strcmp(step->hook_status, "Active") != 0 &&
            strcmp(step->hook_status, "Paused") != 0) {
            char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(ps, sizeof(ps), p, "status");
            return fail(ld, ps, "a pipeline is Active or Paused, not '%s'", step->hook_status);
        }
        return REF_OK;
    }
    static const char *const keys[] = {"id", "pipeline", "status", NULL};
    static const char *const statuses[] = {"Submitted", "Progressing", "Complete",
                                           "Canceled",  "Error",       NULL};
    step->kind = HARNESS_STEP_SEED_JOB;
    REF_TRY(check_keys(ld, v, p, keys, "seed_job"));
    REF_TRY(get_string(ld, v, "id", p, true, &step->hook_id));
    REF_TRY(get_string(ld, v, "pipeline", p, true, &step->hook_pipeline));
    step->hook_status = "Submitted";
    REF_TRY(get_string(ld, v, "status", p, false, &step->hook_status));
    if (!has_var(step->hook_status) && !in_list(step->hook_status, statuses)) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(ps, sizeof(ps), p, "status");
        return fail(ld, ps,
                    "a job is Submitted, Progressing, Complete, Canceled or Error, not '%s'",
                    step->hook_status);
    }
    return REF_OK;
}

static enum ref_status parse_step(struct loader *ld,
                                  json_t *v,
                                  const char *path,
                                  size_t index,
                                  enum step_context ctx,
                                  const struct defaults *parent,
                                  struct harness_step *step);

static enum ref_status parse_concurrent(struct loader *ld,
                                        json_t *obj,
                                        const char *path,
                                        const struct defaults *def,
                                        struct harness_step *step)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(p, sizeof(p), path, "concurrent");
    json_t *subs = json_object_get(obj, "concurrent");
    if (!json_is_array(subs) || json_array_size(subs) < 2) {
        return fail(ld, p, "expected an array of 2 to %d sub-steps", HARNESS_MAX_CONCURRENT);
    }
    if (json_array_size(subs) > HARNESS_MAX_CONCURRENT) {
        return fail(ld, p, "more than %d sub-steps", HARNESS_MAX_CONCURRENT);
    }
    step->num_subs = json_array_size(subs);
    step->subs = calloc(step->num_subs, sizeof(*step->subs));
    if (step->subs == NULL) {
        return REF_E_NOMEM;
    }
    for (size_t i = 0; i < step->num_subs; i++) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_index(ps, sizeof(ps), p, i);
        REF_TRY(
            parse_step(ld, json_array_get(subs, i), ps, i, CTX_CONCURRENT, def, &step->subs[i]));
        for (size_t k = 0; k < i; k++) {
            if (strcmp(step->subs[k].name, step->subs[i].name) == 0) {
                return fail(ld, ps, "sub-step name '%s' used twice", step->subs[i].name);
            }
        }
    }
    json_t *outcomes = json_object_get(obj, "outcomes");
    path_key(p, sizeof(p), path, "outcomes");
    if (!json_is_array(outcomes) || json_array_size(outcomes) == 0) {
        return fail(ld, outcomes != NULL ? p : path,
                    "a concurrent step needs \"outcomes\": a non-empty array of allowed "
                    "outcomes");
    }
    if (json_array_size(outcomes) > HARNESS_MAX_EXPECT_GROUPS) {
        return fail(ld, p, "more than %d outcomes", HARNESS_MAX_EXPECT_GROUPS);
    }
    step->num_outcomes = json_array_size(outcomes);
    step->outcomes = calloc(step->num_outcomes, sizeof(*step->outcomes));
    if (step->outcomes == NULL) {
        return REF_E_NOMEM;
    }
    for (size_t i = 0; i < step->num_outcomes; i++) {
        char po[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_index(po, sizeof(po), p, i);
        json_t *o = json_array_get(outcomes, i);
        if (!json_is_object(o) || json_object_size(o) == 0) {
            return fail(ld, po, "expected an object of sub-step name to expectation");
        }
        const char *key;
        json_t *e;
        json_object_foreach (o, key, e) {
            char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(pk, sizeof(pk), po, key);
            if (strcmp(key, "set") == 0) {
                if (!json_is_object(e)) {
                    return fail(ld, pk, "expected an object of variable name to string");
                }
                const char *vn;
                json_t *vv;
                json_object_foreach (e, vn, vv) {
                    char pv[HARNESS_MAX_JSON_PATH_BYTES * 2];
                    path_key(pv, sizeof(pv), pk, vn);
                    if (!is_var_name(vn, strlen(vn)) || !json_is_string(vv)) {
                        return fail(ld, pv, "expected a variable name and a string value");
                    }
                }
                step->outcomes[i].set = e;
                continue;
            }
            size_t k = 0;
            while (k < step->num_subs && strcmp(step->subs[k].name, key) != 0) {
                k++;
            }
            if (k == step->num_subs) {
                return fail(ld, pk, "no sub-step is named '%s'", key);
            }
            REF_TRY(parse_expect(ld, e, pk, def, false, &step->outcomes[i].expect[k]));
            step->outcomes[i].has_expect[k] = true;
        }
    }
    return REF_OK;
}

static enum ref_status parse_wait(struct loader *ld,
                                  json_t *obj,
                                  const char *path,
                                  const struct defaults *def,
                                  struct harness_step *step)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(p, sizeof(p), path, "wait");
    json_t *w = json_object_get(obj, "wait");
    if (!json_is_object(w)) {
        return fail(ld, p, "expected an object, got %s", type_name(w));
    }
    static const char *const keys[] = {"call",  "params",    "headers",     "raw",
                                       "until", "timeout_s", "interval_ms", NULL};
    REF_TRY(check_keys(ld, w, p, keys, "a wait"));
    const char *op = NULL;
    REF_TRY(get_string(ld, w, "call", p, false, &op));
    json_t *raw = json_object_get(w, "raw");
    if ((op == NULL) == (raw == NULL)) {
        return fail(ld, p, "a wait polls either a \"call\" or a \"raw\" request");
    }
    if (op != NULL) {
        REF_TRY(parse_call(ld, w, p, op, &step->request));
    } else {
        char pr[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(pr, sizeof(pr), p, "raw");
        if (json_object_get(w, "params") != NULL) {
            path_key(pr, sizeof(pr), p, "params");
            return fail(ld, pr, "'params' goes with \"call\", not \"raw\"");
        }
        REF_TRY(parse_raw(ld, raw, pr, &step->request));
        if (step->request.is_verbatim) {
            return fail(ld, pr, "a wait cannot poll a verbatim request");
        }
    }
    json_t *until = json_object_get(w, "until");
    char pu[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(pu, sizeof(pu), p, "until");
    if (until == NULL) {
        return fail(ld, p, "a wait needs \"until\"");
    }
    REF_TRY(parse_expect(ld, until, pu, def, true, &step->until));
    int64_t timeout_s = 60;
    REF_TRY(get_int(ld, w, "timeout_s", p, 1, 86400, NULL, &timeout_s));
    step->timeout_ms = timeout_s * 1000;
    step->interval_ms = 1000;
    REF_TRY(get_int(ld, w, "interval_ms", p, 1, 600000, NULL, &step->interval_ms));
    return REF_OK;
}

static enum ref_status parse_step(struct loader *ld,
                                  json_t *v,
                                  const char *path,
                                  size_t index,
                                  enum step_context ctx,
                                  const struct defaults *parent,
                                  struct harness_step *step)
{
    memset(step, 0, sizeof(*step));
    step->index = index;
    harness_textf(step->json_path, sizeof(step->json_path), "%s", path);
    if (!json_is_object(v)) {
        return fail(ld, path, "expected a step object, got %s", type_name(v));
    }
    const char *kind = NULL;
    size_t kinds = 0;
    for (size_t i = 0; s_kind_keys[i] != NULL; i++) {
        if (json_object_get(v, s_kind_keys[i]) != NULL) {
            kind = s_kind_keys[i];
            kinds++;
        }
    }
    if (kinds != 1) {
        /* A typo in the kind key is the likeliest cause: report unknown keys first. */
        static const char *const all[] = {
            "name",        "note",      "sign",          "expect",   "capture", "source",
            "level",       "call",      "params",        "headers",  "raw",     "wait",
            "concurrent",  "outcomes",  "seed_pipeline", "seed_job", "clock",   "fail_job",
            "inproc_only", "all_pages", "contract",      NULL};
        REF_TRY(check_keys(ld, v, path, all, "a step"));
        return fail(ld, path,
                    kinds == 0 ? "a step needs one of call, raw, wait, concurrent, "
                                 "seed_pipeline, seed_job, clock, fail_job"
                               : "a step has exactly one of call, raw, wait, concurrent, "
                                 "seed_pipeline, seed_job, clock, fail_job");
    }
    bool is_request = strcmp(kind, "call") == 0 || strcmp(kind, "raw") == 0;
    bool is_wait = strcmp(kind, "wait") == 0;
    bool is_conc = strcmp(kind, "concurrent") == 0;
    bool is_clock = strcmp(kind, "clock") == 0;
    if (ctx == CTX_CONCURRENT && !is_request && !is_clock) {
        char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(pk, sizeof(pk), path, kind);
        return fail(ld, pk, "a concurrent sub-step is a call, a raw request or a clock step");
    }
    /* Keys each kind allows. */
    const char *allowed[16];
    size_t na = 0;
    allowed[na++] = "name";
    allowed[na++] = "note";
    allowed[na++] = kind;
    if (is_request) {
        allowed[na++] = "sign";
        if (ctx == CTX_TOP) {
            allowed[na++] = "expect";
            allowed[na++] = "capture";
            allowed[na++] = "source";
            allowed[na++] = "contract";
            allowed[na++] = "level";
            allowed[na++] = "inproc_only";
        }
        if (strcmp(kind, "call") == 0) {
            allowed[na++] = "params";
            allowed[na++] = "headers";
            if (ctx == CTX_TOP) {
                allowed[na++] = "all_pages";
            }
        }
    } else if (is_wait) {
        allowed[na++] = "sign";
        allowed[na++] = "capture";
        allowed[na++] = "source";
        allowed[na++] = "contract";
        allowed[na++] = "level";
    } else if (is_conc) {
        allowed[na++] = "outcomes";
        allowed[na++] = "source";
        allowed[na++] = "contract";
        allowed[na++] = "level";
    }
    allowed[na] = NULL;
    char what[64];
    harness_textf(what, sizeof(what), "a %s step", kind);
    REF_TRY(check_keys(ld, v, path, allowed, what));

    const char *name = NULL;
    REF_TRY(get_string(ld, v, "name", path, false, &name));
    if (name != NULL) {
        if (!is_step_name(name)) {
            char pn[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(pn, sizeof(pn), path, "name");
            return fail(ld, pn, "'%s' is not a step name (1 to 48 of A-Z a-z 0-9 - _ .)", name);
        }
        step->name = name;
    } else {
        harness_textf(step->name_buf, sizeof(step->name_buf), "%s-%zu",
                      ctx == CTX_TOP ? "step" : "sub", index + 1);
        step->name = step->name_buf;
    }
    REF_TRY(get_string(ld, v, "note", path, false, &step->note));
    REF_TRY(get_bool(ld, v, "inproc_only", path, &step->inproc_only));
    REF_TRY(get_bool(ld, v, "all_pages", path, &step->all_pages));

    struct defaults def = *parent;
    REF_TRY(parse_level(ld, v, path, &def.level));
    REF_TRY(parse_source(ld, v, path, &def.source));
    REF_TRY(parse_contract(ld, v, path));
    step->level = def.level != HARNESS_LEVEL_NONE ? def.level : HARNESS_LEVEL_MUST;
    step->source = def.source;

    /* Variables used here must be defined before this step. */
    REF_TRY(check_refs(ld, v, path));

    char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(pk, sizeof(pk), path, kind);
    step->sign.principal = HARNESS_PRINCIPAL_MAIN;
    if (strcmp(kind, "call") == 0) {
        step->kind = HARNESS_STEP_CALL;
        json_t *c = json_object_get(v, "call");
        if (!json_is_string(c)) {
            return fail(ld, pk, "expected an operation name, got %s", type_name(c));
        }
        REF_TRY(parse_call(ld, v, path, json_string_value(c), &step->request));
    } else if (strcmp(kind, "raw") == 0) {
        step->kind = HARNESS_STEP_RAW;
        REF_TRY(parse_raw(ld, json_object_get(v, "raw"), pk, &step->request));
    } else if (is_wait) {
        step->kind = HARNESS_STEP_WAIT;
        REF_TRY(parse_wait(ld, v, path, &def, step));
        if (step->source == HARNESS_SOURCE_NONE) {
            return fail(ld, path,
                        "no provenance for the wait: give \"source\" on the step or the "
                        "scenario");
        }
    } else if (is_conc) {
        step->kind = HARNESS_STEP_CONCURRENT;
        REF_TRY(parse_concurrent(ld, v, path, &def, step));
    } else {
        REF_TRY(parse_hook(ld, v, kind, path, step));
    }

    json_t *sign = json_object_get(v, "sign");
    if (step->request.is_verbatim) {
        step->sign.principal = HARNESS_PRINCIPAL_NONE;
    }
    if (sign != NULL) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(ps, sizeof(ps), path, "sign");
        REF_TRY(parse_sign(ld, sign, ps, &step->sign));
        if (step->request.is_verbatim && step->sign.principal != HARNESS_PRINCIPAL_NONE) {
            return fail(ld, ps,
                        "a verbatim request (raw file or bytes) is sent as it is: "
                        "sign must be \"none\"");
        }
    }
    json_t *expect = json_object_get(v, "expect");
    if (expect != NULL) {
        char pe[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(pe, sizeof(pe), path, "expect");
        REF_TRY(parse_expects(ld, expect, pe, &def, step));
    }
    json_t *capture = json_object_get(v, "capture");
    if (capture != NULL) {
        char pc[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(pc, sizeof(pc), path, "capture");
        REF_TRY(parse_capture(ld, capture, pc));
        if (step->inproc_only) {
            return fail(ld, pc,
                        "an inproc_only step captures nothing: elsewhere it is skipped and later "
                        "steps would miss the value");
        }
        step->capture = capture;
        if (ctx == CTX_TOP) {
            const char *vn;
            json_t *unused;
            json_object_foreach (capture, vn, unused) {
                REF_TRY(define_var(ld, vn, pc));
            }
        }
    }
    if (is_conc) {
        for (size_t i = 0; i < step->num_outcomes; i++) {
            if (step->outcomes[i].set != NULL) {
                const char *vn;
                json_t *unused;
                json_object_foreach (step->outcomes[i].set, vn, unused) {
                    REF_TRY(define_var(ld, vn, path));
                }
            }
        }
    }
    return REF_OK;
}

/* --- The scenario ------------------------------------------------------------------ */

static bool is_scenario_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 80 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

static void free_step(struct harness_step *step)
{
    for (size_t i = 0; i < step->num_subs; i++) {
        free_step(&step->subs[i]);
    }
    free(step->subs);
    free(step->outcomes);
    free(step->expects);
}

void harness_scenario_free(struct harness_scenario *sc)
{
    if (sc == NULL) {
        return;
    }
    for (size_t i = 0; i < sc->num_steps; i++) {
        free_step(&sc->steps[i]);
    }
    free(sc->steps);
    for (size_t i = 0; i < sc->num_verbatim; i++) {
        free(sc->verbatim[i]);
    }
    free(sc->verbatim);
    json_decref(sc->root);
    free(sc->path);
    free(sc->display_path);
    free(sc->area);
    free(sc->base_dir);
    free(sc);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *out = malloc(n);
    if (out != NULL) {
        memcpy(out, s, n);
    }
    return out;
}

static enum ref_status parse_scenario(struct loader *ld, const char *stem)
{
    struct harness_scenario *sc = ld->sc;
    json_t *root = sc->root;
    if (!json_is_object(root)) {
        return fail(ld, "", "a scenario file holds one JSON object, not %s", type_name(root));
    }
    /* The name first, so every later error can say which scenario it is in. */
    const char *name = NULL;
    json_t *nv = json_object_get(root, "name");
    if (nv != NULL && json_is_string(nv) && is_scenario_name(json_string_value(nv))) {
        name = json_string_value(nv);
        sc->name = name;
    }
    static const char *const keys[] = {"name", "description", "tags",     "source", "inproc_only",
                                       "vars", "steps",       "contract", "pipelines", NULL};
    REF_TRY(check_keys(ld, root, "", keys, "a scenario"));
    REF_TRY(get_string(ld, root, "name", "", true, &name));
    if (!is_scenario_name(name)) {
        return fail(ld, "name", "'%s' is not a scenario name ([a-z0-9][a-z0-9-]*, at most 80)",
                    name);
    }
    if (stem != NULL && strcmp(stem, name) != 0) {
        return fail(ld, "name", "the name '%s' differs from the file name '%s.json'", name, stem);
    }
    REF_TRY(get_string(ld, root, "description", "", true, &sc->description));
    if (sc->description[0] == '\0') {
        return fail(ld, "description", "the description is empty");
    }
    sc->tags[sc->num_tags++] = sc->area;
    json_t *tags = json_object_get(root, "tags");
    if (tags != NULL) {
        if (!json_is_array(tags)) {
            return fail(ld, "tags", "expected an array of strings, got %s", type_name(tags));
        }
        if (json_array_size(tags) > HARNESS_MAX_TAGS) {
            return fail(ld, "tags", "more than %d tags", HARNESS_MAX_TAGS);
        }
        size_t i;
        json_t *t;
        json_array_foreach (tags, i, t) {
            char p[32];
            path_index(p, sizeof(p), "tags", i);
            if (!json_is_string(t) || json_string_length(t) == 0) {
                return fail(ld, p, "expected a non-empty string");
            }
            sc->tags[sc->num_tags++] = json_string_value(t);
        }
    }
    struct defaults def = {HARNESS_LEVEL_MUST, HARNESS_SOURCE_NONE};
    REF_TRY(parse_source(ld, root, "", &def.source));
    REF_TRY(parse_contract(ld, root, ""));
    REF_TRY(get_bool(ld, root, "inproc_only", "", &sc->inproc_only));
    int64_t pipelines = 0;
    REF_TRY(
        get_int(ld, root, "pipelines", "", 1, HARNESS_MAX_SCENARIO_PIPELINES, NULL, &pipelines));
    sc->pipelines = (size_t)pipelines;
    json_t *vars = json_object_get(root, "vars");
    if (vars != NULL) {
        if (!json_is_object(vars)) {
            return fail(ld, "vars", "expected an object of name to string, got %s",
                        type_name(vars));
        }
        const char *vn;
        json_t *vv;
        json_object_foreach (vars, vn, vv) {
            char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(p, sizeof(p), "vars", vn);
            if (!is_var_name(vn, strlen(vn))) {
                return fail(ld, p, "'%s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", vn);
            }
            if (!json_is_string(vv)) {
                return fail(ld, p, "expected a string, got %s", type_name(vv));
            }
            if (json_string_length(vv) > HARNESS_MAX_VAR_BYTES) {
                return fail(ld, p, "longer than %d bytes", HARNESS_MAX_VAR_BYTES);
            }
            REF_TRY(define_var(ld, vn, p));
        }
        sc->vars = vars;
    }
    json_t *steps = json_object_get(root, "steps");
    if (steps == NULL) {
        return fail(ld, "", "missing required key 'steps'");
    }
    if (!json_is_array(steps) || json_array_size(steps) == 0) {
        return fail(ld, "steps", "expected a non-empty array of steps");
    }
    if (json_array_size(steps) > HARNESS_MAX_STEPS) {
        return fail(ld, "steps", "%zu steps: at most %d", json_array_size(steps),
                    HARNESS_MAX_STEPS);
    }
    sc->num_steps = json_array_size(steps);
    sc->steps = calloc(sc->num_steps, sizeof(*sc->steps));
    if (sc->steps == NULL) {
        sc->num_steps = 0;
        return REF_E_NOMEM;
    }
    for (size_t i = 0; i < sc->num_steps; i++) {
        char p[32];
        path_index(p, sizeof(p), "steps", i);
        REF_TRY(parse_step(ld, json_array_get(steps, i), p, i, CTX_TOP, &def, &sc->steps[i]));
        for (size_t k = 0; k < i; k++) {
            if (strcmp(sc->steps[k].name, sc->steps[i].name) == 0) {
                return fail(ld, p, "step name '%s' used twice", sc->steps[i].name);
            }
        }
    }
    return REF_OK;
}

enum ref_status harness_scenario_load_buffer(const uint8_t *data,
                                             size_t len,
                                             const char *display_path,
                                             const char *area,
                                             const char *base_dir,
                                             struct harness_scenario **out,
                                             struct harness_load_error *err)
{
    struct harness_load_error scratch;
    if (err == NULL) {
        err = &scratch;
    }
    memset(err, 0, sizeof(*err));
    set_file(err, display_path);
    *out = NULL;
    if (len > HARNESS_MAX_SCENARIO_FILE_BYTES) {
        harness_textf(err->message, sizeof(err->message),
                      "the file has %zu bytes: a scenario file has at most %d", len,
                      HARNESS_MAX_SCENARIO_FILE_BYTES);
        return REF_E_TOO_LARGE;
    }
    struct harness_scenario *sc = calloc(1, sizeof(*sc));
    struct loader *ld = calloc(1, sizeof(*ld));
    if (sc == NULL || ld == NULL) {
        free(sc);
        free(ld);
        return REF_E_NOMEM;
    }
    ld->text = data;
    ld->len = len;
    ld->sc = sc;
    ld->err = err;
    enum ref_status rc = REF_E_NOMEM;
    sc->path = dup_str(display_path != NULL ? display_path : "(scenario)");
    sc->area = dup_str(area != NULL ? area : "");
    sc->base_dir = base_dir != NULL ? dup_str(base_dir) : NULL;
    if (sc->path == NULL || sc->area == NULL || (base_dir != NULL && sc->base_dir == NULL)) {
        goto out;
    }
    if (sc->area[0] != '\0') {
        /* "<area>/<file name>" for reports, whatever path the caller used. */
        const char *base = strrchr(sc->path, '/');
        base = base != NULL ? base + 1 : sc->path;
        size_t n = strlen(sc->area) + 1 + strlen(base) + 1;
        sc->display_path = malloc(n);
        if (sc->display_path == NULL) {
            goto out;
        }
        harness_textf(sc->display_path, n, "%s/%s", sc->area, base);
    } else {
        sc->display_path = dup_str(sc->path);
        if (sc->display_path == NULL) {
            goto out;
        }
    }
    /* Zeroed: out of memory before it starts reading, jansson leaves jerr unfilled. */
    json_error_t jerr = {0};
    sc->root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (sc->root == NULL && len > 0 &&
        (json_error_code(&jerr) == json_error_out_of_memory || jerr.text[0] == '\0')) {
        harness_textf(err->message, sizeof(err->message), "out of memory reading the JSON");
        rc = REF_E_NOMEM;
        goto out;
    }
    if (sc->root == NULL) {
        /* jansson reports -1 for "no position" (an empty or NULL buffer): that is no line. */
        err->line = jerr.line > 0 ? jerr.line : 0;
        err->column = jerr.line > 0 && jerr.column > 0 ? jerr.column : 0;
        if (len == 0) {
            harness_textf(err->message, sizeof(err->message), "invalid JSON: the file is empty");
        } else {
            harness_textf(err->message, sizeof(err->message), "invalid JSON: %s", jerr.text);
        }
        rc = REF_E_MALFORMED;
        goto out;
    }
    if (json_depth(sc->root) > HARNESS_MAX_JSON_DEPTH) {
        err->line = 0;
        harness_textf(err->message, sizeof(err->message), "JSON nested deeper than %d levels",
                      HARNESS_MAX_JSON_DEPTH);
        rc = REF_E_TOO_LARGE;
        goto out;
    }
    /* The file's stem, which the name must repeat. */
    char stem[128] = "";
    const char *stem_src = NULL;
    if (display_path != NULL) {
        const char *base = strrchr(display_path, '/');
        base = base != NULL ? base + 1 : display_path;
        size_t bl = strlen(base);
        if (bl > 5 && bl - 5 < sizeof(stem) && strcmp(base + bl - 5, ".json") == 0) {
            memcpy(stem, base, bl - 5);
            stem[bl - 5] = '\0';
            stem_src = stem;
        }
    }
    rc = parse_scenario(ld, stem_src);
out:
    free(ld);
    if (rc != REF_OK) {
        harness_scenario_free(sc);
        return rc;
    }
    *out = sc;
    return REF_OK;
}

enum ref_status harness_scenario_load_file(const char *path,
                                           const char *area,
                                           struct harness_scenario **out,
                                           struct harness_load_error *err)
{
    struct harness_load_error scratch;
    if (err == NULL) {
        err = &scratch;
    }
    memset(err, 0, sizeof(*err));
    set_file(err, path);
    *out = NULL;
    /* The folder holding the file: raw.file is relative to it, and it is the area. */
    char dir[1024];
    harness_textf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
    } else {
        harness_textf(dir, sizeof(dir), ".");
    }
    char area_buf[128];
    if (area == NULL) {
        const char *a = strrchr(dir, '/');
        a = a != NULL ? a + 1 : dir;
        harness_textf(area_buf, sizeof(area_buf), "%s", strcmp(a, ".") == 0 ? "" : a);
        area = area_buf;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    bool too_large = false;
    enum ref_status rc = read_file(path, HARNESS_MAX_SCENARIO_FILE_BYTES, &data, &len, &too_large);
    if (rc != REF_OK) {
        if (too_large) {
            harness_textf(err->message, sizeof(err->message),
                          "a scenario file has at most %d bytes", HARNESS_MAX_SCENARIO_FILE_BYTES);
        } else if (rc != REF_E_NOMEM) {
            harness_textf(err->message, sizeof(err->message), "cannot read the file: %s",
                          strerror(errno));
        }
        return rc;
    }
    rc = harness_scenario_load_buffer(data, len, path, area, dir, out, err);
    free(data);
    return rc;
}

bool harness_scenario_has_tag(const struct harness_scenario *sc, const char *tag)
{
    for (size_t i = 0; i < sc->num_tags; i++) {
        if (strcmp(sc->tags[i], tag) == 0) {
            return true;
        }
    }
    return false;
}

/* --- Suites ------------------------------------------------------------------------ */

static int only_dirs(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int only_json(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

static void free_names(struct dirent **names, int n)
{
    for (int i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

static enum ref_status suite_add(struct harness_suite *suite, struct harness_scenario *sc)
{
    struct harness_scenario **more = realloc(suite->items, (suite->count + 1) * sizeof(*more));
    if (more == NULL) {
        harness_scenario_free(sc);
        return REF_E_NOMEM;
    }
    suite->items = more;
    suite->items[suite->count++] = sc;
    return REF_OK;
}

enum ref_status
harness_suite_load_dir(const char *dir, struct harness_suite *suite, struct harness_load_error *err)
{
    memset(suite, 0, sizeof(*suite));
    memset(err, 0, sizeof(*err));
    set_file(err, dir);
    struct dirent **areas = NULL;
    int num_areas = scandir(dir, &areas, only_dirs, alphasort);
    if (num_areas < 0) {
        harness_textf(err->message, sizeof(err->message), "cannot read the scenario folder: %s",
                      strerror(errno));
        return REF_E_NOT_FOUND;
    }
    enum ref_status rc = REF_OK;
    for (int a = 0; a < num_areas && rc == REF_OK; a++) {
        char area_dir[1024];
        harness_textf(area_dir, sizeof(area_dir), "%s/%s", dir, areas[a]->d_name);
        struct stat st;
        if (stat(area_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            continue;
        }
        struct dirent **files = NULL;
        int num_files = scandir(area_dir, &files, only_json, alphasort);
        if (num_files < 0) {
            continue;
        }
        for (int f = 0; f < num_files && rc == REF_OK; f++) {
            char file[1536];
            harness_textf(file, sizeof(file), "%s/%s", area_dir, files[f]->d_name);
            struct harness_scenario *sc = NULL;
            rc = harness_scenario_load_file(file, areas[a]->d_name, &sc, err);
            if (rc == REF_OK) {
                for (size_t k = 0; k < suite->count; k++) {
                    if (strcmp(suite->items[k]->name, sc->name) == 0) {
                        set_file(err, file);
                        harness_textf(err->message, sizeof(err->message),
                                      "scenario '%s': the name is also used by %s", sc->name,
                                      suite->items[k]->display_path);
                        harness_scenario_free(sc);
                        sc = NULL;
                        rc = REF_E_MALFORMED;
                        break;
                    }
                }
            }
            if (rc == REF_OK) {
                rc = suite_add(suite, sc);
            }
        }
        free_names(files, num_files);
    }
    free_names(areas, num_areas);
    if (rc != REF_OK) {
        harness_suite_cleanup(suite);
    }
    return rc;
}

void harness_suite_cleanup(struct harness_suite *suite)
{
    for (size_t i = 0; i < suite->count; i++) {
        harness_scenario_free(suite->items[i]);
    }
    free(suite->items);
    suite->items = NULL;
    suite->count = 0;
}
