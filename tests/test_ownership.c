/* SPDX-License-Identifier: MIT */
/*
 * tests/test_ownership.c - who owns what after each call that hands
 * something to the library: a function task's argument (released by its
 * drop function exactly when the function never ran, also when a
 * constructor or a spawn fails), a failing function's code, and a
 * channel's values (released by its drop function when nobody received
 * them, never when a try_send was refused); and a failure's own message,
 * carried to the joiner, into sched_block's error and, when nobody can
 * join, into the log.  The drop-exactly-once rule
 * on every backend is in tests/conformance/.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <stdatomic.h>

#include "sched/sched.h"
#include "sched/test.h"

static char config[64];

/* A host on the test backend, or NULL. */
static sched_host *open_host(void)
{
    sched_host *h = NULL;
    return sched_host_open(&h, config, NULL) == 0 ? h : NULL;
}

/* Run everything runnable on the test backend, so that a spawned task has
 * gone as far as it can. */
static void settle(sched_host *h)
{
    sched_test_run_until_parked(sched_as_test(h));
}

static int drops, runs;

static void count_drop(void *arg)
{
    CU_ASSERT_PTR_EQUAL(arg, &drops);
    drops++;
}

static sched_value count_run(void *arg)
{
    (void)arg;
    runs++;
    return (sched_value){ .i = 5 };
}

static int fail_run(void *arg, sched_context *cx, sched_value *out)
{
    (void)out;
    CU_ASSERT_PTR_NOT_NULL(sched_context_host(cx));
    runs++;
    return (int)(intptr_t)arg;
}

static void test_constructors_without_a_function_release_the_argument(void)
{
    drops = 0;
    CU_ASSERT_PTR_NULL(sched_future_fn_with_drop(NULL, &drops, count_drop));
    CU_ASSERT_EQUAL(drops, 1);
    CU_ASSERT_PTR_NULL(sched_future_try_fn(NULL, &drops, count_drop));
    CU_ASSERT_EQUAL(drops, 2);
    /* No drop function: nothing to call, still NULL. */
    CU_ASSERT_PTR_NULL(sched_future_fn_with_drop(NULL, &drops, NULL));
    CU_ASSERT_EQUAL(drops, 2);
}

static void test_an_unspawned_function_future_dropped_releases_its_argument_once(void)
{
    drops = runs = 0;
    sched_future_drop(sched_future_fn_with_drop(count_run, &drops, count_drop));
    sched_future_drop(sched_future_try_fn(fail_run, &drops, count_drop));
    CU_ASSERT_EQUAL(drops, 2);
    CU_ASSERT_EQUAL(runs, 0);
}

static void test_a_refused_spawn_releases_the_argument_once(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    drops = runs = 0;
    CU_ASSERT_EQUAL(sched_executor_spawn_at(ex, sched_future_fn_with_drop(count_run, &drops, count_drop),
                                            NULL, (sched_priority)99, SCHED_HERE, NULL),
                    SCHED_EINVAL);
    CU_ASSERT_EQUAL(drops, 1);
    CU_ASSERT_EQUAL(runs, 0);
    sched_executor_free(ex);
    sched_host_close(h);
    CU_ASSERT_EQUAL(drops, 1);
}

static void test_a_failing_function_fails_its_task_with_its_code(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_task *t = NULL;
    sched_value v = { .i = -1 };
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    drops = runs = 0;
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_try_fn(fail_run, (void *)(intptr_t)SCHED_ETIMEDOUT,
                                                        NULL), &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, NULL), SCHED_ETIMEDOUT);
    /* 0 is success with the value the function stored. */
    CU_ASSERT_EQUAL(sched_block(ex, sched_future_try_fn(fail_run, (void *)0, NULL), &v, NULL), 0);
    /* A positive return is not a status: the task fails with EINVAL. */
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_try_fn(fail_run, (void *)(intptr_t)SCHED_PENDING,
                                                        NULL), &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, NULL), SCHED_EINVAL);
    CU_ASSERT_EQUAL(runs, 3);
    /* The old constructor is unchanged: borrowed argument, never released. */
    CU_ASSERT_EQUAL(sched_block(ex, sched_future_fn(count_run, &drops), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 5);
    sched_executor_free(ex);
    sched_host_close(h);
    CU_ASSERT_EQUAL(drops, 0);
}

/* A future that fails with SCHED_ETIMEDOUT of its own, counting drops. */
static int etimedout_drops;

static int etimedout_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    (void)f, (void)cx, (void)out;
    return SCHED_ETIMEDOUT;
}

static void etimedout_drop(sched_future *f)
{
    etimedout_drops++;
    free(f);
}

static const sched_future_ops etimedout_ops = { etimedout_poll, etimedout_drop };

static sched_future *etimedout_new(void)
{
    sched_future *f = malloc(sizeof *f);
    if (f)
        f->ops = &etimedout_ops;
    return f;
}

/* sched_block consumes its future, also one that fails with
 * SCHED_ETIMEDOUT itself: only the block's own deadline leaves it live. */
static void test_a_future_failing_with_etimedout_is_still_consumed_by_block(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_future *f;
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    etimedout_drops = 0;
    CU_ASSERT_EQUAL(sched_block(ex, etimedout_new(), NULL, NULL), SCHED_ETIMEDOUT);
    CU_ASSERT_EQUAL(etimedout_drops, 1);
    f = etimedout_new();
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 1000000000, NULL, NULL), SCHED_ETIMEDOUT);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(etimedout_drops, 2);
    sched_executor_free(ex);
    sched_host_close(h);
}

/* ---- channel values ------------------------------------------------------ */

/* What a channel's drop function released, in order. */
struct dropped {
    int n;
    int64_t v[16];
};

static void record_drop(sched_value v, void *userdata)
{
    struct dropped *d = userdata;
    if (d->n < 16)
        d->v[d->n] = v.i;
    d->n++;
}

static sched_value val(int64_t i)
{
    return (sched_value){ .i = i };
}

static void test_try_recv_takes_values_in_order_then_reports_empty_or_closed(void)
{
    sched_channel *ch = NULL;
    sched_value v = { 0 };
    CU_ASSERT_EQUAL_FATAL(sched_channel_new(4, &ch), 0);
    CU_ASSERT_EQUAL(sched_channel_try_recv(ch, &v), SCHED_EEMPTY);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, val(1)), 0);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, val(2)), 0);
    CU_ASSERT_EQUAL(sched_channel_try_recv(ch, &v), 0);
    CU_ASSERT_EQUAL(v.i, 1);
    sched_channel_close(ch);
    CU_ASSERT_EQUAL(sched_channel_try_recv(ch, &v), 0);     /* closed, not drained */
    CU_ASSERT_EQUAL(v.i, 2);
    CU_ASSERT_EQUAL(sched_channel_try_recv(ch, &v), SCHED_ECLOSED);
    CU_ASSERT_EQUAL(sched_channel_try_recv(ch, NULL), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_channel_try_recv(NULL, &v), SCHED_EINVAL);
    CU_ASSERT_STRING_EQUAL(sched_strerror(SCHED_EEMPTY), "nothing to take yet");
    sched_channel_free(ch);
}

/* A try_recv makes room: the oldest waiting sender is woken and sends. */
static void test_try_recv_gives_the_room_to_a_waiting_sender(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_channel *ch = NULL;
    sched_task *t = NULL;
    sched_value v = { 0 };
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_channel_new(1, &ch), 0);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, val(1)), 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_channel_send(ch, val(2)), &t), 0);
    settle(h);                      /* it waits for room */
    CU_ASSERT(!sched_task_is_finished(t));
    CU_ASSERT_EQUAL(sched_channel_try_recv(ch, &v), 0);
    CU_ASSERT_EQUAL(v.i, 1);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, NULL), 0);
    CU_ASSERT_EQUAL(sched_channel_try_recv(ch, &v), 0);
    CU_ASSERT_EQUAL(v.i, 2);
    sched_channel_free(ch);
    sched_executor_free(ex);
    sched_host_close(h);
}

static void test_a_refused_try_send_leaves_the_value_with_the_caller(void)
{
    struct dropped d = { 0 };
    sched_channel *ch = NULL;
    CU_ASSERT_EQUAL_FATAL(sched_channel_new_with_drop(1, record_drop, &d, &ch), 0);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, val(1)), 0);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, val(2)), SCHED_ELIMIT);
    sched_channel_close(ch);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, val(3)), SCHED_ECLOSED);
    CU_ASSERT_EQUAL(d.n, 0);
    sched_channel_free(ch);
    CU_ASSERT_EQUAL(d.n, 1);        /* only the value the channel held */
    CU_ASSERT_EQUAL(d.v[0], 1);
}

/* Close releases nothing; the last reference releases what is left, once,
 * oldest first, and nothing a receiver took. */
static void test_values_left_in_a_freed_channel_are_dropped_once(void)
{
    struct dropped d = { 0 };
    sched_channel *ch = NULL;
    sched_future *recv;
    sched_value v = { 0 };
    int i;
    CU_ASSERT_EQUAL_FATAL(sched_channel_new_with_drop(8, record_drop, &d, &ch), 0);
    for (i = 1; i <= 4; i++)
        CU_ASSERT_EQUAL(sched_channel_try_send(ch, val(i)), 0);
    CU_ASSERT_EQUAL(sched_channel_try_recv(ch, &v), 0);
    sched_channel_close(ch);
    CU_ASSERT_EQUAL(d.n, 0);
    recv = sched_channel_recv(ch);  /* a reference that outlives the free */
    sched_channel_free(ch);
    CU_ASSERT_EQUAL(d.n, 0);
    sched_future_drop(recv);
    CU_ASSERT_EQUAL_FATAL(d.n, 3);
    CU_ASSERT_EQUAL(d.v[0], 2);
    CU_ASSERT_EQUAL(d.v[1], 3);
    CU_ASSERT_EQUAL(d.v[2], 4);
    /* No drop function: nothing is called, nothing breaks. */
    CU_ASSERT_EQUAL_FATAL(sched_channel_new_with_drop(2, NULL, &d, &ch), 0);
    CU_ASSERT_EQUAL(sched_channel_try_send(ch, val(9)), 0);
    sched_channel_free(ch);
    CU_ASSERT_EQUAL(d.n, 3);
}

/* A send future owns its value until it sends: failed, dropped unpolled,
 * or cancelled while it waits for room, it releases it once; sent, the
 * channel has it. */
static void test_a_send_future_that_never_sends_drops_its_value_once(void)
{
    struct dropped d = { 0 };
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_channel *ch = NULL;
    sched_task *t = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_channel_new_with_drop(1, record_drop, &d, &ch), 0);

    sched_future_drop(sched_channel_send(ch, val(10)));            /* never polled */
    CU_ASSERT_EQUAL(d.n, 1);
    CU_ASSERT_EQUAL(sched_block(ex, sched_channel_send(ch, val(11)), NULL, NULL), 0);
    CU_ASSERT_EQUAL(d.n, 1);                                        /* sent: the channel's */
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_channel_send(ch, val(12)), &t), 0);
    settle(h);
    CU_ASSERT(!sched_task_is_finished(t));                          /* waiting for room */
    sched_task_cancel(t);
    CU_ASSERT_EQUAL(d.n, 2);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, NULL), SCHED_ECANCELED);
    sched_channel_close(ch);
    CU_ASSERT_EQUAL(sched_block(ex, sched_channel_send(ch, val(13)), NULL, NULL), SCHED_ECLOSED);
    CU_ASSERT_EQUAL(d.n, 3);
    sched_channel_free(ch);
    CU_ASSERT_EQUAL_FATAL(d.n, 4);
    CU_ASSERT_EQUAL(d.v[0], 10);
    CU_ASSERT_EQUAL(d.v[1], 12);
    CU_ASSERT_EQUAL(d.v[2], 13);
    CU_ASSERT_EQUAL(d.v[3], 11);
    sched_executor_free(ex);
    sched_host_close(h);
}

/* ---- failure messages ------------------------------------------------------ */

#define APP_EBADBLOCK (-1001)

static int fail_with_message(void *arg, sched_context *cx, sched_value *out)
{
    (void)out;
    return sched_context_fail(cx, APP_EBADBLOCK, "block %d: bad checksum", (int)(intptr_t)arg);
}

/* Records a message, then returns something else: the message goes. */
static int fail_otherwise(void *arg, sched_context *cx, sched_value *out)
{
    sched_context_fail(cx, APP_EBADBLOCK, "not this one");
    out->i = 1;
    return (int)(intptr_t)arg;
}

/* An async function that awaits a task and wraps its failure's message. */
struct wrapper {
    sched_coro co;
    sched_task *t;
    int wrap;
};

static int wrapper_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct wrapper *st = (struct wrapper *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_AWAIT(st, sched_task_join(st->t), out);
    if (st->co.rc < 0 && st->wrap)
        SCHED_FAIL(st, sched_context_fail(cx, st->co.rc, "compressing: %s",
                                          sched_context_fail_message(cx)));
    if (st->co.rc < 0)
        SCHED_FAIL(st, st->co.rc);
    SCHED_RETURN(st, out, *out);
    SCHED_ASYNC_END(st);
}

static const sched_future_ops wrapper_ops = { wrapper_poll, sched_coro_drop_default };

static sched_future *wrapper_new(sched_task *t, int wrap)
{
    struct wrapper *st = (struct wrapper *)sched_coro_new(sizeof *st, &wrapper_ops);
    if (st) {
        st->t = t;
        st->wrap = wrap;
    }
    return st ? &st->co.base : NULL;
}

static void test_a_failure_message_reaches_the_joiner_and_the_error(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_error *err = NULL;
    sched_task *t = NULL, *outer = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);

    /* Joined directly. */
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_try_fn(fail_with_message, (void *)3, NULL), &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, &err), APP_EBADBLOCK);
    CU_ASSERT_EQUAL(sched_error_code(err), APP_EBADBLOCK);
    CU_ASSERT_STRING_EQUAL(sched_error_message(err), "block 3: bad checksum");
    sched_error_free(err);

    /* Through a task that awaits it and passes the failure on. */
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_try_fn(fail_with_message, (void *)4, NULL), &t), 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, wrapper_new(t, 0), &outer), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(outer), NULL, &err), APP_EBADBLOCK);
    CU_ASSERT_STRING_EQUAL(sched_error_message(err), "block 4: bad checksum");
    sched_error_free(err);

    /* Wrapped in the awaiting task's own words. */
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_try_fn(fail_with_message, (void *)5, NULL), &t), 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, wrapper_new(t, 1), &outer), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(outer), NULL, &err), APP_EBADBLOCK);
    CU_ASSERT_STRING_EQUAL(sched_error_message(err), "compressing: block 5: bad checksum");
    sched_error_free(err);

    /* Blocked on without a task. */
    CU_ASSERT_EQUAL(sched_block(ex, sched_future_try_fn(fail_with_message, (void *)6, NULL), NULL, &err),
                    APP_EBADBLOCK);
    CU_ASSERT_STRING_EQUAL(sched_error_message(err), "block 6: bad checksum");
    sched_error_free(err);
    sched_executor_free(ex);
    sched_host_close(h);
}

/* The message belongs to the code it was recorded for: a poll that then
 * succeeds, or fails otherwise, carries none. */
static void test_a_message_is_kept_only_with_its_own_code(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_error *err = NULL;
    sched_task *t = NULL;
    sched_value v = { 0 };
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_future_try_fn(fail_otherwise, (void *)0, NULL), &v, &err), 0);
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_EQUAL(v.i, 1);
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_try_fn(fail_otherwise,
                                                        (void *)(intptr_t)SCHED_ECLOSED, NULL), &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, &err), SCHED_ECLOSED);
    CU_ASSERT_STRING_EQUAL(sched_error_message(err), "the future failed: closed");
    sched_error_free(err);
    /* Not a failure code: refused. */
    CU_ASSERT_EQUAL(sched_context_fail(NULL, 0, "fine"), SCHED_EINVAL);
    CU_ASSERT_EQUAL(sched_context_fail(NULL, APP_EBADBLOCK, "no context"), APP_EBADBLOCK);
    CU_ASSERT_PTR_NULL(sched_context_fail_message(NULL));
    sched_executor_free(ex);
    sched_host_close(h);
}

static int warnings;
static char last_warning[256];

static void capture_log(int level, const char *msg, void *userdata)
{
    (void)userdata;
    if (level != SCHED_LOG_WARN || !strstr(msg, "failed: block"))
        return;
    warnings++;
    snprintf(last_warning, sizeof last_warning, "%s", msg);
}

/* A failure nobody can join is logged, once; one that was joined is not. */
static void test_a_failure_nobody_joins_is_logged_once(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_task *t = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    sched_log_set_handler(capture_log, NULL);
    warnings = 0;

    /* Detached before it fails. */
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_future_try_fn(fail_with_message, (void *)7, NULL),
                                        "decoder", &t), 0);
    sched_task_detach(t);
    settle(h);
    CU_ASSERT_EQUAL(warnings, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_warning, "\"decoder\" spawned at "));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_warning, "test_ownership.c:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_warning, "failed: block 7: bad checksum"));

    /* Failed, then its handle freed unjoined. */
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_try_fn(fail_with_message, (void *)8, NULL), &t), 0);
    settle(h);
    CU_ASSERT_EQUAL(warnings, 1);
    sched_task_free(t);
    CU_ASSERT_EQUAL(warnings, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_warning, "failed: block 8: bad checksum"));

    /* Joined: the joiner has it, nothing is logged. */
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_try_fn(fail_with_message, (void *)9, NULL), &t), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t), NULL, NULL), APP_EBADBLOCK);
    CU_ASSERT_EQUAL(warnings, 2);
    sched_log_set_handler(NULL, NULL);
    sched_executor_free(ex);
    sched_host_close(h);
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;
    int fd;

    snprintf(config, sizeof config, "/tmp/sched-test-ownership-XXXXXX");
    fd = mkstemp(config);
    if (fd < 0 || write(fd, "backend = \"test\";\n", 18) != 18)
        return 1;
    close(fd);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("ownership", NULL, NULL);
    CU_add_test(s, "constructors without a function release the argument",
                test_constructors_without_a_function_release_the_argument);
    CU_add_test(s, "an unspawned function future dropped releases its argument once",
                test_an_unspawned_function_future_dropped_releases_its_argument_once);
    CU_add_test(s, "a refused spawn releases the argument once",
                test_a_refused_spawn_releases_the_argument_once);
    CU_add_test(s, "a failing function fails its task with its code",
                test_a_failing_function_fails_its_task_with_its_code);
    CU_add_test(s, "a future failing with ETIMEDOUT is still consumed by block",
                test_a_future_failing_with_etimedout_is_still_consumed_by_block);
    CU_add_test(s, "try_recv takes values in order, then reports empty or closed",
                test_try_recv_takes_values_in_order_then_reports_empty_or_closed);
    CU_add_test(s, "try_recv gives the room to a waiting sender",
                test_try_recv_gives_the_room_to_a_waiting_sender);
    CU_add_test(s, "a refused try_send leaves the value with the caller",
                test_a_refused_try_send_leaves_the_value_with_the_caller);
    CU_add_test(s, "values left in a freed channel are dropped once",
                test_values_left_in_a_freed_channel_are_dropped_once);
    CU_add_test(s, "a send future that never sends drops its value once",
                test_a_send_future_that_never_sends_drops_its_value_once);
    CU_add_test(s, "a failure message reaches the joiner and the error",
                test_a_failure_message_reaches_the_joiner_and_the_error);
    CU_add_test(s, "a message is kept only with its own code",
                test_a_message_is_kept_only_with_its_own_code);
    CU_add_test(s, "a failure nobody joins is logged once",
                test_a_failure_nobody_joins_is_logged_once);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
    CU_cleanup_registry();
    unlink(config);
    return failed ? 1 : 0;
}
