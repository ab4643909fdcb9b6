/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration file (TOML), durations and handles, and the
 * retry schedule.  Pure (agent.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/agent.h"
#include "common/toml.h"

void vouch_agent_conf_free(struct vouch_agent_conf *c)
{
    if (!c)
        return;
    free(c->server);
    free(c->access_key_id);
    free(c->access_key_secret);
    free(c->uuid);
    free(c->tcti);
    free(c->state_dir);
    free(c->eventlog);
    free(c->ima_log);
    free(c->pcrs);
    free(c->name);
    memset(c, 0, sizeof(*c));
}

vouch_err vouch_agent_parse_duration(const char *s, int64_t *ret, struct vouch_errbuf *eb)
{
    static const struct { char unit; int64_t seconds; } units[] = {
        { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
    };
    char *end = NULL;
    long long v = -1;
    int64_t mult = 1;
    size_t i;

    errno = 0;
    if (s && *s >= '0' && *s <= '9')
        v = strtoll(s, &end, 10);
    if (v < 0 || errno || !end)
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' is not a duration (90, 90s, 15m, 2h)",
                          s ? s : "");
    for (i = 0; *end && i < sizeof(units) / sizeof(units[0]); i++)
        if (*end == units[i].unit && end[1] == '\0') {
            mult = units[i].seconds;
            end++;
        }
    if (*end || v < 1 || v > VOUCH_AGENT_MAX_INTERVAL / mult)
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' is not a duration from 1s to 7d", s);
    *ret = (int64_t)v * mult;
    return VOUCH_OK;
}

vouch_err vouch_agent_parse_handle(const char *s, uint32_t *ret, struct vouch_errbuf *eb)
{
    char *end = NULL;
    unsigned long long v = 0;

    errno = 0;
    if (s && *s >= '0' && *s <= '9')
        v = strtoull(s, &end, 0);
    if (errno || !end || *end || v < 0x81000000ull || v > 0x81ffffffull)
        return vouch_fail(eb, VOUCH_E_INVALID,
                          "'%s' is not a persistent handle (0x81000000-0x81ffffff)", s ? s : "");
    *ret = (uint32_t)v;
    return VOUCH_OK;
}

/* The string keys of the file and where they go. */
static char **string_slot(struct vouch_agent_conf *c, const char *key)
{
    struct { const char *key; char **slot; } keys[] = {
        { "server", &c->server }, { "access_key_id", &c->access_key_id },
        { "access_key_secret", &c->access_key_secret }, { "uuid", &c->uuid },
        { "tcti", &c->tcti }, { "state_dir", &c->state_dir }, { "eventlog", &c->eventlog },
        { "ima_log", &c->ima_log }, { "pcrs", &c->pcrs }, { "name", &c->name },
    };
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].key, key) == 0)
            return keys[i].slot;
    return NULL;
}

/* ak_handle and interval: an integer, or a string parsed like the command line's. */
static vouch_err number_key(struct vouch_agent_conf *c, const char *key, json_t *v,
                            struct vouch_errbuf *eb)
{
    char num[32];
    const char *text = json_string_value(v);
    vouch_err e;

    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        text = num;
    }
    if (!text)
        return vouch_fail_field(eb, VOUCH_E_INVALID, key, "%s: a number or a string", key);
    if (strcmp(key, "ak_handle") == 0) {
        uint32_t h;

        e = vouch_agent_parse_handle(text, &h, eb);
        if (!e && !c->ak_handle)
            c->ak_handle = h;
    } else {
        int64_t d;

        e = vouch_agent_parse_duration(text, &d, eb);
        if (!e && !c->interval)
            c->interval = d;
    }
    if (e)
        return vouch_errbuf_set_field(eb, vouch_fail_prefix(eb, e, "%s: ", key), key);
    return VOUCH_OK;
}

vouch_err vouch_agent_conf_parse(const char *text, size_t len, struct vouch_agent_conf *c,
                                 struct vouch_errbuf *eb)
{
    json_t *doc = NULL, *v;
    const char *key;
    vouch_err e = vouch_toml_parse(text, len, &doc, eb);

    if (e)
        return e;
    json_object_foreach(doc, key, v) {
        char **slot = string_slot(c, key);

        if (slot) {
            /* "" turns a log off; every other setting needs a value */
            bool may_be_empty = strcmp(key, "eventlog") == 0 || strcmp(key, "ima_log") == 0;

            if (!json_is_string(v) || (!*json_string_value(v) && !may_be_empty)) {
                e = vouch_fail_field(eb, VOUCH_E_INVALID, key, "%s: a non-empty string", key);
                break;
            }
            if (!*slot && !(*slot = strdup(json_string_value(v)))) {
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
                break;
            }
        } else if (strcmp(key, "ak_handle") == 0 || strcmp(key, "interval") == 0) {
            if ((e = number_key(c, key, v, eb)))
                break;
        } else {
            e = vouch_fail_field(eb, VOUCH_E_INVALID, key, "unknown key '%s'", key);
            break;
        }
    }
    json_decref(doc);
    return e;
}

int64_t vouch_agent_backoff(unsigned failures, int64_t cap, uint32_t rnd)
{
    int64_t d = VOUCH_AGENT_RETRY_BASE;
    unsigned i;

    if (cap < 1)
        cap = 1;
    for (i = 1; i < failures && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    /* equal jitter: half of the delay fixed, the other half random */
    return d - d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
}

int64_t vouch_agent_first_delay(int64_t interval, uint32_t rnd)
{
    int64_t max = interval < VOUCH_AGENT_FIRST_DELAY_MAX ? interval : VOUCH_AGENT_FIRST_DELAY_MAX;

    return max > 0 ? (int64_t)(rnd % (uint32_t)(max + 1)) : 0;
}
