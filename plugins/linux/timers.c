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

#define LX_TIMER_SPIN_NS 20000u

struct lx_timer {
    uint64_t due;
    uint64_t seq;               /* tie-break: FIFO among equal due times */
    sched_runnable *r;
    int main;
};

struct lx_timers {
    struct lx_backend *b;
    pthread_mutex_t mu;
    struct lx_timer *heap;
    size_t n, cap;
    uint64_t next_seq;
    atomic_uint wake;           /* futex word: bumped when the thread must look again */
    int closing;
    pthread_t thread;
};

static int timer_less(const struct lx_timer *a, const struct lx_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
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

/* Remove and return the earliest timer.  Holds t->mu; t->n > 0. */
static struct lx_timer heap_pop(struct lx_timers *t)
{
    struct lx_timer top = t->heap[0];
    t->heap[0] = t->heap[--t->n];
    if (t->n > 0)
        heap_down(t->heap, t->n, 0);
    return top;
}

/* Hand a due runnable to its queue.  Timer thread, without t->mu. */
static void timer_fire(struct lx_timers *t, const struct lx_timer *tm)
{
    struct lx_backend *b = t->b;
    int rc;

    if (tm->main) {
        rc = lx_mainq_push(b, tm->r);
    } else {
        sched_runnable_info info = { .size = sizeof info };
        b->svc->info(tm->r, &info);
        rc = lx_pool_push(b->pool, tm->r, (sched_priority)info.priority);
    }
    /* The queues close only after this thread is joined. */
    if (rc != 0)
        b->svc->drop(tm->r);
}

static void *timer_thread(void *arg)
{
    struct lx_timers *t = arg;

    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    pthread_mutex_lock(&t->mu);
    while (!t->closing) {
        uint64_t now = lx_now_ns();
        if (t->n > 0 && t->heap[0].due <= now) {
            struct lx_timer tm = heap_pop(t);
            pthread_mutex_unlock(&t->mu);
            timer_fire(t, &tm);
            pthread_mutex_lock(&t->mu);
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

int lx_timers_new(struct lx_backend *b, struct lx_timers **out, char *err, size_t errlen)
{
    struct lx_timers *t = calloc(1, sizeof *t);
    int rc;

    if (!t) {
        snprintf(err, errlen, "out of memory allocating the timer heap");
        return SCHED_ENOMEM;
    }
    t->b = b;
    pthread_mutex_init(&t->mu, NULL);
    atomic_init(&t->wake, 0);
    rc = pthread_create(&t->thread, NULL, timer_thread, t);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the timer thread: %s", strerror(rc));
        pthread_mutex_destroy(&t->mu);
        free(t);
        return rc == EAGAIN || rc == ENOMEM ? SCHED_ENOMEM : SCHED_EBACKEND;
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
    t->heap[t->n] = (struct lx_timer){ due_ns, t->next_seq++, r, main };
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
