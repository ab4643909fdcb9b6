/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_NVGPU_INT_H
#define VOUCH_NVGPU_INT_H

/* Declarations shared by the files of src/evidence/nvgpu/ only. */

#include <stdint.h>

#include <openssl/x509.h>

#include "vouch/err.h"

/* Initialise libxml2 + xmlsec once and silence this thread's error output. */
vouch_err vouch_nvgpu_xml_init(struct vouch_errbuf *eb);

/*
 * The window in which every certificate of `chain` is valid: the latest
 * notBefore and the earliest notAfter (and the position of the
 * certificate that expires first).
 */
vouch_err vouch_nvgpu_chain_window(STACK_OF(X509) *chain, int64_t *ret_not_before,
                                   int64_t *ret_not_after, int *ret_first_expiring);

#endif
