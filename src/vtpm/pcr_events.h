/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_VTPM_PCR_EVENTS_H
#define VOUCH_VTPM_PCR_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * The UEFI events that explain a differing PCR: for each PCR of a mask,
 * the events of a report's binary_bios_measurements log that extended it,
 * so an operator sees what changed (a boot application's path, a UEFI
 * variable's name, a grub command) and not only two digests.  Bounded:
 * at most VOUCH_VTPM_PCR_EVENTS_PER_PCR events per PCR (the rest counted
 * in "Omitted") and descriptions of at most VOUCH_VTPM_PCR_EVENT_TEXT_MAX
 * bytes, so ten PCRs stay far below the store's VOUCH_STORE_PCR_EVENTS_MAX.
 */
#define VOUCH_VTPM_PCR_EVENTS_PER_PCR 32
#define VOUCH_VTPM_PCR_EVENT_TEXT_MAX 160

/*
 * Parse `log` (the report's event log, already verified against the quote)
 * and give, for each PCR i with bit i of pcr_mask set that the log extends,
 *   "pcrI": {"Events": [{"EventNum", "Type", "Digest", "Description"}],
 *            "Omitted": N}
 * EventNum is the event's position in the log (tpm2_eventlog's EventNum),
 * Type its type name (EV_...), Digest its sha256 digest in hex (the first
 * digest's when the log has no sha256 bank), Description the decoded
 * event: a UEFI variable's name, a boot application's device path, the
 * text of an action, tag or grub command, or "".  *ret is a new object
 * (empty when no masked PCR is in the log).
 */
vouch_err vouch_vtpm_pcr_events(const uint8_t *log, size_t len, uint32_t pcr_mask, json_t **ret,
                                struct vouch_errbuf *eb);

#endif
