/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_internal.h - helpers shared by the sigv4_*.c files (and their tests), not public.
 *
 * The header lookups live here rather than in http_parse.c so the signing code does not
 * depend on which HTTP parser produced the header array (strict or lenient).
 */
#ifndef REF_SIGV4_INTERNAL_H
#define REF_SIGV4_INTERNAL_H

#include "ref/http.h"
#include "ref/slice.h"

#include <stdbool.h>
#include <stddef.h>

/* The first header whose name equals `name` ignoring ASCII case, or NULL. */
const struct ref_header *
ref_sigv4_find_header(const struct ref_header *headers, size_t num_headers, struct ref_slice name);

/* How many header lines carry this name (ASCII case ignored). */
size_t
ref_sigv4_count_header(const struct ref_header *headers, size_t num_headers, struct ref_slice name);

/* Byte-order comparison (memcmp order, shorter prefix first): <0, 0, >0. */
int ref_sigv4_slice_cmp(struct ref_slice a, struct ref_slice b);

/* True when s is exactly 64 lower-case hex digits, the only signature form that can match. */
bool ref_sigv4_is_lower_hex64(struct ref_slice s);

#endif
