/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "common/json.h"
#include "common/time.h"
#include "policy/refval.h"
#include "server/api.h"

static json_t *expiry_json(int64_t t)
{
    char buf[VOUCH_RFC3339_LEN];

    if (!t)
        return json_null();
    vouch_time_format_rfc3339(t, buf);
    return json_string(buf);
}

static void store_problem(struct vouch_http_resp *resp, vouch_err e, const char *name,
                          const struct vouch_errbuf *eb)
{
    if (e == VOUCH_E_NOT_FOUND)
        vouch_http_fail(resp, VOUCH_SCOPE_REFVAL, e, VOUCH_SUB_NONE, NULL, NULL,
                        "no reference value '%.128s'", name);
    else
        vouch_http_fail(resp, VOUCH_SCOPE_REFVAL, e, eb->sub, NULL, NULL, "store: %s", eb->msg);
}

/* POST /reference-value: an RVPS message, {name, values} or {reference_values}. */
void vouch_api_refval_post(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp)
{
    struct vouch_refval *rv = NULL;
    const char *field = NULL;
    struct vouch_errbuf eb;
    int64_t now = vouch_clock_now();
    json_t *body = NULL, *stored;
    size_t n = 0, i;
    vouch_err e;

    if (!vouch_http_json_body(req, resp, &body))
        return;
    e = vouch_refval_parse(body, now, &rv, &n, &field, &eb);
    if (e) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", field, "%s", eb.msg);
        goto out;
    }
    stored = json_array();
    for (i = 0; i < n; i++) {
        e = vouch_refval_put(app->store, &rv[i], now, &eb);
        if (e) {
            json_decref(stored);
            store_problem(resp, e, rv[i].name, &eb);
            goto out;
        }
        json_array_append_new(stored, json_pack("{s:s,s:o}", "name", rv[i].name, "expires_at",
                                                expiry_json(rv[i].expires_at)));
    }
    vouch_http_json(resp, 200, json_pack("{s:o}", "stored", stored));
    if (n)
        vouch_http_audit_target(resp, "%s%s", rv[0].name, n > 1 ? " and more" : "");
out:
    vouch_refvals_free(rv, n);
    json_decref(body);
}

/* GET /reference-value/{id} */
void vouch_api_refval_get(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp)
{
    const char *name = req->params[0];
    struct vouch_errbuf eb;
    int64_t expires = 0;
    json_t *values = NULL;
    vouch_err e;

    e = vouch_refval_get(app->store, name, &values, &expires, &eb);
    if (e) {
        store_problem(resp, e, name, &eb);
        return;
    }
    vouch_http_json(resp, 200, json_pack("{s:s,s:o,s:o,s:b}", "name", name, "values", values,
                                         "expires_at", expiry_json(expires), "expired",
                                         expires && expires <= vouch_clock_now()));
}

/* GET /reference-value: names and expiry of every stored value. */
void vouch_api_refval_list(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp)
{
    struct vouch_store_doc *docs = NULL;
    struct vouch_errbuf eb;
    json_t *arr;
    size_t n = 0, i;

    (void)req;
    if (vouch_store_doc_list(app->store, VOUCH_REFVAL_KIND, "", 0, 100000, &docs, &n, &eb)) {
        store_problem(resp, VOUCH_E_STORE, "", &eb);
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:o}", "name", docs[i].id, "expires_at",
                                             expiry_json(docs[i].expires_at)));
    vouch_store_docs_free(docs, n);
    vouch_http_json(resp, 200, json_pack("{s:o}", "reference_values", arr));
}

/* DELETE /reference-value/{id} */
void vouch_api_refval_delete(struct vouch_app *app, const struct vouch_http_req *req,
                             struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    vouch_err e;

    e = vouch_store_doc_delete(app->store, VOUCH_REFVAL_KIND, req->params[0], &eb);
    if (e) {
        store_problem(resp, e, req->params[0], &eb);
        return;
    }
    resp->status = 204;
}
