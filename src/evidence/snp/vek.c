/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The versioned chip / loaded endorsement keys (VCEK, VLEK): AMD's X.509
 * extensions under 1.3.6.1.4.1.3704.1 (KDS interface specification):
 *   .1 structVersion  .2 productName  .3.1 blSPL  .3.2 teeSPL  .3.3 snpSPL
 *   .3.8 ucodeSPL  .3.9 fmcSPL (Turin)  .4 hwID (VCEK)  .5 cspID (VLEK)
 * SPLs are DER INTEGERs; hwID is the raw chip id (64 bytes, 8 on Turin),
 * sometimes wrapped in an OCTET STRING: told apart by length, never by
 * sniffing a tag byte (a raw chip id may begin with any byte).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "common/codec.h"
#include "evidence/snp/snp.h"

#define AMD_OID "1.3.6.1.4.1.3704.1."
#define HWID_LEGACY_LEN 64u
#define HWID_TURIN_LEN 8u
#define OCTET_STRING_TAG 0x04

enum ext_slot { EXT_BL, EXT_TEE, EXT_SNP, EXT_UCODE, EXT_FMC, EXT_HWID, EXT_CSPID, EXT__COUNT };

static const char *const ext_oid[EXT__COUNT] = {
    [EXT_BL] = AMD_OID "3.1",    [EXT_TEE] = AMD_OID "3.2", [EXT_SNP] = AMD_OID "3.3",
    [EXT_UCODE] = AMD_OID "3.8", [EXT_FMC] = AMD_OID "3.9", [EXT_HWID] = AMD_OID "4",
    [EXT_CSPID] = AMD_OID "5",
};

static const char *const ext_name[EXT__COUNT] = {
    "blSPL", "teeSPL", "snpSPL", "ucodeSPL", "fmcSPL", "hwID", "cspID",
};

/* The common name of a certificate name, NUL-terminated into buf; false if none fits. */
static bool name_cn(const X509_NAME *name, char *buf, size_t size)
{
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    const ASN1_STRING *s;
    int n;

    if (i < 0)
        return false;
    s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    n = ASN1_STRING_length(s);
    if (n < 0 || (size_t)n >= size)
        return false;
    memcpy(buf, ASN1_STRING_get0_data(s), (size_t)n);
    buf[n] = '\0';
    return strlen(buf) == (size_t)n;
}

static enum vouch_snp_product product_from_issuer(const char *cn)
{
    enum vouch_snp_product p;
    const char *tail;

    if (strncmp(cn, "SEV-VLEK-", 9) == 0)
        tail = cn + 9;
    else if (strncmp(cn, "SEV-", 4) == 0)
        tail = cn + 4;
    else
        return VOUCH_SNP_PRODUCT_UNKNOWN;
    for (p = VOUCH_SNP_PRODUCT_MILAN; p < VOUCH_SNP_PRODUCT__COUNT; p++)
        if (strcmp(tail, vouch_snp_product_name(p)) == 0)
            return p;
    return VOUCH_SNP_PRODUCT_UNKNOWN;
}

/* The AMD extensions' values, by slot (NULL when absent). */
static vouch_err collect(X509 *vek, const ASN1_OCTET_STRING *out[EXT__COUNT],
                         struct vouch_errbuf *eb)
{
    int i, n = X509_get_ext_count(vek);
    char oid[64];
    size_t k;

    for (i = 0; i < n; i++) {
        X509_EXTENSION *x = X509_get_ext(vek, i);

        if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(x), 1) <= 0)
            continue;
        for (k = 0; k < EXT__COUNT; k++) {
            if (strcmp(oid, ext_oid[k]) != 0)
                continue;
            if (out[k])
                return vouch_fail(eb, VOUCH_E_INVALID, "VEK: extension %s appears twice",
                                  ext_name[k]);
            out[k] = X509_EXTENSION_get_data(x);
        }
    }
    return VOUCH_OK;
}

/* An SPL: a DER INTEGER 0..255 filling the extension value. */
static vouch_err spl(const ASN1_OCTET_STRING *v, const char *name, uint8_t *ret,
                     struct vouch_errbuf *eb)
{
    const unsigned char *p, *end;
    ASN1_INTEGER *ai = NULL;
    int64_t x = -1;

    if (!v)
        return vouch_fail(eb, VOUCH_E_INVALID, "VEK: no %s extension", name);
    p = ASN1_STRING_get0_data(v);
    end = p + ASN1_STRING_length(v);
    ai = d2i_ASN1_INTEGER(NULL, &p, end - p);
    if (!ai || p != end || ASN1_INTEGER_get_int64(&x, ai) != 1 || x < 0 || x > 255) {
        ASN1_INTEGER_free(ai);
        return vouch_fail(eb, VOUCH_E_INVALID, "VEK: %s is not an INTEGER 0..255", name);
    }
    ASN1_INTEGER_free(ai);
    *ret = (uint8_t)x;
    return VOUCH_OK;
}

static vouch_err hwid(const ASN1_OCTET_STRING *v, bool turin, struct vouch_snp_vek *k,
                      struct vouch_errbuf *eb)
{
    size_t want = turin ? HWID_TURIN_LEN : HWID_LEGACY_LEN;
    const uint8_t *p = ASN1_STRING_get0_data(v);
    size_t n = (size_t)ASN1_STRING_length(v);

    if (n == want + 2 && p[0] == OCTET_STRING_TAG && p[1] == want) {
        p += 2;
        n -= 2;
    }
    if (n != want)
        return vouch_fail(eb, VOUCH_E_INVALID, "VEK: hwID is %zu bytes, not %zu", n, want);
    memcpy(k->hwid, p, n);
    k->hwid_len = n;
    k->has_hwid = true;
    return VOUCH_OK;
}

static vouch_err names(X509 *vek, struct vouch_snp_vek *k, struct vouch_errbuf *eb)
{
    char cn[64];

    if (!name_cn(X509_get_subject_name(vek), cn, sizeof(cn)))
        return vouch_fail(eb, VOUCH_E_INVALID, "VEK: no subject common name");
    if (strcmp(cn, "SEV-VCEK") == 0)
        k->role = VOUCH_SNP_VEK_VCEK;
    else if (strcmp(cn, "SEV-VLEK") == 0)
        k->role = VOUCH_SNP_VEK_VLEK;
    else
        return vouch_fail(eb, VOUCH_E_INVALID, "VEK: subject CN '%s' is neither SEV-VCEK nor "
                          "SEV-VLEK", cn);
    if (!name_cn(X509_get_issuer_name(vek), cn, sizeof(cn)))
        return vouch_fail(eb, VOUCH_E_INVALID, "VEK: no issuer common name");
    k->product = product_from_issuer(cn);
    if (k->product == VOUCH_SNP_PRODUCT_UNKNOWN)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "VEK: issuer '%s' is not a known AMD "
                          "signing key", cn);
    return VOUCH_OK;
}

vouch_err vouch_snp_vek_parse(X509 *vek, struct vouch_snp_vek *ret, struct vouch_errbuf *eb)
{
    const ASN1_OCTET_STRING *ext[EXT__COUNT] = { 0 };
    struct vouch_snp_vek k;
    bool turin;
    vouch_err e;

    memset(&k, 0, sizeof(k));
    if ((e = names(vek, &k, eb)) || (e = collect(vek, ext, eb)))
        return e;
    turin = k.product == VOUCH_SNP_PRODUCT_TURIN;
    k.tcb.has_fmc = turin;
    if ((e = spl(ext[EXT_BL], "blSPL", &k.tcb.bootloader, eb)) ||
        (e = spl(ext[EXT_TEE], "teeSPL", &k.tcb.tee, eb)) ||
        (e = spl(ext[EXT_SNP], "snpSPL", &k.tcb.snp, eb)) ||
        (e = spl(ext[EXT_UCODE], "ucodeSPL", &k.tcb.microcode, eb)))
        return e;
    if (turin && (e = spl(ext[EXT_FMC], "fmcSPL", &k.tcb.fmc, eb)))
        return e;
    if (ext[EXT_HWID] && (e = hwid(ext[EXT_HWID], turin, &k, eb)))
        return e;
    k.has_csp_id = ext[EXT_CSPID] != NULL;
    *ret = k;
    return VOUCH_OK;
}

void vouch_snp_vcek_key(enum vouch_snp_product p, const uint8_t *hwid, size_t hwid_len,
                        const struct vouch_snp_tcb *tcb, char out[VOUCH_SNP_VCEK_KEY_MAX])
{
    char hex[2 * HWID_LEGACY_LEN + 1];
    int n;

    if (hwid_len > HWID_LEGACY_LEN)
        hwid_len = HWID_LEGACY_LEN;
    vouch_hex_encode(hwid, hwid_len, hex);
    n = snprintf(out, VOUCH_SNP_VCEK_KEY_MAX, "%s/%s/%u-%u-%u-%u", vouch_snp_product_name(p),
                 hex, tcb->bootloader, tcb->tee, tcb->snp, tcb->microcode);
    if (tcb->has_fmc && n > 0 && n < VOUCH_SNP_VCEK_KEY_MAX)
        snprintf(out + n, VOUCH_SNP_VCEK_KEY_MAX - (size_t)n, "-%u", tcb->fmc);
}

void vouch_snp_kds_vcek_path(enum vouch_snp_product p, const uint8_t *hwid, size_t hwid_len,
                             const struct vouch_snp_tcb *tcb, char out[VOUCH_SNP_KDS_PATH_MAX])
{
    char hex[2 * HWID_LEGACY_LEN + 1];
    int n;

    if (hwid_len > HWID_LEGACY_LEN)
        hwid_len = HWID_LEGACY_LEN;
    vouch_hex_encode(hwid, hwid_len, hex);
    n = snprintf(out, VOUCH_SNP_KDS_PATH_MAX, "/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u"
                 "&ucodeSPL=%u", vouch_snp_product_name(p), hex, tcb->bootloader, tcb->tee,
                 tcb->snp, tcb->microcode);
    if (tcb->has_fmc && n > 0 && n < VOUCH_SNP_KDS_PATH_MAX)
        snprintf(out + n, VOUCH_SNP_KDS_PATH_MAX - (size_t)n, "&fmcSPL=%u", tcb->fmc);
}
