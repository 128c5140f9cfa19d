/* SPDX-License-Identifier: Apache-2.0
 *
 * backend_live.c - the live backend: requests to a real endpoint through libcurl, byte
 * for byte.
 *
 * libcurl only connects (TCP, TLS with certificate checks, a proxy tunnel): the request
 * bytes the runner built go out through curl_easy_send exactly as they are, signed or
 * malformed, and the answer comes back through curl_easy_recv until harness_core's
 * response parser says it is complete (Content-Length, chunked, or the connection's
 * close). Every exchange is bounded twice: by the total timeout, counted from the start
 * of the exchange (connect included), and by the response size limit of http_response.h.
 * Nothing is retried: a failure is reported with its reason and the connection dropped.
 *
 * Connections are kept alive between exchanges, in a small pool per backend (one backend
 * per worker), so a worker's sequential steps reuse one connection and a concurrent group
 * gets one connection per sub-step. An idle connection is checked before reuse: one the
 * server closed, or that holds bytes nobody asked for, is dropped, never written to.
 *
 * A request the reference's strict parser refuses (a malformed step, on purpose) gets a
 * connection of its own: freshly opened, never taken from the pool, and closed after its
 * exchange. In process every raw step is parsed on its own, as the first and only
 * request; on a reused connection the server's reading of it could depend on what came
 * before, and after it the connection's framing is unknown (the server may still wait
 * for a body it thinks is coming), so nothing else is sent on it.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/live.h"

#include "live_internal.h"

#include "harness/text.h"

#include "harness/http_response.h"

#include "ref/buf.h"
#include "ref/http.h"

#include <curl/curl.h>

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECV_CHUNK_BYTES 16384
/* The whole raw answer: the head, the body, and chunk framing around a body at the limit. */
#define MAX_RAW_RESPONSE_BYTES                                                                     \
    (HARNESS_MAX_RESPONSE_HEADER_BYTES + HARNESS_MAX_RESPONSE_BODY_BYTES + 65536)

struct conn {
    CURL *easy;
    curl_socket_t sock;
    char errbuf[CURL_ERROR_SIZE];
};

struct live {
    struct harness_backend base;
    struct harness_live_options opts;
    char *cacert;
    char description[HARNESS_LIVE_MAX_URL_BYTES + 32];
    pthread_mutex_t lock;
    struct conn *idle[HARNESS_LIVE_MAX_IDLE_CONNECTIONS];
    size_t num_idle;
    struct live_control control;
};

static pthread_once_t s_init_once = PTHREAD_ONCE_INIT;
static bool s_init_ok;

static void global_init(void)
{
    s_init_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

bool harness_live_global_init(void)
{
    pthread_once(&s_init_once, global_init);
    return s_init_ok;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- Endpoint URLs ----------------------------------------------------------------- */

static bool url_part(CURLU *u, CURLUPart part, char **out)
{
    *out = NULL;
    return curl_url_get(u, part, out, 0) == CURLUE_OK && *out != NULL;
}

enum ref_status harness_live_endpoint_parse(const char *url,
                                            struct harness_live_endpoint *out,
                                            char *why,
                                            size_t why_cap)
{
    memset(out, 0, sizeof(*out));
    if (url == NULL || url[0] == '\0' || strlen(url) >= HARNESS_LIVE_MAX_URL_BYTES) {
        harness_textf(why, why_cap, "an endpoint is a URL of at most %d bytes",
                      HARNESS_LIVE_MAX_URL_BYTES - 1);
        return REF_E_MALFORMED;
    }
    CURLU *u = curl_url();
    if (u == NULL) {
        harness_textf(why, why_cap, "out of memory");
        return REF_E_NOMEM;
    }
    enum ref_status rc = REF_E_MALFORMED;
    char *scheme = NULL;
    char *host = NULL;
    char *port = NULL;
    char *path = NULL;
    char *extra = NULL;
    /* No guessing: "localhost:8080" is not taken for http://localhost:8080. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        !url_part(u, CURLUPART_SCHEME, &scheme) || !url_part(u, CURLUPART_HOST, &host)) {
        harness_textf(why, why_cap, "'%s' is not a URL such as http://127.0.0.1:8080", url);
        goto out;
    }
    out->is_https = strcmp(scheme, "https") == 0;
    if (!out->is_https && strcmp(scheme, "http") != 0) {
        harness_textf(why, why_cap, "'%s': only http:// and https:// endpoints", url);
        goto out;
    }
    if (url_part(u, CURLUPART_USER, &extra)) {
        harness_textf(why, why_cap,
                      "'%s': no user name or password in the URL (credentials come from "
                      "the options or the environment)",
                      url);
        goto out;
    }
    if (url_part(u, CURLUPART_QUERY, &extra) || url_part(u, CURLUPART_FRAGMENT, &extra)) {
        harness_textf(why, why_cap, "'%s': no query or fragment in the endpoint URL", url);
        goto out;
    }
    if (url_part(u, CURLUPART_PATH, &path) && strcmp(path, "/") != 0 && path[0] != '\0') {
        harness_textf(why, why_cap,
                      "'%s': the endpoint URL has no path (requests go to /2012-09-25/...)", url);
        goto out;
    }
    bool has_port = url_part(u, CURLUPART_PORT, &port);
    int n = snprintf(out->url, sizeof(out->url), "%s://%s%s%s", scheme, host, has_port ? ":" : "",
                     has_port ? port : "");
    int m = snprintf(out->host_header, sizeof(out->host_header), "%s%s%s", host,
                     has_port ? ":" : "", has_port ? port : "");
    if (n < 0 || (size_t)n >= sizeof(out->url) || m < 0 || (size_t)m >= sizeof(out->host_header)) {
        harness_textf(why, why_cap, "'%s': the host name is too long", url);
        goto out;
    }
    rc = REF_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(extra);
    curl_url_cleanup(u);
    return rc;
}

/* --- Connections ------------------------------------------------------------------- */

static void conn_free(struct conn *c)
{
    if (c != NULL) {
        curl_easy_cleanup(c->easy);
        free(c);
    }
}

/* Waits until the socket is ready for events; 1 ready, 0 deadline passed, -1 error. */
static int wait_socket(curl_socket_t sock, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            return 0;
        }
        struct pollfd p = {.fd = sock, .events = events};
        int n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (n > 0) {
            return 1;
        }
        if (n < 0) {
            return -1;
        }
    }
}

static long clamp_long(int64_t ms)
{
    return ms < 1                             ? 1L
           : ms > HARNESS_LIVE_MAX_TIMEOUT_MS ? (long)HARNESS_LIVE_MAX_TIMEOUT_MS
                                              : (long)ms;
}

static struct conn *conn_open(struct live *lv, int64_t deadline, char *why, size_t why_cap)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->easy = curl_easy_init()) == NULL) {
        free(c);
        harness_textf(why, why_cap, "cannot start a libcurl handle");
        return NULL;
    }
    CURL *e = c->easy;
    int64_t left = deadline - mono_ms();
    int64_t connect_ms = lv->opts.connect_timeout_ms < left ? lv->opts.connect_timeout_ms : left;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, lv->opts.endpoint.url) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, clamp_long(connect_ms)) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, clamp_long(left)) == CURLE_OK &&
              /* TLS offers HTTP/1.1 only: the bytes sent are HTTP/1.1. */
              curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) == CURLE_OK &&
              /* A proxy from the environment must pass the bytes on unchanged: a tunnel. */
              curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L) == CURLE_OK &&
              curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    if (ok && lv->opts.endpoint.is_https) {
        ok = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, lv->opts.is_insecure ? 0L : 1L) ==
                 CURLE_OK &&
             curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, lv->opts.is_insecure ? 0L : 2L) ==
                 CURLE_OK &&
             (lv->cacert == NULL || curl_easy_setopt(e, CURLOPT_CAINFO, lv->cacert) == CURLE_OK);
    }
    if (!ok) {
        harness_textf(why, why_cap, "libcurl refused an option");
        conn_free(c);
        return NULL;
    }
    CURLcode rc = curl_easy_perform(e);
    if (rc != CURLE_OK) {
        harness_textf(why, why_cap, "cannot connect to %s: %s", lv->opts.endpoint.url,
                      c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc));
        conn_free(c);
        return NULL;
    }
    if (curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &c->sock) != CURLE_OK ||
        c->sock == CURL_SOCKET_BAD) {
        harness_textf(why, why_cap, "libcurl gave no socket for %s", lv->opts.endpoint.url);
        conn_free(c);
        return NULL;
    }
    return c;
}

/* An idle connection is fit for another request only when nothing has arrived on it: a
 * close, a reset or unasked-for bytes all mean "do not write here". A readable socket
 * may also hold TLS housekeeping (session tickets), which curl_easy_recv consumes and
 * answers with CURLE_AGAIN: that connection is fine. */
static bool conn_is_fit(struct conn *c)
{
    struct pollfd p = {.fd = c->sock, .events = POLLIN};
    int n = poll(&p, 1, 0);
    if (n == 0) {
        return true;
    }
    if (n < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
        return false;
    }
    uint8_t byte;
    size_t got = 0;
    return curl_easy_recv(c->easy, &byte, 1, &got) == CURLE_AGAIN;
}

static struct conn *conn_take(struct live *lv, int64_t deadline, char *why, size_t why_cap)
{
    for (;;) {
        struct conn *c = NULL;
        pthread_mutex_lock(&lv->lock);
        if (lv->num_idle > 0) {
            c = lv->idle[--lv->num_idle];
        }
        pthread_mutex_unlock(&lv->lock);
        if (c == NULL) {
            return conn_open(lv, deadline, why, why_cap);
        }
        if (conn_is_fit(c)) {
            return c;
        }
        conn_free(c);
    }
}

static void conn_give_back(struct live *lv, struct conn *c)
{
    pthread_mutex_lock(&lv->lock);
    if (lv->num_idle < HARNESS_LIVE_MAX_IDLE_CONNECTIONS) {
        lv->idle[lv->num_idle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&lv->lock);
    conn_free(c);
}

/* --- One exchange ------------------------------------------------------------------ */

/* Whether the reference takes these bytes as one whole, well-formed request, as it
 * would in process (a chunked body decoded within the reference's body limit). */
static bool request_is_well_formed(struct ref_slice request)
{
    struct ref_http_request parsed;
    struct ref_buf chunked_body;
    ref_buf_init(&chunked_body, REF_MAX_BODY_BYTES);
    enum ref_status rc = ref_http_parse_request(request, &parsed, &chunked_body, NULL);
    ref_buf_cleanup(&chunked_body);
    return rc == REF_OK;
}

static enum ref_status
send_all(struct conn *c, struct ref_slice data, int64_t deadline, char *why, size_t why_cap)
{
    size_t off = 0;
    while (off < data.len) {
        size_t n = 0;
        CURLcode rc = curl_easy_send(c->easy, data.ptr + off, data.len - off, &n);
        if (rc == CURLE_AGAIN) {
            int w = wait_socket(c->sock, POLLOUT, deadline);
            if (w <= 0) {
                harness_textf(why, why_cap,
                              w == 0 ? "timed out sending the request (%zu of %zu bytes sent)"
                                     : "the connection failed while sending (%zu of %zu "
                                       "bytes sent)",
                              off, data.len);
                return w == 0 ? REF_E_INCOMPLETE : REF_E_INTERNAL;
            }
            continue;
        }
        if (rc != CURLE_OK) {
            harness_textf(why, why_cap, "sending the request failed after %zu of %zu bytes: %s",
                          off, data.len, c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc));
            return REF_E_INTERNAL;
        }
        off += n;
    }
    return REF_OK;
}

static bool ends_with_blank_line(const struct ref_buf *b, size_t start)
{
    return b->len - start >= 4 && memcmp(b->data + b->len - 4, "\r\n\r\n", 4) == 0;
}

/* What the bytes so far say about the answer. */
enum progress {
    PROGRESS_MORE = 0, /* keep reading */
    PROGRESS_DONE,     /* a whole answer */
    PROGRESS_BAD,      /* not a valid answer: stop, the runner's parser will say why */
};

static enum progress judge_progress(const struct ref_buf *buf,
                                    size_t start,
                                    struct harness_http_head *head,
                                    bool *has_head,
                                    size_t *end)
{
    struct ref_slice raw = ref_slice_make(buf->data + start, buf->len - start);
    struct harness_http_response resp;
    if (!*has_head) {
        enum ref_status rc = harness_http_parse_head(raw, &resp, head, NULL);
        if (rc == REF_E_INCOMPLETE) {
            return PROGRESS_MORE;
        }
        if (rc != REF_OK) {
            return PROGRESS_BAD;
        }
        *has_head = true;
    }
    switch (head->framing) {
        case HARNESS_FRAMING_EMPTY:
            *end = head->head_len;
            return PROGRESS_DONE;
        case HARNESS_FRAMING_LENGTH:
            if (raw.len - head->head_len < head->content_length) {
                return PROGRESS_MORE;
            }
            *end = head->head_len + head->content_length;
            return PROGRESS_DONE;
        case HARNESS_FRAMING_CHUNKED: {
            /* A chunked body ends with the last chunk and an empty line: only then is a
             * (linear) parse worth it, not after every read. */
            if (!ends_with_blank_line(buf, start)) {
                return PROGRESS_MORE;
            }
            struct ref_buf body;
            ref_buf_init(&body, HARNESS_MAX_RESPONSE_BODY_BYTES);
            size_t used = 0;
            enum ref_status rc = harness_http_parse_response(raw, &resp, &body, &used, NULL);
            ref_buf_cleanup(&body);
            if (rc == REF_E_INCOMPLETE) {
                return PROGRESS_MORE;
            }
            *end = used;
            return rc == REF_OK ? PROGRESS_DONE : PROGRESS_BAD;
        }
        default:
            return PROGRESS_MORE; /* until the connection closes */
    }
}

static enum ref_status live_send_explained(struct harness_backend *b,
                                           struct ref_slice request,
                                           struct ref_buf *response,
                                           char *why,
                                           size_t why_cap)
{
    struct live *lv = b->impl;
    int64_t deadline = mono_ms() + lv->opts.timeout_ms;
    /* A malformed request must reach the server as the first on its connection, as in
     * process, and leaves that connection's framing unknown: a fresh connection, closed
     * afterwards, so it neither inherits nor poisons a pooled one. */
    bool is_well_formed = request_is_well_formed(request);
    struct conn *c = is_well_formed ? conn_take(lv, deadline, why, why_cap)
                                    : conn_open(lv, deadline, why, why_cap);
    if (c == NULL) {
        return REF_E_INTERNAL;
    }
    char send_why[256] = "";
    enum ref_status send_rc = send_all(c, request, deadline, send_why, sizeof(send_why));
    /* A server may answer and close before taking the whole request (a 413 to a large
     * body): what it said is still read, and only when it said nothing is the send
     * failure the reason. */
    int64_t read_deadline = send_rc == REF_OK ? deadline : mono_ms() + 1000;
    if (read_deadline > deadline) {
        read_deadline = deadline;
    }
    size_t start = response->len;
    struct harness_http_head head;
    bool has_head = false;
    bool is_eof = false;
    size_t end = 0;
    enum progress progress = PROGRESS_MORE;
    enum ref_status rc = REF_OK;
    uint8_t chunk[RECV_CHUNK_BYTES];
    while (progress == PROGRESS_MORE) {
        size_t n = 0;
        CURLcode crc = curl_easy_recv(c->easy, chunk, sizeof(chunk), &n);
        if (crc == CURLE_AGAIN) {
            int w = wait_socket(c->sock, POLLIN, read_deadline);
            if (w == 0) {
                if (send_rc != REF_OK && response->len == start) {
                    harness_textf(why, why_cap, "%s", send_why);
                    rc = send_rc;
                } else {
                    harness_textf(why, why_cap,
                                  "no complete answer within %lld ms (%zu bytes received)",
                                  (long long)lv->opts.timeout_ms, response->len - start);
                    rc = REF_E_INCOMPLETE;
                }
                break;
            }
            if (w < 0) {
                harness_textf(why, why_cap, "waiting for the answer failed");
                rc = REF_E_INTERNAL;
                break;
            }
            continue;
        }
        if (crc != CURLE_OK) {
            if (send_rc != REF_OK && response->len == start) {
                harness_textf(why, why_cap, "%s", send_why);
            } else {
                harness_textf(why, why_cap, "receiving the answer failed after %zu bytes: %s",
                              response->len - start,
                              c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(crc));
            }
            rc = REF_E_INTERNAL;
            break;
        }
        if (n == 0) {
            is_eof = true;
            break;
        }
        if (response->len - start + n > MAX_RAW_RESPONSE_BYTES ||
            ref_buf_append(response, chunk, n) != REF_OK) {
            harness_textf(why, why_cap, "the answer is larger than the %d-byte limit",
                          MAX_RAW_RESPONSE_BYTES);
            rc = REF_E_TOO_LARGE;
            break;
        }
        progress = judge_progress(response, start, &head, &has_head, &end);
    }
    bool keep = false;
    if (rc == REF_OK && is_eof) {
        size_t got = response->len - start;
        if (got == 0) {
            /* Closed before a single byte: "closed without an answer", or the send's
             * failure when there was one. */
            if (send_rc != REF_OK) {
                harness_textf(why, why_cap, "%s", send_why);
                rc = send_rc;
            }
        } else if (has_head && head.framing == HARNESS_FRAMING_CLOSE) {
            /* The close is the end of this answer. */
        } else if (!has_head || progress == PROGRESS_MORE) {
            harness_textf(why, why_cap,
                          "the connection closed in the middle of the answer (%zu bytes "
                          "received)",
                          got);
            rc = REF_E_INCOMPLETE;
        }
    } else if (rc == REF_OK && progress == PROGRESS_DONE) {
        keep = is_well_formed && head.is_keep_alive && send_rc == REF_OK &&
               end == response->len - start;
        if (end < response->len - start) {
            /* Bytes after a complete answer are not part of it: a client stops reading
             * there too. They would poison the next exchange, so the connection goes. */
            response->len = start + end;
        }
    }
    if (keep) {
        conn_give_back(lv, c);
    } else {
        conn_free(c);
    }
    return rc;
}

/* Waits for the first byte of an answer and reads that byte only. TLS housekeeping that
 * arrives first (a session ticket) is consumed by curl_easy_recv, which then says AGAIN. */
static enum ref_status
await_first_byte(struct conn *c, int64_t deadline, int64_t timeout_ms, char *why, size_t why_cap)
{
    for (;;) {
        uint8_t byte;
        size_t n = 0;
        CURLcode crc = curl_easy_recv(c->easy, &byte, 1, &n);
        if (crc == CURLE_OK) {
            if (n == 1) {
                return REF_OK;
            }
            harness_textf(why, why_cap,
                          "the endpoint closed the connection without answering, so nothing "
                          "shows that the endpoint handled the request");
            return REF_E_INCOMPLETE;
        }
        if (crc != CURLE_AGAIN) {
            harness_textf(why, why_cap,
                          "the connection failed before an answer began (%s), so nothing shows "
                          "that the endpoint handled the request",
                          c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(crc));
            return REF_E_INTERNAL;
        }
        int w = wait_socket(c->sock, POLLIN, deadline);
        if (w == 0) {
            harness_textf(why, why_cap,
                          "no answer began within %lld ms, so nothing shows that the endpoint "
                          "handled the request",
                          (long long)timeout_ms);
            return REF_E_INCOMPLETE;
        }
        if (w < 0) {
            harness_textf(why, why_cap, "waiting for the answer failed");
            return REF_E_INTERNAL;
        }
    }
}

/* Closes every idle connection of the pool. */
static void pool_drop_idle(struct live *lv)
{
    pthread_mutex_lock(&lv->lock);
    size_t n = lv->num_idle;
    struct conn *idle[HARNESS_LIVE_MAX_IDLE_CONNECTIONS];
    memcpy(idle, lv->idle, n * sizeof(idle[0]));
    lv->num_idle = 0;
    pthread_mutex_unlock(&lv->lock);
    for (size_t i = 0; i < n; i++) {
        conn_free(idle[i]);
    }
}

/* A lost answer, for real, the way an SDK loses one: the request goes out on the
 * kept-alive connection the next request would use (a fresh one when there is none), and
 * once the first byte of the answer is in, that connection is closed with the rest unread.
 * A server sends its first byte only after it has handled the request, so that byte is the
 * proof it did, whatever the server would do with a request whose connection closed
 * earlier. The idle connections go too, so the retry opens a new connection, as an SDK
 * does after a failed one. */
static enum ref_status live_send_losing_answer(struct harness_backend *b,
                                               struct ref_slice request,
                                               char *why,
                                               size_t why_cap)
{
    struct live *lv = b->impl;
    int64_t deadline = mono_ms() + lv->opts.timeout_ms;
    struct conn *c = request_is_well_formed(request) ? conn_take(lv, deadline, why, why_cap)
                                                     : conn_open(lv, deadline, why, why_cap);
    if (c == NULL) {
        return REF_E_INTERNAL;
    }
    enum ref_status rc = send_all(c, request, deadline, why, why_cap);
    if (rc == REF_OK) {
        rc = await_first_byte(c, deadline, lv->opts.timeout_ms, why, why_cap);
    }
    conn_free(c);
    pool_drop_idle(lv);
    return rc;
}

static enum ref_status
live_send(struct harness_backend *b, struct ref_slice request, struct ref_buf *response)
{
    char why[256];
    return live_send_explained(b, request, response, why, sizeof(why));
}

static int64_t live_now_ms(struct harness_backend *b)
{
    struct live *lv = b->impl;
    if (lv->control.is_virtual) {
        return lv->control.virtual_ms;
    }
    return real_ms() + lv->opts.clock_offset_ms;
}

static void live_sleep_ms(struct harness_backend *b, int64_t ms)
{
    (void)b;
    if (ms <= 0) {
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {
        /* Interrupted by a signal: sleep the rest. */
    }
}

static void live_destroy(struct harness_backend *b)
{
    struct live *lv = b->impl;
    for (size_t i = 0; i < lv->num_idle; i++) {
        conn_free(lv->idle[i]);
    }
    pthread_mutex_destroy(&lv->lock);
    free(lv->cacert);
    free(lv);
}

static const struct harness_backend_ops s_live_ops = {
    .send = live_send,
    .send_explained = live_send_explained,
    .send_losing_answer = live_send_losing_answer,
    .now_ms = live_now_ms,
    .sleep_ms = live_sleep_ms,
    .destroy = live_destroy,
};

/* The same, with the hooks of an endpoint that has test control (live_control.c). */
static const struct harness_backend_ops s_live_control_ops = {
    .send = live_send,
    .send_explained = live_send_explained,
    .send_losing_answer = live_send_losing_answer,
    .now_ms = live_now_ms,
    .seed_pipeline = live_control_seed_pipeline,
    .seed_job = live_control_seed_job,
    .fail_job = live_control_fail_job,
    .set_clock_ms = live_control_set_clock_ms,
    .next_event_ms = live_control_next_event_ms,
    .tick = live_control_tick,
    .sleep_ms = live_sleep_ms,
    .destroy = live_destroy,
};

struct live_control *live_control_of(struct harness_backend *b)
{
    struct live *lv = b->impl;
    return &lv->control;
}

void live_enable_hooks(struct harness_backend *b)
{
    b->ops = &s_live_control_ops;
    b->caps |= HARNESS_CAP_HOOKS | HARNESS_CAP_VIRTUAL_CLOCK;
}

struct harness_backend *
harness_backend_live_new(const struct harness_live_options *opts, char *why, size_t why_cap)
{
    if (!harness_live_global_init()) {
        harness_textf(why, why_cap, "libcurl cannot start");
        return NULL;
    }
    struct live *lv = calloc(1, sizeof(*lv));
    if (lv == NULL) {
        harness_textf(why, why_cap, "out of memory");
        return NULL;
    }
    lv->opts = *opts;
    if (lv->opts.connect_timeout_ms <= 0) {
        lv->opts.connect_timeout_ms = HARNESS_LIVE_DEFAULT_CONNECT_TIMEOUT_MS;
    }
    if (lv->opts.timeout_ms <= 0) {
        lv->opts.timeout_ms = HARNESS_LIVE_DEFAULT_TIMEOUT_MS;
    }
    if (opts->cacert != NULL && (lv->cacert = strdup(opts->cacert)) == NULL) {
        free(lv);
        harness_textf(why, why_cap, "out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&lv->lock, NULL) != 0) {
        free(lv->cacert);
        free(lv);
        harness_textf(why, why_cap, "cannot create a lock");
        return NULL;
    }
    snprintf(lv->description, sizeof(lv->description), "live endpoint %s", lv->opts.endpoint.url);
    struct harness_backend *b = &lv->base;
    b->ops = &s_live_ops;
    b->impl = lv;
    b->caps = HARNESS_CAP_CONCURRENT | HARNESS_CAP_SHARED;
    b->description = lv->description;
    b->host = lv->opts.endpoint.host_header;
    b->endpoint = lv->opts.endpoint.url;
    b->region = opts->region;
    b->service = "elastictranscoder";
    b->cleanup_timeout_ms = opts->cleanup_timeout_ms;
    for (size_t i = 0; i < HARNESS_PRINCIPAL_COUNT; i++) {
        b->principals[i] = opts->principals[i];
    }
    return b;
}

/* --- The endpoint's clock ---------------------------------------------------------- */

enum ref_status harness_live_clock_offset(struct harness_backend *b,
                                          int64_t *offset_ms,
                                          char *date_text,
                                          size_t date_cap,
                                          char *why,
                                          size_t why_cap)
{
    *offset_ms = 0;
    if (date_cap > 0) {
        date_text[0] = '\0';
    }
    struct ref_buf req;
    struct ref_buf resp;
    ref_buf_init(&req, 1024);
    ref_buf_init(&resp, MAX_RAW_RESPONSE_BYTES);
    /* Unsigned on purpose: any answer carries a Date, and nothing is changed. */
    enum ref_status rc =
        ref_buf_appendf(&req, "GET /2012-09-25/pipelines HTTP/1.1\r\nHost: %s\r\n\r\n", b->host);
    int64_t t0 = real_ms();
    char send_why[384] = "";
    if (rc == REF_OK) {
        rc = b->ops->send_explained != NULL
                 ? b->ops->send_explained(b, ref_buf_slice(&req), &resp, send_why, sizeof(send_why))
                 : b->ops->send(b, ref_buf_slice(&req), &resp);
        if (rc != REF_OK) {
            harness_textf(why, why_cap, "%s", send_why[0] != '\0' ? send_why : ref_status_name(rc));
        }
    }
    int64_t t1 = real_ms();
    if (rc == REF_OK) {
        struct harness_http_response http;
        struct ref_buf body;
        ref_buf_init(&body, HARNESS_MAX_RESPONSE_BODY_BYTES);
        rc = resp.len == 0
                 ? REF_E_INCOMPLETE
                 : harness_http_parse_response(ref_buf_slice(&resp), &http, &body, NULL, NULL);
        if (rc != REF_OK) {
            harness_textf(why, why_cap,
                          resp.len == 0 ? "the endpoint closed the connection without "
                                          "answering"
                                        : "the answer is not valid HTTP");
            rc = REF_E_NOT_FOUND;
        } else {
            const struct ref_header *h = harness_http_response_header(&http, "Date");
            char text[128] = "";
            if (h != NULL && h->value.len < sizeof(text)) {
                memcpy(text, h->value.ptr, h->value.len);
                text[h->value.len] = '\0';
            }
            time_t date_s = text[0] != '\0' ? curl_getdate(text, NULL) : (time_t)-1;
            if (date_s == (time_t)-1) {
                harness_textf(why, why_cap,
                              h == NULL ? "the answer has no Date header"
                                        : "the Date header is not a date");
                rc = REF_E_NOT_FOUND;
            } else {
                /* Date is truncated to the second: its middle is the best estimate. */
                int64_t local_mid = t0 + (t1 - t0) / 2;
                *offset_ms = (int64_t)date_s * 1000 + 500 - local_mid;
                harness_textf(date_text, date_cap, "%s", text);
            }
        }
        ref_buf_cleanup(&body);
    }
    ref_buf_cleanup(&req);
    ref_buf_cleanup(&resp);
    return rc;
}
