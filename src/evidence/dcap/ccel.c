/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TDX event logs: parse, replay into RTMR0..3, compare with the quote, claims.
 *
 * Three inputs extend the RTMRs of a TD, and a verifier sees them as:
 *   - the CC event log: the CCEL ACPI table's log area, a TCG crypto-agile
 *     log (evidence/tcg parses it).  Its MR index is the CC measurement
 *     register: 0 = MRTD, 1..4 = RTMR0..3 (UEFI 2.10 section 38.4.1 and the
 *     TDVF design guide's MapPcrToMrIndex: PCR 1,7 -> 1; 2-6 -> 2; 8-15 -> 3).
 *   - dstack's JSON log, the same firmware events plus its runtime events in
 *     RTMR3, as a JSON array of {imr (0-based RTMR), event_type, digest,
 *     event (name), event_payload (hex)}.  It becomes a TCG log with index
 *     imr + 1, so both formats share the replay and the claims.
 *   - trustee's attestation-agent text log ("INIT sha384/<hex>", then
 *     "<domain> <operation> <content>" lines), extended into RTMR3 after the
 *     firmware's RTMR3 events: s = INIT value; s = H(s || H(line)) per line.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/reader.h"
#include "evidence/dcap/dcap.h"
#include "evidence/dcap/dcap_int.h"
#include "evidence/tcg/eventlog.h"
#include "evidence/tcg/tcg.h"

#define CC_MR_COUNT 5                   /* MRTD, RTMR0..3 */
#define DSTACK_RUNTIME_EVENT 0x08000001u
#define AAEL_MAX_LINES 16384
#define AAEL_INIT "INIT sha384/"

/* td-shim's payload info event: "td_payload_info\0", u32 length, command line. */
static const char td_payload_info[16] = "td_payload_info";
#define TD_PAYLOAD_INFO_HDR 20

struct vouch_dcap_eventlog {
    enum vouch_dcap_eventlog_format format;
    struct vouch_tcg_eventlog *tcg;     /* CCEL, or dstack's JSON as TCG events; NULL: none */
    bool has_aael;
    uint8_t aael_init[VOUCH_DCAP_RTMR_SIZE];
    uint8_t aael_final[VOUCH_DCAP_RTMR_SIZE];
    json_t *aael;                       /* [{domain, operation, content}] */
};

void vouch_dcap_eventlog_free(struct vouch_dcap_eventlog *log)
{
    if (!log)
        return;
    vouch_tcg_eventlog_free(log->tcg);
    json_decref(log->aael);
    free(log);
}

enum vouch_dcap_eventlog_format vouch_dcap_eventlog_format(const struct vouch_dcap_eventlog *log)
{
    return log->format;
}

/* The SHA-384 digest of an event, or NULL. */
static const uint8_t *sha384_of(const struct vouch_tcg_event *ev)
{
    uint32_t d;

    for (d = 0; d < ev->n_digests; d++)
        if (ev->digests[d].alg == VOUCH_TCG_ALG_SHA384 &&
            ev->digests[d].size == VOUCH_DCAP_RTMR_SIZE)
            return ev->digests[d].bytes;
    return NULL;
}

/* *owned (when owned is not NULL) is data, malloc'ed: the TCG log takes it over (no copy). */
static vouch_err ccel_parse(const uint8_t *data, size_t len, uint8_t **owned,
                            struct vouch_dcap_eventlog *log, struct vouch_errbuf *eb)
{
    uint32_t i;
    vouch_err e;

    if (owned) {
        e = vouch_tcg_eventlog_parse_owned(*owned, len, CC_MR_COUNT, &log->tcg, eb);
        *owned = NULL;
    } else {
        e = vouch_tcg_eventlog_parse(data, len, CC_MR_COUNT, &log->tcg, eb);
    }
    if (e)
        return e;
    if (!log->tcg->agile)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "CC event log: no Spec ID Event03 header");
    for (i = 0; i < log->tcg->spec.n_algs; i++)
        if (log->tcg->spec.algs[i].alg == VOUCH_TCG_ALG_SHA384)
            return VOUCH_OK;
    return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "CC event log: the Spec ID event lists no "
                      "SHA-384 digests");
}

/* ---- dstack's JSON log ---------------------------------------------------- */

/*
 * The digest of a dstack runtime event.  Version 1: SHA-384(le32(type) ||
 * ":" || name || ":" || payload).  Version 2: SHA-384 of the canonical JSON
 * {"name":name,"payload":lowercase hex,"type":134217729}; names that would
 * need JSON escaping are refused.
 */
static vouch_err runtime_digest(EVP_MD_CTX *ctx, int64_t version, const char *name,
                                size_t name_len, const uint8_t *payload, size_t plen,
                                uint8_t out[48], struct vouch_errbuf *eb)
{
    struct vouch_buf b = VOUCH_BUF_INIT(VOUCH_DCAP_EVENTLOG_MAX * 2 + 4096);
    char *hex = NULL;
    size_t c;
    uint8_t le[4] = { DSTACK_RUNTIME_EVENT & 0xff, (DSTACK_RUNTIME_EVENT >> 8) & 0xff,
                      (DSTACK_RUNTIME_EVENT >> 16) & 0xff, DSTACK_RUNTIME_EVENT >> 24 };
    vouch_err e;

    if (version == 1) {
        e = vouch_buf_append(&b, le, 4);
        if (!e)
            e = vouch_buf_append(&b, ":", 1);
        if (!e)
            e = vouch_buf_append(&b, name, name_len);
        if (!e)
            e = vouch_buf_append(&b, ":", 1);
        if (!e)
            e = vouch_buf_append(&b, payload, plen);
    } else {
        for (c = 0; c < name_len; c++)
            if ((unsigned char)name[c] < 0x20 || name[c] == '"' || name[c] == '\\') {
                vouch_buf_free(&b);
                return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "version 2 event name needs "
                                  "JSON escaping");
            }
        hex = vouch_hex_alloc(payload, plen);
        e = hex ? vouch_buf_printf(&b, "{\"name\":\"%.*s\",\"payload\":\"%s\",\"type\":%u}",
                                   (int)name_len, name, hex, DSTACK_RUNTIME_EVENT)
                : VOUCH_E_NOMEM;
    }
    if (!e)
        e = vouch_tcg_hash2(ctx, VOUCH_HASH_SHA384, b.data, b.len, NULL, 0, out);
    free(hex);
    vouch_buf_free(&b);
    return e ? vouch_fail(eb, e, "runtime event digest failed") : VOUCH_OK;
}

/* The members of one event of the JSON path (strings owned by o). */
static vouch_err dstack_fields_json(const json_t *o, struct vouch_dstack_fields *f,
                                    struct vouch_errbuf *eb)
{
    memset(f, 0, sizeof(*f));
    f->version = 1;
    f->digest = f->name = f->payload = "";
    if (!json_is_object(o))
        return vouch_fail(eb, VOUCH_E_INVALID, "event is not an object");
    if (vouch_json_get_int(o, "imr", true, &f->imr, eb) ||
        vouch_json_get_int(o, "event_type", true, &f->type, eb) ||
        vouch_json_get_str(o, "digest", false, &f->digest, &f->digest_len, eb) ||
        vouch_json_get_str(o, "event", false, &f->name, &f->name_len, eb) ||
        vouch_json_get_str(o, "event_payload", false, &f->payload, &f->payload_len, eb) ||
        vouch_json_get_int(o, "version", false, &f->version, eb))
        return VOUCH_E_INVALID;
    return VOUCH_OK;
}

/* The checks of one event's members, whichever path read them. */
static vouch_err dstack_fields_check(const struct vouch_dstack_fields *f,
                                     struct vouch_errbuf *eb)
{
    if (f->imr < 0 || f->imr >= VOUCH_DCAP_RTMR_COUNT)
        return vouch_fail(eb, VOUCH_E_INVALID, "imr %lld is not an RTMR index (0..3)",
                          (long long)f->imr);
    if (f->type < 0 || f->type > 0xffffffffLL)
        return vouch_fail(eb, VOUCH_E_INVALID, "event_type %lld", (long long)f->type);
    if (f->version != 1 && f->version != 2)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "version %lld", (long long)f->version);
    if (memchr(f->name, 0, f->name_len))
        return vouch_fail(eb, VOUCH_E_INVALID, "event name contains NUL");
    if (f->digest_len != 0 && f->digest_len != 2 * VOUCH_DCAP_RTMR_SIZE)
        return vouch_fail(eb, VOUCH_E_INVALID, "digest is not 48 bytes of hex");
    if (f->digest_len == 0 && f->type != DSTACK_RUNTIME_EVENT)
        return vouch_fail(eb, VOUCH_E_INVALID, "boot event without a digest");
    return VOUCH_OK;
}

/* The bytes an event takes in the log's store: digest, payload, name and its NUL. */
static size_t dstack_store_size(size_t payload_len, size_t name_len)
{
    return VOUCH_DCAP_RTMR_SIZE + payload_len / 2 + name_len + 1;
}

/*
 * One dstack event into ev; its digest, payload and NUL-terminated name go
 * to `store` (dstack_store_size bytes): the name right after ev->data, for
 * dstack_event_name.  A runtime event's digest is recomputed; a stated one
 * that differs fails.
 */
static vouch_err dstack_event(EVP_MD_CTX *ctx, const struct vouch_dstack_fields *fp,
                              uint8_t *store, struct vouch_tcg_event *ev,
                              struct vouch_errbuf *eb)
{
    struct vouch_dstack_fields f = *fp;
    uint8_t stated[VOUCH_DCAP_RTMR_SIZE];
    size_t plen = 0;
    vouch_err e;

    e = dstack_fields_check(&f, eb);
    if (e)
        return e;
    if (f.payload_len % 2 ||
        (f.payload_len && vouch_hex_decode_exact(f.payload, f.payload_len,
                                                 store + VOUCH_DCAP_RTMR_SIZE,
                                                 f.payload_len / 2, NULL)))
        return vouch_fail(eb, VOUCH_E_INVALID, "event_payload is not hex");
    plen = f.payload_len / 2;
    if (f.digest_len && vouch_hex_decode_exact(f.digest, f.digest_len, stated, sizeof(stated),
                                               NULL))
        return vouch_fail(eb, VOUCH_E_INVALID, "digest is not hex");
    if (f.type == DSTACK_RUNTIME_EVENT) {
        e = runtime_digest(ctx, f.version, f.name, f.name_len, store + VOUCH_DCAP_RTMR_SIZE,
                           plen, store, eb);
        if (e)
            return e;
        if (f.digest_len && memcmp(stated, store, sizeof(stated)) != 0)
            return vouch_fail_sub(eb, VOUCH_E_VERIFY, VOUCH_SUB_EVENTLOG, "runtime event '%.*s':"
                                  " the digest is not the SHA-384 of its content",
                                  (int)(f.name_len < 64 ? f.name_len : 64), f.name);
    } else {
        memcpy(store, stated, sizeof(stated));
    }
    memcpy(store + VOUCH_DCAP_RTMR_SIZE + plen, f.name, f.name_len);
    store[VOUCH_DCAP_RTMR_SIZE + plen + f.name_len] = '\0';
    memset(ev, 0, sizeof(*ev));
    ev->pcr = (uint32_t)f.imr + 1;
    ev->type = (uint32_t)f.type;
    ev->n_digests = 1;
    ev->digests[0].alg = VOUCH_TCG_ALG_SHA384;
    ev->digests[0].size = VOUCH_DCAP_RTMR_SIZE;
    ev->digests[0].bytes = store;
    ev->data = store + VOUCH_DCAP_RTMR_SIZE;
    ev->data_len = (uint32_t)plen;
    return VOUCH_OK;
}

/* A TCG log shell for dstack's events: one SHA-384 bank, n events, `store` bytes of data. */
static vouch_err dstack_log_new(size_t n, size_t store, struct vouch_tcg_eventlog **ret,
                                struct vouch_errbuf *eb)
{
    struct vouch_tcg_eventlog *t = calloc(1, sizeof(*t));

    if (!t || !(t->events = calloc(n ? n : 1, sizeof(*t->events))) ||
        !(t->raw = malloc(store ? store : 1))) {
        vouch_tcg_eventlog_free(t);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    t->raw_len = store;
    t->agile = true;
    t->n_indexes = CC_MR_COUNT;
    t->spec.version_major = 2;
    t->spec.uintn_size = 2;
    t->spec.n_algs = 1;
    t->spec.algs[0].alg = VOUCH_TCG_ALG_SHA384;
    t->spec.algs[0].size = VOUCH_DCAP_RTMR_SIZE;
    *ret = t;
    return VOUCH_OK;
}

/* Event i's members: from the direct reader's list, or else from the JSON array. */
static vouch_err dstack_fields_at(const json_t *arr, const struct vouch_dstack_fields *direct,
                                  size_t i, struct vouch_dstack_fields *f,
                                  struct vouch_errbuf *eb)
{
    if (direct) {
        *f = direct[i];
        return VOUCH_OK;
    }
    return dstack_fields_json(json_array_get(arr, i), f, eb);
}

/* The store all n events take (dstack_store_size each). */
static size_t dstack_store_total(const json_t *arr, const struct vouch_dstack_fields *direct,
                                 size_t n)
{
    size_t i, store = 0;

    for (i = 0; i < n; i++) {
        const json_t *o = direct ? NULL : json_array_get(arr, i);
        const json_t *p = json_object_get(o, "event_payload"), *name = json_object_get(o, "event");

        store += direct ? dstack_store_size(direct[i].payload_len, direct[i].name_len)
                        : dstack_store_size(json_is_string(p) ? json_string_length(p) : 0,
                                            json_is_string(name) ? json_string_length(name) : 0);
    }
    return store;
}

/* dstack's n events, read directly (direct) or from the JSON array arr, into log->tcg. */
static vouch_err dstack_parse(const json_t *arr, const struct vouch_dstack_fields *direct,
                              size_t n, struct vouch_dcap_eventlog *log, struct vouch_errbuf *eb)
{
    size_t i, off = 0;
    EVP_MD_CTX *ctx = NULL;
    vouch_err e;

    if (n > VOUCH_TCG_EL_MAX_EVENTS)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "dstack event log: more than %u events",
                          VOUCH_TCG_EL_MAX_EVENTS);
    e = dstack_log_new(n, dstack_store_total(arr, direct, n), &log->tcg, eb);
    if (e)
        return e;
    if (!(ctx = EVP_MD_CTX_new()))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < n && !e; i++) {
        struct vouch_tcg_event *ev = &log->tcg->events[i];
        struct vouch_dstack_fields f;

        e = dstack_fields_at(arr, direct, i, &f, eb);
        if (!e)
            e = dstack_event(ctx, &f, log->tcg->raw + off, ev, eb);
        if (e) {
            char field[48];

            snprintf(field, sizeof(field), "cc_eventlog[%zu]", i);
            vouch_fail_prefix(eb, e, "dstack event %zu: ", i);
            vouch_errbuf_set_field(eb, e, field);
            break;
        }
        ev->offset = i;
        off += dstack_store_size(2 * (size_t)ev->data_len, f.name_len);
        log->tcg->n_events++;
    }
    EVP_MD_CTX_free(ctx);
    return e;
}

/* JSON (an array, or a string holding one): dstack's log; NULL when the bytes are not JSON. */
static json_t *dstack_array(const uint8_t *data, size_t len)
{
    json_t *j = NULL, *inner = NULL;
    size_t i = 0;

    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
        i++;
    if (i == len || (data[i] != '[' && data[i] != '"'))
        return NULL;
    if (vouch_json_parse(data, len, &j, NULL))
        return NULL;
    if (json_is_string(j) &&
        vouch_json_parse(json_string_value(j), json_string_length(j), &inner, NULL) == VOUCH_OK) {
        json_decref(j);
        j = inner;
    }
    if (!json_is_array(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* dstack's log read directly when it has dstack's shape, else through jansson. */
static vouch_err dstack_or_ccel_parse(const uint8_t *data, size_t len, bool direct,
                                      uint8_t **owned, struct vouch_dcap_eventlog *log,
                                      struct vouch_errbuf *eb)
{
    struct vouch_dstack_fields *fields = NULL;
    size_t n = 0;
    json_t *arr;
    vouch_err e;

    if (direct && vouch_dstack_read(data, len, &fields, &n)) {
        log->format = VOUCH_DCAP_EL_DSTACK;
        e = dstack_parse(NULL, fields, n, log, eb);
        free(fields);
    } else if ((arr = dstack_array(data, len))) {
        log->format = VOUCH_DCAP_EL_DSTACK;
        e = dstack_parse(arr, NULL, json_array_size(arr), log, eb);
        json_decref(arr);
    } else {
        log->format = VOUCH_DCAP_EL_CCEL;
        e = ccel_parse(data, len, owned, log, eb);
    }
    return e;
}

/* The log in data; owned as for ccel_parse (a CCEL takes *owned over, dstack's log does not). */
static vouch_err eventlog_parse(const uint8_t *data, size_t len, bool direct, uint8_t **owned,
                                struct vouch_dcap_eventlog **ret, struct vouch_errbuf *eb)
{
    struct vouch_dcap_eventlog *log;
    vouch_err e;

    if (len > VOUCH_DCAP_EVENTLOG_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "event log: %zu bytes, at most %u", len,
                          VOUCH_DCAP_EVENTLOG_MAX);
    log = calloc(1, sizeof(*log));
    if (!log)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = dstack_or_ccel_parse(data, len, direct, owned, log, eb);
    if (e) {
        vouch_dcap_eventlog_free(log);
        return e;
    }
    *ret = log;
    return VOUCH_OK;
}

vouch_err vouch_dcap_eventlog_parse_via(const uint8_t *data, size_t len, bool direct,
                                        struct vouch_dcap_eventlog **ret,
                                        struct vouch_errbuf *eb)
{
    return eventlog_parse(data, len, direct, NULL, ret, eb);
}

vouch_err vouch_dcap_eventlog_parse(const uint8_t *data, size_t len,
                                    struct vouch_dcap_eventlog **ret, struct vouch_errbuf *eb)
{
    return vouch_dcap_eventlog_parse_via(data, len, true, ret, eb);
}

/* ---- trustee's AA text log -------------------------------------------------- */

/* One "<domain> <operation> <content>" entry (a line, or a tagged event), appended to entries. */
static vouch_err aael_entry(json_t *entries, const char *p, size_t n, size_t line,
                            struct vouch_errbuf *eb)
{
    const char *sp1 = memchr(p, ' ', n), *sp2;
    json_t *o;

    sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p)) : NULL;
    if (!sp1 || !sp2 || sp1 == p || sp2 == sp1 + 1)
        return vouch_fail(eb, VOUCH_E_INVALID, "line %zu: not '<domain> <operation> "
                          "<content>'", line);
    o = json_pack("{s:s%, s:s%, s:s%}", "domain", p, (size_t)(sp1 - p), "operation", sp1 + 1,
                  (size_t)(sp2 - sp1 - 1), "content", sp2 + 1, n - (size_t)(sp2 + 1 - p));
    if (!o)
        return vouch_fail(eb, VOUCH_E_INVALID, "line %zu: not UTF-8", line);
    if (json_array_append_new(entries, o))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

/* The INIT line: "INIT sha384/<96 hex>". */
static vouch_err aael_init(struct vouch_dcap_eventlog *log, const char *p, size_t n,
                           struct vouch_errbuf *eb)
{
    size_t k = strlen(AAEL_INIT);

    if (n != k + 2 * VOUCH_DCAP_RTMR_SIZE || memcmp(p, AAEL_INIT, k) != 0 ||
        vouch_hex_decode_exact(p + k, n - k, log->aael_init, VOUCH_DCAP_RTMR_SIZE, NULL))
        return vouch_fail(eb, VOUCH_E_INVALID, "line 1 is not 'INIT sha384/<96 hex digits>'");
    memcpy(log->aael_final, log->aael_init, VOUCH_DCAP_RTMR_SIZE);
    return VOUCH_OK;
}

vouch_err vouch_dcap_eventlog_add_aael(struct vouch_dcap_eventlog *log, const char *text,
                                       size_t len, struct vouch_errbuf *eb)
{
    EVP_MD_CTX *ctx = NULL;
    uint8_t dg[VOUCH_DCAP_RTMR_SIZE];
    size_t pos = 0, line = 0;
    vouch_err e = VOUCH_OK;

    if (len > VOUCH_DCAP_AAEL_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "aa_eventlog: %zu bytes, at most %u", len,
                          VOUCH_DCAP_AAEL_MAX);
    json_decref(log->aael);
    if (!(log->aael = json_array()) || !(ctx = EVP_MD_CTX_new())) {
        EVP_MD_CTX_free(ctx);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    while (!e && pos < len) {
        const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;

        pos += n + 1;
        if (n && p[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;           /* blank lines (a trailing newline) extend nothing */
        if (++line > AAEL_MAX_LINES)
            e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "more than %u lines", AAEL_MAX_LINES);
        else if (line == 1)
            e = aael_init(log, p, n, eb);
        else
            e = aael_entry(log->aael, p, n, line, eb);
        if (!e)
            e = vouch_tcg_hash2(ctx, VOUCH_HASH_SHA384, p, n, NULL, 0, dg);
        if (!e)
            e = vouch_tcg_hash2(ctx, VOUCH_HASH_SHA384, log->aael_final, sizeof(dg), dg,
                                sizeof(dg), log->aael_final);
    }
    EVP_MD_CTX_free(ctx);
    if (!e && line == 0)
        e = vouch_fail(eb, VOUCH_E_INVALID, "empty log");
    if (e)
        return vouch_fail_prefix(eb, e, "aa_eventlog: ");
    log->has_aael = true;
    return VOUCH_OK;
}

/* ---- replay and compare --------------------------------------------------------- */

vouch_err vouch_dcap_eventlog_replay(const struct vouch_dcap_eventlog *log,
                                     uint8_t ret[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE],
                                     struct vouch_errbuf *eb)
{
    uint8_t r[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE];
    EVP_MD_CTX *ctx;
    vouch_err e = VOUCH_OK;
    size_t i;

    memset(r, 0, sizeof(r));
    if (!(ctx = EVP_MD_CTX_new()))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; log->tcg && i < log->tcg->n_events && !e; i++) {
        const struct vouch_tcg_event *ev = &log->tcg->events[i];
        const uint8_t *d = sha384_of(ev);
        uint8_t *reg;

        if (ev->pcr < 1 || ev->pcr >= CC_MR_COUNT || ev->type == VOUCH_EV_NO_ACTION)
            continue;           /* MRTD is measured by the TDX module, not replayed */
        if (!d) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "event %zu: no SHA-384 digest", i);
            vouch_errbuf_set_field(eb, e, "cc_eventlog");
            break;
        }
        reg = r[ev->pcr - 1];
        if (vouch_tcg_hash2(ctx, VOUCH_HASH_SHA384, reg, VOUCH_DCAP_RTMR_SIZE, d,
                            VOUCH_DCAP_RTMR_SIZE, reg))
            e = vouch_fail(eb, VOUCH_E_INTERNAL, "event log replay: digest failed");
    }
    EVP_MD_CTX_free(ctx);
    if (e)
        return e;
    if (log->has_aael) {
        if (log->tcg && memcmp(log->aael_init, r[3], VOUCH_DCAP_RTMR_SIZE) != 0) {
            e = vouch_fail_sub(eb, VOUCH_E_VERIFY, VOUCH_SUB_EVENTLOG, "aa_eventlog: the INIT "
                               "value is not RTMR3 (CC MR index 4) as cc_eventlog leaves it");
            return vouch_errbuf_set_field(eb, e, "aa_eventlog");
        }
        memcpy(r[3], log->aael_final, VOUCH_DCAP_RTMR_SIZE);
    }
    memcpy(ret, r, sizeof(r));
    return VOUCH_OK;
}

/* Which RTMRs the logs cover: 0..2 with a firmware log, 3 with either log. */
static bool rtmr_covered(const struct vouch_dcap_eventlog *log, int i)
{
    return log->tcg || (i == 3 && log->has_aael);
}

/* [{"rtmr", "replayed", "quoted", "match"}] for each RTMR the logs cover. */
static json_t *replay_report(const struct vouch_dcap_eventlog *log,
                             const uint8_t r[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE],
                             const uint8_t *rtmrs)
{
    char want[2 * VOUCH_DCAP_RTMR_SIZE + 1], have[2 * VOUCH_DCAP_RTMR_SIZE + 1];
    json_t *report = json_array();
    int i;

    for (i = 0; report && i < VOUCH_DCAP_RTMR_COUNT; i++) {
        const uint8_t *q = rtmrs + (size_t)i * VOUCH_DCAP_RTMR_SIZE;

        if (!rtmr_covered(log, i))
            continue;
        vouch_hex_encode(r[i], VOUCH_DCAP_RTMR_SIZE, want);
        vouch_hex_encode(q, VOUCH_DCAP_RTMR_SIZE, have);
        if (json_array_append_new(report, json_pack("{s:i, s:s, s:s, s:b}", "rtmr", i,
                                                    "replayed", want, "quoted", have, "match",
                                                    memcmp(r[i], q, VOUCH_DCAP_RTMR_SIZE) == 0))) {
            json_decref(report);
            return NULL;
        }
    }
    return report;
}

vouch_err vouch_dcap_eventlog_verify(const struct vouch_dcap_eventlog *log, const uint8_t *rtmrs,
                                     json_t **ret_report, struct vouch_errbuf *eb)
{
    uint8_t r[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE];
    char want[2 * VOUCH_DCAP_RTMR_SIZE + 1], have[2 * VOUCH_DCAP_RTMR_SIZE + 1];
    json_t *report = NULL;
    int i, first = -1, ndiff = 0;
    vouch_err e;

    e = vouch_dcap_eventlog_replay(log, r, eb);
    if (e)
        return e;
    for (i = 0; i < VOUCH_DCAP_RTMR_COUNT; i++)
        if (rtmr_covered(log, i) &&
            memcmp(r[i], rtmrs + (size_t)i * VOUCH_DCAP_RTMR_SIZE, VOUCH_DCAP_RTMR_SIZE) &&
            ndiff++ == 0)
            first = i;
    /* the report only when asked for (the verifier's step does not): it was a tenth of it */
    if (ret_report && !(report = replay_report(log, r, rtmrs)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (first >= 0) {
        vouch_hex_encode(r[first], VOUCH_DCAP_RTMR_SIZE, want);
        vouch_hex_encode(rtmrs + (size_t)first * VOUCH_DCAP_RTMR_SIZE, VOUCH_DCAP_RTMR_SIZE,
                         have);
        e = vouch_fail_sub(eb, VOUCH_E_VERIFY, VOUCH_SUB_EVENTLOG, "RTMR%d (CC MR index %d) "
                           "replays to %.16s..., the quote has %.16s...%s", first, first + 1,
                           want, have, ndiff > 1 ? " (and more RTMRs differ)" : "");
        vouch_errbuf_set_field(eb, e, first == 3 && log->has_aael ? "aa_eventlog"
                                                                  : "cc_eventlog");
    }
    if (ret_report)
        *ret_report = report;
    return e;
}

/* ---- claims ----------------------------------------------------------------------- */

/* A file name in GRUB's log: the text of an EV_IPL, not NUL-terminated. */
struct grub_path {
    const char *s;
    size_t n;
};

/* What the boot events say about the kernel, initrd and command line (old trustee "ccel"). */
struct boot_facts {
    const uint8_t *kernel, *cmdline, *initrd;   /* SHA-384 digests */
    const uint8_t *grub_cmdline;                /* GRUB's "kernel_cmdline: " event's */
    const char *cmdline_text;
    size_t cmdline_len;
    struct grub_path grub_linux, grub_initrd;   /* what the last linux, initrd loaded */
};

/* td-shim's td_payload_info: the kernel command line as text. */
static void payload_info_cmdline(const struct vouch_tcg_event *ev, struct boot_facts *f)
{
    struct vouch_reader r;
    const uint8_t *text;
    uint32_t n;

    vouch_reader_init(&r, ev->data, ev->data_len);
    if (ev->data_len < TD_PAYLOAD_INFO_HDR ||
        memcmp(ev->data, td_payload_info, sizeof(td_payload_info)) != 0 ||
        vouch_reader_skip(&r, sizeof(td_payload_info)) || vouch_reader_u32le(&r, &n))
        return;
    if (n > vouch_reader_left(&r))
        n = (uint32_t)vouch_reader_left(&r);
    if (vouch_reader_bytes(&r, n, &text))
        return;
    f->cmdline_text = (const char *)text;
    f->cmdline_len = strnlen((const char *)text, n);
}

/* GRUB measures into PCR 8 and 9, which TDX maps to RTMR2: CC MR index 3. */
#define GRUB_MR_INDEX 3

/* "<command>PATH ...": PATH into *ret; false for another command. */
static bool grub_command_path(const char *s, size_t n, const char *command,
                              struct grub_path *ret)
{
    size_t k = strlen(command), end;

    if (n <= k || memcmp(s, command, k) != 0)
        return false;
    for (end = k; end < n && s[end] != ' '; end++)
        ;
    ret->s = s + k;
    ret->n = end - k;
    return true;
}

static bool grub_path_is(const struct grub_path *p, const char *s, size_t n)
{
    return p->n && p->n == n && memcmp(p->s, s, n) == 0;
}

/*
 * GRUB logs each command it runs as an EV_IPL "grub_cmd: ...", and each file
 * it reads as an EV_IPL whose data is the file's name, NUL-terminated, and
 * whose digest is the file's.  The kernel is the file the last "linux" (or
 * "linuxefi") command named; the initrd the first file of the last "initrd"
 * (or "initrdefi").
 */
static void grub_fact(const struct vouch_tcg_event *ev, const uint8_t *d, struct boot_facts *f)
{
    const char *s = (const char *)ev->data;
    size_t n = ev->data_len;

    if (ev->pcr != GRUB_MR_INDEX)
        return;
    while (n > 0 && s[n - 1] == 0)
        n--;
    if (grub_command_path(s, n, "grub_cmd: linux ", &f->grub_linux) ||
        grub_command_path(s, n, "grub_cmd: linuxefi ", &f->grub_linux) ||
        grub_command_path(s, n, "grub_cmd: initrd ", &f->grub_initrd) ||
        grub_command_path(s, n, "grub_cmd: initrdefi ", &f->grub_initrd))
        return;
    if (grub_path_is(&f->grub_linux, s, n))
        f->kernel = d;
    else if (grub_path_is(&f->grub_initrd, s, n))
        f->initrd = d;
}

static void boot_fact(const struct vouch_tcg_event *ev, const json_t *det, struct boot_facts *f)
{
    const char *s = json_string_value(json_object_get(det, "string"));
    const char *dp = json_string_value(json_object_get(det, "device_path"));
    const uint8_t *d = sha384_of(ev);

    if (!d)
        return;
    if (ev->type == VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION) {
        if (dp && strstr(dp, "File(kernel)"))     /* QEMU's direct kernel boot */
            f->kernel = d;
    } else if (ev->type == VOUCH_EV_EFI_PLATFORM_FIRMWARE_BLOB2 && s &&
               strcmp(s, "td_payload") == 0) {
        f->kernel = d;
    } else if (ev->type == VOUCH_EV_EVENT_TAG && s) {
        if (strcmp(s, "LOADED_IMAGE::LoadOptions") == 0)
            f->cmdline = d;
        else if (strcmp(s, "Linux initrd") == 0)
            f->initrd = d;
    } else if (ev->type == VOUCH_EV_PLATFORM_CONFIG_FLAGS) {
        payload_info_cmdline(ev, f);
    } else if (ev->type == VOUCH_EV_IPL && s && strncmp(s, "kernel_cmdline: ", 16) == 0) {
        f->cmdline_text = s + 16;
        f->cmdline_len = strlen(s + 16);
        f->grub_cmdline = d;
    } else if (ev->type == VOUCH_EV_IPL) {
        grub_fact(ev, d, f);
    }
}

/*
 * One parameter ("k=v", "k", "\"k=a b\""), quotes dropped, into o.  The
 * TD payload's command line is raw bytes: bytes of key and value that are
 * not UTF-8 are shown as %XX, as in kernel_cmdline.  A parameter fits the
 * stack buffer nearly always; a longer one is copied to the heap.
 */
static vouch_err kernel_parameter(json_t *o, const char *p, size_t n)
{
    char small[256], *tok = n < sizeof(small) ? small : malloc(n + 1), *eq;
    json_t *v = NULL, *escaped = NULL;
    vouch_err e = VOUCH_E_NOMEM;
    size_t i, k = 0;

    if (!tok)
        return VOUCH_E_NOMEM;
    for (i = 0; i < n; i++)
        if (p[i] != '"')
            tok[k++] = p[i];
    tok[k] = 0;
    eq = memchr(tok, '=', k);
    if (eq)
        *eq = 0;
    if (!*tok) {
        e = VOUCH_OK;
        goto out;
    }
    v = eq ? vouch_json_text(eq + 1, k - (size_t)(eq + 1 - tok)) : json_null();
    if (!v)
        goto out;
    if (json_object_set(o, tok, v) == 0) {
        e = VOUCH_OK;
        goto out;
    }
    /* jansson refuses a key that is not UTF-8: the key escaped */
    escaped = vouch_json_text(tok, strlen(tok));
    if (escaped && json_object_set(o, json_string_value(escaped), v) == 0)
        e = VOUCH_OK;
out:
    json_decref(escaped);
    json_decref(v);
    if (tok != small)
        free(tok);
    return e;
}

/*
 * The kernel's parameters as the kernel splits them: on spaces outside
 * double quotes.  "k=v k2" -> {"k": "v", "k2": null}; the last of a
 * repeated key wins.  A leading image path (GRUB's "/vmlinuz ...") is not
 * a parameter.
 */
static json_t *kernel_parameters(const char *s, size_t n)
{
    json_t *o = json_object();
    size_t i = 0, start;
    bool quoted, first = true;

    while (o && i < n) {
        while (i < n && s[i] == ' ')
            i++;
        start = i;
        for (quoted = false; i < n && (quoted || s[i] != ' '); i++)
            if (s[i] == '"')
                quoted = !quoted;
        if (i > start && !(first && s[start] == '/') &&
            kernel_parameter(o, s + start, i - start)) {
            json_decref(o);
            return NULL;
        }
        first = false;
    }
    return o;
}

/*
 * The command line's digest is the Linux EFI stub's LoadOptions tag where the
 * log has one (what the kernel was given), else GRUB's kernel_cmdline event's.
 */
static vouch_err ccel_facts_claims(const struct boot_facts *f, json_t *claims)
{
    const uint8_t *cmdline = f->cmdline ? f->cmdline : f->grub_cmdline;
    json_t *c = json_object();

    if (!c || vouch_json_set_new(claims, "ccel", c))
        return VOUCH_E_NOMEM;
    if ((f->kernel && vouch_json_set_hex(c, "kernel", f->kernel, VOUCH_DCAP_RTMR_SIZE)) ||
        (cmdline && vouch_json_set_hex(c, "cmdline", cmdline, VOUCH_DCAP_RTMR_SIZE)) ||
        (f->initrd && vouch_json_set_hex(c, "initrd", f->initrd, VOUCH_DCAP_RTMR_SIZE)))
        return VOUCH_E_NOMEM;
    if (f->cmdline_text) {
        if (vouch_json_set_text(c, "kernel_cmdline", f->cmdline_text, f->cmdline_len) ||
            vouch_json_set_new(c, "kernel_parameters",
                               kernel_parameters(f->cmdline_text, f->cmdline_len)))
            return VOUCH_E_NOMEM;
    }
    return VOUCH_OK;
}

/* A runtime event's payload: text when it is printable UTF-8, else hex. */
static json_t *payload_json(const struct vouch_tcg_event *ev)
{
    uint32_t i;

    for (i = 0; i < ev->data_len; i++)
        if (ev->data[i] < 0x20 || ev->data[i] == 0x7f)
            return vouch_tcg_json_hex(ev->data, ev->data_len);
    {
        json_t *s = json_stringn((const char *)ev->data, ev->data_len);

        return s ? s : vouch_tcg_json_hex(ev->data, ev->data_len);
    }
}

/*
 * The AA's current log format: TCG_PCR_EVENT2 records at CC MR index 4 of
 * type EV_EVENT_TAG, tag id "LEAA" (0x4141454C), the tag data the text
 * "<domain> <operation> <content>" (appended to the CCEL by the attester).
 * Malformed ones give no entry.
 */
#define AAEL_TAG_ID 0x4141454Cu
static void tagged_aael_entry(const struct vouch_tcg_event *ev, json_t *entries)
{
    struct vouch_reader r;
    const uint8_t *text;
    uint32_t id, size;

    if (ev->type != VOUCH_EV_EVENT_TAG || ev->pcr != 4)
        return;
    vouch_reader_init(&r, ev->data, ev->data_len);
    if (vouch_reader_u32le(&r, &id) || id != AAEL_TAG_ID || vouch_reader_u32le(&r, &size) ||
        vouch_reader_bytes(&r, size, &text))
        return;
    (void)aael_entry(entries, (const char *)text, size, 0, NULL);
}

/* Is ev one of dstack's runtime events (not in uefi_event_logs, they have their own claims)? */
static bool dstack_runtime_event(const struct vouch_dcap_eventlog *log,
                                 const struct vouch_tcg_event *ev)
{
    return log->format == VOUCH_DCAP_EL_DSTACK && ev->type == DSTACK_RUNTIME_EVENT;
}

/*
 * Events whose decoded details boot_fact() reads (the others it reads raw,
 * or not).  Of the EV_IPL events (GRUB logs every command) only GRUB's
 * "kernel_cmdline: " is read decoded: the details' text is the data as ASCII
 * or as UTF-16, so any other first character rules it out.  grub_fact()
 * reads the others raw.
 */
static bool details_make_boot_fact(const struct vouch_tcg_event *ev)
{
    if (ev->type == VOUCH_EV_IPL)
        return ev->data_len >= 16 && ev->data[0] == 'k';
    return ev->type == VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION ||
           ev->type == VOUCH_EV_EFI_PLATFORM_FIRMWARE_BLOB2 || ev->type == VOUCH_EV_EVENT_TAG;
}

/* One event's share of the derived claims: its boot fact, or its runtime_events entry. */
static vouch_err event_fact(const struct vouch_dcap_eventlog *log,
                            const struct vouch_tcg_event *ev, json_t *runtime, json_t *held,
                            json_t *aa_entries, struct boot_facts *f)
{
    json_t *det = NULL;

    if (dstack_runtime_event(log, ev)) {
        /* dstack_event stored the event's name, NUL-terminated, right after its data */
        const char *name = (const char *)ev->data + ev->data_len;

        return json_object_set_new(runtime, name, payload_json(ev))
                   ? VOUCH_E_NOMEM : VOUCH_OK;
    }
    /* f keeps pointers into det: `held` keeps det alive until the facts are claims */
    if (details_make_boot_fact(ev) &&
        (vouch_tcg_event_details(log->tcg, ev, VOUCH_TCG_CLAIMS_NO_SIGNATURES, &det) ||
         json_array_append_new(held, det)))
        return VOUCH_E_NOMEM;
    tagged_aael_entry(ev, aa_entries);
    boot_fact(ev, det, f);
    return VOUCH_OK;
}

/*
 * ccel and runtime_events from the TCG (or dstack) events; tagged AA
 * entries into aa_entries.  Only the events these read are decoded: the
 * per-event list is event_list()'s.
 */
static vouch_err event_claims(const struct vouch_dcap_eventlog *log, json_t *claims,
                              json_t *aa_entries)
{
    json_t *runtime = json_object(), *held = json_array();
    struct boot_facts f;
    vouch_err e = VOUCH_E_NOMEM;
    size_t i;

    memset(&f, 0, sizeof(f));
    if (!runtime || !held)
        goto out;
    for (i = 0; i < log->tcg->n_events; i++) {
        if (log->format == VOUCH_DCAP_EL_CCEL && i == 0)
            continue;           /* the Spec ID header */
        if (event_fact(log, &log->tcg->events[i], runtime, held, aa_entries, &f))
            goto out;
    }
    if (log->format == VOUCH_DCAP_EL_DSTACK && json_object_set(claims, "runtime_events", runtime))
        goto out;
    e = ccel_facts_claims(&f, claims);
out:
    json_decref(runtime);
    json_decref(held);
    return e;
}

/* uefi_event_logs: every firmware event in trustee's shape (the Spec ID header and
 * dstack's runtime events left out). */
static vouch_err event_list(const struct vouch_dcap_eventlog *log, json_t *claims)
{
    json_t *events = json_array(), *c;
    size_t i;

    if (!events || vouch_json_set_new(claims, "uefi_event_logs", events))
        return VOUCH_E_NOMEM;
    for (i = 0; i < log->tcg->n_events; i++) {
        const struct vouch_tcg_event *ev = &log->tcg->events[i];

        if ((log->format == VOUCH_DCAP_EL_CCEL && i == 0) || dstack_runtime_event(log, ev))
            continue;
        /* trustee's shape: variable data raw, Secure Boot lists not decoded (cost) */
        if (vouch_tcg_event_claims(log->tcg, ev, VOUCH_TCG_CLAIMS_NO_SIGNATURES, &c) ||
            json_array_append_new(events, c))
            return VOUCH_E_NOMEM;
    }
    return VOUCH_OK;
}

/* aael: [{domain, operation, content}] -> {"domain/operation": [content], domain: {operation: [content]}}. */
static vouch_err aael_claims(const json_t *entries, json_t *claims)
{
    json_t *out = json_object(), *o;
    size_t i;

    if (!out || vouch_json_set_new(claims, "aael", out))
        return VOUCH_E_NOMEM;
    json_array_foreach(entries, i, o) {
        const char *dom = json_string_value(json_object_get(o, "domain"));
        const char *op = json_string_value(json_object_get(o, "operation"));
        json_t *content = json_object_get(o, "content"), *d, *a, *flat;
        char *key = NULL;

        if (!(d = json_object_get(out, dom))) {
            if (json_object_set_new(out, dom, d = json_object()) || !json_is_object(d))
                return VOUCH_E_NOMEM;
        }
        if (!json_is_object(d))
            continue;           /* a "domain/operation" key equal to a domain name */
        if (!(a = json_object_get(d, op)) && json_object_set_new(d, op, a = json_array()))
            return VOUCH_E_NOMEM;
        if (json_array_append(a, content) || asprintf(&key, "%s/%s", dom, op) < 0)
            return VOUCH_E_NOMEM;
        flat = json_object_get(out, key);
        if (!flat && json_object_set_new(out, key, flat = json_array()))
            flat = NULL;
        free(key);
        if (!json_is_array(flat) || json_array_append(flat, content))
            return VOUCH_E_NOMEM;
    }
    return VOUCH_OK;
}

vouch_err vouch_dcap_eventlog_derived_claims(const struct vouch_dcap_eventlog *log,
                                             json_t *claims, struct vouch_errbuf *eb)
{
    json_t *info, *aa = NULL;
    vouch_err e = VOUCH_OK;

    if (!log || !log->tcg)
        info = json_pack("{s:b, s:b}", "present", 0, "aa_eventlog", log && log->has_aael);
    else
        info = json_pack("{s:b, s:s, s:I, s:b}", "present", 1, "format",
                         log->format == VOUCH_DCAP_EL_DSTACK ? "dstack" : "ccel", "events",
                         (json_int_t)log->tcg->n_events, "aa_eventlog", log->has_aael);
    if (vouch_json_set_new(claims, "eventlog", info) || !(aa = json_array()))
        e = VOUCH_E_NOMEM;
    if (!e && log && log->tcg)
        e = event_claims(log, claims, aa);
    if (!e && log && log->has_aael && json_array_extend(aa, log->aael))
        e = VOUCH_E_NOMEM;
    if (!e && json_array_size(aa))
        e = aael_claims(aa, claims);
    json_decref(aa);
    return e ? vouch_fail(eb, e, "event log claims: out of memory") : VOUCH_OK;
}

vouch_err vouch_dcap_eventlog_event_list(const struct vouch_dcap_eventlog *log, json_t *claims,
                                         struct vouch_errbuf *eb)
{
    if (!log || !log->tcg)
        return VOUCH_OK;
    if (event_list(log, claims))
        return vouch_fail(eb, VOUCH_E_NOMEM, "event log claims: out of memory");
    return VOUCH_OK;
}

vouch_err vouch_dcap_eventlog_claims(const struct vouch_dcap_eventlog *log, json_t *claims,
                                     struct vouch_errbuf *eb)
{
    vouch_err e = vouch_dcap_eventlog_derived_claims(log, claims, eb);

    return e ? e : vouch_dcap_eventlog_event_list(log, claims, eb);
}

/* ---- the tdx verifier's step ---------------------------------------------------------- */

/* A base64 member (standard or URL-safe, padding optional); *ret NULL when absent/null/"". */
static vouch_err b64_member(const json_t *doc, const char *key, size_t max, uint8_t **ret,
                            size_t *ret_len, struct vouch_errbuf *eb)
{
    const json_t *v = json_object_get(doc, key);
    const char *s;
    size_t n;

    *ret = NULL;
    *ret_len = 0;
    if (!v || json_is_null(v))
        return VOUCH_OK;
    if (!json_is_string(v))
        return vouch_fail_field(eb, VOUCH_E_INVALID, key, "'%s' is not a string", key);
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0)
        return VOUCH_OK;
    if (vouch_b64_decode(s, n, VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL, max, ret, ret_len,
                         NULL) == VOUCH_OK ||
        vouch_b64_decode(s, n, VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL, max, ret, ret_len,
                         NULL) == VOUCH_OK)
        return VOUCH_OK;
    return vouch_fail_field(eb, VOUCH_E_INVALID, key, "'%s' is not base64 of at most %zu "
                            "bytes", key, max);
}

/* A malformed log is the caller's input at fault: 400, naming the field. */
static vouch_err input_fault(struct vouch_errbuf *eb, vouch_err e, const char *field)
{
    if (e == VOUCH_E_VERIFY || e == VOUCH_E_NOMEM || e == VOUCH_E_INTERNAL)
        return e;
    if (!eb || !eb->field[0])
        vouch_errbuf_set_field(eb, VOUCH_E_INVALID, field);
    return VOUCH_E_INVALID;
}

/* The AA log: plain text ("INIT ..."), or base64 of it. */
static vouch_err add_aael_member(const json_t *doc, struct vouch_dcap_eventlog *log,
                                 struct vouch_errbuf *eb)
{
    const json_t *v = json_object_get(doc, "aa_eventlog");
    uint8_t *raw = NULL;
    size_t n;
    vouch_err e;

    if (json_is_string(v) && strncmp(json_string_value(v), "INIT ", 5) == 0)
        return vouch_dcap_eventlog_add_aael(log, json_string_value(v), json_string_length(v), eb);
    e = b64_member(doc, "aa_eventlog", VOUCH_DCAP_AAEL_MAX, &raw, &n, eb);
    if (!e && raw)
        e = vouch_dcap_eventlog_add_aael(log, (const char *)raw, n, eb);
    free(raw);
    return e;
}

vouch_err vouch_dcap_eventlog_evidence(const json_t *doc, const struct vouch_dcap_quote *q,
                                       json_t *claims, struct vouch_dcap_eventlog **ret_log,
                                       struct vouch_errbuf *eb)
{
    struct vouch_dcap_eventlog *log = NULL;
    const json_t *aa = json_object_get(doc, "aa_eventlog");
    uint8_t *raw = NULL;
    size_t n;
    vouch_err e;

    e = b64_member(doc, "cc_eventlog", VOUCH_DCAP_EVENTLOG_MAX, &raw, &n, eb);
    if (e)
        return e;
    if (raw)
        e = eventlog_parse(raw, n, true, &raw, &log, eb);   /* a CCEL keeps raw: no copy */
    else if (aa && !json_is_null(aa) && !(log = calloc(1, sizeof(*log))))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    free(raw);
    if (e) {
        e = input_fault(eb, e, "cc_eventlog");
        return vouch_fail_prefix(eb, e, "cc_eventlog: ");
    }
    if (log && (e = add_aael_member(doc, log, eb)))
        e = input_fault(eb, e, "aa_eventlog");
    if (!e && log)
        e = vouch_dcap_eventlog_verify(log, q->body + VOUCH_DCAP_TD_RTMR0, NULL, eb);
    if (!e)
        e = ret_log ? vouch_dcap_eventlog_derived_claims(log, claims, eb)
                    : vouch_dcap_eventlog_claims(log, claims, eb);
    if (!e && ret_log) {
        *ret_log = log;
        log = NULL;
    }
    vouch_dcap_eventlog_free(log);
    return e;
}
