/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_ATTEST_REQ_H
#define VOUCH_SERVER_ATTEST_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/digest.h"
#include "evidence/binding.h"
#include "policy/initdata.h"
#include "vouch/evidence.h"

/*
 * An attestation request, normalised from either accepted form:
 *   Alibaba (flat):   {tee, evidence, policy_ids, runtime_data, init_data,
 *                      runtime_data_hash_algorithm, init_data_hash_algorithm}
 *   trustee:          {verification_requests: [{tee, evidence, runtime_data,
 *                      init_data, runtime_data_hash_algorithm}], policy_ids}
 */
#define VOUCH_ATTEST_MAX_ITEMS 9
#define VOUCH_ATTEST_MAX_POLICIES 16
#define VOUCH_POLICY_ID_MAX 64

struct vouch_attest_item {
    const char *tee;                       /* borrowed from the request JSON */
    const struct vouch_verifier *verifier;
    uint8_t *evidence;                     /* decoded evidence document */
    size_t evidence_len;
    bool has_runtime, has_init;
    struct vouch_binding_data runtime;     /* expected report data */
    struct vouch_binding_data init;        /* expected init data */
    json_t *init_data_claims;              /* derived from init_data_toml, or NULL */
    const char *challenge_token;           /* borrowed, or NULL */
    char path[40];                         /* "" or "verification_requests[1]." */
};

struct vouch_attest_req {
    struct vouch_attest_item items[VOUCH_ATTEST_MAX_ITEMS];
    size_t n_items;
    const char *policy_ids[VOUCH_ATTEST_MAX_POLICIES];
    size_t n_policies;                     /* 0: the default policy */
    bool trustee_form;
};

/* A failure: what the API answers. */
struct vouch_attest_problem {
    unsigned status;
    const char *code;
    char field[128];
    char detail[600];
};

/*
 * Parse `body` into `req` (which borrows strings from `body`: keep it
 * alive).  `max_evidence` caps each decoded evidence document.  Nothing
 * the request carries is evaluated here: init data's agent policy waits
 * for vouch_attest_agent_policy().  On failure fills `p` and returns
 * false; `req` then needs vouch_attest_req_done() all the same.
 */
bool vouch_attest_req_parse(const json_t *body, size_t max_evidence,
                            struct vouch_attest_req *req, struct vouch_attest_problem *p);

/*
 * Once an item's evidence and its binding to the init data verified:
 * evaluate the agent policy its init_data_toml carries (if any) into its
 * init_data_claims, under the init-data limits (`opts`: the time, the
 * wall-clock budget).  A limit exceeded is 422 VOUCH.POLICY.EVALUATION_FAILED
 * naming init_data.init_data_toml.
 */
bool vouch_attest_agent_policy(struct vouch_attest_item *it, const struct vouch_initdata_eval *opts,
                               struct vouch_attest_problem *p);

void vouch_attest_req_done(struct vouch_attest_req *req);

/*
 * Check the challenge an item carries (if any) against the nonce-binding
 * rule: the token must be ours and unexpired (else 401
 * VOUCH.CHALLENGE.INVALID_TOKEN), and the item's runtime data must carry
 * its nonce: structured.nonce equal to it, or raw bytes starting with it
 * (else 422 VOUCH.EVIDENCE.BINDING_MISMATCH).
 */
bool vouch_attest_check_challenge(const struct vouch_attest_item *it, const uint8_t secret[32],
                                  int64_t now, struct vouch_attest_problem *p);

#endif
