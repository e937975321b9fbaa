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

#include "tmpdir.h"

#include <sched/sched.h>
#include <sched/test.h>

#include "tb_conf.h"

#include "planted_bugs.h"

#define MS 1000000ull

static const char *conf_random, *conf_fifo, *conf_pct_d1, *conf_pct_d3;
/* By strategy: random, fifo, pct. */
static const char *conf_by[3];
static const char *const strategy_names[3] = { "random", "fifo", "pct" };

/* Where the sweeps' failing seeds leave their replay files. */
static char replay_dir[] = "/tmp/sched-strategy-XXXXXX";

static int suite_init(void)
{
    if (!test_mkdtemp(replay_dir))
        return 1;
    setenv("SCHED_REPLAY_DIR", replay_dir, 1);
    conf_random = conf("backend = \"test\";\ntest: { seed = 1; };\n");
    conf_fifo = conf("backend = \"test\";\ntest: { randomize = false; };\n");
    conf_by[0] = conf("backend = \"test\";\ntest: { strategy = \"random\"; };\n");
    conf_by[1] = conf("backend = \"test\";\ntest: { strategy = \"fifo\"; };\n");
    conf_by[2] = conf("backend = \"test\";\ntest: { strategy = \"pct\"; pct_steps = 60; };\n");
    conf_pct_d1 = conf("backend = \"test\";\ntest: { strategy = \"pct\"; pct_depth = 1; };\n");
    conf_pct_d3 = conf("backend = \"test\";\ntest: { strategy = \"pct\"; pct_depth = 3;"
                       " pct_steps = 40; };\n");
    return 0;
}

static int suite_fini(void)
{
    conf_unlink_all();
    return test_rmdir(replay_dir) == 0 ? 0 : 1;
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
    /* strategy = "fifo" is the same schedule as randomize = false, and
     * so is SCHED_STRATEGY=fifo over a config that says nothing. */
    CU_ASSERT_EQUAL(mix_over_seeds(conf_by[1]), 1275055422805895061ull);
    setenv("SCHED_STRATEGY", "fifo", 1);
    CU_ASSERT_EQUAL(mix_over_seeds(conf_random), 1275055422805895061ull);
    unsetenv("SCHED_STRATEGY");
    CU_ASSERT_EQUAL(mix_over_seeds(conf_by[0]), 4154041170131540300ull);
}

/* ---- tasks that log their steps ------------------------------------------- */

static int logv[4096];
static size_t nlog;

/* Logs its id at every step, yielding between steps. */
struct logger {
    sched_coro co;
    int id, steps, i;
    sched_value v;
};

static int logger_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct logger *l = (struct logger *)f;
    SCHED_ASYNC_BEGIN(l);
    for (l->i = 0; l->i < l->steps; l->i++) {
        if (nlog < sizeof logv / sizeof logv[0])
            logv[nlog++] = l->id;
        if (l->i + 1 < l->steps)
            SCHED_AWAIT(l, sched_yield_now(), &l->v);
    }
    SCHED_RETURN(l, out, (sched_value){ .i = l->id });
    SCHED_ASYNC_END(l);
}

static const sched_future_ops logger_ops = { logger_poll, sched_coro_drop_default };

static sched_future *logger(int id, int steps)
{
    struct logger *l = (struct logger *)sched_coro_new(sizeof *l, &logger_ops);
    l->id = id;
    l->steps = steps;
    return &l->co.base;
}

static void run_to_end(sched_host *host)
{
    sched_test *t = sched_as_test(host);
    while (sched_test_run_until_parked(t) || sched_test_advance_clock_to_next_timer(t))
        ;
}

static sched_host *open_seeded(const char *path, uint64_t seed)
{
    sched_host *host = open_host(path);
    CU_ASSERT_EQUAL(sched_test_reseed(sched_as_test(host), seed), 0);
    nlog = 0;
    return host;
}

/* ---- fifo ------------------------------------------------------------------ */

/* Tasks 0-9: background at every priority, and foreground on two
 * executors, 3 steps each; task 10 deprioritized, spawned first. */
static void spawn_round_robin(sched_host *host, sched_executor *ex, sched_foreground_executor *fx[2])
{
    sched_test_deprioritize(sched_as_test(host), "later");
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, logger(10, 3), "later", NULL), 0);
    for (int id = 0; id < 10; id++) {
        int rc = id % 3 == 1 ? sched_foreground_spawn(fx[id % 2], logger(id, 3), NULL)
                             : sched_executor_spawn_at(ex, logger(id, 3), NULL,
                                                       (sched_priority)(id % 4), SCHED_HERE, NULL);
        CU_ASSERT_EQUAL(rc, 0);
    }
}

static void test_fifo_strategy_runs_everything_in_schedule_order(void)
{
    for (uint64_t seed = 0; seed < 5; seed++) {
        sched_host *host = open_seeded(conf_by[1], seed);
        sched_executor *ex;
        sched_foreground_executor *fx[2];
        CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
        CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx[0]), 0);
        CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx[1]), 0);
        spawn_round_robin(host, ex, fx);
        run_to_end(host);
        /* Round robin in spawn order whatever the priority, executor or
         * seed; the deprioritized task only once nothing else is left. */
        CU_ASSERT_EQUAL(nlog, 33);
        for (size_t i = 0; i < 30 && i < nlog; i++)
            CU_ASSERT_EQUAL(logv[i], (int)(i % 10));
        for (size_t i = 30; i < nlog; i++)
            CU_ASSERT_EQUAL(logv[i], 10);
        sched_foreground_executor_free(fx[1]);
        sched_foreground_executor_free(fx[0]);
        sched_executor_free(ex);
        sched_host_close(host);
    }
}

/* ---- what every strategy keeps ---------------------------------------------- */

static void test_every_strategy_keeps_foreground_order_and_runs_deprioritized_last(void)
{
    for (int s = 0; s < 3; s++) {
        for (uint64_t seed = 0; seed < 30; seed++) {
            sched_host *host = open_seeded(conf_by[s], seed);
            sched_executor *ex;
            sched_foreground_executor *fx[2];
            CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
            CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx[0]), 0);
            CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx[1]), 0);
            spawn_round_robin(host, ex, fx);
            run_to_end(host);
            CU_ASSERT_EQUAL(nlog, 33);
            /* Each foreground executor's tasks (1, 7 on one; 4 on the
             * other) start in spawn order; task 10 runs after every other. */
            int first1 = -1, first7 = -1, last_other = -1, first10 = -1;
            for (size_t i = 0; i < nlog; i++) {
                if (logv[i] == 1 && first1 < 0)
                    first1 = (int)i;
                if (logv[i] == 7 && first7 < 0)
                    first7 = (int)i;
                if (logv[i] == 10 && first10 < 0)
                    first10 = (int)i;
                if (logv[i] != 10)
                    last_other = (int)i;
            }
            if (first1 > first7 || first10 < last_other)
                printf("\n%s, seed %llu: foreground or deprioritized order broken\n",
                       strategy_names[s], (unsigned long long)seed);
            CU_ASSERT(first1 < first7);
            CU_ASSERT(first10 > last_other);
            sched_foreground_executor_free(fx[1]);
            sched_foreground_executor_free(fx[0]);
            sched_executor_free(ex);
            sched_host_close(host);
        }
    }
}

/* One low and one realtime task of one step each: how often does the
 * realtime one run first, over 450 seeds? */
static int realtime_first(const char *path)
{
    int n = 0;
    for (uint64_t seed = 0; seed < 450; seed++) {
        sched_host *host = open_seeded(path, seed);
        sched_executor *ex;
        CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
        CU_ASSERT_EQUAL(sched_spawn_priority(ex, logger(0, 1), SCHED_PRIORITY_LOW, NULL), 0);
        CU_ASSERT_EQUAL(sched_spawn_priority(ex, logger(1, 1), SCHED_PRIORITY_REALTIME, NULL), 0);
        run_to_end(host);
        CU_ASSERT_EQUAL(nlog, 2);
        n += logv[0] == 1;
        sched_executor_free(ex);
        sched_host_close(host);
    }
    return n;
}

static void test_priorities_weigh_the_same_under_random_and_pct_and_not_in_fifo(void)
{
    /* Weights 8 and 1: the realtime task goes first 8 times in 9, about
     * 400 of 450; both strategies draw it from the seed. */
    int by_random = realtime_first(conf_by[0]), by_pct = realtime_first(conf_by[2]);
    CU_ASSERT(by_random >= 370 && by_random <= 430);
    CU_ASSERT(by_pct >= 370 && by_pct <= 430);
    CU_ASSERT_EQUAL(realtime_first(conf_by[1]), 0);
}

/* ---- pct ------------------------------------------------------------------- */

/* Preemptions in the log: a switch away from a task with steps left. */
static int preemptions(const int *steps_left_init, int ntasks)
{
    int left[16], n = 0;
    for (int i = 0; i < ntasks; i++)
        left[i] = steps_left_init[i];
    for (size_t i = 0; i < nlog; i++) {
        left[logv[i]]--;
        if (i + 1 < nlog && logv[i + 1] != logv[i] && left[logv[i]] > 0)
            n++;
    }
    return n;
}

static void test_pct_preempts_a_ready_task_at_most_depth_minus_one_times(void)
{
    const int steps[6] = { 5, 3, 7, 4, 6, 2 };
    int most[2] = { 0, 0 };
    for (int d = 0; d < 2; d++) {
        for (uint64_t seed = 0; seed < 60; seed++) {
            sched_host *host = open_seeded(d == 0 ? conf_pct_d1 : conf_pct_d3, seed);
            sched_executor *ex;
            CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
            for (int id = 0; id < 6; id++)
                CU_ASSERT_EQUAL(sched_spawn_priority(ex, logger(id, steps[id]),
                                                     (sched_priority)(id % 4), NULL), 0);
            run_to_end(host);
            CU_ASSERT_EQUAL(nlog, 27);
            int p = preemptions(steps, 6);
            CU_ASSERT(p <= (d == 0 ? 0 : 2));
            if (p > most[d])
                most[d] = p;
            sched_executor_free(ex);
            sched_host_close(host);
        }
    }
    /* Depth 3 does use its two change points (27 choices, k = 40). */
    CU_ASSERT_EQUAL(most[1], 2);
}

/* ---- timed waits under every strategy ----------------------------------- */

static void test_every_strategy_draws_timed_waits_from_the_seed(void)
{
    const char *c[3];
    c[0] = conf("backend = \"test\";\ntest: { strategy = \"random\"; timeout_ticks_max = 20; };\n");
    c[1] = conf("backend = \"test\";\ntest: { strategy = \"fifo\"; timeout_ticks_max = 20; };\n");
    c[2] = conf("backend = \"test\";\ntest: { strategy = \"pct\"; timeout_ticks_max = 20; };\n");
    for (int s = 0; s < 3; s++) {
        int outcome[2] = { 0, 0 };
        for (uint64_t seed = 0; seed < 40; seed++) {
            sched_host *host = open_seeded(c[s], seed);
            sched_executor *ex;
            sched_task *task;
            CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
            CU_ASSERT_EQUAL(sched_spawn(ex, logger(0, 10), &task), 0);
            sched_future *f = sched_task_join(task);
            sched_value v;
            int rc = sched_block_with_timeout(ex, &f, 1000 * MS, &v, NULL);
            CU_ASSERT(rc == 0 || rc == SCHED_ETIMEDOUT);
            outcome[rc == 0]++;
            sched_future_drop(f);
            run_to_end(host);
            sched_executor_free(ex);
            sched_host_close(host);
        }
        /* A budget of 0 to 20 steps for a task of 10: both happen. */
        CU_ASSERT(outcome[0] > 0 && outcome[1] > 0);
    }
}

/* ---- the planted race --------------------------------------------------- */

static char *const race_argv[] = { "./test_strategy", "planted race", NULL };
static char prog[4096];         /* the program word of a printed command */

/* The sweep's first failing seed from SCHED_SEED=0 on, or -1. */
static long long first_failing(const char *path, struct planted *p, int iterations)
{
    char buf[32];
    sched_error *err = NULL;
    snprintf(buf, sizeof buf, "%d", iterations);
    setenv("SCHED_SEED", "0", 1);
    setenv("SCHED_ITERATIONS", buf, 1);
    int rc = sched_test_run_seeds(path, race_argv, planted_run, p, &err);
    unsigned long long failing = 0;
    long long out = -1;
    if (rc == 1 && sscanf(sched_error_message(err), "failing seed: %llu", &failing) == 1)
        out = (long long)failing;
    CU_ASSERT(rc == 0 || out >= 0);
    sched_error_free(err);
    unsetenv("SCHED_SEED");
    unsetenv("SCHED_ITERATIONS");
    return out;
}

static void test_pct_finds_a_depth_two_race_sooner_than_random_and_fifo_never(void)
{
    /* Two tasks and 4 noise tasks of 8 steps: about 47 choices a run.
     * PCT's bound for depth 2, n k = 6 * 60 runs, is an expectation; the
     * sweep is deterministic, so its result is exact. */
    struct planted p = { .depth = 2, .window = 12, .noise = 4, .noise_steps = 8 };
    long long pct = first_failing(conf_by[2], &p, 360);
    CU_ASSERT(pct >= 0);
    /* The random walk needs A to win about 12 draws in a row against a
     * ready B; FIFO order never lets it. */
    long long rnd = first_failing(conf_by[0], &p, 2000);
    CU_ASSERT(rnd < 0 || rnd > pct);
    CU_ASSERT_EQUAL(first_failing(conf_by[1], &p, 360), -1);

    /* The failing seed replays, and with the strategy from the
     * environment the command names it. */
    if (pct < 0)
        return;
    char seed[32], want[4608], file[128];
    snprintf(seed, sizeof seed, "%lld", pct);
    setenv("SCHED_SEED", seed, 1);
    setenv("SCHED_ITERATIONS", "1", 1);
    setenv("SCHED_STRATEGY", "pct", 1);
    setenv("SCHED_PCT_STEPS", "60", 1);
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, race_argv, planted_run, &p, &err), 1);
    snprintf(want, sizeof want, " SCHED_STRATEGY=pct SCHED_PCT_STEPS=60 SCHED_SEED=%lld "
             "SCHED_ITERATIONS=1 %s 'planted race'", pct,
             test_program_word("./test_strategy", prog, sizeof prog));
    const char *msg = err ? sched_error_message(err) : "";
    /* The seed's command ends its line; the replay file's lines follow. */
    const char *cmd = strstr(msg, want);
    CU_ASSERT(cmd != NULL && cmd[strlen(want)] == '\n');
    sched_error_free(err);
    snprintf(file, sizeof file, "%s/test_strategy-seed%lld.replay", replay_dir, pct);
    CU_ASSERT_EQUAL(access(file, R_OK), 0);
    unsetenv("SCHED_STRATEGY");
    unsetenv("SCHED_PCT_STEPS");
    unsetenv("SCHED_SEED");
    unsetenv("SCHED_ITERATIONS");
}

/* The depth-3 bug: about 72 choices a run. */
static struct planted depth3 = { .depth = 3, .window = 12, .noise = 4, .noise_steps = 8 };

static void test_pct_learns_k_and_finds_a_depth_three_race_the_fixed_default_misses(void)
{
    /* k = 1000 against a 72-step run needs two change points each in
     * the right place, about 1 in 1000 each; the learned k (the longest
     * run so far) places them among the steps the run has.  The sweep
     * is deterministic, so the counts are exact. */
    const char *learned = conf("backend = \"test\";\ntest: { strategy = \"pct\"; };\n");
    const char *fixed = conf("backend = \"test\";\ntest: { strategy = \"pct\"; "
                             "pct_steps = 1000; };\n");
    long long seed = first_failing(learned, &depth3, 1000);
    CU_ASSERT(seed >= 1);
    printf(" [learned k: first failing seed %lld of 1000] ", seed);
    CU_ASSERT_EQUAL(first_failing(fixed, &depth3, 1000), -1);
    if (seed < 1)
        return;

    /* The failing seed's command names the k it ran with, and pasted
     * (its variables set) it fails again on that seed alone. */
    char want[128], k[32] = "";
    setenv("SCHED_SEED", "0", 1);
    setenv("SCHED_ITERATIONS", "1000", 1);
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_test_run_seeds(learned, race_argv, planted_run, &depth3, &err), 1);
    const char *msg = err ? sched_error_message(err) : "";
    const char *at = strstr(msg, "replay with: ");
    at = at ? strstr(at, " SCHED_PCT_STEPS=") : NULL;
    CU_ASSERT_FATAL(at != NULL);
    CU_ASSERT_EQUAL(sscanf(at, " SCHED_PCT_STEPS=%31[0-9] ", k), 1);
    /* The longest of the runs before it: about a run's length. */
    CU_ASSERT(atoi(k) >= 60 && atoi(k) < 200);
    snprintf(want, sizeof want, "SCHED_PCT_STEPS=%s SCHED_SEED=%lld SCHED_ITERATIONS=1 ", k, seed);
    CU_ASSERT(strstr(at, want) != NULL);
    sched_error_free(err);

    char seed_s[32];
    snprintf(seed_s, sizeof seed_s, "%lld", seed);
    setenv("SCHED_PCT_STEPS", k, 1);
    setenv("SCHED_SEED", seed_s, 1);
    setenv("SCHED_ITERATIONS", "1", 1);
    err = NULL;
    CU_ASSERT_EQUAL(sched_test_run_seeds(learned, race_argv, planted_run, &depth3, &err), 1);
    CU_ASSERT(err && strstr(sched_error_message(err), want) != NULL);
    sched_error_free(err);
    /* Without the learned k, that seed alone runs with the default and
     * passes: the command's k is what makes it replay. */
    unsetenv("SCHED_PCT_STEPS");
    err = NULL;
    CU_ASSERT_EQUAL(sched_test_run_seeds(learned, race_argv, planted_run, &depth3, &err), 0);
    sched_error_free(err);
    unsetenv("SCHED_SEED");
    unsetenv("SCHED_ITERATIONS");
}

/* A body whose run has 3 + 2 * seed steps, recording each seed's length,
 * that fails on seed 2. */
static size_t seed_steps[8];

static sched_value step_fn(void *arg)
{
    (void)arg;
    return (sched_value){ .i = 0 };
}

static int grows_with_seed(sched_host *host, void *arg)
{
    (void)arg;
    sched_test *t = sched_as_test(host);
    uint64_t seed = sched_test_seed(t);
    sched_executor *ex;
    if (seed >= 8 || sched_executor_new(host, &ex))
        return SCHED_ENOMEM;
    for (uint64_t i = 0; i < 3 + 2 * seed; i++)
        sched_spawn_labeled(ex, sched_future_fn(step_fn, NULL), "s", NULL);
    sched_test_run_until_parked(t);
    sched_executor_free(ex);
    const sched_test_step *steps;
    seed_steps[seed] = sched_test_history(t, &steps);
    return seed == 2 ? 1 : 0;
}

/* The k each failing seed's command names is the one that seed ran with:
 * the longest run before it, and for the first seed of a sweep, whose
 * runs are not known yet, the documented 1000. */
static void test_the_printed_k_is_the_one_the_seed_ran_with(void)
{
    const char *learned = conf("backend = \"test\";\ntest: { strategy = \"pct\"; };\n");
    char want[96];
    sched_error *err = NULL;
    setenv("SCHED_SEED", "0", 1);
    setenv("SCHED_ITERATIONS", "5", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(learned, race_argv, grows_with_seed, NULL, &err), 1);
    CU_ASSERT(seed_steps[0] == 3 && seed_steps[1] == 5);
    snprintf(want, sizeof want, " SCHED_PCT_STEPS=%zu SCHED_SEED=2 SCHED_ITERATIONS=1 ",
             seed_steps[1] > seed_steps[0] ? seed_steps[1] : seed_steps[0]);
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(sched_error_message(err), want) : NULL);
    sched_error_free(err);
    err = NULL;
    setenv("SCHED_SEED", "2", 1);
    setenv("SCHED_ITERATIONS", "1", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(learned, race_argv, grows_with_seed, NULL, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(err ? strstr(sched_error_message(err),
                                        " SCHED_PCT_STEPS=1000 SCHED_SEED=2 SCHED_ITERATIONS=1 ")
                               : NULL);
    sched_error_free(err);
    unsetenv("SCHED_SEED");
    unsetenv("SCHED_ITERATIONS");
}

/* ---- refused settings ----------------------------------------------------- */

/* Opening fails with SCHED_ECONFIG and a message containing want. */
static void refused(const char *path, const char *want)
{
    sched_host *host = NULL;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_host_open(&host, path, &err), SCHED_ECONFIG);
    const char *msg = err ? sched_error_message(err) : "";
    if (!strstr(msg, want))
        printf("\n\"%s\" does not say \"%s\"\n", msg, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    sched_error_free(err);
    if (host)
        sched_host_close(host);
}

static void test_bad_strategy_settings_name_the_file_line_or_variable(void)
{
    char want[256];
    const char *bad = conf("backend = \"test\";\ntest: {\n  strategy = \"pcT\";\n};\n");
    snprintf(want, sizeof want,
             "%s:3: setting \"test.strategy\": is not one of \"random\", \"fifo\", \"pct\"", bad);
    refused(bad, want);
    bad = conf("backend = \"test\";\ntest: { randomize = false;\n strategy = \"pct\"; };\n");
    snprintf(want, sizeof want, "%s:2: setting \"test.randomize\": is false, which means", bad);
    refused(bad, want);
    bad = conf("backend = \"test\";\ntest: { pct_depth = 0; };\n");
    snprintf(want, sizeof want, "%s:2: ", bad);
    refused(bad, want);
    refused(bad, "pct_depth");
    bad = conf("backend = \"test\";\ntest: { pct_steps = 0; };\n");
    refused(bad, "pct_steps");

    setenv("SCHED_STRATEGY", "PCT", 1);
    refused(conf_random, "SCHED_STRATEGY=\"PCT\" is not one of random, fifo, pct");
    unsetenv("SCHED_STRATEGY");
    /* An empty value cannot be set on Windows: setting "" removes the
     * variable there, and an unset SCHED_PCT_DEPTH is the default. */
    const char *vals[] = { "0", "65", "3x", "-1",
#ifndef _WIN32
                           "",
#endif
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        setenv("SCHED_PCT_DEPTH", vals[i], 1);
        snprintf(want, sizeof want, "SCHED_PCT_DEPTH=\"%s\" is not a decimal number from 1 to 64",
                 vals[i]);
        refused(conf_random, want);
    }
    unsetenv("SCHED_PCT_DEPTH");
    setenv("SCHED_PCT_STEPS", "0", 1);
    refused(conf_random, "SCHED_PCT_STEPS=\"0\" is not a decimal number from 1 to 1000000000");
    unsetenv("SCHED_PCT_STEPS");

    /* cloudflare-sim has no other strategy, and says so. */
    const char *cf = conf("backend = \"cloudflare-sim\";\n");
    setenv("SCHED_STRATEGY", "pct", 1);
    refused(cf, "SCHED_STRATEGY=\"pct\": the cloudflare-sim backend draws every choice at random");
    setenv("SCHED_STRATEGY", "random", 1);
    sched_host_close(open_host(cf));
    unsetenv("SCHED_STRATEGY");

    /* And the good ones open. */
    setenv("SCHED_STRATEGY", "fifo", 1);
    setenv("SCHED_PCT_DEPTH", "64", 1);
    sched_host_close(open_host(conf_by[2]));
    unsetenv("SCHED_STRATEGY");
    unsetenv("SCHED_PCT_DEPTH");
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
        T(test_fifo_strategy_runs_everything_in_schedule_order),
        T(test_every_strategy_keeps_foreground_order_and_runs_deprioritized_last),
        T(test_priorities_weigh_the_same_under_random_and_pct_and_not_in_fifo),
        T(test_pct_preempts_a_ready_task_at_most_depth_minus_one_times),
        T(test_every_strategy_draws_timed_waits_from_the_seed),
        T(test_pct_finds_a_depth_two_race_sooner_than_random_and_fifo_never),
        T(test_pct_learns_k_and_finds_a_depth_three_race_the_fixed_default_misses),
        T(test_the_printed_k_is_the_one_the_seed_ran_with),
        T(test_bad_strategy_settings_name_the_file_line_or_variable),
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
