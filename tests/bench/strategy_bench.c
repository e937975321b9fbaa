/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/strategy_bench.c - how many runs each strategy of the test
 * backend needs to find a planted bug (sched-test(7), Strategies).
 *
 * For each bug of tests/planted_bugs.h (depth 1, 2 and 3, among noise
 * tasks) and each strategy, a sweep of sched_test_run_seeds from each of
 * 20 starting seeds runs until the bug is hit or the cap is reached; the
 * table gives the median number of runs and the spread.  PCT runs three
 * times: with k estimated from one run's length (the length of the FIFO
 * run's history, as sched-test(7) advises), with k fixed at 1000, and
 * with k unset, which the sweep learns from its runs.
 * Where the library shrinks failing runs (SCHED_SHRINK), each failing
 * seed found is shrunk too, and a second table gives how many decisions
 * deviated from FIFO order before and after, and the runs it took.
 * It counts runs, not time: nothing here is timed.
 *
 *   strategy-bench [--seeds N] [--cap RUNS] [--window W] [--noise N] [--shrink 0|1]
 *
 * Only the public API: sched/sched.h, sched/test.h, config files.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sched/sched.h>
#include <sched/test.h>

#include "../planted_bugs.h"

/* fifo, random, pct k=steps, pct k=1000, pct with k learned. */
#define NROWS 5

static char *const bench_argv[] = { "strategy-bench", NULL };

/* A config file for the rest of the run (removed at exit). */
static char conf_path[8][64];
static int nconf;

/* Where shrinking writes its replay files (removed at exit). */
static char replay_dir[64];

static void remove_confs(void)
{
    for (int i = 0; i < nconf; i++)
        unlink(conf_path[i]);
    DIR *d = replay_dir[0] ? opendir(replay_dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[512];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", replay_dir, e->d_name);
        unlink(path);
    }
    if (d) {
        closedir(d);
        rmdir(replay_dir);
    }
}

static const char *conf(const char *text)
{
    char *path = conf_path[nconf++];
    snprintf(path, sizeof conf_path[0], "/tmp/sched-strategy-bench-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror("strategy-bench: config file");
        exit(1);
    }
    close(fd);
    return path;
}

/* The SCHED_PCT_STEPS the last failing seed's command named ("" none):
 * a sweep that learned k replays a seed with it. */
static char failing_k[32];

/* Runs from seed start until the bug is hit: cap + 1 when it never was. */
static long runs_to_find(const char *path, struct planted *p, unsigned long long start, long cap)
{
    char seed[32], iters[32];
    snprintf(seed, sizeof seed, "%llu", start);
    snprintf(iters, sizeof iters, "%ld", cap);
    setenv("SCHED_SEED", seed, 1);
    setenv("SCHED_ITERATIONS", iters, 1);
    sched_error *err = NULL;
    int rc = sched_test_run_seeds(path, bench_argv, planted_run, p, &err);
    long out = cap + 1;
    unsigned long long failing;
    if (rc == 1 && sscanf(sched_error_message(err), "failing seed: %llu", &failing) == 1) {
        out = (long)(failing - start) + 1;
        const char *k = strstr(sched_error_message(err), " SCHED_PCT_STEPS=");
        if (!k || sscanf(k, " SCHED_PCT_STEPS=%31[0-9]", failing_k) != 1)
            failing_k[0] = '\0';
    } else if (rc != 0) {
        fprintf(stderr, "strategy-bench: %s\n", err ? sched_error_message(err) : sched_strerror(rc));
        exit(1);
    }
    sched_error_free(err);
    return out;
}

/* The next number in *s, digits grouped by commas or not; -1 if none. */
static long next_number(const char **s)
{
    while (**s && !isdigit((unsigned char)**s))
        (*s)++;
    if (!**s)
        return -1;
    long v = 0;
    for (; isdigit((unsigned char)**s) || (**s == ',' && isdigit((unsigned char)(*s)[1])); (*s)++)
        if (**s != ',')
            v = v * 10 + (**s - '0');
    return v;
}

/* "shrunk D decisions with V deviations to L deviations in R runs". */
struct shrunk {
    long decisions, deviations, left, runs;
};

/* Shrink the failing seed's run: 1 with *out set, 0 when the library
 * said nothing of shrinking (it has no SCHED_SHRINK). */
static int shrink_seed(const char *path, struct planted *p, unsigned long long seed,
                       struct shrunk *out)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", seed);
    setenv("SCHED_SEED", buf, 1);
    setenv("SCHED_ITERATIONS", "1", 1);
    setenv("SCHED_SHRINK", "1", 1);
    setenv("SCHED_REPLAY_DIR", replay_dir, 1);
    if (failing_k[0])
        setenv("SCHED_PCT_STEPS", failing_k, 1);
    sched_error *err = NULL;
    int rc = sched_test_run_seeds(path, bench_argv, planted_run, p, &err);
    const char *msg = rc && err ? strstr(sched_error_message(err), "shrunk ") : NULL;
    int ok = 0;
    if (msg) {
        out->decisions = next_number(&msg);
        out->deviations = next_number(&msg);
        out->left = next_number(&msg);
        out->runs = next_number(&msg);
        ok = out->runs >= 0;
    }
    sched_error_free(err);
    unsetenv("SCHED_SHRINK");
    unsetenv("SCHED_REPLAY_DIR");
    unsetenv("SCHED_PCT_STEPS");
    return ok;
}

static long median(long *v, int n)
{
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Choices in one run of the bug in FIFO order: the estimate of k. */
static size_t run_length(const char *fifo_path, struct planted *p)
{
    sched_host *host;
    sched_error *err = NULL;
    if (sched_host_open(&host, fifo_path, &err)) {
        fprintf(stderr, "strategy-bench: %s\n", sched_error_message(err));
        exit(1);
    }
    planted_run(host, p);
    const sched_test_step *steps;
    size_t n = sched_test_history(sched_as_test(host), &steps);
    sched_host_close(host);
    return n;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static void put_runs(long v, long cap)
{
    if (v > cap)
        printf(">%ld", cap);
    else
        printf("%ld", v);
}

int main(int argc, char **argv)
{
    int nseeds = 20, window = 12, noise = 4, shrink = 1;
    long cap = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seeds") == 0)
            nseeds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--cap") == 0)
            cap = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--window") == 0)
            window = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--noise") == 0)
            noise = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--shrink") == 0)
            shrink = atoi(argv[i + 1]);
        else
            break;
    }
    if (nseeds < 1 || nseeds > 1000 || cap < 1 || window < 2 || noise < 0 || argc % 2 == 0) {
        fprintf(stderr, "usage: strategy-bench [--seeds N] [--cap RUNS] [--window W >= 2] "
                        "[--noise N] [--shrink 0|1]\n");
        return 2;
    }
    atexit(remove_confs);
    snprintf(replay_dir, sizeof replay_dir, "/tmp/sched-strategy-bench-XXXXXX");
    if (!mkdtemp(replay_dir)) {
        perror("strategy-bench: replay directory");
        return 1;
    }
    unsetenv("SCHED_STRATEGY");
    unsetenv("SCHED_PCT_DEPTH");
    unsetenv("SCHED_PCT_STEPS");
    const char *fifo = conf("backend = \"test\";\ntest: { strategy = \"fifo\"; };\n");
    const char *random = conf("backend = \"test\";\ntest: { strategy = \"random\"; };\n");
    const char *pct_1000 = conf("backend = \"test\";\ntest: { strategy = \"pct\"; pct_steps = 1000; };\n");
    const char *pct_learned = conf("backend = \"test\";\ntest: { strategy = \"pct\"; };\n");
    long *runs = calloc((size_t)nseeds, sizeof *runs);
    unsigned long long *failing = calloc((size_t)nseeds, sizeof *failing);
    /* Shrink results by depth and row: decisions, deviations, left, runs. */
    long (*sh)[4][NROWS][1000] = calloc(4, sizeof *sh);
    int nsh[4][NROWS] = { { 0 } };
    if (!runs || !failing || !sh)
        return 1;

    printf("planted bugs: window %d, %d noise tasks of 8 steps; %d starting seeds, "
           "at most %ld runs each\n\n", window, noise, nseeds, cap);
    printf("%-7s  %-5s  %-16s  %8s  %-22s  %s\n", "bug", "steps", "strategy", "median",
           "spread (min q1-q3 max)", "found");
    for (int depth = 1; depth <= 3; depth++) {
        struct planted p = { .depth = depth, .window = window, .noise = noise, .noise_steps = 8 };
        size_t k = run_length(fifo, &p);
        char text[160], name[32];
        snprintf(text, sizeof text,
                 "backend = \"test\";\ntest: { strategy = \"pct\"; pct_depth = %d; pct_steps = %zu; };\n",
                 depth, k);
        const char *pct_k = conf(text);
        struct {
            const char *label, *path;
        } rows[NROWS] = { { "fifo", fifo }, { "random", random }, { NULL, pct_k },
                          { "pct k=1000 d=3", pct_1000 }, { "pct learned d=3", pct_learned } };
        snprintf(name, sizeof name, "pct k=%zu d=%d", k, depth);
        rows[2].label = name;
        for (int r = 0; r < NROWS; r++) {
            int found = 0;
            /* FIFO order is one schedule whatever the seed (this program
             * draws no timeouts or delays): 100 runs show it. */
            long rcap = r == 0 && cap > 100 ? 100 : cap;
            for (int s = 0; s < nseeds; s++) {
                /* Starting seeds far apart, so no two sweeps share a run. */
                unsigned long long start = (unsigned long long)s * 1000003u;
                runs[s] = runs_to_find(rows[r].path, &p, start, rcap);
                found += runs[s] <= rcap;
                failing[s] = start + (unsigned long long)runs[s] - 1;
                if (r < NROWS - 1)
                    failing_k[0] = '\0';
                struct shrunk o;
                if (shrink && runs[s] <= rcap && shrink_seed(rows[r].path, &p, failing[s], &o)) {
                    int n = nsh[depth][r]++;
                    sh[0][depth][r][n] = o.decisions;
                    sh[1][depth][r][n] = o.deviations;
                    sh[2][depth][r][n] = o.left;
                    sh[3][depth][r][n] = o.runs;
                }
            }
            qsort(runs, (size_t)nseeds, sizeof *runs, cmp_long);
            printf("depth %d  %5zu  %-16s  ", depth, k, rows[r].label);
            char med[32];
            /* A median over a sweep that found nothing is only a bound. */
            long m = median(runs, nseeds);
            if (runs[nseeds / 2] > rcap && (nseeds % 2 || runs[nseeds / 2 - 1] > rcap))
                snprintf(med, sizeof med, ">%ld", rcap);
            else if (runs[nseeds / 2] > rcap)
                snprintf(med, sizeof med, ">%ld", (runs[nseeds / 2 - 1] + rcap + 1) / 2);
            else
                snprintf(med, sizeof med, "%ld", m);
            printf("%8s  ", med);
            put_runs(runs[0], rcap);
            printf(" ");
            put_runs(runs[nseeds / 4], rcap);
            printf("-");
            put_runs(runs[(3 * nseeds) / 4], rcap);
            printf(" ");
            put_runs(runs[nseeds - 1], rcap);
            printf("  %d/%d\n", found, nseeds);
            fflush(stdout);
        }
    }
    int any = 0;
    for (int d = 1; d <= 3; d++)
        for (int r = 0; r < NROWS; r++)
            any |= nsh[d][r] > 0;
    if (any) {
        static const char *const names[NROWS] = { "fifo", "random", "pct k=steps",
                                                 "pct k=1000 d=3", "pct learned d=3" };
        printf("\nshrinking each failing run found (SCHED_SHRINK=1), medians:\n");
        printf("%-7s  %-16s  %9s  %10s  %17s  %11s  %s\n", "bug", "strategy", "decisions",
               "deviations", "after (min-max)", "shrink runs", "shrunk");
        for (int d = 1; d <= 3; d++) {
            for (int r = 0; r < NROWS; r++) {
                int n = nsh[d][r];
                if (!n)
                    continue;
                long m[4], lo = 0, hi = 0;
                for (int k = 0; k < 4; k++) {
                    qsort(sh[k][d][r], (size_t)n, sizeof(long), cmp_long);
                    m[k] = median(sh[k][d][r], n);
                }
                lo = sh[2][d][r][0];
                hi = sh[2][d][r][n - 1];
                char after[48];
                snprintf(after, sizeof after, "%ld (%ld-%ld)", m[2], lo, hi);
                printf("depth %d  %-16s  %9ld  %10ld  %17s  %11ld  %d\n", d, names[r], m[0], m[1],
                       after, m[3], n);
            }
        }
    }
    free(sh);
    free(failing);
    free(runs);
    return 0;
}
