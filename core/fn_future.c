/* SPDX-License-Identifier: MIT */
/*
 * core/fn_future.c - the future protocol the task core polls, and the
 * function future that spawning turns into a compact task.
 *
 * Polling and dropping go through a future's ops; a NULL future (what a
 * constructor returns when it runs out of memory) fails its poll with
 * SCHED_ENOMEM and drops as nothing.  The function future lives in a
 * task-sized allocation, so that sched__task_spawn can make the task in
 * place: it belongs with the task core, not with the ready-made futures
 * of future.c built on it.
 */
#include "config.h"

#include <stdlib.h>

#include "task.h"

int sched_future_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    sched_value tmp;
    if (!f)
        return SCHED_ENOMEM;
    return f->ops->poll(f, cx, out ? out : &tmp);
}

void sched_future_drop(sched_future *f)
{
    if (f)
        f->ops->drop(f);
}

static void fn_drop(sched_future *f)
{
    free(f);
}

static int fn_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct sched__fn_future *ff = (struct sched__fn_future *)f;
    (void)cx;
    if (!ff->fn)
        return SCHED_EINVAL;    /* polled again after it was ready */
    *out = ff->fn(ff->arg);
    ff->fn = NULL;
    return 0;
}

const sched_future_ops sched__fn_future_ops = { fn_poll, fn_drop };

/* The allocation is task-sized: sched_executor_spawn_at() turns it into the
 * task itself, so spawning a function costs one malloc. */
sched_future *sched_future_fn(sched_fn fn, void *arg)
{
    struct sched__fn_future *ff;
    _Static_assert(SCHED__COMPACT_SIZE >= sizeof(struct sched__fn_future),
                   "a compact task reuses the fn future's allocation");
    if (!fn)
        return NULL;
    ff = sched__taskmem_alloc();
    if (!ff)
        return NULL;
    ff->base.ops = &sched__fn_future_ops;
    ff->fn = fn;
    ff->arg = arg;
    return &ff->base;
}
