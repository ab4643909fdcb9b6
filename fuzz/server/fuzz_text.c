/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"

char *fuzz_text_dup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

const uint8_t *fuzz_text_line(const uint8_t **pos, const uint8_t *end, size_t *ret_len)
{
    const uint8_t *p = *pos, *nl;

    if (p >= end)
        return NULL;
    nl = memchr(p, '\n', (size_t)(end - p));
    *ret_len = (size_t)((nl ? nl : end) - p);
    *pos = nl ? nl + 1 : end;
    if (*ret_len && p[*ret_len - 1] == '\r')
        (*ret_len)--;
    return p;
}

void fuzz_text_headers_read(struct fuzz_text_headers *h, const uint8_t **pos,
                            const uint8_t *end, size_t max_line)
{
    const uint8_t *line, *colon, *v;
    size_t len;

    while ((line = fuzz_text_line(pos, end, &len)) != NULL && len > 0) {
        colon = memchr(line, ':', len);
        if (!colon || colon == line || h->n >= FUZZ_TEXT_MAX_FIELDS ||
            len > max_line)
            continue;
        v = colon + 1;
        while (v < line + len && *v == ' ')
            v++;
        h->mem[h->n] = fuzz_text_dup(line, len);
        h->mem[h->n][colon - line] = '\0';
        h->v[h->n].name = h->mem[h->n];
        h->v[h->n].value = h->mem[h->n] + (v - line);
        h->v[h->n].value_len = (size_t)(line + len - v);
        h->n++;
    }
}

void fuzz_text_headers_free(struct fuzz_text_headers *h)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        free(h->mem[i]);
    h->n = 0;
}
