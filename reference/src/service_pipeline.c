/* SPDX-License-Identifier: Apache-2.0
 *
 * service_pipeline.c - the five pipeline operations, CreatePipeline's body rules, the
 * pipeline as stored and answered, and its Warnings (contract revision 2, sections 1, 1b
 * and 2b).
 *
 * The modelled members of a CreatePipeline body are one schema table, s_create_pipeline,
 * walked by service_schema.c for JSON types, then for shapes, and to store the pipeline, so
 * that a body is judged in the contract's order (wrong types, then shapes, then the rules
 * between members) and nothing else a body carries is ever stored or echoed.
 *
 * The operations (CreatePipeline, ReadPipeline, ListPipelines, UpdatePipelineStatus,
 * DeletePipeline) come last; UpdatePipelineStatus to Active tells the scheduler, since the
 * pipeline's Submitted jobs may then start.
 */
#include "service_internal.h"

#include "ref/limits.h"

static const struct ref_member s_access_control = {.kind = REF_MEMBER_STRING,
                                                   .checker = ref_shape_access_control,
                                                   .pattern = REF_PATTERN_ACCESS_CONTROL};

static const struct ref_member s_permission_members[] = {
    {.key = "GranteeType",
     .path = "granteeType",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_grantee_type,
     .pattern = REF_PATTERN_GRANTEE_TYPE},
    {.key = "Grantee",
     .path = "grantee",
     .kind = REF_MEMBER_STRING,
     .min_chars = 1,
     .max_chars = REF_MAX_GRANTEE_CHARS},
    {.key = "Access",
     .path = "access",
     .kind = REF_MEMBER_LIST,
     .members = &s_access_control,
     .num_members = 1,
     .max_items = REF_MAX_PERMISSION_ACCESS},
};

static const struct ref_member s_permission = {.kind = REF_MEMBER_STRUCTURE,
                                               REF_MEMBERS(s_permission_members)};

/* PipelineOutputConfig, the shape of both ContentConfig and ThumbnailConfig. */
static const struct ref_member s_output_config_members[] = {
    {.key = "Bucket",
     .path = "bucket",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_bucket,
     .pattern = REF_PATTERN_BUCKET},
    {.key = "StorageClass",
     .path = "storageClass",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_storage_class,
     .pattern = REF_PATTERN_STORAGE_CLASS},
    {.key = "Permissions",
     .path = "permissions",
     .kind = REF_MEMBER_LIST,
     .members = &s_permission,
     .num_members = 1,
     .max_items = REF_MAX_PERMISSIONS},
};

/* In the order the answers list them (the guide's samples). */
static const struct ref_member s_notification_members[] = {
    {.key = "Progressing",
     .path = "progressing",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_sns_topic,
     .pattern = REF_PATTERN_SNS_TOPIC},
    {.key = "Completed",
     .path = "completed",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_sns_topic,
     .pattern = REF_PATTERN_SNS_TOPIC},
    {.key = "Warning",
     .path = "warning",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_sns_topic,
     .pattern = REF_PATTERN_SNS_TOPIC},
    {.key = "Error",
     .path = "error",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_sns_topic,
     .pattern = REF_PATTERN_SNS_TOPIC},
};

/* The CreatePipeline request, in the order the pipeline is stored and answered. Role has
 * no pattern here: contract 2b gives a Role that breaks it its own messages, after the
 * shapes (check_rules). */
static const struct ref_member s_create_pipeline_members[] = {
    {.key = "Name",
     .path = "name",
     .kind = REF_MEMBER_STRING,
     .is_required = true,
     .min_chars = 1,
     .max_chars = REF_MAX_PIPELINE_NAME_CHARS},
    {.key = "InputBucket",
     .path = "inputBucket",
     .kind = REF_MEMBER_STRING,
     .is_required = true,
     .checker = ref_shape_bucket,
     .pattern = REF_PATTERN_BUCKET},
    {.key = "OutputBucket",
     .path = "outputBucket",
     .kind = REF_MEMBER_STRING,
     .checker = ref_shape_bucket,
     .pattern = REF_PATTERN_BUCKET},
    {.key = "Role", .path = "role", .kind = REF_MEMBER_STRING, .is_required = true},
    {.key = "AwsKmsKeyArn",
     .path = "awsKmsKeyArn",
     .kind = REF_MEMBER_STRING,
     .max_chars = REF_MAX_KMS_KEY_ARN_CHARS},
    {.key = "Notifications",
     .path = "notifications",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_notification_members)},
    {.key = "ContentConfig",
     .path = "contentConfig",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_output_config_members)},
    {.key = "ThumbnailConfig",
     .path = "thumbnailConfig",
     .kind = REF_MEMBER_STRUCTURE,
     REF_MEMBERS(s_output_config_members)},
};

static const struct ref_member s_create_pipeline = {.kind = REF_MEMBER_STRUCTURE,
                                                    REF_MEMBERS(s_create_pipeline_members)};

static bool has_bucket(const json_t *config)
{
    return ref_schema_value(config, "Bucket") != NULL;
}

/* The rules of contract 2b's CreatePipeline table, Role's first (as the live service and
 * moto check it). The messages are the ones moto verified against the live service; the
 * last rule has no known message, and the suite checks only its code. */
static enum ref_status check_rules(const json_t *body, struct ref_buf *msg)
{
    const json_t *role = ref_schema_value(body, "Role");
    struct ref_slice r = ref_slice_make(json_string_value(role), json_string_length(role));
    if (r.len == 0) {
        REF_TRY(ref_buf_append_cstr(msg, "Role cannot be blank"));
        return REF_E_VALIDATION;
    }
    if (!ref_shape_role(r)) {
        REF_TRY(ref_buf_append_cstr(msg, "Role ARN is invalid: "));
        REF_TRY(ref_buf_append_slice(msg, r));
        return REF_E_VALIDATION;
    }
    const json_t *output = ref_schema_value(body, "OutputBucket");
    const json_t *content = ref_schema_value(body, "ContentConfig");
    const json_t *thumbnail = ref_schema_value(body, "ThumbnailConfig");
    const char *text = NULL;
    if (output != NULL && content != NULL) {
        text = "[OutputBucket and ContentConfig are mutually exclusive.]";
    } else if (output == NULL && (content == NULL || !has_bucket(content))) {
        text = "[OutputBucket and ContentConfig:Bucket are not allowed to both be null.]";
    } else if (content != NULL && (thumbnail == NULL || !has_bucket(thumbnail))) {
        text = "[ThumbnailConfig:Bucket is not allowed to be null if ContentConfig is specified.]";
    } else if (content == NULL && thumbnail != NULL) {
        text = "[OutputBucket and ThumbnailConfig are mutually exclusive.]";
    }
    if (text == NULL) {
        return REF_OK;
    }
    REF_TRY(ref_buf_append_cstr(msg, text));
    return REF_E_VALIDATION;
}

enum ref_status ref_pipeline_check(const json_t *body, struct ref_buf *msg)
{
    struct ref_verr v;
    ref_verr_init(&v);
    enum ref_status rc = ref_schema_check_types(&v, &s_create_pipeline, body);
    if (rc == REF_OK && v.count == 0) {
        rc = ref_schema_check_shapes(&v, &s_create_pipeline, body);
    }
    if (rc == REF_OK && v.count > 0) {
        rc = ref_verr_message(&v, msg);
        rc = rc == REF_OK ? REF_E_VALIDATION : rc;
    } else if (rc == REF_OK) {
        rc = check_rules(body, msg);
    }
    ref_verr_cleanup(&v);
    return rc;
}

/* --- The pipeline as stored ---------------------------------------------------------- */

/* ContentConfig or ThumbnailConfig as answered: the one sent, with Permissions [] when it
 * had none; else {"Bucket": OutputBucket, "Permissions": []} (the CLI's recorded answers:
 * no StorageClass then). */
static json_t *output_config(const struct ref_member *m, const json_t *sent, const json_t *output)
{
    json_t *c = sent != NULL ? ref_schema_copy(m, sent)
                             : json_pack("{s:o}", "Bucket", json_deep_copy(output));
    if (c != NULL && json_object_get(c, "Permissions") == NULL &&
        json_object_set_new(c, "Permissions", json_array()) != 0) {
        json_decref(c);
        return NULL;
    }
    return c;
}

json_t *ref_pipeline_spec(const json_t *body)
{
    json_t *spec = json_object();
    const json_t *output = ref_schema_value(body, "OutputBucket");
    int bad = spec == NULL;
    for (size_t i = 0; !bad && i < s_create_pipeline.num_members; i++) {
        const struct ref_member *m = &s_create_pipeline.members[i];
        const json_t *v = ref_schema_value(body, m->key);
        json_t *out = NULL;
        if (m->members == s_notification_members) {
            /* Always the four topics, "" for one not sent, and no other key. */
            out = json_object();
            for (size_t k = 0; out != NULL && k < m->num_members; k++) {
                const json_t *topic = ref_schema_value(v, m->members[k].key);
                if (json_object_set_new(out, m->members[k].key,
                                        topic != NULL ? json_deep_copy(topic) : json_string("")) !=
                    0) {
                    json_decref(out);
                    out = NULL;
                }
            }
        } else if (m->members == s_output_config_members) {
            out = output_config(m, v, output);
        } else if (v != NULL) {
            out = ref_schema_copy(m, v);
        } else {
            continue;
        }
        bad = json_object_set_new(spec, m->key, out) != 0;
    }
    if (bad) {
        json_decref(spec);
        return NULL;
    }
    return spec;
}

/* --- Warnings ------------------------------------------------------------------------ */

/* The guide's create-pipeline page lists codes 6000-6008. Buckets carry no region in
 * their names and count as the endpoint's, so only the topics' (6003-6006) and the KMS
 * key's (6007, 6008) are decidable. 6006's message is the live service's, as the AWS CLI's
 * recorded create-pipeline example shows it; the other topics follow its form. */
static const struct {
    const char *topic;
    const char *code;
    const char *message;
} s_topic_warnings[] = {
    {"Progressing", "6003",
     "The SNS notification topic for Progressing events and the pipeline are in different "
     "regions, which increases processing time for jobs in the pipeline and can incur "
     "additional charges. To decrease processing time and prevent cross-regional charges, use "
     "the same region for the SNS notification topic and the pipeline."},
    {"Warning", "6004",
     "The SNS notification topic for Warning events and the pipeline are in different regions, "
     "which increases processing time for jobs in the pipeline and can incur additional "
     "charges. To decrease processing time and prevent cross-regional charges, use the same "
     "region for the SNS notification topic and the pipeline."},
    {"Completed", "6005",
     "The SNS notification topic for Completed events and the pipeline are in different "
     "regions, which increases processing time for jobs in the pipeline and can incur "
     "additional charges. To decrease processing time and prevent cross-regional charges, use "
     "the same region for the SNS notification topic and the pipeline."},
    {"Error", "6006",
     "The SNS notification topic for Error events and the pipeline are in different regions, "
     "which increases processing time for jobs in the pipeline and can incur additional "
     "charges. To decrease processing time and prevent cross-regional charges, use the same "
     "region for the SNS notification topic and the pipeline."},
};

static const struct {
    const char *code;
    const char *message;
} s_kms_warnings[] = {
    {"6007", "The AWS KMS key and ContentConfig bucket specified for this pipeline are in "
             "different regions, which causes outputs using s3-aws-kms encryption mode to fail. "
             "To use s3-aws-kms encryption mode, use the same region for the KMS key and the "
             "ContentConfig bucket."},
    {"6008", "The AWS KMS key and ThumbnailConfig bucket specified for this pipeline are in "
             "different regions, which causes outputs using s3-aws-kms encryption mode to fail. "
             "To use s3-aws-kms encryption mode, use the same region for the KMS key and the "
             "ThumbnailConfig bucket."},
};

/* True when value is an ARN "<prefix><region>:..." whose region is named and is not
 * `region`. A value that is no such ARN names no region, so it is in no other one. */
static bool is_other_region(const json_t *value, const char *prefix, const char *region)
{
    struct ref_slice s = ref_slice_make(json_string_value(value), json_string_length(value));
    struct ref_slice p = ref_slice_from_cstr(prefix);
    if (!json_is_string(value) || !ref_slice_starts_with(s, p)) {
        return false;
    }
    struct ref_slice rest = ref_slice_sub(s, p.len, s.len);
    struct ref_slice named;
    return ref_slice_split(&rest, ':', &named) && named.len > 0 &&
           !ref_slice_eq_cstr(named, region);
}

static int add_warning(json_t *list, const char *code, const char *message)
{
    return json_array_append_new(list, json_pack("{s:s, s:s}", "Code", code, "Message", message));
}

json_t *ref_pipeline_warnings(const json_t *spec, const char *region)
{
    json_t *list = json_array();
    if (list == NULL) {
        return NULL;
    }
    const json_t *topics = json_object_get(spec, "Notifications");
    int bad = 0;
    for (size_t i = 0; i < sizeof(s_topic_warnings) / sizeof(s_topic_warnings[0]); i++) {
        if (is_other_region(json_object_get(topics, s_topic_warnings[i].topic),
                            "arn:aws:sns:", region)) {
            bad |= add_warning(list, s_topic_warnings[i].code, s_topic_warnings[i].message);
        }
    }
    /* Both buckets are in the endpoint's region, so a key elsewhere is apart from each. */
    if (is_other_region(json_object_get(spec, "AwsKmsKeyArn"), "arn:aws:kms:", region)) {
        for (size_t i = 0; i < sizeof(s_kms_warnings) / sizeof(s_kms_warnings[0]); i++) {
            bad |= add_warning(list, s_kms_warnings[i].code, s_kms_warnings[i].message);
        }
    }
    if (bad != 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* --- Pipeline operations ---------------------------------------------------------- */

/* {"Pipeline": ...}, with the pipeline's Warnings for CreatePipeline and ReadPipeline. */
static json_t *
pipeline_body(struct ref_op_ctx *c, const struct ref_pipeline_info *info, bool with_warnings)
{
    json_t *p = ref_out_pipeline(info, c->svc->region, c->svc->account_id);
    if (p == NULL) {
        return NULL;
    }
    if (with_warnings) {
        return json_pack("{s:o, s:o}", "Pipeline", p, "Warnings",
                         ref_pipeline_warnings(info->spec, c->svc->region));
    }
    return json_pack("{s:o}", "Pipeline", p);
}

enum ref_status ref_svc_create_pipeline(struct ref_op_ctx *c)
{
    json_t *body = NULL;
    REF_TRY(ref_svc_parse_body(c, &body));
    ref_buf_reset(c->msg);
    enum ref_status rc = ref_pipeline_check(body, c->msg);
    json_t *spec = NULL;
    if (rc == REF_OK) {
        spec = ref_pipeline_spec(body);
        rc = spec != NULL ? REF_OK : REF_E_NOMEM;
    }
    if (rc == REF_OK) {
        struct ref_pipeline_info info;
        rc = ref_job_store_create_pipeline(c->svc->store, c->now_ms, (struct ref_slice){NULL, 0},
                                           REF_PIPELINE_ACTIVE, spec, &info);
        if (rc == REF_E_LIMIT_EXCEEDED) {
            rc = ref_svc_fail(c, rc, "Too many pipelines.");
        } else if (rc == REF_OK) {
            rc = ref_svc_answer(c, 201, pipeline_body(c, &info, true));
            ref_pipeline_info_cleanup(&info);
        }
    }
    json_decref(spec);
    json_decref(body);
    return rc;
}

enum ref_status ref_svc_read_pipeline(struct ref_op_ctx *c)
{
    REF_TRY(ref_svc_validate_id_label_only(c));
    struct ref_pipeline_info info;
    enum ref_status rc = ref_job_store_read_pipeline(c->svc->store, c->label, &info);
    if (rc != REF_OK) {
        return rc == REF_E_NOT_FOUND ? ref_svc_pipeline_not_found(c, c->label) : rc;
    }
    rc = ref_svc_answer(c, 200, pipeline_body(c, &info, true));
    ref_pipeline_info_cleanup(&info);
    return rc;
}

enum ref_status ref_svc_list_pipelines(struct ref_op_ctx *c)
{
    struct ref_verr v;
    ref_verr_init(&v);
    struct ref_list_params p = {0};
    ref_buf_init(&p.token, REF_ID_LEN);
    enum ref_status rc = ref_svc_parse_list_query(c, &v, &p);
    if (rc == REF_OK) {
        rc = ref_svc_verr_finish(c, &v);
    }
    struct ref_pipeline_page page = {0};
    if (rc == REF_OK) {
        rc = ref_job_store_list_pipelines(c->svc->store, p.is_descending, ref_buf_slice(&p.token),
                                          &page);
        if (rc == REF_E_VALIDATION) {
            rc = ref_svc_fail(c, rc, "The page token was not issued by this service.");
        }
    }
    if (rc == REF_OK) {
        json_t *list = json_array();
        json_t *token = page.has_next ? json_stringn(page.next_token, REF_ID_LEN) : json_null();
        int bad = (list == NULL || token == NULL);
        for (size_t i = 0; i < page.count && !bad; i++) {
            bad |= json_array_append_new(
                list, ref_out_pipeline(&page.items[i], c->svc->region, c->svc->account_id));
        }
        json_t *body = NULL;
        if (!bad) {
            body = json_pack("{s:o, s:o}", "Pipelines", list, "NextPageToken", token);
        } else {
            json_decref(list);
            json_decref(token);
        }
        rc = ref_svc_answer(c, 200, body);
    }
    ref_pipeline_page_cleanup(&page);
    ref_buf_cleanup(&p.token);
    ref_verr_cleanup(&v);
    return rc;
}

enum ref_status ref_svc_update_pipeline_status(struct ref_op_ctx *c)
{
    static const struct ref_string_rule s_status = {
        .member_path = "status", .required = true, .pattern = REF_PATTERN_PIPELINE_STATUS};
    json_t *body = NULL;
    REF_TRY(ref_svc_parse_body(c, &body));
    struct ref_verr v;
    ref_verr_init(&v);
    enum ref_status rc = ref_svc_check_id_label(c, &v, "id");
    const json_t *st = ref_svc_member(body, "Status");
    enum ref_pipeline_status status = REF_PIPELINE_STATUS_NONE;
    if (json_is_string(st)) {
        status = ref_pipeline_status_from_name(
            ref_slice_make(json_string_value(st), json_string_length(st)));
    }
    if (rc == REF_OK && status == REF_PIPELINE_STATUS_NONE && json_is_string(st)) {
        rc = ref_verr_pattern(&v, ref_slice_make(json_string_value(st), json_string_length(st)),
                              "status", REF_PATTERN_PIPELINE_STATUS);
    } else if (rc == REF_OK && status == REF_PIPELINE_STATUS_NONE) {
        rc = ref_verr_check_string(&v, st, &s_status); /* missing or not a string */
    }
    if (rc == REF_OK) {
        rc = ref_svc_verr_finish(c, &v);
    }
    ref_verr_cleanup(&v);
    json_decref(body);
    if (rc != REF_OK) {
        return rc;
    }
    struct ref_pipeline_info info;
    rc = ref_job_store_set_pipeline_status(c->svc->store, c->label, status, c->now_ms, &info);
    if (rc != REF_OK) {
        return rc == REF_E_NOT_FOUND ? ref_svc_pipeline_not_found(c, c->label) : rc;
    }
    if (status == REF_PIPELINE_ACTIVE) {
        ref_svc_schedule_changed(c->svc);
    }
    rc = ref_svc_answer(c, 200, pipeline_body(c, &info, false));
    ref_pipeline_info_cleanup(&info);
    return rc;
}

enum ref_status ref_svc_delete_pipeline(struct ref_op_ctx *c)
{
    REF_TRY(ref_svc_validate_id_label_only(c));
    enum ref_status rc = ref_job_store_delete_pipeline(c->svc->store, c->label);
    if (rc == REF_E_IN_USE) {
        return ref_svc_fail(c, rc, "The pipeline has jobs that are Submitted or Progressing.");
    }
    if (rc != REF_OK) {
        return rc == REF_E_NOT_FOUND ? ref_svc_pipeline_not_found(c, c->label) : rc;
    }
    return ref_svc_answer_success_true(c);
}
