/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End to end with a software TPM: swtpm on 127.0.0.1 (a free port), EKs
 * with certificates from a throw-away local CA, RSA (RSASSA), RSAPSS and
 * ECC AKs, quotes over a fresh nonce verified by libvouch; a wrong nonce, a
 * tampered PCR and a flipped signature bit are rejected at their own step.
 * MakeCredential from libvouch is activated by the TPM (RSA and ECC EKs),
 * and an IMA log whose digests were extended into PCR 10 verifies against
 * a quote, boot_aggregate included.  The TPM side is tests/tpm/swtpm_client.sh.
 *
 * swtpm dies with this process (PR_SET_PDEATHSIG), and the work directory
 * is removed at the end.  Without swtpm/tpm2-tools every case is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <openssl/rand.h>

#include "common/codec.h"
#include "crypto/digest.h"
#include "crypto/x509.h"
#include "evidence/tpm/ek.h"
#include "evidence/tpm/evidence.h"
#include "evidence/tpm/ima.h"
#include "evidence/tpm/quote.h"
#include "swtpm_util.h"
#include "tpm_testutil.h"

#define CLIENT VOUCH_SOURCE_ROOT "/tests/tpm/swtpm_client.sh"

static struct {
    bool ready;
    struct swtpm tpm;
} env;

static int run(char *const argv[])
{
    return swtpm_run(&env.tpm, argv);
}

static int client(const char *step, const char *a1, const char *a2, const char *a3,
                  const char *a4)
{
    char *argv[] = { "bash", CLIENT, (char *)step, env.tpm.dir, env.tpm.port, (char *)a1,
                     (char *)a2, (char *)a3, (char *)a4, NULL };

    return run(argv);
}

static int group_setup(void **state)
{
    static const char *const progs[] = { "tpm2_quote", "tpm2_createak",
                                         "tpm2_activatecredential" };
    int missing = swtpm_tools_missing(progs, sizeof(progs) / sizeof(progs[0]));

    (void)state;
    if (missing)
        return missing < 0 ? -1 : 0;
    if (!swtpm_make(&env.tpm))
        return env.tpm.dir[0] ? -1 : 0;
    if (!swtpm_start(&env.tpm)) {
        fprintf(stderr, "# swtpm did not start, see %s/swtpm.log\n", env.tpm.dir);
        return -1;
    }
    if (client("setup", NULL, NULL, NULL, NULL) != 0) {
        fprintf(stderr, "# creating EKs/AKs failed, see %s/log\n", env.tpm.dir);
        return -1;
    }
    env.ready = true;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    swtpm_destroy(&env.tpm);
    return 0;
}

static uint8_t *wfile(const char *name, size_t *len)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", env.tpm.dir, name);
    return tu_read(path, len);
}

static struct vouch_tpm_key *wkey(const char *name, unsigned flags)
{
    size_t len;
    uint8_t *d = wfile(name, &len);
    struct vouch_tpm_key *k = NULL;
    struct vouch_errbuf eb = { "" };

    if (vouch_tpm_key_load(d, len, flags, &k, &eb))
        fail_msg("%s: %s", name, eb.msg);
    free(d);
    return k;
}

static void random_hex(uint8_t *b, size_t n, char *hex)
{
    assert_int_equal(RAND_bytes(b, (int)n), 1);
    vouch_hex_encode(b, n, hex);
}

/* "i:sha1=H1(s),sha256=H256(s)" */
static void extend_spec(char *out, size_t size, unsigned pcr, const void *s, size_t n)
{
    uint8_t h1[20], h2[32];
    char x1[41], x2[65];

    assert_int_equal(vouch_hash(VOUCH_HASH_SHA1, s, n, h1), VOUCH_OK);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, s, n, h2), VOUCH_OK);
    vouch_hex_encode(h1, 20, x1);
    vouch_hex_encode(h2, 32, x2);
    snprintf(out, size, "%u:sha1=%s,sha256=%s", pcr, x1, x2);
}

static void quoted_pcrs(const char *ak, const struct vouch_tpm_quote *q, struct vouch_tpm_pcrs *p)
{
    char name[64];
    size_t len;
    uint8_t *d;

    snprintf(name, sizeof(name), "quote_%s.pcrs", ak);
    d = wfile(name, &len);
    assert_int_equal(vouch_tpm_pcrs_load(d, len, &q->select, p, NULL), VOUCH_OK);
    free(d);
}

static void test_quotes(void **state)
{
    static const char *const aks[] = { "rsa", "pss", "ecc" };
    static const uint8_t rh[4] = { 0x40, 0x00, 0x00, 0x0b };   /* TPM_RH_ENDORSEMENT */
    struct vouch_tpm_key *ek;
    uint8_t nonce[20], ekqn[66];
    char nhex[41], spec[11][160];
    size_t i, ekqn_len;

    (void)state;
    if (!env.ready)
        skip();
    /* measurements into PCRs 0-9 and 16 (PCR 10 is left to the IMA case) */
    for (i = 0; i < 11; i++) {
        char what[64];

        snprintf(what, sizeof(what), "vouch swtpm test %zu %ld", i, (long)getpid());
        extend_spec(spec[i], sizeof(spec[i]), i < 10 ? (unsigned)i : 16, what, strlen(what));
    }
    {
        char *argv[] = { "bash", CLIENT, "extend", env.tpm.dir, env.tpm.port, spec[0], spec[1], spec[2],
                         spec[3], spec[4], spec[5], spec[6], spec[7], spec[8], spec[9], spec[10],
                         NULL };

        assert_int_equal(run(argv), 0);
    }
    ek = wkey("ek_rsa.pub", 0);
    assert_int_equal(vouch_tpm_qualified_name(ek->name_alg, rh, 4, ek->name, ek->name_len, ekqn,
                                              &ekqn_len), VOUCH_OK);
    for (i = 0; i < sizeof(aks) / sizeof(aks[0]); i++) {
        char name[64];
        struct vouch_tpm_key *ak, *pem;
        struct vouch_tpm_quote q;
        struct vouch_tpm_pcrs pcrs, bad;
        struct vouch_tpm_quote_check chk = { nonce, sizeof(nonce), &pcrs, NULL, 0, 0 };
        struct vouch_errbuf eb = { "" };
        uint8_t akqn[66], *msg, *sig, wrong[20];
        size_t akqn_len, mlen, slen;

        random_hex(nonce, sizeof(nonce), nhex);
        if (client("quote", nhex, "sha1:0,1,2,3,4,5,6,7,8,9+sha256:0,1,2,3,4,5,6,7,8,9,16", aks[i],
                   NULL) != 0)
            fail_msg("tpm2_quote with the %s AK failed, see %s/log", aks[i], env.tpm.dir);
        snprintf(name, sizeof(name), "ak_%s.tpm2b_public", aks[i]);
        ak = wkey(name, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS);
        snprintf(name, sizeof(name), "ak_%s.pem", aks[i]);
        pem = wkey(name, 0);
        assert_int_equal(vouch_tpm_qualified_name(ak->name_alg, ekqn, ekqn_len, ak->name,
                                                  ak->name_len, akqn, &akqn_len), VOUCH_OK);
        chk.signer = akqn;
        chk.signer_len = akqn_len;
        snprintf(name, sizeof(name), "quote_%s.msg", aks[i]);
        msg = wfile(name, &mlen);
        snprintf(name, sizeof(name), "quote_%s.sig", aks[i]);
        sig = wfile(name, &slen);
        assert_int_equal(vouch_tpm_quote_parse(msg, mlen, &q, NULL), VOUCH_OK);
        quoted_pcrs(aks[i], &q, &pcrs);
        if (vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, &chk, &q, &eb))
            fail_msg("%s quote: %s", aks[i], eb.msg);
        assert_true(q.reset_count < 1000);     /* an EK-hierarchy AK: counters not obfuscated */
        chk.signer = NULL;
        assert_int_equal(vouch_tpm_quote_verify(pem, msg, mlen, sig, slen, &chk, NULL, &eb), VOUCH_OK);
        chk.signer = akqn;

        /* a wrong nonce */
        memcpy(wrong, nonce, sizeof(wrong));
        wrong[7] ^= 0x40;
        chk.nonce = wrong;
        assert_int_equal(vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, &chk, NULL, &eb),
                         VOUCH_E_BINDING);
        assert_non_null(strstr(eb.msg, "nonce"));
        chk.nonce = nonce;
        /* a tampered PCR */
        bad = pcrs;
        bad.value[VOUCH_HASH_SHA256][16][31] ^= 1;
        chk.pcrs = &bad;
        assert_int_equal(vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, &chk, NULL, &eb),
                         VOUCH_E_VERIFY);
        assert_non_null(strstr(eb.msg, "pcrDigest"));
        chk.pcrs = &pcrs;
        /* a flipped signature bit */
        sig[slen - 1] ^= 0x01;
        assert_int_equal(vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, &chk, NULL, &eb),
                         VOUCH_E_VERIFY);
        assert_non_null(strstr(eb.msg, "signature"));
        free(msg);
        free(sig);
        vouch_tpm_key_free(ak);
        vouch_tpm_key_free(pem);
    }
    vouch_tpm_key_free(ek);
}

/* The EK certificate from NV chains to the local CA and carries the EK. */
static void test_ek_certificate(void **state)
{
    char path[128];
    size_t len;
    uint8_t *der;
    X509 *cert = NULL, *root = NULL, *issuer = NULL;
    STACK_OF(X509) *roots = sk_X509_new_null(), *inter = sk_X509_new_null();
    struct vouch_tpm_key *ek;
    struct vouch_errbuf eb = { "" };
    json_t *c;

    (void)state;
    if (!env.ready)
        skip();
    der = wfile("ek_rsa_cert.der", &len);
    assert_int_equal(vouch_tpm_ek_cert_parse(der, len, &cert, &eb), VOUCH_OK);
    snprintf(path, sizeof(path), "%s/localca/swtpm-localca-rootca-cert.pem", env.tpm.dir);
    assert_int_equal(vouch_x509_load_file(path, &root, NULL), VOUCH_OK);
    snprintf(path, sizeof(path), "%s/localca/issuercert.pem", env.tpm.dir);
    assert_int_equal(vouch_x509_load_file(path, &issuer, NULL), VOUCH_OK);
    sk_X509_push(roots, root);
    sk_X509_push(inter, issuer);
    ek = wkey("ek_rsa.pub", 0);
    if (vouch_tpm_ek_cert_verify(cert, inter, roots, ek, (int64_t)time(NULL), 0, &eb))
        fail_msg("EK certificate: %s", eb.msg);
    assert_int_equal(vouch_tpm_ek_cert_claims(cert, &c), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(c, "tpm_model")), "swtpm");
    json_decref(c);
    vouch_tpm_key_free(ek);
    ek = wkey("ek_ecc.pub", 0);
    assert_int_equal(vouch_tpm_ek_cert_verify(cert, inter, roots, ek, (int64_t)time(NULL), 0, &eb),
                     VOUCH_E_BINDING);
    vouch_tpm_key_free(ek);
    sk_X509_pop_free(roots, X509_free);
    sk_X509_pop_free(inter, X509_free);
    X509_free(cert);
    free(der);
}

/* Credentials made by libvouch are recovered by TPM2_ActivateCredential, for RSA and ECC EKs. */
static void test_credential_activation(void **state)
{
    static const char *const eks[] = { "rsa", "ecc" };
    struct vouch_tpm_key *ak = NULL, *other = NULL;
    size_t i;

    (void)state;
    if (!env.ready)
        skip();
    ak = wkey("ak_rsa.tpm2b_public", 0);
    other = wkey("ak_pss.tpm2b_public", 0);
    for (i = 0; i < 2; i++) {
        char name[64], ekctx[64], path[128];
        struct vouch_tpm_key *ek;
        struct vouch_tpm_credential c;
        struct vouch_errbuf eb = { "" };
        uint8_t secret[32], *file, *got;
        size_t flen, glen;
        char hex[65];
        FILE *f;

        snprintf(name, sizeof(name), "ek_%s.pub", eks[i]);
        snprintf(ekctx, sizeof(ekctx), "ek_%s.ctx", eks[i]);
        ek = wkey(name, 0);
        random_hex(secret, sizeof(secret), hex);
        if (vouch_tpm_ak_challenge(ek, ak, secret, sizeof(secret), &c, &eb))
            fail_msg("MakeCredential (%s EK): %s", eks[i], eb.msg);
        assert_int_equal(vouch_tpm_credential_file(&c, &file, &flen), VOUCH_OK);
        snprintf(path, sizeof(path), "%s/cred_%s.out", env.tpm.dir, eks[i]);
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(file, 1, flen, f), flen);
        fclose(f);
        snprintf(name, sizeof(name), "cred_%s.out", eks[i]);
        if (client("activate", ekctx, "ak_rsa.ctx", name, "recovered.bin") != 0)
            fail_msg("ActivateCredential (%s EK) failed, see %s/log", eks[i], env.tpm.dir);
        got = wfile("recovered.bin", &glen);
        assert_int_equal(glen, sizeof(secret));
        assert_memory_equal(got, secret, sizeof(secret));
        free(got);
        free(file);
        vouch_tpm_credential_free(&c);

        /* bound to another AK's Name: the TPM refuses to release it */
        assert_int_equal(vouch_tpm_ak_challenge(ek, other, secret, sizeof(secret), &c, &eb), VOUCH_OK);
        assert_int_equal(vouch_tpm_credential_file(&c, &file, &flen), VOUCH_OK);
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(file, 1, flen, f), flen);
        fclose(f);
        assert_true(client("activate", ekctx, "ak_rsa.ctx", name, "recovered.bin") != 0);
        free(file);
        vouch_tpm_credential_free(&c);
        vouch_tpm_key_free(ek);
    }
    vouch_tpm_key_free(ak);
    vouch_tpm_key_free(other);
}

/* One ima-ng entry's ASCII line and its per-bank template digests. */
static void ima_entry(const char *path, const uint8_t *fd, char *line, size_t lsize,
                      char *spec, size_t ssize)
{
    uint8_t data[512], h1[20], h2[32];
    char fhex[65], x1[41], x2[65];
    size_t pl = strlen(path) + 1, o = 0;

    data[o++] = 40;
    data[o++] = 0;
    data[o++] = 0;
    data[o++] = 0;
    memcpy(data + o, "sha256:", 8);
    o += 8;
    memcpy(data + o, fd, 32);
    o += 32;
    data[o++] = (uint8_t)pl;
    data[o++] = 0;
    data[o++] = 0;
    data[o++] = 0;
    memcpy(data + o, path, pl);
    o += pl;
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA1, data, o, h1), VOUCH_OK);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, data, o, h2), VOUCH_OK);
    vouch_hex_encode(fd, 32, fhex);
    vouch_hex_encode(h1, 20, x1);
    vouch_hex_encode(h2, 32, x2);
    snprintf(line, lsize, "10 %s ima-ng sha256:%s %s\n", x1, fhex, path);
    snprintf(spec, ssize, "10:sha1=%s,sha256=%s", x1, x2);
}

/*
 * An IMA log whose template digests were extended into PCR 10: the quote
 * authenticates it, boot_aggregate matches the quoted PCRs 0-9, and an
 * entry read after the quote is left pending.
 */
static void test_ima_log_against_quote(void **state)
{
    static const char *const files[] = { "/usr/bin/vouch-e2e", "/usr/lib/with space.so",
                                         "/etc/not-yet-quoted" };
    struct vouch_tpm_key *ak;
    struct vouch_tpm_quote q;
    struct vouch_tpm_pcrs pcrs;
    struct vouch_tpm_quote_check chk = { NULL, 0, &pcrs, NULL, 0, 0 };
    struct vouch_ima_log *log;
    struct vouch_ima_result r;
    struct vouch_ima_policy *pol;
    struct vouch_errbuf eb = { "" };
    uint8_t nonce[16], agg[32], fd[32], *msg, *sig;
    char nhex[33], text[2048] = "", line[512], spec[4][160];
    size_t mlen, slen, i, nunk;

    (void)state;
    if (!env.ready)
        skip();
    ak = wkey("ak_rsa.tpm2b_public", 0);
    /* PCRs 0-9 as the TPM has them now, for boot_aggregate */
    random_hex(nonce, sizeof(nonce), nhex);
    assert_int_equal(client("quote", nhex, "sha256:0,1,2,3,4,5,6,7,8,9", "rsa", NULL), 0);
    msg = wfile("quote_rsa.msg", &mlen);
    assert_int_equal(vouch_tpm_quote_parse(msg, mlen, &q, NULL), VOUCH_OK);
    quoted_pcrs("rsa", &q, &pcrs);
    free(msg);
    assert_int_equal(vouch_ima_boot_aggregate(&pcrs, VOUCH_HASH_SHA256, agg, NULL), VOUCH_OK);
    ima_entry("boot_aggregate", agg, line, sizeof(line), spec[0], sizeof(spec[0]));
    strcat(text, line);
    for (i = 0; i < 3; i++) {
        assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, files[i], strlen(files[i]), fd), VOUCH_OK);
        ima_entry(files[i], fd, line, sizeof(line), spec[i + 1], sizeof(spec[i + 1]));
        strcat(text, line);
    }
    {
        /* the kernel extends the first three; the fourth is logged after the quote */
        char *argv[] = { "bash", CLIENT, "extend", env.tpm.dir, env.tpm.port, spec[0], spec[1], spec[2],
                         NULL };

        assert_int_equal(run(argv), 0);
    }
    random_hex(nonce, sizeof(nonce), nhex);
    assert_int_equal(client("quote", nhex, "sha1:10+sha256:0,1,2,3,4,5,6,7,8,9,10", "rsa", NULL), 0);
    msg = wfile("quote_rsa.msg", &mlen);
    sig = wfile("quote_rsa.sig", &slen);
    assert_int_equal(vouch_tpm_quote_parse(msg, mlen, &q, NULL), VOUCH_OK);
    quoted_pcrs("rsa", &q, &pcrs);
    chk.nonce = nonce;
    chk.nonce_len = sizeof(nonce);
    if (vouch_tpm_quote_verify(ak, msg, mlen, sig, slen, &chk, &q, &eb))
        fail_msg("quote: %s", eb.msg);
    log = NULL;
    assert_int_equal(vouch_ima_log_parse((const uint8_t *)text, strlen(text), &log, &eb), VOUCH_OK);
    if (vouch_ima_verify(log, 0, NULL, &pcrs, 0, &r, &eb))
        fail_msg("IMA: %s", eb.msg);
    assert_int_equal(r.matched, 3);
    assert_int_equal(r.total, 4);
    assert_int_equal(r.boot_aggregate, VOUCH_IMA_BA_VERIFIED);
    assert_int_equal(r.banks, (1u << VOUCH_HASH_SHA1) | (1u << VOUCH_HASH_SHA256));
    /* the whitelist knows the first file only */
    assert_int_equal(vouch_ima_policy_new(&pol), VOUCH_OK);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, files[0], strlen(files[0]), fd), VOUCH_OK);
    assert_int_equal(vouch_ima_policy_add_digest(pol, files[0], strlen(files[0]), fd, 32, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_ima_policy_check(pol, log, 0, r.matched, 0, NULL, 0, &nunk, NULL),
                     VOUCH_OK);
    assert_int_equal(nunk, 1);
    /* the same report through the one-call API a vTPM service uses */
    {
        struct vouch_tpm_evidence ev = { msg, mlen, sig, slen, &pcrs, NULL, 0,
                                         (const uint8_t *)text, strlen(text), 0 };
        struct vouch_tpm_verify_opts opts;
        struct vouch_ima_state next;
        json_t *c = NULL, *ij;

        memset(&opts, 0, sizeof(opts));
        opts.nonce = nonce;
        opts.nonce_len = sizeof(nonce);
        opts.ima_policy = pol;
        if (vouch_tpm_evidence_verify(ak, &ev, &opts, &c, &next, &eb))
            fail_msg("evidence: %s", eb.msg);
        ij = json_object_get(c, "ima");
        assert_int_equal(json_integer_value(json_object_get(ij, "verified_entries")), 3);
        assert_int_equal(json_integer_value(json_object_get(ij, "pending_entries")), 1);
        assert_int_equal(json_integer_value(json_object_get(ij, "unknown_count")), 1);
        assert_string_equal(json_string_value(json_object_get(ij, "boot_aggregate")), "verified");
        assert_int_equal(next.next_index, 3);
        json_decref(c);
    }
    vouch_ima_policy_free(pol);
    vouch_ima_log_free(log);
    free(msg);
    free(sig);
    vouch_tpm_key_free(ak);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_ek_certificate),
        cmocka_unit_test(test_credential_activation),
        cmocka_unit_test(test_ima_log_against_quote),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
