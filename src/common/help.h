/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_HELP_H
#define VOUCH_COMMON_HELP_H

#include <stddef.h>
#include <stdio.h>

/* --help text stops before this column; longer descriptions wrap. */
#define VOUCH_HELP_COLUMNS 79

/*
 * Print `text` as a --help description whose first line starts at column
 * `indent` (the caller has already written that far), wrapping between
 * words before VOUCH_HELP_COLUMNS and starting each further line at
 * `indent`.  A word longer than the room left goes on a line of its own.
 * Ends with a newline.
 */
void vouch_help_print_wrapped(FILE *out, size_t indent, const char *text);

#endif
