/* SPDX-License-Identifier: Apache-2.0
 *
 * http_chunked.h - the one decoder of the chunked transfer coding (RFC 9112 section 7.1).
 *
 * The strict request parser and the harness's response parser both decode chunked bodies
 * with ref_http_chunked_decode. What differs between them is a struct of rules: how a
 * chunk-size line is read (its style), its limits, and the words each reader reports an
 * error with. Like picohttpparser's phr_decode_chunked, the decoder stops after the
 * last-chunk line: the trailer section that follows is a field section, which each caller
 * reads with the reader of its own header section.
 */
#ifndef REF_HTTP_CHUNKED_H
#define REF_HTTP_CHUNKED_H

#include "ref/buf.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <stddef.h>
#include <stdint.h>

/* How a chunk-size line and the CRLF after a chunk's data are read. */
enum ref_http_chunk_style {
    REF_HTTP_CHUNK_STYLE_NONE = 0,
    /* RFC 9112 to the letter, every byte judged as it is reached, so that the first
     * offending byte is the one reported (the request parser's): chunk-ext must follow its
     * grammar, with BWS around ';' and '=' but not before the CRLF; the size is refused at
     * the digit that passes the body limit; a chunk's data goes to the buffer before the
     * CRLF after it is checked. */
    REF_HTTP_CHUNK_STRICT,
    /* Each chunk-size line is found whole, up to its CRLF, before its size is read (the
     * response parser's): whatever follows the size after a ';', SP or HTAB is skipped
     * unchecked; the size is held against the body limit once its line is in, at the
     * chunk's data; a chunk's data and the CRLF after it must both have arrived before
     * either is judged, and the CRLF is checked before the data goes to the buffer. */
    REF_HTTP_CHUNK_LINES,
};

/* The `where` names and reasons a decoder's errors carry: string literals of the caller's
 * vocabulary. Every field is used by both styles unless it says otherwise. */
struct ref_http_chunk_labels {
    const char *where_body; /* no buffer to decode into */
    const char *where_size; /* the chunk-size line and its limits */
    const char *where_ext;  /* STRICT: chunk extensions */
    const char *where_data; /* chunk data and the CRLF after it */
    const char *no_buffer;
    /* STRICT: the input ends anywhere; LINES: it ends before the chunk-size line does. */
    const char *cut;
    const char *cut_after_cr; /* LINES: the input ends right after a chunk-size line's CR */
    const char *cut_in_data;  /* LINES: it ends in a chunk's data or the CRLF after it */
    const char *bare_lf;      /* LINES: a LF without CR in a chunk-size line */
    const char *bare_cr;      /* LINES: a CR without LF in a chunk-size line */
    const char *not_hex;      /* no size (LINES: or a byte after it that starts no extension) */
    const char *too_many_digits;
    const char *line_too_long;
    const char *body_too_large;    /* the chunk sizes add up to more than max_body_bytes */
    const char *buffer_full;       /* the body buffer answered REF_E_TOO_LARGE */
    const char *buffer_failed;     /* the body buffer answered anything else */
    const char *data_without_crlf; /* chunk data is not followed by CRLF */
};

struct ref_http_chunked_rules {
    enum ref_http_chunk_style style;
    /* The longest chunk-size line, extensions and CRLF included. */
    size_t max_line_bytes;
    /* The most hex digits a size may have, leading zeros included; 0: no count (the line
     * and body limits still bound it). */
    size_t max_size_digits;
    /* The most the chunk sizes of one body may add up to. */
    uint64_t max_body_bytes;
    const struct ref_http_chunk_labels *labels;
};

/* Decodes the chunks of the chunked body that starts at raw[start], through the
 * last-chunk line, appending each chunk's data to *body (which is not emptied first).
 *
 * REF_OK: *trailer_at is the offset of the trailer section, which the caller reads.
 * REF_E_INCOMPLETE: raw ends before the last-chunk line does.
 * REF_E_MALFORMED: bad syntax, or body is NULL.
 * REF_E_BODY_TOO_LARGE: a size over max_size_digits or max_body_bytes, a line over
 *   max_line_bytes (STRICT; LINES says REF_E_MALFORMED), or the buffer reached its cap.
 * REF_E_NOMEM (or whatever else ref_buf_append answers): body could not grow.
 * On failure *err (may be NULL) says where, as an offset into raw, in rules->labels' words.
 * Chunk data is copied into body; nothing else is allocated, nothing borrowed is kept. */
REF_MUST_CHECK enum ref_status ref_http_chunked_decode(const struct ref_http_chunked_rules *rules,
                                                       struct ref_slice raw,
                                                       size_t start,
                                                       struct ref_buf *body,
                                                       size_t *trailer_at,
                                                       struct ref_parse_error *err);

#endif
