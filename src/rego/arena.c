/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "rego/arena.h"

/*
 * Under AddressSanitizer every allocation is followed by a poisoned
 * redzone and the unused rest of a block stays poisoned, so writing past
 * what was asked for is reported as it would be with malloc.
 */
#if defined(__SANITIZE_ADDRESS__)
#define RA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RA_ASAN 1
#endif
#endif
#ifdef RA_ASAN
#include <sanitizer/asan_interface.h>
#define RA_REDZONE 16
#define RA_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define RA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RA_REDZONE 0
#define RA_POISON(p, n) ((void)(p), (void)(n))
#define RA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define RA_ALIGN 16
#define RA_FIRST 32768
#define RA_MAX_BLOCK (1u << 20)

struct ra_block {
    struct ra_block *next;
    size_t size;   /* usable bytes in data */
    size_t pos;
    _Alignas(RA_ALIGN) unsigned char data[];
};

void vouch_ra_init(struct rarena *a, size_t limit)
{
    a->head = NULL;
    a->total = 0;
    a->given = 0;
    a->limit = limit;
    a->next_size = RA_FIRST;
    a->hit_limit = false;
    a->jb = NULL;
}

void vouch_ra_free(struct rarena *a)
{
    struct ra_block *b, *next;

    if (!a)
        return;
    for (b = a->head; b; b = next) {
        next = b->next;
        RA_UNPOISON(b->data, b->size);
        free(b);
    }
    a->head = NULL;
    a->total = 0;
    a->next_size = RA_FIRST;
}

static void *new_block(struct rarena *a, size_t n)
{
    struct ra_block *b;
    size_t size = a->next_size;

    if (n > size)
        size = n;
    if (a->limit && (size > a->limit || a->total > a->limit - size)) {
        /* Try the exact size before giving up. */
        size = n;
        if (size > a->limit || a->total > a->limit - size) {
            a->hit_limit = true;
            return NULL;
        }
    }
    if (size > SIZE_MAX - sizeof(*b))
        return NULL;
    b = malloc(sizeof(*b) + size);
    if (!b) {
        a->hit_limit = false;
        return NULL;
    }
    b->size = size;
    b->pos = n;
    RA_POISON(b->data, size);
    a->total += size;
    if (a->next_size < RA_MAX_BLOCK)
        a->next_size *= 2;
    /* A big one-off allocation goes behind the current block so the rest
     * of the current block stays usable. */
    if (a->head && size == n && a->head->pos < a->head->size) {
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    return b->data;
}

void *vouch_ra_alloc(struct rarena *a, size_t n)
{
    struct ra_block *b = a->head;
    size_t need;

    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - RA_ALIGN)
        return NULL;
    need = (n + RA_ALIGN - 1) & ~(size_t)(RA_ALIGN - 1);
    a->given += need;
    need += RA_REDZONE;
    if (b && b->size - b->pos >= need) {
        void *p = b->data + b->pos;

        b->pos += need;
        RA_UNPOISON(p, n);
        return p;
    }
    {
        void *p = new_block(a, need);

        if (p)
            RA_UNPOISON(p, n);
        return p;
    }
}

_Noreturn void vouch_ra_fail(struct rarena *a)
{
    longjmp(*a->jb, 1);
}

void *vouch_ra_xalloc(struct rarena *a, size_t n)
{
    void *p = vouch_ra_alloc(a, n);

    if (!p)
        vouch_ra_fail(a);
    return p;
}

void *vouch_ra_xcalloc(struct rarena *a, size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size) {
        a->hit_limit = true;
        vouch_ra_fail(a);
    }
    p = vouch_ra_xalloc(a, n * size);
    memset(p, 0, n * size);
    return p;
}

void *vouch_ra_xrealloc(struct rarena *a, void *old, size_t oldn, size_t n)
{
    void *p = vouch_ra_xalloc(a, n);

    if (old && oldn)
        xmemcpy(p, old, oldn < n ? oldn : n);
    return p;
}

char *vouch_ra_xstrndup(struct rarena *a, const char *s, size_t n)
{
    char *p = vouch_ra_xalloc(a, n + 1);

    xmemcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void vouch_ra_vec_push(struct rarena *a, struct ra_vec *vec, void *p)
{
    if (vec->n == vec->cap) {
        uint32_t ncap = vec->cap ? vec->cap * 2 : 8;

        if (ncap < vec->cap) {
            a->hit_limit = true;
            vouch_ra_fail(a);
        }
        vec->v = vouch_ra_xrealloc(a, vec->v, vec->n * sizeof(void *), ncap * sizeof(void *));
        vec->cap = ncap;
    }
    vec->v[vec->n++] = p;
}
