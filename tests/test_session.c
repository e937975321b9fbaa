/* SPDX-License-Identifier: MIT */
/*
 * tests/test_session.c - sessions through the real host: the session
 * layer on cloudflare-sim (Workers rules, virtual time) and on linux
 * (the same calls, no rules), each backend chosen by a config file.
 *
 * This file holds sessions and the current session, bad input, and main,
 * which registers every test in order; the rules' tests are in
 * test_session_rules.c, the fixtures in session_fixtures.c.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#if !defined(_WIN32)
#include <sys/wait.h>
#endif

#include <CUnit/Basic.h>

#include "session_fixtures.h"

/* ---- sessions and the current session ------------------------------------- */

static uint64_t seen_current;
static int nested_rc;

static sched_value spawn_nested(void *arg)
{
    (void)arg;
    static int done;
    seen_current = sched_session_current(sess_ctx);
    nested_rc = sched_session_spawn(sess_ctx, sess_sleeper(1 * SEC, &done), NULL, NULL);
    return (sched_value){ .i = 0 };
}

static void test_spawns_inside_a_request_belong_to_it(void)
{
    sess_open_cf(1, NULL);
    uint64_t id = sess_new_session();
    CU_ASSERT_EQUAL(sched_session_current(sess_ctx), 0);
    sched_task *t;
    CU_ASSERT_EQUAL(sched_session_spawn_in(sess_ctx, id, sched_future_fn(spawn_nested, NULL), &t, NULL), 0);
    CU_ASSERT_EQUAL(sess_block(sched_task_join(t), NULL), 0);
    CU_ASSERT_EQUAL(seen_current, id);
    CU_ASSERT_EQUAL(nested_rc, 0);
    CU_ASSERT_EQUAL(sched_session_current(sess_ctx), 0);
    CU_ASSERT_EQUAL(sched_session_validate_cleanup(sess_ctx, id, NULL), SCHED_EDANGLING);
    CU_ASSERT_EQUAL(sess_block_for(2 * SEC), 0);
    CU_ASSERT_EQUAL(sched_session_validate_cleanup(sess_ctx, id, NULL), 0);
    sess_close_all();
}

static void test_entered_session_is_current_until_left(void)
{
    sess_open_linux();
    uint64_t a = sess_new_session(), b = sess_new_session();
    CU_ASSERT(a != b);
    CU_ASSERT_EQUAL(sched_session_enter(sess_ctx, b, NULL), 0);
    CU_ASSERT_EQUAL(sched_session_current(sess_ctx), b);
    int done = 0;
    sched_task *t;
    CU_ASSERT_EQUAL(sched_session_spawn(sess_ctx, sess_sleeper(1 * MS, &done), &t, NULL), 0);
    CU_ASSERT_EQUAL(sched_session_leave(sess_ctx, NULL), 0);
    CU_ASSERT_EQUAL(sched_session_current(sess_ctx), 0);
    CU_ASSERT_EQUAL(sched_session_validate_cleanup(sess_ctx, a, NULL), 0);
    CU_ASSERT_EQUAL(sched_session_validate_cleanup(sess_ctx, b, NULL), SCHED_EDANGLING);
    CU_ASSERT_EQUAL(sess_block(sched_task_join(t), NULL), 0);
    CU_ASSERT_EQUAL(done, 1);
    CU_ASSERT_EQUAL(sched_session_validate_cleanup(sess_ctx, b, NULL), 0);
    sess_close_all();
}

/* ---- bad input ---------------------------------------------------------------- */

/* rc and the sentence left in *errp are code and message; *errp is then
 * freed and reset. */
static void expect(int rc, sched_error **errp, int code, const char *message)
{
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*errp);
    CU_ASSERT_EQUAL(sched_error_code(*errp), code);
    CU_ASSERT_STRING_EQUAL(sched_error_message(*errp), message);
    sched_error_free(*errp);
    *errp = NULL;
}

static void test_wait_until_without_a_session_is_refused(void)
{
    sess_open_cf(1, NULL);
    sched_error *err = NULL;
    int done = 0;
    expect(sched_session_wait_until(sess_ctx, sess_sleeper(1, &done), &err), &err, SCHED_ENOSESSION,
           "sched_session_wait_until: no session is current (enter one with "
           "sched_session_enter, or call it from a session's task)");
    sched_task *t = (sched_task *)&err;
    expect(sched_session_spawn(sess_ctx, sess_sleeper(1, &done), &t, &err), &err, SCHED_ENOSESSION,
           "sched_session_spawn: no session is current (enter one with "
           "sched_session_enter, or call it from a session's task)");
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(done, 0);
    sess_close_all();
}

static void test_unknown_or_ended_session_is_refused(void)
{
    sess_open_cf(1, NULL);
    sched_error *err = NULL;
    int done = 0;
    expect(sched_session_enter(sess_ctx, 4242, &err), &err, SCHED_ESESSION,
           "sched_session_enter: there is no session 4242 in this context");
    expect(sched_session_spawn_in(sess_ctx, 4242, sess_sleeper(1, &done), NULL, &err), &err, SCHED_ESESSION,
           "sched_session_spawn: there is no session 4242 in this context");
    expect(sched_session_validate_cleanup(sess_ctx, 4242, &err), &err, SCHED_ESESSION,
           "sched_session_validate_cleanup: there is no session 4242 in this context");
    uint64_t id = sess_new_session();
    CU_ASSERT_EQUAL(sched_session_end(sess_ctx, id, NULL), 0);
    char want[128];
    snprintf(want, sizeof want, "sched_session_end: session %llu has already ended",
             (unsigned long long)id);
    expect(sched_session_end(sess_ctx, id, &err), &err, SCHED_ESESSION, want);
    snprintf(want, sizeof want, "sched_session_enter: session %llu has already ended",
             (unsigned long long)id);
    expect(sched_session_enter(sess_ctx, id, &err), &err, SCHED_ESESSION, want);
    snprintf(want, sizeof want, "sched_session_spawn: session %llu has already ended",
             (unsigned long long)id);
    expect(sched_session_spawn_in(sess_ctx, id, sess_sleeper(1, &done), NULL, &err), &err, SCHED_ESESSION, want);
    CU_ASSERT_EQUAL(sched_session_validate_cleanup(sess_ctx, id, NULL), 0);
    CU_ASSERT_EQUAL(done, 0);
    sess_close_all();
}

struct from_thread {
    uint64_t id;
    int rc;
    int code;
    char message[512];
};

static void *enter_from_thread(void *arg)
{
    struct from_thread *ft = arg;
    sched_error *err = NULL;
    ft->rc = sched_session_enter(sess_ctx, ft->id, &err);
    ft->code = err ? sched_error_code(err) : 0;
    snprintf(ft->message, sizeof ft->message, "%s", err ? sched_error_message(err) : "");
    sched_error_free(err);
    return NULL;
}

static void test_entering_from_another_thread_is_an_error(void)
{
    sess_open_cf(1, NULL);
    struct from_thread ft = { .id = sess_new_session() };
    pthread_t th;
    pthread_create(&th, NULL, enter_from_thread, &ft);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(ft.rc, SCHED_EWRONGTHREAD);
    CU_ASSERT_EQUAL(ft.code, SCHED_EWRONGTHREAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(ft.message, "sched_session_enter was called on thread "));
    CU_ASSERT_PTR_NOT_NULL(strstr(ft.message, "but sessions belong to the host's main thread, thread "));
    CU_ASSERT_EQUAL(sched_session_current(sess_ctx), 0);
    sess_close_all();
}

#if !defined(_WIN32)
static void *free_from_thread(void *arg)
{
    (void)arg;
    sched_session_ctx_free(sess_ctx);
    return NULL;
}

/* Freeing the context is freeing its foreground executor: from another
 * thread, the library's one documented abort.  Run in a child. */
static void test_freeing_the_context_from_another_thread_aborts(void)
{
    int fds[2];
    CU_ASSERT_FATAL(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        sess_open_cf(1, NULL);
        pthread_t th;
        pthread_create(&th, NULL, free_from_thread, NULL);
        pthread_join(th, NULL);
        _exit(0);
    }
    close(fds[1]);
    char out[1024] = "";
    size_t n = 0;
    ssize_t got;
    while (n + 1 < sizeof out && (got = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = '\0';
    close(fds[0]);
    int status = 0;
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "libsched: fatal: sched_foreground_executor_free called on thread "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "but the foreground executor belongs to thread "));
}

#endif

static void test_bad_delays_are_refused(void)
{
    sess_open_cf(1, NULL);
    sched_error *err = NULL;
    sched_future *f = (sched_future *)&err;
    expect(sched_session_delay(sess_ctx, -5, &f, &err), &err, SCHED_EINVAL,
           "sched_session_delay: the delay -5 ns is negative");
    CU_ASSERT_PTR_NULL(f);
    expect(sched_session_delay_range(sess_ctx, -1, 10, &f, &err), &err, SCHED_EINVAL,
           "sched_session_delay_range: the range [-1, 10] ns has a negative bound");
    expect(sched_session_delay_range(sess_ctx, 20, 10, &f, &err), &err, SCHED_EINVAL,
           "sched_session_delay_range: the range [20, 10] ns is inverted (min > max)");
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(sched_session_delay_range(sess_ctx, 7, 7, &f, NULL), 0);
    uint64_t before = sched_host_now(sess_host);
    CU_ASSERT_EQUAL(sess_block(f, NULL), 0);
    CU_ASSERT_EQUAL(sched_host_now(sess_host), before + 7);
    sess_close_all();
}

static void test_null_arguments_are_refused(void)
{
    sched_error *err = NULL;
    sched_session_ctx *c = (sched_session_ctx *)&err;
    expect(sched_session_ctx_new(NULL, &c, &err), &err, SCHED_EINVAL,
           "sched_session_ctx_new: the host is NULL");
    CU_ASSERT_PTR_NULL(c);
    expect(sched_session_end(NULL, 1, &err), &err, SCHED_EINVAL,
           "sched_session_end: the context is NULL");
    CU_ASSERT_EQUAL(sched_session_current(NULL), 0);
    CU_ASSERT_PTR_NULL(sched_session_pass_through(NULL));
    sched_session_ctx_free(NULL);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("sessions", NULL, NULL);
    sess_add_rules_tests(s);
#define T(fn, name) CU_add_test(s, name, fn)
    T(test_spawns_inside_a_request_belong_to_it, "spawns inside a request belong to it");
    T(test_entered_session_is_current_until_left, "an entered session is current until left");
    T(test_wait_until_without_a_session_is_refused, "wait_until or spawn without a session is refused");
    T(test_unknown_or_ended_session_is_refused, "an unknown or ended session is refused");
    T(test_entering_from_another_thread_is_an_error, "entering from another thread is an error");
#if !defined(_WIN32)
    T(test_freeing_the_context_from_another_thread_aborts,
      "freeing the context from another thread aborts");
#endif
    T(test_bad_delays_are_refused, "negative or inverted delays are refused");
    T(test_null_arguments_are_refused, "NULL arguments are refused");
#undef T
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
