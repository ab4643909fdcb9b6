/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_SERVER_H
#define VOUCH_SERVER_SERVER_H

#include <stdint.h>

#include "server/app.h"
#include "server/tls.h"

/*
 * The HTTP front end on libmicrohttpd: an epoll listener thread plus a pool
 * of worker threads (--threads; server.c says the default).  Request bodies are
 * collected in two phases (MHD hands them over in chunks, then asks for
 * the response), so keep-alive works; a body over --max-body gets 413 and
 * the connection closes.
 *
 * Limits on clients (docs/api.md, "Limits on clients"): connection caps
 * in total and per address, a deadline per request for its headers and
 * body (a reaper thread shuts down connections past it), rate limits per
 * address and per credential and on failed admin authentication
 * (ratelimit.h), and problem+json for ambiguous body framing.
 *
 * With --tls-cert and --tls-key it serves HTTPS (TLS 1.2 and 1.3 through
 * GnuTLS; the certificate pair in tls.h).
 */
struct vouch_server;

/*
 * Start serving `app` on its configured address.  *ret_port is the bound
 * port (useful with port 0).  The issuer (vouch_app_set_issuer) is set
 * once the port is bound and before the first request can arrive.  With
 * TLS configured, *ret_tls describes the certificate served (else it is
 * left alone).
 */
vouch_err vouch_server_start(struct vouch_app *app, struct vouch_server **ret,
                             uint16_t *ret_port, struct vouch_tls_info *ret_tls,
                             struct vouch_errbuf *eb);

/*
 * Read --tls-cert and --tls-key again and serve the new pair to new
 * connections; connections in flight keep theirs.  On failure the old
 * pair stays in service.
 */
vouch_err vouch_server_reload_tls(struct vouch_server *s, struct vouch_tls_info *ret_info,
                                  struct vouch_errbuf *eb);

/*
 * Stop accepting connections, wait up to `drain_ms` for requests in
 * flight to finish, then stop.  Accepts NULL.
 */
void vouch_server_stop(struct vouch_server *s, unsigned drain_ms);

#endif
