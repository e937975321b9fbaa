/* SPDX-License-Identifier: MIT */
/*
 * tests/test_task.c - task-core behaviour no backend can show: a backend
 * that runs a foreground task on the wrong thread, the oneshot's memory
 * when its two sides let go on two threads at once, and what races
 * sched_host_close: the host's own timer thread, and a foreground task
 * woken from a worker; and a block on a yielding future on the test
 * backend in both of its orders; and the per-thread cache of task blocks
 * giving back everything a thread freed once it exits and the host
 * closes.  (The executor contract itself is tests/conformance/, on every
 * backend.)
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdatomic.h>

#if defined(HAVE_MALLINFO2)
#include <malloc.h>
#endif

#include "sched/sched.h"
#include "task.h"

static sched_value nothing(void *arg)
{
    (void)arg;
    return (sched_value){ .u = 0 };
}

/* The child: a foreground task on the "misroute" backend, which hands
 * main-thread work to its worker thread.  Must not return. */
static int run_misrouted(const char *config)
{
    sched_host *h = NULL;
    sched_foreground_executor *fx = NULL;
    sched_task *t = NULL;
    if (sched_host_open(&h, config, NULL) != 0 || sched_foreground_executor_new(h, &fx) != 0)
        return 3;
    if (sched_foreground_spawn(fx, sched_future_fn(nothing, NULL), &t) != 0)
        return 4;
    sched_foreground_block(fx, sched_task_join(t), NULL, NULL);
    return 0;
}

static void test_backend_running_foreground_task_off_main_thread_aborts(void)
{
    char config[] = "/tmp/sched-test-task-XXXXXX";
    char msg[2048];
    size_t len = 0;
    ssize_t n;
    int fds[2], status = 0, fd = mkstemp(config);
    pid_t pid;

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, "backend = \"misroute\";\n", 22) == 22);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
    if (pid == 0) {
        char dir[1024];
        const char *top = getenv("SCHED_TOP_BUILDDIR");
        snprintf(dir, sizeof dir, "%s/tests/conformance/.libs", top ? top : ".");
        setenv("SCHED_PLUGIN_PATH", dir, 1);
        dup2(fds[1], 2);
        close(fds[0]);
        _exit(run_misrouted(config));
    }
    close(fds[1]);
    while (len < sizeof msg - 1 && (n = read(fds[0], msg + len, sizeof msg - 1 - len)) > 0)
        len += (size_t)n;
    msg[len] = '\0';
    close(fds[0]);
    unlink(config);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "libsched: fatal: a backend ran a foreground task on thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "but the foreground executor belongs to thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "(task spawned at "));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "test_task.c:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "in run_misrouted())"));
}

/* sched_foreground_block from a thread other than the main thread. */
static void *block_from_wrong_thread(void *arg)
{
    sched_foreground_block((sched_foreground_executor *)arg,
                           sched_future_ready((sched_value){ .i = 1 }), NULL, NULL);
    return NULL;
}

/* The child: returns only if the library failed to abort. */
static int misuse_foreground_block(void)
{
    char config[] = "/tmp/sched-test-task-XXXXXX", dir[1024];
    const char *top = getenv("SCHED_TOP_BUILDDIR");
    sched_host *h = NULL;
    sched_foreground_executor *fx = NULL;
    pthread_t th;
    int fd = mkstemp(config);
    if (fd < 0 || write(fd, "backend = \"test\";\n", 17) != 17)
        return 3;
    close(fd);
    snprintf(dir, sizeof dir, "%s/plugins/test/.libs", top ? top : ".");
    setenv("SCHED_PLUGIN_PATH", dir, 1);
    fd = sched_host_open(&h, config, NULL);
    unlink(config);
    if (fd != 0 || sched_foreground_executor_new(h, &fx) != 0)
        return 4;
    if (pthread_create(&th, NULL, block_from_wrong_thread, fx) != 0)
        return 5;
    pthread_join(th, NULL);
    return 0;
}

/* The abort names the public function and the caller's site (it used to
 * name sched_foreground_executor_host, an internal step, and no site). */
static void test_foreground_block_off_the_main_thread_aborts_naming_it_and_the_caller(void)
{
    char msg[2048];
    size_t len = 0;
    ssize_t n;
    int fds[2], status = 0;
    pid_t pid;

    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        _exit(misuse_foreground_block());
    }
    close(fds[1]);
    while (len < sizeof msg - 1 && (n = read(fds[0], msg + len, sizeof msg - 1 - len)) > 0)
        len += (size_t)n;
    msg[len] = '\0';
    close(fds[0]);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "libsched: fatal: sched_foreground_block called on thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "but the foreground executor belongs to thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "(called at "));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "test_task.c:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "in block_from_wrong_thread())"));
    CU_ASSERT_PTR_NULL(strstr(msg, "sched_foreground_executor_host"));
}

/* A oneshot is freed by whichever side lets go second.  The sender must
 * touch it no more once it has let go, even while it is still waking the
 * receiver: here one thread sends on each oneshot while another drops
 * the receiving future, so the two race on every one of them.  A sender
 * that reads the oneshot after its release shows up under ASan, TSan and
 * valgrind as a use after free. */
enum { RACE_N = 20000 };

struct race {
    sched_oneshot *o[RACE_N];
    _Atomic int go;
    int sent_ok, sent_closed;
};

static void *race_sender(void *arg)
{
    struct race *r = arg;
    int i;
    while (!atomic_load(&r->go))
        ;
    for (i = 0; i < RACE_N; i++) {
        int rc = sched_oneshot_send(r->o[i], (sched_value){ .i = i });
        r->sent_ok += rc == 0;
        r->sent_closed += rc == SCHED_ECLOSED;
    }
    return NULL;
}

static void test_oneshot_send_racing_receiver_drop(void)
{
    static struct race r;
    sched_future *recv[RACE_N];
    pthread_t th;
    int i;

    memset(&r, 0, sizeof r);
    for (i = 0; i < RACE_N; i++) {
        CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&r.o[i]), 0);
        recv[i] = sched_oneshot_recv(r.o[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(recv[i]);
    }
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, race_sender, &r), 0);
    atomic_store(&r.go, 1);
    for (i = 0; i < RACE_N; i++)
        sched_future_drop(recv[i]);
    pthread_join(th, NULL);
    /* Each send either delivered or found the receiver gone. */
    CU_ASSERT_EQUAL(r.sent_ok + r.sent_closed, RACE_N);
}

/* ---- a timer armed while the host closes --------------------------------- */

/* On a backend without schedule_after the host runs its own timer thread,
 * started by the first timer.  A worker arming the host's first timer while
 * sched_host_close runs must be refused, not start a thread that outlives
 * the host. */
static _Atomic int arm_go;

struct armer {
    sched_future base;
    sched_host *host;
    sched_future *timer;
};

static int armer_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct armer *a = (struct armer *)f;
    while (!atomic_load(&arm_go))
        ;
    a->timer = sched_timer(a->host, 1000000000ull);
    return a->timer ? sched_future_poll(a->timer, cx, out) : SCHED_ENOMEM;
}

static void armer_drop(sched_future *f)
{
    struct armer *a = (struct armer *)f;
    sched_future_drop(a->timer);
    free(a);
}

static const sched_future_ops armer_ops = { armer_poll, armer_drop };

static void test_first_timer_armed_while_the_host_closes_is_refused(void)
{
    enum { CYCLES = 2000 };     /* the window is narrow: catch it most runs */
    char config[] = "/tmp/sched-test-task-XXXXXX";
    char dir[1024];
    const char *top = getenv("SCHED_TOP_BUILDDIR");
    int fd = mkstemp(config), i, opened = 0;

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, "backend = \"minimal\";\n", 21) == 21);
    close(fd);
    snprintf(dir, sizeof dir, "%s/tests/conformance/.libs", top ? top : ".");
    setenv("SCHED_PLUGIN_PATH", dir, 1);
    srand(3);
    for (i = 0; i < CYCLES; i++) {
        sched_host *h = NULL;
        sched_executor *ex = NULL;
        struct armer *a = calloc(1, sizeof *a);
        volatile unsigned spin;
        unsigned jitter = (unsigned)(rand() % 6000);
        if (!a || sched_host_open(&h, config, NULL) != 0 || sched_executor_new(h, &ex) != 0) {
            free(a);
            sched_host_close(h);
            break;
        }
        opened++;
        a->base.ops = &armer_ops;
        a->host = h;
        atomic_store(&arm_go, 0);
        CU_ASSERT_EQUAL(sched_spawn(ex, &a->base, NULL), 0);
        usleep(200);        /* a worker is waiting in armer_poll */
        sched_executor_free(ex);
        atomic_store(&arm_go, 1);
        for (spin = 0; spin < jitter; spin++)
            ;
        sched_host_close(h);
    }
    unsetenv("SCHED_PLUGIN_PATH");
    unlink(config);
    CU_ASSERT_EQUAL(opened, CYCLES);
}

/* ---- a foreground task woken while the host closes ---------------------- */

/* The foreground task: pending until woken; records where it is dropped. */
static _Atomic(sched_waker *) fg_waker;
static sched_oneshot *fg_started;
static pthread_t fg_dropped_on;
static _Atomic int fg_drops;

static int fg_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    (void)f, (void)out;
    sched_waker *old = atomic_exchange(&fg_waker, sched_waker_clone(sched_context_waker(cx)));
    sched_waker_drop(old);
    if (fg_started) {
        sched_oneshot_send(fg_started, (sched_value){ .u = 1 });
        fg_started = NULL;
    }
    return SCHED_PENDING;
}

static void fg_drop(sched_future *f)
{
    fg_dropped_on = pthread_self();
    atomic_fetch_add(&fg_drops, 1);
    free(f);
}

static const sched_future_ops fg_ops = { fg_poll, fg_drop };

/* The background task: on the worker, waits until spawning is refused (the
 * host is closing), then wakes the foreground task, which can no longer be
 * queued. */
static sched_executor *waker_ex;

static sched_value nothing_fn(void *arg)
{
    (void)arg;
    return (sched_value){ .u = 0 };
}

static sched_value wake_when_closing(void *arg)
{
    (void)arg;
    while (sched_spawn(waker_ex, sched_future_fn(nothing_fn, NULL), NULL) != SCHED_ECLOSED)
        usleep(100);
    sched_waker_wake(atomic_exchange(&fg_waker, NULL));
    return (sched_value){ .u = 0 };
}

static void test_foreground_task_woken_while_closing_is_dropped_on_main(void)
{
    char config[] = "/tmp/sched-test-task-XXXXXX";
    char dir[1024];
    const char *top = getenv("SCHED_TOP_BUILDDIR");
    int fd = mkstemp(config);
    sched_host *h = NULL;
    sched_foreground_executor *fx = NULL;
    sched_future *f = malloc(sizeof *f);

    CU_ASSERT_FATAL(fd >= 0 && f != NULL);
    CU_ASSERT_FATAL(write(fd, "backend = \"minimal\";\n", 21) == 21);
    close(fd);
    snprintf(dir, sizeof dir, "%s/tests/conformance/.libs", top ? top : ".");
    setenv("SCHED_PLUGIN_PATH", dir, 1);
    CU_ASSERT_EQUAL_FATAL(sched_host_open(&h, config, NULL), 0);
    unsetenv("SCHED_PLUGIN_PATH");
    unlink(config);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(h, &fx), 0);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &waker_ex), 0);

    f->ops = &fg_ops;
    CU_ASSERT_EQUAL_FATAL(sched_oneshot_new(&fg_started), 0);
    sched_future *started = sched_oneshot_recv(fg_started);
    CU_ASSERT_EQUAL(sched_foreground_spawn(fx, f, NULL), 0);
    /* Until it has run once on the main thread and gone pending. */
    CU_ASSERT_EQUAL(sched_foreground_block(fx, started, NULL, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(atomic_load(&fg_waker));
    CU_ASSERT_EQUAL(sched_spawn(waker_ex, sched_future_fn(wake_when_closing, NULL), NULL), 0);
    sched_foreground_executor_free(fx);
    sched_host_close(h);
    sched_executor_free(waker_ex);
    CU_ASSERT_EQUAL(atomic_load(&fg_drops), 1);
    CU_ASSERT(pthread_equal(fg_dropped_on, pthread_self()));
}

/* A future looping on sched_yield_now() until a background task sets a
 * flag: each yield leaves the other ready runnables candidates, in FIFO
 * order and at random, so the flag gets set.  (It used to yield forever.) */
struct spin {
    sched_coro co;
    _Atomic int *flag;
    int yields;
};

static int spin_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct spin *st = (struct spin *)f;
    SCHED_ASYNC_BEGIN(st);
    while (!atomic_load(st->flag) && st->yields < 10000) {
        st->yields++;
        SCHED_AWAIT(st, sched_yield_now(), NULL);
    }
    SCHED_RETURN(st, out, (sched_value){ .i = st->yields });
    SCHED_ASYNC_END(st);
}

static sched_value raise_flag(void *arg)
{
    atomic_store((_Atomic int *)arg, 1);
    return (sched_value){ .i = 0 };
}

static void test_a_yielding_block_lets_background_work_run_in_fifo_and_random_order(void)
{
    static const sched_future_ops ops = { spin_poll, sched_coro_drop_default };
    const char *texts[] = { "backend = \"test\";\ntest: { randomize = false; };\n",
                            "backend = \"test\";\ntest: { seed = 42; };\n" };
    const char *top = getenv("SCHED_TOP_BUILDDIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/plugins/test/.libs", top ? top : ".");
    setenv("SCHED_PLUGIN_PATH", dir, 1);
    for (int i = 0; i < 2; i++) {
        char path[] = "/tmp/sched-test-task-XXXXXX";
        int fd = mkstemp(path);
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_FATAL(write(fd, texts[i], strlen(texts[i])) == (ssize_t)strlen(texts[i]));
        close(fd);
        sched_host *host = NULL;
        CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, path, NULL), 0);
        unlink(path);
        sched_executor *ex = NULL;
        sched_foreground_executor *fx = NULL;
        _Atomic int flag = 0;
        sched_value v = { .i = -1 };
        struct spin *st = (struct spin *)sched_coro_new(sizeof *st, &ops);
        CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
        CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx), 0);
        st->flag = &flag;
        CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(raise_flag, &flag), NULL), 0);
        CU_ASSERT_EQUAL(sched_block(ex, &st->co.base, &v, NULL), 0);
        CU_ASSERT(atomic_load(&flag) == 1 && v.i < 10000);
        /* In FIFO order the task queued first runs at the first yield. */
        if (i == 0)
            CU_ASSERT_EQUAL(v.i, 1);
        atomic_store(&flag, 0);
        st = (struct spin *)sched_coro_new(sizeof *st, &ops);
        st->flag = &flag;
        CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(raise_flag, &flag), NULL), 0);
        CU_ASSERT_EQUAL(sched_foreground_block(fx, &st->co.base, &v, NULL), 0);
        CU_ASSERT(atomic_load(&flag) == 1 && v.i < 10000);
        sched_foreground_executor_free(fx);
        sched_executor_free(ex);
        sched_host_close(host);
    }
    unsetenv("SCHED_PLUGIN_PATH");
}

/* ---- the task-block cache ------------------------------------------------ */

enum { BLOCKS = 20000 };
static void *blocks[BLOCKS];
static int block_class;

/* Frees on its own thread what the main thread allocated, the way a
 * worker frees the tasks a spawner made, then exits. */
static void *free_blocks(void *arg)
{
    size_t i;
    (void)arg;
    for (i = 0; i < BLOCKS; i++)
        sched__taskmem_free_k(block_class, blocks[i]);
    return NULL;
}

/* Both sizes: the compact blocks of detached functions, and full tasks. */
static void test_task_blocks_freed_on_an_exited_thread_are_all_given_back(void)
{
#if defined(HAVE_MALLINFO2)
    for (block_class = 0; block_class < SCHED__TM_CLASSES; block_class++) {
        size_t before, cached, after, i, size = sched__taskmem_size(block_class);
        pthread_t th;

        sched__taskmem_trim();
        before = mallinfo2().uordblks;
        for (i = 0; i < BLOCKS; i++) {
            blocks[i] = sched__taskmem_alloc_k(block_class);
            CU_ASSERT_PTR_NOT_NULL_FATAL(blocks[i]);
            memset(blocks[i], 0xab, size);  /* the whole block is the caller's */
        }
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, free_blocks, NULL), 0);
        pthread_join(th, NULL);
        /* Whatever the exited thread kept is in the depot now; allocating
         * again may reuse it, and a block is an ordinary malloc'd chunk. */
        for (i = 0; i < 100; i++)
            blocks[i] = sched__taskmem_alloc_k(block_class);
        for (i = 0; i < 100; i++) {
            if (i % 2)
                free(blocks[i]);
            else
                sched__taskmem_free_k(block_class, blocks[i]);
        }
        cached = mallinfo2().uordblks;
        sched__taskmem_trim();
        after = mallinfo2().uordblks;
        CU_ASSERT(cached >= after);
        /* Everything comes back: no more than what libc keeps for the
         * thread it created (far less than the 20,000 blocks). */
        CU_ASSERT(after <= before + 4096);
    }
#else
    CU_PASS("mallinfo2 is not available: nothing to measure the heap with");
#endif
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("task", NULL, NULL);
    CU_add_test(s, "a backend running a foreground task off the main thread aborts",
                test_backend_running_foreground_task_off_main_thread_aborts);
    CU_add_test(s, "sched_foreground_block off the main thread aborts naming it and the caller",
                test_foreground_block_off_the_main_thread_aborts_naming_it_and_the_caller);
    CU_add_test(s, "a oneshot sent while its receiver is dropped is freed once",
                test_oneshot_send_racing_receiver_drop);
    CU_add_test(s, "the first timer armed while the host closes is refused",
                test_first_timer_armed_while_the_host_closes_is_refused);
    CU_add_test(s, "a foreground task woken while the host closes is dropped on main",
                test_foreground_task_woken_while_closing_is_dropped_on_main);
    CU_add_test(s, "a yielding block lets background work run, in FIFO and random order",
                test_a_yielding_block_lets_background_work_run_in_fifo_and_random_order);
    CU_add_test(s, "task blocks freed on an exited thread are all given back",
                test_task_blocks_freed_on_an_exited_thread_are_all_given_back);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
