/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/control.c - the "sched.test" interface (sched/test.h),
 * which sched_as_test() hands to tests.
 *
 * Driving calls (tick, run_until_parked, advance_clock) run work, and work
 * runs only on the main thread: called from any other thread they run
 * nothing and return 0.  Everything else may be called from any thread.
 */
#include <stdlib.h>
#include <string.h>

#include "tb.h"
#include "../common/report.h"

static int on_main_thread(const struct tb *tb)
{
    return tb_thread_equal(tb_thread_self(), tb->main_thread);
}

static int ctl_tick(void *self, int background_only)
{
    struct tb *tb = self;
    if (!on_main_thread(tb))
        return 0;
    tb_mutex_lock(&tb->mu);
    int ran = sched__tb_step(tb, background_only);
    tb_mutex_unlock(&tb->mu);
    return ran;
}

static uint64_t ctl_run_until_parked(void *self)
{
    struct tb *tb = self;
    if (!on_main_thread(tb))
        return 0;
    uint64_t n = 0;
    tb_mutex_lock(&tb->mu);
    while (sched__tb_step(tb, 0))
        n++;
    tb_mutex_unlock(&tb->mu);
    return n;
}

/* Run ready work, then fire timers due within ns in due order (the clock
 * moving to each and the work it readies running before the next), then
 * leave the clock at now + ns. */
static void ctl_advance_clock(void *self, uint64_t ns)
{
    struct tb *tb = self;
    if (!on_main_thread(tb))
        return;
    tb_mutex_lock(&tb->mu);
    uint64_t target = ns > UINT64_MAX - tb->now ? UINT64_MAX : tb->now + ns;
    do {
        while (sched__tb_step(tb, 0))
            ;
    } while (sched__tb_fire_next(tb, target));
    sched__tb_advance_to(tb, target);
    tb_mutex_unlock(&tb->mu);
}

static int ctl_advance_clock_to_next_timer(void *self)
{
    struct tb *tb = self;
    if (!on_main_thread(tb))
        return 0;
    tb_mutex_lock(&tb->mu);
    uint64_t due;
    int any = sched__tb_timer_next(tb, &due);
    uint64_t delta = any && due > tb->now ? due - tb->now : 0;
    tb_mutex_unlock(&tb->mu);
    if (any)
        ctl_advance_clock(tb, delta);
    return any;
}

/* The clock moves, due timers' runnables join the run queues (in due
 * order, so FIFO mode runs them in it), and nothing runs: the test looks
 * at what became runnable before it ticks. */
static uint64_t ctl_move_clock(void *self, uint64_t ns)
{
    struct tb *tb = self;
    if (!on_main_thread(tb))
        return 0;
    tb_mutex_lock(&tb->mu);
    size_t armed = tb->timers.len;
    sched__tb_advance_to(tb, ns > UINT64_MAX - tb->now ? UINT64_MAX : tb->now + ns);
    sched__tb_timers_promote(tb);
    uint64_t fired = armed - tb->timers.len;
    tb_mutex_unlock(&tb->mu);
    return fired;
}

static void ctl_pending_counts(void *self, sched_test_counts *out)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    out->foreground = tb->fg_len;
    out->background = tb->bg.len;
    out->timers = tb->timers.len;
    out->deprioritized = tb->low.len;
    tb_mutex_unlock(&tb->mu);
}

/* Runnables with this label, scheduled from now on, run only when nothing
 * else can.  Out of memory leaves the label as it was. */
static void ctl_deprioritize(void *self, const char *label)
{
    struct tb *tb = self;
    if (!label)
        return;
    tb_mutex_lock(&tb->mu);
    size_t i = 0;
    while (i < tb->ndeprio && strcmp(tb->deprio[i], label) != 0)
        i++;
    if (i == tb->ndeprio) {
        if (tb->ndeprio == tb->capdeprio) {
            size_t cap = tb->capdeprio ? tb->capdeprio * 2 : 4;
            char **v = realloc(tb->deprio, cap * sizeof *v);
            if (v) {
                tb->deprio = v;
                tb->capdeprio = cap;
            }
        }
        char *copy = tb->ndeprio < tb->capdeprio ? strdup(label) : NULL;
        if (copy)
            tb->deprio[tb->ndeprio++] = copy;
    }
    tb_mutex_unlock(&tb->mu);
}

static void ctl_set_parking_allowed(void *self, int allowed)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    tb->parking_allowed = allowed != 0;
    tb_cond_broadcast(&tb->cv);
    tb_mutex_unlock(&tb->mu);
}

static void ctl_set_strict_main_block(void *self, int on)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    tb->strict_main_block = on != 0;
    tb_mutex_unlock(&tb->mu);
}

/* Yields for a random delay: 0 (45%), 1 (40%), 2-9 (12%), 10-99 (3%). */
static uint32_t ctl_random_yields(void *self)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    uint64_t x = sched__tb_decide(tb, 100);
    uint32_t n = x < 45 ? 0 : x < 85 ? 1 : x < 97 ? 2 + (uint32_t)sched__tb_decide(tb, 8)
                                                  : 10 + (uint32_t)sched__tb_decide(tb, 90);
    if (tb->replay)
        n = (uint32_t)sched__tb_replay_value(tb, SCHED__RP_DELAY, n);
    tb_mutex_unlock(&tb->mu);
    return n;
}

static uint64_t ctl_seed(void *self)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    uint64_t s = tb->seed;
    tb_mutex_unlock(&tb->mu);
    return s;
}

/* 64 bits from the decision source: the PRNG, or the next 8 bytes. */
static uint64_t ctl_rng(void *self)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    uint64_t v = tb->bytes ? sched__tb_decide(tb, UINT64_MAX) : sched_prng_next(&tb->prng);
    if (tb->replay)
        v = sched__tb_replay_value(tb, SCHED__RP_RNG, v);
    tb_mutex_unlock(&tb->mu);
    return v;
}

static int64_t ctl_utc_ns(void *self)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    int64_t t = tb->utc_start_ns + (int64_t)tb->now;
    tb_mutex_unlock(&tb->mu);
    return t;
}

/* The steps stay valid until the next step runs or the host closes. */
static size_t ctl_history(void *self, const sched_test_step **steps)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    *steps = tb->hist;
    size_t n = tb->nhist;
    tb_mutex_unlock(&tb->mu);
    return n;
}

static void ctl_reseed(void *self, uint64_t seed)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    tb->seed = seed;
    sched_prng_seed(&tb->prng, seed);
    sched__tb_strategy_restart(tb);
    tb_mutex_unlock(&tb->mu);
}

/* Decisions from a copy of bytes from now on; NULL returns to the PRNG. */
static int ctl_set_decisions(void *self, const uint8_t *bytes, size_t len)
{
    struct tb *tb = self;
    uint8_t *copy = NULL;
    if (bytes) {
        copy = malloc(len ? len : 1);
        if (!copy)
            return SCHED_ENOMEM;
        memcpy(copy, bytes, len);
    }
    tb_mutex_lock(&tb->mu);
    free(tb->bytes);
    tb->bytes = copy;
    tb->nbytes = len;
    tb->bytepos = 0;
    sched__tb_strategy_restart(tb);
    tb_mutex_unlock(&tb->mu);
    return 0;
}

static int ctl_trace(void *self, const char *path)
{
    struct tb *tb = self;
    int rc = 0;
    tb_mutex_lock(&tb->mu);
    if (path)
        rc = sched__tb_trace_open(tb, path);
    else
        sched__tb_trace_close(tb);
    tb_mutex_unlock(&tb->mu);
    return rc;
}

/* Work held back by strict_main_block, which the task list shows as
 * runnable. */
static size_t ctl_deadlock_note(void *self, char *buf, size_t len)
{
    struct tb *tb = self;
    uint64_t busy_task;
    tb_mutex_lock(&tb->mu);
    unsigned long long held = sched__tb_held_count(tb, &busy_task);
    tb_mutex_unlock(&tb->mu);
    size_t off = 0;
    if (len)
        buf[0] = '\0';
    if (held)
        sched_report_put(buf, len, &off, "strict_main_block: %llu runnable%s held back, its "
                         "foreground executor busy running task %llu\n", held, held == 1 ? "" : "s",
                         (unsigned long long)busy_task);
    return off;
}

/*
 * Why nothing can run, and every live task (the host's describe_tasks:
 * id, label, priority, spawn site, what it waits on), with the seed that
 * replays it.  Returns the length needed, like snprintf.
 */
static size_t ctl_parking_report(void *self, char *buf, size_t len)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    unsigned long long seed = tb->seed, now = tb->now;
    unsigned long long runnable = tb->fg_len + tb->bg.len + tb->low.len;
    unsigned long long timers = tb->timers.len;
    uint64_t due = 0;
    sched__tb_timer_next(tb, &due);
    int parking = tb->parking_allowed;
    tb_mutex_unlock(&tb->mu);

    size_t off = 0;
    if (len)
        buf[0] = '\0';
    sched_report_put(buf, len, &off, "seed %llu, virtual time %llu ns: %llu runnable, %llu timers pending",
        seed, now, runnable, timers);
    if (timers)
        sched_report_put(buf, len, &off, " (next due at %llu ns)", (unsigned long long)due);
    sched_report_put(buf, len, &off, ", parking %s\n", parking ? "allowed" : "forbidden");
    size_t room = off < len ? len - off : 0;
    off += ctl_deadlock_note(tb, room ? buf + off : NULL, room);
    sched_report_tasks(tb->svc, tb->host, seed, buf, len, &off);
    return off;
}

/* Work runs on the main thread only: any other thread's use of a waker
 * is outside the schedule, and legitimate only while parking is allowed. */
static int ctl_foreign_activity(void *self)
{
    struct tb *tb = self;
    if (on_main_thread(tb))
        return 0;
    tb_mutex_lock(&tb->mu);
    int allowed = tb->parking_allowed;
    tb_mutex_unlock(&tb->mu);
    return !allowed;
}

static void ctl_queued(void *self, void (*visit)(void *ctx, const sched_runnable *r), void *ctx)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    sched__tb_visit(tb, visit, ctx);
    tb_mutex_unlock(&tb->mu);
}

static int ctl_replay_start(void *self, const char *text, size_t len, const char *name,
                            char *err, size_t errlen)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    int rc = sched__tb_replay_start(tb, text, len, name, err, errlen);
    tb_mutex_unlock(&tb->mu);
    return rc;
}

static size_t ctl_replay_record(void *self, char *buf, size_t len)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    size_t n = sched__tb_replay_record(tb, buf, len);
    tb_mutex_unlock(&tb->mu);
    return n;
}

static size_t ctl_replay_status(void *self, char *buf, size_t len)
{
    struct tb *tb = self;
    tb_mutex_lock(&tb->mu);
    size_t n = sched__tb_replay_status(tb, buf, len);
    tb_mutex_unlock(&tb->mu);
    return n;
}

const sched_test_iface_v1 sched__tb_test_iface = {
    .size = sizeof(sched_test_iface_v1),
    .tick = ctl_tick,
    .run_until_parked = ctl_run_until_parked,
    .advance_clock = ctl_advance_clock,
    .advance_clock_to_next_timer = ctl_advance_clock_to_next_timer,
    .pending_counts = ctl_pending_counts,
    .deprioritize = ctl_deprioritize,
    .set_parking_allowed = ctl_set_parking_allowed,
    .random_yields = ctl_random_yields,
    .seed = ctl_seed,
    .rng = ctl_rng,
    .utc_ns = ctl_utc_ns,
    .history = ctl_history,
    .reseed = ctl_reseed,
    .set_decisions = ctl_set_decisions,
    .trace = ctl_trace,
    .parking_report = ctl_parking_report,
    .queued = ctl_queued,
    .move_clock = ctl_move_clock,
    .set_strict_main_block = ctl_set_strict_main_block,
    .deadlock_note = ctl_deadlock_note,
    .foreign_activity = ctl_foreign_activity,
    .replay_start = ctl_replay_start,
    .replay_record = ctl_replay_record,
    .replay_status = ctl_replay_status,
};
