/*
 * plugins/linux/pool.c - the worker pool.
 *
 * One queue per priority under one mutex; idle workers wait on a condition
 * variable and are signalled only when one is idle, so an idle pool uses no
 * CPU.  Higher priorities run first; to keep low priorities from starving,
 * every LX_FAIR_EVERY-th pick takes the oldest runnable of the lowest
 * non-empty priority instead.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux.h"

#define LX_NPRIO 3              /* low, medium, high (realtime runs as high) */
#define LX_FAIR_EVERY 16

struct lx_pool {
    struct lx_backend *b;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lx_list q[LX_NPRIO];
    unsigned idle;              /* workers waiting on cv */
    unsigned picks;             /* for the fairness pick */
    int closing;
    unsigned nthreads;
    pthread_t *threads;
};

/* Next runnable by priority, with the fairness pick.  Holds p->mu. */
static sched_runnable *pool_pick(struct lx_pool *p)
{
    if (++p->picks % LX_FAIR_EVERY == 0) {
        for (int i = 0; i < LX_NPRIO; i++)
            if (p->q[i].head)
                return lx_list_pop(&p->q[i]);
        return NULL;
    }
    for (int i = LX_NPRIO - 1; i >= 0; i--)
        if (p->q[i].head)
            return lx_list_pop(&p->q[i]);
    return NULL;
}

/* A worker: run runnables until the pool closes.  Whatever is still queued
 * at close is left for lx_pool_drain. */
static void *pool_worker(void *arg)
{
    struct lx_pool *p = arg;
    const sched_host_services *svc = p->b->svc;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        sched_runnable *r;
        if (p->closing)
            break;
        r = pool_pick(p);
        if (!r) {
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        svc->run(r);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int lx_pool_new(struct lx_backend *b, unsigned nthreads, struct lx_pool **out,
                char *err, size_t errlen)
{
    struct lx_pool *p = calloc(1, sizeof *p);
    int rc;

    assert(nthreads >= 1);
    if (!p || !(p->threads = calloc(nthreads, sizeof *p->threads))) {
        free(p);
        snprintf(err, errlen, "out of memory allocating the worker pool");
        return SCHED_ENOMEM;
    }
    p->b = b;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (unsigned i = 0; i < nthreads; i++) {
        rc = pthread_create(&p->threads[i], NULL, pool_worker, p);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start worker thread %u of %u: %s",
                     i + 1, nthreads, strerror(rc));
            p->nthreads = i;
            lx_pool_stop(p);
            lx_pool_free(p);
            return rc == EAGAIN || rc == ENOMEM ? SCHED_ENOMEM : SCHED_EBACKEND;
        }
        p->nthreads = i + 1;
    }
    *out = p;
    return 0;
}

int lx_pool_push(struct lx_pool *p, sched_runnable *r, sched_priority prio)
{
    int i = prio >= SCHED_PRIORITY_HIGH ? 2 : (int)prio;

    pthread_mutex_lock(&p->mu);
    if (p->closing) {
        pthread_mutex_unlock(&p->mu);
        return SCHED_ECLOSED;
    }
    lx_list_push(&p->q[i], r);
    if (p->idle)
        pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void lx_pool_stop(struct lx_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

size_t lx_pool_drain(struct lx_pool *p)
{
    size_t n = 0;
    sched_runnable *r;

    /* Dropping a runnable may wake another task and queue it here: take
     * one at a time, without the lock held across svc->drop. */
    for (;;) {
        pthread_mutex_lock(&p->mu);
        r = NULL;
        for (int i = LX_NPRIO - 1; i >= 0 && !r; i--)
            r = lx_list_pop(&p->q[i]);
        pthread_mutex_unlock(&p->mu);
        if (!r)
            return n;
        p->b->svc->drop(r);
        n++;
    }
}

void lx_pool_free(struct lx_pool *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}
