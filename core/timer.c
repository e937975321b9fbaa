/* SPDX-License-Identifier: MIT */
/*
 * core/timer.c - the host's clock, the timer future (sched_timer), and
 * the host's own timer thread for backends without schedule_after.  The
 * clock is the backend's (a simulated one's is virtual), else the
 * monotonic clock; futures, blocking and the test query read it, so it
 * lives here, below them, and not with the host.
 *
 * The timer thread: one per host, started at the first timer: a min-heap
 * of deadlines and a condition variable's timed wait.  A wait can return
 * early (spuriously, or on a coarse clock), so the thread re-reads the
 * clock and fires only what is due: never early.  A timer nobody
 * waits for any more is taken back out of the heap (sched__timer_cancel).
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

struct entry {
    uint64_t deadline;
    uint64_t seq;               /* equal deadlines fire in arming order */
    sched_runnable *r;
    int main;
};

struct sched__timers {
    sched__mutex lock;
    sched__cond cond;
    sched__thread thread;
    int started;
    int stopping;
    uint64_t seq;
    struct entry *heap;
    size_t len, cap;
    sched_host *host;
};

uint64_t sched_host_now(sched_host *host)
{
    if (host != NULL && host->ops.now != NULL)
        return host->ops.now(host->backend);
    return sched__mono_ns();
}

static int before(const struct entry *a, const struct entry *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

/* Entry i's runnable remembers where it is (this thread owns its
 * backend_slot words while it queues it), so a timer is taken back without
 * a search. */
static void place(struct entry *h, size_t i)
{
    h[i].r->backend_slot[0] = (void *)(uintptr_t)i;
}

static void swap(struct entry *h, size_t i, size_t j)
{
    struct entry tmp = h[i];
    h[i] = h[j], h[j] = tmp;
    place(h, i);
    place(h, j);
}

static void sift_up(struct entry *h, size_t i)
{
    place(h, i);
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&h[i], &h[parent]))
            break;
        swap(h, i, parent);
        i = parent;
    }
}

static void sift_down(struct entry *h, size_t len, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < len && before(&h[l], &h[m]))
            m = l;
        if (r < len && before(&h[r], &h[m]))
            m = r;
        if (m == i)
            break;
        swap(h, i, m);
        i = m;
    }
}

/* Remove entry i, keeping the heap a heap: the last entry takes its place
 * and moves up or down to where it belongs. */
static struct entry remove_at(struct sched__timers *tm, size_t i)
{
    struct entry e = tm->heap[i];
    if (i != --tm->len) {
        tm->heap[i] = tm->heap[tm->len];
        sift_up(tm->heap, i);
        sift_down(tm->heap, tm->len, i);
    }
    return e;
}

static struct entry pop(struct sched__timers *tm)
{
    return remove_at(tm, 0);
}

/* Fire r: a timer wake-up only wakes a task, so it runs right here; any
 * other runnable is queued where it asked to run. */
static void fire(sched_host *host, sched_runnable *r, int main)
{
    const struct sched__rhdr *h = (const struct sched__rhdr *)r;
    int rc;
    if ((atomic_load_explicit(&h->state, memory_order_relaxed) & SCHED__KIND_MASK) == SCHED__KIND_TIMER) {
        sched__runnable_run(r);
        return;
    }
    rc = main ? host->ops.schedule_main(host->backend, r) : host->ops.schedule(host->backend, r);
    if (rc != 0)
        sched__runnable_drop(r);
}

static void timer_thread(void *arg)
{
    struct sched__timers *tm = arg;
    sched__mutex_lock(&tm->lock);
    while (!tm->stopping) {
        uint64_t now;
        if (tm->len == 0) {
            sched__cond_wait(&tm->cond, &tm->lock);
            continue;
        }
        now = sched__mono_ns();
        if (tm->heap[0].deadline > now) {
            sched__cond_timedwait(&tm->cond, &tm->lock, tm->heap[0].deadline - now);
            continue;
        }
        {
            struct entry e = pop(tm);
            sched__mutex_unlock(&tm->lock);
            fire(tm->host, e.r, e.main);
            sched__mutex_lock(&tm->lock);
        }
    }
    sched__mutex_unlock(&tm->lock);
}

static struct sched__timers *timers_get(sched_host *host)
{
    struct sched__timers *tm = __atomic_load_n(&host->timers, __ATOMIC_ACQUIRE);
    struct sched__timers *expected = NULL;
    if (tm)
        return tm;
    tm = calloc(1, sizeof *tm);
    if (!tm)
        return NULL;
    sched__mutex_init(&tm->lock);
    sched__cond_init(&tm->cond);
    tm->host = host;
    if (!__atomic_compare_exchange_n(&host->timers, &expected, tm, 0, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST)) {
        sched__cond_destroy(&tm->cond);
        sched__mutex_destroy(&tm->lock);
        free(tm);
        return expected;
    }
    return tm;
}

/*
 * Queue r to run (or be scheduled) delay_ns from now.  Any thread.
 * Returns 0, or SCHED_ENOMEM, SCHED_EAGAIN or SCHED_EBACKEND (no thread for the timers) or
 * SCHED_ECLOSED, with r still the caller's.
 */
int sched__timer_schedule(sched_host *host, sched_runnable *r, uint64_t delay_ns, int main)
{
    struct sched__timers *tm = timers_get(host);
    uint64_t now = sched__mono_ns();
    int rc = 0;

    if (!tm)
        return SCHED_ENOMEM;
    sched__mutex_lock(&tm->lock);
    /* sched_host_close sets host->closed, then stops host->timers if there
     * is one: if it found none, this thread's timers_get came too late for
     * it, and must see closed now (both sides sequentially consistent). */
    if (tm->stopping || atomic_load(&host->closed)) {
        rc = SCHED_ECLOSED;
    } else if (!tm->started && (rc = sched__thread_start(&tm->thread, timer_thread, tm)) != 0) {
        /* SCHED_ENOMEM, or SCHED_EAGAIN at a thread limit */
    } else {
        tm->started = 1;
        if (tm->len == tm->cap) {
            size_t cap = tm->cap ? tm->cap * 2 : 64;
            struct entry *h = realloc(tm->heap, cap * sizeof *h);
            if (!h)
                rc = SCHED_ENOMEM;
            else
                tm->heap = h, tm->cap = cap;
        }
        if (rc == 0) {
            struct entry *e = &tm->heap[tm->len];
            e->deadline = delay_ns > UINT64_MAX - now ? UINT64_MAX : now + delay_ns;
            e->seq = tm->seq++;
            e->r = r;
            e->main = main;
            sift_up(tm->heap, tm->len++);
            if (e == &tm->heap[0] || tm->heap[0].r == r)
                sched__cond_signal(&tm->cond);
        }
    }
    sched__mutex_unlock(&tm->lock);
    return rc;
}

/*
 * Stop the thread and drop every runnable still waiting, exactly once.
 * Called by sched_host_close before the backend is destroyed, so that no
 * timer fires into a backend being torn down.  The structure stays (and
 * refuses new timers) until sched__timers_free.
 */
int sched__timer_cancel(sched_host *host, sched_runnable *r)
{
    struct sched__timers *tm = __atomic_load_n(&host->timers, __ATOMIC_ACQUIRE);
    size_t i;
    int found = 0;

    if (!tm)
        return SCHED_ENOENT;
    sched__mutex_lock(&tm->lock);
    i = (size_t)(uintptr_t)r->backend_slot[0];
    if (i < tm->len && tm->heap[i].r == r) {
        remove_at(tm, i);
        /* The thread may be waiting for this one: let it pick the next. */
        if (i == 0)
            sched__cond_signal(&tm->cond);
        found = 1;
    }
    sched__mutex_unlock(&tm->lock);
    if (!found)
        return SCHED_ENOENT;
    sched__runnable_drop(r);
    return 0;
}

void sched__timers_close(sched_host *host)
{
    struct sched__timers *tm = __atomic_load_n(&host->timers, __ATOMIC_SEQ_CST);
    if (!tm)
        return;
    sched__mutex_lock(&tm->lock);
    tm->stopping = 1;
    sched__cond_signal(&tm->cond);
    sched__mutex_unlock(&tm->lock);
    if (tm->started)
        sched__thread_join(tm->thread);
    tm->started = 0;
    sched__mutex_lock(&tm->lock);
    while (tm->len) {
        struct entry e = pop(tm);
        sched__mutex_unlock(&tm->lock);
        sched__runnable_drop(e.r);
        sched__mutex_lock(&tm->lock);
    }
    sched__mutex_unlock(&tm->lock);
}

void sched__timers_free(sched_host *host)
{
    struct sched__timers *tm = host->timers;
    if (!tm)
        return;
    assert(tm->len == 0 && !tm->started);
    free(tm->heap);
    sched__cond_destroy(&tm->cond);
    sched__mutex_destroy(&tm->lock);
    free(tm);
    host->timers = NULL;
}

/* ---- timer ----------------------------------------------------------------- */

/* Longer than any real program waits (about 146 years): refused, so that
 * deadlines never overflow. */
#define TIMER_MAX_NS (UINT64_C(1) << 62)

/*
 * A timer future and its first wake-up runnable are one allocation.  The
 * runnable comes first, so that whichever lets go of it last, the future
 * (timer_drop) or the scheduler (sched__timer_rt_unref after a run or a
 * drop), frees the whole block with the runnable's own free().  The
 * future holds a reference on `own` for as long as it lives; arming it
 * adds the scheduler's.  Arming again while the scheduler still holds `own`
 * (it fired, on a clock other than the host's, and has not let go yet)
 * takes a wake-up of its own allocation.
 */
struct timer_future {
    struct sched__timer_rt own;     /* first: see above */
    sched_future base;
    sched_host *host;
    uint64_t ns;
    uint64_t deadline;
    struct sched__timer_rt *rt;     /* the armed wake-up (&own or another), or NULL */
    uint64_t session_id;            /* the session that created it, or 0 */
};

static struct timer_future *timer_of(sched_future *f)
{
    return (struct timer_future *)(void *)((char *)f - offsetof(struct timer_future, base));
}

/*
 * Take a wake-up nobody waits for any more back from whoever queued it, so
 * that it holds no backend timer and no simulated clock advances to it.
 * Only while it has neither fired nor been dropped: a scheduler holds it
 * then, so the host is still open (sched_host_close drops every timer
 * before it frees the host).  A backend without cancel_after (ABI 1.0)
 * keeps it until due.
 */
static void timer_take_back(sched_host *host, struct sched__timer_rt *rt)
{
    if (atomic_load_explicit(&rt->fired, memory_order_acquire))
        return;
    if (rt->on_host_timers)
        sched__timer_cancel(host, &rt->h.r);
    else if (host->ops.cancel_after)
        host->ops.cancel_after(host->backend, &rt->h.r);
}

static void timer_disarm(struct timer_future *tf)
{
    if (tf->rt) {
        sched_waker *w = atomic_exchange_explicit(&tf->rt->waker, NULL, memory_order_acq_rel);
        if (w)
            sched_waker_drop(w);
        timer_take_back(tf->host, tf->rt);
        if (tf->rt != &tf->own)     /* `own`'s future reference lasts until the drop */
            sched__timer_rt_unref(tf->rt);
        tf->rt = NULL;
    }
}

/* Arm a wake-up for the remaining delay.  0, or the backend's refusal. */
static int timer_arm(struct timer_future *tf, sched_context *cx, uint64_t delay)
{
    sched_host *host = tf->host;
    struct sched__timer_rt *rt = &tf->own;
    int rc;

    /* Only the future holds `own`: the scheduler's last release (acq_rel)
     * happens before this load, and nobody else can take it. */
    if (atomic_load_explicit(&rt->refs, memory_order_acquire) != 1) {
        if (!(rt = malloc(sizeof *rt)))
            return SCHED_ENOMEM;
        atomic_init(&rt->refs, 2);  /* the future and the scheduler */
    } else {
        atomic_store_explicit(&rt->refs, 2, memory_order_relaxed);
    }
    memset(&rt->h.r, 0, sizeof rt->h.r);
    atomic_init(&rt->h.state, SCHED__KIND_TIMER);
    atomic_init(&rt->fired, 0);
    atomic_init(&rt->waker, sched_waker_clone(sched_context_waker(cx)));
    rt->id = sched__next_id();
    /* The wake-up is an event of the request whose task waits on it (its
     * hang detection and timer cap count it there), whoever made it. */
    rt->session_id = tf->session_id;
    rt->site = NULL;
    rt->task_id = 0;
    rt->due = tf->deadline;
    if (cx && cx->task
        && (atomic_load_explicit(&cx->task->state, memory_order_relaxed) & SCHED__FULL)) {
        const struct sched__task_full *armer = (const struct sched__task_full *)cx->task;
        if (armer->session_id != 0)
            rt->session_id = armer->session_id;
        rt->site = cx->task->site;
    }
    if (cx && cx->task)
        rt->task_id = cx->task->id;
    rt->on_host_timers = host->ops.schedule_after == NULL;
    if (sched__host_closing(host))
        rc = SCHED_ECLOSED;
    else if (!rt->on_host_timers)
        rc = host->ops.schedule_after(host->backend, &rt->h.r, delay, 0);
    else
        rc = sched__timer_schedule(host, &rt->h.r, delay, 0);
    if (rc != 0) {
        sched_waker_drop(atomic_load_explicit(&rt->waker, memory_order_relaxed));
        atomic_store_explicit(&rt->waker, NULL, memory_order_relaxed);
        if (rt == &tf->own)
            atomic_store_explicit(&rt->refs, 1, memory_order_relaxed);
        else
            free(rt);
        return rc;
    }
    tf->rt = rt;
    return 0;
}

static int timer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct timer_future *tf = timer_of(f);
    sched_waker *mine = sched_context_waker(cx);
    uint64_t now;
    int rc;

    if (!tf->host || tf->ns > TIMER_MAX_NS)
        return SCHED_EINVAL;
    if (atomic_load_explicit(&tf->host->sessions_made, memory_order_relaxed)
        && tf->host->hooks.await_check
        && (rc = tf->host->hooks.await_check(tf->host, tf->session_id)) != 0)
        return rc;
    now = sched_host_now(tf->host);
    if (now >= tf->deadline) {
        timer_disarm(tf);
        out->u = now;
        return 0;
    }
    if (tf->rt && !atomic_load_explicit(&tf->rt->fired, memory_order_acquire)) {
        /* Still armed.  Polled from another task (moved into sched_any,
         * say)?  Point the wake-up at the new waker. */
        if (atomic_load_explicit(&tf->rt->waker, memory_order_acquire) != mine) {
            sched_waker *old = atomic_exchange_explicit(&tf->rt->waker, sched_waker_clone(mine),
                                                        memory_order_acq_rel);
            if (old)
                sched_waker_drop(old);
            if (atomic_load_explicit(&tf->rt->fired, memory_order_acquire))
                sched_waker_wake_by_ref(mine);
        }
        sched__context_wait_timer(cx, tf->deadline);
        return SCHED_PENDING;
    }
    /* Not armed, or fired early by the clock we read: arm for the rest. */
    timer_disarm(tf);
    rc = timer_arm(tf, cx, tf->deadline - now);
    /* A task polled while the close began: the close drops it with every
     * pending task, so it waits like them rather than run on into code
     * that expects the time to have passed. */
    if (rc != 0 && !(rc == SCHED_ECLOSED && cx && cx->task && sched__host_closing(tf->host)))
        return rc;
    sched__context_wait_timer(cx, tf->deadline);
    return SCHED_PENDING;
}

static void timer_drop(sched_future *f)
{
    struct timer_future *tf = timer_of(f);
    timer_disarm(tf);
    sched__timer_rt_unref(&tf->own);
}

static const sched_future_ops timer_ops = { timer_poll, timer_drop };

/*
 * Ready ns after now on host's clock, never earlier, with out->u the time it
 * was seen due.  ns == 0 is ready at the first poll.  A NULL host, or ns
 * above 2^62, fails with SCHED_EINVAL when polled.
 */
sched_future *sched_timer(sched_host *host, uint64_t ns)
{
    struct timer_future *tf = malloc(sizeof *tf);
    if (!tf)
        return NULL;
    atomic_init(&tf->own.refs, 1);      /* the future's; the rest is set when armed */
    tf->base.ops = &timer_ops;
    tf->host = host;
    tf->ns = ns;
    tf->session_id = host && host->hooks.spawn_session ? host->hooks.spawn_session(host) : 0;
    tf->deadline = host && ns <= TIMER_MAX_NS ? sched_host_now(host) + ns : 0;
    tf->rt = NULL;
    return &tf->base;
}
