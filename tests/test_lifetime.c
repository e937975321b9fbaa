/* SPDX-License-Identifier: MIT */
/*
 * tests/test_lifetime.c - what an application may still do with its
 * handles after sched_host_close, and the thread rules of the host's own
 * calls, through the public API only.
 *
 * sched_host_open(3) promises that executors, foreground executors, task
 * handles and wakers may be used and freed after the close: each call
 * here must return SCHED_ECLOSED (or NULL, or do nothing) without reading
 * freed memory.  The CI's asan, valgrind and tsan passes run this program
 * under each tool, which turns any such read into a failure.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "sched/sched.h"
#include "sched/session.h"
#include "sched/test.h"

static char config_linux[] = "/tmp/sched-test-lifetime-XXXXXX";
static char config_test[] = "/tmp/sched-test-lifetime-XXXXXX";

static int write_config(char *path, const char *text)
{
    int fd = mkstemp(path);
    size_t len = strlen(text);
    if (fd < 0)
        return -1;
    if (write(fd, text, len) != (ssize_t)len) {
        close(fd);
        return -1;
    }
    return close(fd);
}

static int setup(void)
{
    if (write_config(config_linux, "backend = \"linux\";\nlinux: { threads = 2; };\n") != 0)
        return -1;
    return write_config(config_test, "backend = \"test\";\n");
}

static int teardown(void)
{
    unlink(config_linux);
    unlink(config_test);
    return 0;
}

static sched_host *open_host(const char *config)
{
    sched_host *h = NULL;
    sched_error *err = NULL;
    int rc = sched_host_open(&h, config, &err);
    if (rc != 0)
        fprintf(stderr, "sched_host_open(%s): %s\n", config, sched_error_message(err));
    sched_error_free(err);
    return h;
}

/* ---- a future that counts its drops and never finishes ------------------ */

struct parked {
    sched_future base;
    sched_waker *waker;     /* the last poll's waker, kept */
    atomic_int *dropped;
};

static int parked_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct parked *p = (struct parked *)f;
    (void)out;
    if (p->waker)
        sched_waker_drop(p->waker);
    p->waker = sched_waker_clone(sched_context_waker(cx));
    return SCHED_PENDING;
}

static void parked_drop(sched_future *f)
{
    struct parked *p = (struct parked *)f;
    if (p->waker)
        sched_waker_drop(p->waker);
    atomic_fetch_add(p->dropped, 1);
    free(p);
}

static const sched_future_ops parked_ops = { parked_poll, parked_drop };

static sched_future *parked_new(atomic_int *dropped)
{
    struct parked *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->base.ops = &parked_ops;
    p->dropped = dropped;
    return &p->base;
}

static sched_value nothing(void *arg)
{
    (void)arg;
    return (sched_value){ .u = 0 };
}

/* ---- after close -------------------------------------------------------- */

/* The case sched_host_open(3) names: a foreground executor freed after the
 * host it was made from is closed (it used to read the freed host). */
static void test_foreground_executor_freed_after_close(void)
{
    const char *configs[] = { config_linux, config_test };
    for (size_t i = 0; i < 2; i++) {
        sched_host *h = open_host(configs[i]);
        sched_foreground_executor *fx = NULL;
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
        sched_host_close(h);
        CU_ASSERT_PTR_EQUAL(sched_foreground_executor_host(fx), h);
        sched_foreground_executor_free(fx);
    }
}

/* Every call through an executor after the close fails cleanly with
 * SCHED_ECLOSED and takes the future it was given. */
static void test_executor_calls_after_close_are_refused(void)
{
    atomic_int dropped = 0;
    sched_host *h = open_host(config_linux);
    sched_executor *ex = NULL, *ex2 = NULL;
    sched_foreground_executor *fx = NULL, *fx2 = NULL;
    sched_task *t = NULL;
    sched_future *f;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    sched_host_close(h);

    CU_ASSERT_PTR_EQUAL(sched_executor_host(ex), h);
    CU_ASSERT_EQUAL(sched_spawn(ex, parked_new(&dropped), &t), SCHED_ECLOSED);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(nothing, NULL), NULL), SCHED_ECLOSED);
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, parked_new(&dropped), &t), SCHED_ECLOSED);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(sched_block(ex, parked_new(&dropped), NULL, NULL), SCHED_ECLOSED);
    f = parked_new(&dropped);
    CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 1000, NULL, NULL), SCHED_ECLOSED);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(sched_foreground_block(fx, parked_new(&dropped), NULL, NULL), SCHED_ECLOSED);
    CU_ASSERT_EQUAL(atomic_load(&dropped), 5);

    /* The host pointer itself, while the executors keep it. */
    CU_ASSERT_EQUAL(sched_executor_new(h, &ex2), SCHED_ECLOSED);
    CU_ASSERT_PTR_NULL(ex2);
    CU_ASSERT_EQUAL(sched_foreground_executor_new(h, &fx2), SCHED_ECLOSED);
    CU_ASSERT_PTR_NULL(fx2);
    CU_ASSERT_EQUAL(sched_host_run(h), SCHED_ECLOSED);
    CU_ASSERT_EQUAL(sched_host_dispatch(h), SCHED_ECLOSED);
    {
        int fd = -1;
        CU_ASSERT_EQUAL(sched_host_poll_fd(h, &fd), SCHED_ECLOSED);
        CU_ASSERT_EQUAL(fd, -1);
    }
    CU_ASSERT_PTR_NULL(sched_host_backend_name(h));
    CU_ASSERT_PTR_NULL(sched_host_plugin_path(h));
    CU_ASSERT_PTR_NULL(sched_host_config_path(h));
    CU_ASSERT_PTR_NULL(sched_as_test(h));
    CU_ASSERT(sched_host_num_cpus(h) >= 1);
    CU_ASSERT(sched_host_is_main_thread(h));
    CU_ASSERT(sched_host_now(h) > 0);
    sched_host_stop(h);
    f = sched_timer(h, 1000);
    CU_ASSERT_PTR_NOT_NULL(f);
    CU_ASSERT_EQUAL(sched_block(ex, f, NULL, NULL), SCHED_ECLOSED);
    /* (A second close here is a no-op, or debug mode's abort: test_misuse.) */

    sched_executor_free(ex);
    sched_foreground_executor_free(fx);     /* the last reference: frees the host */
}

/* Task handles, join futures and the wakers a pending future kept: the
 * close dropped the future (its wakers with it), the handle sees a
 * cancelled task, and each can still be used and freed. */
static void test_task_handles_and_wakers_after_close(void)
{
    atomic_int dropped = 0;
    sched_host *h = open_host(config_linux);
    sched_executor *ex = NULL;
    sched_task *t1 = NULL, *t2 = NULL, *t3 = NULL;
    sched_future *join;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, parked_new(&dropped), &t1), 0);
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, parked_new(&dropped), &t2), 0);
    CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sched_future_fn(nothing, NULL), &t3), 0);
    CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t3), NULL, NULL), 0);
    sched_executor_free(ex);
    join = sched_task_join(t2);
    CU_ASSERT_PTR_NOT_NULL(join);
    sched_host_close(h);

    CU_ASSERT_EQUAL(atomic_load(&dropped), 2);
    CU_ASSERT(sched_task_is_finished(t1));
    CU_ASSERT_NOT_EQUAL(sched_task_id(t1), 0);
    sched_task_cancel(t1);
    sched_task_free(t1);
    sched_future_drop(join);
}

/* The waker of a sched_block_with_timeout that gave up, kept by the
 * future it was blocking on, then woken after the close: it must not
 * reach the backend, which is gone. */
static void test_blocked_waker_woken_after_close(void)
{
    const char *configs[] = { config_linux, config_test };
    for (size_t i = 0; i < 2; i++) {
        atomic_int dropped = 0;
        sched_host *h = open_host(configs[i]);
        sched_executor *ex = NULL;
        sched_future *f = parked_new(&dropped);
        sched_waker *w;

        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
        CU_ASSERT_EQUAL(sched_block_with_timeout(ex, &f, 1000, NULL, NULL), SCHED_ETIMEDOUT);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        sched_executor_free(ex);
        w = sched_waker_clone(((struct parked *)f)->waker);
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        sched_host_close(h);
        sched_waker_wake_by_ref(w);
        sched_waker_wake(w);
        sched_future_drop(f);   /* the last reference to the host */
        CU_ASSERT_EQUAL(atomic_load(&dropped), 1);
    }
}

/* A session context (which holds a foreground executor) with a session
 * whose task is still pending, freed after the close. */
static void test_session_context_freed_after_close(void)
{
    const char *configs[] = { config_linux, config_test };
    for (size_t i = 0; i < 2; i++) {
        atomic_int dropped = 0;
        sched_host *h = open_host(configs[i]);
        sched_session_ctx *ctx = NULL;
        sched_task *t = NULL;
        uint64_t id = 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        CU_ASSERT_EQUAL_FATAL(sched_session_ctx_new(h, &ctx, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(sched_session_new(ctx, &id, NULL), 0);
        CU_ASSERT_EQUAL(sched_session_spawn_at(ctx, id, parked_new(&dropped), NULL, SCHED_HERE, &t,
                                               NULL), 0);
        sched_host_close(h);
        CU_ASSERT_EQUAL(atomic_load(&dropped), 1);
        CU_ASSERT(sched_task_is_finished(t));
        sched_task_free(t);
        CU_ASSERT_PTR_NOT_NULL(sched_session_ctx_executor(ctx));
        sched_session_ctx_free(ctx);    /* the last reference to the host */
    }
}

/* ---- the host's thread rules -------------------------------------------- */

struct off_main {
    sched_host *host;
    int poll_fd_rc;
    int dispatch_rc;
    int run_rc;
};

static void *call_off_main(void *arg)
{
    struct off_main *o = arg;
    int fd = -1;
    o->poll_fd_rc = sched_host_poll_fd(o->host, &fd);
    o->dispatch_rc = sched_host_dispatch(o->host);
    o->run_rc = sched_host_run(o->host);
    return NULL;
}

/* sched_host_open(3): poll_fd, dispatch and run belong to the main thread. */
static void test_main_thread_calls_refused_off_main(void)
{
    struct off_main o = { open_host(config_linux), 0, 0, 0 };
    pthread_t th;
    int fd = -1;

    CU_ASSERT_PTR_NOT_NULL_FATAL(o.host);
    CU_ASSERT_EQUAL(sched_host_poll_fd(o.host, &fd), 0);
    CU_ASSERT(fd >= 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, call_off_main, &o), 0);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(o.poll_fd_rc, SCHED_EWRONGTHREAD);
    CU_ASSERT_EQUAL(o.dispatch_rc, SCHED_EWRONGTHREAD);
    CU_ASSERT_EQUAL(o.run_rc, SCHED_EWRONGTHREAD);
    sched_host_close(o.host);
}

static void *close_off_main(void *arg)
{
    sched_host_close(arg);
    return NULL;
}

/* Run fn in a child with stderr captured into msg; returns the child's
 * wait status. */
static int in_child(void (*fn)(void), char *msg, size_t len)
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

static void close_from_a_worker_thread(void)
{
    sched_host *h = open_host(config_linux);
    pthread_t th;
    if (!h || pthread_create(&th, NULL, close_off_main, h) != 0)
        _exit(3);
    pthread_join(th, NULL);
    _exit(4);   /* the close returned: it must not */
}

/* Closing from another thread would tear the backend down under the main
 * thread's feet, and sched_host_close returns nothing: the documented
 * abort, naming the function and both threads. */
static void test_close_off_main_thread_aborts_naming_it(void)
{
    char msg[4096];
    int status = in_child(close_from_a_worker_thread, msg, sizeof msg);
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "libsched: fatal: sched_host_close: called on thread "));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "but the host belongs to its main thread, thread "));
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("lifetime", setup, teardown);
    CU_add_test(s, "a foreground executor freed after close",
                test_foreground_executor_freed_after_close);
    CU_add_test(s, "executor calls after close are refused",
                test_executor_calls_after_close_are_refused);
    CU_add_test(s, "task handles and wakers after close",
                test_task_handles_and_wakers_after_close);
    CU_add_test(s, "a blocked call's waker woken after close",
                test_blocked_waker_woken_after_close);
    CU_add_test(s, "a session context freed after close",
                test_session_context_freed_after_close);
    CU_add_test(s, "main-thread calls are refused off the main thread",
                test_main_thread_calls_refused_off_main);
    CU_add_test(s, "closing off the main thread aborts naming it",
                test_close_off_main_thread_aborts_naming_it);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
