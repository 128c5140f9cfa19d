/* SPDX-License-Identifier: Apache-2.0
 *
 * report_html.c - the run as one self-contained HTML page: the header, the likely root
 * causes, the matrix of areas by scenario, each non-passing scenario with its reproducers,
 * and the skipped scenarios by reason.
 *
 * The page is built in memory and written at once, so a write error or a part that
 * cannot be built is one status, never half a page reported as written. Everything that
 * is not markup of this file goes through harness_html_escape: scenario texts, and above
 * all every byte the target sent (an endpoint is untrusted). A Content-Security-Policy
 * that allows inline styles only keeps the page inert even if an escape were missed.
 */
#define _POSIX_C_SOURCE 200809L

#include "report_internal.h"

#include "harness/report_groups.h"
#include "harness/report_html.h"

#include "harness/http_response.h"
#include "harness/replay.h"
#include "harness/text.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

#define PAGE_MAX_BYTES   (256u * 1024u * 1024u)
#define RAW_SHOWN_BYTES  4096
#define MARKED_PATHS_MAX 16
#define MARK_PATH_BYTES  (HARNESS_MAX_JSON_PATH_BYTES + HARNESS_CHECK_TEXT_BYTES)
#define SKIP_NAMES_SHOWN 20

/* --- Escaping ---------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence of 2 to 4 bytes at p (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), 0 when there is none. */
static size_t utf8_sequence_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len;
    uint8_t lo = 0x80;
    uint8_t hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

enum ref_status harness_html_escape(struct ref_buf *out, const void *text, size_t len)
{
    const uint8_t *p = text;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        switch (c) {
            case '&':
                REF_TRY(ref_buf_append_cstr(out, "&amp;"));
                continue;
            case '<':
                REF_TRY(ref_buf_append_cstr(out, "&lt;"));
                continue;
            case '>':
                REF_TRY(ref_buf_append_cstr(out, "&gt;"));
                continue;
            case '"':
                REF_TRY(ref_buf_append_cstr(out, "&quot;"));
                continue;
            case '\'':
                REF_TRY(ref_buf_append_cstr(out, "&#39;"));
                continue;
            default:
                break;
        }
        if (c == '\t' || c == '\n' || (c >= 0x20 && c < 0x7f)) {
            REF_TRY(ref_buf_append_byte(out, c));
        } else if (c >= 0x80 && utf8_sequence_len(p + i, len - i) > 0) {
            size_t k = utf8_sequence_len(p + i, len - i);
            REF_TRY(ref_buf_append(out, p + i, k));
            i += k - 1;
        } else {
            REF_TRY(ref_buf_appendf(out, "\\x%02x", c));
        }
    }
    return REF_OK;
}

static enum ref_status esc(struct ref_buf *b, const char *s)
{
    return harness_html_escape(b, s, s != NULL ? strlen(s) : 0);
}

static enum ref_status put(struct ref_buf *b, const char *markup)
{
    return ref_buf_append_cstr(b, markup);
}

/* --- Verdicts and the page's frame ------------------------------------------------- */

/* The CSS class of a verdict; the colours are in PAGE_STYLE. */
static const char *verdict_class(enum harness_verdict v)
{
    switch (v) {
        case HARNESS_VERDICT_PASS:
            return "v-pass";
        case HARNESS_VERDICT_SKIP:
            return "v-skip";
        case HARNESS_VERDICT_DEVIATION:
            return "v-dev";
        case HARNESS_VERDICT_NOT_IMPLEMENTED:
            return "v-ni";
        case HARNESS_VERDICT_FAIL:
            return "v-fail";
        default:
            return "v-error";
    }
}

static bool is_reported(enum harness_verdict v)
{
    return v == HARNESS_VERDICT_FAIL || v == HARNESS_VERDICT_ERROR ||
           v == HARNESS_VERDICT_NOT_IMPLEMENTED || v == HARNESS_VERDICT_DEVIATION;
}

static const char PAGE_STYLE[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0;padding:16px 24px;color:#1b1b1b;"
    "background:#fafafa}"
    "h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 8px;"
    "border-bottom:1px solid #ccc}h3{font-size:15px;margin:0 0 6px}h4{font-size:14px;"
    "margin:12px 0 4px}"
    "dl.run{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0}"
    "dl.run dt{font-weight:600}dl.run dd{margin:0}"
    ".badge{display:inline-block;padding:1px 7px;border-radius:3px;color:#fff;"
    "font-weight:600;font-size:12px}"
    ".v-pass{background:#2e7d32;color:#fff}.v-skip{background:#78909c;color:#fff}"
    ".v-dev{background:#f9a825;color:#1b1b1b}.v-ni{background:#7b1fa2;color:#fff}"
    ".v-fail{background:#c62828;color:#fff}.v-error{background:#4e342e;color:#fff}"
    ".counts span{margin-right:6px}"
    "table{border-collapse:collapse;background:#fff}"
    "td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
    "td.num{white-space:nowrap}"
    "table.matrix td.cells{display:flex;flex-wrap:wrap;gap:3px;border:0}"
    ".cell{display:inline-block;padding:2px 5px;border-radius:2px;font-size:11px;"
    "text-decoration:none;min-width:14px;min-height:14px}"
    ".bar{display:inline-block;width:80px;height:8px;background:#e0e0e0;margin-left:6px}"
    ".bar i{display:block;height:8px;background:#2e7d32}"
    "article{background:#fff;border:1px solid #ddd;border-left:6px solid #c62828;"
    "padding:10px 14px;margin:12px 0}"
    "article.v-dev-box{border-left-color:#f9a825}article.v-ni-box{border-left-color:#7b1fa2}"
    "article.v-error-box{border-left-color:#4e342e}"
    ".desc{margin:0 0 6px;color:#333}.muted{color:#666;font-size:12px}"
    "pre{background:#f4f4f4;border:1px solid #e0e0e0;padding:6px 8px;overflow-x:auto;"
    "white-space:pre-wrap;word-break:break-all;margin:4px 0;font:12px/1.4 monospace}"
    ".diff div{font:12px/1.4 monospace;padding:1px 6px;white-space:pre-wrap;"
    "word-break:break-all}"
    ".diff .del{background:#e6f4ea;color:#1e5631}.diff .ins{background:#fde7e7;"
    "color:#8a1c1c}"
    "mark{background:#ffd54f;color:#000;outline:2px solid #c62828}"
    "ol.causes li{margin:4px 0}ul.plain{margin:2px 0;padding-left:20px}"
    "summary{cursor:pointer;color:#333}";

/* No script, no fetch, no image: the page is inert whatever a target answered. */
static const char PAGE_POLICY[] = "default-src 'none'; style-src 'unsafe-inline'";

/* --- JSON with the differing members marked ---------------------------------------- */

struct marks {
    char paths[MARKED_PATHS_MAX][MARK_PATH_BYTES];
    size_t count;
};

static void marks_of_step(const struct harness_step_result *s, struct marks *m)
{
    m->count = 0;
    for (size_t i = 0; i < s->checks.count && m->count < MARKED_PATHS_MAX; i++) {
        const struct harness_check_result *c = &s->checks.items[i];
        if (!c->held && c->level != HARNESS_LEVEL_INFO &&
            harness_check_member(c, m->paths[m->count], sizeof(m->paths[m->count]), NULL) &&
            m->paths[m->count][0] != '\0') {
            m->count++;
        }
    }
}

static bool is_marked(const struct marks *m, const char *path)
{
    for (size_t i = 0; i < m->count; i++) {
        if (strcmp(m->paths[i], path) == 0) {
            return true;
        }
    }
    return false;
}

static enum ref_status indent(struct ref_buf *b, int depth)
{
    for (int i = 0; i < depth; i++) {
        REF_TRY(put(b, "  "));
    }
    return REF_OK;
}

/* Appends v as JSON text, escaped for the page. */
static enum ref_status json_scalar(struct ref_buf *b, const json_t *v)
{
    char *text = harness_json_dump(v, JSON_ENCODE_ANY);
    if (text == NULL) {
        return REF_E_NOMEM;
    }
    enum ref_status rc = esc(b, text);
    free(text);
    return rc;
}

static enum ref_status json_key(struct ref_buf *b, const char *key)
{
    json_t *k = json_string(key);
    if (k == NULL) {
        return REF_E_NOMEM;
    }
    enum ref_status rc = json_scalar(b, k);
    json_decref(k);
    return rc;
}

static enum ref_status
json_pretty(struct ref_buf *b, json_t *v, const char *path, int depth, const struct marks *m);

/* One member or element: "key": value, inside a <mark> when a broken check is about it. */
static enum ref_status json_member(struct ref_buf *b,
                                   const char *key,
                                   json_t *v,
                                   const char *path,
                                   int depth,
                                   bool is_last,
                                   const struct marks *m)
{
    bool marked = is_marked(m, path);
    REF_TRY(indent(b, depth));
    if (marked) {
        REF_TRY(put(b, "<mark>"));
    }
    if (key != NULL) {
        REF_TRY(json_key(b, key));
        REF_TRY(put(b, ": "));
    }
    REF_TRY(json_pretty(b, v, path, depth, m));
    if (marked) {
        REF_TRY(put(b, "</mark>"));
    }
    return put(b, is_last ? "\n" : ",\n");
}

static enum ref_status
json_pretty(struct ref_buf *b, json_t *v, const char *path, int depth, const struct marks *m)
{
    char sub[MARK_PATH_BYTES];
    if (json_is_object(v) && json_object_size(v) > 0) {
        REF_TRY(put(b, "{\n"));
        size_t i = 0;
        size_t count = json_object_size(v);
        const char *key;
        json_t *member;
        json_object_foreach (v, key, member) {
            harness_textf(sub, sizeof(sub), "%s%s%s", path, path[0] != '\0' ? "." : "", key);
            REF_TRY(json_member(b, key, member, sub, depth + 1, ++i == count, m));
        }
        REF_TRY(indent(b, depth));
        return put(b, "}");
    }
    if (json_is_array(v) && json_array_size(v) > 0) {
        REF_TRY(put(b, "[\n"));
        size_t count = json_array_size(v);
        for (size_t i = 0; i < count; i++) {
            harness_textf(sub, sizeof(sub), "%s[%zu]", path, i);
            REF_TRY(json_member(b, NULL, json_array_get(v, i), sub, depth + 1, i + 1 == count, m));
        }
        REF_TRY(indent(b, depth));
        return put(b, "]");
    }
    return json_scalar(b, v);
}

/* The JSON body the expectations saw: the runner's copy when it changed the answer, else
 * the body of the raw response. NULL when there is none or it is not JSON. */
static json_t *exchange_json(const struct harness_exchange *x)
{
    if (x->observed_body != NULL) {
        return json_loads(x->observed_body, JSON_DECODE_ANY, NULL);
    }
    if (x->response.len == 0) {
        return NULL;
    }
    struct harness_http_response *http = calloc(1, sizeof(*http));
    if (http == NULL) {
        return NULL;
    }
    struct ref_buf body;
    ref_buf_init(&body, HARNESS_MAX_RESPONSE_BODY_BYTES);
    size_t consumed = 0;
    struct ref_parse_error err;
    json_t *v = NULL;
    if (harness_http_parse_response(ref_buf_slice(&x->response), http, &body, &consumed, &err) ==
            REF_OK &&
        http->body.len > 0) {
        v = json_loadb((const char *)http->body.ptr, http->body.len, 0, NULL);
    }
    ref_buf_cleanup(&body);
    free(http);
    return v;
}

/* --- Sections ---------------------------------------------------------------------- */

static enum ref_status badge(struct ref_buf *b, enum harness_verdict v)
{
    return ref_buf_appendf(b, "<span class=\"badge %s\">%s</span>", verdict_class(v),
                           harness_verdict_name(v));
}

static double pct(size_t held, size_t total)
{
    return total == 0 ? 100.0 : 100.0 * (double)held / (double)total;
}

static enum ref_status conformance(struct ref_buf *b, size_t held, size_t total)
{
    return ref_buf_appendf(
        b, "%zu/%zu (%.1f%%)<span class=\"bar\"><i style=\"width:%.0f%%\"></i></span>", held, total,
        pct(held, total), pct(held, total));
}

static enum ref_status section_header(struct ref_buf *b,
                                      const struct harness_scenario_result *results,
                                      size_t n,
                                      const struct harness_report_meta *meta,
                                      const struct harness_html_run *run)
{
    struct harness_summary sum;
    harness_summary_compute(results, n, &sum);
    REF_TRY(put(b, "<header><h1>Conformance report</h1><dl class=\"run\"><dt>tool</dt><dd>"));
    REF_TRY(esc(b, meta != NULL && meta->tool != NULL ? meta->tool : "etch"));
    REF_TRY(put(b, "</dd><dt>target</dt><dd>"));
    REF_TRY(esc(b, meta != NULL && meta->target != NULL ? meta->target : "(unknown)"));
    REF_TRY(put(b, "</dd>"));
    if (run != NULL && run->date != NULL) {
        REF_TRY(put(b, "<dt>date</dt><dd>"));
        REF_TRY(esc(b, run->date));
        REF_TRY(put(b, "</dd>"));
    }
    if (run != NULL && run->wall_ms >= 0) {
        if (run->wall_ms < 1000.0) {
            REF_TRY(ref_buf_appendf(b, "<dt>wall time</dt><dd>%.1f ms</dd>", run->wall_ms));
        } else {
            REF_TRY(ref_buf_appendf(b, "<dt>wall time</dt><dd>%.1f s</dd>", run->wall_ms / 1000.0));
        }
    } else {
        REF_TRY(ref_buf_appendf(b, "<dt>time</dt><dd>%.1f s (the scenarios' times added up)</dd>",
                                sum.duration_ms / 1000.0));
    }
    REF_TRY(ref_buf_appendf(b, "<dt>scenarios</dt><dd class=\"counts\">%zu: ", n));
    for (int v = HARNESS_VERDICT_PASS; v < HARNESS_VERDICT_COUNT; v++) {
        if (sum.by_verdict[v] > 0) {
            REF_TRY(ref_buf_appendf(b, "<span>%zu ", sum.by_verdict[v]));
            REF_TRY(badge(b, (enum harness_verdict)v));
            REF_TRY(put(b, "</span>"));
        }
    }
    REF_TRY(put(b, "</dd><dt>must</dt><dd>"));
    REF_TRY(conformance(b, sum.must_held, sum.must_total));
    REF_TRY(put(b, "</dd><dt>should</dt><dd>"));
    REF_TRY(conformance(b, sum.should_held, sum.should_total));
    return put(b, "</dd></dl></header>\n");
}

static enum ref_status
scenario_link(struct ref_buf *b, const struct harness_scenario_result *results, size_t index)
{
    const struct harness_scenario *sc = results[index].scenario;
    REF_TRY(ref_buf_appendf(b, "<a href=\"#s%zu\">", index));
    REF_TRY(esc(b, sc->area));
    REF_TRY(put(b, "/"));
    REF_TRY(esc(b, sc->name));
    return put(b, "</a>");
}

static enum ref_status section_causes(struct ref_buf *b,
                                      const struct harness_scenario_result *results,
                                      const struct harness_failure_groups *groups)
{
    if (groups->count == 0) {
        return REF_OK;
    }
    REF_TRY(put(b, "<section id=\"causes\"><h2>Likely root causes</h2>"
                   "<p class=\"muted\">Scenarios whose first failing step is the same call "
                   "and broke the same way (Ids and times aside).</p><ol class=\"causes\">"));
    for (size_t i = 0; i < groups->count; i++) {
        const struct harness_failure_group *g = &groups->items[i];
        REF_TRY(put(b, "<li>"));
        REF_TRY(badge(b, g->verdict));
        REF_TRY(ref_buf_appendf(b, " <b>%zu scenario%s</b>: ", g->num_members,
                                g->num_members == 1 ? "" : "s"));
        REF_TRY(esc(b, g->title));
        REF_TRY(put(b, "<br><span class=\"muted\">"));
        for (size_t k = 0; k < g->num_members; k++) {
            REF_TRY(put(b, k > 0 ? ", " : ""));
            REF_TRY(scenario_link(b, results, g->members[k]));
        }
        REF_TRY(put(b, "</span></li>"));
    }
    return put(b, "</ol></section>\n");
}

/* A result made by hand (a run that stopped before its first scenario) may have no area. */
static const char *area_of(const struct harness_scenario_result *r)
{
    return r->scenario->area != NULL ? r->scenario->area : "";
}

static enum ref_status
section_matrix(struct ref_buf *b, const struct harness_scenario_result *results, size_t n)
{
    REF_TRY(put(b, "<section id=\"matrix\"><h2>Areas</h2><table class=\"matrix\"><thead><tr>"
                   "<th>area</th><th>must</th><th>should</th><th>scenarios</th></tr></thead>"
                   "<tbody>"));
    for (size_t i = 0; i < n; i++) {
        const char *area = area_of(&results[i]);
        bool is_first = true;
        for (size_t j = 0; j < i && is_first; j++) {
            is_first = strcmp(area_of(&results[j]), area) != 0;
        }
        if (!is_first) {
            continue; /* the area's row was written with its first scenario */
        }
        size_t must_held = 0, must_total = 0, should_held = 0, should_total = 0;
        for (size_t j = i; j < n; j++) {
            if (strcmp(area_of(&results[j]), area) == 0) {
                must_held += results[j].must_held;
                must_total += results[j].must_total;
                should_held += results[j].should_held;
                should_total += results[j].should_total;
            }
        }
        REF_TRY(put(b, "<tr><th>"));
        REF_TRY(esc(b, area[0] != '\0' ? area : "(none)"));
        REF_TRY(put(b, "</th><td class=\"num\">"));
        REF_TRY(conformance(b, must_held, must_total));
        REF_TRY(put(b, "</td><td class=\"num\">"));
        REF_TRY(conformance(b, should_held, should_total));
        REF_TRY(put(b, "</td><td class=\"cells\">"));
        for (size_t j = i; j < n; j++) {
            const struct harness_scenario_result *r = &results[j];
            if (strcmp(area_of(r), area) != 0) {
                continue;
            }
            if (is_reported(r->verdict)) {
                REF_TRY(ref_buf_appendf(b, "<a class=\"cell %s\" href=\"#s%zu\" title=\"",
                                        verdict_class(r->verdict), j));
            } else {
                REF_TRY(ref_buf_appendf(b, "<span class=\"cell %s\" title=\"",
                                        verdict_class(r->verdict)));
            }
            REF_TRY(esc(b, r->scenario->name));
            REF_TRY(ref_buf_appendf(b, ": %s\">", harness_verdict_name(r->verdict)));
            REF_TRY(esc(b, r->scenario->name));
            REF_TRY(put(b, is_reported(r->verdict) ? "</a>" : "</span>"));
        }
        REF_TRY(put(b, "</td></tr>"));
    }
    return put(b, "</tbody></table></section>\n");
}

/* What a broken check found. A body or paths check's actual text is the matcher's words,
 * "[Member: ]expected X, found Y": the diff shows Y, since X is on the line above. */
static const char *found_part(const struct harness_check_result *c)
{
    char member[MARK_PATH_BYTES];
    const char *detail = NULL;
    if (!harness_check_member(c, member, sizeof(member), &detail) ||
        strncmp(detail, "expected ", 9) != 0) {
        return c->actual;
    }
    /* The last ", found ": what was expected may itself contain the words. */
    const char *found = NULL;
    for (const char *p = strstr(detail, ", found "); p != NULL; p = strstr(p + 1, ", found ")) {
        found = p;
    }
    return found != NULL ? found + 8 : c->actual;
}

/* The step's broken checks, each with the contract sections its expectation rests on and
 * expected against actual. */
static enum ref_status broken_checks(struct ref_buf *b, const struct harness_step_result *s)
{
    bool header = false;
    for (size_t i = 0; i < s->checks.count; i++) {
        const struct harness_check_result *c = &s->checks.items[i];
        if (c->held) {
            continue;
        }
        if (!header) {
            REF_TRY(put(b, "<table class=\"checks\"><tr><th>check</th><th>level</th>"
                           "<th>source</th><th>contract</th><th>expected / actual</th></tr>"));
            header = true;
        }
        REF_TRY(put(b, "<tr><td>"));
        REF_TRY(esc(b, c->what));
        REF_TRY(ref_buf_appendf(b, "</td><td>%s</td><td>%s</td><td>", harness_level_name(c->level),
                                harness_source_name(c->source)));
        if (c->contract != NULL) {
            REF_TRY(put(b, "section "));
            REF_TRY(esc(b, c->contract));
        }
        REF_TRY(put(b, "</td><td><div class=\"diff\"><div class=\"del\">- expected "));
        REF_TRY(esc(b, c->expected));
        REF_TRY(put(b, "</div><div class=\"ins\">+ actual&nbsp;&nbsp; "));
        REF_TRY(esc(b, found_part(c)));
        REF_TRY(put(b, "</div></div>"));
        if (c->note != NULL) {
            REF_TRY(put(b, "<span class=\"muted\">note: "));
            REF_TRY(esc(b, c->note));
            REF_TRY(put(b, "</span>"));
        }
        REF_TRY(put(b, "</td></tr>"));
    }
    return header ? put(b, "</table>") : REF_OK;
}

/* The request and answer of the index-th exchange of a step: where the run saved the
 * request, the reproducer (curl, or what replays it byte for byte), the raw request, the
 * JSON body with the broken members marked, the raw answer. */
static enum ref_status exchange_block(struct ref_buf *b,
                                      const struct harness_scenario_result *r,
                                      const struct harness_step_result *s,
                                      size_t index,
                                      const struct harness_report_meta *meta,
                                      const struct marks *m)
{
    const struct harness_exchange *x = &s->exchanges[index];
    const char *label = x->label != NULL ? x->label : "";
    const char *gap = label[0] != '\0' ? " " : "";
    char saved[4096];
    const char *saved_path = NULL;
    if (x->request.len > 0 && meta != NULL && meta->saved_requests_dir != NULL &&
        harness_saved_request_path(meta->saved_requests_dir, r->scenario, s, index, saved,
                                   sizeof(saved))) {
        saved_path = saved;
        REF_TRY(ref_buf_appendf(b, "<p class=\"muted\">request%s", gap));
        REF_TRY(esc(b, label));
        REF_TRY(put(b, " saved as <code>"));
        REF_TRY(esc(b, saved));
        REF_TRY(put(b, "</code> (<code>etch send --endpoint URL FILE</code> sends it byte for "
                       "byte, <code>etch handle FILE</code> answers it as the reference)</p>"));
    }
    struct ref_buf text;
    ref_buf_init(&text, PAGE_MAX_BYTES);
    enum ref_status rc = REF_OK;
    if (x->request.len > 0) {
        REF_TRY(ref_buf_appendf(b, "<h4>request%s", gap));
        REF_TRY(esc(b, label));
        REF_TRY(put(b, " (reproducer)</h4><pre class=\"curl\">"));
        rc = harness_step_reproducer(x, meta, saved_path, &text);
        if (rc == REF_OK) {
            rc = harness_html_escape(b, text.data, text.len);
        }
        ref_buf_reset(&text);
        if (rc == REF_OK) {
            rc = ref_buf_appendf(b, "</pre><details><summary>request%s", gap);
        }
        if (rc == REF_OK && (rc = esc(b, label)) == REF_OK &&
            (rc = put(b, " (raw HTTP)</summary><pre>")) == REF_OK &&
            (rc = harness_raw_printable(ref_buf_slice(&x->request), RAW_SHOWN_BYTES, "", &text)) ==
                REF_OK &&
            (rc = harness_html_escape(b, text.data, text.len)) == REF_OK) {
            rc = put(b, "</pre></details>");
        }
        ref_buf_reset(&text);
    }
    json_t *body = rc == REF_OK ? exchange_json(x) : NULL;
    if (body != NULL) {
        rc = ref_buf_appendf(b, "<h4>answer%s", gap);
        if (rc == REF_OK && (rc = esc(b, label)) == REF_OK &&
            (rc = ref_buf_appendf(b, " (%d, JSON body as checked)</h4><pre class=\"json\">",
                                  x->http_status)) == REF_OK &&
            (rc = json_pretty(b, body, "", 0, m)) == REF_OK) {
            rc = put(b, "</pre>");
        }
        json_decref(body);
    }
    if (rc == REF_OK && x->response.len > 0) {
        rc = ref_buf_appendf(b, "<details><summary>answer%s", gap);
        if (rc == REF_OK && (rc = esc(b, label)) == REF_OK &&
            (rc = put(b, " (raw HTTP)</summary><pre>")) == REF_OK &&
            (rc = harness_raw_printable(ref_buf_slice(&x->response), RAW_SHOWN_BYTES, "", &text)) ==
                REF_OK &&
            (rc = harness_html_escape(b, text.data, text.len)) == REF_OK) {
            rc = put(b, "</pre></details>");
        }
    } else if (rc == REF_OK && x->is_closed) {
        rc = put(b, "<p class=\"muted\">the endpoint closed the connection without answering</p>");
    }
    ref_buf_cleanup(&text);
    return rc;
}

static enum ref_status step_block(struct ref_buf *b,
                                  const struct harness_scenario_result *r,
                                  const struct harness_step_result *s,
                                  const struct harness_report_meta *meta)
{
    const struct harness_step *step = s->step;
    REF_TRY(put(b, "<div class=\"step\"><h4>"));
    REF_TRY(badge(b, s->verdict));
    REF_TRY(ref_buf_appendf(b, " step %zu '", step->index + 1));
    REF_TRY(esc(b, step->name));
    REF_TRY(put(b, "' ("));
    REF_TRY(esc(b, harness_step_what(step)));
    REF_TRY(put(b, ")"));
    if (step->json_path[0] != '\0') {
        REF_TRY(put(b, " at "));
        REF_TRY(esc(b, step->json_path));
    }
    REF_TRY(put(b, "</h4>"));
    if (step->note != NULL) {
        REF_TRY(put(b, "<p class=\"muted\">note: "));
        REF_TRY(esc(b, step->note));
        REF_TRY(put(b, "</p>"));
    }
    if (s->reason[0] != '\0') {
        REF_TRY(put(b, "<p>"));
        REF_TRY(esc(b, s->reason));
        REF_TRY(put(b, "</p>"));
    }
    if (s->polls > 0) {
        REF_TRY(ref_buf_appendf(b, "<p class=\"muted\">polls: %u</p>", s->polls));
    }
    REF_TRY(broken_checks(b, s));
    struct marks *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return REF_E_NOMEM;
    }
    marks_of_step(s, m);
    enum ref_status rc = REF_OK;
    for (size_t i = 0; i < s->num_exchanges && rc == REF_OK; i++) {
        rc = exchange_block(b, r, s, i, meta, m);
    }
    free(m);
    REF_TRY(rc);
    return put(b, "</div>");
}

static enum ref_status section_failures(struct ref_buf *b,
                                        const struct harness_scenario_result *results,
                                        size_t n,
                                        const struct harness_report_meta *meta)
{
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        if (!is_reported(r->verdict)) {
            continue;
        }
        if (!header) {
            REF_TRY(put(b, "<section id=\"failures\"><h2>Scenarios that did not pass</h2>"));
            header = true;
        }
        REF_TRY(ref_buf_appendf(b, "<article id=\"s%zu\" class=\"scenario %s-box\"><h3>", i,
                                verdict_class(r->verdict)));
        REF_TRY(badge(b, r->verdict));
        REF_TRY(put(b, " "));
        REF_TRY(esc(b, r->scenario->area));
        REF_TRY(put(b, "/"));
        REF_TRY(esc(b, r->scenario->name));
        REF_TRY(put(b, "</h3><p class=\"desc\">"));
        REF_TRY(esc(b, r->scenario->description));
        REF_TRY(put(b, "</p><p class=\"muted\">"));
        REF_TRY(esc(b, r->scenario->display_path));
        REF_TRY(ref_buf_appendf(
            b, " &middot; must %zu/%zu &middot; should %zu/%zu &middot; %.1f ms", r->must_held,
            r->must_total, r->should_held, r->should_total, r->duration_ms));
        if (r->name_suffix[0] != '\0') {
            REF_TRY(put(b, " &middot; pipeline names end in "));
            REF_TRY(esc(b, r->name_suffix));
        }
        REF_TRY(put(b, "</p>"));
        for (size_t k = 0; k < r->num_steps; k++) {
            if (is_reported(r->steps[k].verdict)) {
                REF_TRY(step_block(b, r, &r->steps[k], meta));
            }
        }
        REF_TRY(put(b, "</article>\n"));
    }
    return header ? put(b, "</section>\n") : REF_OK;
}

static enum ref_status
section_skips(struct ref_buf *b, const struct harness_scenario_result *results, size_t n)
{
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        size_t count = 0;
        const char *reason = report_skip_group(results, n, i, &count);
        if (reason == NULL) {
            continue;
        }
        if (!header) {
            REF_TRY(put(b, "<section id=\"skips\"><h2>Skipped, by reason</h2><ul>"));
            header = true;
        }
        REF_TRY(put(b, "<li>"));
        REF_TRY(esc(b, reason));
        REF_TRY(ref_buf_appendf(b, ": %zu scenario%s<br><span class=\"muted\">", count,
                                count == 1 ? "" : "s"));
        size_t shown = 0;
        for (size_t j = i; j < n && shown < SKIP_NAMES_SHOWN; j++) {
            if (report_is_skipped_for(&results[j], reason)) {
                REF_TRY(put(b, shown > 0 ? ", " : ""));
                REF_TRY(esc(b, results[j].scenario->area));
                REF_TRY(put(b, "/"));
                REF_TRY(esc(b, results[j].scenario->name));
                shown++;
            }
        }
        if (count > shown) {
            REF_TRY(ref_buf_appendf(b, " and %zu more", count - shown));
        }
        REF_TRY(put(b, "</span></li>"));
    }
    return header ? put(b, "</ul></section>\n") : REF_OK;
}

static enum ref_status build_page(struct ref_buf *b,
                                  const struct harness_scenario_result *results,
                                  size_t n,
                                  const struct harness_report_meta *meta,
                                  const struct harness_html_run *run,
                                  const struct harness_failure_groups *groups)
{
    struct harness_summary sum;
    harness_summary_compute(results, n, &sum);
    REF_TRY(put(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\""));
    REF_TRY(put(b, PAGE_POLICY));
    REF_TRY(ref_buf_appendf(
        b, "\"><title>etch: %zu of %zu scenarios failed</title><style>",
        sum.by_verdict[HARNESS_VERDICT_FAIL] + sum.by_verdict[HARNESS_VERDICT_ERROR], n));
    REF_TRY(put(b, PAGE_STYLE));
    REF_TRY(put(b, "</style></head><body>\n"));
    REF_TRY(section_header(b, results, n, meta, run));
    REF_TRY(section_causes(b, results, groups));
    REF_TRY(section_matrix(b, results, n));
    REF_TRY(section_failures(b, results, n, meta));
    REF_TRY(section_skips(b, results, n));
    return put(b, "</body></html>\n");
}

enum ref_status harness_report_html(FILE *out,
                                    const struct harness_scenario_result *results,
                                    size_t n,
                                    const struct harness_report_meta *meta,
                                    const struct harness_html_run *run)
{
    struct harness_failure_groups groups;
    REF_TRY(harness_failure_groups_build(results, n, &groups));
    struct ref_buf page;
    ref_buf_init(&page, PAGE_MAX_BYTES);
    enum ref_status rc = build_page(&page, results, n, meta, run, &groups);
    harness_failure_groups_cleanup(&groups);
    if (rc == REF_OK && fwrite(page.data, 1, page.len, out) != page.len) {
        rc = REF_E_INTERNAL;
    }
    ref_buf_cleanup(&page);
    if (rc == REF_OK && (fflush(out) != 0 || ferror(out))) {
        rc = REF_E_INTERNAL;
    }
    return rc;
}
