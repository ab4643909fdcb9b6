/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_SDNOTIFY_H
#define VOUCH_SERVER_SDNOTIFY_H

#include <stdint.h>

/*
 * Tell the service manager `state` ("READY=1", "STOPPING=1", "WATCHDOG=1",
 * "STATUS=..."): 1 sent, 0 when not run under one ($NOTIFY_SOCKET unset),
 * or -errno.
 */
int vouch_sd_notify(const char *state);

/* The watchdog interval systemd asks for ($WATCHDOG_USEC for this pid), or 0. */
uint64_t vouch_sd_watchdog_usec(void);

#endif
