/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_RATELIMIT_H
#define VOUCH_SERVER_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/http.h"
#include "vouch/err.h"

/*
 * Token buckets keyed by a short byte string (a client address, a
 * credential's digest), as the generic cell rate algorithm: each key keeps
 * one number, the instant its bucket is full again.  A bucket allows
 * `burst` events at once and refills at `count` events per `period_us`.
 *
 * The table has a fixed number of entries, allocated up front; a new key
 * evicts the entry nearest to full among the few it may occupy, so memory
 * stays bounded whatever the number of clients.  Forgetting a key only
 * hands that key a full bucket.  Safe to use from several threads; `now`
 * (monotonic microseconds) is always a parameter.
 */
#define VOUCH_RATELIMIT_KEY_LEN 16

struct vouch_ratelimit;

/*
 * A table of at least `max_keys` buckets (rounded up to a power of two).
 * count, period_us and burst must be non-zero.
 */
vouch_err vouch_ratelimit_new(uint64_t count, uint64_t period_us, uint64_t burst,
                              size_t max_keys, struct vouch_ratelimit **ret);
void vouch_ratelimit_free(struct vouch_ratelimit *rl);

/*
 * Take one token from the bucket of `key`.  Returns true when there was
 * one; otherwise leaves the bucket alone and sets *ret_wait_us to the time
 * until a token is back.
 */
bool vouch_ratelimit_take(struct vouch_ratelimit *rl,
                          const uint8_t key[VOUCH_RATELIMIT_KEY_LEN], uint64_t now_us,
                          uint64_t *ret_wait_us);

/* Whether take() would succeed now (*ret_wait_us as for take), taking nothing. */
bool vouch_ratelimit_peek(struct vouch_ratelimit *rl,
                          const uint8_t key[VOUCH_RATELIMIT_KEY_LEN], uint64_t now_us,
                          uint64_t *ret_wait_us);

/*
 * Take one token whether or not the bucket has one: an empty bucket goes
 * into debt (up to one hour's worth of refill), so events that were
 * admitted concurrently before being counted lengthen the wait.
 */
void vouch_ratelimit_charge(struct vouch_ratelimit *rl,
                            const uint8_t key[VOUCH_RATELIMIT_KEY_LEN], uint64_t now_us);

/*
 * A refusal's Retry-After value (the wait rounded up to whole seconds, at
 * least 1) and its message, "too many WHAT; retry after N s".
 */
#define VOUCH_RATELIMIT_RETRY_LEN 24
void vouch_ratelimit_refusal(uint64_t wait_us, const char *what,
                             char retry[VOUCH_RATELIMIT_RETRY_LEN], char *msg, size_t msg_size);

/*
 * Respond 429 application/problem+json (VOUCH.REQUEST.RATE_LIMITED) with
 * Retry-After: the wait rounded up to whole seconds (at least 1).  `what`
 * says which limit ("requests from this address").
 */
void vouch_http_rate_limited(struct vouch_http_resp *resp, uint64_t wait_us, const char *what);

#endif
