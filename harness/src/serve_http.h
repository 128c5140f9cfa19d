/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_http.h - the HTTP front of `etch serve`: libuv event loops in front of one
 * reference.
 *
 * Each worker thread runs a libuv loop with a listening socket of its own on the same
 * port (SO_REUSEPORT: the kernel spreads new connections over them). A connection's bytes
 * go to serve_conn.h, which reads every request with the reference's strict parser and
 * answers it with the reference; this file only moves bytes, keeps the timeouts and the
 * bound on open connections, and writes the log. The server borrows the service: the
 * caller keeps it alive until etch_server_stop returns.
 */
#ifndef ETCH_SERVE_HTTP_H
#define ETCH_SERVE_HTTP_H

#include "ref/service.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connections served at once; more wait in the listen backlog. */
#define ETCH_SERVE_MAX_CONNECTIONS 1024
/* Worker threads (each with its own event loop). */
#define ETCH_SERVE_MAX_THREADS 64
/* A keep-alive connection with no request under way is closed after this long. */
#define ETCH_SERVE_IDLE_TIMEOUT_MS 60000
/* A request that has begun must arrive whole, and an answer must be taken by the client,
 * within this long: a client that trickles bytes or never reads cannot hold a connection. */
#define ETCH_SERVE_SLOW_CLIENT_TIMEOUT_MS 30000
/* After an answer that closes: how long what the client still sends is read and dropped,
 * so that closing does not reset the connection before the client has read the answer. */
#define ETCH_SERVE_LINGER_MS 1000

struct etch_server_config {
    struct ref_service *svc; /* borrowed */
    const char *host;        /* numeric IPv4 or IPv6 address */
    uint16_t port;           /* 0: the system picks one */
    size_t max_body_bytes;   /* larger bodies get 413 */
    unsigned threads;        /* 1..ETCH_SERVE_MAX_THREADS */
    bool is_quiet;           /* no per-request log line */
    /* 0: the defaults above (tests shorten them). */
    unsigned idle_timeout_ms;
    unsigned slow_client_timeout_ms;
    size_t max_connections;
};

struct etch_server;

/* Binds, listens and starts the worker threads. Returns the server (owned by the caller,
 * release with etch_server_stop), or NULL after printing why on stderr. */
struct etch_server *etch_server_start(const struct etch_server_config *cfg);

/* The port actually bound (useful when the config asked for 0). */
uint16_t etch_server_port(const struct etch_server *srv);

/* Stops accepting new connections (the listening sockets close); connections already open
 * are still served, each closing after its next answer or at once when idle. */
void etch_server_quiesce(struct etch_server *srv);

/* Connections with a request under way or an answer not yet sent. */
size_t etch_server_in_flight(const struct etch_server *srv);

/* Closes every connection, joins the threads and frees the server. */
void etch_server_stop(struct etch_server *srv);

#endif
