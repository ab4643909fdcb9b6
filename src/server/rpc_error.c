/* SPDX-License-Identifier: Apache-2.0 */
#include "server/rpc_error.h"

/* Indexed by id; every id has its row (tests/unit/test_vtpm_rpc.c checks). */
static const struct vouch_rpc_error_entry table[VOUCH_RPC__COUNT] = {
    [VOUCH_RPC_MISSING_PARAMETER] = { VOUCH_RPC_MISSING_PARAMETER, 400, "MissingParameter",
        "The input parameter that is mandatory for processing this request is not supplied." },
    [VOUCH_RPC_INVALID_PARAMETER] = { VOUCH_RPC_INVALID_PARAMETER, 400, "InvalidParameter",
        "The specified parameter is not valid." },
    [VOUCH_RPC_SIGNATURE_MISMATCH] = { VOUCH_RPC_SIGNATURE_MISMATCH, 400,
        "SignatureDoesNotMatch", "Specified signature is not matched with our calculation." },
    [VOUCH_RPC_INCOMPLETE_SIGNATURE] = { VOUCH_RPC_INCOMPLETE_SIGNATURE, 400,
        "IncompleteSignature", "The request signature does not conform to the standards." },
    [VOUCH_RPC_ACCESS_KEY_NOT_FOUND] = { VOUCH_RPC_ACCESS_KEY_NOT_FOUND, 404,
        "InvalidAccessKeyId.NotFound", "Specified access key is not found." },
    [VOUCH_RPC_TIMESTAMP_EXPIRED] = { VOUCH_RPC_TIMESTAMP_EXPIRED, 400,
        "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired." },
    [VOUCH_RPC_NONCE_USED] = { VOUCH_RPC_NONCE_USED, 400, "SignatureNonceUsed",
        "Specified signature nonce was used already." },
    [VOUCH_RPC_THROTTLED] = { VOUCH_RPC_THROTTLED, 400, "Throttling.User",
        "Request was denied due to user flow control." },
    [VOUCH_RPC_RATE_LIMITED] = { VOUCH_RPC_RATE_LIMITED, 429, "Throttling",
        "Request was denied due to request throttling." },
    [VOUCH_RPC_NOT_OWNER] = { VOUCH_RPC_NOT_OWNER, 403, "Forbidden.NotOwner",
        "The instance or program whitelist belongs to another account." },
    [VOUCH_RPC_INSTANCE_NOT_FOUND] = { VOUCH_RPC_INSTANCE_NOT_FOUND, 404,
        "InvalidPropertyUuid.NotFound", "The specified instance is not registered." },
    [VOUCH_RPC_ACTION_NOT_FOUND] = { VOUCH_RPC_ACTION_NOT_FOUND, 404, "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method." },
    [VOUCH_RPC_VERSION_NOT_SUPPORTED] = { VOUCH_RPC_VERSION_NOT_SUPPORTED, 400,
        "InvalidVersion", "Specified parameter Version is not valid." },
    [VOUCH_RPC_METHOD_NOT_ALLOWED] = { VOUCH_RPC_METHOD_NOT_ALLOWED, 405,
        "UnsupportedHTTPMethod", "The HTTP method is not supported: send GET or POST." },
    [VOUCH_RPC_TOO_LARGE] = { VOUCH_RPC_TOO_LARGE, 400, "InvalidParameter.TooLarge",
        "The request carries more than the service accepts." },
    [VOUCH_RPC_UNAVAILABLE] = { VOUCH_RPC_UNAVAILABLE, 503, "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server." },
    [VOUCH_RPC_INTERNAL] = { VOUCH_RPC_INTERNAL, 500, "InternalError",
        "The request processing has failed due to some unknown error." },
    [VOUCH_RPC_IMA_INDEX] = { VOUCH_RPC_IMA_INDEX, 400, "InvalidParameter.IMAIndex",
        "The IMA log does not start at the index the service expects." },
    [VOUCH_RPC_REPORT_NONCE] = { VOUCH_RPC_REPORT_NONCE, 400, "InvalidParameter.Nonce",
        "The report nonce is unknown, used, expired or another instance's." },
    [VOUCH_RPC_EVIDENCE_REJECTED] = { VOUCH_RPC_EVIDENCE_REJECTED, 400,
        "InvalidParameter.Evidence", "The evidence in FileData did not verify." },
    [VOUCH_RPC_AK_NOT_ENROLLED] = { VOUCH_RPC_AK_NOT_ENROLLED, 403, "Forbidden.AkNotEnrolled",
        "The instance has no attestation key; call ProduceAikcert first." },
    [VOUCH_RPC_EK_UNTRUSTED] = { VOUCH_RPC_EK_UNTRUSTED, 400, "InvalidParameter.EkCert",
        "The EK certificate does not chain to a configured TPM manufacturer root." },
    [VOUCH_RPC_EVENT_NOT_FOUND] = { VOUCH_RPC_EVENT_NOT_FOUND, 404, "InvalidEventUuid.NotFound",
        "The specified event does not exist." },
    [VOUCH_RPC_EVENT_HANDLED] = { VOUCH_RPC_EVENT_HANDLED, 400, "IncorrectStatus.EventHandled",
        "The specified event is already handled." },
    [VOUCH_RPC_CONCURRENT_REPORT] = { VOUCH_RPC_CONCURRENT_REPORT, 409,
        "Conflict.ConcurrentReport", "Another report of the instance was accepted meanwhile." },
    [VOUCH_RPC_NO_REPORT] = { VOUCH_RPC_NO_REPORT, 404, "InvalidReport.NotFound",
        "The instance has no accepted report yet." },
    [VOUCH_RPC_WHITELIST_NOT_FOUND] = { VOUCH_RPC_WHITELIST_NOT_FOUND, 404,
        "InvalidWhiteListId.NotFound", "The specified program whitelist does not exist." },
    [VOUCH_RPC_WHITELIST_IN_USE] = { VOUCH_RPC_WHITELIST_IN_USE, 409,
        "OperationDenied.WhiteListInUse",
        "The program whitelist is assigned to instances; unassign it first." },
    [VOUCH_RPC_WHITELIST_NAME_EXISTS] = { VOUCH_RPC_WHITELIST_NAME_EXISTS, 409,
        "InvalidWhiteListName.Duplicate", "A program whitelist with this name exists." },
};

const struct vouch_rpc_error_entry *vouch_rpc_error_find(enum vouch_rpc_error id)
{
    if ((unsigned)id >= VOUCH_RPC__COUNT)
        id = VOUCH_RPC_INTERNAL;
    return &table[id];
}

const struct vouch_rpc_error_entry *vouch_rpc_error_table(size_t *ret_n)
{
    *ret_n = VOUCH_RPC__COUNT;
    return table;
}

enum vouch_rpc_error vouch_rpc_error_of(vouch_err e)
{
    switch (e) {
    case VOUCH_E_INVALID:
    case VOUCH_E_TRUNCATED:
    case VOUCH_E_UNSUPPORTED:
        return VOUCH_RPC_INVALID_PARAMETER;
    case VOUCH_E_TOO_LARGE:
        return VOUCH_RPC_TOO_LARGE;
    case VOUCH_E_LIMIT:
    case VOUCH_E_RATE_LIMITED:
        return VOUCH_RPC_THROTTLED;
    case VOUCH_E_NOT_FOUND:
        return VOUCH_RPC_INSTANCE_NOT_FOUND;
    case VOUCH_E_CONFLICT:
        return VOUCH_RPC_NOT_OWNER;
    case VOUCH_E_IO:
    case VOUCH_E_STORE:
    case VOUCH_E_UNAVAILABLE:
    case VOUCH_E_NOMEM:
        return VOUCH_RPC_UNAVAILABLE;
    default:
        return VOUCH_RPC_INTERNAL;
    }
}
