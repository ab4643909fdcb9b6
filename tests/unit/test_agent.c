/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch-agent without a TPM: config file parsing, durations and handles,
 * the backoff schedule, the state file, the enrolment blobs (a
 * DataCredentialBlob made here as the service makes it, an AK certificate
 * over the swtpm vector AK), IMA slicing on a real binary IMA log and the
 * FileData document.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "agent/agent.h"
#include "agent/run.h"
#include "common/codec.h"
#include "evidence/tpm/ima.h"
#include "evidence/tpm/quote.h"
#include "tpm_testutil.h"

#define IMA_LOG TPM_VEC "embrave/binary_runtime_measurements"
#define AK_PUB TPM_VEC "swtpm-generated/ak_rsa.tpm2b_public"
#define EK_PUB TPM_VEC "swtpm-generated/ek_rsa.pub"

static void test_durations(void **state)
{
    static const struct { const char *in; int64_t want; } cases[] = {
        { "90", 90 }, { "90s", 90 }, { "15m", 900 }, { "2h", 7200 }, { "1d", 86400 },
        { "7d", 604800 }, { "604800", 604800 },
        { "0", -1 }, { "8d", -1 }, { "604801", -1 }, { "", -1 }, { "m", -1 }, { "-5", -1 },
        { "10x", -1 }, { "15mm", -1 }, { " 5", -1 }, { "99999999999999999999", -1 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = -1;
        vouch_err e = vouch_agent_parse_duration(cases[i].in, &got, NULL);

        if (cases[i].want < 0)
            assert_int_not_equal(e, VOUCH_OK);
        else
            assert_int_equal(got, cases[i].want);
    }
}

static void test_handles(void **state)
{
    static const struct { const char *in; uint32_t want; } cases[] = {
        { "0x81010003", 0x81010003u }, { "0x81000000", 0x81000000u }, { "0x81ffffff", 0x81ffffffu },
        { "2164326403", 0x81010003u },
        { "0x80000000", 0 }, { "0x82000000", 0 }, { "0x81010003z", 0 }, { "", 0 }, { "x", 0 },
        { "0x1ffffffff81010003", 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t got = 0;
        vouch_err e = vouch_agent_parse_handle(cases[i].in, &got, NULL);

        assert_int_equal(e == VOUCH_OK, cases[i].want != 0);
        assert_int_equal(got, cases[i].want);
    }
}

static void test_conf_file(void **state)
{
    static const char good[] =
        "server = \"https://vouch.example:8080\"\n"
        "access_key_id = \"VKid\"\naccess_key_secret = \"s3cret\"\n"
        "uuid = \"i-1\"\ntcti = \"swtpm:host=127.0.0.1,port=2321\"\n"
        "ak_handle = \"0x81010004\"\ninterval = \"15m\"\npcrs = \"sha256:0-7\"\n";
    static const struct { const char *text; const char *field; } bad[] = {
        { "servr = \"x\"\n", "servr" },
        { "server = 5\n", "server" },
        { "server = \"\"\n", "server" },
        { "ak_handle = 5\n", "ak_handle" },
        { "interval = \"0s\"\n", "interval" },
        { "interval = true\n", "interval" },
        { "server = \"x\n", "" },
    };
    struct vouch_agent_conf c;
    struct vouch_errbuf eb = { "" };
    size_t i;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.uuid = strdup("from-the-command-line");
    assert_int_equal(vouch_agent_conf_parse(good, strlen(good), &c, &eb), VOUCH_OK);
    assert_string_equal(c.server, "https://vouch.example:8080");
    assert_string_equal(c.access_key_secret, "s3cret");
    assert_string_equal(c.uuid, "from-the-command-line");   /* the command line wins */
    assert_int_equal(c.ak_handle, 0x81010004u);
    assert_int_equal(c.interval, 900);
    assert_string_equal(c.pcrs, "sha256:0-7");
    assert_null(c.eventlog);
    vouch_agent_conf_free(&c);
    /* "" turns a log off */
    assert_int_equal(vouch_agent_conf_parse("ima_log = \"\"\n", 13, &c, NULL), VOUCH_OK);
    assert_string_equal(c.ima_log, "");
    vouch_agent_conf_free(&c);
    /* an integer interval is seconds */
    assert_int_equal(vouch_agent_conf_parse("interval = 60\n", 14, &c, NULL), VOUCH_OK);
    assert_int_equal(c.interval, 60);
    vouch_agent_conf_free(&c);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&eb, 0, sizeof(eb));
        assert_int_not_equal(vouch_agent_conf_parse(bad[i].text, strlen(bad[i].text), &c, &eb),
                             VOUCH_OK);
        if (bad[i].field[0])
            assert_string_equal(eb.field, bad[i].field);
        vouch_agent_conf_free(&c);
    }
}

static void test_backoff(void **state)
{
    unsigned f;
    int64_t prev_min = 0;

    (void)state;
    for (f = 1; f < 40; f++) {
        int64_t lo = vouch_agent_backoff(f, 1800, 0), hi = vouch_agent_backoff(f, 1800, UINT32_MAX);
        int64_t full = lo * 2 < 1800 ? lo * 2 : 1800;

        assert_true(lo >= prev_min);               /* never shrinks as failures grow */
        assert_true(hi <= 1800 && hi >= lo);
        assert_true(hi <= full + 1);
        prev_min = lo;
    }
    assert_int_equal(vouch_agent_backoff(1, 1800, 0), 8);      /* 15 s: 8 fixed + 0..7 */
    assert_int_equal(vouch_agent_backoff(1, 1800, 7), 15);
    assert_int_equal(vouch_agent_backoff(2, 1800, 0), 15);     /* 30 s */
    assert_int_equal(vouch_agent_backoff(30, 1800, 0), 900);   /* capped at the interval */
    assert_int_equal(vouch_agent_backoff(30, 60, 30), 60);
    assert_int_equal(vouch_agent_backoff(3, 0, 5), 1);
    /* the first report: within a minute, never after the interval */
    assert_int_equal(vouch_agent_first_delay(1800, 60), 60);
    assert_int_equal(vouch_agent_first_delay(1800, 61), 0);
    assert_int_equal(vouch_agent_first_delay(10, 11), 0);
    assert_true(vouch_agent_first_delay(10, UINT32_MAX) <= 10);
}

static void test_state(void **state)
{
    struct vouch_agent_state s, back;
    static const char *const bad[] = {
        "[]", "{}", "{\"version\": 2}", "{\"version\": 1, \"ima_next\": -1}",
        "{\"version\": 1, \"ak_name\": \"00x\"}", "{\"version\": 1, \"ak_handle\": -3}",
        "{\"version\": 1, \"uuid\": 5}", "not json",
    };
    char *text = NULL;
    size_t i;

    (void)state;
    vouch_agent_state_init(&s);
    snprintf(s.uuid, sizeof(s.uuid), "%s", "4c4c4544-0042-3510-8052-b4c04f4d3732");
    s.registered = true;
    s.ak_handle = 0x81010003u;
    s.ak_name_len = 34;
    memset(s.ak_name, 0xab, 34);
    s.ak_cert = strdup("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n");
    s.ima_next = 922;
    snprintf(s.boot_id, sizeof(s.boot_id), "%s", "b6a5c3a2-0000-4000-8000-000000000001");
    assert_int_equal(vouch_agent_state_format(&s, &text, NULL), VOUCH_OK);
    assert_int_equal(vouch_agent_state_parse(text, strlen(text), &back, NULL), VOUCH_OK);
    assert_string_equal(back.uuid, s.uuid);
    assert_true(back.registered);
    assert_false(back.ak_active);
    assert_int_equal(back.ak_handle, s.ak_handle);
    assert_int_equal(back.ak_name_len, 34);
    assert_memory_equal(back.ak_name, s.ak_name, 34);
    assert_string_equal(back.ak_cert, s.ak_cert);
    assert_int_equal(back.ima_next, 922);
    assert_string_equal(back.boot_id, s.boot_id);
    /* the service lost the enrolment: no certificate, IMA from 0, register again; the key stays */
    vouch_agent_state_forget_ak(&back);
    assert_null(back.ak_cert);
    assert_false(back.registered);
    assert_int_equal(back.ima_next, 0);
    assert_int_equal(back.ak_handle, 0x81010003u);
    vouch_agent_state_done(&back);
    vouch_agent_state_done(&s);
    free(text);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(vouch_agent_state_parse(bad[i], strlen(bad[i]), &back, NULL),
                             VOUCH_OK);
}

/* A DataCredentialBlob as the service makes it: u32 BE length | IV | AES-128-CBC(text). */
static uint8_t *make_dcb(const uint8_t key[16], const char *text, size_t *ret_len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    size_t n = strlen(text);
    uint8_t *out = malloc(4 + 16 + n + 16);
    int a = 0, b = 0;

    assert_non_null(out);
    assert_int_equal(RAND_bytes(out + 4, 16), 1);
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, out + 4), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, out + 20, &a, (const uint8_t *)text, (int)n), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, out + 20 + a, &b), 1);
    EVP_CIPHER_CTX_free(ctx);
    out[0] = (uint8_t)((a + b) >> 24);
    out[1] = (uint8_t)((a + b) >> 16);
    out[2] = (uint8_t)((a + b) >> 8);
    out[3] = (uint8_t)(a + b);
    *ret_len = 20 + (size_t)(a + b);
    return out;
}

/* A certificate for the public key of TPM2B_PUBLIC file `pub`, self-issued by a throw-away key. */
static char *cert_for(const char *pub)
{
    size_t len;
    uint8_t *d = tu_read(pub, &len);
    struct vouch_tpm_key *k = NULL;
    EVP_PKEY *ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem, *data;
    long n;

    assert_int_equal(vouch_tpm_key_load(d, len, 0, &k, NULL), VOUCH_OK);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"i-1", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    assert_int_equal(X509_set_pubkey(x, k->pkey), 1);
    assert_true(X509_sign(x, ca, EVP_sha256()) > 0);
    PEM_write_bio_X509(bio, x);
    n = BIO_get_mem_data(bio, &data);
    pem = strndup(data, (size_t)n);
    BIO_free(bio);
    X509_free(x);
    EVP_PKEY_free(ca);
    vouch_tpm_key_free(k);
    free(d);
    return pem;
}

static void test_data_credential(void **state)
{
    uint8_t key[16], wrong[16], *dcb, *pub;
    char *cert = cert_for(AK_PUB), *other = cert_for(EK_PUB), *chain, *out = NULL, *picked = NULL;
    size_t dcb_len, out_len, pub_len;

    (void)state;
    assert_int_equal(RAND_bytes(key, 16), 1);
    memcpy(wrong, key, 16);
    wrong[0] ^= 1;
    chain = malloc(strlen(cert) + strlen(other) + 1);
    strcpy(chain, cert);
    strcat(chain, other);
    dcb = make_dcb(key, chain, &dcb_len);
    assert_int_equal(vouch_agent_data_credential_decrypt(key, 16, dcb, dcb_len, &out, &out_len,
                                                         NULL), VOUCH_OK);
    assert_string_equal(out, chain);
    /* the AK certificate is the first one, verbatim, and certifies the AK */
    pub = tu_read(AK_PUB, &pub_len);
    assert_int_equal(vouch_agent_ak_cert_pick(out, out_len, pub, pub_len, &picked, NULL),
                     VOUCH_OK);
    assert_string_equal(picked, cert);
    free(picked);
    free(pub);
    /* a certificate of another key is refused */
    pub = tu_read(AK_PUB, &pub_len);
    assert_int_equal(vouch_agent_ak_cert_pick(other, strlen(other), pub, pub_len, &picked, NULL),
                     VOUCH_E_VERIFY);
    assert_int_equal(vouch_agent_ak_cert_pick("no pem", 6, pub, pub_len, &picked, NULL),
                     VOUCH_E_INVALID);
    free(pub);
    /* a wrong key, a short key, a cut blob, a lying length */
    free(out);
    out = NULL;
    assert_int_not_equal(vouch_agent_data_credential_decrypt(wrong, 16, dcb, dcb_len, &out,
                                                             &out_len, NULL), VOUCH_OK);
    assert_int_equal(vouch_agent_data_credential_decrypt(key, 15, dcb, dcb_len, &out, &out_len,
                                                         NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_agent_data_credential_decrypt(key, 16, dcb, 19, &out, &out_len, NULL),
                     VOUCH_E_TRUNCATED);
    assert_int_equal(vouch_agent_data_credential_decrypt(key, 16, dcb, dcb_len - 16, &out,
                                                         &out_len, NULL), VOUCH_E_INVALID);
    dcb[3] ^= 0x10;
    assert_int_equal(vouch_agent_data_credential_decrypt(key, 16, dcb, dcb_len, &out, &out_len,
                                                         NULL), VOUCH_E_INVALID);
    assert_null(out);
    free(dcb);
    free(chain);
    free(cert);
    free(other);
}

static void test_ima_slice(void **state)
{
    size_t len, off;
    uint8_t *log = tu_read(IMA_LOG, &len);
    uint64_t start, count;
    struct vouch_ima_log *all = NULL, *tail = NULL;

    (void)state;
    assert_int_equal(vouch_ima_log_parse(log, len, &all, NULL), VOUCH_OK);
    assert_int_equal(all->n, 922);
    /* from 0: all of it */
    assert_int_equal(vouch_agent_ima_slice(log, len, 0, &start, &off, &count, NULL), VOUCH_OK);
    assert_int_equal(start, 0);
    assert_int_equal(off, 0);
    assert_int_equal(count, 922);
    /* from 900: the bytes of the last 22 entries, which parse on their own */
    assert_int_equal(vouch_agent_ima_slice(log, len, 900, &start, &off, &count, NULL), VOUCH_OK);
    assert_int_equal(start, 900);
    assert_int_equal(vouch_ima_log_parse(log + off, len - off, &tail, NULL), VOUCH_OK);
    assert_int_equal(tail->n, 22);
    assert_memory_equal(tail->entries[0].template_hash, all->entries[900].template_hash, 20);
    vouch_ima_log_free(tail);
    /* up to date: nothing to send */
    assert_int_equal(vouch_agent_ima_slice(log, len, 922, &start, &off, &count, NULL), VOUCH_OK);
    assert_int_equal(start, 922);
    assert_int_equal(off, len);
    /* the service expects more than the log holds: it restarted (a reboot), send from 0 */
    assert_int_equal(vouch_agent_ima_slice(log, len, 5000, &start, &off, &count, NULL), VOUCH_OK);
    assert_int_equal(start, 0);
    assert_int_equal(off, 0);
    /* an empty log; a cut one */
    assert_int_equal(vouch_agent_ima_slice(log, 0, 7, &start, &off, &count, NULL), VOUCH_OK);
    assert_int_equal(start, 0);
    assert_int_equal(count, 0);
    assert_int_not_equal(vouch_agent_ima_slice(log, len - 3, 0, &start, &off, &count, NULL),
                         VOUCH_OK);
    vouch_ima_log_free(all);
    free(log);
}

static json_t *decode_filedata(const char *b64)
{
    uint8_t *text = NULL;
    size_t len;
    json_t *doc;

    assert_int_equal(vouch_b64_decode(b64, strlen(b64), VOUCH_B64_STD, 1 << 24, &text, &len,
                                      NULL), VOUCH_OK);
    doc = json_loadb((const char *)text, len, 0, NULL);
    assert_non_null(doc);
    free(text);
    return doc;
}

static void test_filedata(void **state)
{
    struct vouch_tpm_pcrs pcrs;
    uint8_t v1[20], v2[32], attest[3] = { 1, 2, 3 }, sig[2] = { 9, 8 }, ima[4] = { 0xde, 0xad };
    struct vouch_agent_report r = {
        .nonce_hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        .attest = attest, .attest_len = 3, .sig = sig, .sig_len = 2, .pcrs = &pcrs,
        .ima = ima, .ima_len = 4, .ima_start = 17,
        .ak_cert = "-----BEGIN CERTIFICATE-----\n",
    };
    char *fd = NULL;
    json_t *doc;

    (void)state;
    memset(v1, 0x11, sizeof(v1));
    memset(v2, 0x22, sizeof(v2));
    vouch_tpm_pcrs_init(&pcrs);
    assert_int_equal(vouch_tpm_pcrs_set(&pcrs, VOUCH_HASH_SHA1, 10, v1, 20, NULL), VOUCH_OK);
    assert_int_equal(vouch_tpm_pcrs_set(&pcrs, VOUCH_HASH_SHA256, 0, v2, 32, NULL), VOUCH_OK);
    assert_int_equal(vouch_agent_filedata(&r, &fd, NULL), VOUCH_OK);
    doc = decode_filedata(fd);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(doc, "nonce")), r.nonce_hex);
    assert_string_equal(json_string_value(json_object_get(doc, "quote")), "AQID");
    assert_string_equal(json_string_value(json_object_get(doc, "signature")), "CQg=");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(doc,
                        "pcrs"), "sha1"), "10")), "1111111111111111111111111111111111111111");
    assert_int_equal(json_object_size(json_object_get(json_object_get(doc, "pcrs"), "sha256")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "ima"), "start")), 17);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "ima"), "log")),
                        "3q0AAA==");
    assert_string_equal(json_string_value(json_object_get(doc, "ak_cert")), r.ak_cert);
    assert_null(json_object_get(doc, "eventlog"));
    json_decref(doc);
    free(fd);
    /* an active AK, no IMA log: neither member */
    r.ak_cert = NULL;
    r.ima = NULL;
    r.eventlog = ima;
    r.eventlog_len = 2;
    assert_int_equal(vouch_agent_filedata(&r, &fd, NULL), VOUCH_OK);
    doc = decode_filedata(fd);
    assert_null(json_object_get(doc, "ak_cert"));
    assert_null(json_object_get(doc, "ima"));
    assert_string_equal(json_string_value(json_object_get(doc, "eventlog")), "3q0=");
    json_decref(doc);
    free(fd);
}

/* vouch_agent_start in a temporary state dir, with `dmi` as the DMI product UUID file's text. */
static void start_agent(const char *base, const char *dmi, const char *uuid,
                        struct vouch_agent *a)
{
    char path[256];
    FILE *f;

    memset(a, 0, sizeof(*a));
    snprintf(path, sizeof(path), "%s/dmi", base);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(dmi, f);
    fclose(f);
    snprintf(a->dmi_uuid_path, sizeof(a->dmi_uuid_path), "%s", path);
    snprintf(path, sizeof(path), "%s/state", base);
    a->conf.state_dir = strdup(path);
    a->conf.uuid = uuid ? strdup(uuid) : NULL;
    assert_int_equal(vouch_agent_start(a, NULL), VOUCH_OK);
}

static void test_uuid_and_state_dir(void **state)
{
    char base[64] = "/tmp/vouch-agent-XXXXXX", path[128], first[VOUCH_AGENT_UUID_MAX + 1];
    struct vouch_agent a;
    struct stat sb;

    (void)state;
    assert_non_null(mkdtemp(base));
    snprintf(path, sizeof(path), "%s/state", base);
    assert_int_equal(mkdir(path, 0755), 0);
    /* the DMI product UUID, lower case; the directory made 0700 */
    start_agent(base, "4C4C4544-0042-3510-8052-B4C04F4D3732\n", NULL, &a);
    assert_string_equal(a.st.uuid, "4c4c4544-0042-3510-8052-b4c04f4d3732");
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    a.st.registered = true;        /* as after RegisterMessage */
    {
        char *text = NULL;
        FILE *f;

        snprintf(path, sizeof(path), "%s/state/state.json", base);
        assert_int_equal(vouch_agent_state_format(&a.st, &text, NULL), VOUCH_OK);
        f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
        free(text);
    }
    vouch_agent_done(&a);
    /* kept: a later DMI value does not change it */
    start_agent(base, "11111111-2222-3333-4444-555555555555\n", NULL, &a);
    assert_string_equal(a.st.uuid, "4c4c4544-0042-3510-8052-b4c04f4d3732");
    assert_true(a.st.registered);
    vouch_agent_done(&a);
    /* --uuid wins, and a new uuid means a new enrolment */
    start_agent(base, "", "i-42", &a);
    assert_string_equal(a.st.uuid, "i-42");
    assert_false(a.st.registered);
    vouch_agent_done(&a);
    snprintf(path, sizeof(path), "rm -rf '%s/state'", base);
    assert_int_equal(system(path), 0);
    /* DMI unset (all zeros): a random UUID, kept */
    start_agent(base, "00000000-0000-0000-0000-000000000000\n", NULL, &a);
    assert_int_equal(strlen(a.st.uuid), 36);
    assert_int_equal(a.st.uuid[14], '4');
    assert_string_not_equal(a.st.uuid, "00000000-0000-0000-0000-000000000000");
    snprintf(first, sizeof(first), "%s", a.st.uuid);
    vouch_agent_done(&a);
    start_agent(base, "", NULL, &a);
    assert_string_equal(a.st.uuid, first);
    vouch_agent_done(&a);
    snprintf(path, sizeof(path), "rm -rf '%s'", base);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_handles),
        cmocka_unit_test(test_conf_file),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_data_credential),
        cmocka_unit_test(test_ima_slice),
        cmocka_unit_test(test_filedata),
        cmocka_unit_test(test_uuid_and_state_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
