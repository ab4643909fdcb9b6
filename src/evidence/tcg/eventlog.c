/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "common/reader.h"
#include "evidence/tcg/eventlog.h"
#include "evidence/tcg/tcg.h"

static const char spec_id_sig[16] = "Spec ID Event03";   /* with its NUL */
/*
 * A Spec ID event holds at least its signature, platformClass (4 bytes),
 * specVersionMinor, specVersionMajor, specErrata, uintnSize (1 byte each)
 * and numberOfAlgorithms (4 bytes).
 */
#define SPEC_ID_MIN_LEN (sizeof(spec_id_sig) + 12)
#define SHA1_DIGEST_SIZE 20

void vouch_tcg_eventlog_free(struct vouch_tcg_eventlog *log)
{
    if (!log)
        return;
    free(log->events);
    free(log->raw);
    free(log);
}

static vouch_err parse_spec_id(struct vouch_tcg_eventlog *log, const uint8_t *d, uint32_t len,
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
    if (log->spec.n_algs == 0 || log->spec.n_algs > VOUCH_TCG_EL_MAX_BANKS)
        return vouch_fail(eb, VOUCH_E_INVALID, "Spec ID event: numberOfAlgorithms %u",
                          log->spec.n_algs);
    for (i = 0; i < log->spec.n_algs; i++) {
        uint16_t alg, size;
        int h;

        if (vouch_reader_u16le(&r, &alg) || vouch_reader_u16le(&r, &size))
            return vouch_fail(eb, VOUCH_E_TRUNCATED, "Spec ID event: truncated algorithm list");
        h = vouch_tcg_alg_hash(alg);
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

static vouch_err push_event(struct vouch_tcg_eventlog *log, size_t *cap,
                            const struct vouch_tcg_event *ev, struct vouch_errbuf *eb)
{
    if (log->n_events == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct vouch_tcg_event *n;

        if (log->n_events >= VOUCH_TCG_EL_MAX_EVENTS)
            return vouch_fail(eb, VOUCH_E_TOO_LARGE, "event log: more than %u events",
                              VOUCH_TCG_EL_MAX_EVENTS);
        n = realloc(log->events, ncap * sizeof(*n));
        if (!n)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        log->events = n;
        *cap = ncap;
    }
    log->events[log->n_events++] = *ev;
    return VOUCH_OK;
}

static vouch_err read_data(struct vouch_reader *r, struct vouch_tcg_event *ev, size_t n,
                           struct vouch_errbuf *eb)
{
    uint32_t size;

    if (vouch_reader_u32le(r, &size))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: truncated eventSize", n);
    if (size > VOUCH_TCG_EL_MAX_EVENT_SIZE)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "event %zu: %u bytes of data", n, size);
    if (vouch_reader_bytes(r, size, &ev->data))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: %u bytes of data, %zu left", n,
                          size, vouch_reader_left(r));
    ev->data_len = size;
    return VOUCH_OK;
}

/* The kernel's log area may be followed by zero fill, TDVF's CCEL area by 0xFF fill. */
static bool only_padding(const struct vouch_reader *r)
{
    return vouch_tcg_all_bytes(r->p, vouch_reader_left(r), 0) ||
           vouch_tcg_all_bytes(r->p, vouch_reader_left(r), 0xff);
}

/* The digest list of a TCG_PCR_EVENT2: a count, then (algorithm, digest) per bank. */
static vouch_err read_digests(const struct vouch_tcg_eventlog *log, struct vouch_reader *r,
                              struct vouch_tcg_event *ev, size_t n, struct vouch_errbuf *eb)
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
static vouch_err read_sha1_digest(struct vouch_reader *r, struct vouch_tcg_event *ev, size_t n,
                                  struct vouch_errbuf *eb)
{
    ev->n_digests = 1;
    ev->digests[0].alg = VOUCH_TCG_ALG_SHA1;
    ev->digests[0].size = SHA1_DIGEST_SIZE;
    if (vouch_reader_bytes(r, SHA1_DIGEST_SIZE, &ev->digests[0].bytes))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: truncated digest", n);
    return VOUCH_OK;
}

/* The first record: a TCG_PCR_EVENT; a Spec ID event in it makes the log crypto-agile. */
static vouch_err parse_first_event(struct vouch_tcg_eventlog *log, struct vouch_reader *r,
                                   struct vouch_tcg_event *ev, struct vouch_errbuf *eb)
{
    vouch_err e;

    memset(ev, 0, sizeof(*ev));
    if (vouch_reader_u32le(r, &ev->pcr) || vouch_reader_u32le(r, &ev->type) ||
        vouch_reader_left(r) < SHA1_DIGEST_SIZE)
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event 0: truncated header");
    (void)read_sha1_digest(r, ev, 0, eb);
    if (ev->pcr >= log->n_indexes)
        return vouch_fail(eb, VOUCH_E_INVALID, "event 0: index %u (the log has %u)", ev->pcr,
                          log->n_indexes);
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
static vouch_err parse_event(const struct vouch_tcg_eventlog *log, struct vouch_reader *r,
                             struct vouch_tcg_event *ev, struct vouch_errbuf *eb)
{
    size_t n = log->n_events;
    vouch_err e;

    memset(ev, 0, sizeof(*ev));
    ev->offset = vouch_reader_offset(r);
    if (vouch_reader_u32le(r, &ev->pcr) || vouch_reader_u32le(r, &ev->type))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event %zu: truncated header", n);
    if (ev->pcr >= log->n_indexes && ev->type != VOUCH_EV_NO_ACTION)
        return vouch_fail(eb, VOUCH_E_INVALID, "event %zu: index %u (the log has %u)", n,
                          ev->pcr, log->n_indexes);
    e = log->agile ? read_digests(log, r, ev, n, eb) : read_sha1_digest(r, ev, n, eb);
    if (e)
        return e;
    return read_data(r, ev, n, eb);
}

vouch_err vouch_tcg_eventlog_parse_owned(uint8_t *data, size_t len, uint32_t n_indexes,
                                         struct vouch_tcg_eventlog **ret,
                                         struct vouch_errbuf *eb)
{
    struct vouch_tcg_eventlog *log;
    struct vouch_tcg_event ev;
    struct vouch_reader r;
    size_t cap = 0;
    vouch_err e;

    if (len == 0) {
        free(data);
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event log is empty");
    }
    log = calloc(1, sizeof(*log));
    if (!log) {
        free(data);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    log->raw = data;
    log->raw_len = len;
    log->n_indexes = n_indexes;
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
        vouch_tcg_eventlog_free(log);
        return e;
    }
    *ret = log;
    return VOUCH_OK;
}

vouch_err vouch_tcg_eventlog_parse(const uint8_t *data, size_t len, uint32_t n_indexes,
                                   struct vouch_tcg_eventlog **ret, struct vouch_errbuf *eb)
{
    uint8_t *copy;

    if (len == 0)
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "event log is empty");
    copy = malloc(len);
    if (!copy)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    memcpy(copy, data, len);
    return vouch_tcg_eventlog_parse_owned(copy, len, n_indexes, ret, eb);
}

