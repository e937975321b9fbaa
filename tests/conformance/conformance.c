/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance.c - the executor contract, on any backend:
 * its table of tests, and the foreground death test, whose child
 * re-enters the program through the runner (conformance_runner.c).
 *
 * Two kinds of backend must pass the same tests.  Threaded ones (linux,
 * mac, windows) run work on their own threads as soon as it is queued.
 * Simulated ones (test, cloudflare-sim: sched_as_test() is not NULL) run
 * nothing until the main thread blocks (sched_block, sched_foreground_block)
 * and then run everything on that thread, on a virtual clock.  So every
 * test waits for work by blocking on a future, never by sleeping or
 * spinning, and asserts only what both semantics promise.  Where a test
 * must differ (a foreign thread that wakes a task needs the simulated
 * scheduler to be allowed to really park; a future nothing can wake is a
 * deadlock report there but a timeout on a real clock) it says so.
 *
 * The tests live by topic in conformance_spawn.c, conformance_cancel.c
 * and conformance_threads.c, their helpers in conformance_helpers.c.  The
 * death test stays here: its child is this program run again, and the
 * abort message it checks names the site of the misuse, in this file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "conformance.h"
#include "conformance_int.h"

/* ---- foreground misuse -------------------------------------------------------- */

static void spawn_from_wrong_thread(void *arg)
{
    sched_foreground_spawn((sched_foreground_executor *)arg, sched_future_fn(conf_add_one, NULL), NULL);
}

/* The death test's child: spawn on a foreground executor from another
 * thread.  Returns only if the library failed to abort. */
static int misuse_foreground(void)
{
    sched_host *h = conf_open_host();
    sched_foreground_executor *fx = NULL;
    conf_thread th;
    if (!h || sched_foreground_executor_new(h, &fx) != 0)
        return 3;
    if (conf_thread_start(&th, spawn_from_wrong_thread, fx) != 0)
        return 4;
    conf_thread_join(th);
    return 0;
}

#define DEATH_ENV "SCHED_CONFORM_DEATH_CHILD"

#if !defined(_WIN32)
/* Re-run this very program (a fresh process: a fork of one whose backend
 * started threads is no place to start more) with DEATH_ENV set; the
 * suite's entry point then runs misuse_foreground() alone. */
static void exec_self(void)
{
#if defined(__linux__)
    static char buf[8192], exe[4096];
    char *argv[64];
    ssize_t n;
    int argc = 0, fd = open("/proc/self/cmdline", O_RDONLY);
    if (fd < 0)
        return;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (char *p = buf; p < buf + n && argc < 63; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    /* readlink, not "/proc/self/exe" itself: under valgrind only the
     * former names this program rather than the tool. */
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    setenv(DEATH_ENV, conf_config_path, 1);
    execv(exe, argv);
#endif
}

/* Death test: in a child process, spawning on a foreground executor from
 * another thread aborts with a message naming both threads and the site. */
static void test_foreground_misuse_aborts_naming_threads_and_site(void)
{
    int fds[2];
    pid_t pid;
    char msg[2048];
    size_t len = 0;
    ssize_t n;
    int status = 0;

    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        exec_self();
        _exit(misuse_foreground());
    }
    close(fds[1]);
    while (len < sizeof msg - 1 && (n = read(fds[0], msg + len, sizeof msg - 1 - len)) > 0)
        len += (size_t)n;
    msg[len] = '\0';
    close(fds[0]);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "libsched: fatal: sched_foreground_spawn called on thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "but the foreground executor belongs to thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "conformance.c:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "spawn_from_wrong_thread"));
}
#else
/* Windows has no fork(): run this very program again (its own command
 * line) with DEATH_ENV set and its output into a pipe; the suite's entry
 * point then runs misuse_foreground() alone.  0 with the child's output
 * in msg and its exit status in *code, or -1. */
static int run_self_child(char *msg, size_t cap, DWORD *code)
{
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    wchar_t exe[4096];
    wchar_t *cmd;
    HANDLE rd, wr;
    size_t len = 0;
    DWORD n;
    BOOL ok;

    if (!GetModuleFileNameW(NULL, exe, sizeof exe / sizeof exe[0]))
        return -1;
    if (!CreatePipe(&rd, &wr, &sa, 0))
        return -1;
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = wr;
    si.hStdError = wr;
    cmd = _wcsdup(GetCommandLineW());
    SetEnvironmentVariableA(DEATH_ENV, conf_config_path);
    ok = cmd && CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    SetEnvironmentVariableA(DEATH_ENV, NULL);
    free(cmd);
    CloseHandle(wr);
    if (!ok) {
        CloseHandle(rd);
        return -1;
    }
    while (len < cap - 1 && ReadFile(rd, msg + len, (DWORD)(cap - 1 - len), &n, NULL) && n > 0)
        len += n;
    msg[len] = '\0';
    CloseHandle(rd);
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return 0;
}

/* Death test, Windows form: the child aborts (exit status 3, the
 * Microsoft C runtime's for abort()) with the same message. */
static void test_foreground_misuse_aborts_naming_threads_and_site(void)
{
    char msg[4096];
    DWORD code = 0;

    fflush(NULL);
    CU_ASSERT_EQUAL_FATAL(run_self_child(msg, sizeof msg, &code), 0);
    CU_ASSERT_EQUAL(code, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "libsched: fatal: sched_foreground_spawn called on thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "but the foreground executor belongs to thread"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "conformance.c:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "spawn_from_wrong_thread"));
}
#endif

/* ---- the table -------------------------------------------------------------- */

const struct conf_test conf_tests[] = {
    { "spawn and await returns the value", conf_test_spawn_and_await_returns_the_value },
    { "coroutine awaits a timer and two tasks", conf_test_coroutine_awaits_timer_and_two_tasks },
    { "all, any, yield and ready compose", conf_test_all_any_yield_and_ready_compose },
    { "labels and priorities are accepted", conf_test_labels_and_priorities_are_accepted },
    { "a failure code reaches the joiner unchanged",
      conf_test_a_failure_code_reaches_the_joiner_unchanged },
    { "timers never fire early", conf_test_timers_never_fire_early },
    { "timers fire in due order", conf_test_timers_fire_in_due_order },
    { "zero and absurd timers have defined results",
      conf_test_zero_and_absurd_timers_have_defined_results },
    { "block_with_timeout times out and keeps the future",
      conf_test_block_with_timeout_times_out_and_keeps_the_future },
    { "block on an unwakeable future: deadlock or timeout",
      conf_test_block_on_unwakeable_future_is_deadlock_or_timeout },
    { "block with a zero budget polls once", conf_test_block_with_a_zero_budget_polls_once },
    { "cancel drops the future once; join reports cancel",
      conf_test_cancel_drops_future_once_and_join_reports_cancel },
    { "freeing an unfinished handle cancels", conf_test_freeing_an_unfinished_handle_cancels },
    { "a pending future without a wake is never polled again",
      conf_test_pending_future_without_wake_is_never_polled_again },
    { "a detached task runs to completion", conf_test_detached_task_runs_to_completion },
    { "wakes from foreign threads", conf_test_wakes_from_foreign_threads },
    { "100000 tasks run exactly once", conf_test_hundred_thousand_tasks_run_exactly_once },
    { "a bounded channel carries values in order", conf_test_bounded_channel_carries_values_in_order },
    { "foreground tasks run on the main thread", conf_test_foreground_tasks_run_on_the_main_thread },
    { "a foreground executor off the main thread is refused",
      conf_test_foreground_executor_off_the_main_thread_is_refused },
    { "foreground misuse aborts naming threads and site",
      test_foreground_misuse_aborts_naming_threads_and_site },
    { "a yield lets other ready work run", conf_test_a_yield_lets_other_ready_work_run },
    { "block on the main thread runs foreground tasks",
      conf_test_block_on_the_main_thread_runs_foreground_tasks },
    { "shutdown drops every pending future exactly once",
      conf_test_shutdown_drops_every_pending_future_exactly_once },
    { "spawn during shutdown is refused and dropped",
      conf_test_spawn_during_shutdown_is_refused_and_dropped },
    { "closing a channel in a drop at shutdown wakes its senders",
      conf_test_shutdown_closing_a_channel_in_a_drop_wakes_its_senders },
    { "bad input gets documented codes", conf_test_bad_input_gets_documented_codes },
    { "destroy drops every queued runnable once",
      conf_test_destroy_drops_every_queued_runnable_once },
    { "close waits for a poll and drops its task",
      conf_test_close_waits_for_a_poll_and_drops_its_task },
    { "the main queue is FIFO", conf_test_main_queue_is_fifo },
    { "stop before run makes run return at once", conf_test_stop_before_run_returns_at_once },
    { "nothing is run twice", conf_test_nothing_is_run_twice },
    { "a timer wakes its task once", conf_test_a_timer_wakes_its_task_once },
    { "a dropped timer is taken back", conf_test_a_dropped_timer_is_taken_back },
    { "a cancelled function task drops its argument once",
      conf_test_cancelled_function_task_drops_its_argument_once },
    { "a function task queued at close drops its argument once",
      conf_test_function_task_queued_at_close_drops_its_argument_once },
    { "a function task that ran never drops its argument",
      conf_test_function_task_that_ran_never_drops_its_argument },
};

const size_t conf_ntests = sizeof conf_tests / sizeof conf_tests[0];

void conf_death_child(void)
{
    const char *cfg = getenv(DEATH_ENV);
    if (cfg && cfg[0]) {
        /* The death test's re-executed child, with the parent's config. */
        snprintf(conf_config_path, sizeof conf_config_path, "%s", cfg);
        _exit(misuse_foreground());
    }
}
