/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_REGO_AST_H
#define VOUCH_REGO_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "rego/arena.h"
#include "rego/value.h"

/*
 * The syntax tree.  The parser builds it; the compiler then resolves names
 * in place (variables get slots, rule references become data refs, calls
 * get their target), rewrites nested calls and refs into their own
 * expressions, and orders each body so variables are bound before use.
 * After compilation the tree is immutable and is what the evaluator walks.
 */
struct rnode;
struct builtin;
struct body;

enum tkind {
    T_CONST,   /* scalar literal (and ground composites folded by the compiler) */
    T_VAR,
    T_REF,     /* items[0] head, items[1..n) path */
    T_CALL,    /* items[0] the function (a ref or var), items[1..n) args */
    T_ARR,
    T_OBJ,     /* items: k0, v0, k1, v1, ... */
    T_SET,
    T_ACOMP,   /* [val | body] */
    T_SCOMP,   /* {val | body} */
    T_OCOMP,   /* {key: val | body} */
    T_TEMPLATE, /* $"..{x}..": items alternate literal strings and terms */
};

/* What a variable resolved to. */
enum vkind {
    V_UNRESOLVED,
    V_LOCAL,   /* a slot in the rule's frame */
    V_INPUT,
    V_DATA,
    V_WILD,    /* `_` before resolution */
};

/* Call targets. */
enum ckind {
    C_NONE,
    C_BUILTIN,
    C_FUNC,    /* user function: a node of the rule tree */
    C_HOST,
};

struct term {
    uint8_t kind;
    uint8_t ground;      /* compiler: no variables inside */
    uint16_t pad;
    uint32_t pos;        /* byte offset in the module source */
    uint32_t n;          /* items */
    union {
        const struct rval *val;   /* T_CONST */
        struct {
            const char *name;
            uint32_t len;
            uint8_t kind;          /* enum vkind */
            uint32_t slot;
        } var;
        struct {
            struct term **items;
            /* T_REF with a V_DATA head: the deepest rule-tree node its
             * constant prefix reaches, and how many path items that is. */
            struct rnode *node;
            uint32_t node_depth;
            /* T_CALL */
            uint8_t ckind;
            uint8_t out;           /* last arg is an output (f(x, y) form) */
            const struct builtin *bi;
            struct rnode *fnode;
            uint32_t host;
        } c;
        struct {
            struct term *key, *val;
            struct body *body;
        } comp;
    } u;
};

enum ekind {
    E_TERM,
    E_UNIFY,      /* a = b */
    E_ASSIGN,     /* a := b */
    E_NOT,        /* not: body holds the negated expression (plus hoisted parts) */
    E_SOME_DECL,  /* some x, y */
    E_SOME_IN,    /* some [k,] v in coll */
    E_EVERY,      /* every [k,] v in coll { body } */
};

struct with {
    struct term *target;   /* input..., data..., or a function ref */
    struct term *value;
    /* compiler */
    uint8_t kind;          /* W_INPUT, W_DATA, W_FUNC */
    const struct rval **path;  /* for input/data: the path after the root */
    uint32_t npath;
    const struct builtin *bi;  /* W_FUNC: the function replaced */
    struct rnode *fnode;
};

enum { W_INPUT = 1, W_DATA, W_FUNC };

struct expr {
    uint8_t kind;
    uint8_t flags;
    uint32_t pos;
    uint32_t start, end;   /* source range of the literal */
    uint32_t idx;          /* position in the source body (query results) */
    struct term *a, *b;    /* E_TERM: a; unify/assign: a, b; some-in/every: a = key, b = value */
    struct term *coll;     /* some-in / every */
    struct body *body;     /* not / every */
    struct term **decl;    /* some x, y */
    uint32_t ndecl;
    struct with *with;
    uint32_t nwith;
    uint32_t value_slot;   /* query: slot that records a term expression's value, or UINT32_MAX */
};

struct body {
    struct expr **ex;
    uint32_t n;
    uint32_t level;        /* scope depth: 0 for a rule body */
};

#define EXF_HOISTED 1      /* expression added by the compiler */

enum rkind {
    R_COMPLETE,   /* p := v, p.q.r := v */
    R_SET,        /* p contains x, v0 p[x] */
    R_OBJ,        /* p[k] := v, p[a].b := v (dynamic head path) */
    R_FUNC,
};

struct module;

struct rule {
    uint8_t kind;
    bool is_default;
    bool assign;              /* := rather than = */
    bool has_body;
    uint32_t pos;
    struct module *mod;
    struct term *head;        /* T_REF (or T_VAR) naming the rule, with its path */
    struct term **args;       /* functions */
    uint32_t nargs;
    struct term *key;         /* R_SET: the element; R_OBJ: unused (path terms are in head) */
    struct term *value;       /* NULL: true */
    struct body *body;        /* never NULL after compile */
    struct rule *els;         /* else chain */
    struct rule *chain_head;  /* for else rules: the rule they belong to */
    /* compiler */
    struct rnode *node;       /* where the rule contributes */
    uint32_t nstatic;         /* head path items that are the node's path */
    uint32_t nslots;
    bool const_value;         /* value is ground: stop at the first solution */
    bool set_leaf;            /* R_OBJ: the leaf is a set (p[a] contains x) */
    uint32_t id;
};

struct import {
    struct term *path;        /* ref: data.x.y / input.x / future.keywords.in / rego.v1 */
    const char *alias;
    uint32_t alias_len;
    uint32_t pos;
};

struct module {
    const char *name;         /* file name for messages */
    const char *src;
    size_t len;
    bool v0;
    struct term *pkg;         /* ref data.a.b */
    const struct rval **pkg_path;
    uint32_t npkg;
    struct import *imports;
    uint32_t nimports;
    struct rule **rules;
    uint32_t nrules;
};

/* Line and column (1-based, columns in bytes) of an offset. */
void vouch_rego_line_col(const char *src, size_t len, uint32_t pos, uint32_t *ret_line,
                         uint32_t *ret_col);

/*
 * Parse a module.  v0 selects the v0 grammar (keywords need
 * future.keywords imports; bodies without `if`).  On failure *ret_pos
 * gets the offset and msg a message (without location).
 */
bool vouch_rego_parse_module(struct rarena *a, const char *name, const char *src, size_t len,
                             bool v0, struct module **ret, uint32_t *ret_pos, char *msg,
                             size_t msgsize);

/* Parse a query (a body: literals separated by ; or newlines). */
bool vouch_rego_parse_query(struct rarena *a, const char *src, size_t len, struct body **ret,
                            uint32_t *ret_pos, char *msg, size_t msgsize);

/* Parse a single term (e.g. a value given in Rego syntax). */
bool vouch_rego_parse_term(struct rarena *a, const char *src, size_t len, struct term **ret,
                           uint32_t *ret_pos, char *msg, size_t msgsize);

#endif
