/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/peer_glib.c - glib: GThreadPool for W1-W3 and W5, and
 * g_timeout_source on a GMainContext for W4 (glib's timers take
 * milliseconds; the delay is rounded up, so that, as for every other
 * implementation, a timer is asked for at least its delay).
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "bench.h"

static bench_latch latch;
static bench_gate gate;
static int hold_marker;

static void tiny(gpointer data, gpointer user)
{
    (void)user;
    if (data == &hold_marker)
        bench_gate_hold(&gate);
    else
        bench_latch_count_down(&latch);
}

static GThreadPool *new_pool(GFunc fn)
{
    return g_thread_pool_new(fn, NULL, (gint)bench_threads(), TRUE, NULL);
}

static int gl_w1(void *ctx, size_t n, double *ns)
{
    GThreadPool *p = new_pool(tiny);
    (void)ctx;
    bench_latch_init(&latch, n);
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        g_thread_pool_push(p, &latch, NULL);
    bench_latch_wait(&latch);
    *ns = (double)(bench_now_ns() - t0) / (double)n;
    g_thread_pool_free(p, FALSE, TRUE);
    bench_latch_fini(&latch);
    return bench_latch_ok(&latch);
}

static int gl_w2(void *ctx, size_t rounds, size_t width, double *ns)
{
    GThreadPool *p = new_pool(tiny);
    int rc = 0;
    (void)ctx;
    uint64_t t0 = bench_now_ns();
    for (size_t r = 0; r < rounds && rc == 0; r++) {
        bench_latch_init(&latch, width);
        for (size_t i = 0; i < width; i++)
            g_thread_pool_push(p, &latch, NULL);
        bench_latch_wait(&latch);
        bench_latch_fini(&latch);
        rc = bench_latch_ok(&latch);
    }
    *ns = (double)(bench_now_ns() - t0) / (double)(rounds * width);
    g_thread_pool_free(p, FALSE, TRUE);
    return rc;
}

static GThreadPool *chain_pool;
static uint64_t *chain_sent, *chain_start;
static size_t chain_n;

/* data is the task's index + 1 (GThreadPool refuses NULL). */
static void chain_step(gpointer data, gpointer user)
{
    size_t i = (size_t)(uintptr_t)data - 1;
    (void)user;
    chain_start[i] = bench_now_ns();
    if (i + 1 < chain_n) {
        chain_sent[i + 1] = bench_now_ns();
        g_thread_pool_push(chain_pool, (gpointer)(uintptr_t)(i + 2), NULL);
    }
    bench_latch_count_down(&latch);
}

static int gl_w3(void *ctx, size_t n, double *median, double *p99)
{
    uint64_t *hop = malloc(n * sizeof *hop);
    (void)ctx;
    chain_pool = new_pool(chain_step);
    chain_n = n;
    chain_sent = calloc(n, sizeof *chain_sent);
    chain_start = calloc(n, sizeof *chain_start);
    bench_latch_init(&latch, n);
    chain_sent[0] = bench_now_ns();
    g_thread_pool_push(chain_pool, (gpointer)(uintptr_t)1, NULL);
    bench_latch_wait(&latch);
    bench_latch_fini(&latch);
    g_thread_pool_free(chain_pool, FALSE, TRUE);
    for (size_t i = 0; i < n; i++)
        hop[i] = chain_start[i] - chain_sent[i];
    bench_percentiles(hop + 1, n - 1, median, p99);
    free(hop);
    free(chain_sent);
    free(chain_start);
    return bench_latch_ok(&latch);
}

static uint64_t *t_ran;
static size_t t_left;

static gboolean timer_fired(gpointer data)
{
    t_ran[(uintptr_t)data] = bench_now_ns();
    t_left--;
    return G_SOURCE_REMOVE;
}

static int gl_w4(void *ctx, const w4_spec *s, w4_result *out)
{
    GMainContext *mc = g_main_context_new();
    uint64_t *due = calloc(2 * s->n, sizeof *due);
    double c0;
    int rc;
    (void)ctx;
    t_ran = calloc(s->n, sizeof *t_ran);
    t_left = s->n;
    c0 = bench_cpu_seconds();
    for (size_t i = 0; i < s->n; i++) {
        /* The source's expiry is set when it is made: bracket that. */
        due[i] = bench_now_ns() + s->delay_ns[i];
        GSource *src = g_timeout_source_new((guint)((s->delay_ns[i] + 999999) / 1000000));
        g_source_set_callback(src, timer_fired, (gpointer)(uintptr_t)i, NULL);
        g_source_attach(src, mc);
        due[s->n + i] = bench_now_ns() + s->delay_ns[i];
        g_source_unref(src);
    }
    while (t_left > 0)
        g_main_context_iteration(mc, TRUE);
    out->cpu_ms = (bench_cpu_seconds() - c0) * 1e3;
    g_main_context_unref(mc);
    rc = bench_lateness(due, t_ran, s->n, out);
    free(due);
    free(t_ran);
    return rc;
}

static int gl_w5(void *ctx, size_t n, double *bytes)
{
    GThreadPool *p = new_pool(tiny);
    unsigned nt = bench_threads();
    (void)ctx;
    bench_gate_init(&gate);
    for (unsigned i = 0; i < nt; i++)
        g_thread_pool_push(p, &hold_marker, NULL);
    bench_gate_wait_entered(&gate, nt);
    bench_latch_init(&latch, n);
    size_t before = bench_heap_bytes();
    for (size_t i = 0; i < n; i++)
        g_thread_pool_push(p, &latch, NULL);
    *bytes = (double)(bench_heap_bytes() - before) / (double)n;
    size_t ran = n - atomic_load(&latch.left);
    bench_gate_open(&gate);
    bench_latch_wait(&latch);
    g_thread_pool_free(p, FALSE, TRUE);
    bench_latch_fini(&latch);
    bench_gate_fini(&gate);
    if (bench_latch_ok(&latch) != 0)
        return -1;
    return bench_w5_refused(ran, n);
}

static void gl_fini(void *ctx)
{
    (void)ctx;
}

int bench_glib_impl(bench_impl *impl)
{
    memset(impl, 0, sizeof *impl);
    impl->name = "glib";
    impl->w1 = gl_w1;
    impl->w2 = gl_w2;
    impl->w3 = gl_w3;
    impl->w4 = gl_w4;
    impl->w5 = gl_w5;
    impl->fini = gl_fini;
    return 0;
}
