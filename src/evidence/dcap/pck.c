/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SGX extension of PCK certificates (OID 1.2.840.113741.1.13.1): a
 * SEQUENCE of (OID, value) pairs, read with a minimal DER walker that never
 * reads past its explicit end.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "evidence/dcap/dcap.h"

/* 1.2.840.113741.1.13.1 without tag and length. */
static const uint8_t sgx_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

/* DER tags of the values the extension holds. */
enum {
    DER_BOOLEAN = 0x01,
    DER_INTEGER = 0x02,
    DER_OCTET_STRING = 0x04,
    DER_OID = 0x06,
    DER_ENUMERATED = 0x0a,
    DER_SEQUENCE = 0x30,
};

/* Arcs under the SGX extension's OID (Intel's PCK certificate profile). */
enum {
    SGX_PPID = 1,
    SGX_TCB = 2,             /* .2.1-.2.16 component SVNs, .2.17 PCESVN, .2.18 CPUSVN */
    SGX_PCE_ID = 3,
    SGX_FMSPC = 4,
    SGX_TYPE = 5,
    SGX_PLATFORM_INSTANCE_ID = 6,
    SGX_CONFIGURATION = 7,   /* .7.1 dynamic platform, .7.2 cached keys, .7.3 SMT */
};
#define TCB_COMPONENTS 16
#define TCB_PCESVN 17
#define TCB_CPUSVN 18

struct der {
    const uint8_t *p, *end;
};

/* Read one TLV: single-byte tags only (all we need), definite lengths. */
static int der_next(struct der *d, uint8_t *tag, const uint8_t **val, size_t *len)
{
    size_t left = (size_t)(d->end - d->p), n, i, hdr = 2;
    uint8_t l;

    if (left < 2 || (d->p[0] & 0x1f) == 0x1f)
        return -1;
    *tag = d->p[0];
    l = d->p[1];
    if (l < 0x80) {
        n = l;
    } else {
        size_t nb = l & 0x7f;

        if (nb == 0 || nb > 3 || left < 2 + nb)
            return -1;
        for (n = 0, i = 0; i < nb; i++)
            n = (n << 8) | d->p[2 + i];
        hdr += nb;
    }
    if (n > left - hdr)
        return -1;
    *val = d->p + hdr;
    *len = n;
    d->p += hdr + n;
    return 0;
}

/* OID of the form sgx_oid.a[.b]; returns a*256+b (b = 0 if absent), -1 otherwise. */
static int sgx_suffix(const uint8_t *oid, size_t n)
{
    if (n < sizeof(sgx_oid) + 1 || n > sizeof(sgx_oid) + 2 ||
        memcmp(oid, sgx_oid, sizeof(sgx_oid)) != 0)
        return -1;
    if (oid[sizeof(sgx_oid)] >= 0x80)
        return -1;
    if (n == sizeof(sgx_oid) + 1)
        return oid[sizeof(sgx_oid)] * 256;
    if (oid[sizeof(sgx_oid) + 1] >= 0x80)
        return -1;
    return oid[sizeof(sgx_oid)] * 256 + oid[sizeof(sgx_oid) + 1];
}

/* A non-negative DER INTEGER of at most 16 bits. */
static int der_uint(const uint8_t *v, size_t n, unsigned max, unsigned *ret)
{
    unsigned x = 0;
    size_t i;

    if (n == 0 || n > 3 || (v[0] & 0x80))
        return -1;
    for (i = 0; i < n; i++)
        x = (x << 8) | v[i];
    if (x > max)
        return -1;
    *ret = x;
    return 0;
}

/* Read a SEQUENCE of SEQUENCE{OID, value} and hand each pair to fn. */
typedef int (*pair_fn)(void *arg, int suffix, uint8_t tag, const uint8_t *v, size_t n);

static int walk_pairs(const uint8_t *v, size_t n, pair_fn fn, void *arg)
{
    struct der d = { v, v + n };

    while (d.p < d.end) {
        const uint8_t *pv, *oid, *val;
        size_t pn, oidn, valn;
        uint8_t tag;
        struct der pair;
        int s;

        if (der_next(&d, &tag, &pv, &pn) || tag != DER_SEQUENCE)
            return -1;
        pair.p = pv;
        pair.end = pv + pn;
        if (der_next(&pair, &tag, &oid, &oidn) || tag != DER_OID)
            return -1;
        if (der_next(&pair, &tag, &val, &valn) || pair.p != pair.end)
            return -1;
        s = sgx_suffix(oid, oidn);
        if (s < 0)
            continue; /* unknown OIDs are skipped, as QVL does */
        if (fn(arg, s, tag, val, valn))
            return -1;
    }
    return 0;
}

struct tcb_acc {
    struct vouch_dcap_pck_info *info;
    unsigned seen;   /* bit i-1 for component i, 17 pcesvn, 18 cpusvn */
};

static int tcb_pair(void *arg, int s, uint8_t tag, const uint8_t *v, size_t n)
{
    struct tcb_acc *acc = arg;
    int comp = s & 0xff;
    unsigned x;

    if ((s >> 8) != SGX_TCB || comp < 1 || comp > TCB_CPUSVN)
        return 0;
    if (acc->seen & (1u << (comp - 1)))
        return -1;
    acc->seen |= 1u << (comp - 1);
    if (comp <= TCB_COMPONENTS) {
        if (tag != DER_INTEGER || der_uint(v, n, 255, &x))
            return -1;
        acc->info->comp_svn[comp - 1] = (uint8_t)x;
    } else if (comp == TCB_PCESVN) {
        if (tag != DER_INTEGER || der_uint(v, n, 65535, &x))
            return -1;
        acc->info->pce_svn = (uint16_t)x;
    } else {
        if (tag != DER_OCTET_STRING || n != sizeof(acc->info->cpu_svn))
            return -1;
        memcpy(acc->info->cpu_svn, v, sizeof(acc->info->cpu_svn));
    }
    return 0;
}

struct cfg_acc {
    struct vouch_dcap_pck_info *info;
};

static int cfg_pair(void *arg, int s, uint8_t tag, const uint8_t *v, size_t n)
{
    struct cfg_acc *acc = arg;
    bool b;

    if ((s >> 8) != SGX_CONFIGURATION)
        return 0;
    if (tag != DER_BOOLEAN || n != 1)
        return -1;
    b = v[0] != 0;
    switch (s & 0xff) {
    case 1: acc->info->dynamic_platform = b; break;
    case 2: acc->info->cached_keys = b; break;
    case 3: acc->info->smt_enabled = b; break;
    default: break;
    }
    return 0;
}

struct top_acc {
    struct vouch_dcap_pck_info *info;
    unsigned seen;
    const char *bad;
};

enum { SEEN_PPID = 1, SEEN_TCB = 2, SEEN_PCEID = 4, SEEN_FMSPC = 8, SEEN_TYPE = 16 };

static int top_pair(void *arg, int s, uint8_t tag, const uint8_t *v, size_t n)
{
    struct top_acc *acc = arg;
    struct vouch_dcap_pck_info *info = acc->info;
    unsigned x;

    if (s & 0xff)
        return 0;
    switch (s >> 8) {
    case SGX_PPID:
        acc->bad = "PPID";
        if (tag != DER_OCTET_STRING || n != sizeof(info->ppid))
            return -1;
        memcpy(info->ppid, v, sizeof(info->ppid));
        acc->seen |= SEEN_PPID;
        break;
    case SGX_TCB: {
        struct tcb_acc t = { info, 0 };

        acc->bad = "TCB";
        if (tag != DER_SEQUENCE || walk_pairs(v, n, tcb_pair, &t) ||
            t.seen != (1u << TCB_CPUSVN) - 1)
            return -1;
        acc->seen |= SEEN_TCB;
        break;
    }
    case SGX_PCE_ID:
        acc->bad = "PCE-ID";
        if (tag != DER_OCTET_STRING || n != sizeof(info->pce_id))
            return -1;
        memcpy(info->pce_id, v, sizeof(info->pce_id));
        acc->seen |= SEEN_PCEID;
        break;
    case SGX_FMSPC:
        acc->bad = "FMSPC";
        if (tag != DER_OCTET_STRING || n != sizeof(info->fmspc))
            return -1;
        memcpy(info->fmspc, v, sizeof(info->fmspc));
        acc->seen |= SEEN_FMSPC;
        break;
    case SGX_TYPE:
        acc->bad = "SGX type";
        if (tag != DER_ENUMERATED || der_uint(v, n, 2, &x))
            return -1;
        info->sgx_type = (int)x;
        acc->seen |= SEEN_TYPE;
        break;
    case SGX_PLATFORM_INSTANCE_ID:
        acc->bad = "platform instance id";
        if (tag != DER_OCTET_STRING || n != sizeof(info->platform_instance_id))
            return -1;
        memcpy(info->platform_instance_id, v, sizeof(info->platform_instance_id));
        info->has_platform_instance_id = true;
        break;
    case SGX_CONFIGURATION: {
        struct cfg_acc c = { info };

        acc->bad = "configuration";
        if (tag != DER_SEQUENCE || walk_pairs(v, n, cfg_pair, &c))
            return -1;
        info->has_configuration = true;
        break;
    }
    default:
        break;
    }
    return 0;
}

/* The SGX extension's OID, created once for the process: verifications
 * run on many server threads at once, so the creation is behind
 * pthread_once rather than a lazy unlocked test. */
static ASN1_OBJECT *sgx_ext_oid;
static pthread_once_t sgx_ext_once = PTHREAD_ONCE_INIT;

static void sgx_ext_obj_create(void)
{
    sgx_ext_oid = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
}

static ASN1_OBJECT *sgx_ext_obj(void)
{
    if (pthread_once(&sgx_ext_once, sgx_ext_obj_create) != 0)
        return NULL;
    return sgx_ext_oid;
}

vouch_err vouch_dcap_pck_info_parse(X509 *pck, struct vouch_dcap_pck_info *ret,
                                    struct vouch_errbuf *eb)
{
    struct vouch_dcap_pck_info info;
    struct top_acc acc = { &info, 0, "extension" };
    const ASN1_OCTET_STRING *os;
    X509_EXTENSION *ext;
    ASN1_OBJECT *obj = sgx_ext_obj();
    const uint8_t *v;
    size_t n;
    struct der d;
    uint8_t tag;
    char cn[256];
    int idx;

    memset(&info, 0, sizeof(info));
    if (!obj)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    idx = X509_get_ext_by_OBJ(pck, obj, -1);
    if (idx < 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "PCK certificate has no SGX extension");
    if (X509_get_ext_by_OBJ(pck, obj, idx) >= 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "PCK certificate has two SGX extensions");
    ext = X509_get_ext(pck, idx);
    os = X509_EXTENSION_get_data(ext);
    d.p = ASN1_STRING_get0_data(os);
    d.end = d.p + ASN1_STRING_length(os);
    if (der_next(&d, &tag, &v, &n) || tag != 0x30 || d.p != d.end)
        return vouch_fail(eb, VOUCH_E_INVALID, "SGX extension is not a DER SEQUENCE");
    if (walk_pairs(v, n, top_pair, &acc))
        return vouch_fail(eb, VOUCH_E_INVALID, "SGX extension: malformed %s", acc.bad);
    if ((acc.seen & (SEEN_PPID | SEEN_TCB | SEEN_PCEID | SEEN_FMSPC | SEEN_TYPE)) !=
        (SEEN_PPID | SEEN_TCB | SEEN_PCEID | SEEN_FMSPC | SEEN_TYPE))
        return vouch_fail(eb, VOUCH_E_INVALID, "SGX extension lacks one of PPID, TCB, "
                          "PCE-ID, FMSPC, SGX type");
    cn[0] = '\0';
    X509_NAME_get_text_by_NID(X509_get_issuer_name(pck), NID_commonName, cn, sizeof(cn));
    if (strstr(cn, "Platform"))
        info.ca = VOUCH_DCAP_CA_PLATFORM;
    else if (strstr(cn, "Processor"))
        info.ca = VOUCH_DCAP_CA_PROCESSOR;
    else
        return vouch_fail(eb, VOUCH_E_INVALID, "PCK issuer '%s' is neither a Platform "
                          "nor a Processor CA", cn);
    *ret = info;
    return VOUCH_OK;
}
