/* SPDX-License-Identifier: Apache-2.0
 *
 * job_list.c - what the job store hands out: snapshots of a pipeline or a job, and the
 * paged listings of both (ListPipelines, ListJobsByPipeline, ListJobsByStatus).
 *
 * A snapshot is a copy of the stored fields plus a reference to the stored spec, taken
 * under the store's lock, so the caller can read it after the lock is gone. A listing
 * walks the store's arrays in creation order, either way, and a page token is the Id of
 * the next page's first item: handing one out marks that item, and only a marked item is
 * accepted back as a token (contract section 8).
 */
#include "job_store_internal.h"

#include "ref/mem.h"

#include <pthread.h>
#include <stdint.h>

/* --- Snapshots ------------------------------------------------------------------------ */

void ref_pipeline_info_cleanup(struct ref_pipeline_info *info)
{
    if (info != NULL) {
        json_decref(info->spec);
        info->spec = NULL;
    }
}

void ref_job_info_cleanup(struct ref_job_info *info)
{
    if (info != NULL) {
        json_decref(info->spec);
        info->spec = NULL;
    }
}

void ref_pipeline_page_cleanup(struct ref_pipeline_page *page)
{
    if (page == NULL) {
        return;
    }
    for (size_t i = 0; i < page->count; i++) {
        ref_pipeline_info_cleanup(&page->items[i]);
    }
    ref_mem_free(page->items);
    *page = (struct ref_pipeline_page){0};
}

void ref_job_page_cleanup(struct ref_job_page *page)
{
    if (page == NULL) {
        return;
    }
    for (size_t i = 0; i < page->count; i++) {
        ref_job_info_cleanup(&page->items[i]);
    }
    ref_mem_free(page->items);
    *page = (struct ref_job_page){0};
}

/* Snapshots take a reference to the store's spec, which nobody changes once it is stored
 * (job_store.h): a copy per snapshot cost an allocation for every JSON value, on every
 * read and every listed item, for bytes that were never going to differ. */
void ref_store_snapshot_pipeline(const struct ref_store_pipeline *p, struct ref_pipeline_info *out)
{
    *out = (struct ref_pipeline_info){.status = p->status,
                                      .created_ms = p->created_ms,
                                      .active_since_ms = p->active_since_ms,
                                      .spec = json_incref(p->spec)};
    ref_job_id_copy(out->id, ref_job_id_slice(p->id));
}

void ref_store_snapshot_job(const struct ref_job_store *store,
                            const struct ref_store_job *j,
                            struct ref_job_info *out)
{
    *out = (struct ref_job_info){.status = j->status,
                                 .submit_ms = j->submit_ms,
                                 .has_start = j->has_start,
                                 .start_ms = j->start_ms,
                                 .has_finish = j->has_finish,
                                 .finish_ms = j->finish_ms,
                                 .spec = json_incref(j->spec)};
    enum ref_job_event event;
    out->has_next_event = ref_job_next_event(store, j, &out->next_event_ms, &event);
    ref_job_id_copy(out->id, ref_job_id_slice(j->id));
    ref_job_id_copy(out->pipeline_id, ref_job_id_slice(store->pipelines[j->pipeline].id));
}

/* --- Listings ------------------------------------------------------------------------- */

/* Where a listing starts: the item the token names (token_at, SIZE_MAX for none), else
 * the first item in the chosen order. SIZE_MAX means an empty listing. */
static size_t list_start(size_t count, bool is_descending, size_t token_at)
{
    if (token_at != SIZE_MAX) {
        return token_at;
    }
    if (count == 0) {
        return SIZE_MAX;
    }
    return is_descending ? count - 1 : 0;
}

/* The next position in the chosen order, or SIZE_MAX past either end. */
static size_t list_step(size_t at, size_t count, bool is_descending)
{
    if (is_descending) {
        return at == 0 ? SIZE_MAX : at - 1;
    }
    return at + 1 >= count ? SIZE_MAX : at + 1;
}

enum ref_status ref_job_store_list_pipelines(struct ref_job_store *store,
                                             bool is_descending,
                                             struct ref_slice page_token,
                                             struct ref_pipeline_page *out)
{
    *out = (struct ref_pipeline_page){0};
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = REF_OK;
    size_t token_at = SIZE_MAX;
    if (page_token.len != 0) {
        token_at = ref_store_find_pipeline(store, page_token);
        if (token_at == SIZE_MAX || !store->pipelines[token_at].is_token_issued) {
            rc = REF_E_VALIDATION;
            goto out;
        }
    }
    size_t at = list_start(store->num_pipelines, is_descending, token_at);
    out->items = ref_mem_calloc(store->cfg.page_size, sizeof(out->items[0]));
    if (out->items == NULL) {
        rc = REF_E_NOMEM;
        goto out;
    }
    for (; at != SIZE_MAX; at = list_step(at, store->num_pipelines, is_descending)) {
        struct ref_store_pipeline *p = &store->pipelines[at];
        if (p->is_deleted) {
            continue;
        }
        if (out->count == store->cfg.page_size) {
            out->has_next = true;
            ref_job_id_copy(out->next_token, ref_job_id_slice(p->id));
            p->is_token_issued = true;
            break;
        }
        ref_store_snapshot_pipeline(p, &out->items[out->count]);
        out->count++;
    }
out:
    pthread_mutex_unlock(&store->lock);
    if (rc != REF_OK) {
        ref_pipeline_page_cleanup(out);
    }
    return rc;
}

static bool job_matches(const struct ref_store_job *j, size_t pipe, enum ref_job_status status)
{
    return (pipe == SIZE_MAX || j->pipeline == pipe) &&
           (status == REF_JOB_STATUS_NONE || j->status == status);
}

enum ref_status ref_job_store_list_jobs(struct ref_job_store *store,
                                        const struct ref_job_query *q,
                                        struct ref_job_page *out)
{
    *out = (struct ref_job_page){0};
    pthread_mutex_lock(&store->lock);
    enum ref_status rc = REF_OK;
    size_t pipe = SIZE_MAX;
    if (q->pipeline_id.len != 0) {
        pipe = ref_store_find_existing_pipeline(store, q->pipeline_id);
        if (pipe == SIZE_MAX) {
            rc = REF_E_NOT_FOUND;
            goto out;
        }
    }
    size_t token_at = SIZE_MAX;
    if (q->page_token.len != 0) {
        /* A token positions the listing; it need not match the status filter any more
         * (its job may have moved on since), but it must be one this store handed out,
         * for the same pipeline. */
        token_at = ref_store_find_job(store, q->page_token);
        if (token_at == SIZE_MAX || !store->jobs[token_at].is_token_issued ||
            (pipe != SIZE_MAX && store->jobs[token_at].pipeline != pipe)) {
            rc = REF_E_VALIDATION;
            goto out;
        }
    }
    size_t at = list_start(store->num_jobs, q->is_descending, token_at);
    out->items = ref_mem_calloc(store->cfg.page_size, sizeof(out->items[0]));
    if (out->items == NULL) {
        rc = REF_E_NOMEM;
        goto out;
    }
    for (; at != SIZE_MAX; at = list_step(at, store->num_jobs, q->is_descending)) {
        struct ref_store_job *j = &store->jobs[at];
        if (!job_matches(j, pipe, q->status)) {
            continue;
        }
        if (out->count == store->cfg.page_size) {
            out->has_next = true;
            ref_job_id_copy(out->next_token, ref_job_id_slice(j->id));
            j->is_token_issued = true;
            break;
        }
        ref_store_snapshot_job(store, j, &out->items[out->count]);
        out->count++;
    }
out:
    pthread_mutex_unlock(&store->lock);
    if (rc != REF_OK) {
        ref_job_page_cleanup(out);
    }
    return rc;
}
