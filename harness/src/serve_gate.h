/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_gate.h - the front door of `etch serve`: the reference's strict parser reads each
 * new connection's first request before libmicrohttpd does.
 *
 * libmicrohttpd (0.9.75) answers some malformed requests itself, before any callback
 * sees them: it closes on garbage, repairs obsolete line folding and bare LF line ends,
 * and answers a line it cannot parse with its own HTML page. A conformance tool's server
 * must answer those exactly as the reference does, so the gate owns the listening socket:
 * it accepts, looks at what has arrived without consuming it (MSG_PEEK), and either hands
 * the untouched connection to libmicrohttpd or, when the strict parser refuses the
 * request, answers it with the reference's own error response and closes.
 *
 * What it looks at: the request line and header section (at most the reference's limits,
 * which fit the window), and a chunked body as far as the window reaches, because a bad
 * chunk size is another thing libmicrohttpd would answer itself. A Content-Length body is
 * not waited for: libmicrohttpd reads it as it is. Later requests on a kept-alive
 * connection reach libmicrohttpd directly; etch's live runs send every request the strict
 * parser refuses on a connection of its own, so the suite sees each as a first request.
 */
#ifndef ETCH_SERVE_GATE_H
#define ETCH_SERVE_GATE_H

#include "ref/service.h"
#include "ref/slice.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* How much of a new connection's input the gate looks at. It must hold the largest head
 * the reference accepts, so that every head-level refusal is the gate's. */
#define SERVE_GATE_WINDOW_BYTES (32 * 1024)
/* How long a chunked body may take to arrive (after its head) before the connection is
 * handed on anyway: a slow but valid upload must not wait for the idle timeout. */
#define SERVE_GATE_BODY_WAIT_MS 1000
/* After a refusal: how long, and how much, the gate reads and drops what the client
 * still sends, so that closing does not reset the connection before the answer is read. */
#define SERVE_GATE_LINGER_MS    1000
#define SERVE_GATE_LINGER_BYTES (1024 * 1024)

enum serve_gate_verdict {
    SERVE_GATE_WAIT = 0,  /* too little has arrived to decide */
    SERVE_GATE_HAND_OFF,  /* the strict parser has nothing against what arrived */
    SERVE_GATE_REFUSE,    /* the strict parser refuses the first request */
};

/* What to do with the bytes that have arrived on a new connection (at most the window).
 * is_input_closed: the client will send nothing more. is_body_wait_over: a chunked body
 * has had SERVE_GATE_BODY_WAIT_MS to arrive. *is_waiting_for_body (may be NULL) is set
 * with SERVE_GATE_WAIT when the head is in and only a chunked body is awaited. */
enum serve_gate_verdict serve_gate_judge(struct ref_slice arrived,
                                         bool is_input_closed,
                                         bool is_body_wait_over,
                                         bool *is_waiting_for_body);

/* Called on the gate's thread with a connection the gate is done with; the callee owns
 * fd from then on, whatever it does with it. */
typedef void serve_gate_hand_off_fn(void *cls, int fd, const struct sockaddr *addr,
                                    socklen_t addr_len);
/* Called on the gate's thread for each request it answered itself. method and target are
 * as received (either may be empty when the request line is garbage). */
typedef void serve_gate_refused_fn(void *cls, struct ref_slice method, struct ref_slice target,
                                   int http_status, enum ref_status status, double ms);

struct serve_gate_config {
    int listen_fd;            /* listening and non-blocking; the gate owns it from start */
    struct ref_service *svc;  /* borrowed: answers the refused requests */
    unsigned idle_timeout_ms; /* a connection silent for this long is closed */
    size_t max_connections;   /* connections waiting at the gate at once; more wait in
                                 the listen backlog */
    serve_gate_hand_off_fn *hand_off;
    serve_gate_refused_fn *on_refused; /* may be NULL */
    void *cls;                         /* for both callbacks */
};

struct serve_gate;

/* Starts the gate's thread. NULL (after printing why on stderr) when it cannot; the
 * listening socket is closed then too. */
struct serve_gate *serve_gate_start(const struct serve_gate_config *cfg);

/* Stops accepting (the listening socket is closed: new connections are refused), drops
 * the connections still at the gate, joins the thread and frees the gate. */
void serve_gate_stop(struct serve_gate *gate);

#endif
