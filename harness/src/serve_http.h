/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_http.h - the HTTP front of `etch serve`: libmicrohttpd in front of one reference.
 *
 * Each request is collected whole (target exactly as received, headers in arrival order,
 * body up to a limit) and handed to ref_service_handle_parsed; the answer goes back with
 * the reference's status, body and headers. The server borrows the service: the caller
 * keeps it alive until etch_server_stop returns.
 */
#ifndef ETCH_SERVE_HTTP_H
#define ETCH_SERVE_HTTP_H

#include "ref/service.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connections served at once; more wait in the listen backlog. */
#define ETCH_SERVE_MAX_CONNECTIONS 1024
/* Worker threads (each with its own epoll loop). */
#define ETCH_SERVE_MAX_THREADS 64
/* An idle keep-alive connection is closed after this long. */
#define ETCH_SERVE_IDLE_TIMEOUT_S 60
/* Per-connection memory libmicrohttpd may use for the request line and headers. Room for
 * the reference's own limits (REF_MAX_TARGET_BYTES + REF_MAX_HEADER_BYTES) and a margin,
 * so that going over those limits still gets the contract's JSON error form from etch;
 * only a request beyond this larger limit gets libmicrohttpd's own 4xx answer. */
#define ETCH_SERVE_CONNECTION_MEMORY_BYTES (64 * 1024)
/* A body past the limit is drained without being stored, up to this many bytes, so that
 * a chunked body that ends can still get its 413; past it the connection is dropped. */
#define ETCH_SERVE_MAX_DISCARD_BYTES (16 * 1024 * 1024)

struct etch_server_config {
    struct ref_service *svc; /* borrowed */
    const char *host;        /* numeric IPv4 or IPv6 address */
    uint16_t port;           /* 0: the system picks one */
    size_t max_body_bytes;   /* larger bodies get 413 */
    unsigned threads;        /* 1..ETCH_SERVE_MAX_THREADS */
    bool is_quiet;           /* no per-request log line */
    /* The service offers test control, whose clock may be virtual: answers from the
     * reference carry the Date of the service's clock (ref_response.date_ms) instead of
     * libmicrohttpd's, which reads the real one. */
    bool has_test_control;
};

struct etch_server;

/* Binds, listens and starts the worker threads. Returns the server (owned by the caller,
 * release with etch_server_stop), or NULL after printing why on stderr. */
struct etch_server *etch_server_start(const struct etch_server_config *cfg);

/* The port actually bound (useful when the config asked for 0). */
uint16_t etch_server_port(const struct etch_server *srv);

/* Stops accepting new connections; connections already open are still served. */
void etch_server_quiesce(struct etch_server *srv);

/* Requests received but not yet completely answered. */
size_t etch_server_in_flight(const struct etch_server *srv);

/* Closes every connection, joins the threads and frees the server. */
void etch_server_stop(struct etch_server *srv);

#endif
