/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_http_response.c - the harness's parser of live HTTP/1.1 responses.
 *
 * Target functions: harness_http_parse_response, harness_http_response_header.
 *
 * Input: raw response bytes, as a live endpoint might send them (answers of the reference
 * to the captured requests seed the corpus, with hand-written framings and edge cases).
 *
 * Invariants (abort() on violation):
 * - a failure is one of the statuses http_response.h lists, with err in the same code and
 *   an offset within the input; the result does not depend on whether consumed is asked
 *   for, and without a chunk buffer only chunked bodies are refused;
 * - on success: 0 < consumed <= input length; version, reason, header names and values lie
 *   inside the consumed bytes; the status is 100..599; names are tokens, values hold no CR,
 *   LF or NUL and are trimmed; at most HARNESS_MAX_RESPONSE_HEADERS headers; the body lies
 *   in the input (ending at consumed) or in the chunk buffer, within the body limit, and is
 *   empty for 1xx, 204 and 304; harness_http_response_header finds the first header of a
 *   name in any case, as a linear scan does;
 * - the consumed prefix alone parses to the same response; when the framing is explicit
 *   (Content-Length, chunked, or a status without a body), cutting one byte off it is
 *   REF_E_INCOMPLETE, never another error;
 * - differential: whenever the stricter parser in common.c (one Content-Length, no
 *   Transfer-Encoding, a status from 200 to 599 that may have a body) accepts the input, the
 *   harness parser accepts it too, consumes all of it and sees the same status, headers
 *   and body.
 */
#include "common.h"

#include "harness/http_response.h"

#include <string.h>

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static void check_error(enum ref_status rc, const struct ref_parse_error *err, size_t size)
{
    FUZZ_CHECK(rc == REF_E_INCOMPLETE || rc == REF_E_MALFORMED || rc == REF_E_HEADERS_TOO_LARGE ||
               rc == REF_E_BODY_TOO_LARGE || rc == REF_E_NOMEM);
    FUZZ_CHECK(err->code == rc);
    FUZZ_CHECK(err->offset <= size);
}

static bool has_no_body(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

static void check_response(const struct harness_http_response *r,
                           struct ref_slice raw,
                           size_t consumed,
                           const struct ref_buf *body_buf)
{
    FUZZ_CHECK(consumed > 0 && consumed <= raw.len);
    FUZZ_CHECK(fuzz_slice_inside(r->version, raw.ptr, consumed));
    FUZZ_CHECK(fuzz_slice_inside(r->reason, raw.ptr, consumed));
    FUZZ_CHECK(r->version.len >= 5 && memcmp(r->version.ptr, "HTTP/", 5) == 0);
    FUZZ_CHECK(r->status >= 100 && r->status <= 599);
    FUZZ_CHECK(r->num_headers <= HARNESS_MAX_RESPONSE_HEADERS);
    for (size_t i = 0; i < r->num_headers; i++) {
        const struct ref_header *h = &r->headers[i];
        FUZZ_CHECK(fuzz_slice_inside(h->name, raw.ptr, consumed));
        FUZZ_CHECK(fuzz_slice_inside(h->value, raw.ptr, consumed));
        FUZZ_CHECK(h->name.len > 0);
        for (size_t k = 0; k < h->name.len; k++) {
            FUZZ_CHECK(fuzz_is_tchar(h->name.ptr[k]));
        }
        for (size_t k = 0; k < h->value.len; k++) {
            uint8_t c = h->value.ptr[k];
            FUZZ_CHECK(c != '\r' && c != '\n' && c != 0);
        }
        if (h->value.len > 0) {
            FUZZ_CHECK(!is_ows(h->value.ptr[0]) && !is_ows(h->value.ptr[h->value.len - 1]));
        }
        /* Lookup by name against a linear scan. The name is copied to a C string first;
         * names with no NUL inside are the only ones the parser lets through. */
        char name[256];
        if (h->name.len < sizeof(name)) {
            memcpy(name, h->name.ptr, h->name.len);
            name[h->name.len] = '\0';
            const struct ref_header *first = NULL;
            for (size_t k = 0; k < r->num_headers && first == NULL; k++) {
                if (fuzz_slice_eq_nocase(r->headers[k].name, h->name)) {
                    first = &r->headers[k];
                }
            }
            FUZZ_CHECK(harness_http_response_header(r, name) == first);
        }
    }
    FUZZ_CHECK(r->body.len <= HARNESS_MAX_RESPONSE_BODY_BYTES);
    if (r->is_chunked) {
        FUZZ_CHECK(body_buf != NULL && fuzz_slice_inside(r->body, body_buf->data, body_buf->len));
    } else {
        FUZZ_CHECK(fuzz_slice_inside(r->body, raw.ptr, consumed));
        if (r->body.len > 0) {
            FUZZ_CHECK(r->body.ptr + r->body.len == raw.ptr + consumed);
        }
    }
    if (has_no_body(r->status)) {
        FUZZ_CHECK(r->body.len == 0);
    }
}

static bool same_response(const struct harness_http_response *a,
                          const struct harness_http_response *b)
{
    if (a->status != b->status || !fuzz_slice_eq(a->version, b->version) ||
        !fuzz_slice_eq(a->reason, b->reason) || a->num_headers != b->num_headers ||
        a->is_chunked != b->is_chunked || !fuzz_slice_eq(a->body, b->body)) {
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

static enum ref_status parse(struct ref_slice raw,
                             struct harness_http_response *out,
                             struct ref_buf *body_buf,
                             size_t *consumed)
{
    struct ref_parse_error err = {0};
    enum ref_status rc = harness_http_parse_response(raw, out, body_buf, consumed, &err);
    if (rc != REF_OK) {
        check_error(rc, &err, raw.len);
    }
    return rc;
}

static bool explicit_framing(const struct harness_http_response *r)
{
    return r->is_chunked || has_no_body(r->status) ||
           harness_http_response_header(r, "content-length") != NULL;
}

static void check_differential(struct ref_slice raw)
{
    static struct fuzz_response mine;
    static struct harness_http_response theirs;
    const char *why = NULL;
    if (!fuzz_parse_response(raw, &mine, &why) || mine.status < 200 || mine.status > 599 ||
        has_no_body(mine.status) || fuzz_response_count(&mine, "transfer-encoding") > 0 ||
        raw.len - mine.body.len > HARNESS_MAX_RESPONSE_HEADER_BYTES) {
        return;
    }
    size_t consumed = 0;
    FUZZ_CHECK(parse(raw, &theirs, NULL, &consumed) == REF_OK);
    FUZZ_CHECK(consumed == raw.len);
    FUZZ_CHECK(theirs.status == mine.status);
    FUZZ_CHECK(theirs.num_headers == mine.num_headers);
    for (size_t i = 0; i < mine.num_headers; i++) {
        FUZZ_CHECK(fuzz_slice_eq(theirs.headers[i].name, mine.headers[i].name));
        FUZZ_CHECK(fuzz_slice_eq(theirs.headers[i].value, mine.headers[i].value));
    }
    FUZZ_CHECK(fuzz_slice_eq(theirs.body, mine.body));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct harness_http_response resp;
    static struct harness_http_response resp2;
    struct ref_slice raw = {data, size};
    struct ref_buf body_buf;
    struct ref_buf body_buf2;
    ref_buf_init(&body_buf, HARNESS_MAX_RESPONSE_BODY_BYTES);
    ref_buf_init(&body_buf2, HARNESS_MAX_RESPONSE_BODY_BYTES);

    size_t consumed = 0;
    enum ref_status rc = parse(raw, &resp, &body_buf, &consumed);
    enum ref_status rc_no_consumed = parse(raw, &resp2, &body_buf2, NULL);
    FUZZ_CHECK(rc == rc_no_consumed);
    ref_buf_reset(&body_buf2);
    enum ref_status rc_no_buf = parse(raw, &resp2, NULL, NULL);

    if (rc == REF_OK) {
        check_response(&resp, raw, consumed, &body_buf);
        if (resp.is_chunked) {
            FUZZ_CHECK(rc_no_buf == REF_E_MALFORMED);
        } else {
            FUZZ_CHECK(rc_no_buf == REF_OK && same_response(&resp, &resp2));
        }

        /* The consumed prefix alone. */
        size_t consumed2 = 0;
        FUZZ_CHECK(parse(ref_slice_make(data, consumed), &resp2, &body_buf2, &consumed2) == REF_OK);
        FUZZ_CHECK(consumed2 == consumed && same_response(&resp, &resp2));

        if (explicit_framing(&resp)) {
            ref_buf_reset(&body_buf2);
            FUZZ_CHECK(parse(ref_slice_make(data, consumed - 1), &resp2, &body_buf2, NULL) ==
                       REF_E_INCOMPLETE);
        }
    } else if (rc_no_buf == REF_OK) {
        /* Without a buffer a parse can only fail more, never succeed more. */
        FUZZ_CHECK(!"a response refused with a chunk buffer is accepted without one");
    }
    check_differential(raw);
    ref_buf_cleanup(&body_buf);
    ref_buf_cleanup(&body_buf2);
    return 0;
}
