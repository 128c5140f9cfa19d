/* SPDX-License-Identifier: Apache-2.0
 *
 * matcher.h - what the loader and the expectation evaluator share of the matcher
 * language beyond expect.h: checking a matcher tree while compiling its $match patterns,
 * and matching with the patterns so compiled.
 *
 * A regular expression is compiled once, when the scenario is loaded, and kept beside
 * the expectation that holds it (harness_expect.regexes), instead of at every evaluation:
 * a wait polls the same predicate up to HARNESS_MAX_WAIT_POLLS times.
 */
#ifndef HARNESS_MATCHER_H
#define HARNESS_MATCHER_H

#include "harness/expect.h"

#include "ref/status.h"

#include <jansson.h>

/* Checks the matcher tree v as harness_matcher_validate does, and adds every $match
 * pattern in it, compiled, to the list *regexes (which may start NULL; owned by the
 * caller, released with harness_compiled_regex_free). REF_E_MALFORMED with where and why
 * filled as harness_matcher_validate fills them; REF_E_NOMEM. The list borrows v: the
 * patterns are found again by their operand in it. */
REF_MUST_CHECK enum ref_status harness_matcher_compile(json_t *v,
                                                       struct harness_compiled_regex **regexes,
                                                       char *where,
                                                       size_t where_cap,
                                                       char *why,
                                                       size_t why_cap);

/* Releases a list from harness_matcher_compile; NULL is fine. */
void harness_compiled_regex_free(struct harness_compiled_regex *regexes);

/* harness_match, with the $match patterns compiled in regexes (NULL: each pattern is
 * compiled when it is evaluated). */
bool harness_match_compiled(json_t *expected,
                            json_t *actual,
                            const struct harness_vars *vars,
                            const struct harness_compiled_regex *regexes,
                            char *why,
                            size_t why_cap);

#endif
