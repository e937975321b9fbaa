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

/* One run of W4 with the harness's delays, as the peers get: the same
 * statistics (bench_lateness), and the CPU from just before the first
 * timer is made until the last task ran. */
static int lib_w4_run(lib *l, const w4_spec *s, int at_spawn, w4_result *r)
{
    uint64_t *due = calloc(2 * s->n + 1, sizeof *due);
    uint64_t *ran = calloc(s->n + 1, sizeof *ran);
    double c0 = bench_cpu_seconds();
    int rc = due && ran ? check(sched_bench_w4_times(l->host, s->n, s->delay_ns, at_spawn,
                                                     due, ran))
                        : check(SCHED_ENOMEM);

    r->cpu_ms = (bench_cpu_seconds() - c0) * 1e3;
    if (rc == 0)
        rc = bench_lateness(due, ran, s->n, r);
    free(due);
    free(ran);
    return rc;
}

/* Twice: the timers made at spawn (the figure a user sees), then at
 * first poll (arm_*). */
static int lib_w4(void *ctx, const w4_spec *s, w4_result *out)
{
    lib *l = ctx;
    w4_result arm;

    memset(out, 0, sizeof *out);
    if (lib_w4_run(l, s, 1, out) != 0)
        return -1;
    if (s->spawn_only)
        return 0;
    memset(&arm, 0, sizeof arm);
    if (lib_w4_run(l, s, 0, &arm) != 0)
        return -1;
    out->have_arm = 1;
    out->arm_mean_ns = arm.mean_ns;
    out->arm_p99_ns = arm.p99_ns;
    out->early += arm.early;
    if (arm.max_early_ns > out->max_early_ns)
        out->max_early_ns = arm.max_early_ns;
    return 0;
}

static int lib_w5(void *ctx, size_t n, double *bytes)
{
    lib *l = ctx;
    size_t ran;
    if (check(sched_bench_w5_once(l->host, n, bytes, &ran)) != 0)
        return -1;
    return bench_w5_refused(ran, n);
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
