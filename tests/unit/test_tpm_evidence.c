/* SPDX-License-Identifier: Apache-2.0 */
/* A whole TPM report (quote + PCR values + event log) from a real machine, and its failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evidence/tpm/evidence.h"
#include "tpm_testutil.h"

struct bundle {
    json_t *dump;
    struct vouch_tpm_key *ak;
    struct vouch_tpm_pcrs pcrs;
    uint8_t *quote, *sig, *log;
    size_t qlen, slen, llen;
};

/* go-attestation's Windows GCE Shielded VM dump. */
static void load_windows(struct bundle *b)
{
    json_t *x;
    size_t i, publen;
    uint8_t *pub;

    memset(b, 0, sizeof(*b));
    b->dump = tu_json(TPM_VEC "go-attestation/windows_gcp_shielded_vm.json");
    pub = tu_b64_member(json_object_get(b->dump, "AK"), "Public", &publen);
    assert_int_equal(vouch_tpm_key_load(pub, publen, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS, &b->ak, NULL),
                     VOUCH_OK);
    free(pub);
    b->quote = tu_b64_member(json_object_get(b->dump, "Quote"), "Quote", &b->qlen);
    b->sig = tu_b64_member(json_object_get(b->dump, "Quote"), "Signature", &b->slen);
    b->log = tu_b64_member(json_object_get(b->dump, "Log"), "Raw", &b->llen);
    vouch_tpm_pcrs_init(&b->pcrs);
    json_array_foreach(json_object_get(json_object_get(b->dump, "Log"), "PCRs"), i, x) {
        size_t dl;
        uint8_t *d = tu_b64_member(x, "Digest", &dl);

        assert_int_equal(vouch_tpm_pcrs_set(&b->pcrs, VOUCH_HASH_SHA1,
                                            (unsigned)json_integer_value(json_object_get(x, "Index")),
                                            d, dl, NULL), VOUCH_OK);
        free(d);
    }
}

static void free_bundle(struct bundle *b)
{
    vouch_tpm_key_free(b->ak);
    free(b->quote);
    free(b->sig);
    free(b->log);
    json_decref(b->dump);
}

static void test_windows_report(void **state)
{
    struct bundle b;
    struct vouch_tpm_evidence ev;
    struct vouch_tpm_verify_opts opts;
    struct vouch_errbuf eb = { "" };
    struct vouch_ima_state next;
    json_t *c = NULL;

    (void)state;
    load_windows(&b);
    memset(&ev, 0, sizeof(ev));
    memset(&opts, 0, sizeof(opts));
    ev.attest = b.quote;
    ev.attest_len = b.qlen;
    ev.sig = b.sig;
    ev.sig_len = b.slen;
    ev.pcrs = &b.pcrs;
    ev.eventlog = b.log;
    ev.eventlog_len = b.llen;
    opts.nonce = (const uint8_t *)"";
    opts.quote_flags = VOUCH_TPM_QUOTE_ALLOW_SHA1;
    memset(&next, 0x33, sizeof(next));
    if (vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, &next, &eb))
        fail_msg("%s", eb.msg);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "quote"), "hash_alg")),
                        "sha1");
    assert_true(json_is_true(json_object_get(json_object_get(c, "secure_boot"), "enabled")));
    assert_string_equal(json_string_value(json_object_get(c, "format")), "tcg1");
    assert_true(json_array_size(json_object_get(c, "uefi_event_logs")) > 20);
    assert_true(json_integer_value(json_object_get(json_object_get(c, "eventlog_verification"),
                                                   "compared")) >= 8);
    assert_null(json_object_get(c, "ima"));
    assert_int_equal(next.next_index, 0);
    json_decref(c);

    /* a value the agent changed: the quote no longer matches */
    b.pcrs.value[VOUCH_HASH_SHA1][7][0] ^= 1;
    assert_int_equal(vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, NULL, &eb), VOUCH_E_VERIFY);
    assert_int_equal(strncmp(eb.msg, "quote: pcrDigest", 16), 0);
    b.pcrs.value[VOUCH_HASH_SHA1][7][0] ^= 1;

    /*
     * A value the quote does not select (it covers the sha1 bank): the
     * signature does not vouch for it, so it is refused, not carried on
     * unverified to the replays or a baseline.
     */
    {
        uint8_t v[32] = { 0x5a };

        assert_int_equal(vouch_tpm_pcrs_set(&b.pcrs, VOUCH_HASH_SHA256, 5, v, sizeof(v), NULL),
                         VOUCH_OK);
        assert_int_equal(vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, NULL, &eb),
                         VOUCH_E_INVALID);
        assert_string_equal(eb.msg, "quote: sha256 PCR 5 has a value but the quote does not "
                                    "select it: send the values of the quoted PCRs only");
        b.pcrs.mask[VOUCH_HASH_SHA256] = 0;
    }

    /* another machine's event log */
    {
        size_t len;
        uint8_t *other = tu_read(TPM_VEC "go-attestation/option_rom_eventlog", &len);

        ev.eventlog = other;
        ev.eventlog_len = len;
        assert_int_equal(vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, NULL, &eb), VOUCH_E_VERIFY);
        assert_int_equal(strncmp(eb.msg, "event log: ", 11), 0);
        free(other);
        ev.eventlog = b.log;
        ev.eventlog_len = b.llen;
    }
    /* a nonce the quote does not carry */
    opts.nonce = (const uint8_t *)"fresh";
    opts.nonce_len = 5;
    assert_int_equal(vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, NULL, &eb), VOUCH_E_BINDING);
    opts.nonce_len = 0;
    /*
     * An IMA log with this quote (PCR 10 still zero): only the empty prefix
     * is covered, both entries stay pending for the next round.  Claimed
     * to start at entry 5 without a state, it is refused.
     */
    {
        size_t len;
        uint8_t *ima = tu_read(TPM_VEC "keylime/create-runtime-policy_ima-log-sha256", &len);
        json_t *ij;

        ev.ima = ima;
        ev.ima_len = len;
        if (vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, &next, &eb))
            fail_msg("%s", eb.msg);
        ij = json_object_get(c, "ima");
        assert_int_equal(json_integer_value(json_object_get(ij, "verified_entries")), 0);
        assert_int_equal(json_integer_value(json_object_get(ij, "pending_entries")), 2);
        assert_int_equal(next.next_index, 0);
        json_decref(c);
        /* "ima" alone, the same; every check still runs */
        opts.ima_claims_only = true;
        if (vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, &next, &eb))
            fail_msg("%s", eb.msg);
        assert_int_equal(json_object_size(c), 1);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "ima"),
                                                            "pending_entries")), 2);
        json_decref(c);
        b.pcrs.value[VOUCH_HASH_SHA1][7][0] ^= 1;
        assert_int_equal(vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, NULL, &eb),
                         VOUCH_E_VERIFY);
        b.pcrs.value[VOUCH_HASH_SHA1][7][0] ^= 1;
        ev.eventlog = ima;                  /* not an event log */
        ev.eventlog_len = len;
        assert_int_not_equal(vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, NULL, &eb),
                             VOUCH_OK);
        assert_int_equal(strncmp(eb.msg, "event log: ", 11), 0);
        ev.eventlog = b.log;
        ev.eventlog_len = b.llen;
        opts.ima_claims_only = false;
        ev.ima_first_index = 5;
        assert_int_equal(vouch_tpm_evidence_verify(b.ak, &ev, &opts, &c, NULL, &eb),
                         VOUCH_E_CONFLICT);
        assert_int_equal(strncmp(eb.msg, "IMA log: ", 9), 0);
        free(ima);
    }
    free_bundle(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_report),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
