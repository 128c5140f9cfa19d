/* SPDX-License-Identifier: Apache-2.0
 *
 * http_chunked.c - the chunked transfer coding's decoder (http_chunked.h), for requests
 * and responses alike.
 *
 * chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 section 7.1); this file
 * reads up to the trailer section. One loop: a chunk-size line, then (unless the size is
 * zero) the chunk's data and the CRLF after it, again. The rules' style picks how a
 * chunk-size line and a data CRLF are read (http_chunked.h says how the two differ); the
 * loop, the body limit, the buffer and the offsets are common. Input is borrowed; only
 * chunk data is copied, into the caller's buffer.
 */
#include "ref/http_chunked.h"

#include "ref/http_fields.h"

#include "http_fields_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct decoder {
    const struct ref_http_chunked_rules *rules;
    const struct ref_http_chunk_labels *w;
    struct ref_http_lexer lx;
    struct ref_buf *body;
    size_t pos;       /* the next byte to read */
    uint64_t decoded; /* the sizes of the chunks so far, added up */
};

static enum ref_status fail(const struct decoder *d,
                            enum ref_status code,
                            size_t offset,
                            const char *where,
                            const char *reason)
{
    return ref_http_lex_fail(&d->lx, code, offset, where, reason);
}

/* qdtext of RFC 9110 section 5.6.4. */
static bool is_qdtext(uint8_t c)
{
    return ref_http_is_ows(c) || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c != 0x7f);
}

static enum ref_status
skip_bws(const struct decoder *d, size_t *i, const struct ref_http_line_limit *lim, uint8_t *c)
{
    for (;;) {
        REF_TRY(ref_http_lex_line_byte(&d->lx, *i, lim, d->w->where_ext, c));
        if (!ref_http_is_ows(*c)) {
            return REF_OK;
        }
        (*i)++;
    }
}

/* quoted-string, *i at the opening DQUOTE; leaves *i after the closing one. */
static enum ref_status
skip_quoted(const struct decoder *d, size_t *i, const struct ref_http_line_limit *lim)
{
    const char *where = d->w->where_ext;
    uint8_t c = 0;
    for ((*i)++;; (*i)++) {
        REF_TRY(ref_http_lex_line_byte(&d->lx, *i, lim, where, &c));
        if (c == '"') {
            (*i)++;
            return REF_OK;
        }
        if (c == '\\') {
            (*i)++;
            REF_TRY(ref_http_lex_line_byte(&d->lx, *i, lim, where, &c));
            if (!ref_http_is_field_byte(c)) {
                return ref_http_lex_bad_byte(&d->lx, *i, where,
                                             "quoted-pair escapes a control byte");
            }
            continue;
        }
        if (!is_qdtext(c)) {
            return ref_http_lex_bad_byte(&d->lx, *i, where,
                                         "quoted string is not closed or contains a control byte");
        }
    }
}

/* token, at least one byte. */
static enum ref_status skip_token(const struct decoder *d,
                                  size_t *i,
                                  const struct ref_http_line_limit *lim,
                                  const char *reason_missing)
{
    size_t start = *i;
    uint8_t c = 0;
    for (;; (*i)++) {
        REF_TRY(ref_http_lex_line_byte(&d->lx, *i, lim, d->w->where_ext, &c));
        if (!ref_http_is_tchar(c)) {
            break;
        }
    }
    if (*i == start) {
        return ref_http_lex_bad_byte(&d->lx, *i, d->w->where_ext, reason_missing);
    }
    return REF_OK;
}

/* STRICT: chunk-size [ chunk-ext ] CRLF, with
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
 * judged byte by byte. Extensions are checked and ignored. The size is bounded by what is
 * left of the body limit while it is read, so it can never overflow. */
static enum ref_status strict_size_line(struct decoder *d, uint64_t *size_out)
{
    const struct ref_http_lexer *lx = &d->lx;
    const struct ref_http_chunk_labels *w = d->w;
    size_t max_digits = d->rules->max_size_digits;
    size_t ls = d->pos;
    /* The line's CR may sit at pos, its LF one later. */
    size_t max_line = d->rules->max_line_bytes;
    struct ref_http_line_limit lim = {
        .pos = ref_http_add_sat(ls, max_line > 2 ? max_line - 2 : 0),
        .code = REF_E_BODY_TOO_LARGE,
        .where = w->where_size,
        .reason = w->line_too_long,
    };
    uint64_t room = d->rules->max_body_bytes - d->decoded;
    uint64_t size = 0;
    size_t i = ls;
    uint8_t c = 0;
    for (;; i++) {
        REF_TRY(ref_http_lex_line_byte(lx, i, &lim, w->where_size, &c));
        int v = ref_http_hex_value(c);
        if (v < 0) {
            break;
        }
        if (max_digits != 0 && i - ls >= max_digits) {
            return fail(d, REF_E_BODY_TOO_LARGE, i, w->where_size, w->too_many_digits);
        }
        size = size * 16 + (uint64_t)v;
        if (size > room) {
            return fail(d, REF_E_BODY_TOO_LARGE, i, w->where_size, w->body_too_large);
        }
    }
    if (i == ls) {
        return ref_http_lex_bad_byte(lx, i, w->where_size, w->not_hex);
    }

    for (;;) {
        size_t ws = i;
        REF_TRY(skip_bws(d, &i, &lim, &c));
        if (c == '\r') {
            /* BWS is only allowed before ';' or '=', never before the CRLF. */
            if (i != ws) {
                return fail(d, REF_E_MALFORMED, i, w->where_ext,
                            "whitespace before the end of the chunk-size line");
            }
            break;
        }
        if (c != ';') {
            return ref_http_lex_bad_byte(lx, i, w->where_ext,
                                         "expected ';' or CRLF in the chunk-size line");
        }
        i++;
        REF_TRY(skip_bws(d, &i, &lim, &c));
        REF_TRY(skip_token(d, &i, &lim, "chunk extension name is missing"));
        size_t after_name = i;
        REF_TRY(skip_bws(d, &i, &lim, &c));
        if (c != '=') {
            /* Let the loop head decide what the whitespace (if any) was for. */
            i = after_name;
            continue;
        }
        i++;
        REF_TRY(skip_bws(d, &i, &lim, &c));
        if (c == '"') {
            REF_TRY(skip_quoted(d, &i, &lim));
        } else {
            REF_TRY(skip_token(d, &i, &lim, "chunk extension value is missing"));
        }
    }
    REF_TRY(ref_http_lex_expect_crlf(lx, i, w->where_size, "expected CRLF after the chunk size"));
    d->pos = i + 2;
    *size_out = size;
    return REF_OK;
}

/* LINES: the line is found up to its CRLF first; then 1*HEXDIG, then the line's end or a
 * ';', SP or HTAB after which the rest of the line is skipped. The size is held against
 * the body limit once the line is in, at the offset of the chunk's data. */
static enum ref_status whole_size_line(struct decoder *d, uint64_t *size_out)
{
    const struct ref_http_chunk_labels *w = d->w;
    const uint8_t *b = d->lx.raw.ptr;
    size_t max_digits = d->rules->max_size_digits;
    size_t ls = d->pos;
    size_t eol = 0;
    switch (ref_http_find_line_end(d->lx.raw, ls, ref_http_add_sat(ls, d->rules->max_line_bytes),
                                   &eol)) {
        case REF_HTTP_LINE_CRLF:
            break;
        case REF_HTTP_LINE_BARE_LF:
            return fail(d, REF_E_MALFORMED, eol, w->where_size, w->bare_lf);
        case REF_HTTP_LINE_BARE_CR:
            return fail(d, REF_E_MALFORMED, eol, w->where_size, w->bare_cr);
        case REF_HTTP_LINE_CUT_AFTER_CR:
            return fail(d, REF_E_INCOMPLETE, eol, w->where_size, w->cut_after_cr);
        case REF_HTTP_LINE_CUT:
            return fail(d, REF_E_INCOMPLETE, eol, w->where_size, w->cut);
        default:
            /* Too long: refused at the start of the line, not waited for. */
            return fail(d, REF_E_MALFORMED, ls, w->where_size, w->line_too_long);
    }
    uint64_t size = 0;
    size_t k = ls;
    for (; k < eol; k++) {
        int v = ref_http_hex_value(b[k]);
        if (v < 0) {
            break;
        }
        if (max_digits != 0 && k - ls >= max_digits) {
            return fail(d, REF_E_BODY_TOO_LARGE, k, w->where_size, w->too_many_digits);
        }
        /* Saturates instead of wrapping when no digit count bounds the size: the body
         * limit refuses it below either way. */
        size = size > UINT64_MAX / 16 ? UINT64_MAX : size * 16 + (uint64_t)v;
    }
    if (k == ls || (k < eol && b[k] != ';' && !ref_http_is_ows(b[k]))) {
        return fail(d, REF_E_MALFORMED, k, w->where_size, w->not_hex);
    }
    d->pos = eol + 2;
    if (size > d->rules->max_body_bytes - d->decoded) {
        return fail(d, REF_E_BODY_TOO_LARGE, d->pos, w->where_data, w->body_too_large);
    }
    *size_out = size;
    return REF_OK;
}

static enum ref_status append(struct decoder *d, size_t ds, size_t n)
{
    enum ref_status rc = ref_buf_append(d->body, d->lx.raw.ptr + ds, n);
    if (rc == REF_E_TOO_LARGE) {
        return fail(d, REF_E_BODY_TOO_LARGE, ds, d->w->where_data, d->w->buffer_full);
    }
    if (rc != REF_OK) {
        return fail(d, rc, ds, d->w->where_data, d->w->buffer_failed);
    }
    return REF_OK;
}

/* chunk-data CRLF, the data starting at pos; size is within the body limit. */
static enum ref_status take_data(struct decoder *d, uint64_t size)
{
    const struct ref_http_chunk_labels *w = d->w;
    const uint8_t *b = d->lx.raw.ptr;
    size_t len = d->lx.raw.len;
    size_t ds = d->pos;
    /* size <= max_body_bytes, which a size_t holds wherever a body that large could. */
    size_t n = (size_t)size;
    if (d->rules->style == REF_HTTP_CHUNK_LINES) {
        if (len - ds < 2 || len - ds - 2 < n) {
            return fail(d, REF_E_INCOMPLETE, len, w->where_data, w->cut_in_data);
        }
        if (b[ds + n] != '\r' || b[ds + n + 1] != '\n') {
            return fail(d, REF_E_MALFORMED, ds + n, w->where_data, w->data_without_crlf);
        }
        REF_TRY(append(d, ds, n));
    } else {
        if (len - ds < n) {
            return ref_http_lex_incomplete(&d->lx, w->where_data);
        }
        REF_TRY(append(d, ds, n));
        REF_TRY(ref_http_lex_expect_crlf(&d->lx, ds + n, w->where_data, w->data_without_crlf));
    }
    d->decoded += size;
    d->pos = ds + n + 2;
    return REF_OK;
}

enum ref_status ref_http_chunked_decode(const struct ref_http_chunked_rules *rules,
                                        struct ref_slice raw,
                                        size_t start,
                                        struct ref_buf *body,
                                        size_t *trailer_at,
                                        struct ref_parse_error *err)
{
    const struct ref_http_chunk_labels *w = rules->labels;
    if (body == NULL) {
        return ref_parse_fail(err, REF_E_MALFORMED, start, w->where_body, w->no_buffer);
    }
    struct decoder d = {
        .rules = rules,
        .w = w,
        .lx = {.raw = raw, .err = err, .incomplete_reason = w->cut},
        .body = body,
        .pos = start,
        .decoded = 0,
    };
    for (;;) {
        uint64_t size = 0;
        if (rules->style == REF_HTTP_CHUNK_LINES) {
            REF_TRY(whole_size_line(&d, &size));
        } else {
            REF_TRY(strict_size_line(&d, &size));
        }
        if (size == 0) {
            break;
        }
        REF_TRY(take_data(&d, size));
    }
    *trailer_at = d.pos;
    return REF_OK;
}
