/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tee=tpm (src/evidence/tpm/trustee.c) through the verifier interface, on
 * trustee's own tpm_evidence.json and on a swtpm quote made with a known
 * nonce and init data (tests/vectors/tpm/INDEX.md): claims, the runtime
 * and init data bindings, tampering, and malformed documents naming the
 * field at fault.
 */
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
#include "evidence/tpm/trustee.h"
#include "vouch/evidence.h"
#include "tpm_testutil.h"

#define TRUSTEE TPM_VEC "trustee/tpm_evidence.json"
#define SWTPM TPM_VEC "trustee/swtpm_evidence.json"
/* trustee's vector: 48 bytes of report data, zero-padded to 64 in extraData */
#define TRUSTEE_RD "a04182b506878d4f29b91ee606a71a0d3361ccf1b22db20c98adcaa537bea393" \
                   "ef0e41a18b3569ab678f1497fbc5c120"
#define SWTPM_NONCE "b859a068516679128fc2582e4c7174550a032cf91e8eaaf1bdf90dbdc0c32aa1"
#define SWTPM_INIT "78f33e3c1083cc62158e5bbebb49d9054868c76a13e26a22e44fb0da057bc03e"
#define SWTPM_PCR8 "0e198d6ee5937dcd26af8ed7f16fa509f95ba950c59157cedd2060d74aaf5e52"

static const struct vouch_verifier *tpm(void)
{
    const struct vouch_verifier *v = vouch_verifier_find("tpm");

    assert_non_null(v);
    return v;
}

/* Verify a document with optional hex bindings; the claims are returned when wanted. */
static vouch_err run(const char *doc, size_t len, const char *rd_hex, const char *init_hex,
                     json_t **ret_claims, struct vouch_errbuf *eb)
{
    uint8_t *rd = NULL, *init = NULL;
    size_t rd_len = 0, init_len = 0;
    struct vouch_binding b = { 0 };
    json_t *claims = NULL;
    vouch_err e;

    if (rd_hex) {
        rd = tu_unhex(rd_hex, &rd_len);
        b.report_data = rd;
        b.report_data_len = rd_len;
    }
    if (init_hex) {
        init = tu_unhex(init_hex, &init_len);
        b.init_data = init;
        b.init_data_len = init_len;
    }
    e = tpm()->verify(tpm(), NULL, (const uint8_t *)doc, len, &b, 0, &claims, eb);
    free(rd);
    free(init);
    if (ret_claims)
        *ret_claims = claims;
    else
        json_decref(claims);
    return e;
}

static char *load_text(const char *path, size_t *len)
{
    return (char *)tu_read(path, len);
}

static void test_claims(void **state)
{
    struct vouch_errbuf eb;
    json_t *c = NULL;
    size_t n;
    char *doc = load_text(TRUSTEE, &n);
    json_t *src = tu_json(TRUSTEE);

    (void)state;
    assert_int_equal(run(doc, n, NULL, NULL, &c, &eb), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(c, "ak_public")),
                        json_string_value(json_object_get(src, "ak_public")));
    assert_string_equal(json_string_value(json_object_get(c, "report_data")),
                        TRUSTEE_RD "00000000000000000000000000000000");
    assert_string_equal(json_string_value(json_object_get(c, "pcr17")),
                        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    assert_string_equal(json_string_value(json_object_get(c, "init_data")),
                        json_string_value(json_object_get(c, "pcr08")));
    /* ak_public, report_data, init_data and 24 PCRs (the quote covers sha256:0-23) */
    assert_int_equal(json_object_size(c), 27);
    json_decref(c);
    json_decref(src);
    free(doc);
}

/* Runtime data against extraData (zero-padded to 64), init data against PCR 8. */
static void test_bindings(void **state)
{
    static const struct {
        const char *what, *file, *rd, *init;
        vouch_err want;
        int sub;
    } cases[] = {
        { "trustee: report data as sent (48 bytes)", TRUSTEE, TRUSTEE_RD, NULL, VOUCH_OK, 0 },
        { "trustee: report data padded to 64", TRUSTEE,
          TRUSTEE_RD "00000000000000000000000000000000", NULL, VOUCH_OK, 0 },
        { "trustee: other report data", TRUSTEE, SWTPM_NONCE, NULL, VOUCH_E_BINDING, 0 },
        { "trustee: PCR 8 is zero, no init data hashes to it", TRUSTEE, NULL, SWTPM_INIT,
          VOUCH_E_BINDING, VOUCH_SUB_INIT_DATA },
        { "swtpm: nonce and init data", SWTPM, SWTPM_NONCE, SWTPM_INIT, VOUCH_OK, 0 },
        { "swtpm: a prefix of the nonce is other data", SWTPM, "b859a068", NULL,
          VOUCH_E_BINDING, 0 },
        { "swtpm: other init data", SWTPM, SWTPM_NONCE, SWTPM_NONCE, VOUCH_E_BINDING,
          VOUCH_SUB_INIT_DATA },
    };
    struct vouch_errbuf eb;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *doc = load_text(cases[i].file, &n);
        vouch_err e = run(doc, n, cases[i].rd, cases[i].init, NULL, &eb);

        if (e != cases[i].want || (e && (int)eb.sub != cases[i].sub))
            fail_msg("%s: got %d (%s, sub %d)", cases[i].what, e, eb.msg, (int)eb.sub);
        free(doc);
    }
}

/* The swtpm quote's PCR 8 is the init data extended once, as trustee expects. */
static void test_swtpm_claims(void **state)
{
    struct vouch_errbuf eb;
    json_t *c = NULL;
    size_t n;
    char *doc = load_text(SWTPM, &n);

    (void)state;
    assert_int_equal(run(doc, n, SWTPM_NONCE, SWTPM_INIT, &c, &eb), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(c, "init_data")), SWTPM_PCR8);
    assert_string_equal(json_string_value(json_object_get(c, "report_data")), SWTPM_NONCE);
    json_decref(c);
    free(doc);
}

/* Change one thing in trustee's document and expect the step that catches it. */
static char *edited(const char *file, const char *field, int index, const char *value,
                    size_t *ret_len)
{
    json_t *j = tu_json(file), *q = json_object_get(j, "tpm_quote");
    json_t *target = strcmp(field, "ak_public") == 0 ? j : q;
    char *s;

    if (index >= 0)
        json_array_set_new(json_object_get(q, field), (size_t)index, json_string(value));
    else if (value)
        json_object_set_new(target, field, json_string(value));
    else
        json_object_del(target, field);
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    *ret_len = strlen(s);
    return s;
}

static void test_tampered(void **state)
{
    json_t *sw = tu_json(SWTPM), *tr = tu_json(TRUSTEE);
    const char *sw_ak = json_string_value(json_object_get(sw, "ak_public"));
    const char *msg = json_string_value(json_object_get(json_object_get(tr, "tpm_quote"),
                                                        "message"));
    char flipped[1024];
    struct {
        const char *what, *field;
        int index;
        const char *value;
        vouch_err want;
        const char *want_field;
    } cases[] = {
        { "another AK", "ak_public", -1, sw_ak, VOUCH_E_VERIFY, "tpm_quote" },
        { "a PCR changed", "pcrs", 17, SWTPM_PCR8, VOUCH_E_VERIFY, "tpm_quote" },
        { "a message byte changed", "message", -1, flipped, VOUCH_E_VERIFY, "tpm_quote" },
        { "no ak_public", "ak_public", -1, NULL, VOUCH_E_INVALID, "ak_public" },
        { "ak_public not base64", "ak_public", -1, "MIIB*", VOUCH_E_INVALID, "ak_public" },
        { "ak_public not a key", "ak_public", -1, "AAAA", VOUCH_E_INVALID, "ak_public" },
        { "no message", "message", -1, NULL, VOUCH_E_INVALID, "tpm_quote.message" },
        { "signature not base64", "signature", -1, "!!", VOUCH_E_INVALID,
          "tpm_quote.signature" },
        { "a PCR too short", "pcrs", 3, "00", VOUCH_E_INVALID, "tpm_quote.pcrs[3]" },
        { "a PCR not hex", "pcrs", 5,
          "zz00000000000000000000000000000000000000000000000000000000000000", VOUCH_E_INVALID,
          "tpm_quote.pcrs[5]" },
        { "a message that is no quote", "message", -1, "AAAA", VOUCH_E_TRUNCATED, "tpm_quote" },
    };
    struct vouch_errbuf eb;
    size_t i, n;

    (void)state;
    snprintf(flipped, sizeof(flipped), "%s", msg);
    flipped[40] = flipped[40] == 'A' ? 'B' : 'A';
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *doc = edited(TRUSTEE, cases[i].field, cases[i].index, cases[i].value, &n);
        vouch_err e = run(doc, n, NULL, NULL, NULL, &eb);

        if (e != cases[i].want)
            fail_msg("%s: got %d (%s)", cases[i].what, e, eb.msg);
        if (strcmp(eb.field, cases[i].want_field) != 0)
            fail_msg("%s: field '%s', want '%s'", cases[i].what, eb.field, cases[i].want_field);
        free(doc);
    }
    json_decref(sw);
    json_decref(tr);
}

static void test_malformed(void **state)
{
    static const char *const docs[] = {
        "", "[]", "{}", "{\"ak_public\":\"AAAA\"}", "{\"tpm_quote\":[]}",
        "{\"ak_public\":1,\"tpm_quote\":{}}", "nul",
    };
    struct vouch_errbuf eb;
    char *big;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        assert_int_equal(run(docs[i], strlen(docs[i]), NULL, NULL, NULL, &eb), VOUCH_E_INVALID);
    /* 24 PCRs exactly */
    {
        json_t *j = tu_json(TRUSTEE);
        char *s;

        json_array_remove(json_object_get(json_object_get(j, "tpm_quote"), "pcrs"), 0);
        s = json_dumps(j, JSON_COMPACT);
        assert_int_equal(run(s, strlen(s), NULL, NULL, NULL, &eb), VOUCH_E_INVALID);
        assert_string_equal(eb.field, "tpm_quote.pcrs");
        free(s);
        json_decref(j);
    }
    big = calloc(1, VOUCH_TPM_TRUSTEE_MAX + 2);
    memset(big, ' ', VOUCH_TPM_TRUSTEE_MAX + 1);
    assert_int_equal(run(big, VOUCH_TPM_TRUSTEE_MAX + 1, NULL, NULL, NULL, &eb),
                     VOUCH_E_TOO_LARGE);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_bindings),
        cmocka_unit_test(test_swtpm_claims),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
