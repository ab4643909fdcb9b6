/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TOKEN_OIDC_H
#define VOUCH_TOKEN_OIDC_H

#include <stddef.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * The OpenID Connect discovery document for `issuer` (an http(s) URL
 * without a trailing slash), listing only what Vouch serves: the issuer,
 * the JWKS, ID tokens (its attestation tokens) with public subjects, the
 * algorithm they are signed with (`alg`, "RS256" or "ES256") and the
 * claims they carry.  Tokens come only from the attestation API, so no
 * authorization, token or userinfo endpoint is listed (docs/oidc.md).
 * *ret is a new reference.
 */
vouch_err vouch_oidc_configuration(const char *issuer, const char *alg, json_t **ret,
                                   struct vouch_errbuf *eb);

/* "tdx:" + 64 hex digits, and a NUL. */
#define VOUCH_OIDC_SUBJECT_MAX 96

/*
 * A token's `sub` for the claims `claims` of a device of tee `tee`, by the
 * verifier's rule `paths` (struct vouch_verifier.subject_claims): "<tee>:"
 * and the hex SHA-256 of the RFC 8785 canonical JSON of the object
 * {path: value} over the paths (a missing claim is null).
 */
vouch_err vouch_oidc_subject(const char *tee, const char *const *paths, const json_t *claims,
                             char ret[VOUCH_OIDC_SUBJECT_MAX], struct vouch_errbuf *eb);

#endif
