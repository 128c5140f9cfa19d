/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4.h - AWS Signature Version 4 (header form): parsing, each signing stage, the
 * verifier in the check order of contract section 5, and the signer the harness uses.
 *
 * Stages are separate functions so each can be compared with a vector file on its own:
 * canonical request -> string to sign -> signing key -> signature. Inputs are borrowed;
 * outputs go only to caller-owned buffers. Secrets and derived keys are wiped after use.
 */
#ifndef REF_SIGV4_H
#define REF_SIGV4_H

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/limits.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <stdbool.h>
#include <stdint.h>

#define REF_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* The parsed value of an Authorization header. Every slice borrows from the value. */
struct ref_sigv4_auth {
    struct ref_slice algorithm;  /* "AWS4-HMAC-SHA256" */
    struct ref_slice credential; /* "AKID/date/region/service/aws4_request" */
    struct ref_slice access_key_id;
    struct ref_slice scope; /* the credential after the access key id and its '/' */
    struct ref_slice scope_date;
    struct ref_slice scope_region;
    struct ref_slice scope_service;
    struct ref_slice scope_terminator;
    struct ref_slice signed_headers_list; /* exactly as sent, e.g. "host;x-amz-date" */
    struct ref_slice signed_headers[REF_MAX_SIGNED_HEADERS];
    size_t num_signed_headers;
    struct ref_slice signature; /* as sent; only 64 lower-case hex digits can match */
};

/* Parses one Authorization value (without the header name). Purely syntactic.
 * Accepts ", " or "," between the three components.
 * REF_E_MISSING_AUTH never; REF_E_INCOMPLETE_SIGNATURE when the algorithm is not
 * AWS4-HMAC-SHA256, a component is missing or empty, the credential is not five
 * '/'-separated parts; REF_E_TOO_LARGE past REF_MAX_SIGNED_HEADERS or
 * REF_MAX_AUTHORIZATION_BYTES. err->offset is relative to value. */
REF_MUST_CHECK enum ref_status ref_sigv4_parse_authorization(struct ref_slice value,
                                                             struct ref_sigv4_auth *out,
                                                             struct ref_parse_error *err);

/* YYYYMMDDTHHMMSSZ <-> seconds since the epoch (UTC). Parsing checks field ranges. */
REF_MUST_CHECK enum ref_status
ref_sigv4_parse_amz_date(struct ref_slice s, int64_t *unix_s, struct ref_parse_error *err);
void ref_sigv4_format_amz_date(int64_t unix_s, char out[17]);

/* What a signature covers. */
struct ref_sigv4_request {
    struct ref_slice method;
    struct ref_slice path;  /* raw path as on the wire, without the query */
    struct ref_slice query; /* raw query without '?', may be empty */
    const struct ref_header *headers;
    size_t num_headers;
    struct ref_slice body;
};

/* Lower-case hex SHA-256 of data into out (64 bytes, not NUL-terminated). */
void ref_sigv4_sha256_hex(struct ref_slice data, char out[REF_SHA256_HEX_LEN]);

/* Stage 1. The canonical request, for the headers named in signed_headers (taken as
 * given: a name the request lacks canonicalises as "name:"). The path is normalised and
 * encoded once more (the non-S3 rule); the query is decoded, re-encoded and sorted.
 * Appends to out. REF_E_MALFORMED for a query escape that cannot be decoded. */
REF_MUST_CHECK enum ref_status ref_sigv4_canonical_request(const struct ref_sigv4_request *req,
                                                           const struct ref_slice *signed_headers,
                                                           size_t num_signed_headers,
                                                           struct ref_slice payload_hash_hex,
                                                           struct ref_buf *out,
                                                           struct ref_parse_error *err);

/* Stage 2. "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex(sha256(canonical_request))>". */
REF_MUST_CHECK enum ref_status ref_sigv4_string_to_sign(struct ref_slice amz_date,
                                                        struct ref_slice scope,
                                                        struct ref_slice canonical_request,
                                                        struct ref_buf *out);

/* Stage 3. HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request".
 * The caller wipes key_out (ref_mem_wipe) when done. */
REF_MUST_CHECK enum ref_status ref_sigv4_signing_key(struct ref_slice secret_access_key,
                                                     struct ref_slice date,
                                                     struct ref_slice region,
                                                     struct ref_slice service,
                                                     uint8_t key_out[REF_SHA256_LEN]);

/* Stage 4. Lower-case hex HMAC(key, string_to_sign). */
REF_MUST_CHECK enum ref_status ref_sigv4_signature(const uint8_t key[REF_SHA256_LEN],
                                                   struct ref_slice string_to_sign,
                                                   char out[REF_SHA256_HEX_LEN]);

/* --- Signing-key cache ------------------------------------------------------------- */

/* A bounded, thread-safe cache of derived signing keys, keyed by (secret access key, scope
 * date, region, service). A signing key only changes when one of those does (once a day per
 * principal), so a server that keeps them skips four of the five HMACs of a verification.
 * Entries are kept least-recently-used per bucket; an evicted entry is wiped before it is
 * reused, and ref_sigv4_key_cache_free wipes them all. The secret is kept inside the entry
 * to tell keys apart (compared in constant time); parts longer than the limits below are
 * never cached, only derived. One verifier or signer may share a cache with any number of
 * threads. */
struct ref_sigv4_key_cache;

#define REF_SIGV4_KEY_CACHE_DEFAULT_ENTRIES  256
#define REF_SIGV4_KEY_CACHE_MAX_SECRET_BYTES 128 /* longer secrets bypass the cache */
#define REF_SIGV4_KEY_CACHE_MAX_DATE_BYTES   16
#define REF_SIGV4_KEY_CACHE_MAX_PART_BYTES   64 /* region and service */

/* A cache holding at most max_entries keys (its capacity may round down to a multiple of
 * its associativity; ref_sigv4_key_cache_stats tells). NULL when out of memory or when
 * max_entries is 0. Free with ref_sigv4_key_cache_free. */
struct ref_sigv4_key_cache *ref_sigv4_key_cache_new(size_t max_entries);

/* Wipes every entry and frees the cache. NULL is fine. No other thread may still use it. */
void ref_sigv4_key_cache_free(struct ref_sigv4_key_cache *cache);

/* Wipes and forgets every entry and zeroes the counters, leaving the cache as
 * ref_sigv4_key_cache_new made it: for a rotation of secrets, and for runs that must each
 * start from the same state without paying for a new cache. Costs the entries in use, not
 * the capacity. NULL is fine. Other threads may go on using the cache meanwhile. */
void ref_sigv4_key_cache_clear(struct ref_sigv4_key_cache *cache);

/* The signing key of ref_sigv4_signing_key for these parts, from the cache when it holds
 * it, else derived and remembered (evicting the least recently used entry of its bucket).
 * cache may be NULL (the key is then derived). Always REF_OK; the caller wipes key_out. */
REF_MUST_CHECK enum ref_status ref_sigv4_key_cache_get(struct ref_sigv4_key_cache *cache,
                                                       struct ref_slice secret_access_key,
                                                       struct ref_slice date,
                                                       struct ref_slice region,
                                                       struct ref_slice service,
                                                       uint8_t key_out[REF_SHA256_LEN]);

struct ref_sigv4_key_cache_stats {
    uint64_t hits;
    uint64_t misses;    /* lookups that derived the key (parts too long to cache not counted) */
    uint64_t evictions; /* entries wiped to make room */
    size_t entries;     /* in use now */
    size_t capacity;    /* at most max_entries */
};

void ref_sigv4_key_cache_stats(struct ref_sigv4_key_cache *cache,
                               struct ref_sigv4_key_cache_stats *out);

/* Who may call what (contract section 7). */
enum ref_role {
    REF_ROLE_NONE = 0,
    REF_ROLE_FULL,      /* every operation */
    REF_ROLE_READ_ONLY, /* Read and List operations only */
};

struct ref_credential {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL when the key has none */
    enum ref_role role;
};

struct ref_sigv4_verifier {
    const struct ref_credential *credentials;
    size_t num_credentials;
    const char *region;  /* "us-east-1" */
    const char *service; /* "elastictranscoder" */
    int64_t skew_s;      /* allowed clock skew either way (contract: default 300) */
    /* Optional, borrowed: signing keys are looked up here instead of derived on every
     * request. NULL derives every time. The verdicts are the same either way. */
    struct ref_sigv4_key_cache *key_cache;
};

struct ref_sigv4_outcome {
    enum ref_status status;
    const struct ref_credential *credential; /* the caller, when status is REF_OK */
    char message[512];                       /* the error message the service sends */
    struct ref_parse_error err;              /* where parsing stopped, for syntax failures */
};

/* Optional: the verifier's own canonical request and string to sign (for reports and
 * `etch sigv4 verify`). Either buffer may be NULL. */
struct ref_sigv4_trace {
    struct ref_buf *canonical_request;
    struct ref_buf *string_to_sign;
};

/* Verifies one request in the order of contract section 5; the first failure decides.
 * Returns the same status it stores in out->status: REF_OK, or one of
 * REF_E_MISSING_AUTH, REF_E_INCOMPLETE_SIGNATURE, REF_E_SIGNATURE_EXPIRED,
 * REF_E_SIGNATURE_NOT_YET_CURRENT, REF_E_HOST_NOT_SIGNED, REF_E_BAD_SCOPE,
 * REF_E_UNKNOWN_KEY, REF_E_BAD_TOKEN, REF_E_PAYLOAD_HASH_MISMATCH, REF_E_SIGNATURE_MISMATCH,
 * REF_E_NOMEM, or REF_E_TOO_LARGE when the Authorization value, its SignedHeaders, the query
 * parameters or the canonical request pass a limit of limits.h. out->message holds the
 * contract's message for that failure. */
REF_MUST_CHECK enum ref_status ref_sigv4_verify(const struct ref_sigv4_verifier *v,
                                                const struct ref_sigv4_request *req,
                                                int64_t now_s,
                                                struct ref_sigv4_outcome *out,
                                                struct ref_sigv4_trace *trace);

struct ref_sigv4_sign_params {
    struct ref_slice access_key_id;
    struct ref_slice secret_access_key;
    struct ref_slice region;
    struct ref_slice service;
    struct ref_slice amz_date; /* YYYYMMDDTHHMMSSZ; the request must already carry it */
    /* Lower-case names to sign, sorted; NULL signs every header present except the ones
     * proxies may change (authorization, user-agent, expect, transfer-encoding,
     * connection, x-amzn-trace-id and the other hop-by-hop headers). */
    const struct ref_slice *signed_headers;
    size_t num_signed_headers;
    /* Optional, borrowed: where the signing key comes from when not NULL. */
    struct ref_sigv4_key_cache *key_cache;
    /* ref_sigv4_sign_request only (ref_sigv4_sign ignores them): what the signing result
     * adds besides X-Amz-Date and Authorization. */
    struct ref_slice session_token; /* added as X-Amz-Security-Token; ptr NULL: none */
    bool has_content_sha256;        /* add x-amz-content-sha256, the body's hex SHA-256 */
    /* The request already carries its X-Amz-Date (with amz_date's value): the result adds
     * none. For re-signing a request written with its own date (`etch sigv4 sign`). */
    bool is_date_in_request;
};

/* Signs req and appends the Authorization value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=...") to authorization_out. The request must already carry
 * X-Amz-Date (and X-Amz-Security-Token, x-amz-content-sha256 when wanted):
 * ref_sigv4_sign_request below adds them, and is what callers use; this is its lower layer,
 * for callers that sign a request as it stands (the benchmarks, fault injection).
 * REF_E_MALFORMED: amz_date is not YYYYMMDDTHHMMSSZ, or a query escape cannot be decoded.
 * REF_E_TOO_LARGE: more than REF_MAX_SIGNED_HEADERS names (or REF_MAX_HEADERS headers to
 * choose from), a limit of the canonical request, an Authorization value longer than
 * REF_MAX_AUTHORIZATION_BYTES (which the verifier would refuse), or authorization_out's cap.
 * On failure nothing is appended. */
REF_MUST_CHECK enum ref_status ref_sigv4_sign(const struct ref_sigv4_sign_params *p,
                                              const struct ref_sigv4_request *req,
                                              struct ref_buf *authorization_out,
                                              struct ref_sigv4_trace *trace);

/* --- Signing a request: what the signer adds --------------------------------------- */

/* The header lines ref_sigv4_sign_request adds, in the order it adds them. */
#define REF_SIGV4_DATE_HEADER           "X-Amz-Date"
#define REF_SIGV4_TOKEN_HEADER          "X-Amz-Security-Token"
#define REF_SIGV4_CONTENT_SHA256_HEADER "x-amz-content-sha256"
#define REF_SIGV4_AUTHORIZATION_HEADER  "Authorization"
#define REF_SIGV4_MAX_ADDED_HEADERS     4

#define REF_SIGV4_AMZ_DATE_LEN 16 /* YYYYMMDDTHHMMSSZ */
/* A longer session token could not fit in a header section the reference's parser
 * accepts, so the signer refuses it rather than copy it. */
#define REF_SIGV4_MAX_SESSION_TOKEN_BYTES REF_MAX_HEADER_BYTES
/* Headers of a request ref_sigv4_sign_request signs, its own additions included: twice
 * what the parser accepts, so that a harness can sign a request over the parser's limit
 * (to see it refused for that limit, not for its signature). */
#define REF_SIGV4_SIGN_MAX_HEADERS (2 * REF_MAX_HEADERS)

/* What signing adds to a request (aws-c-auth's signing result): the header lines, in the
 * order to add them, after the request's own. The values borrow from the storage below,
 * which the result owns; the names are string literals. Release with
 * ref_sigv4_signing_result_cleanup, which wipes the token and the signature. A result
 * needs no initialisation before ref_sigv4_sign_request fills it. */
struct ref_sigv4_signing_result {
    struct ref_header headers[REF_SIGV4_MAX_ADDED_HEADERS];
    size_t num_headers; /* 0 after a failure: nothing to add */
    char amz_date[REF_SIGV4_AMZ_DATE_LEN];
    char content_sha256[REF_SHA256_HEX_LEN];
    uint8_t session_token[REF_SIGV4_MAX_SESSION_TOKEN_BYTES];
    size_t session_token_len;
    uint8_t authorization[REF_MAX_AUTHORIZATION_BYTES];
    size_t authorization_len;
};

/* Signs req as it will be once the result's headers follow its own, and returns those
 * headers in out: X-Amz-Date with p->amz_date (unless p->is_date_in_request),
 * X-Amz-Security-Token (when p->session_token.ptr is not NULL), x-amz-content-sha256 (when
 * p->has_content_sha256), then Authorization. Without an explicit p->signed_headers the
 * names are chosen as ref_sigv4_sign chooses them from the request with the additions, so
 * the added headers are signed; an explicit list is taken as given. trace as in
 * ref_sigv4_sign. Statuses are ref_sigv4_sign's, plus REF_E_MALFORMED when amz_date is not
 * YYYYMMDDTHHMMSSZ and REF_E_TOO_LARGE for a token over REF_SIGV4_MAX_SESSION_TOKEN_BYTES
 * or a request that would have more than REF_SIGV4_SIGN_MAX_HEADERS headers. On failure
 * out holds nothing to add (num_headers 0). */
REF_MUST_CHECK enum ref_status ref_sigv4_sign_request(const struct ref_sigv4_sign_params *p,
                                                      const struct ref_sigv4_request *req,
                                                      struct ref_sigv4_signing_result *out,
                                                      struct ref_sigv4_trace *trace);

/* Appends the result's headers to a caller's array holding *num of cap, in order. The
 * appended values borrow from r. REF_E_TOO_LARGE when they do not all fit (nothing is
 * appended). */
REF_MUST_CHECK enum ref_status ref_sigv4_signing_result_apply(
    const struct ref_sigv4_signing_result *r, struct ref_header *headers, size_t *num, size_t cap);

/* The Authorization value of a result, empty when signing failed. Borrowed from r. */
struct ref_slice ref_sigv4_signing_result_authorization(const struct ref_sigv4_signing_result *r);

/* Wipes the secret-derived values (the token and the signature) and empties the result. */
void ref_sigv4_signing_result_cleanup(struct ref_sigv4_signing_result *r);

#endif
