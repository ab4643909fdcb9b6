/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web console (docs/console.md): static files embedded at build time,
 *   GET /console          the page (index.html)
 *   GET /console/{file}   its script, style sheet and icon
 * The page holds no secret of the server's and is rendered in the browser;
 * it calls the same JSON and RPC APIs as any client.  --console=false
 * answers 404 instead.  Every answer carries a strict Content-Security-
 * Policy (no inline script or style, nothing from another origin); every
 * answer of vouchd already carries X-Content-Type-Options: nosniff.
 */
#include <string.h>

#include "server/api.h"
#include "server/console.h"

static const struct {
    const char *name;
    const char *value;
} security_headers[] = {
    { "Content-Security-Policy",
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
      "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" },
    { "X-Frame-Options", "DENY" },
    { "Referrer-Policy", "no-referrer" },
    { "Cross-Origin-Opener-Policy", "same-origin" },
    { "Cross-Origin-Resource-Policy", "same-origin" },
    { "Permissions-Policy", "camera=(), microphone=(), geolocation=(), usb=(), serial=()" },
    /* revalidate every time: the ETag answers 304 while the build is the same */
    { "Cache-Control", "no-cache" },
};

static const struct vouch_console_file *console_file(const char *name)
{
    size_t i;

    for (i = 0; i < vouch_console_n_files; i++)
        if (strcmp(vouch_console_files[i].name, name) == 0)
            return &vouch_console_files[i];
    return NULL;
}

static void serve(struct vouch_app *app, const struct vouch_http_req *req,
                  struct vouch_http_resp *resp, const char *name)
{
    const struct vouch_console_file *f = app->cfg.console ? console_file(name) : NULL;
    const char *match = vouch_http_header(req, "If-None-Match");
    size_t i;

    if (!f) {
        vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, NULL, NULL,
                        "%s", app->cfg.console ? "no such console file"
                                               : "the console is off (--console=false)");
        return;
    }
    if (match && strcmp(match, f->etag) == 0)
        resp->status = 304;
    else
        vouch_http_text(resp, 200, f->content_type, (const char *)f->data, f->len);
    vouch_http_resp_header(resp, "ETag", f->etag);
    for (i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
        vouch_http_resp_header(resp, security_headers[i].name, security_headers[i].value);
}

void vouch_api_console_index(struct vouch_app *app, const struct vouch_http_req *req,
                             struct vouch_http_resp *resp)
{
    serve(app, req, resp, "index.html");
}

void vouch_api_console_file(struct vouch_app *app, const struct vouch_http_req *req,
                            struct vouch_http_resp *resp)
{
    serve(app, req, resp, req->params[0]);
}
