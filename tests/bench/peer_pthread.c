/*
 * tests/bench/peer_pthread.c - the pool a C programmer writes by hand: one
 * mutex, one condition variable, a linked FIFO of malloc'd jobs, and a
 * timer thread over a binary heap that hands due jobs to the pool.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

typedef struct job {
    struct job *next;
    void (*fn)(void *);
    void *arg;
} job;

typedef struct tentry {
    uint64_t due;
    void (*fn)(void *);
    void *arg;
} tentry;

typedef struct ppool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    unsigned idle;
    int stop;
    unsigned n;
    pthread_t *th;
    /* timers */
    pthread_mutex_t tmu;
    pthread_cond_t tcv;
    tentry *heap;
    size_t hn, hcap;
    int tstop;
    pthread_t tth;
} ppool;

static void *pp_worker(void *arg)
{
    ppool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        job *j = p->head;
        if (!j) {
            if (p->stop)
                break;
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
            continue;
        }
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pp_submit(ppool *p, void (*fn)(void *), void *arg)
{
    job *j = malloc(sizeof *j);
    j->next = NULL;
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    if (p->idle)
        pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *pp_timer_thread(void *arg)
{
    ppool *p = arg;
    pthread_mutex_lock(&p->tmu);
    while (!p->tstop) {
        uint64_t now = bench_now_ns();
        if (p->hn > 0 && p->heap[0].due <= now) {
            tentry t = p->heap[0];
            size_t i = 0;
            p->heap[0] = p->heap[--p->hn];
            for (;;) {      /* sift down */
                size_t c = 2 * i + 1;
                if (c >= p->hn)
                    break;
                if (c + 1 < p->hn && p->heap[c + 1].due < p->heap[c].due)
                    c++;
                if (p->heap[i].due <= p->heap[c].due)
                    break;
                tentry x = p->heap[i];
                p->heap[i] = p->heap[c];
                p->heap[c] = x;
                i = c;
            }
            pthread_mutex_unlock(&p->tmu);
            pp_submit(p, t.fn, t.arg);
            pthread_mutex_lock(&p->tmu);
        } else if (p->hn > 0) {
            struct timespec ts = { (time_t)(p->heap[0].due / 1000000000u),
                                   (long)(p->heap[0].due % 1000000000u) };
            pthread_cond_timedwait(&p->tcv, &p->tmu, &ts);
        } else {
            pthread_cond_wait(&p->tcv, &p->tmu);
        }
    }
    pthread_mutex_unlock(&p->tmu);
    return NULL;
}

static void pp_after(ppool *p, uint64_t delay_ns, void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&p->tmu);
    if (p->hn == p->hcap) {
        p->hcap = p->hcap ? 2 * p->hcap : 64;
        p->heap = realloc(p->heap, p->hcap * sizeof *p->heap);
    }
    size_t i = p->hn++;
    p->heap[i] = (tentry){ bench_now_ns() + delay_ns, fn, arg };
    while (i > 0 && p->heap[(i - 1) / 2].due > p->heap[i].due) {
        tentry x = p->heap[i];
        p->heap[i] = p->heap[(i - 1) / 2];
        p->heap[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
    if (i == 0)
        pthread_cond_signal(&p->tcv);
    pthread_mutex_unlock(&p->tmu);
}

static ppool *pp_new(void)
{
    ppool *p = calloc(1, sizeof *p);
    pthread_condattr_t ca;

    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->tmu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->tcv, &ca);
    pthread_condattr_destroy(&ca);
    p->n = bench_threads();
    p->th = calloc(p->n, sizeof *p->th);
    for (unsigned i = 0; i < p->n; i++)
        pthread_create(&p->th[i], NULL, pp_worker, p);
    pthread_create(&p->tth, NULL, pp_timer_thread, p);
    return p;
}

static void pp_free(void *ctx)
{
    ppool *p = ctx;
    pthread_mutex_lock(&p->tmu);
    p->tstop = 1;
    pthread_cond_signal(&p->tcv);
    pthread_mutex_unlock(&p->tmu);
    pthread_join(p->tth, NULL);
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->th[i], NULL);
    free(p->th);
    free(p->heap);
    free(p);
}

/* ---- workloads ---------------------------------------------------------- */

static bench_latch latch;

static void tiny(void *arg)
{
    (void)arg;
    bench_latch_count_down(&latch);
}

static int pp_w1(void *ctx, size_t n, double *ns)
{
    bench_latch_init(&latch, n);
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        pp_submit(ctx, tiny, NULL);
    bench_latch_wait(&latch);
    *ns = (double)(bench_now_ns() - t0) / (double)n;
    bench_latch_fini(&latch);
    return bench_latch_ok(&latch);
}

static int pp_w2(void *ctx, size_t rounds, size_t width, double *ns)
{
    uint64_t t0 = bench_now_ns();
    for (size_t r = 0; r < rounds; r++) {
        bench_latch_init(&latch, width);
        for (size_t i = 0; i < width; i++)
            pp_submit(ctx, tiny, NULL);
        bench_latch_wait(&latch);
        bench_latch_fini(&latch);
    }
    *ns = (double)(bench_now_ns() - t0) / (double)(rounds * width);
    return bench_latch_ok(&latch);
}

static ppool *chain_pool;
static uint64_t *chain_sent, *chain_start;
static size_t chain_n;

static void chain_step(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    chain_start[i] = bench_now_ns();
    if (i + 1 < chain_n) {
        chain_sent[i + 1] = bench_now_ns();
        pp_submit(chain_pool, chain_step, (void *)(uintptr_t)(i + 1));
    }
    tiny(NULL);
}

static int pp_w3(void *ctx, size_t n, double *median, double *p99)
{
    uint64_t *hop = malloc(n * sizeof *hop);
    chain_pool = ctx;
    chain_n = n;
    chain_sent = calloc(n, sizeof *chain_sent);
    chain_start = calloc(n, sizeof *chain_start);
    bench_latch_init(&latch, n);
    chain_sent[0] = bench_now_ns();
    pp_submit(ctx, chain_step, (void *)(uintptr_t)0);
    bench_latch_wait(&latch);
    bench_latch_fini(&latch);
    for (size_t i = 0; i < n; i++)
        hop[i] = chain_start[i] - chain_sent[i];
    bench_percentiles(hop, n, median, p99);
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

static int pp_w4(void *ctx, const w4_spec *s, w4_result *out)
{
    t_due = calloc(2 * s->n, sizeof *t_due);
    t_ran = calloc(s->n, sizeof *t_ran);
    bench_latch_init(&latch, s->n);
    for (size_t i = 0; i < s->n; i++) {
        t_due[i] = bench_now_ns() + s->delay_ns[i];
        pp_after(ctx, s->delay_ns[i], timer_fired, (void *)(uintptr_t)i);
        t_due[s->n + i] = bench_now_ns() + s->delay_ns[i];
    }
    bench_latch_wait(&latch);
    bench_latch_fini(&latch);
    bench_lateness(t_due, t_ran, s->n, out);
    free(t_due);
    free(t_ran);
    return bench_latch_ok(&latch);
}

static bench_gate gate;
static void hold(void *arg)
{
    (void)arg;
    bench_gate_hold(&gate);
}

static int pp_w5(void *ctx, size_t n, double *bytes)
{
    ppool *p = ctx;
    bench_gate_init(&gate);
    for (unsigned i = 0; i < p->n; i++)
        pp_submit(p, hold, NULL);
    bench_gate_wait_entered(&gate, p->n);
    bench_latch_init(&latch, n);
    size_t before = bench_heap_bytes();
    for (size_t i = 0; i < n; i++)
        pp_submit(p, tiny, NULL);
    *bytes = (double)(bench_heap_bytes() - before) / (double)n;
    bench_gate_open(&gate);
    bench_latch_wait(&latch);
    bench_latch_fini(&latch);
    bench_gate_fini(&gate);
    return bench_latch_ok(&latch);
}

int bench_pthread_impl(bench_impl *impl)
{
    memset(impl, 0, sizeof *impl);
    impl->name = "pthread-pool";
    impl->w1 = pp_w1;
    impl->w2 = pp_w2;
    impl->w3 = pp_w3;
    impl->w4 = pp_w4;
    impl->w5 = pp_w5;
    impl->ctx = pp_new();
    impl->fini = pp_free;
    return 0;
}
