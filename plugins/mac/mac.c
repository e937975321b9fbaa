/* SPDX-License-Identifier: MIT */
/*
 * plugins/mac/mac.c - the mac backend: Grand Central Dispatch.
 *
 * Background runnables go to the global concurrent queues (the task's
 * priority picks the queue), main-thread runnables to the main queue, and
 * delayed runnables to a heap served by one dispatch timer source.  Plain C and the
 * _f (function pointer) API only, so it builds with gcc against the
 * libdispatch of a Swift toolchain on Linux and with clang on macOS.
 *
 * Every callback this backend hands to libdispatch is counted: a queued
 * runnable in an atomic count (dispatch_async_f, as a program using GCD
 * directly submits), the timer source in a dispatch group; destroy() sets
 * the closed flag (callbacks that see it drop their runnable instead of
 * running it), drops every runnable still in the heap, cancels the source,
 * drains the main queue and waits for both counts to reach zero.  See sched-mac(7).
 *
 * A due high-priority timer's runnable (a sleeping task's wake-up) runs
 * with a one-runnable slot: the first medium-priority runnable it
 * schedules (the task it wakes) runs right after it on the same thread,
 * not behind whatever the default queue holds.
 */
#include <config.h>

/* libdispatch's headers test clang's __has_feature; gcc before 14 has none. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#ifndef __has_extension
#define __has_extension(x) 0
#endif
#include <dispatch/dispatch.h>

#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sched/plugin.h>

/*
 * ThreadSanitizer cannot see the ordering libdispatch provides (it is not
 * instrumented): that a submitted function runs after the submission, that
 * a group wait returns after the group's functions.  We state those edges
 * where they happen, so TSan checks this backend and the host exactly;
 * tsan.supp only sets aside what libdispatch calls for itself.
 */
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define MAC_HB_SEND(p) __tsan_release((void *)(p))
#define MAC_HB_RECV(p) __tsan_acquire((void *)(p))
#else
#define MAC_HB_SEND(p) ((void)(p))
#define MAC_HB_RECV(p) ((void)(p))
#endif

/*
 * The main-queue drain hook libdispatch exports for run loops (CoreFoundation
 * calls it from CFRunLoop).  It runs every item queued on the main queue when
 * it is called, and must be called on the thread the main queue is bound to.
 * On Linux the main queue also signals an eventfd, returned by the handle
 * hook, whenever work is queued on it.
 */
extern void _dispatch_main_queue_callback_4CF(void *msg);
#if defined(__linux__)
extern int _dispatch_get_main_queue_handle_4CF(void);
#endif

/* A delayed runnable waiting in the heap. */
struct mac_due {
    uint64_t deadline;          /* mac_now() value, never run before it */
    uint64_t seq;               /* tie-break: equal deadlines in order */
    sched_runnable *r;
    uint8_t prio;               /* sched_priority: the queue it goes to */
    uint8_t main;               /* run on the main thread when due */
};

/* Due runnables the timer handler takes per hold of the lock. */
#define MAC_FIRE_BATCH 64

/* What every submission reads is apart from the count every callback
 * writes, so a worker finishing a task does not take the submitting
 * thread's cache line away. */
struct mac {
    const sched_host_services *svc;
    dispatch_queue_t queue[4];  /* global queue by sched_priority */
    dispatch_queue_t mainq;
    atomic_int closed;          /* set once, by destroy() */
    pthread_t main_thread;
    dispatch_group_t inflight;  /* holds the timer source until it is cancelled */
    dispatch_source_t timer;    /* serves the heap */
    atomic_int stop_requested;
    atomic_int wake_pending;    /* a byte is in wake[] or about to be */
    int wake[2];                /* pipe: main-queue work queued, or stop() */
    int dispatch_fd;            /* libdispatch's main-queue eventfd, or -1 */
    unsigned main_ran;          /* main runnables run; main thread only */
    pthread_mutex_t lock;       /* guards the heap, seq and armed */
    struct mac_due *heap;
    size_t nheap, capheap;
    uint64_t seq;
    uint64_t armed;             /* deadline the source is set for; UINT64_MAX: none */
    char apart[64];
    atomic_long queued;         /* every queued callback not yet returned */
};

/*
 * In a child forked after libdispatch started its worker threads, the
 * child's libdispatch never runs background work again (macOS's aborts
 * instead); its main queue still works.  Such a child gets an error for
 * background work rather than a silent hang, and destroy() there does not
 * wait for callbacks that no thread will ever run.
 */
static atomic_int mac_workers_started;
static atomic_int mac_forked_child;
static pthread_once_t mac_atfork_once = PTHREAD_ONCE_INIT;

static void mac_atfork_child(void)
{
    if (atomic_load(&mac_workers_started))
        atomic_store(&mac_forked_child, 1);
}

static void mac_register_atfork(void)
{
    pthread_atfork(NULL, NULL, mac_atfork_child);
}

static uint64_t mac_now(void *self)
{
    struct timespec ts;
    (void)self;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Zed's scheduler has three priorities; GCD's global queues map them
 * one to one, and there is no real-time queue, so REALTIME rides HIGH.
 * A table, since every submission looks its queue up. */
static dispatch_queue_t mac_queue(struct mac *m, sched_priority prio)
{
    return m->queue[(unsigned)prio <= SCHED_PRIORITY_REALTIME ? (unsigned)prio
                                                               : SCHED_PRIORITY_MEDIUM];
}

static int mac_is_closed(struct mac *m)
{
    return atomic_load_explicit(&m->closed, memory_order_acquire);
}

/* 0 when background work may be queued now, else why not.  Inline: it
 * is most of what a submission costs the backend. */
static inline int mac_background_refusal(struct mac *m)
{
    if (__builtin_expect(mac_is_closed(m), 0))
        return SCHED_ECLOSED;
    if (__builtin_expect(atomic_load_explicit(&mac_forked_child, memory_order_relaxed), 0))
        return SCHED_EBACKEND;
    if (__builtin_expect(!atomic_load_explicit(&mac_workers_started, memory_order_relaxed), 0))
        atomic_store(&mac_workers_started, 1);
    return 0;
}

/* While a due timer's runnable runs on this thread: where the first
 * medium-priority background runnable it schedules on m goes instead of
 * a queue (see mac_fired_trampoline).  NULL otherwise. */
struct mac_inline {
    struct mac *m;
    sched_runnable *r;
};
static __thread struct mac_inline *mac_inline_slot __attribute__((tls_model("initial-exec")));

/* Run r, or drop it when the backend closed after r was queued: a runnable
 * queued before destroy() is consumed exactly once either way.  The count
 * for this callback keeps m alive until it is released, the last touch. */
static void mac_trampoline(void *ctx)
{
    sched_runnable *r = ctx;
    struct mac *m;

    MAC_HB_RECV(r);
    m = r->backend_slot[0];
    if (mac_is_closed(m))
        m->svc->drop(r);
    else
        m->svc->run(r);
    MAC_HB_SEND(&m->queued);
    atomic_fetch_sub_explicit(&m->queued, 1, memory_order_release);
}

/*
 * As mac_trampoline, for a due high-priority timer's runnable: the first
 * medium-priority runnable that r schedules on m is taken into a slot and
 * run (or dropped, if the backend closed meanwhile) right after r, on
 * this thread.  One per fired timer, so everything else queued keeps its
 * order.  The slot's runnable is counted in m->queued like a queued one,
 * so destroy() waits for it; releasing both counts is the last touch.
 */
static void mac_fired_trampoline(void *ctx)
{
    sched_runnable *r = ctx;
    struct mac *m;
    struct mac_inline slot, *prev;

    MAC_HB_RECV(r);
    m = r->backend_slot[0];
    if (mac_is_closed(m)) {
        m->svc->drop(r);
        MAC_HB_SEND(&m->queued);
        atomic_fetch_sub_explicit(&m->queued, 1, memory_order_release);
        return;
    }
    slot.m = m;
    slot.r = NULL;
    prev = mac_inline_slot;
    mac_inline_slot = &slot;
    m->svc->run(r);
    mac_inline_slot = prev;
    if (slot.r != NULL) {
        if (mac_is_closed(m))
            m->svc->drop(slot.r);
        else
            m->svc->run(slot.r);
    }
    MAC_HB_SEND(&m->queued);
    atomic_fetch_sub_explicit(&m->queued, slot.r != NULL ? 2 : 1, memory_order_release);
}

/* Take r into this thread's inline slot if a due timer's runnable of m
 * is running here and has not filled it yet.  m is not closed. */
static inline int mac_take_inline(struct mac *m, sched_runnable *r)
{
    struct mac_inline *s = mac_inline_slot;

    if (__builtin_expect(s == NULL, 1) || s->m != m || s->r != NULL)
        return 0;
    r->backend_slot[0] = m;
    atomic_fetch_add_explicit(&m->queued, 1, memory_order_relaxed);
    s->r = r;
    return 1;
}

/* As mac_trampoline, on the main thread, counting for sched.pollable. */
static void mac_main_trampoline(void *ctx)
{
    sched_runnable *r = ctx;
    struct mac *m;

    MAC_HB_RECV(r);
    m = r->backend_slot[0];
    assert(pthread_equal(pthread_self(), m->main_thread));
    m->main_ran++;
    mac_trampoline(ctx);
}

/* Tell run() (or an application polling our fd) that main-queue work is
 * queued.  One byte at most is outstanding, so the pipe never fills. */
static void mac_poke(struct mac *m)
{
    char c = 0;
    ssize_t n = write(m->wake[1], &c, 1);

    (void)n;    /* EAGAIN: the pipe is full, so the loop wakes anyway */
}

static void mac_wake(struct mac *m)
{
    if (!atomic_exchange(&m->wake_pending, 1))
        mac_poke(m);
}

/* Queue r on q as one counted callback.  Any thread; m is not closed.
 * A plain count rather than dispatch_group_async_f: a group takes a
 * reference on itself and wakes its waiters each time it empties, which
 * for tiny tasks cost as much again as the queueing. */
static inline void mac_submit(struct mac *m, dispatch_queue_t q, sched_runnable *r)
{
    r->backend_slot[0] = m;
    atomic_fetch_add_explicit(&m->queued, 1, memory_order_relaxed);
    MAC_HB_SEND(r);
    dispatch_async_f(q, r, mac_trampoline);
}

static void mac_submit_main(struct mac *m, sched_runnable *r)
{
    r->backend_slot[0] = m;
    atomic_fetch_add_explicit(&m->queued, 1, memory_order_relaxed);
    MAC_HB_SEND(r);
    dispatch_async_f(m->mainq, r, mac_main_trampoline);
    mac_wake(m);
}

static int mac_schedule(void *self, sched_runnable *r)
{
    struct mac *m = self;
    int rc = mac_background_refusal(m);

    if (rc != 0)
        return rc;
    if (!mac_take_inline(m, r))
        mac_submit(m, m->queue[SCHED_PRIORITY_MEDIUM], r);
    return 0;
}

static int mac_schedule_labeled(void *self, sched_runnable *r, const char *label,
                                sched_priority prio)
{
    struct mac *m = self;
    int rc = mac_background_refusal(m);

    (void)label;
    if (rc != 0)
        return rc;
    if (prio == SCHED_PRIORITY_MEDIUM && mac_take_inline(m, r))
        return 0;
    mac_submit(m, mac_queue(m, prio), r);
    return 0;
}

static int mac_schedule_main(void *self, sched_runnable *r)
{
    struct mac *m = self;

    if (mac_is_closed(m))
        return SCHED_ECLOSED;
    mac_submit_main(m, r);
    return 0;
}

/* ---- delayed runnables ---------------------------------------------------
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
static void mac_timer_fire(void *ctx)
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
static void mac_timer_cancelled(void *ctx)
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
static int mac_schedule_after(void *self, sched_runnable *r, uint64_t delay_ns, int on_main)
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
static int mac_cancel_after(void *self, sched_runnable *r)
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

static int mac_is_main_thread(void *self)
{
    struct mac *m = self;

#if defined(__APPLE__)
    (void)m;
    return pthread_main_np() != 0;
#else
    return pthread_equal(pthread_self(), m->main_thread);
#endif
}

/* Run what the main queue holds now; returns how many of our runnables
 * ran.  Main thread only. */
static int mac_drain_main(struct mac *m)
{
    char buf[64];
    unsigned before;

    assert(pthread_equal(pthread_self(), m->main_thread));
    atomic_store(&m->wake_pending, 0);
    while (read(m->wake[0], buf, sizeof buf) > 0)
        continue;
    if (m->dispatch_fd >= 0) {
        uint64_t v;
        ssize_t n = read(m->dispatch_fd, &v, sizeof v);
        (void)n;
    }
    before = m->main_ran;
    /* A call from inside a main-queue callback returns at once:
     * libdispatch does not drain the main queue re-entrantly. */
    _dispatch_main_queue_callback_4CF(NULL);
    return (int)(m->main_ran - before);
}

/*
 * The main loop: sleep in poll() on our wake pipe (and, on Linux, on
 * libdispatch's main-queue eventfd, so main-queue work queued by other
 * code runs too), drain the main queue through the run-loop hook, until
 * stop().  dispatch_main() would never return.
 */
static int mac_run(void *self)
{
    struct mac *m = self;
    struct pollfd pfd[2];
    nfds_t n = 1;

    assert(pthread_equal(pthread_self(), m->main_thread));
    pfd[0].fd = m->wake[0];
    pfd[0].events = POLLIN;
    if (m->dispatch_fd >= 0) {
        pfd[1].fd = m->dispatch_fd;
        pfd[1].events = POLLIN;
        n = 2;
    }
    for (;;) {
        mac_drain_main(m);
        if (atomic_exchange(&m->stop_requested, 0))
            return 0;
        if (poll(pfd, n, -1) < 0 && errno != EINTR)
            return SCHED_EBACKEND;
    }
}

static void mac_stop(void *self)
{
    struct mac *m = self;

    atomic_store(&m->stop_requested, 1);
    atomic_store(&m->wake_pending, 1);
    mac_poke(m);
}

static int mac_pollable_fd(void *self)
{
    return ((struct mac *)self)->wake[0];
}

static int mac_pollable_dispatch(void *self)
{
    return mac_drain_main(self);
}

static const sched_pollable_iface_v1 mac_pollable = {
    .size = sizeof(sched_pollable_iface_v1),
    .fd = mac_pollable_fd,
    .dispatch = mac_pollable_dispatch,
};

static const void *mac_query(void *self, const char *iface, uint32_t version)
{
    (void)self;
    if (strcmp(iface, "sched.pollable") == 0 && version == 1)
        return &mac_pollable;
    return NULL;
}

/*
 * The main queue is bound to one thread for the life of the process: on
 * macOS the process's main thread, on Linux the thread that first loaded
 * libdispatch.  Only there can it be drained, so only there may the
 * backend be created.
 */
static int mac_owns_main_queue(void)
{
#if defined(__APPLE__)
    return pthread_main_np() != 0;
#else
    const char *cur = dispatch_queue_get_label(DISPATCH_CURRENT_QUEUE_LABEL);
    const char *mainq = dispatch_queue_get_label(dispatch_get_main_queue());

    return cur != NULL && mainq != NULL && strcmp(cur, mainq) == 0;
#endif
}

/*
 * libdispatch cannot be unloaded: its worker threads and timers outlive
 * any dlclose(), and its initializers bound the main queue when it was
 * loaded.  Holding a never-released reference to this plugin, with
 * RTLD_NODELETE, keeps the plugin and libdispatch mapped for the life of
 * the process.  Done when the plugin is first entered, so that a host
 * that only reads the descriptor ("schedctl list") does not unload it
 * either, and again by create(), which reports a failure.
 */
static int mac_pin_plugin(char *err, size_t errlen)
{
    Dl_info dli;

    if (dladdr((void *)mac_pin_plugin, &dli) == 0 || dli.dli_fname == NULL) {
        snprintf(err, errlen, "cannot find the mac plugin's own file to keep it loaded");
        return SCHED_EBACKEND;
    }
    if (dlopen(dli.dli_fname, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE) == NULL) {
        const char *why = dlerror();
        snprintf(err, errlen, "cannot keep %s loaded: %s", dli.dli_fname,
                 why != NULL ? why : "unknown dlopen error");
        return SCHED_EBACKEND;
    }
    return 0;
}

static int mac_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0 ||
            fcntl(fds[i], F_SETFL, O_NONBLOCK) != 0) {
            close(fds[0]);
            close(fds[1]);
            return -1;
        }
    }
    return 0;
}

#if defined(__linux__)
/*
 * libdispatch on Linux starts its worker threads on demand and, when
 * pthread_create fails (the user's thread limit, RLIMIT_NPROC, or no
 * address space left for a stack, RLIMIT_AS), neither reports it nor
 * retries: the work queued stays queued and whoever waits on it hangs.
 * So before creating the backend, make sure the system grants as many
 * threads as libdispatch may use for our three global queues (one per
 * CPU each) and its manager thread, all at once, with the default stack
 * it gives them.  This cannot reserve them (another process of the same
 * user may take them later) but it turns a limit that is already too low
 * into an error instead of a hang.
 */
struct mac_probe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int release;
};

static void *mac_probe_thread(void *arg)
{
    struct mac_probe *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->release)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static unsigned mac_threads_needed(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return 3 * (unsigned)(n > 0 ? n : 1) + 1;
}

static int mac_probe_threads(char *err, size_t errlen)
{
    unsigned need = mac_threads_needed(), got = 0;
    struct mac_probe p = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
    pthread_t *th = calloc(need, sizeof *th);
    int rc = 0;

    if (th == NULL) {
        snprintf(err, errlen, "out of memory");
        return SCHED_ENOMEM;
    }
    while (got < need && (rc = pthread_create(&th[got], NULL, mac_probe_thread, &p)) == 0)
        got++;
    pthread_mutex_lock(&p.mu);
    p.release = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    for (unsigned i = 0; i < got; i++)
        pthread_join(th[i], NULL);
    free(th);
    if (got == need)
        return 0;
    snprintf(err, errlen, "libdispatch may need %u threads here (three queues on %u CPUs, "
             "and its manager), but the system refused thread %u: %s; libdispatch would "
             "hang instead of failing (raise the thread limit, ulimit -u, or the "
             "address-space limit, ulimit -v)",
             need, (need - 1) / 3, got + 1, strerror(rc));
    return rc == EAGAIN ? SCHED_EAGAIN : rc == ENOMEM ? SCHED_ENOMEM : SCHED_EBACKEND;
}
#endif

static int mac_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    struct mac *m;
    int rc;

    if (!mac_owns_main_queue()) {
        snprintf(err, errlen, "the GCD main queue belongs to another thread (the process's "
                 "main thread, or the one that first loaded libdispatch); open the host there");
        return SCHED_EBACKEND;
    }
    rc = mac_pin_plugin(err, errlen);
    if (rc != 0)
        return rc;
#if defined(__linux__)
    /* A forked child's libdispatch starts no worker (see above): nothing
     * to make room for. */
    if (!atomic_load(&mac_forked_child) && (rc = mac_probe_threads(err, errlen)) != 0)
        return rc;
#endif
    pthread_once(&mac_atfork_once, mac_register_atfork);
    m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return SCHED_ENOMEM;
    }
    if (mac_pipe(m->wake) != 0) {
        snprintf(err, errlen, "cannot create the main-loop wake pipe: %s", strerror(errno));
        free(m);
        return SCHED_EBACKEND;
    }
    m->inflight = dispatch_group_create();
    if (m->inflight == NULL) {
        snprintf(err, errlen, "out of memory creating a dispatch group");
        close(m->wake[0]);
        close(m->wake[1]);
        free(m);
        return SCHED_ENOMEM;
    }
    m->svc = env->svc;
    m->queue[SCHED_PRIORITY_LOW] = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_LOW, 0);
    m->queue[SCHED_PRIORITY_MEDIUM] = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0);
    m->queue[SCHED_PRIORITY_HIGH] = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_HIGH, 0);
    m->queue[SCHED_PRIORITY_REALTIME] = m->queue[SCHED_PRIORITY_HIGH];
    m->mainq = dispatch_get_main_queue();
    m->main_thread = pthread_self();
#if defined(__linux__)
    m->dispatch_fd = _dispatch_get_main_queue_handle_4CF();
#else
    m->dispatch_fd = -1;
#endif
    pthread_mutex_init(&m->lock, NULL);
    m->armed = UINT64_MAX;
    /* Background timers fire here and hop to the queue of their priority;
     * main-thread ones hop to the main queue. */
    m->timer = dispatch_source_create(DISPATCH_SOURCE_TYPE_TIMER, 0, 0,
                                      m->queue[SCHED_PRIORITY_HIGH]);
    if (m->timer == NULL) {
        snprintf(err, errlen, "out of memory creating a dispatch timer source");
        pthread_mutex_destroy(&m->lock);
        dispatch_release(m->inflight);
        close(m->wake[0]);
        close(m->wake[1]);
        free(m);
        return SCHED_ENOMEM;
    }
    dispatch_set_context(m->timer, m);
    dispatch_source_set_event_handler_f(m->timer, mac_timer_fire);
    dispatch_source_set_cancel_handler_f(m->timer, mac_timer_cancelled);
    dispatch_group_enter(m->inflight);
    MAC_HB_SEND(m);
    dispatch_resume(m->timer);
    *self = m;
    return 0;
}

/*
 * Close: set the flag every callback checks, drop every runnable still in
 * the heap and cancel the timer source, then drain the main queue until
 * no callback is queued and the source's cancel handler has run (after its
 * last event handler, which counts what it queues).  Callbacks still
 * queued on the global queues or the main queue drop their runnable when
 * they run.  Then no callback of this backend can run again.
 */
static void mac_destroy(void *self)
{
    struct mac *m = self;
    struct mac_due *taken;
    size_t ntaken;

    assert(pthread_equal(pthread_self(), m->main_thread));
    pthread_mutex_lock(&m->lock);
    atomic_store_explicit(&m->closed, 1, memory_order_release);
    taken = m->heap;
    ntaken = m->nheap;
    m->heap = NULL;
    m->nheap = m->capheap = 0;
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < ntaken; i++) {
        taken[i].r->backend_slot[1] = (void *)UINTPTR_MAX;
        m->svc->drop(taken[i].r);
    }
    free(taken);
    MAC_HB_SEND(m);
    dispatch_source_cancel(m->timer);

    for (;;) {
        _dispatch_main_queue_callback_4CF(NULL);
        if (atomic_load(&mac_forked_child))
            break;
        if (dispatch_group_wait(m->inflight, dispatch_time(DISPATCH_TIME_NOW, 1000000)) != 0)
            continue;
        if (atomic_load_explicit(&m->queued, memory_order_acquire) == 0)
            break;
        nanosleep(&(struct timespec){ 0, 100000 }, NULL);
    }
    MAC_HB_RECV(m->inflight);
    MAC_HB_RECV(&m->queued);

    dispatch_release(m->timer);
    dispatch_release(m->inflight);
    pthread_mutex_destroy(&m->lock);
    close(m->wake[0]);
    close(m->wake[1]);
    free(m);
}

static const sched_plugin_descriptor mac_descriptor = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "mac",
    .description = "Grand Central Dispatch: global queues by priority, the main queue, a timer source",
    .version = PACKAGE_VERSION,
    .config_keys = NULL,
    .ops = {
        .create = mac_create,
        .destroy = mac_destroy,
        .schedule = mac_schedule,
        .schedule_labeled = mac_schedule_labeled,
        .schedule_main = mac_schedule_main,
        .schedule_after = mac_schedule_after,
        .cancel_after = mac_cancel_after,
        .now = mac_now,
        .is_main_thread = mac_is_main_thread,
        .park = NULL,
        .unpark = NULL,
        .num_cpus = NULL,
        .run = mac_run,
        .stop = mac_stop,
        .query = mac_query,
    },
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    char ignored[8];

    (void)svc;
    mac_pin_plugin(ignored, sizeof ignored);
    return &mac_descriptor;
}
