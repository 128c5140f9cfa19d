/* SPDX-License-Identifier: Apache-2.0
 *
 * test_sigv4_key_cache.c - the signing-key cache: hits and misses, its bound, that what
 * leaves it (by eviction or when it is freed) is wiped, many threads at once, and that a
 * verifier or signer with a cache decides and signs exactly as one without.
 *
 * Wiping is checked through the allocator seam (ref/mem.h): the cache is one allocation,
 * so hooks that remember it can look at its bytes after an eviction, and a free hook can
 * look at them just before they are released.
 */
#include "sigv4_test_support.h"
#include "test_util.h"

#include "ref/mem.h"
#include "ref/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define THREADS            32
#define LOOKUPS_PER_THREAD 3000
#define THREAD_KEYS        24

static void derive(const char *secret,
                   const char *date,
                   const char *region,
                   const char *service,
                   uint8_t key[REF_SHA256_LEN])
{
    assert_int_equal(ref_sigv4_signing_key(ref_slice_from_cstr(secret), ref_slice_from_cstr(date),
                                           ref_slice_from_cstr(region),
                                           ref_slice_from_cstr(service), key),
                     REF_OK);
}

static void cached(struct ref_sigv4_key_cache *c,
                   const char *secret,
                   const char *date,
                   const char *region,
                   const char *service,
                   uint8_t key[REF_SHA256_LEN])
{
    assert_int_equal(ref_sigv4_key_cache_get(c, ref_slice_from_cstr(secret),
                                             ref_slice_from_cstr(date), ref_slice_from_cstr(region),
                                             ref_slice_from_cstr(service), key),
                     REF_OK);
}

/* Where `needle` occurs in the n bytes at hay, or NULL. */
static const void *find_bytes(const void *hay, size_t n, const void *needle, size_t len)
{
    const uint8_t *h = hay;
    for (size_t i = 0; i + len <= n; i++) {
        if (memcmp(h + i, needle, len) == 0) {
            return h + i;
        }
    }
    return NULL;
}

/* --- Allocation hooks that remember block sizes and inspect blocks on free. --------- */

#define HOOK_HEADER 16

static const void *s_forbidden[4]; /* byte strings no freed block may still hold */
static size_t s_forbidden_len[4];
static size_t s_num_forbidden;
static size_t s_forbidden_found;
static uint8_t *s_biggest; /* the largest live block handed out, and its size */
static size_t s_biggest_len;

static void *hook_alloc(size_t n)
{
    uint8_t *p = malloc(n + HOOK_HEADER);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, &n, sizeof n);
    if (n > s_biggest_len) {
        s_biggest = p + HOOK_HEADER;
        s_biggest_len = n;
    }
    return p + HOOK_HEADER;
}

static void hook_free(void *q)
{
    if (q == NULL) {
        return;
    }
    uint8_t *p = (uint8_t *)q - HOOK_HEADER;
    size_t n;
    memcpy(&n, p, sizeof n);
    for (size_t i = 0; i < s_num_forbidden; i++) {
        if (find_bytes(q, n, s_forbidden[i], s_forbidden_len[i]) != NULL) {
            s_forbidden_found++;
        }
    }
    if (q == s_biggest) {
        s_biggest = NULL;
        s_biggest_len = 0;
    }
    free(p);
}

static void *hook_realloc(void *q, size_t n)
{
    void *fresh = hook_alloc(n);
    if (fresh == NULL || q == NULL) {
        return fresh;
    }
    size_t old;
    memcpy(&old, (uint8_t *)q - HOOK_HEADER, sizeof old);
    memcpy(fresh, q, old < n ? old : n);
    hook_free(q);
    return fresh;
}

static void hooks_on(void)
{
    static const struct ref_mem_hooks hooks = {hook_alloc, hook_realloc, hook_free};
    s_num_forbidden = 0;
    s_forbidden_found = 0;
    s_biggest = NULL;
    s_biggest_len = 0;
    ref_mem_set_hooks(&hooks);
}

/* --- Tests ---------------------------------------------------------------------------- */

static void test_sigv4_key_cache_rejects_zero_entries(void **state)
{
    (void)state;
    assert_null(ref_sigv4_key_cache_new(0));
    ref_sigv4_key_cache_free(NULL);
    /* Without a cache the lookup derives. */
    uint8_t want[REF_SHA256_LEN], got[REF_SHA256_LEN];
    derive(T_SK_MAIN, "20261128", T_REGION, T_SERVICE, want);
    cached(NULL, T_SK_MAIN, "20261128", T_REGION, T_SERVICE, got);
    assert_memory_equal(got, want, sizeof want);
}

static void test_sigv4_key_cache_hit_and_miss(void **state)
{
    (void)state;
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(16);
    assert_non_null(c);
    uint8_t want[REF_SHA256_LEN], got[REF_SHA256_LEN];
    derive(T_SK_MAIN, "20261128", T_REGION, T_SERVICE, want);
    cached(c, T_SK_MAIN, "20261128", T_REGION, T_SERVICE, got);
    assert_memory_equal(got, want, sizeof want);
    memset(got, 0, sizeof got);
    cached(c, T_SK_MAIN, "20261128", T_REGION, T_SERVICE, got);
    assert_memory_equal(got, want, sizeof want);
    struct ref_sigv4_key_cache_stats st;
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.evictions, 0);

    /* Each part of the key is part of the identity: a change is a miss with its own key. */
    const char *variants[][4] = {
        {T_SK_SESSION, "20261128", T_REGION, T_SERVICE},
        {T_SK_MAIN, "20261129", T_REGION, T_SERVICE},
        {T_SK_MAIN, "20261128", "eu-west-1", T_SERVICE},
        {T_SK_MAIN, "20261128", T_REGION, "s3"},
        /* Same bytes moved across the part boundaries must not collide either. */
        {T_SK_MAIN "2", "0261128", T_REGION, T_SERVICE},
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        uint8_t v_want[REF_SHA256_LEN], v_got[REF_SHA256_LEN];
        derive(variants[i][0], variants[i][1], variants[i][2], variants[i][3], v_want);
        cached(c, variants[i][0], variants[i][1], variants[i][2], variants[i][3], v_got);
        assert_memory_equal(v_got, v_want, sizeof v_want);
        assert_memory_not_equal(v_got, want, sizeof want);
    }
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.misses, 1 + sizeof variants / sizeof variants[0]);
    assert_int_equal(st.hits, 1);
    ref_sigv4_key_cache_free(c);
}

static void test_sigv4_key_cache_is_bounded(void **state)
{
    (void)state;
    const size_t max_entries[] = {1, 3, 4, 5, 8, 64};
    for (size_t k = 0; k < sizeof max_entries / sizeof max_entries[0]; k++) {
        struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(max_entries[k]);
        assert_non_null(c);
        for (int i = 0; i < 200; i++) {
            char secret[32];
            snprintf(secret, sizeof secret, "secret-%d", i);
            uint8_t want[REF_SHA256_LEN], got[REF_SHA256_LEN];
            derive(secret, "20261128", T_REGION, T_SERVICE, want);
            cached(c, secret, "20261128", T_REGION, T_SERVICE, got);
            assert_memory_equal(got, want, sizeof want);
            struct ref_sigv4_key_cache_stats st;
            ref_sigv4_key_cache_stats(c, &st);
            assert_true(st.capacity >= 1 && st.capacity <= max_entries[k]);
            assert_true(st.entries <= st.capacity);
            assert_int_equal(st.misses, (uint64_t)i + 1);
            assert_int_equal(st.evictions, st.misses - st.entries);
        }
        ref_sigv4_key_cache_free(c);
    }
}

static void test_sigv4_key_cache_keeps_recently_used(void **state)
{
    (void)state;
    /* One bucket of four: the entry used last must outlive three newer ones. */
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(4);
    uint8_t key[REF_SHA256_LEN];
    const char *secrets[] = {"a-secret", "b-secret", "c-secret", "d-secret", "e-secret"};
    for (size_t i = 0; i < 4; i++) {
        cached(c, secrets[i], "20261128", T_REGION, T_SERVICE, key);
    }
    cached(c, secrets[0], "20261128", T_REGION, T_SERVICE, key); /* a is now the newest */
    cached(c, secrets[4], "20261128", T_REGION, T_SERVICE, key); /* evicts b */
    struct ref_sigv4_key_cache_stats st;
    ref_sigv4_key_cache_stats(c, &st);
    uint64_t hits = st.hits;
    cached(c, secrets[0], "20261128", T_REGION, T_SERVICE, key);
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.hits, hits + 1);
    cached(c, secrets[1], "20261128", T_REGION, T_SERVICE, key);
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.hits, hits + 1);
    ref_sigv4_key_cache_free(c);
}

static void test_sigv4_key_cache_eviction_wipes(void **state)
{
    (void)state;
    /* A long secret whose tail a shorter successor could not overwrite by itself. */
    char long_secret[121];
    for (size_t i = 0; i < sizeof long_secret - 1; i++) {
        long_secret[i] = (char)('A' + (i * 7) % 26);
    }
    long_secret[sizeof long_secret - 1] = '\0';
    uint8_t old_key[REF_SHA256_LEN], new_key[REF_SHA256_LEN], again[REF_SHA256_LEN];

    hooks_on();
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(1);
    assert_non_null(c);
    uint8_t *arena = s_biggest;
    size_t arena_len = s_biggest_len;
    assert_non_null(arena);
    cached(c, long_secret, "20261128", T_REGION, T_SERVICE, old_key);
    const char *tail = long_secret + 100;
    assert_non_null(find_bytes(arena, arena_len, tail, 20));
    assert_non_null(find_bytes(arena, arena_len, old_key, sizeof old_key));

    cached(c, "short", "20261128", T_REGION, T_SERVICE, new_key);
    struct ref_sigv4_key_cache_stats st;
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.evictions, 1);
    /* Nothing of the evicted entry is left: not its secret, not its key. */
    assert_null(find_bytes(arena, arena_len, tail, 20));
    assert_null(find_bytes(arena, arena_len, long_secret, 20));
    assert_null(find_bytes(arena, arena_len, old_key, sizeof old_key));
    /* The survivor still answers. */
    cached(c, "short", "20261128", T_REGION, T_SERVICE, again);
    assert_memory_equal(again, new_key, sizeof new_key);
    ref_sigv4_key_cache_free(c);
    ref_mem_set_hooks(NULL);
}

static void test_sigv4_key_cache_free_wipes(void **state)
{
    (void)state;
    uint8_t key1[REF_SHA256_LEN], key2[REF_SHA256_LEN];
    hooks_on();
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(8);
    assert_non_null(c);
    cached(c, T_SK_MAIN, "20261128", T_REGION, T_SERVICE, key1);
    cached(c, T_SK_SESSION, "20261128", T_REGION, T_SERVICE, key2);
    /* Both are in the cache's memory now... */
    assert_non_null(find_bytes(s_biggest, s_biggest_len, T_SK_MAIN, strlen(T_SK_MAIN)));
    assert_non_null(find_bytes(s_biggest, s_biggest_len, key2, sizeof key2));
    /* ...and gone from it by the time it is released. */
    s_forbidden[0] = T_SK_MAIN;
    s_forbidden_len[0] = strlen(T_SK_MAIN);
    s_forbidden[1] = T_SK_SESSION;
    s_forbidden_len[1] = strlen(T_SK_SESSION);
    s_forbidden[2] = key1;
    s_forbidden_len[2] = sizeof key1;
    s_forbidden[3] = key2;
    s_forbidden_len[3] = sizeof key2;
    s_num_forbidden = 4;
    ref_sigv4_key_cache_free(c);
    s_num_forbidden = 0;
    ref_mem_set_hooks(NULL);
    assert_int_equal(s_forbidden_found, 0);
}

static void test_sigv4_key_cache_clear_wipes_and_forgets(void **state)
{
    (void)state;
    uint8_t key1[REF_SHA256_LEN], key2[REF_SHA256_LEN], again[REF_SHA256_LEN];
    hooks_on();
    /* Buckets over several words of the clear's bitmap (64 buckets a word). */
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(1024);
    assert_non_null(c);
    uint8_t *arena = s_biggest;
    size_t arena_len = s_biggest_len;
    /* The bytes of a cache nothing was put in yet, to compare with after the clear. */
    uint8_t *fresh = malloc(arena_len);
    assert_non_null(fresh);
    memcpy(fresh, arena, arena_len);
    cached(c, T_SK_MAIN, "20261128", T_REGION, T_SERVICE, key1);
    cached(c, T_SK_SESSION, "20261128", T_REGION, T_SERVICE, key2);
    cached(c, T_SK_MAIN, "20261128", T_REGION, T_SERVICE, again);
    for (int i = 0; i < 300; i++) {
        char secret[32];
        snprintf(secret, sizeof secret, "secret-%d", i);
        cached(c, secret, "20261128", T_REGION, T_SERVICE, again);
    }
    assert_non_null(find_bytes(arena, arena_len, key1, sizeof key1));

    ref_sigv4_key_cache_clear(c);
    /* Nothing of either entry is left, and nothing else differs from a new cache: counters
     * and recency ticks start over too. */
    assert_null(find_bytes(arena, arena_len, T_SK_MAIN, strlen(T_SK_MAIN)));
    assert_null(find_bytes(arena, arena_len, T_SK_SESSION, strlen(T_SK_SESSION)));
    assert_null(find_bytes(arena, arena_len, key1, sizeof key1));
    assert_null(find_bytes(arena, arena_len, key2, sizeof key2));
    assert_memory_equal(arena, fresh, arena_len);
    free(fresh);
    struct ref_sigv4_key_cache_stats st;
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.hits + st.misses + st.evictions, 0);
    assert_int_equal(st.capacity, 1024);

    /* It goes on working: a miss that derives the same key, then a hit. */
    cached(c, T_SK_MAIN, "20261128", T_REGION, T_SERVICE, again);
    assert_memory_equal(again, key1, sizeof key1);
    cached(c, T_SK_MAIN, "20261128", T_REGION, T_SERVICE, again);
    assert_memory_equal(again, key1, sizeof key1);
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 1);
    ref_sigv4_key_cache_free(c);
    ref_mem_set_hooks(NULL);
    ref_sigv4_key_cache_clear(NULL);
}

static void test_sigv4_key_cache_long_parts_bypass(void **state)
{
    (void)state;
    /* Parts past the entry limits are derived every time, still right, never stored. */
    char secret[REF_SIGV4_KEY_CACHE_MAX_SECRET_BYTES + 2];
    memset(secret, 's', sizeof secret - 1);
    secret[sizeof secret - 1] = '\0';
    char region[REF_SIGV4_KEY_CACHE_MAX_PART_BYTES + 2];
    memset(region, 'r', sizeof region - 1);
    region[sizeof region - 1] = '\0';
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(8);
    uint8_t want[REF_SHA256_LEN], got[REF_SHA256_LEN];
    derive(secret, "20261128", T_REGION, T_SERVICE, want);
    cached(c, secret, "20261128", T_REGION, T_SERVICE, got);
    assert_memory_equal(got, want, sizeof want);
    derive(T_SK_MAIN, "20261128", region, T_SERVICE, want);
    cached(c, T_SK_MAIN, "20261128", region, T_SERVICE, got);
    assert_memory_equal(got, want, sizeof want);
    struct ref_sigv4_key_cache_stats st;
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.entries, 0);
    ref_sigv4_key_cache_free(c);
}

/* The chain against OpenSSL's own HMAC, for secrets on both sides of the one-block
 * boundary of "AWS4"+secret (the derivation hashes a longer first key down). */
static void openssl_hmac(const void *key, size_t key_len, const char *data, uint8_t out[32])
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    size_t out_len = 0;
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len,
                              (const unsigned char *)data, strlen(data), out, 32, &out_len));
    assert_int_equal(out_len, 32);
#else
    unsigned int out_len = 0;
    assert_non_null(HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, strlen(data),
                         out, &out_len));
#endif
}

static void test_sigv4_key_cache_chain_any_secret_length(void **state)
{
    (void)state;
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(4);
    const size_t lengths[] = {0, 1, 40, 59, 60, 61, 64, 100, 128, 129, 300};
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        char secret[301];
        for (size_t i = 0; i < lengths[k]; i++) {
            secret[i] = (char)('a' + i % 26);
        }
        secret[lengths[k]] = '\0';
        uint8_t first[4 + 300];
        memcpy(first, "AWS4", 4);
        memcpy(first + 4, secret, lengths[k]);
        uint8_t k_date[32], k_region[32], k_service[32], want[32], got[32];
        openssl_hmac(first, 4 + lengths[k], "20261128", k_date);
        openssl_hmac(k_date, 32, T_REGION, k_region);
        openssl_hmac(k_region, 32, T_SERVICE, k_service);
        openssl_hmac(k_service, 32, "aws4_request", want);
        derive(secret, "20261128", T_REGION, T_SERVICE, got);
        assert_memory_equal(got, want, sizeof want);
        cached(c, secret, "20261128", T_REGION, T_SERVICE, got);
        assert_memory_equal(got, want, sizeof want);
    }
    ref_sigv4_key_cache_free(c);
}

struct thread_arg {
    struct ref_sigv4_key_cache *cache;
    unsigned seed;
    unsigned wrong;
};

static char s_thread_secrets[THREAD_KEYS][32];
static uint8_t s_thread_keys[THREAD_KEYS][REF_SHA256_LEN];

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    unsigned x = a->seed;
    for (unsigned i = 0; i < LOOKUPS_PER_THREAD; i++) {
        x = x * 1103515245u + 12345u;
        unsigned k = (x >> 16) % THREAD_KEYS;
        uint8_t got[REF_SHA256_LEN];
        if (ref_sigv4_key_cache_get(a->cache, ref_slice_from_cstr(s_thread_secrets[k]),
                                    REF_SLICE_LIT("20261128"), REF_SLICE_LIT(T_REGION),
                                    REF_SLICE_LIT(T_SERVICE), got) != REF_OK ||
            memcmp(got, s_thread_keys[k], sizeof got) != 0) {
            a->wrong++;
        }
    }
    return NULL;
}

static void test_sigv4_key_cache_many_threads(void **state)
{
    (void)state;
    for (unsigned k = 0; k < THREAD_KEYS; k++) {
        snprintf(s_thread_secrets[k], sizeof s_thread_secrets[k], "thread-secret-%u", k);
        derive(s_thread_secrets[k], "20261128", T_REGION, T_SERVICE, s_thread_keys[k]);
    }
    /* Fewer entries than keys, so that threads evict each other's entries all the time. */
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(8);
    pthread_t threads[THREADS];
    struct thread_arg args[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        args[i] = (struct thread_arg){.cache = c, .seed = i * 7919u + 1u, .wrong = 0};
        assert_int_equal(pthread_create(&threads[i], NULL, thread_main, &args[i]), 0);
    }
    unsigned wrong = 0;
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        wrong += args[i].wrong;
    }
    assert_int_equal(wrong, 0);
    struct ref_sigv4_key_cache_stats st;
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.hits + st.misses, (uint64_t)THREADS * LOOKUPS_PER_THREAD);
    assert_true(st.entries <= st.capacity && st.capacity <= 8);
    assert_true(st.evictions > 0);
    ref_sigv4_key_cache_free(c);
}

static atomic_uint s_threads_done;

static void *thread_main_then_count(void *p)
{
    (void)thread_main(p);
    atomic_fetch_add(&s_threads_done, 1);
    return NULL;
}

/* Clears while other threads look keys up: every lookup still gets the right key, and once
 * the threads are done a last clear leaves nothing behind. */
static void test_sigv4_key_cache_clear_while_in_use(void **state)
{
    (void)state;
    for (unsigned k = 0; k < THREAD_KEYS; k++) {
        snprintf(s_thread_secrets[k], sizeof s_thread_secrets[k], "thread-secret-%u", k);
        derive(s_thread_secrets[k], "20261128", T_REGION, T_SERVICE, s_thread_keys[k]);
    }
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(512);
    pthread_t threads[THREADS / 4];
    struct thread_arg args[THREADS / 4];
    for (unsigned i = 0; i < THREADS / 4; i++) {
        args[i] = (struct thread_arg){.cache = c, .seed = i * 104729u + 3u, .wrong = 0};
        assert_int_equal(pthread_create(&threads[i], NULL, thread_main_then_count, &args[i]), 0);
    }
    unsigned clears = 0;
    while (atomic_load(&s_threads_done) < THREADS / 4) {
        ref_sigv4_key_cache_clear(c);
        clears++;
    }
    assert_true(clears > 0);
    unsigned wrong = 0;
    for (unsigned i = 0; i < THREADS / 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        wrong += args[i].wrong;
    }
    assert_int_equal(wrong, 0);
    ref_sigv4_key_cache_clear(c);
    struct ref_sigv4_key_cache_stats st;
    ref_sigv4_key_cache_stats(c, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.hits + st.misses + st.evictions, 0);
    ref_sigv4_key_cache_free(c);
}

/* A verifier with a cache and one without reach the same verdict on the same requests,
 * and a signer signs the same with or without one. */
static void test_sigv4_key_cache_verifier_and_signer_agree(void **state)
{
    (void)state;
    struct ref_sigv4_key_cache *c = ref_sigv4_key_cache_new(REF_SIGV4_KEY_CACHE_DEFAULT_ENTRIES);
    struct ref_sigv4_verifier plain = test_verifier();
    struct ref_sigv4_verifier with_cache = test_verifier();
    with_cache.key_cache = c;
    for (int variant = 0; variant < 4; variant++) {
        struct treq t;
        treq_init(&t, "DELETE", "/2012-09-25/jobs/2222222222222-abcdef", "", "");
        treq_add(&t, "Host", "127.0.0.1:8080");
        treq_add(&t, "X-Amz-Date", T_NOW_DATE);
        const char *sk = variant == 1 ? "not-the-secret" : T_SK_MAIN;
        treq_sign_with(&t, T_AK_MAIN, sk, T_REGION, T_SERVICE, T_NOW_DATE, "host;x-amz-date");
        if (variant == 2) {
            treq_add(&t, "X-Extra", "unsigned");
        }
        if (variant == 3) {
            t.req.path = REF_SLICE_LIT("/2012-09-25/jobs/2222222222222-abcdeg");
        }
        for (int round = 0; round < 2; round++) {
            struct ref_sigv4_outcome a, b;
            enum ref_status ra = ref_sigv4_verify(&plain, &t.req, T_NOW_S, &a, NULL);
            enum ref_status rb = ref_sigv4_verify(&with_cache, &t.req, T_NOW_S, &b, NULL);
            assert_int_equal(ra, rb);
            assert_string_equal(a.message, b.message);
            assert_int_equal(ra, variant == 0 || variant == 2 ? REF_OK : REF_E_SIGNATURE_MISMATCH);
        }
        treq_cleanup(&t);
    }

    struct treq t;
    treq_init(&t, "GET", "/2012-09-25/jobs/2222222222222-abcdef", "", "");
    treq_add(&t, "Host", "127.0.0.1:8080");
    treq_add(&t, "X-Amz-Date", T_NOW_DATE);
    struct ref_sigv4_sign_params p = {
        .access_key_id = REF_SLICE_LIT(T_AK_MAIN),
        .secret_access_key = REF_SLICE_LIT(T_SK_MAIN),
        .region = REF_SLICE_LIT(T_REGION),
        .service = REF_SLICE_LIT(T_SERVICE),
        .amz_date = REF_SLICE_LIT(T_NOW_DATE),
    };
    struct ref_buf a, b;
    ref_buf_init(&a, 4096);
    ref_buf_init(&b, 4096);
    assert_int_equal(ref_sigv4_sign(&p, &t.req, &a, NULL), REF_OK);
    p.key_cache = c;
    for (int round = 0; round < 2; round++) {
        ref_buf_reset(&b);
        assert_int_equal(ref_sigv4_sign(&p, &t.req, &b, NULL), REF_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
    }
    ref_buf_cleanup(&a);
    ref_buf_cleanup(&b);
    treq_cleanup(&t);
    ref_sigv4_key_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_key_cache_rejects_zero_entries),
        cmocka_unit_test(test_sigv4_key_cache_hit_and_miss),
        cmocka_unit_test(test_sigv4_key_cache_is_bounded),
        cmocka_unit_test(test_sigv4_key_cache_keeps_recently_used),
        cmocka_unit_test(test_sigv4_key_cache_eviction_wipes),
        cmocka_unit_test(test_sigv4_key_cache_free_wipes),
        cmocka_unit_test(test_sigv4_key_cache_clear_wipes_and_forgets),
        cmocka_unit_test(test_sigv4_key_cache_clear_while_in_use),
        cmocka_unit_test(test_sigv4_key_cache_long_parts_bypass),
        cmocka_unit_test(test_sigv4_key_cache_chain_any_secret_length),
        cmocka_unit_test(test_sigv4_key_cache_many_threads),
        cmocka_unit_test(test_sigv4_key_cache_verifier_and_signer_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
