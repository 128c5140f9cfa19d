/* SPDX-License-Identifier: Apache-2.0
 *
 * test_service_pipeline.c - the pipeline rules of contract revision 2 through the service:
 * what pipeline answers carry (section 1b), CreatePipeline's rules and their order
 * (section 2b), Warnings, and the not-found message (section 4); and, since these requests
 * can be signed off the clock, the service's default skew window (section 5).
 *
 * Requests are handed to ref_service_handle_parsed already parsed (test_service.c covers
 * the HTTP bytes), signed by ref_sigv4_sign at the pinned clock. Request bodies are written
 * with ' for " so that they read as JSON; q() turns them into JSON text.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include "service_request_support.h"

#include "ref/http.h"
#include "ref/job_store.h"
#include "ref/service.h"
#include "ref/sigv4.h"
#include "ref/status.h"

#include <jansson.h>

#define ROLE           "arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role"
#define BASE           "'Name':'p','InputBucket':'in','Role':'" ROLE "'"
#define CC_TC          "'ContentConfig':{'Bucket':'c'},'ThumbnailConfig':{'Bucket':'t'}"
#define PIPELINES      "/2012-09-25/pipelines"
#define UNKNOWN_ID     "1111111111111-nopipe"
#define BUCKET_PATTERN "Member must satisfy regular expression pattern: ^(\\w|\\.|-){1,255}$"

/* These tests create many pipelines to show each member rule; the limit has tests of its
 * own (test_service.c). */
static void fx_open_in(struct fx *fx, const char *region)
{
    fx_open_with(fx, region, 1000);
}

static void fx_open(struct fx *fx)
{
    fx_open_in(fx, REF_TEST_REGION);
}

/* CreatePipeline with body (written with ') must answer 400 ValidationException with this
 * exact message (NULL: any message). */
static void expect_refused(struct fx *fx, const char *body, const char *message)
{
    expect_refused_at(fx, PIPELINES, body, message);
}

/* CreatePipeline with body (written with ') must answer 201; returns the answer's body. */
static json_t *expect_created(struct fx *fx, const char *body)
{
    char *text = q(body);
    struct answer a;
    call(fx, "POST", PIPELINES, text, &a);
    if (a.http_status != 201) {
        fail_msg("%s: want 201, got %d %s %s", text, a.http_status, a.error_type, message_of(&a));
    }
    free(text);
    return a.body;
}

static void expect_pipeline_count(struct fx *fx, size_t count)
{
    struct answer a;
    call(fx, "GET", PIPELINES, NULL, &a);
    assert_int_equal(a.http_status, 200);
    assert_int_equal(json_array_size(json_object_get(a.body, "Pipelines")), count);
    answer_cleanup(&a);
}

/* The pipeline without its generated Id and Arn equals `want` (written with '). */
static void expect_pipeline(const json_t *pipeline, const char *want)
{
    char *text = q(want);
    json_error_t jerr;
    json_t *w = json_loads(text, 0, &jerr);
    if (w == NULL) {
        fail_msg("bad expected JSON %s: %s", text, jerr.text);
    }
    json_t *got = json_deep_copy(pipeline);
    assert_non_null(got);
    assert_non_null(json_object_get(got, "Id"));
    assert_non_null(json_object_get(got, "Arn"));
    json_object_del(got, "Id");
    json_object_del(got, "Arn");
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_COMPACT);
        fail_msg("pipeline:\n want %s\n got  %s", text, g);
    }
    json_decref(got);
    json_decref(w);
    free(text);
}

/* "x" repeated n times, between prefix and suffix (written with '). Free with free(). */
static char *
repeated(const char *prefix, const char *x, size_t n, const char *sep, const char *suffix)
{
    size_t len = strlen(prefix) + n * (strlen(x) + strlen(sep)) + strlen(suffix) + 1;
    char *s = malloc(len);
    assert_non_null(s);
    size_t used = (size_t)snprintf(s, len, "%s", prefix);
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(s + used, len - used, "%s%s", i > 0 ? sep : "", x);
    }
    snprintf(s + used, len - used, "%s", suffix);
    return s;
}

/* --- What pipeline answers carry (contract 1b) --------------------------------------- */

#define PLACEHOLDERS_FROM_OUT                                                                      \
    "'Notifications':{'Progressing':'','Completed':'','Warning':'','Error':''},"                   \
    "'ContentConfig':{'Bucket':'out','Permissions':[]},"                                           \
    "'ThumbnailConfig':{'Bucket':'out','Permissions':[]}"

static void test_service_pipeline_output_bucket_fills_configs_and_notifications(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    json_t *created = expect_created(&fx, "{" BASE ",'OutputBucket':'out','Unknown':1}");
    const json_t *p = json_object_get(created, "Pipeline");
    expect_pipeline(p, "{'Name':'p','Status':'Active','InputBucket':'in','OutputBucket':'out',"
                       "'Role':'" ROLE "'," PLACEHOLDERS_FROM_OUT "}");
    assert_int_equal(json_array_size(json_object_get(created, "Warnings")), 0);
    char target[128];
    snprintf(target, sizeof(target), PIPELINES "/%s", json_string_value(json_object_get(p, "Id")));

    /* Every operation that answers a pipeline answers the same members. */
    struct answer a;
    call(&fx, "GET", target, NULL, &a);
    assert_int_equal(a.http_status, 200);
    expect_pipeline(json_object_get(a.body, "Pipeline"),
                    "{'Name':'p','Status':'Active',"
                    "'InputBucket':'in','OutputBucket':'out','Role':'" ROLE
                    "'," PLACEHOLDERS_FROM_OUT "}");
    answer_cleanup(&a);
    call(&fx, "GET", PIPELINES, NULL, &a);
    expect_pipeline(json_array_get(json_object_get(a.body, "Pipelines"), 0),
                    "{'Name':'p','Status':'Active','InputBucket':'in','OutputBucket':'out',"
                    "'Role':'" ROLE "'," PLACEHOLDERS_FROM_OUT "}");
    answer_cleanup(&a);
    snprintf(target, sizeof(target), PIPELINES "/%s/status",
             json_string_value(json_object_get(p, "Id")));
    call(&fx, "POST", target, "{\"Status\":\"Paused\"}", &a);
    assert_int_equal(a.http_status, 200);
    expect_pipeline(json_object_get(a.body, "Pipeline"),
                    "{'Name':'p','Status':'Paused',"
                    "'InputBucket':'in','OutputBucket':'out','Role':'" ROLE
                    "'," PLACEHOLDERS_FROM_OUT "}");
    answer_cleanup(&a);
    json_decref(created);

    /* AwsKmsKeyArn comes back when given, also "". */
    created = expect_created(&fx, "{" BASE ",'OutputBucket':'out','AwsKmsKeyArn':''}");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(created, "Pipeline"), "AwsKmsKeyArn")),
        "");
    json_decref(created);
    fx_close(&fx);
}

static void test_service_pipeline_content_config_answers_modelled_members_only(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    json_t *created = expect_created(
        &fx, "{" BASE ",'Notifications':{'Error':'arn:aws:sns:us-east-1:111122223333:e',"
             "'Extra':'x'},'ContentConfig':{'Bucket':'c','StorageClass':'Standard',"
             "'Permissions':[{'GranteeType':'Email','Grantee':'a@example.com',"
             "'Access':['FullControl','Read'],'Extra':1}],'Extra':true},"
             "'ThumbnailConfig':{'Bucket':'t','Extra':{}},'Extra':'top'}");
    const char *want = "{'Name':'p','Status':'Active','InputBucket':'in','Role':'" ROLE "',"
                       "'Notifications':{'Progressing':'','Completed':'','Warning':'',"
                       "'Error':'arn:aws:sns:us-east-1:111122223333:e'},"
                       "'ContentConfig':{'Bucket':'c','StorageClass':'Standard','Permissions':"
                       "[{'GranteeType':'Email','Grantee':'a@example.com',"
                       "'Access':['FullControl','Read']}]},"
                       "'ThumbnailConfig':{'Bucket':'t','Permissions':[]}}";
    const json_t *p = json_object_get(created, "Pipeline");
    expect_pipeline(p, want);
    char target[128];
    snprintf(target, sizeof(target), PIPELINES "/%s", json_string_value(json_object_get(p, "Id")));
    struct answer a;
    call(&fx, "GET", target, NULL, &a);
    expect_pipeline(json_object_get(a.body, "Pipeline"), want);
    answer_cleanup(&a);
    json_decref(created);
    fx_close(&fx);
}

static void test_service_pipeline_seeded_answers_like_created(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, "1111111111111-abcde1", "s", "Paused"),
                     REF_OK);
    struct answer a;
    call(&fx, "GET", PIPELINES "/1111111111111-abcde1", NULL, &a);
    assert_int_equal(a.http_status, 200);
    expect_pipeline(json_object_get(a.body, "Pipeline"),
                    "{'Name':'s','Status':'Paused','InputBucket':'etch-input',"
                    "'OutputBucket':'etch-output','Role':'" ROLE "',"
                    "'Notifications':{'Progressing':'','Completed':'','Warning':'','Error':''},"
                    "'ContentConfig':{'Bucket':'etch-output','Permissions':[]},"
                    "'ThumbnailConfig':{'Bucket':'etch-output','Permissions':[]}}");
    answer_cleanup(&a);
    fx_close(&fx);
}

/* --- CreatePipeline's rules (contract 2b) ------------------------------------------- */

#define BOTH_NULL "[OutputBucket and ContentConfig:Bucket are not allowed to both be null.]"
#define EXCLUSIVE "[OutputBucket and ContentConfig are mutually exclusive.]"
#define THUMB_NULL                                                                                 \
    "[ThumbnailConfig:Bucket is not allowed to be null if ContentConfig is specified.]"

static void test_service_pipeline_output_destination_rules(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    expect_refused(&fx, "{" BASE "}", BOTH_NULL);
    expect_refused(&fx, "{" BASE ",'OutputBucket':null}", BOTH_NULL);
    expect_refused(&fx, "{" BASE ",'OutputBucket':'out'," CC_TC "}", EXCLUSIVE);
    expect_refused(&fx, "{" BASE ",'OutputBucket':'out','ContentConfig':{'Bucket':'c'}}",
                   EXCLUSIVE);
    expect_refused(&fx, "{" BASE ",'ContentConfig':{'Bucket':'c'}}", THUMB_NULL);
    expect_refused(&fx,
                   "{" BASE ",'ContentConfig':{'Bucket':'c'},'ThumbnailConfig':"
                   "{'StorageClass':'Standard'}}",
                   THUMB_NULL);
    expect_refused(&fx, "{" BASE ",'ThumbnailConfig':{'Bucket':'t'}}", BOTH_NULL);
    expect_refused(&fx,
                   "{" BASE ",'ContentConfig':{'StorageClass':'Standard'},'ThumbnailConfig':"
                   "{'Bucket':'t'}}",
                   BOTH_NULL);
    /* No source gives this one's message. */
    expect_refused(&fx, "{" BASE ",'OutputBucket':'out','ThumbnailConfig':{'Bucket':'t'}}", NULL);
    expect_pipeline_count(&fx, 0);
    json_decref(expect_created(&fx, "{" BASE ",'OutputBucket':'out'}"));
    json_decref(expect_created(&fx, "{" BASE "," CC_TC "}"));
    expect_pipeline_count(&fx, 2);
    fx_close(&fx);
}

static void test_service_pipeline_role_messages(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    expect_refused(&fx, "{'Name':'p','InputBucket':'in','OutputBucket':'out','Role':''}",
                   "Role cannot be blank");
    expect_refused(&fx, "{'Name':'p','InputBucket':'in','OutputBucket':'out','Role':'role'}",
                   "Role ARN is invalid: role");
    expect_refused(&fx,
                   "{'Name':'p','InputBucket':'in','OutputBucket':'out',"
                   "'Role':'arn:aws:iam::11112222333:role/R'}",
                   "Role ARN is invalid: arn:aws:iam::11112222333:role/R");
    /* Role's rule comes before the output destination's. */
    expect_refused(&fx, "{'Name':'p','InputBucket':'in','Role':'role'}",
                   "Role ARN is invalid: role");
    /* A missing Role is a missing required member, a shape. */
    expect_refused(&fx, "{'Name':'p','InputBucket':'in','OutputBucket':'out'}",
                   "1 validation error detected: Value null at 'role' failed to satisfy "
                   "constraint: Member must not be null");
    expect_pipeline_count(&fx, 0);
    fx_close(&fx);
}

static void test_service_pipeline_types_then_shapes_then_rules(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    /* Shapes before the rules: Role and the output destination are not judged. */
    expect_refused(&fx, "{'Name':'p','InputBucket':'in bucket','Role':'role'}",
                   "1 validation error detected: Value 'in bucket' at 'inputBucket' failed to "
                   "satisfy constraint: " BUCKET_PATTERN);
    /* Wrong types before shapes: the bad Name and InputBucket are not reported. */
    expect_refused(&fx,
                   "{'Name':'','InputBucket':'in bucket','OutputBucket':'out','Role':'" ROLE
                   "','Notifications':{'Error':7}}",
                   "1 validation error detected: Value '7' at 'notifications.error' failed to "
                   "satisfy constraint: Member must be of type string");
    /* Each stage reports all of its failures. */
    expect_refused(&fx, "{'Name':1,'InputBucket':'in','OutputBucket':[],'Role':'" ROLE "'}",
                   "2 validation errors detected: Value '1' at 'name' failed to satisfy "
                   "constraint: Member must be of type string; Value '[]' at 'outputBucket' "
                   "failed to satisfy constraint: Member must be of type string");
    expect_refused(
        &fx,
        "{'Name':'','InputBucket':'in','Role':'" ROLE "','ContentConfig':"
        "{'Bucket':'c','StorageClass':'Cheap'},'ThumbnailConfig':{'Bucket':'t/t'}}",
        "3 validation errors detected: Value '' at 'name' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1; Value "
        "'Cheap' at 'contentConfig.storageClass' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: (^ReducedRedundancy$)|(^Standard$); "
        "Value 't/t' at 'thumbnailConfig.bucket' failed to satisfy constraint: " BUCKET_PATTERN);
    expect_pipeline_count(&fx, 0);
    fx_close(&fx);
}

static void test_service_pipeline_rejects_wrong_types_anywhere(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    static const struct {
        const char *members; /* after BASE */
        const char *value;
        const char *path;
        const char *type;
    } cases[] = {
        {"'OutputBucket':'out','Notifications':'arn'", "\"arn\"", "notifications", "structure"},
        {"'OutputBucket':'out','Notifications':{'Error':5}", "5", "notifications.error", "string"},
        {"'OutputBucket':'out','AwsKmsKeyArn':{}", "{}", "awsKmsKeyArn", "string"},
        {"'ContentConfig':'c','ThumbnailConfig':{'Bucket':'t'}", "\"c\"", "contentConfig",
         "structure"},
        {"'ContentConfig':{'Bucket':1},'ThumbnailConfig':{'Bucket':'t'}", "1",
         "contentConfig.bucket", "string"},
        {"'ContentConfig':{'Bucket':'c','Permissions':{}},'ThumbnailConfig':{'Bucket':'t'}", "{}",
         "contentConfig.permissions", "list"},
        {"'ContentConfig':{'Bucket':'c','Permissions':[1]},'ThumbnailConfig':{'Bucket':'t'}", "1",
         "contentConfig.permissions.1.member", "structure"},
        {"'ContentConfig':{'Bucket':'c','Permissions':[null]},'ThumbnailConfig':{'Bucket':'t'}",
         "null", "contentConfig.permissions.1.member", "structure"},
        {"'ContentConfig':{'Bucket':'c'},'ThumbnailConfig':{'Bucket':'t','Permissions':"
         "[{'Access':'Read'}]}",
         "\"Read\"", "thumbnailConfig.permissions.1.member.access", "list"},
        {"'ContentConfig':{'Bucket':'c'},'ThumbnailConfig':{'Bucket':'t','Permissions':"
         "[{'Access':['Read']},{'Access':['Read',2]}]}",
         "2", "thumbnailConfig.permissions.2.member.access.2.member", "string"},
        {"'ContentConfig':{'Bucket':'c','Permissions':[{'Grantee':5}]},'ThumbnailConfig':"
         "{'Bucket':'t'}",
         "5", "contentConfig.permissions.1.member.grantee", "string"},
        {"'ContentConfig':{'Bucket':'c','Permissions':[{'GranteeType':true}]},"
         "'ThumbnailConfig':{'Bucket':'t'}",
         "true", "contentConfig.permissions.1.member.granteeType", "string"},
        {"'ContentConfig':{'Bucket':'c'},'ThumbnailConfig':{'Bucket':'t','StorageClass':1}", "1",
         "thumbnailConfig.storageClass", "string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[512];
        char message[512];
        snprintf(body, sizeof(body), "{" BASE ",%s}", cases[i].members);
        snprintf(message, sizeof(message),
                 "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "
                 "Member must be of type %s",
                 cases[i].value, cases[i].path, cases[i].type);
        expect_refused(&fx, body, message);
    }
    /* Nothing of a refused body was stored. */
    expect_pipeline_count(&fx, 0);
    fx_close(&fx);
}

static void test_service_pipeline_config_member_shapes(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    static const struct {
        const char *members; /* after BASE */
        const char *message;
    } cases[] = {
        {"'ContentConfig':{'Bucket':'c/d'},'ThumbnailConfig':{'Bucket':'t'}",
         "Value 'c/d' at 'contentConfig.bucket' failed to satisfy constraint: " BUCKET_PATTERN},
        {"'ContentConfig':{'Bucket':'c','StorageClass':'standard'},'ThumbnailConfig':"
         "{'Bucket':'t'}",
         "Value 'standard' at 'contentConfig.storageClass' failed to satisfy constraint: Member "
         "must satisfy regular expression pattern: (^ReducedRedundancy$)|(^Standard$)"},
        {"'ContentConfig':{'Bucket':'c'},'ThumbnailConfig':{'Bucket':'t','Permissions':"
         "[{'GranteeType':'User'}]}",
         "Value 'User' at 'thumbnailConfig.permissions.1.member.granteeType' failed to satisfy "
         "constraint: Member must satisfy regular expression pattern: "
         "(^Canonical$)|(^Email$)|(^Group$)"},
        {"'ContentConfig':{'Bucket':'c','Permissions':[{'Grantee':''}]},'ThumbnailConfig':"
         "{'Bucket':'t'}",
         "Value '' at 'contentConfig.permissions.1.member.grantee' failed to satisfy constraint: "
         "Member must have length greater than or equal to 1"},
        {"'ContentConfig':{'Bucket':'c','Permissions':[{'Access':['Read','Write']}]},"
         "'ThumbnailConfig':{'Bucket':'t'}",
         "Value 'Write' at 'contentConfig.permissions.1.member.access.2.member' failed to "
         "satisfy constraint: Member must satisfy regular expression pattern: "
         "(^FullControl$)|(^Read$)|(^ReadAcp$)|(^WriteAcp$)"},
        {"'OutputBucket':'out','Notifications':{'Progressing':'arn:aws:sqs:us-east-1:"
         "111122223333:q'}",
         "Value 'arn:aws:sqs:us-east-1:111122223333:q' at 'notifications.progressing' failed to "
         "satisfy constraint: Member must satisfy regular expression pattern: "
         "(^$)|(^arn:aws:sns:.*:\\w{12}:.+$)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[512];
        char message[512];
        snprintf(body, sizeof(body), "{" BASE ",%s}", cases[i].members);
        snprintf(message, sizeof(message), "1 validation error detected: %s", cases[i].message);
        expect_refused(&fx, body, message);
    }
    expect_pipeline_count(&fx, 0);
    json_decref(expect_created(
        &fx, "{" BASE ",'OutputBucket':'out','Notifications':{'Progressing':'','Completed':"
             "'arn:aws:sns:us-east-1:111122223333:c'}}"));
    json_decref(expect_created(
        &fx, "{" BASE ",'ContentConfig':{'Bucket':'c','StorageClass':'ReducedRedundancy',"
             "'Permissions':[{'GranteeType':'Group','Grantee':'AllUsers','Access':['Read',"
             "'ReadAcp','WriteAcp','FullControl']}]},'ThumbnailConfig':{'Bucket':'t',"
             "'StorageClass':'Standard','Permissions':[{'GranteeType':'Canonical'}]}}"));
    fx_close(&fx);
}

/* Each limit at the limit (accepted) and over it (refused, with the member's path). */
static void test_service_pipeline_member_limits(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    static const struct {
        const char *prefix;
        const char *item;
        const char *sep;
        size_t limit;
        const char *suffix;
        const char *path;
        const char *constraint;
    } cases[] = {
        {"{" BASE ",'ThumbnailConfig':{'Bucket':'t'},'ContentConfig':{'Bucket':'c','Permissions':[",
         "{'Grantee':'g'}", ",", 30, "]}}", "contentConfig.permissions",
         "Member must have length less than or equal to 30"},
        {"{" BASE ",'ContentConfig':{'Bucket':'c'},'ThumbnailConfig':{'Bucket':'t','Permissions':"
         "[{'Access':[",
         "'Read'", ",", 30, "]}]}}", "thumbnailConfig.permissions.1.member.access",
         "Member must have length less than or equal to 30"},
        {"{" BASE "," CC_TC ",'AwsKmsKeyArn':'", "k", "", 255, "'}", "awsKmsKeyArn",
         "Member must have length less than or equal to 255"},
        {"{" BASE ",'ThumbnailConfig':{'Bucket':'t'},'ContentConfig':{'Bucket':'c','Permissions':"
         "[{'Grantee':'",
         "g", "", 255, "'}]}}", "contentConfig.permissions.1.member.grantee",
         "Member must have length less than or equal to 255"},
        {"{'Name':'", "n", "", 40, "','InputBucket':'in','OutputBucket':'out','Role':'" ROLE "'}",
         "name", "Member must have length less than or equal to 40"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *at =
            repeated(cases[i].prefix, cases[i].item, cases[i].limit, cases[i].sep, cases[i].suffix);
        json_decref(expect_created(&fx, at));
        free(at);
        char *over = repeated(cases[i].prefix, cases[i].item, cases[i].limit + 1, cases[i].sep,
                              cases[i].suffix);
        char *text = q(over);
        struct answer a;
        call(&fx, "POST", PIPELINES, text, &a);
        assert_int_equal(a.http_status, 400);
        assert_string_equal(a.error_type, "ValidationException");
        char tail[256];
        snprintf(tail, sizeof(tail), "' at '%s' failed to satisfy constraint: %s", cases[i].path,
                 cases[i].constraint);
        const char *m = message_of(&a);
        if (strncmp(m, "1 validation error detected: Value '", 36) != 0 ||
            strlen(m) < strlen(tail) || strcmp(m + strlen(m) - strlen(tail), tail) != 0) {
            fail_msg("over the limit of %s: %s", cases[i].path, m);
        }
        answer_cleanup(&a);
        free(text);
        free(over);
    }
    expect_pipeline_count(&fx, sizeof(cases) / sizeof(cases[0]));
    fx_close(&fx);
}

/* A bucket name is 1..255 characters (contract 2): 255 is accepted and 256 refused, in every
 * member that holds one. */
static void test_service_pipeline_bucket_length(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    char at[256];
    char over[257];
    memset(at, 'b', 255);
    at[255] = '\0';
    memset(over, 'b', 256);
    over[256] = '\0';
    char body[1024];
    snprintf(body, sizeof(body),
             "{'Name':'p','InputBucket':'%s','OutputBucket':'%s','Role':'" ROLE "'}", at, at);
    json_t *created = expect_created(&fx, body);
    assert_int_equal(strlen(json_string_value(
                         json_object_get(json_object_get(created, "Pipeline"), "InputBucket"))),
                     255);
    json_decref(created);
    static const char *const forms[] = {
        "{'Name':'p','InputBucket':'%s','OutputBucket':'out','Role':'" ROLE "'}",
        "{'Name':'p','InputBucket':'in','OutputBucket':'%s','Role':'" ROLE "'}",
        "{" BASE ",'ContentConfig':{'Bucket':'%s'},'ThumbnailConfig':{'Bucket':'t'}}",
        "{" BASE ",'ContentConfig':{'Bucket':'c'},'ThumbnailConfig':{'Bucket':'%s'}}",
    };
    static const char *const paths[] = {"inputBucket", "outputBucket", "contentConfig.bucket",
                                        "thumbnailConfig.bucket"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(body, sizeof(body), forms[i], over);
        char want[1024];
        snprintf(want, sizeof(want),
                 "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                 "constraint: " BUCKET_PATTERN,
                 over, paths[i]);
        expect_refused(&fx, body, want);
    }
    expect_pipeline_count(&fx, 1);
    fx_close(&fx);
}

/* The service's default skew window is the live service's 5 minutes (contract 5; the old
 * guide's 15 is not the default): a request dated 299 s off either way is accepted, 301 s
 * off is refused, and so is every offset a wider window (10 or 15 minutes) would let in. */
static void test_service_default_skew_window(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    static const int64_t accepted[] = {-299, 299, -300, 300};
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        fx.date_offset_s = accepted[i];
        struct answer a;
        call(&fx, "GET", PIPELINES, NULL, &a);
        if (a.http_status != 200) {
            fail_msg("%+lld s off: want 200, got %d %s", (long long)accepted[i], a.http_status,
                     a.error_type);
        }
        answer_cleanup(&a);
    }
    static const int64_t refused[] = {-301, 301, -599, 599, -899, 899};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        fx.date_offset_s = refused[i];
        struct answer a;
        call(&fx, "GET", PIPELINES, NULL, &a);
        if (a.http_status != 403 || strcmp(a.error_type, "InvalidSignatureException") != 0) {
            fail_msg("%+lld s off: want 403 InvalidSignatureException, got %d %s",
                     (long long)refused[i], a.http_status, a.error_type);
        }
        answer_cleanup(&a);
    }
    fx_close(&fx);
}

/* --- Warnings (contract 1b) ---------------------------------------------------------- */

#define WARNING_6006                                                                               \
    "The SNS notification topic for Error events and the pipeline are in different regions, "      \
    "which increases processing time for jobs in the pipeline and can incur additional charges. "  \
    "To decrease processing time and prevent cross-regional charges, use the same region for the " \
    "SNS notification topic and the pipeline."

/* The Codes of a Warnings list, joined with ','. */
static void warning_codes(const json_t *warnings, char *out, size_t cap)
{
    assert_true(json_is_array(warnings));
    size_t used = 0;
    out[0] = '\0';
    size_t i;
    const json_t *w;
    json_array_foreach (warnings, i, w) {
        assert_int_equal(json_object_size(w), 2);
        assert_true(json_is_string(json_object_get(w, "Message")));
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i > 0 ? "," : "",
                                 json_string_value(json_object_get(w, "Code")));
    }
}

static void test_service_pipeline_warnings_from_arn_regions(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    json_t *created = expect_created(
        &fx, "{" BASE ",'OutputBucket':'out','AwsKmsKeyArn':'arn:aws:kms:us-west-2:111122223333:"
             "key/1234abcd','Notifications':{'Progressing':'arn:aws:sns:us-west-2:111122223333:p',"
             "'Completed':'arn:aws:sns:us-east-1:111122223333:c','Warning':"
             "'arn:aws:sns:eu-west-1:111122223333:w','Error':'arn:aws:sns:us-west-2:111122223333:"
             "e'}}");
    char codes[128];
    const json_t *warnings = json_object_get(created, "Warnings");
    warning_codes(warnings, codes, sizeof(codes));
    assert_string_equal(codes, "6003,6004,6006,6007,6008");
    assert_string_equal(json_string_value(json_object_get(json_array_get(warnings, 2), "Message")),
                        WARNING_6006);
    char target[128];
    snprintf(target, sizeof(target), PIPELINES "/%s",
             json_string_value(json_object_get(json_object_get(created, "Pipeline"), "Id")));
    struct answer a;
    call(&fx, "GET", target, NULL, &a);
    assert_true(json_equal(json_object_get(a.body, "Warnings"), warnings));
    answer_cleanup(&a);
    /* UpdatePipelineStatus and ListPipelines answer no Warnings (the model). */
    snprintf(target, sizeof(target), PIPELINES "/%s/status",
             json_string_value(json_object_get(json_object_get(created, "Pipeline"), "Id")));
    call(&fx, "POST", target, "{\"Status\":\"Paused\"}", &a);
    assert_null(json_object_get(a.body, "Warnings"));
    answer_cleanup(&a);
    json_decref(created);

    /* Everything in the endpoint's region, or naming no region: no warnings. */
    created = expect_created(
        &fx, "{" BASE ",'OutputBucket':'out','AwsKmsKeyArn':'base64-encoded key from KMS',"
             "'Notifications':{'Error':'arn:aws:sns:us-east-1:111122223333:e'}}");
    assert_int_equal(json_array_size(json_object_get(created, "Warnings")), 0);
    json_decref(created);
    created = expect_created(&fx, "{" BASE "," CC_TC ",'AwsKmsKeyArn':'arn:aws:kms:us-east-1:"
                                  "111122223333:key/k'}");
    assert_int_equal(json_array_size(json_object_get(created, "Warnings")), 0);
    json_decref(created);
    fx_close(&fx);

    /* The endpoint's own region decides, not the test region. */
    fx_open_in(&fx, "eu-west-1");
    created = expect_created(
        &fx, "{" BASE ",'OutputBucket':'out','Notifications':{'Completed':'arn:aws:sns:"
             "eu-west-1:111122223333:c','Error':'arn:aws:sns:us-east-1:111122223333:e'}}");
    warning_codes(json_object_get(created, "Warnings"), codes, sizeof(codes));
    assert_string_equal(codes, "6006");
    json_decref(created);
    fx_close(&fx);
}

/* --- Not found (contract 4) ---------------------------------------------------------- */

static void test_service_pipeline_not_found_message(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    static const struct {
        const char *method;
        const char *target;
        const char *body;
    } cases[] = {
        {"GET", PIPELINES "/" UNKNOWN_ID, NULL},
        {"POST", PIPELINES "/" UNKNOWN_ID "/status", "{\"Status\":\"Active\"}"},
        {"DELETE", PIPELINES "/" UNKNOWN_ID, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct answer a;
        call(&fx, cases[i].method, cases[i].target, cases[i].body, &a);
        assert_int_equal(a.http_status, 404);
        assert_string_equal(a.error_type, "ResourceNotFoundException");
        assert_string_equal(message_of(&a), "The specified pipeline was not found: "
                                            "account=111122223333, pipelineId=" UNKNOWN_ID ".");
        answer_cleanup(&a);
    }
    fx_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_pipeline_output_bucket_fills_configs_and_notifications),
        cmocka_unit_test(test_service_pipeline_content_config_answers_modelled_members_only),
        cmocka_unit_test(test_service_pipeline_seeded_answers_like_created),
        cmocka_unit_test(test_service_pipeline_output_destination_rules),
        cmocka_unit_test(test_service_pipeline_role_messages),
        cmocka_unit_test(test_service_pipeline_types_then_shapes_then_rules),
        cmocka_unit_test(test_service_pipeline_rejects_wrong_types_anywhere),
        cmocka_unit_test(test_service_pipeline_config_member_shapes),
        cmocka_unit_test(test_service_pipeline_member_limits),
        cmocka_unit_test(test_service_pipeline_bucket_length),
        cmocka_unit_test(test_service_default_skew_window),
        cmocka_unit_test(test_service_pipeline_warnings_from_arn_regions),
        cmocka_unit_test(test_service_pipeline_not_found_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
