/* SPDX-License-Identifier: MIT */
/*
 * tests/planted_bugs.c - the planted bugs of planted_bugs.h.
 *
 * With w the window (at least 2), the steps that matter are, A's a0,
 * a1, ... and B's b0, b1, ...:
 *
 *   depth 1: a_w (A done) before b0 (B looks);
 *   depth 2: b0 (open) before a_w (A looks) before b1 (close);
 *   depth 3: as depth 2, then b_{w+1} (mark) before a_{2w+1} (A looks
 *            for the mark).
 *
 * A is spawned before B, so FIFO order interleaves them step by step and
 * never hits the bug; picking at random, A must win about w draws in a
 * row against a ready B, which is why a random walk rarely finds them.
 */
#include "planted_bugs.h"

#include <sched/test.h>

struct state {
    int a_done, open, armed, marked, hit;
};

struct stepper {
    sched_coro co;
    struct state *st;
    int role;               /* 'A', 'B' or 'N' */
    int steps, i;
    const struct planted *p;
    sched_value v;
};

/* What step i of a task does. */
static void act(struct stepper *s, int i)
{
    struct state *st = s->st;
    int w = s->p->window, d = s->p->depth;
    if (s->role == 'A') {
        if (d == 1 && i == w)
            st->a_done = 1;
        if (d >= 2 && i == w && st->open)
            st->armed = 1;
        if (d == 2 && i == w && st->armed)
            st->hit = 1;
        if (d == 3 && i == 2 * w + 1 && st->armed && st->marked)
            st->hit = 1;
    } else if (s->role == 'B') {
        if (d == 1 && st->a_done)
            st->hit = 1;
        if (d >= 2 && i == 0)
            st->open = 1;
        if (d >= 2 && i == 1)
            st->open = 0;
        if (d == 3 && i == w + 1)
            st->marked = 1;
    }
}

static int stepper_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct stepper *s = (struct stepper *)f;
    SCHED_ASYNC_BEGIN(s);
    for (s->i = 0; s->i < s->steps; s->i++) {
        act(s, s->i);
        if (s->i + 1 < s->steps)
            SCHED_AWAIT(s, sched_yield_now(), &s->v);
    }
    SCHED_RETURN(s, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(s);
}

static const sched_future_ops stepper_ops = { stepper_poll, sched_coro_drop_default };

static int spawn(sched_executor *ex, struct state *st, const struct planted *p, int role,
                 int steps)
{
    struct stepper *s = (struct stepper *)sched_coro_new(sizeof *s, &stepper_ops);
    if (!s)
        return SCHED_ENOMEM;
    s->st = st;
    s->role = role;
    s->steps = steps;
    s->p = p;
    return sched_spawn(ex, &s->co.base, NULL);
}

int planted_run(sched_host *host, void *arg)
{
    const struct planted *p = arg;
    struct state st = { 0 };
    sched_executor *ex;
    int rc = sched_executor_new(host, &ex);
    if (rc)
        return rc;
    int a_steps = p->depth == 3 ? 2 * p->window + 2 : p->window + 1;
    int half = p->noise / 2;
    for (int i = 0; rc == 0 && i < half; i++)
        rc = spawn(ex, &st, p, 'N', p->noise_steps);
    if (rc == 0)
        rc = spawn(ex, &st, p, 'A', a_steps);
    if (rc == 0)
        rc = spawn(ex, &st, p, 'B', p->depth == 1 ? 1 : p->depth == 2 ? 2 : p->window + 2);
    for (int i = half; rc == 0 && i < p->noise; i++)
        rc = spawn(ex, &st, p, 'N', p->noise_steps);
    sched_test_run_until_parked(sched_as_test(host));
    sched_executor_free(ex);
    return rc ? rc : st.hit;
}
