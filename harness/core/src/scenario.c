/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario.c - the strict scenario loader (format: fixtures/scenarios/README.md): the
 * file, the scenario object, the name tables, and the checks every part of the loader
 * uses (scenario_internal.h says which file holds which part).
 *
 * jansson parses the file (a syntax error names its line and column); then every object
 * is checked key by key against what its position allows, so a typo is an error with the
 * key's JSON path, never a silently ignored expectation. jansson keeps no positions for
 * values, so json_locate.c walks the (already valid) text along that path to put a line
 * and column on semantic errors too.
 */
#define _POSIX_C_SOURCE 200809L

#include "scenario_internal.h"

#include "harness/vars.h"

#include <jansson.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Names ------------------------------------------------------------------------- */

static const char *const s_level_names[HARNESS_LEVEL_COUNT] = {"", "must", "should", "info"};
static const char *const s_source_names[HARNESS_SOURCE_COUNT] = {
    "", "model", "guide", "clients", "inference", "cli-examples", "moto"};
static const char *const s_fault_names[HARNESS_FAULT_COUNT] = {
    "none",          "wrong-secret",     "unknown-key", "scope-date",          "scope-region",
    "scope-service", "scope-terminator", "omit-host",   "flip-signature-digit"};
static const char *const s_principal_names[HARNESS_PRINCIPAL_COUNT] = {"none", "main", "restricted",
                                                                       "temporary"};

const char *harness_level_name(enum harness_level level)
{
    return (unsigned)level < HARNESS_LEVEL_COUNT ? s_level_names[level] : "";
}

const char *harness_source_name(enum harness_source source)
{
    return (unsigned)source < HARNESS_SOURCE_COUNT ? s_source_names[source] : "";
}

const char *harness_fault_name(enum harness_fault fault)
{
    return (unsigned)fault < HARNESS_FAULT_COUNT ? s_fault_names[fault] : "";
}

const char *harness_principal_name(enum harness_principal principal)
{
    return (unsigned)principal < HARNESS_PRINCIPAL_COUNT ? s_principal_names[principal] : "";
}

/* --- Errors ----------------------------------------------------------------------- */

void loader_set_file(struct harness_load_error *err, const char *file)
{
    harness_textf(err->file, sizeof(err->file), "%s", file != NULL ? file : "(scenario)");
}

__attribute__((format(printf, 3, 4))) enum ref_status
loader_fail(struct loader *ld, const char *path, const char *fmt, ...)
{
    struct harness_load_error *err = ld->err;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t off = json_locate(ld->text, ld->len, path);
    json_offset_to_line_col(ld->text, ld->len, off, &err->line, &err->column);
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

void loader_path_key(char *out, size_t cap, const char *base, const char *key)
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

void loader_path_index(char *out, size_t cap, const char *base, size_t i)
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

bool loader_in_list(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (strcmp(key, allowed[i]) == 0) {
            return true;
        }
    }
    return false;
}

enum ref_status loader_check_keys(
    struct loader *ld, json_t *obj, const char *path, const char *const *allowed, const char *what)
{
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v) {
        if (!loader_in_list(key, allowed)) {
            char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
            loader_path_key(p, sizeof(p), path, key);
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
            return loader_fail(ld, p, "unknown key '%s' in %s (allowed: %s)", key, what, hint);
        }
    }
    return REF_OK;
}

enum ref_status loader_get_string(struct loader *ld,
                                  json_t *obj,
                                  const char *key,
                                  const char *path,
                                  bool required,
                                  const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required) {
            return loader_fail(ld, path[0] != '\0' ? path : "", "missing required key '%s'", key);
        }
        return REF_OK;
    }
    if (!json_is_string(v)) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(p, sizeof(p), path, key);
        return loader_fail(ld, p, "expected a string, got %s", type_name(v));
    }
    *out = json_string_value(v);
    return REF_OK;
}

enum ref_status
loader_get_bool(struct loader *ld, json_t *obj, const char *key, const char *path, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        return REF_OK;
    }
    if (!json_is_boolean(v)) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(p, sizeof(p), path, key);
        return loader_fail(ld, p, "expected a boolean, got %s", type_name(v));
    }
    *out = json_is_true(v);
    return REF_OK;
}

enum ref_status loader_get_int(struct loader *ld,
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
        loader_path_key(p, sizeof(p), path, key);
        return loader_fail(ld, p, "expected an integer, got %s", type_name(v));
    }
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) {
        loader_path_key(p, sizeof(p), path, key);
        return loader_fail(ld, p, "%lld is out of range (%lld..%lld)", (long long)i, (long long)min,
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

bool loader_is_var_name(const char *s, size_t len)
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

/* --- Variables: definitions and references ----------------------------------------- */

enum ref_status loader_define_var(struct loader *ld, const char *name, const char *path)
{
    for (size_t i = 0; i < ld->num_defined; i++) {
        if (strcmp(ld->defined[i], name) == 0) {
            return REF_OK;
        }
    }
    if (ld->num_defined >= HARNESS_MAX_VARS) {
        return loader_fail(ld, path, "more than %d variables", HARNESS_MAX_VARS);
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

enum ref_status loader_check_refs(struct loader *ld, json_t *v, const char *path)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    if (json_is_string(v)) {
        ld->bad_var = NULL;
        if (!harness_vars_each_ref(json_string_value(v), json_string_length(v), ref_is_defined,
                                   ld)) {
            if (ld->bad_var != NULL) {
                return loader_fail(
                    ld, path,
                    "${%s} is not defined by vars, a capture or an outcome's set before "
                    "this step",
                    ld->bad_var);
            }
            return loader_fail(ld, path, "'${' without a closing '}' (write $${ for a literal ${)");
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
            loader_path_key(p, sizeof(p), path, key);
            enum ref_status rc = loader_check_refs(ld, child, p);
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
            loader_path_index(p, sizeof(p), path, i);
            enum ref_status rc = loader_check_refs(ld, child, p);
            if (rc != REF_OK) {
                return rc;
            }
        }
    }
    return REF_OK;
}

/* --- Level, source, contract, fault ------------------------------------------------ */

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
    REF_TRY(loader_get_string(ld, obj, key, path, false, &s));
    if (s == NULL) {
        return REF_OK;
    }
    int i = name_index(s, names, first, count);
    if (i >= 0) {
        *out = i;
        return REF_OK;
    }
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    loader_path_key(p, sizeof(p), path, key);
    return loader_fail(ld, p, "unknown %s '%s' (%s)", key, s, choices);
}

enum ref_status
loader_parse_level(struct loader *ld, json_t *obj, const char *path, enum harness_level *out)
{
    int i = (int)*out;
    REF_TRY(parse_named(ld, obj, path, "level", s_level_names, 1, HARNESS_LEVEL_COUNT,
                        "must, should, info", &i));
    *out = (enum harness_level)i;
    return REF_OK;
}

enum ref_status
loader_parse_source(struct loader *ld, json_t *obj, const char *path, enum harness_source *out)
{
    int i = (int)*out;
    REF_TRY(parse_named(ld, obj, path, "source", s_source_names, 1, HARNESS_SOURCE_COUNT,
                        SOURCE_CHOICES, &i));
    *out = (enum harness_source)i;
    return REF_OK;
}

enum ref_status loader_parse_principal(struct loader *ld,
                                       json_t *obj,
                                       const char *path,
                                       enum harness_principal *out)
{
    int i = (int)*out;
    REF_TRY(parse_named(ld, obj, path, "principal", s_principal_names, 0, HARNESS_PRINCIPAL_COUNT,
                        "main, restricted, temporary, none", &i));
    *out = (enum harness_principal)i;
    return REF_OK;
}

/* "contract": the contract sections an expectation rests on, as "3" or "1b, 8" (sections
 * 1, 1b, 2, 2b, 3 to 9, joined by ", "). The loader checks the form only; the suite's own
 * test (check_contract_sections.py) holds every must to having one. */
enum ref_status
loader_parse_contract(struct loader *ld, json_t *obj, const char *path, const char **out)
{
    const char *c = NULL;
    REF_TRY(loader_get_string(ld, obj, "contract", path, false, &c));
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
            *out = c;
            return REF_OK;
        }
        if (p[0] != ',' || p[1] != ' ') {
            break;
        }
        p += 2;
    }
    char pc[HARNESS_MAX_JSON_PATH_BYTES * 2];
    loader_path_key(pc, sizeof(pc), path, "contract");
    return loader_fail(ld, pc,
                       "'%s' is not a list of contract sections (such as \"3\" or \"1b, 8\")", c);
}

bool loader_fault_from_name(const char *s, enum harness_fault *out)
{
    int i = name_index(s, s_fault_names, 0, HARNESS_FAULT_COUNT);
    if (i < 0) {
        return false;
    }
    *out = (enum harness_fault)i;
    return true;
}

/* --- Files ------------------------------------------------------------------------ */

enum ref_status
loader_read_file(const char *path, size_t max, uint8_t **data, size_t *len, bool *too_large)
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

void harness_scenario_free(struct harness_scenario *sc)
{
    if (sc == NULL) {
        return;
    }
    for (size_t i = 0; i < sc->num_steps; i++) {
        loader_free_step(&sc->steps[i]);
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
        return loader_fail(ld, "", "a scenario file holds one JSON object, not %s",
                           type_name(root));
    }
    /* The name first, so every later error can say which scenario it is in. */
    const char *name = NULL;
    json_t *nv = json_object_get(root, "name");
    if (nv != NULL && json_is_string(nv) && is_scenario_name(json_string_value(nv))) {
        name = json_string_value(nv);
        sc->name = name;
    }
    static const char *const keys[] = {"name",        "description", "tags",  "source",
                                       "inproc_only", "vars",        "steps", "contract",
                                       "pipelines",   NULL};
    REF_TRY(loader_check_keys(ld, root, "", keys, "a scenario"));
    REF_TRY(loader_get_string(ld, root, "name", "", true, &name));
    if (!is_scenario_name(name)) {
        return loader_fail(ld, "name",
                           "'%s' is not a scenario name ([a-z0-9][a-z0-9-]*, at most 80)", name);
    }
    if (stem != NULL && strcmp(stem, name) != 0) {
        return loader_fail(ld, "name", "the name '%s' differs from the file name '%s.json'", name,
                           stem);
    }
    REF_TRY(loader_get_string(ld, root, "description", "", true, &sc->description));
    if (sc->description[0] == '\0') {
        return loader_fail(ld, "description", "the description is empty");
    }
    sc->tags[sc->num_tags++] = sc->area;
    json_t *tags = json_object_get(root, "tags");
    if (tags != NULL) {
        if (!json_is_array(tags)) {
            return loader_fail(ld, "tags", "expected an array of strings, got %s", type_name(tags));
        }
        if (json_array_size(tags) > HARNESS_MAX_TAGS) {
            return loader_fail(ld, "tags", "more than %d tags", HARNESS_MAX_TAGS);
        }
        size_t i;
        json_t *t;
        json_array_foreach (tags, i, t) {
            char p[32];
            loader_path_index(p, sizeof(p), "tags", i);
            if (!json_is_string(t) || json_string_length(t) == 0) {
                return loader_fail(ld, p, "expected a non-empty string");
            }
            sc->tags[sc->num_tags++] = json_string_value(t);
        }
    }
    struct defaults def = {HARNESS_LEVEL_MUST, HARNESS_SOURCE_NONE, NULL};
    REF_TRY(loader_parse_source(ld, root, "", &def.source));
    REF_TRY(loader_parse_contract(ld, root, "", &def.contract));
    REF_TRY(loader_get_bool(ld, root, "inproc_only", "", &sc->inproc_only));
    int64_t pipelines = 0;
    REF_TRY(loader_get_int(ld, root, "pipelines", "", 1, HARNESS_MAX_SCENARIO_PIPELINES, NULL,
                           &pipelines));
    sc->pipelines = (size_t)pipelines;
    json_t *vars = json_object_get(root, "vars");
    if (vars != NULL) {
        if (!json_is_object(vars)) {
            return loader_fail(ld, "vars", "expected an object of name to string, got %s",
                               type_name(vars));
        }
        const char *vn;
        json_t *vv;
        json_object_foreach (vars, vn, vv) {
            char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
            loader_path_key(p, sizeof(p), "vars", vn);
            if (!loader_is_var_name(vn, strlen(vn))) {
                return loader_fail(ld, p, "'%s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
                                   vn);
            }
            if (!json_is_string(vv)) {
                return loader_fail(ld, p, "expected a string, got %s", type_name(vv));
            }
            if (json_string_length(vv) > HARNESS_MAX_VAR_BYTES) {
                return loader_fail(ld, p, "longer than %d bytes", HARNESS_MAX_VAR_BYTES);
            }
            REF_TRY(loader_define_var(ld, vn, p));
        }
        sc->vars = vars;
    }
    json_t *steps = json_object_get(root, "steps");
    if (steps == NULL) {
        return loader_fail(ld, "", "missing required key 'steps'");
    }
    if (!json_is_array(steps) || json_array_size(steps) == 0) {
        return loader_fail(ld, "steps", "expected a non-empty array of steps");
    }
    if (json_array_size(steps) > HARNESS_MAX_STEPS) {
        return loader_fail(ld, "steps", "%zu steps: at most %d", json_array_size(steps),
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
        loader_path_index(p, sizeof(p), "steps", i);
        REF_TRY(
            loader_parse_step(ld, json_array_get(steps, i), p, i, CTX_TOP, &def, &sc->steps[i]));
        for (size_t k = 0; k < i; k++) {
            if (strcmp(sc->steps[k].name, sc->steps[i].name) == 0) {
                return loader_fail(ld, p, "step name '%s' used twice", sc->steps[i].name);
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
    loader_set_file(err, display_path);
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
    loader_set_file(err, path);
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
    enum ref_status rc =
        loader_read_file(path, HARNESS_MAX_SCENARIO_FILE_BYTES, &data, &len, &too_large);
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
