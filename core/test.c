/* SPDX-License-Identifier: MIT */
/*
 * core/test.c - sched_as_test() and the sched_test_* wrappers over a
 * backend's "sched.test" interface (sched/test.h, sched_as_test(3)).
 *
 * The interface is found by query (sched_host_query), not by type, so any
 * backend may offer it (the test and cloudflare-sim backends do).  Ops are only ever
 * appended: an op beyond the backend's table size, or NULL, is absent and
 * its wrapper returns a neutral value.
 */
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>

#include "internal.h"

/* Is op present in t's interface table? */
#define HAS(t, op)                                                              \
    ((t) != NULL && (t)->iface != NULL                                          \
     && offsetof(sched_test_iface_v1, op) + sizeof((t)->iface->op) <= (t)->iface->size \
     && (t)->iface->op != NULL)

static sched_host *host_of(sched_test *t)
{
    return (sched_host *)((char *)t - offsetof(sched_host, test));
}

/*
 * The test controls of host's backend, or NULL.  Looked up on first use
 * and kept in the host; concurrent first calls store the same values.
 */
sched_test *sched_as_test(sched_host *host)
{
    if (host == NULL)
        return NULL;
    if (__atomic_load_n(&host->test.iface, __ATOMIC_ACQUIRE) != NULL)
        return &host->test;
    const void *table;
    void *self;
    if (sched_host_query(host, "sched.test", 1, &table, &self) != 0)
        return NULL;
    const sched_test_iface_v1 *i = table;
    if (i->size < sizeof(uint32_t))
        return NULL;
    __atomic_store_n(&host->test.self, self, __ATOMIC_RELAXED);
    __atomic_store_n(&host->test.iface, i, __ATOMIC_RELEASE);
    return &host->test;
}

int sched_test_tick(sched_test *t)
{
    return HAS(t, tick) ? t->iface->tick(t->self, 0) : 0;
}

int sched_test_tick_background_only(sched_test *t)
{
    return HAS(t, tick) ? t->iface->tick(t->self, 1) : 0;
}

uint64_t sched_test_run_until_parked(sched_test *t)
{
    return HAS(t, run_until_parked) ? t->iface->run_until_parked(t->self) : 0;
}

void sched_test_advance_clock(sched_test *t, uint64_t ns)
{
    if (HAS(t, advance_clock))
        t->iface->advance_clock(t->self, ns);
}

int sched_test_advance_clock_to_next_timer(sched_test *t)
{
    return HAS(t, advance_clock_to_next_timer) ? t->iface->advance_clock_to_next_timer(t->self)
                                               : 0;
}

uint64_t sched_test_move_clock(sched_test *t, uint64_t ns)
{
    return HAS(t, move_clock) ? t->iface->move_clock(t->self, ns) : 0;
}

void sched_test_pending_counts(sched_test *t, sched_test_counts *out)
{
    if (out == NULL)
        return;
    *out = (sched_test_counts){ 0, 0, 0, 0 };
    if (HAS(t, pending_counts))
        t->iface->pending_counts(t->self, out);
}

int sched_test_has_pending_tasks(sched_test *t)
{
    sched_test_counts c;
    sched_test_pending_counts(t, &c);
    return c.foreground + c.background + c.timers + c.deprioritized > 0;
}

void sched_test_deprioritize(sched_test *t, const char *label)
{
    if (label != NULL && HAS(t, deprioritize))
        t->iface->deprioritize(t->self, label);
}

void sched_test_allow_parking(sched_test *t)
{
    if (HAS(t, set_parking_allowed))
        t->iface->set_parking_allowed(t->self, 1);
}

void sched_test_forbid_parking(sched_test *t)
{
    if (HAS(t, set_parking_allowed))
        t->iface->set_parking_allowed(t->self, 0);
}

int sched_test_set_strict_main_block(sched_test *t, int on)
{
    if (!HAS(t, set_strict_main_block))
        return SCHED_ENOTSUP;
    t->iface->set_strict_main_block(t->self, on);
    return 0;
}

int sched_test_is_task_running(sched_test *t, uint64_t task_id)
{
    return t != NULL && sched__task_is_live(host_of(t), task_id);
}

uint64_t sched_test_seed(sched_test *t)
{
    return HAS(t, seed) ? t->iface->seed(t->self) : 0;
}

uint64_t sched_test_rng(sched_test *t)
{
    return HAS(t, rng) ? t->iface->rng(t->self) : 0;
}

uint64_t sched_test_now(sched_test *t)
{
    return t != NULL ? sched_host_now(host_of(t)) : 0;
}

int64_t sched_test_utc_ns(sched_test *t)
{
    return HAS(t, utc_ns) ? t->iface->utc_ns(t->self) : 0;
}

size_t sched_test_history(sched_test *t, const sched_test_step **steps)
{
    if (steps == NULL)
        return 0;
    *steps = NULL;
    return HAS(t, history) ? t->iface->history(t->self, steps) : 0;
}

int sched_test_reseed(sched_test *t, uint64_t seed)
{
    if (!HAS(t, reseed))
        return SCHED_ENOTSUP;
    t->iface->reseed(t->self, seed);
    return 0;
}

int sched_test_set_decisions(sched_test *t, const uint8_t *bytes, size_t len)
{
    return HAS(t, set_decisions) ? t->iface->set_decisions(t->self, bytes, len) : SCHED_ENOTSUP;
}

int sched_test_trace(sched_test *t, const char *path)
{
    return HAS(t, trace) ? t->iface->trace(t->self, path) : SCHED_ENOTSUP;
}

size_t sched_test_parking_report(sched_test *t, char *buf, size_t len)
{
    if (len > 0)
        buf[0] = '\0';
    return HAS(t, parking_report) ? t->iface->parking_report(t->self, buf, len) : 0;
}

/* ---- the random delay future -------------------------------------------- */

struct random_delay {
    sched_future base;
    sched_test *t;
    int drawn;
    uint32_t left;
};

/* Draw the number of yields on the first poll (so the draw happens in
 * schedule order, which the seed fixes), then yield that many times. */
static int random_delay_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct random_delay *d = (struct random_delay *)f;
    if (!d->drawn) {
        d->drawn = 1;
        d->left = HAS(d->t, random_yields) ? d->t->iface->random_yields(d->t->self) : 0;
    }
    if (d->left > 0) {
        d->left--;
        sched_waker_wake_by_ref(sched_context_waker(cx));
        return SCHED_PENDING;
    }
    out->u = 0;
    return 0;
}

static void random_delay_drop(sched_future *f)
{
    free(f);
}

static const sched_future_ops random_delay_ops = { random_delay_poll, random_delay_drop };

sched_future *sched_test_random_delay(sched_test *t)
{
    struct random_delay *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->base.ops = &random_delay_ops;
    d->t = t;
    return &d->base;
}

/* ---- history hash -------------------------------------------------------- */

/*
 * FNV-1a over the history with each task id replaced by its ordinal (the
 * order in which tasks first ran).  Task ids are unique in the process, so
 * two runs of one schedule in one process differ in ids but not in
 * ordinals; the ordinal is what makes their hashes equal.
 */
uint64_t sched_test_history_hash(sched_test *t)
{
    const sched_test_step *steps;
    size_t n = sched_test_history(t, &steps);
    uint64_t *ord = n ? malloc(n * sizeof *ord) : NULL;
    if (n && ord == NULL)
        return 0;
    sched__test_ordinals(steps, n, ord);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        for (int b = 0; b < 8; b++)
            h = (h ^ ((ord[i] >> (8 * b)) & 0xff)) * 0x100000001b3ULL;
        const char *l = steps[i].label;
        if (l == NULL) {
            h = (h ^ 0xff) * 0x100000001b3ULL;
        } else {
            for (; *l; l++)
                h = (h ^ (unsigned char)*l) * 0x100000001b3ULL;
            h = (h ^ 0) * 0x100000001b3ULL;
        }
    }
    free(ord);
    return h;
}
