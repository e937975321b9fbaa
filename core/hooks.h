/* SPDX-License-Identifier: MIT */
/*
 * core/hooks.h - what the task core learns from the layers above it.
 *
 * The task core (task.c and the futures over it) never calls up into
 * blocking or sessions.  Where it must tell them or ask them something (a
 * spawn joins the current session, a foreground runnable must kick a
 * blocked main thread, an await is checked against the current request, a
 * blocked thread's waker is woken), it calls a hook: a function pointer in
 * host->hooks that the higher layer fills in at host open, as the host
 * gives backends a services table.
 *
 * sched_host_open calls each layer's install function (sched__block_hooks,
 * sched__session_hooks) before the backend is created, so no task, timer
 * or waker exists yet and no other thread can read the table while it is
 * written.  It never changes afterwards, and outlives sched_host_close
 * (it is freed with the host's memory): readers take no lock and need no
 * atomics.
 *
 * Adding a hook (for example one that tells a test backend's host a waker
 * was woken, cloned or dropped on a foreign thread):
 *  1. Append a member below, in the group of the layer that fills it,
 *     saying who calls it, on which thread, what it may do (never call
 *     back into the code that called it with its locks held) and what a
 *     NULL hook means.
 *  2. Call it from the lower layer through one load and a NULL test,
 *     `if (host->hooks.x != NULL) host->hooks.x(...)`: no lock, no
 *     allocation, nothing more on the spawn, wake and poll paths.
 *  3. Set it in the higher layer's install function (a new layer adds its
 *     own sched__*_hooks, declared in internal.h and called from
 *     sched_host_open with the others).
 *  4. tests/test_layers.sh keeps the direction: a lower layer's file
 *     that names a function of a higher layer fails `make check`.
 */
#ifndef SCHED_HOOKS_H
#define SCHED_HOOKS_H

#include <stdint.h>

#include "sched/sched.h"

/*
 * A waker is either a task (task.c) or a tagged pointer (low bit set) to
 * an object of a higher layer, today block.c's blocker for a blocked
 * thread.  Such an object starts with this header, so the task core can
 * find the host whose hooks clone, drop and wake it.  The host's memory
 * stays while the object lives.  In debug mode the object is poisoned
 * when freed, so a waker used after its last drop reads a poisoned host.
 */
struct sched__waker_head {
    sched_host *host;
    /* Non-zero while hooks.waker_activity hears of what is done to this
     * waker, with r NULL: a call blocked on the host's main thread, of a
     * host whose test layer watches, until the call returns. */
    _Atomic int watched;
};

struct sched__hooks {
    /* Blocking (block.c).  The waker hooks are never NULL once a tagged
     * waker exists: the layer that makes them fills them in. */
    /* A foreground runnable was handed to the backend's main queue: wake
     * the main thread if it is blocked waiting for one.  Any thread.
     * NULL: nothing blocks. */
    void (*main_queued)(sched_host *host);
    /* sched_waker_wake(_by_ref), sched_waker_clone, sched_waker_drop of a
     * tagged waker (the reference-counting is the object's own).  Any
     * thread. */
    void (*waker_wake)(struct sched__waker_head *w);
    void (*waker_ref)(struct sched__waker_head *w);
    void (*waker_unref)(struct sched__waker_head *w);

    /* Sessions (session.c). */
    /* The session work spawned now belongs to (0: none), asked once per
     * spawn and per timer made.  Any thread.  NULL: always 0. */
    uint64_t (*spawn_session)(sched_host *host);
    /* Whether what is polled now may await a task or timer of
     * awaited_session: 0, or the code the await fails with.  Any thread.
     * NULL: always 0. */
    int (*await_check)(sched_host *host, uint64_t awaited_session);
    /* Whether what is polled now may use an I/O object (what: "a
     * oneshot", "a channel") of session owner (not 0): 0, or the code the
     * use fails with (copied into *err when err is not NULL).  Any thread.
     * NULL: always 0. */
    int (*io_check)(sched_host *host, uint64_t owner, const char *what, sched_error **err);
    /* Whether waking a task of session target (not 0) may go ahead, or
     * its continuation is to be dropped instead (what names the object
     * that completed, for the warning).  Non-zero: wake it.  Any thread.
     * NULL: always wake. */
    int (*wake_ok)(sched_host *host, uint64_t target, const char *what);
    /* The host's last reference is going (sched__host_unref), after
     * sched_host_close: free what the layer still keeps in it (a session
     * context made after the close).  The thread of the last holder.
     * NULL: nothing to free. */
    void (*host_free)(sched_host *host);

    /* The test layer (test_foreign.c).  Installed after the backend is
     * created, when it offers the "sched.test" foreign_activity op, and
     * still before sched_host_open returns (no task exists yet). */
    /* A waker of task r (one of this host's, unfinished) was woken
     * (SCHED__WAKER_WOKEN), cloned or dropped, or the task cancelled
     * through its handle, on the calling thread, which may be any; or r
     * is being spawned (SCHED__TASK_SPAWNED: made, not queued yet); r
     * NULL: the same done to the waker of a call blocked on the main
     * thread (a watched sched__waker_head).
     * Called before the operation itself, holding no lock of the task
     * core; it may abort (the documented misuse abort) but never calls
     * back into the waker.  The task core calls it for waker operations
     * only on tasks spawned while it was set (the SCHED__WATCHED bit), so
     * a host without it pays one bit test per waker operation; for spawns
     * only on the slow spawn path, which every spawn of a host with
     * SCHED__SPAWNS_WATCHED in sessions_made takes.  NULL: no test layer
     * watches. */
    void (*waker_activity)(sched_host *host, const sched_runnable *r, int what);
};

/* What waker_activity reports. */
enum { SCHED__WAKER_WOKEN = 1, SCHED__WAKER_CLONED = 2, SCHED__WAKER_DROPPED = 3,
       SCHED__TASK_CANCELLED = 4 /* sched_task_cancel, or sched_task_free unfinished */,
       SCHED__TASK_SPAWNED = 5 };

#endif
