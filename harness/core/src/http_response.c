/* SPDX-License-Identifier: Apache-2.0
 *
 * http_response.c - strict parsing of one raw HTTP/1.1 response.
 *
 * What it accepts: a status line "HTTP/1.x NNN reason", header lines ending in CRLF
 * (no obsolete folding), then a body framed by Content-Length, by chunked encoding, or
 * by the end of the input. Anything ambiguous (two Content-Lengths, both framings, an
 * unknown transfer coding) is refused: an ambiguous answer is exactly what a conformance
 * tool must not paper over.
 */
#include "harness/http_response.h"

#include "ref/http_chunked.h"
#include "ref/http_fields.h"

#include <string.h>

/* How a line can end wrongly, in the words of this parser's reports. */
#define BARE_LF      "bare LF: lines end in CRLF"
#define BARE_CR      "CR not followed by LF"
#define CUT_AFTER_CR "the input ends inside a line end"
#define CUT          "the input ends before the line does"

/* Trailer lines a chunked body may end with. */
#define MAX_TRAILERS 16

/* The shared chunked decoder in its line style (ref/http_chunked.h): a chunk-size line is
 * found whole first; a size of at most 8 hex digits; whatever follows it after ';', SP or
 * HTAB is skipped unchecked, since servers send extensions this parser has no use for. */
static const struct ref_http_chunk_labels s_chunk_labels = {
    .where_body = "body.chunked",
    .where_size = "body.chunk_size",
    .where_data = "body.chunk",
    .no_buffer = "chunked body without a buffer to decode it into",
    .cut = CUT,
    .cut_after_cr = CUT_AFTER_CR,
    .cut_in_data = "the input ends inside a chunk",
    .bare_lf = BARE_LF,
    .bare_cr = BARE_CR,
    .not_hex = "expected a hexadecimal chunk size",
    .too_many_digits = "chunk size too large",
    .line_too_long = "chunk-size line longer than the limit",
    .body_too_large = "decoded body larger than the limit",
    .buffer_full = "cannot hold the decoded body",
    .buffer_failed = "cannot hold the decoded body",
    .data_without_crlf = "chunk data not followed by CRLF",
};

static const struct ref_http_chunked_rules s_chunked_rules = {
    .style = REF_HTTP_CHUNK_LINES,
    .max_line_bytes = HARNESS_MAX_RESPONSE_CHUNK_LINE,
    .max_size_digits = 8,
    .max_body_bytes = HARNESS_MAX_RESPONSE_BODY_BYTES,
    .labels = &s_chunk_labels,
};

/* Finds the CRLF ending the line that starts at `from`, looking no further than `limit`
 * (the shared line-end finder, ref/http_fields.h). REF_OK with *eol at the CR;
 * REF_E_INCOMPLETE when the input ends first; REF_E_MALFORMED for a bare LF or CR;
 * REF_E_HEADERS_TOO_LARGE when no CRLF comes before the limit. */
static enum ref_status find_crlf(struct ref_slice raw,
                                 size_t from,
                                 size_t limit,
                                 size_t *eol,
                                 struct ref_parse_error *err,
                                 const char *where)
{
    size_t at = 0;
    switch (ref_http_find_line_end(raw, from, limit, &at)) {
        case REF_HTTP_LINE_CRLF:
            *eol = at;
            return REF_OK;
        case REF_HTTP_LINE_BARE_LF:
            return ref_parse_fail(err, REF_E_MALFORMED, at, where, BARE_LF);
        case REF_HTTP_LINE_BARE_CR:
            return ref_parse_fail(err, REF_E_MALFORMED, at, where, BARE_CR);
        case REF_HTTP_LINE_CUT_AFTER_CR:
            return ref_parse_fail(err, REF_E_INCOMPLETE, at, where, CUT_AFTER_CR);
        case REF_HTTP_LINE_CUT:
            return ref_parse_fail(err, REF_E_INCOMPLETE, at, where, CUT);
        default:
            return ref_parse_fail(err, REF_E_HEADERS_TOO_LARGE, at, where,
                                  "the response head is longer than the limit");
    }
}

static enum ref_status parse_status_line(struct ref_slice raw,
                                         size_t eol,
                                         struct harness_http_response *out,
                                         struct ref_parse_error *err)
{
    const uint8_t *p = raw.ptr;
    if (eol < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1')) {
        return ref_parse_fail(err, REF_E_MALFORMED, 0, "status_line.version",
                              "expected HTTP/1.0 or HTTP/1.1");
    }
    if (p[8] != ' ') {
        return ref_parse_fail(err, REF_E_MALFORMED, 8, "status_line", "expected SP after version");
    }
    int status = 0;
    for (size_t i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return ref_parse_fail(err, REF_E_MALFORMED, i, "status_line.status",
                                  "expected a three-digit status code");
        }
        status = status * 10 + (p[i] - '0');
    }
    if (status < 100 || status > 599) {
        return ref_parse_fail(err, REF_E_MALFORMED, 9, "status_line.status",
                              "the status code is not between 100 and 599");
    }
    out->version = ref_slice_make(p, 8);
    out->status = status;
    if (eol == 12) {
        out->reason = ref_slice_make(p + 12, 0); /* "HTTP/1.1 200" without SP: tolerated */
        return REF_OK;
    }
    if (p[12] != ' ') {
        return ref_parse_fail(err, REF_E_MALFORMED, 12, "status_line",
                              "expected SP after the status code");
    }
    for (size_t i = 13; i < eol; i++) {
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
            return ref_parse_fail(err, REF_E_MALFORMED, i, "status_line.reason",
                                  "control byte in the reason phrase");
        }
    }
    out->reason = ref_slice_make(p + 13, eol - 13);
    return REF_OK;
}

/* Parses header lines from *pos up to and including the empty line. */
static enum ref_status parse_header_block(struct ref_slice raw,
                                          size_t *pos,
                                          size_t limit,
                                          struct ref_header *headers,
                                          size_t cap,
                                          size_t *count,
                                          struct ref_parse_error *err)
{
    size_t i = *pos;
    *count = 0;
    for (;;) {
        size_t eol;
        REF_TRY(find_crlf(raw, i, limit, &eol, err, "header"));
        if (eol == i) {
            *pos = i + 2;
            return REF_OK;
        }
        const uint8_t *line = raw.ptr + i;
        if (line[0] == ' ' || line[0] == '\t') {
            return ref_parse_fail(err, REF_E_MALFORMED, i, "header",
                                  "obsolete line folding is refused");
        }
        /* The line without its CRLF, scanned by the shared field-line scan
         * (ref/http_fields.h), as the request parser scans a request's. */
        struct ref_http_field_line fl;
        ref_http_field_line_scan(ref_slice_make(raw.ptr, eol), i, &fl);
        size_t colon = fl.name_end;
        if (colon < eol && raw.ptr[colon] != ':') {
            return ref_parse_fail(err, REF_E_MALFORMED, colon, "header.name",
                                  "invalid byte in a header name");
        }
        if (colon == eol || colon == i) {
            return ref_parse_fail(err, REF_E_MALFORMED, colon, "header",
                                  colon == i ? "empty header name" : "header line without ':'");
        }
        size_t bad = fl.value_end;
        if (bad < eol) {
            return ref_parse_fail(err, REF_E_MALFORMED, bad, "header.value",
                                  "control byte in a header value");
        }
        if (*count >= cap) {
            return ref_parse_fail(err, REF_E_HEADERS_TOO_LARGE, i, "header",
                                  "more header lines than the limit");
        }
        headers[*count].name = ref_slice_make(line, colon - i);
        headers[*count].value =
            ref_slice_trim_ows(ref_slice_make(raw.ptr + colon + 1, eol - colon - 1));
        (*count)++;
        i = eol + 2;
    }
}

static bool eq_nocase(struct ref_slice s, const char *lit)
{
    return ref_slice_eq_nocase(s, ref_slice_from_cstr(lit));
}

/* The chunks by the shared decoder, then the trailer section as a header block of its
 * own, with the header limits counted afresh. */
static enum ref_status parse_chunked(struct ref_slice raw,
                                     size_t start,
                                     struct harness_http_response *out,
                                     struct ref_buf *body_buf,
                                     size_t *end,
                                     struct ref_parse_error *err)
{
    size_t i = 0;
    REF_TRY(ref_http_chunked_decode(&s_chunked_rules, raw, start, body_buf, &i, err));
    struct ref_header trailers[MAX_TRAILERS];
    size_t n = 0;
    REF_TRY(parse_header_block(raw, &i, i + HARNESS_MAX_RESPONSE_HEADER_BYTES, trailers,
                               MAX_TRAILERS, &n, err));
    *end = i;
    out->body = ref_buf_slice(body_buf);
    out->is_chunked = true;
    return REF_OK;
}

static bool has_token_nocase(struct ref_slice value, const char *token)
{
    /* A comma-separated list such as "keep-alive, Upgrade". */
    struct ref_slice rest = value;
    struct ref_slice tok;
    bool more = true;
    while (more) {
        more = ref_slice_split(&rest, ',', &tok);
        if (eq_nocase(ref_slice_trim_ows(tok), token)) {
            return true;
        }
    }
    return false;
}

enum ref_status harness_http_parse_head(struct ref_slice raw,
                                        struct harness_http_response *out,
                                        struct harness_http_head *head,
                                        struct ref_parse_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(head, 0, sizeof(*head));
    if (raw.len == 0) {
        return ref_parse_fail(err, REF_E_INCOMPLETE, 0, "status_line", "empty response");
    }
    size_t eol;
    REF_TRY(find_crlf(raw, 0, HARNESS_MAX_RESPONSE_HEADER_BYTES, &eol, err, "status_line"));
    REF_TRY(parse_status_line(raw, eol, out, err));
    size_t pos = eol + 2;
    REF_TRY(parse_header_block(raw, &pos, HARNESS_MAX_RESPONSE_HEADER_BYTES, out->headers,
                               HARNESS_MAX_RESPONSE_HEADERS, &out->num_headers, err));
    head->head_len = pos;

    const struct ref_header *cl = NULL;
    const struct ref_header *te = NULL;
    bool says_close = false;
    bool says_keep_alive = false;
    for (size_t i = 0; i < out->num_headers; i++) {
        const struct ref_header *h = &out->headers[i];
        if (eq_nocase(h->name, "Content-Length")) {
            if (cl != NULL) {
                return ref_parse_fail(err, REF_E_MALFORMED, (size_t)(h->name.ptr - raw.ptr),
                                      "header.content-length", "Content-Length repeated");
            }
            cl = h;
        } else if (eq_nocase(h->name, "Transfer-Encoding")) {
            if (te != NULL || !eq_nocase(h->value, "chunked")) {
                return ref_parse_fail(err, REF_E_MALFORMED, (size_t)(h->value.ptr - raw.ptr),
                                      "header.transfer-encoding",
                                      "only a single 'chunked' transfer coding is understood");
            }
            te = h;
        } else if (eq_nocase(h->name, "Connection")) {
            says_close = says_close || has_token_nocase(h->value, "close");
            says_keep_alive = says_keep_alive || has_token_nocase(h->value, "keep-alive");
        }
    }
    if (cl != NULL && te != NULL) {
        return ref_parse_fail(err, REF_E_MALFORMED, (size_t)(te->name.ptr - raw.ptr),
                              "header.transfer-encoding",
                              "both Content-Length and Transfer-Encoding");
    }
    /* HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 only when told. */
    bool is_10 = out->version.len == 8 && out->version.ptr[7] == '0';
    head->is_keep_alive = is_10 ? says_keep_alive && !says_close : !says_close;
    if (out->status < 200 || out->status == 204 || out->status == 304) {
        head->framing = HARNESS_FRAMING_EMPTY;
    } else if (te != NULL) {
        head->framing = HARNESS_FRAMING_CHUNKED;
    } else if (cl != NULL) {
        uint64_t n = 0;
        enum ref_status rc = ref_slice_to_u64(cl->value, UINT64_MAX / 2, &n);
        if (rc != REF_OK) {
            return ref_parse_fail(err, REF_E_MALFORMED, (size_t)(cl->value.ptr - raw.ptr),
                                  "header.content-length", "Content-Length is not a number");
        }
        if (n > HARNESS_MAX_RESPONSE_BODY_BYTES) {
            return ref_parse_fail(err, REF_E_BODY_TOO_LARGE, (size_t)(cl->value.ptr - raw.ptr),
                                  "header.content-length", "body larger than the limit");
        }
        head->framing = HARNESS_FRAMING_LENGTH;
        head->content_length = (size_t)n;
    } else {
        head->framing = HARNESS_FRAMING_CLOSE;
        head->is_keep_alive = false;
    }
    return REF_OK;
}

enum ref_status harness_http_parse_response(struct ref_slice raw,
                                            struct harness_http_response *out,
                                            struct ref_buf *body_buf,
                                            size_t *consumed,
                                            struct ref_parse_error *err)
{
    struct harness_http_head head;
    REF_TRY(harness_http_parse_head(raw, out, &head, err));
    size_t pos = head.head_len;
    size_t end = pos;
    switch (head.framing) {
        case HARNESS_FRAMING_EMPTY:
            out->body = ref_slice_make(raw.ptr + pos, 0);
            break;
        case HARNESS_FRAMING_CHUNKED:
            REF_TRY(parse_chunked(raw, pos, out, body_buf, &end, err));
            break;
        case HARNESS_FRAMING_LENGTH:
            if (raw.len - pos < head.content_length) {
                return ref_parse_fail(err, REF_E_INCOMPLETE, raw.len, "body",
                                      "the input ends before Content-Length bytes");
            }
            out->body = ref_slice_make(raw.ptr + pos, head.content_length);
            end = pos + head.content_length;
            break;
        default:
            /* No framing: the body runs until the connection closes, i.e. to the end. */
            if (raw.len - pos > HARNESS_MAX_RESPONSE_BODY_BYTES) {
                return ref_parse_fail(err, REF_E_BODY_TOO_LARGE,
                                      pos + HARNESS_MAX_RESPONSE_BODY_BYTES, "body",
                                      "body larger than the limit");
            }
            out->body = ref_slice_make(raw.ptr + pos, raw.len - pos);
            end = raw.len;
            break;
    }
    if (consumed != NULL) {
        *consumed = end;
    }
    return REF_OK;
}

const struct ref_header *harness_http_response_header(const struct harness_http_response *resp,
                                                      const char *name)
{
    struct ref_slice n = ref_slice_from_cstr(name);
    for (size_t i = 0; i < resp->num_headers; i++) {
        if (ref_slice_eq_nocase(resp->headers[i].name, n)) {
            return &resp->headers[i];
        }
    }
    return NULL;
}
