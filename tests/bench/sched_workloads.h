/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/sched_workloads.h - the W1-W5 workloads against an open
 * libsched host.  Used by `schedctl bench` and by the peer harness, so
 * both print the same figures from the same code.
 *
 *   W1  spawn n tiny tasks from one thread and wait for all: ns per task
 *   W2  rounds of fan-out/fan-in (spawn fan tasks, await all their
 *       handles): ns per task, spawn and await included
 *   W3  a chain of n tasks, each waking the next: median and p99 hop
 *   W4  n tasks spawned at once, detached, each sleeping 1-50 ms on a
 *       timer made when it was spawned, the last to resume waking the
 *       waiter: mean and p99 lateness from that moment, early fires
 *   W5  heap bytes per queued, not yet run, tiny task
 *
 * Each returns 0, or a negative SCHED_E* code when the host failed.
 */
#ifndef SCHED_WORKLOADS_H
#define SCHED_WORKLOADS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sched/sched.h>

int sched_bench_w1(sched_host *h, size_t n, double *ns_per_task);
int sched_bench_w2(sched_host *h, size_t rounds, size_t fan, double *ns_per_task);
int sched_bench_w3(sched_host *h, size_t n, double *median_hop_ns, double *p99_hop_ns);
int sched_bench_w4(sched_host *h, size_t n, double *mean_late_us, double *p99_late_us,
                   uint64_t *early_fires);
/* W4 with the given delays (NULL: its own seeded 1-50 ms); at_spawn 0
 * makes each timer at the task's first poll and counts lateness from
 * there, which leaves out the time spent spawning and first polling. */
int sched_bench_w4_delays(sched_host *h, size_t n, const uint64_t *delay_ns, int at_spawn,
                          double *mean_late_us, double *p99_late_us, uint64_t *early_fires);
/* The W4 run itself: for task i, due[i] and due[n + i] are the clock
 * plus its delay just before and just after its timer was made, ran[i]
 * when it resumed (due holds 2n, ran n).  Times only: no statistics. */
int sched_bench_w4_times(sched_host *h, size_t n, const uint64_t *delay_ns, int at_spawn,
                         uint64_t *due, uint64_t *ran);
/* Lateness against those times, the same for every implementation the
 * bench measures: a resume before due[i] is early for certain; lateness
 * counts from due[n + i] (a spawner preempted inside the call is not
 * charged), 0 for a timer that fired within the bracket or early. */
int sched_bench_w4_stats(const uint64_t *due, const uint64_t *ran, size_t n, double *mean_ns,
                         double *p99_ns, uint64_t *early, double *max_early_ns);
/* The q-th quantile (0..1) of v[0..n), sorting v: the percentiles of
 * every figure the bench prints. */
double sched_bench_quantile(uint64_t *v, size_t n, double q);
/* W5 once, every worker held busy while n tiny tasks are spawned and
 * the heap counted; *ran is how many of them ran meanwhile (a worker was
 * not held): the figure is only good when it is 0.  SCHED_ENOTSUP where
 * the C library cannot count heap bytes. */
int sched_bench_w5_once(sched_host *h, size_t n, double *bytes_per_task, size_t *ran);
/* W5 until a try in which no counted task ran, at most three tries;
 * SCHED_EAGAIN when every try had one. */
int sched_bench_w5(sched_host *h, size_t n, double *bytes_per_task);

/* One machine-readable line:
 *   bench impl=NAME workload=W1 metric=ns_per_task value=123.4 */
void sched_bench_line(FILE *out, const char *impl, const char *workload, const char *metric,
                      double value);

#endif
