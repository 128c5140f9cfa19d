/* SPDX-License-Identifier: Apache-2.0
 *
 * service_validate.c - parameter shapes and the ValidationException message format.
 *
 * The wording follows the AWS front end: "1 validation error detected: Value 'x' at 'id'
 * failed to satisfy constraint: Member must satisfy regular expression pattern: ^...$",
 * several failures joined with "; " and counted (contract section 4). Shapes are checked
 * by hand; each checker matches exactly its pattern in service_internal.h.
 */
#include "service_internal.h"

#include "ref/limits.h"

#include <stdarg.h>
#include <stdio.h>

/* Messages echo the values; even a huge value cannot push a message past this. */
#define VERR_MAX_BYTES (REF_MAX_RESPONSE_BYTES / 4)

void ref_verr_init(struct ref_verr *v)
{
    ref_buf_init(&v->entries, VERR_MAX_BYTES);
    v->count = 0;
}

void ref_verr_cleanup(struct ref_verr *v)
{
    ref_buf_cleanup(&v->entries);
    v->count = 0;
}

static enum ref_status verr_begin(struct ref_verr *v)
{
    if (v->count > 0) {
        REF_TRY(ref_buf_append_cstr(&v->entries, "; "));
    }
    v->count++;
    return REF_OK;
}

enum ref_status
ref_verr_add(struct ref_verr *v, struct ref_slice value, const char *member, const char *constraint)
{
    REF_TRY(verr_begin(v));
    REF_TRY(ref_buf_append_cstr(&v->entries, "Value '"));
    REF_TRY(ref_buf_append_slice(&v->entries, value));
    REF_TRY(ref_buf_append_cstr(&v->entries, "' at '"));
    REF_TRY(ref_buf_append_cstr(&v->entries, member));
    REF_TRY(ref_buf_append_cstr(&v->entries, "' failed to satisfy constraint: "));
    return ref_buf_append_cstr(&v->entries, constraint);
}

enum ref_status ref_verr_pattern(struct ref_verr *v,
                                 struct ref_slice value,
                                 const char *member,
                                 const char *pattern)
{
    REF_TRY(ref_verr_add(v, value, member, "Member must satisfy regular expression pattern: "));
    return ref_buf_append_cstr(&v->entries, pattern);
}

enum ref_status ref_verr_null(struct ref_verr *v, const char *member)
{
    REF_TRY(verr_begin(v));
    REF_TRY(ref_buf_append_cstr(&v->entries, "Value null at '"));
    REF_TRY(ref_buf_append_cstr(&v->entries, member));
    return ref_buf_append_cstr(&v->entries,
                               "' failed to satisfy constraint: Member must not be null");
}

enum ref_status ref_verr_text(struct ref_verr *v, const char *text)
{
    REF_TRY(verr_begin(v));
    return ref_buf_append_cstr(&v->entries, text);
}

enum ref_status ref_verr_path(struct ref_buf *out, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        return REF_E_TOO_LARGE;
    }
    REF_TRY(ref_buf_append(out, tmp, (size_t)n));
    return ref_buf_nul_terminate(out);
}

enum ref_status ref_verr_message(const struct ref_verr *v, struct ref_buf *out)
{
    REF_TRY(ref_buf_appendf(out, "%zu validation error%s detected: ", v->count,
                            v->count == 1 ? "" : "s"));
    return ref_buf_append_slice(out, ref_buf_slice(&v->entries));
}

/* --- Shapes ------------------------------------------------------------------------- */

static bool is_word(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Java's '.' excludes line terminators; these are the ASCII ones. */
static bool is_dot_char(uint8_t c)
{
    return c != '\n' && c != '\r';
}

bool ref_shape_bucket(struct ref_slice s)
{
    if (s.len < 1 || s.len > 255) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (!is_word(s.ptr[i]) && s.ptr[i] != '.' && s.ptr[i] != '-') {
            return false;
        }
    }
    return true;
}

/* Consumes `lit` from the front of *s. */
static bool eat(struct ref_slice *s, const char *lit)
{
    struct ref_slice l = ref_slice_from_cstr(lit);
    if (!ref_slice_starts_with(*s, l)) {
        return false;
    }
    *s = ref_slice_sub(*s, l.len, s->len);
    return true;
}

/* Consumes exactly n word characters. */
static bool eat_words(struct ref_slice *s, size_t n)
{
    if (s->len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_word(s->ptr[i])) {
            return false;
        }
    }
    *s = ref_slice_sub(*s, n, s->len);
    return true;
}

static bool all_dot_chars(struct ref_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (!is_dot_char(s.ptr[i])) {
            return false;
        }
    }
    return true;
}

bool ref_shape_role(struct ref_slice s)
{
    /* ^arn:aws:iam::\w{12}:role/.+$ */
    return eat(&s, "arn:aws:iam::") && eat_words(&s, 12) && eat(&s, ":role/") && s.len > 0 &&
           all_dot_chars(s);
}

bool ref_shape_sns_topic(struct ref_slice s)
{
    /* (^$)|(^arn:aws:sns:.*:\w{12}:.+$): the greedy ".*" may end at any ':' that is followed
     * by 12 word characters, another ':' and at least one more character. */
    if (s.len == 0) {
        return true;
    }
    if (!eat(&s, "arn:aws:sns:") || !all_dot_chars(s)) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] != ':') {
            continue;
        }
        struct ref_slice rest = ref_slice_sub(s, i + 1, s.len);
        if (eat_words(&rest, 12) && eat(&rest, ":") && rest.len > 0) {
            return true;
        }
    }
    return false;
}

/* The patterns "(^A$)|(^B$)|..." of the model's enumerations: exactly one of `names`. */
static bool is_one_of(struct ref_slice s, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (ref_slice_eq_cstr(s, names[i])) {
            return true;
        }
    }
    return false;
}

bool ref_shape_storage_class(struct ref_slice s)
{
    static const char *const s_names[] = {"ReducedRedundancy", "Standard"};
    return is_one_of(s, s_names, sizeof(s_names) / sizeof(s_names[0]));
}

bool ref_shape_grantee_type(struct ref_slice s)
{
    static const char *const s_names[] = {"Canonical", "Email", "Group"};
    return is_one_of(s, s_names, sizeof(s_names) / sizeof(s_names[0]));
}

bool ref_shape_access_control(struct ref_slice s)
{
    static const char *const s_names[] = {"FullControl", "Read", "ReadAcp", "WriteAcp"};
    return is_one_of(s, s_names, sizeof(s_names) / sizeof(s_names[0]));
}

/* The model's FrameRate: its '.' in "23.97" and "29.97" is unescaped, so it matches any one
 * character but a line terminator, as the service's own matcher does. */
bool ref_shape_frame_rate(struct ref_slice s)
{
    static const char *const s_names[] = {"auto", "10", "15", "24", "25", "30", "50", "60"};
    if (is_one_of(s, s_names, sizeof(s_names) / sizeof(s_names[0]))) {
        return true;
    }
    if (s.len < 5 || !ref_slice_eq_cstr(ref_slice_sub(s, s.len - 2, s.len), "97")) {
        return false;
    }
    struct ref_slice dot = ref_slice_sub(s, 2, s.len - 4);
    return (ref_slice_starts_with(s, REF_SLICE_LIT("23")) ||
            ref_slice_starts_with(s, REF_SLICE_LIT("29"))) &&
           ref_utf8_length(dot) == 1 && all_dot_chars(dot);
}

/* Consumes 1..max ASCII digits (Java's \d without UNICODE_CHARACTER_CLASS). */
static bool eat_digits(struct ref_slice *s, size_t max)
{
    size_t n = 0;
    while (n < s->len && n < max && s->ptr[n] >= '0' && s->ptr[n] <= '9') {
        n++;
    }
    if (n == 0) {
        return false;
    }
    *s = ref_slice_sub(*s, n, s->len);
    return true;
}

bool ref_shape_resolution(struct ref_slice s)
{
    /* (^auto$)|(^\d{1,5}x\d{1,5}$) */
    if (ref_slice_eq_cstr(s, "auto")) {
        return true;
    }
    return eat_digits(&s, 5) && eat(&s, "x") && eat_digits(&s, 5) && s.len == 0;
}

bool ref_shape_aspect_ratio(struct ref_slice s)
{
    static const char *const s_names[] = {"auto", "1:1", "4:3", "3:2", "16:9"};
    return is_one_of(s, s_names, sizeof(s_names) / sizeof(s_names[0]));
}

bool ref_shape_interlaced(struct ref_slice s)
{
    static const char *const s_names[] = {"auto", "true", "false"};
    return is_one_of(s, s_names, sizeof(s_names) / sizeof(s_names[0]));
}

bool ref_shape_container(struct ref_slice s)
{
    static const char *const s_names[] = {
        "auto",    "3gp", "asf", "avi", "divx", "flv", "mkv",  "mov", "mp4", "mpeg", "mpeg-ps",
        "mpeg-ts", "mxf", "ogg", "ts",  "vob",  "wav", "webm", "mp3", "m4a", "aac"};
    return is_one_of(s, s_names, sizeof(s_names) / sizeof(s_names[0]));
}

bool ref_shape_thumbnail_pattern(struct ref_slice s)
{
    /* (^$)|(^.*\{count\}.*$): empty, or "{count}" somewhere in one line. */
    if (s.len == 0) {
        return true;
    }
    struct ref_slice count = REF_SLICE_LIT("{count}");
    if (!all_dot_chars(s)) {
        return false;
    }
    for (size_t i = 0; i + count.len <= s.len; i++) {
        if (ref_slice_starts_with(ref_slice_sub(s, i, s.len), count)) {
            return true;
        }
    }
    return false;
}

bool ref_shape_rotate(struct ref_slice s)
{
    static const char *const s_names[] = {"auto", "0", "90", "180", "270"};
    return is_one_of(s, s_names, sizeof(s_names) / sizeof(s_names[0]));
}

bool ref_shape_float_string(struct ref_slice s)
{
    /* ^\d{1,5}(\.\d{0,5})?$ */
    if (!eat_digits(&s, 5)) {
        return false;
    }
    if (s.len == 0) {
        return true;
    }
    if (!eat(&s, ".")) {
        return false;
    }
    return s.len == 0 || (eat_digits(&s, 5) && s.len == 0);
}

bool ref_shape_playlist_format(struct ref_slice s)
{
    static const char *const s_names[] = {"HLSv3", "HLSv4", "Smooth", "MPEG-DASH"};
    return is_one_of(s, s_names, sizeof(s_names) / sizeof(s_names[0]));
}

bool ref_shape_user_metadata(struct ref_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        bool is_alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!is_alnum && ref_slice_find(REF_SLICE_LIT(" _.:/=+-%@"), c) == 10) {
            return false;
        }
    }
    return true;
}

size_t ref_utf8_length(struct ref_slice s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        /* Count every byte that is not a continuation byte (10xxxxxx). */
        if ((s.ptr[i] & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

/* --- JSON member rules ------------------------------------------------------------- */

enum ref_status
ref_verr_type(struct ref_verr *v, const json_t *value, const char *member_path, const char *type)
{
    struct ref_buf text;
    ref_buf_init(&text, VERR_MAX_BYTES);
    enum ref_status rc = ref_out_dump(value, &text);
    char constraint[64];
    int n = snprintf(constraint, sizeof(constraint), "Member must be of type %s", type);
    if (rc == REF_OK && (n < 0 || (size_t)n >= sizeof(constraint))) {
        rc = REF_E_INTERNAL;
    }
    if (rc == REF_OK) {
        rc = ref_verr_add(v, ref_buf_slice(&text), member_path, constraint);
    }
    ref_buf_cleanup(&text);
    return rc;
}

enum ref_status
ref_verr_check_string(struct ref_verr *v, const json_t *value, const struct ref_string_rule *rule)
{
    if (value == NULL || json_is_null(value)) {
        return rule->required ? ref_verr_null(v, rule->member_path) : REF_OK;
    }
    if (!json_is_string(value)) {
        return ref_verr_type(v, value, rule->member_path, "string");
    }
    struct ref_slice s = ref_slice_make(json_string_value(value), json_string_length(value));
    size_t chars = ref_utf8_length(s);
    if (chars < rule->min_chars) {
        char constraint[80];
        int n = snprintf(constraint, sizeof(constraint),
                         "Member must have length greater than or equal to %zu", rule->min_chars);
        if (n < 0 || (size_t)n >= sizeof(constraint)) {
            return REF_E_INTERNAL;
        }
        return ref_verr_add(v, s, rule->member_path, constraint);
    }
    if (rule->max_chars != 0 && chars > rule->max_chars) {
        char constraint[80];
        int n = snprintf(constraint, sizeof(constraint),
                         "Member must have length less than or equal to %zu", rule->max_chars);
        if (n < 0 || (size_t)n >= sizeof(constraint)) {
            return REF_E_INTERNAL;
        }
        return ref_verr_add(v, s, rule->member_path, constraint);
    }
    if (rule->checker != NULL && !rule->checker(s)) {
        return ref_verr_pattern(v, s, rule->member_path, rule->pattern);
    }
    return REF_OK;
}
