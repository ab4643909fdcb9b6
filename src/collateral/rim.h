/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COLLATERAL_RIM_H
#define VOUCH_COLLATERAL_RIM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "evidence/nvgpu/rim.h"
#include "store/store.h"
#include "vouch/err.h"

/*
 * NVIDIA reference integrity manifests (RIMs) kept in the store, so every
 * replica verifies GPUs against the same set: documents of kind "rim"
 * under NVIDIA's RIM id ("NV_GPU_DRIVER_GH100_550.144.03",
 * "NV_GPU_VBIOS_1010_0200_882_96005E0001"), body = the SWID XML as
 * signed, meta = {"kind": "driver"|"vbios", "version", "not_after"}.
 */
#define VOUCH_RIM_KIND "rim"

/*
 * Import one RIM file as NVIDIA distributes it (SWID XML, or the RIM
 * service's {"id", "rim": base64} JSON) after checking its chain to
 * `roots`, its validity at `now` and its signature
 * (vouch_nvgpu_rim_check_file()).  `name_hint` (a file name or RIM id;
 * may be NULL for driver RIMs) supplies what a VBIOS RIM does not name.
 * The same id imported again replaces the stored document.  On success
 * ret_id (may be NULL) holds the id and *ret_report (may be NULL) a new
 * {"id", "kind", "version", "not_after"}.
 */
vouch_err vouch_rim_import(struct vouch_store *s, STACK_OF(X509) *roots, const uint8_t *data,
                           size_t len, const char *name_hint, int64_t now,
                           char ret_id[VOUCH_NVGPU_RIM_ID_MAX], json_t **ret_report,
                           struct vouch_errbuf *eb);

/* [{"id", "kind", "version", "not_after", "updated_at"}], ordered by id. */
vouch_err vouch_rim_list(struct vouch_store *s, json_t **ret, struct vouch_errbuf *eb);

/*
 * A RIM source (struct vouch_nvgpu_rim_source) over the store.  Documents
 * read from the store are kept in memory for `ttl` seconds.  When a RIM is
 * not stored and `fetch` is set, it is fetched (the RIM service's JSON or
 * XML), imported as vouch_rim_import() does at clock(clock_ctx), and
 * served.  Thread-safe.
 */
struct vouch_rim_fetcher {
    vouch_err (*fetch)(void *ctx, const char *id, uint8_t **ret_doc, size_t *ret_len,
                       struct vouch_errbuf *eb);
    int64_t (*clock)(void *ctx);
    void *ctx;
};

struct vouch_rimstore;

/* `roots` and `fetch` (may be NULL) must outlive the rimstore. */
vouch_err vouch_rimstore_new(struct vouch_store *s, int ttl, STACK_OF(X509) *roots,
                             const struct vouch_rim_fetcher *fetch,
                             struct vouch_rimstore **ret, struct vouch_errbuf *eb);
void vouch_rimstore_free(struct vouch_rimstore *r);
struct vouch_nvgpu_rim_source vouch_rimstore_source(struct vouch_rimstore *r);

/*
 * The roots RIM signatures are checked against (rimroots.c): the PEM file
 * at `path`, or NVIDIA's pinned RIM root when `path` is NULL.  Free with
 * sk_X509_pop_free(*ret, X509_free).
 */
vouch_err vouch_rim_roots_load(const char *path, STACK_OF(X509) **ret, struct vouch_errbuf *eb);

#endif
