/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_conn.c - one connection of `etch serve`: bytes in, answers out (serve_conn.h).
 *
 * The pending request is the bytes from `start` on. Its head is read by ref_http_parse_head
 * as bytes arrive (a head is small, so reading it again on each arrival costs little);
 * once the head is in, a Content-Length body needs only counting, and a chunked one is
 * followed by a lenient scan (serve_chunk_scan) so that the strict parser runs when the
 * body seems to have ended or to have gone wrong, not on every arrival. Whatever the strict
 * parser refuses is answered by ref_service_handle_raw over the same bytes, the answer the
 * in-process reference gives, and closes the connection: nothing after a request that did
 * not parse can be framed. Since the parser reads left to right and stops at the first
 * fault, the answer does not depend on how the bytes were cut into arrivals.
 */
#define _POSIX_C_SOURCE 200809L

#include "serve_conn.h"

#include "ref/http.h"
#include "ref/limits.h"

#include <jansson.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Arrivals are taken this much at a time, so the input buffer never holds more than one
 * incomplete request and one slice. */
#define FEED_SLICE_BYTES (64 * 1024)

static const char s_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* --- The chunked body's end, found leniently -------------------------------------- */

enum chunk_scan_state {
    SCAN_SIZE = 0, /* hex digits of a chunk size */
    SCAN_SIZE_EXT, /* after the size: extensions, up to the line's LF */
    SCAN_SIZE_LF,  /* a CR after the digits: the LF */
    SCAN_DATA,     /* chunk data: `size` bytes still to skip */
    SCAN_DATA_CR,  /* the CRLF after a chunk's data */
    SCAN_DATA_LF,
    SCAN_TRAILER, /* the start of a trailer line, or the empty line that ends all */
    SCAN_TRAILER_LINE,
    SCAN_DECIDE, /* the end, or something the strict parser must judge */
};

static int hex_value(uint8_t ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* The state after a chunk-size line's LF. */
static int after_size_line(const struct serve_chunk_scan *s)
{
    return s->size == 0 ? SCAN_TRAILER : SCAN_DATA;
}

/* Scans body bytes from s->scanned_to on. Returns true when the strict parser should
 * decide: the body seems to end here, or a byte breaks the framing. The scan only ever
 * stops at or after the point where the strict parser can decide, so waiting for it
 * never delays an answer the bytes already determine by more than the bytes in flight. */
static bool chunk_scan(struct serve_chunk_scan *s, struct ref_slice body)
{
    while (s->scanned_to < body.len && s->state != SCAN_DECIDE) {
        uint8_t ch = body.ptr[s->scanned_to];
        switch ((enum chunk_scan_state)s->state) {
            case SCAN_SIZE: {
                int v = hex_value(ch);
                s->line_bytes++;
                if (v >= 0) {
                    s->size = s->size * 16 + (uint64_t)v;
                    /* Leading zeros keep the size small but not the line: the strict
                     * parser refuses a chunk-size line past its limit. */
                    if (s->size > REF_MAX_BODY_BYTES || s->line_bytes > REF_MAX_CHUNK_LINE_BYTES) {
                        s->state = SCAN_DECIDE;
                    }
                } else if (ch == ';' || ch == ' ' || ch == '\t') {
                    s->state = SCAN_SIZE_EXT;
                } else if (ch == '\r') {
                    s->state = SCAN_SIZE_LF;
                } else {
                    s->state = SCAN_DECIDE;
                }
                break;
            }
            case SCAN_SIZE_EXT:
                s->line_bytes++;
                if (ch == '\n') {
                    s->state = after_size_line(s);
                    s->line_bytes = 0;
                } else if (s->line_bytes > REF_MAX_CHUNK_LINE_BYTES) {
                    s->state = SCAN_DECIDE;
                }
                break;
            case SCAN_SIZE_LF:
                if (ch != '\n') {
                    s->state = SCAN_DECIDE;
                    break;
                }
                s->state = after_size_line(s);
                s->line_bytes = 0;
                break;
            case SCAN_DATA: {
                size_t avail = body.len - s->scanned_to;
                size_t skip = s->size < avail ? (size_t)s->size : avail;
                s->size -= skip;
                s->scanned_to += skip;
                if (s->size == 0) {
                    s->state = SCAN_DATA_CR;
                }
                continue; /* scanned_to has moved already */
            }
            case SCAN_DATA_CR:
                s->state = ch == '\r' ? SCAN_DATA_LF : SCAN_DECIDE;
                break;
            case SCAN_DATA_LF:
                s->state = ch == '\n' ? SCAN_SIZE : SCAN_DECIDE;
                s->size = 0;
                s->line_bytes = 0;
                break;
            case SCAN_TRAILER:
                /* An empty line (or anything odd at a line's start) ends the scan. */
                s->state = ch == '\r' || ch == '\n' ? SCAN_DECIDE : SCAN_TRAILER_LINE;
                s->trailer_bytes++;
                break;
            case SCAN_TRAILER_LINE:
                /* Many short lines are as much a section over the limit as one long one. */
                s->trailer_bytes++;
                if (ch == '\n') {
                    s->state = SCAN_TRAILER;
                } else if (s->trailer_bytes > REF_MAX_HEADER_BYTES) {
                    s->state = SCAN_DECIDE;
                }
                break;
            case SCAN_DECIDE:
                break;
        }
        s->scanned_to++;
    }
    /* The empty line's LF, when the CR that decided was the last byte so far, is still
     * to come: the strict parser then says "incomplete" and the next arrival decides. */
    return s->state == SCAN_DECIDE;
}

/* --- Answers ---------------------------------------------------------------------- */

/* A version 4 UUID, as x-amzn-RequestId carries, for the answers etch makes itself. */
static void make_request_id(char out[37])
{
    uint8_t b[16] = {0};
    if (RAND_bytes(b, (int)sizeof(b)) != 1) {
        /* Only uniqueness matters here, not secrecy: fall back to the clock. */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        for (size_t i = 0; i < 8; i++) {
            b[i] = (uint8_t)((uint64_t)now.tv_nsec >> (8 * i));
            b[8 + i] = (uint8_t)((uint64_t)now.tv_sec >> (8 * i));
        }
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* The request line's first two words, for the log; empty when there are none. */
static void request_words(struct ref_slice raw, struct ref_slice *method, struct ref_slice *target)
{
    size_t eol = ref_slice_find(raw, '\n');
    if (eol > 0 && eol <= raw.len && raw.ptr[eol - 1] == '\r') {
        eol--; /* the line's CR is no part of a word */
    }
    struct ref_slice line = ref_slice_sub(raw, 0, eol < raw.len ? eol : raw.len);
    *method = ref_slice_make(NULL, 0);
    *target = ref_slice_make(NULL, 0);
    size_t sp = ref_slice_find(line, ' ');
    if (sp >= line.len) {
        return;
    }
    *method = ref_slice_sub(line, 0, sp);
    struct ref_slice rest = ref_slice_sub(line, sp + 1, line.len - sp - 1);
    size_t sp2 = ref_slice_find(rest, ' ');
    *target = ref_slice_sub(rest, 0, sp2 < rest.len ? sp2 : rest.len);
}

static enum ref_status write_answer(struct serve_conn *c,
                                    struct ref_response *resp,
                                    struct ref_slice method,
                                    struct ref_slice target,
                                    struct ref_buf *out)
{
    if (c->is_stopping) {
        resp->is_closing = true;
    }
    enum ref_status rc = ref_response_write_http(resp, out);
    if (rc != REF_OK) {
        return rc;
    }
    if (resp->is_closing) {
        c->is_closing = true;
    }
    if (c->cfg->on_answered != NULL) {
        int http = resp->http_status != 0 ? resp->http_status : ref_status_http(resp->status);
        c->cfg->on_answered(c->cls, method, target, http, resp->status);
    }
    return REF_OK;
}

/* An answer etch makes itself (the body limit of --max-request-bytes, below the
 * reference's own), in the contract's error form and dated by the service's clock. */
static enum ref_status answer_own_error(struct serve_conn *c,
                                        enum ref_status status,
                                        bool is_closing,
                                        struct ref_slice method,
                                        struct ref_slice target,
                                        struct ref_buf *out)
{
    struct ref_response resp;
    ref_response_init(&resp);
    resp.status = status;
    resp.http_status = ref_status_http(status);
    resp.date_ms = ref_service_now_ms(c->cfg->svc);
    resp.is_closing = is_closing;
    make_request_id(resp.request_id);
    json_t *obj = json_pack("{s:s}", "message", ref_status_message(status));
    char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    enum ref_status rc = text != NULL ? ref_buf_append_cstr(&resp.body, text) : REF_E_NOMEM;
    free(text);
    if (rc == REF_OK) {
        rc = write_answer(c, &resp, method, target, out);
    }
    ref_response_cleanup(&resp);
    return rc;
}

/* HTTP/1.0, or "Connection: close": the client expects the connection to end. */
static bool wants_close(const struct ref_http_request *req)
{
    if (!ref_slice_eq_cstr(req->version, "HTTP/1.1")) {
        return true;
    }
    for (size_t i = 0; i < req->num_headers; i++) {
        if (!ref_slice_eq_nocase(req->headers[i].name, REF_SLICE_LIT("Connection"))) {
            continue;
        }
        struct ref_slice rest = req->headers[i].value;
        struct ref_slice token;
        bool more = true;
        while (more) {
            /* Without a comma the last token is all that is left. */
            more = ref_slice_split(&rest, ',', &token);
            if (ref_slice_eq_nocase(ref_slice_trim_ows(token), REF_SLICE_LIT("close"))) {
                return true;
            }
        }
    }
    return false;
}

static bool expects_continue(const struct ref_http_request *req)
{
    const struct ref_header *h =
        ref_http_find_header(req->headers, req->num_headers, REF_SLICE_LIT("Expect"));
    return h != NULL && ref_slice_eq_nocase(h->value, REF_SLICE_LIT("100-continue"));
}

/* A request that parsed: the reference answers it. */
static enum ref_status
answer_request(struct serve_conn *c, const struct ref_http_request *req, struct ref_buf *out)
{
    struct ref_response resp;
    ref_response_init(&resp);
    enum ref_status rc = ref_service_handle_parsed(c->cfg->svc, req, &resp);
    if (rc == REF_OK) {
        resp.is_closing = resp.is_closing || wants_close(req);
        rc = write_answer(c, &resp, req->method, req->target, out);
    }
    ref_response_cleanup(&resp);
    return rc;
}

/* What the strict parser refuses: the reference's own answer to the same bytes (which
 * closes). */
static enum ref_status refuse(struct serve_conn *c, struct ref_slice pending, struct ref_buf *out)
{
    struct ref_response resp;
    ref_response_init(&resp);
    enum ref_status rc = ref_service_handle_raw(c->cfg->svc, pending, &resp);
    if (rc == REF_OK) {
        resp.is_closing = true;
        struct ref_slice method, target;
        request_words(pending, &method, &target);
        rc = write_answer(c, &resp, method, target, out);
    }
    ref_response_cleanup(&resp);
    c->is_closing = true;
    return rc;
}

/* --- The pending request ---------------------------------------------------------- */

static void next_request(struct serve_conn *c, size_t consumed)
{
    c->start += consumed;
    c->has_head = false;
    c->head_len = 0;
    c->content_length = 0;
    c->is_chunked = false;
    c->is_continue_sent = false;
    c->wants_continue = false;
    c->scan = (struct serve_chunk_scan){0};
}

static struct ref_slice pending_bytes(const struct serve_conn *c)
{
    return ref_slice_make(c->in.data + c->start, c->in.len - c->start);
}

/* The head is in and the body is not: a client that asked for 100 Continue gets it. */
static enum ref_status maybe_continue(struct serve_conn *c, struct ref_buf *out)
{
    if (c->is_continue_sent || !c->wants_continue) {
        return REF_OK;
    }
    c->is_continue_sent = true;
    return ref_buf_append(out, s_continue, sizeof(s_continue) - 1);
}

/* A chunked body whose head is in. *is_done: the request was answered (or refused). */
static enum ref_status
take_chunked(struct serve_conn *c, struct ref_http_request *req, struct ref_buf *out, bool *is_done)
{
    struct ref_slice pending = pending_bytes(c);
    struct ref_slice body_part = ref_slice_sub(pending, c->head_len, pending.len - c->head_len);
    bool is_over_cap = pending.len >= SERVE_CONN_MAX_CHUNKED_BYTES;
    bool is_time = chunk_scan(&c->scan, body_part) || c->is_input_closed || is_over_cap;
    *is_done = false;
    if (!is_time) {
        return REF_OK;
    }
    struct ref_slice framed =
        ref_slice_sub(pending, 0, is_over_cap ? SERVE_CONN_MAX_CHUNKED_BYTES : pending.len);
    ref_buf_reset(&c->body);
    size_t consumed = 0;
    enum ref_status rc = ref_http_parse_request_prefix(framed, req, &c->body, &consumed, NULL);
    if (rc == REF_E_INCOMPLETE && !c->is_input_closed && !is_over_cap) {
        return REF_OK; /* the scan stopped early: the next arrival decides */
    }
    *is_done = true;
    if (rc == REF_E_INCOMPLETE && !c->is_input_closed) {
        /* Framing that never ends within the cap (a body of tiny chunks with long
         * extensions): over the request size the server takes. */
        return answer_own_error(c, REF_E_BODY_TOO_LARGE, true, req->method, req->target, out);
    }
    if (rc != REF_OK) {
        return refuse(c, pending, out);
    }
    if (c->body.len > c->cfg->max_body_bytes) {
        enum ref_status wrc =
            answer_own_error(c, REF_E_BODY_TOO_LARGE, false, req->method, req->target, out);
        next_request(c, consumed);
        return wrc;
    }
    enum ref_status arc = answer_request(c, req, out);
    next_request(c, consumed);
    return arc;
}

/* Answers every request the pending bytes complete. */
static enum ref_status process(struct serve_conn *c, struct ref_buf *out)
{
    /* Large (REF_MAX_HEADERS headers): one per connection would cost more memory than
     * the stack of the loop thread that calls this. */
    struct ref_http_request req;
    while (!c->is_closing && c->discard_left == 0) {
        struct ref_slice pending = pending_bytes(c);
        if (pending.len == 0) {
            return REF_OK;
        }
        bool is_req_fresh = false;
        if (!c->has_head) {
            size_t head_len = 0;
            enum ref_status rc = ref_http_parse_head(pending, &req, &head_len, NULL);
            if (rc == REF_E_INCOMPLETE && !c->is_input_closed) {
                return REF_OK;
            }
            if (rc != REF_OK) {
                return refuse(c, pending, out);
            }
            is_req_fresh = true;
            c->has_head = true;
            c->head_len = head_len;
            c->is_chunked = req.is_chunked;
            c->wants_continue = expects_continue(&req);
            c->content_length = 0;
            const struct ref_header *cl =
                ref_http_find_header(req.headers, req.num_headers, REF_SLICE_LIT("Content-Length"));
            /* The parser has checked the value and held it to REF_MAX_BODY_BYTES. */
            if (!req.is_chunked && cl != NULL &&
                ref_slice_to_u64(cl->value, REF_MAX_BODY_BYTES, &c->content_length) != REF_OK) {
                return refuse(c, pending, out);
            }
            if (!req.is_chunked && c->content_length > c->cfg->max_body_bytes) {
                /* Over --max-request-bytes. A client waiting for 100 Continue will not
                 * send the body: answer and close. Otherwise the body is dropped as it
                 * comes and the connection kept. */
                bool is_waiting = c->wants_continue && pending.len < head_len + c->content_length;
                REF_TRY(answer_own_error(c, REF_E_BODY_TOO_LARGE, is_waiting || wants_close(&req),
                                         req.method, req.target, out));
                size_t here = pending.len - head_len;
                size_t take = here < c->content_length ? here : (size_t)c->content_length;
                c->discard_left = c->content_length - take;
                next_request(c, head_len + take);
                continue;
            }
        }
        if (c->is_chunked) {
            bool is_done = false;
            REF_TRY(take_chunked(c, &req, out, &is_done));
            if (!is_done) {
                return maybe_continue(c, out);
            }
            continue;
        }
        size_t need = c->head_len + (size_t)c->content_length;
        if (pending.len < need) {
            if (c->is_input_closed) {
                return refuse(c, pending, out);
            }
            return maybe_continue(c, out);
        }
        if (!is_req_fresh) {
            /* The body came after the head: read the whole request now. */
            size_t consumed = 0;
            enum ref_status rc = ref_http_parse_request_prefix(ref_slice_sub(pending, 0, need),
                                                               &req, NULL, &consumed, NULL);
            if (rc != REF_OK) {
                return refuse(c, pending, out);
            }
        } else {
            req.body = ref_slice_sub(pending, c->head_len, (size_t)c->content_length);
        }
        REF_TRY(answer_request(c, &req, out));
        next_request(c, need);
    }
    return REF_OK;
}

/* Moves the pending request to the front of the buffer once answers have used the bytes
 * before it. */
static void compact(struct serve_conn *c)
{
    if (c->start == 0) {
        return;
    }
    size_t rest = c->in.len - c->start;
    if (rest > 0) {
        memmove(c->in.data, c->in.data + c->start, rest);
    }
    c->in.len = rest;
    c->start = 0;
}

/* --- The interface ---------------------------------------------------------------- */

void serve_conn_init(struct serve_conn *c, const struct serve_conn_config *cfg, void *cls)
{
    *c = (struct serve_conn){.cfg = cfg, .cls = cls};
    ref_buf_init(&c->in, SERVE_CONN_MAX_CHUNKED_BYTES + FEED_SLICE_BYTES);
    ref_buf_init(&c->body, REF_MAX_BODY_BYTES);
}

void serve_conn_cleanup(struct serve_conn *c)
{
    ref_buf_cleanup(&c->in);
    ref_buf_cleanup(&c->body);
}

enum ref_status
serve_conn_receive(struct serve_conn *c, struct ref_slice bytes, struct ref_buf *out)
{
    while (bytes.len > 0 && !c->is_closing) {
        if (c->discard_left > 0) {
            size_t drop = bytes.len < c->discard_left ? bytes.len : (size_t)c->discard_left;
            c->discard_left -= drop;
            bytes = ref_slice_sub(bytes, drop, bytes.len - drop);
            continue;
        }
        size_t take = bytes.len < FEED_SLICE_BYTES ? bytes.len : FEED_SLICE_BYTES;
        REF_TRY(ref_buf_append(&c->in, bytes.ptr, take));
        bytes = ref_slice_sub(bytes, take, bytes.len - take);
        enum ref_status rc = process(c, out);
        compact(c);
        REF_TRY(rc);
    }
    return REF_OK;
}

enum ref_status serve_conn_end_of_input(struct serve_conn *c, struct ref_buf *out)
{
    c->is_input_closed = true;
    enum ref_status rc = REF_OK;
    if (!c->is_closing && c->discard_left == 0) {
        rc = process(c, out);
        compact(c);
    }
    c->is_closing = true;
    return rc;
}

void serve_conn_stop(struct serve_conn *c)
{
    c->is_stopping = true;
}

bool serve_conn_is_idle(const struct serve_conn *c)
{
    return c->in.len == c->start && c->discard_left == 0 && !c->has_head;
}

bool serve_conn_is_closing(const struct serve_conn *c)
{
    return c->is_closing;
}
