/* SPDX-License-Identifier: MIT */
/*
 * core/taskmem.c - a per-thread cache of task blocks, in two sizes: the
 * compact task of a detached function, and the full task.
 *
 * A detached function task is allocated on the thread that spawns it and
 * freed on the worker that runs it; a burst of full tasks (sleeping tasks,
 * fan-outs) is allocated, then freed, by the thousand, far past what
 * glibc's per-thread cache holds.  glibc's malloc handles that badly: the
 * worker's free lands in the spawner's arena, and the spawner's next malloc
 * takes it back through the arena's bins, about 200 instructions a task.
 * Here each thread keeps the blocks it freed in magazines of BATCH, one
 * pair per size: a full magazine goes to that size's depot, shared by all
 * threads (one mutex per BATCH frees), and a thread that runs out takes a
 * full one back from the depot (one mutex per BATCH allocations), so the
 * common case is a push or a pop on a thread-local list.
 *
 * Every block is still its own malloc'd chunk of its size: free() and
 * realloc() remain valid on it (a spawn that needs a full task grows a
 * compact one with realloc; a dropped task is freed with free), so only the
 * hot paths go through here: sched_future_fn and a compact task finishing,
 * a full task's spawn and its last reference.
 *
 * The cache is off (every call is plain malloc or free) in debug mode,
 * under AddressSanitizer or ThreadSanitizer (this library built with one,
 * or an application that brings the runtime), and under valgrind, so that
 * they still see every allocation, every use after free and every race on
 * a task's memory.  What it holds is bounded (two magazines a thread, the
 * depot's DEPOT_MAX) and returned: a thread's magazines go to the depot
 * when the thread exits, and sched__taskmem_trim, called when a host
 * closes, frees the depot and the calling thread's magazines, so nothing
 * is left allocated once a program has closed its hosts and joined its
 * threads.  (Threads the program does not own, such as GCD's workers under
 * the mac backend, keep their two magazines until they exit.)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "task.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SCHED__HAVE_VALGRIND_H 1
#endif
#endif

#if !defined(SCHED__TASKMEM_OFF)

#include <pthread.h>

enum {
    BATCH = SCHED__TASKMEM_BATCH,
    DEPOT_MAX = 256,    /* full magazines a depot keeps (1 MiB of compact blocks, 2.5 of full) */
};

/* A free block.  The first block of a full magazine also links the
 * magazines in the depot. */
struct block {
    struct block *next;
    struct block *next_batch;
};
_Static_assert(sizeof(struct block) <= SCHED__COMPACT_SIZE, "a block holds its links");

/* A thread's magazines, a pair per size (task.h has the inline fast paths). */
_Thread_local struct sched__taskmem sched__tm[SCHED__TM_CLASSES]
    __attribute__((tls_model("initial-exec")));

/* A size's depot: full magazines, through next_batch. */
static struct depot {
    pthread_mutex_t lock;
    struct block *head;
    _Atomic unsigned n;         /* written under lock; read without it */
} depots[SCHED__TM_CLASSES] = {
    { PTHREAD_MUTEX_INITIALIZER, NULL, 0 },
    { PTHREAD_MUTEX_INITIALIZER, NULL, 0 },
};

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static int key_ok;

/* 1: cache on; 0: off (debug mode, valgrind); -1: not decided yet. */
static _Atomic int mode = -1;

/* Under valgrind, a tool that tracks the heap (memcheck, helgrind, drd,
 * massif, dhat) preloads its own malloc as vgpreload_TOOL; callgrind and
 * cachegrind preload only vgpreload_core, and they are there to measure
 * what the cache buys. */
static int heap_tool(void)
{
#if defined(SCHED__HAVE_VALGRIND_H)
    const char *p;
    if (!RUNNING_ON_VALGRIND)
        return 0;
    if (!(p = sched__secure_getenv("LD_PRELOAD")))
        return 1;
    while ((p = strstr(p, "vgpreload_")) != NULL) {
        p += strlen("vgpreload_");
        if (strncmp(p, "core", 4) != 0)
            return 1;
    }
#endif
    return 0;
}

/* An application built with a sanitizer brings its runtime, which then
 * intercepts this library's malloc and free too: with the cache off, a
 * use of a finished task's block is the sanitizer's to report, even
 * though this library was built without it.  Weak references, resolved
 * when the library is loaded: NULL when no sanitizer runtime is there. */
#if defined(__ELF__)
extern void __asan_init(void) __attribute__((weak));
extern void __tsan_init(void) __attribute__((weak));
extern void __msan_init(void) __attribute__((weak));
static int sanitizer_runtime(void)
{
    return __asan_init != NULL || __tsan_init != NULL || __msan_init != NULL;
}
#else
static int sanitizer_runtime(void)
{
    return 0;
}
#endif

static int decide(void)
{
    int on = !sched__debug() && !heap_tool() && !sanitizer_runtime();
    atomic_store_explicit(&mode, on, memory_order_relaxed);
    return on;
}

static inline int cache_on(void)
{
    int m = atomic_load_explicit(&mode, memory_order_relaxed);
    return m >= 0 ? m : decide();
}

static void free_batch(struct block *b)
{
    while (b) {
        struct block *next = b->next;
        free(b);
        b = next;
    }
}

/* Hand a full magazine to d, or free it when d is full. */
static void depot_put(struct depot *d, struct block *batch)
{
    pthread_mutex_lock(&d->lock);
    if (d->n < DEPOT_MAX) {
        batch->next_batch = d->head;
        d->head = batch;
        d->n++;
        batch = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    free_batch(batch);
}

/* A full magazine from d, or NULL. */
static struct block *depot_get(struct depot *d)
{
    struct block *b;
    /* An empty depot stays empty while the spawner runs ahead of the
     * workers: do not take the lock for every allocation then. */
    if (atomic_load_explicit(&d->n, memory_order_relaxed) == 0)
        return NULL;
    pthread_mutex_lock(&d->lock);
    if ((b = d->head) != NULL) {
        d->head = b->next_batch;
        d->n--;
    }
    pthread_mutex_unlock(&d->lock);
    return b;
}

/* Return this thread's blocks of size k: full magazines to the depot, the
 * rest freed. */
static void flush(int k)
{
    struct sched__taskmem *c = &sched__tm[k];
    if (c->spare)
        depot_put(&depots[k], c->spare);
    if (c->n == BATCH)
        depot_put(&depots[k], c->cur);
    else
        free_batch(c->cur);
    c->spare = c->cur = NULL;
    c->n = 0;
}

static void on_thread_exit(void *arg)
{
    (void)arg;
    for (int k = 0; k < SCHED__TM_CLASSES; k++) {
        flush(k);
        sched__tm[k].hooked = 0;
    }
}

static void make_key(void)
{
    key_ok = pthread_key_create(&key, on_thread_exit) == 0;
}

/* The key is deleted if the library itself is unloaded, so no thread
 * exiting later calls into unmapped code. */
__attribute__((destructor)) static void delete_key(void)
{
    if (key_ok)
        pthread_key_delete(key);
    key_ok = 0;
}

/* Make sure this thread's blocks are returned when it exits; 0 if they
 * cannot be (then the caller frees instead of caching). */
static int hook(void)
{
    pthread_once(&key_once, make_key);
    if (!key_ok || pthread_setspecific(key, sched__tm) != 0)
        return 0;
    for (int k = 0; k < SCHED__TM_CLASSES; k++)
        sched__tm[k].hooked = 1;
    return 1;
}

/* The magazine in use is empty: the spare, a full one from the depot, or
 * malloc. */
void *sched__taskmem_alloc_slow(int k)
{
    struct sched__taskmem *c = &sched__tm[k];
    struct block *b;

    if (c->spare) {
        c->cur = c->spare;
        c->spare = NULL;
    } else if (cache_on() && (c->hooked || hook()) && (c->cur = depot_get(&depots[k])) != NULL) {
        ;
    } else {
        return malloc(sched__taskmem_size(k));
    }
    c->n = BATCH;
    b = c->cur;
    c->cur = b->next;
    c->n--;
    return b;
}

/* Not caching yet, or the magazine in use fills up with p: it becomes the
 * spare, or goes to the depot. */
void sched__taskmem_free_slow(int k, void *p)
{
    struct sched__taskmem *c = &sched__tm[k];
    struct block *b = p;

    if (!p)
        return;
    if (!c->hooked && (!cache_on() || !hook())) {
        free(p);
        return;
    }
    b->next = c->cur;
    c->cur = b;
    if (++c->n == BATCH) {
        if (c->spare)
            depot_put(&depots[k], c->cur);
        else
            c->spare = c->cur;
        c->cur = NULL;
        c->n = 0;
    }
}

void sched__taskmem_trim(void)
{
    for (int k = 0; k < SCHED__TM_CLASSES; k++) {
        struct depot *d = &depots[k];
        struct block *all;
        flush(k);
        pthread_mutex_lock(&d->lock);
        all = d->head;
        d->head = NULL;
        d->n = 0;
        pthread_mutex_unlock(&d->lock);
        while (all) {
            struct block *next = all->next_batch;
            free_batch(all);
            all = next;
        }
    }
}

#else /* SCHED__TASKMEM_OFF: task.h makes alloc and free malloc and free */

void sched__taskmem_trim(void)
{
}

#endif
