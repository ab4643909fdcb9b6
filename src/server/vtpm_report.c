/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vTPM reports: AK enrolment by credential activation (ProduceAikcert) and
 * PutMessage, which verifies a report against the enrolled AK, its nonce,
 * the durable IMA state and the PCR baseline, then stores it in one
 * transaction before answering.  A rejected report changes nothing; its
 * nonce stays usable until it expires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/cache.h"
#include "common/codec.h"
#include "common/json.h"
#include "crypto/x509.h"
#include "evidence/tpm/ek.h"
#include "evidence/tpm/evidence.h"
#include "server/vtpm.h"
#include "server/vtpm_filedata.h"
#include "vtpm/pcr_events.h"
#include "vtpm/whitelist.h"

#define CREDENTIAL_LEN 16            /* the AES-128 key MakeCredential protects */
#define AES_BLOCK 16
#define TPM_PUBLIC_MAX 2048
#define AIK_NAME_MAX (2 + VOUCH_HASH_MAX_SIZE)
#define ECC_NIST_P256 3
#define ACCEPT_TRIES 3               /* reports of one instance racing each other */
#define EVENT_LEVEL_HIGH 3
#define AK_CACHE_ENTRIES 1024          /* parsed AKs kept, least recently used dropped */
#define JSON_TEXT_MAX (16u << 20)        /* what a report's stored JSON texts may reach */
#define AK_REQUIRED_ATTRS                                                   \
    (VOUCH_TPM_AK_ATTRS | VOUCH_TPMA_SENSITIVEDATAORIGIN)

/* ---- ProduceAikcert ----------------------------------------------------- */

/* A base64 parameter's bytes (at most max). */
static bool b64_param(struct vouch_vtpm_call *c, const char *name, bool required, size_t max,
                      uint8_t **ret, size_t *ret_len)
{
    struct vouch_errbuf eb;
    bool ok;
    const char *v = vouch_vtpm_param_str(c, name, required, 2 * max, &ok);

    if (!ok || !v)
        return ok;
    if (vouch_b64_decode(v, strlen(v), VOUCH_B64_STD, max, ret, ret_len, &eb)) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(%s: %s)", name, eb.msg);
        return false;
    }
    return true;
}

/* The EK: its public area, and its certificate checked when roots are configured. */
static struct vouch_tpm_key *ek_of(struct vouch_vtpm_call *c)
{
    struct vouch_tpm_key *ek = NULL;
    uint8_t *pub = NULL, *cert = NULL;
    size_t pub_len = 0, cert_len = 0;
    struct vouch_errbuf eb;
    X509 *x = NULL;

    if (!b64_param(c, "EkPubKey", true, TPM_PUBLIC_MAX, &pub, &pub_len) ||
        !b64_param(c, "EkCert", false, 1u << 16, &cert, &cert_len))
        goto out;
    if (vouch_tpm_key_load(pub, pub_len, 0, &ek, &eb)) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(EkPubKey: %s)", eb.msg);
        goto out;
    }
    if (!c->app->vtpm_ek_roots)
        goto out;
    if (!cert) {
        vouch_vtpm_fail(c, VOUCH_RPC_MISSING_PARAMETER, "(EkCert)");
    } else if (vouch_tpm_ek_cert_parse(cert, cert_len, &x, &eb) ||
               vouch_tpm_ek_cert_verify(x, NULL, c->app->vtpm_ek_roots, ek, c->now_ms / 1000,
                                        VOUCH_CHAIN_NO_TIME, &eb)) {
        vouch_vtpm_fail(c, VOUCH_RPC_EK_UNTRUSTED, "(EkCert: %s)", eb.msg);
    } else {
        goto out;
    }
    vouch_tpm_key_free(ek);
    ek = NULL;
out:
    X509_free(x);
    free(pub);
    free(cert);
    return ek;
}

/* The AK (CertRequest), which must be named AikName and be a proper AK. */
static struct vouch_tpm_key *ak_of(struct vouch_vtpm_call *c, char **ret_b64)
{
    struct vouch_tpm_key *ak = NULL;
    uint8_t *pub = NULL, *name = NULL;
    size_t pub_len = 0, name_len = 0;
    struct vouch_errbuf eb;
    bool ok;
    const char *hex = vouch_vtpm_param_str(c, "AikName", true, 2 * AIK_NAME_MAX, &ok);

    if (!ok || !b64_param(c, "CertRequest", true, TPM_PUBLIC_MAX, &pub, &pub_len))
        goto out;
    if (vouch_hex_decode(hex, strlen(hex), AIK_NAME_MAX, &name, &name_len, &eb)) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(AikName: %s)", eb.msg);
    } else if (vouch_tpm_key_load(pub, pub_len, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS, &ak, &eb)) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(CertRequest: %s)", eb.msg);
    } else if (ak->name_len != name_len || memcmp(ak->name, name, name_len) != 0) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(AikName is not the Name of "
                        "CertRequest)");
    } else if ((ak->attributes & AK_REQUIRED_ATTRS) != AK_REQUIRED_ATTRS ||
               !((ak->type == VOUCH_TPM_ALG_RSA && ak->bits == 2048) ||
                 (ak->type == VOUCH_TPM_ALG_ECC && ak->curve == ECC_NIST_P256))) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(CertRequest must be a restricted "
                        "signing key with fixedTPM, fixedParent and sensitiveDataOrigin, "
                        "RSA-2048 or ECC P-256)");
    } else if (!(*ret_b64 = vouch_b64_alloc(pub, pub_len, VOUCH_B64_STD))) {
        vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
    } else {
        goto out;
    }
    vouch_tpm_key_free(ak);
    ak = NULL;
out:
    free(pub);
    free(name);
    return ak;
}

/* u32 BE length | IV | AES-128-CBC(key, PKCS#7 padded text), base64. */
static char *data_blob(const uint8_t key[CREDENTIAL_LEN], const char *text)
{
    size_t len = strlen(text), cap = 4 + AES_BLOCK + len + AES_BLOCK;
    uint8_t *out = malloc(cap);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    char *b64 = NULL;

    if (out && ctx && len < INT32_MAX && RAND_bytes(out + 4, AES_BLOCK) == 1 &&
        EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, out + 4) == 1 &&
        EVP_EncryptUpdate(ctx, out + 4 + AES_BLOCK, &n1, (const uint8_t *)text, (int)len) == 1 &&
        EVP_EncryptFinal_ex(ctx, out + 4 + AES_BLOCK + n1, &n2) == 1) {
        uint32_t ct = (uint32_t)(n1 + n2);

        out[0] = (uint8_t)(ct >> 24);
        out[1] = (uint8_t)(ct >> 16);
        out[2] = (uint8_t)(ct >> 8);
        out[3] = (uint8_t)ct;
        b64 = vouch_b64_alloc(out, 4 + AES_BLOCK + ct, VOUCH_B64_STD);
    }
    EVP_CIPHER_CTX_free(ctx);
    free(out);
    return b64;
}

/* TPM2B_ID_OBJECT || TPM2B_ENCRYPTED_SECRET, base64. */
static char *key_blob(const struct vouch_tpm_credential *cred)
{
    uint8_t *both = malloc(cred->id_object_len + cred->secret_len);
    char *b64 = NULL;

    if (both) {
        memcpy(both, cred->id_object, cred->id_object_len);
        memcpy(both + cred->id_object_len, cred->secret, cred->secret_len);
        b64 = vouch_b64_alloc(both, cred->id_object_len + cred->secret_len, VOUCH_B64_STD);
    }
    free(both);
    return b64;
}

/* The PEM text DataCredentialBlob carries: the AK certificate, then the CA's. */
static char *chain_text(struct vouch_vtpm_call *c, const char *cert)
{
    const char *inc = vouch_rpc_param(c->params, "IncludeCertChain");
    bool chain = inc && (strcmp(inc, "true") == 0 || strcmp(inc, "True") == 0);
    size_t n = strlen(cert) + (chain ? strlen(c->app->vtpm_ca_pem) : 0) + 1;
    char *text = malloc(n);

    if (text)
        snprintf(text, n, "%s%s", cert, chain ? c->app->vtpm_ca_pem : "");
    return text;
}

json_t *vouch_vtpm_produce_aikcert(struct vouch_vtpm_call *c)
{
    struct vouch_tpm_credential cred = { 0 };
    struct vouch_tpm_key *ek = NULL, *ak = NULL;
    uint8_t secret[CREDENTIAL_LEN];
    char *ak_b64 = NULL, *cert = NULL, *text = NULL, *kb = NULL, *db = NULL;
    struct vouch_errbuf eb;
    json_t *out = NULL;
    bool ok;
    vouch_err e;
    const char *uuid = vouch_vtpm_param_str(c, "PropertyUuid", true, VOUCH_STORE_NAME_MAX, &ok);

    if (!ok || !vouch_vtpm_own_instance(c, uuid, NULL) || !(ek = ek_of(c)) ||
        !(ak = ak_of(c, &ak_b64)))
        goto out;
    if (RAND_bytes(secret, sizeof(secret)) != 1 ||
        vouch_tpm_ak_challenge(ek, ak, secret, sizeof(secret), &cred, &eb)) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(EkPubKey: cannot make a credential)");
        goto out;
    }
    e = vouch_vtpm_ca_issue(c->app, ak->pkey, uuid, c->now_ms / 1000, &cert, &eb);
    if (!e && (!(text = chain_text(c, cert)) || !(kb = key_blob(&cred)) ||
               !(db = data_blob(secret, text))))
        e = VOUCH_E_NOMEM;
    if (!e)
        e = vouch_store_ak_put(c->app->store, uuid, ak_b64, cert, c->now_ms, &eb);
    if (e) {
        vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
        goto out;
    }
    out = json_pack("{s:{s:s,s:s}}", "Data", "KeyCredentialBlob", kb, "DataCredentialBlob", db);
    if (!out)
        vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    vouch_tpm_credential_free(&cred);
    vouch_tpm_key_free(ek);
    vouch_tpm_key_free(ak);
    free(ak_b64);
    free(cert);
    free(text);
    free(kb);
    free(db);
    return out;
}

/* ---- PutMessage ----------------------------------------------------------- */

/* Compact JSON text of v as jansson writes it, without its per-container
 * loop check (a third of the report's JSON work); NULL for NULL or on failure. */
static char *json_text(const json_t *v)
{
    struct vouch_errbuf eb;
    char *text = NULL;
    size_t len = 0;

    if (!v || vouch_json_dump(v, JSON_TEXT_MAX, &text, &len, &eb))
        return NULL;
    return text;
}

/* One report on its way through verification. */
struct report {
    struct vouch_vtpm_call *c;
    const char *uuid;
    struct vouch_vtpm_filedata fd;
    struct vouch_store_ak *ak_row;
    struct vouch_tpm_key *ak;                /* in ak_entry, or owned without the cache */
    struct vouch_cache_entry *ak_entry;
    bool activate_ak;
    struct vouch_store_vtpm_state state;     /* as read */
    struct vouch_store_vtpm_state next;      /* to be written */
    uint64_t expected_ima;                   /* the index the log must start at */
    bool reboot;
    struct vouch_store_event_new events[VOUCH_STORE_BASELINE_PCRS];
    char event_ids[VOUCH_STORE_BASELINE_PCRS][37];
    char reported[VOUCH_STORE_BASELINE_PCRS][VOUCH_STORE_HEX256];
    size_t n_events;
    int64_t system_status;
    /* the program whitelist: the instance's, compiled; its verdict and events */
    int64_t program_whitelist_id;
    struct vouch_vtpm_wl_ref wl;
    bool have_wl;
    struct vouch_vtpm_program_result program;
    bool have_program;
    int64_t stored_program_status;   /* the instance's, as the report's transaction left it */
    struct vouch_store_event_new *program_events;
    char (*program_ids)[37];
    char **program_allowed;          /* JSON text of each file's allowed digests */
    size_t n_program_events;
};

static void uuid4(char out[37])
{
    uint8_t b[16] = { 0 };
    char hex[33];

    (void)RAND_bytes(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    vouch_hex_encode(b, sizeof(b), hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* Strip whitespace differences: certificates compare by their PEM lines. */
static bool same_pem(const char *a, const char *b)
{
    for (;;) {
        while (*a == '\r' || *a == '\n' || *a == ' ')
            a++;
        while (*b == '\r' || *b == '\n' || *b == ' ')
            b++;
        if (*a != *b)
            return false;
        if (!*a)
            return true;
        a++;
        b++;
    }
}

static void ak_value_free(void *v)
{
    vouch_tpm_key_free(v);
}

/*
 * Parsed AKs by their stored bytes (base64 TPM2B_PUBLIC): building the
 * EVP_PKEY and OpenSSL's Montgomery setup on its first verification were
 * a twentieth of a report's instructions.  The bytes are the key, so an
 * entry never goes stale; a re-enrolled AK has other bytes.
 */
vouch_err vouch_vtpm_ak_cache_new(struct vouch_cache **ret, struct vouch_errbuf *eb)
{
    struct vouch_cache_config cfg = { .name = "vtpm_ak", .max_entries = AK_CACHE_ENTRIES,
                                      .free_value = ak_value_free };

    return vouch_cache_new(&cfg, ret, eb);
}

/* r->ak: the stored AK, from the cache or parsed (and then cached). */
static bool ak_parse(struct report *r)
{
    struct vouch_cache *cache = r->c->app->vtpm_ak_cache;
    const char *b64 = r->ak_row->public_b64;
    size_t n = strlen(b64), len = 0;
    struct vouch_tpm_key *k = NULL;
    struct vouch_errbuf eb;
    uint8_t *pub = NULL;
    vouch_err e;

    r->ak_entry = vouch_cache_get(cache, b64, n, r->c->now_ms);
    if (r->ak_entry) {
        r->ak = vouch_cache_value(r->ak_entry);
        return true;
    }
    e = vouch_b64_decode(b64, n, VOUCH_B64_STD, TPM_PUBLIC_MAX, &pub, &len, &eb);
    if (!e)
        e = vouch_tpm_key_load(pub, len, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS, &k, &eb);
    free(pub);
    if (e)
        return vouch_vtpm_fail(r->c, VOUCH_RPC_INTERNAL, "(stored AK: %s)", eb.msg), false;
    if (vouch_cache_put(cache, b64, n, k, 0, r->c->now_ms, VOUCH_CACHE_NEVER, &r->ak_entry))
        return vouch_vtpm_fail(r->c, VOUCH_RPC_UNAVAILABLE, "%s", ""), false;
    r->ak = vouch_cache_value(r->ak_entry);
    return true;
}

/* The enrolled AK; a PENDING one must come with its certificate. */
static bool ak_load(struct report *r)
{
    struct vouch_errbuf eb;
    vouch_err e = vouch_store_ak_get(r->c->app->store, r->uuid, &r->ak_row, &eb);

    if (e == VOUCH_E_NOT_FOUND)
        return vouch_vtpm_fail(r->c, VOUCH_RPC_AK_NOT_ENROLLED, "(%.128s)", r->uuid), false;
    if (e)
        return vouch_vtpm_fail(r->c, vouch_rpc_error_of(e), "%s", ""), false;
    if ((r->ak_row->state == VOUCH_STORE_AK_PENDING && !r->fd.ak_cert) ||
        (r->fd.ak_cert && !same_pem(r->fd.ak_cert, r->ak_row->cert_pem)))
        return vouch_vtpm_fail(r->c, VOUCH_RPC_INVALID_PARAMETER, "(FileData.ak_cert: %s)",
                               r->fd.ak_cert ? "not the certificate ProduceAikcert issued"
                                             : "required until the AK is activated"), false;
    r->activate_ak = r->ak_row->state == VOUCH_STORE_AK_PENDING;
    return ak_parse(r);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* The first IMA entry's template hash, hex ("" when the log has none). */
static void first_entry_hash(const struct vouch_vtpm_filedata *fd, char out[41])
{
    struct vouch_ima_log *log = NULL;
    struct vouch_errbuf eb;

    out[0] = '\0';
    if (fd->ima_len && !vouch_ima_log_parse(fd->ima, fd->ima_len, &log, &eb) && log->n)
        vouch_hex_encode(log->entries[0].template_hash, 20, out);
    vouch_ima_log_free(log);
}

/*
 * Has the instance rebooted since the stored state?  The TPM's resetCount
 * moved, PCR 10 is back to zero, or a log from entry 0 starts with another
 * boot_aggregate.  Then the IMA log is expected from 0.
 */
static bool ima_expectation(struct report *r)
{
    const struct vouch_tpm_pcrs *p = &r->fd.pcrs;
    struct vouch_tpm_quote q;
    struct vouch_errbuf eb;
    char first[41];

    if (vouch_tpm_quote_parse(r->fd.quote, r->fd.quote_len, &q, &eb))
        return vouch_vtpm_fail(r->c, VOUCH_RPC_EVIDENCE_REJECTED, "(FileData.quote: %s)",
                               eb.msg), false;
    r->reboot = r->state.reset_count >= 0 && (int64_t)q.reset_count != r->state.reset_count;
    if (vouch_tpm_pcrs_has(p, VOUCH_HASH_SHA256, VOUCH_IMA_PCR) &&
        all_zero(p->value[VOUCH_HASH_SHA256][VOUCH_IMA_PCR], 32) && r->state.ima_next > 0)
        r->reboot = true;
    if (!r->reboot && r->fd.has_ima && r->fd.ima_start == 0 && r->state.ima_next > 0 &&
        r->state.boot_aggregate[0]) {
        first_entry_hash(&r->fd, first);
        r->reboot = first[0] && strcmp(first, r->state.boot_aggregate) != 0;
    }
    r->expected_ima = r->reboot ? 0 : (uint64_t)r->state.ima_next;
    r->next = r->state;
    r->next.reset_count = q.reset_count;
    if (r->reboot) {
        memset(r->next.pcr10_sha1, '0', 40);
        memset(r->next.pcr10_sha256, '0', 64);
        r->next.ima_next = 0;
        r->next.boot_aggregate[0] = '\0';
    }
    if (r->fd.has_ima && r->fd.ima_start != r->expected_ima) {
        r->c->error_fields = json_pack("{s:I}", "NextClientIMAIndex",
                                       (json_int_t)r->expected_ima);
        return vouch_vtpm_fail(r->c, VOUCH_RPC_IMA_INDEX, "(expected ima.start %llu, got %llu)",
                               (unsigned long long)r->expected_ima,
                               (unsigned long long)r->fd.ima_start), false;
    }
    return true;
}

/* The stored IMA state as the library's. */
static bool ima_prev(const struct report *r, struct vouch_ima_state *ret)
{
    struct vouch_errbuf eb;

    vouch_ima_state_init(ret, 1u << VOUCH_HASH_SHA1 | 1u << VOUCH_HASH_SHA256);
    ret->next_index = (uint64_t)r->next.ima_next;
    return !vouch_hex_decode_exact(r->next.pcr10_sha1, 40, ret->pcr[VOUCH_HASH_SHA1], 20, &eb) &&
           !vouch_hex_decode_exact(r->next.pcr10_sha256, 64, ret->pcr[VOUCH_HASH_SHA256], 32,
                                   &eb);
}

/* Verify the quote, the event log and the IMA log; advance the IMA state. */
static void program_events_free(struct report *r)
{
    size_t i;

    for (i = 0; r->program_allowed && i < r->n_program_events; i++)
        free(r->program_allowed[i]);
    free(r->program_allowed);
    free(r->program_events);
    free(r->program_ids);
    r->program_allowed = NULL;
    r->program_events = NULL;
    r->program_ids = NULL;
    r->n_program_events = 0;
}

/*
 * The program verdict of the verified IMA entries (claims "ima"), and one
 * program event per unknown or mismatching file: suspect the path,
 * suspect value the reported digest, whitelist value the digests the
 * whitelist allows for that path (JSON text).
 */
static bool program_verdict(struct report *r, const json_t *ima)
{
    struct vouch_errbuf eb;
    json_t *f;
    size_t i, n;

    program_events_free(r);
    if (r->have_program)
        vouch_vtpm_program_result_done(&r->program);
    r->have_program = vouch_vtpm_program_from_claims(r->have_wl ? &r->wl : NULL, ima,
                                                     &r->program, &eb) == VOUCH_OK;
    if (!r->have_program)
        return false;
    n = json_array_size(r->program.files);
    r->program_events = calloc(n + 1, sizeof(*r->program_events));
    r->program_ids = calloc(n + 1, sizeof(*r->program_ids));
    r->program_allowed = calloc(n + 1, sizeof(*r->program_allowed));
    if (!r->program_events || !r->program_ids || !r->program_allowed)
        return false;
    json_array_foreach(r->program.files, i, f) {
        r->program_allowed[i] = json_text(json_object_get(f, "whitelist"));
        r->n_program_events = i + 1;
        if (!r->program_allowed[i])
            return false;
        uuid4(r->program_ids[i]);
        r->program_events[i] = (struct vouch_store_event_new){
            r->program_ids[i], VOUCH_STORE_EVENT_PROGRAM, EVENT_LEVEL_HIGH,
            json_string_value(json_object_get(f, "path")),
            json_string_value(json_object_get(f, "digest")), r->program_allowed[i] };
    }
    return true;
}

static bool evidence_verify(struct report *r)
{
    struct vouch_tpm_evidence ev = {
        r->fd.quote, r->fd.quote_len, r->fd.sig, r->fd.sig_len, &r->fd.pcrs, r->fd.eventlog,
        r->fd.eventlog_len, r->fd.ima_len ? r->fd.ima : NULL, r->fd.ima_len, r->fd.ima_start,
    };
    struct vouch_tpm_verify_opts opts = { .nonce = r->fd.nonce,
                                          .nonce_len = VOUCH_VTPM_NONCE_LEN,
                                          .ima_claims_only = true };
    struct vouch_ima_state prev, after;
    struct vouch_errbuf eb;
    json_t *claims = NULL;
    vouch_err e;

    if (!ima_prev(r, &prev))
        return vouch_vtpm_fail(r->c, VOUCH_RPC_INTERNAL, "(stored IMA state)"), false;
    opts.ima_prev = r->expected_ima ? &prev : NULL;
    opts.ima_policy = r->have_wl ? r->wl.policy : NULL;
    opts.max_unknown = VOUCH_VTPM_PROGRAM_FILES_MAX;
    e = vouch_tpm_evidence_verify(r->ak, &ev, &opts, &claims, &after, &eb);
    if (!e && !program_verdict(r, json_object_get(claims, "ima")))
        e = VOUCH_E_NOMEM;
    json_decref(claims);
    if (e == VOUCH_E_NOMEM)
        return vouch_vtpm_fail(r->c, VOUCH_RPC_UNAVAILABLE, "%s", ""), false;
    if (e)
        return vouch_vtpm_fail(r->c, VOUCH_RPC_EVIDENCE_REJECTED, "(FileData: %s)", eb.msg),
               false;
    if (ev.ima) {
        r->next.ima_next = (int64_t)after.next_index;
        if (after.banks & 1u << VOUCH_HASH_SHA1)
            vouch_hex_encode(after.pcr[VOUCH_HASH_SHA1], 20, r->next.pcr10_sha1);
        if (after.banks & 1u << VOUCH_HASH_SHA256)
            vouch_hex_encode(after.pcr[VOUCH_HASH_SHA256], 32, r->next.pcr10_sha256);
        if (r->fd.ima_start == 0)
            first_entry_hash(&r->fd, r->next.boot_aggregate);
    }
    return true;
}

/* Compare PCR0..9 (sha256) with the baseline; events for each that differs. */
static bool baseline_compare(struct report *r)
{
    const struct vouch_tpm_pcrs *p = &r->fd.pcrs;
    size_t i;

    for (i = 0; i < VOUCH_STORE_BASELINE_PCRS; i++) {
        if (!vouch_tpm_pcrs_has(p, VOUCH_HASH_SHA256, (unsigned)i))
            return vouch_vtpm_fail(r->c, VOUCH_RPC_INVALID_PARAMETER, "(FileData.pcrs: the "
                                   "quote must cover sha256 PCR0-9; pcr%zu is missing)", i),
                   false;
        vouch_hex_encode(p->value[VOUCH_HASH_SHA256][i], 32, r->reported[i]);
    }
    r->system_status = VOUCH_VTPM_TRUSTED;
    if (r->state.whitelist_id < 0) {
        memcpy(r->next.baseline, r->reported, sizeof(r->reported));
        return true;
    }
    for (i = 0; i < VOUCH_STORE_BASELINE_PCRS; i++) {
        static const char *const names[] = { "pcr0", "pcr1", "pcr2", "pcr3", "pcr4",
                                             "pcr5", "pcr6", "pcr7", "pcr8", "pcr9" };
        struct vouch_store_event_new *ev = &r->events[r->n_events];

        if (strcmp(r->reported[i], r->state.baseline[i]) == 0)
            continue;
        uuid4(r->event_ids[r->n_events]);
        *ev = (struct vouch_store_event_new){ r->event_ids[r->n_events], VOUCH_STORE_EVENT_SYSTEM,
                                              EVENT_LEVEL_HIGH, names[i], r->reported[i],
                                              r->state.baseline[i] };
        r->n_events++;
        r->system_status = VOUCH_VTPM_UNTRUSTED;
    }
    return true;
}

/* What DescribeBoot shows of the report: per PCR, baseline and reported value. */
static char *summary_of(const struct report *r)
{
    json_t *pcrs = json_object(), *s;
    char name[8], *text = NULL;
    size_t i;

    for (i = 0; pcrs && i < VOUCH_STORE_BASELINE_PCRS; i++) {
        snprintf(name, sizeof(name), "pcr%zu", i);
        if (json_object_set_new(pcrs, name, json_pack("{s:s,s:s,s:b}", "baseline",
                                                      r->next.baseline[i], "reported",
                                                      r->reported[i], "match",
                                                      strcmp(r->reported[i],
                                                             r->next.baseline[i]) == 0))) {
            json_decref(pcrs);
            return NULL;
        }
    }
    s = json_pack("{s:I,s:I,s:s,s:o,s:{s:I,s:I,s:b},s:I}", "SystemTrustStatus",
                  (json_int_t)r->system_status, "ProgramTrustStatus",
                  (json_int_t)r->program.status, "Nonce", r->fd.nonce_hex, "Pcrs", pcrs, "Ima",
                  "Start", (json_int_t)(r->fd.has_ima ? (int64_t)r->fd.ima_start : -1),
                  "Next", (json_int_t)r->next.ima_next, "Reboot", r->reboot, "ResetCount",
                  (json_int_t)r->next.reset_count);
    if (s)
        text = json_text(s);
    json_decref(s);
    return text;
}

/* The events of the report's event log that explain each PCR differing from
 * the baseline (JSON text), NULL when none differs or no log came.  They only
 * explain: a log whose events do not fit the store's cap (escaped text of
 * hostile device paths) loses them, never the report. */
static char *pcr_events_of(const struct report *r)
{
    struct vouch_errbuf eb;
    uint32_t mask = 0;
    json_t *ev = NULL;
    char *text = NULL;
    size_t i;

    for (i = 0; r->state.whitelist_id >= 0 && i < VOUCH_STORE_BASELINE_PCRS; i++)
        if (strcmp(r->reported[i], r->state.baseline[i]) != 0)
            mask |= 1u << i;
    if (!mask || !r->fd.eventlog_len ||
        vouch_vtpm_pcr_events(r->fd.eventlog, r->fd.eventlog_len, mask, &ev, &eb))
        return NULL;
    if (json_object_size(ev))
        text = json_text(ev);
    json_decref(ev);
    if (text && strlen(text) > VOUCH_STORE_PCR_EVENTS_MAX) {
        free(text);
        text = NULL;
    }
    return text;
}

/* ProgramTrustDetail: the whitelist and this report's count of unknown files. */
static char *program_detail(const struct report *r)
{
    json_t *d = r->program.whitelist_id < 0
                    ? json_object()
                    : json_pack("{s:I,s:s,s:I}", "WhiteListId",
                                (json_int_t)r->program.whitelist_id, "WhiteListName",
                                r->program.whitelist_name, "UnknownFiles",
                                (json_int_t)r->program.unknown);
    char *text = json_text(d);

    json_decref(d);
    return text;
}

/* Store the report; VOUCH_E_CONFLICT when another report of the instance went first. */
static vouch_err report_store(struct report *r)
{
    struct vouch_vtpm_call *c = r->c;
    struct vouch_store_report rep = {
        .uuid = r->uuid, .nonce = r->fd.nonce_hex, .now_ms = c->now_ms,
        .expect_reports = r->state.reports, .next = &r->next,
        .create_baseline = r->state.whitelist_id < 0, .activate_ak = r->activate_ak,
        .system_status = r->system_status, .events = r->events, .n_events = r->n_events,
        .keep = (size_t)c->app->cfg.vtpm_keep_reports,
    };
    struct vouch_store_event_new *all = calloc(r->n_events + r->n_program_events + 1,
                                               sizeof(*all));
    struct vouch_errbuf eb;
    char *summary = summary_of(r), *detail = program_detail(r), *pcr_events;
    vouch_err e;

    if (!summary || !detail || !all) {
        free(summary);
        free(detail);
        free(all);
        return vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", ""), VOUCH_E_NOMEM;
    }
    memcpy(all, r->events, r->n_events * sizeof(*all));
    if (r->n_program_events)
        memcpy(all + r->n_events, r->program_events, r->n_program_events * sizeof(*all));
    rep.events = all;
    rep.n_events = r->n_events + r->n_program_events;
    rep.program_status = r->program.status;
    rep.program_detail = detail;
    rep.summary = summary;
    rep.pcr_events = pcr_events = pcr_events_of(r);
    e = vouch_store_report_accept(c->app->store, &rep, &r->stored_program_status, &eb);
    free(pcr_events);
    free(summary);
    free(detail);
    free(all);
    if (e == VOUCH_E_NOT_FOUND)
        vouch_vtpm_fail(c, VOUCH_RPC_REPORT_NONCE, "(FileData.nonce)");
    else if (e == VOUCH_E_CONFLICT)
        vouch_vtpm_fail(c, VOUCH_RPC_CONCURRENT_REPORT, "(%.128s)", r->uuid);
    else if (e)
        vouch_vtpm_fail(c, vouch_rpc_error_of(e) == VOUCH_RPC_INVALID_PARAMETER
                               ? VOUCH_RPC_INTERNAL : vouch_rpc_error_of(e), "%s", "");
    return e;
}

/* One attempt: read the state, verify against it, store. */
static vouch_err report_try(struct report *r)
{
    struct vouch_errbuf eb;
    vouch_err e = vouch_store_vtpm_state_get(r->c->app->store, r->uuid, &r->state, &eb);

    if (e)
        return vouch_vtpm_fail(r->c, vouch_rpc_error_of(e), "%s", ""), e;
    r->n_events = 0;
    if (!ima_expectation(r) || !evidence_verify(r) || !baseline_compare(r))
        return VOUCH_E_VERIFY;
    return report_store(r);
}

/* This report's program status: untrusted with unknown files; else the
 * instance's open program events decide, as the store wrote it. */
static int64_t program_status(const struct report *r)
{
    return r->program.status == VOUCH_VTPM_STATUS_TRUSTED ? r->stored_program_status
                                                          : r->program.status;
}

/* The instance's program whitelist, compiled (none assigned, or gone: not evaluated). */
static bool whitelist_load(struct report *r, const struct vouch_store_instance *in)
{
    struct vouch_errbuf eb;
    vouch_err e;

    r->program_whitelist_id = in->program_whitelist_id;
    if (in->program_whitelist_id < 0)
        return true;
    e = vouch_vtpm_whitelist_acquire(r->c->app->whitelists, r->c->account,
                                     in->program_whitelist_id, r->c->now_ms, &r->wl, &eb);
    if (e == VOUCH_E_NOT_FOUND)
        return true;
    if (e)
        return vouch_vtpm_fail(r->c, vouch_rpc_error_of(e), "(program whitelist: %s)",
                               eb.msg), false;
    r->have_wl = true;
    return true;
}

static json_t *put_answer(const struct report *r)
{
    int64_t program = program_status(r);

    return json_pack("{s:{s:{s:I,s:s},s:{s:I,s:s},s:{s:i,s:s},s:{s:s,s:s},s:I}}", "data",
                     "systemVerificationResult", "status", (json_int_t)r->system_status,
                     "code", vouch_vtpm_status_code(r->system_status),
                     "programVerificationResult", "status", (json_int_t)program,
                     "code", vouch_vtpm_status_code(program),
                     "kmoduleVerificationResult", "status", VOUCH_VTPM_NOT_EVALUATED, "code",
                     "NotEvaluated", "policyProcResult", "code", "NoPolicy", "procData", "",
                     "nextClientIMAIndex", (json_int_t)r->next.ima_next);
}

json_t *vouch_vtpm_put_message(struct vouch_vtpm_call *c)
{
    struct report r = { .c = c };
    struct vouch_store_instance *in = NULL;
    struct vouch_errbuf eb;
    json_t *out = NULL;
    vouch_err e = VOUCH_E_CONFLICT;
    int tries;
    bool ok;
    const char *data;

    r.uuid = vouch_vtpm_param_str(c, "PropertyUuid", true, VOUCH_STORE_NAME_MAX, &ok);
    if (!ok || !vouch_vtpm_own_instance(c, r.uuid, &in))
        return NULL;
    data = vouch_vtpm_param_str(c, "FileData", true, VOUCH_VTPM_FILEDATA_MAX, &ok);
    if (!ok)
        goto out;
    if (vouch_vtpm_filedata_decode(data, strlen(data), &r.fd, &eb)) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(%s)", eb.msg);
        goto out;
    }
    if (!ak_load(&r) || !whitelist_load(&r, in))
        goto out;
    for (tries = 0; tries < ACCEPT_TRIES && e == VOUCH_E_CONFLICT; tries++)
        e = report_try(&r);
    if (!e && !(out = put_answer(&r)))
        vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
out:
    program_events_free(&r);
    if (r.have_program)
        vouch_vtpm_program_result_done(&r.program);
    if (r.have_wl)
        vouch_vtpm_whitelist_release(&r.wl);
    vouch_vtpm_filedata_done(&r.fd);
    vouch_store_ak_free(r.ak_row);
    if (r.ak_entry)
        vouch_cache_release(r.ak_entry);
    else
        vouch_tpm_key_free(r.ak);
    vouch_store_instance_free(in);
    return out;
}
