/* SPDX-License-Identifier: MIT */
/*
 * tests/test_cloudflare_sim.c - the cloudflare-sim backend at the plugin
 * ABI: the real cloudflare-sim.so (.dll on Windows), driven through its
 * descriptor by the minimal host of plugin_fakehost.h.  The session rules
 * on top of it are proved through the real host in test_session.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "plugin_fakehost.h"

/* ---- the host -------------------------------------------------------------- */

static int suite_init(void)
{
    return fakehost_load("cloudflare-sim");
}

static int suite_fini(void)
{
    return fakehost_unload();
}

/* ---- tests ---------------------------------------------------------------- */

static void test_descriptor_names_the_backend_and_declares_its_keys(void)
{
    CU_ASSERT_STRING_EQUAL(desc->name, "cloudflare-sim");
    CU_ASSERT_EQUAL(desc->abi_major, SCHED_PLUGIN_ABI_MAJOR);
    CU_ASSERT(desc->size >= SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE);
    const char *want[] = { "seed", "wait_until_limit_ms", "max_timers_per_request", "io_wait_ms" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int found = 0;
        for (const sched_config_key *k = desc->config_keys; k->name; k++)
            found |= strcmp(k->name, want[i]) == 0 && k->type == SCHED_CONFIG_INT;
        CU_ASSERT(found);
    }
}

static void test_session_policy_reports_the_configured_limits(void)
{
    reset();
    config_set("wait_until_limit_ms", 1234);
    config_set("max_timers_per_request", 7);
    void *self = open_backend();
    const sched_session_policy_iface_v1 *p = ops->query(self, "sched.session", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->wait_until_limit_ns, 1234 * MS);
    CU_ASSERT_EQUAL(p->max_timers_per_session, 7);
    CU_ASSERT(p->flags & SCHED_SESSION_POLICY_NO_CROSS_AWAIT);
    CU_ASSERT(p->flags & SCHED_SESSION_POLICY_ABORT_HUNG);
    CU_ASSERT_PTR_NULL(ops->query(self, "sched.nonexistent", 1));
    CU_ASSERT_PTR_NULL(ops->query(self, "sched.test", 2));
    ops->destroy(self);
}

static void test_defaults_are_the_workers_limits(void)
{
    reset();
    void *self = open_backend();
    const sched_session_policy_iface_v1 *p = ops->query(self, "sched.session", 1);
    CU_ASSERT_EQUAL(p->wait_until_limit_ns, 30000 * MS);
    CU_ASSERT_EQUAL(p->max_timers_per_session, 10000);
    ops->destroy(self);
}

static void *clock_self;
static uint64_t clock_seen[2];

static void busy(fake_runnable *f)
{
    (void)f;
    clock_seen[0] = ops->now(clock_self);
    volatile uint64_t sink = 0;
    for (uint64_t i = 0; i < 20000000; i++)
        sink += i;
    clock_seen[1] = ops->now(clock_self);
}

static void test_clock_does_not_move_while_code_runs(void)
{
    reset();
    void *self = clock_self = open_backend();
    fake_runnable r = { .task_id = 1, .fn = busy };
    CU_ASSERT_EQUAL(ops->schedule(self, &r.base), 0);
    CU_ASSERT_EQUAL(iface(self)->run_until_parked(self), 1);
    CU_ASSERT_EQUAL(r.ran, 1);
    CU_ASSERT_EQUAL(clock_seen[0], 0);
    CU_ASSERT_EQUAL(clock_seen[1], 0);
    CU_ASSERT_EQUAL(ops->now(self), 0);
    ops->destroy(self);
}

static void *park_self;
static sched_parker parker;

static void unpark_it(fake_runnable *f)
{
    (void)f;
    ops->unpark(park_self, &parker);
}

static void test_park_jumps_the_clock_to_the_next_timer(void)
{
    reset();
    void *self = park_self = open_backend();
    fake_runnable r = { .task_id = 1, .fn = unpark_it };
    memset(&parker, 0, sizeof parker);
    CU_ASSERT_EQUAL(ops->schedule_after(self, &r.base, 10 * MS, 1), 0);
    CU_ASSERT_EQUAL(ops->park(self, &parker, SCHED_TIMEOUT_NEVER), 0);
    CU_ASSERT_EQUAL(r.ran, 1);
    CU_ASSERT_EQUAL(ops->now(self), 10 * MS);
    ops->destroy(self);
}

static fake_runnable later;

static void queue_later(fake_runnable *f)
{
    (void)f;
    ops->schedule_main(park_self, &later.base);
}

/* As an event loop runs a continuation: what was ready before the wake
 * runs first, what became ready after it does not hold the waiter up.
 * (A lane keeps that order; background work has none to keep.) */
static void test_woken_waiter_resumes_after_work_ready_before_the_wake(void)
{
    reset();
    void *self = park_self = open_backend();
    memset(&later, 0, sizeof later);
    later.task_id = 4;
    fake_runnable waker = { .task_id = 1, .fn = unpark_it };
    fake_runnable before = { .task_id = 2, .fn = queue_later };
    fake_runnable also = { .task_id = 3 };
    memset(&parker, 0, sizeof parker);
    CU_ASSERT_EQUAL(ops->schedule_main(self, &waker.base), 0);
    CU_ASSERT_EQUAL(ops->schedule_main(self, &before.base), 0);
    CU_ASSERT_EQUAL(ops->schedule_main(self, &also.base), 0);
    CU_ASSERT_EQUAL(ops->park(self, &parker, SCHED_TIMEOUT_NEVER), 0);
    CU_ASSERT_EQUAL(waker.ran + before.ran + also.ran, 3);
    CU_ASSERT_EQUAL(later.ran, 0);
    ops->destroy(self);
    CU_ASSERT_EQUAL(later.dropped, 1);
}

static void test_park_times_out_in_virtual_time(void)
{
    reset();
    void *self = open_backend();
    fake_runnable late = { .task_id = 1 };
    memset(&parker, 0, sizeof parker);
    CU_ASSERT_EQUAL(ops->schedule_after(self, &late.base, 50 * MS, 1), 0);
    CU_ASSERT_EQUAL(ops->park(self, &parker, 20 * MS), SCHED_ETIMEDOUT);
    CU_ASSERT_EQUAL(ops->now(self), 20 * MS);
    CU_ASSERT_EQUAL(late.ran, 0);
    ops->destroy(self);
    CU_ASSERT_EQUAL(late.dropped, 1);
}

static void test_park_with_nothing_pending_reports_a_deadlock(void)
{
    reset();
    config_set("io_wait_ms", 0);
    void *self = open_backend();
    memset(&parker, 0, sizeof parker);
    CU_ASSERT_EQUAL(ops->park(self, &parker, SCHED_TIMEOUT_NEVER), SCHED_EDEADLK);
    ops->destroy(self);
}

static void test_timers_fire_in_due_order_never_early(void)
{
    reset();
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    fake_runnable a = { .task_id = 1 }, b = { .task_id = 2 }, c = { .task_id = 3 };
    CU_ASSERT_EQUAL(ops->schedule_after(self, &a.base, 30 * MS, 1), 0);
    CU_ASSERT_EQUAL(ops->schedule_after(self, &b.base, 10 * MS, 1), 0);
    CU_ASSERT_EQUAL(ops->schedule_after(self, &c.base, 20 * MS, 1), 0);
    t->advance_clock(self, 15 * MS);
    CU_ASSERT_EQUAL(b.ran, 1);
    CU_ASSERT_EQUAL(c.ran + a.ran, 0);
    CU_ASSERT_EQUAL(ops->now(self), 15 * MS);
    CU_ASSERT_EQUAL(t->advance_clock_to_next_timer(self), 1);
    CU_ASSERT_EQUAL(ops->now(self), 20 * MS);
    t->run_until_parked(self);
    CU_ASSERT_EQUAL(c.ran, 1);
    CU_ASSERT_EQUAL(a.ran, 0);
    t->advance_clock(self, 100 * MS);
    CU_ASSERT_EQUAL(a.ran, 1);
    CU_ASSERT_EQUAL(t->advance_clock_to_next_timer(self), 0);
    ops->destroy(self);
}

/* Three requests of five steps each; returns the order of requests. */
static void interleave(uint64_t seed, char *order, size_t len)
{
    reset();
    config_set("seed", (int64_t)seed);
    void *self = open_backend();
    fake_runnable r[15];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 15; i++) {
        r[i].task_id = 100 + (uint64_t)i;
        r[i].session_id = 1 + (uint64_t)(i % 3);
        CU_ASSERT_EQUAL(ops->schedule_main(self, &r[i].base), 0);
    }
    const sched_test_iface_v1 *t = iface(self);
    CU_ASSERT_EQUAL(t->run_until_parked(self), 15);
    const sched_test_step *steps;
    size_t n = t->history(self, &steps);
    CU_ASSERT_EQUAL_FATAL(n, 15);
    uint64_t last[4] = { 0, 0, 0, 0 };
    for (size_t i = 0; i < n && i + 1 < len; i++) {
        uint64_t session = 1 + (steps[i].task_id - 100) % 3;
        CU_ASSERT(steps[i].task_id > last[session]);   /* each request keeps its order */
        last[session] = steps[i].task_id;
        order[i] = (char)('A' + session - 1);
    }
    order[n < len ? n : len - 1] = '\0';
    ops->destroy(self);
}

static void test_same_seed_reproduces_the_interleaving_of_requests(void)
{
    char first[32], again[32], other[32];
    interleave(42, first, sizeof first);
    interleave(42, again, sizeof again);
    CU_ASSERT_STRING_EQUAL(first, again);
    int differs = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        interleave(seed, other, sizeof other);
        differs |= strcmp(first, other) != 0;
    }
    CU_ASSERT(differs);
}

/* The order in which eight ready background runnables ran, as digits;
 * each ran exactly once. */
static void background_order(uint64_t seed, char *order)
{
    reset();
    config_set("seed", (int64_t)seed);
    void *self = open_backend();
    fake_runnable r[8];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 8; i++) {
        r[i].task_id = 1 + (uint64_t)i;
        CU_ASSERT_EQUAL(ops->schedule(self, &r[i].base), 0);
    }
    const sched_test_iface_v1 *t = iface(self);
    CU_ASSERT_EQUAL(t->run_until_parked(self), 8);
    const sched_test_step *steps;
    CU_ASSERT_EQUAL_FATAL(t->history(self, &steps), 8);
    for (int i = 0; i < 8; i++) {
        CU_ASSERT_EQUAL(r[i].ran, 1);
        order[i] = (char)('0' + steps[i].task_id);
    }
    order[8] = '\0';
    ops->destroy(self);
}

static void test_background_work_runs_in_an_order_drawn_from_the_seed(void)
{
    char first[9], again[9], other[9];
    background_order(42, first);
    background_order(42, again);
    CU_ASSERT_STRING_EQUAL(first, again);
    int differs = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        background_order(seed, other);
        differs |= strcmp(first, other) != 0;
    }
    CU_ASSERT(differs);
}

static void test_seed_from_environment_overrides_config(void)
{
    reset();
    config_set("seed", 5);
    env_seed = "77";
    void *self = open_backend();
    CU_ASSERT_EQUAL(iface(self)->seed(self), 77);
    ops->destroy(self);
}

static void test_bad_seed_in_environment_is_a_config_error(void)
{
    reset();
    env_seed = "seventy";
    sched_backend_env env = { sizeof env, &services, NULL };
    void *self = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(ops->create(&env, &self, err, sizeof err), SCHED_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err, "SCHED_SEED=\"seventy\" is not an unsigned 64-bit integer");
}

static void test_timers_per_request_are_limited(void)
{
    reset();
    config_set("max_timers_per_request", 2);
    void *self = open_backend();
    fake_runnable r[4];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 4; i++) {
        r[i].task_id = 10 + (uint64_t)i;
        r[i].session_id = 3;
    }
    r[3].session_id = 4;
    CU_ASSERT_EQUAL(ops->schedule_after(self, &r[0].base, MS, 1), 0);
    CU_ASSERT_EQUAL(ops->schedule_after(self, &r[1].base, MS, 1), 0);
    CU_ASSERT_EQUAL(ops->schedule_after(self, &r[2].base, MS, 1), SCHED_ELIMIT);
    CU_ASSERT_EQUAL(nlogs, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_log, "request 3 already holds 2 pending timers"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_log, "timer 12, armed by the task spawned at plugin_fakehost.c:"));
    CU_ASSERT_NSTRING_EQUAL(last_log, "request 3 ", 10);    /* the host adds the backend's name */
    CU_ASSERT_EQUAL(ops->schedule_after(self, &r[3].base, MS, 1), 0);   /* another request */
    iface(self)->advance_clock(self, MS);
    CU_ASSERT_EQUAL(r[0].ran + r[1].ran + r[3].ran, 3);
    CU_ASSERT_EQUAL(ops->schedule_after(self, &r[2].base, MS, 1), 0);   /* room again */
    ops->destroy(self);
    CU_ASSERT_EQUAL(r[2].dropped, 1);
}

struct foreign { void *self; fake_runnable *r; };

static void *foreign_spawn(void *arg)
{
    struct foreign *f = arg;
    CU_ASSERT_FALSE(ops->is_main_thread(f->self));
    CU_ASSERT_EQUAL(ops->schedule(f->self, &f->r->base), 0);
    return NULL;
}

static void test_work_from_other_threads_runs_on_the_isolate_thread(void)
{
    reset();
    void *self = open_backend();
    fake_runnable r = { .task_id = 9 };
    struct foreign f = { self, &r };
    pthread_t th;
    pthread_create(&th, NULL, foreign_spawn, &f);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(r.ran, 0);
    CU_ASSERT(ops->is_main_thread(self));
    CU_ASSERT_EQUAL(iface(self)->tick(self, 0), 1);
    CU_ASSERT_EQUAL(r.ran, 1);
    CU_ASSERT(sched__thread_equal(r.ran_on, sched__thread_self()));
    CU_ASSERT_EQUAL(iface(self)->tick(self, 0), 0);
    ops->destroy(self);
}

static void *foreign_unpark(void *arg)
{
    ops->unpark(arg, &parker);
    return NULL;
}

static void test_park_is_woken_from_another_thread(void)
{
    reset();
    void *self = open_backend();
    ops->query(self, "sched.test", 1);
    iface(self)->set_parking_allowed(self, 1);
    memset(&parker, 0, sizeof parker);
    pthread_t th;
    pthread_create(&th, NULL, foreign_unpark, self);
    CU_ASSERT_EQUAL(ops->park(self, &parker, SCHED_TIMEOUT_NEVER), 0);
    pthread_join(th, NULL);
    ops->destroy(self);
}

static void test_destroy_drops_queued_and_armed_work_once(void)
{
    reset();
    void *self = open_backend();
    fake_runnable a = { .task_id = 1 }, b = { .task_id = 2, .session_id = 5 };
    CU_ASSERT_EQUAL(ops->schedule(self, &a.base), 0);
    CU_ASSERT_EQUAL(ops->schedule_after(self, &b.base, 5 * MS, 0), 0);
    sched_test_counts c;
    iface(self)->pending_counts(self, &c);
    CU_ASSERT_EQUAL(c.background, 1);
    CU_ASSERT_EQUAL(c.timers, 1);
    ops->destroy(self);
    CU_ASSERT_EQUAL(a.dropped, 1);
    CU_ASSERT_EQUAL(b.dropped, 1);
    CU_ASSERT_EQUAL(a.ran + b.ran, 0);
}

static void test_queued_shows_every_queued_and_armed_runnable_once(void)
{
    reset();
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    fake_runnable a = { .task_id = 1 }, b = { .task_id = 2, .session_id = 5 }, c = { .task_id = 3 };
    ops->schedule_main(self, &a.base);
    ops->schedule(self, &b.base);
    ops->schedule_after(self, &c.base, 5 * MS, 0);
    memset(shown, 0, sizeof shown);
    t->queued(self, count_shown, NULL);
    CU_ASSERT(shown[1] == 1 && shown[2] == 1 && shown[3] == 1);
    /* Looking moves nothing: the ready two still run, the timer waits. */
    CU_ASSERT_EQUAL(t->tick(self, 0), 1);
    CU_ASSERT_EQUAL(t->tick(self, 0), 1);
    CU_ASSERT_EQUAL(a.ran + b.ran, 2);
    memset(shown, 0, sizeof shown);
    t->queued(self, count_shown, NULL);
    CU_ASSERT(shown[1] == 0 && shown[2] == 0 && shown[3] == 1);
    ops->destroy(self);
    CU_ASSERT_EQUAL(c.dropped, 1);
}

static void test_history_names_each_step(void)
{
    reset();
    void *self = open_backend();
    fake_runnable a = { .task_id = 1, .label = "fetch" }, b = { .task_id = 2 };
    ops->schedule_main(self, &a.base);
    ops->schedule_labeled(self, &b.base, NULL, SCHED_PRIORITY_HIGH);
    const sched_test_iface_v1 *t = iface(self);
    CU_ASSERT_EQUAL(t->run_until_parked(self), 2);
    const sched_test_step *steps;
    CU_ASSERT_EQUAL_FATAL(t->history(self, &steps), 2);
    for (int i = 0; i < 2; i++) {
        if (steps[i].task_id == 1) {
            CU_ASSERT_STRING_EQUAL(steps[i].label, "fetch");
        } else {
            CU_ASSERT_PTR_NULL(steps[i].label);
        }
    }
    ops->destroy(self);
}

static void test_history_keeps_one_copy_of_each_label(void)
{
    reset();
    void *self = open_backend();
    static fake_runnable r[200];
    static char names[100][16];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 200; i++) {
        snprintf(names[i % 100], sizeof names[0], "request %d", i % 100);
        r[i].task_id = 1 + (uint64_t)i;
        r[i].label = names[i % 100];
        ops->schedule(self, &r[i].base);
    }
    const sched_test_iface_v1 *t = iface(self);
    CU_ASSERT_EQUAL(t->run_until_parked(self), 200);
    memset(names, 0, sizeof names);     /* the tasks' labels are gone */
    const sched_test_step *steps;
    CU_ASSERT_EQUAL_FATAL(t->history(self, &steps), 200);
    char want[16];
    for (int i = 0; i < 200; i++) {
        snprintf(want, sizeof want, "request %d", (int)((steps[i].task_id - 1) % 100));
        CU_ASSERT_STRING_EQUAL(steps[i].label, want);
    }
    /* Background work runs in an order drawn from the seed: find the
     * other step of the same label. */
    int twin = -1;
    for (int i = 1; i < 200 && twin < 0; i++)
        if ((steps[i].task_id - 1) % 100 == (steps[0].task_id - 1) % 100)
            twin = i;
    CU_ASSERT_FATAL(twin > 0);
    CU_ASSERT_PTR_EQUAL(steps[0].label, steps[twin].label);
    ops->destroy(self);
}

static void test_reseed_restarts_the_same_interleaving(void)
{
    char first[32];
    interleave(9, first, sizeof first);
    reset();
    config_set("seed", 1);
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    t->reseed(self, 9);
    CU_ASSERT_EQUAL(t->seed(self), 9);
    fake_runnable r[15];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 15; i++) {
        r[i].task_id = 100 + (uint64_t)i;
        r[i].session_id = 1 + (uint64_t)(i % 3);
        ops->schedule_main(self, &r[i].base);
    }
    t->run_until_parked(self);
    const sched_test_step *steps;
    CU_ASSERT_EQUAL_FATAL(t->history(self, &steps), 15);
    for (size_t i = 0; i < 15; i++)
        CU_ASSERT_EQUAL(first[i], (char)('A' + (steps[i].task_id - 100) % 3));
    ops->destroy(self);
}

static void test_parking_report_names_seed_clock_and_tasks(void)
{
    reset();
    config_set("seed", 3);
    described = "task 1 \"fetch\" at worker.c:10 waits on a timer\n";
    void *self = open_backend();
    fake_runnable a = { .task_id = 1 };
    ops->schedule_after(self, &a.base, 7 * MS, 1);
    char buf[512];
    size_t n = iface(self)->parking_report(self, buf, sizeof buf);
    CU_ASSERT_EQUAL(n, strlen(buf));
    CU_ASSERT_STRING_EQUAL(buf,
                           "seed 3, virtual time 0 ns: 0 runnable, 1 timers pending (next due at 7000000 ns)\n"
                           "pending tasks:\n"
                           "task 1 \"fetch\" at worker.c:10 waits on a timer\n"
                           "replay with SCHED_SEED=3\n");
    CU_ASSERT_EQUAL(iface(self)->parking_report(self, NULL, 0), n);
    ops->destroy(self);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("cloudflare-sim backend", suite_init, suite_fini);
    CU_add_test(s, "descriptor names the backend and declares its keys",
                test_descriptor_names_the_backend_and_declares_its_keys);
    CU_add_test(s, "session policy reports the configured limits",
                test_session_policy_reports_the_configured_limits);
    CU_add_test(s, "defaults are the Workers limits", test_defaults_are_the_workers_limits);
    CU_add_test(s, "clock does not move while code runs", test_clock_does_not_move_while_code_runs);
    CU_add_test(s, "park jumps the clock to the next timer",
                test_park_jumps_the_clock_to_the_next_timer);
    CU_add_test(s, "a woken waiter resumes after the work ready before the wake",
                test_woken_waiter_resumes_after_work_ready_before_the_wake);
    CU_add_test(s, "park times out in virtual time", test_park_times_out_in_virtual_time);
    CU_add_test(s, "park with nothing pending reports a deadlock",
                test_park_with_nothing_pending_reports_a_deadlock);
    CU_add_test(s, "timers fire in due order, never early", test_timers_fire_in_due_order_never_early);
    CU_add_test(s, "same seed reproduces the interleaving of requests",
                test_same_seed_reproduces_the_interleaving_of_requests);
    CU_add_test(s, "background work runs in an order drawn from the seed",
                test_background_work_runs_in_an_order_drawn_from_the_seed);
    CU_add_test(s, "seed from the environment overrides the config",
                test_seed_from_environment_overrides_config);
    CU_add_test(s, "bad seed in the environment is a config error",
                test_bad_seed_in_environment_is_a_config_error);
    CU_add_test(s, "timers per request are limited", test_timers_per_request_are_limited);
    CU_add_test(s, "work from other threads runs on the isolate thread",
                test_work_from_other_threads_runs_on_the_isolate_thread);
    CU_add_test(s, "park is woken from another thread", test_park_is_woken_from_another_thread);
    CU_add_test(s, "destroy drops queued and armed work once",
                test_destroy_drops_queued_and_armed_work_once);
    CU_add_test(s, "queued shows every queued and armed runnable once",
                test_queued_shows_every_queued_and_armed_runnable_once);
    CU_add_test(s, "history names each step", test_history_names_each_step);
    CU_add_test(s, "history keeps one copy of each label", test_history_keeps_one_copy_of_each_label);
    CU_add_test(s, "reseed restarts the same interleaving", test_reseed_restarts_the_same_interleaving);
    CU_add_test(s, "parking report names the seed, the clock and the tasks",
                test_parking_report_names_seed_clock_and_tasks);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
