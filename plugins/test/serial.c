/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/serial.c - strict main-thread blocks (strict_main_block,
 * sched-test(7)).
 *
 * On a real main thread (GCD's main queue, a GUI loop) a task that blocks
 * holds the thread, and the queue it came from runs nothing else until it
 * returns: a block there on a future that needs another task of that queue
 * never returns.  In this mode the test backend models it: while a
 * foreground runnable runs, including while it waits in a block that
 * drives the scheduler, no pick takes another runnable of its executor.
 * Background work and other foreground executors go on.  A wait that only
 * the held-back work could end then fails with SCHED_EDEADLK instead of
 * passing here and hanging there.
 *
 * The pick itself (queue.c) knows nothing of this: the queues of busy
 * executors are set aside just before a pick and put back right after
 * it, with nothing run or queued in between.  Every function here runs
 * under tb->mu.
 */
#include <stdlib.h>

#include "tb.h"

int sched__tb_busy_push(struct tb *tb, uint64_t executor_id, uint64_t task_id)
{
    if (tb->nbusy == tb->capbusy) {
        size_t cap = tb->capbusy ? tb->capbusy * 2 : 8;
        struct tb_busy *v = realloc(tb->busy, cap * sizeof *v);
        if (!v)
            return -1;
        tb->busy = v;
        tb->capbusy = cap;
    }
    tb->busy[tb->nbusy++] = (struct tb_busy){ executor_id, task_id, { NULL, NULL, 0 }, 0 };
    return 0;
}

void sched__tb_busy_pop(struct tb *tb)
{
    if (tb->nbusy)
        tb->nbusy--;
}

static struct tb_lane *lane_of(struct tb *tb, uint64_t executor_id)
{
    for (size_t i = 0; i < tb->nlanes; i++)
        if (tb->lanes[i].executor_id == executor_id)
            return &tb->lanes[i];
    return NULL;
}

void sched__tb_hold(struct tb *tb)
{
    if (!tb->strict_main_block)
        return;
    for (size_t i = 0; i < tb->nbusy; i++) {
        struct tb_busy *b = &tb->busy[i];
        struct tb_lane *l = lane_of(tb, b->executor_id);
        b->holding = 0;
        if (!l || !l->q.len)
            continue;   /* empty, or set aside by an outer run of the same executor */
        b->held = l->q;
        b->holding = 1;
        tb->fg_len -= l->q.len;
        l->q = (struct tb_fifo){ NULL, NULL, 0 };
    }
}

void sched__tb_release(struct tb *tb)
{
    for (size_t i = tb->nbusy; i-- > 0;) {
        struct tb_busy *b = &tb->busy[i];
        if (!b->holding)
            continue;
        struct tb_lane *l = lane_of(tb, b->executor_id);
        l->q = b->held;
        tb->fg_len += b->held.len;
        b->holding = 0;
    }
}

size_t sched__tb_held_count(const struct tb *tb, uint64_t *task_id)
{
    size_t n = 0;
    *task_id = 0;
    if (!tb->strict_main_block || !tb->nbusy)
        return 0;
    *task_id = tb->busy[tb->nbusy - 1].task_id;
    for (size_t i = 0; i < tb->nlanes; i++) {
        int busy = 0;
        for (size_t j = 0; j < tb->nbusy && !busy; j++)
            busy = tb->busy[j].executor_id == tb->lanes[i].executor_id;
        if (busy)
            n += tb->lanes[i].q.len;
    }
    return n;
}

void sched__tb_busy_free(struct tb *tb)
{
    free(tb->busy);
    tb->busy = NULL;
    tb->nbusy = tb->capbusy = 0;
}
