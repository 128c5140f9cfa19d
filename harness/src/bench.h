/* SPDX-License-Identifier: Apache-2.0
 *
 * bench.h - what the parts of `etch bench` share: options, the crypto floor, timing and
 * medians, and the two modes (in process, live).
 *
 * The in-process mode (bench_inproc.c) times the reference's stages against the crypto
 * floor of bench_floor.c; the live mode (bench_live.c) drives an HTTP endpoint with
 * libcurl. Both print a table for people or one JSON object (--json) for machines.
 */
#ifndef ETCH_BENCH_H
#define ETCH_BENCH_H

#include "ref/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds of the numeric options. */
#define BENCH_MAX_RUNS 101
/* Seeding a job costs the same however many are queued, so preparing the CancelJob pools
 * takes time in proportion to ops; what bounds ops is memory: each round holds two pools of
 * ops jobs and their signed requests, about 2 KB apiece (some 800 MB at this cap). */
#define BENCH_MAX_OPS         200000
#define BENCH_MAX_CONNECTIONS 256
#define BENCH_MAX_DURATION_S  3600

struct bench_options {
    bool is_json;
    bool has_suite;                /* time `etch run` too */
    unsigned runs;                 /* rounds, each running every benchmark once */
    unsigned ops;                  /* operations per benchmark and round */
    unsigned suite_runs;           /* times `etch run` is timed */
    const char *capture;           /* the CancelJob request; NULL: the built-in botocore capture */
    const char *endpoint;          /* live mode when not NULL */
    unsigned connections;          /* live: concurrent keep-alive connections */
    double duration_s;             /* live: length of each measured phase */
    bool is_cancel_job;            /* live: CancelJob instead of ReadJob */
    const char *access_key_id;     /* live: who signs */
    const char *secret_access_key; /* live */
    const char *region;            /* live */
};

/* In-process benchmarks (bench_inproc.c); returns the exit status. */
int bench_inproc(const struct bench_options *opt);

/* Live benchmarks against opt->endpoint (bench_live.c); returns the exit status. */
int bench_live(const struct bench_options *opt);

/* --- The crypto floor (bench_floor.c) ----------------------------------------------- */

/* What one SigV4 signature costs at the least, given its canonical request: one SHA-256
 * of it, four HMACs to derive the key, one HMAC of the string to sign. */
struct bench_floor_input {
    const uint8_t *canonical_request;
    size_t canonical_request_len;
    /* The string to sign without its last line (the canonical request's hash). */
    const uint8_t *sts_prefix;
    size_t sts_prefix_len;
    const uint8_t *secret; /* the secret access key, without "AWS4" */
    size_t secret_len;
    const char *date; /* YYYYMMDD */
    const char *region;
    const char *service;
};

/* The signature, with the key derived every time. false when the input is too large for
 * the floor's fixed buffers. */
bool bench_floor_sign(const struct bench_floor_input *in, char sig_hex[REF_SHA256_HEX_LEN]);

/* The signature with a signing key derived once beforehand. */
bool bench_floor_sign_cached(const struct bench_floor_input *in,
                             const uint8_t key[REF_SHA256_LEN],
                             char sig_hex[REF_SHA256_HEX_LEN]);

/* The signing key the floor derives (for bench_floor_sign_cached). */
void bench_floor_signing_key(const struct bench_floor_input *in, uint8_t key[REF_SHA256_LEN]);

/* --- Timing ----------------------------------------------------------------------- */

/* CLOCK_MONOTONIC in ns. */
uint64_t bench_now_ns(void);

/* The median of n values (sorts v in place); 0 for n == 0. */
double bench_median(double *v, size_t n);

#endif
