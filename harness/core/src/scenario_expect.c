/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario_expect.c - the expectations of a scenario step: statuses, error codes, the
 * error form, headers, bodies and paths with their matchers, wait predicates, and the
 * captures a step takes from its answer.
 *
 * Each expectation inherits its level and provenance from the step and the scenario
 * (struct defaults); a must with no provenance is refused, since a verdict must say what
 * it rests on. Matchers are checked here, at load time, and their regular expressions
 * compiled once into the expectation (harness_expect.regexes).
 */
#include "scenario_internal.h"

#include "harness/expect.h"

#include "matcher.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

static enum ref_status
parse_status_alt(struct loader *ld, json_t *v, const char *path, struct harness_status_alt *out)
{
    if (json_is_integer(v)) {
        json_int_t code = json_integer_value(v);
        if (code < 100 || code > 599) {
            return loader_fail(ld, path, "status %lld is not between 100 and 599", (long long)code);
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
    return loader_fail(
        ld, path, "expected an integer, a class such as \"4xx\", \"closed\", or a list of them");
}

/* Checks the matcher tree v and keeps its $match patterns, compiled, in *regexes. */
static enum ref_status validate_matcher(struct loader *ld,
                                        json_t *v,
                                        const char *path,
                                        struct harness_compiled_regex **regexes)
{
    char where[128] = "";
    char why[256] = "";
    enum ref_status rc =
        harness_matcher_compile(v, regexes, where, sizeof(where), why, sizeof(why));
    if (rc == REF_E_MALFORMED) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 3];
        harness_textf(p, sizeof(p), "%s%s", path, where);
        return loader_fail(ld, p, "%s", why);
    }
    return rc;
}

enum ref_status loader_parse_expect(struct loader *ld,
                                    json_t *v,
                                    const char *path,
                                    const struct defaults *def,
                                    bool is_predicate,
                                    struct harness_expect *out)
{
    memset(out, 0, sizeof(*out));
    harness_textf(out->json_path, sizeof(out->json_path), "%s", path);
    if (!json_is_object(v)) {
        return loader_fail(ld, path, "expected an expectation object, got %s", type_name(v));
    }
    static const char *const keys[] = {"level", "source",     "note",     "status",
                                       "error", "error_form", "headers",  "body",
                                       "paths", "json",       "contract", NULL};
    static const char *const pred_keys[] = {"note", "status", "error", "error_form", "headers",
                                            "body", "paths",  "json",  NULL};
    REF_TRY(loader_check_keys(ld, v, path, is_predicate ? pred_keys : keys,
                              is_predicate ? "a wait predicate" : "an expectation"));
    out->level = def->level;
    out->source = def->source;
    REF_TRY(loader_parse_level(ld, v, path, &out->level));
    REF_TRY(loader_parse_source(ld, v, path, &out->source));
    out->contract = def->contract;
    REF_TRY(loader_parse_contract(ld, v, path, &out->contract));
    REF_TRY(loader_get_string(ld, v, "note", path, false, &out->note));
    if (out->level == HARNESS_LEVEL_NONE) {
        out->level = HARNESS_LEVEL_MUST;
    }
    if (out->source == HARNESS_SOURCE_NONE && !is_predicate) {
        return loader_fail(ld, path,
                           "no provenance: give \"source\" (" SOURCE_CHOICES
                           ") here, on the step or "
                           "on the scenario");
    }
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    json_t *st = json_object_get(v, "status");
    if (st != NULL) {
        loader_path_key(p, sizeof(p), path, "status");
        if (json_is_array(st)) {
            if (json_array_size(st) == 0 || json_array_size(st) > HARNESS_MAX_STATUS_ALTERNATIVES) {
                return loader_fail(ld, p, "expected 1 to %d statuses",
                                   HARNESS_MAX_STATUS_ALTERNATIVES);
            }
            size_t i;
            json_t *e;
            json_array_foreach (st, i, e) {
                char pi[HARNESS_MAX_JSON_PATH_BYTES * 2];
                loader_path_index(pi, sizeof(pi), p, i);
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
        loader_path_key(p, sizeof(p), path, "error");
        if (json_is_null(er)) {
            out->has_error = true;
        } else if (json_is_string(er) && json_string_length(er) > 0) {
            out->has_error = true;
            out->error = json_string_value(er);
        } else {
            return loader_fail(ld, p, "expected an error code string or null, got %s",
                               type_name(er));
        }
    }
    REF_TRY(loader_get_bool(ld, v, "error_form", path, &out->error_form));
    REF_TRY(loader_get_bool(ld, v, "json", path, &out->json));
    json_t *h = json_object_get(v, "headers");
    if (h != NULL) {
        loader_path_key(p, sizeof(p), path, "headers");
        if (!json_is_object(h)) {
            return loader_fail(ld, p, "expected an object of header name to value, got %s",
                               type_name(h));
        }
        const char *name;
        json_t *hv;
        json_object_foreach (h, name, hv) {
            char ph[HARNESS_MAX_JSON_PATH_BYTES * 2];
            loader_path_key(ph, sizeof(ph), p, name);
            if (!json_is_string(hv) && !json_is_boolean(hv) && !json_is_object(hv)) {
                return loader_fail(ld, ph, "expected a string, true, false or a matcher, got %s",
                                   type_name(hv));
            }
            if (json_is_object(hv)) {
                REF_TRY(validate_matcher(ld, hv, ph, &out->regexes));
            }
        }
        out->headers = h;
    }
    json_t *body = json_object_get(v, "body");
    if (body != NULL) {
        loader_path_key(p, sizeof(p), path, "body");
        REF_TRY(validate_matcher(ld, body, p, &out->regexes));
        out->body = body;
    }
    json_t *paths = json_object_get(v, "paths");
    if (paths != NULL) {
        loader_path_key(p, sizeof(p), path, "paths");
        if (!json_is_object(paths)) {
            return loader_fail(ld, p, "expected an object of path to matcher, got %s",
                               type_name(paths));
        }
        const char *jp;
        json_t *m;
        json_object_foreach (paths, jp, m) {
            char pp[HARNESS_MAX_JSON_PATH_BYTES * 2];
            loader_path_key(pp, sizeof(pp), p, jp);
            if (!harness_json_path_is_valid(jp)) {
                return loader_fail(ld, pp, "'%s' is not a path (Member.Member[0].Member)", jp);
            }
            REF_TRY(validate_matcher(ld, m, pp, &out->regexes));
        }
        out->paths = paths;
    }
    return REF_OK;
}

enum ref_status loader_parse_expects(struct loader *ld,
                                     json_t *v,
                                     const char *path,
                                     const struct defaults *def,
                                     struct harness_step *step)
{
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (json_is_array(v) && n == 0) {
        return loader_fail(ld, path, "an empty list of expectations");
    }
    if (n > HARNESS_MAX_EXPECT_GROUPS) {
        return loader_fail(ld, path, "more than %d expectation groups", HARNESS_MAX_EXPECT_GROUPS);
    }
    step->expects = calloc(n, sizeof(*step->expects));
    if (step->expects == NULL) {
        return REF_E_NOMEM;
    }
    step->num_expects = n;
    if (!json_is_array(v)) {
        return loader_parse_expect(ld, v, path, def, false, &step->expects[0]);
    }
    for (size_t i = 0; i < n; i++) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_index(p, sizeof(p), path, i);
        REF_TRY(loader_parse_expect(ld, json_array_get(v, i), p, def, false, &step->expects[i]));
    }
    return REF_OK;
}

enum ref_status loader_parse_capture(struct loader *ld, json_t *v, const char *path)
{
    if (!json_is_object(v)) {
        return loader_fail(ld, path, "expected an object of variable name to path, got %s",
                           type_name(v));
    }
    const char *name;
    json_t *src;
    json_object_foreach (v, name, src) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(p, sizeof(p), path, name);
        if (!loader_is_var_name(name, strlen(name))) {
            return loader_fail(ld, p, "'%s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", name);
        }
        if (!json_is_string(src)) {
            return loader_fail(ld, p, "expected a path, \"@header:<name>\" or \"@status\", got %s",
                               type_name(src));
        }
        const char *s = json_string_value(src);
        bool ok = strcmp(s, "@status") == 0 || (strncmp(s, "@header:", 8) == 0 && s[8] != '\0') ||
                  (s[0] != '@' && harness_json_path_is_valid(s));
        if (!ok) {
            return loader_fail(ld, p, "'%s' is not a path, \"@header:<name>\" or \"@status\"", s);
        }
    }
    return REF_OK;
}

void loader_free_expect(struct harness_expect *e)
{
    harness_compiled_regex_free(e->regexes);
    e->regexes = NULL;
}
