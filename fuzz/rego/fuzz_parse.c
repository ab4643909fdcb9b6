/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the Rego parser and compiler.  The input is one module
 * (v1 grammar, or v0 when the first byte is '0').  Any input must give a
 * policy or an error, never a crash; a compiled policy is evaluated once
 * with small limits, a wall-clock budget among them (far below libFuzzer's
 * -timeout, so a timeout is a real finding), to walk what the compiler built.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rego/rego.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_rego_compile_opts opts = { 0, NULL, 0 };
    struct vouch_rego_module m;
    struct vouch_rego_policy *p = NULL;
    struct vouch_errbuf eb;

    if (size > 64 * 1024)
        return 0;
    if (size && data[0] == '0') {
        opts.flags = VOUCH_REGO_V0;
        data++;
        size--;
    }
    m.name = "fuzz.rego";
    m.text = (const char *)data;
    m.len = size;
    if (vouch_rego_compile(&m, 1, &opts, &p, &eb) == VOUCH_OK) {
        struct vouch_rego_eval_args a = { 0 };
        char *out = NULL;

        a.limits.max_steps = 20000;
        a.limits.max_memory = 4 << 20;
        a.limits.max_output = 64 << 10;
        a.limits.max_time_ns = 250 * 1000000ull;
        if (vouch_rego_query(p, "x := data", &a, VOUCH_REGO_RESULT_BINDINGS, &out, NULL, &eb) ==
            VOUCH_OK)
            free(out);
        vouch_rego_policy_free(p);
    }
    return 0;
}
