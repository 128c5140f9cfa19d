/* SPDX-License-Identifier: Apache-2.0
 *
 * cli_util.h - small helpers shared by the etch subcommands: reading input files and
 * the --now clock option.
 */
#ifndef ETCH_CLI_UTIL_H
#define ETCH_CLI_UTIL_H

#include "ref/buf.h"

#include <stdbool.h>
#include <stdint.h>

/* Reads a whole file ("-" or NULL: stdin) into out, which must be initialised and caps
 * the size. Returns false (with a message on stderr naming the file) on failure. */
bool etch_read_input(const char *path, struct ref_buf *out, const char *command);

/* Parses a --now value (YYYYMMDDTHHMMSSZ) into ms since the epoch. */
bool etch_parse_now(const char *text, int64_t *now_ms, const char *command);

/* The real time in ms since the epoch. */
int64_t etch_real_now_ms(void);

#endif
