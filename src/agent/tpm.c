/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's TPM through tpm2-tss ESYS (agent_tpm.h).  Every ESYS call's
 * response code is decoded by libtss2-rc into the error message; transient
 * handles and sessions are flushed on every path.
 */
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "agent/agent_tpm.h"
#include "crypto/digest.h"
#include "evidence/tpm/quote.h"

struct vouch_agent_tpm {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
};

/* TCG EK Credential Profile 2.x, template L-1: PolicySecret(TPM_RH_ENDORSEMENT). */
static const uint8_t ek_policy[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
    0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
};

#define EK_ATTRS (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
                  TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY | \
                  TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)
#define AK_ATTRS (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
                  TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
                  TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)
#define NV_CHUNK 512            /* at most TPM2_PT_NV_BUFFER_MAX on every TPM we know */
#define NV_CERT_MAX 4096
#define QUOTE_TRIES 4

static vouch_err tss_fail(struct vouch_errbuf *eb, const char *what, TSS2_RC rc)
{
    vouch_err kind = VOUCH_E_IO;

    /* the TCTI could not reach the TPM (connection refused, no device) */
    if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER)
        kind = VOUCH_E_UNAVAILABLE;
    return vouch_fail(eb, kind, "%s: %s (0x%x)", what, Tss2_RC_Decode(rc), (unsigned)rc);
}

vouch_err vouch_agent_tpm_open(const char *tcti, struct vouch_agent_tpm **ret,
                               struct vouch_errbuf *eb)
{
    struct vouch_agent_tpm *t = calloc(1, sizeof(*t));
    TSS2_RC rc;
    vouch_err e = VOUCH_OK;

    if (!t)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
    if (rc != TSS2_RC_SUCCESS) {
        e = vouch_fail(eb, VOUCH_E_UNAVAILABLE, "TPM unreachable through TCTI '%s': %s (0x%x)",
                       tcti, Tss2_RC_Decode(rc), (unsigned)rc);
        goto out;
    }
    rc = Esys_Initialize(&t->esys, t->tcti, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(eb, "Esys_Initialize", rc);
        goto out;
    }
    /* a TPM that firmware did not start (a bare simulator): start it; others answer INITIALIZE */
    rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS && (rc & 0xfff) != TPM2_RC_INITIALIZE) {
        e = tss_fail(eb, "TPM2_Startup", rc);
        goto out;
    }
    *ret = t;
    t = NULL;
out:
    vouch_agent_tpm_close(t);
    return e;
}

void vouch_agent_tpm_close(struct vouch_agent_tpm *t)
{
    if (!t)
        return;
    if (t->esys)
        Esys_Finalize(&t->esys);
    if (t->tcti)
        Tss2_TctiLdr_Finalize(&t->tcti);
    free(t);
}

static void flush(struct vouch_agent_tpm *t, ESYS_TR *h)
{
    if (*h != ESYS_TR_NONE)
        Esys_FlushContext(t->esys, *h);
    *h = ESYS_TR_NONE;
}

static void close_tr(struct vouch_agent_tpm *t, ESYS_TR *h)
{
    if (*h != ESYS_TR_NONE)
        Esys_TR_Close(t->esys, h);
    *h = ESYS_TR_NONE;
}

static TPM2B_PUBLIC ek_template(void)
{
    TPM2B_PUBLIC p;

    memset(&p, 0, sizeof(p));
    p.publicArea.type = TPM2_ALG_RSA;
    p.publicArea.nameAlg = TPM2_ALG_SHA256;
    p.publicArea.objectAttributes = EK_ATTRS;
    p.publicArea.authPolicy.size = sizeof(ek_policy);
    memcpy(p.publicArea.authPolicy.buffer, ek_policy, sizeof(ek_policy));
    p.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    p.publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
    p.publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    p.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    p.publicArea.parameters.rsaDetail.keyBits = 2048;
    p.publicArea.parameters.rsaDetail.exponent = 0;
    p.publicArea.unique.rsa.size = 256;      /* 256 zero bytes */
    return p;
}

static TPM2B_PUBLIC ak_template(void)
{
    TPM2B_PUBLIC p;

    memset(&p, 0, sizeof(p));
    p.publicArea.type = TPM2_ALG_RSA;
    p.publicArea.nameAlg = TPM2_ALG_SHA256;
    p.publicArea.objectAttributes = AK_ATTRS;
    p.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    p.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    p.publicArea.parameters.rsaDetail.keyBits = 2048;
    return p;
}

/* The EK as a transient object (TPM2_CreatePrimary is deterministic: the same key each time). */
static vouch_err load_ek(struct vouch_agent_tpm *t, ESYS_TR *ret, TPM2B_PUBLIC **ret_pub,
                         struct vouch_errbuf *eb)
{
    TPM2B_SENSITIVE_CREATE sens;
    TPM2B_PUBLIC tmpl = ek_template();
    TPM2B_DATA outside = { 0 };
    TPML_PCR_SELECTION none = { 0 };
    TSS2_RC rc;

    memset(&sens, 0, sizeof(sens));
    rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &sens, &tmpl, &outside, &none, ret, ret_pub, NULL,
                            NULL, NULL);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(eb, "TPM2_CreatePrimary (EK, TCG default template)", rc);
    return VOUCH_OK;
}

/* A policy session satisfying the EK's policy: PolicySecret(TPM_RH_ENDORSEMENT). */
static vouch_err ek_session(struct vouch_agent_tpm *t, ESYS_TR *ret, struct vouch_errbuf *eb)
{
    TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
    ESYS_TR s = ESYS_TR_NONE;
    TSS2_RC rc;

    rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &s);
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(eb, "TPM2_StartAuthSession", rc);
    rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, s, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        flush(t, &s);
        return tss_fail(eb, "TPM2_PolicySecret (endorsement)", rc);
    }
    *ret = s;
    return VOUCH_OK;
}

static vouch_err marshal_public(const TPM2B_PUBLIC *p, uint8_t *out, size_t size,
                                size_t *ret_len, struct vouch_errbuf *eb)
{
    size_t off = 0;
    TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Marshal(p, out, size, &off);

    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(eb, "marshalling TPM2B_PUBLIC", rc);
    *ret_len = off;
    return VOUCH_OK;
}

/* Read NV index `index` whole (the EK certificate); NOT_FOUND when undefined. */
static vouch_err nv_read_all(struct vouch_agent_tpm *t, uint32_t index, uint8_t **ret,
                             size_t *ret_len, struct vouch_errbuf *eb)
{
    ESYS_TR nv = ESYS_TR_NONE;
    TPM2B_NV_PUBLIC *pub = NULL;
    uint8_t *data = NULL;
    uint16_t size, off = 0;
    TSS2_RC rc;
    vouch_err e = VOUCH_OK;

    rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
    if (rc != TSS2_RC_SUCCESS) {
        e = (rc & 0xff) == TPM2_RC_HANDLE ? vouch_fail(eb, VOUCH_E_NOT_FOUND, "no NV index 0x%x",
                                                       (unsigned)index)
                                          : tss_fail(eb, "reading an NV index's public", rc);
        goto out;
    }
    rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(eb, "TPM2_NV_ReadPublic", rc);
        goto out;
    }
    size = pub->nvPublic.dataSize;
    if (size == 0 || size > NV_CERT_MAX || !(data = malloc(size))) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "NV index 0x%x holds %u bytes", (unsigned)index,
                       (unsigned)size);
        goto out;
    }
    while (off < size) {
        uint16_t n = size - off > NV_CHUNK ? NV_CHUNK : size - off;
        TPM2B_MAX_NV_BUFFER *chunk = NULL;
        /* the EK certificate indices are readable with the owner's (empty) auth or their own */
        ESYS_TR auth = pub->nvPublic.attributes & TPMA_NV_OWNERREAD ? ESYS_TR_RH_OWNER : nv;

        rc = Esys_NV_Read(t->esys, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n, off,
                          &chunk);
        if (rc != TSS2_RC_SUCCESS || chunk->size != n) {
            Esys_Free(chunk);
            e = tss_fail(eb, "TPM2_NV_Read", rc);
            goto out;
        }
        memcpy(data + off, chunk->buffer, n);
        off += n;
        Esys_Free(chunk);
    }
    *ret = data;
    *ret_len = size;
    data = NULL;
out:
    free(data);
    Esys_Free(pub);
    close_tr(t, &nv);
    return e;
}

vouch_err vouch_agent_tpm_ek(struct vouch_agent_tpm *t, uint8_t **ret_pub, size_t *ret_pub_len,
                             uint8_t **ret_cert, size_t *ret_cert_len, struct vouch_errbuf *eb)
{
    ESYS_TR ek = ESYS_TR_NONE;
    TPM2B_PUBLIC *pub = NULL;
    uint8_t buf[1024], *copy = NULL, *cert = NULL;
    size_t len = 0, cert_len = 0;
    vouch_err e;

    e = load_ek(t, &ek, &pub, eb);
    if (!e)
        e = marshal_public(pub, buf, sizeof(buf), &len, eb);
    if (e)
        goto out;
    e = nv_read_all(t, VOUCH_AGENT_EK_CERT_NV, &cert, &cert_len, eb);
    if (e == VOUCH_E_NOT_FOUND)
        e = VOUCH_OK;                  /* no certificate: the EK public alone */
    if (e)
        goto out;
    if (!(copy = malloc(len))) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(copy, buf, len);
    *ret_pub = copy;
    *ret_pub_len = len;
    *ret_cert = cert;
    *ret_cert_len = cert_len;
    cert = NULL;
out:
    free(cert);
    Esys_Free(pub);
    flush(t, &ek);
    return e;
}

static vouch_err object_of(const TPM2B_PUBLIC *pub, const TPM2B_NAME *name,
                           struct vouch_agent_tpm_object *ret, struct vouch_errbuf *eb)
{
    vouch_err e = marshal_public(pub, ret->pub, sizeof(ret->pub), &ret->pub_len, eb);

    if (e)
        return e;
    if (name->size > sizeof(ret->name))
        return vouch_fail(eb, VOUCH_E_INVALID, "a Name of %u bytes", (unsigned)name->size);
    memcpy(ret->name, name->name, name->size);
    ret->name_len = name->size;
    return VOUCH_OK;
}

vouch_err vouch_agent_tpm_read_persistent(struct vouch_agent_tpm *t, uint32_t handle,
                                          struct vouch_agent_tpm_object *ret,
                                          struct vouch_errbuf *eb)
{
    ESYS_TR h = ESYS_TR_NONE;
    TPM2B_PUBLIC *pub = NULL;
    TPM2B_NAME *name = NULL;
    TSS2_RC rc;
    vouch_err e;

    rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &h);
    if (rc != TSS2_RC_SUCCESS) {
        if ((rc & 0xff) == TPM2_RC_HANDLE)
            return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no key at handle 0x%x", (unsigned)handle);
        return tss_fail(eb, "reading a persistent handle", rc);
    }
    rc = Esys_ReadPublic(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name, NULL);
    e = rc != TSS2_RC_SUCCESS ? tss_fail(eb, "TPM2_ReadPublic", rc) : object_of(pub, name, ret, eb);
    Esys_Free(pub);
    Esys_Free(name);
    close_tr(t, &h);
    return e;
}

vouch_err vouch_agent_tpm_evict(struct vouch_agent_tpm *t, uint32_t handle,
                                struct vouch_errbuf *eb)
{
    ESYS_TR h = ESYS_TR_NONE, gone = ESYS_TR_NONE;
    TSS2_RC rc;

    rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &h);
    if (rc != TSS2_RC_SUCCESS)
        return (rc & 0xff) == TPM2_RC_HANDLE ? VOUCH_OK
                                             : tss_fail(eb, "reading a persistent handle", rc);
    rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, handle, &gone);
    close_tr(t, &h);           /* ESYS keeps the metadata of an evicted object */
    if (rc != TSS2_RC_SUCCESS)
        return tss_fail(eb, "TPM2_EvictControl (removing the old key)", rc);
    return VOUCH_OK;
}

/* TPM2_Create the AK under the EK and load it: a transient handle. */
static vouch_err create_ak(struct vouch_agent_tpm *t, ESYS_TR ek, ESYS_TR *ret,
                           struct vouch_errbuf *eb)
{
    TPM2B_SENSITIVE_CREATE sens;
    TPM2B_PUBLIC tmpl = ak_template(), *pub = NULL;
    TPM2B_PRIVATE *priv = NULL;
    TPM2B_DATA outside = { 0 };
    TPML_PCR_SELECTION none = { 0 };
    ESYS_TR s = ESYS_TR_NONE;
    TSS2_RC rc;
    vouch_err e;

    memset(&sens, 0, sizeof(sens));
    e = ek_session(t, &s, eb);
    if (e)
        goto out;
    rc = Esys_Create(t->esys, ek, s, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &none,
                     &priv, &pub, NULL, NULL, NULL);
    flush(t, &s);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(eb, "TPM2_Create (AK)", rc);
        goto out;
    }
    e = ek_session(t, &s, eb);
    if (e)
        goto out;
    rc = Esys_Load(t->esys, ek, s, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, ret);
    flush(t, &s);
    if (rc != TSS2_RC_SUCCESS)
        e = tss_fail(eb, "TPM2_Load (AK)", rc);
out:
    Esys_Free(priv);
    Esys_Free(pub);
    return e;
}

vouch_err vouch_agent_tpm_create_ak(struct vouch_agent_tpm *t, uint32_t handle,
                                    struct vouch_agent_tpm_object *ret, struct vouch_errbuf *eb)
{
    ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE, persistent = ESYS_TR_NONE;
    TSS2_RC rc;
    vouch_err e;

    e = vouch_agent_tpm_evict(t, handle, eb);
    if (!e)
        e = load_ek(t, &ek, NULL, eb);
    if (!e)
        e = create_ak(t, ek, &ak, eb);
    if (e)
        goto out;
    rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, handle, &persistent);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(eb, "TPM2_EvictControl (making the AK persistent)", rc);
        goto out;
    }
    close_tr(t, &persistent);
    e = vouch_agent_tpm_read_persistent(t, handle, ret, eb);
out:
    flush(t, &ak);
    flush(t, &ek);
    return e;
}

/* Split TPM2B_ID_OBJECT || TPM2B_ENCRYPTED_SECRET. */
static vouch_err split_credential(const uint8_t *blob, size_t len, TPM2B_ID_OBJECT *id,
                                  TPM2B_ENCRYPTED_SECRET *secret, struct vouch_errbuf *eb)
{
    size_t off = 0;

    if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, len, &off, id) != TSS2_RC_SUCCESS ||
        Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(blob, len, &off, secret) != TSS2_RC_SUCCESS)
        return vouch_fail(eb, VOUCH_E_INVALID,
                          "KeyCredentialBlob is not TPM2B_ID_OBJECT || TPM2B_ENCRYPTED_SECRET");
    if (off != len)
        return vouch_fail(eb, VOUCH_E_INVALID, "KeyCredentialBlob: %zu bytes after the secret",
                          len - off);
    return VOUCH_OK;
}

vouch_err vouch_agent_tpm_activate(struct vouch_agent_tpm *t, uint32_t ak_handle,
                                   const uint8_t *blob, size_t len, uint8_t ret_secret[64],
                                   size_t *ret_len, struct vouch_errbuf *eb)
{
    TPM2B_ID_OBJECT id;
    TPM2B_ENCRYPTED_SECRET secret;
    TPM2B_DIGEST *cert_info = NULL;
    ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE, s = ESYS_TR_NONE;
    TSS2_RC rc;
    vouch_err e;

    e = split_credential(blob, len, &id, &secret, eb);
    if (e)
        return e;
    rc = Esys_TR_FromTPMPublic(t->esys, ak_handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ak);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(eb, "the AK's persistent handle", rc);
        goto out;
    }
    e = load_ek(t, &ek, NULL, eb);
    if (!e)
        e = ek_session(t, &s, eb);
    if (e)
        goto out;
    rc = Esys_ActivateCredential(t->esys, ak, ek, ESYS_TR_PASSWORD, s, ESYS_TR_NONE, &id, &secret,
                                 &cert_info);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(eb, "TPM2_ActivateCredential", rc);
        goto out;
    }
    if (cert_info->size > 64) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "a credential of %u bytes", (unsigned)cert_info->size);
        goto out;
    }
    memcpy(ret_secret, cert_info->buffer, cert_info->size);
    *ret_len = cert_info->size;
out:
    Esys_Free(cert_info);
    flush(t, &s);
    flush(t, &ek);
    close_tr(t, &ak);
    return e;
}

static void selection_of(const struct vouch_tpm_pcr_select *sel, TPML_PCR_SELECTION *out)
{
    uint32_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
        out->pcrSelections[i].hash = sel->bank[i].alg;
        out->pcrSelections[i].sizeofSelect = 3;
        out->pcrSelections[i].pcrSelect[0] = sel->bank[i].mask & 0xff;
        out->pcrSelections[i].pcrSelect[1] = sel->bank[i].mask >> 8 & 0xff;
        out->pcrSelections[i].pcrSelect[2] = sel->bank[i].mask >> 16 & 0xff;
    }
    out->count = i;
}

/* Store one PCR_Read answer into *pcrs and clear what it read from *want. */
static vouch_err take_values(const TPML_PCR_SELECTION *got, const TPML_DIGEST *values,
                             TPML_PCR_SELECTION *want, struct vouch_tpm_pcrs *pcrs,
                             struct vouch_errbuf *eb)
{
    uint32_t b, v = 0, i, j;

    for (b = 0; b < got->count; b++) {
        int h = vouch_tcg_alg_hash(got->pcrSelections[b].hash);

        for (i = 0; i < (uint32_t)got->pcrSelections[b].sizeofSelect * 8 && i < 24; i++) {
            vouch_err e;

            if (!(got->pcrSelections[b].pcrSelect[i / 8] >> (i % 8) & 1))
                continue;
            if (h < 0 || v >= values->count)
                return vouch_fail(eb, VOUCH_E_INVALID, "TPM2_PCR_Read: an answer out of step");
            e = vouch_tpm_pcrs_set(pcrs, (enum vouch_hash)h, i, values->digests[v].buffer,
                                   values->digests[v].size, eb);
            if (e)
                return e;
            v++;
            for (j = 0; j < want->count; j++)
                if (want->pcrSelections[j].hash == got->pcrSelections[b].hash)
                    want->pcrSelections[j].pcrSelect[i / 8] &= (uint8_t)~(1u << (i % 8));
        }
    }
    return v ? VOUCH_OK : vouch_fail(eb, VOUCH_E_NOT_FOUND, "TPM2_PCR_Read: a selected bank or "
                                     "PCR is not allocated");
}

static int selection_empty(const TPML_PCR_SELECTION *s)
{
    uint32_t i;

    for (i = 0; i < s->count; i++)
        if (s->pcrSelections[i].pcrSelect[0] | s->pcrSelections[i].pcrSelect[1] |
            s->pcrSelections[i].pcrSelect[2])
            return 0;
    return 1;
}

/* Every selected PCR (TPM2_PCR_Read answers at most 8 digests at a time). */
static vouch_err read_pcrs(struct vouch_agent_tpm *t, const struct vouch_tpm_pcr_select *sel,
                           struct vouch_tpm_pcrs *ret, struct vouch_errbuf *eb)
{
    TPML_PCR_SELECTION want;
    vouch_err e = VOUCH_OK;

    vouch_tpm_pcrs_init(ret);
    selection_of(sel, &want);
    while (!e && !selection_empty(&want)) {
        TPML_PCR_SELECTION *got = NULL;
        TPML_DIGEST *values = NULL;
        TSS2_RC rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, NULL,
                                   &got, &values);

        e = rc != TSS2_RC_SUCCESS ? tss_fail(eb, "TPM2_PCR_Read", rc)
                                  : take_values(got, values, &want, ret, eb);
        Esys_Free(got);
        Esys_Free(values);
    }
    return e;
}

static vouch_err quote_once(struct vouch_agent_tpm *t, ESYS_TR ak,
                            const struct vouch_tpm_pcr_select *sel, const uint8_t *nonce,
                            size_t nonce_len, struct vouch_agent_quote *q,
                            struct vouch_errbuf *eb)
{
    TPM2B_DATA qd = { 0 };
    TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
    TPML_PCR_SELECTION pcrsel;
    TPM2B_ATTEST *attest = NULL;
    TPMT_SIGNATURE *sig = NULL;
    uint8_t sigbuf[sizeof(TPMT_SIGNATURE)];
    size_t off = 0;
    TSS2_RC rc;
    vouch_err e = VOUCH_OK;

    if (nonce_len > sizeof(qd.buffer))
        return vouch_fail(eb, VOUCH_E_INVALID, "a nonce of %zu bytes", nonce_len);
    qd.size = (uint16_t)nonce_len;
    memcpy(qd.buffer, nonce, nonce_len);
    selection_of(sel, &pcrsel);
    rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd, &scheme,
                    &pcrsel, &attest, &sig);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(eb, "TPM2_Quote", rc);
        goto out;
    }
    rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sigbuf, sizeof(sigbuf), &off);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(eb, "marshalling TPMT_SIGNATURE", rc);
        goto out;
    }
    q->attest = malloc(attest->size);
    q->sig = malloc(off);
    if (!q->attest || !q->sig) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(q->attest, attest->attestationData, attest->size);
    q->attest_len = attest->size;
    memcpy(q->sig, sigbuf, off);
    q->sig_len = off;
out:
    Esys_Free(attest);
    Esys_Free(sig);
    return e;
}

/* Whether the values in q->pcrs hash to the quote's pcrDigest. */
static vouch_err pcrs_match(const struct vouch_agent_quote *q, bool *ret,
                            struct vouch_errbuf *eb)
{
    struct vouch_tpm_quote parsed;
    uint8_t digest[VOUCH_HASH_MAX_SIZE];
    vouch_err e = vouch_tpm_quote_parse(q->attest, q->attest_len, &parsed, eb);
    int h;

    if (!e)
        e = vouch_tpm_signature_parse(q->sig, q->sig_len, &parsed, eb);
    if (e)
        return e;
    h = vouch_tcg_alg_hash(parsed.sig_hash);
    if (h < 0 || vouch_hash_size((enum vouch_hash)h) != parsed.pcr_digest_len)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "a quote signed with hash 0x%x",
                          (unsigned)parsed.sig_hash);
    e = vouch_tpm_pcr_digest(&parsed.select, &q->pcrs, (enum vouch_hash)h, digest, eb);
    if (!e)
        *ret = memcmp(digest, parsed.pcr_digest, parsed.pcr_digest_len) == 0;
    return e;
}

vouch_err vouch_agent_tpm_quote(struct vouch_agent_tpm *t, uint32_t ak_handle,
                                const struct vouch_tpm_pcr_select *sel, const uint8_t *nonce,
                                size_t nonce_len, struct vouch_agent_quote *ret,
                                struct vouch_errbuf *eb)
{
    struct vouch_agent_quote q;
    ESYS_TR ak = ESYS_TR_NONE;
    TSS2_RC rc;
    vouch_err e = VOUCH_OK;
    bool match = false;
    int i;

    memset(&q, 0, sizeof(q));
    rc = Esys_TR_FromTPMPublic(t->esys, ak_handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ak);
    if (rc != TSS2_RC_SUCCESS) {
        e = tss_fail(eb, "the AK's persistent handle", rc);
        goto out;
    }
    for (i = 0; i < QUOTE_TRIES && !e && !match; i++) {
        vouch_agent_quote_done(&q);
        e = read_pcrs(t, sel, &q.pcrs, eb);
        if (!e)
            e = quote_once(t, ak, sel, nonce, nonce_len, &q, eb);
        if (!e)
            e = pcrs_match(&q, &match, eb);
    }
    if (!e && !match)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "PCRs kept changing while quoting (%d tries)",
                       QUOTE_TRIES);
    if (e)
        goto out;
    *ret = q;
    memset(&q, 0, sizeof(q));
out:
    vouch_agent_quote_done(&q);
    close_tr(t, &ak);
    return e;
}

void vouch_agent_quote_done(struct vouch_agent_quote *q)
{
    if (!q)
        return;
    free(q->attest);
    free(q->sig);
    q->attest = q->sig = NULL;
    q->attest_len = q->sig_len = 0;
}
