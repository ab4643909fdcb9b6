/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_FUZZ_TEXT_H
#define VOUCH_FUZZ_TEXT_H
/*
 * The request-as-text reader the HTTP-level fuzz drivers share: lines,
 * and "Name: value" header lines up to a blank line, kept as
 * struct vouch_http_field the way libmicrohttpd hands headers to vouchd.
 */
#include <stddef.h>
#include <stdint.h>

#include "server/router.h"

#define FUZZ_TEXT_MAX_FIELDS 32

struct fuzz_text_headers {
    struct vouch_http_field v[FUZZ_TEXT_MAX_FIELDS];
    char *mem[FUZZ_TEXT_MAX_FIELDS];    /* "name\0value", one allocation each */
    size_t n;
};

/* A NUL-terminated copy of n bytes; aborts when out of memory. */
char *fuzz_text_dup(const uint8_t *p, size_t n);

/* The next line of data (without \r\n), or NULL at the end of data. */
const uint8_t *fuzz_text_line(const uint8_t **pos, const uint8_t *end, size_t *ret_len);

/* Header lines up to a blank line or the end; malformed lines, lines over
 * max_line bytes and lines past FUZZ_TEXT_MAX_FIELDS are skipped. */
void fuzz_text_headers_read(struct fuzz_text_headers *h, const uint8_t **pos,
                            const uint8_t *end, size_t max_line);

void fuzz_text_headers_free(struct fuzz_text_headers *h);

#endif
