/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_threads.c - the conformance suite's tests
 * of work across threads: wakes from foreign threads, many tasks at once,
 * a bounded channel between two tasks, and foreground tasks on the main
 * thread.  The foreground executor's death test is in conformance.c.
 */
#include "config.h"

#include <stdlib.h>

#include "conformance_int.h"

/* ---- threads ------------------------------------------------------------- */

static void send_later(void *arg)
{
    struct sender *s = arg;
    sched_oneshot_send(s->o, (sched_value){ .i = s->v });
}

void conf_test_wakes_from_foreign_threads(void)
{
    enum { N = 8 };
    SETUP(h, ex);
    struct sender s[N];
    conf_thread th[N];
    sched_future *joins[N];
    sched_value v;
    int i;

    /* A simulated backend must be allowed to really park while the
     * foreign threads run. */
    conf_allow_parking(h);
    for (i = 0; i < N; i++) {
        sched_task *t = NULL;
        CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&s[i].o), 0);
        s[i].v = i;
        CU_ASSERT_EQUAL(sched_spawn(ex, sched_oneshot_recv(s[i].o), &t), 0);
        joins[i] = sched_task_join(t);
    }
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(conf_thread_start(&th[i], send_later, &s[i]), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_all(joins, N), &v, NULL), 0);
    for (i = 0; i < N; i++) {
        conf_thread_join(th[i]);
        CU_ASSERT_EQUAL(((sched_value *)v.ptr)[i].i, i);
    }
    free(v.ptr);
    TEARDOWN(h, ex);
}

struct counted {
    unsigned char *ran;
    _Atomic size_t *left;
    sched_oneshot *done;
};

static struct counted counted_ctx;

static sched_value count_run(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    counted_ctx.ran[i]++;
    if (atomic_fetch_sub(counted_ctx.left, 1) == 1)
        sched_oneshot_send(counted_ctx.done, (sched_value){ .u = 1 });
    return (sched_value){ .u = 0 };
}

void conf_test_hundred_thousand_tasks_run_exactly_once(void)
{
    enum { N = 100000 };
    SETUP(h, ex);
    _Atomic size_t left = N;
    sched_future *done;
    size_t i, once = 0;

    counted_ctx.ran = calloc(N, 1);
    counted_ctx.left = &left;
    CU_ASSERT_PTR_NOT_NULL_FATAL(counted_ctx.ran);
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&counted_ctx.done), 0);
    done = sched_oneshot_recv(counted_ctx.done);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_future_fn(count_run, (void *)(uintptr_t)i), NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, done, NULL, NULL), 0);
    for (i = 0; i < N; i++)
        once += counted_ctx.ran[i] == 1;
    CU_ASSERT_EQUAL(once, N);
    free(counted_ctx.ran);
    TEARDOWN(h, ex);
}

/* ---- channels -------------------------------------------------------------- */

struct producer {
    sched_coro co;
    sched_channel *ch;
    int64_t i;
};

static int producer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct producer *st = (struct producer *)f;
    SCHED_ASYNC_BEGIN(st);
    for (st->i = 0; st->i < 100; st->i++)
        SCHED_TRY_AWAIT(st, sched_channel_send(st->ch, (sched_value){ .i = st->i }), NULL);
    sched_channel_close(st->ch);
    SCHED_RETURN(st, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(st);
}

static const sched_future_ops producer_ops = { producer_poll, sched_coro_drop_default };

struct consumer {
    sched_coro co;
    sched_channel *ch;
    sched_value v;
    int64_t sum, expect;
};

static int consumer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct consumer *st = (struct consumer *)f;
    SCHED_ASYNC_BEGIN(st);
    for (;;) {
        SCHED_AWAIT(st, sched_channel_recv(st->ch), &st->v);
        if (st->co.rc == SCHED_ECLOSED)
            break;
        if (st->v.i != st->expect++)
            SCHED_FAIL(st, SCHED_EINVAL);
        st->sum += st->v.i;
    }
    SCHED_RETURN(st, out, (sched_value){ .i = st->sum });
    SCHED_ASYNC_END(st);
}

static const sched_future_ops consumer_ops = { consumer_poll, sched_coro_drop_default };

void conf_test_bounded_channel_carries_values_in_order(void)
{
    SETUP(h, ex);
    sched_channel *ch = NULL;
    struct producer *p;
    struct consumer *c;
    sched_task *t = NULL;
    sched_value v = { 0 };

    CU_ASSERT_EQUAL_FATAL(sched_channel_new(4, &ch), 0);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, (sched_value){ .i = -1 }), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_channel_recv(ch), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, -1);
    p = (struct producer *)sched_coro_new(sizeof *p, &producer_ops);
    c = (struct consumer *)sched_coro_new(sizeof *c, &consumer_ops);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    p->ch = c->ch = ch;
    CU_ASSERT_EQUAL(sched_spawn(ex, &p->co.base, NULL), 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, &c->co.base, &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 4950);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, (sched_value){ .i = 1 }), SCHED_ECLOSED);
    sched_channel_free(ch);
    TEARDOWN(h, ex);
}

/* ---- foreground ------------------------------------------------------------ */

struct on_main {
    sched_host *h;
    int was_main;
};

static sched_value note_main(void *arg)
{
    struct on_main *m = arg;
    m->was_main = sched_host_is_main_thread(m->h);
    return (sched_value){ .i = 3 };
}

void conf_test_foreground_tasks_run_on_the_main_thread(void)
{
    SETUP(h, ex);
    sched_foreground_executor *fx = NULL;
    struct on_main m = { h, 0 };
    sched_task *t = NULL;
    sched_value v = { 0 };

    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    CU_ASSERT_NOT_EQUAL(sched_foreground_executor_id(fx), 0);
    CU_ASSERT_EQUAL(sched_foreground_spawn_labeled(fx, sched_future_fn(note_main, &m), "ui", &t), 0);
    CU_ASSERT_EQUAL(sched_foreground_block(fx, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 3);
    CU_ASSERT_EQUAL(m.was_main, 1);
    sched_foreground_executor_free(fx);
    TEARDOWN(h, ex);
}

struct fx_new_try {
    sched_host *h;
    int rc;
};

static void try_fx_new(void *arg)
{
    struct fx_new_try *x = arg;
    sched_foreground_executor *fx = NULL;
    x->rc = sched_foreground_executor_new(x->h, &fx);
}

void conf_test_foreground_executor_off_the_main_thread_is_refused(void)
{
    SETUP(h, ex);
    struct fx_new_try x = { h, 0 };
    conf_thread th;
    CU_ASSERT_EQUAL_FATAL(conf_thread_start(&th, try_fx_new, &x), 0);
    conf_thread_join(th);
    CU_ASSERT_EQUAL(x.rc, SCHED_EWRONGTHREAD);
    TEARDOWN(h, ex);
}

/* ---- yield and block ---------------------------------------------------------- */

/* Yields until *flag is set: every yield must let the other ready work run.
 * On a simulated backend a livelock is caught by a cap on the yields (far
 * more than any fair choice needs); a threaded one runs the setter on
 * another thread, so there the loop is unbounded and a livelock hangs. */
struct yielder {
    sched_coro co;
    _Atomic int *flag;
    long yields, cap;
};

static int yielder_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct yielder *st = (struct yielder *)f;
    SCHED_ASYNC_BEGIN(st);
    while (!atomic_load(st->flag)) {
        if (st->cap && st->yields >= st->cap)
            SCHED_FAIL(st, SCHED_ELIMIT);
        st->yields++;
        SCHED_AWAIT(st, sched_yield_now(), NULL);
    }
    SCHED_RETURN(st, out, (sched_value){ .i = st->yields });
    SCHED_ASYNC_END(st);
}

static const sched_future_ops yielder_ops = { yielder_poll, sched_coro_drop_default };

static sched_future *yielder_new(sched_host *h, _Atomic int *flag)
{
    struct yielder *st = (struct yielder *)sched_coro_new(sizeof *st, &yielder_ops);
    if (st) {
        st->flag = flag;
        st->cap = conf_simulated(h) ? 100000 : 0;
    }
    return st ? &st->co.base : NULL;
}

static sched_value set_flag(void *arg)
{
    atomic_store((_Atomic int *)arg, 1);
    return (sched_value){ .i = 1 };
}

/* A future that loops on sched_yield_now() until another task sets a flag,
 * blocked on with sched_block and with sched_foreground_block, with the
 * setter a background task or (foreground block) a foreground one. */
void conf_test_a_yield_lets_other_ready_work_run(void)
{
    SETUP(h, ex);
    sched_foreground_executor *fx = NULL;
    _Atomic int flag;
    sched_value v = { 0 };

    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);

    atomic_init(&flag, 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(set_flag, &flag), NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, yielder_new(h, &flag), &v, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&flag), 1);

    atomic_store(&flag, 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(set_flag, &flag), NULL), 0);
    CU_ASSERT_EQUAL(sched_foreground_block(fx, yielder_new(h, &flag), &v, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&flag), 1);

    atomic_store(&flag, 0);
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, sched_future_fn(set_flag, &flag), NULL), 0);
    CU_ASSERT_EQUAL(sched_foreground_block(fx, yielder_new(h, &flag), &v, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&flag), 1);

    sched_foreground_executor_free(fx);
    TEARDOWN(h, ex);
}

/* sched_block on the main thread may await a foreground task: it runs the
 * main thread's work while it waits, on every backend, as
 * sched_foreground_block does. */
void conf_test_block_on_the_main_thread_runs_foreground_tasks(void)
{
    SETUP(h, ex);
    sched_foreground_executor *fx = NULL;
    struct on_main m = { h, 0 };
    _Atomic int flag;
    sched_task *t = NULL;
    sched_value v = { 0 };
    sched_future *f;

    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, sched_future_fn(note_main, &m), &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 3);
    CU_ASSERT_EQUAL(m.was_main, 1);

    /* With a timeout too, and with a yielding future. */
    m.was_main = 0;
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, sched_future_fn(note_main, &m), &t), 0);
    f = sched_task_join(t);
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, SCHED_TIMEOUT_NEVER, &v, NULL), 0);
    CU_ASSERT_EQUAL(m.was_main, 1);

    atomic_init(&flag, 0);
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, sched_future_fn(set_flag, &flag), NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, yielder_new(h, &flag), &v, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&flag), 1);

    sched_foreground_executor_free(fx);
    TEARDOWN(h, ex);
}
