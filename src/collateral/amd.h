/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COLLATERAL_AMD_H
#define VOUCH_COLLATERAL_AMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/snp/snp.h"
#include "store/store.h"
#include "vouch/err.h"

/*
 * AMD SEV-SNP collateral kept in the store, next to Intel's (documents of
 * kind "collateral"), so every replica serves and verifies with the same
 * set:
 *   amd/vcek/{Product}/{hwid hex}/{bl}-{tee}-{snp}-{ucode}[-{fmc}]   DER
 *   amd/crl/{Product}                                              DER
 * A VCEK's meta holds its product, hwID and SPLs and its validity; a
 * CRL's its thisUpdate, nextUpdate and CRL number.  expires_at is the
 * VCEK's notAfter or the CRL's nextUpdate.  The ASK/ASVK and ARK are
 * pinned (src/evidence/snp/roots.c) and never stored.
 */
#define VOUCH_AMD_VCEK_PREFIX "amd/vcek/"
#define VOUCH_AMD_CRL_PREFIX "amd/crl/"

/* Does `data` look like AMD KDS collateral (a certificate or CRL, DER or PEM) rather than JSON? */
bool vouch_amd_collateral_detect(const uint8_t *data, size_t len);

/*
 * Import what AMD's Key Distribution Service answers, as it answers it:
 *  - a VCEK (/vcek/v1/{product}/{hwid}?...: DER, or PEM);
 *  - a cert_chain (/vcek|vlek/v1/{product}/cert_chain: PEM, ASK or ASVK
 *    and ARK, in any order);
 *  - a CRL (/vcek|vlek/v1/{product}/crl: DER, or PEM);
 * or several of those in one PEM file.  Everything is verified first, at
 * `now`, against the pinned AMD roots: a VCEK's chain and AMD extensions;
 * that each ARK/ASK/ASVK is byte for byte a pinned one (they are not
 * stored: the pinned ones are served); a CRL's ARK signature and
 * thisUpdate.  A VLEK is refused: KDS gives VLEKs only to cloud
 * providers, so one travels with its evidence.  All or nothing; a stored
 * CRL with a higher CRL number is kept.  `src` names the input in
 * messages.  *ret_report lists {"id", "action": "stored"|"kept-newer"|
 * "unchanged"|"pinned", "next_update", "expired"} per item.
 */
vouch_err vouch_amd_collateral_import(struct vouch_store *s, const uint8_t *data, size_t len,
                                      const char *src, int64_t now, json_t **ret_report,
                                      struct vouch_errbuf *eb);

/*
 * Where missing VCEKs and CRLs come from, when configured: `fetch` GETs a
 * KDS path ("/vcek/v1/Milan/{hwid}?blSPL=...", "/vcek/v1/Milan/crl") and
 * returns the 200 answer's body; `clock` is the time imports verify at.
 */
struct vouch_amd_fetcher {
    vouch_err (*fetch)(void *ctx, const char *path, uint8_t **ret_body, size_t *ret_len,
                       struct vouch_errbuf *eb);
    int64_t (*clock)(void *ctx);
    void *ctx;
};

/*
 * The store-backed AMD collateral source the snp verifier reads
 * (struct vouch_snp_source), with documents, and their absence, held in
 * memory for `ttl` seconds.  With `fetch` (may be NULL; must outlive the
 * source), a VCEK or CRL the store does not hold is fetched, imported
 * as vouch_amd_collateral_import() does, and served; a VCEK fetch that
 * fails is VOUCH_E_IO, a CRL fetch that fails leaves no CRL (NOT_FOUND).
 * Thread-safe.
 */
struct vouch_amd_collateral;

vouch_err vouch_amd_collateral_new(struct vouch_store *s, int ttl,
                                   const struct vouch_amd_fetcher *fetch,
                                   struct vouch_amd_collateral **ret, struct vouch_errbuf *eb);
void vouch_amd_collateral_free(struct vouch_amd_collateral *c);
const struct vouch_snp_source *vouch_amd_collateral_source(struct vouch_amd_collateral *c);
/*
 * The AMD chips whose collateral the store holds (the console's collateral
 * page): *ret = {"chips": [...], "crls": [...]}, one chip entry per stored
 * VCEK, ordered by id: {"id", "product", "hwid", "tcb": {"bootloader",
 * "tee", "snp", "microcode"[, "fmc"]}, "not_after" (the VCEK's expiry),
 * "crl_next_update" (its product's stored CRL's nextUpdate, or null)};
 * one CRL entry per product: {"id", "product", "next_update",
 * "crl_number"}.  Times are RFC 3339 text as stored.  At most
 * VOUCH_STORE_LIST_MAX of each (the first by id).  The ASK/ASVK and ARK
 * are pinned, not stored, so they are not listed.
 */
vouch_err vouch_amd_collateral_list(struct vouch_store *s, json_t **ret, struct vouch_errbuf *eb);

/* Forget what is held in memory (after an import here). */
void vouch_amd_collateral_invalidate(struct vouch_amd_collateral *c);

/* "Milan" -> VOUCH_SNP_PRODUCT_MILAN (exact, as KDS spells it); UNKNOWN otherwise. */
enum vouch_snp_product vouch_amd_product_parse(const char *name);

/* The PEM KDS answers at /{vcek|vlek}/v1/{product}/cert_chain: ASK or ASVK, then ARK. */
char *vouch_amd_cert_chain_pem(enum vouch_snp_product p, bool vlek);

#endif
