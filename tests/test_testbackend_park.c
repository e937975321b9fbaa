/* SPDX-License-Identifier: MIT */
/*
 * tests/test_testbackend_park.c - the test backend at the plugin ABI:
 * blocking waits that drive the scheduler, parking, other threads, and
 * the main loop.  Part of test_testbackend_abi.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_fakehost.h"

static void *park_self;
static sched_parker park_p;

static void unpark_it(fake_runnable *f)
{
    (void)f;
    ops->unpark(park_self, &park_p);
}

static fake_runnable *late_r;

static void unpark_then_schedule(fake_runnable *f)
{
    (void)f;
    ops->unpark(park_self, &park_p);
    ops->schedule(park_self, &late_r->base);
}

static void test_park_drives_the_scheduler_until_unparked(void)
{
    /* FIFO: the woken waiter resumes after the work queued before its
     * wake-up, and before the work queued after it. */
    reset();
    config_set("randomize", 0);
    void *self = park_self = open_backend();
    fake_runnable *r = make(6);
    late_r = &r[5];
    r[2].fn = unpark_then_schedule;
    for (int i = 0; i < 5; i++)
        ops->schedule(self, &r[i].base);
    memset(&park_p, 0, sizeof park_p);
    CU_ASSERT_EQUAL(ops->park(self, &park_p, SCHED_TIMEOUT_NEVER), 0);
    CU_ASSERT_EQUAL(norder, 5);
    CU_ASSERT_EQUAL(r[5].ran, 0);
    ops->destroy(self);
    CU_ASSERT_EQUAL(r[5].dropped, 1);
    free(r);

    /* At random: the waiter is one more candidate, so over seeds it
     * resumes at different points, never before its wake-up. */
    int resumed_at[6] = { 0 };
    for (uint64_t seed = 0; seed < 60; seed++) {
        reset();
        config_set("seed", (int64_t)seed);
        self = park_self = open_backend();
        r = make(6);
        late_r = &r[5];
        r[2].fn = unpark_then_schedule;
        for (int i = 0; i < 5; i++)
            ops->schedule(self, &r[i].base);
        memset(&park_p, 0, sizeof park_p);
        CU_ASSERT_EQUAL(ops->park(self, &park_p, SCHED_TIMEOUT_NEVER), 0);
        CU_ASSERT_EQUAL(r[2].ran, 1);
        CU_ASSERT(norder >= 1 && norder <= 6);
        resumed_at[norder - 1]++;
        ops->destroy(self);
        free(r);
    }
    int places = 0;
    for (int i = 0; i < 6; i++)
        places += resumed_at[i] > 0;
    CU_ASSERT(places >= 3);
}

static void test_park_moves_the_clock_to_the_next_timer(void)
{
    reset();
    void *self = park_self = open_backend();
    fake_runnable *r = make(1);
    r[0].fn = unpark_it;
    ops->schedule_after(self, &r[0].base, 250 * MS, 1);
    memset(&park_p, 0, sizeof park_p);
    CU_ASSERT_EQUAL(ops->park(self, &park_p, SCHED_TIMEOUT_NEVER), 0);
    CU_ASSERT_EQUAL(ops->now(self), 250 * MS);
    ops->destroy(self);
    free(r);
}

static void test_park_with_nothing_to_run_and_parking_forbidden_deadlocks(void)
{
    reset();
    void *self = open_backend();
    sched_parker p = { { 0 } };
    CU_ASSERT_EQUAL(ops->park(self, &p, SCHED_TIMEOUT_NEVER), SCHED_EDEADLK);
    ops->destroy(self);
}

static void test_park_with_timeout_runs_its_drawn_tick_budget(void)
{
    reset();
    config_set("timeout_ticks_min", 4);
    config_set("timeout_ticks_max", 4);
    void *self = open_backend();
    fake_runnable *r = make(10);
    for (int i = 0; i < 10; i++)
        ops->schedule(self, &r[i].base);
    sched_parker p = { { 0 } };
    CU_ASSERT_EQUAL(ops->park(self, &p, 1000 * MS), SCHED_ETIMEDOUT);
    CU_ASSERT_EQUAL(norder, 4);
    /* The same blocking call parks again: its budget is spent. */
    CU_ASSERT_EQUAL(ops->park(self, &p, 1000 * MS), SCHED_ETIMEDOUT);
    CU_ASSERT_EQUAL(norder, 4);
    CU_ASSERT_EQUAL(ops->now(self), 0);
    ops->destroy(self);
    free(r);
}

static void test_park_with_timeout_and_no_timer_before_it_jumps_to_the_deadline(void)
{
    reset();
    void *self = open_backend();
    fake_runnable *r = make(1);
    ops->schedule_after(self, &r[0].base, 80 * MS, 0);
    sched_parker p = { { 0 } };
    CU_ASSERT_EQUAL(ops->park(self, &p, 50 * MS), SCHED_ETIMEDOUT);
    CU_ASSERT_EQUAL(ops->now(self), 50 * MS);
    CU_ASSERT_EQUAL(r[0].ran, 0);
    ops->destroy(self);
    CU_ASSERT_EQUAL(r[0].dropped, 1);
    free(r);
}

static void *unparker(void *arg)
{
    (void)arg;
    usleep(20000);
    ops->unpark(park_self, &park_p);
    return NULL;
}

static void test_park_allowed_waits_for_another_thread(void)
{
    reset();
    config_set("allow_parking", 1);
    void *self = park_self = open_backend();
    memset(&park_p, 0, sizeof park_p);
    pthread_t th;
    pthread_create(&th, NULL, unparker, NULL);
    CU_ASSERT_EQUAL(ops->park(self, &park_p, SCHED_TIMEOUT_NEVER), 0);
    pthread_join(th, NULL);
    iface(self)->set_parking_allowed(self, 0);
    sched_parker p = { { 0 } };
    CU_ASSERT_EQUAL(ops->park(self, &p, SCHED_TIMEOUT_NEVER), SCHED_EDEADLK);
    ops->destroy(self);
}

struct foreign_park {
    void *self;
    sched_parker p;
    uint64_t timeout;
    int rc;
    int started;
};

static void *park_on_thread(void *arg)
{
    struct foreign_park *fp = arg;
    __atomic_store_n(&fp->started, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&fp->rc, ops->park(fp->self, &fp->p, fp->timeout), __ATOMIC_RELEASE);
    return NULL;
}

static void unpark_foreign(fake_runnable *f)
{
    struct foreign_park *fp = f->arg;
    ops->unpark(fp->self, &fp->p);
}

static void test_a_thread_other_than_main_parks_for_real_while_main_drives(void)
{
    reset();
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    CU_ASSERT(ops->is_main_thread(self));

    /* Woken by a runnable the main thread runs. */
    struct foreign_park fp = { .self = self, .timeout = SCHED_TIMEOUT_NEVER, .rc = -100 };
    fake_runnable *r = make(1);
    r[0].fn = unpark_foreign;
    r[0].arg = &fp;
    pthread_t th;
    pthread_create(&th, NULL, park_on_thread, &fp);
    while (!__atomic_load_n(&fp.started, __ATOMIC_ACQUIRE))
        usleep(1000);
    usleep(10000);
    ops->schedule(self, &r[0].base);
    CU_ASSERT_EQUAL(t->run_until_parked(self), 1);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(fp.rc, 0);

    /* Timed out when the main thread moves the virtual clock past it. */
    struct foreign_park late = { .self = self, .timeout = 40 * MS, .rc = -100 };
    pthread_create(&th, NULL, park_on_thread, &late);
    while (!__atomic_load_n(&late.started, __ATOMIC_ACQUIRE))
        usleep(1000);
    /* However late the thread gets to park, the clock passes its
     * deadline eventually: advanced until the park returns, with no
     * bound of our own (its deadline counts from when it parks, so a
     * thread descheduled past a bound would wait for good; a park that
     * never times out hangs the test, which the suite's limit reports). */
    while (__atomic_load_n(&late.rc, __ATOMIC_ACQUIRE) == -100) {
        t->advance_clock(self, 10 * MS);
        usleep(1000);
    }
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(late.rc, SCHED_ETIMEDOUT);
    ops->destroy(self);
    free(r);
}

static fake_runnable *foreign_r;

static void *schedule_from_thread(void *arg)
{
    ops->schedule(arg, &foreign_r->base);
    return NULL;
}

static void stop_it(fake_runnable *f)
{
    ops->stop(f->arg);
}

static void test_run_drives_until_stopped_and_work_from_threads_runs_on_main(void)
{
    reset();
    config_set("allow_parking", 1);
    void *self = open_backend();
    foreign_r = make(1);
    foreign_r->fn = stop_it;
    foreign_r->arg = self;
    pthread_t th;
    pthread_create(&th, NULL, schedule_from_thread, self);
    CU_ASSERT_EQUAL(ops->run(self), 0);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(foreign_r->ran, 1);
    iface(self)->set_parking_allowed(self, 0);
    CU_ASSERT_EQUAL(ops->run(self), SCHED_EDEADLK);
    ops->destroy(self);
    free(foreign_r);
}

void add_park_tests(CU_pSuite s)
{
#define T(name) CU_add_test(s, #name, name)
    T(test_park_drives_the_scheduler_until_unparked);
    T(test_park_moves_the_clock_to_the_next_timer);
    T(test_park_with_nothing_to_run_and_parking_forbidden_deadlocks);
    T(test_park_with_timeout_runs_its_drawn_tick_budget);
    T(test_park_with_timeout_and_no_timer_before_it_jumps_to_the_deadline);
    T(test_park_allowed_waits_for_another_thread);
    T(test_run_drives_until_stopped_and_work_from_threads_runs_on_main);
    T(test_a_thread_other_than_main_parks_for_real_while_main_drives);
#undef T
}
