/* SPDX-License-Identifier: Apache-2.0 */
/* Replay of a TCG event log into TPM PCRs and comparison with a quote. */
#include <stdlib.h>
#include <string.h>

#include "evidence/tpm/eventlog.h"
#include "evidence/tpm/tpm_int.h"

static const char startup_locality_sig[16] = "StartupLocality";
static const char ebs_invocation[] = "Exit Boot Services Invocation";
static const char ebs_returned[] = "Exit Boot Services Returned with Success";

static bool has_ebs_event(const struct vouch_tcg_eventlog *log)
{
    size_t i;

    for (i = 0; i < log->n_events; i++) {
        const struct vouch_tcg_event *ev = &log->events[i];

        if (ev->type == VOUCH_EV_EFI_ACTION && ev->pcr == 5 &&
            ev->data_len == sizeof(ebs_invocation) - 1 &&
            memcmp(ev->data, ebs_invocation, ev->data_len) == 0)
            return true;
    }
    return false;
}

/* Replay into the banks of `only` (bit h) that the log carries. */
static vouch_err replay(const struct vouch_tcg_eventlog *log, unsigned flags, uint32_t only,
                        struct vouch_tpm_pcrs *ret, bool *ret_fixup, struct vouch_errbuf *eb)
{
    struct vouch_tpm_pcrs p;
    uint32_t banks = 0;          /* bit h: the log carries bank h */
    bool fixup = false;
    EVP_MD_CTX *ctx;
    vouch_err e = VOUCH_OK;
    size_t i;
    uint32_t d;
    int h;
    unsigned k;

    if (log->agile) {
        for (d = 0; d < log->spec.n_algs; d++)
            if ((h = vouch_tcg_alg_hash(log->spec.algs[d].alg)) >= 0)
                banks |= 1u << h;
    } else {
        banks = 1u << VOUCH_HASH_SHA1;
    }
    if (!banks)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "event log: no bank of a supported hash");
    banks &= only;
    vouch_tpm_pcrs_init(&p);
    for (h = 0; h < VOUCH_HASH__COUNT; h++)
        for (k = 17; k <= 22; k++)
            memset(p.value[h][k], 0xff, vouch_hash_size((enum vouch_hash)h));
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < log->n_events && !e; i++) {
        const struct vouch_tcg_event *ev = &log->events[i];

        if (ev->type == VOUCH_EV_NO_ACTION) {
            if (ev->pcr == 0 && ev->data_len == 17 &&
                memcmp(ev->data, startup_locality_sig, sizeof(startup_locality_sig)) == 0) {
                uint32_t any = 0;

                for (h = 0; h < VOUCH_HASH__COUNT; h++)
                    any |= p.mask[h] & 1;
                if (any) {
                    e = vouch_fail(eb, VOUCH_E_INVALID, "event %zu: StartupLocality after PCR0 "
                                   "was extended", i);
                    break;
                }
                for (h = 0; h < VOUCH_HASH__COUNT; h++)
                    p.value[h][0][vouch_hash_size((enum vouch_hash)h) - 1] = ev->data[16];
            }
            continue;
        }
        for (d = 0; d < ev->n_digests && !e; d++) {
            h = vouch_tcg_alg_hash(ev->digests[d].alg);
            if (h < 0 || !(banks >> h & 1))
                continue;
            e = vouch_tcg_hash2(ctx, (enum vouch_hash)h, p.value[h][ev->pcr], ev->digests[d].size,
                                ev->digests[d].bytes, ev->digests[d].size, p.value[h][ev->pcr]);
            p.mask[h] |= 1u << ev->pcr;
        }
    }
    if (!e && (flags & VOUCH_TPM_EL_EBS_FIXUP) && !has_ebs_event(log)) {
        for (h = 0; h < VOUCH_HASH__COUNT && !e; h++) {
            uint8_t dg[VOUCH_HASH_MAX_SIZE];
            size_t n = vouch_hash_size((enum vouch_hash)h);

            if (!(banks >> h & 1) || !(p.mask[h] >> 5 & 1))
                continue;
            e = vouch_tcg_hash2(ctx, (enum vouch_hash)h, ebs_invocation, sizeof(ebs_invocation) - 1,
                                NULL, 0, dg);
            if (!e)
                e = vouch_tcg_hash2(ctx, (enum vouch_hash)h, p.value[h][5], n, dg, n,
                                    p.value[h][5]);
            if (!e)
                e = vouch_tcg_hash2(ctx, (enum vouch_hash)h, ebs_returned, sizeof(ebs_returned) - 1,
                                    NULL, 0, dg);
            if (!e)
                e = vouch_tcg_hash2(ctx, (enum vouch_hash)h, p.value[h][5], n, dg, n,
                                    p.value[h][5]);
            fixup = true;
        }
    }
    EVP_MD_CTX_free(ctx);
    if (e)
        return e == VOUCH_E_INVALID ? e : vouch_fail(eb, e, "event log replay: digest failed");
    for (h = 0; h < VOUCH_HASH__COUNT; h++)
        if (!(banks >> h & 1))
            p.mask[h] = 0;
    *ret = p;
    if (ret_fixup)
        *ret_fixup = fixup;
    return VOUCH_OK;
}

vouch_err vouch_tpm_eventlog_replay(const struct vouch_tcg_eventlog *log, unsigned flags,
                                    struct vouch_tpm_pcrs *ret, bool *ret_fixup,
                                    struct vouch_errbuf *eb)
{
    return replay(log, flags, ~0u, ret, ret_fixup, eb);
}

static json_t *unverified_json(const struct vouch_tpm_pcrs *replayed,
                               const struct vouch_tpm_pcrs *quoted)
{
    json_t *o = json_object();
    int h;
    unsigned i;

    for (h = 0; o && h < VOUCH_HASH__COUNT; h++) {
        uint32_t m = replayed->mask[h] & ~quoted->mask[h];
        json_t *a;

        if (!m)
            continue;
        a = json_array();
        for (i = 0; a && i < VOUCH_TPM_PCR_COUNT; i++)
            if (m >> i & 1)
                json_array_append_new(a, json_integer(i));
        json_object_set_new(o, vouch_hash_name((enum vouch_hash)h), a);
    }
    return o;
}

vouch_err vouch_tpm_eventlog_verify(const struct vouch_tcg_eventlog *log,
                                    const struct vouch_tpm_pcrs *quoted, unsigned flags,
                                    json_t **ret_report, struct vouch_errbuf *eb)
{
    struct vouch_tpm_pcrs rp;
    json_t *diffs = json_array(), *report = NULL, *rj = NULL;
    size_t ndiff, ncmp;
    bool fixup = false;
    uint32_t only = 0;
    vouch_err e;
    int h;

    if (!diffs)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (h = 0; h < VOUCH_HASH__COUNT; h++)
        if (quoted->mask[h])
            only |= 1u << h;
    e = replay(log, 0, only, &rp, NULL, eb);
    if (e)
        goto out;
    ndiff = vouch_tpm_pcrs_diff(&rp, quoted, NULL, &ncmp);
    if (ndiff && (flags & VOUCH_TPM_EL_EBS_FIXUP)) {
        struct vouch_tpm_pcrs fixed;
        size_t nfix;
        bool pcr5_differs = false;

        for (h = 0; h < VOUCH_HASH__COUNT; h++)
            if ((rp.mask[h] & quoted->mask[h]) >> 5 & 1 &&
                memcmp(rp.value[h][5], quoted->value[h][5], vouch_hash_size((enum vouch_hash)h)))
                pcr5_differs = true;
        if (pcr5_differs) {
            e = replay(log, VOUCH_TPM_EL_EBS_FIXUP, only, &fixed, &fixup, eb);
            if (e)
                goto out;
            nfix = vouch_tpm_pcrs_diff(&fixed, quoted, NULL, NULL);
            if (fixup && nfix < ndiff) {
                rp = fixed;
                ndiff = nfix;
            } else {
                fixup = false;
            }
        }
    }
    vouch_tpm_pcrs_diff(&rp, quoted, diffs, NULL);
    if (vouch_tpm_pcrs_to_json(&rp, &rj)) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    report = json_pack("{s:o, s:I, s:O, s:b, s:o}", "replayed", rj, "compared",
                       (json_int_t)ncmp, "mismatches", diffs, "ebs_fixup", fixup,
                       "unverified_pcrs", unverified_json(&rp, quoted));
    if (!report) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if (ncmp == 0) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "event log: the quote covers none of the PCRs "
                       "the log extends");
    } else if (ndiff) {
        json_t *first = json_array_get(diffs, 0);

        e = vouch_fail(eb, VOUCH_E_VERIFY, "event log: %s PCR %d replays to %.16s..., the "
                       "quote has %.16s...%s", json_string_value(json_object_get(first, "bank")),
                       (int)json_integer_value(json_object_get(first, "pcr")),
                       json_string_value(json_object_get(first, "expected")),
                       json_string_value(json_object_get(first, "actual")),
                       ndiff > 1 ? " (and more PCRs differ)" : "");
    }
    if (ret_report) {
        *ret_report = report;
        report = NULL;
    }
out:
    json_decref(report);
    json_decref(diffs);
    return e;
}
