/* SPDX-License-Identifier: MIT */
/*
 * plugins/cloudflare-sim/loop.c - the isolate's event loop.
 *
 * The Workers clock: virtual time stands still while code runs and moves
 * only when the loop has nothing ready and waits, either to the next timer
 * (instantly, in virtual time) or for a wake from outside the isolate
 * (another thread, standing for I/O), by the real time that wait took.
 *
 * Every function here runs on the isolate thread and takes cf->mu itself;
 * the lock is dropped around svc->run.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "cfsim.h"

static uint64_t hash_label(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Re-home every label into a table twice the size. */
static int labels_grow(cfsim *cf)
{
    size_t cap = cf->caplabels ? cf->caplabels * 2 : 16;
    char **slot = calloc(cap, sizeof *slot);
    if (slot == NULL)
        return SCHED_ENOMEM;
    for (size_t i = 0; i < cf->caplabels; i++) {
        if (cf->labels[i] == NULL)
            continue;
        size_t j = hash_label(cf->labels[i]) & (cap - 1);
        while (slot[j] != NULL)
            j = (j + 1) & (cap - 1);
        slot[j] = cf->labels[i];
    }
    free(cf->labels);
    cf->labels = slot;
    cf->caplabels = cap;
    return 0;
}

/* The history keeps its own copy of each distinct label (tasks, and their
 * labels, are gone long before a test reads it): an open-addressing set. */
static const char *intern_label(cfsim *cf, const char *label)
{
    if (label == NULL)
        return NULL;
    if (2 * (cf->nlabels + 1) > cf->caplabels && labels_grow(cf) != 0)
        return NULL;
    size_t mask = cf->caplabels - 1, j = hash_label(label) & mask;
    for (; cf->labels[j] != NULL; j = (j + 1) & mask)
        if (strcmp(cf->labels[j], label) == 0)
            return cf->labels[j];
    char *copy = strdup(label);
    if (copy == NULL)
        return NULL;
    cf->labels[j] = copy;
    cf->nlabels++;
    return copy;
}

static void record(cfsim *cf, sched_runnable *r)
{
    sched_runnable_info info = { .size = sizeof info };
    cf->svc->info(r, &info);
    if (cf->nhistory == cf->caphistory) {
        size_t cap = cf->caphistory ? cf->caphistory * 2 : 1024;
        sched_test_step *n = realloc(cf->history, cap * sizeof *n);
        if (n == NULL)
            return;     /* the history is a diagnostic; running goes on */
        cf->history = n;
        cf->caphistory = cap;
    }
    cf->history[cf->nhistory].task_id = info.task_id;
    cf->history[cf->nhistory].label = intern_label(cf, info.label);
    cf->nhistory++;
}

/* With the lock held: run one ready runnable (dropping the lock around
 * it).  1 if one ran. */
static int run_one_locked(cfsim *cf, int background_only)
{
    sched_runnable *r = cfsim_ready_pick(cf, background_only);
    if (r == NULL)
        return 0;
    record(cf, r);
    cfsim_mutex_unlock(&cf->mu);
    cf->svc->run(r);
    cfsim_mutex_lock(&cf->mu);
    return 1;
}

/* With the lock held: tell the host's idle hook the loop has nothing
 * ready (stalled: not even a timer, nor a wake from outside).  1 when it
 * made work ready. */
static int idle_locked(cfsim *cf, int stalled)
{
    if (cf->idle_fn == NULL)
        return 0;
    cfsim_mutex_unlock(&cf->mu);
    int made = cf->idle_fn(cf->idle_arg, stalled);
    cfsim_mutex_lock(&cf->mu);
    return made && cf->nready > 0;
}

/* With the lock held: move the clock to t (never backwards), fire what is
 * due and tell foreign threads waiting on a virtual deadline. */
static void clock_to_locked(cfsim *cf, uint64_t t)
{
    if (t > cf->now_ns)
        cf->now_ns = t;
    cfsim_timers_fire(cf);
    cfsim_cond_broadcast(&cf->cv);
}

int cfsim_tick(cfsim *cf, int background_only)
{
    cfsim_mutex_lock(&cf->mu);
    int ran = run_one_locked(cf, background_only);
    cfsim_mutex_unlock(&cf->mu);
    return ran;
}

uint64_t cfsim_run_until_parked(cfsim *cf)
{
    uint64_t n = 0;
    cfsim_mutex_lock(&cf->mu);
    while (run_one_locked(cf, 0))
        n++;
    cfsim_mutex_unlock(&cf->mu);
    return n;
}

int cfsim_advance_to_next_timer(cfsim *cf)
{
    uint64_t due;
    cfsim_mutex_lock(&cf->mu);
    int any = cfsim_timer_next(cf, &due);
    if (any)
        clock_to_locked(cf, due);
    cfsim_mutex_unlock(&cf->mu);
    return any;
}

void cfsim_advance_clock(cfsim *cf, uint64_t ns)
{
    cfsim_mutex_lock(&cf->mu);
    uint64_t target = cf->now_ns + ns < cf->now_ns ? UINT64_MAX : cf->now_ns + ns;
    for (;;) {
        while (run_one_locked(cf, 0))
            ;
        uint64_t due;
        if (!cfsim_timer_next(cf, &due) || due > target)
            break;
        clock_to_locked(cf, due);
    }
    clock_to_locked(cf, target);
    cfsim_mutex_unlock(&cf->mu);
}

/* The Workers clock moves as if the loop had waited ns, and what is due
 * by then becomes ready, but nothing runs.  The number of timers fired;
 * 0 off the isolate thread, which runs and moves nothing. */
uint64_t cfsim_move_clock(cfsim *cf, uint64_t ns)
{
    if (!cfsim_thread_equal(cfsim_thread_self(), cf->isolate))
        return 0;
    cfsim_mutex_lock(&cf->mu);
    size_t armed = cf->ntimers;
    clock_to_locked(cf, cf->now_ns + ns < cf->now_ns ? UINT64_MAX : cf->now_ns + ns);
    uint64_t fired = armed - cf->ntimers;
    cfsim_mutex_unlock(&cf->mu);
    return fired;
}

/* With the lock held and nothing ready or armed: wait for a wake from
 * outside the isolate, at most io_wait_ms of real time (forever when
 * parking is allowed or forever is asked for).  The clock moves by the
 * time waited.  1 if something arrived (work, or done() turned true). */
static int wait_outside_locked(cfsim *cf, int forever, int (*done)(cfsim *, void *), void *arg)
{
    uint64_t start = cfsim_real_ns();
    uint64_t limit = cf->io_wait_ms * 1000000u;
    int arrived = 0;
    for (;;) {
        if (cf->nready > 0 || cf->ntimers > 0 || done(cf, arg)) {
            arrived = 1;
            break;
        }
        uint64_t waited = cfsim_real_ns() - start;
        if (!forever && waited >= limit)
            break;
        if (forever) {
            cfsim_cond_wait(&cf->cv, &cf->mu);
        } else {
            cfsim_cond_timedwait(&cf->cv, &cf->mu, limit - waited);
        }
    }
    if (arrived)
        clock_to_locked(cf, cf->now_ns + (cfsim_real_ns() - start));
    return arrived;
}

/* A woken waiter is one more candidate beside the ready background work,
 * which is independent of it: does a background runnable go first? */
static int background_first(cfsim *cf)
{
    uint64_t n = cf->nready_background;
    return n > 0 && sched_prng_below(&cf->rng, n + 1) != 0;
}

static int parker_set(cfsim *cf, void *arg)
{
    (void)cf;
    return ((sched_parker *)arg)->backend_slot[0] != 0;
}

/* park() on a thread outside the isolate: it cannot run the loop, so it
 * waits for an unpark or for the isolate's clock to pass the deadline. */
static int park_foreign(cfsim *cf, sched_parker *p, uint64_t deadline)
{
    int rc = 0;
    cfsim_mutex_lock(&cf->mu);
    while (p->backend_slot[0] == 0 && !cf->closed) {
        if (cf->now_ns >= deadline) {
            rc = SCHED_ETIMEDOUT;
            break;
        }
        cfsim_cond_wait(&cf->cv, &cf->mu);
    }
    p->backend_slot[0] = 0;
    cfsim_mutex_unlock(&cf->mu);
    return rc;
}

/*
 * Block until unpark(p), driving the loop while waiting: run ready work,
 * and when none is ready jump the clock to the next timer due before the
 * deadline (after the host's idle hook has had its say: it aborts the
 * requests no timer can wake).  Nothing ready, no timer and no deadline:
 * wait io_wait_ms for a wake from outside, then ask the hook once more,
 * and report SCHED_EDEADLK if it made nothing ready.
 */
int cfsim_park(void *self, sched_parker *p, uint64_t timeout_ns)
{
    cfsim *cf = self;
    uint64_t deadline;
    cfsim_mutex_lock(&cf->mu);
    deadline = timeout_ns == SCHED_TIMEOUT_NEVER || cf->now_ns + timeout_ns < cf->now_ns
                   ? SCHED_TIMEOUT_NEVER
                   : cf->now_ns + timeout_ns;
    cfsim_mutex_unlock(&cf->mu);
    if (!cfsim_thread_equal(cfsim_thread_self(), cf->isolate))
        return park_foreign(cf, p, deadline);

    int rc = 0;
    cfsim_mutex_lock(&cf->mu);
    for (;;) {
        /* A woken waiter resumes as the event loop would run its
         * continuation: after the work that was ready before the wake. */
        if (p->backend_slot[0] != 0 && !cfsim_ready_before(cf, p->backend_slot[1])) {
            if (!background_first(cf))
                break;
            run_one_locked(cf, 1);
            continue;
        }
        cfsim_timers_fire(cf);
        if (run_one_locked(cf, 0))
            continue;
        uint64_t due;
        if (cfsim_timer_next(cf, &due) && due <= deadline) {
            if (idle_locked(cf, 0))
                continue;
            clock_to_locked(cf, due);
            continue;
        }
        if (deadline != SCHED_TIMEOUT_NEVER) {
            clock_to_locked(cf, deadline);
            rc = SCHED_ETIMEDOUT;
            break;
        }
        if (!wait_outside_locked(cf, cf->parking_allowed, parker_set, p)) {
            if (idle_locked(cf, 1))
                continue;
            rc = SCHED_EDEADLK;
            break;
        }
    }
    p->backend_slot[0] = 0;
    cfsim_mutex_unlock(&cf->mu);
    return rc;
}

void cfsim_unpark(void *self, sched_parker *p)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    if (p->backend_slot[0] == 0)
        p->backend_slot[1] = cf->ready_seq;
    p->backend_slot[0] = 1;
    cfsim_cond_broadcast(&cf->cv);
    cfsim_mutex_unlock(&cf->mu);
}

static int stopping(cfsim *cf, void *arg)
{
    (void)arg;
    return cf->stopping;
}

/* The isolate's main loop, until stop(): an idle isolate waits for
 * requests from outside for as long as it takes. */
int cfsim_run(void *self)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    while (!cf->stopping) {
        cfsim_timers_fire(cf);
        if (run_one_locked(cf, 0))
            continue;
        uint64_t due;
        if (cfsim_timer_next(cf, &due)) {
            if (idle_locked(cf, 0))
                continue;
            clock_to_locked(cf, due);
            continue;
        }
        wait_outside_locked(cf, 1, stopping, NULL);
    }
    cf->stopping = 0;
    cfsim_mutex_unlock(&cf->mu);
    return 0;
}

void cfsim_stop(void *self)
{
    cfsim *cf = self;
    cfsim_mutex_lock(&cf->mu);
    cf->stopping = 1;
    cfsim_cond_broadcast(&cf->cv);
    cfsim_mutex_unlock(&cf->mu);
}
