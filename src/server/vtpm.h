/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_VTPM_H
#define VOUCH_SERVER_VTPM_H

#include <jansson.h>

#include "rpc/rpc.h"
#include "server/app.h"
#include "server/rpc_error.h"

/*
 * The vTPM service's actions (vtpm_actions.c), called by the RPC endpoint
 * (api_vtpm.c) once the request is authenticated: `account` owns the
 * access key that signed it.
 */
#define VOUCH_VTPM_VERSION "2020-06-13"
#define VOUCH_VTPM_DETAIL_MAX 320

struct vouch_vtpm_call {
    struct vouch_app *app;
    const struct vouch_rpc_params *params;   /* query and form body together */
    const char *account;
    int64_t now_ms;
    /* On failure: the error and a detail (naming the parameter at fault). */
    enum vouch_rpc_error err;
    char detail[VOUCH_VTPM_DETAIL_MAX];
};

/* An action: its success body (without RequestId), or NULL with c->err set. */
typedef json_t *(*vouch_vtpm_action_fn)(struct vouch_vtpm_call *c);

/* Action flags: VOUCH_VTPM_AUDITED changes state, so each call is audited. */
#define VOUCH_VTPM_AUDITED 1u

struct vouch_vtpm_action {
    const char *name;
    vouch_vtpm_action_fn run;
    unsigned flags;
};

/* The action named `name`, or NULL. */
const struct vouch_vtpm_action *vouch_vtpm_action_find(const char *name);

/* Set c->err and a printf-style detail; returns NULL for `return fail(...)`. */
json_t *vouch_vtpm_fail(struct vouch_vtpm_call *c, enum vouch_rpc_error err, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

#endif
