/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_http_request.c - the strict HTTP/1.1 request parser.
 *
 * Target functions: ref_http_parse_request, ref_http_parse_request_prefix,
 * ref_http_parse_head, ref_http_find_header, ref_http_count_header.
 *
 * Input: raw request bytes (the captures in fixtures/captures seed the corpus as they are).
 *
 * Invariants (abort() on violation):
 * - a failure is one of the statuses http.h lists, err has the same code, a literal where
 *   and reason, and an offset within the input;
 * - on success: method, target, version, every header name and value lie inside the input,
 *   the body inside the input (or inside the chunk buffer when chunked) and, when not
 *   chunked, ends exactly at the end of the input; method and names are non-empty tokens;
 *   values hold no CR, LF or NUL and have no leading or trailing SP/HTAB; the version is
 *   HTTP/1.1 or HTTP/1.0; target = path ['?' query] with has_query telling which; header,
 *   target and body sizes are within limits.h; exactly one Host; a Content-Length, when
 *   the body is not chunked, equals the body's length; find_header/count_header agree with
 *   an oracle that sorts the names (every spelling present is looked up);
 * - without a chunk buffer the result is the same, except that a chunked body is refused;
 * - the prefix parser agrees: a whole request is consumed entirely, and when it consumes a
 *   shorter prefix, that prefix alone parses as a whole request while the full input is
 *   refused as having bytes after the request;
 * - incomplete is not malformed: cutting an accepted request short (one byte, half, just
 *   the header block) gives REF_E_INCOMPLETE, never another error;
 * - the head parser agrees with the other two: when it fails, both of them fail with the
 *   same status, offset, where and reason (including REF_E_INCOMPLETE), and it never runs
 *   out of memory; when it succeeds, the head ends at the first CRLF CRLF of the input, its
 *   request line and headers pass the same checks as an accepted request's and lie inside
 *   the head, its body is empty, it is chunked exactly when Transfer-Encoding is present
 *   (HTTP/1.1 only), and whatever the other two report lies at or past the head: an
 *   accepted prefix has the same request line and headers and a body right after the head,
 *   a refused one is refused at or past the head, and without chunking only for being
 *   incomplete; the head alone parses to the same head and any shorter cut of it is
 *   REF_E_INCOMPLETE.
 */
#include "common.h"

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/limits.h"

#include <stdlib.h>
#include <string.h>

static bool is_token(struct ref_slice s)
{
    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (!fuzz_is_tchar(s.ptr[i])) {
            return false;
        }
    }
    return true;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static void check_error(enum ref_status rc, const struct ref_parse_error *err, size_t size)
{
    FUZZ_CHECK(rc == REF_E_INCOMPLETE || rc == REF_E_MALFORMED || rc == REF_E_TARGET_TOO_LONG ||
               rc == REF_E_HEADERS_TOO_LARGE || rc == REF_E_BODY_TOO_LARGE || rc == REF_E_NOMEM);
    FUZZ_CHECK(err->code == rc);
    FUZZ_CHECK(err->offset <= size);
    FUZZ_CHECK(err->where != NULL && err->reason != NULL);
}

static bool parse_content_length(struct ref_slice v, uint64_t *n)
{
    if (v.len == 0 || v.len > 19) {
        return false;
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9') {
            return false;
        }
        acc = acc * 10 + (uint64_t)(v.ptr[i] - '0');
    }
    *n = acc;
    return true;
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* The headers being sorted by sort_by_name (qsort passes no context). */
static const struct ref_header *s_sorted_headers;

/* Orders header positions by name: length, then bytes in any case, then bytes as sent,
 * then position. The headers of one name (any case) form a run, and within it equal
 * spellings sit next to each other. */
static int by_name(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa;
    size_t b = *(const size_t *)pb;
    struct ref_slice x = s_sorted_headers[a].name;
    struct ref_slice y = s_sorted_headers[b].name;
    if (x.len != y.len) {
        return x.len < y.len ? -1 : 1;
    }
    for (size_t i = 0; i < x.len; i++) {
        if (lower(x.ptr[i]) != lower(y.ptr[i])) {
            return lower(x.ptr[i]) < lower(y.ptr[i]) ? -1 : 1;
        }
    }
    int exact = x.len == 0 ? 0 : memcmp(x.ptr, y.ptr, x.len);
    if (exact != 0) {
        return exact;
    }
    return a < b ? -1 : (a > b ? 1 : 0);
}

/* ref_http_find_header and ref_http_count_header asked for every header's name: the first
 * header of that name in any case, and how many there are. The oracle sorts the names, so
 * that each name's headers are one run, instead of scanning all headers for each (64
 * headers made that 4,096 comparisons per parse, three parses per input). The reference
 * is asked once per spelling: a second header spelled the same asks the same question. */
static void check_lookups(const struct ref_http_request *req)
{
    size_t order[REF_MAX_HEADERS];
    size_t n = req->num_headers;
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
    }
    s_sorted_headers = req->headers;
    qsort(order, n, sizeof(order[0]), by_name);
    s_sorted_headers = NULL;
    size_t run = 0;
    while (run < n) {
        struct ref_slice name = req->headers[order[run]].name;
        size_t end = run + 1;
        size_t first = order[run];
        while (end < n && fuzz_slice_eq_nocase(req->headers[order[end]].name, name)) {
            first = order[end] < first ? order[end] : first;
            end++;
        }
        for (size_t k = run; k < end; k++) {
            struct ref_slice spelling = req->headers[order[k]].name;
            if (k > run && fuzz_slice_eq(spelling, req->headers[order[k - 1]].name)) {
                continue;
            }
            FUZZ_CHECK(ref_http_find_header(req->headers, n, spelling) == &req->headers[first]);
            FUZZ_CHECK(ref_http_count_header(req->headers, n, spelling) == end - run);
        }
        run = end;
    }
}

/* True when a and b hold the very same header name slices (same place, same length). */
static bool same_names(const struct ref_http_request *a, const struct ref_http_request *b)
{
    if (a->num_headers != b->num_headers) {
        return false;
    }
    for (size_t i = 0; i < a->num_headers; i++) {
        if (a->headers[i].name.ptr != b->headers[i].name.ptr ||
            a->headers[i].name.len != b->headers[i].name.len) {
            return false;
        }
    }
    return true;
}

/* What an accepted request line and header section must be, all of it inside `raw`.
 * looked_up is a parse of the same input whose names check_lookups has already asked
 * about, or NULL. The lookups read nothing but the names, so for the very same name
 * slices they can only answer the same again: an input's names are asked about once
 * rather than once per parser (three times), which was a third of this target's time. */
static void check_request_head(const struct ref_http_request *req,
                               struct ref_slice raw,
                               const struct ref_http_request *looked_up)
{
    FUZZ_CHECK(fuzz_slice_inside(req->method, raw.ptr, raw.len));
    FUZZ_CHECK(fuzz_slice_inside(req->target, raw.ptr, raw.len));
    FUZZ_CHECK(fuzz_slice_inside(req->version, raw.ptr, raw.len));
    FUZZ_CHECK(is_token(req->method));
    FUZZ_CHECK(req->method.len <= REF_MAX_METHOD_BYTES);
    FUZZ_CHECK(req->target.len > 0 && req->target.len <= REF_MAX_TARGET_BYTES);
    FUZZ_CHECK(fuzz_slice_eq_cstr(req->version, "HTTP/1.1") ||
               fuzz_slice_eq_cstr(req->version, "HTTP/1.0"));

    /* target = path ['?' query] */
    FUZZ_CHECK(req->path.ptr == req->target.ptr);
    if (req->has_query) {
        FUZZ_CHECK(req->path.len + 1 + req->query.len == req->target.len);
        FUZZ_CHECK(req->target.ptr[req->path.len] == '?');
        FUZZ_CHECK(req->query.len == 0 || req->query.ptr == req->target.ptr + req->path.len + 1);
    } else {
        FUZZ_CHECK(req->path.len == req->target.len);
        FUZZ_CHECK(req->query.len == 0);
    }
    FUZZ_CHECK(memchr(req->path.ptr, '?', req->path.len) == NULL);

    FUZZ_CHECK(req->num_headers <= REF_MAX_HEADERS);
    for (size_t i = 0; i < req->num_headers; i++) {
        const struct ref_header *h = &req->headers[i];
        FUZZ_CHECK(fuzz_slice_inside(h->name, raw.ptr, raw.len));
        FUZZ_CHECK(fuzz_slice_inside(h->value, raw.ptr, raw.len));
        FUZZ_CHECK(is_token(h->name));
        for (size_t k = 0; k < h->value.len; k++) {
            uint8_t c = h->value.ptr[k];
            FUZZ_CHECK(c != '\r' && c != '\n' && c != 0);
        }
        if (h->value.len > 0) {
            FUZZ_CHECK(!is_ows(h->value.ptr[0]) && !is_ows(h->value.ptr[h->value.len - 1]));
        }
    }
    if (looked_up == NULL || !same_names(req, looked_up)) {
        check_lookups(req);
    }
    FUZZ_CHECK(ref_http_count_header(req->headers, req->num_headers, REF_SLICE_LIT("host")) == 1);
    FUZZ_CHECK(ref_http_find_header(req->headers, req->num_headers, REF_SLICE_LIT("host")) != NULL);
}

static void check_request(const struct ref_http_request *req,
                          struct ref_slice raw,
                          const struct ref_buf *body_buf,
                          const struct ref_http_request *looked_up)
{
    check_request_head(req, raw, looked_up);
    FUZZ_CHECK(req->body.len <= REF_MAX_BODY_BYTES);
    if (req->is_chunked) {
        FUZZ_CHECK(body_buf != NULL);
        FUZZ_CHECK(fuzz_slice_inside(req->body, body_buf->data, body_buf->len));
    } else {
        FUZZ_CHECK(fuzz_slice_inside(req->body, raw.ptr, raw.len));
        if (req->body.len > 0) {
            FUZZ_CHECK(req->body.ptr + req->body.len == raw.ptr + raw.len);
        }
        const struct ref_header *cl =
            ref_http_find_header(req->headers, req->num_headers, REF_SLICE_LIT("content-length"));
        uint64_t n = 0;
        if (cl != NULL && parse_content_length(cl->value, &n)) {
            FUZZ_CHECK(n == req->body.len);
        }
    }
}

static bool same_request(const struct ref_http_request *a, const struct ref_http_request *b)
{
    if (!fuzz_slice_eq(a->method, b->method) || !fuzz_slice_eq(a->target, b->target) ||
        !fuzz_slice_eq(a->version, b->version) || a->num_headers != b->num_headers ||
        a->is_chunked != b->is_chunked || a->has_query != b->has_query ||
        !fuzz_slice_eq(a->body, b->body)) {
        return false;
    }
    for (size_t i = 0; i < a->num_headers; i++) {
        if (!fuzz_slice_eq(a->headers[i].name, b->headers[i].name) ||
            !fuzz_slice_eq(a->headers[i].value, b->headers[i].value)) {
            return false;
        }
    }
    return true;
}

/* The request line and headers of two parses of the same input: the very same slices,
 * since both borrow them from that input. */
static bool same_head(const struct ref_http_request *a, const struct ref_http_request *b)
{
    if (a->method.ptr != b->method.ptr || a->method.len != b->method.len ||
        a->target.ptr != b->target.ptr || a->target.len != b->target.len ||
        a->version.ptr != b->version.ptr || a->version.len != b->version.len ||
        a->has_query != b->has_query || a->num_headers != b->num_headers) {
        return false;
    }
    for (size_t i = 0; i < a->num_headers; i++) {
        const struct ref_header *x = &a->headers[i];
        const struct ref_header *y = &b->headers[i];
        if (x->name.ptr != y->name.ptr || x->name.len != y->name.len ||
            x->value.ptr != y->value.ptr || x->value.len != y->value.len) {
            return false;
        }
    }
    return true;
}

static bool same_error(const struct ref_parse_error *a, const struct ref_parse_error *b)
{
    return a->code == b->code && a->offset == b->offset && strcmp(a->where, b->where) == 0 &&
           strcmp(a->reason, b->reason) == 0;
}

/* Parses raw[0, n) whole; the status, with the request discarded. */
static enum ref_status parse_cut(struct ref_slice raw, size_t n)
{
    static struct ref_http_request req;
    struct ref_buf body_buf;
    ref_buf_init(&body_buf, REF_MAX_BODY_BYTES);
    struct ref_parse_error err = {0};
    enum ref_status rc = ref_http_parse_request(ref_slice_make(raw.ptr, n), &req, &body_buf, &err);
    if (rc != REF_OK) {
        check_error(rc, &err, n);
    }
    ref_buf_cleanup(&body_buf);
    return rc;
}

/* The end of the header block (just past the blank line), or 0 when not found. Byte
 * comparisons rather than a memcmp at every offset: libFuzzer's memcmp hook made that
 * scan a sixth of this target's time. */
static size_t header_end(struct ref_slice raw)
{
    for (size_t i = 0; i + 3 < raw.len; i++) {
        if (raw.ptr[i] == '\r' && raw.ptr[i + 1] == '\n' && raw.ptr[i + 2] == '\r' &&
            raw.ptr[i + 3] == '\n') {
            return i + 4;
        }
    }
    return 0;
}

/* True when cuts[i] is one of cuts[0, i): the same parse of the same bytes, which can only
 * answer the same again (a request without a body is cut at size - 1 and at the end of
 * its head - 1, the same place). */
static bool is_repeated_cut(const size_t *cuts, size_t i)
{
    for (size_t k = 0; k < i; k++) {
        if (cuts[k] == cuts[i]) {
            return true;
        }
    }
    return false;
}

/* ref_http_parse_head on the input the other parsers saw. Its head parse is the one they
 * run first, so a fault it finds is their answer too; when it accepts, what they report
 * can only come from the body, which starts at head_len.
 * whole_* are ref_http_parse_request's result, prefix_* ref_http_parse_request_prefix's
 * (prefix_req is its request, valid when prefix_rc is REF_OK, and then its names have
 * been looked up). */
static void check_head(struct ref_slice raw,
                       enum ref_status whole_rc,
                       const struct ref_parse_error *whole_err,
                       enum ref_status prefix_rc,
                       const struct ref_parse_error *prefix_err,
                       const struct ref_http_request *prefix_req,
                       size_t consumed)
{
    static struct ref_http_request head;
    static struct ref_http_request head_alone;
    size_t head_len = 0;
    struct ref_parse_error err = {0};
    enum ref_status rc = ref_http_parse_head(raw, &head, &head_len, &err);
    if (rc != REF_OK) {
        check_error(rc, &err, raw.len);
        /* Nothing in the head is allocated. */
        FUZZ_CHECK(rc != REF_E_NOMEM);
        FUZZ_CHECK(prefix_rc == rc && same_error(prefix_err, &err));
        FUZZ_CHECK(whole_rc == rc && same_error(whole_err, &err));
        return;
    }

    /* A CR in a head only ever ends a line, and the one empty line is the last (Host makes
     * at least one field line), so the first CRLF CRLF is where the head ends. */
    FUZZ_CHECK(head_len >= 4 && head_len <= raw.len);
    FUZZ_CHECK(header_end(raw) == head_len);
    check_request_head(&head, ref_slice_make(raw.ptr, head_len),
                       prefix_rc == REF_OK ? prefix_req : NULL);
    FUZZ_CHECK(head.body.len == 0);
    bool has_te = ref_http_find_header(head.headers, head.num_headers,
                                       REF_SLICE_LIT("transfer-encoding")) != NULL;
    FUZZ_CHECK(head.is_chunked == has_te);
    if (head.is_chunked) {
        FUZZ_CHECK(fuzz_slice_eq_cstr(head.version, "HTTP/1.1"));
    }

    if (prefix_rc == REF_OK) {
        FUZZ_CHECK(head_len <= consumed);
        FUZZ_CHECK(same_head(&head, prefix_req));
        FUZZ_CHECK(head.is_chunked == prefix_req->is_chunked);
        if (head.is_chunked) {
            /* At least the last chunk and the empty trailer section: "0\r\n\r\n". */
            FUZZ_CHECK(consumed - head_len >= 5);
        } else {
            FUZZ_CHECK(consumed == head_len + prefix_req->body.len);
            FUZZ_CHECK(prefix_req->body.len == 0 || prefix_req->body.ptr == raw.ptr + head_len);
        }
    } else {
        FUZZ_CHECK(prefix_err->offset >= head_len);
        /* The target is in the head; a chunked body's limits answer BODY_TOO_LARGE or (its
         * trailers) HEADERS_TOO_LARGE, never this. */
        FUZZ_CHECK(prefix_rc != REF_E_TARGET_TOO_LONG);
        if (!head.is_chunked) {
            /* A Content-Length body is only ever short. */
            FUZZ_CHECK(prefix_rc == REF_E_INCOMPLETE && prefix_err->offset == raw.len);
        }
    }
    if (whole_rc != REF_OK) {
        FUZZ_CHECK(whole_err->offset >= head_len);
    }

    /* The head does not depend on what follows it (when nothing follows it, the parse
     * above was of the head alone already)... */
    struct ref_parse_error alone_err = {0};
    size_t alone_len = 0;
    if (head_len < raw.len) {
        FUZZ_CHECK(ref_http_parse_head(ref_slice_make(raw.ptr, head_len), &head_alone, &alone_len,
                                       &alone_err) == REF_OK);
        FUZZ_CHECK(alone_len == head_len);
        FUZZ_CHECK(same_head(&head, &head_alone));
        FUZZ_CHECK(head_alone.is_chunked == head.is_chunked);
    }
    /* ...and any shorter cut of it has not all arrived. */
    size_t cuts[] = {head_len - 1, head_len - 2, head_len / 2, 0};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        if (is_repeated_cut(cuts, i)) {
            continue;
        }
        FUZZ_CHECK(ref_http_parse_head(ref_slice_make(raw.ptr, cuts[i]), &head_alone, &alone_len,
                                       &alone_err) == REF_E_INCOMPLETE);
        FUZZ_CHECK(alone_err.offset == cuts[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Parser state is large (REF_MAX_HEADERS headers); keep it off the stack. */
    static struct ref_http_request req;
    static struct ref_http_request req2;
    struct ref_slice raw = {data, size};

    struct ref_buf body_buf;
    ref_buf_init(&body_buf, REF_MAX_BODY_BYTES);
    struct ref_parse_error err = {0};
    memset(&req, 0, sizeof(req));
    enum ref_status rc = ref_http_parse_request(raw, &req, &body_buf, &err);
    if (rc != REF_OK) {
        check_error(rc, &err, size);
    } else {
        check_request(&req, raw, &body_buf, NULL);
    }

    /* Without a chunk buffer: identical, except that chunked bodies are refused. */
    struct ref_parse_error err2 = {0};
    enum ref_status rc2 = ref_http_parse_request(raw, &req2, NULL, &err2);
    if (rc2 != REF_OK) {
        check_error(rc2, &err2, size);
    }
    if (rc == REF_OK && req.is_chunked) {
        FUZZ_CHECK(rc2 == REF_E_MALFORMED);
    } else if (rc == REF_OK) {
        FUZZ_CHECK(rc2 == REF_OK);
        FUZZ_CHECK(same_request(&req, &req2));
    }

    /* The prefix parser. */
    struct ref_buf body_buf2;
    ref_buf_init(&body_buf2, REF_MAX_BODY_BYTES);
    size_t consumed = 0;
    struct ref_parse_error err3 = {0};
    enum ref_status rc3 = ref_http_parse_request_prefix(raw, &req2, &body_buf2, &consumed, &err3);
    if (rc3 != REF_OK) {
        check_error(rc3, &err3, size);
        FUZZ_CHECK(rc != REF_OK);
    } else {
        FUZZ_CHECK(consumed > 0 && consumed <= size);
        check_request(&req2, ref_slice_make(data, consumed), &body_buf2,
                      rc == REF_OK ? &req : NULL);
        if (rc == REF_OK) {
            FUZZ_CHECK(consumed == size);
            FUZZ_CHECK(same_request(&req, &req2));
        } else {
            FUZZ_CHECK(consumed < size);
            FUZZ_CHECK(rc == REF_E_MALFORMED);
            FUZZ_CHECK(parse_cut(raw, consumed) == REF_OK);
        }
    }
    check_head(raw, rc, &err, rc3, &err3, &req2, consumed);
    ref_buf_cleanup(&body_buf2);

    /* Truncations of an accepted request are incomplete, never malformed. */
    if (rc == REF_OK) {
        size_t hdr = header_end(raw);
        size_t cuts[] = {size - 1, size / 2, hdr > 0 ? hdr - 1 : 0, hdr};
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
            if (cuts[i] < size && !is_repeated_cut(cuts, i)) {
                FUZZ_CHECK(parse_cut(raw, cuts[i]) == REF_E_INCOMPLETE);
            }
        }
    }
    ref_buf_cleanup(&body_buf);
    return 0;
}
