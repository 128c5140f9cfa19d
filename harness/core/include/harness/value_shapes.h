/* SPDX-License-Identifier: Apache-2.0
 *
 * value_shapes.h - the shapes of values that differ from one run or target to the next
 * (job and pipeline Ids, request Ids, signing dates), found in text so that comparisons
 * can set them aside: `etch diff`'s normalisation and the report's root-cause grouping
 * both use these.
 *
 * Each *_at function returns the length of the value starting at s (n bytes available),
 * or 0 when none starts there. A value must end where its shape does: an Id followed by a
 * word character, or a UUID by a hex digit, is not one.
 */
#ifndef HARNESS_VALUE_SHAPES_H
#define HARNESS_VALUE_SHAPES_H

#include <stdbool.h>
#include <stddef.h>

bool harness_is_digit_char(char c);
/* [A-Za-z0-9_], the \w of the contract's Id pattern. */
bool harness_is_word_char(char c);
bool harness_is_hex_char(char c);

/* The contract's Id (section 2): 13 digits, '-', 6 word characters. */
size_t harness_id_at(const char *s, size_t n);
/* A UUID (x-amzn-RequestId): 8-4-4-4-12 hexadecimal digits. */
size_t harness_uuid_at(const char *s, size_t n);
/* A SigV4 basic date-time: YYYYMMDDTHHMMSSZ. */
size_t harness_amz_date_at(const char *s, size_t n);

#endif
