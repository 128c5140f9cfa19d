/* SPDX-License-Identifier: Apache-2.0
 *
 * text_internal.h - bounded formatting for messages, private to harness_core.
 *
 * Messages and JSON paths are truncated on purpose when they would not fit their fixed
 * buffers; textf says so once, instead of every snprintf call site drawing a
 * -Wformat-truncation warning. The output is always NUL-terminated.
 */
#ifndef HARNESS_TEXT_INTERNAL_H
#define HARNESS_TEXT_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

__attribute__((format(printf, 3, 4))) static inline void
textf(char *out, size_t cap, const char *fmt, ...)
{
    if (cap == 0) {
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

#endif
