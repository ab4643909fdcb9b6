/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report history of an instance (Vouch's extension, docs/vtpm.md):
 * DescribeReports pages through the history rows the store keeps (the
 * newest --vtpm-keep-reports of each instance), and DescribeBoot's last
 * report gets the UEFI events that explain its differing PCRs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "server/vtpm.h"

#define REPORTS_PAGE_DEFAULT 10
#define REPORTS_PAGE_MAX 100

bool vouch_vtpm_pcr_events_merge(json_t *last, const char *pcr_events)
{
    json_t *all = NULL, *pcrs = json_object_get(last, "Pcrs"), *v, *row;
    const char *name;
    bool ok = true;

    if (!pcr_events || !*pcr_events)
        return true;
    if (vouch_json_parse(pcr_events, strlen(pcr_events), &all, NULL) || !json_is_object(all)) {
        json_decref(all);
        return false;
    }
    json_object_foreach(all, name, v) {
        row = json_object_get(pcrs, name);
        if (row && (json_object_set(row, "Events", json_object_get(v, "Events")) ||
                    json_object_set(row, "EventsOmitted", json_object_get(v, "Omitted"))))
            ok = false;
    }
    json_decref(all);
    return ok;
}

/* The PCRs of a summary that differed from the baseline, [5, 8]. */
static json_t *differing_pcrs(const json_t *summary)
{
    json_t *out = json_array(), *pcrs = json_object_get(summary, "Pcrs");
    char name[8];
    int i;

    for (i = 0; out && i < VOUCH_STORE_BASELINE_PCRS; i++) {
        snprintf(name, sizeof(name), "pcr%d", i);
        if (json_is_false(json_object_get(json_object_get(pcrs, name), "match")) &&
            json_array_append_new(out, json_integer(i))) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* One timeline row from a history row. */
static json_t *report_json(const struct vouch_store_report_row *row)
{
    json_t *s = NULL, *ima, *out;

    if (vouch_json_parse(row->summary, strlen(row->summary), &s, NULL))
        return NULL;
    ima = json_object_get(s, "Ima");
    out = json_pack("{s:I,s:I,s:O*,s:O*,s:O*,s:O*,s:O*,s:O*,s:o*}", "Seq", (json_int_t)row->seq,
                    "GmtReport", (json_int_t)row->received_ms, "SystemTrustStatus",
                    json_object_get(s, "SystemTrustStatus"), "ProgramTrustStatus",
                    json_object_get(s, "ProgramTrustStatus"), "NextClientIMAIndex",
                    json_object_get(ima, "Next"), "ImaStart", json_object_get(ima, "Start"),
                    "Reboot", json_object_get(ima, "Reboot"), "ResetCount",
                    json_object_get(s, "ResetCount"), "DifferingPcrs", differing_pcrs(s));
    json_decref(s);
    return out;
}

json_t *vouch_vtpm_describe_reports(struct vouch_vtpm_call *c)
{
    struct vouch_store_report_row *rows = NULL;
    struct vouch_errbuf eb;
    json_t *items, *out = NULL;
    int64_t size, page;
    uint64_t total = 0;
    size_t n = 0, i;
    bool ok;
    vouch_err e;
    const char *uuid = vouch_vtpm_param_str(c, "PropertyUuid", true, VOUCH_STORE_NAME_MAX, &ok);

    if (!ok || !vouch_vtpm_own_instance(c, uuid, NULL) ||
        !vouch_vtpm_param_int(c, "PageSize", 1, REPORTS_PAGE_MAX, REPORTS_PAGE_DEFAULT, &size) ||
        !vouch_vtpm_param_page(c, "PageNumber", &page))
        return NULL;
    e = vouch_store_report_list(c->app->store, uuid, (uint64_t)(page - 1) * (uint64_t)size,
                                (size_t)size, 0, &rows, &n, &total, &eb);
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
    items = json_array();
    for (i = 0; items && i < n; i++)
        if (json_array_append_new(items, report_json(&rows[i]))) {
            json_decref(items);
            items = NULL;
        }
    vouch_store_report_rows_free(rows, n);
    if (items)
        out = json_pack("{s:I,s:I,s:I,s:o}", "TotalCount", (json_int_t)total, "PageNumber",
                        (json_int_t)page, "PageSize", (json_int_t)size, "Reports", items);
    return out ? out : vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
}
