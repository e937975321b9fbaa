/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/conform.c - "schedctl conform": the executor contract
 * (tests/conformance/) against any backend by name, including an
 * installed third-party plugin.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conformance.h"
#include "schedctl.h"

static const char usage[] =
    "usage: schedctl conform BACKEND...\n"
    "\n"
    "Run the libsched conformance suite against each BACKEND (a name as in\n"
    "sched.conf(5): linux, test, or any installed plugin; SCHED_PLUGIN_PATH\n"
    "applies).  The suite selects the backend only through a config file it\n"
    "writes, so no recompiling is involved.  Prints a pass/fail table per\n"
    "backend and exits 1 if any test fails or a backend cannot be opened.\n";

int sched__cmd_conform(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return SCHEDCTL_OK;
        }
        if (argv[i][0] == '-') {
            sched__ctl_error("conform: unknown option \"%s\"", argv[i]);
            fputs(usage, stderr);
            return SCHEDCTL_USAGE;
        }
    }
    if (argc < 2) {
        fputs(usage, stderr);
        return SCHEDCTL_USAGE;
    }
    return sched_conformance_main(argc - 1, argv + 1) == 0 ? SCHEDCTL_OK : SCHEDCTL_FAIL;
}
