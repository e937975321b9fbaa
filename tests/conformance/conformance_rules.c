/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_rules.c - the backend rules that an
 * honest-looking backend can break without failing any other test: what
 * destroy() does with the main queue, its order, a stop() before run(),
 * a runnable run twice, and a timer's wake-up that comes early.  Each
 * has a deliberately broken backend under tests/plugins/ that must fail
 * it (tests/test_conform_mutants.sh).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conformance_int.h"

/* Foreground tasks nobody runs (the main thread never blocks or runs the
 * loop) are still queued in the backend at sched_host_close: destroy()
 * must give each back with svc->drop, once, so each future is dropped
 * once and never polled. */
void conf_test_destroy_drops_every_queued_runnable_once(void)
{
    enum { N = 16 };
    SETUP(h, ex);
    sched_foreground_executor *fx = NULL;
    struct probe_stats st = { 0 };
    int i;

    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL(sched_foreground_spawn(fx, conf_probe_new(&st, 0), NULL), 0);
    sched_foreground_executor_free(fx);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(atomic_load(&st.polls), 0);
    CU_ASSERT_EQUAL(atomic_load(&st.drops), N);
}

struct in_poll {
    sched_coro co;
    sched_executor *ex;         /* outlives the close: a spawn on it says when */
    atomic_int started, done, resumed, drops;
};

/* Stays in its first poll until the close has begun (a spawn is refused),
 * a while longer, then awaits an hour. */
static int in_poll_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct in_poll *st = (struct in_poll *)f;
    SCHED_ASYNC_BEGIN(st);
    atomic_store(&st->started, 1);
    while (sched_spawn(st->ex, sched_future_fn(conf_add_one, NULL), NULL) == 0)
        conf_sleep_ns(100000);
    conf_sleep_ns(20000000);
    atomic_store(&st->done, 1);
    SCHED_AWAIT(st, sched_timer(sched_context_host(cx), UINT64_C(3600000000000)), NULL);
    atomic_fetch_add(&st->resumed, 1);
    SCHED_RETURN(st, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(st);
}

static void in_poll_drop(sched_future *f)
{
    struct in_poll *st = (struct in_poll *)f;
    atomic_fetch_add(&st->drops, 1);
    /* The state is the test's: drop only what it awaits. */
    if (st->co.awaiting)
        sched_future_drop(st->co.awaiting);
    st->co.awaiting = NULL;
}

/* A task in its poll when sched_host_close begins: destroy() returns only
 * once the backend's thread is out of it (no callback runs after the
 * close returns), and the close drops the task, which never resumes
 * past its timer.  A simulated backend polls nothing during the close:
 * there the task, never run, is dropped unpolled. */
void conf_test_close_waits_for_a_poll_and_drops_its_task(void)
{
    static const sched_future_ops ops = { in_poll_poll, in_poll_drop };
    SETUP(h, ex);
    struct in_poll st;
    int simulated = conf_simulated(h);

    memset(&st, 0, sizeof st);
    st.co.base.ops = &ops;
    st.ex = ex;
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, &st.co.base, NULL), 0);
    while (!simulated && !atomic_load(&st.started))
        conf_sleep_ns(100000);
    sched_host_close(h);
    CU_ASSERT_EQUAL(atomic_load(&st.done), simulated ? 0 : 1);
    CU_ASSERT_EQUAL(atomic_load(&st.resumed), 0);
    CU_ASSERT_EQUAL(atomic_load(&st.drops), 1);
    sched_executor_free(ex);
}

struct fifo_note {
    char *buf;
    int i;
};

static sched_value note_digit(void *arg)
{
    struct fifo_note *n = arg;
    size_t len = strlen(n->buf);
    n->buf[len] = (char)('0' + n->i);
    n->buf[len + 1] = '\0';
    return (sched_value){ .i = n->i };
}

/* Eight foreground tasks spawned in order run in that order: blocking on
 * the last one's result finds all eight run, "01234567". */
void conf_test_main_queue_is_fifo(void)
{
    enum { N = 8 };
    SETUP(h, ex);
    sched_foreground_executor *fx = NULL;
    struct fifo_note notes[N];
    char buf[N + 1] = "";
    sched_task *last = NULL;
    int i;

    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    for (i = 0; i < N; i++) {
        notes[i].buf = buf;
        notes[i].i = i;
        CU_ASSERT_EQUAL(sched_foreground_spawn(fx, sched_future_fn(note_digit, &notes[i]),
                                               i == N - 1 ? &last : NULL), 0);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(last);
    CU_ASSERT_EQUAL(sched_foreground_block(fx, sched_task_join(last), NULL, NULL), 0);
    CU_ASSERT_STRING_EQUAL(buf, "01234567");
    sched_foreground_executor_free(fx);
    TEARDOWN(h, ex);
}

/* stop() is sticky: a stop() before run() makes run() return at once (a
 * backend that forgets it hangs here, and the runner reports TIMEOUT). */
void conf_test_stop_before_run_returns_at_once(void)
{
    SETUP(h, ex);
    sched_host_stop(h);
    CU_ASSERT_EQUAL(sched_host_run(h), 0);
    TEARDOWN(h, ex);
}

struct once {
    _Atomic int polls;
};

struct once_all {
    struct once st[256];
    _Atomic int left;
    sched_oneshot *done;
};

struct once_future {
    sched_future base;
    struct once_all *all;
    struct once *o;
};

static int once_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct once_future *of = (struct once_future *)f;
    (void)cx;
    out->i = atomic_fetch_add(&of->o->polls, 1) + 1;
    if (atomic_fetch_sub(&of->all->left, 1) == 1)
        sched_oneshot_send(of->all->done, (sched_value){ .i = 1 });
    return 0;
}

static void once_drop(sched_future *f)
{
    free(f);
}

static const sched_future_ops once_ops = { once_poll, once_drop };

static sched_future *once_new(struct once_all *all, struct once *o)
{
    struct once_future *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    f->base.ops = &once_ops;
    f->all = all;
    f->o = o;
    return &f->base;
}

/* Every task is polled once: its runnable is run once, never twice.  The
 * handles keep the finished tasks alive, so that a second run finds a
 * finished task (the host then aborts: CRASH) rather than freed memory. */
void conf_test_nothing_is_run_twice(void)
{
    enum { N = 256 };
    SETUP(h, ex);
    static struct once_all all;
    sched_task *t[N];
    int i, once = 0;

    memset(&all, 0, sizeof all);
    atomic_store(&all.left, N);
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&all.done), 0);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, once_new(&all, &all.st[i]), &t[i]), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_oneshot_recv(all.done), NULL, NULL), 0);
    /* Give a backend that runs something again the time to do it. */
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 20000000), NULL, NULL), 0);
    for (i = 0; i < N; i++) {
        once += atomic_load(&all.st[i].polls) == 1;
        sched_task_free(t[i]);
    }
    CU_ASSERT_EQUAL(once, N);
    TEARDOWN(h, ex);
}

struct woken {
    sched_coro co;
    sched_host *h;
    int polls;
};

static int woken_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct woken *st = (struct woken *)f;
    st->polls++;
    SCHED_ASYNC_BEGIN(st);
    SCHED_TRY_AWAIT(st, sched_timer(st->h, 50000000), NULL);
    SCHED_RETURN(st, out, (sched_value){ .i = st->polls });
    SCHED_ASYNC_END(st);
}

static void woken_drop(sched_future *f)
{
    sched_coro *co = (sched_coro *)f;
    sched_future_drop(co->awaiting);
    co->awaiting = NULL;
}

/* A task awaiting one timer is woken once, when it is due: polled at the
 * start and at the wake (a third poll is allowed for a spurious wake).  A
 * backend whose schedule_after fires early makes the host re-arm, again
 * and again, and the task is polled many times. */
void conf_test_a_timer_wakes_its_task_once(void)
{
    static const sched_future_ops ops = { woken_poll, woken_drop };
    SETUP(h, ex);
    struct woken st;
    sched_task *t = NULL;
    sched_value v = { 0 };

    memset(&st, 0, sizeof st);
    st.co.base.ops = &ops;
    st.h = h;
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, &st.co.base, &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT(v.i >= 2 && v.i <= 3);
    TEARDOWN(h, ex);
}

/* A timer nobody awaits any more is taken back from the backend (ABI 1.1
 * cancel_after, or the host's own timer thread): three tasks each await
 * an hour, and are cancelled.  On a simulated backend no timer is left
 * pending and the virtual clock does not move to the hour; everywhere,
 * the cancelled tasks report cancellation at once. */
void conf_test_a_dropped_timer_is_taken_back(void)
{
    enum { N = 3 };
    SETUP(h, ex);
    sched_test *t = sched_as_test(h);
    sched_task *tasks[N];
    sched_value v;
    int i;

    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_timer(h, 3600ull * 1000000000ull), &tasks[i]), 0);
    /* Let every task poll its timer once, which arms it. */
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 1000000), NULL, NULL), 0);
    if (t) {
        sched_test_counts c;
        sched_test_pending_counts(t, &c);
        CU_ASSERT_EQUAL(c.timers, N);
    }
    for (i = 0; i < N; i++)
        sched_task_cancel(tasks[i]);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(tasks[i]), &v, NULL), SCHED_ECANCELED);
    if (t) {
        sched_test_counts c;
        uint64_t before = sched_host_now(h);
        sched_test_pending_counts(t, &c);
        CU_ASSERT_EQUAL(c.timers, 0);
        CU_ASSERT_EQUAL(sched_test_advance_clock_to_next_timer(t), 0);
        CU_ASSERT(sched_host_now(h) - before < 3600ull * 1000000000ull);
    }
    TEARDOWN(h, ex);
}
