/* SPDX-License-Identifier: MIT */
/*
 * tests/test_determinism.c - the scenarios that keep a deterministic
 * scheduler honest, written as a user writes them: the public headers,
 * real config files, the installed backends.  Each runs on the test
 * backend and, where the model is shared, on cloudflare-sim.
 *
 *   - a future hands a clone of its waker to a real thread, which wakes it,
 *     or only drops it: with parking forbidden the test fails at its end
 *     (sched_test_end, sched_test_run_seeds), naming the thread and the
 *     task; with parking allowed it passes, and after the end such
 *     activity aborts at once;
 *   - a clock move that makes a timer due runs nothing until a tick;
 *   - strict_main_block: a foreground task that blocks on another task of
 *     its own executor fails with SCHED_EDEADLK, as it would hang on a
 *     real main thread; one that blocks on background work, or on another
 *     executor's, still works;
 *   - the pending-waker report: each pending task's line names the await
 *     it is pending in, the innermost one, so that the missing wake-up
 *     can be found from the message alone.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if !defined(_WIN32)
#include <signal.h>
#include <sys/wait.h>
#endif

#include <CUnit/Basic.h>

#include "tmpdir.h"

#include <sched/sched.h>
#include <sched/test.h>

#include "foreign_io.h"
#include "tb_conf.h"

#define MS 1000000ull

/* ---- config files ----------------------------------------------------------- */

static const char *conf_test, *conf_cfsim, *conf_strict;

static int suite_init(void)
{
    conf_test = conf("backend = \"test\";\ntest: { seed = 7; };\n");
    conf_cfsim = conf("backend = \"cloudflare-sim\";\n");
    conf_strict = conf("backend = \"test\";\ntest: { seed = 7; strict_main_block = true; };\n");
    return 0;
}

static int suite_fini(void)
{
    conf_unlink_all();
    return 0;
}

/* ---- activity on threads the scheduler does not run ------------------------- */

/* The io-worker thread: tests/foreign_io.h. */

/* First poll: hand a clone of the waker to a new io thread (and, when the
 * thread only drops it, wake itself so that it still finishes); second
 * poll: done. */
struct fetch {
    sched_future base;
    struct io_thread *io;
    int polls;
};

static int fetch_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct fetch *ft = (struct fetch *)f;
    if (ft->polls++ > 0) {
        out->i = 1;
        return 0;
    }
    ft->io->w = sched_waker_clone(sched_context_waker(cx));
    if (ft->io->act == ACT_DROP)
        sched_waker_wake_by_ref(sched_context_waker(cx));
    CU_ASSERT_EQUAL_FATAL(pthread_create(&ft->io->th, NULL, io_main, ft->io), 0);
    return SCHED_PENDING;
}

static void fetch_drop(sched_future *f)
{
    free(f);
}

static const sched_future_ops fetch_ops = { fetch_poll, fetch_drop };

static int fetch_line;

/* Spawn "fetch", let it hand its waker to the io thread, wait for the
 * thread to be done with it, and run the task to its end.  Returns the
 * task's id.  With in_all the task is an all-of of the fetch, which hands
 * out the waker the all-of gave its child. */
static uint64_t run_fetch_in(sched_host *host, enum foreign_act act, int in_all)
{
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    struct io_thread io = { .act = act };
    struct fetch *f = calloc(1, sizeof *f);
    sched_task *task;
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    f->base.ops = &fetch_ops;
    f->io = &io;
    sched_future *body = &f->base;
    if (in_all) {
        body = sched_all(&body, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    }
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    fetch_line = __LINE__ + 1;
    CU_ASSERT_EQUAL_FATAL(sched_spawn_labeled(ex, body, "fetch", &task), 0);
    uint64_t id = sched_task_id(task);
    CU_ASSERT_EQUAL(sched_test_tick(t), 1);
    /* Join first: the thread's wake or drop has happened, whatever the
     * machine's timing, before the task is run again. */
    pthread_join(io.th, NULL);
    sched_test_run_until_parked(t);
    CU_ASSERT(sched_task_is_finished(task));
    if (in_all) {
        /* The all-of's result array is ours: join the finished task. */
        sched_value v = { .ptr = NULL };
        sched_future *j = sched_task_join(task);
        CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &j, 0, &v, NULL), 0);
        free(v.ptr);
        sched_future_drop(j);
    } else {
        sched_task_free(task);
    }
    sched_executor_free(ex);
    return id;
}

static uint64_t run_fetch(sched_host *host, enum foreign_act act)
{
    return run_fetch_in(host, act, 0);
}

/* The end's sentence for task id of run_fetch, verb ("woke", "dropped the
 * waker of"), on the io thread. */
static void check_foreign_message(const char *msg, uint64_t id, const char *verb)
{
    char want[512];
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    CU_ASSERT_EQUAL(strncmp(msg, "activity on thread ", 19), 0);
#if defined(__GLIBC__)
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, " (io-worker) "));
#endif
    snprintf(want, sizeof want, " %s task %llu \"fetch\" (spawned at %s:%d in run_fetch_in()), but the "
             "test scheduler runs on thread ", verb, (unsigned long long)id, __FILE__, fetch_line);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, ": this test is not deterministic"));
#if defined(__GLIBC__)
    /* Where it came from, one frame a line, as glibc's backtrace tells it. */
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, ": this test is not deterministic; the waker was used "
                                       "from:\n  "));
#endif
}

static void foreign_activity_fails_at_the_end_in(const char *config, enum foreign_act act,
                                                int in_all)
{
    sched_host *host = open_host(config);
    sched_test *t = sched_as_test(host);
    sched_error *err = NULL;
    uint64_t id = run_fetch_in(host, act, in_all);
    CU_ASSERT_EQUAL(sched_test_end(t, &err), SCHED_EBACKEND);
    check_foreign_message(err ? sched_error_message(err) : NULL, id,
                          act == ACT_WAKE ? "woke" : "dropped the waker of");
    sched_error_free(err);
    /* Asked again, the end says the same. */
    CU_ASSERT_EQUAL(sched_test_end(t, NULL), SCHED_EBACKEND);
    sched_host_close(host);
}

static void foreign_activity_fails_at_the_end(const char *config, enum foreign_act act)
{
    foreign_activity_fails_at_the_end_in(config, act, 0);
}

/* The waker an all-of gives its child is the task's, as far as the watch
 * goes: a wake, or only a drop, of it on a real thread fails the test. */
static void test_a_child_waker_of_an_all_of_used_on_a_real_thread_fails_the_test(void)
{
    foreign_activity_fails_at_the_end_in(conf_test, ACT_WAKE, 1);
    foreign_activity_fails_at_the_end_in(conf_test, ACT_DROP, 1);
    foreign_activity_fails_at_the_end_in(conf_cfsim, ACT_DROP, 1);
}

static void test_a_wake_from_a_real_thread_fails_the_test_at_its_end(void)
{
    foreign_activity_fails_at_the_end(conf_test, ACT_WAKE);
}

static void test_a_drop_on_a_real_thread_fails_the_test_at_its_end(void)
{
    foreign_activity_fails_at_the_end(conf_test, ACT_DROP);
}

static void test_a_wake_from_a_real_thread_fails_the_test_on_cloudflare_sim(void)
{
    foreign_activity_fails_at_the_end(conf_cfsim, ACT_WAKE);
    foreign_activity_fails_at_the_end(conf_cfsim, ACT_DROP);
}

static void test_with_parking_allowed_a_real_thread_may_wake_a_task(void)
{
    const char *configs[] = { conf_test, conf_cfsim };
    for (int i = 0; i < 2; i++) {
        sched_host *host = open_host(configs[i]);
        sched_test *t = sched_as_test(host);
        sched_test_allow_parking(t);
        run_fetch(host, ACT_WAKE);
        run_fetch(host, ACT_DROP);
        CU_ASSERT_EQUAL(sched_test_end(t, NULL), 0);
        sched_host_close(host);
    }
}

/* With parking allowed the main thread's block really waits for the real
 * thread's wake, and resumes with it. */
static void test_with_parking_allowed_a_real_thread_resumes_a_parked_block(void)
{
    sched_host *host = open_host(conf_test);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    struct io_thread io = { .act = ACT_WAKE };
    struct fetch *f = calloc(1, sizeof *f);
    sched_task *task;
    sched_value v = { 0 };
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    f->base.ops = &fetch_ops;
    f->io = &io;
    sched_test_allow_parking(t);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_spawn_labeled(ex, &f->base, "fetch", &task), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(task), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 1);
    pthread_join(io.th, NULL);
    CU_ASSERT_EQUAL(sched_test_end(t, NULL), 0);
    sched_executor_free(ex);
    sched_host_close(host);
}

/* A seed sweep fails the seed whose body passed by luck, and says why. */
/* Keeps the first run's task id: a failing seed runs once more to record
 * its replay file, and the message is the first run's. */
static int fetch_body(sched_host *host, void *arg)
{
    uint64_t id = run_fetch(host, ACT_WAKE);
    if (*(uint64_t *)arg == 0)
        *(uint64_t *)arg = id;
    return 0;
}

static void test_a_seed_sweep_fails_a_seed_with_foreign_activity(void)
{
    char *argv[] = { "./test_determinism", NULL };
    sched_error *err = NULL;
    uint64_t id = 0;
    char dir[] = "/tmp/sched-determinism-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(test_mkdtemp(dir));
    setenv("SCHED_REPLAY_DIR", dir, 1);
    unsetenv("SCHED_SEED");
    unsetenv("SCHED_ITERATIONS");
    CU_ASSERT_EQUAL(sched_test_run_seeds(conf_test, argv, fetch_body, &id, &err), SCHED_EBACKEND);
    unsetenv("SCHED_REPLAY_DIR");
    CU_ASSERT_EQUAL(test_rmdir(dir), 0);
    const char *msg = err ? sched_error_message(err) : "";
    CU_ASSERT_EQUAL(strncmp(msg, "failing seed: 7\nactivity on thread ", 35), 0);
    check_foreign_message(strchr(msg, '\n') ? strchr(msg, '\n') + 1 : NULL, id, "woke");
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "\nreplay with: SCHED_BACKEND=test "));
    char want[4200], prog[4096];
    snprintf(want, sizeof want, " SCHED_SEED=7 SCHED_ITERATIONS=1 %s",
             test_program_word("./test_determinism", prog, sizeof prog));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    sched_error_free(err);
}

#if !defined(_WIN32)
/* After the end there is nothing left to fail: the activity aborts. */
static void test_after_the_end_foreign_activity_aborts_at_once(void)
{
    int fds[2];
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        sched_host *host = NULL;
        if (sched_host_open(&host, conf_test, NULL) != 0)
            _exit(3);
        sched_test *t = sched_as_test(host);
        struct io_thread io = { .act = ACT_WAKE };
        /* The clone is made on the main thread; only the wake is foreign. */
        sched_executor *ex;
        sched_executor_new(host, &ex);
        struct fetch *f = calloc(1, sizeof *f);
        f->base.ops = &fetch_ops;
        f->io = &io;
        io.act = ACT_WAKE;
        sched_spawn_labeled(ex, &f->base, "fetch", NULL);
        /* End before the io thread is started: run the first poll only
         * after ending, so the wake comes after it. */
        if (sched_test_end(t, NULL) != 0)
            _exit(4);
        sched_test_tick(t);
        pthread_join(io.th, NULL);
        _exit(0);   /* not reached: the wake aborts */
    }
    close(fds[1]);
    char buf[2048];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf - 1 && (k = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = '\0';
    close(fds[0]);
    int status;
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "libsched: fatal: sched_waker_wake: activity on thread "));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "this test is not deterministic (after sched_test_end)"));
}
#endif

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

/* ---- strict main-thread blocks ----------------------------------------------- */

static sched_value set_flag(void *arg)
{
    *(int *)arg = 1;
    return (sched_value){ .i = 5 };
}

/* A foreground task that spawns a dependency and blocks on it. */
struct blocker {
    sched_foreground_executor *fx;      /* the blocking task's executor */
    sched_foreground_executor *dep_fx;  /* where the dependency runs; NULL: background */
    sched_executor *ex;
    int use_sched_block;                /* sched_block rather than sched_foreground_block */
    int dep_ran;
    int rc;
    sched_value v;
    char msg[2048];
    char report[2048];
};

static sched_value block_on_dependency(void *arg)
{
    struct blocker *b = arg;
    sched_host *host = sched_foreground_executor_host(b->fx);
    sched_task *dep;
    sched_error *err = NULL;
    int rc = b->dep_fx ? sched_foreground_spawn_labeled(b->dep_fx, sched_future_fn(set_flag, &b->dep_ran),
                                                        "needed", &dep)
                       : sched_spawn_labeled(b->ex, sched_future_fn(set_flag, &b->dep_ran), "needed", &dep);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    if (b->use_sched_block)
        b->rc = sched_block(b->ex, sched_task_join(dep), &b->v, &err);
    else
        b->rc = sched_foreground_block(b->fx, sched_task_join(dep), &b->v, &err);
    snprintf(b->msg, sizeof b->msg, "%s", err ? sched_error_message(err) : "");
    sched_test_parking_report(sched_as_test(host), b->report, sizeof b->report);
    sched_error_free(err);
    return (sched_value){ .i = 0 };
}

enum dep_kind { DEP_SAME_EXECUTOR, DEP_OTHER_EXECUTOR, DEP_BACKGROUND };

/* Run one blocking foreground task to the end; b says how it went. */
static void run_blocker(const char *config, int strict_by_control, enum dep_kind kind,
                        int use_sched_block, struct blocker *b)
{
    sched_host *host = open_host(config);
    sched_test *t = sched_as_test(host);
    sched_foreground_executor *fx, *fx2;
    memset(b, 0, sizeof *b);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx), 0);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx2), 0);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &b->ex), 0);
    if (strict_by_control)
        CU_ASSERT_EQUAL(sched_test_set_strict_main_block(t, 1), 0);
    b->fx = fx;
    b->dep_fx = kind == DEP_SAME_EXECUTOR ? fx : kind == DEP_OTHER_EXECUTOR ? fx2 : NULL;
    b->use_sched_block = use_sched_block;
    CU_ASSERT_EQUAL(sched_foreground_spawn_labeled(fx, sched_future_fn(block_on_dependency, b),
                                                   "blocker", NULL), 0);
    sched_test_run_until_parked(t);
    CU_ASSERT(!sched_test_has_pending_tasks(t));
    sched_executor_free(b->ex);
    sched_foreground_executor_free(fx2);
    sched_foreground_executor_free(fx);
    sched_host_close(host);
}

static void test_strict_main_block_fails_a_block_on_its_own_executor(void)
{
    struct blocker b;
    for (int via_block = 0; via_block < 2; via_block++) {
        run_blocker(conf_strict, 0, DEP_SAME_EXECUTOR, via_block, &b);
        CU_ASSERT_EQUAL(b.rc, SCHED_EDEADLK);
        /* Never run: the failed block dropped the join, which cancelled it. */
        CU_ASSERT_EQUAL(b.dep_ran, 0);
        /* The failure lists the task it needed, queued and never run. */
        CU_ASSERT_PTR_NOT_NULL(strstr(b.msg, "blocked on a future that nothing can wake"));
        CU_ASSERT_PTR_NOT_NULL(strstr(b.msg, "\"needed\" (medium, foreground) spawned at"));
        /* And says why it never ran. */
        CU_ASSERT_PTR_NOT_NULL(strstr(b.msg, "\nstrict_main_block: 1 runnable held back, its "
                                             "foreground executor busy running task"));
        CU_ASSERT_PTR_NOT_NULL(strstr(b.report, "strict_main_block: 1 runnable held back, its "
                                                "foreground executor busy running task"));
    }
}

static void test_strict_main_block_by_control(void)
{
    struct blocker b;
    run_blocker(conf_test, 1, DEP_SAME_EXECUTOR, 0, &b);
    CU_ASSERT_EQUAL(b.rc, SCHED_EDEADLK);
    CU_ASSERT_EQUAL(b.dep_ran, 0);
}

static void test_without_strict_main_block_the_block_runs_its_own_executor(void)
{
    struct blocker b;
    run_blocker(conf_test, 0, DEP_SAME_EXECUTOR, 0, &b);
    CU_ASSERT_EQUAL(b.rc, 0);
    CU_ASSERT_EQUAL(b.v.i, 5);
    CU_ASSERT_EQUAL(b.dep_ran, 1);
    CU_ASSERT_STRING_EQUAL(b.msg, "");
}

static void test_strict_main_block_still_runs_other_executors(void)
{
    struct blocker b;
    for (int via_block = 0; via_block < 2; via_block++) {
        run_blocker(conf_strict, 0, DEP_BACKGROUND, via_block, &b);
        CU_ASSERT_EQUAL(b.rc, 0);
        CU_ASSERT_EQUAL(b.v.i, 5);
        CU_ASSERT_EQUAL(b.dep_ran, 1);
        run_blocker(conf_strict, 0, DEP_OTHER_EXECUTOR, via_block, &b);
        CU_ASSERT_EQUAL(b.rc, 0);
        CU_ASSERT_EQUAL(b.v.i, 5);
        CU_ASSERT_EQUAL(b.dep_ran, 1);
    }
}

/* The test body outside any task is the main loop: its own foreground
 * block runs the executor's tasks, strict or not. */
static void test_strict_main_block_leaves_the_test_body_s_block_alone(void)
{
    sched_host *host = open_host(conf_strict);
    sched_foreground_executor *fx;
    sched_task *dep;
    sched_value v = { 0 };
    int ran = 0;
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx), 0);
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, sched_future_fn(set_flag, &ran), &dep), 0);
    CU_ASSERT_EQUAL(sched_foreground_block(fx, sched_task_join(dep), &v, NULL), 0);
    CU_ASSERT_EQUAL(ran, 1);
    CU_ASSERT_EQUAL(v.i, 5);
    sched_foreground_executor_free(fx);
    sched_host_close(host);
}

static void test_strict_main_block_is_refused_where_unsupported(void)
{
    sched_host *host = open_host(conf_cfsim);
    CU_ASSERT_EQUAL(sched_test_set_strict_main_block(sched_as_test(host), 1), SCHED_ENOTSUP);
    CU_ASSERT_EQUAL(sched_test_set_strict_main_block(NULL, 1), SCHED_ENOTSUP);
    sched_host_close(host);
}

/* ---- the pending-waker report ------------------------------------------------ */

static int inner_line, outer_first_line, outer_second_line;

/* Waits on a oneshot nobody sends on. */
struct inner {
    sched_coro co;
    sched_oneshot *o;
    sched_value v;
};

static int inner_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct inner *in = (struct inner *)f;
    SCHED_ASYNC_BEGIN(in);
    inner_line = __LINE__ + 1;
    SCHED_AWAIT(in, sched_oneshot_recv(in->o), &in->v);
    SCHED_RETURN(in, out, in->v);
    SCHED_ASYNC_END(in);
}

static const sched_future_ops inner_ops = { inner_poll, sched_coro_drop_default };

static sched_future *inner_new(sched_oneshot *o)
{
    struct inner *in = (struct inner *)sched_coro_new(sizeof *in, &inner_ops);
    in->o = o;
    return &in->co.base;
}

/* Yields once, then awaits an inner coroutine. */
struct outer {
    sched_coro co;
    sched_oneshot *o;
    sched_value v;
};

static int outer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct outer *o = (struct outer *)f;
    SCHED_ASYNC_BEGIN(o);
    outer_first_line = __LINE__ + 1;
    SCHED_AWAIT(o, sched_yield_now(), &o->v);
    outer_second_line = __LINE__ + 1;
    SCHED_AWAIT(o, inner_new(o->o), &o->v);
    SCHED_RETURN(o, out, o->v);
    SCHED_ASYNC_END(o);
}

static const sched_future_ops outer_ops = { outer_poll, sched_coro_drop_default };

static void test_report_names_the_innermost_await_a_pending_task_waits_in(void)
{
    sched_host *host = open_host(conf_test);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_oneshot *o;
    sched_task *task;
    char report[2048], want[512];
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&o), 0);
    struct outer *st = (struct outer *)sched_coro_new(sizeof *st, &outer_ops);
    st->o = o;
    CU_ASSERT_EQUAL(sched_spawn_labeled(ex, &st->co.base, "fetch", &task), 0);

    /* Polled once: pending in its first await, which is runnable again. */
    CU_ASSERT_EQUAL(sched_test_tick(t), 1);
    sched_test_parking_report(t, report, sizeof report);
    snprintf(want, sizeof want, "\"fetch\" (medium) spawned at");
    CU_ASSERT_PTR_NOT_NULL(strstr(report, want));
    CU_ASSERT_PTR_NULL(strstr(report, "awaited at"));   /* runnable: waits on nothing */

    /* Stuck: the line is the inner coroutine's await, not the outer's. */
    sched_test_run_until_parked(t);
    sched_test_parking_report(t, report, sizeof report);
    snprintf(want, sizeof want, "waiting on a oneshot, awaited at %s:%d in inner_poll()\n",
             __FILE__, inner_line);
    CU_ASSERT_PTR_NOT_NULL(strstr(report, want));
    snprintf(want, sizeof want, ":%d in outer_poll()", outer_second_line);
    CU_ASSERT_PTR_NULL(strstr(report, want));

    /* The same line is in a deadlocked block's sentence. */
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(task), NULL, &err), SCHED_EDEADLK);
    snprintf(want, sizeof want, "awaited at %s:%d in inner_poll()\n", __FILE__, inner_line);
    CU_ASSERT_PTR_NOT_NULL(strstr(err ? sched_error_message(err) : "", want));
    sched_error_free(err);
    sched_oneshot_close(o);
    sched_executor_free(ex);
    sched_host_close(host);
}

/* A hand-written future polled by plain sched_future_poll names no await;
 * one that uses sched_future_poll_at names its own site. */
struct by_hand {
    sched_future base;
    sched_future *inner;
    const sched_site *site;
};

static int by_hand_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct by_hand *h = (struct by_hand *)f;
    return h->site ? sched_future_poll_at(h->inner, cx, out, h->site)
                   : sched_future_poll(h->inner, cx, out);
}

static void by_hand_drop(sched_future *f)
{
    sched_future_drop(((struct by_hand *)f)->inner);
    free(f);
}

static const sched_future_ops by_hand_ops = { by_hand_poll, by_hand_drop };

static void test_report_names_a_site_given_by_hand_and_none_without(void)
{
    static const sched_site site = { "net.c", "read_frame", 88 };
    for (int with_site = 0; with_site < 2; with_site++) {
        sched_host *host = open_host(conf_test);
        sched_test *t = sched_as_test(host);
        sched_executor *ex;
        sched_oneshot *o;
        char report[2048];
        CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
        CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&o), 0);
        struct by_hand *h = malloc(sizeof *h);
        h->base.ops = &by_hand_ops;
        h->inner = sched_oneshot_recv(o);
        h->site = with_site ? &site : NULL;
        CU_ASSERT_EQUAL(sched_spawn_labeled(ex, &h->base, "frame", NULL), 0);
        sched_test_run_until_parked(t);
        sched_test_parking_report(t, report, sizeof report);
        const char *want = with_site ? "waiting on a oneshot, awaited at net.c:88 in read_frame()\n"
                                     : "waiting on a oneshot\n";
        CU_ASSERT_PTR_NOT_NULL(strstr(report, want));
        sched_oneshot_close(o);
        sched_test_run_until_parked(t);
        sched_executor_free(ex);
        sched_host_close(host);
    }
}

/* A task waiting on a timer names its deadline in the report, in decimal,
 * at every length up to the largest delay a timer takes. */
static void test_report_names_a_timers_deadline(void)
{
    static const uint64_t delays[] = { 1, 9, 10, 999999, 1000000,
                                       UINT64_C(4611686018427387904) /* 2^62 */ };
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        sched_host *host = open_host(conf_test);
        sched_test *t = sched_as_test(host);
        sched_executor *ex;
        char report[2048], want[128];
        CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
        struct by_hand *h = malloc(sizeof *h);
        uint64_t due = sched_host_now(host) + delays[i];
        h->base.ops = &by_hand_ops;
        h->inner = sched_timer(host, delays[i]);
        h->site = NULL;
        CU_ASSERT_EQUAL(sched_spawn_labeled(ex, &h->base, "sleep", NULL), 0);
        sched_test_run_until_parked(t);
        sched_test_parking_report(t, report, sizeof report);
        snprintf(want, sizeof want, "waiting on a timer due at %" PRIu64 " ns\n", due);
        CU_ASSERT_PTR_NOT_NULL(strstr(report, want));
        sched_executor_free(ex);
        sched_host_close(host);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("determinism", suite_init, suite_fini);
#define T(name) CU_add_test(s, #name, name)
    T(test_a_wake_from_a_real_thread_fails_the_test_at_its_end);
    T(test_a_drop_on_a_real_thread_fails_the_test_at_its_end);
    T(test_a_child_waker_of_an_all_of_used_on_a_real_thread_fails_the_test);
    T(test_a_wake_from_a_real_thread_fails_the_test_on_cloudflare_sim);
    T(test_with_parking_allowed_a_real_thread_may_wake_a_task);
    T(test_with_parking_allowed_a_real_thread_resumes_a_parked_block);
    T(test_a_seed_sweep_fails_a_seed_with_foreign_activity);
#if !defined(_WIN32)
    T(test_after_the_end_foreign_activity_aborts_at_once);
#endif
    T(test_clock_move_leaves_a_due_timer_unrun_until_a_tick);
    T(test_clock_move_leaves_a_due_timer_unrun_until_a_tick_cloudflare_sim);
    T(test_clock_move_readies_every_due_timer_in_order);
    T(test_strict_main_block_fails_a_block_on_its_own_executor);
    T(test_strict_main_block_by_control);
    T(test_without_strict_main_block_the_block_runs_its_own_executor);
    T(test_strict_main_block_still_runs_other_executors);
    T(test_strict_main_block_leaves_the_test_body_s_block_alone);
    T(test_strict_main_block_is_refused_where_unsupported);
    T(test_report_names_the_innermost_await_a_pending_task_waits_in);
    T(test_report_names_a_site_given_by_hand_and_none_without);
    T(test_report_names_a_timers_deadline);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
