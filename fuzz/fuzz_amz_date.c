/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_amz_date.c - the X-Amz-Date format, YYYYMMDDTHHMMSSZ, in both directions.
 *
 * Target functions: ref_sigv4_parse_amz_date, ref_sigv4_format_amz_date.
 *
 * Input: a candidate date string; its first 8 bytes also give a second to format.
 *
 * Invariants (abort() on violation):
 * - a refusal fills err with the same code, a literal where/reason and an offset within
 *   the input;
 * - whatever the reference accepts is a real date (an oracle here: 16 bytes, digits where
 *   digits belong, 'T' and 'Z' exact, month, day in month with Gregorian leap years, hour
 *   < 24, minute and second < 60), and every real date from 1970 on is accepted;
 * - an accepted date gives the oracle's seconds since the epoch, and
 *   format(parse(x)) == x byte for byte;
 * - for any t in [0, 9999-12-31T23:59:59Z], format(t) is the oracle's rendering and
 *   parse(format(t)) == t.
 */
#include "common.h"

#include "ref/sigv4.h"

#include <string.h>

#define MAX_UNIX_S INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

static bool digits(const uint8_t *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to January 1st of each year 0..10000, negative before 1970, counted
 * one year at a time: slow and obviously right, which is the point of an oracle. Counted
 * once per process rather than per input (up to 8,000 years each time, which was most of
 * this target's time); the table depends on nothing but the calendar. */
#define FIRST_YEAR 0
#define LAST_YEAR  10000

static const int64_t *days_before_years(void)
{
    static int64_t days[LAST_YEAR - FIRST_YEAR + 1];
    static bool counted = false;
    if (!counted) {
        days[1970 - FIRST_YEAR] = 0;
        for (int y = 1970; y < LAST_YEAR; y++) {
            days[y + 1 - FIRST_YEAR] = days[y - FIRST_YEAR] + (is_leap(y) ? 366 : 365);
        }
        for (int y = 1969; y >= FIRST_YEAR; y--) {
            days[y - FIRST_YEAR] = days[y + 1 - FIRST_YEAR] - (is_leap(y) ? 366 : 365);
        }
        counted = true;
    }
    return days;
}

/* Days from 1970-01-01 to y-m-d, 0 <= y <= 9999, a month at a time within the year. */
static int64_t days_from_epoch(int y, int m, int d)
{
    int64_t days = days_before_years()[y - FIRST_YEAR];
    for (int k = 1; k < m; k++) {
        days += days_in_month(y, k);
    }
    return days + d - 1;
}

/* The oracle's parse; false when s is not a real date. */
static bool oracle_parse(struct ref_slice s, int *year, int64_t *unix_s)
{
    int y;
    int mo;
    int d;
    int h;
    int mi;
    int sec;
    if (s.len != 16 || s.ptr[8] != 'T' || s.ptr[15] != 'Z') {
        return false;
    }
    if (!digits(s.ptr, 4, &y) || !digits(s.ptr + 4, 2, &mo) || !digits(s.ptr + 6, 2, &d) ||
        !digits(s.ptr + 9, 2, &h) || !digits(s.ptr + 11, 2, &mi) || !digits(s.ptr + 13, 2, &sec)) {
        return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59) {
        return false;
    }
    *year = y;
    *unix_s = days_from_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

/* The oracle's rendering of t >= 0. */
static void oracle_format(int64_t t, char out[17])
{
    const int64_t *before = days_before_years();
    int64_t days = t / 86400;
    int64_t rem = t % 86400;
    /* No year has more than 366 days, so this year is not past t's; then a year at a
     * time (a few dozen steps at most) to the last one that starts on or before t. */
    int y = 1970 + (int)(days / 366);
    while (before[y + 1 - FIRST_YEAR] <= days) {
        y++;
    }
    days -= before[y - FIRST_YEAR];
    int m = 1;
    while (days >= days_in_month(y, m)) {
        days -= days_in_month(y, m);
        m++;
    }
    int fields[6] = {y, m, (int)days + 1, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60)};
    int widths[6] = {4, 2, 2, 2, 2, 2};
    size_t pos = 0;
    for (size_t i = 0; i < 6; i++) {
        for (int w = widths[i] - 1; w >= 0; w--) {
            int v = fields[i];
            for (int k = 0; k < w; k++) {
                v /= 10;
            }
            out[pos++] = (char)('0' + v % 10);
        }
        if (i == 2) {
            out[pos++] = 'T';
        }
    }
    out[pos++] = 'Z';
    out[pos] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ref_slice s = {data, size};
    int64_t t = 0;
    struct ref_parse_error err = {0};
    enum ref_status rc = ref_sigv4_parse_amz_date(s, &t, &err);

    int year = 0;
    int64_t want = 0;
    bool real = oracle_parse(s, &year, &want);
    if (rc == REF_OK) {
        FUZZ_CHECK(real);
        FUZZ_CHECK(t == want);
        char out[17];
        ref_sigv4_format_amz_date(t, out);
        FUZZ_CHECK(strlen(out) == 16);
        FUZZ_CHECK(memcmp(out, data, 16) == 0);
    } else {
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(err.offset <= size);
        FUZZ_CHECK(err.where != NULL && err.reason != NULL);
        FUZZ_CHECK(!(real && year >= 1970));
    }

    /* The other direction, for a second taken from the input. */
    uint64_t raw = 0;
    for (size_t i = 0; i < size && i < 8; i++) {
        raw = raw << 8 | data[i];
    }
    int64_t when = (int64_t)(raw % (uint64_t)(MAX_UNIX_S + 1));
    char formatted[17];
    char expected[17];
    ref_sigv4_format_amz_date(when, formatted);
    oracle_format(when, expected);
    FUZZ_CHECK(strcmp(formatted, expected) == 0);
    int64_t back = -1;
    FUZZ_CHECK(ref_sigv4_parse_amz_date(ref_slice_from_cstr(formatted), &back, &err) == REF_OK);
    FUZZ_CHECK(back == when);
    return 0;
}
