/* SPDX-License-Identifier: Apache-2.0
 *
 * secret.h - reading a secret access key from a file, so it never has to be on a command
 * line. One rule for every command that takes `--secret-key-file`.
 */
#ifndef HARNESS_SECRET_H
#define HARNESS_SECRET_H

#include "ref/status.h"

#include <stddef.h>

/* The largest secret file read. */
#define HARNESS_MAX_SECRET_FILE_BYTES 4096

/* Reads the secret in `path`: one line, surrounding spaces, tabs and the line end dropped.
 * REF_OK: *out is a NUL-terminated copy (malloc; wipe it with ref_mem_wipe and free it).
 * REF_E_MALFORMED: unreadable, larger than HARNESS_MAX_SECRET_FILE_BYTES, empty, more than
 * one line or control bytes. REF_E_NOMEM. `why` gets a sentence naming the file. */
REF_MUST_CHECK enum ref_status
harness_read_secret_file(const char *path, char **out, char *why, size_t why_cap);

#endif
