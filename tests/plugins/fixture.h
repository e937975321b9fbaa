/* SPDX-License-Identifier: MIT */
/*
 * tests/plugins/fixture.h - the parts every test fixture plugin shares.
 *
 * These plugins exist only for the loader's tests: each one is a valid
 * backend except for the single defect its file demonstrates.  They are
 * built for `make check` and never installed.
 *
 * The scheduler below is deliberately tiny but real: a mutex-protected
 * FIFO of runnables for the background and one for the main thread, run
 * by the main loop in order.  It includes only <sched/plugin.h>, like any
 * third-party backend.
 */
#ifndef SCHED_TEST_FIXTURE_H
#define SCHED_TEST_FIXTURE_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <sched/plugin.h>

struct fixture {
    const sched_host_services *svc;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    sched_runnable *head, *tail;    /* linked through backend_slot[0] */
    int stopping;
};

static inline int fixture_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL) {
        snprintf(err, errlen, "out of memory");
        return SCHED_ENOMEM;
    }
    f->svc = env->svc;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    *self = f;
    return 0;
}

static inline sched_runnable *fixture_pop(struct fixture *f)
{
    sched_runnable *r = f->head;
    if (r != NULL) {
        f->head = r->backend_slot[0];
        if (f->head == NULL)
            f->tail = NULL;
    }
    return r;
}

static inline void fixture_destroy(void *self)
{
    struct fixture *f = self;
    sched_runnable *r;
    while ((r = fixture_pop(f)) != NULL)
        f->svc->drop(r);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* Both queues are one FIFO run by the main loop: enough for the tests. */
static inline int fixture_schedule(void *self, sched_runnable *r)
{
    struct fixture *f = self;
    r->backend_slot[0] = NULL;
    pthread_mutex_lock(&f->lock);
    if (f->tail != NULL)
        f->tail->backend_slot[0] = r;
    else
        f->head = r;
    f->tail = r;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static inline int fixture_run(void *self)
{
    struct fixture *f = self;
    pthread_mutex_lock(&f->lock);
    while (!f->stopping) {
        sched_runnable *r = fixture_pop(f);
        if (r == NULL) {
            pthread_cond_wait(&f->cond, &f->lock);
            continue;
        }
        pthread_mutex_unlock(&f->lock);
        f->svc->run(r);
        pthread_mutex_lock(&f->lock);
    }
    f->stopping = 0;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static inline void fixture_stop(void *self)
{
    struct fixture *f = self;
    pthread_mutex_lock(&f->lock);
    f->stopping = 1;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

#define FIXTURE_OPS                          \
    {                                        \
        .create = fixture_create,            \
        .destroy = fixture_destroy,          \
        .schedule = fixture_schedule,        \
        .schedule_main = fixture_schedule,   \
        .run = fixture_run,                  \
        .stop = fixture_stop,                \
    }

/* The entry function of a fixture whose defect is in its descriptor. */
#define FIXTURE_ENTRY(desc_)                                                        \
    SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(         \
        const sched_host_services *svc)                                             \
    {                                                                               \
        (void)svc;                                                                  \
        return &(desc_);                                                            \
    }

/* A well-formed descriptor whose defect is in its strings or its keys
 * (keys_ may be NULL), and its entry function. */
#define FIXTURE_PLUGIN(name_, description_, version_, keys_)                        \
    static const sched_plugin_descriptor desc = {                                   \
        .abi_major = SCHED_PLUGIN_ABI_MAJOR,                                        \
        .abi_minor = SCHED_PLUGIN_ABI_MINOR,                                        \
        .size = sizeof(sched_plugin_descriptor),                                    \
        .config_keys = (keys_),                                                     \
        .name = (name_),                                                            \
        .description = (description_),                                             \
        .version = (version_),                                                      \
        .ops = FIXTURE_OPS,                                                         \
    };                                                                              \
    FIXTURE_ENTRY(desc)

#endif
