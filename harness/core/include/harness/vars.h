/* SPDX-License-Identifier: Apache-2.0
 *
 * vars.h - scenario variables (${name}) and their substitution.
 *
 * Values are copied in and owned by the set. "$${" stands for a literal "${".
 */
#ifndef HARNESS_VARS_H
#define HARNESS_VARS_H

#include "harness/scenario.h"

#include "ref/buf.h"
#include "ref/status.h"

struct harness_vars {
    char names[HARNESS_MAX_VARS][HARNESS_MAX_VAR_NAME_BYTES];
    char *values[HARNESS_MAX_VARS];
    size_t count;
};

void harness_vars_init(struct harness_vars *v);
void harness_vars_cleanup(struct harness_vars *v);
/* Sets or replaces. REF_E_TOO_LARGE past HARNESS_MAX_VARS or HARNESS_MAX_VAR_BYTES or a
 * name too long; REF_E_NOMEM. */
REF_MUST_CHECK enum ref_status
harness_vars_set(struct harness_vars *v, const char *name, const char *value, size_t value_len);
/* The value, or NULL. */
const char *harness_vars_get(const struct harness_vars *v, const char *name);

/* Appends `in` (len bytes) to out with every ${name} replaced.
 * REF_E_NOT_FOUND: a variable is not set (*missing, when given, names it; it is
 * truncated to fit). REF_E_MALFORMED: "${" without "}". REF_E_TOO_LARGE from out. */
REF_MUST_CHECK enum ref_status harness_vars_expand(const struct harness_vars *v,
                                                   const char *in,
                                                   size_t len,
                                                   struct ref_buf *out,
                                                   char *missing,
                                                   size_t missing_cap);

/* Calls fn for every ${name} in `in` (used by the loader's definition check). Stops and
 * returns false when fn does; returns false too on "${" without "}". */
bool harness_vars_each_ref(const char *in,
                           size_t len,
                           bool (*fn)(void *ctx, const char *name, size_t name_len),
                           void *ctx);

#endif
