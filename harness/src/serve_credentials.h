/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_credentials.h - the principals `etch serve` accepts, read from a credentials file.
 *
 * One principal per line: `ACCESS_KEY SECRET [SESSION_TOKEN|-] [full|read-only]`, fields
 * separated by spaces or tabs, blank lines and lines starting with `#` ignored. The set owns
 * every string it hands to the reference and wipes the secrets and tokens when freed.
 */
#ifndef ETCH_SERVE_CREDENTIALS_H
#define ETCH_SERVE_CREDENTIALS_H

#include "ref/sigv4.h"

#include <stdbool.h>
#include <stddef.h>

/* Explicit limits: a credentials file is small and hand-written. */
#define ETCH_SERVE_MAX_CREDENTIALS_FILE_BYTES (1024 * 1024)
#define ETCH_SERVE_MAX_PRINCIPALS             1024
#define ETCH_SERVE_MAX_CREDENTIAL_FIELD_BYTES 1024

struct etch_credential_set {
    struct ref_credential *items; /* owned; the strings they point to are owned too */
    size_t count;
};

/* Reads and checks the file at path. On success *out holds at least one principal and
 * must be released with etch_credentials_free. On failure returns false after printing
 * one message naming the file and line on stderr (prefixed with `command`); *out is then
 * empty and needs no release. */
bool etch_credentials_load(const char *path, struct etch_credential_set *out, const char *command);

/* Wipes every secret and session token, frees everything and empties the set. */
void etch_credentials_free(struct etch_credential_set *set);

#endif
