/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TCG_UEFI_H
#define VOUCH_EVIDENCE_TCG_UEFI_H

/*
 * Decoders for the UEFI structures found in event data: GUIDs, UCS-2
 * strings, device paths (rendered as efivar/tpm2_eventlog render them),
 * UEFI_VARIABLE_DATA, EFI_SIGNATURE_LIST, UEFI_IMAGE_LOAD_EVENT.  Internal
 * to src/evidence/tcg/ and its users (tpm, dcap); every function
 * bounds-checks its input.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "vouch/err.h"

#define UEFI_GUID_STR_LEN 37

/* Canonical lower-case GUID text (mixed-endian fields, as UEFI prints it). */
void vouch_uefi_guid_str(const uint8_t g[16], char out[UEFI_GUID_STR_LEN]);

/* The raw bytes grouped 4-2-2-2-6, as trustee renders variable_name. */
void vouch_uefi_guid_raw_str(const uint8_t g[16], char out[UEFI_GUID_STR_LEN]);

/*
 * UCS-2/UTF-16LE to UTF-8, stopping at the first NUL or after nbytes
 * (odd trailing byte ignored).  Unpaired surrogates become U+FFFD.
 */
vouch_err vouch_uefi_utf16_append(const uint8_t *p, size_t nbytes, struct vouch_buf *out);

/*
 * Render a device path ("PciRoot(0x0)/Pci(0x3,0x0)/HD(...)/File(\EFI\...)").
 * `nodes` (may be NULL) receives one string per node.  Fails only on
 * allocation; malformed input ends the text with a "Path(...)" node or
 * stops at the last well-formed node.
 */
vouch_err vouch_uefi_device_path(const uint8_t *p, size_t len, struct vouch_buf *out,
                                 json_t *nodes);

/* A UEFI_VARIABLE_DATA. */
struct uefi_variable {
    const uint8_t *guid;
    uint64_t name_chars;
    uint64_t data_len;
    const uint8_t *name;      /* UTF-16LE, name_chars * 2 bytes */
    const uint8_t *data;
};

/* Parse a UEFI_VARIABLE_DATA; false if malformed. */
bool vouch_uefi_variable_parse(const uint8_t *p, size_t len, struct uefi_variable *ret);

/* Whether the variable's name equals the ASCII string s. */
bool vouch_uefi_variable_is(const struct uefi_variable *v, const char *s);

/*
 * Decode a list of EFI_SIGNATURE_LISTs (PK/KEK/db/dbx/MokList) into an
 * array of {"type": "x509"|"sha256"|"sha1"|guid, "owner": guid, and
 * "subject" + "sha256" (certificates) or "digest"}.  Entries beyond `max`
 * are counted but not listed.  Returns NULL if malformed.
 */
json_t *vouch_uefi_signature_lists(const uint8_t *p, size_t len, size_t max, size_t *ret_count);

/* One EFI_SIGNATURE_DATA (owner GUID + data) of a known type, as above. */
json_t *vouch_uefi_signature_data(const uint8_t *p, size_t len);

#endif
