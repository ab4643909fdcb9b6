/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"

static void test_parse_errors(void **state)
{
    static const struct {
        const char *in;
        vouch_err want;
        const char *msg;
    } cases[] = {
        { "{\"a\":1}", VOUCH_OK, NULL },
        { "{\"a\":1,\"a\":2}", VOUCH_E_INVALID, "duplicate" },
        { "{\"a\":\n  1,}", VOUCH_E_INVALID, "line 2" },
        { "", VOUCH_E_INVALID, "line" },
        { "[1,2", VOUCH_E_INVALID, "line 1" },
        { "{} x", VOUCH_E_INVALID, "end of file expected" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_errbuf eb = { "" };
        json_t *v = NULL;
        vouch_err e = vouch_json_parse(cases[i].in, strlen(cases[i].in), &v, &eb);

        assert_int_equal(e, cases[i].want);
        if (e) {
            assert_null(v);
            if (!strstr(eb.msg, cases[i].msg))
                fail_msg("case %zu: message '%s' lacks '%s'", i, eb.msg, cases[i].msg);
        }
        json_decref(v);
    }
}

/*
 * Our JSON reader against jansson's (json_loadb with JSON_REJECT_DUPLICATES
 * | JSON_ALLOW_NUL), the reference it replaced: same acceptance, equal
 * values.
 */
static void test_parse_like_jansson(void **state)
{
    static const struct {
        const char *in;
        size_t len;      /* 0: strlen */
        bool ok;
    } cases[] = {
        { "{}", 0, true },
        { " [ ] ", 0, true },
        { "[1, -0, 0, -1, 9223372036854775807, -9223372036854775808]", 0, true },
        { "[9223372036854775808]", 0, false },
        { "[-9223372036854775809]", 0, false },
        { "[1.5, -0.25e3, 1E+2, 2e-2, 0.0, 1e308]", 0, true },
        { "[1e309]", 0, false },
        { "[1e-400]", 0, true },
        { "[01]", 0, false },
        { "[1.]", 0, false },
        { "[.5]", 0, false },
        { "[1e]", 0, false },
        { "[-]", 0, false },
        { "[+1]", 0, false },
        { "[true, false, null]", 0, true },
        { "[tru]", 0, false },
        { "[nul]", 0, false },
        { "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"]", 0, true },
        { "[\"\\u00e9\\u20AC\\ud83d\\ude00\"]", 0, true },
        { "[\"\\ud83d\"]", 0, false },
        { "[\"\\ude00\"]", 0, false },
        { "[\"\\ud83dx\"]", 0, false },
        { "[\"\\u12\"]", 0, false },
        { "[\"\\x\"]", 0, false },
        { "[\"a\\u0000b\"]", 0, true },
        { "{\"a\\u0000b\": 1}", 0, false },
        { "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]", 0, true },
        { "[\"\xc0\xaf\"]", 0, false },            /* overlong */
        { "[\"\xe0\x80\xaf\"]", 0, false },        /* overlong */
        { "[\"\xed\xa0\x80\"]", 0, false },        /* surrogate */
        { "[\"\xf4\x90\x80\x80\"]", 0, false },    /* past U+10FFFF */
        { "[\"\xe2\x82\"]", 0, false },            /* cut short */
        { "[\"\xff\"]", 0, false },
        { "[\"tab\there\"]", 0, false },           /* raw control character */
        { "[\"a\0b\"]", 7, false },                 /* raw NUL */
        { "[\"unterminated]", 0, false },
        { "[\"esc at end\\", 0, false },
        { "{\"a\":1,\"b\":[{\"c\":null}],\"d\":{}}", 0, true },
        { "{\"a\":1,}", 0, false },
        { "[1,]", 0, false },
        { "[1 2]", 0, false },
        { "{\"a\" 1}", 0, false },
        { "{1:2}", 0, false },
        { "{\"a\":1,\"a\":1}", 0, false },
        { "{\"a\":1,\"\\u0061\":1}", 0, false },  /* duplicate once decoded */
        { "\"top-level string\"", 0, false },
        { "1", 0, false },
        { "{}{}", 0, false },
        { "{} \n\t\r", 0, true },
        { "\xef\xbb\xbf{}", 0, false },            /* no BOM */
        { "", 0, false },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
        json_t *v = NULL, *ref;
        json_error_t jerr;
        vouch_err e = vouch_json_parse(cases[i].in, n, &v, NULL);

        ref = json_loadb(cases[i].in, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if ((e == VOUCH_OK) != cases[i].ok || (ref != NULL) != cases[i].ok)
            fail_msg("case %zu '%s': ours %s, jansson %s", i, cases[i].in,
                     e ? "rejects" : "accepts", ref ? "accepts" : "rejects");
        if (v && !json_equal(v, ref))
            fail_msg("case %zu: values differ", i);
        json_decref(v);
        json_decref(ref);
    }
}

/* Nesting is capped (a hostile body cannot exhaust the stack). */
static void test_parse_depth(void **state)
{
    size_t n = 5000, i;
    char *deep = malloc(2 * n + 1);
    json_t *v = NULL;
    struct vouch_errbuf eb;

    (void)state;
    for (i = 0; i < n; i++) {
        deep[i] = '[';
        deep[2 * n - 1 - i] = ']';
    }
    assert_int_equal(vouch_json_parse(deep, 2 * n, &v, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "depth"));
    assert_int_equal(vouch_json_parse(deep + n - 1000, 2000, &v, &eb), VOUCH_OK);
    json_decref(v);
    free(deep);
}

static void test_getters(void **state)
{
    const char *text = "{\"s\":\"x\",\"i\":7,\"b\":true,\"o\":{},\"a\":[],\"n\":null}";
    struct vouch_errbuf eb;
    json_t *v, *o = NULL;
    const char *s = "default";
    size_t slen = 0;
    int64_t i = -1;
    bool b = false;

    (void)state;
    assert_int_equal(vouch_json_parse(text, strlen(text), &v, NULL), VOUCH_OK);
    assert_int_equal(vouch_json_get_str(v, "s", true, &s, &slen, &eb), VOUCH_OK);
    assert_string_equal(s, "x");
    assert_int_equal(slen, 1);
    assert_int_equal(vouch_json_get_int(v, "i", true, &i, &eb), VOUCH_OK);
    assert_int_equal(i, 7);
    assert_int_equal(vouch_json_get_bool(v, "b", true, &b, &eb), VOUCH_OK);
    assert_true(b);
    assert_int_equal(vouch_json_get_obj(v, "o", true, &o, &eb), VOUCH_OK);
    assert_non_null(o);
    assert_int_equal(vouch_json_get_array(v, "a", true, &o, &eb), VOUCH_OK);
    /* wrong types name the key */
    assert_int_equal(vouch_json_get_str(v, "i", true, &s, NULL, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "'i'"));
    assert_int_equal(vouch_json_get_int(v, "s", true, &i, &eb), VOUCH_E_INVALID);
    /* missing and null: required fails, optional leaves the default */
    s = "default";
    assert_int_equal(vouch_json_get_str(v, "missing", false, &s, NULL, &eb), VOUCH_OK);
    assert_string_equal(s, "default");
    assert_int_equal(vouch_json_get_str(v, "n", false, &s, NULL, &eb), VOUCH_OK);
    assert_string_equal(s, "default");
    assert_int_equal(vouch_json_get_str(v, "missing", true, &s, NULL, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "required"));
    json_decref(v);
}

static void test_setters_and_dump(void **state)
{
    json_t *o = json_object();
    char *out;
    size_t len;

    (void)state;
    assert_int_equal(vouch_json_set_hex(o, "h", "\x01\xab", 2), VOUCH_OK);
    assert_int_equal(vouch_json_set_str(o, "s", "v"), VOUCH_OK);
    assert_int_equal(vouch_json_set_int(o, "i", -3), VOUCH_OK);
    assert_int_equal(vouch_json_set_bool(o, "b", false), VOUCH_OK);
    assert_int_equal(vouch_json_set_new(o, "x", NULL), VOUCH_E_NOMEM);
    assert_int_equal(vouch_json_dump(o, 1000, &out, &len, NULL), VOUCH_OK);
    assert_string_equal(out, "{\"h\":\"01ab\",\"s\":\"v\",\"i\":-3,\"b\":false}");
    assert_int_equal(len, strlen(out));
    free(out);
    assert_int_equal(vouch_json_dump(o, 10, &out, &len, NULL), VOUCH_E_TOO_LARGE);
    json_decref(o);
}

/* vouch_json_dump writes what jansson's JSON_COMPACT | JSON_ENCODE_ANY dump writes, or fails where it fails. */
static void assert_dumps_like_jansson(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), *got = NULL;
    size_t len = 0;
    vouch_err e = vouch_json_dump(v, 1u << 20, &got, &len, NULL);

    if (!want) {
        assert_int_not_equal(e, VOUCH_OK);
        return;
    }
    assert_int_equal(e, VOUCH_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    free(want);
    free(got);
}

static bool utf8_ok(const char *s)
{
    json_t *v = json_string(s);

    json_decref(v);
    return v != NULL;
}

static void test_dump_like_jansson(void **state)
{
    static const char *const strings[] = {
        "", "plain", "quote\" back\\slash /slash", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\x7f", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\x80", "a\xe2\x82", "\xef\xbf\xbf",
    };
    static const char *const texts[] = {
        "{}", "[]", "[[],{},[{}]]", "{\"a\":{\"b\":[1,-2,true,false,null]}}",
        "[9223372036854775807,-9223372036854775808,0]", "[10,-10,99,100,-1,1764679000123]",
        "[1.0,0.1,-0.0,1e300,2.5e-8,3.14159]",
        "{\"z\":1,\"a\":2,\"m\":{\"y\":3,\"b\":4}}", "{\"k\\u0001ey\":1,\"\\n\":\"\\u001f\\u0000\"}",
    };
    json_t *v;
    char one[2] = { 0, 0 };
    size_t i;
    int c;

    (void)state;
    for (c = 0; c < 256; c++) {            /* every single byte, alone and in text */
        one[0] = (char)c;
        v = json_stringn_nocheck(one, 1);
        assert_dumps_like_jansson(v);
        json_decref(v);
        v = json_pack("{s:s%}", "k", one, (size_t)1);
        if (v)
            assert_dumps_like_jansson(v);
        json_decref(v);
    }
    for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        v = json_stringn_nocheck(strings[i], strlen(strings[i]));
        assert_dumps_like_jansson(v);
        json_decref(v);
        /*
         * Keys: jansson 2.14 ignores a key's failure and writes `{":true}`
         * for one that is not UTF-8; we fail instead (no such key is ever
         * made: json_object_set checks, and parsed keys were checked).
         */
        v = json_object();
        json_object_setn_nocheck(v, strings[i], strlen(strings[i]), json_true());
        if (utf8_ok(strings[i])) {
            assert_dumps_like_jansson(v);
        } else {
            char *out = NULL;
            size_t len;

            assert_int_equal(vouch_json_dump(v, 1000, &out, &len, NULL), VOUCH_E_INTERNAL);
        }
        json_decref(v);
    }
    v = json_object();                     /* a NUL in a key (only settable, not parsed) */
    json_object_setn_nocheck(v, "a\0b", 3, json_true());
    assert_dumps_like_jansson(v);
    json_decref(v);
    v = json_array();                      /* deeper than the parser allows, as a token may wrap */
    for (i = 0; i < 1500; i++)
        v = json_pack("{s:o}", "k", v);
    assert_dumps_like_jansson(v);
    json_decref(v);
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        v = json_loads(texts[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        assert_non_null(v);
        assert_dumps_like_jansson(v);
        json_decref(v);
    }
}

/* `["<text>"]` parsed on the AVX2 path and on the scalar path: the same error and message, or
 * equal values; and the string written back the same by both. */
static void scan_check_paths(const char *text, size_t n, char *doc)
{
    struct vouch_errbuf veb = { "" }, seb = { "" };
    struct vouch_buf vb = VOUCH_BUF_INIT(4096), sb = VOUCH_BUF_INIT(4096);
    json_t *vv = NULL, *sv = NULL;
    vouch_err ve, se, vw, sw;

    memcpy(doc, "[\"", 2);
    memcpy(doc + 2, text, n);
    memcpy(doc + 2 + n, "\"]", 2);
    vouch_codec_force_scalar(false);
    ve = vouch_json_parse(doc, n + 4, &vv, &veb);
    vw = vouch_json_write_string(&vb, text, n);
    vouch_codec_force_scalar(true);
    se = vouch_json_parse(doc, n + 4, &sv, &seb);
    sw = vouch_json_write_string(&sb, text, n);
    vouch_codec_force_scalar(false);
    if (ve != se || strcmp(veb.msg, seb.msg) != 0 || (!ve && !json_equal(vv, sv)))
        fail_msg("'%.*s': vector %d '%s', scalar %d '%s'", (int)n, text, ve, veb.msg, se,
                 seb.msg);
    if (vw != sw || (!vw && (vb.len != sb.len || memcmp(vb.data, sb.data, sb.len) != 0)))
        fail_msg("'%.*s': written differently (%d, %d)", (int)n, text, vw, sw);
    json_decref(vv);
    json_decref(sv);
    vouch_buf_free(&vb);
    vouch_buf_free(&sb);
}

/*
 * The string scan (32 bytes a step with AVX2) stops where the scalar one
 * does: plain strings of every length 0..200 at every alignment, and each
 * position in turn holding a byte or sequence the scan must stop at (or,
 * for DEL, ' ' and '~', must not): quote, backslash escapes, control bytes,
 * NUL, valid and invalid UTF-8.
 */
static void test_string_scan_paths(void **state)
{
    static const char *const stops[] = { "\"", "\\", "\\n", "\\u00e9", "\x1f", "\x7f", " ",
                                         "~", "\xc3\xa9", "\xe2\x82\xac", "\x80", "\xff", "\t" };
    static const char plain_chars[] = "ABCXYZabcxyz0189+/-_=!#$%&'()*,.:;<>?@[]^`{|}~ ";
    static _Alignas(32) char doc[32 + 256];
    char text[210];
    size_t len, a, k, i, m;

    (void)state;
    for (len = 0; len < sizeof(text); len++)       /* printable ASCII but '"' and '\\' */
        text[len] = plain_chars[(len * 7) % (sizeof(plain_chars) - 1)];
    for (len = 0; len <= 200; len++)
        for (a = 0; a < 32; a++)
            scan_check_paths(text, len, doc + a);
    for (len = 0; len <= 200; len++)
        for (k = 0; k <= len; k++)
            for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
                char t[256];

                m = strlen(stops[i]) ? strlen(stops[i]) : 1;
                memcpy(t, text, k);
                memcpy(t + k, stops[i], m);
                memcpy(t + k + m, text + k, len - k);
                scan_check_paths(t, len + m, doc + (k % 2 ? 3 : 0));
                t[k] = '\0';                  /* and a NUL there */
                scan_check_paths(t, len + m, doc + 1);
            }
}

/* Text from evidence: valid UTF-8 as it is, every other byte as %XX. */
static void test_text(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        { "", 0, "" },
        { "root=/dev/vda1 rw", 17, "root=/dev/vda1 rw" },
        { "100%", 4, "100%" },
        { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
        { "a\xff" "b", 3, "a%FFb" },
        { "a\xe2\x82", 3, "a%E2%82" },                    /* cut short at the end */
        { "\xe2\x82" "b", 3, "%E2%82b" },                  /* cut short by ASCII */
        { "\xc0\x80", 2, "%C0%80" },                       /* overlong NUL */
        { "\xed\xa0\x80", 3, "%ED%A0%80" },                /* UTF-16 surrogate */
        { "\xf4\x90\x80\x80", 4, "%F4%90%80%80" },         /* above U+10FFFF */
        { "\x80\xc3\xa9", 3, "%80\xc3\xa9" },              /* stray continuation byte */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = vouch_json_text(cases[i].in, cases[i].n), *o = json_object();

        assert_non_null(j);
        if (strcmp(json_string_value(j), cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, json_string_value(j),
                     cases[i].want);
        assert_int_equal(vouch_json_set_text(o, "k", cases[i].in, cases[i].n), VOUCH_OK);
        assert_true(json_equal(json_object_get(o, "k"), j));
        json_decref(j);
        json_decref(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_like_jansson),
        cmocka_unit_test(test_parse_depth),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_setters_and_dump),
        cmocka_unit_test(test_dump_like_jansson),
        cmocka_unit_test(test_string_scan_paths),
        cmocka_unit_test(test_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
