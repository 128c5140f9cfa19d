/* SPDX-License-Identifier: Apache-2.0
 *
 * uri_internal.h - the byte classes uri.c and sigv4_canon.c both need, not public.
 *
 * The canonicaliser re-encodes query parts in its own single pass (sigv4_canon.c says
 * why), so it cannot simply call ref_uri_encode; but the set of bytes it leaves alone must
 * be exactly the one ref_uri_encode leaves alone, or the same path and query would be
 * signed two ways. One definition here keeps them equal. They are static inline because
 * both callers run them on every byte of every request.
 */
#ifndef REF_URI_INTERNAL_H
#define REF_URI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 3986 unreserved characters: the only bytes SigV4 leaves unencoded. */
static inline bool ref_uri_is_unreserved(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* The value of one hex digit of a %XX escape (either case), or -1. */
static inline int ref_uri_hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

#endif
