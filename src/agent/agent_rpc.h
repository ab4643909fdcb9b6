/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_AGENT_RPC_H
#define VOUCH_AGENT_RPC_H
/*
 * The agent's calls to the vTPM service: Alibaba RPC style, POST / with an
 * application/x-www-form-urlencoded body, signed with signature version 1
 * by src/rpc (the same code the service checks signatures with), sent by
 * the project's HTTP client (src/net/http_client.c).
 */
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

#define VOUCH_AGENT_RPC_VERSION "2020-06-13"

struct vouch_agent_rpc {
    const char *server;          /* "http://host:port" (a trailing '/' is fine) */
    const char *key_id;
    const char *secret;
    long timeout;                /* seconds; 0: the client's default */
};

/* What the service answered when it refused a call. */
struct vouch_agent_rpc_fault {
    long status;                 /* HTTP status; 0: no answer */
    char code[128];              /* its Code, e.g. "InvalidParameter.IMAIndex" */
    char message[384];
    int64_t next_ima_index;      /* NextClientIMAIndex of an IMAIndex error; -1: none */
};

/*
 * Call `action` with the NULL-terminated name, value, name, value, ...
 * list `params` (a NULL value skips its name), signed at time `now`.  On
 * HTTP 200 *ret is the answer's JSON object.  A refusal is VOUCH_E_AUTH
 * (a wrong signature or AccessKey, or another account's PropertyUuid:
 * retrying cannot help), VOUCH_E_NOT_FOUND (an unknown
 * instance), VOUCH_E_UNAVAILABLE (5xx) or VOUCH_E_INVALID (any other),
 * with `fault` filled and the message "ACTION: CODE: Message"; no answer
 * at all is VOUCH_E_UNAVAILABLE with fault->status 0.
 */
vouch_err vouch_agent_rpc_call(const struct vouch_agent_rpc *c, const char *action,
                               const char *const *params, int64_t now, json_t **ret,
                               struct vouch_agent_rpc_fault *fault, struct vouch_errbuf *eb);

/*
 * Whether a refusal says the service no longer knows this instance's AK
 * (it lost or replaced the enrolment), so the agent must enrol again.
 */
bool vouch_agent_lost_enrolment(const struct vouch_agent_rpc_fault *f);

#endif
