/* SPDX-License-Identifier: Apache-2.0
 *
 * test_service_job.c - the job rules of contract revision 2 through the service: what
 * job answers carry (section 1b), CreateJob's rules and their order (section 2b), the
 * output status roll-up, and the not-found message of the operations that name a pipeline.
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

#define PIPE_ID      "1111111111111-pipe01"
#define PRESET       "1351620000001-000010"
#define JOBS         "/2012-09-25/jobs"
#define UNKNOWN_ID   "1111111111111-nopipe"
#define OUT(key)     "{'Key':'" key "','PresetId':'" PRESET "'}"
#define JOB(members) "{'PipelineId':'" PIPE_ID "'," members "}"
#define ONE_IN_OUT   "'Input':{'Key':'in.mp4'},'Output':" OUT("out.mp4")

static void fx_open_in(struct fx *fx, const char *region)
{
    fx_open_with(fx, region, 0);
}

static void fx_open(struct fx *fx)
{
    fx_open_in(fx, REF_TEST_REGION);
}

/* CreateJob with body (written with ') must answer 400 ValidationException with this
 * exact message (NULL: any message). */
static void expect_refused(struct fx *fx, const char *body, const char *message)
{
    expect_refused_at(fx, JOBS, body, message);
}
/* CreateJob with body (written with ') must answer 201; returns its Job (a new reference). */
static json_t *expect_created(struct fx *fx, const char *body)
{
    char *text = q(body);
    struct answer a;
    call(fx, "POST", JOBS, text, &a);
    if (a.http_status != 201) {
        fail_msg("%s: want 201, got %d %s %s", text, a.http_status, a.error_type, message_of(&a));
    }
    free(text);
    json_t *job = json_incref(json_object_get(a.body, "Job"));
    answer_cleanup(&a);
    assert_non_null(job);
    return job;
}

/* A fresh service with the Paused pipeline PIPE_ID, so that its jobs stay Submitted. */
static void fx_open_with_pipeline(struct fx *fx, const char *status)
{
    fx_open(fx);
    assert_int_equal(ref_service_seed_pipeline(fx->svc, PIPE_ID, "p", status), REF_OK);
}

static size_t job_count(struct fx *fx)
{
    struct answer a;
    call(fx, "GET", "/2012-09-25/jobsByPipeline/" PIPE_ID, NULL, &a);
    assert_int_equal(a.http_status, 200);
    size_t n = json_array_size(json_object_get(a.body, "Jobs"));
    answer_cleanup(&a);
    return n;
}

/* value at member `key` of o equals want (written with '). */
static void expect_member(const json_t *o, const char *key, const char *want)
{
    char *text = q(want);
    json_error_t jerr;
    json_t *w = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (w == NULL) {
        fail_msg("bad expected JSON %s: %s", text, jerr.text);
    }
    const json_t *got = json_object_get(o, key);
    if (!json_equal(got, w)) {
        char *g = got != NULL ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        fail_msg("%s:\n want %s\n got  %s", key, text, g != NULL ? g : "(absent)");
    }
    json_decref(w);
    free(text);
}

/* "x" repeated n times. Free with free(). */
static char *repeat(char x, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, x, n);
    s[n] = '\0';
    return s;
}

/* A body from a printf format (written with '), for bodies with long or repeated parts. */
static char *body_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *body_of(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* "<item>,<item>,..." with item's "%d" replaced by 0..n-1. Free with free(). */
static char *items(const char *item, int n)
{
    char *s = strdup("");
    assert_non_null(s);
    for (int i = 0; i < n; i++) {
        char *one = body_of(item, i);
        char *next = body_of("%s%s%s", s, i > 0 ? "," : "", one);
        free(one);
        free(s);
        s = next;
    }
    return s;
}

/* --- What job answers carry (contract 1b) -------------------------------------------- */

static void test_service_job_inputs_answered_as_input_and_inputs(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Paused");
    /* The guide's and the CLI example's form: Inputs. */
    json_t *job =
        expect_created(&fx, JOB("'Inputs':[{'Key':'a.mp4','Container':'mp4'},{'Key':'b.mp4'}],"
                                "'Outputs':[" OUT("x.mp4") "," OUT("y.mp4") "]"));
    expect_member(job, "Input", "{'Key':'a.mp4','Container':'mp4'}");
    expect_member(job, "Inputs", "[{'Key':'a.mp4','Container':'mp4'},{'Key':'b.mp4'}]");
    expect_member(job, "Playlists", "[]");
    expect_member(job, "Outputs",
                  "[{'Id':'1','Key':'x.mp4','PresetId':'" PRESET "','Watermarks':[],"
                  "'Status':'Submitted'},{'Id':'2','Key':'y.mp4','PresetId':'" PRESET
                  "','Watermarks':[],'Status':'Submitted'}]");
    expect_member(job, "Output",
                  "{'Id':'1','Key':'x.mp4','PresetId':'" PRESET "','Watermarks':[],"
                  "'Status':'Submitted'}");
    json_decref(job);
    /* Input alone: Inputs has it as its one element. */
    job = expect_created(&fx, JOB(ONE_IN_OUT));
    expect_member(job, "Input", "{'Key':'in.mp4'}");
    expect_member(job, "Inputs", "[{'Key':'in.mp4'}]");
    expect_member(job, "Playlists", "[]");
    json_decref(job);
    /* ReadJob and both lists answer the same members. */
    struct answer a;
    call(&fx, "GET", "/2012-09-25/jobsByStatus/Submitted", NULL, &a);
    assert_int_equal(a.http_status, 200);
    json_t *jobs = json_object_get(a.body, "Jobs");
    assert_int_equal(json_array_size(jobs), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *j = json_array_get(jobs, i);
        assert_true(json_is_array(json_object_get(j, "Inputs")));
        assert_true(json_equal(json_object_get(j, "Input"),
                               json_array_get(json_object_get(j, "Inputs"), 0)));
        expect_member(j, "Playlists", "[]");
        expect_member(json_object_get(j, "Output"), "Watermarks", "[]");
    }
    answer_cleanup(&a);
    fx_close(&fx);
}

static void test_service_job_answers_modelled_members_only(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Paused");
    json_t *job = expect_created(
        &fx, JOB("'Input':{'Key':'in.mp4','Foo':'x','TimeSpan':{'StartTime':'1','Bar':1}},"
                 "'Outputs':[{'Key':'o.mp4','PresetId':'" PRESET "','Rotate':'90','Baz':[1],"
                 "'Watermarks':[{'PresetWatermarkId':'TopLeft','InputKey':'w.png','Q':1}]}],"
                 "'Playlists':[{'Name':'pl','Format':'HLSv3','OutputKeys':['o.mp4'],'Qux':{}}],"
                 "'Extra':'dropped'"));
    expect_member(job, "Input", "{'Key':'in.mp4','TimeSpan':{'StartTime':'1'}}");
    expect_member(job, "Output",
                  "{'Id':'1','Key':'o.mp4','Rotate':'90','PresetId':'" PRESET "',"
                  "'Watermarks':[{'PresetWatermarkId':'TopLeft','InputKey':'w.png'}],"
                  "'Status':'Submitted'}");
    expect_member(job, "Playlists",
                  "[{'Name':'pl','Format':'HLSv3','OutputKeys':['o.mp4'],'Status':'Submitted'}]");
    assert_null(json_object_get(job, "Extra"));
    /* Stored so: ReadJob answers the same. */
    char target[64];
    snprintf(target, sizeof(target), JOBS "/%s", json_string_value(json_object_get(job, "Id")));
    struct answer a;
    call(&fx, "GET", target, NULL, &a);
    assert_int_equal(a.http_status, 200);
    assert_true(json_equal(json_object_get(a.body, "Job"), job));
    answer_cleanup(&a);
    json_decref(job);
    fx_close(&fx);
}

static void test_service_job_seeded_answers_like_created(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Paused");
    assert_int_equal(ref_service_seed_job(fx.svc, "2222222222222-seed01", PIPE_ID, "Submitted"),
                     REF_OK);
    struct answer a;
    call(&fx, "GET", JOBS "/2222222222222-seed01", NULL, &a);
    assert_int_equal(a.http_status, 200);
    json_t *job = json_object_get(a.body, "Job");
    expect_member(job, "Inputs", "[{'Key':'seed/input.mp4'}]");
    expect_member(job, "Playlists", "[]");
    expect_member(json_object_get(job, "Output"), "Watermarks", "[]");
    answer_cleanup(&a);
    fx_close(&fx);
}

/* --- CreateJob's rules (contract 2b) ------------------------------------------------- */

static void test_service_job_exactly_one_input_form(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Paused");
    expect_refused(&fx, JOB("'Input':{'Key':'a'},'Inputs':[{'Key':'b'}],'Output':" OUT("o")),
                   "1 validation error detected: Specify either 'input' or 'inputs', not both");
    expect_refused(&fx, JOB("'Output':" OUT("o")),
                   "1 validation error detected: One of 'input' and 'inputs' must be specified");
    expect_refused(&fx, JOB("'Inputs':[],'Output':" OUT("o")),
                   "1 validation error detected: Value '[]' at 'inputs' failed to satisfy "
                   "constraint: Member must have length greater than or equal to 1");
    expect_refused(&fx, JOB("'Inputs':[{'Key':'a'},{'Container':'mp4'}],'Output':" OUT("o")),
                   "1 validation error detected: Value null at 'inputs.2.member.key' failed to "
                   "satisfy constraint: Member must not be null");
    expect_refused(&fx, JOB("'Input':{},'Output':" OUT("o")),
                   "1 validation error detected: Value null at 'input.key' failed to satisfy "
                   "constraint: Member must not be null");
    /* Both rules at once: both failures in one answer. */
    expect_refused(&fx, JOB("'Input':{'Key':'a'},'Inputs':[{'Key':'b'}]"),
                   "2 validation errors detected: Specify either 'input' or 'inputs', not both; "
                   "One of 'output' and 'outputs' must be specified");
    /* 200 inputs at most. */
    char *in200 = items("{'Key':'in%d'}", 200);
    char *in201 = items("{'Key':'in%d'}", 201);
    char *ok = body_of(JOB("'Inputs':[%s],'Output':" OUT("o")), in200);
    char *over = body_of(JOB("'Inputs':[%s],'Output':" OUT("o")), in201);
    json_t *job = expect_created(&fx, ok);
    assert_int_equal(json_array_size(json_object_get(job, "Inputs")), 200);
    json_decref(job);
    expect_refused(&fx, over, NULL);
    free(in200);
    free(in201);
    free(ok);
    free(over);
    assert_int_equal(job_count(&fx), 1);
    fx_close(&fx);
}

static void test_service_job_rejects_wrong_types_anywhere(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Paused");
    static const struct {
        const char *body;
        const char *message;
    } cases[] = {
        {JOB("'Input':'in.mp4','Output':" OUT("o")),
         "1 validation error detected: Value '\"in.mp4\"' at 'input' failed to satisfy "
         "constraint: Member must be of type structure"},
        {JOB("'Inputs':{'Key':'a'},'Output':" OUT("o")),
         "1 validation error detected: Value '{\"Key\":\"a\"}' at 'inputs' failed to satisfy "
         "constraint: Member must be of type list"},
        {JOB("'Input':{'Key':'a','TimeSpan':'5'},'Output':" OUT("o")),
         "1 validation error detected: Value '\"5\"' at 'input.timeSpan' failed to satisfy "
         "constraint: Member must be of type structure"},
        {JOB("'Input':{'Key':'a','DetectedProperties':{'Width':'640'}},'Output':" OUT("o")),
         "1 validation error detected: Value '\"640\"' at 'input.detectedProperties.width' "
         "failed to satisfy constraint: Member must be of type integer"},
        {JOB("'Input':{'Key':'a'},'Outputs':[{'Key':'o','PresetId':'" PRESET "','Rotate':90}]"),
         "1 validation error detected: Value '90' at 'outputs.1.member.rotate' failed to "
         "satisfy constraint: Member must be of type string"},
        {JOB("'Input':{'Key':'a'},'Outputs':[{'Key':'o','PresetId':'" PRESET "','Watermarks':{}}]"),
         "1 validation error detected: Value '{}' at 'outputs.1.member.watermarks' failed to "
         "satisfy constraint: Member must be of type list"},
        {JOB(ONE_IN_OUT ",'Playlists':[{'Name':'p','Format':'HLSv3','OutputKeys':'out.mp4'}]"),
         "1 validation error detected: Value '\"out.mp4\"' at 'playlists.1.member.outputKeys' "
         "failed to satisfy constraint: Member must be of type list"},
        {JOB(ONE_IN_OUT ",'Playlists':[null]"),
         "1 validation error detected: Value 'null' at 'playlists.1.member' failed to satisfy "
         "constraint: Member must be of type structure"},
        {JOB(ONE_IN_OUT ",'UserMetadata':['a']"),
         "1 validation error detected: Value '[\"a\"]' at 'userMetadata' failed to satisfy "
         "constraint: Member must be of type map of string to string"},
        {JOB(ONE_IN_OUT ",'OutputKeyPrefix':7"),
         "1 validation error detected: Value '7' at 'outputKeyPrefix' failed to satisfy "
         "constraint: Member must be of type string"},
        /* Wrong types come before shapes and rules: the empty Key is not reported. */
        {"{'Input':{'Key':''},'Output':{'Key':'o','PresetId':5}}",
         "1 validation error detected: Value '5' at 'output.presetId' failed to satisfy "
         "constraint: Member must be of type string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_refused(&fx, cases[i].body, cases[i].message);
    }
    assert_int_equal(job_count(&fx), 0);
    fx_close(&fx);
}

static void test_service_job_output_member_shapes(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Paused");
    static const char *const s_accepted[] = {
        "'ThumbnailPattern':''",
        "'ThumbnailPattern':'t/{count}'",
        "'ThumbnailPattern':'{count}'",
        "'Rotate':'auto'",
        "'Rotate':'0'",
        "'Rotate':'90'",
        "'Rotate':'180'",
        "'Rotate':'270'",
        "'SegmentDuration':'10'",
        "'SegmentDuration':'12345.12345'",
        "'SegmentDuration':'1.'",
    };
    for (size_t i = 0; i < sizeof(s_accepted) / sizeof(s_accepted[0]); i++) {
        char *body =
            body_of(JOB("'Input':{'Key':'i'},'Output':{'Key':'o','PresetId':'" PRESET "',%s}"),
                    s_accepted[i]);
        json_decref(expect_created(&fx, body));
        free(body);
    }
    static const struct {
        const char *member;
        const char *message;
    } s_refused[] = {
        {"'ThumbnailPattern':'thumb-'",
         "Value 'thumb-' at 'output.thumbnailPattern' failed to satisfy constraint: Member must "
         "satisfy regular expression pattern: (^$)|(^.*\\{count\\}.*$)"},
        {"'ThumbnailPattern':'{Count}'", NULL},
        {"'Rotate':'45'", "Value '45' at 'output.rotate' failed to satisfy constraint: Member "
                          "must satisfy regular expression pattern: "
                          "(^auto$)|(^0$)|(^90$)|(^180$)|(^270$)"},
        {"'Rotate':'Auto'", NULL},
        {"'SegmentDuration':'123456'",
         "Value '123456' at 'output.segmentDuration' failed to satisfy constraint: Member must "
         "satisfy regular expression pattern: ^\\d{1,5}(\\.\\d{0,5})?$"},
        {"'SegmentDuration':'1.123456'", NULL},
        {"'SegmentDuration':'.5'", NULL},
        {"'SegmentDuration':'10s'", NULL},
    };
    for (size_t i = 0; i < sizeof(s_refused) / sizeof(s_refused[0]); i++) {
        char *body =
            body_of(JOB("'Input':{'Key':'i'},'Output':{'Key':'o','PresetId':'" PRESET "',%s}"),
                    s_refused[i].member);
        char *message = s_refused[i].message != NULL
                            ? body_of("1 validation error detected: %s", s_refused[i].message)
                            : NULL;
        expect_refused(&fx, body, message);
        free(message);
        free(body);
    }
    /* Key 1..255 and PresetId the Id pattern. */
    char *k255 = repeat('k', 255);
    char *k256 = repeat('k', 256);
    char *body = body_of(JOB("'Input':{'Key':'i'},'Output':" OUT("%s")), k255);
    json_decref(expect_created(&fx, body));
    free(body);
    body = body_of(JOB("'Input':{'Key':'i'},'Output':" OUT("%s")), k256);
    expect_refused(&fx, body, NULL);
    free(body);
    free(k255);
    free(k256);
    expect_refused(&fx, JOB("'Input':{'Key':'i'},'Output':{'Key':'o','PresetId':'1351620000001'}"),
                   "1 validation error detected: Value '1351620000001' at 'output.presetId' "
                   "failed to satisfy constraint: Member must satisfy regular expression "
                   "pattern: ^\\d{13}-\\w{6}$");
    assert_int_equal(job_count(&fx), sizeof(s_accepted) / sizeof(s_accepted[0]) + 1);
    fx_close(&fx);
}

static void test_service_job_input_member_shapes(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Paused");
    /* 23x97: the model's pattern leaves the '.' of 23.97 and 29.97 unescaped. */
    static const char *const s_accepted[] = {
        "'FrameRate':'auto'",   "'FrameRate':'10'",         "'FrameRate':'23.97'",
        "'FrameRate':'29.97'",  "'FrameRate':'60'",         "'FrameRate':'23x97'",
        "'Resolution':'auto'",  "'Resolution':'1920x1080'", "'Resolution':'12345x1'",
        "'AspectRatio':'auto'", "'AspectRatio':'16:9'",     "'AspectRatio':'1:1'",
        "'Interlaced':'auto'",  "'Interlaced':'true'",      "'Interlaced':'false'",
        "'Container':'auto'",   "'Container':'mpeg-ts'",    "'Container':'aac'",
    };
    for (size_t i = 0; i < sizeof(s_accepted) / sizeof(s_accepted[0]); i++) {
        char *body = body_of(JOB("'Input':{'Key':'i',%s},'Output':" OUT("o")), s_accepted[i]);
        json_t *job = expect_created(&fx, body);
        json_decref(job);
        free(body);
    }
    static const struct {
        const char *member;
        const char *message;
    } s_refused[] = {
        {"'FrameRate':'23.976'",
         "Value '23.976' at 'input.frameRate' failed to satisfy constraint: Member must satisfy "
         "regular expression pattern: "
         "(^auto$)|(^10$)|(^15$)|(^23.97$)|(^24$)|(^25$)|(^29.97$)|(^30$)|(^50$)|(^60$)"},
        {"'FrameRate':'12'", NULL},
        {"'FrameRate':'23\\n97'", NULL},
        {"'Resolution':'123456x1'",
         "Value '123456x1' at 'input.resolution' failed to satisfy constraint: Member must "
         "satisfy regular expression pattern: (^auto$)|(^\\d{1,5}x\\d{1,5}$)"},
        {"'Resolution':'x1080'", NULL},
        {"'Resolution':'1920X1080'", NULL},
        {"'AspectRatio':'21:9'",
         "Value '21:9' at 'input.aspectRatio' failed to satisfy constraint: Member must satisfy "
         "regular expression pattern: (^auto$)|(^1:1$)|(^4:3$)|(^3:2$)|(^16:9$)"},
        {"'Interlaced':'yes'",
         "Value 'yes' at 'input.interlaced' failed to satisfy constraint: Member must satisfy "
         "regular expression pattern: (^auto$)|(^true$)|(^false$)"},
        {"'Container':'mp5'", NULL},
        {"'Container':'MP4'", NULL},
    };
    for (size_t i = 0; i < sizeof(s_refused) / sizeof(s_refused[0]); i++) {
        char *body = body_of(JOB("'Input':{'Key':'i',%s},'Output':" OUT("o")), s_refused[i].member);
        char *message = s_refused[i].message != NULL
                            ? body_of("1 validation error detected: %s", s_refused[i].message)
                            : NULL;
        expect_refused(&fx, body, message);
        free(message);
        free(body);
    }
    /* In each of Inputs too. */
    expect_refused(
        &fx, JOB("'Inputs':[{'Key':'a'},{'Key':'b','Container':'mp5'}],'Output':" OUT("o")), NULL);
    assert_int_equal(job_count(&fx), sizeof(s_accepted) / sizeof(s_accepted[0]));
    fx_close(&fx);
}

static void test_service_job_playlists(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Paused");
    static const char *const s_formats[] = {"HLSv3", "HLSv4", "Smooth", "MPEG-DASH"};
    for (size_t i = 0; i < 4; i++) {
        char *body =
            body_of(JOB("'Input':{'Key':'i'},'Outputs':[" OUT("a") "," OUT(
                        "b") "],"
                             "'Playlists':[{'Name':'pl','Format':'%s','OutputKeys':['b','a']}]"),
                    s_formats[i]);
        json_t *job = expect_created(&fx, body);
        char *want = body_of("[{'Name':'pl','Format':'%s','OutputKeys':['b','a'],"
                             "'Status':'Submitted'}]",
                             s_formats[i]);
        expect_member(job, "Playlists", want);
        free(want);
        json_decref(job);
        free(body);
    }
    expect_refused(&fx, JOB(ONE_IN_OUT ",'Playlists':[{'Name':'pl','Format':'HLS'}]"),
                   "1 validation error detected: Value 'HLS' at 'playlists.1.member.format' "
                   "failed to satisfy constraint: Member must satisfy regular expression "
                   "pattern: (^HLSv3$)|(^HLSv4$)|(^Smooth$)|(^MPEG-DASH$)");
    expect_refused(&fx, JOB(ONE_IN_OUT ",'Playlists':[{'Format':'HLSv3'}]"),
                   "1 validation error detected: Value null at 'playlists.1.member.name' failed "
                   "to satisfy constraint: Member must not be null");
    expect_refused(&fx, JOB(ONE_IN_OUT ",'Playlists':[{'Name':'pl'}]"),
                   "1 validation error detected: Value null at 'playlists.1.member.format' failed "
                   "to satisfy constraint: Member must not be null");
    expect_refused(&fx, JOB(ONE_IN_OUT ",'Playlists':[{'Name':'','Format':'HLSv3'}]"), NULL);
    char *n256 = repeat('n', 256);
    char *body = body_of(JOB(ONE_IN_OUT ",'Playlists':[{'Name':'%s','Format':'HLSv3'}]"), n256);
    expect_refused(&fx, body, NULL);
    free(body);
    free(n256);
    /* Every OutputKeys entry names an output Key of this job. */
    expect_refused(&fx,
                   JOB("'Input':{'Key':'i'},'Outputs':[" OUT("a") "," OUT(
                       "b") "],"
                            "'Playlists':[{'Name':'p','Format':'HLSv3','OutputKeys':['a','c']}]"),
                   "1 validation error detected: Value 'c' at "
                   "'playlists.1.member.outputKeys.2.member' failed to satisfy constraint: "
                   "Member must be the Key of one of the job's outputs");
    expect_refused(&fx,
                   JOB(ONE_IN_OUT ",'Playlists':[{'Name':'p','Format':'HLSv3',"
                                  "'OutputKeys':['in.mp4']}]"),
                   NULL);
    /* At most 30 playlists. */
    char *p30 = items("{'Name':'p%d','Format':'HLSv4'}", 30);
    char *p31 = items("{'Name':'p%d','Format':'HLSv4'}", 31);
    body = body_of(JOB(ONE_IN_OUT ",'Playlists':[%s]"), p30);
    json_decref(expect_created(&fx, body));
    free(body);
    body = body_of(JOB(ONE_IN_OUT ",'Playlists':[%s]"), p31);
    expect_refused(&fx, body, NULL);
    free(body);
    free(p30);
    free(p31);
    assert_int_equal(job_count(&fx), 5);
    fx_close(&fx);
}

static void test_service_job_prefix_and_user_metadata(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Paused");
    json_t *job =
        expect_created(&fx, JOB(ONE_IN_OUT ",'OutputKeyPrefix':'p/','UserMetadata':{'Owner 1':"
                                           "'a_b.c:d/e=f+g-h%i@j','':''}"));
    expect_member(job, "UserMetadata", "{'Owner 1':'a_b.c:d/e=f+g-h%i@j','':''}");
    expect_member(job, "OutputKeyPrefix", "'p/'");
    json_decref(job);
    job = expect_created(&fx, JOB(ONE_IN_OUT ",'UserMetadata':{}"));
    expect_member(job, "UserMetadata", "{}");
    json_decref(job);
    expect_refused(&fx, JOB(ONE_IN_OUT ",'OutputKeyPrefix':''"),
                   "1 validation error detected: Value '' at 'outputKeyPrefix' failed to satisfy "
                   "constraint: Member must have length greater than or equal to 1");
    char *p256 = repeat('p', 256);
    char *body = body_of(JOB(ONE_IN_OUT ",'OutputKeyPrefix':'%s'"), p256);
    expect_refused(&fx, body, NULL);
    free(body);
    free(p256);
    expect_refused(&fx, JOB(ONE_IN_OUT ",'UserMetadata':{'a':'b#c'}"),
                   "1 validation error detected: Value 'b#c' at 'userMetadata' failed to satisfy "
                   "constraint: Member must contain only the characters 0-9, A-Z, a-z, space and "
                   "_.:/=+-%@");
    expect_refused(&fx, JOB(ONE_IN_OUT ",'UserMetadata':{'k\\u00e9':'v'}"), NULL);
    char *m10 = items("'k%d':'v'", 10);
    char *m11 = items("'k%d':'v'", 11);
    body = body_of(JOB(ONE_IN_OUT ",'UserMetadata':{%s}"), m10);
    json_decref(expect_created(&fx, body));
    free(body);
    body = body_of(JOB(ONE_IN_OUT ",'UserMetadata':{%s}"), m11);
    expect_refused(&fx, body, NULL);
    free(body);
    free(m10);
    free(m11);
    assert_int_equal(job_count(&fx), 3);
    fx_close(&fx);
}

/* --- Output status (contract 1b) ----------------------------------------------------- */

static void expect_outputs_status(struct fx *fx, const char *id, const char *status)
{
    char target[64];
    snprintf(target, sizeof(target), JOBS "/%s", id);
    struct answer a;
    call(fx, "GET", target, NULL, &a);
    assert_int_equal(a.http_status, 200);
    json_t *job = json_object_get(a.body, "Job");
    assert_string_equal(json_string_value(json_object_get(job, "Status")), status);
    json_t *outputs = json_object_get(job, "Outputs");
    assert_int_equal(json_array_size(outputs), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(outputs, i), "Status")), status);
    }
    answer_cleanup(&a);
}

static void test_service_job_output_status_rolls_up(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with_pipeline(&fx, "Active");
    static const char body[] =
        JOB("'Input':{'Key':'i'},'Outputs':[" OUT("a") "," OUT("b") "," OUT("c") "]");
    json_t *first = expect_created(&fx, body);
    json_t *second = expect_created(&fx, body);
    json_t *third = expect_created(&fx, body);
    const char *a = json_string_value(json_object_get(first, "Id"));
    const char *b = json_string_value(json_object_get(second, "Id"));
    const char *c = json_string_value(json_object_get(third, "Id"));
    expect_outputs_status(&fx, a, "Submitted");
    char target[64];
    snprintf(target, sizeof(target), JOBS "/%s", b);
    struct answer ans;
    call(&fx, "DELETE", target, NULL, &ans);
    assert_int_equal(ans.http_status, 202);
    answer_cleanup(&ans);
    expect_outputs_status(&fx, b, "Canceled");
    /* Started: every output Progressing (the reference runs them together). */
    int64_t when;
    assert_true(ref_service_next_event_ms(fx.svc, &when));
    fx.clock.now_ms = when;
    ref_service_tick(fx.svc);
    expect_outputs_status(&fx, a, "Progressing");
    expect_outputs_status(&fx, c, "Progressing");
    assert_int_equal(ref_service_fail_job(fx.svc, c), REF_OK);
    expect_outputs_status(&fx, c, "Error");
    while (strcmp(ref_service_job_status(fx.svc, a), "Complete") != 0) {
        assert_true(ref_service_next_event_ms(fx.svc, &when));
        fx.clock.now_ms = when;
        ref_service_tick(fx.svc);
    }
    expect_outputs_status(&fx, a, "Complete");
    json_decref(first);
    json_decref(second);
    json_decref(third);
    fx_close(&fx);
}

/* --- Not found (contract 4) ---------------------------------------------------------- */

static void test_service_job_unknown_pipeline_message(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    char *body = q("{'PipelineId':'" UNKNOWN_ID "'," ONE_IN_OUT "}");
    static const char *const s_targets[] = {JOBS, "/2012-09-25/jobsByPipeline/" UNKNOWN_ID};
    for (size_t i = 0; i < 2; i++) {
        struct answer a;
        call(&fx, i == 0 ? "POST" : "GET", s_targets[i], i == 0 ? body : NULL, &a);
        assert_int_equal(a.http_status, 404);
        assert_string_equal(a.error_type, "ResourceNotFoundException");
        assert_string_equal(message_of(&a), "The specified pipeline was not found: "
                                            "account=111122223333, pipelineId=" UNKNOWN_ID ".");
        answer_cleanup(&a);
    }
    free(body);
    fx_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_job_inputs_answered_as_input_and_inputs),
        cmocka_unit_test(test_service_job_answers_modelled_members_only),
        cmocka_unit_test(test_service_job_seeded_answers_like_created),
        cmocka_unit_test(test_service_job_exactly_one_input_form),
        cmocka_unit_test(test_service_job_rejects_wrong_types_anywhere),
        cmocka_unit_test(test_service_job_output_member_shapes),
        cmocka_unit_test(test_service_job_input_member_shapes),
        cmocka_unit_test(test_service_job_playlists),
        cmocka_unit_test(test_service_job_prefix_and_user_metadata),
        cmocka_unit_test(test_service_job_output_status_rolls_up),
        cmocka_unit_test(test_service_job_unknown_pipeline_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
