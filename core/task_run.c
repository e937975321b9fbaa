/* SPDX-License-Identifier: MIT */
/*
 * core/task_run.c - running tasks: the host services a backend uses to
 * run, drop and describe a runnable (a task or a timer's wake-up), a
 * task's poll and what follows it (complete, pend, or be queued again),
 * and which task this thread is polling.
 */
#include "config.h"

#include <assert.h>
#include <string.h>

#include "task_inline.h"

/* ---- running ------------------------------------------------------------ */

/* The full task this thread is polling, if any: reports list it although
 * no queue holds it and it may never have been registered. */
static _Thread_local struct sched_task *running;

struct sched_task *sched__task_running(void)
{
    return running;
}

uint64_t sched__running_session(void)
{
    if (!running
        || !(atomic_load_explicit(&running->state, memory_order_relaxed) & SCHED__FULL))
        return 0;
    return full_of(running)->session_id;
}

static void task_run(struct sched_task *t)
{
    uint32_t s = atomic_load_explicit(&t->state, memory_order_acquire);
    sched_value value = { 0 };
    char *fail_msg = NULL;
    int rc;

    if (s & SCHED__FOREGROUND)
        sched__foreground_check(t->host, "a backend ran a foreground task", t->site);
    assert(s & SCHED__SCHEDULED);
    assert(!(s & (SCHED__RUNNING | SCHED__COMPLETED)));

    /* A compact task: detached, never woken, nothing else can reach it. */
    if (!(s & SCHED__FULL)) {
        t->a.fn(t->b.arg);
        sched__taskmem_free(t);
        return;
    }

    /* Queued when the close began, and run by a backend thread that has
     * not stopped yet: the close drops every pending task, so this one is
     * dropped, not polled (its first poll would see its timers refused
     * and run on into code that expects the time to have passed). */
    if (closing(t->host)) {
        sched__task_drop_owned(t);
        return;
    }
    for (;;) {
        if (s & SCHED__CLOSED) {
            /* Cancelled while queued: the canceller left the drop to us. */
            atomic_fetch_and_explicit(&t->state, ~SCHED__SCHEDULED, memory_order_acq_rel);
            sched__task_finish_closed(t);
            return;
        }
        if (atomic_compare_exchange_weak_explicit(&t->state, &s,
                                                  (s & ~SCHED__SCHEDULED) | SCHED__RUNNING,
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }

    {
        struct sched_task *outer = running;
        running = t;
        if (s & SCHED__FN) {
            value = t->a.fn(full_of(t)->fn_arg);
            rc = 0;
        } else {
            sched_context cx = { t->host, (sched_waker *)t, t, NULL, 0 };
            /* The last poll's reason may live in a future this poll drops
             * (a timer's does): a pending poll must name its own. */
            atomic_store_explicit(&full_of(t)->wait_reason, NULL, memory_order_relaxed);
            atomic_store_explicit(&full_of(t)->wait_due, 0, memory_order_relaxed);
            atomic_store_explicit(&full_of(t)->await_site, NULL, memory_order_relaxed);
            rc = t->a.fut->ops->poll(t->a.fut, &cx, &value);
            fail_msg = sched__context_take_failure(&cx, rc);
        }
        running = outer;
    }

    if (rc != SCHED_PENDING) {
        if (!(s & SCHED__FN)) {
            sched_future *f = t->a.fut;
            t->a.fut = NULL;
            sched_future_drop(f);
            atomic_store_explicit(&full_of(t)->wait_reason, NULL, memory_order_relaxed);
        }
        t->a.value = value;
        if (rc > 0)
            rc = SCHED_EINVAL;      /* a poll returning garbage fails the task */
        /* The whole int, published by the CAS below: a joiner that sees
         * COMPLETED reads it, whatever negative value the future chose. */
        full_of(t)->rc = rc;
        full_of(t)->fail_msg = fail_msg;
        s = atomic_load_explicit(&t->state, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(
            &t->state, &s, (s & ~(SCHED__RUNNING | SCHED__NOTIFIED)) | SCHED__COMPLETED,
            memory_order_acq_rel, memory_order_relaxed))
            ;
        if (fail_msg && !(s & (SCHED__HANDLE | SCHED__CLOSED)))
            sched__log_unseen_failure(t, fail_msg);    /* detached before it failed */
        if (s & SCHED__REGISTERED)
            sched__registry_remove(full_of(t));
        wake_awaiter(t);
        task_unref(t);
        return;
    }

    /* Pending: be findable by reports and by shutdown before letting go. */
    if (!(s & SCHED__REGISTERED))
        sched__registry_add(full_of(t));
    s = atomic_load_explicit(&t->state, memory_order_acquire);
    for (;;) {
        uint32_t want;
        if (s & SCHED__CLOSED) {
            atomic_fetch_and_explicit(&t->state, ~(SCHED__RUNNING | SCHED__NOTIFIED),
                                      memory_order_acq_rel);
            sched__task_finish_closed(t);
            return;
        }
        if (s & SCHED__NOTIFIED)
            want = (s & ~(SCHED__RUNNING | SCHED__NOTIFIED)) | SCHED__SCHEDULED;
        else
            want = s & ~SCHED__RUNNING;
        if (atomic_compare_exchange_weak_explicit(&t->state, &s, want, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    if (s & SCHED__NOTIFIED)
        sched__task_resubmit(t);
}

/* A timer's wake-up or a full task.  Out of line, so that a compact
 * task's run does not pay for task_run's frame. */
static __attribute__((noinline)) void runnable_run_other(sched_runnable *r, uint32_t s)
{
    switch (s & SCHED__KIND_MASK) {
    case SCHED__KIND_TIMER:
        sched__timer_rt_run((struct sched__timer_rt *)r);
        break;
    default:
        task_run((struct sched_task *)r);
        break;
    }
}

void sched__runnable_run(sched_runnable *r)
{
    struct sched__rhdr *h = (struct sched__rhdr *)r;
    uint32_t s = atomic_load_explicit(&h->state, memory_order_acquire);

    /* A compact task, the common case: detached, never woken, nothing
     * else can reach it. */
    if (!(s & (SCHED__KIND_MASK | SCHED__FULL))) {
        struct sched_task *t = (struct sched_task *)r;
        assert(s & SCHED__SCHEDULED);
        t->a.fn(t->b.arg);
        sched__taskmem_free(t);
        return;
    }
    runnable_run_other(r, s);
}

void sched__runnable_drop(sched_runnable *r)
{
    struct sched__rhdr *h = (struct sched__rhdr *)r;
    switch (atomic_load_explicit(&h->state, memory_order_relaxed) & SCHED__KIND_MASK) {
    case SCHED__KIND_TIMER:
        sched__timer_rt_drop((struct sched__timer_rt *)r);
        break;
    default:
        sched__task_drop_owned((struct sched_task *)r);
        break;
    }
}

int sched__runnable_info(const sched_runnable *r, sched_runnable_info *out)
{
    const struct sched__rhdr *h = (const struct sched__rhdr *)r;
    uint32_t s = atomic_load_explicit(&((struct sched__rhdr *)h)->state, memory_order_relaxed);
    sched_runnable_info info;

    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    if ((s & SCHED__KIND_MASK) == SCHED__KIND_TIMER) {
        info.priority = SCHED_PRIORITY_HIGH;
        const struct sched__timer_rt *rt = (const struct sched__timer_rt *)r;
        info.task_id = rt->id;
        info.session_id = rt->session_id;
        info.label = "timer";
        /* Where it came from: the spawn site of the task that armed it. */
        if (rt->site) {
            info.file = rt->site->file;
            info.func = rt->site->func;
            info.line = rt->site->line;
        }
    } else {
        const struct sched_task *t = (const struct sched_task *)r;
        info.priority = (s & SCHED__PRIO_MASK) >> SCHED__PRIO_SHIFT;
        info.task_id = t->id;
        if (s & SCHED__FULL) {
            const struct sched__task_full *ft = (const struct sched__task_full *)t;
            info.label = t->b.label;
            info.executor_id = ft->executor_id;
            info.session_id = ft->session_id;
        }
        if (t->site) {
            info.file = t->site->file;
            info.func = t->site->func;
            info.line = t->site->line;
        }
    }
    /* Copy only what the caller's (possibly older) struct has room for. */
    if (out->size < sizeof info)
        memcpy((char *)out + sizeof out->size, (char *)&info + sizeof info.size,
               out->size > sizeof out->size ? out->size - sizeof out->size : 0);
    else
        memcpy((char *)out + sizeof out->size, (char *)&info + sizeof info.size,
               sizeof info - sizeof info.size);
    return 0;
}
