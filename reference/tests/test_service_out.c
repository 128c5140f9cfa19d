/* SPDX-License-Identifier: Apache-2.0
 *
 * test_service_out.c - the answer writers of service_out.c against jansson: ref_out_dump
 * gives json_dumpb's compact bytes for every kind of value, and ref_out_job_answer gives
 * the bytes of {"Job": ref_out_job(...)} dumped, for jobs with and without each optional
 * part, in every status.
 */
#include "../src/service_internal.h"

#include "ref/buf.h"
#include "ref/job_store.h"
#include "ref/status.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson's own compact dump of value. */
static char *jansson_text(const json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(text);
    return text;
}

static void assert_dump_matches(const char *json_text)
{
    json_error_t err;
    json_t *value = json_loads(json_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (value == NULL) {
        fail_msg("bad test JSON %s: %s", json_text, err.text);
    }
    char *want = jansson_text(value);
    struct ref_buf out;
    ref_buf_init(&out, 1 << 20);
    assert_int_equal(ref_out_dump(value, &out), REF_OK);
    assert_int_equal(ref_buf_append_byte(&out, 0), REF_OK);
    assert_string_equal((const char *)out.data, want);
    free(want);
    ref_buf_cleanup(&out);
    json_decref(value);
}

static void test_dump_matches_jansson(void **state)
{
    (void)state;
    static const char *const values[] = {
        "{}",
        "[]",
        "\"\"",
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "1.5",
        "1e300",
        "true",
        "false",
        "null",
        "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":\"x\"}",
        "{\"z\":1,\"a\":2,\"m\":3}",
        "\"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f\"",
        "\"control \\u0001 \\u001f \\u007f del\"",
        "\"nul \\u0000 inside\"",
        "\"utf-8 \\u00e9 \\u20ac \\ud83d\\ude00\"",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_dump_matches(values[i]);
    }
    /* Deeper than the writer goes by itself (it hands the rest to jansson). */
    char deep[512];
    size_t n = 0;
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "[");
    }
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "1");
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "]");
    }
    assert_dump_matches(deep);
    n = 0;
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"k\":");
    }
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "1");
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "}");
    }
    assert_dump_matches(deep);
}

/* A job as the store would hold it, from a spec written as JSON. */
static struct ref_job_info job_info(const char *spec_text, enum ref_job_status status)
{
    struct ref_job_info info = {
        .id = "1111111111111-abcdef",
        .pipeline_id = "2222222222222-ghijkl",
        .status = status,
        .submit_ms = 1764333900123,
    };
    if (status == REF_JOB_PROGRESSING || status == REF_JOB_COMPLETE || status == REF_JOB_ERROR) {
        info.has_start = true;
        info.start_ms = 1764333902000;
    }
    if (status == REF_JOB_COMPLETE || status == REF_JOB_ERROR || status == REF_JOB_CANCELED) {
        info.has_finish = true;
        info.finish_ms = 1764333907000;
    }
    json_error_t err;
    info.spec = json_loads(spec_text, 0, &err);
    if (info.spec == NULL) {
        fail_msg("bad test spec %s: %s", spec_text, err.text);
    }
    return info;
}

static void assert_job_answer_matches(const char *spec_text, enum ref_job_status status)
{
    struct ref_job_info info = job_info(spec_text, status);
    json_t *job = ref_out_job(&info, "eu-west-1", "111122223333");
    assert_non_null(job);
    json_t *body = json_pack("{s:o}", "Job", job);
    char *want = jansson_text(body);
    struct ref_buf out;
    ref_buf_init(&out, REF_MAX_RESPONSE_BYTES);
    assert_int_equal(ref_buf_append(&out, "x", 1), REF_OK); /* appends, keeps what was there */
    assert_int_equal(ref_out_job_answer(&info, "eu-west-1", "111122223333", &out), REF_OK);
    assert_int_equal(ref_buf_append_byte(&out, 0), REF_OK);
    assert_int_equal(out.data[0], 'x');
    assert_string_equal((const char *)out.data + 1, want);
    free(want);
    json_decref(body);
    ref_buf_cleanup(&out);
    json_decref(info.spec);
}

static void test_job_answer_matches_the_tree(void **state)
{
    (void)state;
    static const char *const specs[] = {
        /* One input and one output: the SDKs' simplest call. */
        "{\"Inputs\":[{\"Key\":\"in.mp4\"}],"
        "\"Outputs\":[{\"Key\":\"out.mp4\",\"PresetId\":\"1351620000001-000010\"}]}",
        /* No outputs, no inputs: the bare minimum the writer must survive. */
        "{\"Outputs\":[]}",
        "{}",
        /* Several outputs, one with Watermarks given, a prefix, playlists (one empty) and
         * user metadata with characters to escape. */
        "{\"Inputs\":[{\"Key\":\"a\\\"b\",\"FrameRate\":\"auto\"},{\"Key\":\"c\"}],"
        "\"OutputKeyPrefix\":\"pre/\","
        "\"Outputs\":[{\"Key\":\"o1\",\"PresetId\":\"p\"},"
        "{\"Key\":\"o2\",\"Watermarks\":[{\"PresetWatermarkId\":\"TopLeft\","
        "\"InputKey\":\"w.png\"}],\"PresetId\":\"p\",\"SegmentDuration\":\"10\"}],"
        "\"Playlists\":[{\"Name\":\"pl\",\"Format\":\"HLSv3\",\"OutputKeys\":[\"o1\",\"o2\"]},"
        "{}],"
        "\"UserMetadata\":{\"k\\u0001\":\"v\\n\\u00e9\",\"second\":\"2\"}}",
    };
    static const enum ref_job_status statuses[] = {
        REF_JOB_SUBMITTED, REF_JOB_PROGRESSING, REF_JOB_COMPLETE, REF_JOB_CANCELED, REF_JOB_ERROR,
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
            assert_job_answer_matches(specs[i], statuses[s]);
        }
    }
}

static void test_job_answer_leaves_the_buffer_on_failure(void **state)
{
    (void)state;
    struct ref_job_info info =
        job_info("{\"Inputs\":[{\"Key\":\"in.mp4\"}],\"Outputs\":[]}", REF_JOB_SUBMITTED);
    uint8_t storage[64];
    struct ref_buf out;
    ref_buf_init_fixed(&out, storage, sizeof(storage));
    assert_int_equal(ref_buf_append(&out, "kept", 4), REF_OK);
    assert_int_not_equal(ref_out_job_answer(&info, "eu-west-1", "111122223333", &out), REF_OK);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "kept", 4);
    json_decref(info.spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_matches_jansson),
        cmocka_unit_test(test_job_answer_matches_the_tree),
        cmocka_unit_test(test_job_answer_leaves_the_buffer_on_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
