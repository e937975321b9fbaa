/* SPDX-License-Identifier: MIT */
/*
 * core/task.h - the task core's private layout, shared by the task core
 * (task*.c, fn_future.c, wakeup.c, failure.c, misuse.c, report.c) and the
 * layers built on it (future.c, timer.c, channel.c, executor.c, block.c)
 * only: see core/README.
 *
 * Everything the host hands a backend is a sched_runnable.  Every runnable
 * the host makes starts with the same header (the runnable, then an atomic
 * state word whose low bits say what kind of runnable it is), so
 * sched__runnable_run() can tell a task from a timer's wake-up.
 */
#ifndef SCHED_TASK_H
#define SCHED_TASK_H

#include <stdlib.h>

#include "internal.h"

/* State word bits.  KIND, FULL, FOREGROUND and the priority never change
 * after spawn; the others move under compare-and-swap. */
#define SCHED__KIND_MASK   0x3u
#define SCHED__KIND_TASK   0x0u
#define SCHED__KIND_TIMER  0x1u
#define SCHED__FULL        0x4u     /* struct sched__task_full layout */
#define SCHED__FOREGROUND  0x8u     /* polled on the host's main thread only */
#define SCHED__PRIO_SHIFT  4        /* two bits of sched_priority */
#define SCHED__PRIO_MASK   (0x3u << SCHED__PRIO_SHIFT)
#define SCHED__SCHEDULED   0x40u    /* handed to the backend (or about to be) */
#define SCHED__RUNNING     0x80u    /* being polled */
#define SCHED__NOTIFIED    0x100u   /* woken while being polled */
#define SCHED__COMPLETED   0x200u   /* the future finished; result stored */
#define SCHED__CLOSED      0x400u   /* cancelled or dropped: never polled again */
#define SCHED__HANDLE      0x800u   /* a sched_task handle or join future exists */
#define SCHED__FN          0x1000u  /* full task calling a.fn(fn_arg): no future */
#define SCHED__REGISTERED  0x2000u  /* in the registry; set and cleared under its lock */
#define SCHED__JOINED      0x4000u  /* debug mode: sched_task_join took the handle */
#define SCHED__WATCHED     0x8000u  /* host->hooks.waker_activity hears of its wakers */

/* The header every host-made runnable starts with. */
struct sched__rhdr {
    sched_runnable r;
    _Atomic uint32_t state;
};

/*
 * A task.  One allocation; the runnable comes first so a runnable maps back
 * to its task.  A detached task spawned from sched_future_fn() with no
 * label on a threaded backend is "compact": it lives in the allocation
 * sched_future_fn() made, which holds only the fields up to `host`
 * (SCHED__COMPACT_SIZE, 56 bytes: one 64-byte malloc chunk), with the
 * fn/arg pair in `a`/`b`.  A compact task has no handle, no waker and no
 * registry entry: it is queued, run once and freed (or dropped).  Every
 * other task is a struct sched__task_full, whose future lives in its own
 * allocation, except a function's: a full task made of a sched_future_fn()
 * future (SCHED__FN) keeps fn in `a` and its argument in `fn_arg`, in the
 * same allocation.  Only full tasks may touch `host` and `awaiter`.
 *
 * References: one for "not finished yet" (released by whoever drops the
 * future), one for the handle (HANDLE), one per waker.
 */
struct sched_task {
    sched_runnable r;
    _Atomic uint32_t state;
    _Atomic uint32_t refs;
    uint64_t id;
    const sched_site *site;
    union {                     /* before completion / after */
        sched_fn fn;            /* compact */
        sched_future *fut;      /* full */
        sched_value value;
    } a;
    union {
        void *arg;              /* compact */
        const char *label;      /* full */
    } b;
    /* Full tasks only, from here on. */
    sched_host *host;
    _Atomic(sched_waker *) awaiter;     /* the join future's waker */
};

#define SCHED__COMPACT_SIZE offsetof(struct sched_task, host)

struct sched__task_full {
    struct sched_task t;
    struct sched__task_full *prev, *next;   /* the host's registry */
    _Atomic(const char *) wait_reason;
    _Atomic uint64_t wait_due;              /* or waiting on a timer due then (reports format it) */
    _Atomic(const sched_site *) await_site; /* innermost SCHED_AWAIT pending in the last poll */
    uint64_t executor_id;                   /* foreground executor, or 0 */
    uint64_t session_id;
    void *fn_arg;                           /* SCHED__FN: the function's argument */
    int rc;                                 /* once COMPLETED: 0 or the failure, any negative int */
    int join_seen;                          /* the join future returned the result */
    char *fail_msg;                         /* once COMPLETED: the failure's own message, or NULL */
    sched_future join;                      /* sched_task_join's future: the handle's reference */
};

/* The context handed to poll.  fail_msg is the message sched_context_fail
 * recorded in this poll for a failure with fail_code (malloc'd, or NULL);
 * the poller takes it with sched__context_take_failure once poll returns. */
struct sched_context {
    sched_host *host;
    sched_waker *waker;
    struct sched_task *task;    /* NULL when polled by sched_block */
    char *fail_msg;
    int fail_code;
};

/* sched_context_set_wait_reason for a timer due at due ns: a report
 * writes "a timer due at <due> ns", and the poll formats nothing. */
void sched__context_wait_timer(sched_context *cx, uint64_t due);

/* The message of the poll that just returned rc: the recorded one if rc
 * is the failure it was recorded for, else NULL (freeing it).  The caller
 * owns the result; cx holds no message afterwards. */
char *sched__context_take_failure(sched_context *cx, int rc);
/* Log the failure of a task nobody can join: its message is all that is
 * left of it (failure.c). */
void sched__log_unseen_failure(const struct sched_task *t, const char *msg);

/*
 * Wakers are tagged pointers: a task pointer (tasks are at least 8-byte
 * aligned) wakes that task; a pointer with the low bit set is a blocked
 * thread's waker (block.c): a struct sched__waker_head, whose host's
 * hooks wake, clone and drop it (hooks.h); a pointer with bit 1 set is a
 * child waker of a wake set (below).
 */
#define SCHED__WAKER_BLOCK 0x1u
#define SCHED__WAKER_CHILD 0x2u

/*
 * A wake set (wakeup.c): one waker per child of an all-of or any-of, so
 * that the set polls again only the children that woke.  Waking child i's
 * waker marks i ready and wakes the set's parent waker, once until the
 * next sched__wake_set_begin.  The set is reference-counted: its owner
 * holds one reference, every clone of a child waker another, so a child
 * waker kept by a timer or another thread stays valid after the owner
 * let go, and waking it then does nothing.
 *
 * The owner (one thread at a time) calls begin at each poll of the set,
 * with the waker of that poll, then takes the ready children word by word.
 * Child wakers may be woken, cloned and dropped from any thread.
 */
struct sched__wake_set;
/* A set of n children (n > 0), or NULL when out of memory. */
struct sched__wake_set *sched__wake_set_new(size_t n);
/* Child i's waker, borrowed: valid while the owner holds the set. */
sched_waker *sched__wake_set_child(struct sched__wake_set *ws, size_t i);
/* The owner polls: parent (may be NULL) is the waker to wake from now on. */
void sched__wake_set_begin(struct sched__wake_set *ws, sched_waker *parent);
/* Bits of the children woken since their word was last taken: bit b of
 * word w is child w * SCHED__WAKE_WORD_BITS + b.  Clears them. */
#define SCHED__WAKE_WORD_BITS (sizeof(uintptr_t) * 8)
uintptr_t sched__wake_set_take(struct sched__wake_set *ws, size_t word);
/* The owner lets go: the parent is never woken again. */
void sched__wake_set_free(struct sched__wake_set *ws);
/* sched_waker_* of a child waker (task_waker.c dispatches on the tag). */
void sched__child_waker_wake_by_ref(sched_waker *w);
void sched__child_waker_wake(sched_waker *w);
void sched__child_waker_ref(sched_waker *w);
void sched__child_waker_drop(sched_waker *w);
/* wake_by_ref, not reported to a test layer (sched__waker_wake_by_ref_quiet). */
void sched__child_waker_wake_quiet(sched_waker *w);
/* The session (and its host) of the waker the set last polled with. */
uint64_t sched__child_waker_session(sched_waker *w, sched_host **host);
/* The watched task (SCHED__WATCHED) whose waker the set was polled with,
 * directly or through an enclosing set, or NULL; borrowed: the set holds
 * a reference to it while any of its child wakers lives.  A test layer
 * hears of what is done to a child waker as done to that task's
 * (sched__task_watch, task_waker.c). */
struct sched_task *sched__child_waker_watched(sched_waker *w);
void sched__task_watch(struct sched_task *t, int what);
/* task_waker.c: the watched task behind waker w, with a reference taken, or
 * NULL (not a task's waker, or not watched); and its release. */
struct sched_task *sched__waker_watched_ref(sched_waker *w);
void sched__task_unref_watched(struct sched_task *t);
/* sched_waker_wake_by_ref, but not reported to a test layer's watch. */
void sched__waker_wake_by_ref_quiet(sched_waker *w);

/* The future sched_future_fn() returns (fn_future.c).  Its allocation
 * is the size of a task so that spawning it turns it into a compact task
 * in place. */
struct sched__fn_future {
    sched_future base;
    sched_fn fn;
    void *arg;
};
extern const sched_future_ops sched__fn_future_ops;

/* The timer's wake-up runnable (wakeup.c; armed by future.c).  Shared by the timer future and
 * the backend (or the fallback timer thread) until both let go. */
struct sched__timer_rt {
    struct sched__rhdr h;
    _Atomic uint32_t refs;
    _Atomic int fired;
    _Atomic(sched_waker *) waker;
    uint64_t id;
    uint64_t session_id;        /* the session that created the timer, or 0 */
    const sched_site *site;     /* spawn site of the task that armed it, or NULL */
    uint64_t task_id;           /* the task that armed it, or 0 (a block) */
    uint64_t due;               /* when it fires, on the host's clock */
    int on_host_timers;         /* queued on the host's timer thread, not the backend */
};
/* wakeup.c: run it (wake the waiting task), drop it unrun, or let go of
 * the future's reference. */
void sched__timer_rt_run(struct sched__timer_rt *rt);
void sched__timer_rt_drop(struct sched__timer_rt *rt);
void sched__timer_rt_unref(struct sched__timer_rt *rt);

/* taskmem.c: blocks for tasks, cached per thread, in two sizes: class
 * SCHED__TM_COMPACT, SCHED__COMPACT_SIZE bytes (sched_future_fn), and
 * SCHED__TM_FULL, a struct sched__task_full.  Each block is its own
 * malloc'd chunk, so free() and realloc() stay valid on it, and any
 * malloc'd chunk at least a class's size may be given back to it;
 * sched__taskmem_free is the cheap way back.  sched__taskmem_trim frees
 * what the depots and the calling thread hold (when a host closes).  Any
 * thread.  The common case, a pop or a push on the calling thread's
 * magazine, is inline here. */
enum { SCHED__TM_COMPACT, SCHED__TM_FULL, SCHED__TM_CLASSES };
void sched__taskmem_trim(void);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(_WIN32)
#define SCHED__TASKMEM_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SCHED__TASKMEM_OFF 1
#endif
#endif
static inline size_t sched__taskmem_size(int k)
{
    return k == SCHED__TM_COMPACT ? SCHED__COMPACT_SIZE : sizeof(struct sched__task_full);
}
#if defined(SCHED__TASKMEM_OFF)
static inline void *sched__taskmem_alloc_k(int k)
{
    return malloc(sched__taskmem_size(k));
}
static inline void sched__taskmem_free_k(int k, void *p)
{
    (void)k;
    free(p);
}
#else
#define SCHED__TASKMEM_BATCH 64u    /* blocks per magazine */
struct sched__taskmem {
    void *cur;          /* the magazine in use: a list through each block's first word */
    unsigned n;         /* blocks in cur, below SCHED__TASKMEM_BATCH */
    int hooked;         /* caching: the thread-exit hook is set */
    void *spare;        /* a full magazine, or NULL */
};
/* Initial-exec: a %fs-relative access, not a __tls_get_addr call on every
 * allocation (libsched is linked, not dlopen'd; glibc keeps static TLS
 * room for the few bytes a dlopen would need). */
extern _Thread_local struct sched__taskmem sched__tm[SCHED__TM_CLASSES]
    __attribute__((tls_model("initial-exec")));
void *sched__taskmem_alloc_slow(int k);
void sched__taskmem_free_slow(int k, void *p);
static inline void *sched__taskmem_alloc_k(int k)
{
    struct sched__taskmem *c = &sched__tm[k];
    void **b = c->cur;
    if (!b)
        return sched__taskmem_alloc_slow(k);
    c->cur = *b;
    c->n--;
    return b;
}
static inline void sched__taskmem_free_k(int k, void *p)
{
    struct sched__taskmem *c = &sched__tm[k];
    if (!c->hooked || !p || c->n + 1 >= SCHED__TASKMEM_BATCH) {
        sched__taskmem_free_slow(k, p);
        return;
    }
    *(void **)p = c->cur;
    c->cur = p;
    c->n++;
}
#endif
static inline void *sched__taskmem_alloc(void)
{
    return sched__taskmem_alloc_k(SCHED__TM_COMPACT);
}
static inline void sched__taskmem_free(void *p)
{
    sched__taskmem_free_k(SCHED__TM_COMPACT, p);
}

/* task_spawn.c */
uint64_t sched__next_id(void);
int sched__task_spawn(sched_host *host, sched_future *fut, const char *label,
                      sched_priority prio, const sched_site *site, uint64_t fg_executor_id,
                      sched_task **out);
/* sched__task_spawn of a sched_future_fn() future with no handle, no
 * label and no foreground executor: the compact fast path. */
int sched__task_spawn_fn(sched_host *host, sched_future *fut, sched_priority prio,
                         const sched_site *site);
/* task_run.c: the full task this thread is polling, or NULL. */
struct sched_task *sched__task_running(void);
/* The session of the task this thread is polling (0: none); what I/O
 * objects made now belong to. */
uint64_t sched__running_session(void);
/* task.c: the backend's "sched.test" v1 interface when it is a simulated one (test,
 * cloudflare-sim: nothing runs unless the main thread blocks), else NULL.
 * Any thread. */
const sched_test_iface_v1 *sched__simulated(sched_host *host);

/* Non-zero while sched_host_close is tearing the host down. */
int sched__host_closing(sched_host *host);

/* The task core's per-host state (host->tasks). */
struct sched__tasks {
    /* The registry: foreground tasks and tasks that have been pending at
     * least once.  A queued task is the backend's to run or drop (reports
     * ask a simulated backend for its queues: report.c); compact tasks
     * never pend and are never registered. */
    sched__mutex lock;
    struct sched__task_full *head;
    size_t count;
    /* The backend's "sched.test" interface: asked once, at first need
     * (the backend is created after the task core). */
    _Atomic int sim_known;
    _Atomic(const sched_test_iface_v1 *) sim;
    /* The innermost block on the main thread (block.c), which a queued
     * main-thread runnable wakes: set and read under `lock`, holding a
     * reference; main_waiting says whether there is one. */
    struct sched__blocker *main_blocker;
    _Atomic int main_waiting;
    _Atomic int main_kicked;    /* a main-thread runnable was queued since the last look */
    /* Backends without a pollable main queue: sched_foreground_block runs
     * the backend's own loop, and a wake stops it.  MAIN_IDLE, MAIN_IN_RUN
     * (a run is, or is about to be, in progress) or MAIN_WOKEN. */
    _Atomic int main_run_state;
    _Atomic int main_stop_mode;
};

/* misuse.c: the foreground affinity check, which aborts; and debug
 * mode's checks of a waker (returns its blocker, or NULL for a task's)
 * and of a task handle, which abort naming func. */
void sched__foreground_check(sched_host *host, const char *what, const sched_site *site);
/* The same check for the public function func, called at site (which
 * may be NULL): the abort names both. */
void sched__foreground_call_check(sched_host *host, const char *func, const sched_site *site);
struct sched__waker_head *sched__waker_check(sched_waker *w, const char *func);
void sched__handle_check(sched_task *t, const char *func);

#endif
