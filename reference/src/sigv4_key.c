/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_key.c - the public hashing stages of sigv4.h: SHA-256 hex, the SigV4 signing-key
 * chain and the final HMAC.
 *
 * They are thin wrappers over sigv4_hash.c, which works on OpenSSL's low-level SHA-256
 * with no per-call algorithm lookup and no allocation. Every derived key is wiped before
 * it goes out of scope.
 */
#include "ref/sigv4.h"

#include "ref/mem.h"

#include "sigv4_internal.h"

#include <string.h>

/* SHA-256 of the empty string: the payload hash of every request without a body, which
 * is most of them (GET, DELETE), so it is not recomputed each time. */
static const char s_empty_sha256_hex[REF_SHA256_HEX_LEN + 1] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void ref_sigv4_sha256_hex(struct ref_slice data, char out[REF_SHA256_HEX_LEN])
{
    if (data.len == 0) {
        memcpy(out, s_empty_sha256_hex, REF_SHA256_HEX_LEN);
        return;
    }
    uint8_t md[REF_SHA256_LEN];
    ref_sha256(data.ptr, data.len, md);
    ref_sha256_to_hex(md, out);
}

enum ref_status ref_sigv4_signing_key(struct ref_slice secret_access_key,
                                      struct ref_slice date,
                                      struct ref_slice region,
                                      struct ref_slice service,
                                      uint8_t key_out[REF_SHA256_LEN])
{
    ref_sigv4_derive_key(secret_access_key, date, region, service, key_out, NULL);
    return REF_OK;
}

enum ref_status ref_sigv4_signature(const uint8_t key[REF_SHA256_LEN],
                                    struct ref_slice string_to_sign,
                                    char out[REF_SHA256_HEX_LEN])
{
    uint8_t mac[REF_SHA256_LEN];
    ref_hmac_sha256(key, REF_SHA256_LEN, string_to_sign.ptr, string_to_sign.len, mac);
    ref_sha256_to_hex(mac, out);
    ref_mem_wipe(mac, sizeof mac);
    return REF_OK;
}
