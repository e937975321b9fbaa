/* SPDX-License-Identifier: MIT */
/*
 * tests/test_determinism_reports.c - what the determinism checks say, read
 * as a user reads it: the public headers, real config files, the
 * installed test and cloudflare-sim backends.
 *
 *   - several real threads each wake a different task: the end's message
 *     is one sentence about the first, naming the others briefly, and the
 *     first one's stack comes after it, one frame a line, with nothing
 *     glued onto the last frame;
 *   - a real thread that cancels a pending task fails the test as a wake
 *     does;
 *   - after a clock move, a task whose timer fired is listed as runnable
 *     in the parking report, not as waiting on a timer that is already
 *     past.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <sched/sched.h>
#include <sched/test.h>

#include "tb_conf.h"

#define MS 1000000ull

static const char *conf_test, *conf_cfsim;

static int suite_init(void)
{
    conf_test = conf("backend = \"test\";\ntest: { seed = 7; };\n");
    conf_cfsim = conf("backend = \"cloudflare-sim\";\n");
    return 0;
}

static int suite_fini(void)
{
    conf_unlink_all();
    return 0;
}

/* Whether the n characters at line hold needle. */
static int line_has(const char *line, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(line + i, needle, k) == 0)
            return 1;
    return 0;
}

/* ---- several foreign activities ------------------------------------------ */

enum { NWORKERS = 5 };

struct worker {
    pthread_t th;
    sched_waker *w;
    char name[16];
};

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
#if defined(__GLIBC__)
    pthread_setname_np(pthread_self(), wk->name);
#endif
    sched_waker_wake(wk->w);
    return NULL;
}

/* First poll: keep a clone of the waker for the worker; second: done. */
struct handoff {
    sched_future base;
    struct worker *wk;
    int polls;
};

static int handoff_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct handoff *h = (struct handoff *)f;
    if (h->polls++ > 0) {
        out->i = 1;
        return 0;
    }
    h->wk->w = sched_waker_clone(sched_context_waker(cx));
    return SCHED_PENDING;
}

static void handoff_drop(sched_future *f)
{
    free(f);
}

static const sched_future_ops handoff_ops = { handoff_poll, handoff_drop };

static void many_foreign_wakes_make_one_clean_sentence(const char *config)
{
    sched_host *host = open_host(config);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    struct worker wk[NWORKERS];
    sched_task *task[NWORKERS];
    uint64_t id[NWORKERS];
    sched_error *err = NULL;
    char label[NWORKERS][16];

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    for (int i = 0; i < NWORKERS; i++) {
        struct handoff *h = calloc(1, sizeof *h);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        h->base.ops = &handoff_ops;
        h->wk = &wk[i];
        snprintf(wk[i].name, sizeof wk[i].name, "w%d", i);
        snprintf(label[i], sizeof label[i], "t%d", i);
        CU_ASSERT_EQUAL_FATAL(sched_spawn_labeled(ex, &h->base, label[i], &task[i]), 0);
        id[i] = sched_task_id(task[i]);
    }
    sched_test_run_until_parked(t);
    /* One worker at a time, so that w0 is the first whatever the timing. */
    for (int i = 0; i < NWORKERS; i++) {
        CU_ASSERT_EQUAL_FATAL(pthread_create(&wk[i].th, NULL, worker_main, &wk[i]), 0);
        pthread_join(wk[i].th, NULL);
    }
    sched_test_run_until_parked(t);
    CU_ASSERT_EQUAL(sched_test_end(t, &err), SCHED_EBACKEND);
    const char *msg = err ? sched_error_message(err) : "";
    const char *nl = strchr(msg, '\n');
    size_t first_len = nl ? (size_t)(nl - msg) : strlen(msg);
    char want[128];

    /* The first activity in full. */
    snprintf(want, sizeof want, " woke task %llu \"t0\" (spawned at ", (unsigned long long)id[0]);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, ": this test is not deterministic"));
    /* The count belongs to the sentence, on its first line ... */
    const char *count = strstr(msg, "4 more such activities");
    CU_ASSERT_PTR_NOT_NULL(count);
    CU_ASSERT(count == NULL || (size_t)(count - msg) < first_len);
    /* ... which names some of the others' tasks, and says how many it
     * does not name. */
    for (int i = 1; i <= 3; i++) {
        snprintf(want, sizeof want, " woke task %llu \"t%d\"", (unsigned long long)id[i], i);
        const char *at = strstr(msg, want);
        CU_ASSERT_PTR_NOT_NULL(at);
        CU_ASSERT(at == NULL || (size_t)(at - msg) < first_len);
    }
#if defined(__GLIBC__)
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "thread "));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, " (w1) woke task "));
    /* The stack comes last, and every line after the first is a frame. */
    CU_ASSERT(first_len > 0 && nl != NULL);
    snprintf(want, sizeof want, "; the first waker was used from:");
    CU_ASSERT(first_len >= strlen(want)
              && memcmp(msg + first_len - strlen(want), want, strlen(want)) == 0);
    for (const char *l = nl; l != NULL; l = strchr(l + 1, '\n')) {
        CU_ASSERT_EQUAL(strncmp(l, "\n  ", 3), 0);
        const char *end = strchr(l + 1, '\n');
        size_t n = end ? (size_t)(end - l) : strlen(l);
        CU_ASSERT(!line_has(l, n, "more such"));
        /* A frame, as backtrace_symbols(3) writes it, ends with its address. */
        CU_ASSERT(n > 0 && l[n - 1] == ']');
    }
#endif
    sched_error_free(err);
    for (int i = 0; i < NWORKERS; i++)
        sched_task_free(task[i]);
    sched_executor_free(ex);
    sched_host_close(host);
}

static void test_several_foreign_wakes_make_one_clean_sentence(void)
{
    many_foreign_wakes_make_one_clean_sentence(conf_test);
}

static void test_several_foreign_wakes_make_one_clean_sentence_cloudflare_sim(void)
{
    many_foreign_wakes_make_one_clean_sentence(conf_cfsim);
}

/* ---- a cancel from a real thread ------------------------------------------ */

static void *canceller_main(void *arg)
{
#if defined(__GLIBC__)
    pthread_setname_np(pthread_self(), "canceller");
#endif
    sched_task_cancel(arg);
    return NULL;
}

/* A real thread decides whether a pending task ever finishes: that is as
 * much outside the schedule as a wake, and fails the test the same way. */
static void a_cancel_from_a_real_thread_fails_the_test(const char *config)
{
    sched_host *host = open_host(config);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_task *task;
    sched_error *err = NULL;
    pthread_t th;
    char want[128];

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_spawn_labeled(ex, sched_timer(host, 10 * MS), "fetch", &task), 0);
    sched_test_run_until_parked(t);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, canceller_main, task), 0);
    pthread_join(th, NULL);
    sched_test_run_until_parked(t);
    CU_ASSERT(sched_task_is_finished(task));
    CU_ASSERT_EQUAL(sched_test_end(t, &err), SCHED_EBACKEND);
    const char *msg = err ? sched_error_message(err) : "";
    snprintf(want, sizeof want, " cancelled task %llu \"fetch\" (spawned at ",
             (unsigned long long)sched_task_id(task));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, ": this test is not deterministic"));
#if defined(__GLIBC__)
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "; the task was cancelled from:\n  "));
#endif
    sched_error_free(err);
    /* The same cancel on the scheduler's thread is part of the schedule. */
    sched_task_free(task);
    sched_executor_free(ex);
    sched_host_close(host);

    host = open_host(config);
    t = sched_as_test(host);
    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    CU_ASSERT_EQUAL_FATAL(sched_spawn_labeled(ex, sched_timer(host, 10 * MS), "fetch", &task), 0);
    sched_test_run_until_parked(t);
    sched_task_cancel(task);
    sched_test_run_until_parked(t);
    CU_ASSERT_EQUAL(sched_test_end(t, NULL), 0);
    sched_task_free(task);
    sched_executor_free(ex);
    sched_host_close(host);
}

static void test_a_cancel_from_a_real_thread_fails_the_test(void)
{
    a_cancel_from_a_real_thread_fails_the_test(conf_test);
    a_cancel_from_a_real_thread_fails_the_test(conf_cfsim);
}

/* ---- the report after a clock move --------------------------------------- */

static void report_after_a_move_lists_fired_timers_as_runnable(const char *config)
{
    sched_host *host = open_host(config);
    sched_test *t = sched_as_test(host);
    sched_executor *ex;
    sched_task *soon, *later;
    char report[4096], want[160];

    CU_ASSERT_EQUAL_FATAL(sched_executor_new(host, &ex), 0);
    uint64_t start = sched_test_now(t);
    CU_ASSERT_EQUAL_FATAL(sched_spawn_labeled(ex, sched_timer(host, 1 * MS), "soon", &soon), 0);
    CU_ASSERT_EQUAL_FATAL(sched_spawn_labeled(ex, sched_timer(host, 10 * MS), "later", &later), 0);
    sched_test_run_until_parked(t);
    CU_ASSERT_EQUAL(sched_test_move_clock(t, 5 * MS), 1);
    sched_test_parking_report(t, report, sizeof report);

    /* The fired one is runnable: its wake-up is queued. */
    snprintf(want, sizeof want, "task %llu \"soon\" ", (unsigned long long)sched_task_id(soon));
    const char *line = strstr(report, want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    const char *eol = strchr(line, '\n');
    size_t n = eol ? (size_t)(eol - line) : strlen(line);
    snprintf(want, sizeof want, "runnable (a timer due at %llu ns fired; its wake-up is queued)",
             (unsigned long long)(start + 1 * MS));
    CU_ASSERT(n >= strlen(want) && memcmp(line + n - strlen(want), want, strlen(want)) == 0);
    CU_ASSERT(!line_has(line, n, "waiting"));

    /* The other still waits on its timer, which is ahead of the clock. */
    snprintf(want, sizeof want, "task %llu \"later\" ", (unsigned long long)sched_task_id(later));
    line = strstr(report, want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    snprintf(want, sizeof want, ": waiting on a timer due at %llu ns\n",
             (unsigned long long)(start + 10 * MS));
    eol = strchr(line, '\n');
    CU_ASSERT(line_has(line, eol ? (size_t)(eol - line) + 1 : strlen(line), want));

    /* Once it has run, the task is done and gone from the report. */
    sched_test_run_until_parked(t);
    CU_ASSERT(sched_task_is_finished(soon));
    CU_ASSERT(!sched_task_is_finished(later));
    sched_test_parking_report(t, report, sizeof report);
    snprintf(want, sizeof want, "task %llu \"soon\" ", (unsigned long long)sched_task_id(soon));
    CU_ASSERT_PTR_NULL(strstr(report, want));
    CU_ASSERT_EQUAL(sched_test_move_clock(t, 5 * MS), 1);
    sched_test_run_until_parked(t);
    CU_ASSERT(sched_task_is_finished(later));
    sched_task_free(soon);
    sched_task_free(later);
    sched_executor_free(ex);
    sched_host_close(host);
}

static void test_report_after_a_clock_move_lists_fired_timers_as_runnable(void)
{
    report_after_a_move_lists_fired_timers_as_runnable(conf_test);
}

static void test_report_after_a_clock_move_lists_fired_timers_as_runnable_cloudflare_sim(void)
{
    report_after_a_move_lists_fired_timers_as_runnable(conf_cfsim);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("determinism reports", suite_init, suite_fini);
#define T(name) CU_add_test(s, #name, name)
    T(test_several_foreign_wakes_make_one_clean_sentence);
    T(test_several_foreign_wakes_make_one_clean_sentence_cloudflare_sim);
    T(test_a_cancel_from_a_real_thread_fails_the_test);
    T(test_report_after_a_clock_move_lists_fired_timers_as_runnable);
    T(test_report_after_a_clock_move_lists_fired_timers_as_runnable_cloudflare_sim);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
