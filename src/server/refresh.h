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
 */
struct vouch_refresher;

vouch_err vouch_refresher_start(struct vouch_app *app, struct vouch_refresher **ret,
                                struct vouch_errbuf *eb);
/* Stop the thread and wait for it.  Accepts NULL. */
void vouch_refresher_stop(struct vouch_refresher *r);

#endif
