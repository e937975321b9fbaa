/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sleepers.c - tasks asleep on sched_timer(3), and the join
 * futures of tasks, through the public API on three backends: linux
 * (its own timer heap, with cancel_after), minimal (the host's timer
 * thread) and abi10 (a backend without cancel_after, which keeps a timer
 * until it is due: the last to let go of a timer's memory is then the
 * scheduler, not the future).  A timer future and its wake-up share one
 * allocation, and a join future lives in its task, so each test ends
 * with every task's drop counted: exactly once, never run to the end
 * when it was not woken; ASan and valgrind check the memory.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <sched/sched.h>

enum { SLEEPERS = 64 };
#define LONG_NS (UINT64_C(600) * 1000000000u)   /* never reached by a test */

static const char *backend;
static char conf[] = "/tmp/sched-sleepers-XXXXXX";

static atomic_int polled, finished, dropped;

/* A sleeper: its timer made when it is spawned, as W4 does; counts its
 * first poll, its end and its drop. */
struct sleeper {
    sched_coro co;
    sched_future *timer;        /* made at spawn, until awaited */
};

static int sleeper_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct sleeper *st = (struct sleeper *)f;
    SCHED_ASYNC_BEGIN(st);
    atomic_fetch_add(&polled, 1);
    SCHED_TRY_AWAIT(st, st->timer, NULL);
    st->timer = NULL;
    atomic_fetch_add(&finished, 1);
    SCHED_RETURN(st, out, (sched_value){ .u = 7 });
    SCHED_ASYNC_END(st);
}

static void sleeper_drop(sched_future *f)
{
    struct sleeper *st = (struct sleeper *)f;
    if (st->co.pc == 0)
        sched_future_drop(st->timer);   /* never polled: the timer is still ours */
    atomic_fetch_add(&dropped, 1);
    sched_coro_drop_default(f);
}

static const sched_future_ops sleeper_ops = { sleeper_poll, sleeper_drop };

static sched_future *sleeper_new(sched_host *h, sched_future *timer)
{
    struct sleeper *st = (struct sleeper *)sched_coro_new(sizeof *st, &sleeper_ops);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    st->timer = timer ? timer : sched_timer(h, LONG_NS);
    return &st->co.base;
}

static sched_host *open_host(sched_executor **ex)
{
    sched_host *h = NULL;
    sched_error *err = NULL;
    FILE *f = fopen(conf, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "backend = \"%s\";\n", backend);
    fclose(f);
    if (sched_host_open(&h, conf, &err) != 0)
        fprintf(stderr, "\n  %s\n", sched_error_message(err));
    sched_error_free(err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, ex), 0);
    atomic_store(&polled, 0);
    atomic_store(&finished, 0);
    atomic_store(&dropped, 0);
    return h;
}

/* Block until n sleepers have been polled once (each has armed its timer). */
static void wait_polled(sched_executor *ex, sched_host *h, int n)
{
    while (atomic_load(&polled) < n)
        CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_timer(h, 1000000), NULL, NULL), 0);
}

/* Armed timers still pending when the host closes: every sleeper is
 * dropped exactly once, none finishes, and the handles stay valid. */
static void test_sleepers_pending_at_close_are_each_dropped_once(void)
{
    sched_executor *ex;
    sched_host *h = open_host(&ex);
    sched_task *t[SLEEPERS];
    int i;

    for (i = 0; i < SLEEPERS; i++)
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sleeper_new(h, NULL), i % 2 ? &t[i] : NULL), 0);
    wait_polled(ex, h, SLEEPERS);
    sched_executor_free(ex);
    sched_host_close(h);
    CU_ASSERT_EQUAL(atomic_load(&dropped), SLEEPERS);
    CU_ASSERT_EQUAL(atomic_load(&finished), 0);
    for (i = 1; i < SLEEPERS; i += 2) {
        CU_ASSERT(sched_task_is_finished(t[i]));
        sched_task_free(t[i]);
    }
}

/* Timers made but never polled (the task was never run): dropped with
 * the task at close, or by their maker. */
static void test_timers_never_polled_are_freed_with_their_task_or_maker(void)
{
    sched_executor *ex;
    sched_host *h = open_host(&ex);

    sched_future_drop(sched_timer(h, LONG_NS));
    sched_future_drop(sched_timer(h, 0));
    sched_future_drop(sleeper_new(h, NULL));
    CU_ASSERT_EQUAL(atomic_load(&dropped), 1);
    sched_executor_free(ex);
    sched_host_close(h);
}

/* A timer dropped before it fires: each sleeper waits on any of its
 * timer and a oneshot, and the oneshot wins.  The timer is taken back
 * (linux, minimal) or left to fire into nobody (abi10). */
struct racer {
    sched_coro co;
    sched_future *any[2];
    size_t winner;
    sched_value v;
};

static int racer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct racer *st = (struct racer *)f;
    SCHED_ASYNC_BEGIN(st);
    atomic_fetch_add(&polled, 1);
    SCHED_TRY_AWAIT(st, sched_any(st->any, 2, &st->winner), &st->v);
    SCHED_RETURN(st, out, (sched_value){ .u = st->winner == 1 ? st->v.u : 0 });
    SCHED_ASYNC_END(st);
}

static void racer_drop(sched_future *f)
{
    atomic_fetch_add(&dropped, 1);
    sched_coro_drop_default(f);
}

static const sched_future_ops racer_ops = { racer_poll, racer_drop };

static void test_a_timer_dropped_before_it_fires_is_freed_once(void)
{
    sched_executor *ex;
    sched_host *h = open_host(&ex);
    sched_oneshot *os[SLEEPERS];
    sched_future *joins[SLEEPERS];
    sched_value all;
    int i;

    for (i = 0; i < SLEEPERS; i++) {
        struct racer *st = (struct racer *)sched_coro_new(sizeof *st, &racer_ops);
        sched_task *t;
        CU_ASSERT_PTR_NOT_NULL_FATAL(st);
        CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&os[i]), 0);
        st->any[0] = sched_timer(h, LONG_NS);
        st->any[1] = sched_oneshot_recv(os[i]);
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, &st->co.base, &t), 0);
        joins[i] = sched_task_join(t);
        CU_ASSERT_PTR_NOT_NULL_FATAL(joins[i]);
    }
    wait_polled(ex, h, SLEEPERS);
    for (i = 0; i < SLEEPERS; i++)
        CU_ASSERT_EQUAL(sched_oneshot_send(os[i], (sched_value){ .u = 100u + (unsigned)i }), 0);
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_all(joins, SLEEPERS), &all, NULL), 0);
    for (i = 0; i < SLEEPERS; i++)
        CU_ASSERT_EQUAL(((sched_value *)all.ptr)[i].u, 100u + (unsigned)i);
    free(all.ptr);
    CU_ASSERT_EQUAL(atomic_load(&dropped), SLEEPERS);
    sched_executor_free(ex);
    sched_host_close(h);
}

/* Short timers that fire: every sleeper ends once, with its timer's
 * memory let go by whichever of the future and the scheduler is last. */
static void test_sleepers_whose_timers_fire_end_once(void)
{
    sched_executor *ex;
    sched_host *h = open_host(&ex);
    sched_future *joins[SLEEPERS];
    sched_value all;
    int i;

    for (i = 0; i < SLEEPERS; i++) {
        sched_task *t;
        sched_future *sl = sleeper_new(h, sched_timer(h, 1000000u + 50000u * (unsigned)i));
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sl, &t), 0);
        joins[i] = sched_task_join(t);
    }
    CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_all(joins, SLEEPERS), &all, NULL), 0);
    for (i = 0; i < SLEEPERS; i++)
        CU_ASSERT_EQUAL(((sched_value *)all.ptr)[i].u, 7u);
    free(all.ptr);
    CU_ASSERT_EQUAL(atomic_load(&finished), SLEEPERS);
    CU_ASSERT_EQUAL(atomic_load(&dropped), SLEEPERS);
    sched_executor_free(ex);
    sched_host_close(h);
}

/* Cancelled while asleep: dropped once, its join sees the cancel, and a
 * join future dropped unpolled cancels its task as freeing the handle
 * does.  "Polled" is counted when a poll begins, so a cancelled task may
 * still be in that first poll: its join then completes before the poller
 * drops it (sched_task_cancel(3)), and the drop is waited for. */
static void test_a_sleeper_cancelled_while_asleep_is_dropped_once(void)
{
    sched_executor *ex;
    sched_host *h = open_host(&ex);
    sched_task *a, *b;

    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sleeper_new(h, NULL), &a), 0);
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sleeper_new(h, NULL), &b), 0);
    wait_polled(ex, h, 2);
    sched_task_cancel(a);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(a), NULL, NULL), SCHED_ECANCELED);
    while (atomic_load(&dropped) < 1)
        CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_timer(h, 1000000), NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&dropped), 1);
    sched_future_drop(sched_task_join(b));
    /* The drop happens on whichever thread takes the cancel; wait for it. */
    while (atomic_load(&dropped) < 2)
        CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_timer(h, 1000000), NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&finished), 0);
    sched_executor_free(ex);
    sched_host_close(h);
    CU_ASSERT_EQUAL(atomic_load(&dropped), 2);
}

/* A join future polled after its task finished, and one of a task that
 * finished before it was joined. */
static sched_value seven(void *arg)
{
    (void)arg;
    return (sched_value){ .u = 7 };
}

static void test_join_futures_of_finished_tasks_return_their_value(void)
{
    sched_executor *ex;
    sched_host *h = open_host(&ex);
    sched_value v = { 0 };
    sched_task *t;
    int i;

    for (i = 0; i < 100; i++) {
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_future_fn(seven, NULL), &t), 0);
        if (i % 2)
            while (!sched_task_is_finished(t))
                CU_ASSERT_EQUAL_FATAL(sched_block(ex, sched_timer(h, 100000), NULL, NULL), 0);
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
        CU_ASSERT_EQUAL(v.u, 7u);
    }
    sched_executor_free(ex);
    sched_host_close(h);
}

int main(void)
{
    static const char *backends[] = { "linux", "minimal", "abi10" };
    unsigned failed;
    char path[4096], cwd[2048];
    const char *top, *old;
    int fd = mkstemp(conf);

    if (fd < 0 || CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    close(fd);
    /* The test backends minimal and abi10 are built with the tests. */
    top = getenv("SCHED_TOP_BUILDDIR");
    old = getenv("SCHED_PLUGIN_PATH");
    if (!top && !(top = getcwd(cwd, sizeof cwd)))
        return 1;
    snprintf(path, sizeof path, "%s%s%s/tests/conformance/.libs", old ? old : "", old ? ":" : "",
             top);
    setenv("SCHED_PLUGIN_PATH", path, 1);
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        CU_pSuite s = CU_add_suite(backends[i], NULL, NULL);
        CU_add_test(s, "sleepers pending at close are each dropped once",
                    test_sleepers_pending_at_close_are_each_dropped_once);
        CU_add_test(s, "timers never polled are freed with their task or maker",
                    test_timers_never_polled_are_freed_with_their_task_or_maker);
        CU_add_test(s, "a timer dropped before it fires is freed once",
                    test_a_timer_dropped_before_it_fires_is_freed_once);
        CU_add_test(s, "sleepers whose timers fire end once",
                    test_sleepers_whose_timers_fire_end_once);
        CU_add_test(s, "a sleeper cancelled while asleep is dropped once",
                    test_a_sleeper_cancelled_while_asleep_is_dropped_once);
        CU_add_test(s, "join futures of finished tasks return their value",
                    test_join_futures_of_finished_tasks_return_their_value);
    }
    /* Suites run one after another: each reads `backend` when it opens
     * its host, so run them one at a time. */
    CU_basic_set_mode(CU_BRM_VERBOSE);
    failed = 0;
    for (CU_pSuite s = CU_get_registry()->pSuite; s; s = s->pNext) {
        backend = s->pName;
        CU_basic_run_suite(s);
        failed += CU_get_number_of_tests_failed() + CU_get_number_of_failures();
    }
    CU_cleanup_registry();
    unlink(conf);
    return failed ? 1 : 0;
}
