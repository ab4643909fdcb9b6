/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vTPM service's program-whitelist actions.  Alibaba publishes no API
 * for these, so they are named in the trusted-server style (docs/vtpm.md,
 * "Program whitelists"): CreateProgramWhiteList, DescribeProgramWhiteLists,
 * DescribeProgramWhiteList, AssignProgramWhiteList,
 * UnassignProgramWhiteList, DeleteProgramWhiteList.  Every one works only
 * on the caller's whitelists and instances: another account's answers
 * Forbidden.NotOwner.  Deleting a whitelist still assigned is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/vtpm.h"
#include "vtpm/whitelist.h"

#define PAGE_SIZE_DEFAULT 10
#define PAGE_SIZE_MAX 100

/* The whitelist document travels in one parameter, decoded at most this long. */
#define CONTENT_MAX VOUCH_RPC_MAX_VALUE

/* Parameter WhiteListId, and the caller's whitelist row of that id. */
static bool own_whitelist(struct vouch_vtpm_call *c, unsigned what,
                          struct vouch_store_whitelist **ret)
{
    struct vouch_store_whitelist *w = NULL;
    struct vouch_errbuf eb;
    int64_t id;
    vouch_err e;
    const char *v = vouch_rpc_param(c->params, "WhiteListId");

    if (!v || !*v)
        return vouch_vtpm_fail(c, VOUCH_RPC_MISSING_PARAMETER, "(WhiteListId)"), false;
    if (!vouch_vtpm_param_int(c, "WhiteListId", 0, INT64_MAX - 1, 0, &id))
        return false;
    e = vouch_store_whitelist_get(c->app->store, id, what, &w, &eb);
    if (e == VOUCH_E_NOT_FOUND)
        return vouch_vtpm_fail(c, VOUCH_RPC_WHITELIST_NOT_FOUND, "(%lld)", (long long)id), false;
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", ""), false;
    if (strcmp(w->account, c->account) != 0) {
        vouch_store_whitelist_free(w);
        return vouch_vtpm_fail(c, VOUCH_RPC_NOT_OWNER, "(WhiteListId %lld)", (long long)id),
               false;
    }
    *ret = w;
    return true;
}

static json_t *whitelist_json(const struct vouch_store_whitelist *w)
{
    json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I}", "WhiteListId", (json_int_t)w->id,
                          "WhiteListName", w->name, "ContentFormat", w->format, "DigestNum",
                          (json_int_t)w->digests, "PathNum", (json_int_t)w->paths, "GmtCreate",
                          (json_int_t)w->created_ms, "GmtModified", (json_int_t)w->modified_ms);

    if (o && w->instances >= 0 &&
        json_object_set_new(o, "InstanceNum", json_integer((json_int_t)w->instances))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Name, Content (keylime runtime policy JSON or "digest path" lines), ContentFormat. */
static json_t *create_whitelist(struct vouch_vtpm_call *c)
{
    struct vouch_store_whitelist w = { .account = (char *)c->account };
    struct vouch_vtpm_wl_doc d = { 0 };
    struct vouch_errbuf eb;
    const char *content, *format;
    json_t *out;
    bool ok;
    vouch_err e;

    w.name = (char *)vouch_vtpm_param_str(c, "Name", true, VOUCH_STORE_NAME_MAX, &ok);
    /* ("Format" is the RPC convention's answer format, JSON) */
    format = ok ? vouch_vtpm_param_str(c, "ContentFormat", false, 16, &ok) : NULL;
    content = ok ? vouch_vtpm_param_str(c, "Content", true, CONTENT_MAX, &ok) : NULL;
    if (!ok)
        return NULL;
    if (format && strcmp(format, VOUCH_VTPM_WL_KEYLIME) && strcmp(format, VOUCH_VTPM_WL_DIGESTS))
        return vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(ContentFormat must be %s or %s)",
                               VOUCH_VTPM_WL_KEYLIME, VOUCH_VTPM_WL_DIGESTS);
    e = vouch_vtpm_whitelist_import(format, content, strlen(content), &d, &eb);
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "(Content: %s)", eb.msg);
    w.format = (char *)d.format;
    w.document = d.document;
    w.digests = d.digests;
    w.paths = d.paths;
    w.created_ms = w.modified_ms = c->now_ms;
    e = vouch_store_whitelist_create(c->app->store, &w, c->now_ms, &w.id, &eb);
    vouch_vtpm_wl_doc_done(&d);
    if (e == VOUCH_E_CONFLICT)
        return vouch_vtpm_fail(c, VOUCH_RPC_WHITELIST_NAME_EXISTS, "(Name)");
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "(%s)", eb.msg);
    out = whitelist_json(&w);
    if (out && json_object_set_new(out, "ExcludeNum", json_integer((json_int_t)d.excludes))) {
        json_decref(out);
        out = NULL;
    }
    return out ? out : vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
}

static json_t *describe_whitelists(struct vouch_vtpm_call *c)
{
    struct vouch_store_whitelist *v = NULL;
    struct vouch_errbuf eb;
    int64_t size, page;
    uint64_t total = 0;
    json_t *items, *out = NULL;
    size_t n = 0, i;
    vouch_err e;

    if (!vouch_vtpm_param_int(c, "PageSize", 1, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT, &size) ||
        !vouch_vtpm_param_page(c, "PageNumber", &page))
        return NULL;
    e = vouch_store_whitelist_list(c->app->store, c->account,
                                   (uint64_t)(page - 1) * (uint64_t)size, (size_t)size, &v, &n,
                                   &total, &eb);
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
    items = json_array();
    for (i = 0; items && i < n; i++)
        if (json_array_append_new(items, whitelist_json(&v[i]))) {
            json_decref(items);
            items = NULL;
        }
    vouch_store_whitelists_free(v, n);
    if (items)
        out = json_pack("{s:I,s:I,s:I,s:o}", "TotalCount", (json_int_t)total, "PageNumber",
                        (json_int_t)page, "PageSize", (json_int_t)size, "WhiteLists", items);
    return out ? out : vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
}

/* WhiteListId; IncludeContent=true adds the stored document as Content. */
static json_t *describe_whitelist(struct vouch_vtpm_call *c)
{
    struct vouch_store_whitelist *w = NULL;
    const char *inc = vouch_rpc_param(c->params, "IncludeContent");
    bool content = inc && strcmp(inc, "true") == 0;
    json_t *out;

    if (inc && !content && strcmp(inc, "false") != 0)
        return vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER,
                               "(IncludeContent must be true or false)");
    if (!own_whitelist(c, VOUCH_STORE_WL_INSTANCES | (content ? VOUCH_STORE_WL_DOCUMENT : 0),
                       &w))
        return NULL;
    out = whitelist_json(w);
    if (out && content && json_object_set_new(out, "Content", json_string(w->document))) {
        json_decref(out);
        out = NULL;
    }
    vouch_store_whitelist_free(w);
    return out ? out : vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
}

static json_t *delete_whitelist(struct vouch_vtpm_call *c)
{
    struct vouch_store_whitelist *w = NULL;
    struct vouch_errbuf eb;
    vouch_err e;

    if (!own_whitelist(c, 0, &w))
        return NULL;
    e = vouch_store_whitelist_delete(c->app->store, c->account, w->id, &eb);
    vouch_store_whitelist_free(w);
    if (e == VOUCH_E_CONFLICT)
        return vouch_vtpm_fail(c, VOUCH_RPC_WHITELIST_IN_USE, "%s", "");
    if (e == VOUCH_E_NOT_FOUND)
        return vouch_vtpm_fail(c, VOUCH_RPC_WHITELIST_NOT_FOUND, "%s", "");
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
    return json_object();
}

/* Properties: PropertyUuids separated by commas (or a JSON array), each the
 * caller's; how many (pointing into *ret_copy, freed by the caller), or 0. */
static size_t properties(struct vouch_vtpm_call *c, char **ret_copy,
                         const char *uuids[VOUCH_STORE_ASSIGN_MAX])
{
    size_t n = vouch_vtpm_param_list(c, "Properties", VOUCH_STORE_ASSIGN_MAX, uuids, ret_copy);
    size_t i;

    for (i = 0; i < n; i++)
        if (!vouch_vtpm_own_instance(c, uuids[i], NULL))
            return 0;
    return n;
}

/* Assign WhiteListId to Properties, or (unassign) set them to none. */
static json_t *assignment(struct vouch_vtpm_call *c, bool assign)
{
    const char *uuids[VOUCH_STORE_ASSIGN_MAX];
    struct vouch_store_whitelist *w = NULL;
    struct vouch_errbuf eb;
    char *copy = NULL;
    size_t n;
    bool ok = false;
    vouch_err e;

    if ((!assign || own_whitelist(c, 0, &w)) && (n = properties(c, &copy, uuids)) > 0) {
        e = assign ? vouch_store_whitelist_assign(c->app->store, c->account, w->id, uuids, n,
                                                  c->now_ms, &eb)
                   : vouch_store_whitelist_unassign(c->app->store, c->account, uuids, n,
                                                    c->now_ms, &eb);
        if (e == VOUCH_E_NOT_FOUND)            /* deleted meanwhile */
            vouch_vtpm_fail(c, VOUCH_RPC_WHITELIST_NOT_FOUND, "%s", "");
        else if (e == VOUCH_E_CONFLICT)        /* an instance went meanwhile */
            vouch_vtpm_fail(c, VOUCH_RPC_INSTANCE_NOT_FOUND, "(%.128s)", eb.field);
        else if (e)
            vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
        ok = !e;
    }
    free(copy);
    vouch_store_whitelist_free(w);
    return ok ? json_object() : NULL;
}

static json_t *assign_whitelist(struct vouch_vtpm_call *c)
{
    return assignment(c, true);
}

static json_t *unassign_whitelist(struct vouch_vtpm_call *c)
{
    return assignment(c, false);
}

const struct vouch_vtpm_action vouch_vtpm_whitelist_actions[] = {
    { "AssignProgramWhiteList", assign_whitelist, VOUCH_VTPM_AUDITED },
    { "CreateProgramWhiteList", create_whitelist, VOUCH_VTPM_AUDITED },
    { "DeleteProgramWhiteList", delete_whitelist, VOUCH_VTPM_AUDITED },
    { "DescribeProgramWhiteList", describe_whitelist, 0 },
    { "DescribeProgramWhiteLists", describe_whitelists, 0 },
    { "UnassignProgramWhiteList", unassign_whitelist, VOUCH_VTPM_AUDITED },
};
const size_t vouch_vtpm_whitelist_n_actions =
    sizeof(vouch_vtpm_whitelist_actions) / sizeof(vouch_vtpm_whitelist_actions[0]);
