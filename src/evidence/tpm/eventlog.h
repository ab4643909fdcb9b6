/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_EVENTLOG_H
#define VOUCH_EVIDENCE_TPM_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "evidence/tpm/tpm.h"
#include "vouch/err.h"

/*
 * TCG PC Client platform firmware event logs (binary_bios_measurements):
 * the crypto-agile format (first event a "Spec ID Event03" EV_NO_ACTION,
 * then TCG_PCR_EVENT2 records with one digest per bank) and the legacy
 * SHA-1 format (TCG_PCR_EVENT records only).  Little-endian throughout.
 */

/* Event types (TCG PC Client PFP, section 10.4.1). */
enum {
    VOUCH_EV_PREBOOT_CERT = 0x0,
    VOUCH_EV_POST_CODE = 0x1,
    VOUCH_EV_NO_ACTION = 0x3,
    VOUCH_EV_SEPARATOR = 0x4,
    VOUCH_EV_ACTION = 0x5,
    VOUCH_EV_EVENT_TAG = 0x6,
    VOUCH_EV_S_CRTM_CONTENTS = 0x7,
    VOUCH_EV_S_CRTM_VERSION = 0x8,
    VOUCH_EV_CPU_MICROCODE = 0x9,
    VOUCH_EV_PLATFORM_CONFIG_FLAGS = 0xa,
    VOUCH_EV_TABLE_OF_DEVICES = 0xb,
    VOUCH_EV_COMPACT_HASH = 0xc,
    VOUCH_EV_IPL = 0xd,
    VOUCH_EV_IPL_PARTITION_DATA = 0xe,
    VOUCH_EV_NONHOST_CODE = 0xf,
    VOUCH_EV_NONHOST_CONFIG = 0x10,
    VOUCH_EV_NONHOST_INFO = 0x11,
    VOUCH_EV_OMIT_BOOT_DEVICE_EVENTS = 0x12,
    VOUCH_EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001,
    VOUCH_EV_EFI_VARIABLE_BOOT = 0x80000002,
    VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003,
    VOUCH_EV_EFI_BOOT_SERVICES_DRIVER = 0x80000004,
    VOUCH_EV_EFI_RUNTIME_SERVICES_DRIVER = 0x80000005,
    VOUCH_EV_EFI_GPT_EVENT = 0x80000006,
    VOUCH_EV_EFI_ACTION = 0x80000007,
    VOUCH_EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x80000008,
    VOUCH_EV_EFI_HANDOFF_TABLES = 0x80000009,
    VOUCH_EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000000a,
    VOUCH_EV_EFI_HANDOFF_TABLES2 = 0x8000000b,
    VOUCH_EV_EFI_VARIABLE_BOOT2 = 0x8000000c,
    VOUCH_EV_EFI_GPT_EVENT2 = 0x8000000d,
    VOUCH_EV_EFI_HCRTM_EVENT = 0x80000010,
    VOUCH_EV_EFI_VARIABLE_AUTHORITY = 0x800000e0,
    VOUCH_EV_EFI_SPDM_FIRMWARE_BLOB = 0x800000e1,
    VOUCH_EV_EFI_SPDM_FIRMWARE_CONFIG = 0x800000e2,
};

/* Caps on what a log may contain. */
#define VOUCH_TPM_EL_MAX_BANKS 8          /* digests per event / Spec ID algorithms */
#define VOUCH_TPM_EL_MAX_EVENTS 65536
#define VOUCH_TPM_EL_MAX_EVENT_SIZE (16u << 20)

struct vouch_tpm_event {
    uint32_t pcr;
    uint32_t type;
    uint32_t n_digests;
    struct {
        uint16_t alg;             /* TPM_ALG_ID */
        uint16_t size;
        const uint8_t *bytes;     /* into the log's copy of the input */
    } digests[VOUCH_TPM_EL_MAX_BANKS];
    const uint8_t *data;          /* event data, into the log */
    uint32_t data_len;
    size_t offset;                /* of the record in the input */
};

struct vouch_tpm_eventlog {
    uint8_t *raw;                 /* owned copy of the input */
    size_t raw_len;
    bool agile;                   /* crypto-agile (true) or legacy SHA-1 (false) */
    struct {                      /* the Spec ID Event03 of an agile log */
        uint32_t platform_class;
        uint8_t version_minor, version_major, errata, uintn_size;
        uint32_t n_algs;
        struct {
            uint16_t alg;
            uint16_t size;
        } algs[VOUCH_TPM_EL_MAX_BANKS];
        uint8_t vendor_info_size;
    } spec;
    struct vouch_tpm_event *events;   /* every record, the Spec ID event included */
    size_t n_events;
};

/*
 * Parse a binary event log.  Rejects an empty or truncated log, a Spec ID
 * event with specVersionMajor != 2 or more than VOUCH_TPM_EL_MAX_BANKS
 * algorithms, an agile event whose digest algorithm the Spec ID event does
 * not list, and logs over the caps above.  A first EV_NO_ACTION record that
 * is not a Spec ID Event03 makes the log a legacy SHA-1 log.  *ret owns a
 * copy of the input; free with vouch_tpm_eventlog_free().
 */
vouch_err vouch_tpm_eventlog_parse(const uint8_t *data, size_t len,
                                   struct vouch_tpm_eventlog **ret, struct vouch_errbuf *eb);

void vouch_tpm_eventlog_free(struct vouch_tpm_eventlog *log);

/* Replay flags. */
enum {
    /*
     * Opt-in fix-up for firmware that extends the two ExitBootServices
     * EV_EFI_ACTION events into PCR5 without logging them: when the log has
     * no "Exit Boot Services Invocation" event, the replay appends both
     * ("Exit Boot Services Invocation", "Exit Boot Services Returned with
     * Success") to PCR5.  vouch_tpm_eventlog_verify() only applies it when
     * the plain replay of PCR5 does not match.
     */
    VOUCH_TPM_EL_EBS_FIXUP = 1u << 0,
};

/*
 * Replay the log into PCR values per bank (every bank of a supported hash
 * that the log carries): PCRs 0-16 and 23 start at zero, 17-22 at all
 * 0xFF, PCR0 at 00..0L after an EV_NO_ACTION "StartupLocality" event with
 * locality L; EV_NO_ACTION events are not extended.  ret->mask has the PCRs
 * at least one event extended.  ret_fixup (may be NULL) says whether the
 * EBS fix-up was applied.
 */
vouch_err vouch_tpm_eventlog_replay(const struct vouch_tpm_eventlog *log, unsigned flags,
                                    struct vouch_tpm_pcrs *ret, bool *ret_fixup,
                                    struct vouch_errbuf *eb);

/*
 * Replay and compare with authenticated PCR values (from a verified
 * quote).  Every PCR the log extends, in every bank both have, must match.
 * On a difference returns VOUCH_E_VERIFY naming the first ("sha256 PCR 5
 * differs (and N more)"); no common bank gives VOUCH_E_NOT_FOUND.  In both
 * cases and on success, *ret_report (optional) is a new object:
 *   {"replayed": {bank: {pcr: hex}}, "compared": N, "mismatches": [{bank,
 *    pcr, expected (replayed), actual (quoted)}], "ebs_fixup": bool,
 *    "unverified_pcrs": {bank: [pcr...]}}  (extended but not quoted)
 */
vouch_err vouch_tpm_eventlog_verify(const struct vouch_tpm_eventlog *log,
                                    const struct vouch_tpm_pcrs *quoted, unsigned flags,
                                    json_t **ret_report, struct vouch_errbuf *eb);

/*
 * Claims of a log (call after it verified against a quote):
 *   {"format": "tcg2"|"tcg1", "banks": [...],
 *    "uefi_event_logs": [{index (the PCR), type, type_name, digests:
 *      [{alg: "SHA-256", digest}], event (base64), digest_matches_event,
 *      details: {...}}],
 *    "secure_boot": {"enabled", "verified", "pk"..: counts, "authorities"},
 *    "kernel_cmdline"?, "grub_cmds"?, "boot_applications": [...]}
 * The event objects follow trustee's uefi_event_logs shape.  *ret is new.
 */
vouch_err vouch_tpm_eventlog_claims(const struct vouch_tpm_eventlog *log, json_t **ret);

/*
 * Append the log as tpm2_eventlog-style YAML ("---", "version: 1",
 * "events:" ..., then "pcrs:" with the replayed values in tpm2_eventlog's
 * format) to out.
 */
vouch_err vouch_tpm_eventlog_format_yaml(const struct vouch_tpm_eventlog *log,
                                         const struct vouch_tpm_pcrs *replayed,
                                         struct vouch_buf *out);

#endif
