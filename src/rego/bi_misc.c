/* SPDX-License-Identifier: Apache-2.0 */
/* Miscellaneous builtins. */
#include <string.h>

#include "rego/builtins.h"

BI(bi_trace)
{
    (void)ev;
    (void)a;
    *ret = RV_TRUE;
    return BI_OK;
}

/* The runtime environment: policies see none (no environment access). */
BI(bi_opa_runtime)
{
    (void)ev;
    (void)a;
    *ret = &rv_empty_obj_v;
    return BI_OK;
}

const struct builtin bi_misc_table[] = {
    { "trace", 1, 0, bi_trace },
    { "opa.runtime", 0, 0, bi_opa_runtime },
};

const size_t bi_misc_count = sizeof(bi_misc_table) / sizeof(bi_misc_table[0]);
