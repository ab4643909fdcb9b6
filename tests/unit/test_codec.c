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

struct b64_case {
    const char *in;     /* encoded */
    int flags;
    vouch_err want;
    const char *out;    /* decoded, when want == VOUCH_OK */
    size_t out_len;
};

/* RFC 4648 section 10 vectors plus the edge cases strict decoding must reject. */
static const struct b64_case b64_cases[] = {
    { "", VOUCH_B64_STD, VOUCH_OK, "", 0 },
    { "Zg==", VOUCH_B64_STD, VOUCH_OK, "f", 1 },
    { "Zm8=", VOUCH_B64_STD, VOUCH_OK, "fo", 2 },
    { "Zm9v", VOUCH_B64_STD, VOUCH_OK, "foo", 3 },
    { "Zm9vYg==", VOUCH_B64_STD, VOUCH_OK, "foob", 4 },
    { "Zm9vYmE=", VOUCH_B64_STD, VOUCH_OK, "fooba", 5 },
    { "Zm9vYmFy", VOUCH_B64_STD, VOUCH_OK, "foobar", 6 },
    { "Zg", VOUCH_B64_STD, VOUCH_E_INVALID, NULL, 0 },           /* padding missing */
    { "Zg=", VOUCH_B64_STD, VOUCH_E_INVALID, NULL, 0 },          /* short padding */
    { "Zg===", VOUCH_B64_STD, VOUCH_E_INVALID, NULL, 0 },        /* too much padding */
    { "Zh==", VOUCH_B64_STD, VOUCH_E_INVALID, NULL, 0 },         /* unused bits set */
    { "Zh==", VOUCH_B64_STD | VOUCH_B64_LAX_BITS, VOUCH_OK, "f", 1 },
    { "Z=g=", VOUCH_B64_STD, VOUCH_E_INVALID, NULL, 0 },         /* padding inside */
    { "Zm9v\n", VOUCH_B64_STD, VOUCH_E_INVALID, NULL, 0 },       /* whitespace */
    { "+/+/", VOUCH_B64_STD, VOUCH_OK, "\xfb\xff\xbf", 3 },
    { "-_-_", VOUCH_B64_STD, VOUCH_E_INVALID, NULL, 0 },         /* url alphabet in std */
    /* base64url without padding, as evidence is sent */
    { "-_-_", VOUCH_B64URL, VOUCH_OK, "\xfb\xff\xbf", 3 },
    { "+/+/", VOUCH_B64URL, VOUCH_E_INVALID, NULL, 0 },          /* std alphabet in url */
    { "Zg", VOUCH_B64URL, VOUCH_OK, "f", 1 },
    { "Zm8", VOUCH_B64URL, VOUCH_OK, "fo", 2 },
    { "Zg==", VOUCH_B64URL, VOUCH_E_INVALID, NULL, 0 },          /* padding rejected */
    { "Z", VOUCH_B64URL, VOUCH_E_INVALID, NULL, 0 },             /* impossible length */
    { "Zm9vY", VOUCH_B64URL, VOUCH_E_INVALID, NULL, 0 },
    { "Zm9", VOUCH_B64URL, VOUCH_E_INVALID, NULL, 0 },           /* unused bits set */
    { "eyJhIjoxfQ", VOUCH_B64URL, VOUCH_OK, "{\"a\":1}", 7 },
    { "Zg==", VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL, VOUCH_OK, "f", 1 },
    { "Zg", VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL, VOUCH_OK, "f", 1 },
    { "Zg=", VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL, VOUCH_E_INVALID, NULL, 0 },
};

static void test_b64_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
        const struct b64_case *c = &b64_cases[i];
        struct vouch_errbuf eb = { "" };
        uint8_t *out = (uint8_t *)"untouched";
        size_t len = 12345;
        vouch_err e;

        e = vouch_b64_decode(c->in, strlen(c->in), c->flags, 1024, &out, &len, &eb);
        if (e != c->want)
            fail_msg("case %zu '%s': got %d (%s), want %d", i, c->in, e, eb.msg, c->want);
        if (c->want == VOUCH_OK) {
            assert_int_equal(len, c->out_len);
            assert_memory_equal(out, c->out, len);
            free(out);
        } else {
            assert_string_equal((char *)out, "untouched");
            assert_int_equal(len, 12345);
            assert_true(eb.msg[0] != '\0');
        }
    }
}

/*
 * The oracle for test_b64_exact: RFC 4648 decoding one character at a time
 * with the alphabet as a string, under the same rules and messages as
 * vouch_b64_decode.  Returns the error; msg gets the message, out the bytes.
 */
static vouch_err b64_oracle(const char *s, size_t len, int flags, size_t max, uint8_t *out,
                            size_t *out_len, char msg[128])
{
    const char *abc = flags & VOUCH_B64_URL
                          ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t pad = 0, data, i, o = 0;
    unsigned acc = 0, bits = 0;

    while (pad < len && pad < 3 && s[len - 1 - pad] == '=')
        pad++;
    data = len - pad;
    if (pad && (flags & VOUCH_B64_NOPAD))
        return snprintf(msg, 128, "base64url padding '=' is not allowed (offset %zu)", data),
               VOUCH_E_INVALID;
    if (pad && (pad > 2 || len % 4))
        return snprintf(msg, 128, "invalid base64 padding at offset %zu", data), VOUCH_E_INVALID;
    if (!pad && !(flags & (VOUCH_B64_NOPAD | VOUCH_B64_PAD_OPTIONAL)) && len % 4)
        return snprintf(msg, 128, "base64 length %zu is not a multiple of 4 (missing padding?)",
                        len), VOUCH_E_INVALID;
    if (data % 4 == 1)
        return snprintf(msg, 128, "base64 length %zu is impossible", data), VOUCH_E_INVALID;
    if (data * 6 / 8 > max)
        return snprintf(msg, 128, "base64 decodes to %zu bytes, limit %zu", data * 6 / 8, max),
               VOUCH_E_TOO_LARGE;
    for (i = 0; i < data; i++) {
        const char *at = s[i] ? strchr(abc, s[i]) : NULL;

        if (!at)
            return snprintf(msg, 128, "invalid %s character at offset %zu",
                            flags & VOUCH_B64_URL ? "base64url" : "base64", i), VOUCH_E_INVALID;
        acc = (acc << 6 | (unsigned)(at - abc)) & 0xfff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) && !(flags & VOUCH_B64_LAX_BITS))
        return snprintf(msg, 128, "non-canonical base64: unused bits are not zero"),
               VOUCH_E_INVALID;
    *out_len = o;
    return VOUCH_OK;
}

static void b64_check_exact(const char *s, size_t len, int flags)
{
    struct vouch_errbuf eb = { "" };
    char want_msg[128] = "";
    uint8_t want[256], *got = NULL;
    size_t want_len = 0, got_len = 0, max = len % 5 == 3 ? len / 2 : sizeof(want);
    vouch_err we = b64_oracle(s, len, flags, max, want, &want_len, want_msg);
    vouch_err ge = vouch_b64_decode(s, len, flags, max, &got, &got_len, &eb);

    if (ge != we || (we && strcmp(eb.msg, want_msg) != 0))
        fail_msg("'%.*s' flags %d: got %d '%s', want %d '%s'", (int)len, s, flags, ge, eb.msg,
                 we, want_msg);
    if (!we) {
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
        assert_int_equal(got[got_len], 0);
        free(got);
    }
}

/*
 * Every flag combination, lengths 0..13: valid encodings of varied bytes
 * with every character in turn replaced by each kind of wrong character,
 * plus strings drawn from a small alphabet (both alphabets' specials, '=',
 * NUL, bytes >= 0x80) so padding and unused bits are hit in all positions.
 */
static void test_b64_exact(void **state)
{
    static const char wrong[] = { '=', '+', '/', '-', '_', '*', ' ', '\0', '\x80', '\xff',
                                  '@', '[', '`', '{', ':' };
    static const char mix[] = "AQgw+/-_=*\xff";
    unsigned seed = 12345;
    int flags;
    size_t len, k, w, r;

    (void)state;
    for (flags = 0; flags < 16; flags++)
        for (len = 0; len <= 13; len++) {
            char s[16];

            for (r = 0; r < 40; r++) {
                for (k = 0; k < len; k++) {
                    seed = seed * 1103515245u + 12345u;
                    s[k] = (char)("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789+/-_"[(seed >> 16) % 66]);
                }
                b64_check_exact(s, len, flags);
                for (k = 0; k < len; k++) {
                    char keep = s[k];

                    for (w = 0; w < sizeof(wrong); w++) {
                        s[k] = wrong[w];
                        b64_check_exact(s, len, flags);
                    }
                    s[k] = keep;
                }
            }
            for (r = 0; r < 3000; r++) {
                for (k = 0; k < len; k++) {
                    seed = seed * 1103515245u + 12345u;
                    s[k] = mix[(seed >> 16) % (sizeof(mix) - 1)];
                }
                b64_check_exact(s, len, flags);
            }
        }
}

/* b64_check_exact on the AVX2 path (where the CPU has it) and on the scalar path. */
static void b64_check_both(const char *s, size_t len, int flags)
{
    vouch_codec_force_scalar(false);
    b64_check_exact(s, len, flags);
    vouch_codec_force_scalar(true);
    b64_check_exact(s, len, flags);
    vouch_codec_force_scalar(false);
}

/* The two paths agree on s: the same error and message, or the same bytes. */
static void b64_check_paths(const char *s, size_t len, int flags)
{
    struct vouch_errbuf veb = { "" }, seb = { "" };
    uint8_t *vout = NULL, *sout = NULL;
    size_t vlen = 0, slen = 0;
    vouch_err ve, se;

    vouch_codec_force_scalar(false);
    ve = vouch_b64_decode(s, len, flags, 1024, &vout, &vlen, &veb);
    vouch_codec_force_scalar(true);
    se = vouch_b64_decode(s, len, flags, 1024, &sout, &slen, &seb);
    vouch_codec_force_scalar(false);
    if (ve != se || strcmp(veb.msg, seb.msg) != 0)
        fail_msg("'%.*s' flags %d: vector %d '%s', scalar %d '%s'", (int)len, s, flags, ve,
                 veb.msg, se, seb.msg);
    if (!ve) {
        assert_int_equal(vlen, slen);
        assert_memory_equal(vout, sout, slen);
    }
    free(vout);
    free(sout);
}

/* The switch to the scalar paths works (and AVX2 is used where the CPU has it). */
static void test_b64_force_scalar(void **state)
{
    (void)state;
#if defined(__x86_64__)
    assert_int_equal(vouch_codec_avx2(), __builtin_cpu_supports("avx2") != 0);
#endif
    vouch_codec_force_scalar(true);
    assert_false(vouch_codec_avx2());
    vouch_codec_force_scalar(false);
}

/*
 * Long inputs, where the AVX2 path takes 32-character blocks: encodings of
 * 0..150 random bytes (lengths 0..200) at every alignment under the main
 * flag sets, each path against the oracle; then, on both paths compared,
 * each character in turn replaced by wrong or boundary characters, and
 * every byte value at each position of a two-block string.
 */
static void test_b64_long(void **state)
{
    static const int main_flags[] = { VOUCH_B64_STD, VOUCH_B64URL,
                                       VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL,
                                       VOUCH_B64_PAD_OPTIONAL | VOUCH_B64_LAX_BITS };
    static const char wrong[] = { '=', '+', '/', '-', '_', '\0', '\x80', '@', '`', '{', ':' };
    static _Alignas(32) char buf[256 + 32];
    uint8_t bytes[150 + 16];
    unsigned seed = 777;
    size_t n, a, f, k, w, len;

    (void)state;
    for (n = 0; n < sizeof(bytes); n++) {
        seed = seed * 1103515245u + 12345u;
        bytes[n] = (uint8_t)(seed >> 16);
    }
    for (f = 0; f < sizeof(main_flags) / sizeof(main_flags[0]); f++)
        for (n = 0; n <= 150; n++)
            for (a = 0; a < 32; a++) {
                vouch_b64_encode(bytes + (n * 7) % 16, n, main_flags[f], buf + a);
                b64_check_both(buf + a, strlen(buf + a), main_flags[f]);
            }
    for (f = 0; f < 2; f++)
        for (n = 0; n <= 150; n++) {
            vouch_b64_encode(bytes, n, main_flags[f], buf + 1);
            len = strlen(buf + 1);
            for (k = 0; k < len; k++) {
                char keep = buf[1 + k];

                for (w = 0; w < sizeof(wrong); w++) {
                    buf[1 + k] = wrong[w];
                    b64_check_paths(buf + 1, len, main_flags[f]);
                }
                buf[1 + k] = keep;
            }
        }
    for (f = 0; f < 2; f++) {
        vouch_b64_encode(bytes, 48, main_flags[f], buf);
        for (k = 0; k < 64; k++)
            for (w = 0; w < 256; w++) {
                char keep = buf[k];

                buf[k] = (char)w;
                b64_check_paths(buf, 64, main_flags[f]);
                buf[k] = keep;
            }
    }
}

static void test_b64_roundtrip(void **state)
{
    uint8_t bytes[300];
    int flags[] = { VOUCH_B64_STD, VOUCH_B64URL, VOUCH_B64_URL };
    size_t n, f;

    (void)state;
    for (n = 0; n < sizeof(bytes); n++)
        bytes[n] = (uint8_t)(n * 7 + 3);
    for (f = 0; f < 3; f++) {
        for (n = 0; n <= sizeof(bytes); n++) {
            char *enc = vouch_b64_alloc(bytes, n, flags[f]);
            uint8_t *dec;
            size_t dlen;

            assert_non_null(enc);
            assert_int_equal(strlen(enc), vouch_b64_encoded_len(n, flags[f]));
            assert_int_equal(vouch_b64_decode(enc, strlen(enc), flags[f], n, &dec, &dlen,
                                              NULL), VOUCH_OK);
            assert_int_equal(dlen, n);
            assert_memory_equal(dec, bytes, n);
            free(dec);
            free(enc);
        }
    }
}

static void test_b64_cap(void **state)
{
    uint8_t *out;
    size_t len;

    (void)state;
    assert_int_equal(vouch_b64_decode("Zm9vYmFy", 8, VOUCH_B64_STD, 5, &out, &len, NULL),
                     VOUCH_E_TOO_LARGE);
    assert_int_equal(vouch_b64_decode("Zm9vYmFy", 8, VOUCH_B64_STD, 6, &out, &len, NULL),
                     VOUCH_OK);
    free(out);
}

static void test_hex(void **state)
{
    static const struct {
        const char *in;
        vouch_err want;
        const char *out;
        size_t len;
    } cases[] = {
        { "", VOUCH_OK, "", 0 },
        { "00ff7F", VOUCH_OK, "\x00\xff\x7f", 3 },
        { "abc", VOUCH_E_INVALID, NULL, 0 },
        { "0g", VOUCH_E_INVALID, NULL, 0 },
        { "0x00", VOUCH_E_INVALID, NULL, 0 },
        { " 00", VOUCH_E_INVALID, NULL, 0 },
        { "0011223344", VOUCH_E_TOO_LARGE, NULL, 0 },
    };
    char enc[16];
    uint8_t fixed[2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *out = NULL;
        size_t len = 0;
        vouch_err e = vouch_hex_decode(cases[i].in, strlen(cases[i].in), 4, &out, &len,
                                       NULL);

        assert_int_equal(e, cases[i].want);
        if (!e) {
            assert_int_equal(len, cases[i].len);
            assert_memory_equal(out, cases[i].out, len);
            free(out);
        } else {
            assert_null(out);
        }
    }
    vouch_hex_encode("\x00\xab\xff", 3, enc);
    assert_string_equal(enc, "00abff");
    assert_int_equal(vouch_hex_decode_exact("abcd", 4, fixed, 2, NULL), VOUCH_OK);
    assert_int_equal(fixed[0], 0xab);
    assert_int_equal(vouch_hex_decode_exact("abcd", 4, fixed, 3, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_hex_decode_exact("abcdef", 6, fixed, 2, NULL), VOUCH_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_table),
        cmocka_unit_test(test_b64_exact),
        cmocka_unit_test(test_b64_force_scalar),
        cmocka_unit_test(test_b64_long),
        cmocka_unit_test(test_b64_roundtrip),
        cmocka_unit_test(test_b64_cap),
        cmocka_unit_test(test_hex),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
