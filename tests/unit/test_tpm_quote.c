/* SPDX-License-Identifier: Apache-2.0 */
/* TPM quotes: AK loading, TPMS_ATTEST/TPMT_SIGNATURE parsing, verification, PCR files, claims. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "common/codec.h"
#include "evidence/tpm/quote.h"
#include "tpm_testutil.h"

#define SW TPM_VEC "swtpm-generated/"

static struct vouch_tpm_key *load_key(const char *path, unsigned flags)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_tpm_key *k = NULL;
    size_t len;
    uint8_t *d = tu_read(path, &len);

    if (vouch_tpm_key_load(d, len, flags, &k, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(d);
    return k;
}

static uint8_t *sw_nonce(size_t *len)
{
    size_t n;
    uint8_t *hex = tu_read(SW "nonce.hex", &n), *out;

    while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
        hex[--n] = 0;
    out = tu_unhex((char *)hex, len);
    free(hex);
    return out;
}

static void load_pcrs(const char *path, const struct vouch_tpm_pcr_select *sel,
                      struct vouch_tpm_pcrs *p)
{
    struct vouch_errbuf eb = { "" };
    size_t len;
    uint8_t *d = tu_read(path, &len);

    if (vouch_tpm_pcrs_load(d, len, sel, p, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(d);
}

/* The swtpm quotes verify with each AK given as TPM2B_PUBLIC and as PEM, with both PCR file formats. */
static void test_swtpm_quotes(void **state)
{
    static const struct {
        const char *ak;
        uint16_t sig_alg;
    } aks[] = {
        { "rsa", VOUCH_TPM_ALG_RSASSA },
        { "pss", VOUCH_TPM_ALG_RSAPSS },
        { "ecc", VOUCH_TPM_ALG_ECDSA },
    };
    size_t i, nlen;
    uint8_t *nonce = sw_nonce(&nlen);

    (void)state;
    for (i = 0; i < sizeof(aks) / sizeof(aks[0]); i++) {
        static const char *const prefixes[] = { "quote", "qv" };
        char path[256];
        int form, pf;

        for (form = 0; form < 2; form++) {
            struct vouch_tpm_key *ak;

            snprintf(path, sizeof(path), SW "ak_%s.%s", aks[i].ak, form ? "pem" : "tpm2b_public");
            ak = load_key(path, form ? 0 : VOUCH_TPM_KEY_REQUIRE_AK_ATTRS);
            for (pf = 0; pf < 2; pf++) {
                struct vouch_tpm_quote q;
                struct vouch_tpm_pcrs pcrs;
                struct vouch_tpm_quote_check chk = { nonce, nlen, &pcrs, NULL, 0, 0 };
                struct vouch_errbuf eb = { "" };
                uint8_t *msg, *sig;
                size_t mlen, slen;

                snprintf(path, sizeof(path), SW "%s_%s.msg", prefixes[pf], aks[i].ak);
                msg = tu_read(path, &mlen);
                snprintf(path, sizeof(path), SW "%s_%s.sig", prefixes[pf], aks[i].ak);
                sig = tu_read(path, &slen);
                assert_int_equal(vouch_tpm_quote_parse(msg, mlen, &q, NULL), VOUCH_OK);
                snprintf(path, sizeof(path), SW "%s_%s.%s", prefixes[pf], aks[i].ak,
                         pf ? "values" : "pcrs");
                load_pcrs(path, &q.select, &pcrs);
                if (vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, &chk, &q, &eb))
                    fail_msg("%s/%s/%s: %s", aks[i].ak, form ? "pem" : "tpm", prefixes[pf], eb.msg);
                assert_int_equal(q.sig_alg, aks[i].sig_alg);
                assert_int_equal(q.sig_hash, VOUCH_TCG_ALG_SHA256);
                assert_int_equal(q.reset_count, 2);       /* an EK-hierarchy AK: real counters */
                assert_int_equal(q.firmware_version, 0x2019102300163636ULL);
                assert_int_equal(q.select.count, 2);
                assert_int_equal(q.select.bank[0].mask, 0x7ff);
                assert_int_equal(q.select.bank[1].mask, 0x107ff);
                free(msg);
                free(sig);
            }
            vouch_tpm_key_free(ak);
        }
    }
    free(nonce);
}

/* A TPM2B_PUBLIC's Name is nameAlg || H(TPMT_PUBLIC), as tpm2_createak -n wrote it. */
static void test_ak_name_and_attributes(void **state)
{
    struct vouch_tpm_key *ak = load_key(SW "ak_rsa.tpm2b_public", VOUCH_TPM_KEY_REQUIRE_AK_ATTRS);
    struct vouch_tpm_key *k = NULL;
    struct vouch_errbuf eb = { "" };
    size_t nlen, len;
    uint8_t *name = tu_read(SW "ak_rsa.name", &nlen), *pub;

    (void)state;
    assert_int_equal(ak->name_len, nlen);
    assert_memory_equal(ak->name, name, nlen);
    assert_int_equal(ak->type, VOUCH_TPM_ALG_RSA);
    assert_int_equal(ak->bits, 2048);
    assert_int_equal(ak->scheme, VOUCH_TPM_ALG_RSASSA);
    assert_int_equal(ak->attributes & VOUCH_TPM_AK_ATTRS, VOUCH_TPM_AK_ATTRS);
    vouch_tpm_key_free(ak);
    free(name);

    /* clear "restricted" (byte 2 of objectAttributes at offset 2+2+2): no longer an AK */
    pub = tu_read(SW "ak_rsa.tpm2b_public", &len);
    pub[2 + 2 + 2 + 1] &= (uint8_t)~0x01;
    assert_int_equal(vouch_tpm_key_load(pub, len, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS, &k, &eb),
                     VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "restricted"));
    assert_int_equal(vouch_tpm_key_load(pub, len, 0, &k, NULL), VOUCH_OK);
    vouch_tpm_key_free(k);
    free(pub);

    /* the EK (a restricted decryption key with AES-128-CFB) */
    k = load_key(SW "ek_rsa.pub", 0);
    assert_int_equal(k->sym_alg, VOUCH_TPM_ALG_AES);
    assert_int_equal(k->sym_bits, 128);
    assert_int_equal(k->sym_mode, VOUCH_TPM_ALG_CFB);
    assert_true(k->attributes & VOUCH_TPMA_DECRYPT);
    vouch_tpm_key_free(k);
}

/* The quote's qualifiedSigner is QN(AK) = H(QN(EK) || Name(AK)), QN(EK) = H(TPM_RH_ENDORSEMENT || Name(EK)). */
static void test_qualified_signer(void **state)
{
    static const uint8_t rh[4] = { 0x40, 0x00, 0x00, 0x0b };
    struct vouch_tpm_key *ek = load_key(SW "ek_rsa.pub", 0);
    struct vouch_tpm_key *ak = load_key(SW "ak_rsa.tpm2b_public", 0);
    uint8_t ekqn[66], akqn[66], bad[66];
    size_t ekqn_len, akqn_len, mlen, slen;
    uint8_t *msg = tu_read(SW "quote_rsa.msg", &mlen), *sig = tu_read(SW "quote_rsa.sig", &slen);
    struct vouch_tpm_quote_check chk = { NULL, 0, NULL, NULL, 0, 0 };
    struct vouch_tpm_quote q;

    (void)state;
    assert_int_equal(vouch_tpm_qualified_name(ek->name_alg, rh, 4, ek->name, ek->name_len, ekqn,
                                              &ekqn_len), VOUCH_OK);
    assert_int_equal(vouch_tpm_qualified_name(ak->name_alg, ekqn, ekqn_len, ak->name, ak->name_len,
                                              akqn, &akqn_len), VOUCH_OK);
    chk.signer = akqn;
    chk.signer_len = akqn_len;
    assert_int_equal(vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, &chk, &q, NULL), VOUCH_OK);
    memcpy(bad, akqn, akqn_len);
    bad[5] ^= 1;
    chk.signer = bad;
    assert_int_equal(vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, &chk, &q, NULL),
                     VOUCH_E_VERIFY);
    vouch_tpm_key_free(ek);
    vouch_tpm_key_free(ak);
    free(msg);
    free(sig);
}

static void test_key_load_errors(void **state)
{
    static const struct {
        const char *hex;
        vouch_err want;
    } cases[] = {
        { "", VOUCH_E_INVALID },
        { "00", VOUCH_E_INVALID },
        { "0000", VOUCH_E_INVALID },
        /* TPMT_PUBLIC of a keyedhash object */
        { "0008000b00040000000000100000", VOUCH_E_UNSUPPORTED },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_tpm_key *k = (void *)1;
        size_t len;
        uint8_t *d = tu_unhex(cases[i].hex, &len);
        vouch_err e = vouch_tpm_key_load(d, len, 0, &k, NULL);

        if (e != cases[i].want)
            fail_msg("case %zu: %s", i, vouch_err_name(e));
        assert_ptr_equal(k, (void *)1);
        free(d);
    }
    {
        const char *pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        struct vouch_tpm_key *k = NULL;

        assert_int_equal(vouch_tpm_key_load((const uint8_t *)pem, strlen(pem), 0, &k, NULL),
                         VOUCH_E_INVALID);
    }
}

enum mutation { M_NONE, M_NONCE, M_PCR, M_SIGBIT, M_ATTESTBIT, M_MAGIC, M_TYPE, M_TRUNC,
                M_TRAIL, M_WRONG_AK, M_MISSING_PCR, M_NO_SHA1, M_PSS_AS_SSA, M_SIG_TRAIL };

/* Each tampering is rejected at its own step with its own error. */
static void test_negative_table(void **state)
{
    static const struct {
        const char *name;
        const char *ak;
        enum mutation m;
        vouch_err want;
        const char *msg;
    } cases[] = {
        { "rsa ok", "rsa", M_NONE, VOUCH_OK, NULL },
        { "rsa wrong nonce", "rsa", M_NONCE, VOUCH_E_BINDING, "nonce" },
        { "pss wrong nonce", "pss", M_NONCE, VOUCH_E_BINDING, "nonce" },
        { "ecc wrong nonce", "ecc", M_NONCE, VOUCH_E_BINDING, "nonce" },
        { "rsa tampered PCR", "rsa", M_PCR, VOUCH_E_VERIFY, "pcrDigest" },
        { "pss tampered PCR", "pss", M_PCR, VOUCH_E_VERIFY, "pcrDigest" },
        { "ecc tampered PCR", "ecc", M_PCR, VOUCH_E_VERIFY, "pcrDigest" },
        { "rsa flipped sig bit", "rsa", M_SIGBIT, VOUCH_E_VERIFY, "signature" },
        { "pss flipped sig bit", "pss", M_SIGBIT, VOUCH_E_VERIFY, "signature" },
        { "ecc flipped sig bit", "ecc", M_SIGBIT, VOUCH_E_VERIFY, "signature" },
        { "rsa flipped attest bit", "rsa", M_ATTESTBIT, VOUCH_E_VERIFY, "signature" },
        { "ecc flipped attest bit", "ecc", M_ATTESTBIT, VOUCH_E_VERIFY, "signature" },
        { "bad magic", "rsa", M_MAGIC, VOUCH_E_INVALID, "magic" },
        { "not a quote", "rsa", M_TYPE, VOUCH_E_INVALID, "TPM2_ST_ATTEST_QUOTE" },
        { "truncated attest", "rsa", M_TRUNC, VOUCH_E_TRUNCATED, "TPMS_ATTEST" },
        { "trailing byte", "rsa", M_TRAIL, VOUCH_E_INVALID, "trailing" },
        { "sig trailing byte", "ecc", M_SIG_TRAIL, VOUCH_E_INVALID, "trailing" },
        { "other AK", "ecc", M_WRONG_AK, VOUCH_E_VERIFY, "signature" },
        { "PCR missing", "rsa", M_MISSING_PCR, VOUCH_E_NOT_FOUND, "PCR 16" },
        { "pss quote, rsassa AK", "pss", M_PSS_AS_SSA, VOUCH_E_VERIFY, "scheme" },
    };
    size_t i, nlen;
    uint8_t *nonce = sw_nonce(&nlen);

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[256];
        struct vouch_tpm_key *ak;
        struct vouch_tpm_quote q;
        struct vouch_tpm_pcrs pcrs;
        struct vouch_tpm_quote_check chk = { nonce, nlen, &pcrs, NULL, 0, 0 };
        struct vouch_errbuf eb = { "" };
        uint8_t *msg, *sig, badnonce[64];
        size_t mlen, slen;
        vouch_err e;

        snprintf(path, sizeof(path), SW "ak_%s.tpm2b_public",
                 cases[i].m == M_WRONG_AK ? "rsa" : cases[i].m == M_PSS_AS_SSA ? "rsa" : cases[i].ak);
        ak = load_key(path, 0);
        snprintf(path, sizeof(path), SW "quote_%s.msg", cases[i].ak);
        msg = tu_read(path, &mlen);
        msg = realloc(msg, mlen + 1);
        snprintf(path, sizeof(path), SW "quote_%s.sig", cases[i].ak);
        sig = tu_read(path, &slen);
        sig = realloc(sig, slen + 1);
        assert_int_equal(vouch_tpm_quote_parse(msg, mlen, &q, NULL), VOUCH_OK);
        snprintf(path, sizeof(path), SW "quote_%s.pcrs", cases[i].ak);
        load_pcrs(path, NULL, &pcrs);
        switch (cases[i].m) {
        case M_NONCE:
            memcpy(badnonce, nonce, nlen);
            badnonce[nlen - 1] ^= 1;
            chk.nonce = badnonce;
            break;
        case M_PCR: pcrs.value[VOUCH_HASH_SHA256][10][5] ^= 0x10; break;
        case M_SIGBIT: sig[slen - 7] ^= 0x04; break;
        case M_ATTESTBIT: msg[40] ^= 0x01; break;
        case M_MAGIC: msg[3] ^= 0x01; break;
        case M_TYPE: msg[5] = 0x17; break;   /* TPM2_ST_ATTEST_CERTIFY */
        case M_TRUNC: mlen -= 3; break;
        case M_TRAIL: msg[mlen++] = 0; break;
        case M_SIG_TRAIL: sig[slen++] = 0; break;
        case M_MISSING_PCR: pcrs.mask[VOUCH_HASH_SHA256] &= ~(1u << 16); break;
        default: break;
        }
        e = vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, &chk, NULL, &eb);
        if (e != cases[i].want || (cases[i].msg && !strstr(eb.msg, cases[i].msg)))
            fail_msg("%s: got %s '%s'", cases[i].name, vouch_err_name(e), eb.msg);
        vouch_tpm_key_free(ak);
        free(msg);
        free(sig);
    }
    free(nonce);
}

/* keylime's unit-test TPMS_ATTEST decodes to the values keylime's test states. */
static void test_keylime_attest(void **state)
{
    struct vouch_tpm_quote q;
    size_t len, el, dl;
    uint8_t *d = tu_read(TPM_VEC "keylime/tpms_attest_quote_unit.bin", &len);
    uint8_t *extra = tu_unhex("4169354d35536a596a6e6b797634503769744831", &el);
    uint8_t *dg = tu_unhex("6d4d3749132f6257172164cd5ff3135f447973d4a5c84e018901f6753705b701", &dl);

    (void)state;
    assert_int_equal(vouch_tpm_quote_parse(d, len, &q, NULL), VOUCH_OK);
    assert_int_equal(q.clock, 1284787942);
    assert_int_equal(q.reset_count, 3);
    assert_int_equal(q.restart_count, 0);
    assert_int_equal(q.safe, 1);
    assert_int_equal(q.extra_len, el);
    assert_memory_equal(q.extra, extra, el);
    assert_int_equal(q.pcr_digest_len, dl);
    assert_memory_equal(q.pcr_digest, dg, dl);
    free(d);
    free(extra);
    free(dg);
}

/* The Windows GCE Shielded VM quote (SHA-1 RSASSA, AK given as a bare TPMT_PUBLIC, no nonce). */
static void test_windows_gce_quote(void **state)
{
    json_t *dump = tu_json(TPM_VEC "go-attestation/windows_gcp_shielded_vm.json");
    json_t *pj = json_object_get(json_object_get(dump, "Log"), "PCRs"), *x, *claims;
    struct vouch_tpm_key *ak = NULL;
    struct vouch_tpm_pcrs pcrs;
    struct vouch_tpm_quote q;
    struct vouch_tpm_quote_check chk = { (const uint8_t *)"", 0, &pcrs, NULL, 0,
                                         VOUCH_TPM_QUOTE_ALLOW_SHA1 };
    struct vouch_errbuf eb = { "" };
    size_t publen, qlen, slen, i;
    uint8_t *pub = tu_b64_member(json_object_get(dump, "AK"), "Public", &publen);
    uint8_t *quote = tu_b64_member(json_object_get(dump, "Quote"), "Quote", &qlen);
    uint8_t *sig = tu_b64_member(json_object_get(dump, "Quote"), "Signature", &slen);

    (void)state;
    vouch_tpm_pcrs_init(&pcrs);
    json_array_foreach(pj, i, x) {
        size_t dl;
        uint8_t *d = tu_b64_member(x, "Digest", &dl);

        vouch_tpm_pcrs_set(&pcrs, VOUCH_HASH_SHA1,
                           (unsigned)json_integer_value(json_object_get(x, "Index")), d, dl, NULL);
        free(d);
    }
    if (vouch_tpm_key_load(pub, publen, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS, &ak, &eb))
        fail_msg("AK: %s", eb.msg);
    if (vouch_tpm_quote_verify(ak, quote, qlen, sig, slen, &chk, &q, &eb))
        fail_msg("quote: %s", eb.msg);
    assert_int_equal(q.sig_hash, VOUCH_TCG_ALG_SHA1);
    assert_int_equal(q.select.bank[0].mask, 0xffffff);
    /* qualifiedSigner is the AK's Qualified Name, not its Name */
    chk.signer = ak->name;
    chk.signer_len = ak->name_len;
    assert_int_equal(vouch_tpm_quote_verify(ak, quote, qlen, sig, slen, &chk, NULL, &eb),
                     VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "qualifiedSigner"));
    chk.signer = NULL;
    /* SHA-1 is refused unless allowed */
    chk.flags = 0;
    assert_int_equal(vouch_tpm_quote_verify(ak, quote, qlen, sig, slen, &chk, NULL, &eb),
                     VOUCH_E_UNSUPPORTED);
    /* claims: obfuscated counters come with the warning */
    assert_int_equal(vouch_tpm_quote_claims(&q, ak, &pcrs, &claims), VOUCH_OK);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(
                         json_object_get(claims, "quote"), "clock_info"), "reset_count")), 1045281252);
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(claims, "warnings"), 0)),
                           "obfuscated"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(claims, "quote"),
                                                          "hash_alg")), "sha1");
    assert_int_equal(json_object_size(json_object_get(json_object_get(claims, "pcrs"), "sha1")), 24);
    json_decref(claims);
    vouch_tpm_key_free(ak);
    free(pub);
    free(quote);
    free(sig);
    json_decref(dump);
}

/* Sign the swtpm attest with a fresh key and wrap the signature as a TPMT_SIGNATURE. */
static size_t make_sig(EVP_PKEY *pk, uint16_t scheme, uint16_t halg, const EVP_MD *md, int saltlen,
                       const uint8_t *msg, size_t mlen, uint8_t *out, size_t outsize)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t raw[1024];
    size_t rlen = sizeof(raw), off = 0;
    TPMT_SIGNATURE s;

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, pk), 1);
    if (scheme == VOUCH_TPM_ALG_RSAPSS) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen), 1);
    }
    assert_int_equal(EVP_DigestSign(ctx, raw, &rlen, msg, mlen), 1);
    EVP_MD_CTX_free(ctx);
    memset(&s, 0, sizeof(s));
    s.sigAlg = scheme;
    if (scheme == VOUCH_TPM_ALG_ECDSA) {
        ECDSA_SIG *es;
        const unsigned char *p = raw;
        const BIGNUM *r, *sv;
        int fs = (EVP_PKEY_get_bits(pk) + 7) / 8;

        es = d2i_ECDSA_SIG(NULL, &p, (long)rlen);
        assert_non_null(es);
        ECDSA_SIG_get0(es, &r, &sv);
        s.signature.ecdsa.hash = halg;
        s.signature.ecdsa.signatureR.size = (UINT16)fs;
        s.signature.ecdsa.signatureS.size = (UINT16)fs;
        BN_bn2binpad(r, s.signature.ecdsa.signatureR.buffer, fs);
        BN_bn2binpad(sv, s.signature.ecdsa.signatureS.buffer, fs);
        ECDSA_SIG_free(es);
    } else {
        s.signature.rsassa.hash = halg;
        s.signature.rsassa.sig.size = (UINT16)rlen;
        memcpy(s.signature.rsassa.sig.buffer, raw, rlen);
    }
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&s, out, outsize, &off), TSS2_RC_SUCCESS);
    return off;
}

static struct vouch_tpm_key *pem_key(EVP_PKEY *pk)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n;
    struct vouch_tpm_key *k = NULL;

    assert_int_equal(PEM_write_bio_PUBKEY(b, pk), 1);
    n = BIO_get_mem_data(b, &p);
    assert_int_equal(vouch_tpm_key_load((const uint8_t *)p, (size_t)n, 0, &k, NULL), VOUCH_OK);
    BIO_free(b);
    return k;
}

/*
 * RSAPSS with the salt TPMs use (digest length, or the maximum on older
 * parts) and ECDSA over P-384/SHA-384, on keys made here.
 */
static void test_synthetic_schemes(void **state)
{
    static const struct {
        const char *name;
        const char *alg;      /* "RSA" or "EC" */
        uint16_t scheme, halg;
        const char *md;
        int saltlen;
        vouch_err want;
    } cases[] = {
        { "pss salt=digest", "RSA", VOUCH_TPM_ALG_RSAPSS, VOUCH_TCG_ALG_SHA256, "SHA256",
          RSA_PSS_SALTLEN_DIGEST, VOUCH_OK },
        { "pss salt=max", "RSA", VOUCH_TPM_ALG_RSAPSS, VOUCH_TCG_ALG_SHA256, "SHA256",
          RSA_PSS_SALTLEN_MAX, VOUCH_OK },
        { "pss sha384 salt=max", "RSA", VOUCH_TPM_ALG_RSAPSS, VOUCH_TCG_ALG_SHA384, "SHA384",
          RSA_PSS_SALTLEN_MAX, VOUCH_OK },
        { "rsassa sha512", "RSA", VOUCH_TPM_ALG_RSASSA, VOUCH_TCG_ALG_SHA512, "SHA512", 0,
          VOUCH_OK },
        { "ecdsa p384 sha384", "P-384", VOUCH_TPM_ALG_ECDSA, VOUCH_TCG_ALG_SHA384, "SHA384", 0,
          VOUCH_OK },
        { "ecdsa p256 sha256", "P-256", VOUCH_TPM_ALG_ECDSA, VOUCH_TCG_ALG_SHA256, "SHA256", 0,
          VOUCH_OK },
        { "hash mislabelled", "RSA", VOUCH_TPM_ALG_RSASSA, VOUCH_TCG_ALG_SHA384, "SHA256", 0,
          VOUCH_E_VERIFY },
    };
    size_t i, mlen;
    uint8_t *msg = tu_read(SW "quote_rsa.msg", &mlen);
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    (void)state;
    assert_non_null(rsa);
    assert_non_null(p384);
    assert_non_null(p256);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_PKEY *pk = !strcmp(cases[i].alg, "RSA") ? rsa : !strcmp(cases[i].alg, "P-384") ? p384 : p256;
        EVP_MD *md = EVP_MD_fetch(NULL, cases[i].md, NULL);
        uint8_t sig[1024];
        size_t slen = make_sig(pk, cases[i].scheme, cases[i].halg, md, cases[i].saltlen, msg, mlen,
                               sig, sizeof(sig));
        struct vouch_tpm_key *k = pem_key(pk);
        struct vouch_errbuf eb = { "" };
        vouch_err e = vouch_tpm_quote_verify(k, msg, mlen, sig, slen, NULL, NULL, &eb);

        if (e != cases[i].want)
            fail_msg("%s: %s '%s'", cases[i].name, vouch_err_name(e), eb.msg);
        EVP_MD_free(md);
        vouch_tpm_key_free(k);
    }
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(p256);
    free(msg);
}

/* A TPMT_PUBLIC for a P-384 ECDSA key loads and verifies. */
static void test_p384_tpmt_public(void **state)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA384", NULL);
    uint8_t pt[200], buf[512], sig[512];
    size_t ptlen = 0, off = 0, mlen, slen;
    TPMT_PUBLIC pub;
    struct vouch_tpm_key *k = NULL;
    struct vouch_errbuf eb = { "" };
    uint8_t *msg = tu_read(SW "quote_ecc.msg", &mlen);

    (void)state;
    assert_int_equal(EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt),
                                                     &ptlen), 1);
    assert_int_equal(ptlen, 97);
    memset(&pub, 0, sizeof(pub));
    pub.type = TPM2_ALG_ECC;
    pub.nameAlg = TPM2_ALG_SHA384;
    pub.objectAttributes = VOUCH_TPM_AK_ATTRS | VOUCH_TPMA_USERWITHAUTH;
    pub.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    pub.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    pub.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA384;
    pub.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
    pub.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    pub.unique.ecc.x.size = 48;
    memcpy(pub.unique.ecc.x.buffer, pt + 1, 48);
    pub.unique.ecc.y.size = 48;
    memcpy(pub.unique.ecc.y.buffer, pt + 49, 48);
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&pub, buf, sizeof(buf), &off), TSS2_RC_SUCCESS);
    if (vouch_tpm_key_load(buf, off, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS, &k, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(k->curve, TPM2_ECC_NIST_P384);
    assert_int_equal(k->name_len, 2 + 48);
    slen = make_sig(pk, VOUCH_TPM_ALG_ECDSA, VOUCH_TCG_ALG_SHA384, md, 0,
                    msg, mlen, sig, sizeof(sig));
    assert_int_equal(vouch_tpm_quote_verify(k, msg, mlen, sig, slen, NULL, NULL, &eb), VOUCH_OK);
    /* the AK fixes ECDSA/SHA-384: a SHA-256 signature is refused even if valid */
    EVP_MD_free(md);
    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    slen = make_sig(pk, VOUCH_TPM_ALG_ECDSA, VOUCH_TCG_ALG_SHA256, md, 0,
                    msg, mlen, sig, sizeof(sig));
    assert_int_equal(vouch_tpm_quote_verify(k, msg, mlen, sig, slen, NULL, NULL, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "scheme"));
    vouch_tpm_key_free(k);
    EVP_MD_free(md);
    EVP_PKEY_free(pk);
    free(msg);
}

/* The serialized, values, YAML and JSON PCR files of one quote give the same set. */
static void test_pcr_file_formats(void **state)
{
    struct vouch_tpm_pcrs ser, val, yaml, js;
    struct vouch_tpm_quote q;
    struct vouch_buf out = VOUCH_BUF_INIT(1u << 16);
    json_t *j;
    size_t mlen;
    uint8_t *msg = tu_read(SW "qv_rsa.msg", &mlen);
    char *text;

    (void)state;
    assert_int_equal(vouch_tpm_quote_parse(msg, mlen, &q, NULL), VOUCH_OK);
    load_pcrs(SW "quote_rsa.pcrs", NULL, &ser);
    load_pcrs(SW "qv_rsa.values", &q.select, &val);
    assert_memory_equal(&ser, &val, sizeof(ser));
    assert_int_equal(vouch_buf_puts(&out, "pcrs:\n"), VOUCH_OK);
    assert_int_equal(vouch_tpm_pcrs_format_yaml(&ser, VOUCH_TPM_YAML_CHECKQUOTE, &out), VOUCH_OK);
    assert_non_null(strstr(vouch_buf_str(&out), "    10: 0x"));
    assert_int_equal(vouch_tpm_pcrs_load(out.data, out.len, NULL, &yaml, NULL), VOUCH_OK);
    assert_memory_equal(&ser, &yaml, sizeof(ser));
    assert_int_equal(vouch_tpm_pcrs_to_json(&ser, &j), VOUCH_OK);
    text = json_dumps(j, 0);
    assert_int_equal(vouch_tpm_pcrs_load((uint8_t *)text, strlen(text), NULL, &js, NULL), VOUCH_OK);
    assert_memory_equal(&ser, &js, sizeof(ser));
    free(text);
    json_decref(j);
    /* values of the wrong length, text that holds no PCR */
    assert_int_equal(vouch_tpm_pcrs_load(msg, 7, &q.select, &val, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_tpm_pcrs_load((const uint8_t *)"hello: world\n", 13, NULL, &val, NULL),
                     VOUCH_E_INVALID);
    assert_int_equal(vouch_tpm_pcrs_load((const uint8_t *)"{\"sha256\":{\"0\":\"00\"}}", 21, NULL,
                                         &val, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_tpm_pcrs_load((const uint8_t *)"{\"md5\":{}}", 10, NULL, &val, NULL),
                     VOUCH_E_UNSUPPORTED);
    /* "pcrN" keys followed by more keys (fuzz_tpm_pcrs: this crashed the object walk) */
    {
        static const char pk[] =
            "{\"sha1\":{\"pcr1\":\"6176b439cac1531683990fefe2218a4323d96fe8\","
            "\"2\":\"b2a83b0ebf2f8374299a5b2bdfc31ea955ad7236\",\"pcr3\":"
            "\"0000000000000000000000000000000000000000\"}}";

        assert_int_equal(vouch_tpm_pcrs_load((const uint8_t *)pk, strlen(pk), NULL, &val, NULL),
                         VOUCH_OK);
        static const char bad[] = "{\"sha1\":{\"pcr1\":\"6176b439cac1531683990fefe2218a4323d96fe8\","
                                  "\"5123\":\"00\"}}";

        assert_int_equal(vouch_tpm_pcrs_load((const uint8_t *)bad, strlen(bad), NULL, &val, NULL),
                         VOUCH_E_INVALID);
    }
    vouch_buf_free(&out);
    free(msg);
}

static void test_selection_strings(void **state)
{
    static const struct {
        const char *in;
        vouch_err want;
        const char *out;
    } cases[] = {
        { "sha1:0,1,2,3+sha256:0,16", VOUCH_OK, "sha1:0,1,2,3+sha256:0,16" },
        { "sha256:0-3,10", VOUCH_OK, "sha256:0,1,2,3,10" },
        { "sha384:all", VOUCH_OK, "sha384:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23" },
        { "sm3_256:1", VOUCH_OK, "sm3_256:1" },
        { "sha256:24", VOUCH_E_INVALID, NULL },
        { "sha256:3-1", VOUCH_E_INVALID, NULL },
        { "md5:1", VOUCH_E_UNSUPPORTED, NULL },
        { "sha256", VOUCH_E_INVALID, NULL },
        { "", VOUCH_E_INVALID, NULL },
        { "sha256:1;2", VOUCH_E_INVALID, NULL },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_tpm_pcr_select sel;
        struct vouch_buf b = VOUCH_BUF_INIT(1024);
        vouch_err e = vouch_tpm_pcr_select_parse(cases[i].in, &sel, NULL);

        if (e != cases[i].want)
            fail_msg("'%s': %s", cases[i].in, vouch_err_name(e));
        if (!e) {
            assert_int_equal(vouch_tpm_pcr_select_format(&sel, &b), VOUCH_OK);
            assert_string_equal(vouch_buf_str(&b), cases[i].out);
        }
        vouch_buf_free(&b);
    }
}

static void test_quote_claims(void **state)
{
    struct vouch_tpm_key *ak = load_key(SW "ak_ecc.tpm2b_public", 0);
    struct vouch_tpm_quote q;
    struct vouch_tpm_pcrs pcrs;
    size_t mlen, slen;
    uint8_t *msg = tu_read(SW "quote_ecc.msg", &mlen), *sig = tu_read(SW "quote_ecc.sig", &slen);
    json_t *c, *qj;

    (void)state;
    load_pcrs(SW "quote_ecc.pcrs", NULL, &pcrs);
    assert_int_equal(vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, NULL, &q, NULL), VOUCH_OK);
    assert_int_equal(vouch_tpm_quote_claims(&q, ak, &pcrs, &c), VOUCH_OK);
    qj = json_object_get(c, "quote");
    assert_string_equal(json_string_value(json_object_get(qj, "firmware_version")), "2019102300163636");
    assert_string_equal(json_string_value(json_object_get(qj, "sig_alg")), "ecdsa");
    assert_string_equal(json_string_value(json_object_get(qj, "pcr_select")),
                        "sha1:0,1,2,3,4,5,6,7,8,9,10+sha256:0,1,2,3,4,5,6,7,8,9,10,16");
    assert_true(json_is_true(json_object_get(json_object_get(qj, "clock_info"), "safe")));
    assert_string_equal(json_string_value(json_object_get(c, "report_data")),
                        json_string_value(json_object_get(qj, "report_data")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "ak"), "type")), "ecc");
    assert_int_equal(json_object_size(json_object_get(json_object_get(c, "pcrs"), "sha256")), 12);
    json_decref(c);
    /* The longest selection a quote may carry: 16 banks of an unnamed algorithm, every PCR. */
    q.select.count = VOUCH_TPM_MAX_SELECT;
    for (size_t b = 0; b < VOUCH_TPM_MAX_SELECT; b++) {
        q.select.bank[b].alg = 0xfff0;
        q.select.bank[b].mask = (1u << VOUCH_TPM_PCR_COUNT) - 1;
    }
    assert_int_equal(vouch_tpm_quote_claims(&q, ak, NULL, &c), VOUCH_OK);
    qj = json_object_get(c, "quote");
    assert_int_equal(strlen(json_string_value(json_object_get(qj, "pcr_select"))),
                     VOUCH_TPM_MAX_SELECT * (7 + 61) + VOUCH_TPM_MAX_SELECT - 1);
    json_decref(c);
    vouch_tpm_key_free(ak);
    free(msg);
    free(sig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swtpm_quotes),
        cmocka_unit_test(test_ak_name_and_attributes),
        cmocka_unit_test(test_qualified_signer),
        cmocka_unit_test(test_key_load_errors),
        cmocka_unit_test(test_negative_table),
        cmocka_unit_test(test_keylime_attest),
        cmocka_unit_test(test_windows_gce_quote),
        cmocka_unit_test(test_synthetic_schemes),
        cmocka_unit_test(test_p384_tpmt_public),
        cmocka_unit_test(test_pcr_file_formats),
        cmocka_unit_test(test_selection_strings),
        cmocka_unit_test(test_quote_claims),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
