/* SPDX-License-Identifier: MIT */
/*
 * plugins/cloudflare-sim/cloudflare-sim.c - a simulated Cloudflare Workers
 * isolate as a libsched backend: the descriptor, configuration, and the
 * ops that queue work.  See sched-cloudflare-sim(7).
 *
 * One thread (the one that opened the host) runs everything; other
 * threads only queue.  Time is virtual (Workers clock semantics, loop.c);
 * every choice of what runs next is drawn from one seeded PRNG.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sched/version.h>

#include "cfsim.h"

#define MS 1000000ull

static const sched_config_key config_keys[] = {
    { "seed", SCHED_CONFIG_INT, 0, INT64_MAX,
      "seed of the PRNG that interleaves concurrent work (SCHED_SEED overrides)" },
    { "wait_until_limit_ms", SCHED_CONFIG_INT, 0, 24 * 3600 * 1000LL,
      "how long wait_until work may run after its request ended; 0 = no limit" },
    { "max_timers_per_request", SCHED_CONFIG_INT, 0, 100000000LL,
      "pending timers one request may hold; 0 = no limit" },
    { "io_wait_ms", SCHED_CONFIG_INT, 0, 3600 * 1000LL,
      "real time to wait for a wake from another thread before a request counts as hung" },
    { "cpu_limit_ms", SCHED_CONFIG_INT, 0, 300000,
      "CPU time one request may use (Workers: 10 free, 30000 paid by default, at most "
      "300000); 0 = no limit" },
    { "cancel_undeclared", SCHED_CONFIG_BOOL, 0, 0,
      "cancel undeclared work still running when its request ends, as production does" },
    { NULL, 0, 0, 0, NULL }
};

static int config_u64(cfsim *cf, const char *key, uint64_t *out)
{
    int64_t v;
    if (cf->svc->config_int(cf->host, key, &v) == 0)
        *out = (uint64_t)v;     /* config_keys bounds it to >= 0 */
    return 0;
}

static int configure(cfsim *cf, char *err, size_t errlen)
{
    cf->wait_until_limit_ms = 30000;
    cf->max_timers_per_request = 10000;
    cf->io_wait_ms = 1000;
    config_u64(cf, "seed", &cf->seed);
    config_u64(cf, "wait_until_limit_ms", &cf->wait_until_limit_ms);
    config_u64(cf, "max_timers_per_request", &cf->max_timers_per_request);
    config_u64(cf, "io_wait_ms", &cf->io_wait_ms);
    config_u64(cf, "cpu_limit_ms", &cf->cpu_limit_ms);
    cf->cancel_undeclared = 1;
    cf->svc->config_bool(cf->host, "cancel_undeclared", &cf->cancel_undeclared);

    const char *env = cf->svc->getenv ? cf->svc->getenv("SCHED_SEED") : NULL;
    if (env != NULL) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(env, &end, 0);
        if (errno != 0 || end == env || *end != '\0' || env[0] == '-') {
            snprintf(err, errlen, "SCHED_SEED=\"%s\" is not an unsigned 64-bit integer", env);
            return SCHED_ECONFIG;
        }
        cf->seed = v;
    }
    /* The test backend's other strategies choose among its run queues,
     * not among request lanes: asked for one, say so rather than run a
     * different schedule than the one asked for. */
    env = cf->svc->getenv ? cf->svc->getenv("SCHED_STRATEGY") : NULL;
    if (env != NULL && strcmp(env, "random") != 0) {
        snprintf(err, errlen, "SCHED_STRATEGY=\"%s\": the cloudflare-sim backend draws every "
                 "choice at random from the seed and has no other strategy", env);
        return SCHED_ECONFIG;
    }
    return 0;
}

static int cfsim_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    cfsim *cf = calloc(1, sizeof *cf);
    if (cf == NULL) {
        snprintf(err, errlen, "out of memory");
        return SCHED_ENOMEM;
    }
    cf->svc = env->svc;
    cf->host = env->host;
    int rc = configure(cf, err, errlen);
    if (rc != 0) {
        free(cf);
        return rc;
    }
    cfsim_mutex_init(&cf->mu);
    cfsim_cond_init(&cf->cv);
    cf->isolate = cfsim_thread_self();
    sched_prng_seed(&cf->rng, cf->seed);

    cf->policy.size = sizeof cf->policy;
    cf->policy.flags = SCHED_SESSION_POLICY_NO_CROSS_AWAIT | SCHED_SESSION_POLICY_ABORT_HUNG;
    if (cf->cancel_undeclared)
        cf->policy.flags |= SCHED_SESSION_POLICY_CANCEL_UNDECLARED;
    cf->policy.wait_until_limit_ns = cf->wait_until_limit_ms * MS;
    cf->policy.max_timers_per_session = cf->max_timers_per_request;
    cf->policy.cpu_limit_ns = cf->cpu_limit_ms * MS;
    cf->policy.pending_timers = cfsim_pending_timers;
    cf->policy.set_idle_hook = cfsim_set_idle_hook;
    *self = cf;
    return 0;
}

/* Drop everything still queued or armed, each exactly once, with the lock
 * released around each drop (a dropped task may wake others, whose
 * schedule is then refused and dropped by the host). */
static void cfsim_destroy(void *self)
{
    cfsim *cf = self;
    sched_runnable *r;
    cfsim_mutex_lock(&cf->mu);
    cf->closed = 1;
    cfsim_cond_broadcast(&cf->cv);
    while ((r = cfsim_take_any(cf)) != NULL) {
        cfsim_mutex_unlock(&cf->mu);
        cf->svc->drop(r);
        cfsim_mutex_lock(&cf->mu);
    }
    cfsim_mutex_unlock(&cf->mu);
    cfsim_cond_destroy(&cf->cv);
    cfsim_mutex_destroy(&cf->mu);
    for (size_t i = 0; i < cf->caplabels; i++)
        free(cf->labels[i]);
    free(cf->labels);
    free(cf->history);
    free(cf->lanes);
    free(cf->background);
    free(cf->heap);
    free(cf->stimers);
    free(cf);
}

/* Queue r on the isolate; any thread.  0, or a code with r still the
 * caller's. */
static int enqueue(cfsim *cf, sched_runnable *r, int main)
{
    sched_runnable_info info = { .size = sizeof info };
    cf->svc->info(r, &info);
    cfsim_mutex_lock(&cf->mu);
    int rc = cf->closed ? SCHED_ECLOSED : cfsim_ready_push(cf, r, cfsim_lane_key(&info, main));
    if (rc == 0)
        cfsim_cond_broadcast(&cf->cv);
    cfsim_mutex_unlock(&cf->mu);
    return rc;
}

static int cfsim_schedule(void *self, sched_runnable *r)
{
    return enqueue(self, r, 0);
}

/* Workers has no priorities: the label and priority are accepted and
 * ignored (the label still shows in the history). */
static int cfsim_schedule_labeled(void *self, sched_runnable *r, const char *label,
                                  sched_priority prio)
{
    (void)label;
    (void)prio;
    return enqueue(self, r, 0);
}

static int cfsim_schedule_main(void *self, sched_runnable *r)
{
    return enqueue(self, r, 1);
}

/* The host prefixes the backend's name.  A timer's info carries the spawn
 * site of the task that armed it. */
static void log_timer_refused(cfsim *cf, const sched_runnable_info *info, uint64_t pending)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "request %llu already holds %llu pending timers (max_timers_per_request); "
             "timer %llu, armed by the task spawned at %s:%d (%s), was refused",
             (unsigned long long)info->session_id, (unsigned long long)pending,
             (unsigned long long)info->task_id, info->file ? info->file : "?", info->line, info->func ? info->func : "?");
    cf->svc->log(cf->host, SCHED_LOG_ERROR, msg);
}

/* Arm r on the virtual clock.  A request holding max_timers_per_request
 * pending timers is refused with SCHED_ELIMIT (and a log line). */
static int cfsim_schedule_after(void *self, sched_runnable *r, uint64_t delay_ns, int main)
{
    cfsim *cf = self;
    sched_runnable_info info = { .size = sizeof info };
    cf->svc->info(r, &info);
    uint64_t key = cfsim_lane_key(&info, main);
    cfsim_mutex_lock(&cf->mu);
    if (cf->closed) {
        cfsim_mutex_unlock(&cf->mu);
        return SCHED_ECLOSED;
    }
    uint64_t pending = cfsim_session_timers_pending(cf, info.session_id);
    if (info.session_id != 0 && cf->max_timers_per_request != 0 &&
        pending >= cf->max_timers_per_request) {
        cfsim_mutex_unlock(&cf->mu);
        log_timer_refused(cf, &info, pending);
        return SCHED_ELIMIT;
    }
    int rc;
    if (delay_ns == 0) {
        rc = cfsim_ready_push(cf, r, key);
    } else {
        uint64_t due = cf->now_ns + delay_ns < cf->now_ns ? UINT64_MAX : cf->now_ns + delay_ns;
        rc = cfsim_timer_push(cf, r, due, info.session_id, key);
    }
    if (rc == 0)
        cfsim_cond_broadcast(&cf->cv);
    cfsim_mutex_unlock(&cf->mu);
    return rc;
}

/* A timer nobody awaits leaves the heap, so the Workers clock never
 * advances to it and it no longer counts against its request's limit. */
static int cfsim_cancel_after(void *self, sched_runnable *r)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    int found = cfsim_timer_remove(cf, r);
    if (found)
        cfsim_cond_broadcast(&cf->cv);  /* a loop waiting for it looks again */
    cfsim_mutex_unlock(&cf->mu);
    if (!found)
        return SCHED_ENOENT;
    cf->svc->drop(r);
    return 0;
}

static uint64_t cfsim_now(void *self)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    uint64_t t = cf->now_ns;
    cfsim_mutex_unlock(&cf->mu);
    return t;
}

static int cfsim_is_main_thread(void *self)
{
    cfsim *cf = self;
    return cfsim_thread_equal(cfsim_thread_self(), cf->isolate) != 0;
}

/* One isolate, one thread. */
static unsigned cfsim_num_cpus(void *self)
{
    (void)self;
    return 1;
}

static cfsim *of_policy(const sched_session_policy_iface_v1 *p)
{
    return (cfsim *)(void *)((char *)(uintptr_t)p - offsetof(cfsim, policy));
}

/* Timers armed for a request, or (session_id 0) for none: the events that
 * can still wake it, as workerd counts a request's pending events. */
uint64_t cfsim_pending_timers(const sched_session_policy_iface_v1 *self, uint64_t session_id)
{
    cfsim *cf = of_policy(self);
    cfsim_mutex_lock(&cf->mu);
    uint64_t n = cf->ntimers;
    if (session_id != 0) {
        n = cfsim_session_timers_pending(cf, session_id);
    } else {
        for (size_t i = 0; i < cf->nstimers; i++)
            n -= cf->stimers[i].pending;
    }
    cfsim_mutex_unlock(&cf->mu);
    return n;
}

void cfsim_set_idle_hook(const sched_session_policy_iface_v1 *self,
                         int (*fn)(void *arg, int stalled), void *arg)
{
    cfsim *cf = of_policy(self);
    cf->idle_fn = fn;
    cf->idle_arg = arg;
}

static const void *cfsim_query(void *self, const char *iface, uint32_t version)
{
    cfsim *cf = self;
    if (version == 1 && strcmp(iface, "sched.test") == 0)
        return &cfsim_test_iface;
    if (version == 1 && strcmp(iface, "sched.session") == 0)
        return &cf->policy;
    return NULL;
}

static const sched_plugin_descriptor descriptor = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "cloudflare-sim",
    .description = "simulated Cloudflare Workers isolate: one thread, virtual clock, seeded",
    .version = SCHED_VERSION_STRING,
    .config_keys = config_keys,
    .ops = {
        .create = cfsim_create,
        .destroy = cfsim_destroy,
        .schedule = cfsim_schedule,
        .schedule_labeled = cfsim_schedule_labeled,
        .schedule_main = cfsim_schedule_main,
        .schedule_after = cfsim_schedule_after,
        .now = cfsim_now,
        .is_main_thread = cfsim_is_main_thread,
        .park = cfsim_park,
        .unpark = cfsim_unpark,
        .num_cpus = cfsim_num_cpus,
        .run = cfsim_run,
        .stop = cfsim_stop,
        .query = cfsim_query,
        .cancel_after = cfsim_cancel_after,
    },
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    /* A host of another ABI major could not call us correctly. */
    if (svc == NULL || svc->abi_major != SCHED_PLUGIN_ABI_MAJOR)
        return NULL;
    return &descriptor;
}
