/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: evaluation.  The input is "POLICY\x00QUERY\x00INPUT":
 * a module, a query and a JSON input document (missing parts are empty).
 * Evaluation runs with small limits, strict and not, against data with a
 * few values; it must end with a result or an error, never a crash, a hang
 * or a leak.  Each evaluation has a wall-clock budget of FUZZ_TIME_NS, far
 * below libFuzzer's -timeout (10 s in fuzz/run): an input that runs into
 * that timeout found work the engine neither charges nor clocks.
 */
#define FUZZ_TIME_NS (250 * 1000000ull)
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rego/rego.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vouch_err refval(void *ctx, json_t *const *args, size_t nargs, json_t **ret,
                        struct vouch_errbuf *eb)
{
    (void)ctx;
    if (nargs != 1 || !json_is_string(args[0]))
        return vouch_fail(eb, VOUCH_E_INVALID, "bad id");
    *ret = json_pack("[s,i]", json_string_value(args[0]), 7);
    return VOUCH_OK;
}

static const char *next_part(const char **p, const char *end, size_t *ret_len)
{
    const char *s = *p, *z;

    if (s >= end) {
        *ret_len = 0;
        return s;
    }
    z = memchr(s, 0, (size_t)(end - s));
    if (!z)
        z = end;
    *ret_len = (size_t)(z - s);
    *p = z < end ? z + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vouch_rego_host host = { "query_reference_value", 1, refval };
    struct vouch_rego_compile_opts opts = { 0, &host, 1 };
    const char *p = (const char *)data, *end = p + size, *pol, *q, *in;
    size_t npol, nq, nin;
    struct vouch_rego_module m;
    struct vouch_rego_policy *policy = NULL;
    struct vouch_rego_doc *input = NULL, *ddoc = NULL;
    struct vouch_errbuf eb;
    char *query;
    int strict;

    if (size > 64 * 1024)
        return 0;
    pol = next_part(&p, end, &npol);
    q = next_part(&p, end, &nq);
    in = next_part(&p, end, &nin);
    m.name = "fuzz.rego";
    m.text = pol;
    m.len = npol;
    if (vouch_rego_compile(&m, 1, &opts, &policy, &eb))
        return 0;
    if (nin && vouch_rego_doc_parse(in, nin, &input, &eb))
        input = NULL;
    if (vouch_rego_doc_parse("{\"a\":[1,2,3],\"b\":{\"c\":\"d\"},\"n\":18446744073709551616}", 50,
                             &ddoc, &eb))
        ddoc = NULL;
    query = malloc(nq + 1);
    if (query) {
        memcpy(query, q, nq);
        query[nq] = '\0';
        for (strict = 0; strict < 2; strict++) {
            struct vouch_rego_eval_args a = { 0 };
            char *out = NULL;

            a.input_doc = input;
            a.data_doc = ddoc;
            a.now_ns = 1700000000000000000LL;
            a.flags = strict ? VOUCH_REGO_STRICT : 0;
            a.limits.max_steps = 50000;
            a.limits.max_memory = 8 << 20;
            a.limits.max_output = 64 << 10;
            a.limits.max_depth = 64;
            a.limits.max_time_ns = FUZZ_TIME_NS;
            if (vouch_rego_query(policy, nq ? query : "x := data", &a, VOUCH_REGO_RESULT_FULL, &out,
                                 NULL, &eb) == VOUCH_OK)
                free(out);
        }
        free(query);
    }
    vouch_rego_doc_free(input);
    vouch_rego_doc_free(ddoc);
    vouch_rego_policy_free(policy);
    return 0;
}
