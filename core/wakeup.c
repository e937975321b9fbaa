/* SPDX-License-Identifier: MIT */
/*
 * core/wakeup.c - a timer's wake-up: the task core's second kind of
 * runnable.
 *
 * A timer future (future.c) arms one with the backend or the fallback
 * timer thread; when it is due the task core runs it like any runnable
 * (sched__runnable_run tells it from a task by its kind bits), and it
 * wakes the task that waits.  The future and the scheduler each hold a
 * reference; the last one frees it.
 */
#include "config.h"

#include <stdlib.h>

#include "task.h"

void sched__timer_rt_unref(struct sched__timer_rt *rt)
{
    if (atomic_fetch_sub_explicit(&rt->refs, 1, memory_order_acq_rel) == 1)
        free(rt);
}

/* The wake-up is due: wake the timer's task.  Runs on whatever thread the
 * backend (or the fallback timer thread) fires timers on. */
void sched__timer_rt_run(struct sched__timer_rt *rt)
{
    sched_waker *w;
    atomic_store_explicit(&rt->fired, 1, memory_order_release);
    w = atomic_exchange_explicit(&rt->waker, NULL, memory_order_acq_rel);
    if (w)
        sched_waker_wake(w);
    sched__timer_rt_unref(rt);
}

/* Given back unrun (taken back, or at shutdown): never waiting again. */
void sched__timer_rt_drop(struct sched__timer_rt *rt)
{
    sched_waker *w;
    atomic_store_explicit(&rt->fired, 1, memory_order_release);
    w = atomic_exchange_explicit(&rt->waker, NULL, memory_order_acq_rel);
    if (w)
        sched_waker_drop(w);
    sched__timer_rt_unref(rt);
}

