/* SPDX-License-Identifier: Apache-2.0
 *
 * http_lenient.h - a forgiving reader for request files written by hand or by test
 * suites (the AWS SigV4 suites' .req and request.txt files, `etch sigv4` inputs).
 *
 * Never used on the network path: the service parses with ref_http_parse_request, which
 * refuses everything this reader tolerates. It accepts LF or CRLF line ends, raw UTF-8 or
 * spaces inside the request target, obsolete line folding, "Name:value" with or without a
 * space, and a missing blank line at the end of the file.
 */
#ifndef REF_HTTP_LENIENT_H
#define REF_HTTP_LENIENT_H

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/slice.h"
#include "ref/status.h"

/* Parses one request file.
 *
 * - Request line: the method runs to the first space; the target is everything between
 *   that space and the last " HTTP/" on the line; the version is the rest.
 * - Headers: one per line up to a blank line or the end of the input. The name runs to the
 *   first ':'; the value is the rest with spaces and tabs trimmed from both ends. A line
 *   that starts with a space or tab continues the previous header: the pieces are joined
 *   with one space into `scratch`, and that header's value points there.
 * - Body: every byte after the blank line, as is (no trailing newline is added or
 *   removed, no Content-Length or chunked framing is applied).
 *
 * REF_OK: *out is filled; slices borrow from raw, or from scratch for folded values (so
 *   scratch must outlive *out and must not be appended to while *out is in use).
 * REF_E_MALFORMED: no request line, no " HTTP/", an empty method or target, a header line
 *   without ':' or with an empty name, a continuation line before any header.
 * REF_E_HEADERS_TOO_LARGE: more than REF_MAX_HEADERS header lines.
 * REF_E_TOO_LARGE / REF_E_NOMEM: scratch could not hold the folded values.
 * scratch may be NULL when the input has no folded lines (else REF_E_MALFORMED).
 * err->offset is relative to raw. */
REF_MUST_CHECK enum ref_status ref_http_parse_lenient(struct ref_slice raw,
                                                      struct ref_http_request *out,
                                                      struct ref_buf *scratch,
                                                      struct ref_parse_error *err);

#endif
