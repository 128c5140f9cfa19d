/* SPDX-License-Identifier: Apache-2.0
 *
 * sigv4_key_cache.c - a bounded, thread-safe cache of SigV4 signing keys.
 *
 * The cache is one allocation: a set-associative table of buckets, each with its own lock
 * and up to WAYS entries, so threads verifying requests of different principals rarely
 * meet on a lock and a lookup never allocates. An entry keeps the parts it was derived
 * from (secret included, to tell keys apart), the signing key and its prepared HMAC states,
 * so a hit costs the final HMAC only. Entries are replaced least recently used first within
 * their bucket; whatever leaves the cache, by eviction or by ref_sigv4_key_cache_free, is
 * wiped first (contract section 5). Counters live in the buckets, under their locks, so
 * that lookups from many threads do not fight over one cache line. After the buckets, the
 * same allocation holds one bit per bucket that has been written to since the last clear,
 * so that ref_sigv4_key_cache_clear visits those buckets alone, not the whole capacity.
 */
#include "ref/sigv4.h"

#include "ref/mem.h"

#include "sigv4_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* Entries per bucket: enough that a few principals sharing a bucket do not evict each
 * other, few enough that a lookup compares at most four. */
#define WAYS 4

struct entry {
    uint64_t last_used; /* the bucket's tick at the last hit; 0: empty */
    uint64_t hash;
    uint8_t secret_len;
    uint8_t date_len;
    uint8_t region_len;
    uint8_t service_len;
    uint8_t secret[REF_SIGV4_KEY_CACHE_MAX_SECRET_BYTES];
    uint8_t date[REF_SIGV4_KEY_CACHE_MAX_DATE_BYTES];
    uint8_t region[REF_SIGV4_KEY_CACHE_MAX_PART_BYTES];
    uint8_t service[REF_SIGV4_KEY_CACHE_MAX_PART_BYTES];
    uint8_t key[REF_SHA256_LEN];
    struct ref_hmac_sha256_key hmac;
};

struct bucket {
    pthread_mutex_t lock;
    uint64_t tick;
    uint64_t hits;
    uint64_t misses;
    uint64_t evictions;
    struct entry entries[WAYS];
};

struct ref_sigv4_key_cache {
    size_t num_buckets;
    size_t ways; /* WAYS, or fewer for a cache smaller than one bucket */
    /* Bit i % 64 of word i / 64: bucket i holds an entry or a count (set under the bucket's
     * lock, whenever an entry goes in; taken by a clear). Points past the buckets. */
    _Atomic uint64_t *written;
    struct bucket buckets[];
};

#define WORD_BITS 64

/* What one lookup is about. */
struct parts {
    struct ref_slice secret, date, region, service;
    uint64_t hash;
};

static bool parts_fit(const struct parts *p)
{
    return p->secret.len <= REF_SIGV4_KEY_CACHE_MAX_SECRET_BYTES &&
           p->date.len <= REF_SIGV4_KEY_CACHE_MAX_DATE_BYTES &&
           p->region.len <= REF_SIGV4_KEY_CACHE_MAX_PART_BYTES &&
           p->service.len <= REF_SIGV4_KEY_CACHE_MAX_PART_BYTES;
}

/* A multiply-xor mix, eight bytes at a time: only chooses the bucket, since every entry is
 * compared in full, so it need not resist anything (and none of the parts is chosen by a
 * client: the verifier has checked the scope against its own settings by then). */
static uint64_t mix(uint64_t h, struct ref_slice s)
{
    const uint64_t k = UINT64_C(0x9E3779B97F4A7C15);
    size_t i = 0;
    for (; i + 8 <= s.len; i += 8) {
        uint64_t w;
        memcpy(&w, s.ptr + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    uint64_t tail = s.len;
    for (; i < s.len; i++) {
        tail = (tail << 8) | s.ptr[i];
    }
    h = (h ^ tail) * k;
    return h ^ (h >> 32);
}

static uint64_t parts_hash(const struct parts *p)
{
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    h = mix(h, p->secret);
    h = mix(h, p->date);
    h = mix(h, p->region);
    return mix(h, p->service);
}

static bool bytes_eq(const uint8_t *stored, size_t stored_len, struct ref_slice s)
{
    return stored_len == s.len && (s.len == 0 || memcmp(stored, s.ptr, s.len) == 0);
}

static bool entry_matches(const struct entry *e, const struct parts *p)
{
    /* The secret last and in constant time: the other parts are public. */
    return e->last_used != 0 && e->hash == p->hash && bytes_eq(e->date, e->date_len, p->date) &&
           bytes_eq(e->region, e->region_len, p->region) &&
           bytes_eq(e->service, e->service_len, p->service) && e->secret_len == p->secret.len &&
           (p->secret.len == 0 || ref_ct_equal(e->secret, p->secret.ptr, p->secret.len));
}

static struct entry *bucket_find(struct bucket *b, size_t ways, const struct parts *p)
{
    for (size_t i = 0; i < ways; i++) {
        if (entry_matches(&b->entries[i], p)) {
            return &b->entries[i];
        }
    }
    return NULL;
}

static void copy_part(uint8_t *dst, uint8_t *len_out, struct ref_slice s)
{
    if (s.len > 0) {
        memcpy(dst, s.ptr, s.len);
    }
    *len_out = (uint8_t)s.len;
}

/* Puts a freshly derived key in its bucket (locked by the caller): into the entry another
 * thread may have filled meanwhile, else an empty one, else the least recently used, wiped
 * first. */
static void bucket_insert(struct bucket *b,
                          size_t ways,
                          const struct parts *p,
                          const uint8_t key[REF_SHA256_LEN],
                          const struct ref_hmac_sha256_key *hmac)
{
    struct entry *e = bucket_find(b, ways, p);
    if (e == NULL) {
        e = &b->entries[0];
        for (size_t i = 1; i < ways && e->last_used != 0; i++) {
            if (b->entries[i].last_used < e->last_used) {
                e = &b->entries[i];
            }
        }
        if (e->last_used != 0) {
            b->evictions++;
        }
        ref_mem_wipe(e, sizeof *e);
        e->hash = p->hash;
        copy_part(e->secret, &e->secret_len, p->secret);
        copy_part(e->date, &e->date_len, p->date);
        copy_part(e->region, &e->region_len, p->region);
        copy_part(e->service, &e->service_len, p->service);
    }
    memcpy(e->key, key, REF_SHA256_LEN);
    e->hmac = *hmac;
    e->last_used = ++b->tick;
}

/* The lookup behind both entry points: the key, its prepared HMAC states, or both. */
static void lookup(struct ref_sigv4_key_cache *cache,
                   const struct parts *in,
                   uint8_t key_out[REF_SHA256_LEN],
                   struct ref_hmac_sha256_key *hmac_out)
{
    struct parts p = *in;
    struct bucket *b = NULL;
    if (cache != NULL && parts_fit(&p)) {
        p.hash = parts_hash(&p);
        b = &cache->buckets[p.hash % cache->num_buckets];
        pthread_mutex_lock(&b->lock);
        struct entry *e = bucket_find(b, cache->ways, &p);
        if (e != NULL) {
            e->last_used = ++b->tick;
            b->hits++;
            if (key_out != NULL) {
                memcpy(key_out, e->key, REF_SHA256_LEN);
            }
            if (hmac_out != NULL) {
                *hmac_out = e->hmac;
            }
            pthread_mutex_unlock(&b->lock);
            return;
        }
        b->misses++;
        pthread_mutex_unlock(&b->lock);
    }
    /* Derived outside the lock: a miss costs the chain, and other keys of the bucket need
     * not wait for it. Two threads missing the same key both derive it; the second insert
     * refreshes the first's entry. */
    uint8_t key[REF_SHA256_LEN];
    struct ref_hmac_sha256_key hmac;
    ref_sigv4_derive_key(p.secret, p.date, p.region, p.service, key, &hmac);
    if (b != NULL) {
        size_t i = (size_t)(b - cache->buckets);
        pthread_mutex_lock(&b->lock);
        bucket_insert(b, cache->ways, &p, key, &hmac);
        /* Every hit, miss and eviction of a bucket follows (or, for the miss, precedes
         * within this same lookup) an insert: a bucket whose bit is clear is all zeros. */
        atomic_fetch_or_explicit(&cache->written[i / WORD_BITS], UINT64_C(1) << (i % WORD_BITS),
                                 memory_order_release);
        pthread_mutex_unlock(&b->lock);
    }
    if (key_out != NULL) {
        memcpy(key_out, key, REF_SHA256_LEN);
    }
    if (hmac_out != NULL) {
        *hmac_out = hmac;
    }
    ref_mem_wipe(key, sizeof key);
    ref_hmac_sha256_key_wipe(&hmac);
}

struct ref_sigv4_key_cache *ref_sigv4_key_cache_new(size_t max_entries)
{
    if (max_entries == 0) {
        return NULL;
    }
    size_t ways = max_entries < WAYS ? max_entries : WAYS;
    size_t num_buckets = max_entries / ways;
    size_t words = num_buckets / WORD_BITS + 1;
    /* The buckets, then the bit words (at most num_buckets + 8 bytes of them): a bucket's
     * size is a multiple of its uint64_t members' alignment, so the words are aligned. */
    if (num_buckets > (SIZE_MAX - sizeof(struct ref_sigv4_key_cache) - sizeof(uint64_t)) /
                          (sizeof(struct bucket) + 1)) {
        return NULL;
    }
    size_t buckets_bytes = num_buckets * sizeof(struct bucket);
    struct ref_sigv4_key_cache *cache =
        ref_mem_calloc(1, sizeof(*cache) + buckets_bytes + words * sizeof(uint64_t));
    if (cache == NULL) {
        return NULL;
    }
    cache->num_buckets = num_buckets;
    cache->ways = ways;
    cache->written = (_Atomic uint64_t *)(void *)((uint8_t *)cache->buckets + buckets_bytes);
    for (size_t i = 0; i < words; i++) {
        atomic_init(&cache->written[i], 0);
    }
    for (size_t i = 0; i < num_buckets; i++) {
        if (pthread_mutex_init(&cache->buckets[i].lock, NULL) != 0) {
            for (size_t j = 0; j < i; j++) {
                pthread_mutex_destroy(&cache->buckets[j].lock);
            }
            ref_mem_free(cache);
            return NULL;
        }
    }
    return cache;
}

void ref_sigv4_key_cache_free(struct ref_sigv4_key_cache *cache)
{
    if (cache == NULL) {
        return;
    }
    for (size_t i = 0; i < cache->num_buckets; i++) {
        struct bucket *b = &cache->buckets[i];
        pthread_mutex_destroy(&b->lock);
        ref_mem_wipe(b->entries, sizeof b->entries);
    }
    ref_mem_free(cache);
}

void ref_sigv4_key_cache_clear(struct ref_sigv4_key_cache *cache)
{
    if (cache == NULL) {
        return;
    }
    size_t words = cache->num_buckets / WORD_BITS + 1;
    for (size_t w = 0; w < words; w++) {
        /* Taken before the buckets are: an insert after this sets its bit again, for the
         * next clear, and is not undone by this one unless it reaches its bucket first. */
        uint64_t bits = atomic_exchange_explicit(&cache->written[w], 0, memory_order_acq_rel);
        while (bits != 0) {
            struct bucket *b = &cache->buckets[w * WORD_BITS + (size_t)__builtin_ctzll(bits)];
            bits &= bits - 1;
            pthread_mutex_lock(&b->lock);
            /* An entry never used is still all zeros (bucket_insert wipes before it fills),
             * so wiping the used ones leaves the bucket as calloc made it. */
            for (size_t j = 0; j < cache->ways; j++) {
                if (b->entries[j].last_used != 0) {
                    ref_mem_wipe(&b->entries[j], sizeof b->entries[j]);
                }
            }
            b->tick = 0;
            b->hits = 0;
            b->misses = 0;
            b->evictions = 0;
            pthread_mutex_unlock(&b->lock);
        }
    }
}

enum ref_status ref_sigv4_key_cache_get(struct ref_sigv4_key_cache *cache,
                                        struct ref_slice secret_access_key,
                                        struct ref_slice date,
                                        struct ref_slice region,
                                        struct ref_slice service,
                                        uint8_t key_out[REF_SHA256_LEN])
{
    struct parts p = {secret_access_key, date, region, service, 0};
    lookup(cache, &p, key_out, NULL);
    return REF_OK;
}

void ref_sigv4_key_cache_get_hmac(struct ref_sigv4_key_cache *cache,
                                  struct ref_slice secret_access_key,
                                  struct ref_slice date,
                                  struct ref_slice region,
                                  struct ref_slice service,
                                  struct ref_hmac_sha256_key *out)
{
    struct parts p = {secret_access_key, date, region, service, 0};
    lookup(cache, &p, NULL, out);
}

void ref_sigv4_key_cache_stats(struct ref_sigv4_key_cache *cache,
                               struct ref_sigv4_key_cache_stats *out)
{
    *out = (struct ref_sigv4_key_cache_stats){0};
    if (cache == NULL) {
        return;
    }
    out->capacity = cache->num_buckets * cache->ways;
    for (size_t i = 0; i < cache->num_buckets; i++) {
        struct bucket *b = &cache->buckets[i];
        pthread_mutex_lock(&b->lock);
        out->hits += b->hits;
        out->misses += b->misses;
        out->evictions += b->evictions;
        for (size_t j = 0; j < cache->ways; j++) {
            out->entries += b->entries[j].last_used != 0 ? 1 : 0;
        }
        pthread_mutex_unlock(&b->lock);
    }
}
