/* SPDX-License-Identifier: MIT */
/*
 * tests/test_testbackend_abi.c - the test backend at the plugin ABI: the
 * real test.so (.dll on Windows), opened with sched__dl_open, driven
 * through its descriptor and its "sched.test" interface by a minimal host
 * (plugin_fakehost.c) whose runnables record what happened to them.  Picks, timers, decisions from
 * bytes, history, report and trace here; parking in
 * test_testbackend_park.c.  The same backend under the real host is
 * proved in test_testbackend.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "plugin_fakehost.h"

/* ---- tests ---------------------------------------------------------------- */

static void test_descriptor_names_the_backend_and_declares_its_keys(void)
{
    CU_ASSERT_STRING_EQUAL(desc->name, "test");
    CU_ASSERT_EQUAL(desc->abi_major, SCHED_PLUGIN_ABI_MAJOR);
    CU_ASSERT(desc->size >= SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE);
    const char *want[] = { "seed", "randomize", "allow_parking", "num_cpus",
                           "timeout_ticks_min", "timeout_ticks_max", "utc_start", "trace",
                           "strategy", "pct_depth", "pct_steps" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int found = 0;
        for (const sched_config_key *k = desc->config_keys; k->name; k++)
            found |= strcmp(k->name, want[i]) == 0 && k->doc && *k->doc;
        CU_ASSERT(found);
    }
    void *self = (reset(), open_backend());
    CU_ASSERT_PTR_NULL(ops->query(self, "sched.test", 2));
    CU_ASSERT_PTR_NULL(ops->query(self, "sched.pollable", 1));
    CU_ASSERT(iface(self)->size >= sizeof(sched_test_iface_v1));
    ops->destroy(self);
}

static void test_nothing_runs_until_the_test_drives_it(void)
{
    reset();
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    fake_runnable *r = make(3);
    CU_ASSERT_EQUAL(ops->schedule(self, &r[0].base), 0);
    CU_ASSERT_EQUAL(ops->schedule_main(self, &r[1].base), 0);
    CU_ASSERT_EQUAL(ops->schedule_after(self, &r[2].base, 0, 0), 0);
    usleep(10000);
    CU_ASSERT_EQUAL(r[0].ran + r[1].ran + r[2].ran, 0);
    sched_test_counts c;
    t->pending_counts(self, &c);
    CU_ASSERT_EQUAL(c.background, 1);
    CU_ASSERT_EQUAL(c.foreground, 1);
    CU_ASSERT_EQUAL(c.timers, 1);
    CU_ASSERT_EQUAL(t->tick(self, 0), 1);
    CU_ASSERT_EQUAL(t->run_until_parked(self), 2);
    CU_ASSERT_EQUAL(r[0].ran + r[1].ran + r[2].ran, 3);
    CU_ASSERT_EQUAL(t->tick(self, 0), 0);
    ops->destroy(self);
    free(r);
}

static void test_fifo_mode_runs_in_schedule_order(void)
{
    reset();
    config_set("randomize", 0);
    void *self = open_backend();
    fake_runnable *r = make(6);
    r[1].executor_id = 9;
    r[4].executor_id = 9;
    r[2].priority = SCHED_PRIORITY_HIGH;
    for (int i = 0; i < 6; i++) {
        int rc = r[i].executor_id ? ops->schedule_main(self, &r[i].base)
                                  : ops->schedule(self, &r[i].base);
        CU_ASSERT_EQUAL(rc, 0);
    }
    CU_ASSERT_EQUAL(iface(self)->run_until_parked(self), 6);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(order[i], (uint64_t)i + 1);
    ops->destroy(self);
    free(r);
}

/* Run n runnables spread over two foreground executors and the
 * background under seed; write the order into out. */
static void run_mixed(uint64_t seed, size_t n, uint64_t *out)
{
    reset();
    config_set("seed", (int64_t)seed);
    void *self = open_backend();
    fake_runnable *r = make(n);
    for (size_t i = 0; i < n; i++) {
        r[i].executor_id = i % 3 == 0 ? 0 : i % 3 == 1 ? 5 : 6;
        r[i].priority = (unsigned)(i % 4);
        CU_ASSERT_EQUAL(r[i].executor_id ? ops->schedule_main(self, &r[i].base)
                                         : ops->schedule(self, &r[i].base), 0);
    }
    CU_ASSERT_EQUAL(iface(self)->run_until_parked(self), n);
    memcpy(out, order, n * sizeof *out);
    ops->destroy(self);
    free(r);
}

static void test_foreground_keeps_fifo_order_per_executor_under_every_seed(void)
{
    uint64_t got[60];
    for (uint64_t seed = 0; seed < 50; seed++) {
        run_mixed(seed, 60, got);
        uint64_t last5 = 0, last6 = 0;
        for (int i = 0; i < 60; i++) {
            uint64_t id = got[i];
            if ((id - 1) % 3 == 1) {
                CU_ASSERT(id > last5);
                last5 = id;
            } else if ((id - 1) % 3 == 2) {
                CU_ASSERT(id > last6);
                last6 = id;
            }
        }
    }
}

static void test_same_seed_same_order_and_seeds_differ(void)
{
    uint64_t a[60], b[60];
    run_mixed(7, 60, a);
    run_mixed(7, 60, b);
    CU_ASSERT_EQUAL(memcmp(a, b, sizeof a), 0);
    int differ = 0;
    for (uint64_t seed = 8; seed < 12 && !differ; seed++) {
        run_mixed(seed, 60, b);
        differ = memcmp(a, b, sizeof a) != 0;
    }
    CU_ASSERT(differ);
}

static void test_seed_from_environment_overrides_config(void)
{
    reset();
    config_set("seed", 3);
    env_seed = "123456789012";
    void *self = open_backend();
    CU_ASSERT_EQUAL(iface(self)->seed(self), 123456789012ull);
    ops->destroy(self);
}

static void test_bad_settings_are_config_errors(void)
{
    reset();
    env_seed = "12abc";
    sched_backend_env env = { sizeof env, &services, NULL };
    void *self = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(ops->create(&env, &self, err, sizeof err), SCHED_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err, "SCHED_SEED=\"12abc\" is not a decimal number from 0 to "
                                "18446744073709551615");
    reset();
    config_set("timeout_ticks_min", 10);
    config_set("timeout_ticks_max", 5);
    CU_ASSERT_EQUAL(ops->create(&env, &self, err, sizeof err), SCHED_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err, "test.timeout_ticks_min is greater than timeout_ticks_max");
    reset();
    env_trace = "/nonexistent-dir/trace.json";
    CU_ASSERT_EQUAL(ops->create(&env, &self, err, sizeof err), SCHED_EBACKEND);
    CU_ASSERT_STRING_EQUAL(err, "cannot write the trace to /nonexistent-dir/trace.json: "
                                "No such file or directory");
}

static void test_priorities_weight_the_background_pick(void)
{
    /* Over many seeds, a high-priority runnable among medium ones runs
     * first more often than a low-priority one does. */
    int high_first = 0, low_first = 0;
    for (uint64_t seed = 0; seed < 400; seed++) {
        for (unsigned which = 0; which < 2; which++) {
            reset();
            config_set("seed", (int64_t)seed);
            void *self = open_backend();
            fake_runnable *r = make(4);
            r[3].priority = which ? SCHED_PRIORITY_HIGH : SCHED_PRIORITY_LOW;
            for (int i = 0; i < 4; i++)
                ops->schedule(self, &r[i].base);
            iface(self)->run_until_parked(self);
            if (order[0] == 4)
                *(which ? &high_first : &low_first) += 1;
            ops->destroy(self);
            free(r);
        }
    }
    /* Expected: high 4/10 of 400, low 1/7 of 400. */
    CU_ASSERT(high_first > 2 * low_first);
    CU_ASSERT(low_first > 0);
}

static void test_deprioritized_labels_run_only_when_nothing_else_can(void)
{
    for (uint64_t seed = 0; seed < 20; seed++) {
        reset();
        config_set("seed", (int64_t)seed);
        void *self = open_backend();
        const sched_test_iface_v1 *t = iface(self);
        t->deprioritize(self, "slow");
        fake_runnable *r = make(10);
        for (int i = 0; i < 10; i++) {
            r[i].label = i < 3 ? "slow" : "fast";
            CU_ASSERT_EQUAL(ops->schedule_labeled(self, &r[i].base, r[i].label,
                                                  SCHED_PRIORITY_HIGH), 0);
        }
        sched_test_counts c;
        t->pending_counts(self, &c);
        CU_ASSERT_EQUAL(c.deprioritized, 3);
        CU_ASSERT_EQUAL(c.background, 7);
        CU_ASSERT_EQUAL(t->run_until_parked(self), 10);
        for (int i = 7; i < 10; i++)
            CU_ASSERT(order[i] <= 3);
        ops->destroy(self);
        free(r);
    }
}

static void test_background_only_tick_leaves_foreground_queued(void)
{
    reset();
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    fake_runnable *r = make(2);
    r[0].executor_id = 1;
    ops->schedule_main(self, &r[0].base);
    ops->schedule(self, &r[1].base);
    CU_ASSERT_EQUAL(t->tick(self, 1), 1);
    CU_ASSERT_EQUAL(r[1].ran, 1);
    CU_ASSERT_EQUAL(t->tick(self, 1), 0);
    CU_ASSERT_EQUAL(r[0].ran, 0);
    CU_ASSERT_EQUAL(t->tick(self, 0), 1);
    CU_ASSERT_EQUAL(r[0].ran, 1);
    ops->destroy(self);
    free(r);
}

static void test_queued_shows_every_queued_and_armed_runnable_once(void)
{
    reset();
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    fake_runnable *r = make(5);
    r[0].executor_id = 1;
    r[2].priority = SCHED_PRIORITY_HIGH;
    ops->schedule_main(self, &r[0].base);
    ops->schedule(self, &r[1].base);
    ops->schedule_labeled(self, &r[2].base, "slow", SCHED_PRIORITY_HIGH);
    t->deprioritize(self, "later");
    ops->schedule_labeled(self, &r[3].base, "later", SCHED_PRIORITY_MEDIUM);
    ops->schedule_after(self, &r[4].base, 5 * MS, 0);
    memset(shown, 0, sizeof shown);
    t->queued(self, count_shown, NULL);
    for (int id = 1; id <= 5; id++)
        CU_ASSERT_EQUAL(shown[id], 1);
    /* Looking moves nothing: all but the timer still run. */
    CU_ASSERT_EQUAL(t->run_until_parked(self), 4);
    memset(shown, 0, sizeof shown);
    t->queued(self, count_shown, NULL);
    CU_ASSERT_EQUAL(shown[5], 1);
    CU_ASSERT_EQUAL(shown[1] + shown[2] + shown[3] + shown[4], 0);
    ops->destroy(self);
    CU_ASSERT_EQUAL(r[4].dropped, 1);
    free(r);
}

static void *now_self;
static uint64_t seen_now[8];

static void note_now(fake_runnable *f)
{
    seen_now[f->task_id - 1] = ops->now(now_self);
}

static void test_advance_clock_fires_timers_in_due_order_at_their_time(void)
{
    reset();
    void *self = now_self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    fake_runnable *r = make(4);
    uint64_t delay[4] = { 30 * MS, 10 * MS, 20 * MS, 10 * MS };
    for (int i = 0; i < 4; i++) {
        r[i].fn = note_now;
        CU_ASSERT_EQUAL(ops->schedule_after(self, &r[i].base, delay[i], i % 2), 0);
    }
    t->advance_clock(self, 5 * MS);
    CU_ASSERT_EQUAL(norder, 0);
    CU_ASSERT_EQUAL(ops->now(self), 5 * MS);
    t->advance_clock(self, 20 * MS);
    CU_ASSERT_EQUAL(norder, 3);
    CU_ASSERT_EQUAL(order[0], 2);
    CU_ASSERT_EQUAL(order[1], 4);
    CU_ASSERT_EQUAL(order[2], 3);
    CU_ASSERT_EQUAL(seen_now[1], 10 * MS);
    CU_ASSERT_EQUAL(seen_now[3], 10 * MS);
    CU_ASSERT_EQUAL(seen_now[2], 20 * MS);
    CU_ASSERT_EQUAL(ops->now(self), 25 * MS);
    CU_ASSERT_EQUAL(t->advance_clock_to_next_timer(self), 1);
    CU_ASSERT_EQUAL(seen_now[0], 30 * MS);
    CU_ASSERT_EQUAL(ops->now(self), 30 * MS);
    CU_ASSERT_EQUAL(t->advance_clock_to_next_timer(self), 0);
    CU_ASSERT_EQUAL(t->utc_ns(self), 1704067200ll * 1000000000 + (int64_t)(30 * MS));
    ops->destroy(self);
    free(r);
}

static void test_decisions_from_bytes_replay_and_fall_back_to_a_fixed_choice(void)
{
    uint64_t first[20];
    const uint8_t bytes[] = { 200, 3, 77, 1, 250, 9, 128, 42, 5, 60, 99, 17 };
    for (int pass = 0; pass < 3; pass++) {
        reset();
        config_set("seed", pass);   /* the seed must not matter */
        void *self = open_backend();
        const sched_test_iface_v1 *t = iface(self);
        CU_ASSERT_EQUAL(t->set_decisions(self, bytes, sizeof bytes), 0);
        fake_runnable *r = make(20);
        for (int i = 0; i < 20; i++)
            ops->schedule(self, &r[i].base);
        CU_ASSERT_EQUAL(t->run_until_parked(self), 20);
        if (pass == 0)
            memcpy(first, order, sizeof first);
        else
            CU_ASSERT_EQUAL(memcmp(first, order, sizeof first), 0);
        ops->destroy(self);
        free(r);
    }
    /* No bytes at all: every decision is the first option. */
    reset();
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    CU_ASSERT_EQUAL(t->set_decisions(self, bytes, 0), 0);
    fake_runnable *r = make(5);
    for (int i = 0; i < 5; i++)
        ops->schedule(self, &r[i].base);
    t->run_until_parked(self);
    /* Each arrival takes slot 0 and moves its occupant to the end, and
     * picks take the end: 4, 3, 2, 1, then 5. */
    const uint64_t want[] = { 4, 3, 2, 1, 5 };
    CU_ASSERT_EQUAL(memcmp(order, want, sizeof want), 0);
    CU_ASSERT_EQUAL(t->random_yields(self), 0);
    ops->destroy(self);
    free(r);
}

static void test_destroy_drops_queued_and_armed_work_once(void)
{
    reset();
    void *self = open_backend();
    fake_runnable *r = make(4);
    r[1].executor_id = 3;
    ops->schedule(self, &r[0].base);
    ops->schedule_main(self, &r[1].base);
    ops->schedule_after(self, &r[2].base, 5 * MS, 0);
    ops->schedule_labeled(self, &r[3].base, "x", SCHED_PRIORITY_LOW);
    ops->destroy(self);
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(r[i].dropped, 1);
        CU_ASSERT_EQUAL(r[i].ran, 0);
    }
    free(r);
}

static void test_history_names_each_step_and_outlives_the_labels(void)
{
    reset();
    config_set("randomize", 0);
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    fake_runnable *r = make(3);
    char label[] = "render";
    r[0].label = label;
    r[2].label = "io";
    for (int i = 0; i < 3; i++)
        ops->schedule(self, &r[i].base);
    t->run_until_parked(self);
    strcpy(label, "gone!!");
    const sched_test_step *steps;
    CU_ASSERT_EQUAL_FATAL(t->history(self, &steps), 3);
    CU_ASSERT_EQUAL(steps[0].task_id, 1);
    CU_ASSERT_STRING_EQUAL(steps[0].label, "render");
    CU_ASSERT_PTR_NULL(steps[1].label);
    CU_ASSERT_STRING_EQUAL(steps[2].label, "io");
    ops->destroy(self);
    free(r);
}

static void test_parking_report_names_the_state_the_tasks_and_the_seed(void)
{
    reset();
    config_set("seed", 42);
    void *self = open_backend();
    const sched_test_iface_v1 *t = iface(self);
    fake_runnable *r = make(1);
    ops->schedule_after(self, &r[0].base, 7 * MS, 0);
    t->advance_clock(self, 2 * MS);
    described = "task 1 \"reader\" priority medium, spawned at main.c:10 (main), waits on channel\n";
    char buf[512];
    size_t n = t->parking_report(self, buf, sizeof buf);
    const char *want =
        "seed 42, virtual time 2000000 ns: 0 runnable, 1 timers pending (next due at 7000000 ns), "
        "parking forbidden\n"
        "pending tasks:\n"
        "task 1 \"reader\" priority medium, spawned at main.c:10 (main), waits on channel\n"
        "replay with SCHED_SEED=42\n";
    CU_ASSERT_STRING_EQUAL(buf, want);
    CU_ASSERT_EQUAL(n, strlen(want));
    char small[10];
    CU_ASSERT_EQUAL(t->parking_report(self, small, sizeof small), strlen(want));
    CU_ASSERT_STRING_EQUAL(small, "seed 42, ");
    ops->destroy(self);
    free(r);
}

static void test_trace_is_chrome_trace_json_with_tasks_and_timers(void)
{
    reset();
    char path[] = "/tmp/sched-trace-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    config_set_str("trace", path);
    config_set("randomize", 0);
    void *self = open_backend();
    fake_runnable *r = make(3);
    r[0].label = "parse \"quoted\"";
    r[1].executor_id = 4;
    ops->schedule(self, &r[0].base);
    ops->schedule_main(self, &r[1].base);
    ops->schedule_after(self, &r[2].base, 3 * MS, 0);
    iface(self)->advance_clock(self, 5 * MS);
    ops->destroy(self);
    free(r);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char text[8192];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    unlink(path);
    CU_ASSERT(strncmp(text, "{\"traceEvents\":[\n", 17) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"name\":\"parse \\\"quoted\\\"\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"args\":{\"name\":\"foreground executor 4\"}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"site\":\"plugin_fakehost.c:7\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"ph\":\"b\",\"pid\":1,\"tid\":0,\"ts\":0,\"cat\":\"timer\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"ph\":\"e\",\"pid\":1,\"tid\":0,\"ts\":2,\"cat\":\"timer\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"otherData\":{\"backend\":\"test\",\"seed\":\"0\","
                                        "\"steps\":\"3\",\"virtual_ns\":\"5000000\"}}\n"));
}

static int suite_init(void)
{
    return fakehost_load("test");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("test backend at the plugin ABI", suite_init, fakehost_unload);
#define T(name) CU_add_test(s, #name, name)
    T(test_descriptor_names_the_backend_and_declares_its_keys);
    T(test_nothing_runs_until_the_test_drives_it);
    T(test_fifo_mode_runs_in_schedule_order);
    T(test_foreground_keeps_fifo_order_per_executor_under_every_seed);
    T(test_same_seed_same_order_and_seeds_differ);
    T(test_seed_from_environment_overrides_config);
    T(test_bad_settings_are_config_errors);
    T(test_priorities_weight_the_background_pick);
    T(test_deprioritized_labels_run_only_when_nothing_else_can);
    T(test_background_only_tick_leaves_foreground_queued);
    T(test_advance_clock_fires_timers_in_due_order_at_their_time);
    T(test_decisions_from_bytes_replay_and_fall_back_to_a_fixed_choice);
    T(test_destroy_drops_queued_and_armed_work_once);
    T(test_queued_shows_every_queued_and_armed_runnable_once);
    T(test_history_names_each_step_and_outlives_the_labels);
    T(test_parking_report_names_the_state_the_tasks_and_the_seed);
    T(test_trace_is_chrome_trace_json_with_tasks_and_timers);
#undef T
    add_park_tests(s);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
