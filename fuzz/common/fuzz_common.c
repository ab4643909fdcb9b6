/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver over the foundation's input parsers: strict hex/base64/
 * base64url decoding, JSON parsing, RFC 3339 times and compact JWS
 * decoding.  The first byte picks the parser; the rest is the input.
 * Invariants checked: no crash, outputs only on success, anything
 * decoded re-encodes to the canonical input, and our JSON reader and
 * writer agree with jansson's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/reader.h"
#include "common/time.h"
#include "crypto/jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_b64(const char *s, size_t n, int flags)
{
    uint8_t *out = NULL;
    size_t len = 0;

    if (vouch_b64_decode(s, n, flags, 1 << 20, &out, &len, NULL) == VOUCH_OK) {
        char *back = vouch_b64_alloc(out, len, flags);

        /* Strict decoding accepts only canonical encodings. */
        if (!back || strlen(back) != n || memcmp(back, s, n) != 0)
            abort();
        free(back);
        free(out);
    } else if (out) {
        abort();
    }
}

/* Our writer writes what jansson's compact dump writes, for anything our reader made. */
static void dump_like_jansson(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), *got = NULL;
    size_t len = 0;

    if (vouch_json_dump(v, 64u << 20, &got, &len, NULL) != VOUCH_OK || !want ||
        strlen(want) != len || memcmp(want, got, len) != 0)
        abort();
    free(want);
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s;
    size_t n;

    if (size < 1)
        return 0;
    s = (const char *)data + 1;
    n = size - 1;
    switch (data[0] % 6) {
    case 0: {
        uint8_t *out = NULL;
        size_t len;

        if (vouch_hex_decode(s, n, 1 << 20, &out, &len, NULL) == VOUCH_OK) {
            if (len * 2 != n)
                abort();
            free(out);
        }
        break;
    }
    case 1:
        check_b64(s, n, VOUCH_B64_STD);
        break;
    case 2:
        check_b64(s, n, VOUCH_B64URL);
        break;
    case 3: {
        /* Differential: our reader accepts what jansson accepts, with equal
         * values.  Not compared: jansson's higher depth cap, and a raw NUL
         * byte after a literal, which jansson skips (`{"b":null<NUL>}`)
         * and RFC 8259 does not allow. */
        json_t *v = NULL, *ref;
        json_error_t jerr;
        vouch_err e = vouch_json_parse(s, n, &v, NULL);

        ref = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (e == VOUCH_OK && (!ref || !json_equal(v, ref)))
            abort();
        if (e != VOUCH_OK && ref && n < 1024 && !memchr(s, '\0', n))
            abort();
        if (e == VOUCH_OK)
            dump_like_jansson(v);
        json_decref(ref);
        json_decref(v);
        break;
    }
    case 4: {
        int64_t t;
        int32_t ns;

        (void)vouch_time_parse_rfc3339(s, n, &t, &ns, NULL);
        break;
    }
    case 5: {
        json_t *h = NULL, *p = NULL;

        if (vouch_jws_decode_unverified(s, n, &h, &p, NULL) == VOUCH_OK) {
            if (!json_is_object(h) || !json_is_object(p))
                abort();
            json_decref(h);
            json_decref(p);
        }
        break;
    }
    }
    return 0;
}
