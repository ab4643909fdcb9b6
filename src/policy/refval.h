/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_POLICY_REFVAL_H
#define VOUCH_POLICY_REFVAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"
#include "vouch/err.h"

/*
 * Reference values: named lists of acceptable values ("mr_td" -> [hex,
 * ...]) that policies read with query_reference_value(name).  Each carries
 * an expiry; an expired value reads as absent.
 */
#define VOUCH_REFVAL_KIND "refval"
#define VOUCH_REFVAL_DEFAULT_LIFETIME (365 * 86400)
#define VOUCH_REFVAL_NAME_MAX 128
#define VOUCH_REFVAL_MAX_ENTRIES 1024

struct vouch_refval {
    char *name;
    json_t *values;        /* array */
    int64_t expires_at;
};

/*
 * Parse an upload.  Accepted forms:
 *  - trustee's RVPS message {"version":"0.1.0","type":"sample",
 *    "payload": base64(JSON {"name": [values...]})}
 *  - {"name": "mr_td", "values": [...], "expires_at": RFC3339 (optional)}
 *  - {"reference_values": {"name": [...], ...}, "expires_at": RFC3339 (optional)}
 * Values default to expiring a year after `now`.  Errors name the field.
 */
vouch_err vouch_refval_parse(const json_t *body, int64_t now, struct vouch_refval **ret,
                             size_t *ret_n, const char **ret_field, struct vouch_errbuf *eb);
void vouch_refvals_free(struct vouch_refval *rv, size_t n);

/* Store one (replacing any value of the same name). */
vouch_err vouch_refval_put(struct vouch_store *s, const struct vouch_refval *rv, int64_t now,
                           struct vouch_errbuf *eb);

/* Read one, expired or not.  VOUCH_E_NOT_FOUND when absent. */
vouch_err vouch_refval_get(struct vouch_store *s, const char *name, json_t **ret_values,
                           int64_t *ret_expires_at, struct vouch_errbuf *eb);

/*
 * What a policy sees: the values of `name` if present and not expired at
 * `now`, else VOUCH_E_NOT_FOUND.
 */
vouch_err vouch_refval_lookup(struct vouch_store *s, const char *name, int64_t now,
                              json_t **ret_values, struct vouch_errbuf *eb);

#endif
