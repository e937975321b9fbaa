/* SPDX-License-Identifier: MIT */
/*
 * plugins/mac/timers.c - delayed runnables of the mac backend.
 *
 * One timer source per backend serves a binary min-heap of deadlines,
 * ordered by (deadline, sequence) under m->lock, and is armed for the
 * earliest.  When it fires, every runnable due by our own clock leaves the
 * heap and is queued with dispatch_async_f on the queue of its priority
 * (the main queue for main-thread ones), as a program using GCD directly
 * would queue it; the source is then re-armed for the new earliest.  So
 * arming a timer costs a heap insertion and, only when it becomes the
 * earliest, a dispatch_source_set_timer.  A pending runnable's heap index
 * is kept in backend_slot[1], and cancel_after checks it against the heap
 * before trusting it.
 */
#include <config.h>

#include <assert.h>
#include <stdlib.h>

#include "mac.h"

/* Due runnables the timer handler takes per hold of the lock. */
#define MAC_FIRE_BATCH 64

/* The earlier of two entries; equal deadlines keep the order they came in. */
static int mac_due_less(const struct mac_due *a, const struct mac_due *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

/* Put x at index i of the heap and record the index in its runnable. */
static void mac_heap_set(struct mac *m, size_t i, const struct mac_due *x)
{
    m->heap[i] = *x;
    x->r->backend_slot[1] = (void *)(uintptr_t)i;
}

/* Restore the heap order around index i, whose entry changed.  Caller
 * holds m->lock. */
static void mac_heap_fix(struct mac *m, size_t i)
{
    struct mac_due x = m->heap[i];

    while (i > 0 && mac_due_less(&x, &m->heap[(i - 1) / 2])) {
        mac_heap_set(m, i, &m->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m->nheap)
            break;
        if (c + 1 < m->nheap && mac_due_less(&m->heap[c + 1], &m->heap[c]))
            c++;
        if (!mac_due_less(&m->heap[c], &x))
            break;
        mac_heap_set(m, i, &m->heap[c]);
        i = c;
    }
    mac_heap_set(m, i, &x);
}

/* Take the entry at index i out of the heap; its runnable's slot no longer
 * names a heap index.  Caller holds m->lock. */
static struct mac_due mac_heap_remove(struct mac *m, size_t i)
{
    struct mac_due x = m->heap[i];

    assert(i < m->nheap);
    x.r->backend_slot[1] = (void *)UINTPTR_MAX;
    if (i != --m->nheap) {
        m->heap[i] = m->heap[m->nheap];
        mac_heap_fix(m, i);
    }
    return x;
}

static dispatch_time_t mac_deadline_time(uint64_t delay_ns)
{
    /* dispatch_time saturates to DISPATCH_TIME_FOREVER: an absurd delay
     * becomes a timer that never fires but can still be cancelled. */
    if (delay_ns > (uint64_t)INT64_MAX)
        delay_ns = (uint64_t)INT64_MAX;
    return dispatch_time(DISPATCH_TIME_NOW, (int64_t)delay_ns);
}

/* Arm the source for the heap's earliest deadline, unless it is armed for
 * that already or the heap is empty.  Caller holds m->lock, so armed is
 * what the source was last told (UINT64_MAX: nothing since it fired). */
static void mac_timer_rearm(struct mac *m, uint64_t now)
{
    uint64_t next = m->nheap > 0 ? m->heap[0].deadline : UINT64_MAX;

    if (next == m->armed || next == UINT64_MAX)
        return;
    m->armed = next;
    dispatch_source_set_timer(m->timer, mac_deadline_time(next > now ? next - now : 0),
                              DISPATCH_TIME_FOREVER, 0);
}

/* Hand a due runnable on: queued on its queue, or dropped once closed.
 * A high-priority one (a timer's wake-up) runs with an inline slot. */
static void mac_timer_hand_on(struct mac *m, const struct mac_due *d)
{
    if (mac_is_closed(m)) {
        m->svc->drop(d->r);
    } else if (d->main) {
        mac_submit_main(m, d->r);
    } else if (d->prio >= SCHED_PRIORITY_HIGH) {
        d->r->backend_slot[0] = m;
        atomic_fetch_add_explicit(&m->queued, 1, memory_order_relaxed);
        MAC_HB_SEND(d->r);
        dispatch_async_f(mac_queue(m, (sched_priority)d->prio), d->r, mac_fired_trampoline);
    } else {
        mac_submit(m, mac_queue(m, (sched_priority)d->prio), d->r);
    }
}

/*
 * The source fired, on the high-priority global queue (a source's handler
 * never runs twice at once).  Take what is due by our clock, a batch at a
 * time so the lock is not held while queueing, re-arm, and queue it.
 * Runnables taken are ours alone: destroy() and cancel_after only see the
 * heap.  destroy() waits for this handler to return (the source's cancel
 * handler runs after it), and everything it queues is counted before that.
 */
void mac_timer_fire(void *ctx)
{
    struct mac *m = ctx;
    struct mac_due batch[MAC_FIRE_BATCH];
    size_t n;

    MAC_HB_RECV(m);
    do {
        uint64_t now = mac_now(m);

        n = 0;
        pthread_mutex_lock(&m->lock);
        while (n < MAC_FIRE_BATCH && m->nheap > 0 && m->heap[0].deadline <= now)
            batch[n++] = mac_heap_remove(m, 0);
        /* The source fired once, so it is disarmed: say so, then, unless
         * more is due at once, arm it for what is left (never early:
         * libdispatch may round). */
        m->armed = UINT64_MAX;
        if (n < MAC_FIRE_BATCH)
            mac_timer_rearm(m, now);
        pthread_mutex_unlock(&m->lock);
        for (size_t i = 0; i < n; i++)
            mac_timer_hand_on(m, &batch[i]);
    } while (n == MAC_FIRE_BATCH);
    MAC_HB_SEND(m);
}

/* The source's last callback, after its last event handler returned.
 * Leaving the group is the last touch of m by the source. */
void mac_timer_cancelled(void *ctx)
{
    struct mac *m = ctx;
    dispatch_group_t inflight;

    MAC_HB_RECV(m);
    inflight = m->inflight;
    MAC_HB_SEND(inflight);
    dispatch_group_leave(inflight);
}

/*
 * Run r after delay_ns, never earlier by mac_now().  dispatch_after_f
 * would be one call, but a pending dispatch_after_f cannot be cancelled:
 * destroy() would have to wait out the longest delay, or let it run after
 * destroy() returned.  The heap's entries are ours to drop at once.
 */
int mac_schedule_after(void *self, sched_runnable *r, uint64_t delay_ns, int on_main)
{
    struct mac *m = self;
    sched_runnable_info info = { .size = sizeof info };
    struct mac_due d;
    uint64_t now;
    int rc = mac_background_refusal(m);

    if (rc != 0)
        return rc;
    info.priority = SCHED_PRIORITY_MEDIUM;
    m->svc->info(r, &info);
    d.r = r;
    d.prio = (uint8_t)info.priority;
    d.main = on_main != 0;
    now = mac_now(m);
    d.deadline = now + (delay_ns > UINT64_MAX / 2 ? UINT64_MAX / 2 : delay_ns);

    /* The closed check and the insertion are one step under the lock, so
     * destroy()'s sweep either takes this timer or we see closed. */
    pthread_mutex_lock(&m->lock);
    if (mac_is_closed(m)) {
        pthread_mutex_unlock(&m->lock);
        return SCHED_ECLOSED;
    }
    if (m->nheap == m->capheap) {
        size_t cap = m->capheap ? 2 * m->capheap : 64;
        struct mac_due *h = realloc(m->heap, cap * sizeof *h);

        if (h == NULL) {
            pthread_mutex_unlock(&m->lock);
            return SCHED_ENOMEM;
        }
        m->heap = h;
        m->capheap = cap;
    }
    d.seq = m->seq++;
    r->backend_slot[0] = m;
    m->heap[m->nheap++] = d;
    mac_heap_fix(m, m->nheap - 1);
    if (d.deadline < m->armed)
        mac_timer_rearm(m, now);
    pthread_mutex_unlock(&m->lock);
    return 0;
}

/* Take r back while it is still in the heap.  Its slot names a heap index
 * only while it is there; any other value, or an index now holding
 * another runnable, means it has left. */
int mac_cancel_after(void *self, sched_runnable *r)
{
    struct mac *m = self;
    size_t i;
    int found;

    pthread_mutex_lock(&m->lock);
    i = (size_t)(uintptr_t)r->backend_slot[1];
    found = i < m->nheap && m->heap[i].r == r;
    if (found)
        mac_heap_remove(m, i);
    pthread_mutex_unlock(&m->lock);
    if (!found)
        return SCHED_ENOENT;
    /* The source may stay armed for r's deadline: firing with nothing due
     * only re-arms it. */
    m->svc->drop(r);
    return 0;
}
