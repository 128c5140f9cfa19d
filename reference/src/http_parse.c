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

#include "ref/http_fields.h"

#include "http_fields_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
    struct ref_slice raw;
    struct ref_http_request *req;
    struct ref_buf *body_buf;
    struct ref_parse_error *err;
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

/* A bound on the bytes of one line: any byte at or past `pos` other than the CR that
 * ends the line answers `code`. */
struct line_limit {
    size_t pos;
    enum ref_status code;
    const char *where;
    const char *reason;
};

/* qdtext of RFC 9110 section 5.6.4. */
static bool is_qdtext(uint8_t c)
{
    return ref_http_is_ows(c) || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c != 0x7f);
}

/* base + n without wrapping; offsets near SIZE_MAX cannot be real input anyway. */
static size_t add_sat(size_t base, size_t n)
{
    return base > SIZE_MAX - n ? SIZE_MAX : base + n;
}

static size_t offset_of(const struct parser *p, const uint8_t *ptr)
{
    return (size_t)(ptr - p->raw.ptr);
}

static enum ref_status
fail(struct parser *p, enum ref_status code, size_t offset, const char *where, const char *reason)
{
    return ref_parse_fail(p->err, code, offset, where, reason);
}

/* The input stopped where more was needed: offset is the input length. */
static enum ref_status incomplete(struct parser *p, const char *where)
{
    return fail(p, REF_E_INCOMPLETE, p->raw.len, where, "the input ends before the request does");
}

/* A byte the grammar does not allow here. A LF gets its own reason: lines end in CRLF
 * only, and a bare LF is how line-ending confusion (and request smuggling through
 * lenient front ends) shows up. */
static enum ref_status bad_byte(struct parser *p, size_t at, const char *where, const char *reason)
{
    if (p->raw.ptr[at] == '\n') {
        reason = "line ends in a bare LF instead of CRLF";
    }
    return fail(p, REF_E_MALFORMED, at, where, reason);
}

/* Requires CR LF at `at`. */
static enum ref_status
expect_crlf(struct parser *p, size_t at, const char *where, const char *reason)
{
    /* Both bytes at once when both are there: the usual case, in two tests, not four. */
    if (at + 2 <= p->raw.len &&
        (p->raw.ptr[at] | (unsigned)p->raw.ptr[at + 1] << 8) == ('\r' | (unsigned)'\n' << 8)) {
        return REF_OK;
    }
    if (at >= p->raw.len) {
        return incomplete(p, where);
    }
    if (p->raw.ptr[at] != '\r') {
        return bad_byte(p, at, where, reason);
    }
    if (at + 1 >= p->raw.len) {
        return incomplete(p, where);
    }
    if (p->raw.ptr[at + 1] != '\n') {
        return fail(p, REF_E_MALFORMED, at + 1, where, "CR is not followed by LF");
    }
    return REF_OK;
}

/* Reads the byte at `at` of a bounded line. Running out of input is checked before the
 * limit: a line that stops exactly at its limit may still end with the CR that comes
 * next. */
static enum ref_status
line_byte(struct parser *p, size_t at, const struct line_limit *lim, const char *where, uint8_t *c)
{
    if (at >= p->raw.len) {
        return incomplete(p, where);
    }
    *c = p->raw.ptr[at];
    if (at >= lim->pos && *c != '\r') {
        return fail(p, lim->code, at, lim->where, lim->reason);
    }
    return REF_OK;
}

/* request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 section 3),
 * with the target in origin form only: the service is addressed by path, and absolute
 * or asterisk forms would give a path the signature never covered. */
static enum ref_status parse_request_line(struct parser *p)
{
    const uint8_t *b = p->raw.ptr;
    size_t len = p->raw.len;
    size_t i = 0;

    for (;; i++) {
        if (i >= len) {
            return incomplete(p, W_METHOD);
        }
        if (b[i] == ' ') {
            break;
        }
        if (!ref_http_is_tchar(b[i])) {
            return bad_byte(p, i, W_METHOD, "method contains a byte that is not a token character");
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
        return incomplete(p, W_TARGET);
    }
    if (b[ts] != '/') {
        return bad_byte(p, ts, W_TARGET, "request-target is not in origin form (starts with '/')");
    }
    /* A fast scan first, as for field lines: visible ASCII bytes (never SP or CR) that are
     * in the input and under the limit are exactly the ones the checked loop below steps
     * over, so it only looks at the byte that ends the run. One comparison per byte
     * instead of six: a target can be 8 KiB. */
    size_t fast_end = len - ts < REF_MAX_TARGET_BYTES ? len : ts + REF_MAX_TARGET_BYTES;
    i = ref_http_scan_vchar(b, ts, fast_end);
    for (;; i++) {
        if (i >= len) {
            return incomplete(p, W_TARGET);
        }
        uint8_t c = b[i];
        if (c == ' ') {
            break;
        }
        if (c == '\r') {
            return fail(p, REF_E_MALFORMED, i, W_TARGET, "request line has no HTTP version");
        }
        if (c < 0x21 || c > 0x7e) {
            return bad_byte(p, i, W_TARGET,
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
            return incomplete(p, W_VERSION);
        }
        uint8_t c = b[vs + k];
        bool is_ok = k < 7 ? c == (uint8_t)prefix[k] : (c == '0' || c == '1');
        if (!is_ok) {
            return bad_byte(p, vs + k, W_VERSION, "HTTP version is not HTTP/1.1 or HTTP/1.0");
        }
    }
    p->req->version = ref_slice_make(b + vs, 8);
    p->is_http11 = b[vs + 7] == '1';
    REF_TRY(expect_crlf(p, vs + 8, W_LINE, "expected CRLF after the HTTP version"));
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
                                        const struct line_limit *lim,
                                        const struct section *sec,
                                        struct ref_header *h,
                                        size_t *next)
{
    /* Fast scans first: bytes that are in the input, under the line limit and of the
     * expected class are exactly the ones the checked loops below would step over, so
     * those loops only ever look at the byte that ends a run (and report it if it is
     * wrong). Most of a request's bytes are field lines, so this is where parsing spends
     * its time. */
    const uint8_t *b = p->raw.ptr;
    size_t fast_end = p->raw.len < lim->pos ? p->raw.len : lim->pos;
    size_t i = ls;
    uint8_t c = 0;
    /* Eight bytes at a time (http_fields_internal.h). A byte that ends the name and is in
     * the input and under the limit is where the checked loop below would stop at once: it
     * is read here instead. */
    i = ref_http_scan_token(b, i, fast_end);
    if (i < fast_end) {
        c = b[i];
        goto name_end;
    }
    for (;; i++) {
        REF_TRY(line_byte(p, i, lim, sec->where_name, &c));
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
        return bad_byte(p, i, sec->where_name,
                        "field name contains a byte that is not a token character");
    }
    if (i == ls) {
        return fail(p, REF_E_MALFORMED, i, sec->where_name, "field name is empty");
    }
    h->name = ref_slice_make(p->raw.ptr + ls, i - ls);

    size_t vs = i + 1;
    /* A CR is not a field byte, so the run stops at the end of the line at the latest;
     * that CR, in the input and under the limit, is where the checked loop below would
     * stop at once. */
    i = ref_http_scan_field_value(b, vs, fast_end);
    if (i < fast_end && b[i] == '\r') {
        goto value_end;
    }
    for (;; i++) {
        REF_TRY(line_byte(p, i, lim, sec->where_value, &c));
        if (c == '\r') {
            break;
        }
        if (!ref_http_is_field_byte(c)) {
            return bad_byte(p, i, sec->where_value, "field value contains a control byte");
        }
    }
value_end:
    REF_TRY(expect_crlf(p, i, sec->where_value, "expected CRLF after the field value"));
    h->value = ref_slice_trim_ows(ref_slice_make(p->raw.ptr + vs, i - vs));
    *next = i + 2;
    return REF_OK;
}

/* *( field-line CRLF ) CRLF. Header fields go to `store` in arrival order; trailer
 * fields (store == NULL) are checked and counted only. */
static enum ref_status
parse_fields(struct parser *p, const struct section *sec, struct ref_header *store, size_t *count)
{
    const uint8_t *b = p->raw.ptr;
    size_t hs = p->pos;
    /* A field line's CR may sit at pos, its LF one later: the section then ends exactly
     * at hs + REF_MAX_HEADER_BYTES. */
    struct line_limit lim = {
        .pos = add_sat(hs, REF_MAX_HEADER_BYTES - 2),
        .code = REF_E_HEADERS_TOO_LARGE,
        .where = sec->where,
        .reason = sec->too_large_reason,
    };
    size_t n = 0;
    size_t ls = hs;
    for (;;) {
        if (ls >= p->raw.len) {
            return incomplete(p, sec->where_line);
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
                return bad_byte(p, ls, sec->where_line, "expected a field line or CRLF");
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
    REF_TRY(expect_crlf(p, ls, sec->where_line, "expected CRLF to end the section"));
    p->pos = ls + 2;
    *count = n;
    return REF_OK;
}

static enum ref_status
skip_bws(struct parser *p, size_t *i, const struct line_limit *lim, uint8_t *c)
{
    for (;;) {
        REF_TRY(line_byte(p, *i, lim, W_CHUNK_EXT, c));
        if (!ref_http_is_ows(*c)) {
            return REF_OK;
        }
        (*i)++;
    }
}

/* quoted-string, *i at the opening DQUOTE; leaves *i after the closing one. */
static enum ref_status skip_quoted(struct parser *p, size_t *i, const struct line_limit *lim)
{
    uint8_t c = 0;
    for ((*i)++;; (*i)++) {
        REF_TRY(line_byte(p, *i, lim, W_CHUNK_EXT, &c));
        if (c == '"') {
            (*i)++;
            return REF_OK;
        }
        if (c == '\\') {
            (*i)++;
            REF_TRY(line_byte(p, *i, lim, W_CHUNK_EXT, &c));
            if (!ref_http_is_field_byte(c)) {
                return bad_byte(p, *i, W_CHUNK_EXT, "quoted-pair escapes a control byte");
            }
            continue;
        }
        if (!is_qdtext(c)) {
            return bad_byte(p, *i, W_CHUNK_EXT,
                            "quoted string is not closed or contains a control byte");
        }
    }
}

/* token, at least one byte. */
static enum ref_status
skip_token(struct parser *p, size_t *i, const struct line_limit *lim, const char *reason_missing)
{
    size_t start = *i;
    uint8_t c = 0;
    for (;; (*i)++) {
        REF_TRY(line_byte(p, *i, lim, W_CHUNK_EXT, &c));
        if (!ref_http_is_tchar(c)) {
            break;
        }
    }
    if (*i == start) {
        return bad_byte(p, *i, W_CHUNK_EXT, reason_missing);
    }
    return REF_OK;
}

/* chunk-size [ chunk-ext ] CRLF, with
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
 * Extensions are checked and ignored. The size is bounded by what is left of the body
 * limit, so it can never overflow. */
static enum ref_status parse_chunk_line(struct parser *p, size_t decoded, uint64_t *size_out)
{
    size_t ls = p->pos;
    struct line_limit lim = {
        .pos = add_sat(ls, REF_MAX_CHUNK_LINE_BYTES),
        .code = REF_E_BODY_TOO_LARGE,
        .where = W_CHUNK,
        .reason = "chunk-size line is longer than " STR(REF_MAX_CHUNK_LINE_BYTES) " bytes",
    };
    uint64_t room = (uint64_t)REF_MAX_BODY_BYTES - (uint64_t)decoded;
    uint64_t size = 0;
    size_t i = ls;
    uint8_t c = 0;
    for (;; i++) {
        REF_TRY(line_byte(p, i, &lim, W_CHUNK, &c));
        int v = ref_http_hex_value(c);
        if (v < 0) {
            break;
        }
        size = size * 16 + (uint64_t)v;
        if (size > room) {
            return fail(p, REF_E_BODY_TOO_LARGE, i, W_CHUNK,
                        "chunked body is over " STR(REF_MAX_BODY_BYTES) " bytes");
        }
    }
    if (i == ls) {
        return bad_byte(p, i, W_CHUNK, "chunk size is not a hexadecimal number");
    }

    for (;;) {
        size_t ws = i;
        REF_TRY(skip_bws(p, &i, &lim, &c));
        if (c == '\r') {
            /* BWS is only allowed before ';' or '=', never before the CRLF. */
            if (i != ws) {
                return fail(p, REF_E_MALFORMED, i, W_CHUNK_EXT,
                            "whitespace before the end of the chunk-size line");
            }
            break;
        }
        if (c != ';') {
            return bad_byte(p, i, W_CHUNK_EXT, "expected ';' or CRLF in the chunk-size line");
        }
        i++;
        REF_TRY(skip_bws(p, &i, &lim, &c));
        REF_TRY(skip_token(p, &i, &lim, "chunk extension name is missing"));
        size_t after_name = i;
        REF_TRY(skip_bws(p, &i, &lim, &c));
        if (c != '=') {
            /* Let the loop head decide what the whitespace (if any) was for. */
            i = after_name;
            continue;
        }
        i++;
        REF_TRY(skip_bws(p, &i, &lim, &c));
        if (c == '"') {
            REF_TRY(skip_quoted(p, &i, &lim));
        } else {
            REF_TRY(skip_token(p, &i, &lim, "chunk extension value is missing"));
        }
    }
    REF_TRY(expect_crlf(p, i, W_CHUNK, "expected CRLF after the chunk size"));
    p->pos = i + 2;
    *size_out = size;
    return REF_OK;
}

/* chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 section 7.1). */
static enum ref_status parse_chunked(struct parser *p)
{
    if (p->body_buf == NULL) {
        return fail(p, REF_E_MALFORMED, p->pos, W_BODY, "a chunked body needs a decode buffer");
    }
    ref_buf_reset(p->body_buf);
    size_t decoded = 0;
    for (;;) {
        uint64_t size = 0;
        REF_TRY(parse_chunk_line(p, decoded, &size));
        if (size == 0) {
            break;
        }
        /* size <= REF_MAX_BODY_BYTES here, so it fits a size_t. */
        size_t n = (size_t)size;
        size_t ds = p->pos;
        if (p->raw.len - ds < n) {
            return incomplete(p, W_CHUNK_DAT);
        }
        enum ref_status rc = ref_buf_append(p->body_buf, p->raw.ptr + ds, n);
        if (rc == REF_E_TOO_LARGE) {
            return fail(p, REF_E_BODY_TOO_LARGE, ds, W_CHUNK_DAT,
                        "the decoded body does not fit the body buffer");
        }
        if (rc != REF_OK) {
            return fail(p, rc, ds, W_CHUNK_DAT, "the body buffer could not grow");
        }
        decoded += n;
        REF_TRY(expect_crlf(p, ds + n, W_CHUNK_DAT, "chunk data is not followed by CRLF"));
        p->pos = ds + n + 2;
    }
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
    if (p->raw.len - bs < n) {
        return incomplete(p, W_BODY);
    }
    p->req->body = ref_slice_make(p->raw.ptr + bs, n);
    p->pos = bs + n;
    return REF_OK;
}

/* The request line and the header section, through the empty line that ends it. */
static enum ref_status parse_head(struct parser *p)
{
    if (!ref_slice_is_valid(p->raw)) {
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
    struct parser p = {.raw = raw, .req = out, .body_buf = body_buf, .err = err, .pos = 0};
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
    struct parser p = {.raw = raw, .req = out, .body_buf = NULL, .err = err, .pos = 0};
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
