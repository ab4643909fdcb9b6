/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_NVGPU_H
#define VOUCH_NVGPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "evidence/nvgpu/ocsp.h"
#include "evidence/nvgpu/rim.h"
#include "evidence/nvgpu/spdm.h"
#include "vouch/err.h"
#include "vouch/evidence.h"

/*
 * NVIDIA GPU (Hopper / Blackwell, confidential-computing mode) evidence:
 * the verifier core.  Evidence formats, claims and the verification order
 * are described in docs/nvgpu.md.
 *
 *   struct vouch_nvgpu_trust   pinned roots, RIM source, OCSP settings and
 *                              a cache of verified chains and RIMs; shared
 *                              by all threads once configured.
 *   vouch_nvgpu_evidence_*     parse tee=nvgpu evidence, or the
 *                              gpu_evidence part of tee=acstdxnvgpu.
 *   vouch_nvgpu_verify_*       verify devices against an expected nonce,
 *                              producing NVIDIA-named claims per GPU.
 */

#define VOUCH_NVGPU_MAX_DEVICES 16
#define VOUCH_NVGPU_EVIDENCE_MAX (4u << 20)  /* largest evidence document */
#define VOUCH_NVGPU_CHAIN_MAX (64u * 1024)   /* largest PEM certificate chain */

/* SHA-256 fingerprints of the built-in trust anchors. */
#define VOUCH_NVGPU_DEVICE_ROOT_SHA256 \
    "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"
#define VOUCH_NVGPU_RIM_ROOT_SHA256 \
    "12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1"

/* PEM of the built-in anchors: "NVIDIA Device Identity CA" and
 * "NVIDIA CoRIM signing Root CA". */
extern const char vouch_nvgpu_device_root_pem[];
extern const char vouch_nvgpu_rim_root_pem[];

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

enum {
    /*
     * A RIM that cannot be found is reported (…-rim-fetched false, measres
     * "not-run") instead of failing the GPU.  Off by default: without
     * RIMs nothing says which firmware runs.
     */
    VOUCH_NVGPU_RIMS_OPTIONAL = 1 << 0,
    /* Do not cache chain and RIM verification results. */
    VOUCH_NVGPU_NO_CACHE = 1 << 1,
};

struct vouch_nvgpu_trust;

/*
 * A configuration with NVIDIA's built-in roots, no RIM source (RIM checks
 * then fail unless VOUCH_NVGPU_RIMS_OPTIONAL), OCSP off and an empty
 * cache.  Configure it with the setters below before sharing it between
 * threads; after that the verify functions may run concurrently.
 */
vouch_err vouch_nvgpu_trust_new(struct vouch_nvgpu_trust **ret, struct vouch_errbuf *eb);
void vouch_nvgpu_trust_free(struct vouch_nvgpu_trust *t);

/* Replace the pinned device-identity / RIM-signing roots (PEM, one or more). */
vouch_err vouch_nvgpu_trust_set_device_roots(struct vouch_nvgpu_trust *t, const char *pem,
                                             size_t len, struct vouch_errbuf *eb);
vouch_err vouch_nvgpu_trust_set_rim_roots(struct vouch_nvgpu_trust *t, const char *pem,
                                          size_t len, struct vouch_errbuf *eb);

/* The same from a PEM file (device roots, or RIM roots when `rim`), for
 * the service's and the CLI's --*-root options; the file's name is in eb. */
vouch_err vouch_nvgpu_trust_load_roots(struct vouch_nvgpu_trust *t, bool rim, const char *path,
                                       struct vouch_errbuf *eb);

/* The source is copied; its ctx must outlive the trust object. NULL: none. */
void vouch_nvgpu_trust_set_rim_source(struct vouch_nvgpu_trust *t,
                                      const struct vouch_nvgpu_rim_source *src);

/* Copied, except cfg->url, which must outlive the trust object. */
void vouch_nvgpu_trust_set_ocsp(struct vouch_nvgpu_trust *t, const struct vouch_ocsp_config *cfg);

/* VOUCH_NVGPU_* flags. */
void vouch_nvgpu_trust_set_flags(struct vouch_nvgpu_trust *t, unsigned flags);

/* The pinned roots (owned by t), e.g. for vouch_nvgpu_rim_check_file(). */
STACK_OF(X509) *vouch_nvgpu_trust_rim_roots(const struct vouch_nvgpu_trust *t);

/* Cache statistics: lookups answered from the cache and entries held. */
void vouch_nvgpu_trust_cache_stats(const struct vouch_nvgpu_trust *t, uint64_t *ret_hits,
                                   uint64_t *ret_misses);

/* ------------------------------------------------------------------ */
/* Evidence                                                            */

/* One GPU's evidence, whichever format carried it. */
struct vouch_nvgpu_device {
    enum vouch_nvgpu_arch arch;  /* declared; UNKNOWN when the format has none */
    char *uuid;                  /* may be NULL */
    char *name;                  /* acstdxnvgpu: NVML device name */
    int64_t index;               /* acstdxnvgpu: NVML index; else the list position */
    char *driver_version;        /* acstdxnvgpu: as NVML reported it (unsigned) */
    char *vbios_version;         /* acstdxnvgpu: as NVML reported it (unsigned) */
    bool cc_enabled;             /* acstdxnvgpu; always true for nvgpu */
    uint8_t *report;             /* raw attestation report; NULL if absent */
    size_t report_len;
    char *chain;                 /* PEM certificate chain; NULL if absent */
    size_t chain_len;
    /* Where it came from, for errors: the JSON path of the device object
     * ("device_evidence_list[0]", "gpu_evidence.evidence_list[1]"; empty
     * when built by hand) and the name of its report member. */
    char path[64];
    const char *report_key;      /* "evidence" / "attestation_report"; may be NULL */
};

struct vouch_nvgpu_evidence {
    size_t n;
    struct vouch_nvgpu_device *devices;
};

/*
 * tee=nvgpu evidence: trustee's
 *   {"device_evidence_list": [{"arch": "HOPPER"|"BLACKWELL", "uuid"?,
 *     "evidence": hex or base64 report, "certificate": base64 PEM chain}]}
 * (NVIDIA's serialized form, a top-level array of {"arch", "evidence",
 * "certificate", ...}, is accepted too).  At most VOUCH_NVGPU_MAX_DEVICES.
 * Only the encodings are checked here; the report is parsed when verified.
 * Errors are VOUCH_E_INVALID (VOUCH_E_TOO_LARGE, or VOUCH_E_UNSUPPORTED
 * for another arch) with eb->field naming the JSON path at fault
 * ("device_evidence_list[0].evidence").
 * *ret is written only on success; free it with vouch_nvgpu_evidence_free().
 */
vouch_err vouch_nvgpu_evidence_parse(const uint8_t *json, size_t len,
                                     struct vouch_nvgpu_evidence **ret, struct vouch_errbuf *eb);
vouch_err vouch_nvgpu_evidence_from_json(const json_t *doc, struct vouch_nvgpu_evidence **ret,
                                         struct vouch_errbuf *eb);

/*
 * The "gpu_evidence" member of Alibaba's TDX evidence (tee=acstdxnvgpu):
 *   {"evidence_list": [{"index", "uuid", "name", "driver_version",
 *     "vbios_version", "attestation_report": base64, "certificate":
 *     base64 PEM, "cc_enabled"}], "collection_time"?}
 * A GPU without a report or certificate, or with cc_enabled false, still
 * parses (verification then fails for it).  Error fields are paths from
 * the TDX evidence document ("gpu_evidence.evidence_list[0].certificate").
 */
vouch_err vouch_nvgpu_evidence_from_gpu_evidence(const json_t *gpu_evidence,
                                                 struct vouch_nvgpu_evidence **ret,
                                                 struct vouch_errbuf *eb);

void vouch_nvgpu_evidence_free(struct vouch_nvgpu_evidence *ev);

/* ------------------------------------------------------------------ */
/* Verification                                                        */

/*
 * The SPDM nonce a GPU must carry for tee=nvgpu: the expected report data
 * (runtime data as given, or its hash when structured) zero-padded or
 * truncated to 32 bytes, as trustee's regularize_data does.
 */
void vouch_nvgpu_nonce_from_report_data(const uint8_t *report_data, size_t len,
                                        uint8_t out[VOUCH_NVGPU_NONCE_SIZE]);

/*
 * Verify one GPU at time `now`, in this order: parse the report; the
 * chain to the pinned device root, its validity at `now` and OCSP (when
 * enabled); the architecture it names against the declared one; the
 * report signature with the leaf key; the FWID in the leaf against the
 * report's; the nonce (when expected_nonce, 32 bytes, is not NULL; else
 * the nonce-match claim stays false); the driver and VBIOS RIMs (found
 * through the RIM source; chain, validity, signature, version); the
 * measurements.  Every check is recorded in `claims` (an object the
 * caller owns) whether or not it passes, so a failure can be shown; the
 * first failing check is returned with a message naming its step.  A GPU
 * passes only with VOUCH_OK.
 */
vouch_err vouch_nvgpu_verify_device(struct vouch_nvgpu_trust *t,
                                    const struct vouch_nvgpu_device *dev,
                                    const uint8_t *expected_nonce, int64_t now, json_t *claims,
                                    struct vouch_errbuf *eb);

/*
 * Verify every GPU of `ev` (all must pass; mixed SPT/MPT modes fail).
 * On success *ret_claims is a new array with one claims object per GPU,
 * in evidence order.  On failure `reterr_claims` (may be NULL) receives
 * the array as far as it got, the failing GPU's claims last, and `eb`
 * starts with "gpu<N>: ".
 */
vouch_err vouch_nvgpu_verify_evidence(struct vouch_nvgpu_trust *t,
                                      const struct vouch_nvgpu_evidence *ev,
                                      const uint8_t *expected_nonce, int64_t now,
                                      json_t **ret_claims, json_t **reterr_claims,
                                      struct vouch_errbuf *eb);

/*
 * The GPUs of a tee=acstdxnvgpu request: `gpu_evidence` is the member of
 * the TDX evidence document, `expected_nonce` (32 bytes) what every GPU
 * must have signed: the first 32 bytes of the verified TDX REPORT_DATA,
 * so the GPUs are bound to the CPU quote.  Parses (errors as for
 * vouch_nvgpu_evidence_from_gpu_evidence) then verifies every GPU as
 * vouch_nvgpu_verify_evidence() does; same outputs.
 */
vouch_err vouch_nvgpu_verify_gpu_evidence(struct vouch_nvgpu_trust *t, const json_t *gpu_evidence,
                                          const uint8_t expected_nonce[VOUCH_NVGPU_NONCE_SIZE],
                                          int64_t now, json_t **ret_claims,
                                          json_t **reterr_claims, struct vouch_errbuf *eb);

/*
 * tee=nvgpu behind the common verifier interface (include/vouch/evidence.h):
 * `trust` is a struct vouch_nvgpu_trust.  The expected nonce is the
 * binding's report_data zero-padded or truncated to 32 bytes; without
 * report_data no nonce is checked and every GPU's
 * "x-nvidia-gpu-attestation-report-nonce-match" is false.
 * Claims: {"gpus": [per-GPU claims...], "report_data": hex of gpu0's
 * nonce, "x-nvidia-overall-att-result": true}.
 * Errors: VOUCH_E_INVALID & co. for a malformed document or report (with
 * eb->field: "device_evidence_list[i].evidence" ...), VOUCH_E_BINDING for
 * a nonce mismatch, VOUCH_E_VERIFY / EXPIRED / REVOKED for a failed
 * check, VOUCH_E_NOT_FOUND for a RIM the source does not have; the
 * message starts with "gpu<i>: <step>: ".
 */
extern const struct vouch_verifier vouch_verifier_nvgpu;

/*
 * Append one {"class": "gpu", "tee": "nvgpu", "claims": ...} entry per
 * element of `gpus` (the claims array of vouch_nvgpu_verify_evidence())
 * to `devices`, adding to each GPU's claims "report_data" (the nonce it
 * signed, hex) and "x-nvidia-overall-att-result": true.  Takes `gpus` in
 * every case.
 */
vouch_err vouch_nvgpu_devices(json_t *gpus, json_t *devices, struct vouch_errbuf *eb);

/*
 * tee=acstdxnvgpu: Alibaba's TDX evidence document (trustee's
 * {"quote", "cc_eventlog", ...}) carrying "gpu_evidence".  The TD is
 * verified as tee=tdx (binding included), then every GPU against the
 * first 32 bytes of the verified REPORT_DATA, so the GPUs are bound to
 * that quote.  `trust` is a struct vouch_acstdxnvgpu_trust.  Claims are
 * multi-device: the TD ("cpu", tee "tdx") first, then one "gpu" per GPU.
 * A missing gpu_evidence, or any GPU failing, fails the whole call
 * (errors as for the two verifiers; GPU fields are paths in the TDX
 * document, "gpu_evidence.evidence_list[1].certificate").
 */
struct vouch_acstdxnvgpu_trust {
    void *tdx;                        /* the tee=tdx verifier's trust */
    struct vouch_nvgpu_trust *gpu;
};

extern const struct vouch_verifier vouch_verifier_acstdxnvgpu;

/*
 * The trust_new / trust_free hooks of the two verifiers (trust.c): a
 * struct vouch_nvgpu_trust from the host's nvgpu-* options, RIM source and
 * network source; a struct vouch_acstdxnvgpu_trust borrowing the tdx and
 * nvgpu trusts.
 */
vouch_err vouch_nvgpu_trust_from_host(const struct vouch_verifier *self,
                                      const struct vouch_verifier_host *host, void **ret_trust,
                                      struct vouch_errbuf *eb);
void vouch_nvgpu_trust_release(void *trust);
vouch_err vouch_acstdxnvgpu_trust_from_host(const struct vouch_verifier *self,
                                            const struct vouch_verifier_host *host,
                                            void **ret_trust, struct vouch_errbuf *eb);
void vouch_acstdxnvgpu_trust_release(void *trust);

#endif
