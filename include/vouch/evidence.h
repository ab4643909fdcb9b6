/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_H
#define VOUCH_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * The interface every evidence family implements (src/evidence/<family>/).
 * A verifier turns evidence bytes into verified claims, or fails with an
 * error that names the step.  It does no I/O of its own: collateral and
 * trust anchors come through the opaque `trust` pointer its trust_new hook
 * set up from what the host offers, and time comes in as `now`.
 */

/* What the caller expects the evidence to be bound to. */
struct vouch_binding {
    /*
     * Expected report data (runtime data, already hashed when it was
     * structured).  The verifier zero-pads or truncates it to its own field
     * size (64 bytes for TDX/SGX REPORT_DATA, 32 for an SPDM nonce) and
     * compares exactly.  NULL: no check.
     */
    const uint8_t *report_data;
    size_t report_data_len;
    /* Expected init data (MRCONFIGID / CONFIGID), same rules.  NULL: no check. */
    const uint8_t *init_data;
    size_t init_data_len;
};

/*
 * A network fetch the host (the server or the CLI) performs on a
 * verifier's behalf: POST `body` to `url` and return the 200 answer's
 * body in *ret_body (malloc'd, at most `max` bytes).  VOUCH_E_IO when the
 * far end cannot be reached or answers anything but 200.  Thread-safe.
 */
struct vouch_net_source {
    vouch_err (*post)(void *ctx, const char *url, const char *content_type,
                      const uint8_t *body, size_t body_len, size_t max, uint8_t **ret_body,
                      size_t *ret_len, struct vouch_errbuf *eb);
    void *ctx;
};

/*
 * Names of the data sources a host may offer (vouch_verifier_host.source).
 * Each names a struct declared by the evidence family that uses it.
 */
#define VOUCH_SOURCE_PCS_COLLATERAL "pcs-collateral" /* const struct vouch_dcap_source */
#define VOUCH_SOURCE_RIMS "rims"                     /* const struct vouch_nvgpu_rim_source */
#define VOUCH_SOURCE_NET "net"                       /* const struct vouch_net_source */
#define VOUCH_SOURCE_AMD_COLLATERAL "amd-collateral" /* const struct vouch_snp_source */

/*
 * What the host gives a verifier to set up its trust: a view of the
 * configuration, the data sources it provides and the trust of verifiers
 * set up before this one.  Option values and sources outlive every trust
 * object, so a verifier may keep pointers to them; the host struct itself
 * lives only for the call.
 */
struct vouch_verifier_host {
    /*
     * The configured value of option `name` (the vouchd flag without
     * "--": "dcap-root", "nvgpu-ocsp"), or NULL when it is not set.
     */
    const char *(*option)(void *ctx, const char *name);
    /* The data source called `name` (VOUCH_SOURCE_*), or NULL: none. */
    const void *(*source)(void *ctx, const char *name);
    /* The trust of verifier `tee`, which comes earlier in the registry. */
    void *(*trust)(void *ctx, const char *tee);
    void *ctx;
};

/*
 * The `vouch inspect NAME` command that shows this TEE's evidence.  The
 * description lives with the verifier; argv parsing and printing live in
 * src/cli (src/cli/main.c lists the command and runs either the verifier's
 * own cmd_inspect_NAME.c or the generic one, which verifies and prints the
 * claims).
 */
struct vouch_inspect_cmd {
    const char *name;     /* "quote": the command is "vouch inspect quote" */
    const char *usage;    /* one line: the arguments */
    const char *summary;  /* one line: what it does */
    /*
     * Every option and argument of `usage`, one "NAME ARG\tdescription"
     * line each, separated by "\n" (`vouch inspect NAME --help` lists them).
     */
    const char *options;
};

/*
 * Option lines that mean the same in several commands (the verifiers'
 * inspect commands and those of src/cli/main.c), written once.  A caller
 * may append to the description: VOUCH_HELP_COLLATERAL "; required\n".
 */
#define VOUCH_HELP_AT                                                                      \
    "--at RFC3339\tcheck signatures and validity periods as of this time, e.g. "           \
    "2025-07-19T10:00:00Z; default now"
#define VOUCH_HELP_JSON "--json\tprint JSON instead of text"
#define VOUCH_HELP_COLLATERAL                                                              \
    "--collateral PATH\tIntel collateral: a QuoteCollateralV3 JSON file or a directory "  \
    "of saved PCS responses (tcb_info.json, qe_identity.json, CRLs, issuer chains)"

/*
 * Claims a verifier left out of verify_deferred()'s claims because they
 * are large and few policies or tokens want them (tdx: "uefi_event_logs",
 * every event of the CC event log).  build() adds them to those claims
 * (the object verify_deferred() returned); it may be called again and
 * then does nothing.  free() accepts NULL.
 */
struct vouch_deferred_claims {
    const char *const *names;    /* the member names it adds, NULL-terminated */
    vouch_err (*build)(struct vouch_deferred_claims *self, json_t *claims,
                       struct vouch_errbuf *eb);
    void (*free)(struct vouch_deferred_claims *self);
};

struct vouch_verifier {
    /* The `tee` string of the attestation request: "tdx", "sgx", "nvgpu", ... */
    const char *tee;
    /*
     * Verify `evidence` (the decoded evidence document of this TEE) at time
     * `now`.  On success *ret_claims is a new JSON object of claims, named as
     * trustee names them without the "<tee>." prefix.  A binding mismatch
     * returns VOUCH_E_BINDING; a malformed document VOUCH_E_INVALID or
     * VOUCH_E_TRUNCATED; a failed check VOUCH_E_VERIFY (or EXPIRED/REVOKED);
     * missing collateral VOUCH_E_NOT_FOUND.  When the request's binding is
     * not what is at fault (a GPU that did not sign the TD's REPORT_DATA),
     * eb->field names the evidence field instead.
     */
    vouch_err (*verify)(const struct vouch_verifier *self, void *trust,
                        const uint8_t *evidence, size_t evidence_len,
                        const struct vouch_binding *binding, int64_t now,
                        json_t **ret_claims, struct vouch_errbuf *eb);
    /*
     * Set by a verifier whose evidence carries several devices (the GPUs of
     * tee=nvgpu; the TD and its GPUs of tee=acstdxnvgpu).  Its claims are
     * then
     *   {"devices": [{"class": "cpu"|"gpu", "tee": "tdx"|"nvgpu",
     *                 "claims": {...}}, ...]}
     * and the service appraises and reports each device on its own (EAR
     * submodules cpu0, gpu0, gpu1, ...).  Each device's claims follow the
     * single-device rules above (its "report_data" hex included).  Every
     * device verified: one that fails fails the whole call.
     */
    bool multi_device;
    /*
     * Set up the trust this verifier's verify() gets, from the host's
     * configuration and sources (roots, collateral and RIM sources, OCSP).
     * Called once at start-up, in registry order.  *ret_trust may be NULL
     * when nothing is configured; verify() then fails with
     * VOUCH_E_NOT_FOUND.  NULL hook: the verifier needs no trust.
     */
    vouch_err (*trust_new)(const struct vouch_verifier *self,
                           const struct vouch_verifier_host *host, void **ret_trust,
                           struct vouch_errbuf *eb);
    /* Free what trust_new made (accepts NULL). */
    void (*trust_free)(void *trust);
    /* Its `vouch inspect` command, or NULL: none. */
    const struct vouch_inspect_cmd *inspect;
    /*
     * The claims that identify the attested subject: dotted paths into
     * this verifier's claims ("quote.body.mr_td"), NULL-terminated.  A
     * token's `sub` is "<tee>:" and the hex SHA-256 of the RFC 8785 form
     * of {path: value} over these (docs/oidc.md).  Measurement registers,
     * never anything a request chooses (report data, nonces).  The claims
     * of a multi-device verifier's devices follow the rule of each
     * device's own tee (acstdxnvgpu's TD: tdx's); NULL: no `sub`.
     */
    const char *const *subject_claims;
    /*
     * Optional: verify() with the same checks and the same claims, except
     * the ones named by *ret_deferred, which come only when built (NULL:
     * nothing left out).  Every check is made here; building adds claims
     * and checks nothing.  Single-device verifiers only.
     */
    vouch_err (*verify_deferred)(const struct vouch_verifier *self, void *trust,
                                 const uint8_t *evidence, size_t evidence_len,
                                 const struct vouch_binding *binding, int64_t now,
                                 json_t **ret_claims, struct vouch_deferred_claims **ret_deferred,
                                 struct vouch_errbuf *eb);
};

/* Look up a registered verifier by its tee string; NULL if none. */
const struct vouch_verifier *vouch_verifier_find(const char *tee);

/* The i-th registered verifier (registry order), NULL past the last. */
const struct vouch_verifier *vouch_verifier_at(size_t i);

/* "tdx, sgx, ...": every registered tee, for messages (truncated to size). */
void vouch_verifier_names(char *buf, size_t size);

#endif
