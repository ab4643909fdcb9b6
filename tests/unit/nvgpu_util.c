/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/codec.h"
#include "common/time.h"
#include "nvgpu_util.h"

uint8_t *nv_load(const char *path, size_t *ret_len)
{
    char full[4096];
    uint8_t *data = NULL;
    size_t len = 0, cap = 0, n;
    FILE *f;

    snprintf(full, sizeof(full), "%s/%s", VOUCH_SOURCE_ROOT, path);
    f = fopen(full, "rb");
    if (!f)
        fail_msg("cannot open %s", full);
    for (;;) {
        if (cap - len < 4097) {
            cap = cap ? cap * 2 : 65536;
            data = realloc(data, cap);
            assert_non_null(data);
        }
        n = fread(data + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    data[len] = '\0';
    *ret_len = len;
    return data;
}

uint8_t *nv_load_hex(const char *path, size_t *ret_len)
{
    size_t len, i, j = 0;
    uint8_t *text = nv_load(path, &len), *out = NULL;
    struct vouch_errbuf eb;

    for (i = 0; i < len; i++)
        if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ')
            text[j++] = text[i];
    if (vouch_hex_decode((const char *)text, j, j / 2, &out, ret_len, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(text);
    return out;
}

int64_t nv_time(const char *rfc3339)
{
    struct vouch_errbuf eb;
    int64_t t;

    if (vouch_time_parse_rfc3339(rfc3339, strlen(rfc3339), &t, NULL, &eb))
        fail_msg("%s: %s", rfc3339, eb.msg);
    return t;
}
