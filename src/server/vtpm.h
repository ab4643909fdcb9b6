/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_VTPM_H
#define VOUCH_SERVER_VTPM_H

#include <jansson.h>

#include "rpc/rpc.h"
#include "server/app.h"
#include "server/rpc_error.h"
#include "store/store.h"

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

struct vouch_vtpm_action {
    const char *name;
    vouch_vtpm_action_fn run;
};

/* The program-whitelist actions (vtpm_whitelist.c). */
extern const struct vouch_vtpm_action vouch_vtpm_whitelist_actions[];
extern const size_t vouch_vtpm_whitelist_n_actions;

/* The action named `name`, or NULL. */
const struct vouch_vtpm_action *vouch_vtpm_action_find(const char *name);

/* Set c->err and a printf-style detail; returns NULL for `return fail(...)`. */
json_t *vouch_vtpm_fail(struct vouch_vtpm_call *c, enum vouch_rpc_error err, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* Parameter `name` as a string of at most `max` bytes; NULL (c->err set,
 * *ret_ok false, when required or too long) when absent or empty. */
const char *vouch_vtpm_str_param(struct vouch_vtpm_call *c, const char *name, bool required,
                                 size_t max, bool *ret_ok);

/* Parameter `name` as a decimal integer in [min, max], or `dflt` when absent. */
bool vouch_vtpm_int_param(struct vouch_vtpm_call *c, const char *name, int64_t min,
                          int64_t max, int64_t dflt, int64_t *ret);

/*
 * Parameter Properties: PropertyUuids separated by commas (or a JSON array
 * of them), at most VOUCH_VTPM_PROPERTIES_MAX, every one the caller's.
 * Returns how many (uuids[] point into *ret_copy, which the caller frees
 * either way), or 0 with c->err set.
 */
#define VOUCH_VTPM_PROPERTIES_MAX 100
size_t vouch_vtpm_properties(struct vouch_vtpm_call *c, char **ret_copy,
                             const char *uuids[VOUCH_VTPM_PROPERTIES_MAX]);

/* Is PropertyUuid `uuid` an instance of the caller?  *ret (may be NULL): the instance. */
bool vouch_vtpm_own_instance(struct vouch_vtpm_call *c, const char *uuid,
                             struct vouch_store_instance **ret);

#endif
