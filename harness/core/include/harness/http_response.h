/* SPDX-License-Identifier: Apache-2.0
 *
 * http_response.h - a strict, limited parser of raw HTTP/1.1 responses.
 *
 * Used on what the in-process reference writes and on what a live endpoint sends.
 * Zero-copy like the request parser: slices borrow from the input, except a chunked body,
 * which is decoded into a caller-owned buffer. Every limit below is tested at and over it.
 */
#ifndef HARNESS_HTTP_RESPONSE_H
#define HARNESS_HTTP_RESPONSE_H

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <stdbool.h>

#define HARNESS_MAX_RESPONSE_HEADERS      64
#define HARNESS_MAX_RESPONSE_HEADER_BYTES 16384 /* status line and header lines together */
#define HARNESS_MAX_RESPONSE_BODY_BYTES   (4 * 1024 * 1024)
#define HARNESS_MAX_RESPONSE_CHUNK_LINE   256

struct harness_http_response {
    struct ref_slice version; /* "HTTP/1.1" */
    int status;               /* 100..599 */
    struct ref_slice reason;  /* may be empty */
    struct ref_header headers[HARNESS_MAX_RESPONSE_HEADERS];
    size_t num_headers;
    struct ref_slice body; /* borrowed from raw, or from body_buf when chunked */
    bool is_chunked;
};

/* How the body of a response ends (RFC 9112 section 6.3). */
enum harness_http_framing {
    HARNESS_FRAMING_NONE = 0,
    HARNESS_FRAMING_EMPTY,   /* 1xx, 204, 304: no body at all */
    HARNESS_FRAMING_LENGTH,  /* Content-Length bytes */
    HARNESS_FRAMING_CHUNKED, /* chunked transfer coding */
    HARNESS_FRAMING_CLOSE,   /* neither: the body runs until the connection closes */
};

/* What a reader needs to know once the head has arrived. */
struct harness_http_head {
    size_t head_len; /* status line and header block, blank line included */
    enum harness_http_framing framing;
    size_t content_length; /* HARNESS_FRAMING_LENGTH only; at most the body limit */
    bool is_keep_alive;    /* the connection may carry another request afterwards */
};

/* Parses the status line and the header block at the start of raw, and the framing they
 * announce; the body is not looked at. Same statuses as harness_http_parse_response
 * (REF_E_INCOMPLETE until the blank line has arrived; REF_E_BODY_TOO_LARGE for a
 * Content-Length over the body limit). Live backends use it to know when to stop reading. */
REF_MUST_CHECK enum ref_status harness_http_parse_head(struct ref_slice raw,
                                                       struct harness_http_response *out,
                                                       struct harness_http_head *head,
                                                       struct ref_parse_error *err);

/* Parses one response at the start of raw. *consumed (may be NULL) gets its length. A
 * response with neither Content-Length nor chunked framing runs to the end of raw (the
 * connection close delimits it); 1xx, 204 and 304 have no body.
 * REF_OK; REF_E_INCOMPLETE: raw ends before the response does; REF_E_MALFORMED: bad
 * syntax, obsolete folding, conflicting or repeated framing headers;
 * REF_E_HEADERS_TOO_LARGE / REF_E_BODY_TOO_LARGE: a limit passed; REF_E_NOMEM.
 * err (may be NULL) says where, as an offset into raw. body_buf may be NULL, in which
 * case a chunked body is REF_E_MALFORMED. */
REF_MUST_CHECK enum ref_status harness_http_parse_response(struct ref_slice raw,
                                                           struct harness_http_response *out,
                                                           struct ref_buf *body_buf,
                                                           size_t *consumed,
                                                           struct ref_parse_error *err);

/* The first header with that name (any case), or NULL. */
const struct ref_header *harness_http_response_header(const struct harness_http_response *resp,
                                                      const char *name);

#endif
