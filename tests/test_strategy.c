/* SPDX-License-Identifier: MIT */
/*
 * tests/test_strategy.c - the test backend's scheduling strategies
 * (sched-test(7), STRATEGIES), through the public API and real config
 * files.
 *
 * The pinned schedules prove that the default strategy makes the same
 * choices for the same seed as it always has (the hashes were taken
 * before the choice moved into plugins/test/strategy.c): a recorded
 * test's seed keeps reproducing the run it found.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <sched/sched.h>
#include <sched/test.h>

#define MS 1000000ull

static char conf_paths[8][64];
static int nconf;

/* Write a config file for the rest of the run; returns its path. */
static const char *conf(const char *text)
{
    char *path = conf_paths[nconf++];
    snprintf(path, sizeof conf_paths[0], "/tmp/sched-strategy-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return path;
}

static const char *conf_random, *conf_fifo;

static int suite_init(void)
{
    conf_random = conf("backend = \"test\";\ntest: { seed = 1; };\n");
    conf_fifo = conf("backend = \"test\";\ntest: { randomize = false; };\n");
    return 0;
}

static int suite_fini(void)
{
    for (int i = 0; i < nconf; i++)
        unlink(conf_paths[i]);
    return 0;
}

static sched_host *open_host(const char *path)
{
    sched_host *host = NULL;
    sched_error *err = NULL;
    int rc = sched_host_open(&host, path, &err);
    if (rc)
        fprintf(stderr, "sched_host_open: %s\n", sched_error_message(err));
    sched_error_free(err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return host;
}

/* ---- a workload that touches every kind of choice ------------------------ */

/* Yields, sleeps on the virtual clock, or takes a random delay, by turns. */
struct mixer {
    sched_coro co;
    sched_host *host;
    int id;
    int i;
    sched_value v;
};

static int mixer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct mixer *m = (struct mixer *)f;
    SCHED_ASYNC_BEGIN(m);
    for (m->i = 0; m->i < 4; m->i++) {
        /* No switch: SCHED_AWAIT's resume points are case labels. */
        if ((m->id + m->i) % 4 == 0)
            SCHED_AWAIT(m, sched_timer(m->host, (uint64_t)((m->id + m->i) % 3) * MS), &m->v);
        else if ((m->id + m->i) % 4 == 1)
            SCHED_AWAIT(m, sched_test_random_delay(sched_as_test(m->host)), &m->v);
        else
            SCHED_AWAIT(m, sched_yield_now(), &m->v);
    }
    SCHED_RETURN(m, out, (sched_value){ .i = m->id });
    SCHED_ASYNC_END(m);
}

static const sched_future_ops mixer_ops = { mixer_poll, sched_coro_drop_default };

static sched_future *mixer(sched_host *host, int id)
{
    struct mixer *m = (struct mixer *)sched_coro_new(sizeof *m, &mixer_ops);
    m->host = host;
    m->id = id;
    return &m->co.base;
}

static const char *const labels[] = { "io", "noise", "parse", "net" };

/*
 * Background tasks at every priority, one label deprioritized, tasks on
 * two foreground executors, and the main thread blocking with and without
 * a timeout (a woken waiter competes with the ready runnables, a timed
 * wait draws its budget).  Returns a hash of the history and of every
 * blocking call's result.
 */
static uint64_t run_mix(sched_host *host)
{
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_foreground_executor *fx[2];
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx[0]), 0);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx[1]), 0);
    sched_test_deprioritize(t, "noise");
    uint64_t h = 0;
    for (int round = 0; round < 3; round++) {
        sched_task *join = NULL;
        for (int i = 0; i < 24; i++) {
            int id = round * 24 + i;
            int rc = i % 3 == 2 ? sched_foreground_spawn_labeled(fx[i % 2], mixer(host, id),
                                                                 labels[i % 4], NULL)
                                : sched_executor_spawn_at(ex, mixer(host, id), labels[i % 4],
                                                          (sched_priority)(i % 4), SCHED_HERE,
                                                          i == 7 ? &join : NULL);
            CU_ASSERT_EQUAL(rc, 0);
        }
        sched_future *f = sched_task_join(join);
        sched_value v;
        sched_error *err = NULL;
        int rc = sched_block_with_timeout(ex, &f, 2 * MS, &v, &err);
        CU_ASSERT(rc == 0 || rc == SCHED_ETIMEDOUT);
        sched_error_free(err);
        h = h * 31 + (uint64_t)(rc + 100);
        if (f)
            CU_ASSERT_EQUAL(sched_block(ex, f, &v, NULL), 0);
        while (sched_test_run_until_parked(t) || sched_test_advance_clock_to_next_timer(t))
            ;
    }
    CU_ASSERT(!sched_test_has_pending_tasks(t));
    h = h * 31 + sched_test_history_hash(t);
    sched_foreground_executor_free(fx[1]);
    sched_foreground_executor_free(fx[0]);
    sched_executor_free(ex);
    return h;
}

/* One hash over the mix run at seeds 0 to 49. */
static uint64_t mix_over_seeds(const char *path)
{
    uint64_t h = 0;
    for (uint64_t seed = 0; seed < 50; seed++) {
        sched_host *host = open_host(path);
        sched_test *t = sched_as_test(host);
        if (sched_test_reseed(t, seed) != SCHED_ENOTSUP)
            CU_ASSERT_EQUAL(sched_test_reseed(t, seed), 0);
        h = h * 1000003 + run_mix(host);
        sched_host_close(host);
    }
    return h;
}

static void test_random_strategy_keeps_the_schedules_seeds_always_gave(void)
{
    uint64_t h = mix_over_seeds(conf_random);
    if (h != 4154041170131540300ull)
        printf("\nthe mix under random at seeds 0-49 hashes to %llu\n", (unsigned long long)h);
    CU_ASSERT_EQUAL(h, 4154041170131540300ull);
}

static void test_fifo_order_keeps_the_schedule_it_always_gave(void)
{
    uint64_t h = mix_over_seeds(conf_fifo);
    if (h != 1275055422805895061ull)
        printf("\nthe mix in FIFO order hashes to %llu\n", (unsigned long long)h);
    CU_ASSERT_EQUAL(h, 1275055422805895061ull);
}

#define T(fn) { #fn, fn }

int main(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        T(test_random_strategy_keeps_the_schedules_seeds_always_gave),
        T(test_fifo_order_keeps_the_schedule_it_always_gave),
    };
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("strategy", suite_init, suite_fini);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        CU_add_test(s, tests[i].name, tests[i].fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
