/* SPDX-License-Identifier: MIT */
/*
 * tests/test_linux_host.c - the linux backend behind the real host: its
 * config key validated by the host against the backend's declaration, and
 * its main-thread queue driven from an application's epoll loop through
 * sched_host_poll_fd / sched_host_dispatch with real foreground tasks;
 * and its log lines as the application's handler gets them.
 */
#include "config.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <sched/sched.h>

static char dir[] = "/tmp/sched-linux-host-XXXXXX";
static char conf[512];

/* Write sched.conf: backend linux, the build tree's plugin, then body. */
static void write_conf(const char *body)
{
    FILE *f = fopen(conf, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "backend = \"linux\";\nplugin_path = [ \"%s/plugins/linux/.libs\" ];\n%s",
            getenv("SCHED_TOP_BUILDDIR"), body);
    fclose(f);
}

/* Opening must fail with SCHED_ECONFIG and a message naming the file, the
 * line (3: the body's first line) and the key. */
static void expect_config_error(const char *body, const char *detail)
{
    sched_host *host = NULL;
    sched_error *err = NULL;
    char where[600];

    write_conf(body);
    CU_ASSERT_EQUAL(sched_host_open(&host, conf, &err), SCHED_ECONFIG);
    CU_ASSERT_PTR_NULL(host);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    snprintf(where, sizeof where, "%s:3:", conf);
    const char *msg = sched_error_message(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, where));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "linux.threads"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, detail));
    if (!strstr(msg, where) || !strstr(msg, detail))
        fprintf(stderr, "\n  got: %s\n", msg);
    sched_error_free(err);
}

static void test_negative_threads_is_a_config_error_naming_file_line_and_key(void)
{
    expect_config_error("linux: { threads = -1; };\n", "outside [0, 1024]");
}

static void test_threads_over_1024_is_a_config_error_naming_file_line_and_key(void)
{
    expect_config_error("linux: { threads = 5000; };\n", "outside [0, 1024]");
}

static void test_threads_of_the_wrong_type_is_a_config_error(void)
{
    expect_config_error("linux: { threads = \"many\"; };\n", "must be");
}

static void test_explicit_thread_count_opens(void)
{
    sched_host *host = NULL;
    sched_error *err = NULL;

    write_conf("linux: { threads = 3; };\n");
    CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, conf, &err), 0);
    CU_ASSERT_STRING_EQUAL(sched_host_backend_name(host), "linux");
    CU_ASSERT_TRUE(sched_host_is_main_thread(host));
    sched_host_close(host);
}

static sched_value set_flag(void *arg)
{
    *(int *)arg += 1;
    return (sched_value){ .i = 7 };
}

/* Foreground tasks, run by an epoll loop that knows nothing of libsched
 * beyond the descriptor and the dispatch call. */
static void test_foreground_tasks_run_from_an_epoll_loop(void)
{
    enum { N = 10 };
    sched_host *host = NULL;
    sched_foreground_executor *fx = NULL;
    sched_task *tasks[N];
    int flags[N] = { 0 };
    int fd = -1, ep;
    struct epoll_event ev = { .events = EPOLLIN }, got;

    write_conf("");
    CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, conf, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(sched_host_poll_fd(host, &fd), 0);
    CU_ASSERT_TRUE(fd >= 0);
    CU_ASSERT_EQUAL_FATAL(sched_foreground_executor_new(host, &fx), 0);
    ep = epoll_create1(EPOLL_CLOEXEC);
    ev.data.fd = fd;
    CU_ASSERT_EQUAL(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(sched_foreground_spawn(fx, sched_future_fn(set_flag, &flags[i]), &tasks[i]), 0);
    for (int spins = 0; spins < 100; spins++) {
        int done = 1;
        for (int i = 0; i < N; i++)
            done &= sched_task_is_finished(tasks[i]);
        if (done)
            break;
        CU_ASSERT_EQUAL_FATAL(epoll_wait(ep, &got, 1, 5000), 1);
        CU_ASSERT_EQUAL(got.data.fd, fd);
        CU_ASSERT_TRUE(sched_host_dispatch(host) >= 0);
    }
    for (int i = 0; i < N; i++) {
        CU_ASSERT_TRUE(sched_task_is_finished(tasks[i]));
        CU_ASSERT_EQUAL(flags[i], 1);
        sched_task_free(tasks[i]);
    }
    close(ep);
    sched_foreground_executor_free(fx);
    sched_host_close(host);
}

/* Two tasks on a pool of two workers: each waits until both are running,
 * then blocks (for up to budget ns) on a task it spawns behind them. */
struct inner_block {
    sched_executor *ex;
    _Atomic int *running;
    uint64_t budget;
    int rc;
};

static sched_value block_in_task(void *arg)
{
    struct inner_block *ib = arg;
    sched_task *c = NULL;
    sched_future *f;
    int dummy = 0;
    atomic_fetch_add(ib->running, 1);
    while (atomic_load(ib->running) < 2)
        ;
    if (sched_spawn(ib->ex, sched_future_fn(set_flag, &dummy), &c) != 0)
        return (sched_value){ .i = -1 };
    f = sched_task_join(c);
    ib->rc = sched_block_with_timeout(ib->ex, &f, ib->budget, NULL, NULL);
    sched_future_drop(f);
    return (sched_value){ .i = 0 };
}

/* What sched_block(3) says of a block inside a task on linux: it holds its
 * worker, and with every worker so held the pool runs nothing else until
 * one returns.  Here one block has no budget and one has 100 ms: neither
 * awaited task can start, so the timed block gives up with
 * SCHED_ETIMEDOUT, whatever the machine's speed; its worker, free again,
 * runs both, and only then does the untimed block return.  (Had both been
 * untimed, neither would ever return.) */
static void test_blocks_inside_tasks_hold_their_workers(void)
{
    sched_host *host = NULL;
    sched_executor *ex = NULL;
    sched_task *t[2];
    _Atomic int running = 0;
    struct inner_block ib[2];

    write_conf("linux: { threads = 2; };\n");
    CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, conf, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    for (int i = 0; i < 2; i++) {
        ib[i] = (struct inner_block){ ex, &running, i ? 100000000u : SCHED_TIMEOUT_NEVER, 1 };
        CU_ASSERT_EQUAL(sched_spawn(ex, sched_future_fn(block_in_task, &ib[i]), &t[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t[i]), NULL, NULL), 0);
    CU_ASSERT_EQUAL(ib[0].rc, 0);
    CU_ASSERT_EQUAL(ib[1].rc, SCHED_ETIMEDOUT);
    sched_executor_free(ex);
    sched_host_close(host);
}

/* ---- a burst closed while the workers take it in batches ----------------- */

enum { BURST = 20000, SPAWNERS = 200, CHILDREN = 8 };

struct burst_ev {
    atomic_int polls;
    atomic_int drops;
};

static struct burst_ev burst_evs[BURST + SPAWNERS * CHILDREN];
static atomic_int burst_made;
static sched_executor *burst_ex;

struct burst_task {
    sched_future base;
    struct burst_ev *ev;
    int spawns;             /* children to spawn from its poll (on a worker) */
};

static sched_future *burst_new(int spawns);

static int burst_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct burst_task *bt = (struct burst_task *)f;
    (void)cx;
    atomic_fetch_add(&bt->ev->polls, 1);
    /* From a worker: its own ring.  A refusal (the close began) has
     * dropped the child, which counts itself. */
    for (int i = 0; i < bt->spawns; i++)
        (void)sched_spawn_labeled(burst_ex, burst_new(0), "child", NULL);
    out->u = 0;
    return 0;
}

static void burst_drop(sched_future *f)
{
    atomic_fetch_add(&((struct burst_task *)f)->ev->drops, 1);
    free(f);
}

static const sched_future_ops burst_ops = { burst_poll, burst_drop };

static sched_future *burst_new(int spawns)
{
    struct burst_task *bt = malloc(sizeof *bt);
    int i = atomic_fetch_add(&burst_made, 1);

    if (!bt || i >= (int)(sizeof burst_evs / sizeof burst_evs[0])) {
        free(bt);
        return NULL;
    }
    bt->base.ops = &burst_ops;
    bt->ev = &burst_evs[i];
    bt->spawns = spawns;
    return &bt->base;
}

/* A burst spawned from the main thread goes through the injection queue,
 * from which each worker moves a batch into its ring at once; the first
 * few tasks spawn children from their workers, into those rings.  The
 * host is closed while all that is under way: every task, wherever the
 * close found it (injected, moved into a ring, or running), is polled at
 * most once and dropped exactly once, and none is lost. */
static void test_a_burst_closed_mid_batch_drops_each_task_once(void)
{
    int made, bad = 0, polled = 0;

    write_conf("linux: { threads = 2; };\n");
    for (int round = 0; round < 5; round++) {
        sched_host *host = NULL;
        memset(burst_evs, 0, sizeof burst_evs);
        atomic_store(&burst_made, 0);
        CU_ASSERT_EQUAL_FATAL(sched_host_open(&host, conf, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &burst_ex), 0);
        for (int i = 0; i < BURST; i++) {
            sched_future *f = burst_new(i < SPAWNERS ? CHILDREN : 0);
            CU_ASSERT_PTR_NOT_NULL_FATAL(f);
            CU_ASSERT_EQUAL(sched_spawn_labeled(burst_ex, f, "burst", NULL), 0);
        }
        /* The executor after the close: running tasks spawn through it. */
        sched_host_close(host);
        sched_executor_free(burst_ex);
        made = atomic_load(&burst_made);
        CU_ASSERT(made >= BURST);
        for (int i = 0; i < made; i++) {
            bad += atomic_load(&burst_evs[i].polls) > 1 || atomic_load(&burst_evs[i].drops) != 1;
            polled += atomic_load(&burst_evs[i].polls);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    if (bad)
        fprintf(stderr, "\n  %d tasks polled twice or not dropped exactly once (%d polls)\n",
                bad, polled);
}

static char logged[2048];

static void keep_log(int level, const char *msg, void *userdata)
{
    (void)level;
    (void)userdata;
    strncat(logged, msg, sizeof logged - strlen(logged) - 2);
    strcat(logged, "\n");
}

/* The child: as a user who may not use SCHED_FIFO (root drops to nobody),
 * run a realtime task and write what the log handler got to fd. */
static int log_realtime_refusal(int fd)
{
    sched_host *host = NULL;
    sched_executor *ex = NULL;
    sched_task *t = NULL;
    int flag = 0;

    if (geteuid() == 0 && setuid(65534) != 0)
        return 3;
    sched_log_set_handler(keep_log, NULL);
    if (sched_host_open(&host, conf, NULL) != 0 || sched_executor_new(host, &ex) != 0)
        return 4;
    if (sched_spawn_priority(ex, sched_future_fn(set_flag, &flag), SCHED_PRIORITY_REALTIME, &t) != 0
        || sched_block(ex, sched_task_join(t), NULL, NULL) != 0)
        return 5;
    sched_executor_free(ex);
    sched_host_close(host);
    return write(fd, logged, strlen(logged)) == (ssize_t)strlen(logged) ? 0 : 6;
}

/* The host names the backend in front of each of its log lines; the
 * backend's own text must not say it again ("linux: linux: ..."). */
static void test_log_lines_name_the_backend_once(void)
{
    char got[2048];
    int fds[2], status = 0;
    ssize_t n;
    pid_t pid;

    write_conf("");
    CU_ASSERT_EQUAL_FATAL(chmod(dir, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(conf, 0644), 0);
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
    if (pid == 0) {
        close(fds[0]);
        _exit(log_realtime_refusal(fds[1]));
    }
    close(fds[1]);
    n = read(fds[0], got, sizeof got - 1);
    got[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "linux: SCHED_FIFO not permitted for the realtime thread"));
    CU_ASSERT_PTR_NULL(strstr(got, "linux: linux:"));
    if (strstr(got, "linux: linux:") || !strstr(got, "realtime thread"))
        fprintf(stderr, "\n  got: %s\n", got);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(conf, sizeof conf, "%s/sched.conf", dir);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("linux backend behind the host", NULL, NULL);
    CU_add_test(s, "negative threads is a config error naming file, line and key",
                test_negative_threads_is_a_config_error_naming_file_line_and_key);
    CU_add_test(s, "threads over 1024 is a config error naming file, line and key",
                test_threads_over_1024_is_a_config_error_naming_file_line_and_key);
    CU_add_test(s, "threads of the wrong type is a config error",
                test_threads_of_the_wrong_type_is_a_config_error);
    CU_add_test(s, "explicit thread count opens", test_explicit_thread_count_opens);
    CU_add_test(s, "foreground tasks run from an epoll loop",
                test_foreground_tasks_run_from_an_epoll_loop);
    CU_add_test(s, "log lines name the backend once", test_log_lines_name_the_backend_once);
    CU_add_test(s, "blocks inside tasks hold their workers", test_blocks_inside_tasks_hold_their_workers);
    CU_add_test(s, "a burst closed mid-batch drops each task once",
                test_a_burst_closed_mid_batch_drops_each_task_once);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    unlink(conf);
    rmdir(dir);
    return failed ? 1 : 0;
}
