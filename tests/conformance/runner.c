/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs OPA's Rego conformance suite (tests/conformance/opa-v1/<folder>.json)
 * against the engine.  Built as the meson test "rego_conformance"
 * (tests/unit/test_rego_conformance.c is its main):
 *
 *   test_rego_conformance [--known-failures FILE] [--only FOLDER] [--verbose]
 *                         [--write-known-failures] [DIR]
 *
 * Each case compiles its modules, evaluates its query against its data and
 * input, and compares the bindings with want_result (or the error with
 * want_error_code / want_error).  A case whose modules call a builtin the
 * engine does not implement does not pass.
 *
 * Every case is one TAP line.  tests/conformance/known-failures.txt names
 * the cases that do not pass today: those are reported as SKIP; any other
 * case that does not pass fails the run; a listed case that now passes is
 * reported ("NEW PASS") so the list can shrink.  --write-known-failures
 * prints the list of cases that do not pass, to regenerate the file.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "rego/rego.h"
#include "rego/value.h"

#define MAX_FILE ((size_t)16 << 20)

enum { R_PASS, R_FAIL, R_SKIP };

struct folder {
    char name[128];
    unsigned pass, fail, skip;
};

static bool verbose;

static char *read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    struct vouch_buf b = VOUCH_BUF_INIT(MAX_FILE);
    char chunk[65536];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (vouch_buf_append(&b, chunk, n)) {
            fclose(f);
            return NULL;
        }
    fclose(f);
    return (char *)vouch_buf_steal(&b, ret_len);
}

static const struct rval *get(const struct rval *obj, const char *key)
{
    return obj && obj->t == RT_OBJ ? vouch_rv_obj_getn(obj, key, strlen(key)) : NULL;
}

static bool truthy(const struct rval *v)
{
    return v && v->t == RT_BOOL && v->u.i;
}

static char *cstr(const struct rval *v)
{
    char *s = malloc(v->n + 1);

    if (!s)
        abort();
    memcpy(s, v->u.s, v->n);
    s[v->n] = '\0';
    return s;
}

static char *to_json(const struct rval *v)
{
    struct vouch_buf b = VOUCH_BUF_INIT(MAX_FILE);

    if (vouch_rv_write_json(&b, v))
        abort();
    return (char *)vouch_buf_steal(&b, NULL);
}

/* sort_bindings: arrays among a binding's values, and the bindings. */
static const struct rval *normalise(struct rarena *a, const struct rval *res, bool sort)
{
    const struct rval **items;
    uint32_t i, j;

    if (!sort || res->t != RT_ARR)
        return res;
    items = vouch_ra_xalloc(a, (res->n + 1) * sizeof(*items));
    for (i = 0; i < res->n; i++) {
        const struct rval *b = res->u.a[i];

        if (b->t == RT_OBJ) {
            struct rkv *kv = vouch_ra_xalloc(a, (b->n + 1) * sizeof(*kv));
            bool conflict;

            for (j = 0; j < b->n; j++) {
                kv[j] = b->u.o[j];
                if (kv[j].v->t == RT_ARR) {
                    const struct rval **el = vouch_ra_xalloc(a, (kv[j].v->n + 1) * sizeof(*el));

                    xmemcpy(el, kv[j].v->u.a, kv[j].v->n * sizeof(*el));
                    qsort(el, kv[j].v->n, sizeof(*el), vouch_rv_cmp_ptr);
                    kv[j].v = vouch_rv_arr(a, el, kv[j].v->n);
                }
            }
            b = vouch_rv_obj(a, kv, b->n, &conflict);
        }
        items[i] = b;
    }
    qsort(items, res->n, sizeof(*items), vouch_rv_cmp_ptr);
    return vouch_rv_arr(a, items, res->n);
}

/* Does the engine's error message satisfy want_error?  OPA's messages
 * carry "file:line: " before the code; ours may carry "file:line:col: " or
 * none, so a location prefix in the wanted text is not required. */
static bool error_matches(const char *got, const char *want)
{
    const char *p;

    if (strstr(got, want))
        return true;
    p = strstr(want, ": ");
    if (p && (strstr(want, ".rego:") && strstr(want, ".rego:") < p) && strstr(got, p + 2))
        return true;
    return false;
}

static int run_case(struct rarena *a, const struct rval *c, const char *name, char *why,
                    size_t whysize)
{
    const struct rval *mods = get(c, "modules"), *query = get(c, "query"), *data = get(c, "data");
    const struct rval *input = get(c, "input"), *input_term = get(c, "input_term");
    const struct rval *want = get(c, "want_result"), *want_code = get(c, "want_error_code");
    const struct rval *want_err = get(c, "want_error");
    bool strict = truthy(get(c, "strict_error")), sort = truthy(get(c, "sort_bindings"));
    struct vouch_rego_module *m = NULL;
    struct vouch_rego_policy *pol = NULL;
    struct vouch_rego_doc *ddoc = NULL, *idoc = NULL;
    struct vouch_rego_eval_args args = { 0 };
    struct vouch_errbuf eb = { { 0 } };
    char **names = NULL, **texts = NULL, *q = NULL, *out = NULL, *tmp;
    uint32_t nm = mods && mods->t == RT_ARR ? mods->n : 0, i;
    int rc = R_FAIL;
    size_t len;
    vouch_err e;

    (void)name;
    why[0] = '\0';
    if (!query || query->t != RT_STR) {
        snprintf(why, whysize, "malformed case");
        return R_FAIL;
    }
    m = calloc(nm + 1, sizeof(*m));
    names = calloc(nm + 1, sizeof(*names));
    texts = calloc(nm + 1, sizeof(*texts));
    if (!m || !names || !texts)
        abort();
    for (i = 0; i < nm; i++) {
        names[i] = malloc(32);
        snprintf(names[i], 32, "test-%u.rego", i);
        texts[i] = cstr(mods->u.a[i]);
        m[i].name = names[i];
        m[i].text = texts[i];
        m[i].len = mods->u.a[i]->n;
    }
    e = vouch_rego_compile(m, nm, NULL, &pol, &eb);
    if (e) {
        if (strstr(eb.msg, "undefined function")) {
            snprintf(why, whysize, "%s", eb.msg);
            rc = R_SKIP;
            goto out;
        }
        if ((want_code && want_code->t == RT_STR && strstr(eb.msg, (tmp = cstr(want_code)))) ||
            (want_err && want_err->t == RT_STR && !want_code && error_matches(eb.msg, (tmp = cstr(want_err))))) {
            free(tmp);
            rc = R_PASS;
            goto out;
        }
        snprintf(why, whysize, "compile: %s", eb.msg);
        goto out;
    }
    if (data && data->t == RT_OBJ) {
        tmp = to_json(data);
        e = vouch_rego_doc_parse(tmp, strlen(tmp), &ddoc, &eb);
        free(tmp);
        if (e) {
            snprintf(why, whysize, "data: %s", eb.msg);
            goto out;
        }
    }
    if (input_term && input_term->t == RT_STR) {
        e = vouch_rego_doc_parse_term(input_term->u.s, input_term->n, &idoc, &eb);
        if (e) {
            snprintf(why, whysize, "input_term: %s", eb.msg);
            goto out;
        }
    } else if (input) {
        tmp = to_json(input);
        e = vouch_rego_doc_parse(tmp, strlen(tmp), &idoc, &eb);
        free(tmp);
        if (e) {
            snprintf(why, whysize, "input: %s", eb.msg);
            goto out;
        }
    }
    args.data_doc = ddoc;
    args.input_doc = idoc;
    args.flags = strict ? VOUCH_REGO_STRICT : 0;
    args.now_ns = 1700000000000000000LL;
    q = cstr(query);
    e = vouch_rego_query(pol, q, &args, VOUCH_REGO_RESULT_BINDINGS, &out, &len, &eb);
    if (e) {
        bool code_ok = !want_code || (want_code->t == RT_STR && strstr(eb.msg, (tmp = cstr(want_code))));

        if (want_code && want_code->t == RT_STR)
            free(tmp);
        if (strstr(eb.msg, "undefined function")) {
            snprintf(why, whysize, "%s", eb.msg);
            rc = R_SKIP;
            goto out;
        }
        if ((want_code || want_err) && code_ok &&
            (!want_err || want_err->t != RT_STR || error_matches(eb.msg, (tmp = cstr(want_err))))) {
            if (want_err && want_err->t == RT_STR)
                free(tmp);
            rc = R_PASS;
            goto out;
        }
        if (want_err && want_err->t == RT_STR && code_ok)
            free(tmp);
        snprintf(why, whysize, "error: %s", eb.msg);
        goto out;
    }
    if (want_code || want_err) {
        snprintf(why, whysize, "want an error, got %.200s", out);
        goto out;
    }
    {
        const struct rval *got;
        struct vouch_errbuf eb2;

        if (vouch_rv_parse_json(a, out, len, 1000, &got, &eb2)) {
            snprintf(why, whysize, "bad result JSON: %s", eb2.msg);
            goto out;
        }
        if (!want) {
            snprintf(why, whysize, "case has no expectation");
            goto out;
        }
        if (rv_eq(normalise(a, got, sort), normalise(a, want, sort))) {
            rc = R_PASS;
        } else {
            char *w = to_json(want);

            snprintf(why, whysize, "got %.300s want %.300s", out, w);
            free(w);
        }
    }
out:
    free(q);
    free(out);
    vouch_rego_doc_free(ddoc);
    vouch_rego_doc_free(idoc);
    vouch_rego_policy_free(pol);
    for (i = 0; i < nm; i++) {
        free(names[i]);
        free(texts[i]);
    }
    free(names);
    free(texts);
    free(m);
    return rc;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/*
 * The committed list of cases that do not pass today, one "folder/note" a
 * line (a note that repeats within a folder gets " #2", " #3", ...).
 */
struct known {
    char **ids;
    bool *seen;
    size_t n;
    char *text;
};

static long known_find(const struct known *k, const char *id)
{
    char **hit = k->n ? bsearch(&id, k->ids, k->n, sizeof(*k->ids), cmp_str) : NULL;

    return hit ? hit - k->ids : -1;
}

static int known_load(const char *path, struct known *k)
{
    size_t len;
    char *line, *save = NULL;

    k->text = read_file(path, &len);
    if (!k->text)
        return -1;
    k->ids = calloc(len + 1, sizeof(*k->ids));
    k->seen = calloc(len + 1, sizeof(*k->seen));
    if (!k->ids || !k->seen)
        abort();
    for (line = strtok_r(k->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (*line && *line != '#')
            k->ids[k->n++] = line;
    qsort(k->ids, k->n, sizeof(*k->ids), cmp_str);
    return 0;
}

struct tally {
    unsigned tap_n, new_fail, new_pass;
    bool write_list;
};

/* One TAP line a case: a failure the list names is a SKIP, a failure it
 * does not name fails the run, a pass it names is reported so it can go. */
static void report_case(struct known *k, struct tally *t, const char *id, int r,
                        const char *why)
{
    long at = known_find(k, id);

    if (at >= 0)
        k->seen[at] = true;
    if (t->write_list) {
        if (r != R_PASS)
            printf("%s\n", id);
        return;
    }
    t->tap_n++;
    if (r == R_PASS && at < 0) {
        printf("ok %u - %s\n", t->tap_n, id);
    } else if (r == R_PASS) {
        t->new_pass++;
        printf("ok %u - %s\n# NEW PASS: %s (remove it from the known-failures list)\n",
               t->tap_n, id, id);
    } else if (at >= 0) {
        printf("ok %u - %s # SKIP known: %.200s\n", t->tap_n, id, why);
    } else {
        t->new_fail++;
        printf("not ok %u - %s\n#   %s%s\n", t->tap_n, id, r == R_SKIP ? "skipped: " : "", why);
    }
}

static void run_folder(const char *dir, const char *file, struct folder *f,
                       struct known *k, struct tally *t)
{
    char path[4096];
    size_t len;
    char *text;
    struct rarena a;
    jmp_buf jb;
    const struct rval *doc, *cases;
    struct vouch_errbuf eb;
    uint32_t i, j;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    text = read_file(path, &len);
    if (!text) {
        printf("# %s: cannot read\n", path);
        f->fail++;
        return;
    }
    vouch_ra_init(&a, 0);
    if (setjmp(jb)) {
        printf("# %s: out of memory\n", path);
        f->fail++;
        vouch_ra_free(&a);
        free(text);
        return;
    }
    a.jb = &jb;
    if (vouch_rv_parse_json(&a, text, len, 1000, &doc, &eb)) {
        printf("# %s: %s\n", path, eb.msg);
        f->fail++;
        vouch_ra_free(&a);
        free(text);
        return;
    }
    cases = get(doc, "cases");
    for (i = 0; cases && cases->t == RT_ARR && i < cases->n; i++) {
        const struct rval *c = cases->u.a[i], *note = get(c, "note");
        char why[1024], nm[256], id[512];
        unsigned dup = 1;
        int r;

        snprintf(nm, sizeof(nm), "%.*s", note ? (int)note->n : 0, note ? note->u.s : "");
        for (j = 0; j < i; j++) {
            const struct rval *o = get(cases->u.a[j], "note");

            if (o && note && o->n == note->n && memcmp(o->u.s, note->u.s, o->n) == 0)
                dup++;
        }
        if (dup > 1)
            snprintf(id, sizeof(id), "%s/%s #%u", f->name, nm, dup);
        else
            snprintf(id, sizeof(id), "%s/%s", f->name, nm);
        r = run_case(&a, c, nm, why, sizeof(why));
        if (r == R_PASS)
            f->pass++;
        else if (r == R_FAIL)
            f->fail++;
        else
            f->skip++;
        report_case(k, t, id, r, why);
        if (verbose && r != R_PASS)
            printf("# %s %s: %s\n", r == R_FAIL ? "FAIL" : "SKIP", id, why);
    }
    vouch_ra_free(&a);
    free(text);
}

#ifndef VOUCH_SOURCE_ROOT
#define VOUCH_SOURCE_ROOT "."
#endif

static void print_table(const struct folder *folders, size_t nfiles, const char *only,
                        const struct known *k, const struct tally *t)
{
    unsigned tp = 0, tf = 0, ts = 0;
    size_t i;

    printf("# %-40s %6s %6s %6s\n", "folder", "pass", "fail", "skip");
    for (i = 0; i < nfiles; i++) {
        const struct folder *f = &folders[i];

        if (only && strcmp(only, f->name) != 0)
            continue;
        printf("# %-40s %6u %6u %6u\n", f->name, f->pass, f->fail, f->skip);
        tp += f->pass;
        tf += f->fail;
        ts += f->skip;
    }
    for (i = 0; !only && i < k->n; i++)
        if (!k->seen[i])
            printf("# STALE: %s is listed as a known failure but no such case ran\n", k->ids[i]);
    printf("# known failures listed: %zu; new failures: %u; new passes: %u\n", k->n,
           t->new_fail, t->new_pass);
    printf("# %u passed, %u failed, %u skipped\n", tp, tf, ts);
    printf("1..%u\n", t->tap_n);
}

int rego_conformance_main(int argc, char **argv);

int rego_conformance_main(int argc, char **argv)
{
    const char *dir = VOUCH_SOURCE_ROOT "/tests/conformance/opa-v1";
    const char *known_file = VOUCH_SOURCE_ROOT "/tests/conformance/known-failures.txt";
    const char *only = NULL;
    char **files = NULL;
    size_t nfiles = 0, i;
    struct folder *folders;
    struct known k = { 0 };
    struct tally t = { 0 };
    DIR *d;
    struct dirent *de;
    int a;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--known-failures") == 0 && a + 1 < argc)
            known_file = argv[++a];
        else if (strcmp(argv[a], "--only") == 0 && a + 1 < argc)
            only = argv[++a];
        else if (strcmp(argv[a], "--verbose") == 0)
            verbose = true;
        else if (strcmp(argv[a], "--write-known-failures") == 0)
            t.write_list = true;
        else
            dir = argv[a];
    }
    if (known_load(known_file, &k) != 0) {
        fprintf(stderr, "runner: cannot read %s\n", known_file);
        return 2;
    }
    d = opendir(dir);
    if (!d) {
        fprintf(stderr, "runner: cannot open %s\n", dir);
        return 2;
    }
    files = calloc(1024, sizeof(*files));
    while ((de = readdir(d)) != NULL && nfiles < 1024) {
        size_t n = strlen(de->d_name);

        if (n > 5 && strcmp(de->d_name + n - 5, ".json") == 0)
            files[nfiles++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(files, nfiles, sizeof(*files), cmp_str);
    folders = calloc(nfiles + 1, sizeof(*folders));
    for (i = 0; i < nfiles; i++) {
        struct folder *f = &folders[i];

        snprintf(f->name, sizeof(f->name), "%.*s", (int)(strlen(files[i]) - 5), files[i]);
        if (only && strcmp(only, f->name) != 0)
            continue;
        run_folder(dir, files[i], f, &k, &t);
    }
    if (!t.write_list)
        print_table(folders, nfiles, only, &k, &t);
    for (i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    free(folders);
    free(k.ids);
    free(k.seen);
    free(k.text);
    return t.new_fail ? 1 : 0;
}
