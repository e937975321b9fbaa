/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_cancel.c - the conformance suite's tests
 * of how tasks end other than by finishing: cancel, a freed handle,
 * detach, and shutdown; and the documented codes for bad input.
 */
#include "config.h"

#include <stdlib.h>

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
