/* SPDX-License-Identifier: MIT */
/*
 * tests/measure_open.c - how long loading a plugin and opening a host
 * takes: sched_host_open (config, dlopen, checks, create) and
 * sched_host_close, per backend.  Prints the first (cold) open and the
 * median and 90th percentile of repeated open/close cycles.  Not a test:
 * timings live in benchmarks, never in assertions.
 *
 * Usage: measure_open [BACKEND...]   (SCHED_PLUGIN_PATH as for the tests)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#define ROUNDS 200

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int measure(const char *backend)
{
    static uint64_t open_ns[ROUNDS], close_ns[ROUNDS];
    setenv("SCHED_BACKEND", backend, 1);
    for (int i = 0; i < ROUNDS; i++) {
        sched_host *host;
        sched_error *err = NULL;
        uint64_t t0 = sched__mono_ns();
        if (sched_host_open(&host, NULL, &err) != 0) {
            fprintf(stderr, "measure_open: %s\n", sched_error_message(err));
            sched_error_free(err);
            return 1;
        }
        uint64_t t1 = sched__mono_ns();
        sched_host_close(host);
        uint64_t t2 = sched__mono_ns();
        open_ns[i] = t1 - t0;
        close_ns[i] = t2 - t1;
    }
    uint64_t first = open_ns[0];
    qsort(open_ns, ROUNDS, sizeof *open_ns, cmp_u64);
    qsort(close_ns, ROUNDS, sizeof *close_ns, cmp_u64);
    printf("%-16s open: first %7.1f us, median %7.1f us, p90 %7.1f us;  close: median %7.1f us\n",
           backend, first / 1e3, open_ns[ROUNDS / 2] / 1e3, open_ns[ROUNDS * 9 / 10] / 1e3,
           close_ns[ROUNDS / 2] / 1e3);
    return 0;
}

int main(int argc, char **argv)
{
    static char *defaults[] = { (char *)"linux", (char *)"test", (char *)"cloudflare-sim" };
    char **names = argc > 1 ? argv + 1 : defaults;
    int n = argc > 1 ? argc - 1 : 3;
    int rc = 0;
    for (int i = 0; i < n; i++)
        rc |= measure(names[i]);
    return rc;
}
