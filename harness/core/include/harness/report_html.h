/* SPDX-License-Identifier: Apache-2.0
 *
 * report_html.h - the run as one self-contained HTML page (`etch run --html FILE`).
 *
 * The page needs nothing but itself: inline CSS, no script, no font or image from
 * anywhere. It shows the run's header, the likely root causes, a matrix of areas by
 * scenario coloured by verdict with must and should conformance per area, every
 * non-passing scenario (description, failing step, contract sections, expected against
 * actual, the JSON body with the differing member marked, curl and raw HTTP reproducers)
 * and the skipped scenarios by reason. Every byte that came from the target is escaped:
 * an endpoint is untrusted, and its answers end up in a page people open in a browser.
 */
#ifndef HARNESS_REPORT_HTML_H
#define HARNESS_REPORT_HTML_H

#include "harness/report.h"

/* What the results do not say about the run. */
struct harness_html_run {
    const char *date; /* when the run started, "2026-12-08 01:02:03 UTC"; NULL: not shown */
    double wall_ms;   /* the run's wall time; negative: not known (the sum of the
                       * scenarios' times is shown instead) */
};

/* Writes the page. REF_OK; REF_E_NOMEM when a part of it cannot be built; REF_E_INTERNAL
 * when the stream reports a write error. run may be NULL. */
REF_MUST_CHECK enum ref_status harness_report_html(FILE *out,
                                                   const struct harness_scenario_result *results,
                                                   size_t n,
                                                   const struct harness_report_meta *meta,
                                                   const struct harness_html_run *run);

/* Appends text HTML-escaped: & < > " ' as entities, control bytes other than tab and line
 * ends as \xNN, and bytes that are not valid UTF-8 as \xNN (so the page stays valid). */
REF_MUST_CHECK enum ref_status
harness_html_escape(struct ref_buf *out, const void *text, size_t len);

#endif
