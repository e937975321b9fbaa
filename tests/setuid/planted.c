/* SPDX-License-Identifier: MIT */
/*
 * tests/setuid/planted.c - what an attacker plants as a plugin: its ELF
 * constructor runs the moment the file is opened, before any check of
 * what it exports, and leaves a marker file (SCHED_PLANTED_MARKER) with
 * the effective uid it ran as.  test_setuid.sh asserts no marker appears.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#ifndef SCHED_PLANTED_MARKER
#error "build with -DSCHED_PLANTED_MARKER='\"/path/to/marker\"'"
#endif

__attribute__((constructor)) static void planted(void)
{
    char line[96];
    int n = snprintf(line, sizeof line, "planted code ran with euid %ld, egid %ld\n", (long)geteuid(),
                     (long)getegid());
    int fd = open(SCHED_PLANTED_MARKER, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (n > 0)
            (void)!write(fd, line, (size_t)n);
        close(fd);
    }
}
