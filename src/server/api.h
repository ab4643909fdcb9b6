/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_API_H
#define VOUCH_SERVER_API_H

#include "server/app.h"

/* Handlers, one file per API area (api_<area>.c); routed in routes.c. */

/* api_meta.c */
void vouch_api_healthz(struct vouch_app *app, const struct vouch_http_req *req,
                       struct vouch_http_resp *resp);
void vouch_api_readyz(struct vouch_app *app, const struct vouch_http_req *req,
                      struct vouch_http_resp *resp);
void vouch_api_metrics(struct vouch_app *app, const struct vouch_http_req *req,
                       struct vouch_http_resp *resp);

/* api_oidc.c */
void vouch_api_openid_configuration(struct vouch_app *app, const struct vouch_http_req *req,
                                    struct vouch_http_resp *resp);
void vouch_api_jwks(struct vouch_app *app, const struct vouch_http_req *req,
                    struct vouch_http_resp *resp);
void vouch_api_oauth_unsupported(struct vouch_app *app, const struct vouch_http_req *req,
                                 struct vouch_http_resp *resp);

/* api_admin.c */
bool vouch_api_bearer_matches(const struct vouch_http_req *req, const uint8_t hash[32]);
bool vouch_api_admin_authorized(const struct vouch_app *app, const struct vouch_http_req *req);
void vouch_api_admin_keys(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp);
void vouch_api_admin_keys_rotate(struct vouch_app *app, const struct vouch_http_req *req,
                                 struct vouch_http_resp *resp);

/* api_attest.c */
void vouch_api_attest(struct vouch_app *app, const struct vouch_http_req *req,
                      struct vouch_http_resp *resp);

/* api_history.c: the attestation history */
void vouch_api_admin_attestations(struct vouch_app *app, const struct vouch_http_req *req,
                                  struct vouch_http_resp *resp);

/* api_console.c: the web console's static files */
void vouch_api_console_index(struct vouch_app *app, const struct vouch_http_req *req,
                             struct vouch_http_resp *resp);
void vouch_api_console_file(struct vouch_app *app, const struct vouch_http_req *req,
                            struct vouch_http_resp *resp);

/* api_policy.c */
void vouch_api_policy_post(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp);
void vouch_api_policy_list(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp);
void vouch_api_policy_get(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp);
void vouch_api_policy_delete(struct vouch_app *app, const struct vouch_http_req *req,
                             struct vouch_http_resp *resp);

/* api_kds.c: AMD KDS-compatible paths, and the stored AMD chips for the console */
void vouch_api_admin_amd_chips(struct vouch_app *app, const struct vouch_http_req *req,
                               struct vouch_http_resp *resp);
void vouch_api_kds_vcek(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp);
void vouch_api_kds_vlek(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp);

/*
 * api_pccs.c.  vouch_api_send_collateral sends a stored collateral
 * document with ETag, Cache-Control and (when chain_header) its issuer
 * chain; 404 VOUCH.COLLATERAL.NOT_FOUND when it is not stored.
 */
void vouch_api_send_collateral(struct vouch_app *app, const struct vouch_http_req *req,
                               struct vouch_http_resp *resp, const char *id,
                               const char *chain_header, const char *ctype, int as_hex);
void vouch_api_pccs_tcb(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp);
void vouch_api_pccs_identity(struct vouch_app *app, const struct vouch_http_req *req,
                             struct vouch_http_resp *resp);
void vouch_api_pccs_pckcrl(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp);
void vouch_api_pccs_pckcert(struct vouch_app *app, const struct vouch_http_req *req,
                            struct vouch_http_resp *resp);
void vouch_api_pccs_rootcacrl(struct vouch_app *app, const struct vouch_http_req *req,
                              struct vouch_http_resp *resp);
void vouch_api_pccs_fmspcs(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp);
void vouch_api_admin_collateral(struct vouch_app *app, const struct vouch_http_req *req,
                                struct vouch_http_resp *resp);
void vouch_api_admin_collateral_list(struct vouch_app *app, const struct vouch_http_req *req,
                                     struct vouch_http_resp *resp);

/* api_rim.c */
void vouch_api_rim_post(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp);
void vouch_api_rim_list(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp);
void vouch_api_rim_delete(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp);
void vouch_api_rim_get(struct vouch_app *app, const struct vouch_http_req *req,
                       struct vouch_http_resp *resp);

/* api_challenge.c */
void vouch_api_challenge(struct vouch_app *app, const struct vouch_http_req *req,
                         struct vouch_http_resp *resp);

/* api_refval.c */
void vouch_api_refval_post(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp);
void vouch_api_refval_get(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp);
void vouch_api_refval_list(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp);
void vouch_api_refval_delete(struct vouch_app *app, const struct vouch_http_req *req,
                             struct vouch_http_resp *resp);

/* api_accesskey.c */
void vouch_api_accesskey_post(struct vouch_app *app, const struct vouch_http_req *req,
                              struct vouch_http_resp *resp);
void vouch_api_accesskey_list(struct vouch_app *app, const struct vouch_http_req *req,
                              struct vouch_http_resp *resp);
void vouch_api_accesskey_delete(struct vouch_app *app, const struct vouch_http_req *req,
                                struct vouch_http_resp *resp);

/* api_vtpm.c: the vTPM service's Alibaba RPC-style endpoint */
/* audit log (api_audit.c) */
void vouch_api_audit_list(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp);
/* Record an answered request: an admin route that changes state (not GET). */
void vouch_api_audit_admin(struct vouch_app *app, const struct vouch_http_req *req,
                           const struct vouch_route *route, const struct vouch_http_resp *resp);
/* Record one action with its answer's status, code and request id. */
void vouch_api_audit_record(struct vouch_app *app, const char *actor, const char *action,
                            const char *target, const struct vouch_http_resp *resp);

/* The vTPM endpoint's answer to a body over `cap`: 413 with an RPC-style
 * InvalidParameter.TooLarge body (server.c answers it before routing). */
void vouch_api_vtpm_too_large(const char *request_id, const char *host, size_t cap,
                              struct vouch_http_resp *resp);
/* The vTPM endpoint's 405 to a method it does not take (PUT, DELETE, ...): an
 * RPC-style UnsupportedHTTPMethod body naming the allowed ones (app.c). */
void vouch_api_vtpm_bad_method(const struct vouch_http_req *req, const char *allow,
                               struct vouch_http_resp *resp);
/* The vTPM endpoint's answer to a request over --rate-limit: 429 with an
 * RPC-style Throttling body, `detail` after the message (server.c). */
void vouch_api_vtpm_rate_limited(const char *request_id, const char *host, const char *detail,
                                 struct vouch_http_resp *resp);
void vouch_api_vtpm_rpc(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp);
void vouch_api_vtpm_admin(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp);

#endif
