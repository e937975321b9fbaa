/* SPDX-License-Identifier: MIT */
/*
 * plugins/linux/pool.c - the worker pool.
 *
 * Each worker owns a bounded ring of runnables (a single-producer,
 * multi-consumer FIFO: the owner pushes, anyone pops with a CAS on the
 * head).  Medium-priority work queued by a worker goes to its own ring, so
 * fan-out from a task touches no shared lock.  Medium work from other
 * threads (and a full ring's overflow) goes to the injection queue, a
 * lock-free intrusive MPSC list, so a thread spawning a burst never waits
 * on a lock.  Due timers' runnables go to a ring of the same kind that
 * the timer thread owns, so a burst of fired timers takes no lock either.
 * High and low priorities, and what the timer thread's ring has no room
 * for, go to mutex-guarded FIFOs with an atomic length, so an empty one
 * costs a single load to skip.
 *
 * A worker picks: due timers' runnables, then high; then its ring; then a batch of injected work
 * (moved into its ring, where others can steal it); then half of another
 * worker's ring; then low.  Every LX_FAIR_TICK-th pick looks at low and
 * the injection queue first, so neither starves behind busy rings or a
 * stream of high-priority work.  A due timer's runnable runs with a
 * one-runnable slot, like the timer thread's (timers.c): the task it wakes
 * runs right after it on the same worker, not at the back of the ring.
 *
 * A worker with nothing to do searches a little longer, yielding the CPU
 * between looks (on a machine with more runnable threads than cores a
 * pause-loop spin steals the very thread producing the work), then parks
 * on a futex of its own.  At most half the workers search at once.
 * Queuing work wakes a parked worker only when none is searching; a
 * searcher that finds work wakes another when it was the last one, so a
 * burst ramps the pool up one worker at a time, and an idle pool sleeps
 * with no CPU.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux.h"

#define LX_RING 1024u            /* per-worker ring slots (a power of two) */
#define LX_FAIR_TICK 61u         /* as Go's scheduler: a prime, rarely hit */
#define LX_SPIN_ROUNDS 16        /* find_work + sched_yield rounds before parking */
#define LX_CACHELINE 64
#define LX_INJECT_BATCH 64       /* injected runnables moved to a ring at once */


struct lx_shared {
    pthread_mutex_t mu;
    struct lx_list q;
    atomic_size_t len;
} __attribute__((aligned(LX_CACHELINE)));

/* A bounded single-producer, multi-consumer FIFO: a worker's own, and
 * the timer thread's for due timers' runnables. */
struct lx_ring {
    /* Written by consumers and the producer. */
    _Alignas(LX_CACHELINE) atomic_uint_fast64_t head;
    /* Written by the producer only. */
    _Alignas(LX_CACHELINE) atomic_uint_fast64_t tail;
    _Atomic(sched_runnable *) slot[LX_RING];
};

struct lx_worker {
    struct lx_ring q;
    _Alignas(LX_CACHELINE) atomic_uint sleep;   /* futex: 1 while parked */
    unsigned tick;
    unsigned idx;
    uint64_t rng;
    struct lx_pool *pool;
    pthread_t thread;
};

/* The injection queue: medium-priority work from threads that are not
 * workers.  Vyukov's intrusive MPSC queue: a push is one exchange and one
 * store, with no lock, so a thread spawning a burst never waits for the
 * workers draining it; one worker at a time (the "consuming" flag) moves a
 * batch into its ring. */
struct lx_inject {
    _Alignas(LX_CACHELINE) _Atomic(sched_runnable *) head;     /* pushers */
    _Alignas(LX_CACHELINE) _Atomic(sched_runnable *) tail;     /* the consumer */
    atomic_int consuming;
    sched_runnable stub;
};

struct lx_pool {
    struct lx_backend *b;
    struct lx_inject inject;
    struct lx_ring *fired_ring;             /* due timers' runnables: the timer thread's */
    struct lx_shared fired, high, low;      /* fired: what the timer thread's ring had no room for */
    _Alignas(LX_CACHELINE) atomic_int searching;   /* workers looking for work */
    atomic_int nsleep;                              /* parked workers */
    atomic_int closing;
    pthread_mutex_t idle_mu;                        /* guards idle[] */
    unsigned *idle;                                 /* stack of parked workers */
    unsigned nidle;
    unsigned nthreads;
    struct lx_worker **workers;
};

/* The worker the calling thread is, or NULL. */
static __thread struct lx_worker *lx_self __attribute__((tls_model("initial-exec")));

/* ---- the per-worker ring ----------------------------------------------- */

/* Producer only.  0, or -1 when the ring is full. */
static inline int ring_push(struct lx_ring *w, sched_runnable *r)
{
    uint64_t t = atomic_load_explicit(&w->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&w->head, memory_order_acquire);

    if (t - h >= LX_RING)
        return -1;
    atomic_store_explicit(&w->slot[t & (LX_RING - 1)], r, memory_order_relaxed);
    atomic_store_explicit(&w->tail, t + 1, memory_order_release);
    return 0;
}

/* Any thread: take the oldest runnable of w's ring, or NULL. */
static sched_runnable *ring_pop(struct lx_ring *w)
{
    uint64_t h = atomic_load_explicit(&w->head, memory_order_acquire);

    for (;;) {
        uint64_t t = atomic_load_explicit(&w->tail, memory_order_acquire);
        sched_runnable *r;
        if (h == t)
            return NULL;
        r = atomic_load_explicit(&w->slot[h & (LX_RING - 1)], memory_order_relaxed);
        /* A slot is reused only after head has passed it, which fails
         * this CAS: r is valid whenever the CAS succeeds. */
        if (atomic_compare_exchange_weak_explicit(&w->head, &h, h + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return r;
    }
}

static int ring_is_empty(struct lx_ring *w)
{
    return atomic_load(&w->head) == atomic_load(&w->tail);
}

/* Move the older half of victim's ring into self's (empty) ring and take
 * the first of them.  self's producer only. */
static sched_runnable *ring_steal(struct lx_ring *self, struct lx_ring *victim)
{
    uint64_t dt = atomic_load_explicit(&self->tail, memory_order_relaxed);

    for (;;) {
        uint64_t h = atomic_load_explicit(&victim->head, memory_order_acquire);
        uint64_t t = atomic_load_explicit(&victim->tail, memory_order_acquire);
        uint64_t n = t - h;
        if (n == 0)
            return NULL;
        if (n > LX_RING)        /* head moved on under us: look again */
            continue;
        n -= n / 2;
        /* Slots at and past our tail are invisible to our own thieves. */
        for (uint64_t i = 0; i < n; i++) {
            sched_runnable *r = atomic_load_explicit(&victim->slot[(h + i) & (LX_RING - 1)],
                                                     memory_order_relaxed);
            atomic_store_explicit(&self->slot[(dt + i) & (LX_RING - 1)], r, memory_order_relaxed);
        }
        if (atomic_compare_exchange_strong_explicit(&victim->head, &h, h + n, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            atomic_store_explicit(&self->tail, dt + n, memory_order_release);
            return ring_pop(self);
        }
    }
}

/* ---- shared queues ------------------------------------------------------ */

/* 0, or SCHED_ECLOSED once the pool is closing: checked under the lock so
 * that lx_pool_drain, which takes the lock after closing is set, sees
 * every runnable that was accepted. */
static int shared_push(struct lx_pool *p, struct lx_shared *s, sched_runnable *r)
{
    pthread_mutex_lock(&s->mu);
    if (atomic_load_explicit(&p->closing, memory_order_relaxed)) {
        pthread_mutex_unlock(&s->mu);
        return SCHED_ECLOSED;
    }
    lx_list_push(&s->q, r);
    atomic_store_explicit(&s->len, atomic_load_explicit(&s->len, memory_order_relaxed) + 1,
                          memory_order_release);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* Take the oldest runnable of s, or NULL; s->len is non-zero or was. */
static sched_runnable *shared_take_locked(struct lx_shared *s)
{
    sched_runnable *r;

    pthread_mutex_lock(&s->mu);
    r = lx_list_pop(&s->q);
    if (r)
        atomic_store_explicit(&s->len, atomic_load_explicit(&s->len, memory_order_relaxed) - 1,
                              memory_order_release);
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* Take the oldest runnable of s, or NULL.  Inline, so that skipping an
 * empty queue is one load. */
static inline sched_runnable *shared_take(struct lx_shared *s)
{
    if (atomic_load_explicit(&s->len, memory_order_acquire) == 0)
        return NULL;
    return shared_take_locked(s);
}

/* ---- the injection queue ------------------------------------------------ */

static _Atomic(sched_runnable *) *next_of(sched_runnable *r)
{
    return (_Atomic(sched_runnable *) *)(void *)&r->backend_slot[0];
}

static void inject_init(struct lx_inject *q)
{
    atomic_init(next_of(&q->stub), NULL);
    atomic_init(&q->head, &q->stub);
    atomic_init(&q->tail, &q->stub);
}

/* The exchange is sequentially consistent: it is also the store that a
 * pusher's later read of "searching" must not pass (notify_injected). */
static void inject_link(struct lx_inject *q, sched_runnable *r)
{
    sched_runnable *prev;

    atomic_store_explicit(next_of(r), NULL, memory_order_relaxed);
    prev = atomic_exchange_explicit(&q->head, r, memory_order_seq_cst);
    /* Between the exchange and this store the queue looks cut short;
     * consumers see it as not empty (head is not the stub) and come back. */
    atomic_store_explicit(next_of(prev), r, memory_order_release);
}

/* Any thread.  0, or SCHED_ECLOSED once the pool is closing.  No count
 * of pushes under way is needed for the drain to see every accepted
 * runnable: a push that can overlap destroy comes from a thread that
 * lx_destroy joins before it drains (a worker, the timer or the realtime
 * thread), or from a drop that the drain itself runs; a push from another
 * thread racing the close is the application's to prevent
 * (sched_host_open(3)), since it would read the backend after its free. */
static int inject_push(struct lx_pool *p, sched_runnable *r)
{
    if (atomic_load_explicit(&p->closing, memory_order_relaxed))
        return SCHED_ECLOSED;
    inject_link(&p->inject, r);
    return 0;
}

/* May the queue hold a runnable?  Any thread.  It is empty only when the
 * consumer sits on the stub with nothing behind it and no push came since
 * the stub went back in.  head alone is not enough: a consumer that put
 * the stub back while a push was half done leaves head on the stub and
 * tail on a runnable not yet taken. */
static int inject_maybe_nonempty(struct lx_inject *q)
{
    return atomic_load(&q->head) != &q->stub || atomic_load(&q->tail) != &q->stub ||
           atomic_load(next_of(&q->stub)) != NULL;
}

/* Pop the oldest runnable; the caller holds "consuming".  NULL when empty
 * or when a push is half done (the caller retries later). */
static sched_runnable *inject_pop(struct lx_inject *q)
{
    sched_runnable *tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    sched_runnable *next = atomic_load_explicit(next_of(tail), memory_order_acquire);

    if (tail == &q->stub) {
        if (!next)
            return NULL;
        atomic_store_explicit(&q->tail, next, memory_order_relaxed);
        tail = next;
        next = atomic_load_explicit(next_of(tail), memory_order_acquire);
    }
    if (next) {
        atomic_store_explicit(&q->tail, next, memory_order_relaxed);
        return tail;
    }
    if (tail != atomic_load_explicit(&q->head, memory_order_acquire))
        return NULL;
    /* tail is the last one: put the stub behind it so it can go. */
    inject_link(q, &q->stub);
    next = atomic_load_explicit(next_of(tail), memory_order_acquire);
    if (next) {
        atomic_store_explicit(&q->tail, next, memory_order_relaxed);
        return tail;
    }
    return NULL;
}

/* Move up to room runnables from q (the caller consuming) to w's ring
 * from slot t on, oldest first; returns how many.  The chain is walked
 * directly while each node has a successor (the stub, when met, is
 * stepped over): only the last node needs inject_pop's care. */
static uint64_t inject_move(struct lx_inject *q, struct lx_worker *w, uint64_t t, uint64_t room)
{
    sched_runnable *cur = atomic_load_explicit(&q->tail, memory_order_relaxed);
    sched_runnable *next, *r;
    uint64_t n = 0;

    while (n < room && (next = atomic_load_explicit(next_of(cur), memory_order_acquire))) {
        if (cur != &q->stub)
            atomic_store_explicit(&w->q.slot[(t + n++) & (LX_RING - 1)], cur, memory_order_relaxed);
        cur = next;
    }
    atomic_store_explicit(&q->tail, cur, memory_order_relaxed);
    if (n < room && (r = inject_pop(q)))
        atomic_store_explicit(&w->q.slot[(t + n++) & (LX_RING - 1)], r, memory_order_relaxed);
    return n;
}

/* Take the oldest injected runnable and move up to max more, in order, to
 * the back of w's ring while it has room.  NULL when empty or another
 * worker is consuming. */
static sched_runnable *inject_take(struct lx_pool *p, struct lx_worker *w, size_t max)
{
    struct lx_inject *q = &p->inject;
    sched_runnable *first;

    if (!inject_maybe_nonempty(q) || atomic_exchange_explicit(&q->consuming, 1, memory_order_acquire))
        return NULL;
    first = inject_pop(q);
    if (first && max > 0) {
        /* Fill the free slots, then publish them with one store: only
         * we write our ring's tail, and thieves never take past it. */
        uint64_t t = atomic_load_explicit(&w->q.tail, memory_order_relaxed);
        uint64_t room = LX_RING - (t - atomic_load_explicit(&w->q.head, memory_order_acquire));
        uint64_t n = inject_move(q, w, t, room > max ? max : room);
        if (n)
            atomic_store_explicit(&w->q.tail, t + n, memory_order_release);
    }
    atomic_store_explicit(&q->consuming, 0, memory_order_release);
    return first;
}

/* ---- waking and parking -------------------------------------------------- */

/* Wake one parked worker, if any; it starts out searching. */
static void wake_one(struct lx_pool *p)
{
    struct lx_worker *w = NULL;

    if (atomic_load(&p->nsleep) == 0)
        return;
    pthread_mutex_lock(&p->idle_mu);
    if (p->nidle > 0) {
        w = p->workers[p->idle[--p->nidle]];
        atomic_fetch_sub(&p->nsleep, 1);
        atomic_fetch_add(&p->searching, 1);
    }
    pthread_mutex_unlock(&p->idle_mu);
    if (w) {
        atomic_store(&w->sleep, 0);
        lx_futex_wake(&w->sleep, 1);
    }
}

/* After queuing work: make sure someone will look for it.  The queue
 * write must be visible before we read "searching", as a parking worker's
 * "nsleep" write is before it re-reads the queues (any_work): each side
 * has a sequentially consistent write then read, so one of the two sees
 * the other's write.  An injected push's exchange is such a write
 * already (inject_link); the other queues' writes need the fence. */
static inline void notify_injected(struct lx_pool *p)
{
    if (atomic_load(&p->searching) == 0)
        wake_one(p);
}

static void notify(struct lx_pool *p)
{
    /* TSan does not model fences; a seq_cst read-modify-write orders the
     * same and it understands that. */
#if defined(__SANITIZE_THREAD__)
    if (atomic_fetch_add(&p->searching, 0) == 0)
#else
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&p->searching, memory_order_relaxed) == 0)
#endif
        wake_one(p);
}

/* May any queue hold work?  Every read is sequentially consistent, after
 * the parking worker's "nsleep" write (notify). */
static int any_work(struct lx_pool *p)
{
    if (inject_maybe_nonempty(&p->inject))
        return 1;
    if (!ring_is_empty(p->fired_ring) || atomic_load(&p->fired.len) > 0 ||
        atomic_load(&p->high.len) > 0 || atomic_load(&p->low.len) > 0)
        return 1;
    for (unsigned i = 0; i < p->nthreads; i++)
        if (!ring_is_empty(&p->workers[i]->q))
            return 1;
    return 0;
}

/* Park w until woken.  On return w counts as searching. */
static void park_worker(struct lx_pool *p, struct lx_worker *w)
{
    int found = 0;

    atomic_store(&w->sleep, 1);
    pthread_mutex_lock(&p->idle_mu);
    p->idle[p->nidle++] = w->idx;
    atomic_fetch_add(&p->nsleep, 1);
    pthread_mutex_unlock(&p->idle_mu);

    /* Work queued before we were visible as a sleeper was not announced
     * to us: look once more before sleeping. */
    if (any_work(p) || atomic_load(&p->closing)) {
        pthread_mutex_lock(&p->idle_mu);
        for (unsigned i = 0; i < p->nidle; i++) {
            if (p->idle[i] == w->idx) {
                p->idle[i] = p->idle[--p->nidle];
                atomic_fetch_sub(&p->nsleep, 1);
                atomic_fetch_add(&p->searching, 1);
                found = 1;
                break;
            }
        }
        pthread_mutex_unlock(&p->idle_mu);
        if (found)
            return;         /* else a waker took us off the stack: wait for it */
    }
    while (atomic_load(&w->sleep) == 1)
        lx_futex_wait(&w->sleep, 1, NULL);
}

/* ---- the worker -------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* find_work's last resorts: half of another worker's ring, then low.
 * Out of line, so the common picks below keep a small frame. */
static __attribute__((noinline)) sched_runnable *find_work_steal(struct lx_pool *p,
                                                                 struct lx_worker *w)
{
    sched_runnable *r;

    if (p->nthreads > 1) {
        unsigned start = (unsigned)(xorshift(&w->rng) % p->nthreads);
        for (unsigned i = 0; i < p->nthreads; i++) {
            struct lx_worker *v = p->workers[(start + i) % p->nthreads];
            if (v != w && (r = ring_steal(&w->q, &v->q)))
                return r;
        }
    }
    return shared_take(&p->low);
}

/* Every LX_FAIR_TICK-th pick: low, then injected work, first. */
static __attribute__((noinline)) sched_runnable *find_work_fair(struct lx_pool *p,
                                                                struct lx_worker *w)
{
    sched_runnable *r;

    w->tick = LX_FAIR_TICK;
    if ((r = shared_take(&p->low)))
        return r;
    /* Queue injected work behind the ring (not ahead of it), so
     * first-queued still runs first on this worker. */
    if ((r = inject_take(p, w, 0)) && ring_push(&w->q, r) != 0)
        return r;
    return NULL;
}

/* The next runnable for w in the order described above, or NULL; *fired
 * says whether it is a due timer's.  Inline in the worker's loop. */
static inline sched_runnable *find_work(struct lx_pool *p, struct lx_worker *w, int *fired)
{
    sched_runnable *r;

    *fired = 0;
    if (--w->tick == 0 && (r = find_work_fair(p, w)))
        return r;
    if ((r = ring_pop(p->fired_ring)) || (r = shared_take(&p->fired))) {
        *fired = 1;
        return r;
    }
    if ((r = shared_take(&p->high)))
        return r;
    if ((r = ring_pop(&w->q)))
        return r;
    if ((r = inject_take(p, w, LX_INJECT_BATCH)))
        return r;
    return find_work_steal(p, w);
}

/* Become a searcher unless half the workers already are: spinning
 * workers beyond that only take CPU from the threads producing work. */
static int try_start_search(struct lx_pool *p)
{
    int limit = p->nthreads > 1 ? (int)p->nthreads / 2 : 1;
    int n = atomic_load(&p->searching);

    while (n < limit)
        if (atomic_compare_exchange_weak(&p->searching, &n, n + 1))
            return 1;
    return 0;
}

/* Run a due timer's runnable, then the first medium-priority runnable it
 * queues (the task its wake-up wakes), at once on this worker: a woken
 * sleeper does not wait behind the ring's work that has not started.  One
 * runnable per fired timer, so what is queued waits for at most that. */
static void run_fired(const sched_host_services *svc, sched_runnable *r)
{
    sched_runnable *next = NULL;

    lx_inline_slot = &next;
    svc->run(r);
    lx_inline_slot = NULL;
    if (next)
        svc->run(next);
}

static void *pool_worker(void *arg)
{
    struct lx_worker *w = arg;
    struct lx_pool *p = w->pool;
    const sched_host_services *svc = p->b->svc;
    int searching = 1;          /* counted in p->searching */
    int fired;

    lx_self = w;
    while (!atomic_load_explicit(&p->closing, memory_order_relaxed)) {
        sched_runnable *r = find_work(p, w, &fired);
        if (!r && !searching)
            searching = try_start_search(p);
        for (int spin = 0; !r && searching && spin < LX_SPIN_ROUNDS; spin++) {
            sched_yield();
            r = find_work(p, w, &fired);
        }
        if (!r) {
            if (searching)
                atomic_fetch_sub(&p->searching, 1);
            searching = 0;
            if (atomic_load(&p->closing))
                break;
            park_worker(p, w);
            searching = 1;
            continue;
        }
        if (searching) {
            searching = 0;
            /* The last searcher found work: there may be more, so hand
             * the search on before running. */
            if (atomic_fetch_sub(&p->searching, 1) == 1)
                wake_one(p);
        }
        if (fired)
            run_fired(svc, r);
        else
            svc->run(r);
    }
    if (searching)
        atomic_fetch_sub(&p->searching, 1);
    lx_self = NULL;
    return NULL;
}

/* ---- the pool ----------------------------------------------------------- */

int lx_pool_new(struct lx_backend *b, unsigned nthreads, struct lx_pool **out,
                char *err, size_t errlen)
{
    struct lx_pool *p = calloc(1, sizeof *p);
    int rc;

    assert(nthreads >= 1);
    if (!p || !(p->workers = calloc(nthreads, sizeof *p->workers)) ||
        !(p->idle = calloc(nthreads, sizeof *p->idle)) ||
        !(p->fired_ring = aligned_alloc(LX_CACHELINE, sizeof *p->fired_ring))) {
        if (p) {
            free(p->workers);
            free(p->idle);
        }
        free(p);
        snprintf(err, errlen, "out of memory allocating the worker pool");
        return SCHED_ENOMEM;
    }
    p->b = b;
    memset(p->fired_ring, 0, sizeof *p->fired_ring);
    inject_init(&p->inject);
    pthread_mutex_init(&p->fired.mu, NULL);
    pthread_mutex_init(&p->high.mu, NULL);
    pthread_mutex_init(&p->low.mu, NULL);
    pthread_mutex_init(&p->idle_mu, NULL);
    /* Workers start out searching, as if just woken. */
    for (unsigned i = 0; i < nthreads; i++) {
        struct lx_worker *w = aligned_alloc(LX_CACHELINE, sizeof *w);
        if (!w) {
            snprintf(err, errlen, "out of memory allocating worker %u of %u", i + 1, nthreads);
            lx_pool_stop(p);
            lx_pool_free(p);
            return SCHED_ENOMEM;
        }
        memset(w, 0, sizeof *w);
        w->pool = p;
        w->idx = i;
        w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
        w->tick = LX_FAIR_TICK;
        p->workers[i] = w;
        p->nthreads = i + 1;
    }
    for (unsigned i = 0; i < nthreads; i++) {
        atomic_fetch_add(&p->searching, 1);
        rc = pthread_create(&p->workers[i]->thread, NULL, pool_worker, p->workers[i]);
        if (rc != 0) {
            atomic_fetch_sub(&p->searching, 1);
            snprintf(err, errlen, "cannot start worker thread %u of %u: %s",
                     i + 1, nthreads, strerror(rc));
            /* The workers already running read nthreads: leave it, and
             * let lx_pool_stop join only the threads that exist. */
            p->workers[i]->thread = 0;
            lx_pool_stop(p);
            lx_pool_free(p);
            return rc == EAGAIN ? SCHED_EAGAIN : rc == ENOMEM ? SCHED_ENOMEM : SCHED_EBACKEND;
        }
    }
    *out = p;
    return 0;
}

/* lx_pool_push but for its two common cases (below).  Out of line, so
 * that those need no stack frame. */
static __attribute__((noinline)) int push_other(struct lx_pool *p, sched_runnable *r,
                                                sched_priority prio)
{
    struct lx_worker *w = lx_self;
    int rc;

    if (prio != SCHED_PRIORITY_MEDIUM) {
        rc = shared_push(p, prio >= SCHED_PRIORITY_HIGH ? &p->high : &p->low, r);
        if (rc == 0)
            notify(p);
        return rc;
    }
    if (lx_inline_slot && !*lx_inline_slot) {
        *lx_inline_slot = r;
        return 0;
    }
    if (w && w->pool == p && ring_push(&w->q, r) == 0) {
        notify(p);
        return 0;
    }
    rc = inject_push(p, r);
    if (rc == 0)
        notify_injected(p);
    return rc;
}

/* The common cases here, with no stack frame: medium work with no inline
 * slot to fill, from a thread that is not one of p's workers (to the
 * injection queue) or from one whose ring has room. */
int lx_pool_push(struct lx_pool *p, sched_runnable *r, sched_priority prio)
{
    struct lx_worker *w = lx_self;

    if (__builtin_expect(prio == SCHED_PRIORITY_MEDIUM && !lx_inline_slot, 1)) {
        if (!w || w->pool != p) {
            if (inject_push(p, r) != 0)
                return SCHED_ECLOSED;
            notify_injected(p);
            return 0;
        }
        /* A worker's own ring: only while it runs, never after close. */
        if (ring_push(&w->q, r) == 0) {
            notify(p);
            return 0;
        }
    }
    return push_other(p, r, prio);
}

/* The timer thread only, and destroy joins it before the pool closes: so
 * a push to its ring never overlaps the close.  The ring while the
 * overflow queue is empty, so that due order holds. */
int lx_pool_push_fired(struct lx_pool *p, sched_runnable *r)
{
    int rc = 0;
    if (atomic_load_explicit(&p->fired.len, memory_order_relaxed) > 0 ||
        ring_push(p->fired_ring, r) != 0)
        rc = shared_push(p, &p->fired, r);
    if (rc == 0)
        notify(p);
    return rc;
}

int lx_pool_has_searcher(struct lx_pool *p)
{
    return atomic_load_explicit(&p->searching, memory_order_relaxed) > 0;
}

void lx_pool_stop(struct lx_pool *p)
{
    atomic_store(&p->closing, 1);
    pthread_mutex_lock(&p->idle_mu);
    p->nidle = 0;
    atomic_store(&p->nsleep, 0);
    pthread_mutex_unlock(&p->idle_mu);
    for (unsigned i = 0; i < p->nthreads; i++) {
        atomic_store(&p->workers[i]->sleep, 0);
        lx_futex_wake(&p->workers[i]->sleep, 1);
    }
    for (unsigned i = 0; i < p->nthreads; i++)
        if (p->workers[i]->thread)
            pthread_join(p->workers[i]->thread, NULL);
}

size_t lx_pool_drain(struct lx_pool *p)
{
    struct lx_worker *w0 = p->workers[0];
    sched_runnable *r;
    size_t n = 0;

    /* The workers are joined and pushes are refused, so nothing refills
     * these queues while svc->drop runs.  Injected work is popped as the
     * consumer it now is (a push half done cannot remain: every pusher
     * that could overlap the close has been joined; inject_push). */
    while ((r = ring_pop(p->fired_ring)) || (r = shared_take(&p->fired)) ||
           (r = shared_take(&p->high)) ||
           (r = shared_take(&p->low)) ||
           (r = inject_take(p, w0, 0))) {
        p->b->svc->drop(r);
        n++;
    }
    for (unsigned i = 0; i < p->nthreads; i++) {
        while ((r = ring_pop(&p->workers[i]->q))) {
            p->b->svc->drop(r);
            n++;
        }
    }
    return n;
}

void lx_pool_free(struct lx_pool *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->fired.mu);
    pthread_mutex_destroy(&p->high.mu);
    pthread_mutex_destroy(&p->low.mu);
    pthread_mutex_destroy(&p->idle_mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        free(p->workers[i]);
    free(p->workers);
    free(p->idle);
    free(p->fired_ring);
    free(p);
}

/* In a forked child: the workers do not exist there and any of them may
 * have held a queue's lock at the fork, so free the memory and nothing
 * else.  What the parent had queued is neither run nor dropped. */
void lx_pool_abandon(struct lx_pool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->nthreads; i++)
        free(p->workers[i]);
    free(p->workers);
    free(p->idle);
    free(p->fired_ring);
    free(p);
}
