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
#include "common/json.h"
#include "tpm_testutil.h"

uint8_t *tu_read(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n = 0;

    if (!f)
        fail_msg("cannot open %s", path);
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
        fail_msg("cannot size %s", path);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    if (n && fread(buf, 1, (size_t)n, f) != (size_t)n)
        fail_msg("cannot read %s", path);
    buf[n] = 0;
    fclose(f);
    *ret_len = (size_t)n;
    return buf;
}

json_t *tu_json(const char *path)
{
    struct vouch_errbuf eb = { "" };
    json_t *j = NULL;

    if (vouch_json_load_file(path, 64u << 20, &j, &eb))
        fail_msg("%s: %s", path, eb.msg);
    return j;
}

uint8_t *tu_unhex(const char *hex, size_t *ret_len)
{
    uint8_t *out = NULL;

    if (vouch_hex_decode(hex, strlen(hex), 1u << 20, &out, ret_len, NULL))
        fail_msg("bad hex '%.40s'", hex);
    return out;
}

uint8_t *tu_b64_member(const json_t *obj, const char *key, size_t *ret_len)
{
    const char *s = json_string_value(json_object_get(obj, key));
    uint8_t *out = NULL;

    if (!s)
        fail_msg("no member '%s'", key);
    if (vouch_b64_decode(s, strlen(s), VOUCH_B64_STD, 64u << 20, &out, ret_len, NULL))
        fail_msg("member '%s' is not base64", key);
    return out;
}

void tu_pcrs_from_json(const json_t *j, struct vouch_tpm_pcrs *ret)
{
    struct vouch_errbuf eb = { "" };

    if (vouch_tpm_pcrs_from_json(j, ret, &eb))
        fail_msg("PCR JSON: %s", eb.msg);
}
