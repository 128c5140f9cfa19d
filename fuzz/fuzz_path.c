/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_path.c - the request target: path normalisation, routing, label decoding, Id
 * validation and query splitting.
 *
 * Target functions: ref_uri_normalize_path, ref_route_match, ref_uri_decode, ref_uri_encode,
 * ref_uri_split_query, ref_job_id_is_valid.
 *
 * Input: "METHOD SP request-target" (a file per line of an access log, as it were); without
 * a space the whole input is the target and the method is DELETE.
 *
 * Invariants (abort() on violation):
 * - normalisation always succeeds; its output is never empty, holds no "//" and no "." or
 *   ".." segment, is at most one byte longer than the path, and is a fixed point
 *   (normalising it again changes nothing); for a path starting with '/' it is exactly what
 *   both SDK families sign (an oracle here, after botocore's remove_dot_segments and
 *   @smithy/signature-v4: empty and "." segments dropped, ".." pops, a trailing slash kept
 *   only when the path had one and a segment is left);
 * - routing answers REF_OK, REF_E_INCOMPATIBLE_VERSION or REF_E_UNKNOWN_OPERATION; on the
 *   first two the method and the path are exactly those of the operation's row in contract
 *   section 1 (with 2012-09-25, or another version segment, in front) and the label lies
 *   inside the path; conversely every path that fits a row with a non-empty label routes
 *   to that row (an oracle table written here from the contract, not from router.c);
 * - decoding a label fails only at the first '%' not followed by two hex digits, shrinks
 *   the label by two bytes per escape, and decode(encode(x)) == x for the decoded bytes and
 *   for the raw path; encoding emits only unreserved bytes and upper-case %XX escapes;
 * - ref_job_id_is_valid agrees with the contract's ^\d{13}-\w{6}$ on the decoded label;
 * - splitting the query yields exactly its non-empty '&' parts, in order, each split at its
 *   first '=', all inside the query, or REF_E_TOO_LARGE when there are more than the cap.
 */
#include "common.h"

#include "ref/buf.h"
#include "ref/job_store.h"
#include "ref/limits.h"
#include "ref/router.h"
#include "ref/uri.h"

#include <string.h>

/* Contract section 1, transcribed independently of router.c: the method and the path
 * after the version segment, with the label (if any) between prefix and suffix. */
struct op_row {
    enum ref_op op;
    const char *method;
    const char *prefix;
    bool has_label;
    const char *suffix;
};

static const struct op_row s_rows[] = {
    {REF_OP_CANCEL_JOB, "DELETE", "/jobs/", true, ""},
    {REF_OP_CREATE_JOB, "POST", "/jobs", false, ""},
    {REF_OP_READ_JOB, "GET", "/jobs/", true, ""},
    {REF_OP_LIST_JOBS_BY_PIPELINE, "GET", "/jobsByPipeline/", true, ""},
    {REF_OP_LIST_JOBS_BY_STATUS, "GET", "/jobsByStatus/", true, ""},
    {REF_OP_CREATE_PIPELINE, "POST", "/pipelines", false, ""},
    {REF_OP_READ_PIPELINE, "GET", "/pipelines/", true, ""},
    {REF_OP_LIST_PIPELINES, "GET", "/pipelines", false, ""},
    {REF_OP_UPDATE_PIPELINE_STATUS, "POST", "/pipelines/", true, "/status"},
    {REF_OP_DELETE_PIPELINE, "DELETE", "/pipelines/", true, ""},
};

#define NUM_ROWS (sizeof(s_rows) / sizeof(s_rows[0]))

static size_t find_byte(struct ref_slice s, uint8_t c)
{
    const uint8_t *p = s.len == 0 ? NULL : memchr(s.ptr, c, s.len);
    return p == NULL ? s.len : (size_t)(p - s.ptr);
}

static bool starts_with(struct ref_slice s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && memcmp(s.ptr, prefix, n) == 0;
}

static bool ends_with(struct ref_slice s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && memcmp(s.ptr + s.len - n, suffix, n) == 0;
}

/* Does rest (the path after the version segment) fit the row? Sets *label on a fit. */
static bool row_fits(const struct op_row *row, struct ref_slice rest, struct ref_slice *label)
{
    if (!row->has_label) {
        *label = (struct ref_slice){NULL, 0};
        return fuzz_slice_eq_cstr(rest, row->prefix);
    }
    size_t pre = strlen(row->prefix);
    size_t suf = strlen(row->suffix);
    if (rest.len < pre + suf || !starts_with(rest, row->prefix) || !ends_with(rest, row->suffix)) {
        return false;
    }
    struct ref_slice l = {rest.ptr + pre, rest.len - pre - suf};
    if (find_byte(l, '/') != l.len) {
        return false;
    }
    *label = l;
    return true;
}

static const struct op_row *row_of(enum ref_op op)
{
    for (size_t i = 0; i < NUM_ROWS; i++) {
        if (s_rows[i].op == op) {
            return &s_rows[i];
        }
    }
    return NULL;
}

/* "." and "..", compared byte by byte: these run once per segment, and a memcmp that
 * differs (most do) also runs libFuzzer's memcmp hook. */
static bool is_dot(struct ref_slice seg)
{
    return seg.len == 1 && seg.ptr[0] == '.';
}

static bool is_dot_dot(struct ref_slice seg)
{
    return seg.len == 2 && seg.ptr[0] == '.' && seg.ptr[1] == '.';
}

static bool is_dot_segment(struct ref_slice seg)
{
    return is_dot(seg) || is_dot_dot(seg);
}

/* The last '/'-separated segment of s (all of s when it has no '/'). */
static struct ref_slice last_segment(struct ref_slice s)
{
    size_t i = s.len;
    while (i > 0 && s.ptr[i - 1] != '/') {
        i--;
    }
    return (struct ref_slice){s.ptr + i, s.len - i};
}

static void normalize_or_die(struct ref_slice path, struct ref_buf *out)
{
    ref_buf_init(out, 2 * path.len + 16);
    FUZZ_CHECK(ref_uri_normalize_path(path, out) == REF_OK);
}

/* The normalisation both SDK families apply before signing (botocore
 * remove_dot_segments, @smithy/signature-v4 getCanonicalPath; sigv4-notes.md): drop empty
 * and "." segments, let ".." drop the segment before it, join with '/', and keep a
 * trailing slash only when the path had one and something is left. For paths that start
 * with '/', which every origin-form request target does, at most REF_MAX_TARGET_BYTES
 * long. Written with plain copies into out (room for path.len + 1 bytes), not with the
 * reference's buffers, which the oracle has no need to share: their checked appends, one
 * or two per segment, were a tenth of this target's time. Returns the length. */
static size_t oracle_normalize(struct ref_slice path, uint8_t *out)
{
    static size_t starts[REF_MAX_TARGET_BYTES + 1];
    static size_t lens[REF_MAX_TARGET_BYTES + 1];
    size_t n = 0;
    size_t i = 0;
    while (i < path.len) {
        size_t j = i;
        while (j < path.len && path.ptr[j] != '/') {
            j++;
        }
        struct ref_slice seg = {path.ptr + i, j - i};
        if (is_dot_dot(seg)) {
            n = n > 0 ? n - 1 : 0;
        } else if (seg.len > 0 && !is_dot(seg)) {
            starts[n] = i;
            lens[n] = seg.len;
            n++;
        }
        i = j + 1;
    }
    size_t len = 0;
    out[len++] = '/';
    for (size_t k = 0; k < n; k++) {
        if (k > 0) {
            out[len++] = '/';
        }
        memcpy(out + len, path.ptr + starts[k], lens[k]);
        len += lens[k];
    }
    if (n > 0 && path.ptr[path.len - 1] == '/') {
        out[len++] = '/';
    }
    return len;
}

static void check_normalized(struct ref_slice path, struct ref_slice norm)
{
    FUZZ_CHECK(norm.len > 0);
    FUZZ_CHECK(norm.len <= path.len + 1);
    for (size_t i = 0; i + 1 < norm.len; i++) {
        FUZZ_CHECK(!(norm.ptr[i] == '/' && norm.ptr[i + 1] == '/'));
    }
    struct ref_slice rest = norm;
    while (rest.len > 0) {
        size_t cut = find_byte(rest, '/');
        FUZZ_CHECK(!is_dot_segment((struct ref_slice){rest.ptr, cut}));
        rest = cut == rest.len ? (struct ref_slice){NULL, 0}
                               : (struct ref_slice){rest.ptr + cut + 1, rest.len - cut - 1};
    }
    if (path.len > 0 && path.ptr[0] == '/') {
        FUZZ_CHECK(norm.ptr[0] == '/');
        if (path.len <= REF_MAX_TARGET_BYTES) {
            static uint8_t want[REF_MAX_TARGET_BYTES + 1];
            size_t want_len = oracle_normalize(path, want);
            FUZZ_CHECK(fuzz_slice_eq((struct ref_slice){want, want_len}, norm));
        }
    }

    struct ref_buf again;
    normalize_or_die(norm, &again);
    FUZZ_CHECK(fuzz_slice_eq(ref_buf_slice(&again), norm));
    ref_buf_cleanup(&again);
}

/* Routes norm and checks the answer; returns it, with *route filled, for the label checks. */
static enum ref_status
check_route(struct ref_slice method, struct ref_slice norm, struct ref_route *route)
{
    enum ref_status rc = ref_route_match(method, norm, route);
    FUZZ_CHECK(rc == REF_OK || rc == REF_E_INCOMPATIBLE_VERSION || rc == REF_E_UNKNOWN_OPERATION);

    /* Split "/<version><rest>" the way the contract reads a path. */
    bool has_version = norm.len > 0 && norm.ptr[0] == '/';
    struct ref_slice version = {NULL, 0};
    struct ref_slice rest = {NULL, 0};
    if (has_version) {
        struct ref_slice after = {norm.ptr + 1, norm.len - 1};
        size_t cut = find_byte(after, '/');
        version = (struct ref_slice){after.ptr, cut};
        rest = (struct ref_slice){after.ptr + cut, after.len - cut};
    }

    if (rc == REF_OK || rc == REF_E_INCOMPATIBLE_VERSION) {
        const struct op_row *row = row_of(route->op);
        FUZZ_CHECK(row != NULL);
        FUZZ_CHECK(has_version);
        FUZZ_CHECK(fuzz_slice_eq_cstr(method, row->method));
        struct ref_slice label;
        FUZZ_CHECK(row_fits(row, rest, &label));
        FUZZ_CHECK(fuzz_slice_eq(route->label, label));
        FUZZ_CHECK(fuzz_slice_inside(route->label, norm.ptr, norm.len));
        FUZZ_CHECK(fuzz_slice_eq_cstr(version, REF_API_VERSION) == (rc == REF_OK));
        return rc;
    }

    /* Unknown operation: no row may fit with the right version and a non-empty label
     * (an empty label is the router's choice, contract section 8). */
    if (!has_version || !fuzz_slice_eq_cstr(version, REF_API_VERSION)) {
        return rc;
    }
    for (size_t i = 0; i < NUM_ROWS; i++) {
        struct ref_slice label;
        if (fuzz_slice_eq_cstr(method, s_rows[i].method) && row_fits(&s_rows[i], rest, &label)) {
            FUZZ_CHECK(s_rows[i].has_label && label.len == 0);
        }
    }
    return rc;
}

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_unreserved(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Offset of the first '%' that does not start a valid escape, or s.len; *escapes counts
 * the valid escapes before it. */
static size_t first_bad_escape(struct ref_slice s, size_t *escapes)
{
    *escapes = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] != '%') {
            continue;
        }
        if (s.len - i < 3 || !is_hex(s.ptr[i + 1]) || !is_hex(s.ptr[i + 2])) {
            return i;
        }
        (*escapes)++;
        i += 2;
    }
    return s.len;
}

static void check_encoded(struct ref_slice enc, bool keep_slash)
{
    for (size_t i = 0; i < enc.len; i++) {
        uint8_t c = enc.ptr[i];
        if (c == '%') {
            FUZZ_CHECK(i + 2 < enc.len);
            for (size_t k = 1; k <= 2; k++) {
                uint8_t h = enc.ptr[i + k];
                FUZZ_CHECK((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F'));
            }
            i += 2;
        } else {
            FUZZ_CHECK(is_unreserved(c) || (keep_slash && c == '/'));
        }
    }
}

/* encode then decode must give back the bytes. */
static void check_encode_round_trip(struct ref_slice bytes, bool keep_slash)
{
    struct ref_buf enc;
    struct ref_buf dec;
    ref_buf_init(&enc, 3 * bytes.len + 16);
    /* Room for the decoded bytes and no more: decoding never needs more than it writes
     * (regression input 5ba93c9d..., once ref_uri_decode reserved the encoded length). */
    ref_buf_init(&dec, bytes.len);
    FUZZ_CHECK(ref_uri_encode(bytes, keep_slash, &enc) == REF_OK);
    check_encoded(ref_buf_slice(&enc), keep_slash);
    struct ref_parse_error err;
    FUZZ_CHECK(ref_uri_decode(ref_buf_slice(&enc), &dec, &err) == REF_OK);
    FUZZ_CHECK(fuzz_slice_eq(ref_buf_slice(&dec), bytes));
    ref_buf_cleanup(&enc);
    ref_buf_cleanup(&dec);
}

static void check_label(struct ref_slice label)
{
    FUZZ_CHECK(ref_job_id_is_valid(label) == fuzz_is_contract_id(label));

    struct ref_buf dec;
    ref_buf_init(&dec, label.len + 16);
    struct ref_parse_error err = {0};
    enum ref_status rc = ref_uri_decode(label, &dec, &err);
    size_t escapes = 0;
    size_t bad = first_bad_escape(label, &escapes);
    if (bad < label.len) {
        FUZZ_CHECK(rc == REF_E_MALFORMED);
        FUZZ_CHECK(err.code == REF_E_MALFORMED);
        FUZZ_CHECK(err.offset == bad);
        FUZZ_CHECK(err.where != NULL && err.reason != NULL);
    } else {
        FUZZ_CHECK(rc == REF_OK);
        struct ref_slice decoded = ref_buf_slice(&dec);
        FUZZ_CHECK(decoded.len == label.len - 2 * escapes);
        if (escapes == 0) {
            FUZZ_CHECK(fuzz_slice_eq(decoded, label));
        }
        FUZZ_CHECK(ref_job_id_is_valid(decoded) == fuzz_is_contract_id(decoded));
        check_encode_round_trip(decoded, false);
    }
    ref_buf_cleanup(&dec);
}

static void check_query(struct ref_slice query)
{
    struct ref_query_param params[REF_MAX_QUERY_PARAMS];
    size_t count = 0;
    enum ref_status rc = ref_uri_split_query(query, params, REF_MAX_QUERY_PARAMS, &count);

    /* The oracle: walk the non-empty '&' parts. */
    size_t parts = 0;
    struct ref_slice rest = query;
    bool more = rest.len > 0;
    while (more) {
        size_t cut = find_byte(rest, '&');
        struct ref_slice part = {rest.ptr, cut};
        more = cut < rest.len;
        rest = more ? (struct ref_slice){rest.ptr + cut + 1, rest.len - cut - 1}
                    : (struct ref_slice){NULL, 0};
        if (part.len == 0) {
            continue;
        }
        if (parts == REF_MAX_QUERY_PARAMS || rc != REF_OK) {
            parts++;
            continue;
        }
        const struct ref_query_param *p = &params[parts++];
        size_t eq = find_byte(part, '=');
        FUZZ_CHECK(fuzz_slice_inside(p->name, query.ptr, query.len));
        FUZZ_CHECK(fuzz_slice_inside(p->value, query.ptr, query.len));
        FUZZ_CHECK(fuzz_slice_eq(p->name, (struct ref_slice){part.ptr, eq}));
        FUZZ_CHECK(p->has_equals == (eq < part.len));
        if (eq < part.len) {
            FUZZ_CHECK(
                fuzz_slice_eq(p->value, (struct ref_slice){part.ptr + eq + 1, part.len - eq - 1}));
        } else {
            FUZZ_CHECK(p->value.len == 0);
        }
    }
    if (parts > REF_MAX_QUERY_PARAMS) {
        FUZZ_CHECK(rc == REF_E_TOO_LARGE);
    } else {
        FUZZ_CHECK(rc == REF_OK);
        FUZZ_CHECK(count == parts);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ref_slice in = {data, size};
    struct ref_slice method = REF_SLICE_LIT("DELETE");
    struct ref_slice target = in;
    size_t sp = find_byte(in, ' ');
    if (sp < in.len) {
        method = (struct ref_slice){data, sp};
        target = (struct ref_slice){data + sp + 1, size - sp - 1};
    }
    size_t q = find_byte(target, '?');
    struct ref_slice path = {target.ptr, q};
    struct ref_slice query = q < target.len
                                 ? (struct ref_slice){target.ptr + q + 1, target.len - q - 1}
                                 : (struct ref_slice){NULL, 0};

    struct ref_buf norm_buf;
    normalize_or_die(path, &norm_buf);
    struct ref_slice norm = ref_buf_slice(&norm_buf);
    check_normalized(path, norm);
    struct ref_route route;
    if (check_route(method, norm, &route) != REF_E_UNKNOWN_OPERATION) {
        check_label(route.label);
    } else {
        /* Still exercise decoding on the last segment, where labels usually sit. */
        check_label(last_segment(norm));
    }
    check_encode_round_trip(path, true);
    check_query(query);
    ref_buf_cleanup(&norm_buf);
    return 0;
}
