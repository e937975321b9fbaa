/* SPDX-License-Identifier: MIT */
/*
 * tests/planted_bugs.h - concurrency bugs of a known depth among noise
 * tasks, for the strategy tests and the strategy benchmark.
 *
 * A bug of depth d needs d ordering constraints between two tasks, and
 * between the constraints one task must run a window of steps while the
 * other is ready and does not run.  FIFO order never hits any of them.
 */
#ifndef PLANTED_BUGS_H
#define PLANTED_BUGS_H

#include <sched/sched.h>

struct planted {
    int depth;              /* 1, 2 or 3 */
    int window;             /* steps one task runs while the other waits */
    int noise;              /* noise tasks */
    int noise_steps;        /* steps of each */
};

/* A sched_test_run_seeds body (arg: a struct planted): spawns the bug and
 * the noise, runs until parked; 1 when the bug was hit, 0 when not, or a
 * negative SCHED_E* code. */
int planted_run(sched_host *host, void *arg);

#endif
