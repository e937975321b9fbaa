/* SPDX-License-Identifier: MIT */
/*
 * tests/test_session_limits.c - how cloudflare-sim stops a request, as
 * workerd does: hung requests (in every shape the program may block on
 * them, and per request, whatever other requests still wait on), the CPU
 * time limit, and production's cancellation of undeclared work when the
 * request ends.  Public API only; the virtual clock, never the wall clock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "session_fixtures.h"

static char logged[16384];

static void log_all(int level, const char *msg, void *ud)
{
    (void)level;
    (void)ud;
    size_t used = strlen(logged);
    snprintf(logged + used, sizeof logged - used, "%s\n", msg);
}

/* ---- hung requests, in every blocking shape -------------------------------- */

/* A handler awaiting a oneshot nobody will ever send. */
struct waits {
    sched_coro co;
    sched_oneshot *never;
    sched_value v;
};

static int waits_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct waits *st = (struct waits *)f;
    SCHED_ASYNC_BEGIN(st);
    sched_oneshot_new(&st->never);
    SCHED_TRY_AWAIT(st, sched_oneshot_recv(st->never), &st->v);
    SCHED_RETURN(st, out, st->v);
    SCHED_ASYNC_END(st);
}

static void waits_drop(sched_future *f)
{
    struct waits *st = (struct waits *)f;
    sched_future_drop(st->co.awaiting);
    st->co.awaiting = NULL;
    sched_oneshot_close(st->never);
    sched_coro_drop_default(f);
}

static const sched_future_ops waits_ops = { waits_poll, waits_drop };

static sched_future *waits_forever(void)
{
    return sched_coro_new(sizeof(struct waits), &waits_ops);
}

/* A handler that awaits the join it is given. */
struct joins {
    sched_coro co;
    sched_future *join;
    sched_value v;
};

static int joins_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct joins *st = (struct joins *)f;
    SCHED_ASYNC_BEGIN(st);
    SCHED_TRY_AWAIT(st, sess_take(&st->join), &st->v);
    SCHED_RETURN(st, out, st->v);
    SCHED_ASYNC_END(st);
}

static void joins_drop(sched_future *f)
{
    struct joins *st = (struct joins *)f;
    sched_future_drop(st->join);
    sched_coro_drop_default(f);
}

static const sched_future_ops joins_ops = { joins_poll, joins_drop };

static sched_future *joining(sched_future *join)
{
    struct joins *st = (struct joins *)sched_coro_new(sizeof *st, &joins_ops);
    st->join = join;
    return &st->co.base;
}

static sched_task *spawn(uint64_t id, sched_future *fut, const char *label)
{
    sched_task *t = NULL;
    CU_ASSERT_EQUAL(sched_session_spawn_at(sess_ctx, id, fut, label, SCHED_HERE, &t, NULL), 0);
    return t;
}

/* fut fails with SCHED_EHUNG, the error naming session id and the task. */
static void check_hung(sched_future *fut, uint64_t id, const char *task)
{
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_session_block(sess_ctx, fut, NULL, &err), SCHED_EHUNG);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_EQUAL(sched_error_code(err), SCHED_EHUNG);
    char want[256];
    snprintf(want, sizeof want, "session %llu hung (nothing pending can ever wake it) and was "
             "aborted; it was waiting on task ", (unsigned long long)id);
    CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), want));
    CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), task));
    sched_error_free(err);
    CU_ASSERT_EQUAL(sched_session_validate_cleanup(sess_ctx, id, NULL), 0);
}

static void test_blocking_on_the_handlers_join_is_ehung(void)
{
    sess_open_cf(1, NULL);
    uint64_t id = sess_new_session();
    sched_task *t = spawn(id, waits_forever(), "handler");
    check_hung(sched_task_join(t), id, "\"handler\" spawned at ");
    sess_close_all();
}

static void test_blocking_on_all_of_joins_is_ehung(void)
{
    sess_open_cf(1, NULL);
    uint64_t a = sess_new_session(), b = sess_new_session();
    sched_future *js[2] = { sched_task_join(spawn(a, waits_forever(), "first")),
                            sched_task_join(spawn(b, waits_forever(), "second")) };
    check_hung(sched_all(js, 2), a, "\"first\"");
    sess_close_all();
}

static void test_blocking_on_a_chain_of_joins_is_ehung(void)
{
    sess_open_cf(1, NULL);
    uint64_t id = sess_new_session();
    sched_task *inner = spawn(id, waits_forever(), "inner");
    sched_task *middle = spawn(id, joining(sched_task_join(inner)), "middle");
    sched_task *outer = spawn(id, joining(sched_task_join(middle)), "outer");
    check_hung(sched_task_join(outer), id, "\"inner\"");
    sess_close_all();
}

/* ---- per request ------------------------------------------------------------- */

/* Waits 1 s, forever: a periodic timer. */
struct ticker {
    sched_coro co;
    sched_value v;
};

static int ticker_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct ticker *st = (struct ticker *)f;
    SCHED_ASYNC_BEGIN(st);
    for (;;)
        SCHED_TRY_AWAIT(st, sched_timer(sess_host, 1 * SEC), &st->v);
    SCHED_RETURN(st, out, st->v);
    SCHED_ASYNC_END(st);
}

static const sched_future_ops ticker_ops = { ticker_poll, sched_coro_drop_default };

static sched_future *ticker(void)
{
    return sched_coro_new(sizeof(struct ticker), &ticker_ops);
}

static int slept;

static sched_future *sleeper(void)
{
    slept = 0;
    return sess_sleeper(10 * SEC, &slept);
}

/* A hung request beside another that waits on a timer of its own (made
 * by other) is aborted at once, and the other runs on. */
static void check_aborted_at_once_beside(sched_future *(*other)(void))
{
    sess_open_cf(1, NULL);
    uint64_t hung = sess_new_session(), busy = sess_new_session();
    sched_task *t = spawn(hung, waits_forever(), "handler");
    sched_task *b = spawn(busy, other(), "other");
    uint64_t before = sched_host_now(sess_host);
    check_hung(sched_task_join(t), hung, "\"handler\"");
    CU_ASSERT_EQUAL(sched_host_now(sess_host), before);    /* at once, in virtual time */
    CU_ASSERT_FALSE(sched_task_is_finished(b));
    CU_ASSERT_EQUAL(sess_block_for(20 * SEC), 0);
    CU_ASSERT_EQUAL(sched_session_abort(sess_ctx, busy, NULL), 0);
    sched_task_free(b);
    sess_close_all();
}

static void test_a_hung_request_is_aborted_while_another_sleeps(void)
{
    check_aborted_at_once_beside(sleeper);
    CU_ASSERT_EQUAL(slept, 1);
}

static void test_a_periodic_timer_hides_no_other_requests_hang(void)
{
    check_aborted_at_once_beside(ticker);
}

/* ---- CPU time ----------------------------------------------------------------- */

static uint64_t thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t spin_ms;
static uint64_t clock_seen[2];
static int spin_line;

/* Burn spin_ms of this thread's CPU time (not of the wall clock). */
static sched_value spin(void *arg)
{
    (void)arg;
    clock_seen[0] = sched_host_now(sess_host);
    uint64_t until = thread_cpu_ms() + spin_ms;
    volatile uint64_t sink = 0;
    while (thread_cpu_ms() < until)
        sink++;
    clock_seen[1] = sched_host_now(sess_host);
    return (sched_value){ .i = 7 };
}

static void test_a_request_over_its_cpu_limit_is_aborted(void)
{
    sess_open_cf(1, "cpu_limit_ms = 50;");
    uint64_t id = sess_new_session(), other = sess_new_session();
    int done = 0;
    sched_task *o = spawn(other, sess_sleeper(1 * MS, &done), "other");
    spin_ms = 200;  /* four times the limit */
    sched_task *t;
    CU_ASSERT_EQUAL(sched_session_enter(sess_ctx, id, NULL), 0);
    spin_line = __LINE__ + 1;
    CU_ASSERT_EQUAL(sched_session_spawn_labeled(sess_ctx, sched_future_fn(spin, NULL), "spin", &t, NULL), 0);
    CU_ASSERT_EQUAL(sched_session_leave(sess_ctx, NULL), 0);
    unsigned long long spin_id = sched_task_id(t);
    sched_error *err = NULL;
    sched_value v = { .i = 0 };
    CU_ASSERT_EQUAL(sched_session_block(sess_ctx, sched_task_join(t), &v, &err), SCHED_ECPU);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    char want[512];
    snprintf(want, sizeof want, "session %llu exceeded its CPU time limit of 50 ms (its tasks used ",
             (unsigned long long)id);
    CU_ASSERT_NSTRING_EQUAL(sched_error_message(err), want, strlen(want));
    snprintf(want, sizeof want, " ms) while task %llu \"spin\" spawned at %s:%d "
             "(test_a_request_over_its_cpu_limit_is_aborted) was running, and was aborted",
             spin_id, __FILE__, spin_line);
    CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), want));
    sched_error_free(err);
    CU_ASSERT_EQUAL(clock_seen[1], clock_seen[0]);      /* the clock stood still */
    CU_ASSERT_EQUAL(sess_block(sched_task_join(o), NULL), 0);
    CU_ASSERT_EQUAL(done, 1);                           /* another request runs on */
    sess_close_all();
}

static void test_a_request_within_its_cpu_limit_completes(void)
{
    sess_open_cf(1, "cpu_limit_ms = 500;");
    uint64_t id = sess_new_session();
    spin_ms = 20;
    sched_task *t = spawn(id, sched_future_fn(spin, NULL), "spin");
    sched_value v = { .i = 0 };
    CU_ASSERT_EQUAL(sched_session_block(sess_ctx, sched_task_join(t), &v, NULL), 0);
    CU_ASSERT_EQUAL(v.i, 7);
    sess_close_all();
}

static void test_cpu_limit_beyond_workers_maximum_is_refused(void)
{
    char path[] = "/tmp/test_session_limits-XXXXXX";
    FILE *f = fdopen(mkstemp(path), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("backend = \"cloudflare-sim\";\ncloudflare-sim: { cpu_limit_ms = 300001; };\n", f);
    fclose(f);
    sched_host *h = NULL;
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_host_open(&h, path, &err), SCHED_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "cpu_limit_ms"));
    sched_error_free(err);
    remove(path);
}

/* ---- production's cancellation ------------------------------------------------ */

static int leak_done, flush_done;
static int64_t leak_ns, flush_ns;

static sched_value handle(void *arg)
{
    (void)arg;
    sched_session_spawn_labeled(sess_ctx, sess_sleeper(leak_ns, &leak_done), "leak", NULL, NULL);
    if (flush_ns)
        sched_session_wait_until_labeled(sess_ctx, sess_sleeper(flush_ns, &flush_done), "flush",
                                         NULL);
    return (sched_value){ .i = 0 };
}

/* Handle a request that leaks a leak_ns sleeper (and declares a flush_ns
 * one), end it, and let 10 s pass. */
static uint64_t serve(const char *extra, int64_t leak, int64_t flush)
{
    sess_open_cf(1, extra);
    leak_done = flush_done = 0;
    leak_ns = leak;
    flush_ns = flush;
    uint64_t id = sess_new_session();
    sched_task *t = spawn(id, sched_future_fn(handle, NULL), "handler");
    CU_ASSERT_EQUAL(sess_block(sched_task_join(t), NULL), 0);
    logged[0] = '\0';
    sched_log_set_handler(log_all, NULL);
    CU_ASSERT_EQUAL(sched_session_end(sess_ctx, id, NULL), 0);
    CU_ASSERT_EQUAL(sess_block_for(10 * SEC), 0);
    sched_log_set_handler(NULL, NULL);
    return id;
}

static void test_undeclared_work_is_cancelled_when_the_request_ends(void)
{
    uint64_t id = serve(NULL, 5 * SEC, 0);
    CU_ASSERT_EQUAL(leak_done, 0);
    char want[256];
    snprintf(want, sizeof want, "session %llu: its request ended with 1 undeclared task still "
             "running, cancelled as production cancels them: task ", (unsigned long long)id);
    CU_ASSERT_PTR_NOT_NULL(strstr(logged, want));
    /* The cleanup report still names it. */
    sched_error *err = NULL;
    CU_ASSERT_EQUAL(sched_session_validate_cleanup(sess_ctx, id, &err), SCHED_EDANGLING);
    CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), "\"leak\" spawned at "));
    CU_ASSERT_PTR_NOT_NULL(strstr(sched_error_message(err), ", cancelled when the request ended"));
    sched_error_free(err);
    sess_close_all();
}

static void test_cancel_undeclared_false_lets_it_run(void)
{
    uint64_t id = serve("cancel_undeclared = false;", 5 * SEC, 0);
    CU_ASSERT_EQUAL(leak_done, 1);
    CU_ASSERT_PTR_NULL(strstr(logged, "production"));
    CU_ASSERT_EQUAL(sched_session_validate_cleanup(sess_ctx, id, NULL), 0);
    sess_close_all();
}

static void test_the_request_ends_when_its_wait_until_work_is_done(void)
{
    /* The request lives while its declared work runs: a leak shorter than
     * the flush finishes, a longer one is cancelled when the flush ends. */
    serve(NULL, 1 * SEC, 2 * SEC);
    CU_ASSERT_EQUAL(leak_done, 1);
    CU_ASSERT_EQUAL(flush_done, 1);
    sess_close_all();
    serve(NULL, 3 * SEC, 2 * SEC);
    CU_ASSERT_EQUAL(leak_done, 0);
    CU_ASSERT_EQUAL(flush_done, 1);
    sess_close_all();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("sessions: how a request is stopped", NULL, NULL);
#define T(fn, name) CU_add_test(s, name, fn)
    T(test_blocking_on_the_handlers_join_is_ehung,
      "blocking on a hung handler's join fails with SCHED_EHUNG");
    T(test_blocking_on_all_of_joins_is_ehung,
      "blocking on sched_all of hung handlers' joins fails with SCHED_EHUNG");
    T(test_blocking_on_a_chain_of_joins_is_ehung,
      "blocking on a chain of joins ending in a hung task fails with SCHED_EHUNG");
    T(test_a_hung_request_is_aborted_while_another_sleeps,
      "a hung request is aborted at once while another request sleeps");
    T(test_a_periodic_timer_hides_no_other_requests_hang,
      "another request's periodic timer hides no hang");
    T(test_a_request_over_its_cpu_limit_is_aborted,
      "a request over its CPU time limit is aborted with SCHED_ECPU");
    T(test_a_request_within_its_cpu_limit_completes, "a request within its CPU limit completes");
    T(test_cpu_limit_beyond_workers_maximum_is_refused,
      "cpu_limit_ms beyond 300000 is a config error");
    T(test_undeclared_work_is_cancelled_when_the_request_ends,
      "undeclared work is cancelled when the request ends, and still reported");
    T(test_cancel_undeclared_false_lets_it_run, "cancel_undeclared = false lets it run");
    T(test_the_request_ends_when_its_wait_until_work_is_done,
      "the request ends when its wait_until work is done");
#undef T
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
