/* SPDX-License-Identifier: Apache-2.0 */
/* The public API: compile, documents, evaluation, results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "rego/eval.h"
#include "rego/rego.h"

#define DEF_STEPS 1000000ull
#define DEF_DEPTH 256u
#define DEF_MEMORY ((size_t)64 << 20)
#define DEF_OUTPUT ((size_t)16 << 20)
#define DEF_STACK ((size_t)1 << 20)
#define MAX_MODULE ((size_t)16 << 20)
#define JSON_DEPTH 512

bool vouch_rego_compile_policy(struct vouch_rego_policy *p, char *msg, size_t msgsize);

struct vouch_rego_doc {
    struct rarena a;
    const struct rval *v;
};

void vouch_rego_policy_free(struct vouch_rego_policy *p)
{
    if (!p)
        return;
    vouch_ra_free(&p->arena);
    free(p);
}

vouch_err vouch_rego_compile(const struct vouch_rego_module *mods, size_t nmods,
                             const struct vouch_rego_compile_opts *opts,
                             struct vouch_rego_policy **ret, struct vouch_errbuf *eb)
{
    struct vouch_rego_policy *p;
    char msg[VOUCH_ERRBUF_SIZE];
    jmp_buf jb;
    size_t i;
    bool v0 = opts && (opts->flags & VOUCH_REGO_V0);

    if (nmods > 100000)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "rego: too many modules");
    p = calloc(1, sizeof(*p));
    if (!p)
        return vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory");
    vouch_ra_init(&p->arena, 0);
    if (setjmp(jb)) {
        vouch_rego_policy_free(p);
        return vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory");
    }
    p->arena.jb = &jb;
    p->mods = vouch_ra_xalloc(&p->arena, (nmods ? nmods : 1) * sizeof(*p->mods));
    for (i = 0; i < nmods; i++) {
        const char *name = mods[i].name ? mods[i].name : "module";
        char *text, *nm;
        uint32_t pos, line, col;

        if (mods[i].len > MAX_MODULE) {
            vouch_rego_policy_free(p);
            return vouch_fail(eb, VOUCH_E_TOO_LARGE, "%s: module larger than %zu bytes", name,
                              MAX_MODULE);
        }
        text = vouch_ra_xstrndup(&p->arena, mods[i].text ? mods[i].text : "", mods[i].len);
        nm = vouch_ra_xstrndup(&p->arena, name, strlen(name));
        if (!vouch_rego_parse_module(&p->arena, nm, text, mods[i].len, v0, &p->mods[i], &pos, msg,
                                     sizeof(msg))) {
            vouch_rego_line_col(text, mods[i].len, pos, &line, &col);
            vouch_fail(eb, VOUCH_E_INVALID, "%s:%u:%u: %s", name, line, col, msg);
            vouch_rego_policy_free(p);
            return VOUCH_E_INVALID;
        }
        p->arena.jb = &jb;
    }
    p->nmods = (uint32_t)nmods;
    if (opts && opts->nhosts) {
        p->hosts = vouch_ra_xcalloc(&p->arena, opts->nhosts, sizeof(*p->hosts));
        for (i = 0; i < opts->nhosts; i++) {
            p->hosts[i].name =
                vouch_ra_xstrndup(&p->arena, opts->hosts[i].name, strlen(opts->hosts[i].name));
            p->hosts[i].arity = opts->hosts[i].arity;
            p->hosts[i].fn = opts->hosts[i].fn;
        }
        p->nhosts = (uint32_t)opts->nhosts;
    }
    if (!vouch_rego_compile_policy(p, msg, sizeof(msg))) {
        vouch_fail(eb, VOUCH_E_INVALID, "%s", msg);
        vouch_rego_policy_free(p);
        return VOUCH_E_INVALID;
    }
    p->arena.jb = NULL;
    *ret = p;
    return VOUCH_OK;
}

/* ---- documents ---- */

void vouch_rego_doc_free(struct vouch_rego_doc *d)
{
    if (!d)
        return;
    vouch_ra_free(&d->a);
    free(d);
}

vouch_err vouch_rego_doc_parse(const char *json, size_t len, struct vouch_rego_doc **ret,
                               struct vouch_errbuf *eb)
{
    struct vouch_rego_doc *d = calloc(1, sizeof(*d));
    jmp_buf jb;
    vouch_err e;

    if (!d)
        return vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory");
    vouch_ra_init(&d->a, 0);
    if (setjmp(jb)) {
        vouch_rego_doc_free(d);
        return vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory");
    }
    d->a.jb = &jb;
    e = vouch_rv_parse_json(&d->a, json, len, JSON_DEPTH, &d->v, eb);
    if (e) {
        vouch_rego_doc_free(d);
        return e;
    }
    d->a.jb = NULL;
    *ret = d;
    return VOUCH_OK;
}

/* A constant term's value; NULL when it is not constant. */
static const struct rval *const_value(struct rarena *a, const struct term *t, unsigned depth)
{
    const struct rval **items;
    uint32_t i;

    if (depth > JSON_DEPTH)
        return NULL;
    switch (t->kind) {
    case T_CONST:
        return t->u.val;
    case T_ARR:
    case T_SET:
        items = vouch_ra_xalloc(a, (t->n ? t->n : 1) * sizeof(*items));
        for (i = 0; i < t->n; i++)
            if (!(items[i] = const_value(a, t->u.c.items[i], depth + 1)))
                return NULL;
        return t->kind == T_ARR ? vouch_rv_arr(a, items, t->n) : vouch_rv_set(a, items, t->n);
    case T_OBJ: {
        struct rkv *kv = vouch_ra_xalloc(a, (t->n / 2 + 1) * sizeof(*kv));
        bool conflict;

        for (i = 0; i < t->n; i += 2) {
            kv[i / 2].k = const_value(a, t->u.c.items[i], depth + 1);
            kv[i / 2].v = const_value(a, t->u.c.items[i + 1], depth + 1);
            if (!kv[i / 2].k || !kv[i / 2].v)
                return NULL;
        }
        return vouch_rv_obj(a, kv, t->n / 2, &conflict);
    }
    default:
        return NULL;
    }
}

vouch_err vouch_rego_doc_parse_term(const char *text, size_t len, struct vouch_rego_doc **ret,
                                    struct vouch_errbuf *eb)
{
    struct vouch_rego_doc *d = calloc(1, sizeof(*d));
    char msg[VOUCH_ERRBUF_SIZE];
    struct term *t;
    uint32_t pos;
    jmp_buf jb;

    if (!d)
        return vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory");
    vouch_ra_init(&d->a, 0);
    if (setjmp(jb)) {
        vouch_rego_doc_free(d);
        return vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory");
    }
    d->a.jb = &jb;
    if (!vouch_rego_parse_term(&d->a, text, len, &t, &pos, msg, sizeof(msg))) {
        vouch_fail(eb, VOUCH_E_INVALID, "offset %u: %s", pos, msg);
        vouch_rego_doc_free(d);
        return VOUCH_E_INVALID;
    }
    d->a.jb = &jb;
    d->v = const_value(&d->a, t, 0);
    if (!d->v) {
        vouch_rego_doc_free(d);
        return vouch_fail(eb, VOUCH_E_INVALID, "rego: not a constant value");
    }
    d->a.jb = NULL;
    *ret = d;
    return VOUCH_OK;
}

static const struct rval *from_json_full(struct rarena *a, const json_t *j, unsigned depth)
{
    const struct rval *v = vouch_rv_from_json(a, j, true);
    uint32_t i;

    if (depth > JSON_DEPTH)
        vouch_ra_fail(a);
    rv_force(v);
    if (v->t == RT_ARR)
        for (i = 0; i < v->n; i++)
            v->u.a[i] = from_json_full(a, json_array_get(j, i), depth + 1);
    else if (v->t == RT_OBJ)
        for (i = 0; i < v->n; i++) {
            struct rkv *kv = (struct rkv *)&v->u.o[i];

            kv->v = from_json_full(a, json_object_getn(j, kv->k->u.s, kv->k->n), depth + 1);
            kv->k = vouch_rv_str(a, kv->k->u.s, kv->k->n);
        }
    else if (v->t == RT_STR)
        v = vouch_rv_str(a, v->u.s, v->n);
    return v;
}

vouch_err vouch_rego_doc_from_json(const json_t *j, struct vouch_rego_doc **ret,
                                   struct vouch_errbuf *eb)
{
    struct vouch_rego_doc *d = calloc(1, sizeof(*d));
    jmp_buf jb;

    if (!d)
        return vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory");
    vouch_ra_init(&d->a, 0);
    if (setjmp(jb)) {
        vouch_rego_doc_free(d);
        return vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory or nesting too deep");
    }
    d->a.jb = &jb;
    /* a full copy: the document must not depend on the jansson value */
    d->v = from_json_full(&d->a, j, 0);
    d->a.jb = NULL;
    *ret = d;
    return VOUCH_OK;
}

/* ---- host functions ---- */

static void pending_add(struct ev *ev, json_t *j)
{
    size_t i;

    for (i = 0; i < sizeof(ev->pending) / sizeof(ev->pending[0]); i++)
        if (!ev->pending[i]) {
            ev->pending[i] = j;
            return;
        }
    json_decref(j);
    vouch_ev_fail(ev, VOUCH_E_INTERNAL, "rego: too many pending values");
}

static void pending_release(struct ev *ev, json_t *j)
{
    size_t i;

    for (i = 0; i < sizeof(ev->pending) / sizeof(ev->pending[0]); i++)
        if (ev->pending[i] == j) {
            ev->pending[i] = NULL;
            json_decref(j);
            return;
        }
}

/* Host functions are taken to be pure within one evaluation (as the
 * reference-value lookup is): their results are remembered by arguments. */
struct hcall {
    uint32_t host, nargs;
    const struct rval **args;
    const struct rval *res;   /* NULL: undefined */
};

static const struct rval *call_host(struct ev *ev, uint32_t host, const struct rval *const *args,
                                    uint32_t nargs);

const struct rval *vouch_ev_call_host(struct ev *ev, uint32_t host, const struct rval *const *args,
                                      uint32_t nargs)
{
    struct hcall *c;
    uint32_t i, j;

    for (i = 0; i < ev->hcache.n; i++) {
        c = ev->hcache.v[i];
        if (c->host != host || c->nargs != nargs)
            continue;
        for (j = 0; j < nargs; j++)
            if (!rv_eq(c->args[j], args[j]))
                break;
        if (j == nargs)
            return c->res;
    }
    c = ev_alloc(ev, sizeof(*c));
    c->host = host;
    c->nargs = nargs;
    c->args = ev_alloc(ev, (nargs ? nargs : 1) * sizeof(*c->args));
    xmemcpy(c->args, args, nargs * sizeof(*c->args));
    c->res = call_host(ev, host, args, nargs);
    vouch_ra_vec_push(ev->a, &ev->hcache, c);
    return c->res;
}

static const struct rval *call_host(struct ev *ev, uint32_t host, const struct rval *const *args,
                                    uint32_t nargs)
{
    const struct host_fn *h = &ev->pol->hosts[host];
    json_t *jargs = json_array(), *res = NULL, *argv[16];
    struct vouch_errbuf eb = { { 0 } };
    const struct rval *v;
    uint32_t i;
    vouch_err e;

    if (!jargs)
        vouch_ev_fail(ev, VOUCH_E_NOMEM, "rego: out of memory");
    pending_add(ev, jargs);
    if (nargs > 16)
        vouch_ev_fail(ev, VOUCH_E_INVALID, "rego: too many arguments");
    for (i = 0; i < nargs; i++) {
        json_t *j = vouch_rv_to_json(args[i]);

        if (!j || json_array_append_new(jargs, j))
            vouch_ev_fail(ev, VOUCH_E_NOMEM, "rego: out of memory");
        argv[i] = json_array_get(jargs, i);
    }
    e = h->fn(ev->host_ctx, argv, nargs, &res, &eb);
    if (e) {
        pending_release(ev, jargs);
        if (ev->strict)
            vouch_ev_fail(ev, VOUCH_E_INVALID, "eval_builtin_error: %s: %s", h->name, eb.msg);
        return NULL;
    }
    if (!res) {
        pending_release(ev, jargs);
        return NULL;
    }
    /* keep the result for the rest of the evaluation and read it in place */
    if (ev->jkeep.n == ev->jkeep.cap) {
        void **nv = vouch_ra_alloc(ev->a, (ev->jkeep.cap ? ev->jkeep.cap * 2 : 8) * sizeof(void *));

        if (!nv) {
            json_decref(res);
            vouch_ra_fail(ev->a);
        }
        xmemcpy(nv, ev->jkeep.v, ev->jkeep.n * sizeof(void *));
        ev->jkeep.v = nv;
        ev->jkeep.cap = ev->jkeep.cap ? ev->jkeep.cap * 2 : 8;
    }
    ev->jkeep.v[ev->jkeep.n++] = res;
    pending_release(ev, jargs);
    v = vouch_rv_from_json(ev->a, res, true);
    return v;
}

/* ---- evaluation ---- */

struct solution {
    const struct rval **vals;     /* query vars, then expression values */
};

struct qrun {
    const struct cquery *q;
    struct ra_vec sols;
};

static void on_solution(struct ev *ev, void *ctx)
{
    struct qrun *qr = ctx;
    const struct cquery *q = qr->q;
    uint32_t n = q->nvars + q->body->n, i;
    struct solution *s = ev_alloc(ev, sizeof(*s));

    s->vals = ev_alloc(ev, (n ? n : 1) * sizeof(*s->vals));
    for (i = 0; i < q->nvars; i++)
        s->vals[i] = ev->slots[q->vars[i].slot];
    for (i = 0; i < q->body->n; i++) {
        const struct expr *e = q->body->ex[i];

        s->vals[q->nvars + i] = e->value_slot != UINT32_MAX ? ev->slots[e->value_slot] : RV_TRUE;
    }
    vouch_ev_step(ev);
    vouch_ra_vec_push(ev->a, &qr->sols, s);
}

struct run {
    struct ev ev;
    struct rarena a;
    struct vouch_buf out;
    bool have_out;
    char *res_s;        /* results, written under the jump buffer */
    size_t res_n;
    json_t *res_j;
};

static int64_t monotonic_ns(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void limits(const struct vouch_rego_eval_args *args, struct vouch_rego_limits *l)
{
    *l = args->limits;
    if (!l->max_steps)
        l->max_steps = DEF_STEPS;
    if (!l->max_depth)
        l->max_depth = DEF_DEPTH;
    if (!l->max_memory)
        l->max_memory = DEF_MEMORY;
    if (!l->max_output)
        l->max_output = DEF_OUTPUT;
    if (!l->max_stack)
        l->max_stack = DEF_STACK;
}

static void run_init(struct run *r, const struct vouch_rego_policy *p,
                     const struct vouch_rego_eval_args *args)
{
    struct vouch_rego_limits l;

    limits(args, &l);
    memset(&r->ev, 0, sizeof(r->ev));
    vouch_ra_init(&r->a, l.max_memory);
    r->a.jb = &r->ev.jb;
    r->ev.a = &r->a;
    r->ev.pol = p;
    r->ev.max_steps = l.max_steps;
    r->ev.max_depth = l.max_depth;
    r->ev.max_stack = l.max_stack;
    r->ev.max_time_ns = l.max_time_ns;
    r->ev.clock = args->clock ? args->clock : monotonic_ns;
    r->ev.clock_ctx = args->clock ? args->clock_ctx : NULL;
    if (l.max_time_ns) {
        int64_t budget = l.max_time_ns > INT64_MAX ? INT64_MAX : (int64_t)l.max_time_ns;

        r->ev.timed = true;
        if (__builtin_add_overflow(r->ev.clock(r->ev.clock_ctx), budget, &r->ev.deadline_ns))
            r->ev.deadline_ns = INT64_MAX;
    }
    r->ev.strict = args->flags & VOUCH_REGO_STRICT;
    r->ev.now_ns = args->now_ns;
    r->ev.host_ctx = args->host_ctx;
    vouch_buf_init(&r->out, l.max_output);
    r->have_out = false;
    r->res_s = NULL;
    r->res_n = 0;
    r->res_j = NULL;
}

/* Called right after setjmp returned 0. */
static void run_setup(struct run *r, const struct vouch_rego_eval_args *args)
{
    struct ev *ev = &r->ev;

    ev->stack_base = (uintptr_t)__builtin_frame_address(0);
    vouch_ev_init_cache(ev);
    if (args->input_doc)
        ev->input = args->input_doc->v;
    else if (args->input)
        ev->input = vouch_rv_from_json_deferred(ev->a, args->input, args->deferred);
    if (args->data_doc)
        ev->data = args->data_doc->v;
    else if (args->data)
        ev->data = vouch_rv_from_json(ev->a, args->data, true);
    if (ev->data && ev->data->t != RT_OBJ)
        vouch_ev_fail(ev, VOUCH_E_INVALID, "rego: data must be an object");
}

static void release_kept(struct run *r)
{
    uint32_t i;

    for (i = 0; i < r->ev.jkeep.n; i++)
        json_decref(r->ev.jkeep.v[i]);
    r->ev.jkeep.n = 0;
}

static vouch_err run_fail(struct run *r, struct vouch_errbuf *eb)
{
    size_t i;
    vouch_err e;

    release_kept(r);
    for (i = 0; i < sizeof(r->ev.pending) / sizeof(r->ev.pending[0]); i++)
        json_decref(r->ev.pending[i]);
    vouch_buf_free(&r->out);
    free(r->res_s);
    json_decref(r->res_j);
    if (r->ev.msg[0]) {
        e = r->ev.err ? r->ev.err : VOUCH_E_INVALID;
        vouch_fail(eb, e, "%s", r->ev.msg);
    } else if (r->a.hit_limit) {
        e = vouch_fail(eb, VOUCH_E_LIMIT, "eval_limit_error: memory limit exceeded (%zu bytes)",
                       r->a.limit);
    } else {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory");
    }
    vouch_ra_free(&r->a);
    return e;
}

static void out_check(struct run *r, vouch_err e)
{
    if (e == VOUCH_E_TOO_LARGE)
        vouch_ev_fail(&r->ev, VOUCH_E_LIMIT, "eval_limit_error: result larger than %zu bytes",
                      r->out.max);
    if (e)
        vouch_ev_fail(&r->ev, e, "rego: cannot write the result");
}

static void write_val(struct run *r, const struct rval *v)
{
    out_check(r, vouch_rv_write_json(&r->out, v));
}

static void write_str(struct run *r, const char *s, size_t n)
{
    const struct rval *v = vouch_rv_str(r->ev.a, s, n);

    write_val(r, v);
}

static void write_results(struct run *r, const struct cquery *q, struct qrun *qr, int shape)
{
    uint32_t i, j, ne;

    out_check(r, vouch_buf_putc(&r->out, '['));
    for (i = 0; i < qr->sols.n; i++) {
        const struct solution *s = qr->sols.v[i];

        if (i)
            out_check(r, vouch_buf_putc(&r->out, ','));
        if (shape == VOUCH_REGO_RESULT_FULL) {
            bool first = true;

            out_check(r, vouch_buf_puts(&r->out, "{\"expressions\":["));
            /* source order; compiler-made expressions are left out */
            ne = 0;
            for (j = 0; j < q->nexprs; j++) {
                uint32_t k;

                for (k = 0; k < q->body->n; k++) {
                    const struct expr *e = q->body->ex[k];
                    uint32_t line, col, st, en;

                    if ((e->flags & EXF_HOISTED) || e->idx != j)
                        continue;
                    if (!first)
                        out_check(r, vouch_buf_putc(&r->out, ','));
                    first = false;
                    out_check(r, vouch_buf_puts(&r->out, "{\"value\":"));
                    write_val(r, s->vals[q->nvars + k]);
                    out_check(r, vouch_buf_puts(&r->out, ",\"text\":"));
                    st = e->start;
                    en = e->end > st ? e->end : st;
                    write_str(r, q->src + st, en - st);
                    vouch_rego_line_col(q->src, q->len, st, &line, &col);
                    out_check(r, vouch_buf_printf(&r->out,
                                                  ",\"location\":{\"row\":%u,\"col\":%u}}", line,
                                                  col));
                    ne++;
                    break;
                }
            }
            out_check(r, vouch_buf_putc(&r->out, ']'));
            if (q->nvars) {
                out_check(r, vouch_buf_puts(&r->out, ",\"bindings\":{"));
                for (j = 0; j < q->nvars; j++) {
                    if (j)
                        out_check(r, vouch_buf_putc(&r->out, ','));
                    write_str(r, q->vars[j].name, q->vars[j].len);
                    out_check(r, vouch_buf_putc(&r->out, ':'));
                    write_val(r, s->vals[j] ? s->vals[j] : RV_NULL);
                }
                out_check(r, vouch_buf_putc(&r->out, '}'));
            }
            out_check(r, vouch_buf_putc(&r->out, '}'));
            (void)ne;
        } else {
            out_check(r, vouch_buf_putc(&r->out, '{'));
            for (j = 0; j < q->nvars; j++) {
                if (j)
                    out_check(r, vouch_buf_putc(&r->out, ','));
                write_str(r, q->vars[j].name, q->vars[j].len);
                out_check(r, vouch_buf_putc(&r->out, ':'));
                write_val(r, s->vals[j] ? s->vals[j] : RV_NULL);
            }
            out_check(r, vouch_buf_putc(&r->out, '}'));
        }
    }
    out_check(r, vouch_buf_putc(&r->out, ']'));
}

static void do_query(struct run *r, const struct vouch_rego_eval_args *args, const char *query,
                     int shape)
{
    struct cquery *q;
    struct qrun qr = { 0 };
    char msg[VOUCH_ERRBUF_SIZE];

    run_setup(r, args);
    if (!vouch_rego_compile_query(r->ev.pol, r->ev.a, query, strlen(query), &q, msg, sizeof(msg))) {
        r->a.jb = &r->ev.jb;
        vouch_ev_fail(&r->ev, VOUCH_E_INVALID, "%s", msg);
    }
    r->a.jb = &r->ev.jb;
    qr.q = q;
    vouch_ev_run_query(&r->ev, q, on_solution, &qr);
    r->have_out = true;
    write_results(r, q, &qr, shape);
}

vouch_err vouch_rego_query(const struct vouch_rego_policy *p, const char *query,
                           const struct vouch_rego_eval_args *args, int shape, char **ret_json,
                           size_t *ret_len, struct vouch_errbuf *eb)
{
    struct run r;

    run_init(&r, p, args);
    if (setjmp(r.ev.jb))
        return run_fail(&r, eb);
    do_query(&r, args, query, shape);
    release_kept(&r);
    vouch_ra_free(&r.a);
    r.res_s = (char *)vouch_buf_steal(&r.out, &r.res_n);
    if (!r.res_s)
        return vouch_fail(eb, VOUCH_E_NOMEM, "rego: out of memory");
    *ret_json = r.res_s;
    if (ret_len)
        *ret_len = r.res_n;
    return VOUCH_OK;
}

/* "data.a.b[\"c\"]" as a ref term. */
static const struct term *path_ref(struct ev *ev, const char *path)
{
    struct term *t, *r;
    char msg[VOUCH_ERRBUF_SIZE];
    uint32_t pos, i;
    struct rnode *n;

    if (!vouch_rego_parse_term(ev->a, path, strlen(path), &t, &pos, msg, sizeof(msg))) {
        ev->a->jb = &ev->jb;
        vouch_ev_fail(ev, VOUCH_E_INVALID, "rego: bad rule path '%s': %s", path, msg);
    }
    ev->a->jb = &ev->jb;
    if (t->kind == T_VAR && t->u.var.len == 4 && memcmp(t->u.var.name, "data", 4) == 0) {
        struct term **items = ev_alloc(ev, sizeof(*items));

        items[0] = t;
        r = ev_alloc(ev, sizeof(*r));
        memset(r, 0, sizeof(*r));
        r->kind = T_REF;
        r->n = 1;
        r->u.c.items = items;
        t = r;
    }
    if (t->kind != T_REF || t->u.c.items[0]->kind != T_VAR ||
        t->u.c.items[0]->u.var.len != 4 || memcmp(t->u.c.items[0]->u.var.name, "data", 4) != 0)
        vouch_ev_fail(ev, VOUCH_E_INVALID, "rego: rule path must start with data: '%s'", path);
    for (i = 1; i < t->n; i++)
        if (t->u.c.items[i]->kind != T_CONST)
            vouch_ev_fail(ev, VOUCH_E_INVALID, "rego: rule path must be constant: '%s'", path);
    t->u.c.items[0]->u.var.kind = V_DATA;
    n = ev->pol->root;
    for (i = 1; i < t->n && !rnode_has_value(n) && !rnode_is_func(n); i++) {
        const struct rval *k = t->u.c.items[i]->u.val;
        struct rnode *c = k->t == RT_STR ? vouch_rnode_child(n, k->u.s, k->n) : NULL;

        if (!c)
            break;
        n = c;
    }
    t->u.c.node = n;
    t->u.c.node_depth = i - 1;
    return t;
}

static const struct rval *do_rule(struct run *r, const struct vouch_rego_eval_args *args,
                                  const char *path)
{
    const struct term *t;

    run_setup(r, args);
    t = path_ref(&r->ev, path);
    return vouch_ev_eval_ref(&r->ev, t);
}

static void force_deep(struct ev *ev, const struct rval *v, unsigned depth)
{
    uint32_t i;

    if (depth > JSON_DEPTH * 2)
        vouch_ev_fail(ev, VOUCH_E_LIMIT, "eval_limit_error: result nested too deeply");
    if (v->t != RT_ARR && v->t != RT_OBJ && v->t != RT_SET)
        return;
    rv_force(v);
    for (i = 0; i < v->n; i++) {
        if (v->t == RT_OBJ) {
            force_deep(ev, v->u.o[i].k, depth + 1);
            force_deep(ev, v->u.o[i].v, depth + 1);
        } else {
            force_deep(ev, v->u.a[i], depth + 1);
        }
    }
}

/* The parts of the rule evaluations that run under the jump buffer. */
static void rule_text_body(struct run *r, const struct vouch_rego_eval_args *args,
                           const char *path)
{
    const struct rval *v = do_rule(r, args, path);

    if (v) {
        write_val(r, v);
        r->res_s = (char *)vouch_buf_steal(&r->out, &r->res_n);
        if (!r->res_s)
            vouch_ev_fail(&r->ev, VOUCH_E_NOMEM, "rego: out of memory");
    }
}

static void rule_json_body_of(struct run *r, const struct rval *v)
{
    if (v) {
        /* force every lazy part before leaving the jump scope */
        force_deep(&r->ev, v, 0);
        r->res_j = vouch_rv_to_json(v);
        if (!r->res_j)
            vouch_ev_fail(&r->ev, VOUCH_E_NOMEM, "rego: out of memory");
    }
}

static void rule_json_body(struct run *r, const struct vouch_rego_eval_args *args,
                           const char *path)
{
    rule_json_body_of(r, do_rule(r, args, path));
}

/* rule_json_body for an object document, converting only `members` of it. */
static void rule_json_members_body(struct run *r, const struct vouch_rego_eval_args *args,
                                   const char *path, const char *const *members, size_t n)
{
    const struct rval *v = do_rule(r, args, path);
    size_t i;

    if (!v || v->t != RT_OBJ) {
        rule_json_body_of(r, v);
        return;
    }
    r->res_j = json_object();
    if (!r->res_j)
        vouch_ev_fail(&r->ev, VOUCH_E_NOMEM, "rego: out of memory");
    for (i = 0; i < n; i++) {
        const struct rval *m = vouch_rv_obj_getn(v, members[i], strlen(members[i]));

        if (!m)
            continue;
        force_deep(&r->ev, m, 1);
        if (json_object_set_new(r->res_j, members[i], vouch_rv_to_json(m)))
            vouch_ev_fail(&r->ev, VOUCH_E_NOMEM, "rego: out of memory");
    }
}

vouch_err vouch_rego_eval_rule_members(const struct vouch_rego_policy *p, const char *path,
                                       const char *const *members, size_t n_members,
                                       const struct vouch_rego_eval_args *args,
                                       json_t **ret_value, struct vouch_errbuf *eb)
{
    struct run r;

    run_init(&r, p, args);
    if (setjmp(r.ev.jb))
        return run_fail(&r, eb);
    rule_json_members_body(&r, args, path, members, n_members);
    release_kept(&r);
    vouch_buf_free(&r.out);
    vouch_ra_free(&r.a);
    *ret_value = r.res_j;
    return VOUCH_OK;
}

vouch_err vouch_rego_eval_rule_text(const struct vouch_rego_policy *p, const char *path,
                                    const struct vouch_rego_eval_args *args, char **ret_json,
                                    size_t *ret_len, struct vouch_errbuf *eb)
{
    struct run r;

    run_init(&r, p, args);
    if (setjmp(r.ev.jb))
        return run_fail(&r, eb);
    rule_text_body(&r, args, path);
    release_kept(&r);
    vouch_buf_free(&r.out);
    vouch_ra_free(&r.a);
    *ret_json = r.res_s;
    if (ret_len)
        *ret_len = r.res_n;
    return VOUCH_OK;
}

vouch_err vouch_rego_eval_rule(const struct vouch_rego_policy *p, const char *path,
                               const struct vouch_rego_eval_args *args, json_t **ret_value,
                               struct vouch_errbuf *eb)
{
    struct run r;

    run_init(&r, p, args);
    if (setjmp(r.ev.jb))
        return run_fail(&r, eb);
    rule_json_body(&r, args, path);
    release_kept(&r);
    vouch_buf_free(&r.out);
    vouch_ra_free(&r.a);
    *ret_value = r.res_j;
    return VOUCH_OK;
}
