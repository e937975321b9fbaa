/* SPDX-License-Identifier: MIT */
/*
 * plugins/cloudflare-sim/testiface.c - the "sched.test" v1 interface, so a
 * test drives the isolate exactly as it drives the test backend.
 *
 * Every op runs on the isolate thread (the one that opened the host).
 */
#include <stdio.h>

#include "cfsim.h"
#include "../common/report.h"

/* 2026-01-01T00:00:00Z: the virtual UTC clock starts at a fixed instant. */
#define CFSIM_UTC_EPOCH_NS (1767225600LL * 1000000000LL)

static int t_tick(void *self, int background_only)
{
    return cfsim_tick(self, background_only);
}

static uint64_t t_run_until_parked(void *self)
{
    return cfsim_run_until_parked(self);
}

static void t_advance_clock(void *self, uint64_t ns)
{
    cfsim_advance_clock(self, ns);
}

static int t_advance_clock_to_next_timer(void *self)
{
    return cfsim_advance_to_next_timer(self);
}

static uint64_t t_move_clock(void *self, uint64_t ns)
{
    return cfsim_move_clock(self, ns);
}

static void t_pending_counts(void *self, sched_test_counts *out)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    out->background = cf->nready_background;
    out->foreground = cf->nready - cf->nready_background;
    out->timers = cf->ntimers;
    out->deprioritized = 0;
    cfsim_mutex_unlock(&cf->mu);
}

/* Without parking, an isolate with nothing to do waits io_wait_ms for a
 * wake from outside and then reports the request hung; with it, it waits
 * for as long as it takes. */
static void t_set_parking_allowed(void *self, int allowed)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    cf->parking_allowed = allowed != 0;
    cfsim_mutex_unlock(&cf->mu);
}

/* Mostly 0 or 1 yields, sometimes up to 20: a request usually continues
 * at once and now and then lets many others pass. */
static uint32_t t_random_yields(void *self)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    uint64_t roll = sched_prng_below(&cf->rng, 100);
    uint32_t n = roll < 50 ? 0 : roll < 90 ? 1 : 2 + (uint32_t)sched_prng_below(&cf->rng, 19);
    cfsim_mutex_unlock(&cf->mu);
    return n;
}

static uint64_t t_seed(void *self)
{
    return ((cfsim *)self)->seed;
}

static uint64_t t_rng(void *self)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    uint64_t v = sched_prng_next(&cf->rng);
    cfsim_mutex_unlock(&cf->mu);
    return v;
}

static int64_t t_utc_ns(void *self)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    int64_t t = CFSIM_UTC_EPOCH_NS + (int64_t)cf->now_ns;
    cfsim_mutex_unlock(&cf->mu);
    return t;
}

static size_t t_history(void *self, const sched_test_step **steps)
{
    cfsim *cf = self;
    *steps = cf->history;
    return cf->nhistory;
}

/* A new seed for the next run of a seed sweep; the history restarts. */
static void t_reseed(void *self, uint64_t seed)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    cf->seed = seed;
    sched_prng_seed(&cf->rng, seed);
    cf->nhistory = 0;
    cfsim_mutex_unlock(&cf->mu);
}

/* Why the isolate has nothing to run: the seed, the Workers clock, what is
 * queued and armed, and every live task as the host describes it. */
static size_t t_parking_report(void *self, char *buf, size_t len)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    unsigned long long seed = cf->seed, now = cf->now_ns, ready = cf->nready;
    unsigned long long timers = cf->ntimers;
    uint64_t due = 0;
    int any = cfsim_timer_next(cf, &due);
    cfsim_mutex_unlock(&cf->mu);

    size_t off = 0;
    if (len)
        buf[0] = '\0';
    sched_report_put(buf, len, &off, "seed %llu, virtual time %llu ns: %llu runnable, %llu timers pending",
        seed, now, ready, timers);
    if (any)
        sched_report_put(buf, len, &off, " (next due at %llu ns)", (unsigned long long)due);
    sched_report_put(buf, len, &off, "\n");
    sched_report_tasks(cf->svc, cf->host, seed, buf, len, &off);
    return off;
}

/* The isolate runs everything on its own thread: another thread's use of
 * a waker is I/O the seed does not order, legitimate only while parking
 * is allowed. */
static int t_foreign_activity(void *self)
{
    cfsim *cf = self;
    if (cfsim_thread_equal(cfsim_thread_self(), cf->isolate))
        return 0;
    cfsim_mutex_lock(&cf->mu);
    int allowed = cf->parking_allowed;
    cfsim_mutex_unlock(&cf->mu);
    return !allowed;
}

static void t_queued(void *self, void (*visit)(void *ctx, const sched_runnable *r), void *ctx)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    cfsim_visit(cf, visit, ctx);
    cfsim_mutex_unlock(&cf->mu);
}

/* Labels cannot be deprioritized (Workers has no priorities), and
 * decisions come from the seed only (set_decisions and trace are the test
 * backend's). */
const sched_test_iface_v1 cfsim_test_iface = {
    .size = sizeof(sched_test_iface_v1),
    .tick = t_tick,
    .run_until_parked = t_run_until_parked,
    .advance_clock = t_advance_clock,
    .advance_clock_to_next_timer = t_advance_clock_to_next_timer,
    .pending_counts = t_pending_counts,
    .deprioritize = NULL,
    .set_parking_allowed = t_set_parking_allowed,
    .random_yields = t_random_yields,
    .seed = t_seed,
    .rng = t_rng,
    .utc_ns = t_utc_ns,
    .history = t_history,
    .reseed = t_reseed,
    .parking_report = t_parking_report,
    .queued = t_queued,
    .move_clock = t_move_clock,
    .foreign_activity = t_foreign_activity,
};
