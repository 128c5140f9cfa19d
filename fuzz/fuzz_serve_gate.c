/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_serve_gate.c - the decision of `etch serve`'s gate: wait for more of a new
 * connection's first request, hand the connection to libmicrohttpd, or refuse it.
 *
 * Target function: serve_gate_judge (harness/src/serve_gate.c, compiled into this target
 * since it belongs to the etch executable and no library; its thread is never started),
 * held against the two parsers it is built on, ref_http_parse_head and
 * ref_http_parse_request_prefix.
 *
 * Input: one flags byte, then the bytes that have arrived on the connection, cut to
 * SERVE_GATE_WINDOW_BYTES as the gate's peek cuts them. Flags: bit 0 is_input_closed (the
 * client will send nothing more), bit 1 is_body_wait_over (a chunked body has had its
 * time); the other bits are ignored. No clock and no random source: the judge uses neither.
 *
 * Invariants (abort() on violation):
 * - the verdict is WAIT, HAND_OFF or REFUSE;
 * - WAIT only while more can still arrive: the input is open and the window is not full;
 * - WAIT only for bytes the strict parser calls incomplete: more input cannot mend a fault;
 * - *is_waiting_for_body is true with WAIT only (whatever it held before the call), and
 *   only after a head the strict parser accepts, with a chunked body;
 * - HAND_OFF only when the strict parser accepts the head: libmicrohttpd never gets a
 *   head the reference would have answered with an error;
 * - REFUSE only when the strict parser does not accept the bytes as a request (followed
 *   by anything): the gate never answers a request the reference would have served;
 * - a head refused for anything but being incomplete is refused, whatever the flags say:
 *   more input cannot mend it;
 * - the same arguments give the same verdict and flag again, and a NULL flag pointer
 *   gives the same verdict.
 */
#include "common.h"
#include "serve_gate.h"

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/limits.h"

#define FLAG_INPUT_CLOSED   0x01u
#define FLAG_BODY_WAIT_OVER 0x02u

/* What ref_http_parse_request_prefix says of the bytes, with a body buffer as large as
 * the gate's, so that a chunked body meets the same limit in both. */
static enum ref_status parse_prefix(struct ref_slice arrived)
{
    /* A parsed request is large (REF_MAX_HEADERS headers); keep it off the stack. */
    static struct ref_http_request req;
    struct ref_buf decoded;
    ref_buf_init(&decoded, REF_MAX_BODY_BYTES);
    size_t consumed = 0;
    enum ref_status rc = ref_http_parse_request_prefix(arrived, &req, &decoded, &consumed, NULL);
    ref_buf_cleanup(&decoded);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ref_http_request head;
    if (size == 0) {
        return 0; /* no flags byte: not an input of this target */
    }
    bool is_input_closed = (data[0] & FLAG_INPUT_CLOSED) != 0;
    bool is_body_wait_over = (data[0] & FLAG_BODY_WAIT_OVER) != 0;
    size_t len = size - 1;
    if (len > SERVE_GATE_WINDOW_BYTES) {
        len = SERVE_GATE_WINDOW_BYTES;
    }
    struct ref_slice arrived = ref_slice_make(data + 1, len);

    /* Start from true: the judge must clear a flag left over from an earlier look. */
    bool is_waiting_for_body = true;
    enum serve_gate_verdict verdict =
        serve_gate_judge(arrived, is_input_closed, is_body_wait_over, &is_waiting_for_body);
    FUZZ_CHECK(verdict == SERVE_GATE_WAIT || verdict == SERVE_GATE_HAND_OFF ||
               verdict == SERVE_GATE_REFUSE);

    if (verdict == SERVE_GATE_WAIT) {
        /* Waiting on a closed input or a full window would wait until the idle timeout. */
        FUZZ_CHECK(!is_input_closed);
        FUZZ_CHECK(arrived.len < SERVE_GATE_WINDOW_BYTES);
    } else {
        FUZZ_CHECK(!is_waiting_for_body);
    }

    size_t head_len = 0;
    enum ref_status head_rc = ref_http_parse_head(arrived, &head, &head_len, NULL);
    if (verdict == SERVE_GATE_HAND_OFF) {
        FUZZ_CHECK(head_rc == REF_OK);
    }
    if (head_rc != REF_OK && head_rc != REF_E_INCOMPLETE) {
        FUZZ_CHECK(verdict == SERVE_GATE_REFUSE);
    }
    if (is_waiting_for_body) {
        FUZZ_CHECK(head_rc == REF_OK && head.is_chunked);
    }
    if (verdict == SERVE_GATE_WAIT) {
        FUZZ_CHECK(parse_prefix(arrived) == REF_E_INCOMPLETE);
    }
    if (verdict == SERVE_GATE_REFUSE) {
        FUZZ_CHECK(parse_prefix(arrived) != REF_OK);
    }

    /* The opposite start value, so that an equal flag was really written again. */
    bool is_waiting_again = !is_waiting_for_body;
    FUZZ_CHECK(serve_gate_judge(arrived, is_input_closed, is_body_wait_over, &is_waiting_again) ==
               verdict);
    FUZZ_CHECK(is_waiting_again == is_waiting_for_body);
    FUZZ_CHECK(serve_gate_judge(arrived, is_input_closed, is_body_wait_over, NULL) == verdict);
    return 0;
}
