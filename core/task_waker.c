/* SPDX-License-Identifier: MIT */
/*
 * core/task_waker.c - wakers: sched_waker_clone, _drop, _wake and
 * _wake_by_ref, which dispatch on the waker's tag (a task's, a blocked
 * thread's or a wake set's child's: task.h), the test layer's watch of
 * a task's wakers, and the poll context a future sees (its waker, host,
 * wait reason and await site).
 */
#include "config.h"

#include <assert.h>

#include "task_inline.h"

/* ---- references and wakers ---------------------------------------------- */

/* What is done to a child waker of an all-of or any-of is done, as far as
 * the test layer is concerned, to the waker of the task that polls it
 * (wakeup.c calls this only for a set that has such a task). */
void sched__task_watch(struct sched_task *t, int what)
{
    watch(t, what);
}

struct sched_task *sched__waker_watched_ref(sched_waker *w)
{
    struct sched_task *t;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        t = sched__child_waker_watched(w);
    } else if (sched__waker_check(w, "sched_waker_clone")) {
        return NULL;    /* a blocked thread's */
    } else {
        t = (struct sched_task *)w;
        if (!(atomic_load_explicit(&t->state, memory_order_relaxed) & SCHED__WATCHED))
            return NULL;
    }
    if (t)
        task_ref(t);
    return t;
}

void sched__task_unref_watched(struct sched_task *t)
{
    task_unref(t);
}

/* A wake set wakes its parent for a child's wake, which watch_child has
 * reported already: as sched_waker_wake_by_ref, reporting nothing. */
void sched__waker_wake_by_ref_quiet(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return;
    if ((uintptr_t)w & SCHED__WAKER_CHILD)
        sched__child_waker_wake_quiet(w);
    else if ((b = sched__waker_check(w, "sched_waker_wake_by_ref")))
        b->host->hooks.waker_wake(b);
    else
        sched__task_wake((struct sched_task *)w);
}

sched_waker *sched_waker_clone(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return NULL;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        sched__child_waker_ref(w);
        return w;
    }
    if ((b = sched__waker_check(w, "sched_waker_clone"))) {
        watch_block(b, SCHED__WAKER_CLONED);
        b->host->hooks.waker_ref(b);
    } else {
        watch((struct sched_task *)w, SCHED__WAKER_CLONED);
        task_ref((struct sched_task *)w);
    }
    return w;
}

void sched_waker_drop(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        sched__child_waker_drop(w);
        return;
    }
    if ((b = sched__waker_check(w, "sched_waker_drop"))) {
        watch_block(b, SCHED__WAKER_DROPPED);
        b->host->hooks.waker_unref(b);
    } else {
        watch((struct sched_task *)w, SCHED__WAKER_DROPPED);
        task_unref((struct sched_task *)w);
    }
}

void sched_waker_wake_by_ref(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        sched__child_waker_wake_by_ref(w);
        return;
    }
    if ((b = sched__waker_check(w, "sched_waker_wake_by_ref"))) {
        watch_block(b, SCHED__WAKER_WOKEN);
        b->host->hooks.waker_wake(b);
    } else {
        watch((struct sched_task *)w, SCHED__WAKER_WOKEN);
        sched__task_wake((struct sched_task *)w);
    }
}

/* A task's waker is woken and dropped as one activity. */
void sched_waker_wake(sched_waker *w)
{
    struct sched__waker_head *b;
    if (!w)
        return;
    if ((uintptr_t)w & SCHED__WAKER_CHILD) {
        sched__child_waker_wake(w);
        return;
    }
    if ((b = sched__waker_check(w, "sched_waker_wake"))) {
        watch_block(b, SCHED__WAKER_WOKEN);
        b->host->hooks.waker_wake(b);
        b->host->hooks.waker_unref(b);
    } else {
        watch((struct sched_task *)w, SCHED__WAKER_WOKEN);
        sched__task_wake((struct sched_task *)w);
        task_unref((struct sched_task *)w);
    }
}

sched_waker *sched_context_waker(sched_context *cx)
{
    return cx ? cx->waker : NULL;
}

sched_host *sched_context_host(sched_context *cx)
{
    return cx ? cx->host : NULL;
}

void sched_context_set_wait_reason(sched_context *cx, const char *reason)
{
    if (!cx || !cx->task)
        return;
    if (atomic_load_explicit(&cx->task->state, memory_order_relaxed) & SCHED__FULL) {
        atomic_store_explicit(&full_of(cx->task)->wait_reason, reason, memory_order_relaxed);
        atomic_store_explicit(&full_of(cx->task)->wait_due, 0, memory_order_relaxed);
    }
}

void sched__context_wait_timer(sched_context *cx, uint64_t due)
{
    if (!cx || !cx->task)
        return;
    if (atomic_load_explicit(&cx->task->state, memory_order_relaxed) & SCHED__FULL) {
        atomic_store_explicit(&full_of(cx->task)->wait_reason, NULL, memory_order_relaxed);
        atomic_store_explicit(&full_of(cx->task)->wait_due, due, memory_order_relaxed);
    }
}

/* The innermost await returns first, so the first site noted in a poll
 * is where the task waits; the poll started with none (task_run). */
int sched_future_poll_at(sched_future *f, sched_context *cx, sched_value *out,
                         const sched_site *site)
{
    int rc = sched_future_poll(f, cx, out);
    if (rc == SCHED_PENDING && site && cx && cx->task
        && (atomic_load_explicit(&cx->task->state, memory_order_relaxed) & SCHED__FULL)
        && !atomic_load_explicit(&full_of(cx->task)->await_site, memory_order_relaxed))
        atomic_store_explicit(&full_of(cx->task)->await_site, site, memory_order_relaxed);
    return rc;
}

uint64_t sched__waker_session(sched_waker *w, sched_host **host)
{
    struct sched_task *t = (struct sched_task *)w;
    *host = NULL;
    if ((uintptr_t)w & SCHED__WAKER_CHILD)
        return sched__child_waker_session(w, host);
    if (!w || ((uintptr_t)w & SCHED__WAKER_BLOCK)
        || !(atomic_load_explicit(&t->state, memory_order_relaxed) & SCHED__FULL)
        || full_of(t)->session_id == 0)
        return 0;
    *host = t->host;
    return full_of(t)->session_id;
}
