/* SPDX-License-Identifier: MIT */
/*
 * tests/test_testbackend.c - the test backend through the real host: the
 * public API of sched/sched.h and sched/test.h, real config files, the real
 * test.so and linux.so.  Proves determinism over seeds, that a seed sweep
 * finds and replays a planted race, the parking report and the
 * failing-seed message word for word, and that one unchanged program runs
 * on linux and on test by config alone.
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
#include "sweep_util.h"

#define MS 1000000ull

/* ---- config files --------------------------------------------------------- */

static const char *conf_random, *conf_fifo, *conf_linux, *conf_budget;

/* Where failing seeds leave their replay files (SCHED_REPLAY_DIR). */
static char replay_dir[64];

static int suite_init(void)
{
    snprintf(replay_dir, sizeof replay_dir, "/tmp/sched-testbackend-XXXXXX");
    if (!test_mkdtemp(replay_dir))
        return 1;
    setenv("SCHED_REPLAY_DIR", replay_dir, 1);
    conf_random = conf("backend = \"test\";\ntest: { seed = 42; };\n");
    conf_fifo = conf("backend = \"test\";\ntest: { randomize = false; };\n");
    conf_linux = conf("backend = \"" SCHED_NATIVE_BACKEND "\";\n");
    conf_budget = conf("backend = \"test\";\ntest: { timeout_ticks_min = 50; timeout_ticks_max = 50;"
                       " num_cpus = 3; utc_start = 1000; };\n");
    return 0;
}

static int suite_fini(void)
{
    if (test_rmdir(replay_dir) != 0)
        return 1;
    conf_unlink_all();
    return 0;
}

/* ---- a workload: tasks that wait on timers and yield ---------------------- */

struct worker {
    sched_coro co;
    sched_host *host;
    int id;
    int i;
    sched_value v;
    int *done;
};

static int worker_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct worker *w = (struct worker *)f;
    SCHED_ASYNC_BEGIN(w);
    for (w->i = 0; w->i < 3; w->i++) {
        if ((w->id + w->i) % 3 == 0)
            SCHED_AWAIT(w, sched_timer(w->host, (uint64_t)((w->id * 7 + w->i) % 5) * MS), &w->v);
        else
            SCHED_AWAIT(w, sched_yield_now(), &w->v);
    }
    (*w->done)++;
    SCHED_RETURN(w, out, (sched_value){ .i = w->id });
    SCHED_ASYNC_END(w);
}

static const sched_future_ops worker_ops = { worker_poll, sched_coro_drop_default };

static sched_future *worker(sched_host *host, int id, int *done)
{
    struct worker *w = (struct worker *)sched_coro_new(sizeof *w, &worker_ops);
    w->host = host;
    w->id = id;
    w->done = done;
    return &w->co.base;
}

static const char *const labels[] = { "io", "parse", "render", "net" };

/* 200 interleaving tasks, half foreground, half background with labels
 * and priorities, every third step waiting on a timer.  Drives the
 * scheduler to the end; returns how many tasks finished. */
static int run_workload(sched_host *host)
{
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_foreground_executor *fx;
    int done = 0;
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx), 0);
    for (int i = 0; i < 200; i++) {
        int rc = i % 2 ? sched_foreground_spawn_labeled(fx, worker(host, i, &done), labels[i % 4], NULL)
                       : sched_executor_spawn_at(ex, worker(host, i, &done), labels[i % 4],
                                                 (sched_priority)(i % 3), SCHED_HERE, NULL);
        CU_ASSERT_EQUAL(rc, 0);
    }
    while (sched_test_run_until_parked(t) || sched_test_advance_clock_to_next_timer(t))
        ;
    sched_foreground_executor_free(fx);
    sched_executor_free(ex);
    return done;
}

static void test_same_seed_gives_the_same_history_over_1000_seeds(void)
{
    sched_host *host = open_host(conf_random);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sched_as_test(host));
    sched_host_close(host);

    uint64_t distinct[4] = { 0 };
    int ndistinct = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        uint64_t hash[2];
        for (int run = 0; run < 2; run++) {
            host = open_host(conf_random);
            sched_test *t = sched_as_test(host);
            CU_ASSERT_EQUAL(sched_test_reseed(t, seed), 0);
            CU_ASSERT_EQUAL(run_workload(host), 200);
            CU_ASSERT(!sched_test_has_pending_tasks(t));
            hash[run] = sched_test_history_hash(t);
            sched_host_close(host);
        }
        CU_ASSERT_EQUAL(hash[0], hash[1]);
        int seen = 0;
        for (int i = 0; i < ndistinct; i++)
            seen |= distinct[i] == hash[0];
        if (!seen && ndistinct < 4)
            distinct[ndistinct++] = hash[0];
    }
    CU_ASSERT(ndistinct >= 2);
}

/* ---- the planted race ------------------------------------------------------ */

static int shared;

/* Read, yield, write back: loses an update if another write lands
 * between its read and its write. */
struct racer {
    sched_coro co;
    int read;
    int lazy;       /* yields twice first, then increments in one step */
    sched_value v;
};

static int racer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct racer *r = (struct racer *)f;
    SCHED_ASYNC_BEGIN(r);
    if (r->lazy) {
        SCHED_AWAIT(r, sched_yield_now(), &r->v);
        SCHED_AWAIT(r, sched_yield_now(), &r->v);
        shared++;
    } else {
        r->read = shared;
        SCHED_AWAIT(r, sched_yield_now(), &r->v);
        shared = r->read + 1;
    }
    SCHED_RETURN(r, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(r);
}

static const sched_future_ops racer_ops = { racer_poll, sched_coro_drop_default };

/* The test body: two racing increments must leave 2. */
static int planted_race(sched_host *host, void *arg)
{
    (void)arg;
    sched_executor *ex;
    if (sched_executor_new(host, &ex))
        return SCHED_ENOMEM;
    shared = 0;
    for (int lazy = 0; lazy < 2; lazy++) {
        struct racer *r = (struct racer *)sched_coro_new(sizeof *r, &racer_ops);
        r->lazy = lazy;
        sched_spawn(ex, &r->co.base, NULL);
    }
    sched_test_run_until_parked(sched_as_test(host));
    sched_executor_free(ex);
    return shared == 2 ? 0 : SCHED_EBACKEND;
}

static char *const race_argv[] = { "./test_testbackend", "planted race", NULL };
static char prog[4096];         /* the program word of a printed command */

/* What a replay command sets besides the seed: the backend, the config
 * file the lookup found (when given), and the plugin path make check
 * sets, each a shell word, so the command replays wherever pasted. */
static const char *replay_env(const char *backend, const char *found_config)
{
    static char buf[4096];
    char w1[2048], w2[2048];
    const char *pp = getenv("SCHED_PLUGIN_PATH");
    int n = snprintf(buf, sizeof buf, "SCHED_BACKEND=%s", backend);
    if (found_config)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " SCHED_CONFIG=%s",
                      shell_word(found_config, w1, sizeof w1));
    char lv[4096];
    if (pp && *pp)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " SCHED_PLUGIN_PATH=%s",
                      shell_word(pp, w2, sizeof w2));
    snprintf(buf + n, sizeof buf - (size_t)n, "%s", test_load_vars(lv, sizeof lv));
    return buf;
}

/* The lines a failing seed's message ends with: where its replay file
 * went and the command that replays it exactly.  The path is msg's own,
 * checked to be the file named after the program and the seed in the
 * replay directory (as the library resolves it: on Windows with a
 * drive). */
static const char *replay_file_lines(const char *env, unsigned long long seed, const char *msg)
{
    static char buf[16384];
    char path[2048] = "(no replay file line)", name[64], w[4096];
    const char *p = msg ? strstr(msg, "\nreplay file: ") : NULL;
    if (p) {
        p += strlen("\nreplay file: ");
        snprintf(path, sizeof path, "%.*s", (int)strcspn(p, "\n"), p);
    }
    snprintf(name, sizeof name, "test_testbackend-seed%llu.replay", seed);
    size_t n = strlen(path), k = strlen(name);
    CU_ASSERT(n > k && strcmp(path + n - k, name) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(path, replay_dir + strlen("/tmp/")));
    snprintf(buf, sizeof buf, "\nreplay file: %s\nreplay exactly with: %s SCHED_REPLAY=%s "
             "%s 'planted race'", path, env, shell_word(path, w, sizeof w), test_program_word("./test_testbackend", prog, sizeof prog));
    return buf;
}

static int always_fails(sched_host *host, void *arg)
{
    (void)host;
    (void)arg;
    return 1;
}

static void test_planted_race_passes_under_fifo_is_found_by_a_sweep_and_replayed(void)
{
    sched_error *err = NULL;
    unsetenv("SCHED_SEED");
    setenv("SCHED_ITERATIONS", "20", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, race_argv, planted_race, NULL, &err), 0);
    CU_ASSERT_PTR_NULL(err);

    setenv("SCHED_SEED", "0", 1);
    setenv("SCHED_ITERATIONS", "500", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, race_argv, planted_race, NULL, &err),
                    SCHED_EBACKEND);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    unsigned long long failing;
    CU_ASSERT_EQUAL_FATAL(sscanf(sched_error_message(err), "failing seed: %llu", &failing), 1);
    char want[16384];
    snprintf(want, sizeof want, "failing seed: %llu\nreplay with: %s SCHED_SEED=%llu "
             "SCHED_ITERATIONS=1 %s 'planted race'", failing,
             replay_env("test", NULL), failing, test_program_word("./test_testbackend", prog, sizeof prog));
    strcat(want, replay_file_lines(replay_env("test", NULL), failing, sched_error_message(err)));
    CU_ASSERT_STRING_EQUAL(sched_error_message(err), want);
    sched_error_free(err);
    err = NULL;

    /* Every seed before it passes; that seed alone fails, every time. */
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", failing);
    setenv("SCHED_ITERATIONS", seed, 1);
    if (failing > 0)
        CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, race_argv, planted_race, NULL, NULL), 0);
    setenv("SCHED_SEED", seed, 1);
    setenv("SCHED_ITERATIONS", "1", 1);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, race_argv, planted_race, NULL, &err),
                        SCHED_EBACKEND);
        CU_ASSERT_STRING_EQUAL(err ? sched_error_message(err) : "", want);
        sched_error_free(err);
        err = NULL;
    }

    /* Found by the lookup (no path from the program), the config file is
     * in the command too: pasted where the system's config names linux,
     * it still runs this backend with these settings. */
    setenv("SCHED_CONFIG", conf_random, 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(NULL, race_argv, planted_race, NULL, &err),
                    SCHED_EBACKEND);
    snprintf(want, sizeof want, "failing seed: %llu\nreplay with: %s SCHED_SEED=%llu "
             "SCHED_ITERATIONS=1 %s 'planted race'", failing,
             replay_env("test", conf_random), failing, test_program_word("./test_testbackend", prog, sizeof prog));
    strcat(want, replay_file_lines(replay_env("test", conf_random), failing,
                                   err ? sched_error_message(err) : NULL));
    CU_ASSERT_STRING_EQUAL(err ? sched_error_message(err) : "", want);
    sched_error_free(err);
    err = NULL;
    unsetenv("SCHED_CONFIG");

    /* A backend without seeds runs the body once; its command names it. */
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_linux, race_argv, always_fails, NULL, &err), 1);
    snprintf(want, sizeof want, "the test failed on a backend without seeds\nreplay with: %s "
             "%s 'planted race'", replay_env(SCHED_NATIVE_BACKEND, NULL), test_program_word("./test_testbackend", prog, sizeof prog));
    CU_ASSERT_STRING_EQUAL(err ? sched_error_message(err) : "", want);
    sched_error_free(err);
    unsetenv("SCHED_SEED");
    unsetenv("SCHED_ITERATIONS");
}

/* A body whose spawn order alternates between runs: not deterministic. */
static int calls;

static int flip_flop(sched_host *host, void *arg)
{
    (void)arg;
    sched_executor *ex;
    if (sched_executor_new(host, &ex))
        return SCHED_ENOMEM;
    const char *order[2] = { "a", "b" };
    int flip = calls++ % 2;
    for (int i = 0; i < 2; i++)
        sched_spawn_labeled(ex, sched_yield_now(), order[(i + flip) % 2], NULL);
    sched_test_run_until_parked(sched_as_test(host));
    sched_executor_free(ex);
    return 0;
}

static void test_determinism_check_names_the_first_divergent_step(void)
{
    char *argv[] = { "./test_testbackend", NULL };
    sched_error *err = NULL;
    setenv("SCHED_SEED", "5", 1);
    setenv("SCHED_CHECK_DETERMINISM", "1", 1);
    calls = 0;
    char want[8192];
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, argv, flip_flop, NULL, &err), SCHED_EBACKEND);
    snprintf(want, sizeof want,
             "seed 5 is not deterministic: at step 0 the first run ran task #0 \"a\", "
             "the second ran task #0 \"b\"\n"
             "replay with: %s SCHED_SEED=5 SCHED_ITERATIONS=1 SCHED_CHECK_DETERMINISM=1 "
             "%s", replay_env("test", NULL), test_program_word("./test_testbackend", prog, sizeof prog));
    CU_ASSERT_STRING_EQUAL(err ? sched_error_message(err) : "", want);
    sched_error_free(err);
    err = NULL;
    /* A deterministic body passes the same check. */
    setenv("SCHED_ITERATIONS", "10", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_random, argv, planted_race, NULL, &err) == 0
                    || strncmp(sched_error_message(err), "failing seed: ", 14) == 0, 1);
    sched_error_free(err);
    unsetenv("SCHED_SEED");
    unsetenv("SCHED_ITERATIONS");
    unsetenv("SCHED_CHECK_DETERMINISM");
}

/* SCHED_CHECK_DETERMINISM takes 0 or 1: unset and 0 run each seed once
 * (flip_flop, which differs between runs, passes), anything else is
 * refused naming the variable and the value, before a seed runs. */
static void test_determinism_check_takes_only_0_or_1(void)
{
    char *argv[] = { "./test_testbackend", NULL };
    expect_0_or_1("SCHED_CHECK_DETERMINISM", "run each seed twice and compare the runs",
                  conf_fifo, argv, flip_flop);
}

static void test_bad_sweep_settings_are_config_errors(void)
{
    sched_error *err = NULL;
    setenv("SCHED_ITERATIONS", "0", 1);
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_fifo, NULL, planted_race, NULL, &err), SCHED_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err ? sched_error_message(err) : "",
                           "SCHED_ITERATIONS=\"0\" is not a decimal number from 1 to "
                           "18446744073709551615");
    sched_error_free(err);
    unsetenv("SCHED_ITERATIONS");
}

/* ---- parking ---------------------------------------------------------------- */

struct waiter {
    sched_coro co;
    sched_oneshot *o;
    sched_value v;
};

static int waiter_await_line;

static int waiter_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct waiter *w = (struct waiter *)f;
    SCHED_ASYNC_BEGIN(w);
    waiter_await_line = __LINE__ + 1;
    SCHED_AWAIT(w, sched_oneshot_recv(w->o), &w->v);
    SCHED_RETURN(w, out, w->v);
    SCHED_ASYNC_END(w);
}

static const sched_future_ops waiter_ops = { waiter_poll, sched_coro_drop_default };

/* A future that waits for a value on o. */
static sched_future *waiter_new(sched_oneshot *o)
{
    struct waiter *w = (struct waiter *)sched_coro_new(sizeof *w, &waiter_ops);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    w->o = o;
    return &w->co.base;
}

static void test_block_with_nothing_runnable_reports_every_pending_task_and_the_seed(void)
{
    sched_host *host = open_host(conf_random);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_executor_new(host, &ex);
    sched_oneshot *o;
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&o), 0);
    sched_task *task;
    int line = __LINE__ + 1;
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, waiter_new(o), "reader", &task), 0);
    uint64_t id = sched_task_id(task);
    CU_ASSERT(sched_test_is_task_running(t, id));

    CU_ASSERT_EQUAL(sched_test_run_until_parked(t), 1);
    char want[1024];
    char report[1024];
    size_t n = sched_test_parking_report(t, report, sizeof report);
    snprintf(want, sizeof want,
             "seed 42, virtual time 0 ns: 0 runnable, 0 timers pending, parking forbidden\n"
             "pending tasks:\n"
             "task %llu \"reader\" (medium) spawned at %s:%d in %s(): waiting on a oneshot, "
             "awaited at %s:%d in waiter_poll()\n"
             "replay with SCHED_SEED=42\n",
             (unsigned long long)id, __FILE__, line, __func__, __FILE__, waiter_await_line);
    CU_ASSERT_STRING_EQUAL(report, want);
    CU_ASSERT_EQUAL(n, strlen(want));

    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(task), NULL, &err), SCHED_EDEADLK);
    snprintf(want, sizeof want,
             "blocked on a future that nothing can wake (backend test; seed 42); pending tasks:\n"
             "task %llu \"reader\" (medium) spawned at %s:%d in %s(): waiting on a oneshot, "
             "awaited at %s:%d in waiter_poll()\n",
             (unsigned long long)id, __FILE__, line, __func__, __FILE__, waiter_await_line);
    CU_ASSERT_STRING_EQUAL(err ? sched_error_message(err) : "", want);
    sched_error_free(err);
    /* The join was the last handle: the task is cancelled with it. */
    CU_ASSERT(!sched_test_is_task_running(t, id));
    sched_oneshot_close(o);
    sched_executor_free(ex);
    sched_host_close(host);
}

/* What the inspector saw from inside its own run. */
static struct {
    sched_test *t;
    uint64_t self_id;
    int self_live;
    char report[2048];
} inspected;

static sched_value inspect(void *arg)
{
    (void)arg;
    inspected.self_live = sched_test_is_task_running(inspected.t, inspected.self_id);
    sched_test_parking_report(inspected.t, inspected.report, sizeof inspected.report);
    return (sched_value){ .i = 0 };
}

static sched_value nothing(void *arg)
{
    (void)arg;
    return (sched_value){ .i = 0 };
}

/* A live task is pending (registered), queued by the backend, or running;
 * a woken task is both registered and queued.  The report lists each once,
 * oldest first, whichever holds it. */
static void test_report_lists_pending_queued_and_running_tasks_once_each(void)
{
    sched_host *host = open_host(conf_fifo);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_executor_new(host, &ex);
    sched_oneshot *o;
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&o), 0);
    sched_task *reader, *inspector;
    int reader_line = __LINE__ + 1;
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, waiter_new(o), "reader", &reader), 0);
    CU_ASSERT_EQUAL(sched_test_run_until_parked(t), 1);

    int inspector_line = __LINE__ + 1;
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_future_fn(inspect, NULL), "inspector", &inspector), 0);
    int detached_line = __LINE__ + 1;
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(nothing, NULL), NULL), 0);
    CU_ASSERT_EQUAL(sched_oneshot_send(o, (sched_value){ .i = 7 }), 0);
    inspected.t = t;
    inspected.self_id = sched_task_id(inspector);
    CU_ASSERT_EQUAL(sched_test_tick(t), 1);     /* FIFO: the inspector runs first */

    /* The detached task has no handle; its id is in the history. */
    const sched_test_step *steps;
    CU_ASSERT_EQUAL(sched_test_run_until_parked(t), 2);
    CU_ASSERT_EQUAL_FATAL(sched_test_history(t, &steps), 4);
    uint64_t detached_id = steps[2].task_id;

    char want[2048];
    snprintf(want, sizeof want,
             "seed %llu, virtual time 0 ns: 2 runnable, 0 timers pending, parking forbidden\n"
             "pending tasks:\n"
             "task %llu \"reader\" (medium) spawned at %s:%d in %s(): runnable\n"
             "task %llu \"inspector\" (medium) spawned at %s:%d in %s(): runnable\n"
             "task %llu (medium) spawned at %s:%d in %s(): runnable\n"
             "replay with SCHED_SEED=%llu\n",
             (unsigned long long)sched_test_seed(t),
             (unsigned long long)sched_task_id(reader), __FILE__, reader_line, __func__,
             (unsigned long long)sched_task_id(inspector), __FILE__, inspector_line, __func__,
             (unsigned long long)detached_id, __FILE__, detached_line, __func__,
             (unsigned long long)sched_test_seed(t));
    CU_ASSERT_STRING_EQUAL(inspected.report, want);
    CU_ASSERT(inspected.self_live);
    CU_ASSERT(!sched_test_is_task_running(t, detached_id));
    CU_ASSERT(!sched_test_is_task_running(t, sched_task_id(reader)));
    sched_task_free(reader);
    sched_task_free(inspector);
    sched_executor_free(ex);
    sched_host_close(host);
}

/* Pending, with no wake-up arranged and no reason named. */
static int silent_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    (void)f, (void)cx, (void)out;
    return SCHED_PENDING;
}

static const sched_future_ops silent_ops = { silent_poll, sched_coro_drop_default };

struct stale {
    sched_coro co;
    sched_host *host;
    sched_value v;
};

static int stale_await_line;

/* Awaits a timer (which names its reason), then a future that names none. */
static int stale_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct stale *st = (struct stale *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_AWAIT(st, sched_timer(st->host, 5 * MS), &st->v);
    stale_await_line = __LINE__ + 1;
    SCHED_AWAIT(st, sched_coro_new(sizeof(sched_coro), &silent_ops), &st->v);
    SCHED_RETURN(st, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(st);
}

static const sched_future_ops stale_ops = { stale_poll, sched_coro_drop_default };

/* The reason a task gave while it waited on a timer lived in the timer,
 * which is gone once the task waits on something else: the report must
 * not name it (nor read it). */
static void test_report_names_no_reason_left_from_a_dropped_future(void)
{
    sched_host *host = open_host(conf_fifo);
    sched_executor *ex;
    sched_executor_new(host, &ex);
    struct stale *st = (struct stale *)sched_coro_new(sizeof *st, &stale_ops);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    st->host = host;
    sched_task *task;
    int line = __LINE__ + 1;
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, &st->co.base, "stale", &task), 0);
    uint64_t id = sched_task_id(task);
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(task), NULL, &err), SCHED_EDEADLK);
    char want[1024];
    snprintf(want, sizeof want,
             "blocked on a future that nothing can wake (backend test; seed %llu); pending tasks:\n"
             "task %llu \"stale\" (medium) spawned at %s:%d in %s(): "
             "waiting on something it did not name, awaited at %s:%d in stale_poll()\n",
             (unsigned long long)sched_test_seed(sched_as_test(host)), (unsigned long long)id,
             __FILE__, line, __func__, __FILE__, stale_await_line);
    CU_ASSERT_STRING_EQUAL(err ? sched_error_message(err) : "", want);
    sched_error_free(err);
    sched_executor_free(ex);
    sched_host_close(host);
}

static void test_block_with_timeout_follows_virtual_time(void)
{
    sched_host *host = open_host(conf_budget);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_executor_new(host, &ex);
    CU_ASSERT_EQUAL(sched_host_num_cpus(host), 3);
    CU_ASSERT_EQUAL(sched_test_utc_ns(t), 1000ll * 1000000000);

    /* A 10 ms timer inside a 1 s timeout: the clock jumps to it. */
    sched_future *f = sched_timer(host, 10 * MS);
    sched_value v;
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 1000 * MS, &v, NULL), 0);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(sched_test_now(t), 10 * MS);

    /* Nothing will ever finish it: it times out at the deadline. */
    sched_oneshot *o;
    sched_oneshot_new(&o);
    f = sched_oneshot_recv(o);
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 500 * MS, &v, NULL), SCHED_ETIMEDOUT);
    CU_ASSERT_PTR_NOT_NULL(f);
    CU_ASSERT_EQUAL(sched_test_now(t), 510 * MS);
    CU_ASSERT_EQUAL(sched_test_utc_ns(t), 1000ll * 1000000000 + (int64_t)(510 * MS));
    sched_future_drop(f);
    sched_oneshot_close(o);
    sched_executor_free(ex);
    sched_host_close(host);
}

/* ---- controls ----------------------------------------------------------------- */

static void test_ticks_run_one_runnable_and_foreground_waits_for_a_full_tick(void)
{
    sched_host *host = open_host(conf_fifo);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_foreground_executor *fx;
    sched_executor_new(host, &ex);
    sched_foreground_executor_new(host, &fx);
    sched_task *fg, *bg;
    sched_foreground_spawn(fx, sched_future_ready((sched_value){ .i = 1 }), &fg);
    sched_spawn(ex, sched_future_ready((sched_value){ .i = 2 }), &bg);
    sched_test_counts c;
    sched_test_pending_counts(t, &c);
    CU_ASSERT_EQUAL(c.foreground, 1);
    CU_ASSERT_EQUAL(c.background, 1);
    CU_ASSERT(sched_test_has_pending_tasks(t));
    CU_ASSERT_EQUAL(sched_test_tick_background_only(t), 1);
    CU_ASSERT(sched_task_is_finished(bg));
    CU_ASSERT(!sched_task_is_finished(fg));
    CU_ASSERT_EQUAL(sched_test_tick_background_only(t), 0);
    CU_ASSERT_EQUAL(sched_test_tick(t), 1);
    CU_ASSERT(sched_task_is_finished(fg));
    CU_ASSERT_EQUAL(sched_test_tick(t), 0);
    CU_ASSERT(!sched_test_has_pending_tasks(t));
    const sched_test_step *steps;
    CU_ASSERT_EQUAL_FATAL(sched_test_history(t, &steps), 2);
    CU_ASSERT_EQUAL(steps[0].task_id, sched_task_id(bg));
    CU_ASSERT_EQUAL(steps[1].task_id, sched_task_id(fg));
    sched_task_free(fg);
    sched_task_free(bg);
    sched_foreground_executor_free(fx);
    sched_executor_free(ex);
    sched_host_close(host);
}

static void test_deprioritized_label_runs_after_everything_else(void)
{
    sched_host *host = open_host(conf_random);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_executor_new(host, &ex);
    sched_test_deprioritize(t, "later");
    for (int i = 0; i < 30; i++)
        sched_spawn_labeled(ex, sched_future_ready((sched_value){ .i = i }), i < 5 ? "later" : "now",
                            NULL);
    sched_test_counts c;
    sched_test_pending_counts(t, &c);
    CU_ASSERT_EQUAL(c.deprioritized, 5);
    CU_ASSERT_EQUAL(sched_test_run_until_parked(t), 30);
    const sched_test_step *steps;
    CU_ASSERT_EQUAL_FATAL(sched_test_history(t, &steps), 30);
    for (int i = 0; i < 30; i++)
        CU_ASSERT_STRING_EQUAL(steps[i].label, i < 25 ? "now" : "later");
    sched_executor_free(ex);
    sched_host_close(host);
}

struct delayed {
    sched_coro co;
    sched_test *t;
    sched_value v;
};

static int delayed_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct delayed *d = (struct delayed *)f;
    SCHED_ASYNC_BEGIN(d);
    SCHED_AWAIT(d, sched_test_random_delay(d->t), &d->v);
    SCHED_RETURN(d, out, d->v);
    SCHED_ASYNC_END(d);
}

static const sched_future_ops delayed_ops = { delayed_poll, sched_coro_drop_default };

static void test_random_delay_yields_mostly_zero_or_once_and_sometimes_many_times(void)
{
    sched_host *host = open_host(conf_random);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_executor_new(host, &ex);
    int hist[3] = { 0 };   /* steps per task: 1-2, 3-10, more */
    for (int i = 0; i < 300; i++) {
        struct delayed *d = (struct delayed *)sched_coro_new(sizeof *d, &delayed_ops);
        d->t = t;
        sched_task *task;
        sched_spawn(ex, &d->co.base, &task);
        uint64_t steps = sched_test_run_until_parked(t);
        CU_ASSERT(sched_task_is_finished(task));
        CU_ASSERT(steps >= 1 && steps <= 100);
        hist[steps <= 2 ? 0 : steps <= 10 ? 1 : 2]++;
        sched_task_free(task);
    }
    CU_ASSERT(hist[0] > 200);
    CU_ASSERT(hist[1] > 0);
    CU_ASSERT(hist[2] > 0);
    uint64_t a = sched_test_rng(t), b = sched_test_rng(t);
    CU_ASSERT(a != b);
    CU_ASSERT_EQUAL(sched_test_seed(t), 42);
    sched_executor_free(ex);
    sched_host_close(host);
}

static void test_other_backends_have_no_test_controls_and_wrappers_are_neutral(void)
{
    sched_host *host = open_host(conf_linux);
    sched_test *t = sched_as_test(host);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(sched_test_tick(t), 0);
    CU_ASSERT_EQUAL(sched_test_run_until_parked(t), 0);
    CU_ASSERT_EQUAL(sched_test_seed(t), 0);
    CU_ASSERT_EQUAL(sched_test_reseed(t, 1), SCHED_ENOTSUP);
    CU_ASSERT_EQUAL(sched_test_trace(t, "/tmp/x"), SCHED_ENOTSUP);
    CU_ASSERT(!sched_test_has_pending_tasks(t));
    const sched_test_step *steps = (const sched_test_step *)&steps;
    CU_ASSERT_EQUAL(sched_test_history(t, &steps), 0);
    CU_ASSERT_PTR_NULL(steps);
    char buf[8] = "x";
    CU_ASSERT_EQUAL(sched_test_parking_report(t, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "");
    sched_host_close(host);
}

/* ---- one program, two backends ------------------------------------------------ */

/* The program: a producer sends 1..10 over a channel after a timer, a
 * consumer sums them; main blocks on the sum.  Only sched/sched.h. */
struct producer {
    sched_coro co;
    sched_host *host;
    sched_channel *ch;
    int i;
    sched_value v;
};

static int producer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct producer *p = (struct producer *)f;
    SCHED_ASYNC_BEGIN(p);
    SCHED_AWAIT(p, sched_timer(p->host, 5 * MS), &p->v);
    for (p->i = 1; p->i <= 10; p->i++)
        SCHED_AWAIT(p, sched_channel_send(p->ch, (sched_value){ .i = p->i }), &p->v);
    sched_channel_close(p->ch);
    SCHED_RETURN(p, out, (sched_value){ .i = 0 });
    SCHED_ASYNC_END(p);
}

struct consumer {
    sched_coro co;
    sched_channel *ch;
    int64_t sum;
    sched_value v;
};

static int consumer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct consumer *c = (struct consumer *)f;
    SCHED_ASYNC_BEGIN(c);
    for (;;) {
        SCHED_AWAIT(c, sched_channel_recv(c->ch), &c->v);
        if (c->co.rc != 0)
            break;
        c->sum += c->v.i;
    }
    SCHED_RETURN(c, out, (sched_value){ .i = c->sum });
    SCHED_ASYNC_END(c);
}

static const sched_future_ops producer_ops = { producer_poll, sched_coro_drop_default };
static const sched_future_ops consumer_ops = { consumer_poll, sched_coro_drop_default };

static int64_t program(const char *config)
{
    sched_host *host = open_host(config);
    sched_executor *ex;
    sched_channel *ch;
    sched_executor_new(host, &ex);
    sched_channel_new(2, &ch);
    struct producer *p = (struct producer *)sched_coro_new(sizeof *p, &producer_ops);
    p->host = host;
    p->ch = ch;
    struct consumer *c = (struct consumer *)sched_coro_new(sizeof *c, &consumer_ops);
    c->ch = ch;
    sched_task *tc;
    sched_spawn(ex, &p->co.base, NULL);
    sched_spawn(ex, &c->co.base, &tc);
    sched_value v = { .i = -1 };
    sched_error *err = NULL;
    int rc = sched_block(ex, sched_task_join(tc), &v, &err);
    if (rc)
        fprintf(stderr, "%s\n", sched_error_message(err));
    sched_error_free(err);
    CU_ASSERT_EQUAL(rc, 0);
    sched_executor_free(ex);
    sched_host_close(host);
    sched_channel_free(ch);
    return v.i;
}

static void test_one_program_runs_on_linux_and_on_test_by_config_alone(void)
{
    CU_ASSERT_EQUAL(program(conf_linux), 55);
    CU_ASSERT_EQUAL(program(conf_fifo), 55);
    CU_ASSERT_EQUAL(program(conf_random), 55);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("test backend through the host", suite_init, suite_fini);
#define T(name) CU_add_test(s, #name, name)
    T(test_one_program_runs_on_linux_and_on_test_by_config_alone);
    T(test_other_backends_have_no_test_controls_and_wrappers_are_neutral);
    T(test_ticks_run_one_runnable_and_foreground_waits_for_a_full_tick);
    T(test_deprioritized_label_runs_after_everything_else);
    T(test_random_delay_yields_mostly_zero_or_once_and_sometimes_many_times);
    T(test_block_with_nothing_runnable_reports_every_pending_task_and_the_seed);
    T(test_report_lists_pending_queued_and_running_tasks_once_each);
    T(test_report_names_no_reason_left_from_a_dropped_future);
    T(test_block_with_timeout_follows_virtual_time);
    T(test_planted_race_passes_under_fifo_is_found_by_a_sweep_and_replayed);
    T(test_determinism_check_names_the_first_divergent_step);
    T(test_determinism_check_takes_only_0_or_1);
    T(test_bad_sweep_settings_are_config_errors);
    T(test_same_seed_gives_the_same_history_over_1000_seeds);
#undef T
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
