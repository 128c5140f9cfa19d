/* SPDX-License-Identifier: Apache-2.0
 *
 * text.h - bounded formatting for messages, shared by harness_core and harness_live.
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

#endif
