/* SPDX-License-Identifier: Apache-2.0
 *
 * http_parse.c - strict HTTP/1.1 request parser (RFC 9112) for the reference service.
 *
 * One left-to-right pass over a request the caller holds in full. Every slice of the
 * result borrows from the input; only a chunked body is copied, decoded into the
 * caller's body_buf, which is the one place this file can allocate. The first error
 * found while scanning wins and is reported with its offset, a dotted `where` and a
 * static reason. Limits (limits.h) are checked as soon as a prefix passes them, so an
 * over-limit request that is also cut short reports the limit, not REF_E_INCOMPLETE.
 * The chunks of a chunked body are read by the shared decoder (http_chunked.c) in its
 * strict style, with this file's limits and words; field lines are found by the shared
 * field-line scan, and bytes judged by the strict readers' checks (http_fields_internal.h).
 *
 * How the limits are counted, and what passing them answers:
 * - REF_MAX_METHOD_BYTES: bytes of the method (REF_E_MALFORMED: no method is that long).
 * - REF_MAX_TARGET_BYTES: bytes of the request-target (REF_E_TARGET_TOO_LONG, 414).
 * - REF_MAX_HEADERS: field lines in the header section, and separately in the trailer
 *   section of a chunked body (REF_E_HEADERS_TOO_LARGE, 431).
 * - REF_MAX_HEADER_BYTES: the field lines of a section with their CRLFs, not counting
 *   the empty line that ends the section (REF_E_HEADERS_TOO_LARGE, 431).
 * - REF_MAX_CHUNK_LINE_BYTES: a chunk-size line (size and extensions) without its CRLF
 *   (REF_E_BODY_TOO_LARGE, 413: it is body framing).
 * - REF_MAX_BODY_BYTES: the declared Content-Length, or the sum of the chunk sizes
 *   (REF_E_BODY_TOO_LARGE, 413). The caller's body_buf may cap a chunked body lower.
 */
#include "ref/http.h"

#include "ref/http_chunked.h"
#include "ref/http_fields.h"

#include "http_fields_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

/* Dotted names for ref_parse_error.where. */
#define W_REQUEST   "request"
#define W_LINE      "request-line"
#define W_METHOD    "request-line.method"
#define W_TARGET    "request-line.target"
#define W_VERSION   "request-line.version"
#define W_HOST      "header.host"
#define W_CL        "header.content-length"
#define W_TE        "header.transfer-encoding"
#define W_BODY      "body"
#define W_CHUNK     "body.chunk-size"
#define W_CHUNK_EXT "body.chunk-ext"
#define W_CHUNK_DAT "body.chunk-data"

struct parser {
    struct ref_http_lexer lx; /* the input and where errors go */
    struct ref_http_request *req;
    struct ref_buf *body_buf;
    size_t pos; /* the next byte to read */
    bool is_http11;
    bool has_host;
    bool has_content_length;
    bool has_transfer_encoding;
    uint64_t content_length;
};

/* The header section and a chunked body's trailer section share one grammar and the
 * same limits; they differ in names, in where the fields go, and in which fields may
 * appear. */
struct section {
    const char *where;      /* limits */
    const char *where_line; /* line structure: folding, the empty line that ends it */
    const char *where_name;
    const char *where_value;
    const char *too_many_reason;
    const char *too_large_reason;
    bool is_trailer;
};

static const struct section s_header_section = {
    .where = "header",
    .where_line = "header.line",
    .where_name = "header.name",
    .where_value = "header.value",
    .too_many_reason = "more than " STR(REF_MAX_HEADERS) " header fields",
    .too_large_reason = "header section is longer than " STR(REF_MAX_HEADER_BYTES) " bytes",
    .is_trailer = false,
};

static const struct section s_trailer_section = {
    .where = "trailer",
    .where_line = "trailer.line",
    .where_name = "trailer.name",
    .where_value = "trailer.value",
    .too_many_reason = "more than " STR(REF_MAX_HEADERS) " trailer fields",
    .too_large_reason = "trailer section is longer than " STR(REF_MAX_HEADER_BYTES) " bytes",
    .is_trailer = true,
};

#define INCOMPLETE_REASON "the input ends before the request does"
#define LEXER(raw_, err_)                                                                          \
    (struct ref_http_lexer)                                                                        \
    {                                                                                              \
        .raw = (raw_), .err = (err_), .incomplete_reason = INCOMPLETE_REASON                       \
    }

/* The chunked decoder's strict style, with this parser's limits and words. */
static const struct ref_http_chunk_labels s_chunk_labels = {
    .where_body = W_BODY,
    .where_size = W_CHUNK,
    .where_ext = W_CHUNK_EXT,
    .where_data = W_CHUNK_DAT,
    .no_buffer = "a chunked body needs a decode buffer",
    .cut = INCOMPLETE_REASON,
    .not_hex = "chunk size is not a hexadecimal number",
    .line_too_long = "chunk-size line is longer than " STR(REF_MAX_CHUNK_LINE_BYTES) " bytes",
    .body_too_large = "chunked body is over " STR(REF_MAX_BODY_BYTES) " bytes",
    .buffer_full = "the decoded body does not fit the body buffer",
    .buffer_failed = "the body buffer could not grow",
    .data_without_crlf = "chunk data is not followed by CRLF",
};

static const struct ref_http_chunked_rules s_chunked_rules = {
    .style = REF_HTTP_CHUNK_STRICT,
    .max_line_bytes = REF_MAX_CHUNK_LINE_BYTES + 2,
    .max_size_digits = 0,
    .max_body_bytes = REF_MAX_BODY_BYTES,
    .labels = &s_chunk_labels,
};

static size_t offset_of(const struct parser *p, const uint8_t *ptr)
{
    return (size_t)(ptr - p->lx.raw.ptr);
}

static enum ref_status
fail(struct parser *p, enum ref_status code, size_t offset, const char *where, const char *reason)
{
    return ref_http_lex_fail(&p->lx, code, offset, where, reason);
}

/* request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 section 3),
 * with the target in origin form only: the service is addressed by path, and absolute
 * or asterisk forms would give a path the signature never covered. */
static enum ref_status parse_request_line(struct parser *p)
{
    const uint8_t *b = p->lx.raw.ptr;
    size_t len = p->lx.raw.len;
    size_t i = 0;

    for (;; i++) {
        if (i >= len) {
            return ref_http_lex_incomplete(&p->lx, W_METHOD);
        }
        if (b[i] == ' ') {
            break;
        }
        if (!ref_http_is_tchar(b[i])) {
            return ref_http_lex_bad_byte(&p->lx, i, W_METHOD,
                                         "method contains a byte that is not a token character");
        }
        if (i >= REF_MAX_METHOD_BYTES) {
            return fail(p, REF_E_MALFORMED, i, W_METHOD,
                        "method is longer than " STR(REF_MAX_METHOD_BYTES) " bytes");
        }
    }
    if (i == 0) {
        return fail(p, REF_E_MALFORMED, 0, W_METHOD, "method is empty");
    }
    p->req->method = ref_slice_make(b, i);

    size_t ts = i + 1;
    if (ts >= len) {
        return ref_http_lex_incomplete(&p->lx, W_TARGET);
    }
    if (b[ts] != '/') {
        return ref_http_lex_bad_byte(&p->lx, ts, W_TARGET,
                                     "request-target is not in origin form (starts with '/')");
    }
    /* A fast scan first, as for field lines: visible ASCII bytes (never SP or CR) that are
     * in the input and under the limit are exactly the ones the checked loop below steps
     * over, so it only looks at the byte that ends the run. One comparison per byte
     * instead of six: a target can be 8 KiB. */
    size_t fast_end = len - ts < REF_MAX_TARGET_BYTES ? len : ts + REF_MAX_TARGET_BYTES;
    i = ref_http_scan_vchar(b, ts, fast_end);
    for (;; i++) {
        if (i >= len) {
            return ref_http_lex_incomplete(&p->lx, W_TARGET);
        }
        uint8_t c = b[i];
        if (c == ' ') {
            break;
        }
        if (c == '\r') {
            return fail(p, REF_E_MALFORMED, i, W_TARGET, "request line has no HTTP version");
        }
        if (c < 0x21 || c > 0x7e) {
            return ref_http_lex_bad_byte(
                &p->lx, i, W_TARGET,
                "request-target contains a control, non-ASCII or whitespace byte");
        }
        if (i - ts >= REF_MAX_TARGET_BYTES) {
            return fail(p, REF_E_TARGET_TOO_LONG, i, W_TARGET,
                        "request-target is longer than " STR(REF_MAX_TARGET_BYTES) " bytes");
        }
    }
    struct ref_slice target = ref_slice_make(b + ts, i - ts);
    p->req->target = target;
    /* The path ends at the first '?'; without one the query is empty (at the end). */
    struct ref_slice rest = target;
    p->req->has_query = ref_slice_split(&rest, '?', &p->req->path);
    p->req->query = rest;

    /* HTTP-version is case-sensitive (RFC 9112 section 2.3); only 1.1 and 1.0 are spoken. */
    static const char prefix[] = "HTTP/1.";
    size_t vs = i + 1;
    for (size_t k = 0; k < 8; k++) {
        if (vs + k >= len) {
            return ref_http_lex_incomplete(&p->lx, W_VERSION);
        }
        uint8_t c = b[vs + k];
        bool is_ok = k < 7 ? c == (uint8_t)prefix[k] : (c == '0' || c == '1');
        if (!is_ok) {
            return ref_http_lex_bad_byte(&p->lx, vs + k, W_VERSION,
                                         "HTTP version is not HTTP/1.1 or HTTP/1.0");
        }
    }
    p->req->version = ref_slice_make(b + vs, 8);
    p->is_http11 = b[vs + 7] == '1';
    REF_TRY(
        ref_http_lex_expect_crlf(&p->lx, vs + 8, W_LINE, "expected CRLF after the HTTP version"));
    p->pos = vs + 10;
    return REF_OK;
}

/* Content-Length = 1*DIGIT, bounded by the body limit while it is read, so that no
 * digit string can overflow and a huge declaration is refused before any body arrives. */
static enum ref_status parse_content_length(struct parser *p, struct ref_slice v, size_t at)
{
    if (v.len == 0) {
        return fail(p, REF_E_MALFORMED, at, W_CL, "Content-Length is empty");
    }
    uint64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9') {
            return fail(p, REF_E_MALFORMED, at + i, W_CL, "Content-Length is not a decimal number");
        }
        n = n * 10 + (uint64_t)(v.ptr[i] - '0');
        if (n > REF_MAX_BODY_BYTES) {
            return fail(p, REF_E_BODY_TOO_LARGE, at + i, W_CL,
                        "Content-Length is over " STR(REF_MAX_BODY_BYTES) " bytes");
        }
    }
    p->content_length = n;
    return REF_OK;
}

/* Framing and Host rules, applied to each header as it is read so that the first
 * offending header (left to right) is the one reported. Any doubt about where the body
 * ends is refused: two Content-Lengths, Content-Length with Transfer-Encoding (RFC 9112
 * section 6.3 calls that smuggling), a coding other than exactly "chunked". */
static enum ref_status check_header(struct parser *p, const struct ref_header *h)
{
    size_t name_at = offset_of(p, h->name.ptr);
    size_t value_at = offset_of(p, h->value.ptr);

    /* Only three names matter here, and their lengths tell most headers apart at once. */
    if (h->name.len != 4 && h->name.len != 14 && h->name.len != 17) {
        return REF_OK;
    }
    if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("Host"))) {
        if (p->has_host) {
            return fail(p, REF_E_MALFORMED, name_at, W_HOST, "Host is repeated");
        }
        p->has_host = true;
    } else if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("Content-Length"))) {
        if (p->has_content_length) {
            return fail(p, REF_E_MALFORMED, name_at, W_CL, "Content-Length is repeated");
        }
        if (p->has_transfer_encoding) {
            return fail(p, REF_E_MALFORMED, name_at, W_CL,
                        "both Transfer-Encoding and Content-Length are present");
        }
        p->has_content_length = true;
        return parse_content_length(p, h->value, value_at);
    } else if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("Transfer-Encoding"))) {
        /* RFC 9112 section 6.1: HTTP/1.0 has no chunked framing; treat it as faulty. */
        if (!p->is_http11) {
            return fail(p, REF_E_MALFORMED, name_at, W_TE,
                        "Transfer-Encoding is not allowed in an HTTP/1.0 request");
        }
        if (p->has_transfer_encoding) {
            return fail(p, REF_E_MALFORMED, name_at, W_TE, "Transfer-Encoding is repeated");
        }
        if (p->has_content_length) {
            return fail(p, REF_E_MALFORMED, name_at, W_TE,
                        "both Content-Length and Transfer-Encoding are present");
        }
        if (!ref_slice_eq_nocase(h->value, REF_SLICE_LIT("chunked"))) {
            return fail(p, REF_E_MALFORMED, value_at, W_TE,
                        "the only transfer coding accepted is chunked");
        }
        p->has_transfer_encoding = true;
    }
    return REF_OK;
}

/* Trailer fields are parsed and dropped (not signed, not routed). Fields that would
 * change framing or the target host have no business there (RFC 9110 section 6.5.1);
 * refusing them keeps the reference strict rather than silently ignoring them. */
static enum ref_status check_trailer(struct parser *p, const struct ref_header *h)
{
    if (ref_slice_eq_nocase(h->name, REF_SLICE_LIT("Content-Length")) ||
        ref_slice_eq_nocase(h->name, REF_SLICE_LIT("Transfer-Encoding")) ||
        ref_slice_eq_nocase(h->name, REF_SLICE_LIT("Host"))) {
        return fail(p, REF_E_MALFORMED, offset_of(p, h->name.ptr), s_trailer_section.where_name,
                    "framing fields and Host are not allowed in the trailer section");
    }
    return REF_OK;
}

/* field-line = field-name ":" OWS field-value OWS, the line starting at ls (known not to
 * be empty, folded or a bare LF). */
static enum ref_status parse_field_line(struct parser *p,
                                        size_t ls,
                                        const struct ref_http_line_limit *lim,
                                        const struct section *sec,
                                        struct ref_header *h,
                                        size_t *next)
{
    /* Fast scans first: bytes that are in the input, under the line limit and of the
     * expected class are exactly the ones the checked loops below would step over, so
     * those loops only ever look at the byte that ends a run (and report it if it is
     * wrong). Most of a request's bytes are field lines, so this is where parsing spends
     * its time. */
    const uint8_t *b = p->lx.raw.ptr;
    size_t fast_end = p->lx.raw.len < lim->pos ? p->lx.raw.len : lim->pos;
    uint8_t c = 0;
    /* The shared field-line scan, eight bytes at a time (http_fields_internal.h). A byte
     * that ends the name and is in the input and under the limit is where the checked loop
     * below would stop at once: it is read here instead. */
    struct ref_http_field_line fl;
    ref_http_scan_field_line(b, ls, fast_end, &fl);
    size_t i = fl.name_end;
    if (i < fast_end) {
        c = b[i];
        goto name_end;
    }
    for (;; i++) {
        REF_TRY(ref_http_lex_line_byte(&p->lx, i, lim, sec->where_name, &c));
        if (!ref_http_is_tchar(c)) {
            break;
        }
    }
name_end:
    if (c != ':') {
        if (ref_http_is_ows(c)) {
            return fail(p, REF_E_MALFORMED, i, sec->where_name,
                        "whitespace between the field name and ':'");
        }
        return ref_http_lex_bad_byte(&p->lx, i, sec->where_name,
                                     "field name contains a byte that is not a token character");
    }
    if (i == ls) {
        return fail(p, REF_E_MALFORMED, i, sec->where_name, "field name is empty");
    }
    h->name = ref_slice_make(p->lx.raw.ptr + ls, i - ls);

    size_t vs = i + 1;
    /* The scan above went on into the value when the name ended before fast_end (with the
     * ':' just checked); otherwise the value starts at or past fast_end and has no fast
     * run. A CR is not a field byte, so the run stops at the end of the line at the latest;
     * that CR, in the input and under the limit, is where the checked loop below would
     * stop at once. */
    i = fl.name_end < fast_end ? fl.value_end : vs;
    if (i < fast_end && b[i] == '\r') {
        goto value_end;
    }
    for (;; i++) {
        REF_TRY(ref_http_lex_line_byte(&p->lx, i, lim, sec->where_value, &c));
        if (c == '\r') {
            break;
        }
        if (!ref_http_is_field_byte(c)) {
            return ref_http_lex_bad_byte(&p->lx, i, sec->where_value,
                                         "field value contains a control byte");
        }
    }
value_end:
    REF_TRY(ref_http_lex_expect_crlf(&p->lx, i, sec->where_value,
                                     "expected CRLF after the field value"));
    h->value = ref_slice_trim_ows(ref_slice_make(p->lx.raw.ptr + vs, i - vs));
    *next = i + 2;
    return REF_OK;
}

/* *( field-line CRLF ) CRLF. Header fields go to `store` in arrival order; trailer
 * fields (store == NULL) are checked and counted only. */
static enum ref_status
parse_fields(struct parser *p, const struct section *sec, struct ref_header *store, size_t *count)
{
    const uint8_t *b = p->lx.raw.ptr;
    size_t hs = p->pos;
    /* A field line's CR may sit at pos, its LF one later: the section then ends exactly
     * at hs + REF_MAX_HEADER_BYTES. */
    struct ref_http_line_limit lim = {
        .pos = ref_http_add_sat(hs, REF_MAX_HEADER_BYTES - 2),
        .code = REF_E_HEADERS_TOO_LARGE,
        .where = sec->where,
        .reason = sec->too_large_reason,
    };
    size_t n = 0;
    size_t ls = hs;
    for (;;) {
        if (ls >= p->lx.raw.len) {
            return ref_http_lex_incomplete(&p->lx, sec->where_line);
        }
        uint8_t c = b[ls];
        /* A field line starts with a tchar, which is none of the bytes tested here: one
         * test for the usual line instead of four. */
        if (!ref_http_is_tchar(c)) {
            if (c == '\r') {
                break;
            }
            /* RFC 9112 section 5.2: a server must reject obs-fold or replace it; the
             * contract says reject (400). */
            if (ref_http_is_ows(c)) {
                return fail(p, REF_E_MALFORMED, ls, sec->where_line,
                            "a field line starts with whitespace (obsolete line folding)");
            }
            if (c == '\n') {
                return ref_http_lex_bad_byte(&p->lx, ls, sec->where_line,
                                             "expected a field line or CRLF");
            }
        }
        if (n >= REF_MAX_HEADERS) {
            return fail(p, REF_E_HEADERS_TOO_LARGE, ls, sec->where, sec->too_many_reason);
        }
        struct ref_header h;
        size_t next = 0;
        REF_TRY(parse_field_line(p, ls, &lim, sec, &h, &next));
        REF_TRY(sec->is_trailer ? check_trailer(p, &h) : check_header(p, &h));
        if (store != NULL) {
            store[n] = h;
        }
        n++;
        ls = next;
    }
    REF_TRY(
        ref_http_lex_expect_crlf(&p->lx, ls, sec->where_line, "expected CRLF to end the section"));
    p->pos = ls + 2;
    *count = n;
    return REF_OK;
}

/* chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 section 7.1): the chunks
 * by the shared decoder in its strict style, the trailer section as the header section is
 * read. */
static enum ref_status parse_chunked(struct parser *p)
{
    if (p->body_buf != NULL) {
        ref_buf_reset(p->body_buf);
    }
    REF_TRY(ref_http_chunked_decode(&s_chunked_rules, p->lx.raw, p->pos, p->body_buf, &p->pos,
                                    p->lx.err));
    size_t num_trailers = 0;
    REF_TRY(parse_fields(p, &s_trailer_section, NULL, &num_trailers));
    p->req->body = ref_buf_slice(p->body_buf);
    p->req->is_chunked = true;
    return REF_OK;
}

/* RFC 9112 section 6.3: a request with neither Content-Length nor Transfer-Encoding has
 * an empty body. */
static enum ref_status parse_body(struct parser *p)
{
    if (p->has_transfer_encoding) {
        return parse_chunked(p);
    }
    size_t bs = p->pos;
    /* content_length <= REF_MAX_BODY_BYTES, checked while it was read. */
    size_t n = (size_t)p->content_length;
    if (p->lx.raw.len - bs < n) {
        return ref_http_lex_incomplete(&p->lx, W_BODY);
    }
    p->req->body = ref_slice_make(p->lx.raw.ptr + bs, n);
    p->pos = bs + n;
    return REF_OK;
}

/* The request line and the header section, through the empty line that ends it. */
static enum ref_status parse_head(struct parser *p)
{
    if (!ref_slice_is_valid(p->lx.raw)) {
        return fail(p, REF_E_MALFORMED, 0, W_REQUEST, "the input is not a valid slice");
    }
    REF_TRY(parse_request_line(p));
    size_t num_headers = 0;
    REF_TRY(parse_fields(p, &s_header_section, p->req->headers, &num_headers));
    p->req->num_headers = num_headers;
    /* Exactly one Host (a second one is refused as it is read). RFC 9112 section 3.2
     * requires it of HTTP/1.1; the reference requires it of HTTP/1.0 too, as http.h
     * promises: every request the service accepts is SigV4-signed with host among the
     * signed headers, so a request without one could never succeed anyway. Reported at
     * the empty line that ends the header section. */
    if (!p->has_host) {
        return fail(p, REF_E_MALFORMED, p->pos - 2, W_HOST, "the request has no Host header");
    }
    return REF_OK;
}

static enum ref_status parse(struct ref_slice raw,
                             struct ref_http_request *out,
                             struct ref_buf *body_buf,
                             size_t *consumed,
                             struct ref_parse_error *err)
{
    *out = (struct ref_http_request){.num_headers = 0};
    struct parser p = {.lx = LEXER(raw, err), .req = out, .body_buf = body_buf, .pos = 0};
    REF_TRY(parse_head(&p));
    REF_TRY(parse_body(&p));
    *consumed = p.pos;
    return REF_OK;
}

enum ref_status ref_http_parse_head(struct ref_slice raw,
                                    struct ref_http_request *out,
                                    size_t *head_len,
                                    struct ref_parse_error *err)
{
    *out = (struct ref_http_request){.num_headers = 0};
    *head_len = 0;
    struct parser p = {.lx = LEXER(raw, err), .req = out, .body_buf = NULL, .pos = 0};
    REF_TRY(parse_head(&p));
    out->is_chunked = p.has_transfer_encoding;
    *head_len = p.pos;
    return REF_OK;
}

enum ref_status ref_http_parse_request(struct ref_slice raw,
                                       struct ref_http_request *out,
                                       struct ref_buf *body_buf,
                                       struct ref_parse_error *err)
{
    size_t consumed = 0;
    REF_TRY(parse(raw, out, body_buf, &consumed, err));
    if (consumed != raw.len) {
        return ref_parse_fail(err, REF_E_MALFORMED, consumed, W_REQUEST,
                              "bytes follow the end of the request");
    }
    return REF_OK;
}

enum ref_status ref_http_parse_request_prefix(struct ref_slice raw,
                                              struct ref_http_request *out,
                                              struct ref_buf *body_buf,
                                              size_t *consumed,
                                              struct ref_parse_error *err)
{
    *consumed = 0;
    return parse(raw, out, body_buf, consumed, err);
}

const struct ref_header *
ref_http_find_header(const struct ref_header *headers, size_t num_headers, struct ref_slice name)
{
    for (size_t i = 0; i < num_headers; i++) {
        /* The inline length test skips the call for almost every header: the verifier
         * runs this once per signed header name. */
        if (headers[i].name.len == name.len && ref_slice_eq_nocase(headers[i].name, name)) {
            return &headers[i];
        }
    }
    return NULL;
}

size_t
ref_http_count_header(const struct ref_header *headers, size_t num_headers, struct ref_slice name)
{
    size_t n = 0;
    for (size_t i = 0; i < num_headers; i++) {
        /* The same inline length test as ref_http_find_header's. */
        if (headers[i].name.len == name.len && ref_slice_eq_nocase(headers[i].name, name)) {
            n++;
        }
    }
    return n;
}
