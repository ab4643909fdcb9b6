/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_POLICY_INITDATA_H
#define VOUCH_POLICY_INITDATA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/digest.h"
#include "rego/rego.h"
#include "vouch/err.h"

/*
 * Confidential containers' init data, as an attestation request's
 * init_data_toml carries it:
 *   algorithm = "sha384"      the digest MRCONFIGID/HOSTDATA must hold
 *   version = "0.1.0"
 *   [data]                    files for the guest: "aa.toml", "cdh.toml",
 *                             "policy.rego" (the kata agent policy), ...
 *
 * Two steps, so that nothing a request carries is evaluated before its
 * evidence is verified:
 *
 * vouch_initdata_parse() parses the TOML and derives the claims policies
 * see as init_data_claims, as trustee does: the "data" table, with
 * "aa.toml" and "cdh.toml" turned from TOML text into objects.
 * "policy.rego" stays text.  No Rego runs.  Errors (VOUCH_E_INVALID) name
 * the part at fault ("TOML line 3: ...", "data.\"cdh.toml\": ...",
 * "algorithm ...").  Outputs only on success.
 *
 * vouch_initdata_agent_policy(), once the evidence and its binding to this
 * init data are verified, replaces "policy.rego" in the claims by
 * "agent_policy_claims", the agent policy's data.agent_policy.policy_data
 * (our Rego engine, v0 or v1 grammar).  A policy that does not compile or
 * defines no policy_data is left as text.  The evaluation runs under the
 * limits below, stricter than an admin policy's; exceeding one fails with
 * VOUCH_E_LIMIT and a message naming it.
 */
#define VOUCH_INITDATA_MAX_STEPS 100000u
#define VOUCH_INITDATA_MAX_DEPTH 64u
#define VOUCH_INITDATA_MAX_MEMORY ((size_t)8 << 20)
#define VOUCH_INITDATA_MAX_OUTPUT ((size_t)256 << 10)
#define VOUCH_INITDATA_TIMEOUT_MS 10u

struct vouch_initdata_eval {
    int64_t now;                  /* Unix seconds: what time.now_ns() sees */
    uint32_t timeout_ms;          /* wall-clock budget; 0: VOUCH_INITDATA_TIMEOUT_MS */
    vouch_rego_clock_fn clock;    /* NULL: CLOCK_MONOTONIC (tests pass their own) */
    void *clock_ctx;
};

vouch_err vouch_initdata_parse(const char *toml, size_t len, enum vouch_hash *ret_alg,
                               json_t **ret_claims, struct vouch_errbuf *eb);

vouch_err vouch_initdata_agent_policy(json_t *claims, const struct vouch_initdata_eval *opts,
                                      struct vouch_errbuf *eb);

#endif
