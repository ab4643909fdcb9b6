/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The system whitelist (PCR baseline) and events: DescribeBoot,
 * DescribeEvents, TrustEvents (the reported values become the baseline)
 * and IgnoreEvents (the event closes, the baseline stays).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "server/vtpm.h"
#include "vtpm/whitelist.h"

#define EVENTS_PAGE_DEFAULT 10
#define EVENTS_PAGE_MAX 100
#define HANDLE_MAX 100
#define OPEN_PCRS_MAX 100

bool vouch_vtpm_open_pcrs(struct vouch_vtpm_call *c, const char *uuid, json_t *ext)
{
    struct vouch_store_event_filter f = VOUCH_STORE_EVENT_FILTER_ANY;
    struct vouch_store_event *ev = NULL;
    struct vouch_errbuf eb;
    uint64_t total = 0;
    size_t n = 0, i;
    bool ok = true;

    f.instance = uuid;
    f.type = VOUCH_STORE_EVENT_SYSTEM;
    f.status = VOUCH_STORE_EVENT_OPEN;
    if (vouch_store_event_list(c->app->store, c->account, &f, 0, OPEN_PCRS_MAX, &ev, &n, &total,
                               &eb))
        return false;
    for (i = 0; ok && i < n; i++)      /* newest first: the newest value per PCR wins */
        if (!json_object_get(ext, ev[i].suspect))
            ok = json_object_set_new(ext, ev[i].suspect, json_string(ev[i].suspect_value)) == 0;
    vouch_store_events_free(ev, n);
    return ok;
}

json_t *vouch_vtpm_describe_boot(struct vouch_vtpm_call *c)
{
    struct vouch_store_instance *in = NULL;
    struct vouch_store_vtpm_state st;
    struct vouch_errbuf eb;
    struct vouch_store_report_row *row = NULL;
    json_t *last = NULL, *out = NULL;
    char created[24], modified[24];
    uint64_t total = 0;
    size_t n = 0;
    bool ok;
    vouch_err e;
    const char *uuid = vouch_vtpm_param_str(c, "PropertyUuid", true, VOUCH_STORE_NAME_MAX, &ok);

    if (!ok || !vouch_vtpm_own_instance(c, uuid, &in))
        return NULL;
    e = vouch_store_vtpm_state_get(c->app->store, uuid, &st, &eb);
    if (!e)
        e = vouch_store_report_list(c->app->store, uuid, 0, 1, 1, &row, &n, &total, &eb);
    if (e == VOUCH_E_NOT_FOUND || (!e && (st.whitelist_id < 0 || n == 0))) {
        vouch_vtpm_fail(c, VOUCH_RPC_NO_REPORT, "(%.128s)", uuid);
        goto out;
    }
    if (!e)
        e = vouch_json_parse(row->summary, strlen(row->summary), &last, &eb);
    if (!e && !vouch_vtpm_pcr_events_merge(last, row->pcr_events))
        e = VOUCH_E_INTERNAL;
    if (e) {
        vouch_vtpm_fail(c, vouch_rpc_error_of(e) == VOUCH_RPC_UNAVAILABLE
                               ? VOUCH_RPC_UNAVAILABLE : VOUCH_RPC_INTERNAL, "%s", "");
        goto out;
    }
    json_object_set_new(last, "GmtReport", json_integer(row->received_ms));
    snprintf(created, sizeof(created), "%lld", (long long)st.whitelist_created_ms);
    snprintf(modified, sizeof(modified), "%lld", (long long)st.whitelist_modified_ms);
    out = json_pack("{s:I,s:s,s:I,s:s,s:s,s:I,s:O}", "Id", (json_int_t)st.whitelist_id,
                    "WhiteListDetail", in->system_detail, "WhiteListAffiliation",
                    (json_int_t)in->affiliation, "GmtCreate", created, "GmtModified", modified,
                    "Reports", (json_int_t)st.reports, "LastReport", last);
    if (!out)
        vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
out:
    json_decref(last);
    vouch_store_report_rows_free(row, n);
    vouch_store_instance_free(in);
    return out;
}

/* DescribeEvents' filters. */
static bool events_filter(struct vouch_vtpm_call *c, struct vouch_store_event_filter *f)
{
    static const char *const unsupported[] = { "PropertyName", "PropertyPrivateIp",
                                               "PropertyPublicIp", "SuspectSig" };
    bool ok = true;
    size_t i;

    for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        if (vouch_vtpm_param_str(c, unsupported[i], false, 1, &ok) || !ok)
            return vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(filtering by %s is not "
                                   "supported; filter by PropertyUuid)", unsupported[i]), false;
    f->instance = vouch_vtpm_param_str(c, "PropertyUuid", false, VOUCH_STORE_NAME_MAX, &ok);
    if (ok)
        f->suspect = vouch_vtpm_param_str(c, "Suspect", false, VOUCH_STORE_FIELD_MAX, &ok);
    return ok && (!f->instance || vouch_vtpm_own_instance(c, f->instance, NULL)) &&
           vouch_vtpm_param_int(c, "EventType", 1, 2, -1, &f->type) &&
           vouch_vtpm_param_int(c, "EventLevel", 1, 3, -1, &f->level) &&
           vouch_vtpm_param_int(c, "EventStatus", 1, 3, -1, &f->status) &&
           vouch_vtpm_param_int(c, "HandleType", 0, 2, -1, &f->handle_type) &&
           vouch_vtpm_param_int(c, "CreateStartDate", 0, INT64_MAX, 0, &f->created_from) &&
           vouch_vtpm_param_int(c, "CreateEndDate", 0, INT64_MAX, 0, &f->created_to) &&
           vouch_vtpm_param_int(c, "HandleStartDate", 0, INT64_MAX, 0, &f->handled_from) &&
           vouch_vtpm_param_int(c, "HandleEndDate", 0, INT64_MAX, 0, &f->handled_to);
}

/* One Items element: the SDK carries the numbers as strings. */
static json_t *event_json(const struct vouch_store_event *ev,
                          const struct vouch_store_instance *in)
{
    char num[5][24];

    snprintf(num[0], 24, "%lld", (long long)ev->type);
    snprintf(num[1], 24, "%lld", (long long)ev->level);
    snprintf(num[2], 24, "%lld", (long long)ev->status);
    snprintf(num[3], 24, "%lld", (long long)ev->handle_type);
    snprintf(num[4], 24, "%lld", (long long)ev->accumulation);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}",
                     "EventUuid", ev->uuid, "EventType", num[0], "EventLevel", num[1],
                     "EventStatus", num[2], "EventAffiliation", "0", "HandleType", num[3],
                     "Accumulation", num[4], "Suspect", ev->suspect, "SuspectSig",
                     ev->suspect_value, "SuspectWhiteList", ev->whitelist_value,
                     "PropertyUuid", ev->instance, "PropertyName", in ? in->name : "",
                     "PropertyPrivateIp", in ? in->private_ip : "", "PropertyPublicIp",
                     in ? in->public_ip : "", "GmtCreate", (json_int_t)ev->created_ms,
                     "GmtModified", (json_int_t)ev->modified_ms, "GmtHandle",
                     (json_int_t)ev->handled_ms);
}

/* The items of one page, with each event's instance identity. */
static json_t *event_items(struct vouch_vtpm_call *c, const struct vouch_store_event *ev,
                           size_t n)
{
    struct vouch_store_instance *in = NULL;
    struct vouch_errbuf eb;
    json_t *items = json_array();
    size_t i;

    for (i = 0; items && i < n; i++) {
        if (!in || strcmp(in->uuid, ev[i].instance) != 0) {
            vouch_store_instance_free(in);
            in = NULL;
            (void)vouch_store_instance_get(c->app->store, ev[i].instance, &in, &eb);
        }
        if (json_array_append_new(items, event_json(&ev[i], in))) {
            json_decref(items);
            items = NULL;
        }
    }
    vouch_store_instance_free(in);
    return items;
}

json_t *vouch_vtpm_describe_events(struct vouch_vtpm_call *c)
{
    struct vouch_store_event_filter f = VOUCH_STORE_EVENT_FILTER_ANY;
    struct vouch_store_event *ev = NULL;
    struct vouch_errbuf eb;
    int64_t size, page;
    uint64_t total = 0;
    json_t *items, *out = NULL;
    size_t n = 0;
    vouch_err e;

    if (!vouch_vtpm_param_int(c, "PageSize", 1, EVENTS_PAGE_MAX, EVENTS_PAGE_DEFAULT, &size) ||
        !vouch_vtpm_param_page(c, "CurrentPage", &page) ||
        !events_filter(c, &f))
        return NULL;
    e = vouch_store_event_list(c->app->store, c->account, &f, (uint64_t)(page - 1) *
                               (uint64_t)size, (size_t)size, &ev, &n, &total, &eb);
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
    items = event_items(c, ev, n);
    vouch_store_events_free(ev, n);
    if (items)
        out = json_pack("{s:I,s:I,s:I,s:o}", "TotalCount", (json_int_t)total, "CurrentPage",
                        (json_int_t)page, "PageSize", (json_int_t)size, "Items", items);
    return out ? out : vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
}

/*
 * Trusting a program event allows its file's reported digest in the
 * instance's program whitelist (before the event closes, so a failure
 * leaves it open to retry; allowing is idempotent).  An event whose
 * instance has no whitelist any more just closes.
 */
static bool program_events_trust(struct vouch_vtpm_call *c, const char *const *uuids, size_t n)
{
    struct vouch_errbuf eb;
    size_t i;

    for (i = 0; i < n; i++) {
        struct vouch_store_event *ev = NULL;
        struct vouch_store_instance *in = NULL;
        vouch_err e = vouch_store_event_get(c->app->store, c->account, uuids[i], &ev, &eb);

        if (e == VOUCH_E_NOT_FOUND || e == VOUCH_E_INVALID)
            continue;                  /* events_handle names it */
        if (!e && ev->type == VOUCH_STORE_EVENT_PROGRAM && ev->status == VOUCH_STORE_EVENT_OPEN)
            e = vouch_store_instance_get(c->app->store, ev->instance, &in, &eb);
        if (!e && in && in->program_whitelist_id >= 0)
            e = vouch_vtpm_whitelist_allow(c->app->whitelists, c->account,
                                           in->program_whitelist_id, ev->suspect,
                                           ev->suspect_value, c->now_ms, &eb);
        vouch_store_instance_free(in);
        vouch_store_events_free(ev, ev ? 1 : 0);
        if (e && e != VOUCH_E_NOT_FOUND)
            return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "(program whitelist: %s)", eb.msg),
                   false;
    }
    return true;
}

/* EventUuids: separated by commas, or a JSON array; all or nothing. */
static json_t *events_handle(struct vouch_vtpm_call *c, int64_t status)
{
    const char *uuids[HANDLE_MAX];
    char *copy = NULL;
    struct vouch_errbuf eb;
    json_t *out = NULL;
    int64_t style;
    vouch_err e;
    size_t n = vouch_vtpm_param_list(c, "EventUuids", HANDLE_MAX, uuids, &copy);

    if (n == 0 || !vouch_vtpm_param_int(c, "HandleStyle", 0, INT32_MAX, 0, &style))
        goto out;
    if (status == VOUCH_STORE_EVENT_TRUSTED && !program_events_trust(c, uuids, n))
        goto out;
    e = vouch_store_events_handle(c->app->store, c->account, uuids, n, status, c->now_ms, &eb);
    if (e == VOUCH_E_NOT_FOUND || e == VOUCH_E_INVALID)
        vouch_vtpm_fail(c, VOUCH_RPC_EVENT_NOT_FOUND, "(%s)", eb.msg);
    else if (e == VOUCH_E_CONFLICT)
        vouch_vtpm_fail(c, VOUCH_RPC_EVENT_HANDLED, "(%s)", eb.msg);
    else if (e)
        vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
    else if (!(out = json_pack("{s:s}", "Data", "success")))
        vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
out:
    free(copy);
    return out;
}

json_t *vouch_vtpm_trust_events(struct vouch_vtpm_call *c)
{
    return events_handle(c, VOUCH_STORE_EVENT_TRUSTED);
}

json_t *vouch_vtpm_ignore_events(struct vouch_vtpm_call *c)
{
    return events_handle(c, VOUCH_STORE_EVENT_IGNORED);
}
