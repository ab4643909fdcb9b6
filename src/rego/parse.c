/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rego lexer and recursive-descent parser, for both grammars: v1 (keywords
 * always on, `if` before bodies) and v0 (keywords enabled by
 * `import future.keywords...` or `import rego.v1`, bodies in braces).
 * Operators become calls of their builtins (plus, equal, ...), as in OPA.
 * Errors jump out with the byte offset and a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rego/ast.h"

enum tok {
    TK_EOF,
    TK_IDENT,
    TK_NUMBER,
    TK_STRING,
    TK_RAWSTRING,
    TK_TEMPLATE,   /* $" ... " : the token covers the whole literal */
    TK_RAWTEMPLATE, /* $` ... ` */
    TK_ASSIGN,     /* := */
    TK_UNIFY,      /* = */
    TK_EQ,         /* == */
    TK_NEQ,
    TK_LT,
    TK_LTE,
    TK_GT,
    TK_GTE,
    TK_PLUS,
    TK_MINUS,
    TK_MUL,
    TK_QUO,
    TK_REM,
    TK_AND,
    TK_OR,
    TK_DOT,
    TK_COMMA,
    TK_SEMI,
    TK_COLON,
    TK_LPAREN,
    TK_RPAREN,
    TK_LBRACK,
    TK_RBRACK,
    TK_LBRACE,
    TK_RBRACE,
};

struct token {
    enum tok t;
    uint32_t pos, len;
    bool nl;   /* a newline between the previous token and this one */
    bool ws;   /* any whitespace (or comment) before this one */
};

enum {
    KW_IN = 1,
    KW_EVERY = 2,
    KW_IF = 4,
    KW_CONTAINS = 8,
    KW_ALL = 15,
};

#define MAX_NEST 200

struct ps {
    struct rarena *a;
    const char *src;
    size_t len;
    size_t p;             /* lexer position */
    struct token tok;     /* current token */
    struct token prev;
    unsigned kw;
    bool v0;              /* v0 semantics for `p[x] { }` */
    unsigned nest;        /* inside ( ) or [ ] or a composite: newlines do not end expressions */
    bool no_or;           /* do not take `|` as an operator (comprehension heads) */
    bool allow_kv;        /* `k, v in c` may start here (statements, parentheses) */
    unsigned ntmpl;       /* template expressions so far (unique variable names) */
    unsigned depth;
    jmp_buf jb;
    uint32_t errpos;
    char *msg;
    size_t msgsize;
};

static _Noreturn void fail(struct ps *ps, uint32_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static _Noreturn void fail(struct ps *ps, uint32_t pos, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ps->msg, ps->msgsize, fmt, ap);
    va_end(ap);
    ps->errpos = pos;
    longjmp(ps->jb, 1);
}

void vouch_rego_line_col(const char *src, size_t len, uint32_t pos, uint32_t *ret_line,
                         uint32_t *ret_col)
{
    uint32_t line = 1, col = 1;
    size_t i;

    for (i = 0; i < pos && i < len; i++) {
        if (src[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    *ret_line = line;
    *ret_col = col;
}

/* ---- lexer ---- */

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static size_t scan_raw_template(struct ps *ps, size_t q, unsigned depth);

/*
 * The closing quote of a string (or template) whose body starts at q.
 * Inside a template's {expression}, braces nest and strings are skipped
 * whole, so quotes inside them do not end the template.
 */
static size_t scan_string(struct ps *ps, size_t q, bool tmpl, unsigned depth)
{
    const char *s = ps->src;
    size_t n = ps->len, start = q;
    unsigned brace = 0;

    if (depth > MAX_NEST)
        fail(ps, (uint32_t)q, "rego_parse_error: nesting too deep");
    while (q < n) {
        char c = s[q];

        if (c == '\\') {
            q += 2;
            continue;
        }
        if (!brace) {
            if (c == '"')
                return q;
            if (c == '\n' && !tmpl)
                break;
            if (tmpl && c == '{')
                brace++;
            q++;
            continue;
        }
        if (c == '{') {
            brace++;
        } else if (c == '}') {
            brace--;
        } else if (c == '"') {
            q = scan_string(ps, q + 1, false, depth + 1);
        } else if (c == '$' && q + 1 < n && s[q + 1] == '"') {
            q = scan_string(ps, q + 2, true, depth + 1);
        } else if (c == '$' && q + 1 < n && s[q + 1] == '`') {
            q = scan_raw_template(ps, q + 2, depth + 1);
        } else if (c == '`') {
            q++;
            while (q < n && s[q] != '`')
                q++;
        }
        q++;
    }
    fail(ps, (uint32_t)(start ? start - 1 : 0), "rego_parse_error: non-terminated string");
}

/* The closing backtick of a raw template $`...`: braces nest, and strings
 * and templates inside an embedded expression are skipped whole. */
static size_t scan_raw_template(struct ps *ps, size_t q, unsigned depth)
{
    const char *s = ps->src;
    size_t n = ps->len, start = q;
    unsigned brace = 0;

    if (depth > MAX_NEST)
        fail(ps, (uint32_t)q, "rego_parse_error: nesting too deep");
    while (q < n) {
        char c = s[q];

        if (!brace) {
            if (c == '`')
                return q;
            if (c == '\\' && q + 1 < n && s[q + 1] == '{') {
                q += 2;
                continue;
            }
            if (c == '{')
                brace++;
            q++;
            continue;
        }
        if (c == '{') {
            brace++;
        } else if (c == '}') {
            brace--;
        } else if (c == '"') {
            q = scan_string(ps, q + 1, false, depth + 1);
        } else if (c == '$' && q + 1 < n && s[q + 1] == '"') {
            q = scan_string(ps, q + 2, true, depth + 1);
        } else if (c == '$' && q + 1 < n && s[q + 1] == '`') {
            q = scan_raw_template(ps, q + 2, depth + 1);
        } else if (c == '`') {
            q++;
            while (q < n && s[q] != '`')
                q++;
        }
        q++;
    }
    fail(ps, (uint32_t)(start ? start - 2 : 0), "rego_parse_error: non-terminated raw template");
}

/* Skip blanks and comments from p; note in t whether any (and a newline) were seen. */
static size_t skip_blank(const struct ps *ps, size_t p, struct token *t)
{
    const char *s = ps->src;
    size_t n = ps->len;

    while (p < n) {
        if (s[p] == '\n') {
            t->nl = true;
            t->ws = true;
            p++;
        } else if (s[p] == ' ' || s[p] == '\t' || s[p] == '\r') {
            t->ws = true;
            p++;
        } else if (s[p] == '#') {
            while (p < n && s[p] != '\n')
                p++;
            t->ws = true;
        } else {
            break;
        }
    }
    return p;
}

static size_t skip_digits(const char *s, size_t q, size_t n)
{
    while (q < n && s[q] >= '0' && s[q] <= '9')
        q++;
    return q;
}

/* A number at p (digits, optional fraction and exponent); returns its end. */
static size_t scan_number(struct ps *ps, size_t p)
{
    const char *s = ps->src;
    size_t n = ps->len, q = skip_digits(s, p, n);

    if (q + 1 < n && s[q] == '.' && s[q + 1] >= '0' && s[q + 1] <= '9')
        q = skip_digits(s, q + 1, n);
    if (q < n && (s[q] == 'e' || s[q] == 'E')) {
        size_t r = q + 1;

        if (r < n && (s[r] == '+' || s[r] == '-'))
            r++;
        if (r < n && s[r] >= '0' && s[r] <= '9')
            q = skip_digits(s, r, n);
    }
    if (q < n && is_ident_start(s[q]))
        fail(ps, (uint32_t)q, "rego_parse_error: invalid number");
    return q;
}

/* A `raw string` at p; returns the index of its closing backquote. */
static size_t scan_raw_string(struct ps *ps, size_t p)
{
    size_t q = p + 1;

    while (q < ps->len && ps->src[q] != '`')
        q++;
    if (q >= ps->len)
        fail(ps, (uint32_t)p, "rego_parse_error: non-terminated raw string");
    return q;
}

/* An operator or punctuation at p: its token type; returns its length. */
static uint32_t scan_punct(struct ps *ps, size_t p, enum tok *ret)
{
    const char *s = ps->src;
    bool eq_next = p + 1 < ps->len && s[p + 1] == '=';

    switch (s[p]) {
    case ':': *ret = eq_next ? TK_ASSIGN : TK_COLON; return eq_next ? 2 : 1;
    case '=': *ret = eq_next ? TK_EQ : TK_UNIFY; return eq_next ? 2 : 1;
    case '<': *ret = eq_next ? TK_LTE : TK_LT; return eq_next ? 2 : 1;
    case '>': *ret = eq_next ? TK_GTE : TK_GT; return eq_next ? 2 : 1;
    case '!':
        if (!eq_next)
            fail(ps, (uint32_t)p, "rego_parse_error: unexpected '!'");
        *ret = TK_NEQ;
        return 2;
    case '+': *ret = TK_PLUS; return 1;
    case '-': *ret = TK_MINUS; return 1;
    case '*': *ret = TK_MUL; return 1;
    case '/': *ret = TK_QUO; return 1;
    case '%': *ret = TK_REM; return 1;
    case '&': *ret = TK_AND; return 1;
    case '|': *ret = TK_OR; return 1;
    case '.': *ret = TK_DOT; return 1;
    case ',': *ret = TK_COMMA; return 1;
    case ';': *ret = TK_SEMI; return 1;
    case '(': *ret = TK_LPAREN; return 1;
    case ')': *ret = TK_RPAREN; return 1;
    case '[': *ret = TK_LBRACK; return 1;
    case ']': *ret = TK_RBRACK; return 1;
    case '{': *ret = TK_LBRACE; return 1;
    case '}': *ret = TK_RBRACE; return 1;
    default:
        fail(ps, (uint32_t)p, "rego_parse_error: unexpected character '%c'",
             (s[p] >= 0x20 && s[p] < 0x7f) ? s[p] : '?');
    }
}

/* The next token: ps->tok becomes it (ps->prev the one before). */
static void lex(struct ps *ps)
{
    const char *s = ps->src;
    size_t n = ps->len, p, end;
    struct token t = { 0 };

    ps->prev = ps->tok;
    p = skip_blank(ps, ps->p, &t);
    t.pos = (uint32_t)p;
    if (p >= n) {
        t.t = TK_EOF;
        end = p;
    } else if (is_ident_start(s[p])) {
        t.t = TK_IDENT;
        for (end = p; end < n && is_ident_char(s[end]); end++)
            ;
    } else if (s[p] >= '0' && s[p] <= '9') {
        t.t = TK_NUMBER;
        end = scan_number(ps, p);
    } else if (s[p] == '"' || (s[p] == '$' && p + 1 < n && s[p + 1] == '"')) {
        bool tmpl = s[p] == '$';

        t.t = tmpl ? TK_TEMPLATE : TK_STRING;
        end = scan_string(ps, p + (tmpl ? 2 : 1), tmpl, 0) + 1;
    } else if (s[p] == '$' && p + 1 < n && s[p + 1] == '`') {
        t.t = TK_RAWTEMPLATE;
        end = scan_raw_template(ps, p + 2, 0) + 1;
    } else if (s[p] == '`') {
        t.t = TK_RAWSTRING;
        end = scan_raw_string(ps, p) + 1;
    } else {
        end = p + scan_punct(ps, p, &t.t);
    }
    t.len = (uint32_t)(end - p);
    ps->p = end;
    ps->tok = t;
}

struct lexstate {
    size_t p;
    struct token tok, prev;
};

static void save(struct ps *ps, struct lexstate *ls)
{
    ls->p = ps->p;
    ls->tok = ps->tok;
    ls->prev = ps->prev;
}

static void restore(struct ps *ps, const struct lexstate *ls)
{
    ps->p = ls->p;
    ps->tok = ls->tok;
    ps->prev = ls->prev;
}

/* The token after the current one, without consuming anything. */
static struct token peek(struct ps *ps)
{
    struct lexstate ls;
    struct token t;

    save(ps, &ls);
    lex(ps);
    t = ps->tok;
    restore(ps, &ls);
    return t;
}

static bool tok_is(const struct ps *ps, const struct token *t, const char *word)
{
    size_t n = strlen(word);

    return t->t == TK_IDENT && t->len == n && memcmp(ps->src + t->pos, word, n) == 0;
}

static bool at_word(const struct ps *ps, const char *word)
{
    return tok_is(ps, &ps->tok, word);
}

/* A keyword token followed directly by '.' is a reference, not a keyword
 * (`as.foo`, `true.bar` name rules). */
static bool followed_by_dot(struct ps *ps)
{
    struct token t = peek(ps);

    return t.t == TK_DOT && !t.ws;
}

static bool at_kw(struct ps *ps, const char *word)
{
    return at_word(ps, word) && !followed_by_dot(ps);
}

static bool at_kw_on(struct ps *ps, const char *word, unsigned flag)
{
    return (ps->kw & flag) && at_kw(ps, word);
}

static void expect(struct ps *ps, enum tok t, const char *what)
{
    if (ps->tok.t != t)
        fail(ps, ps->tok.pos, "rego_parse_error: expected %s", what);
    lex(ps);
}

/* ---- term construction ---- */

static struct term *new_term(struct ps *ps, uint8_t kind, uint32_t pos)
{
    struct term *t = vouch_ra_xcalloc(ps->a, 1, sizeof(*t));

    t->kind = kind;
    t->pos = pos;
    t->u.c.node = NULL;
    return t;
}

static struct term *const_term(struct ps *ps, const struct rval *v, uint32_t pos)
{
    struct term *t = new_term(ps, T_CONST, pos);

    t->u.val = v;
    return t;
}

static struct term *var_term(struct ps *ps, const char *name, uint32_t len, uint32_t pos)
{
    struct term *t = new_term(ps, T_VAR, pos);

    t->u.var.name = name;
    t->u.var.len = len;
    t->u.var.kind = (len == 1 && name[0] == '_') ? V_WILD : V_UNRESOLVED;
    return t;
}

static struct term *items_term(struct ps *ps, uint8_t kind, uint32_t pos, struct ra_vec *v)
{
    struct term *t = new_term(ps, kind, pos);

    t->u.c.items = (struct term **)v->v;
    t->n = v->n;
    return t;
}

/* A call of a builtin operator: name is a dotted builtin name. */
static struct term *op_call(struct ps *ps, const char *name, uint32_t pos, struct term *x,
                            struct term *y)
{
    struct ra_vec v = { 0 };

    {
        struct term *f = var_term(ps, name, (uint32_t)strlen(name), pos);

        f->pad = 1;   /* an operator: always the builtin */
        vouch_ra_vec_push(ps->a, &v, f);
    }
    vouch_ra_vec_push(ps->a, &v, x);
    if (y)
        vouch_ra_vec_push(ps->a, &v, y);
    return items_term(ps, T_CALL, pos, &v);
}

static const struct rval *str_val(struct ps *ps, const struct token *t)
{
    const char *err = "bad string", *end;
    const struct rval *v;

    if (t->t == TK_RAWSTRING)
        return vouch_rv_str(ps->a, ps->src + t->pos + 1, t->len - 2);
    if (vouch_rv_json_string(ps->a, ps->src + t->pos + 1, ps->src + t->pos + t->len, &end, &v,
                             &err))
        fail(ps, (uint32_t)(end - ps->src), "rego_parse_error: %s", err);
    return v;
}

/* ---- expressions ---- */

static struct term *parse_in(struct ps *ps);
static struct body *parse_braced_body(struct ps *ps);
static struct body *parse_body_until(struct ps *ps, enum tok close);
static struct term *parse_template(struct ps *ps, const struct token *t);
static struct expr *new_expr(struct ps *ps, uint8_t kind, uint32_t pos);

static void enter(struct ps *ps, uint32_t pos)
{
    if (++ps->depth > MAX_NEST)
        fail(ps, pos, "rego_parse_error: nesting too deep");
}

static void leave(struct ps *ps)
{
    ps->depth--;
}

/* Arguments in ( ... ), the opening paren is current. */
/* The context flags that brackets change, saved on the way in. */
struct scope {
    unsigned nest;
    bool no_or, allow_kv;
};

/* Enter brackets: one level deeper, `key: value` not allowed inside. */
static struct scope scope_enter(struct ps *ps)
{
    struct scope sc = { ps->nest, ps->no_or, ps->allow_kv };

    ps->nest++;
    ps->allow_kv = false;
    return sc;
}

static void scope_leave(struct ps *ps, struct scope sc)
{
    ps->nest = sc.nest;
    ps->no_or = sc.no_or;
    ps->allow_kv = sc.allow_kv;
}

static void parse_args(struct ps *ps, struct ra_vec *v)
{
    struct scope sc = scope_enter(ps);

    ps->no_or = false;
    lex(ps);
    while (ps->tok.t != TK_RPAREN) {
        vouch_ra_vec_push(ps->a, v, parse_in(ps));
        if (ps->tok.t != TK_COMMA)
            break;
        lex(ps);
    }
    scope_leave(ps, sc);
    expect(ps, TK_RPAREN, "')'");
}

/*
 * After the first element of an array or a set: a comprehension
 * (`first | body`) or the rest of the items, up to `close` (']' or '}').
 */
static struct term *items_or_comprehension(struct ps *ps, struct scope sc, uint32_t pos,
                                           struct term *first, enum tok close,
                                           uint8_t comp_kind, uint8_t items_kind)
{
    struct ra_vec v = { 0 };
    bool brack = close == TK_RBRACK;
    struct term *t;

    ps->no_or = false;
    if (ps->tok.t == TK_OR) {
        lex(ps);
        t = new_term(ps, comp_kind, pos);
        t->u.comp.val = first;
        t->u.comp.body = parse_body_until(ps, close);
        scope_leave(ps, sc);
        expect(ps, close, brack ? "']'" : "'}'");
        return t;
    }
    vouch_ra_vec_push(ps->a, &v, first);
    while (ps->tok.t == TK_COMMA) {
        lex(ps);
        if (ps->tok.t == close)
            break;
        vouch_ra_vec_push(ps->a, &v, parse_in(ps));
    }
    scope_leave(ps, sc);
    expect(ps, close, brack ? "']' or ','" : "'}' or ','");
    return items_term(ps, items_kind, pos, &v);
}

/* [ ... ] after the opening bracket: an array or array comprehension. */
static struct term *parse_array(struct ps *ps, uint32_t pos)
{
    struct ra_vec v = { 0 };
    struct scope sc = scope_enter(ps);

    lex(ps);
    if (ps->tok.t == TK_RBRACK) {
        scope_leave(ps, sc);
        lex(ps);
        return items_term(ps, T_ARR, pos, &v);
    }
    ps->no_or = true;
    return items_or_comprehension(ps, sc, pos, parse_in(ps), TK_RBRACK, T_ACOMP, T_ARR);
}

/* { ... } after the opening brace: object, set or a comprehension. */
static struct term *parse_brace(struct ps *ps, uint32_t pos)
{
    struct ra_vec v = { 0 };
    struct scope sc = scope_enter(ps);
    struct term *t, *first, *val;

    lex(ps);
    if (ps->tok.t == TK_RBRACE) {
        scope_leave(ps, sc);
        lex(ps);
        return items_term(ps, T_OBJ, pos, &v);
    }
    ps->no_or = true;
    first = parse_in(ps);
    if (ps->tok.t != TK_COLON)
        return items_or_comprehension(ps, sc, pos, first, TK_RBRACE, T_SCOMP, T_SET);
    lex(ps);
    val = parse_in(ps);
    ps->no_or = false;
    if (ps->tok.t == TK_OR) {
        lex(ps);
        t = new_term(ps, T_OCOMP, pos);
        t->u.comp.key = first;
        t->u.comp.val = val;
        t->u.comp.body = parse_body_until(ps, TK_RBRACE);
        scope_leave(ps, sc);
        expect(ps, TK_RBRACE, "'}'");
        return t;
    }
    vouch_ra_vec_push(ps->a, &v, first);
    vouch_ra_vec_push(ps->a, &v, val);
    while (ps->tok.t == TK_COMMA) {
        lex(ps);
        if (ps->tok.t == TK_RBRACE)
            break;
        vouch_ra_vec_push(ps->a, &v, parse_in(ps));
        expect(ps, TK_COLON, "':'");
        vouch_ra_vec_push(ps->a, &v, parse_in(ps));
    }
    scope_leave(ps, sc);
    expect(ps, TK_RBRACE, "'}' or ','");
    return items_term(ps, T_OBJ, pos, &v);
}

static bool is_reserved(struct ps *ps, const struct token *t)
{
    static const char *const always[] = { "as", "default", "else", "import", "not", "package",
                                          "some", "with", NULL };
    size_t i;

    for (i = 0; always[i]; i++)
        if (tok_is(ps, t, always[i]))
            return true;
    if ((ps->kw & KW_IN) && tok_is(ps, t, "in"))
        return true;
    if ((ps->kw & KW_EVERY) && tok_is(ps, t, "every"))
        return true;
    if ((ps->kw & KW_IF) && tok_is(ps, t, "if"))
        return true;
    if ((ps->kw & KW_CONTAINS) && tok_is(ps, t, "contains"))
        return true;
    return false;
}

/* Reference suffixes and calls after a primary term. */
static struct term *parse_postfix(struct ps *ps, struct term *t)
{
    for (;;) {
        if (ps->tok.t == TK_DOT && !ps->tok.ws) {
            struct token id;
            struct term *key;

            lex(ps);
            if (ps->tok.t != TK_IDENT || ps->tok.ws)
                fail(ps, ps->tok.pos, "rego_parse_error: expected a name after '.'");
            id = ps->tok;
            key = const_term(ps, vouch_rv_str(ps->a, ps->src + id.pos, id.len), id.pos);
            if (t->kind != T_REF) {
                struct ra_vec v = { 0 };

                vouch_ra_vec_push(ps->a, &v, t);
                t = items_term(ps, T_REF, t->pos, &v);
            }
            {
                struct ra_vec v = { (void **)t->u.c.items, t->n, t->n };

                vouch_ra_vec_push(ps->a, &v, key);
                t->u.c.items = (struct term **)v.v;
                t->n = v.n;
            }
            lex(ps);
            continue;
        }
        if (ps->tok.t == TK_LBRACK && !ps->tok.ws) {
            unsigned nest = ps->nest;
            bool no_or = ps->no_or;
            struct term *key;

            bool kv = ps->allow_kv;

            ps->nest = nest + 1;
            ps->no_or = false;
            ps->allow_kv = false;
            lex(ps);
            key = parse_in(ps);
            ps->nest = nest;
            ps->no_or = no_or;
            ps->allow_kv = kv;
            expect(ps, TK_RBRACK, "']'");
            if (t->kind != T_REF) {
                struct ra_vec v = { 0 };

                vouch_ra_vec_push(ps->a, &v, t);
                t = items_term(ps, T_REF, t->pos, &v);
            }
            {
                struct ra_vec v = { (void **)t->u.c.items, t->n, t->n };

                vouch_ra_vec_push(ps->a, &v, key);
                t->u.c.items = (struct term **)v.v;
                t->n = v.n;
            }
            continue;
        }
        if (ps->tok.t == TK_LPAREN && !ps->tok.ws &&
            (t->kind == T_VAR || (t->kind == T_REF && t->u.c.items[0]->kind == T_VAR))) {
            struct ra_vec v = { 0 };
            uint32_t i;

            /* The callee must be a plain dotted name. */
            if (t->kind == T_REF)
                for (i = 1; i < t->n; i++)
                    if (t->u.c.items[i]->kind != T_CONST ||
                        t->u.c.items[i]->u.val->t != RT_STR)
                        fail(ps, t->pos, "rego_parse_error: invalid function name");
            vouch_ra_vec_push(ps->a, &v, t);
            parse_args(ps, &v);
            /* set() is the empty set */
            if (t->kind == T_VAR && v.n == 1 && t->u.var.len == 3 &&
                memcmp(t->u.var.name, "set", 3) == 0) {
                struct ra_vec e = { 0 };

                t = items_term(ps, T_SET, t->pos, &e);
                continue;
            }
            t = items_term(ps, T_CALL, t->pos, &v);
            continue;
        }
        return t;
    }
}

static struct term *parse_primary(struct ps *ps)
{
    struct token t = ps->tok;
    struct term *r = NULL;

    enter(ps, t.pos);
    switch (t.t) {
    case TK_NUMBER: {
        const struct rval *v = vouch_rv_num_text(ps->a, ps->src + t.pos, t.len);

        if (!v)
            fail(ps, t.pos, "rego_parse_error: invalid number");
        lex(ps);
        r = const_term(ps, v, t.pos);
        break;
    }
    case TK_STRING:
    case TK_RAWSTRING:
        r = const_term(ps, str_val(ps, &t), t.pos);
        lex(ps);
        break;
    case TK_TEMPLATE:
    case TK_RAWTEMPLATE:
        lex(ps);
        r = parse_template(ps, &t);
        break;
    case TK_IDENT:
        if (!followed_by_dot(ps)) {
            if (tok_is(ps, &t, "true") || tok_is(ps, &t, "false") || tok_is(ps, &t, "null")) {
                r = const_term(ps, tok_is(ps, &t, "true")    ? RV_TRUE
                                   : tok_is(ps, &t, "false") ? RV_FALSE
                                                             : RV_NULL,
                               t.pos);
                lex(ps);
                break;
            }
            if (is_reserved(ps, &t)) {
                struct token nx = peek(ps);

                /* a builtin named like a keyword: contains(s, x) */
                if (!(nx.t == TK_LPAREN && !nx.ws))
                    fail(ps, t.pos, "rego_parse_error: unexpected keyword '%.*s'", (int)t.len,
                         ps->src + t.pos);
            }
        }
        r = var_term(ps, ps->src + t.pos, t.len, t.pos);
        lex(ps);
        break;
    case TK_LBRACK:
        r = parse_array(ps, t.pos);
        break;
    case TK_LBRACE:
        r = parse_brace(ps, t.pos);
        break;
    case TK_LPAREN: {
        unsigned nest = ps->nest;
        bool no_or = ps->no_or;

        bool kv = ps->allow_kv;

        ps->nest = nest + 1;
        ps->no_or = false;
        ps->allow_kv = true;
        lex(ps);
        r = parse_in(ps);
        ps->nest = nest;
        ps->no_or = no_or;
        ps->allow_kv = kv;
        expect(ps, TK_RPAREN, "')'");
        break;
    }
    case TK_MINUS: {
        struct token nx = peek(ps);

        lex(ps);
        if (nx.t == TK_NUMBER && !nx.ws) {
            const struct rval *v =
                vouch_rv_num_text(ps->a, ps->src + t.pos, nx.pos + nx.len - t.pos);

            if (!v)
                fail(ps, t.pos, "rego_parse_error: invalid number");
            lex(ps);
            r = const_term(ps, v, t.pos);
            break;
        }
        r = parse_primary(ps);
        r = op_call(ps, "minus", t.pos, const_term(ps, vouch_rv_int(ps->a, 0), t.pos), r);
        leave(ps);
        return r;
    }
    case TK_EOF:
        fail(ps, t.pos, "rego_parse_error: unexpected end of input");
    default:
        fail(ps, t.pos, "rego_parse_error: unexpected '%.*s'", (int)t.len, ps->src + t.pos);
    }
    r = parse_postfix(ps, r);
    leave(ps);
    return r;
}

/* A binary operator continues the expression unless it starts a new line
 * outside brackets. */
static bool op_here(struct ps *ps)
{
    return !(ps->tok.nl && ps->nest == 0);
}

static struct term *parse_factor(struct ps *ps)
{
    struct term *l = parse_primary(ps);

    while (op_here(ps) &&
           (ps->tok.t == TK_MUL || ps->tok.t == TK_QUO || ps->tok.t == TK_REM)) {
        struct token op = ps->tok;
        const char *name = op.t == TK_MUL ? "mul" : op.t == TK_QUO ? "div" : "rem";

        lex(ps);
        l = op_call(ps, name, op.pos, l, parse_primary(ps));
    }
    return l;
}

static struct term *parse_arith(struct ps *ps)
{
    struct term *l = parse_factor(ps);

    while (op_here(ps) && (ps->tok.t == TK_PLUS || ps->tok.t == TK_MINUS)) {
        struct token op = ps->tok;

        lex(ps);
        l = op_call(ps, op.t == TK_PLUS ? "plus" : "minus", op.pos, l, parse_factor(ps));
    }
    return l;
}

static struct term *parse_and(struct ps *ps)
{
    struct term *l = parse_arith(ps);

    while (op_here(ps) && ps->tok.t == TK_AND) {
        struct token op = ps->tok;

        lex(ps);
        l = op_call(ps, "and", op.pos, l, parse_arith(ps));
    }
    return l;
}

static struct term *parse_or(struct ps *ps)
{
    struct term *l = parse_and(ps);

    while (op_here(ps) && ps->tok.t == TK_OR && !ps->no_or) {
        struct token op = ps->tok;

        lex(ps);
        l = op_call(ps, "or", op.pos, l, parse_and(ps));
    }
    return l;
}

static struct term *parse_rel(struct ps *ps)
{
    struct term *l = parse_or(ps);

    for (;;) {
        struct token op = ps->tok;
        const char *name;

        if (!op_here(ps))
            return l;
        switch (op.t) {
        case TK_EQ: name = "equal"; break;
        case TK_NEQ: name = "neq"; break;
        case TK_LT: name = "lt"; break;
        case TK_LTE: name = "lte"; break;
        case TK_GT: name = "gt"; break;
        case TK_GTE: name = "gte"; break;
        default:
            return l;
        }
        lex(ps);
        l = op_call(ps, name, op.pos, l, parse_or(ps));
    }
}

static struct term *parse_in(struct ps *ps)
{
    struct term *l = parse_rel(ps);

    if (ps->allow_kv && ps->tok.t == TK_COMMA && (ps->kw & KW_IN)) {
        /* `k, v in coll`, if an `in` follows the second term */
        struct lexstate ls;
        struct term *v;
        bool allow = ps->allow_kv;

        save(ps, &ls);
        lex(ps);
        ps->allow_kv = false;
        v = parse_rel(ps);
        ps->allow_kv = allow;
        if (op_here(ps) && at_kw_on(ps, "in", KW_IN)) {
            struct token op = ps->tok;
            struct ra_vec args = { 0 };
            struct term *f = var_term(ps, "internal.member_3", 17, op.pos);

            lex(ps);
            f->pad = 1;
            vouch_ra_vec_push(ps->a, &args, f);
            vouch_ra_vec_push(ps->a, &args, l);
            vouch_ra_vec_push(ps->a, &args, v);
            vouch_ra_vec_push(ps->a, &args, parse_rel(ps));
            l = items_term(ps, T_CALL, op.pos, &args);
        } else {
            restore(ps, &ls);
            return l;
        }
    }
    while (op_here(ps) && at_kw_on(ps, "in", KW_IN)) {
        struct token op = ps->tok;

        lex(ps);
        l = op_call(ps, "internal.member_2", op.pos, l, parse_rel(ps));
    }
    return l;
}

/* $"text {expr} text" (or the raw $`...`): alternating literal strings
 * and, for each {expr}, the comprehension [v | v = expr] whose one value
 * the evaluator prints (or <undefined>). */
static struct expr *parse_literal(struct ps *ps);

static struct term *parse_template(struct ps *ps, const struct token *t)
{
    const char *s = ps->src;
    bool raw = t->t == TK_RAWTEMPLATE;
    uint32_t p = t->pos + 2, end = t->pos + t->len - 1;
    struct ra_vec items = { 0 };
    char *lit = vouch_ra_xalloc(ps->a, t->len + 2);
    size_t litlen = 0;

    while (p <= end) {
        if (p == end || s[p] == '{') {
            const struct rval *v;
            const char *err = NULL, *e2;
            struct lexstate ls;
            unsigned nest = ps->nest;
            bool no_or = ps->no_or, kv = ps->allow_kv;
            struct expr *e, *u;
            struct term *c, *var;
            struct body *b;
            char *name;
            int nl;

            if (raw) {
                v = vouch_rv_str(ps->a, lit, litlen);
            } else {
                lit[litlen] = '"';
                if (vouch_rv_json_string(ps->a, lit, lit + litlen + 1, &e2, &v, &err))
                    fail(ps, p, "rego_parse_error: %s", err);
            }
            litlen = 0;
            vouch_ra_vec_push(ps->a, &items, const_term(ps, v, p));
            if (p == end)
                break;
            /* the embedded expression (with its `with`s), up to its brace */
            save(ps, &ls);
            ps->p = p + 1;
            ps->nest = 1;
            ps->no_or = false;
            ps->allow_kv = false;
            lex(ps);
            e = parse_literal(ps);
            if (ps->tok.t != TK_RBRACE)
                fail(ps, ps->tok.pos, "rego_parse_error: expected '}' in template");
            if (e->kind != E_TERM)
                fail(ps, e->pos, "rego_parse_error: template expressions must be terms");
            p = ps->tok.pos + 1;
            restore(ps, &ls);
            ps->nest = nest;
            ps->no_or = no_or;
            ps->allow_kv = kv;
            name = vouch_ra_xalloc(ps->a, 24);
            nl = snprintf(name, 24, "__tmpl%u", ps->ntmpl++);
            c = new_term(ps, T_ACOMP, e->pos);
            b = vouch_ra_xcalloc(ps->a, 1, sizeof(*b));
            u = new_expr(ps, E_UNIFY, e->pos);
            var = var_term(ps, name, (uint32_t)nl, e->pos);
            u->a = var;
            u->b = e->a;
            u->with = e->with;
            u->nwith = e->nwith;
            b->ex = vouch_ra_xalloc(ps->a, sizeof(*b->ex));
            b->ex[0] = u;
            b->n = 1;
            c->u.comp.val = var_term(ps, name, (uint32_t)nl, e->pos);
            c->u.comp.body = b;
            vouch_ra_vec_push(ps->a, &items, c);
            continue;
        }
        if (s[p] == '\\' && p + 1 < end && s[p + 1] == '{') {
            lit[litlen++] = '{';
            p += 2;
            continue;
        }
        if (!raw && s[p] == '\\' && p + 1 < end) {
            lit[litlen++] = s[p];
            lit[litlen++] = s[p + 1];
            p += 2;
            continue;
        }
        lit[litlen++] = s[p++];
    }
    return items_term(ps, T_TEMPLATE, t->pos, &items);
}

/* ---- literals and bodies ---- */

static struct expr *new_expr(struct ps *ps, uint8_t kind, uint32_t pos)
{
    struct expr *e = vouch_ra_xcalloc(ps->a, 1, sizeof(*e));

    e->kind = kind;
    e->pos = pos;
    e->value_slot = UINT32_MAX;
    return e;
}

static void parse_withs(struct ps *ps, struct expr *e)
{
    struct ra_vec v = { 0 };

    while (at_kw(ps, "with")) {
        struct with *w = vouch_ra_xcalloc(ps->a, 1, sizeof(*w));

        lex(ps);
        w->target = parse_postfix(ps, parse_primary(ps));
        if (!at_kw(ps, "as"))
            fail(ps, ps->tok.pos, "rego_parse_error: expected 'as'");
        lex(ps);
        w->value = parse_in(ps);
        vouch_ra_vec_push(ps->a, &v, w);
    }
    if (v.n) {
        struct with *arr = vouch_ra_xalloc(ps->a, v.n * sizeof(*arr));
        uint32_t i;

        for (i = 0; i < v.n; i++)
            arr[i] = *(struct with *)v.v[i];
        e->with = arr;
        e->nwith = v.n;
    }
}

static struct expr *parse_literal(struct ps *ps)
{
    struct token t = ps->tok;
    struct expr *e;

    enter(ps, t.pos);
    if (at_kw(ps, "some")) {
        struct ra_vec v = { 0 };
        bool no_or = ps->no_or;

        lex(ps);
        for (;;) {
            ps->no_or = true;
            vouch_ra_vec_push(ps->a, &v, parse_rel(ps));
            ps->no_or = no_or;
            if (ps->tok.t == TK_COMMA) {
                lex(ps);
                continue;
            }
            break;
        }
        if (at_kw_on(ps, "in", KW_IN)) {
            if (v.n > 2)
                fail(ps, t.pos, "rego_parse_error: unexpected ',' in some");
            lex(ps);
            e = new_expr(ps, E_SOME_IN, t.pos);
            e->a = v.n == 2 ? v.v[0] : NULL;
            e->b = v.v[v.n - 1];
            e->coll = parse_rel(ps);
        } else {
            uint32_t i;

            e = new_expr(ps, E_SOME_DECL, t.pos);
            for (i = 0; i < v.n; i++)
                if (((struct term *)v.v[i])->kind != T_VAR)
                    fail(ps, ((struct term *)v.v[i])->pos,
                         "rego_parse_error: expected a variable in some");
            e->decl = (struct term **)v.v;
            e->ndecl = v.n;
        }
    } else if (at_kw_on(ps, "every", KW_EVERY)) {
        struct term *k = NULL, *v;

        lex(ps);
        v = parse_rel(ps);
        if (ps->tok.t == TK_COMMA) {
            lex(ps);
            k = v;
            v = parse_rel(ps);
        }
        if (!at_kw_on(ps, "in", KW_IN))
            fail(ps, ps->tok.pos, "rego_parse_error: expected 'in' in every");
        lex(ps);
        e = new_expr(ps, E_EVERY, t.pos);
        e->a = k;
        e->b = v;
        e->coll = parse_rel(ps);
        if (ps->tok.t != TK_LBRACE)
            fail(ps, ps->tok.pos, "rego_parse_error: expected '{' after every");
        e->body = parse_braced_body(ps);
    } else if (at_kw(ps, "not")) {
        struct body *b = vouch_ra_xcalloc(ps->a, 1, sizeof(*b));

        lex(ps);
        e = new_expr(ps, E_NOT, t.pos);
        b->ex = vouch_ra_xalloc(ps->a, sizeof(*b->ex));
        b->ex[0] = parse_literal(ps);
        b->n = 1;
        if (b->ex[0]->kind != E_TERM && b->ex[0]->kind != E_UNIFY &&
            b->ex[0]->kind != E_NOT && b->ex[0]->kind != E_ASSIGN)
            fail(ps, t.pos, "rego_parse_error: unexpected expression after not");
        /* `not x with ...`: the withs belong to the negated expression */
        e->body = b;
        leave(ps);
        return e;
    } else {
        struct term *l;
        bool kv = ps->allow_kv;

        ps->allow_kv = true;
        l = parse_in(ps);
        ps->allow_kv = kv;
        if (ps->tok.t == TK_ASSIGN || ps->tok.t == TK_UNIFY) {
            e = new_expr(ps, ps->tok.t == TK_ASSIGN ? E_ASSIGN : E_UNIFY, ps->tok.pos);
            lex(ps);
            e->a = l;
            e->b = parse_in(ps);
        } else {
            e = new_expr(ps, E_TERM, t.pos);
            e->a = l;
        }
    }
    parse_withs(ps, e);
    leave(ps);
    return e;
}

static bool at_body_end(struct ps *ps, enum tok close)
{
    return ps->tok.t == close || ps->tok.t == TK_EOF;
}

/* Literals up to `close` (not consumed), separated by ; or newlines. */
static struct body *parse_body_until(struct ps *ps, enum tok close)
{
    struct ra_vec v = { 0 };
    struct body *b = vouch_ra_xcalloc(ps->a, 1, sizeof(*b));
    unsigned nest = ps->nest;
    bool no_or = ps->no_or;

    ps->nest = 0;
    ps->no_or = false;
    while (ps->tok.t == TK_SEMI)
        lex(ps);
    while (!at_body_end(ps, close)) {
        uint32_t start = ps->tok.pos;
        struct expr *e = parse_literal(ps);

        e->idx = v.n;
        e->start = start;
        e->end = ps->prev.pos + ps->prev.len;
        vouch_ra_vec_push(ps->a, &v, e);
        if (ps->tok.t == TK_SEMI) {
            while (ps->tok.t == TK_SEMI)
                lex(ps);
            continue;
        }
        if (at_body_end(ps, close) || ps->tok.nl)
            continue;
        fail(ps, ps->tok.pos, "rego_parse_error: unexpected '%.*s': expected ; or a new line",
             (int)(ps->tok.len ? ps->tok.len : 1), ps->src + ps->tok.pos);
    }
    ps->nest = nest;
    ps->no_or = no_or;
    if (!v.n && close != TK_EOF)
        fail(ps, ps->tok.pos, "rego_parse_error: empty body");
    b->ex = (struct expr **)v.v;
    b->n = v.n;
    return b;
}

static struct body *parse_braced_body(struct ps *ps)
{
    struct body *b;

    expect(ps, TK_LBRACE, "'{'");
    b = parse_body_until(ps, TK_RBRACE);
    expect(ps, TK_RBRACE, "'}'");
    return b;
}

/* `if { ... }`, `if literal`, or (v0 and lenient v1) `{ ... }`; NULL: no body. */
static struct body *parse_rule_body(struct ps *ps)
{
    if (op_here(ps) && at_kw_on(ps, "if", KW_IF)) {
        lex(ps);
        if (ps->tok.t == TK_LBRACE) {
            /* `if {` starts a body, unless it does not parse as one: then
             * it is an object/set (comprehension) as the single expression */
            struct lexstate ls;
            jmp_buf saved;
            struct body *b;
            unsigned depth = ps->depth, nest = ps->nest;

            save(ps, &ls);
            memcpy(saved, ps->jb, sizeof(saved));
            if (setjmp(ps->jb) == 0) {
                b = parse_braced_body(ps);
                memcpy(ps->jb, saved, sizeof(saved));
                return b;
            }
            memcpy(ps->jb, saved, sizeof(saved));
            restore(ps, &ls);
            ps->depth = depth;
            ps->nest = nest;
        }
        {
            struct body *b = vouch_ra_xcalloc(ps->a, 1, sizeof(*b));

            b->ex = vouch_ra_xalloc(ps->a, sizeof(*b->ex));
            b->ex[0] = parse_literal(ps);
            b->n = 1;
            return b;
        }
    }
    if (ps->tok.t == TK_LBRACE && !ps->tok.nl)
        return parse_braced_body(ps);
    return NULL;
}

/* ---- rules ---- */

static struct term *parse_head_ref(struct ps *ps)
{
    struct token t = ps->tok;
    struct term *r;

    if (t.t != TK_IDENT)
        fail(ps, t.pos, "rego_parse_error: expected a rule name");
    r = var_term(ps, ps->src + t.pos, t.len, t.pos);
    lex(ps);
    for (;;) {
        if (ps->tok.t == TK_DOT && !ps->tok.ws) {
            struct token id;

            lex(ps);
            id = ps->tok;
            if (id.t != TK_IDENT || id.ws)
                fail(ps, id.pos, "rego_parse_error: expected a name after '.'");
            if (r->kind != T_REF) {
                struct ra_vec v = { 0 };

                vouch_ra_vec_push(ps->a, &v, r);
                r = items_term(ps, T_REF, r->pos, &v);
            }
            {
                struct ra_vec v = { (void **)r->u.c.items, r->n, r->n };

                vouch_ra_vec_push(
                    ps->a, &v,
                    const_term(ps, vouch_rv_str(ps->a, ps->src + id.pos, id.len), id.pos));
                r->u.c.items = (struct term **)v.v;
                r->n = v.n;
            }
            lex(ps);
            continue;
        }
        if (ps->tok.t == TK_LBRACK && !ps->tok.ws) {
            struct term *key;
            unsigned nest = ps->nest;

            ps->nest = nest + 1;
            lex(ps);
            key = parse_in(ps);
            ps->nest = nest;
            expect(ps, TK_RBRACK, "']'");
            if (r->kind != T_REF) {
                struct ra_vec v = { 0 };

                vouch_ra_vec_push(ps->a, &v, r);
                r = items_term(ps, T_REF, r->pos, &v);
            }
            {
                struct ra_vec v = { (void **)r->u.c.items, r->n, r->n };

                vouch_ra_vec_push(ps->a, &v, key);
                r->u.c.items = (struct term **)v.v;
                r->n = v.n;
            }
            continue;
        }
        return r;
    }
}

static struct rule *new_rule(struct ps *ps, struct module *m, uint32_t pos)
{
    struct rule *r = vouch_ra_xcalloc(ps->a, 1, sizeof(*r));

    r->mod = m;
    r->pos = pos;
    return r;
}

static struct term *true_term(struct ps *ps, uint32_t pos)
{
    return const_term(ps, RV_TRUE, pos);
}

static struct rule *parse_rule(struct ps *ps, struct module *m)
{
    struct token start = ps->tok;
    struct rule *r = new_rule(ps, m, start.pos), *last;
    bool is_default = false, contains = false, has_value = false;

    if (at_kw(ps, "default")) {
        is_default = true;
        lex(ps);
    }
    r->head = parse_head_ref(ps);
    if (ps->tok.t == TK_LPAREN && !ps->tok.ws) {
        struct ra_vec v = { 0 };

        parse_args(ps, &v);
        r->kind = R_FUNC;
        r->args = (struct term **)v.v;
        r->nargs = v.n;
    }
    if (r->kind != R_FUNC && at_kw_on(ps, "contains", KW_CONTAINS)) {
        lex(ps);
        contains = true;
        r->key = parse_in(ps);
    } else if (ps->tok.t == TK_ASSIGN || ps->tok.t == TK_UNIFY) {
        r->assign = ps->tok.t == TK_ASSIGN;
        lex(ps);
        r->value = parse_in(ps);
        has_value = true;
    }
    r->is_default = is_default;
    if (is_default) {
        if (!has_value)
            fail(ps, start.pos, "rego_parse_error: default rule needs a value");
        r->kind = r->kind == R_FUNC ? R_FUNC : R_COMPLETE;
        r->body = NULL;
        return r;
    }
    r->body = parse_rule_body(ps);
    r->has_body = r->body != NULL;
    /* Classify. */
    if (r->kind != R_FUNC) {
        if (contains) {
            r->kind = R_SET;
        } else if (ps->v0 && !has_value && r->head->kind == T_REF && r->head->n == 2) {
            /* v0: p[x] { ... } is a partial set */
            r->kind = R_SET;
            r->key = r->head->u.c.items[1];
            r->head = r->head->u.c.items[0];
        } else {
            r->kind = R_COMPLETE;   /* R_OBJ decided by the compiler from the head */
        }
    }
    if (!r->value && r->kind != R_SET)
        r->value = true_term(ps, start.pos);
    /* else chain */
    last = r;
    while (at_kw(ps, "else")) {
        struct rule *e = new_rule(ps, m, ps->tok.pos);

        if (r->kind == R_SET)
            fail(ps, ps->tok.pos, "rego_parse_error: else keyword cannot be used on multi-value rules");
        lex(ps);
        e->kind = r->kind;
        e->head = r->head;
        e->args = r->args;
        e->nargs = r->nargs;
        e->chain_head = r;
        if (ps->tok.t == TK_ASSIGN || ps->tok.t == TK_UNIFY) {
            e->assign = ps->tok.t == TK_ASSIGN;
            lex(ps);
            e->value = parse_in(ps);
        } else {
            e->value = true_term(ps, e->pos);
        }
        e->body = parse_rule_body(ps);
        e->has_body = e->body != NULL;
        last->els = e;
        last = e;
    }
    return r;
}

static const struct rval **ref_path(struct ps *ps, struct term *t, uint32_t *ret_n)
{
    const struct rval **path;
    uint32_t i, n = t->kind == T_REF ? t->n : 1;

    path = vouch_ra_xalloc(ps->a, n * sizeof(*path));
    if (t->kind == T_VAR) {
        path[0] = vouch_rv_str(ps->a, t->u.var.name, t->u.var.len);
    } else {
        struct term *h = t->u.c.items[0];

        if (h->kind != T_VAR)
            fail(ps, t->pos, "rego_parse_error: expected a reference");
        path[0] = vouch_rv_str(ps->a, h->u.var.name, h->u.var.len);
        for (i = 1; i < n; i++) {
            if (t->u.c.items[i]->kind != T_CONST || t->u.c.items[i]->u.val->t != RT_STR)
                fail(ps, t->u.c.items[i]->pos, "rego_parse_error: expected a string in path");
            path[i] = t->u.c.items[i]->u.val;
        }
    }
    *ret_n = n;
    return path;
}

static bool path_is(const struct rval *const *path, uint32_t n, const char *a, const char *b)
{
    if (n < 1 || path[0]->n != strlen(a) || memcmp(path[0]->u.s, a, path[0]->n))
        return false;
    if (!b)
        return n == 1;
    return n >= 2 && path[1]->n == strlen(b) && !memcmp(path[1]->u.s, b, path[1]->n);
}

static void parse_import(struct ps *ps, struct module *m, struct ra_vec *imps)
{
    struct import *im = vouch_ra_xcalloc(ps->a, 1, sizeof(*im));
    const struct rval **path;
    uint32_t n;

    im->pos = ps->tok.pos;
    lex(ps);
    im->path = parse_head_ref(ps);
    path = ref_path(ps, im->path, &n);
    if (at_kw(ps, "as")) {
        lex(ps);
        if (ps->tok.t != TK_IDENT)
            fail(ps, ps->tok.pos, "rego_parse_error: expected a name after 'as'");
        im->alias = ps->src + ps->tok.pos;
        im->alias_len = ps->tok.len;
        lex(ps);
    }
    if (path_is(path, n, "future", "keywords")) {
        if (n == 2) {
            ps->kw |= KW_ALL;
        } else if (n == 3) {
            const struct rval *k = path[2];

            if (k->n == 2 && !memcmp(k->u.s, "in", 2))
                ps->kw |= KW_IN;
            else if (k->n == 5 && !memcmp(k->u.s, "every", 5))
                ps->kw |= KW_EVERY | KW_IN;
            else if (k->n == 2 && !memcmp(k->u.s, "if", 2))
                ps->kw |= KW_IF;
            else if (k->n == 8 && !memcmp(k->u.s, "contains", 8))
                ps->kw |= KW_CONTAINS;
            else
                fail(ps, im->pos, "rego_parse_error: unknown future keyword");
        } else {
            fail(ps, im->pos, "rego_parse_error: invalid future import");
        }
        return;
    }
    if (path_is(path, n, "rego", "v1") && n == 2) {
        ps->kw |= KW_ALL;
        ps->v0 = false;
        m->v0 = false;
        return;
    }
    if (!path_is(path, n, "data", NULL) && !path_is(path, n, "input", NULL) &&
        !(n > 1 && (path_is(path, 1, "data", NULL) || path_is(path, 1, "input", NULL))))
        fail(ps, im->pos, "rego_parse_error: invalid import path: must begin with input or data");
    if (!im->alias) {
        im->alias = path[n - 1]->u.s;
        im->alias_len = path[n - 1]->n;
    }
    vouch_ra_vec_push(ps->a, imps, im);
}

static void ps_init(struct ps *ps, struct rarena *a, const char *src, size_t len, bool v0,
                    char *msg, size_t msgsize)
{
    memset(ps, 0, sizeof(*ps));
    snprintf(msg, msgsize, "rego_parse_error: out of memory");
    ps->a = a;
    ps->src = src;
    ps->len = len;
    ps->v0 = v0;
    ps->kw = v0 ? 0 : KW_ALL;
    ps->msg = msg;
    ps->msgsize = msgsize;
}

bool vouch_rego_parse_module(struct rarena *a, const char *name, const char *src, size_t len,
                             bool v0, struct module **ret, uint32_t *ret_pos, char *msg,
                             size_t msgsize)
{
    struct ps ps;
    struct module *m;
    struct ra_vec imps = { 0 }, rules = { 0 };
    jmp_buf *old = a->jb;

    ps_init(&ps, a, src, len, v0, msg, msgsize);
    if (setjmp(ps.jb)) {
        a->jb = old;
        *ret_pos = ps.errpos;
        return false;
    }
    a->jb = &ps.jb;
    m = vouch_ra_xcalloc(a, 1, sizeof(*m));
    m->name = name;
    m->src = src;
    m->len = len;
    m->v0 = v0;
    lex(&ps);
    if (!at_word(&ps, "package"))
        fail(&ps, ps.tok.pos, "rego_parse_error: expected 'package'");
    lex(&ps);
    m->pkg = parse_head_ref(&ps);
    m->pkg_path = ref_path(&ps, m->pkg, &m->npkg);
    while (at_kw(&ps, "import"))
        parse_import(&ps, m, &imps);
    while (ps.tok.t != TK_EOF) {
        struct rule *r;

        if (at_kw(&ps, "import"))
            fail(&ps, ps.tok.pos, "rego_parse_error: imports must come before rules");
        if (at_kw(&ps, "package"))
            fail(&ps, ps.tok.pos, "rego_parse_error: unexpected package");
        r = parse_rule(&ps, m);
        vouch_ra_vec_push(a, &rules, r);
        if (ps.tok.t != TK_EOF && !ps.tok.nl && ps.tok.t != TK_SEMI)
            fail(&ps, ps.tok.pos, "rego_parse_error: unexpected '%.*s' after rule",
                 (int)(ps.tok.len ? ps.tok.len : 1), src + ps.tok.pos);
        while (ps.tok.t == TK_SEMI)
            lex(&ps);
    }
    m->imports = NULL;
    if (imps.n) {
        uint32_t i;

        m->imports = vouch_ra_xalloc(a, imps.n * sizeof(*m->imports));
        for (i = 0; i < imps.n; i++)
            m->imports[i] = *(struct import *)imps.v[i];
    }
    m->nimports = imps.n;
    m->rules = (struct rule **)rules.v;
    m->nrules = rules.n;
    m->v0 = ps.v0;
    a->jb = old;
    *ret = m;
    return true;
}

bool vouch_rego_parse_query(struct rarena *a, const char *src, size_t len, struct body **ret,
                            uint32_t *ret_pos, char *msg, size_t msgsize)
{
    struct ps ps;
    struct body *b;
    jmp_buf *old = a->jb;

    ps_init(&ps, a, src, len, false, msg, msgsize);
    if (setjmp(ps.jb)) {
        a->jb = old;
        *ret_pos = ps.errpos;
        return false;
    }
    a->jb = &ps.jb;
    lex(&ps);
    b = parse_body_until(&ps, TK_EOF);
    if (b->n == 0)
        fail(&ps, 0, "rego_parse_error: empty query");
    a->jb = old;
    *ret = b;
    return true;
}

bool vouch_rego_parse_term(struct rarena *a, const char *src, size_t len, struct term **ret,
                           uint32_t *ret_pos, char *msg, size_t msgsize)
{
    struct ps ps;
    struct term *t;
    jmp_buf *old = a->jb;

    ps_init(&ps, a, src, len, false, msg, msgsize);
    if (setjmp(ps.jb)) {
        a->jb = old;
        *ret_pos = ps.errpos;
        return false;
    }
    a->jb = &ps.jb;
    lex(&ps);
    ps.nest = 1;
    t = parse_in(&ps);
    if (ps.tok.t != TK_EOF)
        fail(&ps, ps.tok.pos, "rego_parse_error: unexpected input after term");
    a->jb = old;
    *ret = t;
    return true;
}
