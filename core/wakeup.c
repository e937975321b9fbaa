/* SPDX-License-Identifier: MIT */
/*
 * core/wakeup.c - a timer's wake-up, the task core's second kind of
 * runnable; and wake sets, the child wakers of an all-of or any-of.
 *
 * A timer future (future.c) arms one with the backend or the fallback
 * timer thread; when it is due the task core runs it like any runnable
 * (sched__runnable_run tells it from a task by its kind bits), and it
 * wakes the task that waits.  The future and the scheduler each hold a
 * reference; the last one frees it.
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

void sched__timer_rt_unref(struct sched__timer_rt *rt)
{
    if (atomic_fetch_sub_explicit(&rt->refs, 1, memory_order_acq_rel) == 1)
        free(rt);
}

/* The wake-up is due: wake the timer's task.  Runs on whatever thread the
 * backend (or the fallback timer thread) fires timers on. */
void sched__timer_rt_run(struct sched__timer_rt *rt)
{
    sched_waker *w;
    atomic_store_explicit(&rt->fired, 1, memory_order_release);
    w = atomic_exchange_explicit(&rt->waker, NULL, memory_order_acq_rel);
    if (w)
        sched_waker_wake(w);
    sched__timer_rt_unref(rt);
}

/* Given back unrun (taken back, or at shutdown): never waiting again. */
void sched__timer_rt_drop(struct sched__timer_rt *rt)
{
    sched_waker *w;
    atomic_store_explicit(&rt->fired, 1, memory_order_release);
    w = atomic_exchange_explicit(&rt->waker, NULL, memory_order_acq_rel);
    if (w)
        sched_waker_drop(w);
    sched__timer_rt_unref(rt);
}


/* ---- wake sets ------------------------------------------------------------ */

/*
 * Who may touch `parent`: the holder of PARENT_BUSY, which is either the
 * owner replacing it (begin) or a child's wake delivering a wake to it.
 * Nobody waits for the other: a wake that finds the slot busy leaves
 * PARENT_OWED for the holder to deliver as it lets go, and an owner that
 * finds it busy wakes its new waker itself and tries again at its next
 * poll.  PARENT_CLOSED (the owner let go) is final; whoever holds the
 * slot then drops the parent.
 */
#define PARENT_BUSY   0x1u
#define PARENT_OWED   0x2u
#define PARENT_CLOSED 0x4u

struct sched__wake_set {
    _Atomic size_t refs;            /* the owner's, and one per cloned child waker */
    _Atomic unsigned pstate;        /* PARENT_* */
    _Atomic int notified;           /* a child woke since the last begin */
    sched_waker *parent;            /* under PARENT_BUSY; the owner reads it freely */
    _Atomic uint64_t session;       /* the parent's session, or 0 */
    _Atomic(sched_host *) session_host;
    _Atomic(struct sched_task *) watched;   /* referenced; set once, by the owner */
    size_t n;
    _Atomic uintptr_t *ready;       /* n bits: woken since last taken */
    struct sched__wake_set *back[]; /* each is this set: &back[i], tagged, is child i's waker */
};

static size_t wake_set_words(size_t n)
{
    return (n + SCHED__WAKE_WORD_BITS - 1) / SCHED__WAKE_WORD_BITS;
}

static size_t wake_set_size(size_t n)
{
    return sizeof(struct sched__wake_set) + n * sizeof(struct sched__wake_set *)
           + wake_set_words(n) * sizeof(uintptr_t);
}

struct sched__wake_set *sched__wake_set_new(size_t n)
{
    struct sched__wake_set *ws;
    size_t i;

    if (n == 0 || n > (SIZE_MAX - sizeof *ws) / (sizeof(ws) + 1))
        return NULL;
    ws = malloc(wake_set_size(n));
    if (!ws)
        return NULL;
    atomic_init(&ws->refs, 1);
    atomic_init(&ws->pstate, 0);
    atomic_init(&ws->notified, 0);
    ws->parent = NULL;
    atomic_init(&ws->session, 0);
    atomic_init(&ws->session_host, NULL);
    atomic_init(&ws->watched, NULL);
    ws->n = n;
    ws->ready = (_Atomic uintptr_t *)(void *)(ws->back + n);
    for (i = 0; i < n; i++)
        ws->back[i] = ws;
    for (i = 0; i < wake_set_words(n); i++)
        atomic_init(&ws->ready[i], 0);
    return ws;
}

sched_waker *sched__wake_set_child(struct sched__wake_set *ws, size_t i)
{
    assert(i < ws->n);
    return (sched_waker *)((uintptr_t)&ws->back[i] | SCHED__WAKER_CHILD);
}

static void wake_set_unref(struct sched__wake_set *ws)
{
    if (atomic_fetch_sub_explicit(&ws->refs, 1, memory_order_acq_rel) == 1) {
        struct sched_task *t = atomic_load_explicit(&ws->watched, memory_order_relaxed);
        assert(ws->parent == NULL);
        sched__release(ws, wake_set_size(ws->n));
        if (t)
            sched__task_unref_watched(t);
    }
}

/* Let go of PARENT_BUSY: deliver the wakes owed meanwhile, or drop the
 * parent if the owner let go meanwhile. */
static void parent_release(struct sched__wake_set *ws)
{
    unsigned s = PARENT_BUSY;
    for (;;) {
        if (atomic_compare_exchange_strong_explicit(&ws->pstate, &s, 0, memory_order_acq_rel,
                                                    memory_order_acquire))
            return;
        if (s & PARENT_CLOSED) {
            sched_waker *w = ws->parent;
            ws->parent = NULL;
            atomic_store_explicit(&ws->pstate, PARENT_CLOSED, memory_order_release);
            sched_waker_drop(w);
            return;
        }
        /* OWED: take it over, deliver it, and look again. */
        if (!atomic_compare_exchange_strong_explicit(&ws->pstate, &s, PARENT_BUSY,
                                                     memory_order_acq_rel, memory_order_acquire))
            continue;
        if (ws->parent)
            sched__waker_wake_by_ref_quiet(ws->parent);
        s = PARENT_BUSY;
    }
}

static void parent_wake(struct sched__wake_set *ws)
{
    unsigned s = atomic_load_explicit(&ws->pstate, memory_order_acquire);
    for (;;) {
        if (s & PARENT_CLOSED)
            return;
        if (s & PARENT_BUSY) {
            if (atomic_compare_exchange_weak_explicit(&ws->pstate, &s, s | PARENT_OWED,
                                                      memory_order_acq_rel, memory_order_acquire))
                return;     /* the holder delivers it */
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&ws->pstate, &s, PARENT_BUSY,
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }
    if (ws->parent)
        sched__waker_wake_by_ref_quiet(ws->parent);
    parent_release(ws);
}

void sched__wake_set_begin(struct sched__wake_set *ws, sched_waker *parent)
{
    unsigned s = 0;
    sched_waker *old;
    sched_host *host;
    uint64_t session;

    /* Wakes from here on wake the parent again; the bits they set are
     * read after this (the exchanges order them). */
    atomic_exchange_explicit(&ws->notified, 0, memory_order_acq_rel);
    if (ws->parent == parent)
        return;
    if (!atomic_compare_exchange_strong_explicit(&ws->pstate, &s, PARENT_BUSY,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        /* A wake is being delivered to the old parent: make sure the new
         * one hears, and swap at the next poll. */
        if (parent)
            sched_waker_wake_by_ref(parent);
        return;
    }
    old = ws->parent;
    ws->parent = sched_waker_clone(parent);
    session = parent ? sched__waker_session(parent, &host) : 0;
    atomic_store_explicit(&ws->session_host, session ? host : NULL, memory_order_relaxed);
    atomic_store_explicit(&ws->session, session, memory_order_release);
    if (parent && !atomic_load_explicit(&ws->watched, memory_order_relaxed))
        atomic_store_explicit(&ws->watched, sched__waker_watched_ref(parent), memory_order_release);
    parent_release(ws);
    sched_waker_drop(old);
}

uintptr_t sched__wake_set_take(struct sched__wake_set *ws, size_t word)
{
    assert(word < wake_set_words(ws->n));
    if (!atomic_load_explicit(&ws->ready[word], memory_order_relaxed))
        return 0;
    return atomic_exchange_explicit(&ws->ready[word], 0, memory_order_acq_rel);
}

void sched__wake_set_free(struct sched__wake_set *ws)
{
    unsigned s;
    if (!ws)
        return;
    s = atomic_fetch_or_explicit(&ws->pstate, PARENT_CLOSED, memory_order_acq_rel);
    if (!(s & PARENT_BUSY)) {
        sched_waker *w = ws->parent;
        ws->parent = NULL;
        sched_waker_drop(w);
    }
    wake_set_unref(ws);
}

/* The set a child waker belongs to, and the child's index; in debug mode
 * a waker whose set was freed aborts naming func. */
static struct sched__wake_set *child_of(sched_waker *w, size_t *i, const char *func)
{
    struct sched__wake_set **slot =
        (struct sched__wake_set **)((uintptr_t)w & ~(uintptr_t)SCHED__WAKER_CHILD);
    struct sched__wake_set *ws;
    if (sched__debug()) {
        unsigned char poison[sizeof *slot];
        memset(poison, SCHED__POISON_BYTE, sizeof poison);
        if (memcmp(slot, poison, sizeof poison) == 0)
            sched__misuse(func, "waker %p was used after its last reference was dropped",
                          (void *)w);
    }
    ws = *slot;
    *i = (size_t)(slot - ws->back);
    return ws;
}

/* Mark child i ready; wake the parent unless a wake is already owed. */
static void child_wake(struct sched__wake_set *ws, size_t i)
{
    uintptr_t bit = (uintptr_t)1 << (i % SCHED__WAKE_WORD_BITS);

    /* Already marked: whoever marked it wakes the parent. */
    if (atomic_fetch_or_explicit(&ws->ready[i / SCHED__WAKE_WORD_BITS], bit,
                                 memory_order_acq_rel) & bit)
        return;
    /* Already notified since the set's last poll began: that wake is
     * delivered after our mark, and the poll it brings sees it. */
    if (atomic_exchange_explicit(&ws->notified, 1, memory_order_acq_rel))
        return;
    parent_wake(ws);
}

/* Tell a test layer watching the set's task what was done to its child
 * waker (sched__child_waker_watched). */
static inline void watch(struct sched__wake_set *ws, int what)
{
    struct sched_task *t = atomic_load_explicit(&ws->watched, memory_order_acquire);
    if (t)
        sched__task_watch(t, what);
}

void sched__child_waker_wake_by_ref(sched_waker *w)
{
    size_t i;
    struct sched__wake_set *ws = child_of(w, &i, "sched_waker_wake_by_ref");
    watch(ws, SCHED__WAKER_WOKEN);
    child_wake(ws, i);
}

void sched__child_waker_wake_quiet(sched_waker *w)
{
    size_t i;
    struct sched__wake_set *ws = child_of(w, &i, "sched_waker_wake_by_ref");
    child_wake(ws, i);
}

void sched__child_waker_wake(sched_waker *w)
{
    size_t i;
    struct sched__wake_set *ws = child_of(w, &i, "sched_waker_wake");
    watch(ws, SCHED__WAKER_WOKEN);
    child_wake(ws, i);
    wake_set_unref(ws);
}

void sched__child_waker_ref(sched_waker *w)
{
    size_t i;
    struct sched__wake_set *ws = child_of(w, &i, "sched_waker_clone");
    watch(ws, SCHED__WAKER_CLONED);
    atomic_fetch_add_explicit(&ws->refs, 1, memory_order_relaxed);
}

void sched__child_waker_drop(sched_waker *w)
{
    size_t i;
    struct sched__wake_set *ws = child_of(w, &i, "sched_waker_drop");
    watch(ws, SCHED__WAKER_DROPPED);
    wake_set_unref(ws);
}

struct sched_task *sched__child_waker_watched(sched_waker *w)
{
    size_t i;
    struct sched__wake_set *ws = child_of(w, &i, "sched_waker_clone");
    return atomic_load_explicit(&ws->watched, memory_order_acquire);
}

uint64_t sched__child_waker_session(sched_waker *w, sched_host **host)
{
    size_t i;
    struct sched__wake_set *ws = child_of(w, &i, "sched_waker_wake");
    uint64_t session = atomic_load_explicit(&ws->session, memory_order_acquire);
    *host = session ? atomic_load_explicit(&ws->session_host, memory_order_relaxed) : NULL;
    return session;
}
