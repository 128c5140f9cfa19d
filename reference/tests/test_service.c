/* SPDX-License-Identifier: Apache-2.0
 *
 * test_service.c - the reference service end to end: raw request bytes in, raw response
 * bytes out, through ref_service_handle.
 *
 * Requests are signed with ref_sigv4_sign at the pinned clock, as a client would. Every
 * response is parsed and checked for the shape every answer must have (contract sections
 * 4 and 6) before the test looks at its status and body. The 30 client captures are
 * replayed as recorded, then each is tampered with byte by byte.
 */
#include "test_alloc_hooks.h"
#include "test_util.h"

#include "ref/job_store.h"
#include "ref/limits.h"
#include "ref/mem.h"
#include "ref/service.h"
#include "ref/sigv4.h"

#include <jansson.h>

#define HOST       "elastictranscoder.us-east-1.amazonaws.com"
#define PIPE_ID    "1111111111111-abcde1"
#define JOB_ID     "2222222222222-abcdef"
#define PRESET_ID  "1351620000001-000010"
#define DELAY_MS   2000
#define RUN_MS     5000
#define ID_PATTERN "^\\d{13}-\\w{6}$"
#define ROLE       "arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role"

/* --- A service on a pinned clock ---------------------------------------------------- */

struct fx {
    struct test_clock clock;
    struct ref_service *svc;
};

static void fx_open_with(struct fx *fx, size_t page_size, size_t max_pipelines, size_t max_jobs)
{
    fx->clock = (struct test_clock){.now_ms = TEST_FIXED_NOW_MS, .rng_state = 0x2545f4914f6cdd1du};
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.start_delay_ms = DELAY_MS;
    cfg.run_time_ms = RUN_MS;
    if (page_size != 0) {
        cfg.page_size = page_size;
    }
    if (max_pipelines != 0) {
        cfg.max_pipelines = max_pipelines;
    }
    if (max_jobs != 0) {
        cfg.max_queued_jobs = max_jobs;
    }
    cfg.env = (struct ref_env){
        .now_ms = test_clock_now_ms, .random_bytes = test_clock_random_bytes, .ctx = &fx->clock};
    fx->svc = ref_service_new(&cfg);
    assert_non_null(fx->svc);
}

static void fx_open(struct fx *fx)
{
    fx_open_with(fx, 0, 0, 0);
}

static void fx_close(struct fx *fx)
{
    ref_service_free(fx->svc);
    fx->svc = NULL;
}

/* --- Building signed requests ------------------------------------------------------- */

struct req_opts {
    const struct ref_credential *cred; /* NULL: unsigned */
    const char *session_token;         /* overrides the credential's token when set */
    bool omit_token;                   /* leave X-Amz-Security-Token out */
};

/* Formats "METHOD target HTTP/1.1" plus Host, X-Amz-Date, (Content-Type, Content-Length),
 * (X-Amz-Security-Token) and Authorization, then the body, into raw. */
static void build_request(const struct fx *fx,
                          const char *method,
                          const char *target,
                          const char *body,
                          const struct req_opts *o,
                          struct ref_buf *raw)
{
    char amz_date[17];
    ref_sigv4_format_amz_date(fx->clock.now_ms / 1000, amz_date);
    char length[24];
    size_t body_len = body != NULL ? strlen(body) : 0;
    snprintf(length, sizeof(length), "%zu", body_len);

    struct ref_header h[8];
    size_t n = 0;
    h[n++] = (struct ref_header){REF_SLICE_LIT("Host"), REF_SLICE_LIT(HOST)};
    h[n++] = (struct ref_header){REF_SLICE_LIT("X-Amz-Date"), ref_slice_make(amz_date, 16)};
    if (body != NULL) {
        h[n++] =
            (struct ref_header){REF_SLICE_LIT("Content-Type"), REF_SLICE_LIT("application/json")};
        h[n++] = (struct ref_header){REF_SLICE_LIT("Content-Length"), ref_slice_from_cstr(length)};
    }
    const char *token = NULL;
    if (o != NULL && o->cred != NULL && !o->omit_token) {
        token = o->session_token != NULL ? o->session_token : o->cred->session_token;
    }
    if (token != NULL) {
        h[n++] =
            (struct ref_header){REF_SLICE_LIT("X-Amz-Security-Token"), ref_slice_from_cstr(token)};
    }
    struct ref_slice path = ref_slice_from_cstr(target);
    struct ref_slice query = {NULL, 0};
    size_t q = ref_slice_find(path, '?');
    if (q < path.len) {
        query = ref_slice_sub(path, q + 1, path.len);
        path.len = q;
    }

    assert_int_equal(ref_buf_appendf(raw, "%s %s HTTP/1.1\r\n", method, target), REF_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ref_buf_appendf(raw, REF_SLICE_FMT ": " REF_SLICE_FMT "\r\n",
                                         REF_SLICE_ARG(h[i].name), REF_SLICE_ARG(h[i].value)),
                         REF_OK);
    }
    if (o != NULL && o->cred != NULL) {
        struct ref_sigv4_request sreq = {.method = ref_slice_from_cstr(method),
                                         .path = path,
                                         .query = query,
                                         .headers = h,
                                         .num_headers = n,
                                         .body = ref_slice_make(body, body_len)};
        struct ref_sigv4_sign_params p = {
            .access_key_id = ref_slice_from_cstr(o->cred->access_key_id),
            .secret_access_key = ref_slice_from_cstr(o->cred->secret_access_key),
            .region = REF_SLICE_LIT("us-east-1"),
            .service = REF_SLICE_LIT("elastictranscoder"),
            .amz_date = ref_slice_make(amz_date, 16)};
        struct ref_buf auth;
        ref_buf_init(&auth, 4096);
        assert_int_equal(ref_sigv4_sign(&p, &sreq, &auth, NULL), REF_OK);
        assert_int_equal(ref_buf_appendf(raw, "Authorization: %.*s\r\n", (int)auth.len, auth.data),
                         REF_OK);
        ref_buf_cleanup(&auth);
    }
    assert_int_equal(ref_buf_append_cstr(raw, "\r\n"), REF_OK);
    if (body != NULL) {
        assert_int_equal(ref_buf_append(raw, body, body_len), REF_OK);
    }
}

/* --- Reading responses -------------------------------------------------------------- */

struct tresp {
    int status;
    char error_type[256];
    char request_id[256];
    json_t *body;
    char body_text[8192]; /* the body as sent (truncated), for exact comparisons */
    bool is_closing;      /* "Connection: close" was sent */
};

static void tresp_cleanup(struct tresp *r)
{
    json_decref(r->body);
    r->body = NULL;
}

static bool is_uuid_v4(const char *s)
{
    if (strlen(s) != 36) {
        return false;
    }
    for (size_t i = 0; i < 36; i++) {
        bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

/* ASCII case-insensitive: does the header name at p (len bytes) equal want? */
static bool name_is(const char *p, size_t len, const char *want)
{
    return ref_slice_eq_nocase(ref_slice_make(p, len), ref_slice_from_cstr(want));
}

/* Parses one raw response and checks what every answer must have: Content-Type
 * application/json, an exact Content-Length, a UUID v4 x-amzn-RequestId, a Date, a JSON
 * object body; on errors also x-amzn-ErrorType and a body that is {"message": string}. */
static void parse_response(struct ref_slice raw, struct tresp *r)
{
    *r = (struct tresp){0};
    const char *p = (const char *)raw.ptr;
    const char *end = p + raw.len;
    const char *eol = NULL;
    for (const char *q = p; q + 1 < end; q++) {
        if (q[0] == '\r' && q[1] == '\n') {
            eol = q;
            break;
        }
    }
    assert_non_null(eol);
    assert_true(eol - p > 13);
    assert_memory_equal(p, "HTTP/1.1 ", 9);
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    bool has_type = false;
    bool has_date = false;
    long content_length = -1;
    p = eol + 2;
    for (;;) {
        eol = NULL;
        for (const char *q = p; q + 1 < end; q++) {
            if (q[0] == '\r' && q[1] == '\n') {
                eol = q;
                break;
            }
        }
        assert_non_null(eol);
        if (eol == p) {
            p += 2;
            break;
        }
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        assert_non_null(colon);
        size_t name_len = (size_t)(colon - p);
        const char *value = colon + 1;
        while (value < eol && *value == ' ') {
            value++;
        }
        size_t value_len = (size_t)(eol - value);
        char v[256];
        assert_true(value_len < sizeof(v));
        for (size_t i = 0; i < value_len; i++) {
            v[i] = value[i];
        }
        v[value_len] = '\0';
        if (name_is(p, name_len, "Content-Type")) {
            assert_string_equal(v, "application/json");
            has_type = true;
        } else if (name_is(p, name_len, "Content-Length")) {
            content_length = strtol(v, NULL, 10);
        } else if (name_is(p, name_len, "x-amzn-RequestId")) {
            snprintf(r->request_id, sizeof(r->request_id), "%s", v);
        } else if (name_is(p, name_len, "x-amzn-ErrorType")) {
            snprintf(r->error_type, sizeof(r->error_type), "%s", v);
        } else if (name_is(p, name_len, "Connection")) {
            assert_string_equal(v, "close");
            r->is_closing = true;
        } else if (name_is(p, name_len, "Date")) {
            has_date = true;
            assert_int_equal(value_len, 29);
            assert_memory_equal(v + 25, " GMT", 4);
        }
        p = eol + 2;
    }
    assert_true(has_type);
    assert_true(has_date);
    assert_true(is_uuid_v4(r->request_id));
    size_t body_len = (size_t)(end - p);
    assert_int_equal(content_length, (long)body_len);
    snprintf(r->body_text, sizeof(r->body_text), "%.*s", (int)body_len, p);
    json_error_t jerr;
    r->body = json_loadb(p, body_len, 0, &jerr);
    if (r->body == NULL) {
        fail_msg("response body is not JSON: %s (%.*s)", jerr.text, (int)body_len, p);
    }
    assert_true(json_is_object(r->body));
    if (r->status >= 300) {
        assert_true(r->error_type[0] != '\0');
        assert_int_equal(json_object_size(r->body), 1);
        assert_true(json_is_string(json_object_get(r->body, "message")));
    } else {
        assert_string_equal(r->error_type, "");
    }
}

/* Sends raw bytes through ref_service_handle and parses the answer. */
static void send_raw(struct fx *fx, struct ref_slice raw, struct tresp *r)
{
    struct ref_buf out;
    ref_buf_init(&out, REF_MAX_RESPONSE_BYTES + 4096);
    assert_int_equal(ref_service_handle(fx->svc, raw, &out), REF_OK);
    parse_response(ref_buf_slice(&out), r);
    ref_buf_cleanup(&out);
}

static void send_as(struct fx *fx,
                    const struct ref_credential *cred,
                    const char *method,
                    const char *target,
                    const char *body,
                    struct tresp *r)
{
    struct ref_buf raw;
    ref_buf_init(&raw, REF_MAX_REQUEST_BYTES);
    struct req_opts o = {.cred = cred};
    build_request(fx, method, target, body, &o, &raw);
    send_raw(fx, ref_buf_slice(&raw), r);
    ref_buf_cleanup(&raw);
}

/* As the main principal. */
static void
send_req(struct fx *fx, const char *method, const char *target, const char *body, struct tresp *r)
{
    send_as(fx, REF_TEST_CRED_MAIN, method, target, body, r);
}

static const char *message_of(const struct tresp *r)
{
    return json_string_value(json_object_get(r->body, "message"));
}

static void expect_error(const struct tresp *r, int status, const char *type)
{
    if (r->status != status || strcmp(r->error_type, type) != 0) {
        fail_msg("want %d %s, got %d %s: %s", status, type, r->status, r->error_type, r->body_text);
    }
}

static void expect_status(const struct tresp *r, int status)
{
    if (r->status != status) {
        fail_msg("want %d, got %d %s: %s", status, r->status, r->error_type, r->body_text);
    }
}

/* Sends method target (body may be NULL) as the main principal and checks the answer's
 * HTTP status, its x-amzn-ErrorType unless type is NULL, and its exact message unless
 * message is NULL. Failures name the request, because cmocka reports them from here. */
static void request_expect(struct fx *fx,
                           const char *method,
                           const char *target,
                           const char *body,
                           int status,
                           const char *type,
                           const char *message)
{
    struct tresp r;
    send_req(fx, method, target, body, &r);
    if (r.status != status || (type != NULL && strcmp(r.error_type, type) != 0)) {
        fail_msg("%s %s: want %d %s, got %d %s: %s", method, target, status,
                 type != NULL ? type : "", r.status, r.error_type, r.body_text);
    }
    if (message != NULL) {
        assert_string_equal(message_of(&r), message);
    }
    tresp_cleanup(&r);
}

static const char *str_at(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL) {
        fail_msg("member %s is not a string", key);
    }
    return s;
}

/* Creates a pipeline through the API and copies its Id into id_out. */
static void create_pipeline(struct fx *fx, const char *name, char id_out[REF_ID_LEN + 1])
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"Name\":\"%s\",\"InputBucket\":\"in-bucket\",\"OutputBucket\":\"out-bucket\","
             "\"Role\":\"" ROLE "\"}",
             name);
    struct tresp r;
    send_req(fx, "POST", "/2012-09-25/pipelines", body, &r);
    expect_status(&r, 201);
    snprintf(id_out, REF_ID_LEN + 1, "%s", str_at(json_object_get(r.body, "Pipeline"), "Id"));
    tresp_cleanup(&r);
}

static void create_job(struct fx *fx, const char *pipeline_id, char id_out[REF_ID_LEN + 1])
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"PipelineId\":\"%s\",\"Input\":{\"Key\":\"in.mp4\"},"
             "\"Outputs\":[{\"Key\":\"out.mp4\",\"PresetId\":\"" PRESET_ID "\"}]}",
             pipeline_id);
    struct tresp r;
    send_req(fx, "POST", "/2012-09-25/jobs", body, &r);
    expect_status(&r, 201);
    snprintf(id_out, REF_ID_LEN + 1, "%s", str_at(json_object_get(r.body, "Job"), "Id"));
    tresp_cleanup(&r);
}

static const char *job_status_via_read(struct fx *fx, const char *id, struct tresp *r)
{
    char target[128];
    snprintf(target, sizeof(target), "/2012-09-25/jobs/%s", id);
    send_req(fx, "GET", target, NULL, r);
    expect_status(r, 200);
    return str_at(json_object_get(r->body, "Job"), "Status");
}

/* --- Operations: success codes and body shapes ------------------------------------ */

static void test_service_pipeline_operations(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    struct tresp r;
    send_req(&fx, "POST", "/2012-09-25/pipelines",
             "{\"Name\":\"probe\",\"InputBucket\":\"in\",\"OutputBucket\":\"out\","
             "\"Role\":\"" ROLE "\",\"Notifications\":{\"Completed\":\"\",\"Error\":"
             "\"arn:aws:sns:us-east-1:111122223333:topic\"},\"Unknown\":1}",
             &r);
    expect_status(&r, 201);
    assert_int_equal(json_object_size(r.body), 2);
    json_t *p = json_object_get(r.body, "Pipeline");
    assert_true(json_is_array(json_object_get(r.body, "Warnings")));
    assert_int_equal(json_array_size(json_object_get(r.body, "Warnings")), 0);
    char id[REF_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", str_at(p, "Id"));
    assert_true(ref_job_id_is_valid(ref_slice_from_cstr(id)));
    assert_memory_equal(id, "1795869900000-", 14);
    char arn[128];
    snprintf(arn, sizeof(arn), "arn:aws:elastictranscoder:us-east-1:111122223333:pipeline/%s", id);
    assert_string_equal(str_at(p, "Arn"), arn);
    assert_string_equal(str_at(p, "Name"), "probe");
    assert_string_equal(str_at(p, "Status"), "Active");
    assert_string_equal(str_at(p, "InputBucket"), "in");
    assert_string_equal(str_at(p, "Role"), ROLE);
    assert_string_equal(str_at(p, "OutputBucket"), "out");
    assert_null(json_object_get(p, "AwsKmsKeyArn")); /* absent optionals are omitted */
    assert_null(json_object_get(p, "Unknown"));
    assert_string_equal(str_at(json_object_get(p, "Notifications"), "Completed"), "");
    tresp_cleanup(&r);

    char target[128];
    snprintf(target, sizeof(target), "/2012-09-25/pipelines/%s", id);
    send_req(&fx, "GET", target, NULL, &r);
    expect_status(&r, 200);
    assert_string_equal(str_at(json_object_get(r.body, "Pipeline"), "Id"), id);
    assert_int_equal(json_array_size(json_object_get(r.body, "Warnings")), 0);
    tresp_cleanup(&r);

    snprintf(target, sizeof(target), "/2012-09-25/pipelines/%s/status", id);
    send_req(&fx, "POST", target, "{\"Status\":\"Paused\"}", &r);
    expect_status(&r, 200);
    assert_int_equal(json_object_size(r.body), 1);
    assert_string_equal(str_at(json_object_get(r.body, "Pipeline"), "Status"), "Paused");
    tresp_cleanup(&r);

    send_req(&fx, "GET", "/2012-09-25/pipelines", NULL, &r);
    expect_status(&r, 200);
    json_t *list = json_object_get(r.body, "Pipelines");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(str_at(json_array_get(list, 0), "Status"), "Paused");
    assert_true(json_is_null(json_object_get(r.body, "NextPageToken")));
    tresp_cleanup(&r);

    snprintf(target, sizeof(target), "/2012-09-25/pipelines/%s", id);
    send_req(&fx, "DELETE", target, NULL, &r);
    expect_status(&r, 202);
    assert_string_equal(r.body_text, "{\"Success\":\"true\"}");
    tresp_cleanup(&r);
    request_expect(&fx, "GET", target, NULL, 404, "ResourceNotFoundException", NULL);
    request_expect(&fx, "DELETE", target, NULL, 404, "ResourceNotFoundException", NULL);
    fx_close(&fx);
}

static void test_service_create_job_shape(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    char pipe[REF_ID_LEN + 1];
    create_pipeline(&fx, "p", pipe);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"PipelineId\":\"%s\",\"Input\":{\"Key\":\"in/movie.mp4\",\"Container\":\"auto\"},"
             "\"Outputs\":[{\"Key\":\"a.mp4\",\"PresetId\":\"" PRESET_ID "\"},"
             "{\"Key\":\"b.mp4\",\"PresetId\":\"" PRESET_ID "\",\"Rotate\":\"auto\"}],"
             "\"UserMetadata\":{\"owner\":\"probe\"}}",
             pipe);
    struct tresp r;
    send_req(&fx, "POST", "/2012-09-25/jobs", body, &r);
    expect_status(&r, 201);
    assert_int_equal(json_object_size(r.body), 1);
    json_t *job = json_object_get(r.body, "Job");
    const char *id = str_at(job, "Id");
    assert_true(ref_job_id_is_valid(ref_slice_from_cstr(id)));
    char arn[128];
    snprintf(arn, sizeof(arn), "arn:aws:elastictranscoder:us-east-1:111122223333:job/%s", id);
    assert_string_equal(str_at(job, "Arn"), arn);
    assert_string_equal(str_at(job, "PipelineId"), pipe);
    assert_string_equal(str_at(json_object_get(job, "Input"), "Key"), "in/movie.mp4");
    assert_string_equal(str_at(json_object_get(job, "Input"), "Container"), "auto");
    assert_string_equal(str_at(job, "Status"), "Submitted");
    json_t *outputs = json_object_get(job, "Outputs");
    assert_int_equal(json_array_size(outputs), 2);
    static const char *const keys[] = {"a.mp4", "b.mp4"};
    for (size_t i = 0; i < 2; i++) {
        json_t *o = json_array_get(outputs, i);
        char want_id[4];
        snprintf(want_id, sizeof(want_id), "%zu", i + 1);
        assert_string_equal(str_at(o, "Id"), want_id);
        assert_string_equal(str_at(o, "Key"), keys[i]);
        assert_string_equal(str_at(o, "PresetId"), PRESET_ID);
        assert_string_equal(str_at(o, "Status"), "Submitted");
    }
    assert_string_equal(str_at(json_array_get(outputs, 1), "Rotate"), "auto");
    assert_true(json_equal(json_object_get(job, "Output"), json_array_get(outputs, 0)));
    json_t *timing = json_object_get(job, "Timing");
    assert_int_equal(json_object_size(timing), 1);
    assert_true(json_is_integer(json_object_get(timing, "SubmitTimeMillis")));
    assert_int_equal(json_integer_value(json_object_get(timing, "SubmitTimeMillis")),
                     TEST_FIXED_NOW_MS);
    assert_string_equal(str_at(json_object_get(job, "UserMetadata"), "owner"), "probe");
    assert_null(json_object_get(job, "OutputKeyPrefix"));
    assert_int_equal(json_array_size(json_object_get(job, "Playlists")), 0);
    assert_true(json_is_array(json_object_get(job, "Playlists")));
    tresp_cleanup(&r);

    /* A single Output becomes Outputs[0] with Id "1". */
    snprintf(body, sizeof(body),
             "{\"PipelineId\":\"%s\",\"Input\":{\"Key\":\"in.mp4\"},"
             "\"Output\":{\"Key\":\"one.mp4\",\"PresetId\":\"" PRESET_ID "\"},"
             "\"OutputKeyPrefix\":\"pre/\"}",
             pipe);
    send_req(&fx, "POST", "/2012-09-25/jobs", body, &r);
    expect_status(&r, 201);
    job = json_object_get(r.body, "Job");
    assert_int_equal(json_array_size(json_object_get(job, "Outputs")), 1);
    assert_string_equal(str_at(json_object_get(job, "Output"), "Id"), "1");
    assert_string_equal(str_at(json_object_get(job, "Output"), "Key"), "one.mp4");
    assert_string_equal(str_at(job, "OutputKeyPrefix"), "pre/");
    assert_null(json_object_get(job, "UserMetadata"));
    tresp_cleanup(&r);
    fx_close(&fx);
}

/* A CreateJob body for PIPE_ID with n outputs, NUL-terminated, replacing body's contents. */
static void outputs_body(struct ref_buf *body, int n)
{
    ref_buf_reset(body);
    assert_int_equal(ref_buf_append_cstr(body, "{\"PipelineId\":\"" PIPE_ID
                                               "\",\"Input\":{\"Key\":\"i\"},\"Outputs\":["),
                     REF_OK);
    for (int i = 0; i < n; i++) {
        assert_int_equal(ref_buf_appendf(body, "%s{\"Key\":\"o%d\",\"PresetId\":\"" PRESET_ID "\"}",
                                         i ? "," : "", i),
                         REF_OK);
    }
    assert_int_equal(ref_buf_append_cstr(body, "]}"), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(body), REF_OK);
}

static void test_service_create_job_rejects_bad_bodies(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Active"), REF_OK);
    static const struct {
        const char *body;
        int status;
        const char *type;
        const char *message; /* NULL: not checked */
    } cases[] = {
        {"{\"PipelineId\":\"" PIPE_ID "\",\"Input\":{\"Key\":\"i\"},"
         "\"Output\":{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID "\"},"
         "\"Outputs\":[{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID "\"}]}",
         400, "ValidationException",
         "1 validation error detected: Specify either 'output' or 'outputs', not both"},
        {"{\"PipelineId\":\"" PIPE_ID "\",\"Input\":{\"Key\":\"i\"}}", 400, "ValidationException",
         "1 validation error detected: One of 'output' and 'outputs' must be specified"},
        {"{\"PipelineId\":", 400, "ValidationException", NULL},
        {"", 400, "ValidationException", NULL},
        {"[1,2]", 400, "ValidationException", "The request body must be a JSON object."},
        {"{\"PipelineId\":\"9999999999999-zzzzzz\",\"Input\":{\"Key\":\"i\"},"
         "\"Outputs\":[{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID "\"}]}",
         404, "ResourceNotFoundException", NULL},
        {"{\"PipelineId\":\"bad\",\"Input\":{\"Key\":\"\"},"
         "\"Outputs\":[{\"PresetId\":\"x\"}]}",
         400, "ValidationException",
         "4 validation errors detected: Value 'bad' at 'pipelineId' failed to satisfy constraint: "
         "Member must satisfy regular expression pattern: " ID_PATTERN
         "; Value '' at 'input.key' failed to satisfy constraint: Member must have length "
         "greater than or equal to 1; Value null at 'outputs.1.member.key' failed to satisfy "
         "constraint: Member must not be null; Value 'x' at 'outputs.1.member.presetId' failed "
         "to satisfy constraint: Member must satisfy regular expression pattern: " ID_PATTERN},
        {"{\"PipelineId\":\"" PIPE_ID "\",\"Outputs\":[]}", 400, "ValidationException",
         "1 validation error detected: Value '[]' at 'outputs' failed to satisfy constraint: "
         "Member must have length greater than or equal to 1"},
        {"{\"PipelineId\":\"" PIPE_ID "\",\"Outputs\":[{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID
         "\"}]}",
         400, "ValidationException",
         "1 validation error detected: One of 'input' and 'inputs' must be specified"},
        {"{\"PipelineId\":\"" PIPE_ID "\",\"Input\":{\"Key\":\"i\"},"
         "\"Output\":{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID "\"},\"UserMetadata\":{\"a\":1}}",
         400, "ValidationException",
         "1 validation error detected: Value '{\"a\":1}' at 'userMetadata' failed to satisfy "
         "constraint: Member must be of type map of string to string"},
        {"{\"PipelineId\":\"" PIPE_ID "\",\"Input\":{\"Key\":\"i\"},"
         "\"Output\":{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID "\"},\"UserMetadata\":"
         "{\"1\":\"\",\"2\":\"\",\"3\":\"\",\"4\":\"\",\"5\":\"\",\"6\":\"\","
         "\"7\":\"\",\"8\":\"\",\"9\":\"\",\"10\":\"\",\"11\":\"\"}}",
         400, "ValidationException", NULL},
        {"{\"PipelineId\":\"" PIPE_ID "\",\"Input\":{\"Key\":\"i\"},"
         "\"Output\":{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID "\"},\"UserMetadata\":"
         "{\"1\":\"\",\"2\":\"\",\"3\":\"\",\"4\":\"\",\"5\":\"\",\"6\":\"\","
         "\"7\":\"\",\"8\":\"\",\"9\":\"\",\"10\":\"\"}}",
         201, "", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        request_expect(&fx, "POST", "/2012-09-25/jobs", cases[i].body, cases[i].status,
                       cases[i].type, cases[i].message);
    }
    /* 31 outputs: over the limit of 30. Exactly 30 is fine. */
    struct ref_buf body;
    ref_buf_init(&body, 1 << 16);
    outputs_body(&body, 31);
    struct tresp r;
    send_req(&fx, "POST", "/2012-09-25/jobs", (const char *)body.data, &r);
    expect_error(&r, 400, "ValidationException");
    assert_non_null(strstr(message_of(&r), "Member must have length less than or equal to 30"));
    tresp_cleanup(&r);
    outputs_body(&body, 30);
    send_req(&fx, "POST", "/2012-09-25/jobs", (const char *)body.data, &r);
    expect_status(&r, 201);
    json_t *outs = json_object_get(json_object_get(r.body, "Job"), "Outputs");
    assert_int_equal(json_array_size(outs), 30);
    assert_string_equal(str_at(json_array_get(outs, 29), "Id"), "30");
    tresp_cleanup(&r);
    ref_buf_cleanup(&body);
    fx_close(&fx);
}

static void test_service_create_pipeline_validation(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    static const struct {
        const char *body;
        const char *message;
    } cases[] = {
        {"{}", "3 validation errors detected: Value null at 'name' failed to satisfy constraint: "
               "Member must not be null; Value null at 'inputBucket' failed to satisfy constraint: "
               "Member must not be null; Value null at 'role' failed to satisfy constraint: Member "
               "must not be null"},
        /* Role's pattern is no shape here: contract 2b gives it its own message, after the
         * shapes (test_service_pipeline.c). */
        {"{\"Name\":\"\",\"InputBucket\":\"in bucket\",\"Role\":\"arn:aws:iam::1:role/x\"}",
         "2 validation errors detected: Value '' at 'name' failed to satisfy constraint: Member "
         "must have length greater than or equal to 1; Value 'in bucket' at 'inputBucket' failed "
         "to satisfy constraint: Member must satisfy regular expression pattern: "
         "^(\\w|\\.|-){1,255}$"},
        {"{\"Name\":\"12345678901234567890123456789012345678901\",\"InputBucket\":\"in\","
         "\"Role\":\"" ROLE "\"}",
         "1 validation error detected: Value '12345678901234567890123456789012345678901' at "
         "'name' failed to satisfy constraint: Member must have length less than or equal to "
         "40"},
        {"{\"Name\":7,\"InputBucket\":\"in\",\"Role\":\"" ROLE "\"}",
         "1 validation error detected: Value '7' at 'name' failed to satisfy constraint: Member "
         "must be of type string"},
        {"{\"Name\":\"n\",\"InputBucket\":\"in\",\"Role\":\"" ROLE "\","
         "\"Notifications\":{\"Error\":\"arn:aws:sqs:x\"}}",
         "1 validation error detected: Value 'arn:aws:sqs:x' at 'notifications.error' failed to "
         "satisfy constraint: Member must satisfy regular expression pattern: "
         "(^$)|(^arn:aws:sns:.*:\\w{12}:.+$)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        request_expect(&fx, "POST", "/2012-09-25/pipelines", cases[i].body, 400,
                       "ValidationException", cases[i].message);
    }
    /* Exactly 40 characters (multi-byte ones count once). */
    request_expect(&fx, "POST", "/2012-09-25/pipelines",
                   "{\"Name\":\"\xc3\xa9"
                   "234567890123456789012345678901234567890\","
                   "\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":\"" ROLE "\"}",
                   201, NULL, NULL);
    fx_close(&fx);
}

static void test_service_update_pipeline_status_validation(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Active"), REF_OK);
    request_expect(&fx, "POST", "/2012-09-25/pipelines/" PIPE_ID "/status",
                   "{\"Status\":\"paused\"}", 400, "ValidationException",
                   "1 validation error detected: Value 'paused' at 'status' failed to "
                   "satisfy constraint: Member must satisfy regular expression pattern: "
                   "(^Active$)|(^Paused$)");
    request_expect(&fx, "POST", "/2012-09-25/pipelines/bad/status", "{}", 400,
                   "ValidationException",
                   "2 validation errors detected: Value 'bad' at 'id' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: " ID_PATTERN
                   "; Value null at 'status' failed to satisfy constraint: Member must not "
                   "be null");
    request_expect(&fx, "POST", "/2012-09-25/pipelines/9999999999999-zzzzzz/status",
                   "{\"Status\":\"Active\"}", 404, "ResourceNotFoundException", NULL);
    request_expect(&fx, "POST", "/2012-09-25/pipelines/" PIPE_ID "/status", "not json", 400,
                   "ValidationException", NULL);
    fx_close(&fx);
}

/* --- CancelJob ---------------------------------------------------------------------- */

static void test_service_cancel_submitted_job(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Active"), REF_OK);
    char id[REF_ID_LEN + 1];
    create_job(&fx, PIPE_ID, id);
    char target[128];
    snprintf(target, sizeof(target), "/2012-09-25/jobs/%s", id);
    struct tresp r;
    send_req(&fx, "DELETE", target, NULL, &r);
    expect_status(&r, 202);
    assert_string_equal(r.body_text, "{\"Success\":\"true\"}");
    tresp_cleanup(&r);

    /* Never started, however long we wait. */
    fx.clock.now_ms += 3600 * 1000;
    ref_service_tick(fx.svc);
    int64_t when;
    assert_false(ref_service_next_event_ms(fx.svc, &when));
    assert_string_equal(job_status_via_read(&fx, id, &r), "Canceled");
    json_t *job = json_object_get(r.body, "Job");
    json_t *timing = json_object_get(job, "Timing");
    assert_int_equal(json_object_size(timing), 1); /* only SubmitTimeMillis */
    assert_string_equal(str_at(json_array_get(json_object_get(job, "Outputs"), 0), "Status"),
                        "Canceled");
    tresp_cleanup(&r);

    send_req(&fx, "GET", "/2012-09-25/jobsByPipeline/" PIPE_ID, NULL, &r);
    expect_status(&r, 200);
    json_t *jobs = json_object_get(r.body, "Jobs");
    assert_int_equal(json_array_size(jobs), 1);
    assert_string_equal(str_at(json_array_get(jobs, 0), "Status"), "Canceled");
    tresp_cleanup(&r);
    send_req(&fx, "GET", "/2012-09-25/jobsByStatus/Canceled", NULL, &r);
    expect_status(&r, 200);
    jobs = json_object_get(r.body, "Jobs");
    assert_int_equal(json_array_size(jobs), 1);
    assert_string_equal(str_at(json_array_get(jobs, 0), "Id"), id);
    tresp_cleanup(&r);
    send_req(&fx, "GET", "/2012-09-25/jobsByStatus/Submitted", NULL, &r);
    expect_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.body, "Jobs")), 0);
    tresp_cleanup(&r);

    /* Canceling again: 409, still Canceled. */
    request_expect(&fx, "DELETE", target, NULL, 409, "ResourceInUseException", NULL);
    assert_string_equal(ref_service_job_status(fx.svc, id), "Canceled");
    fx_close(&fx);
}

static void test_service_cancel_refused_unless_submitted(void **state)
{
    (void)state;
    static const char *const statuses[] = {"Progressing", "Complete", "Error", "Canceled"};
    for (size_t i = 0; i < 4; i++) {
        struct fx fx;
        fx_open(&fx);
        /* Paused, so the seeded job is not moved on by the scheduler. */
        assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Paused"), REF_OK);
        if (strcmp(statuses[i], "Error") == 0) {
            assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, PIPE_ID, "Progressing"), REF_OK);
            assert_int_equal(ref_service_fail_job(fx.svc, JOB_ID), REF_OK);
        } else {
            assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, PIPE_ID, statuses[i]), REF_OK);
        }
        assert_string_equal(ref_service_job_status(fx.svc, JOB_ID), statuses[i]);
        struct tresp r;
        request_expect(&fx, "DELETE", "/2012-09-25/jobs/" JOB_ID, NULL, 409,
                       "ResourceInUseException", NULL);
        assert_string_equal(job_status_via_read(&fx, JOB_ID, &r), statuses[i]);
        json_t *timing = json_object_get(json_object_get(r.body, "Job"), "Timing");
        bool started = strcmp(statuses[i], "Canceled") != 0;
        bool finished = strcmp(statuses[i], "Complete") == 0 || strcmp(statuses[i], "Error") == 0;
        assert_int_equal(json_object_get(timing, "StartTimeMillis") != NULL, started);
        assert_int_equal(json_object_get(timing, "FinishTimeMillis") != NULL, finished);
        tresp_cleanup(&r);
        fx_close(&fx);
    }
}

static void test_service_job_lifecycle_through_time(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Active"), REF_OK);
    char id[REF_ID_LEN + 1];
    create_job(&fx, PIPE_ID, id);
    int64_t when;
    assert_true(ref_service_next_event_ms(fx.svc, &when));
    assert_int_equal(when, TEST_FIXED_NOW_MS + DELAY_MS);
    struct tresp r;
    fx.clock.now_ms += DELAY_MS;
    assert_string_equal(job_status_via_read(&fx, id, &r), "Progressing");
    json_t *timing = json_object_get(json_object_get(r.body, "Job"), "Timing");
    assert_int_equal(json_integer_value(json_object_get(timing, "StartTimeMillis")),
                     TEST_FIXED_NOW_MS + DELAY_MS);
    tresp_cleanup(&r);
    /* A Progressing job goes on when its pipeline is paused. */
    request_expect(&fx, "POST", "/2012-09-25/pipelines/" PIPE_ID "/status",
                   "{\"Status\":\"Paused\"}", 200, NULL, NULL);
    fx.clock.now_ms += RUN_MS;
    assert_string_equal(job_status_via_read(&fx, id, &r), "Complete");
    timing = json_object_get(json_object_get(r.body, "Job"), "Timing");
    assert_int_equal(json_integer_value(json_object_get(timing, "FinishTimeMillis")),
                     TEST_FIXED_NOW_MS + DELAY_MS + RUN_MS);
    tresp_cleanup(&r);
    fx_close(&fx);
}

static void test_service_paused_pipeline_holds_jobs_until_resumed(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Active"), REF_OK);
    struct tresp r;
    request_expect(&fx, "POST", "/2012-09-25/pipelines/" PIPE_ID "/status",
                   "{\"Status\":\"Paused\"}", 200, NULL, NULL);
    char id[REF_ID_LEN + 1];
    create_job(&fx, PIPE_ID, id);
    fx.clock.now_ms += 600 * 1000;
    ref_service_tick(fx.svc);
    assert_string_equal(job_status_via_read(&fx, id, &r), "Submitted");
    tresp_cleanup(&r);
    request_expect(&fx, "POST", "/2012-09-25/pipelines/" PIPE_ID "/status",
                   "{\"Status\":\"Active\"}", 200, NULL, NULL);
    int64_t when;
    assert_true(ref_service_next_event_ms(fx.svc, &when));
    assert_int_equal(when, fx.clock.now_ms + DELAY_MS);
    fx.clock.now_ms += DELAY_MS;
    assert_string_equal(job_status_via_read(&fx, id, &r), "Progressing");
    tresp_cleanup(&r);
    fx_close(&fx);
}

/* The scheduler skips its scan of the queued jobs while its quiet window says nothing is
 * due; a new job must lower the window to its own start, or it starts late. Here a
 * Progressing job keeps the window open until T0 + RUN_MS, and each new job's start falls
 * before that. */
static void test_service_new_job_starts_on_time_inside_quiet_window(void **state)
{
    (void)state;
    static const char *const paused_pipe = "1111111111112-abcde2";
    static const char *const long_job = "2222222222223-abcdef";
    static const char *const seeded_job = "2222222222224-abcdef";
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Active"), REF_OK);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, paused_pipe, "held", "Paused"), REF_OK);
    assert_int_equal(ref_service_seed_job(fx.svc, long_job, PIPE_ID, "Progressing"), REF_OK);
    ref_service_tick(fx.svc);

    /* Through CreateJob: due at submit + DELAY_MS, not a millisecond later. */
    char created[REF_ID_LEN + 1];
    char held[REF_ID_LEN + 1];
    create_job(&fx, PIPE_ID, created);
    create_job(&fx, paused_pipe, held);
    struct tresp r;
    fx.clock.now_ms = TEST_FIXED_NOW_MS + DELAY_MS - 1;
    assert_string_equal(job_status_via_read(&fx, created, &r), "Submitted");
    tresp_cleanup(&r);
    fx.clock.now_ms = TEST_FIXED_NOW_MS + DELAY_MS;
    assert_string_equal(job_status_via_read(&fx, created, &r), "Progressing");
    json_t *timing = json_object_get(json_object_get(r.body, "Job"), "Timing");
    assert_int_equal(json_integer_value(json_object_get(timing, "StartTimeMillis")),
                     TEST_FIXED_NOW_MS + DELAY_MS);
    tresp_cleanup(&r);

    /* Through the seeding hook, with the window still open until long_job finishes. */
    int64_t seeded_ms = fx.clock.now_ms;
    assert_true(seeded_ms + DELAY_MS < TEST_FIXED_NOW_MS + RUN_MS);
    assert_int_equal(ref_service_seed_job(fx.svc, seeded_job, PIPE_ID, "Submitted"), REF_OK);
    fx.clock.now_ms = seeded_ms + DELAY_MS - 1;
    assert_string_equal(ref_service_job_status(fx.svc, seeded_job), "Submitted");
    fx.clock.now_ms = seeded_ms + DELAY_MS;
    assert_string_equal(ref_service_job_status(fx.svc, seeded_job), "Progressing");

    /* The job on the paused pipeline is never due: once the others are done, nothing is
     * scheduled and it is still Submitted. */
    fx.clock.now_ms += 600 * 1000;
    ref_service_tick(fx.svc);
    int64_t when;
    assert_false(ref_service_next_event_ms(fx.svc, &when));
    assert_string_equal(job_status_via_read(&fx, held, &r), "Submitted");
    tresp_cleanup(&r);
    assert_string_equal(ref_service_job_status(fx.svc, long_job), "Complete");
    assert_string_equal(ref_service_job_status(fx.svc, created), "Complete");
    assert_string_equal(ref_service_job_status(fx.svc, seeded_job), "Complete");
    fx_close(&fx);
}

static void test_service_unknown_and_malformed_ids(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    struct tresp r;
    request_expect(&fx, "DELETE", "/2012-09-25/jobs/9999999999999-zzzzzz", NULL, 404,
                   "ResourceNotFoundException", NULL);
    request_expect(&fx, "GET", "/2012-09-25/jobs/9999999999999-zzzzzz", NULL, 404,
                   "ResourceNotFoundException", NULL);
    request_expect(&fx, "GET", "/2012-09-25/jobsByPipeline/9999999999999-zzzzzz", NULL, 404,
                   "ResourceNotFoundException", NULL);

    static const struct {
        const char *method;
        const char *target;
        const char *value; /* as it appears in the message (decoded once) */
        const char *member;
    } cases[] = {
        {"DELETE", "/2012-09-25/jobs/abc", "abc", "id"},
        {"DELETE", "/2012-09-25/jobs/1795869900000-abc12", "1795869900000-abc12", "id"},
        {"DELETE", "/2012-09-25/jobs/1795869900000-abc1234", "1795869900000-abc1234", "id"},
        {"DELETE", "/2012-09-25/jobs/1795869900000-ab%2Fc12", "1795869900000-ab/c12", "id"},
        {"DELETE", "/2012-09-25/jobs/1795869900000%2Dabc123x", "1795869900000-abc123x", "id"},
        {"GET", "/2012-09-25/jobs/a%20b%2Fc%2Bd%25e", "a b/c+d%e", "id"},
        {"GET", "/2012-09-25/jobs/%252F", "%2F", "id"},
        {"DELETE", "/2012-09-25/jobs/", "", "id"},
        {"GET", "/2012-09-25/pipelines/", "", "id"},
        {"DELETE", "/2012-09-25/pipelines/x", "x", "id"},
        {"GET", "/2012-09-25/jobsByPipeline/nope", "nope", "pipelineId"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        send_req(&fx, cases[i].method, cases[i].target, NULL, &r);
        expect_error(&r, 400, "ValidationException");
        char want[512];
        snprintf(want, sizeof(want),
                 "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: " ID_PATTERN,
                 cases[i].value, cases[i].member);
        assert_string_equal(message_of(&r), want);
        tresp_cleanup(&r);
    }
    /* A label that is not UTF-8 still gets a JSON message. */
    send_req(&fx, "GET", "/2012-09-25/jobs/%FF%FEab", NULL, &r);
    expect_error(&r, 400, "ValidationException");
    assert_non_null(strstr(message_of(&r), "Value '\xef\xbf\xbd\xef\xbf\xbd"
                                           "ab' at 'id'"));
    tresp_cleanup(&r);
    fx_close(&fx);
}

static void test_service_list_parameter_validation(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    request_expect(&fx, "GET", "/2012-09-25/jobsByStatus/Cancelled", NULL, 400,
                   "ValidationException",
                   "1 validation error detected: Value 'Cancelled' at 'status' failed to "
                   "satisfy constraint: Member must satisfy regular expression pattern: "
                   "(^Submitted$)|(^Progressing$)|(^Complete$)|(^Canceled$)|(^Error$)");
    request_expect(
        &fx, "GET", "/2012-09-25/jobsByStatus/submitted?Ascending=TRUE&PageToken=x", NULL, 400,
        "ValidationException",
        "3 validation errors detected: Value 'submitted' at 'status' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        "(^Submitted$)|(^Progressing$)|(^Complete$)|(^Canceled$)|(^Error$); Value 'TRUE' at "
        "'ascending' failed to satisfy constraint: Member must satisfy regular expression "
        "pattern: (^true$)|(^false$); Value 'x' at 'pageToken' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: " ID_PATTERN);
    request_expect(&fx, "GET", "/2012-09-25/pipelines?Ascending=yes", NULL, 400,
                   "ValidationException",
                   "1 validation error detected: Value 'yes' at 'ascending' failed to "
                   "satisfy constraint: Member must satisfy regular expression pattern: "
                   "(^true$)|(^false$)");
    /* Well-formed but never issued. */
    request_expect(&fx, "GET", "/2012-09-25/pipelines?PageToken=1795869900000-abcdef", NULL, 400,
                   "ValidationException", NULL);
    request_expect(&fx, "GET", "/2012-09-25/jobsByStatus/Submitted?PageToken=1795869900000-abcdef",
                   NULL, 400, "ValidationException", NULL);
    fx_close(&fx);
}

/* --- Routing ------------------------------------------------------------------------ */

static void test_service_routing_errors(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    struct tresp r;
    request_expect(&fx, "DELETE", "/2015-01-01/jobs/" JOB_ID, NULL, 400,
                   "IncompatibleVersionException", NULL);
    request_expect(&fx, "GET", "/2012-09-25/presets", NULL, 404, "UnknownOperationException", NULL);
    request_expect(&fx, "PUT", "/2012-09-25/jobs/" JOB_ID, NULL, 404, "UnknownOperationException",
                   NULL);
    request_expect(&fx, "GET", "/", NULL, 404, "UnknownOperationException", NULL);
    /* Dot segments and repeated slashes are normalised before routing (and signing). */
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Paused"), REF_OK);
    assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, PIPE_ID, "Submitted"), REF_OK);
    send_req(&fx, "GET", "/2012-09-25/pipelines/../jobs//" JOB_ID, NULL, &r);
    expect_status(&r, 200);
    assert_string_equal(str_at(json_object_get(r.body, "Job"), "Id"), JOB_ID);
    tresp_cleanup(&r);
    fx_close(&fx);
}

/* --- Principals --------------------------------------------------------------------- */

static void test_service_restricted_principal(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Paused"), REF_OK);
    assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, PIPE_ID, "Submitted"), REF_OK);
    const struct ref_credential *ro = REF_TEST_CRED_RESTRICTED;
    static const struct {
        const char *method, *target, *body;
        int want;
    } cases[] = {
        {"DELETE", "/2012-09-25/jobs/" JOB_ID, NULL, 403},
        {"DELETE", "/2012-09-25/jobs/not-an-id", NULL, 403}, /* authorization before validation */
        {"POST", "/2012-09-25/jobs", "{}", 403},
        {"POST", "/2012-09-25/pipelines", "{", 403},
        {"POST", "/2012-09-25/pipelines/" PIPE_ID "/status", "{\"Status\":\"Active\"}", 403},
        {"DELETE", "/2012-09-25/pipelines/" PIPE_ID, NULL, 403},
        {"GET", "/2012-09-25/jobs/" JOB_ID, NULL, 200},
        {"GET", "/2012-09-25/jobs/not-an-id", NULL, 400},
        {"GET", "/2012-09-25/pipelines/" PIPE_ID, NULL, 200},
        {"GET", "/2012-09-25/pipelines", NULL, 200},
        {"GET", "/2012-09-25/jobsByPipeline/" PIPE_ID, NULL, 200},
        {"GET", "/2012-09-25/jobsByStatus/Submitted", NULL, 200},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tresp r;
        send_as(&fx, ro, cases[i].method, cases[i].target, cases[i].body, &r);
        if (cases[i].want == 403) {
            expect_error(&r, 403, "AccessDeniedException");
        } else {
            expect_status(&r, cases[i].want);
        }
        tresp_cleanup(&r);
    }
    assert_string_equal(ref_service_job_status(fx.svc, JOB_ID), "Submitted");
    fx_close(&fx);
}

static void test_service_temporary_principal(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Paused"), REF_OK);
    assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, PIPE_ID, "Submitted"), REF_OK);
    struct ref_buf raw;
    ref_buf_init(&raw, REF_MAX_REQUEST_BYTES);
    struct tresp r;
    const struct {
        const char *method;
        struct req_opts opts;
    } unrecognised[] = {
        /* Without its token, and with a wrong one. */
        {"DELETE", {.cred = REF_TEST_CRED_TEMPORARY, .omit_token = true}},
        {"DELETE", {.cred = REF_TEST_CRED_TEMPORARY, .session_token = "etch/other"}},
        /* The main key with a token it does not have. */
        {"GET", {.cred = REF_TEST_CRED_MAIN, .session_token = "etch/x"}},
    };
    for (size_t i = 0; i < sizeof(unrecognised) / sizeof(unrecognised[0]); i++) {
        ref_buf_reset(&raw);
        build_request(&fx, unrecognised[i].method, "/2012-09-25/jobs/" JOB_ID, NULL,
                      &unrecognised[i].opts, &raw);
        send_raw(&fx, ref_buf_slice(&raw), &r);
        expect_error(&r, 403, "UnrecognizedClientException");
        tresp_cleanup(&r);
    }
    ref_buf_cleanup(&raw);
    /* With it: a full principal. */
    send_as(&fx, REF_TEST_CRED_TEMPORARY, "DELETE", "/2012-09-25/jobs/" JOB_ID, NULL, &r);
    expect_status(&r, 202);
    tresp_cleanup(&r);
    assert_string_equal(ref_service_job_status(fx.svc, JOB_ID), "Canceled");
    fx_close(&fx);
}

static void test_service_authentication_failures(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    struct tresp r;
    send_as(&fx, NULL, "GET", "/2012-09-25/pipelines", NULL, &r);
    expect_error(&r, 403, "MissingAuthenticationTokenException");
    assert_string_equal(message_of(&r), "Missing Authentication Token");
    tresp_cleanup(&r);
    /* Unsigned requests are refused before routing: even an unknown path. */
    send_as(&fx, NULL, "GET", "/nowhere", NULL, &r);
    expect_error(&r, 403, "MissingAuthenticationTokenException");
    tresp_cleanup(&r);
    /* 20 minutes off: expired, with the verifier's message. */
    struct ref_buf raw;
    ref_buf_init(&raw, REF_MAX_REQUEST_BYTES);
    struct req_opts o = {.cred = REF_TEST_CRED_MAIN};
    fx.clock.now_ms -= 20 * 60 * 1000;
    build_request(&fx, "GET", "/2012-09-25/pipelines", NULL, &o, &raw);
    fx.clock.now_ms += 20 * 60 * 1000;
    send_raw(&fx, ref_buf_slice(&raw), &r);
    expect_error(&r, 403, "InvalidSignatureException");
    assert_non_null(strstr(message_of(&r), "Signature expired"));
    tresp_cleanup(&r);
    /* One minute off is fine. */
    ref_buf_reset(&raw);
    fx.clock.now_ms -= 60 * 1000;
    build_request(&fx, "GET", "/2012-09-25/pipelines", NULL, &o, &raw);
    fx.clock.now_ms += 60 * 1000;
    send_raw(&fx, ref_buf_slice(&raw), &r);
    expect_status(&r, 200);
    tresp_cleanup(&r);
    ref_buf_cleanup(&raw);
    fx_close(&fx);
}

/* --- DeletePipeline, pagination, limits --------------------------------------------- */

static void test_service_delete_pipeline_in_use(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Active"), REF_OK);
    char id[REF_ID_LEN + 1];
    create_job(&fx, PIPE_ID, id);
    struct tresp r;
    request_expect(&fx, "DELETE", "/2012-09-25/pipelines/" PIPE_ID, NULL, 409,
                   "ResourceInUseException", NULL);
    fx.clock.now_ms += DELAY_MS; /* Progressing */
    request_expect(&fx, "DELETE", "/2012-09-25/pipelines/" PIPE_ID, NULL, 409,
                   "ResourceInUseException", NULL);
    assert_string_equal(ref_service_job_status(fx.svc, id), "Progressing");
    fx.clock.now_ms += RUN_MS; /* Complete */
    send_req(&fx, "DELETE", "/2012-09-25/pipelines/" PIPE_ID, NULL, &r);
    expect_status(&r, 202);
    assert_string_equal(r.body_text, "{\"Success\":\"true\"}");
    tresp_cleanup(&r);
    /* Gone for ListJobsByPipeline and CreateJob; its job stays readable. */
    request_expect(&fx, "GET", "/2012-09-25/jobsByPipeline/" PIPE_ID, NULL, 404,
                   "ResourceNotFoundException", NULL);
    assert_string_equal(job_status_via_read(&fx, id, &r), "Complete");
    tresp_cleanup(&r);
    fx_close(&fx);
}

/* Walks all pages of `base` (a list target without query) and checks the Ids come in
 * `want` order. */
static void walk_pages(struct fx *fx,
                       const char *base,
                       const char *list_member,
                       bool ascending,
                       char ids[][REF_ID_LEN + 1],
                       size_t n,
                       size_t page_size)
{
    char token[REF_ID_LEN + 1] = "";
    size_t seen = 0;
    for (size_t page_no = 0;; page_no++) {
        char target[256];
        snprintf(target, sizeof(target), "%s?Ascending=%s%s%s", base, ascending ? "true" : "false",
                 token[0] ? "&PageToken=" : "", token);
        struct tresp r;
        send_req(fx, "GET", target, NULL, &r);
        expect_status(&r, 200);
        json_t *items = json_object_get(r.body, list_member);
        json_t *next = json_object_get(r.body, "NextPageToken");
        assert_non_null(next); /* present on every page, null on the last */
        size_t count = json_array_size(items);
        assert_true(count <= page_size);
        for (size_t i = 0; i < count; i++, seen++) {
            size_t want = ascending ? seen : n - 1 - seen;
            assert_string_equal(str_at(json_array_get(items, i), "Id"), ids[want]);
        }
        bool last = json_is_null(next);
        if (!last) {
            snprintf(token, sizeof(token), "%s", json_string_value(next));
            size_t want = ascending ? seen : n - 1 - seen;
            assert_string_equal(token, ids[want]);
        }
        tresp_cleanup(&r);
        if (last) {
            break;
        }
        assert_true(page_no < n);
    }
    assert_int_equal(seen, n);
}

static void test_service_pagination_both_orders(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with(&fx, 2, 0, 0);
    char pipes[3][REF_ID_LEN + 1];
    for (int i = 0; i < 3; i++) {
        create_pipeline(&fx, "p", pipes[i]);
        fx.clock.now_ms += 1;
    }
    char jobs[5][REF_ID_LEN + 1];
    for (int i = 0; i < 5; i++) {
        create_job(&fx, pipes[0], jobs[i]);
        fx.clock.now_ms += 1;
    }
    walk_pages(&fx, "/2012-09-25/pipelines", "Pipelines", true, pipes, 3, 2);
    walk_pages(&fx, "/2012-09-25/pipelines", "Pipelines", false, pipes, 3, 2);
    char base[128];
    snprintf(base, sizeof(base), "/2012-09-25/jobsByPipeline/%s", pipes[0]);
    walk_pages(&fx, base, "Jobs", true, jobs, 5, 2);
    walk_pages(&fx, base, "Jobs", false, jobs, 5, 2);
    walk_pages(&fx, "/2012-09-25/jobsByStatus/Submitted", "Jobs", true, jobs, 5, 2);
    walk_pages(&fx, "/2012-09-25/jobsByStatus/Submitted", "Jobs", false, jobs, 5, 2);
    /* An empty list: no items, NextPageToken null. */
    snprintf(base, sizeof(base), "/2012-09-25/jobsByPipeline/%s", pipes[1]);
    struct tresp r;
    send_req(&fx, "GET", base, NULL, &r);
    expect_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.body, "Jobs")), 0);
    assert_true(json_is_null(json_object_get(r.body, "NextPageToken")));
    tresp_cleanup(&r);
    fx_close(&fx);
}

static void test_service_limits(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with(&fx, 0, 1, 1);
    char pipe[REF_ID_LEN + 1];
    create_pipeline(&fx, "p", pipe);
    request_expect(
        &fx, "POST", "/2012-09-25/pipelines",
        "{\"Name\":\"q\",\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":\"" ROLE "\"}",
        429, "LimitExceededException", NULL);
    char job[REF_ID_LEN + 1];
    create_job(&fx, pipe, job);
    char body[256];
    snprintf(body, sizeof(body),
             "{\"PipelineId\":\"%s\",\"Input\":{\"Key\":\"i\"},"
             "\"Output\":{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID "\"}}",
             pipe);
    request_expect(&fx, "POST", "/2012-09-25/jobs", body, 429, "LimitExceededException", NULL);
    fx_close(&fx);
}

static void expect_pipeline_limit(struct fx *fx, int limit)
{
    char pipe[REF_ID_LEN + 1];
    for (int i = 0; i < limit; i++) {
        create_pipeline(fx, "p", pipe);
    }
    request_expect(
        fx, "POST", "/2012-09-25/pipelines",
        "{\"Name\":\"q\",\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":\"" ROLE "\"}",
        429, "LimitExceededException", NULL);
    /* Deleting one makes room for exactly one more. */
    char target[128];
    snprintf(target, sizeof(target), "/2012-09-25/pipelines/%s", pipe);
    request_expect(fx, "DELETE", target, NULL, 202, NULL, NULL);
    create_pipeline(fx, "p", pipe);
    request_expect(
        fx, "POST", "/2012-09-25/pipelines",
        "{\"Name\":\"q\",\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":\"" ROLE "\"}",
        429, "LimitExceededException", NULL);
}

/* The defaults are the service's quotas (contract section 2b): 4 pipelines, 1,000,000
 * queued jobs per pipeline. The job quota is shown at and over with a setting below rather
 * than with a million jobs; here only that the default is that number. */
static void test_service_default_limits(void **state)
{
    (void)state;
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    assert_int_equal(cfg.max_pipelines, 4);
    assert_int_equal(cfg.max_queued_jobs, 1000000);
    struct fx fx;
    fx_open(&fx);
    expect_pipeline_limit(&fx, 4);
    fx_close(&fx);
}

/* Both limits are settings: a larger pipeline limit, and a queued-jobs limit that each
 * pipeline reaches on its own. */
static void test_service_limit_settings(void **state)
{
    (void)state;
    struct fx fx;
    fx_open_with(&fx, 0, 6, 0);
    expect_pipeline_limit(&fx, 6);
    fx_close(&fx);

    fx_open_with(&fx, 0, 0, 3);
    char pipes[2][REF_ID_LEN + 1];
    char job[REF_ID_LEN + 1];
    char body[256];
    for (int p = 0; p < 2; p++) {
        create_pipeline(&fx, "p", pipes[p]);
        /* Paused, so the jobs stay queued whatever the clock does. */
        char target[128];
        snprintf(target, sizeof(target), "/2012-09-25/pipelines/%s/status", pipes[p]);
        request_expect(&fx, "POST", target, "{\"Status\":\"Paused\"}", 200, NULL, NULL);
        for (int i = 0; i < 3; i++) {
            create_job(&fx, pipes[p], job);
        }
        snprintf(body, sizeof(body),
                 "{\"PipelineId\":\"%s\",\"Input\":{\"Key\":\"i\"},"
                 "\"Output\":{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID "\"}}",
                 pipes[p]);
        request_expect(&fx, "POST", "/2012-09-25/jobs", body, 429, "LimitExceededException",
                       NULL);
    }
    /* A canceled job leaves the queue and makes room. */
    char path[128];
    snprintf(path, sizeof(path), "/2012-09-25/jobs/%s", job);
    struct tresp r;
    send_req(&fx, "DELETE", path, NULL, &r);
    expect_status(&r, 202);
    tresp_cleanup(&r);
    create_job(&fx, pipes[1], job);
    request_expect(&fx, "POST", "/2012-09-25/jobs", body, 429, "LimitExceededException", NULL);
    fx_close(&fx);
}

/* --- Every answer ------------------------------------------------------------------- */

static void test_service_request_ids_are_fresh(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    char ids[64][64];
    for (size_t i = 0; i < 64; i++) {
        struct tresp r;
        send_req(&fx, "GET", i % 2 ? "/2012-09-25/pipelines" : "/2012-09-25/jobs/x", NULL, &r);
        snprintf(ids[i], sizeof(ids[i]), "%.40s", r.request_id);
        tresp_cleanup(&r);
        for (size_t k = 0; k < i; k++) {
            assert_string_not_equal(ids[i], ids[k]);
        }
    }
    fx_close(&fx);
}

static void test_service_http_parse_failures_answer_in_error_form(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    static const char *const inputs[] = {
        "GARBAGE\r\n\r\n",
        "GET /2012-09-25/pipelines HTTP/1.1\r\n",
        "GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n{}",
        "GET /2012-09-25/pipelines HTTP/1.1\r\n\r\n",
        "",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct tresp r;
        send_raw(&fx, ref_slice_from_cstr(inputs[i]), &r);
        assert_true(r.status >= 400 && r.status < 500);
        /* The request could not be framed: nothing after it on the connection counts. */
        assert_true(r.is_closing);
        tresp_cleanup(&r);
    }
    /* A target over the limit. */
    struct ref_buf raw;
    ref_buf_init(&raw, REF_MAX_REQUEST_BYTES);
    assert_int_equal(ref_buf_append_cstr(&raw, "GET /"), REF_OK);
    for (size_t i = 0; i < REF_MAX_TARGET_BYTES + 10; i++) {
        assert_int_equal(ref_buf_append_byte(&raw, 'a'), REF_OK);
    }
    assert_int_equal(ref_buf_append_cstr(&raw, " HTTP/1.1\r\nHost: a\r\n\r\n"), REF_OK);
    struct tresp r;
    send_raw(&fx, ref_buf_slice(&raw), &r);
    assert_true(r.status >= 400 && r.status < 500);
    assert_true(r.is_closing);
    tresp_cleanup(&r);
    ref_buf_cleanup(&raw);
    /* A request that parses keeps the connection, even when it is refused. */
    send_raw(&fx, REF_SLICE_LIT("GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n\r\n"), &r);
    assert_int_equal(r.status, 403);
    assert_false(r.is_closing);
    tresp_cleanup(&r);
    fx_close(&fx);
}

static void test_service_response_bytes(void **state)
{
    (void)state;
    struct ref_response resp;
    ref_response_init(&resp);
    resp.http_status = 409;
    resp.status = REF_E_IN_USE;
    resp.date_ms = TEST_FIXED_NOW_MS;
    snprintf(resp.request_id, sizeof(resp.request_id), "%s",
             "0f8fad5b-d9cb-469f-a165-70867728950e");
    assert_int_equal(ref_buf_append_cstr(&resp.body, "{\"message\":\"m\"}"), REF_OK);
    struct ref_buf out;
    ref_buf_init(&out, 4096);
    assert_int_equal(ref_response_write_http(&resp, &out), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&out), REF_OK);
    assert_string_equal((const char *)out.data,
                        "HTTP/1.1 409 Conflict\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: 15\r\n"
                        "x-amzn-RequestId: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n"
                        "x-amzn-ErrorType: ResourceInUseException\r\n"
                        "Date: Sat, 28 Nov 2026 12:45:00 GMT\r\n"
                        "\r\n"
                        "{\"message\":\"m\"}");
    /* An answer that ends the connection says so, after Date. */
    ref_buf_reset(&out);
    resp.is_closing = true;
    assert_int_equal(ref_response_write_http(&resp, &out), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&out), REF_OK);
    assert_non_null(strstr((const char *)out.data,
                           "Date: Sat, 28 Nov 2026 12:45:00 GMT\r\nConnection: close\r\n\r\n{"));
    /* The same from the fallback writer, for a status outside 100..999. */
    ref_buf_reset(&out);
    resp.http_status = 1000;
    assert_int_equal(ref_response_write_http(&resp, &out), REF_OK);
    assert_int_equal(ref_buf_nul_terminate(&out), REF_OK);
    assert_non_null(strstr((const char *)out.data, "\r\nConnection: close\r\n\r\n{"));
    ref_buf_cleanup(&out);
    ref_response_cleanup(&resp);
}

static void test_service_zeroed_env_uses_real_clock(void **state)
{
    (void)state;
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    struct ref_service *svc = ref_service_new(&cfg);
    assert_non_null(svc);
    assert_int_equal(ref_service_seed_pipeline(svc, PIPE_ID, NULL, "Active"), REF_OK);
    assert_int_equal(ref_service_seed_job(svc, JOB_ID, PIPE_ID, "Submitted"), REF_OK);
    int64_t when;
    assert_true(ref_service_next_event_ms(svc, &when));
    /* Scheduled from the real time now (well after the pinned 2026 test time). */
    assert_true(when > INT64_C(1700000000000));
    struct fx fx = {.svc = svc};
    struct tresp a, b;
    send_raw(&fx, REF_SLICE_LIT("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), &a);
    send_raw(&fx, REF_SLICE_LIT("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), &b);
    expect_error(&a, 403, "MissingAuthenticationTokenException");
    assert_string_not_equal(a.request_id, b.request_id);
    tresp_cleanup(&a);
    tresp_cleanup(&b);
    ref_service_free(svc);
}

static void test_service_hooks_reject_bad_arguments(void **state)
{
    (void)state;
    struct fx fx;
    fx_open(&fx);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Running"), REF_E_VALIDATION);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, "bad", "p", "Active"), REF_E_VALIDATION);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Active"), REF_OK);
    assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Active"), REF_E_IN_USE);
    assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, "9999999999999-zzzzzz", "Submitted"),
                     REF_E_NOT_FOUND);
    assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, PIPE_ID, "Cancelled"), REF_E_VALIDATION);
    assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, PIPE_ID, "Submitted"), REF_OK);
    assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, PIPE_ID, "Submitted"), REF_E_IN_USE);
    /* Only a Progressing job can fail. */
    assert_int_equal(ref_service_fail_job(fx.svc, JOB_ID), REF_E_IN_USE);
    assert_int_equal(ref_service_fail_job(fx.svc, "9999999999999-zzzzzz"), REF_E_NOT_FOUND);
    assert_null(ref_service_job_status(fx.svc, "9999999999999-zzzzzz"));
    fx.clock.now_ms += DELAY_MS;
    assert_int_equal(ref_service_fail_job(fx.svc, JOB_ID), REF_OK);
    assert_string_equal(ref_service_job_status(fx.svc, JOB_ID), "Error");
    fx_close(&fx);
}

/* --- Starting over from a template ---------------------------------------------------- */

/* Answers raw on fx into out (emptied first). */
static void handle_into(struct fx *fx, struct ref_slice raw, struct ref_buf *out)
{
    ref_buf_reset(out);
    assert_int_equal(ref_service_handle(fx->svc, raw, out), REF_OK);
}

static void test_service_copy_state_starts_over_from_the_template(void **state)
{
    (void)state;
    struct fx tmpl;
    fx_open(&tmpl);
    assert_int_equal(ref_service_seed_pipeline(tmpl.svc, PIPE_ID, "p", "Active"), REF_OK);
    assert_int_equal(ref_service_seed_job(tmpl.svc, JOB_ID, PIPE_ID, "Submitted"), REF_OK);

    /* A service with a life of its own first: a pipeline of its own, and a request answered
     * while it had no job, so its scheduler knows nothing is due. */
    struct fx copy;
    fx_open(&copy);
    assert_int_equal(ref_service_seed_pipeline(copy.svc, "1999999999999-other1", "o", "Paused"),
                     REF_OK);
    struct tresp r;
    send_req(&copy, "GET", "/2012-09-25/pipelines", NULL, &r);
    expect_status(&r, 200);
    tresp_cleanup(&r);

    assert_int_equal(ref_service_copy_state(copy.svc, tmpl.svc), REF_OK);
    /* Its scheduler looks at the copied jobs, not at what it knew before: the template's
     * job starts on time there too. */
    copy.clock.now_ms += DELAY_MS;
    tmpl.clock.now_ms += DELAY_MS;
    assert_string_equal(ref_service_job_status(copy.svc, JOB_ID), "Progressing");
    assert_string_equal(ref_service_job_status(tmpl.svc, JOB_ID), "Progressing");
    /* Same clock, same random source from here: the same requests must give the same bytes,
     * request Ids and generated Ids included. */
    copy.clock.rng_state = tmpl.clock.rng_state;
    char create[512];
    snprintf(create, sizeof(create),
             "{\"PipelineId\":\"%s\",\"Input\":{\"Key\":\"in.mp4\"},"
             "\"Outputs\":[{\"Key\":\"out.mp4\",\"PresetId\":\"%s\"}]}",
             PIPE_ID, PRESET_ID);
    static const struct {
        const char *method, *target;
        bool has_body;
    } steps[] = {
        {"GET", "/2012-09-25/jobs/" JOB_ID, false},
        {"GET", "/2012-09-25/pipelines/1999999999999-other1", false},
        {"GET", "/2012-09-25/pipelines", false},
        {"POST", "/2012-09-25/jobs", true},
        {"GET", "/2012-09-25/jobsByPipeline/" PIPE_ID, false},
    };
    struct ref_buf a;
    struct ref_buf b;
    ref_buf_init(&a, REF_MAX_RESPONSE_BYTES + 4096);
    ref_buf_init(&b, REF_MAX_RESPONSE_BYTES + 4096);
    char created[REF_ID_LEN + 1] = "";
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct ref_buf raw;
        ref_buf_init(&raw, REF_MAX_REQUEST_BYTES);
        struct req_opts o = {.cred = REF_TEST_CRED_MAIN};
        build_request(&tmpl, steps[i].method, steps[i].target, steps[i].has_body ? create : NULL,
                      &o, &raw);
        handle_into(&tmpl, ref_buf_slice(&raw), &a);
        handle_into(&copy, ref_buf_slice(&raw), &b);
        ref_buf_cleanup(&raw);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        parse_response(ref_buf_slice(&b), &r);
        if (i == 1) {
            expect_error(&r, 404, "ResourceNotFoundException"); /* its own pipeline is gone */
        } else {
            expect_status(&r, i == 3 ? 201 : 200);
        }
        if (i == 3) {
            const char *id =
                json_string_value(json_object_get(json_object_get(r.body, "Job"), "Id"));
            assert_non_null(id);
            snprintf(created, sizeof(created), "%s", id);
        }
        tresp_cleanup(&r);
    }
    ref_buf_cleanup(&a);
    ref_buf_cleanup(&b);

    /* The two go their own ways: a cancel on the copy leaves the template's job alone. */
    char cancel[64];
    snprintf(cancel, sizeof(cancel), "/2012-09-25/jobs/%s", created);
    send_req(&copy, "DELETE", cancel, NULL, &r);
    expect_status(&r, 202);
    tresp_cleanup(&r);
    assert_string_equal(ref_service_job_status(copy.svc, created), "Canceled");
    assert_string_equal(ref_service_job_status(tmpl.svc, created), "Submitted");

    /* Copied again, the copy is the template once more, and this time nothing is allocated. */
    failing_hooks_install();
    s_fail_after = 1000000;
    assert_int_equal(ref_service_copy_state(copy.svc, tmpl.svc), REF_OK);
    assert_int_equal(s_fail_after, 1000000);
    s_fail_after = -1;
    (void)setup_hooks(NULL);
    assert_string_equal(ref_service_job_status(copy.svc, created), "Submitted");
    assert_int_equal(ref_service_copy_state(copy.svc, copy.svc), REF_OK);
    fx_close(&copy);
    fx_close(&tmpl);
}

/* --- Allocation failures ------------------------------------------------------------ */

/* Every allocation of a CreateJob, a ReadJob and a failing request fails in turn: the
 * service answers 500 in the error form or reports REF_E_NOMEM, never leaks, and the
 * store never holds a half-made job. */
static void test_service_allocation_failures(void **state)
{
    (void)state;
    static const struct {
        const char *method, *target, *body;
        int want;
    } reqs[] = {
        {"POST", "/2012-09-25/jobs",
         "{\"PipelineId\":\"" PIPE_ID "\",\"Input\":{\"Key\":\"i\"},"
         "\"Outputs\":[{\"Key\":\"o\",\"PresetId\":\"" PRESET_ID "\"}]}",
         201},
        {"GET", "/2012-09-25/jobsByPipeline/" PIPE_ID "?Ascending=false", NULL, 200},
        {"POST", "/2012-09-25/pipelines", "{\"Name\":\"\"}", 400},
    };
    for (size_t q = 0; q < sizeof(reqs) / sizeof(reqs[0]); q++) {
        for (int fail_at = 0;; fail_at++) {
            struct fx fx;
            fx_open(&fx);
            assert_int_equal(ref_service_seed_pipeline(fx.svc, PIPE_ID, "p", "Paused"), REF_OK);
            assert_int_equal(ref_service_seed_job(fx.svc, JOB_ID, PIPE_ID, "Submitted"), REF_OK);
            struct ref_buf raw;
            ref_buf_init(&raw, REF_MAX_REQUEST_BYTES);
            struct req_opts o = {.cred = REF_TEST_CRED_MAIN};
            build_request(&fx, reqs[q].method, reqs[q].target, reqs[q].body, &o, &raw);
            struct ref_buf out;
            ref_buf_init(&out, REF_MAX_RESPONSE_BYTES + 4096);

            failing_hooks_install();
            s_fail_after = fail_at;
            enum ref_status rc = ref_service_handle(fx.svc, ref_buf_slice(&raw), &out);
            s_fail_after = -1;
            (void)setup_hooks(NULL);

            int status = 0;
            if (rc == REF_OK) {
                struct tresp r;
                parse_response(ref_buf_slice(&out), &r);
                status = r.status;
                if (status != reqs[q].want) {
                    expect_error(&r, 500, "InternalServiceException");
                }
                tresp_cleanup(&r);
            } else {
                assert_int_equal(rc, REF_E_NOMEM);
            }
            /* The store is whole: one job, or two after a CreateJob that got through. */
            struct tresp list;
            send_req(&fx, "GET", "/2012-09-25/jobsByPipeline/" PIPE_ID, NULL, &list);
            expect_status(&list, 200);
            size_t jobs = json_array_size(json_object_get(list.body, "Jobs"));
            assert_true(jobs == 1 || (q == 0 && jobs == 2));
            tresp_cleanup(&list);
            ref_buf_cleanup(&out);
            ref_buf_cleanup(&raw);
            fx_close(&fx);
            if (status == reqs[q].want) {
                assert_true(fail_at > 3); /* the loop did go through failures */
                break;
            }
            assert_true(fail_at < 2000);
        }
    }
}

/* --- The captures ------------------------------------------------------------------- */

struct capture {
    char name[128]; /* "botocore/CancelJob" */
    char op[64];    /* "CancelJob", "ReadJob-odd-id", ... */
    int64_t now_ms; /* its X-Amz-Date */
    char *raw;      /* plain malloc */
    size_t len;
};

static size_t load_captures(struct capture *caps, size_t cap)
{
    json_error_t jerr;
    json_t *index = json_load_file(ETCH_SOURCE_DIR "/fixtures/captures/index.json", 0, &jerr);
    if (index == NULL) {
        fail_msg("index.json: %s", jerr.text);
    }
    size_t n = 0;
    size_t i;
    json_t *e;
    json_array_foreach (index, i, e) {
        assert_true(n < cap);
        struct capture *c = &caps[n++];
        const char *file = json_string_value(json_object_get(e, "file"));
        const char *op = json_string_value(json_object_get(e, "operation"));
        const char *date = json_string_value(json_object_get(e, "x_amz_date"));
        assert_non_null(file);
        assert_non_null(op);
        assert_non_null(date);
        snprintf(c->name, sizeof(c->name), "%.*s", (int)(strlen(file) - 5), file);
        snprintf(c->op, sizeof(c->op), "%s", op);
        int64_t unix_s = 0;
        assert_int_equal(ref_sigv4_parse_amz_date(ref_slice_from_cstr(date), &unix_s, NULL),
                         REF_OK);
        c->now_ms = unix_s * 1000;
        char path[512];
        snprintf(path, sizeof(path), "%s/fixtures/captures/%s", ETCH_SOURCE_DIR, file);
        c->raw = test_read_file(path, &c->len);
        assert_non_null(c->raw);
        assert_int_equal(c->len, (size_t)json_integer_value(json_object_get(e, "bytes")));
    }
    json_decref(index);
    return n;
}

static void free_captures(struct capture *caps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(caps[i].raw);
    }
}

/* A service at the capture's time with the pipeline and the (Submitted) job it names. */
static void fx_open_for_capture(struct fx *fx, const struct capture *c)
{
    fx_open(fx);
    fx->clock.now_ms = c->now_ms;
    assert_int_equal(ref_service_seed_pipeline(fx->svc, PIPE_ID, "probe", "Active"), REF_OK);
    assert_int_equal(ref_service_seed_job(fx->svc, JOB_ID, PIPE_ID, "Submitted"), REF_OK);
}

static void check_capture_answer(const struct capture *c, struct fx *fx, const struct tresp *r)
{
    if (strcmp(c->op, "CancelJob") == 0) {
        expect_status(r, 202);
        assert_string_equal(r->body_text, "{\"Success\":\"true\"}");
        assert_string_equal(ref_service_job_status(fx->svc, JOB_ID), "Canceled");
    } else if (strcmp(c->op, "CreateJob") == 0) {
        expect_status(r, 201);
        json_t *job = json_object_get(r->body, "Job");
        assert_string_equal(str_at(job, "PipelineId"), PIPE_ID);
        assert_string_equal(str_at(job, "Status"), "Submitted");
        assert_string_equal(str_at(json_object_get(job, "Output"), "Key"), "out/in/movie.mp4");
        assert_string_equal(str_at(json_object_get(job, "UserMetadata"), "owner"), "probe");
    } else if (strcmp(c->op, "CreatePipeline") == 0) {
        expect_status(r, 201);
        json_t *p = json_object_get(r->body, "Pipeline");
        assert_string_equal(str_at(p, "Name"), "probe-pipeline");
        assert_string_equal(str_at(p, "OutputBucket"), "out-bucket");
        assert_non_null(json_object_get(r->body, "Warnings"));
    } else if (strcmp(c->op, "ListJobsByPipeline") == 0 || strcmp(c->op, "ListJobsByStatus") == 0) {
        expect_status(r, 200);
        json_t *jobs = json_object_get(r->body, "Jobs");
        assert_int_equal(json_array_size(jobs), 1);
        assert_string_equal(str_at(json_array_get(jobs, 0), "Id"), JOB_ID);
        assert_true(json_is_null(json_object_get(r->body, "NextPageToken")));
    } else if (strcmp(c->op, "ListJobsByStatus-query") == 0) {
        expect_error(r, 400, "ValidationException");
        assert_string_equal(message_of(r),
                            "1 validation error detected: Value 'tok/+= x' at 'pageToken' failed "
                            "to satisfy constraint: Member must satisfy regular expression "
                            "pattern: " ID_PATTERN);
    } else if (strcmp(c->op, "ReadJob") == 0) {
        expect_status(r, 200);
        assert_string_equal(str_at(json_object_get(r->body, "Job"), "Id"), JOB_ID);
    } else if (strcmp(c->op, "ReadJob-odd-id") == 0) {
        expect_error(r, 400, "ValidationException");
        assert_string_equal(message_of(r),
                            "1 validation error detected: Value 'a b/c+d%e' at 'id' failed to "
                            "satisfy constraint: Member must satisfy regular expression pattern: "
                            "" ID_PATTERN);
    } else if (strcmp(c->op, "UpdatePipelineStatus-Active") == 0 ||
               strcmp(c->op, "UpdatePipelineStatus-Paused") == 0) {
        expect_status(r, 200);
        const char *want = strchr(c->op, '-') + 1;
        assert_string_equal(str_at(json_object_get(r->body, "Pipeline"), "Status"), want);
    } else {
        fail_msg("capture %s: unknown operation %s", c->name, c->op);
    }
}

static void test_service_captures_answered_as_contract(void **state)
{
    (void)state;
    struct capture caps[40];
    size_t n = load_captures(caps, 40);
    assert_int_equal(n, 30);
    for (size_t i = 0; i < n; i++) {
        struct fx fx;
        fx_open_for_capture(&fx, &caps[i]);
        struct tresp r;
        send_raw(&fx, ref_slice_make(caps[i].raw, caps[i].len), &r);
        check_capture_answer(&caps[i], &fx, &r);
        tresp_cleanup(&r);
        fx_close(&fx);
    }
    free_captures(caps, n);
}

/* A different byte that is never just a change of case: letters and digits move to the
 * next one of their kind, anything else becomes 'x'. */
static char mutate(char c)
{
    if (c >= '0' && c <= '8') {
        return (char)(c + 1);
    }
    if (c == '9') {
        return '0';
    }
    if ((c >= 'a' && c <= 'y') || (c >= 'A' && c <= 'Y')) {
        return (char)(c + 1);
    }
    if (c == 'z') {
        return 'a';
    }
    if (c == 'Z') {
        return 'A';
    }
    return c == 'x' ? 'y' : 'x';
}

struct range {
    size_t from;
    size_t len;
};

/* The byte ranges a capture's signature covers: method, target, the names and values of
 * its signed headers, the Authorization value (scope, signed list, signature) and the
 * body. */
static size_t signed_ranges(const struct capture *c, struct range *out, size_t cap)
{
    struct ref_http_request req;
    struct ref_buf body;
    ref_buf_init(&body, REF_MAX_BODY_BYTES);
    struct ref_slice raw = ref_slice_make(c->raw, c->len);
    assert_int_equal(ref_http_parse_request(raw, &req, &body, NULL), REF_OK);
    assert_false(req.is_chunked);
    size_t n = 0;
#define ADD(s)                                                                                     \
    do {                                                                                           \
        assert_true(n < cap);                                                                      \
        out[n++] = (struct range){(size_t)((s).ptr - raw.ptr), (s).len};                           \
    } while (0)
    ADD(req.method);
    ADD(req.target);
    ADD(req.body);
    const struct ref_header *auth =
        ref_http_find_header(req.headers, req.num_headers, REF_SLICE_LIT("authorization"));
    assert_non_null(auth);
    ADD(auth->value);
    struct ref_sigv4_auth parsed;
    assert_int_equal(ref_sigv4_parse_authorization(auth->value, &parsed, NULL), REF_OK);
    for (size_t i = 0; i < req.num_headers; i++) {
        for (size_t k = 0; k < parsed.num_signed_headers; k++) {
            if (ref_slice_eq_nocase(req.headers[i].name, parsed.signed_headers[k])) {
                ADD(req.headers[i].name);
                ADD(req.headers[i].value);
            }
        }
    }
#undef ADD
    ref_buf_cleanup(&body);
    return n;
}

static void test_service_tampered_captures_never_succeed(void **state)
{
    (void)state;
    struct capture caps[40];
    size_t n = load_captures(caps, 40);
    size_t tried = 0;
    for (size_t i = 0; i < n; i++) {
        struct capture *c = &caps[i];
        struct range ranges[32];
        size_t num_ranges = signed_ranges(c, ranges, 32);
        /* Every rejected request leaves the store alone, so one service per capture. */
        struct fx fx;
        fx_open_for_capture(&fx, c);
        char *copy = malloc(c->len);
        assert_non_null(copy);
        for (size_t k = 0; k < num_ranges; k++) {
            for (size_t at = ranges[k].from; at < ranges[k].from + ranges[k].len; at++) {
                for (size_t b = 0; b < c->len; b++) {
                    copy[b] = c->raw[b];
                }
                copy[at] = mutate(c->raw[at]);
                struct tresp r;
                send_raw(&fx, ref_slice_make(copy, c->len), &r);
                bool auth_error =
                    r.status == 403 &&
                    (strcmp(r.error_type, "InvalidSignatureException") == 0 ||
                     strcmp(r.error_type, "UnrecognizedClientException") == 0 ||
                     strcmp(r.error_type, "MissingAuthenticationTokenException") == 0);
                bool bad_request = r.status == 400;
                if (!auth_error && !bad_request) {
                    fail_msg("%s: byte %zu '%c' -> '%c' answered %d %s: %s", c->name, at,
                             c->raw[at], copy[at], r.status, r.error_type, r.body_text);
                }
                tresp_cleanup(&r);
                tried++;
            }
        }
        /* And the untouched request still works afterwards. */
        struct tresp r;
        send_raw(&fx, ref_slice_make(c->raw, c->len), &r);
        check_capture_answer(c, &fx, &r);
        tresp_cleanup(&r);
        free(copy);
        fx_close(&fx);
    }
    assert_true(tried > 5000);
    free_captures(caps, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_pipeline_operations),
        cmocka_unit_test(test_service_create_job_shape),
        cmocka_unit_test(test_service_create_job_rejects_bad_bodies),
        cmocka_unit_test(test_service_create_pipeline_validation),
        cmocka_unit_test(test_service_update_pipeline_status_validation),
        cmocka_unit_test(test_service_cancel_submitted_job),
        cmocka_unit_test(test_service_cancel_refused_unless_submitted),
        cmocka_unit_test(test_service_job_lifecycle_through_time),
        cmocka_unit_test(test_service_paused_pipeline_holds_jobs_until_resumed),
        cmocka_unit_test(test_service_new_job_starts_on_time_inside_quiet_window),
        cmocka_unit_test(test_service_unknown_and_malformed_ids),
        cmocka_unit_test(test_service_list_parameter_validation),
        cmocka_unit_test(test_service_routing_errors),
        cmocka_unit_test(test_service_restricted_principal),
        cmocka_unit_test(test_service_temporary_principal),
        cmocka_unit_test(test_service_authentication_failures),
        cmocka_unit_test(test_service_delete_pipeline_in_use),
        cmocka_unit_test(test_service_pagination_both_orders),
        cmocka_unit_test(test_service_limits),
        cmocka_unit_test(test_service_default_limits),
        cmocka_unit_test(test_service_limit_settings),
        cmocka_unit_test(test_service_request_ids_are_fresh),
        cmocka_unit_test(test_service_http_parse_failures_answer_in_error_form),
        cmocka_unit_test(test_service_response_bytes),
        cmocka_unit_test(test_service_zeroed_env_uses_real_clock),
        cmocka_unit_test(test_service_hooks_reject_bad_arguments),
        cmocka_unit_test(test_service_copy_state_starts_over_from_the_template),
        cmocka_unit_test(test_service_allocation_failures),
        cmocka_unit_test(test_service_captures_answered_as_contract),
        cmocka_unit_test(test_service_tampered_captures_never_succeed),
    };
    return cmocka_run_group_tests(tests, setup_hooks, teardown_hooks);
}
