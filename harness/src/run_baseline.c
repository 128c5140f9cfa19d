/* SPDX-License-Identifier: Apache-2.0
 *
 * run_baseline.c - `etch run --baseline FILE` and `--write-baseline FILE` (see
 * run_baseline.h), on top of harness/baseline.h.
 *
 * The written baseline replaces the file in one rename, so a run interrupted half-way,
 * or a disk that fills, never leaves a truncated baseline that would then expect less
 * than it should.
 */
#define _POSIX_C_SOURCE 200809L

#include "run_baseline.h"

#include "suite_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum etch_option_result
etch_baseline_option(int argc, char **argv, int *i, const char *cmd, struct etch_baseline_args *b)
{
    const char *a = argv[*i];
    const char **slot = strcmp(a, "--baseline") == 0         ? &b->path
                        : strcmp(a, "--write-baseline") == 0 ? &b->write_path
                                                             : NULL;
    if (slot == NULL) {
        return ETCH_OPTION_NOT_MINE;
    }
    if (etch_missing_value(argc, argv, *i, cmd)) {
        return ETCH_OPTION_BAD;
    }
    if (*slot != NULL) {
        fprintf(stderr, "etch %s: %s is given twice\n", cmd, a);
        return ETCH_OPTION_BAD;
    }
    *slot = argv[++*i];
    return ETCH_OPTION_TAKEN;
}

/* Creates the temporary file beside path that will be renamed over it. */
static bool create_pending(const char *cmd, struct etch_baseline_args *b)
{
    struct stat st;
    if (stat(b->write_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "etch %s: cannot write the baseline to %s: it is a folder\n", cmd,
                b->write_path);
        return false;
    }
    static const char suffix[] = ".tmp-XXXXXX";
    size_t n = strlen(b->write_path);
    b->pending_path = malloc(n + sizeof(suffix));
    if (b->pending_path == NULL) {
        fprintf(stderr, "etch %s: out of memory\n", cmd);
        return false;
    }
    memcpy(b->pending_path, b->write_path, n);
    memcpy(b->pending_path + n, suffix, sizeof(suffix));
    int fd = mkstemp(b->pending_path);
    /* mkstemp makes it private; a baseline is shared, like the rest of a repository. */
    if (fd >= 0) {
        (void)fchmod(fd, 0644);
    }
    if (fd < 0 || (b->pending = fdopen(fd, "w")) == NULL) {
        fprintf(stderr, "etch %s: cannot write the baseline to %s: %s\n", cmd, b->write_path,
                strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(b->pending_path);
        }
        free(b->pending_path);
        b->pending_path = NULL;
        return false;
    }
    return true;
}

bool etch_baseline_open(const char *cmd,
                        struct etch_baseline_args *b,
                        const struct harness_suite *suite)
{
    if (b->path != NULL) {
        struct harness_load_error err;
        enum ref_status rc = harness_baseline_load_file(b->path, &b->baseline, &err);
        if (rc == REF_OK) {
            rc = harness_baseline_resolve(&b->baseline, suite, b->path, &err);
        }
        if (rc != REF_OK) {
            char text[ETCH_LOAD_MESSAGE_BYTES];
            harness_load_error_format(&err, text, sizeof(text));
            fprintf(stderr, "etch %s: baseline %s\n", cmd, text);
            return false;
        }
    }
    return b->write_path == NULL || create_pending(cmd, b);
}

bool etch_baseline_compare(const char *cmd,
                           struct etch_baseline_args *b,
                           struct harness_scenario_result *results,
                           size_t n,
                           bool strict,
                           bool allow_unimplemented)
{
    if (b->path == NULL) {
        return true;
    }
    struct harness_failing_verdicts how = {strict, allow_unimplemented};
    if (harness_baseline_compare(&b->baseline, results, n, &how, &b->comparison) != REF_OK) {
        fprintf(stderr, "etch %s: out of memory comparing with the baseline\n", cmd);
        return false;
    }
    b->is_compared = true;
    return true;
}

void etch_baseline_report(FILE *out,
                          const struct etch_baseline_args *b,
                          const struct harness_scenario_result *results,
                          size_t n,
                          bool strict,
                          bool allow_unimplemented,
                          bool *failed)
{
    if (!b->is_compared) {
        return;
    }
    struct harness_failing_verdicts how = {strict, allow_unimplemented};
    harness_baseline_print(out, &b->baseline, results, n, &how, &b->comparison);
    *failed = b->comparison.new_failures > 0 || b->comparison.unexpected_passes > 0;
}

bool etch_baseline_write(const char *cmd,
                         struct etch_baseline_args *b,
                         const struct harness_scenario_result *results,
                         size_t n,
                         bool is_complete)
{
    if (b->pending == NULL) {
        return true;
    }
    if (!is_complete) {
        fprintf(stderr, "etch %s: the run was interrupted: no baseline written to %s\n", cmd,
                b->write_path);
        return false;
    }
    enum ref_status rc = harness_baseline_write(b->pending, results, n);
    bool ok = rc == REF_OK && fflush(b->pending) == 0 && fsync(fileno(b->pending)) == 0;
    ok = fclose(b->pending) == 0 && ok;
    b->pending = NULL;
    if (ok && rename(b->pending_path, b->write_path) != 0) {
        fprintf(stderr, "etch %s: cannot write the baseline to %s: %s\n", cmd, b->write_path,
                strerror(errno));
        ok = false;
    } else if (!ok) {
        fprintf(stderr, "etch %s: writing the baseline to %s failed\n", cmd, b->write_path);
    }
    if (!ok) {
        unlink(b->pending_path);
    } else {
        printf("baseline written to %s: edit each reason before relying on it\n", b->write_path);
    }
    free(b->pending_path);
    b->pending_path = NULL;
    return ok;
}

void etch_baseline_close(struct etch_baseline_args *b)
{
    if (b->pending != NULL) {
        fclose(b->pending);
        b->pending = NULL;
    }
    if (b->pending_path != NULL) {
        unlink(b->pending_path);
        free(b->pending_path);
        b->pending_path = NULL;
    }
    harness_baseline_comparison_cleanup(&b->comparison);
    harness_baseline_cleanup(&b->baseline);
    b->is_compared = false;
}
