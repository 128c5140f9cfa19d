/* SPDX-License-Identifier: Apache-2.0
 *
 * report.c - run reports: the text table and failure details (with curl and raw HTTP
 * reproducers), the summary, JUnit XML, TAP version 13 and JSON Lines.
 *
 * Writers take finished results and never fail half-way silently: they return a status
 * other than REF_OK when the stream reports an error. XML and TAP text is escaped so any
 * byte a target sends back still yields a well-formed document. Session tokens are
 * redacted everywhere.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/report.h"
#include "harness/replay.h"
#include "harness/report_groups.h"
#include "harness/text.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

#define RAW_SHOWN_BYTES 4096

/* --- Summary ----------------------------------------------------------------------- */

void harness_summary_compute(const struct harness_scenario_result *results,
                             size_t n,
                             struct harness_summary *out)
{
    memset(out, 0, sizeof(*out));
    out->scenarios = n;
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        if ((unsigned)r->verdict < HARNESS_VERDICT_COUNT) {
            out->by_verdict[r->verdict]++;
        }
        out->must_held += r->must_held;
        out->must_total += r->must_total;
        out->should_held += r->should_held;
        out->should_total += r->should_total;
        out->duration_ms += r->duration_ms;
    }
}

static double pct(size_t held, size_t total)
{
    return total == 0 ? 100.0 : 100.0 * (double)held / (double)total;
}

void harness_report_summary(FILE *out, const struct harness_summary *sum)
{
    fprintf(out,
            "summary: %zu scenarios, %zu passed, %zu failed, %zu deviations, %zu not "
            "implemented, %zu skipped, %zu errors ",
            sum->scenarios, sum->by_verdict[HARNESS_VERDICT_PASS],
            sum->by_verdict[HARNESS_VERDICT_FAIL], sum->by_verdict[HARNESS_VERDICT_DEVIATION],
            sum->by_verdict[HARNESS_VERDICT_NOT_IMPLEMENTED], sum->by_verdict[HARNESS_VERDICT_SKIP],
            sum->by_verdict[HARNESS_VERDICT_ERROR]);
    /* Workers run scenarios side by side, so their times add up to more than the run
     * took: the wall time is what a CI job waits. */
    if (sum->wall_ms > 0) {
        fprintf(out, "in %.1f s wall (scenario time %.1f s)\n", sum->wall_ms / 1000.0,
                sum->duration_ms / 1000.0);
    } else {
        fprintf(out, "(%.1f ms)\n", sum->duration_ms);
    }
    fprintf(out, "conformance: must %zu/%zu (%.1f%%), should %zu/%zu (%.1f%%)\n", sum->must_held,
            sum->must_total, pct(sum->must_held, sum->must_total), sum->should_held,
            sum->should_total, pct(sum->should_held, sum->should_total));
}

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

/* --- Text -------------------------------------------------------------------------- */

static const char *verdict_color(enum harness_verdict v)
{
    switch (v) {
        case HARNESS_VERDICT_PASS:
            return "\033[32m";
        case HARNESS_VERDICT_DEVIATION:
            return "\033[33m";
        case HARNESS_VERDICT_SKIP:
            return "\033[36m";
        case HARNESS_VERDICT_NOT_IMPLEMENTED:
            return "\033[35m";
        default:
            return "\033[31m";
    }
}

static void print_buf(FILE *out, struct ref_buf *b)
{
    if (b->len > 0) {
        fwrite(b->data, 1, b->len, out);
    }
    ref_buf_reset(b);
}

/* "section 3" or "sections 1b, 8". */
static void print_sections(FILE *out, const char *contract)
{
    fprintf(out, "contract section%s %s", strchr(contract, ',') != NULL ? "s" : "", contract);
}

/* What one sub-step of an allowed outcome must get: "202", "409 ResourceInUseException",
 * "4xx or 5xx", with "and more checks" when the outcome looks at more than status and
 * error code. */
static void outcome_part_text(const struct harness_expect *e, char *text, size_t cap)
{
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < e->num_status && used < cap; i++) {
        const struct harness_status_alt *alt = &e->status[i];
        const char *sep = i > 0 ? " or " : "";
        int w = alt->status_class != 0
                    ? snprintf(text + used, cap - used, "%s%dxx", sep, alt->status_class)
                : alt->is_closed ? snprintf(text + used, cap - used, "%sclosed", sep)
                                 : snprintf(text + used, cap - used, "%s%d", sep, alt->code);
        used += w > 0 ? (size_t)w : 0;
    }
    if (e->has_error && used < cap) {
        int w = snprintf(text + used, cap - used, "%s%s", used > 0 ? " " : "",
                         e->error != NULL ? e->error : "(no error code)");
        used += w > 0 ? (size_t)w : 0;
    }
    if ((e->headers != NULL || e->body != NULL || e->paths != NULL || e->json || e->error_form) &&
        used < cap) {
        snprintf(text + used, cap - used, "%s", used > 0 ? " and more checks" : "checks");
    } else if (used == 0) {
        snprintf(text, cap, "anything");
    }
}

/* The outcomes a concurrent group allows, one line each, next to what it got. */
static void print_outcomes(FILE *out, const struct harness_step *step)
{
    fprintf(out, "      allowed outcomes (%s.outcomes):\n", step->json_path);
    for (size_t k = 0; k < step->num_outcomes; k++) {
        const struct harness_outcome *oc = &step->outcomes[k];
        fprintf(out, "        %zu.", k + 1);
        const char *sep = " ";
        for (size_t i = 0; i < step->num_subs; i++) {
            if (!oc->has_expect[i]) {
                continue;
            }
            char text[HARNESS_CHECK_TEXT_BYTES];
            outcome_part_text(&oc->expect[i], text, sizeof(text));
            fprintf(out, "%s%s: %s", sep, step->subs[i].name, text);
            sep = "; ";
        }
        fprintf(out, "\n");
    }
}

void harness_report_step_details(FILE *out,
                                 const struct harness_scenario_result *r,
                                 const struct harness_step_result *s,
                                 const struct harness_report_meta *meta,
                                 bool color)
{
    const struct harness_step *step = s->step;
    const char *on = color ? verdict_color(s->verdict) : "";
    const char *off = color ? "\033[0m" : "";
    const char *what = step->kind == HARNESS_STEP_CALL         ? ref_op_name(step->request.op)
                       : step->kind == HARNESS_STEP_WAIT       ? "wait"
                       : step->kind == HARNESS_STEP_CONCURRENT ? "concurrent"
                       : step->kind == HARNESS_STEP_RAW        ? "raw"
                                                               : "hook";
    fprintf(out, "\n%s%s%s %s, step %zu '%s' (%s) at %s\n", on, harness_verdict_name(s->verdict),
            off, r->scenario->display_path, step->index + 1, step->name, what, step->json_path);
    if (r->scenario->description != NULL && r->scenario->description[0] != '\0') {
        fprintf(out, "  scenario: %s\n", r->scenario->description);
    }
    if (step->note != NULL) {
        fprintf(out, "  note: %s\n", step->note);
    }
    if (s->reason[0] != '\0') {
        fprintf(out, "  %s\n", s->reason);
    }
    if (s->polls > 0) {
        fprintf(out, "  polls: %u\n", s->polls);
    }
    bool has_contract = false;
    for (size_t i = 0; i < s->checks.count; i++) {
        const struct harness_check_result *c = &s->checks.items[i];
        if (c->held) {
            continue;
        }
        fprintf(out, "  %s [%s] %s: expected %s\n      got %s\n", harness_level_name(c->level),
                harness_source_name(c->source), c->what, c->expected, c->actual);
        if (c->note != NULL) {
            fprintf(out, "      note: %s\n", c->note);
        }
        if (c->contract != NULL) {
            fputs("      rests on ", out);
            print_sections(out, c->contract);
            fputs("\n", out);
            has_contract = true;
        }
        if (step->kind == HARNESS_STEP_CONCURRENT && strcmp(c->what, "outcomes") == 0) {
            print_outcomes(out, step);
        }
    }
    if (has_contract) {
        /* The sources name no machine's paths: the contract's sections are mapped to the
         * reference's files in the README next to them. */
        fputs("  where the reference implements each contract section: reference/README.md\n", out);
    }
    struct ref_buf b;
    ref_buf_init(&b, 1024 * 1024);
    for (size_t i = 0; i < s->num_exchanges; i++) {
        const struct harness_exchange *x = &s->exchanges[i];
        if (x->request.len == 0) {
            continue;
        }
        const char *label = x->label != NULL ? x->label : "";
        char saved[4096];
        const char *saved_path = NULL;
        if (meta != NULL && meta->saved_requests_dir != NULL &&
            harness_saved_request_path(meta->saved_requests_dir, r->scenario, s, i, saved,
                                       sizeof(saved))) {
            saved_path = saved;
            fprintf(out,
                    "  request%s%s saved as %s (`etch send --endpoint URL FILE` sends it byte "
                    "for byte, `etch handle FILE` answers it as the reference)\n",
                    label[0] != '\0' ? " " : "", label, saved);
        }
        fprintf(out, "  request%s%s (reproducer):\n", label[0] != '\0' ? " " : "", label);
        if (harness_step_reproducer(x, meta, saved_path, &b) == REF_OK) {
            /* Indent the command as a block. */
            fputs("    ", out);
            for (size_t k = 0; k < b.len; k++) {
                fputc(b.data[k], out);
                if (b.data[k] == '\n' && k + 1 < b.len) {
                    fputs("    ", out);
                }
            }
        }
        ref_buf_reset(&b);
        fprintf(out, "  request%s%s (raw HTTP):\n", label[0] != '\0' ? " " : "", label);
        if (harness_raw_printable(ref_buf_slice(&x->request), RAW_SHOWN_BYTES, "    ", &b) ==
            REF_OK) {
            print_buf(out, &b);
        }
        ref_buf_reset(&b);
        if (x->response.len > 0) {
            fprintf(out, "  response%s%s (raw HTTP):\n", label[0] != '\0' ? " " : "", label);
            if (harness_raw_printable(ref_buf_slice(&x->response), RAW_SHOWN_BYTES, "    ", &b) ==
                REF_OK) {
                print_buf(out, &b);
            }
        }
    }
    ref_buf_cleanup(&b);
}

/* On a shared endpoint: what the runner deleted after the scenarios, and, one line each,
 * what it could not (so that it can be found and removed by hand). */
static void report_cleanup(FILE *out, const struct harness_scenario_result *results, size_t n)
{
    size_t jobs = 0;
    size_t ignored = 0;
    size_t deleted = 0;
    size_t left = 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const struct harness_cleanup *c = &results[i].cleanup;
        any = any || c->is_done;
        jobs += c->jobs_canceled;
        ignored += c->jobs_cancel_ignored;
        deleted += c->pipelines_deleted;
        left += c->pipelines_left;
    }
    if (!any) {
        return;
    }
    /* Counted as read back, not as answered: an endpoint may say 202 and do nothing. */
    fprintf(out, "\ncleanup: %zu job%s canceled, %zu pipeline%s deleted, %zu left behind\n",
            jobs, jobs == 1 ? "" : "s", deleted, deleted == 1 ? "" : "s", left);
    if (ignored > 0) {
        fprintf(out, "  %zu cancel%s answered 2xx but the job did not then read Canceled\n",
                ignored, ignored == 1 ? "" : "s");
    }
    for (size_t i = 0; i < n; i++) {
        const struct harness_cleanup *c = &results[i].cleanup;
        if (c->note[0] != '\0') {
            fprintf(out, "  %s/%s: %s (pipeline names end in %s)\n", results[i].scenario->area,
                    results[i].scenario->name, c->note, results[i].name_suffix);
        }
    }
}

/* The reason a scenario was skipped: its first skipped step's. */
static const char *skip_reason(const struct harness_scenario_result *r)
{
    for (size_t k = 0; k < r->num_steps; k++) {
        if (r->steps[k].verdict == HARNESS_VERDICT_SKIP && r->steps[k].reason[0] != '\0') {
            return r->steps[k].reason;
        }
    }
    return "no reason given";
}

/* How many skipped scenarios a reason line names before "and N more". */
#define SKIP_NAMES_SHOWN 3

/* Skipped scenarios grouped by reason, one line per reason: a live run may skip dozens
 * for the same cause (no test control, a missing principal), and one line says it. */
static void report_skips(FILE *out, const struct harness_scenario_result *results, size_t n)
{
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        if (results[i].verdict != HARNESS_VERDICT_SKIP) {
            continue;
        }
        const char *reason = skip_reason(&results[i]);
        bool is_first = true;
        for (size_t j = 0; j < i && is_first; j++) {
            is_first = results[j].verdict != HARNESS_VERDICT_SKIP ||
                       strcmp(skip_reason(&results[j]), reason) != 0;
        }
        if (!is_first) {
            continue; /* its line was printed with the first scenario of that reason */
        }
        size_t count = 0;
        for (size_t j = i; j < n; j++) {
            count += results[j].verdict == HARNESS_VERDICT_SKIP &&
                     strcmp(skip_reason(&results[j]), reason) == 0;
        }
        if (!header) {
            fprintf(out, "\nskipped, by reason:\n");
            header = true;
        }
        fprintf(out, "  %s: %zu scenario%s (", reason, count, count == 1 ? "" : "s");
        size_t shown = 0;
        for (size_t j = i; j < n && shown < SKIP_NAMES_SHOWN; j++) {
            if (results[j].verdict == HARNESS_VERDICT_SKIP &&
                strcmp(skip_reason(&results[j]), reason) == 0) {
                fprintf(out, "%s%s/%s", shown > 0 ? ", " : "", results[j].scenario->area,
                        results[j].scenario->name);
                shown++;
            }
        }
        if (count > shown) {
            fprintf(out, " and %zu more", count - shown);
        }
        fprintf(out, ")\n");
    }
}

void harness_report_text(FILE *out,
                         const struct harness_scenario_result *results,
                         size_t n,
                         const struct harness_report_meta *meta,
                         bool color)
{
    size_t width = 10;
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(results[i].scenario->area) + 1 + strlen(results[i].scenario->name);
        width = w > width ? w : width;
    }
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        char full[256];
        harness_textf(full, sizeof(full), "%s/%s", r->scenario->area, r->scenario->name);
        size_t checks = r->must_total + r->should_total + r->info_total;
        fprintf(out, "  %s%-15s%s %-*s %3zu steps %4zu checks %8.2f ms\n",
                color ? verdict_color(r->verdict) : "", harness_verdict_name(r->verdict),
                color ? "\033[0m" : "", (int)width, full, r->num_steps, checks, r->duration_ms);
    }
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        for (size_t k = 0; k < r->num_steps; k++) {
            const struct harness_step_result *s = &r->steps[k];
            bool interesting = s->verdict == HARNESS_VERDICT_FAIL ||
                               s->verdict == HARNESS_VERDICT_ERROR ||
                               s->verdict == HARNESS_VERDICT_DEVIATION ||
                               s->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED;
            if (interesting) {
                harness_report_step_details(out, r, s, meta, color);
            }
        }
    }
    /* Informational checks (which skew window, ...) are reported, never judged: one line
     * per step, whether they held, and if not the first that did not. */
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        for (size_t k = 0; k < r->num_steps; k++) {
            const struct harness_check_list *l = &r->steps[k].checks;
            const struct harness_check_result *broken = NULL;
            const struct harness_check_result *first = NULL;
            for (size_t c = 0; c < l->count; c++) {
                if (l->items[c].level != HARNESS_LEVEL_INFO) {
                    continue;
                }
                first = first != NULL ? first : &l->items[c];
                if (!l->items[c].held && broken == NULL) {
                    broken = &l->items[c];
                }
            }
            if (first == NULL) {
                continue;
            }
            if (!header) {
                fprintf(out, "\ninformational (never part of a verdict):\n");
                header = true;
            }
            const struct harness_check_result *shown = broken != NULL ? broken : first;
            fprintf(out, "  %s/%s step '%s': %s (%s: expected %s, got %s)%s%s\n", r->scenario->area,
                    r->scenario->name, r->steps[k].step->name,
                    broken != NULL ? "does not hold" : "holds", shown->what, shown->expected,
                    shown->actual, shown->note != NULL ? "; " : "",
                    shown->note != NULL ? shown->note : "");
        }
    }
    report_skips(out, results, n);
    report_cleanup(out, results, n);
    harness_report_root_causes(out, results, n);
    struct harness_summary sum;
    harness_summary_compute(results, n, &sum);
    sum.wall_ms = meta->wall_ms;
    fputc('\n', out);
    harness_report_summary(out, &sum);
}

/* --- Machine formats --------------------------------------------------------------- */

/* XML 1.0 text: escapes markup, and replaces bytes XML cannot carry at all. */
static void xml_text(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
            case '<':
                fputs("&lt;", out);
                break;
            case '>':
                fputs("&gt;", out);
                break;
            case '&':
                fputs("&amp;", out);
                break;
            case '"':
                fputs("&quot;", out);
                break;
            case '\'':
                fputs("&apos;", out);
                break;
            default:
                if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x80) {
                    fprintf(out, "\\x%02x", c);
                } else {
                    fputc(c, out);
                }
                break;
        }
    }
}

static void xml_cstr(FILE *out, const char *s)
{
    xml_text(out, s, strlen(s));
}

/* The first broken check or the step reason: one line for JUnit messages and TAP. */
static void first_problem(const struct harness_scenario_result *r, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t k = 0; k < r->num_steps; k++) {
        const struct harness_step_result *s = &r->steps[k];
        if (s->verdict != r->verdict) {
            continue;
        }
        for (size_t c = 0; c < s->checks.count; c++) {
            const struct harness_check_result *ck = &s->checks.items[c];
            if (!ck->held && ck->level != HARNESS_LEVEL_INFO) {
                /* The sections too: a CI summary shows only this line. */
                char sections[HARNESS_MAX_JSON_PATH_BYTES] = "";
                if (ck->contract != NULL) {
                    harness_textf(sections, sizeof(sections), " (contract section%s %s)",
                                  strchr(ck->contract, ',') != NULL ? "s" : "", ck->contract);
                }
                harness_textf(out, cap, "step '%s': %s [%s] %s: expected %s, got %s%s",
                              s->step->name, harness_level_name(ck->level),
                              harness_source_name(ck->source), ck->what, ck->expected, ck->actual,
                              sections);
                return;
            }
        }
        if (s->reason[0] != '\0') {
            harness_textf(out, cap, "step '%s': %s", s->step->name, s->reason);
            return;
        }
    }
}

static char *details_text(const struct harness_scenario_result *r,
                          const struct harness_report_meta *meta,
                          size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&text, &n);
    if (mem == NULL) {
        return NULL;
    }
    for (size_t k = 0; k < r->num_steps; k++) {
        const struct harness_step_result *s = &r->steps[k];
        if (s->verdict == HARNESS_VERDICT_FAIL || s->verdict == HARNESS_VERDICT_ERROR ||
            s->verdict == HARNESS_VERDICT_DEVIATION ||
            s->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED) {
            harness_report_step_details(mem, r, s, meta, false);
        }
    }
    fclose(mem);
    *len = n;
    return text;
}

enum ref_status harness_report_junit(FILE *out,
                                     const struct harness_scenario_result *results,
                                     size_t n,
                                     const struct harness_report_meta *meta)
{
    struct harness_summary sum;
    harness_summary_compute(results, n, &sum);
    bool strict = meta != NULL && meta->strict;
    bool allow_ni = meta != NULL && meta->allow_unimplemented;
    size_t ni = sum.by_verdict[HARNESS_VERDICT_NOT_IMPLEMENTED];
    size_t failures = sum.by_verdict[HARNESS_VERDICT_FAIL] + (allow_ni ? 0 : ni) +
                      (strict ? sum.by_verdict[HARNESS_VERDICT_DEVIATION] : 0);
    size_t skipped = sum.by_verdict[HARNESS_VERDICT_SKIP] + (allow_ni ? ni : 0);
    size_t errors = sum.by_verdict[HARNESS_VERDICT_ERROR];
    /* A failure a baseline expects is written as skipped, which CI dashboards show as
     * neither red nor silently green. */
    for (size_t i = 0; i < n; i++) {
        enum harness_verdict v = results[i].verdict;
        if (results[i].expected_reason == NULL) {
            continue;
        }
        if (v == HARNESS_VERDICT_ERROR) {
            errors--;
            skipped++;
        } else if (v == HARNESS_VERDICT_FAIL ||
                   (v == HARNESS_VERDICT_NOT_IMPLEMENTED && !allow_ni) ||
                   (v == HARNESS_VERDICT_DEVIATION && strict)) {
            failures--;
            skipped++;
        }
    }
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out,
            "<testsuites name=\"etch\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"%zu\" time=\"%.3f\">\n",
            n, failures, errors, skipped, sum.duration_ms / 1000.0);
    fprintf(out,
            "  <testsuite name=\"etch.conformance\" tests=\"%zu\" failures=\"%zu\" "
            "errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
            n, failures, errors, skipped, sum.duration_ms / 1000.0);
    fprintf(out, "    <properties>\n");
    fprintf(out, "      <property name=\"target\" value=\"");
    xml_cstr(out, meta != NULL && meta->target != NULL ? meta->target : "");
    fprintf(out, "\"/>\n      <property name=\"tool\" value=\"");
    xml_cstr(out, meta != NULL && meta->tool != NULL ? meta->tool : "etch");
    fprintf(out, "\"/>\n      <property name=\"must\" value=\"%zu/%zu\"/>\n", sum.must_held,
            sum.must_total);
    fprintf(out, "      <property name=\"should\" value=\"%zu/%zu\"/>\n", sum.should_held,
            sum.should_total);
    fprintf(out, "    </properties>\n");
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        fprintf(out, "    <testcase classname=\"etch.");
        xml_cstr(out, r->scenario->area);
        fprintf(out, "\" name=\"");
        xml_cstr(out, r->scenario->name);
        fprintf(out, "\" time=\"%.6f\">\n", r->duration_ms / 1000.0);
        char problem[1024];
        first_problem(r, problem, sizeof(problem));
        size_t dlen = 0;
        char *details = NULL;
        const char *tag = NULL;
        switch (r->verdict) {
            case HARNESS_VERDICT_FAIL:
                tag = "failure";
                break;
            case HARNESS_VERDICT_NOT_IMPLEMENTED:
                tag = allow_ni ? NULL : "failure";
                break;
            case HARNESS_VERDICT_DEVIATION:
                tag = strict ? "failure" : NULL;
                break;
            case HARNESS_VERDICT_ERROR:
                tag = "error";
                break;
            default:
                break;
        }
        if (r->verdict == HARNESS_VERDICT_SKIP ||
            (r->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED && allow_ni)) {
            fprintf(out, "      <skipped message=\"%s",
                    r->verdict == HARNESS_VERDICT_SKIP ? "" : "NOT IMPLEMENTED: ");
            xml_cstr(out, problem);
            fprintf(out, "\"/>\n");
        }
        if (tag != NULL || r->verdict == HARNESS_VERDICT_DEVIATION) {
            details = details_text(r, meta, &dlen);
        }
        if (tag != NULL && r->expected_reason != NULL) {
            fprintf(out, "      <skipped message=\"expected failure: ");
            xml_cstr(out, r->expected_reason);
            fprintf(out, "\"/>\n      <system-out>%s (expected by the baseline): ",
                    harness_verdict_name(r->verdict));
            xml_cstr(out, problem);
            if (details != NULL) {
                xml_text(out, details, dlen);
            }
            fprintf(out, "</system-out>\n");
        } else if (tag != NULL) {
            fprintf(out, "      <%s type=\"%s\" message=\"", tag, harness_verdict_name(r->verdict));
            xml_cstr(out, problem);
            fprintf(out, "\">");
            if (details != NULL) {
                xml_text(out, details, dlen);
            }
            fprintf(out, "</%s>\n", tag);
        } else if (r->verdict == HARNESS_VERDICT_DEVIATION) {
            /* Without --strict only should-level expectations broke: a pass, with the details
             * attached. */
            fprintf(out, "      <system-out>DEVIATION: ");
            xml_cstr(out, problem);
            if (details != NULL) {
                xml_text(out, details, dlen);
            }
            fprintf(out, "</system-out>\n");
        }
        free(details);
        fprintf(out, "    </testcase>\n");
    }
    fprintf(out, "  </testsuite>\n</testsuites>\n");
    return ferror(out) ? REF_E_INTERNAL : REF_OK;
}

/* TAP descriptions and YAML scalars: one line, no '#' (which starts a directive). */
static void tap_line(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '#') {
            fputs("\\#", out);
        } else if (c < 0x20 || c == 0x7f) {
            fputc(' ', out);
        } else {
            fputc(c, out);
        }
    }
}

static void yaml_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\x%02x", c);
        } else {
            fputc(c, out);
        }
    }
    fputc('"', out);
}

enum ref_status harness_report_tap(FILE *out,
                                   const struct harness_scenario_result *results,
                                   size_t n,
                                   const struct harness_report_meta *meta)
{
    fprintf(out, "TAP version 13\n1..%zu\n", n);
    if (meta != NULL && meta->target != NULL) {
        fprintf(out, "# target: ");
        tap_line(out, meta->target);
        fputc('\n', out);
    }
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        bool strict = meta != NULL && meta->strict;
        bool allow_ni = meta != NULL && meta->allow_unimplemented;
        bool ni_skipped = r->verdict == HARNESS_VERDICT_NOT_IMPLEMENTED && allow_ni;
        bool ok = r->verdict == HARNESS_VERDICT_PASS || r->verdict == HARNESS_VERDICT_SKIP ||
                  (r->verdict == HARNESS_VERDICT_DEVIATION && !strict) || ni_skipped;
        char problem[1024];
        first_problem(r, problem, sizeof(problem));
        fprintf(out, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
        tap_line(out, r->scenario->area);
        fputc('/', out);
        tap_line(out, r->scenario->name);
        if (r->verdict == HARNESS_VERDICT_SKIP || ni_skipped) {
            fprintf(out, " # SKIP %s", ni_skipped ? "not implemented: " : "");
            tap_line(out, problem);
        } else if (!ok && r->expected_reason != NULL) {
            /* A TODO test point that fails is not a failure of the run (TAP 13). */
            fprintf(out, " # TODO ");
            tap_line(out, r->expected_reason);
        }
        fputc('\n', out);
        if (r->verdict != HARNESS_VERDICT_PASS && r->verdict != HARNESS_VERDICT_SKIP) {
            fprintf(out, "  ---\n  verdict: ");
            yaml_quoted(out, harness_verdict_name(r->verdict));
            fprintf(out, "\n  message: ");
            yaml_quoted(out, problem);
            if (r->scenario->description != NULL) {
                fprintf(out, "\n  description: ");
                yaml_quoted(out, r->scenario->description);
            }
            fprintf(out, "\n  must: \"%zu/%zu\"\n  should: \"%zu/%zu\"\n  ...\n", r->must_held,
                    r->must_total, r->should_held, r->should_total);
        }
    }
    return ferror(out) ? REF_E_INTERNAL : REF_OK;
}

/* A JSON string of text that may hold bytes a target sent: when it is not valid UTF-8,
 * every byte from 0x80 up becomes '?', so the line still encodes. */
static json_t *text_string(const char *text)
{
    json_t *v = json_string(text);
    if (v != NULL) {
        return v;
    }
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        return NULL;
    }
    for (size_t i = 0; i <= n; i++) {
        copy[i] = (unsigned char)text[i] >= 0x80 ? '?' : text[i];
    }
    v = json_string(copy);
    free(copy);
    return v;
}

/* The outcomes a concurrent group allows, as the text report lists them. */
static json_t *outcomes_json(const struct harness_step *step)
{
    json_t *list = json_array();
    for (size_t k = 0; list != NULL && k < step->num_outcomes; k++) {
        json_t *parts = json_object();
        for (size_t i = 0; parts != NULL && i < step->num_subs; i++) {
            if (step->outcomes[k].has_expect[i]) {
                char text[HARNESS_CHECK_TEXT_BYTES];
                outcome_part_text(&step->outcomes[k].expect[i], text, sizeof(text));
                json_object_set_new(parts, step->subs[i].name, text_string(text));
            }
        }
        json_array_append_new(list, parts);
    }
    return list;
}

static json_t *check_json(const struct harness_check_result *c)
{
    json_t *v = json_object();
    if (v != NULL) {
        json_object_set_new(v, "what", text_string(c->what));
        json_object_set_new(v, "level", json_string(harness_level_name(c->level)));
        json_object_set_new(v, "source", json_string(harness_source_name(c->source)));
        json_object_set_new(v, "held", json_boolean(c->held));
        json_object_set_new(v, "expected", text_string(c->expected));
        json_object_set_new(v, "actual", text_string(c->actual));
        if (c->contract != NULL) {
            json_object_set_new(v, "contract", json_string(c->contract));
        }
    }
    return v;
}

enum ref_status harness_report_jsonl(FILE *out,
                                     const struct harness_scenario_result *results,
                                     size_t n,
                                     const struct harness_report_meta *meta)
{
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        json_t *tags = json_array();
        json_t *steps = json_array();
        json_t *line = json_object();
        if (tags == NULL || steps == NULL || line == NULL) {
            json_decref(tags);
            json_decref(steps);
            json_decref(line);
            return REF_E_NOMEM;
        }
        for (size_t t = 0; t < r->scenario->num_tags; t++) {
            json_array_append_new(tags, json_string(r->scenario->tags[t]));
        }
        for (size_t k = 0; k < r->num_steps; k++) {
            const struct harness_step_result *s = &r->steps[k];
            json_t *checks = json_array();
            for (size_t c = 0; checks != NULL && c < s->checks.count; c++) {
                json_array_append_new(checks, check_json(&s->checks.items[c]));
            }
            json_t *st = json_object();
            if (st != NULL) {
                json_object_set_new(st, "name", json_string(s->step->name));
                json_object_set_new(st, "verdict", json_string(harness_verdict_name(s->verdict)));
                json_object_set_new(st, "reason", text_string(s->reason));
                json_object_set_new(st, "checks", checks);
                json_object_set_new(st, "duration_ms", json_real(s->duration_ms));
                if (s->step->kind == HARNESS_STEP_CONCURRENT && harness_step_needs_replay(s)) {
                    json_object_set_new(st, "allowed_outcomes", outcomes_json(s->step));
                }
            } else {
                json_decref(checks);
            }
            /* A step whose first answer was lost is judged on its retry, the last exchange. */
            const struct harness_exchange *judged =
                s->num_exchanges == 0 ? NULL
                : s->step->lost_answer != HARNESS_RETRYING_SDK_NONE
                    ? &s->exchanges[s->num_exchanges - 1]
                    : &s->exchanges[0];
            if (st != NULL && judged != NULL && judged->http_status != 0) {
                json_object_set_new(st, "status", json_integer(judged->http_status));
                if (judged->error_code[0] != '\0') {
                    json_object_set_new(st, "error", text_string(judged->error_code));
                }
            }
            json_array_append_new(steps, st);
        }
        json_object_set_new(line, "scenario", json_string(r->scenario->name));
        json_object_set_new(line, "area", json_string(r->scenario->area));
        json_object_set_new(line, "file", json_string(r->scenario->display_path));
        if (r->scenario->description != NULL) {
            json_object_set_new(line, "description", text_string(r->scenario->description));
        }
        json_object_set_new(line, "verdict", json_string(harness_verdict_name(r->verdict)));
        if (r->expected_reason != NULL) {
            json_object_set_new(line, "expected_by_baseline", text_string(r->expected_reason));
        }
        if (meta != NULL && meta->target != NULL) {
            json_object_set_new(line, "target", json_string(meta->target));
        }
        json_object_set_new(line, "tags", tags);
        json_object_set_new(line, "must",
                            json_pack("{s:I, s:I}", "held", (json_int_t)r->must_held, "total",
                                      (json_int_t)r->must_total));
        json_object_set_new(line, "should",
                            json_pack("{s:I, s:I}", "held", (json_int_t)r->should_held, "total",
                                      (json_int_t)r->should_total));
        json_object_set_new(line, "duration_ms", json_real(r->duration_ms));
        if (r->cleanup.is_done) {
            json_t *c =
                json_pack("{s:I, s:I, s:I, s:I}", "jobs_canceled",
                          (json_int_t)r->cleanup.jobs_canceled, "jobs_cancel_ignored",
                          (json_int_t)r->cleanup.jobs_cancel_ignored, "pipelines_deleted",
                          (json_int_t)r->cleanup.pipelines_deleted, "pipelines_left",
                          (json_int_t)r->cleanup.pipelines_left);
            if (c != NULL && r->cleanup.note[0] != '\0') {
                json_object_set_new(c, "note", text_string(r->cleanup.note));
            }
            json_object_set_new(line, "cleanup", c);
        }
        json_object_set_new(line, "steps", steps);
        /* JSON_ENSURE_ASCII: whatever bytes a target sent, every line stays valid UTF-8. */
        char *text = harness_json_dump(line, JSON_COMPACT | JSON_ENSURE_ASCII);
        json_decref(line);
        if (text == NULL) {
            return REF_E_NOMEM;
        }
        fprintf(out, "%s\n", text);
        free(text);
    }
    return ferror(out) ? REF_E_INTERNAL : REF_OK;
}
