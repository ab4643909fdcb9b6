/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/reader.h"
#include "evidence/nvgpu/spdm.h"

#define SPDM_VERSION_11 0x11
#define SPDM_GET_MEASUREMENTS 0xE0
#define SPDM_MEASUREMENTS 0x60
#define SPDM_SIGNATURE_REQUESTED 0x01
#define DMTF_MEASUREMENT_SPEC 0x01
/* MEASUREMENTS: version, code, param1, param2, block count, 3-byte record length. */
#define SPDM_MEASUREMENTS_HEADER_SIZE 8

const char *vouch_nvgpu_arch_name(enum vouch_nvgpu_arch a)
{
    switch (a) {
    case VOUCH_NVGPU_HOPPER: return "HOPPER";
    case VOUCH_NVGPU_BLACKWELL: return "BLACKWELL";
    default: return "UNKNOWN";
    }
}

enum vouch_nvgpu_arch vouch_nvgpu_arch_parse(const char *s)
{
    if (s && strcasecmp(s, "HOPPER") == 0)
        return VOUCH_NVGPU_HOPPER;
    if (s && strcasecmp(s, "BLACKWELL") == 0)
        return VOUCH_NVGPU_BLACKWELL;
    return VOUCH_NVGPU_ARCH_UNKNOWN;
}

static const struct {
    uint16_t type;
    const char *name;
} opaque_names[] = {
    { VOUCH_NVGPU_OPAQUE_CERT_ISSUER_NAME, "cert_issuer_name" },
    { VOUCH_NVGPU_OPAQUE_CERT_AUTHORITY_KEY_IDENTIFIER, "cert_authority_key_identifier" },
    { VOUCH_NVGPU_OPAQUE_DRIVER_VERSION, "driver_version" },
    { VOUCH_NVGPU_OPAQUE_GPU_INFO, "gpu_info" },
    { VOUCH_NVGPU_OPAQUE_SKU, "id_sku" },
    { VOUCH_NVGPU_OPAQUE_VBIOS_VERSION, "vbios_version" },
    { VOUCH_NVGPU_OPAQUE_MANUFACTURER_ID, "manufacturer_id" },
    { VOUCH_NVGPU_OPAQUE_TAMPER_DETECTION, "tamper_detection" },
    { VOUCH_NVGPU_OPAQUE_SMC, "smc" },
    { VOUCH_NVGPU_OPAQUE_VPR, "vpr" },
    { VOUCH_NVGPU_OPAQUE_NVDEC0_STATUS, "nvdec0_status" },
    { VOUCH_NVGPU_OPAQUE_MSRSCNT, "measurement_count" },
    { VOUCH_NVGPU_OPAQUE_CPRINFO, "cpr_info" },
    { VOUCH_NVGPU_OPAQUE_BOARD_ID, "board_id" },
    { VOUCH_NVGPU_OPAQUE_CHIP_SKU, "chip_sku" },
    { VOUCH_NVGPU_OPAQUE_CHIP_SKU_MOD, "chip_sku_mod" },
    { VOUCH_NVGPU_OPAQUE_PROJECT, "project" },
    { VOUCH_NVGPU_OPAQUE_PROJECT_SKU, "project_sku" },
    { VOUCH_NVGPU_OPAQUE_PROJECT_SKU_MOD, "project_sku_mod" },
    { VOUCH_NVGPU_OPAQUE_FWID, "fwid" },
    { VOUCH_NVGPU_OPAQUE_PROTECTED_PCIE_STATUS, "protected_pcie_status" },
    { VOUCH_NVGPU_OPAQUE_SWITCH_PDI, "switch_pdi" },
    { VOUCH_NVGPU_OPAQUE_FLOORSWEPT_PORTS, "floorswept_ports" },
    { VOUCH_NVGPU_OPAQUE_POSITION_ID, "position_id" },
    { VOUCH_NVGPU_OPAQUE_LOCK_SWITCH_STATUS, "lock_switch_status" },
    { VOUCH_NVGPU_OPAQUE_GPU_LINK_CONN, "gpu_link_conn" },
    { VOUCH_NVGPU_OPAQUE_SYS_ENABLE_STATUS, "sys_enable_status" },
    { VOUCH_NVGPU_OPAQUE_OPAQUE_DATA_VERSION, "opaque_data_version" },
    { VOUCH_NVGPU_OPAQUE_CHIP_INFO, "chip_info" },
    { VOUCH_NVGPU_OPAQUE_FEATURE_FLAG, "feature_flag" },
};

const char *vouch_nvgpu_opaque_name(uint16_t type)
{
    size_t i;

    for (i = 0; i < sizeof(opaque_names) / sizeof(opaque_names[0]); i++)
        if (opaque_names[i].type == type)
            return opaque_names[i].name;
    return NULL;
}

vouch_err vouch_nvgpu_vbios_format(const uint8_t *raw, size_t n, char out[15])
{
    if (n != 8)
        return VOUCH_E_INVALID;
    snprintf(out, 15, "%02X.%02X.%02X.%02X.%02X", raw[3], raw[2], raw[1], raw[0], raw[4]);
    return VOUCH_OK;
}

/*
 * An ASCII opaque field: trailing NULs are padding; what is left must be
 * printable without spaces and fit `size` with its terminator.
 */
static vouch_err ascii_field(const struct vouch_nvgpu_opaque *f, char *out, size_t size,
                             struct vouch_errbuf *eb)
{
    size_t n = f->size, i;

    while (n && f->data[n - 1] == '\0')
        n--;
    if (n >= size)
        return vouch_fail(eb, VOUCH_E_INVALID, "opaque %s: %zu characters, at most %zu",
                          vouch_nvgpu_opaque_name(f->type), n, size - 1);
    for (i = 0; i < n; i++)
        if (f->data[i] <= 0x20 || f->data[i] >= 0x7f)
            return vouch_fail(eb, VOUCH_E_INVALID,
                              "opaque %s: byte %zu (0x%02x) is not printable ASCII",
                              vouch_nvgpu_opaque_name(f->type), i, f->data[i]);
    memcpy(out, f->data, n);
    out[n] = '\0';
    return VOUCH_OK;
}

/* A little-endian unsigned integer of 1..8 bytes. */
static vouch_err le_uint(const struct vouch_nvgpu_opaque *f, uint64_t *ret,
                         struct vouch_errbuf *eb)
{
    uint64_t v = 0;
    size_t i;

    if (f->size == 0 || f->size > 8)
        return vouch_fail(eb, VOUCH_E_INVALID, "opaque %s: %u bytes is not an integer",
                          vouch_nvgpu_opaque_name(f->type), f->size);
    for (i = f->size; i > 0; i--)
        v = (v << 8) | f->data[i - 1];
    *ret = v;
    return VOUCH_OK;
}

static vouch_err size_is(const struct vouch_nvgpu_opaque *f, size_t want,
                         struct vouch_errbuf *eb)
{
    if (f->size != want)
        return vouch_fail(eb, VOUCH_E_INVALID, "opaque %s: %u bytes, expected %zu",
                          vouch_nvgpu_opaque_name(f->type), f->size, want);
    return VOUCH_OK;
}

static vouch_err size_multiple(const struct vouch_nvgpu_opaque *f, size_t unit,
                               struct vouch_errbuf *eb)
{
    if (f->size % unit)
        return vouch_fail(eb, VOUCH_E_INVALID, "opaque %s: %u bytes is not a multiple of %zu",
                          vouch_nvgpu_opaque_name(f->type), f->size, unit);
    return VOUCH_OK;
}

/* Decode one known opaque field into the report. */
static vouch_err decode_opaque(struct vouch_nvgpu_report *r, const struct vouch_nvgpu_opaque *f,
                               struct vouch_errbuf *eb)
{
    vouch_err e = VOUCH_OK;

    switch (f->type) {
    case VOUCH_NVGPU_OPAQUE_DRIVER_VERSION:
        e = ascii_field(f, r->driver_version, sizeof(r->driver_version), eb);
        if (!e && !r->driver_version[0])
            e = vouch_fail(eb, VOUCH_E_INVALID, "opaque driver_version is empty");
        break;
    case VOUCH_NVGPU_OPAQUE_VBIOS_VERSION:
        e = size_is(f, 8, eb);
        if (!e)
            e = vouch_nvgpu_vbios_format(f->data, f->size, r->vbios_version);
        break;
    case VOUCH_NVGPU_OPAQUE_PROJECT:
        e = ascii_field(f, r->project, sizeof(r->project), eb);
        break;
    case VOUCH_NVGPU_OPAQUE_PROJECT_SKU:
        e = ascii_field(f, r->project_sku, sizeof(r->project_sku), eb);
        break;
    case VOUCH_NVGPU_OPAQUE_PROJECT_SKU_MOD:
        /* Kept as hex in claims (trustee); decoded as text when it is text. */
        if (ascii_field(f, r->project_sku_mod, sizeof(r->project_sku_mod), NULL))
            r->project_sku_mod[0] = '\0';
        break;
    case VOUCH_NVGPU_OPAQUE_CHIP_SKU:
        e = ascii_field(f, r->chip_sku, sizeof(r->chip_sku), eb);
        break;
    case VOUCH_NVGPU_OPAQUE_CHIP_SKU_MOD:
        e = ascii_field(f, r->chip_sku_mod, sizeof(r->chip_sku_mod), eb);
        break;
    case VOUCH_NVGPU_OPAQUE_CHIP_INFO:
        e = ascii_field(f, r->chip_info, sizeof(r->chip_info), eb);
        break;
    case VOUCH_NVGPU_OPAQUE_FWID:
        e = size_is(f, VOUCH_NVGPU_DIGEST_SIZE, eb);
        if (!e) {
            memcpy(r->fwid, f->data, VOUCH_NVGPU_DIGEST_SIZE);
            r->has_fwid = true;
        }
        break;
    case VOUCH_NVGPU_OPAQUE_NVDEC0_STATUS:
        e = size_is(f, 1, eb);
        if (!e && f->data[0] != VOUCH_NVGPU_NVDEC0_ENABLED &&
            f->data[0] != VOUCH_NVGPU_NVDEC0_DISABLED)
            e = vouch_fail(eb, VOUCH_E_INVALID, "opaque nvdec0_status: unknown value 0x%02x",
                           f->data[0]);
        if (!e)
            r->nvdec0_status = f->data[0];
        break;
    case VOUCH_NVGPU_OPAQUE_PROTECTED_PCIE_STATUS:
        e = size_is(f, 1, eb);
        if (!e)
            r->protected_pcie_status = f->data[0];
        break;
    case VOUCH_NVGPU_OPAQUE_MSRSCNT:
        e = size_multiple(f, 4, eb);
        if (!e) {
            r->msrscnt = f->data;
            r->n_msrscnt = f->size / 4;
        }
        break;
    case VOUCH_NVGPU_OPAQUE_SWITCH_PDI:
        e = size_multiple(f, 8, eb);
        break;
    case VOUCH_NVGPU_OPAQUE_OPAQUE_DATA_VERSION:
        e = le_uint(f, &r->opaque_version, eb);
        if (!e)
            r->has_opaque_version = true;
        break;
    case VOUCH_NVGPU_OPAQUE_FEATURE_FLAG:
        e = le_uint(f, &r->feature_flag, eb);
        if (!e)
            r->has_feature_flag = true;
        break;
    case VOUCH_NVGPU_OPAQUE_INVALID:
        e = vouch_fail(eb, VOUCH_E_INVALID, "opaque field type 255 (INVALID)");
        break;
    default:
        break;
    }
    return e;
}

static vouch_err parse_blocks(struct vouch_reader *rec, unsigned n_blocks,
                              struct vouch_nvgpu_report *r, size_t base,
                              struct vouch_errbuf *eb)
{
    uint8_t seen[256 / 8] = { 0 };
    unsigned i;

    for (i = 0; i < n_blocks; i++) {
        struct vouch_nvgpu_block *b = &r->blocks[i];
        struct vouch_reader m;
        size_t off = base + vouch_reader_offset(rec);
        uint16_t msize;
        uint8_t spec;

        if (vouch_reader_u8(rec, &b->index) || vouch_reader_u8(rec, &spec) ||
            vouch_reader_u16le(rec, &msize))
            return vouch_fail(eb, VOUCH_E_TRUNCATED,
                              "measurement block %u at offset %zu: header truncated", i, off);
        if (b->index == 0)
            return vouch_fail(eb, VOUCH_E_INVALID,
                              "measurement block %u at offset %zu: index 0", i, off);
        if (seen[b->index / 8] & (1u << (b->index % 8)))
            return vouch_fail(eb, VOUCH_E_INVALID,
                              "measurement block %u at offset %zu: index %u repeated", i, off,
                              b->index);
        seen[b->index / 8] |= (uint8_t)(1u << (b->index % 8));
        if (spec != DMTF_MEASUREMENT_SPEC)
            return vouch_fail(eb, VOUCH_E_UNSUPPORTED,
                              "measurement block %u (index %u): specification 0x%02x is not "
                              "DMTF", i, b->index, spec);
        if (vouch_reader_sub(rec, msize, &m))
            return vouch_fail(eb, VOUCH_E_TRUNCATED,
                              "measurement block %u (index %u): %u bytes announced, %zu left",
                              i, b->index, msize, vouch_reader_left(rec));
        if (vouch_reader_u8(&m, &b->value_type) || vouch_reader_u16le(&m, &b->value_size) ||
            vouch_reader_bytes(&m, b->value_size, &b->value))
            return vouch_fail(eb, VOUCH_E_TRUNCATED,
                              "measurement block %u (index %u): DMTF value exceeds the block",
                              i, b->index);
        if (!vouch_reader_done(&m))
            return vouch_fail(eb, VOUCH_E_INVALID,
                              "measurement block %u (index %u): %zu bytes after the value", i,
                              b->index, vouch_reader_left(&m));
    }
    if (!vouch_reader_done(rec))
        return vouch_fail(eb, VOUCH_E_INVALID,
                          "measurement record: %zu bytes after %u blocks",
                          vouch_reader_left(rec), n_blocks);
    return VOUCH_OK;
}

static vouch_err parse_opaque(struct vouch_reader *od, struct vouch_nvgpu_report *r, size_t base,
                              struct vouch_errbuf *eb)
{
    uint8_t seen[65536 / 8];
    vouch_err e;

    memset(seen, 0, sizeof(seen));
    while (!vouch_reader_done(od)) {
        struct vouch_nvgpu_opaque *f;
        size_t off = base + vouch_reader_offset(od);
        uint16_t type, size;
        const uint8_t *data;

        if (vouch_reader_u16le(od, &type) || vouch_reader_u16le(od, &size))
            return vouch_fail(eb, VOUCH_E_TRUNCATED,
                              "opaque data at offset %zu: field header truncated", off);
        if (vouch_reader_bytes(od, size, &data))
            return vouch_fail(eb, VOUCH_E_TRUNCATED,
                              "opaque field type %u at offset %zu: %u bytes announced, %zu left",
                              type, off, size, vouch_reader_left(od));
        if (r->n_opaque == VOUCH_NVGPU_MAX_OPAQUE)
            return vouch_fail(eb, VOUCH_E_TOO_LARGE, "more than %d opaque fields",
                              VOUCH_NVGPU_MAX_OPAQUE);
        if (seen[type / 8] & (1u << (type % 8)))
            return vouch_fail(eb, VOUCH_E_INVALID,
                              "opaque field type %u at offset %zu is repeated", type, off);
        seen[type / 8] |= (uint8_t)(1u << (type % 8));
        f = &r->opaque[r->n_opaque++];
        f->type = type;
        f->size = size;
        f->data = data;
        e = decode_opaque(r, f, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "offset %zu: ", off);
    }
    return VOUCH_OK;
}

/* The GET_MEASUREMENTS request: SPDM 1.1, signature requested, the verifier's nonce. */
static vouch_err parse_request(struct vouch_reader *rd, struct vouch_nvgpu_report *r,
                               struct vouch_errbuf *eb)
{
    uint8_t code;

    if (vouch_reader_u8(rd, &r->req_version) || vouch_reader_u8(rd, &code) ||
        vouch_reader_u8(rd, &r->req_param1) || vouch_reader_u8(rd, &r->req_param2) ||
        vouch_reader_bytes(rd, VOUCH_NVGPU_NONCE_SIZE, &r->request_nonce) ||
        vouch_reader_u8(rd, &r->req_slot))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "request: %zu bytes, need %d", r->len,
                          VOUCH_NVGPU_REQUEST_SIZE);
    if (r->req_version != SPDM_VERSION_11 || code != SPDM_GET_MEASUREMENTS)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED,
                          "request: SPDM version 0x%02x code 0x%02x, expected 0x11 0xe0",
                          r->req_version, code);
    if (!(r->req_param1 & SPDM_SIGNATURE_REQUESTED))
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED,
                          "request: no signature requested (param1 0x%02x)", r->req_param1);
    return VOUCH_OK;
}

/* MEASUREMENTS response: header, then the measurement record of its announced length. */
static vouch_err parse_measurements(struct vouch_reader *rd, struct vouch_nvgpu_report *r,
                                    struct vouch_errbuf *eb)
{
    struct vouch_reader rec;
    size_t rsp = vouch_reader_offset(rd), l1;
    uint8_t code, nblocks, l1b[3];

    if (vouch_reader_u8(rd, &r->version) || vouch_reader_u8(rd, &code) ||
        vouch_reader_u8(rd, &r->param1) || vouch_reader_u8(rd, &r->param2) ||
        vouch_reader_u8(rd, &nblocks) || vouch_reader_copy(rd, l1b, sizeof(l1b)))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "response header at offset %zu truncated",
                          rsp);
    if (r->version != SPDM_VERSION_11 || code != SPDM_MEASUREMENTS)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED,
                          "response: SPDM version 0x%02x code 0x%02x, expected 0x11 0x60",
                          r->version, code);
    if (nblocks == 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "response: no measurement blocks");
    l1 = (size_t)l1b[0] | (size_t)l1b[1] << 8 | (size_t)l1b[2] << 16;
    if (vouch_reader_sub(rd, l1, &rec))
        return vouch_fail(eb, VOUCH_E_TRUNCATED,
                          "measurement record: %zu bytes announced, %zu left", l1,
                          vouch_reader_left(rd));
    r->n_blocks = nblocks;
    return parse_blocks(&rec, nblocks, r, rsp + SPDM_MEASUREMENTS_HEADER_SIZE, eb);
}

/* Responder nonce, then the opaque data of its announced length. */
static vouch_err parse_nonce_and_opaque(struct vouch_reader *rd, struct vouch_nvgpu_report *r,
                                        struct vouch_errbuf *eb)
{
    struct vouch_reader od;
    uint16_t l2;

    if (vouch_reader_bytes(rd, VOUCH_NVGPU_NONCE_SIZE, &r->responder_nonce) ||
        vouch_reader_u16le(rd, &l2))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "response nonce/opaque length at offset %zu "
                          "truncated", vouch_reader_offset(rd));
    r->opaque_len = l2;
    if (vouch_reader_sub(rd, l2, &od))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "opaque data: %u bytes announced, %zu left",
                          l2, vouch_reader_left(rd));
    return parse_opaque(&od, r, vouch_reader_offset(rd) - l2, eb);
}

/*
 * The signature, then padding.  Some attesters hand over NVML's buffer
 * with zero padding after the signature (trustee's CoCo test evidence has
 * one byte).  Padding is not signed; anything but zeros is an error.
 */
static vouch_err parse_signature(struct vouch_reader *rd, struct vouch_nvgpu_report *r,
                                 struct vouch_errbuf *eb)
{
    r->signed_len = vouch_reader_offset(rd);
    if (vouch_reader_bytes(rd, VOUCH_NVGPU_SIG_SIZE, &r->signature))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "signature: %zu bytes left, need %d",
                          vouch_reader_left(rd), VOUCH_NVGPU_SIG_SIZE);
    r->padding = vouch_reader_left(rd);
    while (!vouch_reader_done(rd)) {
        uint8_t pad;

        (void)vouch_reader_u8(rd, &pad);
        if (pad != 0)
            return vouch_fail(eb, VOUCH_E_INVALID, "non-zero byte at offset %zu after the "
                              "signature", vouch_reader_offset(rd) - 1);
    }
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_report_parse(const uint8_t *data, size_t len,
                                   struct vouch_nvgpu_report *ret,
                                   struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_report *r;
    struct vouch_reader rd;
    vouch_err e;

    if (len > VOUCH_NVGPU_REPORT_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "report of %zu bytes exceeds %u", len,
                          VOUCH_NVGPU_REPORT_MAX);
    r = calloc(1, sizeof(*r));
    if (!r)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    r->data = data;
    r->len = len;
    r->nvdec0_status = -1;
    r->protected_pcie_status = -1;
    vouch_reader_init(&rd, data, len);
    if ((e = parse_request(&rd, r, eb)) || (e = parse_measurements(&rd, r, eb)) ||
        (e = parse_nonce_and_opaque(&rd, r, eb)) || (e = parse_signature(&rd, r, eb)))
        goto out;
    if (!r->driver_version[0] || !r->vbios_version[0]) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "opaque data lacks the %s version",
                       r->driver_version[0] ? "VBIOS" : "driver");
        goto out;
    }
    memcpy(ret, r, sizeof(*r));
out:
    free(r);
    return e;
}

const struct vouch_nvgpu_block *vouch_nvgpu_report_block(const struct vouch_nvgpu_report *r,
                                                         unsigned index)
{
    unsigned i;

    for (i = 0; i < r->n_blocks; i++)
        if (r->blocks[i].index == index)
            return &r->blocks[i];
    return NULL;
}

const struct vouch_nvgpu_opaque *vouch_nvgpu_report_opaque(const struct vouch_nvgpu_report *r,
                                                           uint16_t type)
{
    unsigned i;

    for (i = 0; i < r->n_opaque; i++)
        if (r->opaque[i].type == type)
            return &r->opaque[i];
    return NULL;
}

const char *vouch_nvgpu_report_mode(const struct vouch_nvgpu_report *r)
{
    if (!r->has_feature_flag || !r->has_opaque_version || r->opaque_version < 1)
        return NULL;
    switch (r->feature_flag) {
    case VOUCH_NVGPU_MODE_SPT: return "spt";
    case VOUCH_NVGPU_MODE_MPT: return "mpt";
    case VOUCH_NVGPU_MODE_PPCIE: return "ppcie";
    default: return NULL;
    }
}

static json_t *opaque_value(const struct vouch_nvgpu_report *r,
                            const struct vouch_nvgpu_opaque *f)
{
    json_t *v;
    char key[24];
    size_t i;

    switch (f->type) {
    case VOUCH_NVGPU_OPAQUE_DRIVER_VERSION: return json_string(r->driver_version);
    case VOUCH_NVGPU_OPAQUE_PROJECT: return json_string(r->project);
    case VOUCH_NVGPU_OPAQUE_PROJECT_SKU: return json_string(r->project_sku);
    case VOUCH_NVGPU_OPAQUE_CHIP_SKU: return json_string(r->chip_sku);
    case VOUCH_NVGPU_OPAQUE_CHIP_SKU_MOD: return json_string(r->chip_sku_mod);
    case VOUCH_NVGPU_OPAQUE_CHIP_INFO: return json_string(r->chip_info);
    case VOUCH_NVGPU_OPAQUE_VBIOS_VERSION: {
        char lower[16];

        for (i = 0; r->vbios_version[i]; i++)
            lower[i] = (char)((r->vbios_version[i] >= 'A' && r->vbios_version[i] <= 'F')
                                  ? r->vbios_version[i] + 32 : r->vbios_version[i]);
        lower[i] = '\0';
        return json_string(lower);
    }
    case VOUCH_NVGPU_OPAQUE_NVDEC0_STATUS:
        return json_string(f->data[0] == VOUCH_NVGPU_NVDEC0_ENABLED ? "enabled" : "disabled");
    case VOUCH_NVGPU_OPAQUE_MSRSCNT:
        v = json_object();
        for (i = 0; v && i < r->n_msrscnt; i++) {
            const uint8_t *p = r->msrscnt + 4 * i;

            snprintf(key, sizeof(key), "%zu", i + 1);
            if (json_object_set_new(v, key, json_integer((json_int_t)p[0] | p[1] << 8 |
                                                         p[2] << 16 | (json_int_t)p[3] << 24))) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    case VOUCH_NVGPU_OPAQUE_SWITCH_PDI:
        v = json_array();
        for (i = 0; v && i < f->size / 8u; i++) {
            char hex[17];

            vouch_hex_encode(f->data + 8 * i, 8, hex);
            if (json_array_append_new(v, json_string(hex))) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    case VOUCH_NVGPU_OPAQUE_OPAQUE_DATA_VERSION:
        return json_integer((json_int_t)r->opaque_version);
    case VOUCH_NVGPU_OPAQUE_FEATURE_FLAG:
        switch (r->feature_flag) {
        case VOUCH_NVGPU_MODE_SPT: return json_string("SPT");
        case VOUCH_NVGPU_MODE_MPT: return json_string("MPT");
        case VOUCH_NVGPU_MODE_PPCIE: return json_string("PPCIE");
        default: return json_string("unknown");
        }
    default: {
        char *hex = vouch_hex_alloc(f->data, f->size);

        v = hex ? json_string(hex) : NULL;
        free(hex);
        return v;
    }
    }
}

vouch_err vouch_nvgpu_report_claims(const struct vouch_nvgpu_report *r, json_t *claims)
{
    json_t *meas = json_object(), *config = json_object();
    vouch_err e = VOUCH_E_NOMEM;
    char key[32];
    unsigned i;

    if (!meas || !config)
        goto out;
    for (i = 0; i < r->n_blocks; i++) {
        snprintf(key, sizeof(key), "%u", r->blocks[i].index);
        if (vouch_json_set_hex(meas, key, r->blocks[i].value, r->blocks[i].value_size))
            goto out;
    }
    for (i = 0; i < r->n_opaque; i++) {
        const struct vouch_nvgpu_opaque *f = &r->opaque[i];
        const char *name = vouch_nvgpu_opaque_name(f->type);

        if (!name) {
            snprintf(key, sizeof(key), "opaque_%u", f->type);
            name = key;
        }
        if (vouch_json_set_new(config, name, opaque_value(r, f)))
            goto out;
    }
    if (vouch_json_set_new(claims, "measurements", meas)) {
        meas = NULL;
        goto out;
    }
    meas = NULL;
    if (vouch_json_set_new(claims, "config", config)) {
        config = NULL;
        goto out;
    }
    config = NULL;
    e = VOUCH_OK;
out:
    json_decref(meas);
    json_decref(config);
    return e;
}
