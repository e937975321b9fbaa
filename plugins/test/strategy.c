/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/strategy.c - which ready runnable runs next.
 *
 * Every choice between ready runnables the test backend makes goes through
 * sched__tb_choose, and through nothing else: the pick of each step, and
 * whether a woken waiter resumes before the runnables that are ready.
 * The other random decisions (the tick budget of a wait with a timeout,
 * random delays, the bag shuffle) stay with sched__tb_decide.
 *
 * The contract of sched__tb_choose(tb, ch, out), under tb->mu:
 *
 *  - The candidate set of a choice is what sched__tb_cands_visit(tb, ch)
 *    shows, in this order: the waiter (a waiter choice only), the head of
 *    every non-empty foreground lane (unless ch->background_only), every
 *    background runnable; the deprioritized runnables only when none of
 *    those is there, and never in a waiter choice.  Each candidate carries
 *    its runnable (NULL for the waiter), the task's svc->info (task id,
 *    label, priority, executor id of its lane), fg and low flags, and the
 *    sequence number of the schedule call that queued it (the waiter's is
 *    ch->waiter_seq, the counter when it was woken).
 *
 *  - The FIFO choice is what sched__tb_cands_fifo returns: the candidate
 *    with the smallest sequence number, where a runnable goes before the
 *    waiter only if its number is smaller than ch->waiter_seq.
 *
 *  - sched__tb_choose returns 0 with *out untouched when the set is empty
 *    (never for a waiter choice, whose set holds the waiter), else 1 with
 *    *out one of the candidates, described.  It removes nothing: the
 *    caller takes a runnable with sched__tb_cand_take, before anything
 *    else changes the queues.
 *
 *  - For a pick, *out is the runnable the step runs.  For a waiter choice
 *    only whether *out is the waiter (out->r == NULL) counts: if it is not,
 *    the step that follows makes its own pick.
 *
 *  - A strategy draws its randomness from sched__tb_decide, so the same
 *    seed (or the same fuzzer bytes) gives the same choices.
 *
 * To record the choices, look at *out after the strategy chose; to impose
 * a recorded one, find it among sched__tb_cands_visit's candidates instead
 * of asking the strategy (and report the step when it is not there).
 */
#include <stdlib.h>
#include <string.h>

#include "tb.h"

/* ---- pct: probabilistic concurrency testing ------------------------------ */

/*
 * PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010).  Every
 * task gets a random priority when it is first a candidate; each choice
 * runs the candidate of highest priority; at d-1 change points, steps
 * drawn from [1, k], the task that would run is demoted below every task
 * that never was (to i at the i-th point), and the choice is made again.
 * A bug that needs d ordering constraints is then found with probability
 * at least 1/(n k^(d-1)) per run for n tasks and k steps.
 *
 * The initial priority is the largest of w uniform draws, w being the
 * weight of the task's priority in the random strategy (low 1, medium 2,
 * high 4, realtime 8), so a task of weight w starts above one of weight v
 * with odds w:v, as the random strategy picks it first.  Priorities are
 * 64-bit draws above TB_PCT_MAX_DEPTH; ties (improbable) go to the older
 * candidate.  The woken waiter is one more task, of medium weight.
 */
static const unsigned pct_weight[TB_NPRIO] = { 1, 2, 4, 8 };

static uint64_t pct_draw(struct tb *tb, unsigned prio)
{
    unsigned w = pct_weight[prio < TB_NPRIO ? prio : TB_NPRIO - 1];
    uint64_t best = 0;
    for (unsigned i = 0; i < w; i++) {
        uint64_t x = TB_PCT_MAX_DEPTH + sched__tb_decide(tb, UINT64_MAX - TB_PCT_MAX_DEPTH);
        if (x > best)
            best = x;
    }
    return best;
}

static int pct_grow(struct tb_pct *p)
{
    size_t cap = p->cap ? p->cap * 2 : 64;
    struct tb_pct_slot *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return SCHED_ENOMEM;
    for (size_t i = 0; i < p->cap; i++) {
        if (!p->slot[i].task_id)
            continue;
        size_t j = (size_t)(p->slot[i].task_id * 0x9e3779b97f4a7c15ULL >> 20) & (cap - 1);
        while (slot[j].task_id)
            j = (j + 1) & (cap - 1);
        slot[j] = p->slot[i];
    }
    free(p->slot);
    p->slot = slot;
    p->cap = cap;
    return 0;
}

/* The priority slot of a candidate, drawn on first sight; NULL when out of
 * memory (the candidate then ranks lowest, which is still a choice). */
static uint64_t *pct_prio(struct tb *tb, const struct tb_cand *c)
{
    struct tb_pct *p = &tb->pct;
    if (!c->r) {
        if (!p->waiter_prio)
            p->waiter_prio = pct_draw(tb, SCHED_PRIORITY_MEDIUM);
        return &p->waiter_prio;
    }
    if (2 * (p->len + 1) > p->cap && pct_grow(p))
        return NULL;
    uint64_t id = c->info.task_id;
    size_t j = (size_t)(id * 0x9e3779b97f4a7c15ULL >> 20) & (p->cap - 1);
    while (p->slot[j].task_id && p->slot[j].task_id != id)
        j = (j + 1) & (p->cap - 1);
    if (!p->slot[j].task_id) {
        p->slot[j].task_id = id;
        p->slot[j].prio = pct_draw(tb, c->info.priority);
        p->len++;
    }
    return &p->slot[j].prio;
}

struct pct_best {
    struct tb *tb;
    struct tb_cand c;
    uint64_t *prio;
    int found;
};

static int pct_visit(void *arg, const struct tb_cand *c)
{
    struct pct_best *b = arg;
    uint64_t *prio = pct_prio(b->tb, c);
    uint64_t v = prio ? *prio : 0;
    uint64_t best = b->prio ? *b->prio : 0;
    if (!b->found || v > best || (v == best && c->seq < b->c.seq)) {
        b->c = *c;
        b->prio = prio;
        b->found = 1;
    }
    return 0;
}

static int pct_best(struct tb *tb, const struct tb_choice *ch, struct pct_best *b)
{
    memset(b, 0, sizeof *b);
    b->tb = tb;
    sched__tb_cands_visit(tb, ch, pct_visit, b);
    return b->found;
}

static int pct_choose(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out)
{
    struct tb_pct *p = &tb->pct;
    if (!p->started) {
        /* Drawn at the first choice, so a reseed draws them anew. */
        for (unsigned i = 0; i + 1 < p->depth; i++)
            p->change[i] = 1 + sched__tb_decide(tb, p->steps);
        p->started = 1;
    }
    struct pct_best b;
    if (!pct_best(tb, ch, &b))
        return 0;
    p->step++;
    for (unsigned i = 0; i + 1 < p->depth; i++) {
        if (p->change[i] != p->step || !b.prio)
            continue;
        *b.prio = i + 1;
        pct_best(tb, ch, &b);
    }
    *out = b.c;
    return 1;
}

void sched__tb_strategy_restart(struct tb *tb)
{
    struct tb_pct *p = &tb->pct;
    if (p->slot)
        memset(p->slot, 0, p->cap * sizeof *p->slot);
    p->len = 0;
    p->waiter_prio = 0;
    p->step = 0;
    p->started = 0;
}

void sched__tb_strategy_free(struct tb *tb)
{
    free(tb->pct.slot);
    tb->pct.slot = NULL;
    tb->pct.cap = tb->pct.len = 0;
}

/* ---- the choice ------------------------------------------------------------ */

static int strategy_choose(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out)
{
    switch (tb->strategy) {
    case TB_STRATEGY_FIFO:
        return sched__tb_cands_fifo(tb, ch, out);
    case TB_STRATEGY_PCT:
        return pct_choose(tb, ch, out);
    default:
        return sched__tb_cands_draw(tb, ch, out);
    }
}

/* A run that records or replays its decisions (replay.c) asks the
 * strategy only when it is not replaying. */
int sched__tb_choose(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out)
{
    if (tb->replay)
        return sched__tb_replay_choose(tb, ch, out, strategy_choose);
    return strategy_choose(tb, ch, out);
}

/*
 * Should a waiter woken when the schedule counter read seq resume now,
 * rather than one more runnable run first?
 */
int sched__tb_waiter_goes_first(struct tb *tb, uint64_t seq)
{
    struct tb_choice ch = { .waiter = 1, .waiter_seq = seq };
    struct tb_cand c;
    return sched__tb_choose(tb, &ch, &c) && c.r == NULL;
}
