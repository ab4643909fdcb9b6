/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TOKEN_SECRETS_H
#define VOUCH_TOKEN_SECRETS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/kek.h"
#include "store/store.h"
#include "vouch/err.h"

/*
 * Secrets kept in the store, in clear or wrapped under the key-encryption
 * key (crypto/kek.h).  A wrapped value holds exactly the text the clear
 * value would be (a PKCS#8 PEM, a hex key), so readers treat both alike.
 * The wrap's purpose names the row ("signing-key:<kid>", "meta:<key>"),
 * so a wrapped value cannot be moved to another row.
 */

/* Settings (meta keys) whose values are secrets. */
extern const char *const vouch_secret_meta_keys[];
extern const size_t vouch_secret_n_meta_keys;

/*
 * The stored text for a secret of `row`/`id`: wrapped under `kek`, or a
 * copy of the clear text when `kek` is NULL.  *ret: free().
 */
vouch_err vouch_secret_seal(const struct vouch_kek *kek, enum vouch_store_secret_row row,
                            const char *id, const char *clear, char **ret,
                            struct vouch_errbuf *eb);

/*
 * The clear text of a stored secret.  A wrapped one needs the KEK it was
 * wrapped under; the message says which KEK id is needed.  *ret is
 * NUL-terminated; release with vouch_kek_secret_free(*ret, *ret_len).
 */
vouch_err vouch_secret_open(const struct vouch_kek *kek, enum vouch_store_secret_row row,
                            const char *id, const char *stored, uint8_t **ret, size_t *ret_len,
                            struct vouch_errbuf *eb);

/*
 * Re-wrap every stored secret in one transaction: values wrapped under
 * `from` or in clear end up wrapped under `to` (in clear when `to` is
 * NULL); values already under `to` are left alone.  A value wrapped under
 * any other KEK fails the whole run, naming its KEK id.  *ret_changed (may
 * be NULL) counts the rows rewritten.  With from == to, this wraps the
 * clear secrets left from before a KEK was configured.
 */
vouch_err vouch_secrets_rewrap(struct vouch_store *s, const struct vouch_kek *from,
                               const struct vouch_kek *to, size_t *ret_changed,
                               struct vouch_errbuf *eb);

#endif
