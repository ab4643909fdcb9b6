/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SEV-SNP attestation report (AMD SEV-SNP firmware ABI, "ATTESTATION_REPORT"):
 * 1184 bytes, little-endian, versions 2 to 5.  Read top to bottom with the
 * bounded reader; offsets are the named constants of snp.h.
 */
#include <string.h>

#include "common/reader.h"
#include "crypto/sig.h"
#include "evidence/snp/snp.h"

const char *vouch_snp_product_name(enum vouch_snp_product p)
{
    switch (p) {
    case VOUCH_SNP_PRODUCT_MILAN: return "Milan";
    case VOUCH_SNP_PRODUCT_GENOA: return "Genoa";
    case VOUCH_SNP_PRODUCT_TURIN: return "Turin";
    default: return "unknown";
    }
}

void vouch_snp_tcb_decode(uint64_t raw, bool turin, struct vouch_snp_tcb *ret)
{
    struct vouch_snp_tcb t = { .raw = raw, .has_fmc = turin };

#define TCB_BYTE(i) ((uint8_t)(raw >> (8 * (i))))
    if (turin) {
        t.fmc = TCB_BYTE(VOUCH_SNP_TCB_TURIN_FMC);
        t.bootloader = TCB_BYTE(VOUCH_SNP_TCB_TURIN_BOOTLOADER);
        t.tee = TCB_BYTE(VOUCH_SNP_TCB_TURIN_TEE);
        t.snp = TCB_BYTE(VOUCH_SNP_TCB_TURIN_SNP);
        t.microcode = TCB_BYTE(VOUCH_SNP_TCB_TURIN_MICROCODE);
    } else {
        t.bootloader = TCB_BYTE(VOUCH_SNP_TCB_LEGACY_BOOTLOADER);
        t.tee = TCB_BYTE(VOUCH_SNP_TCB_LEGACY_TEE);
        t.snp = TCB_BYTE(VOUCH_SNP_TCB_LEGACY_SNP);
        t.microcode = TCB_BYTE(VOUCH_SNP_TCB_LEGACY_MICROCODE);
    }
#undef TCB_BYTE
    *ret = t;
}

/* Product from CPUID family / model (v3+). */
static enum vouch_snp_product product_from_cpuid(uint8_t family, uint8_t model)
{
    if (family == 0x19 && model <= 0x0F)
        return VOUCH_SNP_PRODUCT_MILAN;
    if (family == 0x19 && ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF)))
        return VOUCH_SNP_PRODUCT_GENOA;
    if (family == 0x1A && model <= 0x11)
        return VOUCH_SNP_PRODUCT_TURIN;
    return VOUCH_SNP_PRODUCT_UNKNOWN;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    size_t i;

    for (i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* A reserved run of the signed part must be zero; the reader moves past it. */
static vouch_err reserved(struct vouch_reader *rd, size_t n, struct vouch_errbuf *eb)
{
    size_t off = vouch_reader_offset(rd);
    const uint8_t *p;
    vouch_err e = vouch_reader_bytes(rd, n, &p);

    if (e)
        return vouch_fail(eb, e, "report truncated at 0x%zx", off);
    if (!all_zero(p, n))
        return vouch_fail(eb, VOUCH_E_INVALID, "reserved bytes 0x%zx..0x%zx are not zero", off,
                          off + n - 1);
    return VOUCH_OK;
}

static void read_version(struct vouch_reader *rd, struct vouch_snp_fw_version *v)
{
    vouch_reader_u8(rd, &v->build);
    vouch_reader_u8(rd, &v->minor);
    vouch_reader_u8(rd, &v->major);
}

/* 0x000..0x180: header, guest identity and the guest-supplied data. */
static void read_head(struct vouch_reader *rd, struct vouch_snp_report *r, uint64_t *tcb_current)
{
    uint32_t rsvd;

    vouch_reader_u32le(rd, &r->version);
    vouch_reader_u32le(rd, &r->guest_svn);
    vouch_reader_u64le(rd, &r->policy);
    vouch_reader_copy(rd, r->family_id, sizeof(r->family_id));
    vouch_reader_copy(rd, r->image_id, sizeof(r->image_id));
    vouch_reader_u32le(rd, &r->vmpl);
    vouch_reader_u32le(rd, &r->sig_algo);
    vouch_reader_u64le(rd, tcb_current);
    vouch_reader_u64le(rd, &r->platform_info);
    vouch_reader_u32le(rd, &r->key_info);
    vouch_reader_u32le(rd, &rsvd);    /* RESERVED0, checked by the caller via raw */
    vouch_reader_copy(rd, r->report_data, sizeof(r->report_data));
    vouch_reader_copy(rd, r->measurement, sizeof(r->measurement));
    vouch_reader_copy(rd, r->host_data, sizeof(r->host_data));
    vouch_reader_copy(rd, r->id_key_digest, sizeof(r->id_key_digest));
    vouch_reader_copy(rd, r->author_key_digest, sizeof(r->author_key_digest));
    vouch_reader_copy(rd, r->report_id, sizeof(r->report_id));
    vouch_reader_copy(rd, r->report_id_ma, sizeof(r->report_id_ma));
}

/*
 * 0x180..0x2A0: platform TCBs, CPUID (v3+), chip id, mitigations (v5).
 * Bytes a later version defines (CPUID in v2, the mitigation vectors
 * before v5) are neither read nor required to be zero: firmware newer than
 * the version it writes may fill them, and they are still signed.  Bytes
 * reserved in every version must be zero.
 */
static vouch_err read_platform(struct vouch_reader *rd, struct vouch_snp_report *r,
                               uint64_t tcb[4], struct vouch_errbuf *eb)
{
    vouch_err e;

    vouch_reader_u64le(rd, &tcb[1]);    /* REPORTED_TCB */
    if (r->version >= 3) {
        r->has_cpuid = true;
        vouch_reader_u8(rd, &r->cpuid_fam_id);
        vouch_reader_u8(rd, &r->cpuid_mod_id);
        vouch_reader_u8(rd, &r->cpuid_step);
    } else {
        vouch_reader_skip(rd, VOUCH_SNP_OFF_RESERVED1 - VOUCH_SNP_OFF_CPUID);
    }
    if ((e = reserved(rd, VOUCH_SNP_OFF_CHIP_ID - VOUCH_SNP_OFF_RESERVED1, eb)))
        return e;
    vouch_reader_copy(rd, r->chip_id, sizeof(r->chip_id));
    vouch_reader_u64le(rd, &tcb[2]);    /* COMMITTED_TCB */
    read_version(rd, &r->current);
    if ((e = reserved(rd, 1, eb)))
        return e;
    read_version(rd, &r->committed);
    if ((e = reserved(rd, 1, eb)))
        return e;
    vouch_reader_u64le(rd, &tcb[3]);    /* LAUNCH_TCB */
    if (r->version >= 5) {
        r->has_mit_vectors = true;
        vouch_reader_u64le(rd, &r->launch_mit_vector);
        vouch_reader_u64le(rd, &r->current_mit_vector);
    } else {
        vouch_reader_skip(rd, VOUCH_SNP_OFF_RESERVED3_V5 - VOUCH_SNP_OFF_LAUNCH_MIT);
    }
    return reserved(rd, VOUCH_SNP_OFF_SIGNATURE - VOUCH_SNP_OFF_RESERVED3_V5, eb);
}

static vouch_err check_fields(const struct vouch_snp_report *r, struct vouch_errbuf *eb)
{
    if (r->version < 2 || r->version > 5)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "report version %u (2 to 5 are known)",
                          r->version);
    if (!all_zero(r->raw + VOUCH_SNP_OFF_RESERVED0, 4))
        return vouch_fail(eb, VOUCH_E_INVALID, "reserved bytes 0x4c..0x4f are not zero");
    if (!(r->policy & VOUCH_SNP_POLICY_RESERVED_1))
        return vouch_fail(eb, VOUCH_E_INVALID, "POLICY bit 17 must be set");
    if (r->policy & ~VOUCH_SNP_POLICY_KNOWN_MASK)
        return vouch_fail(eb, VOUCH_E_INVALID, "POLICY 0x%llx sets reserved bits",
                          (unsigned long long)r->policy);
    if (r->platform_info & VOUCH_SNP_PLAT_RESERVED_MASK)
        return vouch_fail(eb, VOUCH_E_INVALID, "PLATFORM_INFO 0x%llx sets reserved bits",
                          (unsigned long long)r->platform_info);
    return VOUCH_OK;
}

/* Bytes of a TCB_VERSION that are reserved in a layout. */
#define TCB_RESERVED_LEGACY 0x0000FFFFFFFF0000ull   /* bytes 2..5 */
#define TCB_RESERVED_TURIN 0x00FFFFFF00000000ull    /* bytes 4..6 */

static vouch_err decode_tcbs(struct vouch_snp_report *r, const uint64_t tcb[4],
                             struct vouch_errbuf *eb)
{
    static const char *const names[4] = { "CURRENT_TCB", "REPORTED_TCB", "COMMITTED_TCB",
                                          "LAUNCH_TCB" };
    struct vouch_snp_tcb *out[4] = { &r->current_tcb, &r->reported_tcb, &r->committed_tcb,
                                     &r->launch_tcb };
    bool turin = r->product == VOUCH_SNP_PRODUCT_TURIN;
    uint64_t mask = turin ? TCB_RESERVED_TURIN : TCB_RESERVED_LEGACY;
    int i;

    for (i = 0; i < 4; i++) {
        if (tcb[i] & mask)
            return vouch_fail(eb, VOUCH_E_INVALID, "%s 0x%016llx sets reserved bytes", names[i],
                              (unsigned long long)tcb[i]);
        vouch_snp_tcb_decode(tcb[i], turin, out[i]);
    }
    return VOUCH_OK;
}

vouch_err vouch_snp_report_parse(const uint8_t *data, size_t len, struct vouch_snp_report *ret,
                                 struct vouch_errbuf *eb)
{
    struct vouch_snp_report *r = NULL;
    struct vouch_reader rd;
    uint64_t tcb[4] = { 0 };
    vouch_err e;

    if (len != VOUCH_SNP_REPORT_SIZE)
        return vouch_fail(eb, len < VOUCH_SNP_REPORT_SIZE ? VOUCH_E_TRUNCATED : VOUCH_E_INVALID,
                          "report is %zu bytes, not %u", len, VOUCH_SNP_REPORT_SIZE);
    /* The report is ~2.6 KiB with its decoded fields: build it in place. */
    r = ret;
    memset(r, 0, sizeof(*r));
    memcpy(r->raw, data, VOUCH_SNP_REPORT_SIZE);
    vouch_reader_init(&rd, data, len);
    /* The length is fixed and checked above, so the reads below cannot fail
     * before the signature; reserved() still reports its offset if they did. */
    read_head(&rd, r, &tcb[0]);
    e = check_fields(r, eb);
    if (e)
        goto out;
    e = read_platform(&rd, r, tcb, eb);
    if (e)
        goto out;
    vouch_reader_copy(&rd, r->sig_r, sizeof(r->sig_r));
    e = vouch_reader_copy(&rd, r->sig_s, sizeof(r->sig_s));
    if (e) {
        e = vouch_fail(eb, e, "report truncated in its signature");
        goto out;
    }
    /* The tail after the signature is not signed and not read. */
    if (r->has_cpuid)
        r->product = product_from_cpuid(r->cpuid_fam_id, r->cpuid_mod_id);
    e = decode_tcbs(r, tcb, eb);
out:
    if (e)
        memset(r, 0, sizeof(*r));
    return e;
}

/* Reverse a 72-byte little-endian component into 48 big-endian bytes. */
static bool component_be(const uint8_t le[VOUCH_SNP_SIG_COMPONENT], uint8_t *be)
{
    size_t i;

    if (!all_zero(le + VOUCH_SNP_P384_SIZE, VOUCH_SNP_SIG_COMPONENT - VOUCH_SNP_P384_SIZE))
        return false;
    for (i = 0; i < VOUCH_SNP_P384_SIZE; i++)
        be[i] = le[VOUCH_SNP_P384_SIZE - 1 - i];
    return true;
}

vouch_err vouch_snp_report_verify_signature(const struct vouch_snp_report *r, EVP_PKEY *pk,
                                            struct vouch_errbuf *eb)
{
    uint8_t rs[2 * VOUCH_SNP_P384_SIZE];
    vouch_err e;

    if (r->sig_algo != VOUCH_SNP_SIG_ALGO_ECDSA_P384_SHA384)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "signature algorithm %u (1, ECDSA P-384, "
                          "is known)", r->sig_algo);
    if (vouch_ec_field_size(pk) != VOUCH_SNP_P384_SIZE)
        return vouch_fail(eb, VOUCH_E_VERIFY, "the VEK key is not an EC P-384 key");
    if (!component_be(r->sig_r, rs) || !component_be(r->sig_s, rs + VOUCH_SNP_P384_SIZE))
        return vouch_fail(eb, VOUCH_E_VERIFY, "report signature: r or s exceeds 384 bits");
    e = vouch_ecdsa_verify_raw(pk, VOUCH_HASH_SHA384, r->raw, VOUCH_SNP_SIGNED_LEN, rs,
                               sizeof(rs), eb);
    if (e)
        return vouch_fail_prefix(eb, e, "report signature: ");
    return VOUCH_OK;
}
