/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_floor.c - the crypto floor of one SigV4 signature, the yardstick of `etch bench`.
 *
 * Written against OpenSSL's low-level SHA256_Init/Update/Final, with HMAC spelled out on
 * top of them (RFC 2104, key padded to one block), on fixed buffers: the least work any
 * signer or verifier must do for one CancelJob signature, with nothing else around it.
 * Those calls are deprecated in OpenSSL 3 but remain the fastest route to the assembly
 * block function; the warning is silenced in this file alone. It shares no code with the
 * reference, so the yardstick does not move when the reference does.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "bench.h"

#include <openssl/sha.h>

#include <string.h>

#define BLOCK_BYTES 64
/* The string to sign of any ordinary request fits here; the floor refuses larger ones. */
#define STS_MAX_BYTES 512

static void floor_hmac(const uint8_t *key,
                       size_t key_len,
                       const void *data,
                       size_t data_len,
                       uint8_t out[SHA256_DIGEST_LENGTH])
{
    uint8_t block[BLOCK_BYTES] = {0};
    uint8_t pad[BLOCK_BYTES];
    uint8_t inner[SHA256_DIGEST_LENGTH];
    SHA256_CTX c;
    if (key_len > BLOCK_BYTES) {
        SHA256_Init(&c);
        SHA256_Update(&c, key, key_len);
        SHA256_Final(block, &c);
    } else {
        memcpy(block, key, key_len);
    }
    for (size_t i = 0; i < BLOCK_BYTES; i++) {
        pad[i] = (uint8_t)(block[i] ^ 0x36);
    }
    SHA256_Init(&c);
    SHA256_Update(&c, pad, BLOCK_BYTES);
    SHA256_Update(&c, data, data_len);
    SHA256_Final(inner, &c);
    for (size_t i = 0; i < BLOCK_BYTES; i++) {
        pad[i] = (uint8_t)(block[i] ^ 0x5c);
    }
    SHA256_Init(&c);
    SHA256_Update(&c, pad, BLOCK_BYTES);
    SHA256_Update(&c, inner, sizeof inner);
    SHA256_Final(out, &c);
}

static void to_hex(const uint8_t *md, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 0x0f];
    }
}

void bench_floor_signing_key(const struct bench_floor_input *in, uint8_t key[REF_SHA256_LEN])
{
    uint8_t first[4 + 256];
    size_t first_len = in->secret_len <= 256 ? in->secret_len : 256;
    memcpy(first, "AWS4", 4);
    memcpy(first + 4, in->secret, first_len);
    uint8_t k_date[SHA256_DIGEST_LENGTH];
    uint8_t k_region[SHA256_DIGEST_LENGTH];
    uint8_t k_service[SHA256_DIGEST_LENGTH];
    floor_hmac(first, 4 + first_len, in->date, strlen(in->date), k_date);
    floor_hmac(k_date, sizeof k_date, in->region, strlen(in->region), k_region);
    floor_hmac(k_region, sizeof k_region, in->service, strlen(in->service), k_service);
    floor_hmac(k_service, sizeof k_service, "aws4_request", 12, key);
}

bool bench_floor_sign_cached(const struct bench_floor_input *in,
                             const uint8_t key[REF_SHA256_LEN],
                             char sig_hex[REF_SHA256_HEX_LEN])
{
    uint8_t sts[STS_MAX_BYTES];
    if (in->sts_prefix_len + REF_SHA256_HEX_LEN > sizeof sts) {
        return false;
    }
    /* The string to sign ends in the hex hash of the canonical request. */
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, in->canonical_request, in->canonical_request_len);
    SHA256_Final(md, &c);
    memcpy(sts, in->sts_prefix, in->sts_prefix_len);
    to_hex(md, sizeof md, (char *)sts + in->sts_prefix_len);
    uint8_t mac[SHA256_DIGEST_LENGTH];
    floor_hmac(key, REF_SHA256_LEN, sts, in->sts_prefix_len + REF_SHA256_HEX_LEN, mac);
    to_hex(mac, sizeof mac, sig_hex);
    return true;
}

bool bench_floor_sign(const struct bench_floor_input *in, char sig_hex[REF_SHA256_HEX_LEN])
{
    uint8_t key[REF_SHA256_LEN];
    bench_floor_signing_key(in, key);
    return bench_floor_sign_cached(in, key, sig_hex);
}
