/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/bench_report.c - sched-bench's output.
 *
 * Every figure is kept per round.  The table shows each figure's median
 * over the rounds.  A ratio of ours to a peer is computed round by round
 * (ours divided by the peer's figure of the same round, so both saw the
 * same machine) and shown as the median of those ratios with their range,
 * e.g. 0.62x [0.55-0.71]; below 1 ours is better.  The targets of issue 15
 * are judged on those medians, with the number of rounds that met them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_report.h"

static const struct {
    const char *workload, *metric;
    int merit;              /* a figure of merit: lower is better, ratios shown */
} metrics[M_COUNT] = {
    { "W1", "ns_per_task", 1 },
    { "W2", "ns_per_task", 1 },
    { "W3", "median_hop_ns", 1 },
    { "W3", "p99_hop_ns", 1 },
    { "W4", "mean_late_ns", 1 },
    { "W4", "p99_late_ns", 1 },
    { "W4", "early", 0 },
    { "W4", "max_early_ns", 0 },
    { "W4", "cpu_ms", 1 },
    { "W4", "arm_mean_late_ns", 0 },
    { "W4", "arm_p99_late_ns", 0 },
    { "W5", "bytes_per_task", 1 },
    { "IDLE", "cpu_percent", 0 },
};

#define MAX_ROWS 12

struct row {
    char name[64];
    int ours;
    int have[M_COUNT][BENCH_MAX_REPEAT];
    double v[M_COUNT][BENCH_MAX_REPEAT];
};

static struct row rows[MAX_ROWS];
static int nrows;

int bench_report_row(const char *name, int ours)
{
    for (int i = 0; i < nrows; i++)
        if (strcmp(rows[i].name, name) == 0)
            return i;
    if (nrows == MAX_ROWS)
        return -1;
    snprintf(rows[nrows].name, sizeof rows[nrows].name, "%s", name);
    rows[nrows].ours = ours;
    return nrows++;
}

void bench_report_record(int row, int m, int round, double v)
{
    if (row < 0 || round < 0 || round >= BENCH_MAX_REPEAT)
        return;
    rows[row].have[m][round] = 1;
    rows[row].v[m][round] = v;
}

static int find(const char *name)
{
    for (int i = 0; i < nrows; i++)
        if (strcmp(rows[i].name, name) == 0)
            return i;
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median, minimum and maximum of v[0..n) (sorted in place); 0 when n is 0. */
struct spread {
    int n;
    double med, min, max;
};

static struct spread spread_of(double *v, int n)
{
    struct spread s = { n, 0, 0, 0 };
    if (n == 0)
        return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    s.min = v[0];
    s.max = v[n - 1];
    return s;
}

/* Figure m of row over the rounds. */
static struct spread figure(int row, int m)
{
    double v[BENCH_MAX_REPEAT];
    int n = 0;
    for (int r = 0; r < BENCH_MAX_REPEAT; r++)
        if (rows[row].have[m][r])
            v[n++] = rows[row].v[m][r];
    return spread_of(v, n);
}

/* Ours over peer, round by round, for the rounds both ran. */
static struct spread ratio(int ours, int peer, int m)
{
    double v[BENCH_MAX_REPEAT];
    int n = 0;
    for (int r = 0; r < BENCH_MAX_REPEAT; r++)
        if (rows[ours].have[m][r] && rows[peer].have[m][r] && rows[peer].v[m][r] > 0)
            v[n++] = rows[ours].v[m][r] / rows[peer].v[m][r];
    return spread_of(v, n);
}

/* A timer that fires early is not "less late": for W4 the best peer is
 * the best of those that never fired early in any round. */
static int fired_early(int row)
{
    for (int r = 0; r < BENCH_MAX_REPEAT; r++)
        if (rows[row].have[M_W4_EARLY][r] && rows[row].v[M_W4_EARLY][r] > 0)
            return 1;
    return 0;
}

/* The peer with the lowest median for m, or -1. */
static int best_peer(int m)
{
    int best = -1;
    double bv = 0;
    if (!metrics[m].merit)
        return -1;
    for (int i = 0; i < nrows; i++) {
        struct spread s = figure(i, m);
        if (rows[i].ours || s.n == 0)
            continue;
        if (metrics[m].workload[1] == '4' && fired_early(i))
            continue;
        if (best < 0 || s.med < bv) {
            best = i;
            bv = s.med;
        }
    }
    return best;
}

static void print_ratio(int ours, int peer, int m, const char *label)
{
    struct spread s = ratio(ours, peer, m);
    if (s.n == 0)
        return;
    printf("  %s%s %.2fx [%.2f-%.2f]", label, rows[peer].name, s.med, s.min, s.max);
}

static void print_ratio_line(int ours, int peer, int m)
{
    struct spread s = ratio(ours, peer, m);
    if (s.n == 0)
        return;
    printf("bench-ratio impl=%s peer=%s workload=%s metric=%s median=%.3f min=%.3f max=%.3f "
           "rounds=%d\n", rows[ours].name, rows[peer].name, metrics[m].workload,
           metrics[m].metric, s.med, s.min, s.max, s.n);
}

/* The peers every row of ours is compared with, besides the best one:
 * the three plain pools and raw GCD (the floor of the mac backend). */
static const char *const refs[] = { "pthread-pool", "pool-batch", "pool-spin", "gcd" };

static void print_medians(void)
{
    printf("medians over the rounds\n%-4s %-16s", "", "metric");
    for (int i = 0; i < nrows; i++)
        printf(" %14s", rows[i].name);
    printf(" %14s\n", "best peer");
    for (int m = 0; m < M_COUNT; m++) {
        int any = 0, best = best_peer(m);
        for (int i = 0; i < nrows; i++)
            any |= figure(i, m).n > 0;
        if (!any)
            continue;
        printf("%-4s %-16s", metrics[m].workload, metrics[m].metric);
        for (int i = 0; i < nrows; i++) {
            struct spread s = figure(i, m);
            if (s.n)
                printf(" %14.1f", s.med);
            else
                printf(" %14s", "-");
        }
        printf(" %14s\n", best >= 0 ? rows[best].name : "-");
    }
}

static void print_ratios(int lines)
{
    if (!lines)
        printf("\nours / peer, round by round: median [min-max] over the rounds; below 1 ours "
               "is better\n(W4: the best peer is the best of those that never fired early)\n");
    for (int m = 0; m < M_COUNT; m++) {
        int best = best_peer(m);
        if (best < 0)
            continue;
        for (int i = 0; i < nrows; i++) {
            if (!rows[i].ours || figure(i, m).n == 0)
                continue;
            if (lines) {
                print_ratio_line(i, best, m);
            } else {
                printf("%-4s %-16s %-15s", metrics[m].workload, metrics[m].metric, rows[i].name);
                print_ratio(i, best, m, "best ");
            }
            for (size_t k = 0; k < sizeof refs / sizeof refs[0]; k++) {
                int p = find(refs[k]);
                if (p < 0 || p == best)
                    continue;
                if (lines)
                    print_ratio_line(i, p, m);
                else
                    print_ratio(i, p, m, "");
            }
            if (!lines)
                printf("\n");
        }
    }
}

/* Issue 15's first bar.  peer NULL: a limit on the figure itself, shown
 * divided by scale. */
static const struct target {
    const char *what, *impl;
    int m;
    const char *peer;
    double limit, scale;
    const char *unit;
} targets[] = {
    { "W1 <= 0.8x", "libsched:linux", M_W1, "pthread-pool", 0.8, 1, "x" },
    { "W1 <= 0.8x", "libsched:linux", M_W1, "pool-batch", 0.8, 1, "x" },
    { "W1 <= 0.8x", "libsched:linux", M_W1, "pool-spin", 0.8, 1, "x" },
    { "W2 <= 0.8x", "libsched:linux", M_W2, "pthread-pool", 0.8, 1, "x" },
    { "W2 <= 0.8x", "libsched:linux", M_W2, "pool-batch", 0.8, 1, "x" },
    { "W2 <= 0.8x", "libsched:linux", M_W2, "pool-spin", 0.8, 1, "x" },
    { "W4 early = 0", "libsched:linux", M_W4_EARLY, NULL, 0, 1, "" },
    { "W4 mean <= 50 us", "libsched:linux", M_W4_MEAN, NULL, 50000, 1000, " us" },
    { "W4 p99 <= 500 us", "libsched:linux", M_W4_P99, NULL, 500000, 1000, " us" },
    { "W4 CPU <= 2x", "libsched:linux", M_W4_CPU, "pthread-pool", 2, 1, "x" },
    { "W4 CPU <= 2x", "libsched:linux", M_W4_CPU, "pool-batch", 2, 1, "x" },
    { "W4 CPU <= 2x", "libsched:linux", M_W4_CPU, "pool-spin", 2, 1, "x" },
    { "W5 <= 32 B", "libsched:linux", M_W5, NULL, 32, 1, " B" },
    { "mac W1 <= 1.15x", "libsched:mac", M_W1, "gcd", 1.15, 1, "x" },
    { "mac W2 <= 1.15x", "libsched:mac", M_W2, "gcd", 1.15, 1, "x" },
    { "mac W4 mean <= 2x", "libsched:mac", M_W4_MEAN, "gcd", 2, 1, "x" },
};

static void print_targets(int lines)
{
    int header = 0;
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        const struct target *g = &targets[t];
        int ours = find(g->impl), peer = g->peer ? find(g->peer) : -1;
        double v[BENCH_MAX_REPEAT];
        int n = 0, met = 0;
        char what[64];
        if (ours < 0 || (g->peer && peer < 0))
            continue;
        for (int r = 0; r < BENCH_MAX_REPEAT; r++) {
            if (!rows[ours].have[g->m][r])
                continue;
            if (peer < 0)
                v[n] = rows[ours].v[g->m][r];
            else if (rows[peer].have[g->m][r] && rows[peer].v[g->m][r] > 0)
                v[n] = rows[ours].v[g->m][r] / rows[peer].v[g->m][r];
            else
                continue;
            met += v[n++] <= g->limit;
        }
        if (n == 0)
            continue;
        struct spread s = spread_of(v, n);
        snprintf(what, sizeof what, "%s%s%s", g->what, g->peer ? " " : "", g->peer ? g->peer : "");
        if (lines) {
            printf("bench-target impl=%s target=\"%s\" median=%.3f min=%.3f max=%.3f met=%s "
                   "rounds_met=%d rounds=%d\n", g->impl, what, s.med / g->scale,
                   s.min / g->scale, s.max / g->scale, s.med <= g->limit ? "yes" : "no", met, n);
            continue;
        }
        if (!header++)
            printf("\ntargets of issue 15 (met: the median meets it; rounds: how many met it)\n");
        printf("%-30s %-15s %10.2f%s [%.2f-%.2f]  %-7s  %d/%d rounds\n", what, g->impl,
               s.med / g->scale, g->unit, s.min / g->scale, s.max / g->scale,
               s.med <= g->limit ? "met" : "not met", met, n);
    }
    if (header && !lines)
        printf("(W1 <= 300 instructions per task: make bench-callgrind)\n");
}

void bench_report_print(int rounds)
{
    printf("%d round%s; every implementation alone, in turn, each round\n", rounds,
           rounds == 1 ? "" : "s");
    print_medians();
    print_ratios(0);
    print_targets(0);
    printf("\n");
    for (int i = 0; i < nrows; i++)
        for (int m = 0; m < M_COUNT; m++) {
            struct spread s = figure(i, m);
            if (s.n)
                printf("bench impl=%s workload=%s metric=%s value=%.1f\n", rows[i].name,
                       metrics[m].workload, metrics[m].metric, s.med);
        }
    print_ratios(1);
    print_targets(1);
    for (int r = 0; r < rounds && r < BENCH_MAX_REPEAT; r++)
        for (int i = 0; i < nrows; i++)
            for (int m = 0; m < M_COUNT; m++)
                if (rows[i].have[m][r])
                    printf("bench-round round=%d impl=%s workload=%s metric=%s value=%.3f\n", r + 1,
                           rows[i].name, metrics[m].workload, metrics[m].metric, rows[i].v[m][r]);
}
