/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_serve_connection.c - one connection of `etch serve`: the same bytes give the same
 * answers however they are cut into arrivals.
 *
 * Target: serve_conn_receive and serve_conn_end_of_input (harness/src/serve_conn.c, the
 * per-connection logic that `etch serve` runs behind its libuv shell), driving one
 * reference service with a fixed clock and a seeded random source.
 *
 * Input: one seed byte, then the bytes a client sends on one connection (any number of
 * requests, pipelined). The bytes are fed twice, each time on a new connection: whole, in
 * one arrival, then in pieces whose lengths come from a stream seeded by the seed byte
 * (from 1 byte up to a few KiB), and the client closes its side after the last piece.
 *
 * Invariants (abort() on violation):
 * - both feedings give the same answers, byte for byte, once the interim 100 Continue
 *   lines (sent only while a body has not arrived) are set aside and each answer's
 *   x-amzn-RequestId (a fresh UUID) is blanked: the strict parser and the framing decide,
 *   not the way the bytes arrived;
 * - every answer, 100 Continue aside, is a response the test's strict response reader
 *   accepts, with an x-amzn-RequestId that is a UUID;
 * - after the end of input the connection says it closes, and feeding more is a no-op.
 */
#include "common.h"
#include "serve_conn.h"

#include "ref/buf.h"
#include "ref/limits.h"
#include "ref/service.h"

#include <string.h>

/* The largest piece a cut makes; smaller ones are likelier, to cut heads and chunk lines. */
#define MAX_PIECE_BYTES 4096

static struct ref_service *s_svc;
static struct ref_service *s_empty; /* never answers: the state every feed starts from */
static struct fuzz_rng s_service_rng;
static const char s_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";

static struct ref_service *new_service(void)
{
    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.env.now_ms = fuzz_fixed_now_ms;
    cfg.env.random_bytes = fuzz_random_bytes;
    cfg.env.ctx = &s_service_rng;
    /* Test control on: its paths are parsed and routed like any other. */
    cfg.has_test_control = true;
    struct ref_service *svc = ref_service_new(&cfg);
    FUZZ_CHECK(svc != NULL);
    return svc;
}

/* The service, back in the empty state: the whole and the cut feeds must meet the same
 * state, or a request that creates something is answered differently the second time. */
static struct ref_service *service(void)
{
    if (s_svc == NULL) {
        s_svc = new_service();
        s_empty = new_service();
    }
    FUZZ_CHECK(ref_service_copy_state(s_svc, s_empty) == REF_OK);
    return s_svc;
}

/* The length of the answer at the start of raw, from its head and its Content-Length as
 * the reference writes them; 0 when raw holds no whole answer. */
static size_t answer_length(struct ref_slice raw)
{
    static const char cl_name[] = "\r\nContent-Length: ";
    size_t head_end = 0;
    for (size_t i = 0; i + 4 <= raw.len; i++) {
        if (memcmp(raw.ptr + i, "\r\n\r\n", 4) == 0) {
            head_end = i + 4;
            break;
        }
    }
    if (head_end == 0) {
        return 0;
    }
    for (size_t i = 0; i + sizeof(cl_name) - 1 < head_end; i++) {
        if (memcmp(raw.ptr + i, cl_name, sizeof(cl_name) - 1) != 0) {
            continue;
        }
        size_t body_len = 0;
        for (size_t j = i + sizeof(cl_name) - 1;
             j < head_end && raw.ptr[j] >= '0' && raw.ptr[j] <= '9'; j++) {
            body_len = body_len * 10 + (size_t)(raw.ptr[j] - '0');
            if (body_len > REF_MAX_RESPONSE_BYTES) {
                return 0;
            }
        }
        return head_end + body_len <= raw.len ? head_end + body_len : 0;
    }
    return 0;
}

/* Removes the interim answers and blanks the request Ids, checking each answer. */
static void normalise(struct ref_buf *out)
{
    static const char id_name[] = "\r\nx-amzn-RequestId: ";
    size_t w = 0;
    size_t r = 0;
    while (r < out->len) {
        size_t left = out->len - r;
        if (left >= sizeof(s_continue) - 1 &&
            memcmp(out->data + r, s_continue, sizeof(s_continue) - 1) == 0) {
            r += sizeof(s_continue) - 1;
            continue;
        }
        /* One whole answer, which the strict reader must accept. */
        static struct fuzz_response resp;
        const char *why = NULL;
        size_t len = answer_length(ref_slice_make(out->data + r, left));
        FUZZ_CHECK(len > 0);
        FUZZ_CHECK(fuzz_parse_response(ref_slice_make(out->data + r, len), &resp, &why));
        struct ref_slice id;
        FUZZ_CHECK(fuzz_response_header(&resp, "x-amzn-RequestId", &id));
        FUZZ_CHECK(fuzz_is_uuid(id));
        memmove(out->data + w, out->data + r, len);
        /* Blank the Id in place: its offset within the answer is unchanged by the move. */
        for (size_t i = 0; i + sizeof(id_name) - 1 + 36 <= len; i++) {
            if (memcmp(out->data + w + i, id_name, sizeof(id_name) - 1) == 0) {
                memset(out->data + w + i + sizeof(id_name) - 1, 'x', 36);
                break;
            }
        }
        w += len;
        r += len;
    }
    out->len = w;
}

/* Feeds the bytes, cut by rng (or whole when rng is NULL), then closes the input. */
static void feed(struct ref_slice bytes, struct fuzz_rng *rng, struct ref_buf *out)
{
    static const struct serve_conn_config cfg_template = {.max_body_bytes = REF_MAX_BODY_BYTES};
    struct serve_conn_config cfg = cfg_template;
    cfg.svc = service();
    struct serve_conn conn;
    serve_conn_init(&conn, &cfg, NULL);
    size_t at = 0;
    while (at < bytes.len) {
        size_t piece = bytes.len - at;
        if (rng != NULL) {
            uint64_t r = fuzz_rng_next(rng);
            size_t cap = (r & 3) == 0 ? MAX_PIECE_BYTES : (r & 3) == 1 ? 64 : 8;
            size_t want = 1 + (size_t)((r >> 8) % cap);
            piece = want < piece ? want : piece;
        }
        FUZZ_CHECK(serve_conn_receive(&conn, ref_slice_sub(bytes, at, piece), out) == REF_OK);
        at += piece;
    }
    FUZZ_CHECK(serve_conn_end_of_input(&conn, out) == REF_OK);
    FUZZ_CHECK(serve_conn_is_closing(&conn));
    size_t before = out->len;
    FUZZ_CHECK(serve_conn_receive(&conn, REF_SLICE_LIT("GET / HTTP/1.1\r\n\r\n"), out) == REF_OK);
    FUZZ_CHECK(out->len == before);
    serve_conn_cleanup(&conn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0; /* no seed byte: not an input of this target */
    }
    struct ref_slice bytes = ref_slice_make(data + 1, size - 1);
    struct ref_buf whole, pieces;
    ref_buf_init(&whole, SIZE_MAX);
    ref_buf_init(&pieces, SIZE_MAX);

    fuzz_rng_seed(&s_service_rng, 1);
    feed(bytes, NULL, &whole);
    struct fuzz_rng cuts;
    fuzz_rng_seed(&cuts, data[0]);
    fuzz_rng_seed(&s_service_rng, 1);
    feed(bytes, &cuts, &pieces);

    normalise(&whole);
    normalise(&pieces);
    FUZZ_CHECK(whole.len == pieces.len);
    FUZZ_CHECK(whole.len == 0 || memcmp(whole.data, pieces.data, whole.len) == 0);
    ref_buf_cleanup(&whole);
    ref_buf_cleanup(&pieces);
    return 0;
}
