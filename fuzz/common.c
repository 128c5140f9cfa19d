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
