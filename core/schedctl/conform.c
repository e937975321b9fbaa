/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/conform.c - "schedctl conform": the executor contract
 * (tests/conformance/) against any backend by name, including an
 * installed third-party plugin.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "schedctl.h"

static const char usage[] =
    "usage: schedctl conform [-t NAME]... [--timeout SECONDS] BACKEND...\n"
    "\n"
    "Run the libsched conformance suite against each BACKEND (a name as in\n"
    "sched.conf(5): linux, test, or any installed plugin; SCHED_PLUGIN_PATH\n"
    "applies).  The suite selects the backend only through a config file it\n"
    "writes, so no recompiling is involved.  Each test runs in a child\n"
    "process of its own and prints PASS, FAIL, CRASH or TIMEOUT as it ends.\n"
    "\n"
    "  -t, --test NAME      run only the tests whose names contain NAME\n"
    "  --timeout SECONDS    each test's time limit (default 10), multiplied\n"
    "                       by SCHED_CONFORM_TIMEOUT_SCALE when it is set\n"
    "\n"
    "Exits 1 if any test fails or a backend cannot be opened.\n";

int sched__cmd_conform(int argc, char **argv)
{
    struct sched_conformance_options opt = { 0 };
    const char **only = calloc((size_t)argc, sizeof *only);
    char **names = calloc((size_t)argc, sizeof *names);
    int nnames = 0, rc = SCHEDCTL_USAGE;

    if (!only || !names) {
        sched__ctl_error("conform: out of memory");
        rc = SCHEDCTL_FAIL;
        goto out_free;
    }
    opt.only = only;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            rc = SCHEDCTL_OK;
            goto out_free;
        }
        if (strcmp(a, "-t") == 0 || strcmp(a, "--test") == 0) {
            if (++i == argc) {
                sched__ctl_error("conform: %s needs a test name", a);
                goto out_usage;
            }
            only[opt.nonly++] = argv[i];
        } else if (strcmp(a, "--timeout") == 0) {
            char *end;
            double s = ++i < argc ? strtod(argv[i], &end) : 0;
            if (i == argc || end == argv[i] || *end || !(s > 0) || s > 86400) {
                sched__ctl_error("conform: --timeout needs a number of seconds between 0 and 86400");
                goto out_usage;
            }
            opt.timeout_ms = (unsigned)(s * 1000 + 0.5);
            if (opt.timeout_ms == 0)
                opt.timeout_ms = 1;
        } else if (a[0] == '-') {
            sched__ctl_error("conform: unknown option \"%s\"", a);
            goto out_usage;
        } else {
            names[nnames++] = argv[i];
        }
    }
    if (nnames == 0)
        goto out_usage;
    rc = sched_conformance_main(nnames, names, &opt) == 0 ? SCHEDCTL_OK : SCHEDCTL_FAIL;
    goto out_free;

out_usage:
    fputs(usage, stderr);
out_free:
    free(only);
    free(names);
    return rc;
}
