/* SPDX-License-Identifier: MIT */
/*
 * core/task.c - the task state machine: the task core's per-host state
 * and its close, the registry of live tasks, a task's last reference,
 * finishing a closed task, and (re)queueing a task on the backend,
 * which a wake does.  The other files of the task core, around it:
 * task_spawn.c (ids, spawning, the compact fast path), task_run.c
 * (running and dropping runnables, the backend's host services),
 * task_join.c (handles: cancel, detach, free, join) and task_waker.c
 * (wakers and poll contexts); task_inline.h holds what they share.
 *
 * The hot path (spawn, schedule, run, complete) is lock-free: a task's
 * state is one atomic word moved by compare-and-swap, and the registry's
 * lock is taken only when a task first goes pending, or at spawn for
 * foreground tasks.  Reports on a simulated backend also list the tasks it
 * queues, which it shows through its "queued" op, so no task is tracked
 * twice.
 */
#include "config.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>

#include "task_inline.h"

/* ---- host life ---------------------------------------------------------- */

int sched__tasks_init(sched_host *host)
{
    struct sched__tasks *ts = calloc(1, sizeof *ts);
    if (!ts)
        return SCHED_ENOMEM;
    sched__mutex_init(&ts->lock);
    host->tasks = ts;
    return 0;
}

int sched__host_closing(sched_host *host)
{
    return closing(host);
}

/* Ask the backend once (it is created after the task core); racing first
 * callers compute the same answer. */
static const sched_test_iface_v1 *ask_simulated(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    const sched_test_iface_v1 *t = NULL;
    if (!host->backend)
        return NULL;
    if (host->ops.query)
        t = host->ops.query(host->backend, "sched.test", 1);
    if (t && t->size < offsetof(sched_test_iface_v1, history))
        t = NULL;
    atomic_store_explicit(&ts->sim, t, memory_order_relaxed);
    atomic_store_explicit(&ts->sim_known, 1, memory_order_release);
    return t;
}

static inline const sched_test_iface_v1 *simulated(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    if (atomic_load_explicit(&ts->sim_known, memory_order_acquire))
        return atomic_load_explicit(&ts->sim, memory_order_relaxed);
    return ask_simulated(host);
}

const sched_test_iface_v1 *sched__simulated(sched_host *host)
{
    return simulated(host);
}

/* ---- the registry ------------------------------------------------------ */

/* Add a full task to the registry.  Called by the thread that owns the
 * task's future (spawner or poller) before anyone else can finish it. */
void sched__registry_add(struct sched__task_full *ft)
{
    struct sched__tasks *ts = ft->t.host->tasks;
    sched__mutex_lock(&ts->lock);
    if (!registered(ft)) {
        ft->prev = NULL;
        ft->next = ts->head;
        if (ts->head)
            ts->head->prev = ft;
        ts->head = ft;
        ts->count++;
        atomic_fetch_or_explicit(&ft->t.state, SCHED__REGISTERED, memory_order_relaxed);
    }
    sched__mutex_unlock(&ts->lock);
}

void sched__registry_remove(struct sched__task_full *ft)
{
    struct sched__tasks *ts = ft->t.host->tasks;
    sched__mutex_lock(&ts->lock);
    if (registered(ft)) {
        if (ft->prev)
            ft->prev->next = ft->next;
        else
            ts->head = ft->next;
        if (ft->next)
            ft->next->prev = ft->prev;
        ts->count--;
        atomic_fetch_and_explicit(&ft->t.state, ~SCHED__REGISTERED, memory_order_relaxed);
    }
    sched__mutex_unlock(&ts->lock);
}

/* ---- the last reference ------------------------------------------------ */

/* task_unref's slow part: t's last reference went. */
void sched__task_release(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    assert(!(s & SCHED__FULL) || !registered(full_of(t)));
    if (s & SCHED__FULL) {
        free(full_of(t)->fail_msg);
        if (sched__debug())
            sched__release(t, sizeof(struct sched__task_full));   /* poisons handles, wakers */
        else
            sched__taskmem_free_k(SCHED__TM_FULL, t);
    } else {
        free(t);
    }
}

/* ---- finishing ---------------------------------------------------------- */

/*
 * The caller owns t's future (CLOSED is set and nobody else will poll or
 * drop it): drop the future, leave the registry, tell the awaiter and
 * release the "not finished" reference.
 */
void sched__task_finish_closed(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    assert(s & SCHED__CLOSED);
    if (s & SCHED__FULL) {
        struct sched__task_full *ft = full_of(t);
        if (!(s & (SCHED__COMPLETED | SCHED__FN)) && t->a.fut) {
            sched_future *f = t->a.fut;
            t->a.fut = NULL;
            sched_future_drop(f);
        }
        if (s & SCHED__REGISTERED)
            sched__registry_remove(ft);
        wake_awaiter(t);
    }
    task_unref(t);
}

/* Mark a task this thread owns (SCHEDULED, not in any queue) as closed and
 * finish it: the backend refused or dropped it. */
void sched__task_drop_owned(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&t->state, &s,
                                                  (s & ~SCHED__SCHEDULED) | SCHED__CLOSED,
                                                  memory_order_acq_rel, memory_order_relaxed))
        ;
    sched__task_finish_closed(t);
}

/* ---- scheduling --------------------------------------------------------- */

/* The submit of a foreground task: the backend's main queue, then the
 * blocking layer's kick of a blocked main thread.  Out of line, so that
 * the common path needs no stack frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int submit_main(struct sched_task *t, sched_host *host)
{
    int rc = host->ops.schedule_main(host->backend, &t->r);
    if (rc == 0 && host->hooks.main_queued)
        host->hooks.main_queued(host);
    return rc;
}

/* Hand t (SCHEDULED, owned by the caller) to the backend.  Returns 0 or the
 * backend's refusal, in which case the caller still owns t. */
int sched__task_submit(struct sched_task *t, sched_host *host)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);

    if (closing(host))
        return SCHED_ECLOSED;
    if (s & SCHED__FOREGROUND)
        return submit_main(t, host);
    if (host->ops.schedule_labeled) {
        const char *label = (s & SCHED__FULL) ? t->b.label : NULL;
        return host->ops.schedule_labeled(host->backend, &t->r, label,
                                          (sched_priority)((s & SCHED__PRIO_MASK) >> SCHED__PRIO_SHIFT));
    }
    return host->ops.schedule(host->backend, &t->r);
}

/*
 * Queue a full task again (a wake, a cancel sent to the main thread).  If
 * the backend refuses, the task is dropped; but a foreground task's future
 * belongs to the main thread, so another thread leaves it idle in the
 * registry (foreground tasks are always there) for sched__tasks_close to
 * drop on the main thread.  The refusal is a closing host, or a backend
 * failing, which is logged.
 */
void sched__task_resubmit(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    int rc;
    assert(s & SCHED__FULL);
    if ((rc = sched__task_submit(t, t->host)) == 0)
        return;
    if ((s & SCHED__FOREGROUND)
        && !sched__thread_equal(sched__thread_self(), t->host->main_thread)) {
        if (!closing(t->host))
            sched__log(SCHED_LOG_ERROR,
                       "a woken foreground task (id %" PRIu64 ") could not be queued (%s); it "
                       "waits for the next wake, or for the host to close",
                       t->id, sched_strerror(rc));
        atomic_fetch_and_explicit(&t->state, ~SCHED__SCHEDULED, memory_order_acq_rel);
        return;
    }
    sched__task_drop_owned(t);
}

/* A wake: queue t unless it is finished, already queued, or being polled
 * (then it is marked NOTIFIED and requeued once the poll returns). */
void sched__task_wake(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_acquire);
    for (;;) {
        uint32_t want;
        if (s & (SCHED__COMPLETED | SCHED__CLOSED | SCHED__SCHEDULED))
            return;
        if (s & SCHED__RUNNING) {
            if (s & SCHED__NOTIFIED)
                return;
            want = s | SCHED__NOTIFIED;
        } else {
            want = s | SCHED__SCHEDULED;
        }
        if (atomic_compare_exchange_weak_explicit(&t->state, &s, want, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    if (!(s & SCHED__RUNNING))
        sched__task_resubmit(t);
}

/* ---- closing ----------------------------------------------------------- */

/*
 * After the backend (and the fallback timer thread) dropped every runnable
 * they held: every task still registered is pending, with its future owned
 * by nobody but us.  Drop each exactly once.  Handles and wakers the
 * application still holds stay valid (they see a cancelled task) and free
 * the memory when they let go; nothing reaches the host after this.
 */
void sched__tasks_close(sched_host *host)
{
    struct sched__tasks *ts = host->tasks;
    if (!ts)
        return;
    for (;;) {
        struct sched__task_full *ft;
        uint32_t s;
        sched__mutex_lock(&ts->lock);
        ft = ts->head;
        if (ft)
            task_ref(&ft->t);   /* survive our own finish_closed */
        sched__mutex_unlock(&ts->lock);
        if (!ft)
            break;
        s = atomic_load_explicit(&ft->t.state, memory_order_acquire);
        for (;;) {
            if (s & (SCHED__COMPLETED | SCHED__SCHEDULED | SCHED__RUNNING))
                break;
            /* Idle: ours to close.  Already closed and still registered
             * means a canceller left the drop to a runner that never came
             * (a foreground task another thread could not queue): ours too. */
            if ((s & SCHED__CLOSED)
                || atomic_compare_exchange_weak_explicit(&ft->t.state, &s, s | SCHED__CLOSED,
                                                         memory_order_acq_rel,
                                                         memory_order_acquire)) {
                s = 0;
                break;
            }
        }
        if (s == 0)
            sched__task_finish_closed(&ft->t);
        else
            sched__registry_remove(ft);   /* cannot happen once the backend is gone */
        task_unref(&ft->t);
    }
    sched__mutex_destroy(&ts->lock);
    free(ts);
    host->tasks = NULL;
    /* The backend is gone and its threads with it: their cached blocks
     * are in the depot. */
    sched__taskmem_trim();
}
