/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "common/reader.h"
#include "evidence/tpm/eventlog.h"
#include "evidence/tpm/tpm_int.h"

static const char spec_id_sig[16] = "Spec ID Event03";   /* with its NUL */
/*
 * A Spec ID event holds at least its signature, platformClass (4 bytes),
 * specVersionMinor, specVersionMajor, specErrata, uintnSize (1 byte each)
 * and numberOfAlgorithms (4 bytes).
 */
#define SPEC_ID_MIN_LEN (sizeof(spec_id_sig) + 12)
#define SHA1_DIGEST_SIZE 20
static const char startup_locality_sig[16] = "StartupLocality";
static const char ebs_invocation[] = "Exit Boot Services Invocation";
static const char ebs_returned[] = "Exit Boot Services Returned with Success";

void vouch_tpm_eventlog_free(struct vouch_tpm_eventlog *log)
{
    if (!log)
        return;
    free(log->events);
    free(log->raw);
    free(log);
}

static vouch_err parse_spec_id(struct vouch_tpm_eventlog *log, const uint8_t *d, uint32_t len,
                               struct vouch_errbuf *eb)
{
    struct vouch_reader r;
    uint32_t i, j;

    vouch_reader_init(&r, d, len);
    if (vouch_reader_skip(&r, sizeof(spec_id_sig)) ||
        vouch_reader_u32le(&r, &log->spec.platform_class) ||
        vouch_reader_u8(&r, &log->spec.version_minor) ||
        vouch_reader_u8(&r, &log->spec.version_major) || vouch_reader_u8(&r, &log->spec.errata) ||
        vouch_reader_u8(&r, &log->spec.uintn_size) || vouch_reader_u32le(&r, &log->spec.n_algs))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "Spec ID event: truncated header");
    if (log->spec.version_major != 2)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "Spec ID event: specVersionMajor %u",
                          log->spec.version_major);
    if (log->spec.n_algs == 0 || log->spec.n_algs > VOUCH_TPM_EL_MAX_BANKS)
        return vouch_fail(eb, VOUCH_E_INVALID, "Spec ID event: numberOfAlgorithms %u",
                          log->spec.n_algs);
    for (i = 0; i < log->spec.n_algs; i++) {
        uint16_t alg, size;
        int h;

        if (vouch_reader_u16le(&r, &alg) || vouch_reader_u16le(&r, &size))
            return vouch_fail(eb, VOUCH_E_TRUNCATED, "Spec ID event: truncated algorithm list");
        h = vouch_tpm_alg_hash(alg);
        if (size == 0 || size > VOUCH_HASH_MAX_SIZE ||
            (h >= 0 && size != vouch_hash_size((enum vouch_hash)h)))
            return vouch_fail(eb, VOUCH_E_INVALID, "Spec ID event: algorithm 0x%04x with "
                              "digest size %u", alg, size);
        for (j = 0; j < i; j++)
            if (log->spec.algs[j].alg == alg)
                return vouch_fail(eb, VOUCH_E_INVALID, "Spec ID event: algorithm 0x%04x "
                                  "listed twice", alg);
        log->spec.algs[i].alg = alg;
        log->spec.algs[i].size = size;
    }
    if (vouch_reader_u8(&r, &log->spec.vendor_info_size) ||
        vouch_reader_skip(&r, log->spec.vendor_info_size))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "Spec ID event: truncated vendorInfo");
    return VOUCH_OK;
}

static vouch_err push_event(struct vouch_tpm_eventlog *log, size_t *cap,
                            const struct vouch_tpm_event *ev, struct vouch_errbuf *eb)
{
    if (log->n_events == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct vouch_tpm_event *n;

        if (log->n_events >= VOUCH_TPM_EL_MAX_EVENTS)
            return vouch_fail(eb, VOUCH_E_TOO_LARGE, "event log: more than %u events",
                              VOUCH_TPM_EL_MAX_EVENTS);
        n = realloc(log->events, ncap * sizeof(*n));
        if (!n)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        log->events = n;
        *cap = ncap;
    }
    log->events[log->n_events++] = *ev;
    return VOUCH_OK;
}

static vouch_err read_data(struct vouch_reader *r, struct vouch_tpm_event *ev, size_t n,
                           struct vouch_errbuf *eb)
{
    uint32_t size;

    if (vouch_reader_u32le(r, &size))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: truncated eventSize", n);
    if (size > VOUCH_TPM_EL_MAX_EVENT_SIZE)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "event %zu: %u bytes of data", n, size);
    if (vouch_reader_bytes(r, size, &ev->data))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: %u bytes of data, %zu left", n,
                          size, vouch_reader_left(r));
    ev->data_len = size;
    return VOUCH_OK;
}

/* The kernel's log area may be followed by zero fill. */
static bool only_padding(const struct vouch_reader *r)
{
    return vouch_tpm_all_bytes(r->p, vouch_reader_left(r), 0) ||
           vouch_tpm_all_bytes(r->p, vouch_reader_left(r), 0xff);
}

/* The digest list of a TCG_PCR_EVENT2: a count, then (algorithm, digest) per bank. */
static vouch_err read_digests(const struct vouch_tpm_eventlog *log, struct vouch_reader *r,
                              struct vouch_tpm_event *ev, size_t n, struct vouch_errbuf *eb)
{
    uint32_t count, i, j;

    if (vouch_reader_u32le(r, &count))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: truncated digest count", n);
    if (count > log->spec.n_algs)
        return vouch_fail(eb, VOUCH_E_INVALID, "event %zu: %u digests, the log has %u banks",
                          n, count, log->spec.n_algs);
    for (i = 0; i < count; i++) {
        uint16_t alg;

        if (vouch_reader_u16le(r, &alg))
            return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: truncated digest", n);
        for (j = 0; j < log->spec.n_algs && log->spec.algs[j].alg != alg; j++)
            ;
        if (j == log->spec.n_algs)
            return vouch_fail(eb, VOUCH_E_INVALID, "event %zu: digest algorithm 0x%04x not "
                              "in the Spec ID event", n, alg);
        ev->digests[i].alg = alg;
        ev->digests[i].size = log->spec.algs[j].size;
        for (j = 0; j < i; j++)
            if (ev->digests[j].alg == alg)
                return vouch_fail(eb, VOUCH_E_INVALID, "event %zu: algorithm 0x%04x twice",
                                  n, alg);
        if (vouch_reader_bytes(r, ev->digests[i].size, &ev->digests[i].bytes))
            return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: truncated digest", n);
    }
    ev->n_digests = count;
    return VOUCH_OK;
}

/* A SHA-1 digest, as TCG_PCR_EVENT (the first record, and every one of a legacy log) has. */
static vouch_err read_sha1_digest(struct vouch_reader *r, struct vouch_tpm_event *ev, size_t n,
                                  struct vouch_errbuf *eb)
{
    ev->n_digests = 1;
    ev->digests[0].alg = VOUCH_TPM_ALG_SHA1;
    ev->digests[0].size = SHA1_DIGEST_SIZE;
    if (vouch_reader_bytes(r, SHA1_DIGEST_SIZE, &ev->digests[0].bytes))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: truncated digest", n);
    return VOUCH_OK;
}

/* The first record: a TCG_PCR_EVENT; a Spec ID event in it makes the log crypto-agile. */
static vouch_err parse_first_event(struct vouch_tpm_eventlog *log, struct vouch_reader *r,
                                   struct vouch_tpm_event *ev, struct vouch_errbuf *eb)
{
    vouch_err e;

    memset(ev, 0, sizeof(*ev));
    if (vouch_reader_u32le(r, &ev->pcr) || vouch_reader_u32le(r, &ev->type) ||
        vouch_reader_left(r) < SHA1_DIGEST_SIZE)
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event 0: truncated header");
    (void)read_sha1_digest(r, ev, 0, eb);
    if (ev->pcr >= VOUCH_TPM_PCR_COUNT)
        return vouch_fail(eb, VOUCH_E_INVALID, "event 0: PCR index %u", ev->pcr);
    e = read_data(r, ev, 0, eb);
    if (e)
        return e;
    if (ev->type == VOUCH_EV_NO_ACTION && ev->data_len >= SPEC_ID_MIN_LEN &&
        memcmp(ev->data, spec_id_sig, sizeof(spec_id_sig)) == 0) {
        e = parse_spec_id(log, ev->data, ev->data_len, eb);
        if (e)
            return e;
        log->agile = true;
    }
    return VOUCH_OK;
}

/* One record after the first: TCG_PCR_EVENT2 (agile log) or TCG_PCR_EVENT. */
static vouch_err parse_event(const struct vouch_tpm_eventlog *log, struct vouch_reader *r,
                             struct vouch_tpm_event *ev, struct vouch_errbuf *eb)
{
    size_t n = log->n_events;
    vouch_err e;

    memset(ev, 0, sizeof(*ev));
    ev->offset = vouch_reader_offset(r);
    if (vouch_reader_u32le(r, &ev->pcr) || vouch_reader_u32le(r, &ev->type))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: truncated header", n);
    if (ev->pcr >= VOUCH_TPM_PCR_COUNT && ev->type != VOUCH_EV_NO_ACTION)
        return vouch_fail(eb, VOUCH_E_INVALID, "event %zu: PCR index %u", n, ev->pcr);
    e = log->agile ? read_digests(log, r, ev, n, eb) : read_sha1_digest(r, ev, n, eb);
    if (e)
        return e;
    return read_data(r, ev, n, eb);
}

vouch_err vouch_tpm_eventlog_parse(const uint8_t *data, size_t len,
                                   struct vouch_tpm_eventlog **ret, struct vouch_errbuf *eb)
{
    struct vouch_tpm_eventlog *log;
    struct vouch_tpm_event ev;
    struct vouch_reader r;
    size_t cap = 0;
    vouch_err e;

    if (len == 0)
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event log is empty");
    log = calloc(1, sizeof(*log));
    if (!log || !(log->raw = malloc(len))) {
        free(log);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    memcpy(log->raw, data, len);
    log->raw_len = len;
    vouch_reader_init(&r, log->raw, len);

    e = parse_first_event(log, &r, &ev, eb);
    if (!e)
        e = push_event(log, &cap, &ev, eb);
    while (!e && !vouch_reader_done(&r) && !only_padding(&r)) {
        e = parse_event(log, &r, &ev, eb);
        if (!e)
            e = push_event(log, &cap, &ev, eb);
    }
    if (e) {
        vouch_tpm_eventlog_free(log);
        return e;
    }
    *ret = log;
    return VOUCH_OK;
}

static bool has_ebs_event(const struct vouch_tpm_eventlog *log)
{
    size_t i;

    for (i = 0; i < log->n_events; i++) {
        const struct vouch_tpm_event *ev = &log->events[i];

        if (ev->type == VOUCH_EV_EFI_ACTION && ev->pcr == 5 &&
            ev->data_len == sizeof(ebs_invocation) - 1 &&
            memcmp(ev->data, ebs_invocation, ev->data_len) == 0)
            return true;
    }
    return false;
}

/* Replay into the banks of `only` (bit h) that the log carries. */
static vouch_err replay(const struct vouch_tpm_eventlog *log, unsigned flags, uint32_t only,
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
            if ((h = vouch_tpm_alg_hash(log->spec.algs[d].alg)) >= 0)
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
        const struct vouch_tpm_event *ev = &log->events[i];

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
            h = vouch_tpm_alg_hash(ev->digests[d].alg);
            if (h < 0 || !(banks >> h & 1))
                continue;
            e = vouch_tpm_hash2(ctx, (enum vouch_hash)h, p.value[h][ev->pcr], ev->digests[d].size,
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
            e = vouch_tpm_hash2(ctx, (enum vouch_hash)h, ebs_invocation, sizeof(ebs_invocation) - 1,
                                NULL, 0, dg);
            if (!e)
                e = vouch_tpm_hash2(ctx, (enum vouch_hash)h, p.value[h][5], n, dg, n,
                                    p.value[h][5]);
            if (!e)
                e = vouch_tpm_hash2(ctx, (enum vouch_hash)h, ebs_returned, sizeof(ebs_returned) - 1,
                                    NULL, 0, dg);
            if (!e)
                e = vouch_tpm_hash2(ctx, (enum vouch_hash)h, p.value[h][5], n, dg, n,
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

vouch_err vouch_tpm_eventlog_replay(const struct vouch_tpm_eventlog *log, unsigned flags,
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

vouch_err vouch_tpm_eventlog_verify(const struct vouch_tpm_eventlog *log,
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
