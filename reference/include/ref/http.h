/* SPDX-License-Identifier: Apache-2.0
 *
 * http.h - strict HTTP/1.1 request parsing (one whole request per call).
 *
 * Zero-copy: every slice in a parsed request borrows from the input, except a chunked
 * body, which is decoded into a caller-owned buffer. Header names keep their case and
 * values keep their bytes (SigV4 needs them as sent); repeated headers stay in arrival
 * order. The parser enforces the limits of limits.h and refuses obsolete line folding.
 */
#ifndef REF_HTTP_H
#define REF_HTTP_H

#include "ref/buf.h"
#include "ref/limits.h"
#include "ref/slice.h"
#include "ref/status.h"

struct ref_header {
    struct ref_slice name;  /* as received (any case) */
    struct ref_slice value; /* leading and trailing OWS removed, otherwise as received */
};

struct ref_http_request {
    struct ref_slice method;
    struct ref_slice target;  /* request-target exactly as received */
    struct ref_slice path;    /* target up to '?' */
    struct ref_slice query;   /* after '?', without it; empty when absent */
    bool has_query;           /* a '?' was present (even with nothing after it) */
    struct ref_slice version; /* "HTTP/1.1" or "HTTP/1.0" */
    struct ref_header headers[REF_MAX_HEADERS];
    size_t num_headers;
    struct ref_slice body; /* borrowed from the input, or from body_buf when chunked */
    bool is_chunked;
};

/* Parses exactly one complete request occupying all of `raw`.
 *
 * REF_OK: *out is filled (slices borrow from raw, or body_buf for a chunked body).
 * REF_E_INCOMPLETE: raw ends before the request does.
 * REF_E_MALFORMED: bad syntax, obsolete folding, conflicting framing, bytes after the
 *   request, a missing or repeated Host.
 * REF_E_TARGET_TOO_LONG, REF_E_HEADERS_TOO_LARGE, REF_E_BODY_TOO_LARGE: a limit passed.
 * REF_E_NOMEM: body_buf could not grow.
 * On any failure *err says where (offset into raw) and why.
 * body_buf may be NULL, in which case a chunked body is REF_E_MALFORMED. */
REF_MUST_CHECK enum ref_status ref_http_parse_request(struct ref_slice raw,
                                                      struct ref_http_request *out,
                                                      struct ref_buf *body_buf,
                                                      struct ref_parse_error *err);

/* Same as ref_http_parse_request, but a request may end before all of `raw`:
 * *consumed says how many bytes it took (for keep-alive streams and the harness's
 * response parser tests). */
REF_MUST_CHECK enum ref_status ref_http_parse_request_prefix(struct ref_slice raw,
                                                             struct ref_http_request *out,
                                                             struct ref_buf *body_buf,
                                                             size_t *consumed,
                                                             struct ref_parse_error *err);

/* Only the request line and the header section of a request that may not have fully
 * arrived, for a server that decides before the body is in (`etch serve` reads every
 * request's head this way, to frame its body and answer `Expect: 100-continue`).
 *
 * REF_OK: the head passed every check of ref_http_parse_request (framing and the
 * Content-Length limit included); *head_len is its length through the empty line, out
 * holds the request line and headers, out->is_chunked says the body is chunked, and
 * out->body is empty (the body is not looked at).
 * Any other status is the one ref_http_parse_request reports for the same bytes when the
 * fault lies in the head; REF_E_INCOMPLETE when the head has not all arrived. */
REF_MUST_CHECK enum ref_status ref_http_parse_head(struct ref_slice raw,
                                                   struct ref_http_request *out,
                                                   size_t *head_len,
                                                   struct ref_parse_error *err);

/* The first header with this name (case-insensitive), or NULL. */
const struct ref_header *ref_http_find_header(const struct ref_header *headers,
                                              size_t num_headers,
                                              struct ref_slice name);
/* How many headers have this name. */
size_t ref_http_count_header(const struct ref_header *headers,
                             size_t num_headers,
                             struct ref_slice name);

#endif
