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
#include "tb.h"

int sched__tb_choose(struct tb *tb, const struct tb_choice *ch, struct tb_cand *out)
{
    if (tb->randomize)
        return sched__tb_cands_draw(tb, ch, out);
    return sched__tb_cands_fifo(tb, ch, out);
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
