/* SPDX-License-Identifier: Apache-2.0
 *
 * cli_util.h - what the etch subcommands share: their exit statuses, the result of an
 * option taker, the sizes of their message buffers, reading input files and the --now
 * clock option.
 *
 * One error convention runs through the subcommands: a function that can end a command
 * returns bool (true: go on) and, where it can end it in more than one way, sets an
 * `int *exit_status` to one of enum etch_exit when it returns false. Library calls keep
 * returning enum ref_status; the command turns them into an exit status.
 */
#ifndef ETCH_CLI_UTIL_H
#define ETCH_CLI_UTIL_H

#include "ref/buf.h"

#include <stdbool.h>
#include <stdint.h>

/* The exit statuses of every etch command (commands.h). */
enum etch_exit {
    ETCH_EXIT_PASS = 0,  /* success: every check held (or --help was asked for) */
    ETCH_EXIT_FAIL = 1,  /* a check failed or a run broke */
    ETCH_EXIT_USAGE = 2, /* bad usage, unreadable input or a broken scenario file */
    ETCH_EXIT_TARGET_UNUSABLE = 3, /* the target could not be reached, is not an Elastic
                                    * Transcoder endpoint, or refused the credentials */
};

/* What an option taker did with argv[*i]. */
enum etch_option_result {
    ETCH_OPTION_NOT_MINE = 0, /* not one of its options: *i is unchanged */
    ETCH_OPTION_TAKEN,        /* taken, with *i moved past its value */
    ETCH_OPTION_BAD,          /* one of its options, badly used: the message is printed */
};

/* Sizes of the text buffers of the subcommands. */
#define ETCH_MESSAGE_BYTES      512  /* one reason or error message */
#define ETCH_LOAD_MESSAGE_BYTES 1400 /* a scenario file's load error: file, place, reason */
#define ETCH_LABEL_BYTES        64   /* a short label: the tool and version, a shown key id */
#define ETCH_DATE_BYTES         128  /* an endpoint's Date header, as it came */
#define ETCH_NAME_BYTES         256  /* a scenario's area/name */

/* Reads a whole file ("-" or NULL: stdin) into out, which must be initialised and caps
 * the size. Returns false (with a message on stderr naming the file) on failure. */
bool etch_read_input(const char *path, struct ref_buf *out, const char *command);

/* Parses a --now value (YYYYMMDDTHHMMSSZ) into ms since the epoch. */
bool etch_parse_now(const char *text, int64_t *now_ms, const char *command);

/* The real time in ms since the epoch. */
int64_t etch_real_now_ms(void);

/* A monotonic clock in ms, for how long something took. */
int64_t etch_monotonic_ms(void);

/* Whether the file a report is to be written to can be written, checked before a run
 * sends anything so that a typo costs nothing: opens it for appending (creating it, then
 * removing it again when it did not exist). Returns false with a message on stderr naming
 * the option's file and the reason. NULL path: true. */
bool etch_check_writable(const char *command, const char *what, const char *path);

#endif
