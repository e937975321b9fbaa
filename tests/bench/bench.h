/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/bench.h - the benchmark harness shared by every
 * implementation measured: libsched backends and the peers a user would
 * pick instead (three plain pthread pools, raw GCD, glib, libuv, libevent).
 *
 * Each implementation fills a bench_impl with the workloads it can run
 * (NULL: not applicable).  A workload returns 0 after checking that every
 * task ran exactly once, or -1 with a reason in bench_fail(); or 1, with
 * a reason, when every task ran exactly once but the figure would be
 * wrong (W5: a counted task ran while the heap was counted), so the
 * round is refused rather than counted.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

/* W4's figures: lateness of each sleeping task against its due time,
 * counted from when its timer was made.  A peer arms its timer in the
 * submitting loop; a libsched task's sched_timer is also made in the
 * spawning loop, and arm_* repeat the run with the timer made at the
 * task's first poll: the timer path alone. */
typedef struct w4_result {
    double mean_ns;
    double p99_ns;
    size_t early;           /* timers that ran before their due time */
    double max_early_ns;
    double cpu_ms;          /* process CPU from just before the first timer
                             * is made until the last task ran (statistics
                             * left out), of the from-creation run */
    int have_arm;
    double arm_mean_ns, arm_p99_ns;
} w4_result;

typedef struct w4_spec {
    size_t n;
    const uint64_t *delay_ns;   /* n delays, the same for every impl */
    int spawn_only;             /* no arm_* run (callgrind counts one run) */
} w4_spec;

typedef struct bench_impl {
    const char *name;
    int ours;               /* a libsched backend (else a peer) */
    /* W1: spawn n tiny tasks from one thread and wait for all. */
    int (*w1)(void *ctx, size_t n, double *ns_per_task);
    /* W2: rounds of width-task fan-out / fan-in. */
    int (*w2)(void *ctx, size_t rounds, size_t width, double *ns_per_task);
    /* W3: a chain of n tasks each queuing the next; hop = queue to start. */
    int (*w3)(void *ctx, size_t n, double *median_ns, double *p99_ns);
    /* W4: timers; lateness against due. */
    int (*w4)(void *ctx, const w4_spec *spec, w4_result *out);
    /* W5: heap bytes per queued, not yet run, task, every worker held;
     * 1 when one of the counted tasks ran all the same. */
    int (*w5)(void *ctx, size_t n, double *bytes);
    void *ctx;
    void (*fini)(void *ctx);
} bench_impl;

uint64_t bench_now_ns(void);
/* User and system CPU of the whole process so far, in seconds. */
double bench_cpu_seconds(void);
/* Heap bytes in use (mallinfo2). */
size_t bench_heap_bytes(void);
/* Record why a workload failed (printf-style); shown in the table. */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Worker threads every pool is given: one per CPU. */
unsigned bench_threads(void);

/* Median and 99th percentile of v (sorted in place). */
void bench_percentiles(uint64_t *v, size_t n, double *median, double *p99);
/* Lateness statistics of ran[i] against its due time, which lies in
 * [due[i], due[n + i]]: the clock plus the delay just before and just after
 * the call that set the timer (sched_bench_w4_stats, as for libsched).  A
 * fire before due[i] is early for certain; lateness is counted from
 * due[n + i], so a harness thread preempted in the middle of the call is
 * not charged to the implementation.  Fills mean, p99 and the early
 * counts of out; 0, or -1 with the reason recorded. */
int bench_lateness(const uint64_t *due, const uint64_t *ran, size_t n, w4_result *out);

/* A count-down latch: the waiter sleeps until count_down() was called
 * target times. */
typedef struct bench_latch {
    atomic_size_t left;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} bench_latch;
void bench_latch_init(bench_latch *l, size_t target);
void bench_latch_count_down(bench_latch *l);
void bench_latch_wait(bench_latch *l);
void bench_latch_fini(bench_latch *l);
/* 0 when every task counted down exactly once (so far), else -1 with the
 * reason recorded. */
int bench_latch_ok(bench_latch *l);

/* Set by sched-bench --w5-check-refusal: bench_jobs_w5 leaves one
 * worker free and ends its count only once a counted task has run there,
 * a round that must be refused (the smoke test's broken fixture). */
extern int bench_w5_leave_one_free;
/* W5's verdict once every task ran: 0 when none of the n counted ran
 * before the heap was counted, else 1 with the reason recorded. */
int bench_w5_refused(size_t ran, size_t n);

/* A gate that holds every worker of a pool so W5 can queue behind it. */
typedef struct bench_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned entered;
    unsigned left;      /* holders that have returned from bench_gate_hold */
    int open;
} bench_gate;
void bench_gate_init(bench_gate *g);
void bench_gate_hold(bench_gate *g);          /* called by a task: wait until open */
void bench_gate_wait_entered(bench_gate *g, unsigned n);
void bench_gate_open(bench_gate *g);
void bench_gate_fini(bench_gate *g);

/*
 * A pool that runs fn(arg) jobs.  An implementation whose context begins
 * with a bench_jobs can use the bench_jobs_w* functions (bench_jobs.c) as
 * its workloads, so the raw backend and the pthread pool run the very same
 * W1-W5.  submit and after receive that context.
 */
typedef struct bench_jobs {
    void (*submit)(void *pool, void (*fn)(void *), void *arg);
    void (*after)(void *pool, uint64_t delay_ns, void (*fn)(void *), void *arg);
    unsigned threads;       /* workers W5 must hold at its gate */
    int grows;              /* the pool adds threads as its workers block
                             * (GCD's): W5 holds more than threads */
} bench_jobs;
int bench_jobs_w1(void *ctx, size_t n, double *ns);
int bench_jobs_w2(void *ctx, size_t rounds, size_t width, double *ns);
int bench_jobs_w3(void *ctx, size_t n, double *median, double *p99);
int bench_jobs_w4(void *ctx, const w4_spec *s, w4_result *out);
int bench_jobs_w5(void *ctx, size_t n, double *bytes);

/* Implementations.  Each returns 0 and fills *impl, or -1 when it cannot
 * run here (the reason goes to bench_fail). */
int bench_pthread_impl(bench_impl *impl);
int bench_pool_batch_impl(bench_impl *impl);
int bench_pool_spin_impl(bench_impl *impl);
#ifdef HAVE_BENCH_GCD
int bench_gcd_impl(bench_impl *impl);
#endif
int bench_raw_impl(bench_impl *impl, const char *backend);
int bench_libsched_impl(bench_impl *impl, const char *backend);
#ifdef HAVE_BENCH_GLIB
int bench_glib_impl(bench_impl *impl);
#endif
#ifdef HAVE_BENCH_UV
int bench_uv_impl(bench_impl *impl);
#endif
#ifdef HAVE_BENCH_EVENT
int bench_event_impl(bench_impl *impl);
#endif

#endif
