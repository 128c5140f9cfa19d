/* SPDX-License-Identifier: Apache-2.0
 *
 * common.c - shared helpers of the fuzz targets (see common.h).
 *
 * Written against the contract and RFC 9112 rather than against the reference's code, so
 * that a target comparing the reference with these helpers compares two independent
 * readings of the same rules.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", file, line, what);
    fflush(stderr);
    abort();
}

bool fuzz_skip_open_bug(const char *id)
{
    const char *list = getenv("ETCH_FUZZ_SKIP");
    size_t n = strlen(id);
    while (list != NULL && *list != '\0') {
        const char *end = strchr(list, ',');
        size_t len = end == NULL ? strlen(list) : (size_t)(end - list);
        if (len == n && strncmp(list, id, n) == 0) {
            return true;
        }
        list = end == NULL ? NULL : end + 1;
    }
    return false;
}

bool fuzz_slice_inside(struct ref_slice s, const void *base, size_t len)
{
    const uint8_t *lo = base;
    if (s.len == 0) {
        /* An empty slice may point anywhere (even NULL): nothing is read through it. */
        return true;
    }
    if (s.ptr == NULL || lo == NULL || s.ptr < lo) {
        return false;
    }
    size_t off = (size_t)(s.ptr - lo);
    return off <= len && s.len <= len - off;
}

bool fuzz_slice_eq(struct ref_slice a, struct ref_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool fuzz_slice_eq_cstr(struct ref_slice a, const char *s)
{
    struct ref_slice b = {(const uint8_t *)s, strlen(s)};
    return fuzz_slice_eq(a, b);
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

bool fuzz_slice_eq_nocase(struct ref_slice a, struct ref_slice b)
{
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        if (lower(a.ptr[i]) != lower(b.ptr[i])) {
            return false;
        }
    }
    return true;
}

void fuzz_rng_seed(struct fuzz_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t fuzz_rng_next(struct fuzz_rng *rng)
{
    /* splitmix64: small, fast, and good enough to make Ids and UUIDs look random. */
    uint64_t z = (rng->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

int64_t fuzz_fixed_now_ms(void *ctx)
{
    (void)ctx;
    return FUZZ_NOW_MS;
}

void fuzz_random_bytes(void *ctx, uint8_t *out, size_t n)
{
    struct fuzz_rng *rng = ctx;
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(fuzz_rng_next(rng) >> 56);
    }
}

bool fuzz_is_tchar(uint8_t c)
{
    /* RFC 9110 section 5.6.2 token characters. */
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_field_byte(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Takes one CRLF-terminated line off *rest; false when no CRLF is left. */
static bool take_line(struct ref_slice *rest, struct ref_slice *line)
{
    for (size_t i = 0; i + 1 < rest->len; i++) {
        if (rest->ptr[i] == '\r' && rest->ptr[i + 1] == '\n') {
            *line = (struct ref_slice){rest->ptr, i};
            rest->ptr += i + 2;
            rest->len -= i + 2;
            return true;
        }
    }
    return false;
}

static bool fail(const char **why, const char *reason)
{
    *why = reason;
    return false;
}

static bool parse_decimal(struct ref_slice s, uint64_t max, uint64_t *v)
{
    if (s.len == 0) {
        return false;
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
        acc = acc * 10 + (uint64_t)(s.ptr[i] - '0');
        if (acc > max) {
            return false;
        }
    }
    *v = acc;
    return true;
}

static bool parse_status_line(struct ref_slice line, struct fuzz_response *out, const char **why)
{
    static const char prefix[] = "HTTP/1.1 ";
    size_t plen = sizeof(prefix) - 1;
    if (line.len < plen + 4 || memcmp(line.ptr, prefix, plen) != 0) {
        return fail(why, "status line does not start with 'HTTP/1.1 NNN '");
    }
    int status = 0;
    for (size_t i = 0; i < 3; i++) {
        uint8_t c = line.ptr[plen + i];
        if (c < '0' || c > '9') {
            return fail(why, "status code is not three digits");
        }
        status = status * 10 + (c - '0');
    }
    if (status < 100 || line.ptr[plen + 3] != ' ') {
        return fail(why, "status code out of range or not followed by a space");
    }
    out->status = status;
    out->reason = (struct ref_slice){line.ptr + plen + 4, line.len - plen - 4};
    for (size_t i = 0; i < out->reason.len; i++) {
        if (!is_field_byte(out->reason.ptr[i])) {
            return fail(why, "control byte in the reason phrase");
        }
    }
    return true;
}

static bool parse_header_line(struct ref_slice line, struct fuzz_response *out, const char **why)
{
    size_t colon = 0;
    while (colon < line.len && line.ptr[colon] != ':') {
        if (!fuzz_is_tchar(line.ptr[colon])) {
            return fail(why, "header name holds a non-token byte");
        }
        colon++;
    }
    if (colon == 0 || colon == line.len) {
        return fail(why, "header line without a name or a colon");
    }
    struct ref_slice value = {line.ptr + colon + 1, line.len - colon - 1};
    while (value.len > 0 && (value.ptr[0] == ' ' || value.ptr[0] == '\t')) {
        value.ptr++;
        value.len--;
    }
    while (value.len > 0 && (value.ptr[value.len - 1] == ' ' || value.ptr[value.len - 1] == '\t')) {
        value.len--;
    }
    for (size_t i = 0; i < value.len; i++) {
        if (!is_field_byte(value.ptr[i])) {
            return fail(why, "control byte in a header value");
        }
    }
    if (out->num_headers == FUZZ_MAX_RESPONSE_HEADERS) {
        return fail(why, "too many header lines");
    }
    out->headers[out->num_headers++] =
        (struct fuzz_response_header){.name = {line.ptr, colon}, .value = value};
    return true;
}

bool fuzz_parse_response(struct ref_slice raw, struct fuzz_response *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    struct ref_slice rest = raw;
    struct ref_slice line;
    if (!take_line(&rest, &line)) {
        return fail(why, "no CRLF after the status line");
    }
    if (!parse_status_line(line, out, why)) {
        return false;
    }
    for (;;) {
        if (!take_line(&rest, &line)) {
            return fail(why, "header block does not end with an empty line");
        }
        if (line.len == 0) {
            break;
        }
        if (!parse_header_line(line, out, why)) {
            return false;
        }
    }
    struct ref_slice cl;
    if (!fuzz_response_header(out, "content-length", &cl)) {
        return fail(why, "Content-Length missing or repeated");
    }
    uint64_t n = 0;
    if (!parse_decimal(cl, FUZZ_MAX_SLICE, &n)) {
        return fail(why, "Content-Length is not a decimal number");
    }
    if (n != rest.len) {
        return fail(why, "Content-Length differs from the bytes that follow the header block");
    }
    out->body = rest;
    return true;
}

size_t fuzz_response_count(const struct fuzz_response *r, const char *name)
{
    struct ref_slice want = {(const uint8_t *)name, strlen(name)};
    size_t n = 0;
    for (size_t i = 0; i < r->num_headers; i++) {
        if (fuzz_slice_eq_nocase(r->headers[i].name, want)) {
            n++;
        }
    }
    return n;
}

bool fuzz_response_header(const struct fuzz_response *r, const char *name, struct ref_slice *value)
{
    struct ref_slice want = {(const uint8_t *)name, strlen(name)};
    const struct fuzz_response_header *found = NULL;
    for (size_t i = 0; i < r->num_headers; i++) {
        if (fuzz_slice_eq_nocase(r->headers[i].name, want)) {
            if (found != NULL) {
                return false;
            }
            found = &r->headers[i];
        }
    }
    if (found == NULL) {
        return false;
    }
    *value = found->value;
    return true;
}

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool fuzz_is_uuid(struct ref_slice s)
{
    if (s.len != 36) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        bool dash_here = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash_here ? s.ptr[i] != '-' : !is_hex(s.ptr[i])) {
            return false;
        }
    }
    return true;
}

bool fuzz_is_contract_id(struct ref_slice s)
{
    if (s.len != 20 || s.ptr[13] != '-') {
        return false;
    }
    for (size_t i = 0; i < 13; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
    }
    for (size_t i = 14; i < 20; i++) {
        uint8_t c = s.ptr[i];
        bool word =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!word) {
            return false;
        }
    }
    return true;
}

/* --- An independent SigV4 canonical request ----------------------------------------- */

/* The largest request the oracle reads (the sign_verify target's inputs), and its own
 * arena for decoded and encoded query parts, reset per call. */
#define ORACLE_MAX_BYTES 16384
static uint8_t s_oracle_arena[32 * ORACLE_MAX_BYTES];
static size_t s_oracle_used;

static struct ref_slice oracle_keep(const void *p, size_t n)
{
    FUZZ_CHECK(n <= sizeof(s_oracle_arena) - s_oracle_used);
    uint8_t *dst = s_oracle_arena + s_oracle_used;
    if (n > 0) {
        memcpy(dst, p, n);
    }
    s_oracle_used += n;
    return (struct ref_slice){dst, n};
}

static int oracle_slice_cmp(const struct ref_slice *x, const struct ref_slice *y)
{
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n == 0 ? 0 : memcmp(x->ptr, y->ptr, n);
    if (c != 0) {
        return c;
    }
    return x->len < y->len ? -1 : (x->len > y->len ? 1 : 0);
}

/* The canonical request as contract section 5 and sigv4-notes.md describe it, written
 * slowly and plainly here so that the signer's own (sigv4_canon.c) has something to be
 * compared with. */

static bool oracle_unreserved(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void oracle_put(struct ref_buf *b, const void *p, size_t n)
{
    FUZZ_CHECK(ref_buf_append(b, p, n) == REF_OK);
}

static void oracle_encode(struct ref_buf *b, struct ref_slice s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (oracle_unreserved(c) || (keep_slash && c == '/')) {
            oracle_put(b, &c, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            oracle_put(b, esc, 3);
        }
    }
}

static int oracle_hex(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Percent-decodes s into the arena; false on a '%' without two hex digits. */
static bool oracle_decode(struct ref_slice s, struct ref_slice *out)
{
    uint8_t *dst = s_oracle_arena + s_oracle_used;
    size_t n = 0;
    FUZZ_CHECK(s.len <= sizeof(s_oracle_arena) - s_oracle_used);
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] != '%') {
            dst[n++] = s.ptr[i];
            continue;
        }
        if (s.len - i < 3 || oracle_hex(s.ptr[i + 1]) < 0 || oracle_hex(s.ptr[i + 2]) < 0) {
            return false;
        }
        dst[n++] = (uint8_t)(oracle_hex(s.ptr[i + 1]) * 16 + oracle_hex(s.ptr[i + 2]));
        i += 2;
    }
    s_oracle_used += n;
    *out = (struct ref_slice){dst, n};
    return true;
}

/* Path: drop empty and "." segments, ".." pops, keep a trailing slash when something is
 * left (the SDKs' normalisation), then encode every byte once more, '/' kept. */
static void oracle_path(struct ref_buf *b, struct ref_slice path)
{
    /* Static: a quarter of a megabyte on the stack was poisoned and unpoisoned by ASan on
     * every call. */
    static struct ref_slice segs[ORACLE_MAX_BYTES];
    size_t n = 0;
    size_t i = 0;
    while (i < path.len) {
        size_t j = i;
        while (j < path.len && path.ptr[j] != '/') {
            j++;
        }
        struct ref_slice seg = {path.ptr + i, j - i};
        if (fuzz_slice_eq_cstr(seg, "..")) {
            n = n > 0 ? n - 1 : 0;
        } else if (seg.len > 0 && !fuzz_slice_eq_cstr(seg, ".")) {
            segs[n++] = seg;
        }
        i = j + 1;
    }
    oracle_put(b, "/", 1);
    for (size_t k = 0; k < n; k++) {
        if (k > 0) {
            oracle_put(b, "/", 1);
        }
        oracle_encode(b, segs[k], false);
    }
    if (n > 0 && path.len > 0 && path.ptr[path.len - 1] == '/') {
        oracle_put(b, "/", 1);
    }
}

struct oracle_param {
    struct ref_slice name; /* encoded canonically */
    struct ref_slice value;
};

static int oracle_param_cmp(const void *a, const void *b)
{
    const struct oracle_param *x = a;
    const struct oracle_param *y = b;
    int c = oracle_slice_cmp(&x->name, &y->name);
    return c != 0 ? c : oracle_slice_cmp(&x->value, &y->value);
}

/* Query: non-empty '&' parts, split at the first '=', decoded, encoded again, sorted by
 * name then value, joined. False when an escape cannot be decoded. */
static bool oracle_query(struct ref_buf *b, struct ref_slice query)
{
    static struct oracle_param params[ORACLE_MAX_BYTES];
    size_t n = 0;
    size_t i = 0;
    while (i < query.len) {
        size_t j = i;
        while (j < query.len && query.ptr[j] != '&') {
            j++;
        }
        struct ref_slice part = {query.ptr + i, j - i};
        i = j + 1;
        if (part.len == 0) {
            continue;
        }
        size_t eq = 0;
        while (eq < part.len && part.ptr[eq] != '=') {
            eq++;
        }
        struct ref_slice raw_name = {part.ptr, eq};
        struct ref_slice raw_value = eq < part.len
                                         ? (struct ref_slice){part.ptr + eq + 1, part.len - eq - 1}
                                         : (struct ref_slice){NULL, 0};
        struct ref_slice name;
        struct ref_slice value;
        if (!oracle_decode(raw_name, &name) || !oracle_decode(raw_value, &value)) {
            return false;
        }
        static struct ref_buf enc = {.max = 3 * ORACLE_MAX_BYTES + 8};
        ref_buf_reset(&enc);
        oracle_encode(&enc, name, false);
        size_t name_len = enc.len;
        oracle_encode(&enc, value, false);
        struct ref_slice both = oracle_keep(enc.data, enc.len);
        params[n++] =
            (struct oracle_param){{both.ptr, name_len}, {both.ptr + name_len, both.len - name_len}};
    }
    qsort(params, n, sizeof(params[0]), oracle_param_cmp);
    for (size_t k = 0; k < n; k++) {
        if (k > 0) {
            oracle_put(b, "&", 1);
        }
        oracle_put(b, params[k].name.ptr, params[k].name.len);
        oracle_put(b, "=", 1);
        oracle_put(b, params[k].value.ptr, params[k].value.len);
    }
    return true;
}

/* One header value, trimmed, with every inner run of spaces and tabs made one space (what
 * botocore's ' '.join(v.split()) and the JS SDK's trim().replace(/\s+/g, " ") do for the
 * bytes an HTTP parser lets through). */
static void oracle_value(struct ref_buf *b, struct ref_slice v)
{
    bool pending_space = false;
    bool started = false;
    for (size_t i = 0; i < v.len; i++) {
        uint8_t c = v.ptr[i];
        if (c == ' ' || c == '\t') {
            pending_space = started;
            continue;
        }
        if (pending_space) {
            oracle_put(b, " ", 1);
            pending_space = false;
        }
        oracle_put(b, &c, 1);
        started = true;
    }
}

bool fuzz_sigv4_oracle_canonical(const struct ref_sigv4_request *m,
                                 const struct ref_sigv4_auth *auth,
                                 struct ref_buf *b)
{
    s_oracle_used = 0;
    oracle_put(b, m->method.ptr, m->method.len);
    oracle_put(b, "\n", 1);
    oracle_path(b, m->path);
    oracle_put(b, "\n", 1);
    if (!oracle_query(b, m->query)) {
        return false;
    }
    oracle_put(b, "\n", 1);
    for (size_t k = 0; k < auth->num_signed_headers; k++) {
        struct ref_slice name = auth->signed_headers[k];
        oracle_put(b, name.ptr, name.len);
        oracle_put(b, ":", 1);
        bool first = true;
        for (size_t i = 0; i < m->num_headers; i++) {
            if (fuzz_slice_eq_nocase(m->headers[i].name, name)) {
                if (!first) {
                    oracle_put(b, ",", 1);
                }
                oracle_value(b, m->headers[i].value);
                first = false;
            }
        }
        oracle_put(b, "\n", 1);
    }
    oracle_put(b, "\n", 1);
    oracle_put(b, auth->signed_headers_list.ptr, auth->signed_headers_list.len);
    oracle_put(b, "\n", 1);
    char hex[REF_SHA256_HEX_LEN];
    ref_sigv4_sha256_hex(m->body, hex);
    oracle_put(b, hex, sizeof(hex));
    return true;
}
