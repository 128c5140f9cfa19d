/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario_steps.h - a scenario made from a test's steps alone, for the harness's cmocka
 * tests: the steps (the JSON array's members, as text) go into the smallest valid
 * scenario around them. Include after cmocka.h; one test file each (the functions are
 * static).
 */
#ifndef HARNESS_TESTS_SCENARIO_STEPS_H
#define HARNESS_TESTS_SCENARIO_STEPS_H

#include "harness/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The scenario of these steps, or the loader's status (err says why). */
static enum ref_status
load_steps(const char *steps, struct harness_scenario **out, struct harness_load_error *err)
{
    size_t cap = strlen(steps) + 256;
    char *text = malloc(cap);
    if (text == NULL) {
        return REF_E_NOMEM;
    }
    snprintf(text, cap,
             "{\"name\":\"s\",\"description\":\"d\",\"source\":\"model\",\"steps\":[%s]}", steps);
    enum ref_status rc = harness_scenario_load_buffer((const uint8_t *)text, strlen(text),
                                                      "t/s.json", "t", NULL, out, err);
    free(text);
    return rc;
}

/* The scenario of these steps, which must load. */
static struct harness_scenario *load(const char *steps)
{
    struct harness_scenario *sc = NULL;
    struct harness_load_error err;
    if (load_steps(steps, &sc, &err) != REF_OK) {
        fail_msg("%s", err.message);
    }
    return sc;
}

#endif
