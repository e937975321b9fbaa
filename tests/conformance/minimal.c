/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/minimal.c - the smallest backend the ABI allows: only
 * the required ops (create, destroy, schedule, schedule_main, run, stop).
 * One worker thread and a main-thread FIFO, each under a mutex.
 *
 * Running the conformance suite against it proves the host's fallbacks:
 * its own timer thread (no schedule_after), its futex parker (no park or
 * unpark), and sched_foreground_block driving run/stop (no pollable main
 * queue).  It is also what a third party's first backend looks like.
 *
 * Built a second time with MISROUTE_MAIN defined, as the backend
 * "misroute", it is deliberately broken: it runs main-thread runnables on
 * its worker thread, which the host must refuse by aborting.
 *
 * Built again with MUTANT_NAME and one MUTANT_* defined, it is one of the
 * broken backends built into tests/plugins/mutants/ (tests/task.am), each
 * breaking one rule that the conformance suite must catch:
 *   MUTANT_LOSE    one background runnable in 1000 is neither run nor dropped
 *   MUTANT_TWICE   one background runnable in 16 is run twice
 *   MUTANT_NODROP  destroy() drops nothing it still queues
 *   MUTANT_LIFO    the main queue is last in, first out
 *   MUTANT_STOP    a stop() before run() is forgotten
 *   MUTANT_EARLY   schedule_after queues at once, whatever the delay
 *   MUTANT_NOJOIN  destroy() returns without waiting for its worker
 *
 * Built with EXTRAS_IFACE, as the backend "extras", it offers an
 * interface of its own, "acme.stats" (tests/plugins/extras.h), which a
 * client reaches through sched_host_query(3).
 *
 * Built with ABI_1_0, as the backend "abi10", it exports the descriptor
 * of ABI 1.0 (abi10.h): the host must load it and treat the ops appended
 * since as absent.
 */
#include <pthread.h>
#include <stdlib.h>

#include <sched/plugin.h>

#if defined(ABI_1_0)
#include "abi10.h"
#endif
#if defined(EXTRAS_IFACE)
#include <string.h>

#include "../plugins/extras.h"
#endif

struct fifo {
    sched_runnable *head, *tail;
};

struct minimal {
    const sched_host_services *svc;
    pthread_mutex_t lock;
    pthread_cond_t work, main_work;
    struct fifo bg, main_q;
    int closing, stopping;
    char whoami[16];            /* "extras" when built so; proves self is ours */
    unsigned long ran;          /* background runnables taken, for the mutants */
    int in_run;                 /* the worker is in svc->run, for the mutants */
    pthread_t worker;
};

static void push(struct fifo *q, sched_runnable *r)
{
    r->backend_slot[0] = NULL;
    if (q->tail)
        q->tail->backend_slot[0] = r;
    else
        q->head = r;
    q->tail = r;
}

static sched_runnable *pop(struct fifo *q)
{
    sched_runnable *r = q->head;
    if (r) {
        q->head = r->backend_slot[0];
        if (!q->head)
            q->tail = NULL;
    }
    return r;
}

static void *worker(void *arg)
{
    struct minimal *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->closing) {
        sched_runnable *r = pop(&m->bg);
        if (!r) {
            pthread_cond_wait(&m->work, &m->lock);
            continue;
        }
        m->ran++;
#if defined(MUTANT_LOSE)
        if (m->ran % 1000 == 0)
            continue;
#endif
        m->in_run = 1;
        pthread_mutex_unlock(&m->lock);
        m->svc->run(r);
#if defined(MUTANT_TWICE)
        if (m->ran % 16 == 0)
            m->svc->run(r);
#endif
        pthread_mutex_lock(&m->lock);
        m->in_run = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static int m_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    struct minimal *m = calloc(1, sizeof *m);
    (void)err, (void)errlen;
    if (!m)
        return SCHED_ENOMEM;
    m->svc = env->svc;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->work, NULL);
    pthread_cond_init(&m->main_work, NULL);
    if (pthread_create(&m->worker, NULL, worker, m) != 0) {
        free(m);
        return SCHED_ENOMEM;
    }
    *self = m;
    return 0;
}

static void m_destroy(void *self)
{
    struct minimal *m = self;
    sched_runnable *r;
    pthread_mutex_lock(&m->lock);
    m->closing = 1;
    pthread_cond_broadcast(&m->work);
    pthread_mutex_unlock(&m->lock);
#if defined(MUTANT_NOJOIN)
    /* Returns at once if the worker is in a runnable (it keeps m). */
    pthread_mutex_lock(&m->lock);
    if (m->in_run) {
        pthread_detach(m->worker);
        while ((r = pop(&m->bg)))
            m->svc->drop(r);
        while ((r = pop(&m->main_q)))
            m->svc->drop(r);
        pthread_mutex_unlock(&m->lock);
        return;
    }
    pthread_mutex_unlock(&m->lock);
#endif
    pthread_join(m->worker, NULL);
#if !defined(MUTANT_NODROP)
    while ((r = pop(&m->bg)))
        m->svc->drop(r);
    while ((r = pop(&m->main_q)))
        m->svc->drop(r);
#else
    (void)r;
#endif
    pthread_cond_destroy(&m->work);
    pthread_cond_destroy(&m->main_work);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int enqueue(struct minimal *m, struct fifo *q, pthread_cond_t *c, sched_runnable *r)
{
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    if (m->closing)
        rc = SCHED_ECLOSED;
#if defined(MUTANT_LIFO)
    else if (q == &m->main_q) {
        r->backend_slot[0] = q->head;
        q->head = r;
        if (!q->tail)
            q->tail = r;
        pthread_cond_signal(c);
    }
#endif
    else {
        push(q, r);
        pthread_cond_signal(c);
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int m_schedule(void *self, sched_runnable *r)
{
    struct minimal *m = self;
    return enqueue(m, &m->bg, &m->work, r);
}

static int m_schedule_main(void *self, sched_runnable *r)
{
    struct minimal *m = self;
#if defined(MISROUTE_MAIN)
    return enqueue(m, &m->bg, &m->work, r);
#else
    return enqueue(m, &m->main_q, &m->main_work, r);
#endif
}

/* Run main-thread work until stop().  A stop() before run() is kept: the
 * next run() drains the queue once and returns. */
static int m_run(void *self)
{
    struct minimal *m = self;
    pthread_mutex_lock(&m->lock);
#if defined(MUTANT_STOP)
    m->stopping = 0;
#endif
    for (;;) {
        sched_runnable *r = pop(&m->main_q);
        if (r) {
            pthread_mutex_unlock(&m->lock);
            m->svc->run(r);
            pthread_mutex_lock(&m->lock);
            continue;
        }
        if (m->stopping) {
            m->stopping = 0;
            break;
        }
        pthread_cond_wait(&m->main_work, &m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return 0;
}

static void m_stop(void *self)
{
    struct minimal *m = self;
    pthread_mutex_lock(&m->lock);
    m->stopping = 1;
    pthread_cond_signal(&m->main_work);
    pthread_mutex_unlock(&m->lock);
}

#if defined(EXTRAS_IFACE)
static unsigned long stats_ran(void *self)
{
    struct minimal *m = self;
    unsigned long n;
    pthread_mutex_lock(&m->lock);
    n = m->ran;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static const char *stats_whoami(void *self)
{
    return ((struct minimal *)self)->whoami;
}

static const acme_stats_iface_v1 stats_iface = { sizeof stats_iface, stats_ran, stats_whoami };

static const void *m_query(void *self, const char *iface, uint32_t version)
{
    struct minimal *m = self;
    if (strcmp(iface, EXTRAS_IFACE_NAME) == 0 && version == 1) {
        memcpy(m->whoami, "extras", sizeof "extras");
        return &stats_iface;
    }
    return NULL;
}
#endif

#if defined(MUTANT_EARLY)
static int m_schedule_after(void *self, sched_runnable *r, uint64_t delay_ns, int main)
{
    struct minimal *m = self;
    (void)delay_ns;
    return main ? enqueue(m, &m->main_q, &m->main_work, r) : enqueue(m, &m->bg, &m->work, r);
}
#endif

#if defined(ABI_1_0)
static const sched_plugin_descriptor_v1_0 minimal_desc = {
    .abi_major = 1,
    .abi_minor = 0,
    .size = sizeof(sched_plugin_descriptor_v1_0),
    .name = "abi10",
    .description = "the minimal backend with an ABI 1.0 descriptor",
#else
static const sched_plugin_descriptor minimal_desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
#endif
#if defined(ABI_1_0)
#elif defined(EXTRAS_IFACE)
    .name = "extras",
    .description = "the minimal backend with an interface of its own, acme.stats",
#elif defined(MUTANT_NAME)
    .name = MUTANT_NAME,
    .description = "broken on purpose: a mutant of the minimal backend",
#elif defined(MISROUTE_MAIN)
    .name = "misroute",
    .description = "broken on purpose: runs main-thread work on its worker thread",
#else
    .name = "minimal",
    .description = "the required ops only: one worker thread, a main-thread FIFO",
#endif
    .version = "1",
    .ops = {
        .create = m_create,
        .destroy = m_destroy,
        .schedule = m_schedule,
        .schedule_main = m_schedule_main,
        .run = m_run,
        .stop = m_stop,
#if defined(MUTANT_EARLY)
        .schedule_after = m_schedule_after,
#endif
#if defined(EXTRAS_IFACE)
        .query = m_query,
#endif
    },
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    return (const sched_plugin_descriptor *)&minimal_desc;
}
