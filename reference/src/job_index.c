/* SPDX-License-Identifier: Apache-2.0
 *
 * job_index.c - the Id indexes of the job store: one open-addressing hash table per kind
 * (pipelines, jobs) from an Id to its place in the store's array.
 *
 * A slot holds the array index + 1, so the Ids themselves stay in the arrays and the
 * table is a block of size_t. Entries are never removed (deleted pipelines stay as
 * tombstones in their array), which keeps linear probing free of tombstones of its own.
 */
#include "job_store_internal.h"

#include "ref/mem.h"

#include <stdint.h>
#include <string.h>

#define INDEX_MIN_SLOTS 64u

/* An Id (always REF_ID_LEN bytes here) as three overlapping words, each mixed in by a
 * multiply, then a finaliser that spreads every bit over the low ones the table's mask
 * keeps. Word by word rather than byte by byte: lookups are on every request's path, and a
 * loop over the bytes costs a compare per byte under the fuzz targets' coverage
 * instrumentation. Without the finaliser the low bits never saw the last word's top bits,
 * the last two characters of the Id, so Ids that differ only there (a counter, as in
 * seeded or generated Ids) shared one probe chain. */
static uint64_t id_hash_mix(uint64_t h, const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * UINT64_C(0xBF58476D1CE4E5B9);
    return h ^ (h >> 31);
}

uint64_t ref_job_store_id_hash(struct ref_slice id)
{
    uint64_t h = id_hash_mix(UINT64_C(0x9E3779B97F4A7C15), id.ptr);
    h = id_hash_mix(h, id.ptr + 8);
    h = id_hash_mix(h, id.ptr + REF_ID_LEN - 8);
    h = (h ^ (h >> 32)) * UINT64_C(0xD6E8FEB86659FD93);
    h = (h ^ (h >> 32)) * UINT64_C(0xD6E8FEB86659FD93);
    return h ^ (h >> 32);
}

/* The array index holding id, or SIZE_MAX. */
size_t ref_id_index_find(const struct ref_job_store *store,
                         const struct ref_id_index *ix,
                         ref_id_at_fn *id_at,
                         struct ref_slice id)
{
    if (ix->cap == 0 || id.len != REF_ID_LEN) {
        return SIZE_MAX;
    }
    size_t mask = ix->cap - 1;
    for (size_t slot = (size_t)ref_job_store_id_hash(id) & mask;; slot = (slot + 1) & mask) {
        size_t v = ix->slots[slot];
        if (v == 0) {
            return SIZE_MAX;
        }
        if (ref_slice_eq(ref_job_id_slice(id_at(store, v - 1)), id)) {
            return v - 1;
        }
    }
}

void ref_id_index_put(struct ref_id_index *ix, struct ref_slice id, size_t at)
{
    size_t mask = ix->cap - 1;
    size_t slot = (size_t)ref_job_store_id_hash(id) & mask;
    while (ix->slots[slot] != 0) {
        slot = (slot + 1) & mask;
    }
    ix->slots[slot] = at + 1;
    ix->count++;
}

/* Makes sure `more` entries fit at a load of at most one half, rehashing `n` entries. */
enum ref_status ref_id_index_reserve(const struct ref_job_store *store,
                                     struct ref_id_index *ix,
                                     ref_id_at_fn *id_at,
                                     size_t n,
                                     size_t more)
{
    if (more > SIZE_MAX / 4 - ix->count) {
        return REF_E_NOMEM;
    }
    size_t need = (ix->count + more) * 2;
    if (need <= ix->cap) {
        return REF_OK;
    }
    size_t new_cap = ix->cap == 0 ? INDEX_MIN_SLOTS : ix->cap * 2;
    while (new_cap != 0 && new_cap < need) {
        new_cap = new_cap > SIZE_MAX / 2 ? 0 : new_cap * 2;
    }
    if (new_cap == 0 || new_cap > SIZE_MAX / sizeof(size_t)) {
        return REF_E_NOMEM;
    }
    size_t *slots = ref_mem_calloc(new_cap, sizeof(size_t));
    if (slots == NULL) {
        return REF_E_NOMEM;
    }
    ref_mem_free(ix->slots);
    *ix = (struct ref_id_index){.slots = slots, .cap = new_cap, .count = 0};
    for (size_t i = 0; i < n; i++) {
        ref_id_index_put(ix, ref_job_id_slice(id_at(store, i)), i);
    }
    return REF_OK;
}

/* The slots dst's index needs to become a copy of src's: its own when the capacities
 * agree (*fresh stays NULL), else a new array, allocated here before anything changes. */
enum ref_status ref_id_index_copy_prepare(const struct ref_id_index *dst,
                                          const struct ref_id_index *src,
                                          size_t **fresh)
{
    *fresh = NULL;
    if (dst->cap == src->cap || src->cap == 0) {
        return REF_OK;
    }
    *fresh = ref_mem_calloc(src->cap, sizeof(size_t));
    return *fresh != NULL ? REF_OK : REF_E_NOMEM;
}

/* Slot for slot: a slot's place depends on the capacity, so the copy takes src's. */
void ref_id_index_copy(struct ref_id_index *dst, const struct ref_id_index *src, size_t *fresh)
{
    if (dst->cap != src->cap) {
        ref_mem_free(dst->slots);
        dst->slots = fresh;
        dst->cap = src->cap;
    }
    if (src->cap > 0) {
        memcpy(dst->slots, src->slots, src->cap * sizeof(size_t));
    }
    dst->count = src->count;
}
