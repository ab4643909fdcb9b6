/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_VTPM_H
#define VOUCH_SERVER_VTPM_H

#include <stdbool.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/buf.h"
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
    /* On failure: the error and a detail (naming the parameter at fault),
     * and fields the error body carries besides Code and Message (or NULL). */
    enum vouch_rpc_error err;
    char detail[VOUCH_VTPM_DETAIL_MAX];
    json_t *error_fields;
};

/* Status numbers (docs/vtpm.md). */
#define VOUCH_VTPM_TRUSTED 1
#define VOUCH_VTPM_UNTRUSTED 2
#define VOUCH_VTPM_UNMEASURED 3
#define VOUCH_VTPM_NOT_EVALUATED 4
#define VOUCH_VTPM_NO_WHITELIST (-1)

/* The code string of a status number ("TrustedStatus", ...). */
const char *vouch_vtpm_status_code(int64_t status);

/* An action: its success body (without RequestId), or NULL with c->err set. */
typedef json_t *(*vouch_vtpm_action_fn)(struct vouch_vtpm_call *c);
/* An action that writes its success body as JSON text: the members, without
 * the braces and without RequestId, appended to `members`; false with c->err set. */
typedef bool (*vouch_vtpm_write_fn)(struct vouch_vtpm_call *c, struct vouch_buf *members);

/* Action flags: VOUCH_VTPM_AUDITED changes state, so each call is audited. */
#define VOUCH_VTPM_AUDITED 1u

struct vouch_vtpm_action {
    const char *name;
    vouch_vtpm_action_fn run;           /* one of run and write */
    unsigned flags;
    vouch_vtpm_write_fn write;
};

/* The program-whitelist actions (vtpm_whitelist.c). */
extern const struct vouch_vtpm_action vouch_vtpm_whitelist_actions[];
extern const size_t vouch_vtpm_whitelist_n_actions;

/* The action named `name`, or NULL. */
const struct vouch_vtpm_action *vouch_vtpm_action_find(const char *name);

/* Set c->err and a printf-style detail; returns NULL for `return fail(...)`. */
json_t *vouch_vtpm_fail(struct vouch_vtpm_call *c, enum vouch_rpc_error err, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* Parameter `name` as a string of at most `max` bytes; NULL when absent
 * (then *ret_ok is false and c->err set when it is required). */
const char *vouch_vtpm_param_str(struct vouch_vtpm_call *c, const char *name, bool required,
                                 size_t max, bool *ret_ok);
/* Parameter `name` as a decimal integer in [min, max], or `dflt` when absent. */
bool vouch_vtpm_param_int(struct vouch_vtpm_call *c, const char *name, int64_t min,
                          int64_t max, int64_t dflt, int64_t *ret);
/* A list action's page number, parameter `name` (PageNumber or CurrentPage),
 * from 1, default 1; the other spelling is accepted too, and both with
 * different values are an InvalidParameter. */
bool vouch_vtpm_param_page(struct vouch_vtpm_call *c, const char *name, int64_t *ret);
/* Parameter `name`: ids separated by commas (or a JSON array of them), 1 to
 * `max`, into ids[] pointing into *ret_copy (free() it in any case).
 * Returns how many, or 0 with c->err set. */
size_t vouch_vtpm_param_list(struct vouch_vtpm_call *c, const char *name, size_t max,
                             const char **ids, char **ret_copy);
/* Is `uuid` an instance of the caller (c->err set when not)?  *ret (may be
 * NULL): the instance, free with vouch_store_instance_free(). */
bool vouch_vtpm_own_instance(struct vouch_vtpm_call *c, const char *uuid,
                             struct vouch_store_instance **ret);

/* Reports and AK enrolment (vtpm_report.c). */
json_t *vouch_vtpm_produce_aikcert(struct vouch_vtpm_call *c);
json_t *vouch_vtpm_put_message(struct vouch_vtpm_call *c);

/* The cache of parsed AKs PutMessage verifies quotes with (app->vtpm_ak_cache). */
vouch_err vouch_vtpm_ak_cache_new(struct vouch_cache **ret, struct vouch_errbuf *eb);
/* The baseline and events (vtpm_events.c). */
json_t *vouch_vtpm_describe_boot(struct vouch_vtpm_call *c);
json_t *vouch_vtpm_describe_events(struct vouch_vtpm_call *c);
json_t *vouch_vtpm_trust_events(struct vouch_vtpm_call *c);
json_t *vouch_vtpm_ignore_events(struct vouch_vtpm_call *c);
/* The report history (vtpm_history.c): DescribeReports, and the stored
 * PCR events of a report merged into its summary's Pcrs.pcrN (Events,
 * EventsOmitted); false when they do not parse or memory runs out. */
json_t *vouch_vtpm_describe_reports(struct vouch_vtpm_call *c);
bool vouch_vtpm_pcr_events_merge(json_t *last, const char *pcr_events);
/* {"pcrN": value} of the instance's open system events, merged into `ext`. */
bool vouch_vtpm_open_pcrs(struct vouch_vtpm_call *c, const char *uuid, json_t *ext);

/*
 * Start-up and shutdown of the vTPM service's own keys (vtpm_ca.c): the
 * AK CA (made and stored on first start) and --vtpm-ek-roots.
 */
vouch_err vouch_vtpm_setup(struct vouch_app *app, struct vouch_errbuf *eb);
void vouch_vtpm_done(struct vouch_app *app);

/* An AK certificate for `ak` with subject CN=cn, valid a year from now (Unix s). */
vouch_err vouch_vtpm_ca_issue(const struct vouch_app *app, EVP_PKEY *ak, const char *cn,
                              int64_t now, char **ret_pem, struct vouch_errbuf *eb);

#endif
