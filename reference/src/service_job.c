/* SPDX-License-Identifier: Apache-2.0
 *
 * service_job.c - the five job operations, CreateJob's body rules and the job as stored
 * (contract revision 2, sections 1, 1b and 2b).
 *
 * The modelled members of a CreateJob body (the model's CreateJobRequest, JobInput,
 * CreateJobOutput, CreateJobPlaylist and the structures under them) are one schema table,
 * s_create_job, walked by service_schema.c for JSON types, then for shapes, and to store the
 * job: a body is judged in the contract's order, and nothing it carries outside the model is
 * stored or echoed. Patterns are checked where the contract names them (section 2b); the
 * other modelled members are checked for their JSON types only.
 *
 * The operations (CancelJob, ReadJob, the two job lists, CreateJob) come last: each checks
 * its parameters, asks the store and answers; CreateJob tells the scheduler of its job.
 */
#include "service_internal.h"

#include "ref/limits.h"

#include <stdio.h>
#include <string.h>

/* A member the contract gives no rule for beyond its JSON type. */
#define PLAIN(k, p)                                                                                \
    {                                                                                              \
        .key = (k), .path = (p), .kind = REF_MEMBER_STRING                                         \
    }
#define INTEGER(k, p)                                                                              \
    {                                                                                              \
        .key = (k), .path = (p), .kind = REF_MEMBER_INTEGER                                        \
    }

static const struct ref_member s_encryption_members[] = {
    PLAIN("Mode", "mode"),
    PLAIN("Key", "key"),
    PLAIN("KeyMd5", "keyMd5"),
    PLAIN("InitializationVector", "initializationVector"),
};

#define ENCRYPTION(k, p)                                                                           \
    {                                                                                              \
        .key = (k), .path = (p), .kind = REF_MEMBER_STRUCTURE, REF_MEMBERS(s_encryption_members)   \
    }

static const struct ref_member s_time_span_members[] = {
    PLAIN("StartTime", "startTime"),
    PLAIN("Duration", "duration"),
};

static const struct ref_member s_caption_source_members[] = {
    PLAIN("Key", "key"),
    PLAIN("Language", "language"),
    PLAIN("TimeOffset", "timeOffset"),
    PLAIN("Label", "label"),
    ENCRYPTION("Encryption", "encryption"),
};

static const struct ref_member s_caption_source = {.kind = REF_MEMBER_STRUCTURE,
                                                   REF_MEMBERS(s_caption_source_members)};

static const struct ref_member s_input_captions_members[] = {
    PLAIN("MergePolicy", "mergePolicy"),
    {.key = "CaptionSources",
     .path = "captionSources",
     .kind = REF_MEMBER_LIST,
     .members = &s_caption_source,
     .num_members = 1,
     .max_items = REF_MAX_CAPTION_SOURCES},
};

static const struct ref_member s_detected_properties_members[] = {
    INTEGER("Width", "width"),
    INTEGER("Height", "height"),
    PLAIN("FrameRate", "frameRate"),
    INTEGER("FileSize", "fileSize"),
    INTEGER("DurationMillis", "durationMillis"),
};

/* JobInput: Input, and each of Inputs. Key is required: contract 1 ("each with Key"). */
static const struct ref_member s_input_members[] = {
    {.key = "Key",
     .path = "key",
     .kind = REF_MEMBER_STRING,
     .is_required = true,
     .min_chars = 1,
     .max_chars = REF_MAX_INPUT_KEY_CHARS},
    {.key = "FrameRate",
     .path = "frameRate",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_frame_rate,
     .pattern = REF_PATTERN_FRAME_RATE},
    {.key = "Resolution",
     .path = "resolution",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_resolution,
     .pattern = REF_PATTERN_RESOLUTION},
    {.key = "AspectRatio",
     .path = "aspectRatio",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_aspect_ratio,
     .pattern = REF_PATTERN_ASPECT_RATIO},
    {.key = "Interlaced",
     .path = "interlaced",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_interlaced,
     .pattern = REF_PATTERN_INTERLACED},
    {.key = "Container",
     .path = "container",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_container,
     .pattern = REF_PATTERN_CONTAINER},
    ENCRYPTION("Encryption", "encryption"),
    {.key = "TimeSpan",
     .path = "timeSpan",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_time_span_members)},
    {.key = "InputCaptions",
     .path = "inputCaptions",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_input_captions_members)},
    {.key = "DetectedProperties",
     .path = "detectedProperties",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_detected_properties_members)},
};

static const struct ref_member s_input = {.kind = REF_MEMBER_STRUCTURE,
                                          REF_MEMBERS(s_input_members)};

static const struct ref_member s_watermark_members[] = {
    PLAIN("PresetWatermarkId", "presetWatermarkId"),
    PLAIN("InputKey", "inputKey"),
    ENCRYPTION("Encryption", "encryption"),
};

static const struct ref_member s_watermark = {.kind = REF_MEMBER_STRUCTURE,
                                              REF_MEMBERS(s_watermark_members)};

static const struct ref_member s_artwork_members[] = {
    PLAIN("InputKey", "inputKey"),           PLAIN("MaxWidth", "maxWidth"),
    PLAIN("MaxHeight", "maxHeight"),         PLAIN("SizingPolicy", "sizingPolicy"),
    PLAIN("PaddingPolicy", "paddingPolicy"), PLAIN("AlbumArtFormat", "albumArtFormat"),
    ENCRYPTION("Encryption", "encryption"),
};

static const struct ref_member s_artwork = {.kind = REF_MEMBER_STRUCTURE,
                                            REF_MEMBERS(s_artwork_members)};

static const struct ref_member s_album_art_members[] = {
    PLAIN("MergePolicy", "mergePolicy"),
    {.key = "Artwork",
     .path = "artwork",
     .kind = REF_MEMBER_LIST,
     .members = &s_artwork,
     .num_members = 1},
};

static const struct ref_member s_clip_members[] = {
    {.key = "TimeSpan",
     .path = "timeSpan",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_time_span_members)},
};

static const struct ref_member s_clip = {.kind = REF_MEMBER_STRUCTURE, REF_MEMBERS(s_clip_members)};

static const struct ref_member s_caption_format_members[] = {
    PLAIN("Format", "format"),
    PLAIN("Pattern", "pattern"),
    ENCRYPTION("Encryption", "encryption"),
};

static const struct ref_member s_caption_format = {.kind = REF_MEMBER_STRUCTURE,
                                                   REF_MEMBERS(s_caption_format_members)};

static const struct ref_member s_captions_members[] = {
    PLAIN("MergePolicy", "mergePolicy"),
    {.key = "CaptionSources",
     .path = "captionSources",
     .kind = REF_MEMBER_LIST,
     .members = &s_caption_source,
     .num_members = 1,
     .max_items = REF_MAX_CAPTION_SOURCES},
    {.key = "CaptionFormats",
     .path = "captionFormats",
     .kind = REF_MEMBER_LIST,
     .members = &s_caption_format,
     .num_members = 1,
     .max_items = REF_MAX_CAPTION_FORMATS},
};

/* CreateJobOutput: Output, and each of Outputs. Key and PresetId are required: contract 1. */
static const struct ref_member s_output_members[] = {
    {.key = "Key",
     .path = "key",
     .kind = REF_MEMBER_STRING,
     .is_required = true,
     .min_chars = 1,
     .max_chars = REF_MAX_KEY_CHARS},
    {.key = "ThumbnailPattern",
     .path = "thumbnailPattern",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_thumbnail_pattern,
     .pattern = REF_PATTERN_THUMBNAIL_PATTERN},
    ENCRYPTION("ThumbnailEncryption", "thumbnailEncryption"),
    {.key = "Rotate",
     .path = "rotate",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_rotate,
     .pattern = REF_PATTERN_ROTATE},
    {.key = "PresetId",
     .path = "presetId",
     .kind = REF_MEMBER_STRING,
     .is_required = true,
     .checker = ref_job_id_is_valid,
     .pattern = REF_PATTERN_ID},
    {.key = "SegmentDuration",
     .path = "segmentDuration",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_float_string,
     .pattern = REF_PATTERN_FLOAT_STRING},
    {.key = "Watermarks",
     .path = "watermarks",
     .kind = REF_MEMBER_LIST,
     .members = &s_watermark,
     .num_members = 1},
    {.key = "AlbumArt",
     .path = "albumArt",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_album_art_members)},
    {.key = "Composition",
     .path = "composition",
     .kind = REF_MEMBER_LIST,
     .members = &s_clip,
     .num_members = 1},
    {.key = "Captions",
     .path = "captions",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_captions_members)},
    ENCRYPTION("Encryption", "encryption"),
};

static const struct ref_member s_output = {.kind = REF_MEMBER_STRUCTURE,
                                           REF_MEMBERS(s_output_members)};

static const struct ref_member s_output_key = {
    .kind = REF_MEMBER_STRING, .is_required = true, .min_chars = 1, .max_chars = REF_MAX_KEY_CHARS};

static const struct ref_member s_hls_content_protection_members[] = {
    PLAIN("Method", "method"),
    PLAIN("Key", "key"),
    PLAIN("KeyMd5", "keyMd5"),
    PLAIN("InitializationVector", "initializationVector"),
    PLAIN("LicenseAcquisitionUrl", "licenseAcquisitionUrl"),
    PLAIN("KeyStoragePolicy", "keyStoragePolicy"),
};

static const struct ref_member s_play_ready_drm_members[] = {
    PLAIN("Format", "format"),
    PLAIN("Key", "key"),
    PLAIN("KeyMd5", "keyMd5"),
    PLAIN("KeyId", "keyId"),
    PLAIN("InitializationVector", "initializationVector"),
    PLAIN("LicenseAcquisitionUrl", "licenseAcquisitionUrl"),
};

/* CreateJobPlaylist: Name and Format are required (contract 2b). */
static const struct ref_member s_playlist_members[] = {
    {.key = "Name",
     .path = "name",
     .kind = REF_MEMBER_STRING,
     .is_required = true,
     .min_chars = 1,
     .max_chars = REF_MAX_KEY_CHARS},
    {.key = "Format",
     .path = "format",
     .kind = REF_MEMBER_STRING,
     .is_required = true,
     .checker = ref_shape_playlist_format,
     .pattern = REF_PATTERN_PLAYLIST_FORMAT},
    {.key = "OutputKeys",
     .path = "outputKeys",
     .kind = REF_MEMBER_LIST,
     .members = &s_output_key,
     .num_members = 1,
     .max_items = REF_MAX_PLAYLIST_OUTPUT_KEYS},
    {.key = "HlsContentProtection",
     .path = "hlsContentProtection",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_hls_content_protection_members)},
    {.key = "PlayReadyDrm",
     .path = "playReadyDrm",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_play_ready_drm_members)},
};

static const struct ref_member s_playlist = {.kind = REF_MEMBER_STRUCTURE,
                                             REF_MEMBERS(s_playlist_members)};

/* The CreateJob request. Inputs and Outputs have a minimum of 1 (contract 1 and 2; the
 * model gives only their maximum). */
static const struct ref_member s_create_job_members[] = {
    {.key = "PipelineId",
     .path = "pipelineId",
     .kind = REF_MEMBER_STRING,
     .is_required = true,
     .checker = ref_job_id_is_valid,
     .pattern = REF_PATTERN_ID},
    {.key = "Input", .path = "input", .kind = REF_MEMBER_STRUCTURE, REF_MEMBERS(s_input_members)},
    {.key = "Inputs",
     .path = "inputs",
     .kind = REF_MEMBER_LIST,
     .members = &s_input,
     .num_members = 1,
     .min_items = 1,
     .max_items = REF_MAX_JOB_INPUTS},
    {.key = "Output",
     .path = "output",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_output_members)},
    {.key = "Outputs",
     .path = "outputs",
     .kind = REF_MEMBER_LIST,
     .members = &s_output,
     .num_members = 1,
     .min_items = 1,
     .max_items = REF_MAX_JOB_OUTPUTS},
    {.key = "OutputKeyPrefix",
     .path = "outputKeyPrefix",
     .kind = REF_MEMBER_STRING,
     .min_chars = 1,
     .max_chars = REF_MAX_KEY_CHARS},
    {.key = "Playlists",
     .path = "playlists",
     .kind = REF_MEMBER_LIST,
     .members = &s_playlist,
     .num_members = 1,
     .max_items = REF_MAX_PLAYLISTS},
    {.key = "UserMetadata",
     .path = "userMetadata",
     .kind = REF_MEMBER_MAP,
     .checker = ref_shape_user_metadata,
     .pattern = "Member must contain only the characters 0-9, A-Z, a-z, space and _.:/=+-%@",
     .max_items = REF_MAX_USER_METADATA},
};

static const struct ref_member s_create_job = {.kind = REF_MEMBER_STRUCTURE,
                                               REF_MEMBERS(s_create_job_members)};

/* True when key (a string) is the Key of one of the job's outputs. */
static bool names_output(const json_t *output, const json_t *outputs, const json_t *key)
{
    if (output != NULL) {
        return json_equal(ref_schema_value(output, "Key"), key);
    }
    for (size_t i = 0; i < json_array_size(outputs); i++) {
        if (json_equal(ref_schema_value(json_array_get(outputs, i), "Key"), key)) {
            return true;
        }
    }
    return false;
}

/* The rules of contract 2b between members. No source gives their messages; they keep the
 * "N validation errors detected" form of the shapes. */
static enum ref_status check_rules(struct ref_verr *v, const json_t *body)
{
    const json_t *input = ref_schema_value(body, "Input");
    const json_t *inputs = ref_schema_value(body, "Inputs");
    const json_t *output = ref_schema_value(body, "Output");
    const json_t *outputs = ref_schema_value(body, "Outputs");
    if (input != NULL && inputs != NULL) {
        REF_TRY(ref_verr_text(v, "Specify either 'input' or 'inputs', not both"));
    } else if (input == NULL && inputs == NULL) {
        REF_TRY(ref_verr_text(v, "One of 'input' and 'inputs' must be specified"));
    }
    if (output != NULL && outputs != NULL) {
        REF_TRY(ref_verr_text(v, "Specify either 'output' or 'outputs', not both"));
    } else if (output == NULL && outputs == NULL) {
        REF_TRY(ref_verr_text(v, "One of 'output' and 'outputs' must be specified"));
    }
    if (v->count > 0) {
        return REF_OK; /* which outputs the job has is not settled */
    }
    const json_t *playlists = ref_schema_value(body, "Playlists");
    for (size_t i = 0; i < json_array_size(playlists); i++) {
        const json_t *keys = ref_schema_value(json_array_get(playlists, i), "OutputKeys");
        for (size_t k = 0; k < json_array_size(keys); k++) {
            const json_t *key = json_array_get(keys, k);
            if (names_output(output, outputs, key)) {
                continue;
            }
            char path[96];
            int n = snprintf(path, sizeof(path), "playlists.%zu.member.outputKeys.%zu.member",
                             i + 1, k + 1);
            if (n < 0 || (size_t)n >= sizeof(path)) {
                return REF_E_INTERNAL;
            }
            REF_TRY(ref_verr_add(v, ref_slice_make(json_string_value(key), json_string_length(key)),
                                 path, "Member must be the Key of one of the job's outputs"));
        }
    }
    return REF_OK;
}

enum ref_status ref_job_check(const json_t *body, struct ref_buf *msg)
{
    struct ref_verr v;
    ref_verr_init(&v);
    enum ref_status rc = ref_schema_check_types(&v, &s_create_job, body);
    if (rc == REF_OK && v.count == 0) {
        rc = ref_schema_check_shapes(&v, &s_create_job, body);
    }
    if (rc == REF_OK && v.count == 0) {
        rc = check_rules(&v, body);
    }
    if (rc == REF_OK && v.count > 0) {
        rc = ref_verr_message(&v, msg);
        rc = rc == REF_OK ? REF_E_VALIDATION : rc;
    }
    ref_verr_cleanup(&v);
    return rc;
}

/* A list of the modelled members of one element (`single`, e.g. Input) or of each element
 * of a list (`list`, e.g. Inputs): the job stores both forms as the list. */
static json_t *as_list(const struct ref_member *m, const json_t *single, const json_t *list)
{
    if (single == NULL) {
        return ref_schema_copy(m, list);
    }
    json_t *l = json_array();
    if (l == NULL || json_array_append_new(l, ref_schema_copy(m->members, single)) != 0) {
        json_decref(l);
        return NULL;
    }
    return l;
}

json_t *ref_job_spec(const json_t *body)
{
    json_t *spec = json_object();
    int bad = spec == NULL;
    for (size_t i = 0; !bad && i < s_create_job.num_members; i++) {
        const struct ref_member *m = &s_create_job.members[i];
        const json_t *v = ref_schema_value(body, m->key);
        json_t *out;
        if (strcmp(m->key, "Inputs") == 0) {
            out = as_list(m, ref_schema_value(body, "Input"), v);
        } else if (strcmp(m->key, "Outputs") == 0) {
            out = as_list(m, ref_schema_value(body, "Output"), v);
        } else if (strcmp(m->key, "Playlists") == 0) {
            out = v != NULL ? ref_schema_copy(m, v) : json_array(); /* [] when none: 1b */
        } else if (v == NULL || strcmp(m->key, "PipelineId") == 0 || strcmp(m->key, "Input") == 0 ||
                   strcmp(m->key, "Output") == 0) {
            continue; /* not sent, the store's own, or folded into the list form */
        } else {
            out = ref_schema_copy(m, v);
        }
        bad = json_object_set_new(spec, m->key, out) != 0;
    }
    if (bad) {
        json_decref(spec);
        return NULL;
    }
    return spec;
}

/* --- Job operations ----------------------------------------------------------------- */

enum ref_status ref_svc_cancel_job(struct ref_op_ctx *c)
{
    REF_TRY(ref_svc_validate_id_label_only(c));
    struct ref_job_change change;
    enum ref_status rc =
        ref_job_store_apply(c->svc->store, c->label, REF_JOB_EV_CANCEL, c->now_ms, &change);
    if (rc == REF_E_IN_USE) {
        return ref_svc_fail(c, rc, "Only a job in Submitted status can be canceled.");
    }
    if (rc != REF_OK) {
        return ref_svc_store_failure(c, rc, "job");
    }
    return ref_svc_answer_success_true(c);
}

/* A job's answer, written straight into the response (ref_out_job_answer). */
static enum ref_status
answer_job(struct ref_op_ctx *c, int http_status, const struct ref_job_info *info)
{
    ref_buf_reset(&c->resp->body);
    return ref_svc_answer_written(
        c, http_status,
        ref_out_job_answer(info, c->svc->region, c->svc->account_id, &c->resp->body));
}

enum ref_status ref_svc_read_job(struct ref_op_ctx *c)
{
    REF_TRY(ref_svc_validate_id_label_only(c));
    struct ref_job_info info;
    enum ref_status rc = ref_job_store_read_job(c->svc->store, c->label, &info);
    if (rc != REF_OK) {
        return ref_svc_store_failure(c, rc, "job");
    }
    rc = answer_job(c, 200, &info);
    ref_job_info_cleanup(&info);
    return rc;
}

static json_t *jobs_body(struct ref_op_ctx *c, const struct ref_job_page *page)
{
    json_t *jobs = json_array();
    json_t *token = page->has_next ? json_stringn(page->next_token, REF_ID_LEN) : json_null();
    int bad = (jobs == NULL || token == NULL);
    for (size_t i = 0; i < page->count && !bad; i++) {
        bad |= json_array_append_new(
            jobs, ref_out_job(&page->items[i], c->svc->region, c->svc->account_id));
    }
    if (bad) {
        json_decref(jobs);
        json_decref(token);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "Jobs", jobs, "NextPageToken", token);
}

/* ListJobsByPipeline and ListJobsByStatus: the label is the filter. */
static enum ref_status list_jobs(struct ref_op_ctx *c, bool is_by_pipeline)
{
    struct ref_verr v;
    ref_verr_init(&v);
    struct ref_list_params p = {0};
    ref_buf_init(&p.token, REF_ID_LEN);
    struct ref_job_query q = {0};
    enum ref_status rc;
    if (is_by_pipeline) {
        rc = ref_svc_check_id_label(c, &v, "pipelineId");
        q.pipeline_id = c->label;
    } else {
        q.status = ref_job_status_from_name(c->label);
        rc = q.status != REF_JOB_STATUS_NONE
                 ? REF_OK
                 : ref_verr_pattern(&v, c->label, "status", REF_PATTERN_JOB_STATUS);
    }
    if (rc == REF_OK) {
        rc = ref_svc_parse_list_query(c, &v, &p);
    }
    if (rc == REF_OK) {
        rc = ref_svc_verr_finish(c, &v);
    }
    struct ref_job_page page = {0};
    if (rc == REF_OK) {
        q.is_descending = p.is_descending;
        q.page_token = ref_buf_slice(&p.token);
        rc = ref_job_store_list_jobs(c->svc->store, &q, &page);
        if (rc == REF_E_VALIDATION) {
            rc = ref_svc_fail(c, rc, "The page token was not issued by this service.");
        } else if (rc == REF_E_NOT_FOUND) {
            rc = ref_svc_pipeline_not_found(c, c->label);
        } else if (rc != REF_OK) {
            rc = ref_svc_store_failure(c, rc, "pipeline");
        } else {
            rc = ref_svc_answer(c, 200, jobs_body(c, &page));
        }
    }
    ref_job_page_cleanup(&page);
    ref_buf_cleanup(&p.token);
    ref_verr_cleanup(&v);
    return rc;
}

enum ref_status ref_svc_list_jobs_by_pipeline(struct ref_op_ctx *c)
{
    return list_jobs(c, true);
}

enum ref_status ref_svc_list_jobs_by_status(struct ref_op_ctx *c)
{
    return list_jobs(c, false);
}

enum ref_status ref_svc_create_job(struct ref_op_ctx *c)
{
    json_t *body = NULL;
    REF_TRY(ref_svc_parse_body(c, &body));
    ref_buf_reset(c->msg);
    enum ref_status rc = ref_job_check(body, c->msg);
    json_t *spec = NULL;
    if (rc == REF_OK) {
        spec = ref_job_spec(body);
        rc = spec != NULL ? REF_OK : REF_E_NOMEM;
    }
    if (rc == REF_OK) {
        const json_t *pid = ref_svc_member(body, "PipelineId");
        struct ref_slice pipeline_id =
            ref_slice_make(json_string_value(pid), json_string_length(pid));
        struct ref_job_info info;
        rc = ref_job_store_create_job(c->svc->store, c->now_ms, (struct ref_slice){NULL, 0},
                                      pipeline_id, REF_JOB_SUBMITTED, spec, &info);
        if (rc == REF_E_LIMIT_EXCEEDED) {
            rc = ref_svc_fail(c, rc, "Too many queued jobs.");
        } else if (rc == REF_E_NOT_FOUND) {
            rc = ref_svc_pipeline_not_found(c, pipeline_id);
        } else if (rc == REF_OK) {
            ref_svc_schedule_job_added(c->svc, &info);
            rc = answer_job(c, 201, &info);
            ref_job_info_cleanup(&info);
        }
    }
    json_decref(spec);
    json_decref(body);
    return rc;
}
