/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/peer_gcd.c - raw Grand Central Dispatch, the floor the mac
 * backend is held to: dispatch_async_f on the default-priority global
 * queue for jobs, dispatch_after_f on the same queue for timers.  No
 * wrapper of ours is in the path.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

/* gcc before 14 lacks these; libdispatch's headers use them (as in
 * plugins/mac/mac.c). */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#ifndef __has_extension
#define __has_extension(x) 0
#endif
#include <dispatch/dispatch.h>

#include "bench.h"

typedef struct gcd {
    bench_jobs jobs;        /* first: the workloads are bench_jobs_w* */
    dispatch_queue_t q;
} gcd;

#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
/* ThreadSanitizer cannot see that libdispatch runs a function after it
 * was submitted (libdispatch is not instrumented), so under TSan each job
 * goes through a hop that states the edge, as plugins/mac/mac.c does.
 * Timings from such a build mean nothing anyway. */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

struct hop {
    void (*fn)(void *);
    void *arg;
};

static void hop_run(void *p)
{
    struct hop h;
    __tsan_acquire(p);
    h = *(struct hop *)p;
    free(p);
    h.fn(h.arg);
}

static void *hop_new(void (*fn)(void *), void *arg, void (**run)(void *))
{
    struct hop *h = malloc(sizeof *h);
    if (!h)
        abort();
    *h = (struct hop){ fn, arg };
    __tsan_release(h);
    *run = hop_run;
    return h;
}
#define GCD_JOB(fn, arg, run) hop_new((fn), (arg), &(run))
#else
#define GCD_JOB(fn, arg, run) ((run) = (fn), (arg))
#endif

static void gcd_submit(void *ctx, void (*fn)(void *), void *arg)
{
    gcd *g = ctx;
    void (*run)(void *);
    void *job = GCD_JOB(fn, arg, run);
    dispatch_async_f(g->q, job, run);
}

static void gcd_after(void *ctx, uint64_t delay_ns, void (*fn)(void *), void *arg)
{
    gcd *g = ctx;
    void (*run)(void *);
    void *job = GCD_JOB(fn, arg, run);
    dispatch_after_f(dispatch_time(DISPATCH_TIME_NOW, (int64_t)delay_ns), g->q, job, run);
}

static void gcd_free(void *ctx)
{
    free(ctx);
}

int bench_gcd_impl(bench_impl *impl)
{
    gcd *g = calloc(1, sizeof *g);

    memset(impl, 0, sizeof *impl);
    if (!g) {
        bench_fail("out of memory");
        return -1;
    }
    g->q = dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0);
    g->jobs = (bench_jobs){ gcd_submit, gcd_after, bench_threads(), 1 };
    impl->name = "gcd";
    impl->w1 = bench_jobs_w1;
    impl->w2 = bench_jobs_w2;
    impl->w3 = bench_jobs_w3;
    impl->w4 = bench_jobs_w4;
    /* W5 is not measured: GCD keeps continuations in caches of its own,
     * which mallinfo2 does not see as they are queued. */
    impl->ctx = g;
    impl->fini = gcd_free;
    return 0;
}
