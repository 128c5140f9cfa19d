/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_credentials.c - reads the credentials file of `etch serve`.
 *
 * The whole file is read into a capped buffer, split into lines and fields as slices, and
 * each field the reference keeps is copied into its own NUL-terminated allocation (the
 * reference takes C strings). The file buffer is wiped afterwards: it held secrets.
 */
#include "serve_credentials.h"

#include "cli_util.h"

#include "ref/buf.h"
#include "ref/mem.h"
#include "ref/slice.h"

#include <stdio.h>
#include <string.h>

/* The fields of one principal line, as slices into the file buffer. */
#define MAX_FIELDS 4

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Printable ASCII without spaces: what access keys, secrets and tokens are made of. A
 * control byte or a non-ASCII byte in a key is a typo, never intended. */
static bool is_token_text(struct ref_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] <= 0x20 || s.ptr[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

/* A NUL-terminated copy of s in its own allocation (ref_mem), or NULL when out of memory. */
static char *dup_slice(struct ref_slice s)
{
    uint8_t *storage = ref_mem_alloc(s.len + 1);
    if (storage == NULL) {
        return NULL;
    }
    struct ref_buf b;
    ref_buf_init_fixed(&b, storage, s.len + 1);
    if (ref_buf_append_slice(&b, s) != REF_OK || ref_buf_nul_terminate(&b) != REF_OK) {
        ref_mem_free(storage);
        return NULL;
    }
    return (char *)storage;
}

static void free_secret(const char *s)
{
    if (s != NULL) {
        /* The cast drops the const the reference's struct puts on it: the set owns it. */
        char *owned = (char *)(uintptr_t)s;
        ref_mem_wipe(owned, strlen(owned));
        ref_mem_free(owned);
    }
}

void etch_credentials_free(struct etch_credential_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        free_secret(set->items[i].access_key_id);
        free_secret(set->items[i].secret_access_key);
        free_secret(set->items[i].session_token);
    }
    ref_mem_free(set->items);
    set->items = NULL;
    set->count = 0;
}

/* Splits one line into at most MAX_FIELDS blank-separated fields. Returns the number of
 * fields, or MAX_FIELDS + 1 when there are more. */
static size_t split_fields(struct ref_slice line, struct ref_slice fields[MAX_FIELDS])
{
    size_t n = 0;
    size_t i = 0;
    while (i < line.len) {
        while (i < line.len && is_blank(line.ptr[i])) {
            i++;
        }
        if (i == line.len) {
            break;
        }
        size_t start = i;
        while (i < line.len && !is_blank(line.ptr[i])) {
            i++;
        }
        if (n == MAX_FIELDS) {
            return MAX_FIELDS + 1;
        }
        fields[n++] = ref_slice_sub(line, start, i - start);
    }
    return n;
}

/* Checks one principal line and appends it to set (whose items array has room). Returns
 * NULL on success, or a static sentence saying what is wrong. */
static const char *
add_principal(struct etch_credential_set *set, const struct ref_slice *fields, size_t num_fields)
{
    if (num_fields < 2) {
        return "expected ACCESS_KEY SECRET [SESSION_TOKEN|-] [full|read-only]";
    }
    if (num_fields > MAX_FIELDS) {
        return "too many fields (at most ACCESS_KEY SECRET SESSION_TOKEN ROLE)";
    }
    for (size_t i = 0; i < num_fields; i++) {
        if (fields[i].len > ETCH_SERVE_MAX_CREDENTIAL_FIELD_BYTES) {
            return "a field is longer than 1024 bytes";
        }
        if (!is_token_text(fields[i])) {
            return "a field holds a byte that is not printable ASCII";
        }
    }
    enum ref_role role = REF_ROLE_FULL;
    if (num_fields == 4) {
        if (ref_slice_eq_cstr(fields[3], "full")) {
            role = REF_ROLE_FULL;
        } else if (ref_slice_eq_cstr(fields[3], "read-only")) {
            role = REF_ROLE_READ_ONLY;
        } else {
            return "the role must be 'full' or 'read-only'";
        }
    }
    for (size_t i = 0; i < set->count; i++) {
        if (ref_slice_eq_cstr(fields[0], set->items[i].access_key_id)) {
            return "this access key is already listed";
        }
    }
    bool has_token = num_fields >= 3 && !ref_slice_eq_cstr(fields[2], "-");
    struct ref_credential *c = &set->items[set->count];
    *c = (struct ref_credential){.role = role};
    c->access_key_id = dup_slice(fields[0]);
    c->secret_access_key = dup_slice(fields[1]);
    c->session_token = has_token ? dup_slice(fields[2]) : NULL;
    /* Counted before checking, so etch_credentials_free releases a half-built entry. */
    set->count++;
    if (c->access_key_id == NULL || c->secret_access_key == NULL ||
        (has_token && c->session_token == NULL)) {
        return "out of memory";
    }
    return NULL;
}

bool etch_credentials_load(const char *path, struct etch_credential_set *out, const char *command)
{
    *out = (struct etch_credential_set){0};
    struct ref_buf file;
    ref_buf_init(&file, ETCH_SERVE_MAX_CREDENTIALS_FILE_BYTES);
    if (!etch_read_input(path, &file, command)) {
        ref_buf_cleanup_secure(&file);
        return false;
    }
    struct etch_credential_set set = {0};
    set.items = ref_mem_calloc(ETCH_SERVE_MAX_PRINCIPALS, sizeof(set.items[0]));
    if (set.items == NULL) {
        fprintf(stderr, "%s: out of memory reading '%s'\n", command, path);
        ref_buf_cleanup_secure(&file);
        return false;
    }

    bool ok = true;
    struct ref_slice rest = ref_buf_slice(&file);
    size_t line_no = 0;
    while (ok && rest.len > 0) {
        struct ref_slice line;
        (void)ref_slice_split(&rest, '\n', &line);
        line_no++;
        if (line.len > 0 && line.ptr[line.len - 1] == '\r') {
            line.len--;
        }
        struct ref_slice trimmed = ref_slice_trim_ows(line);
        /* Only a whole-line comment: a '#' inside a secret is part of the secret. */
        if (trimmed.len == 0 || trimmed.ptr[0] == '#') {
            continue;
        }
        if (set.count == ETCH_SERVE_MAX_PRINCIPALS) {
            fprintf(stderr, "%s: %s:%zu: more than %d principals\n", command, path, line_no,
                    ETCH_SERVE_MAX_PRINCIPALS);
            ok = false;
            break;
        }
        struct ref_slice fields[MAX_FIELDS];
        size_t num_fields = split_fields(trimmed, fields);
        const char *problem = add_principal(&set, fields, num_fields);
        if (problem != NULL) {
            fprintf(stderr, "%s: %s:%zu: %s\n", command, path, line_no, problem);
            ok = false;
        }
    }
    if (ok && set.count == 0) {
        fprintf(stderr, "%s: '%s' lists no principal\n", command, path);
        ok = false;
    }
    ref_buf_cleanup_secure(&file);
    if (!ok) {
        etch_credentials_free(&set);
        return false;
    }
    *out = set;
    return true;
}
