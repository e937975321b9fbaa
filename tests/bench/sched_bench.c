/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/sched_bench.c - sched-bench: the W1-W5 workloads against
 * libsched backends and the peers, in one run, as one table.
 *
 *   sched-bench [--quick] [--repeat N] [--only NAME,...] [--workloads W1,...]
 *               [--backends NAME,...] [--w1-tasks N] [--w2-rounds N]
 *               [--w2-width N] [--w4-tasks N] [--w4-shift-ms N]
 *               [--w4-spawn-only]
 *
 * The sizes default to the full run (--quick: a small one).  --w4-shift-ms
 * adds N ms to every W4 delay, so that every task still sleeps when the
 * spawning is slow (under callgrind); --w4-spawn-only leaves out the
 * libsched rows' second W4 run (timers made at first poll).
 *
 * Workloads are W1-W5 of libsched(7) and IDLE: the CPU a libsched backend
 * uses over 5 s with nothing to do.
 *
 * Each backend named by --backends (default: linux, and mac when built)
 * appears twice: "libsched:NAME", the whole library (tasks, futures,
 * block) through sched_workloads.c, and "raw:NAME", the plugin driven
 * through its ABI alone.  Every implementation runs alone (created, measured, destroyed) so none
 * steals CPU from another; with --repeat the implementations take turns
 * round by round and the table shows each figure's median.  Besides the
 * table it prints one line per figure:
 *   bench impl=<name> workload=<W..> metric=<metric> value=<n>
 * Exits non-zero when a workload failed its correctness check (a task
 * lost or run twice; a libsched timer early).  See sched-linux(7).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "bench.h"

extern char bench_fail_reason[256];

enum { M_W1, M_W2, M_W3_MED, M_W3_P99, M_W4_MEAN, M_W4_P99, M_W4_EARLY, M_W4_MAXEARLY,
       M_W4_CPU, M_W4_ARM_MEAN, M_W4_ARM_P99, M_W5, M_IDLE, M_COUNT };

static const struct {
    const char *workload, *metric, *unit;
    int lower_better;       /* 0: not a figure of merit (no ratio) */
} metrics[M_COUNT] = {
    { "W1", "ns_per_task", "ns/task", 1 },
    { "W2", "ns_per_task", "ns/task", 1 },
    { "W3", "median_hop_ns", "ns", 1 },
    { "W3", "p99_hop_ns", "ns", 1 },
    { "W4", "mean_late_ns", "ns", 1 },
    { "W4", "p99_late_ns", "ns", 1 },
    { "W4", "early", "timers", 0 },
    { "W4", "max_early_ns", "ns", 0 },
    { "W4", "cpu_ms", "ms", 1 },
    { "W4", "arm_mean_late_ns", "ns", 0 },
    { "W4", "arm_p99_late_ns", "ns", 0 },
    { "W5", "bytes_per_task", "bytes", 1 },
    { "IDLE", "cpu_percent", "%", 0 },
};

#define MAX_IMPLS 12
#define MAX_REPEAT 15

struct row {
    char name[64];
    int ours;
    int have[M_COUNT];
    double v[M_COUNT][MAX_REPEAT];
    int nv[M_COUNT];
};

static struct row rows[MAX_IMPLS];
static int nrows;
static int failures;

/* Every threaded libsched backend this build made. */
#ifdef SCHED_HAVE_MAC
#define BENCH_BACKENDS "linux,mac"
#else
#define BENCH_BACKENDS "linux"
#endif

static struct {
    int quick, repeat;
    const char *only, *workloads, *backends;
    size_t w1_tasks, w2_rounds, w2_width, w4_tasks;
    uint64_t w4_shift_ns;
    int w4_spawn_only;
    int round;
} opt = { .repeat = 1, .workloads = "W1,W2,W3,W4,W5,IDLE", .backends = BENCH_BACKENDS };

static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    if (!list)
        return 1;
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

static struct row *row_for(const bench_impl *impl)
{
    for (int i = 0; i < nrows; i++)
        if (strcmp(rows[i].name, impl->name) == 0)
            return &rows[i];
    if (nrows == MAX_IMPLS)
        return NULL;
    snprintf(rows[nrows].name, sizeof rows[nrows].name, "%s", impl->name);
    rows[nrows].ours = impl->ours;
    return &rows[nrows++];
}

static void record(struct row *r, int m, double v)
{
    r->have[m] = 1;
    if (r->nv[m] < MAX_REPEAT)
        r->v[m][r->nv[m]++] = v;
}

static void failed(const bench_impl *impl, const char *w)
{
    fprintf(stderr, "sched-bench: %s %s failed: %s\n", impl->name, w,
            bench_fail_reason[0] ? bench_fail_reason : "a task was lost or ran twice");
    bench_fail_reason[0] = '\0';
    failures++;
}

/* CPU the process uses while impl sits idle after a burst of work. */
static int idle_cpu(bench_impl *impl, double seconds, double *percent)
{
    double ns, c0;
    struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };

    if (impl->w1(impl->ctx, 10000, &ns) != 0)
        return -1;
    /* Let the pool finish its spin and park before measuring. */
    nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
    c0 = bench_cpu_seconds();
    nanosleep(&ts, NULL);
    *percent = 100.0 * (bench_cpu_seconds() - c0) / seconds;
    return 0;
}

/* Run the chosen workloads once on impl and record the figures. */
static void measure(bench_impl *impl, const w4_spec *w4)
{
    struct row *r = row_for(impl);
    size_t w1n = opt.w1_tasks ? opt.w1_tasks : opt.quick ? 20000 : 1000000;
    double a, b;
    w4_result res;

    if (!r)
        return;
    /* W5 first, on the fresh instance: a pool keeps what it grew for W1
     * (a ring, a cache of task blocks), which would hide the cost of
     * queueing from the figure. */
    if (impl->w5 && listed(opt.workloads, "W5")) {
        if (impl->w5(impl->ctx, opt.quick ? 5000 : 100000, &a) == 0)
            record(r, M_W5, a);
        else
            failed(impl, "W5");
    }
    if (impl->w1 && listed(opt.workloads, "W1")) {
        if (impl->w1(impl->ctx, w1n, &a) == 0)
            record(r, M_W1, a);
        else
            failed(impl, "W1");
    }
    if (impl->w2 && listed(opt.workloads, "W2")) {
        size_t rounds = opt.w2_rounds ? opt.w2_rounds : opt.quick ? 20 : 1000;
        size_t width = opt.w2_width ? opt.w2_width : opt.quick ? 100 : 1000;
        if (impl->w2(impl->ctx, rounds, width, &a) == 0)
            record(r, M_W2, a);
        else
            failed(impl, "W2");
    }
    if (impl->w3 && listed(opt.workloads, "W3")) {
        if (impl->w3(impl->ctx, opt.quick ? 2000 : 100000, &a, &b) == 0) {
            record(r, M_W3_MED, a);
            record(r, M_W3_P99, b);
        } else {
            failed(impl, "W3");
        }
    }
    if (impl->w4 && listed(opt.workloads, "W4")) {
        memset(&res, 0, sizeof res);
        if (impl->w4(impl->ctx, w4, &res) == 0) {
            record(r, M_W4_MEAN, res.mean_ns);
            record(r, M_W4_P99, res.p99_ns);
            record(r, M_W4_EARLY, (double)res.early);
            record(r, M_W4_MAXEARLY, res.max_early_ns);
            record(r, M_W4_CPU, res.cpu_ms);
            if (res.have_arm) {
                record(r, M_W4_ARM_MEAN, res.arm_mean_ns);
                record(r, M_W4_ARM_P99, res.arm_p99_ns);
            }
            if (impl->ours && res.early > 0) {
                bench_fail("%zu timers fired early (by up to %.0f ns)", res.early, res.max_early_ns);
                failed(impl, "W4");
            }
        } else {
            failed(impl, "W4");
        }
    }
    /* Idle CPU: ours only, once per run (it takes seconds). */
    if (impl->ours && impl->w1 && opt.round == 0 && listed(opt.workloads, "IDLE")) {
        if (idle_cpu(impl, opt.quick ? 0.5 : 5.0, &a) == 0)
            record(r, M_IDLE, a);
        else
            failed(impl, "IDLE");
    }
}

static void run_impl(int rc, bench_impl *impl, const char *name, const w4_spec *w4)
{
    if (rc != 0) {
        fprintf(stderr, "sched-bench: %s skipped: %s\n", name, bench_fail_reason);
        bench_fail_reason[0] = '\0';
        return;
    }
    if (listed(opt.only, impl->name))
        measure(impl, w4);
    impl->fini(impl->ctx);
}

/* One round: every implementation in turn. */
static void round_all(const w4_spec *w4)
{
    bench_impl impl;
    char backends[256];

    snprintf(backends, sizeof backends, "%s", opt.backends);
    for (char *save = NULL, *b = strtok_r(backends, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
        char name[80];
#ifdef HAVE_BENCH_LIBSCHED
        snprintf(name, sizeof name, "libsched:%s", b);
        if (listed(opt.only, name))
            run_impl(bench_libsched_impl(&impl, b), &impl, name, w4);
#endif
        snprintf(name, sizeof name, "raw:%s", b);
        if (listed(opt.only, name))
            run_impl(bench_raw_impl(&impl, b), &impl, name, w4);
    }
    if (listed(opt.only, "pthread-pool"))
        run_impl(bench_pthread_impl(&impl), &impl, "pthread-pool", w4);
    if (listed(opt.only, "pool-batch"))
        run_impl(bench_pool_batch_impl(&impl), &impl, "pool-batch", w4);
#ifdef HAVE_BENCH_GCD
    if (listed(opt.only, "gcd"))
        run_impl(bench_gcd_impl(&impl), &impl, "gcd", w4);
#endif
#ifdef HAVE_BENCH_GLIB
    if (listed(opt.only, "glib"))
        run_impl(bench_glib_impl(&impl), &impl, "glib", w4);
#endif
#ifdef HAVE_BENCH_UV
    if (listed(opt.only, "libuv"))
        run_impl(bench_uv_impl(&impl), &impl, "libuv", w4);
#endif
#ifdef HAVE_BENCH_EVENT
    if (listed(opt.only, "libevent"))
        run_impl(bench_event_impl(&impl), &impl, "libevent", w4);
#endif
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(struct row *r, int m)
{
    qsort(r->v[m], (size_t)r->nv[m], sizeof(double), cmp_double);
    return r->v[m][r->nv[m] / 2];
}

static void print_table(void)
{
    printf("%-4s %-15s", "", "metric");
    for (int i = 0; i < nrows; i++)
        printf(" %13s", rows[i].name);
    printf(" %13s %s\n", "best peer", " ratio (best peer / ours; >1 = ours better;"
           " W4: best of the peers that never fired early)");
    for (int m = 0; m < M_COUNT; m++) {
        double best = -1;
        const char *best_name = "-";
        int any = 0;
        for (int i = 0; i < nrows; i++)
            any |= rows[i].have[m];
        if (!any)
            continue;
        printf("%-4s %-15s", metrics[m].workload, metrics[m].metric);
        for (int i = 0; i < nrows; i++) {
            if (!rows[i].have[m]) {
                printf(" %13s", "-");
                continue;
            }
            double v = median_of(&rows[i], m);
            printf(" %13.1f", v);
            /* A timer that fires early is not "less late": W4's best peer
             * is the best of those that never fired early. */
            if (metrics[m].workload[1] == '4' && rows[i].have[M_W4_EARLY] &&
                median_of(&rows[i], M_W4_EARLY) > 0)
                continue;
            if (!rows[i].ours && (best < 0 || v < best)) {
                best = v;
                best_name = rows[i].name;
            }
        }
        printf(" %13s", best_name);
        for (int i = 0; i < nrows && metrics[m].lower_better && best >= 0; i++) {
            if (!rows[i].ours || !rows[i].have[m])
                continue;
            double v = median_of(&rows[i], m);
            if (v > 0)
                printf("  %s %.2fx", rows[i].name, best / v);
            else
                printf("  %s inf", rows[i].name);
        }
        printf("\n");
    }
    for (int i = 0; i < nrows; i++)
        for (int m = 0; m < M_COUNT; m++)
            if (rows[i].have[m])
                printf("bench impl=%s workload=%s metric=%s value=%.1f\n", rows[i].name,
                       metrics[m].workload, metrics[m].metric, median_of(&rows[i], m));
}

static void usage(void)
{
    fprintf(stderr, "usage: sched-bench [--quick] [--repeat N] [--only NAME,...] "
                    "[--workloads W1,...] [--backends NAME,...] [--w1-tasks N]\n"
                    "                   [--w2-rounds N] [--w2-width N] [--w4-tasks N] "
                    "[--w4-shift-ms N] [--w4-spawn-only]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    w4_spec w4;
    uint64_t *delays, x = 0x2545f4914f6cdd1dull;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            opt.quick = 1;
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            opt.repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            opt.only = argv[++i];
        else if (strcmp(argv[i], "--workloads") == 0 && i + 1 < argc)
            opt.workloads = argv[++i];
        else if (strcmp(argv[i], "--backends") == 0 && i + 1 < argc)
            opt.backends = argv[++i];
        else if (strcmp(argv[i], "--w1-tasks") == 0 && i + 1 < argc)
            opt.w1_tasks = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--w2-rounds") == 0 && i + 1 < argc)
            opt.w2_rounds = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--w2-width") == 0 && i + 1 < argc)
            opt.w2_width = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--w4-tasks") == 0 && i + 1 < argc)
            opt.w4_tasks = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--w4-shift-ms") == 0 && i + 1 < argc)
            opt.w4_shift_ns = strtoull(argv[++i], NULL, 10) * 1000000u;
        else if (strcmp(argv[i], "--w4-spawn-only") == 0)
            opt.w4_spawn_only = 1;
        else
            usage();
    }
    if (opt.repeat < 1 || opt.repeat > MAX_REPEAT)
        usage();
    /* The build tree's plugins, when not told otherwise. */
    setenv("SCHED_PLUGIN_PATH", BENCH_PLUGIN_BUILD_PATH, 0);
    /* glib before 2.76 keeps list nodes in its slice allocator, where W5
     * cannot see them (2.76 and later always use malloc).  glib reads
     * G_SLICE when it is loaded, so start again with it set. */
    if (!getenv("G_SLICE")) {
        setenv("G_SLICE", "always-malloc", 1);
        execv("/proc/self/exe", argv);
    }

    /* W4: the same seeded delays for everyone, 1-50 ms (1-5 ms quick). */
    w4.n = opt.w4_tasks ? opt.w4_tasks : opt.quick ? 200 : 10000;
    w4.spawn_only = opt.w4_spawn_only;
    delays = malloc(w4.n * sizeof *delays);
    for (size_t i = 0; i < w4.n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint64_t span = opt.quick ? 4000000u : 49000000u;
        delays[i] = opt.w4_shift_ns + 1000000u + x % (span + 1);
    }
    w4.delay_ns = delays;

    for (opt.round = 0; opt.round < opt.repeat; opt.round++)
        round_all(&w4);
    print_table();
    free(delays);
    return failures ? 1 : 0;
}
