/* SPDX-License-Identifier: Apache-2.0
 *
 * job_id.c - the shape of an Id and how the store makes new ones (contract section 2).
 *
 * Pipelines and jobs share one Id space: 13 digits, '-', 6 word characters. Any Id of that
 * shape is accepted from a caller; the store generates its own from the creation time and
 * six characters of [a-z0-9] drawn without bias from the injected random source.
 */
#include "job_store_internal.h"

#include <stdbool.h>
#include <stdint.h>

/* Id characters the store generates (contract section 2): [a-z0-9]. */
static const char s_id_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
#define ID_ALPHABET_LEN 36u
#define ID_RANDOM_CHARS 6u
#define ID_TIME_DIGITS  13u
/* Bytes at or above this are rejected so that `b % 36` is uniform (252 = 7 * 36). */
#define ID_REJECT_ABOVE 252u
#define ID_MAX_ATTEMPTS 64

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_word(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool ref_job_id_is_valid(struct ref_slice s)
{
    if (s.len != REF_ID_LEN || s.ptr == NULL) {
        return false;
    }
    for (size_t i = 0; i < ID_TIME_DIGITS; i++) {
        if (!is_digit(s.ptr[i])) {
            return false;
        }
    }
    if (s.ptr[ID_TIME_DIGITS] != '-') {
        return false;
    }
    for (size_t i = ID_TIME_DIGITS + 1; i < REF_ID_LEN; i++) {
        if (!is_word(s.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* The 13-digit creation time, '-', 6 unbiased random [a-z0-9]; retried on collision. */
enum ref_status ref_job_id_generate(int64_t now_ms,
                                    ref_random_fn *random,
                                    void *random_ctx,
                                    ref_id_taken_fn *is_taken,
                                    const void *taken_ctx,
                                    char out[REF_ID_LEN + 1])
{
    int64_t t = now_ms < 0 ? 0 : now_ms;
    if (t > INT64_C(9999999999999)) {
        t = INT64_C(9999999999999);
    }
    for (size_t i = ID_TIME_DIGITS; i > 0; i--) {
        out[i - 1] = (char)('0' + (int)(t % 10));
        t /= 10;
    }
    out[ID_TIME_DIGITS] = '-';
    out[REF_ID_LEN] = '\0';
    for (int attempt = 0; attempt < ID_MAX_ATTEMPTS; attempt++) {
        size_t filled = 0;
        while (filled < ID_RANDOM_CHARS) {
            uint8_t bytes[16];
            REF_TRY(random(random_ctx, bytes, sizeof(bytes)));
            for (size_t i = 0; i < sizeof(bytes) && filled < ID_RANDOM_CHARS; i++) {
                if (bytes[i] < ID_REJECT_ABOVE) {
                    out[ID_TIME_DIGITS + 1 + filled] = s_id_alphabet[bytes[i] % ID_ALPHABET_LEN];
                    filled++;
                }
            }
        }
        if (!is_taken(taken_ctx, ref_job_id_slice(out))) {
            return REF_OK;
        }
    }
    /* 36^6 Ids per millisecond: only a broken random source gets here. */
    return REF_E_INTERNAL;
}
