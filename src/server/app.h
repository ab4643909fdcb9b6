/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_APP_H
#define VOUCH_SERVER_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "collateral/amd.h"
#include "collateral/collateral.h"
#include "collateral/rim.h"
#include "crypto/jose.h"
#include "crypto/kek.h"
#include "policy/policy.h"
#include "server/config.h"
#include "server/http.h"
#include "server/router.h"
#include "store/store.h"
#include "vouch/evidence.h"
#include "token/keyring.h"
#include "vtpm/whitelist.h"

struct vouch_history;

/* One verifier and the trust its trust_new hook made. */
struct vouch_app_trust {
    const struct vouch_verifier *verifier;
    void *trust;
};

/*
 * Server-wide state shared by every worker thread.  Everything here is
 * either immutable after start-up or guarded (the keyring snapshot).
 */
struct vouch_app {
    struct vouch_config cfg;
    struct vouch_store *store;
    char *issuer;                       /* resolved issuer URL */
    uint8_t admin_hash[32];             /* SHA-256 of the admin token */
    uint8_t challenge_secret[32];       /* HMAC key of challenge tokens (shared) */
    struct vouch_kek *kek;              /* --kek-file, or NULL: secrets stored in clear */
    enum vouch_jws_alg token_alg;
    struct vouch_policies *policies;    /* compiled policy cache */
    struct vouch_vtpm_whitelists *whitelists; /* vTPM program whitelists, compiled cache */
    /* Collateral services: the stores behind the PCCS and RIM APIs. */
    struct vouch_collateral *collateral; /* Intel PCS collateral in the store */
    X509 *dcap_root;                    /* --dcap-root, or NULL for Intel's */
    struct vouch_pccs_cache *pccs;      /* prepared collateral responses */
    struct vouch_amd_collateral *amd;   /* AMD SEV-SNP collateral in the store */
    struct vouch_amd_fetcher kds_fetcher; /* --amd-kds-url, or fetch NULL */
    STACK_OF(X509) *rim_roots;          /* RIM signature roots (--nvgpu-rim-root) */
    struct vouch_rimstore *rims;        /* RIMs in the store (+ RIM service fetch) */
    struct vouch_rim_fetcher rim_fetcher;
    /* What verifiers get from the service (struct vouch_verifier_host). */
    struct vouch_nvgpu_rim_source rim_source;
    struct vouch_net_source net;
    /* vTPM (vtpm_ca.c): the AK CA and the TPM manufacturer roots (or NULL). */
    EVP_PKEY *vtpm_ca_key;
    X509 *vtpm_ca_cert;
    char *vtpm_ca_pem;
    STACK_OF(X509) *vtpm_ek_roots;
    struct vouch_replay *replay;        /* SignatureNonce records (replay.h) */
    struct vouch_accesskeys *accesskeys; /* enabled AccessKeys, cached (token/accesskey.h) */
    struct vouch_cache *vtpm_ak_cache;  /* parsed AKs by their stored bytes (vtpm_report.c) */
    /* Each registered verifier's trust, in registry order. */
    struct vouch_app_trust *trusts;
    size_t n_trusts;
    const struct vouch_route *routes;
    size_t n_routes;
    /* The attestation history's writer (history.h), or NULL: nothing recorded. */
    struct vouch_history *history;

    pthread_mutex_t kr_lock;
    struct vouch_keyring *kr;           /* current snapshot */
    uint64_t kr_loaded_us;              /* monotonic time of the load */
};

/* How long stored collateral is used from memory before re-reading. */
#define VOUCH_COLLATERAL_TTL_SECONDS 5

/* How long a keyring snapshot is used before re-reading the store. */
#define VOUCH_KEYRING_TTL_US (VOUCH_KEYRING_RELOAD_SECONDS * 1000000u)

/* Extra time retired keys stay published beyond the token lifetime. */
#define VOUCH_KEY_SKEW_SECONDS 300

/* Prepared PCCS responses (api_pccs.c). */
struct vouch_pccs_cache;
vouch_err vouch_pccs_cache_new(struct vouch_pccs_cache **ret);
void vouch_pccs_cache_clear(struct vouch_pccs_cache *c);
void vouch_pccs_cache_free(struct vouch_pccs_cache *c);

/* The route table (routes.c). */
extern const struct vouch_route vouch_routes[];
extern const size_t vouch_n_routes;

/*
 * Set up `app` from a loaded configuration (which it takes over): open the
 * store, make sure signing keys exist, set up the admin token.  When a token
 * is generated, it is returned in *ret_new_admin_token (free()) so the
 * caller can show it once; otherwise that is set to NULL.
 */
vouch_err vouch_app_init(struct vouch_app *app, struct vouch_config *cfg,
                         char **ret_new_admin_token, struct vouch_errbuf *eb);

/*
 * Keep freed heap memory for the next request instead of handing it back
 * to the kernel after every one (glibc's default: trim above 128 KiB, mmap
 * above 128 KiB).  A request with an event log allocates a few hundred KiB
 * (the body, its decoded evidence, the claims, the token); with the
 * defaults every such request paid page faults for all of it again, which
 * on a virtual machine cost more than its parsing and hashing (bench/RESULTS.md,
 * attest with event logs).  Costs at most the trim threshold of retained
 * memory per malloc arena.  Call once, before threads start.
 */
#define VOUCH_MALLOC_TRIM_THRESHOLD (16u << 20)
#define VOUCH_MALLOC_MMAP_THRESHOLD (8u << 20)
void vouch_app_tune_malloc(void);

/* Set the issuer once the listening port is known. */
vouch_err vouch_app_set_issuer(struct vouch_app *app, const char *host, uint16_t port,
                               struct vouch_errbuf *eb);

void vouch_app_done(struct vouch_app *app);

/*
 * The trust context the verifier of `tee` set up at start-up (collateral
 * sources, trust anchors), or NULL when none is configured.
 */
void *vouch_app_trust(struct vouch_app *app, const char *tee);

/* The instant evidence is verified at: --fixed-time, else the clock. */
int64_t vouch_app_now(const struct vouch_app *app);

/*
 * A reference to the current keyring snapshot (reloaded from the store when
 * older than VOUCH_KEYRING_TTL_US, or when `refresh`).  Unref when done.
 */
vouch_err vouch_app_keyring(struct vouch_app *app, bool refresh, struct vouch_keyring **ret,
                            struct vouch_errbuf *eb);

/* Route, authenticate and run the handler for one request. */
void vouch_app_dispatch(struct vouch_app *app, struct vouch_http_req *req,
                        struct vouch_http_resp *resp);

#endif
