/* SPDX-License-Identifier: Apache-2.0
 *
 * service_pipeline.c - CreatePipeline's body rules, the pipeline as stored and answered,
 * and its Warnings (contract revision 2, sections 1b and 2b).
 *
 * The modelled members of a CreatePipeline body are one schema table, s_create_pipeline.
 * Judging a body walks it twice, first for JSON types and then for shapes, so that a body
 * is judged in the contract's order (wrong types, then shapes, then the rules between
 * members); storing one copies only what the table names, so nothing else a body carries
 * is ever stored or echoed.
 */
#include "service_internal.h"

#include "ref/limits.h"

#include <stdio.h>

enum member_kind {
    MEMBER_NONE = 0,
    MEMBER_STRING,
    MEMBER_STRUCTURE,
    MEMBER_LIST,
};

struct member {
    const char *key;  /* JSON name, e.g. "InputBucket" (unused for a list's element) */
    const char *path; /* its name in member paths, e.g. "inputBucket" */
    enum member_kind kind;
    bool is_required;
    /* MEMBER_STRING: as struct ref_string_rule (max_chars 0: no upper bound). */
    size_t min_chars;
    size_t max_chars;
    bool (*checker)(struct ref_slice s);
    const char *pattern;
    /* MEMBER_STRUCTURE: its members. MEMBER_LIST: members[0] is the element. */
    const struct member *members;
    size_t num_members;
    size_t max_items; /* MEMBER_LIST */
};

#define MEMBERS(table) .members = (table), .num_members = sizeof(table) / sizeof((table)[0])

static const struct member s_access_control = {.kind = MEMBER_STRING,
                                               .checker = ref_shape_access_control,
                                               .pattern = REF_PATTERN_ACCESS_CONTROL};

static const struct member s_permission_members[] = {
    {.key = "GranteeType",
     .path = "granteeType",
     .kind = MEMBER_STRING,
     .checker = ref_shape_grantee_type,
     .pattern = REF_PATTERN_GRANTEE_TYPE},
    {.key = "Grantee",
     .path = "grantee",
     .kind = MEMBER_STRING,
     .min_chars = 1,
     .max_chars = REF_MAX_GRANTEE_CHARS},
    {.key = "Access",
     .path = "access",
     .kind = MEMBER_LIST,
     .members = &s_access_control,
     .num_members = 1,
     .max_items = REF_MAX_PERMISSION_ACCESS},
};

static const struct member s_permission = {.kind = MEMBER_STRUCTURE, MEMBERS(s_permission_members)};

/* PipelineOutputConfig, the shape of both ContentConfig and ThumbnailConfig. */
static const struct member s_output_config_members[] = {
    {.key = "Bucket",
     .path = "bucket",
     .kind = MEMBER_STRING,
     .checker = ref_shape_bucket,
     .pattern = REF_PATTERN_BUCKET},
    {.key = "StorageClass",
     .path = "storageClass",
     .kind = MEMBER_STRING,
     .checker = ref_shape_storage_class,
     .pattern = REF_PATTERN_STORAGE_CLASS},
    {.key = "Permissions",
     .path = "permissions",
     .kind = MEMBER_LIST,
     .members = &s_permission,
     .num_members = 1,
     .max_items = REF_MAX_PERMISSIONS},
};

/* In the order the answers list them (the guide's samples). */
static const struct member s_notification_members[] = {
    {.key = "Progressing",
     .path = "progressing",
     .kind = MEMBER_STRING,
     .checker = ref_shape_sns_topic,
     .pattern = REF_PATTERN_SNS_TOPIC},
    {.key = "Completed",
     .path = "completed",
     .kind = MEMBER_STRING,
     .checker = ref_shape_sns_topic,
     .pattern = REF_PATTERN_SNS_TOPIC},
    {.key = "Warning",
     .path = "warning",
     .kind = MEMBER_STRING,
     .checker = ref_shape_sns_topic,
     .pattern = REF_PATTERN_SNS_TOPIC},
    {.key = "Error",
     .path = "error",
     .kind = MEMBER_STRING,
     .checker = ref_shape_sns_topic,
     .pattern = REF_PATTERN_SNS_TOPIC},
};

/* The CreatePipeline request, in the order the pipeline is stored and answered. Role has
 * no pattern here: contract 2b gives a Role that breaks it its own messages, after the
 * shapes (check_rules). */
static const struct member s_create_pipeline_members[] = {
    {.key = "Name",
     .path = "name",
     .kind = MEMBER_STRING,
     .is_required = true,
     .min_chars = 1,
     .max_chars = REF_MAX_PIPELINE_NAME_CHARS},
    {.key = "InputBucket",
     .path = "inputBucket",
     .kind = MEMBER_STRING,
     .is_required = true,
     .checker = ref_shape_bucket,
     .pattern = REF_PATTERN_BUCKET},
    {.key = "OutputBucket",
     .path = "outputBucket",
     .kind = MEMBER_STRING,
     .checker = ref_shape_bucket,
     .pattern = REF_PATTERN_BUCKET},
    {.key = "Role", .path = "role", .kind = MEMBER_STRING, .is_required = true},
    {.key = "AwsKmsKeyArn",
     .path = "awsKmsKeyArn",
     .kind = MEMBER_STRING,
     .max_chars = REF_MAX_KMS_KEY_ARN_CHARS},
    {.key = "Notifications",
     .path = "notifications",
     .kind = MEMBER_STRUCTURE,
     MEMBERS(s_notification_members)},
    {.key = "ContentConfig",
     .path = "contentConfig",
     .kind = MEMBER_STRUCTURE,
     MEMBERS(s_output_config_members)},
    {.key = "ThumbnailConfig",
     .path = "thumbnailConfig",
     .kind = MEMBER_STRUCTURE,
     MEMBERS(s_output_config_members)},
};

static const struct member s_create_pipeline = {.kind = MEMBER_STRUCTURE,
                                                MEMBERS(s_create_pipeline_members)};

/* Member paths stay short: the deepest is "thumbnailConfig.permissions.N.member.access.N.member".
 */
#define PATH_MAX_BYTES 160

/* A member that is present and not null (null counts as not sent, as elsewhere). */
static const json_t *member_value(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static const char *kind_name(enum member_kind kind)
{
    switch (kind) {
        case MEMBER_STRING:
            return "string";
        case MEMBER_STRUCTURE:
            return "structure";
        case MEMBER_LIST:
            return "list";
        default:
            return "";
    }
}

/* "<parent>.<name>" (just name at the top), or with index > 0 "<parent>.<index>.member",
 * the service's form for list elements. */
static enum ref_status
child_path(char out[PATH_MAX_BYTES], const char *parent, const char *name, size_t index)
{
    int n;
    if (index > 0) {
        n = snprintf(out, PATH_MAX_BYTES, "%s.%zu.member", parent, index);
    } else if (parent[0] == '\0') {
        n = snprintf(out, PATH_MAX_BYTES, "%s", name);
    } else {
        n = snprintf(out, PATH_MAX_BYTES, "%s.%s", parent, name);
    }
    return n < 0 || n >= PATH_MAX_BYTES ? REF_E_INTERNAL : REF_OK;
}

/* --- Judging a body ------------------------------------------------------------------ */

/* Records every member of the wrong JSON type under m. Elements past a list's maximum are
 * not looked at: the list's length is what fails (check_shapes), and it bounds the work. */
static enum ref_status
check_types(struct ref_verr *v, const struct member *m, const json_t *value, const char *path)
{
    if (value == NULL) {
        return REF_OK;
    }
    char child[PATH_MAX_BYTES];
    switch (m->kind) {
        case MEMBER_STRING:
            return json_is_string(value) ? REF_OK : ref_verr_type(v, value, path, "string");
        case MEMBER_STRUCTURE:
            if (!json_is_object(value)) {
                return ref_verr_type(v, value, path, "structure");
            }
            for (size_t i = 0; i < m->num_members; i++) {
                const struct member *c = &m->members[i];
                REF_TRY(child_path(child, path, c->path, 0));
                REF_TRY(check_types(v, c, member_value(value, c->key), child));
            }
            return REF_OK;
        case MEMBER_LIST:
            if (!json_is_array(value)) {
                return ref_verr_type(v, value, path, "list");
            }
            for (size_t i = 0; i < json_array_size(value) && i < m->max_items; i++) {
                const json_t *e = json_array_get(value, i);
                REF_TRY(child_path(child, path, NULL, i + 1));
                /* A null element is no element of the modelled type. */
                REF_TRY(json_is_null(e) ? ref_verr_type(v, e, child, kind_name(m->members->kind))
                                        : check_types(v, m->members, e, child));
            }
            return REF_OK;
        default:
            return REF_E_INTERNAL;
    }
}

/* Records every shape failure under m; the types are known to be right. */
static enum ref_status
check_shapes(struct ref_verr *v, const struct member *m, const json_t *value, const char *path)
{
    if (value == NULL) {
        return m->is_required ? ref_verr_null(v, path) : REF_OK;
    }
    char child[PATH_MAX_BYTES];
    switch (m->kind) {
        case MEMBER_STRING: {
            struct ref_string_rule rule = {.member_path = path,
                                           .required = m->is_required,
                                           .min_chars = m->min_chars,
                                           .max_chars = m->max_chars,
                                           .checker = m->checker,
                                           .pattern = m->pattern};
            return ref_verr_check_string(v, value, &rule);
        }
        case MEMBER_STRUCTURE:
            for (size_t i = 0; i < m->num_members; i++) {
                const struct member *c = &m->members[i];
                REF_TRY(child_path(child, path, c->path, 0));
                REF_TRY(check_shapes(v, c, member_value(value, c->key), child));
            }
            return REF_OK;
        case MEMBER_LIST: {
            if (json_array_size(value) <= m->max_items) {
                for (size_t i = 0; i < json_array_size(value); i++) {
                    REF_TRY(child_path(child, path, NULL, i + 1));
                    REF_TRY(check_shapes(v, m->members, json_array_get(value, i), child));
                }
                return REF_OK;
            }
            char constraint[80];
            int n = snprintf(constraint, sizeof(constraint),
                             "Member must have length less than or equal to %zu", m->max_items);
            if (n < 0 || (size_t)n >= sizeof(constraint)) {
                return REF_E_INTERNAL;
            }
            struct ref_buf text;
            ref_buf_init(&text, REF_MAX_RESPONSE_BYTES / 4);
            enum ref_status rc = ref_out_dump(value, &text);
            if (rc == REF_OK) {
                rc = ref_verr_add(v, ref_buf_slice(&text), path, constraint);
            }
            ref_buf_cleanup(&text);
            return rc;
        }
        default:
            return REF_E_INTERNAL;
    }
}

static bool has_bucket(const json_t *config)
{
    return member_value(config, "Bucket") != NULL;
}

/* The rules of contract 2b's CreatePipeline table, Role's first (as the live service and
 * moto check it). The messages are the ones moto verified against the live service; the
 * last rule has no known message, and the suite checks only its code. */
static enum ref_status check_rules(const json_t *body, struct ref_buf *msg)
{
    const json_t *role = member_value(body, "Role");
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
    const json_t *output = member_value(body, "OutputBucket");
    const json_t *content = member_value(body, "ContentConfig");
    const json_t *thumbnail = member_value(body, "ThumbnailConfig");
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
    enum ref_status rc = check_types(&v, &s_create_pipeline, body, "");
    if (rc == REF_OK && v.count == 0) {
        rc = check_shapes(&v, &s_create_pipeline, body, "");
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

/* A copy of value with only the members m models; NULL when out of memory. */
static json_t *copy_modelled(const struct member *m, const json_t *value)
{
    if (m->kind == MEMBER_STRING) {
        return json_deep_copy(value);
    }
    if (m->kind == MEMBER_LIST) {
        json_t *list = json_array();
        for (size_t i = 0; list != NULL && i < json_array_size(value); i++) {
            if (json_array_append_new(list, copy_modelled(m->members, json_array_get(value, i))) !=
                0) {
                json_decref(list);
                list = NULL;
            }
        }
        return list;
    }
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < m->num_members; i++) {
        const json_t *v = member_value(value, m->members[i].key);
        if (v != NULL &&
            json_object_set_new(o, m->members[i].key, copy_modelled(&m->members[i], v)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* ContentConfig or ThumbnailConfig as answered: the one sent, with Permissions [] when it
 * had none; else {"Bucket": OutputBucket, "Permissions": []} (the CLI's recorded answers:
 * no StorageClass then). */
static json_t *output_config(const struct member *m, const json_t *sent, const json_t *output)
{
    json_t *c = sent != NULL ? copy_modelled(m, sent)
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
    const json_t *output = member_value(body, "OutputBucket");
    int bad = spec == NULL;
    for (size_t i = 0; !bad && i < s_create_pipeline.num_members; i++) {
        const struct member *m = &s_create_pipeline.members[i];
        const json_t *v = member_value(body, m->key);
        json_t *out = NULL;
        if (m->members == s_notification_members) {
            /* Always the four topics, "" for one not sent, and no other key. */
            out = json_object();
            for (size_t k = 0; out != NULL && k < m->num_members; k++) {
                const json_t *topic = member_value(v, m->members[k].key);
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
            out = copy_modelled(m, v);
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
