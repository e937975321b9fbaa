/* SPDX-License-Identifier: MIT */
/*
 * core/task_join.c - task handles: what a handle tells (id, label, site,
 * finished), cancel, detach and free, and the join future, which lives
 * inside the task it joins.
 */
#include "config.h"

#include <assert.h>

#include "task_inline.h"

/* ---- handles ------------------------------------------------------------ */

uint64_t sched_task_id(const sched_task *t)
{
    return t ? t->id : 0;
}

const char *sched_task_label(const sched_task *t)
{
    if (!t || !(atomic_load_explicit(&((sched_task *)t)->state, memory_order_relaxed) & SCHED__FULL))
        return NULL;
    return t->b.label;
}

const sched_site *sched_task_site(const sched_task *t)
{
    return t ? t->site : NULL;
}

int sched_task_is_finished(const sched_task *t)
{
    if (!t)
        return 1;
    return (atomic_load_explicit(&((sched_task *)t)->state, memory_order_acquire)
            & (SCHED__COMPLETED | SCHED__CLOSED)) != 0;
}

static void task_cancel(sched_task *t)
{
    uint32_t s, want;
    int take;

    s = atomic_load_explicit(&t->state, memory_order_acquire);
    for (;;) {
        if (s & SCHED__CLOSED)
            return;
        take = !(s & (SCHED__SCHEDULED | SCHED__RUNNING | SCHED__COMPLETED));
        want = s | SCHED__CLOSED;
        /* A foreground future is dropped on the main thread only: from
         * elsewhere, queue it there and let the run drop it. */
        if (take && (s & SCHED__FOREGROUND)
            && !sched__thread_equal(sched__thread_self(), t->host->main_thread))
            want |= SCHED__SCHEDULED;
        if (atomic_compare_exchange_weak_explicit(&t->state, &s, want, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    if (s & SCHED__COMPLETED) {
        wake_awaiter(t);        /* the result is discarded; joiners see the cancel */
        return;
    }
    if (!take)
        return;                 /* the runner or the backend drops it */
    if (want & SCHED__SCHEDULED)
        sched__task_resubmit(t);
    else
        sched__task_finish_closed(t);
}

/* Let go of the handle.  A failure with a message that nobody has seen
 * (seen: a join future returned it) and nobody can see any more is
 * logged: here if the task failed first, by task_run if it was detached
 * first (the two read-modify-writes of the state word order them). */
static inline void task_detach(sched_task *t, int seen)
{
    uint32_t s = atomic_fetch_and_explicit(&t->state, ~SCHED__HANDLE, memory_order_acq_rel);
    if (!seen && (s & (SCHED__COMPLETED | SCHED__CLOSED)) == SCHED__COMPLETED
        && (s & SCHED__FULL) && full_of(t)->fail_msg)
        sched__log_unseen_failure(t, full_of(t)->fail_msg);
    task_unref(t);
}

static void task_free(sched_task *t, int seen)
{
    if (!sched_task_is_finished(t))
        task_cancel(t);
    task_detach(t, seen);
}

void sched_task_cancel(sched_task *t)
{
    if (!t)
        return;
    sched__handle_check(t, "sched_task_cancel");
    /* Deciding a task's fate is activity on it, as waking it is. */
    watch(t, SCHED__TASK_CANCELLED);
    task_cancel(t);
}

void sched_task_detach(sched_task *t)
{
    if (!t)
        return;
    sched__handle_check(t, "sched_task_detach");
    task_detach(t, 0);
}

void sched_task_free(sched_task *t)
{
    if (!t)
        return;
    sched__handle_check(t, "sched_task_free");
    watch(t, SCHED__TASK_CANCELLED);
    task_free(t, 0);
}

/* ---- joining ------------------------------------------------------------ */

/* The join future lives in the task it joins (only a full task has a
 * handle), and holds the handle's reference: joining allocates nothing. */
static struct sched__task_full *joined_of(sched_future *f)
{
    return (struct sched__task_full *)(void *)((char *)f - offsetof(struct sched__task_full, join));
}

/* Ready when the task is: its value, its failure (its message handed on
 * to the joiner's poll, so that the joiner fails with it too if it passes
 * the failure on), or SCHED_ECANCELED. */
static int join_result(struct sched__task_full *ft, uint32_t s, sched_context *cx, sched_value *out)
{
    ft->join_seen = 1;
    if (s & SCHED__CLOSED)
        return SCHED_ECANCELED;
    if (out)
        *out = ft->t.a.value;
    if (ft->fail_msg)
        sched_context_fail(cx, ft->rc, "%s", ft->fail_msg);
    return ft->rc;
}

static int join_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct sched__task_full *ft = joined_of(f);
    struct sched_task *t = &ft->t;
    uint32_t s = atomic_load_explicit(&t->state, memory_order_acquire);
    sched_waker *w, *old;
    int rc;

    /* A host that never made a session needs no await check (the hook
     * would answer 0): one load instead of a call on every join poll. */
    if (atomic_load_explicit(&t->host->sessions_made, memory_order_relaxed)
        && t->host->hooks.await_check
        && (rc = t->host->hooks.await_check(t->host, ft->session_id)) != 0)
        return rc;
    if (s & (SCHED__COMPLETED | SCHED__CLOSED))
        return join_result(ft, s, cx, out);
    /* Polled again by the same waker (an all-of re-polls every join it
     * still waits for at each wake): the task has not taken it back, so
     * its finish will wake it; nothing to swap. */
    w = sched_context_waker(cx);
    if (w && atomic_load_explicit(&t->awaiter, memory_order_acquire) == w) {
        sched_context_set_wait_reason(cx, "another task");
        return SCHED_PENDING;
    }
    w = sched_waker_clone(w);
    old = atomic_exchange_explicit(&t->awaiter, w, memory_order_acq_rel);
    if (old)
        sched_waker_drop(old);
    s = atomic_load_explicit(&t->state, memory_order_acquire);
    if (s & (SCHED__COMPLETED | SCHED__CLOSED)) {
        w = atomic_exchange_explicit(&t->awaiter, NULL, memory_order_acq_rel);
        if (w)
            sched_waker_drop(w);
        return join_result(ft, s, cx, out);
    }
    sched_context_set_wait_reason(cx, "another task");
    return SCHED_PENDING;
}

/* Let go of the task: the handle's reference goes with the future. */
static void join_drop(sched_future *f)
{
    struct sched__task_full *ft = joined_of(f);
    sched_waker *w = atomic_exchange_explicit(&ft->t.awaiter, NULL, memory_order_acq_rel);
    if (w)
        sched_waker_drop(w);
    task_free(&ft->t, ft->join_seen);
}

static const sched_future_ops join_ops = { join_poll, join_drop };

sched_future *sched_task_join(sched_task *t)
{
    struct sched__task_full *ft;
    if (!t)
        return NULL;
    sched__handle_check(t, "sched_task_join");
    ft = full_of(t);
    if (sched__debug())
        atomic_fetch_or_explicit(&t->state, SCHED__JOINED, memory_order_relaxed);
    ft->join.ops = &join_ops;
    ft->join_seen = 0;
    return &ft->join;
}
