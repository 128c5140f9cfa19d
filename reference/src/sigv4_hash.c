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

/* The two lower-case hex digits of every byte value, so that a byte costs one copy. */
static const char s_hex_pairs[512 + 1] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

void ref_sha256_to_hex(const uint8_t md[REF_SHA256_LEN], char out[REF_SHA256_HEX_LEN])
{
    /* Four bytes a step (every request hashes its body and its string to sign). */
    for (size_t i = 0; i < REF_SHA256_LEN; i += 4) {
        memcpy(out + 2 * i, s_hex_pairs + 2 * md[i], 2);
        memcpy(out + 2 * i + 2, s_hex_pairs + 2 * md[i + 1], 2);
        memcpy(out + 2 * i + 4, s_hex_pairs + 2 * md[i + 2], 2);
        memcpy(out + 2 * i + 6, s_hex_pairs + 2 * md[i + 3], 2);
    }
}

bool ref_ct_equal(const void *a, const void *b, size_t len)
{
    /* Every word is looked at whatever the earlier ones held: the time depends on len
     * only. Eight bytes at a time, then the tail. */
    const uint8_t *x = a;
    const uint8_t *y = b;
    uint64_t diff = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t u;
        uint64_t v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        diff |= u ^ v;
    }
    for (; i < len; i++) {
        diff |= (uint64_t)(x[i] ^ y[i]);
    }
    return diff == 0;
}

/* out = in ^ the pad byte repeated, a word at a time: every key derivation prepares five
 * keys, and byte by byte that was 640 steps (each a compare under the fuzz targets'
 * coverage instrumentation) where 80 do. */
static void xor_block(uint8_t out[BLOCK_BYTES], const uint8_t in[BLOCK_BYTES], uint64_t pad)
{
    uint64_t w;
    for (size_t i = 0; i < BLOCK_BYTES; i += 8) {
        memcpy(&w, in + i, 8);
        w ^= pad;
        memcpy(out + i, &w, 8);
    }
    ref_mem_wipe(&w, sizeof w); /* key material too */
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
    xor_block(pad, block, UINT64_C(0x3636363636363636));
    SHA256_Init(&k->inner);
    SHA256_Update(&k->inner, pad, BLOCK_BYTES);
    xor_block(pad, block, UINT64_C(0x5c5c5c5c5c5c5c5c));
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
