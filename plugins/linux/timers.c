/* SPDX-License-Identifier: MIT */
/*
 * plugins/linux/timers.c - delayed runnables.
 *
 * A binary min-heap ordered by (due, sequence) under a mutex, fired by one
 * thread that sleeps on a futex with an absolute CLOCK_MONOTONIC deadline
 * (FUTEX_WAIT_BITSET), so it costs nothing while it waits.  An add takes
 * no lock: it pushes the runnable on a lock-free stack that the thread
 * (or whoever next holds the mutex) moves into the heap, and wakes the
 * thread only when it is due before the time the thread waits for: a
 * burst of thousands of timers armed from the workers then costs each
 * arm one compare-and-swap, not a turn at a priority-inheriting mutex
 * that the timer thread holds while it fires.  The thread's
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
 * in the heap its backend_slot words are ours: [0] the sequence number
 * that orders equal due times (read only on a tie), [1] whether it runs
 * on the main thread.  While it waits on the stack of adds, [0] links it
 * to the add before it, with the main flag in the low bit, and [1] holds
 * its due time: that needs 64-bit pointers, so elsewhere an add takes
 * the mutex and goes straight into the heap. */
struct lx_timer {
    uint64_t due;
    sched_runnable *r;
};

#define LX_SEQ(r) ((uintptr_t)(r)->backend_slot[0])
#define LX_MAIN(r) ((r)->backend_slot[1] != NULL)
#define LX_ADDS_LOCKFREE (UINTPTR_MAX >= UINT64_MAX)
/* The stack of adds once lx_timers_stop has closed it: adds are refused. */
#define LX_ADDS_CLOSED ((sched_runnable *)(uintptr_t)1)

struct lx_timers {
    struct lx_backend *b;
    pthread_mutex_t mu;
    struct lx_timer *heap;      /* under mu */
    size_t n;                   /* under mu */
    atomic_size_t cap;          /* written under mu: grows, never shrinks */
    atomic_size_t held;         /* timers added and not yet popped or removed */
    _Atomic(sched_runnable *) adds;  /* not yet in the heap, newest first */
    _Atomic uint64_t sleep_due; /* the thread waits until then: an add due earlier wakes it */
    uint64_t next_seq;          /* under mu */
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

/* Put r in the heap, due at due, after every timer added before it.
 * Holds t->mu; the heap has room (lx_timers_add reserved it). */
static void heap_add(struct lx_timers *t, sched_runnable *r, uint64_t due, int main)
{
    r->backend_slot[0] = (void *)(uintptr_t)t->next_seq++;
    r->backend_slot[1] = main ? (void *)r : NULL;
    t->heap[t->n] = (struct lx_timer){ due, r };
    heap_up(t->heap, t->n++);
}

/* Move the stack of adds into the heap, oldest first, so that equal due
 * times keep the order they were added in.  Holds t->mu, which anyone
 * taking the stack holds: so the stack is taken whole with one exchange,
 * and it cannot be closed under us. */
static void take_adds(struct lx_timers *t)
{
    sched_runnable *r = atomic_load_explicit(&t->adds, memory_order_relaxed), *oldest = NULL;

    if (r == NULL || r == LX_ADDS_CLOSED)
        return;
    r = atomic_exchange_explicit(&t->adds, NULL, memory_order_acquire);
    while (r) {
        uintptr_t link = (uintptr_t)r->backend_slot[0];
        r->backend_slot[0] = (void *)((uintptr_t)oldest | (link & 1u));
        oldest = r;
        r = (sched_runnable *)(link & ~(uintptr_t)1);
    }
    while (oldest) {
        uintptr_t link = (uintptr_t)oldest->backend_slot[0];
        uint64_t due = (uint64_t)(uintptr_t)oldest->backend_slot[1];
        sched_runnable *next = (sched_runnable *)(link & ~(uintptr_t)1);
        heap_add(t, oldest, due, (int)(link & 1u));
        oldest = next;
    }
}

/* The thread is about to wait (for the wake word, read before this) until
 * due: an add due earlier must wake it.  1 if adds came in meanwhile (look
 * again rather than wait).  Holds t->mu.  Both sequentially consistent, as
 * is an add's push then load of sleep_due: either the add is seen here, or
 * it sees this due and bumps the word. */
static int about_to_wait(struct lx_timers *t, uint64_t due)
{
    sched_runnable *r;
    atomic_store(&t->sleep_due, due);
    r = atomic_load(&t->adds);
    return r != NULL && r != LX_ADDS_CLOSED;
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
    h[i] = x;
    heap_up(h, i);
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
    atomic_fetch_sub_explicit(&t->held, n, memory_order_relaxed);
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
        take_adds(t);
        if (t->n > 0 && t->heap[0].due <= now) {
            timer_fire_due(t, now);
            continue;
        }
        unsigned seen = atomic_load(&t->wake);
        if (about_to_wait(t, t->n > 0 ? t->heap[0].due : UINT64_MAX))
            continue;
        if (t->n > 0 && t->heap[0].due - now <= LX_TIMER_SPIN_NS) {
            /* Close enough: spin, without the lock so removers get in; a
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
        take_adds(t);
        if (t->n > 0 && t->heap[0].due <= now) {
            timer_fire_due(t, now);
            continue;
        }
        until = t->n > 0 && t->heap[0].due < deadline ? t->heap[0].due : deadline;
        if (about_to_wait(t, until))
            continue;
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
    atomic_init(&t->cap, 0);
    atomic_init(&t->held, 0);
    atomic_init(&t->adds, NULL);
    atomic_init(&t->sleep_due, UINT64_MAX);
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

/* Make room in the heap for want timers.  0 or SCHED_ENOMEM. */
static int heap_reserve(struct lx_timers *t, size_t want)
{
    size_t cap;
    int rc = 0;

    pthread_mutex_lock(&t->mu);
    cap = atomic_load_explicit(&t->cap, memory_order_relaxed);
    if (cap < want) {
        struct lx_timer *h;
        while (cap < want)
            cap = cap ? 2 * cap : 64;
        h = realloc(t->heap, cap * sizeof *h);
        if (h) {
            t->heap = h;
            atomic_store_explicit(&t->cap, cap, memory_order_release);
        } else {
            rc = SCHED_ENOMEM;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

/* Any thread.  First a place in the heap: held counts every timer added
 * and not yet popped, and each add makes the heap at least as large as
 * the count it saw, so whoever moves the adds into the heap finds room
 * (of the timers present at any moment, the last to count saw them all). */
int lx_timers_add(struct lx_timers *t, sched_runnable *r, uint64_t due_ns, int main)
{
    size_t held = atomic_fetch_add_explicit(&t->held, 1, memory_order_relaxed) + 1;
    sched_runnable *head;
    uint64_t sleep_due;
    int rc = 0;

    if (held > atomic_load_explicit(&t->cap, memory_order_acquire))
        rc = heap_reserve(t, held);
#if LX_ADDS_LOCKFREE
    if (rc == 0) {
        r->backend_slot[1] = (void *)(uintptr_t)due_ns;
        head = atomic_load_explicit(&t->adds, memory_order_relaxed);
        do {
            if (head == LX_ADDS_CLOSED) {
                rc = SCHED_ECLOSED;
                break;
            }
            r->backend_slot[0] = (void *)((uintptr_t)head | (main ? 1u : 0u));
        } while (!atomic_compare_exchange_weak_explicit(&t->adds, &head, r, memory_order_seq_cst,
                                                        memory_order_relaxed));
    }
#else
    if (rc == 0) {
        pthread_mutex_lock(&t->mu);
        head = atomic_load_explicit(&t->adds, memory_order_relaxed);
        if (head == LX_ADDS_CLOSED)
            rc = SCHED_ECLOSED;
        else
            heap_add(t, r, due_ns, main);
        pthread_mutex_unlock(&t->mu);
    }
#endif
    if (rc != 0) {
        atomic_fetch_sub_explicit(&t->held, 1, memory_order_relaxed);
        return rc;
    }
    /* Only a due time before the one the thread waits for changes when it
     * must wake; lowering sleep_due spares the adds after this one, due
     * no earlier, a wake-up of their own. */
    sleep_due = atomic_load(&t->sleep_due);
    while (due_ns < sleep_due) {
        if (atomic_compare_exchange_weak(&t->sleep_due, &sleep_due, due_ns)) {
            lx_timers_kick(t);
            break;
        }
    }
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
    take_adds(t);
    for (size_t i = 0; i < t->n; i++) {
        if (t->heap[i].r != r)
            continue;
        t->heap[i] = t->heap[--t->n];
        if (i < t->n) {
            heap_up(t->heap, i);
            heap_down(t->heap, t->n, i);
        }
        atomic_fetch_sub_explicit(&t->held, 1, memory_order_relaxed);
        pthread_mutex_unlock(&t->mu);
        return 0;
    }
    pthread_mutex_unlock(&t->mu);
    return SCHED_ENOENT;
}

void lx_timers_stop(struct lx_timers *t)
{
    pthread_mutex_lock(&t->mu);
    take_adds(t);
    atomic_store(&t->adds, LX_ADDS_CLOSED);    /* from now on adds are refused */
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
        atomic_fetch_sub_explicit(&t->held, 1, memory_order_relaxed);
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
 * fork.  Drop what waits in the heap and on the stack of adds (a
 * wake-up's drop touches only the host's memory), so that none is later
 * taken back from freed memory, and free the rest without the lock. */
void lx_timers_abandon(struct lx_timers *t)
{
    sched_runnable *r;

    if (!t)
        return;
    r = atomic_exchange(&t->adds, LX_ADDS_CLOSED);
    while (r && r != LX_ADDS_CLOSED) {
        sched_runnable *next = (sched_runnable *)((uintptr_t)r->backend_slot[0] & ~(uintptr_t)1);
        t->b->svc->drop(r);
        r = next;
    }
    for (size_t i = 0; i < t->n; i++)
        t->b->svc->drop(t->heap[i].r);
    free(t->heap);
    free(t);
}
