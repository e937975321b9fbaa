/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/queue.c - where runnables wait, and the candidates a
 * strategy (strategy.c) chooses from.
 *
 * Foreground runnables keep FIFO order per foreground executor (a "lane"):
 * only a lane's head is a candidate.  Background runnables are all
 * candidates; runnables whose label was deprioritized are candidates only
 * when nothing else is.  Under the random strategy background runnables
 * wait in bags (below) and are drawn weighted by priority; otherwise in
 * FIFO lists, in the order the schedule calls arrived.  Every function
 * here runs under tb->mu.
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

/* Take r, which follows prev (NULL: r is the head), out of q. */
static void fifo_remove(struct tb_fifo *q, sched_runnable *prev, sched_runnable *r)
{
    if (!prev) {
        fifo_pop(q);
        return;
    }
    assert(prev->backend_slot[0] == r);
    prev->backend_slot[0] = r->backend_slot[0];
    if (q->tail == r)
        q->tail = prev;
    q->len--;
}

/* The sequence number of the schedule call that queued r. */
static uint64_t seq_of(const sched_runnable *r)
{
    return (uint64_t)(uintptr_t)r->backend_slot[1];
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
static int bag_push(struct tb *tb, struct tb_bag *b, sched_runnable *r, uint64_t seq)
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
    r->backend_slot[1] = (void *)(uintptr_t)seq;
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
    if (tb->strategy != TB_STRATEGY_RANDOM) {
        fifo_push(&p->fifo, r, tb->seq);
    } else {
        int rc = bag_push(tb, &p->bag[prio < TB_NPRIO ? prio : TB_NPRIO - 1], r, tb->seq);
        if (rc)
            return rc;
    }
    p->len++;
    return 0;
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

/* Candidates are located first and described (svc->info) only once
 * chosen, so a pick costs one info call whatever the queue length. */
static void cand_describe(struct tb *tb, struct tb_cand *c)
{
    c->info = (sched_runnable_info){ .size = sizeof c->info };
    if (c->r)
        tb->svc->info(c->r, &c->info);
}

static void cand_waiter(const struct tb_choice *ch, struct tb_cand *c)
{
    memset(c, 0, sizeof *c);
    c->seq = ch->waiter_seq;
    c->bag = -1;
}

static void cand_lane(struct tb_lane *l, struct tb_cand *c)
{
    memset(c, 0, sizeof *c);
    c->r = l->q.head;
    c->seq = seq_of(c->r);
    c->fg = 1;
    c->lane = l;
    c->bag = -1;
}

static void cand_fifo(struct tb *tb, struct tb_pool *p, sched_runnable *prev, sched_runnable *r,
                      struct tb_cand *c)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->seq = seq_of(r);
    c->low = p == &tb->low;
    c->pool = p;
    c->bag = -1;
    c->prev = prev;
}

static void cand_bag(struct tb *tb, struct tb_pool *p, int bag, size_t pos, struct tb_cand *c)
{
    memset(c, 0, sizeof *c);
    c->r = p->bag[bag].v[pos];
    c->seq = seq_of(c->r);
    c->low = p == &tb->low;
    c->pool = p;
    c->bag = bag;
    c->pos = pos;
}

/* Are there candidates other than deprioritized ones and the waiter? */
static int any_ordinary(const struct tb *tb, const struct tb_choice *ch)
{
    return tb->bg.len || (!ch->background_only && tb->fg_len);
}

static int pool_cands(struct tb *tb, struct tb_pool *p,
                      int (*fn)(void *arg, const struct tb_cand *c), void *arg)
{
    struct tb_cand c;
    int rc;
    for (sched_runnable *prev = NULL, *r = p->fifo.head; r; prev = r, r = r->backend_slot[0]) {
        cand_fifo(tb, p, prev, r, &c);
        cand_describe(tb, &c);
        if ((rc = fn(arg, &c)))
            return rc;
    }
    for (int i = TB_NPRIO - 1; i >= 0; i--) {
        for (size_t j = p->bag[i].len; j-- > 0;) {
            cand_bag(tb, p, i, j, &c);
            cand_describe(tb, &c);
            if ((rc = fn(arg, &c)))
                return rc;
        }
    }
    return 0;
}

/* The waiter first, then lane heads, then background runnables;
 * deprioritized ones only when there is nothing else (never for a waiter
 * choice: deprioritized work never goes before a waiter). */
int sched__tb_cands_visit(struct tb *tb, const struct tb_choice *ch,
                          int (*fn)(void *arg, const struct tb_cand *c), void *arg)
{
    struct tb_cand c;
    int rc;
    if (ch->waiter) {
        cand_waiter(ch, &c);
        if ((rc = fn(arg, &c)))
            return rc;
    }
    if (!ch->background_only) {
        for (size_t i = 0; i < tb->nlanes; i++) {
            if (!tb->lanes[i].q.len)
                continue;
            cand_lane(&tb->lanes[i], &c);
            cand_describe(tb, &c);
            if ((rc = fn(arg, &c)))
                return rc;
        }
    }
    if ((rc = pool_cands(tb, &tb->bg, fn, arg)))
        return rc;
    if (!ch->waiter && !any_ordinary(tb, ch))
        return pool_cands(tb, &tb->low, fn, arg);
    return 0;
}

/* The oldest runnable of p: its FIFO's head, or a search of its bags. */
static int pool_oldest(struct tb *tb, struct tb_pool *p, struct tb_cand *c)
{
    if (p->fifo.head) {
        cand_fifo(tb, p, NULL, p->fifo.head, c);
        return 1;
    }
    int found = 0;
    for (int i = 0; i < TB_NPRIO; i++) {
        for (size_t j = 0; j < p->bag[i].len; j++) {
            if (!found || seq_of(p->bag[i].v[j]) < c->seq) {
                cand_bag(tb, p, i, j, c);
                found = 1;
            }
        }
    }
    return found;
}

/*
 * The oldest candidate by schedule sequence number.  The waiter goes
 * first unless a runnable queued before it was woken is still waiting.
 */
int sched__tb_cands_fifo(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out)
{
    struct tb_cand c;
    int found = pool_oldest(tb, &tb->bg, out);
    if (!ch->background_only) {
        for (size_t i = 0; i < tb->nlanes; i++) {
            struct tb_lane *l = &tb->lanes[i];
            if (l->q.len && (!found || seq_of(l->q.head) < out->seq)) {
                cand_lane(l, out);
                found = 1;
            }
        }
    }
    if (ch->waiter && (!found || out->seq >= ch->waiter_seq)) {
        cand_waiter(ch, out);
        return 1;
    }
    if (!found && !pool_oldest(tb, &tb->low, &c))
        return 0;
    if (!found)
        *out = c;
    cand_describe(tb, out);
    return 1;
}

static uint64_t pool_weight(const struct tb_pool *p)
{
    uint64_t w = 0;
    for (int i = 0; i < TB_NPRIO; i++)
        w += weight[i] * p->bag[i].len;
    return w;
}

/* The candidate at weighted position x (< pool_weight(p)): the next of
 * the bag of that priority. */
static void pool_at(struct tb *tb, struct tb_pool *p, uint64_t x, struct tb_cand *c)
{
    for (int i = TB_NPRIO - 1; i >= 0; i--) {
        uint64_t w = weight[i] * p->bag[i].len;
        if (x < w) {
            cand_bag(tb, p, i, p->bag[i].len - 1, c);
            return;
        }
        x -= w;
    }
    assert(!"weighted position out of range");
}

/* The candidate at weighted position x over the lanes (wfg, FG_WEIGHT per
 * queued runnable, whose lane's head is what runs) and the background. */
static void weighted_at(struct tb *tb, uint64_t x, uint64_t wfg, struct tb_cand *c)
{
    if (x >= wfg) {
        pool_at(tb, &tb->bg, x - wfg, c);
        return;
    }
    x /= FG_WEIGHT;
    for (size_t i = 0; i < tb->nlanes; i++) {
        struct tb_lane *l = &tb->lanes[i];
        if (x < l->q.len) {
            cand_lane(l, c);
            return;
        }
        x -= l->q.len;
    }
    assert(!"foreground position out of range");
}

/*
 * One decision over the total weight: each queued foreground runnable adds
 * FG_WEIGHT, each background runnable its priority's weight, and a waiter
 * weighs as a medium runnable.  Deprioritized runnables are drawn among
 * themselves when nothing else is queued.
 */
int sched__tb_cands_draw(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out)
{
    uint64_t wfg = ch->background_only ? 0 : FG_WEIGHT * (uint64_t)tb->fg_len;
    uint64_t wbg = pool_weight(&tb->bg);
    if (ch->waiter) {
        uint64_t x = sched__tb_decide(tb, wfg + wbg + FG_WEIGHT);
        if (x < FG_WEIGHT) {
            cand_waiter(ch, out);
            return 1;
        }
        weighted_at(tb, x - FG_WEIGHT, wfg, out);
    } else if (wfg + wbg) {
        weighted_at(tb, sched__tb_decide(tb, wfg + wbg), wfg, out);
    } else if (tb->low.len) {
        pool_at(tb, &tb->low, sched__tb_decide(tb, pool_weight(&tb->low)), out);
    } else {
        return 0;
    }
    cand_describe(tb, out);
    return 1;
}

sched_runnable *sched__tb_cand_take(struct tb *tb, const struct tb_cand *c)
{
    assert(c->r);
    if (c->fg) {
        assert(c->lane->q.head == c->r);
        tb->fg_len--;
        return fifo_pop(&c->lane->q);
    }
    struct tb_pool *p = c->pool;
    p->len--;
    if (c->bag < 0) {
        fifo_remove(&p->fifo, c->prev, c->r);
        return c->r;
    }
    struct tb_bag *b = &p->bag[c->bag];
    assert(c->pos < b->len && b->v[c->pos] == c->r);
    if (c->pos == b->len - 1)
        return bag_pop(b);
    b->v[c->pos] = b->v[--b->len];
    return c->r;
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
