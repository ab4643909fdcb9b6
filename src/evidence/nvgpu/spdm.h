/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_NVGPU_SPDM_H
#define VOUCH_NVGPU_SPDM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * The NVIDIA GPU attestation report: an SPDM 1.1 GET_MEASUREMENTS request
 * (37 bytes, carrying the verifier's nonce) followed by the signed
 * MEASUREMENTS response (measurement blocks, responder nonce, NVIDIA opaque
 * data TLVs, 96-byte raw ECDSA P-384 signature).  All integers are little
 * endian.  Layout: docs/nvgpu.md, "Evidence formats".
 */

#define VOUCH_NVGPU_NONCE_SIZE 32
#define VOUCH_NVGPU_SIG_SIZE 96     /* r || s, 48 bytes each (P-384) */
#define VOUCH_NVGPU_DIGEST_SIZE 48  /* SHA-384 measurement values and FWID */
#define VOUCH_NVGPU_REQUEST_SIZE 37
#define VOUCH_NVGPU_REPORT_MAX (64u * 1024)  /* NVML's buffer is 8 KiB */
#define VOUCH_NVGPU_MAX_OPAQUE 128           /* opaque TLVs kept per report */

/* OpaqueData field types (NVIDIA's OPAQUE_FIELD_ID_*). */
enum {
    VOUCH_NVGPU_OPAQUE_CERT_ISSUER_NAME = 1,
    VOUCH_NVGPU_OPAQUE_CERT_AUTHORITY_KEY_IDENTIFIER = 2,
    VOUCH_NVGPU_OPAQUE_DRIVER_VERSION = 3,
    VOUCH_NVGPU_OPAQUE_GPU_INFO = 4,
    VOUCH_NVGPU_OPAQUE_SKU = 5,
    VOUCH_NVGPU_OPAQUE_VBIOS_VERSION = 6,
    VOUCH_NVGPU_OPAQUE_MANUFACTURER_ID = 7,
    VOUCH_NVGPU_OPAQUE_TAMPER_DETECTION = 8,
    VOUCH_NVGPU_OPAQUE_SMC = 9,
    VOUCH_NVGPU_OPAQUE_VPR = 10,
    VOUCH_NVGPU_OPAQUE_NVDEC0_STATUS = 11,
    VOUCH_NVGPU_OPAQUE_MSRSCNT = 12,
    VOUCH_NVGPU_OPAQUE_CPRINFO = 13,
    VOUCH_NVGPU_OPAQUE_BOARD_ID = 14,
    VOUCH_NVGPU_OPAQUE_CHIP_SKU = 15,
    VOUCH_NVGPU_OPAQUE_CHIP_SKU_MOD = 16,
    VOUCH_NVGPU_OPAQUE_PROJECT = 17,
    VOUCH_NVGPU_OPAQUE_PROJECT_SKU = 18,
    VOUCH_NVGPU_OPAQUE_PROJECT_SKU_MOD = 19,
    VOUCH_NVGPU_OPAQUE_FWID = 20,
    VOUCH_NVGPU_OPAQUE_PROTECTED_PCIE_STATUS = 21,
    VOUCH_NVGPU_OPAQUE_SWITCH_PDI = 22,
    VOUCH_NVGPU_OPAQUE_FLOORSWEPT_PORTS = 23,
    VOUCH_NVGPU_OPAQUE_POSITION_ID = 24,
    VOUCH_NVGPU_OPAQUE_LOCK_SWITCH_STATUS = 25,
    VOUCH_NVGPU_OPAQUE_GPU_LINK_CONN = 32,
    VOUCH_NVGPU_OPAQUE_SYS_ENABLE_STATUS = 33,
    VOUCH_NVGPU_OPAQUE_OPAQUE_DATA_VERSION = 34,
    VOUCH_NVGPU_OPAQUE_CHIP_INFO = 35,
    VOUCH_NVGPU_OPAQUE_FEATURE_FLAG = 36,
    VOUCH_NVGPU_OPAQUE_INVALID = 255,
};

/* GPU architectures we verify. */
enum vouch_nvgpu_arch {
    VOUCH_NVGPU_ARCH_UNKNOWN = 0,
    VOUCH_NVGPU_HOPPER,     /* GH100 */
    VOUCH_NVGPU_BLACKWELL,  /* GB100 and later GB parts */
};

/* "HOPPER" / "BLACKWELL" / "UNKNOWN". */
const char *vouch_nvgpu_arch_name(enum vouch_nvgpu_arch a);

/* Case-insensitive "HOPPER"/"BLACKWELL" (trustee and NVAT spellings). */
enum vouch_nvgpu_arch vouch_nvgpu_arch_parse(const char *s);

/* NVDEC0_STATUS values; 0x55 makes the verifier skip golden index 35. */
#define VOUCH_NVGPU_NVDEC0_ENABLED 0xAA
#define VOUCH_NVGPU_NVDEC0_DISABLED 0x55

/* FEATURE_FLAG values (present when OPAQUE_DATA_VERSION >= 1). */
enum vouch_nvgpu_mode {
    VOUCH_NVGPU_MODE_SPT = 0,   /* single GPU passthrough */
    VOUCH_NVGPU_MODE_MPT = 1,   /* multi GPU passthrough */
    VOUCH_NVGPU_MODE_PPCIE = 2, /* protected PCIe (HGX with NVSwitches) */
};

struct vouch_nvgpu_block {
    uint8_t index;          /* SPDM measurement index, 1-based */
    uint8_t value_type;     /* DMTFSpecMeasurementValueType */
    uint16_t value_size;
    const uint8_t *value;   /* into the report */
};

struct vouch_nvgpu_opaque {
    uint16_t type;
    uint16_t size;
    const uint8_t *data;    /* into the report */
};

/*
 * A parsed report.  Pointers point into the report bytes given to
 * vouch_nvgpu_report_parse(), which must outlive this struct; the decoded
 * strings are copies.  Optional opaque fields have a has_* flag or are
 * empty strings when absent.
 */
struct vouch_nvgpu_report {
    const uint8_t *data;             /* the whole report */
    size_t len;

    /* GET_MEASUREMENTS request */
    uint8_t req_version, req_param1, req_param2, req_slot;
    const uint8_t *request_nonce;    /* 32 bytes: the verifier's nonce */

    /* MEASUREMENTS response */
    uint8_t version, param1, param2;
    unsigned n_blocks;
    struct vouch_nvgpu_block blocks[255];
    const uint8_t *responder_nonce;  /* 32 bytes of the GPU's own randomness */
    uint16_t opaque_len;
    unsigned n_opaque;
    struct vouch_nvgpu_opaque opaque[VOUCH_NVGPU_MAX_OPAQUE];
    const uint8_t *signature;        /* VOUCH_NVGPU_SIG_SIZE bytes, raw r || s */
    size_t signed_len;               /* bytes covered: everything before the signature */
    size_t padding;                  /* zero bytes after the signature (not signed) */

    /* decoded opaque fields */
    char driver_version[64];         /* "550.90.07" */
    char vbios_version[16];          /* "96.00.9F.00.01" (upper case) */
    char project[32], project_sku[32], project_sku_mod[32];
    char chip_sku[32], chip_sku_mod[32], chip_info[32];
    bool has_fwid;
    uint8_t fwid[VOUCH_NVGPU_DIGEST_SIZE];
    int nvdec0_status;               /* 0xAA, 0x55, or -1 when absent */
    int protected_pcie_status;       /* the byte, or -1 when absent */
    bool has_opaque_version;
    uint64_t opaque_version;
    bool has_feature_flag;
    uint64_t feature_flag;           /* enum vouch_nvgpu_mode when <= 2 */
    const uint8_t *msrscnt;          /* u32 LE array, or NULL */
    size_t n_msrscnt;
};

/*
 * Parse a raw attestation report strictly: SPDM version 0x11 on both
 * messages, request code 0xE0 with the signature bit, response code 0x60,
 * DMTF measurement blocks with unique non-zero indices, exact record and
 * opaque lengths and a 96-byte signature, followed by nothing but zero
 * padding.  The
 * driver and VBIOS versions must be present; known opaque fields must be
 * well formed and not repeated; unknown field types are kept as they are.
 *
 * *ret is written only on success and points into `data` (see the struct).
 * Errors: VOUCH_E_TRUNCATED, VOUCH_E_INVALID, VOUCH_E_UNSUPPORTED,
 * VOUCH_E_TOO_LARGE, each with the field and offset in `eb`.
 */
vouch_err vouch_nvgpu_report_parse(const uint8_t *data, size_t len,
                                   struct vouch_nvgpu_report *ret,
                                   struct vouch_errbuf *eb);

/* The measurement block with SPDM index `index`, or NULL. */
const struct vouch_nvgpu_block *vouch_nvgpu_report_block(const struct vouch_nvgpu_report *r,
                                                         unsigned index);

/* The first opaque field of `type`, or NULL. */
const struct vouch_nvgpu_opaque *vouch_nvgpu_report_opaque(const struct vouch_nvgpu_report *r,
                                                           uint16_t type);

/*
 * Format the 8-byte VBIOS_VERSION field as NVIDIA does: bytes 3,2,1,0,4 in
 * upper-case hex joined by '.' ("96.00.9F.00.01").  `out` holds 15 bytes.
 */
vouch_err vouch_nvgpu_vbios_format(const uint8_t *raw, size_t n, char out[15]);

/* Snake-case name of an opaque field type as trustee's claims name it
 * ("driver_version", "measurement_count", ...); NULL when unknown. */
const char *vouch_nvgpu_opaque_name(uint16_t type);

/* "spt", "mpt", "ppcie"; NULL when the report carries no known flag. */
const char *vouch_nvgpu_report_mode(const struct vouch_nvgpu_report *r);

/*
 * Add the report's claims in trustee's shape to `claims`:
 *   "measurements": {"<spdm index>": "<hex>"...},
 *   "config": {<opaque field name>: value...}
 * (strings for text fields, "enabled"/"disabled" for nvdec0_status,
 * {"<index>": n} for measurement_count, an array for switch_pdi, numbers
 * for opaque_data_version, "SPT"/"MPT"/"PPCIE" for feature_flag, hex for
 * the rest; vbios_version in trustee's lower case).
 */
vouch_err vouch_nvgpu_report_claims(const struct vouch_nvgpu_report *r, json_t *claims);

#endif
