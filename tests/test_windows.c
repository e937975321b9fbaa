/* SPDX-License-Identifier: MIT */
/*
 * tests/test_windows.c - the windows backend, driven through its plugin ABI.
 *
 * The real plugins/windows/.libs/windows.dll is loaded with the host's own
 * platform layer and given the services table of threaded_fakehost.c,
 * whose runnables record how often, where and when they ran or were
 * dropped.  That proves the backend's side of the contract (each runnable
 * run or dropped, exactly once) on the real Win32 thread pool, without
 * the task core in between.  Built and run only on Windows hosts (under Wine here).
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include <sched/plugin.h>

#include "threaded_fakehost.h"

/* ---- the host: threaded_fakehost.c ------------------------------------ */

static int open_backend(int64_t max_threads)
{
    fakehost_config_int("max_threads", max_threads);
    return fakehost_open();
}

static void close_backend(void)
{
    fakehost_close();
}

/* ---- tests -------------------------------------------------------------- */

static void test_descriptor_names_the_windows_backend(void)
{
    CU_ASSERT_EQUAL(desc->abi_major, SCHED_PLUGIN_ABI_MAJOR);
    CU_ASSERT(desc->size >= SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE);
    CU_ASSERT_STRING_EQUAL(desc->name, "windows");
    CU_ASSERT_PTR_NOT_NULL(desc->ops.create);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.schedule);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.schedule_after);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.park);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.unpark);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.run);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.stop);
}

static void test_every_background_runnable_runs_once_off_the_main_thread(void)
{
    enum { N = 20000 };
    trun *t = calloc(N, sizeof *t);
    int twice = 0, on_main = 0;

    CU_ASSERT_FATAL(open_backend(-1) == 0);
    atomic_store(&done_count, 0);
    for (int i = 0; i < N; i++) {
        t[i].fn = count_done;
        t[i].prio = i % 3;
        CU_ASSERT_EQUAL(i % 2 ? desc->ops.schedule(self, &t[i].base)
                              : desc->ops.schedule_labeled(self, &t[i].base, "bg",
                                                           (sched_priority)(i % 4)),
                        0);
    }
    CU_ASSERT_EQUAL(wait_count(&done_count, N), 0);
    close_backend();
    for (int i = 0; i < N; i++) {
        twice += atomic_load(&t[i].runs) != 1 || atomic_load(&t[i].drops) != 0;
        on_main += t[i].ran_on_main;
    }
    CU_ASSERT_EQUAL(twice, 0);
    CU_ASSERT_EQUAL(on_main, 0);
    free(t);
}

static void test_high_priority_work_runs_before_low_on_a_busy_pool(void)
{
    trun gate = {.fn = wait_gate, .prio = SCHED_PRIORITY_HIGH};
    trun low = {.prio = SCHED_PRIORITY_LOW}, med = {.prio = SCHED_PRIORITY_MEDIUM},
         high = {.prio = SCHED_PRIORITY_HIGH};

    CU_ASSERT_FATAL(open_backend(1) == 0);
    gate_close();
    CU_ASSERT_EQUAL(desc->ops.schedule(self, &gate.base), 0);
    CU_ASSERT_EQUAL(wait_count(&gate_entered, 1), 0);
    CU_ASSERT_EQUAL(desc->ops.schedule_labeled(self, &low.base, "low", SCHED_PRIORITY_LOW), 0);
    CU_ASSERT_EQUAL(desc->ops.schedule_labeled(self, &med.base, NULL, SCHED_PRIORITY_MEDIUM), 0);
    CU_ASSERT_EQUAL(desc->ops.schedule(self, &high.base), 0);
    open_gate();
    CU_ASSERT_EQUAL(wait_count(&low.runs, 1), 0);
    CU_ASSERT_EQUAL(wait_count(&med.runs, 1), 0);
    CU_ASSERT_EQUAL(wait_count(&high.runs, 1), 0);
    close_backend();
    CU_ASSERT(high.order < med.order);
    CU_ASSERT(med.order < low.order);
}

/* run() on the main thread drains main-thread work queued from any
 * thread, in FIFO order, until a runnable calls stop(). */
static trun main_runs[64];
static void stop_loop(trun *t)
{
    (void)t;
    desc->ops.stop(self);
}

static void queue_main_from_pool(trun *t)
{
    (void)t;
    for (int i = 0; i < 63; i++)
        desc->ops.schedule_main(self, &main_runs[i].base);
    main_runs[63].fn = stop_loop;
    desc->ops.schedule_main(self, &main_runs[63].base);
}

static void test_main_thread_work_runs_in_order_on_the_main_thread(void)
{
    trun starter = {.fn = queue_main_from_pool};
    int bad = 0;

    memset(main_runs, 0, sizeof main_runs);
    CU_ASSERT_FATAL(open_backend(-1) == 0);
    CU_ASSERT(desc->ops.is_main_thread(self));
    CU_ASSERT_EQUAL(desc->ops.schedule(self, &starter.base), 0);
    CU_ASSERT_EQUAL(desc->ops.run(self), 0);
    for (int i = 0; i < 64; i++)
        bad += atomic_load(&main_runs[i].runs) != 1 || !main_runs[i].ran_on_main ||
               (i > 0 && main_runs[i].order != main_runs[i - 1].order + 1);
    CU_ASSERT_EQUAL(bad, 0);
    close_backend();
}

static void test_stop_before_run_returns_after_draining_the_queue(void)
{
    trun a = {0}, b = {0};

    CU_ASSERT_FATAL(open_backend(-1) == 0);
    CU_ASSERT_EQUAL(desc->ops.schedule_main(self, &a.base), 0);
    CU_ASSERT_EQUAL(desc->ops.schedule_main(self, &b.base), 0);
    desc->ops.stop(self);
    CU_ASSERT_EQUAL(desc->ops.run(self), 0);
    CU_ASSERT_EQUAL(atomic_load(&a.runs), 1);
    CU_ASSERT_EQUAL(atomic_load(&b.runs), 1);
    CU_ASSERT(a.order < b.order);
    close_backend();
}

/* block() on the main thread runs main-thread work through dispatch. */
static void test_dispatch_runs_what_is_queued_for_the_main_thread(void)
{
    const sched_pollable_iface_v1 *p;
    trun a = {0}, b = {0};

    CU_ASSERT_FATAL(open_backend(-1) == 0);
    p = desc->ops.query(self, "sched.pollable", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NULL(desc->ops.query(self, "sched.test", 1));
    CU_ASSERT_EQUAL(p->fd(self), SCHED_ENOTSUP);
    CU_ASSERT_EQUAL(p->dispatch(self), 0);
    CU_ASSERT_EQUAL(desc->ops.schedule_main(self, &a.base), 0);
    CU_ASSERT_EQUAL(desc->ops.schedule_main(self, &b.base), 0);
    CU_ASSERT_EQUAL(p->dispatch(self), 2);
    CU_ASSERT_EQUAL(atomic_load(&a.runs), 1);
    CU_ASSERT_EQUAL(atomic_load(&b.runs), 1);
    CU_ASSERT(a.ran_on_main && b.ran_on_main && a.order < b.order);
    close_backend();
}

/* Timers on the pool and on the main thread; the last one stops run(). */
static void test_delayed_work_never_runs_before_its_delay(void)
{
    enum { N = 60 };
    trun t[N];
    trun last = {.fn = stop_loop};
    int early = 0, wrong = 0;

    memset(t, 0, sizeof t);
    CU_ASSERT_FATAL(open_backend(-1) == 0);
    atomic_store(&done_count, 0);
    for (int i = 0; i < N; i++) {
        uint64_t delay = (uint64_t)(1 + i % 15) * 1000000u + (uint64_t)i * 1000u;
        t[i].due = desc->ops.now(self) + delay;
        t[i].fn = count_done;
        CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &t[i].base, delay, i % 2), 0);
    }
    CU_ASSERT_EQUAL(wait_count(&done_count, N / 2), 0); /* the pool's half */
    last.due = desc->ops.now(self) + 20000000u;
    CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &last.base, 20000000u, 1), 0);
    CU_ASSERT_EQUAL(desc->ops.run(self), 0);
    CU_ASSERT_EQUAL(wait_count(&done_count, N), 0);
    for (int i = 0; i < N; i++) {
        early += t[i].ran_at < t[i].due;
        wrong += atomic_load(&t[i].runs) != 1 || t[i].ran_on_main != (i % 2);
    }
    early += last.ran_at < last.due;
    CU_ASSERT_EQUAL(early, 0);
    CU_ASSERT_EQUAL(wrong, 0);
    close_backend();
}

static void test_park_times_out_without_an_unpark(void)
{
    sched_parker p;

    memset(&p, 0, sizeof p);
    CU_ASSERT_FATAL(open_backend(-1) == 0);
    CU_ASSERT_EQUAL(desc->ops.park(self, &p, 2000000u), SCHED_ETIMEDOUT);
    close_backend();
}

static void test_unpark_before_park_is_not_lost(void)
{
    sched_parker p;

    memset(&p, 0, sizeof p);
    CU_ASSERT_FATAL(open_backend(-1) == 0);
    desc->ops.unpark(self, &p);
    CU_ASSERT_EQUAL(desc->ops.park(self, &p, SCHED_TIMEOUT_NEVER), 0);
    close_backend();
}

static sched_parker foreign_parker;
static void unpark_from_pool(trun *t)
{
    (void)t;
    desc->ops.unpark(self, &foreign_parker);
}

static void test_unpark_from_another_thread_wakes_the_parked_thread(void)
{
    trun waker = {.fn = unpark_from_pool};
    int rc;

    memset(&foreign_parker, 0, sizeof foreign_parker);
    CU_ASSERT_FATAL(open_backend(-1) == 0);
    CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &waker.base, 5000000u, 0), 0);
    do
        rc = desc->ops.park(self, &foreign_parker, SCHED_TIMEOUT_NEVER);
    while (rc == 0 && atomic_load(&waker.runs) == 0);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(wait_count(&waker.runs, 1), 0);
    close_backend();
}

static void open_gate_later(void *arg)
{
    uint32_t never = 0;

    (void)arg;
    sched__word_wait(&never, 0, 50000000u);
    open_gate();
}

/* Queued background work (behind a busy one-thread pool), pending timers
 * and queued main-thread work are each run or dropped exactly once by
 * destroy, and nothing runs after it returns. */
static void test_destroy_drops_everything_pending_exactly_once(void)
{
    enum { N = 300 };
    trun *t = calloc(N, sizeof *t);
    trun gate = {.fn = wait_gate};
    sched__thread opener;
    int bad = 0, dropped = 0, runs_after;

    CU_ASSERT_FATAL(open_backend(1) == 0);
    gate_close();
    CU_ASSERT_EQUAL(desc->ops.schedule(self, &gate.base), 0);
    CU_ASSERT_EQUAL(wait_count(&gate_entered, 1), 0);
    for (int i = 0; i < N; i++) {
        int rc;
        switch (i % 3) {
        case 0:
            rc = desc->ops.schedule(self, &t[i].base);
            break;
        case 1:
            rc = desc->ops.schedule_main(self, &t[i].base);
            break;
        default:
            rc = desc->ops.schedule_after(self, &t[i].base, 3600000000000u, i % 2);
            break;
        }
        CU_ASSERT_EQUAL(rc, 0);
    }
    /* destroy waits for the running gate; let it go a little later. */
    CU_ASSERT_FATAL(sched__thread_start(&opener, open_gate_later, NULL) == 0);
    close_backend();
    sched__thread_join(opener);
    for (int i = 0; i < N; i++) {
        bad += atomic_load(&t[i].runs) + atomic_load(&t[i].drops) != 1;
        dropped += atomic_load(&t[i].drops);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(atomic_load(&gate.runs), 1);
    /* Main-thread work and hour-long timers can only have been dropped. */
    CU_ASSERT(dropped >= 2 * N / 3);
    runs_after = atomic_load(&run_seq);
    {
        uint32_t never = 0;
        sched__word_wait(&never, 0, 20000000u);
    }
    CU_ASSERT_EQUAL(atomic_load(&run_seq), runs_after);
    free(t);
}

/* ---- main --------------------------------------------------------------- */

int main(void)
{
    CU_pSuite s;
    unsigned failed;

    if (fakehost_load("windows") != 0)
        return 1;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("windows backend", NULL, NULL);
    CU_add_test(s, "descriptor names the windows backend",
                test_descriptor_names_the_windows_backend);
    CU_add_test(s, "every background runnable runs once, off the main thread",
                test_every_background_runnable_runs_once_off_the_main_thread);
    CU_add_test(s, "high priority work runs before low on a busy pool",
                test_high_priority_work_runs_before_low_on_a_busy_pool);
    CU_add_test(s, "main-thread work runs in order on the main thread",
                test_main_thread_work_runs_in_order_on_the_main_thread);
    CU_add_test(s, "stop before run returns after draining the queue",
                test_stop_before_run_returns_after_draining_the_queue);
    CU_add_test(s, "dispatch runs what is queued for the main thread",
                test_dispatch_runs_what_is_queued_for_the_main_thread);
    CU_add_test(s, "delayed work never runs before its delay",
                test_delayed_work_never_runs_before_its_delay);
    CU_add_test(s, "park times out without an unpark", test_park_times_out_without_an_unpark);
    CU_add_test(s, "unpark before park is not lost", test_unpark_before_park_is_not_lost);
    CU_add_test(s, "unpark from another thread wakes the parked thread",
                test_unpark_from_another_thread_wakes_the_parked_thread);
    CU_add_test(s, "destroy drops everything pending exactly once",
                test_destroy_drops_everything_pending_exactly_once);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    fakehost_unload();
    return failed ? 1 : 0;
}
