/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/sched_bench.c - sched-bench: the W1-W5 workloads against
 * libsched backends and the peers, in one run, as one table.
 *
 *   sched-bench [--quick] [--repeat N] [--only NAME,...] [--workloads W1,...]
 *               [--backends NAME,...] [--w1-tasks N] [--w2-rounds N]
 *               [--w2-width N] [--w4-tasks N] [--w4-shift-ms N]
 *               [--w4-spawn-only] [--w5-check-refusal]
 *
 * The sizes default to the full run (--quick: a small one).  --w4-shift-ms
 * adds N ms to every W4 delay, so that every task still sleeps when the
 * spawning is slow (under callgrind); --w4-spawn-only leaves out the
 * libsched rows' second W4 run (timers made at first poll);
 * --w5-check-refusal makes the pools' W5 rounds ones that must be refused
 * (bench_w5_leave_one_free in bench.h).
 *
 * Workloads are W1-W5 of libsched(7) and IDLE: the CPU a libsched backend
 * uses over 5 s with nothing to do.
 *
 * Each backend named by --backends (default: linux, and mac when built)
 * appears twice: "libsched:NAME", the whole library (tasks, futures,
 * block) through sched_workloads.c, and "raw:NAME", the plugin driven
 * through its ABI alone.  Every implementation runs alone (created,
 * measured, destroyed) so none steals CPU from another; with --repeat the
 * implementations take turns round by round, each round starting one
 * further along, and bench_report.c prints each figure's median, the
 * ratios of ours to the peers round by round (median and range), and
 * issue 15's targets.  Besides the table it prints one line per figure
 * (its median):
 *   bench impl=<name> workload=<W..> metric=<metric> value=<n>
 * and bench-ratio, bench-target and bench-round (one per figure and
 * round) lines.
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
#include "bench_report.h"

extern char bench_fail_reason[256];

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

static void record(int row, int m, double v)
{
    bench_report_record(row, m, opt.round, v);
}

static void failed(const bench_impl *impl, const char *w)
{
    fprintf(stderr, "sched-bench: %s %s failed: %s\n", impl->name, w,
            bench_fail_reason[0] ? bench_fail_reason : "a task was lost or ran twice");
    bench_fail_reason[0] = '\0';
    failures++;
}

/* A round whose figure would be wrong: said, not counted, not a failure. */
static void refused(const bench_impl *impl, const char *w)
{
    fprintf(stderr, "sched-bench: %s %s round %d refused: %s\n", impl->name, w, opt.round + 1,
            bench_fail_reason);
    bench_fail_reason[0] = '\0';
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
    int r = bench_report_row(impl->name, impl->ours);
    size_t w1n = opt.w1_tasks ? opt.w1_tasks : opt.quick ? 20000 : 1000000;
    double a, b;
    w4_result res;

    if (r < 0)
        return;
    /* W5 first, on the fresh instance: a pool keeps what it grew for W1
     * (a ring, a cache of task blocks), which would hide the cost of
     * queueing from the figure. */
    if (impl->w5 && listed(opt.workloads, "W5")) {
        int rc = impl->w5(impl->ctx, opt.quick ? 5000 : 100000, &a);
        if (rc == 0)
            record(r, M_W5, a);
        else if (rc > 0)
            refused(impl, "W5");
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

/* The implementations to run, in the table's order. */
enum kind { K_LIBSCHED, K_RAW, K_POOL, K_POOL_BATCH, K_POOL_SPIN, K_GCD, K_GLIB, K_UV, K_EVENT };

static struct slot {
    enum kind kind;
    char backend[32], name[80];
} slots[16];
static int nslots;

static void add_slot(enum kind kind, const char *backend, const char *name)
{
    if (!listed(opt.only, name) || nslots == (int)(sizeof slots / sizeof slots[0]))
        return;
    slots[nslots].kind = kind;
    snprintf(slots[nslots].backend, sizeof slots[nslots].backend, "%s", backend);
    snprintf(slots[nslots].name, sizeof slots[nslots].name, "%s", name);
    nslots++;
}

static void plan(void)
{
    char backends[256], name[80];

    snprintf(backends, sizeof backends, "%s", opt.backends);
    for (char *save = NULL, *b = strtok_r(backends, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
#ifdef HAVE_BENCH_LIBSCHED
        snprintf(name, sizeof name, "libsched:%s", b);
        add_slot(K_LIBSCHED, b, name);
#endif
        snprintf(name, sizeof name, "raw:%s", b);
        add_slot(K_RAW, b, name);
    }
    add_slot(K_POOL, "", "pthread-pool");
    add_slot(K_POOL_BATCH, "", "pool-batch");
    add_slot(K_POOL_SPIN, "", "pool-spin");
#ifdef HAVE_BENCH_GCD
    add_slot(K_GCD, "", "gcd");
#endif
#ifdef HAVE_BENCH_GLIB
    add_slot(K_GLIB, "", "glib");
#endif
#ifdef HAVE_BENCH_UV
    add_slot(K_UV, "", "libuv");
#endif
#ifdef HAVE_BENCH_EVENT
    add_slot(K_EVENT, "", "libevent");
#endif
}

static int make(const struct slot *s, bench_impl *impl)
{
    switch (s->kind) {
#ifdef HAVE_BENCH_LIBSCHED
    case K_LIBSCHED: return bench_libsched_impl(impl, s->backend);
#endif
    case K_RAW: return bench_raw_impl(impl, s->backend);
    case K_POOL: return bench_pthread_impl(impl);
    case K_POOL_BATCH: return bench_pool_batch_impl(impl);
    case K_POOL_SPIN: return bench_pool_spin_impl(impl);
#ifdef HAVE_BENCH_GCD
    case K_GCD: return bench_gcd_impl(impl);
#endif
#ifdef HAVE_BENCH_GLIB
    case K_GLIB: return bench_glib_impl(impl);
#endif
#ifdef HAVE_BENCH_UV
    case K_UV: return bench_uv_impl(impl);
#endif
#ifdef HAVE_BENCH_EVENT
    case K_EVENT: return bench_event_impl(impl);
#endif
    default: break;
    }
    bench_fail("not built");
    return -1;
}

/* One round: every implementation in turn, each round starting one
 * further along the list, so none always runs first (cold) or always
 * right after the same neighbour. */
static void round_all(const w4_spec *w4)
{
    bench_impl impl;

    for (int k = 0; k < nslots; k++) {
        const struct slot *s = &slots[(k + opt.round) % nslots];
        run_impl(make(s, &impl), &impl, s->name, w4);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: sched-bench [--quick] [--repeat N] [--only NAME,...] "
                    "[--workloads W1,...] [--backends NAME,...] [--w1-tasks N]\n"
                    "                   [--w2-rounds N] [--w2-width N] [--w4-tasks N] "
                    "[--w4-shift-ms N] [--w4-spawn-only]\n"
                    "                   [--w5-check-refusal]\n");
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
        else if (strcmp(argv[i], "--w5-check-refusal") == 0)
            bench_w5_leave_one_free = 1;
        else
            usage();
    }
    if (opt.repeat < 1 || opt.repeat > BENCH_MAX_REPEAT)
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

    plan();
    for (opt.round = 0; opt.round < opt.repeat; opt.round++)
        round_all(&w4);
    bench_report_print(opt.repeat);
    free(delays);
    return failures ? 1 : 0;
}
