/* SPDX-License-Identifier: Apache-2.0
 *
 * explore_internal.h - what explore.c (runs, judging, shrinking) and explore_gen.c (the
 * generator) share.
 */
#ifndef HARNESS_EXPLORE_INTERNAL_H
#define HARNESS_EXPLORE_INTERNAL_H

#include "harness/explore.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>

/* Under the 4 pipelines a faithful endpoint allows (contract section 2b). */
#define EXPLORE_MAX_PIPELINES 3

/* A 64-bit mix: seeds of sequences from the run's seed, and the generator's state. */
uint64_t explore_splitmix64(uint64_t x);

/* The steps of one sequence (a JSON array, owned by the caller) from its seed; NULL when
 * out of memory. */
json_t *
explore_generate(const struct harness_explore_options *o, uint64_t seed, size_t target_steps);

#endif
