/* SPDX-License-Identifier: MIT */
/*
 * plugins/mac/mac.h - what the files of the mac backend share.
 *
 * The backend is three parts around one struct mac:
 *   mac.c     background submission: the schedule ops, the callbacks
 *             handed to the global queues, the inline slot of a fired
 *             timer; the plugin's ops table
 *   timers.c  delayed runnables: a heap served by one dispatch timer source
 *   host.c    the main queue (submission, run/stop, sched.pollable),
 *             create and destroy
 *
 * Every callback this backend hands to libdispatch is counted: a queued
 * runnable in an atomic count (dispatch_async_f, as a program using GCD
 * directly submits), the timer source in a dispatch group; destroy() sets
 * the closed flag (callbacks that see it drop their runnable instead of
 * running it), drops every runnable still in the heap, cancels the source,
 * drains the main queue and waits for both counts to reach zero.  See
 * sched-mac(7).  Plain C and the _f (function pointer) API only, so it
 * builds with gcc against the libdispatch of a Swift toolchain on Linux
 * and with clang on macOS.
 */
#ifndef MAC_MAC_H
#define MAC_MAC_H

/* libdispatch's headers test clang's __has_feature; gcc before 14 has none. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#ifndef __has_extension
#define __has_extension(x) 0
#endif
#include <dispatch/dispatch.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
 * wait for callbacks that no thread will ever run (host.c).
 */
/* Hidden, so a submission reads them as directly as a static. */
#define MAC_HIDDEN __attribute__((visibility("hidden")))
extern MAC_HIDDEN atomic_int mac_workers_started;
extern MAC_HIDDEN atomic_int mac_forked_child;

static inline uint64_t mac_now(void *self)
{
    struct timespec ts;
    (void)self;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Zed's scheduler has three priorities; GCD's global queues map them
 * one to one, and there is no real-time queue, so REALTIME rides HIGH.
 * A table, since every submission looks its queue up. */
static inline dispatch_queue_t mac_queue(struct mac *m, sched_priority prio)
{
    return m->queue[(unsigned)prio <= SCHED_PRIORITY_REALTIME ? (unsigned)prio
                                                               : SCHED_PRIORITY_MEDIUM];
}

static inline int mac_is_closed(struct mac *m)
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

/* mac.c: the callbacks handed to libdispatch (ctx is the runnable). */
void mac_trampoline(void *ctx);
void mac_fired_trampoline(void *ctx);

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

/* timers.c: the timer source's handlers (ctx is m) and the ops. */
void mac_timer_fire(void *ctx);
void mac_timer_cancelled(void *ctx);
int mac_schedule_after(void *self, sched_runnable *r, uint64_t delay_ns, int on_main);
int mac_cancel_after(void *self, sched_runnable *r);

/* host.c: the main queue and the backend's life. */
/* Queue r on the main queue as one counted callback and wake the main
 * loop.  Any thread; m is not closed. */
void mac_submit_main(struct mac *m, sched_runnable *r);
int mac_is_main_thread(void *self);
int mac_run(void *self);
void mac_stop(void *self);
const void *mac_query(void *self, const char *iface, uint32_t version);
int mac_create(const sched_backend_env *env, void **self, char *err, size_t errlen);
void mac_destroy(void *self);
/* Keep this plugin and libdispatch mapped for the life of the process. */
int mac_pin_plugin(char *err, size_t errlen);

#endif
