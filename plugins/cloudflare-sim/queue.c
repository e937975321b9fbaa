/* SPDX-License-Identifier: MIT */
/*
 * plugins/cloudflare-sim/queue.c - the isolate's ready lanes and timer heap.
 *
 * Every function here assumes cf->mu is held.  Runnables are linked
 * through backend_slot[0], so queueing ready work never allocates; only a
 * new lane or a heap that must grow does.
 */
#include <assert.h>
#include <stdlib.h>

#include "cfsim.h"

#define NEXT(r) ((r)->backend_slot[0])
/* The order the runnable became ready in, across all lanes. */
#define SEQ(r) ((uint64_t)(uintptr_t)(r)->backend_slot[1])

/* Which lane a runnable joins: its request's lane when it belongs to one,
 * else its foreground executor's, else the shared background lane. */
uint64_t cfsim_lane_key(const sched_runnable_info *info, int main)
{
    if (info->session_id != 0)
        return CFSIM_LANE_SESSION | info->session_id;
    if (info->executor_id != 0 || main)
        return CFSIM_LANE_EXECUTOR | info->executor_id;
    return CFSIM_LANE_BACKGROUND;
}

static cfsim_lane *lane_find(cfsim *cf, uint64_t key)
{
    for (size_t i = 0; i < cf->nlanes; i++)
        if (cf->lanes[i].key == key)
            return &cf->lanes[i];
    return NULL;
}

/* Room for one more background runnable.  0 or SCHED_ENOMEM. */
static int background_reserve(cfsim *cf)
{
    if (cf->nready_background < cf->capbackground)
        return 0;
    size_t cap = cf->capbackground ? cf->capbackground * 2 : 64;
    sched_runnable **n = realloc(cf->background, cap * sizeof *n);
    if (n == NULL)
        return SCHED_ENOMEM;
    cf->background = n;
    cf->capbackground = cap;
    return 0;
}

/* Room for one more runnable in lane_key's lane.  0 or SCHED_ENOMEM. */
static int lane_reserve(cfsim *cf, uint64_t lane_key)
{
    if (lane_key == CFSIM_LANE_BACKGROUND)
        return background_reserve(cf);
    if (lane_find(cf, lane_key) != NULL || cf->nlanes < cf->caplanes)
        return 0;
    size_t cap = cf->caplanes ? cf->caplanes * 2 : 8;
    cfsim_lane *n = realloc(cf->lanes, cap * sizeof *n);
    if (n == NULL)
        return SCHED_ENOMEM;
    cf->lanes = n;
    cf->caplanes = cap;
    return 0;
}

/* Append r to its lane.  0, or SCHED_ENOMEM with r untouched. */
int cfsim_ready_push(cfsim *cf, sched_runnable *r, uint64_t lane_key)
{
    if (lane_reserve(cf, lane_key) != 0)
        return SCHED_ENOMEM;
    NEXT(r) = NULL;
    r->backend_slot[1] = (void *)(uintptr_t)cf->ready_seq++;
    cf->nready++;
    if (lane_key == CFSIM_LANE_BACKGROUND) {
        cf->background[cf->nready_background++] = r;
        return 0;
    }
    cfsim_lane *lane = lane_find(cf, lane_key);
    if (lane == NULL) {
        lane = &cf->lanes[cf->nlanes++];
        lane->key = lane_key;
        lane->head = lane->tail = NULL;
    }
    if (lane->tail != NULL)
        NEXT(lane->tail) = r;
    else
        lane->head = r;
    lane->tail = r;
    return 0;
}

/* Take a background runnable drawn from the seed (the array keeps no
 * order: the last one fills the hole). */
static sched_runnable *background_take(cfsim *cf)
{
    uint64_t n = cf->nready_background;
    size_t i = n == 1 ? 0 : (size_t)sched_prng_below(&cf->rng, n);
    sched_runnable *r = cf->background[i];
    cf->background[i] = cf->background[--cf->nready_background];
    cf->nready--;
    return r;
}

/* Take the head of a lane drawn from the seed, the background counting as
 * one lane (the background only, when asked).  NULL when nothing is
 * ready. */
sched_runnable *cfsim_ready_pick(cfsim *cf, int background_only)
{
    size_t bg = cf->nready_background > 0;
    if (background_only)
        return bg ? background_take(cf) : NULL;
    size_t n = cf->nlanes + bg;
    if (n == 0)
        return NULL;
    size_t i = n == 1 ? 0 : (size_t)sched_prng_below(&cf->rng, n);
    if (i == cf->nlanes)
        return background_take(cf);
    cfsim_lane *lane = &cf->lanes[i];
    sched_runnable *r = lane->head;
    assert(r != NULL);
    lane->head = NEXT(r);
    if (lane->head == NULL) {
        /* Keep lanes[] dense: an empty lane is never drawn. */
        cf->lanes[i] = cf->lanes[--cf->nlanes];
    }
    cf->nready--;
    return r;
}

/* Is any runnable that became ready before seq still waiting in a lane?
 * Each lane is FIFO, so its head is its oldest.  Background work has no
 * order to keep: the caller draws whether it goes first. */
int cfsim_ready_before(const cfsim *cf, uint64_t seq)
{
    for (size_t i = 0; i < cf->nlanes; i++)
        if (SEQ(cf->lanes[i].head) < seq)
            return 1;
    return 0;
}

static int timer_before(const cfsim_timer *a, const cfsim_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static cfsim_session_timers *stimers_find(const cfsim *cf, uint64_t session_id)
{
    for (size_t i = 0; i < cf->nstimers; i++)
        if (cf->stimers[i].session_id == session_id)
            return &cf->stimers[i];
    return NULL;
}

uint64_t cfsim_session_timers_pending(const cfsim *cf, uint64_t session_id)
{
    const cfsim_session_timers *st = stimers_find(cf, session_id);
    return st ? st->pending : 0;
}

static int stimers_add(cfsim *cf, uint64_t session_id)
{
    cfsim_session_timers *st = stimers_find(cf, session_id);
    if (st == NULL) {
        if (cf->nstimers == cf->capstimers) {
            size_t cap = cf->capstimers ? cf->capstimers * 2 : 8;
            cfsim_session_timers *n = realloc(cf->stimers, cap * sizeof *n);
            if (n == NULL)
                return SCHED_ENOMEM;
            cf->stimers = n;
            cf->capstimers = cap;
        }
        st = &cf->stimers[cf->nstimers++];
        st->session_id = session_id;
        st->pending = 0;
    }
    st->pending++;
    return 0;
}

static void stimers_remove(cfsim *cf, uint64_t session_id)
{
    cfsim_session_timers *st = stimers_find(cf, session_id);
    assert(st != NULL && st->pending > 0);
    if (--st->pending == 0)
        *st = cf->stimers[--cf->nstimers];
}

/* Arm r for virtual time due.  0, or SCHED_ENOMEM with r untouched. */
int cfsim_timer_push(cfsim *cf, sched_runnable *r, uint64_t due, uint64_t session_id,
                     uint64_t lane_key)
{
    if (cf->ntimers == cf->captimers) {
        size_t cap = cf->captimers ? cf->captimers * 2 : 64;
        cfsim_timer *n = realloc(cf->heap, cap * sizeof *n);
        if (n == NULL)
            return SCHED_ENOMEM;
        cf->heap = n;
        cf->captimers = cap;
    }
    if (session_id != 0 && stimers_add(cf, session_id) != 0)
        return SCHED_ENOMEM;
    cfsim_timer t = { due, cf->timer_seq++, session_id, lane_key, r };
    size_t i = cf->ntimers++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(&t, &cf->heap[parent]))
            break;
        cf->heap[i] = cf->heap[parent];
        i = parent;
    }
    cf->heap[i] = t;
    return 0;
}

int cfsim_timer_next(const cfsim *cf, uint64_t *due)
{
    if (cf->ntimers == 0)
        return 0;
    *due = cf->heap[0].due;
    return 1;
}

/* Remove heap entry i: the last entry takes its place and moves up or
 * down to where it belongs. */
static cfsim_timer timer_remove_at(cfsim *cf, size_t i)
{
    assert(i < cf->ntimers);
    cfsim_timer out = cf->heap[i];
    cfsim_timer last = cf->heap[--cf->ntimers];
    size_t n = cf->ntimers;
    if (i < n) {
        while (i > 0 && timer_before(&last, &cf->heap[(i - 1) / 2])) {
            cf->heap[i] = cf->heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        for (;;) {
            size_t c = 2 * i + 1;
            if (c >= n)
                break;
            if (c + 1 < n && timer_before(&cf->heap[c + 1], &cf->heap[c]))
                c++;
            if (!timer_before(&cf->heap[c], &last))
                break;
            cf->heap[i] = cf->heap[c];
            i = c;
        }
        cf->heap[i] = last;
    }
    if (out.session_id != 0)
        stimers_remove(cf, out.session_id);
    return out;
}

static cfsim_timer timer_pop(cfsim *cf)
{
    return timer_remove_at(cf, 0);
}

int cfsim_timer_remove(cfsim *cf, const sched_runnable *r)
{
    for (size_t i = 0; i < cf->ntimers; i++) {
        if (cf->heap[i].r == r) {
            timer_remove_at(cf, i);
            return 1;
        }
    }
    return 0;
}

/* Move every due timer's runnable into its lane, in due order.  A lane that
 * cannot grow (out of memory) leaves the timer armed for the next pass. */
void cfsim_timers_fire(cfsim *cf)
{
    while (cf->ntimers > 0 && cf->heap[0].due <= cf->now_ns) {
        if (lane_reserve(cf, cf->heap[0].lane_key) != 0)
            return;
        cfsim_timer t = timer_pop(cf);
        int rc = cfsim_ready_push(cf, t.r, t.lane_key);
        assert(rc == 0);
        (void)rc;
    }
}

/* Show fn every runnable queued or armed, leaving them in place. */
void cfsim_visit(const cfsim *cf, void (*fn)(void *arg, const sched_runnable *r), void *arg)
{
    for (size_t i = 0; i < cf->nlanes; i++)
        for (const sched_runnable *r = cf->lanes[i].head; r; r = NEXT(r))
            fn(arg, r);
    for (size_t i = 0; i < cf->nready_background; i++)
        fn(arg, cf->background[i]);
    for (size_t i = 0; i < cf->ntimers; i++)
        fn(arg, cf->heap[i].r);
}

/* Take any one runnable still queued or armed (shutdown); NULL when none
 * is left.  The caller drops it with the lock released, since dropping a
 * task may wake others. */
sched_runnable *cfsim_take_any(cfsim *cf)
{
    sched_runnable *r = cfsim_ready_pick(cf, 0);
    if (r == NULL && cf->ntimers > 0)
        r = timer_pop(cf).r;
    return r;
}
