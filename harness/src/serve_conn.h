/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_conn.h - one connection of `etch serve` as bytes in and answers out, with no
 * sockets and no event loop.
 *
 * Every request on a connection, the first or a later one, pipelined or not, is read by
 * the reference's strict parser (ref/http.h) and answered by the reference itself, so a
 * malformed request gets the same answer wherever it stands on its connection. The module
 * decides everything the protocol needs: where a request ends (Content-Length, chunked),
 * when an interim 100 Continue is due, the body limit of `--max-request-bytes` (413 in the
 * contract's error form), when the connection must close (a request that did not parse,
 * HTTP/1.0, "Connection: close", a server that is stopping). The libuv shell of
 * serve_http.c only moves bytes and keeps the timers; unit tests and the fuzz target drive
 * this module directly.
 */
#ifndef ETCH_SERVE_CONN_H
#define ETCH_SERVE_CONN_H

#include "ref/buf.h"
#include "ref/limits.h"
#include "ref/service.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most a chunked request may take on the wire before it is complete: the head and
 * the body at the reference's limit in one-byte chunks ("1" CRLF, the byte, CRLF: six
 * bytes a byte), with room to spare. The reference itself bounds only the decoded body, so
 * framing this long is still a request it answers. Past it: 413 and a close. */
#define SERVE_CONN_MAX_CHUNKED_BYTES                                                               \
    (REF_MAX_TARGET_BYTES + REF_MAX_HEADER_BYTES + 8 * REF_MAX_BODY_BYTES)

/* Told of every answer, after it is written to the output: the request line's method and
 * target as received (either may be empty when the request line is garbage). */
typedef void serve_conn_answered_fn(void *cls,
                                    struct ref_slice method,
                                    struct ref_slice target,
                                    int http_status,
                                    enum ref_status status);

struct serve_conn_config {
    struct ref_service *svc;             /* borrowed */
    size_t max_body_bytes;               /* a larger body gets 413; at most REF_MAX_BODY_BYTES */
    serve_conn_answered_fn *on_answered; /* may be NULL; called with the connection's cls */
};

/* How a chunked body's end is looked for without running the strict parser on every
 * arrival: a lenient scan that stops where the body seems to end or stops making sense;
 * the strict parser then has the last word. */
struct serve_chunk_scan {
    int state;
    uint64_t size;        /* the chunk size read so far, or the data still to skip */
    size_t line_bytes;    /* bytes of the current chunk-size or trailer line */
    size_t trailer_bytes; /* bytes of the trailer section so far */
    size_t scanned_to;    /* offset in the pending request of the next byte to scan */
};

struct serve_conn {
    const struct serve_conn_config *cfg;
    void *cls;         /* for cfg->on_answered */
    struct ref_buf in; /* received, not yet answered; the pending request starts at `start` */
    size_t start;
    struct ref_buf body;   /* a chunked body, decoded */
    uint64_t discard_left; /* bytes of an over-limit body still to drop before its 413 */
    bool has_head;         /* the pending request's head has been read */
    size_t head_len;
    uint64_t content_length;
    bool is_chunked;
    bool wants_continue;   /* the pending request says "Expect: 100-continue" */
    bool is_continue_sent; /* and has had its 100 Continue */
    struct serve_chunk_scan scan;
    bool is_input_closed;
    bool is_closing;  /* the last answer closes the connection: read nothing more */
    bool is_stopping; /* the server is stopping: the next answer closes */
};

/* cfg is borrowed (one config may serve many connections); cls goes to on_answered. */
void serve_conn_init(struct serve_conn *c, const struct serve_conn_config *cfg, void *cls);
void serve_conn_cleanup(struct serve_conn *c);

/* Takes bytes that arrived on the connection and appends to *out every answer (and
 * interim 100 Continue) they complete. Bytes arriving after an answer that closes are
 * dropped. REF_OK, or REF_E_NOMEM when no answer could be made (the shell then drops the
 * connection). */
REF_MUST_CHECK enum ref_status
serve_conn_receive(struct serve_conn *c, struct ref_slice bytes, struct ref_buf *out);

/* The client will send nothing more: a request cut short is answered as the reference
 * answers one (400), and the connection closes once *out is sent. */
REF_MUST_CHECK enum ref_status serve_conn_end_of_input(struct serve_conn *c, struct ref_buf *out);

/* The server is stopping: the next answer says "Connection: close" and closes. */
void serve_conn_stop(struct serve_conn *c);

/* Nothing of a request has arrived (for the idle timeout, as against the slow-client one). */
bool serve_conn_is_idle(const struct serve_conn *c);

/* The connection closes once what *out holds is sent: read nothing more. */
bool serve_conn_is_closing(const struct serve_conn *c);

#endif
