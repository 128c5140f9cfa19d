/* SPDX-License-Identifier: Apache-2.0
 *
 * secret.c - secrets read from files (secret.h).
 */
#include "harness/secret.h"

#include "harness/text.h"

#include "ref/mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ref_status harness_read_secret_file(const char *path, char **out, char *why, size_t why_cap)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        harness_textf(why, why_cap, "cannot read the secret file '%s': %s", path, strerror(errno));
        return REF_E_MALFORMED;
    }
    char buf[HARNESS_MAX_SECRET_FILE_BYTES + 1];
    size_t n = fread(buf, 1, sizeof(buf), f);
    bool is_error = ferror(f) != 0;
    fclose(f);
    enum ref_status rc = REF_E_MALFORMED;
    if (is_error) {
        harness_textf(why, why_cap, "cannot read the secret file '%s'", path);
        goto out;
    }
    if (n > HARNESS_MAX_SECRET_FILE_BYTES) {
        harness_textf(why, why_cap, "the secret file '%s' is larger than %d bytes", path,
                      HARNESS_MAX_SECRET_FILE_BYTES);
        goto out;
    }
    size_t from = 0;
    while (from < n && (buf[from] == ' ' || buf[from] == '\t')) {
        from++;
    }
    size_t to = n;
    while (to > from && (buf[to - 1] == '\n' || buf[to - 1] == '\r' || buf[to - 1] == ' ' ||
                         buf[to - 1] == '\t')) {
        to--;
    }
    for (size_t i = from; i < to; i++) {
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            harness_textf(why, why_cap,
                          "the secret file '%s' holds more than one line, or control bytes", path);
            goto out;
        }
    }
    if (to == from) {
        harness_textf(why, why_cap, "the secret file '%s' is empty", path);
        goto out;
    }
    *out = malloc(to - from + 1);
    if (*out == NULL) {
        harness_textf(why, why_cap, "out of memory");
        rc = REF_E_NOMEM;
        goto out;
    }
    memcpy(*out, buf + from, to - from);
    (*out)[to - from] = '\0';
    rc = REF_OK;
out:
    ref_mem_wipe(buf, sizeof(buf));
    return rc;
}
