/* SPDX-License-Identifier: Apache-2.0
 *
 * test_http_fields.c - the shared line-end finder, field-line scan and visible-ASCII scan.
 *
 * Each outcome of each, at the edges of its bound; the parsers that use them are tested
 * for what they make of the outcomes.
 */
#include "test_util.h"

#include "ref/http_fields.h"

#include <stdint.h>

static void test_http_fields_find_line_end_outcomes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t limit;
        enum ref_http_line_end want;
        size_t at;
    } cases[] = {
        {"ab\r\ncd", 64, REF_HTTP_LINE_CRLF, 2},
        {"\r\n", 64, REF_HTTP_LINE_CRLF, 0},
        {"ab\ncd", 64, REF_HTTP_LINE_BARE_LF, 2},
        {"ab\rcd", 64, REF_HTTP_LINE_BARE_CR, 2},
        {"ab\r", 64, REF_HTTP_LINE_CUT_AFTER_CR, 3},
        {"ab", 64, REF_HTTP_LINE_CUT, 2},
        {"", 64, REF_HTTP_LINE_CUT, 0},
        /* The limit: a line of limit bytes with its CRLF fits. */
        {"abc\r\n", 5, REF_HTTP_LINE_CRLF, 3},
        {"abcd\r\n", 5, REF_HTTP_LINE_TOO_LONG, 5},
        {"abcde\r\n", 5, REF_HTTP_LINE_TOO_LONG, 5},
        /* ...but a CR whose LF would be at the limit, at the end of the input, may still
         * be the start of something: cut, not too long. */
        {"abcd\r", 5, REF_HTTP_LINE_CUT_AFTER_CR, 5},
        {"abcd", 5, REF_HTTP_LINE_CUT, 4},
        {"abcde", 5, REF_HTTP_LINE_CUT, 5},
        {"a\nbcdef", 5, REF_HTTP_LINE_BARE_LF, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t at = SIZE_MAX;
        enum ref_http_line_end got =
            ref_http_find_line_end(ref_slice_from_cstr(cases[i].text), 0, cases[i].limit, &at);
        if (got != cases[i].want || at != cases[i].at) {
            fail_msg("case %zu: want %d at %zu, got %d at %zu", i, (int)cases[i].want, cases[i].at,
                     (int)got, at);
        }
    }
    /* From an offset: the line starting there. */
    size_t at = 0;
    assert_int_equal(ref_http_find_line_end(ref_slice_from_cstr("ab\r\ncd\r\n"), 4, 64, &at),
                     REF_HTTP_LINE_CRLF);
    assert_int_equal(at, 6);
}

static void test_http_fields_field_line_scan_cases(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t from;
        size_t name_end;
        size_t value_end;
    } cases[] = {
        {"Host: a\r\n", 0, 4, 7},
        {"Host:\r\n", 0, 4, 5},
        {"X-Long-Name-Here: with\ttab and more bytes\xff\r\n", 0, 16, 42},
        {"Host : a\r\n", 0, 4, 4},
        {": a\r\n", 0, 0, 3},
        {"NoColon\r\n", 0, 7, 7},
        {"NoColonNoEnd", 0, 12, 12},
        {"A: b\x01"
         "c\r\n",
         0, 1, 4},
        {"A: b\x7f\r\n", 0, 1, 4},
        {"ab\r\nName: v\r\n", 4, 8, 11},
        {"A: bc", 0, 1, 5},
        {"A:", 0, 1, 2},
        {"", 0, 0, 0},
        {"ab", 5, 2, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ref_http_field_line fl = {SIZE_MAX, SIZE_MAX};
        ref_http_field_line_scan(ref_slice_from_cstr(cases[i].text), cases[i].from, &fl);
        if (fl.name_end != cases[i].name_end || fl.value_end != cases[i].value_end) {
            fail_msg("case %zu: want %zu %zu, got %zu %zu", i, cases[i].name_end,
                     cases[i].value_end, fl.name_end, fl.value_end);
        }
    }
}

/* Every byte value, and a stop found past the eight-byte steps. */
static void test_http_fields_vchar_end(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 256; c++) {
        uint8_t text[19];
        memset(text, 'a', sizeof(text));
        text[17] = (uint8_t)c;
        size_t want = c >= 0x21 && c <= 0x7e ? sizeof(text) : 17;
        assert_int_equal(ref_http_vchar_end(ref_slice_make(text, sizeof(text)), 0), want);
        assert_int_equal(ref_http_vchar_end(ref_slice_make(text, sizeof(text)), 17),
                         want == 17 ? 17 : sizeof(text));
    }
    assert_int_equal(ref_http_vchar_end(ref_slice_from_cstr("/a b"), 0), 2);
    assert_int_equal(ref_http_vchar_end(ref_slice_from_cstr("/ab"), 5), 3);
    assert_int_equal(ref_http_vchar_end(ref_slice_make(NULL, 0), 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_fields_find_line_end_outcomes),
        cmocka_unit_test(test_http_fields_field_line_scan_cases),
        cmocka_unit_test(test_http_fields_vchar_end),
    };
    return cmocka_run_group_tests_name("http_fields", tests, NULL, NULL);
}
