/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regular expressions, with PCRE2.  OPA uses Go's RE2 syntax; PCRE2 reads
 * RE2 patterns the same way for everything RE2 supports, with these
 * settings: UTF mode tolerating invalid UTF-8, `$` only at the very end
 * (DOLLAR_ENDONLY, as RE2), \d \w \s ASCII-only (as RE2).  Differences:
 * PCRE2 also accepts backreferences and lookaround that RE2 rejects, and
 * (?U) means "ungreedy" in both.  Matching is bounded by match and depth
 * limits, so a pathological pattern fails instead of running away.
 * "All matches" follow Go: successive non-overlapping matches, an empty
 * match right after the previous one skipped.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "rego/builtins.h"

#define RX_MATCH_LIMIT 100000
#define RX_DEPTH_LIMIT 10000
#define RX_STEPS 100              /* steps charged per backtracking match */
#define RX_DFA_WORKSPACE 1000
#define RX_CACHE 32

struct rx_ent {
    const struct rval *pat;
    pcre2_code *code;
    pcre2_code *dfa;    /* the same without MATCH_INVALID_UTF, for the DFA matcher */
    int err;            /* compile error code, 0 when compiled */
    char msg[200];
};

struct rx_state {
    pcre2_general_context *gctx;
    pcre2_compile_context *cctx;
    pcre2_match_context *mctx;
    struct rx_ent ent[RX_CACHE];
    uint32_t n, next;
};

static void *rx_malloc(PCRE2_SIZE n, void *data)
{
    return vouch_ra_alloc(data, n);
}

static void rx_free(void *p, void *data)
{
    (void)p;
    (void)data;
}

static struct rx_state *rx_state(struct ev *ev)
{
    struct rx_state *st = ev->rx;

    if (st)
        return st;
    st = ev_alloc(ev, sizeof(*st));
    memset(st, 0, sizeof(*st));
    st->gctx = pcre2_general_context_create(rx_malloc, rx_free, ev->a);
    if (!st->gctx)
        vouch_ra_fail(ev->a);
    st->cctx = pcre2_compile_context_create(st->gctx);
    st->mctx = pcre2_match_context_create(st->gctx);
    if (!st->cctx || !st->mctx)
        vouch_ra_fail(ev->a);
    pcre2_set_match_limit(st->mctx, RX_MATCH_LIMIT);
    pcre2_set_depth_limit(st->mctx, RX_DEPTH_LIMIT);
    ev->rx = st;
    return st;
}

/* The compiled pattern, or NULL with the error message set. */
static pcre2_code *rx_get(struct ev *ev, const struct rval *pat, const char **ret_msg)
{
    struct rx_state *st = rx_state(ev);
    struct rx_ent *e;
    uint32_t i;
    int err;
    PCRE2_SIZE off;

    for (i = 0; i < st->n; i++)
        if (rv_eq(st->ent[i].pat, pat)) {
            *ret_msg = st->ent[i].msg;
            return st->ent[i].code;
        }
    if (st->n < RX_CACHE) {
        e = &st->ent[st->n++];
    } else {
        e = &st->ent[st->next];
        st->next = (st->next + 1) % RX_CACHE;
    }
    e->pat = pat;
    e->dfa = NULL;
    e->code = pcre2_compile((PCRE2_SPTR)pat->u.s, pat->n,
                            PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY, &err,
                            &off, st->cctx);
    if (e->code)
        e->dfa = pcre2_compile((PCRE2_SPTR)pat->u.s, pat->n, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY,
                               &err, &off, st->cctx);
    e->err = e->code ? 0 : err;
    e->msg[0] = '\0';
    if (!e->code) {
        PCRE2_UCHAR buf[100];

        pcre2_get_error_message(err, buf, sizeof(buf));
        snprintf(e->msg, sizeof(e->msg), "error parsing regexp: %.100s at offset %zu", (char *)buf,
                 (size_t)off);
    }
    *ret_msg = e->msg;
    return e->code;
}

static void charge(struct ev *ev, uint64_t n)
{
    vouch_ev_charge(ev, n + 1);
}

/* One match at or after pos: 1 found, 0 none; errors fail the builtin. */
static int rx_exec(struct ev *ev, pcre2_code *code, const struct rval *s, size_t pos,
                   pcre2_match_data *md, int *ret_err)
{
    int rc = pcre2_match(code, (PCRE2_SPTR)s->u.s, s->n, pos, 0, md, rx_state(ev)->mctx);

    charge(ev, RX_STEPS + (s->n - pos) / 16);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        *ret_err = rc;
        return -1;
    }
    return 1;
}

/* Is there a match anywhere?  The DFA matcher does not backtrack, so its
 * cost stays polynomial whatever the pattern; patterns it cannot run
 * (back-references) fall back to the bounded backtracking matcher. */
static pcre2_code *rx_dfa_code(struct ev *ev, const pcre2_code *code)
{
    struct rx_state *st = rx_state(ev);
    uint32_t i;

    for (i = 0; i < st->n; i++)
        if (st->ent[i].code == code)
            return st->ent[i].dfa;
    return NULL;
}

static int rx_test(struct ev *ev, pcre2_code *code, const struct rval *s, pcre2_match_data *md,
                   int *ret_err)
{
    int ws[RX_DFA_WORKSPACE];
    pcre2_code *dfa = rx_dfa_code(ev, code);
    int rc;

    /* the DFA matcher needs valid UTF-8; other subjects take the other path */
    if (!dfa || vouch_rv_utf8_count(s->u.s, s->n) < 0)
        return rx_exec(ev, code, s, 0, md, ret_err);
    rc = pcre2_dfa_match(dfa, (PCRE2_SPTR)s->u.s, s->n, 0, PCRE2_DFA_SHORTEST | PCRE2_NO_UTF_CHECK,
                         md, rx_state(ev)->mctx, ws, RX_DFA_WORKSPACE);
    charge(ev, 1 + s->n / 16);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_DFA_UITEM || rc == PCRE2_ERROR_DFA_UCOND || rc == PCRE2_ERROR_DFA_UFUNC ||
        rc == PCRE2_ERROR_DFA_WSSIZE || rc == PCRE2_ERROR_DFA_RECURSE)
        return rx_exec(ev, code, s, 0, md, ret_err);
    *ret_err = rc;
    return -1;
}

static int rx_fail(struct ev *ev, int rc)
{
    PCRE2_UCHAR buf[100];

    pcre2_get_error_message(rc, buf, sizeof(buf));
    return vouch_bi_fail(ev, BI_ERR, "regexp: %s", (char *)buf);
}

static size_t rune_len(const struct rval *s, size_t pos)
{
    uint32_t cp;
    size_t l;

    if ((unsigned char)s->u.s[pos] < 0x80)
        return 1;
    l = rv_utf8_decode(s->u.s + pos, s->n - pos, &cp);
    return l ? l : 1;
}

/* Go's allMatches: calls fn for each accepted match (up to n, n < 0: all). */
typedef int (*rx_each)(struct ev *ev, void *ctx, const PCRE2_SIZE *ov, uint32_t ngroups);

static int rx_all(struct ev *ev, pcre2_code *code, const struct rval *s, int64_t n, rx_each fn,
                  void *ctx)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, rx_state(ev)->gctx);
    size_t pos = 0;
    int64_t prev_end = -1, count = 0;
    int rc, err = 0;

    if (!md)
        vouch_ra_fail(ev->a);
    while (pos <= s->n && (n < 0 || count < n)) {
        const PCRE2_SIZE *ov;
        bool accept = true;

        rc = rx_exec(ev, code, s, pos, md, &err);
        if (rc < 0)
            return rx_fail(ev, err);
        if (rc == 0)
            break;
        ov = pcre2_get_ovector_pointer(md);
        if (ov[1] == pos) {
            if ((int64_t)ov[0] == prev_end)
                accept = false;
            pos += pos < s->n ? rune_len(s, pos) : 1;
        } else {
            pos = ov[1];
        }
        prev_end = (int64_t)ov[1];
        if (accept) {
            rc = fn(ev, ctx, ov, pcre2_get_ovector_count(md));
            if (rc)
                return rc;
            count++;
        }
    }
    return BI_OK;
}

#define PAT(i)                                                 \
    do {                                                       \
        if (a[(i)]->t != RT_STR)                               \
            return vouch_bi_type(ev, (i) + 1, "string", a[(i)]);     \
    } while (0)

BI(bi_regex_match)
{
    const char *msg;
    pcre2_code *code;
    pcre2_match_data *md;
    int rc, err = 0;

    PAT(0);
    PAT(1);
    code = rx_get(ev, a[0], &msg);
    if (!code)
        return vouch_bi_fail(ev, BI_ERR, "%s", msg);
    md = pcre2_match_data_create_from_pattern(code, rx_state(ev)->gctx);
    if (!md)
        vouch_ra_fail(ev->a);
    rc = rx_test(ev, code, a[1], md, &err);
    if (rc < 0)
        return rx_fail(ev, err);
    *ret = RV_BOOL(rc == 1);
    return BI_OK;
}

BI(bi_regex_is_valid)
{
    const char *msg;

    if (a[0]->t != RT_STR) {
        *ret = RV_FALSE;
        return BI_OK;
    }
    *ret = RV_BOOL(rx_get(ev, a[0], &msg) != NULL);
    return BI_OK;
}

struct split_ctx {
    const struct rval *s;
    struct ra_vec out;
    size_t beg, end;
    uint32_t nmatch;
};

static int split_fn(struct ev *ev, void *ctx, const PCRE2_SIZE *ov, uint32_t ng)
{
    struct split_ctx *c = ctx;

    (void)ng;
    c->nmatch++;
    c->end = ov[0];
    if (ov[1] != 0)
        vouch_ra_vec_push(ev->a, &c->out,
                          (void *)vouch_rv_str(ev->a, c->s->u.s + c->beg, c->end - c->beg));
    c->beg = ov[1];
    return BI_OK;
}

BI(bi_regex_split)
{
    const char *msg;
    pcre2_code *code;
    struct split_ctx c = { a[1], { 0 }, 0, 0, 0 };
    int rc;

    PAT(0);
    PAT(1);
    code = rx_get(ev, a[0], &msg);
    if (!code)
        return vouch_bi_fail(ev, BI_ERR, "%s", msg);
    if ((rc = rx_all(ev, code, a[1], -1, split_fn, &c)))
        return rc;
    if (c.nmatch == 0) {
        /* no match at all: the whole string */
        const struct rval **one = ev_alloc(ev, sizeof(*one));

        one[0] = a[1];
        *ret = vouch_rv_arr(ev->a, one, 1);
        return BI_OK;
    }
    if (c.end != a[1]->n)
        vouch_ra_vec_push(ev->a, &c.out,
                          (void *)vouch_rv_str(ev->a, a[1]->u.s + c.beg, a[1]->n - c.beg));
    *ret = vouch_rv_arr(ev->a, (const struct rval **)c.out.v, c.out.n);
    return BI_OK;
}

struct find_ctx {
    const struct rval *s;
    struct ra_vec out;
    bool groups;
};

static int find_fn(struct ev *ev, void *ctx, const PCRE2_SIZE *ov, uint32_t ng)
{
    struct find_ctx *c = ctx;

    if (!c->groups) {
        vouch_ra_vec_push(ev->a, &c->out,
                          (void *)vouch_rv_str(ev->a, c->s->u.s + ov[0], ov[1] - ov[0]));
    } else {
        const struct rval **g = ev_alloc(ev, ng * sizeof(*g));
        uint32_t i;

        for (i = 0; i < ng; i++) {
            if (ov[2 * i] == PCRE2_UNSET)
                g[i] = &vouch_rv_empty_str_v;
            else
                g[i] = vouch_rv_str(ev->a, c->s->u.s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
        }
        vouch_ra_vec_push(ev->a, &c->out, (void *)vouch_rv_arr(ev->a, g, ng));
    }
    return BI_OK;
}

static int find(struct ev *ev, const struct rval *const *a, const struct rval **ret, bool groups)
{
    const char *msg;
    pcre2_code *code;
    struct find_ctx c = { a[1], { 0 }, groups };
    int64_t n;
    int rc;

    PAT(0);
    PAT(1);
    if ((rc = vouch_bi_int_arg(ev, a, 2, &n)))
        return rc;
    code = rx_get(ev, a[0], &msg);
    if (!code)
        return vouch_bi_fail(ev, BI_ERR, "%s", msg);
    if ((rc = rx_all(ev, code, a[1], n, find_fn, &c)))
        return rc;
    *ret = vouch_rv_arr(ev->a, (const struct rval **)c.out.v, c.out.n);
    return BI_OK;
}

BI(bi_regex_find_n)
{
    return find(ev, a, ret, false);
}

BI(bi_regex_find_all_submatch)
{
    return find(ev, a, ret, true);
}

struct repl_ctx {
    const struct rval *s, *tmpl;
    pcre2_code *code;
    struct sbuf b;
    size_t last;
};

/* Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$. */
static void expand(struct ev *ev, struct repl_ctx *c, const PCRE2_SIZE *ov, uint32_t ng)
{
    const char *t = c->tmpl->u.s;
    size_t n = c->tmpl->n, i = 0;

    while (i < n) {
        size_t j, nl;
        const char *name;
        bool brace = false;
        int64_t idx = -1;

        if (t[i] != '$') {
            vouch_sb_putc(&c->b, t[i++]);
            continue;
        }
        if (i + 1 < n && t[i + 1] == '$') {
            vouch_sb_putc(&c->b, '$');
            i += 2;
            continue;
        }
        j = i + 1;
        if (j < n && t[j] == '{') {
            brace = true;
            j++;
        }
        name = t + j;
        while (j < n && ((t[j] >= 'a' && t[j] <= 'z') || (t[j] >= 'A' && t[j] <= 'Z') ||
                         (t[j] >= '0' && t[j] <= '9') || t[j] == '_'))
            j++;
        nl = (size_t)(t + j - name);
        if (nl == 0 || (brace && (j >= n || t[j] != '}'))) {
            vouch_sb_putc(&c->b, '$');
            i++;
            continue;
        }
        if (brace)
            j++;
        {
            size_t k;
            bool digits = true;

            for (k = 0; k < nl; k++)
                if (name[k] < '0' || name[k] > '9')
                    digits = false;
            if (digits) {
                idx = 0;
                for (k = 0; k < nl && idx < 100000; k++)
                    idx = idx * 10 + (name[k] - '0');
            } else {
                char nm[128];
                int r;

                if (nl < sizeof(nm)) {
                    xmemcpy(nm, name, nl);
                    nm[nl] = '\0';
                    r = pcre2_substring_number_from_name(c->code, (PCRE2_SPTR)nm);
                    if (r >= 0)
                        idx = r;
                }
            }
        }
        if (idx >= 0 && (uint64_t)idx < ng && ov[2 * idx] != PCRE2_UNSET)
            vouch_sb_put(&c->b, c->s->u.s + ov[2 * idx], ov[2 * idx + 1] - ov[2 * idx]);
        i = j;
    }
    (void)ev;
}

static int repl_fn(struct ev *ev, void *ctx, const PCRE2_SIZE *ov, uint32_t ng)
{
    struct repl_ctx *c = ctx;

    vouch_sb_put(&c->b, c->s->u.s + c->last, ov[0] - c->last);
    expand(ev, c, ov, ng);
    c->last = ov[1];
    return BI_OK;
}

BI(bi_regex_replace)
{
    const char *msg;
    struct repl_ctx c;
    int rc;

    PAT(0);
    PAT(1);
    PAT(2);
    c.s = a[0];
    c.tmpl = a[2];
    c.last = 0;
    c.code = rx_get(ev, a[1], &msg);
    if (!c.code)
        return vouch_bi_fail(ev, BI_ERR, "%s", msg);
    vouch_sb_init(&c.b, ev);
    if ((rc = rx_all(ev, c.code, a[0], -1, repl_fn, &c)))
        return rc;
    vouch_sb_put(&c.b, a[0]->u.s + c.last, a[0]->n - c.last);
    *ret = vouch_sb_val(&c.b);
    return BI_OK;
}

/* regex.template_match(template, value, delim_start, delim_end): the parts
 * between the delimiters are regular expressions, the rest literal. */
BI(bi_regex_template_match)
{
    const struct rval *t = a[0];
    struct sbuf p;
    size_t i = 0;
    const char *msg;
    pcre2_code *code;
    pcre2_match_data *md;
    int rc, err = 0;
    char ds, de;

    PAT(0);
    PAT(1);
    PAT(2);
    PAT(3);
    if (a[2]->n != 1 || a[3]->n != 1)
        return vouch_bi_fail(ev, BI_ERR, "delimiters must be single characters");
    ds = a[2]->u.s[0];
    de = a[3]->u.s[0];
    vouch_sb_init(&p, ev);
    vouch_sb_putc(&p, '^');
    while (i < t->n) {
        if (t->u.s[i] == ds) {
            size_t j = i + 1;
            int depth = 1;

            while (j < t->n && depth) {
                if (t->u.s[j] == ds)
                    depth++;
                else if (t->u.s[j] == de)
                    depth--;
                j++;
            }
            if (depth)
                return vouch_bi_fail(ev, BI_ERR, "unbalanced braces in template");
            vouch_sb_putc(&p, '(');
            vouch_sb_put(&p, t->u.s + i + 1, j - i - 2);
            vouch_sb_putc(&p, ')');
            i = j;
            continue;
        }
        if (strchr("\\.+*?()|[]{}^$", t->u.s[i]))
            vouch_sb_putc(&p, '\\');
        vouch_sb_putc(&p, t->u.s[i++]);
    }
    vouch_sb_putc(&p, '$');
    code = rx_get(ev, vouch_sb_val(&p), &msg);
    if (!code)
        return vouch_bi_fail(ev, BI_ERR, "%s", msg);
    md = pcre2_match_data_create_from_pattern(code, rx_state(ev)->gctx);
    if (!md)
        vouch_ra_fail(ev->a);
    rc = rx_test(ev, code, a[1], md, &err);
    if (rc < 0)
        return rx_fail(ev, err);
    *ret = RV_BOOL(rc == 1);
    return BI_OK;
}

const struct builtin vouch_bi_regex_table[] = {
    { "regex.match", 2, 0, bi_regex_match },
    { "re_match", 2, 0, bi_regex_match },
    { "regex.is_valid", 1, 0, bi_regex_is_valid },
    { "regex.split", 2, 0, bi_regex_split },
    { "regex.find_n", 3, 0, bi_regex_find_n },
    { "regex.find_all_string_submatch_n", 3, 0, bi_regex_find_all_submatch },
    { "regex.replace", 3, 0, bi_regex_replace },
    { "regex.template_match", 4, 0, bi_regex_template_match },
};

const size_t vouch_bi_regex_count = sizeof(vouch_bi_regex_table) / sizeof(vouch_bi_regex_table[0]);
