/* SPDX-License-Identifier: Apache-2.0 */
#include "common/time.h"
#include "server/api.h"

/* GET /healthz: 200 when the store answers, 503 otherwise. */
void vouch_api_healthz(struct vouch_app *app, const struct vouch_http_req *req,
                       struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    int version = 0;
    vouch_err e;

    (void)req;
    e = vouch_store_schema_version(app->store, &version, &eb);
    if (e) {
        vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, e, eb.sub, NULL, NULL, "store: %s", eb.msg);
        return;
    }
    vouch_http_json(resp, 200, json_pack("{s:s,s:s,s:i,s:b}", "status", "ok", "store",
                                         vouch_store_backend(app->store), "schema_version",
                                         version, "fixed_time", app->cfg.fixed_time_set));
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
}
