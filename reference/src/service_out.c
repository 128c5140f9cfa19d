/* SPDX-License-Identifier: Apache-2.0
 *
 * service_out.c - what the service sends: job and pipeline JSON, error bodies, and the
 * raw HTTP/1.1 response.
 *
 * Bodies are built with jansson, never by pasting strings, so every body is valid JSON
 * (contract section 4: a client that cannot parse an error body loses its code). Optional
 * members that were not given are left out, never sent as null; the placeholders answers do
 * carry (contract section 1b) are in the stored pipeline and job already (ref_pipeline_spec,
 * ref_job_spec), but for what each answer adds: outputs' Id, Status and Watermarks ([] when
 * none), playlists' Status, and Input, the first of Inputs.
 */
#include "service_internal.h"

#include "ref/limits.h"
#include "ref/service.h"

#include <stdio.h>
#include <string.h>

/* --- JSON helpers ----------------------------------------------------------------------- */

/* How deep ref_out_dump writes by itself; anything deeper (which no stored spec is: the
 * schema bounds every body) goes to jansson's dump. */
#define DUMP_MAX_DEPTH 32

/* jansson's compact form of one value, written here rather than by json_dumpb: jansson
 * 2.14 makes a "%p" key with snprintf and puts it in a hash table for every object and
 * array it enters (its loop check), and ref_out_dump needed the text's size first, so a
 * job's answer was formatted twice with that cost on every level: most of a ReadJob's
 * time. The bytes are jansson's own: members in insertion order, '"' and '\\' and control
 * characters escaped (\b \f \n \r \t, else \u00XX in upper case), everything else as
 * stored (jansson keeps strings valid UTF-8), integers in decimal. A real number, rare in a
 * request body, is dumped by jansson alone (a scalar has no loop check).
 * test_service_out.c checks the two agree. */
/* Whether any of the 8 bytes in w is a control character, '"' or '\\' (the bit tricks
 * of "Bit Twiddling Hacks": a byte below n, a byte equal to c). Strings in answers rarely
 * hold one, so most are scanned 8 bytes a step. */
static bool word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    uint64_t below_space = (w - ones * 0x20) & ~w & highs;
    uint64_t quote = w ^ (ones * '"');
    uint64_t backslash = w ^ (ones * '\\');
    uint64_t is_quote = (quote - ones) & ~quote & highs;
    uint64_t is_backslash = (backslash - ones) & ~backslash & highs;
    return (below_space | is_quote | is_backslash) != 0;
}

static enum ref_status dump_string(const char *text, size_t len, struct ref_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    REF_TRY(ref_buf_reserve(out, len + 2));
    out->data[out->len++] = '"';
    size_t run = 0; /* bytes since the last escape, copied in one go */
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, text + i, sizeof w);
        if (word_needs_escape(w)) {
            break; /* the byte loop below finds which */
        }
    }
    for (; i < len; i++) {
        uint8_t c = (uint8_t)text[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        REF_TRY(ref_buf_append(out, text + run, i - run));
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t esc_len = 2;
        switch (c) {
            case '"':
            case '\\':
                esc[1] = (char)c;
                break;
            case '\b':
                esc[1] = 'b';
                break;
            case '\f':
                esc[1] = 'f';
                break;
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0x0f];
                esc_len = 6;
                break;
        }
        REF_TRY(ref_buf_append(out, esc, esc_len));
        run = i + 1;
    }
    REF_TRY(ref_buf_append(out, text + run, len - run));
    return ref_buf_append_byte(out, '"');
}

static enum ref_status dump_integer(json_int_t v, struct ref_buf *out)
{
    char digits[24];
    size_t n = 0;
    /* Through the unsigned magnitude, so that the most negative value has one too. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag > 0);
    if (v < 0) {
        digits[sizeof digits - 1 - n++] = '-';
    }
    return ref_buf_append(out, digits + sizeof digits - n, n);
}

static enum ref_status dump_jansson(const json_t *value, struct ref_buf *out)
{
    const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    size_t n = json_dumpb(value, NULL, 0, flags);
    if (n == 0) {
        return REF_E_NOMEM;
    }
    REF_TRY(ref_buf_reserve(out, n));
    if (json_dumpb(value, (char *)out->data + out->len, n, flags) != n) {
        return REF_E_INTERNAL;
    }
    out->len += n;
    return REF_OK;
}

static enum ref_status dump_value(const json_t *value, unsigned depth, struct ref_buf *out)
{
    switch (json_typeof(value)) {
        case JSON_OBJECT: {
            if (depth >= DUMP_MAX_DEPTH) {
                return dump_jansson(value, out);
            }
            REF_TRY(ref_buf_append_byte(out, '{'));
            /* jansson's iterator takes a mutable object but only reads it. */
            json_t *object = (json_t *)(uintptr_t)value;
            bool is_first = true;
            for (void *it = json_object_iter(object); it != NULL;
                 it = json_object_iter_next(object, it)) {
                if (!is_first) {
                    REF_TRY(ref_buf_append_byte(out, ','));
                }
                is_first = false;
                REF_TRY(dump_string(json_object_iter_key(it), json_object_iter_key_len(it), out));
                REF_TRY(ref_buf_append_byte(out, ':'));
                REF_TRY(dump_value(json_object_iter_value(it), depth + 1, out));
            }
            return ref_buf_append_byte(out, '}');
        }
        case JSON_ARRAY: {
            if (depth >= DUMP_MAX_DEPTH) {
                return dump_jansson(value, out);
            }
            REF_TRY(ref_buf_append_byte(out, '['));
            for (size_t i = 0; i < json_array_size(value); i++) {
                if (i > 0) {
                    REF_TRY(ref_buf_append_byte(out, ','));
                }
                REF_TRY(dump_value(json_array_get(value, i), depth + 1, out));
            }
            return ref_buf_append_byte(out, ']');
        }
        case JSON_STRING:
            return dump_string(json_string_value(value), json_string_length(value), out);
        case JSON_INTEGER:
            return dump_integer(json_integer_value(value), out);
        case JSON_TRUE:
            return ref_buf_append(out, "true", 4);
        case JSON_FALSE:
            return ref_buf_append(out, "false", 5);
        case JSON_NULL:
            return ref_buf_append(out, "null", 4);
        case JSON_REAL:
        default:
            return dump_jansson(value, out);
    }
}

enum ref_status ref_out_dump(const json_t *value, struct ref_buf *out)
{
    if (value == NULL) {
        return REF_E_NOMEM; /* a builder that ran out of memory: as json_dumpb said */
    }
    size_t mark = out->len;
    enum ref_status rc = dump_value(value, 0, out);
    if (rc != REF_OK) {
        out->len = mark;
    }
    return rc;
}

/* Length of the valid UTF-8 sequence at s[i], or 0 when the byte there starts none
 * (overlong forms, surrogates and code points above U+10FFFF are invalid, as in jansson). */
static size_t utf8_sequence(struct ref_slice s, size_t i)
{
    uint8_t c = s.ptr[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (s.len - i < n) {
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        uint8_t cc = s.ptr[i + k];
        if ((cc & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

/* A JSON string for any bytes: invalid UTF-8 becomes U+FFFD, one per offending byte. */
static json_t *string_for_bytes(struct ref_slice s)
{
    json_t *str = json_stringn((const char *)s.ptr, s.len);
    if (str != NULL) {
        return str;
    }
    struct ref_buf clean;
    ref_buf_init(&clean, s.len * 3 + 1);
    enum ref_status rc = REF_OK;
    for (size_t i = 0; i < s.len && rc == REF_OK;) {
        size_t n = utf8_sequence(s, i);
        if (n == 0) {
            rc = ref_buf_append(&clean, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            rc = ref_buf_append_slice(&clean, ref_slice_sub(s, i, n));
            i += n;
        }
    }
    if (rc == REF_OK && clean.len > 0) {
        str = json_stringn((const char *)clean.data, clean.len);
    } else if (rc == REF_OK) {
        str = json_string("");
    }
    ref_buf_cleanup(&clean);
    return str;
}

/* True when jansson would copy every byte of s into a JSON string as it is: printable
 * ASCII other than '"' and '\\'. */
static bool is_plain_json_text(struct ref_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

enum ref_status ref_out_error_body(struct ref_slice message, struct ref_buf *out)
{
    /* Almost every message is plain text: then the body is written directly, the same
     * bytes the compact dump of {"message": ...} gives, without building a tree. */
    if (is_plain_json_text(message)) {
        static const char head[] = "{\"message\":\"";
        static const char tail[] = "\"}";
        REF_TRY(ref_buf_reserve(out, sizeof head - 1 + message.len + sizeof tail - 1));
        REF_TRY(ref_buf_append(out, head, sizeof head - 1));
        REF_TRY(ref_buf_append_slice(out, message));
        return ref_buf_append(out, tail, sizeof tail - 1);
    }
    json_t *body = json_object();
    if (body == NULL || json_object_set_new(body, "message", string_for_bytes(message)) != 0) {
        json_decref(body);
        return REF_E_NOMEM;
    }
    enum ref_status rc = ref_out_dump(body, out);
    json_decref(body);
    return rc;
}

/* "arn:aws:elastictranscoder:{region}:{account}:{kind}/{id}" as a new JSON string. */
static json_t *arn(const char *region, const char *account_id, const char *kind, const char *id)
{
    struct ref_buf b;
    ref_buf_init(&b, 1024);
    json_t *s = NULL;
    if (ref_buf_appendf(&b, "arn:aws:elastictranscoder:%s:%s:%s/%s", region, account_id, kind,
                        id) == REF_OK) {
        s = json_stringn((const char *)b.data, b.len);
    }
    ref_buf_cleanup(&b);
    return s;
}

/* Puts member `key` of spec into o when present; returns nonzero on failure. The value is
 * the store's own, shared rather than copied: stored specs never change (job_store.h), and
 * an answer only dumps what it holds, so a copy per answer would be an allocation per JSON
 * value for the same bytes. */
static int copy_member(json_t *o, const json_t *spec, const char *key)
{
    json_t *v = json_object_get(spec, key);
    if (v == NULL) {
        return 0;
    }
    return json_object_set(o, key, v);
}

/* Each output's status. The reference runs a job's outputs together (contract 1b allows
 * it), so every output has the job's status, and the roll-up 1b states holds by
 * construction: Submitted and Canceled jobs have every output so, a Progressing job has its
 * outputs Progressing, a Complete job every output Complete, and an output ends in Error
 * exactly when its job does. */
static const char *output_status(enum ref_job_status job_status)
{
    return ref_job_status_name(job_status);
}

/* One output as answered: Id "1", "2", ...; the modelled members given; Watermarks ([] when
 * none); its status. */
static json_t *out_output(json_t *given, size_t index, const char *status)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    char id[24];
    int n = snprintf(id, sizeof(id), "%zu", index + 1);
    int bad = (n < 0 || (size_t)n >= sizeof(id));
    bad |= json_object_set_new(o, "Id", json_string(id));
    const char *key;
    json_t *value;
    json_object_foreach (given, key, value) {
        bad |= json_object_set(o, key, value); /* shared, as copy_member says */
    }
    if (json_object_get(o, "Watermarks") == NULL) {
        bad |= json_object_set_new(o, "Watermarks", json_array());
    }
    bad |= json_object_set_new(o, "Status", json_string(status));
    if (bad != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* One playlist as answered: the members given plus Status, the job's (its outputs run
 * together, so a playlist of them is where they are). */
static json_t *out_playlist(json_t *given, const char *status)
{
    json_t *o = json_object();
    int bad = o == NULL;
    const char *key;
    json_t *value;
    json_object_foreach (given, key, value) {
        bad = bad || json_object_set(o, key, value) != 0; /* shared, as copy_member says */
    }
    bad = bad || json_object_set_new(o, "Status", json_string(status)) != 0;
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ref_out_job(const struct ref_job_info *job, const char *region, const char *account_id)
{
    const char *status = ref_job_status_name(job->status);
    json_t *o = json_object();
    json_t *outputs = json_array();
    json_t *playlists = json_array();
    json_t *timing = json_object();
    int bad = (o == NULL || outputs == NULL || playlists == NULL || timing == NULL);
    if (bad) {
        json_decref(o);
        json_decref(outputs);
        json_decref(playlists);
        json_decref(timing);
        return NULL;
    }
    size_t i;
    json_t *each;
    json_array_foreach (json_object_get(job->spec, "Outputs"), i, each) {
        bad |= json_array_append_new(outputs, out_output(each, i, output_status(job->status)));
    }
    json_array_foreach (json_object_get(job->spec, "Playlists"), i, each) {
        bad |= json_array_append_new(playlists, out_playlist(each, status));
    }
    bad |= json_object_set_new(o, "Id", json_stringn(job->id, REF_ID_LEN));
    bad |= json_object_set_new(o, "Arn", arn(region, account_id, "job", job->id));
    bad |= json_object_set_new(o, "PipelineId", json_stringn(job->pipeline_id, REF_ID_LEN));
    /* Input is the first of Inputs, also when the request sent Inputs (contract 1b). */
    json_t *inputs = json_object_get(job->spec, "Inputs");
    if (json_array_size(inputs) > 0) {
        bad |= json_object_set(o, "Input", json_array_get(inputs, 0));
    }
    bad |= copy_member(o, job->spec, "Inputs");
    if (json_array_size(outputs) > 0) {
        /* The first of Outputs again, the same object twice in one tree. */
        bad |= json_object_set(o, "Output", json_array_get(outputs, 0));
    }
    bad |= json_object_set_new(o, "Outputs", outputs);
    bad |= copy_member(o, job->spec, "OutputKeyPrefix");
    bad |= json_object_set_new(o, "Playlists", playlists);
    bad |= json_object_set_new(o, "Status", json_string(status));
    /* Timing members are numbers in epoch ms (the model), present once they happened. */
    bad |= json_object_set_new(timing, "SubmitTimeMillis", json_integer(job->submit_ms));
    if (job->has_start) {
        bad |= json_object_set_new(timing, "StartTimeMillis", json_integer(job->start_ms));
    }
    if (job->has_finish) {
        bad |= json_object_set_new(timing, "FinishTimeMillis", json_integer(job->finish_ms));
    }
    bad |= json_object_set_new(o, "Timing", timing);
    bad |= copy_member(o, job->spec, "UserMetadata");
    if (bad != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* --- A job's answer, written directly --------------------------------------------------- */

/* ref_out_job's tree costs an allocation and a hash insertion per member before a byte is
 * written; the job answers (ReadJob, CreateJob) are the ones clients send most, so they are
 * written straight from the stored spec instead, the bytes ref_out_dump would give for
 * {"Job": ref_out_job(...)} (test_service_out.c holds the two to each other). */

/* What a job's answer reserves first: room for one with a few outputs. */
#define JOB_ANSWER_FIRST_BYTES 2048

static enum ref_status put_lit(struct ref_buf *out, const char *lit)
{
    return ref_buf_append(out, lit, strlen(lit));
}

/* ,"key": (or "key": when first) */
static enum ref_status put_key(struct ref_buf *out, const char *key, bool is_first)
{
    if (!is_first) {
        REF_TRY(ref_buf_append_byte(out, ','));
    }
    REF_TRY(dump_string(key, strlen(key), out));
    return ref_buf_append_byte(out, ':');
}

static enum ref_status put_member(struct ref_buf *out, const json_t *spec, const char *key)
{
    const json_t *v = json_object_get(spec, key);
    if (v == NULL) {
        return REF_OK;
    }
    REF_TRY(put_key(out, key, false));
    return dump_value(v, 2, out);
}

/* The members of a stored output or playlist object, separated by commas, with one before
 * the first when is_after_member. *count gets how many were written. */
static enum ref_status put_given(struct ref_buf *out,
                                 const json_t *given,
                                 bool is_after_member,
                                 size_t *count,
                                 bool *has_watermarks)
{
    json_t *object = (json_t *)(uintptr_t)given; /* the iterator only reads it */
    *count = 0;
    for (void *it = json_object_iter(object); it != NULL; it = json_object_iter_next(object, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
        if (has_watermarks != NULL && key_len == 10 && memcmp(key, "Watermarks", 10) == 0) {
            *has_watermarks = true;
        }
        if (is_after_member || *count > 0) {
            REF_TRY(ref_buf_append_byte(out, ','));
        }
        (*count)++;
        REF_TRY(dump_string(key, key_len, out));
        REF_TRY(ref_buf_append_byte(out, ':'));
        REF_TRY(dump_value(json_object_iter_value(it), 3, out));
    }
    return REF_OK;
}

/* One output as out_output makes it. */
static enum ref_status
put_output(struct ref_buf *out, const json_t *given, size_t index, const char *status)
{
    REF_TRY(put_lit(out, "{\"Id\":\""));
    REF_TRY(dump_integer((json_int_t)(index + 1), out));
    REF_TRY(ref_buf_append_byte(out, '"'));
    bool has_watermarks = false;
    size_t count = 0;
    REF_TRY(put_given(out, given, true, &count, &has_watermarks));
    if (!has_watermarks) {
        REF_TRY(put_lit(out, ",\"Watermarks\":[]"));
    }
    REF_TRY(put_lit(out, ",\"Status\":"));
    REF_TRY(dump_string(status, strlen(status), out));
    return ref_buf_append_byte(out, '}');
}

static enum ref_status put_job(const struct ref_job_info *job,
                               const char *region,
                               const char *account_id,
                               struct ref_buf *out)
{
    const char *status = ref_job_status_name(job->status);
    REF_TRY(put_lit(out, "{\"Id\":"));
    REF_TRY(dump_string(job->id, REF_ID_LEN, out));
    REF_TRY(put_lit(out, ",\"Arn\":\"arn:aws:elastictranscoder:"));
    /* The region and account are checked names: nothing in them to escape. */
    REF_TRY(put_lit(out, region));
    REF_TRY(ref_buf_append_byte(out, ':'));
    REF_TRY(put_lit(out, account_id));
    REF_TRY(put_lit(out, ":job/"));
    REF_TRY(ref_buf_append(out, job->id, REF_ID_LEN));
    REF_TRY(put_lit(out, "\",\"PipelineId\":"));
    REF_TRY(dump_string(job->pipeline_id, REF_ID_LEN, out));
    const json_t *inputs = json_object_get(job->spec, "Inputs");
    if (json_array_size(inputs) > 0) {
        REF_TRY(put_lit(out, ",\"Input\":"));
        REF_TRY(dump_value(json_array_get(inputs, 0), 2, out));
    }
    REF_TRY(put_member(out, job->spec, "Inputs"));
    const json_t *outputs = json_object_get(job->spec, "Outputs");
    const char *out_status = output_status(job->status);
    if (json_array_size(outputs) > 0) {
        REF_TRY(put_lit(out, ",\"Output\":"));
        REF_TRY(put_output(out, json_array_get(outputs, 0), 0, out_status));
    }
    REF_TRY(put_lit(out, ",\"Outputs\":["));
    for (size_t i = 0; i < json_array_size(outputs); i++) {
        if (i > 0) {
            REF_TRY(ref_buf_append_byte(out, ','));
        }
        REF_TRY(put_output(out, json_array_get(outputs, i), i, out_status));
    }
    REF_TRY(ref_buf_append_byte(out, ']'));
    REF_TRY(put_member(out, job->spec, "OutputKeyPrefix"));
    REF_TRY(put_lit(out, ",\"Playlists\":["));
    const json_t *playlists = json_object_get(job->spec, "Playlists");
    for (size_t i = 0; i < json_array_size(playlists); i++) {
        REF_TRY(put_lit(out, i > 0 ? ",{" : "{"));
        size_t count = 0;
        REF_TRY(put_given(out, json_array_get(playlists, i), false, &count, NULL));
        REF_TRY(put_lit(out, count > 0 ? ",\"Status\":" : "\"Status\":"));
        REF_TRY(dump_string(status, strlen(status), out));
        REF_TRY(ref_buf_append_byte(out, '}'));
    }
    REF_TRY(put_lit(out, "],\"Status\":"));
    REF_TRY(dump_string(status, strlen(status), out));
    REF_TRY(put_lit(out, ",\"Timing\":{\"SubmitTimeMillis\":"));
    REF_TRY(dump_integer(job->submit_ms, out));
    if (job->has_start) {
        REF_TRY(put_lit(out, ",\"StartTimeMillis\":"));
        REF_TRY(dump_integer(job->start_ms, out));
    }
    if (job->has_finish) {
        REF_TRY(put_lit(out, ",\"FinishTimeMillis\":"));
        REF_TRY(dump_integer(job->finish_ms, out));
    }
    REF_TRY(ref_buf_append_byte(out, '}'));
    REF_TRY(put_member(out, job->spec, "UserMetadata"));
    return ref_buf_append_byte(out, '}');
}

enum ref_status ref_out_job_answer(const struct ref_job_info *job,
                                   const char *region,
                                   const char *account_id,
                                   struct ref_buf *out)
{
    size_t mark = out->len;
    /* One allocation for the common answer (a job with one output is about 500 bytes)
     * instead of the buffer doubling its way up from nothing. */
    enum ref_status rc = ref_buf_reserve(out, JOB_ANSWER_FIRST_BYTES);
    if (rc == REF_OK) {
        rc = put_lit(out, "{\"Job\":");
    }
    if (rc == REF_OK) {
        rc = put_job(job, region, account_id, out);
    }
    if (rc == REF_OK) {
        rc = ref_buf_append_byte(out, '}');
    }
    if (rc != REF_OK) {
        out->len = mark;
    }
    return rc;
}

json_t *ref_out_pipeline(const struct ref_pipeline_info *pipeline,
                         const char *region,
                         const char *account_id)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    int bad = json_object_set_new(o, "Id", json_stringn(pipeline->id, REF_ID_LEN));
    bad |= json_object_set_new(o, "Arn", arn(region, account_id, "pipeline", pipeline->id));
    bad |= copy_member(o, pipeline->spec, "Name");
    bad |=
        json_object_set_new(o, "Status", json_string(ref_pipeline_status_name(pipeline->status)));
    static const char *const s_members[] = {"InputBucket",    "OutputBucket",  "Role",
                                            "AwsKmsKeyArn",   "Notifications", "ContentConfig",
                                            "ThumbnailConfig"};
    for (size_t i = 0; i < sizeof(s_members) / sizeof(s_members[0]); i++) {
        bad |= copy_member(o, pipeline->spec, s_members[i]);
    }
    if (bad != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* --- Dates and request Ids ---------------------------------------------------------- */

/* Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2 ? 1 : 0);
}

void ref_out_http_date(int64_t unix_ms, char out[30])
{
    static const char *const s_days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const s_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /* Four-digit years only: clamp to 0000-01-01 .. 9999-12-31. */
    const int64_t min_s = INT64_C(-62167219200);
    const int64_t max_s = INT64_C(253402300799);
    int64_t s = unix_ms >= 0 ? unix_ms / 1000 : -((-unix_ms + 999) / 1000);
    s = s < min_s ? min_s : (s > max_s ? max_s : s);
    int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    int64_t secs = s - days * 86400;
    int64_t year;
    unsigned month;
    unsigned day;
    civil_from_days(days, &year, &month, &day);
    int64_t wd = days % 7;
    if (wd < 0) {
        wd += 7;
    }
    char text[64];
    int n = snprintf(text, sizeof(text), "%s, %02u %s %04d %02d:%02d:%02d GMT", s_days[wd], day,
                     s_months[month - 1], (int)year, (int)(secs / 3600), (int)(secs / 60 % 60),
                     (int)(secs % 60));
    size_t len = n > 0 ? (size_t)n : 0;
    len = len > 29 ? 29 : len;
    for (size_t i = 0; i < len; i++) {
        out[i] = text[i];
    }
    out[len] = '\0';
}

void ref_out_uuid_v4(const uint8_t random16[16], char out[37])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t b[16];
    for (size_t i = 0; i < 16; i++) {
        b[i] = random16[i];
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = digits[b[i] >> 4];
        out[o++] = digits[b[i] & 0x0F];
    }
    out[o] = '\0';
}

/* --- Responses ---------------------------------------------------------------------- */

void ref_response_init(struct ref_response *resp)
{
    *resp = (struct ref_response){.http_status = 0, .status = REF_OK, .op = REF_OP_NONE};
    ref_buf_init(&resp->body, REF_MAX_RESPONSE_BYTES);
}

void ref_response_cleanup(struct ref_response *resp)
{
    ref_buf_cleanup(&resp->body);
}

static const char *reason_phrase(int http_status)
{
    switch (http_status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 414:
            return "URI Too Long";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        default:
            return "Unknown";
    }
}

/* The Date value for unix_ms, from a per-thread memo of the last second formatted: the
 * value changes once a second, and formatting it costs more than the rest of a response. */
static void http_date_memo(int64_t unix_ms, char out[30])
{
    static _Thread_local struct {
        bool is_set;
        int64_t second;
        char text[30];
    } s_memo;
    int64_t second = unix_ms >= 0 ? unix_ms / 1000 : -((-unix_ms + 999) / 1000);
    if (!s_memo.is_set || s_memo.second != second) {
        ref_out_http_date(unix_ms, s_memo.text);
        s_memo.second = second;
        s_memo.is_set = true;
    }
    memcpy(out, s_memo.text, sizeof s_memo.text);
}

/* Decimal digits of v into out (room for 20); returns how many. */
static size_t format_decimal(uint64_t v, char out[20])
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    for (size_t i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}

/* The same response through printf, for a status outside 100..999, which the service never
 * answers with but a caller could set. */
static enum ref_status
write_http_printf(const struct ref_response *resp, int http, const char *date, struct ref_buf *out)
{
    REF_TRY(ref_buf_appendf(out,
                            "HTTP/1.1 %03d %s\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: %zu\r\n"
                            "x-amzn-RequestId: %s\r\n",
                            http, reason_phrase(http), resp->body.len, resp->request_id));
    if (resp->status != REF_OK) {
        REF_TRY(
            ref_buf_appendf(out, "x-amzn-ErrorType: %s\r\n", ref_status_error_type(resp->status)));
    }
    REF_TRY(ref_buf_appendf(out, "Date: %s\r\n%s\r\n", date,
                            resp->is_closing ? "Connection: close\r\n" : ""));
    return ref_buf_append_slice(out, ref_buf_slice(&resp->body));
}

/* strlen within an array of max bytes. */
static size_t bounded_len(const char *s, size_t max)
{
    const char *nul = memchr(s, '\0', max);
    return nul != NULL ? (size_t)(nul - s) : max;
}

struct piece {
    const char *ptr;
    size_t len;
};

#define LIT_PIECE(s)                                                                               \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

enum ref_status ref_response_write_http(const struct ref_response *resp, struct ref_buf *out)
{
    char date[30];
    http_date_memo(resp->date_ms, date);
    int http = resp->http_status != 0 ? resp->http_status : ref_status_http(resp->status);
    if (http < 100 || http > 999) {
        return write_http_printf(resp, http, date, out);
    }
    /* Assembled from pieces with one reservation and plain copies: the bytes printf would
     * write, without parsing format strings for every answer. */
    char code[3] = {(char)('0' + http / 100), (char)('0' + http / 10 % 10),
                    (char)('0' + http % 10)};
    char length[20];
    size_t length_len = format_decimal(resp->body.len, length);
    const char *reason = reason_phrase(http);
    bool is_error = resp->status != REF_OK;
    const char *error_type = is_error ? ref_status_error_type(resp->status) : "";
    const struct piece pieces[] = {
        LIT_PIECE("HTTP/1.1 "),
        {code, sizeof code},
        LIT_PIECE(" "),
        {reason, strlen(reason)},
        LIT_PIECE("\r\nContent-Type: application/json\r\nContent-Length: "),
        {length, length_len},
        LIT_PIECE("\r\nx-amzn-RequestId: "),
        {resp->request_id, bounded_len(resp->request_id, sizeof resp->request_id)},
        {"\r\nx-amzn-ErrorType: ", is_error ? sizeof("\r\nx-amzn-ErrorType: ") - 1 : 0},
        {error_type, strlen(error_type)},
        LIT_PIECE("\r\nDate: "),
        {date, bounded_len(date, sizeof date)},
        {"\r\nConnection: close", resp->is_closing ? sizeof("\r\nConnection: close") - 1 : 0},
        LIT_PIECE("\r\n\r\n"),
        {(const char *)resp->body.data, resp->body.len},
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        total += pieces[i].len;
    }
    REF_TRY(ref_buf_reserve(out, total));
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        if (pieces[i].len > 0) {
            memcpy(out->data + out->len, pieces[i].ptr, pieces[i].len);
            out->len += pieces[i].len;
        }
    }
    return REF_OK;
}
