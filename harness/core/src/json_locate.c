/* SPDX-License-Identifier: Apache-2.0
 *
 * json_locate.c - line and column of a JSON path ("steps[2].expect.status") in the text
 * of a scenario file, for the loader's messages.
 *
 * jansson keeps no positions for values, only for syntax errors, yet a message about a
 * wrong key or value is far more useful with a line and column an editor can jump to. So
 * this small scanner walks the text, already known to be valid JSON, along the path,
 * skipping whole values it does not enter.
 */
#include "scenario_internal.h"

#include <string.h>

static size_t skip_ws(const uint8_t *t, size_t n, size_t i)
{
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) {
        i++;
    }
    return i;
}

/* i at the opening quote; returns the index after the closing one. */
static size_t skip_string(const uint8_t *t, size_t n, size_t i)
{
    i++;
    while (i < n && t[i] != '"') {
        i += (t[i] == '\\') ? 2 : 1;
    }
    return i < n ? i + 1 : n;
}

static size_t skip_value(const uint8_t *t, size_t n, size_t i)
{
    i = skip_ws(t, n, i);
    if (i >= n) {
        return n;
    }
    if (t[i] == '"') {
        return skip_string(t, n, i);
    }
    if (t[i] == '{' || t[i] == '[') {
        /* Depth counting is enough: strings are skipped whole, so brackets inside them do
         * not count, and the text is known to be valid JSON. */
        size_t depth = 0;
        while (i < n) {
            if (t[i] == '"') {
                i = skip_string(t, n, i);
                continue;
            }
            if (t[i] == '{' || t[i] == '[') {
                depth++;
            } else if (t[i] == '}' || t[i] == ']') {
                depth--;
                if (depth == 0) {
                    return i + 1;
                }
            }
            i++;
        }
        return n;
    }
    while (i < n && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\n' &&
           t[i] != '\r' && t[i] != '\t') {
        i++;
    }
    return i;
}

/* See scenario_internal.h. */
size_t json_locate(const uint8_t *t, size_t n, const char *path)
{
    size_t cur = skip_ws(t, n, 0);
    size_t best = cur;
    const char *p = path;
    while (*p != '\0') {
        char key[128];
        size_t key_len = 0;
        long index = -1;
        if (*p == '.') {
            p++;
        }
        if (*p == '[' && p[1] == '"') {
            p += 2;
            while (*p != '\0' && *p != '"' && key_len + 1 < sizeof(key)) {
                key[key_len++] = *p++;
            }
            p += (*p == '"') ? 1 : 0;
            p += (*p == ']') ? 1 : 0;
        } else if (*p == '[') {
            p++;
            index = 0;
            while (*p >= '0' && *p <= '9') {
                index = index * 10 + (*p - '0');
                p++;
            }
            p += (*p == ']') ? 1 : 0;
        } else {
            while (*p != '\0' && *p != '.' && *p != '[' && key_len + 1 < sizeof(key)) {
                key[key_len++] = *p++;
            }
        }
        key[key_len] = '\0';
        cur = skip_ws(t, n, cur);
        if (index >= 0) {
            if (cur >= n || t[cur] != '[') {
                return best;
            }
            cur = skip_ws(t, n, cur + 1);
            for (long k = 0; k < index; k++) {
                cur = skip_ws(t, n, skip_value(t, n, cur));
                if (cur >= n || t[cur] != ',') {
                    return best;
                }
                cur = skip_ws(t, n, cur + 1);
            }
            best = cur;
            continue;
        }
        if (cur >= n || t[cur] != '{') {
            return best;
        }
        cur = skip_ws(t, n, cur + 1);
        bool found = false;
        while (cur < n && t[cur] == '"') {
            size_t key_start = cur;
            size_t key_end = skip_string(t, n, cur);
            cur = skip_ws(t, n, key_end);
            cur = skip_ws(t, n, cur + 1); /* ':' */
            if (key_end - key_start - 2 == key_len &&
                memcmp(t + key_start + 1, key, key_len) == 0) {
                best = key_start;
                found = true;
                break;
            }
            cur = skip_ws(t, n, skip_value(t, n, cur));
            if (cur < n && t[cur] == ',') {
                cur = skip_ws(t, n, cur + 1);
            }
        }
        if (!found) {
            return best;
        }
    }
    return best;
}

/* See scenario_internal.h. */
size_t
json_locate_elements(const uint8_t *t, size_t n, const char *path, size_t *offsets, size_t max)
{
    /* json_locate stops at the member's key: the value follows its ':'. */
    size_t cur = json_locate(t, n, path);
    if (cur >= n || t[cur] != '"') {
        return 0;
    }
    cur = skip_ws(t, n, skip_string(t, n, cur));
    if (cur >= n || t[cur] != ':') {
        return 0;
    }
    cur = skip_ws(t, n, cur + 1);
    if (cur >= n || t[cur] != '[') {
        return 0;
    }
    cur = skip_ws(t, n, cur + 1);
    size_t count = 0;
    while (cur < n && t[cur] != ']' && count < max) {
        offsets[count++] = cur;
        cur = skip_ws(t, n, skip_value(t, n, cur));
        if (cur >= n || t[cur] != ',') {
            break;
        }
        cur = skip_ws(t, n, cur + 1);
    }
    return count;
}

void json_offset_to_line_col(const uint8_t *t, size_t n, size_t off, int *line, int *col)
{
    int l = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < off && i < n; i++) {
        if (t[i] == '\n') {
            l++;
            line_start = i + 1;
        }
    }
    *line = l;
    *col = (int)(off - line_start) + 1;
}
