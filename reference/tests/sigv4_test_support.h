/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_test_support.h - small helpers shared by the SigV4 and URI tests: a request built
 * by hand from C strings, signing it with the contract's test principals, and file paths.
 *
 * Everything here is test-only and header-only (static functions), so each test
 * executable stays one .c file.
 */
#ifndef ETCH_SIGV4_TEST_SUPPORT_H
#define ETCH_SIGV4_TEST_SUPPORT_H

#include "test_util.h"

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/sigv4.h"
#include "ref/slice.h"

#include <stdio.h>
#include <string.h>

#define TREQ_MAX_HEADERS 96

/* The contract's test setting (sections 5 and 7). */
#define T_REGION     "us-east-1"
#define T_SERVICE    "elastictranscoder"
#define T_AK_MAIN    "AKIDEXAMPLE"
#define T_SK_MAIN    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T_AK_SESSION "AKIDSESSION"
#define T_SK_SESSION "session/secret/key/EXAMPLEKEY00000000000000"
#define T_TOKEN      "etch/session/token/EXAMPLE"
/* 2026-11-28T12:45:00Z, test_util.h's pinned clock, in seconds. */
#define T_NOW_S    (TEST_FIXED_NOW_MS / 1000)
#define T_NOW_DATE "20261128T124500Z"

static const struct ref_credential s_test_creds[] = {
    {T_AK_MAIN, T_SK_MAIN, NULL, REF_ROLE_FULL},
    {"AKIDREADONLY", "readonly/secret/key/EXAMPLEKEY0000000000000", NULL, REF_ROLE_READ_ONLY},
    {T_AK_SESSION, T_SK_SESSION, T_TOKEN, REF_ROLE_FULL},
};

static inline struct ref_sigv4_verifier test_verifier(void)
{
    return (struct ref_sigv4_verifier){
        .credentials = s_test_creds,
        .num_credentials = sizeof s_test_creds / sizeof s_test_creds[0],
        .region = T_REGION,
        .service = T_SERVICE,
        .skew_s = 300,
    };
}

/* A request assembled from C strings that the test keeps alive. */
struct treq {
    struct ref_header headers[TREQ_MAX_HEADERS];
    struct ref_sigv4_request req;
    struct ref_buf authz; /* the Authorization value once signed */
};

static inline void
treq_init(struct treq *t, const char *method, const char *path, const char *query, const char *body)
{
    memset(t, 0, sizeof *t);
    t->req.method = ref_slice_from_cstr(method);
    t->req.path = ref_slice_from_cstr(path);
    t->req.query = ref_slice_from_cstr(query);
    t->req.body = ref_slice_from_cstr(body);
    t->req.headers = t->headers;
    t->req.num_headers = 0;
    ref_buf_init(&t->authz, 8192);
}

static inline void treq_add_slice(struct treq *t, struct ref_slice name, struct ref_slice value)
{
    assert_true(t->req.num_headers < TREQ_MAX_HEADERS);
    t->headers[t->req.num_headers].name = name;
    t->headers[t->req.num_headers].value = value;
    t->req.num_headers++;
}

static inline void treq_add(struct treq *t, const char *name, const char *value)
{
    treq_add_slice(t, ref_slice_from_cstr(name), ref_slice_from_cstr(value));
}

/* Removes every header with this name (any case). */
static inline void treq_remove(struct treq *t, const char *name)
{
    size_t kept = 0;
    for (size_t i = 0; i < t->req.num_headers; i++) {
        if (!ref_slice_eq_nocase(t->headers[i].name, ref_slice_from_cstr(name))) {
            t->headers[kept++] = t->headers[i];
        }
    }
    t->req.num_headers = kept;
}

static inline size_t treq_count(const struct treq *t, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < t->req.num_headers; i++) {
        n += ref_slice_eq_nocase(t->headers[i].name, ref_slice_from_cstr(name)) ? 1 : 0;
    }
    return n;
}

static inline void treq_cleanup(struct treq *t)
{
    ref_buf_cleanup(&t->authz);
}

/* Splits "a;b;c" (a C string the caller keeps alive) into slices. */
static inline size_t split_names(const char *list, struct ref_slice *names, size_t cap)
{
    size_t n = 0;
    struct ref_slice rest = ref_slice_from_cstr(list);
    struct ref_slice tok;
    bool more = rest.len > 0;
    while (more) {
        more = ref_slice_split(&rest, ';', &tok);
        assert_true(n < cap);
        names[n++] = tok;
    }
    return n;
}

/* Signs with the given key, region, service and date, and the given SignedHeaders list
 * ("host;x-amz-date"; NULL lets the signer choose), then appends the Authorization
 * header to the request. */
static inline void treq_sign_with(struct treq *t,
                                  const char *ak,
                                  const char *sk,
                                  const char *region,
                                  const char *service,
                                  const char *amz_date,
                                  const char *signed_list)
{
    static struct ref_slice names[REF_MAX_SIGNED_HEADERS + 8];
    size_t n = 0;
    if (signed_list != NULL) {
        n = split_names(signed_list, names, sizeof names / sizeof names[0]);
    }
    struct ref_sigv4_sign_params p = {
        .access_key_id = ref_slice_from_cstr(ak),
        .secret_access_key = ref_slice_from_cstr(sk),
        .region = ref_slice_from_cstr(region),
        .service = ref_slice_from_cstr(service),
        .amz_date = ref_slice_from_cstr(amz_date),
        .signed_headers = signed_list != NULL ? names : NULL,
        .num_signed_headers = n,
    };
    ref_buf_reset(&t->authz);
    assert_int_equal(ref_sigv4_sign(&p, &t->req, &t->authz, NULL), REF_OK);
    treq_add_slice(t, ref_slice_from_cstr("Authorization"), ref_buf_slice(&t->authz));
}

static inline void treq_sign(struct treq *t, const char *signed_list)
{
    treq_sign_with(t, T_AK_MAIN, T_SK_MAIN, T_REGION, T_SERVICE, T_NOW_DATE, signed_list);
}

/* Joins path pieces into a static-size buffer, failing the test if it does not fit. */
static inline void path_join(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    assert_true(n > 0 && (size_t)n < cap);
}

#endif
