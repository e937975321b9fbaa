/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/bench_jobs.c - W1-W5 for pools that run fn(arg) jobs: the
 * raw backend (impl_raw.c) and the plain pthread pool (peer_pthread.c).
 * Both measure exactly the same shapes because both run this code; only
 * how a job is submitted differs (bench_jobs in bench.h).
 *
 * One workload runs at a time, so its state lives in statics.
 */
#include "config.h"

#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

static bench_latch latch;

static void tiny(void *arg)
{
    (void)arg;
    bench_latch_count_down(&latch);
}

int bench_jobs_w1(void *ctx, size_t n, double *ns)
{
    const bench_jobs *p = ctx;
    bench_latch_init(&latch, n);
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        p->submit(ctx, tiny, NULL);
    bench_latch_wait(&latch);
    *ns = (double)(bench_now_ns() - t0) / (double)n;
    bench_latch_fini(&latch);
    return bench_latch_ok(&latch);
}

int bench_jobs_w2(void *ctx, size_t rounds, size_t width, double *ns)
{
    const bench_jobs *p = ctx;
    uint64_t t0 = bench_now_ns();
    for (size_t r = 0; r < rounds; r++) {
        bench_latch_init(&latch, width);
        for (size_t i = 0; i < width; i++)
            p->submit(ctx, tiny, NULL);
        bench_latch_wait(&latch);
        bench_latch_fini(&latch);
        if (bench_latch_ok(&latch) != 0)
            return -1;
    }
    *ns = (double)(bench_now_ns() - t0) / (double)(rounds * width);
    return 0;
}

static void *chain_pool;
static uint64_t *chain_sent, *chain_start;
static size_t chain_n;

/* Each link records when it started and submits the next. */
static void chain_step(void *arg)
{
    const bench_jobs *p = chain_pool;
    size_t i = (size_t)(uintptr_t)arg;
    chain_start[i] = bench_now_ns();
    if (i + 1 < chain_n) {
        chain_sent[i + 1] = bench_now_ns();
        p->submit(chain_pool, chain_step, (void *)(uintptr_t)(i + 1));
    }
    tiny(NULL);
}

int bench_jobs_w3(void *ctx, size_t n, double *median, double *p99)
{
    const bench_jobs *p = ctx;
    uint64_t *hop = malloc(n * sizeof *hop);
    chain_pool = ctx;
    chain_n = n;
    chain_sent = calloc(n, sizeof *chain_sent);
    chain_start = calloc(n, sizeof *chain_start);
    bench_latch_init(&latch, n);
    chain_sent[0] = bench_now_ns();
    p->submit(ctx, chain_step, (void *)(uintptr_t)0);
    bench_latch_wait(&latch);
    bench_latch_fini(&latch);
    for (size_t i = 0; i < n; i++)
        hop[i] = chain_start[i] - chain_sent[i];
    /* Hop 0 is the harness's kick, not a hop (as for libsched). */
    bench_percentiles(hop + 1, n - 1, median, p99);
    free(hop);
    free(chain_sent);
    free(chain_start);
    return bench_latch_ok(&latch);
}

static uint64_t *t_due, *t_ran;

static void timer_fired(void *arg)
{
    t_ran[(uintptr_t)arg] = bench_now_ns();
    tiny(NULL);
}

int bench_jobs_w4(void *ctx, const w4_spec *s, w4_result *out)
{
    const bench_jobs *p = ctx;
    double c0;
    int rc;
    t_due = calloc(2 * s->n, sizeof *t_due);
    t_ran = calloc(s->n, sizeof *t_ran);
    bench_latch_init(&latch, s->n);
    c0 = bench_cpu_seconds();
    for (size_t i = 0; i < s->n; i++) {
        t_due[i] = bench_now_ns() + s->delay_ns[i];
        p->after(ctx, s->delay_ns[i], timer_fired, (void *)(uintptr_t)i);
        t_due[s->n + i] = bench_now_ns() + s->delay_ns[i];
    }
    bench_latch_wait(&latch);
    out->cpu_ms = (bench_cpu_seconds() - c0) * 1e3;
    bench_latch_fini(&latch);
    rc = bench_lateness(t_due, t_ran, s->n, out);
    free(t_due);
    free(t_ran);
    return rc == 0 ? bench_latch_ok(&latch) : rc;
}

static bench_gate gate;
int bench_w5_leave_one_free;

static void hold(void *arg)
{
    (void)arg;
    bench_gate_hold(&gate);
}

/* Every worker is held at a gate while n jobs queue behind it, so the
 * heap growth is what a queued, not yet run, job costs; a job that ran
 * meanwhile (a worker not held) refuses the round. */
int bench_jobs_w5(void *ctx, size_t n, double *bytes)
{
    const bench_jobs *p = ctx;
    unsigned held = p->threads - (bench_w5_leave_one_free ? 1 : 0);
    unsigned holders = p->grows ? 2 * held + 2 : held;
    bench_gate_init(&gate);
    for (unsigned i = 0; i < holders; i++)
        p->submit(ctx, hold, NULL);
    bench_gate_wait_entered(&gate, held);
    /* A growing pool: 20 ms for the threads it adds to take the rest of
     * the holders, as for the libsched rows (sched_workloads.c). */
    if (p->grows)
        nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
    bench_latch_init(&latch, n);
    size_t before = bench_heap_bytes();
    for (size_t i = 0; i < n; i++)
        p->submit(ctx, tiny, NULL);
    while (bench_w5_leave_one_free && atomic_load(&latch.left) == n)
        sched_yield();
    *bytes = (double)(bench_heap_bytes() - before) / (double)n;
    size_t ran = n - atomic_load(&latch.left);
    bench_gate_open(&gate);
    bench_latch_wait(&latch);
    bench_latch_fini(&latch);
    bench_gate_wait_entered(&gate, holders);
    bench_gate_fini(&gate);
    if (bench_latch_ok(&latch) != 0)
        return -1;
    return bench_w5_refused(ran, n);
}
