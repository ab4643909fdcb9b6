/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/help.h"

static char *wrapped(size_t indent, const char *text)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    assert_non_null(f);
    vouch_help_print_wrapped(f, indent, text);
    fclose(f);
    return out;
}

static void test_wrap_table(void **state)
{
    static const char long_text[] =
        "send evidence (a quote or an evidence JSON, or with --collect a TDX quote "
        "taken in this TD through configfs-tsm, bound to a fresh challenge) to a "
        "Vouch service; print or store the token";
    static const struct {
        size_t indent;
        const char *in;
        const char *want;
    } cases[] = {
        { 4, "short", "short\n" },
        { 4, "", "\n" },
        { 4, "  leading and  doubled   spaces ", "leading and doubled spaces\n" },
        { 21, long_text,
          "send evidence (a quote or an evidence JSON, or with\n"
          "                     --collect a TDX quote taken in this TD through\n"
          "                     configfs-tsm, bound to a fresh challenge) to a Vouch\n"
          "                     service; print or store the token\n" },
        /* a word longer than the room stands on a line of its own */
        { 70, "a bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb c",
          "a\n" "                                                                      "
          "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
          "                                                                      c\n" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = wrapped(cases[i].indent, cases[i].in);

        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got\n%s\nwant\n%s", i, got, cases[i].want);
        free(got);
    }
}

/* No line of a wrapped description passes the column limit when its words fit. */
static void test_lines_fit(void **state)
{
    char *got = wrapped(31, "comma-separated audiences a request may ask for as 'audience' "
                            "(e.g. sts.amazonaws.com); a token's aud is the issuer when "
                            "none is asked for (default: only the issuer)");
    char *line = got;

    (void)state;
    while (*line) {
        size_t n = strcspn(line, "\n");

        /* the first line starts at column 31; the others carry their indent */
        size_t end = line == got ? 31 + n : n;

        if (end > VOUCH_HELP_COLUMNS)
            fail_msg("line ends at column %zu: %.*s", end, (int)n, line);
        line += n + (line[n] == '\n');
    }
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_table),
        cmocka_unit_test(test_lines_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
