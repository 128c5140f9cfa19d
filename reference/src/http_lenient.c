/* SPDX-License-Identifier: Apache-2.0
 *
 * http_lenient.c - the forgiving request-file reader for test vectors and `etch sigv4`.
 *
 * Zero-copy except for folded header values, which are joined into the caller's scratch
 * buffer. Offsets into scratch are recorded while parsing and turned into slices only at
 * the end, because the buffer may move while it grows.
 */
#include "ref/http_lenient.h"

#include <assert.h>

/* One line of the input: its bytes without the line end, and where the next line starts. */
static struct ref_slice next_line(struct ref_slice raw, size_t *at)
{
    size_t start = *at;
    size_t end = start;
    while (end < raw.len && raw.ptr[end] != '\n') {
        end++;
    }
    *at = end < raw.len ? end + 1 : end;
    size_t len = end - start;
    /* CRLF or LF: a CR right before the LF belongs to the line end. */
    if (len > 0 && raw.ptr[end - 1] == '\r') {
        len--;
    }
    return ref_slice_make(raw.ptr + start, len);
}

static enum ref_status
parse_request_line(struct ref_slice line, struct ref_http_request *out, struct ref_parse_error *err)
{
    const struct ref_slice marker = REF_SLICE_LIT(" HTTP/");
    size_t sp = ref_slice_find(line, ' ');
    if (sp == 0 || sp == line.len) {
        return ref_parse_fail(err, REF_E_MALFORMED, sp, "request_line.method",
                              "expected a method followed by a space");
    }
    /* The last " HTTP/" ends the target, so a target may itself hold spaces. */
    size_t mark = line.len;
    for (size_t i = line.len; i >= marker.len && i > sp; i--) {
        if (ref_slice_eq(ref_slice_sub(line, i - marker.len, marker.len), marker)) {
            mark = i - marker.len;
            break;
        }
    }
    if (mark == line.len || mark < sp) {
        return ref_parse_fail(err, REF_E_MALFORMED, line.len, "request_line.version",
                              "expected ' HTTP/' after the target");
    }
    if (mark <= sp + 1) {
        return ref_parse_fail(err, REF_E_MALFORMED, sp + 1, "request_line.target",
                              "empty request target");
    }
    out->method = ref_slice_sub(line, 0, sp);
    out->target = ref_slice_sub(line, sp + 1, mark - sp - 1);
    out->version = ref_slice_sub(line, mark + 1, line.len);
    struct ref_slice rest = out->target;
    out->has_query = ref_slice_split(&rest, '?', &out->path);
    out->query = rest;
    return REF_OK;
}

enum ref_status ref_http_parse_lenient(struct ref_slice raw,
                                       struct ref_http_request *out,
                                       struct ref_buf *scratch,
                                       struct ref_parse_error *err)
{
    assert(ref_slice_is_valid(raw) && out != NULL);
    out->method = out->target = out->path = out->query = out->version = out->body =
        ref_slice_make(NULL, 0);
    out->has_query = false;
    out->num_headers = 0;
    out->is_chunked = false;

    size_t at = 0;
    size_t line_start = at;
    struct ref_slice line = next_line(raw, &at);
    if (line.len == 0) {
        return ref_parse_fail(err, REF_E_MALFORMED, line_start, "request_line",
                              "expected a request line");
    }
    REF_TRY(parse_request_line(line, out, err));

    /* Folded values: where each one starts in scratch (SIZE_MAX when not folded). */
    size_t fold_off[REF_MAX_HEADERS];
    size_t fold_len[REF_MAX_HEADERS];
    bool body_follows = false;
    while (at < raw.len) {
        line_start = at;
        line = next_line(raw, &at);
        if (line.len == 0) {
            body_follows = true;
            break;
        }
        if (line.ptr[0] == ' ' || line.ptr[0] == '\t') {
            /* obs-fold: continue the previous header, joined by one space. */
            if (out->num_headers == 0) {
                return ref_parse_fail(err, REF_E_MALFORMED, line_start, "header",
                                      "continuation line before any header");
            }
            if (scratch == NULL) {
                return ref_parse_fail(err, REF_E_MALFORMED, line_start, "header",
                                      "folded header line and no scratch buffer");
            }
            size_t h = out->num_headers - 1;
            if (fold_off[h] == SIZE_MAX) {
                fold_off[h] = scratch->len;
                REF_TRY(ref_buf_append_slice(scratch, out->headers[h].value));
            }
            struct ref_slice more = ref_slice_trim_ows(line);
            REF_TRY(ref_buf_append_byte(scratch, ' '));
            REF_TRY(ref_buf_append_slice(scratch, more));
            fold_len[h] = scratch->len - fold_off[h];
            continue;
        }
        size_t colon = ref_slice_find(line, ':');
        if (colon == line.len) {
            return ref_parse_fail(err, REF_E_MALFORMED, line_start + line.len, "header",
                                  "expected ':' after the header name");
        }
        if (colon == 0) {
            return ref_parse_fail(err, REF_E_MALFORMED, line_start, "header.name",
                                  "empty header name");
        }
        if (out->num_headers == REF_MAX_HEADERS) {
            return ref_parse_fail(err, REF_E_HEADERS_TOO_LARGE, line_start, "header",
                                  "more than REF_MAX_HEADERS header lines");
        }
        size_t h = out->num_headers++;
        out->headers[h].name = ref_slice_sub(line, 0, colon);
        out->headers[h].value = ref_slice_trim_ows(ref_slice_sub(line, colon + 1, line.len));
        fold_off[h] = SIZE_MAX;
        fold_len[h] = 0;
    }
    for (size_t h = 0; h < out->num_headers; h++) {
        if (fold_off[h] != SIZE_MAX) {
            out->headers[h].value = ref_slice_make(scratch->data + fold_off[h], fold_len[h]);
        }
    }
    if (body_follows) {
        out->body = ref_slice_sub(raw, at, raw.len - at);
    } else {
        out->body = ref_slice_make(raw.ptr + raw.len, 0);
    }
    return REF_OK;
}
