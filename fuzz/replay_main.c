/* SPDX-License-Identifier: Apache-2.0
 *
 * replay_main.c - runs saved inputs through a fuzz target without libFuzzer.
 *
 * Linked into every fuzz_<target> when the build has no libFuzzer (gcc, or the ASan preset),
 * so each corpus is replayed as an ordinary ctest on every build. Each argument is a file or
 * a directory (its regular files, in name order so runs are reproducible; dot files are
 * skipped). Arguments starting with '-' are ignored, which lets a libFuzzer command line be
 * pasted as is. An invariant violation inside the target aborts, which fails the test; a
 * directory that yields no input at all fails too, because that is a mistake in the setup.
 */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* libFuzzer calls LLVMFuzzerInitialize when a target defines it; so does this driver. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Reads a whole file into a fresh heap block of exactly its size, so ASan catches any read
 * one byte past the input (a spare byte would hide that). */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap == 0 ? 4096 : cap * 2;
            uint8_t *nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return -1;
    }
    /* An exact-size copy: the input must end where the allocation ends. */
    uint8_t *exact = malloc(len == 0 ? 1 : len);
    if (exact == NULL) {
        free(buf);
        return -1;
    }
    if (len > 0) {
        memcpy(exact, buf, len);
    }
    free(buf);
    *data = exact;
    *size = len;
    return 0;
}

static int run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (read_file(path, &data, &size) != 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    (void)LLVMFuzzerTestOneInput(size == 0 ? NULL : data, size);
    free(data);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file directly inside dir; returns how many ran, or -1. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (count == cap) {
            cap = cap == 0 ? 64 : cap * 2;
            char **grown = realloc(names, cap * sizeof(*names));
            if (grown == NULL) {
                closedir(d);
                return -1;
            }
            names = grown;
        }
        names[count] = strdup(e->d_name);
        if (names[count] == NULL) {
            closedir(d);
            return -1;
        }
        count++;
    }
    closedir(d);
    if (count > 0) {
        qsort(names, count, sizeof(*names), compare_names);
    }

    long ran = 0;
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(dir) + 1 + strlen(names[i]) + 1;
        char *path = malloc(len);
        if (path == NULL) {
            ran = -1;
            break;
        }
        snprintf(path, len, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) != 0) {
                ran = -1;
            } else if (ran >= 0) {
                ran++;
            }
        }
        free(path);
    }
    for (size_t i = 0; i < count; i++) {
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize != NULL) {
        (void)LLVMFuzzerInitialize(&argc, &argv);
    }
    long total = 0;
    int status = 0;
    int paths = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            continue;
        }
        paths++;
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            long n = run_dir(argv[i]);
            if (n <= 0) {
                fprintf(stderr, "replay: %s: %s\n", argv[i], n == 0 ? "no inputs" : "failed");
                status = 1;
                continue;
            }
            total += n;
        } else if (run_file(argv[i]) != 0) {
            status = 1;
        } else {
            total++;
        }
    }
    if (paths == 0) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    printf("replayed %ld inputs%s\n", total, status == 0 ? "" : " (with errors)");
    return status;
}
