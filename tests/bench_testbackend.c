/* SPDX-License-Identifier: MIT */
/*
 * tests/bench_testbackend.c - how fast the test backend drives ready work:
 * spawn N tiny tasks (default 1 000 000), then time one
 * sched_test_run_until_parked over all of them and report ticks per
 * second, by the wall clock and by the process's CPU time (the machine
 * may be shared).  A benchmark, not a test: it checks only that every
 * task ran.
 *
 * The tasks are detached functions (the cheapest task there is); with
 * --labeled each has a label, which makes it a full task, the kind a
 * handle, a session or a foreground executor also needs.
 *
 *   bench_testbackend [--labeled] [N]   (SCHED_CONFIG / SCHED_BACKEND=test apply)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sched/sched.h>
#include <sched/test.h>

static sched_value tiny(void *arg)
{
    (*(uint64_t *)arg)++;
    return (sched_value){ .i = 0 };
}

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int labeled = argc > 1 && strcmp(argv[1], "--labeled") == 0;
    uint64_t n = argc > 1 + labeled ? strtoull(argv[1 + labeled], NULL, 10) : 1000000;
    sched_host *host;
    sched_error *err = NULL;
    if (sched_host_open(&host, NULL, &err) != 0) {
        fprintf(stderr, "bench_testbackend: %s\n", sched_error_message(err));
        sched_error_free(err);
        return 1;
    }
    sched_test *t = sched_as_test(host);
    if (t == NULL) {
        fprintf(stderr, "bench_testbackend: backend %s has no test controls; "
                "run with SCHED_BACKEND=test\n", sched_host_backend_name(host));
        sched_host_close(host);
        return 1;
    }
    sched_executor *ex;
    sched_executor_new(host, &ex);
    uint64_t ran = 0;
    double w0 = seconds(CLOCK_MONOTONIC);
    for (uint64_t i = 0; i < n; i++)
        if ((labeled ? sched_spawn_labeled(ex, sched_future_fn(tiny, &ran), "tiny", NULL)
                     : sched_spawn(ex, sched_future_fn(tiny, &ran), NULL)) != 0) {
            fprintf(stderr, "bench_testbackend: spawn failed\n");
            return 1;
        }
    double w1 = seconds(CLOCK_MONOTONIC), c1 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t ticks = sched_test_run_until_parked(t);
    double w2 = seconds(CLOCK_MONOTONIC), c2 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    printf("backend test, seed %llu: spawn %llu %s tasks: %.1f ns/task\n",
           (unsigned long long)sched_test_seed(t), (unsigned long long)n,
           labeled ? "labeled" : "detached", (w1 - w0) * 1e9 / (double)n);
    printf("run_until_parked: %llu ticks: %.2f M ticks/s wall (%.1f ns/tick), "
           "%.2f M ticks/s CPU (%.1f ns/tick)\n",
           (unsigned long long)ticks, (double)ticks / (w2 - w1) / 1e6,
           (w2 - w1) * 1e9 / (double)ticks, (double)ticks / (c2 - c1) / 1e6,
           (c2 - c1) * 1e9 / (double)ticks);
    sched_executor_free(ex);
    sched_host_close(host);
    return ran == n && ticks == n ? 0 : 1;
}
