/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_internal.h - helpers shared by the sigv4_*.c files (and their tests), not public.
 *
 * Header lookups use ref_http_find_header (http.h): it only walks the header array, so it
 * serves whichever parser (strict or lenient) produced it.
 */
#ifndef REF_SIGV4_INTERNAL_H
#define REF_SIGV4_INTERNAL_H

#include "ref/http.h"
#include "ref/limits.h"
#include "ref/sigv4.h"
#include "ref/slice.h"

/* The low-level SHA-256 API (sigv4_hash.c says why); only its state type is used here. */
#include <openssl/sha.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(OPENSSL_NO_DEPRECATED_3_0)
#error "etch's SigV4 code needs OpenSSL's SHA256_Init/Update/Final (built without no-deprecated)"
#endif

/* Byte-order comparison (memcmp order, shorter prefix first): <0, 0, >0. */
int ref_sigv4_slice_cmp(struct ref_slice a, struct ref_slice b);

/* True when s is exactly 64 lower-case hex digits, the only signature form that can match. */
bool ref_sigv4_is_lower_hex64(struct ref_slice s);

/* --- Hashing (sigv4_hash.c) ---------------------------------------------------------- */

/* An HMAC-SHA256 key prepared once: the SHA-256 states after the key's inner (ipad) and
 * outer (opad) blocks. Each HMAC with it then costs the data's blocks plus one, with no
 * algorithm lookup and no allocation. It is key material: ref_hmac_sha256_key_wipe. */
struct ref_hmac_sha256_key {
    SHA256_CTX inner;
    SHA256_CTX outer;
};

/* SHA-256 of public data (len bytes; data may be NULL when len is 0). Its state is not
 * wiped: never use it on key material. */
void ref_sha256(const void *data, size_t len, uint8_t out[REF_SHA256_LEN]);

/* Lower-case hex of a digest. */
void ref_sha256_to_hex(const uint8_t md[REF_SHA256_LEN], char out[REF_SHA256_HEX_LEN]);

/* Compares len bytes in time that depends on len only (signatures, secrets). */
bool ref_ct_equal(const void *a, const void *b, size_t len);

/* Prepares an HMAC key of any length (a key longer than a block is hashed first). */
void ref_hmac_sha256_key_init(struct ref_hmac_sha256_key *k, const void *key, size_t key_len);

/* HMAC-SHA256(k, data). */
void ref_hmac_sha256_with_key(const struct ref_hmac_sha256_key *k,
                              const void *data,
                              size_t len,
                              uint8_t out[REF_SHA256_LEN]);

/* One-shot HMAC-SHA256; the prepared key it builds on the stack is wiped. */
void ref_hmac_sha256(
    const void *key, size_t key_len, const void *data, size_t len, uint8_t out[REF_SHA256_LEN]);

void ref_hmac_sha256_key_wipe(struct ref_hmac_sha256_key *k);

/* The SigV4 chain "AWS4"+secret -> date -> region -> service -> "aws4_request", computed
 * every time (sigv4_key_cache.c sits on top of it). Intermediate keys are wiped. The last
 * step's prepared key goes to hmac_out when it is not NULL (the cache keeps it). */
void ref_sigv4_derive_key(struct ref_slice secret_access_key,
                          struct ref_slice date,
                          struct ref_slice region,
                          struct ref_slice service,
                          uint8_t key_out[REF_SHA256_LEN],
                          struct ref_hmac_sha256_key *hmac_out);

/* --- Signing-key cache (sigv4_key_cache.c) ------------------------------------------- */

/* The prepared HMAC key for (secret, date, region, service): from the cache when it holds
 * it, else derived (and remembered when the parts fit an entry). cache may be NULL: the key
 * is then derived every time. The caller wipes *out. */
void ref_sigv4_key_cache_get_hmac(struct ref_sigv4_key_cache *cache,
                                  struct ref_slice secret_access_key,
                                  struct ref_slice date,
                                  struct ref_slice region,
                                  struct ref_slice service,
                                  struct ref_hmac_sha256_key *out);

#endif
