/* SPDX-License-Identifier: MIT */
/*
 * plugins/linux/mainq.c - the main-thread queue.
 *
 * Runnables for the main thread wait in a FIFO under a mutex.  An eventfd
 * is readable exactly while the FIFO is non-empty (it is written when the
 * FIFO goes from empty to non-empty, and read empty when the FIFO is taken),
 * so an application's own loop can poll it and call dispatch; run() is the
 * same loop for applications without one.  stop() and a main-thread park
 * also write it, to wake a waiting run() or park; dispatch clears that too.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "linux.h"

int lx_mainq_init(struct lx_mainq *m, char *err, size_t errlen)
{
    m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->efd < 0) {
        snprintf(err, errlen, "cannot create the main-thread eventfd: %s", strerror(errno));
        return errno == ENOMEM ? SCHED_ENOMEM
               : errno == EMFILE || errno == ENFILE ? SCHED_EAGAIN : SCHED_EBACKEND;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->q.head = m->q.tail = NULL;
    atomic_init(&m->stop, 0);
    atomic_init(&m->closed, 0);
    return 0;
}

void lx_mainq_kick(struct lx_mainq *m)
{
    uint64_t one = 1;
    ssize_t n;

    /* Only EINTR can fail here: the counter never nears its limit because
     * every dispatch reads it back to zero. */
    do
        n = write(m->efd, &one, sizeof one);
    while (n < 0 && errno == EINTR);
}

/* Queue r for the main thread.  Any thread. */
int lx_mainq_push(struct lx_backend *b, sched_runnable *r)
{
    struct lx_mainq *m = &b->mainq;
    int was_empty;

    pthread_mutex_lock(&m->mu);
    if (atomic_load_explicit(&m->closed, memory_order_relaxed)) {
        pthread_mutex_unlock(&m->mu);
        return SCHED_ECLOSED;
    }
    was_empty = m->q.head == NULL;
    lx_list_push(&m->q, r);
    if (was_empty)
        lx_mainq_kick(m);
    pthread_mutex_unlock(&m->mu);
    return 0;
}

/* Run what is queued now (not what those runnables queue in turn: that
 * waits for the next dispatch, so one dispatch is bounded).  Main thread. */
int lx_mainq_dispatch(struct lx_backend *b)
{
    struct lx_mainq *m = &b->mainq;
    struct lx_list batch;
    sched_runnable *r;
    uint64_t cnt;
    int n = 0;

    pthread_mutex_lock(&m->mu);
    batch = m->q;
    m->q.head = m->q.tail = NULL;
    while (read(m->efd, &cnt, sizeof cnt) < 0 && errno == EINTR)
        ;
    pthread_mutex_unlock(&m->mu);

    while ((r = lx_list_pop(&batch))) {
        b->svc->run(r);
        n++;
    }
    return n;
}

/* The main loop: dispatch, then sleep in poll() until the eventfd says
 * there is more, until stop().  A stop() before run() makes run() return
 * after one dispatch. */
int lx_mainq_run(struct lx_backend *b)
{
    struct lx_mainq *m = &b->mainq;
    struct pollfd pfd = { .fd = m->efd, .events = POLLIN };

    for (;;) {
        lx_mainq_dispatch(b);
        if (atomic_exchange(&m->stop, 0))
            return 0;
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            return SCHED_EBACKEND;
    }
}

void lx_mainq_stop(struct lx_backend *b)
{
    atomic_store(&b->mainq.stop, 1);
    lx_mainq_kick(&b->mainq);
}

/* Refuse new work and drop what is queued (destroy).  Dropping may queue
 * more main-thread work; that is refused and stays with the caller. */
size_t lx_mainq_drain(struct lx_backend *b)
{
    struct lx_mainq *m = &b->mainq;
    struct lx_list all;
    size_t n = 0;
    sched_runnable *r;

    pthread_mutex_lock(&m->mu);
    atomic_store(&m->closed, 1);
    all = m->q;
    m->q.head = m->q.tail = NULL;
    pthread_mutex_unlock(&m->mu);
    while ((r = lx_list_pop(&all))) {
        b->svc->drop(r);
        n++;
    }
    return n;
}

void lx_mainq_fini(struct lx_mainq *m)
{
    if (m->efd >= 0)
        close(m->efd);
    m->efd = -1;
    pthread_mutex_destroy(&m->mu);
}
