/* SPDX-License-Identifier: Apache-2.0
 *
 * value_shapes.c - Ids, UUIDs and signing dates found in text (value_shapes.h).
 */
#include "harness/value_shapes.h"

bool harness_is_digit_char(char c)
{
    return c >= '0' && c <= '9';
}

bool harness_is_word_char(char c)
{
    return harness_is_digit_char(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool harness_is_hex_char(char c)
{
    return harness_is_digit_char(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

size_t harness_id_at(const char *s, size_t n)
{
    if (n < 20) {
        return 0;
    }
    for (size_t i = 0; i < 13; i++) {
        if (!harness_is_digit_char(s[i])) {
            return 0;
        }
    }
    if (s[13] != '-') {
        return 0;
    }
    for (size_t i = 14; i < 20; i++) {
        if (!harness_is_word_char(s[i])) {
            return 0;
        }
    }
    return n > 20 && harness_is_word_char(s[20]) ? 0 : 20;
}

size_t harness_uuid_at(const char *s, size_t n)
{
    static const size_t groups[] = {8, 4, 4, 4, 12};
    size_t i = 0;
    for (size_t g = 0; g < 5; g++) {
        for (size_t k = 0; k < groups[g]; k++, i++) {
            if (i >= n || !harness_is_hex_char(s[i])) {
                return 0;
            }
        }
        if (g < 4) {
            if (i >= n || s[i] != '-') {
                return 0;
            }
            i++;
        }
    }
    return i < n && harness_is_hex_char(s[i]) ? 0 : i;
}

size_t harness_amz_date_at(const char *s, size_t n)
{
    if (n < 16) {
        return 0;
    }
    for (size_t i = 0; i < 15; i++) {
        if (i == 8 ? s[i] != 'T' : !harness_is_digit_char(s[i])) {
            return 0;
        }
    }
    return s[15] == 'Z' ? 16 : 0;
}
