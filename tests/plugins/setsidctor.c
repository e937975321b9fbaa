/* SPDX-License-Identifier: MIT */
/* tests/plugins/setsidctor.c - a constructor that leaves a daemon behind,
 * detached as daemons detach: it forks, the child calls setsid() (a
 * session and process group of its own, which no kill of the probe's
 * group reaches), forks again and exits, leaving the grandchild an
 * orphan.  The grandchild closes its descriptors, writes its pid to
 * $SETSIDCTOR_PIDFILE and lives on while that file exists: it sleeps, or
 * with SETSIDCTOR_MODE=hop it moves to a fresh process (fork, setsid,
 * the old one exits) every few milliseconds, so that no pid lasts.  The
 * constructor returns once the file is written; with SETSIDCTOR_MODE=hang
 * it then sleeps for good, so that the probe times out.  Without
 * $SETSIDCTOR_PIDFILE it is a valid backend and starts nothing. */
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

static const sched_plugin_descriptor desc = {
    .abi_major = SCHED_PLUGIN_ABI_MAJOR,
    .abi_minor = SCHED_PLUGIN_ABI_MINOR,
    .size = sizeof(sched_plugin_descriptor),
    .name = "setsidctor",
    .description = "test fixture: the constructor leaves a detached process behind.",
    .version = "0",
    .ops = FIXTURE_OPS,
};

/* The daemon: alive while the pid file is, for at most about ten minutes. */
static void daemon_main(const char *pidfile, int ready, int hop)
{
    for (int fd = 3; fd < 1024; fd++)
        if (fd != ready)
            close(fd);
    FILE *f = fopen(pidfile, "w");
    if (f != NULL) {
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
    close(ready);
    struct timespec pause = { 0, 5000000 };
    for (int i = 0; i < 120000 && access(pidfile, F_OK) == 0; i++) {
        if (!hop) {
            sleep(1);
            continue;
        }
        nanosleep(&pause, NULL);
        pid_t next = fork();
        if (next > 0)
            _exit(0);
        if (next == 0)
            setsid();
    }
    _exit(0);
}

__attribute__((constructor)) static void detach(void)
{
    const char *pidfile = getenv("SETSIDCTOR_PIDFILE");
    const char *mode = getenv("SETSIDCTOR_MODE");
    if (pidfile == NULL)
        return;
    int ready[2];
    if (pipe(ready) != 0)
        return;
    pid_t first = fork();
    if (first == 0) {
        close(ready[0]);
        setsid();
        if (fork() == 0)
            daemon_main(pidfile, ready[1], mode != NULL && strcmp(mode, "hop") == 0);
        _exit(0);
    }
    close(ready[1]);
    char c;
    while (read(ready[0], &c, 1) > 0)
        ;
    close(ready[0]);
    if (first > 0)
        waitpid(first, NULL, 0);
    while (mode != NULL && strcmp(mode, "hang") == 0)
        sleep(1);
}

SCHED_PLUGIN_EXPORT const sched_plugin_descriptor *SCHED_PLUGIN_ENTRY(const sched_host_services *svc)
{
    (void)svc;
    return &desc;
}
