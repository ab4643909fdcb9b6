/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TOKEN_OIDC_H
#define VOUCH_TOKEN_OIDC_H

#include <jansson.h>

#include "vouch/err.h"

/*
 * The OpenID Connect discovery document for `issuer` (an http(s) URL
 * without a trailing slash), with the fields Alibaba's attestation service
 * publishes.  Vouch issues tokens only through its attestation API; the
 * authorization, token and userinfo endpoints are listed because OIDC
 * clients require them, and answer that the flow is not offered.
 * *ret is a new reference.
 */
vouch_err vouch_oidc_configuration(const char *issuer, json_t **ret, struct vouch_errbuf *eb);

#endif
