/* SPDX-License-Identifier: MIT */
/*
 * tests/test_ownership.c - who owns what after each call that hands
 * something to the library: a function task's argument (released by its
 * drop function exactly when the function never ran, also when a
 * constructor or a spawn fails) and a failing function's code.  The
 * drop-exactly-once rule on every backend is in tests/conformance/.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <stdatomic.h>

#include "sched/sched.h"

static char config[64];

/* A host on the test backend, or NULL. */
static sched_host *open_host(void)
{
    sched_host *h = NULL;
    return sched_host_open(&h, config, NULL) == 0 ? h : NULL;
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
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
    CU_cleanup_registry();
    unlink(config);
    return failed ? 1 : 0;
}
