/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/bench_report.h - what sched-bench prints: the figures of
 * every implementation, round by round, then one table of medians, the
 * ratios of ours to the peers computed round by round, and issue 15's
 * targets met or not.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

enum { M_W1, M_W2, M_W3_MED, M_W3_P99, M_W4_MEAN, M_W4_P99, M_W4_EARLY, M_W4_MAXEARLY,
       M_W4_CPU, M_W4_ARM_MEAN, M_W4_ARM_P99, M_W5, M_IDLE, M_COUNT };

#define BENCH_MAX_REPEAT 15

/* The row of the implementation called name (made on first use, in the
 * order the implementations first ran); -1 when the table is full. */
int bench_report_row(const char *name, int ours);
/* Figure m of row in round (0 .. BENCH_MAX_REPEAT - 1). */
void bench_report_record(int row, int m, int round, double v);
/* Print everything measured over rounds rounds. */
void bench_report_print(int rounds);

#endif
