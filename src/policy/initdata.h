/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_POLICY_INITDATA_H
#define VOUCH_POLICY_INITDATA_H

#include <stddef.h>

#include <jansson.h>

#include "crypto/digest.h"
#include "vouch/err.h"

/*
 * Confidential containers' init data, as an attestation request's
 * init_data_toml carries it:
 *   algorithm = "sha384"      the digest MRCONFIGID/HOSTDATA must hold
 *   version = "0.1.0"
 *   [data]                    files for the guest: "aa.toml", "cdh.toml",
 *                             "policy.rego" (the kata agent policy), ...
 * Parses it and derives the claims policies see as init_data_claims, as
 * trustee does: the "data" table, with "aa.toml" and "cdh.toml" turned
 * from TOML text into objects, and "policy.rego" replaced by
 * "agent_policy_claims", the agent policy's data.agent_policy.policy_data
 * (evaluated by our Rego engine, v0 or v1 grammar, under tight limits;
 * left as text when it defines none).  `now` feeds time.now_ns.
 * Errors (VOUCH_E_INVALID) name the part at fault ("TOML line 3: ...",
 * "data.\"cdh.toml\": ...", "algorithm ...").  Outputs only on success.
 */
vouch_err vouch_initdata_parse(const char *toml, size_t len, int64_t now, enum vouch_hash *ret_alg,
                               json_t **ret_claims, struct vouch_errbuf *eb);

#endif
