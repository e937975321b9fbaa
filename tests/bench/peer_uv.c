/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/peer_uv.c - libuv: uv_queue_work on its thread pool (sized
 * to one thread per CPU through UV_THREADPOOL_SIZE) for W1-W3 and W5, and
 * uv_timer for W4 (milliseconds; the delay is rounded up, so that, as for
 * every other implementation, a timer is asked for at least its delay).
 * libuv queues work only from the loop thread, and its completion
 * callbacks run there, so W3's chain goes worker -> loop -> worker: the
 * way a libuv program chains work.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bench.h"

static bench_gate gate;
static size_t works_done, afters_done;

static void work_tiny(uv_work_t *req)
{
    (void)req;
    __atomic_fetch_add(&works_done, 1, __ATOMIC_RELAXED);
}

static void work_hold(uv_work_t *req)
{
    (void)req;
    bench_gate_hold(&gate);
}

static void after_free(uv_work_t *req, int status)
{
    (void)status;
    afters_done++;
    free(req);
}

static int queue_tiny(uv_loop_t *loop, uv_work_cb cb)
{
    uv_work_t *req = malloc(sizeof *req);
    return uv_queue_work(loop, req, cb, after_free);
}

static int check(size_t n)
{
    if (works_done == n && afters_done == n)
        return 0;
    bench_fail("%zu of %zu works ran, %zu completed", works_done, n, afters_done);
    return -1;
}

static int uvp_w1(void *ctx, size_t n, double *ns)
{
    uv_loop_t *loop = ctx;
    works_done = afters_done = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        queue_tiny(loop, work_tiny);
    uv_run(loop, UV_RUN_DEFAULT);
    *ns = (double)(bench_now_ns() - t0) / (double)n;
    return check(n);
}

static int uvp_w2(void *ctx, size_t rounds, size_t width, double *ns)
{
    uv_loop_t *loop = ctx;
    works_done = afters_done = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < width; i++)
            queue_tiny(loop, work_tiny);
        uv_run(loop, UV_RUN_DEFAULT);
    }
    *ns = (double)(bench_now_ns() - t0) / (double)(rounds * width);
    return check(rounds * width);
}

static uint64_t *chain_sent, *chain_start;
static size_t chain_n;

struct chain_req {
    uv_work_t req;
    size_t i;
};

static void chain_work(uv_work_t *req)
{
    struct chain_req *c = (struct chain_req *)req;
    chain_start[c->i] = bench_now_ns();
    __atomic_fetch_add(&works_done, 1, __ATOMIC_RELAXED);
}

static void chain_after(uv_work_t *req, int status)
{
    struct chain_req *c = (struct chain_req *)req;
    (void)status;
    afters_done++;
    if (c->i + 1 < chain_n) {
        struct chain_req *next = malloc(sizeof *next);
        next->i = c->i + 1;
        chain_sent[next->i] = bench_now_ns();
        uv_queue_work(req->loop, &next->req, chain_work, chain_after);
    }
    free(c);
}

static int uvp_w3(void *ctx, size_t n, double *median, double *p99)
{
    uv_loop_t *loop = ctx;
    uint64_t *hop = malloc(n * sizeof *hop);
    struct chain_req *first = malloc(sizeof *first);
    works_done = afters_done = 0;
    chain_n = n;
    chain_sent = calloc(n, sizeof *chain_sent);
    chain_start = calloc(n, sizeof *chain_start);
    first->i = 0;
    chain_sent[0] = bench_now_ns();
    uv_queue_work(loop, &first->req, chain_work, chain_after);
    uv_run(loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < n; i++)
        hop[i] = chain_start[i] - chain_sent[i];
    bench_percentiles(hop + 1, n - 1, median, p99);
    free(hop);
    free(chain_sent);
    free(chain_start);
    return check(n);
}

static uint64_t *t_ran;

static void timer_fired(uv_timer_t *t)
{
    t_ran[(uintptr_t)t->data] = bench_now_ns();
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

static int uvp_w4(void *ctx, const w4_spec *s, w4_result *out)
{
    uv_loop_t *loop = ctx;
    uint64_t *due = calloc(2 * s->n, sizeof *due);
    double c0;
    int rc;
    t_ran = calloc(s->n, sizeof *t_ran);
    c0 = bench_cpu_seconds();
    for (size_t i = 0; i < s->n; i++) {
        uv_timer_t *t = malloc(sizeof *t);
        uv_timer_init(loop, t);
        t->data = (void *)(uintptr_t)i;
        due[i] = bench_now_ns() + s->delay_ns[i];
        /* uv_timer_start counts from the loop's cached clock, which this
         * loop of arming would leave milliseconds behind. */
        uv_update_time(loop);
        uv_timer_start(t, timer_fired, (s->delay_ns[i] + 999999) / 1000000, 0);
        due[s->n + i] = bench_now_ns() + s->delay_ns[i];
    }
    uv_run(loop, UV_RUN_DEFAULT);
    out->cpu_ms = (bench_cpu_seconds() - c0) * 1e3;
    rc = bench_lateness(due, t_ran, s->n, out);
    free(due);
    free(t_ran);
    return rc;
}

static int uvp_w5(void *ctx, size_t n, double *bytes)
{
    uv_loop_t *loop = ctx;
    unsigned nt = bench_threads();
    bench_gate_init(&gate);
    for (unsigned i = 0; i < nt; i++)
        queue_tiny(loop, work_hold);
    bench_gate_wait_entered(&gate, nt);
    works_done = afters_done = 0;
    size_t before = bench_heap_bytes();
    for (size_t i = 0; i < n; i++)
        queue_tiny(loop, work_tiny);
    *bytes = (double)(bench_heap_bytes() - before) / (double)n;
    size_t ran = __atomic_load_n(&works_done, __ATOMIC_RELAXED);
    bench_gate_open(&gate);
    uv_run(loop, UV_RUN_DEFAULT);
    bench_gate_fini(&gate);
    afters_done -= nt;
    if (check(n) != 0)
        return -1;
    return bench_w5_refused(ran, n);
}

static void uvp_fini(void *ctx)
{
    uv_loop_close(ctx);
    free(ctx);
}

int bench_uv_impl(bench_impl *impl)
{
    char n[16];
    uv_loop_t *loop = malloc(sizeof *loop);

    /* Read by libuv when its pool first starts. */
    snprintf(n, sizeof n, "%u", bench_threads());
    setenv("UV_THREADPOOL_SIZE", n, 0);
    if (uv_loop_init(loop) != 0) {
        free(loop);
        bench_fail("uv_loop_init failed");
        return -1;
    }
    memset(impl, 0, sizeof *impl);
    impl->name = "libuv";
    impl->w1 = uvp_w1;
    impl->w2 = uvp_w2;
    impl->w3 = uvp_w3;
    impl->w4 = uvp_w4;
    impl->w5 = uvp_w5;
    impl->ctx = loop;
    impl->fini = uvp_fini;
    return 0;
}
