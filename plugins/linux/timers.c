/* SPDX-License-Identifier: MIT */
/*
 * plugins/linux/timers.c - delayed runnables.
 *
 * A binary min-heap ordered by (due, sequence) under a mutex, fired by one
 * thread that sleeps on a futex with an absolute CLOCK_MONOTONIC deadline
 * (FUTEX_WAIT_BITSET), so it costs nothing while it waits.  The thread's
 * timer slack is set to 1 ns: the default 50 us slack would be added to
 * every sleep.  It wakes LX_TIMER_SPIN_NS before the earliest due time and
 * spins the rest, because a futex sleep on a loaded machine overshoots by
 * tens of microseconds.  A runnable is handed on only once the clock reads
 * at or past its due time, so nothing fires early; equal due times fire in
 * the order they were added.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "linux.h"

#define LX_TIMER_SPIN_NS 3000u
#define LX_TIMER_BATCH 64
#define LX_TIMER_FIFO_PRIO 2     /* above the realtime thread's 1 */
#define LX_TIMER_INLINE_MAX_NS 200000u
#define LX_TIMER_CHAIN 16

__thread sched_runnable **lx_inline_slot __attribute__((tls_model("initial-exec")));
/* The timers whose thread the calling thread is, or NULL. */
static __thread struct lx_timers *lx_timer_self __attribute__((tls_model("initial-exec")));

/* A heap entry: 16 bytes, so that sifting moves little.  While r waits
 * here its backend_slot words are ours: [0] the sequence number that
 * orders equal due times (read only on a tie), [1] whether it runs on the
 * main thread. */
struct lx_timer {
    uint64_t due;
    sched_runnable *r;
};

#define LX_SEQ(r) ((uintptr_t)(r)->backend_slot[0])
#define LX_MAIN(r) ((r)->backend_slot[1] != NULL)

struct lx_timers {
    struct lx_backend *b;
    pthread_mutex_t mu;
    struct lx_timer *heap;
    size_t n, cap;
    uint64_t next_seq;
    atomic_uint wake;           /* futex word: bumped when the thread must look again */
    int closing;
    int fifo;                   /* the thread runs SCHED_FIFO */
    int inline_ok;              /* due work may run on this thread */
    int nested;                 /* parked inside such work: run nothing here */
    pthread_t thread;
};

static int timer_less(const struct lx_timer *a, const struct lx_timer *b)
{
    /* The sequence compared as a difference: right across a wrap too. */
    return a->due < b->due ||
           (a->due == b->due && (intptr_t)(LX_SEQ(a->r) - LX_SEQ(b->r)) < 0);
}

static void heap_up(struct lx_timer *h, size_t i)
{
    struct lx_timer x = h[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_less(&x, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = x;
}

static void heap_down(struct lx_timer *h, size_t n, size_t i)
{
    struct lx_timer x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && timer_less(&h[c + 1], &h[c]))
            c++;
        if (!timer_less(&h[c], &x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

/* Remove and return the earliest timer.  Holds t->mu; t->n > 0.  The
 * hole at the root moves down along the earlier child to a leaf, one
 * comparison a level, and the last timer fills it from there, moving up:
 * it came from the bottom, so it rarely moves far.  About half the
 * comparisons of sifting the last timer down from the root, which matters
 * with thousands of timers pending. */
static struct lx_timer heap_pop(struct lx_timers *t)
{
    struct lx_timer *h = t->heap, top = h[0], x;
    size_t n = --t->n, i = 0, c;

    if (n == 0)
        return top;
    x = h[n];
    while ((c = 2 * i + 1) < n) {
        if (c + 1 < n && timer_less(&h[c + 1], &h[c]))
            c++;
        h[i] = h[c];
        i = c;
    }
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_less(&x, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = x;
    return top;
}

/* Hand a due runnable to its queue, or return it (1) for the caller to
 * run here.  Timer thread, without t->mu.
 *
 * Background work is run right here when no worker is searching: the
 * workers are then either all busy or all parked, and waking one would add
 * a second scheduling delay to the timer's lateness (tens of microseconds
 * to milliseconds on a loaded machine).  Low priority always goes to the
 * pool, so it cannot delay the timers behind it. */
static int timer_fire(struct lx_timers *t, const struct lx_timer *tm)
{
    struct lx_backend *b = t->b;
    int rc;

    if (LX_MAIN(tm->r)) {
        rc = lx_mainq_push(b, tm->r);
    } else {
        sched_runnable_info info = { .size = sizeof info };
        b->svc->info(tm->r, &info);
        if (info.priority == SCHED_PRIORITY_REALTIME) {
            rc = lx_rt_push(b, tm->r);
        } else if (t->inline_ok && !t->nested && info.priority != SCHED_PRIORITY_LOW &&
                   !lx_pool_has_searcher(b->pool)) {
            return 1;
        } else if (info.priority == SCHED_PRIORITY_HIGH) {
            rc = lx_pool_push_fired(b->pool, tm->r);   /* a timer's wake-up */
        } else {
            rc = lx_pool_push(b->pool, tm->r, (sched_priority)info.priority);
        }
    }
    /* The queues close only after this thread is joined. */
    if (rc != 0)
        b->svc->drop(tm->r);
    return 0;
}

/* A runnable the timer thread ran took too long: from now on it only
 * hands work on, at the normal policy. */
static void timer_stop_inline(struct lx_timers *t, uint64_t took_ns)
{
    char msg[200];

    t->inline_ok = 0;
    if (t->fifo)
        lx_sched_normal();
    t->fifo = 0;
    snprintf(msg, sizeof msg, "a task ran %llu us on the timer thread; timers now hand "
             "all work to the pool", (unsigned long long)(took_ns / 1000));
    t->b->svc->log(t->b->host, SCHED_LOG_INFO, msg);
}

/* Run r on the timer thread, and then what it wakes: a timer's runnable
 * usually just wakes the task waiting on it, and handing that task to a
 * worker would cost the very wake-up running r here saved.  The first
 * medium-priority runnable scheduled while r runs lands in a one-runnable
 * slot (lx_pool_push looks for it) and runs next, up to LX_TIMER_CHAIN in
 * a row; anything else goes to the pool as usual. */
static void timer_run_here(struct lx_timers *t, sched_runnable *r)
{
    sched_runnable *slot = NULL;
    uint64_t t0 = lx_now_ns(), took;

    lx_inline_slot = &slot;
    for (int i = 0; r && i < LX_TIMER_CHAIN; i++) {
        t->b->svc->run(r);
        r = slot;
        slot = NULL;
    }
    lx_inline_slot = NULL;
    if (r && lx_pool_push(t->b->pool, r, SCHED_PRIORITY_MEDIUM) != 0)
        t->b->svc->drop(r);
    took = lx_now_ns() - t0;
    if (took > LX_TIMER_INLINE_MAX_NS)
        timer_stop_inline(t, took);
}

/* Fire every due timer, in due order: up to LX_TIMER_BATCH are popped
 * under the lock, then handed on or run without it.  A runnable run here
 * inherits the thread's SCHED_FIFO (leaving and re-entering it around each
 * run costs a CFS wake-up, milliseconds on a loaded machine); the first
 * one that runs longer than LX_TIMER_INLINE_MAX_NS ends that for good, so
 * a long task can hold a real-time CPU once at most. */
static void timer_fire_due(struct lx_timers *t, uint64_t now)
{
    struct lx_timer batch[LX_TIMER_BATCH];
    size_t n = 0;

    while (n < LX_TIMER_BATCH && t->n > 0 && t->heap[0].due <= now)
        batch[n++] = heap_pop(t);
    pthread_mutex_unlock(&t->mu);
    for (size_t i = 0; i < n; i++)
        if (timer_fire(t, &batch[i]))
            timer_run_here(t, batch[i].r);
    pthread_mutex_lock(&t->mu);
}

/* The timer thread: sleep on the wake word until the earliest due time,
 * fire what is due, repeat.  It asks for SCHED_FIFO so that its wake-ups
 * are not queued behind other processes' threads (on a loaded machine
 * that is the difference between microseconds and milliseconds); where
 * that is not permitted it runs at the normal policy, and says so once in
 * the log. */
static void *timer_thread(void *arg)
{
    struct lx_timers *t = arg;

    lx_timer_self = t;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    t->fifo = lx_sched_fifo(LX_TIMER_FIFO_PRIO) == 0;
    if (!t->fifo)
        t->b->svc->log(t->b->host, SCHED_LOG_INFO,
                       "SCHED_FIFO not permitted for the timer thread; "
                       "timers run at the normal policy");
    pthread_mutex_lock(&t->mu);
    while (!t->closing) {
        uint64_t now = lx_now_ns();
        if (t->n > 0 && t->heap[0].due <= now) {
            timer_fire_due(t, now);
            continue;
        }
        unsigned seen = atomic_load(&t->wake);
        if (t->n > 0 && t->heap[0].due - now <= LX_TIMER_SPIN_NS) {
            /* Close enough: spin, without the lock so adders get in; a
             * new earliest timer changes the wake word and ends the spin. */
            uint64_t due = t->heap[0].due;
            pthread_mutex_unlock(&t->mu);
            while (lx_now_ns() < due && atomic_load(&t->wake) == seen)
                ;
            pthread_mutex_lock(&t->mu);
            continue;
        }
        int have_deadline = t->n > 0;
        uint64_t deadline = have_deadline ? t->heap[0].due - LX_TIMER_SPIN_NS : 0;
        pthread_mutex_unlock(&t->mu);
        lx_futex_wait(&t->wake, seen, have_deadline ? &deadline : NULL);
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

int lx_timers_is_self(struct lx_timers *t)
{
    return t && lx_timer_self == t;
}

/* A task this thread runs has blocked.  Keep firing timers (the awaited
 * future may depend on one) but run nothing here, and no slot: the
 * blocked task's own frame is still on this stack. */
int lx_timers_park(struct lx_timers *t, atomic_uint *s, uint64_t deadline)
{
    sched_runnable **slot = lx_inline_slot;
    int rc = 0;

    lx_inline_slot = NULL;
    t->nested++;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        /* Read the wake word before the state: an unpark sets the state,
         * then bumps the word, so one of the two shows it. */
        unsigned seen = atomic_load(&t->wake);
        unsigned expect = PK_NOTIFIED;
        uint64_t now = lx_now_ns(), until;

        if (atomic_compare_exchange_strong(s, &expect, PK_EMPTY))
            break;
        if (now >= deadline) {
            rc = lx_park_timed_out(s, PK_PARKED_TIMER);
            break;
        }
        if (t->n > 0 && t->heap[0].due <= now) {
            timer_fire_due(t, now);
            continue;
        }
        until = t->n > 0 && t->heap[0].due < deadline ? t->heap[0].due : deadline;
        pthread_mutex_unlock(&t->mu);
        lx_futex_wait(&t->wake, seen, until == UINT64_MAX ? NULL : &until);
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    t->nested--;
    lx_inline_slot = slot;
    return rc;
}

void lx_timers_kick(struct lx_timers *t)
{
    atomic_fetch_add(&t->wake, 1);
    lx_futex_wake(&t->wake, 1);
}

int lx_timers_new(struct lx_backend *b, struct lx_timers **out, char *err, size_t errlen)
{
    struct lx_timers *t = calloc(1, sizeof *t);
    int rc;

    if (!t) {
        snprintf(err, errlen, "out of memory allocating the timer heap");
        return SCHED_ENOMEM;
    }
    t->b = b;
    t->inline_ok = 1;
    /* Priority inheritance: a normal thread adding a timer must not keep
     * the SCHED_FIFO timer thread waiting on the lock while it is itself
     * preempted. */
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&t->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    atomic_init(&t->wake, 0);
    rc = pthread_create(&t->thread, NULL, timer_thread, t);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the timer thread: %s", strerror(rc));
        pthread_mutex_destroy(&t->mu);
        free(t);
        return rc == EAGAIN ? SCHED_EAGAIN : rc == ENOMEM ? SCHED_ENOMEM : SCHED_EBACKEND;
    }
    *out = t;
    return 0;
}

int lx_timers_add(struct lx_timers *t, sched_runnable *r, uint64_t due_ns, int main)
{
    int wake;

    pthread_mutex_lock(&t->mu);
    if (t->closing) {
        pthread_mutex_unlock(&t->mu);
        return SCHED_ECLOSED;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct lx_timer *h = realloc(t->heap, cap * sizeof *h);
        if (!h) {
            pthread_mutex_unlock(&t->mu);
            return SCHED_ENOMEM;
        }
        t->heap = h;
        t->cap = cap;
    }
    r->backend_slot[0] = (void *)(uintptr_t)t->next_seq++;
    r->backend_slot[1] = main ? (void *)r : NULL;
    t->heap[t->n] = (struct lx_timer){ due_ns, r };
    heap_up(t->heap, t->n++);
    /* Only a new earliest timer changes when the thread must wake. */
    wake = t->heap[0].r == r;
    if (wake)
        atomic_fetch_add(&t->wake, 1);
    pthread_mutex_unlock(&t->mu);
    if (wake)
        lx_futex_wake(&t->wake, 1);
    return 0;
}

/*
 * Take r back if it still waits in the heap: 0 (the caller drops it) or
 * SCHED_ENOENT.  A search under t->mu: a timer is taken back only when
 * it is dropped before it fires, and the heap is one contiguous array.
 * The thread is not woken: at worst it wakes for the timer that is gone,
 * finds nothing due, and sleeps again.
 */
int lx_timers_remove(struct lx_timers *t, sched_runnable *r)
{
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n; i++) {
        if (t->heap[i].r != r)
            continue;
        t->heap[i] = t->heap[--t->n];
        if (i < t->n) {
            heap_up(t->heap, i);
            heap_down(t->heap, t->n, i);
        }
        pthread_mutex_unlock(&t->mu);
        return 0;
    }
    pthread_mutex_unlock(&t->mu);
    return SCHED_ENOENT;
}

void lx_timers_stop(struct lx_timers *t)
{
    pthread_mutex_lock(&t->mu);
    t->closing = 1;
    atomic_fetch_add(&t->wake, 1);
    pthread_mutex_unlock(&t->mu);
    lx_futex_wake(&t->wake, 1);
    pthread_join(t->thread, NULL);
}

size_t lx_timers_drain(struct lx_timers *t)
{
    size_t n = 0;

    /* The thread is gone and adds are refused (SCHED_ECLOSED), so a
     * svc->drop that wakes a timer-waiting task cannot refill the heap. */
    pthread_mutex_lock(&t->mu);
    while (t->n > 0) {
        struct lx_timer tm = heap_pop(t);
        pthread_mutex_unlock(&t->mu);
        t->b->svc->drop(tm.r);
        n++;
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

void lx_timers_free(struct lx_timers *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->heap);
    free(t);
}

/* In a forked child: no timer thread, and t->mu may have been held at the
 * fork.  Drop what waits in the heap (a wake-up's drop touches only the
 * host's memory), so that none is later taken back from freed memory,
 * and free the rest without the lock. */
void lx_timers_abandon(struct lx_timers *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        t->b->svc->drop(t->heap[i].r);
    free(t->heap);
    free(t);
}
