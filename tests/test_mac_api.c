/* SPDX-License-Identifier: MIT */
/*
 * tests/test_mac_api.c - the mac backend's timers through the public API
 * alone: a host opened on "mac" by its config, tasks that sleep on
 * sched_timer, closed with timers pending and cancelled from another
 * thread while their timers fire, or woken while a burst of spawned tasks
 * is queued.  Every sleeping task's future is
 * dropped exactly once and woken at most once, and nothing runs after
 * sched_host_close returns.
 */
#include <config.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include <sched/sched.h>

#include "tb_conf.h"

#define HOUR (3600ull * 1000000000ull)

/* A task that sleeps once and says so: woke when its timer completed,
 * drops when its future was dropped (always, exactly once). */
struct sleeper_stats {
    atomic_int woke;
    atomic_int drops;
};

struct sleeper {
    sched_coro co;
    sched_host *h;
    uint64_t ns;
    struct sleeper_stats *st;
};

static int sleeper_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct sleeper *s = (struct sleeper *)f;

    SCHED_ASYNC_BEGIN(s);
    SCHED_TRY_AWAIT(s, sched_timer(s->h, s->ns), NULL);
    atomic_fetch_add(&s->st->woke, 1);
    SCHED_RETURN(s, out, (sched_value){ .i = 1 });
    SCHED_ASYNC_END(s);
}

static void sleeper_drop(sched_future *f)
{
    atomic_fetch_add(&((struct sleeper *)f)->st->drops, 1);
    sched_coro_drop_default(f);
}

static sched_future *sleeper_new(sched_host *h, uint64_t ns, struct sleeper_stats *st)
{
    static const sched_future_ops ops = { sleeper_poll, sleeper_drop };
    struct sleeper *s = (struct sleeper *)sched_coro_new(sizeof *s, &ops);

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    s->h = h;
    s->ns = ns;
    s->st = st;
    return &s->co.base;
}

static const char *mac_conf;

static int total_woke(const struct sleeper_stats *st, int n)
{
    int sum = 0;
    for (int i = 0; i < n; i++)
        sum += atomic_load(&st[i].woke);
    return sum;
}

/* Half the tasks sleep an hour, half 0-2 ms, so the host closes while
 * some timers are falling due and others are far off. */
static void test_close_with_sleepers_pending_drops_each_once_and_runs_nothing_after(void)
{
    enum { N = 2000 };
    static struct sleeper_stats st[N];
    sched_host *h = open_host(mac_conf);
    sched_executor *ex = NULL;
    int woke;

    memset(st, 0, sizeof st);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    for (int i = 0; i < N; i++) {
        uint64_t ns = i % 2 ? HOUR : (uint64_t)(i % 200) * 10000u;
        CU_ASSERT_EQUAL(sched_spawn(ex, sleeper_new(h, ns, &st[i]), NULL), 0);
    }
    CU_ASSERT_EQUAL(sched_block(ex, sched_timer(h, 1000000), NULL, NULL), 0);
    sched_executor_free(ex);
    sched_host_close(h);
    woke = total_woke(st, N);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(atomic_load(&st[i].drops), 1);
        CU_ASSERT(atomic_load(&st[i].woke) <= 1);
        if (i % 2)
            CU_ASSERT_EQUAL(atomic_load(&st[i].woke), 0);
    }
    /* Timers that were pending at the close never fire later. */
    nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    CU_ASSERT_EQUAL(total_woke(st, N), woke);
}

/* Tasks whose timers are due now are cancelled from another thread while
 * the timers fire: each either woke and finished, or was cancelled before
 * it woke; either way its future is dropped once. */
enum { NRACE = 1000 };
static sched_task *race_tasks[NRACE];

static void *cancel_all(void *arg)
{
    (void)arg;
    for (int i = 0; i < NRACE; i++)
        sched_task_cancel(race_tasks[i]);
    return NULL;
}

static void test_sleepers_cancelled_from_another_thread_as_timers_fire_settle_once(void)
{
    static struct sleeper_stats st[NRACE];
    sched_host *h = open_host(mac_conf);
    sched_executor *ex = NULL;
    pthread_t th;

    memset(st, 0, sizeof st);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    for (int i = 0; i < NRACE; i++) {
        uint64_t ns = (uint64_t)(i % 100) * 10000u;    /* 0-1 ms */
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sleeper_new(h, ns, &st[i]), &race_tasks[i]), 0);
    }
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, cancel_all, NULL), 0);
    pthread_join(th, NULL);
    for (int i = 0; i < NRACE; i++) {
        sched_value v = { 0 };
        int rc = sched_block(ex, sched_task_join(race_tasks[i]), &v, NULL);

        CU_ASSERT(rc == 0 || rc == SCHED_ECANCELED);
        if (rc == 0) {
            CU_ASSERT_EQUAL(v.i, 1);
            CU_ASSERT_EQUAL(atomic_load(&st[i].woke), 1);
        }
        CU_ASSERT(atomic_load(&st[i].woke) <= 1);
    }
    /* A future is dropped once it is done with, which may come just after
     * its join completed: counted once the host is closed. */
    sched_executor_free(ex);
    sched_host_close(h);
    for (int i = 0; i < NRACE; i++) {
        CU_ASSERT_EQUAL(atomic_load(&st[i].drops), 1);
        CU_ASSERT(atomic_load(&st[i].woke) <= 1);
    }
}

/* Sleepers of every delay wake once each, never before their delay. */
static void test_sleepers_wake_once_each_and_never_early(void)
{
    enum { N = 500 };
    static struct sleeper_stats st[N];
    sched_host *h = open_host(mac_conf);
    sched_executor *ex = NULL;
    sched_task *t[N];
    uint64_t t0;

    memset(st, 0, sizeof st);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    t0 = sched_host_now(h);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sleeper_new(h, (uint64_t)(N - i) * 4000u, &st[i]),
                                          &t[i]), 0);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t[i]), NULL, NULL), 0);
        CU_ASSERT(sched_host_now(h) - t0 >= (uint64_t)(N - i) * 4000u);
        CU_ASSERT_EQUAL(atomic_load(&st[i].woke), 1);
    }
    sched_executor_free(ex);
    sched_host_close(h);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(atomic_load(&st[i].drops), 1);
}

/* A task that counts its one run: the burst queued while sleepers wake. */
struct burst {
    sched_coro co;
    atomic_int *runs;
};

static int burst_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct burst *b = (struct burst *)f;

    (void)cx;
    atomic_fetch_add(b->runs, 1);
    *out = (sched_value){ .i = 0 };
    return 0;
}

static sched_future *burst_new(atomic_int *runs)
{
    static const sched_future_ops ops = { burst_poll, sched_coro_drop_default };
    struct burst *b = (struct burst *)sched_coro_new(sizeof *b, &ops);

    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    b->runs = runs;
    return &b->co.base;
}

/* Sleepers whose timers fall due while a burst of spawned tasks is still
 * queued (the tasks they wake run right after their wake-ups, ahead of
 * the burst): each wakes once, never early, and every burst task runs
 * once. */
enum { NSLEEP = 1000, NBURST = 20000 };

static void spawn_sleepers_and_burst(sched_host *h, sched_executor *ex,
                                     struct sleeper_stats *st, atomic_int *runs,
                                     sched_task **t, sched_task **bt)
{
    for (int i = 0; i < NSLEEP; i++)
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, sleeper_new(h, (uint64_t)(i % 50) * 20000u,
                                                          &st[i]), t ? &t[i] : NULL), 0);
    for (int i = 0; i < NBURST; i++)
        CU_ASSERT_EQUAL_FATAL(sched_spawn(ex, burst_new(&runs[i]), bt ? &bt[i] : NULL), 0);
}

static void test_sleepers_waking_during_a_burst_wake_once_never_early_and_the_burst_runs_once(void)
{
    static struct sleeper_stats st[NSLEEP];
    static atomic_int runs[NBURST];
    static sched_task *t[NSLEEP], *bt[NBURST];
    sched_host *h = open_host(mac_conf);
    sched_executor *ex = NULL;
    uint64_t t0;

    memset(st, 0, sizeof st);
    memset(runs, 0, sizeof runs);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    t0 = sched_host_now(h);
    spawn_sleepers_and_burst(h, ex, st, runs, t, bt);
    for (int i = 0; i < NSLEEP; i++) {
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(t[i]), NULL, NULL), 0);
        CU_ASSERT(sched_host_now(h) - t0 >= (uint64_t)(i % 50) * 20000u);
        CU_ASSERT_EQUAL(atomic_load(&st[i].woke), 1);
    }
    for (int i = 0; i < NBURST; i++)
        CU_ASSERT_EQUAL(sched_block(ex, sched_task_join(bt[i]), NULL, NULL), 0);
    sched_executor_free(ex);
    sched_host_close(h);
    for (int i = 0; i < NSLEEP; i++) {
        CU_ASSERT_EQUAL(atomic_load(&st[i].woke), 1);
        CU_ASSERT_EQUAL(atomic_load(&st[i].drops), 1);
    }
    for (int i = 0; i < NBURST; i++)
        CU_ASSERT_EQUAL(atomic_load(&runs[i]), 1);
}

/* The same, closed while the timers fall due and the burst is queued:
 * each sleeper's future is dropped once and woken at most once, each
 * burst task runs at most once, and nothing runs after the close. */
static void test_close_while_sleepers_wake_during_a_burst_settles_each_once(void)
{
    static struct sleeper_stats st[NSLEEP];
    static atomic_int runs[NBURST];
    sched_host *h = open_host(mac_conf);
    sched_executor *ex = NULL;
    int woke, ran = 0, ran_after = 0;

    memset(st, 0, sizeof st);
    memset(runs, 0, sizeof runs);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0);
    spawn_sleepers_and_burst(h, ex, st, runs, NULL, NULL);
    nanosleep(&(struct timespec){ 0, 300000 }, NULL);
    sched_executor_free(ex);
    sched_host_close(h);
    woke = total_woke(st, NSLEEP);
    for (int i = 0; i < NSLEEP; i++) {
        CU_ASSERT(atomic_load(&st[i].woke) <= 1);
        CU_ASSERT_EQUAL(atomic_load(&st[i].drops), 1);
    }
    for (int i = 0; i < NBURST; i++) {
        CU_ASSERT(atomic_load(&runs[i]) <= 1);
        ran += atomic_load(&runs[i]);
    }
    nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    CU_ASSERT_EQUAL(total_woke(st, NSLEEP), woke);
    for (int i = 0; i < NBURST; i++)
        ran_after += atomic_load(&runs[i]);
    CU_ASSERT_EQUAL(ran_after, ran);
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;

    mac_conf = conf("backend = \"mac\";\n");
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("mac timers through the public API", NULL, NULL);
    CU_ADD_TEST(s, test_close_with_sleepers_pending_drops_each_once_and_runs_nothing_after);
    CU_ADD_TEST(s, test_sleepers_cancelled_from_another_thread_as_timers_fire_settle_once);
    CU_ADD_TEST(s, test_sleepers_wake_once_each_and_never_early);
    CU_ADD_TEST(s, test_sleepers_waking_during_a_burst_wake_once_never_early_and_the_burst_runs_once);
    CU_ADD_TEST(s, test_close_while_sleepers_wake_during_a_burst_settles_each_once);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    conf_unlink_all();
    return failed != 0;
}
