/* SPDX-License-Identifier: MIT */
/*
 * tests/planted_race.h - the planted race test_replay and test_replay_edges
 * find, replay and shrink: the body fails (RACE_FAILED) when "b" ran
 * before "a" and "d" before "c", among noise tasks that yield and wait
 * random delays; shrinking leaves those two deviations.  Public API only.
 */
#ifndef SCHED_TEST_PLANTED_RACE_H
#define SCHED_TEST_PLANTED_RACE_H

#include <sched/sched.h>
#include <sched/test.h>

static int a_ran, b_before_a, c_ran, bug;

static sched_value run_a(void *arg)
{
    (void)arg;
    a_ran = 1;
    return (sched_value){ .i = 0 };
}

static sched_value run_b(void *arg)
{
    (void)arg;
    b_before_a = !a_ran;
    return (sched_value){ .i = 0 };
}

static sched_value run_c(void *arg)
{
    (void)arg;
    c_ran = 1;
    return (sched_value){ .i = 0 };
}

static sched_value run_d(void *arg)
{
    (void)arg;
    bug = b_before_a && !c_ran;
    return (sched_value){ .i = 0 };
}

struct noise {
    sched_coro co;
    sched_test *t;
    int left;
    sched_value v;
};

static int noise_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct noise *n = (struct noise *)f;
    (void)cx;
    SCHED_ASYNC_BEGIN(n);
    while (n->left-- > 0) {
        SCHED_AWAIT(n, sched_yield_now(), &n->v);
        SCHED_AWAIT(n, sched_test_random_delay(n->t), &n->v);
    }
    SCHED_RETURN(n, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(n);
}

static const sched_future_ops noise_ops = { noise_poll, sched_coro_drop_default };

static void spawn_noise(sched_executor *ex, sched_test *t, int left)
{
    struct noise *n = (struct noise *)sched_coro_new(sizeof *n, &noise_ops);
    n->t = t;
    n->left = left;
    sched_spawn_labeled(ex, &n->co.base, "noise", NULL);
}

#define RACE_FAILED 3

/* The test body: fails (RACE_FAILED) when b ran before a and d before c. */
static int race(sched_host *host, void *arg)
{
    (void)arg;
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    if (sched_executor_new(host, &ex))
        return SCHED_ENOMEM;
    a_ran = b_before_a = c_ran = bug = 0;
    sched_spawn_labeled(ex, sched_future_fn(run_a, NULL), "a", NULL);
    spawn_noise(ex, t, 3);
    sched_spawn_labeled(ex, sched_future_fn(run_b, NULL), "b", NULL);
    spawn_noise(ex, t, 2);
    sched_spawn_labeled(ex, sched_future_fn(run_c, NULL), "c", NULL);
    spawn_noise(ex, t, 3);
    sched_spawn_labeled(ex, sched_future_fn(run_d, NULL), "d", NULL);
    spawn_noise(ex, t, 2);
    sched_test_run_until_parked(t);
    sched_executor_free(ex);
    return bug ? RACE_FAILED : 0;
}

#endif
