/* SPDX-License-Identifier: MIT */
/* tests/plugins/loopentry.c - the entry function never returns (it spins).
 * With $LOOPENTRY_PIDFILE set it first starts a second process that spins
 * too, then writes its own pid and that process's, one a line, to the
 * file, so that a test can see what is left of the probe. */
#include <stdio.h>
#include <stdlib.h>
#if !defined(_WIN32)
#include <unistd.h>
#endif

#include "fixture.h"

static volatile int forever = 1;

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "loopentry",
    .description = "test fixture: the entry function loops forever.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
#if !defined(_WIN32)
    const char *pidfile = getenv("LOOPENTRY_PIDFILE");
    if (pidfile != NULL) {
        pid_t other = fork();
        if (other == 0) {
            while (forever)
                sleep(1);
            _exit(0);
        }
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
        FILE *f = fopen(tmp, "w");
        if (f != NULL) {
            fprintf(f, "%ld\n%ld\n", (long)getpid(), (long)other);
            if (fclose(f) == 0)
                rename(tmp, pidfile);
        }
    }
#endif
    while (forever)
        ;
    return &desc;
}
