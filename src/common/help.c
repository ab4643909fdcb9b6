/* SPDX-License-Identifier: Apache-2.0 */
#include "common/help.h"

#include <string.h>

/* However deep the indent, a line keeps at least this much room. */
#define HELP_MIN_ROOM 20

void vouch_help_print_wrapped(FILE *out, size_t indent, const char *text)
{
    size_t room = VOUCH_HELP_COLUMNS > indent + HELP_MIN_ROOM ? VOUCH_HELP_COLUMNS - indent
                                                              : HELP_MIN_ROOM;
    size_t col = 0;

    text += strspn(text, " ");
    while (*text) {
        size_t word = strcspn(text, " ");

        if (col > 0 && col + 1 + word > room) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = 0;
        } else if (col > 0) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", (int)word, text);
        col += word;
        text += word;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}
