/* SPDX-License-Identifier: Apache-2.0
 *
 * uri.h - the path and query handling shared by routing and SigV4.
 *
 * The router and the canonicaliser use the same normalisation, so the path that is
 * signed is the path that is routed (contract section 5).
 */
#ifndef REF_URI_H
#define REF_URI_H

#include "ref/buf.h"
#include "ref/slice.h"
#include "ref/status.h"

/* RFC 3986 dot-segment removal plus merging of repeated '/', on the raw (still encoded)
 * path. Only whole "." and ".." segments are removed; a trailing slash is kept; an empty
 * path becomes "/". Appends to out. */
REF_MUST_CHECK enum ref_status ref_uri_normalize_path(struct ref_slice path, struct ref_buf *out);

/* Percent-encodes every byte except A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash),
 * with upper-case hex digits. Appends to out. */
REF_MUST_CHECK enum ref_status ref_uri_encode(struct ref_slice in, bool keep_slash, struct ref_buf *out);

/* Decodes %XX escapes (either hex case). '+' stays '+'. A '%' not followed by two hex
 * digits is REF_E_MALFORMED with err->offset at the '%'. Appends to out. */
REF_MUST_CHECK enum ref_status ref_uri_decode(struct ref_slice in,
                                              struct ref_buf *out,
                                              struct ref_parse_error *err);

struct ref_query_param {
    struct ref_slice name;  /* raw, still encoded */
    struct ref_slice value; /* raw, still encoded; empty when there was no '=' */
    bool has_equals;
};

/* Splits a raw query on '&' and each part on its first '='. Empty parts ("a&&b") are
 * skipped. More than `cap` parameters is REF_E_TOO_LARGE. */
REF_MUST_CHECK enum ref_status ref_uri_split_query(struct ref_slice query,
                                                   struct ref_query_param *params,
                                                   size_t cap,
                                                   size_t *count);

#endif
