/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver over the TOML reader and the init-data claims built on
 * it (embedded aa.toml/cdh.toml, the agent policy through the Rego engine).
 * Invariants: no crash, no leak, outputs only on success, and what it
 * accepts is a JSON object.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/toml.h"
#include "policy/initdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL, *claims = NULL;
    enum vouch_hash alg;

    if (vouch_toml_parse((const char *)data, size, &v, NULL) == VOUCH_OK) {
        if (!json_is_object(v))
            abort();
        json_decref(v);
    } else if (v) {
        abort();
    }
    if (vouch_initdata_parse((const char *)data, size, &alg, &claims, NULL) ==
        VOUCH_OK) {
        struct vouch_initdata_eval opts = { 1700000000, 0, NULL, NULL };

        if (!json_is_object(claims))
            abort();
        (void)vouch_initdata_agent_policy(claims, &opts, NULL);
        json_decref(claims);
    }
    return 0;
}
