/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TESTS_TPM_TESTUTIL_H
#define VOUCH_TESTS_TPM_TESTUTIL_H

/* Helpers shared by the tests/unit/test_tpm_*.c suites. */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/tpm/tpm.h"

/* Directory of the TPM vectors, relative to the source root (the tests' working directory). */
#define TPM_VEC "tests/vectors/tpm/"

/* Read a whole file (fails the test when it cannot); free with free(). */
uint8_t *tu_read(const char *path, size_t *ret_len);

/* Parse a JSON file (fails the test when it cannot). */
json_t *tu_json(const char *path);

/* Decode hex into a fresh buffer (fails the test on bad hex). */
uint8_t *tu_unhex(const char *hex, size_t *ret_len);

/* Base64 (standard) member `key` of obj, decoded (fails the test when absent or bad). */
uint8_t *tu_b64_member(const json_t *obj, const char *key, size_t *ret_len);

/* PCRs {bank: {"N": hex}} from JSON (fails the test when malformed). */
void tu_pcrs_from_json(const json_t *j, struct vouch_tpm_pcrs *ret);

#endif
