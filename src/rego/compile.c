/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Rego compiler.  Passes, in order:
 *   1. the rule tree: every rule is attached to the node its head names;
 *   2. name resolution: variables get frame slots (with Rego's scoping of
 *      :=, some, comprehensions and every), rule names and import aliases
 *      become data refs, calls get their target (builtin, host, function);
 *   3. rewriting: calls and refs nested in other terms move into their own
 *      unification before the expression (as OPA does), ground composites
 *      fold into constants, rule head values move into the body;
 *   4. safety: each body is reordered so every variable is bound before it
 *      is read; a variable nothing can bind is rego_unsafe_var_error;
 *   5. refs into data get the deepest rule-tree node of their constant
 *      prefix, and the rule dependency graph is checked for recursion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rego/compile.h"

struct scope {
    struct scope *parent;
    uint32_t level;
    struct ra_vec decl_names;   /* struct term * (the declaring var) */
    struct ra_vec decl_slots;   /* uintptr_t */
    struct ra_vec plain_names;  /* const struct rval * (string) */
    struct ra_vec plain_slots;  /* uintptr_t, UINT32_MAX until first use */
};

struct cx {
    struct rarena *a;
    const struct vouch_rego_policy *pol;
    struct rnode *root;
    struct module *mod;         /* NULL for a query */
    struct rnode *pkg;
    const char *fname, *src;
    size_t len;
    uint32_t nslots;
    uint32_t *slot_level;
    const char **slot_name;
    uint32_t *slot_namelen;
    uint32_t slot_cap;
    uint32_t ngen;
    uint32_t nnodes;
    struct ra_vec nodes;
    jmp_buf jb;
    char *msg;
    size_t msgsize;
};

static _Noreturn void cfail(struct cx *cx, uint32_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static _Noreturn void cfail(struct cx *cx, uint32_t pos, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (cx->src) {
        uint32_t line, col;

        vouch_rego_line_col(cx->src, cx->len, pos, &line, &col);
        n = snprintf(cx->msg, cx->msgsize, "%s%s%u:%u: ", cx->fname ? cx->fname : "",
                     cx->fname ? ":" : "", line, col);
        if (n < 0 || (size_t)n >= cx->msgsize)
            n = 0;
    }
    va_start(ap, fmt);
    vsnprintf(cx->msg + n, cx->msgsize - (size_t)n, fmt, ap);
    va_end(ap);
    longjmp(cx->jb, 1);
}

static void set_module(struct cx *cx, struct module *m)
{
    cx->mod = m;
    cx->fname = m ? m->name : NULL;
    cx->src = m ? m->src : NULL;
    cx->len = m ? m->len : 0;
}

static bool str_is(const struct rval *v, const char *s)
{
    size_t n = strlen(s);

    return v->t == RT_STR && v->n == n && memcmp(v->u.s, s, n) == 0;
}

static bool name_is(const char *name, uint32_t len, const char *s)
{
    return strlen(s) == len && memcmp(name, s, len) == 0;
}

/* ---- rule tree ---- */

static int key_cmp(const struct rval *k, const char *s, size_t n)
{
    size_t m = k->n < n ? k->n : n;
    int c = m ? memcmp(k->u.s, s, m) : 0;

    if (c)
        return c;
    return k->n < n ? -1 : k->n > n;
}

struct rnode *vouch_rnode_child(const struct rnode *n, const char *key, size_t len)
{
    uint32_t lo = 0, hi = n->nkids;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(n->kids[mid]->key, key, len);

        if (c == 0)
            return n->kids[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static struct rnode *new_node(struct cx *cx, struct rnode *parent, const struct rval *key)
{
    struct rnode *n = vouch_ra_xcalloc(cx->a, 1, sizeof(*n));
    uint32_t i;

    n->key = key;
    n->parent = parent;
    n->id = cx->nnodes++;
    vouch_ra_vec_push(cx->a, &cx->nodes, n);
    if (parent) {
        n->depth = parent->depth + 1;
        n->path = vouch_ra_xalloc(cx->a, n->depth * sizeof(*n->path));
        for (i = 0; i < parent->depth; i++)
            n->path[i] = parent->path[i];
        n->path[parent->depth] = key;
    }
    return n;
}

static struct rnode *node_get(struct cx *cx, struct rnode *p, const struct rval *key)
{
    uint32_t lo = 0, hi = p->nkids;
    struct rnode *n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(p->kids[mid]->key, key->u.s, key->n);

        if (c == 0)
            return p->kids[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    n = new_node(cx, p, key);
    if (p->nkids == p->kids_cap) {
        uint32_t nc = p->kids_cap ? p->kids_cap * 2 : 4;

        p->kids =
            vouch_ra_xrealloc(cx->a, p->kids, p->nkids * sizeof(*p->kids), nc * sizeof(*p->kids));
        p->kids_cap = nc;
    }
    xmemmove(p->kids + lo + 1, p->kids + lo, (p->nkids - lo) * sizeof(*p->kids));
    p->kids[lo] = n;
    p->nkids++;
    return n;
}

static void print_path(const struct rnode *n, char *buf, size_t size)
{
    size_t off;
    uint32_t i;

    off = (size_t)snprintf(buf, size, "data");
    for (i = 0; i < n->depth && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, ".%.*s", (int)n->path[i]->n,
                                n->path[i]->u.s);
}

static struct term *head_item(const struct rule *r, uint32_t i)
{
    return r->head->kind == T_REF ? r->head->u.c.items[i] : r->head;
}

static uint32_t head_n(const struct rule *r)
{
    return r->head->kind == T_REF ? r->head->n : 1;
}

static struct term *clone_term(struct cx *cx, const struct term *t)
{
    struct term *c = vouch_ra_xalloc(cx->a, sizeof(*c));
    uint32_t i;

    *c = *t;
    switch (t->kind) {
    case T_REF:
    case T_CALL:
    case T_ARR:
    case T_OBJ:
    case T_SET:
    case T_TEMPLATE:
        c->u.c.items = vouch_ra_xalloc(cx->a, (t->n ? t->n : 1) * sizeof(*c->u.c.items));
        for (i = 0; i < t->n; i++)
            c->u.c.items[i] = clone_term(cx, t->u.c.items[i]);
        break;
    default:
        break;
    }
    return c;
}

static void attach_rule(struct cx *cx, struct rnode *pkg, struct rule *r)
{
    struct term *h0 = head_item(r, 0);
    struct rnode *n;
    uint32_t nh = head_n(r), d = 1;
    struct rule *e;
    char path[256];

    if (h0->kind != T_VAR)
        cfail(cx, r->pos, "rego_parse_error: invalid rule head");
    n = node_get(cx, pkg, vouch_rv_str(cx->a, h0->u.var.name, h0->u.var.len));
    n->is_rule_name = true;
    while (d < nh) {
        struct term *it = head_item(r, d);

        if (it->kind != T_CONST || it->u.val->t != RT_STR)
            break;
        n = node_get(cx, n, it->u.val);
        d++;
    }
    r->nstatic = d;
    if (d < nh) {
        if (r->kind == R_FUNC)
            cfail(cx, r->pos, "rego_type_error: functions cannot have dynamic names");
        if (r->is_default)
            cfail(cx, r->pos, "rego_type_error: default rules cannot have dynamic names");
        r->set_leaf = r->kind == R_SET;
        r->kind = R_OBJ;
        vouch_ra_vec_push(cx->a, &n->objs, r);
    } else if (r->is_default) {
        if (n->dflt)
            cfail(cx, r->pos, "rego_type_error: multiple default rules named %.*s found",
                  (int)h0->u.var.len, h0->u.var.name);
        n->dflt = r;
        if (r->kind == R_FUNC) {
            if (n->funcs.n && n->arity != r->nargs)
                cfail(cx, r->pos, "rego_type_error: conflicting function arity");
            n->arity = r->nargs;
        }
    } else if (r->kind == R_FUNC) {
        if ((n->funcs.n || (n->dflt && n->dflt->kind == R_FUNC)) && n->arity != r->nargs)
            cfail(cx, r->pos, "rego_type_error: conflicting function arity");
        n->arity = r->nargs;
        vouch_ra_vec_push(cx->a, &n->funcs, r);
    } else if (r->kind == R_SET) {
        vouch_ra_vec_push(cx->a, &n->sets, r);
    } else {
        vouch_ra_vec_push(cx->a, &n->complete, r);
    }
    if (r->els && r->kind == R_OBJ)
        cfail(cx, r->pos, "rego_type_error: else keyword cannot be used on rules with variables in head");
    for (e = r; e; e = e->els) {
        e->node = n;
        e->nstatic = d;
        e->kind = r->kind;
        e->set_leaf = r->set_leaf;
        if (e != r && e->nargs) {
            uint32_t i;
            struct term **args = vouch_ra_xalloc(cx->a, e->nargs * sizeof(*args));

            for (i = 0; i < e->nargs; i++)
                args[i] = clone_term(cx, r->args[i]);
            e->args = args;
        }
    }
    if ((n->complete.n || (n->dflt && n->dflt->kind != R_FUNC)) + (n->sets.n != 0) +
            (n->funcs.n || (n->dflt && n->dflt->kind == R_FUNC)) > 1) {
        print_path(n, path, sizeof(path));
        cfail(cx, r->pos, "rego_type_error: conflicting rules %s found", path);
    }
    for (; n; n = n->parent)
        n->subtree_rules = true;
}

/* ---- slots and scopes ---- */

static uint32_t new_slot(struct cx *cx, uint32_t level, const char *name, uint32_t len)
{
    if (cx->nslots == cx->slot_cap) {
        uint32_t nc = cx->slot_cap ? cx->slot_cap * 2 : 32;

        cx->slot_level = vouch_ra_xrealloc(cx->a, cx->slot_level, cx->slot_cap * sizeof(uint32_t),
                                           nc * sizeof(uint32_t));
        cx->slot_name = vouch_ra_xrealloc(cx->a, cx->slot_name, cx->slot_cap * sizeof(char *),
                                          nc * sizeof(char *));
        cx->slot_namelen = vouch_ra_xrealloc(
            cx->a, cx->slot_namelen, cx->slot_cap * sizeof(uint32_t), nc * sizeof(uint32_t));
        cx->slot_cap = nc;
    }
    cx->slot_level[cx->nslots] = level;
    cx->slot_name[cx->nslots] = name;
    cx->slot_namelen[cx->nslots] = len;
    return cx->nslots++;
}

static void set_local(struct term *t, uint32_t slot)
{
    t->u.var.kind = V_LOCAL;
    t->u.var.slot = slot;
}

static struct term *fresh_var(struct cx *cx, uint32_t level, uint32_t pos)
{
    struct term *t = vouch_ra_xcalloc(cx->a, 1, sizeof(*t));
    char *name = vouch_ra_xalloc(cx->a, 24);
    int n = snprintf(name, 24, "__h%u", cx->ngen++);

    t->kind = T_VAR;
    t->pos = pos;
    t->u.var.name = name;
    t->u.var.len = (uint32_t)n;
    set_local(t, new_slot(cx, level, name, (uint32_t)n));
    return t;
}

static struct scope *new_scope(struct cx *cx, struct scope *parent)
{
    struct scope *s = vouch_ra_xcalloc(cx->a, 1, sizeof(*s));

    s->parent = parent;
    s->level = parent ? parent->level + 1 : 0;
    return s;
}

static void declare(struct cx *cx, struct scope *s, struct term *v)
{
    uint32_t slot = new_slot(cx, s->level, v->u.var.name, v->u.var.len);

    vouch_ra_vec_push(cx->a, &s->decl_names, v);
    vouch_ra_vec_push(cx->a, &s->decl_slots, (void *)(uintptr_t)slot);
}

static bool lookup_decl(const struct scope *s, const char *name, uint32_t len, uint32_t *ret)
{
    for (; s; s = s->parent) {
        uint32_t i = s->decl_names.n;

        while (i > 0) {
            const struct term *v = s->decl_names.v[--i];

            if (v->u.var.len == len && memcmp(v->u.var.name, name, len) == 0) {
                *ret = (uint32_t)(uintptr_t)s->decl_slots.v[i];
                return true;
            }
        }
    }
    return false;
}

static void add_plain(struct cx *cx, struct scope *s, const char *name, uint32_t len)
{
    uint32_t i;

    for (i = 0; i < s->plain_names.n; i++) {
        const struct rval *k = s->plain_names.v[i];

        if (k->n == len && memcmp(k->u.s, name, len) == 0)
            return;
    }
    vouch_ra_vec_push(cx->a, &s->plain_names, (void *)vouch_rv_str_ref(cx->a, name, len));
    vouch_ra_vec_push(cx->a, &s->plain_slots, (void *)(uintptr_t)UINT32_MAX);
}

static bool find_plain(struct scope *s, const char *name, uint32_t len, uint32_t *ret_i)
{
    uint32_t i;

    for (i = 0; i < s->plain_names.n; i++) {
        const struct rval *k = s->plain_names.v[i];

        if (k->n == len && memcmp(k->u.s, name, len) == 0) {
            *ret_i = i;
            return true;
        }
    }
    return false;
}

/* Plain variable names used at one scope level (not inside nested bodies). */
static void collect_term(struct cx *cx, struct scope *s, const struct term *t)
{
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
        if (t->u.var.kind == V_UNRESOLVED)
            add_plain(cx, s, t->u.var.name, t->u.var.len);
        break;
    case T_REF:
    case T_ARR:
    case T_OBJ:
    case T_SET:
    case T_TEMPLATE:
        for (i = 0; i < t->n; i++)
            collect_term(cx, s, t->u.c.items[i]);
        break;
    case T_CALL:
        for (i = 1; i < t->n; i++)
            collect_term(cx, s, t->u.c.items[i]);
        break;
    default:
        break;   /* constants; comprehensions are their own scope */
    }
}

static void collect_vars_of(struct ra_vec *out, struct cx *cx, const struct term *t)
{
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
        if (t->u.var.kind == V_UNRESOLVED)
            vouch_ra_vec_push(cx->a, out, (void *)t);
        break;
    case T_REF:
    case T_ARR:
    case T_OBJ:
    case T_SET:
        for (i = 0; i < t->n; i++)
            collect_vars_of(out, cx, t->u.c.items[i]);
        break;
    default:
        break;
    }
}

static bool declared_here(const struct ra_vec *decls, const char *name, uint32_t len)
{
    uint32_t i;

    for (i = 0; i < decls->n; i++) {
        const struct term *v = decls->v[i];

        if (v->u.var.len == len && memcmp(v->u.var.name, name, len) == 0)
            return true;
    }
    return false;
}

static void collect_body(struct cx *cx, struct scope *s, const struct body *b,
                         struct term *const *extra, uint32_t nextra)
{
    struct ra_vec decls = { 0 };
    struct scope tmp = { 0 };
    uint32_t i, j;

    /* names declared at this level (:=, some) are not plain */
    for (i = 0; i < b->n; i++) {
        const struct expr *e = b->ex[i];

        if (e->kind == E_ASSIGN)
            collect_vars_of(&decls, cx, e->a);
        else if (e->kind == E_SOME_DECL)
            for (j = 0; j < e->ndecl; j++)
                vouch_ra_vec_push(cx->a, &decls, e->decl[j]);
        else if (e->kind == E_SOME_IN) {
            if (e->a)
                collect_vars_of(&decls, cx, e->a);
            collect_vars_of(&decls, cx, e->b);
        }
    }
    for (i = 0; i < b->n; i++) {
        const struct expr *e = b->ex[i];

        switch (e->kind) {
        case E_TERM:
            collect_term(cx, &tmp, e->a);
            break;
        case E_UNIFY:
        case E_ASSIGN:
            collect_term(cx, &tmp, e->a);
            collect_term(cx, &tmp, e->b);
            break;
        case E_SOME_IN:
        case E_EVERY:
            collect_term(cx, &tmp, e->coll);
            break;
        default:
            break;
        }
        for (j = 0; j < e->nwith; j++)
            collect_term(cx, &tmp, e->with[j].value);
    }
    for (i = 0; i < nextra; i++)
        collect_term(cx, &tmp, extra[i]);
    for (i = 0; i < tmp.plain_names.n; i++) {
        const struct rval *k = tmp.plain_names.v[i];

        if (!declared_here(&decls, k->u.s, k->n))
            add_plain(cx, s, k->u.s, k->n);
    }
}

/* ---- resolution ---- */

static struct term *mk_const(struct cx *cx, const struct rval *v, uint32_t pos)
{
    struct term *t = vouch_ra_xcalloc(cx->a, 1, sizeof(*t));

    t->kind = T_CONST;
    t->pos = pos;
    t->u.val = v;
    return t;
}

static struct term *mk_root(struct cx *cx, uint8_t kind, uint32_t pos)
{
    struct term *t = vouch_ra_xcalloc(cx->a, 1, sizeof(*t));

    t->kind = T_VAR;
    t->pos = pos;
    t->u.var.name = kind == V_DATA ? "data" : "input";
    t->u.var.len = kind == V_DATA ? 4 : 5;
    t->u.var.kind = kind;
    return t;
}

/* Turn t into a ref: root + path + extra items. */
static void make_ref(struct cx *cx, struct term *t, uint8_t root, const struct rval *const *path,
                     uint32_t npath, struct term *const *extra, uint32_t nextra)
{
    uint32_t n = 1 + npath + nextra, i, pos = t->pos;
    struct term **items = vouch_ra_xalloc(cx->a, n * sizeof(*items));

    items[0] = mk_root(cx, root, pos);
    for (i = 0; i < npath; i++)
        items[1 + i] = mk_const(cx, path[i], pos);
    for (i = 0; i < nextra; i++)
        items[1 + npath + i] = extra[i];
    t->kind = T_REF;
    t->n = n;
    t->u.c.items = items;
    t->u.c.node = NULL;
    t->u.c.node_depth = 0;
}

/* An import alias: its root and path. */
static const struct import *find_import(struct cx *cx, const char *name, uint32_t len)
{
    uint32_t i;

    if (!cx->mod)
        return NULL;
    for (i = 0; i < cx->mod->nimports; i++) {
        const struct import *im = &cx->mod->imports[i];

        if (im->alias_len == len && memcmp(im->alias, name, len) == 0)
            return im;
    }
    return NULL;
}

static void import_path(struct cx *cx, const struct import *im, uint8_t *ret_root,
                        const struct rval ***ret_path, uint32_t *ret_n)
{
    const struct term *p = im->path;
    uint32_t n = p->kind == T_REF ? p->n : 1, i;
    const struct term *h = p->kind == T_REF ? p->u.c.items[0] : p;
    const struct rval **path = vouch_ra_xalloc(cx->a, n * sizeof(*path));

    *ret_root = name_is(h->u.var.name, h->u.var.len, "data") ? V_DATA : V_INPUT;
    for (i = 1; i < n; i++)
        path[i - 1] = p->u.c.items[i]->u.val;
    *ret_path = path;
    *ret_n = n - 1;
}

static bool is_pkg_rule(struct cx *cx, const char *name, uint32_t len)
{
    struct rnode *n;

    if (!cx->pkg)
        return false;
    n = vouch_rnode_child(cx->pkg, name, len);
    return n && n->is_rule_name;
}

static void resolve_term(struct cx *cx, struct term *t, struct scope *s);
static void resolve_body(struct cx *cx, struct body *b, struct scope *s, struct term *const *extra,
                         uint32_t nextra);

static void resolve_var(struct cx *cx, struct term *t, struct scope *s)
{
    const char *name = t->u.var.name;
    uint32_t len = t->u.var.len, slot, i = 0;
    const struct import *im;
    struct scope *sc, *chain[512];
    uint32_t nchain = 0;

    if (t->u.var.kind == V_WILD) {
        set_local(t, new_slot(cx, s->level, "_", 1));
        return;
    }
    if (t->u.var.kind != V_UNRESOLVED)
        return;
    if (lookup_decl(s, name, len, &slot)) {
        set_local(t, slot);
        return;
    }
    if (name_is(name, len, "input")) {
        t->u.var.kind = V_INPUT;
        return;
    }
    if (name_is(name, len, "data")) {
        t->u.var.kind = V_DATA;
        return;
    }
    im = find_import(cx, name, len);
    if (im) {
        uint8_t root;
        const struct rval **path;
        uint32_t n;

        import_path(cx, im, &root, &path, &n);
        if (n == 0) {
            t->u.var.kind = root;
            return;
        }
        make_ref(cx, t, root, path, n, NULL, 0);
        return;
    }
    if (is_pkg_rule(cx, name, len)) {
        const struct rval *key = vouch_rv_str(cx->a, name, len);
        const struct rval **path = vouch_ra_xalloc(cx->a, (cx->pkg->depth + 1) * sizeof(*path));

        for (i = 0; i < cx->pkg->depth; i++)
            path[i] = cx->pkg->path[i];
        path[cx->pkg->depth] = key;
        make_ref(cx, t, V_DATA, path, cx->pkg->depth + 1, NULL, 0);
        return;
    }
    /* plain: the outermost scope using the name owns it */
    for (sc = s; sc && nchain < 512; sc = sc->parent)
        chain[nchain++] = sc;
    while (nchain > 0) {
        sc = chain[--nchain];
        if (find_plain(sc, name, len, &i)) {
            slot = (uint32_t)(uintptr_t)sc->plain_slots.v[i];
            if (slot == UINT32_MAX) {
                slot = new_slot(cx, sc->level, name, len);
                sc->plain_slots.v[i] = (void *)(uintptr_t)slot;
            }
            set_local(t, slot);
            return;
        }
    }
    /* used before its declaration at this level: a variable of its own */
    add_plain(cx, s, name, len);
    find_plain(s, name, len, &i);
    slot = new_slot(cx, s->level, name, len);
    s->plain_slots.v[i] = (void *)(uintptr_t)slot;
    set_local(t, slot);
}

/* Declare every variable of a pattern (the left of :=, some ... in). */
static void declare_pattern(struct cx *cx, struct term *t, struct scope *s)
{
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
        if (t->u.var.kind == V_WILD) {
            set_local(t, new_slot(cx, s->level, "_", 1));
        } else if (t->u.var.kind == V_UNRESOLVED) {
            declare(cx, s, t);
            set_local(t, (uint32_t)(uintptr_t)s->decl_slots.v[s->decl_slots.n - 1]);
        }
        break;
    case T_ARR:
    case T_SET:
        for (i = 0; i < t->n; i++)
            declare_pattern(cx, t->u.c.items[i], s);
        break;
    case T_OBJ:
        for (i = 0; i < t->n; i += 2) {
            resolve_term(cx, t->u.c.items[i], s);
            declare_pattern(cx, t->u.c.items[i + 1], s);
        }
        break;
    default:
        resolve_term(cx, t, s);
    }
}

static void join_name(struct cx *cx, const struct term *f, char *buf, size_t size, uint32_t pos)
{
    size_t off = 0;
    uint32_t i, n = f->kind == T_REF ? f->n : 1;

    for (i = 0; i < n; i++) {
        const char *s;
        uint32_t l;

        if (i == 0) {
            const struct term *h = f->kind == T_REF ? f->u.c.items[0] : f;

            s = h->u.var.name;
            l = h->u.var.len;
        } else {
            s = f->u.c.items[i]->u.val->u.s;
            l = f->u.c.items[i]->u.val->n;
        }
        if (off + l + 2 >= size)
            cfail(cx, pos, "rego_type_error: function name too long");
        if (i)
            buf[off++] = '.';
        xmemcpy(buf + off, s, l);
        off += l;
    }
    buf[off] = '\0';
}

/* The data path a function name stands for, or false when it is not
 * under data (a builtin or host function). */
static bool func_data_path(struct cx *cx, const struct term *f, const struct rval ***ret_path,
                           uint32_t *ret_n)
{
    const struct term *h = f->kind == T_REF ? f->u.c.items[0] : f;
    uint32_t n = f->kind == T_REF ? f->n : 1, i, base = 0, k = 0;
    const struct rval **pre = NULL, **path;
    const struct import *im;

    if (h->kind != T_VAR)
        return false;
    if (name_is(h->u.var.name, h->u.var.len, "data")) {
        base = 0;
    } else if ((im = find_import(cx, h->u.var.name, h->u.var.len)) != NULL) {
        uint8_t root;

        import_path(cx, im, &root, &pre, &base);
        if (root != V_DATA)
            return false;
    } else if (is_pkg_rule(cx, h->u.var.name, h->u.var.len)) {
        pre = vouch_ra_xalloc(cx->a, (cx->pkg->depth + 1) * sizeof(*pre));
        for (i = 0; i < cx->pkg->depth; i++)
            pre[i] = cx->pkg->path[i];
        pre[cx->pkg->depth] = vouch_rv_str(cx->a, h->u.var.name, h->u.var.len);
        base = cx->pkg->depth + 1;
    } else {
        return false;
    }
    path = vouch_ra_xalloc(cx->a, (base + n) * sizeof(*path));
    for (i = 0; i < base; i++)
        path[k++] = pre[i];
    for (i = 1; i < n; i++)
        path[k++] = f->u.c.items[i]->u.val;
    *ret_path = path;
    *ret_n = k;
    return true;
}

static struct rnode *walk_nodes(struct cx *cx, const struct rval *const *path, uint32_t n)
{
    struct rnode *node = cx->root;
    uint32_t i;

    for (i = 0; i < n && node; i++)
        node = vouch_rnode_child(node, path[i]->u.s, path[i]->n);
    return node;
}

/* Find what a function name calls.  Returns the arity. */
static uint32_t resolve_fn(struct cx *cx, const struct term *f, uint8_t *ret_kind,
                           const struct builtin **ret_bi, struct rnode **ret_node,
                           uint32_t *ret_host, uint32_t pos)
{
    char name[256];
    const struct rval **path;
    uint32_t n, i;

    if (f->kind == T_VAR && f->pad == 1) {
        const struct builtin *bi = vouch_rego_builtin_find(f->u.var.name, f->u.var.len);

        if (!bi)
            cfail(cx, pos, "rego_type_error: undefined function %.*s", (int)f->u.var.len,
                  f->u.var.name);
        *ret_kind = C_BUILTIN;
        *ret_bi = bi;
        return bi->arity;
    }
    if (func_data_path(cx, f, &path, &n)) {
        struct rnode *node = walk_nodes(cx, path, n);

        if (node && rnode_is_func(node)) {
            *ret_kind = C_FUNC;
            *ret_node = node;
            return node->arity;
        }
        if (node && node->dflt && node->dflt->kind == R_FUNC) {
            *ret_kind = C_FUNC;
            *ret_node = node;
            return node->arity;
        }
        /* a rule name that is not a function: fall through to builtins
         * only when it is not under data explicitly */
        if (f->kind == T_REF && name_is(f->u.c.items[0]->u.var.name,
                                        f->u.c.items[0]->u.var.len, "data")) {
            join_name(cx, f, name, sizeof(name), pos);
            cfail(cx, pos, "rego_type_error: undefined function %s", name);
        }
    }
    join_name(cx, f, name, sizeof(name), pos);
    for (i = 0; i < cx->pol->nhosts; i++)
        if (strcmp(cx->pol->hosts[i].name, name) == 0) {
            *ret_kind = C_HOST;
            *ret_host = i;
            return cx->pol->hosts[i].arity;
        }
    {
        const struct builtin *bi = vouch_rego_builtin_find(name, strlen(name));

        if (!bi)
            cfail(cx, pos, "rego_type_error: undefined function %s", name);
        *ret_kind = C_BUILTIN;
        *ret_bi = bi;
        return bi->arity;
    }
}

static void resolve_call(struct cx *cx, struct term *t, struct scope *s)
{
    uint32_t arity, nargs = t->n - 1, i;
    char name[256];

    arity = resolve_fn(cx, t->u.c.items[0], &t->u.c.ckind, &t->u.c.bi, &t->u.c.fnode,
                       &t->u.c.host, t->pos);
    if (nargs == arity + 1) {
        t->u.c.out = 1;
    } else if (nargs != arity) {
        join_name(cx, t->u.c.items[0], name, sizeof(name), t->pos);
        cfail(cx, t->pos, "rego_type_error: %s: arity mismatch: have %u, want %u", name, nargs,
              arity);
    }
    for (i = 1; i < t->n; i++)
        resolve_term(cx, t->u.c.items[i], s);
}

static void resolve_comp(struct cx *cx, struct term *t, struct scope *s)
{
    struct scope *c = new_scope(cx, s);
    struct term *heads[2];
    uint32_t nh = 0;

    if (t->u.comp.key)
        heads[nh++] = t->u.comp.key;
    heads[nh++] = t->u.comp.val;
    resolve_body(cx, t->u.comp.body, c, heads, nh);
    if (t->u.comp.key)
        resolve_term(cx, t->u.comp.key, c);
    resolve_term(cx, t->u.comp.val, c);
}

static void resolve_term(struct cx *cx, struct term *t, struct scope *s)
{
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
        resolve_var(cx, t, s);
        break;
    case T_REF: {
        struct term *h = t->u.c.items[0];

        if (h->kind == T_VAR) {
            resolve_var(cx, h, s);
            if (h->kind == T_REF) {
                /* the head was a rule name or import alias: splice */
                uint32_t n = h->n + t->n - 1;
                struct term **items = vouch_ra_xalloc(cx->a, n * sizeof(*items));

                xmemcpy(items, h->u.c.items, h->n * sizeof(*items));
                xmemcpy(items + h->n, t->u.c.items + 1, (t->n - 1) * sizeof(*items));
                t->u.c.items = items;
                t->n = n;
            }
        } else {
            resolve_term(cx, h, s);
        }
        for (i = 1; i < t->n; i++)
            if (t->u.c.items[i]->kind != T_CONST)
                resolve_term(cx, t->u.c.items[i], s);
        break;
    }
    case T_CALL:
        resolve_call(cx, t, s);
        break;
    case T_ARR:
    case T_OBJ:
    case T_SET:
    case T_TEMPLATE:
        for (i = 0; i < t->n; i++)
            resolve_term(cx, t->u.c.items[i], s);
        break;
    case T_ACOMP:
    case T_SCOMP:
    case T_OCOMP:
        resolve_comp(cx, t, s);
        break;
    default:
        break;
    }
}

static void with_path(struct cx *cx, struct with *w)
{
    struct term *t = w->target;
    const struct rval **path;
    uint32_t n = t->kind == T_REF ? t->n - 1 : 0, i;

    path = vouch_ra_xalloc(cx->a, (n ? n : 1) * sizeof(*path));
    for (i = 0; i < n; i++) {
        struct term *it = t->u.c.items[i + 1];

        if (it->kind != T_CONST)
            cfail(cx, t->pos, "rego_compile_error: with keyword target must be a static ref");
        path[i] = it->u.val;
    }
    w->path = path;
    w->npath = n;
}

static void resolve_with(struct cx *cx, struct with *w, struct scope *s)
{
    struct term *t = w->target;
    const struct term *h = t->kind == T_REF ? t->u.c.items[0] : t;
    uint8_t ck = C_NONE;
    uint32_t host = 0;

    if (h->kind != T_VAR)
        cfail(cx, t->pos, "rego_compile_error: invalid with target");
    if (name_is(h->u.var.name, h->u.var.len, "input")) {
        w->kind = W_INPUT;
        with_path(cx, w);
    } else if (name_is(h->u.var.name, h->u.var.len, "data")) {
        const struct rval **p;
        uint32_t n, i;
        struct rnode *node;

        w->kind = W_DATA;
        with_path(cx, w);
        /* a function under data is replaced like a builtin */
        p = w->path;
        n = w->npath;
        node = cx->root;
        for (i = 0; i < n && node; i++)
            node = vouch_rnode_child(node, p[i]->u.s, p[i]->n);
        if (node && rnode_is_func(node)) {
            w->kind = W_FUNC;
            w->fnode = node;
        }
    } else {
        w->kind = W_FUNC;
        resolve_fn(cx, t, &ck, &w->bi, &w->fnode, &host, t->pos);
        if (ck == C_HOST)
            cfail(cx, t->pos, "rego_compile_error: with keyword cannot replace host functions");
        if (ck == C_BUILTIN)
            w->fnode = NULL;
        else
            w->bi = NULL;
    }
    /* A replacement function given by name: resolve as a function. */
    if (w->kind == W_FUNC &&
        (w->value->kind == T_VAR || (w->value->kind == T_REF &&
                                     w->value->u.c.items[0]->kind == T_VAR))) {
        const struct term *vh = w->value->kind == T_REF ? w->value->u.c.items[0] : w->value;
        uint32_t slot;

        if (vh->u.var.kind == V_UNRESOLVED && !lookup_decl(s, vh->u.var.name, vh->u.var.len, &slot)) {
            const struct rval **path;
            uint32_t n;
            struct rnode *node = NULL;
            char name[256];
            const struct builtin *bi = NULL;
            bool ok = true;

            if (w->value->kind == T_REF) {
                uint32_t i;

                for (i = 1; i < w->value->n; i++)
                    if (w->value->u.c.items[i]->kind != T_CONST ||
                        w->value->u.c.items[i]->u.val->t != RT_STR)
                        ok = false;
            }
            if (ok && func_data_path(cx, w->value, &path, &n))
                node = walk_nodes(cx, path, n);
            if (ok && node && (rnode_is_func(node) || (node->dflt && node->dflt->kind == R_FUNC))) {
                struct term *c = vouch_ra_xcalloc(cx->a, 1, sizeof(*c));

                c->kind = T_CALL;   /* a call with no args marks "replace by function" */
                c->pos = w->value->pos;
                c->u.c.ckind = C_FUNC;
                c->u.c.fnode = node;
                w->value = c;
                return;
            }
            if (ok) {
                join_name(cx, w->value, name, sizeof(name), w->value->pos);
                bi = vouch_rego_builtin_find(name, strlen(name));
                if (bi && !is_pkg_rule(cx, vh->u.var.name, vh->u.var.len)) {
                    struct term *c = vouch_ra_xcalloc(cx->a, 1, sizeof(*c));

                    c->kind = T_CALL;
                    c->pos = w->value->pos;
                    c->u.c.ckind = C_BUILTIN;
                    c->u.c.bi = bi;
                    w->value = c;
                    return;
                }
            }
        }
    }
    resolve_term(cx, w->value, s);
}

static void resolve_expr(struct cx *cx, struct expr *e, struct scope *s)
{
    uint32_t i;

    for (i = 0; i < e->nwith; i++)
        resolve_with(cx, &e->with[i], s);
    switch (e->kind) {
    case E_TERM:
        resolve_term(cx, e->a, s);
        break;
    case E_UNIFY:
        resolve_term(cx, e->a, s);
        resolve_term(cx, e->b, s);
        break;
    case E_ASSIGN:
        resolve_term(cx, e->b, s);
        if (e->a->kind != T_VAR && e->a->kind != T_ARR && e->a->kind != T_OBJ)
            cfail(cx, e->pos, "rego_compile_error: cannot assign to %s",
                  e->a->kind == T_REF ? "ref" : "term");
        if (e->a->kind == T_VAR && (e->a->u.var.kind == V_UNRESOLVED) &&
            (name_is(e->a->u.var.name, e->a->u.var.len, "input") ||
             name_is(e->a->u.var.name, e->a->u.var.len, "data")))
            cfail(cx, e->pos, "rego_compile_error: cannot assign to %.*s", (int)e->a->u.var.len,
                  e->a->u.var.name);
        declare_pattern(cx, e->a, s);
        break;
    case E_NOT: {
        struct scope *c = new_scope(cx, s);

        resolve_body(cx, e->body, c, NULL, 0);
        break;
    }
    case E_SOME_DECL:
        for (i = 0; i < e->ndecl; i++)
            declare_pattern(cx, e->decl[i], s);
        break;
    case E_SOME_IN:
        resolve_term(cx, e->coll, s);
        if (e->a)
            declare_pattern(cx, e->a, s);
        declare_pattern(cx, e->b, s);
        break;
    case E_EVERY: {
        struct scope *c = new_scope(cx, s);

        resolve_term(cx, e->coll, s);
        if (e->a)
            declare_pattern(cx, e->a, c);
        declare_pattern(cx, e->b, c);
        resolve_body(cx, e->body, c, NULL, 0);
        break;
    }
    }
}

static void resolve_body(struct cx *cx, struct body *b, struct scope *s, struct term *const *extra,
                         uint32_t nextra)
{
    uint32_t i;

    b->level = s->level;
    collect_body(cx, s, b, extra, nextra);
    for (i = 0; i < b->n; i++)
        resolve_expr(cx, b->ex[i], s);
}

/* ---- rewriting ---- */

static struct expr *mk_unify(struct cx *cx, struct term *a, struct term *b, uint32_t pos)
{
    struct expr *e = vouch_ra_xcalloc(cx->a, 1, sizeof(*e));

    e->kind = E_UNIFY;
    e->flags = EXF_HOISTED;
    e->pos = pos;
    e->a = a;
    e->b = b;
    e->value_slot = UINT32_MAX;
    return e;
}

static struct term *rw_simple(struct cx *cx, struct term *t, struct ra_vec *pre, uint32_t level);
static void rw_body(struct cx *cx, struct body *b);

struct kvterm {
    struct term *k, *v;
};

static int kvterm_cmp(const void *x, const void *y)
{
    return vouch_rv_cmp(((const struct kvterm *)x)->k->u.val, ((const struct kvterm *)y)->k->u.val);
}

/* An object literal whose keys are all constants: sort its pairs now so
 * the evaluator builds it without sorting (marked pad = 2). */
static void presort_keys(struct cx *cx, struct term *t)
{
    struct kvterm *p;
    uint32_t i, n = t->n / 2;

    for (i = 0; i < t->n; i += 2)
        if (t->u.c.items[i]->kind != T_CONST)
            return;
    p = vouch_ra_xalloc(cx->a, (n ? n : 1) * sizeof(*p));
    for (i = 0; i < n; i++) {
        p[i].k = t->u.c.items[2 * i];
        p[i].v = t->u.c.items[2 * i + 1];
    }
    qsort(p, n, sizeof(*p), kvterm_cmp);
    for (i = 1; i < n; i++)
        if (rv_eq(p[i - 1].k->u.val, p[i].k->u.val))
            return;   /* duplicate keys: leave it to the evaluator */
    for (i = 0; i < n; i++) {
        t->u.c.items[2 * i] = p[i].k;
        t->u.c.items[2 * i + 1] = p[i].v;
    }
    t->pad = 2;
}

static void fold(struct cx *cx, struct term *t)
{
    const struct rval **items;
    uint32_t i;

    for (i = 0; i < t->n; i++)
        if (t->u.c.items[i]->kind != T_CONST) {
            if (t->kind == T_OBJ)
                presort_keys(cx, t);
            return;
        }
    if (t->kind == T_OBJ) {
        struct rkv *kv = vouch_ra_xalloc(cx->a, (t->n / 2 + 1) * sizeof(*kv));
        bool conflict;
        const struct rval *v;

        for (i = 0; i < t->n; i += 2) {
            kv[i / 2].k = t->u.c.items[i]->u.val;
            kv[i / 2].v = t->u.c.items[i + 1]->u.val;
        }
        v = vouch_rv_obj(cx->a, kv, t->n / 2, &conflict);
        if (!v)
            cfail(cx, t->pos, "rego_parse_error: duplicate key in object");
        t->u.val = v;
    } else {
        items = vouch_ra_xalloc(cx->a, (t->n ? t->n : 1) * sizeof(*items));
        for (i = 0; i < t->n; i++)
            items[i] = t->u.c.items[i]->u.val;
        t->u.val =
            t->kind == T_ARR ? vouch_rv_arr(cx->a, items, t->n) : vouch_rv_set(cx->a, items, t->n);
    }
    t->kind = T_CONST;
    t->n = 0;
}

static void append_exprs(struct cx *cx, struct body *b, struct ra_vec *post)
{
    struct expr **ex;
    uint32_t i;

    if (!post->n)
        return;
    ex = vouch_ra_xalloc(cx->a, (b->n + post->n) * sizeof(*ex));
    for (i = 0; i < b->n; i++)
        ex[i] = b->ex[i];
    for (i = 0; i < post->n; i++)
        ex[b->n + i] = post->v[i];
    b->ex = ex;
    b->n += post->n;
}

static void rw_comp(struct cx *cx, struct term *t)
{
    struct body *b = t->u.comp.body;
    struct ra_vec post = { 0 };

    rw_body(cx, b);
    if (t->u.comp.key)
        t->u.comp.key = rw_simple(cx, t->u.comp.key, &post, b->level);
    t->u.comp.val = rw_simple(cx, t->u.comp.val, &post, b->level);
    append_exprs(cx, b, &post);
}

/* Normalise the parts of t; t itself stays where it is. */
static struct term *rw_top(struct cx *cx, struct term *t, struct ra_vec *pre, uint32_t level)
{
    uint32_t i;

    switch (t->kind) {
    case T_REF: {
        struct term *h = t->u.c.items[0];

        if (h->kind == T_CALL || h->kind == T_REF)
            t->u.c.items[0] = rw_simple(cx, h, pre, level);
        else if (h->kind != T_VAR)
            t->u.c.items[0] = rw_top(cx, h, pre, level);
        for (i = 1; i < t->n; i++)
            t->u.c.items[i] = rw_simple(cx, t->u.c.items[i], pre, level);
        break;
    }
    case T_CALL:
        for (i = 1; i < t->n; i++)
            t->u.c.items[i] = rw_simple(cx, t->u.c.items[i], pre, level);
        break;
    case T_ARR:
    case T_OBJ:
    case T_SET:
        for (i = 0; i < t->n; i++)
            t->u.c.items[i] = rw_simple(cx, t->u.c.items[i], pre, level);
        fold(cx, t);
        break;
    case T_TEMPLATE:
        for (i = 0; i < t->n; i++)
            t->u.c.items[i] = rw_top(cx, t->u.c.items[i], pre, level);
        break;
    case T_ACOMP:
    case T_SCOMP:
    case T_OCOMP:
        rw_comp(cx, t);
        break;
    default:
        break;
    }
    return t;
}

/* Normalise t into a term that evaluates to one value without iterating:
 * calls and refs move into their own expression. */
static struct term *rw_simple(struct cx *cx, struct term *t, struct ra_vec *pre, uint32_t level)
{
    if (t->kind == T_REF || t->kind == T_CALL) {
        struct term *v;

        t = rw_top(cx, t, pre, level);
        v = fresh_var(cx, level, t->pos);
        vouch_ra_vec_push(cx->a, pre, mk_unify(cx, v, t, t->pos));
        return v;
    }
    return rw_top(cx, t, pre, level);
}

static void rw_body(struct cx *cx, struct body *b)
{
    struct ra_vec out = { 0 };
    uint32_t i, j, level = b->level;

    for (i = 0; i < b->n; i++) {
        struct expr *e = b->ex[i];
        struct ra_vec pre = { 0 };

        uint32_t nwpre;

        for (j = 0; j < e->nwith; j++) {
            if (e->with[j].value->kind == T_CALL && e->with[j].value->n == 0)
                continue;   /* a replacement function */
            e->with[j].value = rw_simple(cx, e->with[j].value, &pre, level);
        }
        nwpre = pre.n;
        switch (e->kind) {
        case E_TERM:
            e->a = rw_top(cx, e->a, &pre, level);
            break;
        case E_UNIFY:
        case E_ASSIGN:
            e->a = rw_top(cx, e->a, &pre, level);
            e->b = rw_top(cx, e->b, &pre, level);
            break;
        case E_NOT:
            rw_body(cx, e->body);
            break;
        case E_SOME_IN:
            e->coll = rw_simple(cx, e->coll, &pre, level);
            if (e->a)
                e->a = rw_top(cx, e->a, &pre, level);
            e->b = rw_top(cx, e->b, &pre, level);
            break;
        case E_EVERY:
            e->coll = rw_simple(cx, e->coll, &pre, level);
            rw_body(cx, e->body);
            break;
        default:
            break;
        }
        /* parts moved out of an expression with `with` run under it too */
        for (j = nwpre; j < pre.n; j++) {
            struct expr *h = pre.v[j];

            h->with = e->with;
            h->nwith = e->nwith;
        }
        for (j = 0; j < pre.n; j++)
            vouch_ra_vec_push(cx->a, &out, pre.v[j]);
        vouch_ra_vec_push(cx->a, &out, e);
    }
    b->ex = (struct expr **)out.v;
    b->n = out.n;
}

/* ---- safety ---- */

struct bset {
    uint8_t *b;
    uint32_t n;
};

static struct bset bs_new(struct cx *cx)
{
    struct bset s;

    s.n = cx->nslots;
    s.b = vouch_ra_xcalloc(cx->a, s.n ? s.n : 1, 1);
    return s;
}

static struct bset bs_copy(struct cx *cx, const struct bset *o)
{
    struct bset s = bs_new(cx);

    xmemcpy(s.b, o->b, o->n < s.n ? o->n : s.n);
    return s;
}

static bool bs_has(const struct bset *s, uint32_t slot)
{
    return slot < s->n && s->b[slot];
}

static void bs_add(struct bset *s, uint32_t slot)
{
    if (slot < s->n)
        s->b[slot] = 1;
}

static bool body_captures_bound(struct cx *cx, const struct body *b, const struct bset *B);

/* All variables of t bound (comprehensions: their captured variables). */
static bool term_bound(struct cx *cx, const struct term *t, const struct bset *B)
{
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
        return t->u.var.kind != V_LOCAL || bs_has(B, t->u.var.slot);
    case T_REF:
    case T_ARR:
    case T_OBJ:
    case T_SET:
    case T_TEMPLATE:
        for (i = 0; i < t->n; i++)
            if (!term_bound(cx, t->u.c.items[i], B))
                return false;
        return true;
    case T_CALL:
        for (i = 1; i < t->n; i++)
            if (!term_bound(cx, t->u.c.items[i], B))
                return false;
        return true;
    case T_ACOMP:
    case T_SCOMP:
    case T_OCOMP:
        return body_captures_bound(cx, t->u.comp.body, B);
    default:
        return true;
    }
}

static bool expr_captures_bound(struct cx *cx, const struct expr *e, uint32_t level,
                                const struct bset *B);

static bool term_captures_bound(struct cx *cx, const struct term *t, uint32_t level,
                                const struct bset *B)
{
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
        return t->u.var.kind != V_LOCAL || cx->slot_level[t->u.var.slot] >= level ||
               bs_has(B, t->u.var.slot);
    case T_REF:
    case T_ARR:
    case T_OBJ:
    case T_SET:
    case T_TEMPLATE:
    case T_CALL:
        for (i = t->kind == T_CALL ? 1 : 0; i < t->n; i++)
            if (!term_captures_bound(cx, t->u.c.items[i], level, B))
                return false;
        return true;
    case T_ACOMP:
    case T_SCOMP:
    case T_OCOMP: {
        const struct body *b = t->u.comp.body;

        for (i = 0; i < b->n; i++)
            if (!expr_captures_bound(cx, b->ex[i], level, B))
                return false;
        if (t->u.comp.key && !term_captures_bound(cx, t->u.comp.key, level, B))
            return false;
        return term_captures_bound(cx, t->u.comp.val, level, B);
    }
    default:
        return true;
    }
}

static bool expr_captures_bound(struct cx *cx, const struct expr *e, uint32_t level,
                                const struct bset *B)
{
    uint32_t i;

    if (e->a && !term_captures_bound(cx, e->a, level, B))
        return false;
    if (e->b && !term_captures_bound(cx, e->b, level, B))
        return false;
    if (e->coll && !term_captures_bound(cx, e->coll, level, B))
        return false;
    for (i = 0; i < e->nwith; i++)
        if (!term_captures_bound(cx, e->with[i].value, level, B))
            return false;
    if (e->body)
        for (i = 0; i < e->body->n; i++)
            if (!expr_captures_bound(cx, e->body->ex[i], level, B))
                return false;
    return true;
}

/* The variables a nested body reads from outside must be bound. */
static bool body_captures_bound(struct cx *cx, const struct body *b, const struct bset *B)
{
    uint32_t i;

    for (i = 0; i < b->n; i++)
        if (!expr_captures_bound(cx, b->ex[i], b->level, B))
            return false;
    return true;
}

static void add_vars(struct cx *cx, const struct term *t, struct bset *B)
{
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
        if (t->u.var.kind == V_LOCAL)
            bs_add(B, t->u.var.slot);
        break;
    case T_REF:
    case T_ARR:
    case T_OBJ:
    case T_SET:
        for (i = 0; i < t->n; i++)
            add_vars(cx, t->u.c.items[i], B);
        break;
    default:
        break;
    }
}

static bool is_gen(const struct term *t)
{
    return t->kind == T_REF || t->kind == T_CALL;
}

/* Can a generator term (ref or call) run now?  If so add what it binds. */
static bool gen_ok(struct cx *cx, const struct term *t, struct bset *B)
{
    uint32_t i;

    if (t->kind == T_REF) {
        const struct term *h = t->u.c.items[0];

        if (!term_bound(cx, h, B))
            return false;
        for (i = 1; i < t->n; i++) {
            const struct term *it = t->u.c.items[i];

            /* composite keys with unbound vars are patterns; anything
             * else in them must be bound */
            if (it->kind == T_ACOMP || it->kind == T_SCOMP || it->kind == T_OCOMP ||
                it->kind == T_TEMPLATE) {
                if (!term_bound(cx, it, B))
                    return false;
            } else if (it->kind == T_OBJ) {
                uint32_t k;

                for (k = 0; k < it->n; k += 2)
                    if (!term_bound(cx, it->u.c.items[k], B))
                        return false;
            }
            add_vars(cx, it, B);
        }
        return true;
    }
    /* call */
    for (i = 1; i < t->n - (t->u.c.out ? 1 : 0); i++)
        if (!term_bound(cx, t->u.c.items[i], B))
            return false;
    if (t->u.c.out) {
        const struct term *o = t->u.c.items[t->n - 1];

        if (is_gen(o))
            return false;
        add_vars(cx, o, B);
    }
    return true;
}

/* A term usable as a unification pattern: vars, constants and composites
 * of them (object keys bound). */
static bool is_pattern(struct cx *cx, const struct term *t, const struct bset *B)
{
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
    case T_CONST:
        return true;
    case T_ARR:
        for (i = 0; i < t->n; i++)
            if (!is_pattern(cx, t->u.c.items[i], B))
                return false;
        return true;
    case T_OBJ:
        for (i = 0; i < t->n; i += 2)
            if (!term_bound(cx, t->u.c.items[i], B) || !is_pattern(cx, t->u.c.items[i + 1], B))
                return false;
        return true;
    default:
        return term_bound(cx, t, B);
    }
}

static bool unify_ok(struct cx *cx, const struct term *a, const struct term *b, struct bset *B)
{
    if (is_gen(a) || is_gen(b)) {
        const struct term *g = is_gen(a) ? a : b, *o = g == a ? b : a;

        if (!gen_ok(cx, g, B))
            return false;
        if (is_gen(o))
            return gen_ok(cx, o, B);
        if (term_bound(cx, o, B))
            return true;
        if (!is_pattern(cx, o, B))
            return false;
        add_vars(cx, o, B);
        return true;
    }
    if (term_bound(cx, a, B) && term_bound(cx, b, B))
        return true;
    if (term_bound(cx, a, B) && is_pattern(cx, b, B)) {
        add_vars(cx, b, B);
        return true;
    }
    if (term_bound(cx, b, B) && is_pattern(cx, a, B)) {
        add_vars(cx, a, B);
        return true;
    }
    if (a->kind == T_ARR && b->kind == T_ARR && a->n == b->n) {
        uint32_t i;
        bool progress = true;
        uint8_t *done = vouch_ra_xcalloc(cx->a, a->n ? a->n : 1, 1);
        uint32_t left = a->n;

        /* element pairs in any order that works */
        while (left && progress) {
            progress = false;
            for (i = 0; i < a->n; i++) {
                struct bset T;

                if (done[i])
                    continue;
                T = bs_copy(cx, B);
                if (unify_ok(cx, a->u.c.items[i], b->u.c.items[i], &T)) {
                    xmemcpy(B->b, T.b, B->n);
                    done[i] = 1;
                    left--;
                    progress = true;
                }
            }
        }
        return left == 0;
    }
    if (a->kind == T_OBJ && b->kind == T_OBJ && a->n == b->n) {
        uint32_t i, j;

        for (i = 0; i < a->n; i += 2)
            if (!term_bound(cx, a->u.c.items[i], B) || !term_bound(cx, b->u.c.items[i], B))
                return false;
        /* keys are constants after folding in practice; pair them by
         * position when they are equal constants */
        for (i = 0; i < a->n; i += 2) {
            const struct term *ka = a->u.c.items[i];
            bool found = false;

            for (j = 0; j < b->n; j += 2) {
                const struct term *kb = b->u.c.items[j];

                if (ka->kind == T_CONST && kb->kind == T_CONST && rv_eq(ka->u.val, kb->u.val)) {
                    if (!unify_ok(cx, a->u.c.items[i + 1], b->u.c.items[j + 1], B))
                        return false;
                    found = true;
                    break;
                }
            }
            if (!found) {
                /* non-constant keys: require both value sides patterns */
                if (!is_pattern(cx, a->u.c.items[i + 1], B))
                    return false;
                add_vars(cx, a->u.c.items[i + 1], B);
            }
        }
        for (j = 0; j < b->n; j += 2)
            add_vars(cx, b->u.c.items[j + 1], B);
        return true;
    }
    return false;
}

static bool expr_ok(struct cx *cx, const struct expr *e, struct bset *B)
{
    uint32_t i;

    for (i = 0; i < e->nwith; i++)
        if (!term_bound(cx, e->with[i].value, B))
            return false;
    switch (e->kind) {
    case E_TERM:
        if (is_gen(e->a))
            return gen_ok(cx, e->a, B);
        return term_bound(cx, e->a, B);
    case E_UNIFY:
    case E_ASSIGN:
        return unify_ok(cx, e->a, e->b, B);
    case E_NOT:
        return body_captures_bound(cx, e->body, B);
    case E_SOME_DECL:
        return true;
    case E_SOME_IN:
        if (!term_bound(cx, e->coll, B))
            return false;
        if (e->a) {
            if (!is_pattern(cx, e->a, B))
                return false;
            add_vars(cx, e->a, B);
        }
        if (!is_pattern(cx, e->b, B))
            return false;
        add_vars(cx, e->b, B);
        return true;
    case E_EVERY:
        return term_bound(cx, e->coll, B) && body_captures_bound(cx, e->body, B);
    }
    return false;
}

/* The first variable of t not bound in B, ignoring variables that belong
 * to bodies nested at scope level `lim` or deeper (their own locals). */
static const struct term *unbound_in(struct cx *cx, const struct term *t, const struct bset *B,
                                     uint32_t lim);

static const struct term *unbound_expr(struct cx *cx, const struct expr *e, const struct bset *B,
                                       uint32_t lim)
{
    const struct term *u = NULL;
    uint32_t i;

    /* in x := y / x = y the culprit is the right side's variable */
    if ((e->kind == E_ASSIGN || e->kind == E_UNIFY) && e->b &&
        (u = unbound_in(cx, e->b, B, lim)))
        return u;
    if (e->a && (u = unbound_in(cx, e->a, B, lim)))
        return u;
    if (e->b && (u = unbound_in(cx, e->b, B, lim)))
        return u;
    if (e->coll && (u = unbound_in(cx, e->coll, B, lim)))
        return u;
    if (e->body) {
        uint32_t l = e->body->level < lim ? e->body->level : lim;

        for (i = 0; i < e->body->n; i++)
            if ((u = unbound_expr(cx, e->body->ex[i], B, l)))
                return u;
    }
    return NULL;
}

static const struct term *unbound_in(struct cx *cx, const struct term *t, const struct bset *B,
                                     uint32_t lim)
{
    const struct term *u;
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
        return t->u.var.kind == V_LOCAL && cx->slot_level[t->u.var.slot] < lim &&
                       !bs_has(B, t->u.var.slot)
                   ? t
                   : NULL;
    case T_REF:
    case T_ARR:
    case T_OBJ:
    case T_SET:
    case T_TEMPLATE:
    case T_CALL:
        for (i = t->kind == T_CALL ? 1 : 0; i < t->n; i++)
            if ((u = unbound_in(cx, t->u.c.items[i], B, lim)))
                return u;
        return NULL;
    case T_ACOMP:
    case T_SCOMP:
    case T_OCOMP: {
        uint32_t l = t->u.comp.body->level < lim ? t->u.comp.body->level : lim;

        for (i = 0; i < t->u.comp.body->n; i++)
            if ((u = unbound_expr(cx, t->u.comp.body->ex[i], B, l)))
                return u;
        if (t->u.comp.key && (u = unbound_in(cx, t->u.comp.key, B, l)))
            return u;
        return unbound_in(cx, t->u.comp.val, B, l);
    }
    default:
        return NULL;
    }
}

static const struct term *first_unbound(struct cx *cx, const struct term *t, const struct bset *B)
{
    return unbound_in(cx, t, B, UINT32_MAX);
}

static const struct term *first_unbound_expr(struct cx *cx, const struct expr *e,
                                             const struct bset *B)
{
    return unbound_expr(cx, e, B, UINT32_MAX);
}

static void order_body(struct cx *cx, struct body *b, struct bset *B);

static void order_term_nested(struct cx *cx, struct term *t, const struct bset *B)
{
    uint32_t i;

    switch (t->kind) {
    case T_REF:
    case T_ARR:
    case T_OBJ:
    case T_SET:
    case T_TEMPLATE:
    case T_CALL:
        for (i = t->kind == T_CALL ? 1 : 0; i < t->n; i++)
            order_term_nested(cx, t->u.c.items[i], B);
        break;
    case T_ACOMP:
    case T_SCOMP:
    case T_OCOMP: {
        struct bset C = bs_copy(cx, B);
        const struct term *u;

        order_body(cx, t->u.comp.body, &C);
        if ((t->u.comp.key && (u = first_unbound(cx, t->u.comp.key, &C))) ||
            (u = first_unbound(cx, t->u.comp.val, &C)))
            cfail(cx, u->pos, "rego_unsafe_var_error: var %.*s is unsafe", (int)u->u.var.len,
                  u->u.var.name);
        break;
    }
    default:
        break;
    }
}

static void order_nested(struct cx *cx, struct expr *e, const struct bset *Bb)
{
    uint32_t i;

    for (i = 0; i < e->nwith; i++)
        order_term_nested(cx, e->with[i].value, Bb);
    if (e->a)
        order_term_nested(cx, e->a, Bb);
    if (e->b)
        order_term_nested(cx, e->b, Bb);
    if (e->coll)
        order_term_nested(cx, e->coll, Bb);
    if (e->kind == E_NOT) {
        struct bset C = bs_copy(cx, Bb);

        order_body(cx, e->body, &C);
    } else if (e->kind == E_EVERY) {
        struct bset C = bs_copy(cx, Bb);

        if (e->a)
            add_vars(cx, e->a, &C);
        add_vars(cx, e->b, &C);
        order_body(cx, e->body, &C);
    }
}

static void order_body(struct cx *cx, struct body *b, struct bset *B)
{
    struct expr **rem = vouch_ra_xalloc(cx->a, (b->n ? b->n : 1) * sizeof(*rem));
    struct expr **out = vouch_ra_xalloc(cx->a, (b->n ? b->n : 1) * sizeof(*out));
    uint32_t nrem = b->n, nout = 0, i;

    xmemcpy(rem, b->ex, b->n * sizeof(*rem));
    while (nrem) {
        bool found = false;

        for (i = 0; i < nrem; i++) {
            struct bset T = bs_copy(cx, B);

            if (expr_ok(cx, rem[i], &T)) {
                struct expr *e = rem[i];

                order_nested(cx, e, B);
                xmemcpy(B->b, T.b, B->n);
                out[nout++] = e;
                xmemmove(rem + i, rem + i + 1, (nrem - i - 1) * sizeof(*rem));
                nrem--;
                found = true;
                break;
            }
        }
        if (!found) {
            const struct term *u = first_unbound_expr(cx, rem[0], B);

            if (u)
                cfail(cx, u->pos, "rego_unsafe_var_error: var %.*s is unsafe",
                      (int)u->u.var.len, u->u.var.name);
            cfail(cx, rem[0]->pos, "rego_unsafe_var_error: expression is unsafe");
        }
    }
    b->ex = out;
    b->n = nout;
}

/* ---- rules ---- */

static struct body *empty_body(struct cx *cx)
{
    return vouch_ra_xcalloc(cx->a, 1, sizeof(struct body));
}

static void check_head(struct cx *cx, const struct term *t, const struct bset *B)
{
    const struct term *u = first_unbound(cx, t, B);

    if (u)
        cfail(cx, u->pos, "rego_unsafe_var_error: var %.*s is unsafe", (int)u->u.var.len,
              u->u.var.name);
}

static void compile_rule(struct cx *cx, struct rule *r)
{
    struct scope *s;
    struct ra_vec heads = { 0 }, post = { 0 };
    struct bset B;
    uint32_t i, nh;

    cx->nslots = 0;
    s = new_scope(cx, NULL);
    if (!r->body)
        r->body = empty_body(cx);
    nh = head_n(r);
    for (i = r->nstatic; i < nh; i++)
        vouch_ra_vec_push(cx->a, &heads, head_item(r, i));
    if (r->key)
        vouch_ra_vec_push(cx->a, &heads, r->key);
    if (r->value)
        vouch_ra_vec_push(cx->a, &heads, r->value);
    for (i = 0; i < r->nargs; i++)
        declare_pattern(cx, r->args[i], s);
    resolve_body(cx, r->body, s, (struct term **)heads.v, heads.n);
    for (i = 0; i < heads.n; i++)
        resolve_term(cx, heads.v[i], s);
    /* rewrite; head terms move into the body */
    rw_body(cx, r->body);
    if (r->head->kind == T_REF)
        for (i = r->nstatic; i < nh; i++)
            r->head->u.c.items[i] = rw_simple(cx, r->head->u.c.items[i], &post, 0);
    if (r->key)
        r->key = rw_simple(cx, r->key, &post, 0);
    if (r->value)
        r->value = rw_simple(cx, r->value, &post, 0);
    for (i = 0; i < r->nargs; i++)
        r->args[i] = rw_top(cx, r->args[i], &post, 0);
    append_exprs(cx, r->body, &post);
    /* safety */
    B = bs_new(cx);
    for (i = 0; i < r->nargs; i++)
        add_vars(cx, r->args[i], &B);
    order_body(cx, r->body, &B);
    for (i = r->nstatic; i < nh; i++)
        check_head(cx, head_item(r, i), &B);
    if (r->key)
        check_head(cx, r->key, &B);
    if (r->value)
        check_head(cx, r->value, &B);
    r->const_value = (!r->value || r->value->kind == T_CONST) &&
                     (!r->key || r->key->kind == T_CONST) && r->kind != R_OBJ;
    r->nslots = cx->nslots;
}

/* ---- data ref prefixes and dependencies ---- */

static void set_ref_node(struct cx *cx, struct term *t)
{
    struct rnode *n = cx->root;
    uint32_t i = 1;

    while (i < t->n && !rnode_has_value(n) && !rnode_is_func(n) && !n->objs.n) {
        const struct term *it = t->u.c.items[i];
        struct rnode *c;
        char num[32];

        if (it->kind != T_CONST)
            break;
        if (it->u.val->t == RT_STR) {
            c = vouch_rnode_child(n, it->u.val->u.s, it->u.val->n);
        } else if (vouch_rv_is_int(it->u.val) && !(it->u.val->flags & RVF_BIG)) {
            /* data refs read integer keys as strings */
            int len = snprintf(num, sizeof(num), "%lld", (long long)it->u.val->u.i);

            c = vouch_rnode_child(n, num, (size_t)len);
        } else {
            break;
        }
        if (!c)
            break;
        n = c;
        i++;
    }
    t->u.c.node = n;
    t->u.c.node_depth = i - 1;
}

struct deps {
    struct rnode *from;
    struct ra_vec *edges;   /* per node id: struct ra_vec of struct rnode * */
};

static void add_edge(struct cx *cx, struct deps *d, struct rnode *to)
{
    if (d->from)
        vouch_ra_vec_push(cx->a, &d->edges[d->from->id], to);
}

static void add_subtree(struct cx *cx, struct deps *d, struct rnode *n)
{
    uint32_t i;

    if (!n->subtree_rules)
        return;
    add_edge(cx, d, n);
    for (i = 0; i < n->nkids; i++)
        add_subtree(cx, d, n->kids[i]);
}

static void walk_body(struct cx *cx, struct body *b, struct deps *d);

static void walk_term(struct cx *cx, struct term *t, struct deps *d)
{
    uint32_t i;

    switch (t->kind) {
    case T_REF:
        if (t->u.c.items[0]->kind == T_VAR && t->u.c.items[0]->u.var.kind == V_DATA) {
            struct rnode *n;
            uint32_t dep;

            set_ref_node(cx, t);
            n = t->u.c.node;
            dep = t->u.c.node_depth;
            if (rnode_has_value(n) || rnode_is_func(n)) {
                add_edge(cx, d, n);
            } else if (dep + 1 < t->n) {
                const struct term *nx = t->u.c.items[dep + 1];

                if (nx->kind != T_CONST ||
                    (nx->u.val->t != RT_STR && !vouch_rv_is_int(nx->u.val)) || n->objs.n)
                    add_subtree(cx, d, n);
            } else {
                add_subtree(cx, d, n);
            }
        }
        /* the head var is the data root itself, not a reference to all of it */
        for (i = t->u.c.items[0]->kind == T_VAR ? 1 : 0; i < t->n; i++)
            walk_term(cx, t->u.c.items[i], d);
        break;
    case T_VAR:
        if (t->u.var.kind == V_DATA && d)
            add_subtree(cx, d, cx->root);
        break;
    case T_CALL:
        if (t->u.c.ckind == C_FUNC && t->u.c.fnode)
            add_edge(cx, d, t->u.c.fnode);
        for (i = 1; i < t->n; i++)
            walk_term(cx, t->u.c.items[i], d);
        break;
    case T_ARR:
    case T_OBJ:
    case T_SET:
    case T_TEMPLATE:
        for (i = 0; i < t->n; i++)
            walk_term(cx, t->u.c.items[i], d);
        break;
    case T_ACOMP:
    case T_SCOMP:
    case T_OCOMP:
        walk_body(cx, t->u.comp.body, d);
        if (t->u.comp.key)
            walk_term(cx, t->u.comp.key, d);
        walk_term(cx, t->u.comp.val, d);
        break;
    default:
        break;
    }
}

static void walk_body(struct cx *cx, struct body *b, struct deps *d)
{
    uint32_t i, j;

    for (i = 0; i < b->n; i++) {
        struct expr *e = b->ex[i];

        for (j = 0; j < e->nwith; j++) {
            walk_term(cx, e->with[j].value, d);
            if (e->with[j].value->kind == T_CALL && e->with[j].value->u.c.fnode)
                add_edge(cx, d, e->with[j].value->u.c.fnode);
        }
        if (e->a)
            walk_term(cx, e->a, d);
        if (e->b)
            walk_term(cx, e->b, d);
        if (e->coll)
            walk_term(cx, e->coll, d);
        if (e->body)
            walk_body(cx, e->body, d);
        for (j = 0; j < e->ndecl; j++)
            walk_term(cx, e->decl[j], d);
    }
}

static void walk_rule(struct cx *cx, struct rule *r, struct deps *d)
{
    uint32_t i;

    walk_body(cx, r->body, d);
    if (r->head->kind == T_REF)
        for (i = r->nstatic; i < r->head->n; i++)
            walk_term(cx, r->head->u.c.items[i], d);
    if (r->key)
        walk_term(cx, r->key, d);
    if (r->value)
        walk_term(cx, r->value, d);
    for (i = 0; i < r->nargs; i++)
        walk_term(cx, r->args[i], d);
}

static void check_cycles(struct cx *cx, struct ra_vec *edges)
{
    uint8_t *color = vouch_ra_xcalloc(cx->a, cx->nnodes ? cx->nnodes : 1, 1);
    struct rnode **stack = vouch_ra_xalloc(cx->a, (cx->nnodes + 1) * sizeof(*stack));
    uint32_t *it = vouch_ra_xcalloc(cx->a, cx->nnodes + 1, sizeof(*it));
    uint32_t i;

    for (i = 0; i < cx->nnodes; i++) {
        uint32_t sp = 0;

        if (color[i])
            continue;
        stack[sp++] = cx->nodes.v[i];
        color[i] = 1;
        it[0] = 0;
        while (sp) {
            struct rnode *n = stack[sp - 1];
            struct ra_vec *ev = &edges[n->id];

            if (it[sp - 1] < ev->n) {
                struct rnode *m = ev->v[it[sp - 1]++];

                if (color[m->id] == 1) {
                    char a[200], b[200];

                    print_path(m, a, sizeof(a));
                    print_path(n, b, sizeof(b));
                    set_module(cx, NULL);
                    cfail(cx, 0, "rego_recursion_error: rule %s is recursive: %s -> %s", a, b,
                          a);
                }
                if (color[m->id] == 0) {
                    color[m->id] = 1;
                    stack[sp] = m;
                    it[sp] = 0;
                    sp++;
                }
            } else {
                color[n->id] = 2;
                sp--;
            }
        }
    }
}

/* ---- entry points ---- */

static void cx_init(struct cx *cx, struct rarena *a, const struct vouch_rego_policy *pol,
                    struct rnode *root, char *msg, size_t msgsize)
{
    memset(cx, 0, sizeof(*cx));
    cx->a = a;
    cx->pol = pol;
    cx->root = root;
    cx->msg = msg;
    cx->msgsize = msgsize;
    snprintf(msg, msgsize, "rego_compile_error: out of memory");
}

static void each_rule(struct vouch_rego_policy *p, struct ra_vec *out, struct rarena *a)
{
    uint32_t m, i;

    for (m = 0; m < p->nmods; m++)
        for (i = 0; i < p->mods[m]->nrules; i++) {
            struct rule *r;

            for (r = p->mods[m]->rules[i]; r; r = r->els)
                vouch_ra_vec_push(a, out, r);
        }
}

bool vouch_rego_compile_policy(struct vouch_rego_policy *p, char *msg, size_t msgsize);

bool vouch_rego_compile_policy(struct vouch_rego_policy *p, char *msg, size_t msgsize)
{
    struct cx cx;
    struct ra_vec rules = { 0 };
    struct ra_vec *edges;
    jmp_buf *old = p->arena.jb;
    uint32_t m, i;

    cx_init(&cx, &p->arena, p, NULL, msg, msgsize);
    if (setjmp(cx.jb)) {
        p->arena.jb = old;
        return false;
    }
    p->arena.jb = &cx.jb;
    cx.root = p->root = new_node(&cx, NULL, NULL);
    cx.root->pkg = true;
    /* 1. the tree */
    for (m = 0; m < p->nmods; m++) {
        struct module *mod = p->mods[m];
        struct rnode *pkg = cx.root;

        set_module(&cx, mod);
        for (i = 0; i < mod->npkg; i++) {
            if (i == 0 && str_is(mod->pkg_path[0], "data") && mod->npkg > 1)
                continue;
            pkg = node_get(&cx, pkg, mod->pkg_path[i]);
            pkg->pkg = true;
        }
        for (i = 0; i < mod->nrules; i++)
            attach_rule(&cx, pkg, mod->rules[i]);
    }
    /* 2-4. each rule */
    for (m = 0; m < p->nmods; m++) {
        struct module *mod = p->mods[m];
        struct rnode *pkg = cx.root;

        set_module(&cx, mod);
        for (i = 0; i < mod->npkg; i++) {
            if (i == 0 && str_is(mod->pkg_path[0], "data") && mod->npkg > 1)
                continue;
            pkg = vouch_rnode_child(pkg, mod->pkg_path[i]->u.s, mod->pkg_path[i]->n);
        }
        cx.pkg = pkg;
        for (i = 0; i < mod->nrules; i++) {
            struct rule *r;

            for (r = mod->rules[i]; r; r = r->els)
                compile_rule(&cx, r);
        }
    }
    /* 5. refs and recursion */
    p->nodes = (struct rnode **)cx.nodes.v;
    p->nnodes = cx.nnodes;
    edges = vouch_ra_xcalloc(&p->arena, cx.nnodes ? cx.nnodes : 1, sizeof(*edges));
    each_rule(p, &rules, &p->arena);
    for (i = 0; i < rules.n; i++) {
        struct rule *r = rules.v[i];
        struct deps d = { r->node, edges };

        set_module(&cx, r->mod);
        r->id = i;
        walk_rule(&cx, r, &d);
    }
    p->all_rules = (struct rule **)rules.v;
    p->nrules = rules.n;
    check_cycles(&cx, edges);
    p->arena.jb = old;
    return true;
}

bool vouch_rego_compile_query(const struct vouch_rego_policy *p, struct rarena *a, const char *src,
                              size_t len, struct cquery **ret, char *msg, size_t msgsize)
{
    struct cx cx;
    struct body *b;
    struct scope *s;
    struct bset B;
    struct cquery *q;
    uint32_t pos, i, j;
    jmp_buf *old = a->jb;
    struct ra_vec vars = { 0 };

    if (!vouch_rego_parse_query(a, src, len, &b, &pos, msg, msgsize)) {
        uint32_t line, col;
        char tmp[VOUCH_ERRBUF_SIZE];

        vouch_rego_line_col(src, len, pos, &line, &col);
        snprintf(tmp, sizeof(tmp), "%u:%u: %s", line, col, msg);
        snprintf(msg, msgsize, "%s", tmp);
        return false;
    }
    cx_init(&cx, a, p, p->root, msg, msgsize);
    cx.src = src;
    cx.len = len;
    if (setjmp(cx.jb)) {
        a->jb = old;
        return false;
    }
    a->jb = &cx.jb;
    q = vouch_ra_xcalloc(a, 1, sizeof(*q));
    q->nexprs = b->n;
    s = new_scope(&cx, NULL);
    resolve_body(&cx, b, s, NULL, 0);
    rw_body(&cx, b);
    /* the value of each top-level term expression, for full results */
    for (i = 0; i < b->n; i++)
        if (b->ex[i]->kind == E_TERM && !(b->ex[i]->flags & EXF_HOISTED))
            b->ex[i]->value_slot = new_slot(&cx, 0, "", 0);
    B = bs_new(&cx);
    order_body(&cx, b, &B);
    {
        struct deps d = { NULL, NULL };

        walk_body(&cx, b, &d);
    }
    /* variables: plain and declared names at the top level, in order of
     * first appearance, without generated ones */
    for (i = 0; i < cx.nslots; i++) {
        const char *name = cx.slot_name[i];
        uint32_t nl = cx.slot_namelen[i];
        bool dup = false;

        if (cx.slot_level[i] != 0 || nl == 0 || name[0] == '_')
            continue;
        for (j = 0; j < vars.n; j++) {
            const struct query_var *qv = vars.v[j];

            if (qv->len == nl && memcmp(qv->name, name, nl) == 0)
                dup = true;
        }
        if (!dup) {
            struct query_var *qv = vouch_ra_xalloc(a, sizeof(*qv));

            qv->name = name;
            qv->len = nl;
            qv->slot = i;
            vouch_ra_vec_push(a, &vars, qv);
        }
    }
    q->vars = vouch_ra_xalloc(a, (vars.n ? vars.n : 1) * sizeof(*q->vars));
    for (i = 0; i < vars.n; i++)
        q->vars[i] = *(struct query_var *)vars.v[i];
    q->nvars = vars.n;
    q->body = b;
    q->nslots = cx.nslots;
    q->src = src;
    q->len = len;
    a->jb = old;
    *ret = q;
    return true;
}
