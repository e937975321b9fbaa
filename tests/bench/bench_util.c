/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/bench_util.c - clocks, statistics, latches and gates for the
 * benchmark harness.
 */
#include "config.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include "bench.h"
#include "sched_workloads.h"

char bench_fail_reason[256];

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

size_t bench_heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

void bench_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(bench_fail_reason, sizeof bench_fail_reason, fmt, ap);
    va_end(ap);
}

unsigned bench_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* The same percentiles and lateness as the libsched rows' (in
 * sched_workloads.c), so no figure differs by how it was computed. */
void bench_percentiles(uint64_t *v, size_t n, double *median, double *p99)
{
    *median = sched_bench_quantile(v, n, 0.5);
    *p99 = sched_bench_quantile(v, n, 0.99);
}

int bench_lateness(const uint64_t *due, const uint64_t *ran, size_t n, w4_result *out)
{
    uint64_t early = 0;
    int rc = sched_bench_w4_stats(due, ran, n, &out->mean_ns, &out->p99_ns, &early,
                                  &out->max_early_ns);
    out->early = (size_t)early;
    if (rc != 0)
        bench_fail("out of memory for the W4 statistics");
    return rc == 0 ? 0 : -1;
}

void bench_latch_init(bench_latch *l, size_t target)
{
    atomic_init(&l->left, target);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->done = target == 0;
}

void bench_latch_count_down(bench_latch *l)
{
    if (atomic_fetch_sub(&l->left, 1) == 1) {
        pthread_mutex_lock(&l->mu);
        l->done = 1;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
    }
}

void bench_latch_wait(bench_latch *l)
{
    pthread_mutex_lock(&l->mu);
    while (!l->done)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

int bench_latch_ok(bench_latch *l)
{
    size_t left = atomic_load(&l->left);
    if (left == 0)
        return 0;
    bench_fail("%zd tasks unaccounted for (negative: ran twice)", (ssize_t)left);
    return -1;
}

void bench_latch_fini(bench_latch *l)
{
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
}

int bench_w5_refused(size_t ran, size_t n)
{
    if (ran == 0)
        return 0;
    bench_fail("%zu of the %zu tasks counted ran before the count ended", ran, n);
    return 1;
}

void bench_gate_init(bench_gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->entered = 0;
    g->left = 0;
    g->open = 0;
}

void bench_gate_hold(bench_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->entered++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    g->left++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

void bench_gate_wait_entered(bench_gate *g, unsigned n)
{
    pthread_mutex_lock(&g->mu);
    while (g->entered < n)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

void bench_gate_open(bench_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Waits until every holder has left bench_gate_hold: a holder still
 * returning from pthread_cond_wait must not find its mutex destroyed. */
void bench_gate_fini(bench_gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (g->left < g->entered)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
}
