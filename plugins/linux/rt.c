/* SPDX-License-Identifier: MIT */
/*
 * plugins/linux/rt.c - the real-time thread, and scheduling-policy helpers.
 *
 * Runnables of SCHED_PRIORITY_REALTIME run, in order, on one dedicated
 * thread started on first use, with SCHED_FIFO where the process may use
 * it (CAP_SYS_NICE or an RLIMIT_RTPRIO allowance).  Where it may not, the
 * thread runs at the normal policy, and the fallback is logged once.  If
 * the thread cannot be started at all, realtime work runs as high
 * priority on the pool (also logged): it is never refused for that.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "linux.h"

#define LX_RT_FIFO_PRIO 1

int lx_sched_fifo(int prio)
{
    struct sched_param sp = { .sched_priority = prio };
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

void lx_sched_normal(void)
{
    struct sched_param sp = { .sched_priority = 0 };
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
}

static void *rt_thread(void *arg)
{
    struct lx_backend *b = arg;
    struct lx_rt *rt = &b->rt;
    int rc = lx_sched_fifo(LX_RT_FIFO_PRIO);

    if (rc != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "SCHED_FIFO not permitted for the realtime thread (%s); "
                 "realtime tasks run at the normal policy", strerror(rc));
        b->svc->log(b->host, SCHED_LOG_WARN, msg);
    }
    pthread_mutex_lock(&rt->mu);
    while (!rt->closing) {
        sched_runnable *r = lx_list_pop(&rt->q);
        if (r) {
            pthread_mutex_unlock(&rt->mu);
            b->svc->run(r);
            pthread_mutex_lock(&rt->mu);
            continue;
        }
        unsigned seen = atomic_load(&rt->wake);
        pthread_mutex_unlock(&rt->mu);
        lx_futex_wait(&rt->wake, seen, NULL);
        pthread_mutex_lock(&rt->mu);
    }
    pthread_mutex_unlock(&rt->mu);
    return NULL;
}

void lx_rt_init(struct lx_rt *rt)
{
    pthread_mutex_init(&rt->mu, NULL);
    rt->q.head = rt->q.tail = NULL;
    atomic_init(&rt->wake, 0);
    rt->state = LX_RT_IDLE;
    rt->closing = 0;
}

int lx_rt_push(struct lx_backend *b, sched_runnable *r)
{
    struct lx_rt *rt = &b->rt;
    int rc;

    pthread_mutex_lock(&rt->mu);
    if (rt->closing) {
        pthread_mutex_unlock(&rt->mu);
        return SCHED_ECLOSED;
    }
    if (rt->state == LX_RT_IDLE) {
        rc = pthread_create(&rt->thread, NULL, rt_thread, b);
        rt->state = rc == 0 ? LX_RT_RUNNING : LX_RT_FAILED;
        if (rc != 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "cannot start the realtime thread (%s); "
                     "realtime tasks run as high priority", strerror(rc));
            b->svc->log(b->host, SCHED_LOG_WARN, msg);
        }
    }
    if (rt->state == LX_RT_FAILED) {
        pthread_mutex_unlock(&rt->mu);
        return lx_pool_push(b->pool, r, SCHED_PRIORITY_HIGH);
    }
    lx_list_push(&rt->q, r);
    atomic_fetch_add(&rt->wake, 1);
    pthread_mutex_unlock(&rt->mu);
    lx_futex_wake(&rt->wake, 1);
    return 0;
}

void lx_rt_stop(struct lx_rt *rt)
{
    pthread_mutex_lock(&rt->mu);
    rt->closing = 1;
    atomic_fetch_add(&rt->wake, 1);
    pthread_mutex_unlock(&rt->mu);
    lx_futex_wake(&rt->wake, 1);
    if (rt->state == LX_RT_RUNNING)
        pthread_join(rt->thread, NULL);
    rt->state = LX_RT_FAILED;
}

size_t lx_rt_drain(struct lx_backend *b)
{
    struct lx_rt *rt = &b->rt;
    struct lx_list all;
    size_t n = 0;

    pthread_mutex_lock(&rt->mu);
    all = rt->q;
    rt->q.head = rt->q.tail = NULL;
    pthread_mutex_unlock(&rt->mu);
    for (sched_runnable *r; (r = lx_list_pop(&all)); n++)
        b->svc->drop(r);
    return n;
}

void lx_rt_fini(struct lx_rt *rt)
{
    pthread_mutex_destroy(&rt->mu);
}
