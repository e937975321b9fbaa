/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/queue.c - where runnables wait, and which one runs next.
 *
 * Foreground runnables keep FIFO order per foreground executor (a "lane");
 * background ones are picked at random, weighted by priority; runnables
 * whose label was deprioritized run only when nothing else can.  With
 * randomize off the pick is plain FIFO over everything, in the order the
 * schedule calls arrived.  Every function here runs under tb->mu.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tb.h"

/* Pick weight per runnable by priority; a foreground runnable weighs as
 * a medium one. */
static const uint64_t weight[TB_NPRIO] = { 1, 2, 4, 8 };
#define FG_WEIGHT 2

static void fifo_push(struct tb_fifo *q, sched_runnable *r, uint64_t seq)
{
    r->backend_slot[0] = NULL;
    r->backend_slot[1] = (void *)(uintptr_t)seq;
    if (q->tail)
        q->tail->backend_slot[0] = r;
    else
        q->head = r;
    q->tail = r;
    q->len++;
}

static sched_runnable *fifo_pop(struct tb_fifo *q)
{
    sched_runnable *r = q->head;
    if (!r)
        return NULL;
    q->head = r->backend_slot[0];
    if (!q->head)
        q->tail = NULL;
    q->len--;
    return r;
}

static uint64_t fifo_head_seq(const struct tb_fifo *q)
{
    return (uint64_t)(uintptr_t)q->head->backend_slot[1];
}

/*
 * Bags are kept as uniformly random permutations: a new runnable goes to a
 * random slot and the runnable there moves to the end (the inside-out
 * Fisher-Yates shuffle), and a pick takes the end.  Taking the last of a
 * uniform permutation is a uniform pick, and what remains is again a
 * uniform permutation, so this draws exactly like picking a random index
 * at run time; but the next runnables to run are known in advance and can
 * be prefetched, which is what keeps a million queued tasks fast.
 */
static int bag_push(struct tb *tb, struct tb_bag *b, sched_runnable *r)
{
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        sched_runnable **v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return SCHED_ENOMEM;
        b->v = v;
        b->cap = cap;
    }
    size_t j = (size_t)sched__tb_decide(tb, b->len + 1);
    b->v[b->len++] = b->v[j];
    b->v[j] = r;
    return 0;
}

static sched_runnable *bag_pop(struct tb_bag *b)
{
    assert(b->len > 0);
    sched_runnable *r = b->v[--b->len];
    /* Eight picks ahead (unless new work reshuffles the bag): far enough
     * for the line to arrive even when a step costs only a few dozen ns. */
    if (b->len >= 8)
        __builtin_prefetch(b->v[b->len - 8]);
    return r;
}

static int pool_push(struct tb *tb, struct tb_pool *p, sched_runnable *r, unsigned prio)
{
    if (!tb->randomize) {
        fifo_push(&p->fifo, r, tb->seq);
    } else {
        int rc = bag_push(tb, &p->bag[prio < TB_NPRIO ? prio : TB_NPRIO - 1], r);
        if (rc)
            return rc;
    }
    p->len++;
    return 0;
}

static uint64_t pool_weight(const struct tb_pool *p)
{
    uint64_t w = 0;
    for (int i = 0; i < TB_NPRIO; i++)
        w += weight[i] * p->bag[i].len;
    return w;
}

/* Take a runnable of the priority at weighted position x (< pool_weight(p)). */
static sched_runnable *pool_take_at(struct tb_pool *p, uint64_t x)
{
    for (int i = TB_NPRIO - 1; i >= 0; i--) {
        uint64_t w = weight[i] * p->bag[i].len;
        if (x < w) {
            p->len--;
            return bag_pop(&p->bag[i]);
        }
        x -= w;
    }
    assert(!"weighted position out of range");
    return NULL;
}

/* A random runnable of p, or NULL when p is empty. */
static sched_runnable *pool_pick(struct tb *tb, struct tb_pool *p)
{
    if (p->len == 0)
        return NULL;
    if (!tb->randomize) {
        p->len--;
        return fifo_pop(&p->fifo);
    }
    return pool_take_at(p, sched__tb_decide(tb, pool_weight(p)));
}

/*
 * One decision in [0, n).  From the PRNG, or from the caller's bytes
 * (big-endian, as few as cover n, reduced modulo n) until they run out,
 * after which every decision is 0: the fixed choice a fuzzer's shortest
 * input maps to.  A choice between fewer than two options costs nothing,
 * so adding an irrelevant option never shifts later decisions.
 */
uint64_t sched__tb_decide(struct tb *tb, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (!tb->bytes)
        return sched_prng_below(&tb->prng, n);
    uint64_t v = 0;
    for (uint64_t span = n - 1; span; span >>= 8) {
        if (tb->bytepos >= tb->nbytes)
            return 0;
        v = (v << 8) | tb->bytes[tb->bytepos++];
    }
    return v % n;
}

/* The lane of a foreground executor, created on first use. */
static struct tb_lane *lane_for(struct tb *tb, uint64_t executor_id)
{
    for (size_t i = 0; i < tb->nlanes; i++)
        if (tb->lanes[i].executor_id == executor_id)
            return &tb->lanes[i];
    if (tb->nlanes == tb->caplanes) {
        size_t cap = tb->caplanes ? tb->caplanes * 2 : 4;
        struct tb_lane *v = realloc(tb->lanes, cap * sizeof *v);
        if (!v)
            return NULL;
        tb->lanes = v;
        tb->caplanes = cap;
    }
    struct tb_lane *l = &tb->lanes[tb->nlanes++];
    memset(l, 0, sizeof *l);
    l->executor_id = executor_id;
    return l;
}

static int is_deprioritized(const struct tb *tb, const char *label)
{
    if (!label)
        return 0;
    for (size_t i = 0; i < tb->ndeprio; i++)
        if (strcmp(tb->deprio[i], label) == 0)
            return 1;
    return 0;
}

/* Queue a background runnable.  Returns 0 or SCHED_ENOMEM (r not taken). */
int sched__tb_enqueue_bg(struct tb *tb, sched_runnable *r, const char *label, unsigned prio)
{
    struct tb_pool *p = is_deprioritized(tb, label) ? &tb->low : &tb->bg;
    int rc = pool_push(tb, p, r, prio);
    if (rc == 0)
        tb->seq++;
    return rc;
}

/* Queue a foreground runnable on its executor's lane. */
int sched__tb_enqueue_fg(struct tb *tb, sched_runnable *r, uint64_t executor_id)
{
    struct tb_lane *l = lane_for(tb, executor_id);
    if (!l)
        return SCHED_ENOMEM;
    fifo_push(&l->q, r, tb->seq++);
    tb->fg_len++;
    return 0;
}

static sched_runnable *lane_pop(struct tb *tb, struct tb_lane *l)
{
    tb->fg_len--;
    return fifo_pop(&l->q);
}

/* FIFO mode: the oldest runnable over every lane and the background. */
static sched_runnable *pick_fifo(struct tb *tb, int background_only, int *fg)
{
    struct tb_lane *best = NULL;
    uint64_t best_seq = UINT64_MAX;
    if (!background_only) {
        for (size_t i = 0; i < tb->nlanes; i++) {
            struct tb_lane *l = &tb->lanes[i];
            if (l->q.len && fifo_head_seq(&l->q) < best_seq) {
                best = l;
                best_seq = fifo_head_seq(&l->q);
            }
        }
    }
    if (tb->bg.len && fifo_head_seq(&tb->bg.fifo) < best_seq)
        return pool_pick(tb, &tb->bg);
    if (best) {
        *fg = 1;
        return lane_pop(tb, best);
    }
    return pool_pick(tb, &tb->low);
}

/*
 * The next runnable to run, removed from its queue, or NULL.  Random mode
 * draws one decision over the total weight: each queued foreground
 * runnable adds FG_WEIGHT for its lane (whose head is what runs), each
 * background runnable its priority's weight.
 */
sched_runnable *sched__tb_pick(struct tb *tb, int background_only, int *fg)
{
    *fg = 0;
    if (!tb->randomize)
        return pick_fifo(tb, background_only, fg);
    uint64_t wfg = background_only ? 0 : FG_WEIGHT * (uint64_t)tb->fg_len;
    uint64_t wbg = pool_weight(&tb->bg);
    if (wfg + wbg == 0)
        return pool_pick(tb, &tb->low);
    uint64_t x = sched__tb_decide(tb, wfg + wbg);
    if (x >= wfg)
        return pool_take_at(&tb->bg, x - wfg);
    x /= FG_WEIGHT;
    *fg = 1;
    for (size_t i = 0; i < tb->nlanes; i++) {
        struct tb_lane *l = &tb->lanes[i];
        if (x < l->q.len)
            return lane_pop(tb, l);
        x -= l->q.len;
    }
    assert(!"foreground position out of range");
    return NULL;
}

/*
 * Should a waiter woken when the schedule counter read seq resume now,
 * rather than one more runnable run first?  Decided like a pick: in FIFO
 * mode, when no runnable queued before the wake-up is still waiting; at
 * random, as one more candidate weighing like a medium runnable.
 * Deprioritized work never goes before it.
 */
int sched__tb_waiter_goes_first(struct tb *tb, uint64_t seq)
{
    if (!tb->randomize) {
        if (tb->bg.len && fifo_head_seq(&tb->bg.fifo) < seq)
            return 0;
        for (size_t i = 0; i < tb->nlanes; i++)
            if (tb->lanes[i].q.len && fifo_head_seq(&tb->lanes[i].q) < seq)
                return 0;
        return 1;
    }
    uint64_t w = FG_WEIGHT * (uint64_t)tb->fg_len + pool_weight(&tb->bg);
    return sched__tb_decide(tb, w + FG_WEIGHT) < FG_WEIGHT;
}

static void pool_drain(struct tb_pool *p, void (*fn)(sched_runnable *, void *), void *arg)
{
    sched_runnable *r;
    while ((r = fifo_pop(&p->fifo)))
        fn(r, arg);
    for (int i = 0; i < TB_NPRIO; i++)
        while (p->bag[i].len)
            fn(p->bag[i].v[--p->bag[i].len], arg);
    p->len = 0;
}

void sched__tb_drain(struct tb *tb, void (*fn)(sched_runnable *r, void *arg), void *arg)
{
    for (size_t i = 0; i < tb->nlanes; i++) {
        sched_runnable *r;
        while ((r = fifo_pop(&tb->lanes[i].q)))
            fn(r, arg);
    }
    tb->fg_len = 0;
    pool_drain(&tb->bg, fn, arg);
    pool_drain(&tb->low, fn, arg);
    while (tb->timers.len)
        fn(tb->timers.v[--tb->timers.len].r, arg);
}

static void pool_visit(const struct tb_pool *p, void (*fn)(void *, const sched_runnable *),
                       void *arg)
{
    for (const sched_runnable *r = p->fifo.head; r; r = r->backend_slot[0])
        fn(arg, r);
    for (int i = 0; i < TB_NPRIO; i++)
        for (size_t j = 0; j < p->bag[i].len; j++)
            fn(arg, p->bag[i].v[j]);
}

void sched__tb_visit(const struct tb *tb, void (*fn)(void *arg, const sched_runnable *r),
                     void *arg)
{
    for (size_t i = 0; i < tb->nlanes; i++)
        for (const sched_runnable *r = tb->lanes[i].q.head; r; r = r->backend_slot[0])
            fn(arg, r);
    pool_visit(&tb->bg, fn, arg);
    pool_visit(&tb->low, fn, arg);
    for (size_t i = 0; i < tb->timers.len; i++)
        fn(arg, tb->timers.v[i].r);
}

void sched__tb_queues_free(struct tb *tb)
{
    free(tb->lanes);
    for (int i = 0; i < TB_NPRIO; i++) {
        free(tb->bg.bag[i].v);
        free(tb->low.bag[i].v);
    }
    for (size_t i = 0; i < tb->ndeprio; i++)
        free(tb->deprio[i]);
    free(tb->deprio);
    free(tb->timers.v);
}
