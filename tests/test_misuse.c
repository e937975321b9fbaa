/* SPDX-License-Identifier: MIT */
/*
 * tests/test_misuse.c - debug mode (SCHED_DEBUG=1, libsched(7)): each
 * misuse that a normal build leaves undefined is run in a child process,
 * which must abort with a line naming the public function it called.
 *
 * This process never calls the library itself, so each child reads
 * SCHED_DEBUG afresh at its first call.  A control child runs the same
 * steps with SCHED_DEBUG=0 where that is safe (a second close of a host an
 * executor still holds), proving that the abort is the debug mode's.
 */
#include "config.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "sched/sched.h"

static char config[] = "/tmp/sched-test-misuse-XXXXXX";

static int setup(void)
{
    static const char text[] = "backend = \"linux\";\nlinux: { threads = 2; };\n";
    int fd = mkstemp(config);
    if (fd < 0)
        return -1;
    if (write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1)) {
        close(fd);
        return -1;
    }
    return close(fd);
}

static int teardown(void)
{
    unlink(config);
    return 0;
}

static sched_host *open_host(void)
{
    sched_host *h = NULL;
    if (sched_host_open(&h, config, NULL) != 0)
        _exit(3);
    return h;
}

static sched_value nothing(void *arg)
{
    (void)arg;
    return (sched_value){ .u = 0 };
}

/* A future that keeps the waker of its last poll and never finishes. */
struct parked {
    sched_future base;
    sched_waker *waker;
    atomic_int polled;
};

static int parked_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct parked *p = (struct parked *)f;
    (void)out;
    if (p->waker)
        sched_waker_drop(p->waker);
    p->waker = sched_waker_clone(sched_context_waker(cx));
    atomic_store(&p->polled, 1);
    return SCHED_PENDING;
}

static atomic_int parked_dropped;

static void parked_drop(sched_future *f)
{
    struct parked *p = (struct parked *)f;
    if (p->waker)
        sched_waker_drop(p->waker);
    free(p);
    atomic_fetch_add(&parked_dropped, 1);
}

static const sched_future_ops parked_ops = { parked_poll, parked_drop };

static struct parked *parked_new(void)
{
    struct parked *p = calloc(1, sizeof *p);
    if (!p)
        _exit(3);
    p->base.ops = &parked_ops;
    return p;
}

/* ---- the misuses, each the body of a child ------------------------------ */

static void executor_freed_twice(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    if (sched_executor_new(h, &ex) != 0)
        _exit(3);
    sched_executor_free(ex);
    sched_executor_free(ex);
}

static void executor_used_after_free(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    if (sched_executor_new(h, &ex) != 0)
        _exit(3);
    sched_executor_free(ex);
    sched_spawn(ex, sched_future_fn(nothing, NULL), NULL);
}

static void foreground_executor_freed_twice(void)
{
    sched_host *h = open_host();
    sched_foreground_executor *fx = NULL;
    if (sched_foreground_executor_new(h, &fx) != 0)
        _exit(3);
    sched_foreground_executor_free(fx);
    sched_foreground_executor_free(fx);
}

static void task_freed_twice(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_task *t = NULL;
    if (sched_executor_new(h, &ex) != 0 || sched_spawn(ex, sched_future_fn(nothing, NULL), &t) != 0)
        _exit(3);
    sched_block(ex, sched_task_join(t), NULL, NULL);  /* consumed the handle */
    sched_task_free(t);
}

/* Joined while the task still runs: the handle is gone, the task not. */
static void join_after_detach_while_running(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_task *t = NULL;
    if (sched_executor_new(h, &ex) != 0 || sched_spawn(ex, &parked_new()->base, &t) != 0)
        _exit(3);
    sched_task_detach(t);
    sched_task_join(t);
}

/* Joined after the task finished: the detach freed it. */
static void join_after_detach_when_finished(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    sched_task *t = NULL, *u = NULL;
    if (sched_executor_new(h, &ex) != 0 || sched_spawn(ex, sched_future_fn(nothing, NULL), &t) != 0
        || sched_spawn(ex, sched_future_fn(nothing, NULL), &u) != 0)
        _exit(3);
    /* Finish t: when u's join returns, t (spawned first) may still be
     * queued, so wait for t itself. */
    while (!sched_task_is_finished(t))
        sched_block(ex, sched_yield_now(), NULL, NULL);
    sched_block(ex, sched_task_join(u), NULL, NULL);
    sched_task_detach(t);
    sched_task_join(t);
}

/* A blocked call's waker, its last reference dropped, then woken. */
static void blocker_waker_woken_after_drop(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    struct parked *p = parked_new();
    sched_future *f = &p->base;
    sched_waker *w;
    if (sched_executor_new(h, &ex) != 0
        || sched_block_with_timeout(ex, &f, 1000, NULL, NULL) != SCHED_ETIMEDOUT)
        _exit(3);
    w = sched_waker_clone(p->waker);
    sched_future_drop(f);
    sched_waker_drop(w);
    sched_waker_wake(w);
}

/* A task's waker kept past the task: cancelled, handle freed, the future
 * dropped, and then the kept clone's reference dropped too.  On the test
 * backend, so the task's own reference is gone when the drop is seen: on
 * a worker pool the worker may still hold it for a moment after the
 * future's drop returns, and then the clone's drop is not the last. */
static void task_waker_woken_after_drop(void)
{
    setenv("SCHED_BACKEND", "test", 1);
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    struct parked *p = parked_new();
    sched_task *t = NULL;
    sched_waker *w;
    if (sched_executor_new(h, &ex) != 0 || sched_spawn(ex, &p->base, &t) != 0)
        _exit(3);
    while (!atomic_load(&p->polled))
        sched_block(ex, sched_yield_now(), NULL, NULL);
    w = sched_waker_clone(p->waker);
    sched_task_free(t);                 /* cancels: the future and its waker go */
    while (!atomic_load(&parked_dropped))
        sched_block(ex, sched_yield_now(), NULL, NULL);
    sched_waker_drop(w);                /* the last reference */
    sched_waker_wake_by_ref(w);
}

/* A child waker of an all-of kept past its set: the all-of dropped, then
 * the kept clone's reference, the set's last, dropped too. */
static sched_waker *dropped_child_waker(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    struct parked *p = parked_new();
    sched_future *child = &p->base;
    sched_future *f = sched_all(&child, 1);
    sched_waker *w;
    if (f == NULL || sched_executor_new(h, &ex) != 0
        || sched_block_with_timeout(ex, &f, 1000, NULL, NULL) != SCHED_ETIMEDOUT)
        _exit(3);
    w = sched_waker_clone(p->waker);
    sched_future_drop(f);
    sched_waker_drop(w);
    return w;
}

static void child_waker_woken_after_drop(void)
{
    sched_waker_wake(dropped_child_waker());
}

static void child_waker_woken_by_ref_after_drop(void)
{
    sched_waker_wake_by_ref(dropped_child_waker());
}

static void child_waker_cloned_after_drop(void)
{
    sched_waker_clone(dropped_child_waker());
}

static void child_waker_dropped_after_drop(void)
{
    sched_waker_drop(dropped_child_waker());
}

static void host_closed_twice(void)
{
    sched_host *h = open_host();
    sched_executor *ex = NULL;
    if (sched_executor_new(h, &ex) != 0)
        _exit(3);
    sched_host_close(h);
    sched_host_close(h);
    sched_executor_free(ex);
}

static void host_closed_twice_after_last_handle(void)
{
    sched_host *h = open_host();
    sched_host_close(h);
    sched_host_close(h);
}

/* ---- running them ------------------------------------------------------- */

/* Run fn in a child with SCHED_DEBUG set to debug (unset when NULL);
 * stderr goes to msg.  Returns the wait status. */
static int in_child(void (*fn)(void), const char *debug, char *msg, size_t len)
{
    int fds[2], status = 0;
    size_t got = 0;
    ssize_t n;
    pid_t pid;

    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (debug)
            setenv("SCHED_DEBUG", debug, 1);
        else
            unsetenv("SCHED_DEBUG");
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    while (got < len - 1 && (n = read(fds[0], msg + got, len - 1 - got)) > 0)
        got += (size_t)n;
    msg[got] = '\0';
    close(fds[0]);
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

static void expect_abort(void (*fn)(void), const char *line)
{
    char msg[4096];
    int status = in_child(fn, "1", msg, sizeof msg);
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, line));
    if (!strstr(msg, line))
        fprintf(stderr, "expected \"%s\", got \"%s\"\n", line, msg);
}

static void test_executor_freed_twice(void)
{
    expect_abort(executor_freed_twice, "libsched: fatal: sched_executor_free: executor 0x");
    expect_abort(executor_freed_twice, "was already freed");
}

static void test_executor_used_after_free(void)
{
    expect_abort(executor_used_after_free,
                 "libsched: fatal: sched_executor_spawn_at: executor 0x");
}

static void test_foreground_executor_freed_twice(void)
{
    expect_abort(foreground_executor_freed_twice,
                 "libsched: fatal: sched_foreground_executor_free: foreground executor 0x");
}

static void test_task_freed_after_join(void)
{
    expect_abort(task_freed_twice, "libsched: fatal: sched_task_free: task handle 0x");
    expect_abort(task_freed_twice, "was already detached, joined or freed");
}

static void test_join_after_detach(void)
{
    expect_abort(join_after_detach_while_running,
                 "libsched: fatal: sched_task_join: task handle 0x");
    expect_abort(join_after_detach_when_finished,
                 "libsched: fatal: sched_task_join: task handle 0x");
}

static void test_wake_after_drop(void)
{
    expect_abort(blocker_waker_woken_after_drop, "libsched: fatal: sched_waker_wake: waker 0x");
    expect_abort(blocker_waker_woken_after_drop,
                 "was used after its last reference was dropped");
    expect_abort(task_waker_woken_after_drop,
                 "libsched: fatal: sched_waker_wake_by_ref: waker 0x");
}

/* A child waker of an all-of used after its set is gone: the message
 * names the function called, each of the four. */
static void test_child_waker_used_after_drop(void)
{
    expect_abort(child_waker_woken_after_drop, "libsched: fatal: sched_waker_wake: waker 0x");
    expect_abort(child_waker_woken_after_drop, "was used after its last reference was dropped");
    expect_abort(child_waker_woken_by_ref_after_drop,
                 "libsched: fatal: sched_waker_wake_by_ref: waker 0x");
    expect_abort(child_waker_cloned_after_drop, "libsched: fatal: sched_waker_clone: waker 0x");
    expect_abort(child_waker_dropped_after_drop, "libsched: fatal: sched_waker_drop: waker 0x");
}

static void test_double_close(void)
{
    char msg[4096];
    expect_abort(host_closed_twice, "libsched: fatal: sched_host_close: host 0x");
    expect_abort(host_closed_twice, "was already closed");
    expect_abort(host_closed_twice_after_last_handle, "libsched: fatal: sched_host_close: host 0x");
    /* Outside debug mode the same steps are a documented no-op. */
    CU_ASSERT_EQUAL(in_child(host_closed_twice, "0", msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
}

/* Without SCHED_DEBUG, the mode is configure's: on with --enable-debug. */
static void test_default_is_the_configured_one(void)
{
    char msg[4096];
    int status = in_child(host_closed_twice, NULL, msg, sizeof msg);
#ifdef SCHED_DEBUG_DEFAULT
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "libsched: fatal: sched_host_close: host 0x"));
    /* and SCHED_DEBUG=0 still turns it off */
    CU_ASSERT_EQUAL(in_child(host_closed_twice, "0", msg, sizeof msg), 0);
#else
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
#endif
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("debug mode", setup, teardown);
    CU_add_test(s, "an executor freed twice aborts", test_executor_freed_twice);
    CU_add_test(s, "an executor used after free aborts", test_executor_used_after_free);
    CU_add_test(s, "a foreground executor freed twice aborts",
                test_foreground_executor_freed_twice);
    CU_add_test(s, "a task handle freed after its join aborts", test_task_freed_after_join);
    CU_add_test(s, "a join after detach aborts", test_join_after_detach);
    CU_add_test(s, "a wake after the last drop aborts", test_wake_after_drop);
    CU_add_test(s, "a child waker used after its set is gone aborts",
                test_child_waker_used_after_drop);
    CU_add_test(s, "a second close aborts", test_double_close);
    CU_add_test(s, "the default is the configured one", test_default_is_the_configured_one);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
