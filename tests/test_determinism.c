/* SPDX-License-Identifier: MIT */
/*
 * tests/test_determinism.c - the scenarios that keep a deterministic
 * scheduler honest, written as a user writes them: the public headers,
 * real config files, the installed backends.  Each runs on the test
 * backend and, where the model is shared, on cloudflare-sim.
 *
 *   - a clock move that makes a timer due runs nothing until a tick;
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

/* ---- config files ----------------------------------------------------------- */

static char conf_paths[8][64];
static int nconf;

static const char *conf(const char *text)
{
    char *path = conf_paths[nconf++];
    snprintf(path, sizeof conf_paths[0], "/tmp/sched-determinism-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return path;
}

static const char *conf_test, *conf_cfsim;

static int suite_init(void)
{
    conf_test = conf("backend = \"test\";\ntest: { seed = 7; };\n");
    conf_cfsim = conf("backend = \"cloudflare-sim\";\n");
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

/* ---- clock control ------------------------------------------------------------ */

/* Sleeps on the virtual clock, then counts itself done. */
struct sleeper {
    sched_coro co;
    sched_host *host;
    uint64_t ns;
    int *done;
    sched_value v;
};

static int sleeper_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct sleeper *s = (struct sleeper *)f;
    SCHED_ASYNC_BEGIN(s);
    SCHED_AWAIT(s, sched_timer(s->host, s->ns), &s->v);
    (*s->done)++;
    SCHED_RETURN(s, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(s);
}

static const sched_future_ops sleeper_ops = { sleeper_poll, sched_coro_drop_default };

static sched_future *sleeper(sched_host *host, uint64_t ns, int *done)
{
    struct sleeper *s = (struct sleeper *)sched_coro_new(sizeof *s, &sleeper_ops);
    s->host = host;
    s->ns = ns;
    s->done = done;
    return &s->co.base;
}

static void clock_move_runs_nothing_until_a_tick(const char *config)
{
    sched_host *host = open_host(config);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_test_counts c;
    int done = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, sleeper(host, 10 * MS, &done), NULL), 0);
    sched_test_run_until_parked(t);
    CU_ASSERT_EQUAL(done, 0);
    uint64_t start = sched_test_now(t);

    /* Not yet due: the clock moves, nothing becomes ready. */
    CU_ASSERT_EQUAL(sched_test_move_clock(t, 4 * MS), 0);
    CU_ASSERT_EQUAL(sched_test_now(t), start + 4 * MS);
    sched_test_pending_counts(t, &c);
    CU_ASSERT_EQUAL(c.timers, 1);
    CU_ASSERT_EQUAL(c.foreground + c.background, 0);

    /* Due: the timer fires into the run queue, and still nothing ran. */
    CU_ASSERT_EQUAL(sched_test_move_clock(t, 6 * MS), 1);
    CU_ASSERT_EQUAL(sched_test_now(t), start + 10 * MS);
    sched_test_pending_counts(t, &c);
    CU_ASSERT_EQUAL(c.timers, 0);
    CU_ASSERT_EQUAL(c.foreground + c.background, 1);
    CU_ASSERT_EQUAL(done, 0);
    CU_ASSERT(sched_test_has_pending_tasks(t));

    /* The test runs it when it chooses to. */
    CU_ASSERT(sched_test_run_until_parked(t) >= 1);
    CU_ASSERT_EQUAL(done, 1);
    CU_ASSERT(!sched_test_has_pending_tasks(t));
    CU_ASSERT_EQUAL(sched_test_now(t), start + 10 * MS);
    sched_executor_free(ex);
    sched_host_close(host);
}

static void test_clock_move_leaves_a_due_timer_unrun_until_a_tick(void)
{
    clock_move_runs_nothing_until_a_tick(conf_test);
}

static void test_clock_move_leaves_a_due_timer_unrun_until_a_tick_cloudflare_sim(void)
{
    clock_move_runs_nothing_until_a_tick(conf_cfsim);
}

/* Timers due within one move become ready in due order, and one armed by
 * the work they ready is set from the moved clock, not from its due time. */
static void test_clock_move_readies_every_due_timer_in_order(void)
{
    sched_host *host = open_host(conf("backend = \"test\";\ntest: { randomize = false; };\n"));
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    int done = 0;
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    sched_task *late, *early;
    CU_ASSERT_EQUAL(sched_spawn(ex, sleeper(host, 3 * MS, &done), &late), 0);
    CU_ASSERT_EQUAL(sched_spawn(ex, sleeper(host, 1 * MS, &done), &early), 0);
    sched_test_run_until_parked(t);
    CU_ASSERT_EQUAL(sched_test_move_clock(t, 5 * MS), 2);
    CU_ASSERT_EQUAL(done, 0);
    sched_test_run_until_parked(t);
    CU_ASSERT_EQUAL(done, 2);
    const sched_test_step *steps;
    size_t n = sched_test_history(t, &steps);
    /* The two timers' wake-ups, earliest first, then the two tasks. */
    CU_ASSERT_EQUAL_FATAL(n, 6);
    CU_ASSERT_STRING_EQUAL(steps[2].label, "timer");
    CU_ASSERT_STRING_EQUAL(steps[3].label, "timer");
    CU_ASSERT_EQUAL(steps[4].task_id, sched_task_id(early));
    CU_ASSERT_EQUAL(steps[5].task_id, sched_task_id(late));
    /* Nothing due: nothing made ready; no controls: nothing at all. */
    CU_ASSERT_EQUAL(sched_test_move_clock(t, 0), 0);
    CU_ASSERT_EQUAL(sched_test_move_clock(NULL, MS), 0);
    sched_task_free(late);
    sched_task_free(early);
    sched_executor_free(ex);
    sched_host_close(host);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("determinism", suite_init, suite_fini);
#define T(name) CU_add_test(s, #name, name)
    T(test_clock_move_leaves_a_due_timer_unrun_until_a_tick);
    T(test_clock_move_leaves_a_due_timer_unrun_until_a_tick_cloudflare_sim);
    T(test_clock_move_readies_every_due_timer_in_order);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
