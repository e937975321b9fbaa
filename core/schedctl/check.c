/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/check.c - "schedctl check": would a program start?
 *
 * Opens a host exactly as an application would (config, environment
 * overrides, loader, the backend's create) and closes it again.
 */
#include "config.h"

#include <stdio.h>

#include "internal.h"
#include "schedctl.h"

static const char usage[] =
    "usage: schedctl check [FILE | -c FILE]\n"
    "\n"
    "Read the effective config (or FILE), validate it, load its backend and\n"
    "start it, as sched_host_open(3) would, in a child process.  Exits 0 and\n"
    "names the backend when that works; otherwise prints the error sentence\n"
    "(\"PATH: crashed with signal N\" for a plugin that crashes, \"PATH: did\n"
    "not return within N s\" for one that hangs, \"PATH: exited with status N\n"
    "before the probe finished\" for one that exits) and exits 1.\n"
    "SCHED_CONFIG, SCHED_BACKEND and SCHED_PLUGIN_PATH apply as usual.\n"
    "\n"
    "  FILE, -c FILE, --config FILE\n"
    "                      read FILE instead of the lookup order of sched.conf(5)\n";

/* In the child: what a program would do. */
static int check_config(void *arg)
{
    const char *config = arg;
    sched_host *host;
    sched_error *err = NULL;
    if (sched_host_open(&host, config, &err) != 0) {
        sched__ctl_error("%s", sched_error_message(err));
        sched_error_free(err);
        return SCHEDCTL_FAIL;
    }
    fprintf(SCHED__CTL_OUT, "%s: ok, backend \"%s\" (%s)\n", sched_host_config_path(host),
           sched_host_backend_name(host), sched_host_plugin_path(host));
    sched_host_close(host);
    return SCHEDCTL_OK;
}

int sched__cmd_check(int argc, char **argv)
{
    const char *config;
    int rc;
    /* "schedctl check FILE" is "schedctl check -c FILE". */
    if (argc == 2 && argv[1][0] != '-') {
        config = argv[1];
    } else {
        rc = sched__ctl_config_options(argc, argv, usage, &config);
        if (rc >= 0)
            return rc;
    }
    char plugin[4096];
    int sig;
    rc = sched__ctl_isolated(check_config, (void *)config, plugin, sizeof plugin, &sig);
    return sched__ctl_report_isolated(rc, plugin, "check", sig);
}
