/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_JSON_H
#define VOUCH_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * Parse untrusted JSON.  Duplicate object keys are rejected; the error
 * message carries line and column.  *ret is a new reference.
 */
vouch_err vouch_json_parse(const void *data, size_t len, json_t **ret,
                           struct vouch_errbuf *eb);

/* Parse a JSON file of at most max bytes. */
vouch_err vouch_json_load_file(const char *path, size_t max, json_t **ret,
                               struct vouch_errbuf *eb);

/*
 * Compact serialisation with keys in insertion order.  At most max bytes.
 * *ret is NUL-terminated; free with free().
 */
vouch_err vouch_json_dump(const json_t *v, size_t max, char **ret, size_t *ret_len,
                          struct vouch_errbuf *eb);

/*
 * Typed member lookups on an object.  Each names the key in its error.
 * When `required` is false and the key is absent (or JSON null), VOUCH_OK is
 * returned and *ret is left untouched, so callers can pre-set a default.
 * Pointers returned point into `obj` and live as long as it does.
 */
vouch_err vouch_json_get_str(const json_t *obj, const char *key, bool required,
                             const char **ret, size_t *ret_len, struct vouch_errbuf *eb);
vouch_err vouch_json_get_int(const json_t *obj, const char *key, bool required,
                             int64_t *ret, struct vouch_errbuf *eb);
vouch_err vouch_json_get_bool(const json_t *obj, const char *key, bool required,
                              bool *ret, struct vouch_errbuf *eb);
vouch_err vouch_json_get_obj(const json_t *obj, const char *key, bool required,
                             json_t **ret, struct vouch_errbuf *eb);
vouch_err vouch_json_get_array(const json_t *obj, const char *key, bool required,
                               json_t **ret, struct vouch_errbuf *eb);

/*
 * Setters for building claims.  Each takes the value (steals `v` for
 * vouch_json_set_new, even on failure) and reports out-of-memory.
 */
vouch_err vouch_json_set_new(json_t *obj, const char *key, json_t *v);
vouch_err vouch_json_set_str(json_t *obj, const char *key, const char *s);
vouch_err vouch_json_set_strn(json_t *obj, const char *key, const char *s, size_t n);
vouch_err vouch_json_set_int(json_t *obj, const char *key, int64_t v);
vouch_err vouch_json_set_bool(json_t *obj, const char *key, bool v);
/* Lower-case hex of the bytes, as trustee renders binary claims. */
vouch_err vouch_json_set_hex(json_t *obj, const char *key, const void *data, size_t n);

#endif
