/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_cancel.c - the conformance suite's tests
 * of how tasks end other than by finishing: cancel, a freed handle,
 * detach, and shutdown; the documented codes for bad input; and what a
 * function task owns when it never runs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conformance_int.h"

/* ---- cancel and detach --------------------------------------------------- */

void conf_test_cancel_drops_future_once_and_join_reports_cancel(void)
{
    SETUP(h, ex);
    struct probe_stats ps = { 0 };
    sched_future *dropped = conf_probe_dropped(&ps);
    sched_task *t = NULL;
    sched_value v;
    int polls;

    CU_ASSERT_EQUAL(sched_spawn(ex, conf_probe_new(&ps, 1), &t), 0);
    /* Let it run once (or not at all: both are fine for cancel). */
    CU_ASSERT_EQUAL(sched_block(ex, sched_yield_now(), NULL, NULL), 0);
    sched_task_cancel(t);
    sched_task_cancel(t);
    CU_ASSERT(sched_task_is_finished(t));
    CU_ASSERT_EQUAL(sched_block(ex, dropped, NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    polls = atomic_load(&ps.polls);
    /* A wake after cancel polls nothing. */
    sched_waker_wake_by_ref(atomic_load(&ps.waker));
    CU_ASSERT_EQUAL(sched_block(ex, sched_yield_now(), NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&ps.polls), polls);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), SCHED_ECANCELED);
    sched_waker_drop(atomic_exchange(&ps.waker, NULL));
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    TEARDOWN(h, ex);
}

void conf_test_freeing_an_unfinished_handle_cancels(void)
{
    SETUP(h, ex);
    struct probe_stats ps = { 0 };
    sched_future *dropped = conf_probe_dropped(&ps);
    sched_task *t = NULL;
    CU_ASSERT_EQUAL(sched_spawn(ex, conf_probe_new(&ps, 0), &t), 0);
    sched_task_free(t);
    CU_ASSERT_EQUAL(sched_block(ex, dropped, NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
    TEARDOWN(h, ex);
}

void conf_test_pending_future_without_wake_is_never_polled_again(void)
{
    SETUP(h, ex);
    struct probe_stats ps = { 0 };
    sched_future *polled = conf_probe_polled(&ps);
    sched_task *t = NULL;
    CU_ASSERT_EQUAL(sched_spawn(ex, conf_probe_new(&ps, 0), &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, polled, NULL, NULL), 0);
    /* Time for a stray second poll to show (none may). */
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 20000000), NULL, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&ps.polls), 1);
    CU_ASSERT(!sched_task_is_finished(t));
    sched_task_free(t);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(atomic_load(&ps.drops), 1);
}

static sched_value send_value(void *arg)
{
    struct sender *s = arg;
    sched_oneshot_send(s->o, (sched_value){ .i = s->v });
    return (sched_value){ .i = 0 };
}

void conf_test_detached_task_runs_to_completion(void)
{
    SETUP(h, ex);
    struct sender s;
    sched_value v = { 0 };
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&s.o), 0);
    sched_future *recv = sched_oneshot_recv(s.o);
    sched_task *t = NULL;
    s.v = 99;
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(send_value, &s), &t), 0);
    sched_task_detach(t);
    CU_ASSERT_EQUAL(sched_block(ex, recv, &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 99);
    TEARDOWN(h, ex);
}

/* ---- shutdown and bad input ------------------------------------------------ */

void conf_test_shutdown_drops_every_pending_future_exactly_once(void)
{
    enum { N = 64 };
    SETUP(h, ex);
    struct probe_stats kept = { 0 }, unkept = { 0 };
    sched_channel *ch = NULL;
    sched_task *t = NULL;
    int i;

    CU_ASSERT_EQUAL_FATAL(sched_channel_new(1, &ch), 0);
    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(sched_spawn(ex, conf_probe_new(&kept, 1), NULL), 0);
        CU_ASSERT_EQUAL(sched_spawn(ex, conf_probe_new(&unkept, 0), &t), 0);
        sched_task_detach(t);
    }
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_timer(h, 3600ull * 1000000000ull), "hour", NULL), 0);
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_channel_recv(ch), "reader", NULL), 0);
    /* On a threaded backend most have run and are pending now; on a
     * simulated one they are still queued.  Both must be dropped. */
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 5000000), NULL, NULL), 0);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(atomic_load(&kept.drops), N);
    CU_ASSERT_EQUAL(atomic_load(&unkept.drops), N);
    CU_ASSERT(atomic_load(&kept.polls) <= N);
    CU_ASSERT(atomic_load(&unkept.polls) <= N);
    /* Wakers and channels the application still holds outlive the host. */
    sched_waker_wake(atomic_exchange(&kept.waker, NULL));
    sched_channel_free(ch);
}

/* A future whose drop spawns: run at shutdown, the spawn is refused. */
struct spawning_drop {
    sched_future base;
    sched_executor *ex;
    int *rc;
    struct probe_stats *st;
};

static int pending_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    (void)f, (void)cx, (void)out;
    return SCHED_PENDING;
}

static void spawning_drop(sched_future *f)
{
    struct spawning_drop *d = (struct spawning_drop *)f;
    *d->rc = sched_spawn(d->ex, conf_probe_new(d->st, 0), NULL);
    free(d);
}

static const sched_future_ops spawning_drop_ops = { pending_poll, spawning_drop };

void conf_test_spawn_during_shutdown_is_refused_and_dropped(void)
{
    SETUP(h, ex);
    struct probe_stats st = { 0 };
    struct spawning_drop *d = malloc(sizeof *d);
    int rc = 1;
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    d->base.ops = &spawning_drop_ops;
    d->ex = ex;
    d->rc = &rc;
    d->st = &st;
    CU_ASSERT_EQUAL(sched_spawn(ex, &d->base, NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 1000000), NULL, NULL), 0);
    /* The executor outlives the host here on purpose: the drop uses it
     * while the host closes. */
    sched_host_close(h);
    sched_executor_free(ex);
    CU_ASSERT_EQUAL(rc, SCHED_ECLOSED);
    CU_ASSERT_EQUAL(atomic_load(&st.drops), 1);
    CU_ASSERT_EQUAL(atomic_load(&st.polls), 0);
}

/* A future owning a channel that another pending task sends on. */
struct channel_owner {
    sched_future base;
    sched_channel *ch;
    int *drops;
};

static void channel_owner_drop(sched_future *f)
{
    struct channel_owner *o = (struct channel_owner *)f;
    sched_channel_free(o->ch);
    (*o->drops)++;
    free(o);
}

static const sched_future_ops channel_owner_ops = { pending_poll, channel_owner_drop };

/* At shutdown the owner is dropped first (it went pending last) and frees
 * the channel; the close wakes the sender, which cannot be queued any more
 * and is dropped on the spot, taking the channel's lock: the close must not
 * be holding it. */
void conf_test_shutdown_closing_a_channel_in_a_drop_wakes_its_senders(void)
{
    SETUP(h, ex);
    sched_channel *ch = NULL;
    struct channel_owner *o = malloc(sizeof *o);
    int drops = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_EQUAL_FATAL(sched_channel_new(1, &ch), 0);
    CU_ASSERT_EQUAL_FATAL(sched_channel_try_send(ch, (sched_value){ .i = 1 }), 0);
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_channel_send(ch, (sched_value){ .i = 2 }),
                                        "sender", NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 5000000), NULL, NULL), 0);
    o->base.ops = &channel_owner_ops;
    o->ch = ch;
    o->drops = &drops;
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, &o->base, "owner", NULL), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 5000000), NULL, NULL), 0);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(drops, 1);
}

void conf_test_bad_input_gets_documented_codes(void)
{
    SETUP(h, ex);
    sched_task *t = (sched_task *)&t;
    sched_executor *none = (sched_executor *)&none;
    sched_foreground_executor *fnone = (sched_foreground_executor *)&fnone;
    sched_channel *ch = (sched_channel *)&ch;
    sched_future *f = NULL;
    sched_value v = { 0 };

    CU_ASSERT_EQUAL(sched_spawn(NULL, sched_future_fn(conf_add_one, NULL), &t), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(sched_spawn(ex, NULL, &t), SCHED_ENOMEM);
    CU_ASSERT_EQUAL(sched_executor_new(NULL, &none), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(none);
    CU_ASSERT_EQUAL(sched_foreground_executor_new(NULL, &fnone), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_block(NULL, sched_future_ready(v), &v, NULL), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_block(ex, NULL, &v, NULL), SCHED_ENOMEM);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(NULL), &v, NULL), SCHED_ENOMEM);
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, NULL, 1, &v, NULL), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 1, &v, NULL), SCHED_ENOMEM);
    CU_ASSERT_EQUAL(sched_channel_new(0, &ch), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(ch);
    CU_ASSERT_EQUAL(sched_channel_try_send(NULL, v), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_oneshot_send(NULL, v), SCHED_EINVAL);
    CU_ASSERT_PTR_NULL(sched_future_fn(NULL, NULL));
    CU_ASSERT_PTR_NULL(sched_coro_new(1, &conf_combine_ops));
    CU_ASSERT_EQUAL(sched_task_id(NULL), 0);
    CU_ASSERT(sched_task_is_finished(NULL));
    sched_task_cancel(NULL);
    sched_task_detach(NULL);
    sched_task_free(NULL);
    sched_executor_free(NULL);
    sched_foreground_executor_free(NULL);
    sched_future_drop(NULL);
    sched_waker_wake(NULL);
    CU_ASSERT_EQUAL(sched_future_poll(NULL, NULL, &v), SCHED_ENOMEM);
    TEARDOWN(h, ex);
}

/* ---- a function's argument: released exactly once, never after a run ------- */

/* One argument handed to a function task, counting what became of it.
 * Every item settles once (ran or dropped); the last to settle sends on
 * tally->all, which the tests block on instead of on the clock. */
struct owned_tally {
    _Atomic int settled;
    int n;
    sched_oneshot *all;
};

struct owned_item {
    struct owned_tally *tally;
    _Atomic int ran, dropped;
};

static void owned_settle(struct owned_item *it)
{
    if (atomic_fetch_add(&it->tally->settled, 1) + 1 == it->tally->n && it->tally->all)
        sched_oneshot_send(it->tally->all, (sched_value){ .u = 1 });
}

static sched_value owned_run(void *arg)
{
    struct owned_item *it = arg;
    atomic_fetch_add(&it->ran, 1);
    owned_settle(it);
    return (sched_value){ .i = 7 };
}

/* The failing kind: SCHED_ELIMIT, a code nothing else in these tests
 * produces. */
static int owned_try_run(void *arg, sched_context *cx, sched_value *out)
{
    (void)cx, (void)out;
    owned_run(arg);
    return SCHED_ELIMIT;
}

static void owned_drop(void *arg)
{
    struct owned_item *it = arg;
    atomic_fetch_add(&it->dropped, 1);
    owned_settle(it);
}

/* A function future owning items[i]: the plain kind for even i, the
 * failing kind for odd i. */
static sched_future *owned_future(struct owned_item *items, int i)
{
    if (i % 2)
        return sched_future_try_fn(owned_try_run, &items[i], owned_drop);
    return sched_future_fn_with_drop(owned_run, &items[i], owned_drop);
}

/* A future ready once all n items have settled. */
static sched_future *owned_start(struct owned_tally *tally, struct owned_item *items, int n)
{
    int i;
    tally->n = n;
    for (i = 0; i < n; i++)
        items[i].tally = tally;
    if (sched_oneshot_new(&tally->all) != 0)
        return NULL;
    return sched_oneshot_recv(tally->all);
}

/* Block (on the main thread, through fx when given) until fut is ready,
 * or fail with SCHED_ETIMEDOUT once 30 s of the host's clock have passed:
 * a drop that never comes fails the test instead of hanging it. */
static int owned_wait(sched_host *h, sched_executor *ex, sched_foreground_executor *fx,
                      sched_future *fut)
{
    size_t winner = 0;
    sched_future *pair[2] = { fut, sched_timer(h, 30ull * 1000000000ull) };
    sched_future *any = sched_any(pair, 2, &winner);
    int rc = fx ? sched_foreground_block(fx, any, NULL, NULL) : sched_block(ex, any, NULL, NULL);
    return rc == 0 && winner == 1 ? SCHED_ETIMEDOUT : rc;
}

/* Items that did not settle exactly once; *dropped counts the drops. */
static int owned_unsettled(struct owned_item *items, int n, int *dropped)
{
    int i, bad = 0;
    *dropped = 0;
    for (i = 0; i < n; i++) {
        int r = atomic_load(&items[i].ran), d = atomic_load(&items[i].dropped);
        if (r + d != 1)
            bad++;
        *dropped += d;
    }
    return bad;
}

/* Cancelled before it could run, a function task's argument is dropped
 * once.  A queued foreground task cannot have run (the main thread did
 * not block yet); a background one races its worker on a threaded
 * backend, so each item must have either run or been dropped, never both
 * or neither.  A simulated backend runs nothing before the block: there
 * every one is dropped. */
void conf_test_cancelled_function_task_drops_its_argument_once(void)
{
    enum { N = 64 };
    SETUP(h, ex);
    sched_foreground_executor *fx = NULL;
    struct owned_tally fg = { 0 }, bg = { 0 };
    struct owned_item fitem[1] = { { 0 } }, items[N];
    sched_future *fg_done, *bg_done;
    sched_task *t[N];
    int i, dropped;

    memset(items, 0, sizeof items);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    fg_done = owned_start(&fg, fitem, 1);
    bg_done = owned_start(&bg, items, N);
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, owned_future(fitem, 0), &t[0]), 0);
    sched_task_cancel(t[0]);
    CU_ASSERT_EQUAL(sched_foreground_block(fx, sched_task_join(t[0]), NULL, NULL), SCHED_ECANCELED);
    CU_ASSERT_EQUAL(owned_wait(h, ex, fx, fg_done), 0);
    CU_ASSERT_EQUAL(atomic_load(&fitem[0].dropped), 1);
    CU_ASSERT_EQUAL(atomic_load(&fitem[0].ran), 0);

    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(sched_spawn(ex, owned_future(items, i), &t[i]), 0);
        sched_task_cancel(t[i]);
    }
    CU_ASSERT_EQUAL(owned_wait(h, ex, NULL, bg_done), 0);
    for (i = 0; i < N; i++)
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t[i]), NULL, NULL), SCHED_ECANCELED);
    CU_ASSERT_EQUAL(owned_unsettled(items, N, &dropped), 0);
    if (conf_simulated(h))
        CU_ASSERT_EQUAL(dropped, N);
    sched_foreground_executor_free(fx);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(owned_unsettled(fitem, 1, &dropped), 0);
    CU_ASSERT_EQUAL(owned_unsettled(items, N, &dropped), 0);
}

/* Detached, or with a handle kept past the close, and still queued when
 * the host closes: the argument is dropped then, once.  The foreground
 * ones cannot have run (the main thread never blocked); the background
 * ones ran or were dropped, each exactly once (all dropped on a
 * simulated backend, where nothing ran). */
void conf_test_function_task_queued_at_close_drops_its_argument_once(void)
{
    enum { N = 64 };
    SETUP(h, ex);
    sched_foreground_executor *fx = NULL;
    struct owned_tally fg = { 0 }, bg = { 0 };
    struct owned_item fitems[2], items[N];
    sched_task *kept_fg = NULL, *kept_bg = NULL, *t = NULL;
    int i, dropped, simulated = conf_simulated(h);

    memset(fitems, 0, sizeof fitems);
    memset(items, 0, sizeof items);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    sched_future_drop(owned_start(&fg, fitems, 2));
    sched_future_drop(owned_start(&bg, items, N));
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, owned_future(fitems, 0), &t), 0);
    sched_task_detach(t);
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, owned_future(fitems, 1), &kept_fg), 0);
    for (i = 0; i < N - 1; i++) {
        CU_ASSERT_EQUAL(sched_spawn(ex, owned_future(items, i), &t), 0);
        sched_task_detach(t);
    }
    CU_ASSERT_EQUAL(sched_spawn(ex, owned_future(items, N - 1), &kept_bg), 0);
    sched_foreground_executor_free(fx);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(owned_unsettled(fitems, 2, &dropped), 0);
    CU_ASSERT_EQUAL(dropped, 2);
    CU_ASSERT_EQUAL(owned_unsettled(items, N, &dropped), 0);
    if (simulated)
        CU_ASSERT_EQUAL(dropped, N);
    /* Handles the application still holds outlive the host. */
    CU_ASSERT(sched_task_is_finished(kept_fg));
    sched_task_free(kept_fg);
    sched_task_free(kept_bg);
    CU_ASSERT_EQUAL(owned_unsettled(items, N, &dropped), 0);
}

/* A function that ran owns its argument: the drop is never called, not
 * when the task finishes, nor when it fails, nor at close; nor for a
 * future blocked on directly, without a task. */
void conf_test_function_task_that_ran_never_drops_its_argument(void)
{
    enum { N = 8 };
    SETUP(h, ex);
    sched_foreground_executor *fx = NULL;
    struct owned_tally tally = { 0 };
    struct owned_item items[N];
    sched_future *all;
    sched_task *t = NULL;
    sched_value v = { 0 };
    int i, dropped;

    memset(items, 0, sizeof items);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    all = owned_start(&tally, items, N);
    for (i = 0; i < 2; i++) {           /* joined: a value, then a failure */
        CU_ASSERT_EQUAL(sched_spawn(ex, owned_future(items, i), &t), 0);
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), &v, NULL), i ? SCHED_ELIMIT : 0);
        if (i == 0)
            CU_ASSERT_EQUAL(v.i, 7);
    }
    for (i = 2; i < 4; i++) {           /* foreground, joined */
        CU_ASSERT_EQUAL(sched_foreground_spawn(fx, owned_future(items, i), &t), 0);
        CU_ASSERT_EQUAL(sched_foreground_block(fx, sched_task_join(t), NULL, NULL),
                        i % 2 ? SCHED_ELIMIT : 0);
    }
    for (i = 4; i < 6; i++)             /* no task at all */
        CU_ASSERT_EQUAL(sched_block(ex, owned_future(items, i), NULL, NULL), i % 2 ? SCHED_ELIMIT : 0);
    for (i = 6; i < N; i++)             /* detached: nobody joins */
        CU_ASSERT_EQUAL(sched_spawn(ex, owned_future(items, i), NULL), 0);
    CU_ASSERT_EQUAL(owned_wait(h, ex, NULL, all), 0);
    sched_foreground_executor_free(fx);
    TEARDOWN(h, ex);
    CU_ASSERT_EQUAL(owned_unsettled(items, N, &dropped), 0);
    CU_ASSERT_EQUAL(dropped, 0);
}
