/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_authorization.c - the Authorization header value (SigV4 header form).
 *
 * Target functions: ref_sigv4_parse_authorization.
 *
 * Input: the header value, without "Authorization:".
 *
 * Invariants (abort() on violation):
 * - a failure is REF_E_INCOMPLETE_SIGNATURE or REF_E_TOO_LARGE, with err filled in the same
 *   code and an offset inside the value; a value longer than REF_MAX_AUTHORIZATION_BYTES is
 *   never accepted;
 * - on success every slice lies inside the value; the algorithm is AWS4-HMAC-SHA256; the
 *   credential is access key id '/' scope, the scope is date/region/service/terminator
 *   (parts may be empty: the scope check refuses those later); the signed headers,
 *   1..REF_MAX_SIGNED_HEADERS of them, are the ';'-separated parts of the list as sent, in
 *   order; the signature is non-empty;
 * - round trip (after aws-c-auth's *_transitive targets): re-serialised canonically, with
 *   ", " and then with "," between the components, the value parses again to an equal
 *   struct (same bytes in every field, same count).
 */
#include "common.h"

#include "ref/buf.h"
#include "ref/limits.h"
#include "ref/sigv4.h"

#include <string.h>

static void check_inside(const struct ref_sigv4_auth *a, struct ref_slice v)
{
    FUZZ_CHECK(fuzz_slice_inside(a->algorithm, v.ptr, v.len));
    FUZZ_CHECK(fuzz_slice_inside(a->credential, v.ptr, v.len));
    FUZZ_CHECK(fuzz_slice_inside(a->access_key_id, v.ptr, v.len));
    FUZZ_CHECK(fuzz_slice_inside(a->scope, v.ptr, v.len));
    FUZZ_CHECK(fuzz_slice_inside(a->scope_date, v.ptr, v.len));
    FUZZ_CHECK(fuzz_slice_inside(a->scope_region, v.ptr, v.len));
    FUZZ_CHECK(fuzz_slice_inside(a->scope_service, v.ptr, v.len));
    FUZZ_CHECK(fuzz_slice_inside(a->scope_terminator, v.ptr, v.len));
    FUZZ_CHECK(fuzz_slice_inside(a->signed_headers_list, v.ptr, v.len));
    FUZZ_CHECK(fuzz_slice_inside(a->signature, v.ptr, v.len));
    for (size_t i = 0; i < a->num_signed_headers; i++) {
        FUZZ_CHECK(fuzz_slice_inside(a->signed_headers[i], v.ptr, v.len));
        FUZZ_CHECK(fuzz_slice_inside(a->signed_headers[i], a->signed_headers_list.ptr,
                                     a->signed_headers_list.len));
    }
}

/* Appends the parts joined with sep to out (a fixed, large enough buffer). */
static void join(struct ref_buf *out, const struct ref_slice *parts, size_t n, const char *sep)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            FUZZ_CHECK(ref_buf_append_cstr(out, sep) == REF_OK);
        }
        FUZZ_CHECK(ref_buf_append_slice(out, parts[i]) == REF_OK);
    }
}

static void check_structure(const struct ref_sigv4_auth *a)
{
    FUZZ_CHECK(fuzz_slice_eq_cstr(a->algorithm, REF_SIGV4_ALGORITHM));

    /* Empty credential parts and empty signed-header names are syntax the parser may
     * accept: the scope check and the signature check refuse them later (contract 5). */
    struct ref_slice scope_parts[4] = {a->scope_date, a->scope_region, a->scope_service,
                                       a->scope_terminator};

    uint8_t storage[2 * REF_MAX_AUTHORIZATION_BYTES + 64];
    struct ref_buf b;
    ref_buf_init_fixed(&b, storage, sizeof(storage));
    join(&b, scope_parts, 4, "/");
    FUZZ_CHECK(fuzz_slice_eq(ref_buf_slice(&b), a->scope));

    ref_buf_reset(&b);
    struct ref_slice cred_parts[2] = {a->access_key_id, a->scope};
    join(&b, cred_parts, 2, "/");
    FUZZ_CHECK(fuzz_slice_eq(ref_buf_slice(&b), a->credential));

    FUZZ_CHECK(a->num_signed_headers >= 1 && a->num_signed_headers <= REF_MAX_SIGNED_HEADERS);
    for (size_t i = 0; i < a->num_signed_headers; i++) {
        FUZZ_CHECK(memchr(a->signed_headers[i].ptr, ';', a->signed_headers[i].len) == NULL);
    }
    ref_buf_reset(&b);
    join(&b, a->signed_headers, a->num_signed_headers, ";");
    FUZZ_CHECK(fuzz_slice_eq(ref_buf_slice(&b), a->signed_headers_list));

    FUZZ_CHECK(a->signature.len > 0);
    ref_buf_cleanup(&b);
}

static void check_equal(const struct ref_sigv4_auth *a, const struct ref_sigv4_auth *b)
{
    FUZZ_CHECK(fuzz_slice_eq(a->algorithm, b->algorithm));
    FUZZ_CHECK(fuzz_slice_eq(a->credential, b->credential));
    FUZZ_CHECK(fuzz_slice_eq(a->access_key_id, b->access_key_id));
    FUZZ_CHECK(fuzz_slice_eq(a->scope, b->scope));
    FUZZ_CHECK(fuzz_slice_eq(a->scope_date, b->scope_date));
    FUZZ_CHECK(fuzz_slice_eq(a->scope_region, b->scope_region));
    FUZZ_CHECK(fuzz_slice_eq(a->scope_service, b->scope_service));
    FUZZ_CHECK(fuzz_slice_eq(a->scope_terminator, b->scope_terminator));
    FUZZ_CHECK(fuzz_slice_eq(a->signed_headers_list, b->signed_headers_list));
    FUZZ_CHECK(a->num_signed_headers == b->num_signed_headers);
    for (size_t i = 0; i < a->num_signed_headers; i++) {
        FUZZ_CHECK(fuzz_slice_eq(a->signed_headers[i], b->signed_headers[i]));
    }
    FUZZ_CHECK(fuzz_slice_eq(a->signature, b->signature));
}

static void check_round_trip(const struct ref_sigv4_auth *a, const char *sep)
{
    uint8_t storage[2 * REF_MAX_AUTHORIZATION_BYTES + 64];
    struct ref_buf b;
    ref_buf_init_fixed(&b, storage, sizeof(storage));
    /* Appended slice by slice: printf's %.*s would stop at a NUL inside a field. */
    FUZZ_CHECK(ref_buf_append_cstr(&b, REF_SIGV4_ALGORITHM " Credential=") == REF_OK);
    FUZZ_CHECK(ref_buf_append_slice(&b, a->credential) == REF_OK);
    FUZZ_CHECK(ref_buf_append_cstr(&b, sep) == REF_OK);
    FUZZ_CHECK(ref_buf_append_cstr(&b, "SignedHeaders=") == REF_OK);
    FUZZ_CHECK(ref_buf_append_slice(&b, a->signed_headers_list) == REF_OK);
    FUZZ_CHECK(ref_buf_append_cstr(&b, sep) == REF_OK);
    FUZZ_CHECK(ref_buf_append_cstr(&b, "Signature=") == REF_OK);
    FUZZ_CHECK(ref_buf_append_slice(&b, a->signature) == REF_OK);
    struct ref_slice again = ref_buf_slice(&b);
    struct ref_sigv4_auth reparsed;
    struct ref_parse_error err;
    /* The canonical form is never longer than a value the parser accepted, except that ", "
     * may replace ","; allow for that before asserting acceptance. */
    if (again.len <= REF_MAX_AUTHORIZATION_BYTES) {
        FUZZ_CHECK(ref_sigv4_parse_authorization(again, &reparsed, &err) == REF_OK);
        check_equal(a, &reparsed);
    }
    ref_buf_cleanup(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ref_slice value = {data, size};
    struct ref_sigv4_auth auth;
    struct ref_parse_error err = {0};
    memset(&auth, 0, sizeof(auth));
    enum ref_status rc = ref_sigv4_parse_authorization(value, &auth, &err);
    if (rc != REF_OK) {
        FUZZ_CHECK(rc == REF_E_INCOMPLETE_SIGNATURE || rc == REF_E_TOO_LARGE);
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(err.offset <= size);
        FUZZ_CHECK(err.where != NULL && err.reason != NULL);
        return 0;
    }
    FUZZ_CHECK(size <= REF_MAX_AUTHORIZATION_BYTES);
    check_inside(&auth, value);
    check_structure(&auth);
    check_round_trip(&auth, ", ");
    check_round_trip(&auth, ",");
    return 0;
}
