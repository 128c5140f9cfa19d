/* SPDX-License-Identifier: Apache-2.0
 *
 * run_saved_requests.c - the requests of failing steps, saved byte for byte.
 *
 * The folder is made and tried before the run sends anything, as the report files are:
 * a typo in the path costs nothing, and a run's failures never go unsaved for want of a
 * folder. A saved request holds what was sent: the signature, never a secret key. A session
 * token is part of the signed bytes: the contract's temporary test principal's is published
 * and stays, any other (real credentials) is replaced, so the files never hold one; `etch
 * send --resign` puts the environment's back.
 */
#define _POSIX_C_SOURCE 200809L

#include "run_saved_requests.h"

#include "harness/replay.h"

#include "ref/service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Room for a path: DIR, the scenario's and step's file names and the suffix. */
#define SAVED_PATH_BYTES 4096

/* mkdir -p: every folder of path, made when missing. */
static bool make_folders(const char *path, char *why, size_t why_cap)
{
    char part[SAVED_PATH_BYTES];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(part)) {
        snprintf(why, why_cap, "%s", len == 0 ? "an empty path" : "the path is too long");
        return false;
    }
    memcpy(part, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (part[i] != '/' && part[i] != '\0') {
            continue;
        }
        char saved = part[i];
        part[i] = '\0';
        struct stat st;
        if (mkdir(part, 0777) != 0 && errno != EEXIST) {
            snprintf(why, why_cap, "cannot create %s: %s", part, strerror(errno));
            return false;
        }
        if (stat(part, &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(why, why_cap, "%s is not a folder", part);
            return false;
        }
        part[i] = saved;
    }
    return true;
}

bool etch_saved_requests_prepare(const char *cmd, const char *dir)
{
    char why[SAVED_PATH_BYTES + 128];
    if (!make_folders(dir, why, sizeof(why))) {
        fprintf(stderr, "etch %s: --save-requests %s: %s\n", cmd, dir, why);
        return false;
    }
    char probe[SAVED_PATH_BYTES];
    int w = snprintf(probe, sizeof(probe), "%s/.etch-write-check-%ld", dir, (long)getpid());
    int fd = w > 0 && (size_t)w < sizeof(probe)
                 ? open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
                 : -1;
    if (fd < 0) {
        fprintf(stderr, "etch %s: --save-requests %s: cannot write in it: %s\n", cmd, dir,
                strerror(errno));
        return false;
    }
    close(fd);
    unlink(probe);
    return true;
}

static bool write_bytes(const char *path, const struct ref_buf *bytes, char *why, size_t why_cap)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        snprintf(why, why_cap, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    size_t put = bytes->len > 0 ? fwrite(bytes->data, 1, bytes->len, f) : 0;
    bool ok = put == bytes->len;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        snprintf(why, why_cap, "writing %s failed", path);
    }
    return ok;
}

/* The request as sent, but for a session token of real credentials (harness_redact_...). */
static bool write_file(const char *path, const struct ref_buf *bytes, char *why, size_t why_cap)
{
    struct ref_buf kept;
    ref_buf_init(&kept, bytes->len + sizeof(HARNESS_REDACTED_TOKEN) * 8);
    bool redacted = false;
    bool ok =
        harness_redact_session_tokens(ref_buf_slice(bytes), REF_TEST_CRED_TEMPORARY->session_token,
                                      &kept, &redacted) == REF_OK;
    if (!ok) {
        snprintf(why, why_cap, "out of memory for %s", path);
    }
    ok = ok && write_bytes(path, &kept, why, why_cap);
    ref_buf_cleanup(&kept);
    return ok;
}

bool etch_saved_requests_write(const char *cmd,
                               const char *dir,
                               const struct harness_scenario_result *results,
                               size_t n,
                               size_t *written)
{
    *written = 0;
    char path[SAVED_PATH_BYTES];
    char why[SAVED_PATH_BYTES + 128];
    for (size_t i = 0; i < n; i++) {
        const struct harness_scenario_result *r = &results[i];
        for (size_t k = 0; k < r->num_steps; k++) {
            const struct harness_step_result *s = &r->steps[k];
            if (!harness_step_needs_replay(s)) {
                continue;
            }
            for (size_t e = 0; e < s->num_exchanges; e++) {
                if (s->exchanges[e].request.len == 0) {
                    continue; /* nothing was sent */
                }
                bool ok = harness_saved_request_path(dir, r->scenario, s, e, path, sizeof(path));
                if (!ok) {
                    snprintf(why, sizeof(why), "a file name under %s is too long", dir);
                }
                /* The scenario's folder: the file's own path up to its last '/'. */
                char *slash = ok ? strrchr(path, '/') : NULL;
                if (slash != NULL) {
                    *slash = '\0';
                    ok = make_folders(path, why, sizeof(why));
                    *slash = '/';
                }
                ok = ok && write_file(path, &s->exchanges[e].request, why, sizeof(why));
                if (!ok) {
                    fprintf(stderr, "etch %s: --save-requests: %s\n", cmd, why);
                    return false;
                }
                (*written)++;
            }
        }
    }
    return true;
}
