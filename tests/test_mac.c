/* SPDX-License-Identifier: MIT */
/*
 * tests/test_mac.c - the mac backend through its ABI alone: the real
 * mac.so, opened against the real libdispatch, driven by a recording
 * table of host services (threaded_fakehost.c).  It proves what the
 * conformance suite cannot see from above: every runnable is run or
 * dropped exactly once, on the right thread, and destroy() returns with
 * long timers still pending.
 */
#include <config.h>

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <sched/plugin.h>

#include "threaded_fakehost.h"

#define NRUN 20000

/* ---- the host: threaded_fakehost.c ------------------------------------- */

static int suite_init(void)
{
    return fakehost_load("mac");
}

static int suite_clean(void)
{
    return fakehost_unload();
}

static void open_backend(void)
{
    CU_ASSERT_EQUAL_FATAL(fakehost_open(), 0);
}

static void close_backend(void)
{
    fakehost_close();
}

/* Wait until n runnables were run or dropped. */
static void wait_done(int n)
{
    CU_ASSERT_EQUAL(wait_count(&consumed, n), 0);
}

/* Arm r to run after delay ns, on the main thread when on_main, noting the
 * window its deadline lies in: [due, due_hi]. */
static void arm(trun *r, uint64_t delay, int on_main)
{
    r->due = desc->ops.now(self) + delay;
    CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &r->base, delay, on_main), 0);
    r->due_hi = desc->ops.now(self) + delay;
}

/* Run the main loop until stop_after runnables ran there, wait until n
 * were run or dropped, and close the backend. */
static void run_until_done(int n)
{
    CU_ASSERT_EQUAL(desc->ops.run(self), 0);
    wait_done(n);
    close_backend();
}

static void test_descriptor_names_the_file_and_fills_required_ops(void)
{
    CU_ASSERT_EQUAL(desc->abi_major, SCHED_PLUGIN_ABI_MAJOR);
    CU_ASSERT(desc->size >= SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE);
    CU_ASSERT_STRING_EQUAL(desc->name, "mac");
    CU_ASSERT_PTR_NOT_NULL(desc->ops.create);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.destroy);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.schedule);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.schedule_main);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.run);
    CU_ASSERT_PTR_NOT_NULL(desc->ops.stop);
    /* park/unpark are left to the host: both or neither. */
    CU_ASSERT((desc->ops.park == NULL) == (desc->ops.unpark == NULL));
}

static void test_background_runnables_of_every_priority_run_exactly_once_off_main(void)
{
    trun *rs = calloc(NRUN, sizeof *rs);

    open_backend();
    for (int i = 0; i < NRUN; i++) {
        rs[i].prio = i % 4;
        int rc = i % 5 == 0 ? desc->ops.schedule(self, &rs[i].base)
                            : desc->ops.schedule_labeled(self, &rs[i].base, "bg",
                                                         (sched_priority)rs[i].prio);
        CU_ASSERT_EQUAL(rc, 0);
    }
    wait_done(NRUN);
    close_backend();
    for (int i = 0; i < NRUN; i++) {
        CU_ASSERT_EQUAL(rs[i].runs, 1);
        CU_ASSERT_EQUAL(rs[i].drops, 0);
        CU_ASSERT_EQUAL(rs[i].runs_on_main, 0);
    }
    free(rs);
}

struct from_thread {
    trun *rs;
    int n;
};

static void *schedule_main_from_thread(void *arg)
{
    struct from_thread *ft = arg;

    for (int i = 0; i < ft->n; i++)
        desc->ops.schedule_main(self, &ft->rs[i].base);
    return NULL;
}

static void test_main_runnables_from_another_thread_run_on_main_inside_run(void)
{
    trun *rs = calloc(NRUN, sizeof *rs);
    struct from_thread ft = { rs, NRUN };
    pthread_t th;

    open_backend();
    atomic_store(&stop_after, NRUN);
    pthread_create(&th, NULL, schedule_main_from_thread, &ft);
    CU_ASSERT_EQUAL(desc->ops.run(self), 0);
    pthread_join(th, NULL);
    close_backend();
    for (int i = 0; i < NRUN; i++) {
        CU_ASSERT_EQUAL(rs[i].runs, 1);
        CU_ASSERT_EQUAL(rs[i].runs_on_main, 1);
    }
    free(rs);
}

static void test_delayed_runnables_never_run_early_and_main_ones_run_on_main(void)
{
    enum { N = 200 };
    trun rs[N];

    memset(rs, 0, sizeof rs);
    open_backend();
    atomic_store(&stop_after, N);
    for (int i = 0; i < N; i++) {
        rs[i].prio = i % 4;
        arm(&rs[i], (uint64_t)(i % 20 + 1) * 1000000u, i % 2);
    }
    run_until_done(N);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(rs[i].runs, 1);
        CU_ASSERT_EQUAL(rs[i].early, 0);
        CU_ASSERT_EQUAL(rs[i].runs_on_main, i % 2);
    }
}

static void test_destroy_drops_pending_timers_and_queued_main_work_exactly_once(void)
{
    enum { N = 100 };
    trun rs[3 * N];

    memset(rs, 0, sizeof rs);
    open_backend();
    for (int i = 0; i < N; i++) {
        /* an hour, and a delay too long for dispatch_time to represent */
        uint64_t delay = i % 2 ? 3600ull * 1000000000u : UINT64_MAX;
        CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &rs[i].base, delay, i % 3 == 0), 0);
        CU_ASSERT_EQUAL(desc->ops.schedule_main(self, &rs[N + i].base), 0);
        CU_ASSERT_EQUAL(desc->ops.schedule(self, &rs[2 * N + i].base), 0);
    }
    close_backend();
    CU_ASSERT_EQUAL(atomic_load(&consumed), 3 * N);
    for (int i = 0; i < 3 * N; i++)
        CU_ASSERT_EQUAL(rs[i].runs + rs[i].drops, 1);
    for (int i = 0; i < 2 * N; i++) {
        CU_ASSERT_EQUAL(rs[i].runs, 0);
        CU_ASSERT_EQUAL(rs[i].drops, 1);
    }
}

/* A runnable that, once running, arms hour-long timers until the backend
 * closes under it. */
enum { NRACE = 1 << 15 };
static trun race_timers[NRACE];
static atomic_int race_armed;
static atomic_int race_refused;
static atomic_int race_started;

static void svc_run_racer(sched_runnable *r)
{
    (void)r;
    atomic_store(&race_started, 1);
    for (int i = 0; i < NRACE; i++) {
        int rc = desc->ops.schedule_after(self, &race_timers[i].base, 3600ull * 1000000000u, i % 2);
        if (rc != 0) {
            atomic_store(&race_refused, rc);
            return;
        }
        atomic_fetch_add(&race_armed, 1);
    }
}

static void test_timers_armed_while_destroy_runs_are_dropped_or_refused(void)
{
    sched_host_services racer_svc = services;   /* but for run */
    sched_backend_env env = { .size = sizeof env, .svc = &racer_svc, .host = NULL };
    trun racer;
    char err[256];
    int dropped = 0;

    racer_svc.run = svc_run_racer;
    memset(&racer, 0, sizeof racer);
    memset(race_timers, 0, sizeof race_timers);
    atomic_store(&consumed, 0);
    CU_ASSERT_EQUAL_FATAL(desc->ops.create(&env, &self, err, sizeof err), 0);
    CU_ASSERT_EQUAL(desc->ops.schedule(self, &racer.base), 0);
    while (!atomic_load(&race_started))
        sched_yield();
    close_backend();
    for (int i = 0; i < NRACE; i++) {
        CU_ASSERT_EQUAL(race_timers[i].runs, 0);
        dropped += race_timers[i].drops;
    }
    /* Every timer armed was dropped once; the racer stopped on ECLOSED
     * (unless it armed them all before the close began). */
    CU_ASSERT_EQUAL(dropped, atomic_load(&race_armed));
    CU_ASSERT(atomic_load(&race_refused) == SCHED_ECLOSED || atomic_load(&race_armed) == NRACE);
}

/* cancel_after takes back a pending timer once, and only a pending one:
 * not one that already ran, not one taken back already, and not a
 * runnable whose slot names a heap index it does not hold. */
static void test_cancel_after_takes_back_only_a_pending_timer_once(void)
{
    trun hour, soon, stranger, stale;

    memset(&hour, 0, sizeof hour);
    memset(&soon, 0, sizeof soon);
    memset(&stranger, 0, sizeof stranger);
    memset(&stale, 0, sizeof stale);
    open_backend();
    CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &hour.base, 3600ull * 1000000000u, 0), 0);
    CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &stale.base, 3600ull * 1000000000u, 1), 0);
    CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &soon.base, 1000000, 0), 0);
    wait_done(1);
    CU_ASSERT_EQUAL(atomic_load(&soon.runs), 1);
    CU_ASSERT_EQUAL(desc->ops.cancel_after(self, &soon.base), SCHED_ENOENT);
    /* Never scheduled, with slots claiming heap indexes 0 and 1. */
    stranger.base.backend_slot[1] = (void *)(uintptr_t)0;
    CU_ASSERT_EQUAL(desc->ops.cancel_after(self, &stranger.base), SCHED_ENOENT);
    stranger.base.backend_slot[1] = (void *)(uintptr_t)1;
    CU_ASSERT_EQUAL(desc->ops.cancel_after(self, &stranger.base), SCHED_ENOENT);
    CU_ASSERT_EQUAL(desc->ops.cancel_after(self, &hour.base), 0);
    CU_ASSERT_EQUAL(atomic_load(&hour.drops), 1);
    CU_ASSERT_EQUAL(desc->ops.cancel_after(self, &hour.base), SCHED_ENOENT);
    CU_ASSERT_EQUAL(atomic_load(&stale.drops), 0);
    close_backend();
    CU_ASSERT_EQUAL(atomic_load(&hour.drops), 1);
    CU_ASSERT_EQUAL(atomic_load(&hour.runs), 0);
    CU_ASSERT_EQUAL(atomic_load(&stale.drops), 1);
    CU_ASSERT_EQUAL(atomic_load(&stale.runs), 0);
    CU_ASSERT_EQUAL(atomic_load(&soon.runs) + atomic_load(&soon.drops), 1);
    CU_ASSERT_EQUAL(atomic_load(&stranger.runs) + atomic_load(&stranger.drops), 0);
}

/* Timers due now, cancelled from another thread as they fire: each is
 * run or taken back, once, and cancel_after says which. */
enum { NCANCEL = 4000 };
static trun cancel_rs[NCANCEL];
static int cancel_rc[NCANCEL];

static void *cancel_all(void *arg)
{
    (void)arg;
    for (int i = 0; i < NCANCEL; i++)
        cancel_rc[i] = desc->ops.cancel_after(self, &cancel_rs[i].base);
    return NULL;
}

static void test_timers_cancelled_from_another_thread_as_they_fire_run_or_drop_once(void)
{
    pthread_t th;

    memset(cancel_rs, 0, sizeof cancel_rs);
    open_backend();
    for (int i = 0; i < NCANCEL; i++) {
        /* 0-2 ms in steps of 10 us: the source fires again and again
         * while the other thread cancels its way through them. */
        cancel_rs[i].prio = i % 4;
        arm(&cancel_rs[i], (uint64_t)(i % 200) * 10000u, 0);
    }
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, cancel_all, NULL), 0);
    pthread_join(th, NULL);
    wait_done(NCANCEL);
    close_backend();
    for (int i = 0; i < NCANCEL; i++) {
        CU_ASSERT_EQUAL(cancel_rs[i].runs + cancel_rs[i].drops, 1);
        CU_ASSERT_EQUAL(cancel_rs[i].early, 0);
        if (cancel_rc[i] == 0) {
            CU_ASSERT_EQUAL(cancel_rs[i].drops, 1);
        } else {
            CU_ASSERT_EQUAL(cancel_rc[i], SCHED_ENOENT);
            CU_ASSERT_EQUAL(cancel_rs[i].runs, 1);
        }
    }
    CU_ASSERT_EQUAL(atomic_load(&consumed), NCANCEL);
}

/* destroy() while timers are falling due: each is run or dropped once,
 * and none runs after destroy() returned. */
static void test_destroy_while_timers_fire_runs_or_drops_each_once(void)
{
    enum { N = 3000 };
    static trun rs[N];
    int settled;

    memset(rs, 0, sizeof rs);
    open_backend();
    for (int i = 0; i < N; i++) {
        uint64_t delay = (uint64_t)(i % 300) * 10000u;  /* 0-3 ms */
        rs[i].prio = i % 4;
        CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &rs[i].base, delay, i % 5 == 0), 0);
    }
    nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    close_backend();
    settled = atomic_load(&consumed);
    CU_ASSERT_EQUAL(settled, N);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(rs[i].runs + rs[i].drops, 1);
    nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    CU_ASSERT_EQUAL(atomic_load(&consumed), settled);
}

/* A high-priority timer's runnable that schedules two medium-priority
 * ones, as a sleeping task's wake-up schedules the task: the first goes
 * to the inline slot, the second to the default queue. */
struct woken {
    trun first, second;
    atomic_int first_rc, second_rc;     /* schedule_labeled's; -1: not yet */
    atomic_int first_ran_in_fn;         /* first had run before fn returned */
};

static void schedule_two(trun *t)
{
    struct woken *w = t->arg;

    atomic_store(&w->first_rc, desc->ops.schedule_labeled(self, &w->first.base, "first",
                                                          SCHED_PRIORITY_MEDIUM));
    atomic_store(&w->second_rc, desc->ops.schedule_labeled(self, &w->second.base, "second",
                                                           SCHED_PRIORITY_MEDIUM));
}

static void wake_two(trun *t)
{
    struct woken *w = t->arg;

    schedule_two(t);
    /* Queued, first would likely have run elsewhere by now; inline, it
     * cannot have. */
    for (int i = 0; i < 20 && atomic_load(&w->first.runs) == 0; i++)
        nanosleep(&(struct timespec){ 0, 100000 }, NULL);
    atomic_store(&w->first_ran_in_fn, atomic_load(&w->first.runs) + atomic_load(&w->first.drops));
}

static void woken_init(struct woken *w, trun *timer)
{
    memset(w, 0, sizeof *w);
    memset(timer, 0, sizeof *timer);
    atomic_store(&w->first_rc, -1);
    atomic_store(&w->second_rc, -1);
    w->first.prio = w->second.prio = SCHED_PRIORITY_MEDIUM;
    timer->prio = SCHED_PRIORITY_HIGH;
    timer->fn = wake_two;
    timer->arg = w;
}

/* The first medium-priority runnable a due high-priority timer's runnable
 * schedules runs right after it, on its thread; the second is queued. */
static void test_a_fired_timers_first_medium_runnable_runs_right_after_it_on_its_thread(void)
{
    enum { N = 64 };
    static struct woken w[N];
    static trun timers[N];

    open_backend();
    for (int i = 0; i < N; i++) {
        woken_init(&w[i], &timers[i]);
        CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &timers[i].base,
                                                 (uint64_t)(i % 8) * 100000u, 0), 0);
    }
    wait_done(3 * N);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(timers[i].runs, 1);
        CU_ASSERT_EQUAL(atomic_load(&w[i].first_rc), 0);
        CU_ASSERT_EQUAL(atomic_load(&w[i].second_rc), 0);
        CU_ASSERT_EQUAL(w[i].first.runs, 1);
        CU_ASSERT_EQUAL(w[i].second.runs, 1);
        CU_ASSERT_EQUAL(atomic_load(&w[i].first_ran_in_fn), 0);
        CU_ASSERT(sched__thread_equal(w[i].first.thread, timers[i].thread));
        CU_ASSERT(w[i].first.order > timers[i].order);
        CU_ASSERT_EQUAL(w[i].first.drops + w[i].second.drops, 0);
    }
    close_backend();
}

/* destroy() while such timers fire: every timer, and every runnable one
 * of them scheduled, is run or dropped once; what was refused is not
 * the backend's. */
static void test_destroy_while_fired_timers_fill_the_inline_slot_settles_each_once(void)
{
    enum { N = 2000 };
    static struct woken w[N];
    static trun timers[N];
    int owned = 0;

    open_backend();
    for (int i = 0; i < N; i++) {
        woken_init(&w[i], &timers[i]);
        /* No wait in fn: many fire, and fill the slot, as destroy runs. */
        timers[i].fn = i % 2 == 0 ? schedule_two : NULL;
        CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &timers[i].base,
                                                 (uint64_t)(i % 200) * 10000u, 0), 0);
    }
    nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    close_backend();
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(timers[i].runs + timers[i].drops, 1);
        owned += 1;
        if (atomic_load(&w[i].first_rc) == 0) {
            CU_ASSERT_EQUAL(w[i].first.runs + w[i].first.drops, 1);
            owned++;
        } else {
            CU_ASSERT_EQUAL(w[i].first.runs + w[i].first.drops, 0);
        }
        if (atomic_load(&w[i].second_rc) == 0) {
            CU_ASSERT_EQUAL(w[i].second.runs + w[i].second.drops, 1);
            owned++;
        } else {
            CU_ASSERT_EQUAL(w[i].second.runs + w[i].second.drops, 0);
        }
    }
    CU_ASSERT_EQUAL(atomic_load(&consumed), owned);
    nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    CU_ASSERT_EQUAL(atomic_load(&consumed), owned);
}

/* Main-thread timers of random delays run in the order of their
 * deadlines: the heap hands them on earliest first, and the main queue
 * keeps that order.  The backend's deadline lies in [due, due_hi]; only
 * timers whose ranges do not overlap have a defined order. */
static void test_main_timers_of_random_delays_run_in_deadline_order(void)
{
    enum { N = 300 };
    trun *rs = calloc(N, sizeof *rs);
    unsigned seed = 4242;
    int misordered = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
    open_backend();
    atomic_store(&stop_after, N);
    for (int i = 0; i < N; i++)
        arm(&rs[i], (uint64_t)(rand_r(&seed) % 20000) * 1000, 1);    /* 0-20 ms */
    run_until_done(N);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(rs[i].runs, 1);
        CU_ASSERT_EQUAL(rs[i].early, 0);
        for (int j = 0; j < N; j++)
            misordered += rs[i].due_hi < rs[j].due && rs[i].order > rs[j].order;
    }
    CU_ASSERT_EQUAL(misordered, 0);
    free(rs);
}

/* Timers due at once leave the heap in the order they were armed. */
static void test_timers_due_at_once_run_on_main_in_the_order_armed(void)
{
    enum { N = 64 };
    trun rs[N];

    memset(rs, 0, sizeof rs);
    open_backend();
    atomic_store(&stop_after, N);
    /* All main-thread, so one thread runs them in the order they reach
     * the main queue. */
    for (int i = 0; i < N; i++)
        arm(&rs[i], 0, 1);
    run_until_done(N);
    for (int i = 0; i + 1 < N; i++)
        CU_ASSERT(rs[i].order < rs[i + 1].order);
}

static void *is_main_from_thread(void *arg)
{
    *(int *)arg = desc->ops.is_main_thread(self);
    return NULL;
}

static void test_is_main_thread_is_true_only_on_the_creating_thread(void)
{
    pthread_t th;
    int other = -1;

    open_backend();
    CU_ASSERT_NOT_EQUAL(desc->ops.is_main_thread(self), 0);
    pthread_create(&th, NULL, is_main_from_thread, &other);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(other, 0);
    close_backend();
}

struct create_result {
    int rc;
    char err[256];
};

static void *create_from_thread(void *arg)
{
    struct create_result *cr = arg;
    sched_backend_env env = { .size = sizeof env, .svc = &services, .host = NULL };
    void *s = NULL;

    cr->rc = desc->ops.create(&env, &s, cr->err, sizeof cr->err);
    if (cr->rc == 0)
        desc->ops.destroy(s);
    return NULL;
}

static void test_create_off_the_main_queue_thread_is_refused_with_a_reason(void)
{
    struct create_result cr = { 0, "" };
    pthread_t th;

    pthread_create(&th, NULL, create_from_thread, &cr);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(cr.rc, SCHED_EBACKEND);
    CU_ASSERT_PTR_NOT_NULL(strstr(cr.err, "main queue"));
}

static void test_stop_before_run_makes_run_return_at_once(void)
{
    open_backend();
    desc->ops.stop(self);
    CU_ASSERT_EQUAL(desc->ops.run(self), 0);
    close_backend();
}

static void test_pollable_fd_signals_main_work_and_dispatch_runs_it(void)
{
    trun rs[3];
    const sched_pollable_iface_v1 *p;
    struct pollfd pfd;

    memset(rs, 0, sizeof rs);
    open_backend();
    p = desc->ops.query(self, "sched.pollable", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NULL(desc->ops.query(self, "sched.test", 1));
    for (int i = 0; i < 3; i++)
        desc->ops.schedule_main(self, &rs[i].base);
    pfd.fd = p->fd(self);
    pfd.events = POLLIN;
    CU_ASSERT_EQUAL(poll(&pfd, 1, -1), 1);
    CU_ASSERT_EQUAL(p->dispatch(self), 3);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(rs[i].runs_on_main, 1);
    close_backend();
}

/* In the child: 0 when background work is refused and main work runs. */
static int forked_child_checks(void)
{
    trun bg, fg;
    const sched_pollable_iface_v1 *p;
    sched_backend_env env = { .size = sizeof env, .svc = &services, .host = NULL };
    char err[256];
    int bad = 0;

    memset(&bg, 0, sizeof bg);
    memset(&fg, 0, sizeof fg);
    if (desc->ops.create(&env, &self, err, sizeof err) != 0)
        return 1;
    bad |= desc->ops.schedule(self, &bg.base) != SCHED_EBACKEND;
    bad |= desc->ops.schedule_after(self, &bg.base, 1000, 0) != SCHED_EBACKEND;
    bad |= desc->ops.schedule_main(self, &fg.base) != 0;
    p = desc->ops.query(self, "sched.pollable", 1);
    bad |= p->dispatch(self) != 1 || fg.runs_on_main != 1;
    desc->ops.destroy(self);
    return bad ? 2 : 0;
}

static void test_forked_child_refuses_background_work_and_still_runs_main_work(void)
{
    trun warm;
    pid_t pid;
    int fds[2];
    char verdict = -1;

    /* Make sure libdispatch has worker threads before the fork. */
    memset(&warm, 0, sizeof warm);
    open_backend();
    CU_ASSERT_EQUAL(desc->ops.schedule(self, &warm.base), 0);
    wait_done(1);
    close_backend();

    /* The verdict comes through a pipe, not the exit status: under
     * valgrind the child also reports the parent's libdispatch caches it
     * inherited, which no thread of the child can reach. */
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        char v = (char)forked_child_checks();
        _exit(write(fds[1], &v, 1) == 1 ? 0 : 1);
    }
    close(fds[1]);
    CU_ASSERT_EQUAL(read(fds[0], &verdict, 1), 1);
    CU_ASSERT_EQUAL(verdict, 0);
    close(fds[0]);
    CU_ASSERT_EQUAL(waitpid(pid, NULL, 0), pid);
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("mac backend ABI", suite_init, suite_clean);
    CU_ADD_TEST(s, test_descriptor_names_the_file_and_fills_required_ops);
    CU_ADD_TEST(s, test_background_runnables_of_every_priority_run_exactly_once_off_main);
    CU_ADD_TEST(s, test_main_runnables_from_another_thread_run_on_main_inside_run);
    CU_ADD_TEST(s, test_delayed_runnables_never_run_early_and_main_ones_run_on_main);
    CU_ADD_TEST(s, test_destroy_drops_pending_timers_and_queued_main_work_exactly_once);
    CU_ADD_TEST(s, test_timers_armed_while_destroy_runs_are_dropped_or_refused);
    CU_ADD_TEST(s, test_cancel_after_takes_back_only_a_pending_timer_once);
    CU_ADD_TEST(s, test_timers_cancelled_from_another_thread_as_they_fire_run_or_drop_once);
    CU_ADD_TEST(s, test_destroy_while_timers_fire_runs_or_drops_each_once);
    CU_ADD_TEST(s, test_timers_due_at_once_run_on_main_in_the_order_armed);
    CU_ADD_TEST(s, test_main_timers_of_random_delays_run_in_deadline_order);
    CU_ADD_TEST(s, test_a_fired_timers_first_medium_runnable_runs_right_after_it_on_its_thread);
    CU_ADD_TEST(s, test_destroy_while_fired_timers_fill_the_inline_slot_settles_each_once);
    CU_ADD_TEST(s, test_is_main_thread_is_true_only_on_the_creating_thread);
    CU_ADD_TEST(s, test_create_off_the_main_queue_thread_is_refused_with_a_reason);
    CU_ADD_TEST(s, test_stop_before_run_makes_run_return_at_once);
    CU_ADD_TEST(s, test_pollable_fd_signals_main_work_and_dispatch_runs_it);
    CU_ADD_TEST(s, test_forked_child_refuses_background_work_and_still_runs_main_work);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed != 0;
}
