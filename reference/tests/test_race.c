/* SPDX-License-Identifier: Apache-2.0
 *
 * test_race.c - CancelJob racing the scheduler's start, through the service, many times.
 *
 * Contract section 3: whichever happens first wins, atomically. Afterwards exactly one of
 * these holds: the cancel answered 202 and the job is Canceled (and stays so); or the
 * cancel answered 409 and the job is Progressing or later. The clock is a C11 atomic that
 * one thread moves while another handles the request; everything here uses plain malloc
 * (cmocka's allocator is not thread-safe), and nothing asserts inside the threads.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_util.h"

#include "ref/limits.h"
#include "ref/service.h"
#include "ref/sigv4.h"

#include <pthread.h>
#include <stdatomic.h>

#define ITERATIONS 2000
#define DELAY_MS   2000
#define RUN_MS     5000
#define PIPE_ID    "1111111111111-abcde1"
#define JOB_ID     "2222222222222-abcdef"
#define HOST       "elastictranscoder.us-east-1.amazonaws.com"

struct race_env {
    _Atomic int64_t now_ms;
    atomic_uint_fast64_t rng_counter;
};

static int64_t race_now_ms(void *ctx)
{
    struct race_env *e = ctx;
    return atomic_load(&e->now_ms);
}

/* splitmix64 over an atomic counter: safe to call from any thread. */
static void race_random(void *ctx, uint8_t *out, size_t n)
{
    struct race_env *e = ctx;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (uint64_t)atomic_fetch_add(&e->rng_counter, 1) + UINT64_C(0x9e3779b97f4a7c15);
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        z ^= z >> 31;
        for (size_t k = 0; k < 8 && i + k < n; k++) {
            out[i + k] = (uint8_t)(z >> (8 * k));
        }
    }
}

/* A CancelJob for JOB_ID signed by the main principal at now_ms, as raw bytes. */
static bool build_cancel(int64_t now_ms, struct ref_buf *raw)
{
    char amz_date[17];
    ref_sigv4_format_amz_date(now_ms / 1000, amz_date);
    struct ref_header h[2] = {
        {REF_SLICE_LIT("Host"), REF_SLICE_LIT(HOST)},
        {REF_SLICE_LIT("X-Amz-Date"), ref_slice_make(amz_date, 16)},
    };
    struct ref_sigv4_request req = {.method = REF_SLICE_LIT("DELETE"),
                                    .path = REF_SLICE_LIT("/2012-09-25/jobs/" JOB_ID),
                                    .headers = h,
                                    .num_headers = 2};
    const struct ref_credential *cred = REF_TEST_CRED_MAIN;
    struct ref_sigv4_sign_params p = {.access_key_id = ref_slice_from_cstr(cred->access_key_id),
                                      .secret_access_key =
                                          ref_slice_from_cstr(cred->secret_access_key),
                                      .region = REF_SLICE_LIT(REF_TEST_REGION),
                                      .service = REF_SLICE_LIT("elastictranscoder"),
                                      .amz_date = ref_slice_make(amz_date, 16)};
    struct ref_buf auth;
    ref_buf_init(&auth, 2048);
    bool ok = ref_sigv4_sign(&p, &req, &auth, NULL) == REF_OK &&
              ref_buf_appendf(raw,
                              "DELETE /2012-09-25/jobs/" JOB_ID " HTTP/1.1\r\n"
                              "Host: " HOST "\r\n"
                              "X-Amz-Date: %s\r\n"
                              "Authorization: %.*s\r\n"
                              "Content-Length: 0\r\n\r\n",
                              amz_date, (int)auth.len, (const char *)auth.data) == REF_OK;
    ref_buf_cleanup(&auth);
    return ok;
}

struct race {
    struct ref_service *svc;
    struct race_env *env;
    struct ref_slice request;
    int64_t start_at_ms;
    pthread_barrier_t start_line; /* every racing thread, released together */
    int http_status[2];           /* per cancel thread; 0 when no answer came back */
    unsigned spin[3]; /* how long each thread waits after `go`, to vary who comes first */
};

struct worker {
    struct race *race;
    int index;
};

static void wait_for_go(struct race *r, unsigned spin)
{
    (void)pthread_barrier_wait(&r->start_line);
    for (volatile unsigned i = 0; i < spin; i++) {
        /* a little jitter */
    }
}

static void *cancel_thread(void *arg)
{
    struct worker *w = arg;
    struct race *r = w->race;
    struct ref_buf out;
    ref_buf_init(&out, REF_MAX_RESPONSE_BYTES + 4096);
    wait_for_go(r, r->spin[w->index]);
    int status = 0;
    if (ref_service_handle(r->svc, r->request, &out) == REF_OK && out.len > 12) {
        status = (out.data[9] - '0') * 100 + (out.data[10] - '0') * 10 + (out.data[11] - '0');
    }
    r->http_status[w->index] = status;
    ref_buf_cleanup(&out);
    return NULL;
}

static void *tick_thread(void *arg)
{
    struct worker *w = arg;
    struct race *r = w->race;
    wait_for_go(r, r->spin[2]);
    atomic_store(&r->env->now_ms, r->start_at_ms);
    ref_service_tick(r->svc);
    return NULL;
}

struct tally {
    unsigned canceled;
    unsigned started;
};

/* Head starts (busy-loop rounds) for cancel thread 0, cancel thread 1 and the tick thread,
 * rotated per iteration so that both outcomes happen often. */
static const unsigned s_spins[4][3] = {
    {0, 0, 0},
    {0, 0, 30000},
    {30000, 30000, 0},
    {10000, 0, 5000},
};

/* One race with `cancellers` cancel threads (1 or 2) against one tick. */
static void run_race(unsigned iteration, int cancellers, struct tally *t)
{
    struct race_env env;
    atomic_init(&env.now_ms, TEST_FIXED_NOW_MS);
    atomic_init(&env.rng_counter, (uint_fast64_t)iteration * 1000u);
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.start_delay_ms = DELAY_MS;
    cfg.run_time_ms = RUN_MS;
    cfg.env = (struct ref_env){.now_ms = race_now_ms, .random_bytes = race_random, .ctx = &env};
    struct ref_service *svc = ref_service_new(&cfg);
    assert_non_null(svc);
    assert_int_equal(ref_service_seed_pipeline(svc, PIPE_ID, "race", "Active"), REF_OK);
    assert_int_equal(ref_service_seed_job(svc, JOB_ID, PIPE_ID, "Submitted"), REF_OK);

    struct ref_buf raw;
    ref_buf_init(&raw, 4096);
    assert_true(build_cancel(TEST_FIXED_NOW_MS, &raw));

    struct race r = {
        .svc = svc,
        .env = &env,
        .request = ref_buf_slice(&raw),
        .start_at_ms = TEST_FIXED_NOW_MS + DELAY_MS,
        .spin = {s_spins[iteration % 4][0], s_spins[iteration % 4][1], s_spins[iteration % 4][2]}};
    assert_int_equal(pthread_barrier_init(&r.start_line, NULL, (unsigned)cancellers + 1), 0);
    pthread_t threads[3];
    struct worker workers[3] = {{&r, 0}, {&r, 1}, {&r, 2}};
    int n = 0;
    for (int i = 0; i < cancellers; i++) {
        assert_int_equal(pthread_create(&threads[n++], NULL, cancel_thread, &workers[i]), 0);
    }
    assert_int_equal(pthread_create(&threads[n++], NULL, tick_thread, &workers[2]), 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    pthread_barrier_destroy(&r.start_line);

    /* Exactly one winner. */
    int wins = 0;
    for (int i = 0; i < cancellers; i++) {
        if (r.http_status[i] == 202) {
            wins++;
        } else if (r.http_status[i] != 409) {
            fail_msg("iteration %u: cancel answered %d", iteration, r.http_status[i]);
        }
    }
    const char *status = ref_service_job_status(svc, JOB_ID);
    assert_non_null(status);
    if (wins == 1) {
        assert_string_equal(status, "Canceled");
        /* And it stays Canceled, whatever time it is. */
        atomic_store(&env.now_ms, TEST_FIXED_NOW_MS + DELAY_MS + RUN_MS + 60000);
        ref_service_tick(svc);
        assert_string_equal(ref_service_job_status(svc, JOB_ID), "Canceled");
        t->canceled++;
    } else if (wins == 0) {
        if (strcmp(status, "Progressing") != 0 && strcmp(status, "Complete") != 0 &&
            strcmp(status, "Error") != 0) {
            fail_msg("iteration %u: every cancel refused but the job is %s", iteration, status);
        }
        t->started++;
    } else {
        fail_msg("iteration %u: %d cancels succeeded", iteration, wins);
    }
    ref_buf_cleanup(&raw);
    ref_service_free(svc);
}

static void test_race_cancel_versus_start(void **state)
{
    (void)state;
    struct tally t = {0};
    for (unsigned i = 0; i < ITERATIONS; i++) {
        run_race(i, 1, &t);
    }
    assert_int_equal(t.canceled + t.started, ITERATIONS);
    print_message("cancel won %u times, start won %u times\n", t.canceled, t.started);
}

static void test_race_two_cancels_versus_start(void **state)
{
    (void)state;
    struct tally t = {0};
    for (unsigned i = 0; i < ITERATIONS / 2; i++) {
        run_race(i, 2, &t);
    }
    assert_int_equal(t.canceled + t.started, ITERATIONS / 2);
    print_message("a cancel won %u times, start won %u times\n", t.canceled, t.started);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_race_cancel_versus_start),
        cmocka_unit_test(test_race_two_cancels_versus_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
