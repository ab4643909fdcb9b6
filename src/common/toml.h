/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_TOML_H
#define VOUCH_COMMON_TOML_H

#include <stddef.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * Parse a TOML 1.0 document into a JSON object (tables become objects,
 * arrays of tables arrays of objects).  Dates and times, inf and nan are
 * refused: they have no JSON form and nothing we read uses them.  Errors
 * are VOUCH_E_INVALID with "TOML line N: what".  *ret is a new reference,
 * written only on success.
 */
vouch_err vouch_toml_parse(const char *text, size_t len, json_t **ret, struct vouch_errbuf *eb);

#endif
