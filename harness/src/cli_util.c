/* SPDX-License-Identifier: Apache-2.0
 *
 * cli_util.c - input reading, clock options and output checks for the etch subcommands.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_util.h"

#include "ref/sigv4.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool etch_read_input(const char *path, struct ref_buf *out, const char *command)
{
    bool is_stdin = path == NULL || strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open '%s': %s\n", command, path, strerror(errno));
        return false;
    }
    bool ok = true;
    uint8_t chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (ref_buf_append(out, chunk, n) != REF_OK) {
            fprintf(stderr,
                    "%s: '%s' is larger than the %zu-byte limit\n",
                    command,
                    is_stdin ? "<stdin>" : path,
                    out->max);
            ok = false;
            break;
        }
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "%s: cannot read '%s'\n", command, is_stdin ? "<stdin>" : path);
        ok = false;
    }
    if (!is_stdin) {
        fclose(f);
    }
    return ok;
}

bool etch_parse_now(const char *text, int64_t *now_ms, const char *command)
{
    int64_t now_s = 0;
    struct ref_parse_error err = {0};
    if (ref_sigv4_parse_amz_date(ref_slice_from_cstr(text), &now_s, &err) != REF_OK) {
        fprintf(stderr,
                "%s: --now '%s' is not a time of the form YYYYMMDDTHHMMSSZ (%s)\n",
                command,
                text,
                err.reason ? err.reason : "invalid");
        return false;
    }
    *now_ms = now_s * 1000;
    return true;
}

int64_t etch_real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t etch_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool etch_check_writable(const char *command, const char *what, const char *path)
{
    if (path == NULL) {
        return true;
    }
    struct stat st;
    bool existed = stat(path, &st) == 0;
    if (existed && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "etch %s: cannot write the %s to %s: it is a directory\n", command, what,
                path);
        return false;
    }
    if (existed && !S_ISREG(st.st_mode)) {
        return true; /* a pipe or a device: opening it could block; the write will tell */
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "etch %s: cannot write the %s to %s: %s\n", command, what, path,
                strerror(errno));
        return false;
    }
    close(fd);
    if (!existed) {
        unlink(path);
    }
    return true;
}
