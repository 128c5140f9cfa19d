/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_hash.c - SHA-256, HMAC-SHA256 and the SigV4 key chain on OpenSSL's low-level
 * SHA-256 functions.
 *
 * Why the low-level calls, deprecated in OpenSSL 3: they go straight to the assembly block
 * function, with no provider lookup, no context allocation and no locking, and their state
 * is a plain struct that can be copied. That lets an HMAC key be prepared once (the states
 * after its ipad and opad blocks) and reused by struct copy, which EVP contexts can only do
 * by allocating. OpenSSL 3's one-shot calls (SHA256(), HMAC(), EVP_Q_mac) fetch the
 * algorithm on every call and cost several times as much. The deprecation warning is
 * silenced in this file alone; everything else calls the functions declared in
 * sigv4_internal.h. Every key, pad and intermediate state is wiped before it goes out of
 * scope.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "sigv4_internal.h"

#include "ref/mem.h"

#include <openssl/sha.h>

#include <string.h>

#define BLOCK_BYTES 64

void ref_sha256(const void *data, size_t len, uint8_t out[REF_SHA256_LEN])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    if (len > 0) {
        SHA256_Update(&c, data, len);
    }
    SHA256_Final(out, &c);
}

void ref_sha256_to_hex(const uint8_t md[REF_SHA256_LEN], char out[REF_SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < REF_SHA256_LEN; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 0x0f];
    }
}

void ref_hmac_sha256_key_init(struct ref_hmac_sha256_key *k, const void *key, size_t key_len)
{
    /* RFC 2104: a key longer than the block is replaced by its hash; shorter ones are
     * padded with zeros. */
    uint8_t block[BLOCK_BYTES] = {0};
    if (key_len > BLOCK_BYTES) {
        SHA256_CTX c;
        SHA256_Init(&c);
        SHA256_Update(&c, key, key_len);
        SHA256_Final(block, &c);
        ref_mem_wipe(&c, sizeof c);
    } else if (key_len > 0) {
        memcpy(block, key, key_len);
    }
    uint8_t pad[BLOCK_BYTES];
    for (size_t i = 0; i < BLOCK_BYTES; i++) {
        pad[i] = (uint8_t)(block[i] ^ 0x36);
    }
    SHA256_Init(&k->inner);
    SHA256_Update(&k->inner, pad, BLOCK_BYTES);
    for (size_t i = 0; i < BLOCK_BYTES; i++) {
        pad[i] = (uint8_t)(block[i] ^ 0x5c);
    }
    SHA256_Init(&k->outer);
    SHA256_Update(&k->outer, pad, BLOCK_BYTES);
    /* A hashed long key is key material too; block holds it either way. */
    ref_mem_wipe(block, sizeof block);
    ref_mem_wipe(pad, sizeof pad);
}

void ref_hmac_sha256_with_key(const struct ref_hmac_sha256_key *k,
                              const void *data,
                              size_t len,
                              uint8_t out[REF_SHA256_LEN])
{
    SHA256_CTX c = k->inner;
    uint8_t inner[REF_SHA256_LEN];
    if (len > 0) {
        SHA256_Update(&c, data, len);
    }
    SHA256_Final(inner, &c);
    c = k->outer;
    SHA256_Update(&c, inner, sizeof inner);
    SHA256_Final(out, &c);
    /* SHA256_Final wipes only its data block: the chaining values (key-dependent) and the
     * inner digest are ours to wipe. */
    ref_mem_wipe(&c, sizeof c);
    ref_mem_wipe(inner, sizeof inner);
}

void ref_hmac_sha256(
    const void *key, size_t key_len, const void *data, size_t len, uint8_t out[REF_SHA256_LEN])
{
    struct ref_hmac_sha256_key k;
    ref_hmac_sha256_key_init(&k, key, key_len);
    ref_hmac_sha256_with_key(&k, data, len, out);
    ref_hmac_sha256_key_wipe(&k);
}

void ref_hmac_sha256_key_wipe(struct ref_hmac_sha256_key *k)
{
    ref_mem_wipe(k, sizeof *k);
}

void ref_sigv4_derive_key(struct ref_slice secret_access_key,
                          struct ref_slice date,
                          struct ref_slice region,
                          struct ref_slice service,
                          uint8_t key_out[REF_SHA256_LEN],
                          struct ref_hmac_sha256_key *hmac_out)
{
    static const char terminator[] = "aws4_request";
    /* "AWS4"+secret: on the stack for every secret that fits a block after the prefix (the
     * HMAC hashes a longer key down anyway, so longer ones are hashed here in two parts). */
    uint8_t first[BLOCK_BYTES];
    size_t first_len;
    if (secret_access_key.len <= BLOCK_BYTES - 4) {
        memcpy(first, "AWS4", 4);
        if (secret_access_key.len > 0) {
            memcpy(first + 4, secret_access_key.ptr, secret_access_key.len);
        }
        first_len = 4 + secret_access_key.len;
    } else {
        SHA256_CTX c;
        SHA256_Init(&c);
        SHA256_Update(&c, "AWS4", 4);
        SHA256_Update(&c, secret_access_key.ptr, secret_access_key.len);
        SHA256_Final(first, &c);
        ref_mem_wipe(&c, sizeof c);
        first_len = REF_SHA256_LEN;
    }
    uint8_t k_date[REF_SHA256_LEN];
    uint8_t k_region[REF_SHA256_LEN];
    uint8_t k_service[REF_SHA256_LEN];
    ref_hmac_sha256(first, first_len, date.ptr, date.len, k_date);
    ref_hmac_sha256(k_date, sizeof k_date, region.ptr, region.len, k_region);
    ref_hmac_sha256(k_region, sizeof k_region, service.ptr, service.len, k_service);
    ref_hmac_sha256(k_service, sizeof k_service, terminator, sizeof terminator - 1, key_out);
    if (hmac_out != NULL) {
        ref_hmac_sha256_key_init(hmac_out, key_out, REF_SHA256_LEN);
    }
    ref_mem_wipe(first, sizeof first);
    ref_mem_wipe(k_date, sizeof k_date);
    ref_mem_wipe(k_region, sizeof k_region);
    ref_mem_wipe(k_service, sizeof k_service);
}
