/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_RPC_ERROR_H
#define VOUCH_SERVER_RPC_ERROR_H

#include <stddef.h>

#include "vouch/err.h"

/*
 * The error table of the vTPM service's RPC-style API (api_vtpm.c): every
 * error answer is one row, with its HTTP status and Alibaba-style Code.
 * The body is {RequestId, HostId, Code, Message, Recommend}.  docs/vtpm.md
 * lists the table row for row.
 */
enum vouch_rpc_error {
    VOUCH_RPC_MISSING_PARAMETER = 0,
    VOUCH_RPC_INVALID_PARAMETER,
    VOUCH_RPC_SIGNATURE_MISMATCH,
    VOUCH_RPC_INCOMPLETE_SIGNATURE,
    VOUCH_RPC_ACCESS_KEY_NOT_FOUND,
    VOUCH_RPC_TIMESTAMP_EXPIRED,
    VOUCH_RPC_NONCE_USED,
    VOUCH_RPC_THROTTLED,
    VOUCH_RPC_RATE_LIMITED,
    VOUCH_RPC_NOT_OWNER,
    VOUCH_RPC_INSTANCE_NOT_FOUND,
    VOUCH_RPC_ACTION_NOT_FOUND,
    VOUCH_RPC_VERSION_NOT_SUPPORTED,
    VOUCH_RPC_METHOD_NOT_ALLOWED,
    VOUCH_RPC_TOO_LARGE,
    VOUCH_RPC_UNAVAILABLE,
    VOUCH_RPC_INTERNAL,
    /* reports, AK enrolment, events */
    VOUCH_RPC_IMA_INDEX,
    VOUCH_RPC_REPORT_NONCE,
    VOUCH_RPC_EVIDENCE_REJECTED,
    VOUCH_RPC_AK_NOT_ENROLLED,
    VOUCH_RPC_EK_UNTRUSTED,
    VOUCH_RPC_EVENT_NOT_FOUND,
    VOUCH_RPC_EVENT_HANDLED,
    VOUCH_RPC_CONCURRENT_REPORT,
    VOUCH_RPC_NO_REPORT,
    VOUCH_RPC_WHITELIST_NOT_FOUND,
    VOUCH_RPC_WHITELIST_IN_USE,
    VOUCH_RPC_WHITELIST_NAME_EXISTS,
    VOUCH_RPC__COUNT
};

struct vouch_rpc_error_entry {
    enum vouch_rpc_error id;
    unsigned status;
    const char *code;
    const char *message;   /* the fixed part; the handler may add a detail */
};

/* The row of `id` (VOUCH_RPC_INTERNAL's for an unknown value).  Never NULL. */
const struct vouch_rpc_error_entry *vouch_rpc_error_find(enum vouch_rpc_error id);

/* The whole table, for documentation and tests. */
const struct vouch_rpc_error_entry *vouch_rpc_error_table(size_t *ret_n);

/* The RPC error for a library failure of kind `e` on the request's input. */
enum vouch_rpc_error vouch_rpc_error_of(vouch_err e);

#endif
