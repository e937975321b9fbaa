/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/suite.c - schedctl-suite: the commands of schedctl(1)
 * that need CUnit, conform (conform.c) and bench (bench.c).  schedctl
 * runs it as "schedctl-suite COMMAND ARGS..."; it is not meant to be run
 * by hand, though nothing stops that.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "schedctl.h"

int main(int argc, char **argv)
{
    if (argc >= 2) {
        sched_log_set_handler(sched__ctl_log_to_stderr, NULL);
        if (strcmp(argv[1], "conform") == 0)
            return sched__cmd_conform(argc - 1, argv + 1);
        if (strcmp(argv[1], "bench") == 0)
            return sched__cmd_bench(argc - 1, argv + 1);
    }
    sched__ctl_error("usage: schedctl-suite conform|bench ARGS (run by schedctl conform and bench)");
    return SCHEDCTL_USAGE;
}
