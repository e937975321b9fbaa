/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_spawn.c - the conformance suite's tests
 * of spawning and awaiting, timers, and blocking with and without a
 * timeout.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conformance_int.h"

/* ---- spawn and await ------------------------------------------------------ */

void conf_test_spawn_and_await_returns_the_value(void)
{
    SETUP(h, ex);
    sched_task *t = NULL;
    sched_value v = { 0 };
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(conf_add_one, (void *)41), &t), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_NOT_EQUAL(sched_task_id(t), 0);
    CU_ASSERT_PTR_NOT_NULL(sched_task_site(t));
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 42);
    TEARDOWN(h, ex);
}

/* An async function in the style of the README: wait, spawn two, combine. */
struct combine {
    sched_coro co;
    sched_executor *ex;
    sched_task *a, *b;
    sched_value va, vb;
};

static int combine_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct combine *st = (struct combine *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_TRY_AWAIT(st, sched_timer(sched_executor_host(st->ex), 1000000), NULL);
    sched_spawn(st->ex, sched_future_fn(conf_add_one, (void *)1), &st->a);
    sched_spawn(st->ex, sched_future_fn(conf_add_one, (void *)2), &st->b);
    SCHED_TRY_AWAIT(st, sched_task_join(st->a), &st->va);
    SCHED_TRY_AWAIT(st, sched_task_join(st->b), &st->vb);
    SCHED_RETURN(st, out, (sched_value){ .i = st->va.i + st->vb.i });
    SCHED_ASYNC_END(st);
}

/* Also the ops of the bad-input test's too small coroutine. */
const sched_future_ops conf_combine_ops = { combine_poll, sched_coro_drop_default };

void conf_test_coroutine_awaits_timer_and_two_tasks(void)
{
    SETUP(h, ex);
    struct combine *st = (struct combine *)sched_coro_new(sizeof *st, &conf_combine_ops);
    sched_task *t = NULL;
    sched_value v = { 0 };
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    st->ex = ex;
    CU_ASSERT_EQUAL(sched_spawn(ex, &st->co.base, &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 5);
    TEARDOWN(h, ex);
}

void conf_test_all_any_yield_and_ready_compose(void)
{
    SETUP(h, ex);
    sched_value v = { 0 };
    size_t winner = 99;
    sched_future *all[3], *any[2];

    all[0] = sched_future_ready((sched_value){ .i = 1 });
    all[1] = sched_yield_now();
    all[2] = sched_future_fn(conf_add_one, (void *)2);
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(all, 3), &v, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v.ptr);
    CU_ASSERT_EQUAL(((sched_value *)v.ptr)[0].i, 1);
    CU_ASSERT_EQUAL(((sched_value *)v.ptr)[2].i, 3);
    free(v.ptr);

    any[0] = sched_timer(h, 60ull * 1000000000ull);
    any[1] = sched_future_ready((sched_value){ .i = 7 });
    CU_ASSERT_EQUAL(sched_block(ex, sched_any(any, 2, &winner), &v, NULL), 0);
    CU_ASSERT_EQUAL(winner, 1);
    CU_ASSERT_EQUAL(v.i, 7);
    TEARDOWN(h, ex);
}

void conf_test_labels_and_priorities_are_accepted(void)
{
    static const sched_priority prios[] = { SCHED_PRIORITY_LOW, SCHED_PRIORITY_MEDIUM,
                                            SCHED_PRIORITY_HIGH, SCHED_PRIORITY_REALTIME };
    SETUP(h, ex);
    sched_future *joins[5];
    sched_task *t = NULL;
    sched_value v;
    size_t i;

    for (i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(sched_spawn_priority(ex, sched_future_fn(conf_add_one, (void *)i), prios[i], &t), 0);
        joins[i] = sched_task_join(t);
    }
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_future_fn(conf_add_one, (void *)10), "labelled", &t), 0);
    CU_ASSERT_STRING_EQUAL(sched_task_label(t), "labelled");
    joins[4] = sched_task_join(t);
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(joins, 5), &v, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v.ptr);
    for (i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(((sched_value *)v.ptr)[i].i, (int64_t)i + 1);
    CU_ASSERT_EQUAL(((sched_value *)v.ptr)[4].i, 11);
    free(v.ptr);
    CU_ASSERT_EQUAL(sched_spawn_priority(ex, sched_future_fn(conf_add_one, NULL), (sched_priority)9, NULL),
                    SCHED_EINVAL);
    TEARDOWN(h, ex);
}

/* A task that fails with `code`, after one yield when `late` is set (so
 * that it completes as a task that was pending once). */
struct failing {
    sched_coro co;
    int code;
    int late;
};

static int failing_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct failing *st = (struct failing *)f;
    (void)out;
    SCHED_ASYNC_BEGIN(st);
    if (st->late)
        SCHED_AWAIT(st, sched_yield_now(), NULL);
    SCHED_FAIL(st, st->code);
    SCHED_ASYNC_END(st);
}

static const sched_future_ops failing_ops = { failing_poll, sched_coro_drop_default };

static sched_future *failing_new(int code, int late)
{
    struct failing *st = (struct failing *)sched_coro_new(sizeof *st, &failing_ops);
    if (st) {
        st->code = code;
        st->late = late;
    }
    return st ? &st->co.base : NULL;
}

/* Awaits a join inside a task, so the code also crosses SCHED_AWAIT. */
struct rejoin {
    sched_coro co;
    sched_task *t;
};

static int rejoin_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct rejoin *st = (struct rejoin *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_AWAIT(st, sched_task_join(st->t), NULL);
    SCHED_RETURN(st, out, (sched_value){ .i = st->co.rc });
    SCHED_ASYNC_END(st);
}

static const sched_future_ops rejoin_ops = { rejoin_poll, sched_coro_drop_default };

/* Every negative int a task fails with reaches its joiner unchanged, down
 * to INT_MIN: joined directly, and awaited by another task. */
void conf_test_a_failure_code_reaches_the_joiner_unchanged(void)
{
    static const int codes[] = { -1, SCHED_EBACKEND, -255, -256, -257, -512, -1000, -1001,
                                 -65536, INT_MIN + 1, INT_MIN };
    SETUP(h, ex);
    size_t i;
    int late;

    for (late = 0; late < 2; late++) {
        for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            sched_task *t = NULL, *outer = NULL;
            struct rejoin *rj;
            sched_value v = { .i = 12345 };
            CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, failing_new(codes[i], late), &t), 0);
            CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), codes[i]);

            CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, failing_new(codes[i], late), &t), 0);
            rj = (struct rejoin *)sched_coro_new(sizeof *rj, &rejoin_ops);
            CU_ASSERT_PTR_NOT_NULL_FATAL(rj);
            rj->t = t;
            CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, &rj->co.base, &outer), 0);
            CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(outer), &v, NULL), 0);
            CU_ASSERT_EQUAL(v.i, codes[i]);
        }
    }
    TEARDOWN(h, ex);
}

/* ---- timers ------------------------------------------------------------- */

struct timed {
    sched_coro co;
    sched_host *h;
    sched_future *timer;    /* made before the spawn, or NULL: made at the first poll */
    uint64_t delay, start, seen;
    uint64_t due;           /* when a timer made before the spawn is due */
    uint64_t first_poll;
    _Atomic int *order_next;
    int order;
};

/* The timer to await: the one made before the spawn, now the await's. */
static sched_future *take_timer(struct timed *st)
{
    sched_future *t = st->timer ? st->timer : sched_timer(st->h, st->delay);
    st->timer = NULL;
    return t;
}

static int timed_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct timed *st = (struct timed *)f;
    sched_value v;
    SCHED_ASYNC_BEGIN(st);
    st->first_poll = sched_host_now(st->h);
    SCHED_TRY_AWAIT(st, take_timer(st), &v);
    st->seen = sched_host_now(st->h);
    if (st->order_next)
        st->order = atomic_fetch_add(st->order_next, 1);
    SCHED_RETURN(st, out, (sched_value){ .u = st->seen });
    SCHED_ASYNC_END(st);
}

/* The states live in the test's array: drop only what is in flight. */
static void timed_drop(sched_future *f)
{
    sched_coro *co = (sched_coro *)f;
    sched_future_drop(co->awaiting);
    co->awaiting = NULL;
    sched_future_drop(((struct timed *)f)->timer);
    ((struct timed *)f)->timer = NULL;
}

void conf_test_timers_never_fire_early(void)
{
    enum { N = 40 };
    static const sched_future_ops ops = { timed_poll, timed_drop };
    SETUP(h, ex);
    struct timed st[N];
    sched_future *joins[N];
    sched_value v;
    int i;

    memset(st, 0, sizeof st);
    for (i = 0; i < N; i++) {
        sched_task *t = NULL;
        st[i].co.base.ops = &ops;
        st[i].h = h;
        st[i].delay = (uint64_t)(1 + (i * 7) % 20) * 1000000u;
        st[i].start = sched_host_now(h);
        CU_ASSERT_EQUAL(sched_spawn(ex, &st[i].co.base, &t), 0);
        joins[i] = sched_task_join(t);
    }
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(joins, N), &v, NULL), 0);
    free(v.ptr);
    for (i = 0; i < N; i++)
        CU_ASSERT(st[i].seen >= st[i].start + st[i].delay);
    TEARDOWN(h, ex);
}

/* Timers 50 ms apart fire in due order.  (On a threaded backend the woken
 * tasks race to record their turn; 50 ms of spacing keeps most of a
 * loaded machine's scheduling noise out of the answer.  The timers are
 * made before the spawns and the first is due 200 ms later, so that slow
 * first polls, as in a fresh process under valgrind, cannot move a
 * deadline.  A timer already due at its first poll is ready at once, in
 * poll order, so only the timers that were still waiting are held to due
 * order.) */
void conf_test_timers_fire_in_due_order(void)
{
    enum { N = 6 };
    static const sched_future_ops ops = { timed_poll, timed_drop };
    static const int shuffle[N] = { 3, 0, 5, 1, 4, 2 };
    SETUP(h, ex);
    struct timed st[N];
    sched_future *joins[N];
    _Atomic int next = 0;
    sched_value v;
    int i;

    memset(st, 0, sizeof st);
    for (i = 0; i < N; i++) {
        sched_task *t = NULL;
        int k = shuffle[i];
        st[k].co.base.ops = &ops;
        st[k].h = h;
        st[k].delay = 200000000u + (uint64_t)k * 50000000u;
        st[k].due = sched_host_now(h) + st[k].delay;
        st[k].timer = sched_timer(h, st[k].delay);
        st[k].order_next = &next;
        CU_ASSERT_EQUAL(sched_spawn(ex, &st[k].co.base, &t), 0);
        joins[i] = sched_task_join(t);
    }
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(joins, N), &v, NULL), 0);
    free(v.ptr);
    /* On a threaded backend a woken task records its turn one hop after
     * its timer fired, and a loaded machine can hold that hop up for longer
     * than any spacing, so the turns are ordered only where the earlier
     * task was seen before the later timer was due (which a timer firing
     * early would break); the firing order itself is checked at the
     * plugin ABI (test_linux).  A simulated backend runs one
     * thread on a virtual clock: due order, strictly. */
    for (i = 0; i < N; i++) {
        for (int j = i + 1; j < N; j++) {
            if (st[i].first_poll < st[i].due && st[j].first_poll < st[j].due
                && (conf_simulated(h) || st[i].seen < st[j].due))
                CU_ASSERT(st[i].order < st[j].order);
        }
    }
    TEARDOWN(h, ex);
}

void conf_test_zero_and_absurd_timers_have_defined_results(void)
{
    SETUP(h, ex);
    sched_value v;
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 0), &v, NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, UINT64_MAX), &v, NULL), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(NULL, 1000), &v, NULL), SCHED_EINVAL);
    TEARDOWN(h, ex);
}

/* ---- block ------------------------------------------------------------- */

/* The budget runs out on a future that nothing completes meanwhile (a
 * oneshot's receiver, before its send), so the block times out on every
 * backend however slow the machine; the future is kept, and is then ready
 * with what was sent.  A timer kept by a timed-out block still fires, and
 * never early; whether a 1 ms budget runs out before a 200 ms timer does
 * is not the block's to promise: a simulated backend chooses how long a
 * timed block waits, and on a real clock the thread may be held up for
 * longer than the timer between making it and the first poll. */
void conf_test_block_with_timeout_times_out_and_keeps_the_future(void)
{
    SETUP(h, ex);
    sched_oneshot *o = NULL;
    sched_future *f;
    sched_value v = { 0 };
    sched_error *err = NULL;
    uint64_t start;
    int rc;

    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&o), 0);
    f = sched_oneshot_recv(o);
    rc = sched_block_with_timeout(ex, &f, 1000000, &v, &err);
    CU_ASSERT_EQUAL(rc, SCHED_ETIMEDOUT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(err);
    CU_ASSERT_EQUAL(sched_error_code(err), SCHED_ETIMEDOUT);
    sched_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(sched_oneshot_send(o, (sched_value){ .i = 77 }), 0);
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, SCHED_TIMEOUT_NEVER, &v, &err), 0);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(v.i, 77);
    sched_error_free(err);
    err = NULL;

    start = sched_host_now(h);
    f = sched_timer(h, 200000000);
    rc = sched_block_with_timeout(ex, &f, 1000000, &v, &err);
    CU_ASSERT(rc == SCHED_ETIMEDOUT || rc == 0);
    if (rc == SCHED_ETIMEDOUT) {
        CU_ASSERT_PTR_NOT_NULL(f);
        CU_ASSERT_PTR_NOT_NULL(err);
        CU_ASSERT_EQUAL(sched_error_code(err), SCHED_ETIMEDOUT);
        sched_error_free(err);
        err = NULL;
        rc = sched_block_with_timeout(ex, &f, SCHED_TIMEOUT_NEVER, &v, &err);
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT(sched_host_now(h) - start >= 200000000u);
    sched_error_free(err);
    TEARDOWN(h, ex);
}

/* A budget of 0 polls the future exactly once and waits for nothing: a
 * ready future gives its value, a pending one SCHED_ETIMEDOUT and stays
 * live, and a task queued meanwhile has not run. */
void conf_test_block_with_a_zero_budget_polls_once(void)
{
    SETUP(h, ex);
    struct probe_stats ps = { 0 };
    sched_future *f = sched_future_ready((sched_value){ .i = 9 });
    sched_value v = { 0 };
    sched_task *t = NULL;

    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 0, &v, NULL), 0);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(v.i, 9);

    f = conf_probe_new(&ps, 0);
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 0, &v, NULL), SCHED_ETIMEDOUT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(atomic_load(&ps.polls), 1);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 0);
    sched_future_drop(f);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);

    /* Nothing else runs: a foreground task stays queued (only this
     * thread could run it), and so does any task on a simulated backend. */
    {
        sched_foreground_executor *fx = NULL;
        CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
        CU_ASSERT_EQUAL(sched_foreground_spawn(fx, sched_future_fn(conf_add_one, (void *)4), &t), 0);
        f = conf_probe_new(&ps, 0);
        CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 0, &v, NULL), SCHED_ETIMEDOUT);
        CU_ASSERT_FALSE(sched_task_is_finished(t));
        sched_future_drop(f);
        CU_ASSERT_EQUAL(sched_foreground_block(fx, sched_task_join(t), &v, NULL), 0);
        CU_ASSERT_EQUAL(v.i, 5);
        sched_foreground_executor_free(fx);
    }
    if (conf_simulated(h)) {
        CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(conf_add_one, (void *)1), &t), 0);
        f = conf_probe_new(&ps, 0);
        CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 0, &v, NULL), SCHED_ETIMEDOUT);
        CU_ASSERT_FALSE(sched_task_is_finished(t));
        sched_future_drop(f);
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
        CU_ASSERT_EQUAL(v.i, 2);
    }
    TEARDOWN(h, ex);
}

void conf_test_block_on_unwakeable_future_is_deadlock_or_timeout(void)
{
    SETUP(h, ex);
    struct probe_stats ps = { 0 };
    sched_future *f;
    sched_error *err = NULL;
    int rc;

    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, conf_probe_new(&ps, 0), "stuck", NULL), 0);
    if (conf_simulated(h)) {
        /* Nothing can wake it: the simulated backend proves it, and the
         * report names the pending task and the seed. */
        rc = sched_block(ex, conf_probe_new(&ps, 0), NULL, &err);
        CU_ASSERT_EQUAL(rc, SCHED_EDEADLK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "\"stuck\""));
        CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "seed"));
        CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "a probe that never completes"));
        CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    } else {
        f = conf_probe_new(&ps, 0);
        rc = sched_block_with_timeout(ex, &f, 5000000, NULL, &err);
        CU_ASSERT_EQUAL(rc, SCHED_ETIMEDOUT);
        CU_ASSERT_EQUAL(atomic_load(&ps.drops), 0);
        sched_future_drop(f);
        CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    }
    sched_error_free(err);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 2);
}
