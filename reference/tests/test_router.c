/* SPDX-License-Identifier: Apache-2.0
 *
 * test_router.c - unit tests for ref_route_match and the ref_op_* helpers.
 *
 * Tables of method + normalised path with the expected status, operation and raw label,
 * written from contract sections 1 and 8. Every path is copied into an exact-size heap
 * block first, so a read past its end fails under AddressSanitizer.
 */
#include "ref/router.h"

/* cmocka needs its prelude in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>

struct route_case {
    const char *method;
    const char *path;
    enum ref_status want_rc;
    enum ref_op want_op;
    const char *want_label; /* NULL: the operation has no label (label must be empty) */
};

/* Runs one case on exact-size copies of method and path. */
static void check_route(const struct route_case *c)
{
    size_t mlen = strlen(c->method);
    size_t plen = strlen(c->path);
    uint8_t *m = malloc(mlen > 0 ? mlen : 1);
    uint8_t *p = malloc(plen > 0 ? plen : 1);
    assert_non_null(m);
    assert_non_null(p);
    if (mlen > 0) {
        memcpy(m, c->method, mlen);
    }
    if (plen > 0) {
        memcpy(p, c->path, plen);
    }
    struct ref_slice path = ref_slice_make(p, plen);

    struct ref_route route;
    enum ref_status rc = ref_route_match(ref_slice_make(m, mlen), path, &route);
    if (rc != c->want_rc || route.op != c->want_op) {
        print_error("%s %s: got %s/%s, want %s/%s\n", c->method, c->path, ref_status_name(rc),
                    ref_op_name(route.op), ref_status_name(c->want_rc), ref_op_name(c->want_op));
    }
    assert_int_equal(rc, c->want_rc);
    assert_int_equal(route.op, c->want_op);
    if (c->want_label == NULL) {
        assert_int_equal(route.label.len, 0);
    } else {
        assert_true(ref_slice_eq_cstr(route.label, c->want_label));
        /* The label borrows from the path (raw, never decoded or copied). */
        assert_true(route.label.ptr >= p && route.label.ptr + route.label.len <= p + plen);
    }
    free(m);
    free(p);
}

static void run_cases(const struct route_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        check_route(&cases[i]);
    }
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

static void test_router_matches_each_operation(void **state)
{
    (void)state;
    static const struct route_case cases[] = {
        {"DELETE", "/2012-09-25/jobs/1111111111111-abcdef", REF_OK, REF_OP_CANCEL_JOB,
         "1111111111111-abcdef"},
        {"POST", "/2012-09-25/jobs", REF_OK, REF_OP_CREATE_JOB, NULL},
        {"GET", "/2012-09-25/jobs/1111111111111-abcdef", REF_OK, REF_OP_READ_JOB,
         "1111111111111-abcdef"},
        {"GET", "/2012-09-25/jobsByPipeline/1111111111111-abcde1", REF_OK,
         REF_OP_LIST_JOBS_BY_PIPELINE, "1111111111111-abcde1"},
        {"GET", "/2012-09-25/jobsByStatus/Submitted", REF_OK, REF_OP_LIST_JOBS_BY_STATUS,
         "Submitted"},
        {"POST", "/2012-09-25/pipelines", REF_OK, REF_OP_CREATE_PIPELINE, NULL},
        {"GET", "/2012-09-25/pipelines/1111111111111-abcde1", REF_OK, REF_OP_READ_PIPELINE,
         "1111111111111-abcde1"},
        {"GET", "/2012-09-25/pipelines", REF_OK, REF_OP_LIST_PIPELINES, NULL},
        {"POST", "/2012-09-25/pipelines/1111111111111-abcde1/status", REF_OK,
         REF_OP_UPDATE_PIPELINE_STATUS, "1111111111111-abcde1"},
        {"DELETE", "/2012-09-25/pipelines/1111111111111-abcde1", REF_OK, REF_OP_DELETE_PIPELINE,
         "1111111111111-abcde1"},
    };
    RUN(cases);
}

/* The request lines of the real-client captures (fixtures/captures), path part only. */
static void test_router_matches_capture_paths(void **state)
{
    (void)state;
    static const struct route_case cases[] = {
        {"DELETE", "/2012-09-25/jobs/2222222222222-abcdef", REF_OK, REF_OP_CANCEL_JOB,
         "2222222222222-abcdef"},
        {"GET", "/2012-09-25/jobs/a%20b%2Fc%2Bd%25e", REF_OK, REF_OP_READ_JOB, "a%20b%2Fc%2Bd%25e"},
        {"GET", "/2012-09-25/jobsByStatus/Submitted", REF_OK, REF_OP_LIST_JOBS_BY_STATUS,
         "Submitted"},
    };
    RUN(cases);
}

/* A known path with a method no operation uses there: 404 UnknownOperation (section 8). */
static void test_router_rejects_wrong_method(void **state)
{
    (void)state;
    static const struct route_case cases[] = {
        {"PUT", "/2012-09-25/jobs/1111111111111-abcdef", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
        {"POST", "/2012-09-25/jobs/1111111111111-abcdef", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
        {"PATCH", "/2012-09-25/jobs/1111111111111-abcdef", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
        {"GET", "/2012-09-25/pipelines/1111111111111-abcde1/status", REF_E_UNKNOWN_OPERATION,
         REF_OP_NONE, NULL},
        {"DELETE", "/2012-09-25/jobs", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"DELETE", "/2012-09-25/pipelines", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"DELETE", "/2012-09-25/jobsByStatus/Submitted", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
        {"POST", "/2012-09-25/jobsByPipeline/1111111111111-abcde1", REF_E_UNKNOWN_OPERATION,
         REF_OP_NONE, NULL},
        {"HEAD", "/2012-09-25/pipelines", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"OPTIONS", "/2012-09-25/jobs", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        /* Methods are case-sensitive (RFC 9110 section 9.1). */
        {"delete", "/2012-09-25/jobs/1111111111111-abcdef", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
        {"Get", "/2012-09-25/pipelines", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"", "/2012-09-25/pipelines", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"DELETEX", "/2012-09-25/jobs/1111111111111-abcdef", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
        {"DELET", "/2012-09-25/jobs/1111111111111-abcdef", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
    };
    RUN(cases);
}

/* Another version with a path and method that match: 400 IncompatibleVersion, op set. */
static void test_router_rejects_wrong_version(void **state)
{
    (void)state;
    static const struct route_case cases[] = {
        {"DELETE", "/2012-09-24/jobs/1111111111111-abcdef", REF_E_INCOMPATIBLE_VERSION,
         REF_OP_CANCEL_JOB, "1111111111111-abcdef"},
        {"DELETE", "/2015-01-01/jobs/", REF_E_INCOMPATIBLE_VERSION, REF_OP_CANCEL_JOB, ""},
        {"POST", "/2011-01-01/jobs", REF_E_INCOMPATIBLE_VERSION, REF_OP_CREATE_JOB, NULL},
        {"GET", "/v1/jobs/x", REF_E_INCOMPATIBLE_VERSION, REF_OP_READ_JOB, "x"},
        {"GET", "/2012-09-25x/jobsByPipeline/p", REF_E_INCOMPATIBLE_VERSION,
         REF_OP_LIST_JOBS_BY_PIPELINE, "p"},
        {"GET", "/2012-09-2/jobsByStatus/Complete", REF_E_INCOMPATIBLE_VERSION,
         REF_OP_LIST_JOBS_BY_STATUS, "Complete"},
        {"POST", "/2012-9-25/pipelines", REF_E_INCOMPATIBLE_VERSION, REF_OP_CREATE_PIPELINE, NULL},
        {"GET", "/latest/pipelines/p1", REF_E_INCOMPATIBLE_VERSION, REF_OP_READ_PIPELINE, "p1"},
        {"GET", "/2012-09-25%20/pipelines", REF_E_INCOMPATIBLE_VERSION, REF_OP_LIST_PIPELINES,
         NULL},
        {"POST", "/2013-09-25/pipelines/p1/status", REF_E_INCOMPATIBLE_VERSION,
         REF_OP_UPDATE_PIPELINE_STATUS, "p1"},
        {"DELETE", "/2012-09-26/pipelines/p1", REF_E_INCOMPATIBLE_VERSION, REF_OP_DELETE_PIPELINE,
         "p1"},
        /* The version segment is compared byte for byte: no decoding, no case folding. */
        {"GET", "/2012%2D09%2D25/pipelines", REF_E_INCOMPATIBLE_VERSION, REF_OP_LIST_PIPELINES,
         NULL},
        /* A wrong version and a wrong method: nothing matches, so unknown. */
        {"PUT", "/2012-09-24/jobs/1111111111111-abcdef", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
        {"GET", "/2012-09-24/nothing", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
    };
    RUN(cases);
}

static void test_router_rejects_unknown_paths(void **state)
{
    (void)state;
    static const struct route_case cases[] = {
        {"GET", "", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "2012-09-25/pipelines", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/jobs/1111111111111-abcdef", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"DELETE", "/jobs/1111111111111-abcdef", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/Jobs/x", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/JOBS/x", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/job/x", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/jobsx/x", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/jobsByPipeline", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/jobsByStatus", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/jobs", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/presets", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"POST", "/2012-09-25/jobs/x/cancel", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"DELETE", "/2012-09-25/jobs/x/y", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"DELETE", "/2012-09-25/jobs/x/", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"POST", "/2012-09-25/pipelines/p1/Status", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"POST", "/2012-09-25/pipelines/p1/status/", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"POST", "/2012-09-25/pipelines/p1/status/x", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/pipelines/p1/status/x/y/z", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
        {"GET", "/2012-09-25/pipelines/a/b/c/d/e/f/g/h/i/j/k", REF_E_UNKNOWN_OPERATION, REF_OP_NONE,
         NULL},
        /* Percent-encoded literals are not the literal: the router never decodes. */
        {"GET", "/2012-09-25/%6Aobs/x", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"GET", "/2012-09-25/jobs%2Fx", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
    };
    RUN(cases);
}

/* An empty label routes, so that the service can answer 400 ValidationException for it
 * (contract section 8); a trailing slash after a label-less path is an empty label for
 * the labelled operation with the same method, if there is one. */
static void test_router_routes_empty_labels(void **state)
{
    (void)state;
    static const struct route_case cases[] = {
        {"DELETE", "/2012-09-25/jobs/", REF_OK, REF_OP_CANCEL_JOB, ""},
        {"GET", "/2012-09-25/jobs/", REF_OK, REF_OP_READ_JOB, ""},
        {"GET", "/2012-09-25/jobsByPipeline/", REF_OK, REF_OP_LIST_JOBS_BY_PIPELINE, ""},
        {"GET", "/2012-09-25/jobsByStatus/", REF_OK, REF_OP_LIST_JOBS_BY_STATUS, ""},
        {"GET", "/2012-09-25/pipelines/", REF_OK, REF_OP_READ_PIPELINE, ""},
        {"DELETE", "/2012-09-25/pipelines/", REF_OK, REF_OP_DELETE_PIPELINE, ""},
        /* Only reachable without normalisation ('//' is merged before routing). */
        {"POST", "/2012-09-25/pipelines//status", REF_OK, REF_OP_UPDATE_PIPELINE_STATUS, ""},
        /* No labelled POST on jobs or pipelines (other than .../status). */
        {"POST", "/2012-09-25/jobs/", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
        {"POST", "/2012-09-25/pipelines/", REF_E_UNKNOWN_OPERATION, REF_OP_NONE, NULL},
    };
    RUN(cases);
}

/* Labels come back exactly as sent: still encoded, with %2F inside the label. */
static void test_router_returns_encoded_labels_raw(void **state)
{
    (void)state;
    static const struct route_case cases[] = {
        {"DELETE", "/2012-09-25/jobs/a%2Fb", REF_OK, REF_OP_CANCEL_JOB, "a%2Fb"},
        {"DELETE", "/2012-09-25/jobs/a%2fb", REF_OK, REF_OP_CANCEL_JOB, "a%2fb"},
        {"GET", "/2012-09-25/jobs/%31111111111111-abcdef", REF_OK, REF_OP_READ_JOB,
         "%31111111111111-abcdef"},
        {"GET", "/2012-09-25/jobsByStatus/Sub%6Ditted", REF_OK, REF_OP_LIST_JOBS_BY_STATUS,
         "Sub%6Ditted"},
        {"GET", "/2012-09-25/pipelines/%2E%2E", REF_OK, REF_OP_READ_PIPELINE, "%2E%2E"},
        {"POST", "/2012-09-25/pipelines/p%2Fstatus/status", REF_OK, REF_OP_UPDATE_PIPELINE_STATUS,
         "p%2Fstatus"},
        {"DELETE", "/2012-09-25/pipelines/%", REF_OK, REF_OP_DELETE_PIPELINE, "%"},
        {"GET", "/2012-09-25/pipelines/status", REF_OK, REF_OP_READ_PIPELINE, "status"},
        {"GET", "/2012-09-25/jobs/+ ", REF_OK, REF_OP_READ_JOB, "+ "},
        {"GET", "/2012-09-25/jobs/\xc3\xa9", REF_OK, REF_OP_READ_JOB, "\xc3\xa9"},
    };
    RUN(cases);
}

/* The router takes a slice, not a C string: a NUL byte is just a byte. */
static void test_router_handles_embedded_nul(void **state)
{
    (void)state;
    static const char path[] = "/2012-09-25/jobs/a\0b";
    struct ref_route route;
    enum ref_status rc = ref_route_match(REF_SLICE_LIT("DELETE"), REF_SLICE_LIT(path), &route);
    assert_int_equal(rc, REF_OK);
    assert_int_equal(route.op, REF_OP_CANCEL_JOB);
    assert_int_equal(route.label.len, 3);
    assert_memory_equal(route.label.ptr, "a\0b", 3);

    static const char version[] = "/2012-09-25\0/pipelines";
    rc = ref_route_match(REF_SLICE_LIT("GET"), REF_SLICE_LIT(version), &route);
    assert_int_equal(rc, REF_E_INCOMPATIBLE_VERSION);
    assert_int_equal(route.op, REF_OP_LIST_PIPELINES);
}

/* A failed match leaves a zeroed route, even after an earlier success in the same struct. */
static void test_router_clears_route_on_unknown(void **state)
{
    (void)state;
    struct ref_route route;
    assert_int_equal(
        ref_route_match(REF_SLICE_LIT("GET"), REF_SLICE_LIT("/2012-09-25/jobs/x"), &route), REF_OK);
    assert_int_equal(route.op, REF_OP_READ_JOB);
    assert_int_equal(ref_route_match(REF_SLICE_LIT("GET"), REF_SLICE_LIT("/nope"), &route),
                     REF_E_UNKNOWN_OPERATION);
    assert_int_equal(route.op, REF_OP_NONE);
    assert_int_equal(route.label.len, 0);
}

static void test_router_op_names_round_trip(void **state)
{
    (void)state;
    static const struct {
        enum ref_op op;
        const char *name;
        bool is_read;
    } ops[] = {
        {REF_OP_CANCEL_JOB, "CancelJob", false},
        {REF_OP_CREATE_JOB, "CreateJob", false},
        {REF_OP_READ_JOB, "ReadJob", true},
        {REF_OP_LIST_JOBS_BY_PIPELINE, "ListJobsByPipeline", true},
        {REF_OP_LIST_JOBS_BY_STATUS, "ListJobsByStatus", true},
        {REF_OP_CREATE_PIPELINE, "CreatePipeline", false},
        {REF_OP_READ_PIPELINE, "ReadPipeline", true},
        {REF_OP_LIST_PIPELINES, "ListPipelines", true},
        {REF_OP_UPDATE_PIPELINE_STATUS, "UpdatePipelineStatus", false},
        {REF_OP_DELETE_PIPELINE, "DeletePipeline", false},
    };
    assert_int_equal(sizeof(ops) / sizeof(ops[0]), REF_OP_COUNT - 1);
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        assert_string_equal(ref_op_name(ops[i].op), ops[i].name);
        assert_int_equal(ref_op_from_name(ref_slice_from_cstr(ops[i].name)), ops[i].op);
        assert_int_equal(ref_op_is_read(ops[i].op), ops[i].is_read);
    }
}

/* The restricted principal of contract section 7 may call exactly these five. */
static void test_router_op_is_read_matches_restricted_principal(void **state)
{
    (void)state;
    size_t reads = 0;
    for (int op = REF_OP_NONE; op < REF_OP_COUNT; op++) {
        if (ref_op_is_read((enum ref_op)op)) {
            reads++;
        }
    }
    assert_int_equal(reads, 5);
    assert_false(ref_op_is_read(REF_OP_CANCEL_JOB));
    assert_false(ref_op_is_read(REF_OP_NONE));
    assert_false(ref_op_is_read(REF_OP_COUNT));
    assert_false(ref_op_is_read((enum ref_op)1000));
}

static void test_router_op_helpers_reject_unknown(void **state)
{
    (void)state;
    assert_string_equal(ref_op_name(REF_OP_NONE), "");
    assert_string_equal(ref_op_name(REF_OP_COUNT), "");
    assert_string_equal(ref_op_name((enum ref_op) - 1), "");
    assert_int_equal(ref_op_from_name(REF_SLICE_LIT("")), REF_OP_NONE);
    assert_int_equal(ref_op_from_name(REF_SLICE_LIT("canceljob")), REF_OP_NONE);
    assert_int_equal(ref_op_from_name(REF_SLICE_LIT("CancelJob ")), REF_OP_NONE);
    assert_int_equal(ref_op_from_name(REF_SLICE_LIT("CancelJo")), REF_OP_NONE);
    assert_int_equal(ref_op_from_name(REF_SLICE_LIT("ListJobs")), REF_OP_NONE);
    assert_int_equal(ref_op_from_name(ref_slice_make(NULL, 0)), REF_OP_NONE);
    /* Only the first bytes of the slice count; no NUL terminator is needed or read. */
    static const char longer[] = "ReadJobXYZ";
    assert_int_equal(ref_op_from_name(ref_slice_make(longer, 7)), REF_OP_READ_JOB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_matches_each_operation),
        cmocka_unit_test(test_router_matches_capture_paths),
        cmocka_unit_test(test_router_rejects_wrong_method),
        cmocka_unit_test(test_router_rejects_wrong_version),
        cmocka_unit_test(test_router_rejects_unknown_paths),
        cmocka_unit_test(test_router_routes_empty_labels),
        cmocka_unit_test(test_router_returns_encoded_labels_raw),
        cmocka_unit_test(test_router_handles_embedded_nul),
        cmocka_unit_test(test_router_clears_route_on_unknown),
        cmocka_unit_test(test_router_op_names_round_trip),
        cmocka_unit_test(test_router_op_is_read_matches_restricted_principal),
        cmocka_unit_test(test_router_op_helpers_reject_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
