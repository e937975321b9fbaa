/* SPDX-License-Identifier: MIT */
/*
 * tests/test_linux.c - the linux backend, driven through its plugin ABI.
 *
 * The real plugins/linux/.libs/linux.so is opened and given the services
 * table of threaded_fakehost.c, whose runnables record how often, where
 * and in which order they ran or were dropped.  That proves the backend's
 * side of the contract exactly (run or drop, once each) without the task
 * core in between.  Config errors through the real host are in test_linux_host.c.
 */
#include "config.h"

#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <sched/plugin.h>

#include "threaded_fakehost.h"

/* ---- the host: threaded_fakehost.c ------------------------------------- */

static int open_backend(int64_t threads)
{
    fakehost_config_int("threads", threads);
    return fakehost_open();
}

static void close_backend(void)
{
    fakehost_close();
}

/* ---- tests ----------------------------------------------------------------- */

static void test_descriptor_names_linux_and_declares_threads(void)
{
    CU_ASSERT_STRING_EQUAL(desc->name, "linux");
    CU_ASSERT_EQUAL(desc->abi_major, SCHED_PLUGIN_ABI_MAJOR);
    CU_ASSERT_STRING_EQUAL(desc->config_keys[0].name, "threads");
    CU_ASSERT_EQUAL(desc->config_keys[0].type, SCHED_CONFIG_INT);
    CU_ASSERT_EQUAL(desc->config_keys[0].min, 0);
    CU_ASSERT_EQUAL(desc->config_keys[0].max, 1024);
    CU_ASSERT_PTR_NULL(desc->config_keys[1].name);
}

static void test_threads_out_of_range_is_refused_with_the_key(void)
{
    sched_backend_env env = { sizeof env, &services, NULL };
    char err[256] = "";
    void *s = NULL;
    fakehost_config_int("threads", 5000);
    CU_ASSERT_EQUAL(desc->ops.create(&env, &s, err, sizeof err), SCHED_ECONFIG);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "threads"));
}

static void test_every_runnable_runs_exactly_once(void)
{
    enum { N = 100000 };
    trun *t = calloc(N, sizeof *t);
    CU_ASSERT_EQUAL_FATAL(open_backend(2), 0);
    atomic_store(&done_count, 0);
    for (int i = 0; i < N; i++) {
        t[i].fn = count_done;
        t[i].prio = i % 3;
        CU_ASSERT_EQUAL(desc->ops.schedule_labeled(self, &t[i].base, NULL, t[i].prio), 0);
    }
    CU_ASSERT_EQUAL(wait_count(&done_count, N), 0);
    close_backend();
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += atomic_load(&t[i].runs) != 1 || atomic_load(&t[i].drops) != 0 || t[i].ran_on_main;
    CU_ASSERT_EQUAL(bad, 0);
    free(t);
}

/* Many small bursts from several foreign threads at once, each waiting
 * for its burst to run before the next: every push races the workers
 * draining the injection queue and going back to sleep.  A runnable
 * stranded there would stop one of the threads for good. */
struct burster {
    int id;
    atomic_int ran;
    int ok;
};

static void count_burst(trun *t)
{
    atomic_fetch_add(&((struct burster *)t->arg)->ran, 1);
}

static void *push_bursts(void *arg)
{
    struct burster *bs = arg;
    trun t[8];
    int expected = 0;

    bs->ok = 1;
    for (int round = 0; round < 3000 && bs->ok; round++) {
        int n = 1 + (round + bs->id) % 8;
        memset(t, 0, sizeof t);
        for (int i = 0; i < n; i++) {
            t[i].fn = count_burst;
            t[i].arg = bs;
            desc->ops.schedule(self, &t[i].base);
        }
        expected += n;
        for (int spins = 0; atomic_load(&bs->ran) < expected; spins++) {
            if (spins > 2000000) {
                bs->ok = 0;
                break;
            }
            sched_yield();
        }
    }
    return NULL;
}

static void test_bursts_from_racing_threads_never_strand_work(void)
{
    struct burster bs[3];
    pthread_t th[3];

    CU_ASSERT_EQUAL_FATAL(open_backend(2), 0);
    for (int i = 0; i < 3; i++) {
        bs[i].id = i;
        atomic_init(&bs[i].ran, 0);
        pthread_create(&th[i], NULL, push_bursts, &bs[i]);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    close_backend();
    for (int i = 0; i < 3; i++)
        CU_ASSERT_TRUE(bs[i].ok);
}

/* Runnables queued from inside runnables (workers) run exactly once too. */
static atomic_int chain_left;
static trun chain[1000];
static void chain_next(trun *t)
{
    int i = (int)(t - chain) + 1;
    if (i < 1000) {
        chain[i].fn = chain_next;
        desc->ops.schedule(self, &chain[i].base);
    }
    atomic_fetch_sub(&chain_left, 1);
}

static void test_runnables_queued_by_workers_run_exactly_once(void)
{
    memset(chain, 0, sizeof chain);
    atomic_store(&chain_left, 1000);
    CU_ASSERT_EQUAL_FATAL(open_backend(2), 0);
    chain[0].fn = chain_next;
    CU_ASSERT_EQUAL(desc->ops.schedule(self, &chain[0].base), 0);
    for (int i = 0; i < 20000 && atomic_load(&chain_left) > 0; i++)
        usleep(1000);
    close_backend();
    for (int i = 0; i < 1000; i++)
        CU_ASSERT_EQUAL(atomic_load(&chain[i].runs), 1);
}

static void test_higher_priority_runs_first(void)
{
    trun gate, t[9];
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    block_single_worker(&gate);
    memset(t, 0, sizeof t);
    atomic_store(&done_count, 0);
    for (int i = 0; i < 9; i++) {    /* low, medium, high, low, ... */
        t[i].prio = i % 3;
        t[i].fn = count_done;
        desc->ops.schedule_labeled(self, &t[i].base, NULL, t[i].prio);
    }
    open_gate();
    CU_ASSERT_EQUAL(wait_count(&done_count, 9), 0);
    close_backend();
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 9; j++)
            if (t[i].prio > t[j].prio)
                CU_ASSERT_TRUE(t[i].order < t[j].order);
    /* Within a priority, first queued runs first. */
    for (int i = 0; i + 3 < 9; i++)
        CU_ASSERT_TRUE(t[i].order < t[i + 3].order);
}

/* A low-priority runnable queued behind a stream of high ones still runs
 * long before the stream ends. */
static void test_low_priority_does_not_starve(void)
{
    enum { N = 500 };
    trun gate, low, *high = calloc(N, sizeof *high);
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    block_single_worker(&gate);
    memset(&low, 0, sizeof low);
    atomic_store(&done_count, 0);
    low.prio = SCHED_PRIORITY_LOW;
    low.fn = count_done;
    desc->ops.schedule_labeled(self, &low.base, NULL, SCHED_PRIORITY_LOW);
    for (int i = 0; i < N; i++) {
        high[i].prio = SCHED_PRIORITY_HIGH;
        high[i].fn = count_done;
        desc->ops.schedule_labeled(self, &high[i].base, NULL, SCHED_PRIORITY_HIGH);
    }
    open_gate();
    CU_ASSERT_EQUAL(wait_count(&done_count, N + 1), 0);
    close_backend();
    CU_ASSERT_EQUAL(atomic_load(&low.runs), 1);
    CU_ASSERT_TRUE(low.order < N / 4);
    free(high);
}

static void test_realtime_runs_on_its_own_fifo_thread_or_logs_fallback(void)
{
    enum { N = 20 };
    trun t[N], bg;
    memset(t, 0, sizeof t);
    memset(&bg, 0, sizeof bg);
    log_text[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    atomic_store(&done_count, 0);
    bg.fn = count_done;
    desc->ops.schedule(self, &bg.base);
    for (int i = 0; i < N; i++) {
        t[i].fn = count_done;
        t[i].prio = SCHED_PRIORITY_REALTIME;
        CU_ASSERT_EQUAL(desc->ops.schedule_labeled(self, &t[i].base, NULL,
                                                   SCHED_PRIORITY_REALTIME), 0);
    }
    CU_ASSERT_EQUAL(wait_count(&done_count, N + 1), 0);
    close_backend();
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(atomic_load(&t[i].runs), 1);
        CU_ASSERT_FALSE(t[i].ran_on_main);
        CU_ASSERT_TRUE(pthread_equal(t[i].thread, t[0].thread));
        if (i > 0)
            CU_ASSERT_TRUE(t[i - 1].order < t[i].order);
        if (t[i].policy != SCHED_FIFO)
            CU_ASSERT_PTR_NOT_NULL(strstr(log_text, "SCHED_FIFO not permitted for the realtime thread"));
    }
    CU_ASSERT_FALSE(pthread_equal(t[0].thread, bg.thread));
    CU_ASSERT_NOT_EQUAL(bg.policy, SCHED_FIFO);
}

static void test_timers_never_fire_early_and_fire_in_due_order(void)
{
    enum { N = 300 };
    trun *t = calloc(N, sizeof *t);
    unsigned seed = 12345;
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    atomic_store(&done_count, 0);
    for (int i = 0; i < N; i++) {
        uint64_t delay = (uint64_t)(rand_r(&seed) % 20000) * 1000;   /* 0-20 ms */
        t[i].fn = count_done;
        t[i].due = desc->ops.now(self) + delay;
        CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &t[i].base, delay, 0), 0);
        t[i].due_hi = desc->ops.now(self) + delay;
    }
    CU_ASSERT_EQUAL(wait_count(&done_count, N), 0);
    close_backend();
    /* The backend's due time lies in [due, due_hi]; only timers whose
     * ranges do not overlap have a defined order. */
    int early = 0, misordered = 0;
    for (int i = 0; i < N; i++) {
        early += t[i].ran_at < t[i].due;
        for (int j = 0; j < N; j++)
            misordered += t[i].due_hi < t[j].due && t[i].order > t[j].order;
    }
    CU_ASSERT_EQUAL(early, 0);
    CU_ASSERT_EQUAL(misordered, 0);
    free(t);
}

/* Three main-thread timers armed 2 ms apart, latest first.  Arming can
 * take longer than 2 ms on a loaded machine, so, as in the test above,
 * each due time is bounded by the clock before and after its arming, and
 * only timers whose ranges do not overlap have a defined order. */
static void test_main_thread_timers_run_on_the_main_thread(void)
{
    enum { N = 3 };
    trun t[N];
    memset(t, 0, sizeof t);
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    const sched_pollable_iface_v1 *pi = desc->ops.query(self, "sched.pollable", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pi);
    for (int i = 0; i < N; i++) {
        uint64_t delay = 2000000u * (uint64_t)(N - i);
        t[i].due = desc->ops.now(self) + delay;
        CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &t[i].base, delay, 1), 0);
        t[i].due_hi = desc->ops.now(self) + delay;
    }
    /* No time limit here: a timer that never fires hangs the test, which
     * the suite's own limit reports. */
    for (;;) {
        struct pollfd pfd = { pi->fd(self), POLLIN, 0 };
        int ran = 0;
        for (int i = 0; i < N; i++)
            ran += atomic_load(&t[i].runs) != 0;
        if (ran == N)
            break;
        poll(&pfd, 1, 1000);
        pi->dispatch(self);
    }
    close_backend();
    int misordered = 0;
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(atomic_load(&t[i].runs), 1);
        CU_ASSERT_TRUE(t[i].ran_on_main);
        CU_ASSERT_TRUE(t[i].ran_at >= t[i].due);
        for (int j = 0; j < N; j++)
            misordered += t[i].due_hi < t[j].due && t[i].order > t[j].order;
    }
    CU_ASSERT_EQUAL(misordered, 0);
}

struct pusher {
    trun *t;
    int n;
};

static void *push_main_from_thread(void *arg)
{
    struct pusher *p = arg;
    for (int i = 0; i < p->n; i++)
        desc->ops.schedule_main(self, &p->t[i].base);
    return NULL;
}

static void test_pollable_fd_drives_main_queue_from_an_epoll_loop(void)
{
    enum { N = 50 };
    trun t[N];
    struct pusher p = { t, N };
    struct epoll_event ev = { .events = EPOLLIN }, got;
    pthread_t th;
    int ran = 0;

    memset(t, 0, sizeof t);
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    const sched_pollable_iface_v1 *pi = desc->ops.query(self, "sched.pollable", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pi);
    CU_ASSERT_PTR_NULL(desc->ops.query(self, "sched.test", 1));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CU_ASSERT_EQUAL(epoll_ctl(ep, EPOLL_CTL_ADD, pi->fd(self), &ev), 0);
    CU_ASSERT_EQUAL(epoll_wait(ep, &got, 1, 0), 0);        /* nothing queued */
    pthread_create(&th, NULL, push_main_from_thread, &p);
    while (ran < N) {
        CU_ASSERT_EQUAL_FATAL(epoll_wait(ep, &got, 1, 5000), 1);
        int n = pi->dispatch(self);
        CU_ASSERT_TRUE(n >= 0);
        ran += n;
    }
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(ran, N);
    CU_ASSERT_EQUAL(epoll_wait(ep, &got, 1, 0), 0);        /* drained: quiet again */
    close(ep);
    close_backend();
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(atomic_load(&t[i].runs), 1);
        CU_ASSERT_TRUE(t[i].ran_on_main);
        if (i > 0)
            CU_ASSERT_TRUE(t[i - 1].order < t[i].order);
    }
}

static atomic_int foreign_says_main = -1;
static void *ask_is_main(void *arg)
{
    (void)arg;
    atomic_store(&foreign_says_main, desc->ops.is_main_thread(self));
    return NULL;
}

static void test_is_main_thread_only_on_the_creating_thread(void)
{
    trun t;
    pthread_t th;
    memset(&t, 0, sizeof t);
    CU_ASSERT_EQUAL_FATAL(open_backend(2), 0);
    CU_ASSERT_TRUE(desc->ops.is_main_thread(self));
    pthread_create(&th, NULL, ask_is_main, NULL);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(atomic_load(&foreign_says_main), 0);
    t.fn = count_done;
    atomic_store(&done_count, 0);
    desc->ops.schedule(self, &t.base);
    CU_ASSERT_EQUAL(wait_count(&done_count, 1), 0);
    close_backend();
    CU_ASSERT_EQUAL(t.ran_on_main, 0);
}

static void stop_loop(trun *t)
{
    (void)t;
    desc->ops.stop(self);
}

static void test_run_returns_after_stop_from_a_worker(void)
{
    trun bg, m;
    memset(&bg, 0, sizeof bg);
    memset(&m, 0, sizeof m);
    CU_ASSERT_EQUAL_FATAL(open_backend(2), 0);
    desc->ops.schedule_main(self, &m.base);
    bg.fn = stop_loop;
    desc->ops.schedule_after(self, &bg.base, 1000000, 0);
    CU_ASSERT_EQUAL(desc->ops.run(self), 0);
    CU_ASSERT_EQUAL(atomic_load(&m.runs), 1);
    CU_ASSERT_EQUAL(atomic_load(&bg.runs), 1);
    /* A stop before run makes run return at once. */
    desc->ops.stop(self);
    CU_ASSERT_EQUAL(desc->ops.run(self), 0);
    close_backend();
}

static void test_destroy_drops_everything_queued_exactly_once(void)
{
    enum { N = 200 };
    trun gate, *t = calloc(3 * N, sizeof *t);
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    block_single_worker(&gate);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(desc->ops.schedule_labeled(self, &t[i].base, NULL, i % 3), 0);
        CU_ASSERT_EQUAL(desc->ops.schedule_main(self, &t[N + i].base), 0);
        CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &t[2 * N + i].base,
                                                 3600ull * 1000000000u, i % 2), 0);
    }
    open_gate();
    close_backend();
    int bad = 0, dropped = 0;
    for (int i = 0; i < 3 * N; i++) {
        bad += atomic_load(&t[i].runs) + atomic_load(&t[i].drops) != 1;
        dropped += atomic_load(&t[i].drops);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(dropped >= 2 * N);     /* main queue and timers: all dropped */
    CU_ASSERT_EQUAL(atomic_load(&gate.runs), 1);
    free(t);
}

/* The first injected runnable the worker takes: it waits here, with the
 * batch that inject_take moved behind it already in the worker's ring,
 * until a helper lets it go while destroy is (most likely) under way. */
static atomic_int held_entered, held_release;

static void hold_worker(trun *t)
{
    (void)t;
    atomic_store(&held_entered, 1);
    while (!atomic_load(&held_release))
        sched_yield();
}

static void *release_later(void *arg)
{
    (void)arg;
    usleep(20000);
    atomic_store(&held_release, 1);
    return NULL;
}

/* A burst injected while the only worker is held: the worker takes the
 * first runnable together with a batch moved into its ring in one go,
 * and runs it; destroy then finds a batch in the ring and the rest in
 * the injection queue.  Each runnable runs or is dropped exactly once. */
static void test_destroy_mid_batch_runs_or_drops_each_once(void)
{
    enum { N = 3000 };
    trun gate, *t = calloc(N, sizeof *t);
    pthread_t helper;
    int bad = 0, dropped = 0;

    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    atomic_store(&held_entered, 0);
    atomic_store(&held_release, 0);
    block_single_worker(&gate);
    t[0].fn = hold_worker;
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(desc->ops.schedule(self, &t[i].base), 0);
    open_gate();
    while (!atomic_load(&held_entered))
        sched_yield();
    CU_ASSERT_EQUAL_FATAL(pthread_create(&helper, NULL, release_later, NULL), 0);
    close_backend();
    pthread_join(helper, NULL);
    for (int i = 0; i < N; i++) {
        bad += atomic_load(&t[i].runs) + atomic_load(&t[i].drops) != 1;
        dropped += atomic_load(&t[i].drops);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(atomic_load(&t[0].runs), 1);
    CU_ASSERT_EQUAL(atomic_load(&gate.runs), 1);
    free(t);
}

/* Runs 1 ms on the timer thread, which then stops running due work itself
 * ("timers now hand all work to the pool"). */
static void run_long(trun *t)
{
    (void)t;
    usleep(1000);
    atomic_fetch_add(&done_count, 1);
}

static void *open_gate_later(void *arg)
{
    (void)arg;
    usleep(20000);
    open_gate();
    return NULL;
}

/* A fired timer's runnable queues its follow-up (t->arg) from the worker
 * running it: the task a timer's wake-up wakes. */
static void wake_follow_up(trun *t)
{
    CU_ASSERT_EQUAL(desc->ops.schedule_labeled(self, &((trun *)t->arg)->base, NULL,
                                               SCHED_PRIORITY_MEDIUM), 0);
    atomic_fetch_add(&done_count, 1);
}

/* Due high-priority timers handed to the pool (the timer thread no longer
 * runs them itself), each queueing a medium follow-up while it runs: run
 * with the gate open, or still queued when the backend is destroyed, every
 * one runs or is dropped exactly once, and so does the follow-up of every
 * one that ran.  More of them than the timer thread's ring holds (1024),
 * so that some wait in the overflow queue; with the gate open they still
 * run in due order. */
static void test_fired_timers_and_what_they_wake_run_or_drop_exactly_once(void)
{
    enum { N = 1500 };
    trun gate, slow, *t = calloc(2 * N, sizeof *t);
    int bad = 0, ran = 0, misordered = 0;

    for (int round = 0; round < 2; round++) {
        memset(t, 0, 2 * N * sizeof *t);
        memset(&slow, 0, sizeof slow);
        log_text[0] = '\0';
        CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
        atomic_store(&done_count, 0);
        block_single_worker(&gate);
        slow.prio = SCHED_PRIORITY_HIGH;
        slow.fn = run_long;
        CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &slow.base, 0, 0), 0);
        CU_ASSERT_EQUAL_FATAL(wait_count(&done_count, 1), 0);
        for (int i = 0; i < N; i++) {
            t[i].prio = SCHED_PRIORITY_HIGH;
            t[i].fn = wake_follow_up;
            t[i].arg = &t[N + i];
            t[N + i].fn = count_done;
            CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &t[i].base, (uint64_t)i * 1000, 0), 0);
        }
        if (round == 0) {
            /* Every timer due, then the worker let go: all of them run. */
            usleep(5000);
            open_gate();
            CU_ASSERT_EQUAL(wait_count(&done_count, 1 + 2 * N), 0);
            close_backend();
            for (int i = 1; i < N; i++)
                misordered += t[i - 1].order > t[i].order;
        } else {
            /* Destroy with the worker still held: it lets go only once
             * destroy waits for it, so what is queued is dropped (a slow
             * machine may run some first; exactly once holds either way). */
            pthread_t opener;
            usleep(5000);   /* every timer due: queued for the held worker */
            CU_ASSERT_EQUAL_FATAL(pthread_create(&opener, NULL, open_gate_later, NULL), 0);
            close_backend();
            pthread_join(opener, NULL);
        }
        /* The log is read once the backend's threads are gone. */
        CU_ASSERT_PTR_NOT_NULL(strstr(log_text, "timers now hand all work to the pool"));
        /* A follow-up is queued only by its timer's run. */
        for (int i = 0; i < N; i++) {
            bad += atomic_load(&t[i].runs) + atomic_load(&t[i].drops) != 1;
            bad += atomic_load(&t[N + i].runs) + atomic_load(&t[N + i].drops)
                   != atomic_load(&t[i].runs);
            ran += atomic_load(&t[i].runs) + atomic_load(&t[N + i].runs);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(misordered, 0);
    CU_ASSERT_TRUE(ran >= 2 * N);
    free(t);
}

static void test_unpark_before_park_returns_at_once(void)
{
    sched_parker p;
    memset(&p, 0, sizeof p);
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    desc->ops.unpark(self, &p);
    CU_ASSERT_EQUAL(desc->ops.park(self, &p, SCHED_TIMEOUT_NEVER), 0);
    CU_ASSERT_EQUAL(desc->ops.park(self, &p, 1000000), SCHED_ETIMEDOUT);
    close_backend();
}

static sched_parker shared_parker;
static void unpark_it(trun *t)
{
    (void)t;
    desc->ops.unpark(self, &shared_parker);
}

static void *park_in_thread(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)desc->ops.park(self, &shared_parker, SCHED_TIMEOUT_NEVER);
}

/* Arms from several threads at once race the timer thread taking them
 * into its heap and firing them, and every third is taken straight back;
 * some runs arm a chain of follow-ups from wherever they run, the timer
 * thread included.  Each armed timer runs or is dropped exactly once,
 * never early, and a take-back succeeds exactly for those that have not
 * run. */
enum { RACE_ARMERS = 4, RACE_TIMERS = 3000, RACE_CHAIN = 4 };

struct race_armer {
    pthread_t thread;
    unsigned seed;
    trun t[RACE_TIMERS];
    int cancel_rc[RACE_TIMERS];
    trun chain[RACE_TIMERS / 7 + 1][RACE_CHAIN];
    int armed, cancelled, failed;
};

static atomic_int race_arm_failures;

static void race_arm(trun *t, uint64_t delay)
{
    t->due = desc->ops.now(self) + delay;
    if (desc->ops.schedule_after(self, &t->base, delay, 0) != 0)
        atomic_fetch_add(&race_arm_failures, 1);
}

/* A chain link: counts, then arms the next link (t->arg) 0-50 us out. */
static void race_arm_next(trun *t)
{
    trun *next = t->arg;
    count_done(t);
    if (next)
        race_arm(next, (uint64_t)((uintptr_t)next % 50) * 1000);
}

static void *race_arms(void *arg)
{
    struct race_armer *a = arg;
    for (int i = 0; i < RACE_TIMERS; i++) {
        trun *x = &a->t[i];
        x->fn = count_done;
        if (i % 7 == 0 && i % 3 != 2) {
            trun *c = a->chain[i / 7];
            x->fn = race_arm_next;
            x->arg = &c[0];
            for (int k = 0; k < RACE_CHAIN; k++) {
                c[k].fn = k + 1 < RACE_CHAIN ? race_arm_next : count_done;
                c[k].arg = k + 1 < RACE_CHAIN ? &c[k + 1] : NULL;
            }
            a->armed += RACE_CHAIN;
        }
        race_arm(x, (uint64_t)(rand_r(&a->seed) % 300) * 1000);   /* 0-300 us */
        a->armed++;
        if (i % 3 == 2) {
            a->cancel_rc[i] = desc->ops.cancel_after(self, &x->base);
            if (a->cancel_rc[i] == 0)
                a->cancelled++;
            else if (a->cancel_rc[i] != SCHED_ENOENT)
                a->failed++;
        }
    }
    return NULL;
}

static void test_timers_armed_from_racing_threads_run_or_drop_exactly_once(void)
{
    struct race_armer *a = calloc(RACE_ARMERS, sizeof *a);
    int expected = 0, bad = 0, early = 0, failed = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL_FATAL(open_backend(2), 0);
    atomic_store(&done_count, 0);
    atomic_store(&race_arm_failures, 0);
    for (int k = 0; k < RACE_ARMERS; k++) {
        a[k].seed = 777u + (unsigned)k;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&a[k].thread, NULL, race_arms, &a[k]), 0);
    }
    for (int k = 0; k < RACE_ARMERS; k++) {
        pthread_join(a[k].thread, NULL);
        expected += a[k].armed - a[k].cancelled;
        failed += a[k].failed;
    }
    CU_ASSERT_EQUAL(wait_count(&done_count, expected), 0);
    close_backend();
    CU_ASSERT_EQUAL(atomic_load(&race_arm_failures), 0);
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_EQUAL(atomic_load(&done_count), expected);
    for (int k = 0; k < RACE_ARMERS; k++) {
        for (int i = 0; i < RACE_TIMERS; i++) {
            trun *x = &a[k].t[i];
            int runs = atomic_load(&x->runs), drops = atomic_load(&x->drops);
            early += atomic_load(&x->early);
            if (i % 3 == 2 && a[k].cancel_rc[i] == 0)
                bad += runs != 0 || drops != 1;     /* taken back: dropped, never run */
            else
                bad += runs != 1 || drops != 0;
            if (i % 7 == 0 && i % 3 != 2)
                for (int c = 0; c < RACE_CHAIN; c++) {
                    trun *l = &a[k].chain[i / 7][c];
                    early += atomic_load(&l->early);
                    bad += atomic_load(&l->runs) != 1 || atomic_load(&l->drops) != 0;
                }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(early, 0);
    free(a);
}

/* A runnable a timer fires may block on something only a later timer
 * provides; wherever the backend runs it (the timer thread runs due work
 * itself when it can), that later timer must still fire. */
static sched_parker timer_parker;
static void unpark_timer_parker(trun *t)
{
    (void)t;
    desc->ops.unpark(self, &timer_parker);
}

static void park_until_next_timer(trun *t)
{
    trun *later = t->arg;
    desc->ops.schedule_after(self, &later->base, 2000000, 0);
    while (atomic_load(&later->runs) == 0)
        desc->ops.park(self, &timer_parker, SCHED_TIMEOUT_NEVER);
    atomic_fetch_add(&done_count, 1);
}

static void test_a_timer_task_blocking_on_a_later_timer_does_not_deadlock(void)
{
    trun first, later;
    memset(&first, 0, sizeof first);
    memset(&later, 0, sizeof later);
    memset(&timer_parker, 0, sizeof timer_parker);
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    atomic_store(&done_count, 0);
    first.prio = later.prio = SCHED_PRIORITY_MEDIUM;
    first.fn = park_until_next_timer;
    first.arg = &later;
    later.fn = unpark_timer_parker;
    CU_ASSERT_EQUAL(desc->ops.schedule_after(self, &first.base, 1000000, 0), 0);
    CU_ASSERT_EQUAL(wait_count(&done_count, 1), 0);
    close_backend();
    CU_ASSERT_EQUAL(atomic_load(&first.runs), 1);
    CU_ASSERT_EQUAL(atomic_load(&later.runs), 1);
}

static void test_unpark_from_a_worker_wakes_a_parked_thread(void)
{
    trun t;
    pthread_t th;
    void *rc;
    memset(&t, 0, sizeof t);
    memset(&shared_parker, 0, sizeof shared_parker);
    CU_ASSERT_EQUAL_FATAL(open_backend(2), 0);
    pthread_create(&th, NULL, park_in_thread, NULL);
    t.fn = unpark_it;
    desc->ops.schedule_after(self, &t.base, 2000000, 0);
    pthread_join(th, &rc);
    CU_ASSERT_EQUAL((intptr_t)rc, 0);
    close_backend();
}

/* Blocking on the main thread must not starve main-thread work: a park on
 * the main thread runs the main queue, here the very runnable that
 * unparks it. */
static void test_park_on_main_thread_runs_main_queue_work(void)
{
    trun bg, m;
    memset(&bg, 0, sizeof bg);
    memset(&m, 0, sizeof m);
    memset(&shared_parker, 0, sizeof shared_parker);
    CU_ASSERT_EQUAL_FATAL(open_backend(1), 0);
    m.fn = unpark_it;
    desc->ops.schedule_after(self, &m.base, 1000000, 1);
    int rc;
    do
        rc = desc->ops.park(self, &shared_parker, SCHED_TIMEOUT_NEVER);
    while (rc == 0 && atomic_load(&m.runs) == 0);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(atomic_load(&m.runs), 1);
    CU_ASSERT_TRUE(m.ran_on_main);
    close_backend();
}

int main(void)
{
    if (fakehost_load("linux") != 0)
        return 1;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("linux backend", NULL, NULL);
    CU_add_test(s, "descriptor names linux and declares threads", test_descriptor_names_linux_and_declares_threads);
    CU_add_test(s, "threads out of range is refused with the key", test_threads_out_of_range_is_refused_with_the_key);
    CU_add_test(s, "every runnable runs exactly once", test_every_runnable_runs_exactly_once);
    CU_add_test(s, "bursts from racing threads never strand work", test_bursts_from_racing_threads_never_strand_work);
    CU_add_test(s, "runnables queued by workers run exactly once", test_runnables_queued_by_workers_run_exactly_once);
    CU_add_test(s, "higher priority runs first", test_higher_priority_runs_first);
    CU_add_test(s, "low priority does not starve", test_low_priority_does_not_starve);
    CU_add_test(s, "realtime runs on its own FIFO thread or logs the fallback", test_realtime_runs_on_its_own_fifo_thread_or_logs_fallback);
    CU_add_test(s, "timers never fire early and fire in due order", test_timers_never_fire_early_and_fire_in_due_order);
    CU_add_test(s, "main-thread timers run on the main thread", test_main_thread_timers_run_on_the_main_thread);
    CU_add_test(s, "pollable fd drives main queue from an epoll loop", test_pollable_fd_drives_main_queue_from_an_epoll_loop);
    CU_add_test(s, "is_main_thread only on the creating thread", test_is_main_thread_only_on_the_creating_thread);
    CU_add_test(s, "run returns after stop from a worker", test_run_returns_after_stop_from_a_worker);
    CU_add_test(s, "fired timers and what they wake run or drop exactly once",
                test_fired_timers_and_what_they_wake_run_or_drop_exactly_once);
    CU_add_test(s, "destroy drops everything queued exactly once", test_destroy_drops_everything_queued_exactly_once);
    CU_add_test(s, "destroy mid-batch runs or drops each once", test_destroy_mid_batch_runs_or_drops_each_once);
    CU_add_test(s, "unpark before park returns at once", test_unpark_before_park_returns_at_once);
    CU_add_test(s, "timers armed from racing threads run or drop exactly once",
                test_timers_armed_from_racing_threads_run_or_drop_exactly_once);
    CU_add_test(s, "a timer task blocking on a later timer does not deadlock", test_a_timer_task_blocking_on_a_later_timer_does_not_deadlock);
    CU_add_test(s, "unpark from a worker wakes a parked thread", test_unpark_from_a_worker_wakes_a_parked_thread);
    CU_add_test(s, "park on main thread runs main queue work", test_park_on_main_thread_runs_main_queue_work);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    fakehost_unload();
    return failed ? 1 : 0;
}
