/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/test.c - the test backend: deterministic, seeded scheduling
 * (sched-test(7)).
 *
 * This file holds the plugin entry, the descriptor, creation from the
 * config, and the scheduler ops the host calls.  The queues are in
 * queue.c, the choice of what runs next in strategy.c, the virtual
 * clock's timers in timers.c, the controls behind sched_as_test() in
 * control.c.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sched/version.h>

#include "tb.h"

/* 2024-01-01T00:00:00Z: where the virtual UTC clock starts by default. */
#define DEFAULT_UTC_START 1704067200

static const sched_config_key config_keys[] = {
    { "seed", SCHED_CONFIG_INT, 0, INT64_MAX,
      "seed of the PRNG that makes every scheduling choice (SCHED_SEED overrides)" },
    { "randomize", SCHED_CONFIG_BOOL, 0, 0,
      "false: the same as strategy = \"fifo\" (the older spelling)" },
    { "allow_parking", SCHED_CONFIG_BOOL, 0, 0,
      "with nothing runnable, wait for other threads (true) or fail with SCHED_EDEADLK" },
    { "num_cpus", SCHED_CONFIG_INT, 1, 4096, "CPU count the scheduler reports (default 4)" },
    { "timeout_ticks_min", SCHED_CONFIG_INT, 0, 1000000000,
      "fewest steps a blocking wait with a timeout runs before it times out (default 0)" },
    { "timeout_ticks_max", SCHED_CONFIG_INT, 0, 1000000000,
      "most steps a blocking wait with a timeout runs before it times out (default 1000)" },
    { "utc_start", SCHED_CONFIG_INT, 0, 9000000000,
      "virtual UTC clock at start, in seconds since 1970 (default 2024-01-01)" },
    { "trace", SCHED_CONFIG_STRING, 0, 0,
      "write the schedule as Chrome Trace Event JSON to this file (SCHED_TRACE overrides)" },
    { "strict_main_block", SCHED_CONFIG_BOOL, 0, 0,
      "a foreground task that blocks holds its executor: none of its other tasks runs meanwhile" },
    { "strategy", SCHED_CONFIG_STRING, 0, 0,
      "how the next runnable is chosen: random (default), fifo or pct (SCHED_STRATEGY overrides)" },
    { "pct_depth", SCHED_CONFIG_INT, 1, TB_PCT_MAX_DEPTH,
      "pct: the bug depth d, giving d-1 priority change points (default 3; SCHED_PCT_DEPTH overrides)" },
    { "pct_steps", SCHED_CONFIG_INT, 1, 1000000000,
      "pct: the estimated choices of a run, over which change points fall (default 1000; "
      "SCHED_PCT_STEPS overrides)" },
    { NULL, 0, 0, 0, NULL }
};

static const char *const strategy_names[] = { "random", "fifo", "pct" };

/* Parker words: a notification flag; the tick budget of a wait with a
 * timeout (plus one; 0 until drawn); the schedule counter when the waiter
 * was woken.  The host zeroes them before the first park of each blocking
 * call, so one call draws one budget. */
#define PARK_NOTIFIED 0
#define PARK_BUDGET 1
#define PARK_WOKEN_SEQ 2

static int on_main_thread(const struct tb *tb)
{
    return tb_thread_equal(tb_thread_self(), tb->main_thread);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* Something changed that a waiting thread may be waiting for. */
static void wake_waiters(struct tb *tb)
{
    if (tb->waiters)
        tb_cond_broadcast(&tb->cv);
}

/*
 * Run one runnable, if any: promote due timers, pick, record the step,
 * run it with mu released.  Called with mu held on the main thread;
 * returns with mu held.  1 if a runnable ran.
 */
int sched__tb_step(struct tb *tb, int background_only)
{
    assert(on_main_thread(tb));
    if (tb->timers.len && tb->timers.v[0].due <= tb->now)
        sched__tb_timers_promote(tb);
    /* A due timer that could not be queued runs now, ahead of the pick. */
    struct tb_cand c;
    sched_runnable *r = sched__tb_timer_take_unqueued(tb, background_only, &c.fg);
    if (r) {
        c.info = (sched_runnable_info){ .size = sizeof c.info };
        tb->svc->info(r, &c.info);
    } else {
        struct tb_choice ch = { .background_only = background_only };
        if (tb->nbusy)
            sched__tb_hold(tb);
        if (sched__tb_choose(tb, &ch, &c))
            r = sched__tb_cand_take(tb, &c);
        if (tb->nbusy)
            sched__tb_release(tb);
        if (!r)
            return 0;
    }
    sched__tb_history_add(tb, c.info.task_id, c.info.label);
    if (tb->trace)
        sched__tb_trace_step(tb, &c.info, c.fg);
    tb->steps++;
    /* strict_main_block: while it runs, its executor runs nothing else. */
    int busy = c.fg && c.info.executor_id && tb->strict_main_block
               && sched__tb_busy_push(tb, c.info.executor_id, c.info.task_id) == 0;
    tb_mutex_unlock(&tb->mu);
    tb->svc->run(r);
    tb_mutex_lock(&tb->mu);
    if (busy)
        sched__tb_busy_pop(tb);
    return 1;
}

/* Move the virtual clock forward to t (never back).  Under mu. */
void sched__tb_advance_to(struct tb *tb, uint64_t t)
{
    if (t <= tb->now)
        return;
    tb->now = t;
    sched__tb_trace_clock(tb);
    wake_waiters(tb);
}

/*
 * Fire the earliest timer if it is due no later than limit: move the
 * clock to it and queue its runnable (and every other timer due then).
 * Under mu.  1 if a timer fired.
 */
int sched__tb_fire_next(struct tb *tb, uint64_t limit)
{
    uint64_t due;
    if (!sched__tb_timer_next(tb, &due) || due > limit)
        return 0;
    sched__tb_advance_to(tb, due);
    sched__tb_timers_promote(tb);
    return 1;
}

/* Parse a decimal number, nothing else (SCHED_SEED and the like). */
static int parse_decimal(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_strategy(const char *s, enum tb_strategy *out)
{
    for (size_t i = 0; i < sizeof strategy_names / sizeof strategy_names[0]; i++) {
        if (strcmp(s, strategy_names[i]) == 0) {
            *out = (enum tb_strategy)i;
            return 0;
        }
    }
    return -1;
}

/* An environment override of an integer setting, from min to max. */
static int env_uint(const sched_host_services *svc, const char *name, uint64_t min, uint64_t max,
                    uint64_t *out, char *err, size_t errlen)
{
    const char *s = svc->getenv(name);
    uint64_t v;
    if (!s)
        return 0;
    if (parse_decimal(s, &v) || v < min || v > max) {
        snprintf(err, errlen, "%s=\"%s\" is not a decimal number from %llu to %llu", name, s,
                 (unsigned long long)min, (unsigned long long)max);
        return SCHED_ECONFIG;
    }
    *out = v;
    return 0;
}

/* strategy, randomize and the pct settings; the environment overrides. */
static int read_strategy(struct tb *tb, const sched_backend_env *env, char *err, size_t errlen)
{
    const sched_host_services *svc = env->svc;
    sched_plugin_host *h = env->host;
    const char *name;
    int64_t v;
    int randomize = 1;
    tb->strategy = TB_STRATEGY_RANDOM;
    tb->pct.depth = 3;
    tb->pct.steps = 1000;
    if (svc->config_bool(h, "randomize", &randomize) == 0 && !randomize)
        tb->strategy = TB_STRATEGY_FIFO;
    if (svc->config_string(h, "strategy", &name) == 0) {
        if (parse_strategy(name, &tb->strategy)) {
            svc->config_error(h, "strategy", "is not one of \"random\", \"fifo\", \"pct\"", err,
                              errlen);
            return SCHED_ECONFIG;
        }
        if (!randomize && tb->strategy != TB_STRATEGY_FIFO) {
            svc->config_error(h, "randomize",
                              "is false, which means strategy \"fifo\", but strategy says otherwise",
                              err, errlen);
            return SCHED_ECONFIG;
        }
    }
    if (svc->config_int(h, "pct_depth", &v) == 0)
        tb->pct.depth = (unsigned)v;
    if (svc->config_int(h, "pct_steps", &v) == 0)
        tb->pct.steps = (uint64_t)v;
    const char *env_name = svc->getenv("SCHED_STRATEGY");
    if (env_name && parse_strategy(env_name, &tb->strategy)) {
        snprintf(err, errlen, "SCHED_STRATEGY=\"%s\" is not one of random, fifo, pct", env_name);
        return SCHED_ECONFIG;
    }
    uint64_t depth = tb->pct.depth;
    int rc = env_uint(svc, "SCHED_PCT_DEPTH", 1, TB_PCT_MAX_DEPTH, &depth, err, errlen);
    if (rc == 0)
        rc = env_uint(svc, "SCHED_PCT_STEPS", 1, 1000000000, &tb->pct.steps, err, errlen);
    tb->pct.depth = (unsigned)depth;
    return rc;
}

static int read_config(struct tb *tb, const sched_backend_env *env, const char **trace,
                       char *err, size_t errlen)
{
    const sched_host_services *svc = env->svc;
    sched_plugin_host *h = env->host;
    int64_t v;
    int b;
    tb->seed = 0;
    tb->num_cpus = 4;
    tb->ticks_min = 0;
    tb->ticks_max = 1000;
    tb->utc_start_ns = (int64_t)DEFAULT_UTC_START * 1000000000;
    if (svc->config_int(h, "seed", &v) == 0)
        tb->seed = (uint64_t)v;
    if (svc->config_bool(h, "allow_parking", &b) == 0)
        tb->parking_allowed = b;
    if (svc->config_bool(h, "strict_main_block", &b) == 0)
        tb->strict_main_block = b;
    if (svc->config_int(h, "num_cpus", &v) == 0)
        tb->num_cpus = (unsigned)v;
    if (svc->config_int(h, "timeout_ticks_min", &v) == 0)
        tb->ticks_min = (uint64_t)v;
    if (svc->config_int(h, "timeout_ticks_max", &v) == 0)
        tb->ticks_max = (uint64_t)v;
    if (svc->config_int(h, "utc_start", &v) == 0)
        tb->utc_start_ns = v * 1000000000;
    if (tb->ticks_min > tb->ticks_max) {
        svc->config_error(h, "timeout_ticks_min", "is greater than timeout_ticks_max", err, errlen);
        return SCHED_ECONFIG;
    }
    int rc = read_strategy(tb, env, err, errlen);
    if (rc)
        return rc;
    const char *env_seed = svc->getenv("SCHED_SEED");
    if (env_seed && parse_decimal(env_seed, &tb->seed)) {
        snprintf(err, errlen, "SCHED_SEED=\"%s\" is not a decimal number from 0 to %llu",
                 env_seed, (unsigned long long)UINT64_MAX);
        return SCHED_ECONFIG;
    }
    *trace = svc->getenv("SCHED_TRACE");
    if (!*trace && svc->config_string(h, "trace", trace) != 0)
        *trace = NULL;
    return 0;
}

/* Create on the thread that opens the host, which becomes the main thread. */
static int tb_create(const sched_backend_env *env, void **self, char *err, size_t errlen)
{
    struct tb *tb = calloc(1, sizeof *tb);
    if (!tb) {
        snprintf(err, errlen, "out of memory");
        return SCHED_ENOMEM;
    }
    tb->svc = env->svc;
    tb->host = env->host;
    tb->main_thread = tb_thread_self();
    const char *trace;
    int rc = read_config(tb, env, &trace, err, errlen);
    if (rc) {
        free(tb);
        return rc;
    }
    sched_prng_seed(&tb->prng, tb->seed);
    tb_mutex_init(&tb->mu);
    tb_cond_init(&tb->cv);
    if (trace && *trace && (rc = sched__tb_trace_open(tb, trace))) {
        snprintf(err, errlen, "cannot write the trace to %s: %s", trace,
                 rc == SCHED_ENOMEM ? "out of memory" : strerror(errno));
        goto out_destroy;
    }
    /* A trace marks the picks that depart from FIFO order, which takes
     * recording them. */
    if ((rc = sched__tb_replay_from_env(tb, err, errlen))
        || (tb->trace && (rc = sched__tb_replay_start(tb, NULL, 0, NULL, err, errlen)))) {
        if (rc == SCHED_ENOMEM)
            snprintf(err, errlen, "out of memory");
        sched__tb_trace_close(tb);
        goto out_destroy;
    }
    *self = tb;
    return 0;
out_destroy:
    sched__tb_replay_close(tb);
    tb_cond_destroy(&tb->cv);
    tb_mutex_destroy(&tb->mu);
    free(tb);
    return rc;
}

/* A list of runnables linked through backend_slot[0], for destroy. */
struct dropped {
    sched_runnable *head;
};

static void collect(sched_runnable *r, void *arg)
{
    struct dropped *d = arg;
    r->backend_slot[0] = d->head;
    d->head = r;
}

/*
 * Drop every runnable still queued or on a timer, exactly once, outside
 * the lock (a drop may wake other tasks, whose schedule calls now fail
 * with SCHED_ECLOSED), then free everything.
 */
static void tb_destroy(void *self)
{
    struct tb *tb = self;
    struct dropped d = { NULL };
    tb_mutex_lock(&tb->mu);
    tb->closed = 1;
    sched__tb_drain(tb, collect, &d);
    tb_mutex_unlock(&tb->mu);
    while (d.head) {
        sched_runnable *r = d.head;
        d.head = r->backend_slot[0];
        tb->svc->drop(r);
    }
    tb_mutex_lock(&tb->mu);
    sched__tb_trace_close(tb);
    sched__tb_replay_close(tb);
    tb_mutex_unlock(&tb->mu);
    sched__tb_queues_free(tb);
    sched__tb_history_free(tb);
    sched__tb_busy_free(tb);
    sched__tb_strategy_free(tb);
    free(tb->bytes);
    tb_cond_destroy(&tb->cv);
    tb_mutex_destroy(&tb->mu);
    free(tb);
}

/* Queue background work; label NULL and prio from the task when not given. */
static int schedule_bg(struct tb *tb, sched_runnable *r, const char *label, unsigned prio)
{
    tb_mutex_lock(&tb->mu);
    int rc = tb->closed ? SCHED_ECLOSED : sched__tb_enqueue_bg(tb, r, label, prio);
    if (rc == 0)
        wake_waiters(tb);
    tb_mutex_unlock(&tb->mu);
    return rc;
}

static int tb_schedule(void *self, sched_runnable *r)
{
    struct tb *tb = self;
    sched_runnable_info info = { .size = sizeof info };
    tb->svc->info(r, &info);
    return schedule_bg(tb, r, info.label, info.priority);
}

static int tb_schedule_labeled(void *self, sched_runnable *r, const char *label,
                               sched_priority prio)
{
    return schedule_bg(self, r, label, (unsigned)prio);
}

static int tb_schedule_main(void *self, sched_runnable *r)
{
    struct tb *tb = self;
    sched_runnable_info info = { .size = sizeof info };
    tb->svc->info(r, &info);
    tb_mutex_lock(&tb->mu);
    int rc = tb->closed ? SCHED_ECLOSED : sched__tb_enqueue_fg(tb, r, info.executor_id);
    if (rc == 0)
        wake_waiters(tb);
    tb_mutex_unlock(&tb->mu);
    return rc;
}

/* Due on the virtual clock: only advance_clock, or a wait with nothing
 * else to run, moves time forward to it. */
static int tb_schedule_after(void *self, sched_runnable *r, uint64_t delay_ns, int main)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    int rc = tb->closed ? SCHED_ECLOSED
                        : sched__tb_timer_add(tb, r, add_sat(tb->now, delay_ns), main);
    if (rc == 0)
        wake_waiters(tb);
    tb_mutex_unlock(&tb->mu);
    return rc;
}

/* A timer nobody awaits is taken out of the heap, so the virtual clock
 * never advances to it; one already promoted to a run queue runs. */
static int tb_cancel_after(void *self, sched_runnable *r)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    int found = sched__tb_timer_remove(tb, r);
    if (found)
        wake_waiters(tb);   /* a wait for it looks again */
    tb_mutex_unlock(&tb->mu);
    if (!found)
        return SCHED_ENOENT;
    tb->svc->drop(r);
    return 0;
}

static uint64_t tb_now(void *self)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    uint64_t now = tb->now;
    tb_mutex_unlock(&tb->mu);
    return now;
}

static int tb_is_main_thread(void *self)
{
    return on_main_thread(self);
}

static int take_notification(sched_parker *p)
{
    return __atomic_exchange_n(&p->backend_slot[PARK_NOTIFIED], 0, __ATOMIC_ACQ_REL) != 0;
}

/*
 * A thread other than the main thread cannot drive the scheduler (work
 * runs only on the main thread), so it really waits until unparked, or
 * until the main thread moves the virtual clock past its deadline.
 */
static int park_foreign(struct tb *tb, sched_parker *p, uint64_t timeout_ns)
{
    tb_mutex_lock(&tb->mu);
    uint64_t deadline = add_sat(tb->now, timeout_ns);
    int rc = 0;
    tb->waiters++;
    while (!take_notification(p)) {
        if (timeout_ns != SCHED_TIMEOUT_NEVER && tb->now >= deadline) {
            rc = SCHED_ETIMEDOUT;
            break;
        }
        tb_cond_wait(&tb->cv, &tb->mu);
    }
    tb->waiters--;
    tb_mutex_unlock(&tb->mu);
    return rc;
}

/* A woken waiter against the ready work, as the pick would weigh it: work
 * a busy executor holds back (strict_main_block) does not count. */
static int waiter_goes_first(struct tb *tb, sched_parker *p)
{
    if (tb->nbusy)
        sched__tb_hold(tb);
    int first = sched__tb_waiter_goes_first(tb, p->backend_slot[PARK_WOKEN_SEQ]);
    if (tb->nbusy)
        sched__tb_release(tb);
    return first;
}

/* The tick budget of a wait with a timeout: drawn once per blocking call. */
static uint64_t *park_budget(struct tb *tb, sched_parker *p)
{
    uint64_t *b = &p->backend_slot[PARK_BUDGET];
    if (*b == 0) {
        uint64_t ticks = tb->ticks_min + sched__tb_decide(tb, tb->ticks_max - tb->ticks_min + 1);
        if (tb->replay)
            ticks = sched__tb_replay_value(tb, SCHED__RP_BUDGET, ticks);
        *b = 1 + ticks;
    }
    return b;
}

/*
 * On the main thread, a blocked wait drives the scheduler: run runnables
 * until p is unparked; with nothing runnable, move the virtual clock to the
 * next timer and fire it.  A finite timeout ends the wait after a number
 * of steps drawn from [timeout_ticks_min, timeout_ticks_max], or when no
 * timer is due before the deadline (the clock then jumps to it).  Nothing
 * runnable and no timer: wait for other threads when parking is allowed,
 * else SCHED_EDEADLK.
 */
static int tb_park(void *self, sched_parker *p, uint64_t timeout_ns)
{
    struct tb *tb = self;
    if (!on_main_thread(tb))
        return park_foreign(tb, p, timeout_ns);
    int finite = timeout_ns != SCHED_TIMEOUT_NEVER;
    int rc;
    tb_mutex_lock(&tb->mu);
    uint64_t deadline = add_sat(tb->now, timeout_ns);
    uint64_t *budget = finite ? park_budget(tb, p) : NULL;
    uint64_t real_deadline = 0;
    for (;;) {
        /* A run that left its replay runs nothing more: the wait fails
         * with the sentence sched_test_run_seeds reports. */
        if (tb->replay && sched__tb_replay_failed(tb)) {
            rc = SCHED_EBACKEND;
            break;
        }
        /* A woken waiter is one more candidate to run: it resumes when
         * the pick says so, not before every other ready runnable. */
        if (__atomic_load_n(&p->backend_slot[PARK_NOTIFIED], __ATOMIC_ACQUIRE)
            && ((budget && *budget == 1) || waiter_goes_first(tb, p))) {
            take_notification(p);
            rc = 0;
            break;
        }
        if (budget && *budget == 1) {
            rc = SCHED_ETIMEDOUT;
            break;
        }
        if (sched__tb_step(tb, 0)) {
            if (budget)
                (*budget)--;
            continue;
        }
        if (tb->replay && sched__tb_replay_failed(tb)) {
            rc = SCHED_EBACKEND;
            break;
        }
        if (sched__tb_fire_next(tb, deadline))
            continue;
        if (!tb->parking_allowed) {
            if (finite) {
                sched__tb_advance_to(tb, deadline);
                rc = SCHED_ETIMEDOUT;
            } else {
                rc = SCHED_EDEADLK;
            }
            break;
        }
        /* Parking allowed: another thread may schedule or unpark. */
        tb->waiters++;
        if (finite) {
            uint64_t real = tb_real_ns();
            if (!real_deadline)
                real_deadline = add_sat(real, timeout_ns);
            if (real >= real_deadline) {
                tb->waiters--;
                sched__tb_advance_to(tb, deadline);
                rc = SCHED_ETIMEDOUT;
                break;
            }
            tb_cond_timedwait(&tb->cv, &tb->mu, real_deadline - real);
        } else {
            tb_cond_wait(&tb->cv, &tb->mu);
        }
        tb->waiters--;
    }
    tb_mutex_unlock(&tb->mu);
    return rc;
}

static void tb_unpark(void *self, sched_parker *p)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    if (!__atomic_load_n(&p->backend_slot[PARK_NOTIFIED], __ATOMIC_ACQUIRE))
        p->backend_slot[PARK_WOKEN_SEQ] = tb->seq;
    __atomic_store_n(&p->backend_slot[PARK_NOTIFIED], 1, __ATOMIC_RELEASE);
    wake_waiters(tb);
    tb_mutex_unlock(&tb->mu);
}

static unsigned tb_num_cpus(void *self)
{
    return ((struct tb *)self)->num_cpus;
}

/*
 * The main loop: drive until stop(), firing timers when nothing else can
 * run.  Nothing runnable and no timer: wait for other threads when parking
 * is allowed, else return SCHED_EDEADLK.
 */
static int tb_run(void *self)
{
    struct tb *tb = self;
    if (!on_main_thread(tb))
        return SCHED_EWRONGTHREAD;
    int rc = 0;
    tb_mutex_lock(&tb->mu);
    while (!tb->stop) {
        if (tb->replay && sched__tb_replay_failed(tb)) {
            rc = SCHED_EBACKEND;
            break;
        }
        if (sched__tb_step(tb, 0) || sched__tb_fire_next(tb, UINT64_MAX))
            continue;
        if (!tb->parking_allowed) {
            rc = SCHED_EDEADLK;
            break;
        }
        tb->waiters++;
        tb_cond_wait(&tb->cv, &tb->mu);
        tb->waiters--;
    }
    tb->stop = 0;
    tb_mutex_unlock(&tb->mu);
    return rc;
}

static void tb_stop(void *self)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    tb->stop = 1;
    wake_waiters(tb);
    tb_mutex_unlock(&tb->mu);
}

static const void *tb_query(void *self, const char *iface, uint32_t version)
{
    (void)self;
    if (strcmp(iface, "sched.test") == 0 && version == 1)
        return &sched__tb_test_iface;
    return NULL;
}

static const sched_plugin_descriptor descriptor = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "test",
    .description = "deterministic seeded scheduler: nothing runs until the test drives it",
    .version = SCHED_VERSION_STRING,
    .config_keys = config_keys,
    .ops = {
        .create = tb_create,
        .destroy = tb_destroy,
        .schedule = tb_schedule,
        .schedule_labeled = tb_schedule_labeled,
        .schedule_main = tb_schedule_main,
        .schedule_after = tb_schedule_after,
        .now = tb_now,
        .is_main_thread = tb_is_main_thread,
        .park = tb_park,
        .unpark = tb_unpark,
        .num_cpus = tb_num_cpus,
        .run = tb_run,
        .stop = tb_stop,
        .query = tb_query,
        .cancel_after = tb_cancel_after,
    },
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    return &descriptor;
}
