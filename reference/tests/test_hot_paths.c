/* SPDX-License-Identifier: Apache-2.0
 *
 * test_hot_paths.c - the shortcuts taken for speed give exactly what the general code
 * gives: the parser's field-line scans (a byte table for names, eight bytes at a time for
 * values) against the grammar, byte value by byte value and at every alignment, the
 * canonical path taken as sent against normalising and encoding it, and the case-blind
 * comparison of names and the lower-casing of signed names (eight bytes at a time) against
 * ASCII lower-casing byte by byte, and percent-encoding and decoding (tables, a scan for
 * '%' eight bytes at a time, whole entries stored ahead) against a byte-by-byte model,
 * into buffers of exactly the result's size.
 */
#include "test_util.h"

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/sigv4.h"
#include "ref/uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_BYTES 21 /* crosses two 8-byte boundaries wherever it starts */
#define NAME_BYTES  19

static bool model_is_tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool model_is_field_byte(uint8_t c)
{
    return c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}

/* "GET / HTTP/1.1\r\nHost: h\r\n<name>: <value>\r\n\r\n" */
static size_t build(uint8_t *out, const uint8_t *name, size_t name_len, const uint8_t *value)
{
    static const char head[] = "GET / HTTP/1.1\r\nHost: h\r\n";
    size_t n = 0;
    memcpy(out, head, sizeof head - 1);
    n += sizeof head - 1;
    memcpy(out + n, name, name_len);
    n += name_len;
    memcpy(out + n, ": ", 2);
    n += 2;
    memcpy(out + n, value, VALUE_BYTES);
    n += VALUE_BYTES;
    memcpy(out + n, "\r\n\r\n", 4);
    return n + 4;
}

static void test_hot_paths_field_value_every_byte(void **state)
{
    (void)state;
    static const char head[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Value: ";
    for (unsigned b = 0; b < 256; b++) {
        for (size_t at = 0; at < VALUE_BYTES; at++) {
            uint8_t value[VALUE_BYTES];
            memset(value, 'v', sizeof value);
            value[at] = (uint8_t)b;
            uint8_t raw[256];
            size_t len = build(raw, (const uint8_t *)"X-Value", 7, value);
            struct ref_http_request req;
            struct ref_parse_error err = {0};
            enum ref_status rc = ref_http_parse_request(ref_slice_make(raw, len), &req, NULL, &err);
            size_t pos = sizeof head - 1 + at;
            if (model_is_field_byte((uint8_t)b)) {
                assert_int_equal(rc, REF_OK);
                assert_int_equal(req.num_headers, 2);
                /* Surrounding whitespace is trimmed; inner bytes are kept as sent. */
                struct ref_slice want = ref_slice_trim_ows(ref_slice_make(value, VALUE_BYTES));
                assert_true(ref_slice_eq(req.headers[1].value, want));
            } else {
                assert_int_equal(rc, REF_E_MALFORMED);
                /* A CR in a value is taken as the line end, then missing its LF. */
                assert_int_equal(err.offset, b == '\r' ? pos + 1 : pos);
            }
        }
    }
}

static void test_hot_paths_field_name_every_byte(void **state)
{
    (void)state;
    static const char head[] = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (unsigned b = 0; b < 256; b++) {
        for (size_t at = 0; at < NAME_BYTES; at++) {
            uint8_t name[NAME_BYTES];
            memset(name, 'n', sizeof name);
            name[at] = (uint8_t)b;
            uint8_t value[VALUE_BYTES];
            memset(value, 'v', sizeof value);
            uint8_t raw[256];
            size_t len = build(raw, name, sizeof name, value);
            struct ref_http_request req;
            struct ref_parse_error err = {0};
            enum ref_status rc = ref_http_parse_request(ref_slice_make(raw, len), &req, NULL, &err);
            size_t pos = sizeof head - 1 + at;
            if (model_is_tchar((uint8_t)b)) {
                assert_int_equal(rc, REF_OK);
                assert_true(ref_slice_eq(req.headers[1].name, ref_slice_make(name, sizeof name)));
            } else if (b == ':' && at > 0) {
                /* The name ends early; the rest of it opens the value. */
                assert_int_equal(rc, REF_OK);
                assert_int_equal(req.headers[1].name.len, at);
            } else {
                assert_int_not_equal(rc, REF_OK);
                /* A CR that starts the line ends the header section, then lacks its LF. */
                assert_int_equal(err.offset, b == '\r' && at == 0 ? pos + 1 : pos);
            }
        }
    }
}

/* Line 2 of the canonical request of a GET of `path`. */
static void canonical_uri(struct ref_slice path, struct ref_buf *out)
{
    struct ref_sigv4_request req = {.method = REF_SLICE_LIT("GET"), .path = path};
    struct ref_buf creq;
    ref_buf_init(&creq, 1 << 16);
    assert_int_equal(ref_sigv4_canonical_request(&req, NULL, 0, REF_SLICE_LIT("h"), &creq, NULL),
                     REF_OK);
    struct ref_slice rest = ref_buf_slice(&creq);
    struct ref_slice line;
    (void)ref_slice_split(&rest, '\n', &line);
    (void)ref_slice_split(&rest, '\n', &line);
    assert_int_equal(ref_buf_append_slice(out, line), REF_OK);
    ref_buf_cleanup(&creq);
}

static void test_hot_paths_canonical_path(void **state)
{
    (void)state;
    static const uint8_t alphabet[] = {'/', '/', '/', '.', '.', 'a', 'Z',  '0', '-',
                                       '~', '_', '%', '2', 'F', ' ', 0xC3, '+'};
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
    for (int n = 0; n < 200000; n++) {
        uint8_t path[16];
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        size_t len = (size_t)((x * UINT64_C(2685821657736338717)) >> 60);
        for (size_t i = 0; i < len; i++) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            path[i] = alphabet[((x * UINT64_C(2685821657736338717)) >> 40) % sizeof alphabet];
        }
        /* Paths that start with '/' are the common case; test others too. */
        if (n % 4 != 0 && len > 0) {
            path[0] = '/';
        }
        struct ref_slice p = ref_slice_make(path, len);
        struct ref_buf normal, want, got;
        ref_buf_init(&normal, 1024);
        ref_buf_init(&want, 1024);
        ref_buf_init(&got, 1024);
        assert_int_equal(ref_uri_normalize_path(p, &normal), REF_OK);
        assert_int_equal(ref_uri_encode(ref_buf_slice(&normal), true, &want), REF_OK);
        canonical_uri(p, &got);
        if (!ref_slice_eq(ref_buf_slice(&got), ref_buf_slice(&want))) {
            fail_msg("path '%.*s': canonical '%.*s', want '%.*s'", (int)len, (const char *)path,
                     (int)got.len, (const char *)got.data, (int)want.len, (const char *)want.data);
        }
        ref_buf_cleanup(&normal);
        ref_buf_cleanup(&want);
        ref_buf_cleanup(&got);
    }
}

static uint8_t model_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

/* Every pair of byte values, at every position of every length up to EQ_NOCASE_BYTES, in
 * slices whose other bytes differ in case only: equal exactly when the pair is. */
#define EQ_NOCASE_BYTES 21

static void test_hot_paths_eq_nocase_every_byte(void **state)
{
    (void)state;
    static const char filler_a[] = "Content-Type-X-Amz-Date";
    static const char filler_b[] = "cONTENT-tYPE-x-aMZ-dATE";
    uint8_t a[EQ_NOCASE_BYTES];
    uint8_t b[EQ_NOCASE_BYTES];
    for (size_t len = 1; len <= EQ_NOCASE_BYTES; len++) {
        memcpy(a, filler_a, len);
        memcpy(b, filler_b, len);
        assert_true(ref_slice_eq_nocase(ref_slice_make(a, len), ref_slice_make(b, len)));
        for (size_t at = 0; at < len; at++) {
            for (unsigned x = 0; x < 256; x++) {
                for (unsigned y = 0; y < 256; y++) {
                    a[at] = (uint8_t)x;
                    b[at] = (uint8_t)y;
                    bool want = model_lower((uint8_t)x) == model_lower((uint8_t)y);
                    if (ref_slice_eq_nocase(ref_slice_make(a, len), ref_slice_make(b, len)) !=
                        want) {
                        fail_msg("bytes 0x%02x and 0x%02x at %zu of %zu: want %s", x, y, at, len,
                                 want ? "equal" : "different");
                    }
                }
            }
            a[at] = (uint8_t)filler_a[at];
            b[at] = (uint8_t)filler_b[at];
        }
    }
    /* Lengths must agree; empty slices are equal. */
    assert_false(ref_slice_eq_nocase(ref_slice_make(a, 3), ref_slice_make(b, 4)));
    assert_true(ref_slice_eq_nocase(ref_slice_make(NULL, 0), ref_slice_make(b, 0)));
}

/* A signed name goes into the canonical headers lower-cased (and into SignedHeaders as
 * given): every byte value at every position of every length up to EQ_NOCASE_BYTES. */
static void test_hot_paths_lower_signed_name_every_byte(void **state)
{
    (void)state;
    static const char filler[] = "Content-Type-X-Amz-Date";
    struct ref_sigv4_request req = {.method = REF_SLICE_LIT("GET"), .path = REF_SLICE_LIT("/")};
    uint8_t name[EQ_NOCASE_BYTES];
    char want[4 * EQ_NOCASE_BYTES + 64];
    struct ref_buf got;
    ref_buf_init(&got, 1024);
    for (size_t len = 1; len <= EQ_NOCASE_BYTES; len++) {
        memcpy(name, filler, len);
        for (size_t at = 0; at < len; at++) {
            for (unsigned x = 0; x < 256; x++) {
                name[at] = (uint8_t)x;
                size_t n = 0;
                memcpy(want + n, "GET\n/\n\n", 7);
                n += 7;
                for (size_t i = 0; i < len; i++) {
                    want[n++] = (char)model_lower(name[i]);
                }
                memcpy(want + n, ":\n\n", 3);
                n += 3;
                memcpy(want + n, name, len);
                n += len;
                memcpy(want + n, "\nHASH", 5);
                n += 5;
                struct ref_slice signed_name = ref_slice_make(name, len);
                ref_buf_reset(&got);
                assert_int_equal(ref_sigv4_canonical_request(&req, &signed_name, 1,
                                                             REF_SLICE_LIT("HASH"), &got, NULL),
                                 REF_OK);
                if (got.len != n || memcmp(got.data, want, n) != 0) {
                    fail_msg("byte 0x%02x at %zu of %zu: '%.*s', want '%.*s'", x, at, len,
                             (int)got.len, (const char *)got.data, (int)n, want);
                }
            }
            name[at] = (uint8_t)filler[at];
        }
    }
    ref_buf_cleanup(&got);
}

static bool model_is_unreserved(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static int model_hex(uint8_t c)
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

/* Byte-by-byte percent-decoding: the decoded length, or -1 with *bad at the first '%'
 * without two hex digits. */
static long model_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *bad)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '%') {
            out[n++] = in[i];
            continue;
        }
        if (len - i < 3 || model_hex(in[i + 1]) < 0 || model_hex(in[i + 2]) < 0) {
            *bad = i;
            return -1;
        }
        out[n++] = (uint8_t)(model_hex(in[i + 1]) * 16 + model_hex(in[i + 2]));
        i += 2;
    }
    return (long)n;
}

#define URI_BYTES 19 /* crosses two 8-byte boundaries wherever it starts */

/* Every byte value at every position of every length up to URI_BYTES, among bytes that
 * make escapes (valid and not) around it; each result goes into a heap block of exactly
 * its size, so that a write past it is caught under ASan. */
static void test_hot_paths_uri_encode_decode_every_byte(void **state)
{
    (void)state;
    static const char filler[] = "a%4F/%2f~%g%%41 -Z%e";
    for (size_t len = 1; len <= URI_BYTES; len++) {
        for (size_t at = 0; at < len; at++) {
            for (unsigned b = 0; b < 256; b++) {
                uint8_t in[URI_BYTES];
                memcpy(in, filler, len);
                in[at] = (uint8_t)b;
                for (int keep = 0; keep < 2; keep++) {
                    uint8_t want[3 * URI_BYTES];
                    size_t n = 0;
                    for (size_t i = 0; i < len; i++) {
                        if (model_is_unreserved(in[i]) || (keep && in[i] == '/')) {
                            want[n++] = in[i];
                        } else {
                            n += (size_t)snprintf((char *)want + n, 4, "%%%02X", in[i]);
                        }
                    }
                    uint8_t *block = malloc(n);
                    assert_non_null(block);
                    struct ref_buf enc;
                    ref_buf_init_fixed(&enc, block, n);
                    assert_int_equal(ref_uri_encode(ref_slice_make(in, len), keep, &enc), REF_OK);
                    assert_int_equal(enc.len, n);
                    assert_memory_equal(enc.data, want, n);
                    uint8_t *back_block = malloc(len);
                    assert_non_null(back_block);
                    struct ref_buf back;
                    ref_buf_init_fixed(&back, back_block, len);
                    struct ref_parse_error err = {0};
                    assert_int_equal(ref_uri_decode(ref_buf_slice(&enc), &back, &err), REF_OK);
                    assert_int_equal(back.len, len);
                    assert_memory_equal(back.data, in, len);
                    free(back_block);
                    free(block);
                }
                uint8_t want[URI_BYTES];
                size_t bad = 0;
                long n = model_decode(in, len, want, &bad);
                uint8_t *block = malloc(n > 0 ? (size_t)n : 1);
                assert_non_null(block);
                struct ref_buf dec;
                ref_buf_init_fixed(&dec, block, n > 0 ? (size_t)n : 0);
                struct ref_parse_error err = {0};
                enum ref_status rc = ref_uri_decode(ref_slice_make(in, len), &dec, &err);
                if (n < 0) {
                    assert_int_equal(rc, REF_E_MALFORMED);
                    assert_int_equal(err.offset, bad);
                    assert_int_equal(dec.len, 0);
                } else {
                    assert_int_equal(rc, REF_OK);
                    assert_int_equal(dec.len, (size_t)n);
                    assert_memory_equal(dec.data, want, (size_t)n);
                }
                free(block);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hot_paths_field_value_every_byte),
        cmocka_unit_test(test_hot_paths_field_name_every_byte),
        cmocka_unit_test(test_hot_paths_canonical_path),
        cmocka_unit_test(test_hot_paths_eq_nocase_every_byte),
        cmocka_unit_test(test_hot_paths_lower_signed_name_every_byte),
        cmocka_unit_test(test_hot_paths_uri_encode_decode_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
