/* SPDX-License-Identifier: MIT */
/* tests/plugins/forkentry.c - the entry function starts a process that
 * keeps every inherited descriptor open and outlives it, then returns a
 * valid descriptor once the process has written its pid to
 * $FORKENTRY_PIDFILE. */
#include <unistd.h>

#include "fixture.h"

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "forkentry",
    .description = "test fixture: the entry function leaves a process behind.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    int ready[2];
    if (pipe(ready) != 0)
        return &desc;
    if (fork() == 0) {
        close(ready[0]);
        const char *pidfile = getenv("FORKENTRY_PIDFILE");
        FILE *f = pidfile != NULL ? fopen(pidfile, "w") : NULL;
        if (f != NULL) {
            fprintf(f, "%ld\n", (long)getpid());
            fclose(f);
        }
        close(ready[1]);
        for (int i = 0; i < 600; i++)
            sleep(1);
        _exit(0);
    }
    close(ready[1]);
    char c;
    while (read(ready[0], &c, 1) > 0)
        ;
    close(ready[0]);
    return &desc;
}
