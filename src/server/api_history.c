/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attestation history (admin), newest first:
 *   GET /admin/attestations[?limit=N][&before=ID]
 *   -> {"attestations": [{"id", "time", "tee", "policy_ids", "allow",
 *       "tcb_status", "status", "error_code", "request_id"}],
 *       "next": ID of the next page's "before", or null, "keep": N}
 * One row per POST /v1/attestation, the newest --keep-attestations kept.
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/time.h"
#include "server/api.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 500

static json_t *row_json(const struct vouch_store_attestation *a)
{
    char when[VOUCH_RFC3339_LEN];
    json_t *ids = NULL;

    vouch_time_format_rfc3339(a->time_ms / 1000, when);
    if (vouch_json_parse(a->policy_ids, strlen(a->policy_ids), &ids, NULL) || !json_is_array(ids)) {
        json_decref(ids);
        ids = json_array();
    }
    return json_pack("{s:I,s:s,s:I,s:s,s:o,s:o,s:s?,s:I,s:s?,s:s?}", "id", (json_int_t)a->id,
                     "time", when, "time_ms", (json_int_t)a->time_ms, "tee", a->tee,
                     "policy_ids", ids,
                     "allow", a->allow < 0 ? json_null() : json_boolean(a->allow == 1),
                     "tcb_status", a->tcb_status[0] ? a->tcb_status : NULL,
                     "status", (json_int_t)a->http_status,
                     "error_code", a->error_code[0] ? a->error_code : NULL,
                     "request_id", a->request_id[0] ? a->request_id : NULL);
}

void vouch_api_admin_attestations(struct vouch_app *app, const struct vouch_http_req *req,
                                  struct vouch_http_resp *resp)
{
    struct vouch_store_attestation *rows = NULL;
    struct vouch_errbuf eb;
    int64_t limit, before;
    json_t *list;
    size_t n = 0, i;
    vouch_err e;

    if (!vouch_http_query_int(req, resp, "limit", 1, LIMIT_MAX, LIMIT_DEFAULT, &limit) ||
        !vouch_http_query_int(req, resp, "before", 1, INT64_MAX, 0, &before))
        return;
    e = vouch_store_attestation_list(app->store, before, (size_t)limit, &rows, &n, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_REQUEST, e, &eb, NULL);
        return;
    }
    list = json_array();
    for (i = 0; list && i < n; i++)
        if (json_array_append_new(list, row_json(&rows[i]))) {
            json_decref(list);
            list = NULL;
        }
    if (!list) {
        vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, VOUCH_E_NOMEM, VOUCH_SUB_NONE, NULL, NULL,
                        "out of memory");
        vouch_store_attestations_free(rows, n);
        return;
    }
    vouch_http_json(resp, 200, json_pack("{s:o,s:o,s:I}", "attestations", list, "next",
                                         n == (size_t)limit ? json_integer(rows[n - 1].id)
                                                            : json_null(),
                                         "keep", (json_int_t)app->cfg.keep_attestations));
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
    vouch_store_attestations_free(rows, n);
}
