/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_auth.c - parsing the Authorization header value and the ISO-8601 basic date.
 *
 * Both parsers are purely syntactic and zero-copy: every slice they hand out borrows
 * from the caller's input, and an error carries the offset of the first byte that could
 * not be accepted. Whether the scope, the key or the signature are right is decided in
 * sigv4_verify.c, in the order of contract section 5.
 */
#include "ref/sigv4.h"

#include "sigv4_internal.h"

#include <assert.h>

/* Shared helpers (declared in sigv4_internal.h). */

int ref_sigv4_slice_cmp(struct ref_slice a, struct ref_slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < n; i++) {
        if (a.ptr[i] != b.ptr[i]) {
            return a.ptr[i] < b.ptr[i] ? -1 : 1;
        }
    }
    if (a.len == b.len) {
        return 0;
    }
    return a.len < b.len ? -1 : 1;
}

bool ref_sigv4_is_lower_hex64(struct ref_slice s)
{
    if (s.len != REF_SHA256_HEX_LEN) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* Authorization. */

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static size_t skip_ows(struct ref_slice s, size_t at)
{
    while (at < s.len && is_ows(s.ptr[at])) {
        at++;
    }
    return at;
}

static enum ref_status
incomplete(struct ref_parse_error *err, size_t offset, const char *where, const char *reason)
{
    return ref_parse_fail(err, REF_E_INCOMPLETE_SIGNATURE, offset, where, reason);
}

/* "AKID/date/region/service/aws4_request": exactly five parts. Empty parts are left to
 * the semantic checks (an empty region is a wrong region, not a missing one). */
static enum ref_status parse_credential(struct ref_slice value,
                                        size_t value_off,
                                        struct ref_sigv4_auth *out,
                                        struct ref_parse_error *err)
{
    struct ref_slice parts[5];
    struct ref_slice rest = value;
    size_t n = 0;
    bool more = true;
    while (more) {
        struct ref_slice tok;
        more = ref_slice_split(&rest, '/', &tok);
        if (n == 5) {
            return incomplete(err, value_off + (size_t)(tok.ptr - value.ptr) - 1,
                              "authorization.credential",
                              "credential has more than 5 '/'-separated parts");
        }
        parts[n++] = tok;
    }
    if (n != 5) {
        return incomplete(err, value_off + value.len, "authorization.credential",
                          "credential has fewer than 5 '/'-separated parts");
    }
    out->credential = value;
    out->access_key_id = parts[0];
    out->scope = ref_slice_sub(value, parts[0].len + 1, value.len);
    out->scope_date = parts[1];
    out->scope_region = parts[2];
    out->scope_service = parts[3];
    out->scope_terminator = parts[4];
    return REF_OK;
}

/* "a;b;c" kept exactly as sent, empty entries included: a list that is not lower case,
 * sorted and unique must make the signature mismatch, not be silently repaired. */
static enum ref_status parse_signed_headers(struct ref_slice value,
                                            size_t value_off,
                                            struct ref_sigv4_auth *out,
                                            struct ref_parse_error *err)
{
    struct ref_slice rest = value;
    bool more = true;
    out->num_signed_headers = 0;
    while (more) {
        struct ref_slice tok;
        more = ref_slice_split(&rest, ';', &tok);
        if (out->num_signed_headers == REF_MAX_SIGNED_HEADERS) {
            return ref_parse_fail(err, REF_E_TOO_LARGE, value_off + (size_t)(tok.ptr - value.ptr),
                                  "authorization.signed_headers",
                                  "more than REF_MAX_SIGNED_HEADERS signed headers");
        }
        out->signed_headers[out->num_signed_headers++] = tok;
    }
    out->signed_headers_list = value;
    return REF_OK;
}

enum ref_status ref_sigv4_parse_authorization(struct ref_slice value,
                                              struct ref_sigv4_auth *out,
                                              struct ref_parse_error *err)
{
    const struct ref_slice algorithm = REF_SLICE_LIT(REF_SIGV4_ALGORITHM " ");
    assert(ref_slice_is_valid(value));
    *out = (struct ref_sigv4_auth){0};
    if (value.len > REF_MAX_AUTHORIZATION_BYTES) {
        return ref_parse_fail(err, REF_E_TOO_LARGE, REF_MAX_AUTHORIZATION_BYTES, "authorization",
                              "longer than REF_MAX_AUTHORIZATION_BYTES");
    }
    if (!ref_slice_starts_with(value, algorithm)) {
        return incomplete(err, 0, "authorization.algorithm", "expected 'AWS4-HMAC-SHA256 '");
    }
    out->algorithm = ref_slice_sub(value, 0, algorithm.len - 1);

    bool have_credential = false;
    bool have_signed_headers = false;
    bool have_signature = false;
    size_t at = skip_ows(value, algorithm.len);
    if (at == value.len) {
        return incomplete(err, at, "authorization",
                          "expected 'Credential=', 'SignedHeaders=' and 'Signature='");
    }
    while (at < value.len) {
        size_t name_start = at;
        /* The component ends at the next ',' (or the end); its name at the first '=' before
         * that. memchr finds both faster than a loop over every byte. */
        struct ref_slice rest = ref_slice_sub(value, at, value.len - at);
        size_t comma = at + ref_slice_find(rest, ',');
        at += ref_slice_find(ref_slice_sub(rest, 0, comma - at), '=');
        if (at == comma) {
            return incomplete(err, at, "authorization.component",
                              "expected '=' after the component name");
        }
        struct ref_slice name = ref_slice_sub(value, name_start, at - name_start);
        size_t value_start = ++at;
        at = comma;
        struct ref_slice comp =
            ref_slice_trim_ows(ref_slice_sub(value, value_start, at - value_start));
        if (comp.len > 0) {
            value_start = (size_t)(comp.ptr - value.ptr);
        }
        bool *seen;
        const char *where;
        if (ref_slice_eq_cstr(name, "Credential")) {
            seen = &have_credential;
            where = "authorization.credential";
        } else if (ref_slice_eq_cstr(name, "SignedHeaders")) {
            seen = &have_signed_headers;
            where = "authorization.signed_headers";
        } else if (ref_slice_eq_cstr(name, "Signature")) {
            seen = &have_signature;
            where = "authorization.signature";
        } else {
            return incomplete(err, name_start, "authorization.component",
                              "expected 'Credential', 'SignedHeaders' or 'Signature'");
        }
        if (*seen) {
            return incomplete(err, name_start, where, "component repeated");
        }
        *seen = true;
        if (comp.len == 0) {
            return incomplete(err, value_start, where, "component value is empty");
        }
        if (seen == &have_credential) {
            REF_TRY(parse_credential(comp, value_start, out, err));
        } else if (seen == &have_signed_headers) {
            REF_TRY(parse_signed_headers(comp, value_start, out, err));
        } else {
            out->signature = comp;
        }
        if (at < value.len) {
            /* The separator is "," or ", " (clients differ); a trailing comma leaves an
             * empty component, which is an error rather than something to skip. */
            at = skip_ows(value, at + 1);
            if (at == value.len) {
                return incomplete(err, at, "authorization.component", "empty component after ','");
            }
        }
    }
    if (!have_credential) {
        return incomplete(err, value.len, "authorization.credential", "missing 'Credential='");
    }
    if (!have_signed_headers) {
        return incomplete(err, value.len, "authorization.signed_headers",
                          "missing 'SignedHeaders='");
    }
    if (!have_signature) {
        return incomplete(err, value.len, "authorization.signature", "missing 'Signature='");
    }
    return REF_OK;
}

/* Dates. Days are counted with the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil), which needs no time zone and no libc time functions. */

static bool is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t days_in_month(int64_t y, int64_t m)
{
    static const int64_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap_year(y)) ? 29 : days[m - 1];
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2 ? 1 : 0;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

/* The digits at [from, from+n) as a number; false (with *bad at the offending byte) when
 * one is not a digit. */
static bool read_digits(struct ref_slice s, size_t from, size_t n, int64_t *v, size_t *bad)
{
    int64_t acc = 0;
    for (size_t i = from; i < from + n; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            *bad = i;
            return false;
        }
        acc = acc * 10 + (s.ptr[i] - '0');
    }
    *v = acc;
    return true;
}

enum ref_status
ref_sigv4_parse_amz_date(struct ref_slice s, int64_t *unix_s, struct ref_parse_error *err)
{
    static const char *const where = "amz_date";
    static const char *const shape = "expected YYYYMMDDTHHMMSSZ";
    assert(ref_slice_is_valid(s));
    /* Scan the shape left to right first, so the first wrong byte is the one reported. */
    static const char pattern[] = "DDDDDDDDTDDDDDDZ";
    for (size_t i = 0; i < 16; i++) {
        if (i == s.len) {
            return ref_parse_fail(err, REF_E_MALFORMED, i, where, shape);
        }
        bool ok = pattern[i] == 'D' ? (s.ptr[i] >= '0' && s.ptr[i] <= '9')
                                    : s.ptr[i] == (uint8_t)pattern[i];
        if (!ok) {
            return ref_parse_fail(err, REF_E_MALFORMED, i, where, shape);
        }
    }
    if (s.len != 16) {
        return ref_parse_fail(err, REF_E_MALFORMED, 16, where, "unexpected bytes after 'Z'");
    }
    int64_t year, month, day, hour, minute, second;
    size_t bad = 0;
    /* The shape check above guarantees digits; read_digits cannot fail here. */
    if (!read_digits(s, 0, 4, &year, &bad) || !read_digits(s, 4, 2, &month, &bad) ||
        !read_digits(s, 6, 2, &day, &bad) || !read_digits(s, 9, 2, &hour, &bad) ||
        !read_digits(s, 11, 2, &minute, &bad) || !read_digits(s, 13, 2, &second, &bad)) {
        return ref_parse_fail(err, REF_E_MALFORMED, bad, where, shape);
    }
    if (month < 1 || month > 12) {
        return ref_parse_fail(err, REF_E_MALFORMED, 4, where, "month is not 01..12");
    }
    if (day < 1 || day > days_in_month(year, month)) {
        return ref_parse_fail(err, REF_E_MALFORMED, 6, where, "day is not valid for the month");
    }
    if (hour > 23) {
        return ref_parse_fail(err, REF_E_MALFORMED, 9, where, "hour is not 00..23");
    }
    if (minute > 59) {
        return ref_parse_fail(err, REF_E_MALFORMED, 11, where, "minute is not 00..59");
    }
    /* No leap seconds: SigV4 timestamps never carry :60. */
    if (second > 59) {
        return ref_parse_fail(err, REF_E_MALFORMED, 13, where, "second is not 00..59");
    }
    *unix_s = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    return REF_OK;
}

static void put_digits(char *out, int64_t v, size_t n)
{
    for (size_t i = n; i > 0; i--) {
        out[i - 1] = (char)('0' + (v % 10));
        v /= 10;
    }
}

void ref_sigv4_format_amz_date(int64_t unix_s, char out[17])
{
    /* Only years 0000..9999 have a four-digit form; clamp rather than write garbage. */
    const int64_t min_s = days_from_civil(0, 1, 1) * 86400;
    const int64_t max_s = days_from_civil(9999, 12, 31) * 86400 + 86399;
    if (unix_s < min_s) {
        unix_s = min_s;
    } else if (unix_s > max_s) {
        unix_s = max_s;
    }
    int64_t days = unix_s / 86400;
    int64_t secs = unix_s % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    put_digits(out, y, 4);
    put_digits(out + 4, m, 2);
    put_digits(out + 6, d, 2);
    out[8] = 'T';
    put_digits(out + 9, secs / 3600, 2);
    put_digits(out + 11, (secs / 60) % 60, 2);
    put_digits(out + 13, secs % 60, 2);
    out[15] = 'Z';
    out[16] = '\0';
}
