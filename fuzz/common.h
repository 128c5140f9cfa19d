/* SPDX-License-Identifier: Apache-2.0
 *
 * common.h - what every fuzz target shares: the libFuzzer entry point, the invariant check,
 * the pinned clock and random source, and a strict parser for the responses the reference
 * writes.
 *
 * Nothing here calls into the reference or the harness (only their header-only types are
 * used), so a target that tests one library links that library and common.c alone.
 */
#ifndef ETCH_FUZZ_COMMON_H
#define ETCH_FUZZ_COMMON_H

#include "ref/buf.h"
#include "ref/sigv4.h"
#include "ref/slice.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point every fuzz_<target>.c defines, declared once here so that
 * -Wmissing-prototypes holds and replay_main.c can call it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The pinned clock: 2026-11-28T12:45:00Z, a few seconds before the X-Amz-Date of every
 * captured request in fixtures/captures, so captured signatures are within the skew. */
#define FUZZ_NOW_MS    INT64_C(1795869900000)
#define FUZZ_NOW_S     (FUZZ_NOW_MS / 1000)
#define FUZZ_AMZ_DATE  "20261128T124500Z"
#define FUZZ_RNG_SEED  UINT64_C(0x6574636866757a7a) /* "etchfuzz" */
#define FUZZ_MAX_SLICE ((size_t)1 << 30)

/* Aborts (after one line on stderr naming the broken invariant) when cond is false.
 * abort() is what libFuzzer and the replay driver both report as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fuzz_fail(__FILE__, __LINE__, #cond);                                                  \
        }                                                                                          \
    } while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/* True when the environment variable ETCH_FUZZ_SKIP (a comma-separated list) names this
 * open bug. Invariants that a reported, not yet fixed reference bug breaks are guarded by
 * it, so a local campaign can look past one known bug for the next; CI never sets it, so a
 * regression input keeps the replay test red until the fix lands. */
bool fuzz_skip_open_bug(const char *id);

/* RFC 9110 section 5.6.2 token characters (method and field names), spelled out here
 * rather than taken from the reference's table, so that the targets checking names hold
 * the reference to an independent reading of the rule. The one copy the targets share. */
bool fuzz_is_tchar(uint8_t c);

/* True when s lies entirely inside [base, base + len) (an empty slice may sit at the end). */
bool fuzz_slice_inside(struct ref_slice s, const void *base, size_t len);
/* Byte equality, without linking the reference's slice.c. */
bool fuzz_slice_eq(struct ref_slice a, struct ref_slice b);
bool fuzz_slice_eq_cstr(struct ref_slice a, const char *s);
bool fuzz_slice_eq_nocase(struct ref_slice a, struct ref_slice b);

/* A splitmix64 stream: deterministic for a given seed, so every run of an input sees the
 * same "random" bytes. Targets reseed it at the top of every input. */
struct fuzz_rng {
    uint64_t state;
};

void fuzz_rng_seed(struct fuzz_rng *rng, uint64_t seed);
uint64_t fuzz_rng_next(struct fuzz_rng *rng);

/* Shapes of struct ref_env's callbacks: the fixed clock ignores ctx; the random source
 * takes a struct fuzz_rng * as ctx. */
int64_t fuzz_fixed_now_ms(void *ctx);
void fuzz_random_bytes(void *ctx, uint8_t *out, size_t n);

/* A strictly parsed HTTP/1.1 response. Slices borrow from the raw bytes. */
#define FUZZ_MAX_RESPONSE_HEADERS 32

struct fuzz_response_header {
    struct ref_slice name;
    struct ref_slice value;
};

struct fuzz_response {
    int status;
    struct ref_slice reason;
    struct fuzz_response_header headers[FUZZ_MAX_RESPONSE_HEADERS];
    size_t num_headers;
    struct ref_slice body;
};

/* Parses "HTTP/1.1 NNN reason" CRLF, header lines with token names and visible values,
 * CRLF, then exactly Content-Length bytes of body and nothing more. A response without
 * exactly one valid Content-Length is refused. Returns false with *why set to a literal. */
bool fuzz_parse_response(struct ref_slice raw, struct fuzz_response *out, const char **why);

/* The value of the only header called name (any case); false when absent or repeated. */
bool fuzz_response_header(const struct fuzz_response *r, const char *name, struct ref_slice *value);
/* How many headers are called name (any case). */
size_t fuzz_response_count(const struct fuzz_response *r, const char *name);

/* 8-4-4-4-12 lower- or upper-case hex digits. */
bool fuzz_is_uuid(struct ref_slice s);

/* The contract's Id shape ^\d{13}-\w{6}$, written out as an obviously correct oracle. */
bool fuzz_is_contract_id(struct ref_slice s);

/* The canonical request of contract section 5 for req and the SignedHeaders of auth, built
 * slowly and plainly from the rules (sigv4-notes.md), independently of sigv4_canon.c, for
 * targets to compare the signer's with. Appends to out; false when the query cannot be
 * decoded (the signer refuses it too). */
bool fuzz_sigv4_oracle_canonical(const struct ref_sigv4_request *req,
                                 const struct ref_sigv4_auth *auth,
                                 struct ref_buf *out);

#endif
