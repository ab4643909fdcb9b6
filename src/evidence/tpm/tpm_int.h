/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_INT_H
#define VOUCH_EVIDENCE_TPM_INT_H

/*
 * Internal helpers shared by the files of src/evidence/tpm/: the digest,
 * byte and JSON helpers are the TCG module's (evidence/tcg/tcg.h).
 */

#include "evidence/tcg/tcg.h"

#endif
