/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COLLATERAL_H
#define VOUCH_COLLATERAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "evidence/dcap/dcap.h"
#include "store/store.h"
#include "vouch/err.h"

/*
 * Intel SGX/TDX collateral kept in the store (documents of kind
 * "collateral"), so every replica serves and verifies with the same set.
 *
 *   tcb/{sgx|tdx}/{FMSPC}/v{2|3}    {"tcbInfo": <signed bytes>, "signature": hex}
 *   qe/{QE|TD_QE|QVE|QAE}           {"enclaveIdentity": <signed bytes>, "signature": hex}
 *   pckcrl/{platform|processor}     DER
 *   rootcacrl                       DER
 * Each document's meta holds its issuer chain (PEM) and dates; expires_at
 * is its nextUpdate.  The signed JSON is kept byte for byte.
 */
#define VOUCH_COLLATERAL_KIND "collateral"
#define VOUCH_COLLATERAL_IMPORT_MAX (16u << 20)

/*
 * Import collateral after verifying every signature and chain against
 * `root` (NULL: the pinned Intel SGX Root CA) at `now`.  Accepted:
 *  - dcap-qvl's QuoteCollateralV3 JSON (tcb_info, tcb_info_signature, ...);
 *  - Intel PCS responses saved with their issuer-chain header:
 *    {"tcb_info_json"|"enclave_identity_json": BODY, "issuer_chain": PEM},
 *    {"crl_data"|"crl_data_base64"|"crl_hex": CRL, "issuer_chain": PEM};
 *  - a bundle: a JSON array of those, or {"collateral": [...]}.
 * All or nothing: when any document fails, nothing is stored and the
 * message names it.  A stored document newer than an imported one is kept.
 * *ret_report lists {"id", "action": "stored"|"kept-newer"|"unchanged",
 * "next_update", "expired"} per document.
 */
vouch_err vouch_collateral_import_json(struct vouch_store *s, X509 *root, const char *json,
                                       size_t len, int64_t now, json_t **ret_report,
                                       struct vouch_errbuf *eb);

/*
 * Import a request body: the JSON forms above, or AMD KDS collateral (a
 * VCEK, cert_chain or CRL as KDS answers it: vouch_amd_collateral_import()
 * in collateral/amd.h), told apart by the first byte.
 */
vouch_err vouch_collateral_import(struct vouch_store *s, X509 *root, const uint8_t *data,
                                  size_t len, int64_t now, json_t **ret_report,
                                  struct vouch_errbuf *eb);

/*
 * Import a file (any form above, or AMD KDS collateral) or a directory: every *.json in it, plus
 * the layout of Intel PCS responses saved to files (tcb_info.json with
 * tcb_info_issuer_chain.pem, qe_identity.json with qe_identity_issuer_chain.pem,
 * pck_crl.{der,pem,hex} with pck_crl_issuer_chain.pem, root_ca_crl.*).
 */
vouch_err vouch_collateral_import_path(struct vouch_store *s, X509 *root, const char *path,
                                       int64_t now, json_t **ret_report,
                                       struct vouch_errbuf *eb);

/*
 * A DCAP collateral source over the store, with stored documents held in
 * memory for `ttl` seconds (so other replicas' imports show up within
 * that time).  Thread-safe.
 */
struct vouch_collateral;

vouch_err vouch_collateral_new(struct vouch_store *s, int ttl, struct vouch_collateral **ret,
                               struct vouch_errbuf *eb);
void vouch_collateral_free(struct vouch_collateral *c);
const struct vouch_dcap_source *vouch_collateral_source(struct vouch_collateral *c);
/* Forget the documents held in memory (after an import here). */
void vouch_collateral_invalidate(struct vouch_collateral *c);

/* One stored document as the PCCS API serves it; free with vouch_store_doc_free(). */
vouch_err vouch_collateral_get(struct vouch_store *s, const char *id,
                               struct vouch_store_doc **ret, struct vouch_errbuf *eb);

/* Load a root certificate (PEM or DER) for the `root` arguments above. */
vouch_err vouch_collateral_load_root(const char *path, X509 **ret, struct vouch_errbuf *eb);

/*
 * The stored PCK certificate (PEM body; meta with "chain", "tcbm",
 * "fmspc", "ca") a platform should use at raw TCB (cpusvn, pcesvn): the
 * platform is found by `qeid` (PCCS's key) or else `encrypted_ppid`
 * (PCS's), both upper-case hex, either may be NULL; `pceid` is 4 upper-case
 * hex.  PCK certificates are imported like the rest of the collateral:
 * {"pck_cert": PEM | "pckcerts": [Intel's pckcerts body], "issuer_chain",
 * "qeid", "encrypted_ppid"}.  VOUCH_E_NOT_FOUND for an unknown platform or
 * no certificate at or below that TCB.
 */
vouch_err vouch_collateral_pckcert(struct vouch_store *s, const char *qeid,
                                   const char *encrypted_ppid, const char *pceid,
                                   const uint8_t cpusvn[16], unsigned pcesvn,
                                   struct vouch_store_doc **ret, struct vouch_errbuf *eb);

#endif
