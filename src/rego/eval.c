/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The evaluator: a tree walker with backtracking in continuation-passing
 * style.  Evaluating an expression calls a continuation once per solution
 * (binding variables on a trail); the continuation evaluates the rest of
 * the body.  When it returns, bindings are undone and the next solution is
 * tried.  A continuation returns CONT to ask for more solutions or STOP
 * when the search that owns it has what it needs (`not`, `every`, a rule
 * with a constant value).  Rules and functions are evaluated to values
 * (all their solutions collected, conflicts checked) and cached per
 * evaluation; comprehensions likewise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "rego/eval.h"

#define CONT 0
#define STOP 1

struct cache_ent {
    uint8_t state;   /* 0 unknown, 1 computing, 2 done */
    const struct rval *v;
};

struct ovr {
    const struct builtin *bi;     /* replaced builtin, or */
    struct rnode *fnode;          /* replaced function */
    const struct term *repl;      /* replacement function (T_CALL marker), or */
    const struct rval *val;       /* replacement value */
};

struct dovr {
    const struct rval *const *path;
    uint32_t n;
    const struct rval *val;
};

struct kont {
    int (*fn)(struct ev *ev, struct kont *self);
};

struct kval {
    int (*fn)(struct ev *ev, struct kval *self, const struct rval *v);
};

_Noreturn void vouch_ev_fail(struct ev *ev, vouch_err code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ev->msg, sizeof(ev->msg), fmt, ap);
    va_end(ap);
    ev->err = code;
    longjmp(ev->jb, 1);
}

int vouch_bi_fail(struct ev *ev, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ev->bimsg, sizeof(ev->bimsg), fmt, ap);
    va_end(ap);
    return code;
}

int vouch_bi_type(struct ev *ev, int n, const char *want, const struct rval *got)
{
    return vouch_bi_fail(ev, BI_ERR_TYPE, "operand %d must be %s but got %s", n, want,
                         vouch_rv_type_name(got));
}

void vouch_ev_check_time(struct ev *ev)
{
    if (ev->timed && ev->clock(ev->clock_ctx) > ev->deadline_ns)
        vouch_ev_fail(ev, VOUCH_E_LIMIT, "eval_limit_error: time limit exceeded (%llu ms)",
                      (unsigned long long)(ev->max_time_ns / 1000000));
}

static _Noreturn void step_limit(struct ev *ev)
{
    ev->steps = ev->max_steps;
    vouch_ev_fail(ev, VOUCH_E_LIMIT, "eval_limit_error: step limit exceeded (%llu)",
                  (unsigned long long)ev->max_steps);
}

void vouch_ev_step(struct ev *ev)
{
    if (++ev->steps > ev->max_steps)
        step_limit(ev);
    if (ev->steps % VOUCH_REGO_CLOCK_EVERY == 0)
        vouch_ev_check_time(ev);
}

void vouch_ev_charge(struct ev *ev, uint64_t n)
{
    uint64_t before = ev->steps;

    if (n > ev->max_steps - ev->steps)
        step_limit(ev);
    ev->steps += n;
    if (ev->steps / VOUCH_REGO_CLOCK_EVERY != before / VOUCH_REGO_CLOCK_EVERY)
        vouch_ev_check_time(ev);
}

void vouch_ev_charge_scan(struct ev *ev, uint64_t bytes)
{
    vouch_ev_charge(ev, bytes / EV_SCAN_BYTES);
}

static void check_stack(struct ev *ev)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    uintptr_t used = here < ev->stack_base ? ev->stack_base - here : here - ev->stack_base;

    if (used > ev->max_stack)
        vouch_ev_fail(ev, VOUCH_E_LIMIT, "eval_limit_error: evaluation too deep (stack limit)");
}

void vouch_ev_init_cache(struct ev *ev)
{
    uint32_t n = ev->pol->nnodes ? ev->pol->nnodes : 1;

    ev->cache = ev_alloc(ev, n * sizeof(*ev->cache));
    memset(ev->cache, 0, n * sizeof(*ev->cache));
}

/* ---- string builder ---- */

void vouch_sb_init(struct sbuf *b, struct ev *ev)
{
    b->ev = ev;
    b->p = NULL;
    b->n = 0;
    b->cap = 0;
}

void vouch_sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;

        while (nc < b->n + n + 1)
            nc *= 2;
        b->p = vouch_ra_xrealloc(b->ev->a, b->p, b->n, nc);
        b->cap = nc;
    }
    xmemcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void vouch_sb_putc(struct sbuf *b, char c)
{
    vouch_sb_put(b, &c, 1);
}

void vouch_sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        vouch_sb_put(b, tmp, (size_t)n);
        return;
    }
    {
        char *big = ev_alloc(b->ev, (size_t)n + 1);

        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        vouch_sb_put(b, big, (size_t)n);
    }
}

const struct rval *vouch_sb_val(struct sbuf *b)
{
    return vouch_rv_str_ref(b->ev->a, b->p ? b->p : "", b->n);
}

void vouch_sb_url_escape(struct sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            vouch_sb_putc(b, (char)c);
        } else if (c == ' ') {
            vouch_sb_putc(b, '+');
        } else {
            vouch_sb_putc(b, '%');
            vouch_sb_putc(b, hex[c >> 4]);
            vouch_sb_putc(b, hex[c & 15]);
        }
    }
}

bool vouch_sb_url_unescape(struct sbuf *b, const char *s, size_t n, size_t *ret_bad)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            vouch_sb_putc(b, ' ');
        } else if (s[i] == '%') {
            int h = i + 2 < n ? vouch_hex_digit((unsigned char)s[i + 1]) : -1;
            int l = i + 2 < n ? vouch_hex_digit((unsigned char)s[i + 2]) : -1;

            if (h < 0 || l < 0) {
                if (ret_bad)
                    *ret_bad = i;
                return false;
            }
            vouch_sb_putc(b, (char)(h << 4 | l));
            i += 2;
        } else {
            vouch_sb_putc(b, s[i]);
        }
    }
    return true;
}

void vouch_sb_value(struct sbuf *b, const struct rval *v, bool json)
{
    struct vouch_buf vb = VOUCH_BUF_INIT(b->ev->a->limit ? b->ev->a->limit : (1u << 30));
    vouch_err e = json ? vouch_rv_write_json(&vb, v) : vouch_rv_write_rego(&vb, v);

    if (e) {
        vouch_buf_free(&vb);
        vouch_ev_fail(b->ev, VOUCH_E_LIMIT, "eval_limit_error: value too large to format");
    }
    /* copy out of the malloc'd buffer before anything can jump */
    {
        size_t n = vb.len;
        char *tmp = vouch_ra_alloc(b->ev->a, n + 1);

        if (!tmp) {
            vouch_buf_free(&vb);
            vouch_ra_fail(b->ev->a);
        }
        xmemcpy(tmp, vouch_buf_str(&vb), n);
        vouch_buf_free(&vb);
        vouch_sb_put(b, tmp, n);
    }
}

/* ---- bindings ---- */

static void bind(struct ev *ev, uint32_t slot, const struct rval *v)
{
    const struct rval **p = &ev->slots[slot];

    if (ev->ntrail == ev->trail_cap) {
        uint32_t nc = ev->trail_cap ? ev->trail_cap * 2 : 256;

        ev->trail = vouch_ra_xrealloc(ev->a, ev->trail, ev->ntrail * sizeof(*ev->trail),
                                      nc * sizeof(*ev->trail));
        ev->trail_cap = nc;
    }
    *p = v;
    ev->trail[ev->ntrail++] = p;
}

static inline uint32_t mark(const struct ev *ev)
{
    return ev->ntrail;
}

static inline void undo(struct ev *ev, uint32_t m)
{
    while (ev->ntrail > m)
        *ev->trail[--ev->ntrail] = NULL;
}

/* ---- forward ---- */

static int eval_body(struct ev *ev, const struct body *b, uint32_t i, struct kont *k);
static int eval_term(struct ev *ev, const struct term *t, struct kval *kv);
static const struct rval *eval_simple(struct ev *ev, const struct term *t);
static int eval_ref(struct ev *ev, const struct term *t, struct kval *kv);
static int eval_call(struct ev *ev, const struct term *t, struct kval *kv);
static const struct rval *node_value(struct ev *ev, struct rnode *n);
static const struct rval *eval_func(struct ev *ev, struct rnode *n, const struct rval *const *args);
static const struct rval *index_val(const struct rval *v, const struct rval *key);

static bool is_ground(struct ev *ev, const struct term *t)
{
    uint32_t i;

    switch (t->kind) {
    case T_VAR:
        return t->u.var.kind != V_LOCAL || ev->slots[t->u.var.slot] != NULL;
    case T_ARR:
    case T_OBJ:
    case T_SET:
        for (i = 0; i < t->n; i++)
            if (!is_ground(ev, t->u.c.items[i]))
                return false;
        return true;
    default:
        return true;
    }
}

static const struct rval *base_root(struct ev *ev)
{
    return ev->data ? ev->data : &vouch_rv_empty_obj_v;
}

/* ---- comprehensions and templates ---- */

struct k_comp {
    struct kont k;
    const struct term *t;
    struct ra_vec items;     /* values, or key/value pairs for objects */
};

static int k_comp_fn(struct ev *ev, struct kont *self)
{
    struct k_comp *c = (struct k_comp *)self;
    const struct rval *v = eval_simple(ev, c->t->u.comp.val), *key = NULL;

    if (c->t->u.comp.key) {
        key = eval_simple(ev, c->t->u.comp.key);
        if (!key)
            return CONT;
    }
    if (!v)
        return CONT;
    vouch_ev_step(ev);
    if (key)
        vouch_ra_vec_push(ev->a, &c->items, (void *)key);
    vouch_ra_vec_push(ev->a, &c->items, (void *)v);
    return CONT;
}

static const struct rval *eval_comp(struct ev *ev, const struct term *t)
{
    struct k_comp c = { { k_comp_fn }, t, { 0 } };

    eval_body(ev, t->u.comp.body, 0, &c.k);
    if (t->kind == T_ACOMP)
        return vouch_rv_arr(ev->a, (const struct rval **)c.items.v, c.items.n);
    if (t->kind == T_SCOMP)
        return vouch_rv_set(ev->a, (const struct rval **)c.items.v, c.items.n);
    {
        uint32_t n = c.items.n / 2, i;
        struct rkv *kv = ev_alloc(ev, (n ? n : 1) * sizeof(*kv));
        const struct rval *o;
        bool conflict;

        for (i = 0; i < n; i++) {
            kv[i].k = c.items.v[2 * i];
            kv[i].v = c.items.v[2 * i + 1];
        }
        o = vouch_rv_obj(ev->a, kv, n, &conflict);
        if (!o)
            vouch_ev_fail(ev, VOUCH_E_INVALID, "eval_conflict_error: object keys must be unique");
        return o;
    }
}

static const struct rval *eval_template(struct ev *ev, const struct term *t)
{
    struct sbuf b;
    uint32_t i;

    vouch_sb_init(&b, ev);
    for (i = 0; i < t->n; i++) {
        const struct term *it = t->u.c.items[i];
        const struct rval *v;

        if (it->kind == T_CONST) {
            vouch_sb_put(&b, it->u.val->u.s, it->u.val->n);
            continue;
        }
        v = eval_simple(ev, it);   /* an array comprehension: its solutions */
        if (!v || rv_len(v) == 0) {
            vouch_sb_put(&b, "<undefined>", 11);
            continue;
        }
        if (rv_len(v) > 1)
            vouch_ev_fail(ev, VOUCH_E_INVALID,
                          "eval_conflict_error: template expression has multiple values");
        v = vouch_rv_arr_at(v, 0);
        if (v->t == RT_STR)
            vouch_sb_put(&b, v->u.s, v->n);
        else
            vouch_sb_value(&b, v, false);
    }
    return vouch_sb_val(&b);
}

/* ---- simple terms ---- */

struct k_first {
    struct kval k;
    const struct rval *v;
};

static int k_first_fn(struct ev *ev, struct kval *self, const struct rval *v)
{
    (void)ev;
    ((struct k_first *)self)->v = v;
    return STOP;
}

/* One value of a term that needs no iteration; NULL when undefined. */
static const struct rval *eval_simple(struct ev *ev, const struct term *t)
{
    const struct rval **items, *v;
    uint32_t i;

    switch (t->kind) {
    case T_CONST:
        return t->u.val;
    case T_VAR:
        switch (t->u.var.kind) {
        case V_LOCAL:
            v = ev->slots[t->u.var.slot];
            if (!v)
                vouch_ev_fail(ev, VOUCH_E_INVALID, "rego_unsafe_var_error: var %.*s is unbound",
                              (int)t->u.var.len, t->u.var.name);
            return v;
        case V_INPUT:
            return ev->input;
        case V_DATA: {
            struct term r = *t;
            struct term *items1[1];

            /* the whole data document */
            items1[0] = (struct term *)t;
            r.kind = T_REF;
            r.n = 1;
            r.u.c.items = items1;
            r.u.c.node = ev->pol->root;
            r.u.c.node_depth = 0;
            return vouch_ev_eval_ref(ev, &r);
        }
        }
        return NULL;
    case T_ARR:
    case T_SET:
        items = ev_alloc(ev, (t->n ? t->n : 1) * sizeof(*items));
        for (i = 0; i < t->n; i++) {
            items[i] = eval_simple(ev, t->u.c.items[i]);
            if (!items[i])
                return NULL;
        }
        return t->kind == T_ARR ? vouch_rv_arr(ev->a, items, t->n)
                                : vouch_rv_set(ev->a, items, t->n);
    case T_OBJ: {
        struct rkv *kv = ev_alloc(ev, (t->n / 2 + 1) * sizeof(*kv));
        bool conflict;
        const struct rval *o;

        for (i = 0; i < t->n; i += 2) {
            kv[i / 2].k = eval_simple(ev, t->u.c.items[i]);
            kv[i / 2].v = eval_simple(ev, t->u.c.items[i + 1]);
            if (!kv[i / 2].k || !kv[i / 2].v)
                return NULL;
        }
        if (t->pad == 2)
            return vouch_rv_obj_sorted(ev->a, kv, t->n / 2);
        o = vouch_rv_obj(ev->a, kv, t->n / 2, &conflict);
        if (!o)
            vouch_ev_fail(ev, VOUCH_E_INVALID, "eval_conflict_error: object keys must be unique");
        return o;
    }
    case T_ACOMP:
    case T_SCOMP:
    case T_OCOMP:
        return eval_comp(ev, t);
    case T_TEMPLATE:
        return eval_template(ev, t);
    case T_REF:
    case T_CALL: {
        struct k_first f = { { k_first_fn }, NULL };

        eval_term(ev, t, &f.k);
        return f.v;
    }
    }
    return NULL;
}

/* ---- matching ---- */

/* Unify a pattern term with a value, binding variables.  On false the
 * caller undoes the bindings. */
static bool match(struct ev *ev, const struct term *t, const struct rval *v)
{
    uint32_t i;

    switch (t->kind) {
    case T_CONST:
        return rv_eq(t->u.val, v);
    case T_VAR:
        if (t->u.var.kind == V_LOCAL) {
            const struct rval *b = ev->slots[t->u.var.slot];

            if (!b) {
                bind(ev, t->u.var.slot, v);
                return true;
            }
            return rv_eq(b, v);
        }
        {
            const struct rval *w = eval_simple(ev, t);

            return w && rv_eq(w, v);
        }
    case T_ARR:
        if (v->t != RT_ARR || rv_len(v) != t->n)
            return false;
        for (i = 0; i < t->n; i++)
            if (!match(ev, t->u.c.items[i], v->u.a[i]))
                return false;
        return true;
    case T_OBJ:
        if (v->t != RT_OBJ || rv_len(v) != t->n / 2)
            return false;
        for (i = 0; i < t->n; i += 2) {
            const struct rval *k = eval_simple(ev, t->u.c.items[i]), *c;

            if (!k)
                return false;
            c = vouch_rv_obj_get(v, k);
            if (!c || !match(ev, t->u.c.items[i + 1], c))
                return false;
        }
        return true;
    default: {
        const struct rval *w = eval_simple(ev, t);

        return w && rv_eq(w, v);
    }
    }
}

/* Unify two simple terms without iteration (one side may have unbound
 * variables, or both when they are arrays/objects of the same shape). */
static bool match_terms(struct ev *ev, const struct term *a, const struct term *b)
{
    uint32_t i;

    if (is_ground(ev, a)) {
        const struct rval *v = eval_simple(ev, a);

        return v && match(ev, b, v);
    }
    if (is_ground(ev, b)) {
        const struct rval *v = eval_simple(ev, b);

        return v && match(ev, a, v);
    }
    if (a->kind == T_VAR && a->u.var.kind == V_LOCAL && b->kind == T_VAR)
        vouch_ev_fail(ev, VOUCH_E_INVALID, "rego_unsafe_var_error: var %.*s is unbound",
                      (int)a->u.var.len, a->u.var.name);
    if (a->kind == T_ARR && b->kind == T_ARR) {
        bool progress = true;
        uint8_t *done;
        uint32_t left = a->n;

        if (a->n != b->n)
            return false;
        done = ev_alloc(ev, a->n ? a->n : 1);
        memset(done, 0, a->n ? a->n : 1);
        while (left && progress) {
            progress = false;
            for (i = 0; i < a->n; i++) {
                const struct term *x = a->u.c.items[i], *y = b->u.c.items[i];

                if (done[i])
                    continue;
                if (is_ground(ev, x) || is_ground(ev, y) || (x->kind == y->kind &&
                                                             (x->kind == T_ARR || x->kind == T_OBJ))) {
                    if (!match_terms(ev, x, y))
                        return false;
                    done[i] = 1;
                    left--;
                    progress = true;
                }
            }
        }
        return left == 0;
    }
    if (a->kind == T_OBJ && b->kind == T_OBJ) {
        uint32_t j;

        if (a->n != b->n)
            return false;
        for (i = 0; i < a->n; i += 2) {
            const struct rval *ka = eval_simple(ev, a->u.c.items[i]);
            bool found = false;

            if (!ka)
                return false;
            for (j = 0; j < b->n; j += 2) {
                const struct rval *kb = eval_simple(ev, b->u.c.items[j]);

                if (kb && rv_eq(ka, kb)) {
                    if (!match_terms(ev, a->u.c.items[i + 1], b->u.c.items[j + 1]))
                        return false;
                    found = true;
                    break;
                }
            }
            if (!found)
                return false;
        }
        return true;
    }
    return false;
}

static bool is_gen(const struct term *t)
{
    return t->kind == T_REF || t->kind == T_CALL;
}

/* ---- unification ---- */

struct k_unify_val {
    struct kval k;
    const struct term *other;
    const struct rval *want;   /* compare against a fixed value instead */
    struct kont *next;
};

static int unify_val(struct ev *ev, const struct term *t, const struct rval *v, struct kont *k);

static int k_unify_val_fn(struct ev *ev, struct kval *self, const struct rval *v)
{
    struct k_unify_val *u = (struct k_unify_val *)self;

    if (u->want)
        return rv_eq(u->want, v) ? u->next->fn(ev, u->next) : CONT;
    return unify_val(ev, u->other, v, u->next);
}

static int unify_val(struct ev *ev, const struct term *t, const struct rval *v, struct kont *k)
{
    uint32_t m;
    int r = CONT;

    if (is_gen(t)) {
        struct k_unify_val u = { { k_unify_val_fn }, NULL, v, k };

        return eval_term(ev, t, &u.k);
    }
    m = mark(ev);
    if (match(ev, t, v))
        r = k->fn(ev, k);
    undo(ev, m);
    return r;
}

static int unify(struct ev *ev, const struct term *a, const struct term *b, struct kont *k)
{
    uint32_t m;
    int r = CONT;

    if (is_gen(a)) {
        struct k_unify_val u = { { k_unify_val_fn }, b, NULL, k };

        return eval_term(ev, a, &u.k);
    }
    if (is_gen(b)) {
        struct k_unify_val u = { { k_unify_val_fn }, a, NULL, k };

        return eval_term(ev, b, &u.k);
    }
    m = mark(ev);
    if (match_terms(ev, a, b))
        r = k->fn(ev, k);
    undo(ev, m);
    return r;
}

/* ---- references ---- */

/* v[key]: object member, array element, set member. */
static const struct rval *index_val(const struct rval *v, const struct rval *key)
{
    uint32_t i;

    switch (v->t) {
    case RT_OBJ:
        return vouch_rv_obj_get(v, key);
    case RT_ARR:
        return vouch_rv_index(v, key, &i) ? vouch_rv_arr_at(v, i) : NULL;
    case RT_SET:
        return vouch_rv_set_has(v, key) ? key : NULL;
    default:
        return NULL;
    }
}

static int walk_ex(struct ev *ev, const struct rval *v, const struct term *t, uint32_t i,
                   struct kval *kv, bool dkeys);

static int iterate(struct ev *ev, const struct rval *v, const struct term *t, uint32_t i,
                   struct kval *kv, bool dkeys)
{
    const struct term *p = t->u.c.items[i];
    uint32_t j, m = mark(ev);
    int r;

    rv_force(v);
    switch (v->t) {
    case RT_ARR:
        for (j = 0; j < v->n; j++) {
            vouch_ev_step(ev);
            if (match(ev, p, vouch_rv_int(ev->a, j))) {
                r = walk_ex(ev, v->u.a[j], t, i + 1, kv, dkeys);
                if (r) {
                    undo(ev, m);
                    return r;
                }
            }
            undo(ev, m);
        }
        return CONT;
    case RT_OBJ:
        for (j = 0; j < v->n; j++) {
            vouch_ev_step(ev);
            if (match(ev, p, v->u.o[j].k)) {
                r = walk_ex(ev, v->u.o[j].v, t, i + 1, kv, dkeys);
                if (r) {
                    undo(ev, m);
                    return r;
                }
            }
            undo(ev, m);
        }
        return CONT;
    case RT_SET:
        for (j = 0; j < v->n; j++) {
            vouch_ev_step(ev);
            if (match(ev, p, v->u.a[j])) {
                r = walk_ex(ev, v->u.a[j], t, i + 1, kv, dkeys);
                if (r) {
                    undo(ev, m);
                    return r;
                }
            }
            undo(ev, m);
        }
        return CONT;
    default:
        return CONT;
    }
}

/* A key of a data ref: integers name object members by their decimal
 * text, as OPA's storage paths do. */
static const struct rval *data_key(struct ev *ev, const struct rval *v, const struct rval *key)
{
    char num[32];
    int n;

    if (v->t != RT_OBJ || key->t != RT_NUM || (key->flags & RVF_BIG))
        return key;
    n = snprintf(num, sizeof(num), "%lld", (long long)key->u.i);
    return vouch_rv_str(ev->a, num, (size_t)n);
}

static int walk_ex(struct ev *ev, const struct rval *v, const struct term *t, uint32_t i,
                   struct kval *kv, bool dkeys)
{
    for (; i < t->n; i++) {
        const struct term *p = t->u.c.items[i];
        const struct rval *key;

        if (p->kind == T_CONST) {
            key = p->u.val;
        } else if (p->kind == T_VAR && p->u.var.kind == V_LOCAL) {
            key = ev->slots[p->u.var.slot];
            if (!key)
                return iterate(ev, v, t, i, kv, dkeys);
        } else if (is_ground(ev, p)) {
            key = eval_simple(ev, p);
            if (!key)
                return CONT;
        } else {
            return iterate(ev, v, t, i, kv, dkeys);
        }
        v = index_val(v, dkeys ? data_key(ev, v, key) : key);
        if (!v)
            return CONT;
    }
    return kv->fn(ev, kv, v);
}

static int walk(struct ev *ev, const struct rval *v, const struct term *t, uint32_t i,
                struct kval *kv)
{
    return walk_ex(ev, v, t, i, kv, false);
}

/* Base data at a node's path. */
static const struct rval *base_at(struct ev *ev, const struct rval *const *path, uint32_t n)
{
    const struct rval *v = base_root(ev);
    uint32_t i;

    for (i = 0; i < n && v; i++)
        v = v->t == RT_OBJ ? vouch_rv_obj_get(v, path[i]) : NULL;
    return v;
}

static const struct rval *patch(struct ev *ev, const struct rval *v, const struct rval *const *path,
                                uint32_t n, const struct rval *val)
{
    struct rkv *kv;
    const struct rval *child;
    uint32_t i, m = 0, cnt;
    bool conflict;

    if (n == 0)
        return val;
    if (!v || v->t != RT_OBJ)
        v = &vouch_rv_empty_obj_v;
    cnt = rv_len(v);
    kv = ev_alloc(ev, (cnt + 1) * sizeof(*kv));
    child = vouch_rv_obj_get(v, path[0]);
    for (i = 0; i < cnt; i++)
        if (!rv_eq(v->u.o[i].k, path[0]))
            kv[m++] = v->u.o[i];
    kv[m].k = path[0];
    kv[m].v = patch(ev, child, path + 1, n - 1, val);
    m++;
    return vouch_rv_obj(ev->a, kv, m, &conflict);
}

/* The document at a static data path, honouring `with data...`. */
static const struct rval *data_at(struct ev *ev, const struct rval *const *path, uint32_t n);

static int eval_data(struct ev *ev, const struct term *t, struct kval *kv)
{
    struct rnode *n = t->u.c.node ? t->u.c.node : ev->pol->root;
    uint32_t i = 1 + t->u.c.node_depth;
    const struct rval *v;

    if (ev->ndovr) {
        /* the longest constant prefix, then the rest as a value walk */
        uint32_t k = 1;
        const struct rval **path = ev_alloc(ev, t->n * sizeof(*path));

        while (k < t->n && t->u.c.items[k]->kind == T_CONST) {
            path[k - 1] = t->u.c.items[k]->u.val;
            k++;
        }
        v = data_at(ev, path, k - 1);
        if (!v)
            return CONT;
        return walk_ex(ev, v, t, k, kv, true);
    }
    for (;;) {
        const struct term *p;
        const struct rval *key;

        /* rules with dynamic heads under n make its value one object */
        if (rnode_has_value(n) || rnode_is_func(n) || n->objs.n) {
            v = node_value(ev, n);
            if (!v)
                return CONT;
            return walk_ex(ev, v, t, i, kv, false);
        }
        if (i == t->n) {
            v = node_value(ev, n);
            if (!v)
                return CONT;
            return kv->fn(ev, kv, v);
        }
        p = t->u.c.items[i];
        key = NULL;
        if (p->kind == T_CONST)
            key = p->u.val;
        else if (p->kind == T_VAR && p->u.var.kind == V_LOCAL)
            key = ev->slots[p->u.var.slot];
        if (key && key->t == RT_NUM)
            key = data_key(ev, &vouch_rv_empty_obj_v, key);
        if (key && key->t == RT_STR) {
            struct rnode *c = vouch_rnode_child(n, key->u.s, key->n);

            if (c) {
                n = c;
                i++;
                continue;
            }
            v = base_at(ev, n->path, n->depth);
            if (!v)
                return CONT;
            v = index_val(v, key);
            if (!v)
                return CONT;
            return walk_ex(ev, v, t, i + 1, kv, true);
        }
        v = node_value(ev, n);
        if (!v)
            return CONT;
        return walk_ex(ev, v, t, i, kv, false);
    }
}

struct k_capture {
    struct kval k;
    const struct rval *v;
};

static int k_capture_fn(struct ev *ev, struct kval *self, const struct rval *v)
{
    (void)ev;
    ((struct k_capture *)self)->v = v;
    return STOP;
}

/* Document at a static path ignoring overrides (the rule tree + base). */
static const struct rval *plain_data_at(struct ev *ev, const struct rval *const *path, uint32_t n)
{
    struct rnode *node = ev->pol->root;
    uint32_t i = 0;
    const struct rval *v;

    while (i < n && !rnode_has_value(node) && !rnode_is_func(node) && !node->objs.n) {
        const struct rval *k = data_key(ev, &vouch_rv_empty_obj_v, path[i]);
        struct rnode *c = k->t == RT_STR ? vouch_rnode_child(node, k->u.s, k->n) : NULL;

        if (!c) {
            v = base_at(ev, node->path, node->depth);
            for (; i < n && v; i++)
                v = index_val(v, data_key(ev, v, path[i]));
            return v;
        }
        node = c;
        i++;
    }
    v = node_value(ev, node);
    for (; i < n && v; i++)
        v = index_val(v, data_key(ev, v, path[i]));
    return v;
}

static const struct rval *data_at(struct ev *ev, const struct rval *const *path, uint32_t n)
{
    const struct rval *v = NULL;
    uint32_t o, best = 0, i;
    bool have = false;

    /* An override at or above the path replaces it; the deepest wins. */
    for (o = 0; o < ev->ndovr; o++) {
        const struct dovr *d = &ev->dovr[o];

        if (d->n > n)
            continue;
        for (i = 0; i < d->n; i++)
            if (!rv_eq(d->path[i], path[i]))
                break;
        if (i < d->n)
            continue;
        if (!have || d->n >= best) {
            best = d->n;
            v = d->val;
            have = true;
        }
    }
    if (have) {
        for (i = best; i < n && v; i++)
            v = index_val(v, path[i]);
    } else {
        v = plain_data_at(ev, path, n);
    }
    /* Overrides below the path patch it. */
    for (o = 0; o < ev->ndovr; o++) {
        const struct dovr *d = &ev->dovr[o];

        if (d->n <= n)
            continue;
        for (i = 0; i < n; i++)
            if (!rv_eq(d->path[i], path[i]))
                break;
        if (i < n)
            continue;
        if (have && best > n)
            continue;
        v = patch(ev, v, d->path + n, d->n - n, d->val);
    }
    return v;
}

static int eval_ref(struct ev *ev, const struct term *t, struct kval *kv)
{
    const struct term *h = t->u.c.items[0];
    const struct rval *v;

    if (h->kind == T_VAR) {
        switch (h->u.var.kind) {
        case V_INPUT:
            if (!ev->input)
                return CONT;
            return walk(ev, ev->input, t, 1, kv);
        case V_DATA:
            return eval_data(ev, t, kv);
        default:
            break;
        }
    }
    v = eval_simple(ev, h);
    if (!v)
        return CONT;
    return walk(ev, v, t, 1, kv);
}

const struct rval *vouch_ev_eval_ref(struct ev *ev, const struct term *ref)
{
    struct k_capture c = { { k_capture_fn }, NULL };

    eval_ref(ev, ref, &c.k);
    return c.v;
}

/* ---- rules ---- */

struct frame_save {
    const struct rval **slots;
};

static void enter_frame(struct ev *ev, uint32_t nslots, struct frame_save *fs)
{
    fs->slots = ev->slots;
    ev->slots = ev_alloc(ev, (nslots ? nslots : 1) * sizeof(*ev->slots));
    memset(ev->slots, 0, (nslots ? nslots : 1) * sizeof(*ev->slots));
    if (++ev->depth > ev->max_depth)
        vouch_ev_fail(ev, VOUCH_E_LIMIT, "eval_limit_error: rules nested too deeply (%u)",
                      ev->max_depth);
    check_stack(ev);
}

static void leave_frame(struct ev *ev, struct frame_save *fs)
{
    ev->slots = fs->slots;
    ev->depth--;
}

struct k_rule {
    struct kont k;
    const struct rule *r;
    const struct rval *v;
    const char *conflict;
};

static int k_rule_fn(struct ev *ev, struct kont *self)
{
    struct k_rule *kr = (struct k_rule *)self;
    const struct rval *v = kr->r->value ? eval_simple(ev, kr->r->value) : RV_TRUE;

    if (!v)
        return CONT;
    if (kr->v && !rv_eq(kr->v, v))
        vouch_ev_fail(ev, VOUCH_E_INVALID, "eval_conflict_error: %s", kr->conflict);
    kr->v = v;
    return kr->r->const_value ? STOP : CONT;
}

/* The value one rule (not its else chain) gives, or NULL. */
static const struct rval *eval_rule_value(struct ev *ev, const struct rule *r,
                                          const struct rval *const *args, const char *conflict)
{
    struct frame_save fs;
    struct k_rule kr = { { k_rule_fn }, r, NULL, conflict };
    uint32_t m = mark(ev), i;

    enter_frame(ev, r->nslots, &fs);
    for (i = 0; args && i < r->nargs; i++)
        if (!match(ev, r->args[i], args[i]))
            goto out;
    eval_body(ev, r->body, 0, &kr.k);
out:
    undo(ev, m);
    leave_frame(ev, &fs);
    return kr.v;
}

static const struct rval *eval_chain(struct ev *ev, const struct rule *r,
                                     const struct rval *const *args, const char *conflict)
{
    for (; r; r = r->els) {
        const struct rval *v = eval_rule_value(ev, r, args, conflict);

        if (v)
            return v;
    }
    return NULL;
}

static const char conflict_complete[] = "complete rules must not produce multiple outputs";
static const char conflict_func[] = "functions must not produce multiple outputs for same inputs";
static const char conflict_obj[] = "object keys must be unique";

static const struct rval *eval_complete(struct ev *ev, struct rnode *n)
{
    const struct rval *res = NULL;
    uint32_t i;

    for (i = 0; i < n->complete.n; i++) {
        const struct rval *v = eval_chain(ev, n->complete.v[i], NULL, conflict_complete);

        if (!v)
            continue;
        if (res && !rv_eq(res, v))
            vouch_ev_fail(ev, VOUCH_E_INVALID, "eval_conflict_error: %s", conflict_complete);
        res = v;
    }
    if (!res && n->dflt)
        res = eval_rule_value(ev, n->dflt, NULL, conflict_complete);
    return res;
}

struct k_set {
    struct kont k;
    const struct rule *r;
    struct ra_vec *out;
};

static int k_set_fn(struct ev *ev, struct kont *self)
{
    struct k_set *ks = (struct k_set *)self;
    const struct rval *v = eval_simple(ev, ks->r->key);

    if (v) {
        vouch_ev_step(ev);
        vouch_ra_vec_push(ev->a, ks->out, (void *)v);
    }
    return ks->r->const_value ? STOP : CONT;
}

static void eval_set_rule(struct ev *ev, const struct rule *r, struct ra_vec *out)
{
    struct frame_save fs;
    struct k_set ks = { { k_set_fn }, r, out };
    uint32_t m = mark(ev);

    enter_frame(ev, r->nslots, &fs);
    eval_body(ev, r->body, 0, &ks.k);
    undo(ev, m);
    leave_frame(ev, &fs);
}

static const struct rval *eval_sets(struct ev *ev, struct rnode *n)
{
    struct ra_vec out = { 0 };
    uint32_t i;

    for (i = 0; i < n->sets.n; i++)
        eval_set_rule(ev, n->sets.v[i], &out);
    return vouch_rv_set(ev->a, (const struct rval **)out.v, out.n);
}

/*
 * Objects built from several sources: base data, child nodes, rules with
 * dynamic heads.  Each source adds inserts (a path and a leaf); the object
 * is built by grouping inserts by key, level by level.
 */
enum { INS_LEAF, INS_BASE, INS_SETELEM, INS_SET, INS_OBJ };

struct ins {
    const struct rval **path;
    uint32_t n;
    uint8_t kind;
    const struct rval *v;
    uint32_t seq;
};

struct ins_vec {
    struct ins *v;
    uint32_t n, cap;
};

static void ins_add(struct ev *ev, struct ins_vec *iv, const struct rval **path, uint32_t n,
                    uint8_t kind, const struct rval *v)
{
    if (iv->n == iv->cap) {
        uint32_t nc = iv->cap ? iv->cap * 2 : 16;

        iv->v = vouch_ra_xrealloc(ev->a, iv->v, iv->n * sizeof(*iv->v), nc * sizeof(*iv->v));
        iv->cap = nc;
    }
    vouch_ev_step(ev);
    iv->v[iv->n].path = path;
    iv->v[iv->n].n = n;
    iv->v[iv->n].kind = kind;
    iv->v[iv->n].v = v;
    iv->v[iv->n].seq = iv->n;
    iv->n++;
}

static const struct rval **path_cat(struct ev *ev, const struct rval *const *pre, uint32_t np,
                                    const struct rval *key)
{
    const struct rval **p = ev_alloc(ev, (np + 1) * sizeof(*p));

    if (np)
        xmemcpy(p, pre, np * sizeof(*p));
    p[np] = key;
    return p;
}

struct k_obj {
    struct kont k;
    const struct rule *r;
    struct ins_vec *iv;
    const struct rval *const *pre;
    uint32_t npre;
};

static int k_obj_fn(struct ev *ev, struct kont *self)
{
    struct k_obj *ko = (struct k_obj *)self;
    const struct rule *r = ko->r;
    uint32_t nh = r->head->n, i, nd = nh - r->nstatic;
    const struct rval **path = ev_alloc(ev, (ko->npre + nd) * sizeof(*path)), *v;

    if (ko->npre)
        xmemcpy(path, ko->pre, ko->npre * sizeof(*path));
    for (i = 0; i < nd; i++) {
        path[ko->npre + i] = eval_simple(ev, r->head->u.c.items[r->nstatic + i]);
        if (!path[ko->npre + i])
            return CONT;
    }
    if (r->set_leaf) {
        v = eval_simple(ev, r->key);
        if (v)
            ins_add(ev, ko->iv, path, ko->npre + nd, INS_SETELEM, v);
    } else {
        v = r->value ? eval_simple(ev, r->value) : RV_TRUE;
        if (v)
            ins_add(ev, ko->iv, path, ko->npre + nd, INS_LEAF, v);
    }
    return CONT;
}

static void collect_node(struct ev *ev, struct rnode *n, const struct rval *const *pre,
                         uint32_t npre, struct ins_vec *iv)
{
    const struct rval *base = base_at(ev, n->path, n->depth);
    uint32_t i;

    if (base && base->t == RT_OBJ) {
        rv_force(base);
        for (i = 0; i < base->n; i++)
            ins_add(ev, iv, path_cat(ev, pre, npre, base->u.o[i].k), 1 + npre, INS_BASE,
                    base->u.o[i].v);
    }
    for (i = 0; i < n->nkids; i++) {
        struct rnode *c = n->kids[i];
        const struct rval **p = path_cat(ev, pre, npre, c->key), *v;

        if (rnode_is_func(c)) {
            continue;
        } else if (c->complete.n || (c->dflt && c->dflt->kind != R_FUNC)) {
            v = node_value(ev, c);
            if (v)
                ins_add(ev, iv, p, npre + 1, INS_LEAF, v);
        } else if (c->sets.n) {
            uint32_t j;

            v = node_value(ev, c);
            ins_add(ev, iv, p, npre + 1, INS_SET, NULL);
            for (j = 0; v && j < v->n; j++)
                ins_add(ev, iv, p, npre + 1, INS_SETELEM, v->u.a[j]);
        } else {
            ins_add(ev, iv, p, npre + 1, INS_OBJ, NULL);
            collect_node(ev, c, p, npre + 1, iv);
        }
    }
    for (i = 0; i < n->objs.n; i++) {
        const struct rule *r = n->objs.v[i];
        struct frame_save fs;
        struct k_obj ko = { { k_obj_fn }, r, iv, pre, npre };
        uint32_t m = mark(ev);

        enter_frame(ev, r->nslots, &fs);
        eval_body(ev, r->body, 0, &ko.k);
        undo(ev, m);
        leave_frame(ev, &fs);
    }
}

/* Sort inserts by their key at one level, keeping insertion order. */
struct ins_key {
    const struct rval *k;
    uint32_t idx;
};

static int ins_key_cmp(const void *x, const void *y)
{
    const struct ins_key *a = x, *b = y;
    int c = vouch_rv_cmp(a->k, b->k);

    if (c)
        return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static const struct rval *build_obj(struct ev *ev, struct ins *in, uint32_t n, uint32_t depth)
{
    struct ins_key *keys = ev_alloc(ev, (n ? n : 1) * sizeof(*keys));
    struct ins *sorted = ev_alloc(ev, (n ? n : 1) * sizeof(*sorted));
    struct rkv *kv = ev_alloc(ev, (n ? n : 1) * sizeof(*kv));
    uint32_t i, j, nkv = 0;
    bool conflict;

    for (i = 0; i < n; i++) {
        keys[i].k = in[i].path[depth];
        keys[i].idx = i;
    }
    qsort(keys, n, sizeof(*keys), ins_key_cmp);
    for (i = 0; i < n; i++)
        sorted[i] = in[keys[i].idx];
    for (i = 0; i < n; i = j) {
        const struct rval *key = sorted[i].path[depth], *leaf = NULL, *base = NULL;
        struct ra_vec set = { 0 };
        bool is_set = false, deeper = false, is_obj = false;
        uint32_t k, ndeep = 0;
        struct ins *deep;

        for (j = i; j < n && rv_eq(sorted[j].path[depth], key); j++)
            ;
        for (k = i; k < j; k++) {
            struct ins *x = &sorted[k];

            if (x->n > depth + 1) {
                deeper = true;
                ndeep++;
                continue;
            }
            switch (x->kind) {
            case INS_LEAF:
                if (leaf && !rv_eq(leaf, x->v))
                    vouch_ev_fail(ev, VOUCH_E_INVALID, "eval_conflict_error: %s", conflict_obj);
                leaf = x->v;
                break;
            case INS_BASE:
                base = x->v;
                break;
            case INS_SET:
                is_set = true;
                break;
            case INS_SETELEM:
                is_set = true;
                vouch_ra_vec_push(ev->a, &set, (void *)x->v);
                break;
            case INS_OBJ:
                is_obj = true;
                break;
            }
        }
        if (base && (leaf || is_set || deeper || is_obj)) {
            /* base data merges with an object built here; otherwise it wins */
            if (base->t == RT_OBJ && (deeper || is_obj) && !leaf && !is_set) {
                rv_force(base);
                deep = ev_alloc(ev, (ndeep + base->n + 1) * sizeof(*deep));
                ndeep = 0;
                for (k = i; k < j; k++)
                    if (sorted[k].n > depth + 1)
                        deep[ndeep++] = sorted[k];
                for (k = 0; k < base->n; k++) {
                    deep[ndeep].path = path_cat(ev, sorted[i].path, depth + 1, base->u.o[k].k);
                    deep[ndeep].n = depth + 2;
                    deep[ndeep].kind = INS_BASE;
                    deep[ndeep].v = base->u.o[k].v;
                    deep[ndeep].seq = ndeep;
                    ndeep++;
                }
                kv[nkv].k = key;
                kv[nkv].v = build_obj(ev, deep, ndeep, depth + 1);
                nkv++;
                continue;
            }
            kv[nkv].k = key;
            kv[nkv].v = base;
            nkv++;
            continue;
        }
        if ((leaf && (is_set || deeper)) || (is_set && deeper))
            vouch_ev_fail(ev, VOUCH_E_INVALID, "eval_conflict_error: %s", conflict_obj);
        kv[nkv].k = key;
        if (leaf) {
            kv[nkv].v = leaf;
        } else if (base) {
            kv[nkv].v = base;
        } else if (is_set) {
            kv[nkv].v = vouch_rv_set(ev->a, (const struct rval **)set.v, set.n);
        } else {
            deep = ev_alloc(ev, (ndeep ? ndeep : 1) * sizeof(*deep));
            ndeep = 0;
            for (k = i; k < j; k++)
                if (sorted[k].n > depth + 1)
                    deep[ndeep++] = sorted[k];
            kv[nkv].v = build_obj(ev, deep, ndeep, depth + 1);
        }
        nkv++;
    }
    return vouch_rv_obj(ev->a, kv, nkv, &conflict);
}

static const struct rval *eval_objnode(struct ev *ev, struct rnode *n)
{
    struct ins_vec iv = { 0 };

    collect_node(ev, n, NULL, 0, &iv);
    return build_obj(ev, iv.v, iv.n, 0);
}

static const struct rval *node_value(struct ev *ev, struct rnode *n)
{
    struct cache_ent *c = &ev->cache[n->id];
    const struct rval *v;

    if (c->state == 2)
        return c->v;
    if (c->state == 1)
        vouch_ev_fail(ev, VOUCH_E_INVALID, "rego_recursion_error: rule depends on itself");
    c->state = 1;
    if (rnode_is_func(n))
        v = NULL;
    else if (n->complete.n || n->dflt)
        v = eval_complete(ev, n);   /* a function default made it a function above */
    else if (n->sets.n)
        v = eval_sets(ev, n);
    else
        v = eval_objnode(ev, n);
    /* the cache may have been replaced by `with` meanwhile: re-fetch */
    c = &ev->cache[n->id];
    c->state = 2;
    c->v = v;
    return v;
}

/* ---- functions ---- */

static const struct rval *eval_func(struct ev *ev, struct rnode *n, const struct rval *const *args)
{
    const struct rval *res = NULL;
    uint32_t i;

    for (i = 0; i < n->funcs.n; i++) {
        const struct rval *v = eval_chain(ev, n->funcs.v[i], args, conflict_func);

        if (!v)
            continue;
        if (res && !rv_eq(res, v))
            vouch_ev_fail(ev, VOUCH_E_INVALID, "eval_conflict_error: %s", conflict_func);
        res = v;
    }
    if (!res && n->dflt)
        res = eval_rule_value(ev, n->dflt, NULL, conflict_func);
    return res;
}

static const struct ovr *find_ovr(struct ev *ev, const struct builtin *bi, const struct rnode *fn)
{
    uint32_t i = ev->novr;

    while (i > 0) {
        const struct ovr *o = &ev->ovr[--i];

        if ((bi && o->bi == bi) || (fn && o->fnode == fn))
            return o;
    }
    return NULL;
}

static const struct rval *call_builtin(struct ev *ev, const struct builtin *bi,
                                       const struct rval *const *args)
{
    const struct rval *res = NULL;
    size_t given = ev->a->given;
    int rc;

    ev->bimsg[0] = '\0';
    rc = bi->fn(ev, args, &res);
    /* what the builtin built: elements, digits, bytes */
    vouch_ev_charge(ev, (ev->a->given - given) / VOUCH_REGO_BYTES_PER_STEP);
    if (rc == BI_OK)
        return res;
    if (rc == BI_UNDEF)
        return NULL;
    if (ev->strict)
        vouch_ev_fail(ev, VOUCH_E_INVALID, "%s: %s: %s",
                      rc == BI_ERR_TYPE ? "eval_type_error" : "eval_builtin_error", bi->name,
                      ev->bimsg);
    return NULL;
}

static const struct rval *call_target(struct ev *ev, uint8_t ckind, const struct builtin *bi,
                                      struct rnode *fn, uint32_t host,
                                      const struct rval *const *args, uint32_t nargs, bool *ret_rel)
{
    const struct ovr *o;

    *ret_rel = false;
    if (ev->novr && (o = find_ovr(ev, ckind == C_BUILTIN ? bi : NULL,
                                  ckind == C_FUNC ? fn : NULL)) != NULL) {
        struct ovr *saved = ev->ovr;
        uint32_t nsaved = ev->novr;
        const struct rval *res;

        if (o->val)
            return o->val;
        /* inside a replacement every function is the original one */
        ev->ovr = NULL;
        ev->novr = 0;
        if (o->repl->u.c.ckind == C_BUILTIN) {
            *ret_rel = o->repl->u.c.bi->flags & BI_REL;
            res = call_builtin(ev, o->repl->u.c.bi, args);
        } else {
            res = eval_func(ev, o->repl->u.c.fnode, args);
        }
        ev->ovr = saved;
        ev->novr = nsaved;
        return res;
    }
    switch (ckind) {
    case C_BUILTIN:
        *ret_rel = bi->flags & BI_REL;
        return call_builtin(ev, bi, args);
    case C_FUNC:
        return eval_func(ev, fn, args);
    case C_HOST:
        return vouch_ev_call_host(ev, host, args, nargs);
    }
    return NULL;
}

static int eval_call(struct ev *ev, const struct term *t, struct kval *kv)
{
    uint32_t nargs = t->n - 1 - t->u.c.out, i;
    const struct rval *args[16], **ap = args, *res;
    bool rel;

    if (nargs > 16)
        ap = ev_alloc(ev, nargs * sizeof(*ap));
    for (i = 0; i < nargs; i++) {
        ap[i] = eval_simple(ev, t->u.c.items[1 + i]);
        if (!ap[i])
            return CONT;
    }
    vouch_ev_step(ev);
    res = call_target(ev, t->u.c.ckind, t->u.c.bi, t->u.c.fnode, t->u.c.host, ap, nargs, &rel);
    if (!res)
        return CONT;
    if (rel) {
        uint32_t j;

        for (j = 0; j < rv_len(res); j++) {
            int r = kv->fn(ev, kv, res->u.a[j]);

            if (r)
                return r;
        }
        return CONT;
    }
    return kv->fn(ev, kv, res);
}

static int eval_term(struct ev *ev, const struct term *t, struct kval *kv)
{
    const struct rval *v;

    switch (t->kind) {
    case T_REF:
        return eval_ref(ev, t, kv);
    case T_CALL:
        return eval_call(ev, t, kv);
    default:
        v = eval_simple(ev, t);
        if (!v)
            return CONT;
        return kv->fn(ev, kv, v);
    }
}

/* ---- expressions ---- */

struct k_truthy {
    struct kval k;
    const struct expr *e;
    struct kont *next;
};

static int k_truthy_fn(struct ev *ev, struct kval *self, const struct rval *v)
{
    struct k_truthy *kt = (struct k_truthy *)self;
    uint32_t m;
    int r;

    if (v->t == RT_BOOL && !v->u.i)
        return CONT;
    if (kt->e->value_slot == UINT32_MAX)
        return kt->next->fn(ev, kt->next);
    m = mark(ev);
    bind(ev, kt->e->value_slot, v);
    r = kt->next->fn(ev, kt->next);
    undo(ev, m);
    return r;
}

struct k_out {
    struct kval k;
    const struct term *out;
    const struct expr *e;
    struct kont *next;
};

static int k_out_fn(struct ev *ev, struct kval *self, const struct rval *v)
{
    struct k_out *ko = (struct k_out *)self;

    return unify_val(ev, ko->out, v, ko->next);
}

struct k_found {
    struct kont k;
    bool found;
};

static int k_found_fn(struct ev *ev, struct kont *self)
{
    (void)ev;
    ((struct k_found *)self)->found = true;
    return STOP;
}

static int eval_some_in(struct ev *ev, const struct expr *e, struct kont *k)
{
    const struct rval *c = eval_simple(ev, e->coll);
    uint32_t j, m = mark(ev);
    int r;

    if (!c)
        return CONT;
    rv_force(c);
    for (j = 0; j < c->n && (c->t == RT_ARR || c->t == RT_OBJ || c->t == RT_SET); j++) {
        const struct rval *key, *val;

        vouch_ev_step(ev);
        if (c->t == RT_OBJ) {
            key = c->u.o[j].k;
            val = c->u.o[j].v;
        } else {
            val = c->u.a[j];
            key = c->t == RT_ARR ? vouch_rv_int(ev->a, j) : val;
        }
        if ((!e->a || match(ev, e->a, key)) && match(ev, e->b, val)) {
            r = k->fn(ev, k);
            if (r) {
                undo(ev, m);
                return r;
            }
        }
        undo(ev, m);
    }
    return CONT;
}

static int eval_every(struct ev *ev, const struct expr *e, struct kont *k)
{
    const struct rval *c = eval_simple(ev, e->coll);
    uint32_t j, m = mark(ev);

    if (!c)
        return CONT;
    rv_force(c);
    if (c->t != RT_ARR && c->t != RT_OBJ && c->t != RT_SET)
        return CONT;
    for (j = 0; j < c->n; j++) {
        const struct rval *key, *val;
        struct k_found f = { { k_found_fn }, false };

        vouch_ev_step(ev);
        if (c->t == RT_OBJ) {
            key = c->u.o[j].k;
            val = c->u.o[j].v;
        } else {
            val = c->u.a[j];
            key = c->t == RT_ARR ? vouch_rv_int(ev->a, j) : val;
        }
        if ((!e->a || match(ev, e->a, key)) && match(ev, e->b, val))
            eval_body(ev, e->body, 0, &f.k);
        undo(ev, m);
        if (!f.found)
            return CONT;
    }
    return k->fn(ev, k);
}

static int eval_expr_plain(struct ev *ev, const struct expr *e, struct kont *k)
{
    switch (e->kind) {
    case E_TERM:
        if (e->a->kind == T_CALL && e->a->u.c.out) {
            struct k_out ko = { { k_out_fn }, e->a->u.c.items[e->a->n - 1], e, k };

            return eval_call(ev, e->a, &ko.k);
        }
        {
            struct k_truthy kt = { { k_truthy_fn }, e, k };

            return eval_term(ev, e->a, &kt.k);
        }
    case E_UNIFY:
    case E_ASSIGN:
        return unify(ev, e->a, e->b, k);
    case E_NOT: {
        struct k_found f = { { k_found_fn }, false };
        uint32_t m = mark(ev);

        eval_body(ev, e->body, 0, &f.k);
        undo(ev, m);
        return f.found ? CONT : k->fn(ev, k);
    }
    case E_SOME_DECL:
        return k->fn(ev, k);
    case E_SOME_IN:
        return eval_some_in(ev, e, k);
    case E_EVERY:
        return eval_every(ev, e, k);
    }
    return CONT;
}

/* `with`: the modified world applies to the expression only; the rest of
 * the body runs in the outer one. */
struct world {
    const struct rval *input;
    struct cache_ent *cache;
    struct ovr *ovr;
    uint32_t novr;
    struct dovr *dovr;
    uint32_t ndovr;
};

static void world_get(struct ev *ev, struct world *w)
{
    w->input = ev->input;
    w->cache = ev->cache;
    w->ovr = ev->ovr;
    w->novr = ev->novr;
    w->dovr = ev->dovr;
    w->ndovr = ev->ndovr;
}

static void world_set(struct ev *ev, const struct world *w)
{
    ev->input = w->input;
    ev->cache = w->cache;
    ev->ovr = w->ovr;
    ev->novr = w->novr;
    ev->dovr = w->dovr;
    ev->ndovr = w->ndovr;
}

struct k_with {
    struct kont k;
    struct world outer, inner;
    struct kont *next;
};

static int k_with_fn(struct ev *ev, struct kont *self)
{
    struct k_with *kw = (struct k_with *)self;
    int r;

    world_get(ev, &kw->inner);
    world_set(ev, &kw->outer);
    r = kw->next->fn(ev, kw->next);
    world_set(ev, &kw->inner);
    return r;
}

static int eval_expr_with(struct ev *ev, const struct expr *e, struct kont *k)
{
    struct k_with kw = { { k_with_fn }, { 0 }, { 0 }, k };
    struct world in;
    uint32_t i;
    int r;

    world_get(ev, &kw.outer);
    in = kw.outer;
    for (i = 0; i < e->nwith; i++) {
        const struct with *w = &e->with[i];

        if (w->kind == W_FUNC) {
            struct ovr *o = ev_alloc(ev, (in.novr + 1) * sizeof(*o));

            if (in.novr)
                xmemcpy(o, in.ovr, in.novr * sizeof(*o));
            memset(&o[in.novr], 0, sizeof(*o));
            o[in.novr].bi = w->bi;
            o[in.novr].fnode = w->fnode;
            if (w->value->kind == T_CALL && w->value->n == 0) {
                o[in.novr].repl = w->value;
            } else {
                o[in.novr].val = eval_simple(ev, w->value);
                if (!o[in.novr].val)
                    return CONT;
            }
            in.ovr = o;
            in.novr++;
            continue;
        }
        {
            const struct rval *v = eval_simple(ev, w->value);

            if (!v)
                return CONT;
            if (w->kind == W_INPUT) {
                in.input = patch(ev, in.input, w->path, w->npath, v);
            } else {
                struct dovr *d = ev_alloc(ev, (in.ndovr + 1) * sizeof(*d));

                if (in.ndovr)
                    xmemcpy(d, in.dovr, in.ndovr * sizeof(*d));
                d[in.ndovr].path = w->path;
                d[in.ndovr].n = w->npath;
                d[in.ndovr].val = v;
                in.dovr = d;
                in.ndovr++;
            }
        }
    }
    in.cache = ev_alloc(ev, (ev->pol->nnodes ? ev->pol->nnodes : 1) * sizeof(*in.cache));
    memset(in.cache, 0, (ev->pol->nnodes ? ev->pol->nnodes : 1) * sizeof(*in.cache));
    world_set(ev, &in);
    r = eval_expr_plain(ev, e, &kw.k);
    world_set(ev, &kw.outer);
    return r;
}

struct k_body {
    struct kont k;
    const struct body *b;
    uint32_t i;
    struct kont *next;
};

static int k_body_fn(struct ev *ev, struct kont *self)
{
    struct k_body *kb = (struct k_body *)self;

    return eval_body(ev, kb->b, kb->i, kb->next);
}

static int eval_body(struct ev *ev, const struct body *b, uint32_t i, struct kont *k)
{
    struct k_body kb;
    const struct expr *e;

    if (i == b->n)
        return k->fn(ev, k);
    vouch_ev_step(ev);
    check_stack(ev);
    e = b->ex[i];
    kb.k.fn = k_body_fn;
    kb.b = b;
    kb.i = i + 1;
    kb.next = k;
    if (e->nwith)
        return eval_expr_with(ev, e, &kb.k);
    return eval_expr_plain(ev, e, &kb.k);
}

/* ---- queries ---- */

struct k_query {
    struct kont k;
    ev_result_fn fn;
    void *ctx;
};

static int k_query_fn(struct ev *ev, struct kont *self)
{
    struct k_query *kq = (struct k_query *)self;

    kq->fn(ev, kq->ctx);
    return CONT;
}

void vouch_ev_run_query(struct ev *ev, const struct cquery *q, ev_result_fn fn, void *ctx)
{
    struct k_query kq = { { k_query_fn }, fn, ctx };

    ev->slots = ev_alloc(ev, (q->nslots ? q->nslots : 1) * sizeof(*ev->slots));
    memset(ev->slots, 0, (q->nslots ? q->nslots : 1) * sizeof(*ev->slots));
    eval_body(ev, q->body, 0, &kq.k);
}
