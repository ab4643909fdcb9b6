/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's state file, state.json in --state-dir:
 *   {"version": 1, "uuid": "...", "registered": true,
 *    "ak_handle": 2164326403, "ak_name": "000b...", "ak_cert": "-----BEGIN...",
 *    "ak_active": true, "ima_next": 1234, "boot_id": "..."}
 * Pure (agent.h): main.c reads and writes the file.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/agent.h"
#include "common/codec.h"
#include "common/json.h"

#define STATE_VERSION 1

void vouch_agent_state_init(struct vouch_agent_state *s)
{
    memset(s, 0, sizeof(*s));
}

void vouch_agent_state_done(struct vouch_agent_state *s)
{
    if (!s)
        return;
    free(s->ak_cert);
    s->ak_cert = NULL;
}

void vouch_agent_state_forget_ak(struct vouch_agent_state *s)
{
    free(s->ak_cert);
    s->ak_cert = NULL;
    s->ak_active = false;
    s->registered = false;
    s->ima_next = 0;
}

static vouch_err copy_str(const json_t *doc, const char *key, char *out, size_t size,
                          struct vouch_errbuf *eb)
{
    const char *v = NULL;
    vouch_err e = vouch_json_get_str(doc, key, false, &v, NULL, eb);

    if (e)
        return e;
    if (v && strlen(v) >= size)
        return vouch_fail_field(eb, VOUCH_E_INVALID, key, "%s: longer than %zu", key, size - 1);
    snprintf(out, size, "%s", v ? v : "");
    return VOUCH_OK;
}

static vouch_err ak_fields(const json_t *doc, struct vouch_agent_state *s,
                           struct vouch_errbuf *eb)
{
    const char *name = NULL, *cert = NULL;
    int64_t handle = 0;
    vouch_err e;

    if ((e = vouch_json_get_int(doc, "ak_handle", false, &handle, eb)) ||
        (e = vouch_json_get_str(doc, "ak_name", false, &name, NULL, eb)) ||
        (e = vouch_json_get_str(doc, "ak_cert", false, &cert, NULL, eb)) ||
        (e = vouch_json_get_bool(doc, "ak_active", false, &s->ak_active, eb)))
        return e;
    if (handle < 0 || handle > UINT32_MAX)
        return vouch_fail_field(eb, VOUCH_E_INVALID, "ak_handle", "ak_handle out of range");
    s->ak_handle = (uint32_t)handle;
    if (name) {
        size_t n = strlen(name) / 2;

        if (n > sizeof(s->ak_name) ||
            vouch_hex_decode_exact(name, strlen(name), s->ak_name, n, eb))
            return vouch_fail_field(eb, VOUCH_E_INVALID, "ak_name", "ak_name: not a Name");
        s->ak_name_len = n;
    }
    if (cert && !(s->ak_cert = strdup(cert)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

vouch_err vouch_agent_state_parse(const char *text, size_t len, struct vouch_agent_state *ret,
                                  struct vouch_errbuf *eb)
{
    struct vouch_agent_state s;
    json_t *doc = NULL;
    int64_t version = 0, next = 0;
    vouch_err e;

    vouch_agent_state_init(&s);
    if (len > VOUCH_AGENT_STATE_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "state: over %u bytes", VOUCH_AGENT_STATE_MAX);
    e = vouch_json_parse(text, len, &doc, eb);
    if (!e && !json_is_object(doc))
        e = vouch_fail(eb, VOUCH_E_INVALID, "state: not a JSON object");
    if (!e)
        e = vouch_json_get_int(doc, "version", true, &version, eb);
    if (!e && version != STATE_VERSION)
        e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "state: version %lld", (long long)version);
    if (!e)
        e = copy_str(doc, "uuid", s.uuid, sizeof(s.uuid), eb);
    if (!e)
        e = copy_str(doc, "boot_id", s.boot_id, sizeof(s.boot_id), eb);
    if (!e)
        e = vouch_json_get_bool(doc, "registered", false, &s.registered, eb);
    if (!e)
        e = vouch_json_get_int(doc, "ima_next", false, &next, eb);
    if (!e && next < 0)
        e = vouch_fail_field(eb, VOUCH_E_INVALID, "ima_next", "ima_next: negative");
    if (!e)
        e = ak_fields(doc, &s, eb);
    json_decref(doc);
    if (e) {
        vouch_agent_state_done(&s);
        return vouch_fail_prefix(eb, e, "state: ");
    }
    s.ima_next = (uint64_t)next;
    *ret = s;
    return VOUCH_OK;
}

vouch_err vouch_agent_state_format(const struct vouch_agent_state *s, char **ret,
                                   struct vouch_errbuf *eb)
{
    json_t *doc = json_pack("{s:i,s:s,s:b,s:I,s:b,s:I,s:s}", "version", STATE_VERSION, "uuid",
                            s->uuid, "registered", s->registered, "ak_handle",
                            (json_int_t)s->ak_handle, "ak_active", s->ak_active, "ima_next",
                            (json_int_t)s->ima_next, "boot_id", s->boot_id);
    char *text = NULL;
    vouch_err e = doc ? VOUCH_OK : VOUCH_E_NOMEM;

    if (!e && s->ak_name_len)
        e = vouch_json_set_hex(doc, "ak_name", s->ak_name, s->ak_name_len);
    if (!e && s->ak_cert)
        e = vouch_json_set_str(doc, "ak_cert", s->ak_cert);
    if (!e && !(text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)))
        e = VOUCH_E_NOMEM;
    json_decref(doc);
    if (e)
        return vouch_fail(eb, e, "state: cannot format");
    *ret = text;
    return VOUCH_OK;
}
