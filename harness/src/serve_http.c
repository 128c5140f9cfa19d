/* SPDX-License-Identifier: Apache-2.0
 *
 * serve_http.c - libmicrohttpd in front of the reference, for `etch serve`.
 *
 * What is signed must be what is routed, so the reference gets the request as it came:
 * the raw request-target from the URI log callback (before libmicrohttpd splits off the
 * query; an identity unescape callback keeps it from decoding anything), the headers in
 * arrival order with names and values as sent, and the body collected over the upload
 * callbacks. The answer is queued only once the whole request is in, which keeps the
 * connection usable for the next request (keep-alive).
 *
 * New connections come through the gate (serve_gate.h) first: the reference's strict
 * parser reads the first request before libmicrohttpd does, and answers what it refuses
 * itself, exactly as the embedded reference does. libmicrohttpd (0.9.75) would otherwise
 * close on garbage, repair obsolete line folding and bare LF line ends, and answer lines
 * it cannot parse with its own HTML page. Later requests on a kept-alive connection reach
 * libmicrohttpd directly; for them, what libmicrohttpd passes on but the strict parser
 * would refuse (a repeated or missing Host, Content-Length together with
 * Transfer-Encoding, a space in the target, control bytes in a field value) is checked
 * here, with the reference's own token and field-value classes (ref/http_fields.h), before
 * the reference is called, and answered in the contract's error form.
 * Limits: the target and header limits of ref/limits.h are checked here (JSON answers);
 * libmicrohttpd's own connection memory limit, set above them, catches anything larger.
 */
#define _POSIX_C_SOURCE 200809L

#include "serve_http.h"

#ifdef ETCH_HAVE_MHD

#include "serve_gate.h"

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/http_fields.h"
#include "ref/limits.h"
#include "ref/mem.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/rand.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How much of a request-target a log line shows. */
#define LOG_TARGET_BYTES 256

struct etch_server {
    /* One libmicrohttpd daemon per worker thread, each with its own epoll loop: the gate
     * deals new connections round robin. (A daemon without a listening socket cannot
     * have libmicrohttpd's thread pool; several daemons are what that pool is anyway.) */
    struct MHD_Daemon *daemons[ETCH_SERVE_MAX_THREADS];
    unsigned num_daemons;
    unsigned next_daemon; /* the gate's thread alone reads and writes it */
    struct serve_gate *gate;
    struct ref_service *svc;
    size_t max_body_bytes;
    bool is_quiet;
    bool is_dated_by_service; /* etch_server_config.has_test_control */
    uint16_t port;
    atomic_size_t in_flight;
    atomic_bool is_quiesced;
};

/* One request, from its request line to its completion. Created by the URI log callback,
 * freed by the completion callback. libmicrohttpd gives each connection to one thread, so
 * nothing here needs a lock. */
struct serve_request {
    struct etch_server *srv;
    struct ref_buf target; /* the raw request-target, exactly as received */
    bool is_target_too_long;
    bool is_started;  /* the access handler has seen the headers */
    bool is_answered; /* a response is queued */
    bool is_chunked;
    bool is_body_too_large;  /* the body passed the limit: drained, then 413 */
    enum ref_status failure; /* an internal failure while collecting the body */
    size_t discarded_bytes;
    struct ref_buf body;
    /* For the log line: libmicrohttpd's own strings are gone by completion time. */
    char method[REF_MAX_METHOD_BYTES + 1];
    int http_status;
    const char *error_type; /* static: the status table's, or "" */
    struct timespec started_at;
};

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    /* One write per line, so lines from the worker threads never interleave. */
    flockfile(stderr);
    fputs(line, stderr);
    fputc('\n', stderr);
    funlockfile(stderr);
}

/* libmicrohttpd's own diagnostics (bind failures, protocol errors). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    const struct etch_server *srv = cls;
    if (srv != NULL && srv->is_quiet) {
        return;
    }
    char msg[512];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0) {
        return;
    }
    /* Its messages end with a newline of their own. */
    size_t len = strnlen(msg, sizeof(msg));
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) {
        msg[--len] = '\0';
    }
    log_line("etch serve: libmicrohttpd: %s", msg);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A printable, bounded copy of bytes that came off the wire, for the log. */
static void sanitize(struct ref_slice s, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < s.len && i < LOG_TARGET_BYTES; i++) {
        uint8_t c = s.ptr[i];
        if (o + 5 >= cap) {
            break;
        }
        if (c > 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0x0f];
        }
    }
    if (s.len > LOG_TARGET_BYTES && o + 4 < cap) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
}

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

/* No Date of our own: libmicrohttpd adds one from the real clock. */
#define DATE_FROM_DAEMON INT64_MIN

/* Date's IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a time in ms since the epoch. */
static bool format_http_date(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : -((-(ms + 1)) / 1000) - 1);
    struct tm tm;
    return gmtime_r(&s, &tm) != NULL && strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0;
}

/* Releases a body handed to libmicrohttpd by queue_answer. */
static void free_body(void *body)
{
    ref_mem_free(body);
}

/* Queues one answer. With owned_body, body (from ref_mem) becomes libmicrohttpd's, which
 * frees it with the response, whether or not queueing succeeds: no copy is made. Without
 * it, libmicrohttpd copies body. date_ms dates it (a Date header of our own, which
 * libmicrohttpd then leaves alone), or is DATE_FROM_DAEMON. */
static enum MHD_Result queue_answer(struct serve_request *r,
                                    struct MHD_Connection *conn,
                                    int http_status,
                                    enum ref_status status,
                                    const char *request_id,
                                    void *body,
                                    size_t body_len,
                                    bool is_owned_body,
                                    int64_t date_ms)
{
    struct MHD_Response *resp =
        is_owned_body
            ? MHD_create_response_from_buffer_with_free_callback(body_len, body, free_body)
            : MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        if (is_owned_body) {
            ref_mem_free(body);
        }
        return MHD_NO;
    }
    const char *error_type = status == REF_OK ? "" : ref_status_error_type(status);
    bool ok = MHD_add_response_header(resp, "Content-Type", "application/json") == MHD_YES &&
              MHD_add_response_header(resp, "x-amzn-RequestId", request_id) == MHD_YES;
    if (ok && error_type[0] != '\0') {
        ok = MHD_add_response_header(resp, "x-amzn-ErrorType", error_type) == MHD_YES;
    }
    char date[32];
    if (ok && date_ms != DATE_FROM_DAEMON && format_http_date(date_ms, date)) {
        ok = MHD_add_response_header(resp, "Date", date) == MHD_YES;
    }
    /* While shutting down, ask clients not to reuse the connection. */
    if (ok && atomic_load(&r->srv->is_quiesced)) {
        ok = MHD_add_response_header(resp, "Connection", "close") == MHD_YES;
    }
    enum MHD_Result q = ok ? MHD_queue_response(conn, (unsigned int)http_status, resp) : MHD_NO;
    MHD_destroy_response(resp);
    if (q == MHD_YES) {
        r->is_answered = true;
        r->http_status = http_status;
        r->error_type = error_type;
    }
    return q;
}

/* An answer etch makes itself (size limits, framing the reference's parser would refuse,
 * internal failures), in the contract's error form: {"message": ...} and the headers. */
static enum MHD_Result
queue_error(struct serve_request *r, struct MHD_Connection *conn, enum ref_status status)
{
    char request_id[37];
    make_request_id(request_id);
    /* Serialised into a local buffer: the messages of status.h are short sentences. */
    char text[512];
    json_t *obj = json_pack("{s:s}", "message", ref_status_message(status));
    size_t len = obj != NULL ? json_dumpb(obj, text, sizeof(text), JSON_COMPACT) : 0;
    json_decref(obj);
    if (len == 0 || len > sizeof(text)) {
        static const char fallback[] = "{\"message\":\"Internal service error.\"}";
        status = REF_E_INTERNAL;
        len = sizeof(fallback) - 1;
        for (size_t i = 0; i <= len; i++) {
            text[i] = fallback[i];
        }
    }
    return queue_answer(r, conn, ref_status_http(status), status, request_id, text, len, false,
                        DATE_FROM_DAEMON);
}

/* Identity: the reference decodes labels itself, exactly once (contract section 1). */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strnlen(s, ETCH_SERVE_CONNECTION_MEMORY_BYTES);
}

/* Called with the raw request-target before libmicrohttpd parses it. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    struct etch_server *srv = cls;
    struct serve_request *r = ref_mem_calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->srv = srv;
    r->error_type = "";
    /* The start time serves only the log line. */
    if (!srv->is_quiet) {
        clock_gettime(CLOCK_MONOTONIC, &r->started_at);
    }
    ref_buf_init(&r->target, REF_MAX_TARGET_BYTES);
    ref_buf_init(&r->body, srv->max_body_bytes);
    atomic_fetch_add(&srv->in_flight, 1);

    size_t len = strnlen(uri, REF_MAX_TARGET_BYTES + 1);
    if (len > REF_MAX_TARGET_BYTES) {
        r->is_target_too_long = true;
        len = LOG_TARGET_BYTES + 1;
    }
    if (ref_buf_append(&r->target, uri, len) != REF_OK) {
        r->failure = REF_E_NOMEM;
    }
    return r;
}

static void on_completed(void *cls,
                         struct MHD_Connection *conn,
                         void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct etch_server *srv = cls;
    struct serve_request *r = *req_cls;
    if (r == NULL) {
        return;
    }
    *req_cls = NULL;
    if (!srv->is_quiet) {
        char target[LOG_TARGET_BYTES * 4 + 8];
        sanitize(ref_buf_slice(&r->target), target, sizeof(target));
        const char *method = r->method[0] != '\0' ? r->method : "-";
        double ms = ms_since(&r->started_at);
        if (r->is_answered && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
            log_line("etch serve: %s %s %d %s %.3f ms", method, target, r->http_status,
                     r->error_type[0] != '\0' ? r->error_type : "-", ms);
        } else {
            static const char *const reasons[] = {
                [MHD_REQUEST_TERMINATED_COMPLETED_OK] = "completed",
                [MHD_REQUEST_TERMINATED_WITH_ERROR] = "error",
                [MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = "timeout",
                [MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = "shutdown",
                [MHD_REQUEST_TERMINATED_READ_ERROR] = "read-error",
                [MHD_REQUEST_TERMINATED_CLIENT_ABORT] = "client-abort",
            };
            size_t i = (size_t)toe;
            const char *why = i < sizeof(reasons) / sizeof(reasons[0]) && reasons[i] != NULL
                                  ? reasons[i]
                                  : "unknown";
            /* The status etch queued, if any, was not (completely) delivered. */
            if (r->is_answered) {
                log_line("etch serve: %s %s %d %s %.3f ms (not delivered: %s)", method, target,
                         r->http_status, r->error_type[0] != '\0' ? r->error_type : "-", ms, why);
            } else {
                log_line("etch serve: %s %s - - %.3f ms (closed: %s)", method, target, ms, why);
            }
        }
    }
    ref_buf_cleanup(&r->target);
    ref_buf_cleanup(&r->body);
    ref_mem_free(r);
    atomic_fetch_sub(&srv->in_flight, 1);
}

/* What the headers say about framing and size, gathered in one pass. */
struct header_scan {
    size_t count;
    size_t bytes;
    size_t num_host;
    size_t num_content_length;
    size_t num_transfer_encoding;
    struct ref_slice content_length;
    struct ref_slice transfer_encoding;
    bool has_expect_continue;
    bool has_bad_field; /* a name that is not a token, or a control byte in a value */
};

static enum MHD_Result scan_header(void *cls,
                                   enum MHD_ValueKind kind,
                                   const char *key,
                                   size_t key_size,
                                   const char *value,
                                   size_t value_size)
{
    (void)kind;
    struct header_scan *scan = cls;
    struct ref_slice name = ref_slice_make(key, key_size);
    struct ref_slice val = ref_slice_trim_ows(ref_slice_make(value, value_size));
    scan->count++;
    if (!ref_http_is_token(name) || !ref_http_is_field_value(val)) {
        scan->has_bad_field = true;
    }
    /* As the header section counts it: "name: value\r\n". */
    scan->bytes += key_size + value_size + 4;
    /* Four names matter here, and their lengths rule out most headers without comparing. */
    if (key_size != 4 && key_size != 6 && key_size != 14 && key_size != 17) {
        return MHD_YES;
    }
    if (ref_slice_eq_nocase(name, REF_SLICE_LIT("Host"))) {
        scan->num_host++;
    } else if (ref_slice_eq_nocase(name, REF_SLICE_LIT("Content-Length"))) {
        scan->num_content_length++;
        scan->content_length = val;
    } else if (ref_slice_eq_nocase(name, REF_SLICE_LIT("Transfer-Encoding"))) {
        scan->num_transfer_encoding++;
        scan->transfer_encoding = val;
    } else if (ref_slice_eq_nocase(name, REF_SLICE_LIT("Expect"))) {
        scan->has_expect_continue = ref_slice_eq_nocase(val, REF_SLICE_LIT("100-continue"));
    }
    return MHD_YES;
}

/* Checks the request line and headers once they are all in. REF_OK to go on collecting
 * the body; otherwise the error to answer with right away. */
static enum ref_status check_head(struct serve_request *r,
                                  struct MHD_Connection *conn,
                                  const char *method,
                                  bool *answer_now)
{
    *answer_now = true;
    if (r->failure != REF_OK) {
        return r->failure;
    }
    if (r->is_target_too_long) {
        return REF_E_TARGET_TOO_LONG;
    }
    size_t method_len = strnlen(method, REF_MAX_METHOD_BYTES + 1);
    if (method_len > REF_MAX_METHOD_BYTES ||
        !ref_http_is_token(ref_slice_make(method, method_len))) {
        return REF_E_MALFORMED;
    }
    /* The strict parser's request-target: origin form, visible ASCII only. libmicrohttpd
     * passes a target with spaces (between the first and the last space of the request
     * line) on to here, so that it gets the contract's 400 instead of a closed socket. */
    struct ref_slice target = ref_buf_slice(&r->target);
    if (target.len == 0 || target.ptr[0] != '/' || ref_http_vchar_end(target, 0) != target.len) {
        return REF_E_MALFORMED;
    }
    struct header_scan scan = {0};
    (void)MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &scan);
    if (scan.count > REF_MAX_HEADERS || scan.bytes > REF_MAX_HEADER_BYTES) {
        return REF_E_HEADERS_TOO_LARGE;
    }
    if (scan.has_bad_field) {
        return REF_E_MALFORMED;
    }
    /* The strict parser's framing rules (http.h): exactly one Host, no conflicting or
     * repeated framing headers, and chunked as the only transfer coding. */
    if (scan.num_host != 1 || scan.num_content_length > 1 || scan.num_transfer_encoding > 1 ||
        (scan.num_content_length > 0 && scan.num_transfer_encoding > 0)) {
        return REF_E_MALFORMED;
    }
    if (scan.num_transfer_encoding > 0) {
        if (!ref_slice_eq_nocase(scan.transfer_encoding, REF_SLICE_LIT("chunked"))) {
            return REF_E_MALFORMED;
        }
        r->is_chunked = true;
    }
    if (scan.num_content_length > 0) {
        uint64_t declared = 0;
        enum ref_status rc = ref_slice_to_u64(scan.content_length, UINT64_MAX, &declared);
        if (rc != REF_OK) {
            return REF_E_MALFORMED;
        }
        if (declared > r->srv->max_body_bytes) {
            /* A client waiting for 100 Continue has not sent the body, and a body too
             * large to drain is not worth reading: answer now (the connection closes).
             * Otherwise drain it and answer at the end, keeping the connection. */
            if (scan.has_expect_continue || declared > ETCH_SERVE_MAX_DISCARD_BYTES) {
                return REF_E_BODY_TOO_LARGE;
            }
            r->is_body_too_large = true;
        }
    }
    *answer_now = false;
    return REF_OK;
}

/* Copies the headers (arrival order, names as sent, values without surrounding OWS) into
 * the reference's request. check_head has already bounded their number. */
static enum MHD_Result copy_header(void *cls,
                                   enum MHD_ValueKind kind,
                                   const char *key,
                                   size_t key_size,
                                   const char *value,
                                   size_t value_size)
{
    (void)kind;
    struct ref_http_request *req = cls;
    if (req->num_headers == REF_MAX_HEADERS) {
        return MHD_NO;
    }
    req->headers[req->num_headers++] = (struct ref_header){
        .name = ref_slice_make(key, key_size),
        .value = ref_slice_trim_ows(ref_slice_make(value, value_size)),
    };
    return MHD_YES;
}

/* The whole request is in: hand it to the reference and queue its answer. */
static enum MHD_Result answer_from_reference(struct serve_request *r,
                                             struct MHD_Connection *conn,
                                             const char *method,
                                             const char *version)
{
    /* Every member is set below; the header array (2 KiB) is filled only as far as it is
     * used, instead of being zeroed for every request. */
    struct ref_http_request req;
    req.num_headers = 0;
    req.method = ref_slice_make(method, strnlen(method, REF_MAX_METHOD_BYTES));
    req.target = ref_buf_slice(&r->target);
    struct ref_slice rest = req.target;
    req.has_query = ref_slice_split(&rest, '?', &req.path);
    req.query = rest;
    req.version = ref_slice_make(version, strnlen(version, 16));
    (void)MHD_get_connection_values_n(conn, MHD_HEADER_KIND, copy_header, &req);
    req.body = ref_buf_slice(&r->body);
    req.is_chunked = r->is_chunked;

    struct ref_response resp;
    ref_response_init(&resp);
    enum MHD_Result q;
    enum ref_status rc = ref_service_handle_parsed(r->srv->svc, &req, &resp);
    if (rc == REF_OK) {
        /* The body changes hands rather than being copied (an empty one has no storage). */
        void *body = resp.body.data != NULL ? resp.body.data : (void *)"";
        bool is_owned = resp.body.data != NULL;
        resp.body.data = NULL;
        resp.body.cap = 0;
        /* With test control the service's clock may be virtual, and the answer's Date
         * follows it (contract section 9); otherwise libmicrohttpd's costs nothing here. */
        q = queue_answer(r, conn, resp.http_status, resp.status, resp.request_id, body,
                         resp.body.len, is_owned,
                         r->srv->is_dated_by_service ? resp.date_ms : DATE_FROM_DAEMON);
    } else {
        q = queue_error(r, conn, rc == REF_E_NOMEM ? REF_E_NOMEM : REF_E_INTERNAL);
    }
    ref_response_cleanup(&resp);
    return q;
}

static enum MHD_Result on_request(void *cls,
                                  struct MHD_Connection *conn,
                                  const char *url,
                                  const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size,
                                  void **req_cls)
{
    (void)cls;
    (void)url; /* the path without its query: the raw target from on_uri is used instead */
    struct serve_request *r = *req_cls;
    if (r == NULL) {
        /* The URI callback ran out of memory: drop the connection. */
        return MHD_NO;
    }
    if (!r->is_started) {
        /* First call: headers only. Answer now only to refuse the request. */
        r->is_started = true;
        struct ref_slice m = ref_slice_make(method, strnlen(method, REF_MAX_METHOD_BYTES));
        struct ref_buf mb;
        ref_buf_init_fixed(&mb, (uint8_t *)r->method, sizeof(r->method));
        if (ref_buf_append_slice(&mb, m) != REF_OK || ref_buf_nul_terminate(&mb) != REF_OK) {
            r->method[0] = '\0';
        }
        bool answer_now = false;
        enum ref_status rc = check_head(r, conn, method, &answer_now);
        if (answer_now) {
            return queue_error(r, conn, rc);
        }
        return MHD_YES;
    }
    if (r->is_answered) {
        /* Refused after the headers; libmicrohttpd closes the connection. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->is_body_too_large || r->failure != REF_OK) {
            r->discarded_bytes += n;
        } else {
            enum ref_status rc = ref_buf_append(&r->body, upload_data, n);
            if (rc == REF_E_TOO_LARGE) {
                /* A chunked body (or one longer than announced) passed the limit. */
                r->is_body_too_large = true;
                r->discarded_bytes = r->body.len + n;
                ref_buf_cleanup(&r->body);
            } else if (rc != REF_OK) {
                r->failure = rc;
                r->discarded_bytes = n;
            }
        }
        if (r->discarded_bytes > ETCH_SERVE_MAX_DISCARD_BYTES) {
            /* Endless or huge: stop reading, drop the connection. */
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (r->is_body_too_large) {
        return queue_error(r, conn, REF_E_BODY_TOO_LARGE);
    }
    if (r->failure != REF_OK) {
        return queue_error(r, conn, REF_E_NOMEM);
    }
    return answer_from_reference(r, conn, method, version);
}

/* Fills a socket address from a numeric host and a port. */
static bool
make_address(const char *host, uint16_t port, struct sockaddr_storage *addr, bool *is_ipv6)
{
    *addr = (struct sockaddr_storage){0};
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *is_ipv6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *is_ipv6 = true;
        return true;
    }
    return false;
}

/* The gate hands each connection whose first request the strict parser accepts to the
 * next daemon. libmicrohttpd closes the socket itself when it cannot take it. */
static void hand_to_daemon(void *cls, int fd, const struct sockaddr *addr, socklen_t addr_len)
{
    struct etch_server *srv = cls;
    struct MHD_Daemon *daemon = srv->daemons[srv->next_daemon];
    srv->next_daemon = (srv->next_daemon + 1) % srv->num_daemons;
    if (MHD_add_connection(daemon, fd, addr, addr_len) != MHD_YES && !srv->is_quiet) {
        log_line("etch serve: libmicrohttpd did not take a connection (%s)", strerror(errno));
    }
}

/* The log line of a request the gate answered itself, in the same form as the others. */
static void log_refused(void *cls, struct ref_slice method, struct ref_slice target,
                        int http_status, enum ref_status status, double ms)
{
    const struct etch_server *srv = cls;
    if (srv->is_quiet) {
        return;
    }
    char method_text[LOG_TARGET_BYTES * 4 + 8];
    char target_text[LOG_TARGET_BYTES * 4 + 8];
    sanitize(method, method_text, sizeof(method_text));
    sanitize(target, target_text, sizeof(target_text));
    const char *error_type = status == REF_OK ? "" : ref_status_error_type(status);
    log_line("etch serve: %s %s %d %s %.3f ms", method_text[0] != '\0' ? method_text : "-",
             target_text[0] != '\0' ? target_text : "-", http_status,
             error_type[0] != '\0' ? error_type : "-", ms);
}

/* The listening socket the gate owns: non-blocking, and with TCP_DEFER_ACCEPT so that a
 * connection is usually accepted with its request already there. -1 after printing why. */
static int open_listener(const struct etch_server_config *cfg, uint16_t *bound_port)
{
    struct sockaddr_storage addr;
    bool is_ipv6 = false;
    if (!make_address(cfg->host, cfg->port, &addr, &is_ipv6)) {
        fprintf(stderr, "etch serve: '%s' is not a numeric IPv4 or IPv6 address\n", cfg->host);
        return -1;
    }
    int fd = socket(is_ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("etch serve: socket");
        return -1;
    }
    int one = 1;
    int defer_s = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof(defer_s));
    if (is_ipv6) {
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    socklen_t len = is_ipv6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&addr, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        fprintf(stderr,
                "etch serve: cannot listen on %s port %u: %s (in use, or not an address of "
                "this machine?)\n",
                cfg->host, (unsigned int)cfg->port, strerror(errno));
        close(fd);
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0) {
        perror("etch serve: getsockname");
        close(fd);
        return -1;
    }
    *bound_port = ntohs(is_ipv6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                : ((struct sockaddr_in *)&bound)->sin_port);
    return fd;
}

static struct MHD_Daemon *start_daemon(struct etch_server *srv, unsigned connection_limit)
{
    /* epoll in an internal thread; ITC so that connections added from the gate's thread
     * are picked up at once; no listening socket of its own. */
    unsigned int flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    /* One option and its arguments per line. */
    /* clang-format off */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv,
        /* First, so that it sees the messages about the others. */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ETCH_SERVE_CONNECTION_MEMORY_BYTES,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)ETCH_SERVE_IDLE_TIMEOUT_S,
        /* Not strict: check_head refuses what the strict parser refuses on later requests
         * of a kept-alive connection too (a space in the target, a missing Host), in the
         * contract's error form rather than a closed socket or an HTML page. */
        MHD_OPTION_STRICT_FOR_CLIENT, 0,
        MHD_OPTION_END);
    /* clang-format on */
}

static void stop_daemons(struct etch_server *srv)
{
    for (unsigned i = 0; i < srv->num_daemons; i++) {
        MHD_stop_daemon(srv->daemons[i]);
    }
    srv->num_daemons = 0;
}

struct etch_server *etch_server_start(const struct etch_server_config *cfg)
{
    if (cfg->threads < 1 || cfg->threads > ETCH_SERVE_MAX_THREADS) {
        fprintf(stderr, "etch serve: threads must be 1..%d\n", ETCH_SERVE_MAX_THREADS);
        return NULL;
    }
    struct etch_server *srv = ref_mem_calloc(1, sizeof(*srv));
    if (srv == NULL) {
        fprintf(stderr, "etch serve: out of memory\n");
        return NULL;
    }
    srv->svc = cfg->svc;
    srv->max_body_bytes = cfg->max_body_bytes;
    srv->is_quiet = cfg->is_quiet;
    srv->is_dated_by_service = cfg->has_test_control;
    atomic_init(&srv->in_flight, 0);
    atomic_init(&srv->is_quiesced, false);

    int listen_fd = open_listener(cfg, &srv->port);
    if (listen_fd < 0) {
        ref_mem_free(srv);
        return NULL;
    }
    /* The connection limit is shared out as libmicrohttpd's own thread pool would. */
    unsigned per_daemon = (ETCH_SERVE_MAX_CONNECTIONS + cfg->threads - 1) / cfg->threads;
    for (unsigned i = 0; i < cfg->threads; i++) {
        srv->daemons[i] = start_daemon(srv, per_daemon);
        if (srv->daemons[i] == NULL) {
            fprintf(stderr, "etch serve: cannot start libmicrohttpd worker %u of %u\n", i + 1,
                    cfg->threads);
            stop_daemons(srv);
            close(listen_fd);
            ref_mem_free(srv);
            return NULL;
        }
        srv->num_daemons = i + 1;
    }
    struct serve_gate_config gate_cfg = {
        .listen_fd = listen_fd,
        .svc = cfg->svc,
        .idle_timeout_ms = ETCH_SERVE_IDLE_TIMEOUT_S * 1000u,
        .max_connections = ETCH_SERVE_MAX_CONNECTIONS,
        .hand_off = hand_to_daemon,
        .on_refused = log_refused,
        .cls = srv,
    };
    srv->gate = serve_gate_start(&gate_cfg);
    if (srv->gate == NULL) {
        stop_daemons(srv);
        ref_mem_free(srv);
        return NULL;
    }
    return srv;
}

uint16_t etch_server_port(const struct etch_server *srv)
{
    return srv->port;
}

void etch_server_quiesce(struct etch_server *srv)
{
    atomic_store(&srv->is_quiesced, true);
    /* The gate closes the listening socket: the kernel refuses new connections at once,
     * and the daemons go on serving the connections they have. */
    serve_gate_stop(srv->gate);
    srv->gate = NULL;
}

size_t etch_server_in_flight(const struct etch_server *srv)
{
    return atomic_load(&srv->in_flight);
}

void etch_server_stop(struct etch_server *srv)
{
    if (srv == NULL) {
        return;
    }
    serve_gate_stop(srv->gate);
    stop_daemons(srv);
    ref_mem_free(srv);
}

#else /* !ETCH_HAVE_MHD */

#include <stdio.h>

/* Built without libmicrohttpd (it is optional in CMake): `etch serve` says so. */
struct etch_server *etch_server_start(const struct etch_server_config *cfg)
{
    (void)cfg;
    fprintf(stderr, "etch serve: this etch was built without libmicrohttpd (Debian package "
                    "libmicrohttpd-dev); install it and rebuild\n");
    return NULL;
}

uint16_t etch_server_port(const struct etch_server *srv)
{
    (void)srv;
    return 0;
}

void etch_server_quiesce(struct etch_server *srv)
{
    (void)srv;
}

size_t etch_server_in_flight(const struct etch_server *srv)
{
    (void)srv;
    return 0;
}

void etch_server_stop(struct etch_server *srv)
{
    (void)srv;
}

#endif /* ETCH_HAVE_MHD */
