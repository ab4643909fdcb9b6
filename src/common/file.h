/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_FILE_H
#define VOUCH_COMMON_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vouch/err.h"

/*
 * Read a whole file of at most `max` bytes.  *ret is NUL-terminated (not
 * counted in *ret_len); free with free().  VOUCH_E_NOT_FOUND when the file
 * does not exist, VOUCH_E_TOO_LARGE past the cap, VOUCH_E_IO otherwise;
 * the message names the path.
 */
vouch_err vouch_file_read(const char *path, size_t max, uint8_t **ret, size_t *ret_len,
                          struct vouch_errbuf *eb);

/* The same from an open stream; `name` is for messages. */
vouch_err vouch_file_read_stream(FILE *f, const char *name, size_t max, uint8_t **ret,
                                 size_t *ret_len, struct vouch_errbuf *eb);

#endif
