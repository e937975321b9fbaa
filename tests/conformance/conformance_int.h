/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/conformance_int.h - what the conformance suite's
 * files share: the backend under test and its config file, the host and
 * executor every test opens, the probe future, and the tests themselves
 * for the runner's table in conformance.c.
 */
#ifndef SCHED_CONFORMANCE_INT_H
#define SCHED_CONFORMANCE_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "conformance_platform.h"
#include "sched/sched.h"
#include "sched/test.h"

/* ---- the backend under test (conformance_helpers.c) ------------------------ */

extern const char *conf_backend;       /* the backend under test */
extern char conf_config_path[1024];    /* the config file naming it */

/* Write conf_config_path naming backend `name`: 0, or -1. */
int conf_write_config(const char *name);

/* A host on conf_config_path, or NULL with the reason on stderr. */
sched_host *conf_open_host(void);

/* Open a host and a background executor, or fail the test. */
#define SETUP(h, ex)                                                                   \
    sched_host *h = conf_open_host();                                                  \
    sched_executor *ex = NULL;                                                         \
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);                                                   \
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(h, &ex), 0)

#define TEARDOWN(h, ex)                                                                \
    do {                                                                               \
        sched_executor_free(ex);                                                       \
        sched_host_close(h);                                                           \
    } while (0)

/* Whether h's backend is a simulated one (test, cloudflare-sim). */
int conf_simulated(sched_host *h);

/* Let a simulated backend really park (so foreign threads can run). */
void conf_allow_parking(sched_host *h);

/* A function future's body: arg, as an integer, plus one. */
sched_value conf_add_one(void *arg);

/* A future that stays pending, counting polls and drops; it keeps a
 * clone of the waker when keep is set. */
struct probe_stats {
    _Atomic int polls;
    _Atomic int drops;
    _Atomic(sched_waker *) waker;
    sched_oneshot *polled;      /* sent at the first poll, when set */
    sched_oneshot *dropped;     /* sent at the drop, when set */
};

sched_future *conf_probe_new(struct probe_stats *st, int keep);

/* Futures that are ready once the probe was first polled / dropped: the
 * tests wait on these, never on the clock. */
sched_future *conf_probe_polled(struct probe_stats *st);
sched_future *conf_probe_dropped(struct probe_stats *st);

/* A value for a oneshot, sent by a task or a foreign thread. */
struct sender {
    sched_oneshot *o;
    int64_t v;
};

/* ---- the table (conformance.c) and the runner (conformance_runner.c) ---------- */

/* One test: its name, as printed, and its body. */
struct conf_test {
    const char *name;
    CU_TestFunc fn;
};

extern const struct conf_test conf_tests[];
extern const size_t conf_ntests;

/* In the foreground death test's re-executed child: run it and exit.
 * Returns only in every other process. */
void conf_death_child(void);

/* ---- the tests, in the order the runner registers them ----------------------- */

/* conformance_spawn.c: spawn and await, timers, block */
extern const sched_future_ops conf_combine_ops;
void conf_test_spawn_and_await_returns_the_value(void);
void conf_test_coroutine_awaits_timer_and_two_tasks(void);
void conf_test_all_any_yield_and_ready_compose(void);
void conf_test_labels_and_priorities_are_accepted(void);
void conf_test_a_failure_code_reaches_the_joiner_unchanged(void);
void conf_test_timers_never_fire_early(void);
void conf_test_timers_fire_in_due_order(void);
void conf_test_zero_and_absurd_timers_have_defined_results(void);
void conf_test_block_with_timeout_times_out_and_keeps_the_future(void);
void conf_test_block_on_unwakeable_future_is_deadlock_or_timeout(void);
void conf_test_block_with_a_zero_budget_polls_once(void);

/* conformance_cancel.c: cancel and detach */
void conf_test_cancel_drops_future_once_and_join_reports_cancel(void);
void conf_test_freeing_an_unfinished_handle_cancels(void);
void conf_test_pending_future_without_wake_is_never_polled_again(void);
void conf_test_detached_task_runs_to_completion(void);

/* conformance_threads.c: threads, channels, foreground */
void conf_test_wakes_from_foreign_threads(void);
void conf_test_hundred_thousand_tasks_run_exactly_once(void);
void conf_test_bounded_channel_carries_values_in_order(void);
void conf_test_foreground_tasks_run_on_the_main_thread(void);
void conf_test_foreground_executor_off_the_main_thread_is_refused(void);
void conf_test_a_yield_lets_other_ready_work_run(void);
void conf_test_block_on_the_main_thread_runs_foreground_tasks(void);

/* conformance_cancel.c: shutdown and bad input */
void conf_test_shutdown_drops_every_pending_future_exactly_once(void);
void conf_test_spawn_during_shutdown_is_refused_and_dropped(void);
void conf_test_shutdown_closing_a_channel_in_a_drop_wakes_its_senders(void);
void conf_test_bad_input_gets_documented_codes(void);

/* conformance_rules.c: rules a backend can break quietly */
void conf_test_destroy_drops_every_queued_runnable_once(void);
void conf_test_close_waits_for_a_poll_and_drops_its_task(void);
void conf_test_main_queue_is_fifo(void);
void conf_test_stop_before_run_returns_at_once(void);
void conf_test_nothing_is_run_twice(void);
void conf_test_a_timer_wakes_its_task_once(void);
void conf_test_a_dropped_timer_is_taken_back(void);

/* conformance_cancel.c: a function task's argument */
void conf_test_cancelled_function_task_drops_its_argument_once(void);
void conf_test_function_task_queued_at_close_drops_its_argument_once(void);
void conf_test_function_task_that_ran_never_drops_its_argument(void);

#endif
