/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "evidence/tpm/evidence.h"

static vouch_err merge(json_t *into, json_t *from)
{
    return json_object_update(into, from) ? VOUCH_E_NOMEM : VOUCH_OK;
}

/* The event log: parsed, replayed against the authenticated PCRs, its claims into claims. */
static vouch_err eventlog_verify(const struct vouch_tpm_evidence *ev,
                                 const struct vouch_tpm_verify_opts *opts, json_t *claims,
                                 struct vouch_errbuf *eb)
{
    struct vouch_tcg_eventlog *log = NULL;
    json_t *part = NULL, *report = NULL;
    vouch_err e;

    e = vouch_tcg_eventlog_parse(ev->eventlog, ev->eventlog_len, VOUCH_TPM_PCR_COUNT, &log, eb);
    if (!e)
        e = vouch_tpm_eventlog_verify(log, ev->pcrs, opts->eventlog_flags, &report, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "event log: ");
    } else if (!opts->ima_claims_only &&
               (vouch_tpm_eventlog_claims(log, &part) || merge(claims, part) ||
                json_object_set(claims, "eventlog_verification", report))) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    json_decref(part);
    json_decref(report);
    vouch_tcg_eventlog_free(log);
    return e;
}

/*
 * Every supplied PCR value must be one the quote selects: the signature
 * covers only those, so another would reach the event log's replay, the
 * IMA replay or the caller's baseline unverified.
 */
static vouch_err pcrs_quoted(const struct vouch_tpm_quote *q, const struct vouch_tpm_pcrs *pcrs,
                             struct vouch_errbuf *eb)
{
    uint32_t extra;
    unsigned h, i;

    for (h = 0; h < VOUCH_HASH__COUNT; h++) {
        extra = pcrs->mask[h] & ~vouch_tpm_pcr_select_mask(&q->select, (enum vouch_hash)h);
        if (!extra)
            continue;
        for (i = 0; !(extra >> i & 1); i++)
            ;
        return vouch_fail(eb, VOUCH_E_INVALID, "%s PCR %u has a value but the quote does not "
                          "select it: send the values of the quoted PCRs only",
                          vouch_hash_name((enum vouch_hash)h), i);
    }
    return VOUCH_OK;
}

vouch_err vouch_tpm_evidence_verify(const struct vouch_tpm_key *ak,
                                    const struct vouch_tpm_evidence *ev,
                                    const struct vouch_tpm_verify_opts *opts,
                                    json_t **ret_claims, struct vouch_ima_state *ret_ima,
                                    struct vouch_errbuf *eb)
{
    struct vouch_tpm_quote_check chk = { opts->nonce, opts->nonce_len, ev->pcrs, opts->signer,
                                         opts->signer_len, opts->quote_flags };
    struct vouch_ima_log *ima = NULL;
    struct vouch_ima_result res;
    struct vouch_ima_state next;
    struct vouch_tpm_quote q;
    json_t *claims = NULL, *part = NULL, *unknown = NULL;
    size_t nunk = 0;
    vouch_err e;

    if (!ev->pcrs)
        return vouch_fail(eb, VOUCH_E_INVALID, "quote: no PCR values");
    e = vouch_tpm_quote_verify(ak, ev->attest, ev->attest_len, ev->sig, ev->sig_len, &chk, &q, eb);
    if (!e)
        e = pcrs_quoted(&q, ev->pcrs, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "quote: ");
    if (opts->ima_claims_only ? !(claims = json_object())
                              : vouch_tpm_quote_claims(&q, ak, ev->pcrs, &claims) != VOUCH_OK)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (ev->eventlog) {
        e = eventlog_verify(ev, opts, claims, eb);
        if (e)
            goto out;
    }

    if (opts->ima_prev)
        next = *opts->ima_prev;
    else
        vouch_ima_state_init(&next, 0);
    if (ev->ima) {
        e = vouch_ima_log_parse(ev->ima, ev->ima_len, &ima, eb);
        if (!e)
            e = vouch_ima_verify(ima, ev->ima_first_index, opts->ima_prev, ev->pcrs,
                                 opts->ima_flags, &res, eb);
        if (!e && opts->ima_policy) {
            unknown = json_array();
            e = unknown ? vouch_ima_policy_check(opts->ima_policy, ima, 0, res.matched,
                                                 ev->ima_first_index, unknown,
                                                 opts->max_unknown ? opts->max_unknown : 100,
                                                 &nunk, eb)
                        : VOUCH_E_NOMEM;
        }
        if (e) {
            vouch_fail_prefix(eb, e, "IMA log: ");
            goto out;
        }
        if (vouch_ima_claims(ima, &res, unknown, nunk, &part) ||
            json_object_set(claims, "ima", part)) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
        next = res.state;
    }
    *ret_claims = claims;
    claims = NULL;
    if (ret_ima)
        *ret_ima = next;
out:
    json_decref(claims);
    json_decref(part);
    json_decref(unknown);
    vouch_ima_log_free(ima);
    return e;
}
