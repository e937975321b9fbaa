/* SPDX-License-Identifier: MIT */
/*
 * core/schedctl/keeper.h - the keeper (keeper.c), the process between a
 * parent and the child running plugin code that ends every process of
 * that child when the parent says so: schedctl's probes (probe.c) and the
 * conformance runner's tests (tests/conformance/conformance_runner.c).
 * POSIX only.
 */
#ifndef SCHED_CTL_KEEPER_H
#define SCHED_CTL_KEEPER_H

/*
 * What the keeper reports on its socket, once: how the child ended, kind
 * 'X' (exited with status value) or 'S' (killed by signal value), or 'F'
 * when it could not be started (value is the errno); kind 0 when nothing
 * was reported.
 */
struct sched__ctl_end {
    int kind;
    int value;
};

/*
 * Become the keeper, in a fresh child of the parent, ctl being its end of
 * a stream socket: start the child, which calls child_fn(data) in a
 * process group of its own, with ctl closed and the keeper's own signal
 * settings undone (child_fn must not return); close close_fd (unless -1)
 * once the child has it; report the child's end on ctl as soon as it
 * comes; and when the parent shuts down or closes its end of ctl, kill
 * and reap every process of the child and _exit.  Never returns.
 */
void sched__ctl_keeper(int ctl, int close_fd, void (*child_fn)(void *data), void *data);

/* In the parent: read the keeper's report from ctl.  0, or -1 when the
 * socket ended first (end->kind is then 0). */
int sched__ctl_keeper_read(int ctl, struct sched__ctl_end *end);

#endif
