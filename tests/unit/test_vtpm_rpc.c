/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vTPM RPC endpoint in-process: the error table, and the worked
 * examples of both signature versions (Alibaba's SDKs' own computation,
 * docs/vtpm.md) accepted by vouchd, then refused when replayed or changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "server/app.h"
#include "server/router.h"
#include "server/rpc_error.h"

static struct vouch_app app;
static char dir[64];

static int setup(void **state)
{
    struct vouch_config cfg;
    struct vouch_errbuf eb;
    char db[128], *token = NULL;
    char *args[] = { "vouchd", "--db", db, "--admin-token", "t0123456789abcdef",
                     "--listen", "127.0.0.1:0", "--log-level", "error",
                     "--fixed-time", "2024-01-01T12:05:00Z", NULL };

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/vouch-vtpm-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(db, sizeof(db), "sqlite:%s/vouch.db", dir);
    if (vouch_config_load(&cfg, 11, args, false, &eb) || vouch_app_init(&app, &cfg, &token, &eb) ||
        vouch_store_accesskey_create(app.store, "acct", "testid", "testsecret", 0, &eb) ||
        vouch_store_accesskey_create(app.store, "other", "otherid", "othersecret", 0, &eb)) {
        fprintf(stderr, "setup: %s\n", eb.msg);
        return -1;
    }
    free(token);
    return 0;
}

static int teardown(void **state)
{
    char cmd[100];

    (void)state;
    vouch_app_done(&app);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_error_table(void **state)
{
    size_t n, i, j;
    const struct vouch_rpc_error_entry *t = vouch_rpc_error_table(&n);

    (void)state;
    assert_int_equal(n, VOUCH_RPC__COUNT);
    for (i = 0; i < n; i++) {
        assert_int_equal(t[i].id, i);
        assert_non_null(t[i].code);
        assert_true(t[i].status >= 400 && t[i].status <= 599);
        for (j = 0; j < i; j++)
            assert_string_not_equal(t[i].code, t[j].code);
    }
    assert_string_equal(vouch_rpc_error_find(VOUCH_RPC_ACCESS_KEY_NOT_FOUND)->code,
                        "InvalidAccessKeyId.NotFound");
    assert_int_equal(vouch_rpc_error_find(VOUCH_RPC_ACCESS_KEY_NOT_FOUND)->status, 404);
    assert_int_equal(vouch_rpc_error_find((enum vouch_rpc_error)999)->status, 500);
}

/* Send one request to "/"; returns the status and the answer's Code ("" on success). */
static unsigned send(const char *method, const struct vouch_http_field *query, size_t nq,
                     const struct vouch_http_field *headers, size_t nh, const char *body,
                     char code[64])
{
    struct vouch_http_plain plain = { headers, nh, query, nq };
    struct vouch_http_req req;
    struct vouch_http_resp resp;
    json_t *doc;
    unsigned status;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.method = method;
    req.path = "/";
    req.body = (const uint8_t *)body;
    req.body_len = strlen(body);
    vouch_http_req_plain(&req, &plain);
    vouch_app_dispatch(&app, &req, &resp);
    doc = json_loadb(resp.body, resp.body_len, 0, NULL);
    assert_non_null(doc);
    assert_true(json_is_string(json_object_get(doc, "RequestId")));
    snprintf(code, 64, "%s", json_string_value(json_object_get(doc, "Code")) ?
             json_string_value(json_object_get(doc, "Code")) : "");
    json_decref(doc);
    status = resp.status;
    vouch_http_resp_done(&resp);
    return status;
}

#define F(n, v) { (n), (v), sizeof(v) - 1 }

/* The signature v1 worked example (docs/vtpm.md), as a form body. */
static const char v1_body[] =
    "AccessKeyId=testid&Action=DescribeInstance&Format=JSON&PropertyUuid=a%20b%2Ac~d%2Be%2Ff"
    "&RegionId=cn-beijing&SignatureMethod=HMAC-SHA1"
    "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0"
    "&Timestamp=2024-01-01T12%3A00%3A00Z&Version=2020-06-13";

static void test_v1_example(void **state)
{
    static const struct vouch_http_field form[] = {
        F("Content-Type", "application/x-www-form-urlencoded") };
    char body[sizeof(v1_body) + 64], code[64];

    (void)state;
    /* A wrong signature first: refused, and the nonce stays unused. */
    snprintf(body, sizeof(body), "%s&Signature=AAAAgZwLzWmm82Tsp9U70r6CisU%%3D", v1_body);
    assert_int_equal(send("POST", NULL, 0, form, 1, body, code), 400);
    assert_string_equal(code, "SignatureDoesNotMatch");
    /* The example's signature: authenticated; the uuid (with a space) is no instance. */
    snprintf(body, sizeof(body), "%s&Signature=fonQgZwLzWmm82Tsp9U70r6CisU%%3D", v1_body);
    assert_int_equal(send("POST", NULL, 0, form, 1, body, code), 404);
    assert_string_equal(code, "InvalidPropertyUuid.NotFound");
    assert_int_equal(send("POST", NULL, 0, form, 1, body, code), 400);
    assert_string_equal(code, "SignatureNonceUsed");
    /* Signed for POST, sent as GET: another string to sign. */
    assert_int_equal(send("GET", NULL, 0, form, 1, body, code), 400);
    assert_string_equal(code, "SignatureDoesNotMatch");
}

static void test_v3_example(void **state)
{
    static const struct vouch_http_field query[] = { F("PropertyUuid", "a b*c~d+e/f"),
                                                     F("RegionId", "cn-beijing") };
    struct vouch_http_field headers[] = {
        F("Host", "trusted-server.cn-beijing.aliyuncs.com"),
        F("x-acs-action", "DescribeInstance"),
        F("x-acs-content-sha256",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        F("x-acs-date", "2024-01-01T12:00:00Z"),
        F("x-acs-signature-nonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        F("x-acs-version", "2020-06-13"),
        F("Authorization", "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;"
          "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
          "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d470ef3"),
    };
    char code[64];

    (void)state;
    /* The v1 test used this nonce under the same key already. */
    assert_int_equal(send("POST", query, 2, headers, 7, "", code), 400);
    assert_string_equal(code, "SignatureNonceUsed");
    /* A fresh nonce changes the signature: refused. */
    headers[4] = (struct vouch_http_field)F("x-acs-signature-nonce", "fresh");
    assert_int_equal(send("POST", query, 2, headers, 7, "", code), 400);
    assert_string_equal(code, "SignatureDoesNotMatch");
    /* The example under another key id that has no such secret. */
    headers[4] = (struct vouch_http_field)F("x-acs-signature-nonce",
                                            "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf");
    headers[6] = (struct vouch_http_field)F("Authorization",
        "ACS3-HMAC-SHA256 Credential=nosuchid,SignedHeaders=host;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
        "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d470ef3");
    assert_int_equal(send("POST", query, 2, headers, 7, "", code), 404);
    assert_string_equal(code, "InvalidAccessKeyId.NotFound");
}

static void test_v3_example_fresh_store(void **state)
{
    static const struct vouch_http_field query[] = { F("PropertyUuid", "a b*c~d+e/f"),
                                                     F("RegionId", "cn-beijing") };
    static const struct vouch_http_field headers[] = {
        F("Host", "trusted-server.cn-beijing.aliyuncs.com"),
        F("x-acs-action", "DescribeInstance"),
        F("x-acs-content-sha256",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        F("x-acs-date", "2024-01-01T12:00:00Z"),
        F("x-acs-signature-nonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        F("x-acs-version", "2020-06-13"),
        F("Authorization", "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;"
          "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
          "4f682e7747d6fde482d427b15eda46f7bca70456956b070377f138102d470ef3"),
    };
    char code[64];

    (void)state;
    /* The worked example verifies: the request reaches the action. */
    assert_int_equal(send("POST", query, 2, headers, 7, "", code), 404);
    assert_string_equal(code, "InvalidPropertyUuid.NotFound");
}

/* On one store: the v1 example uses the nonce the v3 example then repeats. */
static void test_v1_then_v3(void **state)
{
    test_v1_example(state);
    test_v3_example(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_table),
        cmocka_unit_test_setup_teardown(test_v3_example_fresh_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_then_v3, setup, teardown),
    };

    return cmocka_run_group_tests_name("vtpm rpc", tests, NULL, NULL);
}
