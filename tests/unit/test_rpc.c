/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alibaba RPC parameters and signatures.  The worked examples are the
 * ones Alibaba's own SDKs produce (@alicloud/pop-core 1.8.0 and
 * @alicloud/openapi-util 0.3.3 give the same bytes for them): AccessKey
 * "testid" / "testsecret", DescribeInstance of trusted-server 2020-06-13.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/hmac.h>

#include "common/codec.h"
#include "crypto/digest.h"
#include "rpc/rpc.h"

static const char v1_canonical[] =
    "AccessKeyId=testid&Action=DescribeInstance&Format=JSON&PropertyUuid=a%20b%2Ac~d%2Be%2Ff"
    "&RegionId=cn-beijing&SignatureMethod=HMAC-SHA1"
    "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0"
    "&Timestamp=2024-01-01T12%3A00%3A00Z&Version=2020-06-13";

static const char v1_string_to_sign[] =
    "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeInstance%26Format%3DJSON%26PropertyUuid"
    "%3Da%2520b%252Ac~d%252Be%252Ff%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
    "%26Timestamp%3D2024-01-01T12%253A00%253A00Z%26Version%3D2020-06-13";

static const char v1_signature[] = "fonQgZwLzWmm82Tsp9U70r6CisU=";

/* The same request as different clients put it on the wire. */
static const char *const v1_wire[] = {
    /* pop-core's POST body: the canonical query, then the signature */
    "AccessKeyId=testid&Action=DescribeInstance&Format=JSON&PropertyUuid=a%20b%2Ac~d%2Be%2Ff"
    "&RegionId=cn-beijing&SignatureMethod=HMAC-SHA1"
    "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0"
    "&Timestamp=2024-01-01T12%3A00%3A00Z&Version=2020-06-13"
    "&Signature=fonQgZwLzWmm82Tsp9U70r6CisU%3D",
    /* openapi-client's query: unsorted, '*' and '~' left as they are, ':' raw */
    "Action=DescribeInstance&Format=JSON&Version=2020-06-13&Timestamp=2024-01-01T12:00:00Z"
    "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&PropertyUuid=a%20b*c~d%2Be%2Ff"
    "&RegionId=cn-beijing&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0"
    "&AccessKeyId=testid&Signature=fonQgZwLzWmm82Tsp9U70r6CisU%3D",
};

static vouch_err add_all(struct vouch_rpc_params *p, const char *const *kv, size_t n)
{
    struct vouch_errbuf eb;
    size_t i;

    for (i = 0; i + 1 < n; i += 2) {
        vouch_err e = vouch_rpc_params_add(p, kv[i], kv[i + 1], &eb);

        if (e)
            return e;
    }
    return VOUCH_OK;
}

static void test_v1_worked_example(void **state)
{
    static const char *const kv[] = {
        "Action", "DescribeInstance", "Version", "2020-06-13", "Format", "JSON",
        "AccessKeyId", "testid", "SignatureMethod", "HMAC-SHA1", "SignatureVersion", "1.0",
        "SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Timestamp", "2024-01-01T12:00:00Z", "RegionId", "cn-beijing",
        "PropertyUuid", "a b*c~d+e/f",
    };
    struct vouch_rpc_params p = VOUCH_RPC_PARAMS_INIT;
    struct vouch_buf sts = VOUCH_BUF_INIT(1 << 16);
    struct vouch_errbuf eb;
    char sig[VOUCH_RPC_V1_SIG_LEN + 1];

    (void)state;
    assert_int_equal(add_all(&p, kv, sizeof(kv) / sizeof(kv[0])), VOUCH_OK);
    assert_int_equal(vouch_rpc_v1_string_to_sign(&p, "POST", &sts, &eb), VOUCH_OK);
    assert_int_equal(sts.len, strlen(v1_string_to_sign));
    assert_memory_equal(sts.data, v1_string_to_sign, sts.len);
    assert_int_equal(vouch_rpc_v1_sign(&p, "POST", "testsecret", sig, &eb), VOUCH_OK);
    assert_string_equal(sig, v1_signature);
    /* another secret, another method: another signature */
    assert_int_equal(vouch_rpc_v1_sign(&p, "POST", "testsecreT", sig, &eb), VOUCH_OK);
    assert_string_not_equal(sig, v1_signature);
    assert_int_equal(vouch_rpc_v1_sign(&p, "GET", "testsecret", sig, &eb), VOUCH_OK);
    assert_string_not_equal(sig, v1_signature);
    vouch_buf_free(&sts);
    vouch_rpc_params_free(&p);
    (void)v1_canonical;
}

static void test_v1_wire_forms(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(v1_wire) / sizeof(v1_wire[0]); i++) {
        struct vouch_rpc_params p = VOUCH_RPC_PARAMS_INIT;
        struct vouch_errbuf eb;
        char sig[VOUCH_RPC_V1_SIG_LEN + 1];

        assert_int_equal(vouch_rpc_params_parse(&p, v1_wire[i], strlen(v1_wire[i]), &eb),
                         VOUCH_OK);
        assert_string_equal(vouch_rpc_param(&p, "PropertyUuid"), "a b*c~d+e/f");
        assert_string_equal(vouch_rpc_param(&p, "Signature"), v1_signature);
        assert_int_equal(vouch_rpc_v1_sign(&p, "POST", "testsecret", sig, &eb), VOUCH_OK);
        assert_string_equal(sig, v1_signature);
        vouch_rpc_params_free(&p);
    }
}

struct parse_case {
    const char *text;
    vouch_err want;
    const char *name, *value;     /* a parameter to look up on success */
    const char *field;            /* eb.field on failure */
};

static const struct parse_case parse_cases[] = {
    { "", VOUCH_OK, NULL, NULL, NULL },
    { "&&a=1&&", VOUCH_OK, "a", "1", NULL },
    { "a", VOUCH_OK, "a", "", NULL },
    { "a=", VOUCH_OK, "a", "", NULL },
    { "a=x+y", VOUCH_OK, "a", "x y", NULL },
    { "a=x%2By", VOUCH_OK, "a", "x+y", NULL },
    { "a=%e4%b8%ad", VOUCH_OK, "a", "\xe4\xb8\xad", NULL },
    { "a=b=c", VOUCH_OK, "a", "b=c", NULL },
    { "%41ction=x", VOUCH_OK, "Action", "x", NULL },
    { "a=%", VOUCH_E_INVALID, NULL, NULL, "a" },
    { "a=%4", VOUCH_E_INVALID, NULL, NULL, "a" },
    { "a=%zz", VOUCH_E_INVALID, NULL, NULL, "a" },
    { "a=%4g", VOUCH_E_INVALID, NULL, NULL, "a" },
    { "a=x%00y", VOUCH_E_INVALID, NULL, NULL, "a" },
    { "=x", VOUCH_E_INVALID, NULL, NULL, "" },
    { "%00=x", VOUCH_E_INVALID, NULL, NULL, "" },
    { "a%20b=x", VOUCH_E_INVALID, NULL, NULL, "" },
    { "a%7f=x", VOUCH_E_INVALID, NULL, NULL, "" },
    { "a=1&a=2", VOUCH_E_INVALID, NULL, NULL, "a" },
    { "a=1&b=2&a=1", VOUCH_E_INVALID, NULL, NULL, "a" },
};

static void test_parse_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct vouch_rpc_params p = VOUCH_RPC_PARAMS_INIT;
        struct vouch_errbuf eb = { "", "" };
        vouch_err e = vouch_rpc_params_parse(&p, c->text, strlen(c->text), &eb);

        if (e != c->want)
            fail_msg("case %zu \"%s\": got %d want %d (%s)", i, c->text, e, c->want, eb.msg);
        if (c->name)
            assert_string_equal(vouch_rpc_param(&p, c->name), c->value);
        if (e) {
            assert_string_equal(eb.field, c->field);
            assert_int_equal(p.n, 0);           /* nothing kept from a bad text */
        }
        vouch_rpc_params_free(&p);
    }
}

/* Caps: a long name, too many parameters, a value over the cap, and a
 * form body whose duplicates of the query are refused (one meaning each). */
static void test_parse_caps(void **state)
{
    struct vouch_rpc_params p = VOUCH_RPC_PARAMS_INIT;
    struct vouch_errbuf eb;
    char name[VOUCH_RPC_MAX_NAME + 8], *big;
    size_t i, len = VOUCH_RPC_MAX_VALUE + 4;

    (void)state;
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(vouch_rpc_params_parse(&p, name, strlen(name), &eb), VOUCH_E_INVALID);
    name[VOUCH_RPC_MAX_NAME] = '\0';
    assert_int_equal(vouch_rpc_params_parse(&p, name, strlen(name), &eb), VOUCH_OK);
    vouch_rpc_params_free(&p);
    for (i = 0; i < VOUCH_RPC_MAX_PARAMS; i++) {
        snprintf(name, sizeof(name), "p%zu=v", i);
        assert_int_equal(vouch_rpc_params_parse(&p, name, strlen(name), &eb), VOUCH_OK);
    }
    assert_int_equal(vouch_rpc_params_parse(&p, "one=more", 8, &eb), VOUCH_E_TOO_LARGE);
    assert_int_equal(p.n, VOUCH_RPC_MAX_PARAMS);
    vouch_rpc_params_free(&p);
    big = malloc(len + 1);
    assert_non_null(big);
    memcpy(big, "v=", 2);
    memset(big + 2, 'x', len - 2);
    big[len] = '\0';
    assert_int_equal(vouch_rpc_params_parse(&p, big, len, &eb), VOUCH_E_INVALID);
    assert_string_equal(eb.field, "v");
    free(big);
    assert_int_equal(vouch_rpc_params_parse(&p, "Action=A&Version=1", 18, &eb), VOUCH_OK);
    assert_int_equal(vouch_rpc_params_parse(&p, "Action=B", 8, &eb), VOUCH_E_INVALID);
    assert_string_equal(vouch_rpc_param(&p, "Action"), "A");
    vouch_rpc_params_free(&p);
}

struct utf8_case {
    const char *text;       /* a form body */
    const char *bad;        /* the parameter named as not UTF-8, or NULL */
};

/* Invalid bytes before, inside and after an 8-byte ASCII run, and at the end. */
static const struct utf8_case utf8_cases[] = {
    { "a=&b=plain", NULL },
    { "a=abcdefghijklmnopqrstuvwxyz0123456789", NULL },
    { "a=abcdefgh%e4%b8%adijklmnop%c3%a9", NULL },
    { "a=%f0%9f%98%80abcdefgh", NULL },
    { "a=ok&b=abcdefghijklmnop%80", "b" },
    { "a=%c0%afabcdefghijklmnop", "a" },
    { "a=abcdefg%e4%b8", "a" },
    { "a=abcdefghijklmno%ed%a0%80", "a" },
    { "a=abcdefgh&b=abc%ffdefghijklmnop&c=%ff", "b" },
};

static void test_utf8_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
        struct vouch_rpc_params p = VOUCH_RPC_PARAMS_INIT;
        struct vouch_errbuf eb;
        const char *bad;

        assert_int_equal(vouch_rpc_params_parse(&p, utf8_cases[i].text,
                                                strlen(utf8_cases[i].text), &eb), VOUCH_OK);
        bad = vouch_rpc_params_not_utf8(&p);
        if (utf8_cases[i].bad)
            assert_string_equal(bad, utf8_cases[i].bad);
        else if (bad)
            fail_msg("case %zu: %s called not UTF-8", i, bad);
        vouch_rpc_params_free(&p);
    }
}

struct enc_case {
    const char *in, *out, *twice;
};

static const struct enc_case enc_cases[] = {
    { "AZaz09-_.~", "AZaz09-_.~", "AZaz09-_.~" },
    { "a b", "a%20b", "a%2520b" },
    { "*+/:=&%", "%2A%2B%2F%3A%3D%26%25", "%252A%252B%252F%253A%253D%2526%2525" },
    { "\xe4\xb8\xad", "%E4%B8%AD", "%25E4%25B8%25AD" },
    { "!'()", "%21%27%28%29", "%2521%2527%2528%2529" },
};

static void test_encode_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
        struct vouch_buf b = VOUCH_BUF_INIT(1024);

        assert_int_equal(vouch_rpc_encode(&b, enc_cases[i].in, strlen(enc_cases[i].in)),
                         VOUCH_OK);
        assert_int_equal(b.len, strlen(enc_cases[i].out));
        assert_memory_equal(b.data, enc_cases[i].out, b.len);
        b.len = 0;
        assert_int_equal(vouch_rpc_encode_twice(&b, enc_cases[i].in, strlen(enc_cases[i].in)),
                         VOUCH_OK);
        assert_string_equal((const char *)b.data, enc_cases[i].twice);
        vouch_buf_free(&b);
    }
}

struct hdr {
    const char *name, *value;
};

static const struct hdr v3_headers[] = {
    { "host", "trusted-server.cn-beijing.aliyuncs.com" },
    { "x-acs-action", "DescribeInstance" },
    { "x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "x-acs-date", "2024-01-01T12:00:00Z" },
    { "x-acs-signature-nonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" },
    { "x-acs-version", "2020-06-13" },
    { "x-acs-credentials-provider", " static_ak " },
};

static const char *lookup(void *ctx, const char *name)
{
    const struct hdr *h = ctx;
    size_t i;

    for (i = 0; i < sizeof(v3_headers) / sizeof(v3_headers[0]); i++)
        if (strcmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static const char v3_signed[] =
    "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";

static void test_v3_worked_example(void **state)
{
    struct vouch_rpc_params q = VOUCH_RPC_PARAMS_INIT;
    struct vouch_rpc_v3_request r = { "POST", "/", &q, lookup, (void *)v3_headers, NULL, 0 };
    struct vouch_buf sts = VOUCH_BUF_INIT(4096);
    struct vouch_errbuf eb;
    char sig[VOUCH_RPC_V3_SIG_LEN + 1];
    static const char query[] = "PropertyUuid=a%20b%2Ac~d%2Be%2Ff&RegionId=cn-beijing";

    (void)state;
    assert_int_equal(vouch_rpc_params_parse(&q, query, strlen(query), &eb), VOUCH_OK);
    assert_int_equal(vouch_rpc_v3_check_request(&r, v3_signed, &eb), VOUCH_OK);
    assert_int_equal(vouch_rpc_v3_string_to_sign(&r, v3_signed, &sts, &eb), VOUCH_OK);
    assert_int_equal(sts.len, strlen("ACS3-HMAC-SHA256\nc514de16ba55f0828fc8de9ac31249852e61d"
                                     "9104e07a99fddba291604470fe9"));
    assert_memory_equal(sts.data, "ACS3-HMAC-SHA256\nc514de16ba55f0828fc8de9ac31249852e61d"
                                  "9104e07a99fddba291604470fe9", sts.len);
    assert_int_equal(vouch_rpc_v3_sign(&r, v3_signed, "testsecret", sig, &eb), VOUCH_OK);
    assert_string_equal(sig, "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d470ef3");
    /* signing one more header (as openapi-client does) changes the signature */
    assert_int_equal(vouch_rpc_v3_sign(&r, "host;x-acs-action;x-acs-content-sha256;"
                                       "x-acs-credentials-provider;x-acs-date;"
                                       "x-acs-signature-nonce;x-acs-version", "testsecret",
                                       sig, &eb), VOUCH_OK);
    assert_string_not_equal(sig, "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d"
                                 "470ef3");
    vouch_buf_free(&sts);
    vouch_rpc_params_free(&q);
}

struct check_case {
    const char *signed_headers;
    size_t body_len;
    vouch_err want;
};

static const struct check_case check_cases[] = {
    { "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
      0, VOUCH_OK },
    /* a body whose hash is not x-acs-content-sha256 */
    { "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
      3, VOUCH_E_AUTH },
    /* the date left unsigned: a replayable request */
    { "host;x-acs-action;x-acs-content-sha256;x-acs-signature-nonce;x-acs-version", 0,
      VOUCH_E_AUTH },
    { "x-acs-action;host;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
      0, VOUCH_E_AUTH },
    { "host;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
      "x-acs-version", 0, VOUCH_E_AUTH },
    { "Host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
      0, VOUCH_E_AUTH },
    { "", 0, VOUCH_E_AUTH },
};

static void test_v3_check_table(void **state)
{
    struct vouch_rpc_params q = VOUCH_RPC_PARAMS_INIT;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
        struct vouch_rpc_v3_request r = { "POST", "/", &q, lookup, (void *)v3_headers,
                                          (const uint8_t *)"abc", check_cases[i].body_len };
        struct vouch_errbuf eb;
        vouch_err e = vouch_rpc_v3_check_request(&r, check_cases[i].signed_headers, &eb);

        if (e != check_cases[i].want)
            fail_msg("case %zu: got %d want %d (%s)", i, e, check_cases[i].want, eb.msg);
    }
}

struct auth_case {
    const char *value;
    vouch_err want;
    const char *key_id;
};

static const struct auth_case auth_cases[] = {
    { "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-date,Signature="
      "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d470ef3", VOUCH_OK, "testid" },
    { "ACS3-HMAC-SHA256 Credential=k, SignedHeaders=host,Signature="
      "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d470ef3", VOUCH_OK, "k" },
    { "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host", VOUCH_E_AUTH, NULL },
    { "ACS3-HMAC-SHA256 Credential=k,Credential=j,SignedHeaders=host,Signature="
      "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d470ef3", VOUCH_E_AUTH, NULL },
    { "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host,Signature=4f68", VOUCH_E_AUTH, NULL },
    { "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature="
      "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d470ef3", VOUCH_E_AUTH, NULL },
    { "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host,Signature="
      "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d470ef3,Extra=1",
      VOUCH_E_AUTH, NULL },
    { "Bearer abc", VOUCH_E_AUTH, NULL },
    { "ACS3-HMAC-SHA256 ", VOUCH_E_AUTH, NULL },
};

static void test_v3_authorization_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]); i++) {
        struct vouch_rpc_v3_auth a;
        struct vouch_errbuf eb;
        vouch_err e = vouch_rpc_v3_parse_authorization(auth_cases[i].value, &a, &eb);

        if (e != auth_cases[i].want)
            fail_msg("case %zu: got %d want %d (%s)", i, e, auth_cases[i].want, eb.msg);
        if (!e)
            assert_string_equal(a.key_id, auth_cases[i].key_id);
    }
}

struct ts_case {
    const char *in;
    vouch_err want;
    int64_t t;
};

static const struct ts_case ts_cases[] = {
    { "2024-01-01T12:00:00Z", VOUCH_OK, 1704110400 },
    { "1970-01-01T00:00:00Z", VOUCH_OK, 0 },
    { "2024-01-01T12:00:00.5Z", VOUCH_E_INVALID, 0 },
    { "2024-01-01T12:00:00+08:00", VOUCH_E_INVALID, 0 },
    { "2024-01-01 12:00:00Z", VOUCH_E_INVALID, 0 },
    { "2024-13-01T12:00:00Z", VOUCH_E_INVALID, 0 },
    { "2024-01-01T12:00:00Zjunk", VOUCH_E_INVALID, 0 },
    { "", VOUCH_E_INVALID, 0 },
};

static void test_timestamp_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ts_cases) / sizeof(ts_cases[0]); i++) {
        struct vouch_errbuf eb;
        int64_t t = -1;
        vouch_err e = vouch_rpc_parse_timestamp(ts_cases[i].in, &t, &eb);

        if (e != ts_cases[i].want)
            fail_msg("case %zu \"%s\": got %d want %d", i, ts_cases[i].in, e, ts_cases[i].want);
        if (!e)
            assert_int_equal(t, ts_cases[i].t);
    }
}

/*
 * vouch_hmac: RFC 2202 / RFC 4231 test case 1 and 2, then OpenSSL's
 * one-shot HMAC() as the reference over key sizes around the block size
 * and a NULL key after a keyed call (the per-thread context must not keep
 * the previous key).
 */
static void test_hmac_table(void **state)
{
    static const struct {
        enum vouch_hash h;
        const char *key, *data, *hex;
    } rfc[] = {
        { VOUCH_HASH_SHA1, "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b",
          "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
        { VOUCH_HASH_SHA256, "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b",
          "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { VOUCH_HASH_SHA256, "Jefe", "what do ya want for nothing?",
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { VOUCH_HASH_SHA1, "Jefe", "what do ya want for nothing?",
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
    };
    static const size_t key_lens[] = { 0, 1, 20, 63, 64, 65, 127, 128, 129, 200 };
    static const enum vouch_hash hs[] = { VOUCH_HASH_SHA1, VOUCH_HASH_SHA256, VOUCH_HASH_SHA384,
                                          VOUCH_HASH_SHA512 };
    uint8_t key[200], data[300], out[VOUCH_HASH_MAX_SIZE], ref[EVP_MAX_MD_SIZE];
    char hex[2 * VOUCH_HASH_MAX_SIZE + 1];
    unsigned ref_len;
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
        assert_int_equal(vouch_hmac(rfc[i].h, rfc[i].key, strlen(rfc[i].key), rfc[i].data,
                                    strlen(rfc[i].data), out), VOUCH_OK);
        vouch_hex_encode(out, vouch_hash_size(rfc[i].h), hex);
        assert_string_equal(hex, rfc[i].hex);
    }
    for (i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 7 + 1);
    for (i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13 + 5);
    for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        for (j = 0; j < sizeof(key_lens) / sizeof(key_lens[0]); j++) {
            assert_int_equal(vouch_hmac(hs[i], key, key_lens[j], data, 100 + j * 20, out),
                             VOUCH_OK);
            assert_non_null(HMAC(vouch_hash_md(hs[i]), key, (int)key_lens[j], data,
                                 100 + j * 20, ref, &ref_len));
            assert_int_equal(ref_len, vouch_hash_size(hs[i]));
            assert_memory_equal(out, ref, ref_len);
        }
        assert_int_equal(vouch_hmac(hs[i], NULL, 0, data, 10, out), VOUCH_OK);
        assert_non_null(HMAC(vouch_hash_md(hs[i]), "", 0, data, 10, ref, &ref_len));
        assert_memory_equal(out, ref, ref_len);
    }
    assert_int_equal(vouch_hmac(VOUCH_HASH__COUNT, key, 1, data, 1, out), VOUCH_E_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_worked_example),
        cmocka_unit_test(test_v1_wire_forms),
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_caps),
        cmocka_unit_test(test_utf8_table),
        cmocka_unit_test(test_encode_table),
        cmocka_unit_test(test_v3_worked_example),
        cmocka_unit_test(test_v3_check_table),
        cmocka_unit_test(test_v3_authorization_table),
        cmocka_unit_test(test_timestamp_table),
        cmocka_unit_test(test_hmac_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
