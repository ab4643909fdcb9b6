/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_REGO_COMPILE_H
#define VOUCH_REGO_COMPILE_H

#include "rego/ast.h"
#include "rego/rego.h"

/*
 * The rule tree: one node per path under `data` that a package or a rule
 * names.  A node holds the rules that define its value:
 *   complete  p := v (several definitions must agree; else chains)
 *   sets      p contains x
 *   objs      rules whose head continues with dynamic keys below this
 *             node (p[k] := v, p[a].b := v, p[a] contains x)
 *   funcs     f(x) := y
 * A node without value rules is an object: its children plus the objs
 * entries plus base data at the same path.
 */
struct rnode {
    const struct rval *key;       /* NULL at the root */
    struct rnode *parent;
    struct rnode **kids;          /* sorted by key */
    uint32_t nkids, kids_cap;
    const struct rval **path;     /* from the data root */
    uint32_t depth;
    uint32_t id;
    struct ra_vec complete, sets, objs, funcs;
    struct rule *dflt;
    uint32_t arity;               /* functions */
    bool is_rule_name;            /* the first segment of a rule head in its package */
    bool pkg;
    bool subtree_rules;           /* this node or one below has rules */
};

static inline bool rnode_has_value(const struct rnode *n)
{
    return n->complete.n || n->sets.n || (n->dflt && n->dflt->kind != R_FUNC);
}

static inline bool rnode_is_func(const struct rnode *n)
{
    return n->funcs.n != 0 || (n->dflt && n->dflt->kind == R_FUNC);
}

struct rnode *vouch_rnode_child(const struct rnode *n, const char *key, size_t len);

struct host_fn {
    char *name;
    unsigned arity;
    vouch_rego_host_fn fn;
};

struct vouch_rego_policy {
    struct rarena arena;
    struct rnode *root;
    struct rnode **nodes;
    uint32_t nnodes;
    struct module **mods;
    uint32_t nmods;
    struct host_fn *hosts;
    uint32_t nhosts;
    struct rule **all_rules;      /* every rule, else and default included */
    uint32_t nrules;
};

/* A compiled query: its body, frame size and the variables it binds. */
struct query_var {
    const char *name;
    uint32_t len;
    uint32_t slot;
};

struct cquery {
    struct body *body;
    uint32_t nslots;
    struct query_var *vars;
    uint32_t nvars;
    uint32_t nexprs;              /* top-level expressions in source order */
    const char *src;
    size_t len;
};

/*
 * Compile a query against a policy, allocating in `a` (the policy is not
 * modified).  Errors are formatted into msg as "1:5: rego_...: text".
 */
bool vouch_rego_compile_query(const struct vouch_rego_policy *p, struct rarena *a, const char *src,
                              size_t len, struct cquery **ret, char *msg, size_t msgsize);

/* Builtins (builtins.c). */
struct ev;
enum {
    BI_OK = 0,
    BI_UNDEF,         /* no result */
    BI_ERR_TYPE,      /* eval_type_error */
    BI_ERR,           /* eval_builtin_error */
};

typedef int (*bi_fn)(struct ev *ev, const struct rval *const *args, const struct rval **ret);

struct builtin {
    const char *name;
    uint8_t arity;
    uint8_t flags;
    bi_fn fn;
};

#define BI_REL 1        /* returns an array of results to iterate (walk) */

const struct builtin *vouch_rego_builtin_find(const char *name, size_t len);

#endif
