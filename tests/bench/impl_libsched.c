/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/impl_libsched.c - a libsched backend behind the real host
 * ("libsched:linux"): tasks, futures, wakers and block, chosen by name
 * through a config file and run by the W1-W5 code that `schedctl bench`
 * uses (sched_workloads.c), so both print the same figures.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sched/sched.h>

#include "bench.h"
#include "sched_workloads.h"

typedef struct lib {
    sched_host *host;
    char conf[64];
} lib;

/* 0, or -1 with the host's code recorded. */
static int check(int rc)
{
    if (rc == 0)
        return 0;
    bench_fail("the workload returned %d (%s)", rc, sched_strerror(rc));
    return -1;
}

static int lib_w1(void *ctx, size_t n, double *ns)
{
    lib *l = ctx;
    return check(sched_bench_w1(l->host, n, ns));
}

static int lib_w2(void *ctx, size_t rounds, size_t width, double *ns)
{
    lib *l = ctx;
    return check(sched_bench_w2(l->host, rounds, width, ns));
}

static int lib_w3(void *ctx, size_t n, double *median, double *p99)
{
    lib *l = ctx;
    return check(sched_bench_w3(l->host, n, median, p99));
}

/* The harness's delays, as the peers get.  Twice: the timers made at
 * spawn (the figure a user sees), then at first poll (arm_*). */
static int lib_w4(void *ctx, const w4_spec *s, w4_result *out)
{
    lib *l = ctx;
    double mean_us, p99_us, c0, c1;
    uint64_t early;

    memset(out, 0, sizeof *out);
    c0 = bench_cpu_seconds();
    if (check(sched_bench_w4_delays(l->host, s->n, s->delay_ns, 1, &mean_us, &p99_us,
                                    &early)) != 0)
        return -1;
    c1 = bench_cpu_seconds();
    out->mean_ns = mean_us * 1000.0;
    out->p99_ns = p99_us * 1000.0;
    out->early = (size_t)early;
    out->cpu_ms = (c1 - c0) * 1e3;
    out->have_cpu = 1;
    if (s->spawn_only)
        return 0;
    if (check(sched_bench_w4_delays(l->host, s->n, s->delay_ns, 0, &mean_us, &p99_us,
                                    &early)) != 0)
        return -1;
    out->have_arm = 1;
    out->arm_mean_ns = mean_us * 1000.0;
    out->arm_p99_ns = p99_us * 1000.0;
    out->early += (size_t)early;
    return 0;
}

static int lib_w5(void *ctx, size_t n, double *bytes)
{
    lib *l = ctx;
    return check(sched_bench_w5(l->host, n, bytes));
}

static void lib_fini(void *ctx)
{
    lib *l = ctx;
    sched_host_close(l->host);
    unlink(l->conf);
    free(l);
}

int bench_libsched_impl(bench_impl *impl, const char *backend)
{
    static char names[8][64];
    static int nnames;
    lib *l = calloc(1, sizeof *l);
    sched_error *err = NULL;
    FILE *f;
    int fd;

    snprintf(l->conf, sizeof l->conf, "/tmp/sched-bench-XXXXXX");
    if ((fd = mkstemp(l->conf)) < 0 || !(f = fdopen(fd, "w"))) {
        bench_fail("cannot write a config file");
        free(l);
        return -1;
    }
    fprintf(f, "backend = \"%s\";\n", backend);
    fclose(f);
    if (sched_host_open(&l->host, l->conf, &err) != 0) {
        bench_fail("%s", sched_error_message(err));
        sched_error_free(err);
        unlink(l->conf);
        free(l);
        return -1;
    }
    memset(impl, 0, sizeof *impl);
    snprintf(names[nnames % 8], sizeof names[0], "libsched:%s", backend);
    impl->name = names[nnames++ % 8];
    impl->ours = 1;
    impl->w1 = lib_w1;
    impl->w2 = lib_w2;
    impl->w3 = lib_w3;
    impl->w4 = lib_w4;
    impl->w5 = lib_w5;
    impl->ctx = l;
    impl->fini = lib_fini;
    return 0;
}
