/* SPDX-License-Identifier: MIT */
/*
 * tests/test_determinism_watch.c - what else a deterministic test cannot
 * see, caught as a user meets it: the public headers, real config files,
 * the installed test and cloudflare-sim backends.
 *
 *   - a real thread spawns onto an executor of the host, a labelled task
 *     with a handle or a detached function: with parking forbidden the
 *     test fails at its end, naming the thread, the task, its label and
 *     spawn site, as a foreign wake does; with parking allowed it passes;
 *     after the end such a spawn aborts at once;
 *   - a real thread wakes, or drops, the waker of a call blocked on the
 *     main thread: the same, in one activity for a wake; a call blocked on
 *     a real thread, which is outside the schedule itself, is not watched.
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

#include <sched/sched.h>
#include <sched/test.h>

#include "foreign_io.h"
#include "tb_conf.h"

static const char *conf_test, *conf_cfsim;

static int suite_init(void)
{
    conf_test = conf("backend = \"test\";\ntest: { seed = 7; };\n");
    conf_cfsim = conf("backend = \"cloudflare-sim\";\n");
    return 0;
}

static int suite_fini(void)
{
    conf_unlink_all();
    return 0;
}

/* ---- a spawn from a thread the scheduler does not run ----------------------- */

static sched_value bump(void *arg)
{
    ++*(int *)arg;
    return (sched_value){ .i = 0 };
}

/* A real thread that spawns onto ex: a labelled task with a handle
 * (labelled), a detached function (detached), or both, in that order. */
struct spawner {
    pthread_t th;
    sched_executor *ex;
    int labelled, detached;
    int ran;                    /* what the spawned tasks bumped */
    sched_task *task;           /* the labelled one's handle */
    int rc_labelled, rc_detached;
    int line_labelled, line_detached;
};

static void *spawner_main(void *arg)
{
    struct spawner *sp = arg;
#if defined(__GLIBC__)
    pthread_setname_np(pthread_self(), "spawner");
#endif
    if (sp->labelled) {
        sp->line_labelled = __LINE__ + 1;
        sp->rc_labelled = sched_spawn_labeled(sp->ex, sched_future_fn(bump, &sp->ran), "job",
                                              &sp->task);
    }
    if (sp->detached) {
        sp->line_detached = __LINE__ + 1;
        sp->rc_detached = sched_spawn(sp->ex, sched_future_fn(bump, &sp->ran), NULL);
    }
    return NULL;
}

/* Spawn from a real thread, join it, then run what it spawned on the
 * main thread: each task runs once, wherever it came from.  Returns the
 * labelled task's id (0 without one). */
static uint64_t spawn_from_a_thread(sched_host *host, struct spawner *sp)
{
    sched_test *t = sched_as_test(host);
    uint64_t id = 0;
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &sp->ex), 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&sp->th, NULL, spawner_main, sp), 0);
    pthread_join(sp->th, NULL);
    CU_ASSERT_EQUAL(sp->rc_labelled, 0);
    CU_ASSERT_EQUAL(sp->rc_detached, 0);
    sched_test_run_until_parked(t);
    CU_ASSERT_EQUAL(sp->ran, sp->labelled + sp->detached);
    if (sp->task != NULL) {
        id = sched_task_id(sp->task);
        CU_ASSERT(sched_task_is_finished(sp->task));
        sched_task_free(sp->task);
    }
    sched_executor_free(sp->ex);
    return id;
}

/* The id of the one task of the history other than skip. */
static uint64_t other_task(sched_test *t, uint64_t skip)
{
    const sched_test_step *steps = NULL;
    size_t n = sched_test_history(t, &steps);
    for (size_t i = 0; i < n; i++)
        if (steps[i].task_id != skip)
            return steps[i].task_id;
    CU_FAIL("no other task ran");
    return 0;
}

/* A labelled task with a handle, then a detached function: the first is
 * told in full, the second named briefly, with the first one's stack. */
static void a_spawn_from_a_real_thread_fails_the_test(const char *config)
{
    sched_host *host = open_host(config);
    sched_test *t = sched_as_test(host);
    struct spawner sp = { .labelled = 1, .detached = 1 };
    sched_error *err = NULL;
    char want[512];

    uint64_t id = spawn_from_a_thread(host, &sp);
    uint64_t detached = other_task(t, id);
    CU_ASSERT_EQUAL(sched_test_end(t, &err), SCHED_EBACKEND);
    const char *msg = err ? sched_error_message(err) : "";
    CU_ASSERT_EQUAL(strncmp(msg, "activity on thread ", 19), 0);
#if defined(__GLIBC__)
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, " (spawner) spawned task "));
#endif
    snprintf(want, sizeof want,
             " spawned task %" PRIu64 " \"job\" (spawned at %s:%d in spawner_main()), but the "
             "test scheduler runs on thread ",
             id, __FILE__, sp.line_labelled);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, ": this test is not deterministic; 1 more such activity: "
                                       "thread "));
    snprintf(want, sizeof want, " spawned task %" PRIu64, detached);
#if defined(__GLIBC__)
    snprintf(want, sizeof want, " (spawner) spawned task %" PRIu64 "; the first task was spawned "
             "from:\n  ", detached);
#endif
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    sched_error_free(err);
    /* Asked again, the end says the same. */
    CU_ASSERT_EQUAL(sched_test_end(t, NULL), SCHED_EBACKEND);
    sched_host_close(host);
}

static void test_a_spawn_from_a_real_thread_fails_the_test(void)
{
    a_spawn_from_a_real_thread_fails_the_test(conf_test);
}

static void test_a_spawn_from_a_real_thread_fails_the_test_on_cloudflare_sim(void)
{
    a_spawn_from_a_real_thread_fails_the_test(conf_cfsim);
}

/* The detached function alone, the spawn without a task object of its
 * own until it is made: told in full, without a label. */
static void test_a_detached_spawn_from_a_real_thread_fails_the_test(void)
{
    sched_host *host = open_host(conf_test);
    sched_test *t = sched_as_test(host);
    struct spawner sp = { .detached = 1 };
    sched_error *err = NULL;
    char want[512];

    spawn_from_a_thread(host, &sp);
    CU_ASSERT_EQUAL(sched_test_end(t, &err), SCHED_EBACKEND);
    const char *msg = err ? sched_error_message(err) : "";
    snprintf(want, sizeof want,
             " spawned task %" PRIu64 " (spawned at %s:%d in spawner_main()), but the test "
             "scheduler runs on thread ",
             other_task(t, 0), __FILE__, sp.line_detached);
    CU_ASSERT_EQUAL(strncmp(msg, "activity on thread ", 19), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    CU_ASSERT_PTR_NULL(strstr(msg, "more such"));
    sched_error_free(err);
    sched_host_close(host);
}

/* With parking allowed a real thread's spawn is the test's purpose; on
 * the main thread it is part of the schedule.  Neither is recorded. */
static void test_a_spawn_with_parking_allowed_or_on_the_main_thread_passes(void)
{
    const char *configs[] = { conf_test, conf_cfsim };
    for (int i = 0; i < 2; i++) {
        sched_host *host = open_host(configs[i]);
        sched_test *t = sched_as_test(host);
        sched_executor *ex;
        int ran = 0;
        CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
        CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(bump, &ran), NULL), 0);
        CU_ASSERT_EQUAL(sched_spawn_labeled(ex, sched_future_fn(bump, &ran), "main", NULL), 0);
        sched_test_run_until_parked(t);
        CU_ASSERT_EQUAL(ran, 2);
        sched_executor_free(ex);
        sched_test_allow_parking(t);
        struct spawner sp = { .labelled = 1, .detached = 1 };
        spawn_from_a_thread(host, &sp);
        CU_ASSERT_EQUAL(sched_test_end(t, NULL), 0);
        sched_host_close(host);
    }
}

#if !defined(_WIN32)
/* After the end there is nothing left to fail: the spawn aborts. */
static void test_after_the_end_a_spawn_from_a_real_thread_aborts_at_once(void)
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
        struct spawner sp = { .detached = 1 };
        if (sched_test_end(sched_as_test(host), NULL) != 0
            || sched_executor_new(host, &sp.ex) != 0)
            _exit(4);
        if (pthread_create(&sp.th, NULL, spawner_main, &sp) == 0)
            pthread_join(sp.th, NULL);
        _exit(0);   /* not reached: the spawn aborts */
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
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "libsched: fatal: sched_spawn: activity on thread "));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, " spawned task "));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "this test is not deterministic (after sched_test_end)"));
}
#endif

/* ---- the waker of a blocked call ---------------------------------------------- */

/* The io-worker thread: tests/foreign_io.h. */

/* First poll: hand a clone of the waker to a real thread and wait for it
 * to be done with it (so the test does not depend on timing), waking
 * itself when the thread only drops it; second poll: done.  Whoever polls
 * it, a task or a blocked call, its waker is what the thread uses. */
struct handoff {
    sched_future base;
    enum foreign_act act;
    int polls;
};

static int handoff_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct handoff *h = (struct handoff *)f;
    struct io_thread io = { .act = h->act };
    if (h->polls++ > 0) {
        out->i = 1;
        return 0;
    }
    io.w = sched_waker_clone(sched_context_waker(cx));
    if (pthread_create(&io.th, NULL, io_main, &io) != 0)
        return SCHED_ENOMEM;
    pthread_join(io.th, NULL);
    if (h->act == ACT_DROP)
        sched_waker_wake_by_ref(sched_context_waker(cx));
    return SCHED_PENDING;
}

static void handoff_drop(sched_future *f)
{
    free(f);
}

static const sched_future_ops handoff_ops = { handoff_poll, handoff_drop };

static sched_future *handoff(enum foreign_act act)
{
    struct handoff *h = calloc(1, sizeof *h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    h->base.ops = &handoff_ops;
    h->act = act;
    return &h->base;
}

/* Block the main thread on a handoff: it returns, and the end says what
 * the real thread did to the blocked call's waker. */
static void a_blocked_calls_waker_used_on_a_real_thread_fails_the_test(const char *config,
                                                                       enum foreign_act act)
{
    sched_host *host = open_host(config);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_value v = { .i = 0 };
    sched_error *err = NULL;
    char want[512];
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    CU_ASSERT_EQUAL(sched_block(ex, handoff(act), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 1);
    CU_ASSERT_EQUAL(sched_test_end(t, &err), SCHED_EBACKEND);
    const char *msg = err ? sched_error_message(err) : "";
    CU_ASSERT_EQUAL(strncmp(msg, "activity on thread ", 19), 0);
    snprintf(want, sizeof want, " %s a call blocked on the main thread, but the test scheduler "
             "runs on thread ", act == ACT_WAKE ? "woke" : "dropped the waker of");
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
#if defined(__GLIBC__)
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, " (io-worker) "));
    /* One activity: a wake is not also counted as its drop. */
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, ": this test is not deterministic; the waker was used "
                                       "from:\n  "));
#else
    CU_ASSERT_PTR_NULL(strstr(msg, "more such"));
#endif
    sched_error_free(err);
    sched_executor_free(ex);
    sched_host_close(host);
}

static void test_a_blocked_calls_waker_used_on_a_real_thread_fails_the_test(void)
{
    a_blocked_calls_waker_used_on_a_real_thread_fails_the_test(conf_test, ACT_WAKE);
    a_blocked_calls_waker_used_on_a_real_thread_fails_the_test(conf_test, ACT_DROP);
}

static void test_a_blocked_calls_waker_used_on_a_real_thread_fails_on_cloudflare_sim(void)
{
    a_blocked_calls_waker_used_on_a_real_thread_fails_the_test(conf_cfsim, ACT_WAKE);
    a_blocked_calls_waker_used_on_a_real_thread_fails_the_test(conf_cfsim, ACT_DROP);
}

/* A real thread that blocks itself: its poll clones, wakes and drops its
 * own waker on that thread, outside the schedule from the start. */
struct self_wake {
    sched_future base;
    int polls;
};

static int self_wake_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct self_wake *sw = (struct self_wake *)f;
    if (sw->polls++ > 0) {
        out->i = 2;
        return 0;
    }
    sched_waker_wake(sched_waker_clone(sched_context_waker(cx)));
    return SCHED_PENDING;
}

static void self_wake_drop(sched_future *f)
{
    free(f);
}

static const sched_future_ops self_wake_ops = { self_wake_poll, self_wake_drop };

struct blocker_thread {
    sched_executor *ex;
    int rc;
    sched_value v;
};

static void *blocker_main(void *arg)
{
    struct blocker_thread *bt = arg;
    struct self_wake *sw = calloc(1, sizeof *sw);
    if (sw == NULL) {
        bt->rc = SCHED_ENOMEM;
        return NULL;
    }
    sw->base.ops = &self_wake_ops;
    bt->rc = sched_block(bt->ex, &sw->base, &bt->v, NULL);
    return NULL;
}

/* With parking allowed, the blocked call's waker is the test's to hand
 * out; a call blocked on another thread is not the schedule's.  Neither
 * is recorded. */
static void test_a_blocked_calls_waker_is_not_watched_with_parking_allowed_or_off_main(void)
{
    sched_host *host = open_host(conf_test);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_value v = { .i = 0 };
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    struct blocker_thread bt = { .ex = ex, .rc = -1 };
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, blocker_main, &bt), 0);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(bt.rc, 0);
    CU_ASSERT_EQUAL(bt.v.i, 2);
    sched_test_allow_parking(t);
    CU_ASSERT_EQUAL(sched_block(ex, handoff(ACT_WAKE), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 1);
    CU_ASSERT_EQUAL(sched_test_end(t, NULL), 0);
    sched_executor_free(ex);
    sched_host_close(host);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("determinism watch", suite_init, suite_fini);
#define T(name) CU_add_test(s, #name, name)
    T(test_a_spawn_from_a_real_thread_fails_the_test);
    T(test_a_spawn_from_a_real_thread_fails_the_test_on_cloudflare_sim);
    T(test_a_detached_spawn_from_a_real_thread_fails_the_test);
    T(test_a_spawn_with_parking_allowed_or_on_the_main_thread_passes);
#if !defined(_WIN32)
    T(test_after_the_end_a_spawn_from_a_real_thread_aborts_at_once);
#endif
    T(test_a_blocked_calls_waker_used_on_a_real_thread_fails_the_test);
    T(test_a_blocked_calls_waker_used_on_a_real_thread_fails_on_cloudflare_sim);
    T(test_a_blocked_calls_waker_is_not_watched_with_parking_allowed_or_off_main);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
