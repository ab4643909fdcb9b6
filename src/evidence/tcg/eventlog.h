/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TCG_EVENTLOG_H
#define VOUCH_EVIDENCE_TCG_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * TCG PC Client platform firmware event logs: the crypto-agile format
 * (first event a "Spec ID Event03" EV_NO_ACTION, then TCG_PCR_EVENT2
 * records with one digest per bank) and the legacy SHA-1 format
 * (TCG_PCR_EVENT records only).  Little-endian throughout.  Shared by the
 * TPM's binary_bios_measurements (src/evidence/tpm, index = PCR) and TDX's
 * CC event log (src/evidence/dcap/ccel.c, index = CC measurement register).
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
#define VOUCH_TCG_EL_MAX_BANKS 8          /* digests per event / Spec ID algorithms */
#define VOUCH_TCG_EL_MAX_EVENTS 65536
#define VOUCH_TCG_EL_MAX_EVENT_SIZE (16u << 20)

struct vouch_tcg_event {
    uint32_t pcr;                 /* the index: TPM PCR or CC MR index */
    uint32_t type;
    uint32_t n_digests;
    struct {
        uint16_t alg;             /* TPM_ALG_ID */
        uint16_t size;
        const uint8_t *bytes;     /* into the log's copy of the input */
    } digests[VOUCH_TCG_EL_MAX_BANKS];
    const uint8_t *data;          /* event data, into the log */
    uint32_t data_len;
    size_t offset;                /* of the record in the input */
};

struct vouch_tcg_eventlog {
    uint8_t *raw;                 /* owned copy of the input */
    size_t raw_len;
    bool agile;                   /* crypto-agile (true) or legacy SHA-1 (false) */
    uint32_t n_indexes;           /* indexes 0..n_indexes-1 are valid (PCRs, CC MRs) */
    struct {                      /* the Spec ID Event03 of an agile log */
        uint32_t platform_class;
        uint8_t version_minor, version_major, errata, uintn_size;
        uint32_t n_algs;
        struct {
            uint16_t alg;
            uint16_t size;
        } algs[VOUCH_TCG_EL_MAX_BANKS];
        uint8_t vendor_info_size;
    } spec;
    struct vouch_tcg_event *events;   /* every record, the Spec ID event included */
    size_t n_events;
};

/*
 * Parse a binary event log.  Rejects an empty or truncated log, a Spec ID
 * event with specVersionMajor != 2 or more than VOUCH_TCG_EL_MAX_BANKS
 * algorithms, an agile event whose digest algorithm the Spec ID event does
 * not list, and logs over the caps above.  A first EV_NO_ACTION record that
 * is not a Spec ID Event03 makes the log a legacy SHA-1 log.  A record
 * index must be below n_indexes (24 PCRs for a TPM, 5 CC MRs for TDX),
 * except in EV_NO_ACTION records.  The log ends at the end of the input or
 * where only zero fill or only 0xFF fill is left.  *ret owns a copy of the
 * input; free with vouch_tcg_eventlog_free().
 */
vouch_err vouch_tcg_eventlog_parse(const uint8_t *data, size_t len, uint32_t n_indexes,
                                   struct vouch_tcg_eventlog **ret, struct vouch_errbuf *eb);

/*
 * The same for a log in data, a malloc'ed buffer of len bytes that *ret takes
 * over instead of copying (a decoded log is not copied again); data is freed
 * here when parsing fails.
 */
vouch_err vouch_tcg_eventlog_parse_owned(uint8_t *data, size_t len, uint32_t n_indexes,
                                         struct vouch_tcg_eventlog **ret,
                                         struct vouch_errbuf *eb);

void vouch_tcg_eventlog_free(struct vouch_tcg_eventlog *log);

/* The tpm2-tools name of an event type ("EV_SEPARATOR"), or NULL. */
const char *vouch_tcg_event_type_name(uint32_t type);

/* Event types whose data is a UEFI_VARIABLE_DATA / a UEFI_IMAGE_LOAD_EVENT. */
bool vouch_tcg_is_variable_event(uint32_t type);
bool vouch_tcg_is_image_event(uint32_t type);

/*
 * Event data as a JSON string: UTF-16LE when it looks like it, else
 * printable UTF-8/ASCII (trailing NULs dropped); NULL when it is neither.
 */
json_t *vouch_tcg_text_json(const uint8_t *d, size_t n);

/*
 * Whether the event data hashes to the event's digests in every supported
 * bank (for event types whose digest is defined over the data, with the
 * usual variants: grub's "grub_cmd: " prefix, a trailing NUL).
 */
bool vouch_tcg_event_digest_matches(const struct vouch_tcg_event *ev);

/* Flags of vouch_tcg_event_claims(). */
enum {
    /*
     * Leave the decoded EFI_SIGNATURE_LISTs of PK/KEK/db/dbx/dbt/dbr and the
     * authority of EV_EFI_VARIABLE_AUTHORITY out of the details (the raw
     * variable data stays): the costliest part, hundreds of dbx entries.
     */
    VOUCH_TCG_CLAIMS_NO_SIGNATURES = 1u << 0,
};

/*
 * The claims of one event, in trustee's uefi_event_logs shape: {index,
 * type, type_name, digests: [{alg: "SHA-384", digest}], event (base64),
 * digest_matches_event, details: {...}} with details decoded from the
 * event data (UEFI variables, device paths, tags, strings).  *ret is new.
 */
vouch_err vouch_tcg_event_claims(const struct vouch_tcg_eventlog *log,
                                 const struct vouch_tcg_event *ev, unsigned flags, json_t **ret);

/* Only the `details` object of vouch_tcg_event_claims().  *ret is new. */
vouch_err vouch_tcg_event_details(const struct vouch_tcg_eventlog *log,
                                  const struct vouch_tcg_event *ev, unsigned flags, json_t **ret);

#endif
