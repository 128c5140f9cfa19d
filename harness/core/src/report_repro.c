/* SPDX-License-Identifier: Apache-2.0
 *
 * report_repro.c - reproducers of a step: the raw bytes shown readably, and the curl line,
 * or, where curl cannot send what the step sent, the etch send and nc forms over the saved
 * request. Session tokens are redacted.
 */
#define _POSIX_C_SOURCE 200809L

#include "report_internal.h"

#include "harness/replay.h"
#include "harness/report.h"
#include "harness/text.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

/* --- Raw HTTP and curl ------------------------------------------------------------- */

static bool starts_with_nocase(const uint8_t *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n < k) {
        return false;
    }
    for (size_t i = 0; i < k; i++) {
        uint8_t c = p[i];
        c = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
        if (c != (uint8_t)lit[i]) {
            return false;
        }
    }
    return true;
}

enum ref_status harness_raw_printable(struct ref_slice raw,
                                      size_t max_bytes,
                                      const char *indent,
                                      struct ref_buf *out)
{
    size_t n = raw.len < max_bytes ? raw.len : max_bytes;
    bool line_start = true;
    for (size_t i = 0; i < n; i++) {
        if (line_start) {
            REF_TRY(ref_buf_append_cstr(out, indent));
            line_start = false;
            /* A session token is a secret: show the header, never its value. */
            static const char token_hdr[] = "x-amz-security-token:";
            if (starts_with_nocase(raw.ptr + i, n - i, token_hdr)) {
                REF_TRY(ref_buf_append(out, raw.ptr + i, sizeof(token_hdr) - 1));
                REF_TRY(ref_buf_append_cstr(out, " <redacted>"));
                while (i < n && raw.ptr[i] != '\r' && raw.ptr[i] != '\n') {
                    i++;
                }
                i--;
                continue;
            }
        }
        uint8_t c = raw.ptr[i];
        if (c == '\r' && i + 1 < n && raw.ptr[i + 1] == '\n') {
            continue;
        }
        if (c == '\n') {
            REF_TRY(ref_buf_append_byte(out, '\n'));
            line_start = true;
        } else if (c < 0x20 || c >= 0x7f) {
            if (c == '\t') {
                REF_TRY(ref_buf_append_byte(out, c));
            } else {
                REF_TRY(ref_buf_appendf(out, "\\x%02x", c));
            }
        } else {
            REF_TRY(ref_buf_append_byte(out, c));
        }
    }
    if (n < raw.len) {
        REF_TRY(
            ref_buf_appendf(out, "%s... (%zu more bytes)", line_start ? indent : "", raw.len - n));
        line_start = false;
    }
    if (!line_start) {
        REF_TRY(ref_buf_append_byte(out, '\n'));
    }
    return REF_OK;
}

/* Appends s quoted for a POSIX shell: '...' with ' written as '\''. */
static enum ref_status shell_quote(struct ref_buf *out, const char *s, size_t n)
{
    REF_TRY(ref_buf_append_byte(out, '\''));
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') {
            REF_TRY(ref_buf_append_cstr(out, "'\\''"));
        } else {
            REF_TRY(ref_buf_append_byte(out, (uint8_t)s[i]));
        }
    }
    return ref_buf_append_byte(out, '\'');
}

static bool name_is(const char *name, const char *lower)
{
    while (*name != '\0' && *lower != '\0' &&
           ((*name >= 'A' && *name <= 'Z') ? *name + 32 : *name) == *lower) {
        name++;
        lower++;
    }
    return *name == '\0' && *lower == '\0';
}

/* The headers curl makes itself when it signs (--aws-sigv4) or sends a body. */
static bool is_signing_header(const char *name)
{
    static const char *const names[] = {"authorization", "x-amz-date", "x-amz-security-token",
                                        "host", "content-length"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (name_is(name, names[i])) {
            return true;
        }
    }
    return false;
}

static bool is_tchar(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Why curl cannot put these bytes on the wire as they are, or NULL when it can: curl writes
 * its own request line, ends every line in CRLF, frames the body itself and always sends one
 * Host, so a request that differs in any of these is for a byte-for-byte replay. why is a
 * static reason or one written into buf. */
static const char *bytes_curl_cannot_send(struct ref_slice raw, char *buf, size_t cap)
{
    const uint8_t *p = raw.ptr;
    size_t n = raw.len;
    size_t i = 0;
    size_t line = 0;
    size_t hosts = 0;
    size_t lengths = 0;
    long long length = -1;
    for (;;) {
        size_t start = i;
        while (i < n && p[i] != '\r' && p[i] != '\n') {
            if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
                harness_textf(buf, cap, "control byte \\x%02x in the head (line %zu)", p[i],
                              line + 1);
                return buf;
            }
            i++;
        }
        if (i == n) {
            return "the head does not end (no empty line)";
        }
        if (p[i] == '\n' || i + 1 == n || p[i + 1] != '\n') {
            harness_textf(buf, cap, "line %zu ends in a bare %s, not CRLF", line + 1,
                          p[i] == '\n' ? "LF" : "CR");
            return buf;
        }
        struct ref_slice text = ref_slice_make(p + start, i - start);
        i += 2;
        if (line == 0) {
            /* METHOD SP /target SP HTTP/1.1: curl writes no other request line. */
            size_t k = 0;
            while (k < text.len && is_tchar(text.ptr[k])) {
                k++;
            }
            bool ok = k > 0 && k < text.len && text.ptr[k] == ' ' && k + 1 < text.len &&
                      text.ptr[k + 1] == '/';
            size_t t = k + 1;
            while (ok && t < text.len && text.ptr[t] > ' ' && text.ptr[t] < 0x7f &&
                   text.ptr[t] != '#') {
                t++;
            }
            ok = ok && t + 9 == text.len && memcmp(text.ptr + t, " HTTP/1.1", 9) == 0;
            if (!ok) {
                return "a request line curl does not write (curl sends METHOD /path HTTP/1.1 "
                       "with a target of visible characters and no '#')";
            }
        } else if (text.len == 0) {
            break;
        } else if (text.ptr[0] == ' ' || text.ptr[0] == '\t') {
            return "a folded header line (obsolete line folding)";
        } else {
            size_t k = 0;
            while (k < text.len && is_tchar(text.ptr[k])) {
                k++;
            }
            if (k == 0 || k == text.len || text.ptr[k] != ':') {
                harness_textf(buf, cap, "header line %zu is not NAME: value", line);
                return buf;
            }
            struct ref_slice name = ref_slice_make(text.ptr, k);
            if (ref_slice_eq_nocase(name, REF_SLICE_LIT("host"))) {
                hosts++;
            } else if (ref_slice_eq_nocase(name, REF_SLICE_LIT("transfer-encoding"))) {
                return "a Transfer-Encoding header (curl frames a body itself)";
            } else if (ref_slice_eq_nocase(name, REF_SLICE_LIT("content-length"))) {
                lengths++;
                length = 0;
                for (size_t d = k + 1; d < text.len && length >= 0; d++) {
                    uint8_t c = text.ptr[d];
                    if (c >= '0' && c <= '9' && length < 1000000000000LL) {
                        length = length * 10 + (c - '0');
                    } else if (c != ' ' && c != '\t') {
                        length = -1;
                    }
                }
            }
        }
        line++;
    }
    if (hosts != 1) {
        return hosts == 0 ? "no Host header (curl always sends one)"
                          : "more than one Host header (curl sends one)";
    }
    size_t body_len = n - i;
    if (lengths > 1 || (lengths == 1 && (length < 0 || (size_t)length != body_len)) ||
        (lengths == 0 && body_len > 0)) {
        return "a Content-Length that is not the body's length (curl counts the body itself)";
    }
    if (memchr(p + i, '\0', body_len) != NULL) {
        return "a NUL byte in the body (a shell argument cannot hold one)";
    }
    return NULL;
}

/* Why a curl command cannot reproduce the step, or NULL. */
static const char *curl_cannot_reproduce(const struct harness_exchange *x, char *buf, size_t cap)
{
    if (x->is_verbatim || x->method == NULL) {
        return "the step sends bytes written out as they are";
    }
    const struct harness_sign *sign = &x->sign;
    if (sign->principal != HARNESS_PRINCIPAL_NONE) {
        if (sign->has_signed_headers) {
            return "the step signs a chosen list of headers (signed_headers), and curl "
                   "--aws-sigv4 chooses its own";
        }
        if (sign->fault != HARNESS_FAULT_NONE) {
            harness_textf(buf, cap, "the step's signature carries a fault on purpose (%s)",
                          harness_fault_name(sign->fault));
            return buf;
        }
        if (sign->date_offset_s != 0) {
            harness_textf(buf, cap,
                          "the step signs with a date %+llds off the clock, and curl signs "
                          "with the current time",
                          (long long)sign->date_offset_s);
            return buf;
        }
        if (sign->principal == HARNESS_PRINCIPAL_TEMPORARY && sign->token != HARNESS_TOKEN_SEND) {
            return sign->token == HARNESS_TOKEN_OMIT
                       ? "the step leaves out the temporary principal's session token"
                       : "the step sends a wrong session token under a valid signature";
        }
    }
    for (size_t i = 0; i < x->num_headers; i++) {
        if (sign->principal == HARNESS_PRINCIPAL_NONE &&
            name_is(x->headers[i].name, "x-amz-security-token")) {
            return "the request carries a session token, which a reproducer does not print";
        }
    }
    if (x->request.len == 0) {
        return NULL; /* only the parts are known: nothing more to judge */
    }
    return bytes_curl_cannot_send(ref_buf_slice(&x->request), buf, cap);
}

/* The header's value when the request has it, else NULL. */
static const char *header_value(const struct harness_exchange *x, const char *lower)
{
    for (size_t i = 0; i < x->num_headers; i++) {
        if (name_is(x->headers[i].name, lower)) {
            return x->headers[i].value;
        }
    }
    return NULL;
}

static enum ref_status
append_header_option(struct ref_buf *out, const char *name, const char *value)
{
    REF_TRY(ref_buf_append_cstr(out, " \\\n  -H "));
    struct ref_buf h;
    ref_buf_init(&h, 16384);
    /* curl drops a header given as "Name:" and sends it empty when given as "Name;". */
    enum ref_status rc = value[0] == '\0' ? ref_buf_appendf(&h, "%s;", name)
                                          : ref_buf_appendf(&h, "%s: %s", name, value);
    if (rc == REF_OK) {
        rc = shell_quote(out, (const char *)h.data, h.len);
    }
    ref_buf_cleanup(&h);
    return rc;
}

/* host and port of an http:// or https:// endpoint, for nc; false for anything else. */
static bool endpoint_host_port(const char *endpoint, char *host, size_t cap, unsigned *port)
{
    bool is_tls = strncmp(endpoint, "https://", 8) == 0;
    if (!is_tls && strncmp(endpoint, "http://", 7) != 0) {
        return false;
    }
    const char *h = endpoint + (is_tls ? 8 : 7);
    size_t len = strcspn(h, "/");
    const char *colon = NULL;
    for (size_t i = len; i > 0; i--) {
        if (h[i - 1] == ':') {
            colon = h + i - 1;
            break;
        }
        if (h[i - 1] == ']') {
            break;
        }
    }
    size_t host_len = colon != NULL ? (size_t)(colon - h) : len;
    if (host_len == 0 || host_len >= cap) {
        return false;
    }
    memcpy(host, h, host_len);
    host[host_len] = '\0';
    *port = colon != NULL ? (unsigned)strtoul(colon + 1, NULL, 10) : (is_tls ? 443u : 80u);
    return true;
}

/* The byte-for-byte replays of a saved request: etch send, and nc or openssl s_client. */
static enum ref_status
append_replays(struct ref_buf *out, const char *endpoint, const char *saved_path)
{
    const char *file = saved_path != NULL ? saved_path : "REQUEST.http";
    if (saved_path == NULL) {
        REF_TRY(ref_buf_append_cstr(out, "# REQUEST.http: the raw HTTP below; `etch run "
                                         "--save-requests DIR` writes it byte for byte\n"));
    }
    REF_TRY(ref_buf_append_cstr(out, "etch send --endpoint "));
    REF_TRY(ref_buf_appendf(out, "\"%s\" ", endpoint));
    REF_TRY(shell_quote(out, file, strlen(file)));
    REF_TRY(ref_buf_append_byte(out, '\n'));
    char host[256];
    unsigned port = 0;
    if (!endpoint_host_port(endpoint, host, sizeof(host), &port)) {
        REF_TRY(ref_buf_append_cstr(out, "nc HOST PORT < "));
    } else if (strncmp(endpoint, "https://", 8) == 0) {
        REF_TRY(ref_buf_appendf(out, "openssl s_client -quiet -connect %s:%u < ", host, port));
    } else {
        REF_TRY(ref_buf_appendf(out, "nc %s %u < ", host, port));
    }
    REF_TRY(shell_quote(out, file, strlen(file)));
    return ref_buf_append_byte(out, '\n');
}

enum ref_status harness_step_reproducer(const struct harness_exchange *x,
                                        const struct harness_report_meta *meta,
                                        const char *saved_path,
                                        struct ref_buf *out)
{
    const char *endpoint =
        meta != NULL && meta->endpoint != NULL ? meta->endpoint : "$ETCH_ENDPOINT";
    const char *region = meta != NULL && meta->region != NULL ? meta->region : "us-east-1";
    const char *service =
        meta != NULL && meta->service != NULL ? meta->service : "elastictranscoder";
    char why_buf[160];
    const char *why = curl_cannot_reproduce(x, why_buf, sizeof(why_buf));
    if (why != NULL) {
        REF_TRY(ref_buf_appendf(out,
                                "# curl cannot reproduce this step: %s. Replay the "
                                "request byte for byte:\n",
                                why));
        return append_replays(out, endpoint, saved_path);
    }
    bool is_signed = x->sign.principal != HARNESS_PRINCIPAL_NONE;
    if (is_signed && x->sign.principal != HARNESS_PRINCIPAL_MAIN) {
        REF_TRY(ref_buf_appendf(out,
                                "# signed as the %s principal: export its key as "
                                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY%s\n",
                                harness_principal_name(x->sign.principal),
                                x->sign.principal == HARNESS_PRINCIPAL_TEMPORARY
                                    ? " (its token as AWS_SESSION_TOKEN)"
                                    : ""));
    }
    const char *date = header_value(x, "x-amz-date");
    if (!is_signed && header_value(x, "authorization") != NULL && date != NULL) {
        REF_TRY(ref_buf_appendf(out,
                                "# signed by hand at X-Amz-Date %s: a target whose clock is past "
                                "the skew window refuses it as expired; then replay it signed "
                                "again: etch send --resign --endpoint \"%s\" %s\n",
                                date, endpoint, saved_path != NULL ? saved_path : "REQUEST.http"));
    }
    REF_TRY(ref_buf_append_cstr(out, "curl -sS -i -X "));
    REF_TRY(shell_quote(out, x->method, strlen(x->method)));
    /* "$ETCH_ENDPOINT" must stay expandable: quote only the target part. */
    REF_TRY(ref_buf_appendf(out, " \"%s\"", endpoint));
    REF_TRY(shell_quote(out, x->target, strlen(x->target)));
    /* The target as written: no dot segments resolved, no [] or {} globbing. */
    REF_TRY(ref_buf_append_cstr(out, " --path-as-is -g"));
    if (is_signed) {
        REF_TRY(ref_buf_appendf(out,
                                " \\\n  --aws-sigv4 \"aws:amz:%s:%s\" --user "
                                "\"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\"",
                                region, service));
        if (x->sign.principal == HARNESS_PRINCIPAL_TEMPORARY) {
            REF_TRY(
                ref_buf_append_cstr(out, " \\\n  -H \"X-Amz-Security-Token: $AWS_SESSION_TOKEN\""));
        }
    }
    for (size_t i = 0; i < x->num_headers; i++) {
        const char *name = x->headers[i].name;
        /* Signed by curl, curl makes the signing headers; sent as written, every header
         * goes as written but Content-Length, which curl counts from the same body. */
        if (is_signed ? is_signing_header(name) : name_is(name, "content-length")) {
            continue;
        }
        REF_TRY(append_header_option(out, name, x->headers[i].value));
    }
    if (!is_signed) {
        /* Nothing curl would add on its own: the request goes with its headers only. */
        REF_TRY(ref_buf_append_cstr(out, " \\\n "));
        if (header_value(x, "user-agent") == NULL) {
            REF_TRY(ref_buf_append_cstr(out, " -H 'User-Agent:'"));
        }
        if (header_value(x, "accept") == NULL) {
            REF_TRY(ref_buf_append_cstr(out, " -H 'Accept:'"));
        }
        if (x->body_len > 0 && header_value(x, "content-type") == NULL) {
            REF_TRY(ref_buf_append_cstr(out, " -H 'Content-Type:'"));
        }
    }
    if (x->body_len > 0) {
        /* --data-raw: a body starting with '@' is not a file name. */
        REF_TRY(ref_buf_append_cstr(out, " \\\n  --data-raw "));
        REF_TRY(shell_quote(out, (const char *)x->body, x->body_len));
    }
    return ref_buf_append_byte(out, '\n');
}

enum ref_status harness_curl_reproducer(const struct harness_exchange *x,
                                        const struct harness_report_meta *meta,
                                        struct ref_buf *out)
{
    return harness_step_reproducer(x, meta, NULL, out);
}
