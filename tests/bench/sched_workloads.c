/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/sched_workloads.c - W1-W5 against a libsched host.
 *
 * Every wait is a sched_block on a future, so the same code drives a
 * threaded backend (work runs on its threads) and a simulated one (work
 * runs inside the block, on a virtual clock).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#if defined(HAVE_MALLINFO2)
#include <malloc.h>
#endif

#include <stdatomic.h>

#include "conformance_platform.h"
#include "sched/test.h"
#include "sched_workloads.h"

void sched_bench_line(FILE *out, const char *impl, const char *workload, const char *metric,
                      double value)
{
    fprintf(out, "bench impl=%s workload=%s metric=%s value=%.1f\n", impl, workload, metric, value);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

double sched_bench_quantile(uint64_t *v, size_t n, double q)
{
    size_t i;
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u64);
    i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i];
}

/* ---- a countdown: the last of n tiny tasks sends on a oneshot ------------ */

struct countdown {
    _Atomic size_t left;
    sched_oneshot *done;
};

/* k of the tasks are done (ran, or will never run); the last sends. */
static void count_down(struct countdown *c, size_t k)
{
    if (atomic_fetch_sub_explicit(&c->left, k, memory_order_acq_rel) == k)
        sched_oneshot_send(c->done, (sched_value){ .u = 1 });
}

static sched_value tick(void *arg)
{
    count_down(arg, 1);
    return (sched_value){ .u = 0 };
}

/* Spawn n detached tiny tasks and block until all ran. */
static int spawn_and_wait(sched_executor *ex, size_t n)
{
    struct countdown c;
    sched_future *done;
    size_t i;
    int rc;

    atomic_init(&c.left, n);
    rc = sched_oneshot_new(&c.done);
    if (rc != 0)
        return rc;
    done = sched_oneshot_recv(c.done);
    for (i = 0; i < n; i++) {
        rc = sched_spawn(ex, sched_future_fn(tick, &c), NULL);
        if (rc != 0) {
            sched_future_drop(done);
            return rc;
        }
    }
    return sched_block(ex, done, NULL, NULL);
}

int sched_bench_w1(sched_host *h, size_t n, double *ns_per_task)
{
    sched_executor *ex;
    uint64_t t0;
    int rc = sched_executor_new(h, &ex);
    if (rc != 0)
        return rc;
    t0 = sched_host_now(NULL);
    rc = spawn_and_wait(ex, n);
    *ns_per_task = (double)(sched_host_now(NULL) - t0) / (double)n;
    sched_executor_free(ex);
    return rc;
}

/* ---- W2: fan-out/fan-in through join handles ------------------------------ */

static sched_value unit(void *arg)
{
    return (sched_value){ .ptr = arg };
}

int sched_bench_w2(sched_host *h, size_t rounds, size_t fan, double *ns_per_task)
{
    sched_executor *ex;
    sched_future **joins = malloc(fan * sizeof *joins);
    uint64_t t0;
    size_t r, i;
    int rc;

    if (!joins)
        return SCHED_ENOMEM;
    rc = sched_executor_new(h, &ex);
    if (rc != 0) {
        free(joins);
        return rc;
    }
    t0 = sched_host_now(NULL);
    for (r = 0; r < rounds && rc == 0; r++) {
        sched_value all;
        for (i = 0; i < fan; i++) {
            sched_task *t = NULL;
            rc = sched_spawn(ex, sched_future_fn(unit, NULL), &t);
            joins[i] = rc == 0 ? sched_task_join(t) : NULL;
        }
        rc = sched_block(ex, sched_all(joins, fan), &all, NULL);
        if (rc == 0)
            free(all.ptr);
    }
    *ns_per_task = (double)(sched_host_now(NULL) - t0) / (double)(rounds * fan);
    sched_executor_free(ex);
    free(joins);
    return rc;
}

/* ---- W3: a chain of wake-ups ---------------------------------------------- */

struct hop {
    sched_future base;
    sched_future *recv;         /* our oneshot's receiving end */
    sched_oneshot *next;        /* the next hop's oneshot, or NULL */
    uint64_t *lat;
    _Atomic size_t *armed;
    int counted;
};

static int hop_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct hop *hp = (struct hop *)f;
    sched_value v;
    int rc = sched_future_poll(hp->recv, cx, &v);
    if (rc == SCHED_PENDING) {
        if (!hp->counted) {
            hp->counted = 1;
            atomic_fetch_add_explicit(hp->armed, 1, memory_order_release);
        }
        return rc;
    }
    *hp->lat = sched_host_now(NULL) - v.u;
    if (hp->next)
        sched_oneshot_send(hp->next, (sched_value){ .u = sched_host_now(NULL) });
    out->u = 0;
    return rc;
}

static void hop_drop(sched_future *f)
{
    struct hop *hp = (struct hop *)f;
    sched_future_drop(hp->recv);
    free(hp);
}

static const sched_future_ops hop_ops = { hop_poll, hop_drop };

int sched_bench_w3(sched_host *h, size_t n, double *median_hop_ns, double *p99_hop_ns)
{
    sched_executor *ex = NULL;
    sched_oneshot **os = calloc(n, sizeof *os);
    uint64_t *lat = calloc(n, sizeof *lat);
    _Atomic size_t armed = 0;
    sched_task *last = NULL;
    size_t i;
    int rc = n && os && lat ? sched_executor_new(h, &ex) : SCHED_ENOMEM;

    for (i = 0; rc == 0 && i < n; i++)
        rc = sched_oneshot_new(&os[i]);
    for (i = 0; rc == 0 && i < n; i++) {
        struct hop *hp = malloc(sizeof *hp);
        if (!hp) {
            rc = SCHED_ENOMEM;
            break;
        }
        hp->base.ops = &hop_ops;
        hp->recv = sched_oneshot_recv(os[i]);
        hp->next = i + 1 < n ? os[i + 1] : NULL;
        hp->lat = &lat[i];
        hp->armed = &armed;
        hp->counted = 0;
        rc = sched_spawn(ex, &hp->base, i + 1 == n ? &last : NULL);
    }
    /* Every hop waits on its oneshot before the first is kicked, so a hop
     * measures one wake-up, not a spawn. */
    while (rc == 0 && atomic_load_explicit(&armed, memory_order_acquire) < n)
        rc = sched_block(ex, sched_timer(h, 1000000), NULL, NULL);
    if (rc == 0) {
        sched_oneshot_send(os[0], (sched_value){ .u = sched_host_now(NULL) });
        rc = sched_block(ex, sched_task_join(last), NULL, NULL);
        /* Hop 0 measured the kick, not a hop. */
        *median_hop_ns = n > 1 ? sched_bench_quantile(lat + 1, n - 1, 0.5) : 0;
        *p99_hop_ns = n > 1 ? sched_bench_quantile(lat + 1, n - 1, 0.99) : 0;
    } else {
        /* Out of memory part-way: a benchmark reports the failure and
         * leaves the host's close to drop the hops already spawned. */
        *median_hop_ns = *p99_hop_ns = 0;
    }
    sched_executor_free(ex);
    free(os);
    free(lat);
    return rc;
}

/* ---- W4: timer lateness ---------------------------------------------------- */

/* A sleeping task.  At spawn (at_spawn) its timer is created in the
 * spawning loop, as a user writes "sleep for d" when starting the task,
 * and lateness counts from that creation: what the user sees, the time
 * the task waited behind the other 9 999 spawns included.  Otherwise the
 * timer is created at the task's first poll, and lateness counts from
 * there: the timer path alone.  The clock is read just before and just
 * after sched_timer, as the peers' harness brackets its arming call.
 * Tasks are spawned detached and the last to resume wakes the waiter,
 * as the peers' jobs count down a latch: no join handle, no all-of. */
struct late {
    sched_coro co;
    sched_host *h;
    sched_future *timer;    /* created at spawn, not yet awaited */
    uint64_t delay;
    uint64_t *due_lo, *due_hi, *ran;
    struct countdown *left;
};

static sched_future *late_arm(struct late *st)
{
    sched_future *t;
    *st->due_lo = sched_host_now(st->h) + st->delay;
    t = sched_timer(st->h, st->delay);
    *st->due_hi = sched_host_now(st->h) + st->delay;
    return t;
}

static int late_poll(sched_future *f, sched_context *cx, sched_value *out)
{
    struct late *st = (struct late *)f;
    SCHED_ASYNC_BEGIN(st);
    if (!st->timer)
        st->timer = late_arm(st);
    SCHED_TRY_AWAIT(st, st->timer, NULL);
    st->timer = NULL;
    *st->ran = sched_host_now(st->h);
    count_down(st->left, 1);
    SCHED_RETURN(st, out, (sched_value){ .u = 0 });
    SCHED_ASYNC_END(st);
}

static void late_drop(sched_future *f)
{
    struct late *st = (struct late *)f;
    if (st && st->co.pc == 0)
        sched_future_drop(st->timer);
    sched_coro_drop_default(f);
}

static const sched_future_ops late_ops = { late_poll, late_drop };

int sched_bench_w4_times(sched_host *h, size_t n, const uint64_t *delay_ns, int at_spawn,
                         uint64_t *due, uint64_t *ran)
{
    struct countdown c;
    sched_executor *ex;
    sched_future *done;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    size_t i;
    int rc = sched_executor_new(h, &ex), brc;

    if (rc != 0)
        return rc;
    atomic_init(&c.left, n);
    rc = sched_oneshot_new(&c.done);
    if (rc != 0) {
        sched_executor_free(ex);
        return rc;
    }
    done = sched_oneshot_recv(c.done);
    for (i = 0; i < n; i++) {
        struct late *st = (struct late *)sched_coro_new(sizeof *st, &late_ops);
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        if (st) {
            st->h = h;
            st->delay = delay_ns ? delay_ns[i] : (1 + seed % 50) * 1000000u;
            st->due_lo = &due[i];
            st->due_hi = &due[n + i];
            st->ran = &ran[i];
            st->left = &c;
            if (at_spawn)
                st->timer = late_arm(st);
        }
        rc = sched_spawn(ex, st ? &st->co.base : NULL, NULL);
        if (rc != 0)
            break;
    }
    /* The tasks never spawned are done; wait for those that were (they
     * count down c, on this stack), whatever the outcome. */
    if (i < n || n == 0)
        count_down(&c, n - i);
    brc = sched_block(ex, done, NULL, NULL);
    sched_executor_free(ex);
    return rc != 0 ? rc : brc;
}

int sched_bench_w4_stats(const uint64_t *due, const uint64_t *ran, size_t n, double *mean_ns,
                         double *p99_ns, uint64_t *early, double *max_early_ns)
{
    uint64_t *late = malloc((n ? n : 1) * sizeof *late);
    double sum = 0;

    if (!late)
        return SCHED_ENOMEM;
    *early = 0;
    *max_early_ns = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = due[i], hi = due[n + i];
        if (ran[i] < lo) {
            ++*early;
            if ((double)(lo - ran[i]) > *max_early_ns)
                *max_early_ns = (double)(lo - ran[i]);
        }
        late[i] = ran[i] > hi ? ran[i] - hi : 0;
        sum += (double)late[i];
    }
    *mean_ns = n ? sum / (double)n : 0;
    *p99_ns = sched_bench_quantile(late, n, 0.99);
    free(late);
    return 0;
}

int sched_bench_w4_delays(sched_host *h, size_t n, const uint64_t *delay_ns, int at_spawn,
                          double *mean_late_us, double *p99_late_us, uint64_t *early_fires)
{
    uint64_t *due = calloc(2 * n + 1, sizeof *due);
    uint64_t *ran = calloc(n + 1, sizeof *ran);
    double mean = 0, p99 = 0, max_early;
    int rc = due && ran ? sched_bench_w4_times(h, n, delay_ns, at_spawn, due, ran)
                        : SCHED_ENOMEM;

    *early_fires = 0;
    if (rc == 0)
        rc = sched_bench_w4_stats(due, ran, n, &mean, &p99, early_fires, &max_early);
    *mean_late_us = mean / 1000.0;
    *p99_late_us = p99 / 1000.0;
    free(due);
    free(ran);
    return rc;
}

int sched_bench_w4(sched_host *h, size_t n, double *mean_late_us, double *p99_late_us,
                   uint64_t *early_fires)
{
    return sched_bench_w4_delays(h, n, NULL, 1, mean_late_us, p99_late_us, early_fires);
}

/* ---- W5: bytes per queued task ----------------------------------------------- */

#if defined(HAVE_MALLINFO2)
static _Atomic uint32_t gate, held;

/* Heap bytes in use, mmap'd blocks included, as the peers' W5 counts. */
static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Occupies a worker until the gate opens. */
static sched_value hold(void *arg)
{
    (void)arg;
    atomic_fetch_add_explicit(&held, 1, memory_order_relaxed);
    while (!atomic_load_explicit(&gate, memory_order_acquire))
        conf_sleep_ns(1000000);
    return (sched_value){ .u = 0 };
}
#endif

int sched_bench_w5_once(sched_host *h, size_t n, double *bytes_per_task, size_t *ran)
{
#if defined(HAVE_MALLINFO2)
    struct countdown c;
    sched_executor *ex;
    sched_future *done;
    size_t before, after, i, holders = 0, cpus;
    int rc = sched_executor_new(h, &ex), brc;

    *bytes_per_task = 0;
    *ran = 0;
    if (rc != 0)
        return rc;
    /* On a threaded backend, occupy every worker (twice over: the pool may
     * be larger than the CPU count) so the tiny tasks stay queued.  A
     * simulated backend runs nothing until we block. */
    atomic_store(&gate, 0);
    atomic_store(&held, 0);
    cpus = sched_host_num_cpus(h);
    if (sched_as_test(h) == NULL)
        holders = 2 * cpus + 2;
    for (i = 0; rc == 0 && i < holders; i++)
        rc = sched_spawn(ex, sched_future_fn(hold, NULL), NULL);
    if (holders) {
        /* Wait, not through the scheduler, whose workers are what we are
         * occupying, until a holder runs on each CPU's worker (or a
         * second has passed: a pool configured smaller), then 20 ms more
         * for a pool that adds threads as its workers block (GCD).  A
         * worker left free shows in *ran, not in the figure. */
        for (i = 0; i < 1000 && atomic_load(&held) < cpus; i++)
            conf_sleep_ns(1000000);
        conf_sleep_ns(20000000);
    }
    atomic_init(&c.left, n);
    if (rc == 0)
        rc = sched_oneshot_new(&c.done);
    if (rc != 0) {
        atomic_store(&gate, 1);
        sched_executor_free(ex);
        return rc;
    }
    done = sched_oneshot_recv(c.done);
    before = heap_bytes();
    for (i = 0; rc == 0 && i < n; i++)
        rc = sched_spawn(ex, sched_future_fn(tick, &c), NULL);
    after = heap_bytes();
    *ran = n - atomic_load(&c.left);
    atomic_store(&gate, 1);
    /* Tasks not spawned are done; wait for those that were. */
    if (i < n || n == 0)
        count_down(&c, n - i);
    brc = sched_block(ex, done, NULL, NULL);
    if (rc == 0)
        rc = brc;
    *bytes_per_task = after > before ? (double)(after - before) / (double)n : 0;
    sched_executor_free(ex);
    return rc;
#else
    (void)h, (void)n;
    *bytes_per_task = 0;
    *ran = 0;
    return SCHED_ENOTSUP;
#endif
}

int sched_bench_w5(sched_host *h, size_t n, double *bytes_per_task)
{
    size_t ran = 0;
    int rc = 0;

    for (int tries = 0; tries < 3; tries++) {
        rc = sched_bench_w5_once(h, n, bytes_per_task, &ran);
        if (rc != 0 || ran == 0)
            return rc;
    }
    *bytes_per_task = 0;
    return SCHED_EAGAIN;
}
