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
#include "crypto/digest.h"
#include "server/attest_req.h"
#include "token/challenge.h"

/* base64url("{\"quote\":\"AA\"}") */
#define EV "eyJxdW90ZSI6IkFBIn0"

static void test_parse_table(void **state)
{
    static const struct {
        const char *body;
        unsigned status;     /* 0: success */
        const char *code;
        const char *field;
    } cases[] = {
        { "{\"tee\":\"tdx\",\"evidence\":\"" EV "\"}", 0, NULL, NULL },
        { "{\"tee\":\"sgx\",\"evidence\":\"" EV "\",\"policy_ids\":[\"a\",\"b-1\"],"
          "\"runtime_data\":{\"raw\":\"AAEC\"},\"init_data\":{\"structured\":{\"k\":1}}}", 0,
          NULL, NULL },
        { "{\"verification_requests\":[{\"tee\":\"tdx\",\"evidence\":\"" EV "\","
          "\"runtime_data\":{\"structured\":{\"nonce\":\"x\"}},"
          "\"runtime_data_hash_algorithm\":\"sha512\",\"init_data\":{\"init_data_digest\":"
          "\"AAAA\"}}],\"policy_ids\":[]}", 0, NULL, NULL },
        { "{\"verification_requests\":[{\"tee\":\"tdx\",\"evidence\":\"" EV "\","
          "\"init_data\":{\"init_data_toml\":\"algorithm = \\\"sha256\\\"\\nversion = "
          "\\\"0.1.0\\\"\\n[data]\\n\"}}],\"policy_ids\":[]}", 0, NULL, NULL },
        /* errors, each naming its field */
        { "{\"evidence\":\"" EV "\"}", 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "tee" },
        { "{\"tee\":\"sev\",\"evidence\":\"" EV "\"}", 400, "VOUCH.REQUEST.UNSUPPORTED_TEE",
          "tee" },
        { "{\"tee\":\"tdx\"}", 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "evidence" },
        { "{\"tee\":\"tdx\",\"evidence\":\"" EV "==\"}", 400, "VOUCH.EVIDENCE.INVALID_ENCODING",
          "evidence" },
        { "{\"tee\":\"tdx\",\"evidence\":\"e+/\"}", 400, "VOUCH.EVIDENCE.INVALID_ENCODING",
          "evidence" },
        { "{\"tee\":\"tdx\",\"evidence\":\"" EV "\",\"policy_ids\":\"default\"}", 400,
          "VOUCH.REQUEST.INVALID_ARGUMENT", "policy_ids" },
        { "{\"tee\":\"tdx\",\"evidence\":\"" EV "\",\"policy_ids\":[\"ok\",\"../etc\"]}", 400,
          "VOUCH.REQUEST.INVALID_ARGUMENT", "policy_ids[1]" },
        { "{\"tee\":\"tdx\",\"evidence\":\"" EV "\",\"runtime_data\":{\"raw\":\"%%\"}}", 400,
          "VOUCH.REQUEST.INVALID_ARGUMENT", "runtime_data" },
        { "{\"tee\":\"tdx\",\"evidence\":\"" EV "\",\"runtime_data\":\"x\"}", 400,
          "VOUCH.REQUEST.INVALID_ARGUMENT", "runtime_data" },
        { "{\"tee\":\"tdx\",\"evidence\":\"" EV "\",\"runtime_data_hash_algorithm\":\"md5\"}",
          400, "VOUCH.REQUEST.INVALID_ARGUMENT", "runtime_data_hash_algorithm" },
        { "{\"verification_requests\":[]}", 400, "VOUCH.REQUEST.INVALID_ARGUMENT",
          "verification_requests" },
        { "{\"verification_requests\":[{\"tee\":\"tdx\",\"evidence\":\"" EV "\"},{\"tee\":"
          "\"tdx\"}]}", 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "verification_requests[1].evidence" },
        { "{\"verification_requests\":[7]}", 400, "VOUCH.REQUEST.INVALID_ARGUMENT",
          "verification_requests[0]" },
        { "{\"verification_requests\":[{\"tee\":\"tdx\",\"evidence\":\"" EV "\",\"init_data\":"
          "{\"init_data_toml\":\"version = 1\"}}]}", 400, "VOUCH.REQUEST.INVALID_ARGUMENT",
          "verification_requests[0].init_data.init_data_toml" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_error_t jerr;
        json_t *body = json_loads(cases[i].body, 0, &jerr);
        struct vouch_attest_req req;
        struct vouch_attest_problem p = { 0 };
        bool ok;

        if (!body)
            fail_msg("case %zu: bad test JSON: %s", i, jerr.text);
        ok = vouch_attest_req_parse(body, 1 << 20, &req, &p);
        if (ok != (cases[i].status == 0))
            fail_msg("case %zu: ok=%d (%u %s %s: %s)", i, ok, p.status, p.code ? p.code : "",
                     p.field, p.detail);
        if (!ok) {
            assert_int_equal(p.status, cases[i].status);
            assert_string_equal(p.code, cases[i].code);
            assert_string_equal(p.field, cases[i].field);
        }
        vouch_attest_req_done(&req);
        json_decref(body);
    }
}

static void test_parsed_values(void **state)
{
    const char *text = "{\"verification_requests\":[{\"tee\":\"tdx\",\"evidence\":\"" EV "\","
                       "\"runtime_data\":{\"raw\":\"AAEC\"}},{\"tee\":\"sgx\",\"evidence\":\""
                       EV "\",\"init_data\":{\"init_data_digest\":\"_w\"}}],"
                       "\"policy_ids\":[\"p1\"]}";
    json_t *body = json_loads(text, 0, NULL);
    struct vouch_attest_req req;
    struct vouch_attest_problem p;

    (void)state;
    assert_true(vouch_attest_req_parse(body, 1 << 20, &req, &p));
    assert_true(req.trustee_form);
    assert_int_equal(req.n_items, 2);
    assert_int_equal(req.n_policies, 1);
    assert_string_equal(req.policy_ids[0], "p1");
    assert_string_equal(req.items[0].tee, "tdx");
    assert_int_equal(req.items[0].evidence_len, 14);
    assert_memory_equal(req.items[0].evidence, "{\"quote\":\"AA\"}", 14);
    assert_true(req.items[0].has_runtime);
    assert_int_equal(req.items[0].runtime.len, 3);
    assert_false(req.items[0].has_init);
    assert_string_equal(req.items[1].path, "verification_requests[1].");
    assert_true(req.items[1].has_init);
    assert_int_equal(req.items[1].init.len, 1);
    assert_int_equal(req.items[1].init.bytes[0], 0xff);
    vouch_attest_req_done(&req);
    json_decref(body);
}

/* init_data_toml: the digest is of the text; the claims are trustee's init_data_claims. */
static void test_init_data_claims(void **state)
{
    static const char toml[] =
        "algorithm = \"sha384\"\n"
        "version = \"0.1.0\"\n"
        "[data]\n"
        "\"cdh.toml\" = '''\n"
        "socket = 'unix:///run/confidential-containers/cdh.sock'\n"
        "[kbc]\n"
        "name = \"cc_kbc\"\n"
        "url = \"http://127.0.0.1:8080\"\n"
        "'''\n"
        "\"policy.rego\" = '''\n"
        "package agent_policy\n"
        "import future.keywords.in\n"
        "default CreateContainerRequest := false\n"
        "policy_data := {\"containers\": [{\"OCI\": {\"Version\": \"1.1.0\"}}]}\n"
        "'''\n";
    struct vouch_attest_req req;
    struct vouch_attest_problem p;
    uint8_t want[48];
    json_t *body, *c;

    (void)state;
    body = json_pack("{s:s,s:s,s:{s:s}}", "tee", "tdx", "evidence", EV, "init_data",
                     "init_data_toml", toml);
    if (!vouch_attest_req_parse(body, 1 << 20, &req, &p))
        fail_msg("%s: %s", p.field, p.detail);
    assert_true(req.items[0].has_init);
    assert_int_equal(req.items[0].init.len, 48);
    vouch_hash(VOUCH_HASH_SHA384, toml, strlen(toml), want);
    assert_memory_equal(req.items[0].init.bytes, want, 48);
    c = req.items[0].init_data_claims;
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
                            c, "cdh.toml"), "kbc"), "name")), "cc_kbc");
    /* parsing runs no Rego: the agent policy waits for verified evidence */
    assert_true(json_is_string(json_object_get(c, "policy.rego")));
    assert_null(json_object_get(c, "agent_policy_claims"));
    {
        struct vouch_initdata_eval opts = { 1700000000, 0, NULL, NULL };

        if (!vouch_attest_agent_policy(&req.items[0], &opts, &p))
            fail_msg("%s: %s", p.field, p.detail);
    }
    assert_null(json_object_get(c, "policy.rego"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(
                            json_object_get(json_object_get(c, "agent_policy_claims"),
                                            "containers"), 0), "OCI"), "Version")), "1.1.0");
    vouch_attest_req_done(&req);
    json_decref(body);

    /* an embedded file that is not TOML: 400 naming it */
    body = json_pack("{s:s,s:s,s:{s:s}}", "tee", "tdx", "evidence", EV, "init_data",
                     "init_data_toml", "algorithm = 'sha256'\n[data]\n\"aa.toml\" = 'x = '\n");
    assert_false(vouch_attest_req_parse(body, 1 << 20, &req, &p));
    assert_int_equal(p.status, 400);
    assert_string_equal(p.field, "init_data.init_data_toml");
    assert_non_null(strstr(p.detail, "data.\"aa.toml\": TOML line 1"));
    vouch_attest_req_done(&req);
    json_decref(body);
}

static void test_challenge_binding(void **state)
{
    static const uint8_t secret[32] = { 7 }, other[32] = { 8 };
    uint8_t nonce[32];
    char *tok = NULL, *nonce_b64, body[2048], raw[200];
    struct vouch_attest_req req;
    struct vouch_attest_problem p;
    json_t *j;
    uint8_t rawbytes[40];
    size_t i;

    (void)state;
    assert_int_equal(vouch_challenge_issue(secret, 1000, 300, nonce, &tok, NULL, NULL), 0);
    nonce_b64 = vouch_b64_alloc(nonce, 32, VOUCH_B64_STD);
    memcpy(rawbytes, nonce, 32);
    memset(rawbytes + 32, 0xee, 8);
    vouch_b64_encode(rawbytes, sizeof(rawbytes), VOUCH_B64URL, raw);

    /* kind: 0 structured with the token inside, 1 structured with the token
     * beside it, 2 raw; prefix spoils the nonce. */
    struct {
        int kind;
        const char *prefix;
        int64_t now;
        const uint8_t *secret;
        unsigned want;   /* 0 ok */
    } cases[] = {
        { 0, "", 1000, secret, 0 },
        { 1, "", 1299, secret, 0 },
        { 1, "", 1300, secret, 401 },
        { 1, "", 1000, other, 401 },
        { 1, "AAAA", 1000, secret, 422 },
        { 2, "", 1000, secret, 0 },
        { 2, "AAAA", 1000, secret, 422 },
    };
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char rd[1024];

        if (cases[i].kind == 0)
            snprintf(rd, sizeof(rd), "{\"structured\":{\"nonce\":\"%s%s\",\"challenge_token\""
                     ":\"%s\"}}", cases[i].prefix, nonce_b64, tok);
        else if (cases[i].kind == 1)
            snprintf(rd, sizeof(rd), "{\"structured\":{\"nonce\":\"%s%s\"},"
                     "\"challenge_token\":\"%s\"}", cases[i].prefix, nonce_b64, tok);
        else
            snprintf(rd, sizeof(rd), "{\"raw\":\"%s%s\",\"challenge_token\":\"%s\"}",
                     cases[i].prefix, raw, tok);
        snprintf(body, sizeof(body), "{\"tee\":\"tdx\",\"evidence\":\"" EV "\","
                 "\"runtime_data\":%s}", rd);
        j = json_loads(body, 0, NULL);
        assert_non_null(j);
        assert_true(vouch_attest_req_parse(j, 1 << 20, &req, &p));
        assert_non_null(req.items[0].challenge_token);
        if (vouch_attest_check_challenge(&req.items[0], cases[i].secret, cases[i].now, &p) !=
            (cases[i].want == 0))
            fail_msg("case %zu: %u %s", i, p.status, p.detail);
        if (cases[i].want)
            assert_int_equal(p.status, cases[i].want);
        vouch_attest_req_done(&req);
        json_decref(j);
    }
    free(tok);
    free(nonce_b64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parsed_values),
        cmocka_unit_test(test_init_data_claims),
        cmocka_unit_test(test_challenge_binding),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
