/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/peer_pthread.c - the pools a careful C programmer writes in
 * an afternoon, both with one mutex and one condition variable guarding a
 * growable ring of (fn, arg) pairs, so a job costs no allocation, and the
 * same timers: a binary heap served by one thread with
 * pthread_cond_timedwait.
 *
 * "pthread-pool", the pool of issue 15: submit pushes and signals while it
 * holds the lock whenever a worker is idle (signalling after unlocking
 * lets a waking worker and the submitter fight for the lock, which made
 * this pool bimodal); workers pop one job per lock hold and wait only
 * when the ring is empty.  Its "idle" count stays up until a woken worker
 * has taken the lock again, so while the submitter runs ahead nearly every
 * push signals.
 *
 * "pool-batch", the same pool with the two obvious repairs: a push
 * signals only when a waiting worker has not already been signalled
 * (waiting counts the workers inside pthread_cond_wait, wakeups the
 * signals they have not yet woken from), and a worker takes a batch of
 * jobs per lock hold: its share of the ring (len / workers, at least one,
 * at most PB_BATCH), signalling one more worker if jobs are left and one
 * is waiting unsignalled.  The price of batching: jobs taken with one
 * that blocks wait behind it while another worker may be idle.
 *
 * "pool-spin", pool-batch whose idle workers do not wait at once: when the
 * ring is empty a worker first checks it again up to PS_SPIN times,
 * yielding the CPU between checks (sched_yield, so a submitter sharing
 * the CPU gets to push), and a push skips the signal while a worker spins,
 * since that worker will see the job.  This is the next step when the
 * condition variable's wake-up (a system call on both sides) is what a
 * job costs.
 */
#include "config.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

typedef struct job {
    void (*fn)(void *);
    void *arg;
} job;

typedef struct tentry {
    uint64_t due;
    void (*fn)(void *);
    void *arg;
} tentry;

typedef struct ppool {
    bench_jobs jobs;        /* first: the workloads are bench_jobs_w* */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *ring;              /* cap is a power of two */
    size_t cap, head, len;
    unsigned idle;          /* pthread-pool: workers waiting or waking */
    unsigned waiting;       /* pool-batch: workers in pthread_cond_wait */
    unsigned wakeups;       /* pool-batch: signals not yet woken from */
    unsigned spinning;      /* pool-spin: workers between unlock and relock
                             * of a spin */
    atomic_size_t avail;    /* pool-spin: len as of the last unlock, for
                             * the spinners' unlocked checks */
    int stop;
    unsigned n;
    pthread_t *th;
    /* timers */
    pthread_mutex_t tmu;
    pthread_cond_t tcv;
    tentry *heap;
    size_t hn, hcap;
    int tstop;
    pthread_t tth;
} ppool;

static void *pp_worker(void *arg)
{
    ppool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->len == 0) {
            if (p->stop)
                break;
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
            continue;
        }
        job j = p->ring[p->head];
        p->head = (p->head + 1) & (p->cap - 1);
        p->len--;
        pthread_mutex_unlock(&p->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Doubles the ring, keeping FIFO order.  Called with p->mu held. */
static void pp_grow(ppool *p)
{
    size_t cap = p->cap ? 2 * p->cap : 1024;
    job *ring = malloc(cap * sizeof *ring);
    if (!ring)
        abort();
    for (size_t i = 0; i < p->len; i++)
        ring[i] = p->ring[(p->head + i) & (p->cap - 1)];
    free(p->ring);
    p->ring = ring;
    p->cap = cap;
    p->head = 0;
}

/* Append a job to the ring, growing it when full; the caller holds mu. */
static inline void pp_push(ppool *p, void (*fn)(void *), void *arg)
{
    if (p->len == p->cap)
        pp_grow(p);
    p->ring[(p->head + p->len) & (p->cap - 1)] = (job){ fn, arg };
    p->len++;
}

static void pp_submit(void *ctx, void (*fn)(void *), void *arg)
{
    ppool *p = ctx;
    pthread_mutex_lock(&p->mu);
    pp_push(p, fn, arg);
    if (p->idle)
        pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

enum { PB_BATCH = 64 };

/* Take a worker's share of a non-empty ring into batch: len / workers, at
 * least one, at most PB_BATCH; the caller holds mu.  Returns the count. */
static inline size_t pb_take(ppool *p, job *batch)
{
    size_t take = p->len / p->n;
    if (take == 0)
        take = 1;
    if (take > PB_BATCH)
        take = PB_BATCH;
    for (size_t i = 0; i < take; i++) {
        batch[i] = p->ring[p->head];
        p->head = (p->head + 1) & (p->cap - 1);
    }
    p->len -= take;
    return take;
}

static void *pb_worker(void *arg)
{
    ppool *p = arg;
    job batch[PB_BATCH];

    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->len == 0) {
            if (p->stop)
                break;
            p->waiting++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->waiting--;
            /* A spurious wake-up may take another's count: then one
             * more signal than needed is sent, never one fewer. */
            if (p->wakeups > 0)
                p->wakeups--;
            continue;
        }
        size_t take = pb_take(p, batch);
        if (p->len > 0 && p->waiting > p->wakeups) {
            p->wakeups++;
            pthread_cond_signal(&p->cv);
        }
        pthread_mutex_unlock(&p->mu);
        for (size_t i = 0; i < take; i++)
            batch[i].fn(batch[i].arg);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pb_submit(void *ctx, void (*fn)(void *), void *arg)
{
    ppool *p = ctx;
    pthread_mutex_lock(&p->mu);
    pp_push(p, fn, arg);
    if (p->waiting > p->wakeups) {
        p->wakeups++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

/*
 * pool-spin.  No lost wake-up: a push skips the signal only when it sees
 * spinning > 0 under the lock, and spinning counts workers that raised it
 * under the lock before that push and lower it under the lock after it,
 * then (same hold) test len before they may wait.  So such a worker finds
 * the job in the ring, unless another worker has already taken it; its
 * spin is bounded (PS_SPIN yields), so it gets there.  The unlocked checks
 * of avail only end a spin early: a stale zero costs a yield, a stale
 * non-zero a look under the lock.  Left-over jobs and the waiters are
 * handled as in pool-batch: a worker that leaves jobs in the ring signals
 * one more waiter unless every waiter already has a signal coming, and a
 * push signals when no one spins and a waiter has none coming.
 */
enum { PS_SPIN = 16 };

static void *ps_worker(void *arg)
{
    ppool *p = arg;
    job batch[PB_BATCH];
    int spun = 0;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->len == 0) {
            if (p->stop)
                break;
            if (!spun) {
                spun = 1;
                p->spinning++;
                pthread_mutex_unlock(&p->mu);
                for (int i = 0; i < PS_SPIN; i++) {
                    if (atomic_load_explicit(&p->avail, memory_order_relaxed) != 0)
                        break;
                    sched_yield();
                }
                pthread_mutex_lock(&p->mu);
                p->spinning--;
                continue;
            }
            p->waiting++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->waiting--;
            if (p->wakeups > 0)
                p->wakeups--;
            spun = 0;
            continue;
        }
        spun = 0;
        size_t take = pb_take(p, batch);
        atomic_store_explicit(&p->avail, p->len, memory_order_relaxed);
        if (p->len > 0 && p->waiting > p->wakeups) {
            p->wakeups++;
            pthread_cond_signal(&p->cv);
        }
        pthread_mutex_unlock(&p->mu);
        for (size_t i = 0; i < take; i++)
            batch[i].fn(batch[i].arg);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void ps_submit(void *ctx, void (*fn)(void *), void *arg)
{
    ppool *p = ctx;
    pthread_mutex_lock(&p->mu);
    pp_push(p, fn, arg);
    atomic_store_explicit(&p->avail, p->len, memory_order_relaxed);
    if (p->spinning == 0 && p->waiting > p->wakeups) {
        p->wakeups++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

static void *pp_timer_thread(void *arg)
{
    ppool *p = arg;
    pthread_mutex_lock(&p->tmu);
    while (!p->tstop) {
        uint64_t now = bench_now_ns();
        if (p->hn > 0 && p->heap[0].due <= now) {
            tentry t = p->heap[0];
            size_t i = 0;
            p->heap[0] = p->heap[--p->hn];
            for (;;) {      /* sift down */
                size_t c = 2 * i + 1;
                if (c >= p->hn)
                    break;
                if (c + 1 < p->hn && p->heap[c + 1].due < p->heap[c].due)
                    c++;
                if (p->heap[i].due <= p->heap[c].due)
                    break;
                tentry x = p->heap[i];
                p->heap[i] = p->heap[c];
                p->heap[c] = x;
                i = c;
            }
            pthread_mutex_unlock(&p->tmu);
            p->jobs.submit(p, t.fn, t.arg);
            pthread_mutex_lock(&p->tmu);
        } else if (p->hn > 0) {
            struct timespec ts = { (time_t)(p->heap[0].due / 1000000000u),
                                   (long)(p->heap[0].due % 1000000000u) };
            pthread_cond_timedwait(&p->tcv, &p->tmu, &ts);
        } else {
            pthread_cond_wait(&p->tcv, &p->tmu);
        }
    }
    pthread_mutex_unlock(&p->tmu);
    return NULL;
}

static void pp_after(void *ctx, uint64_t delay_ns, void (*fn)(void *), void *arg)
{
    ppool *p = ctx;
    pthread_mutex_lock(&p->tmu);
    if (p->hn == p->hcap) {
        p->hcap = p->hcap ? 2 * p->hcap : 64;
        p->heap = realloc(p->heap, p->hcap * sizeof *p->heap);
    }
    size_t i = p->hn++;
    p->heap[i] = (tentry){ bench_now_ns() + delay_ns, fn, arg };
    while (i > 0 && p->heap[(i - 1) / 2].due > p->heap[i].due) {
        tentry x = p->heap[i];
        p->heap[i] = p->heap[(i - 1) / 2];
        p->heap[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
    if (i == 0)
        pthread_cond_signal(&p->tcv);
    pthread_mutex_unlock(&p->tmu);
}

enum pp_kind { PP_POOL, PP_BATCH, PP_SPIN };

static const struct {
    void (*submit)(void *pool, void (*fn)(void *), void *arg);
    void *(*worker)(void *pool);
} pp_kinds[] = {
    [PP_POOL] = { pp_submit, pp_worker },
    [PP_BATCH] = { pb_submit, pb_worker },
    [PP_SPIN] = { ps_submit, ps_worker },
};

static ppool *pp_new(enum pp_kind kind)
{
    ppool *p = calloc(1, sizeof *p);
    pthread_condattr_t ca;

    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->tmu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->tcv, &ca);
    pthread_condattr_destroy(&ca);
    p->n = bench_threads();
    atomic_init(&p->avail, 0);
    p->jobs = (bench_jobs){ pp_kinds[kind].submit, pp_after, p->n, 0 };
    p->th = calloc(p->n, sizeof *p->th);
    for (unsigned i = 0; i < p->n; i++)
        pthread_create(&p->th[i], NULL, pp_kinds[kind].worker, p);
    pthread_create(&p->tth, NULL, pp_timer_thread, p);
    return p;
}

static void pp_free(void *ctx)
{
    ppool *p = ctx;
    pthread_mutex_lock(&p->tmu);
    p->tstop = 1;
    pthread_cond_signal(&p->tcv);
    pthread_mutex_unlock(&p->tmu);
    pthread_join(p->tth, NULL);
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->th[i], NULL);
    free(p->th);
    free(p->ring);
    free(p->heap);
    free(p);
}

static void pp_impl(bench_impl *impl, const char *name, enum pp_kind kind)
{
    memset(impl, 0, sizeof *impl);
    impl->name = name;
    impl->w1 = bench_jobs_w1;
    impl->w2 = bench_jobs_w2;
    impl->w3 = bench_jobs_w3;
    impl->w4 = bench_jobs_w4;
    impl->w5 = bench_jobs_w5;
    impl->ctx = pp_new(kind);
    impl->fini = pp_free;
}

int bench_pthread_impl(bench_impl *impl)
{
    pp_impl(impl, "pthread-pool", PP_POOL);
    return 0;
}

int bench_pool_batch_impl(bench_impl *impl)
{
    pp_impl(impl, "pool-batch", PP_BATCH);
    return 0;
}

int bench_pool_spin_impl(bench_impl *impl)
{
    pp_impl(impl, "pool-spin", PP_SPIN);
    return 0;
}
