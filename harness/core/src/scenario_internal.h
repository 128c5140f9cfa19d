/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario_internal.h - what the parts of the scenario loader share, and nothing else
 * includes: the loader's state, errors that carry a position, JSON paths for messages,
 * typed getters and key checks.
 *
 * The loader is one module in several files, one per concept of the format: scenario.c
 * (the file, the scenario, names and the checks every part uses), json_locate.c (line and
 * column of a JSON path), scenario_request.c (call and raw requests, signing),
 * scenario_expect.c (expectations and captures), scenario_steps.c (the step kinds) and
 * suite.c (a folder of scenario files). Every function here reports a broken scenario
 * with loader_fail(), which fills the caller's harness_load_error and returns REF_E_MALFORMED.
 */
#ifndef HARNESS_SCENARIO_INTERNAL_H
#define HARNESS_SCENARIO_INTERNAL_H

#include "harness/scenario.h"
#include "harness/text.h"

#include "ref/status.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The sources a "source" key may name, for messages. */
#define SOURCE_CHOICES "model, guide, clients, inference, cli-examples, moto"

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

/* Level and source an expectation inherits from its step and scenario. */
struct defaults {
    enum harness_level level;
    enum harness_source source;
    const char *contract; /* the nearest "contract" given, NULL when none */
};

/* Where a step stands: at the top of the scenario or inside a concurrent step, which
 * allows fewer kinds and keys. */
enum step_context {
    CTX_TOP = 0,
    CTX_CONCURRENT,
};

/* --- json_locate.c ------------------------------------------------------------------ */

/* The byte offset of the deepest element of path ("steps[2].expect.status") found in the
 * text, which must be valid JSON: the key of the last member reached, or the start of the
 * last array element reached. */
size_t json_locate(const uint8_t *text, size_t len, const char *path);
/* 1-based line and column of a byte offset. */
void json_offset_to_line_col(const uint8_t *text, size_t len, size_t off, int *line, int *col);
/* The byte offsets of the elements of the array that is the value of the member at path
 * (an object member: "expected"), in one pass, at most max of them; returns how many. The
 * text must be valid JSON. For a long array this is linear where json_locate of each
 * element would walk the elements before it again. */
size_t json_locate_elements(
    const uint8_t *text, size_t len, const char *path, size_t *offsets, size_t max);

/* --- scenario.c: errors, paths and checks -------------------------------------------- */

/* Fills ld->err with the position of path and "scenario '<name>': <path>: <message>";
 * returns REF_E_MALFORMED. */
__attribute__((format(printf, 3, 4))) enum ref_status
loader_fail(struct loader *ld, const char *path, const char *fmt, ...);
/* Names the file an error is in ("(scenario)" for NULL). */
void loader_set_file(struct harness_load_error *err, const char *file);

/* base.key, or base["key"] when the key holds a character of path syntax. cap > 0. */
void loader_path_key(char *out, size_t cap, const char *base, const char *key);
/* base[i]. cap > 0. */
void loader_path_index(char *out, size_t cap, const char *base, size_t i);

/* "an object", "a string": a value's type in a loader message. */
static inline const char *type_name(json_t *v)
{
    return harness_json_type_name(v, HARNESS_JSON_TYPE_NOUN);
}

/* True when key is in the NULL-terminated list. */
bool loader_in_list(const char *key, const char *const *allowed);
/* Every key of obj must be in the NULL-terminated list allowed; what names the object in
 * the message, which lists the allowed keys. */
enum ref_status loader_check_keys(
    struct loader *ld, json_t *obj, const char *path, const char *const *allowed, const char *what);
/* Typed members: absent leaves *out as it is (get_string fails instead when required). */
enum ref_status loader_get_string(struct loader *ld,
                                  json_t *obj,
                                  const char *key,
                                  const char *path,
                                  bool required,
                                  const char **out);
enum ref_status
loader_get_bool(struct loader *ld, json_t *obj, const char *key, const char *path, bool *out);
enum ref_status loader_get_int(struct loader *ld,
                               json_t *obj,
                               const char *key,
                               const char *path,
                               int64_t min,
                               int64_t max,
                               bool *present,
                               int64_t *out);

/* [A-Za-z_][A-Za-z0-9_]*, shorter than HARNESS_MAX_VAR_NAME_BYTES. */
bool loader_is_var_name(const char *s, size_t len);
/* Records a variable as defined from here on. */
enum ref_status loader_define_var(struct loader *ld, const char *name, const char *path);
/* Every string in v (keys of `paths` and `headers` included) must only use defined vars. */
enum ref_status loader_check_refs(struct loader *ld, json_t *v, const char *path);

/* The optional "level", "source", "principal" and "contract" members of obj. */
enum ref_status
loader_parse_level(struct loader *ld, json_t *obj, const char *path, enum harness_level *out);
enum ref_status
loader_parse_source(struct loader *ld, json_t *obj, const char *path, enum harness_source *out);
enum ref_status loader_parse_principal(struct loader *ld,
                                       json_t *obj,
                                       const char *path,
                                       enum harness_principal *out);
/* "contract" of obj into *out when present (left as it is when absent). */
enum ref_status
loader_parse_contract(struct loader *ld, json_t *obj, const char *path, const char **out);
/* The index of a fault name (s_fault_names), false when it names none. */
bool loader_fault_from_name(const char *s, enum harness_fault *out);

/* A whole file into memory from malloc (NUL-terminated, *len without the NUL); more than
 * max bytes is REF_E_TOO_LARGE with *too_large set; REF_E_NOT_FOUND when unreadable. */
enum ref_status
loader_read_file(const char *path, size_t max, uint8_t **data, size_t *len, bool *too_large);

/* --- scenario_request.c ---------------------------------------------------------------- */

/* "sign": a mode string or object. */
enum ref_status
loader_parse_sign(struct loader *ld, json_t *v, const char *path, struct harness_sign *out);
/* A call of op_name with the step's (or wait's) "params" and "headers". */
enum ref_status loader_parse_call(struct loader *ld,
                                  json_t *step_obj,
                                  const char *path,
                                  const char *op_name,
                                  struct harness_request_spec *out);
/* "raw": a request written out, or verbatim bytes from "file" or "bytes". */
enum ref_status
loader_parse_raw(struct loader *ld, json_t *v, const char *path, struct harness_request_spec *out);

/* --- scenario_expect.c ----------------------------------------------------------------- */

/* One expectation object (a wait predicate when is_predicate: no level or provenance). */
enum ref_status loader_parse_expect(struct loader *ld,
                                    json_t *v,
                                    const char *path,
                                    const struct defaults *def,
                                    bool is_predicate,
                                    struct harness_expect *out);
/* "expect": one expectation or a list, into step->expects. */
enum ref_status loader_parse_expects(struct loader *ld,
                                     json_t *v,
                                     const char *path,
                                     const struct defaults *def,
                                     struct harness_step *step);
/* "capture": variable name -> path, "@header:<name>" or "@status". */
enum ref_status loader_parse_capture(struct loader *ld, json_t *v, const char *path);
/* Releases what an expectation owns (its compiled patterns), not the expectation. */
void loader_free_expect(struct harness_expect *e);

/* --- scenario_steps.c ------------------------------------------------------------------ */

/* One step object (or sub-step of a concurrent step, by ctx) into *step. */
enum ref_status loader_parse_step(struct loader *ld,
                                  json_t *v,
                                  const char *path,
                                  size_t index,
                                  enum step_context ctx,
                                  const struct defaults *parent,
                                  struct harness_step *step);
/* Releases what parse_step allocated for a step and its sub-steps (not the step itself). */
void loader_free_step(struct harness_step *step);

#endif
