/* SPDX-License-Identifier: MIT */
/*
 * core/task_inline.h - what the files of the task core's state machine
 * share, and no other file includes: task.c (the state machine, the
 * registry, queueing), task_spawn.c (spawning), task_run.c (running),
 * task_join.c (handles and joins) and task_waker.c (wakers and poll
 * contexts).
 *
 * The helpers every hot path takes (a reference, the closing check, the
 * watch, the awaiter's wake) are static inline here, so that splitting
 * the state machine into files costs no call; the rest are the
 * cross-file functions of the state machine, out of line as before.
 */
#ifndef SCHED_TASK_INLINE_H
#define SCHED_TASK_INLINE_H

#include <assert.h>

#include "task.h"

static inline int closing(sched_host *host)
{
    return atomic_load_explicit(&host->closed, memory_order_acquire) != 0;
}

static inline struct sched__task_full *full_of(struct sched_task *t)
{
    return (struct sched__task_full *)t;
}

static inline int registered(const struct sched__task_full *ft)
{
    return (atomic_load_explicit(&((struct sched__task_full *)ft)->t.state, memory_order_relaxed)
            & SCHED__REGISTERED) != 0;
}

/* task.c: free t, whose last reference went (task_unref's slow part). */
void sched__task_release(struct sched_task *t);

static inline void task_ref(struct sched_task *t)
{
    uint32_t old = atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    assert(old > 0 && old < UINT32_MAX);
    (void)old;
}

static inline void task_unref(struct sched_task *t)
{
    /* acq_rel rather than release plus an acquire fence: the same order,
     * and one ThreadSanitizer can see (it does not model fences). */
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        sched__task_release(t);
}

/* A test layer hears of what is done to the wakers of the tasks it
 * watches (hooks.h), while they are unfinished: every task is finished
 * once its host is closed, so a waker used after the close never reads
 * the host. */
static inline void watch(struct sched_task *t, int what)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    if ((s & (SCHED__WATCHED | SCHED__COMPLETED | SCHED__CLOSED)) == SCHED__WATCHED)
        t->host->hooks.waker_activity(t->host, &t->r, what);
}

/* The same for the waker of a blocked call (hooks.h): only a call
 * blocked on a watched host's main thread pays more than the load. */
static inline void watch_block(struct sched__waker_head *b, int what)
{
    if (atomic_load_explicit(&b->watched, memory_order_relaxed))
        b->host->hooks.waker_activity(b->host, NULL, what);
}

/* Wake whoever awaits t's result (the join future). */
static inline void wake_awaiter(struct sched_task *t)
{
    sched_waker *w = atomic_exchange_explicit(&t->awaiter, NULL, memory_order_acq_rel);
    if (w)
        sched_waker_wake(w);
}

/* task.c: the registry of live tasks (full tasks only).  Add: called by
 * the thread that owns the task's future (spawner or poller) before
 * anyone else can finish it.  Both take the registry's lock. */
void sched__registry_add(struct sched__task_full *ft);
void sched__registry_remove(struct sched__task_full *ft);

/* task.c: the caller owns t's future (CLOSED is set and nobody else will
 * poll or drop it): drop the future, leave the registry, tell the
 * awaiter and release the "not finished" reference. */
void sched__task_finish_closed(struct sched_task *t);
/* task.c: mark a task this thread owns (SCHEDULED, not in any queue) as
 * closed and finish it: the backend refused or dropped it. */
void sched__task_drop_owned(struct sched_task *t);

/* task.c: hand t (SCHEDULED, owned by the caller) to the backend; 0 or
 * the backend's refusal, in which case the caller still owns t. */
int sched__task_submit(struct sched_task *t, sched_host *host);
/* task.c: queue a full task again (a wake, a cancel sent to the main
 * thread); a refusal drops it, or leaves a foreground task idle in the
 * registry when called off the main thread. */
void sched__task_resubmit(struct sched_task *t);
/* task.c: a wake: queue t unless it is finished, already queued, or
 * being polled (then it is marked NOTIFIED and queued once the poll
 * returns). */
void sched__task_wake(struct sched_task *t);

#endif
