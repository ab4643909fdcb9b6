/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_POLICY_ENGINE_H
#define VOUCH_POLICY_ENGINE_H

#include <stdint.h>

#include <jansson.h>

#include "store/store.h"
#include "vouch/err.h"

/*
 * The seam between appraisal policies and the Rego engine (engine.c is the
 * only file that knows src/rego's API).
 */
struct vouch_engine_policy;

/* Compile one module; errors read "NAME:LINE:COL: message". */
vouch_err vouch_engine_compile(const char *name, const char *text, size_t len,
                               struct vouch_engine_policy **ret, struct vouch_errbuf *eb);
void vouch_engine_policy_free(struct vouch_engine_policy *p);

/*
 * Evaluate data.policy for `input`; *ret is the package's document (an
 * object; empty when nothing is defined).  query_reference_value reads
 * `store` at `now`.
 */
vouch_err vouch_engine_eval(const struct vouch_engine_policy *p, const json_t *input,
                            struct vouch_store *store, int64_t now, json_t **ret,
                            struct vouch_errbuf *eb);

#endif
