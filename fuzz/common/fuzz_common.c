/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver over the foundation's input parsers: strict hex/base64/
 * base64url decoding, JSON parsing, RFC 3339 times and compact JWS
 * decoding.  The first byte picks the parser; the rest is the input.
 * Invariants checked: no crash, outputs only on success, anything
 * decoded re-encodes to the canonical input, our JSON reader and writer
 * agree with jansson's, and the AVX2 paths (base64, the JSON string scan)
 * give what the scalar paths give, messages included.
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

/* The scalar path (vouch_codec_force_scalar) decodes s as the AVX2 path did: out[0..len) or eb. */
static void b64_scalar_agrees(const char *s, size_t n, int flags, vouch_err e, const uint8_t *out,
                              size_t len, const struct vouch_errbuf *eb)
{
    struct vouch_errbuf seb = { "" };
    uint8_t *sout = NULL;
    size_t slen = 0;
    vouch_err se;

    vouch_codec_force_scalar(true);
    se = vouch_b64_decode(s, n, flags, 1 << 20, &sout, &slen, &seb);
    vouch_codec_force_scalar(false);
    if (se != e || strcmp(seb.msg, eb->msg) != 0 ||
        (!e && (slen != len || memcmp(sout, out, len) != 0)))
        abort();
    free(sout);
}

static void check_b64(const char *s, size_t n, int flags)
{
    struct vouch_errbuf eb = { "" };
    uint8_t *out = NULL;
    size_t len = 0;
    vouch_err e = vouch_b64_decode(s, n, flags, 1 << 20, &out, &len, &eb);

    b64_scalar_agrees(s, n, flags, e, out, len, &eb);
    if (e == VOUCH_OK) {
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

/* Our writer writes what jansson's compact dump writes, for anything our reader made, on
 * both string scans. */
static void dump_like_jansson(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), *got = NULL, *scalar = NULL;
    size_t len = 0, slen = 0;
    vouch_err e = vouch_json_dump(v, 64u << 20, &got, &len, NULL), se;

    vouch_codec_force_scalar(true);
    se = vouch_json_dump(v, 64u << 20, &scalar, &slen, NULL);
    vouch_codec_force_scalar(false);
    if (e != VOUCH_OK || se != VOUCH_OK || !want || strlen(want) != len ||
        memcmp(want, got, len) != 0 || slen != len || memcmp(scalar, got, len) != 0)
        abort();
    free(want);
    free(got);
    free(scalar);
}

/*
 * Differential: our reader accepts what jansson accepts, with equal values,
 * and its scalar string scan (vouch_codec_force_scalar) answers as the AVX2
 * one, message included.  Not compared with jansson: its higher depth cap,
 * and a raw NUL byte after a literal, which jansson skips (`{"b":null<NUL>}`)
 * and RFC 8259 does not allow.
 */
static void check_json(const char *s, size_t n)
{
    json_t *v = NULL, *ref, *scalar = NULL;
    json_error_t jerr;
    struct vouch_errbuf eb = { "" }, seb = { "" };
    vouch_err e = vouch_json_parse(s, n, &v, &eb), se;

    vouch_codec_force_scalar(true);
    se = vouch_json_parse(s, n, &scalar, &seb);
    vouch_codec_force_scalar(false);
    if (se != e || strcmp(seb.msg, eb.msg) != 0 || (!e && !json_equal(v, scalar)))
        abort();
    json_decref(scalar);
    ref = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (e == VOUCH_OK && (!ref || !json_equal(v, ref)))
        abort();
    if (e != VOUCH_OK && ref && n < 1024 && !memchr(s, '\0', n))
        abort();
    if (e == VOUCH_OK)
        dump_like_jansson(v);
    json_decref(ref);
    json_decref(v);
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
    case 3:
        check_json(s, n);
        break;
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
