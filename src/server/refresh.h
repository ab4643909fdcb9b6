/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_REFRESH_H
#define VOUCH_SERVER_REFRESH_H

#include "server/app.h"

/*
 * Optional upstream refresh of Intel collateral (--pccs-upstream URL):
 * a thread that every --pccs-refresh seconds fetches each stored document
 * again from the upstream PCS/PCCS and imports it through the verified
 * import, so a newer document replaces an older one only once its
 * signatures check out, and a failed fetch keeps the last good copy.
 *
 * Replicas on one database refresh one at a time: the thread holds the
 * store lease "pccs-refresh" (vouch_store_lease_acquire) for
 * ttl = 3 x --pccs-refresh, between 3 s and 60 s, renews it every ttl/3,
 * runs passes only while it holds it and imports a fetched document only
 * if it still does.  When the holder dies another replica takes over
 * within ttl + ttl/3 (4 s to 80 s); a clean stop releases the lease.
 */
struct vouch_refresher;

vouch_err vouch_refresher_start(struct vouch_app *app, struct vouch_refresher **ret,
                                struct vouch_errbuf *eb);
/* Stop the thread and wait for it.  Accepts NULL. */
void vouch_refresher_stop(struct vouch_refresher *r);

#endif
