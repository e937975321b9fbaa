/* SPDX-License-Identifier: MIT */
/*
 * plugins/linux/linux.c - the linux backend: the plugin ABI's entry point.
 *
 * Ties the worker pool, the main-thread queue, the timers and the parker
 * to the ops table of sched/plugin.h.  See sched-linux(7).
 */
#include "config.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linux.h"

#define LX_MAX_THREADS 1024

static const sched_config_key lx_config_keys[] = {
    { "threads", SCHED_CONFIG_INT, 0, LX_MAX_THREADS,
      "worker threads; 0 = one per CPU" },
    { NULL, 0, 0, 0, NULL }
};

/* CPUs this process may run on (its affinity mask), at least 1. */
static unsigned lx_cpus(void)
{
    cpu_set_t set;
    long n;

    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/*
 * Forks seen by this process.  A fork copies a backend without its
 * threads: a child's copy (created before the last fork) refuses work and
 * is freed without joining or signalling threads it does not have.  A
 * counter rather than a pid: getpid() is a system call on every schedule.
 */
atomic_uint lx_forks;
static pthread_once_t lx_atfork_once = PTHREAD_ONCE_INIT;

static void lx_atfork_child(void)
{
    atomic_fetch_add_explicit(&lx_forks, 1, memory_order_relaxed);
}

static void lx_register_atfork(void)
{
    pthread_atfork(NULL, NULL, lx_atfork_child);
}

static void lx_destroy(void *self);

static int lx_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    struct lx_backend *b;
    int64_t threads = 0;
    int rc;

    if (env->svc->config_int(env->host, "threads", &threads) == 0 &&
        (threads < 0 || threads > LX_MAX_THREADS)) {
        env->svc->config_error(env->host, "threads", "must be between 0 and 1024", err, errlen);
        return SCHED_ECONFIG;
    }
    b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory creating the linux backend");
        return SCHED_ENOMEM;
    }
    pthread_once(&lx_atfork_once, lx_register_atfork);
    b->forks = atomic_load(&lx_forks);
    b->svc = env->svc;
    b->host = env->host;
    b->main_thread = pthread_self();
    b->ncpu = lx_cpus();
    b->mainq.efd = -1;
    lx_rt_init(&b->rt);
    rc = lx_mainq_init(&b->mainq, err, errlen);
    if (rc == 0)
        rc = lx_pool_new(b, threads > 0 ? (unsigned)threads : b->ncpu, &b->pool, err, errlen);
    if (rc == 0)
        rc = lx_timers_new(b, &b->timers, err, errlen);
    if (rc != 0) {
        lx_destroy(b);
        return rc;
    }
    *self = b;
    return 0;
}

/* Stop the threads that produce work before the queues they feed: timers
 * hand runnables to every queue, the realtime thread and the workers to
 * the pool and the main queue.
 * Then drop what is left, queue by queue, until a whole pass finds nothing:
 * a drop can wake a task and queue it again. */
static void lx_destroy(void *self)
{
    struct lx_backend *b = self;
    size_t n;

    if (lx_forked(b)) {
        /* A copy in a forked child: its threads are the parent's, and
         * any lock one of them held at the fork stays held here. */
        lx_timers_abandon(b->timers);
        lx_pool_abandon(b->pool);
        if (b->mainq.efd >= 0)
            close(b->mainq.efd);    /* the child's copy; the parent keeps its own */
        free(b);
        return;
    }
    if (b->timers)
        lx_timers_stop(b->timers);
    lx_rt_stop(&b->rt);
    if (b->pool)
        lx_pool_stop(b->pool);
    do {
        n = 0;
        if (b->timers)
            n += lx_timers_drain(b->timers);
        if (b->pool)
            n += lx_pool_drain(b->pool);
        n += lx_rt_drain(b);
        if (b->mainq.efd >= 0)
            n += lx_mainq_drain(b);
    } while (n > 0);
    lx_timers_free(b->timers);
    lx_pool_free(b->pool);
    lx_rt_fini(&b->rt);
    if (b->mainq.efd >= 0)
        lx_mainq_fini(&b->mainq);
    free(b);
}

static int lx_schedule(void *self, sched_runnable *r)
{
    struct lx_backend *b = self;
    if (lx_forked(b))
        return SCHED_ECLOSED;
    return lx_pool_push(b->pool, r, SCHED_PRIORITY_MEDIUM);
}

static int lx_schedule_labeled(void *self, sched_runnable *r, const char *label,
                               sched_priority prio)
{
    struct lx_backend *b = self;
    (void)label;
    if (lx_forked(b))
        return SCHED_ECLOSED;
    if (prio == SCHED_PRIORITY_REALTIME)
        return lx_rt_push(b, r);
    return lx_pool_push(b->pool, r, prio);
}

/* Refused in a forked child too: the eventfd is shared with the parent,
 * whose main loop would take the child's wake-ups. */
static int lx_schedule_main(void *self, sched_runnable *r)
{
    if (lx_forked(self))
        return SCHED_ECLOSED;
    return lx_mainq_push(self, r);
}

static int lx_schedule_after(void *self, sched_runnable *r, uint64_t delay_ns, int main)
{
    struct lx_backend *b = self;
    uint64_t now = lx_now_ns();
    uint64_t due = delay_ns >= UINT64_MAX - now ? UINT64_MAX : now + delay_ns;
    if (lx_forked(b))
        return SCHED_ECLOSED;
    return lx_timers_add(b->timers, r, due, main);
}

/* A dropped timer leaves the heap, and is dropped here. */
static int lx_cancel_after(void *self, sched_runnable *r)
{
    struct lx_backend *b = self;
    int rc;
    if (lx_forked(b))
        return SCHED_ENOENT;    /* left in the heap for lx_timers_abandon */
    rc = lx_timers_remove(b->timers, r);
    if (rc == 0)
        b->svc->drop(r);
    return rc;
}

static uint64_t lx_now(void *self)
{
    (void)self;
    return lx_now_ns();
}

static int lx_is_main_thread(void *self)
{
    struct lx_backend *b = self;
    return pthread_equal(pthread_self(), b->main_thread);
}

static int lx_park_op(void *self, sched_parker *p, uint64_t timeout_ns)
{
    return lx_park(self, p, timeout_ns);
}

static void lx_unpark_op(void *self, sched_parker *p)
{
    lx_unpark(self, p);
}

static unsigned lx_num_cpus(void *self)
{
    struct lx_backend *b = self;
    return b->ncpu;
}

static int lx_run(void *self)
{
    if (!lx_is_main_thread(self))
        return SCHED_EWRONGTHREAD;
    if (lx_forked(self))
        return SCHED_ECLOSED;
    return lx_mainq_run(self);
}

static void lx_stop(void *self)
{
    if (!lx_forked(self))
        lx_mainq_stop(self);
}

static int lx_poll_fd(void *self)
{
    struct lx_backend *b = self;
    return lx_forked(b) ? SCHED_ECLOSED : b->mainq.efd;
}

static int lx_dispatch(void *self)
{
    if (!lx_is_main_thread(self))
        return SCHED_EWRONGTHREAD;
    if (lx_forked(self))
        return SCHED_ECLOSED;
    return lx_mainq_dispatch(self);
}

static const sched_pollable_iface_v1 lx_pollable = {
    .size = sizeof(sched_pollable_iface_v1),
    .fd = lx_poll_fd,
    .dispatch = lx_dispatch,
};

static const void *lx_query(void *self, const char *iface, uint32_t version)
{
    (void)self;
    if (strcmp(iface, "sched.pollable") == 0 && version == 1)
        return &lx_pollable;
    return NULL;
}

static const sched_plugin_descriptor lx_descriptor = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "linux",
    .description = "native Linux thread pool with futex parking, eventfd main queue and precise timers",
    .version = PACKAGE_VERSION,
    .config_keys = lx_config_keys,
    .ops = {
        .create = lx_create,
        .destroy = lx_destroy,
        .schedule = lx_schedule,
        .schedule_labeled = lx_schedule_labeled,
        .schedule_main = lx_schedule_main,
        .schedule_after = lx_schedule_after,
        .cancel_after = lx_cancel_after,
        .now = lx_now,
        .is_main_thread = lx_is_main_thread,
        .park = lx_park_op,
        .unpark = lx_unpark_op,
        .num_cpus = lx_num_cpus,
        .run = lx_run,
        .stop = lx_stop,
        .query = lx_query,
    },
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    if (!svc || svc->abi_major != SCHED_PLUGIN_ABI_MAJOR)
        return NULL;
    return &lx_descriptor;
}
