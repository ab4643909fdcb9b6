/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The events of a TCG event log that extended given PCRs, decoded into a
 * short description each (pcr_events.h).  The decoding is the TCG core's
 * (vouch_tcg_event_claims); this only picks the part worth a line.
 */
#include <stdio.h>
#include <string.h>

#include "common/codec.h"
#include "crypto/digest.h"
#include "evidence/tcg/eventlog.h"
#include "evidence/tcg/tcg.h"
#include "vtpm/pcr_events.h"

#define TPM_PCRS 24
#define TPM_ALG_SHA256 0x000b

/* The claims' detail that says what the event is, cut to the text cap. */
static json_t *description_of(const struct vouch_tcg_eventlog *log,
                              const struct vouch_tcg_event *ev)
{
    static const char *const keys[] = { "unicode_name", "device_path", "string" };
    char text[VOUCH_VTPM_PCR_EVENT_TEXT_MAX + 1] = "";
    json_t *claims = NULL, *det, *v;
    size_t i, n;

    if (vouch_tcg_event_claims(log, ev, VOUCH_TCG_CLAIMS_NO_SIGNATURES, &claims))
        return json_string("");
    det = json_object_get(claims, "details");
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        v = json_object_get(det, keys[i]);
        if (json_is_string(v) && json_string_length(v)) {
            n = json_string_length(v);
            if (n > VOUCH_VTPM_PCR_EVENT_TEXT_MAX)
                n = VOUCH_VTPM_PCR_EVENT_TEXT_MAX;
            while (n > 0 && n < json_string_length(v) &&
                   ((unsigned char)json_string_value(v)[n] & 0xc0) == 0x80)
                n--;                          /* not inside a UTF-8 sequence */
            memcpy(text, json_string_value(v), n);
            text[n] = '\0';
            break;
        }
    }
    json_decref(claims);
    return json_string(text);
}

/* The event's sha256 digest in hex, else its first digest's. */
static json_t *digest_of(const struct vouch_tcg_event *ev)
{
    char hex[2 * VOUCH_HASH_MAX_SIZE + 1] = "";
    uint32_t i, pick = 0;

    if (ev->n_digests == 0)
        return json_string("");
    for (i = 0; i < ev->n_digests; i++)
        if (ev->digests[i].alg == TPM_ALG_SHA256)
            pick = i;
    if (ev->digests[pick].size > VOUCH_HASH_MAX_SIZE)
        return json_string("");
    vouch_hex_encode(ev->digests[pick].bytes, ev->digests[pick].size, hex);
    return json_string(hex);
}

static json_t *event_json(const struct vouch_tcg_eventlog *log, size_t num)
{
    const struct vouch_tcg_event *ev = &log->events[num];
    const char *type = vouch_tcg_event_type_name(ev->type);
    char unknown[16];

    if (!type) {
        snprintf(unknown, sizeof(unknown), "0x%08x", (unsigned)ev->type);
        type = unknown;
    }
    return json_pack("{s:I,s:s,s:o,s:o}", "EventNum", (json_int_t)num, "Type", type, "Digest",
                     digest_of(ev), "Description", description_of(log, ev));
}

/* Add event `num` under its PCR's entry (made on first use). */
static vouch_err add_event(json_t *out, const struct vouch_tcg_eventlog *log, size_t num)
{
    char name[8];
    json_t *pcr, *events, *ev;

    snprintf(name, sizeof(name), "pcr%u", (unsigned)log->events[num].pcr);
    pcr = json_object_get(out, name);
    if (!pcr) {
        pcr = json_pack("{s:[],s:I}", "Events", "Omitted", (json_int_t)0);
        if (!pcr || json_object_set_new(out, name, pcr))
            return VOUCH_E_NOMEM;
    }
    events = json_object_get(pcr, "Events");
    if (json_array_size(events) >= VOUCH_VTPM_PCR_EVENTS_PER_PCR)
        return json_object_set_new(pcr, "Omitted",
                                   json_integer(json_integer_value(
                                                    json_object_get(pcr, "Omitted")) + 1))
                   ? VOUCH_E_NOMEM : VOUCH_OK;
    ev = event_json(log, num);
    return ev && !json_array_append_new(events, ev) ? VOUCH_OK : VOUCH_E_NOMEM;
}

vouch_err vouch_vtpm_pcr_events(const uint8_t *log, size_t len, uint32_t pcr_mask, json_t **ret,
                                struct vouch_errbuf *eb)
{
    struct vouch_tcg_eventlog *el = NULL;
    json_t *out = NULL;
    size_t i;
    vouch_err e = vouch_tcg_eventlog_parse(log, len, TPM_PCRS, &el, eb);

    if (e)
        goto out;
    out = json_object();
    if (!out) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; !e && i < el->n_events; i++) {
        const struct vouch_tcg_event *ev = &el->events[i];

        if (ev->type == VOUCH_EV_NO_ACTION || ev->pcr >= 32 || !(pcr_mask & (1u << ev->pcr)))
            continue;
        if (add_event(out, el, i))
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (!e) {
        *ret = out;
        out = NULL;
    }
out:
    json_decref(out);
    vouch_tcg_eventlog_free(el);
    return e;
}
