/* SPDX-License-Identifier: Apache-2.0
 *
 * text.h - text helpers shared by harness_core and harness_live: bounded formatting for
 * messages, JSON to text, the name of a JSON value's type, and a copy of a JSON value
 * with its strings rewritten.
 *
 * Messages, reasons and JSON paths go into fixed buffers and are truncated on purpose
 * when they would not fit; harness_textf says so once, instead of every snprintf call
 * site drawing a -Wformat-truncation warning. The output is always NUL-terminated; a
 * NULL or empty buffer takes nothing (callers may pass an optional `why`).
 */
#ifndef HARNESS_TEXT_H
#define HARNESS_TEXT_H

#include <jansson.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

__attribute__((format(printf, 3, 4))) static inline void
harness_textf(char *out, size_t cap, const char *fmt, ...)
{
    if (out == NULL || cap == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0) {
        out[0] = '\0';
    }
}

/* json_dumps into memory from malloc, to be released with free(). json_dumps itself
 * returns memory from jansson's allocator, which json_set_alloc_funcs may have replaced;
 * freeing that with free() would mix allocators. NULL when out of memory. */
char *harness_json_dump(const json_t *v, size_t flags);

/* How a message names a JSON type. Each reader has its own phrasing: the loader says
 * "expected a string, got an integer", a matcher reason "expected type string", and a
 * diff sets two types side by side, where "a real number" against "an integer" says what
 * differs and "a number" would not. */
enum harness_json_type_wording {
    HARNESS_JSON_TYPE_NOUN = 0, /* "an object", "a number"; loader errors */
    HARNESS_JSON_TYPE_WORD,     /* "object", "number", "absent" for NULL; matcher reasons */
    HARNESS_JSON_TYPE_EXACT,    /* as NOUN, but "a real number"; diffs */
};

/* The name of v's type in the given wording: a string literal. v may be NULL ("absent"
 * as a WORD, "nothing" otherwise). */
const char *harness_json_type_name(const json_t *v, enum harness_json_type_wording wording);

/* Rewrites one string of a JSON value: a new reference, or NULL to stop the copy. */
typedef json_t *harness_json_string_fn(void *cls, json_t *s);

/* A copy of v in which every string, at any depth, is what map_string makes of it; other
 * values are shared (referenced, not copied). NULL when map_string returns NULL or memory
 * runs out; nothing is left allocated then. */
json_t *harness_json_map_strings(json_t *v, harness_json_string_fn *map_string, void *cls);

#endif
