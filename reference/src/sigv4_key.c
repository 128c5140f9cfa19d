/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_key.c - SHA-256 hex, the SigV4 signing-key chain and the final HMAC.
 *
 * The SHA-256 and HMAC algorithm objects are looked up once per process (OpenSSL 3
 * fetches are not free), then every call only creates a context. Every derived key and
 * the "AWS4"+secret buffer are wiped before they go out of scope.
 */
#include "ref/sigv4.h"

#include "ref/mem.h"

#include <openssl/evp.h>
#include <openssl/opensslv.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/core_names.h>
#else
#include <openssl/hmac.h>
#endif

#include <limits.h>
#include <pthread.h>

static pthread_once_t s_crypto_once = PTHREAD_ONCE_INIT;
static const EVP_MD *s_sha256;

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static EVP_MD *s_sha256_fetched;
static EVP_MAC *s_hmac;
/* An HMAC-SHA256 context with the digest chosen but no key: duplicating it skips the
 * digest lookup that EVP_MAC_init with parameters would repeat on every call. */
static EVP_MAC_CTX *s_hmac_template;
static char s_digest_name[] = "SHA256";
#endif

static void crypto_init(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    s_sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
    s_sha256 = s_sha256_fetched != NULL ? s_sha256_fetched : EVP_sha256();
    s_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (s_hmac != NULL) {
        s_hmac_template = EVP_MAC_CTX_new(s_hmac);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, s_digest_name, 0),
            OSSL_PARAM_construct_end(),
        };
        if (s_hmac_template != NULL && EVP_MAC_CTX_set_params(s_hmac_template, params) != 1) {
            EVP_MAC_CTX_free(s_hmac_template);
            s_hmac_template = NULL;
        }
    }
#else
    s_sha256 = EVP_sha256();
#endif
}

static void crypto_ready(void)
{
    (void)pthread_once(&s_crypto_once, crypto_init);
}

/* One HMAC-SHA256 "session": a context that is re-keyed for each step of the chain. */
struct hmac_session {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MAC_CTX *ctx;
#else
    int unused;
#endif
};

static enum ref_status hmac_open(struct hmac_session *h)
{
    crypto_ready();
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    h->ctx = NULL;
    if (s_hmac_template != NULL) {
        h->ctx = EVP_MAC_CTX_dup(s_hmac_template);
    }
    if (h->ctx == NULL && s_hmac != NULL) {
        /* Some 3.0 releases cannot duplicate an un-keyed context: set the digest here. */
        h->ctx = EVP_MAC_CTX_new(s_hmac);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, s_digest_name, 0),
            OSSL_PARAM_construct_end(),
        };
        if (h->ctx != NULL && EVP_MAC_CTX_set_params(h->ctx, params) != 1) {
            EVP_MAC_CTX_free(h->ctx);
            h->ctx = NULL;
        }
    }
    return h->ctx != NULL ? REF_OK : REF_E_INTERNAL;
#else
    h->unused = 0;
    return REF_OK;
#endif
}

static void hmac_close(struct hmac_session *h)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    /* Freeing an HMAC context cleanses its keyed state. */
    EVP_MAC_CTX_free(h->ctx);
    h->ctx = NULL;
#else
    (void)h;
#endif
}

static enum ref_status hmac_run(struct hmac_session *h,
                                const uint8_t *key,
                                size_t key_len,
                                const uint8_t *data,
                                size_t data_len,
                                uint8_t out[REF_SHA256_LEN])
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    size_t out_len = 0;
    if (EVP_MAC_init(h->ctx, key, key_len, NULL) != 1 ||
        EVP_MAC_update(h->ctx, data, data_len) != 1 ||
        EVP_MAC_final(h->ctx, out, &out_len, REF_SHA256_LEN) != 1 || out_len != REF_SHA256_LEN) {
        return REF_E_INTERNAL;
    }
    return REF_OK;
#else
    (void)h;
    unsigned int out_len = 0;
    if (key_len > INT_MAX ||
        HMAC(s_sha256, key, (int)key_len, data, data_len, out, &out_len) == NULL ||
        out_len != REF_SHA256_LEN) {
        return REF_E_INTERNAL;
    }
    return REF_OK;
#endif
}

void ref_sigv4_sha256_hex(struct ref_slice data, char out[REF_SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t md[REF_SHA256_LEN] = {0};
    unsigned int md_len = 0;
    crypto_ready();
    /* EVP_Digest cannot fail for SHA-256 short of an allocation failure; then the all-zero
     * digest stands in, which no real payload hash or signature ever equals. */
    if (EVP_Digest(data.len > 0 ? data.ptr : (const uint8_t *)"", data.len, md, &md_len, s_sha256,
                   NULL) != 1) {
        ref_mem_wipe(md, sizeof md);
    }
    for (size_t i = 0; i < REF_SHA256_LEN; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 0x0f];
    }
}

enum ref_status ref_sigv4_signing_key(struct ref_slice secret_access_key,
                                      struct ref_slice date,
                                      struct ref_slice region,
                                      struct ref_slice service,
                                      uint8_t key_out[REF_SHA256_LEN])
{
    const struct ref_slice terminator = REF_SLICE_LIT("aws4_request");
    /* "AWS4"+secret lives on the stack for ordinary secrets (40 bytes), on the heap only
     * for unusually long ones; both are wiped. */
    uint8_t secret_storage[128];
    struct ref_buf secret;
    if (secret_access_key.len + 4 <= sizeof secret_storage) {
        ref_buf_init_fixed(&secret, secret_storage, sizeof secret_storage);
    } else {
        ref_buf_init(&secret, secret_access_key.len + 4);
    }
    uint8_t k_date[REF_SHA256_LEN];
    uint8_t k_region[REF_SHA256_LEN];
    uint8_t k_service[REF_SHA256_LEN];
    struct hmac_session h;
    enum ref_status rc = hmac_open(&h);
    if (rc != REF_OK) {
        goto out;
    }
    rc = ref_buf_append_cstr(&secret, "AWS4");
    if (rc == REF_OK) {
        rc = ref_buf_append_slice(&secret, secret_access_key);
    }
    if (rc == REF_OK) {
        rc = hmac_run(&h, secret.data, secret.len, date.ptr, date.len, k_date);
    }
    if (rc == REF_OK) {
        rc = hmac_run(&h, k_date, sizeof k_date, region.ptr, region.len, k_region);
    }
    if (rc == REF_OK) {
        rc = hmac_run(&h, k_region, sizeof k_region, service.ptr, service.len, k_service);
    }
    if (rc == REF_OK) {
        rc = hmac_run(&h, k_service, sizeof k_service, terminator.ptr, terminator.len, key_out);
    }
    hmac_close(&h);
out:
    if (rc != REF_OK) {
        ref_mem_wipe(key_out, REF_SHA256_LEN);
    }
    ref_buf_cleanup_secure(&secret);
    ref_mem_wipe(secret_storage, sizeof secret_storage);
    ref_mem_wipe(k_date, sizeof k_date);
    ref_mem_wipe(k_region, sizeof k_region);
    ref_mem_wipe(k_service, sizeof k_service);
    return rc;
}

enum ref_status ref_sigv4_signature(const uint8_t key[REF_SHA256_LEN],
                                    struct ref_slice string_to_sign,
                                    char out[REF_SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t mac[REF_SHA256_LEN];
    struct hmac_session h;
    REF_TRY(hmac_open(&h));
    enum ref_status rc =
        hmac_run(&h, key, REF_SHA256_LEN, string_to_sign.ptr, string_to_sign.len, mac);
    hmac_close(&h);
    if (rc != REF_OK) {
        return rc;
    }
    for (size_t i = 0; i < REF_SHA256_LEN; i++) {
        out[2 * i] = digits[mac[i] >> 4];
        out[2 * i + 1] = digits[mac[i] & 0x0f];
    }
    ref_mem_wipe(mac, sizeof mac);
    return REF_OK;
}
