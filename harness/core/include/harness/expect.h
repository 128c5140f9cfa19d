/* SPDX-License-Identifier: Apache-2.0
 *
 * expect.h - evaluating expectations on one response: statuses, the error code as
 * clients derive it, the error wire form, headers, JSON subsets, paths and matchers.
 *
 * Pure functions over a parsed response; no I/O. Every check appends one result saying
 * what was checked, what was expected and what was found, so reports can show it.
 */
#ifndef HARNESS_EXPECT_H
#define HARNESS_EXPECT_H

#include "harness/http_response.h"
#include "harness/scenario.h"
#include "harness/vars.h"

#include <jansson.h>

#define HARNESS_CHECK_TEXT_BYTES 320

struct harness_check_result {
    enum harness_level level;
    enum harness_source source;
    bool held;
    const char *note;                       /* borrowed from the scenario */
    const char *contract;                   /* borrowed: "3", "1b, 8"; NULL when none */
    char what[HARNESS_MAX_JSON_PATH_BYTES]; /* "status", "paths.Job.Status" */
    char expected[HARNESS_CHECK_TEXT_BYTES];
    char actual[HARNESS_CHECK_TEXT_BYTES];
};

/* A growable list of check results (heap). */
struct harness_check_list {
    struct harness_check_result *items;
    size_t count;
    size_t cap;
};

void harness_check_list_init(struct harness_check_list *l);
void harness_check_list_cleanup(struct harness_check_list *l);
/* Appends a zeroed result; NULL when out of memory. */
struct harness_check_result *harness_check_list_add(struct harness_check_list *l);

/* A response prepared for matching: parsed HTTP plus its body as JSON (NULL when the
 * body is empty or not JSON). */
struct harness_observed {
    const struct harness_http_response *http;
    json_t *body; /* borrowed */
};

/* The error code as clients derive it (contract section 4): x-amzn-ErrorType cut at the
 * first ':'; else body member "code"; else "__type" after its last '#'; trimmed.
 * Writes it NUL-terminated into out (truncated to cap) and returns true; false (out = "")
 * when there is none. */
bool harness_error_code(const struct harness_observed *obs, char *out, size_t cap);

/* True when an answer says the endpoint does not know the operation: a 501; a 404 whose
 * code contains "UnknownOperation"; a 404 not in the contract's error form (no code, or
 * no JSON object body with a string message). Never for ResourceNotFoundException. */
bool harness_is_unknown_operation(const struct harness_observed *obs);

/* Evaluates one expectation group, appending one result per check to out.
 * *all_held says whether every check held. REF_E_NOMEM only. */
REF_MUST_CHECK enum ref_status harness_expect_eval(const struct harness_expect *e,
                                                   const struct harness_observed *obs,
                                                   const struct harness_vars *vars,
                                                   struct harness_check_list *out,
                                                   bool *all_held);

/* Matches one expected JSON value (plain value, subset object, array or $matcher)
 * against actual (NULL: absent). On a mismatch, why gets a short explanation. */
bool harness_match(
    json_t *expected, json_t *actual, const struct harness_vars *vars, char *why, size_t why_cap);

/* Resolves a simple path ("Job.Outputs[0].Key") in root; NULL when absent or when the
 * path is not well formed. The result is borrowed from root. */
json_t *harness_json_path(json_t *root, const char *path);
/* True when path is well formed. */
bool harness_json_path_is_valid(const char *path);

/* Checks the shape of a matcher tree at load time: $keys known, operands of the right
 * type, regular expressions compile. On failure, fills where (a suffix of the JSON path,
 * e.g. ".$match") and why. */
bool harness_matcher_validate(
    json_t *expected, char *where, size_t where_cap, char *why, size_t why_cap);

/* One $matcher of the matcher language, as help texts show it. */
struct harness_matcher_doc {
    const char *name;    /* "$match" */
    const char *operand; /* what it takes: "RE" */
    const char *help;    /* what it holds for, one line */
    const char *example; /* a well-formed operand, as JSON text */
};

/* The i-th matcher (0-based); NULL past the last. */
const struct harness_matcher_doc *harness_matcher_doc(size_t i);

/* The matcher language, one line per matcher ("  {\"$len\": N}  is an array, ..."), into
 * out, truncated to cap and always terminated. */
void harness_matcher_help(char *out, size_t cap);

/* Compact JSON text of v, truncated to cap ("(absent)" for NULL). */
void harness_json_text(json_t *v, char *out, size_t cap);

#endif
