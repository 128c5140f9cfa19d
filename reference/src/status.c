/* SPDX-License-Identifier: Apache-2.0
 *
 * status.c - lookups into the status table and parse-error formatting.
 */
#include "ref/status.h"

#include <stdio.h>

struct status_info {
    const char *name;
    int http;
    const char *error_type;
    const char *message;
};

static const struct status_info s_status_table[REF_STATUS_COUNT] = {
#define REF_STATUS_ROW(name, http, type, msg) [name] = {#name, http, type, msg},
    REF_STATUS_LIST(REF_STATUS_ROW)
#undef REF_STATUS_ROW
};

static const struct status_info *info(enum ref_status rc)
{
    if ((unsigned)rc >= REF_STATUS_COUNT) {
        return &s_status_table[REF_E_INTERNAL];
    }
    return &s_status_table[rc];
}

const char *ref_status_name(enum ref_status rc)
{
    return info(rc)->name;
}

int ref_status_http(enum ref_status rc)
{
    return info(rc)->http;
}

const char *ref_status_error_type(enum ref_status rc)
{
    return info(rc)->error_type;
}

const char *ref_status_message(enum ref_status rc)
{
    return info(rc)->message;
}

enum ref_status ref_parse_fail(struct ref_parse_error *err,
                               enum ref_status code,
                               size_t offset,
                               const char *where,
                               const char *reason)
{
    if (err != NULL) {
        *err = (struct ref_parse_error){
            .code = code, .offset = offset, .where = where, .reason = reason};
    }
    return code;
}

void ref_parse_error_format(const struct ref_parse_error *err,
                            const void *input,
                            size_t input_len,
                            char *out,
                            size_t cap)
{
    if (cap == 0) {
        return;
    }
    int n = snprintf(out,
                     cap,
                     "%s@%zu: %s (%s)",
                     err->where ? err->where : "input",
                     err->offset,
                     err->reason ? err->reason : "error",
                     ref_status_name(err->code));
    if (input == NULL || n < 0 || (size_t)n >= cap) {
        return;
    }
    const unsigned char *in = input;
    size_t at = err->offset > input_len ? input_len : err->offset;
    size_t start = at;
    while (start > 0 && in[start - 1] != '\n' && at - start < 60) {
        start--;
    }
    size_t end = at;
    while (end < input_len && in[end] != '\r' && in[end] != '\n' && end - at < 60) {
        end++;
    }
    size_t used = (size_t)n;
    /* The line, with control bytes shown as '.', then the caret line. */
    if (used + 1 < cap) {
        out[used++] = '\n';
    }
    for (size_t i = start; i < end && used + 1 < cap; i++) {
        out[used++] = (in[i] < 0x20 || in[i] == 0x7f) ? '.' : (char)in[i];
    }
    if (used + 1 < cap) {
        out[used++] = '\n';
    }
    for (size_t i = start; i < at && used + 1 < cap; i++) {
        out[used++] = ' ';
    }
    if (used + 1 < cap) {
        out[used++] = '^';
    }
    out[used] = '\0';
}
