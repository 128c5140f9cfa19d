/* SPDX-License-Identifier: Apache-2.0
 *
 * live_internal.h - bounded formatting for messages, private to harness_live.
 *
 * The live backend and its settings both fill a caller's fixed `why` buffer; the message
 * is truncated on purpose when it would not fit. harness_core has the same helper (textf
 * in its private text_internal.h), kept apart because each library's internals stay its
 * own. The output is always NUL-terminated; a NULL or empty buffer takes nothing.
 */
#ifndef HARNESS_LIVE_INTERNAL_H
#define HARNESS_LIVE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

__attribute__((format(printf, 3, 4))) static inline void
say(char *why, size_t cap, const char *fmt, ...)
{
    if (why == NULL || cap == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    if (n < 0) {
        why[0] = '\0';
    }
}

#endif
