/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch-agent's TPM side against a software TPM (swtpm on a free
 * 127.0.0.1 port, through the swtpm TCTI, ESYS only): the EK from the TCG
 * template and its certificate from NV, a persistent AK under the EK,
 * TPM2_ActivateCredential of a credential made by libvouch's
 * MakeCredential (the service's code), and quotes that libvouch's
 * verifier accepts with the AK's qualified name under the EK.  An
 * unreachable TPM is a clear VOUCH_E_UNAVAILABLE.  swtpm is stopped and
 * its directory removed even when a case fails (group teardown, signals).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "agent/agent.h"
#include "agent/agent_tpm.h"
#include "evidence/tpm/ek.h"
#include "evidence/tpm/quote.h"
#include "swtpm_util.h"

#define AK_HANDLE 0x81010003u

static struct {
    bool ready;
    struct swtpm tpm;
    char tcti[96];
} env;

static int group_setup(void **state)
{
    int missing = swtpm_tools_missing(NULL, 0);

    (void)state;
    if (missing)
        return missing < 0 ? -1 : 0;
    setenv("TSS2_LOG", "all+NONE", 0);      /* the failures the cases provoke are expected */
    if (!swtpm_make(&env.tpm))
        return env.tpm.dir[0] ? -1 : 0;
    if (!swtpm_start(&env.tpm)) {
        fprintf(stderr, "# swtpm did not start, see %s/swtpm.log\n", env.tpm.dir);
        return -1;
    }
    snprintf(env.tcti, sizeof(env.tcti), "swtpm:host=127.0.0.1,port=%s", env.tpm.port);
    env.ready = true;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    swtpm_destroy(&env.tpm);
    return 0;
}

static struct vouch_agent_tpm *open_tpm(void)
{
    struct vouch_agent_tpm *t = NULL;
    struct vouch_errbuf eb = { "" };

    if (vouch_agent_tpm_open(env.tcti, &t, &eb))
        fail_msg("%s", eb.msg);
    return t;
}

static struct vouch_tpm_key *load_key(const uint8_t *d, size_t len, unsigned flags)
{
    struct vouch_tpm_key *k = NULL;
    struct vouch_errbuf eb = { "" };

    if (vouch_tpm_key_load(d, len, flags, &k, &eb))
        fail_msg("%s", eb.msg);
    return k;
}

/* The EK: the TCG template's key, certified by the NV certificate swtpm_setup wrote. */
static struct vouch_tpm_key *check_ek(struct vouch_agent_tpm *t)
{
    uint8_t *pub = NULL, *cert = NULL;
    size_t pub_len, cert_len;
    struct vouch_tpm_key *ek;
    struct vouch_errbuf eb = { "" };
    const uint8_t *p;
    X509 *x;

    if (vouch_agent_tpm_ek(t, &pub, &pub_len, &cert, &cert_len, &eb))
        fail_msg("%s", eb.msg);
    ek = load_key(pub, pub_len, 0);
    assert_int_equal(ek->type, VOUCH_TPM_ALG_RSA);
    assert_int_equal(ek->bits, 2048);
    assert_non_null(cert);
    p = cert;
    x = d2i_X509(NULL, &p, (long)cert_len);
    assert_non_null(x);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), ek->pkey), 1);
    X509_free(x);
    free(pub);
    free(cert);
    return ek;
}

/* Activate a credential made for `name`; the recovered secret, or a failure. */
static vouch_err activate(struct vouch_agent_tpm *t, const struct vouch_tpm_key *ek,
                          const uint8_t *name, size_t name_len, const uint8_t secret[16],
                          uint8_t out[64], size_t *out_len)
{
    struct vouch_tpm_credential c;
    uint8_t blob[1024];
    vouch_err e;

    assert_int_equal(vouch_tpm_make_credential(ek, name, name_len, secret, 16, &c, NULL),
                     VOUCH_OK);
    memcpy(blob, c.id_object, c.id_object_len);
    memcpy(blob + c.id_object_len, c.secret, c.secret_len);
    e = vouch_agent_tpm_activate(t, AK_HANDLE, blob, c.id_object_len + c.secret_len, out,
                                 out_len, NULL);
    vouch_tpm_credential_free(&c);
    return e;
}

static void quote_and_verify(struct vouch_agent_tpm *t, const struct vouch_tpm_key *ek,
                             const struct vouch_tpm_key *ak)
{
    static const uint8_t rh[4] = { 0x40, 0x00, 0x00, 0x0b };   /* TPM_RH_ENDORSEMENT */
    struct vouch_tpm_pcr_select sel;
    struct vouch_agent_quote q;
    struct vouch_errbuf eb = { "" };
    uint8_t nonce[32], ekqn[66], akqn[66];
    size_t ekqn_len, akqn_len;
    struct vouch_tpm_quote_check chk;

    assert_int_equal(vouch_tpm_pcr_select_parse(VOUCH_AGENT_DEFAULT_PCRS, &sel, NULL), VOUCH_OK);
    assert_int_equal(RAND_bytes(nonce, sizeof(nonce)), 1);
    if (vouch_agent_tpm_quote(t, AK_HANDLE, &sel, nonce, sizeof(nonce), &q, &eb))
        fail_msg("%s", eb.msg);
    assert_true(vouch_tpm_pcrs_has(&q.pcrs, VOUCH_HASH_SHA1, 10));
    assert_true(vouch_tpm_pcrs_has(&q.pcrs, VOUCH_HASH_SHA256, 0));
    assert_false(vouch_tpm_pcrs_has(&q.pcrs, VOUCH_HASH_SHA256, 11));
    assert_int_equal(vouch_tpm_qualified_name(ek->name_alg, rh, 4, ek->name, ek->name_len, ekqn,
                                              &ekqn_len), VOUCH_OK);
    assert_int_equal(vouch_tpm_qualified_name(ak->name_alg, ekqn, ekqn_len, ak->name,
                                              ak->name_len, akqn, &akqn_len), VOUCH_OK);
    memset(&chk, 0, sizeof(chk));
    chk.nonce = nonce;
    chk.nonce_len = sizeof(nonce);
    chk.pcrs = &q.pcrs;
    chk.signer = akqn;               /* the AK is the EK's child, as tpm2_createak makes it */
    chk.signer_len = akqn_len;
    if (vouch_tpm_quote_verify(ak, q.attest, q.attest_len, q.sig, q.sig_len, &chk, NULL, &eb))
        fail_msg("%s", eb.msg);
    nonce[0] ^= 1;                   /* another nonce: refused */
    assert_int_equal(vouch_tpm_quote_verify(ak, q.attest, q.attest_len, q.sig, q.sig_len, &chk,
                                            NULL, NULL), VOUCH_E_BINDING);
    vouch_agent_quote_done(&q);
}

static void test_enrolment_and_quote(void **state)
{
    struct vouch_agent_tpm *t;
    struct vouch_agent_tpm_object ak, again;
    struct vouch_tpm_key *ek, *akey;
    struct vouch_errbuf eb = { "" };
    uint8_t secret[16], out[64], wrong_name[34];
    size_t out_len = 0;

    (void)state;
    if (!env.ready)
        skip();
    t = open_tpm();
    ek = check_ek(t);
    /* a fresh TPM: no AK yet; create one, persistent, found again under its Name */
    assert_int_equal(vouch_agent_tpm_read_persistent(t, AK_HANDLE, &ak, NULL), VOUCH_E_NOT_FOUND);
    if (vouch_agent_tpm_create_ak(t, AK_HANDLE, &ak, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(vouch_agent_tpm_read_persistent(t, AK_HANDLE, &again, NULL), VOUCH_OK);
    assert_int_equal(again.name_len, ak.name_len);
    assert_memory_equal(again.name, ak.name, ak.name_len);
    akey = load_key(ak.pub, ak.pub_len, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS);
    assert_int_equal(akey->bits, 2048);
    assert_int_equal(akey->scheme, VOUCH_TPM_ALG_RSASSA);
    /* the service's MakeCredential, activated by the TPM */
    assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
    assert_int_equal(activate(t, ek, ak.name, ak.name_len, secret, out, &out_len), VOUCH_OK);
    assert_int_equal(out_len, 16);
    assert_memory_equal(out, secret, 16);
    /* a credential for another Name does not activate */
    memcpy(wrong_name, ak.name, sizeof(wrong_name));
    wrong_name[5] ^= 1;
    assert_int_not_equal(activate(t, ek, wrong_name, ak.name_len, secret, out, &out_len),
                         VOUCH_OK);
    quote_and_verify(t, ek, akey);
    /* a new AK replaces the old one at the handle */
    if (vouch_agent_tpm_create_ak(t, AK_HANDLE, &again, &eb))
        fail_msg("%s", eb.msg);
    assert_memory_not_equal(again.name, ak.name, ak.name_len);
    assert_int_equal(vouch_agent_tpm_evict(t, AK_HANDLE, NULL), VOUCH_OK);
    assert_int_equal(vouch_agent_tpm_read_persistent(t, AK_HANDLE, &ak, NULL), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_agent_tpm_evict(t, AK_HANDLE, NULL), VOUCH_OK);
    vouch_tpm_key_free(akey);
    vouch_tpm_key_free(ek);
    vouch_agent_tpm_close(t);
}

static void test_unreachable(void **state)
{
    struct vouch_agent_tpm *t = NULL;
    struct vouch_errbuf eb = { "" };
    char tcti[96];

    (void)state;
    if (!env.ready)
        skip();
    /* the control port speaks another protocol; port + 2 is (very likely) closed */
    snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%d", atoi(env.tpm.port) + 2);
    assert_int_equal(vouch_agent_tpm_open(tcti, &t, &eb), VOUCH_E_UNAVAILABLE);
    assert_non_null(strstr(eb.msg, "TPM unreachable"));
    assert_null(t);
    assert_int_equal(vouch_agent_tpm_open("device:/nonexistent/tpmrm0", &t, &eb),
                     VOUCH_E_UNAVAILABLE);
    assert_non_null(strstr(eb.msg, "device:/nonexistent/tpmrm0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enrolment_and_quote),
        cmocka_unit_test(test_unreachable),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
