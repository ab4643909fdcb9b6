/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TEST_NVGPU_UTIL_H
#define VOUCH_TEST_NVGPU_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Helpers shared by the NVIDIA GPU test suites.  Paths are relative to the
 * source root (tests run there); every loader fails the test on error and
 * returns memory the caller frees with free().
 */

#define NV_VEC "tests/vectors/nvgpu/"

/* A whole file, NUL-terminated. */
uint8_t *nv_load(const char *path, size_t *ret_len);

/* A hex text file (attestation reports as NVIDIA ships them), decoded. */
uint8_t *nv_load_hex(const char *path, size_t *ret_len);

/* Unix time of "YYYY-MM-DDTHH:MM:SSZ". */
int64_t nv_time(const char *rfc3339);

#endif
