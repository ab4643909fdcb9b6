/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_REGO_ARENA_H
#define VOUCH_REGO_ARENA_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * A bump allocator.  Everything the Rego compiler and evaluator build lives
 * in one arena and is released at once.  An arena may have a cap on the
 * bytes it takes from the system; past the cap, allocation fails.
 *
 * vouch_ra_alloc() returns NULL on failure.  When `jb` is set, vouch_ra_xalloc()
 * instead jumps there (longjmp with value 1), so the evaluator, whose every
 * allocation lives in the arena, does not need to check each one; the code
 * that owns the jmp_buf reports the failure and frees the arena.
 */
struct ra_block;

struct rarena {
    struct ra_block *head;
    size_t total;       /* bytes taken from malloc */
    size_t given;       /* bytes handed out (evaluations charge steps by it) */
    size_t limit;       /* 0: no cap */
    size_t next_size;   /* size of the next block */
    bool hit_limit;     /* the last failure was the cap, not malloc */
    jmp_buf *jb;
};

void vouch_ra_init(struct rarena *a, size_t limit);
void vouch_ra_free(struct rarena *a);

void *vouch_ra_alloc(struct rarena *a, size_t n);
void *vouch_ra_xalloc(struct rarena *a, size_t n);
void *vouch_ra_xcalloc(struct rarena *a, size_t n, size_t size);
/* Grow an allocation made in this arena (old contents copied). */
void *vouch_ra_xrealloc(struct rarena *a, void *old, size_t oldn, size_t n);
char *vouch_ra_xstrndup(struct rarena *a, const char *s, size_t n);

/* Jump to a->jb (the caller has set it). */
_Noreturn void vouch_ra_fail(struct rarena *a);

/*
 * A growable array of pointers in an arena: the old storage is abandoned
 * when it grows (it stays in the arena until the end).
 */
struct ra_vec {
    void **v;
    uint32_t n, cap;
};

void vouch_ra_vec_push(struct rarena *a, struct ra_vec *vec, void *p);

/* memcpy/memmove that accept a NULL pointer with a zero length. */
static inline void xmemcpy(void *d, const void *s, size_t n)
{
    if (n)
        memcpy(d, s, n);
}

static inline void xmemmove(void *d, const void *s, size_t n)
{
    if (n)
        memmove(d, s, n);
}

#endif
