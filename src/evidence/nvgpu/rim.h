/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_NVGPU_RIM_H
#define VOUCH_NVGPU_RIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "evidence/nvgpu/spdm.h"
#include "vouch/err.h"

/*
 * NVIDIA Reference Integrity Manifests: ISO 19770-2 SWID tags in TCG's
 * RIM binding, one for the GPU driver and one for the VBIOS, each with an
 * enveloped XML signature (ECDSA P-384, C14N 1.1) whose certificates chain
 * to NVIDIA's "CoRIM signing Root CA".  A RIM lists golden SHA-384 values
 * per measurement index (0-based), with alternatives.
 *
 * Nothing here does I/O: RIM documents come from a vouch_nvgpu_rim_source.
 */

#define VOUCH_NVGPU_RIM_MAX (1u << 20)     /* largest RIM document accepted */
#define VOUCH_NVGPU_RIM_ID_MAX 128         /* longest RIM id, with terminator */
#define VOUCH_NVGPU_RIM_MAX_ALTERNATIVES 16
#define VOUCH_NVGPU_RIM_MAX_VALUE 64       /* largest golden value (bytes) */

enum vouch_nvgpu_rim_kind {
    VOUCH_NVGPU_RIM_DRIVER,
    VOUCH_NVGPU_RIM_VBIOS,
};

struct vouch_nvgpu_golden {
    unsigned index;            /* RIM index, 0-based: compared with SPDM block index + 1 */
    bool active;
    unsigned size;             /* bytes of each value */
    unsigned n_alternatives;
    uint8_t *values;           /* n_alternatives * size bytes */
};

/* A parsed RIM.  Immutable once built; shared by reference count. */
struct vouch_nvgpu_rim {
    int refs;                           /* use the _ref/_unref functions */
    enum vouch_nvgpu_rim_kind kind;
    char version[64];                   /* Meta colloquialVersion */
    char product[32];                   /* Meta product, "GH100" */
    char manufacturer_id[16];           /* Meta FirmwareManufacturerId, "5703" */
    char tag_id[160];
    unsigned n_golden;
    struct vouch_nvgpu_golden *golden;  /* in document order, indices unique */
    uint8_t sha256[32];                 /* of the document bytes */

    /* Filled by vouch_nvgpu_rim_verify(); all false/empty before. */
    bool signature_verified;            /* XMLDSig over the document with the signer key */
    STACK_OF(X509) *chain;              /* verified chain, signer first, root last */
    int64_t not_before, not_after;      /* validity window of that chain */
};

/*
 * Parse a RIM document (no cryptography yet): well-formed XML without a
 * DTD, root SoftwareIdentity in the SWID namespace, a Meta with a
 * colloquialVersion, Measurement resources with unique indices, hex
 * values of `size` bytes, and exactly one ds:Signature under the root.
 * A driver RIM has a version like "550.90.07"; a VBIOS RIM one like
 * "96.00.9F.00.01".  *ret has one reference; written only on success.
 */
vouch_err vouch_nvgpu_rim_parse(const uint8_t *doc, size_t len, struct vouch_nvgpu_rim **ret,
                                struct vouch_errbuf *eb);

/*
 * Verify a parsed RIM (with `doc`, the same bytes it was parsed from):
 * build the certificate chain from the signature's X509Data (first
 * certificate = signer) to one of `roots`, ignoring validity periods
 * (they are checked against `now` separately, so results can be cached),
 * then verify the enveloped signature with the signer's key.  Only a
 * single Reference URI="" with the enveloped-signature and C14N
 * transforms and ECDSA/SHA-2 methods is accepted.
 * `eb` names the failing step ("certificate chain: ..." or "signature:
 * ...").  Once the chain verifies, rim->chain and the window are set even
 * if the signature then fails (so a caller can report an expired chain
 * before a bad signature, as NVIDIA's verifiers do); signature_verified
 * is set only on success.  Not thread-safe for the same rim: verify
 * before sharing it.
 */
vouch_err vouch_nvgpu_rim_verify(struct vouch_nvgpu_rim *rim, const uint8_t *doc, size_t len,
                                 STACK_OF(X509) *roots, struct vouch_errbuf *eb);

/*
 * VOUCH_OK when `now` lies inside the verified chain's validity window,
 * else VOUCH_E_EXPIRED or VOUCH_E_NOT_YET_VALID naming the certificate.  Needs rim->chain.
 */
vouch_err vouch_nvgpu_rim_check_time(const struct vouch_nvgpu_rim *rim, int64_t now,
                                     struct vouch_errbuf *eb);

struct vouch_nvgpu_rim *vouch_nvgpu_rim_ref(struct vouch_nvgpu_rim *rim);
void vouch_nvgpu_rim_unref(struct vouch_nvgpu_rim *rim);   /* accepts NULL */

/* The golden entry for RIM index `index`, or NULL. */
const struct vouch_nvgpu_golden *vouch_nvgpu_rim_golden(const struct vouch_nvgpu_rim *rim,
                                                        unsigned index);

/*
 * The RIM ids NVIDIA's RIM service uses for a report:
 *   driver, Hopper:    NV_GPU_DRIVER_GH100_<driver version>
 *   driver, Blackwell: NV_GPU_CC_DRIVER_<CHIP_INFO, else GB100>_<driver version>
 *   VBIOS:             NV_GPU_VBIOS_<PROJECT>_<PROJECT_SKU>_<CHIP_SKU>_<VBIOS, no dots>
 * (upper case).  `out` holds VOUCH_NVGPU_RIM_ID_MAX bytes.
 */
vouch_err vouch_nvgpu_driver_rim_id(const struct vouch_nvgpu_report *r, enum vouch_nvgpu_arch arch,
                                    char out[VOUCH_NVGPU_RIM_ID_MAX], struct vouch_errbuf *eb);
vouch_err vouch_nvgpu_vbios_rim_id(const struct vouch_nvgpu_report *r,
                                   char out[VOUCH_NVGPU_RIM_ID_MAX], struct vouch_errbuf *eb);

/*
 * The RIM id a document is stored under.  A driver RIM's id follows from
 * its product and version.  A VBIOS RIM does not name its project and
 * SKUs, so `name_hint` (a file name or RIM-service id such as
 * "NV_GPU_VBIOS_1010_0200_882_96005E0001" or
 * "1010_0200_882_96005E0001_PROD.swidtag") must supply them; its version
 * part must equal the document's.  A hint that is itself an NV_GPU_ id
 * must equal the derived id.  `name_hint` may be NULL for driver RIMs.
 */
vouch_err vouch_nvgpu_rim_id(const struct vouch_nvgpu_rim *rim, const char *name_hint,
                             char out[VOUCH_NVGPU_RIM_ID_MAX], struct vouch_errbuf *eb);

/*
 * For importers (`vouch rim import`, the admin API): accept one RIM file
 * as NVIDIA distributes it (SWID XML, or the RIM service's JSON
 * {"id": ..., "rim": base64 XML}), parse it, verify its chain to
 * `roots`, its validity at `now` and its signature (failing in that
 * order), and return its id.
 * *ret_xml (may be NULL) receives the XML document bytes to store
 * (allocated; free()).  Outputs are written only on success.
 */
vouch_err vouch_nvgpu_rim_check_file(const uint8_t *data, size_t len, const char *name_hint,
                                     STACK_OF(X509) *roots, int64_t now,
                                     char ret_id[VOUCH_NVGPU_RIM_ID_MAX], uint8_t **ret_xml,
                                     size_t *ret_xml_len, struct vouch_errbuf *eb);

/*
 * Where RIM documents come from.  `get` looks one up by NVIDIA's RIM id
 * and returns the SWID XML in *ret_doc (allocated with malloc; the caller
 * frees it), or VOUCH_E_NOT_FOUND.  It may be called from several threads
 * at once.  A database-backed store, a directory, or an HTTP fetcher all
 * fit behind it.
 */
struct vouch_nvgpu_rim_source {
    vouch_err (*get)(void *ctx, const char *id, uint8_t **ret_doc, size_t *ret_len,
                     struct vouch_errbuf *eb);
    void *ctx;
};

/*
 * A directory of RIM files, indexed once when opened: every regular file
 * of at most VOUCH_NVGPU_RIM_MAX bytes that parses as a RIM is filed
 * under vouch_nvgpu_rim_id() with its file name as the hint; files that
 * do not parse are skipped (counted in *ret_skipped, may be NULL).  Two
 * files with the same id make lookups of that id fail (VOUCH_E_CONFLICT).
 * The documents are read again on each lookup.
 */
struct vouch_nvgpu_rimdir;
vouch_err vouch_nvgpu_rimdir_open(const char *path, struct vouch_nvgpu_rimdir **ret,
                                  size_t *ret_skipped, struct vouch_errbuf *eb);
void vouch_nvgpu_rimdir_free(struct vouch_nvgpu_rimdir *d);
/* A source reading from `d`, valid while `d` lives. */
struct vouch_nvgpu_rim_source vouch_nvgpu_rimdir_source(struct vouch_nvgpu_rimdir *d);
/* Number of indexed RIMs, and the id of the i-th (for listings). */
size_t vouch_nvgpu_rimdir_count(const struct vouch_nvgpu_rimdir *d);
const char *vouch_nvgpu_rimdir_id(const struct vouch_nvgpu_rimdir *d, size_t i);

/* Result of comparing a report against its two RIMs. */
struct vouch_nvgpu_compare {
    bool no_conflict;          /* no index active in both RIMs */
    bool match;                /* every active golden value matched */
    unsigned n_compared, n_mismatched;
    unsigned skipped_index;    /* 35 when NVDEC0 is disabled, else 0 (none) */
};

/*
 * Compare the report's measurement blocks with the active golden values:
 * RIM index i against SPDM block i + 1, a match when the block's value
 * equals any alternative of the same size; golden index 35 is skipped when
 * the report's NVDEC0 status is 0x55.  An index active in both RIMs is a
 * conflict.  Each mismatch is appended to `mismatches` (a JSON array, may
 * be NULL) as {"index", "measurementSource": "driver"|"vbios",
 * "goldenSize", "goldenValue" (first alternative), "runtimeSize",
 * "runtimeValue" ("NA" when the block is missing)}.
 * Returns VOUCH_OK when everything matched, VOUCH_E_CONFLICT or
 * VOUCH_E_VERIFY otherwise; *ret is filled in every case.
 */
vouch_err vouch_nvgpu_rim_compare(const struct vouch_nvgpu_report *r,
                                  const struct vouch_nvgpu_rim *driver,
                                  const struct vouch_nvgpu_rim *vbios, json_t *mismatches,
                                  struct vouch_nvgpu_compare *ret, struct vouch_errbuf *eb);

#endif
