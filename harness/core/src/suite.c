/* SPDX-License-Identifier: Apache-2.0
 *
 * suite.c - a suite: every <dir>/<area>/<name>.json, loaded in order of area then name.
 *
 * The order is fixed (alphasort) so that reports and runs compare between machines, and
 * a scenario name is unique across areas because reports, selections and ctest names use
 * it alone.
 */
#define _POSIX_C_SOURCE 200809L

#include "scenario_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int only_dirs(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int only_json(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

static void free_names(struct dirent **names, int n)
{
    for (int i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

static enum ref_status suite_add(struct harness_suite *suite, struct harness_scenario *sc)
{
    struct harness_scenario **more = realloc(suite->items, (suite->count + 1) * sizeof(*more));
    if (more == NULL) {
        harness_scenario_free(sc);
        return REF_E_NOMEM;
    }
    suite->items = more;
    suite->items[suite->count++] = sc;
    return REF_OK;
}

enum ref_status
harness_suite_load_dir(const char *dir, struct harness_suite *suite, struct harness_load_error *err)
{
    memset(suite, 0, sizeof(*suite));
    memset(err, 0, sizeof(*err));
    loader_set_file(err, dir);
    struct dirent **areas = NULL;
    int num_areas = scandir(dir, &areas, only_dirs, alphasort);
    if (num_areas < 0) {
        harness_textf(err->message, sizeof(err->message), "cannot read the scenario folder: %s",
                      strerror(errno));
        return REF_E_NOT_FOUND;
    }
    enum ref_status rc = REF_OK;
    for (int a = 0; a < num_areas && rc == REF_OK; a++) {
        char area_dir[1024];
        harness_textf(area_dir, sizeof(area_dir), "%s/%s", dir, areas[a]->d_name);
        struct stat st;
        if (stat(area_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            continue;
        }
        struct dirent **files = NULL;
        int num_files = scandir(area_dir, &files, only_json, alphasort);
        if (num_files < 0) {
            continue;
        }
        for (int f = 0; f < num_files && rc == REF_OK; f++) {
            char file[1536];
            harness_textf(file, sizeof(file), "%s/%s", area_dir, files[f]->d_name);
            struct harness_scenario *sc = NULL;
            rc = harness_scenario_load_file(file, areas[a]->d_name, &sc, err);
            if (rc == REF_OK) {
                for (size_t k = 0; k < suite->count; k++) {
                    if (strcmp(suite->items[k]->name, sc->name) == 0) {
                        loader_set_file(err, file);
                        harness_textf(err->message, sizeof(err->message),
                                      "scenario '%s': the name is also used by %s", sc->name,
                                      suite->items[k]->display_path);
                        harness_scenario_free(sc);
                        sc = NULL;
                        rc = REF_E_MALFORMED;
                        break;
                    }
                }
            }
            if (rc == REF_OK) {
                rc = suite_add(suite, sc);
            }
        }
        free_names(files, num_files);
    }
    free_names(areas, num_areas);
    if (rc != REF_OK) {
        harness_suite_cleanup(suite);
    }
    return rc;
}

void harness_suite_cleanup(struct harness_suite *suite)
{
    for (size_t i = 0; i < suite->count; i++) {
        harness_scenario_free(suite->items[i]);
    }
    free(suite->items);
    suite->items = NULL;
    suite->count = 0;
}
