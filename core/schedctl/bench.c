/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/bench.c - "schedctl bench": the W1-W5 workloads
 * (tests/bench/sched_workloads.c) against libsched backends, one fresh
 * host per workload.  Prints one machine-readable line per figure, then a
 * table.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <unistd.h>
#endif

#include "conformance_platform.h"
#include "internal.h"
#include "sched_workloads.h"
#include "schedctl.h"

static const char usage[] =
    "usage: schedctl bench [--quick] [--backend NAME]... [-c FILE]\n"
    "\n"
    "Run the scheduler workloads against each backend NAME (default: the\n"
    "backend the config selects) and print, per backend, lines of the form\n"
    "  bench impl=NAME workload=W1 metric=ns_per_task value=123.4\n"
    "then a table.  W1: 1000000 tiny tasks spawned from one thread;\n"
    "W2: 1000 rounds of 1000-task fan-out/fan-in; W3: a chain of 100000\n"
    "wake-ups; W4: 10000 timers of 1-50 ms; W5: heap bytes per queued task.\n"
    "Host open time (plugin load and create) is reported too.\n"
    "\n"
    "  --backend NAME      measure NAME (repeatable)\n"
    "  --quick             a hundredth of the work (a smoke run)\n"
    "  -c, --config FILE   the config to use when no --backend is given\n";

struct row {
    const char *name;
    double open_us;
    double w1, w2, w3_med, w3_p99, w4_mean, w4_p99, w5;
    uint64_t w4_early;
    int failed;
};

static char config_tmp[1024];

/* A config selecting backend name, written to a new temporary file with
 * an unpredictable name (config_tmp; the caller removes it). */
static const char *config_for(const char *name)
{
    char stem[300];
    snprintf(stem, sizeof stem, "sched-bench-%s", name);
    FILE *f = conf_temp_file(stem, config_tmp, sizeof config_tmp);
    if (!f)
        return NULL;
    fprintf(f, "backend = \"%s\";\n", name);
    if (fclose(f) != 0) {
        remove(config_tmp);
        return NULL;
    }
    return config_tmp;
}

/* An error sentence with the temporary config's path left out: the file
 * is gone by the time anyone reads it. */
static void bench_error(const char *msg)
{
    size_t lp = strlen(config_tmp);
    const char *hit = lp > 0 ? strstr(msg, config_tmp) : NULL;
    if (hit == NULL)
        sched__ctl_error("bench: %s", msg);
    else
        sched__ctl_error("bench: %.*s(the generated config)%s", (int)(hit - msg), msg, hit + lp);
}

/* In a child: can a host be opened on config at all?  A backend that
 * crashes doing so is reported without taking bench down. */
static int open_once(void *arg)
{
    sched_host *h = NULL;
    sched_error *err = NULL;
    if (sched_host_open(&h, arg, &err) != 0) {
        bench_error(sched_error_message(err));
        sched_error_free(err);
        return SCHEDCTL_FAIL;
    }
    sched_host_close(h);
    return SCHEDCTL_OK;
}

static int probe_config(const char *config, const char *name)
{
    char plugin[4096];
    int sig;
    int rc = sched__ctl_isolated(open_once, (void *)config, plugin, sizeof plugin, &sig);
    char what[300];
    snprintf(what, sizeof what, "opening backend %s", name);
    return sched__ctl_report_isolated(rc, plugin, what, sig);
}

static sched_host *open_timed(const char *config, struct row *r, int *opens)
{
    sched_host *h = NULL;
    sched_error *err = NULL;
    uint64_t t0 = sched_host_now(NULL);
    if (sched_host_open(&h, config, &err) != 0) {
        bench_error(sched_error_message(err));
        sched_error_free(err);
        return NULL;
    }
    r->open_us += (double)(sched_host_now(NULL) - t0) / 1000.0;
    ++*opens;
    if (!r->name)
        r->name = strdup(sched_host_backend_name(h));
    return h;
}

static void bench_one(const char *config, int quick, struct row *r)
{
    size_t div = quick ? 100 : 1;
    int opens = 0, rc;
    sched_host *h;

    for (int w = 1; w <= 5 && !r->failed; w++) {
        h = open_timed(config, r, &opens);
        if (!h) {
            r->failed = 1;
            break;
        }
        switch (w) {
        case 1:
            rc = sched_bench_w1(h, 1000000 / div, &r->w1);
            break;
        case 2:
            rc = sched_bench_w2(h, 1000 / div, 1000 / (quick ? 10 : 1), &r->w2);
            break;
        case 3:
            rc = sched_bench_w3(h, 100000 / div, &r->w3_med, &r->w3_p99);
            break;
        case 4:
            rc = sched_bench_w4(h, 10000 / div, &r->w4_mean, &r->w4_p99, &r->w4_early);
            break;
        default:
            rc = sched_bench_w5(h, 100000 / div, &r->w5);
            if (rc == SCHED_ENOTSUP)
                rc = 0;
            break;
        }
        sched_host_close(h);
        if (rc != 0) {
            sched__ctl_error("bench: W%d on %s failed: %s", w, r->name, sched_strerror(rc));
            r->failed = 1;
        }
    }
    if (opens)
        r->open_us /= opens;
    if (r->failed)
        return;
    sched_bench_line(stdout, r->name, "W1", "ns_per_task", r->w1);
    sched_bench_line(stdout, r->name, "W2", "ns_per_task", r->w2);
    sched_bench_line(stdout, r->name, "W3", "median_hop_ns", r->w3_med);
    sched_bench_line(stdout, r->name, "W3", "p99_hop_ns", r->w3_p99);
    sched_bench_line(stdout, r->name, "W4", "mean_late_us", r->w4_mean);
    sched_bench_line(stdout, r->name, "W4", "p99_late_us", r->w4_p99);
    sched_bench_line(stdout, r->name, "W4", "early_fires", (double)r->w4_early);
    sched_bench_line(stdout, r->name, "W5", "bytes_per_task", r->w5);
    fflush(stdout);
}

int sched__cmd_bench(int argc, char **argv)
{
    const char *names[64];
    const char *config = NULL;
    struct row rows[64];
    int n = 0, quick = 0, bad = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return SCHEDCTL_OK;
        } else if (strcmp(a, "--quick") == 0) {
            quick = 1;
        } else if ((strcmp(a, "--backend") == 0 || strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
                   && i + 1 < argc) {
            if (a[1] == 'c' || strcmp(a, "--config") == 0)
                config = argv[++i];
            else if (n < 64)
                names[n++] = argv[++i];
        } else if (strncmp(a, "--backend=", 10) == 0 && n < 64) {
            names[n++] = a + 10;
        } else {
            sched__ctl_error("bench: unexpected argument \"%s\"", a);
            fputs(usage, stderr);
            return SCHEDCTL_USAGE;
        }
    }
    memset(rows, 0, sizeof rows);
    if (n == 0) {
        bench_one(config, quick, &rows[0]);
        n = 1;
        names[0] = "(configured)";
    } else {
        for (int i = 0; i < n; i++) {
            const char *cfg = config_for(names[i]);
            if (!cfg) {
                sched__ctl_error("bench: cannot write a config for %s", names[i]);
                rows[i].failed = 1;
                continue;
            }
            if (probe_config(cfg, names[i]) != SCHEDCTL_OK)
                rows[i].failed = 1;
            else
                bench_one(cfg, quick, &rows[i]);
            remove(cfg);
        }
    }

    /* Within 80 columns: two header lines, one line per backend. */
    printf("\n%-14s %8s %8s %13s %16s %7s %7s\n", "backend", "W1", "W2", "W3 hop", "W4 late",
           "W5", "open");
    printf("%-14s %8s %8s %13s %16s %7s %7s\n", "", "ns/task", "ns/task", "med/p99 ns",
           "mean/p99 us", "B/task", "us");
    for (int i = 0; i < n; i++) {
        struct row *r = &rows[i];
        if (r->failed) {
            printf("%-14s failed\n", r->name ? r->name : names[i]);
            bad = 1;
        } else {
            printf("%-14s %8.1f %8.1f %6.0f/%-6.0f %6.1f/%-6.1f%3s %7.1f %7.1f\n", r->name,
                   r->w1, r->w2, r->w3_med, r->w3_p99, r->w4_mean, r->w4_p99,
                   r->w4_early ? "(!)" : "", r->w5, r->open_us);
        }
        free((char *)r->name);
    }
    return bad ? SCHEDCTL_FAIL : SCHEDCTL_OK;
}
