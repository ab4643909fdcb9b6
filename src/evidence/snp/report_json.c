/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report as JSON in trustee's `attestation_report` shape (the serde
 * form of virtee/sev's AttestationReport): integers, byte arrays as arrays
 * of numbers, TCBs as {fmc, bootloader, tee, snp, microcode}, firmware
 * versions as {major, minor, build}, signature {r, s}.  Both directions:
 * inspection writes it, evidence parsing rebuilds the 1184 bytes from it.
 */
#include <string.h>

#include "common/json.h"
#include "evidence/snp/snp.h"

struct bytes_field {
    const char *name;
    size_t off, len;
};

static const struct bytes_field bytes_fields[] = {
    { "family_id", VOUCH_SNP_OFF_FAMILY_ID, 16 },
    { "image_id", VOUCH_SNP_OFF_IMAGE_ID, 16 },
    { "report_data", VOUCH_SNP_OFF_REPORT_DATA, 64 },
    { "measurement", VOUCH_SNP_OFF_MEASUREMENT, 48 },
    { "host_data", VOUCH_SNP_OFF_HOST_DATA, 32 },
    { "id_key_digest", VOUCH_SNP_OFF_ID_KEY_DIGEST, 48 },
    { "author_key_digest", VOUCH_SNP_OFF_AUTHOR_KEY_DIGEST, 48 },
    { "report_id", VOUCH_SNP_OFF_REPORT_ID, 32 },
    { "report_id_ma", VOUCH_SNP_OFF_REPORT_ID_MA, 32 },
    { "chip_id", VOUCH_SNP_OFF_CHIP_ID, 64 },
};

struct int_field {
    const char *name;
    size_t off, size;   /* size 4 or 8 */
};

static const struct int_field int_fields[] = {
    { "version", VOUCH_SNP_OFF_VERSION, 4 },
    { "guest_svn", VOUCH_SNP_OFF_GUEST_SVN, 4 },
    { "policy", VOUCH_SNP_OFF_POLICY, 8 },
    { "vmpl", VOUCH_SNP_OFF_VMPL, 4 },
    { "sig_algo", VOUCH_SNP_OFF_SIG_ALGO, 4 },
    { "plat_info", VOUCH_SNP_OFF_PLATFORM_INFO, 8 },
    { "key_info", VOUCH_SNP_OFF_KEY_INFO, 4 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *byte_array(const uint8_t *p, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer(p[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *tcb_json(const struct vouch_snp_tcb *t)
{
    return json_pack("{s:o,s:i,s:i,s:i,s:i}", "fmc",
                     t->has_fmc ? json_integer(t->fmc) : json_null(), "bootloader",
                     t->bootloader, "tee", t->tee, "snp", t->snp, "microcode", t->microcode);
}

static json_t *version_json(const struct vouch_snp_fw_version *v)
{
    return json_pack("{s:i,s:i,s:i}", "major", v->major, "minor", v->minor, "build", v->build);
}

static uint64_t le_get(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    while (n--)
        v = (v << 8) | p[n];
    return v;
}

static void le_put(uint8_t *p, size_t n, uint64_t v)
{
    size_t i;

    for (i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static int put_platform(json_t *o, const struct vouch_snp_report *r)
{
    json_t *sig = json_pack("{s:o,s:o}", "r", byte_array(r->sig_r, 72), "s",
                            byte_array(r->sig_s, 72));

    if (vouch_json_set_new(o, "current_tcb", tcb_json(&r->current_tcb)) ||
        vouch_json_set_new(o, "reported_tcb", tcb_json(&r->reported_tcb)) ||
        vouch_json_set_new(o, "committed_tcb", tcb_json(&r->committed_tcb)) ||
        vouch_json_set_new(o, "launch_tcb", tcb_json(&r->launch_tcb)) ||
        vouch_json_set_new(o, "current", version_json(&r->current)) ||
        vouch_json_set_new(o, "committed", version_json(&r->committed)) ||
        vouch_json_set_new(o, "cpuid_fam_id",
                           r->has_cpuid ? json_integer(r->cpuid_fam_id) : json_null()) ||
        vouch_json_set_new(o, "cpuid_mod_id",
                           r->has_cpuid ? json_integer(r->cpuid_mod_id) : json_null()) ||
        vouch_json_set_new(o, "cpuid_step",
                           r->has_cpuid ? json_integer(r->cpuid_step) : json_null()) ||
        vouch_json_set_new(o, "signature", sig))
        return -1;
    if (r->has_mit_vectors &&
        (vouch_json_set_int(o, "launch_mit_vector", (int64_t)r->launch_mit_vector) ||
         vouch_json_set_int(o, "current_mit_vector", (int64_t)r->current_mit_vector)))
        return -1;
    return vouch_json_set_str(o, "product", vouch_snp_product_name(r->product)) ? -1 : 0;
}

vouch_err vouch_snp_report_to_json(const struct vouch_snp_report *r, json_t **ret,
                                   struct vouch_errbuf *eb)
{
    json_t *o = json_object();
    size_t i;
    int rc = o ? 0 : -1;

    for (i = 0; !rc && i < N(int_fields); i++)
        rc = vouch_json_set_int(o, int_fields[i].name,
                                (int64_t)le_get(r->raw + int_fields[i].off, int_fields[i].size));
    for (i = 0; !rc && i < N(bytes_fields); i++)
        rc = vouch_json_set_new(o, bytes_fields[i].name,
                                byte_array(r->raw + bytes_fields[i].off, bytes_fields[i].len));
    if (!rc)
        rc = put_platform(o, r);
    if (rc) {
        json_decref(o);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    *ret = o;
    return VOUCH_OK;
}

/* ------------------------------------------------------------------ */
/* JSON -> bytes                                                       */

static vouch_err get_uint(const json_t *o, const char *key, bool required, uint64_t max,
                          uint64_t *ret, struct vouch_errbuf *eb)
{
    const json_t *v = json_object_get(o, key);
    json_int_t x;

    if (!v || json_is_null(v)) {
        if (required)
            return vouch_fail_field(eb, VOUCH_E_INVALID, key, "'%s' is missing", key);
        *ret = 0;
        return VOUCH_OK;
    }
    x = json_is_integer(v) ? json_integer_value(v) : -1;
    if (x < 0 || (uint64_t)x > max)
        return vouch_fail_field(eb, VOUCH_E_INVALID, key, "'%s' is not an integer 0..%llu", key,
                                (unsigned long long)max);
    *ret = (uint64_t)x;
    return VOUCH_OK;
}

static vouch_err get_bytes(const json_t *o, const char *key, uint8_t *dst, size_t n,
                           struct vouch_errbuf *eb)
{
    const json_t *a = json_object_get(o, key);
    json_int_t x;
    size_t i;

    if (!json_is_array(a) || json_array_size(a) != n)
        return vouch_fail_field(eb, VOUCH_E_INVALID, key, "'%s' is not an array of %zu bytes",
                                key, n);
    for (i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);

        x = json_is_integer(v) ? json_integer_value(v) : -1;
        if (x < 0 || x > 255)
            return vouch_fail_field(eb, VOUCH_E_INVALID, key, "'%s'[%zu] is not a byte", key, i);
        dst[i] = (uint8_t)x;
    }
    return VOUCH_OK;
}

/* A TCB object, written in the layout its "fmc" member implies (Turin when set). */
static vouch_err get_tcb(const json_t *o, const char *key, uint8_t dst[8],
                         struct vouch_errbuf *eb)
{
    const json_t *t = json_object_get(o, key);
    uint64_t bl, tee, snp, uc, fmc;
    bool turin;
    vouch_err e;

    if (!json_is_object(t))
        return vouch_fail_field(eb, VOUCH_E_INVALID, key, "'%s' is not an object", key);
    turin = json_object_get(t, "fmc") && !json_is_null(json_object_get(t, "fmc"));
    if ((e = get_uint(t, "bootloader", true, 255, &bl, eb)) ||
        (e = get_uint(t, "tee", true, 255, &tee, eb)) ||
        (e = get_uint(t, "snp", true, 255, &snp, eb)) ||
        (e = get_uint(t, "microcode", true, 255, &uc, eb)) ||
        (e = get_uint(t, "fmc", false, 255, &fmc, eb)))
        return vouch_fail_prefix(eb, e, "%s: ", key);
    memset(dst, 0, 8);
    if (turin) {
        dst[VOUCH_SNP_TCB_TURIN_FMC] = (uint8_t)fmc;
        dst[VOUCH_SNP_TCB_TURIN_BOOTLOADER] = (uint8_t)bl;
        dst[VOUCH_SNP_TCB_TURIN_TEE] = (uint8_t)tee;
        dst[VOUCH_SNP_TCB_TURIN_SNP] = (uint8_t)snp;
        dst[VOUCH_SNP_TCB_TURIN_MICROCODE] = (uint8_t)uc;
    } else {
        dst[VOUCH_SNP_TCB_LEGACY_BOOTLOADER] = (uint8_t)bl;
        dst[VOUCH_SNP_TCB_LEGACY_TEE] = (uint8_t)tee;
        dst[VOUCH_SNP_TCB_LEGACY_SNP] = (uint8_t)snp;
        dst[VOUCH_SNP_TCB_LEGACY_MICROCODE] = (uint8_t)uc;
    }
    return VOUCH_OK;
}

static vouch_err get_version(const json_t *o, const char *key, uint8_t dst[3],
                             struct vouch_errbuf *eb)
{
    const json_t *v = json_object_get(o, key);
    uint64_t major, minor, build;
    vouch_err e;

    if (!json_is_object(v))
        return vouch_fail_field(eb, VOUCH_E_INVALID, key, "'%s' is not an object", key);
    if ((e = get_uint(v, "build", true, 255, &build, eb)) ||
        (e = get_uint(v, "minor", true, 255, &minor, eb)) ||
        (e = get_uint(v, "major", true, 255, &major, eb)))
        return vouch_fail_prefix(eb, e, "%s: ", key);
    dst[0] = (uint8_t)build;
    dst[1] = (uint8_t)minor;
    dst[2] = (uint8_t)major;
    return VOUCH_OK;
}

static vouch_err get_platform(const json_t *o, uint8_t *out, struct vouch_errbuf *eb)
{
    const json_t *sig = json_object_get(o, "signature");
    uint64_t v;
    vouch_err e;

    if ((e = get_tcb(o, "current_tcb", out + VOUCH_SNP_OFF_CURRENT_TCB, eb)) ||
        (e = get_tcb(o, "reported_tcb", out + VOUCH_SNP_OFF_REPORTED_TCB, eb)) ||
        (e = get_tcb(o, "committed_tcb", out + VOUCH_SNP_OFF_COMMITTED_TCB, eb)) ||
        (e = get_tcb(o, "launch_tcb", out + VOUCH_SNP_OFF_LAUNCH_TCB, eb)) ||
        (e = get_version(o, "current", out + VOUCH_SNP_OFF_CURRENT_VERSION, eb)) ||
        (e = get_version(o, "committed", out + VOUCH_SNP_OFF_COMMITTED_VERSION, eb)))
        return e;
    if ((e = get_uint(o, "cpuid_fam_id", false, 255, &v, eb)))
        return e;
    out[VOUCH_SNP_OFF_CPUID] = (uint8_t)v;
    if ((e = get_uint(o, "cpuid_mod_id", false, 255, &v, eb)))
        return e;
    out[VOUCH_SNP_OFF_CPUID + 1] = (uint8_t)v;
    if ((e = get_uint(o, "cpuid_step", false, 255, &v, eb)))
        return e;
    out[VOUCH_SNP_OFF_CPUID + 2] = (uint8_t)v;
    if ((e = get_uint(o, "launch_mit_vector", false, UINT64_MAX, &v, eb)))
        return e;
    le_put(out + VOUCH_SNP_OFF_LAUNCH_MIT, 8, v);
    if ((e = get_uint(o, "current_mit_vector", false, UINT64_MAX, &v, eb)))
        return e;
    le_put(out + VOUCH_SNP_OFF_CURRENT_MIT, 8, v);
    if (!json_is_object(sig))
        return vouch_fail_field(eb, VOUCH_E_INVALID, "signature", "'signature' is not an object");
    if ((e = get_bytes(sig, "r", out + VOUCH_SNP_OFF_SIGNATURE, VOUCH_SNP_SIG_COMPONENT, eb)) ||
        (e = get_bytes(sig, "s", out + VOUCH_SNP_OFF_SIG_S, VOUCH_SNP_SIG_COMPONENT, eb)))
        return vouch_fail_prefix(eb, e, "signature: ");
    return VOUCH_OK;
}

vouch_err vouch_snp_report_from_json(const json_t *obj, uint8_t out[VOUCH_SNP_REPORT_SIZE],
                                     struct vouch_errbuf *eb)
{
    uint8_t buf[VOUCH_SNP_REPORT_SIZE];
    uint64_t v;
    size_t i;
    vouch_err e = VOUCH_OK;

    if (!json_is_object(obj))
        return vouch_fail(eb, VOUCH_E_INVALID, "the report is not a JSON object");
    memset(buf, 0, sizeof(buf));
    for (i = 0; !e && i < N(int_fields); i++) {
        e = get_uint(obj, int_fields[i].name, true,
                     int_fields[i].size == 4 ? UINT32_MAX : UINT64_MAX, &v, eb);
        le_put(buf + int_fields[i].off, int_fields[i].size, v);
    }
    for (i = 0; !e && i < N(bytes_fields); i++)
        e = get_bytes(obj, bytes_fields[i].name, buf + bytes_fields[i].off, bytes_fields[i].len,
                      eb);
    if (!e)
        e = get_platform(obj, buf, eb);
    if (e)
        return e;
    memcpy(out, buf, sizeof(buf));
    return VOUCH_OK;
}
