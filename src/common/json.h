/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_JSON_H
#define VOUCH_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "vouch/err.h"

/*
 * Parse untrusted JSON.  Duplicate object keys are rejected; the error
 * message carries line and column.  Malformed input is VOUCH_E_INVALID with
 * sub-code VOUCH_SUB_JSON.  *ret is a new reference.
 */
vouch_err vouch_json_parse(const void *data, size_t len, json_t **ret,
                           struct vouch_errbuf *eb);

/*
 * Decode the body of a JSON string: `p` is just past its opening quote,
 * `end` the end of the input.  Writes the text to `out`, which has room
 * for the string's raw length (end - p is always enough: decoding never
 * grows it), its length to *ret_len and
 * the closing quote's position to *ret_end.  Raw UTF-8 must be valid; a
 * lone UTF-16 surrogate in a \u escape is an error, or U+FFFD with
 * VOUCH_JSON_LONE_SURROGATE_FFFD (Go's and so OPA's choice).  On failure
 * returns false, *ret_end at the fault and *ret_err a constant message.
 */
#define VOUCH_JSON_LONE_SURROGATE_FFFD 1u
bool vouch_json_string_decode(const char *p, const char *end, unsigned flags, char *out,
                              size_t *ret_len, const char **ret_end, const char **ret_err);

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
 * A JSON string of the n bytes at `s` appended to `b` as vouch_json_dump()
 * writes it, for answers written without a tree (integers:
 * vouch_buf_put_int()).
 * VOUCH_E_INVALID when `s` is not UTF-8; the buffer's errors otherwise.
 */
vouch_err vouch_json_write_string(struct vouch_buf *b, const char *s, size_t n);

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

/*
 * Text from evidence that should be valid UTF-8 but need not be (command
 * lines, names, paths): valid UTF-8 as it is, each byte that does not
 * begin a valid sequence as %XX.  For display only: an escaped byte and
 * the literal text "%XX" look the same.  The JSON string is NULL, and the
 * setter fails, only when out of memory.
 */
vouch_err vouch_text_append(struct vouch_buf *b, const char *s, size_t n);
/* The most text_append makes of n bytes: each as %XX (0, which fails, past SIZE_MAX). */
#define VOUCH_TEXT_ESCAPED_MAX(n) ((n) <= SIZE_MAX / 3 ? 3 * (n) : 0)
json_t *vouch_json_text(const char *s, size_t n);
vouch_err vouch_json_set_text(json_t *obj, const char *key, const char *s, size_t n);
vouch_err vouch_json_set_bool(json_t *obj, const char *key, bool v);
/* Lower-case hex of the bytes, as trustee renders binary claims. */
vouch_err vouch_json_set_hex(json_t *obj, const char *key, const void *data, size_t n);

#endif
